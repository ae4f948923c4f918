/*
 * disagg_rows.h - what a run stores of the serving modes of part B of
 * issue 14 (schema/012_disagg.sql): each configuration's role and MoE
 * exchange (run_config_mode), and each pool's disaggregated alternative or
 * choice with its counts per quarter (run_disagg, run_disagg_quarter).
 * Each call is one INSERT inside the run's open transaction.
 */
#ifndef PIQPLAN_DISAGG_ROWS_H
#define PIQPLAN_DISAGG_ROWS_H

#include <stdint.h>

#include "planner/disagg.h"

struct db;

/* run_config_mode for the configuration (pool_id, rank) laid out as l. 0, or -1 after error(). */
int disagg_store_config_mode(struct db *db, int64_t run_id, int64_t pool_id, int rank,
			     const struct layout *l);

/* One pool's disaggregated pair (dg) against its best aggregated cost (NaN: none). */
struct disagg_row {
	int64_t pool_id;		/* the pool decided (see 012_disagg.sql) */
	int64_t decode_pool_id;		/* the decode pool when chosen; 0: none */
	int chosen;
	const struct disagg_plan *dg;
	const char *prefill_gpu, *decode_gpu;	/* ids; NULL when !dg->fits */
	double aggregated_usd;
	const char *reason;
	int quarters;
	const char *const *quarter_names;	/* "2027Q1", ... */
};

/* run_disagg and its run_disagg_quarter rows. 0, or -1 after error(). */
int disagg_store(struct db *db, int64_t run_id, const struct disagg_row *r);

/* "allgather_reducescatter", "deepep_high_throughput", "deepep_low_latency". */
const char *disagg_a2a_name(enum a2a_backend a);

#endif
