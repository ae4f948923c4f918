/*
 * cmd_calibrate.c - `piqplan calibrate [FILE.csv]`: fit each engine's
 * profiles (engine x GPU vendor and family x model class, each shrunk
 * toward its parent) to the stored measurements, or to a calibration file's
 * rows, print the error before and after and the held-out error, and store
 * the profiles with their spread in the engine_profile table.
 *
 * A file is streamed and checked whole before anything is fitted: a
 * malformed row stops the command with FILE:LINE and the column (exit 65),
 * and nothing is written. A row naming a model, GPU or engine the catalog
 * does not have is skipped with a warning naming it.
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

static const char calibrate_usage[] =
	"[FILE.csv] [--engine NAME] [--dry-run] [--in-sample] [--validate] [--verbose] [--json]";

/* A file's rows (ingest/calibration_file.h) go to the calibration (run/calibrate.h). */
static int keep_row(void *arg, const struct calib_record *rec)
{
	struct calibration *cal = arg;
	if (strcmp(rec->mode, "standard") || rec->excluded[0]) {
		cal->read.skipped++;
		return 0;
	}
	return calib_rows_add(&cal->read, rec->model, rec->gpu, rec->engine, rec->source,
			      &rec->row);
}

static void add_opt_ms(cJSON *o, const char *name, double s)
{
	if (s > 0)
		cJSON_AddNumberToObject(o, name, round(s * 1e4) / 10);
	else
		cJSON_AddNullToObject(o, name);
}

static const char *load_name(enum calib_load l)
{
	return l == CALIB_OFFLINE ? "offline" : l == CALIB_CONCURRENCY ? "concurrency" : "rate";
}

