/*
 * calibration_file.c - see calibration_file.h. lib/csvrows.h cuts the
 * records; this file knows what each column must hold.
 */
#define _POSIX_C_SOURCE 200809L
#include "ingest/calibration_file.h"
#include "lib/csvrows.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "planner/workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The columns a calibration file must have, in calibration.csv's order. */
enum col {
	C_MODEL, C_GPU, C_GPUS, C_TP, C_PP, C_EP, C_PRECISION, C_ENGINE, C_ISL, C_OSL,
	C_LOAD, C_LOAD_VALUE, C_TOK_S, C_TTFT, C_TPOT, C_N
};

static const char *const col_names[C_N] = {
	"model", "gpu", "gpus", "tp", "pp", "ep", "precision", "engine", "isl", "osl",
	"load", "load_value", "output_tok_s", "ttft_ms", "tpot_ms",
};

/* Beyond these a calibration file is junk: a row is ~100 bytes, a study a few hundred rows. */
#define CALIB_MAX_RECORD_BYTES	(1u << 20)
#define CALIB_MAX_ROWS		100000

/* Optional columns: where a row comes from and how it was served. */
enum opt_col { O_SOURCE, O_MODE, O_EXCLUDED, O_NOTES, O_KV, O_OSL_MAX, O_N };

static const char *const opt_names[O_N] = {
	"source", "mode", "excluded", "notes", "kv_dtype", "osl_max",
};

/* The serving modes a measurement may name (schema/009_measurement.sql). */
static const char *const modes[] = { "standard", "mtp", "spec", "disagg", "prefix-cache" };

struct calib_reader {
	const char *name;
	calib_record_fn *fn;
	void *arg;
	struct csvrows *csv;
	int col[C_N];
	int opt[O_N];			/* -1: absent */
	int header_seen;
	long rows;
	long line;		/* physical line of the next byte fed: for a NUL byte */
	int bom_seen;		/* bytes of a leading byte-order mark matched; 3: past it */
	int after_cr;		/* the last byte fed was a CR */
};

static int row_error(struct calib_reader *rd, long line, int col, const char *what)
{
	return data_error("%s:%ld: column %s: expected %s", rd->name, line, col_names[col], what);
}

/* The header: every column by name, in any case and order, each once (as workload files). */
static int read_header(struct calib_reader *rd, char **f, int n, long line)
{
	for (int c = 0; c < C_N; c++) {
		rd->col[c] = -1;
		for (int i = 0; i < n; i++) {
			if (strcasecmp(f[i], col_names[c]))
				continue;
			if (rd->col[c] >= 0)
				return data_error("%s:%ld: column %s: expected once in the header, found "
						  "again (as column %d and %d)", rd->name, line,
						  col_names[c], rd->col[c] + 1, i + 1);
			rd->col[c] = i;
		}
		if (rd->col[c] < 0)
			return data_error("%s:%ld: missing column %s (a calibration file has %s, ...)",
					  rd->name, line, col_names[c], "model,gpu,gpus,tp,pp,ep,"
					  "precision,engine,isl,osl,load,load_value,output_tok_s,ttft_ms,"
					  "tpot_ms");
	}
	for (int o = 0; o < O_N; o++)
		rd->opt[o] = csv_column(f, n, opt_names[o]);
	rd->header_seen = 1;
	return 0;
}

/*
 * A number from CALIB_MIN_VALUE up to max (absurd values would overflow
 * the model's integer token counts; one of 1e-300 made a percentage error
 * of 300 digits); an empty cell is 0 when optional.
 */
#define CALIB_MIN_VALUE 0.001
static int number(struct calib_reader *rd, char **f, long line, int c, int optional, double max,
		  double *out)
{
	const char *s = f[rd->col[c]];
	char want[96];
	*out = 0;
	if (!*s && optional)
		return 0;
	if (parse_double(s, out) || !(*out >= CALIB_MIN_VALUE) || !(*out <= max)) {
		snprintf(want, sizeof(want), "a number from %g to %.0f%s", CALIB_MIN_VALUE, max,
			 optional ? ", or nothing" : "");
		return row_error(rd, line, c, want);
	}
	return 0;
}

static int whole(struct calib_reader *rd, char **f, long line, int c, int lo, int *out)
{
	int64_t v;
	if (parse_int64(f[rd->col[c]], &v) || v < lo || v > 4096)
		return row_error(rd, line, c, lo == 0 ? "0 or 1" : "a whole number >= 1");
	*out = (int)v;
	return 0;
}

