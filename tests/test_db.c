/*
 * test_db.c - the database layer and the catalog: migrations from nothing,
 * refusal of newer or foreign databases, an idempotent catalog load, and
 * the schema's own guards (CHECK constraints, foreign keys).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "schema/catalog.h"
#include "schema/db.h"
#include "schema/scenario.h"

static int64_t scalar(struct db *db, const char *sql)
{
	struct stmt *st = db_prepare(db, sql);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(stmt_step(st), 1);
	int64_t v = stmt_int64(st, 0);
	stmt_finalize(st);
	return v;
}

static char *temp_path(void)
{
	char *p = strdup("/tmp/piqplan-test-XXXXXX");
	int fd = mkstemp(p);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(p);		/* db_open creates it fresh */
	return p;
}

static void remove_db(const char *p)
{
	char buf[512];
	unlink(p);
	snprintf(buf, sizeof(buf), "%s-wal", p);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", p);
	unlink(buf);
}

START_TEST(migrates_empty_database)
{
	struct db *db;
	ck_assert_int_eq(db_open(":memory:", &db), 0);
	ck_assert_int_eq(scalar(db, "PRAGMA user_version"), db_schema_version());
	/* 0x50495150 = "PIQP" */
	ck_assert_int_eq(scalar(db, "PRAGMA application_id"), 0x50495150);
	ck_assert_int_eq(scalar(db, "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM sqlite_schema WHERE name IN"
				    " ('gpu','gpu_price','model','engine','cluster')"), 5);
	/* Every table is STRICT. */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM pragma_table_list"
				    " WHERE schema = 'main' AND type = 'table' AND strict = 0"
				    " AND name NOT LIKE 'sqlite_%'"), 0);
	db_close(db);
}
END_TEST

START_TEST(reopen_is_noop_and_newer_is_refused)
{
	char *path = temp_path();
	struct db *db;
	ck_assert_int_eq(db_open(path, &db), 0);
	db_close(db);
	ck_assert_int_eq(db_open(path, &db), 0);
	ck_assert_int_eq(scalar(db, "PRAGMA user_version"), db_schema_version());
	ck_assert_int_eq(db_exec(db, "PRAGMA user_version = 9999"), 0);
	db_close(db);
	/* A database from a newer piqplan must not be touched. */
	ck_assert_int_eq(db_open(path, &db), -1);
	remove_db(path);
	free(path);
}
END_TEST

START_TEST(foreign_database_is_refused)
{
	char *path = temp_path();
	struct db *db;
	ck_assert_int_eq(db_open(path, &db), 0);
	ck_assert_int_eq(db_exec(db, "PRAGMA application_id = 1234"), 0);
	ck_assert_int_eq(db_exec(db, "PRAGMA user_version = 0"), 0);
	db_close(db);
	ck_assert_int_eq(db_open(path, &db), -1);
	remove_db(path);
	free(path);
}
END_TEST

