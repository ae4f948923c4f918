/*
 * test_model.c - Check suite for planner/model.c: parsing the shipped
 * config.json files, parameter counts, weight bytes and KV bytes.
 *
 * Every expected figure is worked out here by hand from the config fields
 * (the arithmetic is in the comment beside it) or is a published figure
 * (source named). Configs are read from $PIQPLAN_MODELS_DIR, default
 * "seeds/models" relative to the source root; meson passes an absolute path.
 *
 * Active parameters count everything a token passes through: embedding and
 * LM head included, routed experts scaled by k/E.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/model.h"
#include "testutil.h"

#define GIGA 1e9


static int parse_str(const char *json, struct model_arch *m, char *err, size_t errsz)
{
	return model_arch_parse(json, strlen(json), m, err, errsz);
}


#define HALF_PCT 0.005

static void params(const char *file, struct model_arch *m, struct model_params *p)
{
	load(file, m);
	model_params_count(m, p);
	ck_assert_int_eq(p->total, p->attention + p->mixers + p->indexer + p->dense_mlp +
			 p->shared_experts + p->routed_experts + p->router + p->embedding +
			 p->lm_head + p->norms);
}

/*
 * Llama-3.1-8B: h 4096, L 32, H 32, H_kv 8, d 128, I 14336, V 128256.
 *   attention/layer = 4096*4096 (q) + 2*4096*1024 (k, v) + 4096*4096 (o)
 *                     + 4096 (input norm) = 41,947,136; x32 = 1,342,308,352
 *   MLP = 32 * 3*4096*14336 = 5,637,144,576
 *   embedding = lm_head = 128256*4096 = 525,336,576
 *   norms = 33*4096 = 135,168
 *   total = 8,030,261,248 -- the count Hugging Face shows for the checkpoint.
 */
START_TEST(test_llama_8b)
{
	struct model_arch m;
	struct model_params p;
	struct model_weights w;

	params("meta-llama--Llama-3.1-8B.json", &m, &p);
	ck_assert_str_eq(m.model_type, "llama");
	ck_assert_int_eq(m.attention, ATTN_GQA);
	ck_assert_str_eq(attn_kind_name(m.attention), "GQA");
	ck_assert_int_eq(m.head_dim, 128);
	ck_assert_int_eq(m.max_context_tokens, 131072);
	ck_assert_int_eq(m.dense_layers, 32);
	ck_assert_int_eq(m.moe_layers, 0);
	ck_assert_int_eq(p.attention, 1342308352LL);
	ck_assert_int_eq(p.dense_mlp, 5637144576LL);
	ck_assert_int_eq(p.embedding, 525336576LL);
	ck_assert_int_eq(p.lm_head, 525336576LL);
	ck_assert_int_eq(p.norms, 135168);
	ck_assert_int_eq(p.routed_experts, 0);
	ck_assert_int_eq(p.total, 8030261248LL);
	ck_assert_int_eq(p.active, p.total);

	/* KV: 2 * 32 layers * 8 heads * 128 * 2 B = 131,072 B per token. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 131072);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 1), 65536);
	/* No sliding layers: 1000 tokens hold 1000 * 131,072 B. */
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 1000), 131072000.0);
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 0), 0.0);

	/* No quantization_config: native is bf16 = 2 B per parameter. */
	ck_assert_int_eq(m.native_linear, WF_BF16);
	ck_assert_int_eq(m.native_experts, WF_BF16);
	ck_assert_int_eq(m.native_other, WF_BF16);
	model_weights_bytes(&m, PREC_BF16, &w);
	ck_assert_double_eq(w.total, 2.0 * 8030261248.0);
	model_weights_bytes(&m, PREC_NATIVE, &w);
	ck_assert_double_eq(w.total, 2.0 * 8030261248.0);

	/*
	 * fp8: linear = 32*41,943,040 (attention projections) + 5,637,144,576
	 * = 6,979,321,856 params at 1 B; norms 32*4096 + 135,168 = 266,240 and
	 * embedding + LM head 1,050,673,152 at 2 B:
	 * 6,979,321,856 + 532,480 + 2,101,346,304 = 9,081,200,640 B.
	 */
	model_weights_bytes(&m, PREC_FP8, &w);
	ck_assert_double_eq(w.total, 9081200640.0);
	ck_assert_double_eq(w.embedding, 2.0 * 525336576.0);
	ck_assert_double_eq(w.dense_mlp, 5637144576.0);
	/* fp4: 6,979,321,856 * 0.53125 = 3,707,764,736; + 532,480 + 2,101,346,304. */
	model_weights_bytes(&m, PREC_FP4, &w);
	ck_assert_double_eq(w.total, 5809643520.0);
}
END_TEST

/*
 * Llama-3.1-70B: h 8192, L 80, H 64, H_kv 8, d 128, I 28672, V 128256.
 *   per layer 2*8192^2 (q, o) + 2*8192*1024 (k, v) + 8192 + 3*8192*28672
 *   + 8192 = 855,654,400; x80 = 68,452,352,000
 *   + 2*128256*8192 = 2,101,346,304 (embedding, head) + 8192 (final norm)
 *   = 70,553,706,496 (published 70.6 B).
 * Llama-3.1-405B: h 16384, L 126, I 53248, H 128, H_kv 8:
 *   126*(2*16384^2 + 2*16384*1024 + 16384 + 3*16384*53248 + 16384)
 *   + 2*128256*16384 + 16384 = 405,853,388,800 (published 405 B).
 *   KV: 2*80*8*128*2 = 327,680 B per token for the 70B.
 */
START_TEST(test_llama_70b_405b)
{
	struct model_arch m;
	struct model_params p;

	params("meta-llama--Llama-3.1-70B.json", &m, &p);
	ck_assert_int_eq(p.total, 70553706496LL);
	ck_assert_rel(p.total, 70.55 * GIGA, HALF_PCT);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 327680);

	params("meta-llama--Llama-3.1-405B.json", &m, &p);
	ck_assert_int_eq(p.total, 405853388800LL);
	ck_assert_rel(p.total, 405.9 * GIGA, HALF_PCT);
	ck_assert_int_eq(p.active, p.total);
}
END_TEST

/*
 * Qwen2.5-7B: h 3584, L 28, H 28, H_kv 4, d 128, I 18944, V 152064, biases on
 * q/k/v only (3584 + 2*512 per layer).
 *   28*(2*3584^2 + 2*3584*512 + 3584 + 4608 + 3*3584*18944 + 3584)
 *   + 2*152064*3584 + 3584 = 7,615,616,512 (published 7.61 B).
 * use_sliding_window is false: no sliding layers.
 */
