/*
 * slo.c - percentile TTFT and TPOT, the SLO batch and the sustainable rate
 * (see slo.h for the contract and the model in brief; README "SLOs and
 * margins" for the reasoning). Every time here comes from instance.h's
 * step functions; this file adds only queueing and percentiles.
 */
#include "slo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bisections: 40 halvings reach far below the model's accuracy. */
#define BISECT_ITERS 40
/* The running batch is searched to this fraction of max_num_seqs. */
#define RUNNING_REL 1e-3

/* ---- length distributions ------------------------------------------------ */

static int point_before(const struct slo_point *a, double tokens, int long_class)
{
	if (a->long_class != long_class)
		return a->long_class < long_class;
	return a->tokens < tokens;
}

/* Merge the adjacent pair of one class holding the least weight. */
static void merge_lightest(struct slo_point *p, int *n)
{
	int best = -1;
	for (int i = 0; i + 1 < *n; i++)
		if (p[i].long_class == p[i + 1].long_class &&
		    (best < 0 || p[i].weight + p[i + 1].weight < p[best].weight + p[best + 1].weight))
			best = i;
	if (best < 0)
		return;
	struct slo_point *a = &p[best], *b = &p[best + 1];
	double w = a->weight + b->weight;
	if (w > 0) {
		a->tokens = (a->tokens * a->weight + b->tokens * b->weight) / w;
		a->tokens_sq = (a->tokens_sq * a->weight + b->tokens_sq * b->weight) / w;
	}
	a->weight = w;
	memmove(b, b + 1, (size_t)(*n - best - 2) * sizeof(*b));
	(*n)--;
}

void slo_traffic_add(struct slo_traffic *t, int axis, double tokens, double tokens_sq,
		     double weight, int long_class)
{
	struct slo_point *p = axis ? t->output : t->prompt;
	int *n = axis ? &t->noutput : &t->nprompt;
	if (!(weight > 0))
		return;
	if (tokens_sq < tokens * tokens)
		tokens_sq = tokens * tokens;
	int i = 0;
	while (i < *n && point_before(&p[i], tokens, long_class))
		i++;
	if (i < *n && p[i].tokens == tokens && p[i].long_class == long_class) {
		double w = p[i].weight + weight;
		p[i].tokens_sq = (p[i].tokens_sq * p[i].weight + tokens_sq * weight) / w;
		p[i].weight = w;
		return;
	}
	if (*n == SLO_MAX_POINTS) {
		merge_lightest(p, n);
		if (*n == SLO_MAX_POINTS)	/* one point per class: nothing to merge */
			return;
		i = 0;
		while (i < *n && point_before(&p[i], tokens, long_class))
			i++;
	}
	memmove(&p[i + 1], &p[i], (size_t)(*n - i) * sizeof(*p));
	p[i] = (struct slo_point){ tokens, tokens_sq, weight, long_class };
	(*n)++;
}

static double normalise(struct slo_point *p, int n)
{
	double w = 0, mean = 0;
	for (int i = 0; i < n; i++)
		w += p[i].weight;
	for (int i = 0; i < n && w > 0; i++) {
		p[i].weight /= w;
		mean += p[i].weight * p[i].tokens;
	}
	return mean;
}

void slo_traffic_finish(struct slo_traffic *t)
{
	t->isl = normalise(t->prompt, t->nprompt);
	t->osl = normalise(t->output, t->noutput);
}

/* ---- waiting times ------------------------------------------------------- */

double mg1_mean_wait(double lambda, double es, double es2)
{
	double rho = lambda * es;
	if (rho >= 1)
		return INFINITY;
	return lambda * es2 / (2 * (1 - rho));
}

double wait_tail(double p, double mean_wait, double t)
{
	if (t < 0)
		return 1;
	if (!(p > 0) || !(mean_wait > 0))
		return 0;
	if (!isfinite(mean_wait))
		return p;
	return p * exp(-t * p / mean_wait);
}

