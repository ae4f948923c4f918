/*
 * test_plan.c - pools for long-context isolation and the ranking of
 * candidates, on hand-made histograms whose figures are worked out below.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/fleet.h"
#include "planner/plan.h"
#include "testutil.h"

/*
 * Two buckets:
 *  A: prompt [0,1024) x output [0,256): 90 requests, 45,000 prompt and 9,000 output tokens
 *     -> totals between 0 and 1023 + 255 = 1,278;
 *  B: prompt [8192,16384) x output [256,512): 10 requests, 100,000 and 3,000 tokens
 *     -> totals between 8,448 and 16,383 + 511 = 16,894.
 */
static const struct wl_bucket two[] = {
	{ 0, 1024, 0, 256, 90, 45000, 9000, 0 },
	{ 8192, 16384, 256, 512, 10, 100000, 3000, 0 },
};

START_TEST(max_model_len_rounding)
{
	ck_assert_int_eq(plan_max_model_len(6347, 131072), 7168);	/* next multiple of 1,024 */
	ck_assert_int_eq(plan_max_model_len(100, 131072), 2048);	/* at least 2,048 */
	ck_assert_int_eq(plan_max_model_len(200000, 131072), 131072);	/* the model's limit */
	ck_assert_int_eq(plan_max_model_len(8192, 0), 8192);
}
END_TEST

START_TEST(shared_pool)
{
	struct pool_traffic p[2];
	ck_assert_int_eq(plan_pools(two, 2, 0, 6347, 131072, p), 1);
	ck_assert_double_eq_tol(p[0].share, 1.0, 1e-12);
	/* (45,000 + 100,000) / 100 = 1,450; (9,000 + 3,000) / 100 = 120 */
	ck_assert_double_eq_tol(p[0].isl, 1450, 1e-9);
	ck_assert_double_eq_tol(p[0].osl, 120, 1e-9);
	ck_assert_int_eq(p[0].max_model_len, 7168);
	/*
	 * Prompt variability, each bucket spread evenly over its width:
	 * E[x²] of A = 500² + 1024²/12 = 337,381.33; of B = 10,000² + 8192²/12
	 * = 105,592,405.33; over both (90 and 10 requests) 10,862,883.7;
	 * cv² = 10,862,883.7 / 1450² - 1 = 4.16665.
	 */
	ck_assert_double_eq_tol(p[0].prompt_cv2, 4.16665, 1e-4);
	/* p99 prompt: rank 99 of 100 is the 9th of B's 10, 8,192 + 0.9 x 8,191 = 15,563.9. */
	ck_assert_double_eq_tol(p[0].isl_p99, 15563.9, 1.0);
}
END_TEST

START_TEST(split_pools)
{
	struct pool_traffic p[2];
	ck_assert_int_eq(plan_pools(two, 2, 4096, 6347, 131072, p), 2);
	/* Short: bucket A only (its largest total 1,278 < 4,096). */
	ck_assert_double_eq_tol(p[0].share, 0.9, 1e-12);
	ck_assert_double_eq_tol(p[0].isl, 500, 1e-9);
	ck_assert_double_eq_tol(p[0].osl, 100, 1e-9);
	ck_assert_int_eq(p[0].max_model_len, 4096);
	ck_assert_int_eq(p[0].max_total_tokens, 4096);
	/* Short pool: A alone, cv² = 337,381.33 / 500² - 1 = 0.349525. */
	ck_assert_double_eq_tol(p[0].prompt_cv2, 0.349525, 1e-5);
	/* Long: bucket B, 10,000 prompt and 300 output tokens on average. */
	ck_assert_double_eq_tol(p[1].share, 0.1, 1e-12);
	ck_assert_double_eq_tol(p[1].isl, 10000, 1e-9);
	ck_assert_double_eq_tol(p[1].osl, 300, 1e-9);
	/*
	 * p99.9 of totals spread evenly over [8,448, 16,894]:
	 * 8,448 + 0.999 x 8,446 = 16,885.6 -> next multiple of 1,024 = 17,408.
	 */
	ck_assert_int_eq(p[1].max_model_len, 17408);
	ck_assert_int_eq(p[1].min_total_tokens, 4096);
	/* A threshold below every bucket leaves the short pool empty. */
	ck_assert_int_eq(plan_pools(two, 2, 1000, 6347, 131072, p), 0);
}
END_TEST

