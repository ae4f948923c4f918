/*
 * scenario_run.c - one run of a scenario (see scenario_run.h).
 *
 * A run reads the scenario and everything it depends on (models, GPUs,
 * prices, engine profile, workloads, clusters), hands plain structs to the
 * planner (planner/plan.h, planner/fleet.h), and writes what it decided --
 * pools, ranked configurations, fleet per quarter, capacity, orders and
 * cost -- as rows of one savepoint, with the SHA-256 of every input it
 * read. The words of the run's notes and of each pool's decision are
 * written here.
 *
 * Workloads on one model are planned together: their requests share the
 * model's pools, instances and spares (the scenario's SLOs hold for all of
 * them). Spares (margin spares or both) are counted per GPU type across
 * every pool on it; owned GPUs are costed at their stated rate in every
 * quarter, serving or not, and the types the scenario does not list are
 * reported as unused capacity.
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
#include "schema/disagg_rows.h"
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

/* A trace shorter than this is "short": its percentiles are of few windows (a note says so). */
#define SHORT_TRACE_S 86400.0

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
	struct plan_gpu *gpus;		/* the candidates: the scenario's list */
	char **price_as_of;		/* per gpu */
	char **price_basis;		/* per gpu: how its price was chosen */
	int ngpus;
	char **unlisted;		/* owned types the scenario does not list */
	int nunlisted;
	struct input_hash *inputs;
	int ninputs;
	char **notes;			/* "kind\ttext" */
	int nnotes;
	int64_t candidates;
	struct run_store *store;	/* the run's rows; NULL until the run row exists */
	int64_t run_id;
	char today[11];			/* YYYY-MM-DD, for order-by dates already past */
	char pct[16];			/* "p99" */
};

/* A pool decided for a model's workloads. */
struct decided_pool {
	struct pool_traffic t;
	char name[24];			/* "shared", "short", "long"; "shared-prefill", ... */
	struct candidate *cands;	/* ranked; cands[0] chosen */
	int ncands;
	double shared_alternative_usd;	/* NaN when not computed */
	double split_alternative_usd;	/* NaN when none */
	char choice[240];
	char lost[600];			/* why the alternative lost; "" when there was none */
	/*
	 * P/D disaggregation (planner/disagg.h): role PD_PREFILL or PD_DECODE when
	 * it won and this is one of its two pools (cands then holds that side
	 * alone); has_dg 1 on the pool that records the decision (the aggregated
	 * pool when disaggregation lost, the prefill pool when it won).
	 */
	enum pd_role role;
	int has_dg;
	struct disagg_plan dg;
	double aggregated_usd;		/* the pool's best aggregated candidate; NaN: none */
	char mode_words[400];		/* why the loser of the two lost */
	int64_t pool_id;		/* run_pool.id once written */
	int64_t with_prefix_gpus;	/* the GPUs no_prefix_gpus compares with: this pool's,
					 * or both sides' of a disaggregated pool */
	int64_t no_prefix_gpus;		/* the pool planned without prefix-cache hits: its
					 * serving GPUs, busiest quarter; -1: not planned */
};

#define MAX_DECIDED_POOLS 4

