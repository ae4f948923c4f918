/*
 * scenario.h - a scenario as the run reads it from the database.
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
	double utilization;	/* (0, 1] */
	char *pricing;
	int redundancy;
	int64_t long_context_tokens;	/* 0: auto, -1: off, else the threshold */
	char *engine;
	int demand_peak;	/* 1: plan for peak rps, 0: mean */
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
int scenario_load(struct db *db, int64_t id, struct scenario *out);
void scenario_free(struct scenario *s);
/* The settings as one JSON object (also stored with each run). */
cJSON *scenario_json(const struct scenario *s);

#endif
