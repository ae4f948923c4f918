/*
 * run_rows.c - see run_rows.h. The statements a run writes with are
 * prepared once per run and reused for every row; a NaN bound with
 * stmt_bind_double() is stored as NULL (db.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/run_rows.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "schema/catalog.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- reading -------------------------------------------------------------- */

int run_gpu_rows(struct db *db, int64_t sid, const char *pricing, struct run_gpu_row **rows,
		 int *n)
{
	struct stmt *st = db_prepare(db,
		"SELECT g.id,"
		"       p.usd_per_gpu_hour,"
		"       p.as_of,"
		"       EXISTS (SELECT 1 FROM cluster WHERE gpu_id = g.id),"
		"       NOT EXISTS (SELECT 1 FROM scenario_gpu WHERE scenario_id = :s)"
		"         OR g.id IN (SELECT gpu_id FROM scenario_gpu WHERE scenario_id = :s),"
		"       CASE WHEN p.basis = 'user' THEN printf('your quote as of %s', p.as_of)"
		"            WHEN p.quotes = 1 THEN printf('the catalog''s one quote, as of %s', p.as_of)"
		"            ELSE printf('the median of the catalog''s %d quotes within 180 days of its"
		" newest (%.3f-%.3f, newest as of %s)', p.quotes, p.usd_min, p.usd_max, p.as_of)"
		"       END"
		"  FROM gpu g LEFT JOIN gpu_price_current p ON p.gpu_id = g.id AND p.pricing = :pricing"
		" WHERE NOT EXISTS (SELECT 1 FROM scenario_gpu WHERE scenario_id = :s)"
		"    OR g.id IN (SELECT gpu_id FROM scenario_gpu WHERE scenario_id = :s)"
		"    OR g.id IN (SELECT gpu_id FROM cluster)"
		" ORDER BY g.id");
	int r;

	*rows = NULL;
	*n = 0;
	if (!st)
		return -1;
	stmt_bind_text(st, ":pricing", pricing);
	stmt_bind_int64(st, ":s", sid);
	while ((r = stmt_step(st)) == 1) {
		*rows = xrealloc(*rows, (size_t)(*n + 1) * sizeof(**rows));
		struct run_gpu_row *g = &(*rows)[(*n)++];
		g->id = xstrdup(stmt_text(st, 0));
		g->usd_per_gpu_hour = stmt_is_null(st, 1) ? NAN : stmt_double(st, 1);
		g->price_as_of = stmt_is_null(st, 2) ? NULL : xstrdup(stmt_text(st, 2));
		g->owned = (int)stmt_int64(st, 3);
		g->listed = (int)stmt_int64(st, 4);
		g->price_basis = stmt_is_null(st, 5) ? NULL : xstrdup(stmt_text(st, 5));
		if (!isnan(g->usd_per_gpu_hour) &&
		    !(g->usd_per_gpu_hour > 0 && g->usd_per_gpu_hour <= PRICE_MAX_USD_PER_HOUR)) {
			r = data_error("the %s price of GPU '%s' as stored: %.17g USD/GPU-hour, expected "
				       "above 0, at most %g (was the database edited outside piqplan?)",
				       pricing, g->id, g->usd_per_gpu_hour, PRICE_MAX_USD_PER_HOUR);
			break;
		}
	}
	stmt_finalize(st);
	if (r < 0) {
		run_gpu_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void run_gpu_rows_free(struct run_gpu_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].id);
		free(rows[i].price_as_of);
		free(rows[i].price_basis);
	}
	free(rows);
}

/* The query of each input kind; :k is the key. */
static const char *const input_sql[] = {
	[RUN_INPUT_GPU] = "SELECT * FROM gpu WHERE id = :k",
	[RUN_INPUT_PRICES] = "SELECT * FROM gpu_price WHERE gpu_id = :k ORDER BY pricing, as_of",
	[RUN_INPUT_MODEL] = "SELECT config_json FROM model WHERE id = :k",
	[RUN_INPUT_WORKLOAD] =
		"SELECT w.name, w.model_id, w.source_sha256, w.requests, w.mean_rps,"
		"       w.peak_rps, w.total_tokens_p999, w.rate_p50_rps, w.rate_p90_rps,"
		"       w.rate_p99_rps, w.rate_p999_rps, w.total_tokens_max, b.prompt_tokens_lo,"
		"       b.output_tokens_lo, b.requests, b.prompt_tokens_sum,"
		"       b.output_tokens_sum"
		"  FROM workload w JOIN workload_bucket b ON b.workload_id = w.id"
		" WHERE w.name = :k ORDER BY 13, 14",
	[RUN_INPUT_ENGINE] = "SELECT * FROM engine WHERE id = :k",
	[RUN_INPUT_CLUSTERS] = "SELECT * FROM cluster ORDER BY name",
};

