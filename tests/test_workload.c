/*
 * test_workload.c - the pure workload core: edges, binning with exact sums,
 * rectangles and their overlap check, independent marginals, the
 * percentile sketch's accuracy, arrival peaks and the block set. Every
 * expected value is worked out in the comment beside it.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "planner/workload.h"

START_TEST(edges_log2)
{
	struct wl_edges e;
	const char *why = NULL;
	ck_assert_int_eq(wl_edges_parse("log2", &e, &why), 0);
	/* 0, 2^0 .. 2^23 (8388608 <= 10^7 < 2^24), 10000001: 1 + 24 + 1 edges. */
	ck_assert_int_eq(e.n, 26);
	ck_assert_int_eq(e.edge[0], 0);
	ck_assert_int_eq(e.edge[1], 1);
	ck_assert_int_eq(e.edge[11], 1024);
	ck_assert_int_eq(e.edge[24], 8388608);
	ck_assert_int_eq(e.edge[25], WL_TOKENS_END);
	ck_assert_int_eq(wl_edges_parse(NULL, &e, &why), 0);
	ck_assert_int_eq(e.n, 26);
}
END_TEST

START_TEST(edges_list)
{
	struct wl_edges e;
	const char *why = NULL;
	ck_assert_int_eq(wl_edges_parse("128,1024,8192", &e, &why), 0);
	ck_assert_int_eq(e.n, 5);	/* 0,128,1024,8192,END */
	ck_assert_int_eq(e.edge[1], 128);
	ck_assert_int_eq(e.edge[3], 8192);
	ck_assert_int_eq(e.edge[4], WL_TOKENS_END);
	ck_assert_int_eq(wl_edges_parse("0,10", &e, &why), 0);	/* leading 0 allowed */
	ck_assert_int_eq(e.n, 3);

	ck_assert_int_eq(wl_edges_parse("100,10", &e, &why), -1);
	ck_assert_str_eq(why, "expected strictly increasing edges");
	ck_assert_int_eq(wl_edges_parse("10,10", &e, &why), -1);
	ck_assert_int_eq(wl_edges_parse("10,,20", &e, &why), -1);
	ck_assert_int_eq(wl_edges_parse("10,x", &e, &why), -1);
	ck_assert_int_eq(wl_edges_parse("-5", &e, &why), -1);
	ck_assert_int_eq(wl_edges_parse("10,", &e, &why), -1);
	ck_assert_int_eq(wl_edges_parse("20000000", &e, &why), -1);
	ck_assert_str_eq(why, "expected edges at most 10000000 tokens");
	ck_assert_int_eq(wl_edges_parse("0,0", &e, &why), -1);
}
END_TEST

START_TEST(formats)
{
	enum wl_format f;
	ck_assert_int_eq(wl_format_parse("prometheus", &f), 0);
	ck_assert_int_eq(f, WL_FMT_PROMETHEUS);
	ck_assert_str_eq(wl_format_name(WL_FMT_MOONCAKE), "mooncake");
	ck_assert_int_eq(wl_format_parse("csv", &f), -1);
}
END_TEST

