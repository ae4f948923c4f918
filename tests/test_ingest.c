/*
 * test_ingest.c - the streaming importers: the real Azure and Mooncake
 * traces against figures computed independently with Python, a tiny
 * hand-made file per format, every malformed case with its line number and
 * return code, SHA-256 against FIPS 180-2 vectors, and flat memory on a
 * generated million-row log.
 *
 * Reference figures for the real traces come from this script (Python 3,
 * csv/json/datetime only; nearest-rank percentiles; peak = busiest 60 s
 * window sliding in 15 s steps aligned to the epoch, as workload.h defines):
 *
 *   def nr(v, q): v = sorted(v); return v[math.ceil(q * len(v) - 1e-9) - 1]
 *   def peak(ts_ns, window_s=60, steps=4):
 *       slot = int(window_s * 1e9) // steps
 *       c = collections.Counter(t // slot for t in ts_ns)
 *       return max(sum(c.get(k + d, 0) for d in range(steps)) for k in c) \
 *              / (slot * steps / 1e9)
 *   rows = list(csv.DictReader(open(f)))   # Azure: TIMESTAMP[:26] via
 *   # strptime('%Y-%m-%d %H:%M:%S.%f'); sums of ContextTokens/GeneratedTokens
 *   L = [json.loads(l) for l in open(f)]   # Mooncake: input/output_length;
 *   # reuse: walk hash_ids in file order, count ids already seen / all ids
 *
 * and `sha256sum FILE` for the digests.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ingest/workload_file.h"
#include "lib/sha256.h"

static char path_buf[4096];

static const char *fixture(const char *name)
{
	const char *dir = getenv("PIQPLAN_TEST_DATA");
	snprintf(path_buf, sizeof(path_buf), "%s/workloads/%s", dir ? dir : "tests/data", name);
	return path_buf;
}

/* Nearest-rank percentile within the sketch's promise (1/1024 relative). */
#define ck_assert_pct(got, want) \
	ck_assert_double_le(fabs((got) - (want)), (want) / 1024.0 + 1e-9)

static struct wl_hist *load(const char *name, const struct ingest_opts *o,
			    struct workload_summary *s)
{
	struct wl_hist *h = NULL;
	char err[512];
	int rc = ingest_file(fixture(name), o, s, &h, err, sizeof(err));
	ck_assert_msg(rc == INGEST_OK, "%s: %s", name, err);
	ck_assert_ptr_nonnull(h);
	return h;
}

/* ---- SHA-256 ---------------------------------------------------------- */

