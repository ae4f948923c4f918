/*
 * cmd_price.c - `piqplan price list|add`: dated GPU-hour prices.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/catalog.h"
#include "cmd.h"
#include "listing.h"
#include "schema/lookup.h"
#include "opts.h"
#include "lib/util.h"
#include "schema/db.h"

#include <stdio.h>
#include <stdlib.h>

static int price_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const char *gpu = NULL;
	const struct opt opts[] = {
		{ "json", 0, OPT_FLAG, &json, 0 },
		{ "gpu", 0, OPT_STRING, &gpu, 0 },
		OPT_END,
	};
	char *pos[1], *gpu_id = NULL;
	int npos;

	if (opts_parse(argc, argv, opts, pos, 0, &npos))
		return usage_error(ctx);
	if (gpu && !(gpu_id = lookup_gpu(ctx->db, gpu)))
		return -1;
	struct stmt *st = db_prepare(ctx->db, json ?
		"SELECT gpu_id AS gpu, pricing, usd_per_gpu_hour, as_of, source FROM gpu_price"
		" WHERE :gpu IS NULL OR gpu_id = :gpu ORDER BY gpu_id, pricing, as_of_date DESC" :
		"SELECT gpu_id AS GPU, pricing AS PRICING, printf('%.3f', usd_per_gpu_hour)"
		"       AS \">USD/GPU-H\", as_of AS \"AS OF\", source AS SOURCE FROM gpu_price"
		" WHERE :gpu IS NULL OR gpu_id = :gpu ORDER BY gpu_id, pricing, as_of_date DESC");
	if (st)
		stmt_bind_text(st, ":gpu", gpu_id);
	free(gpu_id);
	return print_rows(st, json);
}

static int price_add(struct ctx *ctx, int argc, char **argv)
{
	const char *as_of = NULL, *source = NULL;
	const struct opt opts[] = {
		{ "as-of", 0, OPT_STRING, &as_of, 0 },
		{ "source", 0, OPT_STRING, &source, 0 },
		OPT_END,
	};
	char *pos[3], *gpu_id = NULL;
	char date[11];
	double usd;
	int npos, ret = -1;
	struct stmt *st = NULL;

	if (opts_parse(argc, argv, opts, pos, 3, &npos) || npos != 3 || !as_of || !source)
		return usage_error(ctx);
	if (!pricing_valid(pos[1])) {
		error("unknown pricing '%s' (expected one of: %s)", pos[1], pricing_kinds_help);
		return usage_error(ctx);
	}
	if (parse_double(pos[2], &usd) || usd <= 0) {
		error("price '%s' is not a positive number of USD per GPU-hour", pos[2]);
		return usage_error(ctx);
	}
	if (price_date_normalise(as_of, date)) {
		error("date '%s' is not YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD", as_of);
		return usage_error(ctx);
	}
	if (!*source) {
		error("--source must say where the price comes from");
		return usage_error(ctx);
	}
	gpu_id = lookup_gpu(ctx->db, pos[0]);
	if (!gpu_id)
		goto cleanup;
	st = db_prepare(ctx->db,
		"INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date, source)"
		" VALUES (:gpu, :pricing, :usd, :as_of, :date, :source)"
		" ON CONFLICT (gpu_id, pricing, as_of) DO UPDATE SET"
		"   usd_per_gpu_hour = excluded.usd_per_gpu_hour, source = excluded.source");
	if (!st)
		goto cleanup;
	stmt_bind_text(st, ":gpu", gpu_id);
	stmt_bind_text(st, ":pricing", pos[1]);
	stmt_bind_double(st, ":usd", usd);
	stmt_bind_text(st, ":as_of", as_of);
	stmt_bind_text(st, ":date", date);
	stmt_bind_text(st, ":source", source);
	if (stmt_step(st) < 0)
		goto cleanup;
	printf("%s %s: %.3f USD/GPU-h as of %s\n", gpu_id, pos[1], usd, as_of);
	ret = 0;
cleanup:
	stmt_finalize(st);
	free(gpu_id);
	return ret;
}

static const struct subcmd price_subs[] = {
	{ "list", price_list, CMD_DB, "[--gpu ID] [--json]",
	  "List GPU-hour prices with their dates and sources, newest first per kind.",
	  "Prices go stale: every price carries the date it was quoted and who quoted it.\n"
	  "Planning uses the newest price of the scenario's pricing kind.\n"
	  "\n"
	  "Options:\n"
	  "  --gpu ID   only this GPU type\n"
	  "  --json     one JSON array\n" },
	{ "add", price_add, CMD_WRITES, "GPU PRICING USD_PER_HOUR --as-of DATE --source TEXT",
	  "Record a price for one GPU-hour.",
	  "PRICING is one of: on-demand, reserved-1y, reserved-3y, spot, capacity-block, owned.\n"
	  "USD_PER_HOUR is per GPU, not per node. DATE is YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD.\n"
	  "Adding the same GPU, pricing and date again updates that price.\n"
	  "\n"
	  "Example:\n"
	  "  piqplan price add H100-SXM-80GB on-demand 2.49 --as-of 2026-11 --source 'our quote'\n" },
	{ 0 },
};

const struct cmd cmd_price = { "price", "list and add dated GPU-hour prices", price_subs };
