/*
 * cmd_model.c - `piqplan model list|show|import`: the models of the
 * catalog and what their architecture implies (parameters, KV cache).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/model.h"
#include "schema/catalog.h"
#include "schema/db.h"
#include "schema/listings.h"
#include "schema/lookup.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char list_usage[] = "[--json]";
static const char show_usage[] = "ID [--json]";
static const char import_usage[] = "CONFIG.json [--id ID] [--quant-config FILE] [--replace]";

static int model_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(model_list_stmt(ctx->db, json), json);
}

static cJSON *weights_json(const struct model_weights *w)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "attention", w->attention);
	cJSON_AddNumberToObject(o, "linear_mixers", w->mixers);
	cJSON_AddNumberToObject(o, "indexer", w->indexer);
	cJSON_AddNumberToObject(o, "dense_mlp", w->dense_mlp);
	cJSON_AddNumberToObject(o, "shared_experts", w->shared_experts);
	cJSON_AddNumberToObject(o, "routed_experts", w->routed_experts);
	cJSON_AddNumberToObject(o, "router", w->router);
	cJSON_AddNumberToObject(o, "embedding", w->embedding);
	cJSON_AddNumberToObject(o, "lm_head", w->lm_head);
	cJSON_AddNumberToObject(o, "norms", w->norms);
	cJSON_AddNumberToObject(o, "total", w->total);
	return o;
}

/* What one sequence holds in the layers of one kind (TP 1). */
struct kind_row {
	char name[16];
	int layers;
	double per_token;	/* every token: full attention, latents, compressed, indexer */
	double indexer;		/* of per_token: sparse-attention indexer keys */
	double window_per_token; /* windowed layers, per token up to window */
	double window;
	double state;		/* fixed per sequence */
};

static const char *kind_label(const struct model_arch *m, int i)
{
	if (m->mixer[i] == MIX_CSA)
		return m->ratio[i] == 4 ? "C4A" : m->ratio[i] == 128 ? "C128A" : "SWA";
	if (m->mixer[i] == MIX_NONE)
		return m->mlp[i] == MLP_MOE ? "moe-only" : "mlp-only";
	return mixer_kind_name((enum mixer_kind)m->mixer[i]);
}

static int kind_rows(const struct model_arch *m, int kv_bytes, struct kind_row *rows, int max)
{
	int n = 0;

	for (int i = 0; i < m->layers; i++) {
		const char *name = kind_label(m, i);
		struct model_kv kv;
		int r;
		for (r = 0; r < n && strcmp(rows[r].name, name); r++)
			;
		if (r == n) {
			if (n == max)
				continue;
			memset(&rows[n], 0, sizeof(rows[n]));
			snprintf(rows[n].name, sizeof(rows[n].name), "%s", name);
			n++;
		}
		model_kv_terms(m, kv_bytes, 1, i, 1, &kv);
		rows[r].layers++;
		rows[r].per_token += model_kv_growth_bytes_per_token(&kv);
		rows[r].indexer += model_kv_category_bytes(&kv, KV_INDEXER);
		rows[r].window_per_token += model_kv_category_bytes(&kv, KV_WINDOW);
		rows[r].window = fmax(rows[r].window, model_kv_window_tokens(&kv));
		rows[r].state += kv.state_bytes_per_seq;
	}
	return n;
}

/* KV dtype a checkpoint gets by default (ModelOpt kv_cache_quant_algo FP8: fp8). */
static int default_kv_bytes(const struct model_arch *m)
{
	return m->ckpt.kv_fp8 ? 1 : 2;
}

static const double seq_points[] = { 8192, 131072, 1048576 };