START_TEST(binned_exact_sums)
{
	struct wl_edges e;
	wl_edges_parse("100,1000", &e, NULL);	/* bins [0,100) [100,1000) [1000,END) */
	struct wl_hist *h = wl_hist_new(&e);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(wl_hist_add_request(h, 50, 5), 0);
	ck_assert_int_eq(wl_hist_add_request(h, 99, 0), 0);
	ck_assert_int_eq(wl_hist_add_request(h, 100, 1500), 0);
	ck_assert_int_eq(wl_hist_add_request(h, WL_TOKENS_MAX, 100), 0);
	ck_assert_int_eq(wl_hist_add_request(h, WL_TOKENS_MAX + 1, 1), WL_ERANGE);
	ck_assert_int_eq(wl_hist_add_request(h, -1, 1), WL_ERANGE);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 1, 0, 1, 1, 0), WL_EUSAGE);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);

	/*
	 * (50,5) and (99,0) share [0,100)x[0,100): 2 requests, 149 and 5 tokens.
	 * (100,1500) -> [100,1000)x[1000,END); (10^7,100) -> [1000,END)x[100,1000).
	 * Sorted by prompt_lo, then output_lo.
	 */
	ck_assert_uint_eq(wl_hist_buckets(h), 3);
	const struct wl_bucket *b = wl_hist_bucket(h, 0);
	ck_assert_int_eq(b->prompt_lo, 0);
	ck_assert_int_eq(b->prompt_hi, 100);
	ck_assert_int_eq(b->output_lo, 0);
	ck_assert_int_eq(b->output_hi, 100);
	ck_assert_int_eq(b->requests, 2);
	ck_assert_int_eq(b->prompt_tokens_sum, 149);
	ck_assert_int_eq(b->output_tokens_sum, 5);
	b = wl_hist_bucket(h, 1);
	ck_assert_int_eq(b->prompt_lo, 100);
	ck_assert_int_eq(b->output_lo, 1000);
	ck_assert_int_eq(b->output_hi, WL_TOKENS_END);
	ck_assert_int_eq(b->output_tokens_sum, 1500);
	b = wl_hist_bucket(h, 2);
	ck_assert_int_eq(b->prompt_lo, 1000);
	ck_assert_int_eq(b->prompt_tokens_sum, WL_TOKENS_MAX);
	ck_assert_ptr_null(wl_hist_bucket(h, 3));

	ck_assert_int_eq(wl_hist_requests(h), 4);
	ck_assert_int_eq(wl_hist_prompt_tokens_sum(h), 50 + 99 + 100 + WL_TOKENS_MAX);
	ck_assert_int_eq(wl_hist_output_tokens_sum(h), 5 + 0 + 1500 + 100);
	ck_assert_int_eq(wl_hist_sums_estimated(h), 0);

	/* Prompt sorted 50,99,100,10^7: nearest rank ceil(0.5*4)=2 -> 99; p90 rank 4. */
	struct wl_percentiles p;
	wl_hist_percentiles(h, WL_AXIS_PROMPT, &p);
	ck_assert_double_eq(p.p50, 99);
	/* 10^7 sits in a 2^13-wide cell (octave 2^23): within 1/1024. */
	ck_assert_double_le(fabs(p.p90 - 1e7), 1e7 / 1024);
	/* Output sorted 0,5,100,1500: p50 -> 5. Total 55,99,1600,10000100: p50 -> 99. */
	wl_hist_percentiles(h, WL_AXIS_OUTPUT, &p);
	ck_assert_double_eq(p.p50, 5);
	ck_assert_double_eq(p.p90, 1500);
	wl_hist_percentiles(h, WL_AXIS_TOTAL, &p);
	ck_assert_double_eq(p.p50, 99);
	/* The longest, exactly: prompt 10^7, output 1,500, one request's total 10^7 + 100. */
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_PROMPT), WL_TOKENS_MAX);
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_OUTPUT), 1500);
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_TOTAL), WL_TOKENS_MAX + 100);
	wl_hist_free(h);
}
END_TEST

START_TEST(sketch_accuracy)
{
	/*
	 * 1..1,000,000 once each: the nearest-rank p50 is 500000, p90 900000,
	 * p99 990000, p99.9 999000. The sketch promises 1/1024 relative error.
	 */
	struct wl_edges e;
	wl_edges_parse("log2", &e, NULL);
	struct wl_hist *h = wl_hist_new(&e);
	for (int64_t v = 1; v <= 1000000; v++)
		ck_assert_int_eq(wl_hist_add_request(h, v, v % 2048), 0);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);
	struct wl_percentiles p;
	wl_hist_percentiles(h, WL_AXIS_PROMPT, &p);
	ck_assert_double_le(fabs(p.p50 - 500000) / 500000, 1.0 / 1024);
	ck_assert_double_le(fabs(p.p90 - 900000) / 900000, 1.0 / 1024);
	ck_assert_double_le(fabs(p.p99 - 990000) / 990000, 1.0 / 1024);
	ck_assert_double_le(fabs(p.p999 - 999000) / 999000, 1.0 / 1024);
	/*
	 * Output v % 2048 is below 2048, so exact: 1,000,000 = 488 x 2048 +
	 * 576, so values 1..576 occur 489 times, 0 and 577..2047 488 times.
	 * Rank 500000: 489 x 576 = 281664 (1..576) + 488 (the zeros) = 282152
	 * up to 576; then 488 per value: (500000 - 282152) / 488 = 446.4 ->
	 * 447 more values: 576 + 447 = 1023.
	 */
	wl_hist_percentiles(h, WL_AXIS_OUTPUT, &p);
	ck_assert_double_eq(p.p50, 1023);
	wl_hist_free(h);
}
END_TEST