static void add_note(struct run_state *rs, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_note(struct run_state *rs, const char *kind, const char *fmt, ...)
{
	va_list ap;
	char buf[800];
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

static int margin_utilization(const struct scenario *sc)
{
	return strcmp(sc->margin, "spares") != 0;
}

static int margin_spares(const struct scenario *sc)
{
	return strcmp(sc->margin, "utilization") != 0;
}

/* The owned GPUs of type id in each quarter of the horizon. */
static int owned_per_quarter(struct run_state *rs, const char *id, int64_t owned[],
			     double *rate)
{
	*rate = NAN;
	for (int q = 0; q < rs->sc.quarters; q++) {
		char qs[QUARTER_BUF];
		double r;
		int64_t unstated;
		quarter_format(rs->sc.start_quarter + q, qs);
		if (cluster_owned(rs->db, id, qs, &owned[q], &r, &unstated))
			return -1;
		if (isfinite(r))
			*rate = r;
	}
	return 0;
}

/*
 * The candidate GPUs: the scenario's list (or every type), with their
 * newest price of the scenario's kind; a listed type without one can serve
 * up to what is owned. Owned types the scenario does not list are kept
 * aside as unused capacity. A listed type with neither price nor owned
 * GPUs is left out.
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
		if (!rows[i].listed) {
			rs->unlisted = xrealloc(rs->unlisted,
						(size_t)(rs->nunlisted + 1) * sizeof(*rs->unlisted));
			rs->unlisted[rs->nunlisted++] = xstrdup(id);
			continue;
		}
		if (isnan(rows[i].usd_per_gpu_hour) && !rows[i].owned) {
			strbuf_addf(&unpriced, "%s%s", unpriced.len ? ", " : "", id);
			continue;
		}
		rs->gpus = xrealloc(rs->gpus, (size_t)(rs->ngpus + 1) * sizeof(*rs->gpus));
		rs->price_as_of = xrealloc(rs->price_as_of, (size_t)(rs->ngpus + 1) * sizeof(char *));
		rs->price_basis = xrealloc(rs->price_basis, (size_t)(rs->ngpus + 1) * sizeof(char *));
		struct plan_gpu *g = &rs->gpus[rs->ngpus];
		memset(g, 0, sizeof(*g));
		g->usd_per_gpu_hour = rows[i].usd_per_gpu_hour;
		rs->price_as_of[rs->ngpus] = rows[i].price_as_of ? xstrdup(rows[i].price_as_of) : NULL;
		rs->price_basis[rs->ngpus] = rows[i].price_basis ? xstrdup(rows[i].price_basis) : NULL;
		rs->ngpus++;
		double rate;
		if (load_gpu_spec(rs->db, id, &g->spec) || owned_per_quarter(rs, id, g->owned, &rate))
			goto cleanup;
		g->owned_usd_per_gpu_hour = isfinite(rate) ? rate : 0;
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

/* A workload's figures and buckets, as the planner needs them. */
struct wl_input {
	int64_t id;
	char *name, *model_id;
	struct model_arch arch;
	struct model_params params;
	struct wl_bucket *buckets;
	int nbuckets;
	double demand_rps, mean_rps;	/* at the start, before growth */
	double growth_pct;
	int64_t max_total_tokens;
	int independent, sums_estimated;
	double reuse_share;		/* measured prefix reuse; 0: not measured */
	double reuse_within[WORKLOAD_REUSE_POINTS];
	int have_reuse_within;
};

static void wl_input_free(struct wl_input *w)
{
	free(w->buckets);
	memset(w, 0, sizeof(*w));
}

/* Say which rate stands for the workload's demand, and what it rests on. */
static int choose_demand(struct run_state *rs, const struct workload_rates *wr,
			 struct wl_input *w)
{
	const char *stat = rs->sc.demand;
	double rate = workload_rate_for(wr, stat);
	w->mean_rps = wr->mean_rps;
	if (!(rate > 0) && strcmp(stat, "mean") && strcmp(stat, "peak") && wr->peak_rps > 0) {
		rate = wr->peak_rps;
		add_note(rs, "assumption", "workload %s has no distribution of windowed rates (%s); "
			 "its busiest window (%.3f req/s) stands for its %s.", w->name,
			 !strcmp(wr->format, "buckets") ? "a buckets file" :
			 isfinite(wr->span_s) && isfinite(wr->window_s) && wr->span_s < wr->window_s
				 ? "the trace is shorter than one window"
				 : "imported before piqplan measured it: re-import to have it",
			 rate, stat);
	} else if (rate > 0 && stat[0] == 'p' && strcmp(stat, "peak")) {
		char window[48];
		if (isfinite(wr->window_s))
			snprintf(window, sizeof(window), "%g-s windows", wr->window_s);
		else
			snprintf(window, sizeof(window), "its export's windows");
		if (isfinite(wr->span_s) && wr->span_s < SHORT_TRACE_S)
			add_note(rs, "assumption", "workload %s: demand is the %s of %s over a %.2f-hour "
				 "trace (%.0f windows): at that length it is its busiest few minutes "
				 "(peak %.3f req/s, mean %.3f), not a daily peak; import a day or more "
				 "to plan for the daily cycle.", w->name, stat, window,
				 wr->span_s / 3600, wr->rate_windows, wr->peak_rps, wr->mean_rps);
		else
			add_note(rs, "assumption", "workload %s: demand is the %s of %s (%.0f windows, "
				 "peak %.3f req/s, mean %.3f).", w->name, stat, window,
				 wr->rate_windows, wr->peak_rps, wr->mean_rps);
	}
	if (!(rate > 0) && wr->mean_rps > 0) {
		rate = wr->mean_rps;
		add_note(rs, "assumption", "workload %s has no %s request rate; its mean rate "
			 "(%.3f req/s) was planned for instead.", w->name, stat, rate);
	}
	if (!(rate > 0))
		return error("workload '%s' has no arrival rate (import it from timestamped "
			     "requests, or a buckets file with period or peak_rps columns)", w->name);
	if (!(w->mean_rps > 0)) {
		w->mean_rps = rate;
		add_note(rs, "assumption", "workload %s has no mean rate: token volumes and cost per "
			 "token are at its planned rate.", w->name);
	}
	w->demand_rps = rate;
	return 0;
}

static int load_workload(struct run_state *rs, const struct scenario_workload *sw,
			 struct wl_input *w)
{
	memset(w, 0, sizeof(*w));
	w->id = sw->id;
	w->name = sw->name;
	w->model_id = sw->model_id;
	w->growth_pct = sw->growth_pct;
	if (load_model_arch(rs->db, sw->model_id, &w->arch))
		return -1;
	model_params_count(&w->arch, &w->params);

	struct workload_rates wr;
	if (workload_rates(rs->db, w->id, &wr))
		return -1;
	free(wr.model_id);
	if (choose_demand(rs, &wr, w))
		return -1;
	w->max_total_tokens = wr.total_tokens_max;
	w->reuse_share = isnan(wr.prefix_reuse_share) ? 0 : wr.prefix_reuse_share;
	w->have_reuse_within = wr.have_reuse_within;
	memcpy(w->reuse_within, wr.reuse_within, sizeof(w->reuse_within));
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

/* The workloads of one model, as indices into the run's workloads. */
struct model_group {
	const char *model_id;
	const struct model_arch *arch;
	int *idx;
	int n;
};

static void plan_params_for(const struct run_state *rs, struct plan_params *p)
{
	const struct scenario *sc = &rs->sc;
	memset(p, 0, sizeof(*p));
	p->slo.quantile = sc->slo_percentile / 100;
	p->slo.ttft_s = sc->ttft_ms / 1e3;
	p->slo.long_ttft_s_per_token = sc->long_ttft_ms_per_1k / 1e6;
	p->slo.tpot_s = sc->tpot_ms / 1e3;
	p->slo.utilisation = margin_utilization(sc) ? sc->utilization : 0;
	p->spares = margin_spares(sc) ? sc->redundancy : 0;
	p->start_quarter = sc->start_quarter;
	p->quarters = sc->quarters;
	p->allow_fp8 = 1;
	p->max_model_len = sc->max_model_len;
	p->modes = 1;
	p->prefix_hit = sc->prefix_hit;
}

static void plan_workloads_for(const struct run_state *rs, const struct wl_input *wls,
			       const struct model_group *g, struct plan_workload *pw)
{
	for (int k = 0; k < g->n; k++) {
		const struct wl_input *w = &wls[g->idx[k]];
		memset(&pw[k], 0, sizeof(pw[k]));
		pw[k].b = w->buckets;
		pw[k].nb = w->nbuckets;
		pw[k].max_total_tokens = w->max_total_tokens;
		pw[k].reuse_unbounded = w->reuse_share;
		pw[k].reuse_within = w->have_reuse_within ? w->reuse_within : NULL;
		for (int q = 0; q < rs->sc.quarters; q++) {
			double f = growth_factor(w->growth_pct, q);
			pw[k].demand_rps[q] = w->demand_rps * f;
			pw[k].mean_rps[q] = w->mean_rps * f;
		}
	}
}

static void decided_free(struct decided_pool *d)
{
	free(d->cands);
	d->cands = NULL;
	d->ncands = 0;
}

/* "H200-SXM-141GB x8 (TP 1, DP 8, EP) at 8.6 req/s per instance" */
static void describe(const struct run_state *rs, const struct candidate *c, char *buf, size_t n)
{
	const struct layout *l = &c->inst.layout;
	bprintf(buf, n, "%s x%d (TP %d%s%s%s) at %.3g req/s per instance, TTFT %s %.0f ms",
		 rs->gpus[c->gpu].spec.id, c->inst.gpus, l->tp,
		 l->pp > 1 ? ", PP" : "", l->pp > 1 ? (l->pp == 2 ? " 2" : " 4") : "",
		 l->dp > 1 ? (l->ep ? ", DP+EP" : ", DP") : (l->ep ? ", EP" : ""),
		 c->rate_rps, rs->pct, c->at.ttft_s * 1e3);
}

/* Why the alternative the planner did not choose lost, in words. */
static void alternative_words(const struct run_state *rs, const struct plan_decision *d,
			      double chosen_usd, char *buf, size_t n)
{
	char a[200], b[200];
	buf[0] = '\0';
	if (d->alt_pools == 1) {
		const struct candidate *s = &d->alt[0];
		if (!s->fits) {
			bprintf(buf, n, "one shared pool cannot serve the requests: %s", s->reason);
			return;
		}
		describe(rs, s, a, sizeof(a));
		describe(rs, &d->cands[0][0], b, sizeof(b));
		bprintf(buf, n, "one shared pool would cost %.0f USD over the horizon, %.2fx the "
			 "split: its best is %s, against %s for the short requests alone -- in one "
			 "pool they would queue behind prefills of %.0f-token prompts (the long "
			 "pool's mean)", d->shared_usd, d->shared_usd / chosen_usd, a, b,
			 d->pool[1].isl);
	} else if (d->alt_pools == 2) {
		for (int k = 0; k < 2; k++)
			if (!d->alt[k].fits) {
				bprintf(buf, n, "isolating requests of %lld+ tokens fails: no "
					 "configuration serves its %s pool (%s)", (long long)d->threshold,
					 k ? "long" : "short", d->alt[k].reason);
				return;
			}
		describe(rs, &d->alt[0], a, sizeof(a));
		describe(rs, &d->alt[1], b, sizeof(b));
		bprintf(buf, n, "isolating requests of %lld+ tokens would cost %.0f USD over the "
			 "horizon, %.2fx one shared pool: short pool %s, long pool %s (spares counted "
			 "once per GPU type)", (long long)d->threshold, d->split_usd,
			 d->split_usd / chosen_usd, a, b);
	}
}

/*
 * One side of a disaggregated pair as the pool's one candidate, so the
 * fleet, capacity and cost rows are written as for any pool. Its cost is
 * its share of the pair's (by instance-hours at its price).
 */
static struct candidate *side_candidate(const struct disagg_plan *dg, const struct disagg_side *s,
					int quarters)
{
	struct candidate *c = xcalloc(1, sizeof(*c));
	const struct disagg_side *o = s == &dg->prefill ? &dg->decode : &dg->prefill;
	double mine = 0, both = 0;
	for (int q = 0; q < quarters && q < DISAGG_MAX_QUARTERS; q++) {
		mine += (double)s->instances[q] * s->usd_per_hour;
		both += (double)s->instances[q] * s->usd_per_hour +
			(double)o->instances[q] * o->usd_per_hour;
		c->instances[q] = s->instances[q];
	}
	double share = both > 0 ? mine / both : 0.5;
	c->gpu = s->gpu;
	c->inst = s->inst;
	c->fits = 1;
	c->kv_seqs = s->inst.max_num_seqs;
	c->prefix_hit = s->inst.prefix_hit;	/* the prefill side's; 0 on the decode side */
	c->prefix_retention_s = s->prefix_retention_s;
	c->rate_rps = s->rate_rps;
	c->usd_per_hour = s->usd_per_hour;
	c->serving_usd = dg->serving_usd * share;
	c->spare_usd = dg->spare_usd * share;
	c->total_usd = dg->total_usd * share;
	c->at.rate = s->rate_rps;
	c->at.utilisation = s->busy;
	c->at.capacity_rate = s->busy > 0 ? s->rate_rps / s->busy : s->rate_rps;
	c->at.running = s->inst.max_num_seqs * s->busy;
	/* What a request sees: the prefill side's TTFT (transfer included), the decode side's TPOT. */
	c->at.ttft_s = dg->prefill.ttft_s;
	c->at.tpot_s = c->at.tpot_mean_s = c->full.tpot_s = dg->decode.tpot_s;
	c->at.decode_step_s = dg->decode.tpot_s;
	snprintf(c->reason, sizeof(c->reason), "%s", s->reason);
	return c;
}

/*
 * Decide the pools of a model's workloads (planner/plan.h's plan_decide)
 * and say in words how the split was chosen and why the other way lost.
 */
static int decide_pools(struct run_state *rs, const struct model_group *g,
			const struct plan_workload *pw, const struct plan_params *p,
			struct decided_pool out[MAX_DECIDED_POOLS], int *nout)
{
	struct plan_decision d;
	static const char *const split_names[] = { "short", "long" };

	if (plan_decide(g->arch, rs->gpus, rs->ngpus, &rs->engine, pw, g->n,
			rs->sc.long_context_tokens, p, &d))
		return error("out of memory planning model '%s'", g->model_id);
	rs->candidates += d.candidates;
	if (d.forced_empty)
		add_note(rs, "warning", "model %s: the long-context threshold %lld leaves one pool "
			 "empty; one shared pool serves it.", g->model_id,
			 (long long)rs->sc.long_context_tokens);

	memset(out, 0, MAX_DECIDED_POOLS * sizeof(*out));
	*nout = d.npools;
	double chosen = 0;
	for (int k = 0; k < d.npools; k++)
		chosen += d.ncands[k] > 0 && d.cands[k][0].fits ? d.cands[k][0].total_usd : 0;
	char lost[600];
	alternative_words(rs, &d, chosen > 0 ? chosen : 1, lost, sizeof(lost));
	for (int k = 0; k < d.npools; k++) {
		struct decided_pool *o = &out[k];
		o->t = d.pool[k];
		o->cands = d.cands[k];
		o->ncands = d.ncands[k];
		o->shared_alternative_usd = d.npools == 2 ? d.shared_usd : chosen;
		o->split_alternative_usd = d.npools == 1 && d.threshold ? d.split_usd : NAN;
		snprintf(o->lost, sizeof(o->lost), "%s", lost);
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
		o->aggregated_usd = o->ncands > 0 && o->cands[0].fits ? o->cands[0].total_usd : NAN;
		o->dg = d.disagg[k];
		o->has_dg = d.disagg[k].tried;
		if (o->has_dg)
			plan_mode_words(&o->dg, o->ncands > 0 ? &o->cands[0] : NULL, p->quarters - 1,
					o->mode_words,
					sizeof(o->mode_words));
	}
	/* Pools disaggregation wins become two: the prefill pool and the decode pool. */
	int n = *nout;
	for (int k = *nout - 1; k >= 0; k--)
		if (d.disagg_wins[k])
			n++;
	for (int k = *nout - 1, at = n - 1; k >= 0; k--) {
		struct decided_pool o = out[k];
		if (!d.disagg_wins[k]) {
			out[at--] = o;
			continue;
		}
		struct decided_pool pre = o, dec = o;
		free(o.cands);
		pre.role = PD_PREFILL;
		dec.role = PD_DECODE;
		dec.has_dg = 0;
		pre.cands = side_candidate(&o.dg, &o.dg.prefill, p->quarters);
		dec.cands = side_candidate(&o.dg, &o.dg.decode, p->quarters);
		pre.ncands = dec.ncands = 1;
		snprintf(pre.name, sizeof(pre.name), "%.7s-prefill", o.name);
		snprintf(dec.name, sizeof(dec.name), "%.7s-decode", o.name);
		out[at--] = dec;
		out[at--] = pre;
	}
	*nout = n;
	return 0;
}

static const char *const precision_names[] = { "native", "bf16", "fp8", "fp4" };

/* A configuration row's layout, GPU and serving mode (mode: its buffer, for row->mode). */
static void row_layout(struct run_config_row *row, const struct instance *in,
		       const struct plan_gpu *gpu, char *mode, size_t n)
{
	const struct layout *l = &in->layout;
	row->gpu = gpu->spec.id;
	row->tp = l->tp;
	row->pp = l->pp;
	row->dp = l->dp;
	row->ep = l->ep;
	row->precision = precision_names[l->precision];
	row->kv_dtype = l->kv_elem_bytes == 1 ? "fp8" : "auto";
	row->gpus_per_instance = in->gpus;
	row->usd_per_gpu_hour = gpu->usd_per_gpu_hour;
	row->mode = plan_mode_name(l, mode, n);
	if (l->spec.method != DRAFT_NONE) {
		row->spec_method = spec_method_name(l->spec.method);
		row->spec_tokens = l->spec.tokens;
		row->spec_acceptance = l->spec.acceptance;
		row->spec_tokens_per_step = spec_expected_tokens(l->spec.acceptance, l->spec.tokens);
	}
}

/*
 * A sized configuration row's vLLM figures and performance band; kv_seqs is
 * what the KV holds (kv_max_num_seqs) beside the emitted max_num_seqs.
 */
static void row_sized(struct run_config_row *row, const struct instance *in, int kv_seqs)
{
	row->max_model_len = in->max_model_len;
	row->max_num_seqs = in->max_num_seqs;
	row->kv_max_num_seqs = kv_seqs;
	row->max_num_batched_tokens = in->max_num_batched_tokens;
	row->gpu_memory_utilization = in->gpu_memory_utilization;
	row->kv_tokens = in->kv_tokens;
	row->nodes = in->nodes;
	row->perf_profile = in->band.profile;
	row->perf_rows = in->band.rows;
	row->perf_validated = in->band.validated;
	row->perf_note = in->band.note;
	row->band_lo = in->band.rows > 0 ? in->band.ratio_lo : 0;
	row->band_hi = in->band.rows > 0 ? in->band.ratio_hi : 0;
}

/*
 * The two sides of a disaggregated pair that lost to aggregated serving, as
 * unchosen configurations of the pool (ranks after the others), with their
 * commands, so the pair can be read and started as it was weighed.
 */
static int insert_disagg_sides(struct run_state *rs, const struct model_group *g,
			       int64_t pool_id, const struct decided_pool *d, int rank)
{
	if (!d->has_dg || !d->dg.fits || d->role != PD_AGGREGATED)
		return 0;
	for (int k = 0; k < 2; k++) {
		const struct disagg_side *s = k ? &d->dg.decode : &d->dg.prefill;
		const struct instance *in = &s->inst;
		const struct plan_gpu *gpu = &rs->gpus[s->gpu];
		char why[800];
		struct launch_lines launch = { 0 };
		snprintf(why, sizeof(why), "disaggregated %s side, not chosen: %.400s; %.240s",
			 k ? "decode" : "prefill", d->mode_words, s->reason);
		launch_lines_alloc(in, g->arch, g->model_id, rs->engine.id, &launch);
		struct run_config_row row = {
			.pool_id = pool_id,
			.rank = ++rank,
			.chosen = 0,
			.fits = 1,
			.sized = 1,
			.vllm_args = launch.n > 0 ? launch.line[0] : "",
			.rate_rps = s->rate_rps,
			.output_tok_s = k ? s->rate_rps * d->t.osl : 0,
			.ttft_ms = k ? NAN : s->ttft_s * 1e3,
			.tpot_ms = k ? s->tpot_s * 1e3 : NAN,
			.total_usd = d->dg.total_usd,
			.slo_percentile = rs->sc.slo_percentile,
			.tpot_full_ms = k ? s->tpot_s * 1e3 : NAN,
			.capacity_rps = s->busy > 0 ? s->rate_rps / s->busy : s->rate_rps,
			.utilization = s->busy,
			.reason = why,
		};
		char mode[48];
		row_layout(&row, in, gpu, mode, sizeof(mode));
		row_sized(&row, in, in->max_num_seqs);
		int r = run_store_config(rs->store, &row);
		for (int n = 0; !r && n < launch.n; n++)
			r = run_store_launch(rs->store, pool_id, rank, n, launch.engine, launch.line[n]);
		launch_lines_free(&launch);
		if (!r)
			r = disagg_store_config_mode(rs->db, rs->run_id, pool_id, rank, &in->layout);
		if (r)
			return -1;
	}
	return 0;
}

static int insert_configs(struct run_state *rs, const struct model_group *g, int64_t pool_id,
			  const struct decided_pool *d, const struct plan_params *p)
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
		const struct plan_gpu *gpu = &rs->gpus[c->gpu];
		struct run_config_row row = {
			.pool_id = pool_id,
			.rank = rank,
			.chosen = i == 0 && c->fits,
			.fits = c->fits,
			.sized = in->fits,
		};
		char mode[48], next[48];
		row_layout(&row, in, gpu, mode, sizeof(mode));
		row.prefix_hit = in->fits ? c->prefix_hit : NAN;
		row.prefix_retention_s = c->prefix_retention_s;
		row.no_prefix_gpus = row.chosen && p->prefix_hit != 0 ? d->no_prefix_gpus : -1;
		int nx = row.chosen ? plan_next_mode(d->cands, d->ncands) : -1;
		if (nx > 0) {
			const struct candidate *x = &d->cands[nx];
			row.next_mode = plan_mode_name(&x->inst.layout, next, sizeof(next));
			row.next_mode_cost_usd = x->total_usd;
			for (int q = 0; q < rs->sc.quarters; q++)
				if (x->instances[q] * x->inst.gpus > row.next_mode_gpus)
					row.next_mode_gpus = x->instances[q] * x->inst.gpus;
		}
		struct launch_lines launch = { 0 };
		if (in->fits) {
			row_sized(&row, in, c->kv_seqs);
			/* The scenario's engine's commands, one per node; node 0's in vllm_args. */
			launch_lines_alloc(in, g->arch, g->model_id, rs->engine.id, &launch);
			row.vllm_args = launch.n > 0 ? launch.line[0] : "";
		}
		if (c->fits) {
			row.rate_rps = c->rate_rps;
			row.output_tok_s = c->rate_rps * d->t.osl;
			row.ttft_ms = c->at.ttft_s * 1e3;
			row.tpot_ms = c->at.tpot_s * 1e3;
			row.total_usd = c->total_usd;
			row.usd_per_mtok_output = usd_per_million_tokens(c->usd_per_hour,
									 c->rate_rps * d->t.osl);
			row.slo_percentile = rs->sc.slo_percentile;
			row.tpot_full_ms = c->full.tpot_s * 1e3;
			row.capacity_rps = c->at.capacity_rate;
			row.utilization = c->at.utilisation;
		}
		char why[800];
		if (i == 0 && c->fits && d->role != PD_AGGREGATED)
			snprintf(why, sizeof(why), "chosen: the %s side of P/D disaggregation, cheaper "
				 "than aggregated serving (%.400s); %.240s", d->role == PD_PREFILL ? "prefill" :
				 "decode", d->mode_words, c->reason);
		else if (i == 0 && c->fits)
			snprintf(why, sizeof(why), "chosen: cheapest over the horizon; %s", c->reason);
		else if (c->fits && c->total_usd <= d->cands[0].total_usd)
			snprintf(why, sizeof(why), "same cost over the horizon, ranked lower for %s; %s",
				 c->inst.gpus > d->cands[0].inst.gpus ? "more GPUs per instance"
								      : "less headroom per instance",
				 c->reason);
		else if (c->fits)
			snprintf(why, sizeof(why), "costs %.0f USD more over the horizon (%+.1f%%); %s",
				 c->total_usd - d->cands[0].total_usd,
				 d->cands[0].total_usd > 0
					 ? 100 * (c->total_usd / d->cands[0].total_usd - 1) : 100.0,
				 c->reason);
		else
			snprintf(why, sizeof(why), "cannot serve: %s", c->reason);
		row.reason = why;
		int r = run_store_config(rs->store, &row);
		for (int k = 0; !r && k < launch.n; k++)
			r = run_store_launch(rs->store, pool_id, rank, k, launch.engine, launch.line[k]);
		launch_lines_free(&launch);
		if (!r && (in->layout.role != PD_AGGREGATED || in->layout.a2a != A2A_ALLGATHER ||
			   in->layout.redundant_experts > 0))
			r = disagg_store_config_mode(rs->db, rs->run_id, pool_id, rank, &in->layout);
		if (r)
			return -1;
	}
	return insert_disagg_sides(rs, g, pool_id, d, rank);
}

/* Per quarter x GPU type: what the pools on it need and serve. */
struct capacity_acc {
	int64_t gpus;				/* serving */
	int largest_instance;			/* GPUs of the largest instance on the type */
	double input_tokens, output_tokens;	/* at the mean rate */
	double input_gpu_share_weighted;	/* sum of gpus x input time share */
	double floor_gpu_hours;
};

/* The error of a pool nothing serves, with the best candidates' reasons. */
static int unservable(const struct run_state *rs, const struct model_group *g,
		      const struct decided_pool *d)
{
	struct strbuf why = STRBUF_INIT;
	for (int i = 0; i < d->ncands && i < 3; i++)
		strbuf_addf(&why, "\n  %s x%d TP%d PP%d%s %s: %s",
			    rs->gpus[d->cands[i].gpu].spec.id, d->cands[i].inst.gpus,
			    d->cands[i].inst.layout.tp, d->cands[i].inst.layout.pp,
			    d->cands[i].inst.layout.ep ? " EP" : "",
			    precision_names[d->cands[i].inst.layout.precision], d->cands[i].reason);
	error("no configuration can serve the %s pool of model %s (max_model_len %lld) at TTFT "
	      "%s %g ms / TPOT %s %g ms on the candidate GPUs:%s", d->name, g->model_id,
	      (long long)d->t.max_model_len, rs->pct, rs->sc.ttft_ms, rs->pct, rs->sc.tpot_ms,
	      why.buf ? why.buf : "");
	strbuf_release(&why);
	return -1;
}

static int write_pool_row(struct run_state *rs, const struct model_group *g,
			  const struct wl_input *wls, const struct decided_pool *d, int64_t *pool_id)
{
	const struct pool_traffic *t = &d->t;
	struct run_pool_row pool = {
		.workload_id = wls[g->idx[0]].id,
		.pool = d->name,
		.min_total_tokens = t->min_total_tokens,
		.max_total_tokens = t->max_total_tokens,
		.request_share = t->share,
		.prompt_tokens_mean = t->isl,
		.output_tokens_mean = t->osl,
		.max_model_len = t->max_model_len,
		.threshold_choice = d->choice,
		.shared_alternative_usd = isfinite(d->shared_alternative_usd)
			? d->shared_alternative_usd : NAN,
		.model_id = g->model_id,
		.slo_class = t->long_class ? "long" : "chat",
		.slo_percentile = rs->sc.slo_percentile,
		.ttft_target_ms = rs->sc.ttft_ms,
		.tpot_target_ms = rs->sc.tpot_ms,
		.long_ttft_ms_per_1k = t->class_tokens > 0 ? rs->sc.long_ttft_ms_per_1k : NAN,
		.long_class_tokens = t->class_tokens,
		.longest_tokens = t->longest_tokens,
		.rejected_share = t->rejected_share,
		.split_alternative_usd = isfinite(d->split_alternative_usd)
			? d->split_alternative_usd : NAN,
		.alternative_lost = d->lost[0] ? d->lost : NULL,
	};
	if (run_store_pool(rs->store, &pool, pool_id))
		return -1;
	for (int k = 0; k < g->n; k++) {
		struct plan_workload pw = { wls[g->idx[k]].buckets, wls[g->idx[k]].nbuckets, 0,
					    { 0 }, { 0 }, 0, NULL };
		double share = plan_pool_share(&pw, t->min_total_tokens, t->max_total_tokens,
					       NULL, NULL);
		if (share > 0 && run_store_pool_workload(rs->store, *pool_id, wls[g->idx[k]].id,
							 share > 1 ? 1 : share))
			return -1;
	}
	if (t->rejected_share > 0)
		add_note(rs, "risk", "the %s pool of %s rejects %.3f%% of its requests: longer than "
			 "its max_model_len %lld (%s).", d->name, g->model_id, 100 * t->rejected_share,
			 (long long)t->max_model_len,
			 rs->sc.max_model_len > 0 && rs->sc.max_model_len < g->arch->max_context_tokens
				 ? "the scenario's --max-model-len" : "the model's context");
	return 0;
}

/* Each workload's part of a pool in one quarter. */
static int write_shares(struct run_state *rs, const struct model_group *g,
			const struct wl_input *wls, const struct plan_workload *pw,
			const struct decided_pool *d, int64_t pool_id, int q, const char *qs)
{
	const struct pool_traffic *t = &d->t;
	for (int k = 0; k < g->n; k++) {
		double isl, osl;
		double sent = plan_pool_share(&pw[k], t->min_total_tokens, t->max_total_tokens,
					      &isl, &osl);
		if (sent <= 0)
			continue;
		double served = sent * (1 - t->rejected_share);
		double rps = pw[k].demand_rps[q] * served, mean = pw[k].mean_rps[q] * served;
		struct run_fleet_share_row row = {
			.quarter = qs,
			.pool_id = pool_id,
			.workload_id = wls[g->idx[k]].id,
			.demand_rps = rps,
			.mean_rps = mean,
			.input_tok_s = mean * isl,
			.output_tok_s = mean * osl,
			.share = t->demand_rps[q] > 0 ? fmin(1, rps / t->demand_rps[q]) : 0,
		};
		if (run_store_fleet_share(rs->store, &row))
			return -1;
	}
	return 0;
}

static int write_disagg(struct run_state *rs, const struct plan_params *p,
			const struct decided_pool *pools, int npools);
/* A pool's name without a disaggregated side's suffix: 'long' of 'long-prefill'. */
static size_t pool_base_len(const char *name)
{
	size_t n = strlen(name);
	static const char *const sides[] = { "-prefill", "-decode" };
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(sides[i]);
		if (n > k && !strcmp(name + n - k, sides[i]))
			return n - k;
	}
	return n;
}

