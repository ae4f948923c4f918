/*
 * workload.h - a workload as the planner sees it: a sparse joint histogram
 * of prompt x output lengths (tokens) with exact token sums per bucket,
 * percentiles from a bounded-memory sketch, and arrival rates.
 *
 * Pure: no SQLite, no stdio, no globals. The importer
 * (ingest/workload_file.c) feeds values in as it streams a file; nothing
 * here grows with the number of rows. What does grow, and with what:
 *   - buckets: with distinct (prompt, output) bucket rectangles, at most
 *     WL_MAX_BUCKETS (a binned grid of WL_MAX_EDGES edges fits);
 *   - arrivals: at most WL_SLOT_CAP occupied time slots; older ones are
 *     folded into a fixed-size histogram of windowed rates as the trace
 *     goes by, so a long or sparse trace costs no more than a short one;
 *   - block set (Mooncake prefix reuse): a bitset up to the largest small
 *     id (1 MiB at most) and a hash set of large ids (8 MiB at most).
 *
 * Allocation failures are reported as WL_ENOMEM, never by aborting.
 */
#ifndef PIQPLAN_WORKLOAD_H
#define PIQPLAN_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* A token count above this is absurd input, not a long request. */
#define WL_TOKENS_MAX	10000000
/*
 * A request rate above this, per second, is absurd input (requests a
 * nanosecond apart, a window of 1 ns), not a fleet: ten million requests a
 * second is well beyond the largest public LLM services.
 */
#define WL_MAX_RPS	1e7
/* Exclusive upper bound of the top bucket: every bucket is finite. */
#define WL_TOKENS_END	(WL_TOKENS_MAX + 1)
/* Bin edges per axis, 0 and WL_TOKENS_END included. */
#define WL_MAX_EDGES	257
/* Distinct bucket rectangles one histogram holds (256 x 256 bins). */
#define WL_MAX_BUCKETS	65536
/* Peak rate: a --window is cut into this many slots, see wl_arrivals. */
#define WL_PEAK_STEPS	4
/* Occupied arrival slots kept at once (see wl_arrivals); half of them may be late. */
#define WL_SLOT_CAP	32768
/* Mooncake hash ids accepted are below this (see wl_blockset). */
#define WL_MAX_BLOCK_ID	((int64_t)1 << 30)

/* Return codes of the functions below (0 is success). */
enum {
	WL_ENOMEM = -1,		/* allocation failed */
	WL_ERANGE = -2,		/* a token count outside [0, WL_TOKENS_MAX] or bad bounds */
	WL_EFULL = -3,		/* more than WL_MAX_BUCKETS distinct buckets */
	WL_EOVERLAP = -4,	/* two bucket rectangles overlap (wl_hist_finish) */
	WL_EUSAGE = -5,		/* function not valid for this histogram's kind */
};

enum wl_format {
	WL_FMT_AUTO,		/* detect from the header / first line */
	WL_FMT_REQUESTS,	/* one CSV row per request */
	WL_FMT_BUCKETS,		/* a ready joint histogram, CSV */
	WL_FMT_PROMETHEUS,	/* cumulative le buckets per window, CSV */
	WL_FMT_MOONCAKE,	/* JSON lines */
};

/* "auto", "requests", ...; NULL for an out-of-range value. */
const char *wl_format_name(enum wl_format f);
/* Parse a format name (exact, lowercase); 0 on success, -1 if unknown. */
int wl_format_parse(const char *s, enum wl_format *out);

/*
 * Bin edges shared by both axes. edge[0] = 0 and edge[n-1] = WL_TOKENS_END
 * always, so bins [edge[i], edge[i+1]) cover every valid count.
 */
struct wl_edges {
	int n;				/* number of edges, 2..WL_MAX_EDGES */
	int64_t edge[WL_MAX_EDGES];	/* strictly increasing, tokens */
};

/*
 * Parse an --edges value. "log2" (the default; NULL or "" mean the same)
 * gives 0, 1, 2, 4, ..., 2^23, WL_TOKENS_END: 25 bins per axis, each a factor
 * of two wide, so a bucket's mean is never far from its bounds on a log
 * scale and short and long requests get equal resolution. A list "N1,N2,..."
 * gives 0, N1, N2, ..., WL_TOKENS_END: integers, strictly increasing, in
 * [0, WL_TOKENS_MAX] (a leading 0 is allowed), at most WL_MAX_EDGES - 2.
 * Returns 0, or -1 with *why set to a static reason.
 */
int wl_edges_parse(const char *spec, struct wl_edges *out, const char **why);

