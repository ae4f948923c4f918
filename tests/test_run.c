/*
 * test_run.c - a scenario run without the command line: a fresh :memory:
 * database, the built-in catalog, a small workload imported through the
 * ingest and schema layers, a scenario created through schema functions,
 * then run/scenario_run.c's scenario_run() -- what it writes, and that a
 * failing run leaves the database as it was, called alone or inside a
 * caller's transaction.
 *
 * The workload is tests/data/workloads/tiny_requests.csv: 5 requests of
 * Llama-3.1-8B over two minutes, the longest 1000 + 1000 = 2000 tokens.
 * Figures asserted below follow from that by hand:
 *   - long-context isolation (auto) tries thresholds from 4096 tokens, and
 *     every request is shorter, so each workload is one shared pool;
 *   - at 15 s slots the arrivals fall in slots 0, 2, 4, 6 and 8; every
 *     whole 60 s window (starts 0 to 5) holds 2 of them, so the p99 of
 *     windowed rates, the demand planned for, is 2/60 = 0.0333 req/s
 *     (1.33x that after three quarters of 10% growth); the mean is
 *     5 / 120 s = 0.0417 req/s;
 *   - one instance of an 8B model on an H100 or H200 serves far more, so
 *     each quarter needs ceil(demand / rate) = 1 instance; the default
 *     margin is the utilisation target alone: no spare instances;
 *   - no clusters are owned, so every quarter's need is all shortfall, on
 *     one GPU type (the chosen one): one run_capacity row per quarter, and
 *     the first quarter orders all of it, the others nothing (v_orders);
 *   - the inputs hashed are the scenario, its engine, the clusters (one
 *     input "all"), the model, the workload, and for each of the 2
 *     candidate GPU types its gpu row and its prices: 5 + 2 x 2 = 9.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/workload_file.h"
#include "planner/workload.h"
#include "run/scenario_run.h"
#include "schema/catalog.h"
#include "schema/db.h"
#include "schema/scenario.h"
#include "schema/workload.h"

#define GPUS "H100-SXM-80GB,H200-SXM-141GB"

static int64_t scalar(struct db *db, const char *sql)
{
	struct stmt *st = db_prepare(db, sql);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(stmt_step(st), 1);
	int64_t v = stmt_int64(st, 0);
	stmt_finalize(st);
	return v;
}

/* Rows of every table a run writes. */
static int64_t run_rows(struct db *db)
{
	return scalar(db, "SELECT (SELECT count(*) FROM run) + (SELECT count(*) FROM run_pool)"
			  " + (SELECT count(*) FROM run_config) + (SELECT count(*) FROM run_fleet)"
			  " + (SELECT count(*) FROM run_capacity) + (SELECT count(*) FROM run_input)"
			  " + (SELECT count(*) FROM run_note) + (SELECT count(*) FROM run_pool_workload)"
			  " + (SELECT count(*) FROM run_fleet_share) + (SELECT count(*) FROM run_cost)");
}

/* A catalog and the tiny workload "tiny", imported as `piqplan workload import` does. */
static struct db *setup(void)
{
	const char *dir = getenv("PIQPLAN_TEST_DATA");
	char path[4096], err[512];
	struct ingest_opts io = INGEST_OPTS_INIT;
	struct workload_summary s;
	struct wl_edges edges;
	struct wl_hist *h = NULL;
	struct catalog_counts c;
	const char *why;
	struct db *db;