int run_input_sha256(struct db *db, enum run_input_kind kind, const char *key, char hex[65])
{
	struct stmt *st = db_prepare(db, input_sql[kind]);
	struct strbuf sb = STRBUF_INIT;
	struct sha256 h;
	int r;
	if (!st)
		return -1;
	if (kind != RUN_INPUT_CLUSTERS)
		stmt_bind_text(st, ":k", key);
	while ((r = stmt_step(st)) == 1) {
		for (int c = 0; c < stmt_column_count(st); c++) {
			strbuf_addstr(&sb, stmt_text(st, c));
			strbuf_addstr(&sb, c + 1 < stmt_column_count(st) ? "\t" : "\n");
		}
	}
	stmt_finalize(st);
	if (r == 0) {
		sha256_init(&h);
		sha256_update(&h, sb.buf ? sb.buf : "", sb.len);
		sha256_final_hex(&h, hex);
	}
	strbuf_release(&sb);
	return r < 0 ? -1 : 0;
}

/* --- writing -------------------------------------------------------------- */

struct run_store {
	struct db *db;
	int64_t run_id;
	struct stmt *pool, *config, *fleet, *capacity, *input, *note, *launch;
	struct stmt *pool_workload, *fleet_share, *cost;
};

struct run_store *run_store_begin(struct db *db, int64_t sid, const char *version,
				  const char *assumptions_json)
{
	struct stmt *st = db_prepare(db,
		"INSERT INTO run (scenario_id, piqplan_version, inputs_sha256, candidates_evaluated,"
		"   elapsed_ms, assumptions_json)"
		" VALUES (:s, :v, :zero, 0, 0, :a)");
	if (!st)
		return NULL;
	stmt_bind_int64(st, ":s", sid);
	stmt_bind_text(st, ":v", version);
	stmt_bind_text(st, ":zero", "0000000000000000000000000000000000000000000000000000000000000000");
	stmt_bind_text(st, ":a", assumptions_json);
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return NULL;

	struct run_store *rs = xcalloc(1, sizeof(*rs));
	rs->db = db;
	rs->run_id = db_last_insert_rowid(db);
	rs->pool = db_prepare(db,
		"INSERT INTO run_pool (run_id, workload_id, pool, min_total_tokens, max_total_tokens,"
		"   request_share, prompt_tokens_mean, output_tokens_mean, max_model_len,"
		"   threshold_choice, shared_alternative_usd, model_id, slo_class, slo_percentile,"
		"   ttft_target_ms, long_ttft_ms_per_1k, long_class_tokens, tpot_target_ms,"
		"   longest_tokens, rejected_share, split_alternative_usd, alternative_lost)"
		" VALUES (:run, :w, :pool, :min, :max, :share, :isl, :osl, :mml, :choice, :alt,"
		"   :model, :class, :pct, :ttft, :long_ttft, :class_tokens, :tpot, :longest,"
		"   :rejected, :split_alt, :lost)");
	rs->config = db_prepare(db,
		"INSERT INTO run_config (run_id, pool_id, rank, chosen, gpu_id, tp, pp, dp, ep,"
		"   precision, kv_dtype, gpus_per_instance, fits, max_model_len, max_num_seqs,"
		"   max_num_batched_tokens, gpu_memory_utilization, kv_tokens, rate_rps,"
		"   output_tok_s, ttft_ms, tpot_ms, usd_per_gpu_hour, total_usd,"
		"   usd_per_mtok_output, reason, vllm_args, slo_percentile, kv_max_num_seqs,"
		"   tpot_full_ms, capacity_rps, utilization, nodes, perf_profile, perf_rows,"
		"   perf_validated, perf_note, band_lo, band_hi, mode, spec_method, spec_tokens,"
		"   spec_acceptance, spec_tokens_per_step, prefix_hit, prefix_retention_s,"
		"   next_mode, next_mode_gpus, next_mode_cost_usd, no_prefix_gpus)"
		" VALUES (:run, :pool, :rank, :chosen, :gpu, :tp, :pp, :dp, :ep, :prec, :kv, :gpus,"
		"   :fits, :mml, :seqs, :mbt, :gmu, :kvtok, :rate, :otok, :ttft, :tpot, :usd, :total,"
		"   :permtok, :reason, :args, :pct, :kvseqs, :tpot_full, :cap, :util, :nodes,"
		"   :profile, :prows, :pval, :pnote, :blo, :bhi, coalesce(:mode, 'aggregated'),"
		"   :spec, :spec_k, :spec_a, :spec_e, :hit, :retain, :next, :next_gpus, :next_usd,"
		"   :no_prefix)");
	rs->fleet = db_prepare(db,
		"INSERT INTO run_fleet (run_id, quarter, pool_id, gpu_id, demand_rps, input_tok_s,"
		"   output_tok_s, instances, gpus, utilization, mean_rps, gpus_lo, gpus_hi)"
		" VALUES (:run, :q, :pool, :gpu, :rps, :in, :out, :inst, :gpus, :util, :mean, :glo,"
		"   :ghi)");
	rs->capacity = db_prepare(db,
		"INSERT INTO run_capacity (run_id, quarter, gpu_id, gpus_needed, gpus_owned, shortfall,"
		"   order_by, pricing, usd_per_gpu_hour, price_as_of, owned_usd_per_gpu_hour, hours,"
		"   cost_usd, input_tokens, output_tokens, usd_per_mtok_input, usd_per_mtok_output,"
		"   compute_floor_usd, spare_gpus, listed)"
		" VALUES (:run, :q, :gpu, :need, :owned, :short, :order, :pricing, :usd, :asof,"
		"   :owned_usd, :hours, :cost, :in, :out, :per_in, :per_out, :floor, :spare, :listed)");
	rs->pool_workload = db_prepare(db,
		"INSERT INTO run_pool_workload (run_id, pool_id, workload_id, request_share)"
		" VALUES (:run, :pool, :w, :share)");
	rs->fleet_share = db_prepare(db,
		"INSERT INTO run_fleet_share (run_id, quarter, pool_id, workload_id, demand_rps,"
		"   mean_rps, input_tok_s, output_tok_s, share)"
		" VALUES (:run, :q, :pool, :w, :rps, :mean, :in, :out, :share)");
	rs->cost = db_prepare(db,
		"INSERT INTO run_cost (run_id, quarter, gpu_id, source, gpus, gpus_in_service,"
		"   pricing, usd_per_gpu_hour, price_as_of, hours, cost_usd, input_tokens,"
		"   output_tokens, usd_per_mtok_input, usd_per_mtok_output, compute_floor_usd)"
		" VALUES (:run, :q, :gpu, :source, :gpus, :busy, :pricing, :usd, :asof, :hours,"
		"   :cost, :in, :out, :per_in, :per_out, :floor)");
	rs->input = db_prepare(db,
		"INSERT INTO run_input (run_id, kind, name, sha256) VALUES (:run, :k, :n, :s)");
	rs->note = db_prepare(db,
		"INSERT INTO run_note (run_id, seq, kind, text) VALUES (:run, :seq, :k, :t)");
	rs->launch = db_prepare(db,
		"INSERT INTO run_launch (run_id, pool_id, rank, node, engine, command)"
		" VALUES (:run, :pool, :rank, :node, :engine, :cmd)");
	if (!rs->pool || !rs->config || !rs->fleet || !rs->capacity || !rs->input || !rs->note ||
	    !rs->pool_workload || !rs->fleet_share || !rs->cost || !rs->launch) {
		run_store_free(rs);
		return NULL;
	}
	return rs;
}

