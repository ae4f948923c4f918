/*
 * test_calibrate.c - Check suite for planner/calibrate.c: the error
 * summary (median and p90 absolute percentage error) on rows whose errors
 * are set by hand, the tree of profiles (which nodes exist, the fallback
 * order, the shrinkage of a small family toward its parent), the fit
 * recovering known parameters from synthetic rows generated with them, the
 * spread and a cross-validation fold.
 *
 * Model configs are read from $PIQPLAN_MODELS_DIR; the GPU rows are
 * seeds/gpus.csv by hand.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/calibrate.h"
#include "planner/model.h"
#include "testutil.h"

#define GIB 1073741824.0
#define MIB 1048576.0


static struct model_arch llama8b, mixtral, gptoss;


static void setup(void)
{
	load("meta-llama--Llama-3.1-8B.json", &llama8b);
	load("mistralai--Mixtral-8x7B-v0.1.json", &mixtral);
	load("openai--gpt-oss-120b.json", &gptoss);
}

static struct gpu_spec h100(void)
{
	struct gpu_spec g = { 0 };
	snprintf(g.id, sizeof(g.id), "H100-SXM-80GB");
	snprintf(g.arch, sizeof(g.arch), "Hopper");
	snprintf(g.vendor, sizeof(g.vendor), "nvidia");
	g.memory_bytes = 81559 * MIB;
	g.mem_bw_bytes_per_s = 3.35e12;
	g.bf16_flops = 989e12;
	g.fp8_flops = 1979e12;
	g.link_bytes_per_s = 450e9;
	g.nvlink_domain_gpus = 8;
	return g;
}

static struct gpu_spec mi300x(void)
{
	struct gpu_spec g = { 0 };
	snprintf(g.id, sizeof(g.id), "MI300X-192GB");
	snprintf(g.arch, sizeof(g.arch), "CDNA3");
	snprintf(g.vendor, sizeof(g.vendor), "amd");
	g.memory_bytes = 196288 * MIB;
	g.mem_bw_bytes_per_s = 5.3e12;
	g.bf16_flops = 1307e12;
	g.fp8_flops = 2615e12;
	g.link_bytes_per_s = 64e9;
	g.nvlink_domain_gpus = 8;
	return g;
}

static struct perf_params params(double bw, double fl, double ov_ms, double moe_bw,
				 double layer_us)
{
	struct perf_params p = {
		.bw_efficiency = bw, .flops_efficiency = fl, .attn_efficiency = 0.5,
		.kv_bw_efficiency = 0.5,
		.moe_bw_efficiency = moe_bw, .layer_latency_s = layer_us * 1e-6,
		.moe_layer_latency_s = 30e-6, .step_overhead_s = ov_ms / 1e3,
		.seq_overhead_s = 10e-6, .request_overhead_s = 2e-3,
	};
	return p;
}

/* A vLLM-like engine whose starting point is p. */
static struct engine_profile profile(struct perf_params p)
{
	struct engine_profile e = { 0 };
	snprintf(e.id, sizeof(e.id), "test");
	e.gpu_memory_utilization = 0.92;
	e.max_num_seqs_large = e.max_num_seqs_small = 1024;
	e.max_num_batched_tokens_large = e.max_num_batched_tokens_small = 8192;
	e.block_size_tokens = 16;
	e.non_torch_tp1_bytes = 0.15 * GIB;
	e.non_torch_tpn_bytes = 0.4 * GIB;
	e.cuda_graph_bytes = 0.5 * GIB;
	e.activation_bytes_per_token_dense = 0.15 * GIB / 1000;
	e.activation_bytes_per_token_moe = 0.3 * GIB / 1000;
	e.link_efficiency = 0.82;
	e.allreduce_alpha_s = 10e-6;
	e.perf = p;
	return e;
}

static struct calib_row row(const struct model_arch *m, struct gpu_spec g, int tp,
			    enum calib_load load, double value, double isl, double osl)
{
	struct calib_row r;
	memset(&r, 0, sizeof(r));
	r.model = m;
	r.gpu = g;
	r.layout.tp = tp;
	r.layout.pp = 1;
	r.layout.dp = 1;
	r.layout.precision = m == &gptoss ? PREC_NATIVE : PREC_BF16; /* 120B: mxfp4 experts */
	r.layout.kv_elem_bytes = 2;
	r.load = load;
	r.load_value = value;
	r.isl = isl;
	r.osl = osl;
	return r;
}

