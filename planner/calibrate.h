/*
 * calibrate.h - fitting an engine's step-time parameters (struct
 * perf_params, instance.h) to measured benchmark rows: predict each row
 * with instance.h, score the predictions against the measurements, and fit
 * a tree of profiles per engine -- engine-wide, per GPU vendor, per GPU
 * family (instance.h's gpu_spec.arch) and, where both are measured, per
 * model class (dense, MoE) -- each child shrunk toward its parent, so a
 * family with three rows moves only as far as three rows justify. Nothing
 * is tuned per row: every parameter is shared by all the rows of a profile.
 *
 * Cross-validation lives here too: refit the tree with a group of rows held
 * out (one source, one GPU family) and predict them, for the spread stored
 * with each profile and for scripts/validate.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. The caller resolves
 * model, GPU and layout for every row; rows borrow their model_arch.
 *
 * Cost: calib_prepare() sizes a row once; a prediction after that is a few
 * dozen step-time evaluations (a rate row bisects), so a tree fit over 400
 * rows takes about a second, and a cross-validation one fit per fold.
 */
#ifndef PIQPLAN_CALIBRATE_H
#define PIQPLAN_CALIBRATE_H

#include "instance.h"

/* How a benchmark loaded the server (calibration.csv `load`). */
enum calib_load {
	CALIB_OFFLINE,		/* all requests queued at once; value = requests (0: 1000) */
	CALIB_CONCURRENCY,	/* closed loop of `value` clients */
	CALIB_RATE,		/* open loop at `value` requests/s */
};

/* When an offline row does not say how many requests it queued. */
#define CALIB_DEFAULT_REQUESTS 1000

/* One measured row, resolved. Times in seconds; 0 = not measured. */
struct calib_row {
	long line;			/* the row's line in its file (or measurement id) */
	const struct model_arch *model;	/* borrowed; outlives the row */
	struct gpu_spec gpu;
	struct layout layout;
	enum calib_load load;
	double load_value;
	double isl, osl;		/* mean prompt and output tokens */
	double osl_max;			/* each request's max_tokens when outputs stop at EOS
					 * below it; 0: all are osl long */
	double output_tok_s;		/* whole instance; > 0 */
	double ttft_s;			/* mean time to first token; 0: not measured */
	double tpot_s;			/* mean time per output token; 0: not measured */
	int source;			/* which source it came from (a caller's index), for
					 * leave-one-source-out */
	/* Filled by calib_prepare(): the instance sized once with the engine's defaults. */
	int prepared, fits;
	struct instance inst;
};

/* A prediction for one row. */
struct calib_pred {
	int fits;			/* 0: the layout does not fit (reason in the instance) */
	double output_tok_s;
	double ttft_s;			/* < 0: unbounded (saturated open loop) */
	double tpot_s;
};

/*
 * Size row r's instance with engine e's defaults: max_model_len = isl + osl
 * rounded up to 256 tokens (as `piqplan estimate` does), the engine's
 * default flags. The memory side does not depend on the fitted parameters,
 * so this is done once per row and engine. Returns r->fits.
 */
int calib_prepare(struct calib_row *r, const struct engine_profile *e);

/* Predict a prepared row with parameters p, under its own load shape. Returns pred->fits. */
int calib_predict(struct calib_row *r, const struct perf_params *p, struct calib_pred *pred);

/* The same with the profile of e that answers for the row's GPU and model class. */
int calib_predict_engine(struct calib_row *r, const struct engine_profile *e,
			 struct calib_pred *pred);

/* The parameters a fit moves (struct perf_params, in this order). */
enum calib_param {
	CALIB_BW_EFFICIENCY,
	CALIB_FLOPS_EFFICIENCY,
	CALIB_ATTN_EFFICIENCY,
	CALIB_KV_BW_EFFICIENCY,
	CALIB_MOE_BW_EFFICIENCY,
	CALIB_LAYER_LATENCY,		/* layer_latency_us */
	CALIB_MOE_LAYER_LATENCY,	/* moe_layer_latency_us */
	CALIB_STEP_OVERHEAD,		/* step_overhead_ms */
	CALIB_SEQ_OVERHEAD,		/* seq_overhead_us */
	CALIB_REQUEST_OVERHEAD,		/* request_overhead_ms */
	CALIB_TTFT_LATENCY,		/* ttft_latency_ms */
	CALIB_NPARAMS
};

