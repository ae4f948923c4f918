/*
 * cmd_workload.c - `piqplan workload import|list|show|remove`: the traffic a
 * fleet serves, stored as a joint prompt x output histogram with arrival
 * rates. ingest/workload_file.c reads the file in one streaming pass;
 * schema/workload.c stores what it found inside the dispatcher's one
 * transaction, so a bad row or a failing database leaves nothing behind.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "ingest/workload_file.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/workload.h"
#include "schema/db.h"
#include "schema/listings.h"
#include "schema/lookup.h"
#include "schema/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char import_usage[] =
	"NAME FILE --model ID [--format auto|requests|buckets|prometheus|mooncake]\n"
	"       [--edges log2|N1,N2,...] [--window SECONDS] [--time-unit auto|s|ms|us|ns]\n"
	"       [--model-label LABEL] [--replace] [--description TEXT]";

/* Width of the longest bar of the text histograms, columns. */
#define BAR_COLUMNS 50

/* --- import ---------------------------------------------------------------- */

/* Progress on a terminal: "\rimporting FILE: 37% (91 MiB of 244 MiB)". */
struct progress {
	const char *name;
	int shown;		/* a line is on the terminal and must be cleared */
};

static void progress_show(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	const double mib = 1024.0 * 1024.0;
	fputs("\rimporting ", stderr);
	term_fputs(p->name, 0, stderr);
	if (total)
		fprintf(stderr, ": %d%% (%.0f MiB of %.0f MiB)",
			(int)(100.0 * (double)done / (double)total), (double)done / mib,
			(double)total / mib);
	else
		fprintf(stderr, ": %.0f MiB", (double)done / mib);
	p->shown = 1;
}

static void progress_clear(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = 0;
}

static int workload_import(struct ctx *ctx, int argc, char **argv)
{
	const char *model = NULL, *format = "auto", *edges_spec = NULL, *description = NULL;
	const char *time_unit = "auto", *model_label = NULL;
	double window_s = 0;
	int replace = 0, have_window = 0;
	const struct opt opts[] = {
		{ "model", 0, OPT_STRING, &model, 0 },
		{ "format", 0, OPT_STRING, &format, 0 },
		{ "edges", 0, OPT_STRING, &edges_spec, 0 },
		{ "window", 0, OPT_DOUBLE, &window_s, &have_window },
		{ "time-unit", 0, OPT_STRING, &time_unit, 0 },
		{ "model-label", 0, OPT_STRING, &model_label, 0 },
		{ "replace", 0, OPT_FLAG, &replace, 0 },
		{ "description", 0, OPT_STRING, &description, 0 },
		OPT_END,
	};
	struct ingest_opts io = INGEST_OPTS_INIT;
	struct workload_summary s;
	struct wl_edges edges;
	struct wl_hist *h = NULL;
	struct progress prog = { 0 };
	char *pos[2], *model_id = NULL, *edges_col = NULL, err[512];
	const char *why;
	int npos, r, ret = -1;
	int64_t old_id = 0;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 2, 2, &npos);
	if (parsed)
		return parsed;
	if (!model)
		return usage_error(ctx);
	const char *name = pos[0], *path = pos[1];
	if (!*name || strchr(name, ',')) {
		error("workload name '%s': expected a name, without ',' (scenarios list workloads "
		      "separated by commas)", name);
		return usage_error(ctx);
	}
	if (wl_format_parse(format, &io.format)) {
		error("unknown format '%s' (expected auto, requests, buckets, prometheus or mooncake)",
		      format);
		return usage_error(ctx);
	}
	if (edges_spec && !*edges_spec) {
		error("--edges '': expected log2 or a list N1,N2,... of token counts");
		return usage_error(ctx);
	}
	if (wl_edges_parse(edges_spec, &edges, &why)) {
		error("--edges '%s': %s", edges_spec, why);
		return usage_error(ctx);
	}
	if (have_window && !(window_s >= 1e-3 && window_s <= 1e7)) {
		error("--window %g: expected 0.001 to 10000000 seconds", window_s);
		return usage_error(ctx);
	}
	static const struct { const char *name; int64_t ns; } units[] = {
		{ "auto", 0 }, { "s", 1000000000 }, { "ms", 1000000 }, { "us", 1000 }, { "ns", 1 },
	};
	size_t u = 0;
	while (u < ARRAY_SIZE(units) && strcmp(time_unit, units[u].name))
		u++;
	if (u == ARRAY_SIZE(units)) {
		error("--time-unit '%s': expected auto, s, ms, us or ns", time_unit);
		return usage_error(ctx);
	}
	io.time_unit_ns = units[u].ns;
	io.edges = &edges;
	io.window_s = have_window ? window_s : 0;

	model_id = lookup_model(ctx->db, model);
	if (!model_id)
		goto cleanup;
	io.model = model_label ? model_label : model_id;	/* Prometheus: that model's rows only */
	r = workload_find(ctx->db, name, &old_id);
	if (r < 0)
		goto cleanup;
	if (r == 1 && !replace) {
		error("workload '%s' already exists (use --replace to overwrite it)", name);
		goto cleanup;
	}

	int is_stdin = !strcmp(path, "-");
	prog.name = is_stdin ? "<stdin>" : path;
	if (isatty(STDERR_FILENO)) {
		io.progress = progress_show;
		io.progress_ctx = &prog;
	}
	if (is_stdin) {
		struct stat sb;
		uint64_t size = !fstat(STDIN_FILENO, &sb) && S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
		r = ingest_stream(stdin, prog.name, size, &io, &s, &h, err, sizeof(err));
	} else {
		r = ingest_file(path, &io, &s, &h, err, sizeof(err));
	}
	progress_clear(&prog);
	switch (r) {
	case INGEST_OK:
		break;
	case INGEST_ERR_DATA:
		data_error("%s", err);
		goto cleanup;
	case INGEST_ERR_USAGE:
		error("%s", err);
		ret = usage_error(ctx);
		goto cleanup;
	default:
		error("%s", err);
		goto cleanup;
	}
	if (s.requests <= 0) {
		data_error("%s: expected at least one request, found none (every row counts 0)",
			   prog.name);
		goto cleanup;
	}

	edges_col = ingest_edges_text(&edges, edges_spec, s.format, h);
	struct workload_row w = { name, model_id, description, path, edges_col, &s };
	if (workload_store(ctx->db, old_id, &w, h))
		goto cleanup;

	tprintf("%s workload '%s': %lld requests (%s), mean prompt %.1f, mean output %.1f tokens",
	       old_id ? "replaced" : "imported", name, (long long)s.requests,
	       wl_format_name(s.format), s.prompt_tokens_mean, s.output_tokens_mean);
	if (isfinite(s.mean_rps))
		tprintf(", %.2f req/s mean", s.mean_rps);
	if (isfinite(s.peak_rps))
		tprintf(", %.2f peak", s.peak_rps);
	tprintf("\n");
	ret = 0;
