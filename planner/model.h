/*
 * model.h - a model's architecture, read from its Hugging Face config.json
 * (and, for ModelOpt checkpoints, its hf_quant_config.json), and what
 * follows from it: parameter counts per module, weight bytes per
 * precision, and what one sequence holds per layer kind -- a KV cache per
 * token for attention layers, a fixed state for linear-attention and Mamba
 * layers, an indexer cache for sparse attention.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. The caller hands in the
 * text of config.json; everything else is derived from it.
 *
 * The reader is generic: fields that mean the same across families
 * (num_hidden_layers, layer_types, kv_lora_rank, n_routed_experts, ...) are
 * read the same way wherever they appear, and vision-language wrappers are
 * unwrapped (text_config). A family table (model.c) holds what truly
 * differs (which projections carry biases, q/k norms, router dtype, ...).
 * Families known: llama, mistral, mixtral, qwen2, qwen3, qwen3_moe,
 * qwen3_next, qwen3_5 / qwen3_5_moe (and their *_text towers), deepseek_v2,
 * deepseek_v3, deepseek_v32, deepseek_v4, kimi_k2, kimi_k25, glm4_moe,
 * glm_moe_dsa, minimax_m2, nemotron_h, gemma4 (gemma4_text), gpt_oss,
 * llama4 (llama4_text). An unknown model_type is read generically when every
 * field of it is understood (the result carries a note); one with a field
 * piqplan cannot interpret is refused, naming the field.
 *
 * Limits (refused before any loop): at most MODEL_MAX_LAYERS layers, lists
 * of at most MODEL_MAX_LIST entries, widths and counts within the bounds
 * below, and fewer than 10^15 parameters.
 */
#ifndef PIQPLAN_MODEL_H
#define PIQPLAN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_LAYERS 1024		/* decoder layers (num_hidden_layers) */
#define MODEL_MAX_LIST 65536		/* entries of any list (exclusions, ...) */
#define MODEL_MAX_WIDTH (1 << 22)	/* hidden, intermediate, heads x dim */
#define MODEL_MAX_HEADS 16384
#define MODEL_MAX_EXPERTS 65536
#define MODEL_MAX_VOCAB (1 << 24)
#define MODEL_KV_TERMS 16

enum attn_kind {
	ATTN_MHA,	/* kv_heads == heads */
	ATTN_GQA,	/* kv_heads < heads, K/V shared by groups of query heads */
	ATTN_MLA,	/* one latent per token: DeepSeek MLA (also sparse and V4 compressed) */
};

/* What a layer mixes tokens with; each kind has its own memory term. */
enum mixer_kind {
	MIX_FULL,	/* softmax attention over the whole context (MHA/GQA/MQA) */
	MIX_SLIDING,	/* softmax attention over the last sliding_window tokens */
	MIX_CHUNKED,	/* chunked-local attention: within its chunk of chunk_tokens */
	MIX_MLA,	/* multi-head latent attention over the whole context */
	MIX_MLA_SPARSE,	/* MLA over index_topk tokens an indexer picks (DSA) */
	MIX_CSA,	/* DeepSeek-V4: sliding window + compressed KV (ratio), indexer at 4 */
	MIX_LINEAR,	/* linear attention (Gated DeltaNet, Kimi Delta Attention): a fixed
			 * state per sequence */
	MIX_MAMBA2,	/* Mamba-2 SSM: a fixed state per sequence */
	MIX_NONE,	/* no token mixer (an MLP- or MoE-only layer of nemotron_h) */
	MIX_KINDS
};

enum mlp_kind {
	MLP_NONE,	/* no feed-forward (a Mamba or attention layer of nemotron_h) */
	MLP_DENSE,
	MLP_MOE,	/* routed experts (+ shared experts, router) */
	MLP_DENSE_MOE,	/* both in parallel (gemma4's enable_moe_block) */
};

/* How a group of weights is stored. */
enum weight_format {
	WF_BF16,	/* 2 bytes per parameter */
	WF_FP8,		/* 1 byte (+ per-tensor or block scales) */
	WF_MXFP4,	/* 4 bits + one 8-bit scale per 32 values: 4.25 bits */
	WF_NVFP4,	/* 4 bits + one fp8 scale per 16 values: 4.5 bits */
	WF_INT8,	/* 1 byte + per-channel scales (W8A8 / W8A16) */
	WF_INT4,	/* 4 bits + group scales (W4A16: AWQ, GPTQ, compressed-tensors) */
	WF_FP32,	/* 4 bytes (routers some families keep in fp32) */
	WF_COUNT
};