START_TEST(rectangles_and_overlap)
{
	struct wl_hist *h = wl_hist_new(NULL);
	ck_assert_int_eq(wl_hist_add_request(h, 1, 1), WL_EUSAGE);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 0, 10, 4, 2), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 0, 10, 6, 5), 0);	/* same: adds */
	ck_assert_int_eq(wl_hist_add_bucket(h, 100, WL_TOKENS_END, 10, 20, 2, 3), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 5, 5, 0, 10, 1, 4), WL_ERANGE);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, WL_TOKENS_END + 1, 0, 10, 1, 4), WL_ERANGE);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);
	ck_assert_uint_eq(wl_hist_buckets(h), 2);
	const struct wl_bucket *b = wl_hist_bucket(h, 0);
	/* 10 requests x midpoint (0+99)/2 = 49 -> 490; output (0+9)/2 = 4 -> 40. */
	ck_assert_int_eq(b->requests, 10);
	ck_assert_int_eq(b->prompt_tokens_sum, 490);
	ck_assert_int_eq(b->output_tokens_sum, 40);
	ck_assert_int_eq(b->line, 2);
	/* Open top: 2 x lo 100 = 200; output (10+19)/2 = 14 -> 28. */
	b = wl_hist_bucket(h, 1);
	ck_assert_int_eq(b->prompt_tokens_sum, 200);
	ck_assert_int_eq(b->output_tokens_sum, 28);
	ck_assert_int_eq(wl_hist_sums_estimated(h), 1);
	/* The longest a bucket allows: prompt 100 (an open top counts at its lo), output 19. */
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_PROMPT), 100);
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_OUTPUT), 19);
	ck_assert_int_eq(wl_hist_max(h, WL_AXIS_TOTAL), 119);
	/*
	 * Prompt: 10 requests spread over 0..99 (0.1 each), 2 at 100.
	 * p50: rank 6 -> cumulative 0.1 x (v+1) >= 6 -> v = 59.
	 * p90: rank 10.8 -> past the 10 of [0,100) -> 100.
	 */
	struct wl_percentiles p;
	wl_hist_percentiles(h, WL_AXIS_PROMPT, &p);
	ck_assert_double_eq(p.p50, 59);
	ck_assert_double_eq(p.p90, 100);
	wl_hist_free(h);

	h = wl_hist_new(NULL);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 0, 10, 1, 7), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 200, 300, 0, 10, 1, 8), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 50, 150, 5, 6, 1, 9), 0); /* overlaps line 7 */
	int64_t la = 0, lb = 0;
	ck_assert_int_eq(wl_hist_finish(h, &la, &lb), WL_EOVERLAP);
	ck_assert_int_eq(la, 7);
	ck_assert_int_eq(lb, 9);
	wl_hist_free(h);

	/* Touching half-open rectangles do not overlap. */
	h = wl_hist_new(NULL);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 0, 10, 1, 1), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 100, 200, 0, 10, 1, 2), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 10, 20, 1, 3), 0);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);
	wl_hist_free(h);
}
END_TEST

