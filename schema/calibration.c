/*
 * calibration.c - see calibration.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/calibration.h"
#include "planner/instance.h"
#include "schema/db.h"

int engine_store_fit(struct db *db, const char *id, const struct engine_profile *after,
		     const char *file_desc, int rows, const char *fit_json)
{
	struct stmt *st = db_prepare(db,
		"UPDATE engine SET bw_efficiency = :bw, flops_efficiency = :fl,"
		"       step_overhead_ms = :ov, moe_efficiency_floor = :mf,"
		"       moe_tokens_per_expert_half = :mh,"
		"       fitted_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), fit_file = :file,"
		"       fit_rows = :rows, fit_error_json = :json"
		" WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_double(st, ":bw", after->bw_efficiency);
	stmt_bind_double(st, ":fl", after->flops_efficiency);
	stmt_bind_double(st, ":ov", after->step_overhead_s * 1e3);
	stmt_bind_double(st, ":mf", after->moe_efficiency_floor);
	stmt_bind_double(st, ":mh", after->moe_tokens_per_expert_half);
	stmt_bind_text(st, ":file", file_desc);
	stmt_bind_int64(st, ":rows", rows);
	stmt_bind_text(st, ":json", fit_json);
	stmt_bind_text(st, ":id", id);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}