int64_t run_store_id(const struct run_store *rs)
{
	return rs->run_id;
}

/* Step a bound insert and make it ready for the next row. */
static int step_reset(struct stmt *st)
{
	return stmt_step_once(st) < 0 ? -1 : 0;
}

int run_store_pool(struct run_store *rs, const struct run_pool_row *p, int64_t *pool_id)
{
	struct stmt *st = rs->pool;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(st, ":w", p->workload_id);
	stmt_bind_text(st, ":pool", p->pool);
	stmt_bind_int64(st, ":min", p->min_total_tokens);
	if (p->max_total_tokens > 0)
		stmt_bind_int64(st, ":max", p->max_total_tokens);
	stmt_bind_double(st, ":share", p->request_share);
	stmt_bind_double(st, ":isl", p->prompt_tokens_mean);
	stmt_bind_double(st, ":osl", p->output_tokens_mean);
	stmt_bind_int64(st, ":mml", p->max_model_len);
	stmt_bind_text(st, ":choice", p->threshold_choice);
	stmt_bind_double(st, ":alt", p->shared_alternative_usd);
	stmt_bind_text(st, ":model", p->model_id);
	stmt_bind_text(st, ":class", p->slo_class);
	stmt_bind_double(st, ":pct", p->slo_percentile);
	stmt_bind_double(st, ":ttft", p->ttft_target_ms);
	stmt_bind_double(st, ":long_ttft", p->long_ttft_ms_per_1k);
	if (p->long_class_tokens > 0)
		stmt_bind_int64(st, ":class_tokens", p->long_class_tokens);
	stmt_bind_double(st, ":tpot", p->tpot_target_ms);
	stmt_bind_int64(st, ":longest", p->longest_tokens);
	stmt_bind_double(st, ":rejected", p->rejected_share);
	stmt_bind_double(st, ":split_alt", p->split_alternative_usd);
	stmt_bind_text(st, ":lost", p->alternative_lost);
	if (step_reset(st))
		return -1;
	*pool_id = db_last_insert_rowid(rs->db);
	return 0;
}

