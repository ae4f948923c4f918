/*
 * workload.h - workload rows (schema/002_workload.sql): what an import
 * measured, stored as one workload row and its non-empty buckets; finding
 * and removing them; the figures a run plans from. Every write happens in
 * the caller's transaction.
 */
#ifndef PIQPLAN_SCHEMA_WORKLOAD_H
#define PIQPLAN_SCHEMA_WORKLOAD_H

#include <stdint.h>

struct db;
struct wl_hist;
struct workload_summary;

/* A workload row's values: what it is called and what the import measured. */
struct workload_row {
	const char *name;
	const char *model;		/* an exact model id */
	const char *description;	/* NULL: none */
	const char *source_file;	/* as given on the command line */
	const char *edges;		/* the edges column (ingest_edges_text) */
	const struct workload_summary *summary;
};

/* The id of the workload called name: 1 found (*id set), 0 none, -1 after error(). */
int workload_find(struct db *db, const char *name, int64_t *id);

/*
 * Write the workload row and the buckets of h. old_id 0: a new workload.
 * old_id > 0: a workload of that name exists and is replaced; if a
 * scenario or a stored run uses it, the row is updated in place (same id,
 * so they keep pointing at it), else deleted (buckets cascade) and
 * inserted anew. 0, or -1 after error().
 */
int workload_store(struct db *db, int64_t old_id, const struct workload_row *w,
		   const struct wl_hist *h);

/*
 * Remove the workload called name and its buckets. Unknown, or used by a
 * scenario or a stored run (they are named), is an error. 0, or -1 after
 * error().
 */
int workload_remove(struct db *db, const char *name);

/* What a plan reads of a workload row besides its buckets; NaN where the row has NULL. */
/* Points of the prefix-reuse curve (workload.prefix_reuse_within: 2^0 .. 2^16 s). */
#define WORKLOAD_REUSE_POINTS 17

struct workload_rates {
	char *model_id;				/* the model it is for (new string: caller frees) */
	double peak_rps, mean_rps;		/* requests/s */
	double total_tokens_p999;		/* p99.9 of prompt + output tokens */
	int independent_marginals;		/* prompt and output measured separately */
	int sums_estimated;			/* token sums from bucket midpoints */
	double rate_rps[4];			/* p50, p90, p99, p99.9 of windowed rates, requests/s */
	double rate_windows;			/* windows they are of */
	double window_s;			/* those windows' length, s (NaN: the export's own) */
	double span_s;				/* first to last arrival, s */
	int64_t total_tokens_max;		/* longest prompt + output; 0: unknown */
	char format[16];			/* 'requests', 'buckets', 'prometheus', 'mooncake' */
	double prefix_reuse_share;		/* repeated prefix blocks (Mooncake); NaN: unknown */
	double reuse_within[WORKLOAD_REUSE_POINTS]; /* of all blocks, reused within 2^i s */
	int have_reuse_within;			/* 1: the curve was measured */
};

/*
 * The rate a demand statistic ("mean", "p50", "p90", "p99", "p99.9",
 * "peak"; scenario.h) names in wr, requests/s; NaN when not measured.
 */
double workload_rate_for(const struct workload_rates *wr, const char *stat);

/*
 * Bounds of what an import measures, checked again on reading a workload
 * back (a database file is input too): a span from 1900 to 2262 (the
 * timestamps an import reads), and the 1 ms windows' quarter-window steps
 * over it.
 */
#define WORKLOAD_MAX_SPAN_S	1.2e10
#define WORKLOAD_MAX_WINDOWS	(WORKLOAD_MAX_SPAN_S * 4 / 1e-3)

/*
 * The rates of workload id. 0, or -1 after error(); a stored figure
 * outside what an import measures is a data error (exit 65).
 */
int workload_rates(struct db *db, int64_t id, struct workload_rates *out);

#endif
