/*
 * workload_file.c - the streaming workload parsers behind `piqplan workload
 * import`. One pass over the bytes: each chunk is hashed, checked for NUL
 * bytes and cut into physical lines; CSV lines go through lib/csvrows.h
 * (libcsv, so quoted fields work), Mooncake lines through cJSON. Rows feed
 * the histogram and arrival counters of planner/workload.h and are then
 * forgotten.
 */
#define _POSIX_C_SOURCE 200809L
#include "ingest/workload_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/csvrows.h"
#include "lib/sha256.h"
#include "lib/utf8.h"
#include "lib/util.h"

#define CHUNK_BYTES		65536
#define PROGRESS_EVERY_BYTES	(1u << 20)
/*
 * A longer line -- a CSV record, quoted line breaks included, or a JSON
 * line -- is junk: a request is a few dozen bytes, a Mooncake line of a
 * 10M-token prompt some 200 KB. Memory stays bounded whatever the file.
 */
#define MAX_LINE_BYTES		(1u << 20)
#define MAX_COLUMNS		256
#define MAX_LE_BOUNDS		256
#define MAX_BUCKET_REQUESTS	1000000000000LL	/* one buckets row: 10^12 requests */
/*
 * The latest time accepted, ns since the epoch: the last second whose
 * nanoseconds (and a fraction) fit an int64_t, 2262-04-11T23:47:15Z. In
 * any unit a numeric timestamp's whole part may be at most this / unit.
 */
#define MAX_EPOCH_NS		9223372035999999999LL
#define NS_PER_S		1000000000LL
#define DEFAULT_WINDOW_S	60.0

enum role {
	R_NONE,
	R_TIMESTAMP, R_PROMPT, R_OUTPUT,			/* requests */
	R_PLO, R_PHI, R_OLO, R_OHI, R_REQUESTS,			/* buckets */
	R_PSTART, R_PEND, R_PEAK,
	R_WSTART, R_WEND, R_MODEL, R_METRIC, R_LE, R_COUNT,	/* prometheus */
	R_NROLES
};

/* Header names (lowercase) and what they mean; the first name of a role is canonical. */
struct column_name {
	const char *name;
	enum role role;
};

static const struct column_name requests_columns[] = {
	{ "timestamp", R_TIMESTAMP },
	{ "prompt_tokens", R_PROMPT },
	{ "contexttokens", R_PROMPT },
	{ "output_tokens", R_OUTPUT },
	{ "generatedtokens", R_OUTPUT },
};

static const struct column_name buckets_columns[] = {
	{ "prompt_tokens_lo", R_PLO },
	{ "prompt_tokens_hi", R_PHI },
	{ "output_tokens_lo", R_OLO },
	{ "output_tokens_hi", R_OHI },
	{ "requests", R_REQUESTS },
	{ "period_start", R_PSTART },
	{ "period_end", R_PEND },
	{ "peak_rps", R_PEAK },
};

static const struct column_name prometheus_columns[] = {
	{ "window_start", R_WSTART },
	{ "window_end", R_WEND },
	{ "model", R_MODEL },
	{ "metric", R_METRIC },
	{ "le", R_LE },
	{ "count", R_COUNT },
};

struct csv_format {
	const struct column_name *columns;
	size_t ncolumns;
	enum role required[7];	/* R_NONE-terminated */
	const char *header;	/* for messages */
};

static const struct csv_format csv_formats[] = {
	[WL_FMT_REQUESTS] = {
		requests_columns, ARRAY_SIZE(requests_columns),
		{ R_TIMESTAMP, R_PROMPT, R_OUTPUT },
		"timestamp,prompt_tokens,output_tokens",
	},
	[WL_FMT_BUCKETS] = {
		buckets_columns, ARRAY_SIZE(buckets_columns),
		{ R_PLO, R_PHI, R_OLO, R_OHI, R_REQUESTS },
		"prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,output_tokens_hi,requests",
	},
	[WL_FMT_PROMETHEUS] = {
		prometheus_columns, ARRAY_SIZE(prometheus_columns),
		{ R_WSTART, R_WEND, R_MODEL, R_METRIC, R_LE, R_COUNT },
		"window_start,window_end,model,metric,le,count",
	},
};

static const char *canonical_name(enum role r)
{
	for (size_t f = WL_FMT_REQUESTS; f <= WL_FMT_PROMETHEUS; f++)
		for (size_t i = 0; i < csv_formats[f].ncolumns; i++)
			if (csv_formats[f].columns[i].role == r)
				return csv_formats[f].columns[i].name;
	return "?";
}

/* Prometheus: the two vLLM histograms, each summed over windows (see prometheus_row). */
enum { PROM_PROMPT, PROM_OUTPUT };
#define PROM_MAX_GROUPS		(1 << 18)	/* (window, model, metric) groups: a 32 MiB table at most */
#define PROM_MAX_MODELS		256
#define PROM_SHOWN_OTHERS	8
#define PROM_MAX_REQUESTS	1e11		/* requests x 10^7 tokens must fit an int64_t */

struct prom_le {
	double le;			/* the bound; +Inf included */
	double sum;			/* its counts summed over every window */
	int64_t rows;			/* windows that have it */
	int64_t line;			/* where it was first seen */
};

struct prom_metric {
	struct prom_le le[MAX_LE_BOUNDS];
	size_t n;
	double sum_tokens, count_requests;	/* the _sum and _count rows, summed */
	int have_sum, have_count;
};

/* One (window, model, metric) of the file: what checks it. */
struct prom_group {
	int64_t start_ns, end_ns;
	int model, which;
	int have_inf;
	double inf, max;		/* its +Inf count; its largest count below +Inf */
	int64_t rows, line;		/* rows == 0: an empty slot of the table */
};

struct prom_state {
	struct prom_metric metric[2];
	struct prom_group *g;		/* open addressing, a power-of-two size */
	size_t size, used;
	char *models[PROM_MAX_MODELS];	/* the labels kept (they all match the filter) */
	int nmodels;
	char *others[PROM_SHOWN_OTHERS];	/* labels the filter left out */
	int nothers;
};

struct ingest {
	const char *name;		/* file name for messages */
	char *err;
	size_t errsz;
	int status;			/* INGEST_OK until the first failure */
	char shown[2][48];		/* quoted excerpts for messages */
	int shown_next;

	enum wl_format fmt;		/* WL_FMT_AUTO until known */
	int started;			/* past the BOM / leading blank space */
	int64_t line;			/* 1-based physical line being read */
	int64_t last_line;		/* last line with any bytes: for errors at the end */
	int64_t rows;			/* data rows / JSON lines accepted */
	int64_t window_ns;
	int64_t unit_ns;		/* numeric timestamps: ns per unit; 0 until decided */
	int unit_given;			/* --time-unit, else decided by the first one */
	const struct wl_edges *edges;
	const char *model_filter;

	struct wl_hist *h;
	struct wl_arrivals *arr;
	struct wl_blockset blocks;

	/* CSV */
	struct csvrows *csv;
	int header_done;
	int ncols;
	char **colname;			/* header names as written */
	enum role *role;		/* per column */
	int role_col[R_NROLES];		/* column of each role, -1 if absent */
	char **fields;			/* the current row's fields (the first MAX_COLUMNS) */
	int nfields;			/* fields in the current row, kept or not */

	/* buckets */
	double peak_rps_max;		/* NaN until a peak_rps cell is given */
	int exact_sums;			/* prometheus: both _sum totals given */

	/* prometheus */
	struct prom_state *prom;

	/* mooncake */
	struct strbuf linebuf;
	int json_guessed;		/* auto: a '{' made it Mooncake; the first line tells */
	int pending_cr;			/* the last read ended in a CR (see feed) */
};

/* ---- messages --------------------------------------------------------- */