cleanup:
	free(edges_col);
	wl_hist_free(h);
	free(model_id);
	return ret;
}

/* --- list ------------------------------------------------------------------ */

static int workload_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(workload_list_stmt(ctx->db, json), json);
}

/* --- show ------------------------------------------------------------------ */

/* Column index of `name` in the current row of st, or -1. */
static int col_of(struct stmt *st, const char *name)
{
	for (int i = 0, n = stmt_column_count(st); i < n; i++)
		if (!strcmp(stmt_column_name(st, i), name))
			return i;
	return -1;
}

/* The workload row as JSON: every column under its own name, model_id as "model". */
static cJSON *row_json(struct stmt *st)
{
	cJSON *o = row_object(st);
	cJSON *model = cJSON_DetachItemFromObjectCaseSensitive(o, "model_id");
	if (model)
		cJSON_AddItemToObject(o, "model", model);
	static const char *const flags[] = { "sums_estimated", "independent_marginals" };
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(o, flags[i]);
		if (v)
			cJSON_ReplaceItemInObjectCaseSensitive(o, flags[i],
							       cJSON_CreateBool(v->valuedouble != 0));
	}
	return o;
}

static void print_num(struct stmt *st, const char *col, const char *fmt)
{
	int i = col_of(st, col);
	if (i < 0 || stmt_is_null(st, i))
		tprintf("-");
	else
		tprintf(fmt, stmt_double(st, i));
}

static void print_tokens_line(struct stmt *st, const char *label, const char *axis)
{
	static const char *const qs[] = { "p50", "p90", "p99", "p999" };
	static const char *const qnames[] = { "p50", "p90", "p99", "p99.9" };
	char col[64];
	tprintf("%-18s", label);
	snprintf(col, sizeof(col), "%s_tokens_mean", axis);
	if (col_of(st, col) >= 0) {
		tprintf("mean ");
		print_num(st, col, "%.1f");
		tprintf(", ");
	}
	for (int i = 0; i < 4; i++) {
		snprintf(col, sizeof(col), "%s_tokens_%s", axis, qs[i]);
		tprintf("%s%s ", i ? ", " : "", qnames[i]);
		print_num(st, col, "%.0f");
	}
	tprintf("\n");
}

