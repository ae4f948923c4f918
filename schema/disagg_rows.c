/*
 * disagg_rows.c - the rows of schema/012_disagg.sql (see disagg_rows.h).
 */
#include "schema/disagg_rows.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>

const char *disagg_a2a_name(enum a2a_backend a)
{
	switch (a) {
	case A2A_DEEPEP_HT: return "deepep_high_throughput";
	case A2A_DEEPEP_LL: return "deepep_low_latency";
	case A2A_ALLGATHER: break;
	}
	return "allgather_reducescatter";
}

static int step_once(struct stmt *st)
{
	int r = st ? stmt_step(st) : -1;
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int disagg_store_config_mode(struct db *db, int64_t run_id, int64_t pool_id, int rank,
			     const struct layout *l)
{
	struct stmt *st = db_prepare(db,
		"INSERT INTO run_config_mode (run_id, pool_id, rank, pd_role, a2a_backend,"
		"   redundant_experts, wide_ep)"
		" VALUES (:run, :pool, :rank, :role, :a2a, :redundant, :wide)");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":run", run_id);
	stmt_bind_int64(st, ":pool", pool_id);
	stmt_bind_int64(st, ":rank", rank);
	stmt_bind_text(st, ":role", l->role == PD_PREFILL ? "prefill" :
			   l->role == PD_DECODE ? "decode" : NULL);
	stmt_bind_text(st, ":a2a", disagg_a2a_name(l->a2a));
	stmt_bind_int64(st, ":redundant", l->redundant_experts);
	stmt_bind_int64(st, ":wide", l->a2a != A2A_ALLGATHER);
	return step_once(st);
}

static void bind_side(struct stmt *st, const char *prefix, const struct disagg_side *s,
		      const char *gpu, int fits)
{
	char name[64];
#define P(col) (snprintf(name, sizeof(name), ":%s_%s", prefix, col), name)
	const struct layout *l = &s->inst.layout;
	stmt_bind_text(st, P("gpu"), fits ? gpu : NULL);
	if (!fits) {
		stmt_bind_null(st, P("tp"));
		stmt_bind_null(st, P("dp"));
		stmt_bind_null(st, P("ep"));
		stmt_bind_null(st, P("wide"));
		stmt_bind_null(st, P("gpus"));
		stmt_bind_null(st, P("rate"));
		return;
	}
	stmt_bind_int64(st, P("tp"), l->tp);
	stmt_bind_int64(st, P("dp"), l->dp);
	stmt_bind_int64(st, P("ep"), l->ep);
	stmt_bind_int64(st, P("wide"), l->a2a != A2A_ALLGATHER);
	stmt_bind_int64(st, P("gpus"), s->inst.gpus);
	stmt_bind_double(st, P("rate"), s->rate_rps);
#undef P
}

int disagg_store(struct db *db, int64_t run_id, const struct disagg_row *r)
{
	const struct disagg_plan *dg = r->dg;
	struct stmt *st = db_prepare(db,
		"INSERT INTO run_disagg (run_id, pool_id, decode_pool_id, chosen, fits,"
		"   prefill_gpu_id, prefill_tp, prefill_dp, prefill_ep, prefill_wide_ep,"
		"   prefill_gpus_per_instance, prefill_rate_rps, prefill_ttft_ms,"
		"   decode_gpu_id, decode_tp, decode_dp, decode_ep, decode_wide_ep,"
		"   decode_gpus_per_instance, decode_rate_rps, decode_tpot_ms, decode_max_num_seqs,"
		"   pd_ratio, kv_bytes_per_request, kv_transfer_ms, total_usd, aggregated_usd, reason)"
		" VALUES (:run, :pool, :decode_pool, :chosen, :fits,"
		"   :p_gpu, :p_tp, :p_dp, :p_ep, :p_wide, :p_gpus, :p_rate, :ttft,"
		"   :d_gpu, :d_tp, :d_dp, :d_ep, :d_wide, :d_gpus, :d_rate, :tpot, :seqs,"
		"   :ratio, :kv, :xfer, :usd, :agg, :reason)");
	if (!st)
		return -1;
	int fits = dg->fits;
	stmt_bind_int64(st, ":run", run_id);
	stmt_bind_int64(st, ":pool", r->pool_id);
	if (r->decode_pool_id > 0)
		stmt_bind_int64(st, ":decode_pool", r->decode_pool_id);
	else
		stmt_bind_null(st, ":decode_pool");
	stmt_bind_int64(st, ":chosen", r->chosen);
	stmt_bind_int64(st, ":fits", fits);
	bind_side(st, "p", &dg->prefill, r->prefill_gpu, fits);
	bind_side(st, "d", &dg->decode, r->decode_gpu, fits);
	stmt_bind_double(st, ":ttft", fits ? dg->prefill.ttft_s * 1e3 : NAN);
	stmt_bind_double(st, ":tpot", fits ? dg->decode.tpot_s * 1e3 : NAN);
	if (fits)
		stmt_bind_int64(st, ":seqs", dg->decode.inst.max_num_seqs);
	else
		stmt_bind_null(st, ":seqs");
	stmt_bind_double(st, ":ratio", fits && dg->pd_ratio > 0 ? dg->pd_ratio : NAN);
	stmt_bind_double(st, ":kv", fits ? dg->kv_bytes_per_request : NAN);
	stmt_bind_double(st, ":xfer", fits && isfinite(dg->transfer_s) ? dg->transfer_s * 1e3 : NAN);
	stmt_bind_double(st, ":usd", fits ? dg->total_usd : NAN);
	stmt_bind_double(st, ":agg", isfinite(r->aggregated_usd) ? r->aggregated_usd : NAN);
	stmt_bind_text(st, ":reason", r->reason);
	if (step_once(st))
		return -1;
	if (!fits)
		return 0;
	for (int q = 0; q < r->quarters && q < DISAGG_MAX_QUARTERS; q++) {
		st = db_prepare(db,
			"INSERT INTO run_disagg_quarter (run_id, pool_id, quarter, prefill_instances,"
			"   decode_instances) VALUES (:run, :pool, :q, :np, :nd)");
		if (!st)
			return -1;
		stmt_bind_int64(st, ":run", run_id);
		stmt_bind_int64(st, ":pool", r->pool_id);
		stmt_bind_text(st, ":q", r->quarter_names[q]);
		stmt_bind_int64(st, ":np", dg->prefill.instances[q]);
		stmt_bind_int64(st, ":nd", dg->decode.instances[q]);
		if (step_once(st))
			return -1;
	}
	return 0;
}
