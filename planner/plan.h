/*
 * plan.h - choosing how to serve the workloads of one model over a
 * planning horizon: splitting their requests into pools (long-context
 * isolation, each pool with its SLO class), enumerating candidate
 * instances for each pool (GPU type x TP x PP x EP x precision), sizing
 * each at its SLO batch, finding its sustainable rate at the SLOs'
 * percentile (slo.h) and its cost over the horizon, and ranking them.
 *
 * Pure arithmetic on top of instance.h, slo.h and fleet.h: no SQLite, no
 * stdio, no globals. Allocates with malloc; a NULL from it is reported as -1.
 */
#ifndef PIQPLAN_PLAN_H
#define PIQPLAN_PLAN_H

#include <stdint.h>

#include "disagg.h"
#include "instance.h"
#include "slo.h"
#include "workload.h"

#define PLAN_MAX_QUARTERS 40

/*
 * A candidate GPU type: the price more of it would be bought or rented at,
 * and how many are already owned. Owned GPUs are paid for whether they
 * serve or not, so a plan adds no cost by using them: candidates are
 * charged only for the GPUs beyond what is owned.
 */
struct plan_gpu {
	struct gpu_spec spec;
	double usd_per_gpu_hour;	/* the scenario's pricing kind; NaN: cannot acquire more */
	double owned_usd_per_gpu_hour;	/* what an owned GPU costs per hour (0: not stated) */
	int64_t owned[PLAN_MAX_QUARTERS]; /* owned GPUs still free, per quarter of the horizon */
};

/* One workload of the model, as the pools are cut from it. */
struct plan_workload {
	const struct wl_bucket *b;	/* its non-empty buckets */
	int nb;
	int64_t max_total_tokens;	/* its longest prompt + output when measured exactly; 0: unknown */
	double demand_rps[PLAN_MAX_QUARTERS];	/* requests/s planned for, growth applied */
	double mean_rps[PLAN_MAX_QUARTERS];	/* its mean rate, growth applied */
	double reuse_unbounded;		/* measured prefix reuse share (Mooncake); 0: unknown */
	const double *reuse_within;	/* PLAN_REUSE_POINTS shares reused within 2^i s; NULL */
};

/* A pool: requests whose prompt + output falls in [min_total, max_total). */
#define PLAN_REUSE_POINTS 17	/* prefix reuse within 2^0 .. 2^16 s */

struct pool_traffic {
	int64_t min_total_tokens;
	int64_t max_total_tokens;	/* 0: no upper bound */
	double share;			/* of the workloads' requests (demand-weighted), (0, 1] */
	double isl, osl;		/* mean prompt and output tokens */
	double prompt_cv2;		/* squared coefficient of variation of prompt lengths */
	int64_t max_model_len;		/* what the pool's instances must serve */
	int64_t longest_tokens;		/* the longest prompt + output the pool receives */
	double rejected_share;		/* of the requests sent to it, longer than max_model_len */
	int long_class;			/* 1: the long SLO class (a long pool) */
	int64_t class_tokens;		/* requests of this many tokens or more are of the long
					 * class (0: none); a long pool's min_total_tokens */
	struct slo_traffic lengths;	/* prompt and output points, with each prompt's class */
	double demand_rps[PLAN_MAX_QUARTERS];	/* sum over the workloads of their share */
	double mean_rps[PLAN_MAX_QUARTERS];
	double reuse_unbounded;		/* the workloads' measured prefix reuse (unbounded
					 * cache), demand-weighted; 0: not measured */
	double reuse_within[PLAN_REUSE_POINTS];	/* of it, reused within 2^i s */
	int reuse_points;		/* PLAN_REUSE_POINTS, or 0 without a curve */
};

/* What the scenario asks of every pool. */
struct plan_params {
	struct slo_target slo;		/* percentile, TTFT (and its long class), TPOT, utilisation */
	int spares;			/* spare instances per GPU type (N+k); 0: none */
	int start_quarter;		/* quarter index (fleet.h) */
	int quarters;			/* <= PLAN_MAX_QUARTERS */
	int allow_fp8;			/* try --quantization fp8 on GPUs with FP8 */
	int64_t max_model_len;		/* every pool's max_model_len at most this; 0: no cap */
	int no_disagg;			/* 1: do not weigh P/D disaggregation (plan_decide) */
	int modes;			/* 1: also try the serving modes inside an instance
					 * (fp8 KV, MTP, EAGLE-3: plan_modes) */
	double prefix_hit;		/* prompt tokens the prefix cache would serve with an
					 * unbounded cache, [0, 1); < 0: the pool's measured
					 * reuse (reuse_unbounded). What a finite cache keeps is
					 * worked out per candidate (prefix_hit_kept) */
	const char *model_id;		/* for the EAGLE-3 draft (spec_eagle3_draft); may be NULL */
};