static void show_plain(struct stmt *w)
{
#define TEXT(c) stmt_text(w, col_of(w, c))
#define INT(c) ((long long)stmt_int64(w, col_of(w, c)))
	tprintf("%-18s%s\n", "name", TEXT("name"));
	tprintf("%-18s%s\n", "model", TEXT("model_id"));
	if (!stmt_is_null(w, col_of(w, "description")))
		tprintf("%-18s%s\n", "description", TEXT("description"));
	tprintf("%-18s%s (%lld bytes, sha256 %s)\n", "source", TEXT("source_file"),
	       INT("source_bytes"), TEXT("source_sha256"));
	tprintf("%-18s%s, edges %s\n", "format", TEXT("format"),
	       *TEXT("edges") ? TEXT("edges") : "-");
	tprintf("%-18s%s\n", "imported", TEXT("imported_at"));
	tprintf("%-18s%lld", "requests", INT("requests"));
	if (!stmt_is_null(w, col_of(w, "span_s"))) {
		tprintf(" over ");
		print_num(w, "span_s", "%.1f");
		tprintf(" s");
	}
	tprintf("\n%-18s", "arrival rate");
	print_num(w, "mean_rps", "%.2f");
	tprintf(" req/s mean, ");
	print_num(w, "peak_rps", "%.2f");
	tprintf(" req/s peak");
	if (!stmt_is_null(w, col_of(w, "peak_window_s"))) {
		tprintf(" (busiest ");
		print_num(w, "peak_window_s", "%g");
		tprintf(" s)");
	}
	if (!stmt_is_null(w, col_of(w, "rate_p99_rps"))) {
		tprintf("\n%-18s", "windowed rates");
		print_num(w, "rate_p50_rps", "%.2f");
		tprintf(" p50, ");
		print_num(w, "rate_p90_rps", "%.2f");
		tprintf(" p90, ");
		print_num(w, "rate_p99_rps", "%.2f");
		tprintf(" p99, ");
		print_num(w, "rate_p999_rps", "%.2f");
		tprintf(" p99.9 req/s, over ");
		print_num(w, "rate_windows", "%.0f");
		tprintf(" windows");
	}
	tprintf("\n%-18s%lld prompt, %lld output%s\n", "token sums", INT("prompt_tokens_sum"),
	       INT("output_tokens_sum"), INT("sums_estimated") ? " (estimated)" : " (exact)");
	print_tokens_line(w, "prompt tokens", "prompt");
	print_tokens_line(w, "output tokens", "output");
	print_tokens_line(w, "total tokens", "total");
	if (!stmt_is_null(w, col_of(w, "prefix_reuse_share"))) {
		tprintf("%-18s", "prefix reuse");
		tprintf("%.1f%% of prefix-cache blocks were seen before\n",
		       100.0 * stmt_double(w, col_of(w, "prefix_reuse_share")));
	}
	if (INT("independent_marginals"))
		tprintf("note: prompt and output lengths were measured separately; the joint\n"
		       "      histogram assumes they are independent.\n");
	if (INT("sums_estimated"))
		tprintf("note: token sums and means are estimated from bucket midpoints.\n");
#undef TEXT
#undef INT
}

static void bound_text(char *buf, size_t n, int64_t lo, int64_t hi)
{
	if (hi >= WL_TOKENS_END)
		snprintf(buf, n, "[%lld, inf)", (long long)lo);
	else
		snprintf(buf, n, "[%lld, %lld)", (long long)lo, (long long)hi);
}

/* One marginal as bars of '#': requests per (lo, hi) of one axis (output: 0 prompt, 1 output). */
static int show_histogram(struct db *db, int64_t id, const char *title, int output)
{
	struct stmt *st = workload_marginal_stmt(db, id, output);
	struct { int64_t lo, hi, requests; } *bar = NULL;
	int64_t max = 0, total = 0;
	int n = 0, alloc = 0, r;
	if (!st)
		return -1;
	while ((r = stmt_step(st)) == 1) {
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 32;
			bar = xrealloc(bar, (size_t)alloc * sizeof(*bar));
		}
		bar[n].lo = stmt_int64(st, 0);
		bar[n].hi = stmt_int64(st, 1);
		bar[n].requests = stmt_int64(st, 2);
		total += bar[n].requests;
		if (bar[n].requests > max)
			max = bar[n].requests;
		n++;
	}
	stmt_finalize(st);
	if (r < 0) {
		free(bar);
		return -1;
	}
	tprintf("\n%s:\n", title);
	for (int k = 0; k < n; k++) {
		char b[64];
		int64_t c = bar[k].requests;
		int width = max ? (int)((c * BAR_COLUMNS + max - 1) / max) : 0;
		bound_text(b, sizeof(b), bar[k].lo, bar[k].hi);
		tprintf("  %18s %9lld %5.1f%% ", b, (long long)c, total ? 100.0 * c / total : 0.0);
		for (int i = 0; i < width; i++)
			putchar('#');
		putchar('\n');
	}
	free(bar);
	return 0;
}