	snprintf(path, sizeof(path), "%s/workloads/tiny_requests.csv", dir ? dir : "tests/data");
	ck_assert_int_eq(db_open(":memory:", &db), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(wl_edges_parse(NULL, &edges, &why), 0);
	io.edges = &edges;
	ck_assert_msg(ingest_file(path, &io, &s, &h, err, sizeof(err)) == INGEST_OK, "%s", err);
	ck_assert_int_eq(s.requests, 5);
	char *edges_col = ingest_edges_text(&edges, NULL, s.format, h);
	struct workload_row w = { "tiny", "meta-llama/Llama-3.1-8B", NULL, path, edges_col, &s };
	ck_assert_int_eq(workload_store(db, 0, &w, h), 0);
	free(edges_col);
	wl_hist_free(h);
	return db;
}

/* Scenario `name` over `tiny` on the two GPU types, 4 quarters from 2027Q1, 10% growth. */
static int64_t create_scenario_margin(struct db *db, const char *name, const char *workloads,
				      double tpot_ms, const char *margin)
{
	struct scenario_settings o = { 0 };
	o.margin = margin;
	o.workloads = workloads;
	o.gpus = GPUS;
	o.start = "2027Q1";
	o.quarters = 4;
	o.have_quarters = 1;
	o.growth = "10%";
	if (tpot_ms > 0) {
		o.tpot_ms = tpot_ms;
		o.have_tpot = 1;
	}
	if (scenario_insert(db, name, &o))
		return -1;
	return scenario_lookup(db, name);
}

static int64_t create_scenario(struct db *db, const char *name, const char *workloads,
			       double tpot_ms)
{
	return create_scenario_margin(db, name, workloads, tpot_ms, NULL);
}

START_TEST(run_writes_pools_configs_fleet_and_capacity)
{
	struct db *db = setup();
	struct run_request req = { "q", "2000-01-01" };
	struct run_result res = { 0, 0 };
	int64_t sid = create_scenario(db, "q", "tiny", 0);
	ck_assert_int_gt(sid, 0);

	ck_assert_int_eq(scenario_run(db, &req, &res), 0);
	ck_assert_int_gt(res.run_id, 0);
	ck_assert_int_gt(res.candidates, 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run"), 1);
	ck_assert_int_eq(scalar(db, "SELECT scenario_id FROM run"), sid);
	ck_assert_int_eq(scalar(db, "SELECT candidates_evaluated FROM run"), res.candidates);

	/* One shared pool (see the top), with exactly one chosen configuration. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_pool"), 1);
	ck_assert_int_eq(scalar(db, "SELECT pool = 'shared' FROM run_pool"), 1);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_config WHERE chosen = 1"), 1);
	/* One fleet row per quarter x pool, each 1 instance, no spares. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(DISTINCT quarter) FROM run_fleet"), 4);
	ck_assert_int_eq(scalar(db, "SELECT min(quarter) = '2027Q1' AND max(quarter) = '2027Q4'"
				    " FROM run_fleet"), 1);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet WHERE instances = 1"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_capacity WHERE spare_gpus = 0"), 4);
	/* Demand: the p99 of windowed rates, 2/60 req/s, grown 10 % a quarter; mean 5/120. */
	ck_assert_int_eq(scalar(db, "SELECT abs(demand_rps - 2.0 / 60) < 1e-9"
				    " AND abs(mean_rps - 5.0 / 120) < 1e-9"
				    " FROM run_fleet WHERE quarter = '2027Q1'"), 1);
	ck_assert_int_eq(scalar(db, "SELECT abs(demand_rps - 2.0 / 60 * 1.1 * 1.1 * 1.1) < 1e-9"
				    " FROM run_fleet WHERE quarter = '2027Q4'"), 1);
	/* The one workload has all of its pool. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet_share WHERE share = 1"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_pool_workload"
				    " WHERE request_share = 1"), 1);
	/* Orders: the first quarter's shortfall, then nothing more. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM v_orders"), 1);
	ck_assert_int_eq(scalar(db, "SELECT (SELECT sum(gpus_to_order) FROM v_orders) ="
				    " (SELECT shortfall FROM run_capacity WHERE quarter = '2027Q4')"),
			 1);
	/* Every GPU a run chose or plans with is one of the scenario's. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_config WHERE gpu_id NOT IN"
				    " ('H100-SXM-80GB', 'H200-SXM-141GB')"), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet WHERE gpu_id NOT IN"
				    " (SELECT gpu_id FROM run_config WHERE chosen = 1)"), 0);
	/* Nothing owned: one capacity row per quarter, all of it shortfall, acquired. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_capacity"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_capacity"
				    " WHERE shortfall = gpus_needed AND gpus_owned = 0"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_cost WHERE source = 'acquired'"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_cost WHERE source = 'owned'"), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_capacity c JOIN run_fleet f"
				    " ON f.quarter = c.quarter WHERE c.gpus_needed <> f.gpus"), 0);
	/* 5 + 2 x 2 inputs, and the run's hash is no longer the placeholder. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_input"), 9);
	ck_assert_int_eq(scalar(db, "SELECT length(inputs_sha256) = 64"
				    " AND inputs_sha256 <> hex(zeroblob(32)) FROM run"), 1);
	/* Judged against 2000-01-01, no order-by date of 2026-2027 is past. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_note"
				    " WHERE text LIKE 'order-by dates already past%'"), 0);
	/* Called alone, the run committed its own transaction: none is left open. */
	ck_assert_int_eq(db_begin(db), 0);
	db_rollback(db);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM v_fleet"), 4);
	db_close(db);
}
END_TEST

START_TEST(spares_per_gpu_type)
{
	struct db *db = setup();
	struct run_request req = { "sp", "2000-01-01" };
	struct run_result res;
	/*
	 * --margin spares: N+1 per GPU type, one instance as large as the
	 * chosen one, on top of the one serving instance in every quarter.
	 */
	ck_assert_int_gt(create_scenario_margin(db, "sp", "tiny", 0, "spares"), 0);
	ck_assert_int_eq(scenario_run(db, &req, &res), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet WHERE instances = 1"), 4);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_capacity c JOIN run_fleet f"
				    " ON f.quarter = c.quarter JOIN run_config g ON g.pool_id = f.pool_id"
				    " AND g.chosen = 1 WHERE c.spare_gpus = g.gpus_per_instance"
				    " AND c.gpus_needed = f.gpus + c.spare_gpus"), 4);
	/* No utilisation target with spares alone: only the SLOs limit an instance. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_note"
				    " WHERE text LIKE 'margin: N+1 spare instances per GPU type%'"), 1);
	db_close(db);
}
END_TEST

START_TEST(run_judges_order_dates_against_the_day_given)
{
	struct db *db = setup();
	struct run_request req = { "q", "2099-01-01" };
	struct run_result res;
	ck_assert_int_gt(create_scenario(db, "q", "tiny", 0), 0);
	ck_assert_int_eq(scenario_run(db, &req, &res), 0);
	/* Every 2027 order-by date is before 2099: the risk is noted once. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_note"
				    " WHERE text LIKE 'order-by dates already past%'"), 1);
	db_close(db);
}
END_TEST

START_TEST(unknown_workload_or_scenario_changes_nothing)
{
	struct db *db = setup();
	struct run_request req = { "nope", NULL };
	struct run_result res;

	/* A scenario naming an unknown workload is refused; the caller's transaction undoes it. */
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(create_scenario(db, "bad", "tiny,nope", 0), -1);
	db_rollback(db);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM scenario"), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM scenario_workload"), 0);

	/* An unknown scenario runs nothing. */
	ck_assert_int_eq(scenario_run(db, &req, &res), -1);
	ck_assert_int_eq(run_rows(db), 0);

	/* A scenario whose workloads were all removed: no workloads, no run. */
	ck_assert_int_gt(create_scenario(db, "empty", "tiny", 0), 0);
	ck_assert_int_eq(db_exec(db, "DELETE FROM scenario_workload"), 0);
	req.scenario = "empty";
	ck_assert_int_eq(scenario_run(db, &req, &res), -1);
	ck_assert_int_eq(run_rows(db), 0);
	ck_assert_int_eq(db_begin(db), 0);	/* no transaction left open */
	db_rollback(db);
	db_close(db);
}
END_TEST