START_TEST(thresholds)
{
	int64_t t[16];
	/* 4,096, 8,192 and 16,384 leave bucket B (10 %) in the long pool; 32,768 leaves none. */
	ck_assert_int_eq(plan_thresholds(two, 2, 131072, t, 16), 3);
	ck_assert_int_eq(t[0], 4096);
	ck_assert_int_eq(t[1], 8192);
	ck_assert_int_eq(t[2], 16384);
	/* The model's context caps the search. */
	ck_assert_int_eq(plan_thresholds(two, 2, 8192, t, 16), 2);
}
END_TEST

static const char llama8b[] =
	"{\"model_type\": \"llama\", \"hidden_size\": 4096, \"intermediate_size\": 14336,"
	" \"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8,"
	" \"vocab_size\": 128256, \"max_position_embeddings\": 131072,"
	" \"tie_word_embeddings\": false}";

static void h100(struct gpu_spec *g)
{
	/* gpus.csv: H100-SXM-80GB */
	memset(g, 0, sizeof(*g));
	snprintf(g->id, sizeof(g->id), "H100-SXM-80GB");
	g->memory_bytes = 81559.0 * 1048576;
	g->mem_bw_bytes_per_s = 3.35e12;
	g->bf16_flops = 989e12;
	g->fp8_flops = 1979e12;
	g->link_bytes_per_s = 450e9;
	g->nvlink_domain_gpus = 8;
}

static void vllm(struct engine_profile *e)
{
	/* seeds/engines.csv defaults for vllm (rounded), enough to size and time. */
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "vllm");
	e->gpu_memory_utilization = 0.92;
	e->max_num_seqs_large = 1024;
	e->max_num_seqs_small = 256;
	e->large_gpu_min_bytes = 70.0 * 1073741824;
	e->max_num_batched_tokens_large = 8192;
	e->max_num_batched_tokens_small = 2048;
	e->block_size_tokens = 16;
	e->non_torch_tp1_bytes = 0.15 * 1073741824;
	e->non_torch_tpn_bytes = 0.4 * 1073741824;
	e->cuda_graph_bytes = 0.5 * 1073741824;
	e->activation_bytes_per_token_dense = 0.15 * 1073741824 / 1000;
	e->activation_bytes_per_token_moe = 0.3 * 1073741824 / 1000;
	e->perf.bw_efficiency = 0.75;
	e->perf.flops_efficiency = 0.5;
	e->perf.attn_efficiency = 0.5;
	e->perf.kv_bw_efficiency = 0.5;
	e->perf.moe_bw_efficiency = 0.4;
	e->perf.layer_latency_s = 20e-6;
	e->perf.moe_layer_latency_s = 40e-6;
	e->perf.step_overhead_s = 1e-3;
	e->perf.seq_overhead_s = 10e-6;
	e->perf.request_overhead_s = 2e-3;
	e->allreduce_alpha_s = 10e-6;
	e->link_efficiency = 0.82;
}

