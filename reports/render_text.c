/*
 * render_text.c - the report as Markdown, as long-form CSV and as JSON.
 * Every stored string is escaped for the format it lands in: Markdown gets
 * HTML entities (Markdown passes raw HTML through) and escaped pipes; CSV
 * quotes every text cell and neutralises the ones a spreadsheet would take
 * for a formula; JSON is written by cJSON, with any byte that is not valid
 * UTF-8 replaced by U+FFFD so that the document parses whatever was stored.
 */
#define _POSIX_C_SOURCE 200809L
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "reports/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fenced code block whose fence is longer than any backtick run inside. */
static void md_code(struct strbuf *out, const char *text)
{
	int run = 0, longest = 0;
	for (const char *p = text; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	int fence = longest < 3 ? 3 : longest + 1;
	for (int i = 0; i < fence; i++)
		strbuf_addstr(out, "`");
	strbuf_addstr(out, "sh\n");
	term_escape(out, text, 0);	/* one line, no control characters */
	strbuf_addstr(out, "\n");
	for (int i = 0; i < fence; i++)
		strbuf_addstr(out, "`");
	strbuf_addstr(out, "\n");
}

static void md_cell(struct strbuf *out, const struct rcell *c)
{
	char buf[64];
	if (c->type == 't') {
		md_escape(out, c->text);
		return;
	}
	rcell_format(c, buf, sizeof(buf));
	strbuf_addstr(out, buf);
}

static int is_wide(const char *col)
{
	return !strcmp(col, "vllm_args");
}

static void md_section(struct strbuf *out, const struct rsection *s)
{
	strbuf_addstr(out, "\n## ");
	strbuf_addstr(out, s->title);
	strbuf_addstr(out, "\n\n");
	if (s->intro) {
		strbuf_addstr(out, s->intro);
		strbuf_addstr(out, "\n\n");
	}
	if (!s->nrows) {
		strbuf_addstr(out, "_None._\n");
		return;
	}
	if (!strcmp(s->id, "notes")) {
		for (int r = 0; r < s->nrows; r++) {
			strbuf_addstr(out, "- **");
			md_escape(out, rcell_text(rsection_cell(s, r, "kind")));
			strbuf_addstr(out, "**: ");
			md_escape(out, rcell_text(rsection_cell(s, r, "text")));
			strbuf_addstr(out, "\n");
		}
		return;
	}
	for (int c = 0; c < s->ncols; c++)
		if (!is_wide(s->cols[c]))
			strbuf_addf(out, "| %s ", s->cols[c]);
	strbuf_addstr(out, "|\n");
	for (int c = 0; c < s->ncols; c++)
		if (!is_wide(s->cols[c]))
			strbuf_addstr(out, "|---");
	strbuf_addstr(out, "|\n");
	for (int r = 0; r < s->nrows; r++) {
		for (int c = 0; c < s->ncols; c++) {
			if (is_wide(s->cols[c]))
				continue;
			strbuf_addstr(out, "| ");
			md_cell(out, &s->cells[(size_t)r * (size_t)s->ncols + (size_t)c]);
			strbuf_addstr(out, " ");
		}
		strbuf_addstr(out, "|\n");
	}
	/* Command lines go below the table, one block per row, copy-pasteable. */
	const struct rcell *probe = rsection_cell(s, 0, "vllm_args");
	if (!probe)
		return;
	for (int r = 0; r < s->nrows; r++) {
		const struct rcell *args = rsection_cell(s, r, "vllm_args");
		if (args->type != 't')
			continue;
		strbuf_addstr(out, "\n");
		md_escape(out, rcell_text(rsection_cell(s, r, "workload")));
		strbuf_addstr(out, " / ");
		md_escape(out, rcell_text(rsection_cell(s, r, "pool")));
		strbuf_addstr(out, ":\n\n");
		md_code(out, args->text);
	}
}

void render_md(const struct report *r, struct strbuf *out)
{
	strbuf_addstr(out, "# Quarterly capacity report: ");
	md_escape(out, r->scenario);
	strbuf_addstr(out, "\n\n");
	if (r->description[0]) {
		md_escape(out, r->description);
		strbuf_addstr(out, "\n\n");
	}
	strbuf_addf(out, "Run %lld of scenario ", (long long)r->run_id);
	md_escape(out, r->scenario);
	strbuf_addf(out, " at %s, piqplan %s; %lld candidate configurations evaluated in %.1f ms; "
		    "inputs SHA-256 `%s`.\n", r->started_at, r->version,
		    (long long)r->candidates_evaluated, r->elapsed_ms, r->inputs_sha256);
	for (int i = 0; i < r->nsections; i++)
		md_section(out, &r->sections[i]);
}

void render_csv(const struct report *r, struct strbuf *out)
{
	char buf[64];
	strbuf_addstr(out, "section,row,column,value\n");
	strbuf_addstr(out, "run,1,scenario,");
	csv_cell(out, r->scenario);
	strbuf_addstr(out, "\nrun,1,description,");
	csv_cell(out, r->description);
	strbuf_addf(out, "\nrun,1,run_id,%lld\nrun,1,started_at,", (long long)r->run_id);
	csv_cell(out, r->started_at);
	strbuf_addstr(out, "\nrun,1,piqplan_version,");
	csv_cell(out, r->version);
	strbuf_addf(out, "\nrun,1,inputs_sha256,%s\n", r->inputs_sha256);
	for (int i = 0; i < r->nsections; i++) {
		const struct rsection *s = &r->sections[i];
		for (int row = 0; row < s->nrows; row++)
			for (int c = 0; c < s->ncols; c++) {
				const struct rcell *cell = &s->cells[(size_t)row * (size_t)s->ncols + (size_t)c];
				strbuf_addf(out, "%s,%d,%s,", s->id, row + 1, s->cols[c]);
				if (cell->type == 't') {
					csv_cell(out, cell->text);
				} else if (cell->type == 'n') {
					fmt_shortest(buf, sizeof(buf), cell->num);	/* round-trips */
					strbuf_addstr(out, buf);
				}
				strbuf_addstr(out, "\n");
			}
	}
}

void render_json(const struct report *r, struct strbuf *out)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "report", "quarterly");
	cJSON_AddStringToObject(doc, "scenario", r->scenario);
	cJSON_AddStringToObject(doc, "description", r->description);
	cJSON *run = cJSON_AddObjectToObject(doc, "run");
	cJSON_AddNumberToObject(run, "id", (double)r->run_id);
	cJSON_AddStringToObject(run, "started_at", r->started_at);
	cJSON_AddStringToObject(run, "piqplan_version", r->version);
	cJSON_AddStringToObject(run, "inputs_sha256", r->inputs_sha256);
	cJSON_AddNumberToObject(run, "candidates_evaluated", (double)r->candidates_evaluated);
	cJSON_AddNumberToObject(run, "elapsed_ms", r->elapsed_ms);
	for (int i = 0; i < r->nsections; i++) {
		const struct rsection *s = &r->sections[i];
		cJSON *sec = cJSON_AddObjectToObject(doc, s->id);
		cJSON_AddStringToObject(sec, "title", s->title);
		cJSON *rows = cJSON_AddArrayToObject(sec, "rows");
		for (int row = 0; row < s->nrows; row++) {
			cJSON *o = cJSON_CreateObject();
			for (int c = 0; c < s->ncols; c++) {
				const struct rcell *cell = &s->cells[(size_t)row * (size_t)s->ncols + (size_t)c];
				if (cell->type == 't')
					cJSON_AddStringToObject(o, s->cols[c], cell->text);
				else if (cell->type == 'n')
					cJSON_AddNumberToObject(o, s->cols[c], cell->num);
				else
					cJSON_AddNullToObject(o, s->cols[c]);
			}
			cJSON_AddItemToArray(rows, o);
		}
	}
	char *text = json_print(doc);
	if (!text)
		die("out of memory rendering JSON");
	strbuf_addstr(out, text);
	strbuf_addstr(out, "\n");
	free(text);
	cJSON_Delete(doc);
}
