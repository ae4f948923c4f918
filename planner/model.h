/*
 * model.h - a model's architecture, read from its Hugging Face config.json,
 * and what follows from it: parameter counts per module, weight bytes per
 * precision, KV-cache bytes per token.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. The caller hands in the
 * text of config.json; everything else is derived from it.
 *
 * Families understood (config.json "model_type"): llama, mixtral, qwen2,
 * qwen3_moe, deepseek_v3, kimi_k2 (DeepSeek-V3 layout), gpt_oss and llama4
 * (the text tower under "text_config"). Anything else is refused by name.
 */
#ifndef PIQPLAN_MODEL_H
#define PIQPLAN_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum attn_kind {
	ATTN_MHA,	/* kv_heads == heads */
	ATTN_GQA,	/* kv_heads < heads, K/V shared by groups of query heads */
	ATTN_MLA,	/* DeepSeek multi-head latent attention: one compressed latent per token */
};

/* How a group of weights is stored. */
enum weight_format {
	WF_BF16,	/* 2 bytes per parameter */
	WF_FP8,		/* 1 byte per parameter (+ block scales, negligible) */
	WF_MXFP4,	/* 4 bits + one 8-bit scale per 32 values: 4.25 bits */
};

/* What the user asks an instance to run the weights in. */
enum precision {
	PREC_NATIVE,	/* what the checkpoint's quantization_config says */
	PREC_BF16,
	PREC_FP8,	/* linear layers fp8; embeddings, LM head, norms, router bf16 */
	PREC_FP4,	/* linear layers mxfp4; embeddings, LM head, norms, router bf16 */
};

struct model_arch {
	char model_type[32];	/* family, as config.json names it ("deepseek_v3") */
	enum attn_kind attention;
	int layers;		/* decoder layers (num_hidden_layers) */
	int hidden;		/* hidden_size */
	int heads;		/* query heads */
	int kv_heads;		/* key/value heads (MLA: = heads, not used for KV size) */
	int head_dim;		/* per-head width; hidden/heads when config omits it;
				 * MLA: the q/k width qk_nope + qk_rope */
	int64_t vocab;		/* vocab_size */
	int tied_embeddings;	/* 1 when the LM head reuses the embedding matrix */
	int attention_bias;	/* 1 when attention projections carry biases:
				 * q/k/v for qwen2, q/k/v/o otherwise (gpt_oss) */
	int64_t max_context_tokens; /* max_position_embeddings */

	/* Feed-forward. A layer is either dense or MoE. */
	int dense_layers;	/* layers with a dense MLP */
	int dense_intermediate;	/* width of that MLP */
	int moe_layers;		/* layers with routed experts */
	int experts;		/* routed experts per MoE layer; 0 for a dense model */
	int experts_per_token;	/* k */
	int expert_intermediate; /* width of one routed expert */
	int shared_experts;	/* always-on experts per MoE layer */
	int shared_intermediate; /* width of one shared expert */
	int expert_bias;	/* 1 when expert MLPs carry biases (gpt_oss) */

	/* MLA (attention == ATTN_MLA only). */
	int q_lora_rank;	/* 0 when queries are not compressed */
	int kv_lora_rank;
	int qk_nope_head_dim;
	int qk_rope_head_dim;
	int v_head_dim;

	/* Sliding-window attention. */
	int sliding_window;	/* tokens a sliding layer keeps; 0 for none */
	int sliding_layers;	/* how many layers slide (llama4's chunked-attention
				 * layers count as full, as vLLM keeps them) */

	/* The checkpoint's own storage (used for PREC_NATIVE). */
	enum weight_format native_linear;	/* attention and dense/shared MLP */
	enum weight_format native_experts;	/* routed experts */
	enum weight_format native_other;	/* embeddings, LM head, router */
};

/* Parameter counts for the whole model, split by how parallelism shards them. */
struct model_params {
	int64_t attention;	/* projections (GQA q/k/v/o or MLA), biases, attention norms */
	int64_t dense_mlp;	/* MLPs of dense layers (gate, up, down) */
	int64_t shared_experts;	/* shared experts of all MoE layers */
	int64_t routed_experts;	/* all routed experts of all MoE layers */
	int64_t router;		/* gate h x E (+ bias) per MoE layer */
	int64_t embedding;	/* V x h */
	int64_t lm_head;	/* V x h, 0 when tied */
	int64_t norms;		/* per-layer MLP norms and the final norm */
	int64_t total;		/* sum of the above */
	int64_t active;		/* per token: routed_experts scaled by k/E */
};

/* Weight bytes for the whole model in one precision, same split as above. */
struct model_weights {
	double attention;	/* bytes; includes attention norms */
	double dense_mlp;
	double shared_experts;
	double routed_experts;
	double router;
	double embedding;
	double lm_head;
	double norms;
	double total;
};

/*
 * Parse the text of a Hugging Face config.json (len bytes, not necessarily
 * NUL-terminated). On success fill *out and return 0. On failure return -1
 * and write a one-line reason to err (errsz bytes): malformed JSON, a missing
 * or out-of-range field (named), or an unsupported model_type (named).
 */
int model_arch_parse(const char *json, size_t len, struct model_arch *out,
		     char *err, size_t errsz);

/* Count parameters per module. */
void model_params_count(const struct model_arch *m, struct model_params *out);

/* Weight bytes per module when the model runs in precision p. */
void model_weights_bytes(const struct model_arch *m, enum precision p,
			 struct model_weights *out);

/* Bytes per parameter of a storage format (bf16 2, fp8 1, mxfp4 0.53125). */
double weight_format_bytes(enum weight_format f);

/*
 * KV-cache bytes for ONE token across all layers, with kv_elem_bytes per
 * element (2 for bf16, 1 for fp8), counting every layer as if it held the
 * token (the figure "KV bytes per token" in the catalog):
 *   GQA/MHA: 2 * layers * kv_heads * head_dim * kv_elem_bytes
 *   MLA:     layers * (kv_lora_rank + qk_rope_head_dim) * kv_elem_bytes
 */
int64_t model_kv_bytes_per_token(const struct model_arch *m, int kv_elem_bytes);

/*
 * KV-cache bytes one sequence of context_tokens holds, all layers: full
 * layers hold every token, sliding layers at most sliding_window tokens.
 */
double model_kv_bytes_per_sequence(const struct model_arch *m, int kv_elem_bytes,
				   int64_t context_tokens);

const char *attn_kind_name(enum attn_kind k);		/* "MHA", "GQA", "MLA" */
const char *precision_name(enum precision p);		/* "native", "bf16", ... */
int precision_parse(const char *s, enum precision *out); /* 0, or -1 if unknown */

#endif
