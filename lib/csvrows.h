/*
 * csvrows.h - RFC 4180 CSV, a record at a time: the one wrapper over libcsv
 * (strict quoting), for the workload importer, the calibration reader and
 * the catalog seeds.
 *
 * The reader is fed bytes in chunks (a file read in blocks, or an embedded
 * seed in one piece) and calls back once per record with its fields and
 * the physical line the record started on -- a quoted field that spans
 * lines belongs to the record's first line -- so callers can say
 * FILE:LINE. Memory is bounded by the longest record, not the file (and by
 * a record limit, csvrows_set_max_record_bytes, whatever the file); with a
 * field limit (csvrows_set_max_fields) by the kept fields of one record.
 * Blank lines are no records.
 */
#ifndef PIQPLAN_CSVROWS_H
#define PIQPLAN_CSVROWS_H

#include <stddef.h>

/*
 * Called once per record. nfields counts every field of the record;
 * fields[i] (i < nfields, or < the field limit when one is set and the
 * record is longer) are NUL-terminated copies, valid only during the call.
 * line is the physical line the record started on (1-based). Return 0 to
 * go on, non-zero to stop (that value is returned by csvrows_feed and
 * csvrows_finish).
 */
typedef int (*csvrow_fn)(void *arg, char **fields, int nfields, long line);

struct csvrows;

struct csvrows *csvrows_new(csvrow_fn fn, void *arg);

/*
 * Keep at most max fields of a record (max > 0); the rest are counted in
 * nfields but not stored, so a hostile line of a million commas costs
 * nothing. The callback decides what too many fields means.
 */
void csvrows_set_max_fields(struct csvrows *r, int max);

/*
 * Refuse a record longer than max bytes (its line breaks included): the
 * feed stops with -1 and csvrows_too_long() says why, before libcsv has
 * buffered more than max bytes of it. 0 (the default): no limit.
 */
void csvrows_set_max_record_bytes(struct csvrows *r, size_t max);
/* 1 after a -1 caused by the record limit. */
int csvrows_too_long(const struct csvrows *r);

/* An unterminated quoted field at the end of the input is malformed (libcsv's CSV_STRICT_FINI). */
void csvrows_set_strict_end(struct csvrows *r);

/*
 * The physical line number of the next byte fed (default 1): for a caller
 * that consumed leading lines itself before handing the rest over.
 */
void csvrows_set_line(struct csvrows *r, long line);

/* Feed more bytes. Returns 0, the callback's non-zero value, or -1 on malformed CSV. */
int csvrows_feed(struct csvrows *r, const char *data, size_t len);
/* Flush the last record. Same returns as csvrows_feed. */
int csvrows_finish(struct csvrows *r);
/*
 * After -1: what was wrong ("malformed CSV (DETAIL)"), DETAIL alone (libcsv's
 * words), and the line it was found on (for the end of the input: the line
 * the unfinished record started on).
 */
const char *csvrows_error(const struct csvrows *r);
const char *csvrows_error_detail(const struct csvrows *r);
long csvrows_error_line(const struct csvrows *r);
void csvrows_free(struct csvrows *r);

/* Parse a whole in-memory CSV (e.g. an embedded seed); returns as csvrows_finish. */
int csvrows_parse(const char *data, size_t len, csvrow_fn fn, void *arg,
		  char *err, size_t errsz, long *err_line);

/* Index of column `name` in a header row, or -1. */
int csv_column(char **header, int n, const char *name);

#endif
