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

/* A workload of those buckets, demand_rps the first quarter's (and the mean half of it). */
static struct plan_workload workload(const struct wl_bucket *b, int nb, double demand_rps)
{
	struct plan_workload w;
	memset(&w, 0, sizeof(w));
	w.b = b;
	w.nb = nb;
	w.demand_rps[0] = demand_rps;
	w.mean_rps[0] = demand_rps / 2;
	return w;
}

static struct plan_params one_quarter(void)
{
	struct plan_params p;
	memset(&p, 0, sizeof(p));
	p.quarters = 1;
	p.start_quarter = 2027 * 4;
	return p;
}

START_TEST(shared_pool)
{
	struct pool_traffic p[2];
	struct plan_workload w = workload(two, 2, 10);
	struct plan_params pp = one_quarter();
	ck_assert_int_eq(plan_pools(&w, 1, 0, 0, 131072, &pp, p), 1);
	ck_assert_double_eq_tol(p[0].share, 1.0, 1e-12);
	/* (45,000 + 100,000) / 100 = 1,450; (9,000 + 3,000) / 100 = 120 */
	ck_assert_double_eq_tol(p[0].isl, 1450, 1e-9);
	ck_assert_double_eq_tol(p[0].osl, 120, 1e-9);
	/* The longest request the buckets allow, 16,894, rounded up to 1,024s: 17,408. */
	ck_assert_int_eq(p[0].longest_tokens, 16894);
	ck_assert_int_eq(p[0].max_model_len, 17408);
	ck_assert_double_eq_tol(p[0].rejected_share, 0, 1e-300);
	/* Demand and mean pass through whole: every request is in the one pool. */
	ck_assert_double_eq_tol(p[0].demand_rps[0], 10, 1e-12);
	ck_assert_double_eq_tol(p[0].mean_rps[0], 5, 1e-12);
	/*
	 * Prompt variability, each bucket spread evenly over its width:
	 * E[x²] of A = 500² + 1024²/12 = 337,381.33; of B = 10,000² + 8192²/12
	 * = 105,592,405.33; over both (90 and 10 requests) 10,862,883.7;
	 * cv² = 10,862,883.7 / 1450² - 1 = 4.16665.
	 */
	ck_assert_double_eq_tol(p[0].prompt_cv2, 4.16665, 1e-4);
	/* The SLO points: two prompt points of 90 % and 10 %, no long class. */
	ck_assert_int_eq(p[0].lengths.nprompt, 2);
	ck_assert_double_eq_tol(p[0].lengths.prompt[1].weight, 0.1, 1e-12);
	ck_assert_int_eq(p[0].lengths.prompt[1].long_class, 0);
	/* Requests of 8,192 tokens or more in the long class: bucket B's. */
	ck_assert_int_eq(plan_pools(&w, 1, 0, 8192, 131072, &pp, p), 1);
	ck_assert_int_eq(p[0].lengths.prompt[1].long_class, 1);
	ck_assert_int_eq(p[0].lengths.prompt[0].long_class, 0);

	/* Measured exactly, the longest is 12,000 tokens: max_model_len 12,288. */
	w.max_total_tokens = 12000;
	plan_pools(&w, 1, 0, 0, 131072, &pp, p);
	ck_assert_int_eq(p[0].max_model_len, 12288);

	/*
	 * A lower --max-model-len of 12,000 with the buckets' bound only:
	 * bucket B spans totals 8,448-16,894 with a mean of 103,000 / 10 =
	 * 10,300, at u = (10,300 - 8,448) / 8,446 = 0.219275 of its range. The
	 * most even spread with that mean is the density e^(beta u) whose mean
	 * 1 / (1 - e^-beta) - 1 / beta is 0.219275: beta = -4.288248 (by
	 * bisection). 12,000 is at u = 0.420554, and the share above it is
	 * (e^(beta 0.420554) - e^beta) / (1 - e^beta) = 15.3104 % of B's 10
	 * requests: 1.53104 % of all. (Spread evenly it would be 57.9 %: B's
	 * mean sits low in its range.)
	 */
	w.max_total_tokens = 0;
	pp.max_model_len = 12000;
	plan_pools(&w, 1, 0, 0, 131072, &pp, p);
	ck_assert_int_eq(p[0].max_model_len, 12000);
	ck_assert_int_eq(p[0].longest_tokens, 16894);
	ck_assert_double_eq_tol(p[0].rejected_share, 0.015310418, 1e-8);
	/* What is served of the demand: 1 - 0.0153104. */
	ck_assert_double_eq_tol(p[0].demand_rps[0], 10 * (1 - 0.015310418), 1e-7);
}
END_TEST

