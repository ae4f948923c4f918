/*
 * workload.c - workload rows: storing what an import measured (the row and
 * its buckets, in the caller's transaction), finding and removing them,
 * and the figures a run plans from.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/workload.h"
#include "lib/util.h"
#include "planner/workload.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bind_real(struct stmt *st, const char *param, double v)
{
	if (isfinite(v))
		stmt_bind_double(st, param, v);
	else
		stmt_bind_null(st, param);
}

/* A count, NULL when negative (unknown). */
static void bind_count(struct stmt *st, const char *param, int64_t v)
{
	if (v >= 0)
		stmt_bind_int64(st, param, v);
	else
		stmt_bind_null(st, param);
}

/*
 * Names of the scenarios that use workload `id` (directly or through a
 * stored run), comma-separated; NULL when none. *failed set on error.
 */
static char *workload_users(struct db *db, int64_t id, int *failed)
{
	struct strbuf sb = STRBUF_INIT;
	struct stmt *st = db_prepare(db,
		"SELECT name FROM scenario WHERE id IN"
		" (SELECT scenario_id FROM scenario_workload WHERE workload_id = :id"
		"  UNION SELECT r.scenario_id FROM run_pool p JOIN run r ON r.id = p.run_id"
		"        WHERE p.workload_id = :id"
		"  UNION SELECT r.scenario_id FROM run_pool_workload pw JOIN run r ON r.id = pw.run_id"
		"        WHERE pw.workload_id = :id)"
		" ORDER BY name");
	int r;
	*failed = 0;
	if (!st) {
		*failed = 1;
		return NULL;
	}
	stmt_bind_int64(st, ":id", id);
	while ((r = stmt_step(st)) == 1)
		strbuf_addf(&sb, "%s'%s'", sb.len ? ", " : "", stmt_text(st, 0));
	stmt_finalize(st);
	if (r < 0) {
		*failed = 1;
		strbuf_release(&sb);
		return NULL;
	}
	return sb.len ? strbuf_detach(&sb) : NULL;
}

int workload_find(struct db *db, const char *name, int64_t *id)
{
	struct stmt *st = db_prepare(db, "SELECT id FROM workload WHERE name = :name");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	int r = stmt_step(st);
	if (r == 1)
		*id = stmt_int64(st, 0);
	stmt_finalize(st);
	return r;
}

#define WORKLOAD_COLUMNS \
	"name = :name, model_id = :model, description = :description, format = :format," \
	" source_file = :source_file, source_sha256 = :sha256, source_bytes = :bytes," \
	" edges = :edges, requests = :requests, first_ts_s = :first, last_ts_s = :last," \
	" span_s = :span, mean_rps = :mean_rps, peak_rps = :peak_rps," \
	" peak_window_s = :window, prompt_tokens_sum = :psum, output_tokens_sum = :osum," \
	" prompt_tokens_mean = :pmean, output_tokens_mean = :omean," \
	" prompt_tokens_p50 = :p50, prompt_tokens_p90 = :p90, prompt_tokens_p99 = :p99," \
	" prompt_tokens_p999 = :p999, output_tokens_p50 = :o50, output_tokens_p90 = :o90," \
	" output_tokens_p99 = :o99, output_tokens_p999 = :o999, total_tokens_p50 = :t50," \
	" total_tokens_p90 = :t90, total_tokens_p99 = :t99, total_tokens_p999 = :t999," \
	" sums_estimated = :estimated, independent_marginals = :independent," \
	" prefix_reuse_share = :reuse, rate_p50_rps = :r50, rate_p90_rps = :r90," \
	" rate_p99_rps = :r99, rate_p999_rps = :r999, rate_windows = :rwin," \
	" arrivals_late = :late, prompt_tokens_max = :pmax, output_tokens_max = :omax," \
	" total_tokens_max = :tmax, prefix_reuse_within = :reuse_within"