START_TEST(test_qwen25_7b)
{
	struct model_arch m;
	struct model_params p;

	params("Qwen--Qwen2.5-7B-Instruct.json", &m, &p);
	ck_assert_str_eq(m.model_type, "qwen2");
	ck_assert_int_eq(m.attention_bias, 1);
	ck_assert_int_eq(m.sliding_layers, 0);
	ck_assert_int_eq(p.total, 7615616512LL);
	ck_assert_rel(p.total, 7.61 * GIGA, HALF_PCT);
	/* KV: 2*28*4*128*2 = 57,344 B per token. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 57344);
}
END_TEST

/*
 * Mixtral-8x7B: h 4096, L 32, H 32, H_kv 8, E 8, k 2, I_e 14336, V 32000.
 *   attention 32*41,947,136 = 1,342,308,352 (as Llama-3.1-8B)
 *   experts 32*8*3*4096*14336 = 45,097,156,608; router 32*4096*8 = 1,048,576
 *   embedding + head 2*32000*4096 = 262,144,000; norms 33*4096 = 135,168
 *   total 46,702,792,704; active = total - experts*(6/8) = 12,879,925,248.
 * Mixtral-8x22B: h 6144, L 56, H 48, H_kv 8, I_e 16384:
 *   attention 56*(2*6144^2 + 2*6144*1024 + 6144) = 4,932,845,568
 *   experts 56*8*3*6144*16384 = 135,291,469,824; router 56*6144*8
 *   + 2*32000*6144 + 57*6144 => total 140,620,634,112 [141 B published],
 *   active 39,152,031,744 [39 B published].
 */
START_TEST(test_mixtral)
{
	struct model_arch m;
	struct model_params p;

	params("mistralai--Mixtral-8x7B-v0.1.json", &m, &p);
	ck_assert_int_eq(m.moe_layers, 32);
	ck_assert_int_eq(m.experts, 8);
	ck_assert_int_eq(m.experts_per_token, 2);
	ck_assert_int_eq(m.sliding_layers, 0);	/* sliding_window: null */
	ck_assert_int_eq(p.routed_experts, 45097156608LL);
	ck_assert_int_eq(p.router, 1048576);
	ck_assert_int_eq(p.total, 46702792704LL);
	ck_assert_int_eq(p.active, 12879925248LL);
	ck_assert_rel(p.total, 46.70 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 12.88 * GIGA, HALF_PCT);
	/* KV: 2*32*8*128*2 = 131,072 B per token. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 131072);

	params("mistralai--Mixtral-8x22B-v0.1.json", &m, &p);
	ck_assert_int_eq(p.attention, 4932845568LL);
	ck_assert_int_eq(p.routed_experts, 135291469824LL);
	ck_assert_int_eq(p.total, 140620634112LL);
	ck_assert_int_eq(p.active, 39152031744LL);
	ck_assert_rel(p.total, 140.6 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 39.2 * GIGA, HALF_PCT);
}
END_TEST

/*
 * Qwen3-235B-A22B: h 4096, L 94, H 64, H_kv 4, d 128, E 128, k 8, I_e 1536,
 * V 151936; q_norm and k_norm (128 each) per layer.
 *   attention 94*(2*4096*8192 + 2*4096*512 + 4096 + 256) = 6,702,906,880
 *   experts 94*128*3*4096*1536 = 227,096,395,776; router 94*4096*128 = 49,283,072
 *   embedding + head 2*151936*4096 = 1,244,659,712; norms 95*4096 = 389,120
 *   total 235,093,634,560; active = total - experts + experts/16
 *   = 22,190,763,520 [235 B / 22 B published].
 * Qwen3-30B-A3B: h 2048, L 48, H 32, H_kv 4, E 128, k 8, I_e 768:
 *   48*(2*2048*4096 + 2*2048*512 + 2048 + 256) + 48*128*3*2048*768
 *   + 48*2048*128 + 2*151936*2048 + 49*2048 = 30,532,122,624; active
 *   3,353,032,704 [30.5 B / 3.3 B published].
 */
START_TEST(test_qwen3_moe)
{
	struct model_arch m;
	struct model_params p;

	params("Qwen--Qwen3-235B-A22B.json", &m, &p);
	ck_assert_str_eq(m.model_type, "qwen3_moe");
	ck_assert_int_eq(m.moe_layers, 94);
	ck_assert_int_eq(m.dense_layers, 0);
	ck_assert_int_eq(m.attention_bias, 0);
	ck_assert_int_eq(p.attention, 6702906880LL);
	ck_assert_int_eq(p.routed_experts, 227096395776LL);
	ck_assert_int_eq(p.total, 235093634560LL);
	ck_assert_int_eq(p.active, 22190763520LL);
	ck_assert_rel(p.total, 235.09 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 22.19 * GIGA, HALF_PCT);
	/* KV: 2*94*4*128*2 = 192,512 B per token. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 192512);

	params("Qwen--Qwen3-30B-A3B.json", &m, &p);
	ck_assert_int_eq(p.total, 30532122624LL);
	ck_assert_int_eq(p.active, 3353032704LL);
	ck_assert_rel(p.total, 30.5 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 3.35 * GIGA, HALF_PCT);
}
END_TEST

/*
 * DeepSeek-V3: h 7168, L 61 (3 dense, 58 MoE), H 128, q_lora 1536, kv_lora 512,
 * nope 128, rope 64, v 128, I 18432, E 256, k 8, 1 shared, I_e 2048, V 129280.
 *   MLA/layer: q_a 7168*1536 + q_b 1536*128*192 + kv_a 7168*576
 *              + kv_b 512*128*256 + o 128*128*7168 = 187,105,280
 *              norms: input 7168 + q_a 1536 + kv_a 512 = 9,216
 *   attention 61*187,114,496 = 11,413,984,256
 *   dense 3*3*7168*18432 = 1,189,085,184
 *   shared 58*3*7168*2048 = 2,554,331,136
 *   routed 58*256*3*7168*2048 = 653,908,770,816
 *   router 58*(7168*256 + 256 score bias) = 106,445,312
 *   embedding = head = 129280*7168 = 926,679,040; norms 62*7168 = 444,416
 *   total 671,026,419,200 [671 B published, without the MTP module];
 *   active = total - routed + 58*8*3*7168*2048 = 37,552,297,472 [37 B].
 * Native fp8 (quantization_config: e4m3, 128x128 blocks, one fp32 scale per
 * block, README_WEIGHTS of DeepSeek-V3): every linear above,
 *   61*187,105,280 + 1,189,085,184 + 2,554,331,136 + 653,908,770,816
 *   = 669,065,609,216 params at 1 + 4/16384 B = 669,228,955,312 B;
 * norms, router weights, embedding and head at 2 B:
 *   2*(61*9,216 + 58*256*7168 + 2*926,679,040 + 444,416) = 3,921,590,272 B;
 * the 58*256 = 14,848 score-correction biases in fp32: 59,392 B;
 * total 673,150,604,976 B (673.15 GB, as families-b counted for vLLM).
 * Online fp8 (--quantization fp8): per-tensor scales, so the linears at 1 B:
 *   669,065,609,216 + 3,921,590,272 + 59,392 = 672,987,258,880 B.
 * bf16: 2 * (671,026,419,200 - 14,848) + 4 * 14,848 = 1,342,052,868,096 B.
 */
/*
 * Alike layers (model_layers_alike, what the weight and KV sums count once a
 * run): DeepSeek-V3's first_k_dense_replace 3 makes layers 0-2 dense and
 * 3-60 MoE (config.json); Gemma-4-26B-A4B's layer_types repeat five sliding
 * and one full attention layer.
 */
START_TEST(test_layers_alike)
{
	static struct model_arch m;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	ck_assert(model_layers_alike(&m, 0, 2));
	ck_assert(!model_layers_alike(&m, 2, 3));
	ck_assert(model_layers_alike(&m, 3, 60));
	load("google--gemma-4-26B-A4B.json", &m);
	ck_assert(model_layers_alike(&m, 0, 4));
	ck_assert(!model_layers_alike(&m, 4, 5));
	ck_assert(model_layers_alike(&m, 5, 11));
}
END_TEST

START_TEST(test_deepseek_v3)
{
	static const char *const files[] = {
		"deepseek-ai--DeepSeek-V3.json", "deepseek-ai--DeepSeek-R1.json",
	};
	struct model_arch m;
	struct model_params p;
	struct model_weights w;
	size_t i;

	for (i = 0; i < 2; i++) {
		params(files[i], &m, &p);
		ck_assert_str_eq(m.model_type, "deepseek_v3");
		ck_assert_int_eq(m.attention, ATTN_MLA);
		ck_assert_str_eq(attn_kind_name(m.attention), "MLA");
		ck_assert_int_eq(m.dense_layers, 3);
		ck_assert_int_eq(m.moe_layers, 58);
		ck_assert_int_eq(m.shared_experts, 1);
		ck_assert_int_eq(m.shared_intermediate, 2048);
		ck_assert_int_eq(m.q_lora_rank, 1536);
		ck_assert_int_eq(p.attention, 11413984256LL);
		ck_assert_int_eq(p.dense_mlp, 1189085184LL);
		ck_assert_int_eq(p.shared_experts, 2554331136LL);
		ck_assert_int_eq(p.routed_experts, 653908770816LL);
		ck_assert_int_eq(p.router, 106445312LL);
		ck_assert_int_eq(p.total, 671026419200LL);
		ck_assert_int_eq(p.active, 37552297472LL);
		ck_assert_rel(p.total, 671.03 * GIGA, HALF_PCT);
		ck_assert_rel(p.active, 37.55 * GIGA, HALF_PCT);

		/* KV (MLA): 61 * (512 + 64) * 2 B = 70,272 B; not per head. */
		ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 70272);
		ck_assert_int_eq(model_kv_bytes_per_token(&m, 1), 35136);

		ck_assert_int_eq(m.native_linear, WF_FP8);
		ck_assert_int_eq(m.native_experts, WF_FP8);
		ck_assert_int_eq(m.native_other, WF_BF16);
		model_weights_bytes(&m, PREC_NATIVE, &w);
		ck_assert_double_eq(w.total, 673150604976.0);
		ck_assert_double_eq(w.embedding, 2.0 * 926679040.0);
		/* fp8 asked for explicitly: per-tensor scales, no block scales. */
		model_weights_bytes(&m, PREC_FP8, &w);
		ck_assert_double_eq(w.total, 672987258880.0);
		/* bf16: 2 * 671,026,419,200 = 1.342 TB, more than 16 x 80 GB. */
		model_weights_bytes(&m, PREC_BF16, &w);
		ck_assert_double_eq(w.total, 1342052868096.0);
	}
}
END_TEST

/*
 * Kimi-K2: DeepSeek-V3 layout with H 64, E 384, 1 dense layer (60 MoE), V 163840.
 *   MLA/layer: 7168*1536 + 1536*64*192 + 7168*576 + 512*64*256 + 64*128*7168
 *              = 101,122,048, + 9,216 norms
 *   routed 60*384*3*7168*2048 = 1,014,686,023,680
 *   total 61*101,131,264 + 3*7168*18432 + 60*3*7168*2048 + routed
 *         + 60*(7168*384 + 384) + 2*163840*7168 + 62*7168 = 1,026,408,232,448
 *   active = total - routed + routed*8/384 = 32,861,500,928 [1 T / 32 B].
 */
START_TEST(test_kimi_k2)
{
	struct model_arch m;
	struct model_params p;

	params("moonshotai--Kimi-K2-Instruct.json", &m, &p);
	ck_assert_str_eq(m.model_type, "kimi_k2");
	ck_assert_int_eq(m.attention, ATTN_MLA);
	ck_assert_int_eq(m.dense_layers, 1);
	ck_assert_int_eq(m.moe_layers, 60);
	ck_assert_int_eq(p.routed_experts, 1014686023680LL);
	ck_assert_int_eq(p.total, 1026408232448LL);
	ck_assert_int_eq(p.active, 32861500928LL);
	ck_assert_rel(p.total, 1026.0 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 32.9 * GIGA, HALF_PCT);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 70272);
	ck_assert_int_eq(m.native_experts, WF_FP8);
}
END_TEST

/*
 * gpt-oss-120b: h 2880, L 36, H 64, H_kv 8, d 64, E 128, k 4, I_e 2880,
 * V 201088; biases on q/k/v/o and experts, one sink per head.
 *   attention/layer: 2880*4096 + 2*2880*512 + 4096*2880 = 26,542,080
 *     + norm 2880 + biases 4096 + 1024 + 2880 + sinks 64 = 10,944
 *   experts: 36*128*(3*2880*2880) = 114,661,785,600
 *     + biases 36*128*(2*2880 + 2880) = 39,813,120
 *   router 36*(2880*128 + 128) = 13,275,648
 *   embedding + head 2*201088*2880 = 1,158,266,880; norms 37*2880
 *   total 116,829,156,672 [OpenAI model card: 116.83 B];
 *   active = total - experts + 36*4*(3*2880^2 + 3*2880) = 5,711,982,912.
 *   The card's 5.13 B active leaves out the embedding (579 M): 5.71 - 0.58.
 * Native: routed expert weights mxfp4 (0.53125 B), the rest bf16:
 *   114,661,785,600*0.53125 + 2*(total - 114,661,785,600) = 65,248,815,744 B
 *   (the Hugging Face checkpoint is about 65 GB).
 */
START_TEST(test_gpt_oss)
{
	struct model_arch m;
	struct model_params p;
	struct model_weights w;

	params("openai--gpt-oss-120b.json", &m, &p);
	ck_assert_str_eq(m.model_type, "gpt_oss");
	ck_assert_int_eq(m.attention, ATTN_GQA);
	ck_assert_int_eq(m.head_dim, 64);
	ck_assert_int_eq(m.expert_bias, 1);
	ck_assert_int_eq(m.attention_bias, 1);
	ck_assert_int_eq(m.experts_per_token, 4);
	ck_assert_int_eq(m.sliding_layers, 18);
	ck_assert_int_eq(m.sliding_window, 128);
	ck_assert_int_eq(p.attention, 36LL * (26542080 + 10944));
	ck_assert_int_eq(p.routed_experts, 114661785600LL + 39813120LL);
	ck_assert_int_eq(p.router, 13275648);
	ck_assert_int_eq(p.total, 116829156672LL);
	ck_assert_int_eq(p.active, 5711982912LL);
	ck_assert_rel(p.total, 116.83 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 5.7 * GIGA, HALF_PCT);

	ck_assert_int_eq(m.native_linear, WF_BF16);
	ck_assert_int_eq(m.native_experts, WF_MXFP4);
	ck_assert_int_eq(m.native_other, WF_BF16);
	model_weights_bytes(&m, PREC_NATIVE, &w);
	ck_assert_double_eq(w.total, 65248815744.0);
	ck_assert_double_eq(w.routed_experts, 114661785600.0 * 0.53125 + 2 * 39813120.0);

	/* KV: 2*36*8*64*2 = 73,728 B per token, counting every layer. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 73728);
	/*
	 * Per sequence: one layer holds 2*8*64*2 = 2,048 B per token. At 131,072
	 * tokens, 18 full layers hold 18*131072*2048 = 4,831,838,208 B and 18
	 * sliding layers 18*128*2048 = 4,718,592 B: 4,836,556,800 B.
	 */
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 131072), 4836556800.0);
	/* Shorter than the window: every layer holds all 100 tokens: 36*100*2048. */
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 100), 7372800.0);

	/* gpt-oss-20b: 24 layers, half sliding. */
	params("openai--gpt-oss-20b.json", &m, &p);
	ck_assert_int_eq(m.sliding_layers, 12);
	ck_assert_int_eq(m.experts, 32);
}
END_TEST

