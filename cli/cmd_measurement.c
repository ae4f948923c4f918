/*
 * cmd_measurement.c - `piqplan measurement add|import|list|remove`: the
 * store of measured benchmarks that `piqplan calibrate` fits the step-time
 * profiles to. `init` loads the published rows piqplan ships (origin seed);
 * these commands add and remove the user's own (origin user). A measurement
 * calibrates parameters; it never answers a query itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "ingest/calibration_file.h"
#include "lib/escape.h"
#include "lib/util.h"
#include "planner/model.h"
#include "schema/calibration.h"
#include "schema/listings.h"
#include "schema/lookup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const modes_help = "standard, mtp, spec, disagg or prefix-cache";

static int mode_valid(const char *m)
{
	static const char *const modes[] = { "standard", "mtp", "spec", "disagg", "prefix-cache" };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(m, modes[i]))
			return 1;
	return 0;
}

/* Warn when what a row names is not in the catalog: it is stored, but not fitted. */
static int warn_unknown(struct db *db, const char *where, const struct measurement *m)
{
	int known_m = model_exists(db, m->model), known_g = gpu_exists(db, m->gpu);
	int known_e = engine_exists(db, m->engine);
	if (known_m < 0 || known_g < 0 || known_e < 0)
		return -1;
	if (!known_m || !known_g || !known_e)
		warning("%s: unknown %s '%s': stored, but not fitted until the catalog has it",
			where, !known_e ? "engine" : !known_m ? "model" : "GPU",
			!known_e ? m->engine : !known_m ? m->model : m->gpu);
	return 0;
}

static int measurement_add(struct ctx *ctx, int argc, char **argv)
{
	const char *model = NULL, *gpu = NULL, *engine = "vllm", *precision = "native";
	const char *kv = "auto", *mode = "standard", *source = NULL, *notes = "";
	int64_t gpus = 0, tp = 1, pp = 1;
	double isl = 0, osl = 0, osl_max = 0, conc = 0, rate = 0, requests = 0, tok_s = 0;
	double ttft = 0, tpot = 0;
	int ep = 0, offline = 0, have_gpus = 0, have_conc = 0, have_rate = 0;
	const struct opt opts[] = {
		{ "model", 0, OPT_STRING, &model, 0 },
		{ "gpu", 0, OPT_STRING, &gpu, 0 },
		{ "engine", 0, OPT_STRING, &engine, 0 },
		{ "gpus", 0, OPT_INT, &gpus, &have_gpus },
		{ "tp", 0, OPT_INT, &tp, 0 },
		{ "pp", 0, OPT_INT, &pp, 0 },
		{ "ep", 0, OPT_FLAG, &ep, 0 },
		{ "precision", 0, OPT_STRING, &precision, 0 },
		{ "kv-dtype", 0, OPT_STRING, &kv, 0 },
		{ "isl", 0, OPT_DOUBLE, &isl, 0 },
		{ "osl", 0, OPT_DOUBLE, &osl, 0 },
		{ "osl-max", 0, OPT_DOUBLE, &osl_max, 0 },
		{ "offline", 0, OPT_FLAG, &offline, 0 },
		{ "requests", 0, OPT_DOUBLE, &requests, 0 },
		{ "concurrency", 0, OPT_DOUBLE, &conc, &have_conc },
		{ "rate", 0, OPT_DOUBLE, &rate, &have_rate },
		{ "output-tok-s", 0, OPT_DOUBLE, &tok_s, 0 },
		{ "ttft-ms", 0, OPT_DOUBLE, &ttft, 0 },
		{ "tpot-ms", 0, OPT_DOUBLE, &tpot, 0 },
		{ "mode", 0, OPT_STRING, &mode, 0 },
		{ "source", 0, OPT_STRING, &source, 0 },
		{ "notes", 0, OPT_STRING, &notes, 0 },
		OPT_END,
	};
	char *pos[1], *model_id = NULL, *gpu_id = NULL;
	enum precision prec;
	int npos, ret = -1;
	int64_t id = 0;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	if (!model || !gpu || !source || offline + have_conc + have_rate != 1)
		return usage_error(ctx);
	if (!source[0] || !(isl > 0) || !(osl > 0) || !(tok_s > 0) || tp < 1 || pp < 1 ||
	    ttft < 0 || tpot < 0 || (osl_max && osl_max < osl) || (have_conc && !(conc > 0)) ||
	    (have_rate && !(rate > 0)) || requests < 0) {
		error("--source, --isl, --osl and --output-tok-s are required and positive (and "
		      "--osl-max at least --osl)");
		return usage_error(ctx);
	}
	if (!have_gpus)
		gpus = tp * pp;
	if (gpus < 1 || gpus % (tp * pp)) {
		error("--gpus %lld: expected a multiple of tp x pp", (long long)gpus);
		return usage_error(ctx);
	}
	if (precision_parse(precision, &prec)) {
		error("unknown precision '%s' (native, bf16, fp8 or fp4)", precision);
		return usage_error(ctx);
	}
	if (strcmp(kv, "auto") && strcmp(kv, "fp8")) {
		error("unknown --kv-dtype '%s' (auto or fp8)", kv);
		return usage_error(ctx);
	}
	if (!mode_valid(mode)) {
		error("unknown --mode '%s' (%s)", mode, modes_help);
		return usage_error(ctx);
	}
	if (engine_exists(ctx->db, engine) <= 0)
		return error("unknown engine '%s'", engine);
	model_id = lookup_model(ctx->db, model);
	gpu_id = model_id ? lookup_gpu(ctx->db, gpu) : NULL;
	if (!model_id || !gpu_id)
		goto cleanup;
	struct measurement m = {
		.origin = "user", .model = model_id, .gpu = gpu_id, .engine = engine,
		.gpus = (int)gpus, .tp = (int)tp, .pp = (int)pp, .ep = ep,
		.precision = precision_name(prec), .kv_dtype = kv, .isl = isl, .osl = osl,
		.osl_max = osl_max,
		.load = offline ? "offline" : have_conc ? "concurrency" : "rate",
		.load_value = offline ? requests : have_conc ? conc : rate,
		.output_tok_s = tok_s, .ttft_ms = ttft, .tpot_ms = tpot, .mode = mode,
		.source = source, .notes = notes,
	};
	if (measurement_insert(ctx->db, &m, &id))
		goto cleanup;
	if (id)
		tprintf("measurement %lld: %s on %d x %s (%s), %.0f output tok/s\n",
		       (long long)id, model_id, m.gpus, gpu_id, engine, tok_s);
	else
		tprintf("already stored: the same measurement from the same source\n");
	ret = 0;
cleanup:
	free(model_id);
	free(gpu_id);
	return ret;
}