/* Measured values: the prediction of e's starting point, divided by k. */
static void measure(struct calib_row *r, const struct engine_profile *e, double k)
{
	struct calib_pred p;
	calib_prepare(r, e);
	ck_assert_msg(calib_predict(r, &e->perf, &p), "row does not fit: %s", r->inst.reason);
	r->output_tok_s = p.output_tok_s / k;
	r->tpot_s = p.tpot_s;
	r->ttft_s = p.ttft_s > 0 ? p.ttft_s : 0;
	r->prepared = 0;
}

/*
 * Median and p90 by hand: three rows measured at 1/1.1, 1/1.2 and 1/1.4 of
 * the prediction have absolute percentage errors 10, 20 and 40 %
 * (|p - p/k| / (p/k) = k - 1). Median 20 %; p90 at position 0.9 x 2 = 1.8
 * between 20 and 40: 20 + 0.8 x 20 = 36 %.
 */
START_TEST(test_error_summary_by_hand)
{
	struct engine_profile e = profile(params(0.75, 0.5, 1.0, 0.4, 20));
	struct calib_row r[3];
	const double k[3] = { 1.1, 1.2, 1.4 };
	struct calib_error err;

	for (int i = 0; i < 3; i++) {
		r[i] = row(&llama8b, h100(), 1, CALIB_CONCURRENCY, 8, 500, 200);
		measure(&r[i], &e, k[i]);
		r[i].ttft_s = 0;
	}
	calib_evaluate(r, 3, NULL, &e, &err);
	ck_assert_int_eq(err.rows, 3);
	ck_assert_int_eq(err.unfit, 0);
	ck_assert_int_eq(err.tok_s.n, 3);
	ck_assert_rel(err.tok_s.median_ape, 20.0, 1e-9);
	ck_assert_rel(err.tok_s.p90_ape, 36.0, 1e-9);
	ck_assert_int_eq(err.tpot.n, 3);
	ck_assert(err.tpot.p90_ape < 1e-9);
	ck_assert_int_eq(err.ttft.n, 0);		/* not measured */
	/* Loss: TPOT exact, so each row is (ln k)^2 / 2 (two metrics, weight 1 each). */
	double want = 0;
	for (int i = 0; i < 3; i++)
		want += log(k[i]) * log(k[i]) / 2 / 3;
	ck_assert_rel(err.loss, want, 1e-9);
}
END_TEST

/* A layout that cannot fit (Llama-3.1-8B at TP 3) scores the fixed miss of 4. */
START_TEST(test_unfit_row_penalty)
{
	struct engine_profile e = profile(params(0.75, 0.5, 1.0, 0.4, 20));
	struct calib_row r = row(&llama8b, h100(), 3, CALIB_OFFLINE, 100, 100, 100);
	struct calib_pred p;
	struct calib_error err;

	r.output_tok_s = 1000;
	ck_assert_int_eq(calib_prepare(&r, &e), 0);
	ck_assert_int_eq(calib_predict(&r, &e.perf, &p), 0);
	calib_evaluate(&r, 1, NULL, &e, &err);
	ck_assert_int_eq(err.unfit, 1);
	ck_assert_int_eq(err.tok_s.n, 0);
	ck_assert_rel(calib_row_loss(&r, &p), 4.0, 1e-12);
	ck_assert_str_eq(calib_param_name(CALIB_STEP_OVERHEAD), "step_overhead_ms");
	ck_assert_str_eq(calib_param_name(CALIB_MOE_BW_EFFICIENCY), "moe_bw_efficiency");
}
END_TEST

/* The rows of a synthetic engine: dense and MoE on H100, a few on MI300X. */
static int synthetic_rows(struct calib_row *r, struct gpu_spec g, int dense_rows, int moe_rows)
{
	int n = 0;
	static const double conc[] = { 1, 8, 64, 256 };
	for (int i = 0; i < dense_rows; i++)
		r[n++] = i % 5 == 4 ? row(&llama8b, g, 1, CALIB_OFFLINE, 500, 2000, 100) :
			 row(&llama8b, g, 1, CALIB_CONCURRENCY, conc[i % 4], 500 + 100 * i, 300);
	for (int i = 0; i < moe_rows; i++)
		r[n++] = i % 5 == 4 ? row(&gptoss, g, 1, CALIB_OFFLINE, 500, 2000, 100) :
			 row(&gptoss, g, 1, CALIB_CONCURRENCY, conc[i % 4], 400 + 100 * i, 300);
	return n;
}

/*
 * H100 rows (dense, MoE) measured at the start's prediction and amd_moe
 * MI300X MoE rows measured amd_slower x slower; *first_amd is where those
 * begin. Returns the row count.
 */
