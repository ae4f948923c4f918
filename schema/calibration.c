/*
 * calibration.c - see calibration.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/calibration.h"
#include "lib/util.h"
#include "planner/calibrate.h"
#include "planner/instance.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 0 (not stated) binds NULL. */
static void bind_opt(struct stmt *st, const char *param, double v)
{
	stmt_bind_double(st, param, v > 0 ? v : NAN);
}

int measurement_insert(struct db *db, const struct measurement *m, int64_t *id)
{
	struct stmt *st = db_prepare(db,
		"INSERT INTO measurement (origin, model_id, gpu_id, gpus, tp, pp, ep, precision,"
		"   kv_dtype, engine, isl_tokens, osl_tokens, osl_max_tokens, load, load_value, output_tok_s,"
		"   ttft_ms, tpot_ms, mode, excluded, source, notes)"
		" VALUES (:origin, :model, :gpu, :gpus, :tp, :pp, :ep, :precision, :kv, :engine,"
		"   :isl, :osl, :osl_max, :load, :load_value, :tok_s, :ttft, :tpot, :mode, :excluded,"
		"   :source, :notes)"
		" ON CONFLICT DO NOTHING");
	if (!st)
		return -1;
	stmt_bind_text(st, ":origin", m->origin);
	stmt_bind_text(st, ":model", m->model);
	stmt_bind_text(st, ":gpu", m->gpu);
	stmt_bind_int64(st, ":gpus", m->gpus);
	stmt_bind_int64(st, ":tp", m->tp);
	stmt_bind_int64(st, ":pp", m->pp);
	stmt_bind_int64(st, ":ep", m->ep);
	stmt_bind_text(st, ":precision", m->precision);
	stmt_bind_text(st, ":kv", m->kv_dtype && m->kv_dtype[0] ? m->kv_dtype : "auto");
	stmt_bind_text(st, ":engine", m->engine);
	stmt_bind_double(st, ":isl", m->isl);
	stmt_bind_double(st, ":osl", m->osl);
	bind_opt(st, ":osl_max", m->osl_max);
	stmt_bind_text(st, ":load", m->load);
	bind_opt(st, ":load_value", m->load_value);
	stmt_bind_double(st, ":tok_s", m->output_tok_s);
	bind_opt(st, ":ttft", m->ttft_ms);
	bind_opt(st, ":tpot", m->tpot_ms);
	stmt_bind_text(st, ":mode", m->mode && m->mode[0] ? m->mode : "standard");
	stmt_bind_text(st, ":excluded", m->excluded && m->excluded[0] ? m->excluded : NULL);
	stmt_bind_text(st, ":source", m->source);
	stmt_bind_text(st, ":notes", m->notes ? m->notes : "");
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return -1;
	if (id)
		*id = db_changes(db) ? db_last_insert_rowid(db) : 0;
	return 0;
}