START_TEST(failing_run_rolls_back_what_it_wrote)
{
	struct db *db = setup();
	struct run_request req = { "slow", NULL };
	struct run_result res;

	/*
	 * A TPOT target of 0.001 ms: no GPU decodes a token in a microsecond,
	 * so the first pool cannot be served -- after the run row and its
	 * standing notes have been written.
	 */
	ck_assert_int_gt(create_scenario(db, "slow", "tiny", 0.001), 0);
	ck_assert_int_eq(scenario_run(db, &req, &res), -1);
	ck_assert_int_eq(run_rows(db), 0);
	ck_assert_int_eq(db_begin(db), 0);	/* alone: its transaction is gone */
	db_rollback(db);

	/* Inside a caller's transaction: only the run is undone, the caller's write stays. */
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(price_insert(db, "H100-SXM-80GB", "spot", 1.25, "2026-11", "2026-11-01",
				      "test"), 0);
	ck_assert_int_eq(scenario_run(db, &req, &res), -1);
	ck_assert_int_eq(run_rows(db), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu_price WHERE pricing = 'spot'"
				    " AND gpu_id = 'H100-SXM-80GB' AND source = 'test'"), 1);

	/* And a run that works inside a caller's transaction is kept by its commit. */
	req.scenario = "ok";
	ck_assert_int_gt(create_scenario(db, "ok", "tiny", 0), 0);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(scenario_run(db, &req, &res), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run"), 1);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM run_fleet"), 4);
	db_close(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("scenario_run");
	tcase_add_test(tc, run_writes_pools_configs_fleet_and_capacity);
	tcase_add_test(tc, spares_per_gpu_type);
	tcase_add_test(tc, run_judges_order_dates_against_the_day_given);
	tcase_add_test(tc, unknown_workload_or_scenario_changes_nothing);
	tcase_add_test(tc, failing_run_rolls_back_what_it_wrote);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
