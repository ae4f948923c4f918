/*
 * cmd_calibrate.c - `piqplan calibrate FILE.csv`: fit each engine
 * profile's efficiencies to measured benchmark rows (the format of
 * shared/data/benchmarks/calibration.csv), print the error before and
 * after, and store the fitted values in the engine table.
 *
 * The file is streamed and checked whole before anything is fitted: a
 * malformed row stops the command with FILE:LINE and the column (exit 65),
 * and nothing is written. A row naming a model, GPU or engine the catalog
 * does not have is skipped with a warning naming it, so one file of
 * measurements can carry rows for models a database has not added.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/opts.h"
#include "ingest/calibration_file.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/calibrate.h"
#include "planner/model.h"
#include "run/calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char calibrate_usage[] = "FILE.csv [--engine NAME] [--dry-run] [--verbose] [--json]";

/* The reader's rows (ingest/calibration_file.h) go to the calibration (run/calibrate.h). */
static int keep_row(void *arg, const struct calib_record *rec)
{
	return calib_rows_add(arg, rec->model, rec->gpu, rec->engine, &rec->row);
}

static void add_opt_ms(cJSON *o, const char *name, double s)
{
	if (s > 0)
		cJSON_AddNumberToObject(o, name, round(s * 1e4) / 10);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *rows_json(const struct engine_fit *ef)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < ef->n; i++) {
		const struct calib_row *r = &ef->rows[i];
		struct calib_pred pb, pa;
		cJSON *o = cJSON_CreateObject();
		calib_predict(r, &ef->before, &pb);
		calib_predict(r, &ef->after, &pa);
		cJSON_AddNumberToObject(o, "line", (double)r->line);
		cJSON_AddStringToObject(o, "model", ef->src[i]->model_id);
		cJSON_AddStringToObject(o, "gpu", r->gpu.id);
		cJSON_AddNumberToObject(o, "tp", r->layout.tp);
		cJSON_AddNumberToObject(o, "pp", r->layout.pp);
		cJSON_AddNumberToObject(o, "dp", r->layout.dp);
		cJSON_AddBoolToObject(o, "ep", r->layout.ep);
		cJSON_AddStringToObject(o, "precision", precision_name(r->layout.precision));
		cJSON_AddStringToObject(o, "load", r->load == CALIB_OFFLINE ? "offline" :
					r->load == CALIB_CONCURRENCY ? "concurrency" : "rate");
		cJSON_AddNumberToObject(o, "load_value", r->load_value);
		cJSON_AddNumberToObject(o, "isl", r->isl);
		cJSON_AddNumberToObject(o, "osl", r->osl);
		cJSON_AddNumberToObject(o, "output_tok_s", r->output_tok_s);
		add_opt_ms(o, "ttft_ms", r->ttft_s);
		add_opt_ms(o, "tpot_ms", r->tpot_s);
		cJSON_AddBoolToObject(o, "fits", pa.fits);
		cJSON_AddNumberToObject(o, "output_tok_s_before", round(pb.output_tok_s));
		cJSON_AddNumberToObject(o, "output_tok_s_after", round(pa.output_tok_s));
		add_opt_ms(o, "ttft_ms_before", pb.ttft_s);
		add_opt_ms(o, "ttft_ms_after", pa.ttft_s);
		add_opt_ms(o, "tpot_ms_before", pb.tpot_s);
		add_opt_ms(o, "tpot_ms_after", pa.tpot_s);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static void print_metric_line(const char *name, const struct calib_metric *b,
			      const struct calib_metric *a)
{
	if (b->n == 0 && a->n == 0) {
		tprintf("  %-14s %4s  (not measured)\n", name, "0");
		return;
	}
	tprintf("  %-14s %4d  %8.1f%% %8.1f%%   %8.1f%% %8.1f%%\n", name, a->n, b->median_ape,
	       b->p90_ape, a->median_ape, a->p90_ape);
}

static const char *short_model(const char *id)
{
	const char *s = strchr(id, '/');
	return s ? s + 1 : id;
}

static void fmt_ms(char *buf, size_t n, double s)
{
	if (s > 0)
		snprintf(buf, n, "%.0f", s * 1e3);
	else if (s < 0)
		snprintf(buf, n, "inf");
	else
		snprintf(buf, n, "-");
}

static void print_rows(const struct engine_fit *ef)
{
	tprintf("\n  %5s %-28s %-8s %-15s %9s %9s %9s %8s %8s %7s %7s\n", "line", "model",
	       "layout", "load", "tok/s", "before", "after", "ttft", "after", "tpot", "after");
	for (int i = 0; i < ef->n; i++) {
		const struct calib_row *r = &ef->rows[i];
		struct calib_pred pb, pa;
		char layout[24], load[24], t1[16], t2[16], t3[16], t4[16];
		calib_predict(r, &ef->before, &pb);
		calib_predict(r, &ef->after, &pa);
		snprintf(layout, sizeof(layout), "%dx%d%s%s", r->layout.tp, r->layout.pp,
			 r->layout.dp > 1 ? "dp" : "", r->layout.ep ? "ep" : "");
		snprintf(load, sizeof(load), "%s %g", r->load == CALIB_OFFLINE ? "off" :
			 r->load == CALIB_CONCURRENCY ? "conc" : "rate", r->load_value);
		fmt_ms(t1, sizeof(t1), r->ttft_s);
		fmt_ms(t2, sizeof(t2), pa.fits ? pa.ttft_s : 0);
		snprintf(t3, sizeof(t3), r->tpot_s > 0 ? "%.1f" : "-", r->tpot_s * 1e3);
		snprintf(t4, sizeof(t4), "%.1f", pa.tpot_s * 1e3);
		tprintf("  %5ld %-28.28s %-8s %-15s %9.0f %9.0f %9.0f %8s %8s %7s %7s\n", r->line,
		       short_model(ef->src[i]->model_id), layout, load, r->output_tok_s,
		       pb.output_tok_s, pa.output_tok_s, t1, t2, t3, t4);
	}
}

static void print_fit(const char *engine, const struct engine_fit *ef, int verbose,
		      int dry_run)
{
	tprintf("engine %s: %d rows%s\n", engine, ef->n,
	       ef->err_before.unfit ? " (some layouts do not fit: see --verbose)" : "");
	tprintf("  %-28s %10s %10s\n", "parameter", "before", "after");
	for (int p = 0; p < CALIB_NPARAMS; p++)
		tprintf("  %-28s %10.4g %10.4g%s\n", calib_param_name(p),
		       calib_param_get(&ef->before, p), calib_param_get(&ef->after, p),
		       (ef->params >> p) & 1 ? "" : "  (not fitted)");
	tprintf("  %-14s %4s  %9s %9s   %9s %9s\n", "abs % error", "n", "median", "p90",
	       "median", "p90");
	tprintf("  %-14s %4s  %19s   %19s\n", "", "", "before", dry_run ? "fitted" : "after");
	print_metric_line("output tok/s", &ef->err_before.tok_s, &ef->err_after.tok_s);
	print_metric_line("TTFT", &ef->err_before.ttft, &ef->err_after.ttft);
	print_metric_line("TPOT", &ef->err_before.tpot, &ef->err_after.tpot);
	if (ef->err_after.unfit)
		tprintf("  %d row(s) whose layout does not fit were scored as misses\n",
		       ef->err_after.unfit);
	if (verbose)
		print_rows(ef);
	tprintf("\n");
}

static int calibrate_run(struct ctx *ctx, int argc, char **argv)
{
	struct calibration_request req = { 0 };
	int json = 0, verbose = 0, npos;
	const struct opt opts[] = {
		{ "engine", 0, OPT_STRING, &req.engine, 0 },
		{ "dry-run", 'n', OPT_FLAG, &req.dry_run, 0 },
		{ "verbose", 'v', OPT_FLAG, &verbose, 0 },
		{ "json", 0, OPT_FLAG, &json, 0 },
		OPT_END,
	};
	char *pos[1];
	struct calibration cal;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	req.path = pos[0];
	if (calibrate_begin(ctx->db, &req, &cal) ||
	    calib_file_read(req.path, keep_row, &cal.read, cal.sha256) ||
	    calibrate_fit(ctx->db, &req, &cal)) {
		calibration_free(&cal);
		return -1;
	}
	struct engine_fit *fits = cal.fits;
	char **engines = cal.engines;
	int nengines = cal.nengines;
	if (json) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "file", req.path);
		cJSON_AddStringToObject(out, "sha256", cal.sha256);
		cJSON_AddBoolToObject(out, "dry_run", req.dry_run);
		cJSON_AddNumberToObject(out, "rows_skipped", cal.read.skipped);
		cJSON *arr = cJSON_AddArrayToObject(out, "engines");
		for (int k = 0; k < nengines; k++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "engine", engines[k]);
			cJSON_AddNumberToObject(o, "rows", fits[k].n);
			cJSON_AddItemToObject(o, "params", engine_fit_params_json(&fits[k]));
			cJSON_AddItemToObject(o, "error_before", calib_error_json(&fits[k].err_before));
			cJSON_AddItemToObject(o, "error_after", calib_error_json(&fits[k].err_after));
			cJSON_AddItemToObject(o, "rows_detail", rows_json(&fits[k]));
			cJSON_AddItemToArray(arr, o);
		}
		print_json(out);
	} else {
		for (int k = 0; k < nengines; k++)
			print_fit(engines[k], &fits[k], verbose, req.dry_run);
		if (req.dry_run)
			tprintf("dry run: nothing written\n");
		else
			tprintf("fitted values written to the engine table (%d engine%s)\n",
			       nengines, nengines == 1 ? "" : "s");
	}
	calibration_free(&cal);
	return 0;
}

