/*
 * disagg.c - prefill/decode disaggregation (see disagg.h): the KV hand-off,
 * each side's rate under its own SLO, and the cheapest pair over a horizon.
 */
#include "disagg.h"
#include "fleet.h"
#include "plan.h"
#include "slo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BISECT_ITERS 60
/* Sides of each kind kept per GPU type for pairing (by cost per request/s). */
#define DISAGG_KEEP 8

double disagg_kv_bytes(const struct model_arch *m, int kv_elem_bytes, double prompt_tokens)
{
	if (!(prompt_tokens > 0))
		return 0;
	return model_kv_bytes_per_sequence(m, kv_elem_bytes, (int64_t)ceil(prompt_tokens));
}

double disagg_transfer_s(double bytes, int links, double bytes_per_s)
{
	if (!(bytes_per_s > 0))
		return INFINITY;
	return bytes / ((links > 0 ? links : 1) * bytes_per_s) + DISAGG_TRANSFER_LATENCY_S;
}

int disagg_links(const struct model_arch *m, const struct instance *in)
{
	double whole = (double)model_kv_bytes_per_token(m, in->layout.kv_elem_bytes == 1 ||
							   m->ckpt.kv_fp8 ? 1 : 2);
	double per_gpu = in->kv_bytes_per_token_per_gpu;
	if (!(per_gpu > 0) || !(whole > 0))
		return in->layout.pp > 0 ? in->layout.pp : 1;
	/* The busiest stage holds a share of the layers: whole / per GPU counts shards x stages. */
	int links = (int)floor(whole / per_gpu + 0.5);
	int most = in->layout.tp * in->layout.pp;
	return links < 1 ? 1 : links > most ? most : links;
}

double disagg_pd_ratio(double prefill_rate_rps, double decode_rate_rps)
{
	if (!(prefill_rate_rps > 0) || !(decode_rate_rps > 0))
		return 0;
	return decode_rate_rps / prefill_rate_rps;
}

static int kv_elem_of(const struct model_arch *m, const struct layout *l)
{
	return l->kv_elem_bytes == 2 && m->ckpt.kv_fp8 ? 1 : l->kv_elem_bytes;
}

static double ttft_target(const struct slo_target *tgt, const struct slo_point *p)
{
	double target = tgt->ttft_s;
	if (p->long_class && tgt->long_ttft_s_per_token > 0)
		target = fmax(target, tgt->long_ttft_s_per_token * p->tokens);
	return target;
}

/* A prefill rank's queue: per prompt point, the fixed part of its TTFT. */
struct prefill_queue {
	double es, es2;			/* service time moments, seconds */
	double fixed[SLO_MAX_POINTS];	/* front end + own prefill + transfer + decode steps */
	double bytes_mean;		/* KV bytes per request, mean over prompts */
};

/* Share of requests over their TTFT target at per-rank rate lambda (1 when unstable). */
static double prefill_misses(const struct slo_traffic *t, const struct slo_target *tgt,
			     const struct prefill_queue *q, double lambda)
{
	double rho = lambda * q->es, miss = 0;
	if (rho >= 1)
		return 1;
	double wait = lambda > 0 ? mg1_mean_wait(lambda, q->es, q->es2) : 0;
	for (int i = 0; i < t->nprompt; i++)
		miss += t->prompt[i].weight *
			wait_tail(rho, wait, ttft_target(tgt, &t->prompt[i]) - q->fixed[i]);
	return miss;
}