/*
 * Llama 4, text tower only: h 5120, L 48, H 40, H_kv 8, d 128, k 1, I_e 8192
 * (one shared expert as wide), dense I 16384, V 202048.
 *   attention 48*(2*5120*5120 + 2*5120*1024 + 5120) = 3,020,144,640
 *   embedding + head 2*202048*5120 = 2,068,971,520; norms 49*5120
 * Scout (E 16, every layer MoE):
 *   routed 48*16*3*5120*8192 = 96,636,764,160; shared 48*3*5120*8192
 *   = 6,039,797,760; router 48*5120*16 => total 107,769,861,120,
 *   active 17,172,894,720. Published: 109 B total / 17 B active; the ~1.2 B
 *   gap is the vision encoder and projector, not counted here.
 * Maverick (E 128, interleave step 2: layers 1, 3, ..., 47 MoE; 24 dense):
 *   routed 24*128*3*5120*8192 = 386,547,056,640; shared 24*3*5120*8192;
 *   dense 24*3*5120*16384 = 6,039,797,760; router 24*5120*128
 *   => total 400,711,848,960, active 17,184,691,200 [400 B / 17 B published].
 */
START_TEST(test_llama4)
{
	struct model_arch m;
	struct model_params p;

	params("meta-llama--Llama-4-Scout-17B-16E-Instruct.json", &m, &p);
	ck_assert_str_eq(m.model_type, "llama4");
	ck_assert_int_eq(m.attention, ATTN_GQA);
	ck_assert_int_eq(m.moe_layers, 48);
	ck_assert_int_eq(m.dense_layers, 0);
	ck_assert_int_eq(m.shared_experts, 1);
	ck_assert_int_eq(m.experts, 16);
	ck_assert_int_eq(m.max_context_tokens, 10485760);
	ck_assert_int_eq(m.sliding_layers, 0);	/* chunked layers count as full */
	ck_assert_int_eq(p.attention, 3020144640LL);
	ck_assert_int_eq(p.routed_experts, 96636764160LL);
	ck_assert_int_eq(p.shared_experts, 6039797760LL);
	ck_assert_int_eq(p.total, 107769861120LL);
	ck_assert_int_eq(p.active, 17172894720LL);
	ck_assert_rel(p.total, 109.0 * GIGA, 0.015);
	ck_assert_rel(p.active, 17.0 * GIGA, 0.015);
	/* KV: 2*48*8*128*2 = 196,608 B per token. */
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 196608);

	params("meta-llama--Llama-4-Maverick-17B-128E-Instruct.json", &m, &p);
	ck_assert_int_eq(m.moe_layers, 24);
	ck_assert_int_eq(m.dense_layers, 24);
	ck_assert_int_eq(m.dense_intermediate, 16384);
	ck_assert_int_eq(m.expert_intermediate, 8192);
	ck_assert_int_eq(p.routed_experts, 386547056640LL);
	ck_assert_int_eq(p.dense_mlp, 6039797760LL);
	ck_assert_int_eq(p.total, 400711848960LL);
	ck_assert_int_eq(p.active, 17184691200LL);
	ck_assert_rel(p.total, 400.0 * GIGA, HALF_PCT);
	ck_assert_rel(p.active, 17.0 * GIGA, 0.015);
}
END_TEST

/*
 * A published parameter count: within 2 % of it, or, when the figure is
 * published rounded to whole units (Qwen's "A17B", DeepSeek's "13B"), within
 * the half unit that rounding covers ([16.5 B, 17.5 B) for 17 B).
 */
static void published(double got, double figure, double unit, const char *what)
{
	double tol = fmax(0.02 * figure, unit / 2);
	ck_assert_msg(fabs(got - figure) <= tol, "%s = %.4g, published %.4g (within %.3g)",
		      what, got, figure, tol);
}

/* The whole model's terms at TP 1 with kv_elem_bytes e. */
static void kv_all(const struct model_arch *m, int e, struct model_kv *kv)
{
	model_kv_terms(m, e, 1, 0, m->layers, kv);
}

/*
 * Qwen3 dense (qwen3): Qwen3-8B h 4096, L 36, H 32, H_kv 8, d 128, I 12288,
 * V 151936, untied; q/k RMSNorm of 128 each.
 *   attention/layer 4096*4096 + 2*4096*1024 + 4096*4096 + 2*128 + 4096 (norm)
 *   = 41,947,392; MLP 3*4096*12288 = 150,994,944; post-norm 4096
 *   36*(41,947,392 + 150,994,944 + 4096) + 2*151936*4096 + 4096
 *   = 8,190,735,360 [Qwen3-8B card: 8.2 B].
 *   KV 36*2*8*128*2 = 147,456 B per token, no fixed state.
 * Qwen3-32B: h 5120, L 64, H 64 (q 8192 wide), H_kv 8, I 25600:
 *   64*(5120*8192*2 + 2*5120*1024 + 256 + 3*5120*25600 + 2*5120)
 *   + 2*151936*5120 + 5120 = 32,762,123,264 [card: 32.8 B]; KV 64*2*8*128*2 = 262,144.
 */