/* Whether pool name a has the base (first bk bytes) of b. */
static int same_base(const char *a, const char *b, size_t bk)
{
	return pool_base_len(a) == bk && !strncmp(a, b, bk);
}

/* Serving GPUs of a decided pool's chosen configuration in its busiest quarter. */
static int64_t pool_gpus(const struct decided_pool *d)
{
	int64_t most = 0;
	const struct candidate *c = &d->cands[0];
	for (int q = 0; q < PLAN_MAX_QUARTERS; q++)
		if (c->instances[q] * c->inst.gpus > most)
			most = c->instances[q] * c->inst.gpus;
	return most;
}

/*
 * What the chosen configuration of a pool assumes of the serving modes:
 * its prefix-cache hits (vLLM's V1 engine caches prefixes by default, so
 * the plan says when it counts on them, and what the same configuration
 * would need without), and its speculative decoding.
 */
static void mode_notes(struct run_state *rs, const struct model_group *g,
		       const struct decided_pool *d, const struct plan_params *p)
{
	const struct candidate *c = &d->cands[0];
	double asked = plan_prefix_asked(p, &d->t);
	if (c->prefix_hit > 0) {
		int64_t gpus = d->with_prefix_gpus >= 0 ? d->with_prefix_gpus : pool_gpus(d);
		char without[96] = "";
		if (d->no_prefix_gpus >= 0)
			snprintf(without, sizeof(without), "; planned without hits it needs %lld GPUs, "
				 "not %lld", (long long)d->no_prefix_gpus, (long long)gpus);
		add_note(rs, "assumption", "%s pool %s assumes vLLM's automatic prefix caching "
			 "(on by default) serves %.1f%% of prompt tokens: of the %.1f%% an unbounded "
			 "cache would (%s), what the KV beside its SLO batch keeps -- a freed block "
			 "stays cached %.0f s at its rate, and requests reach the instance holding "
			 "their prefix (prefix-aware routing)%s (--prefix-hit 0 plans without hits)",
			 g->model_id, d->name, 100 * c->prefix_hit, 100 * asked,
			 p->prefix_hit < 0 ? "the workloads' measured reuse" : "--prefix-hit",
			 c->prefix_retention_s, without);
	} else if (asked > 0) {
		add_note(rs, "assumption", "%s pool %s: no prefix-cache hits assumed; a cache "
			 "holding the KV beside its batch keeps none of the %.1f%% reuse", g->model_id,
			 d->name, 100 * asked);
	}
	const struct spec_decode *sp = &c->inst.layout.spec;
	if (sp->method != DRAFT_NONE)
		add_note(rs, "assumption", "%s pool %s runs speculative decoding (%s, %d draft "
			 "tokens): it assumes a per-token acceptance of %.2f, %.2f tokens a step; "
			 "acceptance depends on the traffic -- measure it (vLLM's spec-decode "
			 "metrics) and set it", g->model_id, d->name, spec_method_name(sp->method),
			 sp->tokens, sp->acceptance, spec_expected_tokens(sp->acceptance, sp->tokens));
}

