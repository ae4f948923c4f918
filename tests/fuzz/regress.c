/*
 * regress.c - replays every input the fuzzers (tests/fuzz, scripts/fuzz)
 * ever crashed on through the parser it crashed, from the manifest
 * tests/data/fuzz-regressions/MANIFEST: one line per file,
 *
 *	FILE PARSER EXPECT	# why
 *
 * PARSER is requests, buckets, prometheus, mooncake, auto (the workload
 * formats through ingest_file), config (the import path's limits,
 * model_config_check, then model_arch_parse and, on success, the
 * parameter, weight and KV arithmetic) or calibration (`piqplan
 * calibrate FILE --dry-run` on an in-memory catalog). EXPECT is ok or data
 * (a clean INGEST_ERR_DATA / exit status 65 with a message), worked out by
 * hand from the file and written down in the manifest. The sanitizers of
 * the build (ASan, UBSan halting on error) turn a regression into a crash.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "ingest/workload_file.h"
#include "lib/util.h"
#include "planner/model.h"
#include "schema/catalog.h"
#include "schema/db.h"

static const char *data_dir(void)
{
	const char *dir = getenv("PIQPLAN_TEST_DATA");
	return dir ? dir : "tests/data";
}

/* 1 when the workload parse ends as `expect` says, 0 otherwise. */
static int replay_ingest(const char *path, enum wl_format fmt, int expect_ok)
{
	struct ingest_opts o = INGEST_OPTS_INIT;
	struct workload_summary s;
	struct wl_hist *h = NULL;
	char err[512] = "";
	int r;

	o.format = fmt;
	r = ingest_file(path, &o, &s, &h, err, sizeof(err));
	if (r == INGEST_OK) {
		wl_hist_free(h);
		return expect_ok && s.requests >= 0;
	}
	if (!expect_ok && r == INGEST_ERR_DATA && err[0] && !h)
		return 1;
	fprintf(stderr, "%s: ingest returned %d: %s\n", path, r, err);
	return 0;
}

static int replay_config(const char *path, int expect_ok)
{
	struct model_arch m;
	struct model_params p;
	struct model_weights w;
	char *text, err[256] = "";
	size_t len;
	int ok = 1;

	if (read_file(path, &text, &len))
		return 0;
	set_failure_status(EXIT_FAIL);
	if (model_config_check(text, len, path)) {	/* the import path's limits first */
		free(text);
		return !expect_ok && failure_status() == EXIT_DATA;
	}
	if (model_arch_parse(text, len, &m, err, sizeof(err))) {
		free(text);
		return !expect_ok && err[0];
	}
	free(text);
	model_params_count(&m, &p);
	ok &= p.total > 0 && p.active <= p.total;
	for (int prec = PREC_NATIVE; prec <= PREC_FP4; prec++) {
		model_weights_bytes(&m, (enum precision)prec, &w);
		ok &= w.total > 0 && isfinite(w.total);
	}
	ok &= model_kv_bytes_per_token(&m, 2) > 0;
	ok &= isfinite(model_kv_bytes_per_sequence(&m, 2, m.max_context_tokens));
	return expect_ok && ok;
}

static int replay_calibration(const char *path, int expect_ok)
{
	struct catalog_counts c;
	struct ctx ctx;
	char *argv[] = { "calibrate", (char *)path, "--dry-run", NULL };
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.db_path = ":memory:";
	ctx.cmd_name = "calibrate";
	ctx.sub = &cmd_calibrate.subs[0];
	if (db_open(":memory:", &ctx.db) || catalog_load(ctx.db, &c))
		return 0;
	set_failure_status(EXIT_FAIL);
	r = ctx.sub->run(&ctx, 3, argv);
	db_close(ctx.db);
	if (expect_ok)
		return r == 0;
	return r == -1 && failure_status() == EXIT_DATA;
}

START_TEST(every_regression_input_ends_cleanly)
{
	static const struct { const char *name; enum wl_format fmt; } ingest[] = {
		{ "requests", WL_FMT_REQUESTS }, { "buckets", WL_FMT_BUCKETS },
		{ "prometheus", WL_FMT_PROMETHEUS }, { "mooncake", WL_FMT_MOONCAKE },
		{ "auto", WL_FMT_AUTO },
	};
	char manifest[4096], line[1024], path[4096];
	int files = 0, failed = 0;
	FILE *f;

	snprintf(manifest, sizeof(manifest), "%s/fuzz-regressions/MANIFEST", data_dir());
	f = fopen(manifest, "r");
	ck_assert_msg(f != NULL, "cannot open %s", manifest);
	while (fgets(line, sizeof(line), f)) {
		char file[256], parser[32], expect[16];
		int ok = -1;
		if (line[0] == '#' || sscanf(line, "%255s %31s %15s", file, parser, expect) != 3)
			continue;
		ck_assert_msg(!strcmp(expect, "ok") || !strcmp(expect, "data"),
			      "%s: EXPECT must be ok or data", file);
		int want_ok = !strcmp(expect, "ok");
		snprintf(path, sizeof(path), "%s/fuzz-regressions/%s", data_dir(), file);
		for (size_t i = 0; i < sizeof(ingest) / sizeof(ingest[0]); i++)
			if (!strcmp(parser, ingest[i].name))
				ok = replay_ingest(path, ingest[i].fmt, want_ok);
		if (!strcmp(parser, "config"))
			ok = replay_config(path, want_ok);
		else if (!strcmp(parser, "calibration"))
			ok = replay_calibration(path, want_ok);
		ck_assert_msg(ok >= 0, "%s: unknown parser %s", file, parser);
		if (!ok) {
			fprintf(stderr, "%s: expected %s through %s\n", file, expect, parser);
			failed++;
		}
		files++;
	}
	fclose(f);
	ck_assert_int_gt(files, 0);
	ck_assert_msg(failed == 0, "%d of %d regression inputs did not end as expected",
		      failed, files);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_regressions");
	TCase *tc = tcase_create("replay");
	tcase_add_test(tc, every_regression_input_ends_cleanly);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
