/*
 * model.c - read a Hugging Face config.json into a struct model_arch, and
 * count what the architecture implies: parameters per module, weight bytes
 * per precision, KV-cache bytes per token and per sequence.
 *
 * Each supported family has a parser that maps its own field names onto the
 * common struct. A few tiny per-family extras (attention sinks, q/k norms, the
 * router's score bias, which projections carry biases) are not worth struct
 * fields; params_count looks them up by model_type in the family table.
 *
 * Parameter layout follows the Hugging Face modelling code of each family, so
 * the totals match the safetensors metadata: DeepSeek-V3's multi-token-
 * prediction layer (num_nextn_predict_layers) is not counted, as in the
 * published 671 B; for llama4 only the text tower is counted.
 */
#include "model.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>	/* vsnprintf only: error text goes to the caller's buffer */
#include <string.h>

/* Per-family extras, keyed by model_type (see families[] below). */
#define FX_QK_NORM	(1u << 0)	/* RMSNorm of head_dim on q and on k (qwen3) */
#define FX_SINKS	(1u << 1)	/* one attention-sink logit per head (gpt_oss) */
#define FX_ROUTER_BIAS	(1u << 2)	/* router carries E extra params per layer */
#define FX_QKV_BIAS	(1u << 3)	/* biases on q/k/v but not o (qwen2) */

/* Where the parser is reading: the object and its path, for error messages. */
struct ctx {
	const cJSON *obj;
	const char *prefix;	/* "" or "text_config." */
	char *err;
	size_t errsz;
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
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->obj, name);

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
		   int lo, int *out)
{
	int64_t v;

	if (get_i64(c, name, required, dflt, lo, INT_MAX, &v))
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

/* Fields every family shares: the transformer's shape and the vocabulary. */
static int parse_common(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "num_hidden_layers", 1, 0, 1, &m->layers) ||
	    get_int(c, "hidden_size", 1, 0, 1, &m->hidden) ||
	    get_int(c, "num_attention_heads", 1, 0, 1, &m->heads) ||
	    get_int(c, "num_key_value_heads", 0, m->heads, 1, &m->kv_heads) ||
	    get_i64(c, "vocab_size", 1, 0, 1, INT64_MAX / 2, &m->vocab) ||
	    get_i64(c, "max_position_embeddings", 1, 0, 1, INT64_MAX / 2,
		    &m->max_context_tokens) ||
	    get_bool(c, "tie_word_embeddings", 0, &m->tied_embeddings) ||
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
	if (get_int(c, "head_dim", 0, m->hidden / m->heads, 1, &m->head_dim))
		return -1;
	m->attention = m->kv_heads == m->heads ? ATTN_MHA : ATTN_GQA;
	return 0;
}

/* Every layer slides when the family has one window for all (Mistral style). */
static int parse_window_all_layers(struct ctx *c, struct model_arch *m)
{
	if (get_int(c, "sliding_window", 0, 0, 0, &m->sliding_window))
		return -1;
	m->sliding_layers = m->sliding_window ? m->layers : 0;
	return 0;
}

/*
 * Qwen: with use_sliding_window, layers from max_window_layers on slide
 * (transformers' Qwen2Config.layer_types). Off in every shipped checkpoint.
 */
static int parse_window_qwen(struct ctx *c, struct model_arch *m)
{
	int use = 0, first = 0;

	if (get_bool(c, "use_sliding_window", 0, &use))
		return -1;
	if (!use)
		return 0;
	if (get_int(c, "sliding_window", 1, 0, 1, &m->sliding_window) ||
	    get_int(c, "max_window_layers", 0, m->layers, 0, &first))
		return -1;
	m->sliding_layers = first < m->layers ? m->layers - first : 0;
	return 0;
}

