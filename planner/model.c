/*
 * model.c - read a Hugging Face config.json into a struct model_arch, and
 * count what the architecture implies: parameters per module, weight bytes
 * per precision (the checkpoint's own storage included), and what one
 * sequence holds per layer kind.
 *
 * One generic reader maps the fields that mean the same in every family
 * (num_hidden_layers, layer_types, kv_lora_rank, n_routed_experts,
 * first_k_dense_replace, mlp_only_layers, ...) onto a per-layer description:
 * a token mixer (full / sliding / chunked attention, MLA, sparse MLA,
 * DeepSeek-V4 compressed attention, linear attention, Mamba-2) and a
 * feed-forward (dense, MoE, both, none). The family table holds what
 * differs (which projections carry biases, q/k norms, router dtype, which
 * field holds the expert width); three families whose layer description
 * has its own shape (nemotron_h's pattern string, deepseek_v4's compressed
 * attention, gemma4's two attention geometries) have their own parsers.
 *
 * Parameter layout follows vLLM's model code of each family (see
 * seeds/README.md for the files and commits), so totals match what vLLM
 * loads: multi-token-prediction layers are counted apart (vLLM skips them
 * unless MTP speculative decoding is on: deepseek_v2.py
 * get_spec_layer_idx_from_weight_name, qwen3_5.py and deepseek_v4.py skip
 * "mtp.", nemotron_h.py maps "mtp" to None), vision towers are not counted
 * (they are not in text_config), llama4 counts only the text tower.
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>	/* vsnprintf only: error text goes to the caller's buffer */
#include <stdlib.h>
#include <string.h>

/* Per-family extras, keyed by model_type (see families[] below). */
#define FX_QK_NORM	(1u << 0)	/* RMSNorm of head_dim on q and on k (qwen3) */
#define FX_SINKS	(1u << 1)	/* one attention-sink logit per head (gpt_oss) */
#define FX_ROUTER_BIAS	(1u << 2)	/* router carries E extra params per layer */
#define FX_QKV_BIAS	(1u << 3)	/* biases on q/k/v but not o */
#define FX_BIAS_ALWAYS	(1u << 4)	/* q/k/v biases whatever attention_bias says (qwen2) */
#define FX_ROUTER_FP32	(1u << 5)	/* router weights kept in fp32 */
#define FX_OUT_GATE	(1u << 6)	/* attn_output_gate defaults to true (qwen3_next) */
#define FX_SHARED_GATE	(1u << 7)	/* a sigmoid gate h -> 1 on the shared expert (qwen) */
#define FX_SLIDE_ALL	(1u << 8)	/* sliding_window applies to every layer (mistral) */
#define FX_QWEN_SLIDE	(1u << 9)	/* use_sliding_window + max_window_layers */
#define FX_EXPERT_BIAS	(1u << 10)	/* expert MLPs carry biases (gpt_oss) */
#define FX_INTER_EXPERT	(1u << 11)	/* intermediate_size is the expert width */
#define FX_MLA		(1u << 12)	/* MLA family: kv_lora_rank required */
#define FX_ROUTER_LINBIAS (1u << 13)	/* the router is a Linear with a (bf16) bias */

enum parser { P_GENERIC, P_LLAMA4, P_NEMOTRON, P_V4, P_GEMMA4 };

static const struct family {
	const char *model_type;
	enum parser parser;
	unsigned fx;
} families[] = {
	{ "llama",            P_GENERIC,  0 },
	{ "mistral",          P_GENERIC,  FX_SLIDE_ALL },
	{ "mixtral",          P_GENERIC,  FX_SLIDE_ALL | FX_INTER_EXPERT },
	{ "qwen2",            P_GENERIC,  FX_QKV_BIAS | FX_BIAS_ALWAYS | FX_QWEN_SLIDE },
	{ "qwen2_moe",        P_GENERIC,  FX_QKV_BIAS | FX_BIAS_ALWAYS | FX_QWEN_SLIDE |
					  FX_SHARED_GATE },
	{ "qwen3",            P_GENERIC,  FX_QK_NORM | FX_QWEN_SLIDE },
	{ "qwen3_moe",        P_GENERIC,  FX_QK_NORM | FX_QWEN_SLIDE },
	{ "qwen3_next",       P_GENERIC,  FX_QK_NORM | FX_OUT_GATE | FX_SHARED_GATE },
	{ "qwen3_5",          P_GENERIC,  FX_QK_NORM | FX_OUT_GATE | FX_SHARED_GATE },
	{ "qwen3_5_text",     P_GENERIC,  FX_QK_NORM | FX_OUT_GATE | FX_SHARED_GATE },
	{ "qwen3_5_moe",      P_GENERIC,  FX_QK_NORM | FX_OUT_GATE | FX_SHARED_GATE },
	{ "qwen3_5_moe_text", P_GENERIC,  FX_QK_NORM | FX_OUT_GATE | FX_SHARED_GATE },
	{ "qwen3_vl",         P_GENERIC,  FX_QK_NORM },
	{ "qwen3_vl_text",    P_GENERIC,  FX_QK_NORM },
	{ "qwen3_vl_moe",     P_GENERIC,  FX_QK_NORM },
	{ "qwen3_vl_moe_text", P_GENERIC, FX_QK_NORM },
	{ "deepseek_v2",      P_GENERIC,  FX_MLA },
	{ "deepseek_v3",      P_GENERIC,  FX_MLA | FX_ROUTER_BIAS },
	{ "deepseek_v32",     P_GENERIC,  FX_MLA | FX_ROUTER_BIAS },
	{ "kimi_k2",          P_GENERIC,  FX_MLA | FX_ROUTER_BIAS },
	{ "kimi_k25",         P_GENERIC,  FX_MLA | FX_ROUTER_BIAS },
	{ "glm_moe_dsa",      P_GENERIC,  FX_MLA | FX_ROUTER_BIAS },
	{ "glm4_moe",         P_GENERIC,  FX_QKV_BIAS | FX_ROUTER_BIAS | FX_ROUTER_FP32 },
	{ "glm4_moe_lite",    P_GENERIC,  FX_MLA },
	{ "kimi_linear",      P_GENERIC,  FX_ROUTER_BIAS },
	{ "minimax_m2",       P_GENERIC,  FX_INTER_EXPERT | FX_ROUTER_FP32 },
	{ "gpt_oss",          P_GENERIC,  FX_SINKS | FX_ROUTER_LINBIAS | FX_EXPERT_BIAS |
					  FX_INTER_EXPERT },
	{ "llama4",           P_LLAMA4,   FX_INTER_EXPERT },
	{ "llama4_text",      P_LLAMA4,   FX_INTER_EXPERT },
	{ "nemotron_h",       P_NEMOTRON, FX_ROUTER_BIAS | FX_ROUTER_FP32 },
	{ "deepseek_v4",      P_V4,       0 },
	{ "gemma4",           P_GEMMA4,   FX_QK_NORM },
	{ "gemma4_text",      P_GEMMA4,   FX_QK_NORM },
};

/* The family used for an unknown model_type: llama-like, every field checked. */
static const struct family generic_family = { "", P_GENERIC, 0 };

static const struct family *family_find(const char *model_type)
{
	size_t i;

	if (!model_type)
		return NULL;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(families[i].model_type, model_type))
			return &families[i];
	return NULL;
}

/* Where the parser is reading: the object and its path, for error messages. */
#define MAX_SEEN 512
struct ctx {
	const cJSON *obj;
	const char *prefix;	/* "" or "text_config." */
	char *err;
	size_t errsz;
	const cJSON **seen;	/* fields looked at (shared by root and text ctx) */
	int *nseen;
};

static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err && c->errsz) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const cJSON *field(struct ctx *c, const char *name)
{
	const cJSON *it;

	if (!c->obj)
		return NULL;
	it = cJSON_GetObjectItemCaseSensitive(c->obj, name);
	if (it && c->seen && *c->nseen < MAX_SEEN)
		c->seen[(*c->nseen)++] = it;
	return cJSON_IsNull(it) ? NULL : it;
}

/*
 * Read an integer field. Absent or null: -1 with "missing field" when
 * required, else *out = dflt. Present but not an integer in [lo, hi]: -1.
 */
static int get_i64(struct ctx *c, const char *name, int required, int64_t dflt,
		   int64_t lo, int64_t hi, int64_t *out)
{
	const cJSON *it = field(c, name);
	double v;

	*out = dflt;		/* defined on failure too */
	if (!it) {
		if (required)
			return fail(c, "missing field '%s%s'", c->prefix, name);
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(it))
		return fail(c, "field '%s%s' is not a number", c->prefix, name);
	v = it->valuedouble;
	if (v != floor(v) || v < (double)lo || v > (double)hi)
		return fail(c, "field '%s%s' out of range: %g (want an integer in "
			    "%lld..%lld)", c->prefix, name, v, (long long)lo,
			    (long long)hi);
	*out = (int64_t)v;
	return 0;
}

static int get_int(struct ctx *c, const char *name, int required, int dflt,
		   int lo, int hi, int *out)
{
	int64_t v;

	if (get_i64(c, name, required, dflt, lo, hi, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int get_bool(struct ctx *c, const char *name, int dflt, int *out)
{
	const cJSON *it = field(c, name);

	if (!it) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsBool(it))
		return fail(c, "field '%s%s' is not a boolean", c->prefix, name);
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}

/* A string field, or NULL when absent; -1 when present but not a string. */
static int get_str(struct ctx *c, const char *name, const char **out)
{
	const cJSON *it = field(c, name);

	*out = NULL;
	if (!it)
		return 0;
	if (!cJSON_IsString(it))
		return fail(c, "field '%s%s' is not a string", c->prefix, name);
	*out = it->valuestring;
	return 0;
}

/* An array field of at most max entries (absent: *out NULL). */
static int get_array(struct ctx *c, const char *name, int max, const cJSON **out, int *n)
{
	const cJSON *it = field(c, name), *e;
	int count = 0;

	*out = NULL;
	*n = 0;
	if (!it)
		return 0;
	if (!cJSON_IsArray(it))
		return fail(c, "field '%s%s' is not an array", c->prefix, name);
	/* Count without trusting the list's claims: stop past the cap. */
	for (e = it->child; e; e = e->next)
		if (++count > max)
			return fail(c, "field '%s%s' has more than %d entries", c->prefix,
				    name, max);
	*out = it;
	*n = count;
	return 0;
}

/* Bytes of a dtype name ("float32" 4; "bfloat16", "float16" 2); dflt when absent. */
static int get_dtype_bytes(struct ctx *c, const char *name, int dflt, int *out)
{
	const char *s;

	if (get_str(c, name, &s))
		return -1;
	if (!s || !strcmp(s, "auto")) {
		*out = dflt;
		return 0;
	}
	if (!strcmp(s, "float32") || !strcmp(s, "fp32")) {
		*out = 4;
		return 0;
	}
	if (!strcmp(s, "bfloat16") || !strcmp(s, "float16") || !strcmp(s, "bf16") ||
	    !strcmp(s, "fp16")) {
		*out = 2;
		return 0;
	}
	return fail(c, "field '%s%s' has unknown dtype '%.40s'", c->prefix, name, s);
}

static const char *pick(struct ctx *c, const char *const *names);
static const char *const context_keys[] = {
	"max_position_embeddings", "max_sequence_length", "seq_length", NULL };

/* Fields every family shares: the transformer's shape and the vocabulary. */
static int parse_common(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "num_hidden_layers", 1, 0, 1, MODEL_MAX_LAYERS, &m->layers) ||
	    get_int(c, "hidden_size", 1, 0, 1, MODEL_MAX_WIDTH, &m->hidden) ||
	    get_int(c, "num_attention_heads", 1, 0, 1, MODEL_MAX_HEADS, &m->heads) ||
	    get_int(c, "num_key_value_heads", 0, m->heads, 1, MODEL_MAX_HEADS, &m->kv_heads) ||
	    get_i64(c, "vocab_size", 1, 0, 1, INT64_MAX / 2, &m->vocab) ||
	    get_i64(c, pick(c, context_keys), 1, 0, 1, INT64_MAX / 2, &m->max_context_tokens) ||
	    get_bool(c, "attention_bias", 0, &m->attention_bias))
		return -1;
	if (m->kv_heads > m->heads || m->heads % m->kv_heads)
		return fail(c, "field '%snum_key_value_heads' (%d) does not divide "
			    "num_attention_heads (%d)", c->prefix, m->kv_heads,
			    m->heads);
	if (!field(c, "head_dim") && m->hidden % m->heads)
		return fail(c, "field '%shidden_size' (%d) is not a multiple of "
			    "num_attention_heads (%d) and head_dim is missing",
			    c->prefix, m->hidden, m->heads);
	if (get_int(c, "head_dim", 0, m->hidden / m->heads, 1, MODEL_MAX_WIDTH, &m->head_dim))
		return -1;
	if ((double)m->heads * m->head_dim > MODEL_MAX_WIDTH)
		return fail(c, "field '%shead_dim' (%d) x num_attention_heads (%d) is "
			    "implausibly wide", c->prefix, m->head_dim, m->heads);
	m->attention = m->kv_heads == m->heads ? ATTN_MHA : ATTN_GQA;
	m->full_geom.kv_heads = m->window_geom.kv_heads = m->kv_heads;
	m->full_geom.head_dim = m->window_geom.head_dim = m->head_dim;
	m->gated_mlp = 1;
	m->ssm_state_bytes = 2;
	return 0;
}

/* MLA ranks (deepseek_v2/v3, kimi, glm_moe_dsa), and DSA's indexer when present. */
static int parse_mla(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "q_lora_rank", 0, 0, 0, MODEL_MAX_WIDTH, &m->q_lora_rank) ||
	    get_int(c, "kv_lora_rank", 1, 0, 1, MODEL_MAX_WIDTH, &m->kv_lora_rank) ||
	    get_int(c, "qk_nope_head_dim", 1, 0, 0, MODEL_MAX_WIDTH, &m->qk_nope_head_dim) ||
	    get_int(c, "qk_rope_head_dim", 1, 0, 0, MODEL_MAX_WIDTH, &m->qk_rope_head_dim) ||
	    get_int(c, "v_head_dim", 1, 0, 1, MODEL_MAX_WIDTH, &m->v_head_dim))
		return -1;
	m->attention = ATTN_MLA;
	m->kv_heads = m->heads;
	m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim;
	if (m->head_dim < 1)
		return fail(c, "field '%sqk_nope_head_dim' + qk_rope_head_dim is 0", c->prefix);
	return 0;
}

static int parse_indexer(struct ctx *c, struct model_arch *m, int required)
{
	if (!required && !field(c, "index_topk"))
		return 0;
	return get_int(c, "index_topk", 1, 0, 1, INT_MAX, &m->index_topk) ||
	       get_int(c, "index_n_heads", 1, 0, 1, MODEL_MAX_HEADS, &m->index_heads) ||
	       get_int(c, "index_head_dim", 1, 0, 1, MODEL_MAX_WIDTH, &m->index_head_dim);
}