START_TEST(split_pools)
{
	struct pool_traffic p[2];
	struct plan_workload w = workload(two, 2, 10);
	struct plan_params pp = one_quarter();
	ck_assert_int_eq(plan_pools(&w, 1, 4096, 0, 131072, &pp, p), 2);
	/* Short: bucket A only (its largest total 1,278 < 4,096), chat class. */
	ck_assert_double_eq_tol(p[0].share, 0.9, 1e-12);
	ck_assert_double_eq_tol(p[0].isl, 500, 1e-9);
	ck_assert_double_eq_tol(p[0].osl, 100, 1e-9);
	ck_assert_int_eq(p[0].max_model_len, 2048);	/* 1,278, at least 2,048 */
	ck_assert_int_eq(p[0].max_total_tokens, 4096);
	ck_assert_int_eq(p[0].long_class, 0);
	ck_assert_double_eq_tol(p[0].demand_rps[0], 9, 1e-12);
	/* Short pool: A alone, cv² = 337,381.33 / 500² - 1 = 0.349525. */
	ck_assert_double_eq_tol(p[0].prompt_cv2, 0.349525, 1e-5);
	/* Long: bucket B, 10,000 prompt and 300 output tokens on average, long class. */
	ck_assert_double_eq_tol(p[1].share, 0.1, 1e-12);
	ck_assert_double_eq_tol(p[1].isl, 10000, 1e-9);
	ck_assert_double_eq_tol(p[1].osl, 300, 1e-9);
	ck_assert_int_eq(p[1].long_class, 1);
	ck_assert_int_eq(p[1].class_tokens, 4096);
	ck_assert_double_eq_tol(p[1].demand_rps[0], 1, 1e-12);
	/* It covers its longest request: 16,894 -> 17,408. */
	ck_assert_int_eq(p[1].max_model_len, 17408);
	ck_assert_int_eq(p[1].min_total_tokens, 4096);
	/* A threshold below every bucket leaves the short pool empty. */
	ck_assert_int_eq(plan_pools(&w, 1, 1000, 0, 131072, &pp, p), 0);

	/*
	 * Two workloads of the model: A-only at 10 req/s and the two buckets at
	 * 10 req/s. The shared pool is their sum, 20 req/s; the long pool
	 * receives only the second's 10 % (1 req/s), the short pool 10 + 9.
	 */
	struct plan_workload both[2] = { workload(two, 1, 10), workload(two, 2, 10) };
	ck_assert_int_eq(plan_pools(both, 2, 0, 0, 131072, &pp, p), 1);
	ck_assert_double_eq_tol(p[0].demand_rps[0], 20, 1e-12);
	ck_assert_int_eq(plan_pools(both, 2, 4096, 0, 131072, &pp, p), 2);
	ck_assert_double_eq_tol(p[0].demand_rps[0], 19, 1e-12);
	ck_assert_double_eq_tol(p[1].demand_rps[0], 1, 1e-12);
	/* Each workload's share of the long pool, as plan_pools cuts it. */
	double isl;
	ck_assert_double_eq_tol(plan_pool_share(&both[0], 4096, 0, NULL, NULL), 0, 1e-300);
	ck_assert_double_eq_tol(plan_pool_share(&both[1], 4096, 0, &isl, NULL), 0.1, 1e-12);
	ck_assert_double_eq_tol(isl, 10000, 1e-9);
}
END_TEST

/* 9,800 short requests (prompt 512-1,023, output 64-127), 200 of 65,536-98,303 tokens. */
static const struct wl_bucket tail[] = {
	{ 512, 1024, 64, 128, 9800, 9800LL * 768, 9800LL * 96, 0 },
	{ 65536, 98304, 64, 128, 200, 200LL * 81920, 200LL * 96, 0 },
};

