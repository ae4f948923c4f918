/*
 * run.c - `piqplan scenario run` and `piqplan scenario compare`.
 *
 * A run reads the scenario and everything it depends on (models, GPUs,
 * prices, engine profile, workloads, clusters), hands plain structs to the
 * planner (planner/plan.h, planner/fleet.h), and writes what it decided --
 * pools, ranked configurations, fleet per quarter, capacity and cost --
 * as rows of one transaction, with the SHA-256 of every input it read.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "schema/load.h"
#include "schema/lookup.h"
#include "cli/opts.h"
#include "run/scenario_run.h"
#include "schema/scenario.h"
#include "lib/sha256.h"
#include "cli/table.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/fleet.h"
#include "planner/plan.h"
#include "schema/db.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PIQPLAN_VERSION
#define PIQPLAN_VERSION "unknown"
#endif

/* Ranked candidates kept per pool, and infeasible ones (distinct reasons). */
#define KEEP_RANKED 10
#define KEEP_INFEASIBLE 10

/* One input the run read, for run_input and the run's overall hash. */
struct input_hash {
	char kind[16];
	char *name;
	char sha[65];
};

/* What a run accumulates before it writes. */
struct run_state {
	struct db *db;
	struct scenario sc;
	struct engine_profile engine;
	struct plan_gpu *gpus;
	char **price_as_of;		/* per gpu */
	int ngpus;
	struct input_hash *inputs;
	int ninputs;
	char **notes;			/* "kind\ttext" */
	int nnotes;
	int64_t candidates;
	int64_t run_id;
};

/* A pool decided for a workload. */
struct decided_pool {
	struct pool_traffic t;
	char name[8];			/* "shared", "short", "long" */
	struct candidate *cands;	/* ranked; cands[0] chosen */
	int ncands;
	double shared_alternative_usd;	/* NaN when not computed */
	char choice[240];
};