/* Gated DeltaNet geometry (qwen3_next, qwen3_5): needed when a layer is linear. */
static int parse_gdn(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "linear_num_key_heads", 1, 0, 1, MODEL_MAX_HEADS, &m->lin_key_heads) ||
	    get_int(c, "linear_num_value_heads", 1, 0, 1, MODEL_MAX_HEADS,
		    &m->lin_value_heads) ||
	    get_int(c, "linear_key_head_dim", 1, 0, 1, 65536, &m->lin_key_dim) ||
	    get_int(c, "linear_value_head_dim", 1, 0, 1, 65536, &m->lin_value_dim) ||
	    get_int(c, "linear_conv_kernel_dim", 0, 4, 1, 64, &m->lin_conv_kernel) ||
	    /*
	     * vLLM keeps the recurrent state in mamba_ssm_dtype when the config
	     * names it (Qwen3.5: float32, models/config.py hook
	     * Qwen3_5ForConditionalGenerationConfig); else in the model dtype.
	     */
	    get_dtype_bytes(c, "mamba_ssm_dtype", 2, &m->ssm_state_bytes))
		return -1;
	if ((double)m->lin_value_heads * m->lin_value_dim * m->lin_key_dim > 1e9)
		return fail(c, "field '%slinear_num_value_heads' gives an implausible state",
			    c->prefix);
	return 0;
}

/* Mamba-2 geometry (nemotron_h). */
static int parse_mamba2(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "mamba_num_heads", 1, 0, 1, MODEL_MAX_HEADS, &m->mamba_heads) ||
	    get_int(c, "mamba_head_dim", 1, 0, 1, 65536, &m->mamba_head_dim) ||
	    get_int(c, "ssm_state_size", 1, 0, 1, 65536, &m->mamba_state) ||
	    get_int(c, "n_groups", 0, 1, 1, MODEL_MAX_HEADS, &m->mamba_groups) ||
	    get_int(c, "conv_kernel", 0, 4, 1, 64, &m->mamba_conv_kernel) ||
	    get_bool(c, "use_conv_bias", 1, &m->mamba_conv_bias) ||
	    get_bool(c, "mamba_proj_bias", 0, &m->mamba_proj_bias) ||
	    /* vLLM's NemotronHForCausalLMConfig hook: the config's dtype, else fp32. */
	    get_dtype_bytes(c, "mamba_ssm_cache_dtype", 4, &m->ssm_state_bytes))
		return -1;
	if ((double)m->mamba_heads * m->mamba_head_dim * m->mamba_state > 1e9)
		return fail(c, "field '%smamba_num_heads' gives an implausible state",
			    c->prefix);
	return 0;
}

/* Routed experts: E, k and the expert width, checked against each other. */
static int parse_experts(struct ctx *c, struct model_arch *m, const char *e_key,
			 const char *k_key, const char *width_key)
{
	if (get_int(c, e_key, 1, 0, 1, MODEL_MAX_EXPERTS, &m->experts) ||
	    get_int(c, k_key, 1, 0, 1, MODEL_MAX_EXPERTS, &m->experts_per_token) ||
	    get_int(c, width_key, 1, 0, 1, MODEL_MAX_WIDTH, &m->expert_intermediate))
		return -1;
	if (m->experts_per_token > m->experts)
		return fail(c, "field '%s%s' (%d) exceeds %s (%d)", c->prefix, k_key,
			    m->experts_per_token, e_key, m->experts);
	return 0;
}

/* The first of several spellings present, or the first spelling. */
static const char *pick(struct ctx *c, const char *const *names)
{
	for (const char *const *n = names; *n; n++)
		if (field(c, *n))
			return *n;
	return names[0];
}

static const char *const expert_count_keys[] = {
	"n_routed_experts", "num_experts", "num_local_experts", "moe_num_experts", NULL };
static const char *const expert_k_keys[] = {
	"num_experts_per_tok", "experts_per_token", "num_experts_per_token", "top_k_experts",
	"moe_topk", NULL };

static int has_experts(struct ctx *c)
{
	for (const char *const *n = expert_count_keys; *n; n++) {
		const cJSON *it = field(c, *n);
		if (it && (!cJSON_IsNumber(it) || it->valuedouble > 0))
			return 1;
	}
	return 0;
}

/*
 * Shared experts under the spellings families use: DeepSeek's
 * n_shared_experts x moe_intermediate_size, Qwen's one shared expert of
 * shared_expert_intermediate_size, MiniMax's shared_intermediate_size.
 */
static int parse_shared(struct ctx *c, struct model_arch *m)
{
	int n = 0, w = 0;

	if (field(c, "share_expert_dim")) {	/* step3 */
		if (get_int(c, "share_expert_dim", 1, 0, 0, MODEL_MAX_WIDTH, &w) ||
		    get_int(c, "n_shared_experts", 0, 1, 0, 1024, &n))
			return -1;
		n = w > 0 ? n : 0;
	} else if (field(c, "shared_expert_intermediate_size")) {
		if (get_int(c, "shared_expert_intermediate_size", 1, 0, 0, MODEL_MAX_WIDTH, &w))
			return -1;
		n = w > 0;
	} else if (field(c, "shared_intermediate_size")) {
		if (get_int(c, "shared_intermediate_size", 1, 0, 0, MODEL_MAX_WIDTH, &w))
			return -1;
		n = w > 0;
	} else if (get_int(c, field(c, "num_shared_experts") ? "num_shared_experts" :
			   "n_shared_experts", 0, 0, 0, 1024, &n)) {
		return -1;
	} else {
		w = m->expert_intermediate;
	}
	m->shared_experts = n;
	m->shared_intermediate = n ? w : 0;
	return 0;
}

/* One entry of an integer list, in [lo, hi]. */
static int list_int(struct ctx *c, const char *name, const cJSON *e, int lo, int hi, int *out)
{
	*out = lo;		/* defined on failure too */
	if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
	    e->valuedouble < lo || e->valuedouble > hi)
		return fail(c, "field '%s%s' holds a value that is not an integer in %d..%d",
			    c->prefix, name, lo, hi);
	*out = (int)e->valuedouble;
	return 0;
}

/* Mark layers listed in a list of indices (0-based unless one_based). */
static int mark_layers(struct ctx *c, const char *name, uint8_t *mark, int layers, int one_based)
{
	const cJSON *list, *e;
	int n, v;

	if (get_array(c, name, MODEL_MAX_LAYERS, &list, &n))
		return -1;
	if (!list)
		return 0;
	cJSON_ArrayForEach(e, list) {
		if (list_int(c, name, e, one_based, layers - 1 + one_based, &v))
			return -1;
		mark[v - one_based] = 1;
	}
	return 1;
}

/* Kind of one entry of layer_types. */
static int layer_type_kind(const char *s, int mla, enum mixer_kind *out)
{
	static const struct { const char *name; enum mixer_kind kind; } types[] = {
		{ "full_attention", MIX_FULL }, { "attention", MIX_FULL },
		{ "global_attention", MIX_FULL }, { "sliding_attention", MIX_SLIDING },
		{ "chunked_attention", MIX_CHUNKED }, { "linear_attention", MIX_LINEAR },
		{ "deepseek_sparse_attention", MIX_FULL },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(s, types[i].name))
			continue;
		if (mla && types[i].kind == MIX_FULL)
			*out = MIX_MLA;
		else if (mla && types[i].kind != MIX_LINEAR)
			return -1;
		else
			*out = types[i].kind;
		return 0;
	}
	return -1;
}

/*
 * Kimi Delta Attention (kimi_linear; vLLM layers/kda.py): linear_attn_config
 * names the KDA layers and the full-attention (MLA) layers -- 1-based in
 * Kimi-Linear's configs, 0-based where a 0 appears -- and one head geometry
 * for q, k and v (num_heads x head_dim, short conv short_conv_kernel_size).
 * The recurrent state is fp32 (MambaStateDtypeCalculator.kda_state_dtype).
 */
static int parse_kda(struct ctx *c, struct model_arch *m, int have_types)
{
	struct ctx k = *c;
	uint8_t kda[MODEL_MAX_LAYERS + 1] = { 0 };
	const cJSON *list, *e;
	int n, i, zero = 0, v;

	k.obj = field(c, "linear_attn_config");
	k.prefix = "linear_attn_config.";
	if (!cJSON_IsObject(k.obj))
		return fail(c, "field '%slinear_attn_config' is not an object", c->prefix);
	if (get_int(&k, "num_heads", 1, 0, 1, MODEL_MAX_HEADS, &m->lin_key_heads) ||
	    get_int(&k, "head_dim", 1, 0, 1, 65536, &m->lin_key_dim) ||
	    get_int(&k, "short_conv_kernel_size", 0, 4, 1, 64, &m->lin_conv_kernel))
		return -1;
	m->lin_kda = 1;
	m->lin_value_heads = m->lin_key_heads;
	m->lin_value_dim = m->lin_key_dim;
	m->ssm_state_bytes = 4;
	if (have_types)
		return 0;
	/* kda_layers, or every layer full_attn_layers does not name. */
	const char *key = field(&k, "kda_layers") ? "kda_layers" : "full_attn_layers";
	if (get_array(&k, key, MODEL_MAX_LAYERS, &list, &n))
		return -1;
	if (!list)
		return fail(c, "missing field '%slinear_attn_config.kda_layers'", c->prefix);
	cJSON_ArrayForEach(e, list) {
		if (list_int(&k, key, e, 0, m->layers, &v))
			return -1;
		zero |= v == 0;
		kda[v] = 1;
	}
	for (i = 0; i < m->layers; i++)
		if (!kda[i + !zero] == (key[0] == 'f'))
			m->mixer[i] = MIX_LINEAR;
	if (!zero && kda[0])
		return fail(c, "field '%slinear_attn_config.kda_layers' mixes 0- and 1-based "
			    "layers", c->prefix);
	return 0;
}

/*
 * Token mixers per layer, from (in order): layer_types; qwen3_next's
 * full_attention_interval; Qwen's use_sliding_window + max_window_layers;
 * a Mistral-style sliding_window for every layer; else every layer is
 * attention of the default kind (MLA when kv_lora_rank is set, sparse MLA
 * when index_topk is too).
 */
static int parse_mixers(struct ctx *c, struct model_arch *m, unsigned fx, int known)
{
	enum mixer_kind dflt = m->attention == ATTN_MLA ?
		(m->index_topk ? MIX_MLA_SPARSE : MIX_MLA) : MIX_FULL;
	const cJSON *types, *t;
	int n, i, interval = 0, use = -1, first = m->layers;

	for (i = 0; i < m->layers; i++)
		m->mixer[i] = dflt;
	if (get_array(c, "layer_types", MODEL_MAX_LAYERS, &types, &n))
		return -1;
	if (types) {
		if (n != m->layers)
			return fail(c, "field '%slayer_types' must list num_hidden_layers (%d) "
				    "entries, has %d", c->prefix, m->layers, n);
		i = 0;
		cJSON_ArrayForEach(t, types) {
			enum mixer_kind k;
			if (!cJSON_IsString(t))
				return fail(c, "field '%slayer_types' holds a non-string",
					    c->prefix);
			if (layer_type_kind(t->valuestring, m->attention == ATTN_MLA, &k))
				return fail(c, "field '%slayer_types' has unknown type '%.40s'",
					    c->prefix, t->valuestring);
			if (k == MIX_FULL && dflt == MIX_MLA_SPARSE)
				k = MIX_MLA_SPARSE;
			m->mixer[i++] = (uint8_t)k;
		}
	} else if (field(c, "full_attention_interval")) {
		/* transformers' Qwen3NextConfig: every interval-th layer is full. */
		if (get_int(c, "full_attention_interval", 1, 0, 1, MODEL_MAX_LAYERS, &interval))
			return -1;
		for (i = 0; i < m->layers; i++)
			m->mixer[i] = (i + 1) % interval ? MIX_LINEAR : MIX_FULL;
	} else if (fx & FX_QWEN_SLIDE || (!known && field(c, "use_sliding_window"))) {
		if (get_bool(c, "use_sliding_window", 0, &use))
			return -1;
		if (use) {
			if (get_int(c, "max_window_layers", 0, m->layers, 0, MODEL_MAX_LAYERS,
				    &first))
				return -1;
			for (i = first; i < m->layers; i++)
				m->mixer[i] = MIX_SLIDING;
		}
	} else if ((fx & FX_SLIDE_ALL || !known) && field(c, "sliding_window") &&
		   m->attention != ATTN_MLA) {
		if (get_int(c, "sliding_window", 1, 0, 0, INT_MAX, &m->sliding_window))
			return -1;
		if (m->sliding_window)
			for (i = 0; i < m->layers; i++)
				m->mixer[i] = MIX_SLIDING;
	}
	for (i = 0; i < m->layers; i++)
		if (m->mixer[i] == MIX_SLIDING)
			break;
	if (i < m->layers && !m->sliding_window &&
	    get_int(c, "sliding_window", 1, 0, 1, INT_MAX, &m->sliding_window))
		return -1;
	if (field(c, "linear_attn_config") && parse_kda(c, m, types != NULL))
		return -1;
	for (i = 0; i < m->layers; i++)
		if (m->mixer[i] == MIX_LINEAR)
			return m->lin_kda ? 0 : parse_gdn(c, m);
	return 0;
}

/*
 * Feed-forward per layer. With routed experts, the MoE layers are: those
 * moe_layer_freq lists (a 0/1 list), else DeepSeek's rule (index >=
 * first_k_dense_replace and index % moe_layer_freq == 0), else Qwen's (not
 * in mlp_only_layers and (index + 1) % decoder_sparse_step == 0), else all.
 */