int measurement_remove(struct db *db, int64_t id)
{
	struct stmt *st = db_prepare(db, "DELETE FROM measurement WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":id", id);
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return -1;
	if (db_changes(db) == 0)
		return error("no measurement %lld", (long long)id);
	return 0;
}

int measurement_each(struct db *db, const char *engine, int fit_only, measurement_fn *fn,
		     void *arg)
{
	struct stmt *st = db_prepare(db,
		"SELECT id, origin, model_id, gpu_id, gpus, tp, pp, ep, precision, engine,"
		"       isl_tokens, osl_tokens, load, load_value, output_tok_s, ttft_ms, tpot_ms,"
		"       mode, excluded, source, notes, kv_dtype, osl_max_tokens"
		"  FROM measurement"
		" WHERE (:engine IS NULL OR engine = :engine)"
		"   AND (NOT :fit OR (mode = 'standard' AND excluded IS NULL))"
		" ORDER BY id");
	int r, ret = -1;

	if (!st)
		return -1;
	stmt_bind_text(st, ":engine", engine);
	stmt_bind_int64(st, ":fit", fit_only);
	while ((r = stmt_step(st)) == 1) {
		struct measurement m;
		memset(&m, 0, sizeof(m));
		m.id = stmt_int64(st, 0);
		m.origin = stmt_text(st, 1);
		m.model = stmt_text(st, 2);
		m.gpu = stmt_text(st, 3);
		m.gpus = (int)stmt_int64(st, 4);
		m.tp = (int)stmt_int64(st, 5);
		m.pp = (int)stmt_int64(st, 6);
		m.ep = (int)stmt_int64(st, 7);
		m.precision = stmt_text(st, 8);
		m.engine = stmt_text(st, 9);
		m.isl = stmt_double(st, 10);
		m.osl = stmt_double(st, 11);
		m.load = stmt_text(st, 12);
		m.load_value = stmt_is_null(st, 13) ? 0 : stmt_double(st, 13);
		m.output_tok_s = stmt_double(st, 14);
		m.ttft_ms = stmt_is_null(st, 15) ? 0 : stmt_double(st, 15);
		m.tpot_ms = stmt_is_null(st, 16) ? 0 : stmt_double(st, 16);
		m.mode = stmt_text(st, 17);
		m.excluded = stmt_is_null(st, 18) ? NULL : stmt_text(st, 18);
		m.source = stmt_text(st, 19);
		m.notes = stmt_text(st, 20);
		m.kv_dtype = stmt_text(st, 21);
		m.osl_max = stmt_is_null(st, 22) ? 0 : stmt_double(st, 22);
		if (fn(arg, &m))
			goto cleanup;
	}
	if (r < 0)
		goto cleanup;
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

static const char *const scope_names[] = { "engine", "vendor", "arch" };
static const char *const class_names[] = { "any", "dense", "moe" };

int engine_profiles_store(struct db *db, const char *id, const struct engine_profile *fitted,
			  const char *source)
{
	struct stmt *del = db_prepare(db, "DELETE FROM engine_profile WHERE engine_id = :id");
	struct stmt *ins = NULL;
	int ret = -1;

	if (!del)
		return -1;
	stmt_bind_text(del, ":id", id);
	if (stmt_step(del) < 0)
		goto cleanup;
	ins = db_prepare(db,
		"INSERT INTO engine_profile (engine_id, scope, scope_name, model_class,"
		"   bw_efficiency, flops_efficiency, attn_efficiency, kv_bw_efficiency,"
		"   moe_bw_efficiency,"
		"   layer_latency_us, moe_layer_latency_us, step_overhead_ms, seq_overhead_us,"
		"   request_overhead_ms, ttft_latency_ms, rows, rows_dense, rows_moe, log_p10,"
		"   log_p90, out_of_sample, fitted_at, source)"
		" VALUES (:id, :scope, :name, :class, :v0, :v1, :v2, :v3, :v4, :v5, :v6, :v7, :v8,"
		"   :v9, :v10, :rows, :dense, :moe, :p10, :p90, :oos, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
		"   :source)");
	if (!ins)
		goto cleanup;
	for (int k = 0; k < fitted->nprofiles; k++) {
		const struct perf_profile *pr = &fitted->profiles[k];
		char name[8];
		if (pr->rows <= 0)
			continue;
		stmt_bind_text(ins, ":id", id);
		stmt_bind_text(ins, ":scope", scope_names[pr->scope]);
		stmt_bind_text(ins, ":name", pr->scope_name);
		stmt_bind_text(ins, ":class", class_names[pr->model_class]);
		for (int j = 0; j < CALIB_NPARAMS; j++) {
			snprintf(name, sizeof(name), ":v%d", j);
			stmt_bind_double(ins, name, calib_param_get(&pr->p, j));
		}
		stmt_bind_int64(ins, ":rows", pr->rows);
		stmt_bind_int64(ins, ":dense", pr->rows_dense);
		stmt_bind_int64(ins, ":moe", pr->rows_moe);
		stmt_bind_double(ins, ":p10", pr->log_p10);
		stmt_bind_double(ins, ":p90", pr->log_p90);
		stmt_bind_int64(ins, ":oos", pr->out_of_sample);
		stmt_bind_text(ins, ":source", source);
		if (stmt_step(ins) < 0)
			goto cleanup;
		stmt_reset(ins);
	}
	ret = 0;
cleanup:
	stmt_finalize(ins);
	stmt_finalize(del);
	return ret;
}