/* Check one data row and hand it over. */
static int read_row(struct calib_reader *rd, char **f, long line)
{
	struct calib_record rec;
	struct calib_row *r = &rec.row;
	const char *load = f[rd->col[C_LOAD]];
	int gpus = 0, e = 0;

	memset(&rec, 0, sizeof(rec));
	rec.line = r->line = line;
	rec.model = f[rd->col[C_MODEL]];
	rec.gpu = f[rd->col[C_GPU]];
	rec.engine = f[rd->col[C_ENGINE]];
	if (!*rec.model)
		return row_error(rd, line, C_MODEL, "a model id");
	if (!*rec.gpu)
		return row_error(rd, line, C_GPU, "a GPU id");
	if (!*rec.engine)
		return row_error(rd, line, C_ENGINE, "an engine id");
	if (whole(rd, f, line, C_GPUS, 1, &gpus) || whole(rd, f, line, C_TP, 1, &r->layout.tp) ||
	    whole(rd, f, line, C_PP, 1, &r->layout.pp) || whole(rd, f, line, C_EP, 0, &e))
		return -1;
	if (e > 1)
		return row_error(rd, line, C_EP, "0 or 1");
	if (gpus % (r->layout.tp * r->layout.pp))
		return row_error(rd, line, C_GPUS, "a multiple of tp x pp");
	r->layout.dp = gpus / (r->layout.tp * r->layout.pp);
	r->layout.ep = e;
	r->layout.kv_elem_bytes = 2;
	if (precision_parse(f[rd->col[C_PRECISION]], &r->layout.precision))
		return row_error(rd, line, C_PRECISION, "native, bf16, fp8 or fp4");
	if (!strcmp(load, "offline"))
		r->load = CALIB_OFFLINE;
	else if (!strcmp(load, "concurrency"))
		r->load = CALIB_CONCURRENCY;
	else if (!strcmp(load, "rate"))
		r->load = CALIB_RATE;
	else
		return row_error(rd, line, C_LOAD, "offline, concurrency or rate");
	if (number(rd, f, line, C_ISL, 0, WL_TOKENS_MAX, &r->isl) ||
	    number(rd, f, line, C_OSL, 0, WL_TOKENS_MAX, &r->osl) ||
	    number(rd, f, line, C_LOAD_VALUE, r->load == CALIB_OFFLINE, 1e9, &r->load_value) ||
	    number(rd, f, line, C_TOK_S, 0, 1e12, &r->output_tok_s) ||
	    number(rd, f, line, C_TTFT, 1, 1e9, &r->ttft_s) ||
	    number(rd, f, line, C_TPOT, 1, 1e9, &r->tpot_s))
		return -1;
	r->ttft_s /= 1e3;
	r->tpot_s /= 1e3;
	rec.source = rd->opt[O_SOURCE] >= 0 ? f[rd->opt[O_SOURCE]] : "";
	rec.mode = rd->opt[O_MODE] >= 0 && f[rd->opt[O_MODE]][0] ? f[rd->opt[O_MODE]] : "standard";
	rec.excluded = rd->opt[O_EXCLUDED] >= 0 ? f[rd->opt[O_EXCLUDED]] : "";
	rec.notes = rd->opt[O_NOTES] >= 0 ? f[rd->opt[O_NOTES]] : "";
	rec.kv_dtype = rd->opt[O_KV] >= 0 && f[rd->opt[O_KV]][0] ? f[rd->opt[O_KV]] : "auto";
	if (strcmp(rec.kv_dtype, "auto") && strcmp(rec.kv_dtype, "fp8"))
		return data_error("%s:%ld: column kv_dtype: expected auto or fp8", rd->name, line);
	r->layout.kv_elem_bytes = !strcmp(rec.kv_dtype, "fp8") ? 1 : 2;
	if (rd->opt[O_OSL_MAX] >= 0 && f[rd->opt[O_OSL_MAX]][0] &&
	    (parse_double(f[rd->opt[O_OSL_MAX]], &r->osl_max) || !(r->osl_max >= r->osl) ||
	     r->osl_max > WL_TOKENS_MAX))
		return data_error("%s:%ld: column osl_max: expected a number from osl up to %.0f, "
				  "or nothing", rd->name, line, (double)WL_TOKENS_MAX);
	int known = 0;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		known |= !strcmp(rec.mode, modes[i]);
	if (!known)
		return data_error("%s:%ld: column mode: expected standard, mtp, spec, disagg or "
				  "prefix-cache", rd->name, line);
	return rd->fn(rd->arg, &rec);
}

