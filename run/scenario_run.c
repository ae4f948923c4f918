/*
 * scenario_run.c - one run of a scenario (see scenario_run.h).
 *
 * A run reads the scenario and everything it depends on (models, GPUs,
 * prices, engine profile, workloads, clusters), hands plain structs to the
 * planner (planner/plan.h, planner/fleet.h), and writes what it decided --
 * pools, ranked configurations, fleet per quarter, capacity and cost --
 * as rows of one savepoint, with the SHA-256 of every input it read. The
 * words of the run's notes and of each pool's decision are written here.
 */
#define _POSIX_C_SOURCE 200809L
#include "run/scenario_run.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "planner/fleet.h"
#include "planner/plan.h"
#include "run/vllm_args.h"
#include "schema/catalog.h"
#include "schema/db.h"
#include "schema/load.h"
#include "schema/lookup.h"
#include "schema/run_rows.h"
#include "schema/scenario.h"
#include "schema/workload.h"

#include <cjson/cJSON.h>
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
	struct run_store *store;	/* the run's rows; NULL until the run row exists */
	int64_t run_id;
	char today[11];			/* YYYY-MM-DD, for order-by dates already past */
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

static void add_input_sha(struct run_state *rs, const char *kind, const char *name,
			  const char hex[65])
{
	for (int i = 0; i < rs->ninputs; i++)
		if (!strcmp(rs->inputs[i].kind, kind) && !strcmp(rs->inputs[i].name, name))
			return;
	rs->inputs = xrealloc(rs->inputs, (size_t)(rs->ninputs + 1) * sizeof(*rs->inputs));
	struct input_hash *in = &rs->inputs[rs->ninputs++];
	snprintf(in->kind, sizeof(in->kind), "%s", kind);
	in->name = xstrdup(name);
	memcpy(in->sha, hex, sizeof(in->sha));
}

/* An input the run read as text (the scenario's settings). */
static void add_input(struct run_state *rs, const char *kind, const char *name,
		      const char *text, size_t len)
{
	struct sha256 h;
	char hex[65];
	sha256_init(&h);
	sha256_update(&h, text, len);
	sha256_final_hex(&h, hex);
	add_input_sha(rs, kind, name, hex);
}

/* An input the run read as rows (schema/run_rows.h says which). */
static int hash_input(struct run_state *rs, const char *kind, const char *name,
		      enum run_input_kind what, const char *key)
{
	char hex[65];
	if (run_input_sha256(rs->db, what, key, hex))
		return -1;
	add_input_sha(rs, kind, name, hex);
	return 0;
}

/*
 * The candidate GPUs: the scenario's (or every type), with their newest
 * price of the scenario's kind, plus every type the team owns (usable up to
 * what is owned even without a price). A type with neither is left out.
 */