static int parse_mlps(struct ctx *c, struct model_arch *m, unsigned fx)
{
	uint8_t only[MODEL_MAX_LAYERS] = { 0 };
	const cJSON *freq_list = NULL, *e;
	int i, first = 0, freq = 1, step = 1, n = 0;

	if (!has_experts(c) && !(fx & FX_INTER_EXPERT)) {
		for (i = 0; i < m->layers; i++)
			m->mlp[i] = MLP_DENSE;
		return get_int(c, "intermediate_size", 1, 0, 1, MODEL_MAX_WIDTH,
			       &m->dense_intermediate);
	}
	if (parse_experts(c, m, fx & FX_INTER_EXPERT && !has_experts(c) ? "num_local_experts" :
			  pick(c, expert_count_keys), pick(c, expert_k_keys),
			  fx & FX_INTER_EXPERT ? "intermediate_size" :
			  field(c, "moe_intermediate_size") ? "moe_intermediate_size" :
			  "intermediate_size") ||
	    parse_shared(c, m))
		return -1;
	if (field(c, "mlp_layer_types")) {
		/* One entry per layer: "dense"/"mlp" or "sparse"/"moe". */
		const cJSON *t;
		if (get_array(c, "mlp_layer_types", MODEL_MAX_LAYERS, &freq_list, &n))
			return -1;
		if (n != m->layers)
			return fail(c, "field '%smlp_layer_types' must list num_hidden_layers (%d) "
				    "entries", c->prefix, m->layers);
		i = 0;
		cJSON_ArrayForEach(t, freq_list) {
			const char *v = cJSON_IsString(t) ? t->valuestring : "";
			if (!strcmp(v, "dense") || !strcmp(v, "mlp"))
				only[i++] = 1;
			else if (!strcmp(v, "sparse") || !strcmp(v, "moe"))
				only[i++] = 0;
			else
				return fail(c, "field '%smlp_layer_types' has unknown type '%.40s'",
					    c->prefix, v);
		}
		freq_list = NULL;
	} else if (cJSON_IsArray(field(c, "moe_layer_freq"))) {
		if (get_array(c, "moe_layer_freq", MODEL_MAX_LAYERS, &freq_list, &n))
			return -1;
		if (n != m->layers)
			return fail(c, "field '%smoe_layer_freq' must list num_hidden_layers "
				    "(%d) entries", c->prefix, m->layers);
	} else if (get_int(c, "first_k_dense_replace", 0, 0, 0, MODEL_MAX_LAYERS, &first) ||
		   get_int(c, "moe_layer_freq", 0, 1, 1, MODEL_MAX_LAYERS, &freq) ||
		   get_int(c, "decoder_sparse_step", 0, 1, 1, MODEL_MAX_LAYERS, &step) ||
		   mark_layers(c, "mlp_only_layers", only, m->layers, 0) < 0) {
		return -1;
	}
	e = freq_list ? freq_list->child : NULL;
	for (i = 0; i < m->layers; i++) {
		int moe;
		if (freq_list) {
			if (list_int(c, "moe_layer_freq", e, 0, 1, &moe))
				return -1;
			e = e->next;
		} else {
			moe = i >= first && i % freq == 0 && !only[i] && (i + 1) % step == 0;
		}
		m->mlp[i] = moe ? MLP_MOE : MLP_DENSE;
	}
	for (i = 0; i < m->layers; i++)
		if (m->mlp[i] == MLP_DENSE)
			return get_int(c, "intermediate_size", 1, 0, 1, MODEL_MAX_WIDTH,
				       &m->dense_intermediate);
	return 0;
}

/* Multi-token-prediction layers under the names families use. */
static int parse_mtp(struct ctx *c, struct model_arch *m)
{
	int use = 0, modules = 0, per = 1;

	if (field(c, "num_nextn_predict_layers"))
		return get_int(c, "num_nextn_predict_layers", 1, 0, 0, 64, &m->mtp_layers);
	if (field(c, "mtp_num_hidden_layers"))
		return get_int(c, "mtp_num_hidden_layers", 1, 0, 0, 64, &m->mtp_layers);
	if (get_bool(c, "use_mtp", 0, &use) ||
	    get_int(c, "num_mtp_modules", 0, 0, 0, 64, &modules) ||
	    get_int(c, "mtp_transformer_layers", 0, 1, 0, 64, &per))
		return -1;
	m->mtp_layers = use ? modules * per : 0;
	return 0;
}

/* Attention details the generic families spell as fields. */
static int parse_attention_extras(struct ctx *c, struct model_arch *m, unsigned fx)
{
	const cJSON *heads, *e;
	int n, i = 0, gating = 0;

	if (get_bool(c, "attn_output_gate", fx & FX_OUT_GATE ? 1 : 0, &m->q_gate) ||
	    get_bool(c, "gating", 0, &gating) ||
	    get_array(c, "num_attention_heads_per_layer", MODEL_MAX_LAYERS, &heads, &n))
		return -1;
	/* laguna: "gating" is a g_proj output gate, as wide as q_proj. */
	m->q_gate |= gating;
	if (heads) {
		if (n != m->layers)
			return fail(c, "field '%snum_attention_heads_per_layer' must list "
				    "num_hidden_layers (%d) entries", c->prefix, m->layers);
		cJSON_ArrayForEach(e, heads) {
			int h;
			if (list_int(c, "num_attention_heads_per_layer", e, 1, MODEL_MAX_HEADS, &h))
				return -1;
			if (h % m->kv_heads)
				return fail(c, "field '%snum_attention_heads_per_layer' has %d heads, "
					    "not a multiple of num_key_value_heads", c->prefix, h);
			m->layer_heads[i++] = (uint16_t)h;
		}
	}
	if (fx & FX_BIAS_ALWAYS)
		m->attention_bias = 1;
	return 0;
}

static int parse_generic(struct ctx *c, struct model_arch *m, unsigned fx, int known)
{
	int mla = (fx & FX_MLA) || field(c, "kv_lora_rank");

	if (parse_attention_extras(c, m, fx) ||
	    (mla && (parse_mla(c, m) || parse_indexer(c, m, 0))) ||
	    parse_mixers(c, m, fx, known) || parse_mlps(c, m, fx) || parse_mtp(c, m))
		return -1;
	if (fx & FX_EXPERT_BIAS)
		m->expert_bias = 1;
	return 0;
}

/*
 * Llama 4 text tower: MoE layers are moe_layers if listed, else every
 * interleave_moe_layer_step-th layer (indices step-1, 2*step-1, ...), each
 * with one shared expert as wide as a routed one; dense layers use
 * intermediate_size_mlp. Layers that use RoPE (no_rope_layers[i] == 1,
 * default every layer but each 4th) attend within attention_chunk_size
 * (vLLM llama4.py: use_chunked_local_attn = not is_nope_layer and
 * attention_chunk_size).
 */
static int parse_llama4_text(struct ctx *c, struct model_arch *m)
{
	uint8_t moe[MODEL_MAX_LAYERS] = { 0 };
	const cJSON *nope, *e;
	int step, i, listed, n;

	if (parse_experts(c, m, "num_local_experts", "num_experts_per_tok",
			  "intermediate_size") ||
	    get_int(c, "interleave_moe_layer_step", 0, 1, 1, MODEL_MAX_LAYERS, &step) ||
	    get_int(c, "attention_chunk_size", 0, 0, 0, INT_MAX, &m->chunk_tokens) ||
	    get_array(c, "no_rope_layers", MODEL_MAX_LAYERS, &nope, &n))
		return -1;
	listed = mark_layers(c, "moe_layers", moe, m->layers, 0);
	if (listed < 0)
		return -1;
	if (nope && n != m->layers)
		return fail(c, "field '%sno_rope_layers' must list num_hidden_layers (%d) "
			    "entries", c->prefix, m->layers);
	e = nope ? nope->child : NULL;
	for (i = 0; i < m->layers; i++) {
		int rope = (i + 1) % 4 != 0;
		if (e) {
			if (list_int(c, "no_rope_layers", e, 0, 1, &rope))
				return -1;
			e = e->next;
		}
		m->mixer[i] = rope && m->chunk_tokens ? MIX_CHUNKED : MIX_FULL;
		m->mlp[i] = (listed ? moe[i] : (i + 1) % step == 0) ? MLP_MOE : MLP_DENSE;
	}
	m->shared_experts = 1;
	m->shared_intermediate = m->expert_intermediate;
	for (i = 0; i < m->layers; i++)
		if (m->mlp[i] == MLP_DENSE)
			return get_int(c, "intermediate_size_mlp", 1, 0, 1, MODEL_MAX_WIDTH,
				       &m->dense_intermediate);
	return 0;
}

/*
 * nemotron_h: hybrid_override_pattern names each layer's block: 'M' a
 * Mamba-2 mixer, '*' attention, 'E' an MoE, '-' a dense MLP (vLLM
 * nemotron_h.py; each block is one layer with one pre-norm). Latent MoE
 * (moe_latent_size): routed experts work in a latent of that width between
 * fc1/fc2_latent_proj; experts and the shared expert are relu^2 (2
 * matrices) when mlp_hidden_act is relu2.
 */
static int parse_nemotron_h(struct ctx *c, struct model_arch *m)
{
	const char *pat, *act;
	size_t len;
	int i, shared_w = 0, mamba = 0;

	if (get_str(c, "hybrid_override_pattern", &pat))
		return -1;
	if (!pat)
		return fail(c, "missing field '%shybrid_override_pattern'", c->prefix);
	len = strnlen(pat, MODEL_MAX_LAYERS + 1);
	if (len != (size_t)m->layers)
		return fail(c, "field '%shybrid_override_pattern' must have num_hidden_layers "
			    "(%d) characters", c->prefix, m->layers);
	for (i = 0; i < m->layers; i++) {
		switch (pat[i]) {
		case 'M':
			m->mixer[i] = MIX_MAMBA2, m->mlp[i] = MLP_NONE, mamba = 1;
			break;
		case '*':
			m->mixer[i] = MIX_FULL, m->mlp[i] = MLP_NONE;
			break;
		case 'E':
			m->mixer[i] = MIX_NONE, m->mlp[i] = MLP_MOE;
			break;
		case '-':
			m->mixer[i] = MIX_NONE, m->mlp[i] = MLP_DENSE;
			break;
		default:
			return fail(c, "field '%shybrid_override_pattern' has unknown block "
				    "'%c' (known: M, *, E, -)", c->prefix, pat[i]);
		}
	}
	if (get_str(c, "mlp_hidden_act", &act))
		return -1;
	m->gated_mlp = !(act && !strcmp(act, "relu2"));
	if (mamba && parse_mamba2(c, m))
		return -1;
	for (i = 0; i < m->layers; i++)
		if (m->mlp[i] == MLP_DENSE)
			break;
	if (i < m->layers && get_int(c, "intermediate_size", 1, 0, 1, MODEL_MAX_WIDTH,
				     &m->dense_intermediate))
		return -1;
	for (i = 0; i < m->layers; i++)
		if (m->mlp[i] == MLP_MOE)
			break;
	if (i < m->layers) {
		if (parse_experts(c, m, "n_routed_experts", "num_experts_per_tok",
				  "moe_intermediate_size") ||
		    get_int(c, "moe_latent_size", 0, 0, 0, MODEL_MAX_WIDTH, &m->moe_latent) ||
		    get_int(c, "n_shared_experts", 0, 0, 0, 1024, &m->shared_experts) ||
		    (m->shared_experts &&
		     get_int(c, "moe_shared_expert_intermediate_size", 1, 0, 1,
			     MODEL_MAX_WIDTH, &shared_w)))
			return -1;
		/* vLLM builds one shared MLP of n_shared x the shared width. */
		m->shared_intermediate = m->shared_experts * shared_w;
		m->shared_experts = m->shared_experts ? 1 : 0;
	}
	return parse_mtp(c, m);
}

/*
 * deepseek_v4 (vLLM deepseek_v4.py, layers/deepseek_v4_attention.py,
 * layers/deepseek_compressor.py): every layer attends its last
 * sliding_window tokens plus, where compress_ratios[i] > 0, one compressed
 * entry per ratio tokens -- all of them at ratio 128 (C128A), the
 * index_topk an indexer picks at ratio 4 (C4A). One 512-wide latent per
 * token or entry (MQA), grouped low-rank output (o_groups, o_lora_rank),
 * hyper-connections (hc_mult residual copies), every layer MoE, the first
 * num_hash_layers routed by token id.
 */
static int parse_deepseek_v4(struct ctx *c, struct model_arch *m)
{
	const cJSON *ratios, *e;
	int n, i, r;

	if (get_int(c, "q_lora_rank", 1, 0, 1, MODEL_MAX_WIDTH, &m->q_lora_rank) ||
	    get_int(c, "qk_rope_head_dim", 1, 0, 0, MODEL_MAX_WIDTH, &m->qk_rope_head_dim) ||
	    get_int(c, "o_groups", 1, 0, 1, MODEL_MAX_HEADS, &m->o_groups) ||
	    get_int(c, "o_lora_rank", 1, 0, 1, MODEL_MAX_WIDTH, &m->o_lora_rank) ||
	    get_int(c, "sliding_window", 1, 0, 1, INT_MAX, &m->sliding_window) ||
	    get_int(c, "hc_mult", 0, 1, 1, 64, &m->hc_mult) ||
	    get_int(c, "num_hash_layers", 0, 0, 0, MODEL_MAX_LAYERS, &m->hash_layers) ||
	    parse_indexer(c, m, 1) ||
	    parse_experts(c, m, "n_routed_experts", "num_experts_per_tok",
			  "moe_intermediate_size") ||
	    parse_shared(c, m) || parse_mtp(c, m) ||
	    get_array(c, "compress_ratios", MODEL_MAX_LAYERS + 64, &ratios, &n))
		return -1;
	m->csa_head_dim = m->head_dim;
	if (m->qk_rope_head_dim >= m->csa_head_dim)
		return fail(c, "field '%sqk_rope_head_dim' must be below head_dim", c->prefix);
	if (m->heads % m->o_groups)
		return fail(c, "field '%so_groups' (%d) does not divide num_attention_heads",
			    c->prefix, m->o_groups);
	if (!ratios)
		return fail(c, "missing field '%scompress_ratios'", c->prefix);
	/* One ratio per layer, plus one for each MTP layer (vLLM ignores those). */
	if (n < m->layers || n > m->layers + m->mtp_layers)
		return fail(c, "field '%scompress_ratios' must list num_hidden_layers (%d) "
			    "entries (+ %d MTP), has %d", c->prefix, m->layers, m->mtp_layers, n);
	e = ratios->child;
	for (i = 0; i < m->layers; i++, e = e->next) {
		if (list_int(c, "compress_ratios", e, 0, 128, &r))
			return -1;
		if (r != 0 && r != 4 && r != 128)
			return fail(c, "field '%scompress_ratios' has ratio %d (vLLM supports "
				    "0, 4 and 128)", c->prefix, r);
		m->mixer[i] = MIX_CSA;
		m->ratio[i] = (uint16_t)(r ? r : 1);
		m->mlp[i] = MLP_MOE;
	}
	m->attention = ATTN_MLA;
	return 0;
}

/*
 * gemma4 (vLLM gemma4.py): sliding layers use head_dim and
 * num_key_value_heads, full layers global_head_dim and
 * num_global_key_value_heads, and with attention_k_eq_v no v_proj (the KV
 * cache still holds K and V). With enable_moe_block every layer runs a
 * dense GeGLU MLP and an MoE side by side. Per-layer embeddings and
 * KV-shared layers are not modelled: refused (see guards).
 */
