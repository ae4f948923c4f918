/*
 * cmd_price.c - `piqplan price list|add`: dated GPU-hour prices.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/util.h"
#include "schema/catalog.h"
#include "schema/listings.h"
#include "schema/lookup.h"

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

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	if (gpu && !(gpu_id = lookup_gpu(ctx->db, gpu)))
		return -1;
	struct stmt *st = price_list_stmt(ctx->db, gpu_id, json);
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

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 3, 3, &npos);
	if (parsed)
		return parsed;
	if (!as_of || !source)
		return usage_error(ctx);
	if (!pricing_valid(pos[1])) {
		error("unknown pricing '%s' (expected one of: %s)", pos[1], pricing_kinds_help);
		return usage_error(ctx);
	}
	if (parse_double(pos[2], &usd) || usd <= 0 || usd > PRICE_MAX_USD_PER_HOUR) {
		error("price '%s': expected a decimal number of USD per GPU-hour above 0, at most %g",
		      pos[2], PRICE_MAX_USD_PER_HOUR);
		return usage_error(ctx);
	}
	if (price_date_normalise(as_of, date)) {
		error("date '%s' is not a date written YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD", as_of);
		return usage_error(ctx);
	}
	if (!*source) {
		error("--source must say where the price comes from");
		return usage_error(ctx);
	}
	gpu_id = lookup_gpu(ctx->db, pos[0]);
	if (!gpu_id)
		goto cleanup;
	if (price_insert(ctx->db, gpu_id, pos[1], usd, as_of, date, source))
		goto cleanup;
	tprintf("%s %s: %.3f USD/GPU-h as of %s\n", gpu_id, pos[1], usd, as_of);
	ret = 0;
cleanup:
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
