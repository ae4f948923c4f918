/*
 * test_disagg.c - P/D disaggregation and wide EP (planner/disagg.h,
 * planner/comm.h's DeepEP term, planner/instance.c's refusals): figures
 * worked by hand below from published constants, and the failure paths.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/disagg.h"
#include "planner/plan.h"
#include "testutil.h"

/*
 * KV bytes per request for MLA. DeepSeek-V3's config.json: 61 layers,
 * kv_lora_rank 512, qk_rope_head_dim 64; vLLM caches the 576-wide latent
 * per layer, bf16 (2 B): 61 x 576 x 2 = 70,272 B per token (DESIGN.md
 * section 4). A 2,000-token prompt hands over 2,000 x 70,272 =
 * 140,544,000 B; with an fp8 KV cache half, 70,272,000 B.
 */
START_TEST(kv_bytes_mla)
{
	struct model_arch m;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 70272);
	ck_assert_double_eq_tol(disagg_kv_bytes(&m, 2, 1), 70272, 1e-6);
	ck_assert_double_eq_tol(disagg_kv_bytes(&m, 2, 2000), 140544000, 1e-3);
	ck_assert_double_eq_tol(disagg_kv_bytes(&m, 1, 2000), 70272000, 1e-3);
	ck_assert_double_eq_tol(disagg_kv_bytes(&m, 2, 0), 0, 1e-300);
}
END_TEST

/*
 * GQA for contrast: Llama-3.1-70B, 80 layers x 8 KV heads x 128 x 2 (K and
 * V) x 2 B = 327,680 B per token (config.json); 1,000 tokens 327,680,000 B.
 */
START_TEST(kv_bytes_gqa)
{
	struct model_arch m;
	load("meta-llama--Llama-3.1-70B.json", &m);
	ck_assert_double_eq_tol(disagg_kv_bytes(&m, 2, 1000), 327680000, 1e-3);
}
END_TEST

/*
 * The hand-off: 140,544,000 B over one link of 400 Gb/s = 50 GB/s (seeds/
 * gpus.csv, H100/H200/B200 scale-out per GPU) at link efficiency 0.82
 * (test_engine) = 41 GB/s: 3.4279 ms + the 1 ms fixed latency = 4.4279 ms.
 * Over 8 links (GQA, TP 8) one eighth of the bytes time. No network: never.
 */
START_TEST(transfer_time)
{
	double bw = 50e9 * 0.82;
	ck_assert_double_eq_tol(disagg_transfer_s(140544000, 1, bw), 140544000 / 41e9 + 1e-3,
				1e-12);
	ck_assert_double_eq_tol(disagg_transfer_s(140544000, 1, bw) * 1e3, 4.4279, 1e-4);
	ck_assert_double_eq_tol(disagg_transfer_s(140544000, 8, bw),
				140544000 / (8 * 41e9) + 1e-3, 1e-12);
	ck_assert(isinf(disagg_transfer_s(1000, 1, 0)));
}
END_TEST

/*
 * The P:D ratio on a simple workload: 2,000-token prompts and 400-token
 * outputs. A prefill instance that computes 20,000 prompt tokens/s
 * sustains 20,000 / 2,000 = 10 req/s; a decode instance of 100 running
 * sequences at 100 ms TPOT completes 100 / (400 x 0.1 s) = 2.5 req/s.
 * Demand D needs D/10 prefill and D/2.5 decode instances: 0.25 prefill
 * per decode instance (1 : 4).
 */
START_TEST(pd_ratio)
{
	double prefill = 20000.0 / 2000, decode = 100 / (400 * 0.1);
	ck_assert_double_eq_tol(decode, 2.5, 1e-12);
	ck_assert_double_eq_tol(disagg_pd_ratio(prefill, decode), 0.25, 1e-12);
	ck_assert_double_eq_tol(disagg_pd_ratio(0, decode), 0, 1e-300);
	ck_assert_double_eq_tol(disagg_pd_ratio(prefill, -1), 0, 1e-300);
}
END_TEST

