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
#define MAX_LINE_BYTES		(64u << 20)	/* a longer Mooncake line is junk */
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

/* One vLLM histogram metric of a Prometheus export, summed over windows. */
enum { PROM_PROMPT, PROM_OUTPUT };

struct prom_metric {
	double le[MAX_LE_BOUNDS];	/* bounds of the first window: the template */
	int64_t le_line[MAX_LE_BOUNDS];	/* where each was first seen */
	double delta[MAX_LE_BOUNDS];	/* requests in (le[k-1], le[k]], all windows */
	size_t n;
	int templated;			/* the first window is complete */
};

struct prom_state {
	struct prom_metric metric[2];
	int in_group;			/* a (window, model, metric) group is open */
	int64_t start_ns, end_ns;
	char *model;
	int which;			/* PROM_PROMPT or PROM_OUTPUT */
	size_t k;			/* rows seen in the group */
	double prev_le, prev_count;
	int64_t prev_line;
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

	/* prometheus */
	struct prom_state *prom;

	/* mooncake */
	struct strbuf linebuf;
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
		if (v > max)
			big = 1;
		else
			v = v * 10 + (s[i] - '0');
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

/* A finite real; 0 or -1. */
static int parse_real(const char *s, size_t len, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
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
		if (parse_real(s, len, &peak) || peak < 0)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_PEAK),
				    "expected requests per second >= 0, found %s",
				    show(in, s, len));
		if (isnan(in->peak_rps_max) || peak > in->peak_rps_max)
			in->peak_rps_max = peak;
	}
	return wl_status(in, wl_hist_add_bucket(in->h, plo, phi, olo, ohi, n, in->line),
			 column_name(in, R_REQUESTS));
}

/* ---- prometheus ------------------------------------------------------- */

static void le_text(double le, char *buf, size_t n)
{
	if (isinf(le))
		snprintf(buf, n, "+Inf");
	else
		snprintf(buf, n, "%.15g", le);
}

/* The open group is complete: check it against its metric's template. */
static int prom_close_group(struct ingest *in)
{
	struct prom_state *ps = in->prom;
	struct prom_metric *m = &ps->metric[ps->which];
	char want[32];
	if (!ps->in_group)
		return 0;
	ps->in_group = 0;
	if (!m->templated) {
		if (!isinf(ps->prev_le))
			return fail(in, INGEST_ERR_DATA, ps->prev_line, column_name(in, R_LE),
				    "expected the last row of a window to have le=+Inf");
		m->templated = 1;
	} else if (ps->k != m->n) {
		le_text(m->le[ps->k], want, sizeof(want));
		return fail(in, INGEST_ERR_DATA, ps->prev_line, column_name(in, R_LE),
			    "expected a next row with le=%s, as in the first window (line %lld)",
			    want, (long long)m->le_line[ps->k]);
	}
	if (ps->which == PROM_PROMPT)
		return wl_status(in, wl_arrivals_add_window(in->arr, ps->start_ns, ps->end_ns,
							    ps->prev_count), NULL);
	return 0;
}

static int prom_metric_of(const char *s, size_t len)
{
	if (len >= 5 && !strncmp(s, "vllm:", 5)) {
		s += 5;
		len -= 5;
	}
	if (len >= 7 && !strncmp(s + len - 7, "_bucket", 7))
		len -= 7;
	if (len == 21 && !strncmp(s, "request_prompt_tokens", 21))
		return PROM_PROMPT;
	if (len == 25 && !strncmp(s, "request_generation_tokens", 25))
		return PROM_OUTPUT;
	return -1;
}

static int prometheus_row(struct ingest *in)
{
	struct prom_state *ps = in->prom;
	int64_t start, end;
	size_t mlen, len;
	const char *model = cell(in, R_MODEL, &mlen);
	if (in->model_filter && (strlen(in->model_filter) != mlen ||
				 strncmp(in->model_filter, model, mlen)))
		return 0;
	if (time_cell(in, R_WSTART, &start) || time_cell(in, R_WEND, &end))
		return -1;
	const char *s = cell(in, R_WEND, &len);
	if (end <= start)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_WEND),
			    "expected a time after window_start, found %s", show(in, s, len));
	s = cell(in, R_METRIC, &len);
	int which = prom_metric_of(s, len);
	if (which < 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_METRIC),
			    "expected [vllm:]request_prompt_tokens or "
			    "[vllm:]request_generation_tokens, found %s", show(in, s, len));
	double le, count;
	size_t le_len, count_len;
	const char *le_s = cell(in, R_LE, &le_len), *count_s = cell(in, R_COUNT, &count_len);
	if (is_inf_word(le_s, le_len))
		le = INFINITY;
	else if (parse_real(le_s, le_len, &le) || le < 0 || le > WL_TOKENS_MAX)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
			    "expected a bucket bound in tokens (0..%d) or +Inf, found %s",
			    WL_TOKENS_MAX, show(in, le_s, le_len));
	if (parse_real(count_s, count_len, &count) || count < 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected a request count >= 0, found %s",
			    show(in, count_s, count_len));

	if (!ps->in_group || ps->start_ns != start || ps->end_ns != end || ps->which != which ||
	    strlen(ps->model) != mlen || strncmp(ps->model, model, mlen)) {
		if (prom_close_group(in))
			return -1;
		free(ps->model);
		ps->model = xstrndup(model, mlen);
		ps->in_group = 1;
		ps->start_ns = start;
		ps->end_ns = end;
		ps->which = which;
		ps->k = 0;
		ps->prev_le = -INFINITY;
		ps->prev_count = 0;
	}
	struct prom_metric *m = &ps->metric[which];
	char prev[32];
	le_text(ps->prev_le, prev, sizeof(prev));
	if (ps->k > 0 && !(le > ps->prev_le))
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
			    "expected a bound above the previous row's le=%s, found %s",
			    prev, show(in, le_s, le_len));
	if (count < ps->prev_count)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected a cumulative count >= %.15g (le=%s on line %lld), found %s",
			    ps->prev_count, prev, (long long)ps->prev_line,
			    show(in, count_s, count_len));
	if (m->templated) {
		char want[32];
		if (ps->k >= m->n)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected no more rows than the first window (line %lld)",
				    (long long)m->le_line[0]);
		if (m->le[ps->k] != le) {
			le_text(m->le[ps->k], want, sizeof(want));
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected le=%s as in the first window (line %lld), found %s",
				    want, (long long)m->le_line[ps->k],
				    show(in, le_s, le_len));
		}
	} else {
		if (m->n >= MAX_LE_BOUNDS)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected at most %d bounds per window", MAX_LE_BOUNDS);
		double lo = ps->k ? floor(ps->prev_le) + 1 : 0;
		if (!isinf(le) && floor(le) + 1 <= lo)
			return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_LE),
				    "expected bounds at least one token apart, found %s",
				    show(in, le_s, le_len));
		m->le[m->n] = le;
		m->le_line[m->n] = in->line;
		m->delta[m->n] = 0;
		m->n++;
	}
	m->delta[ps->k] += count - ps->prev_count;
	ps->k++;
	ps->prev_le = le;
	ps->prev_count = count;
	ps->prev_line = in->line;
	return 0;
}

