/*
 * run_rows.h - the rows of a scenario run (schema/003_scenario.sql): what
 * a run reads besides the catalog, the scenario and the workloads (its
 * candidate GPUs, the hashes of its inputs), what it writes (run,
 * run_pool, run_config, run_fleet, run_capacity, run_input, run_note), and
 * what `scenario run` and `scenario compare` show of a stored run.
 *
 * Writes happen in the caller's transaction (run/scenario_run.c holds a
 * savepoint around them). Every function returns 0, or -1 after error(),
 * unless it says otherwise. A double that is NaN is stored as NULL.
 */
#ifndef PIQPLAN_RUN_ROWS_H
#define PIQPLAN_RUN_ROWS_H

#include <stdint.h>

#include "lib/util.h"

struct db;
struct stmt;

/* --- reading -------------------------------------------------------------- */

/* A GPU type a run may plan with. */
struct run_gpu_row {
	char *id;
	double usd_per_gpu_hour;	/* the price of the scenario's kind by the rule of
					 * view gpu_price_current; NaN: none */
	char *price_as_of;		/* that price's as_of (the newest quote's); NULL: none */
	char *price_basis;		/* how it was chosen, for the run's notes; NULL: none */
	int owned;			/* some cluster holds this type */
	int listed;			/* a candidate: in the scenario's list (or it has none) */
};

/*
 * The GPU types of scenario sid by id: its candidate list (every type when
 * it has none), and every type a cluster holds -- with listed 0 when the
 * scenario lists GPUs and not this one (its owned GPUs are then unused
 * capacity) -- each with its price of kind `pricing` (gpu_price_current); with
 * sid < 0 (no scenario), every GPU type. *rows is a new array the caller
 * frees with run_gpu_rows_free().
 */
int run_gpu_rows(struct db *db, int64_t sid, const char *pricing, struct run_gpu_row **rows,
		 int *n);
void run_gpu_rows_free(struct run_gpu_row *rows, int n);

/* The inputs a run records the SHA-256 of (run_input.kind). */
enum run_input_kind {
	RUN_INPUT_GPU,		/* the gpu row of key (a GPU id) */
	RUN_INPUT_PRICES,	/* every gpu_price row of key (a GPU id) */
	RUN_INPUT_MODEL,	/* the config.json of key (a model id) */
	RUN_INPUT_WORKLOAD,	/* the figures and buckets of key (a workload name) */
	RUN_INPUT_ENGINE,	/* the engine row of key (an engine id) */
	RUN_INPUT_CLUSTERS,	/* every cluster row (key ignored) */
};

/*
 * SHA-256 of the rows an input consists of, as text: each row's columns
 * separated by tabs and ended by a newline, in a fixed order. hex gets 64
 * lowercase hex digits and a NUL.
 */
int run_input_sha256(struct db *db, enum run_input_kind kind, const char *key, char hex[65]);

/* --- writing -------------------------------------------------------------- */

/* One pool of a workload (run_pool). */
struct run_pool_row {
	int64_t workload_id;
	const char *pool;			/* "shared", "short" or "long" */
	int64_t min_total_tokens;		/* prompt + output tokens, inclusive */
	int64_t max_total_tokens;		/* exclusive; 0: no upper bound (NULL) */
	double request_share;			/* of the workload's requests */
	double prompt_tokens_mean, output_tokens_mean;
	int64_t max_model_len;
	const char *threshold_choice;		/* how the split was decided, in words */
	double shared_alternative_usd;		/* NaN: not computed */
	const char *model_id;
	const char *slo_class;			/* "chat" or "long" */
	double slo_percentile;			/* percent */
	double ttft_target_ms, tpot_target_ms;
	double long_ttft_ms_per_1k;		/* NaN: no long class */
	int64_t long_class_tokens;		/* 0: no long class */
	int64_t longest_tokens;
	double rejected_share;
	double split_alternative_usd;		/* NaN: none */
	const char *alternative_lost;		/* NULL: none */
};

/* One ranked or infeasible configuration of a pool (run_config). */
struct run_config_row {
	int64_t pool_id;
	int rank, chosen, fits;
	const char *gpu;
	int tp, pp, dp, ep;
	const char *precision, *kv_dtype;
	int gpus_per_instance;
	double usd_per_gpu_hour;		/* NaN: no price of the scenario's kind */
	/* When sized (the instance fits in memory); else NULL: */
	int sized;
	int64_t max_model_len, kv_tokens;
	int max_num_seqs, max_num_batched_tokens;
	double gpu_memory_utilization;
	const char *vllm_args;			/* node 0's whole command line (`vllm serve ...`) */
	int kv_max_num_seqs;			/* what the KV holds (when sized) */
	int nodes;				/* nodes one instance spans */
	/* When fits (it meets the SLOs); else NULL: */
	double rate_rps, output_tok_s, ttft_ms, tpot_ms, total_usd, usd_per_mtok_output;
	double slo_percentile, tpot_full_ms, capacity_rps, utilization;
	const char *reason;
	/* When sized: the profile that answered and its band (planner/instance.h perf_band). */
	const char *perf_profile;
	int perf_rows, perf_validated;
	const char *perf_note;			/* NULL or '': validated */
	double band_lo, band_hi;		/* measured / predicted throughput, p10 and p90 */
	/* The serving mode (011_modes.sql): */
	const char *mode;			/* 'aggregated', 'fp8-kv', 'mtp', ...; NULL: aggregated */
	const char *spec_method;		/* NULL: no speculation; else tokens, acceptance: */
	int spec_tokens;
	double spec_acceptance, spec_tokens_per_step;
	double prefix_hit, prefix_retention_s;	/* NaN: not assumed / not known */
	const char *next_mode;			/* chosen row: the best other mode; NULL: none */
	int64_t next_mode_gpus;			/* its serving GPUs, busiest quarter */
	double next_mode_cost_usd;		/* its cost over the horizon */
	int64_t no_prefix_gpus;			/* chosen row with hits: GPUs without them; < 0: NULL */
};

