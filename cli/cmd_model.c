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

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char list_usage[] = "[--json]";
static const char show_usage[] = "ID [--json]";
static const char import_usage[] = "CONFIG.json [--id ID] [--replace]";

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

static void show_plain(const char *id, const char *source, const char *native,
		       const struct model_arch *m, const struct model_params *p)
{
	char a[32], b[32];
	tprintf("id                   %s\n", id);
	tprintf("model_type           %s\n", m->model_type);
	tprintf("attention            %s", attn_kind_name(m->attention));
	if (m->attention == ATTN_MLA)
		tprintf(" (kv_lora_rank %d + rope %d per layer)\n", m->kv_lora_rank,
		       m->qk_rope_head_dim);
	else
		tprintf(" (%d query heads, %d KV heads, head_dim %d)\n", m->heads, m->kv_heads,
		       m->head_dim);
	tprintf("layers               %d (%d dense, %d MoE)\n", m->layers, m->dense_layers,
	       m->moe_layers);
	tprintf("hidden_size          %d\n", m->hidden);
	fmt_count(a, sizeof(a), (double)p->total);
	fmt_count(b, sizeof(b), (double)p->active);
	tprintf("parameters           %s total, %s active per token\n", a, b);
	if (m->experts)
		tprintf("experts              %d routed per MoE layer, %d per token, %d shared\n",
		       m->experts, m->experts_per_token, m->shared_experts);
	tprintf("kv_bytes_per_token   %lld (bf16, all layers)\n",
	       (long long)model_kv_bytes_per_token(m, 2));
	if (m->sliding_layers)
		tprintf("sliding window       %d of %d layers keep the last %d tokens\n",
		       m->sliding_layers, m->layers, m->sliding_window);
	tprintf("max context          %lld tokens\n", (long long)m->max_context_tokens);
	tprintf("native format        %s\n", native);
	tprintf("source               %s\n", source);

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
		fmt_count(a, sizeof(a), (double)rows[r].params);
		tprintf("  %-16s %10s", rows[r].name, a);
		for (int i = 0; i < 4; i++) {
			char c[32];
			fmt_bytes(c, sizeof(c), *(const double *)((const char *)&w[i] + rows[r].off));
			tprintf(" %11s", c);
		}
		putchar('\n');
	}
}

