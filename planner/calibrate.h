/*
 * calibrate.h - fitting an engine profile's efficiencies to measured
 * benchmark rows (the calibration.csv format): predict each row with
 * instance.h, score the predictions against the measurements, and move a
 * handful of physically meaningful parameters (bandwidth and FLOP
 * efficiency, per-step overhead, the MoE path's efficiency floor and its
 * half-way point) to minimise the error. One set of values per engine for
 * all rows: nothing is tuned per row.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. The caller resolves
 * model, GPU and layout for every row; rows borrow their model_arch.
 *
 * Cost: a prediction sizes one instance and runs one load shape (at most a
 * few thousand roofline evaluations); a fit evaluates the loss a few
 * hundred times, so 100 rows fit in well under a second.
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
	long line;			/* the row's line in its file, for reports */
	const struct model_arch *model;	/* borrowed; outlives the row */
	struct gpu_spec gpu;
	struct layout layout;
	enum calib_load load;
	double load_value;
	double isl, osl;		/* mean prompt and output tokens */
	double output_tok_s;		/* whole instance; > 0 */
	double ttft_s;			/* mean time to first token; 0: not measured */
	double tpot_s;			/* mean time per output token; 0: not measured */
};

/* A prediction for one row. */
struct calib_pred {
	int fits;			/* 0: the layout does not fit (reason in the instance) */
	double output_tok_s;
	double ttft_s;			/* < 0: unbounded (saturated open loop) */
	double tpot_s;
};

/*
 * Predict row r with profile e: max_model_len = isl + osl rounded up to
 * 256 tokens (as `piqplan estimate` does), the engine's default flags, the
 * row's load shape. Returns pred->fits.
 */
int calib_predict(const struct calib_row *r, const struct engine_profile *e,
		  struct calib_pred *pred);

/* The parameters a fit may move. */
enum calib_param {
	CALIB_BW_EFFICIENCY,		/* engine_profile.bw_efficiency */
	CALIB_FLOPS_EFFICIENCY,		/* .flops_efficiency */
	CALIB_STEP_OVERHEAD,		/* .step_overhead_s */
	CALIB_MOE_FLOOR,		/* .moe_efficiency_floor (relative to the dense path) */
	CALIB_MOE_HALF,			/* .moe_tokens_per_expert_half */
	CALIB_NPARAMS
};

#define CALIB_ALL_PARAMS ((1u << CALIB_NPARAMS) - 1)
#define CALIB_MOE_PARAMS ((1u << CALIB_MOE_FLOOR) | (1u << CALIB_MOE_HALF))

/* Column name in the engine table ("bw_efficiency", ..., "step_overhead_ms"). */
const char *calib_param_name(int p);
/* The value in the engine table's unit (step overhead in ms). */
double calib_param_get(const struct engine_profile *e, int p);
void calib_param_set(struct engine_profile *e, int p, double v);
/* The box the fit stays in, in the table's unit. */
void calib_param_bounds(int p, double *lo, double *hi);

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
	double loss;			/* calib_loss() */
};

/*
 * The loss a fit minimises: over rows, the mean of the squared natural-log
 * errors of the metrics the row measured (output tok/s weight 1, TPOT 1,
 * TTFT 0.5: mean TTFT under offline load is mostly queueing, already
 * implied by the throughput), averaged over rows; a row that does not fit
 * or whose TTFT is unbounded counts a fixed 4 (an error of e^2, 7x).
 * `start` (may be NULL) adds a weak pull, 1e-4 x sum of squared log
 * ratios of the moved parameters to their starting values, so a parameter
 * the rows barely inform stays where the sources put it.
 */
double calib_loss(const struct calib_row *rows, int n, const struct engine_profile *e,
		  const struct engine_profile *start, unsigned params);

/* Score profile e on the rows (loss without the pull). */
void calib_evaluate(const struct calib_row *rows, int n, const struct engine_profile *e,
		    struct calib_error *out);

/*
 * Parameters worth moving for these rows: bandwidth efficiency and step
 * overhead always; FLOP efficiency when some row's prefill or batch makes
 * it compute-bound (in practice: always with offline rows); the MoE pair
 * only when some row's model has routed experts. With fewer than 6 rows the
 * half-way point is left alone (three points cannot tell floor from half).
 */
unsigned calib_params_for(const struct calib_row *rows, int n);

/*
 * Fit: Nelder-Mead over the chosen parameters in log space, clamped to
 * their bounds, restarted from its best point until a restart gains less
 * than 1e-4 (at most 4 restarts, 400 evaluations each). *out = start with
 * the fitted values. Returns the number of loss evaluations.
 */
int calib_fit(const struct calib_row *rows, int n, const struct engine_profile *start,
	      unsigned params, struct engine_profile *out);

#endif