/*
 * Module groups, by how parallelism shards them and how a checkpoint
 * stores them. Each has linear weights (the ones quantisation touches) and
 * small tensors (norms, biases, convolutions, sinks) kept in bf16 or fp32.
 */
enum module {
	MOD_ATTN,	/* attention projections (GQA, MLA, V4) and their norms: / TP */
	MOD_MIXER,	/* linear-attention and Mamba projections: / TP */
	MOD_INDEXER,	/* sparse-attention indexer and V4 compressors: replicated */
	MOD_DENSE,	/* dense MLPs: / TP */
	MOD_SHARED,	/* shared experts: / TP */
	MOD_ROUTED,	/* routed experts: / (TP x DP) */
	MOD_ROUTER,	/* router gates and MoE latent projections: replicated */
	MOD_EMBED,	/* input embedding (vocab-parallel) */
	MOD_LM_HEAD,	/* output projection (vocab-parallel), 0 when tied */
	MOD_NORMS,	/* per-layer MLP norms, the final norm, hyper-connection mixes */
	MOD_COUNT
};

/* What the user asks an instance to run the weights in. */
enum precision {
	PREC_NATIVE,	/* what the checkpoint stores (quantization_config) */
	PREC_BF16,
	PREC_FP8,	/* linear layers fp8; embeddings, LM head, norms, router bf16 */
	PREC_FP4,	/* linear layers mxfp4; embeddings, LM head, norms, router bf16 */
};

/* Query/key/value geometry of a softmax-attention layer kind. */
struct attn_geom {
	int kv_heads;
	int head_dim;
	int k_eq_v;		/* gemma4 full layers: no v_proj, K doubles as V */
};

/*
 * The checkpoint: how each module group's linear weights are stored, with
 * the bytes per parameter including scales, and which (layer, group)
 * pairs the checkpoint keeps in bf16 (modules_to_not_convert, ignore,
 * exclude_modules).
 */
struct checkpoint {
	char quant_method[24];		/* "" (none), "fp8", "compressed-tensors", "awq",
					 * "gptq", "mxfp4", "modelopt" */
	char scheme[64];		/* what it means: "fp8 e4m3, 128x128 blocks" */
	enum weight_format fmt[MOD_COUNT];
	double bytes[MOD_COUNT];	/* per parameter, scales included */
	int kv_fp8;			/* the checkpoint asks for an fp8 KV cache */
	uint16_t kept_all;		/* bit (1 << module): bf16 in every layer */
	uint16_t kept[MODEL_MAX_LAYERS]; /* the same, per layer */
};

struct model_arch {
	char model_type[32];	/* family as config.json names it ("deepseek_v3"); the
				 * text tower's when a wrapper names a known one */
	char note[160];		/* a caveat from reading (unknown family, ...), or "" */
	enum attn_kind attention; /* of the attention layers */
	int layers;		/* decoder layers (num_hidden_layers), MTP excluded */
	int hidden;		/* hidden_size */
	int heads;		/* query heads */
	int kv_heads;		/* key/value heads of full layers (MLA: = heads) */
	int head_dim;		/* per-head width of full layers; hidden/heads when the
				 * config omits it; MLA: the q/k width nope + rope */
	int64_t vocab;		/* vocab_size */
	int tied_embeddings;	/* 1 when the LM head reuses the embedding matrix */
	int attention_bias;	/* 1 when attention projections carry biases */
	int q_gate;		/* 1 when q_proj also emits an output gate (attn_output_gate) */
	int64_t max_context_tokens; /* max_position_embeddings */
	int auto_map;		/* 1: config.json names remote code (auto_map): vLLM and
				 * SGLang need --trust-remote-code */

	/* Per layer: its token mixer and feed-forward (enum mixer_kind, mlp_kind). */
	uint8_t mixer[MODEL_MAX_LAYERS];
	uint8_t mlp[MODEL_MAX_LAYERS];
	uint16_t ratio[MODEL_MAX_LAYERS]; /* MIX_CSA: compress ratio (1: window only) */
	uint16_t layer_heads[MODEL_MAX_LAYERS]; /* query heads of a layer when the config
				 * gives them per layer (0: heads) */
	int mixer_layers[MIX_KINDS];	/* layers of each kind */