START_TEST(thresholds)
{
	int64_t t[16];
	struct plan_workload w = workload(tail, 2, 1);
	/*
	 * From 32,768 (what "long" means) by powers of two while some requests
	 * (2 %) are longer: 32,768 and 65,536; 131,072 leaves none (98,430 at most).
	 */
	ck_assert_int_eq(plan_thresholds(&w, 1, 1 << 20, t, 16), 2);
	ck_assert_int_eq(t[0], 32768);
	ck_assert_int_eq(t[1], 65536);
	/* The model's context caps the search. */
	ck_assert_int_eq(plan_thresholds(&w, 1, 40000, t, 16), 1);
	/* The two-bucket workload is never long enough to isolate. */
	w = workload(two, 2, 1);
	ck_assert_int_eq(plan_thresholds(&w, 1, 131072, t, 16), 0);
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
	struct plan_params p = one_quarter();
	p.slo = (struct slo_target){ 0.99, 2, 0, 0.1, 0.7 };
	p.spares = 1;
	p.quarters = 2;
	p.allow_fp8 = 1;
	struct pool_traffic t;
	memset(&t, 0, sizeof(t));
	t.share = 1;
	t.isl = 1000;
	t.osl = 200;
	t.max_model_len = 4096;
	slo_traffic_add(&t.lengths, 0, 1000, 1e6, 1, 0);
	slo_traffic_add(&t.lengths, 1, 200, 4e4, 1, 0);
	slo_traffic_finish(&t.lengths);
	t.demand_rps[0] = 50;
	t.demand_rps[1] = 100;

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
		double serving = 0, spares = 0;
		for (int q = 0; q < 2; q++) {
			/* serving instances = ceil(demand / rate); the one spare is priced apart */
			int64_t want = (int64_t)ceil(t.demand_rps[q] / c[i].rate_rps - 1e-9);
			double h = quarter_hours(p.start_quarter + q);
			ck_assert_int_eq(c[i].instances[q], want);
			serving += (double)want * c[i].inst.gpus * gpus[c[i].gpu].usd_per_gpu_hour * h;
			spares += c[i].inst.gpus * gpus[c[i].gpu].usd_per_gpu_hour * h;
		}
		ck_assert_double_eq_tol(c[i].serving_usd, serving, 1e-6 * serving);
		ck_assert_double_eq_tol(c[i].spare_usd, spares, 1e-6 * spares);
		ck_assert_double_eq_tol(c[i].total_usd, serving + spares, 1e-6 * serving);
		/* Demand doubles; instances never shrink. */
		ck_assert_int_ge(c[i].instances[1], c[i].instances[0]);
		/* The SLO batch is what the instance runs: within what the KV holds. */
		ck_assert_int_le(c[i].inst.max_num_seqs, c[i].kv_seqs);
		ck_assert_double_le(c[i].full.tpot_s, p.slo.tpot_s);
		ck_assert_double_le(c[i].at.utilisation, 0.7 + 1e-9);
		ck_assert_double_le(c[i].at.ttft_s, 2);
		/* vLLM's rule: a PP layout stays only where it beats twice the TP, half the PP. */
		const struct layout *l = &c[i].inst.layout;
		for (int j = 0; j < n && l->pp > 1; j++) {
			const struct layout *s = &c[j].inst.layout;
			if (c[j].gpu == c[i].gpu && s->tp == 2 * l->tp && 2 * s->pp == l->pp &&
			    s->dp == l->dp && s->ep == l->ep && s->precision == l->precision &&
			    c[j].inst.fits)
				ck_assert_double_gt(c[i].rate_rps, c[j].rate_rps);
		}
	}
	/*
	 * Pollaczek-Khinchine in instance.c's open loop (estimate --rate): the
	 * queueing part of TTFT scales with 1 + cv². At half the capacity rate
	 * mu (rho = 0.5) the M/D/1 wait is rho / (2 mu (1 - rho)) = 1 / (2 mu);
	 * with cv² = 1 it doubles, so the difference of the two TTFTs is
	 * exactly that wait.
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
	 * Owned GPUs are paid for whether they serve or not: with 1,000 owned
	 * H100s the winner adds nothing, and the pricey type (none owned)
	 * still never wins.
	 */
	for (int q = 0; q < 2; q++)
		gpus[0].owned[q] = 1000;
	gpus[0].owned_usd_per_gpu_hour = 1.0;
	n = plan_pool(&m, gpus, 2, &e, &t, &p, &c);
	ck_assert(c[0].fits);
	ck_assert_int_eq(c[0].gpu, 0);
	ck_assert_double_eq_tol(c[0].total_usd, 0, 1e-300);
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
 * Long-context isolation is chosen when it is cheaper and not otherwise,
 * and the shared pool it is weighed against keeps the long requests in
 * their long SLO class. Workload `tail` (above): 2 % of requests of
 * 65,536-98,303 prompt tokens; the long class has TTFT at most
 * max(2 s, 500 ms per 1,000 prompt tokens): 41 s for an 82k prompt.
 */
