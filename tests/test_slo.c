/*
 * test_slo.c - the percentile arithmetic of planner/slo.c, worked by hand:
 * the M/G/1 (and M/M/1, M/M/c) waiting-time tails, the TTFT percentile
 * over a pool's prompts, the TPOT percentile from the step-time
 * distribution under chunked prefill, the SLO batch and the sustainable
 * rate.
 *
 * The instance below is made to be worked on paper: one GPU, no experts,
 * no KV or attention cost, no overheads, so one engine step of T tokens
 * (decode and prefill together) takes max(10 ms, T x 10 us): 10 ms of
 * weight reads (1e10 bytes at 1e12 B/s), or 1e10 FLOP per token at 1e15
 * FLOP/s, whichever is longer (planner/instance.c's roofline with one
 * kernel kind). max_num_batched_tokens 8,192.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/slo.h"

static void paper_instance(struct instance *in, int max_num_seqs)
{
	memset(in, 0, sizeof(*in));
	in->layout = (struct layout){ 1, 1, 1, 0, PREC_BF16, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	in->fits = 1;
	in->gpus = 1;
	in->max_num_seqs = max_num_seqs;
	in->max_num_batched_tokens = 8192;
	in->perf.dense_bytes = 1e10;
	in->perf.hbm_bw = 1e12;
	in->perf.dense_flops_per_token = 1e10;
	in->perf.peak_dense_flops = 1e15;
	in->perf.peak_routed_flops = 1e15;
	in->perf.peak_attn_flops = 1e15;
	/* Every kernel at its peak; no per-layer, per-sequence or per-request terms. */
	in->perf.p.bw_efficiency = 1;
	in->perf.p.flops_efficiency = 1;
	in->perf.p.attn_efficiency = 1;
	in->perf.p.kv_bw_efficiency = 1;
	in->perf.p.moe_bw_efficiency = 1;
	in->perf.link = 1e11;
	in->perf.layers = 1;
	in->perf.hidden = 1;
}

/* One prompt length and one output length. */
static void one_point(struct slo_traffic *t, double isl, double osl)
{
	memset(t, 0, sizeof(*t));
	slo_traffic_add(t, 0, isl, isl * isl, 1, 0);
	slo_traffic_add(t, 1, osl, osl * osl, 1, 0);
	slo_traffic_finish(t);
}

START_TEST(mg1_waiting_time)
{
	/*
	 * M/M/1 as an M/G/1: lambda 2/s, exponential service of mean 0.25 s,
	 * E[S^2] = 2 x 0.25^2 = 0.125. Pollaczek-Khinchine: rho = 0.5,
	 * W = 2 x 0.125 / (2 x 0.5) = 0.25 s -- M/M/1's rho / (mu - lambda)
	 * = 0.5 / (4 - 2) = 0.25 s.
	 */
	ck_assert_double_eq_tol(mg1_mean_wait(2, 0.25, 0.125), 0.25, 1e-12);
	/* M/D/1: lambda 0.5/s, S = 1 s: rho / (2 mu (1 - rho)) = 0.5 / (2 x 0.5) = 0.5 s. */
	ck_assert_double_eq_tol(mg1_mean_wait(0.5, 1, 1), 0.5, 1e-12);
	ck_assert(isinf(mg1_mean_wait(1, 1, 1)));
	/*
	 * The tail: P(W > 0) = rho, then exponential with mean W / rho. For
	 * M/M/1 that is exact: rho e^-(mu - lambda) t = 0.5 e^-2t; at 1 s,
	 * 0.5 e^-2 = 0.0676676.
	 */
	ck_assert_double_eq_tol(wait_tail(0.5, 0.25, 1), 0.0676676416, 1e-9);
	ck_assert_double_eq_tol(wait_tail(0.5, 0.25, 0), 0.5, 1e-12);
	ck_assert_double_eq_tol(wait_tail(0.5, 0.25, -1), 1, 1e-300);
	/* p99: (W / rho) ln(rho / 0.01) = 0.5 ln 50 = 1.956012 s. */
	ck_assert_double_eq_tol(wait_quantile(0.5, 0.25, 0.99), 1.9560115027, 1e-9);
	/* p40: 60 % of arrivals wait, so the 40th percentile is no wait. */
	ck_assert_double_eq_tol(wait_quantile(0.5, 0.25, 0.4), 0, 1e-300);
}
END_TEST

