/*
 * report.h - rendering the quarterly capacity report of one run from the
 * rows it stored (schema/report_rows.h loads them): Markdown,
 * self-contained HTML with inline SVG charts, long-form CSV
 * (section,row,column,value) or one JSON document. Every stored string is
 * escaped for the format it lands in (lib/escape.h).
 */
#ifndef PIQPLAN_REPORT_H
#define PIQPLAN_REPORT_H

#include <stddef.h>

#include "schema/report_rows.h"

struct strbuf;

enum report_format { REPORT_MD, REPORT_HTML, REPORT_CSV, REPORT_JSON };

/* Parse "md", "html", "csv", "json"; 0 or -1. */
int report_format_parse(const char *s, enum report_format *out);
const char *report_format_name(enum report_format f);

/* Render into out (appended). */
void report_render(const struct report *r, enum report_format f, struct strbuf *out);
void render_md(const struct report *r, struct strbuf *out);
void render_html(const struct report *r, struct strbuf *out);
void render_csv(const struct report *r, struct strbuf *out);
void render_json(const struct report *r, struct strbuf *out);

/* Text of a cell as the renderers show it: numbers rounded sensibly, "" for NULL. */
void rcell_format(const struct rcell *c, char *buf, size_t n);

/* A text cell's text, "" for NULL (a run stored before migration 006 has no pool workloads). */
const char *rcell_text(const struct rcell *c);

#endif
