/*
 * lookup.c - name resolution for models and GPUs, catalog membership, and
 * a model's stored config.json parsed.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/lookup.h"
#include "lib/util.h"
#include "planner/model.h"
#include "schema/catalog.h"
#include "schema/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char pricing_kinds_help[] = "on-demand, reserved-1y, reserved-3y, spot, capacity-block, owned";

int pricing_valid(const char *s)
{
	static const char *const kinds[] = {
		"on-demand", "reserved-1y", "reserved-3y", "spot", "capacity-block", "owned",
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(s, kinds[i]))
			return 1;
	return 0;
}

/*
 * Try each matcher in turn on every id of `table`; the first matcher that
 * finds exactly one id wins; one that finds several is ambiguous.
 */
enum match { MATCH_EXACT, MATCH_ICASE, MATCH_SUFFIX_ICASE, MATCH_PREFIX_ICASE,
	     MATCH_SANS_FORM_ICASE };

/* "MI355X-OAM-288GB" read as "MI355X-288GB": the id without its form segment. */
static int matches_sans_form(const char *id, const char *name)
{
	const char *last = strrchr(id, '-'), *prev;
	size_t head;

	if (!last || last == id)
		return 0;
	for (prev = last - 1; prev > id && *prev != '-'; prev--)
		;
	if (prev == id)
		return 0;
	head = (size_t)(prev - id);
	return strlen(name) == head + strlen(last) && !strncasecmp(id, name, head) &&
	       str_ieq(last, name + head);
}

static int matches(enum match how, const char *id, const char *name)
{
	const char *slash;
	switch (how) {
	case MATCH_EXACT:
		return !strcmp(id, name);
	case MATCH_ICASE:
		return str_ieq(id, name);
	case MATCH_SUFFIX_ICASE:
		slash = strchr(id, '/');
		return slash && str_ieq(slash + 1, name);
	case MATCH_PREFIX_ICASE:
		return str_istarts(id, name);
	case MATCH_SANS_FORM_ICASE:
		return matches_sans_form(id, name);
	}
	return 0;
}

static char *lookup(struct db *db, const char *sql, const char *what, const char *name,
		    const enum match *how, int nhow)
{
	struct stmt *st = db_prepare(db, sql);
	if (!st)
		return NULL;
	char *found = NULL;
	for (int h = 0; h < nhow && !found; h++) {
		struct strbuf cands = STRBUF_INIT;
		int n = 0;
		char *one = NULL;
		int r;
		while ((r = stmt_step(st)) == 1) {
			const char *id = stmt_text(st, 0);
			if (!matches(how[h], id, name))
				continue;
			if (n++ == 0)
				one = xstrdup(id);
			strbuf_addf(&cands, "%s'%s'", cands.len ? ", " : "", id);
		}
		stmt_reset(st);
		if (r < 0) {
			free(one);
			strbuf_release(&cands);
			break;
		}
		if (n == 1)
			found = one;
		else
			free(one);
		/*
		 * A GPU name that several forms share ("h200": H200-SXM-141GB,
		 * H200-NVL-141GB) means the SXM one, when exactly one is.
		 */
		if (n > 1 && how[h] == MATCH_PREFIX_ICASE && !strcmp(what, "GPU")) {
			int sxm = 0, whole = 1;
			char *pick = NULL;
			size_t len = strlen(name);
			while ((r = stmt_step(st)) == 1) {
				const char *id = stmt_text(st, 0);
				if (!matches(how[h], id, name))
					continue;
				whole &= id[len] == '-';
				if (!str_istarts(id + len, "-SXM"))
					continue;
				if (sxm++ == 0)
					pick = xstrdup(id);
			}
			if (!whole)
				sxm = 0;
			stmt_reset(st);
			if (sxm == 1) {
				found = pick;
				strbuf_release(&cands);
				break;
			}
			free(pick);
		}
		if (n > 1) {
			error("%s '%s' is ambiguous: %s", what, name, cands.buf);
			strbuf_release(&cands);
			stmt_finalize(st);
			return NULL;
		}
		strbuf_release(&cands);
	}
	stmt_finalize(st);
	if (!found)
		error("unknown %s '%s'", what, name);
	return found;
}

char *lookup_model(struct db *db, const char *name)
{
	static const enum match how[] = { MATCH_EXACT, MATCH_ICASE, MATCH_SUFFIX_ICASE };
	char *id = lookup(db, "SELECT id FROM model ORDER BY id", "model", name, how, 3);
	if (!id)
		fprintf(stderr, "Try 'piqplan model list'.\n");
	return id;
}

char *lookup_gpu(struct db *db, const char *name)
{
	static const enum match how[] = { MATCH_EXACT, MATCH_ICASE, MATCH_PREFIX_ICASE,
					  MATCH_SANS_FORM_ICASE };
	char *id = lookup(db, "SELECT id FROM gpu ORDER BY id", "GPU", name, how, 4);
	if (!id)
		fprintf(stderr, "Try 'piqplan gpu list'.\n");
	return id;
}

/* 1 when `sql` with :id bound returns a row, 0 when not, -1 on error. */
static int exists(struct db *db, const char *sql, const char *id)
{
	struct stmt *st = db_prepare(db, sql);
	int r;
	if (!st)
		return -1;
	stmt_bind_text(st, ":id", id);
	r = stmt_step(st);
	stmt_finalize(st);
	return r;
}

int engine_exists(struct db *db, const char *id)
{
	return exists(db, "SELECT 1 FROM engine WHERE id = :id", id);
}

int model_exists(struct db *db, const char *id)
{
	return exists(db, "SELECT 1 FROM model WHERE id = :id", id);
}

int gpu_exists(struct db *db, const char *id)
{
	return exists(db, "SELECT 1 FROM gpu WHERE id = :id", id);
}

int load_model_arch(struct db *db, const char *id, struct model_arch *out)
{
	char err[256];
	int ret = -1;
	struct stmt *st = db_prepare(db, "SELECT config_json, quant_config_json FROM model"
				     " WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_text(st, ":id", id);
	int r = stmt_step(st);
	if (r == 0)
		error("unknown model '%s'", id);
	if (r != 1)
		goto cleanup;
	/* What the database holds is input too: a file edited by another tool. */
	if (!model_id_valid(id)) {
		error("model id '%s' in the database starts with '-' (vllm serve would read it as "
		      "an option)", id);
		goto cleanup;
	}
	const char *quant = stmt_is_null(st, 1) ? NULL : stmt_text(st, 1);
	size_t qlen = quant ? (size_t)stmt_bytes(st, 1) : 0;
	char *what = xasprintf("stored config of model '%s'", id);
	r = model_config_check(stmt_text(st, 0), (size_t)stmt_bytes(st, 0), what) ||
	    (quant && model_config_check(quant, qlen, what));
	free(what);
	if (r)
		goto cleanup;
	if (model_arch_parse_quant(stmt_text(st, 0), (size_t)stmt_bytes(st, 0), quant, qlen, out,
				   err, sizeof(err))) {
		error("stored config of model '%s': %s", id, err);
		goto cleanup;
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}