START_TEST(test_qwen3_dense)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;

	params("Qwen--Qwen3-8B.json", &m, &p);
	ck_assert_str_eq(m.model_type, "qwen3");
	ck_assert_int_eq(m.mixer_layers[MIX_FULL], 36);
	ck_assert_int_eq(p.total, 8190735360LL);
	published((double)p.total, 8.2e9, 0.1e9, "Qwen3-8B total");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 147456);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(kv.state_bytes_per_seq, 0);
	params("Qwen--Qwen3-32B.json", &m, &p);
	ck_assert_int_eq(p.total, 32762123264LL);
	published((double)p.total, 32.8e9, 0.1e9, "Qwen3-32B total");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 262144);
}
END_TEST

/*
 * Qwen3.5 (text_config of the vision-language wrapper; vLLM qwen3_5.py):
 * layer_types LLLF x 16 (27B) / x 15 (397B), linear = Gated DeltaNet.
 * 27B: h 5120, 24 heads x 256 (q doubled by attn_output_gate), 4 KV heads,
 *   GDN 16 key heads x 128, 48 value heads x 128, conv 4, I 17408, V 248320.
 *   KV per token: 16 full layers * 2 * 4 * 256 * 2 B = 65,536.
 *   State per sequence and GDN layer: conv (4-1) * (2*16*128 + 48*128 = 10240)
 *   * 2 B = 61,440, SSM 48*128*128 * 4 B (mamba_ssm_dtype float32) =
 *   3,145,728: 3,207,168; x 48 = 153,944,064 B.
 * 397B: h 4096, 32 heads, 2 KV heads, GDN 16 x 128 key, 64 x 128 value,
 *   512 experts of 1024, 10 per token, one shared expert of 1024, V 248320.
 *   KV 15*2*2*256*2 = 30,720 B per token; state per GDN layer conv
 *   3*(4096+8192) *2 = 73,728 + SSM 64*128*128*4 = 4,194,304; x 45 =
 *   192,061,440 B. A 1M-token (1,048,576) sequence: 30,720*1,048,576 +
 *   192,061,440 = 32,404,316,160 B. At TP 4: K/V heads replicated (one per
 *   GPU: 15*2*1*256*2 = 15,360 B/token), state split: 45*(3*12288/4*2 +
 *   16*128*128*4) = 48,015,360 B.
 *   Total: per full layer attention 4096*16384 + 2*4096*512 + 8192*4096 +
 *   512 = 104,858,112; per GDN layer 4096*20480 + 4096*128 + 12288*4 + 128 +
 *   128 + 8192*4096 = 118,014,208; per MoE 512*3*4096*1024 + 3*4096*1024 +
 *   4096*512 + 4096 = 6,457,135,104; norms 2*4096 per layer:
 *   15*104,858,112 + 45*118,014,208 + 60*(6,457,135,104 + 8192)
 *   + 2*248320*4096 + 4096 = 396,346,350,336 [name: 397 B, which counts the
 *   0.46 B vision tower we leave out]; active 17,349,040,896 [A17B].
 */
START_TEST(test_qwen35)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;
	char mix[64];

	params("Qwen--Qwen3.5-27B.json", &m, &p);
	ck_assert_str_eq(m.model_type, "qwen3_5");
	ck_assert_int_eq(m.mixer_layers[MIX_LINEAR], 48);
	ck_assert_int_eq(m.mixer_layers[MIX_FULL], 16);
	ck_assert_int_eq(m.ssm_state_bytes, 4);
	ck_assert_int_eq(m.mtp_layers, 1);
	published((double)p.total, 27e9, 1e9, "Qwen3.5-27B total");
	ck_assert_int_eq(p.active, p.total);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 65536);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(kv.state_bytes_per_seq, 153944064.0);

	params("Qwen--Qwen3.5-397B-A17B.json", &m, &p);
	model_layer_mix(&m, mix, sizeof(mix));
	ck_assert_str_eq(mix, "45 linear + 15 full");
	ck_assert_int_eq(m.moe_layers, 60);
	ck_assert_int_eq(m.q_gate, 1);
	ck_assert_int_eq(p.total, 396346350336LL);
	published((double)p.total, 397e9, 1e9, "Qwen3.5-397B total");
	published((double)p.active, 17e9, 1e9, "Qwen3.5-397B active");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 30720);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(kv.state_bytes_per_seq, 192061440.0);
	ck_assert_double_eq(model_kv_seq_bytes(&kv, 1048576), 32404316160.0);
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 1048576), 32404316160.0);
	model_kv_terms(&m, 2, 4, 0, m.layers, &kv);
	ck_assert_double_eq(model_kv_growth_bytes_per_token(&kv), 15360.0);
	ck_assert_double_eq(kv.state_bytes_per_seq, 48015360.0);
	ck_assert_int_eq(kv.state_layers, 45);
}
END_TEST

/*
 * NVIDIA Nemotron-3-Super-120B-A12B-FP8 (nemotron_h): the 88-character
 * hybrid_override_pattern holds 40 'M' (Mamba-2), 8 '*' (attention) and
 * 40 'E' (latent MoE) blocks.
 *   KV: 8 attention layers * 2 * 2 KV heads * 128 * 1 B = 4,096 B per token,
 *   fp8 because hf_quant_config.json says kv_cache_quant_algo FP8 (8,192 in bf16).
 *   State per Mamba layer: conv (4-1) * (128*64 + 2*8*128 = 10,240) * 2 B =
 *   61,440 + SSM 128 heads * 64 * 128 state * 4 B (mamba_ssm_cache_dtype
 *   float32) = 4,194,304: 4,255,744; x 40 = 170,229,760 B.
 *   Total 120,668,707,840 [name: 120 B]; active without the input embedding
 *   12,233,366,528 [A12B]; MTP (1 layer, not loaded) 2.94 B.
 */
START_TEST(test_nemotron_h)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;
	char mix[64];

	load_quant("nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8.json",
		   "nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8.hf_quant_config.json", &m);
	model_params_count(&m, &p);
	ck_assert_str_eq(m.model_type, "nemotron_h");
	model_layer_mix(&m, mix, sizeof(mix));
	ck_assert_str_eq(mix, "40 mamba + 8 full + 40 moe-only");
	ck_assert_int_eq(m.moe_latent, 1024);
	ck_assert_int_eq(m.gated_mlp, 0);
	ck_assert_int_eq(m.mtp_layers, 1);
	ck_assert_int_eq(p.total, 120668707840LL);
	published((double)p.total, 120e9, 1e9, "Nemotron-3-Super total");
	published((double)p.active_no_embed, 12e9, 1e9, "Nemotron-3-Super active");
	ck_assert_str_eq(m.ckpt.quant_method, "modelopt");
	ck_assert_int_eq(m.ckpt.kv_fp8, 1);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTED], WF_FP8);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTER], WF_FP32);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 1), 4096);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 8192);
	kv_all(&m, 1, &kv);
	ck_assert_double_eq(kv.state_bytes_per_seq, 170229760.0);
	ck_assert_int_eq(kv.state_layers, 40);
}
END_TEST

/*
 * Gemma-4-26B-A4B (gemma4, text_config): layer_types SSSSSF x 5; sliding
 * layers 8 KV heads x 256 within sliding_window 1024, full layers
 * num_global_key_value_heads 2 x global_head_dim 512 (attention_k_eq_v: no
 * v_proj, but the cache holds K and V).
 *   KV: full 5*2*2*512*2 = 20,480 B per token; sliding 25*2*8*256*2 =
 *   204,800 B per token up to 1,024 tokens. An 8,192-token sequence:
 *   20,480*8,192 + 204,800*1,024 = 377,487,360 B.
 *   Total 25,233,141,790 [model card: 25.2 B, text], active 3,822,530,590 [3.8 B].
 */
START_TEST(test_gemma4)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;

	params("google--gemma-4-26B-A4B.json", &m, &p);
	ck_assert_str_eq(m.model_type, "gemma4");
	ck_assert_int_eq(m.mixer_layers[MIX_SLIDING], 25);
	ck_assert_int_eq(m.mixer_layers[MIX_FULL], 5);
	ck_assert_int_eq(m.sliding_window, 1024);
	ck_assert_int_eq(p.total, 25233141790LL);
	published((double)p.total, 25.2e9, 0.1e9, "Gemma-4-26B-A4B total");
	published((double)p.active, 3.8e9, 0.1e9, "Gemma-4-26B-A4B active");
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_FULL), 20480.0);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_WINDOW), 204800.0);
	ck_assert_double_eq(model_kv_window_tokens(&kv), 1024.0);
	ck_assert_double_eq(model_kv_seq_bytes(&kv, 8192), 377487360.0);
}
END_TEST

/*
 * MiniMax-M2.5 (minimax_m2): 62 full layers, 48 heads, 8 KV heads x 128,
 * 256 experts of intermediate_size 1536, 8 per token, no shared expert,
 * per-layer q/k norms over all heads, fp32 router (vLLM minimax_m2.py).
 *   KV 62*2*8*128*2 = 253,952 B per token.
 *   Total 228,689,764,864 [229 B]; active without embedding and head:
 *   11,030,553,088 - 2*614,596,608 = 9,801,359,872 [10 B active].
 *   fp8 e4m3 with 128x128 blocks; gate, e_score_correction_bias and lm_head kept.
 */