static cJSON *rows_json(struct engine_fit *ef)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < ef->n; i++) {
		struct calib_row *r = &ef->rows[i];
		struct calib_pred pb, pa;
		cJSON *o = cJSON_CreateObject();
		calib_predict_engine(r, &ef->before, &pb);
		calib_predict_engine(r, &ef->after, &pa);
		cJSON_AddNumberToObject(o, "line", (double)r->line);
		cJSON_AddStringToObject(o, "model", ef->src[i]->model_id);
		cJSON_AddStringToObject(o, "gpu", r->gpu.id);
		cJSON_AddStringToObject(o, "arch", r->gpu.arch);
		cJSON_AddBoolToObject(o, "moe", r->model->experts > 0);
		cJSON_AddStringToObject(o, "source", ef->src[i]->source);
		cJSON_AddNumberToObject(o, "tp", r->layout.tp);
		cJSON_AddNumberToObject(o, "pp", r->layout.pp);
		cJSON_AddNumberToObject(o, "dp", r->layout.dp);
		cJSON_AddBoolToObject(o, "ep", r->layout.ep);
		cJSON_AddStringToObject(o, "precision", precision_name(r->layout.precision));
		cJSON_AddStringToObject(o, "load", load_name(r->load));
		cJSON_AddNumberToObject(o, "load_value", r->load_value);
		cJSON_AddNumberToObject(o, "isl", r->isl);
		cJSON_AddNumberToObject(o, "osl", r->osl);
		cJSON_AddNumberToObject(o, "output_tok_s", r->output_tok_s);
		add_opt_ms(o, "ttft_ms", r->ttft_s);
		add_opt_ms(o, "tpot_ms", r->tpot_s);
		cJSON_AddBoolToObject(o, "fits", pa.fits);
		if (!pa.fits)
			cJSON_AddStringToObject(o, "reason", r->inst.reason);
		cJSON_AddNumberToObject(o, "output_tok_s_before", round(pb.output_tok_s));
		cJSON_AddNumberToObject(o, "output_tok_s_after", round(pa.output_tok_s));
		add_opt_ms(o, "ttft_ms_before", pb.ttft_s);
		add_opt_ms(o, "ttft_ms_after", pa.ttft_s);
		add_opt_ms(o, "tpot_ms_before", pb.tpot_s);
		add_opt_ms(o, "tpot_ms_after", pa.tpot_s);
		if (ef->loso_pred) {
			cJSON_AddNumberToObject(o, "output_tok_s_loso", round(ef->loso_pred[i].output_tok_s));
			cJSON_AddNumberToObject(o, "output_tok_s_lofo", round(ef->lofo_pred[i].output_tok_s));
			add_opt_ms(o, "tpot_ms_loso", ef->loso_pred[i].tpot_s);
			add_opt_ms(o, "tpot_ms_lofo", ef->lofo_pred[i].tpot_s);
			add_opt_ms(o, "ttft_ms_loso", ef->loso_pred[i].ttft_s);
			add_opt_ms(o, "ttft_ms_lofo", ef->lofo_pred[i].ttft_s);
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* Held-out errors of the rows of one family ("" = all), from one cross-validation. */
static void held_out_error(const struct engine_fit *ef, const struct calib_pred *pred,
			   const char *family, struct calib_error *out)
{
	size_t cap = (size_t)(ef->n > 0 ? ef->n : 1);
	double *a = xcalloc(3 * cap, sizeof(double)), *b = a + cap, *c = b + cap;
	int na = 0, nb = 0, nc = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ef->n; i++) {
		const struct calib_row *r = &ef->rows[i];
		const struct calib_pred *p = &pred[i];
		if (family[0] && strcmp(r->gpu.arch, family))
			continue;
		out->rows++;
		if (!p->fits) {
			out->unfit++;
			continue;
		}
		a[na++] = 100 * fabs(p->output_tok_s - r->output_tok_s) / r->output_tok_s;
		if (r->ttft_s > 0 && p->ttft_s >= 0)
			b[nb++] = 100 * fabs(p->ttft_s - r->ttft_s) / r->ttft_s;
		if (r->tpot_s > 0)
			c[nc++] = 100 * fabs(p->tpot_s - r->tpot_s) / r->tpot_s;
	}
	calib_summarise(a, na, &out->tok_s);
	calib_summarise(b, nb, &out->ttft);
	calib_summarise(c, nc, &out->tpot);
	free(a);
}

/* The GPU families of an engine's rows, in order of appearance. */
static int families(const struct engine_fit *ef, const char *out[], int max)
{
	int k = 0;
	for (int i = 0; i < ef->n; i++) {
		int seen = 0;
		for (int j = 0; j < k && !seen; j++)
			seen = !strcmp(out[j], ef->rows[i].gpu.arch);
		if (!seen && k < max)
			out[k++] = ef->rows[i].gpu.arch;
	}
	return k;
}

static cJSON *validation_json(const struct engine_fit *ef)
{
	const char *fam[16];
	int nf = families(ef, fam, 16);
	cJSON *o = cJSON_CreateObject();
	const struct { const char *name; const struct calib_pred *pred; int folds; } cv[] = {
		{ "leave_one_source_out", ef->loso_pred, ef->nsources },
		{ "leave_one_family_out", ef->lofo_pred, ef->nfamilies },
	};
	for (int v = 0; v < 2; v++) {
		struct calib_error err;
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "folds", cv[v].folds);
		held_out_error(ef, cv[v].pred, "", &err);
		cJSON_AddItemToObject(c, "all", calib_error_json(&err));
		cJSON *by = cJSON_AddObjectToObject(c, "by_family");
		for (int f = 0; f < nf; f++) {
			held_out_error(ef, cv[v].pred, fam[f], &err);
			cJSON_AddItemToObject(by, fam[f][0] ? fam[f] : "unknown", calib_error_json(&err));
		}
		cJSON_AddItemToObject(o, cv[v].name, c);
	}
	return o;
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

static void print_rows(struct engine_fit *ef)
{
	tprintf("\n  %5s %-24s %-14s %-8s %-15s %9s %9s %9s %8s %8s %7s %7s\n", "row", "model",
	       "gpu", "layout", "load", "tok/s", "before", "after", "ttft", "after", "tpot",
	       "after");
	for (int i = 0; i < ef->n; i++) {
		struct calib_row *r = &ef->rows[i];
		struct calib_pred pb, pa;
		char layout[24], load[24], t1[16], t2[16], t3[16], t4[16];
		calib_predict_engine(r, &ef->before, &pb);
		calib_predict_engine(r, &ef->after, &pa);
		snprintf(layout, sizeof(layout), "%dx%d%s%s", r->layout.tp, r->layout.pp,
			 r->layout.dp > 1 ? "dp" : "", r->layout.ep ? "ep" : "");
		snprintf(load, sizeof(load), "%s %g", r->load == CALIB_OFFLINE ? "off" :
			 r->load == CALIB_CONCURRENCY ? "conc" : "rate", r->load_value);
		fmt_ms(t1, sizeof(t1), r->ttft_s);
		fmt_ms(t2, sizeof(t2), pa.fits ? pa.ttft_s : 0);
		snprintf(t3, sizeof(t3), r->tpot_s > 0 ? "%.1f" : "-", r->tpot_s * 1e3);
		snprintf(t4, sizeof(t4), "%.1f", pa.tpot_s * 1e3);
		tprintf("  %5ld %-24.24s %-14.14s %-8s %-15s %9.0f %9.0f %9.0f %8s %8s %7s %7s\n",
		       r->line, short_model(ef->src[i]->model_id), r->gpu.id, layout, load,
		       r->output_tok_s, pb.output_tok_s, pa.output_tok_s, t1, t2, t3, t4);
	}
}

static void print_profiles(const char *engine, const struct engine_profile *e)
{
	tprintf("  %-26s %4s %5s %5s %5s %5s %6s %8s %7s %7s %6s %6s %7s  %s\n", "profile",
	       "rows", "bw", "flops", "attn", "kv_bw", "moe_bw", "layer_us", "moe_us", "step_ms",
	       "seq_us", "req_ms", "ttft_ms", "measured/predicted p10..p90");
	for (int k = 0; k < e->nprofiles; k++) {
		const struct perf_profile *pr = &e->profiles[k];
		char name[64];
		perf_profile_name(engine, pr, name, sizeof(name));
		tprintf("  %-26.26s %4d %5.2f %5.2f %5.2f %5.2f %6.2f %8.1f %7.1f %7.2f %6.1f %6.2f "
		       "%7.1f  %.2f..%.2f%s\n", name, pr->rows, pr->p.bw_efficiency,
		       pr->p.flops_efficiency, pr->p.attn_efficiency, pr->p.kv_bw_efficiency,
		       pr->p.moe_bw_efficiency, pr->p.layer_latency_s * 1e6,
		       pr->p.moe_layer_latency_s * 1e6, pr->p.step_overhead_s * 1e3,
		       pr->p.seq_overhead_s * 1e6, pr->p.request_overhead_s * 1e3,
		       pr->p.ttft_latency_s * 1e3,
		       exp(-pr->log_p90), exp(-pr->log_p10),
		       pr->out_of_sample ? "" : " (in-sample)");
	}
}

static void print_held_out_line(const char *what, const struct calib_error *e)
{
	tprintf("  %-10s %4d  %7.1f%% %7.1f%%   %7.1f%% %7.1f%%   %7.1f%% %7.1f%%\n", what,
	       e->rows, e->tok_s.median_ape, e->tok_s.p90_ape, e->ttft.median_ape,
	       e->ttft.p90_ape, e->tpot.median_ape, e->tpot.p90_ape);
}

static void print_validation(const struct engine_fit *ef, int by_family)
{
	const char *fam[16];
	int nf = families(ef, fam, 16);
	const struct { const char *name; const struct calib_pred *pred; int folds; } cv[] = {
		{ "leave one source out", ef->loso_pred, ef->nsources },
		{ "leave one GPU family out", ef->lofo_pred, ef->nfamilies },
	};
	for (int v = 0; v < 2; v++) {
		struct calib_error err;
		tprintf("  held out, %s (%d folds): abs %% error median / p90\n", cv[v].name,
		       cv[v].folds);
		tprintf("  %-10s %4s  %17s   %17s   %17s\n", "family", "rows", "output tok/s", "TTFT",
		       "TPOT");
		held_out_error(ef, cv[v].pred, "", &err);
		print_held_out_line("all", &err);
		for (int f = 0; by_family && f < nf; f++) {
			held_out_error(ef, cv[v].pred, fam[f], &err);
			print_held_out_line(fam[f], &err);
		}
	}
}

static void print_fit(const char *engine, struct engine_fit *ef, int verbose, int dry_run,
		      int by_family)
{
	tprintf("engine %s: %d rows%s\n", engine, ef->n,
	       ef->err_after.unfit ? " (some layouts do not fit: see --verbose)" : "");
	print_profiles(engine, &ef->after);
	tprintf("  %-14s %4s  %9s %9s   %9s %9s\n", "abs % error", "n", "median", "p90",
	       "median", "p90");
	tprintf("  %-14s %4s  %19s   %19s\n", "", "", "before", dry_run ? "fitted" : "after");
	print_metric_line("output tok/s", &ef->err_before.tok_s, &ef->err_after.tok_s);
	print_metric_line("TTFT", &ef->err_before.ttft, &ef->err_after.ttft);
	print_metric_line("TPOT", &ef->err_before.tpot, &ef->err_after.tpot);
	if (ef->err_after.unfit)
		tprintf("  %d row(s) whose layout does not fit were scored as misses\n",
		       ef->err_after.unfit);
	if (ef->loso_pred)
		print_validation(ef, by_family);
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
		{ "in-sample", 0, OPT_FLAG, &req.in_sample, 0 },
		{ "validate", 0, OPT_FLAG, &req.validate, 0 },
		{ "verbose", 'v', OPT_FLAG, &verbose, 0 },
		{ "json", 0, OPT_FLAG, &json, 0 },
		OPT_END,
	};
	char *pos[1];
	struct calibration cal;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 1, &npos);
	if (parsed)
		return parsed;
	req.path = npos ? pos[0] : NULL;
	if (calibrate_begin(ctx->db, &req, &cal) ||
	    (req.path ? calib_file_read(req.path, keep_row, &cal, cal.sha256) :
			calibrate_load_store(ctx->db, &cal)) ||
	    calibrate_fit(ctx->db, &req, &cal)) {
		calibration_free(&cal);
		return -1;
	}
	struct engine_fit *fits = cal.fits;
	char **engines = cal.engines;
	int nengines = cal.nengines;
	if (json) {
		cJSON *out = cJSON_CreateObject();
		if (req.path) {
			cJSON_AddStringToObject(out, "file", req.path);
			cJSON_AddStringToObject(out, "sha256", cal.sha256);
		} else {
			cJSON_AddStringToObject(out, "file", "measurement");
		}
		cJSON_AddBoolToObject(out, "dry_run", req.dry_run);
		cJSON_AddNumberToObject(out, "rows_skipped", cal.read.skipped);
		cJSON *arr = cJSON_AddArrayToObject(out, "engines");
		for (int k = 0; k < nengines; k++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "engine", engines[k]);
			cJSON_AddNumberToObject(o, "rows", fits[k].n);
			cJSON *pa = cJSON_AddArrayToObject(o, "profiles");
			for (int p = 0; p < fits[k].after.nprofiles; p++)
				cJSON_AddItemToArray(pa, perf_profile_json(engines[k],
									   &fits[k].after.profiles[p]));
			cJSON_AddItemToObject(o, "error_before", calib_error_json(&fits[k].err_before));
			cJSON_AddItemToObject(o, "error_after", calib_error_json(&fits[k].err_after));
			if (fits[k].loso_pred)
				cJSON_AddItemToObject(o, "validation", validation_json(&fits[k]));
			cJSON_AddItemToObject(o, "rows_detail", rows_json(&fits[k]));
			cJSON_AddItemToArray(arr, o);
		}
		print_json(out);
	} else {
		for (int k = 0; k < nengines; k++)
			print_fit(engines[k], &fits[k], verbose, req.dry_run, req.validate);
		if (cal.read.skipped)
			tprintf("%d row(s) not fitted (a serving mode the model does not have yet, "
			       "excluded, or naming what the catalog lacks)\n", cal.read.skipped);
		if (req.dry_run)
			tprintf("dry run: nothing written\n");
		else
			tprintf("fitted profiles written to the engine_profile table (%d engine%s)\n",
			       nengines, nengines == 1 ? "" : "s");
	}
	calibration_free(&cal);
	return 0;
}

