/*
 * plan.c - pools and candidate ranking for the workloads of one model (see
 * plan.h). Service levels come from slo.h; sizes and step times from
 * instance.h.
 */
#include "plan.h"
#include "fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long-context thresholds are tried from here up (32k: what "long" means today). */
#define THRESHOLD_FIRST 32768

int64_t plan_max_model_len(double tokens, int64_t model_max_ctx)
{
	int64_t n = round_up_tokens((int64_t)ceil(tokens), 1024);
	if (n < 2048)
		n = 2048;
	if (model_max_ctx > 0 && n > model_max_ctx)
		n = model_max_ctx;
	return n;
}

/* Smallest and largest prompt + output a bucket can hold. */
static int64_t bucket_min_total(const struct wl_bucket *b)
{
	return b->prompt_lo + b->output_lo;
}

static int64_t bucket_max_total(const struct wl_bucket *b)
{
	return (b->prompt_hi - 1) + (b->output_hi - 1);
}

/* Is bucket b part of the pool [min, max) (max 0: unbounded)? Short pools take whole buckets. */
static int in_pool(const struct wl_bucket *b, int64_t min_total, int64_t max_total)
{
	if (max_total > 0)
		return bucket_max_total(b) < max_total;
	return min_total <= 0 || bucket_max_total(b) >= min_total;
}

static double workload_requests(const struct plan_workload *w)
{
	double n = 0;
	for (int i = 0; i < w->nb; i++)
		n += (double)w->b[i].requests;
	return n;
}

/* Requests of workload w weigh by its demand over the horizon, per request. */
static double workload_weight(const struct plan_workload *w, int quarters)
{
	double demand = 0, n = workload_requests(w);
	for (int q = 0; q < quarters; q++)
		demand += w->demand_rps[q];
	if (!(n > 0))
		return 0;
	return demand > 0 ? demand / n : 1 / n;
}

double plan_pool_share(const struct plan_workload *w, int64_t min_total, int64_t max_total,
		       double *isl, double *osl)
{
	double in = 0, ps = 0, os = 0, n = workload_requests(w);
	for (int i = 0; i < w->nb; i++) {
		if (!in_pool(&w->b[i], min_total, max_total))
			continue;
		in += (double)w->b[i].requests;
		ps += (double)w->b[i].prompt_tokens_sum;
		os += (double)w->b[i].output_tokens_sum;
	}
	if (isl)
		*isl = in > 0 ? ps / in : 0;
	if (osl)
		*osl = in > 0 ? os / in : 0;
	return n > 0 ? in / n : 0;
}

/* Mean of the density e^(beta u) on [0, 1]. */
static double maxent_mean(double beta)
{
	if (fabs(beta) < 1e-6)
		return 0.5 + beta / 12;
	return 1 / (1 - exp(-beta)) - 1 / beta;
}

/*
 * Share of a bucket's requests whose prompt + output exceeds `limit`: the
 * requests spread over the bucket's range of totals as the most even
 * distribution with the bucket's exact mean (maximum entropy on an
 * interval given its mean: a density e^(beta x)), so a bucket whose
 * requests crowd its top (prompts cut at 4,096 tokens) is not read as
 * spread evenly.
 */
static double share_above(const struct wl_bucket *b, int64_t limit)
{
	double lo = (double)bucket_min_total(b), hi = (double)bucket_max_total(b);
	if (limit <= 0 || hi <= limit)
		return 0;
	if (lo > limit || hi <= lo)
		return 1;
	double mean = (double)(b->prompt_tokens_sum + b->output_tokens_sum) / (double)b->requests;
	double mu = fmin(0.999, fmax(0.001, (mean - lo) / (hi - lo)));
	double blo = -1000, bhi = 1000, beta = 0;
	for (int i = 0; i < 80; i++) {
		beta = 0.5 * (blo + bhi);
		if (maxent_mean(beta) < mu)
			blo = beta;
		else
			bhi = beta;
	}
	double u = ((double)limit - lo) / (hi - lo);
	if (fabs(beta) < 1e-6)
		return 1 - u;
	if (beta > 0)	/* divided through by e^beta, which could overflow */
		return -expm1(beta * (u - 1)) / -expm1(-beta);
	return (exp(beta * u) - exp(beta)) / -expm1(beta);
}

/* The bucket's spread as a uniform width (0 for an open top bucket). */
static double width_sq(int64_t lo, int64_t hi)
{
	if (hi >= WL_TOKENS_END)
		return 0;
	double w = (double)(hi - lo);
	return w * w / 12;
}

/* One bin of one axis, summed over the buckets that share it: a length point to be. */
struct bin_sum {
	int64_t lo, hi;
	int long_class;
	double weight, tokens, tokens_sq;	/* sums: requests, requests x mean, x mean square */
};

