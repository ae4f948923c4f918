/*
 * testutil.h - what several Check suites share: a relative-tolerance
 * assertion, reading one of the catalog's config.json files (from
 * $PIQPLAN_MODELS_DIR, which meson points at seeds/models), and running a
 * suite from main().
 */
#ifndef PIQPLAN_TESTUTIL_H
#define PIQPLAN_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "planner/model.h"

/* |got - want| <= rel * |want| */
#define ck_assert_rel(got, want, rel) \
	ck_assert_msg(fabs((double)(got) - (double)(want)) <= (rel) * fabs((double)(want)), \
		      "%s = %.9g, want %.9g within %g%%", #got, (double)(got), \
		      (double)(want), 100.0 * (rel))

/* Read one catalog config and parse it; the test fails with the parser's reason. */
static inline void load(const char *file, struct model_arch *m)
{
	const char *dir = getenv("PIQPLAN_MODELS_DIR");
	char path[1024], err[256];
	FILE *f;
	char *buf;
	long n;

	if (!dir || !*dir)
		dir = "seeds/models";
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 1);
	rewind(f);
	buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	/* Not NUL-terminated on purpose: the parser must honour len. */
	ck_assert_msg(model_arch_parse(buf, (size_t)n, m, err, sizeof(err)) == 0, "%s: %s",
		      file, err);
	free(buf);
}

/* Run one suite to the end: main()'s exit status. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