/* The workload row's values, shared by the INSERT and the in-place UPDATE. */
static void bind_row(struct stmt *st, const struct workload_row *w)
{
	const struct workload_summary *s = w->summary;
	stmt_bind_text(st, ":name", w->name);
	stmt_bind_text(st, ":model", w->model);
	stmt_bind_text(st, ":description", w->description);
	stmt_bind_text(st, ":format", wl_format_name(s->format));
	stmt_bind_text(st, ":source_file", w->source_file);
	stmt_bind_text(st, ":sha256", s->sha256_hex);
	stmt_bind_int64(st, ":bytes", s->file_bytes);
	stmt_bind_text(st, ":edges", w->edges);
	stmt_bind_int64(st, ":requests", s->requests);
	bind_real(st, ":first", s->first_s);
	bind_real(st, ":last", s->last_s);
	bind_real(st, ":span", s->span_s);
	bind_real(st, ":mean_rps", s->mean_rps);
	bind_real(st, ":peak_rps", s->peak_rps);
	bind_real(st, ":window", isfinite(s->peak_rps) && s->window_s > 0 ? s->window_s : NAN);
	stmt_bind_int64(st, ":psum", s->prompt_tokens_sum);
	stmt_bind_int64(st, ":osum", s->output_tokens_sum);
	bind_real(st, ":pmean", s->prompt_tokens_mean);
	bind_real(st, ":omean", s->output_tokens_mean);
	bind_real(st, ":p50", s->prompt.p50);
	bind_real(st, ":p90", s->prompt.p90);
	bind_real(st, ":p99", s->prompt.p99);
	bind_real(st, ":p999", s->prompt.p999);
	bind_real(st, ":o50", s->output.p50);
	bind_real(st, ":o90", s->output.p90);
	bind_real(st, ":o99", s->output.p99);
	bind_real(st, ":o999", s->output.p999);
	bind_real(st, ":t50", s->total.p50);
	bind_real(st, ":t90", s->total.p90);
	bind_real(st, ":t99", s->total.p99);
	bind_real(st, ":t999", s->total.p999);
	stmt_bind_int64(st, ":estimated", s->sums_estimated ? 1 : 0);
	stmt_bind_int64(st, ":independent", s->independent_marginals ? 1 : 0);
	bind_real(st, ":reuse", s->prefix_reuse_share);
	bind_real(st, ":r50", s->rate.p50);
	bind_real(st, ":r90", s->rate.p90);
	bind_real(st, ":r99", s->rate.p99);
	bind_real(st, ":r999", s->rate.p999);
	bind_real(st, ":rwin", s->rate_windows);
	stmt_bind_int64(st, ":late", s->arrivals_late);
	bind_count(st, ":pmax", s->prompt_max);
	bind_count(st, ":omax", s->output_max);
	bind_count(st, ":tmax", s->total_max);
	if (s->have_reuse_within) {
		char curve[WL_REUSE_POINTS * 24 + 4];
		size_t at = 0;
		for (int i = 0; i < WL_REUSE_POINTS; i++)
			at += (size_t)snprintf(curve + at, sizeof(curve) - at, "%s%.6g", i ? ", " : "[",
					       s->reuse_within[i]);
		snprintf(curve + at, sizeof(curve) - at, "]");
		stmt_bind_text(st, ":reuse_within", curve);
	}
}