/* One quarter of a pool on its GPU type (run_fleet). */
struct run_fleet_row {
	const char *quarter;			/* "2027Q1" */
	int64_t pool_id;
	const char *gpu;
	double demand_rps, mean_rps, input_tok_s, output_tok_s;	/* tokens at the mean */
	int64_t instances, gpus;		/* serving */
	double utilization;			/* busy fraction */
	int64_t gpus_lo, gpus_hi;		/* serving GPUs at the band's ends; < 0: not known */
};

/* One workload's share of a pool in one quarter (run_fleet_share). */
struct run_fleet_share_row {
	const char *quarter;
	int64_t pool_id, workload_id;
	double demand_rps, mean_rps, input_tok_s, output_tok_s, share;
};

/* Owned or acquired GPUs of one type in one quarter, and their cost (run_cost). */
struct run_cost_row {
	const char *quarter;
	const char *gpu;
	const char *source;			/* "owned" or "acquired" */
	int64_t gpus, gpus_in_service;
	const char *pricing;
	double usd_per_gpu_hour;		/* NaN: owned at no stated rate */
	const char *price_as_of;		/* NULL: none */
	double hours, cost_usd, input_tokens, output_tokens;
	double usd_per_mtok_input, usd_per_mtok_output;	/* NaN: no tokens */
	double compute_floor_usd;
};

/* One quarter of one GPU type: need, ownership and cost (run_capacity). */
struct run_capacity_row {
	const char *quarter;
	const char *gpu;
	int64_t gpus_needed, gpus_owned, shortfall;
	int64_t spare_gpus;			/* of gpus_needed */
	int listed;				/* 0: owned, not a candidate of the scenario */
	const char *order_by;			/* "YYYY-MM-DD"; NULL: nothing to order */
	const char *pricing;
	double usd_per_gpu_hour;		/* NaN: no price */
	const char *price_as_of;		/* NULL: no price */
	double owned_usd_per_gpu_hour;		/* NaN: none stated */
	double hours, cost_usd, input_tokens, output_tokens;
	double usd_per_mtok_input, usd_per_mtok_output;	/* NaN: no tokens */
	double compute_floor_usd;
};

/* The writer of one run: its run row and the statements its rows go through. */
struct run_store;

/*
 * Insert the run row of scenario sid (written by piqplan `version`, with
 * the scenario's settings as assumptions_json; its hash, candidates and
 * time are set by run_store_finish) and prepare the writes. NULL after
 * error().
 */
struct run_store *run_store_begin(struct db *db, int64_t sid, const char *version,
				  const char *assumptions_json);
int64_t run_store_id(const struct run_store *rs);
int run_store_pool(struct run_store *rs, const struct run_pool_row *row, int64_t *pool_id);
int run_store_config(struct run_store *rs, const struct run_config_row *row);
/* One node's command of the configuration (pool_id, rank) stored by run_store_config. */
int run_store_launch(struct run_store *rs, int64_t pool_id, int rank, int node,
		     const char *engine, const char *command);
int run_store_fleet(struct run_store *rs, const struct run_fleet_row *row);
int run_store_capacity(struct run_store *rs, const struct run_capacity_row *row);
int run_store_pool_workload(struct run_store *rs, int64_t pool_id, int64_t workload_id,
			    double request_share);
int run_store_fleet_share(struct run_store *rs, const struct run_fleet_share_row *row);
int run_store_cost(struct run_store *rs, const struct run_cost_row *row);
int run_store_input(struct run_store *rs, const char *kind, const char *name, const char *sha256);
int run_store_note(struct run_store *rs, int seq, const char *kind, const char *text);
int run_store_finish(struct run_store *rs, const char *inputs_sha256, int64_t candidates,
		     double elapsed_ms);
void run_store_free(struct run_store *rs);	/* NULL is fine */

/* --- showing a stored run --------------------------------------------------------- */

/*
 * quarter, gpu, gpus_needed, spare_gpus, gpus_owned, shortfall,
 * gpus_to_order, order_by of run_id (v_shortfall beside v_orders; order_by
 * NULL when nothing is to be ordered that quarter), and the serving GPUs
 * needed at the band's ends (NULL: no band).
 */
struct stmt *run_shortfall_stmt(struct db *db, int64_t run_id);
/*
 * The chosen configuration of every pool of run_id: model, pool, slo_class,
 * gpu, gpus_per_instance, tp, pp, dp, ep, max_num_seqs, kv_max_num_seqs,
 * rate_rps, ttft_ms, tpot_ms, slo_percentile (percent), utilization.
 */
struct stmt *run_pools_stmt(struct db *db, int64_t run_id);
/* quarter, cost_usd, compute_floor_usd of run_id summed per quarter, rounded to cents. */
struct stmt *run_cost_stmt(struct db *db, int64_t run_id);

/* GPUs needed and cost of two runs in one quarter. */
struct run_compare_row {
	char quarter[QUARTER_BUF];
	int64_t gpus_a, gpus_b;
	double cost_a_usd, cost_b_usd;
};

/*
 * Per quarter either run plans (in order): GPUs needed and cost of run a
 * and of run b (0 where one does not plan that quarter). *rows is a new
 * array the caller frees.
 */
int run_compare(struct db *db, int64_t a, int64_t b, struct run_compare_row **rows, int *n);

#endif
