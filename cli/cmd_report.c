/*
 * cmd_report.c - `piqplan report quarterly|list`: render what a run stored
 * as a quarterly capacity report, keep the rendered body in the report
 * table, and write it to stdout or a file: a temporary file renamed into
 * place once the report row is committed, never the database itself.
 */
#define _XOPEN_SOURCE 700	/* realpath */
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/util.h"
#include "reports/report.h"
#include "schema/listings.h"
#include "schema/report_rows.h"
#include "schema/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The absolute path a file has, or would have once created: realpath() of
 * the file, else of its directory with the name appended. NULL when
 * neither resolves.
 */
static char *canonical_path(const char *path)
{
	char *real = realpath(path, NULL);
	if (real)
		return real;
	char *copy = xstrdup(path), *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : path;
	if (slash)
		*slash = '\0';
	char *rdir = realpath(dir, NULL);
	char *out = rdir ? xasprintf("%s/%s", rdir, base) : NULL;
	free(rdir);
	free(copy);
	return out;
}

/* 1 when the file at path starts as an SQLite database does. */
static int is_sqlite_file(const char *path)
{
	char head[16];
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return n == sizeof(head) && !memcmp(head, "SQLite format 3", 16);
}

/*
 * A report must never land on the database it was read from (or its -wal,
 * -shm or -journal file), nor on any other SQLite file: -o piqplan.db
 * would destroy what the report is about.
 */
static int check_output_path(const char *out, const char *db_path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char *target = canonical_path(out), *db = canonical_path(db_path);
	int ret = 0;
	for (size_t i = 0; target && db && i < ARRAY_SIZE(suffixes); i++) {
		char *name = xasprintf("%s%s", db, suffixes[i]);
		int same = !strcmp(target, name);
		free(name);
		if (same) {
			ret = error("refusing to write the report to '%s': it is the database%s",
				    out, i ? "'s own journal file" : " the report is read from");
			break;
		}
	}
	if (!ret && is_sqlite_file(out))
		ret = error("refusing to write the report over '%s': it is an SQLite database", out);
	free(target);
	free(db);
	return ret;
}

/* A report written to a temporary file beside its target, moved into place after COMMIT. */
struct pending_report {
	char *tmp, *path, *what;
};

static int finish_report(struct ctx *ctx, int committed)
{
	struct pending_report *p = ctx->finish_arg;
	int ret = 0;
	if (committed && rename(p->tmp, p->path) != 0)
		ret = error("cannot move the report into '%s': %s", p->path, strerror(errno));
	else if (committed) {
		fputs("wrote ", stderr);
		term_fputs(p->what, 0, stderr);
		fputc('\n', stderr);
	}
	if (!committed || ret)
		unlink(p->tmp);
	free(p->tmp);
	free(p->path);
	free(p->what);
	free(p);
	ctx->finish = NULL;
	ctx->finish_arg = NULL;
	return ret;
}

/*
 * Write body to a temporary file in path's directory; the dispatcher moves
 * it over path once the report row is committed (finish_report), so a
 * failure at any point leaves an existing file at path as it was.
 */
static int write_report_file(struct ctx *ctx, const char *path, const char *body, size_t len,
			     char *what)
{
	struct stat st;
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot write '%s': %s", path, strerror(errno));
		free(tmp);
		free(what);
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0666 & ~mask);
	FILE *f = fdopen(fd, "wb");
	int bad = !f || fwrite(body, 1, len, f) != len || ferror(f);
	if ((f ? fclose(f) : close(fd)) != 0 || bad) {
		error("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		free(what);
		return -1;
	}
	struct pending_report *p = xcalloc(1, sizeof(*p));
	p->tmp = tmp;
	p->path = xstrdup(path);
	p->what = what;
	ctx->finish = finish_report;
	ctx->finish_arg = p;
	return 0;
}

static int report_quarterly(struct ctx *ctx, int argc, char **argv)
{
	const char *format = "md", *output = NULL;
	int64_t run = 0;
	int have_run = 0;
	const struct opt opts[] = {
		{ "run", 0, OPT_INT, &run, &have_run },
		{ "format", 0, OPT_STRING, &format, 0 },
		{ "output", 'o', OPT_STRING, &output, 0 },
		OPT_END,
	};
	char *pos[1];
	int npos, ret = -1;
	enum report_format f;
	struct report rep;
	struct strbuf body = STRBUF_INIT;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (report_format_parse(format, &f)) {
		error("unknown format '%s' (expected md, html, csv or json)", format);
		return usage_error(ctx);
	}
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0)
		return -1;
	if (have_run ? scenario_has_run(ctx->db, sid, pos[0], run) : (run = scenario_latest_run(ctx->db, sid, pos[0])) < 0)
		return -1;
	if (report_load(ctx->db, run, &rep))
		return -1;
	report_render(&rep, f, &body);
	report_free(&rep);

	int to_file = output && strcmp(output, "-");
	if (to_file && check_output_path(output, ctx->db_path))
		goto cleanup;
	if (report_insert(ctx->db, run, report_format_name(f), body.buf))
		goto cleanup;
	if (!to_file)
		fwrite(body.buf, 1, body.len, stdout);
	else if (write_report_file(ctx, output, body.buf, body.len,
				   xasprintf("%s (%zu bytes, %s) for run %lld of '%s'", output, body.len,
					     report_format_name(f), (long long)run, pos[0])))
		goto cleanup;
	ret = 0;
cleanup:
	strbuf_release(&body);
	return ret;
}

static int report_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(report_list_stmt(ctx->db, json), json);
}

static const struct subcmd report_subs[] = {
	{ "quarterly", report_quarterly, CMD_WRITES,
	  "SCENARIO [--run ID] [--format md|html|csv|json] [-o FILE]",
	  "Render the quarterly capacity report of a scenario's run.",
	  "The report is rendered from the rows the run stored -- GPUs needed vs owned,\n"
	  "shortfall and order-by dates, demand, the chosen vLLM configuration per pool with\n"
	  "its command line, utilisation, cost (per quarter, per million tokens, and by\n"
	  "active parameters), risks, assumptions and the inputs' provenance -- and is kept\n"
	  "in the report table as well.\n"
	  "\n"
	  "Options:\n"
	  "  --run ID          a particular run (default: the scenario's latest)\n"
	  "  --format F        md (default), html (one self-contained file with SVG charts),\n"
	  "                    csv (long form: section,row,column,value), json (one document)\n"
	  "  -o, --output FILE write to FILE instead of stdout\n" },
	{ "list", report_list, CMD_DB, "[--json]", "List the reports rendered so far.",
	  "Options:\n  --json   one JSON array\n" },
	{ 0 },
};

const struct cmd cmd_report = { "report", "render quarterly capacity reports", report_subs };