START_TEST(sum_of_two_waits)
{
	/*
	 * Two waits that always happen, exponential with rate 1: an Erlang-2,
	 * P(E1 + E2 > t) = (1 + t) e^-t; at t = 2, 3 e^-2 = 0.4060058.
	 */
	ck_assert_double_eq_tol(wait_tail_sum(1, 1, 1, 1, 2), 0.4060058497, 1e-9);
	/* Rates 1 and 2: (2 e^-t - e^-2t) / (2 - 1); at t = 1, 0.6004236. */
	ck_assert_double_eq_tol(wait_tail_sum(1, 1, 1, 0.5, 1), 0.6004235991, 1e-9);
	/*
	 * Half the time each: P = 0.5 x 0.5 e^-1 + 0.5 x 0.5 e^-2
	 * + 0.25 (2 e^-1 - e^-2) = 0.2759096 at t = 1 (means 0.5 and 0.25 s).
	 */
	ck_assert_double_eq_tol(wait_tail_sum(0.5, 0.5, 0.5, 0.25, 1), 0.2759095809, 1e-9);
	/* One wait absent: the other alone. */
	ck_assert_double_eq_tol(wait_tail_sum(0.5, 0.5, 0, 0, 1), 0.5 * exp(-1), 1e-12);
}
END_TEST

START_TEST(erlang_c_by_hand)
{
	/* One server: the probability of waiting is rho. */
	ck_assert_double_eq_tol(erlang_c(1, 0.3), 0.3, 1e-12);
	/*
	 * Two servers, a = 1 (rho 0.5): Erlang B = (1/2) / (1 + 1 + 1/2) = 0.2,
	 * C = 2 x 0.2 / (2 - 1 x 0.8) = 1/3.
	 */
	ck_assert_double_eq_tol(erlang_c(2, 1), 1.0 / 3, 1e-12);
	ck_assert_double_eq_tol(erlang_c(4, 4), 1, 1e-300);
	/* Far below c nobody waits (Halfin-Whitt beta = 900 / sqrt(1000) = 28). */
	ck_assert_double_eq_tol(erlang_c(1000, 100), 0, 1e-300);
	/* z of the 99th percentile: 2.326348. */
	ck_assert_double_eq_tol(normal_tail(2.3263478740), 0.01, 1e-9);
}
END_TEST

/*
 * The case both percentile tests below work on: 100 sequences running,
 * prompts of 2,000 tokens, outputs of 1,000. A decode step of 100 tokens
 * takes 10 ms (memory-bound); a prompt rides in one step (2,000 <= 8,192 -
 * 100) of (100 + 2000) x 10 us = 21 ms: the request's own prefill, and a
 * stall D = 11 ms of every sequence decoding meanwhile.
 * Mean TPOT: a slot is held 21 ms + 1000 TPOT; with TPOT = 10 ms,
 * lambda = 100 / (0.021 + 10) = 9.979044 req/s, and the other 99 slots'
 * prompts spread over a step are 100 / (2.1 + 1000) x 0.99 x 2000 = 197.6
 * tokens: 297.6 tokens x 10 us = 3 ms, still under the 10 ms of weight
 * reads. So TPOT = 10 ms (the fixed point holds) and lambda = 9.979044.
 */