/* gpt-oss: "layer_types" names each layer "sliding_attention" or "full_attention". */
static int parse_layer_types(struct ctx *c, struct model_arch *m)
{
	const cJSON *types = field(c, "layer_types"), *t;

	if (!types)
		return parse_window_all_layers(c, m);
	if (!cJSON_IsArray(types) || cJSON_GetArraySize(types) != m->layers)
		return fail(c, "field '%slayer_types' must list num_hidden_layers (%d) "
			    "entries", c->prefix, m->layers);
	m->sliding_layers = 0;
	cJSON_ArrayForEach(t, types) {
		if (!cJSON_IsString(t))
			return fail(c, "field '%slayer_types' holds a non-string",
				    c->prefix);
		if (!strcmp(t->valuestring, "sliding_attention"))
			m->sliding_layers++;
		else if (strcmp(t->valuestring, "full_attention"))
			return fail(c, "field '%slayer_types' has unknown type '%.40s'",
				    c->prefix, t->valuestring);
	}
	if (m->sliding_layers && get_int(c, "sliding_window", 1, 0, 1,
					 &m->sliding_window))
		return -1;
	return 0;
}

/* Routed experts: E, k and the expert width, checked against each other. */
static int parse_experts(struct ctx *c, struct model_arch *m, const char *e_key,
			 const char *k_key, const char *width_key)
{
	if (get_int(c, e_key, 1, 0, 1, &m->experts) ||
	    get_int(c, k_key, 1, 0, 1, &m->experts_per_token) ||
	    get_int(c, width_key, 1, 0, 1, &m->expert_intermediate))
		return -1;
	if (m->experts_per_token > m->experts)
		return fail(c, "field '%s%s' (%d) exceeds %s (%d)", c->prefix, k_key,
			    m->experts_per_token, e_key, m->experts);
	return 0;
}

static int parse_llama(struct ctx *c, struct model_arch *m)
{
	if (parse_common(c, m) ||
	    get_int(c, "intermediate_size", 1, 0, 1, &m->dense_intermediate))
		return -1;
	m->dense_layers = m->layers;
	return 0;
}

static int parse_qwen2(struct ctx *c, struct model_arch *m)
{
	if (parse_llama(c, m) || parse_window_qwen(c, m))
		return -1;
	m->attention_bias = 1;	/* q/k/v always carry biases; FX_QKV_BIAS */
	return 0;
}

static int parse_mixtral(struct ctx *c, struct model_arch *m)
{
	if (parse_common(c, m) ||
	    parse_experts(c, m, "num_local_experts", "num_experts_per_tok",
			  "intermediate_size") ||
	    parse_window_all_layers(c, m))
		return -1;
	m->moe_layers = m->layers;
	return 0;
}

/* Qwen3-MoE: layer i is MoE unless listed in mlp_only_layers or off-step. */
static int parse_qwen3_moe(struct ctx *c, struct model_arch *m)
{
	const cJSON *only, *it;
	int step, i;

	if (parse_common(c, m) ||
	    parse_experts(c, m, "num_experts", "num_experts_per_tok",
			  "moe_intermediate_size") ||
	    get_int(c, "decoder_sparse_step", 0, 1, 1, &step) ||
	    parse_window_qwen(c, m))
		return -1;
	only = field(c, "mlp_only_layers");
	if (only && !cJSON_IsArray(only))
		return fail(c, "field '%smlp_only_layers' is not an array", c->prefix);
	for (i = 0; i < m->layers; i++) {
		int dense = (i + 1) % step != 0;

		cJSON_ArrayForEach(it, only) {
			if (!cJSON_IsNumber(it))
				return fail(c, "field '%smlp_only_layers' holds a "
					    "non-number", c->prefix);
			if (it->valuedouble == i)
				dense = 1;
		}
		if (dense)
			m->dense_layers++;
		else
			m->moe_layers++;
	}
	if (m->dense_layers &&
	    get_int(c, "intermediate_size", 1, 0, 1, &m->dense_intermediate))
		return -1;
	return 0;
}

/*
 * DeepSeek-V3 and Kimi-K2: MLA attention; the first first_k_dense_replace
 * layers are dense, then every moe_layer_freq-th layer is MoE with
 * n_shared_experts always-on experts of moe_intermediate_size each.
 */