START_TEST(catalog_load_is_idempotent)
{
	struct db *db;
	struct catalog_counts c;
	ck_assert_int_eq(db_open(":memory:", &db), 0);
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(db_commit(db), 0);
	/*
	 * seeds/: 24 GPU rows in gpus.csv (the first catalog's 11 and the 13 new of
	 * gpus-2026.csv), 63 in prices.csv, 29 configs (31 files, two of them
	 * hf_quant_config.json beside their config); 3 engines.
	 */
	ck_assert_int_eq(c.gpus, 24);
	ck_assert_int_eq(c.prices, 63);
	ck_assert_int_eq(c.models, 29);
	ck_assert_int_eq(c.engines, 3);
	/*
	 * seeds/measurements.csv: the 217 rows of the project's calibration files
	 * and 222 vetted researcher rows, plus 3 decode-only disaggregated rows
	 * (mode disagg, seeds/README.md); the fitted profiles of
	 * seeds/profiles.csv, at least the three engine nodes.
	 */
	ck_assert_int_eq(c.measurements, 442);
	ck_assert_int_ge(c.profiles, 3);

	ck_assert_int_eq(db_begin(db), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(db_commit(db), 0);
	ck_assert_int_eq(c.gpus + c.prices + c.models + c.engines + c.measurements + c.profiles, 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM model"), 29);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu_price"), 63);

	/* H100 SXM: 81,559 MiB as nvidia-smi reports it (gpus.csv) = 85,520,809,984 bytes. */
	ck_assert_int_eq(scalar(db, "SELECT memory_bytes FROM gpu WHERE id = 'H100-SXM-80GB'"),
			 85520809984LL);
	/* A100 has no FP8 tensor cores: stored as NULL, not 0. */
	ck_assert_int_eq(scalar(db, "SELECT fp8_flops IS NULL FROM gpu WHERE id = 'A100-SXM-80GB'"), 1);
	/* '2026-Q1' is ordered as 2026-01-01. */
	ck_assert_int_eq(scalar(db, "SELECT as_of_date = '2026-01-01' FROM gpu_price"
				    " WHERE gpu_id = 'A100-SXM-80GB' AND pricing = 'on-demand'"
				    " AND as_of = '2026-Q1'"), 1);
	/*
	 * Migration 005's columns. H100 SXM: torch sees 79.19 GiB (vLLM 0.19
	 * start-up logs, shared/data/vllm/startup_logs.csv) = 79.19 x 2^30 = 85,029,615,042.6
	 * B, stored as 85,029,615,042; 400 Gb/s ConnectX-7 per GPU = 5e10 B/s; 8 per node.
	 * MI300X: 196,288 MiB as rocm-smi reports it = 205,822,885,888 B.
	 */
	ck_assert_int_eq(scalar(db, "SELECT memory_torch_bytes FROM gpu WHERE id = 'H100-SXM-80GB'"),
			 85029615042LL);
	ck_assert_int_eq(scalar(db, "SELECT scaleout_bytes_per_s = 5e10 AND gpus_per_node = 8"
				    " AND form_factor = 'SXM' AND arch = 'Hopper' AND vllm_served = 1"
				    " FROM gpu WHERE id = 'H100-SXM-80GB'"), 1);
	ck_assert_int_eq(scalar(db, "SELECT memory_bytes FROM gpu WHERE id = 'MI300X-192GB'"),
			 205822885888LL);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu WHERE vllm_served = 0"), 2);
	/* At least one GPU has no price at all (H20 has none: gpus-2026-NOTES.md). */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu_price WHERE gpu_id = 'H20-SXM-96GB'"),
			 0);
	/* Qwen3.5-397B-A17B: 45 Gated DeltaNet layers + 15 full attention (layer_types). */
	ck_assert_int_eq(scalar(db, "SELECT layer_mix = '45 linear + 15 full' FROM model"
				    " WHERE id = 'Qwen/Qwen3.5-397B-A17B'"), 1);
	/* The ModelOpt checkpoint keeps its hf_quant_config.json beside the config. */
	ck_assert_int_eq(scalar(db, "SELECT quant_method = 'modelopt' AND"
				    " json_extract(quant_config_json, '$.quantization.quant_algo') = 'NVFP4'"
				    " FROM model WHERE id = 'nvidia/Qwen3-235B-A22B-NVFP4'"), 1);
	/* Nemotron's Infinity: config_json is strict JSON, config_text the file itself. */
	ck_assert_int_eq(scalar(db, "SELECT json_valid(config_json) AND"
				    " instr(config_text, 'Infinity') > 0 FROM model"
				    " WHERE id = 'nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8'"), 1);
	/* The figures: DeepSeek-V3 671.03 B / 37.55 B, KV 61 x 576 x 2 = 70,272 B. */
	ck_assert_int_eq(scalar(db, "SELECT abs(total_params - 671.03e9) < 0.005 * 671.03e9"
				    " FROM model WHERE id = 'deepseek-ai/DeepSeek-V3'"), 1);
	ck_assert_int_eq(scalar(db, "SELECT abs(active_params - 37.55e9) < 0.005 * 37.55e9"
				    " FROM model WHERE id = 'deepseek-ai/DeepSeek-V3'"), 1);
	ck_assert_int_eq(scalar(db, "SELECT kv_bytes_per_token FROM model"
				    " WHERE id = 'deepseek-ai/DeepSeek-V3'"), 70272);
	/* vLLM's default since v0.21 (vllm/config/cache.py; PR vllm#38284). */
	ck_assert_int_eq(scalar(db, "SELECT gpu_memory_utilization = 0.92 FROM engine"
				    " WHERE id = 'vllm'"), 1);
	db_close(db);
}
END_TEST

/*
 * D6: the CHECK constraints are not the last guard -- PRAGMA
 * ignore_check_constraints (or another tool) stores anything, and a
 * scenario of 100 quarters wrote past a 40-quarter array. What is read
 * back is checked again: each of these rows is refused with a data error.
 */