	/* Softmax attention: full layers use full_geom, sliding/chunked window_geom. */
	struct attn_geom full_geom, window_geom;
	int sliding_window;	/* tokens a sliding layer keeps; 0 for none */
	int sliding_layers;	/* layers that slide (MIX_SLIDING) */
	int chunk_tokens;	/* chunked-local attention chunk (MIX_CHUNKED layers) */

	/* Feed-forward. */
	int dense_layers;	/* layers with a dense MLP (MLP_DENSE or MLP_DENSE_MOE) */
	int dense_intermediate;	/* width of that MLP */
	int moe_layers;		/* layers with routed experts */
	int experts;		/* routed experts per MoE layer; 0 for a dense model */
	int experts_per_token;	/* k */
	int expert_intermediate; /* width of one routed expert */
	int shared_experts;	/* always-on experts per MoE layer */
	int shared_intermediate; /* width of one shared expert */
	int expert_bias;	/* 1 when expert MLPs carry biases (gpt_oss) */
	int moe_latent;		/* routed experts work in a latent of this width (0: hidden) */
	int gated_mlp;		/* 1: SwiGLU/GeGLU (3 matrices); 0: relu^2 (2 matrices) */
	int hash_layers;	/* V4: first layers routed by token id (no score bias) */

	/* MLA (MIX_MLA, MIX_MLA_SPARSE). */
	int q_lora_rank;	/* 0 when queries are not compressed */
	int kv_lora_rank;
	int qk_nope_head_dim;
	int qk_rope_head_dim;
	int v_head_dim;

	/* Sparse attention indexer (DSA, V4 C4A layers). */
	int index_heads, index_head_dim, index_topk;

	/* DeepSeek-V4 compressed attention (MIX_CSA). */
	int csa_head_dim;	/* the one latent per token (512) */
	int o_groups, o_lora_rank;
	int hc_mult;		/* hyper-connections: residual copies */

	/* Linear attention: Gated DeltaNet (lin_kda 0) or Kimi Delta Attention (1). */
	int lin_kda;
	int lin_key_heads, lin_value_heads, lin_key_dim, lin_value_dim, lin_conv_kernel;
	/* Mamba-2. */
	int mamba_heads, mamba_head_dim, mamba_state, mamba_groups, mamba_conv_kernel;
	int mamba_conv_bias, mamba_proj_bias;
	int ssm_state_bytes;	/* 4 (fp32) or 2: recurrent state element, as vLLM keeps it */

	/* Small per-family terms (biases, norms), set from the family table and fields. */
	int qk_norm;		/* 0 none; 1 RMSNorm of head_dim on q and k; 2 over all heads */
	int sinks;		/* one attention-sink logit per head (gpt_oss) */
	int qkv_bias_only;	/* attention biases on q/k/v, not o */
	int router_bias;	/* per MoE layer: 1 a bf16 router bias (E), 2 an fp32
				 * e_score_correction_bias (E) */
	int shared_gate;	/* a gate h -> 1 on the shared expert (qwen) */
	int norms_per_layer;	/* RMSNorms of hidden width per layer (2; nemotron_h 1) */
	int router_extras;	/* gemma4: router scale (h) and per-expert scale (E) */
	int layer_scalar;	/* gemma4: one scalar per layer */
	int ple_dim, ple_vocab;	/* gemma4 per-layer embeddings: hidden_size_per_layer_input
				 * and vocab_size_per_layer_input (0: none) */
	int kv_shared_from;	/* gemma4: layers from here on reuse an earlier layer's KV
				 * (num_kv_shared_layers) and hold none (0: none) */
	int double_wide;	/* gemma4: those layers' MLP is twice as wide */

	int mtp_layers;		/* multi-token-prediction layers in the checkpoint: not
				 * loaded by vLLM unless MTP speculative decoding is on */

	struct checkpoint ckpt;	/* the checkpoint's own storage (PREC_NATIVE) */
	/* Compute formats derived from ckpt, for the performance model. */
	enum weight_format native_linear;	/* attention and dense/shared MLP */
	enum weight_format native_experts;	/* routed experts */
	enum weight_format native_other;	/* embeddings, LM head, router */
};