/* A file's checked rows into the store. */
struct import {
	struct db *db;
	const char *path;
	const char *source;		/* --source, for rows without a source column */
	int added, duplicates;
};

static const char *load_text(enum calib_load l)
{
	return l == CALIB_OFFLINE ? "offline" : l == CALIB_CONCURRENCY ? "concurrency" : "rate";
}

static int import_row(void *arg, const struct calib_record *rec)
{
	struct import *im = arg;
	const struct calib_row *r = &rec->row;
	const char *source = rec->source[0] ? rec->source : im->source;
	char where[300];
	int64_t id = 0;

	if (!source || !source[0])
		return data_error("%s:%ld: column source: expected where the numbers come from "
				  "(or give --source)", im->path, rec->line);
	struct measurement m = {
		.origin = "user", .model = rec->model, .gpu = rec->gpu, .engine = rec->engine,
		.gpus = r->layout.tp * r->layout.pp * r->layout.dp, .tp = r->layout.tp,
		.pp = r->layout.pp, .ep = r->layout.ep,
		.precision = precision_name(r->layout.precision), .kv_dtype = rec->kv_dtype,
		.isl = r->isl, .osl = r->osl, .osl_max = r->osl_max, .load = load_text(r->load),
		.load_value = r->load_value, .output_tok_s = r->output_tok_s,
		.ttft_ms = r->ttft_s * 1e3, .tpot_ms = r->tpot_s * 1e3, .mode = rec->mode,
		.excluded = rec->excluded, .source = source, .notes = rec->notes,
	};
	snprintf(where, sizeof(where), "%s:%ld", im->path, rec->line);
	if (warn_unknown(im->db, where, &m) || measurement_insert(im->db, &m, &id))
		return -1;
	im->added += id != 0;
	im->duplicates += id == 0;
	return 0;
}

static int measurement_import(struct ctx *ctx, int argc, char **argv)
{
	const char *source = NULL;
	const struct opt opts[] = { { "source", 0, OPT_STRING, &source, 0 }, OPT_END };
	char *pos[1], sha[65];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	struct import im = { ctx->db, pos[0], source, 0, 0 };
	if (calib_file_read(pos[0], import_row, &im, sha))
		return -1;
	tprintf("imported %d measurement%s from %s", im.added, im.added == 1 ? "" : "s", pos[0]);
	if (im.duplicates)
		tprintf(" (%d already stored)", im.duplicates);
	tprintf("\n");
	return 0;
}