static void show_memory_plain(const struct model_arch *m)
{
	struct kind_row rows[16];
	struct model_kv kv;
	int kvb = default_kv_bytes(m);
	int n = kind_rows(m, kvb, rows, 16);
	char a[32], b[32], c[32];

	model_kv_terms(m, kvb, 1, 0, m->layers, &kv);
	tprintf("\nmemory per sequence by layer kind (%s KV cache, TP 1):\n",
	       kvb == 1 ? "fp8 (the checkpoint's KV scheme)" : "bf16");
	tprintf("  %-10s %6s %14s %14s %22s\n", "kind", "layers", "B/token", "of it indexer",
	       "fixed B/sequence");
	for (int r = 0; r < n; r++) {
		char fixed[64] = "";
		if (rows[r].window_per_token > 0)
			snprintf(fixed, sizeof(fixed), "%.0f (window %.0f)",
				 rows[r].window_per_token * rows[r].window, rows[r].window);
		if (rows[r].state > 0)
			snprintf(fixed + strlen(fixed), sizeof(fixed) - strlen(fixed), "%s%.0f state",
				 fixed[0] ? " + " : "", rows[r].state);
		snprintf(a, sizeof(a), "%.2f", rows[r].per_token);
		snprintf(b, sizeof(b), "%.2f", rows[r].indexer);
		tprintf("  %-10s %6d %14s %14s %22s\n", rows[r].name, rows[r].layers,
		       rows[r].per_token > 0 ? a : "-", rows[r].indexer > 0 ? b : "-",
		       fixed[0] ? fixed : "-");
	}
	fmt_bytes(a, sizeof(a), model_kv_growth_bytes_per_token(&kv));
	tprintf("  growth per token once windows are full: %s (%.0f B)\n", a,
	       model_kv_growth_bytes_per_token(&kv));
	if (kv.state_bytes_per_seq > 0) {
		fmt_bytes(a, sizeof(a), kv.state_bytes_per_seq);
		tprintf("  fixed state per running sequence: %s (%s)\n", a,
		       m->mixer_layers[MIX_CSA] ? "DeepSeek-V4 compressor states" :
		       "conv + SSM state of the linear / Mamba layers");
	}
	if (m->mixer_layers[MIX_CSA])
		tprintf("  DeepSeek-V4 entries are fp8 (584 B) whatever KV dtype is asked: vLLM"
		       " requires it\n");
	fmt_bytes(a, sizeof(a), model_kv_seq_bytes(&kv, seq_points[0]));
	fmt_bytes(b, sizeof(b), model_kv_seq_bytes(&kv, seq_points[1]));
	fmt_bytes(c, sizeof(c), model_kv_seq_bytes(&kv, seq_points[2]));
	tprintf("  one sequence of 8K / 128K / 1M tokens: %s / %s / %s%s\n", a, b, c,
	       m->max_context_tokens < 1048576 ? " (1M is beyond the model's context)" : "");
	if (m->mixer_layers[MIX_CHUNKED])
		tprintf("  chunked-local layers hold one chunk only where vLLM's hybrid KV manager\n"
		       "  serves them (VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE)\n");
	if (m->mixer_layers[MIX_MLA_SPARSE] || m->mixer_layers[MIX_CSA])
		tprintf("  attention reads top-%d entries per query (indexer over every key)\n",
		       m->index_topk);
}