/*
 * DeepEP's low-latency kernels at EP32 (deepseek-ai/DeepEP docs/legacy.md,
 * H800 + CX7 400 Gb/s): 128 tokens a batch, hidden 7168, top-8, fp8
 * dispatch at 48 GB/s, bf16 combine at 53 GB/s. Dispatch 128 x 8 x 7168 x
 * 1 B / 48e9 = 152.9 us (measured 155 us), combine 128 x 8 x 7168 x 2 B /
 * 53e9 = 277.0 us (measured 273 us): 429.9 us a layer. On a network twice
 * as fast, half that; below the 25 us floor, the floor.
 */
START_TEST(deepep_layer)
{
	double bytes = 128.0 * 8 * 7168;
	double want = bytes / 48e9 + 2 * bytes / 53e9;
	ck_assert_double_eq_tol(comm_deepep_layer_s(32, 128, 8, 7168, 1, 50e9, 1), want, 1e-12);
	ck_assert_double_eq_tol(want * 1e6, 429.9, 0.1);
	ck_assert_double_eq_tol(comm_deepep_layer_s(32, 128, 8, 7168, 1, 100e9, 1), want / 2,
				1e-12);
	/* normal kernels at EP16: 43 / 43 GB/s */
	ck_assert_double_eq_tol(comm_deepep_layer_s(16, 4096, 8, 7168, 1, 50e9, 0),
				4096.0 * 8 * 7168 / 43e9 + 4096.0 * 8 * 7168 * 2 / 43e9, 1e-12);
	ck_assert_double_eq_tol(comm_deepep_layer_s(64, 0.001, 8, 7168, 1, 50e9, 1), 50e-6, 1e-12);
	ck_assert_double_eq_tol(comm_deepep_layer_s(1, 128, 8, 7168, 1, 50e9, 1), 0, 1e-300);
}
END_TEST

static struct gpu_spec nvidia(const char *id)
{
	struct gpu_spec g = test_gpu(id);
	snprintf(g.vendor, sizeof(g.vendor), "nvidia");
	return g;
}

static struct layout wide(int dp, enum a2a_backend a2a, int redundant, enum pd_role role)
{
	struct layout l;
	memset(&l, 0, sizeof(l));
	l.tp = 1;
	l.pp = 1;
	l.dp = dp;
	l.ep = 1;
	l.precision = PREC_NATIVE;
	l.kv_elem_bytes = 2;
	l.a2a = a2a;
	l.redundant_experts = redundant;
	l.role = role;
	return l;
}

/*
 * Wide EP on DeepSeek-V3, EP32 over four 8 x H200 nodes with EPLB's 32
 * redundant slots: 256 + 32 = 288 expert slots, 9 a GPU (TensorRT-LLM's
 * 9-slot EP32 set-up): the routed weights per GPU are 9/8 of those without
 * EPLB, and the busiest rank's imbalance is 1.109 (2.564 without).
 */
START_TEST(wide_ep_eplb_memory)
{
	struct model_arch m;
	struct gpu_spec g = nvidia("H200-SXM-141GB");
	struct engine_profile e = test_engine("vllm");
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance a, b;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	rq.max_model_len = 4096;
	struct layout la = wide(32, A2A_DEEPEP_LL, 0, PD_DECODE);
	struct layout lb = wide(32, A2A_DEEPEP_LL, 32, PD_DECODE);
	ck_assert(instance_size(&m, &g, &e, &la, &rq, &a));
	ck_assert(instance_size(&m, &g, &e, &lb, &rq, &b));
	ck_assert_double_eq_tol(b.perf.routed_bytes / a.perf.routed_bytes, 9.0 / 8, 1e-9);
	ck_assert(b.weights_bytes_per_gpu > a.weights_bytes_per_gpu);
	ck_assert_double_eq_tol(a.perf.expert_imbalance, 2.564, 1e-12);
	ck_assert_double_eq_tol(b.perf.expert_imbalance, 1.109, 1e-12);
	ck_assert_int_eq(b.nodes, 4);
	/* The imbalance costs time: the same step is slower without EPLB. */
	ck_assert(instance_decode_step_s(&a, 64, 2000, NULL) >
		  instance_decode_step_s(&b, 64, 2000, NULL));
}
END_TEST