START_TEST(independent_marginals)
{
	/*
	 * Prompt 10/7/5, output 12/6/4, total 22: cell = p x o / 22.
	 *   p0: 120/22 = 5+10/22, 60/22 = 2+16/22, 40/22 = 1+18/22
	 *   p1:  84/22 = 3+18/22, 42/22 = 1+20/22, 28/22 = 1+ 6/22
	 *   p2:  60/22 = 2+16/22, 30/22 = 1+ 8/22, 20/22 = 0+20/22
	 * Floors sum to 16; the 6 largest remainders (20,20,18,18,16,16)
	 * each get one more: 5,3,2 / 4,2,1 / 3,1,1 (sum 22, marginals kept).
	 */
	struct wl_marginal_bin p[] = {
		{ 0, 101, 10 }, { 101, 1001, 7 }, { 1001, WL_TOKENS_END, 5 }
	};
	struct wl_marginal_bin o[] = { { 0, 11, 12 }, { 11, 101, 6 }, { 101, WL_TOKENS_END, 4 } };
	static const int64_t want[9] = { 5, 3, 2, 4, 2, 1, 3, 1, 1 };
	struct wl_hist *h = wl_hist_new(NULL);
	ck_assert_int_eq(wl_hist_add_independent(h, p, 3, o, 3, 22), 0);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);
	ck_assert_uint_eq(wl_hist_buckets(h), 9);
	for (size_t i = 0; i < 9; i++) {
		const struct wl_bucket *b = wl_hist_bucket(h, i);
		ck_assert_int_eq(b->prompt_lo, p[i / 3].lo);
		ck_assert_int_eq(b->output_lo, o[i % 3].lo);
		ck_assert_int_eq(b->requests, want[i]);
	}
	ck_assert_int_eq(wl_hist_requests(h), 22);
	/* 10 x 50 + 7 x 550 + 5 x 1001 (open top: lo) = 9355. */
	ck_assert_int_eq(wl_hist_prompt_tokens_sum(h), 9355);
	/* 12 x 5 + 6 x 55 + 4 x 101 = 794. */
	ck_assert_int_eq(wl_hist_output_tokens_sum(h), 794);
	/* Prompt p50: rank 11 = 10 in [0,101) + 1 at 7/900 a token -> 100 + 128.6 -> 229. */
	struct wl_percentiles pc;
	wl_hist_percentiles(h, WL_AXIS_PROMPT, &pc);
	ck_assert_double_eq(pc.p50, 229);
	wl_hist_free(h);

	h = wl_hist_new(NULL);
	struct wl_marginal_bin zero[] = { { 0, 10, 0 } };
	ck_assert_int_eq(wl_hist_add_independent(h, zero, 1, o, 3, 5), WL_ERANGE);
	wl_hist_free(h);
}
END_TEST

START_TEST(arrivals_peak)
{
	/*
	 * Window 60 s, slots of 15 s. Arrivals at 10, 50, 70, 74, 80 s and 200 s.
	 * Tumbling [0,60) / [60,120) would see 2 and 3; the sliding window
	 * [45,105) (slots 3..6) holds 50,70,74,80 = 4 -> 4/60 rps.
	 */
	struct wl_arrivals *a = wl_arrivals_new(60000000000LL);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(wl_arrivals_any(a), 0);
	ck_assert(isnan(wl_arrivals_peak_rps(a)));
	int64_t t[] = { 80, 10, 50, 70, 74, 200 };	/* any order */
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(wl_arrivals_add(a, t[i] * 1000000000LL), 0);
	ck_assert_double_eq_tol(wl_arrivals_peak_rps(a), 4.0 / 60, 1e-12);
	ck_assert_int_eq(wl_arrivals_first_ns(a), 10000000000LL);
	ck_assert_int_eq(wl_arrivals_last_ns(a), 200000000000LL);
	ck_assert_int_eq(wl_arrivals_add_window(a, 0, 1, 1), WL_EUSAGE);
	wl_arrivals_free(a);

	/* Negative times floor correctly: -1 s is slot -1, not 0 (peak 2 within [-15,45)). */
	a = wl_arrivals_new(60000000000LL);
	wl_arrivals_add(a, -1000000000LL);
	wl_arrivals_add(a, 44000000000LL);
	wl_arrivals_add(a, 46000000000LL);
	ck_assert_double_eq_tol(wl_arrivals_peak_rps(a), 2.0 / 60, 1e-12);
	wl_arrivals_free(a);

	/* Windows: two models share [0,60) (5 + 7 = 12 -> 0.2 rps); [60,180) has 18 -> 0.15. */
	a = wl_arrivals_new(60000000000LL);
	ck_assert_int_eq(wl_arrivals_add_window(a, 0, 60000000000LL, 5), 0);
	ck_assert_int_eq(wl_arrivals_add_window(a, 0, 60000000000LL, 7), 0);
	ck_assert_int_eq(wl_arrivals_add_window(a, 60000000000LL, 180000000000LL, 18), 0);
	ck_assert_int_eq(wl_arrivals_add_window(a, 5, 5, 1), WL_ERANGE);
	ck_assert_double_eq_tol(wl_arrivals_peak_rps(a), 0.2, 1e-12);
	ck_assert_int_eq(wl_arrivals_last_ns(a), 180000000000LL);
	wl_arrivals_free(a);

	ck_assert_ptr_null(wl_arrivals_new(0));
}
END_TEST

