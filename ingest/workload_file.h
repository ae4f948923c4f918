/*
 * workload_file.h - read a workload file (request log, ready histogram, Prometheus
 * export or Mooncake trace) in one streaming pass into a joint histogram
 * and a summary, hashing the bytes as they go by. No database here: the
 * caller stores what comes back, inside its one transaction.
 *
 * Memory does not grow with the number of rows: only the histogram, the
 * percentile sketches, counters and the tables described in
 * planner/workload.h (arrival slots: with the time span; Mooncake block
 * set: with distinct block ids) and the Prometheus groups (one small record
 * per window, model and metric, at most 2^18) are kept, plus one row /
 * line at a time.
 *
 * Formats (DESIGN.md section 7; names matched without regard to case,
 * extra columns in any order are ignored; empty lines are skipped):
 *
 *   requests    timestamp,prompt_tokens,output_tokens (Azure trace header
 *               TIMESTAMP,ContextTokens,GeneratedTokens accepted as is).
 *               Timestamps: an epoch number ("1700158623.5"), or
 *               "YYYY-MM-DD HH:MM[:SS[.fraction]]" with ' ' or 'T' and an
 *               optional "Z" or "+HH[:MM]"/"-HH[:MM]" (no zone = UTC). A
 *               number's unit is opts->time_unit_ns, else set for the whole
 *               file by the first one's magnitude: up to 11 whole digits
 *               seconds, 12-14 ms, 15-17 us, more ns (so epoch ms of today,
 *               13 digits, are ms, and relative seconds from 0 are seconds).
 *               Times run from 1900-01-01 (dates) or 0 (numbers) to
 *               2262-04-11 (MAX_EPOCH_NS), the last second whose ns fit.
 *               Rows are binned on opts->edges; sums are exact.
 *   buckets     prompt_tokens_lo,prompt_tokens_hi,output_tokens_lo,
 *               output_tokens_hi,requests (+ optional period_start,
 *               period_end,peak_rps). Half-open [lo, hi); hi may be "+Inf".
 *               Rows with the same bounds add up; rectangles must not
 *               overlap. Sums are estimated (requests x midpoint). mean_rps
 *               = requests / (last period_end - first period_start) and
 *               peak_rps = the largest peak_rps, when those columns exist.
 *   prometheus  window_start,window_end,model,metric,le,count: cumulative
 *               counts per (window, model, metric), one row per le, rows in
 *               any order (grouped by window or series by series); every
 *               window of a metric has the same le bounds, one of them +Inf,
 *               and no count above its +Inf count. metric is
 *               [vllm:]request_prompt_tokens or
 *               [vllm:]request_generation_tokens, with "_bucket" (or no
 *               suffix) for the le rows, "_sum" for the window's exact
 *               token total and "_count" for its requests (their le cell is
 *               ignored; _count must match +Inf). Counts may be fractional
 *               (PromQL increase()). Bin (le_prev, le] holds tokens
 *               [floor(le_prev)+1, floor(le)+1). Marginals are summed over
 *               windows (and over models unless opts->model picks one),
 *               the joint histogram assumes independence
 *               (summary.independent_marginals = 1); requests = the prompt
 *               metric's total, rounded. With both _sum totals the token
 *               sums are exact (sums_estimated = 0): each bucket's estimate
 *               is moved within its bounds to add up to them. Peak rate =
 *               busiest window (summed over models).
 *   mooncake    JSON lines {"timestamp": ms, "input_length": n,
 *               "output_length": n, "hash_ids": [ids]}; the prefix reuse
 *               share is repeated block ids / all block ids.
 *
 * auto: a first non-blank byte '{' means mooncake; otherwise the CSV header
 * decides (prompt_tokens_lo: buckets; le and metric: prometheus; else
 * requests). What is none of them is refused naming what it looks like: a
 * JSON array ('['), a first '{' line that is not a whole object (JSON over
 * several lines), an object without Mooncake's lengths (a Prometheus API
 * response, other JSON lines), '#' lines (a /metrics scrape), one header
 * column holding ';', tabs or '|'.
 *
 * Errors: the first malformed thing stops the parse, with a message
 * "FILE:LINE: column NAME: expected ..." (or "FILE:LINE: expected ..." when
 * no column applies). LINE is the 1-based physical line (where the CSV
 * row ends); for mooncake NAME is the JSON key. Token counts above
 * WL_TOKENS_MAX are refused, as are NUL bytes anywhere and invalid UTF-8
 * in the header.
 */
