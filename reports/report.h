/*
 * report.h - the quarterly capacity report of one run, rendered from the
 * rows that run stored (never by calling the planner), so a report shows
 * exactly what the run decided.
 *
 * A report is a list of sections; each section is a titled table read by
 * one SQL query over the run's rows. The renderers turn the same sections
 * into Markdown, self-contained HTML with inline SVG charts, long-form CSV
 * (section,row,column,value) or one JSON document.
 */
#ifndef PIQPLAN_REPORT_H
#define PIQPLAN_REPORT_H

#include <stdint.h>

#include "lib/util.h"

struct db;

enum report_format { REPORT_MD, REPORT_HTML, REPORT_CSV, REPORT_JSON };

/* One cell: a number, a text, or nothing (NULL). */
struct rcell {
	char type;		/* 'n' number, 't' text, '-' null */
	double num;
	char *text;		/* type 't' (also set for numbers: their SQL text) */
};

struct rsection {
	const char *id;		/* "capacity": JSON key, CSV section name */
	const char *title;
	const char *intro;	/* a sentence under the title, may be NULL */
	int ncols;
	char **cols;		/* column names */
	int nrows;
	struct rcell *cells;	/* row-major, nrows x ncols */
};

struct report {
	int64_t run_id;
	char *scenario, *description, *started_at, *version, *inputs_sha256;
	int64_t candidates_evaluated;
	double elapsed_ms;
	int nsections;
	struct rsection *sections;
};

/* Parse "md", "html", "csv", "json"; 0 or -1. */
int report_format_parse(const char *s, enum report_format *out);
const char *report_format_name(enum report_format f);

/* Read everything the report shows for run_id. 0, or -1 after error(). */
int report_load(struct db *db, int64_t run_id, struct report *out);
void report_free(struct report *r);
/* The section with this id, or NULL. */
const struct rsection *report_section(const struct report *r, const char *id);
/* Cell (row, column name); NULL if the column does not exist. */
const struct rcell *rsection_cell(const struct rsection *s, int row, const char *col);

/* Render into out (appended). */
void report_render(const struct report *r, enum report_format f, struct strbuf *out);
void render_md(const struct report *r, struct strbuf *out);
void render_html(const struct report *r, struct strbuf *out);
void render_csv(const struct report *r, struct strbuf *out);
void render_json(const struct report *r, struct strbuf *out);

/* Text of a cell as the renderers show it: numbers rounded sensibly, "" for NULL. */
void rcell_format(const struct rcell *c, char *buf, size_t n);

#endif