static int parse_gemma4(struct ctx *c, struct model_arch *m)
{
	int moe = 0, i, shared = 0;

	if (get_int(c, "global_head_dim", 0, m->head_dim, 1, MODEL_MAX_WIDTH,
		    &m->full_geom.head_dim) ||
	    get_int(c, "num_global_key_value_heads", 0, m->kv_heads, 1, MODEL_MAX_HEADS,
		    &m->full_geom.kv_heads) ||
	    get_bool(c, "attention_k_eq_v", 0, &m->full_geom.k_eq_v) ||
	    get_bool(c, "enable_moe_block", 0, &moe) ||
	    get_int(c, "intermediate_size", 1, 0, 1, MODEL_MAX_WIDTH, &m->dense_intermediate) ||
	    parse_mixers(c, m, 0, 1))
		return -1;
	if (m->heads % m->full_geom.kv_heads)
		return fail(c, "field '%snum_global_key_value_heads' (%d) does not divide "
			    "num_attention_heads (%d)", c->prefix, m->full_geom.kv_heads,
			    m->heads);
	if (moe && parse_experts(c, m, "num_experts", "top_k_experts", "moe_intermediate_size"))
		return -1;
	/*
	 * E-models (vLLM gemma4.py): per-layer embeddings of
	 * hidden_size_per_layer_input per layer, looked up in a table of
	 * vocab_size_per_layer_input; the last num_kv_shared_layers layers reuse
	 * the KV of an earlier layer of their kind (kv_sharing_target_layer_name)
	 * and hold none, with a doubled MLP under use_double_wide_mlp.
	 */
	if (get_int(c, "hidden_size_per_layer_input", 0, 0, 0, MODEL_MAX_WIDTH, &m->ple_dim) ||
	    get_int(c, "vocab_size_per_layer_input", 0, (int)fmin(m->vocab, INT_MAX), 0,
		    MODEL_MAX_VOCAB, &m->ple_vocab) ||
	    get_int(c, "num_kv_shared_layers", 0, 0, 0, m->layers - 1, &shared) ||
	    get_bool(c, "use_double_wide_mlp", 0, &m->double_wide))
		return -1;
	if ((double)m->ple_vocab * m->layers * m->ple_dim > 1e13)
		return fail(c, "field '%shidden_size_per_layer_input' gives an implausible table",
			    c->prefix);
	m->kv_shared_from = shared ? m->layers - shared : 0;
	for (i = 0; i < m->layers; i++)
		m->mlp[i] = moe ? MLP_DENSE_MOE : MLP_DENSE;
	m->head_dim = m->full_geom.head_dim;
	m->kv_heads = m->full_geom.kv_heads;
	m->attention = m->kv_heads == m->heads ? ATTN_MHA : ATTN_GQA;
	return 0;
}

/* ---- The checkpoint's storage ----------------------------------------- */

/* Modules quantisation touches: every linear layer but routers, embeddings, head. */
#define LINEAR_MODULES ((1u << MOD_ATTN) | (1u << MOD_MIXER) | (1u << MOD_INDEXER) | \
			(1u << MOD_DENSE) | (1u << MOD_SHARED) | (1u << MOD_ROUTED))

static void ckpt_set(struct checkpoint *k, unsigned modules, enum weight_format f, double bytes)
{
	for (int g = 0; g < MOD_COUNT; g++) {
		if (!(modules & (1u << g)))
			continue;
		k->fmt[g] = f;
		k->bytes[g] = bytes;
	}
}

/*
 * Which module groups (bit mask) and which layer (-1: all) a module name or
 * pattern from modules_to_not_convert / ignore / exclude_modules / targets
 * means: "model.layers.3.mlp.gate" is layer 3's router, "re:.*self_attn.*"
 * every attention, "lm_head" the head. Names piqplan does not model (norms,
 * vision towers, MTP layers) mean nothing (0).
 */
static unsigned classify_module(const char *s, int *layer)
{
	const char *p;

	*layer = -1;
	if (!strncmp(s, "re:", 3))
		s += 3;
	else if ((p = strstr(s, "layers.")) && p[7] >= '0' && p[7] <= '9') {
		long v = 0;
		for (p += 7; *p >= '0' && *p <= '9' && v < 100000; p++)
			v = v * 10 + (*p - '0');
		*layer = (int)v;
	}
	if (strstr(s, "visual") || strstr(s, "vision") || strstr(s, "mm_projector") ||
	    strstr(s, "mtp") || strstr(s, "eh_proj") || strstr(s, "enorm") ||
	    strstr(s, "hnorm") || strstr(s, "shared_head"))
		return 0;
	if (strstr(s, "lm_head"))
		return 1u << MOD_LM_HEAD;
	if (strstr(s, "embed"))
		return 1u << MOD_EMBED;
	/* Norms, and the indexer's weights_proj (GLM-5: indexers_proj), are bf16 anyway. */
	if (strstr(s, "norm") || strstr(s, "weights_proj") || strstr(s, "indexers_proj"))
		return 0;
	if (strstr(s, "shared_expert_gate") || strstr(s, "latent_proj") ||
	    strstr(s, "e_score_correction_bias") || strstr(s, "router"))
		return 1u << MOD_ROUTER;
	if (strstr(s, "shared_expert"))
		return 1u << MOD_SHARED;
	if (strstr(s, "experts"))
		return 1u << MOD_ROUTED;
	if (strstr(s, "indexer") || strstr(s, "compressor"))
		return 1u << MOD_INDEXER;
	if (strstr(s, "linear_attn") || strstr(s, "mixer") || strstr(s, "mamba"))
		return 1u << MOD_MIXER;
	if (strstr(s, "attn") || strstr(s, "attention") || strstr(s, "q_proj") ||
	    strstr(s, "k_proj") || strstr(s, "v_proj") || strstr(s, "o_proj") ||
	    strstr(s, "kv_a_proj") || strstr(s, "kv_b_proj") || strstr(s, "q_a_proj") ||
	    strstr(s, "q_b_proj"))
		return 1u << MOD_ATTN;
	/*
	 * An MLP projection: a dense MLP's ("layers.0.mlp.gate_proj", Kimi's
	 * "re:.*mlp\\.(gate|up)_proj"), or -- a pattern with a wildcard after
	 * the block, "re:.*ffn.*(gate|up|down)_proj$" -- every MLP's, experts too.
	 */
	if ((strstr(s, "mlp") || strstr(s, "ffn")) && strstr(s, "proj"))
		return strstr(s, "mlp.*") || strstr(s, "ffn.*") ?
		       (1u << MOD_DENSE) | (1u << MOD_SHARED) | (1u << MOD_ROUTED) :
		       1u << MOD_DENSE;
	/* The router: "gate" alone, or a name ending in ".gate". */
	p = strstr(s, "gate");
	if (p && (p == s || p[-1] == '.') && (p[4] == '\0' || p[4] == '$'))
		return 1u << MOD_ROUTER;
	if (strstr(s, "mlp"))
		return (1u << MOD_DENSE) | (1u << MOD_SHARED) | (1u << MOD_ROUTED) |
		       (1u << MOD_ROUTER);
	if (!strcmp(s, "Linear"))
		return LINEAR_MODULES;
	return 0;
}

/* Mark the modules a list of names keeps in bf16. */
static int ckpt_keep(struct ctx *c, const char *name, struct model_arch *m)
{
	const cJSON *list, *e;
	int n, layer;

	if (get_array(c, name, MODEL_MAX_LIST, &list, &n))
		return -1;
	if (!list)
		return 0;
	cJSON_ArrayForEach(e, list) {
		unsigned mods;
		if (!cJSON_IsString(e))
			return fail(c, "field '%s%s' holds a non-string", c->prefix, name);
		mods = classify_module(e->valuestring, &layer);
		if (layer < 0)
			m->ckpt.kept_all |= (uint16_t)mods;
		else if (layer < m->layers)
			m->ckpt.kept[layer] |= (uint16_t)mods;
	}
	return 0;
}

/* fp8 with optional [bn, bk] blocks; scales fp32, or 1-byte ue8m0. */
static int quant_fp8(struct ctx *q, struct model_arch *m, int expert_fp4)
{
	const cJSON *blk;
	const char *scale_fmt;
	int n, bn = 0, bk = 0;
	double bytes = 1.0, scale;

	if (get_array(q, "weight_block_size", 2, &blk, &n) || get_str(q, "scale_fmt", &scale_fmt))
		return -1;
	scale = scale_fmt && !strcmp(scale_fmt, "ue8m0") ? 1.0 : 4.0;
	if (blk) {
		if (n != 2 || list_int(q, "weight_block_size", blk->child, 1, 65536, &bn) ||
		    list_int(q, "weight_block_size", blk->child->next, 1, 65536, &bk))
			return fail(q, "field '%sweight_block_size' must be two block sizes",
				    q->prefix);
		bytes += scale / ((double)bn * bk);
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "fp8 e4m3, %dx%d blocks%s", bn,
			 bk, scale < 4 ? " (ue8m0 scales)" : "");
	} else {
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "fp8 e4m3, per-tensor scales");
	}
	ckpt_set(&m->ckpt, LINEAR_MODULES, WF_FP8, bytes);
	if (expert_fp4) {
		/* deepseek_v4 expert_dtype fp4: MXFP4 experts (DeepseekV4FP8Config). */
		ckpt_set(&m->ckpt, 1u << MOD_ROUTED, WF_MXFP4, 0.53125);
		snprintf(m->ckpt.scheme + strlen(m->ckpt.scheme),
			 sizeof(m->ckpt.scheme) - strlen(m->ckpt.scheme), ", mxfp4 experts");
	}
	/* The V4 compressors and indexer weights_proj are bf16 (quant_config=None). */
	if (ckpt_keep(q, "modules_to_not_convert", m) || ckpt_keep(q, "ignored_layers", m))
		return -1;
	return 0;
}

/*
 * compressed-tensors (llm-compressor): config_groups name targets and the
 * weights' scheme; ignore lists what stays bf16. Bytes per parameter:
 * int4 group g 0.5 + 2/g (a bf16 scale per group; + 0.5/g for asymmetric
 * zero points), fp4 group 16 0.5625 (NVFP4), fp8 1 (+ block scales), int8
 * 1 + 4/hidden (per-channel scales).
 */
static int quant_compressed_tensors(struct ctx *q, struct model_arch *m)
{
	struct ctx g = *q, w = *q;
	const cJSON *groups = field(q, "config_groups"), *grp;
	int ngroups = 0;

	if (!cJSON_IsObject(groups))
		return fail(q, "missing field '%sconfig_groups' (quant_method "
			    "'compressed-tensors')", q->prefix);
	cJSON_ArrayForEach(grp, groups) {
		const cJSON *targets, *t;
		const char *type, *strategy;
		int bits = 0, gs = 0, sym = 1, n;
		unsigned mods = 0;
		enum weight_format f;
		double bytes;

		if (++ngroups > 64)
			return fail(q, "field '%sconfig_groups' has more than 64 groups", q->prefix);
		g.obj = grp;
		g.prefix = "quantization_config.config_groups.*.";
		w.obj = field(&g, "weights");
		w.prefix = "quantization_config.config_groups.*.weights.";
		if (!cJSON_IsObject(w.obj))
			return fail(q, "missing field '%sweights' (quant_method "
				    "'compressed-tensors')", g.prefix);
		if (get_int(&w, "num_bits", 1, 0, 1, 64, &bits) || get_str(&w, "type", &type) ||
		    get_str(&w, "strategy", &strategy) ||
		    get_int(&w, "group_size", 0, 0, 0, 1 << 20, &gs) ||
		    get_bool(&w, "symmetric", 1, &sym) ||
		    get_array(&g, "targets", MODEL_MAX_LIST, &targets, &n))
			return -1;
		if (!type)
			type = "int";
		if (!strcmp(type, "int") && bits == 4) {
			double per = gs > 0 ? gs : m->hidden;
			f = WF_INT4;
			bytes = 0.5 + 2.0 / per + (sym ? 0 : 0.5 / per);
		} else if (!strcmp(type, "int") && bits == 8) {
			f = WF_INT8;
			bytes = 1.0 + (gs > 0 ? 2.0 / gs : 4.0 / m->hidden);
		} else if (!strcmp(type, "float") && bits == 8) {
			f = WF_FP8;
			bytes = 1.0 + (strategy && !strcmp(strategy, "block") ? 4.0 / 16384 : 0);
		} else if (!strcmp(type, "float") && bits == 4) {
			f = WF_NVFP4;
			bytes = 0.5 + 1.0 / (gs > 0 ? gs : 16);
		} else {
			return fail(q, "unsupported quant_method 'compressed-tensors' scheme: "
				    "%d-bit %.16s weights", bits, type);
		}
		if (targets) {
			cJSON_ArrayForEach(t, targets) {
				int layer;
				if (cJSON_IsString(t))
					mods |= classify_module(t->valuestring, &layer);
			}
		} else {
			mods = LINEAR_MODULES;
		}
		ckpt_set(&m->ckpt, mods & LINEAR_MODULES, f, bytes);
		if (ngroups > 1 && strlen(m->ckpt.scheme) + 16 < sizeof(m->ckpt.scheme))
			snprintf(m->ckpt.scheme + strlen(m->ckpt.scheme),
				 sizeof(m->ckpt.scheme) - strlen(m->ckpt.scheme), " + %s",
				 weight_format_name(f));
		else if (ngroups == 1 && gs > 0)
			snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "%s, group %d",
				 weight_format_name(f), gs);
		else if (ngroups == 1)
			snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "%s",
				 weight_format_name(f));
	}
	if (!ngroups)
		return fail(q, "field '%sconfig_groups' is empty", q->prefix);
	/* An 8-bit kv_cache_scheme: vLLM keeps the KV cache in fp8. */
	const cJSON *kvs = field(q, "kv_cache_scheme");
	if (cJSON_IsObject(kvs)) {
		const cJSON *bits = cJSON_GetObjectItemCaseSensitive(kvs, "num_bits");
		m->ckpt.kv_fp8 = cJSON_IsNumber(bits) && bits->valuedouble == 8;
	}
	return ckpt_keep(q, "ignore", m);
}

/* AWQ / GPTQ: int4 (or int8) groups with fp16 scales and packed zero points. */
static int quant_awq_gptq(struct ctx *q, struct model_arch *m, int awq)
{
	int bits = 0, gs = 128, zp = 1;
	double per, bytes;

	if (get_int(q, awq ? "w_bit" : "bits", 0, 0, 2, 8, &bits) ||
	    (!bits && get_int(q, "bits", 1, 0, 2, 8, &bits)) ||
	    get_int(q, awq ? "q_group_size" : "group_size", 0, 0, -1, 1 << 20, &gs) ||
	    (!gs && get_int(q, "group_size", 0, 128, -1, 1 << 20, &gs)) ||
	    get_bool(q, "zero_point", 1, &zp))
		return -1;
	if (bits != 4 && bits != 8)
		return fail(q, "unsupported quant_method '%s' with %d bits", awq ? "awq" : "gptq",
			    bits);
	per = gs > 0 ? gs : m->hidden;
	/* fp16 scale per group, plus a packed zero point (GPTQ stores it even when sym). */
	bytes = bits / 8.0 + (2.0 + (zp || !awq ? bits / 8.0 : 0)) / per;
	ckpt_set(&m->ckpt, LINEAR_MODULES & ~(1u << MOD_INDEXER), bits == 4 ? WF_INT4 : WF_INT8,
		 bytes);
	snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "int%d w%da16, group %d", bits, bits,
		 gs > 0 ? gs : m->hidden);
	return ckpt_keep(q, "modules_to_not_convert", m);
}