START_TEST(ttft_percentile)
{
	/*
	 * Before any queueing a request waits half a 10 ms step, then its own
	 * 21 ms: 26 ms. Prefill queue: a full chunk of 8,092 tokens takes
	 * 81.92 ms, so prompt tokens are served at R = 98,779.3 tokens/s;
	 * S = 2000 / R = 20.247 ms, rho = 9.979044 x S = 0.2020473, E[S^2] = S^2,
	 * Pollaczek-Khinchine W = lambda S^2 / (2 (1 - rho)) = 2.563362 ms.
	 * 1,000 slots for 100 running: no slot wait. p99 TTFT = 26 ms +
	 * (W / rho) ln(rho / 0.01) = 26 + 12.6869 x 3.00592 = 64.1359 ms.
	 */
	struct instance in;
	struct slo_traffic t;
	struct slo_target tgt = { 0.99, 0.050, 0, 0, 0 };
	struct slo_load lp;
	paper_instance(&in, 1000);
	one_point(&t, 2000, 1000);
	slo_at_running(&in, &t, &tgt, 100, &lp);
	ck_assert_double_eq_tol(lp.decode_step_s, 0.010, 1e-12);
	ck_assert_double_eq_tol(lp.tpot_mean_s, 0.010, 1e-12);
	ck_assert_double_eq_tol(lp.rate, 9.9790440076, 1e-8);
	ck_assert_double_eq_tol(lp.prefill_busy, 0.2020472776, 1e-9);
	ck_assert_double_eq_tol(lp.slot_wait_share, 0, 1e-300);
	ck_assert_double_eq_tol(lp.ttft_s, 0.0641358859, 1e-7);
	/*
	 * A 50 ms target: P(TTFT > 50 ms) = rho e^(-(50 - 26) ms x rho / W)
	 * = 0.202047 e^-1.891709 = 3.0472 % of requests miss it.
	 */
	ck_assert_double_eq_tol(lp.ttft_miss_share, 0.0304715269, 1e-8);
}
END_TEST

START_TEST(tpot_percentile_from_step_times)
{
	/*
	 * As above: stalls of D = 11 ms reach a decoding request at
	 * lambda (n - 1) / n = 9.979044 x 0.99 = 9.879254 per second, so one of
	 * o tokens (o - 1 intervals of 10 ms) sees Poisson(9.879254 x (o - 1)
	 * x 0.01) of them and its TPOT has variance 9.879254 x 0.01 x 0.011^2
	 * / (o - 1) = 1.1953897e-5 / (o - 1). One output length of 1,000:
	 * sd = sqrt(1.1953897e-5 / 999) = 0.109389 ms, p99 = 10 + 2.326348 sd
	 * = 10.254476 ms.
	 */
	struct instance in;
	struct slo_traffic t;
	struct slo_target tgt = { 0.99, 0, 0, 0.1, 0 };
	struct slo_load lp;
	paper_instance(&in, 1000);
	one_point(&t, 2000, 1000);
	slo_at_running(&in, &t, &tgt, 100, &lp);
	ck_assert_double_eq_tol(lp.tpot_s, 0.0102544759, 1e-8);
	/*
	 * Half the requests generate 2 tokens, half 1,998 (the mean is still
	 * 1,000): the short ones' single interval carries a whole stall's
	 * variance, sd = sqrt(1.1953897e-5) = 3.457441 ms, while the long
	 * ones' (sd 0.0774 ms) do not reach the tail. p99 over requests: the
	 * short half may miss at most 2 %, z = 2.053749:
	 * 10 + 2.053749 x 3.457441 = 17.100715 ms.
	 */
	memset(&t, 0, sizeof(t));
	slo_traffic_add(&t, 0, 2000, 2000.0 * 2000, 1, 0);
	slo_traffic_add(&t, 1, 2, 4, 1, 0);
	slo_traffic_add(&t, 1, 1998, 1998.0 * 1998, 1, 0);
	slo_traffic_finish(&t);
	ck_assert_double_eq_tol(t.osl, 1000, 1e-12);
	slo_at_running(&in, &t, &tgt, 100, &lp);
	ck_assert_double_eq_tol(lp.tpot_mean_s, 0.010, 1e-12);
	ck_assert_double_eq_tol(lp.tpot_s, 0.0171007153, 1e-7);
	/* One sequence alone is never stalled: nothing is admitted while it decodes. */
	slo_at_running(&in, &t, &tgt, 1, &lp);
	ck_assert_double_eq_tol(lp.tpot_s, lp.decode_step_s, 1e-12);
}
END_TEST

