/*
 * csvrows.h - RFC 4180 CSV, a row at a time, on top of libcsv.
 *
 * The reader is fed bytes in chunks (a file read in blocks, or an embedded
 * seed in one piece) and calls back once per record with its fields and
 * the physical line the record started on, so callers can say FILE:LINE.
 * Memory is bounded by the longest record, not the file.
 */
#ifndef PIQPLAN_CSVROWS_H
#define PIQPLAN_CSVROWS_H

#include <stddef.h>

/*
 * Called once per record. fields[i] are NUL-terminated copies, valid only
 * during the call. Return 0 to go on, non-zero to stop (that value is
 * returned by csvrows_feed/csvrows_finish).
 */
typedef int (*csvrow_fn)(void *arg, char **fields, int nfields, long line);

struct csvrows;

struct csvrows *csvrows_new(csvrow_fn fn, void *arg);
/* Feed more bytes. Returns 0, the callback's non-zero value, or -1 on malformed CSV. */
int csvrows_feed(struct csvrows *r, const char *data, size_t len);
/* Flush the last record. Same returns as csvrows_feed. */
int csvrows_finish(struct csvrows *r);
/* After -1: what was wrong, and the line it was found on. */
const char *csvrows_error(const struct csvrows *r);
long csvrows_error_line(const struct csvrows *r);
void csvrows_free(struct csvrows *r);

/* Parse a whole in-memory CSV (e.g. an embedded seed); returns as csvrows_finish. */
int csvrows_parse(const char *data, size_t len, csvrow_fn fn, void *arg,
		  char *err, size_t errsz, long *err_line);

/* Index of column `name` in a header row, or -1. */
int csv_column(char **header, int n, const char *name);

#endif