static int fail(struct ingest *in, int status, int64_t line, const char *column,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct ingest *in, int status, int64_t line, const char *column,
		const char *fmt, ...)
{
	if (in->status)
		return -1;
	in->status = status;
	size_t n = 0;
	int w;
	if (line > 0)
		w = snprintf(in->err, in->errsz, "%s:%lld: ", in->name, (long long)line);
	else
		w = snprintf(in->err, in->errsz, "%s: ", in->name);
	if (w > 0)
		n = (size_t)w < in->errsz ? (size_t)w : in->errsz - 1;
	if (column && n < in->errsz) {
		w = snprintf(in->err + n, in->errsz - n, "column %s: ", column);
		if (w > 0)
			n = n + (size_t)w < in->errsz ? n + (size_t)w : in->errsz - 1;
	}
	if (n < in->errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(in->err + n, in->errsz - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* 'value' for a message: at most 40 bytes, control bytes as '?'. */
static const char *show(struct ingest *in, const char *s, size_t len)
{
	char *buf = in->shown[in->shown_next++ % 2];
	size_t n = 0;
	buf[n++] = '\'';
	for (size_t i = 0; i < len && n < 41; i++)
		buf[n++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	if (len > 40) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

static const char *shows(struct ingest *in, const char *s)
{
	return show(in, s, strlen(s));
}

static int out_of_memory(struct ingest *in)
{
	return fail(in, INGEST_ERR_IO, 0, NULL, "out of memory");
}

/* ---- small parsers ---------------------------------------------------- */

static const char *trim(const char *s, size_t *len)
{
	size_t n = strlen(s);
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}

enum { NUM_OK = 0, NUM_NOT = -1, NUM_NEGATIVE = -2, NUM_TOO_BIG = -3 };

/* A whole number (a ".000" tail allowed), 0..max. */
static int parse_count(const char *s, size_t len, int64_t max, int64_t *out)
{
	size_t i = 0;
	int negative = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		negative = s[i++] == '-';
	if (i == len || s[i] < '0' || s[i] > '9')
		return NUM_NOT;
	int64_t v = 0;
	int big = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		int d = s[i] - '0';
		if (big || v > (max - d) / 10)	/* v * 10 + d > max, without overflowing */
			big = 1;
		else
			v = v * 10 + d;
	}
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] == '0'; i++)
			;
	if (i != len)
		return NUM_NOT;
	if (negative && v != 0)
		return NUM_NEGATIVE;
	if (big || v > max)
		return NUM_TOO_BIG;
	*out = v;
	return NUM_OK;
}

/* A finite decimal real (lib/util.h's parse_double: no hex, no inf); 0 or -1. */
static int parse_real(const char *s, size_t len, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_double(buf, out);
}

static int is_inf_word(const char *s, size_t len)
{
	if (len && (*s == '+')) {
		s++;
		len--;
	}
	return (len == 3 && !strncasecmp(s, "inf", 3)) ||
	       (len == 8 && !strncasecmp(s, "infinity", 8));
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return days[m - 1] + (m == 2 && leap);
}

/* n digits at *p into *v; advances *p. */
static int digits(const char **p, const char *end, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (*p >= end || **p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* Fraction digits after a '.', as nanoseconds of a unit of unit_ns (digits past a ns are dropped). */
static int fraction_ns(const char **p, const char *end, int64_t unit_ns, int64_t *ns)
{
	int64_t scale = unit_ns / 10;
	*ns = 0;
	if (*p >= end || **p < '0' || **p > '9')
		return -1;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
		*ns += (**p - '0') * scale;
	return 0;
}

/* The unit of a numeric timestamp whose whole part has `digits` digits: epoch s, ms, us or ns. */
static int64_t unit_by_magnitude(size_t digits)
{
	/* Now is 1.7e9 s = 1.7e12 ms = 1.7e15 us = 1.7e18 ns; below 1e11 s is year 5138. */
	return digits <= 11 ? NS_PER_S : digits <= 14 ? 1000000 : digits <= 17 ? 1000 : 1;
}

const char *ingest_time_unit_name(int64_t unit_ns)
{
	switch (unit_ns) {
	case NS_PER_S: return "seconds";
	case 1000000: return "milliseconds";
	case 1000: return "microseconds";
	case 1: return "nanoseconds";
	default: return "?";
	}
}

enum { TS_OK = 0, TS_BAD = -1, TS_TOO_LATE = -2 };

/*
 * A timestamp: a number in the unit *unit_ns (0: decided here by its
 * magnitude, and written back), or a date and time, into ns since the
 * epoch. TS_BAD: not a timestamp; TS_TOO_LATE: past MAX_EPOCH_NS.
 */
static int parse_timestamp_n(const char *s, size_t len, int64_t *unit_ns, int64_t *ns)
{
	const char *p = s, *end = s + len;
	if (!len)
		return TS_BAD;
	size_t i = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i > 0 && (i == len || s[i] == '.')) {
		/* An epoch number (relative traces start near 0; 1000 is 1000 units, not a year). */
		int64_t unit = *unit_ns ? *unit_ns : unit_by_magnitude(i), whole, frac = 0;
		*unit_ns = unit;
		switch (parse_count(s, i, MAX_EPOCH_NS / unit, &whole)) {
		case NUM_OK: break;
		case NUM_TOO_BIG: return TS_TOO_LATE;
		default: return TS_BAD;
		}
		p = s + i;
		if (p < end) {
			p++;
			if (p < end && fraction_ns(&p, end, unit, &frac))
				return TS_BAD;
			if (p != end)
				return TS_BAD;
		}
		*ns = whole * unit + frac;
		return TS_OK;
	}
	int y, mo, d, h, mi, sec = 0;
	int64_t frac = 0;
	if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &mo) || p >= end || *p++ != '-' ||
	    digits(&p, end, 2, &d) || p >= end || (*p != ' ' && *p != 'T' && *p != 't'))
		return TS_BAD;
	p++;
	if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
		return TS_BAD;
	if (p < end && *p == ':') {
		p++;
		if (digits(&p, end, 2, &sec))
			return TS_BAD;
		if (p < end && (*p == '.' || *p == ',')) {
			p++;
			if (fraction_ns(&p, end, NS_PER_S, &frac))
				return TS_BAD;
		}
	}
	int offset_min = 0;
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
		if (digits(&p, end, 2, &oh))
			return TS_BAD;
		if (p < end && *p == ':')
			p++;
		if (p < end && digits(&p, end, 2, &om))
			return TS_BAD;
		if (oh > 23 || om > 59)
			return TS_BAD;
		offset_min = sign * (oh * 60 + om);
	}
	if (p != end)
		return TS_BAD;
	if (y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return TS_BAD;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
		    - offset_min * 60;
	*ns = t * NS_PER_S + frac;
	return TS_OK;
}

int ingest_parse_timestamp(const char *s, int64_t *ns)
{
	size_t len;
	int64_t unit = NS_PER_S;
	s = trim(s, &len);
	return parse_timestamp_n(s, len, &unit, ns) ? -1 : 0;
}

/* ---- CSV rows --------------------------------------------------------- */

static const char *column_name(struct ingest *in, enum role r)
{
	int c = in->role_col[r];
	return c >= 0 ? in->colname[c] : canonical_name(r);
}

/* The trimmed cell of role r in the current row, or NULL if the column is absent. */
static const char *cell(struct ingest *in, enum role r, size_t *len)
{
	int c = in->role_col[r];
	*len = 0;
	if (c < 0)
		return NULL;
	return trim(in->fields[c], len);
}

static int tokens_cell(struct ingest *in, enum role r, int64_t max, const char *what,
		       int64_t *out)
{
	size_t len;
	const char *s = cell(in, r, &len);
	switch (parse_count(s, len, max, out)) {
	case NUM_OK:
		return 0;
	case NUM_NEGATIVE:
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, r),
			    "expected %s >= 0, found %s", what, show(in, s, len));
	case NUM_TOO_BIG:
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, r),
			    "expected %s <= %lld, found %s", what, (long long)max,
			    show(in, s, len));
	default:
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, r),
			    "expected %s (a whole number), found %s", what, show(in, s, len));
	}
}

