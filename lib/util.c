/*
 * util.c - allocation, the error voice, strings and small parsers shared by
 * every layer.
 */
#define _POSIX_C_SOURCE 200809L
#include "lib/util.h"
#include "lib/escape.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failure_exit = EXIT_FAIL;

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		die("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die("out of memory allocating %zu bytes", n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * GCC 12 with -fsanitize=undefined invents a NULL-format path through the
 * sanitizer's own checks and warns about it; fmt is never NULL here.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wformat-truncation"
__attribute__((format(printf, 1, 0)))
static char *vxasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	char probe[1];
	va_copy(cp, ap);
	int n = vsnprintf(probe, sizeof(probe), fmt, cp);
	va_end(cp);
	if (n < 0)
		die("bad format string '%s'", fmt);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}
#pragma GCC diagnostic pop

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = vxasprintf(fmt, ap);
	va_end(ap);
	return p;
}

int bprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (w >= 0 && (size_t)w < n)
		return 0;
	if (n >= 4) {
		size_t k = n - 4;	/* not inside a UTF-8 sequence */
		while (k > 0 && ((unsigned char)buf[k] & 0xC0) == 0x80)
			k--;
		memcpy(buf + k, "...", 4);
	}
	return 1;
}

/* "piqplan: PREFIX message": formatted without allocating (die() reports out of memory). */
static void report(const char *prefix, const char *fmt, va_list ap)
{
	char msg[8192];
	fflush(stdout);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "piqplan: %s", prefix);
	term_fputs(msg, 1, stderr);
	fputc('\n', stderr);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("error: ", fmt, ap);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("warning: ", fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("fatal: ", fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

int data_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report("error: ", fmt, ap);
	va_end(ap);
	failure_exit = EXIT_DATA;
	return -1;
}

void set_failure_status(int status)
{
	failure_exit = status;
}

int failure_status(void)
{
	return failure_exit;
}

static void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	size_t want = sb->alloc ? sb->alloc : 64;
	while (want < sb->len + extra + 1)
		want *= 2;
	sb->buf = xrealloc(sb->buf, want);
	sb->alloc = want;
}

void strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	char *p = vxasprintf(fmt, ap);
	strbuf_addstr(sb, p);
	free(p);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return p;
}

int read_file_max(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return error("cannot open '%s': %s", path, strerror(errno));
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		strbuf_add(&sb, chunk, n);
		if (max && sb.len > max) {
			fclose(f);
			strbuf_release(&sb);
			return data_error("%s: expected a file of at most %zu bytes, found a larger one",
					  path, max);
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		strbuf_release(&sb);
		return error("cannot read '%s'", path);
	}
	if (len)
		*len = sb.len;
	*out = strbuf_detach(&sb);
	return 0;
}

int read_file(const char *path, char **out, size_t *len)
{
	return read_file_max(path, 0, out, len);
}

void fmt_shortest(char *buf, size_t n, double v)
{
	/* At least the integer part's digits, so 30 is "30", not "3e+01". */
	int whole = fabs(v) >= 1 && isfinite(v) ? (int)floor(log10(fabs(v))) + 1 : 1;
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, n, "%.*g", digits > whole ? digits : (whole < 17 ? whole : 17), v);
		if (strtod(buf, NULL) == v || !isfinite(v))
			return;
	}
}

void fmt_count(char *buf, size_t n, double v)
{
	if (fabs(v) >= 1e12)
		snprintf(buf, n, "%.2fT", v / 1e12);
	else if (fabs(v) >= 1e9)
		snprintf(buf, n, "%.2fB", v / 1e9);
	else if (fabs(v) >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (fabs(v) >= 1e3)
		snprintf(buf, n, "%.2fK", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
}

void fmt_bytes(char *buf, size_t n, double bytes)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (fabs(bytes) >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%.0f B", bytes);
	else
		snprintf(buf, n, "%.2f %s", bytes, unit[u]);
}

int parse_int64(const char *s, int64_t *out)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	/* Decimal only: strtod would also take "0x10" (16), "inf" and "nan". */
	if (!s || !*s || isspace((unsigned char)*s) || strpbrk(s, "xXnN"))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int str_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

int str_istarts(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (!*s || tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
			return 0;
	return 1;
}

int quarter_parse(const char *s)
{
	if (!s || strlen(s) != 6 || (s[4] != 'Q' && s[4] != 'q'))
		return -1;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	if (s[5] < '1' || s[5] > '4')
		return -1;
	int year = atoi(s);
	if (year < 1970 || year > 9999)
		return -1;
	return year * 4 + (s[5] - '1');
}

void quarter_format(int index, char buf[QUARTER_BUF])
{
	if (index < 0)
		index = 0;
	snprintf(buf, QUARTER_BUF, "%04dQ%d", (index / 4) % 10000, index % 4 + 1);
}

int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return error("cannot write to standard output: %s", strerror(errno));
	return 0;
}
