/*
 * render_html.c - the report as one self-contained HTML file: inline CSS,
 * inline SVG charts (GPUs needed vs owned, cost, demand per quarter), no
 * scripts and no external assets. Every stored string is escaped, and any
 * byte that is not valid UTF-8 (the page declares UTF-8) becomes U+FFFD.
 */
#define _POSIX_C_SOURCE 200809L
#include "lib/escape.h"
#include "lib/util.h"
#include "reports/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char style[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;"
	"max-width:72rem;padding:0 1rem;color:#1d2430;line-height:1.45}"
	"h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;"
	"border-bottom:1px solid #d8dde6;padding-bottom:.2rem}"
	"h1,p,figcaption{overflow-wrap:anywhere}"
	"table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;display:block;overflow-x:auto}"
	"th,td{border:1px solid #d8dde6;padding:.25rem .5rem;text-align:left;vertical-align:top;"
	"white-space:nowrap}"
	"td.w{white-space:normal;min-width:20rem;max-width:40rem;overflow-wrap:anywhere}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f5f9}"
	"pre{background:#f3f5f9;padding:.6rem;overflow-x:auto;font-size:.8rem}"
	".meta{color:#5b6576;font-size:.85rem}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}"
	"figure{margin:0;max-width:360px}figcaption{font-size:.85rem;color:#5b6576}"
	".keys{font-size:.75rem}.key{display:inline-block;margin-right:.8rem}"
	".key i{display:inline-block;width:10px;height:10px;margin-right:.3rem}"
	"svg text{font-size:11px;fill:#1d2430}";

/* Chart geometry, in SVG user units (three charts side by side in 72rem). */
#define CW 360
#define CH 240
#define ML 56
#define MR 12
#define MT 14
#define MB 36

static const char *const palette[] = {
	"#3567b5", "#d9822b", "#3a9b6b", "#b53a5e", "#7a5bb5", "#5b8fa8", "#a88f2b",
};

/* The top of the y axis: four grid steps of 1, 2 or 5 x 10^k (whole GPUs stay whole). */
static double nice_max(double v)
{
	if (v <= 0)
		return 4;
	double step = v / 4;
	double mag = pow(10, floor(log10(step)));
	double f = step / mag;
	double n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return 4 * n * mag;
}

static void axis_label(char *buf, size_t n, double v)
{
	if (fabs(v) >= 1e6)
		snprintf(buf, n, "%.3gM", v / 1e6);
	else if (fabs(v) >= 1e3)
		snprintf(buf, n, "%.3gk", v / 1e3);
	else
		snprintf(buf, n, "%.3g", v);
}

/* Axes, four grid lines and the x labels (quarters). */
static void chart_frame(struct strbuf *out, const char *title, double ymax,
			const struct rsection *x, int nx)
{
	char buf[32];
	strbuf_addf(out, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		    "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", CW, CH, CW, CH);
	html_escape(out, title);
	strbuf_addstr(out, "\">");
	for (int i = 0; i <= 4; i++) {
		double y = MT + (CH - MT - MB) * (1 - i / 4.0);
		axis_label(buf, sizeof(buf), ymax * i / 4.0);
		strbuf_addf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d8dde6\"/>"
			    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
			    ML, CW - MR, y, y, ML - 6, y + 4, buf);
	}
	double slot = (double)(CW - ML - MR) / (nx ? nx : 1);
	for (int i = 0; i < nx; i++) {
		const struct rcell *q = rsection_cell(x, i, "quarter");
		strbuf_addf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			    ML + slot * (i + 0.5), CH - MB + 16);
		html_escape(out, q && q->text ? q->text : "");
		strbuf_addstr(out, "</text>");
	}
}

/* keys: an HTML legend under the chart (names of any length wrap there), or NULL. */
static void chart_end(struct strbuf *out, const char *keys, const char *caption)
{
	strbuf_addstr(out, "</svg>");
	if (keys)
		strbuf_addstr(out, keys);
	strbuf_addstr(out, "<figcaption>");
	html_escape(out, caption);
	strbuf_addstr(out, "</figcaption></figure>\n");
}

static double cell_num(const struct rsection *s, int row, const char *col)
{
	const struct rcell *c = rsection_cell(s, row, col);
	return c && c->type == 'n' ? c->num : 0;
}