START_TEST(sha256_vectors)
{
	struct sha256 c;
	char hex[65];
	/* FIPS 180-2 appendix B.1: "abc". */
	sha256_init(&c);
	sha256_update(&c, "abc", 3);
	sha256_final_hex(&c, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* The empty message. */
	sha256_init(&c);
	sha256_final_hex(&c, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* B.2: the 56-byte message, fed in uneven pieces to cross block edges. */
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_init(&c);
	sha256_update(&c, m, 1);
	sha256_update(&c, m + 1, 50);
	sha256_update(&c, m + 51, 5);
	sha256_final_hex(&c, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* B.3: one million 'a'. */
	char a[1000];
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, a, sizeof(a));
	sha256_final_hex(&c, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* ---- timestamps ------------------------------------------------------- */

START_TEST(timestamps)
{
	int64_t ns;
	/* 2024-01-01T00:00:00Z is 1704067200 (19723 days x 86400). */
	ck_assert_int_eq(ingest_parse_timestamp("2024-01-01T00:00:00Z", &ns), 0);
	ck_assert_int_eq(ns, 1704067200LL * 1000000000);
	ck_assert_int_eq(ingest_parse_timestamp("2024-01-01 01:30:00+01:30", &ns), 0);
	ck_assert_int_eq(ns, 1704067200LL * 1000000000);
	ck_assert_int_eq(ingest_parse_timestamp("2023-12-31T19:00-0500", &ns), 0);
	ck_assert_int_eq(ns, 1704067200LL * 1000000000);
	/* Azure: 7 fractional digits = 100 ns; 2023-11-16 18:15:46 = 1700158546. */
	ck_assert_int_eq(ingest_parse_timestamp("2023-11-16 18:15:46.6805900", &ns), 0);
	ck_assert_int_eq(ns, 1700158546680590000LL);
	ck_assert_int_eq(ingest_parse_timestamp(" 1700158546.25 ", &ns), 0);
	ck_assert_int_eq(ns, 1700158546250000000LL);
	ck_assert_int_eq(ingest_parse_timestamp("0", &ns), 0);
	ck_assert_int_eq(ns, 0);
	/* 2024 is a leap year, 2023 is not. */
	ck_assert_int_eq(ingest_parse_timestamp("2024-02-29 00:00:00", &ns), 0);
	ck_assert_int_eq(ingest_parse_timestamp("2023-02-29 00:00:00", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("2023-13-01 00:00:00", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("2023-11-16 24:00:00", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("2023-11-16", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("yesterday", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("-5", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("1.2.3", &ns), -1);
	ck_assert_int_eq(ingest_parse_timestamp("2023-11-16T10:00:00Zjunk", &ns), -1);
}
END_TEST

#define PROM_HEADER "window_start,window_end,model,metric,le,count\n"
#define W1 "0,60,m,"

/* Parse `text` (file "t.csv") with o (NULL: defaults); it must import. */
static struct wl_hist *from_text(const char *text, const struct ingest_opts *o,
				 struct workload_summary *s)
{
	struct wl_hist *h = NULL;
	char err[512];
	FILE *f = fmemopen((void *)text, strlen(text), "rb");
	ck_assert_ptr_nonnull(f);
	int rc = ingest_stream(f, "t.csv", strlen(text), o, s, &h, err, sizeof(err));
	fclose(f);
	ck_assert_msg(rc == INGEST_OK, "%s", err);
	return h;
}

/*
 * The hardening report's timestamp defects: epoch seconds of 4 digits (a
 * relative trace at t = 1000 s), epoch ms and us told by their magnitude,
 * spans from 1900 to 2262 (more ns than an int64_t holds), and a steady
 * trace whose peak came out below its mean.
 */
START_TEST(timestamp_units_and_spans)
{
	struct workload_summary s;
	struct ingest_opts o = INGEST_OPTS_INIT;
	struct wl_hist *h;

	h = from_text("timestamp,prompt_tokens,output_tokens\n999,100,10\n1000,100,10\n", NULL, &s);
	ck_assert_double_eq(s.first_s, 999);
	ck_assert_double_eq(s.span_s, 1);
	wl_hist_free(h);
	/* 13 digits: epoch ms (2025-12-01T00:00:00.012Z), one minute apart. */
	h = from_text("timestamp,prompt_tokens,output_tokens\n"
		      "1764547200012,100,10\n1764547260012,100,10\n", NULL, &s);
	ck_assert_double_eq_tol(s.first_s, 1764547200.012, 1e-6);
	ck_assert_double_eq_tol(s.span_s, 60, 1e-9);
	wl_hist_free(h);
	/* 16 digits: us; the fraction is of a us. */
	h = from_text("timestamp,prompt_tokens,output_tokens\n"
		      "1764547200000000.5,1,1\n1764547200500000,1,1\n", NULL, &s);
	ck_assert_double_eq_tol(s.span_s, 0.4999995, 1e-9);
	wl_hist_free(h);
	/* --time-unit ms: a relative ms trace from 0, which magnitude would call seconds. */
	o.time_unit_ns = 1000000;
	h = from_text("timestamp,prompt_tokens,output_tokens\n0,1,1\n1500,1,1\n", &o, &s);
	ck_assert_double_eq_tol(s.span_s, 1.5, 1e-12);
	wl_hist_free(h);
	/* 1900-01-01 is -2208988800 s, 2200-01-01 is 7258118400 s: 9467107200 s apart. */
	h = from_text("timestamp,prompt_tokens,output_tokens\n"
		      "1900-01-01 00:00,1,1\n2200-01-01 00:00,1,1\n", NULL, &s);
	ck_assert_double_eq_tol(s.span_s, 9467107200.0, 1e-3);
	ck_assert_double_ge(s.mean_rps, 0);
	wl_hist_free(h);
	h = from_text("timestamp,prompt_tokens,output_tokens\n"
		      "1900-01-01 00:00,1,1\n9223372035,1,1\n", NULL, &s);
	ck_assert_double_eq_tol(s.span_s, 9223372035.0 + 2208988800.0, 1e-3);
	wl_hist_free(h);
	/* 11 requests 6 s apart: mean 11 / 60 s; no 60 s window is busier than that. */
	h = from_text("timestamp,prompt_tokens,output_tokens\n0,1,1\n6,1,1\n12,1,1\n18,1,1\n"
		      "24,1,1\n30,1,1\n36,1,1\n42,1,1\n48,1,1\n54,1,1\n60,1,1\n", NULL, &s);
	ck_assert_double_eq_tol(s.mean_rps, 11.0 / 60, 1e-12);
	ck_assert_double_ge(s.peak_rps, s.mean_rps);
	wl_hist_free(h);
}
END_TEST

/* ---- real traces ------------------------------------------------------ */

START_TEST(azure_conversation)
{
	struct workload_summary s;
	struct wl_hist *h = load("azure_conv.csv", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_REQUESTS);
	/* Issue 3 / data README: 19,366 requests; python: sums 22361870 and 4088665. */
	ck_assert_int_eq(s.requests, 19366);
	ck_assert_int_eq(s.prompt_tokens_sum, 22361870);
	ck_assert_int_eq(s.output_tokens_sum, 4088665);
	/* 22361870 / 19366 = 1154.697..., 4088665 / 19366 = 211.126 (issue: 1,154.7 and 211.1). */
	ck_assert_double_eq_tol(s.prompt_tokens_mean, 1154.7, 0.005);
	ck_assert_double_eq_tol(s.output_tokens_mean, 211.1, 0.03);
	/* 18:15:46.6805900 .. 19:14:08.4025270 = 3501.721937 s; 19366 / that = 5.5304
	 * (issue: about 5.53). */
	ck_assert_double_eq_tol(s.span_s, 3501.721937, 1e-6);
	ck_assert_double_eq_tol(s.mean_rps, 5.53042, 1e-5);
	ck_assert_double_eq_tol(s.first_s, 1700158546.68059, 1e-5);
	/* python peak(): 522 arrivals in the busiest 60 s -> 8.7 rps. */
	ck_assert_double_eq_tol(s.peak_rps, 8.7, 1e-9);
	/* python nr(): prompt 1020, 2735, 4142, 6212; output 129, 424, 601, 954. */
	ck_assert_double_eq(s.prompt.p50, 1020);
	ck_assert_double_eq(s.prompt.p90, 2735);
	ck_assert_pct(s.prompt.p99, 4142);
	ck_assert_pct(s.prompt.p999, 6212);
	ck_assert_double_eq(s.output.p50, 129);
	ck_assert_double_eq(s.output.p90, 424);
	ck_assert_double_eq(s.output.p99, 601);
	ck_assert_double_eq(s.output.p999, 954);
	/* prompt + output: 1412, 2820, 4259, 6345. */
	ck_assert_double_eq(s.total.p50, 1412);
	ck_assert_pct(s.total.p90, 2820);
	ck_assert_pct(s.total.p99, 4259);
	ck_assert_pct(s.total.p999, 6345);
	ck_assert_int_eq(s.sums_estimated, 0);
	ck_assert_int_eq(s.independent_marginals, 0);
	ck_assert(isnan(s.prefix_reuse_share));
	/* sha256sum; 719188 bytes (ls -l). */
	ck_assert_str_eq(s.sha256_hex,
			 "2f1e5b666d4e3055fdbba98598ce2ec307767b9064e03e2fa46676dbcc7d0bf8");
	ck_assert_int_eq(s.file_bytes, 719188);
	/* python: 59 distinct (2^floor(log2 p), 2^floor(log2 o)) pairs. */
	ck_assert_uint_eq(wl_hist_buckets(h), 59);
	int64_t n = 0, ps = 0, os = 0;
	for (size_t i = 0; i < wl_hist_buckets(h); i++) {
		const struct wl_bucket *b = wl_hist_bucket(h, i);
		n += b->requests;
		ps += b->prompt_tokens_sum;
		os += b->output_tokens_sum;
		ck_assert_int_ge(b->prompt_tokens_sum, b->requests * b->prompt_lo);
		ck_assert_int_lt(b->prompt_tokens_sum, b->requests * b->prompt_hi);
	}
	ck_assert_int_eq(n, 19366);
	ck_assert_int_eq(ps, 22361870);
	ck_assert_int_eq(os, 4088665);
	wl_hist_free(h);
}
END_TEST

START_TEST(azure_code)
{
	struct workload_summary s;
	struct wl_hist *h = load("azure_code.csv", NULL, &s);
	/* python: 8819 requests (data README: 8,819), sums 18059974 / 245896. */
	ck_assert_int_eq(s.requests, 8819);
	ck_assert_int_eq(s.prompt_tokens_sum, 18059974);
	ck_assert_int_eq(s.output_tokens_sum, 245896);
	/* 2047.848 and 27.883 tokens; span 3435.948056 s; 2.56669 rps; peak 712/60. */
	ck_assert_double_eq_tol(s.prompt_tokens_mean, 2047.848, 0.001);
	ck_assert_double_eq_tol(s.output_tokens_mean, 27.883, 0.001);
	ck_assert_double_eq_tol(s.span_s, 3435.948056, 1e-6);
	ck_assert_double_eq_tol(s.mean_rps, 2.56669, 1e-5);
	ck_assert_double_eq_tol(s.peak_rps, 11.866666666, 1e-6);
	/* python nr(): prompt 1469, 5194, 7436, 7437; output 13, 55, 252, 831. */
	ck_assert_double_eq(s.prompt.p50, 1469);
	ck_assert_pct(s.prompt.p90, 5194);
	ck_assert_pct(s.prompt.p99, 7436);
	ck_assert_pct(s.prompt.p999, 7437);
	ck_assert_double_eq(s.output.p99, 252);
	ck_assert_double_eq(s.output.p999, 831);
	ck_assert_str_eq(s.sha256_hex,
			 "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6");
	ck_assert_uint_eq(wl_hist_buckets(h), 81);
	wl_hist_free(h);
}
END_TEST

START_TEST(mooncake_traces)
{
	struct workload_summary s;
	struct wl_hist *h = load("mooncake_conversation.jsonl", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_MOONCAKE);
	/* python: 12031 requests, sums 144793823 / 4122048, timestamps 0..3536999 ms. */
	ck_assert_int_eq(s.requests, 12031);
	ck_assert_int_eq(s.prompt_tokens_sum, 144793823);
	ck_assert_int_eq(s.output_tokens_sum, 4122048);
	ck_assert_double_eq_tol(s.span_s, 3536.999, 1e-9);
	ck_assert_double_eq_tol(s.mean_rps, 12031 / 3536.999, 1e-9);
	ck_assert_double_eq_tol(s.peak_rps, 4.133333333, 1e-6);	/* 248 / 60 */
	/* python: 105710 repeated of 288500 hash ids = 0.36641. */
	ck_assert_int_eq(s.prefix_blocks, 288500);
	ck_assert_int_eq(s.prefix_blocks_repeated, 105710);
	ck_assert_double_eq_tol(s.prefix_reuse_share, 105710.0 / 288500, 1e-12);
	/* python nr(): prompt 6909, 27367, 85401, 121301; output 350, 597, 1120, 2000. */
	ck_assert_pct(s.prompt.p50, 6909);
	ck_assert_pct(s.prompt.p90, 27367);
	ck_assert_pct(s.prompt.p99, 85401);
	ck_assert_pct(s.prompt.p999, 121301);
	ck_assert_double_eq(s.output.p50, 350);
	ck_assert_double_eq(s.output.p999, 2000);
	ck_assert_pct(s.total.p99, 85858);
	ck_assert_uint_eq(wl_hist_buckets(h), 88);
	ck_assert_str_eq(s.sha256_hex,
			 "b8cbb061a85206d729d91cdc2981f43c9e0d99209dce588d3af5f7934408b9df");
	wl_hist_free(h);

	h = load("mooncake_synthetic.jsonl", NULL, &s);
	/* python: 3993 requests, sums 61194628 / 595432, 0..1022025 ms, 77953 / 121877 reused. */
	ck_assert_int_eq(s.requests, 3993);
	ck_assert_int_eq(s.prompt_tokens_sum, 61194628);
	ck_assert_int_eq(s.output_tokens_sum, 595432);
	ck_assert_double_eq_tol(s.span_s, 1022.025, 1e-9);
	ck_assert_double_eq_tol(s.peak_rps, 4.55, 1e-9);	/* 273 / 60 */
	ck_assert_double_eq_tol(s.prefix_reuse_share, 77953.0 / 121877, 1e-12);
	ck_assert_pct(s.prompt.p50, 11587);
	ck_assert_pct(s.prompt.p999, 191374);
	ck_assert_double_eq(s.output.p90, 389);
	ck_assert_uint_eq(wl_hist_buckets(h), 124);
	wl_hist_free(h);
}
END_TEST

/* ---- tiny hand-made files --------------------------------------------- */

static void check_bucket(const struct wl_bucket *b, int64_t plo, int64_t phi, int64_t olo,
			 int64_t ohi, int64_t n, int64_t ps, int64_t os)
{
	ck_assert_int_eq(b->prompt_lo, plo);
	ck_assert_int_eq(b->prompt_hi, phi);
	ck_assert_int_eq(b->output_lo, olo);
	ck_assert_int_eq(b->output_hi, ohi);
	ck_assert_int_eq(b->requests, n);
	ck_assert_int_eq(b->prompt_tokens_sum, ps);
	ck_assert_int_eq(b->output_tokens_sum, os);
}

START_TEST(tiny_requests)
{
	/*
	 * Times (s after 2024-01-01T00:00Z = 1704067200): 0, 30, 60.5, 90
	 * (epoch 1704067290), 120 (01:02+01:00). Span 120 s, mean 5/120.
	 * 15 s slots 0,2,4,6,8: any 4 consecutive hold at most 2 -> 2/60,
	 * below the mean: the peak is the mean (no window is less busy than
	 * the average; the hardening report's D20).
	 * log2 bins: (3,0) [2,4)x[0,1); (100,10),(100,12) [64,128)x[8,16);
	 * (150,20) [128,256)x[16,32); (1000,1000) [512,1024)x[512,1024).
	 */
	struct workload_summary s;
	struct wl_hist *h = load("tiny_requests.csv", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_REQUESTS);
	ck_assert_int_eq(s.requests, 5);
	ck_assert_double_eq(s.first_s, 1704067200);
	ck_assert_double_eq(s.span_s, 120);
	ck_assert_double_eq_tol(s.mean_rps, 5.0 / 120, 1e-12);
	ck_assert_double_eq_tol(s.peak_rps, 5.0 / 120, 1e-12);
	ck_assert_uint_eq(wl_hist_buckets(h), 4);
	check_bucket(wl_hist_bucket(h, 0), 2, 4, 0, 1, 1, 3, 0);
	check_bucket(wl_hist_bucket(h, 1), 64, 128, 8, 16, 2, 200, 22);
	check_bucket(wl_hist_bucket(h, 2), 128, 256, 16, 32, 1, 150, 20);
	check_bucket(wl_hist_bucket(h, 3), 512, 1024, 512, 1024, 1, 1000, 1000);
	/* 1353 / 5 = 270.6; 1042 / 5 = 208.4. Sorted prompts 3,100,100,150,1000. */
	ck_assert_double_eq_tol(s.prompt_tokens_mean, 270.6, 1e-9);
	ck_assert_double_eq_tol(s.output_tokens_mean, 208.4, 1e-9);
	ck_assert_double_eq(s.prompt.p50, 100);
	ck_assert_double_eq(s.prompt.p90, 1000);
	/* outputs 0,10,12,20,1000 -> p50 12; totals 3,110,112,170,2000 -> p50 112. */
	ck_assert_double_eq(s.output.p50, 12);
	ck_assert_double_eq(s.total.p50, 112);
	wl_hist_free(h);

	/* User edges: 0,200,END -> [0,200)x[0,200) holds 4 (3+100+150+100, 0+10+20+12). */
	struct wl_edges e;
	ck_assert_int_eq(wl_edges_parse("200", &e, NULL), 0);
	struct ingest_opts o = INGEST_OPTS_INIT;
	o.edges = &e;
	o.format = WL_FMT_REQUESTS;
	o.window_s = 120;
	h = load("tiny_requests.csv", &o, &s);
	ck_assert_uint_eq(wl_hist_buckets(h), 2);
	check_bucket(wl_hist_bucket(h, 0), 0, 200, 0, 200, 4, 353, 42);
	check_bucket(wl_hist_bucket(h, 1), 200, WL_TOKENS_END, 200, WL_TOKENS_END, 1, 1000, 1000);
	/* 120 s window in 30 s slots 0,1,2,3,4: slots 0..3 hold 4 -> 4/120, below the mean 5/120. */
	ck_assert_double_eq_tol(s.peak_rps, 5.0 / 120, 1e-12);
	ck_assert_double_eq(s.window_s, 120);
	wl_hist_free(h);
}
END_TEST

START_TEST(tiny_buckets)
{
	/*
	 * [0,100)x[0,50): 30 + 20 = 50, sums 50 x 49 = 2450, 50 x 24 = 1200.
	 * [100,1000)x[0,50): 10, 10 x 549 = 5490, 10 x 24 = 240.
	 * [1000,+Inf)x[50,200): 5, 5 x 1000 (open: lo) = 5000, 5 x 124 = 620.
	 * 65 requests over 00:00..02:00 = 7200 s -> 65/7200; peak = max 0.7.
	 */
	struct workload_summary s;
	struct wl_hist *h = load("tiny_buckets.csv", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_BUCKETS);
	ck_assert_int_eq(s.requests, 65);
	ck_assert_uint_eq(wl_hist_buckets(h), 3);
	check_bucket(wl_hist_bucket(h, 0), 0, 100, 0, 50, 50, 2450, 1200);
	check_bucket(wl_hist_bucket(h, 1), 100, 1000, 0, 50, 10, 5490, 240);
	check_bucket(wl_hist_bucket(h, 2), 1000, WL_TOKENS_END, 50, 200, 5, 5000, 620);
	ck_assert_int_eq(s.prompt_tokens_sum, 12940);
	ck_assert_int_eq(s.output_tokens_sum, 2060);
	ck_assert_int_eq(s.sums_estimated, 1);
	ck_assert_double_eq(s.span_s, 7200);
	ck_assert_double_eq_tol(s.mean_rps, 65.0 / 7200, 1e-12);
	ck_assert_double_eq(s.peak_rps, 0.7);
	/*
	 * Prompt spread evenly: 0.5 a token over 0..99, 10/900 over 100..999, 5 at 1000.
	 * p50: rank 32.5 -> 0.5 x (v+1) >= 32.5 -> v = 64.
	 * p90: rank 58.5 -> 8.5 past 50 at 1/90 a token: 765 tokens -> 864.
	 * p99: rank 64.35 > 60 -> the open bucket's lo, 1000.
	 */
	ck_assert_double_eq(s.prompt.p50, 64);
	ck_assert_double_eq(s.prompt.p90, 864);
	ck_assert_double_eq(s.prompt.p99, 1000);
	wl_hist_free(h);
}
END_TEST

START_TEST(tiny_prometheus)
{
	/*
	 * Prompt (le 100, 1000, +Inf): window 1 counts 6,9,10 -> 6,3,1;
	 * window 2: 4,8,12 -> 4,4,4. Marginal [0,101) 10, [101,1001) 7,
	 * [1001,+Inf) 5. Generation (le 10, 100, +Inf): 5,10,10 -> 5,5,0 and
	 * 7,8,12 -> 7,1,4: [0,11) 12, [11,101) 6, [101,+Inf) 4.
	 * Joint: see test_workload.c independent_marginals: 5,3,2 / 4,2,1 / 3,1,1,
	 * sums 9355 and 794. 22 requests over 120 s; busiest window 12/60 = 0.2.
	 */
	struct workload_summary s;
	struct wl_hist *h = load("tiny_prometheus.csv", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_PROMETHEUS);
	ck_assert_int_eq(s.independent_marginals, 1);
	ck_assert_int_eq(s.sums_estimated, 1);
	ck_assert_int_eq(s.requests, 22);
	ck_assert_uint_eq(wl_hist_buckets(h), 9);
	check_bucket(wl_hist_bucket(h, 0), 0, 101, 0, 11, 5, 250, 25);
	check_bucket(wl_hist_bucket(h, 1), 0, 101, 11, 101, 3, 150, 165);
	check_bucket(wl_hist_bucket(h, 5), 101, 1001, 101, WL_TOKENS_END, 1, 550, 101);
	check_bucket(wl_hist_bucket(h, 8), 1001, WL_TOKENS_END, 101, WL_TOKENS_END, 1, 1001, 101);
	ck_assert_int_eq(s.prompt_tokens_sum, 9355);
	ck_assert_int_eq(s.output_tokens_sum, 794);
	ck_assert_double_eq(s.span_s, 120);
	ck_assert_double_eq_tol(s.mean_rps, 22.0 / 120, 1e-12);
	ck_assert_double_eq_tol(s.peak_rps, 0.2, 1e-12);
	ck_assert_double_eq(s.prompt.p50, 229);
	ck_assert(isnan(s.window_s));
	wl_hist_free(h);

	/* A model filter that matches nothing leaves no rows: bad data. */
	struct ingest_opts o = INGEST_OPTS_INIT;
	o.model = "other";
	char err[512];
	ck_assert_int_eq(ingest_file(fixture("tiny_prometheus.csv"), &o, &s, &h, err,
				     sizeof(err)), INGEST_ERR_DATA);
	ck_assert_ptr_null(h);
	ck_assert_ptr_nonnull(strstr(err, ":13: column metric: expected rows of both"));
	o.model = "m";
	h = load("tiny_prometheus.csv", &o, &s);
	ck_assert_int_eq(s.requests, 22);
	wl_hist_free(h);
}
END_TEST

/*
 * Prometheus rows in any order, the model column as a filter and the _sum
 * rows as exact token totals (the new user's report: series-major exports
 * failed, every model was summed, _sum rows were refused).
 */
START_TEST(prometheus_any_order_filter_sums)
{
	/*
	 * Two 60 s windows. Prompt: le=100 holds 3 and 1, +Inf 5 and 2 ->
	 * [0,101) 4, [101,inf) 3: 7 requests. Output: le=10 holds 4 and 2,
	 * +Inf 5 and 2 -> [0,11) 6, [11,inf) 1. Peak: the busier window, 5/60.
	 */
	static const char grouped[] = PROM_HEADER
		"0,60,m,request_prompt_tokens,100,3\n0,60,m,request_prompt_tokens,+Inf,5\n"
		"0,60,m,request_generation_tokens,10,4\n0,60,m,request_generation_tokens,+Inf,5\n"
		"60,120,m,request_prompt_tokens,100,1\n60,120,m,request_prompt_tokens,+Inf,2\n"
		"60,120,m,request_generation_tokens,10,2\n60,120,m,request_generation_tokens,+Inf,2\n";
	static const char series_major[] = PROM_HEADER
		"60,120,m,request_generation_tokens,+Inf,2\n0,60,m,request_prompt_tokens,+Inf,5\n"
		"0,60,m,request_prompt_tokens,100,3\n60,120,m,request_prompt_tokens,100,1\n"
		"60,120,m,request_generation_tokens,10,2\n60,120,m,request_prompt_tokens,+Inf,2\n"
		"0,60,m,request_generation_tokens,+Inf,5\n0,60,m,request_generation_tokens,10,4\n";
	struct workload_summary a, b;
	struct wl_hist *ha = from_text(grouped, NULL, &a), *hb = from_text(series_major, NULL, &b);
	ck_assert_int_eq(a.requests, 7);
	ck_assert_int_eq(b.requests, 7);
	ck_assert_double_eq_tol(a.peak_rps, 5.0 / 60, 1e-12);
	ck_assert_double_eq_tol(b.peak_rps, 5.0 / 60, 1e-12);
	ck_assert_double_eq_tol(b.mean_rps, 7.0 / 120, 1e-12);
	ck_assert_uint_eq(wl_hist_buckets(ha), wl_hist_buckets(hb));
	for (size_t i = 0; i < wl_hist_buckets(ha); i++)
		ck_assert_int_eq(wl_hist_bucket(ha, i)->requests, wl_hist_bucket(hb, i)->requests);
	ck_assert_double_eq(a.prompt.p50, b.prompt.p50);
	wl_hist_free(ha);
	wl_hist_free(hb);

	/* Two models: the filter keeps one, by its id or by its name alone in any case. */
	static const char two[] = PROM_HEADER
		"0,60,org/big,request_prompt_tokens,+Inf,120\n"
		"0,60,org/big,request_generation_tokens,+Inf,120\n"
		"0,60,org/small,request_prompt_tokens,+Inf,9000\n"
		"0,60,org/small,request_generation_tokens,+Inf,9000\n";
	struct ingest_opts o = INGEST_OPTS_INIT;
	o.model = "org/big";
	ha = from_text(two, &o, &a);
	ck_assert_int_eq(a.requests, 120);
	wl_hist_free(ha);
	o.model = "BIG";
	ha = from_text(two, &o, &a);
	ck_assert_int_eq(a.requests, 120);
	wl_hist_free(ha);
	ha = from_text(two, NULL, &a);			/* no filter: every model */
	ck_assert_int_eq(a.requests, 9120);
	wl_hist_free(ha);

	/*
	 * _sum rows: 10 requests, prompt 1500 tokens, output 200 -- exact means
	 * 150 and 20, where bucket midpoints would say (6 x 50 + 4 x 101) / 10
	 * = 70.4 and (4 x 5 + 6 x 11) / 10 = 8.6.
	 */
	static const char sums[] = PROM_HEADER
		"0,60,m,request_prompt_tokens_bucket,100,6\n0,60,m,request_prompt_tokens_bucket,+Inf,10\n"
		"0,60,m,request_prompt_tokens_sum,,1500\n0,60,m,request_prompt_tokens_count,,10\n"
		"0,60,m,request_generation_tokens_bucket,10,4\n"
		"0,60,m,request_generation_tokens_bucket,+Inf,10\n"
		"0,60,m,request_generation_tokens_sum,,200\n0,60,m,request_generation_tokens_count,,10\n";
	ha = from_text(sums, NULL, &a);
	ck_assert_int_eq(a.requests, 10);
	ck_assert_int_eq(a.prompt_tokens_sum, 1500);
	ck_assert_int_eq(a.output_tokens_sum, 200);
	ck_assert_double_eq(a.prompt_tokens_mean, 150);
	ck_assert_double_eq(a.output_tokens_mean, 20);
	ck_assert_int_eq(a.sums_estimated, 0);
	int64_t ps = 0, os = 0;
	for (size_t i = 0; i < wl_hist_buckets(ha); i++) {
		const struct wl_bucket *bk = wl_hist_bucket(ha, i);
		ps += bk->prompt_tokens_sum;
		os += bk->output_tokens_sum;
		/* Every bucket's sum stays inside its bounds. */
		ck_assert_int_ge(bk->prompt_tokens_sum, bk->requests * bk->prompt_lo);
		ck_assert_int_ge(bk->output_tokens_sum, bk->requests * bk->output_lo);
		if (bk->prompt_hi < WL_TOKENS_END)
			ck_assert_int_le(bk->prompt_tokens_sum, bk->requests * (bk->prompt_hi - 1));
		if (bk->output_hi < WL_TOKENS_END)
			ck_assert_int_le(bk->output_tokens_sum, bk->requests * (bk->output_hi - 1));
	}
	ck_assert_int_eq(ps, 1500);
	ck_assert_int_eq(os, 200);
	wl_hist_free(ha);
}
END_TEST

START_TEST(tiny_mooncake)
{
	/*
	 * Prompts 1000, 600, 2000; outputs 10, 20, 5: sums 3600 / 35.
	 * Bins [512,1024)x[8,16), [512,1024)x[16,32), [1024,2048)x[4,8).
	 * Hash ids 0,1 | 0,2 | 0,1,3,4: 8 blocks, repeats 0 (line 2), 0 and 1
	 * (line 3) = 3 -> 0.375. Times 0, 30, 61 s: span 61, slots 0,2,4 -> 2/60,
	 * below the mean 3/61: the peak is the mean (D20).
	 */
	struct workload_summary s;
	struct wl_hist *h = load("tiny_mooncake.jsonl", NULL, &s);
	ck_assert_int_eq(s.format, WL_FMT_MOONCAKE);
	ck_assert_int_eq(s.requests, 3);
	ck_assert_uint_eq(wl_hist_buckets(h), 3);
	check_bucket(wl_hist_bucket(h, 0), 512, 1024, 8, 16, 1, 1000, 10);
	check_bucket(wl_hist_bucket(h, 1), 512, 1024, 16, 32, 1, 600, 20);
	check_bucket(wl_hist_bucket(h, 2), 1024, 2048, 4, 8, 1, 2000, 5);
	ck_assert_int_eq(s.prefix_blocks, 8);
	ck_assert_int_eq(s.prefix_blocks_repeated, 3);
	ck_assert_double_eq(s.prefix_reuse_share, 0.375);
	ck_assert_double_eq(s.span_s, 61);
	ck_assert_double_eq_tol(s.mean_rps, 3.0 / 61, 1e-12);
	ck_assert_double_eq_tol(s.peak_rps, 3.0 / 61, 1e-12);
	wl_hist_free(h);
}
END_TEST

/* ---- malformed input -------------------------------------------------- */

/* Parse `text` as file "t.csv"; expect `rc` and a message starting with `prefix`. */
static void expect_error(const char *text, size_t len, enum wl_format fmt, int rc,
			 const char *prefix)
{
	FILE *f = fmemopen((void *)text, len, "rb");
	ck_assert_ptr_nonnull(f);
	struct ingest_opts o = INGEST_OPTS_INIT;
	o.format = fmt;
	struct workload_summary s;
	struct wl_hist *h = (struct wl_hist *)1;
	char err[512];
	int got = ingest_stream(f, "t.csv", len, &o, &s, &h, err, sizeof(err));
	fclose(f);
	ck_assert_msg(got == rc, "rc %d, want %d: %s", got, rc, err);
	ck_assert_ptr_null(h);
	ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "got '%s', want '%s...'", err,
		      prefix);
}

#define BAD(text, fmt, prefix) \
	expect_error(text, sizeof(text) - 1, fmt, INGEST_ERR_DATA, prefix)

#define REQ_HEADER "timestamp,prompt_tokens,output_tokens\n"

START_TEST(bad_requests)
{
	BAD(REQ_HEADER "1,2,3\n4,5\n", WL_FMT_AUTO,
	    "t.csv:3: column output_tokens: expected a value (3 columns as in the header), "
	    "found 2 columns");
	BAD(REQ_HEADER "1,2,3\n4,5,6,7\n", WL_FMT_AUTO,
	    "t.csv:3: column 4: expected 3 columns as in the header, found 4");
	BAD(REQ_HEADER "1,abc,3\n", WL_FMT_AUTO,
	    "t.csv:2: column prompt_tokens: expected a prompt token count (a whole number), "
	    "found 'abc'");
	BAD(REQ_HEADER "1,2,3\n\n1,2,-3\n", WL_FMT_REQUESTS,
	    "t.csv:4: column output_tokens: expected an output token count >= 0, found '-3'");
	BAD(REQ_HEADER "1,20000000,3\n", WL_FMT_AUTO,
	    "t.csv:2: column prompt_tokens: expected a prompt token count <= 10000000, "
	    "found '20000000'");
	BAD(REQ_HEADER "1,2.5,3\n", WL_FMT_AUTO,
	    "t.csv:2: column prompt_tokens: expected a prompt token count (a whole number)");
	BAD(REQ_HEADER "2023-13-01 00:00:00,1,2\n", WL_FMT_AUTO,
	    "t.csv:2: column timestamp: expected a timestamp");
	/* Seconds (10 digits first), then a value that only ms would make sense of. */
	BAD(REQ_HEADER "1700000000,1,2\n1700000000000,1,2\n", WL_FMT_AUTO,
	    "t.csv:3: column timestamp: expected epoch seconds up to 9223372035 (2262-04-11)");
	BAD(REQ_HEADER "9223372036,1,2\n", WL_FMT_AUTO,
	    "t.csv:2: column timestamp: expected epoch seconds up to 9223372035");
	/* 23 digits read as ns, past 2262 -- counted without overflowing an int64_t. */
	BAD(REQ_HEADER "99999999999999999999999,1,2\n", WL_FMT_AUTO,
	    "t.csv:2: column timestamp: expected epoch nanoseconds up to 9223372035999999999");
	BAD("timestamp,prompt_tokens\n1,2\n", WL_FMT_AUTO,
	    "t.csv:1: column output_tokens: expected in the header line (requests format: "
	    "timestamp,prompt_tokens,output_tokens)");
	BAD("timestamp,prompt_tokens,output_tokens,Timestamp\n", WL_FMT_AUTO,
	    "t.csv:1: column Timestamp: expected once in the header");
	BAD(REQ_HEADER, WL_FMT_AUTO, "t.csv:1: expected at least one row after the header");
	BAD("", WL_FMT_AUTO,
	    "t.csv:1: expected a header line or a JSON object, found an empty file");
	BAD("\n\n  \n", WL_FMT_AUTO, "t.csv:1: expected a header line or a JSON object");
	BAD(REQ_HEADER "1,2,3\n4,\0\0,\1\n", WL_FMT_AUTO,
	    "t.csv:3: expected text, found a NUL byte");
	BAD("\xff\xfe\x41,b\n1,2\n", WL_FMT_AUTO,
	    "t.csv:1: expected a text header line, found binary data");
	BAD("a,b,c\n1,2,3\n", WL_FMT_AUTO, "t.csv:1: expected a header line naming the columns");
	BAD("2023-11-16 18:15:46.6805900,374,44\n", WL_FMT_AUTO,
	    "t.csv:1: expected a header line naming the columns");
	BAD(REQ_HEADER "1,\"2,3\n", WL_FMT_AUTO, "t.csv:2: expected CSV");
	/* Azure header, CRLF: the bad row is physical line 4. */
	BAD("TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
	    "2023-11-16 18:15:46.6805900,374,44\r\n"
	    "2023-11-16 18:15:50.9951690,396,109\r\n"
	    "2023-11-16 18:15:5x.9951690,396,109\r\n", WL_FMT_AUTO,
	    "t.csv:4: column TIMESTAMP: expected a timestamp");
}
END_TEST

#define BKT_HEADER "prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests\n"

START_TEST(bad_buckets_prometheus)
{
	BAD(BKT_HEADER "0,100,0,50,3\n0,100,50,50,3\n", WL_FMT_AUTO,
	    "t.csv:3: column output_tokens_hi: expected more than output_tokens_lo (50), found 50");
	BAD(BKT_HEADER "100,10,0,50,3\n", WL_FMT_AUTO,
	    "t.csv:2: column prompt_tokens_hi: expected more than prompt_tokens_lo (100)");
	BAD(BKT_HEADER "+Inf,10,0,50,3\n", WL_FMT_AUTO,
	    "t.csv:2: column prompt_tokens_lo: expected a lower bound in tokens");
	BAD(BKT_HEADER "0,100,0,50,-1\n", WL_FMT_AUTO,
	    "t.csv:2: column requests: expected a request count >= 0");
	/* D21: every row counts 0 -- said with the file's last line and the column. */
	BAD(BKT_HEADER "0,1,0,1,0\n1,2,0,1,0\n", WL_FMT_AUTO,
	    "t.csv:3: column requests: expected at least one request in all, found none");
	/* D3, D17: a peak above 10^7 req/s, and a hexadecimal one (strtod takes 0x10). */
	BAD("prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests,peak_rps\n"
	    "0,1,0,1,5,1e300\n", WL_FMT_AUTO,
	    "t.csv:2: column peak_rps: expected requests per second from 0 to 10000000");
	BAD("prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests,peak_rps\n"
	    "0,1,0,1,5,0x10\n", WL_FMT_AUTO,
	    "t.csv:2: column peak_rps: expected requests per second");
	/* D3: a 1 ns window of 10^9 requests is 10^18 req/s. */
	BAD(PROM_HEADER "0,0.000000001,m,request_prompt_tokens,+Inf,1000000000\n"
	    "0,0.000000001,m,request_generation_tokens,+Inf,1000000000\n", WL_FMT_AUTO,
	    "t.csv: expected request rates of at most 10000000 per second, found a peak of 1e+18");
	BAD(BKT_HEADER "0,100,0,50,3\n200,300,0,50,1\n50,150,10,20,1\n", WL_FMT_AUTO,
	    "t.csv:4: column prompt_tokens_lo: expected a bucket that does not overlap "
	    "the bucket on line 2");
	BAD("prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests,"
	    "period_start\n", WL_FMT_AUTO,
	    "t.csv:1: column period_end: expected in the header line alongside period_start");
	BAD("prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests,"
	    "period_start,period_end\n0,10,0,10,1,100,50\n", WL_FMT_AUTO,
	    "t.csv:2: column period_end: expected a time after period_start, found '50'");

	/* Non-cumulative counts: le=1000 (line 3) counts 5, fewer than le=100's 6. */
	BAD(PROM_HEADER W1 "vllm:request_prompt_tokens,100,6\n"
	    W1 "vllm:request_prompt_tokens,1000,5\n" W1 "vllm:request_prompt_tokens,+Inf,7\n"
	    W1 "vllm:request_generation_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:3: column count: expected cumulative counts: le=1000 counts fewer requests "
	    "than le=100 over the windows of request_prompt_tokens");
	/* A count above the window's +Inf count (9 > 7), reported at the window's first row. */
	BAD(PROM_HEADER W1 "vllm:request_prompt_tokens,100,9\n"
	    W1 "vllm:request_prompt_tokens,+Inf,7\n"
	    W1 "vllm:request_generation_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:2: column count: expected cumulative counts: the window of "
	    "request_prompt_tokens starting on this line counts 9 below a bound but 7 at le=+Inf");
	BAD(PROM_HEADER W1 "vllm:num_requests_running,100,6\n", WL_FMT_AUTO,
	    "t.csv:2: column metric: expected [vllm:]request_prompt_tokens");
	/* No window of the prompt metric has +Inf: reported at its largest bound. */
	BAD(PROM_HEADER W1 "request_prompt_tokens,100,6\n"
	    W1 "request_prompt_tokens,1000,7\n"
	    W1 "request_generation_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:3: column le: expected a row with le=+Inf in every window of "
	    "request_prompt_tokens, found none");
	/* The second window (line 4) has a bound of its own and no +Inf. */
	BAD(PROM_HEADER W1 "request_prompt_tokens,100,6\n"
	    W1 "request_prompt_tokens,+Inf,7\n"
	    "60,120,m,request_prompt_tokens,200,6\n"
	    W1 "request_generation_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:4: column le: expected a row with le=+Inf in the window of "
	    "request_prompt_tokens starting on this line");
	/* Both windows end in +Inf, but only the first has le=100. */
	BAD(PROM_HEADER W1 "request_prompt_tokens,100,6\n"
	    W1 "request_prompt_tokens,+Inf,7\n"
	    "60,120,m,request_prompt_tokens,+Inf,6\n"
	    W1 "request_generation_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:4: column le: expected every window to have the same 2 le bounds, found 1 rows");
	BAD(PROM_HEADER W1 "request_prompt_tokens,+Inf,6\n" W1 "request_prompt_tokens,+Inf,7\n",
	    WL_FMT_AUTO, "t.csv:3: column le: expected one le=+Inf row per window and metric, "
	    "found another (the window's first row is line 2)");
	/* _count must match +Inf (11 vs 10). */
	BAD(PROM_HEADER W1 "request_prompt_tokens,+Inf,10\n" W1 "request_prompt_tokens_count,,11\n"
	    W1 "request_generation_tokens,+Inf,10\n", WL_FMT_AUTO,
	    "t.csv:4: column count: expected the request_prompt_tokens_count rows to match the "
	    "le=+Inf rows: they count 11 requests, le=+Inf 10");
	/* 4 requests above le=100 hold at least 101 tokens each: 404 > a _sum of 100. */
	BAD(PROM_HEADER W1 "request_prompt_tokens,100,6\n" W1 "request_prompt_tokens,+Inf,10\n"
	    W1 "request_prompt_tokens_sum,,100\n"
	    W1 "request_generation_tokens,+Inf,10\n", WL_FMT_AUTO,
	    "t.csv:5: column count: expected _sum rows the buckets can hold");
	/* D21: a count of 1e300 is too many requests, not "no request". */
	BAD(PROM_HEADER W1 "request_prompt_tokens,100,1\n" W1 "request_prompt_tokens,+Inf,1e300\n"
	    W1 "request_generation_tokens,+Inf,5\n", WL_FMT_AUTO,
	    "t.csv:4: column count: expected at most 100000000000 requests in all, found 1e+300");
	BAD(PROM_HEADER W1 "request_prompt_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:2: column metric: expected rows of both request_prompt_tokens and "
	    "request_generation_tokens");
	BAD(PROM_HEADER "60,0,m,request_prompt_tokens,+Inf,7\n", WL_FMT_AUTO,
	    "t.csv:2: column window_end: expected a time after window_start");
	BAD(PROM_HEADER W1 "request_prompt_tokens,+Inf,many\n", WL_FMT_AUTO,
	    "t.csv:2: column count: expected a request count >= 0, found 'many'");
}
END_TEST

START_TEST(bad_mooncake)
{
	BAD("{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": []}\n"
	    "{\"timestamp\": 5, \"input_length\": 10, \"hash_ids\": [1]}\n", WL_FMT_AUTO,
	    "t.csv:2: column output_length: expected an output token count (0..10000000), "
	    "found no such key");
	BAD("{\"timestamp\": 0, \"input_length\": -10, \"output_length\": 1, \"hash_ids\": []}\n",
	    WL_FMT_AUTO, "t.csv:1: column input_length: expected a prompt token count "
	    "(0..10000000), found '-10'");
	BAD("{\"timestamp\": 0, \"input_length\": 1e9, \"output_length\": 1, \"hash_ids\": []}\n",
	    WL_FMT_MOONCAKE, "t.csv:1: column input_length: expected a prompt token count");
	BAD("{\"timestamp\": \"x\", \"input_length\": 1, \"output_length\": 1, \"hash_ids\": []}\n",
	    WL_FMT_AUTO, "t.csv:1: column timestamp: expected a time in milliseconds from 0 to "
	    "9223372035999 (2262-04-11), found '\"x\"'");
	/* D2: 1e13 ms (year 2286) has more ns than an int64_t holds. */
	BAD("{\"timestamp\": 1e13, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": []}\n",
	    WL_FMT_AUTO, "t.csv:1: column timestamp: expected a time in milliseconds from 0 to "
	    "9223372035999");
	BAD("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1]}\n"
	    "\n{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [-1]}\n",
	    WL_FMT_AUTO, "t.csv:3: column hash_ids: expected block ids");
	BAD("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": []} x\n",
	    WL_FMT_AUTO, "t.csv:1: expected a JSON object, found '{");
	BAD("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": 7}\n",
	    WL_FMT_AUTO, "t.csv:1: column hash_ids: expected an array of block ids, found '7'");
	BAD("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": []}\n"
	    "{\"timestamp\": 0, \"input_len", WL_FMT_AUTO,
	    "t.csv:2: expected a JSON object, found '{\"timestamp\": 0, \"input_len'");
}
END_TEST

/* Auto-detection names what a file is when it is not a workload (the new user's D10). */
/*
 * D15: a line ended by a CR alone is a line (libcsv ends the record there),
 * also when the CR is the last byte of a 64 KiB read, and a CRLF cut in two
 * by the reads is one line end, not two.
 */
START_TEST(cr_only_line_numbers)
{
	BAD("timestamp,prompt_tokens,output_tokens\r1700000000,1,1\r1700000001,x,1\r",
	    WL_FMT_AUTO, "t.csv:3: column prompt_tokens: expected a prompt token count");
	BAD("\r\rtimestamp,prompt_tokens,output_tokens\r1,1,1\r2,x,1\r", WL_FMT_AUTO,
	    "t.csv:5: column prompt_tokens");
	for (int crlf = 0; crlf <= 1; crlf++) {
		/* The second row's line end straddles (or ends) the first 65536-byte read. */
		static const char head[] = "timestamp,prompt_tokens,output_tokens,pad\r\n1,1,1,";
		size_t total = 65536 + 64, pad = 65536 - strlen(head) - 1;
		char *text = malloc(total);
		size_t n = 0;
		memcpy(text, head, strlen(head));
		n = strlen(head);
		memset(text + n, 'a', pad);
		n += pad;
		text[n++] = '\r';			/* byte 65535: the read's last */
		if (crlf)
			text[n++] = '\n';		/* the next read's first */
		n += (size_t)snprintf(text + n, total - n, "2,x,1,b\r\n");
		expect_error(text, n, WL_FMT_AUTO, INGEST_ERR_DATA, "t.csv:3: column prompt_tokens");
		free(text);
	}
}
END_TEST

START_TEST(not_a_workload_file)
{
	BAD("[{\"id\": \"a1\", \"conversations\": []}]\n", WL_FMT_AUTO,
	    "t.csv:1: expected a workload file, found a JSON array");
	BAD("{\"status\": \"success\", \"data\": {\"result\": []}}\n", WL_FMT_AUTO,
	    "t.csv:1: expected a workload file, found a Prometheus HTTP API response");
	BAD("{\"ts\": 1, \"usage\": {}}\n", WL_FMT_AUTO,
	    "t.csv:1: expected Mooncake JSON lines (keys timestamp, input_length, output_length, "
	    "hash_ids), found keys 'ts', 'usage'");
	BAD("{\n  \"timestamp\": 0\n}\n", WL_FMT_AUTO,
	    "t.csv:1: expected JSON lines (one whole JSON object per line");
	BAD("# HELP vllm:num_requests_running Number of requests.\n", WL_FMT_AUTO,
	    "t.csv:1: expected a workload file, found Prometheus text exposition");
	BAD("timestamp;prompt_tokens;output_tokens\n1;2;3\n", WL_FMT_AUTO,
	    "t.csv:1: expected comma-separated columns, found 'timestamp;prompt_tokens;"
	    "output_tokens' separated by ';'");
	BAD("timestamp\tprompt_tokens\toutput_tokens\n", WL_FMT_AUTO,
	    "t.csv:1: expected comma-separated columns");
}
END_TEST

/* D12: a record or JSON line past 1 MiB is refused before it is buffered whole. */
START_TEST(long_lines)
{
	size_t big = (1u << 20) + 100;
	char *text = malloc(big + 200);
	int n = snprintf(text, 200, "timestamp,prompt_tokens,output_tokens,x\n1,1,1,");
	memset(text + n, 'a', big);
	text[n + big] = '\n';
	expect_error(text, (size_t)n + big + 1, WL_FMT_AUTO, INGEST_ERR_DATA,
		     "t.csv:2: expected a CSV record of at most 1048576 bytes, found a longer one");
	/* The same in the header: a 1 MiB column name. */
	memset(text, 'b', big);
	memcpy(text, "timestamp,prompt_tokens,output_tokens,", 38);
	expect_error(text, big, WL_FMT_AUTO, INGEST_ERR_DATA,
		     "t.csv:1: expected a CSV record of at most 1048576 bytes");
	n = snprintf(text, 200, "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, "
		     "\"hash_ids\": [");
	for (size_t i = (size_t)n; i + 2 < big; i += 2)
		memcpy(text + i, "1,", 2);
	expect_error(text, big, WL_FMT_AUTO, INGEST_ERR_DATA,
		     "t.csv:1: expected a line of at most 1048576 bytes, found a longer one");
	free(text);
}
END_TEST

START_TEST(bad_files)
{
	struct workload_summary s;
	struct wl_hist *h;
	char err[512];
	char want[4200];
	struct {
		const char *file, *message;
	} cases[] = {
		{ "bad_empty.csv",
		  ":1: expected a header line or a JSON object, found an empty file" },
		{ "bad_binary.csv", ":3: expected text, found a NUL byte" },
		{ "bad_negative.csv", ":4: column GeneratedTokens: expected an output token "
				      "count >= 0, found '-1'" },
		{ "bad_mooncake_key.jsonl", ":2: column output_length: expected" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = fixture(cases[i].file);
		ck_assert_int_eq(ingest_file(path, NULL, &s, &h, err, sizeof(err)),
				 INGEST_ERR_DATA);
		ck_assert_ptr_null(h);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].message);
		ck_assert_msg(!strncmp(err, want, strlen(want)), "got '%s' want '%s'", err, want);
	}
	/* I/O failures are not bad data. */
	ck_assert_int_eq(ingest_file(fixture("no-such-file.csv"), NULL, &s, &h, err,
				     sizeof(err)), INGEST_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_int_eq(ingest_file(fixture(""), NULL, &s, &h, err, sizeof(err)),
			 INGEST_ERR_IO);
	/* A bad window is a usage error. */
	struct ingest_opts o = INGEST_OPTS_INIT;
	o.window_s = -1;
	ck_assert_int_eq(ingest_file(fixture("tiny_requests.csv"), &o, &s, &h, err, sizeof(err)),
			 INGEST_ERR_USAGE);
	/* A too-small error buffer truncates the message but stays terminated. */
	char tiny[8];
	ck_assert_int_eq(ingest_file(fixture("bad_empty.csv"), NULL, &s, &h, tiny, sizeof(tiny)),
			 INGEST_ERR_DATA);
	ck_assert_uint_eq(strlen(tiny), 7);
}
END_TEST

START_TEST(wrong_explicit_format)
{
	/* Forcing a format whose columns are absent names the first missing one. */
	char text[] = REQ_HEADER "1,2,3\n";
	expect_error(text, sizeof(text) - 1, WL_FMT_BUCKETS, INGEST_ERR_DATA,
		     "t.csv:1: column prompt_tokens_lo: expected in the header line (buckets");
	expect_error(text, sizeof(text) - 1, WL_FMT_MOONCAKE, INGEST_ERR_DATA,
		     "t.csv:1: expected a JSON object");
}
END_TEST

/* ---- flat memory ------------------------------------------------------ */

static long max_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int progress_calls;
static uint64_t progress_last;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	(void)total;
	progress_calls++;
	progress_last = done;
}

START_TEST(flat_memory)
{
	/*
	 * Generated request logs, 100 requests a second with varied lengths:
	 * a warm-up import of 100,000 rows, then 1,000,000 rows (~24 MB).
	 * Nothing is kept per row, so the second import may not raise the peak
	 * RSS by more than 2 MiB (the 10,000 s span needs 667 slots of 15 s).
	 * A leak of even 8 bytes a row would add 7 MiB.
	 */
	struct ingest_opts opt = INGEST_OPTS_INIT;
	opt.progress = on_progress;
	struct workload_summary s;
	struct wl_hist *h;
	char err[512];
	long rss[2];
	long rows[2] = { 100000, 1000000 };
	for (int run = 0; run < 2; run++) {
		FILE *f = tmpfile();
		ck_assert_ptr_nonnull(f);
		fputs("timestamp,prompt_tokens,output_tokens\n", f);
		int64_t sum = 0;
		for (long i = 0; i < rows[run]; i++) {
			long p = (i * 7919) % 32768, o = (i * 104729) % 4096;
			sum += p;
			fprintf(f, "%ld.%02ld,%ld,%ld\n", 1700000000 + i / 100, i % 100, p, o);
		}
		long size = ftell(f);
		rewind(f);
		progress_calls = 0;
		ck_assert_int_eq(ingest_stream(f, "gen.csv", (uint64_t)size, &opt, &s, &h, err,
					       sizeof(err)), INGEST_OK);
		rss[run] = max_rss_kib();
		fclose(f);
		ck_assert_int_eq(s.requests, rows[run]);
		ck_assert_int_eq(s.prompt_tokens_sum, sum);
		/* First row at .00 s, last at (rows-1)/100 s. */
		ck_assert_double_eq_tol(s.span_s, (double)(rows[run] - 1) / 100, 1e-6);
		/* Progress about every MiB, and once at the end with every byte. */
		ck_assert_int_ge(progress_calls, size / (1 << 20));
		ck_assert_uint_eq(progress_last, (uint64_t)size);
		wl_hist_free(h);
		fprintf(stderr, "flat_memory: %ld rows (%ld bytes): max RSS %ld KiB\n",
			rows[run], size, rss[run]);
	}
	ck_assert_int_lt(rss[1] - rss[0], 2048);
}
END_TEST

static Suite *ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("ingest");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sha256_vectors);
	tcase_add_test(tc, timestamps);
	tcase_add_test(tc, timestamp_units_and_spans);
	tcase_add_test(tc, azure_conversation);
	tcase_add_test(tc, azure_code);
	tcase_add_test(tc, mooncake_traces);
	tcase_add_test(tc, tiny_requests);
	tcase_add_test(tc, tiny_buckets);
	tcase_add_test(tc, tiny_prometheus);
	tcase_add_test(tc, prometheus_any_order_filter_sums);
	tcase_add_test(tc, tiny_mooncake);
	tcase_add_test(tc, bad_requests);
	tcase_add_test(tc, bad_buckets_prometheus);
	tcase_add_test(tc, bad_mooncake);
	tcase_add_test(tc, cr_only_line_numbers);
	tcase_add_test(tc, not_a_workload_file);
	tcase_add_test(tc, long_lines);
	tcase_add_test(tc, bad_files);
	tcase_add_test(tc, wrong_explicit_format);
	tcase_add_test(tc, flat_memory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ingest_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