START_TEST(tampered_rows_are_refused_on_load)
{
	static const char *const tamper[] = {
		"UPDATE scenario SET quarters = 100",
		"UPDATE scenario SET quarters = 0",
		"UPDATE scenario SET start_quarter = 'garbage'",
		"UPDATE scenario SET start_quarter = '9999Q4', quarters = 2",
		"UPDATE scenario SET growth_pct_per_quarter = 1e300",
		"UPDATE scenario SET utilization = 0",
		"UPDATE scenario SET ttft_ms = -1",
		"UPDATE scenario SET redundancy = 4294967297",
		"UPDATE scenario SET long_context = 'x'",
		"UPDATE scenario SET pricing = 'free'",
	};
	for (size_t i = 0; i < sizeof(tamper) / sizeof(tamper[0]); i++) {
		struct db *db;
		struct catalog_counts c;
		struct scenario sc;
		ck_assert_int_eq(db_open(":memory:", &db), 0);
		ck_assert_int_eq(catalog_load(db, &c), 0);
		ck_assert_int_eq(db_exec(db, "INSERT INTO scenario (name, start_quarter, quarters,"
					     " ttft_ms, tpot_ms, utilization, pricing, redundancy,"
					     " long_context, engine_id) VALUES ('s', '2027Q1', 4, 2000,"
					     " 100, 0.7, 'on-demand', 1, 'auto', 'vllm')"), 0);
		int64_t sid = scalar(db, "SELECT id FROM scenario WHERE name = 's'");
		ck_assert_int_eq(scenario_load(db, sid, &sc), 0);	/* as stored: fine */
		scenario_free(&sc);
		ck_assert_int_eq(db_exec(db, "PRAGMA ignore_check_constraints = 1"), 0);
		ck_assert_int_eq(db_exec(db, tamper[i]), 0);
		set_failure_status(EXIT_FAIL);
		ck_assert_msg(scenario_load(db, sid, &sc) == -1, "not refused: %s", tamper[i]);
		ck_assert_int_eq(failure_status(), EXIT_DATA);
		db_close(db);
	}
}
END_TEST

