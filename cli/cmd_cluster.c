/*
 * cmd_cluster.c - `piqplan cluster add|list|remove`: the GPUs a team
 * already owns or has committed to, which planning subtracts from need.
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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int cluster_add(struct ctx *ctx, int argc, char **argv)
{
	const char *gpu = NULL, *pricing = "owned", *from = NULL;
	int64_t gpus = 0;
	double usd = 0;
	int have_gpus = 0, have_usd = 0;
	const struct opt opts[] = {
		{ "gpu", 0, OPT_STRING, &gpu, 0 },
		{ "gpus", 0, OPT_INT, &gpus, &have_gpus },
		{ "pricing", 0, OPT_STRING, &pricing, 0 },
		{ "usd-per-hour", 0, OPT_DOUBLE, &usd, &have_usd },
		{ "from", 0, OPT_STRING, &from, 0 },
		OPT_END,
	};
	char *pos[1], *gpu_id = NULL;
	int npos, ret = -1;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (!gpu || !have_gpus)
		return usage_error(ctx);
	if (!*pos[0]) {
		error("cluster name must not be empty");
		return usage_error(ctx);
	}
	if (gpus <= 0 || gpus > CLUSTER_MAX_GPUS) {
		error("--gpus %lld: expected 1 to %d GPUs", (long long)gpus, CLUSTER_MAX_GPUS);
		return usage_error(ctx);
	}
	if (!pricing_valid(pricing)) {
		error("unknown pricing '%s' (expected one of: %s)", pricing, pricing_kinds_help);
		return usage_error(ctx);
	}
	if (have_usd && !(usd >= 0 && usd <= PRICE_MAX_USD_PER_HOUR)) {
		error("--usd-per-hour %g: expected 0 to %g USD per GPU-hour", usd,
		      PRICE_MAX_USD_PER_HOUR);
		return usage_error(ctx);
	}
	if (from && quarter_parse(from) < 0) {
		error("--from '%s': expected a quarter like 2027Q1", from);
		return usage_error(ctx);
	}
	gpu_id = lookup_gpu(ctx->db, gpu);
	if (!gpu_id)
		goto cleanup;
	if (cluster_insert(ctx->db, pos[0], gpu_id, gpus, pricing, have_usd ? usd : NAN, from))
		goto cleanup;
	tprintf("cluster '%s': %lld x %s (%s)\n", pos[0], (long long)gpus, gpu_id, pricing);
	ret = 0;
cleanup:
	free(gpu_id);
	return ret;
}

static int cluster_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(cluster_list_stmt(ctx->db, json), json);
}

static int cluster_remove(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (cluster_delete(ctx->db, pos[0]))
		return -1;
	tprintf("removed cluster '%s'\n", pos[0]);
	return 0;
}

static const struct subcmd cluster_subs[] = {
	{ "add", cluster_add, CMD_WRITES,
	  "NAME --gpu ID --gpus N [--pricing KIND] [--usd-per-hour X] [--from QUARTER]",
	  "Record GPUs you already own or have committed to.",
	  "Planning subtracts these GPUs from what each quarter needs (the shortfall).\n"
	  "\n"
	  "Options:\n"
	  "  --gpu ID            GPU type (see 'piqplan gpu list')\n"
	  "  --gpus N            how many GPUs\n"
	  "  --pricing KIND      owned (default), reserved-1y, reserved-3y, on-demand, spot,\n"
	  "                      capacity-block\n"
	  "  --usd-per-hour X    what one of these GPUs costs you per hour (amortised)\n"
	  "  --from QUARTER      first quarter it is available, e.g. 2027Q2 (default: now)\n" },
	{ "list", cluster_list, CMD_DB, "[--json]", "List owned and committed clusters.",
	  "Options:\n"
	  "  --json   one JSON array\n" },
	{ "remove", cluster_remove, CMD_WRITES, "NAME", "Remove a cluster.", NULL },
	{ 0 },
};

const struct cmd cmd_cluster = { "cluster", "record the GPUs you already own", cluster_subs };