START_TEST(arrivals_rates)
{
	/*
	 * Window 60 s, slots of 15 s. Arrivals at 0, 1, 2 s (slot 0), 20 s (slot
	 * 1), 100 s (slot 6) and 200 s (slot 13). Whole windows start at slots
	 * 0..10 (4 slots each, the last ending at slot 13): counts 4, 1, 0, 1,
	 * 1, 1, 1, 0, 0, 0, 1 -- sorted 0 0 0 0 1 1 1 1 1 1 4, 11 windows.
	 * Nearest rank: p50 the 6th (1), p90 the 10th (1), p99 and p99.9 the
	 * 11th (4); the peak 4. Divided by 60 s.
	 */
	struct wl_arrivals *a = wl_arrivals_new(60000000000LL);
	struct wl_rates r;
	int64_t t[] = { 200, 0, 1, 20, 2, 100 };	/* any order */
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(wl_arrivals_add(a, t[i] * 1000000000LL), 0);
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert_double_eq_tol(r.windows, 11, 1e-12);
	ck_assert_double_eq_tol(r.p50, 1.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.p90, 1.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.p99, 4.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.p999, 4.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.peak, 4.0 / 60, 1e-12);
	ck_assert_int_eq(r.late, 0);
	/* Reading changes nothing: more arrivals count as if it had not been read. */
	ck_assert_int_eq(wl_arrivals_add(a, 201000000000LL), 0);	/* slot 13 again */
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert_double_eq_tol(r.windows, 11, 1e-12);
	ck_assert_double_eq_tol(r.p99, 4.0 / 60, 1e-12);
	wl_arrivals_free(a);

	/* Shorter than a window: no whole window, so no percentiles; every arrival in the peak. */
	a = wl_arrivals_new(60000000000LL);
	wl_arrivals_add(a, 0);
	wl_arrivals_add(a, 30000000000LL);
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert(isnan(r.p99));
	ck_assert_double_eq_tol(r.peak, 2.0 / 60, 1e-12);
	wl_arrivals_free(a);

	/*
	 * Windows (prometheus): [0,60) with 12 (0.2/s) and [60,180) with 18
	 * (0.15/s), weighted by length: 120 s of 0.15 and 60 s of 0.2. p50:
	 * 90 s of 180 reached within the 0.15 window; p90 (162 s) needs 0.2.
	 */
	a = wl_arrivals_new(60000000000LL);
	wl_arrivals_add_window(a, 0, 60000000000LL, 12);
	wl_arrivals_add_window(a, 60000000000LL, 180000000000LL, 18);
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert_double_eq_tol(r.p50, 0.15, 1e-12);
	ck_assert_double_eq_tol(r.p90, 0.2, 1e-12);
	ck_assert_double_eq_tol(r.peak, 0.2, 1e-12);
	ck_assert_double_eq_tol(r.windows, 2, 1e-12);
	wl_arrivals_free(a);
}
END_TEST