static int time_cell(struct ingest *in, enum role r, int64_t *ns)
{
	size_t len;
	const char *s = cell(in, r, &len);
	int64_t unit = in->unit_ns;
	int rc = parse_timestamp_n(s, len, &unit, ns);
	if (rc == TS_OK) {
		in->unit_ns = unit;	/* the first number decides the file's unit */
		return 0;
	}
	if (rc == TS_TOO_LATE)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, r),
			    "expected epoch %s up to %lld (2262-04-11), found %s%s",
			    ingest_time_unit_name(unit), (long long)(MAX_EPOCH_NS / unit),
			    show(in, s, len), in->unit_given ? ""
			    : " (the file's first timestamp set the unit; --time-unit names it)");
	return fail(in, INGEST_ERR_DATA, in->line, column_name(in, r),
		    "expected a timestamp (epoch %s, or YYYY-MM-DD HH:MM:SS[.frac][Z]), found %s",
		    in->unit_ns ? ingest_time_unit_name(in->unit_ns) : "s, ms, us or ns",
		    show(in, s, len));
}

static int wl_status(struct ingest *in, int rc, const char *column)
{
	switch (rc) {
	case 0:
		return 0;
	case WL_ENOMEM:
		return out_of_memory(in);
	case WL_EFULL:
		return fail(in, INGEST_ERR_DATA, in->line, column,
			    "expected at most %d distinct buckets", WL_MAX_BUCKETS);
	default:
		return fail(in, INGEST_ERR_DATA, in->line, column, "expected a value in range");
	}
}

static int requests_row(struct ingest *in)
{
	int64_t t, p, o;
	if (time_cell(in, R_TIMESTAMP, &t) ||
	    tokens_cell(in, R_PROMPT, WL_TOKENS_MAX, "a prompt token count", &p) ||
	    tokens_cell(in, R_OUTPUT, WL_TOKENS_MAX, "an output token count", &o))
		return -1;
	if (wl_status(in, wl_hist_add_request(in->h, p, o), NULL) ||
	    wl_status(in, wl_arrivals_add(in->arr, t), NULL))
		return -1;
	return 0;
}

/* A bucket bound; "+Inf" only for an upper bound. */
static int bound_cell(struct ingest *in, enum role r, int upper, int64_t *out)
{
	size_t len;
	const char *s = cell(in, r, &len);
	if (upper && is_inf_word(s, len)) {
		*out = WL_TOKENS_END;
		return 0;
	}
	return tokens_cell(in, r, upper ? WL_TOKENS_END : WL_TOKENS_MAX,
			   upper ? "an upper bound in tokens or +Inf" : "a lower bound in tokens",
			   out);
}

static int buckets_row(struct ingest *in)
{
	int64_t plo, phi, olo, ohi, n;
	if (bound_cell(in, R_PLO, 0, &plo) || bound_cell(in, R_PHI, 1, &phi) ||
	    bound_cell(in, R_OLO, 0, &olo) || bound_cell(in, R_OHI, 1, &ohi) ||
	    tokens_cell(in, R_REQUESTS, MAX_BUCKET_REQUESTS, "a request count", &n))
		return -1;
	if (phi <= plo)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_PHI),
			    "expected more than prompt_tokens_lo (%lld), found %lld",
			    (long long)plo, (long long)phi);
	if (ohi <= olo)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_OHI),
			    "expected more than output_tokens_lo (%lld), found %lld",
			    (long long)olo, (long long)ohi);
	size_t len, len2;
	const char *s;
	if (in->role_col[R_PSTART] >= 0) {
		const char *e;
		s = cell(in, R_PSTART, &len);
		e = cell(in, R_PEND, &len2);
		if (len || len2) {
			int64_t start, end;
			if (time_cell(in, R_PSTART, &start) || time_cell(in, R_PEND, &end))
				return -1;
			if (end <= start)
				return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_PEND),
					    "expected a time after period_start, found %s",
					    show(in, e, len2));
			wl_arrivals_extend(in->arr, start, end);
		}
	}
	if (in->role_col[R_PEAK] >= 0 && (s = cell(in, R_PEAK, &len)) && len) {
		double peak;
		if (parse_real(s, len, &peak) || peak < 0 || peak > WL_MAX_RPS)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_PEAK),
				    "expected requests per second from 0 to %.0f, found %s",
				    WL_MAX_RPS, show(in, s, len));
		if (isnan(in->peak_rps_max) || peak > in->peak_rps_max)
			in->peak_rps_max = peak;
	}
	return wl_status(in, wl_hist_add_bucket(in->h, plo, phi, olo, ohi, n, in->line),
			 column_name(in, R_REQUESTS));
}

/* ---- prometheus ------------------------------------------------------- */

/*
 * Rows may come in any order (grouped by window, or series by series as
 * Prometheus' API returns them): what the histogram needs is linear in the
 * counts, so each le bound keeps the sum of its counts over every window,
 * and each (window, model, metric) group only what checks it -- its +Inf
 * count, its largest count and its number of rows.
 */

static void le_text(double le, char *buf, size_t n)
{
	if (isinf(le))
		snprintf(buf, n, "+Inf");
	else
		snprintf(buf, n, "%.15g", le);
}

/* What a metric name is: which histogram, and which of its series. */
enum prom_series { PROM_BUCKET, PROM_SUM, PROM_COUNT };

static int prom_metric_of(const char *s, size_t len, enum prom_series *series)
{
	static const struct { const char *suffix; enum prom_series series; } suffixes[] = {
		{ "_bucket", PROM_BUCKET }, { "_sum", PROM_SUM }, { "_count", PROM_COUNT },
	};
	if (len >= 5 && !strncmp(s, "vllm:", 5)) {
		s += 5;
		len -= 5;
	}
	*series = PROM_BUCKET;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t n = strlen(suffixes[i].suffix);
		if (len > n && !strncmp(s + len - n, suffixes[i].suffix, n)) {
			len -= n;
			*series = suffixes[i].series;
			break;
		}
	}
	if (len == 21 && !strncmp(s, "request_prompt_tokens", 21))
		return PROM_PROMPT;
	if (len == 25 && !strncmp(s, "request_generation_tokens", 25))
		return PROM_OUTPUT;
	return -1;
}

/*
 * Does a file's model label name the workload's model? The same text in
 * any case, or, when one of the two has no organisation ("DeepSeek-V3"),
 * the other's part after its '/'.
 */
static int prom_model_matches(const char *want, const char *label, size_t len)
{
	size_t wlen = strlen(want);
	const char *wslash = strrchr(want, '/'), *lslash = NULL;
	for (size_t i = 0; i < len; i++)
		if (label[i] == '/')
			lslash = label + i;
	if (wlen == len && !strncasecmp(want, label, len))
		return 1;
	if (wslash && !lslash)
		return strlen(wslash + 1) == len && !strncasecmp(wslash + 1, label, len);
	if (lslash && !wslash) {
		size_t blen = len - (size_t)(lslash + 1 - label);
		return blen == wlen && !strncasecmp(lslash + 1, want, wlen);
	}
	return 0;
}

static uint64_t prom_group_hash(int64_t start, int64_t end, int model, int which)
{
	uint64_t x = (uint64_t)start * 0x9e3779b97f4a7c15ULL;
	x ^= (uint64_t)end + 0x632be59bd9b4e019ULL + (x << 6) + (x >> 2);
	x ^= (uint64_t)(model * 2 + which) * 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 29);
}