double wait_quantile(double p, double mean_wait, double q)
{
	if (!(p > 0) || 1 - q >= p)
		return 0;
	return mean_wait / p * log(p / (1 - q));
}

double wait_tail_sum(double p1, double mean1, double p2, double mean2, double t)
{
	if (t < 0)
		return 1;
	if (!(p1 > 0) || !(mean1 > 0))
		return wait_tail(p2, mean2, t);
	if (!(p2 > 0) || !(mean2 > 0))
		return wait_tail(p1, mean1, t);
	if (!isfinite(mean1) || !isfinite(mean2))
		return 1 - (1 - (isfinite(mean1) ? wait_tail(p1, mean1, t) : p1)) *
			   (1 - (isfinite(mean2) ? wait_tail(p2, mean2, t) : p2));
	/* Rates of the two exponentials: P(W_i > t | W_i > 0) = exp(-r_i t). */
	double r1 = p1 / mean1, r2 = p2 / mean2;
	double both;			/* P(E1 + E2 > t) */
	if (fabs(r1 - r2) <= 1e-9 * fmax(r1, r2))
		both = (1 + r1 * t) * exp(-r1 * t);
	else
		both = (r2 * exp(-r1 * t) - r1 * exp(-r2 * t)) / (r2 - r1);
	return p1 * (1 - p2) * exp(-r1 * t) + p2 * (1 - p1) * exp(-r2 * t) + p1 * p2 * both;
}

double erlang_c(int c, double a)
{
	if (c < 1 || a >= c)
		return 1;
	if (a <= 0)
		return 0;
	/*
	 * Far below c the wait is negligible (Halfin-Whitt: beta = (c - a) /
	 * sqrt(c) >= 8 gives less than 1e-13); skip the O(c) recursion.
	 */
	if ((c - a) / sqrt((double)c) >= 8 && c - a >= 8)
		return 0;
	double b = 1;			/* Erlang B, B(0) = 1; B(k) = a B / (k + a B) */
	for (int k = 1; k <= c; k++)
		b = a * b / (k + a * b);
	return c * b / (c - a * (1 - b));
}

