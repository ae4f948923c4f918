/*
 * estimate.c - see estimate.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "run/estimate.h"
#include "lib/util.h"
#include "run/vllm_args.h"
#include "schema/load.h"
#include "schema/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --max-model-len defaults to isl + osl rounded up to this. */
#define MODEL_LEN_ROUND 256

/* One layout tried: the instance and, when it fits, its load point. */
struct trial {
	struct instance in;
	struct load_point lp;
};

static void run_traffic(const struct instance *in, const struct estimate_request *t,
			struct load_point *lp)
{
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

/* Better: fits; then fewer GPUs; then more output tokens/s per GPU. */
static int better(const struct trial *a, const struct trial *b)
{
	if (a->in.fits != b->in.fits)
		return a->in.fits;
	if (!a->in.fits)	/* neither fits: show the largest attempt's reason */
		return a->in.gpus > b->in.gpus;
	if (a->in.gpus != b->in.gpus)
		return a->in.gpus < b->in.gpus;
	return a->lp.output_tok_s / a->in.gpus > b->lp.output_tok_s / b->in.gpus;
}

/*
 * Without --tp: every power-of-two TP within the NVLink domain, PP 1..8 (or
 * the one given), EP off and on for MoE models (or as given).
 */
static void choose_layout(const struct model_arch *m, const struct gpu_spec *g,
			  const struct engine_profile *e, const struct estimate_request *req,
			  const struct instance_request *rq, struct trial *best)
{
	const struct layout *base = &req->layout;
	int have = 0;
	for (int tp = 1; tp <= g->nvlink_domain_gpus; tp *= 2) {
		for (int pp = 1; pp <= 8; pp *= 2) {
			if (req->pp_given && pp != base->pp)
				continue;
			for (int ep = 0; ep <= 1; ep++) {
				if (req->ep_given ? ep != base->ep : ep && !m->experts)
					continue;
				struct trial c;
				struct layout l = *base;
				memset(&c, 0, sizeof(c));
				l.tp = tp;
				l.pp = pp;
				l.ep = ep;
				if (instance_size(m, g, e, &l, rq, &c.in))
					run_traffic(&c.in, req, &c.lp);
				if (!have || better(&c, best))
					*best = c;
				have = 1;
			}
		}
	}
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

	rq.max_model_len = req->max_model_len > 0 ? req->max_model_len
		: round_up_tokens((int64_t)(req->isl + req->osl), MODEL_LEN_ROUND);
	/* Rounding up must not pass the context when isl + osl itself fits in it. */
	if (!req->max_model_len && rq.max_model_len > out->arch.max_context_tokens &&
	    req->isl + req->osl <= (double)out->arch.max_context_tokens)
		rq.max_model_len = out->arch.max_context_tokens;
	rq.resident_tokens_per_seq = req->isl + req->osl / 2;
	rq.gpu_memory_utilization = req->gpu_memory_utilization;

	memset(&best, 0, sizeof(best));
	if (req->tp_given) {
		if (instance_size(&out->arch, &out->gpu, &out->engine, &req->layout, &rq, &best.in))
			run_traffic(&best.in, req, &best.lp);
	} else {
		choose_layout(&out->arch, &out->gpu, &out->engine, req, &rq, &best);
	}
	out->in = best.in;
	out->lp = best.lp;
	/*
	 * vLLM refuses a --max-model-len above the model's context
	 * (max_position_embeddings) unless told to allow it: a request that long
	 * is no configuration (scenario run caps the pools' at the context too).
	 */
	if (out->in.fits && out->in.max_model_len > out->arch.max_context_tokens) {
		out->in.fits = 0;
		snprintf(out->in.reason, sizeof(out->in.reason), "max_model_len %lld exceeds the "
			 "model's context of %lld tokens (max_position_embeddings): vLLM refuses it",
			 (long long)out->in.max_model_len, (long long)out->arch.max_context_tokens);
	}
	out->vllm_args = best.in.fits ? vllm_args_alloc(&best.in, &out->arch, out->model_id)
				      : xstrdup("");
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
	free(e->model_id);
	memset(e, 0, sizeof(*e));
}
