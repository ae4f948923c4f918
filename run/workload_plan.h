/*
 * workload_plan.h - `piqplan plan`'s quick answer to "what should this
 * workload run on": one shared pool (no long-context split, every request
 * of the chat SLO class), the workload's demand (by default the p99 of its
 * windowed arrival rates), one quarter from the current one, the
 * utilisation target as the one margin (no spare instances), every
 * candidate GPU at its newest on-demand price; the candidates ranked by
 * what the instances that demand needs cost per hour, then by what a
 * million output tokens cost at the rate one instance sustains under the
 * SLOs at their percentile. Reads the database, writes nothing.
 */
#ifndef PIQPLAN_WORKLOAD_PLAN_H
#define PIQPLAN_WORKLOAD_PLAN_H

#include "planner/instance.h"
#include "planner/model.h"
#include "planner/plan.h"

struct db;

struct workload_plan_request {
	const char *workload;		/* its name */
	/*
	 * Candidate GPU types, comma-separated, each resolved as lookup_gpu()
	 * does; NULL: every type. Types without an on-demand price are left
	 * out with a warning naming them, never priced at zero.
	 */
	const char *gpus;
	const char *engine;		/* engine profile id ("vllm") */
	double ttft_ms, tpot_ms;	/* SLO targets, > 0 */
	double slo_percentile;		/* percent of requests they hold for, [50, 100) */
	double utilization;		/* highest busy fraction of an instance, (0, 1] */
	const char *demand;		/* mean, p50, p90, p99, p99.9 or peak (scenario.h) */
	int64_t max_model_len;		/* cap on max_model_len; 0: the workload's longest */
	/*
	 * Engine flags, 0 for the engine's defaults: the largest max_num_seqs
	 * (the planner emits at most this), max_num_batched_tokens, the KV
	 * block size, and enforce_eager (no CUDA graphs). The memory model
	 * sizes every candidate with them.
	 */
	int max_num_seqs, max_num_batched_tokens, block_size, enforce_eager;
	double prefix_hit;		/* unbounded-cache hit share; < 0: the workload's measured
					 * reuse (0 where not measured) */
};

/* A reason candidates fail, and how many share it (up to the first digit). */
struct workload_plan_reason {
	const char *reason;		/* one failing candidate's words; points into cands */
	int count;
};

#define WORKLOAD_PLAN_MAX_REASONS 5

struct workload_plan {
	char *name, *model_id;
	struct model_arch arch;
	double demand_rps;		/* the rate planned for */
	char demand[16];		/* which rate that is ("p99", "peak", "mean") */
	double mean_rps;		/* the mean rate: token volumes and cost per token */
	double reuse_share;		/* measured prefix reuse (Mooncake); 0: not measured */
	double reuse_within[PLAN_REUSE_POINTS];	/* of it, within 2^i s */
	int have_reuse_within;
	struct engine_profile engine;
	struct plan_gpu *gpus;		/* candidates[i].gpu indexes this */
	int ngpus;
	struct pool_traffic pool;	/* the one shared pool */
	/*
	 * Every candidate: the feasible ones first, cheapest for the demand
	 * (instances x USD per hour), then per output token at its rate, then
	 * fewer GPUs per instance; then the rest in enumeration order.
	 */
	struct candidate *cands;
	int ncands, nfit;
	struct workload_plan_reason reasons[WORKLOAD_PLAN_MAX_REASONS];	/* most frequent first */
	int nreasons;
	/*
	 * The pool served P/D-disaggregated (planner/disagg.h), for MoE models:
	 * disagg.tried 0 otherwise; its total_usd is for the same hour of demand
	 * as the candidates' (one quarter), so the two compare directly.
	 */
	struct disagg_plan disagg;
};

/*
 * Plan req->workload. 0 and *out filled (free it with workload_plan_free),
 * or -1 after error(): unknown workload, GPU or engine, a workload without
 * an arrival rate, no candidate GPU with an on-demand price.
 */
int workload_plan(struct db *db, const struct workload_plan_request *req,
		  struct workload_plan *out);
void workload_plan_free(struct workload_plan *p);

/* USD per million output tokens of candidate c at its sustainable rate, for output length osl. */
double workload_plan_usd_per_m_output(const struct candidate *c, double osl);

/*
 * USD per million output tokens of the fleet candidate c needs for the
 * plan's demand, at the workload's mean rate: what a token really costs.
 */
double workload_plan_fleet_usd_per_m_output(const struct workload_plan *w,
					    const struct candidate *c);

#endif