double normal_tail(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

/* ---- one instance ----------------------------------------------------------- */

/* What a rank looks like with n sequences running. */
struct decode_point {
	double n, ctx, room;
	double t_d;			/* decode step without prefill */
	double own[SLO_MAX_POINTS];	/* each prompt point's own prefill: k t_c */
	double own_mean;		/* E[k t_c] over requests */
	double stall_mean, stall_sq;	/* E[D], E[D^2] over prompts */
	double lambda;			/* arrivals per rank (Little) */
	double stall_rate;		/* prompts prefilled while a given request decodes, per s */
	double tpot_mean;
	int memory_bound;
};

static double step_budget(const struct instance *in)
{
	return in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
}

/*
 * A slot holds a request for its own prefill and then osl decode steps:
 * Little's law, n = lambda (E[own] + osl TPOT). While it decodes, the other
 * n - 1 slots turn over about once each (in a steady state every slot
 * does), so lambda (n - 1) / n prompts are prefilled per second beside it:
 * spread over the steps (instance.h's view of chunked prefill) that is
 * lambda TPOT (n - 1) / n x isl prompt tokens a step, and the mean TPOT is
 * that step's time (a fixed point: the rate depends on TPOT; a few rounds
 * settle it). With DP ranks in lockstep the step is the busiest rank's,
 * which carries a prompt whenever any rank has one:
 * instance_lockstep_prefill_tokens. One sequence alone sees no prefill:
 * nothing is admitted while the only slot decodes. The stalls D say how
 * lumpy it is: with
 * expert parallelism over DP ranks every rank's step waits for the
 * slowest, so a rank's decodes are stalled by every rank's prompts, dp
 * times as often, each by a dp-th of a chunk step that carries the chunk
 * on every rank.
 */
static void decode_at(const struct instance *in, const struct slo_traffic *t, double n,
		      struct decode_point *d)
{
	double budget = step_budget(in), es = 0, es2 = 0;
	memset(d, 0, sizeof(*d));
	d->n = n;
	d->ctx = t->isl + t->osl / 2;
	d->room = fmax(budget - n / in->layout.pp, budget / 8);
	d->t_d = instance_decode_step_s(in, n, d->ctx, &d->memory_bound);
	double group = in->layout.ep && in->layout.dp > 1 ? in->layout.dp : 1;
	for (int i = 0; i < t->nprompt; i++) {
		const struct slo_point *p = &t->prompt[i];
		double fresh;
		instance_prefill_work(p->tokens, in->prefix_hit, &fresh, NULL);
		double k = fmax(1, ceil(fresh / d->room));	/* chunks of the tokens to compute */
		double t_c = instance_step_s(in, n, d->ctx, p->tokens / k, p->tokens / 2, NULL);
		double stall = k * fmax(0, t_c - d->t_d) / group;
		d->own[i] = k * t_c;
		d->own_mean += p->weight * d->own[i];
		d->stall_mean += p->weight * stall;
		d->stall_sq += p->weight * stall * stall;
		es += p->weight * p->tokens;
		es2 += p->weight * p->tokens_sq;
	}
	double osl = t->osl > 1 ? t->osl : 1;
	double others = n > 1 ? (n - 1) / n : 0;
	double keys = es > 0 ? es2 / (2 * es) : 0;	/* token-weighted: E[s^2] / (2 E[s]) */
	double x = d->t_d;
	for (int round = 0; round < 4 && others > 0 && t->isl > 0; round++) {
		double prompts = n / (d->own_mean / x + osl) * others;	/* a rank's, per step */
		double busiest = instance_lockstep_prefill_tokens(in, prompts, t->isl);
		x = instance_step_s(in, n, d->ctx, busiest / in->layout.pp, keys, &d->memory_bound);
	}
	d->tpot_mean = x;
	d->lambda = n / (d->own_mean + osl * x);
	d->stall_rate = group * d->lambda * others;
}

/*
 * TPOT at quantile q over requests: a request of o output tokens has o - 1
 * intervals; the stalls in its decode (Poisson at stall_rate over o - 1
 * intervals of TPOT) add variance stall_rate TPOT E[D^2] / (o - 1) to the
 * mean.
 */
static double tpot_tail(const struct slo_traffic *t, const struct decode_point *d, double x)
{
	double v = d->stall_rate * d->tpot_mean * d->stall_sq, tail = 0, w = 0;
	for (int i = 0; i < t->noutput; i++) {
		double gaps = t->output[i].tokens - 1;
		if (gaps < 1)
			continue;	/* TPOT needs two tokens (vLLM's benchmark skips them too) */
		double sd = sqrt(v / gaps), z = sd > 0 ? (x - d->tpot_mean) / sd
						       : x < d->tpot_mean ? -INFINITY : INFINITY;
		w += t->output[i].weight;
		/* Beyond 9 standard deviations the tail is below 1e-19: no erfc needed. */
		tail += t->output[i].weight * (z > 9 ? 0 : z < -9 ? 1 : normal_tail(z));
	}
	return w > 0 ? tail / w : 0;
}

static double tpot_quantile(const struct slo_traffic *t, const struct decode_point *d, double q)
{
	double v = d->stall_rate * d->tpot_mean * d->stall_sq;
	if (!(v > 0))
		return d->tpot_mean;
	double lo = d->tpot_mean, hi = d->tpot_mean + 12 * sqrt(v);
	for (int i = 0; i < BISECT_ITERS; i++) {
		double mid = 0.5 * (lo + hi);
		if (tpot_tail(t, d, mid) > 1 - q)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* Does TPOT at the percentile meet the target? (The tail at the target: no search.) */
static int tpot_meets(const struct slo_traffic *t, const struct decode_point *d,
		      const struct slo_target *tgt)
{
	if (!(tgt->tpot_s > 0))
		return 1;
	if (d->tpot_mean > tgt->tpot_s)
		return 0;
	return tpot_tail(t, d, tgt->tpot_s) <= (1 - tgt->quantile) * (1 + 1e-9);
}

/* Requests/s per rank with every slot busy: Little at n = max_num_seqs. */
static double rank_capacity(const struct instance *in, const struct slo_traffic *t)
{
	struct decode_point d;
	decode_at(in, t, in->max_num_seqs, &d);
	return d.lambda;
}

/* The two queues in front of a prompt, as (P(wait), mean wait) pairs. */
struct waits {
	double slot_p, slot_mean;
	double prefill_p, prefill_mean;
	int saturated;
};

static void waits_at(const struct instance *in, const struct slo_traffic *t,
		     const struct decode_point *d, struct waits *w)
{
	int c = in->max_num_seqs;
	double osl = t->osl > 1 ? t->osl : 1;
	memset(w, 0, sizeof(*w));
	/* Slots: M/M/c, offered load a = n, a slot serves a request for its prefill and decode. */
	w->slot_p = erlang_c(c, d->n);
	w->slot_mean = d->n < c ? w->slot_p * (d->own_mean + osl * d->tpot_mean) / (c - d->n)
				: INFINITY;
	/*
	 * Prefill: M/G/1 in prompt tokens, served a full chunk per step when
	 * prompts queue (a step's room of tokens, token-weighted attention).
	 */
	double es = 0, es2 = 0;
	for (int i = 0; i < t->nprompt; i++) {
		es += t->prompt[i].weight * t->prompt[i].tokens;
		es2 += t->prompt[i].weight * t->prompt[i].tokens_sq;
	}
	double keys = es > 0 ? es2 / (2 * es) : 0;
	double full = instance_step_s(in, d->n, d->ctx, d->room, keys, NULL);
	double rate = d->room / full;		/* prompt tokens/s */
	w->prefill_p = d->lambda * es / rate;
	w->prefill_mean = mg1_mean_wait(d->lambda, es / rate, es2 / (rate * rate));
	w->saturated = d->n >= c || w->prefill_p >= 1;
}

static double ttft_target(const struct slo_target *tgt, const struct slo_point *p)
{
	double target = tgt->ttft_s;
	if (p->long_class && tgt->long_ttft_s_per_token > 0)
		target = fmax(target, tgt->long_ttft_s_per_token * p->tokens);
	return target;
}

/* P(TTFT > x) over requests; each prompt point waits, then prefills. */
static double ttft_tail(const struct slo_traffic *t, const struct decode_point *d,
			const struct waits *w, double x)
{
	double tail = 0;
	for (int i = 0; i < t->nprompt; i++)
		tail += t->prompt[i].weight *
			wait_tail_sum(w->slot_p, w->slot_mean, w->prefill_p, w->prefill_mean,
				      x - d->own[i] - d->t_d / 2);
	return tail;
}

static double ttft_quantile(const struct slo_traffic *t, const struct decode_point *d,
			    const struct waits *w, double q)
{
	if (w->saturated)
		return INFINITY;
	double lo = 0, hi = 1e-3;
	while (ttft_tail(t, d, w, hi) > 1 - q && hi < 1e9)
		hi *= 2;
	for (int i = 0; i < BISECT_ITERS; i++) {
		double mid = 0.5 * (lo + hi);
		if (ttft_tail(t, d, w, mid) > 1 - q)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static double ttft_misses(const struct slo_traffic *t, const struct slo_target *tgt,
			  const struct decode_point *d, const struct waits *w)
{
	double miss = 0;
	if (w->saturated)
		return 1;
	for (int i = 0; i < t->nprompt; i++)
		miss += t->prompt[i].weight *
			wait_tail_sum(w->slot_p, w->slot_mean, w->prefill_p, w->prefill_mean,
				      ttft_target(tgt, &t->prompt[i]) - d->own[i] - d->t_d / 2);
	return miss;
}

/* The operating point at n, given the rank's capacity; quantiles only when asked. */
static void point_at(const struct instance *in, const struct slo_traffic *t,
		     const struct slo_target *tgt, double n, double capacity, int quantiles,
		     struct slo_load *out)
{
	struct decode_point d;
	struct waits w;
	double dp = in->layout.dp;
	decode_at(in, t, n, &d);
	waits_at(in, t, &d, &w);
	memset(out, 0, sizeof(*out));
	out->running = n;
	out->rate = dp * d.lambda;
	out->capacity_rate = dp * capacity;
	out->utilisation = capacity > 0 ? d.lambda / capacity : 1;
	out->decode_step_s = d.t_d;
	out->tpot_mean_s = d.tpot_mean;
	out->memory_bound = d.memory_bound;
	out->prefill_busy = w.prefill_p;
	out->slot_wait_share = w.slot_p;
	out->saturated = w.saturated;
	out->ttft_miss_share = tgt->ttft_s > 0 ? ttft_misses(t, tgt, &d, &w) : 0;
	out->tpot_meets = tpot_meets(t, &d, tgt);
	if (quantiles) {
		out->tpot_s = tpot_quantile(t, &d, tgt->quantile);
		out->ttft_s = ttft_quantile(t, &d, &w, tgt->quantile);
	} else {
		out->tpot_s = out->ttft_s = NAN;	/* the search needs only the tails */
	}
}

void slo_at_running(const struct instance *in, const struct slo_traffic *t,
		    const struct slo_target *tgt, double n, struct slo_load *out)
{
	point_at(in, t, tgt, n, rank_capacity(in, t), 1, out);
}

int slo_batch(const struct instance *in, const struct slo_traffic *t,
	      const struct slo_target *tgt, int cap)
{
	struct decode_point d;
	if (cap < 1)
		return 0;
	if (!(tgt->tpot_s > 0))
		return cap;
	/* TPOT rises with the batch: the largest n whose percentile meets the target. */
	int lo = 0, hi = cap;
	decode_at(in, t, cap, &d);
	if (tpot_meets(t, &d, tgt))
		return cap;
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;
		decode_at(in, t, mid, &d);
		if (tpot_meets(t, &d, tgt))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int meets(const struct slo_target *tgt, const struct slo_load *lp)
{
	double quantile = tgt->quantile > 0 && tgt->quantile < 1 ? tgt->quantile : 0.99;
	if (lp->saturated || lp->utilisation >= 1)
		return 0;
	if (tgt->utilisation > 0 && tgt->utilisation < 1 && lp->utilisation > tgt->utilisation)
		return 0;
	if (!lp->tpot_meets)
		return 0;
	return lp->ttft_miss_share <= (1 - quantile) * (1 + 1e-9);
}

double slo_sustainable_rate(const struct instance *in, const struct slo_traffic *t,
			    const struct slo_target *tgt, struct slo_load *at)
{
	struct slo_load lp;
	double c = in->max_num_seqs;
	double capacity = rank_capacity(in, t);
	double lo = fmin(1e-3, c * 1e-3), hi = c;

	point_at(in, t, tgt, lo, capacity, 0, &lp);
	if (!meets(tgt, &lp)) {
		if (at)
			point_at(in, t, tgt, lo, capacity, 1, at);
		return 0;
	}
	/* The load rises with the running batch: the largest n that meets every target. */
	for (int i = 0; i < BISECT_ITERS && hi - lo > RUNNING_REL * c; i++) {
		double mid = 0.5 * (lo + hi);
		point_at(in, t, tgt, mid, capacity, 0, &lp);
		if (meets(tgt, &lp))
			lo = mid;
		else
			hi = mid;
	}
	point_at(in, t, tgt, lo, capacity, 1, &lp);
	if (at)
		*at = lp;
	return lp.rate;
}

void slo_percentile_name(double quantile, char buf[16])
{
	snprintf(buf, 16, "p%.4g", 100 * quantile);
}