/* One non-empty bucket: half-open bounds [lo, hi), tokens. */
struct wl_bucket {
	int64_t prompt_lo, prompt_hi;
	int64_t output_lo, output_hi;
	int64_t requests;
	int64_t prompt_tokens_sum;	/* exact, or requests x midpoint when estimated */
	int64_t output_tokens_sum;
	int64_t line;			/* input line that first named this bucket (0: none) */
};

/* Percentiles of one distribution, tokens. NaN when there are no requests. */
struct wl_percentiles {
	double p50, p90, p99, p999;
};

enum wl_axis { WL_AXIS_PROMPT, WL_AXIS_OUTPUT, WL_AXIS_TOTAL };

/*
 * The histogram. Two kinds, fixed at creation:
 *   - binned (edges given): fed one request at a time by wl_hist_add_request;
 *     sums are exact and percentiles come from the exact values;
 *   - rectangles (edges NULL): fed whole buckets (wl_hist_add_bucket,
 *     wl_hist_add_independent); sums are estimated and percentiles assume
 *     requests are spread evenly inside each bucket.
 *
 * Percentile accuracy (the sketch): every count below 2048 tokens is kept
 * exactly; above, each power-of-two octave is cut into 1024 equal cells, so
 * a reported percentile is within 1/1024 (< 0.1 %) of the true nearest-rank
 * value -- from exact input (requests, mooncake). For histogram input
 * (buckets, prometheus) the error is set by the input's own bucket widths;
 * mass in a bucket that reaches WL_TOKENS_END (an open "+Inf" bucket) is put
 * at its lower bound, as Prometheus' histogram_quantile does.
 * The percentile is the nearest-rank one: the smallest value v such that at
 * least ceil(q x N) requests are <= v; inside a sketch cell wider than one
 * token it is interpolated linearly.
 * Memory: 3 x 16384 doubles (384 KiB) plus the buckets.
 */
struct wl_hist;

/* A new empty histogram; edges NULL for the rectangles kind. NULL on ENOMEM. */
struct wl_hist *wl_hist_new(const struct wl_edges *edges);
void wl_hist_free(struct wl_hist *h);

/* Add one request. 0, WL_ERANGE (count outside [0, WL_TOKENS_MAX]), WL_ENOMEM. */
int wl_hist_add_request(struct wl_hist *h, int64_t prompt_tokens, int64_t output_tokens);

/*
 * Add `requests` requests in [plo, phi) x [olo, ohi) (rectangles kind).
 * Repeated rectangles accumulate (e.g. one per period). Sums are estimated
 * as requests x midpoint ((lo + hi - 1) / 2 rounded down), or requests x lo
 * for a bucket whose hi is WL_TOKENS_END. `line` is remembered for error
 * messages. Bounds must satisfy 0 <= lo < hi <= WL_TOKENS_END: else
 * WL_ERANGE. Also WL_EFULL, WL_ENOMEM, WL_EUSAGE (binned kind).
 */
int wl_hist_add_bucket(struct wl_hist *h, int64_t plo, int64_t phi, int64_t olo, int64_t ohi,
		       int64_t requests, int64_t line);

/* One marginal bin for wl_hist_add_independent: [lo, hi) tokens, weight requests. */
struct wl_marginal_bin {
	int64_t lo, hi;
	double requests;	/* may be fractional (PromQL increase()) */
};

/*
 * Joint histogram from two independent marginals (rectangles kind):
 * cell (i, j) gets total x P(prompt in i) x P(output in j) requests,
 * rounded to whole requests by largest remainder so the cells sum to
 * exactly `total`. The prompt and output percentiles come from the
 * marginals themselves (fractional weights kept). Zero-weight marginals
 * with total > 0 are WL_ERANGE. Also WL_EFULL, WL_ENOMEM, WL_EUSAGE.
 */
int wl_hist_add_independent(struct wl_hist *h,
			    const struct wl_marginal_bin *prompt, size_t nprompt,
			    const struct wl_marginal_bin *output, size_t noutput,
			    int64_t total);

/*
 * Replace the estimated token sums of a rectangles histogram by exact
 * totals (a Prometheus export's _sum rows). Each bucket's sum moves within
 * what its bounds allow -- requests x lo to requests x (hi - 1), no upper
 * limit for an open top bucket -- by the same fraction of its room, so the
 * buckets add up to the totals exactly. A total below 0 leaves its axis
 * as it is. 0; WL_ERANGE when the bounds cannot hold a total; WL_EUSAGE
 * for the binned kind.
 */
int wl_hist_set_sums(struct wl_hist *h, int64_t prompt_sum, int64_t output_sum);

/*
 * Close the histogram: sort buckets by (prompt_lo, output_lo), check that no
 * two rectangles overlap, fill the percentile sketches of the rectangles
 * kind. On WL_EOVERLAP, *line_a and *line_b (may be NULL) get the input
 * lines of the two buckets. Call once, after the last add.
 */