START_TEST(test_minimax_m2)
{
	struct model_arch m;
	struct model_params p;

	params("MiniMaxAI--MiniMax-M2.5.json", &m, &p);
	ck_assert_str_eq(m.model_type, "minimax_m2");
	ck_assert_int_eq(m.qk_norm, 2);
	ck_assert_int_eq(m.mtp_layers, 3);
	ck_assert_int_eq(p.total, 228689764864LL);
	published((double)p.total, 229e9, 1e9, "MiniMax-M2.5 total");
	published((double)(p.active_no_embed - p.lm_head), 10e9, 1e9, "MiniMax-M2.5 active");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 253952);
	ck_assert_str_eq(m.ckpt.quant_method, "fp8");
	ck_assert_int_eq(m.ckpt.fmt[MOD_ATTN], WF_FP8);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTER], WF_FP32);
}
END_TEST

/*
 * DeepSeek-V3.2 (deepseek_v32): V3 plus a lightning indexer per layer
 * (index_n_heads 64 x index_head_dim 128, top 2048): every layer DSA.
 *   KV per token and layer: the latent (512 + 64) * 2 B = 1,152 in bf16, or
 *   vLLM's fp8_ds_mla 512 + 4*4 + 64*2 = 656 in fp8; plus the indexer's key,
 *   128 fp8 + one fp32 scale = 132 B either way.
 *   61*(1,152 + 132) = 78,324 B; fp8 61*(656 + 132) = 48,068 B.
 *   Indexer/layer: wq_b 1536*8192 + wk 7168*128 + k_norm 2*128 + weights_proj
 *   7168*64 = 13,959,424; x 61 + V3's 671,026,419,200 = 671,877,944,064
 *   [671 B, without the MTP layer]; active without the input embedding
 *   37,477,143,296 [37 B].
 *   Attention reads top-2048 latents, the indexer every key.
 */
START_TEST(test_deepseek_v32)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;

	params("deepseek-ai--DeepSeek-V3.2.json", &m, &p);
	ck_assert_str_eq(m.model_type, "deepseek_v32");
	ck_assert_int_eq(m.mixer_layers[MIX_MLA_SPARSE], 61);
	ck_assert_int_eq(m.index_topk, 2048);
	ck_assert_int_eq(p.indexer, 61LL * 13959424);
	ck_assert_int_eq(p.total, 671877944064LL);
	published((double)p.total, 671e9, 1e9, "DeepSeek-V3.2 total");
	published((double)p.active_no_embed, 37e9, 1e9, "DeepSeek-V3.2 active");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 78324);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 1), 48068);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_INDEXER), 61.0 * 132);
	/* Of the latent term, reads stop at top-k: no term reads 1,152 B per key uncapped. */
	for (int i = 0; i < kv.nterms; i++)
		if (kv.term[i].category == KV_FULL && kv.term[i].read_bytes > 0)
			ck_assert_double_eq(kv.term[i].cap, 2048.0);
}
END_TEST

/*
 * DeepSeek-V4 (deepseek_v4; vLLM deepseek_v4_attention.py): every layer
 * attends its last sliding_window = 128 tokens; compress_ratios 4 (C4A: one
 * entry per 4 tokens, the indexer's top-k of them) or 128 (C128A: one per 128,
 * all attended) add compressed entries; 0 is window only. An entry is 584 B
 * (448 fp8 nope + 64 bf16 rope + 7 scales + 1 pad), an indexer key 132 B.
 *   Flash (2 SWA, 21 C4A, 20 C128A): per token 21*(584/4 + 132/4) + 20*584/128
 *   = 3,850.25 B; window 43*128*584 = 3,214,336 B; compressor states per
 *   sequence: C4A 2*4 tokens * 2*2*512*4 B = 65,536 + the indexer's 8 *
 *   2*2*128*4 = 16,384; C128A 128 * 2*512*4 = 524,288: 21*81,920 + 20*524,288
 *   = 12,206,080 B.
 *   Pro (30 C4A, 31 C128A): 30*179 + 31*4.5625 = 5,511.4375 B per token;
 *   window 61*128*584 = 4,559,872; state 30*81,920 + 31*524,288 = 18,710,528.
 *   A 1M-token sequence: 5,511.4375*1,048,576 + 4,559,872 + 18,710,528
 *   = 5,802,431,488 B, against DeepSeek-V3's 70,272*1,048,576 = 73,685,532,672.
 * Published: Flash 284 B / 13 B, Pro 1.6 T / 49 B (without MTP).
 */
START_TEST(test_deepseek_v4)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;
	char mix[64];

	params("deepseek-ai--DeepSeek-V4-Flash.json", &m, &p);
	ck_assert_str_eq(m.model_type, "deepseek_v4");
	model_layer_mix(&m, mix, sizeof(mix));
	ck_assert_str_eq(mix, "2 SWA + 21 C4A + 20 C128A");
	ck_assert_int_eq(m.mtp_layers, 1);
	published((double)p.total, 284e9, 1e9, "DeepSeek-V4-Flash total");
	published((double)p.active_no_embed, 13e9, 1e9, "DeepSeek-V4-Flash active");
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTED], WF_MXFP4);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ATTN], WF_FP8);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(model_kv_growth_bytes_per_token(&kv), 3850.25);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_WINDOW) * 128, 3214336.0);
	ck_assert_double_eq(kv.state_bytes_per_seq, 12206080.0);

	params("deepseek-ai--DeepSeek-V4-Pro.json", &m, &p);
	ck_assert_rel(p.total, 1600e9, 0.02);
	published((double)p.active_no_embed, 49e9, 1e9, "DeepSeek-V4-Pro active");
	/* Fixed fp8 entries: the same bytes whatever KV dtype is asked. */
	for (int e = 1; e <= 2; e++) {
		kv_all(&m, e, &kv);
		ck_assert_double_eq(model_kv_growth_bytes_per_token(&kv), 5511.4375);
		ck_assert_double_eq(kv.state_bytes_per_seq, 18710528.0);
		ck_assert_double_eq(model_kv_seq_bytes(&kv, 1048576), 5802431488.0);
	}
	/* Not split over TP: one latent per token on every rank. */
	model_kv_terms(&m, 2, 8, 0, m.layers, &kv);
	ck_assert_double_eq(model_kv_growth_bytes_per_token(&kv), 5511.4375);
}
END_TEST

/*
 * GLM-5-FP8 (glm_moe_dsa): V3.2's design with 78 layers, 32 indexer heads.
 *   KV 78*(1,152 + 132) = 100,152 B per token (bf16 latent, fp8 indexer).
 *   Total 743,911,218,432 [744 B]; active without embedding and head
 *   40,833,146,112 - 951,582,720 = 39,881,563,392 [40 B].
 *   modules_to_not_convert keeps embed, head, norms, routers and the
 *   indexer's weights_proj (indexers_proj) in bf16; the indexer's wq_b/wk stay fp8.
 * Kimi-K2.5 (kimi_k25 wrapping a kimi_k2 text model): K2's 1,026,408,232,448
 *   [1.04 T] and 32,861,500,928 active [NVIDIA: 32.86 B]; compressed-tensors
 *   int4 w4a16, group 32, symmetric, on routed experts only (the ignore list
 *   names attention, shared experts and the dense MLP):
 *   1,014,686,023,680 * (0.5 + 2/32) = 570,760,888,320 B of experts.
 */
START_TEST(test_glm5_kimi25)
{
	struct model_arch m;
	struct model_params p;
	struct model_weights w;

	params("zai-org--GLM-5-FP8.json", &m, &p);
	ck_assert_str_eq(m.model_type, "glm_moe_dsa");
	ck_assert_int_eq(m.mixer_layers[MIX_MLA_SPARSE], 78);
	ck_assert_int_eq(p.total, 743911218432LL);
	published((double)p.total, 744e9, 1e9, "GLM-5 total");
	published((double)(p.active_no_embed - p.lm_head), 40e9, 1e9, "GLM-5 active");
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 2), 100152);
	ck_assert_int_eq(m.ckpt.fmt[MOD_INDEXER], WF_FP8);

	params("moonshotai--Kimi-K2.5.json", &m, &p);
	ck_assert_str_eq(m.model_type, "kimi_k25");
	ck_assert_int_eq(p.total, 1026408232448LL);
	published((double)p.total, 1.04e12, 0.01e12, "Kimi-K2.5 total");
	ck_assert_int_eq(p.active, 32861500928LL);
	ck_assert_str_eq(m.ckpt.quant_method, "compressed-tensors");
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTED], WF_INT4);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ATTN], WF_INT4);	/* targets Linear ... */
	model_weights_bytes(&m, PREC_NATIVE, &w);	/* ... but ignore keeps it bf16 */
	ck_assert_double_eq(w.routed_experts, 570760888320.0);
	ck_assert_double_eq(w.attention, 2.0 * (double)p.attention);
}
END_TEST