/* The group of (start, end, model, which), created empty; NULL when the table is full. */
static struct prom_group *prom_group_get(struct prom_state *ps, int64_t start, int64_t end,
					 int model, int which)
{
	if ((ps->used + 1) * 2 > ps->size) {
		if (ps->used >= PROM_MAX_GROUPS)
			return NULL;
		size_t size = ps->size ? ps->size * 2 : 256;
		struct prom_group *t = xcalloc(size, sizeof(*t));
		for (size_t k = 0; k < ps->size; k++) {
			const struct prom_group *g = &ps->g[k];
			if (!g->rows)
				continue;
			size_t s = prom_group_hash(g->start_ns, g->end_ns, g->model, g->which) & (size - 1);
			while (t[s].rows)
				s = (s + 1) & (size - 1);
			t[s] = *g;
		}
		free(ps->g);
		ps->g = t;
		ps->size = size;
	}
	size_t mask = ps->size - 1;
	size_t s = prom_group_hash(start, end, model, which) & mask;
	for (; ps->g[s].rows; s = (s + 1) & mask) {
		struct prom_group *g = &ps->g[s];
		if (g->start_ns == start && g->end_ns == end && g->model == model && g->which == which)
			return g;
	}
	struct prom_group *g = &ps->g[s];
	*g = (struct prom_group){ start, end, model, which, 0, 0, 0, 0, 0 };
	ps->used++;
	return g;
}

/* Index of a kept model label, added when new; -1 when there are too many. */
static int prom_model_index(struct prom_state *ps, const char *label, size_t len)
{
	for (int i = 0; i < ps->nmodels; i++)
		if (strlen(ps->models[i]) == len && !strncmp(ps->models[i], label, len))
			return i;
	if (ps->nmodels >= PROM_MAX_MODELS)
		return -1;
	ps->models[ps->nmodels] = xstrndup(label, len);
	return ps->nmodels++;
}

/* Remember a label the filter left out, for the message when nothing matched. */
static void prom_note_other(struct prom_state *ps, const char *label, size_t len)
{
	for (int i = 0; i < ps->nothers; i++)
		if (strlen(ps->others[i]) == len && !strncmp(ps->others[i], label, len))
			return;
	if (ps->nothers < PROM_SHOWN_OTHERS)
		ps->others[ps->nothers++] = xstrndup(label, len);
}

static int prometheus_row(struct ingest *in)
{
	struct prom_state *ps = in->prom;
	int64_t start, end;
	size_t mlen = 0, len = 0, le_len = 0, count_len = 0;
	const char *model = cell(in, R_MODEL, &mlen);
	if (in->model_filter && !prom_model_matches(in->model_filter, model, mlen)) {
		prom_note_other(ps, model, mlen);
		return 0;
	}
	if (time_cell(in, R_WSTART, &start) || time_cell(in, R_WEND, &end))
		return -1;
	const char *s = cell(in, R_WEND, &len);
	if (end <= start)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_WEND),
			    "expected a time after window_start, found %s", show(in, s, len));
	s = cell(in, R_METRIC, &len);
	enum prom_series series;
	int which = prom_metric_of(s, len, &series);
	if (which < 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_METRIC),
			    "expected [vllm:]request_prompt_tokens or "
			    "[vllm:]request_generation_tokens (_bucket, _sum or _count), found %s",
			    show(in, s, len));
	double le, count;
	const char *le_s = cell(in, R_LE, &le_len), *count_s = cell(in, R_COUNT, &count_len);
	if (parse_real(count_s, count_len, &count) || count < 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected a %s >= 0, found %s",
			    series == PROM_SUM ? "token sum" : "request count",
			    show(in, count_s, count_len));
	struct prom_metric *m = &ps->metric[which];
	if (series == PROM_SUM) {	/* the exact token total of the window (no le) */
		m->sum_tokens += count;
		m->have_sum = 1;
		return 0;
	}
	if (series == PROM_COUNT) {
		m->count_requests += count;
		m->have_count = 1;
		return 0;
	}
	if (is_inf_word(le_s, le_len))
		le = INFINITY;
	else if (parse_real(le_s, le_len, &le) || le < 0 || le > WL_TOKENS_MAX)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
			    "expected a bucket bound in tokens (0..%d) or +Inf, found %s",
			    WL_TOKENS_MAX, show(in, le_s, le_len));

	int mi = prom_model_index(ps, model, mlen);
	if (mi < 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_MODEL),
			    "expected at most %d distinct models", PROM_MAX_MODELS);
	struct prom_group *g = prom_group_get(ps, start, end, mi, which);
	if (!g)
		return fail(in, INGEST_ERR_DATA, in->line, NULL,
			    "expected at most %d (window, model, metric) groups", PROM_MAX_GROUPS);
	if (!g->rows)
		g->line = in->line;
	g->rows++;
	if (isinf(le)) {
		if (g->have_inf)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected one le=+Inf row per window and metric, found another "
				    "(the window's first row is line %lld)", (long long)g->line);
		g->have_inf = 1;
		g->inf = count;
	} else if (count > g->max) {
		g->max = count;
	}
	size_t k = 0;
	while (k < m->n && m->le[k].le != le)
		k++;
	if (k == m->n) {
		if (m->n >= MAX_LE_BOUNDS)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected at most %d distinct bounds", MAX_LE_BOUNDS);
		m->le[m->n++] = (struct prom_le){ le, 0, 0, in->line };
	}
	m->le[k].sum += count;
	m->le[k].rows++;
	return 0;
}

static int by_le(const void *pa, const void *pb)
{
	const struct prom_le *a = pa, *b = pb;
	return (a->le > b->le) - (a->le < b->le);
}

/* Check one metric's windows against each other; fill its marginal bins. 0 or -1. */
static int prom_check_metric(struct ingest *in, int which, struct wl_marginal_bin *bins,
			     double *total)
{
	struct prom_state *ps = in->prom;
	struct prom_metric *m = &ps->metric[which];
	const char *name = which == PROM_PROMPT ? "request_prompt_tokens"
						: "request_generation_tokens";
	const char *le_col = column_name(in, R_LE), *count_col = column_name(in, R_COUNT);
	char a[32], b[32];
	int64_t windows = 0;

	qsort(m->le, m->n, sizeof(*m->le), by_le);
	if (!isinf(m->le[m->n - 1].le))
		return fail(in, INGEST_ERR_DATA, m->le[m->n - 1].line, le_col,
			    "expected a row with le=+Inf in every window of %s, found none", name);
	for (size_t k = 1; k + 1 < m->n; k++)
		if (floor(m->le[k].le) <= floor(m->le[k - 1].le)) {
			le_text(m->le[k].le, a, sizeof(a));
			return fail(in, INGEST_ERR_DATA, m->le[k].line, le_col,
				    "expected bounds at least one token apart, found '%s'", a);
		}
	/* The earliest window (by line) that breaks each rule, in the rules' order. */
	const struct prom_group *bad[3] = { NULL, NULL, NULL };
	for (size_t s = 0; s < ps->size; s++) {
		const struct prom_group *g = &ps->g[s];
		if (!g->rows || g->which != which)
			continue;
		windows++;
		int rule = !g->have_inf ? 0 : g->max > g->inf * (1 + 1e-9) + 1e-9 ? 1
			 : g->rows != (int64_t)m->n ? 2 : -1;
		if (rule >= 0 && (!bad[rule] || g->line < bad[rule]->line))
			bad[rule] = g;
	}
	if (bad[0])
		return fail(in, INGEST_ERR_DATA, bad[0]->line, le_col,
			    "expected a row with le=+Inf in the window of %s starting on this line",
			    name);
	if (bad[1]) {
		snprintf(a, sizeof(a), "%.15g", bad[1]->max);
		snprintf(b, sizeof(b), "%.15g", bad[1]->inf);
		return fail(in, INGEST_ERR_DATA, bad[1]->line, count_col,
			    "expected cumulative counts: the window of %s starting on this line "
			    "counts %s below a bound but %s at le=+Inf", name, a, b);
	}
	if (bad[2])
		return fail(in, INGEST_ERR_DATA, bad[2]->line, le_col,
			    "expected every window to have the same %zu le bounds, found %lld rows "
			    "in the window of %s starting on this line", m->n,
			    (long long)bad[2]->rows, name);
	for (size_t k = 0; k < m->n; k++)
		if (m->le[k].rows != windows) {
			le_text(m->le[k].le, a, sizeof(a));
			return fail(in, INGEST_ERR_DATA, m->le[k].line, le_col,
				    "expected le=%s in every window of %s, found it in %lld of %lld",
				    a, name, (long long)m->le[k].rows, (long long)windows);
		}
	*total = 0;
	for (size_t k = 0; k < m->n; k++) {
		double below = k ? m->le[k - 1].sum : 0, d = m->le[k].sum - below;
		if (d < -1e-9 * (m->le[k].sum + 1)) {
			le_text(m->le[k].le, a, sizeof(a));
			le_text(m->le[k - 1].le, b, sizeof(b));
			return fail(in, INGEST_ERR_DATA, m->le[k].line, count_col,
				    "expected cumulative counts: le=%s counts fewer requests than "
				    "le=%s over the windows of %s", a, b, name);
		}
		bins[k].lo = k ? (int64_t)floor(m->le[k - 1].le) + 1 : 0;
		bins[k].hi = isinf(m->le[k].le) ? WL_TOKENS_END : (int64_t)floor(m->le[k].le) + 1;
		bins[k].requests = d > 0 ? d : 0;
		*total += bins[k].requests;
	}
	if (m->have_count &&
	    fabs(m->count_requests - *total) > 1e-6 * (*total > 1 ? *total : 1)) {
		snprintf(a, sizeof(a), "%.15g", m->count_requests);
		snprintf(b, sizeof(b), "%.15g", *total);
		return fail(in, INGEST_ERR_DATA, in->line, count_col,
			    "expected the %s_count rows to match the le=+Inf rows: they count %s "
			    "requests, le=+Inf %s", name, a, b);
	}
	return 0;
}

