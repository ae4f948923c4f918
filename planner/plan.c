/*
 * plan.c - pools and candidate ranking for one workload (see plan.h).
 */
#include "plan.h"
#include "fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t plan_max_model_len(double tokens, int64_t model_max_ctx)
{
	int64_t n = round_up_tokens((int64_t)ceil(tokens), 1024);
	if (n < 2048)
		n = 2048;
	if (model_max_ctx > 0 && n > model_max_ctx)
		n = model_max_ctx;
	return n;
}

/* Smallest and largest prompt (+ output, for totals) a bucket can hold. */
static int64_t bucket_min(const struct wl_bucket *b, int total)
{
	return b->prompt_lo + (total ? b->output_lo : 0);
}

static int64_t bucket_max(const struct wl_bucket *b, int total)
{
	return (b->prompt_hi - 1) + (total ? b->output_hi - 1 : 0);
}

static int64_t bucket_max_total(const struct wl_bucket *b)
{
	return bucket_max(b, 1);
}

/*
 * Quantile q of prompt + output (total 1) or of the prompt (total 0) over
 * the buckets in `take`, assuming each bucket's requests spread evenly over
 * its range.
 */
static double quantile(const struct wl_bucket *b, int nb, const char *take, int total, double q)
{
	double n = 0, lo = 1e18, hi = 0;
	for (int i = 0; i < nb; i++) {
		if (!take[i])
			continue;
		n += (double)b[i].requests;
		lo = fmin(lo, (double)bucket_min(&b[i], total));
		hi = fmax(hi, (double)bucket_max(&b[i], total));
	}
	if (n <= 0)
		return 0;
	double want = q * n;
	for (int iter = 0; iter < 60 && hi - lo > 0.5; iter++) {
		double mid = 0.5 * (lo + hi), below = 0;
		for (int i = 0; i < nb; i++) {
			if (!take[i])
				continue;
			double a = (double)bucket_min(&b[i], total), z = (double)bucket_max(&b[i], total);
			double f = z > a ? (mid - a) / (z - a) : (mid >= a);
			below += (double)b[i].requests * fmin(1, fmax(0, f));
		}
		if (below >= want)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

static void pool_from(const struct wl_bucket *b, int nb, const char *take, double total_requests,
		      struct pool_traffic *p)
{
	double n = 0, ps = 0, os = 0, p2 = 0;
	for (int i = 0; i < nb; i++) {
		if (!take[i])
			continue;
		double r = (double)b[i].requests, mean = (double)b[i].prompt_tokens_sum / r;
		double width = (double)(b[i].prompt_hi - b[i].prompt_lo);
		n += r;
		ps += (double)b[i].prompt_tokens_sum;
		os += (double)b[i].output_tokens_sum;
		/* E[x²] in a bucket: its mean squared plus a uniform spread's width²/12 */
		p2 += r * (mean * mean + width * width / 12);
	}
	p->share = total_requests > 0 ? n / total_requests : 0;
	p->isl = n > 0 ? ps / n : 0;
	p->prompt_cv2 = n > 0 && p->isl > 0 ? fmax(0, p2 / n / (p->isl * p->isl) - 1) : 0;
	p->isl_p99 = quantile(b, nb, take, 0, 0.99);
	p->osl = n > 0 ? os / n : 0;
	if (p->osl < 1)
		p->osl = 1;	/* every request generates at least one token */
}

int plan_pools(const struct wl_bucket *b, int nb, int64_t threshold, double p999_total,
	       int64_t model_max_ctx, struct pool_traffic pools[2])
{
	if (nb <= 0)
		return 0;
	char *take = calloc((size_t)nb, 1);
	double total = 0;
	int npools = 0;
	if (!take)
		return 0;
	for (int i = 0; i < nb; i++)
		total += (double)b[i].requests;

	/*
	 * TTFT targets hold for 99 % of the workload's requests: a pool judges
	 * them on its own p99 prompt, but never on one longer than the
	 * workload's p99 (an isolated long pool may let its longest go slower,
	 * as the shared pool would have).
	 */
	memset(take, 1, (size_t)nb);
	double workload_p99 = quantile(b, nb, take, 0, 0.99);

	if (threshold <= 0) {
		memset(&pools[0], 0, sizeof(pools[0]));
		pool_from(b, nb, take, total, &pools[0]);
		double need = isfinite(p999_total) && p999_total > 0 ? p999_total
					: quantile(b, nb, take, 1, 0.999);
		pools[0].max_model_len = plan_max_model_len(need, model_max_ctx);
		pools[0].isl_p99 = fmin(pools[0].isl_p99, workload_p99);
		free(take);
		return 1;
	}

	/* Short pool: buckets whose every request is below the threshold. */
	int nshort = 0;
	for (int i = 0; i < nb; i++) {
		take[i] = bucket_max_total(&b[i]) < threshold;
		nshort += take[i];
	}
	if (nshort == 0 || nshort == nb) {
		free(take);
		return 0;
	}
	memset(pools, 0, 2 * sizeof(*pools));
	pool_from(b, nb, take, total, &pools[0]);
	pools[0].min_total_tokens = 0;
	pools[0].max_total_tokens = threshold;
	pools[0].max_model_len = plan_max_model_len((double)threshold, model_max_ctx);
	npools++;

	for (int i = 0; i < nb; i++)
		take[i] = !take[i];
	pool_from(b, nb, take, total, &pools[1]);
	pools[1].min_total_tokens = threshold;
	pools[1].max_total_tokens = 0;
	pools[1].max_model_len = plan_max_model_len(quantile(b, nb, take, 1, 0.999),
						    model_max_ctx);
	npools++;
	for (int k = 0; k < 2; k++)
		pools[k].isl_p99 = fmin(pools[k].isl_p99, workload_p99);
	free(take);
	return npools;
}

int plan_thresholds(const struct wl_bucket *b, int nb, int64_t model_max_ctx,
		    int64_t *out, int max)
{
	double total = 0;
	int n = 0;
	for (int i = 0; i < nb; i++)
		total += (double)b[i].requests;
	for (int64_t t = 4096; t <= model_max_ctx && n < max; t *= 2) {
		double longer = 0;
		for (int i = 0; i < nb; i++)
			if (bucket_max_total(&b[i]) >= t)
				longer += (double)b[i].requests;
		double share = total > 0 ? longer / total : 0;
		if (share >= 1e-4 && share <= 0.5)
			out[n++] = t;
	}
	return n;
}

/* The layouts worth trying on one GPU type. */
struct layout_set {
	struct layout l[256];
	int n;
};

static void add_layout(struct layout_set *s, int tp, int pp, int dp, int ep, enum precision p)
{
	if (s->n >= (int)(sizeof(s->l) / sizeof(s->l[0])))
		return;
	struct layout *l = &s->l[s->n++];
	l->tp = tp;
	l->pp = pp;
	l->dp = dp;
	l->ep = ep;
	l->precision = p;
	l->kv_elem_bytes = 2;
}

/*
 * TP within a node (powers of two; over PCIe where there is no NVLink),
 * PP 1, 2, 4 across nodes, and for MoE models expert parallelism over TP x
 * DP, across nodes where the GPU has a scale-out network
 * (instance_max_tp, instance_max_expert_group). Precision: the
 * checkpoint's own, and fp8 where the GPU has FP8 tensor cores and the
 * checkpoint is not fp8 already.
 */
static void layouts_for(const struct model_arch *m, const struct gpu_spec *g,
			const struct plan_params *p, struct layout_set *s)
{
	enum precision precs[2] = { PREC_NATIVE, PREC_FP8 };
	int nprec = (p->allow_fp8 && g->fp8_flops > 0 && !m->ckpt.quant_method[0]) ? 2 : 1;
	s->n = 0;
	for (int pi = 0; pi < nprec; pi++)
		for (int pp = 1; pp <= 4; pp *= 2)
			for (int tp = 1; tp <= instance_max_tp(g) && tp <= 16; tp *= 2) {
				add_layout(s, tp, pp, 1, 0, precs[pi]);
				if (!m->experts)
					continue;
				for (int dp = 1; tp * dp <= instance_max_expert_group(g) && dp <= 16;
				     dp *= 2)
					if (tp * dp > 1)
						add_layout(s, tp, pp, dp, 1, precs[pi]);
			}
}

int plan_candidate_count(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
			 const struct plan_params *p)
{
	struct layout_set *s = malloc(sizeof(*s));
	int n = 0;
	if (!s)
		return 0;
	for (int g = 0; g < ngpus; g++) {
		layouts_for(m, &gpus[g].spec, p, s);
		n += s->n;
	}
	free(s);
	return n;
}

double plan_gpu_quarter_usd(const struct plan_gpu *g, int q, int quarter_index, int64_t gpus)
{
	int64_t owned = g->owned[q] < gpus ? g->owned[q] : gpus;
	int64_t more = gpus - owned;
	if (more > 0 && isnan(g->usd_per_gpu_hour))
		return NAN;
	return quarter_cost_usd(owned, g->owned_usd_per_gpu_hour, quarter_index) +
	       (more > 0 ? quarter_cost_usd(more, g->usd_per_gpu_hour, quarter_index) : 0);
}

static void evaluate(const struct model_arch *m, const struct plan_gpu *g,
		     const struct engine_profile *e, const struct pool_traffic *t,
		     const struct plan_params *p, struct candidate *c)
{
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	rq.max_model_len = t->max_model_len;
	rq.resident_tokens_per_seq = t->isl + t->osl / 2;
	rq.prompt_cv2 = t->prompt_cv2;
	rq.ttft_prompt_tokens = t->isl_p99;
	struct layout l = c->inst.layout;	/* instance_size writes c->inst whole */
	instance_size(m, &g->spec, e, &l, &rq, &c->inst);
	c->usd_per_hour = (isnan(g->usd_per_gpu_hour) ? g->owned_usd_per_gpu_hour
						      : g->usd_per_gpu_hour) * c->inst.gpus;
	if (!c->inst.fits) {
		snprintf(c->reason, sizeof(c->reason), "%s", c->inst.reason);
		return;
	}
	c->rate_rps = instance_sustainable_rate(&c->inst, t->isl, t->osl, &p->slo, &c->at);
	if (c->rate_rps <= 0) {
		struct load_point lone;
		instance_open_loop(&c->inst, t->isl, t->osl, 1e-6, &lone);
		snprintf(c->reason, sizeof(c->reason),
			 "misses the SLOs even unloaded (TTFT %.0f ms, TPOT %.1f ms)",
			 lone.ttft_s * 1e3, lone.tpot_s * 1e3);
		return;
	}
	c->total_usd = 0;
	for (int q = 0; q < p->quarters; q++) {
		double demand = p->demand_rps[q] * t->share;
		c->instances[q] = fleet_instances(demand, c->rate_rps, p->redundancy);
		double usd = plan_gpu_quarter_usd(g, q, p->start_quarter + q,
						  c->instances[q] * c->inst.gpus);
		if (isnan(usd)) {
			snprintf(c->reason, sizeof(c->reason), "needs %lld GPUs in quarter %d, more than "
				 "the %lld owned, and more cannot be priced",
				 (long long)(c->instances[q] * c->inst.gpus), q + 1,
				 (long long)g->owned[q]);
			return;
		}
		c->total_usd += usd;
	}
	c->fits = 1;
	snprintf(c->reason, sizeof(c->reason), "%.3g req/s per instance at TTFT %.0f ms, "
		 "TPOT %.1f ms", c->rate_rps, c->at.ttft_s * 1e3, c->at.tpot_s * 1e3);
}

static int by_cost(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	if (a->fits != b->fits)
		return b->fits - a->fits;
	if (!a->fits)
		return a->order - b->order;
	if (a->total_usd != b->total_usd)
		return a->total_usd < b->total_usd ? -1 : 1;
	if (a->inst.gpus != b->inst.gpus)
		return a->inst.gpus - b->inst.gpus;
	if (a->rate_rps != b->rate_rps)
		return a->rate_rps > b->rate_rps ? -1 : 1;
	return a->order - b->order;
}

int plan_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
	      const struct engine_profile *e, const struct pool_traffic *t,
	      const struct plan_params *p, struct candidate **out)
{
	int total = plan_candidate_count(m, gpus, ngpus, p), n = 0;
	struct layout_set *s = malloc(sizeof(*s));
	struct candidate *c = calloc((size_t)(total ? total : 1), sizeof(*c));
	if (!s || !c) {
		free(s);
		free(c);
		return -1;
	}
	for (int g = 0; g < ngpus; g++) {
		layouts_for(m, &gpus[g].spec, p, s);
		for (int i = 0; i < s->n && n < total; i++, n++) {
			c[n].gpu = g;
			c[n].order = n;
			c[n].inst.layout = s->l[i];
			evaluate(m, &gpus[g], e, t, p, &c[n]);
		}
	}
	free(s);
	/* qsort is not stable: ties fall back to enumeration order. */
	qsort(c, (size_t)n, sizeof(*c), by_cost);
	*out = c;
	return n;
}

static double best_cost(const struct candidate *c, int n)
{
	return n > 0 && c[0].fits ? c[0].total_usd : INFINITY;
}

void plan_decision_free(struct plan_decision *d)
{
	for (int k = 0; k < 2; k++) {
		free(d->cands[k]);
		d->cands[k] = NULL;
		d->ncands[k] = 0;
	}
}

int plan_decide(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct wl_bucket *b, int nb,
		double p999_total, int64_t long_context, const struct plan_params *p,
		struct plan_decision *d)
{
	struct pool_traffic tp[2];
	struct candidate *shared = NULL, *split[2];
	int nshared, nsplit[2];
	int64_t thresholds[16];
	int nt = 0;

	memset(d, 0, sizeof(*d));
	d->split_usd = INFINITY;
	plan_pools(b, nb, 0, p999_total, m->max_context_tokens, tp);
	nshared = plan_pool(m, gpus, ngpus, e, &tp[0], p, &shared);
	if (nshared < 0)
		return -1;
	d->candidates += nshared;
	d->shared_usd = best_cost(shared, nshared);

	if (long_context > 0)
		thresholds[nt++] = long_context;
	else if (long_context == 0)
		nt = plan_thresholds(b, nb, m->max_context_tokens, thresholds, 16);

	for (int i = 0; i < nt; i++) {
		struct pool_traffic sp[2];
		if (plan_pools(b, nb, thresholds[i], p999_total, m->max_context_tokens, sp) != 2) {
			d->forced_empty = long_context > 0;
			continue;
		}
		nsplit[0] = plan_pool(m, gpus, ngpus, e, &sp[0], p, &split[0]);
		nsplit[1] = nsplit[0] < 0 ? -1 : plan_pool(m, gpus, ngpus, e, &sp[1], p, &split[1]);
		if (nsplit[0] < 0 || nsplit[1] < 0) {
			if (nsplit[0] >= 0)
				free(split[0]);
			free(shared);
			plan_decision_free(d);
			return -1;
		}
		d->candidates += nsplit[0] + nsplit[1];
		double cost = best_cost(split[0], nsplit[0]) + best_cost(split[1], nsplit[1]);
		if (cost < d->split_usd) {
			plan_decision_free(d);
			for (int k = 0; k < 2; k++) {
				d->pool[k] = sp[k];
				d->cands[k] = split[k];
				d->ncands[k] = nsplit[k];
			}
			d->split_usd = cost;
			d->threshold = thresholds[i];
		} else {
			free(split[0]);
			free(split[1]);
		}
	}

	/* A split stands when it works and is cheaper -- or when the scenario fixed it. */
	if (d->threshold && isfinite(d->split_usd) &&
	    (long_context > 0 || d->split_usd < d->shared_usd)) {
		d->npools = 2;
		free(shared);
		return 0;
	}
	plan_decision_free(d);
	d->npools = 1;
	d->pool[0] = tp[0];
	d->cands[0] = shared;
	d->ncands[0] = nshared;
	return 0;
}
