/*
 * cmd_gpu.c - `piqplan gpu list|show`: the GPU types of the catalog.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "schema/db.h"
#include "schema/listings.h"
#include "schema/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gpu_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(gpu_list_stmt(ctx->db, json), json);
}

static int gpu_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1], *id = NULL;
	int npos, ret = -1;
	struct stmt *st = NULL, *prices = NULL, *current = NULL;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	id = lookup_gpu(ctx->db, pos[0]);
	if (!id)
		goto cleanup;
	st = gpu_show_stmt(ctx->db, id);
	prices = gpu_prices_stmt(ctx->db, id);
	current = gpu_current_prices_stmt(ctx->db, id);
	if (!st || !prices || !current)
		goto cleanup;
	if (stmt_step(st) != 1)
		goto cleanup;
	cJSON *o = row_object(st);
	cJSON *pa = cJSON_AddArrayToObject(o, "prices");
	int r;
	while ((r = stmt_step(prices)) == 1) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "pricing", stmt_text(prices, 0));
		cJSON_AddNumberToObject(p, "usd_per_gpu_hour", stmt_double(prices, 1));
		cJSON_AddStringToObject(p, "as_of", stmt_text(prices, 2));
		cJSON_AddStringToObject(p, "source", stmt_text(prices, 3));
		cJSON_AddStringToObject(p, "origin", stmt_text(prices, 4));
		cJSON_AddStringToObject(p, "used", stmt_text(prices, 5));
		cJSON_AddItemToArray(pa, p);
	}
	cJSON *ca = cJSON_AddArrayToObject(o, "plan_prices");
	while (r >= 0 && (r = stmt_step(current)) == 1) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "pricing", stmt_text(current, 0));
		cJSON_AddNumberToObject(p, "usd_per_gpu_hour", stmt_double(current, 1));
		cJSON_AddStringToObject(p, "basis", stmt_text(current, 2));
		cJSON_AddNumberToObject(p, "quotes", (double)stmt_int64(current, 3));
		cJSON_AddNumberToObject(p, "usd_min", stmt_double(current, 4));
		cJSON_AddNumberToObject(p, "usd_max", stmt_double(current, 5));
		cJSON_AddStringToObject(p, "as_of", stmt_text(current, 6));
		cJSON_AddItemToArray(ca, p);
	}
	if (r < 0) {
		cJSON_Delete(o);
		goto cleanup;
	}
	if (json) {
		print_json(o);
		ret = 0;
		goto cleanup;
	}
	tprintf("id                 %s\n", stmt_text(st, 0));
	tprintf("vendor             %s\n", stmt_text(st, 1));
	tprintf("memory             %.2f GiB (%lld bytes)\n",
	       (double)stmt_int64(st, 2) / 1073741824.0, (long long)stmt_int64(st, 2));
	tprintf("HBM bandwidth      %.3f TB/s\n", stmt_double(st, 3) / 1e12);
	tprintf("BF16 dense         %.1f TFLOP/s\n", stmt_double(st, 4) / 1e12);
	if (stmt_is_null(st, 5))
		tprintf("FP8 dense          none (no FP8 tensor cores)\n");
	else
		tprintf("FP8 dense          %.1f TFLOP/s\n", stmt_double(st, 5) / 1e12);
	if (!stmt_is_null(st, 6))
		tprintf("FP4 dense          %.1f TFLOP/s\n", stmt_double(st, 6) / 1e12);
	tprintf("interconnect       %s, %.0f GB/s per direction, %lld GPUs per domain\n",
	       stmt_text(st, 8), stmt_double(st, 7) / 1e9, (long long)stmt_int64(st, 9));
	if (!stmt_is_null(st, 10))
		tprintf("TDP                %lld W\n", (long long)stmt_int64(st, 10));
	if (!stmt_is_null(st, 11))
		tprintf("memory torch sees  %.2f GiB (%s)\n", (double)stmt_int64(st, 11) / 1073741824.0,
		       stmt_text(st, 12));
	if (!stmt_is_null(st, 13))
		tprintf("scale-out          %.0f Gb/s per GPU\n", stmt_double(st, 13) * 8 / 1e9);
	if (!stmt_is_null(st, 14))
		tprintf("GPUs per node      %lld\n", (long long)stmt_int64(st, 14));
	if (!stmt_is_null(st, 15) || !stmt_is_null(st, 16))
		tprintf("form, architecture %s, %s\n", stmt_text(st, 15), stmt_text(st, 16));
	if (!stmt_is_null(st, 17))
		tprintf("vLLM CUDA/ROCm     %s\n", stmt_int64(st, 17) ? "served" :
		       "not served (another backend)");
	tprintf("source             %s\n", stmt_text(st, 18));
	cJSON *p;
	tprintf("prices:\n");
	if (!cJSON_GetArraySize(pa))
		tprintf("  none in the catalog (add one with 'piqplan price add')\n");
	cJSON_ArrayForEach(p, ca) {
		const char *basis = cJSON_GetObjectItem(p, "basis")->valuestring;
		int quotes = (int)cJSON_GetObjectItem(p, "quotes")->valuedouble;
		tprintf("  plans use %-15s %7.3f USD/GPU-h  ", cJSON_GetObjectItem(p, "pricing")->valuestring,
		       cJSON_GetObjectItem(p, "usd_per_gpu_hour")->valuedouble);
		if (!strcmp(basis, "user"))
			tprintf("your price as of %s\n", cJSON_GetObjectItem(p, "as_of")->valuestring);
		else if (quotes == 1)
			tprintf("the catalog's one quote\n");
		else
			tprintf("median of %d catalog quotes (%.3f-%.3f)\n", quotes,
			       cJSON_GetObjectItem(p, "usd_min")->valuedouble,
			       cJSON_GetObjectItem(p, "usd_max")->valuedouble);
	}
	cJSON_ArrayForEach(p, pa)
		tprintf("  %-15s %7.3f USD/GPU-h  as of %-10s  %-7s %-6s  %s\n",
		       cJSON_GetObjectItem(p, "pricing")->valuestring,
		       cJSON_GetObjectItem(p, "usd_per_gpu_hour")->valuedouble,
		       cJSON_GetObjectItem(p, "as_of")->valuestring,
		       cJSON_GetObjectItem(p, "origin")->valuestring,
		       cJSON_GetObjectItem(p, "used")->valuestring,
		       cJSON_GetObjectItem(p, "source")->valuestring);
	cJSON_Delete(o);
	ret = 0;
cleanup:
	stmt_finalize(current);
	stmt_finalize(prices);
	stmt_finalize(st);
	free(id);
	return ret;
}

static const struct subcmd gpu_subs[] = {
	{ "list", gpu_list, CMD_DB, "[--json]",
	  "List the GPU types with memory, bandwidth, FLOP/s, node and network, and price.",
	  "Columns: ARCH the architecture family, FORM the form factor, MEMORY what the\n"
	  "driver reports, TORCH GIB what torch sees (vLLM's total_memory), NVLINK the GPUs\n"
	  "of one NVLink domain, NODE GPUs per node, NET GB/S the scale-out network per GPU,\n"
	  "VLLM whether vLLM's CUDA/ROCm path serves it.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON array: id, memory_bytes, mem_bw_bytes_per_s, bf16_flops,\n"
	  "           fp8_flops (null: none), fp4_flops, link_bytes_per_s, nvlink_domain_gpus,\n"
	  "           memory_torch_bytes, scaleout_bytes_per_s, gpus_per_node, form_factor,\n"
	  "           arch, vllm_served...\n" },
	{ "show", gpu_show, CMD_DB, "ID [--json]",
	  "Show one GPU type's specifications, sources and every price on record.",
	  "ID is the catalog id (H100-SXM-80GB), in any case, or a unique prefix of it.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON object, with a 'prices' array\n" },
	{ 0 },
};

const struct cmd cmd_gpu = { "gpu", "list and show GPU types", gpu_subs };