/* The _sum rows' exact total as whole tokens, when the buckets can hold it. */
static int prom_exact_sum(struct ingest *in, int which, int64_t *out)
{
	const struct prom_metric *m = &in->prom->metric[which];
	*out = -1;
	if (!m->have_sum)
		return 0;
	if (!(m->sum_tokens <= 9e18))
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected the %s_sum rows to add up to at most 9e18 tokens",
			    which == PROM_PROMPT ? "request_prompt_tokens"
						 : "request_generation_tokens");
	*out = llround(m->sum_tokens);
	return 0;
}

static int prometheus_finish(struct ingest *in)
{
	struct prom_state *ps = in->prom;
	struct prom_metric *mp = &ps->metric[PROM_PROMPT], *mo = &ps->metric[PROM_OUTPUT];
	struct wl_marginal_bin bins[2][MAX_LE_BOUNDS];
	double total[2];
	if (!mp->n || !mo->n) {
		struct strbuf others = STRBUF_INIT;
		for (int i = 0; i < ps->nothers; i++)
			strbuf_addf(&others, "%s'%s'", i ? ", " : "", ps->others[i]);
		fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_METRIC),
		     "expected rows of both request_prompt_tokens and request_generation_tokens"
		     "%s%s%s%s%s", in->model_filter ? " for model '" : "",
		     in->model_filter ? in->model_filter : "", in->model_filter ? "'" : "",
		     others.len ? "; the file has models " : "", others.len ? others.buf : "");
		if (others.len && in->errsz > strlen(in->err) + 40)
			strcat(in->err, " (--model-label NAME picks one)");
		strbuf_release(&others);
		return -1;
	}
	if (prom_check_metric(in, PROM_PROMPT, bins[PROM_PROMPT], &total[PROM_PROMPT]) ||
	    prom_check_metric(in, PROM_OUTPUT, bins[PROM_OUTPUT], &total[PROM_OUTPUT]))
		return -1;
	if (!(total[PROM_PROMPT] <= PROM_MAX_REQUESTS))
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected at most %.0f requests in all, found %.6g in the prompt token "
			    "counts", PROM_MAX_REQUESTS, total[PROM_PROMPT]);
	int64_t requests = llround(total[PROM_PROMPT]);
	if (requests <= 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected at least one request in the prompt token counts");
	if (!(total[PROM_OUTPUT] > 0))
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected at least one request in the generation token counts");
	for (size_t s = 0; s < ps->size; s++) {
		const struct prom_group *g = &ps->g[s];
		if (g->rows && g->which == PROM_PROMPT &&
		    wl_status(in, wl_arrivals_add_window(in->arr, g->start_ns, g->end_ns, g->inf),
			      NULL))
			return -1;
	}
	int64_t psum, osum;
	if (wl_status(in, wl_hist_add_independent(in->h, bins[PROM_PROMPT], mp->n,
						  bins[PROM_OUTPUT], mo->n, requests), NULL) ||
	    prom_exact_sum(in, PROM_PROMPT, &psum) || prom_exact_sum(in, PROM_OUTPUT, &osum))
		return -1;
	if (psum >= 0 || osum >= 0) {
		int rc = wl_hist_set_sums(in->h, psum, osum);
		if (rc == WL_ERANGE)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
				    "expected _sum rows the buckets can hold: %s tokens over %lld "
				    "requests do not fit their le bounds", psum >= 0 ? "prompt"
				    : "output", (long long)requests);
		if (wl_status(in, rc, NULL))
			return -1;
		in->exact_sums = psum >= 0 && osum >= 0;
	}
	return 0;
}

/* ---- CSV header ------------------------------------------------------- */

static enum wl_format detect_csv(char **names, int n)
{
	int requests = 0, le = 0, metric = 0;
	for (int c = 0; c < n; c++) {
		if (!strcasecmp(names[c], "prompt_tokens_lo"))
			return WL_FMT_BUCKETS;
		le |= !strcasecmp(names[c], "le");
		metric |= !strcasecmp(names[c], "metric");
		for (size_t i = 0; i < ARRAY_SIZE(requests_columns); i++)
			requests |= !strcasecmp(names[c], requests_columns[i].name);
	}
	if (le && metric)
		return WL_FMT_PROMETHEUS;
	return requests ? WL_FMT_REQUESTS : WL_FMT_AUTO;
}