START_TEST(arrivals_sparse_and_long)
{
	/*
	 * 200,000 arrivals one every 15 s (a sparse 35-day trace): every slot
	 * holds one, every window four. That is six times WL_SLOT_CAP occupied
	 * slots, so the table folds its oldest slots into the window histogram
	 * as it goes; the windows (200,000 - 3 of them) and their rates come
	 * out as if it had kept them all: 4 / 60 at every percentile. Neighbours
	 * swapped (out of order by one slot) change nothing.
	 */
	struct wl_arrivals *a = wl_arrivals_new(60000000000LL);
	struct wl_rates r;
	const int n = 200000;
	ck_assert_int_gt(n, 6 * WL_SLOT_CAP);
	for (int i = 0; i < n; i += 2) {
		ck_assert_int_eq(wl_arrivals_add(a, (int64_t)(i + 1) * 15000000000LL), 0);
		ck_assert_int_eq(wl_arrivals_add(a, (int64_t)i * 15000000000LL), 0);
	}
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert_double_eq_tol(r.windows, n - 3, 1e-9);
	ck_assert_double_eq_tol(r.p50, 4.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.p999, 4.0 / 60, 1e-12);
	ck_assert_double_eq_tol(r.peak, 4.0 / 60, 1e-12);
	ck_assert_int_eq(r.late, 0);
	/*
	 * An arrival from the first day, after 35 days have gone by: its slot
	 * was folded long ago. It counts in the span, not in any window.
	 */
	ck_assert_int_eq(wl_arrivals_add(a, 7 * 15000000000LL + 1), 0);
	ck_assert_int_eq(wl_arrivals_rates(a, &r), 0);
	ck_assert_int_eq(r.late, 1);
	ck_assert_double_eq_tol(r.peak, 4.0 / 60, 1e-12);
	ck_assert_int_eq(wl_arrivals_first_ns(a), 0);
	wl_arrivals_free(a);
}
END_TEST

START_TEST(blockset)
{
	/* ids 0,1,0,2,1,1,70000: 7 blocks, 3 repeats (0, 1, 1). */
	struct wl_blockset s = WL_BLOCKSET_INIT;
	int64_t ids[] = { 0, 1, 0, 2, 1, 1, 70000 };
	for (size_t i = 0; i < 7; i++)
		ck_assert_int_eq(wl_blockset_add(&s, ids[i]), 0);
	ck_assert_int_eq(s.blocks, 7);
	ck_assert_int_eq(s.repeated, 3);
	ck_assert_int_eq(wl_blockset_add(&s, -1), WL_ERANGE);
	ck_assert_int_eq(wl_blockset_add(&s, WL_MAX_BLOCK_ID), WL_ERANGE);
	wl_blockset_release(&s);
	ck_assert_ptr_null(s.bits);

	/*
	 * D12: one id of 2^30 - 1 sized a 128 MiB bitset. A large id goes to the
	 * sparse set: no bitset word for it, a table of a few slots.
	 */
	ck_assert_int_eq(wl_blockset_add(&s, WL_MAX_BLOCK_ID - 1), 0);
	ck_assert_int_eq(wl_blockset_add(&s, WL_MAX_BLOCK_ID - 1), 0);
	ck_assert_int_eq(wl_blockset_add(&s, 5), 0);
	ck_assert_int_eq(s.blocks, 3);
	ck_assert_int_eq(s.repeated, 1);
	ck_assert_uint_le(s.words, 1024);		/* the first bitset allocation: 8 KiB */
	ck_assert_uint_le(s.sparse_size, 1024);
	wl_blockset_release(&s);

	/* Past WL_MAX_SPARSE_BLOCKS distinct large ids the set is full: repeats unknown. */
	for (size_t i = 0; i <= WL_MAX_SPARSE_BLOCKS; i++)
		ck_assert_int_eq(wl_blockset_add(&s, WL_BLOCK_DENSE_IDS + (int64_t)i), 0);
	ck_assert_int_eq(s.overflow, 1);
	ck_assert_int_eq(s.blocks, (int64_t)WL_MAX_SPARSE_BLOCKS + 1);
	ck_assert_uint_le(s.sparse_size, 2 * WL_MAX_SPARSE_BLOCKS);
	wl_blockset_release(&s);
}
END_TEST

