/*
 * table.c - see table.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/table.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct table {
	int ncols;
	const char *const *headers;
	char **cells;		/* row-major */
	size_t ncells, alloc;
};

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));
	t->ncols = ncols;
	t->headers = headers;
	return t;
}

/* A cell is kept terminal-safe: no control character reaches the screen, no line breaks a row. */
void table_cell(struct table *t, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	if (t->ncells == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 64;
		t->cells = xrealloc(t->cells, t->alloc * sizeof(*t->cells));
	}
	term_escape(&sb, text ? text : "", 0);
	t->cells[t->ncells++] = strbuf_detach(&sb);
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_cell(t, buf);
}

/* Display width: count UTF-8 lead bytes, not continuation bytes. */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void put_cell(FILE *out, const char *text, size_t w, int right, int last)
{
	size_t pad = w - width(text);
	if (right)
		fprintf(out, "%*s%s", (int)pad, "", text);
	else if (last)
		fputs(text, out);
	else
		fprintf(out, "%s%*s", text, (int)pad, "");
}

void table_print(struct table *t, FILE *out)
{
	size_t *w = xcalloc((size_t)t->ncols, sizeof(*w));
	for (int c = 0; c < t->ncols; c++) {
		const char *h = t->headers[c];
		w[c] = width(h[0] == '>' ? h + 1 : h);
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t cw = width(t->cells[i]);
		if (cw > w[i % (size_t)t->ncols])
			w[i % (size_t)t->ncols] = cw;
	}
	for (int c = 0; c < t->ncols; c++) {
		const char *h = t->headers[c];
		int right = h[0] == '>';
		put_cell(out, right ? h + 1 : h, w[c], right, c == t->ncols - 1);
		fputs(c == t->ncols - 1 ? "\n" : "  ", out);
	}
	for (size_t i = 0; i < t->ncells; i++) {
		int c = (int)(i % (size_t)t->ncols);
		put_cell(out, t->cells[i], w[c], t->headers[c][0] == '>', c == t->ncols - 1);
		fputs(c == t->ncols - 1 ? "\n" : "  ", out);
	}
	free(w);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