static int parse_deepseek_v3(struct ctx *c, struct model_arch *m)
{
	int first_dense, freq, i;

	if (parse_common(c, m) ||
	    parse_experts(c, m, "n_routed_experts", "num_experts_per_tok",
			  "moe_intermediate_size") ||
	    get_int(c, "n_shared_experts", 0, 0, 0, &m->shared_experts) ||
	    get_int(c, "first_k_dense_replace", 0, 0, 0, &first_dense) ||
	    get_int(c, "moe_layer_freq", 0, 1, 1, &freq) ||
	    get_int(c, "q_lora_rank", 0, 0, 0, &m->q_lora_rank) ||
	    get_int(c, "kv_lora_rank", 1, 0, 1, &m->kv_lora_rank) ||
	    get_int(c, "qk_nope_head_dim", 1, 0, 1, &m->qk_nope_head_dim) ||
	    get_int(c, "qk_rope_head_dim", 1, 0, 1, &m->qk_rope_head_dim) ||
	    get_int(c, "v_head_dim", 1, 0, 1, &m->v_head_dim))
		return -1;
	m->attention = ATTN_MLA;
	m->kv_heads = m->heads;
	m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim;
	m->shared_intermediate = m->shared_experts ? m->expert_intermediate : 0;
	for (i = 0; i < m->layers; i++) {
		if (i >= first_dense && i % freq == 0)
			m->moe_layers++;
		else
			m->dense_layers++;
	}
	if (m->dense_layers &&
	    get_int(c, "intermediate_size", 1, 0, 1, &m->dense_intermediate))
		return -1;
	return 0;
}

static int parse_gpt_oss(struct ctx *c, struct model_arch *m)
{
	const char *k_key = field(c, "num_experts_per_tok") ? "num_experts_per_tok"
							     : "experts_per_token";

	if (parse_common(c, m) ||
	    parse_experts(c, m, "num_local_experts", k_key, "intermediate_size") ||
	    parse_layer_types(c, m))
		return -1;
	m->moe_layers = m->layers;
	m->expert_bias = 1;
	return 0;
}

/*
 * Llama 4 text tower: MoE layers are moe_layers if listed, else every
 * interleave_moe_layer_step-th layer (indices step-1, 2*step-1, ...), each
 * with one shared expert as wide as a routed one; dense layers use
 * intermediate_size_mlp. Chunked-attention layers (attention_chunk_size) are
 * treated as full: vLLM without the hybrid KV allocator keeps them so.
 */
static int parse_llama4_text(struct ctx *c, struct model_arch *m)
{
	const cJSON *list, *it;
	int step, i;

	if (parse_common(c, m) ||
	    parse_experts(c, m, "num_local_experts", "num_experts_per_tok",
			  "intermediate_size") ||
	    get_int(c, "interleave_moe_layer_step", 0, 1, 1, &step))
		return -1;
	list = field(c, "moe_layers");
	if (list && !cJSON_IsArray(list))
		return fail(c, "field '%smoe_layers' is not an array", c->prefix);
	for (i = 0; i < m->layers; i++) {
		int moe = 0;

		if (list) {
			cJSON_ArrayForEach(it, list)
				if (cJSON_IsNumber(it) && it->valuedouble == i)
					moe = 1;
		} else {
			moe = (i + 1) % step == 0;
		}
		if (moe)
			m->moe_layers++;
		else
			m->dense_layers++;
	}
	m->shared_experts = 1;
	m->shared_intermediate = m->expert_intermediate;
	if (m->dense_layers &&
	    get_int(c, "intermediate_size_mlp", 1, 0, 1, &m->dense_intermediate))
		return -1;
	return 0;
}