int run_store_config(struct run_store *rs, const struct run_config_row *c)
{
	struct stmt *st = rs->config;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(st, ":pool", c->pool_id);
	stmt_bind_int64(st, ":rank", c->rank);
	stmt_bind_int64(st, ":chosen", c->chosen);
	stmt_bind_text(st, ":gpu", c->gpu);
	stmt_bind_int64(st, ":tp", c->tp);
	stmt_bind_int64(st, ":pp", c->pp);
	stmt_bind_int64(st, ":dp", c->dp);
	stmt_bind_int64(st, ":ep", c->ep);
	stmt_bind_text(st, ":prec", c->precision);
	stmt_bind_text(st, ":kv", c->kv_dtype);
	stmt_bind_int64(st, ":gpus", c->gpus_per_instance);
	stmt_bind_int64(st, ":fits", c->fits);
	stmt_bind_double(st, ":usd", c->usd_per_gpu_hour);
	if (c->sized) {
		stmt_bind_int64(st, ":mml", c->max_model_len);
		stmt_bind_int64(st, ":seqs", c->max_num_seqs);
		stmt_bind_int64(st, ":mbt", c->max_num_batched_tokens);
		stmt_bind_double(st, ":gmu", c->gpu_memory_utilization);
		stmt_bind_int64(st, ":kvtok", c->kv_tokens);
		stmt_bind_text(st, ":args", c->vllm_args);
		stmt_bind_int64(st, ":kvseqs", c->kv_max_num_seqs);
		stmt_bind_int64(st, ":nodes", c->nodes);
		if (c->perf_profile) {
			stmt_bind_text(st, ":profile", c->perf_profile);
			stmt_bind_int64(st, ":prows", c->perf_rows);
			stmt_bind_int64(st, ":pval", c->perf_validated);
			stmt_bind_text(st, ":pnote", c->perf_note && c->perf_note[0] ? c->perf_note :
				       NULL);
			stmt_bind_double(st, ":blo", c->band_lo > 0 ? c->band_lo : NAN);
			stmt_bind_double(st, ":bhi", c->band_hi > 0 ? c->band_hi : NAN);
		}
	}
	if (c->fits) {
		stmt_bind_double(st, ":rate", c->rate_rps);
		stmt_bind_double(st, ":otok", c->output_tok_s);
		stmt_bind_double(st, ":ttft", c->ttft_ms);
		stmt_bind_double(st, ":tpot", c->tpot_ms);
		stmt_bind_double(st, ":total", c->total_usd);
		stmt_bind_double(st, ":permtok", c->usd_per_mtok_output);
		stmt_bind_double(st, ":pct", c->slo_percentile);
		stmt_bind_double(st, ":tpot_full", c->tpot_full_ms);
		stmt_bind_double(st, ":cap", c->capacity_rps);
		stmt_bind_double(st, ":util", c->utilization);
	}
	stmt_bind_text(st, ":reason", c->reason);
	stmt_bind_text(st, ":mode", c->mode);
	if (c->spec_method) {
		stmt_bind_text(st, ":spec", c->spec_method);
		stmt_bind_int64(st, ":spec_k", c->spec_tokens);
		stmt_bind_double(st, ":spec_a", c->spec_acceptance);
		stmt_bind_double(st, ":spec_e", c->spec_tokens_per_step);
	}
	stmt_bind_double(st, ":hit", c->prefix_hit >= 0 ? c->prefix_hit : NAN);
	stmt_bind_double(st, ":retain", c->prefix_retention_s > 0 ? c->prefix_retention_s : NAN);
	if (c->no_prefix_gpus >= 0)
		stmt_bind_int64(st, ":no_prefix", c->no_prefix_gpus);
	if (c->next_mode) {
		stmt_bind_text(st, ":next", c->next_mode);
		stmt_bind_int64(st, ":next_gpus", c->next_mode_gpus);
		stmt_bind_double(st, ":next_usd", c->next_mode_cost_usd);
	}
	return step_reset(st);
}

