/*
 * scenario.h - scenario rows (schema/003_scenario.sql): a scenario as the
 * run reads it, and the writes of `scenario create|set|copy|remove`.
 */
#ifndef PIQPLAN_SCENARIO_H
#define PIQPLAN_SCENARIO_H

#include <cjson/cJSON.h>
#include <stdint.h>

struct db;

struct scenario_workload {
	int64_t id;
	char *name;
	char *model_id;
	double growth_pct;	/* its own, or the scenario's */
};

struct scenario {
	int64_t id;
	char *name;
	char *description;	/* "" when none */
	int start_quarter;	/* quarter index (year*4 + q-1) */
	int quarters;
	double growth_pct;	/* per quarter, compounded */
	double ttft_ms, tpot_ms;
	double slo_percentile;	/* percent of requests the TTFT and TPOT targets hold for */
	double long_ttft_ms_per_1k;	/* long SLO class: TTFT target per 1,000 prompt tokens */
	double utilization;	/* (0, 1] */
	char *margin;		/* "utilization", "spares" or "both" */
	char *pricing;
	int redundancy;		/* spare instances per GPU type (margin spares or both) */
	int64_t long_context_tokens;	/* 0: auto, -1: off, else the threshold */
	char *engine;
	char *demand;		/* "mean", "p50", "p90", "p99", "p99.9" or "peak" */
	int64_t max_model_len;	/* cap on every pool's max_model_len; 0: none */
	double prefix_hit;	/* prompt tokens an unbounded prefix cache serves, [0, 1);
				 * < 0: the workloads' measured reuse (011_modes.sql) */
	int lead_time_days;
	double mfu;
	struct scenario_workload *workloads;
	int nworkloads;
	char **gpus;		/* candidate GPU ids; none: every priced GPU */
	int ngpus;
};

/* The id of scenario `name`, or -1 after error() ("unknown scenario"). */
int64_t scenario_lookup(struct db *db, const char *name);
/* The newest run of scenario sid (called `name`), or -1 after error() ("has not been run"). */
int64_t scenario_latest_run(struct db *db, int64_t sid, const char *name);
/*
 * Read scenario id with its workloads and GPUs. Every value is checked
 * against the ranges above: one outside them is a data error (exit 65)
 * naming the scenario, the column and the value. 0, or -1 after error().
 */
int scenario_load(struct db *db, int64_t id, struct scenario *out);
void scenario_free(struct scenario *s);
/* The settings as one JSON object (also stored with each run). */
cJSON *scenario_json(const struct scenario *s);

/*
 * The ranges of a scenario's settings: what create and set accept and what
 * scenario_load checks again on every row it reads back, since a database
 * file is input too (another tool, or PRAGMA ignore_check_constraints, can
 * store anything). The horizon ends by 9999Q4, the last quarter a
 * four-digit year can name.
 */
#define SCENARIO_MAX_QUARTERS 40		/* planner/plan.h's PLAN_MAX_QUARTERS */
#define SCENARIO_LAST_QUARTER (9999 * 4 + 3)	/* 9999Q4 as a quarter index */
#define SCENARIO_MAX_GROWTH_PCT 1000.0		/* per quarter: 11x; above -100 */
#define SCENARIO_MAX_SLO_MS 3600000.0		/* TTFT and TPOT targets: an hour */
#define SCENARIO_MAX_REDUNDANCY 1000
#define SCENARIO_MAX_LEAD_TIME_DAYS 3650
#define SCENARIO_MAX_LONG_CONTEXT 100000000
#define SCENARIO_MIN_SLO_PERCENTILE 50.0	/* --slo-percentile: 50 to below 100 */
#define SCENARIO_MAX_LONG_TTFT_MS_PER_1K 1e7	/* --long-ttft-ms-per-1k */
#define SCENARIO_MAX_MODEL_LEN 100000000	/* --max-model-len, tokens */

/* Defaults of a new scenario (scenario create --help documents them). */
#define SCENARIO_DEFAULT_TTFT_MS 2000.0
#define SCENARIO_DEFAULT_TPOT_MS 100.0
#define SCENARIO_DEFAULT_UTILIZATION 0.7
#define SCENARIO_DEFAULT_REDUNDANCY 1
#define SCENARIO_DEFAULT_LEAD_TIME_DAYS 90
#define SCENARIO_DEFAULT_MFU 0.4
#define SCENARIO_DEFAULT_SLO_PERCENTILE 99.0
#define SCENARIO_DEFAULT_LONG_TTFT_MS_PER_1K 500.0
#define SCENARIO_DEFAULT_MARGIN "utilization"
#define SCENARIO_DEFAULT_DEMAND "p99"

/* 1 when s is a --demand value: mean, p50, p90, p99, p99.9 or peak. */
int scenario_demand_valid(const char *s);
/* 1 when s is a --margin value: utilization, spares or both. */
int scenario_margin_valid(const char *s);
/*
 * A --slo-percentile: "p99", "99", "p99.9", "90%" -> percent in (0, 100),
 * at least 50. 0, or -1 if it is none of those.
 */
int slo_percentile_parse(const char *s, double *out);

/*
 * What `scenario create` and `scenario set` change: a NULL string or an
 * unset have_* flag is "not given". Values are checked by the caller
 * (cli/cmd_scenario.c), except the names they hold: workloads (comma-
 * separated names, at least one), gpus (comma-separated, resolved as
 * lookup_gpu does), engine, and the workloads named in growth.
 */
struct scenario_settings {
	const char *workloads, *gpus, *start, *growth, *pricing, *long_context, *engine;
	const char *description, *demand, *margin, *slo_percentile;
	const char *prefix_hit;		/* "measured" or a share in [0, 1) (checked by the caller) */
	int64_t quarters, redundancy, lead_time_days, max_model_len;
	double ttft_ms, tpot_ms, utilization, mfu, long_ttft_ms_per_1k;
	int have_quarters, have_redundancy, have_lead, have_ttft, have_tpot, have_util, have_mfu;
	int have_long_ttft, have_max_model_len;
};

/*
 * A --growth percentage: "15", "15%", "-5.5%" -> percent. 0, or -1 if it
 * is not a number above -100 and at most SCENARIO_MAX_GROWTH_PCT.
 */
int growth_pct_parse(const char *s, double *out);

/*
 * Create scenario `name` with the defaults above and what o gives (start
 * and quarters are required). A name that exists is an error. 0, or -1
 * after error().
 */
int scenario_insert(struct db *db, const char *name, const struct scenario_settings *o);

/*
 * Change what o gives: the scalar settings; the workload and GPU lists
 * replaced when given; --growth bare percentages set the scenario's growth,
 * W=PCT that of its workload W. 0, or -1 after error().
 */
int scenario_update(struct db *db, int64_t id, const struct scenario_settings *o);

/* Copy scenario id, its workloads and GPUs, to a new scenario `new_name`. 0, or -1 after error(). */
int scenario_insert_copy(struct db *db, int64_t id, const char *new_name);

/* Remove scenario id and its runs. 0, or -1 after error(). */
int scenario_delete(struct db *db, int64_t id);

/* 0 when run is a run of scenario sid (called name), else -1 after error(). */
int scenario_has_run(struct db *db, int64_t sid, const char *name, int64_t run);

#endif