static void show_plain(const char *id, const char *source, const char *native,
		       const struct model_arch *m, const struct model_params *p)
{
	char a[32], b[32], c[32], mix[128];

	model_layer_mix(m, mix, sizeof(mix));
	tprintf("id                   %s\n", id);
	tprintf("model_type           %s\n", m->model_type);
	if (m->note[0])
		tprintf("note                 %s\n", m->note);
	tprintf("layers               %d: %s (%d dense MLP, %d MoE)\n", m->layers, mix,
	       m->dense_layers, m->moe_layers);
	tprintf("attention            %s", attn_kind_name(m->attention));
	if (m->mixer_layers[MIX_CSA])
		tprintf(" (DeepSeek-V4: one %d-wide latent, window %d, compress ratios 4/128,"
		       " top-%d)\n", m->csa_head_dim, m->sliding_window, m->index_topk);
	else if (m->attention == ATTN_MLA)
		tprintf(" (kv_lora_rank %d + rope %d per layer%s)\n", m->kv_lora_rank,
		       m->qk_rope_head_dim, m->index_topk ? ", sparse: indexer top-k" : "");
	else
		tprintf(" (%d query heads, %d KV heads, head_dim %d)\n", m->heads, m->kv_heads,
		       m->head_dim);
	if (m->mixer_layers[MIX_LINEAR])
		tprintf("linear attention     Gated DeltaNet: %d key heads x %d, %d value heads x %d,"
		       " conv %d, state %s\n", m->lin_key_heads, m->lin_key_dim, m->lin_value_heads,
		       m->lin_value_dim, m->lin_conv_kernel, m->ssm_state_bytes == 4 ? "fp32" : "bf16");
	if (m->mixer_layers[MIX_MAMBA2])
		tprintf("mamba-2              %d heads x %d, state %d, %d groups, conv %d, state %s\n",
		       m->mamba_heads, m->mamba_head_dim, m->mamba_state, m->mamba_groups,
		       m->mamba_conv_kernel, m->ssm_state_bytes == 4 ? "fp32" : "bf16");
	tprintf("hidden_size          %d\n", m->hidden);
	fmt_count(a, sizeof(a), (double)p->total);
	fmt_count(b, sizeof(b), (double)p->active);
	fmt_count(c, sizeof(c), (double)p->active_no_embed);
	tprintf("parameters           %s total, %s active per token (%s without the input"
	       " embedding)\n", a, b, c);
	if (m->experts)
		tprintf("experts              %d routed per MoE layer, %d per token, %d shared%s\n",
		       m->experts, m->experts_per_token, m->shared_experts,
		       m->moe_latent ? " (latent MoE)" : "");
	if (m->mtp_layers) {
		fmt_count(a, sizeof(a), (double)p->mtp);
		tprintf("MTP layers           %d (%s parameters, not in the total: vLLM loads them only"
		       " for MTP speculative decoding)\n", m->mtp_layers, a);
	}
	tprintf("kv_bytes_per_token   %lld (%s, every layer's entry while inside its window)\n",
	       (long long)model_kv_bytes_per_token(m, default_kv_bytes(m)),
	       default_kv_bytes(m) == 1 ? "fp8" : "bf16");
	tprintf("max context          %lld tokens\n", (long long)m->max_context_tokens);
	tprintf("native format        %s\n", native);
	tprintf("source               %s\n", source);
	show_memory_plain(m);

	static const enum precision precs[] = { PREC_NATIVE, PREC_BF16, PREC_FP8, PREC_FP4 };
	tprintf("\nweights by module (parameters; bytes per precision):\n");
	tprintf("  %-16s %10s %11s %11s %11s %11s\n", "module", "params", "native", "bf16", "fp8",
	       "fp4");
	struct model_weights w[4];
	for (int i = 0; i < 4; i++)
		model_weights_bytes(m, precs[i], &w[i]);
	struct {
		const char *name;
		int64_t params;
		size_t off;
	} rows[] = {
		{ "attention", p->attention, offsetof(struct model_weights, attention) },
		{ "linear_mixers", p->mixers, offsetof(struct model_weights, mixers) },
		{ "indexer", p->indexer, offsetof(struct model_weights, indexer) },
		{ "dense_mlp", p->dense_mlp, offsetof(struct model_weights, dense_mlp) },
		{ "shared_experts", p->shared_experts, offsetof(struct model_weights, shared_experts) },
		{ "routed_experts", p->routed_experts, offsetof(struct model_weights, routed_experts) },
		{ "router", p->router, offsetof(struct model_weights, router) },
		{ "embedding", p->embedding, offsetof(struct model_weights, embedding) },
		{ "lm_head", p->lm_head, offsetof(struct model_weights, lm_head) },
		{ "norms", p->norms, offsetof(struct model_weights, norms) },
		{ "total", p->total, offsetof(struct model_weights, total) },
	};
	for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
		if (!rows[r].params && (rows[r].off == offsetof(struct model_weights, mixers) ||
					rows[r].off == offsetof(struct model_weights, indexer)))
			continue;
		fmt_count(a, sizeof(a), (double)rows[r].params);
		tprintf("  %-16s %10s", rows[r].name, a);
		for (int i = 0; i < 4; i++) {
			char d[32];
			fmt_bytes(d, sizeof(d), *(const double *)((const char *)&w[i] + rows[r].off));
			tprintf(" %11s", d);
		}
		putchar('\n');
	}
}

