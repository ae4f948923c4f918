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
	double usd_per_gpu_hour;	/* the newest price of the scenario's kind; NaN: none */
	char *price_as_of;		/* that price's as_of; NULL: none */
	int owned;			/* some cluster holds this type */
};

/*
 * The GPU types of scenario sid by id: its candidate list (every type when
 * it has none) and every type a cluster holds, each with its newest price
 * of pricing kind `pricing`; with sid < 0 (no scenario), every GPU type. *rows is a new array the caller frees with
 * run_gpu_rows_free().
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
	const char *vllm_args;			/* the whole `vllm serve ...` line */
	/* When fits (it meets the SLOs); else NULL: */
	double rate_rps, output_tok_s, ttft_ms, tpot_ms, total_usd, usd_per_mtok_output;
	const char *reason;
	/* When sized: the profile that answered and its band (planner/instance.h perf_band). */
	const char *perf_profile;
	int perf_rows, perf_validated;
	const char *perf_note;			/* NULL or '': validated */
	double band_lo, band_hi;		/* measured / predicted throughput, p10 and p90 */
};

/* One quarter of a pool on its GPU type (run_fleet). */
struct run_fleet_row {
	const char *quarter;			/* "2027Q1" */
	int64_t pool_id;
	const char *gpu;
	double demand_rps, input_tok_s, output_tok_s;
	int64_t instances, gpus;
	double utilization;
	int64_t gpus_lo, gpus_hi;		/* GPUs at the band's ends; < 0: not known */
};

/* One quarter of one GPU type: need, ownership and cost (run_capacity). */
struct run_capacity_row {
	const char *quarter;
	const char *gpu;
	int64_t gpus_needed, gpus_owned, shortfall;
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
int run_store_fleet(struct run_store *rs, const struct run_fleet_row *row);
int run_store_capacity(struct run_store *rs, const struct run_capacity_row *row);
int run_store_input(struct run_store *rs, const char *kind, const char *name, const char *sha256);
int run_store_note(struct run_store *rs, int seq, const char *kind, const char *text);
int run_store_finish(struct run_store *rs, const char *inputs_sha256, int64_t candidates,
		     double elapsed_ms);
void run_store_free(struct run_store *rs);	/* NULL is fine */

/* --- showing a stored run --------------------------------------------------------- */

/*
 * quarter, gpu, gpus_needed, gpus_owned, shortfall, order_by of run_id
 * (v_shortfall), and the GPUs needed at the band's ends (NULL: no band).
 */
struct stmt *run_shortfall_stmt(struct db *db, int64_t run_id);
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