static int write_pools(struct run_state *rs, const struct model_group *g,
		       const struct wl_input *wls, const struct plan_workload *pw,
		       const struct plan_params *p, struct decided_pool *pools, int npools,
		       struct capacity_acc *acc)
{
	for (int k = 0; k < npools; k++) {
		struct decided_pool *d = &pools[k];
		const struct candidate *c = &d->cands[0];
		int64_t pool_id;
		if (d->ncands == 0 || !c->fits)
			return unservable(rs, g, d);
		if (write_pool_row(rs, g, wls, d, &pool_id) || insert_configs(rs, g, pool_id, d, p))
			return -1;
		mode_notes(rs, g, d, p);

		/* GPU time split between prefill (input) and decode (output), per request. */
		double prefill_s = instance_prefill_s(&c->inst, d->t.isl);
		double running = c->at.running > 1 ? c->at.running : 1;
		double decode_s = d->t.osl * c->at.tpot_mean_s / running;
		double input_share = prefill_s + decode_s > 0 ? prefill_s / (prefill_s + decode_s) : 0;
		/* A disaggregated pair: the prefill pool serves the input, the decode pool the output. */
		double in_part = d->role == PD_DECODE ? 0 : 1, out_part = d->role == PD_PREFILL ? 0 : 1;
		if (d->role != PD_AGGREGATED)
			input_share = in_part;
		const struct plan_gpu *gpu = &rs->gpus[c->gpu];
		double peak = c->inst.compute_fp8 && gpu->spec.fp8_flops > 0 ? gpu->spec.fp8_flops
									     : gpu->spec.bf16_flops;
		double active = (double)wls[g->idx[0]].params.active;
		for (int q = 0; q < p->quarters; q++) {
			char qs[QUARTER_BUF];
			int64_t inst = c->instances[q];
			double mean = d->t.mean_rps[q];
			quarter_format(p->start_quarter + q, qs);
			if (fleet_saturated(inst, 0)) {	/* planner/fleet.h; spares come later */
				set_failure_status(EXIT_DATA);
				return error("the %s pool of model %s needs %.6g req/s in %s: %lld or more "
					     "instances, beyond what piqplan plans (lower the growth or "
					     "the quarters)", d->name, g->model_id, d->t.demand_rps[q], qs,
					     (long long)FLEET_MAX_INSTANCES);
			}
			struct run_fleet_row fleet = {
				.quarter = qs,
				.pool_id = pool_id,
				.gpu = gpu->spec.id,
				.demand_rps = d->t.demand_rps[q],
				.mean_rps = mean,
				.input_tok_s = mean * d->t.isl * in_part,
				.output_tok_s = mean * d->t.osl * out_part,
				.instances = inst,
				.gpus = inst * c->inst.gpus,
				.utilization = fleet_utilization(d->t.demand_rps[q], c->at.capacity_rate,
								 inst, 0),
				.gpus_lo = -1,
				.gpus_hi = -1,
			};
			/*
			 * The band's ends: the serving instances the same configuration
			 * needs if it sustains the rate x the p90 (fewest GPUs) or the
			 * p10 (most) of measured / predicted throughput (spares, per GPU
			 * type, do not depend on it).
			 */
			if (c->inst.band.rows > 0) {
				fleet.gpus_lo = fleet_instances(d->t.demand_rps[q],
								c->rate_rps * c->inst.band.ratio_hi, 0) *
						c->inst.gpus;
				fleet.gpus_hi = fleet_instances(d->t.demand_rps[q],
								c->rate_rps * c->inst.band.ratio_lo, 0) *
						c->inst.gpus;
			}
			if (run_store_fleet(rs->store, &fleet) ||
			    write_shares(rs, g, wls, pw, d, pool_id, q, qs))
				return -1;

			struct capacity_acc *a = &acc[q * rs->ngpus + c->gpu];
			double secs = quarter_hours(p->start_quarter + q) * 3600;
			a->gpus += inst * c->inst.gpus;
			if (inst > 0 && c->inst.gpus > a->largest_instance)
				a->largest_instance = c->inst.gpus;
			a->input_tokens += mean * d->t.isl * secs * in_part;
			a->output_tokens += mean * d->t.osl * secs * out_part;
			a->input_gpu_share_weighted += (double)(inst * c->inst.gpus) * input_share;
			a->floor_gpu_hours += compute_floor_gpu_hours(active,
				mean * (d->t.isl * in_part + d->t.osl * out_part) * secs, peak,
				rs->sc.mfu);
		}
		d->pool_id = pool_id;
	}
	return write_disagg(rs, p, pools, npools);
}

