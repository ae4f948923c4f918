/*
 * test_modes.c - the serving modes inside one instance (issue 14, part
 * A): speculative decoding's accepted tokens per step, the prefill a
 * prefix-cache hit saves, what a finite cache keeps of measured reuse,
 * and how they enter the step model and the memory. Every figure is
 * worked by hand (or from the published figure named beside it).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/instance.h"
#include "planner/launch.h"
#include "planner/model.h"
#include "planner/plan.h"
#include "testutil.h"

#define GIB 1073741824.0

static struct engine_profile vllm(void)
{
	struct engine_profile e = { 0 };
	snprintf(e.id, sizeof(e.id), "vllm");
	snprintf(e.version, sizeof(e.version), "0.21");
	e.gpu_memory_utilization = 0.92;
	e.max_num_seqs_large = 1024;
	e.max_num_seqs_small = 256;
	e.large_gpu_min_bytes = 70 * GIB;
	e.max_num_batched_tokens_large = 8192;
	e.max_num_batched_tokens_small = 2048;
	e.block_size_tokens = 16;
	e.link_efficiency = 0.82;
	e.allreduce_alpha_s = 10e-6;
	e.perf.bw_efficiency = 0.75;
	e.perf.flops_efficiency = 0.5;
	e.perf.attn_efficiency = 0.5;
	e.perf.kv_bw_efficiency = 0.5;
	e.perf.moe_bw_efficiency = 0.4;
	e.perf.layer_latency_s = 20e-6;
	e.perf.moe_layer_latency_s = 40e-6;
	e.perf.step_overhead_s = 1.0e-3;
	e.perf.seq_overhead_s = 10e-6;
	e.perf.request_overhead_s = 2e-3;
	return e;
}

/*
 * Accepted tokens per step, E = (1 - a^(k+1)) / (1 - a) = 1 + a + ... + a^k:
 * k 1, a 0.85 (DeepSeek-V3 report: the second token is accepted 85-90 % of
 * the time, "1.8 times TPS") is 1.85; k 3, a 0.6 (LMSYS's assumed 60 %) is
 * 1 + 0.6 + 0.36 + 0.216 = 2.176 (SGLang measured 2.18 with a 3-token MTP
 * window, lmsys.org/blog/2025-07-17-mtp); k 7, a 0.706 is 3.20 (nebius
 * MTP-DeepSeek-V3-0324's mean acceptance length at K 7); no drafts is 1.
 */
START_TEST(test_accepted_tokens_per_step)
{
	ck_assert_double_eq_tol(spec_expected_tokens(0.85, 1), 1.85, 1e-12);
	ck_assert_double_eq_tol(spec_expected_tokens(0.6, 3), 2.176, 1e-12);
	ck_assert_double_eq_tol(spec_expected_tokens(0.706, 7), 3.20, 0.01);
	ck_assert_double_eq_tol(spec_expected_tokens(0.5, 0), 1, 1e-12);
	/*
	 * EAGLE-3's default: acceptance length 2.88 at K 7 is a = 0.666; piqplan rounds
	 * down to 0.66 (2.84 at K 7), so K 3 is 1 + 0.66 + 0.66^2 + 0.66^3 = 2.383.
	 */
	ck_assert_double_eq_tol(spec_expected_tokens(0.666, 7), 2.88, 0.01);
	ck_assert_double_eq_tol(spec_expected_tokens(0.66, 7), 2.835, 0.001);
	ck_assert_double_eq_tol(spec_expected_tokens(spec_default_acceptance(DRAFT_EAGLE3),
						     spec_default_tokens(DRAFT_EAGLE3)),
				1 + 0.66 + 0.4356 + 0.287496, 1e-9);
	ck_assert(spec_default_acceptance(DRAFT_MTP) == 0.85);
	ck_assert(spec_default_acceptance(DRAFT_NGRAM) == 0);
	enum spec_method m;
	ck_assert_int_eq(spec_method_parse("deepseek_mtp", &m), 0);
	ck_assert_int_eq(m, DRAFT_MTP);
	ck_assert_int_eq(spec_method_parse("medusa", &m), -1);
}
END_TEST

/*
 * Prefill saved per hit: a 4,000-token prompt with half of it cached runs
 * 2,000 tokens, each attending (4,000 + 2,000) / 2 = 3,000 keys on
 * average. Linear FLOPs fall by the hit share (2 x active params per hit
 * token: DeepSeek-V3's 37.55 B active is 75.1 GFLOP a token); attention
 * falls from 4,000 x 2,000 = 8.0 M to 2,000 x 3,000 = 6.0 M key reads,
 * a share h^2 = 0.25 of it.
 */