/* The multimodal wrapper: read the text tower under "text_config". */
static int parse_llama4(struct ctx *c, struct model_arch *m)
{
	struct ctx tc = { NULL, "text_config.", c->err, c->errsz };

	tc.obj = field(c, "text_config");
	if (!cJSON_IsObject(tc.obj))
		return fail(c, "missing field 'text_config'");
	if (parse_llama4_text(&tc, m))
		return -1;
	/* The wrapper may hold tie_word_embeddings instead of the text tower. */
	if (!field(&tc, "tie_word_embeddings") &&
	    get_bool(c, "tie_word_embeddings", 0, &m->tied_embeddings))
		return -1;
	return 0;
}

static const struct family {
	const char *model_type;
	int (*parse)(struct ctx *c, struct model_arch *m);
	unsigned extras;
} families[] = {
	{ "llama",       parse_llama,       0 },
	{ "mixtral",     parse_mixtral,     0 },
	{ "qwen2",       parse_qwen2,       FX_QKV_BIAS },
	{ "qwen3_moe",   parse_qwen3_moe,   FX_QK_NORM },
	{ "deepseek_v3", parse_deepseek_v3, FX_ROUTER_BIAS },
	{ "kimi_k2",     parse_deepseek_v3, FX_ROUTER_BIAS },
	{ "gpt_oss",     parse_gpt_oss,     FX_SINKS | FX_ROUTER_BIAS },
	{ "llama4",      parse_llama4,      0 },
	{ "llama4_text", parse_llama4_text, 0 },
};

static const struct family *family_find(const char *model_type)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(families[i].model_type, model_type))
			return &families[i];
	return NULL;
}

/*
 * The checkpoint's storage. fp8 (DeepSeek-V3/R1, Kimi-K2) quantizes every
 * linear layer of attention and MLP; mxfp4 (gpt-oss) only the routed experts,
 * which is all transformers' mxfp4 integration converts (modules_to_not_convert
 * lists the rest). Embeddings, LM head and router stay bf16 in both.
 */
static int parse_quantization(struct ctx *c, struct model_arch *m)
{
	struct ctx qc = { NULL, "quantization_config.", c->err, c->errsz };
	const cJSON *method;

	m->native_linear = m->native_experts = m->native_other = WF_BF16;
	qc.obj = field(c, "quantization_config");
	if (!qc.obj)
		return 0;
	if (!cJSON_IsObject(qc.obj))
		return fail(c, "field 'quantization_config' is not an object");
	method = field(&qc, "quant_method");
	if (!method)
		return fail(c, "missing field 'quantization_config.quant_method'");
	if (!cJSON_IsString(method))
		return fail(c, "field 'quantization_config.quant_method' is not a string");
	if (!strcmp(method->valuestring, "fp8")) {
		m->native_linear = m->native_experts = WF_FP8;
	} else if (!strcmp(method->valuestring, "mxfp4")) {
		m->native_experts = WF_MXFP4;
	} else {
		return fail(c, "unsupported quant_method '%.40s'", method->valuestring);
	}
	return 0;
}

/*
 * The parameter count in floating point, from upper bounds of each term, so
 * that absurd fields are refused before the int64 counts could overflow.
 */
static double params_bound(const struct model_arch *m)
{
	double h = m->hidden, H = m->heads, L = m->layers;
	double qk = (double)m->qk_nope_head_dim + m->qk_rope_head_dim;
	double attn = h * H * m->head_dim * 4.0 + 4.0 * h + 2.0 * m->head_dim + H;
	double mla = h * m->q_lora_rank + (double)m->q_lora_rank * H * qk + h * H * qk +
		     h * ((double)m->kv_lora_rank + m->qk_rope_head_dim) +
		     (double)m->kv_lora_rank * H * ((double)m->qk_nope_head_dim +
						    m->v_head_dim) +
		     H * m->v_head_dim * h;
	double ffn = 3.0 * h * m->dense_intermediate +
		     (double)m->experts * (3.0 * h * m->expert_intermediate +
					   2.0 * m->expert_intermediate + 2.0 * h) +
		     3.0 * h * m->shared_experts * m->shared_intermediate;

	return L * (attn + mla + ffn + 2.0 * h) + 2.0 * (double)m->vocab * h + h;
}