static cJSON *memory_json(const struct model_arch *m)
{
	struct kind_row rows[16];
	struct model_kv kv;
	int kvb = default_kv_bytes(m);
	int n = kind_rows(m, kvb, rows, 16);
	cJSON *o = cJSON_CreateObject(), *kinds, *seq;
	char key[32];

	model_kv_terms(m, kvb, 1, 0, m->layers, &kv);
	cJSON_AddStringToObject(o, "kv_dtype", kvb == 1 ? "fp8" : "bf16");
	cJSON_AddNumberToObject(o, "kv_growth_bytes_per_token", model_kv_growth_bytes_per_token(&kv));
	cJSON_AddNumberToObject(o, "full_bytes_per_token", model_kv_category_bytes(&kv, KV_FULL));
	cJSON_AddNumberToObject(o, "compressed_bytes_per_token",
				model_kv_category_bytes(&kv, KV_COMPRESSED));
	cJSON_AddNumberToObject(o, "indexer_bytes_per_token",
				model_kv_category_bytes(&kv, KV_INDEXER));
	cJSON_AddNumberToObject(o, "window_bytes_per_token", model_kv_category_bytes(&kv, KV_WINDOW));
	cJSON_AddNumberToObject(o, "window_tokens", model_kv_window_tokens(&kv));
	cJSON_AddNumberToObject(o, "state_bytes_per_seq", kv.state_bytes_per_seq);
	seq = cJSON_AddObjectToObject(o, "seq_bytes");
	for (size_t i = 0; i < ARRAY_SIZE(seq_points); i++) {
		snprintf(key, sizeof(key), "%.0f", seq_points[i]);
		cJSON_AddNumberToObject(seq, key, model_kv_seq_bytes(&kv, seq_points[i]));
	}
	kinds = cJSON_AddArrayToObject(o, "by_kind");
	for (int r = 0; r < n; r++) {
		cJSON *k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "kind", rows[r].name);
		cJSON_AddNumberToObject(k, "layers", rows[r].layers);
		cJSON_AddNumberToObject(k, "bytes_per_token", rows[r].per_token);
		cJSON_AddNumberToObject(k, "indexer_bytes_per_token", rows[r].indexer);
		cJSON_AddNumberToObject(k, "window_bytes_per_token", rows[r].window_per_token);
		cJSON_AddNumberToObject(k, "window_tokens", rows[r].window);
		cJSON_AddNumberToObject(k, "state_bytes_per_seq", rows[r].state);
		cJSON_AddItemToArray(kinds, k);
	}
	return o;
}