int wl_hist_finish(struct wl_hist *h, int64_t *line_a, int64_t *line_b);

/* Non-empty buckets, in order after wl_hist_finish. i < wl_hist_buckets(h). */
size_t wl_hist_buckets(const struct wl_hist *h);
const struct wl_bucket *wl_hist_bucket(const struct wl_hist *h, size_t i);

/* Totals (exact for the binned kind). */
int64_t wl_hist_requests(const struct wl_hist *h);
int64_t wl_hist_prompt_tokens_sum(const struct wl_hist *h);
int64_t wl_hist_output_tokens_sum(const struct wl_hist *h);
/* 1 when sums are requests x midpoint estimates (rectangles kind). */
int wl_hist_sums_estimated(const struct wl_hist *h);

/*
 * The longest prompt, output or prompt + output: exact for the binned kind,
 * the largest bucket's last token (its lower bound when open-ended) for
 * the rectangles kind. -1 when empty.
 */
int64_t wl_hist_max(const struct wl_hist *h, enum wl_axis axis);

/* Percentiles of prompt, output or prompt + output (after wl_hist_finish). */
void wl_hist_percentiles(const struct wl_hist *h, enum wl_axis axis,
			 struct wl_percentiles *out);

/*
 * Arrivals: first/last timestamp, the peak rate and the distribution of
 * windowed rates.
 *
 * A window of `window` seconds slides in steps of window / WL_PEAK_STEPS:
 * arrivals are counted per slot floor(t / slot) (slot = window /
 * WL_PEAK_STEPS, aligned to the epoch), and a window is WL_PEAK_STEPS
 * consecutive slots. Unlike tumbling windows (which can cut a burst in two
 * and report half of it) this finds any burst to within one slot. The
 * windows counted are those wholly inside the trace, from the first
 * arrival's slot to the last's, empty ones included: their rates' p50,
 * p90, p99 and p99.9 (nearest rank, exact below 2,048 requests a window,
 * within 1/1024 above) and their largest, the peak.
 *
 * Memory is bounded whatever the trace: occupied slots live in a hash
 * table of at most WL_SLOT_CAP; when it fills, the slots more than
 * WL_SLOT_CAP / 2 slots older than the newest are folded into the
 * histogram of window counts (a fixed-size sketch). Timestamps may come in
 * any order within those WL_SLOT_CAP / 2 slots (8.5 days at the 60 s
 * default); an arrival older than what was folded is counted in the
 * span, the mean and the late count, not in any window.
 *
 * Explicit windows (prometheus) are recorded instead with
 * wl_arrivals_add_window: the rates are then those of the windows that
 * share a start (their counts add up), weighted by their length.
 */
struct wl_arrivals;

/* window_ns > 0, nanoseconds. NULL on ENOMEM or a bad window. */
struct wl_arrivals *wl_arrivals_new(int64_t window_ns);
void wl_arrivals_free(struct wl_arrivals *a);
/* One arrival at t_ns (ns since the epoch, or since the trace's origin). 0 or WL_ENOMEM. */
int wl_arrivals_add(struct wl_arrivals *a, int64_t t_ns);
/* `requests` in [start_ns, end_ns); end_ns > start_ns. */
int wl_arrivals_add_window(struct wl_arrivals *a, int64_t start_ns, int64_t end_ns,
			   double requests);
/* Extend first/last without counting anything (a period with unknown rate). */
void wl_arrivals_extend(struct wl_arrivals *a, int64_t start_ns, int64_t end_ns);
/* 1 once any timestamp was seen. */
int wl_arrivals_any(const struct wl_arrivals *a);
int64_t wl_arrivals_first_ns(const struct wl_arrivals *a);
int64_t wl_arrivals_last_ns(const struct wl_arrivals *a);
/* Peak requests per second as described above; NaN when nothing was counted. */
double wl_arrivals_peak_rps(const struct wl_arrivals *a);

/* The windowed rates, requests/s. */
struct wl_rates {
	double p50, p90, p99, p999;	/* NaN when the trace holds no whole window */
	double peak;			/* NaN when nothing was counted */
	double windows;			/* window positions counted (slots mode), or windows */
	int64_t late;			/* arrivals left out of every window (out of order) */
};
/* Fill *out (reads, does not change a). 0, or WL_ENOMEM (out is then all NaN). */
int wl_arrivals_rates(const struct wl_arrivals *a, struct wl_rates *out);

