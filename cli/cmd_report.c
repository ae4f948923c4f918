/*
 * cmd_report.c - `piqplan report quarterly|list`: render what a run stored
 * as a quarterly capacity report, keep the rendered body in the report
 * table, and write it to stdout or a file.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "lib/util.h"
#include "reports/report.h"
#include "schema/listings.h"
#include "schema/report_rows.h"
#include "schema/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_out(const char *path, const char *body, size_t len)
{
	if (!path || !strcmp(path, "-")) {
		fwrite(body, 1, len, stdout);
		return 0;
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return error("cannot write '%s': %s", path, strerror(errno));
	size_t n = fwrite(body, 1, len, f);
	int bad = n != len || ferror(f);
	if (fclose(f) != 0 || bad)
		return error("cannot write '%s': %s", path, strerror(errno));
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

	if (report_insert(ctx->db, run, report_format_name(f), body.buf) ||
	    write_out(output, body.buf, body.len))
		goto cleanup;
	if (output && strcmp(output, "-"))
		fprintf(stderr, "wrote %s (%zu bytes, %s) for run %lld of '%s'\n", output, body.len,
			report_format_name(f), (long long)run, pos[0]);
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