static int prometheus_finish(struct ingest *in)
{
	struct prom_state *ps = in->prom;
	if (prom_close_group(in))
		return -1;
	struct prom_metric *mp = &ps->metric[PROM_PROMPT], *mo = &ps->metric[PROM_OUTPUT];
	if (!mp->n || !mo->n)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_METRIC),
			    "expected rows of both request_prompt_tokens and "
			    "request_generation_tokens%s%s%s",
			    in->model_filter ? " for model '" : "",
			    in->model_filter ? in->model_filter : "",
			    in->model_filter ? "'" : "");
	struct wl_marginal_bin bins[2][MAX_LE_BOUNDS];
	double total = 0;
	for (int w = 0; w < 2; w++) {
		struct prom_metric *m = &ps->metric[w];
		for (size_t k = 0; k < m->n; k++) {
			bins[w][k].lo = k ? (int64_t)floor(m->le[k - 1]) + 1 : 0;
			bins[w][k].hi = isinf(m->le[k]) ? WL_TOKENS_END
							: (int64_t)floor(m->le[k]) + 1;
			bins[w][k].requests = m->delta[k];
			if (w == PROM_PROMPT)
				total += m->delta[k];
		}
	}
	int64_t requests = llround(total);
	if (requests <= 0)
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected at least one request in the prompt token counts");
	double out_total = 0;
	for (size_t k = 0; k < mo->n; k++)
		out_total += mo->delta[k];
	if (!(out_total > 0))
		return fail(in, INGEST_ERR_DATA, in->line, column_name(in, R_COUNT),
			    "expected at least one request in the generation token counts");
	return wl_status(in, wl_hist_add_independent(in->h, bins[PROM_PROMPT], mp->n,
						     bins[PROM_OUTPUT], mo->n, requests), NULL);
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
		fail(in, INGEST_ERR_DATA, in->line, NULL, "expected a JSON object, found %s",
		     show(in, s + i, len - i));
		goto cleanup;
	}
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
		if (wl_status(in, wl_blockset_add(&in->blocks, (int64_t)id->valuedouble), NULL))
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
		if (buf[i] == '\n')
			in->line++;
		else if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r')
			break;
	}
	if (i == n)
		return n;
	in->started = 1;
	if (in->fmt == WL_FMT_AUTO && buf[i] == '{')
		in->fmt = WL_FMT_MOONCAKE;
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
			     "expected a line shorter than %u bytes", MAX_LINE_BYTES);
			return;
		}
		strbuf_add(&in->linebuf, p, len);
		return;
	}
	csvrows_set_line(in->csv, (long)in->line);
	if (csvrows_feed(in->csv, p, len) == -1 && !in->status)
		fail(in, INGEST_ERR_DATA, in->line, NULL, "expected CSV: %s",
		     csvrows_error_detail(in->csv));
}

static void end_line(struct ingest *in)
{
	if (in->fmt == WL_FMT_MOONCAKE) {
		mooncake_line(in, in->linebuf.buf ? in->linebuf.buf : "", in->linebuf.len);
		in->linebuf.len = 0;
	}
}

static void feed(struct ingest *in, const char *buf, size_t n)
{
	if (!in->started) {
		size_t skip = start(in, buf, n);
		buf += skip;
		n -= skip;
	}
	while (n && !in->status) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) + 1 : n;
		feed_line_part(in, buf, len);
		if (nl && !in->status) {
			end_line(in);
			if (!in->status)
				in->line++;
		}
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
	if (in->prom)
		free(in->prom->model);
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
		out->independent_marginals = in.fmt == WL_FMT_PROMETHEUS;
		if (in.fmt == WL_FMT_MOONCAKE) {
			out->prefix_blocks = in.blocks.blocks;
			out->prefix_blocks_repeated = in.blocks.repeated;
			if (in.blocks.blocks)
				out->prefix_reuse_share =
					(double)in.blocks.repeated / (double)in.blocks.blocks;
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
