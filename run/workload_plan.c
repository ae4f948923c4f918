/*
 * workload_plan.c - see workload_plan.h: load the workload, its model, the
 * engine and the candidate GPUs (schema/), plan one pool (planner/plan.h)
 * and rank what came back.
 */
#define _POSIX_C_SOURCE 200809L
#include "run/workload_plan.h"
#include "lib/util.h"
#include "planner/fleet.h"
#include "schema/load.h"
#include "schema/lookup.h"
#include "schema/run_rows.h"
#include "schema/workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double workload_plan_usd_per_m_output(const struct candidate *c, double osl)
{
	return c->usd_per_hour / (c->rate_rps * osl * 3600) * 1e6;
}

double workload_plan_fleet_usd_per_m_output(const struct workload_plan *w,
					    const struct candidate *c)
{
	return (double)c->instances[0] * c->usd_per_hour /
	       (w->mean_rps * w->pool.osl * 3600) * 1e6;
}

/*
 * Cheapest fleet for the demand first; among equals (one instance serves a
 * small demand whichever is chosen) cheapest per output token at its rate:
 * one pool has one mean output length, so that orders as USD per hour /
 * request rate.
 */
static int by_usd_per_token(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	if (a->fits != b->fits)
		return b->fits - a->fits;
	if (!a->fits)
		return a->order - b->order;
	double fa = (double)a->instances[0] * a->usd_per_hour;
	double fb = (double)b->instances[0] * b->usd_per_hour;
	if (fa != fb)
		return fa < fb ? -1 : 1;
	double x = a->usd_per_hour / a->rate_rps, y = b->usd_per_hour / b->rate_rps;
	if (x != y)
		return x < y ? -1 : 1;
	if (a->inst.gpus != b->inst.gpus)
		return a->inst.gpus - b->inst.gpus;
	return a->order - b->order;
}

/*
 * The rate the demand statistic names, falling back as a scenario run
 * does: a percentile not measured -> the peak -> the mean.
 */
static void choose_demand(const struct workload_rates *wr, const char *stat,
			  struct workload_plan *w)
{
	double rate = workload_rate_for(wr, stat);
	snprintf(w->demand, sizeof(w->demand), "%s", stat);
	if (!(rate > 0) && wr->peak_rps > 0) {
		rate = wr->peak_rps;
		snprintf(w->demand, sizeof(w->demand), "peak");
	}
	if (!(rate > 0) && wr->mean_rps > 0) {
		rate = wr->mean_rps;
		snprintf(w->demand, sizeof(w->demand), "mean");
	}
	w->demand_rps = rate > 0 ? rate : 0;
	w->mean_rps = wr->mean_rps > 0 ? wr->mean_rps : w->demand_rps;
}

static int load_input(struct db *db, const char *name, const char *demand,
		      struct workload_plan *w, int64_t *max_total, struct wl_bucket **buckets,
		      int *nbuckets)
{
	struct workload_rates wr;
	int64_t id;
	int r = workload_find(db, name, &id);

	if (r <= 0)
		return r < 0 ? -1 : error("unknown workload '%s'", name);
	if (workload_rates(db, id, &wr))
		return -1;
	w->name = xstrdup(name);
	w->model_id = wr.model_id;
	*max_total = wr.total_tokens_max;
	w->reuse_share = isnan(wr.prefix_reuse_share) ? 0 : wr.prefix_reuse_share;
	w->have_reuse_within = wr.have_reuse_within;
	memcpy(w->reuse_within, wr.reuse_within, sizeof(w->reuse_within));
	choose_demand(&wr, demand ? demand : "p99", w);
	if (!(w->demand_rps > 0))
		return error("workload '%s' has no arrival rate (import it from timestamped "
			     "requests, or a buckets file with period or peak_rps columns)", name);
	if (load_model_arch(db, w->model_id, &w->arch))
		return -1;
	return load_workload_buckets(db, id, name, buckets, nbuckets);
}

/* Is `id` in the comma-separated list (NULL: every GPU)? */
static int listed(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, id, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/*
 * The candidate GPUs with their newest on-demand price. --gpus names are
 * resolved as everywhere else (exact id, case, unique prefix).
 */
static int load_gpus(struct db *db, const char *gpus_opt, struct plan_gpu **out, int *nout)
{
	struct strbuf want = STRBUF_INIT, unpriced = STRBUF_INIT;
	struct run_gpu_row *rows = NULL;
	int nrows = 0, ret = -1;

	*out = NULL;
	*nout = 0;
	if (gpus_opt) {
		char *copy = xstrdup(gpus_opt), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *id = lookup_gpu(db, t);
			if (!id) {
				free(copy);
				goto cleanup;
			}
			strbuf_addf(&want, "%s%s", want.len ? "," : "", id);
			free(id);
		}
		free(copy);
		if (!want.len) {
			error("--gpus: expected one or more GPU ids separated by commas");
			goto cleanup;
		}
	}
	if (run_gpu_rows(db, -1, "on-demand", &rows, &nrows))
		goto cleanup;
	for (int i = 0; i < nrows; i++) {
		const char *id = rows[i].id;
		if (want.len && !listed(want.buf, id))
			continue;
		if (isnan(rows[i].usd_per_gpu_hour)) {
			strbuf_addf(&unpriced, "%s%s", unpriced.len ? ", " : "", id);
			continue;
		}
		*out = xrealloc(*out, (size_t)(*nout + 1) * sizeof(**out));
		struct plan_gpu *g = &(*out)[*nout];
		memset(g, 0, sizeof(*g));	/* nothing owned: plan prices every GPU */
		g->usd_per_gpu_hour = rows[i].usd_per_gpu_hour;
		if (load_gpu_spec(db, id, &g->spec))
			goto cleanup;
		(*nout)++;
	}
	if (unpriced.len)
		warning("no on-demand price for %s: left out (add one with 'piqplan price add')",
			unpriced.buf);
	if (*nout == 0) {
		error("no candidate GPU has an on-demand price");
		goto cleanup;
	}
	ret = 0;
cleanup:
	run_gpu_rows_free(rows, nrows);
	strbuf_release(&want);
	strbuf_release(&unpriced);
	return ret;
}