struct candidate;

/* The unbounded-cache hit share a pool's candidates start from (p->prefix_hit or measured). */
double plan_prefix_asked(const struct plan_params *p, const struct pool_traffic *t);

/*
 * The serving mode of a layout, as run_config.mode stores it: 'aggregated'
 * (one instance, the model's KV dtype, no speculation), 'fp8-kv',
 * 'mtp', 'eagle3', 'ngram', or a speculative mode with fp8 KV
 * ('mtp+fp8-kv'); wide expert parallelism across nodes 'wide-ep', a side
 * of a P/D-disaggregated pair 'disagg-prefill' / 'disagg-decode', each
 * with what it adds ('wide-ep+mtp', 'disagg-decode+mtp+fp8-kv').
 */
const char *plan_mode_name(const struct layout *l, char *buf, size_t n);
/*
 * The serving modes worth trying on a base layout (PP 1 for speculation:
 * vLLM runs none with PP): fp8 KV where vLLM runs it, MTP where the
 * checkpoint has MTP layers, else EAGLE-3 where a draft head is published,
 * MTP with fp8 KV. Writes at most 4 layouts to v; returns how many.
 */
int plan_mode_variants(const struct model_arch *m, const struct gpu_spec *g,
		       const struct plan_params *p, const struct layout *base, struct layout *v);

/*
 * The first candidate after c[0] (ranked, plan_pool) whose mode differs
 * from c[0]'s and that fits: the next-best mode. -1 when there is none.
 */
int plan_next_mode(const struct candidate *c, int n);

/* One evaluated candidate. */
struct candidate {
	int gpu;			/* index into the plan_gpu array */
	int order;			/* enumeration order, for stable ranking */
	struct instance inst;		/* sized; inst.max_num_seqs is the SLO batch */
	int fits;			/* fits in memory, serves the SLOs, has a price */
	char reason[240];		/* why not; or, for the ranked, a summary */
	int kv_seqs;			/* sequences per rank the KV (and the engine cap) allows */
	double rate_rps;		/* sustainable requests/s per instance */
	struct slo_load at;		/* the operating point at that rate */
	struct slo_load full;		/* the operating point with every slot busy */
	double usd_per_hour;		/* one instance at the market price (owned rate without one) */
	double serving_usd;		/* the pool's instances over the horizon, beyond owned GPUs */
	double spare_usd;		/* its N+k spares, were it the largest on its GPU type */
	double total_usd;		/* serving + spares */
	int64_t instances[PLAN_MAX_QUARTERS];	/* serving instances (spares are per GPU type) */
	double prefix_hit;		/* the hit share its prefills assume (what its cache keeps) */
	double prefix_retention_s;	/* how long a freed block stays cached at its rate */
};

/*
 * What `gpus` GPUs of type g add in quarter q (index into the horizon):
 * nothing for those owned, the price for the rest. NaN when more are
 * needed than owned and the type has no price.
 */
double plan_gpu_quarter_usd(const struct plan_gpu *g, int q, int quarter_index, int64_t gpus);

/*
 * Every candidate for one pool, sized and costed, in *out (caller frees),
 * sorted: those that fit by total cost (then fewer GPUs), then the rest.
 * Pipeline parallelism stays only where it beats the layout with twice the
 * TP and half the PP on the same GPUs in every load shape (offline
 * throughput, a closed loop at the full batch, the sustainable rate):
 * vLLM's rule, TP inside a node and PP across nodes. Returns the number of
 * candidates, or -1 when out of memory.
 */
int plan_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
	      const struct engine_profile *e, const struct pool_traffic *t,
	      const struct plan_params *p, struct candidate **out);

/*
 * Expert groups (GPUs: tp 1 x dp) wide EP is tried with on g: 2, 4 and 8
 * whole nodes, at most the model's experts; none without a scale-out
 * network, on a GPU DeepEP does not run on (not NVIDIA), or for a dense
 * model. Returns how many were written (at most max).
 */