int workload_store(struct db *db, int64_t old_id, const struct workload_row *w,
		   const struct wl_hist *h)
{
	struct stmt *st = NULL;
	int64_t id = 0;
	int ret = -1, failed;
	char *users = NULL;

	if (old_id > 0) {
		users = workload_users(db, old_id, &failed);
		if (failed)
			goto cleanup;
	}
	if (users) {
		st = db_prepare(db, "UPDATE workload SET " WORKLOAD_COLUMNS ","
				" imported_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = :id");
		if (!st)
			goto cleanup;
		bind_row(st, w);
		stmt_bind_int64(st, ":id", old_id);
		if (stmt_step(st) < 0)
			goto cleanup;
		stmt_finalize(st);
		st = db_prepare(db, "DELETE FROM workload_bucket WHERE workload_id = :id");
		if (!st)
			goto cleanup;
		stmt_bind_int64(st, ":id", old_id);
		if (stmt_step(st) < 0)
			goto cleanup;
		id = old_id;
	} else {
		if (old_id > 0) {
			st = db_prepare(db, "DELETE FROM workload WHERE id = :id");
			if (!st)
				goto cleanup;
			stmt_bind_int64(st, ":id", old_id);
			if (stmt_step(st) < 0)
				goto cleanup;
			stmt_finalize(st);
		}
		st = db_prepare(db,
			"INSERT INTO workload (name, model_id, description, format, source_file,"
			" source_sha256, source_bytes, edges, requests, first_ts_s, last_ts_s, span_s,"
			" mean_rps, peak_rps, peak_window_s, prompt_tokens_sum, output_tokens_sum,"
			" prompt_tokens_mean, output_tokens_mean, prompt_tokens_p50, prompt_tokens_p90,"
			" prompt_tokens_p99, prompt_tokens_p999, output_tokens_p50, output_tokens_p90,"
			" output_tokens_p99, output_tokens_p999, total_tokens_p50, total_tokens_p90,"
			" total_tokens_p99, total_tokens_p999, sums_estimated, independent_marginals,"
			" prefix_reuse_share, rate_p50_rps, rate_p90_rps, rate_p99_rps, rate_p999_rps,"
			" rate_windows, arrivals_late, prompt_tokens_max, output_tokens_max,"
			" total_tokens_max, prefix_reuse_within)"
			" VALUES (:name, :model, :description, :format, :source_file, :sha256, :bytes,"
			" :edges, :requests, :first, :last, :span, :mean_rps, :peak_rps, :window,"
			" :psum, :osum, :pmean, :omean, :p50, :p90, :p99, :p999, :o50, :o90, :o99,"
			" :o999, :t50, :t90, :t99, :t999, :estimated, :independent, :reuse, :r50, :r90,"
			" :r99, :r999, :rwin, :late, :pmax, :omax, :tmax, :reuse_within)");
		if (!st)
			goto cleanup;
		bind_row(st, w);
		if (stmt_step(st) < 0)
			goto cleanup;
		id = db_last_insert_rowid(db);
	}
	stmt_finalize(st);

	/* One statement for every bucket: bind, step, reset. */
	st = db_prepare(db,
		"INSERT INTO workload_bucket (workload_id, prompt_tokens_lo, prompt_tokens_hi,"
		" output_tokens_lo, output_tokens_hi, requests, prompt_tokens_sum, output_tokens_sum)"
		" VALUES (:id, :plo, :phi, :olo, :ohi, :requests, :psum, :osum)");
	if (!st)
		goto cleanup;
	for (size_t i = 0, n = wl_hist_buckets(h); i < n; i++) {
		const struct wl_bucket *b = wl_hist_bucket(h, i);
		stmt_bind_int64(st, ":id", id);
		stmt_bind_int64(st, ":plo", b->prompt_lo);
		stmt_bind_int64(st, ":phi", b->prompt_hi);
		stmt_bind_int64(st, ":olo", b->output_lo);
		stmt_bind_int64(st, ":ohi", b->output_hi);
		stmt_bind_int64(st, ":requests", b->requests);
		stmt_bind_int64(st, ":psum", b->prompt_tokens_sum);
		stmt_bind_int64(st, ":osum", b->output_tokens_sum);
		if (stmt_step(st) < 0)
			goto cleanup;
		stmt_reset(st);
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	free(users);
	return ret;
}

int workload_remove(struct db *db, const char *name)
{
	char *users = NULL;
	int r, failed, ret = -1;
	int64_t id;
	struct stmt *st = NULL;

	r = workload_find(db, name, &id);
	if (r <= 0) {
		if (r == 0)
			error("unknown workload '%s'", name);
		goto cleanup;
	}
	users = workload_users(db, id, &failed);
	if (failed)
		goto cleanup;
	if (users) {
		error("workload '%s' is used by scenario%s %s; remove it from there first",
		      name, strchr(users, ',') ? "s" : "", users);
		goto cleanup;
	}
	st = db_prepare(db, "DELETE FROM workload WHERE id = :id");
	if (!st)
		goto cleanup;
	stmt_bind_int64(st, ":id", id);
	if (stmt_step(st) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	stmt_finalize(st);
	free(users);
	return ret;
}

double workload_rate_for(const struct workload_rates *wr, const char *stat)
{
	static const char *const pcts[] = { "p50", "p90", "p99", "p99.9" };
	for (int k = 0; k < 4; k++)
		if (!strcmp(stat, pcts[k]))
			return wr->rate_rps[k];
	return !strcmp(stat, "mean") ? wr->mean_rps : wr->peak_rps;
}

/* NULL (NaN) or a rate an import accepts (planner/workload.h's WL_MAX_RPS). */
static int rate_ok(double v)
{
	return isnan(v) || (v >= 0 && v <= WL_MAX_RPS);
}

/*
 * "[0.01, 0.02, ...]": WORKLOAD_REUSE_POINTS shares in [0, 1], none below
 * the one before. 0, or -1 when it is anything else.
 */
static int reuse_curve_parse(const char *text, double *out)
{
	const char *p = text;
	while (*p == ' ')
		p++;
	if (*p++ != '[')
		return -1;
	for (int i = 0; i < WORKLOAD_REUSE_POINTS; i++) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || !(v >= 0 && v <= 1) || (i && v < out[i - 1]))
			return -1;
		out[i] = v;
		p = end;
		while (*p == ' ')
			p++;
		if (*p != (i + 1 < WORKLOAD_REUSE_POINTS ? ',' : ']'))
			return -1;
		p++;
	}
	while (*p == ' ')
		p++;
	return *p ? -1 : 0;
}