/* Bars per quarter: one or two series side by side. */
static void bar_chart(struct strbuf *out, const struct rsection *s, const char *title,
		      const char *const *cols, const char *const *labels, int nseries)
{
	double ymax = 0;
	for (int r = 0; r < s->nrows; r++)
		for (int k = 0; k < nseries; k++)
			if (cell_num(s, r, cols[k]) > ymax)
				ymax = cell_num(s, r, cols[k]);
	ymax = nice_max(ymax);
	chart_frame(out, title, ymax, s, s->nrows);
	double slot = (double)(CW - ML - MR) / (s->nrows ? s->nrows : 1);
	double bw = slot * 0.7 / nseries;
	for (int r = 0; r < s->nrows; r++)
		for (int k = 0; k < nseries; k++) {
			double v = cell_num(s, r, cols[k]);
			double h = (CH - MT - MB) * v / ymax;
			double x = ML + slot * r + slot * 0.15 + bw * k;
			strbuf_addf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				    "height=\"%.1f\" fill=\"%s\"><title>%s: %.6g</title></rect>",
				    x, CH - MB - h, bw, h, palette[k], labels[k], v);
		}
	for (int k = 0; k < nseries; k++)
		strbuf_addf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			    "<text x=\"%d\" y=\"%d\">%s</text>",
			    ML + 8 + 130 * k, CH - 14, palette[k], ML + 22 + 130 * k, CH - 5, labels[k]);
	chart_end(out, NULL, title);
}

/*
 * Demand per quarter, one line per workload (summed over its pools), from
 * the demand section's rows.
 */
static void demand_chart(struct strbuf *out, const struct rsection *demand,
			 const struct rsection *quarters)
{
	int nq = quarters->nrows, nw = 0;
	const char *names[8];
	for (int r = 0; r < demand->nrows && nw < 8; r++) {
		const char *w = rsection_cell(demand, r, "workload")->text;
		int seen = 0;
		for (int k = 0; k < nw; k++)
			seen |= !strcmp(names[k], w);
		if (!seen)
			names[nw++] = w;
	}
	double *v = xcalloc((size_t)(nq * (nw ? nw : 1)), sizeof(double));
	double ymax = 0;
	for (int r = 0; r < demand->nrows; r++) {
		const char *w = rsection_cell(demand, r, "workload")->text;
		const char *q = rsection_cell(demand, r, "quarter")->text;
		for (int k = 0; k < nw; k++)
			for (int i = 0; i < nq; i++)
				if (!strcmp(names[k], w) &&
				    !strcmp(rsection_cell(quarters, i, "quarter")->text, q))
					v[k * nq + i] += cell_num(demand, r, "demand_rps");
	}
	for (int i = 0; i < nq * nw; i++)
		if (v[i] > ymax)
			ymax = v[i];
	ymax = nice_max(ymax);
	chart_frame(out, "Demand per quarter (requests/s)", ymax, quarters, nq);
	double slot = (double)(CW - ML - MR) / (nq ? nq : 1);
	struct strbuf keys = STRBUF_INIT;
	strbuf_addstr(&keys, "<div class=\"keys\">");
	for (int k = 0; k < nw; k++) {
		strbuf_addf(out, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
			    "stroke-width=\"2\" points=\"", palette[k % 7]);
		for (int i = 0; i < nq; i++)
			strbuf_addf(out, "%.1f,%.1f ", ML + slot * (i + 0.5),
				    CH - MB - (CH - MT - MB) * v[k * nq + i] / ymax);
		strbuf_addstr(out, "\"/>");
		strbuf_addf(&keys, "<span class=\"key\"><i style=\"background:%s\"></i>",
			    palette[k % 7]);
		html_escape(&keys, names[k]);
		strbuf_addstr(&keys, "</span>");
	}
	strbuf_addstr(&keys, "</div>");
	free(v);
	chart_end(out, keys.buf, "Demand per quarter, requests/s, growth applied");
	strbuf_release(&keys);
}

