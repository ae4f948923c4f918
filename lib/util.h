/*
 * util.h - what every layer leans on: allocation that never returns NULL,
 * the error/warning/die voice, the exit statuses, a growable string
 * buffer, whole-file reading and small parsers and formatters.
 */
#ifndef PIQPLAN_UTIL_H
#define PIQPLAN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses: the only ones piqplan uses (documented in README.md). */
enum {
	EXIT_OK = 0,		/* success */
	EXIT_FAIL = 1,		/* failure: unknown name, impossible request, I/O error */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_DATA = 65,		/* bad input data: a file or value that cannot be used (EX_DATAERR) */
	EXIT_BUSY = 75,		/* database busy or locked past the timeout (EX_TEMPFAIL) */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * snprintf into a fixed buffer (n >= 4) of text meant for a reader -- a
 * reason, a note: a text that does not fit is cut and ends in "...".
 * Returns 1 when it was cut, else 0.
 */
int bprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * error() prints "piqplan: error: ..." to stderr and returns -1, so callers
 * write `return error(...)`. warning() prints "piqplan: warning: ...".
 * Control characters in the message (a stored name holding ESC or CR) reach
 * the terminal as '?' (lib/escape.h, term_escape).
 * die() prints "piqplan: fatal: ..." and exits with EXIT_FAIL; the open
 * transaction, if any, is rolled back by SQLite when the process ends.
 */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error() for bad input data: also sets the exit status to EXIT_DATA. */
int data_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * The status the current command will exit with when it fails. A failing
 * path that knows better than "failure" (bad data, busy database) records
 * it here before returning -1; the dispatcher reads it.
 */
void set_failure_status(int status);
int failure_status(void);

/* A growable NUL-terminated string. */
struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void strbuf_release(struct strbuf *sb);
/* Hand the buffer to the caller (never NULL) and reset sb. */
char *strbuf_detach(struct strbuf *sb);

/*
 * Read a whole file of at most max bytes (0: no limit). Returns 0 and a
 * NUL-terminated buffer, or error() -- "larger than N bytes" (the status
 * EXIT_DATA) once more than max bytes came, so /dev/zero or a huge file
 * costs max bytes, not all memory.
 */
int read_file_max(const char *path, size_t max, char **out, size_t *len);
/* read_file_max with no limit. */
int read_file(const char *path, char **out, size_t *len);

/*
 * v with the fewest significant digits (1 to 17) that read back as
 * exactly v: 10.39 -> "10.39", never "10.390000000000001".
 */
void fmt_shortest(char *buf, size_t n, double v);

/* Human figures: 671034000000 -> "671.03B"; bytes -> "1.31 GiB". */
void fmt_count(char *buf, size_t n, double v);
void fmt_bytes(char *buf, size_t n, double bytes);

/*
 * Parse a whole decimal integer / a finite decimal real ("1.5", "2e-3";
 * not "0x10", "inf" or "nan"); 0 on success, -1 if s is not one.
 */
int parse_int64(const char *s, int64_t *out);
int parse_double(const char *s, double *out);

/* Case-insensitive ASCII comparisons. */
int str_ieq(const char *a, const char *b);
int str_istarts(const char *s, const char *prefix);

/* Quarters written "2027Q1": parse to an index (year*4 + q-1), or -1. */
int quarter_parse(const char *s);
#define QUARTER_BUF 16
void quarter_format(int index, char buf[QUARTER_BUF]);

/* Flush and check stdout; error() if a write failed (full disk, closed pipe). */
int finish_stdout(void);

#endif
