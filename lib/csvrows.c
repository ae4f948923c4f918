/*
 * csvrows.c - see csvrows.h. libcsv hands us fields one by one; we keep
 * them in one buffer (one allocation per record at most, none once it is
 * large enough), hand them over as a record, and feed libcsv line by line
 * to know where each record starts.
 */
#define _POSIX_C_SOURCE 200809L
#include "lib/csvrows.h"
#include "lib/util.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcsv's parser state between records (csv.c's ROW_NOT_BEGUN). */
#define CSV_ROW_NOT_BEGUN 0

struct csvrows {
	struct csv_parser parser;
	csvrow_fn fn;
	void *arg;
	struct strbuf text;	/* the kept fields of the current record, each NUL-terminated */
	size_t *off;		/* where each kept field starts in text */
	char **fields;		/* handed to fn: text + off[i] */
	int kept, alloc;	/* kept fields; capacity of off and fields */
	int nfields;		/* fields of the current record, kept or not */
	int max_fields;		/* 0: keep every field */
	int pending_cr;		/* the last feed ended in a CR: a line end unless a LF follows */
	size_t max_record;	/* bytes of one record; 0: no limit */
	size_t record_bytes;	/* fed since the current record began */
	int too_long;
	long line;		/* physical line of the byte being fed (1-based) */
	long record_line;	/* line the current record started on */
	int stop;		/* the callback's non-zero return */
	char error[160];
	char detail[120];
	long error_line;
};

static void on_field(void *data, size_t len, void *p)
{
	struct csvrows *r = p;
	if (r->stop)
		return;
	if (!r->max_fields || r->nfields < r->max_fields) {
		if (r->kept == r->alloc) {
			r->alloc = r->alloc ? 2 * r->alloc : 16;
			r->off = xrealloc(r->off, (size_t)r->alloc * sizeof(*r->off));
			r->fields = xrealloc(r->fields, (size_t)r->alloc * sizeof(*r->fields));
		}
		r->off[r->kept++] = r->text.len;
		strbuf_add(&r->text, data ? data : "", data ? len : 0);
		strbuf_add(&r->text, "", 1);
	}
	r->nfields++;
}

static void clear_fields(struct csvrows *r)
{
	r->nfields = 0;
	r->kept = 0;
	r->text.len = 0;
}

static void on_record(int c, void *p)
{
	struct csvrows *r = p;
	(void)c;
	if (!r->stop && r->nfields > 0) {
		for (int i = 0; i < r->kept; i++)
			r->fields[i] = r->text.buf + r->off[i];
		r->stop = r->fn(r->arg, r->fields, r->nfields, r->record_line);
	}
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

void csvrows_set_max_fields(struct csvrows *r, int max)
{
	r->max_fields = max > 0 ? max : 0;
}

void csvrows_set_max_record_bytes(struct csvrows *r, size_t max)
{
	r->max_record = max;
}

int csvrows_too_long(const struct csvrows *r)
{
	return r->too_long;
}

void csvrows_set_strict_end(struct csvrows *r)
{
	csv_set_opts(&r->parser, (unsigned char)(csv_get_opts(&r->parser) | CSV_STRICT_FINI));
}

void csvrows_set_line(struct csvrows *r, long line)
{
	r->line = line;
	r->pending_cr = 0;	/* the caller counts lines now */
	if (r->parser.pstate == CSV_ROW_NOT_BEGUN && r->nfields == 0)
		r->record_line = line;
}

static int parse_error(struct csvrows *r, long line)
{
	snprintf(r->detail, sizeof(r->detail), "%s", csv_strerror(csv_error(&r->parser)));
	snprintf(r->error, sizeof(r->error), "malformed CSV (%s)", r->detail);
	r->error_line = line;
	return -1;
}

/*
 * Feed line by line so we know which line a record starts on: a record
 * starts on the line being fed when libcsv is between records (a quoted
 * field still open, or fields already given, mean it started earlier).
 * A line ends with a LF, a CRLF or a CR alone (libcsv ends records at all
 * three); a CR that ends a feed is decided by the next one's first byte.
 */
int csvrows_feed(struct csvrows *r, const char *data, size_t len)
{
	size_t off = 0;
	if (r->pending_cr && len) {
		r->pending_cr = 0;
		if (data[0] != '\n')
			r->line++;
	}
	while (off < len && !r->stop) {
		size_t i = off;
		while (i < len && data[i] != '\n' && data[i] != '\r')
			i++;
		int nl = i < len;
		size_t n = nl ? i - off + 1 : len - off;
		if (nl && data[i] == '\r') {
			if (i + 1 < len && data[i + 1] == '\n')
				n++;
			else if (i + 1 == len) {
				r->pending_cr = 1;	/* the next feed tells */
				nl = 0;
			}
		}
		if (r->parser.pstate == CSV_ROW_NOT_BEGUN && r->nfields == 0) {
			r->record_line = r->line;
			r->record_bytes = 0;
		}
		r->record_bytes += n;
		if (r->max_record && r->record_bytes > r->max_record) {
			r->too_long = 1;
			snprintf(r->detail, sizeof(r->detail), "a record longer than %zu bytes",
				 r->max_record);
			snprintf(r->error, sizeof(r->error), "expected %s at most", r->detail);
			r->error_line = r->record_line;
			return -1;
		}
		if (csv_parse(&r->parser, data + off, n, on_field, on_record, r) != n)
			return parse_error(r, r->line);
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
		return parse_error(r, r->record_line);
	return r->stop;
}

const char *csvrows_error(const struct csvrows *r)
{
	return r->error;
}

const char *csvrows_error_detail(const struct csvrows *r)
{
	return r->detail;
}

long csvrows_error_line(const struct csvrows *r)
{
	return r->error_line;
}

void csvrows_free(struct csvrows *r)
{
	if (!r)
		return;
	strbuf_release(&r->text);
	free(r->off);
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