static int two_vendors(struct calib_row *r, const struct engine_profile *start, int dense,
		       int moe, int amd_moe, double amd_slower, int *first_amd)
{
	int n = synthetic_rows(r, h100(), dense, moe);
	*first_amd = n;
	n += synthetic_rows(r + n, mi300x(), 0, amd_moe);
	for (int i = 0; i < n; i++)
		measure(&r[i], start, i >= *first_amd ? amd_slower : 1.0);
	return n;
}

/*
 * The tree and its fallback: 20 dense + 20 MoE H100 rows and 3 MoE MI300X
 * rows give the engine (and its dense/MoE children: both classes have >= 3
 * rows), nvidia, Hopper and Hopper x dense/MoE, and amd and CDNA3 (3 rows:
 * CALIB_NODE_MIN_ROWS) without class children (no dense CDNA3 rows). A dense
 * query on CDNA3 takes the CDNA3 profile but says it has no dense rows; a
 * query on a family without rows (Blackwell) takes the vendor's.
 */
START_TEST(test_tree_and_fallback)
{
	struct engine_profile start = profile(params(0.75, 0.5, 1.0, 0.4, 20));
	struct calib_row r[64];
	int first_amd;
	int n = two_vendors(r, &start, 20, 20, 3, 1.0, &first_amd);
	struct engine_profile *fit = malloc(sizeof(*fit));
	calib_fit_tree(r, n, NULL, &start, fit);

	const char *want[] = { "test", "test x dense", "test x MoE", "test x nvidia",
			       "test x nvidia x dense", "test x nvidia x MoE", "test x Hopper",
			       "test x Hopper x dense", "test x Hopper x MoE", "test x amd",
			       "test x CDNA3" };
	ck_assert_int_eq(fit->nprofiles, 11);
	for (int k = 0; k < fit->nprofiles; k++) {
		char name[64];
		perf_profile_name("test", &fit->profiles[k], name, sizeof(name));
		ck_assert_str_eq(name, want[k]);
	}
	ck_assert_int_eq(fit->profiles[0].rows, 43);
	ck_assert_int_eq(fit->profiles[10].rows, 3);
	ck_assert_int_eq(fit->profiles[10].rows_moe, 3);

	struct perf_band band;
	struct gpu_spec g = h100();
	engine_perf_select(fit, &g, 1, &band);
	ck_assert_str_eq(band.profile, "test x Hopper x MoE");
	ck_assert_int_eq(band.validated, 1);
	g = mi300x();
	engine_perf_select(fit, &g, 0, &band);
	ck_assert_str_eq(band.profile, "test x CDNA3");
	ck_assert_int_eq(band.validated, 0);
	ck_assert_str_eq(band.note, "no dense measurements of test on CDNA3: test x CDNA3 profile "
			 "used");
	snprintf(g.arch, sizeof(g.arch), "CDNA4");
	engine_perf_select(fit, &g, 1, &band);
	ck_assert_str_eq(band.profile, "test x amd");
	ck_assert_str_eq(band.note, "no measurements of test on CDNA4: test x amd profile used");
	/* No fitted profile at all: the starting point, and it says so. */
	engine_perf_select(&start, &g, 1, &band);
	ck_assert_int_eq(band.rows, 0);
	ck_assert_str_eq(band.profile, "test");
	free(fit);
}
END_TEST

/*
 * Shrinkage: rows measured at exactly the start on H100 and 3 MI300X rows
 * measured 2x slower. Unshrunk, the CDNA3 profile would halve its
 * throughput to match (error 0); shrunk toward its parent with three rows
 * it moves only part of the way, so its rows keep an error between 5 and
 * 90 % -- and the H100 rows stay near exact.
 */
START_TEST(test_small_family_is_shrunk)
{
	struct engine_profile start = profile(params(0.75, 0.5, 1.0, 0.4, 20));
	struct calib_row r[64];
	int first_amd;
	int n = two_vendors(r, &start, 10, 20, 3, 2.0, &first_amd);
	struct engine_profile *fit = malloc(sizeof(*fit));
	calib_fit_tree(r, n, NULL, &start, fit);
	unsigned char *amd = calloc((size_t)n, 1), *nv = calloc((size_t)n, 1);
	for (int i = 0; i < n; i++) {
		amd[i] = i >= first_amd;
		nv[i] = !amd[i];
	}
	struct calib_error ea, en;
	calib_evaluate(r, n, amd, fit, &ea);
	calib_evaluate(r, n, nv, fit, &en);
	ck_assert_msg(ea.tok_s.median_ape > 5 && ea.tok_s.median_ape < 90, "CDNA3 %.1f %%",
		      ea.tok_s.median_ape);
	ck_assert_msg(en.tok_s.median_ape < 5, "H100 %.1f %%", en.tok_s.median_ape);
	free(amd);
	free(nv);
	free(fit);
}
END_TEST