#ifndef PIQPLAN_WORKLOAD_FILE_H
#define PIQPLAN_WORKLOAD_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "planner/workload.h"

/* Return values of ingest_file / ingest_stream. */
enum {
	INGEST_OK = 0,
	INGEST_ERR_DATA = 1,	/* the input is malformed: exit EXIT_DATA (65) */
	INGEST_ERR_IO = 2,	/* cannot open / read, or out of memory: EXIT_FAIL */
	INGEST_ERR_USAGE = 3,	/* bad options (window): EXIT_USAGE */
};

/* Called as the file is read: bytes consumed so far and the file size (0 if unknown). */
typedef void ingest_progress_fn(void *ctx, uint64_t bytes_done, uint64_t bytes_total);

struct ingest_opts {
	enum wl_format format;		/* WL_FMT_AUTO: detect */
	const struct wl_edges *edges;	/* bins for requests/mooncake; NULL: log2 */
	double window_s;		/* peak-rate window, seconds; 0: 60 */
	int64_t time_unit_ns;		/* numeric timestamps: 1000000000 (s), 1000000 (ms), 1000 (us)
					   or 1 (ns) per unit; 0: by magnitude (CSV), ms (Mooncake) */
	const char *model;		/* prometheus: keep only the rows of this model (the label as
					   given, or its part after '/', any case); NULL: all */
	ingest_progress_fn *progress;	/* NULL: none; called about every MiB and at the end */
	void *progress_ctx;
};
#define INGEST_OPTS_INIT { WL_FMT_AUTO, NULL, 0, 0, NULL, NULL, NULL }

/*
 * Read the file at path. On INGEST_OK, *out is filled (format detected,
 * file_bytes and sha256_hex included) and *hist is a finished histogram the
 * caller frees with wl_hist_free(); its buckets are the sparse non-empty
 * ones, sorted by (prompt_lo, output_lo). On failure *hist is NULL, *out is
 * unspecified and err (errsz bytes, always NUL-terminated) holds one line
 * naming the file as given in `path`.
 */
int ingest_file(const char *path, const struct ingest_opts *opts,
		struct workload_summary *out, struct wl_hist **hist,
		char *err, size_t errsz);

/*
 * The same on an open stream (e.g. stdin); `name` is used in messages and
 * `size` (0 if unknown) for progress. The stream is not closed.
 */
int ingest_stream(FILE *f, const char *name, uint64_t size, const struct ingest_opts *opts,
		  struct workload_summary *out, struct wl_hist **hist,
		  char *err, size_t errsz);

/*
 * Parse a timestamp as the requests format does (see above), a number
 * being epoch seconds, into nanoseconds since the epoch. 0 on success, -1
 * if it is not one.
 */
int ingest_parse_timestamp(const char *s, int64_t *ns);

/* "seconds", "milliseconds", "microseconds" or "nanoseconds" for a unit of that many ns. */
const char *ingest_time_unit_name(int64_t unit_ns);

/*
 * The workload's edges column, in a new string: "log2" or the --edges
 * list (spec, as parsed into e) for the formats binned on edges (requests,
 * mooncake); for formats that bring their own buckets, every distinct inner
 * bound of the histogram h (0 and the open top left out), increasing,
 * comma-separated ("" when there is none).
 */
char *ingest_edges_text(const struct wl_edges *e, const char *spec, enum wl_format fmt,
			const struct wl_hist *h);

#endif