/* Impossible layouts are refused with the reason. */
START_TEST(wide_ep_refused)
{
	struct model_arch ds, llama;
	struct gpu_spec h200 = nvidia("H200-SXM-141GB"), amd = test_gpu("H200-SXM-141GB");
	struct engine_profile e = test_engine("vllm");
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	load("deepseek-ai--DeepSeek-V3.json", &ds);
	load("meta-llama--Llama-3.1-8B.json", &llama);
	rq.max_model_len = 4096;
	snprintf(amd.vendor, sizeof(amd.vendor), "amd");

	struct layout l = wide(16, A2A_DEEPEP_HT, 16, PD_AGGREGATED);
	ck_assert(!instance_size(&ds, &amd, &e, &l, &rq, &in));
	ck_assert_ptr_nonnull(strstr(in.reason, "DeepEP runs on NVIDIA"));
	l.ep = 0;
	ck_assert(!instance_size(&ds, &h200, &e, &l, &rq, &in));
	ck_assert_ptr_nonnull(strstr(in.reason, "wide EP"));
	l = wide(2, A2A_DEEPEP_HT, 0, PD_AGGREGATED);
	l.ep = 0;
	ck_assert(!instance_size(&llama, &h200, &e, &l, &rq, &in));
	ck_assert_ptr_nonnull(strstr(in.reason, "MoE model"));
	l = wide(16, A2A_DEEPEP_HT, 0, PD_AGGREGATED);
	l.pp = 2;
	ck_assert(!instance_size(&ds, &h200, &e, &l, &rq, &in));
	l = wide(16, A2A_DEEPEP_HT, 0, (enum pd_role)7);
	ck_assert(!instance_size(&ds, &h200, &e, &l, &rq, &in));
	ck_assert_ptr_nonnull(strstr(in.reason, "role"));
	/* No scale-out network: 16 GPUs cannot span two nodes. */
	struct gpu_spec nvl = nvidia("H200-NVL-141GB");
	l = wide(16, A2A_DEEPEP_HT, 0, PD_AGGREGATED);
	ck_assert(!instance_size(&ds, &nvl, &e, &l, &rq, &in));
	ck_assert_ptr_nonnull(strstr(in.reason, "no scale-out network"));
}
END_TEST

/* A pool of one shape: every request 2,000 prompt + 400 output tokens, demand `rps`. */
static struct pool_traffic simple_pool(double rps)
{
	struct pool_traffic t;
	memset(&t, 0, sizeof(t));
	slo_traffic_add(&t.lengths, 0, 2000, 2000.0 * 2000, 1, 0);
	slo_traffic_add(&t.lengths, 1, 400, 400.0 * 400, 1, 0);
	slo_traffic_finish(&t.lengths);
	t.isl = 2000;
	t.osl = 400;
	t.share = 1;
	t.max_model_len = 4096;
	t.demand_rps[0] = rps;
	t.mean_rps[0] = rps;
	return t;
}

static struct plan_params params(void)
{
	struct plan_params p;
	memset(&p, 0, sizeof(p));
	p.slo.quantile = 0.99;
	p.slo.ttft_s = 2;
	p.slo.tpot_s = 0.1;
	p.slo.utilisation = 0.7;
	p.quarters = 1;
	p.start_quarter = 2027 * 4;
	return p;
}

/*
 * The cheapest pair for DeepSeek-V3 on H200: properties that follow from
 * the model above. Each side meets its own target (TTFT with the transfer,
 * TPOT with no prefill in its steps), the ratio is the rates' ratio, the
 * instances cover the demand, the KV handed over is 2,000 x 70,272 B, and
 * the prefill side's rate is at most 0.7 of its full-chunk token rate.
 */