static double prefill_ttft_quantile(const struct slo_traffic *t, const struct prefill_queue *q,
				    double lambda, double quantile)
{
	double rho = lambda * q->es;
	if (rho >= 1)
		return INFINITY;
	double wait = lambda > 0 ? mg1_mean_wait(lambda, q->es, q->es2) : 0;
	double lo = 0, hi = 1e-3;
	for (;;) {
		double tail = 0;
		for (int i = 0; i < t->nprompt; i++)
			tail += t->prompt[i].weight * wait_tail(rho, wait, hi - q->fixed[i]);
		if (tail <= 1 - quantile || hi > 1e9)
			break;
		hi *= 2;
	}
	for (int k = 0; k < BISECT_ITERS; k++) {
		double mid = 0.5 * (lo + hi), tail = 0;
		for (int i = 0; i < t->nprompt; i++)
			tail += t->prompt[i].weight * wait_tail(rho, wait, mid - q->fixed[i]);
		if (tail > 1 - quantile)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static double quantile_of(const struct slo_target *tgt)
{
	return tgt->quantile > 0 && tgt->quantile < 1 ? tgt->quantile : 0.99;
}

static double util_of(const struct slo_target *tgt)
{
	return tgt->utilisation > 0 && tgt->utilisation < 1 ? tgt->utilisation : 1;
}

static void eval_prefill(const struct model_arch *m, const struct pool_traffic *t,
			 const struct plan_params *p, double link_bytes_per_s,
			 struct disagg_side *out)
{
	const struct instance *in = &out->inst;
	const struct slo_traffic *tr = &t->lengths;
	const struct slo_target *tgt = &p->slo;
	struct prefill_queue q;
	char pct[16];
	double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
	/* Prefix-cache hits: (1 - h) of each prompt computed, attending (1 + h)/2 of it. */
	double h = in->prefix_hit > 0 ? in->prefix_hit : 0;
	double keys = t->isl * (1 + t->prompt_cv2) / 2 * (1 + h);
	double per_token = instance_prefill_chunk_s(in, keys) / budget * (1 - h);
	double over = in->perf.p.request_overhead_s;
	double decode_steps = 1.5 * (tgt->tpot_s > 0 ? tgt->tpot_s : 0);
	int links = disagg_links(m, in), kvb = kv_elem_of(m, &in->layout);
	double qq = quantile_of(tgt), util = util_of(tgt), dp = in->layout.dp;

	slo_percentile_name(qq, pct);
	memset(&q, 0, sizeof(q));
	for (int i = 0; i < tr->nprompt; i++) {
		const struct slo_point *pt = &tr->prompt[i];
		double s = pt->tokens, bytes = disagg_kv_bytes(m, kvb, s);
		q.es += pt->weight * (per_token * s + over);
		q.es2 += pt->weight * (per_token * per_token * pt->tokens_sq + 2 * per_token * over * s +
				       over * over);
		q.bytes_mean += pt->weight * bytes;
		q.fixed[i] = in->perf.p.ttft_latency_s + instance_prefill_s(in, s) +
			     disagg_transfer_s(bytes, links, link_bytes_per_s) + decode_steps;
	}
	if (prefill_misses(tr, tgt, &q, 0) > (1 - qq) * (1 + 1e-9)) {
		out->ttft_s = prefill_ttft_quantile(tr, &q, 0, qq);
		snprintf(out->reason, sizeof(out->reason), "prefill misses the TTFT target even "
			 "unloaded (TTFT %s %.0f ms with the KV transfer and the decode's first step)",
			 pct, out->ttft_s * 1e3);
		return;
	}
	/* Per rank: the utilisation target and the network's share cap the search. */
	double hi = util / q.es;
	double net = q.bytes_mean > 0 ? util * links * link_bytes_per_s / q.bytes_mean : INFINITY;
	if (net < hi)
		hi = net;
	double lo = 0;
	if (prefill_misses(tr, tgt, &q, hi) <= (1 - qq) * (1 + 1e-9))
		lo = hi;
	for (int k = 0; k < BISECT_ITERS && hi - lo > 1e-4 * hi; k++) {
		double mid = 0.5 * (lo + hi);
		if (prefill_misses(tr, tgt, &q, mid) <= (1 - qq) * (1 + 1e-9))
			lo = mid;
		else
			hi = mid;
	}
	if (!(lo > 0)) {
		snprintf(out->reason, sizeof(out->reason), "prefill sustains no load within the TTFT "
			 "target");
		return;
	}
	out->rate_rps = dp * lo;
	out->busy = lo * q.es;
	out->ttft_s = prefill_ttft_quantile(tr, &q, lo, qq);
	out->fits = 1;
	snprintf(out->reason, sizeof(out->reason), "prefill %.3g req/s per instance (%.0f prompt "
		 "tokens/s) at TTFT %s %.0f ms incl. the KV transfer, %.0f%% busy",
		 out->rate_rps, out->rate_rps * t->isl, pct, out->ttft_s * 1e3, 100 * out->busy);
}

/* Decode TPOT at n running per rank: steps with no prefill in them, plus admissions. */
static double decode_tpot(const struct instance *in, double n, double isl, double osl)
{
	return instance_decode_step_s(in, n, isl + osl / 2, NULL) +
	       (osl > 0 ? n / osl : 0) * in->perf.p.request_overhead_s;
}

static void eval_decode(const struct pool_traffic *t, const struct plan_params *p,
			struct disagg_side *out)
{
	struct instance *in = &out->inst;
	const struct slo_target *tgt = &p->slo;
	double isl = t->isl, osl = t->osl > 1 ? t->osl : 1, dp = in->layout.dp;
	double qq = quantile_of(tgt), util = util_of(tgt);
	int cap = in->max_num_seqs, lo = 0, hi = cap;
	char pct[16];

	slo_percentile_name(qq, pct);
	if (tgt->tpot_s > 0) {
		if (decode_tpot(in, 1, isl, osl) > tgt->tpot_s) {
			out->tpot_s = decode_tpot(in, 1, isl, osl);
			snprintf(out->reason, sizeof(out->reason), "decode TPOT %.1f ms even at one "
				 "running sequence, above the %g ms target", out->tpot_s * 1e3,
				 tgt->tpot_s * 1e3);
			return;
		}
		lo = 1;
		if (decode_tpot(in, cap, isl, osl) <= tgt->tpot_s)
			lo = cap;
		while (hi - lo > 1) {
			int mid = lo + (hi - lo) / 2;
			if (decode_tpot(in, mid, isl, osl) <= tgt->tpot_s)
				lo = mid;
			else
				hi = mid;
		}
	} else {
		lo = cap;
	}
	int n = lo;
	in->max_num_seqs = n;
	double tpot = decode_tpot(in, n, isl, osl);
	double per_slot = 1 / (osl * tpot);		/* requests/s one busy slot completes */
	int slots = n * (int)dp;
	/*
	 * The largest rate at which at most 1 - q of requests wait for a slot
	 * (M/M/c over every rank's slots, Erlang C), and the utilisation target.
	 */
	double rate_hi = util * slots * per_slot, rate_lo = 0;
	if (erlang_c(slots, rate_hi / per_slot) <= 1 - qq)
		rate_lo = rate_hi;
	for (int k = 0; k < BISECT_ITERS && rate_hi - rate_lo > 1e-4 * rate_hi; k++) {
		double mid = 0.5 * (rate_lo + rate_hi);
		if (erlang_c(slots, mid / per_slot) <= 1 - qq)
			rate_lo = mid;
		else
			rate_hi = mid;
	}
	if (!(rate_lo > 0)) {
		snprintf(out->reason, sizeof(out->reason), "decode cannot admit requests without "
			 "waiting for a slot");
		return;
	}
	out->rate_rps = rate_lo;
	out->tpot_s = tpot;
	out->busy = rate_lo / (slots * per_slot);
	out->fits = 1;
	snprintf(out->reason, sizeof(out->reason), "decode %.3g req/s per instance at TPOT %s "
		 "%.1f ms (no prefill in its steps), max_num_seqs %d, %.0f%% busy", out->rate_rps,
		 pct, tpot * 1e3, n, 100 * out->busy);
}

void disagg_side_eval(const struct model_arch *m, const struct plan_gpu *gpus, int gi,
		      const struct engine_profile *e, const struct pool_traffic *t,
		      const struct plan_params *p, const struct layout *l,
		      double transfer_bytes_per_s, struct disagg_side *out)
{
	const struct plan_gpu *g = &gpus[gi];
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct layout lay = *l;

	memset(out, 0, sizeof(*out));
	out->gpu = gi;
	rq.max_model_len = t->max_model_len;
	rq.prompt_cv2 = t->prompt_cv2;
	/* A prefill instance holds prompts until their KV is read; a decode one whole requests. */
	rq.resident_tokens_per_seq = l->role == PD_PREFILL ? t->isl : t->isl + t->osl / 2;
	/* Prefix-cache hits save prefill: the prefill side's (the decode side receives all). */
	rq.prefix_hit = l->role == PD_PREFILL ? plan_prefix_asked(p, t) : 0;
	instance_size(m, &g->spec, e, &lay, &rq, &out->inst);
	double price = isnan(g->usd_per_gpu_hour) ? g->owned_usd_per_gpu_hour : g->usd_per_gpu_hour;
	out->usd_per_hour = price * out->inst.gpus;
	if (!out->inst.fits) {
		snprintf(out->reason, sizeof(out->reason), "%s", out->inst.reason);
		return;
	}
	if (g->spec.scaleout_bytes_per_s <= 0) {
		snprintf(out->reason, sizeof(out->reason), "P/D disaggregation moves the KV over the "
			 "scale-out network: %s has none in the catalog", g->spec.id);
		return;
	}
	if (l->role == PD_PREFILL) {
		eval_prefill(m, t, p, transfer_bytes_per_s, out);
		/*
		 * What a finite cache keeps of the asked hits (prefix_hit_kept, as
		 * aggregated candidates get it): the prefill rank's KV beyond one
		 * chunk in flight, turned over by the prompt blocks it allocates at
		 * the rate found; one round, erring low (plan.c refine_prefix_hit).
		 */
		struct instance *in = &out->inst;
		if (out->fits && in->prefix_hit > 0) {
			double dp = in->layout.dp > 0 ? in->layout.dp : 1;
			double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens
								       : 8192;
			double free_tokens = (double)in->kv_tokens - budget;
			double alloc = out->rate_rps / dp * (1 - in->prefix_hit) * t->isl;
			double kept = prefix_hit_kept(plan_prefix_asked(p, t), t->reuse_unbounded,
						      t->reuse_within, t->reuse_points, free_tokens,
						      alloc);
			out->prefix_retention_s = alloc > 0 && free_tokens > 0 ? free_tokens / alloc : 0;
			if (kept < in->prefix_hit - 1e-4) {
				instance_set_prefix_hit(in, kept);
				out->fits = 0;
				eval_prefill(m, t, p, transfer_bytes_per_s, out);
			}
		}
	} else {
		eval_decode(t, p, out);
	}
	out->usd_per_rps = out->fits && out->rate_rps > 0 ? out->usd_per_hour / out->rate_rps
							  : INFINITY;
	if (out->fits && !(out->usd_per_hour > 0) && !(g->owned[0] > 0)) {
		out->fits = 0;
		snprintf(out->reason, sizeof(out->reason), "%s has no price", g->spec.id);
	}
}

/* The layouts one side tries on g: TP in a node, DP x EP in a node, wide EP over nodes. */
static int side_layouts(const struct model_arch *m, const struct gpu_spec *g,
			const struct plan_params *p, enum pd_role role, struct layout *out, int max)
{
	enum precision precs[2] = { PREC_NATIVE, PREC_FP8 };
	int nprec = (p->allow_fp8 && g->fp8_flops > 0 && !m->ckpt.quant_method[0]) ? 2 : 1;
	int node = comm_node_gpus(g), n = 0, groups[4];
	int ng = plan_wide_ep_groups(m, g, groups, 4);

	for (int pi = 0; pi < nprec; pi++) {
		for (int tp = 1; tp <= instance_max_tp(g) && tp <= 16; tp *= 2)
			for (int dp = 1; tp * dp <= node && n < max; dp *= 2) {
				if (dp > 1 && !m->experts)
					break;
				struct layout *l = &out[n++];
				memset(l, 0, sizeof(*l));
				l->tp = tp;
				l->pp = 1;
				l->dp = dp;
				l->ep = dp > 1;
				l->precision = precs[pi];
				l->kv_elem_bytes = 2;
				l->role = role;
			}
		for (int i = 0; i < ng && n < max; i++) {
			struct layout *l = &out[n++];
			memset(l, 0, sizeof(*l));
			l->tp = 1;
			l->pp = 1;
			l->dp = groups[i];
			l->ep = 1;
			l->precision = precs[pi];
			l->kv_elem_bytes = 2;
			l->role = role;
			/* DeepEP's normal kernels for prompt batches, low-latency ones for decode. */
			l->a2a = role == PD_PREFILL ? A2A_DEEPEP_HT : A2A_DEEPEP_LL;
			l->redundant_experts = groups[i];
		}
	}
	/*
	 * The serving modes inside an instance, as aggregated layouts get them
	 * (plan_mode_variants): fp8 KV on both sides (it halves the transfer
	 * too), speculation on the decode side only (a prefill instance emits
	 * one token).
	 */
	int bases = n;
	for (int i = 0; i < bases; i++) {
		struct layout v[4];
		int nv = plan_mode_variants(m, g, p, &out[i], v);
		for (int k = 0; k < nv && n < max; k++)
			if (role == PD_DECODE || v[k].spec.method == DRAFT_NONE)
				out[n++] = v[k];
	}
	return n;
}

/* Keep the DISAGG_KEEP cheapest fitting sides (by cost per request/s) in keep[], sorted. */
static void keep_best(struct disagg_side *keep, int *nkeep, const struct disagg_side *s)
{
	int k;
	if (!s->fits)
		return;
	if (*nkeep < DISAGG_KEEP)
		k = (*nkeep)++;
	else if (s->usd_per_rps < keep[DISAGG_KEEP - 1].usd_per_rps)
		k = DISAGG_KEEP - 1;
	else
		return;
	keep[k] = *s;
	for (; k > 0 && keep[k].usd_per_rps < keep[k - 1].usd_per_rps; k--) {
		struct disagg_side tmp = keep[k];
		keep[k] = keep[k - 1];
		keep[k - 1] = tmp;
	}
}

/* Quarter costs of a pair; the pair's instances in pre/dec; NAN when it cannot be priced. */
static double pair_cost(const struct plan_gpu *gpus, const struct pool_traffic *t,
			const struct plan_params *p, struct disagg_side *pre,
			struct disagg_side *dec, double *spare_usd)
{
	const struct plan_gpu *gp = &gpus[pre->gpu], *gd = &gpus[dec->gpu];
	double serving = 0, spare = 0;
	for (int q = 0; q < p->quarters && q < DISAGG_MAX_QUARTERS; q++) {
		int64_t np = fleet_instances(t->demand_rps[q], pre->rate_rps, 0);
		int64_t nd = fleet_instances(t->demand_rps[q], dec->rate_rps, 0);
		if (fleet_saturated(np, 0) || fleet_saturated(nd, 0))
			return NAN;
		pre->instances[q] = np;
		dec->instances[q] = nd;
		int qi = p->start_quarter + q;
		int64_t sp = np > 0 && p->spares > 0 ? p->spares : 0;
		if (pre->gpu == dec->gpu) {
			int64_t big = pre->inst.gpus > dec->inst.gpus ? pre->inst.gpus : dec->inst.gpus;
			int64_t used = np * pre->inst.gpus + nd * dec->inst.gpus;
			double s = plan_gpu_quarter_usd(gp, q, qi, used);
			double a = plan_gpu_quarter_usd(gp, q, qi, used + sp * big);
			if (isnan(a))
				return NAN;
			serving += s;
			spare += a - s;
		} else {
			double s1 = plan_gpu_quarter_usd(gp, q, qi, np * pre->inst.gpus);
			double a1 = plan_gpu_quarter_usd(gp, q, qi, (np + sp) * pre->inst.gpus);
			double s2 = plan_gpu_quarter_usd(gd, q, qi, nd * dec->inst.gpus);
			double a2 = plan_gpu_quarter_usd(gd, q, qi, (nd + sp) * dec->inst.gpus);
			if (isnan(a1) || isnan(a2))
				return NAN;
			serving += s1 + s2;
			spare += a1 - s1 + a2 - s2;
		}
	}
	*spare_usd = spare;
	return serving + spare;
}

int disagg_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct pool_traffic *t,
		const struct plan_params *p, struct disagg_plan *out)
{
	enum { MAX_LAYOUTS = 256 };
	struct layout *lays = malloc(MAX_LAYOUTS * sizeof(*lays));
	struct disagg_side *keep_p = calloc((size_t)(ngpus > 0 ? ngpus : 1) * DISAGG_KEEP,
					    sizeof(*keep_p));
	struct disagg_side *keep_d = calloc((size_t)(ngpus > 0 ? ngpus : 1) * DISAGG_KEEP,
					    sizeof(*keep_d));
	struct disagg_side *side = malloc(sizeof(*side));
	int *np = calloc((size_t)(ngpus > 0 ? ngpus : 1), sizeof(int));
	int *nd = calloc((size_t)(ngpus > 0 ? ngpus : 1), sizeof(int));
	int ret = -1, networked = 0;
	char first_p[240] = "", first_d[240] = "";

	memset(out, 0, sizeof(*out));
	out->tried = 1;
	out->total_usd = INFINITY;
	if (!lays || !keep_p || !keep_d || !side || !np || !nd)
		goto cleanup;
	/*
	 * The transfer runs at the slower side's network: every candidate is
	 * judged at the slowest among the GPU types with one (exact when they
	 * are alike -- H100, H200 and B200 all have 400 Gb/s a GPU in the
	 * catalog -- and on the safe side when they are not).
	 */
	double link = INFINITY;
	for (int g = 0; g < ngpus; g++)
		if (gpus[g].spec.scaleout_bytes_per_s > 0) {
			networked++;
			link = fmin(link, gpus[g].spec.scaleout_bytes_per_s * e->link_efficiency);
		}
	if (!networked) {
		snprintf(out->reason, sizeof(out->reason), "P/D disaggregation moves the KV over the "
			 "scale-out network, and no candidate GPU type has one in the catalog");
		ret = 0;
		goto cleanup;
	}
	for (int g = 0; g < ngpus; g++) {
		if (gpus[g].spec.scaleout_bytes_per_s <= 0)
			continue;
		for (int role = PD_PREFILL; role <= PD_DECODE; role++) {
			int nl = side_layouts(m, &gpus[g].spec, p, (enum pd_role)role, lays,
					      MAX_LAYOUTS);
			for (int i = 0; i < nl; i++) {
				disagg_side_eval(m, gpus, g, e, t, p, &lays[i], link, side);
				out->candidates++;
				char *first = role == PD_PREFILL ? first_p : first_d;
				if (!side->fits && !first[0])
					snprintf(first, 240, "%s", side->reason);
				if (role == PD_PREFILL)
					keep_best(&keep_p[g * DISAGG_KEEP], &np[g], side);
				else
					keep_best(&keep_d[g * DISAGG_KEEP], &nd[g], side);
			}
		}
	}
	for (int a = 0; a < ngpus; a++)
		for (int i = 0; i < np[a]; i++)
			for (int b = 0; b < ngpus; b++)
				for (int j = 0; j < nd[b]; j++) {
					/* NIXL moves the blocks as they are: one KV dtype both sides. */
					if (kv_elem_of(m, &keep_p[a * DISAGG_KEEP + i].inst.layout) !=
					    kv_elem_of(m, &keep_d[b * DISAGG_KEEP + j].inst.layout))
						continue;
					struct disagg_side pre = keep_p[a * DISAGG_KEEP + i];
					struct disagg_side dec = keep_d[b * DISAGG_KEEP + j];
					double spare = 0, cost = pair_cost(gpus, t, p, &pre, &dec, &spare);
					if (isnan(cost) || cost >= out->total_usd)
						continue;
					out->prefill = pre;
					out->decode = dec;
					out->total_usd = cost;
					out->spare_usd = spare;
					out->serving_usd = cost - spare;
					out->fits = 1;
				}
	if (!out->fits) {
		int anyp = 0, anyd = 0;
		for (int g = 0; g < ngpus; g++) {
			anyp += np[g];
			anyd += nd[g];
		}
		snprintf(out->reason, sizeof(out->reason), "%s%.200s",
			 !anyp ? "no prefill candidate serves: " : !anyd ?
			 "no decode candidate serves: " : "no pair can be priced",
			 !anyp ? first_p : !anyd ? first_d : "");
		ret = 0;
		goto cleanup;
	}
	int kvb = kv_elem_of(m, &out->prefill.inst.layout);
	out->kv_bytes_per_request = disagg_kv_bytes(m, kvb, t->isl);
	out->transfer_s = disagg_transfer_s(out->kv_bytes_per_request,
					    disagg_links(m, &out->prefill.inst), link);
	out->pd_ratio = disagg_pd_ratio(out->prefill.rate_rps, out->decode.rate_rps);
	snprintf(out->reason, sizeof(out->reason), "prefill %d x %s + decode %d x %s per "
		 "instance, %.2f prefill per decode instance; KV %.1f MB per request in %.1f ms",
		 out->prefill.inst.gpus, gpus[out->prefill.gpu].spec.id, out->decode.inst.gpus,
		 gpus[out->decode.gpu].spec.id, out->pd_ratio, out->kv_bytes_per_request / 1e6,
		 out->transfer_s * 1e3);
	ret = 0;
cleanup:
	free(nd);
	free(np);
	free(side);
	free(keep_d);
	free(keep_p);
	free(lays);
	return ret;
}