static int header_row(struct ingest *in)
{
	if (in->nfields > MAX_COLUMNS)
		return fail(in, INGEST_ERR_DATA, in->line, NULL,
			    "expected a header of at most %d columns, found %d",
			    MAX_COLUMNS, in->nfields);
	in->ncols = in->nfields;
	in->colname = xcalloc((size_t)in->ncols, sizeof(*in->colname));
	in->role = xcalloc((size_t)in->ncols, sizeof(*in->role));
	for (int c = 0; c < in->ncols; c++) {
		const char *s = in->fields[c];
		size_t len = strlen(s);
		if (!utf8_valid(s, len))
			return fail(in, INGEST_ERR_DATA, in->line, NULL,
				    "expected a text header line, found binary data in %s",
				    show(in, s, len));
		s = trim(s, &len);
		in->colname[c] = xstrndup(s, len);
	}
	if (in->fmt == WL_FMT_AUTO) {
		in->fmt = detect_csv(in->colname, in->ncols);
		const char *first = in->colname[0];
		if (in->fmt == WL_FMT_AUTO && first[0] == '#')
			return fail(in, INGEST_ERR_DATA, in->line, NULL,
				    "expected a workload file, found Prometheus text exposition (a "
				    "/metrics scrape, %s): export the histograms' increase() per window "
				    "as CSV (%s)", show(in, first, strlen(first)),
				    csv_formats[WL_FMT_PROMETHEUS].header);
		const char *sep = in->ncols == 1 ? strpbrk(first, ";\t|") : NULL;
		if (in->fmt == WL_FMT_AUTO && sep)
			return fail(in, INGEST_ERR_DATA, in->line, NULL,
				    "expected comma-separated columns, found %s separated by %s "
				    "(convert it to CSV)", show(in, first, strlen(first)),
				    *sep == '\t' ? "tabs" : *sep == ';' ? "';'" : "'|'");
		if (in->fmt == WL_FMT_AUTO)
			return fail(in, INGEST_ERR_DATA, in->line, NULL,
				    "expected a header line naming the columns of a requests (%s), "
				    "buckets or prometheus file, found %s",
				    csv_formats[WL_FMT_REQUESTS].header,
				    show(in, in->fields[0], strlen(in->fields[0])));
	}
	const struct csv_format *f = &csv_formats[in->fmt];
	for (int r = 0; r < R_NROLES; r++)
		in->role_col[r] = -1;
	for (int c = 0; c < in->ncols; c++) {
		for (size_t i = 0; i < f->ncolumns; i++) {
			if (strcasecmp(in->colname[c], f->columns[i].name))
				continue;
			enum role r = f->columns[i].role;
			if (in->role_col[r] >= 0)
				return fail(in, INGEST_ERR_DATA, in->line, in->colname[c],
					    "expected once in the header, found again "
					    "(as column %d and %d)", in->role_col[r] + 1, c + 1);
			in->role_col[r] = c;
			in->role[c] = r;
		}
	}
	for (const enum role *r = f->required; *r != R_NONE; r++)
		if (in->role_col[*r] < 0)
			return fail(in, INGEST_ERR_DATA, in->line, canonical_name(*r),
				    "expected in the header line (%s format: %s)",
				    wl_format_name(in->fmt), f->header);
	if (in->fmt == WL_FMT_BUCKETS && (in->role_col[R_PSTART] < 0) != (in->role_col[R_PEND] < 0))
		return fail(in, INGEST_ERR_DATA, in->line,
			    canonical_name(in->role_col[R_PSTART] < 0 ? R_PSTART : R_PEND),
			    "expected in the header line alongside %s",
			    canonical_name(in->role_col[R_PSTART] < 0 ? R_PEND : R_PSTART));

	in->h = wl_hist_new(in->fmt == WL_FMT_REQUESTS ? in->edges : NULL);
	in->arr = wl_arrivals_new(in->window_ns);
	if (!in->h || !in->arr)
		return out_of_memory(in);
	if (in->fmt == WL_FMT_PROMETHEUS)
		in->prom = xcalloc(1, sizeof(*in->prom));
	in->header_done = 1;
	return 0;
}

static int csv_row(struct ingest *in)
{
	if (!in->header_done)
		return header_row(in);
	if (in->nfields < in->ncols)
		return fail(in, INGEST_ERR_DATA, in->line, in->colname[in->nfields],
			    "expected a value (%d columns as in the header), found %d column%s",
			    in->ncols, in->nfields, in->nfields == 1 ? "" : "s");
	if (in->nfields > in->ncols) {
		char col[16];
		snprintf(col, sizeof(col), "%d", in->ncols + 1);
		return fail(in, INGEST_ERR_DATA, in->line, col,
			    "expected %d columns as in the header, found %d",
			    in->ncols, in->nfields);
	}
	in->rows++;
	switch (in->fmt) {
	case WL_FMT_REQUESTS:
		return requests_row(in);
	case WL_FMT_BUCKETS:
		return buckets_row(in);
	case WL_FMT_PROMETHEUS:
		return prometheus_row(in);
	default:
		return -1;
	}
}

/* csvrows' callback: one CSV record. A quoted field may span lines: a row is named by its first. */
static int csv_record(void *arg, char **fields, int nfields, long line)
{
	struct ingest *in = arg;
	int64_t now = in->line;
	in->fields = fields;
	in->nfields = nfields;
	in->line = line;
	csv_row(in);
	in->line = now;
	in->fields = NULL;
	return in->status;
}

/* ---- Mooncake lines --------------------------------------------------- */

static int json_fail(struct ingest *in, const char *key, const char *what, const cJSON *v)
{
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;
	fail(in, INGEST_ERR_DATA, in->line, key, "expected %s, found %s", what,
	     v ? (text ? shows(in, text) : "?") : "no such key");
	free(text);
	return -1;
}

/* A JSON whole number in [0, max]. */
static int json_count(struct ingest *in, const cJSON *obj, const char *key, int64_t max,
		      const char *what, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)max ||
	    v->valuedouble != floor(v->valuedouble))
		return json_fail(in, key, what, v);
	*out = (int64_t)v->valuedouble;
	return 0;
}

/*
 * The first object of a file guessed to be Mooncake from its '{': when it
 * has neither length key it is some other JSON, and the message says what
 * it looks like and what piqplan reads instead. 1 after fail(), else 0.
 */
static int foreign_json(struct ingest *in, const cJSON *obj)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, "input_length") ||
	    cJSON_GetObjectItemCaseSensitive(obj, "output_length"))
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(obj, "status") &&
	    cJSON_GetObjectItemCaseSensitive(obj, "data")) {
		fail(in, INGEST_ERR_DATA, in->line, NULL,
		     "expected a workload file, found a Prometheus HTTP API response (JSON): "
		     "export the vllm:request_prompt_tokens and vllm:request_generation_tokens "
		     "histograms as CSV (%s)", csv_formats[WL_FMT_PROMETHEUS].header);
		return 1;
	}
	struct strbuf keys = STRBUF_INIT;
	const cJSON *k;
	int n = 0;
	cJSON_ArrayForEach(k, obj) {
		if (n++ == 6) {
			strbuf_addstr(&keys, ", ...");
			break;
		}
		strbuf_addf(&keys, "%s%s", keys.len ? ", " : "", shows(in, k->string ? k->string : ""));
	}
	fail(in, INGEST_ERR_DATA, in->line, NULL,
	     "expected Mooncake JSON lines (keys timestamp, input_length, output_length, "
	     "hash_ids), found keys %s: other JSON lines (a gateway log?) must become the "
	     "requests CSV (%s)", keys.len ? keys.buf : "none", csv_formats[WL_FMT_REQUESTS].header);
	strbuf_release(&keys);
	return 1;
}

