/*
 * report_rows.h - the rows the quarterly report of one run shows, read
 * from what that run stored (never by calling the planner), so a report
 * shows exactly what the run decided; and the rendered bodies kept in the
 * report table.
 *
 * A report is a list of sections; each section is a titled table read by
 * one SQL query over the run's rows (schema/report_rows.c lists them, in
 * the order the report shows them). The renderers in reports/ turn the
 * same sections into every format.
 */
#ifndef PIQPLAN_REPORT_ROWS_H
#define PIQPLAN_REPORT_ROWS_H

#include <stdint.h>

struct db;

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

/* Read everything the report shows for run_id. 0, or -1 after error(). */
int report_load(struct db *db, int64_t run_id, struct report *out);
void report_free(struct report *r);
/* The section with this id, or NULL. */
const struct rsection *report_section(const struct report *r, const char *id);
/* Cell (row, column name); NULL if the column does not exist. */
const struct rcell *rsection_cell(const struct rsection *s, int row, const char *col);

/* Keep a rendered quarterly report of run_id ("md", "html", "csv", "json"). 0, or -1 after error(). */
int report_insert(struct db *db, int64_t run_id, const char *format, const char *body);

#endif