static int model_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, ret = -1;
	char *id = NULL, *source = NULL, *native = NULL;
	struct stmt *st = NULL;
	struct model_arch m;
	struct model_params p;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	id = lookup_model(ctx->db, pos[0]);
	if (!id || load_model_arch(ctx->db, id, &m))
		goto cleanup;
	st = model_show_stmt(ctx->db, id);
	if (!st)
		goto cleanup;
	if (stmt_step(st) != 1)
		goto cleanup;
	source = xstrdup(stmt_text(st, 0));
	native = xstrdup(stmt_text(st, 1));
	model_params_count(&m, &p);

	if (!json) {
		show_plain(id, source, native, &m, &p);
		ret = 0;
		goto cleanup;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "model_type", m.model_type);
	cJSON_AddStringToObject(o, "attention", attn_kind_name(m.attention));
	cJSON_AddNumberToObject(o, "layers", m.layers);
	cJSON_AddNumberToObject(o, "dense_layers", m.dense_layers);
	cJSON_AddNumberToObject(o, "moe_layers", m.moe_layers);
	cJSON_AddNumberToObject(o, "hidden_size", m.hidden);
	cJSON_AddNumberToObject(o, "heads", m.heads);
	cJSON_AddNumberToObject(o, "kv_heads", m.kv_heads);
	cJSON_AddNumberToObject(o, "head_dim", m.head_dim);
	cJSON_AddNumberToObject(o, "vocab_size", (double)m.vocab);
	cJSON_AddNumberToObject(o, "total_params", (double)p.total);
	cJSON_AddNumberToObject(o, "active_params", (double)p.active);
	cJSON_AddNumberToObject(o, "experts", m.experts);
	cJSON_AddNumberToObject(o, "experts_per_token", m.experts_per_token);
	cJSON_AddNumberToObject(o, "shared_experts", m.shared_experts);
	cJSON_AddNumberToObject(o, "kv_bytes_per_token", (double)model_kv_bytes_per_token(&m, 2));
	cJSON_AddNumberToObject(o, "sliding_window", m.sliding_window);
	cJSON_AddNumberToObject(o, "sliding_layers", m.sliding_layers);
	cJSON_AddNumberToObject(o, "max_context_tokens", (double)m.max_context_tokens);
	cJSON_AddStringToObject(o, "native_format", native);
	cJSON *params = cJSON_AddObjectToObject(o, "params");
	cJSON_AddNumberToObject(params, "attention", (double)p.attention);
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
		model_weights_bytes(&m, precs[i], &w);
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
	const char *id = NULL;
	int replace = 0;
	const struct opt opts[] = {
		{ "id", 0, OPT_STRING, &id, 0 },
		{ "replace", 0, OPT_FLAG, &replace, 0 },
		OPT_END,
	};
	char *pos[1], *json = NULL, *idbuf = NULL, *source = NULL;
	size_t len;
	int npos, ret = -1;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (id && !model_id_valid(id)) {
		error("--id '%s': expected a model id that does not start with '-' (vllm serve "
		      "would read it as an option)", id);
		return usage_error(ctx);
	}
	if (read_file_max(pos[0], MODEL_CONFIG_MAX_BYTES, &json, &len))
		goto cleanup;
	if (!id)
		id = idbuf = default_model_id(pos[0]);
	source = xasprintf("imported from %s", pos[0]);
	if (catalog_add_model(ctx->db, id, json, len, source,
			      replace ? MODEL_REPLACE : MODEL_FAIL_EXISTING, pos[0]) < 0)
		goto cleanup;
	tprintf("imported model '%s'\n", id);
	ret = 0;
cleanup:
	free(source);
	free(idbuf);
	free(json);
	return ret;
}

static const struct subcmd model_subs[] = {
	{ "list", model_list, CMD_DB, list_usage,
	  "List the models with their parameters and KV-cache bytes per token.",
	  "Columns: TOTAL and ACTIVE parameters (memory follows total, compute follows\n"
	  "active), EXPERTS as per-token/routed, KV B/TOKEN the bf16 KV cache one token\n"
	  "takes across all layers.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON array of objects\n" },
	{ "show", model_show, CMD_DB, show_usage,
	  "Show a model's architecture, parameter split and weight bytes per precision.",
	  "ID is a Hugging Face id (deepseek-ai/DeepSeek-V3) or, when unambiguous, the part\n"
	  "after the '/' in any case (deepseek-v3).\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON object: id, model_type, attention, layers, total_params,\n"
	  "           active_params, experts, experts_per_token, kv_bytes_per_token, params{},\n"
	  "           weights_bytes{native,bf16,fp8,fp4}{...}\n" },
	{ "import", model_import, CMD_WRITES, import_usage,
	  "Add a model from its Hugging Face config.json.",
	  "The id defaults to the file name with '--' read as '/'\n"
	  "(deepseek-ai--DeepSeek-V3.json -> deepseek-ai/DeepSeek-V3).\n"
	  "Supported model_type: llama, mixtral, qwen2, qwen3_moe, deepseek_v3, kimi_k2,\n"
	  "gpt_oss, llama4. Anything else is refused (exit 65) and nothing is written.\n"
	  "\n"
	  "Options:\n"
	  "  --id ID     the id to store it under\n"
	  "  --replace   overwrite a model of the same id\n" },
	{ 0 },
};

const struct cmd cmd_model = { "model", "list, show and import models (Hugging Face configs)",
			       model_subs };