/*
 * D22: the overlap check is a sweep now (it compared every pair: 65,536
 * buckets sharing one prompt range took seconds). Against the pairwise
 * definition -- two distinct rectangles overlap when both their half-open
 * ranges do -- on random small grids, where overlaps are common, and the
 * two lines it names must be an overlapping pair.
 */
START_TEST(overlap_sweep_matches_pairs)
{
	uint64_t seed = 12345;
	for (int trial = 0; trial < 3000; trial++) {
		struct wl_hist *h = wl_hist_new(NULL);
		int64_t r[12][4];
		int n = 1 + trial % 12;
		for (int i = 0; i < n; i++) {
			for (int k = 0; k < 4; k += 2) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				int64_t a = (int64_t)((seed >> 33) % 12), b = (int64_t)((seed >> 45) % 12);
				r[i][k] = a < b ? a : b;
				r[i][k + 1] = (a < b ? b : a) + 1;
			}
			ck_assert_int_eq(wl_hist_add_bucket(h, r[i][0], r[i][1], r[i][2], r[i][3], 1,
							    i + 1), 0);
		}
		int want = 0;
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++) {
				int same = !memcmp(r[i], r[j], sizeof(r[i]));
				if (!same && r[i][0] < r[j][1] && r[j][0] < r[i][1] &&
				    r[i][2] < r[j][3] && r[j][2] < r[i][3])
					want = 1;
			}
		int64_t la = 0, lb = 0;
		int rc = wl_hist_finish(h, &la, &lb);
		ck_assert_msg((rc == WL_EOVERLAP) == want, "trial %d: rc %d, overlap %d", trial, rc,
			      want);
		if (rc == WL_EOVERLAP) {
			const int64_t *x = r[la - 1], *y = r[lb - 1];
			ck_assert(la < lb);
			ck_assert(x[0] < y[1] && y[0] < x[1] && x[2] < y[3] && y[2] < x[3]);
		}
		wl_hist_free(h);
	}
}
END_TEST

/*
 * Exact token totals for a rectangles histogram (Prometheus _sum rows):
 * [0,100) x 6 requests and [100,inf) x 4; estimates 6 x 49 = 294 and
 * 4 x 100 = 400. A total of 1000: the finite bucket goes to its top,
 * 6 x 99 = 594, the open one takes the other 406. A total of 500 is
 * inside the finite bucket's room (294..594): each moves a share of its room.
 */
START_TEST(set_sums)
{
	struct wl_hist *h = wl_hist_new(NULL);
	ck_assert_int_eq(wl_hist_add_bucket(h, 0, 100, 0, 10, 6, 1), 0);
	ck_assert_int_eq(wl_hist_add_bucket(h, 100, WL_TOKENS_END, 10, 20, 4, 2), 0);
	ck_assert_int_eq(wl_hist_finish(h, NULL, NULL), 0);
	ck_assert_int_eq(wl_hist_prompt_tokens_sum(h), 694);
	ck_assert_int_eq(wl_hist_set_sums(h, 1000, -1), 0);
	ck_assert_int_eq(wl_hist_prompt_tokens_sum(h), 1000);
	ck_assert_int_eq(wl_hist_bucket(h, 0)->prompt_tokens_sum, 594);
	ck_assert_int_eq(wl_hist_bucket(h, 1)->prompt_tokens_sum, 406);
	ck_assert_int_eq(wl_hist_set_sums(h, 500, -1), 0);
	ck_assert_int_eq(wl_hist_prompt_tokens_sum(h), 500);
	ck_assert_int_ge(wl_hist_bucket(h, 0)->prompt_tokens_sum, 0);
	ck_assert_int_ge(wl_hist_bucket(h, 1)->prompt_tokens_sum, 400);	/* 4 x lo */
	/* Below 6 x 0 + 4 x 100 = 400 no placement fits. */
	ck_assert_int_eq(wl_hist_set_sums(h, 399, -1), WL_ERANGE);
	/* Output: [0,10) x 6 and [10,20) x 4 hold 0..6x9+4x19 = 130 at most. */
	ck_assert_int_eq(wl_hist_set_sums(h, -1, 131), WL_ERANGE);
	ck_assert_int_eq(wl_hist_set_sums(h, -1, 130), 0);
	ck_assert_int_eq(wl_hist_output_tokens_sum(h), 130);
	wl_hist_free(h);
}
END_TEST