START_TEST(schema_guards_reject_bad_rows)
{
	struct db *db;
	struct catalog_counts c;
	ck_assert_int_eq(db_open(":memory:", &db), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	/* A price of zero is never a price. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour,"
				     " as_of, as_of_date, source) VALUES"
				     " ('L4-24GB', 'spot', 0, '2026', '2026-01-01', 'x')"), -1);
	/* Unknown pricing kind. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour,"
				     " as_of, as_of_date, source) VALUES"
				     " ('L4-24GB', 'free', 1, '2026', '2026-01-01', 'x')"), -1);
	/* Unknown origin. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour,"
				     " as_of, as_of_date, source, origin) VALUES"
				     " ('L4-24GB', 'spot', 1, '2026', '2026-01-01', 'x', 'vendor')"), -1);
	/* The same row with a good origin goes in: the refusals above were for their fields. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour,"
				     " as_of, as_of_date, source, origin) VALUES"
				     " ('L4-24GB', 'spot', 1, '2026', '2026-01-01', 'x', 'user')"), 0);
	/* Foreign key: a cluster of a GPU that does not exist. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO cluster (name, gpu_id, gpus)"
				     " VALUES ('c', 'H300', 8)"), -1);
	/* Quarter format. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO cluster (name, gpu_id, gpus, from_quarter)"
				     " VALUES ('c', 'L4-24GB', 8, '2027-Q1')"), -1);
	/* STRICT: text in an integer column. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO cluster (name, gpu_id, gpus)"
				     " VALUES ('c', 'L4-24GB', 'eight')"), -1);
	ck_assert_int_eq(db_exec(db, "INSERT INTO cluster (name, gpu_id, gpus)"
				     " VALUES ('c', 'L4-24GB', 8)"), 0);

	/* Measurements (schema 009): gpus a multiple of tp x pp, a known mode, a source. */
	static const char row[] = "INSERT INTO measurement (origin, model_id, gpu_id, gpus, tp, pp,"
		" ep, precision, engine, isl_tokens, osl_tokens, load, output_tok_s, mode, source)"
		" VALUES ('user', 'm', 'g', %s, 2, 1, 0, 'bf16', 'vllm', 100, 100, 'offline', 500,"
		" '%s', '%s')";
	char sql[512];
	snprintf(sql, sizeof(sql), row, "3", "standard", "x");
	ck_assert_int_eq(db_exec(db, sql), -1);
	snprintf(sql, sizeof(sql), row, "4", "turbo", "x");
	ck_assert_int_eq(db_exec(db, sql), -1);
	snprintf(sql, sizeof(sql), row, "4", "standard", "");
	ck_assert_int_eq(db_exec(db, sql), -1);
	snprintf(sql, sizeof(sql), row, "4", "mtp", "x");
	ck_assert_int_eq(db_exec(db, sql), 0);
	/* The same measurement from the same source is stored once (measurement_key). */
	ck_assert_int_eq(db_exec(db, sql), -1);
	/* osl_max below osl is no cap. */
	ck_assert_int_eq(db_exec(db, "UPDATE measurement SET osl_max_tokens = 50 WHERE model_id = 'm'"),
			 -1);
	/* A profile's p90 below its p10, or an efficiency above 1, is refused. */
	static const char prof[] = "INSERT INTO engine_profile VALUES ('vllm', 'arch', 'Ada', 'any',"
		" %s, 0.5, 0.5, 0.5, 0.5, 10, 10, 1, 10, 1, 10, 3, 3, 0, %s, 1, 'now', 'x')";
	snprintf(sql, sizeof(sql), prof, "1.5", "-0.1, 0.1");
	ck_assert_int_eq(db_exec(db, sql), -1);
	snprintf(sql, sizeof(sql), prof, "0.5", "0.1, -0.1");
	ck_assert_int_eq(db_exec(db, sql), -1);
	/* An engine profile needs its scope name exactly when it is not engine-wide. */
	ck_assert_int_eq(db_exec(db, "INSERT INTO engine_profile VALUES ('vllm', 'engine', 'Ada',"
				     " 'dense', 0.5, 0.5, 0.5, 0.5, 0.5, 10, 10, 1, 10, 1, 10, 3, 3,"
				     " 0, -0.1, 0.1, 1, 'now', 'x')"), -1);
	snprintf(sql, sizeof(sql), prof, "0.5", "-0.1, 0.1");
	ck_assert_int_eq(db_exec(db, sql), 0);
	db_close(db);
}
END_TEST

/* The price of a GPU-hour as plans use it: view gpu_price_current (migration 010). */
static double current_price(struct db *db, const char *gpu, const char *pricing, int *quotes)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT usd_per_gpu_hour, quotes FROM gpu_price_current"
		 " WHERE gpu_id = '%s' AND pricing = '%s'", gpu, pricing);
	struct stmt *st = db_prepare(db, sql);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(stmt_step(st), 1);
	double v = stmt_double(st, 0);
	*quotes = (int)stmt_int64(st, 1);
	ck_assert_int_eq(stmt_step(st), 0);	/* one row per GPU and kind */
	stmt_finalize(st);
	return v;
}