static void add_note(struct run_state *rs, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_note(struct run_state *rs, const char *kind, const char *fmt, ...)
{
	va_list ap;
	char buf[600];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rs->notes = xrealloc(rs->notes, (size_t)(rs->nnotes + 1) * sizeof(*rs->notes));
	rs->notes[rs->nnotes++] = xasprintf("%s\t%s", kind, buf);
}

static void add_input(struct run_state *rs, const char *kind, const char *name,
		      const char *text, size_t len)
{
	struct sha256 h;
	for (int i = 0; i < rs->ninputs; i++)
		if (!strcmp(rs->inputs[i].kind, kind) && !strcmp(rs->inputs[i].name, name))
			return;
	rs->inputs = xrealloc(rs->inputs, (size_t)(rs->ninputs + 1) * sizeof(*rs->inputs));
	struct input_hash *in = &rs->inputs[rs->ninputs++];
	snprintf(in->kind, sizeof(in->kind), "%s", kind);
	in->name = xstrdup(name);
	sha256_init(&h);
	sha256_update(&h, text, len);
	sha256_final_hex(&h, in->sha);
}

/* Hash the text of every column of the rows a query returns, as an input. */
static int hash_query(struct run_state *rs, const char *kind, const char *name,
		      const char *sql, const char *param, const char *value)
{
	struct stmt *st = db_prepare(rs->db, sql);
	struct strbuf sb = STRBUF_INIT;
	int r;
	if (!st)
		return -1;
	if (param)
		stmt_bind_text(st, param, value);
	while ((r = stmt_step(st)) == 1) {
		for (int c = 0; c < stmt_column_count(st); c++) {
			strbuf_addstr(&sb, stmt_text(st, c));
			strbuf_addstr(&sb, c + 1 < stmt_column_count(st) ? "\t" : "\n");
		}
	}
	stmt_finalize(st);
	if (r == 0)
		add_input(rs, kind, name, sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return r < 0 ? -1 : 0;
}

static int owned_gpus(struct run_state *rs, const char *gpu, const char *quarter,
		      int64_t *gpus, double *usd_per_gpu_hour, int *unstated);

/*
 * The candidate GPUs: the scenario's (or every type), with their newest
 * price of the scenario's kind, plus every type the team owns (usable up to
 * what is owned even without a price). A type with neither is left out.
 */
static int load_gpus(struct run_state *rs)
{
	struct stmt *st = db_prepare(rs->db,
		"SELECT g.id,"
		"       (SELECT usd_per_gpu_hour FROM gpu_price p WHERE p.gpu_id = g.id"
		"          AND p.pricing = :pricing ORDER BY as_of_date DESC LIMIT 1),"
		"       (SELECT as_of FROM gpu_price p WHERE p.gpu_id = g.id"
		"          AND p.pricing = :pricing ORDER BY as_of_date DESC LIMIT 1),"
		"       EXISTS (SELECT 1 FROM cluster WHERE gpu_id = g.id)"
		"  FROM gpu g"
		" WHERE NOT EXISTS (SELECT 1 FROM scenario_gpu WHERE scenario_id = :s)"
		"    OR g.id IN (SELECT gpu_id FROM scenario_gpu WHERE scenario_id = :s)"
		"    OR g.id IN (SELECT gpu_id FROM cluster)"
		" ORDER BY g.id");
	int r, ret = -1;
	if (!st)
		return -1;
	stmt_bind_text(st, ":pricing", rs->sc.pricing);
	stmt_bind_int64(st, ":s", rs->sc.id);
	struct strbuf unpriced = STRBUF_INIT;
	while ((r = stmt_step(st)) == 1) {
		const char *id = stmt_text(st, 0);
		int owned_type = (int)stmt_int64(st, 3);
		if (stmt_is_null(st, 1) && !owned_type) {
			strbuf_addf(&unpriced, "%s%s", unpriced.len ? ", " : "", id);
			continue;
		}
		rs->gpus = xrealloc(rs->gpus, (size_t)(rs->ngpus + 1) * sizeof(*rs->gpus));
		rs->price_as_of = xrealloc(rs->price_as_of, (size_t)(rs->ngpus + 1) * sizeof(char *));
		struct plan_gpu *g = &rs->gpus[rs->ngpus];
		memset(g, 0, sizeof(*g));
		g->usd_per_gpu_hour = stmt_is_null(st, 1) ? NAN : stmt_double(st, 1);
		rs->price_as_of[rs->ngpus] = stmt_is_null(st, 2) ? NULL : xstrdup(stmt_text(st, 2));
		char *gid = xstrdup(id);
		rs->ngpus++;
		if (load_gpu_spec(rs->db, gid, &g->spec)) {
			free(gid);
			goto cleanup;
		}
		for (int q = 0; q < rs->sc.quarters; q++) {
			char qs[QUARTER_BUF];
			double rate;
			int unstated;
			quarter_format(rs->sc.start_quarter + q, qs);
			if (owned_gpus(rs, gid, qs, &g->owned[q], &rate, &unstated)) {
				free(gid);
				goto cleanup;
			}
			if (isfinite(rate))
				g->owned_usd_per_gpu_hour = rate;
		}
		char *pname = xasprintf("%s %s", gid, rs->sc.pricing);
		int h = hash_query(rs, "gpu", gid,
				   "SELECT * FROM gpu WHERE id = :id", ":id", gid) ||
			hash_query(rs, "price", pname,
				   "SELECT * FROM gpu_price WHERE gpu_id = :id ORDER BY pricing, as_of",
				   ":id", gid);
		free(pname);
		free(gid);
		if (h)
			goto cleanup;
	}
	if (r < 0)
		goto cleanup;
	if (unpriced.len) {
		warning("no %s price for %s: left out of this run (add one with 'piqplan price add')",
			rs->sc.pricing, unpriced.buf);
		add_note(rs, "warning", "GPU types without a %s price were left out, never priced at "
			 "zero: %s.", rs->sc.pricing, unpriced.buf);
	}
	if (rs->ngpus == 0) {
		error("no candidate GPU of scenario '%s' has a %s price", rs->sc.name, rs->sc.pricing);
		goto cleanup;
	}
	ret = 0;
cleanup:
	strbuf_release(&unpriced);
	stmt_finalize(st);
	return ret;
}

/* What the chosen configurations of a workload take from the owned GPUs. */
static void take_owned(struct run_state *rs, const struct decided_pool *pools, int npools)
{
	for (int k = 0; k < npools; k++) {
		const struct candidate *c = &pools[k].cands[0];
		struct plan_gpu *g = &rs->gpus[c->gpu];
		for (int q = 0; q < rs->sc.quarters; q++) {
			int64_t used = c->instances[q] * c->inst.gpus;
			g->owned[q] = g->owned[q] > used ? g->owned[q] - used : 0;
		}
	}
}

/* A workload's figures and buckets, as the planner needs them. */
struct wl_input {
	int64_t id;
	char *name, *model_id;
	struct model_arch arch;
	struct model_params params;
	struct wl_bucket *buckets;
	int nbuckets;
	double base_rps;		/* peak or mean, per the scenario */
	double p999_total;
	int independent, sums_estimated;
};

static void wl_input_free(struct wl_input *w)
{
	free(w->buckets);
	memset(w, 0, sizeof(*w));
}

static int load_workload(struct run_state *rs, const struct scenario_workload *sw,
			 struct wl_input *w)
{
	memset(w, 0, sizeof(*w));
	w->id = sw->id;
	w->name = sw->name;
	w->model_id = sw->model_id;
	if (load_model_arch(rs->db, sw->model_id, &w->arch))
		return -1;
	model_params_count(&w->arch, &w->params);

	struct stmt *st = db_prepare(rs->db,
		"SELECT peak_rps, mean_rps, total_tokens_p999, independent_marginals, sums_estimated"
		"  FROM workload WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":id", w->id);
	if (stmt_step(st) != 1) {
		stmt_finalize(st);
		return -1;
	}
	int want = rs->sc.demand_peak ? 0 : 1, other = 1 - want;
	if (!stmt_is_null(st, want) && stmt_double(st, want) > 0) {
		w->base_rps = stmt_double(st, want);
	} else if (!stmt_is_null(st, other) && stmt_double(st, other) > 0) {
		w->base_rps = stmt_double(st, other);
		add_note(rs, "assumption", "workload %s has no %s request rate; its %s rate "
			 "(%.3f req/s) was planned for instead.", w->name,
			 want ? "mean" : "peak", want ? "peak" : "mean", w->base_rps);
	} else {
		stmt_finalize(st);
		return error("workload '%s' has no arrival rate (import it from timestamped "
			     "requests, or a buckets file with period or peak_rps columns)", w->name);
	}
	w->p999_total = stmt_is_null(st, 2) ? NAN : stmt_double(st, 2);
	w->independent = (int)stmt_int64(st, 3);
	w->sums_estimated = (int)stmt_int64(st, 4);
	stmt_finalize(st);

	if (load_workload_buckets(rs->db, w->id, w->name, &w->buckets, &w->nbuckets))
		return -1;

	if (hash_query(rs, "model", w->model_id, "SELECT config_json FROM model WHERE id = :id",
		       ":id", w->model_id) ||
	    hash_query(rs, "workload", w->name,
		       "SELECT w.name, w.model_id, w.source_sha256, w.requests, w.mean_rps,"
		       "       w.peak_rps, w.total_tokens_p999, b.prompt_tokens_lo,"
		       "       b.output_tokens_lo, b.requests, b.prompt_tokens_sum,"
		       "       b.output_tokens_sum"
		       "  FROM workload w JOIN workload_bucket b ON b.workload_id = w.id"
		       " WHERE w.name = :n ORDER BY 8, 9", ":n", w->name))
		return -1;
	if (w->independent)
		add_note(rs, "assumption", "workload %s was measured as separate prompt and output "
			 "histograms (Prometheus); they were combined assuming the two lengths are "
			 "independent.", w->name);
	if (w->sums_estimated)
		add_note(rs, "assumption", "workload %s gave bucket counts only; token means are "
			 "bucket midpoints, not exact.", w->name);
	return 0;
}

static void plan_params_for(const struct run_state *rs, const struct scenario_workload *sw,
			    const struct wl_input *w, struct plan_params *p)
{
	memset(p, 0, sizeof(*p));
	p->slo.ttft_s = rs->sc.ttft_ms / 1e3;
	p->slo.tpot_s = rs->sc.tpot_ms / 1e3;
	p->slo.utilisation = rs->sc.utilization;
	p->redundancy = rs->sc.redundancy;
	p->start_quarter = rs->sc.start_quarter;
	p->quarters = rs->sc.quarters;
	p->allow_fp8 = 1;
	for (int q = 0; q < p->quarters; q++)
		p->demand_rps[q] = w->base_rps * growth_factor(sw->growth_pct, q);
}

static void decided_free(struct decided_pool *d)
{
	free(d->cands);
	d->cands = NULL;
	d->ncands = 0;
}

/*
 * Decide the pools of one workload (planner/plan.h's plan_decide) and say
 * in words how the split was chosen. Writes 1 or 2 pools into out[].
 */
static int decide_pools(struct run_state *rs, const struct wl_input *w,
			const struct plan_params *p, struct decided_pool out[2], int *nout)
{
	struct plan_decision d;
	static const char *const split_names[] = { "short", "long" };

	if (plan_decide(&w->arch, rs->gpus, rs->ngpus, &rs->engine, w->buckets, w->nbuckets,
			w->p999_total, rs->sc.long_context_tokens, p, &d))
		return error("out of memory planning workload '%s'", w->name);
	rs->candidates += d.candidates;
	if (d.forced_empty)
		add_note(rs, "warning", "workload %s: the long-context threshold %lld leaves one pool "
			 "empty; one shared pool serves it.", w->name,
			 (long long)rs->sc.long_context_tokens);

	memset(out, 0, 2 * sizeof(*out));
	*nout = d.npools;
	for (int k = 0; k < d.npools; k++) {
		struct decided_pool *o = &out[k];
		o->t = d.pool[k];
		o->cands = d.cands[k];
		o->ncands = d.ncands[k];
		o->shared_alternative_usd = d.shared_usd;
		snprintf(o->name, sizeof(o->name), "%s", d.npools == 2 ? split_names[k] : "shared");
		if (d.npools == 2)
			snprintf(o->choice, sizeof(o->choice),
				 "%s threshold %lld tokens: %.0f USD over the horizon vs %.0f USD for "
				 "one shared pool", rs->sc.long_context_tokens > 0 ? "scenario's" :
				 "cheapest", (long long)d.threshold, d.split_usd, d.shared_usd);
		else if (d.threshold && isfinite(d.split_usd))
			snprintf(o->choice, sizeof(o->choice),
				 "one shared pool: %.0f USD; isolating requests of %lld+ tokens would "
				 "cost %.0f USD", d.shared_usd, (long long)d.threshold, d.split_usd);
		else if (d.threshold || d.forced_empty)
			snprintf(o->choice, sizeof(o->choice),
				 "one shared pool: %.0f USD; no split tried could be served",
				 d.shared_usd);
		else if (rs->sc.long_context_tokens == -1)
			snprintf(o->choice, sizeof(o->choice), "one shared pool (isolation off)");
		else
			snprintf(o->choice, sizeof(o->choice),
				 "one shared pool: no threshold leaves a long pool worth isolating");
	}
	return 0;
}

static const char *const precision_names[] = { "native", "bf16", "fp8", "fp4" };

static int insert_configs(struct run_state *rs, const struct wl_input *w, int64_t pool_id,
			  const struct decided_pool *d)
{
	struct stmt *st = db_prepare(rs->db,
		"INSERT INTO run_config (run_id, pool_id, rank, chosen, gpu_id, tp, pp, dp, ep,"
		"   precision, kv_dtype, gpus_per_instance, fits, max_model_len, max_num_seqs,"
		"   max_num_batched_tokens, gpu_memory_utilization, kv_tokens, rate_rps,"
		"   output_tok_s, ttft_ms, tpot_ms, usd_per_gpu_hour, total_usd,"
		"   usd_per_mtok_output, reason, vllm_args)"
		" VALUES (:run, :pool, :rank, :chosen, :gpu, :tp, :pp, :dp, :ep, :prec, :kv, :gpus,"
		"   :fits, :mml, :seqs, :mbt, :gmu, :kvtok, :rate, :otok, :ttft, :tpot, :usd, :total,"
		"   :permtok, :reason, :args)");
	if (!st)
		return -1;
	int rank = 0, infeasible = 0, ret = -1;
	const char *seen[KEEP_INFEASIBLE];
	for (int i = 0; i < d->ncands; i++) {
		const struct candidate *c = &d->cands[i];
		if (c->fits && rank >= KEEP_RANKED)
			continue;
		if (!c->fits) {
			int dup = 0;
			for (int k = 0; k < infeasible; k++)
				dup |= !strcmp(seen[k], c->reason);
			if (dup || infeasible >= KEEP_INFEASIBLE)
				continue;
			seen[infeasible++] = c->reason;
		}
		rank++;
		const struct instance *in = &c->inst;
		const struct plan_gpu *g = &rs->gpus[c->gpu];
		stmt_bind_int64(st, ":run", rs->run_id);
		stmt_bind_int64(st, ":pool", pool_id);
		stmt_bind_int64(st, ":rank", rank);
		stmt_bind_int64(st, ":chosen", i == 0 && c->fits);
		stmt_bind_text(st, ":gpu", g->spec.id);
		stmt_bind_int64(st, ":tp", in->layout.tp);
		stmt_bind_int64(st, ":pp", in->layout.pp);
		stmt_bind_int64(st, ":dp", in->layout.dp);
		stmt_bind_int64(st, ":ep", in->layout.ep);
		stmt_bind_text(st, ":prec", precision_names[in->layout.precision]);
		stmt_bind_text(st, ":kv", in->layout.kv_elem_bytes == 1 ? "fp8" : "auto");
		stmt_bind_int64(st, ":gpus", in->gpus);
		stmt_bind_int64(st, ":fits", c->fits);
		if (!isnan(g->usd_per_gpu_hour))
			stmt_bind_double(st, ":usd", g->usd_per_gpu_hour);
		if (in->fits) {
			stmt_bind_int64(st, ":mml", in->max_model_len);
			stmt_bind_int64(st, ":seqs", in->max_num_seqs);
			stmt_bind_int64(st, ":mbt", in->max_num_batched_tokens);
			stmt_bind_double(st, ":gmu", in->gpu_memory_utilization);
			stmt_bind_int64(st, ":kvtok", in->kv_tokens);
			char *args = vllm_args_alloc(in, &w->arch, w->model_id);
			char *cmd = xasprintf("vllm serve %s", args);
			stmt_bind_text(st, ":args", cmd);
			free(cmd);
			free(args);
		}
		if (c->fits) {
			stmt_bind_double(st, ":rate", c->rate_rps);
			stmt_bind_double(st, ":otok", c->rate_rps * d->t.osl);
			stmt_bind_double(st, ":ttft", c->at.ttft_s * 1e3);
			stmt_bind_double(st, ":tpot", c->at.tpot_s * 1e3);
			stmt_bind_double(st, ":total", c->total_usd);
			stmt_bind_double(st, ":permtok",
					 usd_per_million_tokens(c->usd_per_hour, c->rate_rps * d->t.osl));
		}
		char why[400];
		if (i == 0 && c->fits)
			snprintf(why, sizeof(why), "chosen: cheapest over the horizon; %s", c->reason);
		else if (c->fits && c->total_usd <= d->cands[0].total_usd)
			snprintf(why, sizeof(why), "same cost over the horizon, ranked lower for %s; %s",
				 c->inst.gpus > d->cands[0].inst.gpus ? "more GPUs per instance"
								      : "less headroom per instance",
				 c->reason);
		else if (c->fits)
			snprintf(why, sizeof(why), "costs %.0f USD more over the horizon (%+.1f%%); %s",
				 c->total_usd - d->cands[0].total_usd,
				 100 * (c->total_usd / d->cands[0].total_usd - 1), c->reason);
		else
			snprintf(why, sizeof(why), "cannot serve: %s", c->reason);
		stmt_bind_text(st, ":reason", why);
		if (stmt_step(st) < 0)
			goto cleanup;
		stmt_reset(st);
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

/* Per quarter x GPU type: what the pools need. */
struct capacity_acc {
	int64_t gpus;
	double input_tokens, output_tokens;
	double input_gpu_share_weighted;	/* sum of gpus x input time share */
	double floor_gpu_hours;
};

static int write_pools(struct run_state *rs, const struct wl_input *w, const struct plan_params *p,
		       struct decided_pool *pools, int npools, struct capacity_acc *acc)
{
	struct stmt *pool_st = db_prepare(rs->db,
		"INSERT INTO run_pool (run_id, workload_id, pool, min_total_tokens, max_total_tokens,"
		"   request_share, prompt_tokens_mean, output_tokens_mean, max_model_len,"
		"   threshold_choice, shared_alternative_usd)"
		" VALUES (:run, :w, :pool, :min, :max, :share, :isl, :osl, :mml, :choice, :alt)");
	struct stmt *fleet_st = db_prepare(rs->db,
		"INSERT INTO run_fleet (run_id, quarter, pool_id, gpu_id, demand_rps, input_tok_s,"
		"   output_tok_s, instances, gpus, utilization)"
		" VALUES (:run, :q, :pool, :gpu, :rps, :in, :out, :inst, :gpus, :util)");
	int ret = -1;
	if (!pool_st || !fleet_st)
		goto cleanup;
	for (int k = 0; k < npools; k++) {
		struct decided_pool *d = &pools[k];
		const struct candidate *c = &d->cands[0];
		if (d->ncands == 0 || !c->fits) {
			struct strbuf why = STRBUF_INIT;
			int shown = 0;
			for (int i = 0; i < d->ncands && shown < 3; i++, shown++)
				strbuf_addf(&why, "\n  %s x%d TP%d PP%d%s %s: %s",
					    rs->gpus[d->cands[i].gpu].spec.id, d->cands[i].inst.gpus,
					    d->cands[i].inst.layout.tp, d->cands[i].inst.layout.pp,
					    d->cands[i].inst.layout.ep ? " EP" : "",
					    precision_names[d->cands[i].inst.layout.precision],
					    d->cands[i].reason);
			error("no configuration can serve the %s pool of workload '%s' (model %s, "
			      "max_model_len %lld) at TTFT %g ms / TPOT %g ms on the candidate GPUs:%s",
			      d->name, w->name, w->model_id, (long long)d->t.max_model_len,
			      rs->sc.ttft_ms, rs->sc.tpot_ms, why.buf ? why.buf : "");
			strbuf_release(&why);
			goto cleanup;
		}
		stmt_bind_int64(pool_st, ":run", rs->run_id);
		stmt_bind_int64(pool_st, ":w", w->id);
		stmt_bind_text(pool_st, ":pool", d->name);
		stmt_bind_int64(pool_st, ":min", d->t.min_total_tokens);
		if (d->t.max_total_tokens > 0)
			stmt_bind_int64(pool_st, ":max", d->t.max_total_tokens);
		stmt_bind_double(pool_st, ":share", d->t.share);
		stmt_bind_double(pool_st, ":isl", d->t.isl);
		stmt_bind_double(pool_st, ":osl", d->t.osl);
		stmt_bind_int64(pool_st, ":mml", d->t.max_model_len);
		stmt_bind_text(pool_st, ":choice", d->choice);
		if (isfinite(d->shared_alternative_usd))
			stmt_bind_double(pool_st, ":alt", d->shared_alternative_usd);
		if (stmt_step(pool_st) < 0)
			goto cleanup;
		stmt_reset(pool_st);
		int64_t pool_id = db_last_insert_rowid(rs->db);
		if (insert_configs(rs, w, pool_id, d))
			goto cleanup;

		/* GPU time split between prefill (input) and decode (output), per request. */
		double prefill_s = instance_prefill_s(&c->inst, d->t.isl);
		double running = c->at.running > 1 ? c->at.running : 1;
		double decode_s = d->t.osl * c->at.tpot_s / running;
		double input_share = prefill_s + decode_s > 0 ? prefill_s / (prefill_s + decode_s) : 0;
		const struct plan_gpu *g = &rs->gpus[c->gpu];
		double peak = c->inst.compute_fp8 && g->spec.fp8_flops > 0 ? g->spec.fp8_flops
									   : g->spec.bf16_flops;
		for (int q = 0; q < p->quarters; q++) {
			char qs[QUARTER_BUF];
			double rps = p->demand_rps[q] * d->t.share;
			int64_t inst = c->instances[q];
			quarter_format(p->start_quarter + q, qs);
			stmt_bind_int64(fleet_st, ":run", rs->run_id);
			stmt_bind_text(fleet_st, ":q", qs);
			stmt_bind_int64(fleet_st, ":pool", pool_id);
			stmt_bind_text(fleet_st, ":gpu", g->spec.id);
			stmt_bind_double(fleet_st, ":rps", rps);
			stmt_bind_double(fleet_st, ":in", rps * d->t.isl);
			stmt_bind_double(fleet_st, ":out", rps * d->t.osl);
			stmt_bind_int64(fleet_st, ":inst", inst);
			stmt_bind_int64(fleet_st, ":gpus", inst * c->inst.gpus);
			stmt_bind_double(fleet_st, ":util",
					 fleet_utilization(rps, c->rate_rps, inst, p->redundancy));
			if (stmt_step(fleet_st) < 0)
				goto cleanup;
			stmt_reset(fleet_st);

			struct capacity_acc *a = &acc[q * rs->ngpus + c->gpu];
			double secs = quarter_hours(p->start_quarter + q) * 3600;
			a->gpus += inst * c->inst.gpus;
			a->input_tokens += rps * d->t.isl * secs;
			a->output_tokens += rps * d->t.osl * secs;
			a->input_gpu_share_weighted += (double)(inst * c->inst.gpus) * input_share;
			a->floor_gpu_hours += compute_floor_gpu_hours((double)w->params.active,
				rps * (d->t.isl + d->t.osl) * secs, peak, rs->sc.mfu);
		}
	}
	ret = 0;
cleanup:
	stmt_finalize(fleet_st);
	stmt_finalize(pool_st);
	return ret;
}

/* GPUs of one type owned in quarter q, and their stated cost (NaN: none stated). */
static int owned_gpus(struct run_state *rs, const char *gpu, const char *quarter,
		      int64_t *gpus, double *usd_per_gpu_hour, int *unstated)
{
	struct stmt *st = db_prepare(rs->db,
		"SELECT coalesce(sum(gpus), 0),"
		"       sum(gpus * usd_per_gpu_hour) / nullif(sum(CASE WHEN usd_per_gpu_hour IS NOT NULL"
		"                                                 THEN gpus END), 0),"
		"       coalesce(sum(CASE WHEN usd_per_gpu_hour IS NULL THEN gpus END), 0)"
		"  FROM cluster WHERE gpu_id = :gpu AND (from_quarter IS NULL OR from_quarter <= :q)");
	if (!st)
		return -1;
	stmt_bind_text(st, ":gpu", gpu);
	stmt_bind_text(st, ":q", quarter);
	int r = stmt_step(st);
	if (r == 1) {
		*gpus = stmt_int64(st, 0);
		*usd_per_gpu_hour = stmt_is_null(st, 1) ? NAN : stmt_double(st, 1);
		*unstated = stmt_int64(st, 2) > 0;
	}
	stmt_finalize(st);
	return r == 1 ? 0 : -1;
}

static int write_capacity(struct run_state *rs, struct capacity_acc *acc)
{
	struct stmt *st = db_prepare(rs->db,
		"INSERT INTO run_capacity (run_id, quarter, gpu_id, gpus_needed, gpus_owned, shortfall,"
		"   order_by, pricing, usd_per_gpu_hour, price_as_of, owned_usd_per_gpu_hour, hours,"
		"   cost_usd, input_tokens, output_tokens, usd_per_mtok_input, usd_per_mtok_output,"
		"   compute_floor_usd)"
		" VALUES (:run, :q, :gpu, :need, :owned, :short, :order, :pricing, :usd, :asof,"
		"   :owned_usd, :hours, :cost, :in, :out, :per_in, :per_out, :floor)");
	int ret = -1, unstated_noted = 0, late_noted = 0;
	char today[11];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	if (!st)
		return -1;
	for (int q = 0; q < rs->sc.quarters; q++) {
		int qi = rs->sc.start_quarter + q;
		char qs[QUARTER_BUF], order[11];
		quarter_format(qi, qs);
		for (int g = 0; g < rs->ngpus; g++) {
			struct capacity_acc *a = &acc[q * rs->ngpus + g];
			int64_t owned;
			double owned_rate;
			int unstated;
			if (owned_gpus(rs, rs->gpus[g].spec.id, qs, &owned, &owned_rate, &unstated))
				goto cleanup;
			if (a->gpus == 0 && owned == 0)
				continue;
			int64_t shortfall = fleet_shortfall(a->gpus, owned);
			int64_t used_owned = a->gpus - shortfall;
			double hours = quarter_hours(qi);
			double cost = (shortfall > 0 ? quarter_cost_usd(shortfall,
						rs->gpus[g].usd_per_gpu_hour, qi) : 0) +
				      (isfinite(owned_rate) ? quarter_cost_usd(used_owned, owned_rate, qi)
							    : 0);
			if (used_owned > 0 && unstated && !unstated_noted++)
				add_note(rs, "assumption", "owned GPUs without a stated --usd-per-hour are "
					 "counted at no cost; state their amortised cost for a fair "
					 "comparison.");
			double in_share = a->gpus ? a->input_gpu_share_weighted / (double)a->gpus : 0;
			double rate = a->gpus ? cost / ((double)a->gpus * hours) : 0;
			stmt_bind_int64(st, ":run", rs->run_id);
			stmt_bind_text(st, ":q", qs);
			stmt_bind_text(st, ":gpu", rs->gpus[g].spec.id);
			stmt_bind_int64(st, ":need", a->gpus);
			stmt_bind_int64(st, ":owned", owned);
			stmt_bind_int64(st, ":short", shortfall);
			if (shortfall > 0) {
				order_by_date(qi, rs->sc.lead_time_days, order);
				stmt_bind_text(st, ":order", order);
				if (strcmp(order, today) < 0 && !late_noted++)
					add_note(rs, "risk", "order-by dates already past (%s for %s in %s, "
						 "today is %s): that capacity cannot arrive in time with a "
						 "%d-day lead time.", order, rs->gpus[g].spec.id, qs, today,
						 rs->sc.lead_time_days);
			}
			stmt_bind_text(st, ":pricing", rs->sc.pricing);
			if (!isnan(rs->gpus[g].usd_per_gpu_hour))
				stmt_bind_double(st, ":usd", rs->gpus[g].usd_per_gpu_hour);
			stmt_bind_text(st, ":asof", rs->price_as_of[g]);
			if (isfinite(owned_rate))
				stmt_bind_double(st, ":owned_usd", owned_rate);
			stmt_bind_double(st, ":hours", hours);
			stmt_bind_double(st, ":cost", cost);
			stmt_bind_double(st, ":in", a->input_tokens);
			stmt_bind_double(st, ":out", a->output_tokens);
			if (a->input_tokens > 0)
				stmt_bind_double(st, ":per_in", cost * in_share / a->input_tokens * 1e6);
			if (a->output_tokens > 0)
				stmt_bind_double(st, ":per_out",
						 cost * (1 - in_share) / a->output_tokens * 1e6);
			stmt_bind_double(st, ":floor", a->floor_gpu_hours * rate);
			if (stmt_step(st) < 0)
				goto cleanup;
			stmt_reset(st);
		}
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

static int by_kind_name(const void *pa, const void *pb)
{
	const struct input_hash *a = pa, *b = pb;
	int c = strcmp(a->kind, b->kind);
	return c ? c : strcmp(a->name, b->name);
}

static int write_inputs_and_notes(struct run_state *rs, char overall[65])
{
	struct sha256 h;
	struct stmt *in = db_prepare(rs->db,
		"INSERT INTO run_input (run_id, kind, name, sha256) VALUES (:run, :k, :n, :s)");
	struct stmt *note = db_prepare(rs->db,
		"INSERT INTO run_note (run_id, seq, kind, text) VALUES (:run, :seq, :k, :t)");
	int ret = -1;
	if (!in || !note)
		goto cleanup;
	qsort(rs->inputs, (size_t)rs->ninputs, sizeof(*rs->inputs), by_kind_name);
	sha256_init(&h);
	for (int i = 0; i < rs->ninputs; i++) {
		struct input_hash *x = &rs->inputs[i];
		sha256_update(&h, x->kind, strlen(x->kind) + 1);
		sha256_update(&h, x->name, strlen(x->name) + 1);
		sha256_update(&h, x->sha, 64);
		stmt_bind_int64(in, ":run", rs->run_id);
		stmt_bind_text(in, ":k", x->kind);
		stmt_bind_text(in, ":n", x->name);
		stmt_bind_text(in, ":s", x->sha);
		if (stmt_step(in) < 0)
			goto cleanup;
		stmt_reset(in);
	}
	sha256_final_hex(&h, overall);
	for (int i = 0; i < rs->nnotes; i++) {
		char *tab = strchr(rs->notes[i], '\t');
		*tab = '\0';
		stmt_bind_int64(note, ":run", rs->run_id);
		stmt_bind_int64(note, ":seq", i + 1);
		stmt_bind_text(note, ":k", rs->notes[i]);
		stmt_bind_text(note, ":t", tab + 1);
		int r = stmt_step(note);
		*tab = '\t';
		if (r < 0)
			goto cleanup;
		stmt_reset(note);
	}
	ret = 0;
cleanup:
	stmt_finalize(note);
	stmt_finalize(in);
	return ret;
}

static void standing_notes(struct run_state *rs)
{
	struct scenario *sc = &rs->sc;
	add_note(rs, "assumption", "demand grows %g%% per quarter, compounded, from the workloads' "
		 "measured %s request rate.", sc->growth_pct, sc->demand_peak ? "peak" : "mean");
	add_note(rs, "assumption", "engine %s %s; SLOs TTFT %g ms and TPOT %g ms (means under load, "
		 "modelled), instances planned at most %g busy, N+%d spares per pool.",
		 rs->engine.id, rs->engine.version, sc->ttft_ms, sc->tpot_ms, sc->utilization,
		 sc->redundancy);
	for (int g = 0; g < rs->ngpus; g++) {
		if (!isnan(rs->gpus[g].usd_per_gpu_hour))
			add_note(rs, "assumption", "%s priced %s at %.3f USD/GPU-hour as of %s.",
				 rs->gpus[g].spec.id, sc->pricing, rs->gpus[g].usd_per_gpu_hour,
				 rs->price_as_of[g]);
		else
			add_note(rs, "assumption", "%s has no %s price: only the GPUs owned can be "
				 "used.", rs->gpus[g].spec.id, sc->pricing);
	}
	add_note(rs, "risk", "prices go stale: check the as-of dates above before ordering.");
	add_note(rs, "risk", "requests longer than a pool's max_model_len (its p99.9) are "
		 "rejected by vLLM; the tail beyond it is not served.");
	add_note(rs, "assumption", "throughput and latency come from piqplan's roofline model "
		 "with the engine's fitted efficiencies, not from a benchmark of this deployment.");
	add_note(rs, "assumption", "owned GPUs are used first, at their stated cost (no cost when "
		 "none is stated), workload by workload in name order; more are acquired at the "
		 "scenario's price.");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run_state_free(struct run_state *rs)
{
	for (int i = 0; i < rs->ninputs; i++)
		free(rs->inputs[i].name);
	free(rs->inputs);
	for (int i = 0; i < rs->nnotes; i++)
		free(rs->notes[i]);
	free(rs->notes);
	for (int i = 0; i < rs->ngpus; i++)
		free(rs->price_as_of[i]);
	free(rs->price_as_of);
	free(rs->gpus);
	scenario_free(&rs->sc);
}

static int print_summary(struct run_state *rs, int json, const char *db_path)
{
	struct stmt *st = db_prepare(rs->db,
		"SELECT quarter, gpu, gpus_needed, gpus_owned, shortfall, order_by"
		"  FROM v_shortfall WHERE run_id = :run");
	struct stmt *cost = db_prepare(rs->db,
		"SELECT quarter, round(sum(cost_usd), 2), round(sum(compute_floor_usd), 2)"
		"  FROM run_capacity WHERE run_id = :run GROUP BY quarter ORDER BY quarter");
	int r, ret = -1;
	if (!st || !cost)
		goto cleanup;
	stmt_bind_int64(st, ":run", rs->run_id);
	stmt_bind_int64(cost, ":run", rs->run_id);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "run_id", (double)rs->run_id);
		cJSON_AddStringToObject(o, "scenario", rs->sc.name);
		cJSON_AddNumberToObject(o, "candidates_evaluated", (double)rs->candidates);
		cJSON *cap = cJSON_AddArrayToObject(o, "shortfall");
		while ((r = stmt_step(st)) == 1) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "quarter", stmt_text(st, 0));
			cJSON_AddStringToObject(x, "gpu", stmt_text(st, 1));
			cJSON_AddNumberToObject(x, "gpus_needed", (double)stmt_int64(st, 2));
			cJSON_AddNumberToObject(x, "gpus_owned", (double)stmt_int64(st, 3));
			cJSON_AddNumberToObject(x, "shortfall", (double)stmt_int64(st, 4));
			if (stmt_is_null(st, 5))
				cJSON_AddNullToObject(x, "order_by");
			else
				cJSON_AddStringToObject(x, "order_by", stmt_text(st, 5));
			cJSON_AddItemToArray(cap, x);
		}
		cJSON *ca = cJSON_AddArrayToObject(o, "cost");
		while (r >= 0 && (r = stmt_step(cost)) == 1) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "quarter", stmt_text(cost, 0));
			cJSON_AddNumberToObject(x, "cost_usd", stmt_double(cost, 1));
			cJSON_AddNumberToObject(x, "compute_floor_usd", stmt_double(cost, 2));
			cJSON_AddItemToArray(ca, x);
		}
		print_json(o);
		ret = r < 0 ? -1 : 0;
		goto cleanup;
	}
	static const char *const headers[] = {
		"QUARTER", "GPU", ">NEEDED", ">OWNED", ">SHORTFALL", "ORDER BY",
	};
	struct table *t = table_new(6, headers);
	while ((r = stmt_step(st)) == 1) {
		table_cell(t, stmt_text(st, 0));
		table_cell(t, stmt_text(st, 1));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 2));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 3));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 4));
		table_cell(t, stmt_is_null(st, 5) ? "-" : stmt_text(st, 5));
	}
	printf("run %lld of scenario '%s': %lld candidates evaluated\n\n", (long long)rs->run_id,
	       rs->sc.name, (long long)rs->candidates);
	table_print(t, stdout);
	table_free(t);
	putchar('\n');
	while (r >= 0 && (r = stmt_step(cost)) == 1)
		printf("%s  cost %.2f USD  (compute floor by active parameters %.2f USD)\n",
		       stmt_text(cost, 0), stmt_double(cost, 1), stmt_double(cost, 2));
	printf("\nsqlite3 %s 'select * from v_configs' shows the vLLM configurations;\n"
	       "piqplan report quarterly %s renders the report.\n", db_path, rs->sc.name);
	ret = r < 0 ? -1 : 0;