START_TEST(slo_batch_by_hand)
{
	/*
	 * No prompt tokens: no prefill, no stalls, every step 10 ms up to 1,000
	 * running and n x 10 us beyond. A 12.0005 ms TPOT target: the largest
	 * batch is 1,200 (12.00 ms; 1,201 takes 12.01 ms).
	 */
	struct instance in;
	struct slo_traffic t;
	struct slo_target tgt = { 0.99, 0, 0, 0.0120005, 0 };
	paper_instance(&in, 2000);
	one_point(&t, 0, 100);
	ck_assert_int_eq(slo_batch(&in, &t, &tgt, 2000), 1200);
	/* Capped by what the KV holds. */
	ck_assert_int_eq(slo_batch(&in, &t, &tgt, 1024), 1024);
	/* A target below one 10 ms step: no batch meets it. */
	tgt.tpot_s = 0.008;
	ck_assert_int_eq(slo_batch(&in, &t, &tgt, 2000), 0);

	/*
	 * With prefill the percentile decides: at the batch found TPOT p99
	 * meets the target, one more sequence misses it.
	 */
	one_point(&t, 2000, 300);
	tgt.tpot_s = 0.030;
	int c = slo_batch(&in, &t, &tgt, 8000);
	struct slo_load a, b;
	ck_assert_int_gt(c, 1);
	ck_assert_int_lt(c, 8000);
	slo_at_running(&in, &t, &tgt, c, &a);
	slo_at_running(&in, &t, &tgt, c + 1, &b);
	ck_assert_double_le(a.tpot_s, tgt.tpot_s);
	ck_assert_double_gt(b.tpot_s, tgt.tpot_s);
	ck_assert_double_gt(a.tpot_s, a.tpot_mean_s);
}
END_TEST

START_TEST(sustainable_rate_by_hand)
{
	/*
	 * No prefill, 100 slots, outputs of 100 tokens: every step 10 ms and a
	 * request holds its slot for one 10 ms step of its (empty) prompt and
	 * 100 decode steps, 1.01 s: the capacity is 100 / 1.01 = 99.01 req/s.
	 * The busy fraction is n / 100, so a 0.7 utilisation target and a lax
	 * TTFT give 70 running, 70 / 1.01 = 69.307 req/s (to the search's
	 * 0.1-sequence resolution, 0.1 req/s).
	 */
	struct instance in;
	struct slo_traffic t;
	struct slo_target tgt = { 0.99, 10, 0, 0.1, 0.7 };
	struct slo_load at;
	paper_instance(&in, 100);
	one_point(&t, 0, 100);
	double r = slo_sustainable_rate(&in, &t, &tgt, &at);
	ck_assert_double_eq_tol(r, 70 / 1.01, 0.11);
	ck_assert_double_eq_tol(at.capacity_rate, 100 / 1.01, 1e-9);
	ck_assert_double_le(at.utilisation, 0.7);

	/*
	 * One slot: an M/M/1 queue with service 1.01 s. TTFT = wait + 10 ms
	 * (the prompt's step) + 5 ms (half a step): P(TTFT > 2 s) =
	 * rho e^-((1 - rho) / 1.01 s)(2 - 0.015 s) must be at most 1 %, i.e.
	 * ln rho - 1.965347 (1 - rho) = ln 0.01: rho = 0.063055 (by bisection:
	 * at 0.062 the left side minus ln 0.01 is -0.0189, at 0.063 -0.0010),
	 * so the rate is 0.063055 / 1.01 = 0.062431 req/s. Without a
	 * utilisation target the TTFT target sets the rate.
	 */
	struct slo_target lax = { 0.99, 2, 0, 0.1, 0 };
	paper_instance(&in, 1);
	r = slo_sustainable_rate(&in, &t, &lax, &at);
	ck_assert_double_eq_tol(r, 0.0624306564, 0.0011);
	ck_assert_double_le(at.ttft_miss_share, 0.01 * (1 + 1e-9));
	/* A TTFT below the prompt's own 15 ms cannot be met at any rate. */
	lax.ttft_s = 0.012;
	ck_assert_double_eq_tol(slo_sustainable_rate(&in, &t, &lax, &at), 0, 1e-300);
}
END_TEST