int model_arch_parse(const char *json, size_t len, struct model_arch *out,
		     char *err, size_t errsz)
{
	struct ctx c = { NULL, "", err, errsz };
	const struct family *fam;
	const cJSON *type;
	cJSON *root;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (err && errsz)
		err[0] = '\0';
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		fail(&c, root ? "malformed config.json: not a JSON object"
			      : "malformed config.json: invalid JSON");
		goto cleanup;
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
	fam = family_find(type->valuestring);
	if (!fam) {
		fail(&c, "unsupported model_type '%.40s'", type->valuestring);
		goto cleanup;
	}
	snprintf(out->model_type, sizeof(out->model_type), "%s", fam->model_type);
	if (fam->parse(&c, out) || parse_quantization(&c, out))
		goto cleanup;
	if (params_bound(out) > 1e15) {
		fail(&c, "implausible model: over 10^15 parameters");
		goto cleanup;
	}
	ret = 0;
cleanup:
	cJSON_Delete(root);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

static unsigned family_extras(const struct model_arch *m)
{
	const struct family *fam = family_find(m->model_type);

	return fam ? fam->extras : 0;
}

/*
 * Parameters split further than struct model_params: the "small" parts
 * (norms, biases, sinks) stay bf16 in every precision, the linear parts take
 * the precision asked for.
 */
struct split {
	int64_t attn_linear, attn_small;
	int64_t dense_linear;
	int64_t shared_linear;
	int64_t routed_linear, routed_small;
	int64_t router;
	int64_t embedding, lm_head, norms;
};

/* One layer's attention: projections, then its norms and biases. */
static void attention_per_layer(const struct model_arch *m, unsigned fx,
				int64_t *linear, int64_t *small)
{
	int64_t h = m->hidden, H = m->heads, kv = m->kv_heads, d = m->head_dim;

	*small = h;	/* input_layernorm */
	if (m->attention == ATTN_MLA) {
		int64_t qk = m->qk_nope_head_dim + m->qk_rope_head_dim;
		int64_t ql = m->q_lora_rank, kl = m->kv_lora_rank;

		if (ql) {	/* q_a_proj, q_a_layernorm, q_b_proj */
			*linear = h * ql + ql * H * qk;
			*small += ql;
		} else {	/* q_proj */
			*linear = h * H * qk;
		}
		*linear += h * (kl + m->qk_rope_head_dim);	/* kv_a_proj_with_mqa */
		*linear += kl * H * (m->qk_nope_head_dim + m->v_head_dim); /* kv_b */
		*linear += H * m->v_head_dim * h;		/* o_proj */
		*small += kl;					/* kv_a_layernorm */
		return;
	}
	*linear = h * H * d + 2 * h * kv * d + H * d * h;
	if (m->attention_bias)
		*small += H * d + 2 * kv * d + (fx & FX_QKV_BIAS ? 0 : h);
	if (fx & FX_QK_NORM)
		*small += 2 * d;
	if (fx & FX_SINKS)
		*small += H;
}

static void split_count(const struct model_arch *m, struct split *s)
{
	unsigned fx = family_extras(m);
	int64_t h = m->hidden, E = m->experts, Ie = m->expert_intermediate;
	int64_t lin, small;

	memset(s, 0, sizeof(*s));
	attention_per_layer(m, fx, &lin, &small);
	s->attn_linear = m->layers * lin;
	s->attn_small = m->layers * small;
	s->dense_linear = (int64_t)m->dense_layers * 3 * h * m->dense_intermediate;
	s->shared_linear = (int64_t)m->moe_layers * m->shared_experts * 3 * h *
			   m->shared_intermediate;
	s->routed_linear = m->moe_layers * E * 3 * h * Ie;
	if (m->expert_bias)	/* gate/up biases 2*Ie, down bias h, per expert */
		s->routed_small = m->moe_layers * E * (2 * Ie + h);
	s->router = m->moe_layers * (h * E + (fx & FX_ROUTER_BIAS ? E : 0));
	s->embedding = m->vocab * h;
	s->lm_head = m->tied_embeddings ? 0 : m->vocab * h;
	s->norms = (int64_t)m->layers * h + h;	/* post_attention_layernorm, final */
}

void model_params_count(const struct model_arch *m, struct model_params *out)
{
	struct split s;
	int64_t routed;

	split_count(m, &s);
	routed = s.routed_linear + s.routed_small;
	out->attention = s.attn_linear + s.attn_small;
	out->dense_mlp = s.dense_linear;
	out->shared_experts = s.shared_linear;
	out->routed_experts = routed;
	out->router = s.router;
	out->embedding = s.embedding;
	out->lm_head = s.lm_head;
	out->norms = s.norms;
	out->total = out->attention + out->dense_mlp + out->shared_experts +
		     routed + out->router + out->embedding + out->lm_head + out->norms;
	/* Routed experts hold E identical experts per layer: k of them are active. */
	out->active = out->total - routed;
	if (m->experts > 0)
		out->active += routed / m->experts * m->experts_per_token;
}

double weight_format_bytes(enum weight_format f)
{
	switch (f) {
	case WF_BF16:
		return 2.0;
	case WF_FP8:
		return 1.0;
	case WF_MXFP4:
		return 4.25 / 8.0;
	}
	return 2.0;
}

void model_weights_bytes(const struct model_arch *m, enum precision p,
			 struct model_weights *out)
{
	double lin, expert, other;
	struct split s;

	switch (p) {
	case PREC_FP8:
		lin = expert = weight_format_bytes(WF_FP8);
		other = 2.0;
		break;
	case PREC_FP4:
		lin = expert = weight_format_bytes(WF_MXFP4);
		other = 2.0;
		break;
	case PREC_NATIVE:
		lin = weight_format_bytes(m->native_linear);
		expert = weight_format_bytes(m->native_experts);
		other = weight_format_bytes(m->native_other);
		break;
	case PREC_BF16:
	default:
		lin = expert = other = 2.0;
		break;
	}
	split_count(m, &s);
	/* Norms, biases and sinks are bf16 whatever the linear layers are. */
	out->attention = s.attn_linear * lin + s.attn_small * 2.0;
	out->dense_mlp = s.dense_linear * lin;
	out->shared_experts = s.shared_linear * lin;
	out->routed_experts = s.routed_linear * expert + s.routed_small * 2.0;
	out->router = s.router * other;
	out->embedding = s.embedding * other;
	out->lm_head = s.lm_head * other;
	out->norms = s.norms * 2.0;
	out->total = out->attention + out->dense_mlp + out->shared_experts +
		     out->routed_experts + out->router + out->embedding +
		     out->lm_head + out->norms;
}

/* KV bytes one layer keeps per token. */
static int64_t kv_bytes_per_layer_token(const struct model_arch *m, int kv_elem_bytes)
{
	if (m->attention == ATTN_MLA)
		return (int64_t)(m->kv_lora_rank + m->qk_rope_head_dim) * kv_elem_bytes;
	return 2 * (int64_t)m->kv_heads * m->head_dim * kv_elem_bytes;
}

int64_t model_kv_bytes_per_token(const struct model_arch *m, int kv_elem_bytes)
{
	return m->layers * kv_bytes_per_layer_token(m, kv_elem_bytes);
}

double model_kv_bytes_per_sequence(const struct model_arch *m, int kv_elem_bytes,
				   int64_t context_tokens)
{
	double per_layer = (double)kv_bytes_per_layer_token(m, kv_elem_bytes);
	int64_t sliding = m->sliding_window > 0 ? m->sliding_layers : 0;
	int64_t window_tokens = context_tokens;

	if (context_tokens <= 0)
		return 0.0;
	if (sliding && m->sliding_window < context_tokens)
		window_tokens = m->sliding_window;
	return per_layer * ((double)(m->layers - sliding) * (double)context_tokens +
			    (double)sliding * (double)window_tokens);
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