START_TEST(test_prefill_saved_per_hit)
{
	double fresh, keys;
	instance_prefill_work(4000, 0.5, &fresh, &keys);
	ck_assert_double_eq_tol(fresh, 2000, 1e-9);
	ck_assert_double_eq_tol(keys, 3000, 1e-9);
	ck_assert_double_eq_tol(1 - fresh * keys / (4000 * 2000.0), 0.25, 1e-12);
	instance_prefill_work(4000, 0, &fresh, &keys);
	ck_assert_double_eq_tol(fresh, 4000, 1e-9);
	ck_assert_double_eq_tol(keys, 2000, 1e-9);

	struct model_arch m;
	struct model_params p;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	model_params_count(&m, &p);
	ck_assert_double_eq_tol(2.0 * (double)p.active, 75.1e9, 0.1e9);

	/*
	 * In the step model: a long prefill alone is compute bound, so half the
	 * prompt cached takes a bit more than half the time (the hit tokens are
	 * still attended), well under the whole.
	 */
	struct gpu_spec g = test_gpu("H200-SXM-141GB");
	struct engine_profile e = vllm();
	struct layout l = { 8, 1, 1, 0, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	rq.max_model_len = 32768;
	rq.resident_tokens_per_seq = 16384;
	ck_assert_int_eq(instance_size(&m, &g, &e, &l, &rq, &in), 1);
	double whole = instance_prefill_s(&in, 16000);
	instance_set_prefix_hit(&in, 0.5);
	double half = instance_prefill_s(&in, 16000);
	ck_assert(half > 0.5 * whole && half < 0.75 * whole);
}
END_TEST

/*
 * What a finite cache keeps: 60,000 free tokens turned over by 1,000 new
 * tokens a second keep a freed block 60 s; the measured curve says 10 % of
 * blocks are reused within 32 s and 20 % within 64 s, so 60 s (log2 60 =
 * 5.907) keeps 0.10 + 0.10 x 0.907 = 19.07 % of the 36 % reused with an
 * unbounded cache: of an asked 36 %, 19.07 %. An asked 18 % (half the
 * measured) keeps half as much, 9.54 %. No free KV keeps nothing; no curve
 * keeps what was asked.
 */
START_TEST(test_prefix_hit_kept)
{
	double within[17];
	for (int i = 0; i < 17; i++)
		within[i] = i < 5 ? 0.02 * i : i == 5 ? 0.10 : i == 6 ? 0.20 : 0.36;
	double kept = prefix_hit_kept(0.36, 0.36, within, 17, 60000, 1000);
	ck_assert_double_eq_tol(kept, 0.10 + 0.10 * (log2(60) - 5), 1e-12);
	ck_assert_double_eq_tol(kept, 0.1907, 1e-4);
	ck_assert_double_eq_tol(prefix_hit_kept(0.18, 0.36, within, 17, 60000, 1000), kept / 2,
				1e-12);
	ck_assert(prefix_hit_kept(0.36, 0.36, within, 17, 0, 1000) == 0);
	ck_assert(prefix_hit_kept(0.3, 0.36, NULL, 0, 60000, 1000) == 0.3);
	/* Beyond 2^16 s the whole measured reuse survives. */
	ck_assert_double_eq_tol(prefix_hit_kept(0.36, 0.36, within, 17, 1e12, 1), 0.36, 1e-12);
}
END_TEST

/*
 * Speculation in the step model. DeepSeek-V3 MTP at one sequence: the
 * verify pass reads the experts of 2 tokens (about 2 x 8 of 256 touched
 * instead of 8: MoE decode is bound by the experts it reads), so the 1.85
 * tokens a step come at a dearer step: between 1.4 and 1.85 x faster per
 * token. Its memory: the MTP layer's weights (1-2 GB a GPU at TP 8: its
 * 11 B mostly fp8 experts / 8) and its own KV per token (62 layers'
 * latents instead of 61): fewer KV tokens. Llama-3.1-8B with n-gram drafts
 * (no draft cost), 3 drafts at 0.6 (E = 2.176): one sequence is bound by
 * reading 16 GB of weights, so verifying 4 positions is nearly free and a
 * token costs about 1 / 2.176; at 2,048 sequences of 100 tokens the
 * 8,192-token verify pass is compute bound (2 x 7 B x 8,192 FLOPs at half
 * of 989 TFLOP/s is 0.23 s, against 4.4 ms of weights and 11 ms of KV),
 * four times the work for 2.18 tokens: a loss.
 */
START_TEST(test_spec_step_and_memory)
{
	struct model_arch m, dense;
	struct gpu_spec g = test_gpu("H200-SXM-141GB");
	struct engine_profile e = vllm();
	struct layout l = { 8, 1, 1, 0, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance base, mtp;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	rq.max_model_len = 8192;
	rq.resident_tokens_per_seq = 4096;
	ck_assert_int_eq(instance_size(&m, &g, &e, &l, &rq, &base), 1);
	l.spec.method = DRAFT_MTP;
	l.spec.tokens = 1;
	l.spec.acceptance = 0.85;
	ck_assert_int_eq(instance_size(&m, &g, &e, &l, &rq, &mtp), 1);
	ck_assert_double_eq_tol(mtp.spec_tokens_per_step, 1.85, 1e-12);
	ck_assert_double_eq_tol(mtp.draft_pass_share, 2.0 / 61, 1e-12);
	ck_assert(mtp.draft_weights_bytes > 1.0e9 && mtp.draft_weights_bytes < 2.0e9);
	ck_assert(mtp.kv_tokens < base.kv_tokens);
	double r1 = instance_decode_step_s(&base, 1, 1000, NULL) /
		    instance_decode_step_s(&mtp, 1, 1000, NULL);
	ck_assert_msg(r1 > 1.4 && r1 < 1.85, "%g", r1);

	struct instance d0, d1;
	struct layout ld = { 1, 1, 1, 0, PREC_BF16, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	load("meta-llama--Llama-3.1-8B.json", &dense);
	ck_assert_int_eq(instance_size(&dense, &g, &e, &ld, &rq, &d0), 1);
	ld.spec.method = DRAFT_NGRAM;
	ld.spec.tokens = 3;
	ld.spec.acceptance = 0.6;
	ck_assert_int_eq(instance_size(&dense, &g, &e, &ld, &rq, &d1), 1);
	double small = instance_decode_step_s(&d0, 1, 1000, NULL) /
		       instance_decode_step_s(&d1, 1, 1000, NULL);
	double large = instance_decode_step_s(&d0, 2048, 100, NULL) /
		       instance_decode_step_s(&d1, 2048, 100, NULL);
	ck_assert_msg(small > 1.9 && small < 2.176 + 1e-9, "%g", small);
	ck_assert_msg(large < 1, "%g", large);
}
END_TEST

/* Where vLLM does not run speculation: with PP, MTP without MTP layers, EAGLE-3 without a head. */
START_TEST(test_spec_refused)
{
	struct model_arch ds, llama;
	struct gpu_spec g = test_gpu("H200-SXM-141GB");
	struct engine_profile e = vllm();
	struct layout l = { 4, 2, 1, 0, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, { DRAFT_MTP, 1, 0.85, "" } };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	load("deepseek-ai--DeepSeek-V3.json", &ds);
	load("meta-llama--Llama-3.1-8B.json", &llama);
	rq.max_model_len = 8192;
	ck_assert_int_eq(instance_size(&ds, &g, &e, &l, &rq, &in), 0);
	ck_assert_ptr_nonnull(strstr(in.reason, "pipeline parallelism"));
	l.tp = 1;
	l.pp = 1;
	ck_assert_int_eq(instance_size(&llama, &g, &e, &l, &rq, &in), 0);
	ck_assert_ptr_nonnull(strstr(in.reason, "num_nextn_predict_layers 0"));
	l.spec.method = DRAFT_EAGLE3;
	ck_assert_int_eq(instance_size(&llama, &g, &e, &l, &rq, &in), 0);
	ck_assert_ptr_nonnull(strstr(in.reason, "EAGLE-3"));
	snprintf(l.spec.draft, sizeof(l.spec.draft), "%s",
		 spec_eagle3_draft("meta-llama/Llama-3.1-8B"));
	l.spec.tokens = 3;
	l.spec.acceptance = 0.66;
	ck_assert_int_eq(instance_size(&llama, &g, &e, &l, &rq, &in), 1);
	l.spec.acceptance = 1;
	ck_assert_int_eq(instance_size(&llama, &g, &e, &l, &rq, &in), 0);
}
END_TEST

/* Mode names as run_config.mode stores them (011_modes.sql). */
START_TEST(test_mode_names)
{
	char b[32];
	struct layout l = { 8, 1, 1, 0, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "aggregated");
	l.kv_elem_bytes = 1;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "fp8-kv");
	l.spec.method = DRAFT_MTP;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "mtp+fp8-kv");
	l.kv_elem_bytes = 2;
	l.spec.method = DRAFT_EAGLE3;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "eagle3");
	/* Part B's layouts lead, with what they add (011_modes.sql). */
	l.spec.method = DRAFT_NONE;
	l.a2a = A2A_DEEPEP_LL;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "wide-ep");
	l.spec.method = DRAFT_MTP;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "wide-ep+mtp");
	l.a2a = A2A_ALLGATHER;
	l.role = PD_DECODE;
	l.kv_elem_bytes = 1;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "disagg-decode+mtp+fp8-kv");
	l.role = PD_PREFILL;
	l.spec.method = DRAFT_NONE;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "disagg-prefill+fp8-kv");
	l.kv_elem_bytes = 2;
	ck_assert_str_eq(plan_mode_name(&l, b, sizeof(b)), "disagg-prefill");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("modes");
	TCase *tc = tcase_create("modes");
	tcase_add_test(tc, test_accepted_tokens_per_step);
	tcase_add_test(tc, test_prefill_saved_per_hit);
	tcase_add_test(tc, test_prefix_hit_kept);
	tcase_add_test(tc, test_spec_step_and_memory);
	tcase_add_test(tc, test_spec_refused);
	tcase_add_test(tc, test_mode_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