/* Each pool's disaggregated decision (run_disagg): the pair, its counts, why the loser lost. */
static int write_disagg(struct run_state *rs, const struct plan_params *p,
			const struct decided_pool *pools, int npools)
{
	char names[DISAGG_MAX_QUARTERS][QUARTER_BUF];
	const char *qn[DISAGG_MAX_QUARTERS];
	for (int q = 0; q < p->quarters && q < DISAGG_MAX_QUARTERS; q++) {
		quarter_format(p->start_quarter + q, names[q]);
		qn[q] = names[q];
	}
	for (int k = 0; k < npools; k++) {
		const struct decided_pool *d = &pools[k];
		if (!d->has_dg)
			continue;
		int won = d->role == PD_PREFILL;
		struct disagg_row row = {
			.pool_id = d->pool_id,
			.decode_pool_id = won && k + 1 < npools ? pools[k + 1].pool_id : 0,
			.chosen = won,
			.dg = &d->dg,
			.prefill_gpu = d->dg.fits ? rs->gpus[d->dg.prefill.gpu].spec.id : NULL,
			.decode_gpu = d->dg.fits ? rs->gpus[d->dg.decode.gpu].spec.id : NULL,
			.aggregated_usd = d->aggregated_usd,
			.reason = d->mode_words,
			.quarters = p->quarters,
			.quarter_names = qn,
		};
		if (disagg_store(rs->db, rs->run_id, &row))
			return -1;
	}
	return 0;
}