/* Parameter counts for the whole model, split by how parallelism shards them. */
struct model_params {
	int64_t attention;	/* softmax-attention projections, biases, attention norms */
	int64_t mixers;		/* linear-attention and Mamba mixers with their norms */
	int64_t indexer;	/* sparse-attention indexers, V4 compressors */
	int64_t dense_mlp;	/* MLPs of dense layers */
	int64_t shared_experts;	/* shared experts of all MoE layers */
	int64_t routed_experts;	/* all routed experts of all MoE layers */
	int64_t router;		/* gates (+ bias), MoE latent projections */
	int64_t embedding;	/* V x h */
	int64_t lm_head;	/* V x h, 0 when tied */
	int64_t norms;		/* per-layer MLP norms, final norm, hyper-connections */
	int64_t total;		/* sum of the above (MTP excluded, as vLLM loads it) */
	int64_t active;		/* per token: routed_experts scaled by k/E */
	int64_t active_no_embed; /* active without the input embedding (a lookup, no
				  * FLOPs); equal to active when tied */
	int64_t mtp;		/* MTP layers (not in total): eh_proj, norms, one layer each */
};

/* Weight bytes for the whole model in one precision, same split as above. */
struct model_weights {
	double attention;	/* bytes; includes attention norms */
	double mixers;
	double indexer;
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
 * NUL-terminated) and, when quant is not NULL, a separate
 * hf_quant_config.json (qlen bytes; ModelOpt checkpoints). On success fill
 * *out and return 0. On failure return -1 and write a one-line reason to
 * err (errsz bytes): malformed JSON, a missing or out-of-range field
 * (named), a field piqplan cannot interpret (named), a quantisation it
 * cannot read ("unsupported quant_method 'x'").
 */
int model_arch_parse(const char *json, size_t len, struct model_arch *out,
		     char *err, size_t errsz);
int model_arch_parse_quant(const char *json, size_t len, const char *quant, size_t qlen,
			   struct model_arch *out, char *err, size_t errsz);

/*
 * Whether the checkpoint stores its linear layers or routed experts in an
 * fp4 format (MXFP4, NVFP4).
 */
int model_arch_is_fp4(const struct model_arch *m);

/*
 * Turn *m into the same model stored as a pre-quantised NVFP4 checkpoint
 * (ModelOpt NVFP4, fp8 scale per 16 weights: what NVIDIA publishes as
 * ORG/NAME-FP4): every linear module NVFP4 but what the checkpoint kept in
 * bf16; routers, embeddings, head and KV as they were. For a measurement
 * published as fp4 of a model the catalog holds in bf16 or fp8 (the engine
 * ran such a checkpoint: vLLM and piqplan do not quantise to fp4 online).
 */
void model_arch_as_nvfp4(struct model_arch *m);

/*
 * Rewrite, in place, the Infinity / -Infinity / NaN tokens Python's json
 * module writes (outside strings) as numbers of the same length, so strict
 * JSON readers (SQLite's json_valid) accept the text. Returns how many.
 */
int model_json_strictify(char *buf, size_t len);

/* Count parameters per module. */
void model_params_count(const struct model_arch *m, struct model_params *out);

/* Weight bytes per module when the model runs in precision p. */
void model_weights_bytes(const struct model_arch *m, enum precision p,
			 struct model_weights *out);

/* Nominal bytes per parameter of a storage format (bf16 2, fp8 1, mxfp4 0.53125). */
double weight_format_bytes(enum weight_format f);
const char *weight_format_name(enum weight_format f);	/* "bf16", "fp8", ... */

/*
 * One term of what a sequence holds and reads, as a function of its context
 * c (tokens): entries(c) = min(c * scale, cap). Memory is mem_bytes per
 * entry; a decoding token reads read_bytes and spends flops_decode per
 * entry it attends, a prefill token flops_prefill. Per GPU of the group.
 */
enum kv_category {
	KV_FULL,	/* every token: GQA/MHA and MLA latents (dense and sparse) */
	KV_COMPRESSED,	/* V4 compressed entries (one per ratio tokens) */
	KV_INDEXER,	/* sparse-attention indexer keys */
	KV_WINDOW,	/* sliding, chunked-local and V4 window layers, up to the window */
	KV_CATEGORIES
};