int workload_rates(struct db *db, int64_t id, struct workload_rates *out)
{
	struct stmt *st = db_prepare(db,
		"SELECT peak_rps, mean_rps, total_tokens_p999, independent_marginals, sums_estimated,"
		"       model_id, rate_p50_rps, rate_p90_rps, rate_p99_rps, rate_p999_rps,"
		"       rate_windows, peak_window_s, span_s, total_tokens_max, format,"
		"       prefix_reuse_share, prefix_reuse_within"
		"  FROM workload WHERE id = :id");
	int r;
	if (!st)
		return -1;
	stmt_bind_int64(st, ":id", id);
	r = stmt_step(st);
	if (r == 1) {
		out->peak_rps = stmt_is_null(st, 0) ? NAN : stmt_double(st, 0);
		out->mean_rps = stmt_is_null(st, 1) ? NAN : stmt_double(st, 1);
		out->total_tokens_p999 = stmt_is_null(st, 2) ? NAN : stmt_double(st, 2);
		out->independent_marginals = (int)stmt_int64(st, 3);
		out->sums_estimated = (int)stmt_int64(st, 4);
		out->model_id = xstrdup(stmt_text(st, 5));
		for (int k = 0; k < 4; k++)
			out->rate_rps[k] = stmt_is_null(st, 6 + k) ? NAN : stmt_double(st, 6 + k);
		out->rate_windows = stmt_is_null(st, 10) ? NAN : stmt_double(st, 10);
		out->window_s = stmt_is_null(st, 11) ? NAN : stmt_double(st, 11);
		out->span_s = stmt_is_null(st, 12) ? NAN : stmt_double(st, 12);
		out->total_tokens_max = stmt_is_null(st, 13) ? 0 : stmt_int64(st, 13);
		snprintf(out->format, sizeof(out->format), "%s", stmt_text(st, 14));
		out->prefix_reuse_share = stmt_is_null(st, 15) ? NAN : stmt_double(st, 15);
		out->have_reuse_within = !stmt_is_null(st, 16) &&
			reuse_curve_parse(stmt_text(st, 16), out->reuse_within) == 0;
		if (!stmt_is_null(st, 16) && !out->have_reuse_within) {
			data_error("workload with id %lld as stored: prefix_reuse_within is not %d "
				   "increasing shares from 0 to 1 (was the database edited outside "
				   "piqplan?)", (long long)id, WORKLOAD_REUSE_POINTS);
			r = -1;
		}
		if (r == 1 && !isnan(out->prefix_reuse_share) &&
		    !(out->prefix_reuse_share >= 0 && out->prefix_reuse_share <= 1)) {
			data_error("workload with id %lld as stored: prefix_reuse_share %.17g, expected "
				   "0 to 1 (was the database edited outside piqplan?)", (long long)id,
				   out->prefix_reuse_share);
			r = -1;
		}
		/*
		 * A database file is input: every figure as an import could have
		 * measured it (NULL, or within the bounds below).
		 */
		const struct { const char *column; double v, max; } f[] = {
			{ "peak_rps", out->peak_rps, WL_MAX_RPS },
			{ "mean_rps", out->mean_rps, WL_MAX_RPS },
			{ "rate_p50_rps", out->rate_rps[0], WL_MAX_RPS },
			{ "rate_p90_rps", out->rate_rps[1], WL_MAX_RPS },
			{ "rate_p99_rps", out->rate_rps[2], WL_MAX_RPS },
			{ "rate_p999_rps", out->rate_rps[3], WL_MAX_RPS },
			{ "total_tokens_p999", out->total_tokens_p999, 2.0 * WL_TOKENS_END },
			{ "total_tokens_max", (double)out->total_tokens_max, 2.0 * WL_TOKENS_END },
			{ "rate_windows", out->rate_windows, WORKLOAD_MAX_WINDOWS },
			{ "peak_window_s", out->window_s, WORKLOAD_MAX_SPAN_S },
			{ "span_s", out->span_s, WORKLOAD_MAX_SPAN_S },
		};
		for (size_t i = 0; i < ARRAY_SIZE(f) && r == 1; i++) {
			if (i < 6 ? rate_ok(f[i].v) : isnan(f[i].v) || (f[i].v >= 0 && f[i].v <= f[i].max))
				continue;
			data_error("workload with id %lld as stored: %s %.17g, expected 0 to %.0f "
				   "(was the database edited outside piqplan?)", (long long)id,
				   f[i].column, f[i].v, f[i].max);
			free(out->model_id);
			out->model_id = NULL;
			r = -1;
		}
	} else if (r == 0) {
		error("no workload with id %lld", (long long)id);
	}
	stmt_finalize(st);
	return r == 1 ? 0 : -1;
}
