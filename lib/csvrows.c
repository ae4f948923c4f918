/*
 * csvrows.c - see csvrows.h. libcsv hands us fields one by one; we gather
 * them into a record and count newlines ourselves to know line numbers.
 */
#define _POSIX_C_SOURCE 200809L
#include "lib/csvrows.h"
#include "lib/util.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csvrows {
	struct csv_parser parser;
	csvrow_fn fn;
	void *arg;
	char **fields;
	int nfields, alloc;
	long line;		/* physical line of the byte being fed (1-based) */
	long record_line;	/* line the current record started on */
	int in_record;
	int stop;		/* the callback's non-zero return */
	char error[160];
	long error_line;
};

static void on_field(void *data, size_t len, void *p)
{
	struct csvrows *r = p;
	if (r->stop)
		return;
	if (!r->in_record) {
		r->in_record = 1;
	}
	if (r->nfields == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 16;
		r->fields = xrealloc(r->fields, (size_t)r->alloc * sizeof(*r->fields));
	}
	r->fields[r->nfields++] = xstrndup(data ? data : "", len);
}

static void clear_fields(struct csvrows *r)
{
	for (int i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	r->nfields = 0;
	r->in_record = 0;
}

static void on_record(int c, void *p)
{
	struct csvrows *r = p;
	(void)c;
	if (!r->stop && r->nfields > 0)
		r->stop = r->fn(r->arg, r->fields, r->nfields, r->record_line);
	clear_fields(r);
}

struct csvrows *csvrows_new(csvrow_fn fn, void *arg)
{
	struct csvrows *r = xcalloc(1, sizeof(*r));
	if (csv_init(&r->parser, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0)
		die("cannot initialise the CSV parser");
	r->fn = fn;
	r->arg = arg;
	r->line = 1;
	r->record_line = 1;
	return r;
}

static int parse_error(struct csvrows *r)
{
	snprintf(r->error, sizeof(r->error), "malformed CSV (%s)",
		 csv_strerror(csv_error(&r->parser)));
	r->error_line = r->line;
	return -1;
}

/*
 * Feed line by line so we know which line a record starts on: libcsv calls
 * on_record when it sees the terminator of a record, and the next record
 * starts after it.
 */
int csvrows_feed(struct csvrows *r, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len && !r->stop) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
		if (!r->in_record && r->nfields == 0)
			r->record_line = r->line;
		if (csv_parse(&r->parser, data + off, n, on_field, on_record, r) != n)
			return parse_error(r);
		if (nl)
			r->line++;
		off += n;
	}
	return r->stop;
}

int csvrows_finish(struct csvrows *r)
{
	if (r->stop)
		return r->stop;
	if (csv_fini(&r->parser, on_field, on_record, r) != 0)
		return parse_error(r);
	return r->stop;
}

const char *csvrows_error(const struct csvrows *r)
{
	return r->error;
}

long csvrows_error_line(const struct csvrows *r)
{
	return r->error_line;
}

void csvrows_free(struct csvrows *r)
{
	if (!r)
		return;
	clear_fields(r);
	free(r->fields);
	csv_free(&r->parser);
	free(r);
}

int csvrows_parse(const char *data, size_t len, csvrow_fn fn, void *arg,
		  char *err, size_t errsz, long *err_line)
{
	struct csvrows *r = csvrows_new(fn, arg);
	int ret = csvrows_feed(r, data, len);
	if (ret == 0)
		ret = csvrows_finish(r);
	if (ret == -1) {
		snprintf(err, errsz, "%s", r->error);
		*err_line = r->error_line;
	}
	csvrows_free(r);
	return ret;
}

int csv_column(char **header, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(header[i], name))
			return i;
	return -1;
}
