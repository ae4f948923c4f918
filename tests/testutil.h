/*
 * testutil.h - what several Check suites share: a relative-tolerance
 * assertion and reading one of the catalog's config.json files (from
 * $PIQPLAN_MODELS_DIR, which meson points at seeds/models).
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

/* Read a catalog file (caller frees); *n its length. */
static inline char *read_seed(const char *file, size_t *n)
{
	const char *dir = getenv("PIQPLAN_MODELS_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long len;

	if (!dir || !*dir)
		dir = "seeds/models";
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 1);
	rewind(f);
	buf = malloc((size_t)len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return buf;	/* not NUL-terminated on purpose: the parser must honour len */
}

/* Read one catalog config (and its hf_quant_config.json, when quant is not NULL). */
static inline void load_quant(const char *file, const char *quant, struct model_arch *m)
{
	char err[256];
	size_t n, qn = 0;
	char *buf = read_seed(file, &n), *q = quant ? read_seed(quant, &qn) : NULL;

	ck_assert_msg(model_arch_parse_quant(buf, n, q, qn, m, err, sizeof(err)) == 0, "%s: %s",
		      file, err);
	free(q);
	free(buf);
}

static inline void load(const char *file, struct model_arch *m)
{
	load_quant(file, NULL, m);
}

#endif