/*
 * Recovery: rows generated with known parameters (bandwidth 0.70, FLOPs
 * 0.45, step overhead 0.8 ms, expert bandwidth 0.30, 25 us per layer) --
 * decode-bound closed loops at 1-256 clients, compute-heavy long prompts,
 * dense and MoE -- and a fit started elsewhere (0.85, 0.60, 0.3 ms, 0.50,
 * 10 us) must come back to them as far as the rows see them: the loss
 * falls a hundredfold, the throughput error to under 2 %, the expert
 * bandwidth to within 10 % and the dense bandwidth to within 15 %.
 */
START_TEST(test_fit_recovers_known_parameters)
{
	struct engine_profile truth = profile(params(0.70, 0.45, 0.8, 0.30, 25));
	struct engine_profile start = profile(params(0.85, 0.60, 0.3, 0.50, 10));
	struct calib_row r[64];
	int n = synthetic_rows(r, h100(), 15, 15);
	for (int i = 0; i < n; i++)
		measure(&r[i], &truth, 1.0);

	struct engine_profile *fit = malloc(sizeof(*fit));
	struct calib_error before, after;
	calib_evaluate(r, n, NULL, &start, &before);
	int evals = calib_fit_tree(r, n, NULL, &start, fit);
	calib_evaluate(r, n, NULL, fit, &after);
	ck_assert(evals > 0);
	ck_assert_msg(after.loss < before.loss / 100, "loss %g -> %g", before.loss, after.loss);
	ck_assert_msg(after.tok_s.median_ape < 2.0, "median %.2f %%", after.tok_s.median_ape);
	const struct perf_params *got = &fit->profiles[0].p;
	ck_assert_rel(got->moe_bw_efficiency, 0.30, 0.10);
	/* The dense bandwidth trades against the per-layer latency at small batches. */
	ck_assert_rel(got->bw_efficiency, 0.70, 0.15);
	free(fit);
}
END_TEST

/*
 * Cross-validation and the spread: holding out the MI300X fold, its rows
 * are predicted by a tree without them (no CDNA3, no amd node: the engine's
 * profile), so their residuals are ln(2) = 0.693 off where the rows are 2x
 * slower than the start -- exactly, since the H100 rows at the start leave
 * the engine node there. calib_spread then gives a CDNA3 node those
 * residuals' p10 and p90.
 */
START_TEST(test_cross_validation_and_spread)
{
	struct engine_profile start = profile(params(0.75, 0.5, 1.0, 0.4, 20));
	struct calib_row r[64];
	int first_amd;
	int n = two_vendors(r, &start, 10, 10, 4, 2.0, &first_amd);
	int *fold = malloc((size_t)n * sizeof(int));
	double *resid = malloc((size_t)n * sizeof(double));
	for (int i = 0; i < n; i++)
		fold[i] = i >= first_amd ? 1 : -1;
	ck_assert_int_eq(calib_cross_validate(r, n, fold, 2, &start, resid, NULL), 1);
	for (int i = 0; i < n; i++)
		if (i >= first_amd)
			ck_assert_rel(resid[i], log(2.0), 0.02);
		else
			ck_assert(isnan(resid[i]));
	struct engine_profile *fit = malloc(sizeof(*fit));
	calib_fit_tree(r, n, NULL, &start, fit);
	calib_spread(r, n, resid, NULL, 1, fit);
	const struct perf_profile *cdna3 = &fit->profiles[fit->nprofiles - 1];
	ck_assert_str_eq(cdna3->scope_name, "CDNA3");
	ck_assert_rel(cdna3->log_p10, log(2.0), 0.02);
	ck_assert_rel(cdna3->log_p90, log(2.0), 0.02);
	ck_assert_int_eq(cdna3->out_of_sample, 1);
	free(fit);
	free(fold);
	free(resid);
}
END_TEST

static Suite *calibrate_suite(void)
{
	Suite *s = suite_create("calibrate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_error_summary_by_hand);
	tcase_add_test(tc, test_unfit_row_penalty);
	tcase_add_test(tc, test_tree_and_fallback);
	tcase_add_test(tc, test_small_family_is_shrunk);
	tcase_add_test(tc, test_fit_recovers_known_parameters);
	tcase_add_test(tc, test_cross_validation_and_spread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calibrate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
