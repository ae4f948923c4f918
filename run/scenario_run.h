/*
 * scenario_run.h - one run of a scenario, callable without the command
 * line: load the scenario and everything it depends on (schema/), plan
 * each workload's pools and the fleet over the quarters (planner/), and
 * store what was decided (schema/run_rows.h) as one new run.
 *
 * The run is one transaction whichever way it is called: it holds a
 * savepoint, which nests inside an open transaction (`piqplan scenario
 * run`, where the dispatcher has begun one) and otherwise starts its own.
 * When it fails, everything it wrote is rolled back and the database is as
 * it was.
 */
#ifndef PIQPLAN_SCENARIO_RUN_H
#define PIQPLAN_SCENARIO_RUN_H

#include <stdint.h>

struct db;

struct run_request {
	const char *scenario;	/* the scenario's name */
	/*
	 * "YYYY-MM-DD": the day order-by dates are judged against (a risk
	 * note when one is already past); NULL: today (UTC).
	 */
	const char *today;
};

struct run_result {
	int64_t run_id;		/* the new run's id */
	int64_t candidates;	/* candidate configurations evaluated */
};

/*
 * Run the scenario req->scenario. 0 and *out filled, or -1 after error():
 * an unknown scenario, one without workloads or without a priced candidate
 * GPU, a workload without an arrival rate, a pool no candidate can serve
 * (the best candidates' reasons are named), a database failure. GPU types
 * without a price of the scenario's kind are left out with a warning.
 */
int scenario_run(struct db *db, const struct run_request *req, struct run_result *out);

#endif