int plan_wide_ep_groups(const struct model_arch *m, const struct gpu_spec *g, int groups[],
			int max);

/* Number of candidates plan_pool evaluates for this model and these GPUs. */
int plan_candidate_count(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
			 const struct plan_params *p);

/*
 * Pools of a model's workloads w[0..nw-1]. threshold 0: one shared pool,
 * whose requests of class_tokens tokens or more (0: none) are of the long
 * SLO class; else requests whose bucket lies wholly below `threshold`
 * total tokens go to a short pool and the rest to a long pool (the long
 * class). Workloads weigh in by their demand over the horizon. A pool's
 * max_model_len covers its longest request (the exact maximum where the
 * workload measured it, else its bucket's bound), capped by model_max_ctx
 * and p->max_model_len; requests beyond it are its rejected_share.
 * Returns the number of pools written (1 or 2; 0 when the threshold
 * leaves one side empty, or there are no buckets).
 */
int plan_pools(const struct plan_workload *w, int nw, int64_t threshold, int64_t class_tokens,
	       int64_t model_max_ctx, const struct plan_params *p, struct pool_traffic pools[2]);

/*
 * Share of workload w's requests that a pool [min_total, max_total) (max 0:
 * unbounded) receives, by the rule plan_pools cuts pools with, and their
 * mean prompt and output tokens in *isl and *osl (either may be NULL).
 */
double plan_pool_share(const struct plan_workload *w, int64_t min_total, int64_t max_total,
		       double *isl, double *osl);

/*
 * Thresholds worth trying for long-context isolation: powers of two from
 * 4,096 tokens up to model_max_ctx that leave between 0.01 % and 50 % of
 * requests in the long pool. Returns how many were written (at most max).
 */
int plan_thresholds(const struct plan_workload *w, int nw, int64_t model_max_ctx,
		    int64_t *out, int max);

/* A model's pools as decided: one shared pool, or a short and a long one. */
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
	/*
	 * The alternative that lost, for the words: the shared pool's best
	 * candidate when a split was chosen (alt_pools 1), or the best split's
	 * two when the shared pool was (alt_pools 2); alt[k].fits 0 and its
	 * reason when that pool could not be served at all.
	 */
	int alt_pools;
	struct pool_traffic alt_pool[2];
	struct candidate alt[2];
	/*
	 * Each pool served P/D-disaggregated instead (MoE models, GPU types with a
	 * scale-out network; disagg.h): disagg[k].tried 0 when not tried, and
	 * disagg_wins[k] 1 when it costs less over the horizon than the pool's
	 * best aggregated candidate (which then is the alternative that lost).
	 */
	struct disagg_plan disagg[2];
	int disagg_wins[2];
};

/*
 * Decide the pools of a model's workloads. long_context: 0 tries every
 * threshold plan_thresholds() offers, then weighs the cheapest split
 * against one shared pool in which the same long requests keep their long
 * SLO class, and keeps the cheaper; -1 keeps one shared pool (every
 * request of the chat class); > 0 splits at that threshold whenever both
 * sides are non-empty and servable. Spares are counted once per GPU type
 * (a split on one type pays for its larger instance's spares only).
 * 0, or -1 when out of memory (d is then freed).
 */
int plan_decide(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct plan_workload *w, int nw,
		int64_t long_context, const struct plan_params *p, struct plan_decision *d);
void plan_decision_free(struct plan_decision *d);

/*
 * Why the loser of disaggregated vs aggregated serving lost, in words, at
 * quarter q of the horizon: "disaggregated costs 68% more (12,345 vs 7,345
 * USD): 2 prefill x 8 + 1 decode x 8 GPUs against 1 x 8" (or the other
 * way round); what dg->reason says when it could not serve at all. agg
 * NULL or not fitting: only the disaggregated side. Writes at most n bytes.
 */
void plan_mode_words(const struct disagg_plan *dg, const struct candidate *agg, int q,
		     char *buf, size_t n);

/*
 * max_model_len for a pool: tokens rounded up to a multiple of 1,024
 * (at least 2,048), capped by the model's maximum context.
 */
int64_t plan_max_model_len(double tokens, int64_t model_max_ctx);

#endif