/* ModelOpt: quant_algo FP8 (per-tensor) or NVFP4 (fp8 scale per group_size). */
static int quant_modelopt(struct ctx *q, struct model_arch *m, const char *exclude_key)
{
	const char *algo, *kv;
	int gs = 16;

	if (get_str(q, "quant_algo", &algo) || get_str(q, "kv_cache_quant_algo", &kv) ||
	    get_int(q, "group_size", 0, 16, 1, 1 << 20, &gs))
		return -1;
	if (!algo)
		return fail(q, "missing field '%squant_algo' (quant_method 'modelopt')", q->prefix);
	if (!strcmp(algo, "FP8") || !strcmp(algo, "FP8_PER_CHANNEL_PER_TOKEN") ||
	    !strcmp(algo, "FP8_PB_WO")) {
		ckpt_set(&m->ckpt, LINEAR_MODULES, WF_FP8, 1.0);
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "modelopt %s", algo);
	} else if (!strcmp(algo, "NVFP4") || !strcmp(algo, "W4A16_NVFP4")) {
		ckpt_set(&m->ckpt, LINEAR_MODULES, WF_NVFP4, 0.5 + 1.0 / gs);
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "modelopt %s, group %d", algo, gs);
	} else if (!strcmp(algo, "MIXED_PRECISION")) {
		/*
		 * quantized_layers names each quantised module with its own
		 * quant_algo ("layers.3.ffn.experts": NVFP4); the rest stays bf16.
		 * Formats are kept per module group (the layer is not).
		 */
		const cJSON *ql = field(q, "quantized_layers"), *e;
		int n = 0, layer;
		if (!cJSON_IsObject(ql))
			return fail(q, "missing field '%squantized_layers' (quant_method 'modelopt' "
				    "MIXED_PRECISION)", q->prefix);
		cJSON_ArrayForEach(e, ql) {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "quant_algo");
			const cJSON *g = cJSON_GetObjectItemCaseSensitive(e, "group_size");
			unsigned mods = classify_module(e->string ? e->string : "", &layer) &
					LINEAR_MODULES;
			int egs = cJSON_IsNumber(g) && g->valuedouble >= 1 &&
				  g->valuedouble <= 1 << 20 ? (int)g->valuedouble : gs;
			if (++n > MODEL_MAX_LIST)
				return fail(q, "field '%squantized_layers' has more than %d entries",
					    q->prefix, MODEL_MAX_LIST);
			if (!cJSON_IsString(a))
				return fail(q, "field '%squantized_layers.%.60s' has no quant_algo",
					    q->prefix, e->string ? e->string : "?");
			if (!strcmp(a->valuestring, "NVFP4") || !strcmp(a->valuestring, "W4A16_NVFP4"))
				ckpt_set(&m->ckpt, mods, WF_NVFP4, 0.5 + 1.0 / egs);
			else if (!strncmp(a->valuestring, "FP8", 3))
				ckpt_set(&m->ckpt, mods, WF_FP8, 1.0);
			else
				return fail(q, "unsupported quant_method 'modelopt' quant_algo '%.32s' "
					    "in quantized_layers", a->valuestring);
		}
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "modelopt MIXED_PRECISION");
	} else {
		return fail(q, "unsupported quant_method 'modelopt' quant_algo '%.32s'", algo);
	}
	m->ckpt.kv_fp8 = kv && !strcmp(kv, "FP8");
	return ckpt_keep(q, exclude_key, m);
}

/*
 * The checkpoint's storage, from config.json's quantization_config (at the
 * top or in text_config, as vLLM looks) or a separate hf_quant_config.json
 * (hfq). A quantisation piqplan cannot read is an error naming quant_method.
 */
static int parse_quantization(struct ctx *root, struct ctx *tc, const cJSON *hfq,
			      struct model_arch *m, unsigned fx, int v4)
{
	struct ctx qc = *root;
	const cJSON *method;
	const char *ms, *expert_dtype = NULL;

	ckpt_set(&m->ckpt, ~0u, WF_BF16, 2.0);
	if (fx & FX_ROUTER_FP32)
		ckpt_set(&m->ckpt, 1u << MOD_ROUTER, WF_FP32, 4.0);
	qc.prefix = "quantization_config.";
	qc.obj = field(tc, "quantization_config");
	if (!qc.obj)
		qc.obj = field(root, "quantization_config");
	if (!qc.obj)
		qc.obj = field(root, "compression_config");
	if (qc.obj && hfq)
		return fail(root, "config.json already has a quantization_config; a separate "
			    "hf_quant_config.json is for checkpoints without one");
	if (!qc.obj && hfq) {
		qc.prefix = "hf_quant_config.quantization.";
		qc.obj = cJSON_GetObjectItemCaseSensitive(hfq, "quantization");
		if (!cJSON_IsObject(qc.obj))
			return fail(root, "hf_quant_config.json has no 'quantization' object "
				    "(quant_method 'modelopt')");
		snprintf(m->ckpt.quant_method, sizeof(m->ckpt.quant_method), "modelopt");
		return quant_modelopt(&qc, m, "exclude_modules");
	}
	if (!qc.obj)
		return 0;
	if (!cJSON_IsObject(qc.obj))
		return fail(root, "field 'quantization_config' is not an object");
	method = field(&qc, "quant_method");
	if (!method)
		return fail(root, "missing field 'quantization_config.quant_method'");
	if (!cJSON_IsString(method))
		return fail(root, "field 'quantization_config.quant_method' is not a string");
	ms = method->valuestring;
	snprintf(m->ckpt.quant_method, sizeof(m->ckpt.quant_method), "%s", ms);
	if (v4 && get_str(tc, "expert_dtype", &expert_dtype))
		return -1;
	if (!strcmp(ms, "fp8"))
		return quant_fp8(&qc, m, v4 && (!expert_dtype || !strcmp(expert_dtype, "fp4")));
	if (!strcmp(ms, "mxfp4")) {
		/* vLLM's Mxfp4Config quantises MoE experts only; the rest stays bf16. */
		ckpt_set(&m->ckpt, 1u << MOD_ROUTED, WF_MXFP4, 0.53125);
		snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "mxfp4 experts");
		return 0;
	}
	if (!strcmp(ms, "compressed-tensors") || !strcmp(ms, "compressed_tensors")) {
		snprintf(m->ckpt.quant_method, sizeof(m->ckpt.quant_method), "compressed-tensors");
		return quant_compressed_tensors(&qc, m);
	}
	if (!strcmp(ms, "awq"))
		return quant_awq_gptq(&qc, m, 1);
	if (!strcmp(ms, "gptq"))
		return quant_awq_gptq(&qc, m, 0);
	if (!strcmp(ms, "modelopt"))
		return quant_modelopt(&qc, m, "ignore");
	return fail(root, "unsupported quant_method '%.40s'", ms);
}

/* ---- Fields piqplan cannot interpret ----------------------------------- */

/*
 * Fields that change memory or compute in ways piqplan does not model. A
 * config that sets one (to anything but its neutral value) is refused,
 * naming it, rather than sized wrongly.
 */
static int guard_fields(struct ctx *c, enum parser parser)
{
	static const struct { const char *name; enum parser owner; } guards[] = {
		{ "num_kv_shared_layers", P_GEMMA4 },	/* gemma 3n / 4 E-models */
		{ "hidden_size_per_layer_input", P_GEMMA4 }, /* per-layer embeddings */
		{ "use_double_wide_mlp", P_GEMMA4 },
		{ "attn_type_list", P_GENERIC },	/* MiniMax lightning attention */
		{ "layers_block_type", P_GENERIC },
		{ "kv_source_layer_ids", P_GENERIC },
		{ "engram_layer_ids", P_GENERIC },
		{ "compress_ratios", P_V4 },
		{ "hc_mult", P_V4 },
		{ "hybrid_override_pattern", P_NEMOTRON },
	};
	for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
		const cJSON *it;
		if (guards[i].owner != P_GENERIC && guards[i].owner == parser)
			continue;
		it = field(c, guards[i].name);
		if (!it || cJSON_IsFalse(it) || (cJSON_IsNumber(it) && it->valuedouble == 0) ||
		    (cJSON_IsArray(it) && !it->child) || (cJSON_IsString(it) && !*it->valuestring))
			continue;
		return fail(c, "field '%s%s' is not understood: piqplan cannot size the "
			    "layers it describes", c->prefix, guards[i].name);
	}
	return 0;
}

/*
 * Fields of a config that do not change the parameter count or the KV
 * cache (token ids, dropout, rope, generation defaults, initialisation,
 * routing details): an unknown model_type may carry any of these.
 */
static const char *const harmless_fields[] = {
	"architectures", "auto_map", "model_type", "transformers_version", "torch_dtype",
	"dtype", "use_cache", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
	"decoder_start_token_id", "initializer_range", "initializer_factor", "rms_norm_eps",
	"layer_norm_eps", "layer_norm_epsilon", "norm_eps", "norm_epsilon", "rope_theta",
	"rope_scaling", "rope_parameters", "rope_type", "partial_rotary_factor", "rotary_dim",
	"rotary_pct", "rotary_emb_base", "rope_interleave", "attention_dropout",
	"hidden_dropout", "dropout", "embd_pdrop", "resid_pdrop", "attn_pdrop",
	"hidden_dropout_prob", "attention_probs_dropout_prob", "hidden_act",
	"hidden_activation", "activation_function", "max_window_layers",
	"router_aux_loss_coef", "aux_loss_alpha", "output_router_logits",
	"router_jitter_noise", "norm_topk_prob", "routed_scaling_factor", "scoring_func",
	"topk_method", "n_group", "topk_group", "seq_aux", "ep_size", "num_logits_to_keep",
	"pretraining_tp", "id2label", "label2id", "task_specific_params", "problem_type",
	"_name_or_path", "name_or_path", "return_dict", "output_attentions",
	"output_hidden_states", "torchscript", "use_bfloat16", "is_encoder_decoder",
	"is_decoder", "add_cross_attention", "chunk_size_feed_forward",
	"tie_encoder_decoder", "prefix", "bad_words_ids", "begin_suppress_tokens",
	"diversity_penalty", "do_sample", "early_stopping", "encoder_no_repeat_ngram_size",
	"exponential_decay_length_penalty", "finetuning_task", "forced_bos_token_id",
	"forced_eos_token_id", "length_penalty", "max_length", "min_length",
	"no_repeat_ngram_size", "num_beam_groups", "num_beams", "num_return_sequences",
	"output_scores", "pruned_heads", "remove_invalid_values", "repetition_penalty",
	"return_dict_in_generate", "suppress_tokens", "temperature", "tf_legacy_loss",
	"tokenizer_class", "top_k", "top_p", "typical_p", "cross_attention_hidden_size",
	"attn_implementation", "_attn_implementation", "final_logit_softcapping",
	"attn_logit_softcapping", "query_pre_attn_scalar", "embedding_multiplier",
	"logits_scaling", "attention_multiplier", "residual_multiplier", "mlp_bias",
	"use_qk_norm", "qk_norm_type", "use_routing_bias", "moe_router_dtype",
	"moe_renormalize", "moe_router_activation_func", "num_expert_group", "mla_use_nope",
	"image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id",
	"tie_word_embeddings", "quantization_config", "head_dim", "use_sliding_window",
	"sliding_window", "intermediate_size", "moe_apply_router_weight_on_input",
	"moe_routed_scaling_factor", "use_bidirectional_attention", NULL,
};

/* An unknown family: every field of the text config must be understood. */
static int strict_check(struct ctx *c, const char *model_type)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, c->obj) {
		int ok = 0;
		for (int i = 0; i < *c->nseen && !ok; i++)
			ok = c->seen[i] == it;
		for (const char *const *h = harmless_fields; *h && !ok; h++)
			ok = it->string && !strcmp(it->string, *h);
		if (!ok)
			return fail(c, "field '%s%.60s' is not understood (model_type '%.40s' "
				    "is not a known family)", c->prefix,
				    it->string ? it->string : "?", model_type);
	}
	return 0;
}

/* Small per-family terms, from the family flags and the fields that name them. */
static int parse_extras(struct ctx *c, struct model_arch *m, const struct family *fam)
{
	int qk = 0, route_bias = 0;
	const char *qk_type, *topk_method;

	if (get_bool(c, "use_qk_norm", 0, &qk) || get_str(c, "qk_norm_type", &qk_type) ||
	    get_bool(c, "use_routing_bias", 0, &route_bias) ||
	    get_str(c, "topk_method", &topk_method))
		return -1;
	m->qk_norm = qk && qk_type && !strcmp(qk_type, "per_layer") ? 2 :
		     qk || (fam->fx & FX_QK_NORM) ? 1 : 0;
	if (fam->parser == P_LLAMA4)	/* Llama4TextL2Norm: q/k norms without weights */
		m->qk_norm = 0;
	m->sinks = (fam->fx & FX_SINKS) != 0;
	m->qkv_bias_only = (fam->fx & FX_QKV_BIAS) != 0;
	/*
	 * DeepSeek's noaux_tc routing and MiniMax's routing bias add an fp32
	 * e_score_correction_bias of E per layer (2); gpt-oss's router is a
	 * Linear with a bias (1).
	 */
	m->router_bias = (fam->fx & FX_ROUTER_BIAS) || route_bias ||
			 (topk_method && !strcmp(topk_method, "noaux_tc")) ? 2 :
			 (fam->fx & FX_ROUTER_LINBIAS) ? 1 : 0;
	m->shared_gate = (fam->fx & FX_SHARED_GATE) && m->shared_experts;
	m->norms_per_layer = fam->parser == P_NEMOTRON ? 1 : fam->parser == P_GEMMA4 ?
			     (m->experts ? 7 : 4) : 2;
	m->router_extras = fam->parser == P_GEMMA4;
	m->layer_scalar = fam->parser == P_GEMMA4;
	return 0;
}