/*
 * Quantised Qwen3 checkpoints.
 * Qwen3-30B-A3B-FP8: quant_method fp8, 128x128 blocks, fp32 scales;
 *   modules_to_not_convert keeps lm_head, norms and the routers. Linear:
 *   attention 48*(2048*4096 + 2*2048*512 + 4096*2048) = 905,969,664 and
 *   experts 28,991,029,248 at 1 + 4/16384 B: 29,904,108,700.5 B; bf16: the
 *   attention norms 48*(2048 + 2*128) = 110,592, routers 48*2048*128 =
 *   12,582,912, embedding and head 2*311,164,928, norms 100,352 at 2 B =
 *   1,270,245,632 B. Total 31,174,354,332.5 B (families-b: 31.17 GB).
 * nvidia/Qwen3-235B-A22B-NVFP4 (ModelOpt, hf_quant_config.json): NVFP4 group
 *   16 (0.5 + 1/16 B) on attention and experts; kv_cache_quant_algo FP8, so
 *   the KV is fp8 by default: 94*2*4*128*1 = 96,256 B per token.
 */
START_TEST(test_quantised_qwen3)
{
	struct model_arch m;
	struct model_params p;
	struct model_weights w;

	params("Qwen--Qwen3-30B-A3B-FP8.json", &m, &p);
	ck_assert_str_eq(m.ckpt.quant_method, "fp8");
	model_weights_bytes(&m, PREC_NATIVE, &w);
	ck_assert_rel(w.total, (905969664.0 + 28991029248.0) * (1 + 4.0 / 16384) +
		      2.0 * (110592 + 12582912 + 2 * 311164928.0 + 100352), 1e-12);

	load_quant("nvidia--Qwen3-235B-A22B-NVFP4.json",
		   "nvidia--Qwen3-235B-A22B-NVFP4.hf_quant_config.json", &m);
	model_params_count(&m, &p);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ATTN], WF_NVFP4);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ROUTED], WF_NVFP4);
	ck_assert_int_eq(m.ckpt.kv_fp8, 1);
	ck_assert_int_eq(model_kv_bytes_per_token(&m, 1), 96256);
	model_weights_bytes(&m, PREC_NATIVE, &w);
	ck_assert_double_eq(w.routed_experts, (double)p.routed_experts * 0.5625);

	/*
	 * The bf16 Qwen3-235B-A22B as an NVFP4 checkpoint (model_arch_as_nvfp4, for
	 * measurements published in fp4): the same 0.5625 B on the experts and
	 * attention, routers and embeddings still bf16 (2 B); the KV stays as the
	 * bf16 checkpoint has it (no kv_cache_quant_algo).
	 */
	load("Qwen--Qwen3-235B-A22B.json", &m);
	ck_assert_int_eq(model_arch_is_fp4(&m), 0);
	model_arch_as_nvfp4(&m);
	ck_assert_int_eq(model_arch_is_fp4(&m), 1);
	ck_assert_str_eq(m.ckpt.quant_method, "modelopt");
	ck_assert_int_eq(m.ckpt.kv_fp8, 0);
	model_params_count(&m, &p);
	model_weights_bytes(&m, PREC_NATIVE, &w);
	ck_assert_double_eq(w.routed_experts, (double)p.routed_experts * 0.5625);
	ck_assert_double_eq(w.router, (double)p.router * 2);
	ck_assert_double_eq(w.embedding, (double)p.embedding * 2);
}
END_TEST

/*
 * Gemma-4 E-model shape, tiny (gemma4): 4 layers SSSF, h 64, 4 heads, 1 KV head
 * x 16 (sliding) / x 32 (full, global_head_dim), I 128, V 100, per-layer
 * embeddings of 8 from a 100-row table, the last 2 layers KV-shared with
 * double-wide MLPs, tied embeddings.
 *   sliding attention 64*64 + 2*64*16 + 64*64 + 2*16 (q/k norms) + 64 (input
 *   norm) = 10,336; full 64*128 + 2*64*32 + 128*64 + 2*32 + 64 = 20,608;
 *   MLP 3*64*128 = 24,576 (49,152 doubled on layers 2 and 3); norms 3*64 + 1
 *   scalar = 193 a layer; per-layer embeddings: table 100*4*8 = 3,200,
 *   projection 64*32 = 2,048, gate + projection 4*2*64*8 = 4,096, norms 8 +
 *   4*64 = 264; embedding 6,400; final norm 64:
 *   3*10,336 + 20,608 + 2*24,576 + 2*49,152 + 4*193 + 3,200 + 2,048 + 4,096 +
 *   264 + 6,400 + 64 = 215,916.
 *   KV: layers 0 and 1 hold 2*1*16*2 = 64 B per token each up to the 32-token
 *   window; layers 2 and 3 read another layer's cache and hold none.
 */
START_TEST(test_gemma4_e_model)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;
	char err[256];
	const char *cfg = "{\"model_type\":\"gemma4\",\"tie_word_embeddings\":true,\"text_config\":{"
		"\"model_type\":\"gemma4_text\",\"num_hidden_layers\":4,\"hidden_size\":64,"
		"\"num_attention_heads\":4,\"num_key_value_heads\":1,\"head_dim\":16,"
		"\"global_head_dim\":32,\"intermediate_size\":128,\"vocab_size\":100,"
		"\"max_position_embeddings\":1024,\"sliding_window\":32,"
		"\"layer_types\":[\"sliding_attention\",\"sliding_attention\",\"sliding_attention\","
		"\"full_attention\"],\"hidden_size_per_layer_input\":8,"
		"\"vocab_size_per_layer_input\":100,\"num_kv_shared_layers\":2,"
		"\"use_double_wide_mlp\":true,\"enable_moe_block\":false}}";

	ck_assert_msg(parse_str(cfg, &m, err, sizeof(err)) == 0, "%s", err);
	model_params_count(&m, &p);
	ck_assert_int_eq(p.total, 215916);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_WINDOW), 128.0);
	ck_assert_double_eq(model_kv_category_bytes(&kv, KV_FULL), 0.0);
	ck_assert_double_eq(model_kv_seq_bytes(&kv, 1000), 128.0 * 32);
}
END_TEST

/*
 * Fields an unknown model_type may use and piqplan reads generically (as in
 * poolside's laguna and StepFun's step3p7): mlp_layer_types per layer,
 * num_attention_heads_per_layer, share_expert_dim. Tiny: 2 layers, h 64,
 * 4 KV heads x 8; layer 0 dense with 4 query heads, layer 1 MoE with 8.
 *   attention: layer 0 64*32 + 2*64*32 + 32*64 + 64 (input norm) = 8,256;
 *   layer 1 64*64 + 2*64*32 + 64*64 + 64 = 12,352; dense MLP 3*64*128 =
 *   24,576; MoE 4 experts * 3*64*16 + one shared expert 3*64*16 + router
 *   64*4 = 15,616; post-attention norms 2*64; embedding and head 2*100*64;
 *   final norm 64: 8,256 + 12,352 + 24,576 + 15,616 + 128 + 12,800 + 64 = 73,792.
 */
#define GENERIC_MOE(heads) \
	"{\"model_type\":\"newmoe\",\"num_hidden_layers\":2,\"hidden_size\":64," \
	"\"num_attention_heads\":8,\"num_key_value_heads\":4,\"head_dim\":8," \
	"\"intermediate_size\":128,\"vocab_size\":100,\"max_position_embeddings\":64," \
	"\"num_experts\":4,\"num_experts_per_tok\":2,\"moe_intermediate_size\":16," \
	"\"share_expert_dim\":16,\"mlp_layer_types\":[\"dense\",\"sparse\"]," \
	"\"num_attention_heads_per_layer\":" heads "}"