static const struct subcmd calibrate_subs[] = {
	{ NULL, calibrate_run, CMD_WRITES, calibrate_usage,
	  "Fit engine profiles to the stored measurements (or a file's rows).",
	  "Fits, for each engine, the step-time parameters -- bandwidth and FLOP\n"
	  "efficiency, the expert GEMMs' bandwidth efficiency, fixed latency per\n"
	  "layer and per MoE layer, overhead per step, per running sequence and per\n"
	  "request -- as a tree of profiles: the engine, each GPU vendor and family\n"
	  "(gpu.arch) with at least 3 rows, and dense/MoE children where both are\n"
	  "measured, each shrunk toward its parent. Minimises the squared log error\n"
	  "of output tokens/s, TPOT and TTFT. Prints the error before and after,\n"
	  "the error of held-out predictions (leave one source out, leave one GPU\n"
	  "family out) and stores each profile with the p10/p90 of its held-out\n"
	  "residuals: the band every prediction carries.\n"
	  "\n"
	  "Without FILE the rows are the measurement table's standard-mode rows\n"
	  "(`piqplan measurement list`). With FILE, that file's rows (the\n"
	  "calibration.csv format); a malformed row is an error (FILE:LINE, exit\n"
	  "65) and nothing is written. Rows naming a model, GPU or engine not in\n"
	  "the catalog are skipped with a warning.\n"
	  "\n"
	  "  --engine NAME   fit only this engine's rows\n"
	  "  -n, --dry-run   fit and report, write nothing\n"
	  "  --in-sample     skip the cross-validation (faster; spreads in-sample)\n"
	  "  --validate      print the held-out error per GPU family (scripts/validate)\n"
	  "  -v, --verbose   a row-by-row table of measured and predicted values\n"
	  "  --json          one object: per engine the profiles, the errors before,\n"
	  "                  after and held out, and every row\n" },
	{ 0 },
};

const struct cmd cmd_calibrate = { "calibrate",
				   "fit engine profiles to measured benchmarks",
				   calibrate_subs };