static int mooncake_line(struct ingest *in, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (i == len)
		return 0;
	const char *end = NULL;
	cJSON *obj = cJSON_ParseWithLengthOpts(s, len, &end, 0);
	int ret = -1;
	while (obj && end < s + len && strchr(" \t\r\n", *end))
		end++;
	if (!cJSON_IsObject(obj) || end != s + len) {
		/* The parse ran out of line: the object goes on below (pretty-printed JSON). */
		const char *stop = obj ? NULL : cJSON_GetErrorPtr();
		size_t rest = len;
		while (rest && strchr(" \t\r\n", s[rest - 1]))
			rest--;
		if (in->json_guessed && in->rows == 0 && stop && stop >= s + rest)
			fail(in, INGEST_ERR_DATA, in->line, NULL,
			     "expected JSON lines (one whole JSON object per line, as Mooncake "
			     "traces are), found %s: a JSON document spread over lines (such as a "
			     "Prometheus API response) is not a workload file", show(in, s + i, len - i));
		else
			fail(in, INGEST_ERR_DATA, in->line, NULL, "expected a JSON object, found %s",
			     show(in, s + i, len - i));
		goto cleanup;
	}
	if (in->json_guessed && in->rows == 0 && foreign_json(in, obj))
		goto cleanup;
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
	double max_ts = (double)(MAX_EPOCH_NS / in->unit_ns);
	if (!cJSON_IsNumber(ts) || !(ts->valuedouble >= 0) || !(ts->valuedouble <= max_ts)) {
		char what[96];
		snprintf(what, sizeof(what), "a time in %s from 0 to %.0f (2262-04-11)",
			 ingest_time_unit_name(in->unit_ns), max_ts);
		json_fail(in, "timestamp", what, ts);
		goto cleanup;
	}
	int64_t p, o;
	if (json_count(in, obj, "input_length", WL_TOKENS_MAX,
		       "a prompt token count (0..10000000)", &p) ||
	    json_count(in, obj, "output_length", WL_TOKENS_MAX,
		       "an output token count (0..10000000)", &o))
		goto cleanup;
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(obj, "hash_ids"), *id;
	if (!cJSON_IsArray(ids)) {
		json_fail(in, "hash_ids", "an array of block ids", ids);
		goto cleanup;
	}
	cJSON_ArrayForEach(id, ids) {
		if (!cJSON_IsNumber(id) || id->valuedouble < 0 ||
		    id->valuedouble >= (double)WL_MAX_BLOCK_ID ||
		    id->valuedouble != floor(id->valuedouble)) {
			json_fail(in, "hash_ids", "block ids (whole numbers 0..2^30-1)", id);
			goto cleanup;
		}
		if (wl_status(in, wl_blockset_add_at(&in->blocks, (int64_t)id->valuedouble,
						     ts->valuedouble * (double)in->unit_ns / 1e9),
			      NULL))
			goto cleanup;
	}
	if (wl_status(in, wl_hist_add_request(in->h, p, o), NULL) ||
	    wl_status(in, wl_arrivals_add(in->arr, llround(ts->valuedouble *
							     (double)in->unit_ns)), NULL))
		goto cleanup;
	in->rows++;
	ret = 0;
cleanup:
	cJSON_Delete(obj);
	return ret;
}

/* ---- the byte stream -------------------------------------------------- */

/* Decide the format at the first non-blank byte; returns bytes consumed. */
static size_t start(struct ingest *in, const char *buf, size_t n)
{
	size_t i = 0;
	for (; i < n; i++) {
		if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n'))
			in->line++;	/* a blank line (a CR alone ends one too) */
		else if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r')
			break;
	}
	if (i == n)
		return n;
	in->started = 1;
	if (in->fmt == WL_FMT_AUTO && buf[i] == '[') {
		fail(in, INGEST_ERR_DATA, in->line, NULL,
		     "expected a workload file, found a JSON array (a dataset such as ShareGPT has "
		     "no arrival times or token counts): piqplan reads Mooncake JSON lines (one "
		     "{\"timestamp\", \"input_length\", \"output_length\", \"hash_ids\"} object "
		     "per line) or CSV (requests: %s; buckets; prometheus)",
		     csv_formats[WL_FMT_REQUESTS].header);
		return n;
	}
	if (in->fmt == WL_FMT_AUTO && buf[i] == '{') {
		in->fmt = WL_FMT_MOONCAKE;
		in->json_guessed = 1;
	}
	if (in->fmt == WL_FMT_MOONCAKE) {
		if (!in->unit_ns)
			in->unit_ns = 1000000;	/* Mooncake's timestamps are milliseconds */
		in->h = wl_hist_new(in->edges);
		in->arr = wl_arrivals_new(in->window_ns);
		if (!in->h || !in->arr)
			out_of_memory(in);
	}
	return i;
}

/* Feed bytes that belong to the current physical line (no '\n' but maybe the last). */
static void feed_line_part(struct ingest *in, const char *p, size_t len)
{
	if (len)
		in->last_line = in->line;
	if (memchr(p, '\0', len)) {
		fail(in, INGEST_ERR_DATA, in->line, NULL,
		     "expected text, found a NUL byte (a binary file?)");
		return;
	}
	if (in->fmt == WL_FMT_MOONCAKE) {
		if (in->linebuf.len + len > MAX_LINE_BYTES) {
			fail(in, INGEST_ERR_DATA, in->line, NULL,
			     "expected a line of at most %u bytes, found a longer one", MAX_LINE_BYTES);
			return;
		}
		strbuf_add(&in->linebuf, p, len);
		return;
	}
	csvrows_set_line(in->csv, (long)in->line);
	if (csvrows_feed(in->csv, p, len) == -1 && !in->status) {
		if (csvrows_too_long(in->csv))
			fail(in, INGEST_ERR_DATA, csvrows_error_line(in->csv), NULL,
			     "expected a CSV record of at most %u bytes, found a longer one",
			     MAX_LINE_BYTES);
		else
			fail(in, INGEST_ERR_DATA, in->line, NULL, "expected CSV (a '\"' only opens "
			     "or closes a field, and is doubled inside one): %s",
			     csvrows_error_detail(in->csv));
	}
}

static void end_line(struct ingest *in)
{
	if (in->fmt == WL_FMT_MOONCAKE) {
		mooncake_line(in, in->linebuf.buf ? in->linebuf.buf : "", in->linebuf.len);
		in->linebuf.len = 0;
	}
}

static void next_line(struct ingest *in)
{
	if (in->status)
		return;
	end_line(in);
	if (!in->status)
		in->line++;
}

/*
 * Cut the bytes into physical lines: a line ends with a LF, a CRLF or a CR
 * alone (old Mac files; libcsv ends CSV records there too, so line numbers
 * must count it). A CR at the end of a read is decided by the next byte.
 */
static void feed(struct ingest *in, const char *buf, size_t n)
{
	if (!in->started) {
		size_t skip = start(in, buf, n);
		buf += skip;
		n -= skip;
	}
	if (in->pending_cr && n && !in->status) {
		in->pending_cr = 0;
		if (*buf == '\n') {		/* a CRLF cut in two by the reads */
			feed_line_part(in, buf, 1);
			buf++;
			n--;
		}
		next_line(in);
	}
	while (n && !in->status) {
		size_t i = 0;
		while (i < n && buf[i] != '\n' && buf[i] != '\r')
			i++;
		if (i == n) {
			feed_line_part(in, buf, n);
			return;
		}
		size_t len = i + 1;
		if (buf[i] == '\r' && i + 1 == n) {
			feed_line_part(in, buf, len);
			in->pending_cr = 1;
			return;
		}
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			len++;
		feed_line_part(in, buf, len);
		next_line(in);
		buf += len;
		n -= len;
	}
}

static void finish_input(struct ingest *in)
{
	if (!in->started) {
		fail(in, INGEST_ERR_DATA, 1, NULL,
		     "expected a header line or a JSON object, found an empty file");
		return;
	}
	if (in->pending_cr) {
		in->pending_cr = 0;
		next_line(in);
	}
	if (in->fmt == WL_FMT_MOONCAKE) {
		if (in->linebuf.len)
			end_line(in);
	} else if (csvrows_finish(in->csv) == -1 && !in->status) {
		fail(in, INGEST_ERR_DATA, csvrows_error_line(in->csv), NULL, "expected CSV: %s",
		     csvrows_error_detail(in->csv));
	}
	if (in->status)
		return;
	in->line = in->last_line;
	if (in->fmt != WL_FMT_MOONCAKE && !in->header_done) {
		fail(in, INGEST_ERR_DATA, 1, NULL, "expected a header line, found none");
		return;
	}
	if (in->rows == 0) {
		fail(in, INGEST_ERR_DATA, in->line, NULL, "expected at least one %s, found none",
		     in->fmt == WL_FMT_MOONCAKE ? "JSON line" : "row after the header");
		return;
	}
	if (in->fmt == WL_FMT_BUCKETS && wl_hist_requests(in->h) == 0) {
		fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_REQUESTS),
		     "expected at least one request in all, found none (every row counts 0)");
		return;
	}
	if (in->fmt == WL_FMT_PROMETHEUS)
		prometheus_finish(in);
}