int run_store_launch(struct run_store *rs, int64_t pool_id, int rank, int node,
		     const char *engine, const char *command)
{
	struct stmt *st = rs->launch;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(st, ":pool", pool_id);
	stmt_bind_int64(st, ":rank", rank);
	stmt_bind_int64(st, ":node", node);
	stmt_bind_text(st, ":engine", engine);
	stmt_bind_text(st, ":cmd", command);
	return step_reset(st);
}

int run_store_fleet(struct run_store *rs, const struct run_fleet_row *f)
{
	struct stmt *st = rs->fleet;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_text(st, ":q", f->quarter);
	stmt_bind_int64(st, ":pool", f->pool_id);
	stmt_bind_text(st, ":gpu", f->gpu);
	stmt_bind_double(st, ":rps", f->demand_rps);
	stmt_bind_double(st, ":in", f->input_tok_s);
	stmt_bind_double(st, ":out", f->output_tok_s);
	stmt_bind_int64(st, ":inst", f->instances);
	stmt_bind_int64(st, ":gpus", f->gpus);
	stmt_bind_double(st, ":util", f->utilization);
	stmt_bind_double(st, ":mean", f->mean_rps);
	if (f->gpus_lo >= 0 && f->gpus_hi >= f->gpus_lo) {
		stmt_bind_int64(st, ":glo", f->gpus_lo);
		stmt_bind_int64(st, ":ghi", f->gpus_hi);
	}
	return step_reset(st);
}

int run_store_pool_workload(struct run_store *rs, int64_t pool_id, int64_t workload_id,
			    double request_share)
{
	struct stmt *st = rs->pool_workload;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(st, ":pool", pool_id);
	stmt_bind_int64(st, ":w", workload_id);
	stmt_bind_double(st, ":share", request_share);
	return step_reset(st);
}

int run_store_fleet_share(struct run_store *rs, const struct run_fleet_share_row *f)
{
	struct stmt *st = rs->fleet_share;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_text(st, ":q", f->quarter);
	stmt_bind_int64(st, ":pool", f->pool_id);
	stmt_bind_int64(st, ":w", f->workload_id);
	stmt_bind_double(st, ":rps", f->demand_rps);
	stmt_bind_double(st, ":mean", f->mean_rps);
	stmt_bind_double(st, ":in", f->input_tok_s);
	stmt_bind_double(st, ":out", f->output_tok_s);
	stmt_bind_double(st, ":share", f->share);
	return step_reset(st);
}