START_TEST(isolation_when_cheaper)
{
	struct model_arch m;
	load("meta-llama--Llama-3.1-8B.json", &m);
	struct plan_gpu g;
	memset(&g, 0, sizeof(g));
	h100(&g.spec);
	g.usd_per_gpu_hour = 2.99;
	struct engine_profile e;
	vllm(&e);
	struct plan_params p = one_quarter();
	p.slo = (struct slo_target){ 0.99, 2, 500e-6, 0.1, 0.7 };
	p.allow_fp8 = 1;
	struct plan_workload w = workload(tail, 2, 200);

	/*
	 * auto: thresholds 32,768 and 65,536 both leave the 2 % long pool; a
	 * split is kept exactly when it costs less than the shared pool.
	 */
	struct plan_decision d;
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, &w, 1, 0, &p, &d), 0);
	ck_assert_int_eq(d.threshold == 32768 || d.threshold == 65536, 1);
	ck_assert(isfinite(d.split_usd));
	ck_assert_int_eq(d.npools, d.split_usd < d.shared_usd ? 2 : 1);
	double chosen = 0;
	for (int k = 0; k < d.npools; k++)
		chosen += d.cands[k][0].serving_usd;
	ck_assert_double_eq_tol(chosen, fmin(d.split_usd, d.shared_usd), 1e-6 * chosen);
	/* The losing alternative is kept for the words, with the same long class. */
	if (d.npools == 2) {
		ck_assert_int_eq(d.alt_pools, 1);
		ck_assert_int_eq(d.alt_pool[0].class_tokens, d.threshold);
		ck_assert_int_eq(d.pool[1].long_class, 1);
	}
	plan_decision_free(&d);

	/* A fixed threshold splits whatever it costs; off never does. */
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, &w, 1, 32768, &p, &d), 0);
	ck_assert_int_eq(d.npools, 2);
	ck_assert_double_eq_tol(d.pool[0].share, 0.98, 1e-12);
	ck_assert_double_eq_tol(d.pool[1].share, 0.02, 1e-12);
	ck_assert_double_eq_tol(d.pool[0].demand_rps[0], 196, 1e-9);
	ck_assert_double_eq_tol(d.cands[0][0].total_usd + d.cands[1][0].total_usd, d.split_usd,
				1e-6 * d.split_usd);
	plan_decision_free(&d);
	/*
	 * Off: one shared pool where every request holds the chat TTFT (an
	 * 82k-token prefill fits in 2 s only with wide TP), with no
	 * alternative weighed.
	 */
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, &w, 1, -1, &p, &d), 0);
	ck_assert_int_eq(d.npools, 1);
	ck_assert_int_eq(d.threshold, 0);
	ck_assert_int_eq(d.alt_pools, 0);
	ck_assert_int_eq(d.pool[0].class_tokens, 0);
	plan_decision_free(&d);

	/* No tail, nothing to isolate: the short bucket alone offers no threshold. */
	w = workload(tail, 1, 200);
	ck_assert_int_eq(plan_decide(&m, &g, 1, &e, &w, 1, 0, &p, &d), 0);
	ck_assert_int_eq(d.npools, 1);
	ck_assert_int_eq(d.threshold, 0);
	ck_assert(d.cands[0][0].fits);
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