static int load_gpus(struct run_state *rs)
{
	struct run_gpu_row *rows = NULL;
	int nrows = 0, ret = -1;
	struct strbuf unpriced = STRBUF_INIT;

	if (run_gpu_rows(rs->db, rs->sc.id, rs->sc.pricing, &rows, &nrows))
		return -1;
	for (int i = 0; i < nrows; i++) {
		const char *id = rows[i].id;
		if (isnan(rows[i].usd_per_gpu_hour) && !rows[i].owned) {
			strbuf_addf(&unpriced, "%s%s", unpriced.len ? ", " : "", id);
			continue;
		}
		rs->gpus = xrealloc(rs->gpus, (size_t)(rs->ngpus + 1) * sizeof(*rs->gpus));
		rs->price_as_of = xrealloc(rs->price_as_of, (size_t)(rs->ngpus + 1) * sizeof(char *));
		struct plan_gpu *g = &rs->gpus[rs->ngpus];
		memset(g, 0, sizeof(*g));
		g->usd_per_gpu_hour = rows[i].usd_per_gpu_hour;
		rs->price_as_of[rs->ngpus] = rows[i].price_as_of ? xstrdup(rows[i].price_as_of) : NULL;
		rs->ngpus++;
		if (load_gpu_spec(rs->db, id, &g->spec))
			goto cleanup;
		for (int q = 0; q < rs->sc.quarters; q++) {
			char qs[QUARTER_BUF];
			double rate;
			int unstated;
			quarter_format(rs->sc.start_quarter + q, qs);
			if (cluster_owned(rs->db, id, qs, &g->owned[q], &rate, &unstated))
				goto cleanup;
			if (isfinite(rate))
				g->owned_usd_per_gpu_hour = rate;
		}
		char *pname = xasprintf("%s %s", id, rs->sc.pricing);
		int h = hash_input(rs, "gpu", id, RUN_INPUT_GPU, id) ||
			hash_input(rs, "price", pname, RUN_INPUT_PRICES, id);
		free(pname);
		if (h)
			goto cleanup;
	}
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
	run_gpu_rows_free(rows, nrows);
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

	struct workload_rates wr;
	if (workload_rates(rs->db, w->id, &wr))
		return -1;
	free(wr.model_id);
	double rate[2] = { wr.peak_rps, wr.mean_rps };
	int want = rs->sc.demand_peak ? 0 : 1, other = 1 - want;
	if (rate[want] > 0) {
		w->base_rps = rate[want];
	} else if (rate[other] > 0) {
		w->base_rps = rate[other];
		add_note(rs, "assumption", "workload %s has no %s request rate; its %s rate "
			 "(%.3f req/s) was planned for instead.", w->name,
			 want ? "mean" : "peak", want ? "peak" : "mean", w->base_rps);
	} else {
		return error("workload '%s' has no arrival rate (import it from timestamped "
			     "requests, or a buckets file with period or peak_rps columns)", w->name);
	}
	w->p999_total = wr.total_tokens_p999;
	w->independent = wr.independent_marginals;
	w->sums_estimated = wr.sums_estimated;

	if (load_workload_buckets(rs->db, w->id, w->name, &w->buckets, &w->nbuckets))
		return -1;

	if (hash_input(rs, "model", w->model_id, RUN_INPUT_MODEL, w->model_id) ||
	    hash_input(rs, "workload", w->name, RUN_INPUT_WORKLOAD, w->name))
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
	int rank = 0, infeasible = 0;
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
		struct run_config_row row = {
			.pool_id = pool_id,
			.rank = rank,
			.chosen = i == 0 && c->fits,
			.fits = c->fits,
			.gpu = g->spec.id,
			.tp = in->layout.tp,
			.pp = in->layout.pp,
			.dp = in->layout.dp,
			.ep = in->layout.ep,
			.precision = precision_names[in->layout.precision],
			.kv_dtype = in->layout.kv_elem_bytes == 1 ? "fp8" : "auto",
			.gpus_per_instance = in->gpus,
			.usd_per_gpu_hour = g->usd_per_gpu_hour,
			.sized = in->fits,
		};
		char *cmd = NULL;
		if (in->fits) {
			row.max_model_len = in->max_model_len;
			row.max_num_seqs = in->max_num_seqs;
			row.max_num_batched_tokens = in->max_num_batched_tokens;
			row.gpu_memory_utilization = in->gpu_memory_utilization;
			row.kv_tokens = in->kv_tokens;
			char *args = vllm_args_alloc(in, &w->arch, w->model_id);
			row.vllm_args = cmd = xasprintf("vllm serve %s", args);
			free(args);
		}
		if (c->fits) {
			row.rate_rps = c->rate_rps;
			row.output_tok_s = c->rate_rps * d->t.osl;
			row.ttft_ms = c->at.ttft_s * 1e3;
			row.tpot_ms = c->at.tpot_s * 1e3;
			row.total_usd = c->total_usd;
			row.usd_per_mtok_output = usd_per_million_tokens(c->usd_per_hour,
									 c->rate_rps * d->t.osl);
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
		row.reason = why;
		int r = run_store_config(rs->store, &row);
		free(cmd);
		if (r)
			return -1;
	}
	return 0;
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
			return -1;
		}
		struct run_pool_row pool = {
			.workload_id = w->id,
			.pool = d->name,
			.min_total_tokens = d->t.min_total_tokens,
			.max_total_tokens = d->t.max_total_tokens,
			.request_share = d->t.share,
			.prompt_tokens_mean = d->t.isl,
			.output_tokens_mean = d->t.osl,
			.max_model_len = d->t.max_model_len,
			.threshold_choice = d->choice,
			.shared_alternative_usd = isfinite(d->shared_alternative_usd)
				? d->shared_alternative_usd : NAN,
		};
		int64_t pool_id;
		if (run_store_pool(rs->store, &pool, &pool_id) || insert_configs(rs, w, pool_id, d))
			return -1;

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
			if (fleet_saturated(inst, p->redundancy)) {	/* planner/fleet.h */
				set_failure_status(EXIT_DATA);
				return error("the %s pool of workload '%s' needs %.6g req/s in %s: %lld or "
					     "more instances, beyond what piqplan plans (lower the growth "
					     "or the quarters)", d->name, w->name, rps, qs,
					     (long long)FLEET_MAX_INSTANCES);
			}
			struct run_fleet_row fleet = {
				.quarter = qs,
				.pool_id = pool_id,
				.gpu = g->spec.id,
				.demand_rps = rps,
				.input_tok_s = rps * d->t.isl,
				.output_tok_s = rps * d->t.osl,
				.instances = inst,
				.gpus = inst * c->inst.gpus,
				.utilization = fleet_utilization(rps, c->rate_rps, inst, p->redundancy),
			};
			if (run_store_fleet(rs->store, &fleet))
				return -1;

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
	return 0;
}