static void ingest_release(struct ingest *in)
{
	csvrows_free(in->csv);
	for (int c = 0; c < in->ncols; c++)
		free(in->colname[c]);
	free(in->colname);
	free(in->role);
	strbuf_release(&in->linebuf);
	if (in->prom) {
		for (int i = 0; i < in->prom->nmodels; i++)
			free(in->prom->models[i]);
		for (int i = 0; i < in->prom->nothers; i++)
			free(in->prom->others[i]);
		free(in->prom->g);
	}
	free(in->prom);
	wl_arrivals_free(in->arr);
	wl_blockset_release(&in->blocks);
	wl_hist_free(in->h);
}

int ingest_stream(FILE *f, const char *name, uint64_t size, const struct ingest_opts *opts,
		  struct workload_summary *out, struct wl_hist **hist,
		  char *err, size_t errsz)
{
	static const struct ingest_opts defaults = INGEST_OPTS_INIT;
	struct wl_edges log2_edges;
	struct ingest in = { 0 };
	struct sha256 sha;
	char *buf = NULL;
	uint64_t done = 0, next_progress = PROGRESS_EVERY_BYTES;

	*hist = NULL;
	if (!opts)
		opts = &defaults;
	if (errsz)
		err[0] = '\0';
	in.name = name;
	in.err = err;
	in.errsz = errsz;
	in.line = 1;
	in.fmt = opts->format;
	in.model_filter = opts->model;
	in.unit_ns = opts->time_unit_ns;
	in.unit_given = opts->time_unit_ns != 0;
	in.peak_rps_max = NAN;
	in.edges = opts->edges;
	if (!in.edges) {
		wl_edges_parse("log2", &log2_edges, NULL);
		in.edges = &log2_edges;
	}
	double window_s = opts->window_s ? opts->window_s : DEFAULT_WINDOW_S;
	if (!(window_s >= 1e-3 && window_s <= 1e7))
		return fail(&in, INGEST_ERR_USAGE, 0, NULL,
			    "expected a window of 0.001 to 10000000 seconds, found %g", window_s),
		       INGEST_ERR_USAGE;
	in.window_ns = llround(window_s * 1e9);
	in.csv = csvrows_new(csv_record, &in);
	csvrows_set_max_fields(in.csv, MAX_COLUMNS);
	csvrows_set_max_record_bytes(in.csv, MAX_LINE_BYTES);
	csvrows_set_strict_end(in.csv);

	buf = xmalloc(CHUNK_BYTES);
	sha256_init(&sha);
	for (;;) {
		size_t n = fread(buf, 1, CHUNK_BYTES, f);
		if (n == 0)
			break;
		sha256_update(&sha, buf, n);
		done += n;
		if (!in.started && done == n && n >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
			feed(&in, buf + 3, n - 3);	/* a UTF-8 byte-order mark */
		else
			feed(&in, buf, n);
		if (in.status)
			break;
		if (opts->progress && done >= next_progress) {
			opts->progress(opts->progress_ctx, done, size);
			next_progress = done + PROGRESS_EVERY_BYTES;
		}
	}
	if (ferror(f))
		fail(&in, INGEST_ERR_IO, 0, NULL, "read error: %s", strerror(errno));
	if (!in.status)
		finish_input(&in);
	if (!in.status) {
		int64_t la = 0, lb = 0;
		int rc = wl_hist_finish(in.h, &la, &lb);
		if (rc == WL_EOVERLAP)
			fail(&in, INGEST_ERR_DATA, lb, column_name(&in, R_PLO),
			     "expected a bucket that does not overlap the bucket on line %lld",
			     (long long)la);
		else
			wl_status(&in, rc, NULL);
	}
	if (!in.status) {
		if (opts->progress)
			opts->progress(opts->progress_ctx, done, size);
		wl_summary_init(out);
		out->format = in.fmt;
		wl_summary_fill(out, in.h, in.arr);
		if (in.fmt == WL_FMT_BUCKETS || in.fmt == WL_FMT_PROMETHEUS)
			out->window_s = NAN;
		if (in.fmt == WL_FMT_BUCKETS)
			out->peak_rps = in.peak_rps_max;
		double fast = out->peak_rps > WL_MAX_RPS ? out->peak_rps : out->mean_rps;
		if (fast > WL_MAX_RPS)
			fail(&in, INGEST_ERR_DATA, 0, NULL,
			     "expected request rates of at most %.0f per second, found a %s of %.6g "
			     "(timestamps or windows a nanosecond apart?)", WL_MAX_RPS,
			     fast == out->peak_rps ? "peak" : "mean", fast);
	}
	if (!in.status) {
		out->independent_marginals = in.fmt == WL_FMT_PROMETHEUS;
		if (in.exact_sums)
			out->sums_estimated = 0;	/* totals from the _sum rows */
		if (in.fmt == WL_FMT_MOONCAKE) {
			out->prefix_blocks = in.blocks.blocks;
			out->prefix_blocks_repeated = in.blocks.repeated;
			if (in.blocks.blocks && !in.blocks.overflow)
				out->prefix_reuse_share =
					(double)in.blocks.repeated / (double)in.blocks.blocks;
			/* The reuse-time curve, when every repeat was timed (no sparse ids). */
			if (in.blocks.blocks && !in.blocks.overflow &&
			    in.blocks.timed_repeated == in.blocks.repeated) {
				out->have_reuse_within = 1;
				for (int k = 0; k < WL_REUSE_POINTS; k++)
					out->reuse_within[k] = (double)in.blocks.reuse_within[k] /
							       (double)in.blocks.blocks;
			}
		}
		out->file_bytes = (int64_t)done;
		sha256_final_hex(&sha, out->sha256_hex);
		*hist = in.h;
		in.h = NULL;
	}
	free(buf);
	ingest_release(&in);
	return in.status;
}

int ingest_file(const char *path, const struct ingest_opts *opts,
		struct workload_summary *out, struct wl_hist **hist,
		char *err, size_t errsz)
{
	struct stat st;
	uint64_t size = 0;
	*hist = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "cannot open '%s': %s", path, strerror(errno));
		return INGEST_ERR_IO;
	}
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	else if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "cannot read '%s': is a directory", path);
		fclose(f);
		return INGEST_ERR_IO;
	}
	int ret = ingest_stream(f, path, size, opts, out, hist, err, errsz);
	if (fclose(f) && ret == INGEST_OK) {
		snprintf(err, errsz, "cannot close '%s': %s", path, strerror(errno));
		wl_hist_free(*hist);
		*hist = NULL;
		ret = INGEST_ERR_IO;
	}
	return ret;
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* See workload_file.h. */
char *ingest_edges_text(const struct wl_edges *e, const char *spec, enum wl_format fmt,
			const struct wl_hist *h)
{
	struct strbuf sb = STRBUF_INIT;
	if (fmt == WL_FMT_REQUESTS || fmt == WL_FMT_MOONCAKE) {
		if (!spec || !*spec || !strcmp(spec, "log2"))
			return xstrdup("log2");
		for (int i = 1; i < e->n - 1; i++)
			strbuf_addf(&sb, "%s%lld", sb.len ? "," : "", (long long)e->edge[i]);
		return strbuf_detach(&sb);
	}
	size_t n = wl_hist_buckets(h), k = 0;
	int64_t *v = xmalloc((4 * n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct wl_bucket *b = wl_hist_bucket(h, i);
		v[k++] = b->prompt_lo;
		v[k++] = b->prompt_hi;
		v[k++] = b->output_lo;
		v[k++] = b->output_hi;
	}
	qsort(v, k, sizeof(*v), cmp_int64);
	for (size_t i = 0; i < k; i++) {
		if (v[i] == 0 || v[i] >= WL_TOKENS_END || (i && v[i] == v[i - 1]))
			continue;
		strbuf_addf(&sb, "%s%lld", sb.len ? "," : "", (long long)v[i]);
	}
	free(v);
	return sb.len ? strbuf_detach(&sb) : xstrdup("");
}