static int model_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, ret = -1;
	char *id = NULL, *source = NULL, *native = NULL;
	struct stmt *st = NULL;
	struct model_arch *m = xcalloc(1, sizeof(*m));
	struct model_params p;
	char mix[128];

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed) {
		free(m);
		return parsed;
	}
	id = lookup_model(ctx->db, pos[0]);
	if (!id || load_model_arch(ctx->db, id, m))
		goto cleanup;
	st = model_show_stmt(ctx->db, id);
	if (!st)
		goto cleanup;
	if (stmt_step(st) != 1)
		goto cleanup;
	source = xstrdup(stmt_text(st, 0));
	native = xstrdup(stmt_text(st, 1));
	model_params_count(m, &p);

	if (!json) {
		show_plain(id, source, native, m, &p);
		ret = 0;
		goto cleanup;
	}
	model_layer_mix(m, mix, sizeof(mix));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "model_type", m->model_type);
	if (m->note[0])
		cJSON_AddStringToObject(o, "note", m->note);
	cJSON_AddStringToObject(o, "attention", attn_kind_name(m->attention));
	cJSON_AddNumberToObject(o, "layers", m->layers);
	cJSON_AddStringToObject(o, "layer_mix", mix);
	cJSON *kinds = cJSON_AddObjectToObject(o, "mixer_layers");
	for (int k = 0; k < MIX_KINDS; k++)
		if (m->mixer_layers[k])
			cJSON_AddNumberToObject(kinds, mixer_kind_name((enum mixer_kind)k),
						m->mixer_layers[k]);
	cJSON_AddNumberToObject(o, "dense_layers", m->dense_layers);
	cJSON_AddNumberToObject(o, "moe_layers", m->moe_layers);
	cJSON_AddNumberToObject(o, "hidden_size", m->hidden);
	cJSON_AddNumberToObject(o, "heads", m->heads);
	cJSON_AddNumberToObject(o, "kv_heads", m->kv_heads);
	cJSON_AddNumberToObject(o, "head_dim", m->head_dim);
	cJSON_AddNumberToObject(o, "vocab_size", (double)m->vocab);
	cJSON_AddNumberToObject(o, "total_params", (double)p.total);
	cJSON_AddNumberToObject(o, "active_params", (double)p.active);
	cJSON_AddNumberToObject(o, "active_params_no_embedding", (double)p.active_no_embed);
	cJSON_AddNumberToObject(o, "mtp_layers", m->mtp_layers);
	cJSON_AddNumberToObject(o, "mtp_params", (double)p.mtp);
	cJSON_AddNumberToObject(o, "experts", m->experts);
	cJSON_AddNumberToObject(o, "experts_per_token", m->experts_per_token);
	cJSON_AddNumberToObject(o, "shared_experts", m->shared_experts);
	cJSON_AddNumberToObject(o, "kv_bytes_per_token",
				(double)model_kv_bytes_per_token(m, default_kv_bytes(m)));
	cJSON_AddNumberToObject(o, "sliding_window", m->sliding_window);
	cJSON_AddNumberToObject(o, "sliding_layers", m->sliding_layers);
	cJSON_AddNumberToObject(o, "max_context_tokens", (double)m->max_context_tokens);
	cJSON_AddStringToObject(o, "native_format", native);
	if (m->ckpt.quant_method[0])
		cJSON_AddStringToObject(o, "quant_method", m->ckpt.quant_method);
	else
		cJSON_AddNullToObject(o, "quant_method");
	cJSON_AddItemToObject(o, "memory", memory_json(m));
	cJSON *params = cJSON_AddObjectToObject(o, "params");
	cJSON_AddNumberToObject(params, "attention", (double)p.attention);
	cJSON_AddNumberToObject(params, "linear_mixers", (double)p.mixers);
	cJSON_AddNumberToObject(params, "indexer", (double)p.indexer);
	cJSON_AddNumberToObject(params, "dense_mlp", (double)p.dense_mlp);
	cJSON_AddNumberToObject(params, "shared_experts", (double)p.shared_experts);
	cJSON_AddNumberToObject(params, "routed_experts", (double)p.routed_experts);
	cJSON_AddNumberToObject(params, "router", (double)p.router);
	cJSON_AddNumberToObject(params, "embedding", (double)p.embedding);
	cJSON_AddNumberToObject(params, "lm_head", (double)p.lm_head);
	cJSON_AddNumberToObject(params, "norms", (double)p.norms);
	cJSON *wb = cJSON_AddObjectToObject(o, "weights_bytes");
	static const enum precision precs[] = { PREC_NATIVE, PREC_BF16, PREC_FP8, PREC_FP4 };
	for (int i = 0; i < 4; i++) {
		struct model_weights w;
		model_weights_bytes(m, precs[i], &w);
		cJSON_AddItemToObject(wb, precision_name(precs[i]), weights_json(&w));
	}
	cJSON_AddStringToObject(o, "source", source);
	print_json(o);
	ret = 0;
cleanup:
	stmt_finalize(st);
	free(native);
	free(source);
	free(id);
	free(m);
	return ret;
}

/* The default id of a config file: its name, with "--" read as "/". */
static char *default_model_id(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return model_id_from_filename(base);
}

static int model_import(struct ctx *ctx, int argc, char **argv)
{
	const char *id = NULL, *quant_file = NULL;
	int replace = 0;
	const struct opt opts[] = {
		{ "id", 0, OPT_STRING, &id, 0 },
		{ "quant-config", 0, OPT_STRING, &quant_file, 0 },
		{ "replace", 0, OPT_FLAG, &replace, 0 },
		OPT_END,
	};
	char *pos[1], *json = NULL, *quant = NULL, *idbuf = NULL, *source = NULL, *what = NULL;
	size_t len, qlen = 0;
	int npos, ret = -1;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (id && !model_id_valid(id)) {
		error("--id '%s': expected a model id that does not start with '-' (vllm serve "
		      "would read it as an option)", id);
		return usage_error(ctx);
	}
	if (quant_file && !*quant_file)
		return usage_error(ctx);
	if (read_file_max(pos[0], MODEL_CONFIG_MAX_BYTES, &json, &len) ||
	    (quant_file && read_file_max(quant_file, MODEL_CONFIG_MAX_BYTES, &quant, &qlen)))
		goto cleanup;
	if (!id)
		id = idbuf = default_model_id(pos[0]);
	source = quant_file ? xasprintf("imported from %s with %s", pos[0], quant_file) :
			      xasprintf("imported from %s", pos[0]);
	what = quant_file ? xasprintf("%s (with %s)", pos[0], quant_file) : xstrdup(pos[0]);
	if (catalog_add_model(ctx->db, id, json, len, quant, qlen, source,
			      replace ? MODEL_REPLACE : MODEL_FAIL_EXISTING, what) < 0)
		goto cleanup;
	tprintf("imported model '%s'\n", id);
	ret = 0;
cleanup:
	free(what);
	free(source);
	free(idbuf);
	free(quant);
	free(json);
	return ret;
}