/* Column name in the engine_profile table ("bw_efficiency", ..., "request_overhead_ms"). */
const char *calib_param_name(int k);
/* The value in the table's unit (latencies in us, overheads in ms or us as named). */
double calib_param_get(const struct perf_params *p, int k);
void calib_param_set(struct perf_params *p, int k, double v);
/* The box a fit stays in, in the table's unit. */
void calib_param_bounds(int k, double *lo, double *hi);

/* Median and p90 absolute percentage error of one metric over the rows. */
struct calib_metric {
	int n;				/* rows where it was measured and predicted */
	double median_ape;		/* percent */
	double p90_ape;
};

struct calib_error {
	int rows;			/* rows scored */
	int unfit;			/* rows whose layout did not fit */
	struct calib_metric tok_s, ttft, tpot;
	double loss;			/* mean row loss (calib_row_loss) */
};

/*
 * One row's loss: the weighted mean of the squared natural-log errors of
 * the metrics it measured (Huber-robust beyond |ln| 0.5): output tok/s
 * weight 1, TPOT 1 (0.25 offline, where the mean TPOT is mostly the
 * scheduler's prefill order), TTFT 0.25 (mostly queueing and the front
 * end); a row that does not fit, or whose TTFT is unbounded, counts a
 * fixed 4 (an error of e^2, 7x) for that metric.
 */
double calib_row_loss(const struct calib_row *r, const struct calib_pred *p);

/* Score engine e (its profiles) on the rows; `use` (may be NULL) picks rows by index. */
void calib_evaluate(struct calib_row *rows, int n, const unsigned char *use,
		    const struct engine_profile *e, struct calib_error *out);

/* Summarise absolute percentage errors (sorted in place). */
void calib_summarise(double *ape, int n, struct calib_metric *m);

/*
 * Fit engine e's profile tree to the rows (all of one engine; `use` may be
 * NULL or pick rows by index, 1 = use): out = e with out->profiles the
 * fitted tree. Nodes: the engine (class any) always; a vendor or family
 * with at least CALIB_NODE_MIN_ROWS rows; a class child of any of them
 * when both classes have that many. Each node is fitted by Nelder-Mead in
 * log space within calib_param_bounds(), starting from and shrunk toward
 * its parent: loss = sum of row losses + CALIB_PRIOR_WEIGHT x sum over
 * parameters of (ln(value / parent's) / sigma)^2, sigma CALIB_CHILD_SIGMA
 * (the engine node: e->perf with CALIB_ROOT_SIGMA). Only parameters the
 * node's rows inform move (the MoE pair only with MoE rows). Spreads are
 * left in-sample (calib_spread() sets them). Returns loss evaluations.
 */
#define CALIB_NODE_MIN_ROWS 3
#define CALIB_PRIOR_WEIGHT 1.0
#define CALIB_CHILD_SIGMA 0.5
#define CALIB_ROOT_SIGMA 1.5
int calib_fit_tree(struct calib_row *rows, int n, const unsigned char *use,
		   const struct engine_profile *e, struct engine_profile *out);

/*
 * Cross-validation: for each fold f in 0..nfolds-1, refit the tree (as
 * calib_fit_tree) without the rows of fold f (fold[i] = f) and predict
 * them. resid[i] = ln(predicted / measured) output tok/s of row i when
 * held out, pred[i] its whole prediction (may be NULL); rows with fold[i]
 * < 0 are never held out (resid NaN). Returns the number of folds fitted.
 */
int calib_cross_validate(struct calib_row *rows, int n, const int *fold, int nfolds,
			 const struct engine_profile *e, double *resid, struct calib_pred *pred);

/*
 * Set each profile's spread (log_p10, log_p90) from per-row log residuals
 * (NaN skipped): a family node from the rows it was fitted on, a vendor or
 * engine node -- which answers only for families it has no rows of -- from
 * `resid_out_of_family` when given (leave-one-family-out residuals), else
 * from `resid`; a node with fewer than 3 residuals takes the engine node's
 * (profiles[0], the first calib_fit_tree() writes). out_of_sample says what
 * the residuals were.
 */
void calib_spread(struct calib_row *rows, int n, const double *resid,
		  const double *resid_out_of_family, int out_of_sample, struct engine_profile *e);

#endif