START_TEST(price_rule_median_then_yours)
{
	struct db *db;
	struct catalog_counts c;
	int q;
	ck_assert_int_eq(db_open(":memory:", &db), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu_price WHERE origin <> 'catalog'"), 0);
	/*
	 * seeds/prices.csv, H100-SXM-80GB on-demand: 2.99 (2026-05-18), 3.99
	 * (2026-09-20), 3.85 (2026-09-25), 6.88 (2026-11-09). The window opens 180
	 * days before 2026-11-09, on 2026-05-13, so all four count; the median is
	 * (3.85 + 3.99) / 2 = 3.92 -- not the newest quote (AWS, 6.88).
	 */
	ck_assert_double_eq_tol(current_price(db, "H100-SXM-80GB", "on-demand", &q), 3.92, 1e-9);
	ck_assert_int_eq(q, 4);
	/*
	 * B200-SXM-180GB on-demand: 5.25 (2026-03-11), 6.69 (09-20), 7.15 (09-25),
	 * 6.0 (08-26), 6.79 (10-07, the newest). 180 days before 2026-10-07 is
	 * 2026-04-10: 5.25 is stale. Median of 6.0, 6.69, 6.79, 7.15 = 6.74.
	 */
	ck_assert_double_eq_tol(current_price(db, "B200-SXM-180GB", "on-demand", &q), 6.74, 1e-9);
	ck_assert_int_eq(q, 4);
	/*
	 * H200-SXM-141GB on-demand, seven quotes from 2026-05 (= 05-01) to
	 * 2026-10-13 (window from 2026-04-16): 3.99 4.00 4.29 4.50 4.59 7.912
	 * 10.4365; the middle one is 4.50.
	 */
	ck_assert_double_eq_tol(current_price(db, "H200-SXM-141GB", "on-demand", &q), 4.50, 1e-9);
	ck_assert_int_eq(q, 7);
	/* A price you add wins over the catalog, even an older one: the newest of yours. */
	ck_assert_int_eq(price_insert(db, "H100-SXM-80GB", "on-demand", 2.10, "2026-06",
				      "2026-06-01", "our quote"), 0);
	ck_assert_int_eq(price_insert(db, "H100-SXM-80GB", "on-demand", 2.49, "2026-08",
				      "2026-08-01", "our renewal"), 0);
	ck_assert_double_eq_tol(current_price(db, "H100-SXM-80GB", "on-demand", &q), 2.49, 1e-9);
	ck_assert_int_eq(q, 1);
	/* ... and only for that GPU and kind. */
	ck_assert_double_eq_tol(current_price(db, "H200-SXM-141GB", "on-demand", &q), 4.50, 1e-9);

	/*
	 * An upgraded database: migration 010 marks every existing row 'user'
	 * (prices as before: the newest, 6.88); the next catalog load re-marks the
	 * rows that are the catalog's own, and the user's two stay the user's.
	 */
	ck_assert_int_eq(db_exec(db, "UPDATE gpu_price SET origin = 'user'"), 0);
	ck_assert_int_eq(db_exec(db, "DELETE FROM gpu_price WHERE source LIKE 'our %'"), 0);
	ck_assert_double_eq_tol(current_price(db, "H100-SXM-80GB", "on-demand", &q), 6.88, 1e-9);
	ck_assert_int_eq(price_insert(db, "H100-SXM-80GB", "on-demand", 2.49, "2026-08",
				      "2026-08-01", "our renewal"), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(c.prices, 63);		/* each of the catalog's 63 re-marked once */
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_int_eq(c.prices, 0);		/* and only once */
	ck_assert_int_eq(scalar(db, "SELECT count(*) FROM gpu_price WHERE origin = 'user'"), 1);
	ck_assert_double_eq_tol(current_price(db, "H100-SXM-80GB", "on-demand", &q), 2.49, 1e-9);
	/* A catalog row the user edited (same date, another price) stays the user's. */
	ck_assert_int_eq(price_insert(db, "B200-SXM-180GB", "on-demand", 5.00, "2026-10-07",
				      "2026-10-07", "our RunPod contract"), 0);
	ck_assert_int_eq(catalog_load(db, &c), 0);
	ck_assert_double_eq_tol(current_price(db, "B200-SXM-180GB", "on-demand", &q), 5.00, 1e-9);
	db_close(db);
}
END_TEST

START_TEST(price_dates_normalise)
{
	char d[11];
	ck_assert_int_eq(price_date_normalise("2026", d), 0);
	ck_assert_str_eq(d, "2026-01-01");
	ck_assert_int_eq(price_date_normalise("2026-Q3", d), 0);
	ck_assert_str_eq(d, "2026-07-01");
	ck_assert_int_eq(price_date_normalise("2026-05", d), 0);
	ck_assert_str_eq(d, "2026-05-01");
	ck_assert_int_eq(price_date_normalise("2026-05-18", d), 0);
	ck_assert_str_eq(d, "2026-05-18");
	ck_assert_int_eq(price_date_normalise("2026-13", d), -1);
	ck_assert_int_eq(price_date_normalise("May 2026", d), -1);
	ck_assert_int_eq(price_date_normalise("2026-Q5", d), -1);
}
END_TEST

START_TEST(model_ids_from_file_names)
{
	char *id = model_id_from_filename("deepseek-ai--DeepSeek-V3.json");
	ck_assert_str_eq(id, "deepseek-ai/DeepSeek-V3");
	free(id);
	id = model_id_from_filename("config.json");
	ck_assert_str_eq(id, "config");
	free(id);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("db");
	tcase_add_test(tc, migrates_empty_database);
	tcase_add_test(tc, reopen_is_noop_and_newer_is_refused);
	tcase_add_test(tc, foreign_database_is_refused);
	tcase_add_test(tc, catalog_load_is_idempotent);
	tcase_add_test(tc, tampered_rows_are_refused_on_load);
	tcase_add_test(tc, schema_guards_reject_bad_rows);
	tcase_add_test(tc, price_rule_median_then_yours);
	tcase_add_test(tc, price_dates_normalise);
	tcase_add_test(tc, model_ids_from_file_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