static int measurement_list(struct ctx *ctx, int argc, char **argv)
{
	const char *engine = NULL, *gpu = NULL, *model = NULL;
	int json = 0;
	const struct opt opts[] = {
		{ "engine", 0, OPT_STRING, &engine, 0 },
		{ "gpu", 0, OPT_STRING, &gpu, 0 },
		{ "model", 0, OPT_STRING, &model, 0 },
		{ "json", 0, OPT_FLAG, &json, 0 },
		OPT_END,
	};
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(measurement_list_stmt(ctx->db, engine, gpu, model, json), json);
}

static int measurement_remove_cmd(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[1];
	int64_t id;
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (parse_int64(pos[0], &id) || id < 1) {
		error("measurement id '%s': expected a whole number >= 1", pos[0]);
		return usage_error(ctx);
	}
	if (measurement_remove(ctx->db, id))
		return -1;
	tprintf("removed measurement %lld\n", (long long)id);
	return 0;
}

static const struct subcmd measurement_subs[] = {
	{ "add", measurement_add, CMD_WRITES,
	  "--model ID --gpu ID [--engine E] [--gpus N] [--tp N] [--pp N] [--ep] [--precision P] "
	  "[--kv-dtype auto|fp8] --isl N --osl N [--osl-max N] (--offline [--requests N] | "
	  "--concurrency N | --rate R) --output-tok-s X [--ttft-ms X] [--tpot-ms X] [--mode M] "
	  "--source TEXT [--notes TEXT]",
	  "Record one measured benchmark of your own.",
	  "The row calibrates the step-time profiles at the next `piqplan calibrate`;\n"
	  "estimates never read it directly.\n"
	  "\n"
	  "Options:\n"
	  "  --model ID, --gpu ID    what ran (catalog ids or names: see model list, gpu list)\n"
	  "  --engine E              vllm (default), sglang or trtllm\n"
	  "  --gpus N                GPUs of the whole server (default tp x pp; more is DP)\n"
	  "  --tp N, --pp N, --ep    its layout\n"
	  "  --precision P           native (default), bf16, fp8 or fp4\n"
	  "  --kv-dtype auto|fp8     the KV cache (default auto: the model dtype)\n"
	  "  --isl N, --osl N        mean prompt and output tokens per request\n"
	  "  --osl-max N             each request's max_tokens when outputs stop at EOS below it\n"
	  "  --offline [--requests N] | --concurrency N | --rate R\n"
	  "                          how it was loaded: all at once, N clients, R requests/s\n"
	  "  --output-tok-s X        output tokens/s of the whole server (required)\n"
	  "  --ttft-ms X, --tpot-ms X   mean TTFT and TPOT, when measured\n"
	  "  --mode M                standard (default; the only mode fitted), mtp, spec,\n"
	  "                          disagg, prefix-cache\n"
	  "  --source TEXT           where the numbers come from (required)\n"
	  "  --notes TEXT            engine version, flags, conversions\n" },
	{ "import", measurement_import, CMD_WRITES, "FILE.csv [--source TEXT]",
	  "Import measured benchmarks from a CSV file.",
	  "The calibration.csv format: columns model, gpu, gpus, tp, pp, ep, precision,\n"
	  "engine, isl, osl, load, load_value, output_tok_s, ttft_ms, tpot_ms, and\n"
	  "optionally source, mode, excluded, notes, kv_dtype, osl_max. A row without a\n"
	  "source takes --source. One transaction: a malformed row (FILE:LINE, exit 65)\n"
	  "leaves the store as it was. Rows already stored are counted, not added again;\n"
	  "rows naming a model or GPU the catalog lacks are stored with a warning.\n" },
	{ "list", measurement_list, CMD_DB, "[--engine E] [--gpu ID] [--model ID] [--json]",
	  "List the stored measurements.",
	  "Shipped (seed) and your own (user) rows with their mode and source; rows whose\n"
	  "mode is not standard, or that name why they are excluded, are not fitted.\n"
	  "\n"
	  "  --engine E, --gpu ID, --model ID   only those (exact ids)\n"
	  "  --json                             one JSON array\n" },
	{ "remove", measurement_remove_cmd, CMD_WRITES, "ID", "Remove a measurement.", NULL },
	{ 0 },
};

const struct cmd cmd_measurement = { "measurement",
				     "the measured benchmarks calibration is fitted to",
				     measurement_subs };
