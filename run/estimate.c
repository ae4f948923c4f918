/*
 * estimate.c - see estimate.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "run/estimate.h"
#include "lib/util.h"
#include "run/vllm_args.h"
#include "schema/load.h"
#include "schema/lookup.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* --max-model-len defaults to isl + osl rounded up to this. */
#define MODEL_LEN_ROUND 256

/* One layout tried: the instance and, when it fits, its load point. */
struct trial {
	struct instance in;
	struct load_point lp;
};

/*
 * A decode-only instance (P/D disaggregation's decode side) under a closed
 * loop: its KV arrives transferred, so no prefill rides in its steps; the
 * running batch per rank is the clients' share up to what it holds, TPOT
 * one decode step at the mean context (planner/disagg.h).
 */
static void decode_only(const struct instance *in, const struct estimate_request *t,
			struct load_point *lp)
{
	double dp = in->layout.dp, cap = instance_max_running(in, t->isl, t->osl);
	double n = fmin(t->value / dp, cap);
	int mb = 0;
	memset(lp, 0, sizeof(*lp));
	if (n < 1e-9)
		n = 1e-9;
	lp->running = n;
	lp->tpot_s = instance_decode_step_s(in, n, t->isl + t->osl / 2, &mb) +
		     n / t->osl * in->perf.p.request_overhead_s;
	lp->ttft_s = -1;
	lp->output_tok_s = dp * n / lp->tpot_s;
	lp->request_rate = lp->output_tok_s / t->osl;
	lp->capacity_rate = dp * cap / (t->osl * lp->tpot_s);
	lp->utilisation = n / cap;
	lp->memory_bound = mb;
}

static void run_traffic(const struct instance *in, const struct estimate_request *t,
			struct load_point *lp)
{
	if (in->layout.role == PD_DECODE && t->mode == ESTIMATE_CONCURRENCY) {
		decode_only(in, t, lp);
		return;
	}
	switch (t->mode) {
	case ESTIMATE_OFFLINE:
		instance_offline(in, t->isl, t->osl, t->value, lp);
		break;
	case ESTIMATE_CONCURRENCY:
		instance_closed_loop(in, t->isl, t->osl, t->value, lp);
		break;
	case ESTIMATE_RATE:
		instance_open_loop(in, t->isl, t->osl, t->value, lp);
		break;
	}
}

/*
 * Whether a trial serves the load it was asked: N clients all running at
 * once (the KV holds N sequences over the DP ranks), a rate below the
 * capacity; offline always.
 */
static int serves(const struct trial *t, const struct estimate_request *req)
{
	switch (req->mode) {
	case ESTIMATE_CONCURRENCY:
		return (double)t->in.max_num_seqs * t->in.layout.dp >= req->value;
	case ESTIMATE_RATE:
		return !t->lp.saturated;
	case ESTIMATE_OFFLINE:
		break;
	}
	return 1;
}

/*
 * Better: fits; then serves the load (a layout that fits but queues 48 of
 * 64 clients for a KV slot is no answer to "how do I serve 64"); then fewer
 * GPUs; then more output tokens/s per GPU.
 */
static int better(const struct trial *a, const struct trial *b, const struct estimate_request *req)
{
	if (a->in.fits != b->in.fits)
		return a->in.fits;
	if (a->in.fits && serves(a, req) != serves(b, req))
		return serves(a, req);
	if (!a->in.fits) {
		/*
		 * Neither fits: the largest layout that got as far as its memory
		 * (its reason is about memory); when none did, the smallest layout's
		 * refusal (a precision or a model the GPU cannot serve at all).
		 */
		int sa = a->in.weights_bytes_per_gpu > 0, sb = b->in.weights_bytes_per_gpu > 0;
		if (sa != sb)
			return sa;
		return sa ? a->in.gpus > b->in.gpus : a->in.gpus < b->in.gpus;
	}
	if (a->in.gpus != b->in.gpus)
		return a->in.gpus < b->in.gpus;
	return a->lp.output_tok_s / a->in.gpus > b->lp.output_tok_s / b->in.gpus;
}

/*
 * Without --tp: every power-of-two TP within a node (or the NVLink domain
 * when it is larger), PP 1..8 (or the one given), and for MoE models DP
 * 1..16 within the expert-group limit (or the one given) with EP off and on
 * (or as given).
 */