START_TEST(summary_fill)
{
	/* 3 requests over 0..120 s: mean 3/120 = 0.025 rps; sums 10+20+30, 1+2+3. */
	struct wl_edges e;
	wl_edges_parse("log2", &e, NULL);
	struct wl_hist *h = wl_hist_new(&e);
	struct wl_arrivals *a = wl_arrivals_new(60000000000LL);
	int64_t t[] = { 0, 60, 120 };
	for (int i = 0; i < 3; i++) {
		wl_hist_add_request(h, 10 * (i + 1), i + 1);
		wl_arrivals_add(a, t[i] * 1000000000LL);
	}
	wl_hist_finish(h, NULL, NULL);
	struct workload_summary s;
	wl_summary_init(&s);
	ck_assert(isnan(s.prefix_reuse_share));
	wl_summary_fill(&s, h, a);
	ck_assert_int_eq(s.requests, 3);
	ck_assert_double_eq(s.span_s, 120);
	ck_assert_double_eq_tol(s.mean_rps, 0.025, 1e-12);
	ck_assert_double_eq(s.window_s, 60);
	/* Any 60 s window holds one arrival: 1/60, below the mean, so the peak is the mean (D20). */
	ck_assert_double_eq_tol(s.peak_rps, 0.025, 1e-12);
	ck_assert_double_eq(s.prompt_tokens_mean, 20);
	ck_assert_double_eq(s.output_tokens_mean, 2);
	ck_assert_int_eq(s.sums_estimated, 0);
	wl_arrivals_free(a);

	/*
	 * 3 arrivals at 0, 10, 20 s: span 20 s < the 60 s window. Mean 3 / 20
	 * = 0.15; the window holds all 3 -> 3 / 60 = 0.05 < mean, so the peak
	 * is the mean, 0.15.
	 */
	a = wl_arrivals_new(60000000000LL);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(wl_arrivals_add(a, (int64_t)i * 10000000000LL), 0);
	wl_summary_fill(&s, h, a);
	ck_assert_double_eq(s.span_s, 20);
	ck_assert_double_eq_tol(s.mean_rps, 0.15, 1e-12);
	ck_assert_double_eq_tol(s.peak_rps, 0.15, 1e-12);
	wl_arrivals_free(a);
	wl_hist_free(h);
}
END_TEST

static Suite *workload_suite(void)
{
	Suite *s = suite_create("workload");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, edges_log2);
	tcase_add_test(tc, edges_list);
	tcase_add_test(tc, formats);
	tcase_add_test(tc, binned_exact_sums);
	tcase_add_test(tc, sketch_accuracy);
	tcase_add_test(tc, rectangles_and_overlap);
	tcase_add_test(tc, independent_marginals);
	tcase_add_test(tc, arrivals_peak);
	tcase_add_test(tc, arrivals_rates);
	tcase_add_test(tc, arrivals_sparse_and_long);
	tcase_add_test(tc, blockset);
	tcase_add_test(tc, set_sums);
	tcase_add_test(tc, overlap_sweep_matches_pairs);
	tcase_add_test(tc, summary_fill);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workload_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