static int write_capacity(struct run_state *rs, struct capacity_acc *acc)
{
	const char *today = rs->today;
	int unstated_noted = 0, late_noted = 0;
	for (int q = 0; q < rs->sc.quarters; q++) {
		int qi = rs->sc.start_quarter + q;
		char qs[QUARTER_BUF], order[11];
		quarter_format(qi, qs);
		for (int g = 0; g < rs->ngpus; g++) {
			struct capacity_acc *a = &acc[q * rs->ngpus + g];
			int64_t owned;
			double owned_rate;
			int unstated;
			if (cluster_owned(rs->db, rs->gpus[g].spec.id, qs, &owned, &owned_rate,
					  &unstated))
				return -1;
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
			struct run_capacity_row row = {
				.quarter = qs,
				.gpu = rs->gpus[g].spec.id,
				.gpus_needed = a->gpus,
				.gpus_owned = owned,
				.shortfall = shortfall,
				.pricing = rs->sc.pricing,
				.usd_per_gpu_hour = rs->gpus[g].usd_per_gpu_hour,
				.price_as_of = rs->price_as_of[g],
				.owned_usd_per_gpu_hour = isfinite(owned_rate) ? owned_rate : NAN,
				.hours = hours,
				.cost_usd = cost,
				.input_tokens = a->input_tokens,
				.output_tokens = a->output_tokens,
				.usd_per_mtok_input = a->input_tokens > 0
					? cost * in_share / a->input_tokens * 1e6 : NAN,
				.usd_per_mtok_output = a->output_tokens > 0
					? cost * (1 - in_share) / a->output_tokens * 1e6 : NAN,
				.compute_floor_usd = a->floor_gpu_hours * rate,
			};
			if (shortfall > 0) {
				order_by_date(qi, rs->sc.lead_time_days, order);
				row.order_by = order;
				if (strcmp(order, today) < 0 && !late_noted++)
					add_note(rs, "risk", "order-by dates already past (%s for %s in %s, "
						 "today is %s): that capacity cannot arrive in time with a "
						 "%d-day lead time.", order, rs->gpus[g].spec.id, qs, today,
						 rs->sc.lead_time_days);
			}
			if (run_store_capacity(rs->store, &row))
				return -1;
		}
	}
	return 0;
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
	qsort(rs->inputs, (size_t)rs->ninputs, sizeof(*rs->inputs), by_kind_name);
	sha256_init(&h);
	for (int i = 0; i < rs->ninputs; i++) {
		struct input_hash *x = &rs->inputs[i];
		sha256_update(&h, x->kind, strlen(x->kind) + 1);
		sha256_update(&h, x->name, strlen(x->name) + 1);
		sha256_update(&h, x->sha, 64);
		if (run_store_input(rs->store, x->kind, x->name, x->sha))
			return -1;
	}
	sha256_final_hex(&h, overall);
	for (int i = 0; i < rs->nnotes; i++) {
		char *tab = strchr(rs->notes[i], '\t');
		*tab = '\0';
		int r = run_store_note(rs->store, i + 1, rs->notes[i], tab + 1);
		*tab = '\t';
		if (r)
			return -1;
	}
	return 0;
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

/* The run itself, inside the caller's savepoint. */
static int run(struct run_state *rs, const char *name)
{
	struct capacity_acc *acc = NULL;
	struct wl_input *wls = NULL;
	double t0 = now_ms();
	int ret = -1;

	int64_t sid = scenario_lookup(rs->db, name);
	if (sid < 0 || scenario_load(rs->db, sid, &rs->sc))
		return -1;
	if (rs->sc.nworkloads == 0) {
		error("scenario '%s' has no workloads (piqplan scenario set %s --workload W)",
		      rs->sc.name, rs->sc.name);
		goto cleanup;
	}
	if (load_engine_profile(rs->db, rs->sc.engine, &rs->engine) || load_gpus(rs))
		goto cleanup;
	cJSON *sj = scenario_json(&rs->sc);
	char *sjs = cJSON_PrintUnformatted(sj);
	cJSON_Delete(sj);
	add_input(rs, "scenario", rs->sc.name, sjs, strlen(sjs));
	if (hash_input(rs, "engine", rs->sc.engine, RUN_INPUT_ENGINE, rs->sc.engine) ||
	    hash_input(rs, "cluster", "all", RUN_INPUT_CLUSTERS, NULL)) {
		free(sjs);
		goto cleanup;
	}
	rs->store = run_store_begin(rs->db, sid, PIQPLAN_VERSION, sjs);
	free(sjs);
	if (!rs->store)
		goto cleanup;
	rs->run_id = run_store_id(rs->store);
	standing_notes(rs);

	acc = xcalloc((size_t)(rs->sc.quarters * rs->ngpus), sizeof(*acc));
	wls = xcalloc((size_t)rs->sc.nworkloads, sizeof(*wls));
	for (int i = 0; i < rs->sc.nworkloads; i++) {
		struct scenario_workload *sw = &rs->sc.workloads[i];
		struct plan_params p;
		struct decided_pool pools[2];
		int npools = 0;
		if (load_workload(rs, sw, &wls[i]))
			goto cleanup;
		plan_params_for(rs, sw, &wls[i], &p);
		if (decide_pools(rs, &wls[i], &p, pools, &npools))
			goto cleanup;
		int w = write_pools(rs, &wls[i], &p, pools, npools, acc);
		if (!w)
			take_owned(rs, pools, npools);
		for (int k = 0; k < npools; k++)
			decided_free(&pools[k]);
		if (w)
			goto cleanup;
	}
	char overall[65];
	if (write_capacity(rs, acc) || write_inputs_and_notes(rs, overall) ||
	    run_store_finish(rs->store, overall, rs->candidates, now_ms() - t0))
		goto cleanup;
	ret = 0;
cleanup:
	if (wls)
		for (int i = 0; i < rs->sc.nworkloads; i++)
			wl_input_free(&wls[i]);
	free(wls);
	free(acc);
	return ret;
}

int scenario_run(struct db *db, const struct run_request *req, struct run_result *out)
{
	struct run_state rs = { 0 };
	int ret = -1;

	rs.db = db;
	if (req->today) {
		snprintf(rs.today, sizeof(rs.today), "%s", req->today);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(rs.today, sizeof(rs.today), "%Y-%m-%d", &tm);
	}
	if (db_savepoint(db))
		return -1;
	if (run(&rs, req->scenario) == 0 && db_release(db) == 0) {
		out->run_id = rs.run_id;
		out->candidates = rs.candidates;
		ret = 0;
	} else {
		db_rollback_to(db);
	}
	run_store_free(rs.store);
	run_state_free(&rs);
	return ret;
}