START_TEST(ranking_and_costs)
{
	struct model_arch m;
	char err[200];
	ck_assert_int_eq(model_arch_parse(llama8b, strlen(llama8b), &m, err, sizeof(err)), 0);
	struct plan_gpu gpus[2];
	memset(gpus, 0, sizeof(gpus));
	h100(&gpus[0].spec);
	gpus[0].usd_per_gpu_hour = 2.99;
	/* The same GPU at twice the price must never win. */
	h100(&gpus[1].spec);
	snprintf(gpus[1].spec.id, sizeof(gpus[1].spec.id), "H100-pricey");
	gpus[1].usd_per_gpu_hour = 5.98;
	struct engine_profile e;
	vllm(&e);
	struct pool_traffic t = { .share = 1.0, .isl = 1000, .osl = 200, .max_model_len = 4096 };
	struct plan_params p;
	memset(&p, 0, sizeof(p));
	p.slo.ttft_s = 2;
	p.slo.tpot_s = 0.1;
	p.slo.utilisation = 0.7;
	p.redundancy = 1;
	p.start_quarter = 2027 * 4;
	p.quarters = 2;
	p.demand_rps[0] = 50;
	p.demand_rps[1] = 100;
	p.allow_fp8 = 1;

	struct candidate *c = NULL;
	int n = plan_pool(&m, gpus, 2, &e, &t, &p, &c);
	ck_assert_int_eq(n, plan_candidate_count(&m, gpus, 2, &p));
	ck_assert_int_gt(n, 0);
	ck_assert(c[0].fits);
	ck_assert_int_eq(c[0].gpu, 0);
	for (int i = 1; i < n; i++) {
		/* Feasible first, by total cost. */
		ck_assert(c[i - 1].fits >= c[i].fits);
		if (c[i].fits)
			ck_assert(c[i - 1].total_usd <= c[i].total_usd);
	}
	for (int i = 0; i < n && c[i].fits; i++) {
		double total = 0;
		for (int q = 0; q < 2; q++) {
			/* instances = ceil(demand / rate) + 1 spare */
			int64_t want = (int64_t)ceil(p.demand_rps[q] / c[i].rate_rps - 1e-9) + 1;
			ck_assert_int_eq(c[i].instances[q], want);
			total += (double)want * c[i].inst.gpus * gpus[c[i].gpu].usd_per_gpu_hour *
				 quarter_hours(p.start_quarter + q);
		}
		ck_assert_double_eq_tol(c[i].total_usd, total, 1e-6 * total);
		/* Demand doubles; instances never shrink. */
		ck_assert_int_ge(c[i].instances[1], c[i].instances[0]);
	}
	/*
	 * Pollaczek-Khinchine: the queueing part of TTFT scales with 1 + cv².
	 * At half the capacity rate mu (rho = 0.5) the M/D/1 wait is
	 * rho / (2 mu (1 - rho)) = 1 / (2 mu); with cv² = 1 it doubles, so the
	 * difference of the two TTFTs is exactly that wait.
	 */
	struct instance a = c[0].inst, b = c[0].inst;
	a.prompt_cv2 = 0;
	b.prompt_cv2 = 1;
	struct load_point la, lb;
	instance_open_loop(&a, 1000, 200, 1, &la);
	double mu = la.capacity_rate / a.layout.dp;
	double rate = 0.5 * la.capacity_rate;
	instance_open_loop(&a, 1000, 200, rate, &la);
	instance_open_loop(&b, 1000, 200, rate, &lb);
	ck_assert_double_eq_tol(lb.ttft_s - la.ttft_s, 0.5 / (2 * mu * 0.5), 1e-9);
	free(c);

	/*
	 * Owned GPUs come first at their own rate: with 1,000 owned H100s at
	 * 1.00 USD/h the winner costs instances x GPUs x 1.00 x hours, and the
	 * pricey type (none owned) still never wins.
	 */
	for (int q = 0; q < 2; q++)
		gpus[0].owned[q] = 1000;
	gpus[0].owned_usd_per_gpu_hour = 1.0;
	n = plan_pool(&m, gpus, 2, &e, &t, &p, &c);
	ck_assert(c[0].fits);
	ck_assert_int_eq(c[0].gpu, 0);
	double owned_total = 0;
	for (int q = 0; q < 2; q++)
		owned_total += (double)(c[0].instances[q] * c[0].inst.gpus) * 1.0 *
			       quarter_hours(p.start_quarter + q);
	ck_assert_double_eq_tol(c[0].total_usd, owned_total, 1e-6 * owned_total);
	free(c);

	/*
	 * A type with no price can serve only from what is owned: 1 GPU owned is
	 * fewer than any plan with a spare needs (2), so nothing on it fits.
	 */
	gpus[0].usd_per_gpu_hour = NAN;
	gpus[0].owned[0] = gpus[0].owned[1] = 1;
	n = plan_pool(&m, gpus, 2, &e, &t, &p, &c);
	for (int i = 0; i < n; i++)
		if (c[i].gpu == 0)
			ck_assert(!c[i].fits);
	ck_assert(c[0].fits);
	ck_assert_int_eq(c[0].gpu, 1);
	free(c);
}
END_TEST

/*
 * Long-context isolation is chosen when it is cheaper and not otherwise.
 * Workload: 9,800 short requests (prompt 512-1,023, output 64-127) and 200
 * long ones (prompt 65,536-98,303): 2 % of requests. What the decision
 * rests on, worked by hand:
 *  - the shared pool judges TTFT on the workload's p99 prompt, rank 9,900
 *    of 10,000 = the 100th of the 200 long ones: 65,536 + 0.5 x 32,767 =
 *    81,919.5 tokens;
 *  - the long prompts dominate the second moment of prompt length:
 *    E[x] = (9,800 x 768 + 200 x 81,920) / 10,000 = 2,391.04,
 *    E[x²] = 0.98 x (768² + 512²/12) + 0.02 x (81,920² + 32,768²/12)
 *          = 136,606,733.6, cv² = E[x²]/E[x]² - 1 = 22.894,
 *    so a short request queues 23.9 times as long as M/D/1 says;
 *  - split at 4,096: the short pool's p99 prompt is its own (under 1,024),
 *    the long pool's is capped at the workload's p99 (81,919.5), not its
 *    own 98k, so isolating never asks more of the long requests than the
 *    shared pool did.
 */