/*
 * Prefix-cache block set (Mooncake hash_ids): counts every block and every
 * block whose id was seen before. Ids below WL_BLOCK_DENSE_IDS (Mooncake's
 * are dense from 0) go to a bitset that grows with the largest of them, at
 * most 1 MiB; larger ids to a hash set of at most WL_MAX_SPARSE_BLOCKS
 * distinct ids (8 MiB). Beyond that the set is full: ids are still
 * counted, but whether one is a repeat is no longer known (overflow).
 */
#define WL_BLOCK_DENSE_IDS	((int64_t)1 << 23)
#define WL_MAX_SPARSE_BLOCKS	((size_t)1 << 20)
/* Points of the reuse-time curve: within 2^0, 2^1, ... 2^16 s. */
#define WL_REUSE_POINTS 17

struct wl_blockset {
	uint64_t *bits;		/* ids below WL_BLOCK_DENSE_IDS */
	size_t words;
	uint32_t *sparse;	/* the others: open addressing, 0 = empty slot, id + 1 kept */
	size_t sparse_size, sparse_used;
	int overflow;		/* more distinct large ids than the set holds */
	int64_t blocks;		/* all hash ids seen, repeats included */
	int64_t repeated;	/* ids seen before */
	/*
	 * When each dense id was last used (s since the first, as float: ms
	 * precision over days), grown with the largest id; reuse_within[i]
	 * counts repeats whose previous use was at most 2^i s before
	 * (an earlier timestamp counts as 0 s). Sparse ids count in
	 * `repeated`, not in the curve (timed_repeated says how many did).
	 */
	float *last_s;
	size_t last_size;
	int64_t reuse_within[WL_REUSE_POINTS];
	int64_t timed_repeated;
	double t0_s;		/* the first time seen: the floats' origin */
	int timed;		/* 1 once a time was given */
};
#define WL_BLOCKSET_INIT { NULL, 0, NULL, 0, 0, 0, 0, 0, NULL, 0, { 0 }, 0, 0, 0 }
/* The same, with the time of the request using it (s from any fixed origin). */
int wl_blockset_add_at(struct wl_blockset *s, int64_t id, double t_s);
/* Record one id: 0, WL_ERANGE (id < 0 or >= WL_MAX_BLOCK_ID), WL_ENOMEM. */
int wl_blockset_add(struct wl_blockset *s, int64_t id);
void wl_blockset_release(struct wl_blockset *s);

/* What an import found. Seconds and tokens; NaN where unknown. */
struct workload_summary {
	enum wl_format format;
	int64_t requests;
	double first_s, last_s;		/* first / last timestamp, s (epoch or trace origin) */
	double span_s;			/* last - first, s; NaN without timestamps */
	double window_s;		/* peak-rate window used, s */
	double mean_rps;		/* requests / span; NaN without a span */
	double peak_rps;		/* see wl_arrivals; NaN when unknown */
	struct wl_percentiles rate;	/* windowed rates, requests/s (wl_rates); NaN: unknown */
	double rate_windows;		/* windows those percentiles are of; NaN: unknown */
	int64_t arrivals_late;		/* arrivals out of order beyond the table, in no window */
	int64_t prompt_max, output_max, total_max; /* longest, tokens: exact from requests
						    * and mooncake, a bucket's bound from
						    * histograms; -1 unknown */
	int64_t prompt_tokens_sum, output_tokens_sum;
	double prompt_tokens_mean, output_tokens_mean;	/* sums / requests */
	int sums_estimated;		/* 1: sums are bucket midpoints (buckets, prometheus) */
	int independent_marginals;	/* 1: joint built from independent marginals */
	struct wl_percentiles prompt, output, total;	/* total = prompt + output */
	int64_t prefix_blocks, prefix_blocks_repeated;	/* mooncake; 0 otherwise */
	double prefix_reuse_share;	/* repeated / blocks; NaN when not known */
	double reuse_within[WL_REUSE_POINTS]; /* share of blocks reused within 2^i s of their
					 * previous use (what a cache keeping blocks that long
					 * serves); have_reuse_within says whether measured */
	int have_reuse_within;
	int64_t file_bytes;
	char sha256_hex[65];		/* of the file's bytes, lowercase hex */
};

/*
 * Fill the histogram-derived fields of *s (requests, sums, means,
 * percentiles, sums_estimated) from a finished histogram, and the time
 * fields from `a` (may be NULL: times NaN). Leaves format, prefix, file
 * and sha256 fields alone. mean_rps is requests / span when span > 0.
 * With sliding arrivals the peak is at least the mean: a window longer
 * than the trace cannot show its burst, and a steady trace's windows each
 * hold a little less than the span's average.
 */
void wl_summary_fill(struct workload_summary *s, const struct wl_hist *h,
		     const struct wl_arrivals *a);

/* Set every field to its "unknown" value (NaN, 0, empty string). */
void wl_summary_init(struct workload_summary *s);

#endif