cleanup:
	stmt_finalize(cost);
	stmt_finalize(st);
	return ret;
}

int scenario_run(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, ret = -1;
	struct run_state rs = { 0 };
	struct capacity_acc *acc = NULL;
	struct wl_input *wls = NULL;

	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	double t0 = now_ms();
	rs.db = ctx->db;
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0 || scenario_load(ctx->db, sid, &rs.sc))
		return -1;
	if (rs.sc.nworkloads == 0) {
		error("scenario '%s' has no workloads (piqplan scenario set %s --workload W)",
		      rs.sc.name, rs.sc.name);
		goto cleanup;
	}
	if (load_engine_profile(ctx->db, rs.sc.engine, &rs.engine) || load_gpus(&rs))
		goto cleanup;
	cJSON *sj = scenario_json(&rs.sc);
	char *sjs = cJSON_PrintUnformatted(sj);
	add_input(&rs, "scenario", rs.sc.name, sjs, strlen(sjs));
	if (hash_query(&rs, "engine", rs.sc.engine, "SELECT * FROM engine WHERE id = :id", ":id",
		       rs.sc.engine) ||
	    hash_query(&rs, "cluster", "all", "SELECT * FROM cluster ORDER BY name", NULL, NULL)) {
		cJSON_Delete(sj);
		free(sjs);
		goto cleanup;
	}

	struct stmt *st = db_prepare(ctx->db,
		"INSERT INTO run (scenario_id, piqplan_version, inputs_sha256, candidates_evaluated,"
		"   elapsed_ms, assumptions_json)"
		" VALUES (:s, :v, :zero, 0, 0, :a)");
	if (!st) {
		cJSON_Delete(sj);
		free(sjs);
		goto cleanup;
	}
	stmt_bind_int64(st, ":s", sid);
	stmt_bind_text(st, ":v", PIQPLAN_VERSION);
	stmt_bind_text(st, ":zero", "0000000000000000000000000000000000000000000000000000000000000000");
	stmt_bind_text(st, ":a", sjs);
	int r = stmt_step(st);
	stmt_finalize(st);
	cJSON_Delete(sj);
	free(sjs);
	if (r < 0)
		goto cleanup;
	rs.run_id = db_last_insert_rowid(ctx->db);
	standing_notes(&rs);

	acc = xcalloc((size_t)(rs.sc.quarters * rs.ngpus), sizeof(*acc));
	wls = xcalloc((size_t)rs.sc.nworkloads, sizeof(*wls));
	for (int i = 0; i < rs.sc.nworkloads; i++) {
		struct scenario_workload *sw = &rs.sc.workloads[i];
		struct plan_params p;
		struct decided_pool pools[2];
		int npools = 0;
		if (load_workload(&rs, sw, &wls[i]))
			goto cleanup;
		plan_params_for(&rs, sw, &wls[i], &p);
		if (decide_pools(&rs, &wls[i], &p, pools, &npools))
			goto cleanup;
		int w = write_pools(&rs, &wls[i], &p, pools, npools, acc);
		if (!w)
			take_owned(&rs, pools, npools);
		for (int k = 0; k < npools; k++)
			decided_free(&pools[k]);
		if (w)
			goto cleanup;
	}
	if (write_capacity(&rs, acc))
		goto cleanup;

	char overall[65];
	if (write_inputs_and_notes(&rs, overall))
		goto cleanup;
	st = db_prepare(ctx->db,
		"UPDATE run SET inputs_sha256 = :h, candidates_evaluated = :c, elapsed_ms = :ms"
		" WHERE id = :run");
	if (!st)
		goto cleanup;
	stmt_bind_text(st, ":h", overall);
	stmt_bind_int64(st, ":c", rs.candidates);
	stmt_bind_double(st, ":ms", now_ms() - t0);
	stmt_bind_int64(st, ":run", rs.run_id);
	r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0 || print_summary(&rs, json, ctx->db_path))
		goto cleanup;
	ret = 0;
