/*
 * plan.h - choosing how to serve one workload over a planning horizon:
 * splitting its requests into pools (long-context isolation), enumerating
 * candidate instances for each pool (GPU type x TP x PP x EP x precision),
 * finding each one's sustainable rate at the SLOs and its cost over the
 * horizon, and ranking them.
 *
 * Pure arithmetic on top of instance.h and fleet.h: no SQLite, no stdio,
 * no globals. Allocates with malloc; a NULL from it is reported as -1.
 */
#ifndef PIQPLAN_PLAN_H
#define PIQPLAN_PLAN_H

#include <stdint.h>

#include "instance.h"
#include "workload.h"

#define PLAN_MAX_QUARTERS 40

/*
 * A candidate GPU type: the price more of it would be bought or rented at,
 * and how many are already owned (used first, at their own rate).
 */
struct plan_gpu {
	struct gpu_spec spec;
	double usd_per_gpu_hour;	/* the scenario's pricing kind; NaN: cannot acquire more */
	double owned_usd_per_gpu_hour;	/* what an owned GPU costs per hour (0: sunk) */
	int64_t owned[PLAN_MAX_QUARTERS]; /* owned GPUs still free, per quarter of the horizon */
};

/* A pool: requests whose prompt + output falls in [min_total, max_total). */
struct pool_traffic {
	int64_t min_total_tokens;
	int64_t max_total_tokens;	/* 0: no upper bound */
	double share;			/* of the workload's requests, (0, 1] */
	double isl, osl;		/* mean prompt and output tokens */
	double prompt_cv2;		/* squared coefficient of variation of prompt lengths */
	double isl_p99;			/* 99th percentile prompt: TTFT targets are judged on it */
	int64_t max_model_len;		/* what the pool's instances must serve */
};

/* What the scenario asks of every pool of one workload. */
struct plan_params {
	struct slo slo;
	int redundancy;			/* spare instances per pool */
	int start_quarter;		/* quarter index (fleet.h) */
	int quarters;			/* <= PLAN_MAX_QUARTERS */
	double demand_rps[PLAN_MAX_QUARTERS]; /* the workload's requests/s per quarter */
	int allow_fp8;			/* try --quantization fp8 on GPUs with FP8 */
};

/* One evaluated candidate. */
struct candidate {
	int gpu;			/* index into the plan_gpu array */
	int order;			/* enumeration order, for stable ranking */
	struct instance inst;		/* sized; inst.fits and inst.reason */
	int fits;			/* fits in memory, serves the SLOs, has a price */
	char reason[200];		/* why not; or, for the ranked, a summary */
	double rate_rps;		/* sustainable requests/s per instance */
	struct load_point at;		/* the operating point at that rate */
	double usd_per_hour;		/* one instance at the market price (owned rate without one) */
	double total_usd;		/* the pool over the horizon: owned GPUs first at their
					 * rate, the rest at the price */
	int64_t instances[PLAN_MAX_QUARTERS];
};

/*
 * GPU cost of `gpus` GPUs of type g in quarter q (index into the horizon):
 * the owned ones first at their rate, the rest at the price. NaN when more
 * are needed than owned and the type has no price.
 */
double plan_gpu_quarter_usd(const struct plan_gpu *g, int q, int quarter_index, int64_t gpus);

/*
 * Every candidate for one pool, sized and costed, in *out (caller frees),
 * sorted: those that fit by total cost (then fewer GPUs), then the rest.
 * Returns the number of candidates, or -1 when out of memory.
 */
int plan_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
	      const struct engine_profile *e, const struct pool_traffic *t,
	      const struct plan_params *p, struct candidate **out);

/* Number of candidates plan_pool evaluates for this model and these GPUs. */
int plan_candidate_count(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
			 const struct plan_params *p);

/*
 * Pools of a workload (its non-empty histogram buckets b[0..nb-1]).
 * threshold 0: one shared pool; else requests whose bucket lies wholly
 * below `threshold` total tokens go to a short pool and the rest to a long
 * pool. p999_total is the workload's measured p99.9 of prompt + output
 * (used for the shared pool's max_model_len); model_max_ctx caps every
 * max_model_len. Each pool's isl_p99 (the prompt its TTFT target is judged
 * on) is its own p99 prompt, capped at the workload's p99 prompt, so a
 * split never asks more of the long requests than the shared pool did.
 * Returns the number of pools written (1 or 2; 0 when the threshold leaves
 * one side empty, or there are no buckets).
 */
int plan_pools(const struct wl_bucket *b, int nb, int64_t threshold, double p999_total,
	       int64_t model_max_ctx, struct pool_traffic pools[2]);

/*
 * Thresholds worth trying for long-context isolation: powers of two from
 * 4,096 tokens up to model_max_ctx that leave between 0.01 % and 50 % of
 * requests in the long pool. Returns how many were written (at most max).
 */
int plan_thresholds(const struct wl_bucket *b, int nb, int64_t model_max_ctx,
		    int64_t *out, int max);

/* A workload's pools as decided: one shared pool, or a short and a long one. */
struct plan_decision {
	int npools;			/* 1 (shared) or 2 (short, long) */
	struct pool_traffic pool[2];
	struct candidate *cands[2];	/* each pool's ranked candidates (plan_pool) */
	int ncands[2];
	double shared_usd;		/* the shared pool over the horizon; INFINITY: cannot */
	double split_usd;		/* the best split tried; INFINITY: none tried or none works */
	int64_t threshold;		/* that split's threshold in tokens; 0: none */
	int64_t candidates;		/* evaluated in all, shared and splits */
	int forced_empty;		/* the fixed threshold left one side empty */
};

/*
 * Decide one workload's pools. long_context: 0 tries every threshold
 * plan_thresholds() offers and keeps a split only when it costs less over
 * the horizon than the shared pool; -1 keeps the shared pool; > 0 splits
 * at that threshold whenever both sides are non-empty and servable. The
 * shared pool is always evaluated, so its cost can be shown beside a split.
 * 0, or -1 when out of memory (d is then freed).
 */
int plan_decide(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct wl_bucket *b, int nb,
		double p999_total, int64_t long_context, const struct plan_params *p,
		struct plan_decision *d);
void plan_decision_free(struct plan_decision *d);

/*
 * max_model_len for a pool: tokens rounded up to a multiple of 1,024
 * (at least 2,048), capped by the model's maximum context.
 */
int64_t plan_max_model_len(double tokens, int64_t model_max_ctx);

#endif