/* What the chosen configurations take from the owned GPUs (serving instances). */
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

/* One quarter of one GPU type, as written to run_capacity and run_cost. */
struct quarter_gpu {
	const char *gpu, *quarter, *price_as_of;
	int qi, listed;
	double price;				/* NaN: none */
	int64_t serving, spare, owned, owned_unstated, prev_shortfall;
	double owned_rate;			/* NaN: none stated */
	const struct capacity_acc *acc;		/* NULL: nothing planned on the type */
};

/* The owned and acquired rows of run_cost for one quarter of one type. */
static int write_costs(struct run_state *rs, const struct quarter_gpu *x, int64_t needed,
		       int64_t shortfall, double hours, double owned_usd, double acquired_usd)
{
	const struct capacity_acc *a = x->acc;
	double in_share = a && a->gpus ? a->input_gpu_share_weighted / (double)a->gpus : 0;
	int64_t in_service = x->owned < needed ? x->owned : needed;
	for (int k = 0; k < 2; k++) {
		int64_t gpus = k ? shortfall : x->owned, busy = k ? shortfall : in_service;
		double cost = k ? acquired_usd : owned_usd;
		double rate = k ? x->price : x->owned_rate;
		if (gpus <= 0)
			continue;
		double part = needed > 0 ? (double)busy / (double)needed : 0;
		double in_tok = a ? a->input_tokens * part : 0, out_tok = a ? a->output_tokens * part : 0;
		struct run_cost_row row = {
			.quarter = x->quarter,
			.gpu = x->gpu,
			.source = k ? "acquired" : "owned",
			.gpus = gpus,
			.gpus_in_service = busy,
			.pricing = k ? rs->sc.pricing : "owned",
			.usd_per_gpu_hour = rate,
			.price_as_of = k ? x->price_as_of : NULL,
			.hours = hours,
			.cost_usd = cost,
			.input_tokens = in_tok,
			.output_tokens = out_tok,
			.usd_per_mtok_input = in_tok > 0 ? cost * in_share / in_tok * 1e6 : NAN,
			.usd_per_mtok_output = out_tok > 0 ? cost * (1 - in_share) / out_tok * 1e6 : NAN,
			.compute_floor_usd = a ? a->floor_gpu_hours * part * (isfinite(rate) ? rate : 0)
					       : 0,
		};
		if (run_store_cost(rs->store, &row))
			return -1;
	}
	return 0;
}