int run_store_cost(struct run_store *rs, const struct run_cost_row *c)
{
	struct stmt *st = rs->cost;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_text(st, ":q", c->quarter);
	stmt_bind_text(st, ":gpu", c->gpu);
	stmt_bind_text(st, ":source", c->source);
	stmt_bind_int64(st, ":gpus", c->gpus);
	stmt_bind_int64(st, ":busy", c->gpus_in_service);
	stmt_bind_text(st, ":pricing", c->pricing);
	stmt_bind_double(st, ":usd", c->usd_per_gpu_hour);
	stmt_bind_text(st, ":asof", c->price_as_of);
	stmt_bind_double(st, ":hours", c->hours);
	stmt_bind_double(st, ":cost", c->cost_usd);
	stmt_bind_double(st, ":in", c->input_tokens);
	stmt_bind_double(st, ":out", c->output_tokens);
	stmt_bind_double(st, ":per_in", c->usd_per_mtok_input);
	stmt_bind_double(st, ":per_out", c->usd_per_mtok_output);
	stmt_bind_double(st, ":floor", c->compute_floor_usd);
	return step_reset(st);
}

int run_store_capacity(struct run_store *rs, const struct run_capacity_row *c)
{
	struct stmt *st = rs->capacity;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_text(st, ":q", c->quarter);
	stmt_bind_text(st, ":gpu", c->gpu);
	stmt_bind_int64(st, ":need", c->gpus_needed);
	stmt_bind_int64(st, ":owned", c->gpus_owned);
	stmt_bind_int64(st, ":short", c->shortfall);
	stmt_bind_text(st, ":order", c->order_by);
	stmt_bind_text(st, ":pricing", c->pricing);
	stmt_bind_double(st, ":usd", c->usd_per_gpu_hour);
	stmt_bind_text(st, ":asof", c->price_as_of);
	stmt_bind_double(st, ":owned_usd", c->owned_usd_per_gpu_hour);
	stmt_bind_double(st, ":hours", c->hours);
	stmt_bind_double(st, ":cost", c->cost_usd);
	stmt_bind_double(st, ":in", c->input_tokens);
	stmt_bind_double(st, ":out", c->output_tokens);
	stmt_bind_double(st, ":per_in", c->usd_per_mtok_input);
	stmt_bind_double(st, ":per_out", c->usd_per_mtok_output);
	stmt_bind_double(st, ":floor", c->compute_floor_usd);
	stmt_bind_int64(st, ":spare", c->spare_gpus);
	stmt_bind_int64(st, ":listed", c->listed);
	return step_reset(st);
}

int run_store_input(struct run_store *rs, const char *kind, const char *name, const char *sha256)
{
	struct stmt *st = rs->input;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_text(st, ":k", kind);
	stmt_bind_text(st, ":n", name);
	stmt_bind_text(st, ":s", sha256);
	return step_reset(st);
}

int run_store_note(struct run_store *rs, int seq, const char *kind, const char *text)
{
	struct stmt *st = rs->note;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(st, ":seq", seq);
	stmt_bind_text(st, ":k", kind);
	stmt_bind_text(st, ":t", text);
	return step_reset(st);
}