struct bin_sums {
	struct bin_sum *b;
	int n, alloc;
};

static void bin_add(struct bin_sums *s, int64_t lo, int64_t hi, int long_class, double weight,
		    double mean, double mean_sq)
{
	int i;
	for (i = 0; i < s->n; i++)
		if (s->b[i].lo == lo && s->b[i].hi == hi && s->b[i].long_class == long_class)
			break;
	if (i == s->n) {
		if (s->n == s->alloc) {
			int alloc = s->alloc ? 2 * s->alloc : 64;
			struct bin_sum *b = realloc(s->b, (size_t)alloc * sizeof(*b));
			if (!b)
				return;	/* out of memory: the point is lost, the pool's means stand */
			s->b = b;
			s->alloc = alloc;
		}
		s->b[s->n++] = (struct bin_sum){ lo, hi, long_class, 0, 0, 0 };
	}
	s->b[i].weight += weight;
	s->b[i].tokens += weight * mean;
	s->b[i].tokens_sq += weight * mean_sq;
}

/* The bins as points of one axis: each bin's requests at their mean length. */
static void bins_to_points(struct bin_sums *s, struct slo_traffic *t, int axis)
{
	for (int i = 0; i < s->n; i++)
		if (s->b[i].weight > 0)
			slo_traffic_add(t, axis, s->b[i].tokens / s->b[i].weight,
					s->b[i].tokens_sq / s->b[i].weight, s->b[i].weight,
					s->b[i].long_class);
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static void pool_from(const struct plan_workload *w, int nw, int64_t min_total,
		      int64_t max_total, int64_t class_tokens, int64_t limit, int quarters,
		      struct pool_traffic *p)
{
	double n = 0, sent = 0, all = 0, rejected = 0, ps = 0, p2 = 0, reuse_w = 0;
	int64_t longest = 0;
	int curve = 0;
	struct bin_sums prompts = { NULL, 0, 0 }, outputs = { NULL, 0, 0 };

	memset(&p->lengths, 0, sizeof(p->lengths));
	memset(p->demand_rps, 0, sizeof(p->demand_rps));
	memset(p->mean_rps, 0, sizeof(p->mean_rps));
	memset(p->reuse_within, 0, sizeof(p->reuse_within));
	p->reuse_unbounded = 0;
	for (int k = 0; k < nw; k++) {
		double weight = workload_weight(&w[k], quarters), nk = workload_requests(&w[k]);
		double served = 0;
		int64_t bound = 0;
		for (int i = 0; i < w[k].nb; i++) {
			const struct wl_bucket *b = &w[k].b[i];
			double r = (double)b->requests * weight;
			all += r;
			if (!in_pool(b, min_total, max_total) || b->requests <= 0)
				continue;
			sent += r;
			if (bucket_max_total(b) > bound)
				bound = bucket_max_total(b);
			double above = share_above(b, limit);
			rejected += r * above;
			if (above >= 1)
				continue;	/* vLLM rejects them all: they take no capacity */
			served += (double)b->requests * (1 - above);
			double pm = (double)b->prompt_tokens_sum / (double)b->requests;
			double om = (double)b->output_tokens_sum / (double)b->requests;
			double pq = pm * pm + width_sq(b->prompt_lo, b->prompt_hi);
			int long_class = class_tokens > 0 && bucket_max_total(b) >= class_tokens;
			n += r;
			ps += r * pm;
			p2 += r * pq;
			bin_add(&prompts, b->prompt_lo, b->prompt_hi, long_class, r, pm, pq);
			bin_add(&outputs, b->output_lo, b->output_hi, 0, r, om,
				om * om + width_sq(b->output_lo, b->output_hi));
		}
		/* The exact maximum where it was measured bounds every pool of the workload. */
		if (w[k].max_total_tokens > 0 && w[k].max_total_tokens < bound)
			bound = w[k].max_total_tokens;
		if (bound > longest)
			longest = bound;
		for (int q = 0; q < quarters && nk > 0; q++) {
			p->demand_rps[q] += w[k].demand_rps[q] * served / nk;
			p->mean_rps[q] += w[k].mean_rps[q] * served / nk;
		}
		/* Prefix reuse, weighted by the requests each workload sends (none: 0). */
		double part = served * weight;
		reuse_w += part;
		p->reuse_unbounded += part * (w[k].reuse_unbounded > 0 ? w[k].reuse_unbounded : 0);
		for (int i = 0; i < PLAN_REUSE_POINTS; i++)
			p->reuse_within[i] += part * (w[k].reuse_within ? w[k].reuse_within[i] :
						      w[k].reuse_unbounded > 0 ? w[k].reuse_unbounded
									       : 0);
		curve |= w[k].reuse_within != NULL;
	}
	if (reuse_w > 0) {
		p->reuse_unbounded /= reuse_w;
		for (int i = 0; i < PLAN_REUSE_POINTS; i++)
			p->reuse_within[i] /= reuse_w;
	}
	p->reuse_points = curve && p->reuse_unbounded > 0 ? PLAN_REUSE_POINTS : 0;
	bins_to_points(&prompts, &p->lengths, 0);
	bins_to_points(&outputs, &p->lengths, 1);
	slo_traffic_finish(&p->lengths);
	p->share = all > 0 ? sent / all : 0;
	p->rejected_share = sent > 0 ? rejected / sent : 0;
	p->isl = p->lengths.isl;
	p->osl = p->lengths.osl;
	p->prompt_cv2 = n > 0 && ps > 0 ? fmax(0, p2 / n / ((ps / n) * (ps / n)) - 1) : 0;
	if (p->osl < 1)
		p->osl = 1;	/* every request generates at least one token */
	p->longest_tokens = longest;
}

/* The cap on every max_model_len: the model's context, and the scenario's. */
static int64_t length_limit(int64_t model_max_ctx, const struct plan_params *p)
{
	int64_t limit = model_max_ctx > 0 ? model_max_ctx : INT64_MAX / 4;
	if (p->max_model_len > 0 && p->max_model_len < limit)
		limit = p->max_model_len;
	return limit;
}

int plan_pools(const struct plan_workload *w, int nw, int64_t threshold, int64_t class_tokens,
	       int64_t model_max_ctx, const struct plan_params *p, struct pool_traffic pools[2])
{
	int64_t limit = length_limit(model_max_ctx, p);
	int nb = 0, nshort = 0;
	for (int k = 0; k < nw; k++)
		for (int i = 0; i < w[k].nb; i++, nb++)
			nshort += threshold > 0 && bucket_max_total(&w[k].b[i]) < threshold;
	if (nb == 0)
		return 0;
	if (threshold > 0 && (nshort == 0 || nshort == nb))
		return 0;

	int npools = threshold > 0 ? 2 : 1;
	memset(pools, 0, (size_t)npools * sizeof(*pools));
	for (int k = 0; k < npools; k++) {
		struct pool_traffic *t = &pools[k];
		if (npools == 2) {
			t->min_total_tokens = k ? threshold : 0;
			t->max_total_tokens = k ? 0 : threshold;
			t->long_class = k;
			t->class_tokens = k ? threshold : 0;
		} else {
			t->class_tokens = class_tokens;
		}
		pool_from(w, nw, t->min_total_tokens, t->max_total_tokens, t->class_tokens, limit,
			  p->quarters, t);
		int64_t mml = plan_max_model_len((double)t->longest_tokens, model_max_ctx);
		t->max_model_len = mml < limit ? mml : limit;
	}
	return npools;
}

int plan_thresholds(const struct plan_workload *w, int nw, int64_t model_max_ctx,
		    int64_t *out, int max)
{
	int n = 0;
	for (int64_t t = THRESHOLD_FIRST; t <= model_max_ctx && n < max; t *= 2) {
		double longer = 0, total = 0;
		for (int k = 0; k < nw; k++) {
			double weight = workload_weight(&w[k], PLAN_MAX_QUARTERS);
			for (int i = 0; i < w[k].nb; i++) {
				double r = (double)w[k].b[i].requests * weight;
				total += r;
				if (bucket_max_total(&w[k].b[i]) >= t)
					longer += r;
			}
		}
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

static struct layout *add_layout(struct layout_set *s, int tp, int pp, int dp, int ep,
				 enum precision p)
{
	if (s->n >= (int)(sizeof(s->l) / sizeof(s->l[0])))
		return NULL;
	struct layout *l = &s->l[s->n++];
	memset(l, 0, sizeof(*l));
	l->tp = tp;
	l->pp = pp;
	l->dp = dp;
	l->ep = ep;
	l->precision = p;
	l->kv_elem_bytes = 2;
	return l;
}

/*
 * Wide EP candidates on g: DP attention x EP over 2 to 8 whole nodes (EP16,
 * EP32, EP64 on 8-GPU nodes), DeepEP's all-to-all and EPLB with one
 * redundant expert slot per rank (what TensorRT-LLM measured its 1.109
 * imbalance with, instance.h). Only where DeepEP runs (NVIDIA, a scale-out
 * network) and the group fits the experts. tp 1: attention is data-parallel,
 * as DeepSeek and SGLang deploy it (notes/perf.md section 2).
 */
int plan_wide_ep_groups(const struct model_arch *m, const struct gpu_spec *g, int groups[],
			int max)
{
	int node = comm_node_gpus(g), n = 0;
	if (!m->experts || g->scaleout_bytes_per_s <= 0 || strcmp(g->vendor, "nvidia") ||
	    g->not_vllm_served)
		return 0;
	for (int nodes = 2; nodes <= 8 && n < max; nodes *= 2)
		if (node * nodes <= m->experts && node * nodes > instance_max_tp(g))
			groups[n++] = node * nodes;
	return n;
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
	int groups[4], ng = plan_wide_ep_groups(m, g, groups, 4);
	for (int pi = 0; pi < nprec; pi++)
		for (int i = 0; i < ng; i++) {
			struct layout *l = add_layout(s, 1, 1, groups[i], 1, precs[pi]);
			if (l) {
				l->a2a = A2A_DEEPEP_HT;
				l->redundant_experts = groups[i];
			}
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
	int64_t more = gpus - g->owned[q];
	if (more <= 0)
		return 0;
	if (isnan(g->usd_per_gpu_hour))
		return NAN;
	return quarter_cost_usd(more, g->usd_per_gpu_hour, quarter_index);
}

/* Quarter q's serving instances and their spares, priced; 0, or -1 with the reason. */
static int cost_quarters(const struct plan_gpu *g, const struct pool_traffic *t,
			 const struct plan_params *p, struct candidate *c)
{
	c->serving_usd = c->spare_usd = 0;
	for (int q = 0; q < p->quarters; q++) {
		int64_t inst = fleet_instances(t->demand_rps[q], c->rate_rps, 0);
		int64_t spare = inst > 0 ? p->spares : 0;
		int qi = p->start_quarter + q;
		c->instances[q] = inst;
		double serving = plan_gpu_quarter_usd(g, q, qi, inst * c->inst.gpus);
		double all = plan_gpu_quarter_usd(g, q, qi, (inst + spare) * c->inst.gpus);
		if (isnan(all)) {
			snprintf(c->reason, sizeof(c->reason), "needs %lld GPUs in quarter %d, more "
				 "than the %lld owned, and more cannot be priced",
				 (long long)((inst + spare) * c->inst.gpus), q + 1,
				 (long long)g->owned[q]);
			return -1;
		}
		c->serving_usd += serving;
		c->spare_usd += all - serving;
	}
	c->total_usd = c->serving_usd + c->spare_usd;
	return 0;
}

double plan_prefix_asked(const struct plan_params *p, const struct pool_traffic *t)
{
	double h = p->prefix_hit < 0 ? t->reuse_unbounded : p->prefix_hit;
	return h > 0 ? (h < 0.999 ? h : 0.999) : 0;
}

/*
 * What a finite prefix cache keeps of the asked hit share, at the rate the
 * candidate sustains with the asked share: free KV beyond the SLO batch
 * (per DP rank, each sequence at isl + osl / 2), turned over by the new
 * blocks its requests allocate, (1 - h) isl + osl tokens each
 * (prefix_hit_kept). The rate is then found again with the share kept:
 * lower, so blocks stay longer and the true share lies above -- one round,
 * erring low. Assumed: requests reach the instance (and DP rank) that
 * holds their prefix (prefix-aware routing, e.g. llm-d's or SGLang's
 * cache-aware router), so each sees its own sessions' reuse.
 */
static void refine_prefix_hit(const struct pool_traffic *t, const struct plan_params *p,
			      int batch, struct candidate *c)
{
	struct instance *in = &c->inst;
	double dp = in->layout.dp > 0 ? in->layout.dp : 1;
	double free_tokens = (double)in->kv_tokens - batch * (t->isl + t->osl / 2);
	double lambda = c->rate_rps / dp;
	double alloc = lambda * ((1 - in->prefix_hit) * t->isl + t->osl);
	double kept = prefix_hit_kept(plan_prefix_asked(p, t), t->reuse_unbounded,
				      t->reuse_within, t->reuse_points, free_tokens, alloc);
	c->prefix_retention_s = alloc > 0 && free_tokens > 0 ? free_tokens / alloc : 0;
	c->prefix_hit = kept;
	if (kept < in->prefix_hit - 1e-4) {
		instance_set_prefix_hit(in, kept);
		c->rate_rps = slo_sustainable_rate(in, &t->lengths, &p->slo, &c->at);
	}
}

static void evaluate(const struct model_arch *m, const struct plan_gpu *g,
		     const struct engine_profile *e, const struct pool_traffic *t,
		     const struct plan_params *p, struct candidate *c)
{
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	char pct[16];
	rq.max_model_len = t->max_model_len;
	rq.resident_tokens_per_seq = t->isl + t->osl / 2;
	rq.prompt_cv2 = t->prompt_cv2;
	rq.prefix_hit = plan_prefix_asked(p, t);
	struct layout l = c->inst.layout;	/* instance_size writes c->inst whole */
	instance_size(m, &g->spec, e, &l, &rq, &c->inst);
	c->usd_per_hour = (isnan(g->usd_per_gpu_hour) ? g->owned_usd_per_gpu_hour
						      : g->usd_per_gpu_hour) * c->inst.gpus;
	if (!c->inst.fits) {
		snprintf(c->reason, sizeof(c->reason), "%s", c->inst.reason);
		return;
	}
	slo_percentile_name(p->slo.quantile, pct);
	c->kv_seqs = c->inst.max_num_seqs;
	c->prefix_hit = c->inst.prefix_hit;
	int batch = slo_batch(&c->inst, &t->lengths, &p->slo, c->kv_seqs);
	if (batch < 1) {
		slo_at_running(&c->inst, &t->lengths, &p->slo, 1, &c->full);
		snprintf(c->reason, sizeof(c->reason), "TPOT %s %.1f ms even at one running "
			 "sequence, above the %g ms target", pct, c->full.tpot_s * 1e3,
			 p->slo.tpot_s * 1e3);
		return;
	}
	/* The SLO batch is the emitted max_num_seqs: bursts queue (TTFT), TPOT holds. */
	c->inst.max_num_seqs = batch;
	slo_at_running(&c->inst, &t->lengths, &p->slo, batch, &c->full);
	c->rate_rps = slo_sustainable_rate(&c->inst, &t->lengths, &p->slo, &c->at);
	if (c->rate_rps > 0 && rq.prefix_hit > 0)
		refine_prefix_hit(t, p, batch, c);
	if (c->rate_rps <= 0) {
		snprintf(c->reason, sizeof(c->reason), "misses the TTFT target even unloaded "
			 "(TTFT %s %.0f ms; %.1f%% of requests over their target)", pct,
			 c->at.ttft_s * 1e3, 100 * c->at.ttft_miss_share);
		return;
	}
	if (cost_quarters(g, t, p, c))
		return;
	c->fits = 1;
	snprintf(c->reason, sizeof(c->reason), "%.3g req/s per instance at TTFT %s %.0f ms, "
		 "TPOT %s %.1f ms, %.0f%% busy; max_num_seqs %d (the SLO batch; the KV holds %d)",
		 c->rate_rps, pct, c->at.ttft_s * 1e3, pct, c->at.tpot_s * 1e3,
		 100 * c->at.utilisation, batch, c->kv_seqs);
}

/* What one layout does in the three load shapes, for the PP rule. */
struct shapes {
	double offline_tok_s, closed_tok_s, rate_rps;
};

static void load_shapes(const struct candidate *c, const struct pool_traffic *t, double clients,
			struct shapes *s)
{
	struct load_point lp;
	instance_offline(&c->inst, t->isl, t->osl, 1000, &lp);
	s->offline_tok_s = lp.output_tok_s;
	instance_closed_loop(&c->inst, t->isl, t->osl, clients, &lp);
	s->closed_tok_s = lp.output_tok_s;
	s->rate_rps = c->rate_rps;
}

/*
 * Keep pipeline parallelism only where the model says it wins: against the
 * layout on the same GPUs with twice the TP and half the PP, in every load
 * shape. A PP layout without such a sibling (TP at the node's limit, or
 * not dividing the heads) stays: across nodes PP is the way to more memory.
 */
static void pp_rule(struct candidate *c, int n, const struct pool_traffic *t)
{
	for (int i = 0; i < n; i++) {
		const struct layout *a = &c[i].inst.layout;
		if (!c[i].fits || a->pp < 2)
			continue;
		for (int j = 0; j < n; j++) {
			const struct layout *b = &c[j].inst.layout;
			if (c[j].gpu != c[i].gpu || b->tp != 2 * a->tp || b->pp * 2 != a->pp ||
			    b->dp != a->dp || b->ep != a->ep || b->precision != a->precision ||
			    b->a2a != a->a2a || b->kv_elem_bytes != a->kv_elem_bytes ||
			    b->spec.method != a->spec.method ||
			    !c[j].inst.fits || c[j].inst.max_num_seqs < 1)
				continue;
			struct shapes x, y;
			double clients = (double)a->dp * c[i].inst.max_num_seqs;
			load_shapes(&c[i], t, clients, &x);
			load_shapes(&c[j], t, clients, &y);
			const char *lost = x.rate_rps <= y.rate_rps ? "the sustainable rate" :
					   x.offline_tok_s <= y.offline_tok_s ? "offline throughput" :
					   x.closed_tok_s <= y.closed_tok_s ? "a closed loop" : NULL;
			if (lost) {
				c[i].fits = 0;
				snprintf(c[i].reason, sizeof(c[i].reason), "pipeline parallel: TP %d PP %d "
					 "on the same GPUs does as well in %s (vLLM: TP inside a node, "
					 "PP across nodes)", b->tp, b->pp, lost);
			}
			break;
		}
	}
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

const char *plan_mode_name(const struct layout *l, char *buf, size_t n)
{
	const char *spec = l->spec.method == DRAFT_NONE ? NULL : spec_method_name(l->spec.method);
	const char *kv = l->kv_elem_bytes == 1 ? "fp8-kv" : NULL;
	const char *base = l->role == PD_PREFILL ? "disagg-prefill" :
			   l->role == PD_DECODE ? "disagg-decode" :
			   l->a2a != A2A_ALLGATHER ? "wide-ep" : NULL;
	/* One aggregated instance is named by what it adds alone: 'fp8-kv', 'mtp+fp8-kv'. */
	if (!base && !spec && !kv)
		base = "aggregated";
	snprintf(buf, n, "%s%s%s%s%s", base ? base : "", base && spec ? "+" : "", spec ? spec : "",
		 (base || spec) && kv ? "+" : "", kv ? kv : "");
	return buf;
}

int plan_next_mode(const struct candidate *c, int n)
{
	char a[48], b[48];
	if (n < 2 || !c[0].fits)
		return -1;
	plan_mode_name(&c[0].inst.layout, a, sizeof(a));
	for (int i = 1; i < n && c[i].fits; i++)
		if (strcmp(a, plan_mode_name(&c[i].inst.layout, b, sizeof(b))))
			return i;
	return -1;
}

/*
 * fp8 KV where vLLM runs it (--kv-cache-dtype fp8: FP8 e4m3 on GPUs with
 * FP8 tensor cores -- Ada, Hopper, Blackwell, CDNA3 and later; not Ampere,
 * whose attention backends of vLLM V1 have no fp8 KV path). MLA's fp8
 * latent cache runs on FlashMLA / CUTLASS MLA, Hopper and Blackwell only:
 * elsewhere MLA models are not offered it. A checkpoint that already stores
 * fp8 KV has nothing to gain.
 */
static int fp8_kv_offered(const struct model_arch *m, const struct gpu_spec *g)
{
	if (g->fp8_flops <= 0 || m->ckpt.kv_fp8)
		return 0;
	if (m->attention == ATTN_MLA)
		return !strcmp(g->arch, "Hopper") || !strcmp(g->arch, "Blackwell");
	return 1;
}

/*
 * The serving modes tried on a base layout (PP 1: vLLM runs no
 * speculation with PP): fp8 KV, MTP where the checkpoint has MTP layers
 * (at the method's published default, spec_default_acceptance), EAGLE-3
 * where a draft head is published, MTP with fp8 KV together. Returns how
 * many were written to v (at most 4).
 */
int plan_mode_variants(const struct model_arch *m, const struct gpu_spec *g,
		       const struct plan_params *p, const struct layout *base, struct layout *v)
{
	int n = 0;
	int kv8 = fp8_kv_offered(m, g);
	const char *draft = spec_eagle3_draft(p->model_id);
	if (kv8) {
		v[n] = *base;
		v[n++].kv_elem_bytes = 1;
	}
	if (base->pp != 1)
		return n;
	if (m->mtp_layers > 0) {
		v[n] = *base;
		v[n].spec.method = DRAFT_MTP;
		v[n].spec.tokens = spec_default_tokens(DRAFT_MTP);
		v[n].spec.acceptance = spec_default_acceptance(DRAFT_MTP);
		n++;
		if (kv8) {
			v[n] = v[n - 1];
			v[n++].kv_elem_bytes = 1;
		}
	} else if (draft) {
		v[n] = *base;
		v[n].spec.method = DRAFT_EAGLE3;
		v[n].spec.tokens = spec_default_tokens(DRAFT_EAGLE3);
		v[n].spec.acceptance = spec_default_acceptance(DRAFT_EAGLE3);
		snprintf(v[n].spec.draft, sizeof(v[n].spec.draft), "%s", draft);
		n++;
	}
	return n;
}

/*
 * Modes are tried on the base layouts that could win: those that fit and
 * cost at most twice the cheapest base (a mode moves one layout's cost by
 * less than that: MTP at most E = 1.85x the rate, fp8 KV halves the KV
 * reads), or, when no base layout serves the pool, those vLLM would start
 * (fp8 KV may be what makes one fit) -- the rest are dominated.
 */
#define MODE_COST_SPAN 2.0

int plan_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
	      const struct engine_profile *e, const struct pool_traffic *t,
	      const struct plan_params *p, struct candidate **out)
{
	int base = plan_candidate_count(m, gpus, ngpus, p), n = 0;
	int total = base * (p->modes ? 5 : 1);
	struct layout_set *s = malloc(sizeof(*s));
	struct candidate *c = calloc((size_t)(total ? total : 1), sizeof(*c));
	if (!s || !c) {
		free(s);
		free(c);
		return -1;
	}
	for (int g = 0; g < ngpus; g++) {
		layouts_for(m, &gpus[g].spec, p, s);
		for (int i = 0; i < s->n && n < base; i++, n++) {
			c[n].gpu = g;
			c[n].order = n;
			c[n].inst.layout = s->l[i];
			evaluate(m, &gpus[g], e, t, p, &c[n]);
		}
	}
	free(s);
	pp_rule(c, n, t);
	if (p->modes) {
		double cheapest = INFINITY;
		int nbase = n;
		for (int i = 0; i < nbase; i++)
			if (c[i].fits && c[i].total_usd < cheapest)
				cheapest = c[i].total_usd;
		for (int i = 0; i < nbase; i++) {
			struct layout v[4];
			int ok = isfinite(cheapest) ? c[i].fits &&
				 c[i].total_usd <= MODE_COST_SPAN * cheapest : c[i].inst.fits ||
				 strstr(c[i].reason, "KV holds") != NULL;
			if (!ok)
				continue;
			int nv = plan_mode_variants(m, &gpus[c[i].gpu].spec, p, &c[i].inst.layout, v);
			for (int k = 0; k < nv && n < total; k++, n++) {
				c[n].gpu = c[i].gpu;
				c[n].order = n;
				c[n].inst.layout = v[k];
				evaluate(m, &gpus[c[i].gpu], e, t, p, &c[n]);
			}
		}
	}
	/* qsort is not stable: ties fall back to enumeration order. */
	qsort(c, (size_t)n, sizeof(*c), by_cost);
	*out = c;
	return n;
}

static double best_cost(const struct candidate *c, int n)
{
	return n > 0 && c[0].fits ? c[0].total_usd : INFINITY;
}

/* A split's cost: spares once per GPU type, for the larger of two instances on one type. */
static double split_cost(struct candidate *const split[2], const int nsplit[2])
{
	double a = best_cost(split[0], nsplit[0]), b = best_cost(split[1], nsplit[1]);
	if (!isfinite(a) || !isfinite(b))
		return INFINITY;
	if (split[0][0].gpu != split[1][0].gpu)
		return a + b;
	return split[0][0].serving_usd + split[1][0].serving_usd +
	       fmax(split[0][0].spare_usd, split[1][0].spare_usd);
}

void plan_decision_free(struct plan_decision *d)
{
	for (int k = 0; k < 2; k++) {
		free(d->cands[k]);
		d->cands[k] = NULL;
		d->ncands[k] = 0;
	}
}

/* The best candidate of a pool that lost, kept for the words (its first, fitting or not). */
static void keep_alt(struct plan_decision *d, int k, const struct pool_traffic *t,
		     const struct candidate *c, int n)
{
	d->alt_pool[k] = *t;
	memset(&d->alt[k], 0, sizeof(d->alt[k]));
	if (n > 0)
		d->alt[k] = c[0];
	else
		snprintf(d->alt[k].reason, sizeof(d->alt[k].reason), "no candidate");
}

/*
 * Weigh P/D disaggregation against each decided pool's best aggregated
 * candidate (MoE models only: there the modes move GPU counts most, and
 * dense plans stay as fast as they were). 0, or -1 out of memory (d freed).
 */
static int plan_disagg(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		       const struct engine_profile *e, const struct plan_params *p,
		       struct plan_decision *d)
{
	if (!m->experts || p->no_disagg)
		return 0;
	for (int k = 0; k < d->npools; k++) {
		if (disagg_pool(m, gpus, ngpus, e, &d->pool[k], p, &d->disagg[k])) {
			plan_decision_free(d);
			return -1;
		}
		d->candidates += d->disagg[k].candidates;
		double agg = best_cost(d->cands[k], d->ncands[k]);
		d->disagg_wins[k] = d->disagg[k].fits && d->disagg[k].total_usd < agg;
	}
	return 0;
}

int plan_decide(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct plan_workload *w, int nw,
		int64_t long_context, const struct plan_params *p, struct plan_decision *d)
{
	struct pool_traffic shared_t[2], split_t[2], best_t[2];
	struct candidate *shared = NULL, *split[2], *best[2] = { NULL, NULL };
	int nshared, nsplit[2], nbest[2] = { 0, 0 };
	int64_t thresholds[16], ctx = length_limit(m->max_context_tokens, p);
	int nt = 0;

	memset(d, 0, sizeof(*d));
	d->split_usd = INFINITY;
	if (long_context > 0)
		thresholds[nt++] = long_context;
	else if (long_context == 0)
		nt = plan_thresholds(w, nw, ctx, thresholds, 16);

	for (int i = 0; i < nt; i++) {
		if (plan_pools(w, nw, thresholds[i], 0, m->max_context_tokens, p, split_t) != 2) {
			d->forced_empty = long_context > 0;
			continue;
		}
		nsplit[0] = plan_pool(m, gpus, ngpus, e, &split_t[0], p, &split[0]);
		nsplit[1] = nsplit[0] < 0 ? -1 : plan_pool(m, gpus, ngpus, e, &split_t[1], p,
							   &split[1]);
		if (nsplit[0] < 0 || nsplit[1] < 0) {
			if (nsplit[0] >= 0)
				free(split[0]);
			free(best[0]);
			free(best[1]);
			return -1;
		}
		d->candidates += nsplit[0] + nsplit[1];
		double cost = split_cost(split, nsplit);
		if (!d->threshold || cost < d->split_usd) {
			free(best[0]);
			free(best[1]);
			for (int k = 0; k < 2; k++) {
				best_t[k] = split_t[k];
				best[k] = split[k];
				nbest[k] = nsplit[k];
			}
			d->split_usd = cost;
			d->threshold = thresholds[i];
		} else {
			free(split[0]);
			free(split[1]);
		}
	}

	/*
	 * The shared pool it is weighed against keeps the same requests in the
	 * long class: isolation is then chosen for cost, never for an SLO the
	 * shared pool would not have had to meet.
	 */
	plan_pools(w, nw, 0, d->threshold, m->max_context_tokens, p, shared_t);
	nshared = plan_pool(m, gpus, ngpus, e, &shared_t[0], p, &shared);
	if (nshared < 0) {
		free(best[0]);
		free(best[1]);
		return -1;
	}
	d->candidates += nshared;
	d->shared_usd = best_cost(shared, nshared);

	/* A split stands when it works and is cheaper -- or when the scenario fixed it. */
	if (d->threshold && isfinite(d->split_usd) &&
	    (long_context > 0 || d->split_usd < d->shared_usd)) {
		d->npools = 2;
		for (int k = 0; k < 2; k++) {
			d->pool[k] = best_t[k];
			d->cands[k] = best[k];
			d->ncands[k] = nbest[k];
		}
		d->alt_pools = 1;
		keep_alt(d, 0, &shared_t[0], shared, nshared);
		free(shared);
		return plan_disagg(m, gpus, ngpus, e, p, d);
	}
	if (d->threshold) {
		d->alt_pools = 2;
		for (int k = 0; k < 2; k++)
			keep_alt(d, k, &best_t[k], best[k], nbest[k]);
	}
	free(best[0]);
	free(best[1]);
	d->npools = 1;
	d->pool[0] = shared_t[0];
	d->cands[0] = shared;
	d->ncands[0] = nshared;
	return plan_disagg(m, gpus, ngpus, e, p, d);
}

void plan_mode_words(const struct disagg_plan *dg, const struct candidate *agg, int q,
		     char *buf, size_t n)
{
	int have_agg = agg && agg->fits;
	if (!dg->tried) {
		snprintf(buf, n, "disaggregation not tried");
		return;
	}
	if (!dg->fits) {
		snprintf(buf, n, "disaggregated cannot serve: %s", dg->reason);
		return;
	}
	long long pg = (long long)(dg->prefill.instances[q] * dg->prefill.inst.gpus);
	long long dgpus = (long long)(dg->decode.instances[q] * dg->decode.inst.gpus);
	if (!have_agg) {
		snprintf(buf, n, "disaggregated serves where no aggregated candidate does: %lld "
			 "prefill x %d + %lld decode x %d GPUs",
			 (long long)dg->prefill.instances[q], dg->prefill.inst.gpus,
			 (long long)dg->decode.instances[q], dg->decode.inst.gpus);
		return;
	}
	long long ag = (long long)(agg->instances[q] * agg->inst.gpus);
	int dis_wins = dg->total_usd < agg->total_usd;
	double lo = dis_wins ? dg->total_usd : agg->total_usd;
	double hi = dis_wins ? agg->total_usd : dg->total_usd;
	snprintf(buf, n, "%s costs %.0f%% more (%.0f vs %.0f USD): %lld prefill x %d + %lld "
		 "decode x %d GPUs (%lld) against %lld aggregated x %d (%lld)%s",
		 dis_wins ? "aggregated" : "disaggregated", lo > 0 ? 100 * (hi / lo - 1) : 100.0,
		 hi, lo, (long long)dg->prefill.instances[q], dg->prefill.inst.gpus,
		 (long long)dg->decode.instances[q], dg->decode.inst.gpus, pg + dgpus,
		 (long long)agg->instances[q], agg->inst.gpus, ag,
		 !dis_wins && dg->prefill.instances[q] == 1 && dg->decode.instances[q] == 1 ?
		 "; one instance of each side holds more than the demand needs" : "");
}