START_TEST(pool_properties)
{
	struct model_arch m;
	struct plan_gpu g;
	struct engine_profile e = test_engine("vllm");
	struct pool_traffic t = simple_pool(40);
	struct plan_params p = params();
	struct disagg_plan d;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	memset(&g, 0, sizeof(g));
	g.spec = nvidia("H200-SXM-141GB");
	g.usd_per_gpu_hour = 3;
	ck_assert_int_eq(disagg_pool(&m, &g, 1, &e, &t, &p, &d), 0);
	ck_assert_msg(d.fits, "%s", d.reason);
	ck_assert(d.prefill.ttft_s <= 2.0);
	ck_assert(d.decode.tpot_s <= 0.1);
	ck_assert_double_eq_tol(d.pd_ratio, d.decode.rate_rps / d.prefill.rate_rps, 1e-12);
	ck_assert(d.prefill.instances[0] * d.prefill.rate_rps >= 40);
	ck_assert(d.decode.instances[0] * d.decode.rate_rps >= 40);
	ck_assert_double_eq_tol(d.kv_bytes_per_request, 2000.0 * 70272, 1e-3);
	ck_assert_int_eq(d.prefill.inst.layout.role, PD_PREFILL);
	ck_assert_int_eq(d.decode.inst.layout.role, PD_DECODE);
	double chunk = instance_prefill_chunk_s(&d.prefill.inst, 1000);
	double tokens_s = d.prefill.inst.layout.dp * d.prefill.inst.max_num_batched_tokens / chunk;
	ck_assert(d.prefill.rate_rps * 2000 <= 0.7 * tokens_s * (1 + 1e-6));
	/* 1 quarter: the pair's cost is its GPUs x 3 USD x the quarter's hours. */
	double gpus = (double)(d.prefill.instances[0] * d.prefill.inst.gpus +
			       d.decode.instances[0] * d.decode.inst.gpus);
	ck_assert(d.total_usd > gpus * 3 * 24 * 89 && d.total_usd < gpus * 3 * 24 * 93);
}
END_TEST

/* No GPU with a scale-out network: disaggregation cannot be planned, and says why. */
START_TEST(pool_without_network)
{
	struct model_arch m;
	struct plan_gpu g;
	struct engine_profile e = test_engine("vllm");
	struct pool_traffic t = simple_pool(1);
	struct plan_params p = params();
	struct disagg_plan d;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	memset(&g, 0, sizeof(g));
	g.spec = nvidia("H200-NVL-141GB");
	g.usd_per_gpu_hour = 3;
	ck_assert_int_eq(disagg_pool(&m, &g, 1, &e, &t, &p, &d), 0);
	ck_assert(!d.fits);
	ck_assert_ptr_nonnull(strstr(d.reason, "scale-out network"));
	/* One side alone on it says the same. */
	struct disagg_side s;
	struct layout l = wide(1, A2A_ALLGATHER, 0, PD_PREFILL);
	l.tp = 4;
	l.ep = 0;
	disagg_side_eval(&m, &g, 0, &e, &t, &p, &l, 41e9, &s);
	ck_assert(!s.fits);
	ck_assert_msg(strstr(s.reason, "scale-out") || strstr(s.reason, "weights"), "%s", s.reason);
}
END_TEST

/* A TTFT target the transfer alone misses: the prefill side says so. */
START_TEST(prefill_ttft_impossible)
{
	struct model_arch m;
	struct plan_gpu g;
	struct engine_profile e = test_engine("vllm");
	struct pool_traffic t = simple_pool(1);
	struct plan_params p = params();
	struct disagg_side s;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	memset(&g, 0, sizeof(g));
	g.spec = nvidia("H200-SXM-141GB");
	g.usd_per_gpu_hour = 3;
	p.slo.ttft_s = 0.01;
	struct layout l = wide(8, A2A_ALLGATHER, 0, PD_PREFILL);
	disagg_side_eval(&m, &g, 0, &e, &t, &p, &l, 41e9, &s);
	ck_assert(!s.fits);
	ck_assert_ptr_nonnull(strstr(s.reason, "even unloaded"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("disagg");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kv_bytes_mla);
	tcase_add_test(tc, kv_bytes_gqa);
	tcase_add_test(tc, transfer_time);
	tcase_add_test(tc, pd_ratio);
	tcase_add_test(tc, deepep_layer);
	tcase_add_test(tc, wide_ep_eplb_memory);
	tcase_add_test(tc, wide_ep_refused);
	tcase_add_test(tc, pool_properties);
	tcase_add_test(tc, pool_without_network);
	tcase_add_test(tc, prefill_ttft_impossible);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite());
}