static void choose_layout(const struct model_arch *m, const struct gpu_spec *g,
			  const struct engine_profile *e, const struct estimate_request *req,
			  const struct instance_request *rq, struct trial *best)
{
	const struct layout *base = &req->layout;
	int have = 0, max_tp = instance_max_tp(g), max_group = instance_max_expert_group(g);
	struct trial *c = xmalloc(sizeof(*c));

	for (int tp = 1; tp <= max_tp; tp *= 2) {
		for (int pp = 1; pp <= 8; pp *= 2) {
			if (req->pp_given && pp != base->pp)
				continue;
			for (int dp = 1; dp <= 16; dp *= 2) {
				if (req->dp_given ? dp != base->dp
						  : dp > 1 && (!m->experts || tp * dp > max_group))
					continue;
				for (int ep = 0; ep <= 1; ep++) {
					if (req->ep_given ? ep != base->ep : ep && !m->experts)
						continue;
					struct layout l = *base;
					memset(c, 0, sizeof(*c));
					l.tp = tp;
					l.pp = pp;
					l.dp = dp;
					l.ep = ep;
					if (instance_size(m, g, e, &l, rq, &c->in))
						run_traffic(&c->in, req, &c->lp);
					if (!have || better(c, best, req))
						*best = *c;
					have = 1;
				}
			}
		}
	}
	free(c);
}

int estimate_instance(struct db *db, const struct estimate_request *req, struct estimate *out)
{
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct trial best;
	char *gpu_id = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->model_id = lookup_model(db, req->model);
	if (!out->model_id || load_model_arch(db, out->model_id, &out->arch))
		goto cleanup;
	gpu_id = lookup_gpu(db, req->gpu);
	if (!gpu_id || load_gpu_spec(db, gpu_id, &out->gpu))
		goto cleanup;
	if (load_engine_profile(db, req->engine, &out->engine))
		goto cleanup;

	/*
	 * isl + osl rounded up, but never above the model's context (vLLM
	 * refuses a longer max_model_len); a request longer than the context
	 * keeps its length, and the instance says why it cannot serve it.
	 */
	int64_t need = (int64_t)(req->isl + req->osl);
	int64_t ctx = out->arch.max_context_tokens;
	rq.max_model_len = req->max_model_len > 0 ? req->max_model_len
		: round_up_tokens(need, MODEL_LEN_ROUND);
	if (!req->max_model_len && ctx > 0 && rq.max_model_len > ctx)
		rq.max_model_len = need <= ctx ? ctx : need;
	rq.resident_tokens_per_seq = req->isl + req->osl / 2;
	rq.gpu_memory_utilization = req->gpu_memory_utilization;
	rq.max_num_seqs = req->max_num_seqs;
	rq.max_num_batched_tokens = req->max_num_batched_tokens;
	rq.block_size_tokens = req->block_size;
	rq.enforce_eager = req->enforce_eager;
	rq.cross_node_tp = req->cross_node_tp;
	rq.prefix_hit = req->prefix_hit;
	rq.output_max_tokens = req->osl_max;

	/* EAGLE-3 runs the draft head published for the model (instance.h). */
	struct estimate_request r = *req;
	if (r.layout.spec.method == DRAFT_EAGLE3 && !r.layout.spec.draft[0]) {
		const char *draft = spec_eagle3_draft(out->model_id);
		snprintf(r.layout.spec.draft, sizeof(r.layout.spec.draft), "%s", draft ? draft : "");
	}
	req = &r;
	memset(&best, 0, sizeof(best));
	if (req->tp_given) {
		if (instance_size(&out->arch, &out->gpu, &out->engine, &req->layout, &rq, &best.in))
			run_traffic(&best.in, req, &best.lp);
	} else {
		choose_layout(&out->arch, &out->gpu, &out->engine, req, &rq, &best);
	}
	out->in = best.in;
	out->lp = best.lp;
	out->vllm_args = best.in.fits ? vllm_args_alloc(&best.in, &out->arch, out->model_id)
				      : xstrdup("");
	if (best.in.fits)
		launch_lines_alloc(&best.in, &out->arch, out->model_id, out->engine.id,
				   &out->launch);
	ret = 0;
cleanup:
	free(gpu_id);
	if (ret)
		estimate_free(out);
	return ret;
}

void estimate_free(struct estimate *e)
{
	free(e->vllm_args);
	launch_lines_free(&e->launch);
	free(e->model_id);
	memset(e, 0, sizeof(*e));
}