static cJSON *buckets_json(struct db *db, int64_t id)
{
	struct stmt *st = workload_buckets_stmt(db, id);
	cJSON *arr;
	int r;
	if (!st)
		return NULL;
	arr = cJSON_CreateArray();
	while ((r = stmt_step(st)) == 1)
		cJSON_AddItemToArray(arr, row_json(st));
	stmt_finalize(st);
	if (r < 0) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

static int workload_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, r, ret = -1;
	struct stmt *st = NULL;
	cJSON *o = NULL, *buckets;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	st = workload_show_stmt(ctx->db, pos[0]);
	if (!st)
		goto cleanup;
	r = stmt_step(st);
	if (r <= 0) {
		if (r == 0)
			error("unknown workload '%s'", pos[0]);
		goto cleanup;
	}
	int64_t id = stmt_int64(st, col_of(st, "id"));
	if (!json) {
		show_plain(st);
		if (show_histogram(ctx->db, id, "requests by prompt length (tokens)", 0) ||
		    show_histogram(ctx->db, id, "requests by output length (tokens)", 1))
			goto cleanup;
		ret = 0;
		goto cleanup;
	}
	o = row_json(st);
	buckets = buckets_json(ctx->db, id);
	if (!buckets)
		goto cleanup;
	cJSON_AddItemToObject(o, "buckets", buckets);
	print_json(o);
	o = NULL;
	ret = 0;
cleanup:
	cJSON_Delete(o);
	stmt_finalize(st);
	return ret;
}

/* --- remove ---------------------------------------------------------------- */

static int workload_remove_cmd(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (workload_remove(ctx->db, pos[0]))
		return -1;
	tprintf("removed workload '%s'\n", pos[0]);
	return 0;
}

static const struct subcmd workload_subs[] = {
	{ "import", workload_import, CMD_WRITES, import_usage,
	  "Import traffic as a joint prompt x output length histogram with arrival rates.",
	  "FILE is a request log, a ready histogram, a Prometheus export or a Mooncake\n"
	  "trace ('-' reads standard input); see README.md, section Workloads.\n"
	  "\n"
	  "Options:\n"
	  "  --model ID          the model this traffic is for (see 'piqplan model list')\n"
	  "  --format F          auto (default: from the header or first line), requests,\n"
	  "                      buckets, prometheus or mooncake\n"
	  "  --edges E           bins for requests and mooncake: log2 (default: 0, 1, 2, 4,\n"
	  "                      ... 2^23 tokens) or a list N1,N2,... of increasing counts\n"
	  "  --window SECONDS    peak rate = busiest window of this length (default 60)\n"
	  "  --time-unit U       what a numeric timestamp counts: s, ms, us or ns since the\n"
	  "                      epoch (or the trace's start); auto (default): the file's\n"
	  "                      first one decides by its size (up to 11 digits seconds, 12-14\n"
	  "                      ms, 15-17 us, more ns); Mooncake traces: ms\n"
	  "  --model-label LABEL Prometheus: keep the rows whose model column is LABEL\n"
	  "                      (default: the --model id, with or without its\n"
	  "                      organisation, in any case); other models are left out\n"
	  "  --replace           overwrite a workload of the same name (scenarios that use\n"
	  "                      it keep pointing at it)\n"
	  "  --description TEXT  a note stored with the workload\n"
	  "\n"
	  "A malformed row stops the import with FILE:LINE: column NAME: what was expected,\n"
	  "exit status 65, and the database unchanged.\n" },
	{ "list", workload_list, CMD_DB, "[--json]", "List the imported workloads.",
	  "Columns: requests, mean and peak requests/s, mean prompt and output tokens,\n"
	  "p99 of prompt+output tokens.\n"
	  "\n"
	  "Options:\n"
	  "  --json   one JSON array\n" },
	{ "show", workload_show, CMD_DB, "NAME [--json]",
	  "Show a workload's summary, percentiles and length histograms.",
	  "Options:\n"
	  "  --json   one JSON object: every stored figure (name, model, requests, mean_rps,\n"
	  "           peak_rps, prompt_tokens_mean, prompt_tokens_p50, ...) and buckets[]\n" },
	{ "remove", workload_remove_cmd, CMD_WRITES, "NAME",
	  "Remove a workload (not while a scenario uses it).", NULL },
	{ 0 },
};

const struct cmd cmd_workload = { "workload", "import and inspect traffic (length histograms)",
				  workload_subs };