START_TEST(test_generic_fields)
{
	struct model_arch m;
	struct model_params p;
	char err[256];

	ck_assert_msg(parse_str(GENERIC_MOE("[4,8]"), &m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(m.note, "not a known family"));
	ck_assert_int_eq(m.dense_layers, 1);
	ck_assert_int_eq(m.moe_layers, 1);
	ck_assert_int_eq(m.shared_experts, 1);
	model_params_count(&m, &p);
	ck_assert_int_eq(p.total, 73792);
	/* 6 query heads cannot share 4 K/V heads evenly. */
	ck_assert_int_eq(parse_str(GENERIC_MOE("[6,8]"), &m, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "num_attention_heads_per_layer"));
}
END_TEST

/*
 * Kimi Delta Attention (kimi_linear, vLLM layers/kda.py), tiny: 4 layers, the
 * 1-based full_attn_layers [4] MLA and the rest KDA with 2 heads x 16, conv 4.
 *   KDA state per sequence and layer: conv 3 * (4-1) * 2*16 * 2 B = 576 + the
 *   recurrent state 2 * 16 * 16 * 4 B (fp32) = 2,048: 2,624; x 3 = 7,872 B.
 *   KDA parameters per layer (h 64, P = 32): q/k/v 3*64*32 = 6,144, f_a/f_b and
 *   g_a/g_b 2*(64*16 + 16*32) = 3,072, b 64*2 = 128, o 32*64 = 2,048: 11,392
 *   linear; fp32 dt_bias 32, A_log 2, convs 3*4*32 = 384: 418; o_norm 16; input
 *   norm 64: 11,890.
 */
START_TEST(test_kimi_linear)
{
	struct model_arch m;
	struct model_params p;
	struct model_kv kv;
	char err[256];
	const char *cfg = "{\"model_type\":\"kimi_linear\",\"num_hidden_layers\":4,\"hidden_size\":64,"
		"\"num_attention_heads\":4,\"vocab_size\":100,\"max_position_embeddings\":1024,"
		"\"intermediate_size\":128,\"kv_lora_rank\":32,\"qk_nope_head_dim\":16,"
		"\"qk_rope_head_dim\":8,\"v_head_dim\":16,\"linear_attn_config\":{"
		"\"full_attn_layers\":[4],\"kda_layers\":[1,2,3],\"num_heads\":2,\"head_dim\":16,"
		"\"short_conv_kernel_size\":4}}";

	ck_assert_msg(parse_str(cfg, &m, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(m.mixer_layers[MIX_LINEAR], 3);
	ck_assert_int_eq(m.mixer_layers[MIX_MLA], 1);
	ck_assert_int_eq(m.mixer[3], MIX_MLA);
	kv_all(&m, 2, &kv);
	ck_assert_double_eq(kv.state_bytes_per_seq, 7872.0);
	/* The MLA layer: (32 + 8) * 2 = 80 B per token. */
	ck_assert_double_eq(model_kv_growth_bytes_per_token(&kv), 80.0);
	model_params_count(&m, &p);
	ck_assert_int_eq(p.mixers, 3 * 11890);
}
END_TEST

/*
 * ModelOpt MIXED_PRECISION (nvidia's DeepSeek-V4 NVFP4 export): quantized_layers
 * names the quantised modules with their own quant_algo; the rest is bf16.
 */
START_TEST(test_modelopt_mixed)
{
	struct model_arch m;
	char err[256];
	const char *cfg = "{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		"\"num_attention_heads\":4,\"intermediate_size\":128,\"vocab_size\":100,"
		"\"max_position_embeddings\":2048}";
	const char *mix = "{\"producer\":{\"name\":\"modelopt\"},\"quantization\":{"
		"\"quant_algo\":\"MIXED_PRECISION\",\"quantized_layers\":{"
		"\"model.layers.0.mlp\":{\"quant_algo\":\"NVFP4\",\"group_size\":16},"
		"\"model.layers.1.mlp\":{\"quant_algo\":\"NVFP4\",\"group_size\":16}}}}";

	ck_assert_msg(model_arch_parse_quant(cfg, strlen(cfg), mix, strlen(mix), &m, err,
					     sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(m.ckpt.fmt[MOD_DENSE], WF_NVFP4);
	ck_assert_double_eq(m.ckpt.bytes[MOD_DENSE], 0.5625);
	ck_assert_int_eq(m.ckpt.fmt[MOD_ATTN], WF_BF16);
}
END_TEST

/*
 * A minimal llama config; tests below vary one field of it. The variation
 * comes first: cJSON answers a duplicated key with its first occurrence.
 */
#define LLAMA_MIN(extra) \
	"{" extra "\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":64," \
	"\"num_attention_heads\":4,\"intermediate_size\":128,\"vocab_size\":100," \
	"\"max_position_embeddings\":2048}"

START_TEST(test_small_configs)
{
	struct model_arch m;
	struct model_params p;
	char err[256];

	/* kv heads omitted: MHA, head_dim = 64/4 = 16. */
	ck_assert_int_eq(parse_str(LLAMA_MIN(""), &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.attention, ATTN_MHA);
	ck_assert_str_eq(attn_kind_name(m.attention), "MHA");
	ck_assert_int_eq(m.kv_heads, 4);
	ck_assert_int_eq(m.head_dim, 16);
	/*
	 * 2 layers * (4*64*64 attention + 64 norm + 3*64*128 MLP + 64 norm)
	 * + 2*100*64 + 64 = 2*(16384 + 64 + 24576 + 64) + 12800 + 64 = 95,040.
	 */
	model_params_count(&m, &p);
	ck_assert_int_eq(p.total, 95040);
	/* Tied: the LM head is gone: 95,040 - 6,400. */
	ck_assert_int_eq(parse_str(LLAMA_MIN("\"tie_word_embeddings\":true,"), &m,
				   err, sizeof(err)), 0);
	model_params_count(&m, &p);
	ck_assert_int_eq(p.lm_head, 0);
	ck_assert_int_eq(p.total, 88640);

	/* Qwen2 with sliding on: layers from max_window_layers (20) of 28 slide. */
	ck_assert_int_eq(parse_str("{\"model_type\":\"qwen2\",\"num_hidden_layers\":28,"
		"\"hidden_size\":3584,\"num_attention_heads\":28,\"num_key_value_heads\":4,"
		"\"intermediate_size\":18944,\"vocab_size\":152064,"
		"\"max_position_embeddings\":32768,\"use_sliding_window\":true,"
		"\"sliding_window\":4096,\"max_window_layers\":20}", &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.sliding_layers, 8);
	ck_assert_int_eq(m.sliding_window, 4096);
	/* Per layer 2*4*128*2 = 2,048 B/token: 20*10000*2048 + 8*4096*2048. */
	ck_assert_double_eq(model_kv_bytes_per_sequence(&m, 2, 10000),
			    409600000.0 + 67108864.0);

	/* The llama4 text tower may also come alone, as model_type llama4_text. */
	ck_assert_int_eq(parse_str("{\"model_type\":\"llama4_text\",\"num_hidden_layers\":4,"
		"\"hidden_size\":64,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
		"\"head_dim\":16,\"vocab_size\":10,\"max_position_embeddings\":64,"
		"\"num_local_experts\":4,\"num_experts_per_tok\":1,\"intermediate_size\":32,"
		"\"intermediate_size_mlp\":64,\"interleave_moe_layer_step\":2}",
		&m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.moe_layers, 2);
	ck_assert_int_eq(m.dense_layers, 2);

	/* A buffer that goes on past len: only len bytes are JSON. */
	{
		const char *txt = LLAMA_MIN("") "garbage";
		ck_assert_int_eq(model_arch_parse(txt, strlen(LLAMA_MIN("")), &m, err,
						  sizeof(err)), 0);
	}
}
END_TEST

/* Parse json and expect failure with a message containing want. */
static void expect_error(const char *json, const char *want)
{
	struct model_arch m;
	char err[256];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(parse_str(json, &m, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
	ck_assert_int_eq(m.layers, 0);	/* nothing half-filled */
}

START_TEST(test_errors)
{
	struct model_arch m;
	char err[8];

	expect_error("{\"model_type\":\"bert\",\"hidden_size\":768}",
		     "unsupported model_type 'bert'");
	expect_error("{\"model_type\":\"llama\",", "malformed");
	expect_error("", "malformed");
	expect_error("[1,2]", "not a JSON object");
	expect_error("{\"hidden_size\":1}", "missing field 'model_type'");
	expect_error("{\"model_type\":7}", "'model_type' is not a string");
	expect_error("{\"model_type\":\"llama\",\"num_hidden_layers\":2,"
		     "\"num_attention_heads\":4,\"intermediate_size\":128,"
		     "\"vocab_size\":100,\"max_position_embeddings\":2048}",
		     "missing field 'hidden_size'");
	expect_error(LLAMA_MIN("\"num_hidden_layers\":0,"), "num_hidden_layers");
	expect_error(LLAMA_MIN("\"num_hidden_layers\":2.5,"), "num_hidden_layers");
	expect_error(LLAMA_MIN("\"num_hidden_layers\":\"2\","),
		     "field 'num_hidden_layers' is not a number");
	expect_error(LLAMA_MIN("\"num_key_value_heads\":3,"), "num_key_value_heads");
	expect_error(LLAMA_MIN("\"num_key_value_heads\":8,"), "num_key_value_heads");
	expect_error(LLAMA_MIN("\"tie_word_embeddings\":1,"),
		     "'tie_word_embeddings' is not a boolean");
	expect_error(LLAMA_MIN("\"quantization_config\":{\"quant_method\":\"bitsandbytes\"},"),
		     "unsupported quant_method 'bitsandbytes'");
	expect_error(LLAMA_MIN("\"quantization_config\":{\"bits\":4},"),
		     "missing field 'quantization_config.quant_method'");
	expect_error("{\"model_type\":\"llama\",\"num_hidden_layers\":2,\"hidden_size\":60,"
		     "\"num_attention_heads\":8,\"intermediate_size\":128,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048}", "hidden_size");
	/* k > E */
	expect_error("{\"model_type\":\"mixtral\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"intermediate_size\":128,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048,\"num_local_experts\":4,"
		     "\"num_experts_per_tok\":5}", "'num_experts_per_tok' (5) exceeds");
	expect_error("{\"model_type\":\"mixtral\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"intermediate_size\":128,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048,\"num_experts_per_tok\":2}",
		     "missing field 'num_local_experts'");
	/* llama4 without its text tower, and with a field missing inside it. */
	expect_error("{\"model_type\":\"llama4\"}", "missing field 'text_config'");
	expect_error("{\"model_type\":\"llama4\",\"text_config\":{\"num_hidden_layers\":2}}",
		     "missing field 'text_config.hidden_size'");
	/* DeepSeek without its MLA ranks. */
	expect_error("{\"model_type\":\"deepseek_v3\",\"num_hidden_layers\":2,"
		     "\"hidden_size\":64,\"num_attention_heads\":4,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048,\"n_routed_experts\":8,"
		     "\"num_experts_per_tok\":2,\"moe_intermediate_size\":16}",
		     "missing field 'kv_lora_rank'");
	/* gpt_oss layer_types of the wrong length. */
	expect_error("{\"model_type\":\"gpt_oss\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048,\"num_local_experts\":4,"
		     "\"experts_per_token\":2,\"intermediate_size\":16,"
		     "\"layer_types\":[\"sliding_attention\"],\"sliding_window\":8}",
		     "layer_types");

	/* Fields that would overflow the int64 counts are refused. */
	expect_error(LLAMA_MIN("\"vocab_size\":1e15,"), "implausible model");
	expect_error("{\"model_type\":\"mixtral\",\"num_hidden_layers\":1000,"
		     "\"hidden_size\":1000000,\"num_attention_heads\":4,"
		     "\"intermediate_size\":1000000,\"vocab_size\":100,"
		     "\"max_position_embeddings\":2048,\"num_local_experts\":60000,"
		     "\"num_experts_per_tok\":2}", "implausible model");

	/* Layer kinds piqplan cannot interpret are refused, naming the field. */
	expect_error(LLAMA_MIN("\"layer_types\":[\"conv\",\"full_attention\"],"),
		     "field 'layer_types' has unknown type 'conv'");
	expect_error("{\"model_type\":\"nemotron_h\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"vocab_size\":100,\"max_position_embeddings\":64,"
		     "\"hybrid_override_pattern\":\"*X\"}",
		     "field 'hybrid_override_pattern' has unknown block 'X'");
	expect_error("{\"model_type\":\"nemotron_h\",\"num_hidden_layers\":3,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"vocab_size\":100,\"max_position_embeddings\":64,"
		     "\"hybrid_override_pattern\":\"*M\"}", "must have num_hidden_layers (3)");
	expect_error(LLAMA_MIN("\"num_kv_shared_layers\":4,"),
		     "field 'num_kv_shared_layers' is not understood");
	expect_error(LLAMA_MIN("\"attn_type_list\":[0,1],"),
		     "field 'attn_type_list' is not understood");
	expect_error("{\"model_type\":\"deepseek_v4\",\"num_hidden_layers\":2,\"hidden_size\":64,"
		     "\"num_attention_heads\":4,\"vocab_size\":100,\"max_position_embeddings\":64,"
		     "\"head_dim\":32,\"q_lora_rank\":16,\"qk_rope_head_dim\":8,\"o_groups\":2,"
		     "\"o_lora_rank\":8,\"sliding_window\":8,\"index_topk\":4,\"index_n_heads\":2,"
		     "\"index_head_dim\":8,\"n_routed_experts\":4,\"num_experts_per_tok\":2,"
		     "\"moe_intermediate_size\":8,\"compress_ratios\":[4,16]}",
		     "compress_ratios' has ratio 16");
	/* An unknown model_type: read when every field is understood, refused otherwise. */
	{
		struct model_arch u;
		char e[256];
		const char *ok = "{\"model_type\":\"newfamily\",\"architectures\":[\"X\"],"
			"\"num_hidden_layers\":2,\"hidden_size\":64,\"num_attention_heads\":4,"
			"\"intermediate_size\":128,\"vocab_size\":100,"
			"\"max_position_embeddings\":2048,\"rope_theta\":10000,"
			"\"rms_norm_eps\":1e-6,\"torch_dtype\":\"bfloat16\"}";
		ck_assert_int_eq(parse_str(ok, &u, e, sizeof(e)), 0);
		ck_assert_str_eq(u.model_type, "newfamily");
		ck_assert_ptr_nonnull(strstr(u.note, "not a known family"));
	}
	expect_error("{\"model_type\":\"newfamily\",\"num_hidden_layers\":2,"
		     "\"hidden_size\":64,\"num_attention_heads\":4,\"intermediate_size\":128,"
		     "\"vocab_size\":100,\"max_position_embeddings\":2048,"
		     "\"mystery_ratio\":3}",
		     "unsupported model_type 'newfamily': field 'mystery_ratio' is not understood");
	/* Absurd sizes are refused before any loop: 2^31 layers, an oversized list. */
	expect_error(LLAMA_MIN("\"num_hidden_layers\":2147483648,"),
		     "field 'num_hidden_layers' out of range");
	expect_error(LLAMA_MIN("\"num_hidden_layers\":1025,"), "1..1024");
	/* Quantisations piqplan cannot read name their quant_method. */
	expect_error(LLAMA_MIN("\"quantization_config\":{\"quant_method\":\"compressed-tensors\","
			       "\"config_groups\":{\"g\":{\"targets\":[\"Linear\"],"
			       "\"weights\":{\"num_bits\":3,\"type\":\"int\"}}}},"),
		     "unsupported quant_method 'compressed-tensors'");
	expect_error(LLAMA_MIN("\"quantization_config\":{\"quant_method\":\"modelopt\","
			       "\"quant_algo\":\"W2A16\"},"),
		     "unsupported quant_method 'modelopt' quant_algo 'W2A16'");
	expect_error(LLAMA_MIN("\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":3},"),
		     "unsupported quant_method 'gptq'");
	{
		struct model_arch u;
		char e[256];
		const char *cfg = LLAMA_MIN("");
		const char *bad = "{\"quantization\":{\"quant_algo\":\"INT2\"}}";
		ck_assert_int_eq(model_arch_parse_quant(cfg, strlen(cfg), bad, strlen(bad), &u, e,
							sizeof(e)), -1);
		ck_assert_ptr_nonnull(strstr(e, "unsupported quant_method 'modelopt'"));
	}

	/* A short error buffer is truncated, never overrun (ASan watches). */
	ck_assert_int_eq(model_arch_parse("{\"model_type\":\"bert\"}", 21, &m, err,
					  sizeof(err)), -1);
	ck_assert_str_eq(err, "unsuppo");	/* 7 chars + NUL */
	ck_assert_int_eq(model_arch_parse("{", 1, &m, NULL, 0), -1);
}
END_TEST

START_TEST(test_names)
{
	enum precision p;

	ck_assert_str_eq(precision_name(PREC_NATIVE), "native");
	ck_assert_str_eq(precision_name(PREC_BF16), "bf16");
	ck_assert_str_eq(precision_name(PREC_FP8), "fp8");
	ck_assert_str_eq(precision_name(PREC_FP4), "fp4");
	ck_assert_int_eq(precision_parse("fp8", &p), 0);
	ck_assert_int_eq(p, PREC_FP8);
	ck_assert_int_eq(precision_parse("native", &p), 0);
	ck_assert_int_eq(p, PREC_NATIVE);
	ck_assert_int_eq(precision_parse("fp4", &p), 0);
	ck_assert_int_eq(p, PREC_FP4);
	ck_assert_int_eq(precision_parse("int4", &p), -1);
	ck_assert_int_eq(precision_parse("", &p), -1);
	ck_assert_int_eq(precision_parse(NULL, &p), -1);
	/* bf16 2 B; fp8 1 B; mxfp4 4 bits + 8-bit scale per 32 = 4.25 bits = 0.53125 B. */
	ck_assert_double_eq(weight_format_bytes(WF_BF16), 2.0);
	ck_assert_double_eq(weight_format_bytes(WF_FP8), 1.0);
	ck_assert_double_eq(weight_format_bytes(WF_MXFP4), 0.53125);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, test_llama_8b);
	tcase_add_test(tc, test_llama_70b_405b);
	tcase_add_test(tc, test_qwen25_7b);
	tcase_add_test(tc, test_mixtral);
	tcase_add_test(tc, test_qwen3_moe);
	tcase_add_test(tc, test_deepseek_v3);
	tcase_add_test(tc, test_layers_alike);
	tcase_add_test(tc, test_kimi_k2);
	tcase_add_test(tc, test_gpt_oss);
	tcase_add_test(tc, test_llama4);
	tcase_add_test(tc, test_qwen3_dense);
	tcase_add_test(tc, test_qwen35);
	tcase_add_test(tc, test_nemotron_h);
	tcase_add_test(tc, test_gemma4);
	tcase_add_test(tc, test_minimax_m2);
	tcase_add_test(tc, test_deepseek_v32);
	tcase_add_test(tc, test_deepseek_v4);
	tcase_add_test(tc, test_glm5_kimi25);
	tcase_add_test(tc, test_quantised_qwen3);
	tcase_add_test(tc, test_gemma4_e_model);
	tcase_add_test(tc, test_generic_fields);
	tcase_add_test(tc, test_modelopt_mixed);
	tcase_add_test(tc, test_kimi_linear);
	tcase_add_test(tc, test_small_configs);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