/* Count layers per kind and the old summary fields callers read. */
static void summarise(struct model_arch *m)
{
	memset(m->mixer_layers, 0, sizeof(m->mixer_layers));
	m->dense_layers = m->moe_layers = m->sliding_layers = 0;
	for (int i = 0; i < m->layers; i++) {
		m->mixer_layers[m->mixer[i]]++;
		if (m->mlp[i] == MLP_DENSE || m->mlp[i] == MLP_DENSE_MOE)
			m->dense_layers++;
		if (m->mlp[i] == MLP_MOE || m->mlp[i] == MLP_DENSE_MOE)
			m->moe_layers++;
	}
	m->sliding_layers = m->mixer_layers[MIX_SLIDING];
	if (!m->sliding_layers && m->mixer[0] != MIX_CSA)
		m->sliding_window = 0;
	if (!m->moe_layers)
		m->experts = m->experts_per_token = m->shared_experts = 0;
	m->native_linear = m->ckpt.fmt[MOD_ATTN];
	m->native_experts = m->ckpt.fmt[MOD_ROUTED];
	m->native_other = WF_BF16;
}

int model_arch_is_fp4(const struct model_arch *m)
{
	enum weight_format e = m->experts > 0 ? m->native_experts : WF_BF16;
	return m->native_linear == WF_MXFP4 || m->native_linear == WF_NVFP4 || e == WF_MXFP4 ||
	       e == WF_NVFP4;
}

void model_arch_as_nvfp4(struct model_arch *m)
{
	ckpt_set(&m->ckpt, LINEAR_MODULES, WF_NVFP4, 0.5 + 1.0 / 16);
	snprintf(m->ckpt.quant_method, sizeof(m->ckpt.quant_method), "modelopt");
	snprintf(m->ckpt.scheme, sizeof(m->ckpt.scheme), "modelopt NVFP4, group 16");
	m->native_linear = m->ckpt.fmt[MOD_ATTN];
	m->native_experts = m->ckpt.fmt[MOD_ROUTED];
}

/* Upper bound of the parameter count, so absurd fields fail before int64 math. */
static double params_bound(const struct model_arch *m)
{
	double h = m->hidden, H = m->heads, L = m->layers, E = m->experts;
	double w = fmax(fmax(m->dense_intermediate, m->expert_intermediate),
			m->shared_intermediate);
	double attn = 4.0 * h * H * fmax(fmax(m->head_dim, m->full_geom.head_dim),
					 fmax(m->window_geom.head_dim, m->csa_head_dim + 1));
	double mla = (h + H * 4.0) * (m->q_lora_rank + m->kv_lora_rank + m->o_lora_rank +
				      m->qk_nope_head_dim + m->qk_rope_head_dim +
				      m->v_head_dim) * 4.0;
	double idx = (m->q_lora_rank + h) * (double)m->index_heads * m->index_head_dim * 2.0;
	double lin = h * 4.0 * ((double)m->lin_key_heads * m->lin_key_dim +
				(double)m->lin_value_heads * m->lin_value_dim) +
		     h * 4.0 * (double)m->mamba_heads * m->mamba_head_dim;
	double ffn = 3.0 * h * w * (E + 2.0 + m->shared_experts) + h * E;

	return L * (attn + mla + idx + lin + ffn + 16.0 * h) + 2.0 * (double)m->vocab * h +
	       4.0 * h * (m->hc_mult + 1) * (m->hc_mult + 1) * h;
}

/*
 * Python's json module writes Infinity, -Infinity and NaN, and Hugging Face
 * configs carry them (nemotron_h's time_step_limit [0.0, Infinity]); JSON
 * and cJSON do not. Each, outside strings, becomes a number of the same
 * length (1e999999 parses as infinity), so offsets stay where they were.
 */
int model_json_strictify(char *buf, size_t len)
{
	int in_str = 0, n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in_str) {
			if (buf[i] == '\\')
				i++;
			else if (buf[i] == '"')
				in_str = 0;
		} else if (buf[i] == '"') {
			in_str = 1;
		} else if (len - i >= 8 && !memcmp(buf + i, "Infinity", 8)) {
			memcpy(buf + i, "1e999999", 8);
			i += 7;
			n++;
		} else if (len - i >= 3 && !memcmp(buf + i, "NaN", 3)) {
			memcpy(buf + i, "0.0", 3);
			i += 2;
			n++;
		}
	}
	return n;
}

static cJSON *parse_relaxed(const char *json, size_t len)
{
	char *copy = malloc(len ? len : 1);
	cJSON *root;

	if (!copy)
		return NULL;
	memcpy(copy, json, len);
	model_json_strictify(copy, len);
	root = cJSON_ParseWithLength(copy, len);
	free(copy);
	return root;
}

int model_arch_parse_quant(const char *json, size_t len, const char *quant, size_t qlen,
			   struct model_arch *out, char *err, size_t errsz)
{
	const cJSON *seen[MAX_SEEN];
	int nseen = 0;
	struct ctx c = { NULL, "", err, errsz, seen, &nseen };
	struct ctx tc;
	const struct family *fam;
	const cJSON *type, *tconf;
	const char *text_type = NULL;
	cJSON *root = NULL, *hfq = NULL;
	int known = 1, ret = -1, r = 0;

	memset(out, 0, sizeof(*out));
	if (err && errsz)
		err[0] = '\0';
	root = parse_relaxed(json, len);
	if (!cJSON_IsObject(root)) {
		fail(&c, root ? "malformed config.json: not a JSON object"
			      : "malformed config.json: invalid JSON");
		goto cleanup;
	}
	if (quant) {
		hfq = parse_relaxed(quant, qlen);
		if (!cJSON_IsObject(hfq)) {
			fail(&c, "malformed hf_quant_config.json: %s",
			     hfq ? "not a JSON object" : "invalid JSON");
			goto cleanup;
		}
	}
	c.obj = root;
	type = field(&c, "model_type");
	if (!type) {
		fail(&c, "missing field 'model_type'");
		goto cleanup;
	}
	if (!cJSON_IsString(type)) {
		fail(&c, "field 'model_type' is not a string");
		goto cleanup;
	}
	/* Vision-language wrappers keep the language model under text_config. */
	tc = c;
	tconf = field(&c, "text_config");
	if (tconf) {
		if (!cJSON_IsObject(tconf)) {
			fail(&c, "field 'text_config' is not an object");
			goto cleanup;
		}
		tc.obj = tconf;
		tc.prefix = "text_config.";
		if (get_str(&tc, "model_type", &text_type))
			goto cleanup;
	} else if (!strcmp(type->valuestring, "llama4")) {
		fail(&c, "missing field 'text_config'");
		goto cleanup;
	}
	fam = family_find(type->valuestring);
	if (!fam)
		fam = family_find(text_type);
	known = fam != NULL;
	if (!fam)
		fam = &generic_family;
	snprintf(out->model_type, sizeof(out->model_type), "%s",
		 known ? fam->model_type : type->valuestring);
	if (!known)
		snprintf(out->note, sizeof(out->note), "model_type '%.40s' is not a known family: "
			 "read from its fields as a llama-style decoder", type->valuestring);

