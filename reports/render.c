/*
 * render.c - the report formats by name, and what every renderer shares:
 * how a cell reads, and the dispatch to the format's renderer.
 */
#define _POSIX_C_SOURCE 200809L
#include "reports/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int report_format_parse(const char *s, enum report_format *out)
{
	static const char *const names[] = { "md", "html", "csv", "json" };
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum report_format)i;
			return 0;
		}
	return -1;
}

const char *report_format_name(enum report_format f)
{
	static const char *const names[] = { "md", "html", "csv", "json" };
	return names[f];
}

const char *rcell_text(const struct rcell *c)
{
	return c && c->text ? c->text : "";
}

void rcell_format(const struct rcell *c, char *buf, size_t n)
{
	if (c->type == '-') {
		snprintf(buf, n, "%s", "");
		return;
	}
	if (c->type == 't') {
		snprintf(buf, n, "%s", c->text);
		return;
	}
	double v = c->num;
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, n, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, n, "%.1f", v);
	else
		snprintf(buf, n, "%.4g", v);
}

void report_render(const struct report *r, enum report_format f, struct strbuf *out)
{
	switch (f) {
	case REPORT_MD:
		render_md(r, out);
		break;
	case REPORT_HTML:
		render_html(r, out);
		break;
	case REPORT_CSV:
		render_csv(r, out);
		break;
	case REPORT_JSON:
		render_json(r, out);
		break;
	}
}