struct kv_term {
	enum kv_category category;
	double scale;		/* entries per context token: 1, or 1/ratio */
	double cap;		/* most entries held or attended (window, top-k); HUGE_VAL: none */
	double mem_bytes;	/* held per entry */
	double read_bytes;	/* read per entry attended by a decoding token */
	double flops_decode;	/* per entry attended, decoding token */
	double flops_prefill;	/* per entry attended, prefill token */
};

struct model_kv {
	int nterms;
	struct kv_term term[MODEL_KV_TERMS];
	double state_bytes_per_seq;	/* linear/Mamba conv + SSM state, V4 compressor states */
	double state_rw_bytes_per_token; /* state read and written per decoded token */
	double state_flops_per_token;	/* recurrent update per token, independent of context */
	int layers;			/* layers counted */
	int state_layers;		/* of which keep a fixed state */
};

/*
 * 1 when layers i and j are alike: the same mixer, MLP, heads, compress
 * ratio, KV sharing and checkpoint formats, so the same parameters, weights
 * and per-token KV (most models repeat one or two layer shapes).
 */
int model_layers_alike(const struct model_arch *m, int i, int j);

/*
 * What one sequence holds per layer kind, for layers [first, first + count)
 * of the model on one GPU of a tensor-parallel group of tp: GQA K/V heads
 * split over TP (replicated, at least one, when TP exceeds them); MLA, DSA
 * and V4 latents whole on every rank; linear and Mamba states split by
 * heads. kv_elem_bytes 2 (bf16) or 1 (fp8) applies to GQA and MLA caches;
 * DSA keeps its indexer in fp8 (132 B per token per layer) and, with fp8,
 * its latent in vLLM's fp8_ds_mla layout (656 B); DeepSeek-V4 keeps fp8
 * entries of 584 B whatever is asked (vLLM requires fp8 there).
 */
void model_kv_terms(const struct model_arch *m, int kv_elem_bytes, int tp, int first,
		    int count, struct model_kv *out);

/* Bytes one sequence of ctx tokens holds (terms and state). */
double model_kv_seq_bytes(const struct model_kv *kv, double ctx);
/* Bytes each further token adds once every window is full (uncapped terms). */
double model_kv_growth_bytes_per_token(const struct model_kv *kv);
/* Per-token bytes of one category (before caps), and the largest window. */
double model_kv_category_bytes(const struct model_kv *kv, enum kv_category c);
double model_kv_window_tokens(const struct model_kv *kv);

/*
 * KV-cache bytes for ONE token across all layers, with kv_elem_bytes per
 * element (2 for bf16, 1 for fp8), counting every layer that keeps per-token
 * entries as if the token were inside its window (the figure "KV bytes per
 * token" in the catalog; fixed states are not in it):
 *   GQA/MHA: 2 * layers * kv_heads * head_dim * kv_elem_bytes
 *   MLA:     layers * (kv_lora_rank + qk_rope_head_dim) * kv_elem_bytes
 */
int64_t model_kv_bytes_per_token(const struct model_arch *m, int kv_elem_bytes);

/*
 * Bytes one sequence of context_tokens holds, all layers, TP 1: full layers
 * hold every token, sliding layers at most sliding_window tokens, linear and
 * Mamba layers their fixed state.
 */
double model_kv_bytes_per_sequence(const struct model_arch *m, int kv_elem_bytes,
				   int64_t context_tokens);

/* "45 linear + 15 full", "30 C4A + 31 C128A", "40 mamba + 8 full + 40 moe-only". */
void model_layer_mix(const struct model_arch *m, char *buf, size_t n);
/* Short description of the checkpoint's storage: "bf16", "fp8 e4m3, 128x128 blocks". */
void model_native_format(const struct model_arch *m, char *buf, size_t n);

const char *attn_kind_name(enum attn_kind k);		/* "MHA", "GQA", "MLA" */
const char *mixer_kind_name(enum mixer_kind k);		/* "full", "sliding", ... */
const char *module_name(enum module g);			/* "attention", ... */
const char *kv_category_name(enum kv_category c);	/* "full", "compressed", ... */
const char *precision_name(enum precision p);		/* "native", "bf16", ... */
int precision_parse(const char *s, enum precision *out); /* 0, or -1 if unknown */

#endif