static const struct subcmd model_subs[] = {
	{ "list", model_list, CMD_DB, list_usage,
	  "List the models: layer mix, context, parameters, KV cache and state.",
	  "Columns: LAYERS the token mixer of each layer ('45 linear + 15 full'),\n"
	  "CONTEXT max_position_embeddings, TOTAL and ACTIVE parameters (memory follows\n"
	  "total, compute follows active), EXPERTS as per-token/routed, KV B/TOKEN what each\n"
	  "token adds once every window is full (the checkpoint's default KV dtype, all\n"
	  "layers), STATE/SEQ the fixed state of linear-attention and Mamba layers per\n"
	  "sequence, 1M-TOKEN SEQ what one 1,048,576-token sequence holds.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON array of objects\n" },
	{ "show", model_show, CMD_DB, show_usage,
	  "Show a model's architecture, memory per layer kind and weight bytes per precision.",
	  "ID is a Hugging Face id (deepseek-ai/DeepSeek-V3) or, when unambiguous, the part\n"
	  "after the '/' in any case (deepseek-v3).\n"
	  "\n"
	  "Memory per sequence is broken down by layer kind: KV bytes per token of full\n"
	  "attention and MLA latents, compressed entries (DeepSeek-V4), the sparse\n"
	  "indexer's keys, windowed layers up to their window, and the fixed state of\n"
	  "linear-attention and Mamba layers, with totals for 8K, 128K and 1M tokens.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON object: id, model_type, layer_mix, mixer_layers{}, total_params,\n"
	  "           active_params, active_params_no_embedding, mtp_layers, kv_bytes_per_token,\n"
	  "           memory{kv_growth_bytes_per_token, state_bytes_per_seq, seq_bytes{},\n"
	  "           by_kind[]}, params{}, weights_bytes{native,bf16,fp8,fp4}{...}\n" },
	{ "import", model_import, CMD_WRITES, import_usage,
	  "Add a model from its Hugging Face config.json.",
	  "The id defaults to the file name with '--' read as '/'\n"
	  "(deepseek-ai--DeepSeek-V3.json -> deepseek-ai/DeepSeek-V3); an id starting with\n"
	  "'-' is refused. Known model_type: llama, mistral, mixtral, qwen2, qwen2_moe,\n"
	  "qwen3, qwen3_moe, qwen3_next, qwen3_5, qwen3_5_moe, deepseek_v2, deepseek_v3,\n"
	  "deepseek_v32, deepseek_v4, kimi_k2, kimi_k25, glm4_moe, glm_moe_dsa, minimax_m2,\n"
	  "nemotron_h, gemma4, gpt_oss, llama4 (vision-language wrappers are read through\n"
	  "text_config). Another model_type is read from its fields when every field is\n"
	  "understood (with a warning), else refused naming the field. The checkpoint's\n"
	  "quantization_config is read (fp8, compressed-tensors, awq, gptq, mxfp4,\n"
	  "modelopt); another quant_method is refused. Refusals are exit 65 and write\n"
	  "nothing.\n"
	  "\n"
	  "Options:\n"
	  "  --id ID              the id to store it under\n"
	  "  --quant-config FILE  the checkpoint's hf_quant_config.json (ModelOpt FP8/NVFP4\n"
	  "                       checkpoints keep their quantisation there)\n"
	  "  --replace            overwrite a model of the same id\n" },
	{ 0 },
};

const struct cmd cmd_model = { "model", "list, show and import models (Hugging Face configs)",
			       model_subs };