static void html_table(struct strbuf *out, const struct rsection *s)
{
	char buf[64];
	strbuf_addstr(out, "<table><thead><tr>");
	for (int c = 0; c < s->ncols; c++) {
		if (!strcmp(s->cols[c], "vllm_args"))
			continue;
		strbuf_addstr(out, "<th>");
		html_escape(out, s->cols[c]);
		strbuf_addstr(out, "</th>");
	}
	strbuf_addstr(out, "</tr></thead><tbody>\n");
	for (int r = 0; r < s->nrows; r++) {
		strbuf_addstr(out, "<tr>");
		for (int c = 0; c < s->ncols; c++) {
			const struct rcell *cell = &s->cells[(size_t)r * (size_t)s->ncols + (size_t)c];
			if (!strcmp(s->cols[c], "vllm_args"))
				continue;
			if (cell->type == 't') {
				/* Sentences wrap in a wide cell; ids and short text do not. */
				strbuf_addstr(out, strlen(cell->text) > 40 ? "<td class=\"w\">" : "<td>");
				html_escape(out, cell->text);
			} else {
				rcell_format(cell, buf, sizeof(buf));
				strbuf_addstr(out, "<td class=\"n\">");
				strbuf_addstr(out, buf);
			}
			strbuf_addstr(out, "</td>");
		}
		strbuf_addstr(out, "</tr>\n");
	}
	strbuf_addstr(out, "</tbody></table>\n");
	if (!s->nrows || !rsection_cell(s, 0, "vllm_args"))
		return;
	for (int r = 0; r < s->nrows; r++) {
		const struct rcell *a = rsection_cell(s, r, "vllm_args");
		if (a->type != 't')
			continue;
		strbuf_addstr(out, "<p>");
		html_escape(out, rcell_text(rsection_cell(s, r, "workload")));
		strbuf_addstr(out, " / ");
		html_escape(out, rcell_text(rsection_cell(s, r, "pool")));
		strbuf_addstr(out, ":</p><pre><code>");
		html_escape(out, a->text);
		strbuf_addstr(out, "</code></pre>\n");
	}
}

void render_html(const struct report *r, struct strbuf *out)
{
	strbuf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		      "<title>Quarterly capacity report: ");
	html_escape(out, r->scenario);
	strbuf_addf(out, "</title><style>%s</style></head><body>\n<h1>Quarterly capacity report: ",
		    style);
	html_escape(out, r->scenario);
	strbuf_addstr(out, "</h1>\n");
	if (r->description[0]) {
		strbuf_addstr(out, "<p>");
		html_escape(out, r->description);
		strbuf_addstr(out, "</p>\n");
	}
	strbuf_addf(out, "<p class=\"meta\">Run %lld at ", (long long)r->run_id);
	html_escape(out, r->started_at);
	strbuf_addstr(out, ", piqplan ");
	html_escape(out, r->version);
	strbuf_addf(out, "; %lld candidate configurations evaluated in %.1f ms; inputs SHA-256 "
		    "<code>%s</code>.</p>\n", (long long)r->candidates_evaluated, r->elapsed_ms,
		    r->inputs_sha256);

	const struct rsection *summary = report_section(r, "summary");
	const struct rsection *demand = report_section(r, "demand");
	strbuf_addstr(out, "<div class=\"charts\">\n");
	static const char *const gpu_cols[] = { "gpus_needed", "gpus_owned" };
	static const char *const gpu_labels[] = { "GPUs needed", "GPUs owned" };
	bar_chart(out, summary, "GPUs needed vs owned per quarter", gpu_cols, gpu_labels, 2);
	static const char *const cost_cols[] = { "cost_usd", "compute_floor_usd" };
	static const char *const cost_labels[] = { "cost (USD)", "compute floor" };
	bar_chart(out, summary, "Cost per quarter (USD) and the compute floor", cost_cols,
		  cost_labels, 2);
	demand_chart(out, demand, summary);
	strbuf_addstr(out, "</div>\n");

	for (int i = 0; i < r->nsections; i++) {
		const struct rsection *s = &r->sections[i];
		strbuf_addf(out, "<section id=\"%s\"><h2>", s->id);
		html_escape(out, s->title);
		strbuf_addstr(out, "</h2>\n");
		if (s->intro) {
			strbuf_addstr(out, "<p>");
			html_escape(out, s->intro);
			strbuf_addstr(out, "</p>\n");
		}
		if (!s->nrows)
			strbuf_addstr(out, "<p><em>None.</em></p>\n");
		else
			html_table(out, s);
		strbuf_addstr(out, "</section>\n");
	}
	strbuf_addstr(out, "</body></html>\n");
}