START_TEST(long_class_targets)
{
	/*
	 * Two prompt points at the paper instance's light load: 1,000 chat
	 * tokens and 500,000 long-class tokens. Alone (n -> 0) a prompt takes
	 * ceil(s / 8,192) steps of (s / k) x 10 us: the long one
	 * 62 steps x 80.6 ms = 5.0 s, the chat one 10 ms; plus half a step.
	 * With a 2 s TTFT target for everyone the long ones (half of the
	 * requests) all miss; with the long class at 50 ms per 1,000 prompt
	 * tokens their target is 25 s and nothing misses.
	 */
	struct instance in;
	struct slo_traffic t;
	struct slo_target chat = { 0.99, 2, 0, 0, 0 };
	struct slo_target cls = { 0.99, 2, 50e-6, 0, 0 };
	struct slo_load lp;
	paper_instance(&in, 64);
	memset(&t, 0, sizeof(t));
	slo_traffic_add(&t, 0, 1000, 1e6, 1, 0);
	slo_traffic_add(&t, 0, 500000, 2.5e11, 1, 1);
	slo_traffic_add(&t, 1, 100, 1e4, 1, 0);
	slo_traffic_finish(&t);
	slo_at_running(&in, &t, &chat, 1e-4, &lp);
	ck_assert_double_eq_tol(lp.ttft_miss_share, 0.5, 1e-3);
	slo_at_running(&in, &t, &cls, 1e-4, &lp);
	ck_assert_double_lt(lp.ttft_miss_share, 1e-3);
}
END_TEST

START_TEST(points_merge)
{
	/* Beyond SLO_MAX_POINTS adjacent points merge, keeping weight and mean. */
	struct slo_traffic t;
	memset(&t, 0, sizeof(t));
	double w = 0, sum = 0;
	for (int i = 1; i <= 3 * SLO_MAX_POINTS; i++) {
		slo_traffic_add(&t, 0, i * 10.0, i * 10.0 * i * 10.0, i, 0);
		slo_traffic_add(&t, 1, 5, 25, 1, 0);
		w += i;
		sum += i * i * 10.0;
	}
	slo_traffic_finish(&t);
	ck_assert_int_le(t.nprompt, SLO_MAX_POINTS);
	ck_assert_int_eq(t.noutput, 1);
	ck_assert_double_eq_tol(t.isl, sum / w, 1e-9);
	double total = 0;
	for (int i = 0; i < t.nprompt; i++)
		total += t.prompt[i].weight;
	ck_assert_double_eq_tol(total, 1, 1e-12);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slo");
	TCase *tc = tcase_create("slo");
	tcase_add_test(tc, mg1_waiting_time);
	tcase_add_test(tc, sum_of_two_waits);
	tcase_add_test(tc, erlang_c_by_hand);
	tcase_add_test(tc, ttft_percentile);
	tcase_add_test(tc, tpot_percentile_from_step_times);
	tcase_add_test(tc, slo_batch_by_hand);
	tcase_add_test(tc, sustainable_rate_by_hand);
	tcase_add_test(tc, long_class_targets);
	tcase_add_test(tc, points_merge);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