static const struct subcmd calibrate_subs[] = {
	{ NULL, calibrate_run, CMD_WRITES, calibrate_usage,
	  "Fit engine profiles' efficiencies to measured throughput and latency.",
	  "Reads measured rows in the calibration.csv format (columns model, gpu,\n"
	  "gpus, tp, pp, ep, precision, engine, isl, osl, load, load_value,\n"
	  "output_tok_s, ttft_ms, tpot_ms; load is offline, concurrency or rate) and,\n"
	  "for each engine in the file, fits bw_efficiency, flops_efficiency,\n"
	  "step_overhead_ms and, when MoE models were measured,\n"
	  "moe_efficiency_floor and moe_tokens_per_expert_half: one set of values\n"
	  "per engine for all its rows, minimising the mean squared log error of\n"
	  "the predicted output tokens/s, TPOT and TTFT. Prints the median and p90\n"
	  "absolute percentage error before and after, and stores the fitted values\n"
	  "in the engine table (one transaction, with when and from what file).\n"
	  "\n"
	  "A malformed row is an error (FILE:LINE, exit 65) and nothing is written.\n"
	  "Rows naming a model, GPU or engine not in the catalog are skipped with a\n"
	  "warning.\n"
	  "\n"
	  "  --engine NAME   fit only this engine's rows\n"
	  "  -n, --dry-run   fit and report, write nothing\n"
	  "  -v, --verbose   a row-by-row table of measured and predicted values\n"
	  "  --json          one object: per engine the parameters before and after,\n"
	  "                  the errors before and after and every row\n" },
	{ 0 },
};

const struct cmd cmd_calibrate = { "calibrate",
				   "fit engine profiles to measured benchmarks",
				   calibrate_subs };