/* csvrows' callback: 1 stops the read (the message is out). */
static int on_record(void *arg, char **f, int n, long line)
{
	struct calib_reader *rd = arg;
	if (n == 1 && !f[0][0])		/* a blank line */
		return 0;
	if (!rd->header_seen)
		return read_header(rd, f, n, line) ? 1 : 0;
	if (++rd->rows > CALIB_MAX_ROWS) {
		data_error("%s:%ld: expected at most %d measured rows", rd->name, line, CALIB_MAX_ROWS);
		return 1;
	}
	int need = 0;
	for (int c = 0; c < C_N; c++)
		if (rd->col[c] >= need)
			need = rd->col[c] + 1;
	for (int o = 0; o < O_N; o++)
		if (rd->opt[o] >= need)
			need = rd->opt[o] + 1;
	if (n < need) {
		data_error("%s:%ld: %d fields, the header has at least %d", rd->name, line, n, need);
		return 1;
	}
	return read_row(rd, f, line) ? 1 : 0;
}

struct calib_reader *calib_reader_new(const char *name, calib_record_fn *fn, void *arg)
{
	struct calib_reader *rd = xcalloc(1, sizeof(*rd));
	rd->name = name;
	rd->fn = fn;
	rd->arg = arg;
	rd->csv = csvrows_new(on_record, rd);
	rd->line = 1;
	csvrows_set_max_record_bytes(rd->csv, CALIB_MAX_RECORD_BYTES);
	return rd;
}

/* csvrows' result as ours: its own complaint about malformed CSV is a data error. */
static int csv_result(struct calib_reader *rd, int r)
{
	if (r == -1 && csvrows_error(rd->csv)[0])
		data_error("%s:%ld: %s", rd->name, csvrows_error_line(rd->csv),
			   csvrows_error(rd->csv));
	return r ? -1 : 0;
}

/* Bytes after the byte-order mark: a NUL refused, lines counted for its message. */
static int feed_bytes(struct calib_reader *rd, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* A line ends with a LF, a CRLF or a CR alone, as csvrows counts them. */
		if (data[i] == '\r' || (data[i] == '\n' && !rd->after_cr))
			rd->line++;
		rd->after_cr = data[i] == '\r';
		if (data[i] == '\0')
			return data_error("%s:%ld: expected text, found a NUL byte (a binary file?)",
					  rd->name, rd->line);
	}
	return csv_result(rd, csvrows_feed(rd->csv, data, len));
}

static const char bom[3] = { '\xef', '\xbb', '\xbf' };

/*
 * The bytes as workload files take them: a leading UTF-8 byte-order mark
 * (spreadsheet exports) skipped, a NUL byte refused (it would cut a field
 * short, and /dev/zero would be read for ever).
 */
int calib_reader_feed(struct calib_reader *rd, const char *data, size_t len)
{
	while (len && rd->bom_seen < 3 && data[0] == bom[rd->bom_seen]) {
		rd->bom_seen++;
		data++;
		len--;
	}
	if (len && rd->bom_seen < 3) {		/* not a BOM after all: those bytes were text */
		int k = rd->bom_seen;
		rd->bom_seen = 3;
		if (k && feed_bytes(rd, bom, (size_t)k))
			return -1;
	}
	return len ? feed_bytes(rd, data, len) : 0;
}

int calib_reader_finish(struct calib_reader *rd)
{
	if (rd->bom_seen > 0 && rd->bom_seen < 3) {	/* the file was a piece of a BOM */
		int k = rd->bom_seen;
		rd->bom_seen = 3;
		if (feed_bytes(rd, bom, (size_t)k))
			return -1;
	}
	if (csv_result(rd, csvrows_finish(rd->csv)))
		return -1;
	if (!rd->header_seen)
		return data_error("%s: empty file (expected a header line)", rd->name);
	return 0;
}

void calib_reader_free(struct calib_reader *rd)
{
	if (!rd)
		return;
	csvrows_free(rd->csv);
	free(rd);
}

int calib_file_read(const char *path, calib_record_fn *fn, void *arg, char sha256_hex[65])
{
	FILE *fp = fopen(path, "rb");
	struct calib_reader *rd;
	struct sha256 hash;
	char buf[65536];
	size_t got;
	int r = 0;

	if (!fp)
		return error("cannot open '%s': %s", path, strerror(errno));
	sha256_init(&hash);
	rd = calib_reader_new(path, fn, arg);
	while (r == 0 && (got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		sha256_update(&hash, buf, got);
		r = calib_reader_feed(rd, buf, got);
	}
	if (r == 0 && ferror(fp))
		r = error("cannot read '%s': %s", path, strerror(errno));
	if (r == 0)
		r = calib_reader_finish(rd);
	calib_reader_free(rd);
	fclose(fp);
	if (r == 0)
		sha256_final_hex(&hash, sha256_hex);
	return r;
}