START_TEST(isolation_when_cheaper)
{
	static const struct wl_bucket tail[] = {
		{ 512, 1024, 64, 128, 9800, 9800LL * 768, 9800LL * 96, 0 },
		{ 65536, 98304, 64, 128, 200, 200LL * 81920, 200LL * 96, 0 },
	};
	struct model_arch m;
	load("meta-llama--Llama-3.1-8B.json", &m);
	struct plan_gpu g;
	memset(&g, 0, sizeof(g));
	h100(&g.spec);
	g.usd_per_gpu_hour = 2.99;
	struct engine_profile e;
	vllm(&e);
	struct plan_params p;
	memset(&p, 0, sizeof(p));
	p.slo.ttft_s = 2;
	p.slo.tpot_s = 0.1;
	p.slo.utilisation = 0.7;
	p.start_quarter = 2027 * 4;
	p.quarters = 1;
	p.demand_rps[0] = 200;
	p.allow_fp8 = 1;

	struct pool_traffic pools[2];
	ck_assert_int_eq(plan_pools(tail, 2, 0, NAN, m.max_context_tokens, pools), 1);
	ck_assert_double_eq_tol(pools[0].prompt_cv2, 22.894, 0.001);
	ck_assert_double_eq_tol(pools[0].isl_p99, 81919.5, 1.0);
	ck_assert_int_eq(plan_pools(tail, 2, 4096, NAN, m.max_context_tokens, pools), 2);
	ck_assert_double_le(pools[0].isl_p99, 1023);
	ck_assert_double_eq_tol(pools[1].isl_p99, 81919.5, 1.0);

	/*
	 * auto: every threshold from 4,096 to 65,536 leaves the 2 % long pool
	 * (98,430 < 131,072 = the model's context stops there); a split is kept
	 * exactly when it costs less than the shared pool.
	 */
	struct plan_decision d;
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, tail, 2, NAN, 0, &p, &d), 0);
	ck_assert_int_eq(d.threshold >= 4096 && d.threshold <= 65536, 1);
	ck_assert(isfinite(d.shared_usd) && isfinite(d.split_usd));
	ck_assert_int_eq(d.npools, d.split_usd < d.shared_usd ? 2 : 1);
	double chosen = 0;
	for (int k = 0; k < d.npools; k++)
		chosen += d.cands[k][0].total_usd;
	ck_assert_double_eq_tol(chosen, fmin(d.split_usd, d.shared_usd), 1e-6 * chosen);
	plan_decision_free(&d);

	/* A fixed threshold splits whatever it costs; off never does. */
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, tail, 2, NAN, 4096, &p, &d), 0);
	ck_assert_int_eq(d.npools, 2);
	ck_assert_double_eq_tol(d.pool[0].share, 0.98, 1e-12);
	ck_assert_double_eq_tol(d.pool[1].share, 0.02, 1e-12);
	ck_assert_double_eq_tol(d.cands[0][0].total_usd + d.cands[1][0].total_usd, d.split_usd,
				1e-6 * d.split_usd);
	plan_decision_free(&d);
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, tail, 2, NAN, -1, &p, &d), 0);
	ck_assert_int_eq(d.npools, 1);
	ck_assert_int_eq(d.threshold, 0);
	ck_assert_double_eq_tol(d.cands[0][0].total_usd, d.shared_usd, 1e-6 * d.shared_usd);
	plan_decision_free(&d);

	/* No tail, nothing to isolate: the short bucket alone offers no threshold. */
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, tail, 1, NAN, 0, &p, &d), 0);
	ck_assert_int_eq(d.npools, 1);
	ck_assert_int_eq(d.threshold, 0);
	plan_decision_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, max_model_len_rounding);
	tcase_add_test(tc, shared_pool);
	tcase_add_test(tc, split_pools);
	tcase_add_test(tc, thresholds);
	tcase_add_test(tc, ranking_and_costs);
	tcase_add_test(tc, isolation_when_cheaper);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