	if (parse_common(&tc, out))
		goto cleanup;
	out->auto_map = cJSON_GetObjectItemCaseSensitive(root, "auto_map") != NULL;
	/* The wrapper may hold tie_word_embeddings instead of the text tower. */
	if (field(&tc, "tie_word_embeddings"))
		r = get_bool(&tc, "tie_word_embeddings", 0, &out->tied_embeddings);
	else if (tc.obj != root)
		r = get_bool(&c, "tie_word_embeddings", 0, &out->tied_embeddings);
	if (r || guard_fields(&tc, fam->parser))
		goto cleanup;
	switch (fam->parser) {
	case P_LLAMA4:
		r = parse_llama4_text(&tc, out);
		break;
	case P_NEMOTRON:
		r = parse_nemotron_h(&tc, out);
		break;
	case P_V4:
		r = parse_deepseek_v4(&tc, out);
		break;
	case P_GEMMA4:
		r = parse_gemma4(&tc, out);
		break;
	case P_GENERIC:
		r = parse_generic(&tc, out, fam->fx, known);
		break;
	}
	if (r || parse_extras(&tc, out, fam) ||
	    parse_quantization(&c, &tc, hfq, out, fam->fx, fam->parser == P_V4))
		goto cleanup;
	summarise(out);
	if (params_bound(out) > 1e15) {
		fail(&c, "implausible model: over 10^15 parameters");
		goto cleanup;
	}
	if (!known && strict_check(&tc, type->valuestring))
		goto cleanup;
	ret = 0;
cleanup:
	if (ret && !known && err && errsz) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errsz, "unsupported model_type '%.40s': %s", type->valuestring,
			 reason);
	}
	cJSON_Delete(hfq);
	cJSON_Delete(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

int model_arch_parse(const char *json, size_t len, struct model_arch *out,
		     char *err, size_t errsz)
{
	return model_arch_parse_quant(json, len, NULL, 0, out, err, errsz);
}

/* ---- Parameters --------------------------------------------------------- */

/*
 * Parameters split further than struct model_params: per module group, the
 * linear weights a checkpoint may quantise (and those it keeps bf16), and
 * small tensors (norms, biases, convolutions, sinks) stored in bf16 or fp32
 * whatever the precision.
 */
struct split {
	int64_t lin[MOD_COUNT];
	int64_t kept[MOD_COUNT];	/* of lin: layers where the checkpoint keeps bf16 */
	int64_t s16[MOD_COUNT];
	int64_t s32[MOD_COUNT];
};

/* Softmax attention (GQA/MHA) of one layer, geometry g. */
static void gqa_params(const struct model_arch *m, const struct attn_geom *g, int64_t H,
		       struct split *s)
{
	int64_t h = m->hidden, kv = g->kv_heads, d = g->head_dim;

	s->lin[MOD_ATTN] += h * H * d * (1 + m->q_gate) + h * kv * d * (g->k_eq_v ? 1 : 2) +
			    H * d * h;
	if (m->attention_bias)
		s->s16[MOD_ATTN] += H * d + 2 * kv * d + (m->qkv_bias_only ? 0 : h);
	if (m->qk_norm == 1)
		s->s16[MOD_ATTN] += 2 * d;
	else if (m->qk_norm == 2)
		s->s16[MOD_ATTN] += H * d + kv * d;
	if (m->sinks)
		s->s16[MOD_ATTN] += H;
}

/* DeepSeek MLA (q_a/q_b or q, kv_a_proj_with_mqa, kv_b, o), and DSA's indexer. */
static void mla_params(const struct model_arch *m, int sparse, struct split *s)
{
	int64_t h = m->hidden, H = m->heads, ql = m->q_lora_rank, kl = m->kv_lora_rank;
	int64_t qk = m->qk_nope_head_dim + m->qk_rope_head_dim;

	if (ql) {	/* q_a_proj, q_a_layernorm, q_b_proj */
		s->lin[MOD_ATTN] += h * ql + ql * H * qk;
		s->s16[MOD_ATTN] += ql;
	} else {	/* q_proj */
		s->lin[MOD_ATTN] += h * H * qk;
	}
	s->lin[MOD_ATTN] += h * (kl + m->qk_rope_head_dim);		/* kv_a_proj_with_mqa */
	s->lin[MOD_ATTN] += kl * H * (m->qk_nope_head_dim + m->v_head_dim); /* kv_b_proj */
	s->lin[MOD_ATTN] += H * m->v_head_dim * h;			/* o_proj */
	s->s16[MOD_ATTN] += kl;						/* kv_a_layernorm */
	if (sparse) {
		/* Indexer (deepseek_v2.py Indexer): wq_b, wk, k_norm (LayerNorm), weights_proj. */
		int64_t ih = m->index_heads, id = m->index_head_dim;
		s->lin[MOD_INDEXER] += (ql ? ql : h) * ih * id + h * id;
		s->s16[MOD_INDEXER] += 2 * id + h * ih;
	}
}

/*
 * A V4 compressor (deepseek_compressor.py) of head width d at ratio r: ape
 * [r, coff*d] fp32, fused_wkv_wgate h -> 2*coff*d (bf16, replicated), norm d;
 * coff = 2 (overlapping windows) at ratio 4.
 */
static void compressor_params(const struct model_arch *m, int r, int64_t d, struct split *s)
{
	int64_t coff = r == 4 ? 2 : 1;

	s->s32[MOD_INDEXER] += r * coff * d;
	s->s16[MOD_INDEXER] += (int64_t)m->hidden * 2 * coff * d + d;
}

/* DeepSeek-V4 attention of one layer (deepseek_v4.py DeepseekV4Attention). */
static void csa_params(const struct model_arch *m, int r, struct split *s)
{
	int64_t h = m->hidden, H = m->heads, ql = m->q_lora_rank, hd = m->csa_head_dim;

	s->lin[MOD_ATTN] += h * (ql + hd)		/* fused wq_a + wkv (replicated) */
			    + ql * H * hd		/* wq_b */
			    + (int64_t)m->o_lora_rank * H * hd	/* wo_a, per group */
			    + (int64_t)m->o_groups * m->o_lora_rank * h; /* wo_b */
	s->s16[MOD_ATTN] += ql + hd;			/* q_norm, kv_norm */
	s->s32[MOD_ATTN] += H;				/* attn_sink */
	if (r > 1)
		compressor_params(m, r, hd, s);
	if (r == 4) {	/* DeepseekV4Indexer: wq_b, weights_proj, its own compressor */
		s->lin[MOD_INDEXER] += ql * m->index_heads * m->index_head_dim;
		s->s16[MOD_INDEXER] += h * m->index_heads;
		compressor_params(m, 4, m->index_head_dim, s);
	}
}

/* Gated DeltaNet (qwen_gdn_linear_attn.py): in_proj_qkvz, in_proj_ba, conv, out. */
static void gdn_params(const struct model_arch *m, struct split *s)
{
	int64_t h = m->hidden, nk = m->lin_key_heads, nv = m->lin_value_heads;
	int64_t kd = nk * m->lin_key_dim, vd = nv * m->lin_value_dim;
	int64_t conv_dim = 2 * kd + vd;

	s->lin[MOD_MIXER] += h * (2 * kd + 2 * vd) + h * 2 * nv + vd * h;
	s->s16[MOD_MIXER] += conv_dim * m->lin_conv_kernel + nv + m->lin_value_dim;
	s->s32[MOD_MIXER] += nv;	/* A_log */
}

/*
 * Kimi Delta Attention (kda.py): q/k/v h -> P (P = heads x head_dim), f_a h ->
 * d and f_b d -> P (decay), b h -> heads (beta), g_a h -> d and g_b d -> P
 * (output gate), o P -> h; fp32 dt_bias P, A_log heads and q/k/v convs 3*K*P;
 * o_norm d.
 */
static void kda_params(const struct model_arch *m, struct split *s)
{
	int64_t h = m->hidden, nh = m->lin_key_heads, d = m->lin_key_dim, P = nh * d;

	s->lin[MOD_MIXER] += 3 * h * P + 2 * (h * d + d * P) + h * nh + P * h;
	s->s32[MOD_MIXER] += P + nh + 3 * (int64_t)m->lin_conv_kernel * P;
	s->s16[MOD_MIXER] += d;
}

/* Mamba-2 (mamba_mixer2.py): in_proj to z, x, B, C, dt; conv; A, D, dt_bias; norm; out. */
static void mamba2_params(const struct model_arch *m, struct split *s)
{
	int64_t h = m->hidden, nh = m->mamba_heads, I = nh * m->mamba_head_dim;
	int64_t conv_dim = I + 2 * (int64_t)m->mamba_groups * m->mamba_state;

	s->lin[MOD_MIXER] += h * (I + conv_dim + nh) + I * h;
	if (m->mamba_proj_bias)
		s->s16[MOD_MIXER] += I + conv_dim + nh + h;
	s->s16[MOD_MIXER] += conv_dim * m->mamba_conv_kernel +
			     (m->mamba_conv_bias ? conv_dim : 0) + I;
	s->s32[MOD_MIXER] += 3 * nh;
}

/* The token mixer of layer i, with its input norm. */
static void mixer_params(const struct model_arch *m, int i, struct split *s)
{
	int64_t h = m->hidden;

	switch ((enum mixer_kind)m->mixer[i]) {
	case MIX_FULL:
		gqa_params(m, &m->full_geom, m->layer_heads[i] ? m->layer_heads[i] : m->heads, s);
		s->s16[MOD_ATTN] += h;
		break;
	case MIX_SLIDING:
	case MIX_CHUNKED:
		gqa_params(m, &m->window_geom, m->layer_heads[i] ? m->layer_heads[i] : m->heads, s);
		s->s16[MOD_ATTN] += h;
		break;
	case MIX_MLA:
	case MIX_MLA_SPARSE:
		mla_params(m, m->mixer[i] == MIX_MLA_SPARSE, s);
		s->s16[MOD_ATTN] += h;
		break;
	case MIX_CSA:
		csa_params(m, m->ratio[i], s);
		s->s16[MOD_ATTN] += h;
		break;
	case MIX_LINEAR:
		if (m->lin_kda)
			kda_params(m, s);
		else
			gdn_params(m, s);
		s->s16[MOD_MIXER] += h;
		break;
	case MIX_MAMBA2:
		mamba2_params(m, s);
		s->s16[MOD_MIXER] += h;
		break;
	case MIX_NONE:
	case MIX_KINDS:
		s->s16[MOD_NORMS] += h;
		break;
	}
}

/* The feed-forward of layer i: dense MLP, MoE (experts, shared, router), or both. */
static void mlp_params(const struct model_arch *m, int i, struct split *s)
{
	int64_t h = m->hidden, E = m->experts, Ie = m->expert_intermediate;
	int64_t mats = m->gated_mlp ? 3 : 2, din = m->moe_latent ? m->moe_latent : h;
	enum mlp_kind k = (enum mlp_kind)m->mlp[i];

	if (k == MLP_DENSE || k == MLP_DENSE_MOE)
		s->lin[MOD_DENSE] += mats * h * m->dense_intermediate *
				     (m->double_wide && m->kv_shared_from && i >= m->kv_shared_from ?
				      2 : 1);
	if (k != MLP_MOE && k != MLP_DENSE_MOE)
		return;
	s->lin[MOD_ROUTED] += E * mats * din * Ie;
	if (m->expert_bias)	/* gate/up biases 2*Ie, down bias h, per expert */
		s->s16[MOD_ROUTED] += E * (2 * Ie + h);
	s->lin[MOD_SHARED] += (int64_t)m->shared_experts * mats * h * m->shared_intermediate;
	s->lin[MOD_ROUTER] += h * E + (m->shared_gate ? h : 0) + 2 * h * m->moe_latent;
	if (m->router_bias == 1)
		s->lin[MOD_ROUTER] += E;
	else if (m->router_bias && i >= m->hash_layers)
		s->s32[MOD_ROUTER] += E;
	if (m->router_extras)
		s->lin[MOD_ROUTER] += h + E;
}

/* Norms beyond the input norm, and V4's hyper-connection mixes. */
static void layer_norm_params(const struct model_arch *m, struct split *s)
{
	int64_t h = m->hidden, hc = m->hc_mult;

	s->s16[MOD_NORMS] += (m->norms_per_layer - 1) * h + m->layer_scalar;
	if (hc > 1)	/* hc_{attn,ffn}_fn [(2+hc)hc, hc*h], _base, _scale[3], fp32 */
		s->s32[MOD_NORMS] += 2 * ((2 + hc) * hc * hc * h + (2 + hc) * hc + 3);
}

/* to += n x from; the linear parameters of the modules in kept are also counted as kept. */
static void add_split(struct split *to, const struct split *from, unsigned kept, int64_t n)
{
	for (int g = 0; g < MOD_COUNT; g++) {
		to->lin[g] += n * from->lin[g];
		to->s16[g] += n * from->s16[g];
		to->s32[g] += n * from->s32[g];
		if (kept & (1u << g))
			to->kept[g] += n * from->lin[g];
	}
}

/*
 * Whether layers i and j have the same parameters: every per-layer field
 * mixer_params(), mlp_params() and layer_norm_params() read -- which are
 * also all that layer_kv() reads -- and the checkpoint's kept (unquantised)
 * modules. Most models repeat one or two
 * layer shapes, so split_count() computes each run of equal layers once
 * (the planner counts weights for every candidate layout).
 */
static int same_layer(const struct model_arch *m, int i, int j)
{
	return m->mixer[i] == m->mixer[j] && m->mlp[i] == m->mlp[j] &&
	       m->layer_heads[i] == m->layer_heads[j] && m->ratio[i] == m->ratio[j] &&
	       (i >= m->kv_shared_from) == (j >= m->kv_shared_from) &&
	       (i >= m->hash_layers) == (j >= m->hash_layers) &&
	       m->ckpt.kept[i] == m->ckpt.kept[j];
}

int model_layers_alike(const struct model_arch *m, int i, int j)
{
	return same_layer(m, i, j);
}

static void split_count(const struct model_arch *m, struct split *s)
{
	int64_t h = m->hidden, hc = m->hc_mult;
	struct split l;

	memset(s, 0, sizeof(*s));
	for (int i = 0, j; i < m->layers; i = j) {
		for (j = i + 1; j < m->layers && same_layer(m, j, i); j++)
			;
		memset(&l, 0, sizeof(l));
		mixer_params(m, i, &l);
		mlp_params(m, i, &l);
		layer_norm_params(m, &l);
		add_split(s, &l, m->ckpt.kept_all | m->ckpt.kept[i], j - i);
	}
	if (m->ple_dim) {
		/*
		 * Per-layer embeddings: the table (a lookup, counted with the
		 * embedding), per_layer_model_projection h -> L*P and its norm P,
		 * and per layer an input gate h -> P, a projection P -> h and a norm.
		 */
		int64_t P = m->ple_dim, L = m->layers;
		s->lin[MOD_EMBED] += (int64_t)m->ple_vocab * L * P;
		s->lin[MOD_DENSE] += h * L * P + L * 2 * h * P;
		s->s16[MOD_NORMS] += P + L * h;
	}
	s->lin[MOD_EMBED] += m->vocab * h;
	s->lin[MOD_LM_HEAD] = m->tied_embeddings ? 0 : m->vocab * h;
	s->s16[MOD_NORMS] += h;				/* final norm */
	if (hc > 1)					/* hc_head fn, base, scale */
		s->s32[MOD_NORMS] += hc * hc * h + hc + 1;
}

static int64_t module_params(const struct split *s, enum module g)
{
	return s->lin[g] + s->s16[g] + s->s32[g];
}

/* One MTP layer: the last attention layer's mixer, the last MLP, eh_proj, 3 norms. */
static int64_t mtp_layer_params(const struct model_arch *m)
{
	struct split l;
	int64_t t = 0;
	int i;

	memset(&l, 0, sizeof(l));
	for (i = m->layers - 1; i > 0 && (m->mixer[i] == MIX_NONE || m->mixer[i] == MIX_LINEAR ||
					  m->mixer[i] == MIX_MAMBA2); i--)
		;
	mixer_params(m, i, &l);
	for (i = m->layers - 1; i > 0 && m->mlp[i] == MLP_NONE; i--)
		;
	mlp_params(m, i, &l);
	layer_norm_params(m, &l);
	for (int g = 0; g < MOD_COUNT; g++)
		t += module_params(&l, (enum module)g);
	return t + 2 * (int64_t)m->hidden * m->hidden + 3 * (int64_t)m->hidden;
}

void model_params_count(const struct model_arch *m, struct model_params *out)
{
	struct split s;

	split_count(m, &s);
	memset(out, 0, sizeof(*out));
	out->attention = module_params(&s, MOD_ATTN);
	out->mixers = module_params(&s, MOD_MIXER);
	out->indexer = module_params(&s, MOD_INDEXER);
	out->dense_mlp = module_params(&s, MOD_DENSE);
	out->shared_experts = module_params(&s, MOD_SHARED);
	out->routed_experts = module_params(&s, MOD_ROUTED);
	out->router = module_params(&s, MOD_ROUTER);
	out->embedding = module_params(&s, MOD_EMBED);
	out->lm_head = module_params(&s, MOD_LM_HEAD);
	out->norms = module_params(&s, MOD_NORMS);
	for (int g = 0; g < MOD_COUNT; g++)
		out->total += module_params(&s, (enum module)g);
	/* Routed experts hold E identical experts per layer: k of them are active. */
	out->active = out->total - out->routed_experts;
	if (m->experts > 0)
		out->active += out->routed_experts / m->experts * m->experts_per_token;
	/* Lookups do no FLOPs: the input embedding (unless it is the head) and PLE tables. */
	out->active_no_embed = out->active - (m->tied_embeddings ? 0 : out->embedding) -
			       (m->tied_embeddings ? (int64_t)m->ple_vocab * m->layers *
						     m->ple_dim : 0);
	out->mtp = m->mtp_layers * mtp_layer_params(m);
}

/* ---- Weight bytes ----------------------------------------------------- */

static const double format_bytes[WF_COUNT] = {
	[WF_BF16] = 2.0, [WF_FP8] = 1.0, [WF_MXFP4] = 4.25 / 8.0, [WF_NVFP4] = 4.5 / 8.0,
	[WF_INT8] = 1.0, [WF_INT4] = 0.5, [WF_FP32] = 4.0,
};

double weight_format_bytes(enum weight_format f)
{
	return (unsigned)f < WF_COUNT ? format_bytes[f] : 2.0;
}

const char *weight_format_name(enum weight_format f)
{
	static const char *const names[WF_COUNT] = {
		[WF_BF16] = "bf16", [WF_FP8] = "fp8", [WF_MXFP4] = "mxfp4", [WF_NVFP4] = "nvfp4",
		[WF_INT8] = "int8", [WF_INT4] = "int4", [WF_FP32] = "fp32",
	};
	return (unsigned)f < WF_COUNT ? names[f] : "?";
}

void model_weights_bytes(const struct model_arch *m, enum precision p,
			 struct model_weights *out)
{
	double g_bytes[MOD_COUNT];
	struct split s;
	double t[MOD_COUNT];
	unsigned lin = LINEAR_MODULES;

	split_count(m, &s);
	for (int g = 0; g < MOD_COUNT; g++) {
		int in_lin = (lin >> g) & 1;
		switch (p) {
		case PREC_FP8:
			g_bytes[g] = in_lin ? 1.0 : 2.0;
			break;
		case PREC_FP4:
			g_bytes[g] = in_lin ? weight_format_bytes(WF_MXFP4) : 2.0;
			break;
		case PREC_NATIVE:
			g_bytes[g] = m->ckpt.bytes[g] > 0 ? m->ckpt.bytes[g] : 2.0;
			break;
		case PREC_BF16:
		default:
			g_bytes[g] = 2.0;
			break;
		}
		/* Routers some families keep in fp32 stay fp32 in every precision. */
		if (g == MOD_ROUTER && m->ckpt.fmt[MOD_ROUTER] == WF_FP32)
			g_bytes[g] = 4.0;
		/* Norms, biases, convolutions are bf16 (or fp32) whatever the rest is. */
		t[g] = (double)(s.lin[g] - (p == PREC_NATIVE ? s.kept[g] : 0)) * g_bytes[g] +
		       (p == PREC_NATIVE ? (double)s.kept[g] * 2.0 : 0.0) +
		       (double)s.s16[g] * 2.0 + (double)s.s32[g] * 4.0;
	}
	out->attention = t[MOD_ATTN];
	out->mixers = t[MOD_MIXER];
	out->indexer = t[MOD_INDEXER];
	out->dense_mlp = t[MOD_DENSE];
	out->shared_experts = t[MOD_SHARED];
	out->routed_experts = t[MOD_ROUTED];
	out->router = t[MOD_ROUTER];
	out->embedding = t[MOD_EMBED];
	out->lm_head = t[MOD_LM_HEAD];
	out->norms = t[MOD_NORMS];
	out->total = 0;
	for (int g = 0; g < MOD_COUNT; g++)
		out->total += t[g];
}

/* ---- What a sequence holds, per layer kind ------------------------------ */

static void add_term(struct model_kv *kv, enum kv_category cat, double scale, double cap,
		     double mem, double read, double fd, double fp)
{
	struct kv_term *t = NULL;

	for (int i = 0; i < kv->nterms; i++)
		if (kv->term[i].category == cat && kv->term[i].scale == scale &&
		    kv->term[i].cap == cap)
			t = &kv->term[i];
	if (!t) {
		if (kv->nterms == MODEL_KV_TERMS)	/* cannot happen with the kinds above */
			t = &kv->term[kv->nterms - 1];
		else
			t = &kv->term[kv->nterms++];
		t->category = cat;
		t->scale = scale;
		t->cap = cap;
	}
	t->mem_bytes += mem;
	t->read_bytes += read;
	t->flops_decode += fd;
	t->flops_prefill += fp;
}

/* Heads of a TP rank: split evenly, at least one (K/V heads replicate). */
static double per_rank(int heads, int tp)
{
	return fmax(1.0, (double)heads / tp);
}

/*
 * DeepSeek-V4's cache entry (deepseek_v4_attention.py head_bytes): the nope
 * part in fp8, the rope part in bf16, one ue8m0 scale per 64 nope values
 * and one pad byte: 448 + 128 + 7 + 1 = 584 B for head_dim 512.
 */
static double csa_entry_bytes(const struct model_arch *m)
{
	int nope = m->csa_head_dim - m->qk_rope_head_dim;
	return nope + 2.0 * m->qk_rope_head_dim + nope / 64 + 1;
}

/* An indexer key: index_head_dim fp8 values + one fp32 scale per 128 (132 B). */
static double indexer_entry_bytes(const struct model_arch *m)
{
	return m->index_head_dim + m->index_head_dim / 128 * 4.0;
}

static void layer_kv(const struct model_arch *m, int i, int e, int tp, struct model_kv *kv)
{
	double H = (double)(m->layer_heads[i] ? m->layer_heads[i] : m->heads) / tp, inf = HUGE_VAL;
	const struct attn_geom *g;
	double b, f, fp, cap;

	switch ((enum mixer_kind)m->mixer[i]) {
	case MIX_FULL:
	case MIX_SLIDING:
	case MIX_CHUNKED:
		g = m->mixer[i] == MIX_FULL ? &m->full_geom : &m->window_geom;
		b = 2.0 * per_rank(g->kv_heads, tp) * g->head_dim * e;
		f = 2.0 * (2.0 * g->head_dim) * H;	/* QK^T and PV per key */
		cap = m->mixer[i] == MIX_FULL ? inf : m->mixer[i] == MIX_SLIDING ?
		      m->sliding_window : m->chunk_tokens;
		/* A KV-shared layer reads an earlier layer's cache and holds none. */
		add_term(kv, cap == inf ? KV_FULL : KV_WINDOW, 1, cap,
			 m->kv_shared_from && i >= m->kv_shared_from ? 0 : b, b, f, f);
		break;
	case MIX_MLA:
	case MIX_MLA_SPARSE:
		/*
		 * One latent per token on every rank: kv_lora_rank + rope. DSA with
		 * an fp8 cache uses vLLM's fp8_ds_mla (fp8 latent, an fp32 scale per
		 * 128, bf16 rope: 656 B). MLA decodes absorbed over the latent
		 * (d_qk = kv_lora_rank + rope, d_v = kv_lora_rank), prefills
		 * expanded (nope + rope, v_head_dim).
		 */
		b = m->mixer[i] == MIX_MLA_SPARSE && e == 1 ?
		    m->kv_lora_rank + m->kv_lora_rank / 128 * 4.0 + 2.0 * m->qk_rope_head_dim :
		    (double)(m->kv_lora_rank + m->qk_rope_head_dim) * e;
		f = 2.0 * (2.0 * m->kv_lora_rank + m->qk_rope_head_dim) * H;
		fp = 2.0 * (m->qk_nope_head_dim + m->qk_rope_head_dim + m->v_head_dim) * H;
		if (m->mixer[i] == MIX_MLA) {
			add_term(kv, KV_FULL, 1, inf, b, b, f, fp);
			break;
		}
		/* Every token is held; attention reads and computes over top-k only. */
		add_term(kv, KV_FULL, 1, inf, b, 0, 0, 0);
		add_term(kv, KV_FULL, 1, m->index_topk, 0, b, f, fp);
		/* The indexer scores every past token (ReLU(q.k) over index_n_heads, fp8). */
		f = 2.0 * m->index_heads * m->index_head_dim;
		add_term(kv, KV_INDEXER, 1, inf, indexer_entry_bytes(m), indexer_entry_bytes(m),
			 f, f);
		break;
	case MIX_CSA: {
		/*
		 * Every layer: the last sliding_window raw tokens. Ratio r > 1: one
		 * compressed entry per r tokens, all attended at 128 (C128A), the
		 * index_topk the indexer picks at 4 (C4A), plus the compressor's
		 * state (SlidingWindowMLASpec of coff*r tokens x 2*coff*d fp32).
		 * Entries are fp8 (584 B) whatever kv_elem_bytes asks.
		 */
		int r = m->ratio[i];
		double eb = csa_entry_bytes(m), coff = r == 4 ? 2 : 1;
		f = 2.0 * (2.0 * m->csa_head_dim) * H;
		add_term(kv, KV_WINDOW, 1, m->sliding_window, eb, eb, f, f);
		if (r > 1) {
			kv->state_bytes_per_seq += coff * r * 2 * coff * m->csa_head_dim * 4.0;
			kv->state_layers++;
		}
		if (r == 4) {
			double ib = indexer_entry_bytes(m), fi = 2.0 * m->index_heads *
								 m->index_head_dim;
			add_term(kv, KV_COMPRESSED, 0.25, inf, eb, 0, 0, 0);
			add_term(kv, KV_COMPRESSED, 0.25, m->index_topk, 0, eb, f, f);
			add_term(kv, KV_INDEXER, 0.25, inf, ib, ib, fi, fi);
			/* The indexer's own compressor: 8 tokens x 2*2*index_head_dim fp32. */
			kv->state_bytes_per_seq += 8.0 * 4 * m->index_head_dim * 4.0;
		} else if (r > 1) {
			add_term(kv, KV_COMPRESSED, 1.0 / r, inf, eb, eb, f, f);
		}
		break;
	}
	case MIX_LINEAR: {
		if (m->lin_kda) {
			/*
			 * KDA (mamba_utils.py kda_state_shape): three conv states (q, k,
			 * v) of (K-1) x P/TP in the model dtype, a recurrent heads/TP x
			 * d x d in fp32.
			 */
			double P = (double)m->lin_key_heads * m->lin_key_dim / tp;
			double conv = 3.0 * (m->lin_conv_kernel - 1) * P * 2.0;
			double ssm = (double)m->lin_key_heads / tp * m->lin_key_dim *
				     m->lin_key_dim * 4.0;
			kv->state_bytes_per_seq += conv + ssm;
			kv->state_rw_bytes_per_token += conv + 2 * ssm;
			kv->state_flops_per_token += 8.0 * (double)m->lin_key_heads / tp *
						     m->lin_key_dim * m->lin_key_dim;
			kv->state_layers++;
			break;
		}
		/*
		 * Gated DeltaNet (mamba_utils.py gated_delta_net_state_shape): conv
		 * state (K-1) x conv_dim/TP in the model dtype, recurrent state
		 * nv/TP x dv x dk in ssm_state_bytes. The delta-rule update reads
		 * and writes the state once per token, about 8 dk dv FLOPs a head.
		 */
		double kd = (double)m->lin_key_heads * m->lin_key_dim;
		double conv = (m->lin_conv_kernel - 1) * (2 * kd + (double)m->lin_value_heads *
							 m->lin_value_dim) / tp * 2.0;
		double nv = (double)m->lin_value_heads / tp;
		double ssm = nv * m->lin_value_dim * m->lin_key_dim * m->ssm_state_bytes;
		kv->state_bytes_per_seq += conv + ssm;
		kv->state_rw_bytes_per_token += conv + 2 * ssm;
		kv->state_flops_per_token += 8.0 * nv * m->lin_key_dim * m->lin_value_dim;
		kv->state_layers++;
		break;
	}
	case MIX_MAMBA2: {
		/* Mamba-2 (mamba_utils.py mamba2_state_shape): conv + heads x head_dim x N. */
		double I = (double)m->mamba_heads * m->mamba_head_dim;
		double conv = (m->mamba_conv_kernel - 1) *
			      (I + 2.0 * m->mamba_groups * m->mamba_state) / tp * 2.0;
		double ssm = (double)m->mamba_heads / tp * m->mamba_head_dim * m->mamba_state *
			     m->ssm_state_bytes;
		kv->state_bytes_per_seq += conv + ssm;
		kv->state_rw_bytes_per_token += conv + 2 * ssm;
		kv->state_flops_per_token += 6.0 * (double)m->mamba_heads / tp *
					     m->mamba_head_dim * m->mamba_state;
		kv->state_layers++;
		break;
	}
	case MIX_NONE:
	case MIX_KINDS:
		break;
	}
}

void model_kv_terms(const struct model_arch *m, int kv_elem_bytes, int tp, int first,
		    int count, struct model_kv *out)
{
	memset(out, 0, sizeof(*out));
	if (tp < 1)
		tp = 1;
	if (first < 0)
		first = 0;
	for (int i = first; i < m->layers && i < first + count; i++) {
		layer_kv(m, i, kv_elem_bytes, tp, out);
		out->layers++;
	}
}

static double term_entries(const struct kv_term *t, double ctx)
{
	return fmin(ctx * t->scale, t->cap);
}

double model_kv_seq_bytes(const struct model_kv *kv, double ctx)
{
	double b = 0;

	if (ctx <= 0)
		return 0.0;
	for (int i = 0; i < kv->nterms; i++)
		b += kv->term[i].mem_bytes * term_entries(&kv->term[i], ctx);
	return b + kv->state_bytes_per_seq;
}

double model_kv_growth_bytes_per_token(const struct model_kv *kv)
{
	double b = 0;

	for (int i = 0; i < kv->nterms; i++)
		if (isinf(kv->term[i].cap))
			b += kv->term[i].mem_bytes * kv->term[i].scale;
	return b;
}

double model_kv_category_bytes(const struct model_kv *kv, enum kv_category c)
{
	double b = 0;

	for (int i = 0; i < kv->nterms; i++)
		if (kv->term[i].category == c)
			b += kv->term[i].mem_bytes * kv->term[i].scale;
	return b;
}

double model_kv_window_tokens(const struct model_kv *kv)
{
	double w = 0;

	for (int i = 0; i < kv->nterms; i++)
		if (kv->term[i].category == KV_WINDOW && kv->term[i].mem_bytes > 0)
			w = fmax(w, kv->term[i].cap);
	return w;
}

int64_t model_kv_bytes_per_token(const struct model_arch *m, int kv_elem_bytes)
{
	struct model_kv kv;
	double b = 0;

	model_kv_terms(m, kv_elem_bytes, 1, 0, m->layers, &kv);
	for (int c = 0; c < KV_CATEGORIES; c++)
		b += model_kv_category_bytes(&kv, (enum kv_category)c);
	return (int64_t)llround(b);
}

double model_kv_bytes_per_sequence(const struct model_arch *m, int kv_elem_bytes,
				   int64_t context_tokens)
{
	struct model_kv kv;

	model_kv_terms(m, kv_elem_bytes, 1, 0, m->layers, &kv);
	return model_kv_seq_bytes(&kv, (double)context_tokens);
}

/* ---- Names and descriptions --------------------------------------------- */

void model_layer_mix(const struct model_arch *m, char *buf, size_t n)
{
	/* Counts in a fixed order: fixed-state kinds, then windowed, then growing. */
	struct { const char *name; int count; } parts[12];
	int np = 0, swa = 0, c4 = 0, c128 = 0, moe_only = 0, mlp_only = 0;
	size_t off = 0;

	for (int i = 0; i < m->layers; i++) {
		if (m->mixer[i] == MIX_CSA) {
			swa += m->ratio[i] == 1;
			c4 += m->ratio[i] == 4;
			c128 += m->ratio[i] == 128;
		} else if (m->mixer[i] == MIX_NONE) {
			moe_only += m->mlp[i] == MLP_MOE;
			mlp_only += m->mlp[i] != MLP_MOE;
		}
	}
#define PART(s, v) do { if ((v) > 0) { parts[np].name = (s); parts[np++].count = (v); } } while (0)
	PART("linear", m->mixer_layers[MIX_LINEAR]);
	PART("mamba", m->mixer_layers[MIX_MAMBA2]);
	PART("SWA", swa);
	PART("C4A", c4);
	PART("C128A", c128);
	PART("sliding", m->mixer_layers[MIX_SLIDING]);
	PART("chunked", m->mixer_layers[MIX_CHUNKED]);
	PART("full", m->mixer_layers[MIX_FULL]);
	PART("MLA", m->mixer_layers[MIX_MLA]);
	PART("DSA", m->mixer_layers[MIX_MLA_SPARSE]);
	PART("moe-only", moe_only);
	PART("mlp-only", mlp_only);
#undef PART
	if (n)
		buf[0] = '\0';
	for (int i = 0; i < np && off < n; i++) {
		int w = snprintf(buf + off, n - off, "%s%d %s", i ? " + " : "", parts[i].count,
				 parts[i].name);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void model_native_format(const struct model_arch *m, char *buf, size_t n)
{
	const struct checkpoint *k = &m->ckpt;
	struct split s;
	size_t off;
	int any = 0;

	if (!k->quant_method[0]) {
		snprintf(buf, n, "bf16");
		return;
	}
	split_count(m, &s);
	snprintf(buf, n, "%s (%s):", k->scheme[0] ? k->scheme : k->quant_method,
		 k->quant_method);
	for (int g = 0; g < MOD_COUNT; g++) {
		if (k->fmt[g] == WF_BF16 || k->fmt[g] == WF_FP32 || s.lin[g] == s.kept[g] ||
		    !s.lin[g])
			continue;
		off = strlen(buf);
		if (off < n)
			snprintf(buf + off, n - off, "%s %s", any ? "," : "", module_name(g));
		any = 1;
	}
	off = strlen(buf);
	if (off < n)
		snprintf(buf + off, n - off, "%s", any ? "; the rest bf16" : " nothing quantised");
}

const char *attn_kind_name(enum attn_kind k)
{
	switch (k) {
	case ATTN_MHA:
		return "MHA";
	case ATTN_GQA:
		return "GQA";
	case ATTN_MLA:
		return "MLA";
	}
	return "?";
}

const char *mixer_kind_name(enum mixer_kind k)
{
	static const char *const names[MIX_KINDS] = {
		[MIX_FULL] = "full", [MIX_SLIDING] = "sliding", [MIX_CHUNKED] = "chunked",
		[MIX_MLA] = "MLA", [MIX_MLA_SPARSE] = "DSA", [MIX_CSA] = "compressed",
		[MIX_LINEAR] = "linear", [MIX_MAMBA2] = "mamba", [MIX_NONE] = "none",
	};
	return (unsigned)k < MIX_KINDS ? names[k] : "?";
}

const char *module_name(enum module g)
{
	static const char *const names[MOD_COUNT] = {
		[MOD_ATTN] = "attention", [MOD_MIXER] = "linear_mixers",
		[MOD_INDEXER] = "indexer", [MOD_DENSE] = "dense_mlp",
		[MOD_SHARED] = "shared_experts", [MOD_ROUTED] = "routed_experts",
		[MOD_ROUTER] = "router", [MOD_EMBED] = "embedding", [MOD_LM_HEAD] = "lm_head",
		[MOD_NORMS] = "norms",
	};
	return (unsigned)g < MOD_COUNT ? names[g] : "?";
}

const char *kv_category_name(enum kv_category c)
{
	static const char *const names[KV_CATEGORIES] = {
		[KV_FULL] = "full", [KV_COMPRESSED] = "compressed", [KV_INDEXER] = "indexer",
		[KV_WINDOW] = "window",
	};
	return (unsigned)c < KV_CATEGORIES ? names[c] : "?";
}

static const char *const precision_names[] = {
	[PREC_NATIVE] = "native",
	[PREC_BF16] = "bf16",
	[PREC_FP8] = "fp8",
	[PREC_FP4] = "fp4",
};

const char *precision_name(enum precision p)
{
	if ((unsigned)p < sizeof(precision_names) / sizeof(precision_names[0]))
		return precision_names[p];
	return "?";
}

int precision_parse(const char *s, enum precision *out)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(precision_names) / sizeof(precision_names[0]); i++) {
		if (!strcmp(s, precision_names[i])) {
			*out = (enum precision)i;
			return 0;
		}
	}
	return -1;
}