cleanup:
	if (wls)
		for (int i = 0; i < rs.sc.nworkloads; i++)
			wl_input_free(&wls[i]);
	free(wls);
	free(acc);
	run_state_free(&rs);
	return ret;
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

static int64_t latest_run_of(struct db *db, const char *name)
{
	int64_t sid = scenario_lookup(db, name);
	return sid < 0 ? -1 : scenario_latest_run(db, sid, name);
}

int scenario_compare(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	static const char *const headers[] = {
		"QUARTER", ">GPUS A", ">GPUS B", ">DIFF", ">COST A USD", ">COST B USD", ">DIFF USD",
	};
	char *pos[2];
	int npos, r, ret = -1;

	if (opts_parse(argc, argv, opts, pos, 2, &npos) || npos != 2)
		return usage_error(ctx);
	int64_t ra = latest_run_of(ctx->db, pos[0]), rb = latest_run_of(ctx->db, pos[1]);
	if (ra < 0 || rb < 0)
		return -1;
	struct stmt *st = db_prepare(ctx->db,
		"SELECT DISTINCT quarter FROM run_capacity WHERE run_id IN (:a, :b) ORDER BY quarter");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":a", ra);
	stmt_bind_int64(st, ":b", rb);
	struct table *t = json ? NULL : table_new(7, headers);
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	while ((r = stmt_step(st)) == 1) {
		const char *q = stmt_text(st, 0);
		int64_t ga, gb;
		double ca, cb;
		if (run_totals(ctx->db, ra, q, &ga, &ca) || run_totals(ctx->db, rb, q, &gb, &cb))
			goto cleanup;
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "quarter", q);
			cJSON_AddNumberToObject(o, "gpus_a", (double)ga);
			cJSON_AddNumberToObject(o, "gpus_b", (double)gb);
			cJSON_AddNumberToObject(o, "gpus_diff", (double)(gb - ga));
			cJSON_AddNumberToObject(o, "cost_a_usd", ca);
			cJSON_AddNumberToObject(o, "cost_b_usd", cb);
			cJSON_AddNumberToObject(o, "cost_diff_usd", cb - ca);
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		table_cell(t, q);
		table_cellf(t, "%lld", (long long)ga);
		table_cellf(t, "%lld", (long long)gb);
		table_cellf(t, "%+lld", (long long)(gb - ga));
		table_cellf(t, "%.2f", ca);
		table_cellf(t, "%.2f", cb);
		table_cellf(t, "%+.2f", cb - ca);
	}
	if (r < 0)
		goto cleanup;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "a", pos[0]);
		cJSON_AddNumberToObject(o, "run_a", (double)ra);
		cJSON_AddStringToObject(o, "b", pos[1]);
		cJSON_AddNumberToObject(o, "run_b", (double)rb);
		cJSON_AddItemToObject(o, "quarters", arr);
		arr = NULL;
		print_json(o);
	} else {
		printf("A = '%s' (run %lld), B = '%s' (run %lld); DIFF = B - A\n\n", pos[0],
		       (long long)ra, pos[1], (long long)rb);
		table_print(t, stdout);
	}
	ret = 0;
cleanup:
	cJSON_Delete(arr);
	table_free(t);
	stmt_finalize(st);
	return ret;
}