static int current_quarter(void)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	return (tm.tm_year + 1900) * 4 + tm.tm_mon / 3;
}

/* The part of a reason that does not vary with the figures: up to the first digit. */
static size_t reason_stem(const char *s)
{
	size_t n = strcspn(s, "0123456789");
	return n > 0 ? n : strlen(s);
}

/* Distinct reasons among the infeasible candidates, most frequent first. */
static int collect_reasons(const struct candidate *c, int n, struct workload_plan_reason *rc,
			   int max)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (c[i].fits)
			continue;
		size_t stem = reason_stem(c[i].reason);
		int j;
		for (j = 0; j < k; j++)
			if (reason_stem(rc[j].reason) == stem && !strncmp(rc[j].reason, c[i].reason,
									  stem))
				break;
		if (j < k) {
			rc[j].count++;
		} else if (k < max) {
			rc[k].reason = c[i].reason;
			rc[k++].count = 1;
		}
	}
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && rc[j].count > rc[j - 1].count; j--) {
			struct workload_plan_reason t = rc[j];
			rc[j] = rc[j - 1];
			rc[j - 1] = t;
		}
	return k;
}

int workload_plan(struct db *db, const struct workload_plan_request *req,
		  struct workload_plan *w)
{
	struct wl_bucket *buckets = NULL;
	int nbuckets = 0, ret = -1;
	int64_t max_total = 0;
	struct pool_traffic pool[2];
	struct plan_params p;

	memset(w, 0, sizeof(*w));
	if (load_input(db, req->workload, req->demand, w, &max_total, &buckets, &nbuckets) ||
	    load_engine_profile(db, req->engine, &w->engine) ||
	    load_gpus(db, req->gpus, &w->gpus, &w->ngpus))
		goto cleanup;

	/* The engine flags asked for become the profile's own defaults for this plan. */
	if (req->max_num_seqs > 0)
		w->engine.max_num_seqs_large = w->engine.max_num_seqs_small = req->max_num_seqs;
	if (req->max_num_batched_tokens > 0)
		w->engine.max_num_batched_tokens_large = w->engine.max_num_batched_tokens_small =
			req->max_num_batched_tokens;
	w->engine.block_size_flag = req->block_size;
	w->engine.enforce_eager = req->enforce_eager;

	memset(&p, 0, sizeof(p));
	p.slo.quantile = (req->slo_percentile > 0 ? req->slo_percentile : 99) / 100;
	p.slo.ttft_s = req->ttft_ms / 1e3;
	p.slo.tpot_s = req->tpot_ms / 1e3;
	p.slo.utilisation = req->utilization;
	p.start_quarter = current_quarter();
	p.quarters = 1;
	p.allow_fp8 = 1;
	p.max_model_len = req->max_model_len;
	struct plan_workload pw = { buckets, nbuckets, max_total, { w->demand_rps },
				    { w->mean_rps }, w->reuse_share,
				    w->have_reuse_within ? w->reuse_within : NULL };
	p.modes = 1;
	p.model_id = w->model_id;
	p.prefix_hit = req->prefix_hit;
	plan_pools(&pw, 1, 0, 0, w->arch.max_context_tokens, &p, pool);
	w->pool = pool[0];
	w->ncands = plan_pool(&w->arch, w->gpus, w->ngpus, &w->engine, &w->pool, &p, &w->cands);
	if (w->ncands < 0) {
		w->ncands = 0;
		error("out of memory planning workload '%s'", w->name);
		goto cleanup;
	}
	/* A pool too large to count (planner/fleet.h saturated it) is no answer. */
	for (int i = 0; i < w->ncands; i++)
		if (w->cands[i].fits && fleet_saturated(w->cands[i].instances[0], 0)) {
			w->cands[i].fits = 0;
			snprintf(w->cands[i].reason, sizeof(w->cands[i].reason),
				 "needs %lld or more instances at %.6g req/s",
				 (long long)FLEET_MAX_INSTANCES, w->demand_rps);
		}
	if (w->arch.experts > 0 &&
	    disagg_pool(&w->arch, w->gpus, w->ngpus, &w->engine, &w->pool, &p, &w->disagg)) {
		error("out of memory planning workload '%s'", w->name);
		goto cleanup;
	}
	qsort(w->cands, (size_t)w->ncands, sizeof(*w->cands), by_usd_per_token);
	for (int i = 0; i < w->ncands; i++)
		w->nfit += w->cands[i].fits;
	w->nreasons = collect_reasons(w->cands, w->ncands, w->reasons, WORKLOAD_PLAN_MAX_REASONS);
	ret = 0;
cleanup:
	free(buckets);
	if (ret)
		workload_plan_free(w);
	return ret;
}

void workload_plan_free(struct workload_plan *w)
{
	free(w->cands);
	free(w->gpus);
	free(w->name);
	free(w->model_id);
	memset(w, 0, sizeof(*w));
}