static int write_quarter_gpu(struct run_state *rs, const struct quarter_gpu *x,
			     int64_t *shortfall_out)
{
	const struct capacity_acc *a = x->acc;
	int64_t needed = x->serving + x->spare;
	int64_t shortfall = fleet_shortfall(needed, x->owned);
	int64_t to_order = shortfall > x->prev_shortfall ? shortfall - x->prev_shortfall : 0;
	double hours = quarter_hours(x->qi);
	double owned_rate = isfinite(x->owned_rate) ? x->owned_rate : 0;
	double owned_usd = quarter_cost_usd(x->owned - x->owned_unstated, owned_rate, x->qi);
	double acquired_usd = shortfall > 0 && isfinite(x->price)
		? quarter_cost_usd(shortfall, x->price, x->qi) : 0;
	double cost = owned_usd + acquired_usd;
	double in_share = a && a->gpus ? a->input_gpu_share_weighted / (double)a->gpus : 0;
	int64_t in_service = x->owned < needed ? x->owned : needed;
	double busy_rate = needed > 0 ? ((double)in_service * owned_rate +
					 (double)shortfall * (isfinite(x->price) ? x->price : 0)) /
					(double)needed : 0;
	char order[11];
	struct run_capacity_row row = {
		.quarter = x->quarter,
		.gpu = x->gpu,
		.gpus_needed = needed,
		.gpus_owned = x->owned,
		.shortfall = shortfall,
		.spare_gpus = x->spare,
		.listed = x->listed,
		.pricing = rs->sc.pricing,
		.usd_per_gpu_hour = x->price,
		.price_as_of = x->price_as_of,
		.owned_usd_per_gpu_hour = x->owned_rate,
		.hours = hours,
		.cost_usd = cost,
		.input_tokens = a ? a->input_tokens : 0,
		.output_tokens = a ? a->output_tokens : 0,
		.usd_per_mtok_input = a && a->input_tokens > 0
			? cost * in_share / a->input_tokens * 1e6 : NAN,
		.usd_per_mtok_output = a && a->output_tokens > 0
			? cost * (1 - in_share) / a->output_tokens * 1e6 : NAN,
		.compute_floor_usd = a ? a->floor_gpu_hours * busy_rate : 0,
	};
	if (shortfall > 0 && !isfinite(x->price))
		add_note(rs, "risk", "%s in %s needs %lld GPUs more than the %lld owned (its "
			 "spares), and the type has no %s price: that capacity is not costed.",
			 x->gpu, x->quarter, (long long)shortfall, (long long)x->owned,
			 rs->sc.pricing);
	if (to_order > 0) {
		order_by_date(x->qi, rs->sc.lead_time_days, order);
		row.order_by = order;
	}
	*shortfall_out = shortfall;
	if (run_store_capacity(rs->store, &row) ||
	    write_costs(rs, x, needed, shortfall, hours, owned_usd, acquired_usd))
		return -1;
	if (to_order > 0 && strcmp(order, rs->today) < 0)
		return 1;	/* the caller notes it once */
	return 0;
}

/*
 * Per quarter x GPU type: need (serving + N+k spares: k x the largest
 * instance on the type) against owned, every quarter of the horizon for a
 * type used or owned in any, so orders are the shortfall's increase.
 */