int run_store_finish(struct run_store *rs, const char *inputs_sha256, int64_t candidates,
		     double elapsed_ms)
{
	struct stmt *st = db_prepare(rs->db,
		"UPDATE run SET inputs_sha256 = :h, candidates_evaluated = :c, elapsed_ms = :ms"
		" WHERE id = :run");
	if (!st)
		return -1;
	stmt_bind_text(st, ":h", inputs_sha256);
	stmt_bind_int64(st, ":c", candidates);
	stmt_bind_double(st, ":ms", elapsed_ms);
	stmt_bind_int64(st, ":run", rs->run_id);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

void run_store_free(struct run_store *rs)
{
	if (!rs)
		return;
	stmt_finalize(rs->launch);
	stmt_finalize(rs->cost);
	stmt_finalize(rs->fleet_share);
	stmt_finalize(rs->pool_workload);
	stmt_finalize(rs->note);
	stmt_finalize(rs->input);
	stmt_finalize(rs->capacity);
	stmt_finalize(rs->fleet);
	stmt_finalize(rs->config);
	stmt_finalize(rs->pool);
	free(rs);
}

/* --- showing a stored run --------------------------------------------------------- */

struct stmt *run_shortfall_stmt(struct db *db, int64_t run_id)
{
	struct stmt *st = db_prepare(db,
		"SELECT c.quarter, c.gpu_id, c.gpus_needed, c.spare_gpus, c.gpus_owned, c.shortfall,"
		"       coalesce(o.gpus_to_order, 0), o.order_by,"
		"       (SELECT sum(f.gpus_lo) FROM run_fleet f WHERE f.run_id = c.run_id"
		"          AND f.quarter = c.quarter AND f.gpu_id = c.gpu_id),"
		"       (SELECT sum(f.gpus_hi) FROM run_fleet f WHERE f.run_id = c.run_id"
		"          AND f.quarter = c.quarter AND f.gpu_id = c.gpu_id)"
		"  FROM run_capacity c LEFT JOIN v_run_orders o ON o.run_id = c.run_id"
		"   AND o.quarter = c.quarter AND o.gpu = c.gpu_id"
		" WHERE c.run_id = :run ORDER BY c.quarter, c.gpu_id");
	if (st)
		stmt_bind_int64(st, ":run", run_id);
	return st;
}

struct stmt *run_pools_stmt(struct db *db, int64_t run_id)
{
	struct stmt *st = db_prepare(db,
		"SELECT p.model_id, p.pool, p.slo_class, c.gpu_id, c.gpus_per_instance, c.tp, c.pp,"
		"       c.dp, c.ep, c.max_num_seqs, c.kv_max_num_seqs, c.rate_rps, c.ttft_ms,"
		"       c.tpot_ms, c.slo_percentile, c.utilization"
		"  FROM run_config c JOIN run_pool p ON p.id = c.pool_id"
		" WHERE c.run_id = :run AND c.chosen = 1 ORDER BY p.id");
	if (st)
		stmt_bind_int64(st, ":run", run_id);
	return st;
}

struct stmt *run_cost_stmt(struct db *db, int64_t run_id)
{
	struct stmt *st = db_prepare(db,
		"SELECT quarter, round(sum(cost_usd), 2), round(sum(compute_floor_usd), 2)"
		"  FROM run_capacity WHERE run_id = :run GROUP BY quarter ORDER BY quarter");
	if (st)
		stmt_bind_int64(st, ":run", run_id);
	return st;
}

/* Per quarter: GPUs needed and cost of a run. */
static int run_totals(struct db *db, int64_t run, const char *quarter, int64_t *gpus, double *usd)
{
	struct stmt *st = db_prepare(db,
		"SELECT coalesce(sum(gpus_needed), 0), coalesce(sum(cost_usd), 0) FROM run_capacity"
		" WHERE run_id = :run AND quarter = :q");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":run", run);
	stmt_bind_text(st, ":q", quarter);
	int r = stmt_step(st);
	if (r == 1) {
		*gpus = stmt_int64(st, 0);
		*usd = stmt_double(st, 1);
	}
	stmt_finalize(st);
	return r == 1 ? 0 : -1;
}

int run_compare(struct db *db, int64_t a, int64_t b, struct run_compare_row **rows, int *n)
{
	struct stmt *st = db_prepare(db,
		"SELECT DISTINCT quarter FROM run_capacity WHERE run_id IN (:a, :b) ORDER BY quarter");
	int r;

	*rows = NULL;
	*n = 0;
	if (!st)
		return -1;
	stmt_bind_int64(st, ":a", a);
	stmt_bind_int64(st, ":b", b);
	while ((r = stmt_step(st)) == 1) {
		*rows = xrealloc(*rows, (size_t)(*n + 1) * sizeof(**rows));
		struct run_compare_row *q = &(*rows)[(*n)++];
		snprintf(q->quarter, sizeof(q->quarter), "%s", stmt_text(st, 0));
		if (run_totals(db, a, q->quarter, &q->gpus_a, &q->cost_a_usd) ||
		    run_totals(db, b, q->quarter, &q->gpus_b, &q->cost_b_usd)) {
			r = -1;
			break;
		}
	}
	stmt_finalize(st);
	if (r < 0) {
		free(*rows);
		*rows = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