static int write_capacity(struct run_state *rs, const struct capacity_acc *acc)
{
	int late_noted = 0, unstated_noted = 0;
	int spares = margin_spares(&rs->sc) ? rs->sc.redundancy : 0;
	for (int g = 0; g < rs->ngpus + rs->nunlisted; g++) {
		int listed = g < rs->ngpus;
		const char *id = listed ? rs->gpus[g].spec.id : rs->unlisted[g - rs->ngpus];
		int64_t owned[PLAN_MAX_QUARTERS], prev = 0, any = 0;
		double rate;
		if (owned_per_quarter(rs, id, owned, &rate))
			return -1;
		for (int q = 0; q < rs->sc.quarters; q++)
			any += owned[q] + (listed ? acc[q * rs->ngpus + g].gpus : 0);
		if (!any)
			continue;
		double unused_usd = 0;
		for (int q = 0; q < rs->sc.quarters; q++) {
			char qs[QUARTER_BUF];
			int64_t o, unstated;
			double r;
			quarter_format(rs->sc.start_quarter + q, qs);
			if (cluster_owned(rs->db, id, qs, &o, &r, &unstated))
				return -1;
			const struct capacity_acc *a = listed ? &acc[q * rs->ngpus + g] : NULL;
			struct quarter_gpu x = {
				.gpu = id, .quarter = qs, .qi = rs->sc.start_quarter + q,
				.listed = listed,
				.price = listed ? rs->gpus[g].usd_per_gpu_hour : NAN,
				.price_as_of = listed ? rs->price_as_of[g] : NULL,
				.serving = a ? a->gpus : 0,
				.spare = a && a->gpus > 0 ? (int64_t)spares * a->largest_instance : 0,
				.owned = o, .owned_unstated = unstated, .owned_rate = r,
				.prev_shortfall = prev, .acc = a,
			};
			int w = write_quarter_gpu(rs, &x, &prev);
			if (w < 0)
				return -1;
			if (w > 0 && !late_noted++)
				add_note(rs, "risk", "order-by dates already past (%s in %s, today is %s): "
					 "that capacity cannot arrive in time with a %d-day lead time.",
					 id, qs, rs->today, rs->sc.lead_time_days);
			if (unstated > 0 && !unstated_noted++)
				add_note(rs, "assumption", "owned GPUs without a stated --usd-per-hour are "
					 "costed at nothing; state their amortised cost for a fair "
					 "comparison.");
			if (isfinite(r))
				unused_usd += quarter_cost_usd(o - unstated, r, x.qi);
		}
		if (!listed) {
			char first[QUARTER_BUF];
			quarter_format(rs->sc.start_quarter, first);
			add_note(rs, "warning", "owned %s GPUs (%lld in %s) are not in the scenario's GPU "
				 "list: reported as unused capacity costing %.0f USD over the horizon, "
				 "not planned on; list the type to use them.", id, (long long)owned[0],
				 first, unused_usd);
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
	const char *pct = rs->pct;
	if (!strcmp(sc->demand, "mean") || !strcmp(sc->demand, "peak"))
		add_note(rs, "assumption", "demand: the workloads' %s request rate, growing %g%% per "
			 "quarter, compounded; token volumes, cost per token and the compute floor "
			 "at their mean rate.", sc->demand, sc->growth_pct);
	else
		add_note(rs, "assumption", "demand: the %s of the workloads' windowed request rates, "
			 "growing %g%% per quarter, compounded; token volumes, cost per token and "
			 "the compute floor at their mean rate. Workloads on one model share its "
			 "pools: their %s rates add up, as if their busiest windows coincided.",
			 sc->demand, sc->growth_pct, sc->demand);
	add_note(rs, "assumption", "SLOs at %s of requests: TTFT at most %g ms (slot and "
		 "prefill queueing plus the prompt's own prefill), TPOT at most %g ms (each "
		 "request's mean time per output token under chunked prefill); a long pool's "
		 "requests (the long class) have TTFT at most max(%g ms, %g ms per 1,000 prompt "
		 "tokens). Engine %s %s.", pct, sc->ttft_ms, sc->tpot_ms, sc->ttft_ms,
		 sc->long_ttft_ms_per_1k, rs->engine.id, rs->engine.version);
	if (!strcmp(sc->margin, "utilization"))
		add_note(rs, "assumption", "margin: instances planned at most %g busy (requests/s "
			 "over capacity at the SLO batch); no spare instances.", sc->utilization);
	else if (!strcmp(sc->margin, "spares"))
		add_note(rs, "assumption", "margin: N+%d spare instances per GPU type across pools "
			 "(%d x the largest instance on the type); instances run as busy as the "
			 "SLOs allow.", sc->redundancy, sc->redundancy);
	else
		add_note(rs, "assumption", "margin: both -- instances planned at most %g busy, and "
			 "N+%d spare instances per GPU type across pools (%d x the largest instance "
			 "on the type).", sc->utilization, sc->redundancy, sc->redundancy);
	add_note(rs, "assumption", "max_num_seqs is the SLO batch: the largest running batch "
		 "whose TPOT %s meets the target (at most what the KV holds); a burst beyond it "
		 "queues for a slot and shows in TTFT, not TPOT.", pct);
	add_note(rs, "assumption", "pipeline parallelism is kept only where it beats twice the "
		 "TP on the same GPUs in every load shape (offline, closed loop, open loop): TP "
		 "inside a node, PP across nodes.");
	for (int g = 0; g < rs->ngpus; g++) {
		if (!isnan(rs->gpus[g].usd_per_gpu_hour))
			add_note(rs, "assumption", "%s priced %s at %.3f USD/GPU-hour: %s.",
				 rs->gpus[g].spec.id, sc->pricing, rs->gpus[g].usd_per_gpu_hour,
				 rs->price_basis[g]);
		else
			add_note(rs, "assumption", "%s has no %s price: only the GPUs owned can be "
				 "used.", rs->gpus[g].spec.id, sc->pricing);
	}
	add_note(rs, "risk", "prices go stale: check the as-of dates above before ordering.");
	add_note(rs, "assumption", "throughput and latency come from piqplan's roofline model "
		 "with the engine's fitted efficiencies, not from a benchmark of this deployment.");
	add_note(rs, "assumption", "owned GPUs cost their stated rate every quarter, serving or "
		 "not; the plan uses them first (they add nothing), model by model in name order, "
		 "and acquires the rest at the scenario's price.");
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
	for (int i = 0; i < rs->ngpus; i++) {
		free(rs->price_as_of[i]);
		free(rs->price_basis[i]);
	}
	free(rs->price_as_of);
	free(rs->price_basis);
	free(rs->gpus);
	for (int i = 0; i < rs->nunlisted; i++)
		free(rs->unlisted[i]);
	free(rs->unlisted);
	scenario_free(&rs->sc);
}

/* Plan one model's workloads: pools, configurations, fleet rows. */
static int plan_model(struct run_state *rs, const struct wl_input *wls, const struct model_group *g,
		      struct capacity_acc *acc)
{
	struct plan_params p;
	struct decided_pool pools[MAX_DECIDED_POOLS];
	int npools = 0;
	struct plan_workload *pw = xcalloc((size_t)g->n, sizeof(*pw));
	plan_params_for(rs, &p);
	p.model_id = g->model_id;
	plan_workloads_for(rs, wls, g, pw);
	int ret = decide_pools(rs, g, pw, &p, pools, &npools);
	for (int k = 0; k < npools; k++)
		pools[k].no_prefix_gpus = pools[k].with_prefix_gpus = -1;
	/*
	 * When the plan counts on prefix-cache hits, plan the model once more
	 * without them: what the hits save is the difference (run_config
	 * no_prefix_gpus, a note), for pools of the same name.
	 */
	int hits = 0;
	for (int k = 0; !ret && k < npools; k++)
		hits |= pools[k].ncands > 0 && pools[k].cands[0].fits &&
			pools[k].cands[0].prefix_hit > 0;
	if (!ret && hits) {
		struct plan_params p0 = p;
		struct decided_pool none[MAX_DECIDED_POOLS];
		int nnone = 0;
		p0.prefix_hit = 0;
		if (decide_pools(rs, g, pw, &p0, none, &nnone) == 0) {
			/*
			 * Pools match by name without a disaggregated side's suffix
			 * ('long' against 'long-prefill' + 'long-decode'): the first
			 * pool of a name carries both totals.
			 */
			for (int k = 0; k < npools; k++) {
				size_t bk = pool_base_len(pools[k].name);
				int first = 1;
				for (int i = 0; i < k; i++)
					first &= !same_base(pools[i].name, pools[k].name, bk);
				if (!first)
					continue;
				int64_t with = 0, without = 0;
				int found = 0;
				for (int i = k; i < npools; i++)
					if (same_base(pools[i].name, pools[k].name, bk) &&
					    pools[i].ncands > 0 && pools[i].cands[0].fits)
						with += pool_gpus(&pools[i]);
				for (int j = 0; j < nnone; j++)
					if (same_base(none[j].name, pools[k].name, bk) &&
					    none[j].ncands > 0 && none[j].cands[0].fits) {
						without += pool_gpus(&none[j]);
						found = 1;
					}
				if (found) {
					pools[k].no_prefix_gpus = without;
					pools[k].with_prefix_gpus = with;
				}
			}
		}
		for (int j = 0; j < nnone; j++)
			decided_free(&none[j]);
	}
	if (!ret)
		ret = write_pools(rs, g, wls, pw, &p, pools, npools, acc);
	if (!ret)
		take_owned(rs, pools, npools);
	for (int k = 0; k < npools; k++)
		decided_free(&pools[k]);
	free(pw);
	return ret;
}

/* Group the workloads by model, in the order the models first appear (by workload name). */
static int group_by_model(const struct wl_input *wls, int n, struct model_group *groups)
{
	int ng = 0;
	for (int i = 0; i < n; i++) {
		int k;
		for (k = 0; k < ng && strcmp(groups[k].model_id, wls[i].model_id); k++)
			;
		if (k == ng) {
			groups[ng].model_id = wls[i].model_id;
			groups[ng].arch = &wls[i].arch;
			groups[ng].idx = xcalloc((size_t)n, sizeof(int));
			groups[ng].n = 0;
			ng++;
		}
		groups[k].idx[groups[k].n++] = i;
	}
	return ng;
}

/* The run itself, inside the caller's savepoint. */
static int run(struct run_state *rs, const char *name)
{
	struct capacity_acc *acc = NULL;
	struct wl_input *wls = NULL;
	struct model_group *groups = NULL;
	int ngroups = 0;
	double t0 = now_ms();
	int ret = -1;

	int64_t sid = scenario_lookup(rs->db, name);
	if (sid < 0 || scenario_load(rs->db, sid, &rs->sc))
		return -1;
	slo_percentile_name(rs->sc.slo_percentile / 100, rs->pct);
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
	for (int i = 0; i < rs->sc.nworkloads; i++)
		if (load_workload(rs, &rs->sc.workloads[i], &wls[i]))
			goto cleanup;
	groups = xcalloc((size_t)rs->sc.nworkloads, sizeof(*groups));
	ngroups = group_by_model(wls, rs->sc.nworkloads, groups);
	for (int k = 0; k < ngroups; k++)
		if (plan_model(rs, wls, &groups[k], acc))
			goto cleanup;
	char overall[65];
	if (write_capacity(rs, acc) || write_inputs_and_notes(rs, overall) ||
	    run_store_finish(rs->store, overall, rs->candidates, now_ms() - t0))
		goto cleanup;
	ret = 0;
cleanup:
	for (int k = 0; k < ngroups; k++)
		free(groups[k].idx);
	free(groups);
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
