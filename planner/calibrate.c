/*
 * calibrate.c - predicting measured rows and fitting an engine's tree of
 * profiles to them (see calibrate.h). The optimiser is a plain Nelder-Mead
 * simplex in the logarithm of each parameter: efficiencies, latencies and
 * overheads are ratios, so a step of 10% means the same whether the value
 * is 0.05 or 0.8, a clamp to the bounds keeps every trial physical, and the
 * shrinkage toward a parent is a Gaussian prior on the log ratio.
 */
#include "calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_LEN_ROUND 256
#define UNFIT_PENALTY 4.0
#define TTFT_WEIGHT 0.25
#define OFFLINE_TPOT_WEIGHT 0.25
#define NM_MAX_EVALS 500
#define NM_MAX_RESTARTS 4

static const char *const param_names[CALIB_NPARAMS] = {
	"bw_efficiency", "flops_efficiency", "attn_efficiency", "kv_bw_efficiency",
	"moe_bw_efficiency", "layer_latency_us", "moe_layer_latency_us", "step_overhead_ms",
	"seq_overhead_us", "request_overhead_ms", "ttft_latency_ms",
};

/*
 * Bounds, in the table's units. Bandwidth fractions: a decode GEMV reaches
 * 0.3-0.95 of the HBM peak (notes/perf.md section 5: 57-84 % measured on
 * H100); KV reads 0.1-0.95 (42 % on H100; far below it, the fit is
 * absorbing an engine that preempts when its KV is full); attention FLOPs
 * 0.05-0.9; a
 * grouped GEMM streaming experts 0.05-0.95 (Apple M3 MoE at M=1:
 * 34 % where dense reaches 94 %). FLOP fractions 0.05-0.9 (vLLM's untuned
 * block-fp8 MoE prefill sits near the bottom). Per-layer latency 1-400 us
 * (a CUDA-graph launch is a few us per kernel; DeepSeek-R1 at batch 1 on
 * 8 x H200 spends about 200 us per layer), per MoE layer up to 400 us more;
 * per step 0.01-20 ms (an overlapped scheduler to a slow Python loop); per
 * sequence per step 0-100 us; per request 0-50 ms; the front end's latency
 * before a first token 0.1-500 ms.
 */
static const double param_lo[CALIB_NPARAMS] = {
	0.3, 0.05, 0.05, 0.1, 0.05, 1, 0.1, 0.01, 0.01, 0.001, 0.1,
};
static const double param_hi[CALIB_NPARAMS] = {
	0.95, 0.9, 0.9, 0.95, 0.95, 400, 400, 20, 100, 50, 500,
};

const char *calib_param_name(int k)
{
	return k >= 0 && k < CALIB_NPARAMS ? param_names[k] : "?";
}

void calib_param_bounds(int k, double *lo, double *hi)
{
	*lo = param_lo[k];
	*hi = param_hi[k];
}

double calib_param_get(const struct perf_params *p, int k)
{
	switch (k) {
	case CALIB_BW_EFFICIENCY:
		return p->bw_efficiency;
	case CALIB_FLOPS_EFFICIENCY:
		return p->flops_efficiency;
	case CALIB_ATTN_EFFICIENCY:
		return p->attn_efficiency;
	case CALIB_KV_BW_EFFICIENCY:
		return p->kv_bw_efficiency;
	case CALIB_MOE_BW_EFFICIENCY:
		return p->moe_bw_efficiency;
	case CALIB_LAYER_LATENCY:
		return p->layer_latency_s * 1e6;
	case CALIB_MOE_LAYER_LATENCY:
		return p->moe_layer_latency_s * 1e6;
	case CALIB_STEP_OVERHEAD:
		return p->step_overhead_s * 1e3;
	case CALIB_SEQ_OVERHEAD:
		return p->seq_overhead_s * 1e6;
	case CALIB_REQUEST_OVERHEAD:
		return p->request_overhead_s * 1e3;
	case CALIB_TTFT_LATENCY:
		return p->ttft_latency_s * 1e3;
	}
	return 0;
}

void calib_param_set(struct perf_params *p, int k, double v)
{
	switch (k) {
	case CALIB_BW_EFFICIENCY:
		p->bw_efficiency = v;
		break;
	case CALIB_FLOPS_EFFICIENCY:
		p->flops_efficiency = v;
		break;
	case CALIB_ATTN_EFFICIENCY:
		p->attn_efficiency = v;
		break;
	case CALIB_KV_BW_EFFICIENCY:
		p->kv_bw_efficiency = v;
		break;
	case CALIB_MOE_BW_EFFICIENCY:
		p->moe_bw_efficiency = v;
		break;
	case CALIB_LAYER_LATENCY:
		p->layer_latency_s = v / 1e6;
		break;
	case CALIB_MOE_LAYER_LATENCY:
		p->moe_layer_latency_s = v / 1e6;
		break;
	case CALIB_STEP_OVERHEAD:
		p->step_overhead_s = v / 1e3;
		break;
	case CALIB_SEQ_OVERHEAD:
		p->seq_overhead_s = v / 1e6;
		break;
	case CALIB_REQUEST_OVERHEAD:
		p->request_overhead_s = v / 1e3;
		break;
	case CALIB_TTFT_LATENCY:
		p->ttft_latency_s = v / 1e3;
		break;
	}
}

int calib_prepare(struct calib_row *r, const struct engine_profile *e)
{
	struct instance_request rq = INSTANCE_REQUEST_INIT;

	rq.max_model_len = round_up_tokens((int64_t)ceil(r->isl + r->osl), MODEL_LEN_ROUND);
	rq.resident_tokens_per_seq = r->isl + r->osl / 2;
	rq.output_max_tokens = r->osl_max;
	r->fits = instance_size(r->model, &r->gpu, e, &r->layout, &rq, &r->inst);
	r->prepared = 1;
	return r->fits;
}

int calib_predict(struct calib_row *r, const struct perf_params *p, struct calib_pred *pred)
{
	struct load_point lp;

	memset(pred, 0, sizeof(*pred));
	if (!r->fits)
		return 0;
	instance_set_perf(&r->inst, p);
	switch (r->load) {
	case CALIB_OFFLINE:
		instance_offline(&r->inst, r->isl, r->osl, r->load_value > 0 ? r->load_value :
				 CALIB_DEFAULT_REQUESTS, &lp);
		break;
	case CALIB_CONCURRENCY:
		instance_closed_loop(&r->inst, r->isl, r->osl, r->load_value, &lp);
		break;
	case CALIB_RATE:
	default:
		instance_open_loop(&r->inst, r->isl, r->osl, r->load_value, &lp);
		break;
	}
	pred->fits = 1;
	pred->output_tok_s = lp.output_tok_s;
	pred->ttft_s = lp.ttft_s;
	pred->tpot_s = lp.tpot_s;
	return 1;
}

int calib_predict_engine(struct calib_row *r, const struct engine_profile *e,
			 struct calib_pred *pred)
{
	return calib_predict(r, engine_perf_select(e, &r->gpu, r->model->experts > 0, NULL), pred);
}

/*
 * The squared log error, Huber-robust: quadratic up to |ln| = HUBER_LOG (a
 * 65 % miss), linear beyond, so a row on an engine's broken path (10x off)
 * pulls the fit like a few ordinary misses, not like twenty.
 */
#define HUBER_LOG 0.5
static double sq_log(double pred, double meas)
{
	double d = fabs(log(pred / meas));
	return d <= HUBER_LOG ? d * d : HUBER_LOG * (2 * d - HUBER_LOG);
}

double calib_row_loss(const struct calib_row *r, const struct calib_pred *p)
{
	double sum, w;

	if (!p->fits || !(p->output_tok_s > 0))
		return UNFIT_PENALTY;
	sum = sq_log(p->output_tok_s, r->output_tok_s);
	w = 1;
	if (r->tpot_s > 0 && p->tpot_s > 0) {
		double wt = r->load == CALIB_OFFLINE ? OFFLINE_TPOT_WEIGHT : 1;
		sum += wt * sq_log(p->tpot_s, r->tpot_s);
		w += wt;
	}
	if (r->ttft_s > 0) {
		sum += TTFT_WEIGHT * (p->ttft_s > 0 ? fmin(sq_log(p->ttft_s, r->ttft_s),
							   UNFIT_PENALTY) : UNFIT_PENALTY);
		w += TTFT_WEIGHT;
	}
	return sum / w;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Linear-interpolated quantile of sorted v[0..n-1]. */
static double quantile(const double *v, int n, double q)
{
	if (n <= 0)
		return 0;
	double pos = q * (n - 1);
	int i = (int)floor(pos);
	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

void calib_summarise(double *ape, int n, struct calib_metric *m)
{
	qsort(ape, (size_t)n, sizeof(*ape), cmp_double);
	m->n = n;
	m->median_ape = quantile(ape, n, 0.5);
	m->p90_ape = quantile(ape, n, 0.9);
}

void calib_evaluate(struct calib_row *rows, int n, const unsigned char *use,
		    const struct engine_profile *e, struct calib_error *out)
{
	size_t cap = (size_t)(n > 0 ? n : 1);
	double *a = calloc(3 * cap, sizeof(double));
	double *b = a + cap, *c = b + cap;
	int na = 0, nb = 0, nc = 0;
	double sum = 0;
	struct calib_pred p;

	memset(out, 0, sizeof(*out));
	if (!a)
		return;
	for (int i = 0; i < n; i++) {
		struct calib_row *r = &rows[i];
		if (use && !use[i])
			continue;
		if (!r->prepared)
			calib_prepare(r, e);
		calib_predict_engine(r, e, &p);
		sum += calib_row_loss(r, &p);
		out->rows++;
		if (!p.fits) {
			out->unfit++;
			continue;
		}
		a[na++] = 100 * fabs(p.output_tok_s - r->output_tok_s) / r->output_tok_s;
		if (r->ttft_s > 0 && p.ttft_s >= 0)
			b[nb++] = 100 * fabs(p.ttft_s - r->ttft_s) / r->ttft_s;
		if (r->tpot_s > 0)
			c[nc++] = 100 * fabs(p.tpot_s - r->tpot_s) / r->tpot_s;
	}
	calib_summarise(a, na, &out->tok_s);
	calib_summarise(b, nb, &out->ttft);
	calib_summarise(c, nc, &out->tpot);
	out->loss = out->rows > 0 ? sum / out->rows : 0;
	free(a);
}

/* ---- the tree ---------------------------------------------------------- */

/* One node while fitting: its profile, its parent, its rows. */
struct node {
	struct perf_profile prof;
	int parent;			/* index in the node array; -1: the engine node */
	int *idx;			/* its rows */
	int n;
	unsigned params;		/* bit k: calib_param k moves */
};

static int row_class(const struct calib_row *r)
{
	return r->model->experts > 0 ? PERF_CLASS_MOE : PERF_CLASS_DENSE;
}

/* Whether row r belongs to a node of this scope, name and class. */
static int row_in(const struct calib_row *r, enum perf_scope scope, const char *name,
		  enum perf_class cls)
{
	if (cls != PERF_CLASS_ANY && row_class(r) != (int)cls)
		return 0;
	switch (scope) {
	case PERF_SCOPE_ENGINE:
		return 1;
	case PERF_SCOPE_VENDOR:
		return r->gpu.vendor[0] && !strcmp(r->gpu.vendor, name);
	case PERF_SCOPE_ARCH:
		return r->gpu.arch[0] && !strcmp(r->gpu.arch, name);
	}
	return 0;
}

struct tree {
	struct calib_row *rows;
	int n;
	const unsigned char *use;
	struct node nodes[ENGINE_PROFILES_MAX];
	int nnodes;
};

/* Add a node of the used rows in this scope, if it has enough; its index or -1. */
static int add_node(struct tree *t, enum perf_scope scope, const char *name, enum perf_class cls,
		    int parent)
{
	int count = 0, moe = 0, dense = 0;

	if (t->nnodes == ENGINE_PROFILES_MAX)
		return -1;
	for (int i = 0; i < t->n; i++)
		if ((!t->use || t->use[i]) && row_in(&t->rows[i], scope, name, cls))
			count++;
	if (count < CALIB_NODE_MIN_ROWS && scope != PERF_SCOPE_ENGINE)
		return -1;
	if (count == 0)
		return -1;
	struct node *nd = &t->nodes[t->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->prof.scope = scope;
	snprintf(nd->prof.scope_name, sizeof(nd->prof.scope_name), "%.15s", name);
	nd->prof.model_class = cls;
	nd->parent = parent;
	nd->idx = malloc((size_t)count * sizeof(int));
	if (!nd->idx)
		return -1;
	for (int i = 0; i < t->n; i++)
		if ((!t->use || t->use[i]) && row_in(&t->rows[i], scope, name, cls)) {
			nd->idx[nd->n++] = i;
			if (row_class(&t->rows[i]) == PERF_CLASS_MOE)
				moe++;
			else
				dense++;
		}
	nd->prof.rows = nd->n;
	nd->prof.rows_moe = moe;
	nd->prof.rows_dense = dense;
	nd->params = (1u << CALIB_NPARAMS) - 1;
	if (!moe)
		nd->params &= ~((1u << CALIB_MOE_BW_EFFICIENCY) | (1u << CALIB_MOE_LAYER_LATENCY));
	return t->nnodes++;
}

/* Class children of node k when both classes have enough rows. */
static void add_class_children(struct tree *t, int k)
{
	struct node *nd = &t->nodes[k];
	if (nd->prof.rows_moe < CALIB_NODE_MIN_ROWS || nd->prof.rows_dense < CALIB_NODE_MIN_ROWS)
		return;
	enum perf_scope scope = nd->prof.scope;
	char name[16];
	snprintf(name, sizeof(name), "%.15s", nd->prof.scope_name);
	add_node(t, scope, name, PERF_CLASS_DENSE, k);
	add_node(t, scope, name, PERF_CLASS_MOE, k);
}

/* Distinct non-empty values of a GPU field over the used rows, in order of appearance. */
static int distinct(const struct tree *t, int arch, char out[][16], int max)
{
	int k = 0;
	for (int i = 0; i < t->n; i++) {
		if (t->use && !t->use[i])
			continue;
		const char *v = arch ? t->rows[i].gpu.arch : t->rows[i].gpu.vendor;
		int seen = !v[0];
		for (int j = 0; j < k && !seen; j++)
			seen = !strcmp(out[j], v);
		if (!seen && k < max)
			snprintf(out[k++], 16, "%.15s", v);
	}
	return k;
}

static void build_tree(struct tree *t)
{
	char vendors[8][16], archs[16][16];
	int nv = distinct(t, 0, vendors, 8), na = distinct(t, 1, archs, 16);

	if (add_node(t, PERF_SCOPE_ENGINE, "", PERF_CLASS_ANY, -1) < 0)
		return;
	add_class_children(t, 0);
	for (int v = 0; v < nv; v++) {
		int kv = add_node(t, PERF_SCOPE_VENDOR, vendors[v], PERF_CLASS_ANY, 0);
		if (kv < 0)
			continue;
		add_class_children(t, kv);
		for (int a = 0; a < na; a++) {
			/* The family's vendor: that of its first row. */
			const char *vendor = NULL;
			for (int i = 0; i < t->n && !vendor; i++)
				if ((!t->use || t->use[i]) && !strcmp(t->rows[i].gpu.arch, archs[a]))
					vendor = t->rows[i].gpu.vendor;
			if (!vendor || strcmp(vendor, vendors[v]))
				continue;
			int ka = add_node(t, PERF_SCOPE_ARCH, archs[a], PERF_CLASS_ANY, kv);
			if (ka >= 0)
				add_class_children(t, ka);
		}
	}
	/* Families of a vendor too small for its own node hang off the engine. */
	for (int a = 0; a < na; a++) {
		int have = 0;
		for (int k = 0; k < t->nnodes && !have; k++)
			have = t->nodes[k].prof.scope == PERF_SCOPE_ARCH &&
			       !strcmp(t->nodes[k].prof.scope_name, archs[a]);
		if (!have) {
			int ka = add_node(t, PERF_SCOPE_ARCH, archs[a], PERF_CLASS_ANY, 0);
			if (ka >= 0)
				add_class_children(t, ka);
		}
	}
}

/* The working state of one node's fit. */
struct fit {
	struct tree *t;
	const struct node *nd;
	struct perf_params centre;	/* the prior's centre: the parent's fit */
	double centre_log[CALIB_NPARAMS]; /* ln of it per coordinate, within the bounds */
	double sigma;
	int idx[CALIB_NPARAMS];		/* simplex coordinate -> parameter */
	int dim;
	int evals;
	struct perf_params work;
};

static void clamp_point(const struct fit *f, double *x)
{
	for (int j = 0; j < f->dim; j++) {
		double lo, hi;
		calib_param_bounds(f->idx[j], &lo, &hi);
		x[j] = fmin(fmax(x[j], log(lo)), log(hi));
	}
}

static double eval_point(struct fit *f, double *x)
{
	struct calib_pred p;
	double sum = 0;

	clamp_point(f, x);
	for (int j = 0; j < f->dim; j++)
		calib_param_set(&f->work, f->idx[j], exp(x[j]));
	f->evals++;
	for (int i = 0; i < f->nd->n; i++) {
		struct calib_row *r = &f->t->rows[f->nd->idx[i]];
		calib_predict(r, &f->work, &p);
		sum += calib_row_loss(r, &p);
	}
	for (int j = 0; j < f->dim; j++) {
		double d = (x[j] - f->centre_log[j]) / f->sigma;
		sum += CALIB_PRIOR_WEIGHT * d * d;
	}
	return sum / f->nd->n;
}

/*
 * One Nelder-Mead run from x0 (dim <= CALIB_NPARAMS) with initial steps of
 * 0.3 in log space (a third), standard coefficients (1, 2, 0.5, 0.5).
 * Leaves the best point in x0 and returns its loss.
 */
static double nelder_mead(struct fit *f, double *x0)
{
	enum { MAXD = CALIB_NPARAMS };
	double s[MAXD + 1][MAXD], v[MAXD + 1];
	double c[MAXD], xr[MAXD], xe[MAXD];
	int d = f->dim, budget = f->evals + NM_MAX_EVALS;

	for (int i = 0; i <= d; i++) {
		memcpy(s[i], x0, sizeof(double) * (size_t)d);
		if (i > 0) {
			double lo, hi;
			calib_param_bounds(f->idx[i - 1], &lo, &hi);
			/* Step inward when the start sits on the upper bound. */
			s[i][i - 1] += x0[i - 1] + 0.3 > log(hi) ? -0.3 : 0.3;
		}
		v[i] = eval_point(f, s[i]);
	}
	while (f->evals < budget) {
		/* Order: best first. */
		for (int i = 1; i <= d; i++)
			for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
				double t = v[j];
				v[j] = v[j - 1];
				v[j - 1] = t;
				for (int k = 0; k < d; k++) {
					t = s[j][k];
					s[j][k] = s[j - 1][k];
					s[j - 1][k] = t;
				}
			}
		if (fabs(v[d] - v[0]) <= 1e-7 * (fabs(v[0]) + 1e-12))
			break;
		for (int k = 0; k < d; k++) {
			c[k] = 0;
			for (int i = 0; i < d; i++)
				c[k] += s[i][k] / d;
		}
		for (int k = 0; k < d; k++)
			xr[k] = c[k] + (c[k] - s[d][k]);
		double fr = eval_point(f, xr);
		if (fr < v[0]) {
			for (int k = 0; k < d; k++)
				xe[k] = c[k] + 2 * (c[k] - s[d][k]);
			double fe = eval_point(f, xe);
			if (fe < fr) {
				memcpy(s[d], xe, sizeof(double) * (size_t)d);
				v[d] = fe;
			} else {
				memcpy(s[d], xr, sizeof(double) * (size_t)d);
				v[d] = fr;
			}
			continue;
		}
		if (fr < v[d - 1]) {
			memcpy(s[d], xr, sizeof(double) * (size_t)d);
			v[d] = fr;
			continue;
		}
		/* Contract towards the better of the worst point and its reflection. */
		const double *w = fr < v[d] ? xr : s[d];
		for (int k = 0; k < d; k++)
			xe[k] = c[k] + 0.5 * (w[k] - c[k]);
		double fc = eval_point(f, xe);
		if (fc < fmin(fr, v[d])) {
			memcpy(s[d], xe, sizeof(double) * (size_t)d);
			v[d] = fc;
			continue;
		}
		for (int i = 1; i <= d; i++) {
			for (int k = 0; k < d; k++)
				s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
			v[i] = eval_point(f, s[i]);
		}
	}
	int best = 0;
	for (int i = 1; i <= d; i++)
		if (v[i] < v[best])
			best = i;
	memcpy(x0, s[best], sizeof(double) * (size_t)d);
	return v[best];
}

/* Fit one node from its parent's values (or `root` for the engine node). */
static int fit_node(struct tree *t, int k, const struct perf_params *root)
{
	struct node *nd = &t->nodes[k];
	struct fit f;
	double x[CALIB_NPARAMS];

	memset(&f, 0, sizeof(f));
	f.t = t;
	f.nd = nd;
	f.centre = nd->parent < 0 ? *root : t->nodes[nd->parent].prof.p;
	f.sigma = nd->parent < 0 ? CALIB_ROOT_SIGMA : CALIB_CHILD_SIGMA;
	f.work = f.centre;
	/* A node with exactly its parent's rows fits to its parent's values. */
	if (nd->parent >= 0 && nd->n == t->nodes[nd->parent].n) {
		nd->prof.p = f.centre;
		return 0;
	}
	for (int j = 0; j < CALIB_NPARAMS; j++) {
		if (!(nd->params & (1u << j)))
			continue;
		double lo, hi;
		calib_param_bounds(j, &lo, &hi);
		f.idx[f.dim] = j;
		/* A centre outside the box (0: "none") is its nearest edge. */
		x[f.dim] = f.centre_log[f.dim] = log(fmin(fmax(calib_param_get(&f.centre, j), lo), hi));
		f.dim++;
	}
	double best = eval_point(&f, x);
	for (int r = 0; r < NM_MAX_RESTARTS; r++) {
		double got = nelder_mead(&f, x);
		int done = best - got < 1e-4;
		best = fmin(best, got);
		if (done)
			break;
	}
	eval_point(&f, x);
	nd->prof.p = f.work;
	return f.evals;
}

static void tree_free(struct tree *t)
{
	for (int k = 0; k < t->nnodes; k++)
		free(t->nodes[k].idx);
	t->nnodes = 0;
}

int calib_fit_tree(struct calib_row *rows, int n, const unsigned char *use,
		   const struct engine_profile *e, struct engine_profile *out)
{
	struct tree *t = calloc(1, sizeof(*t));
	int evals = 0;

	*out = *e;
	out->nprofiles = 0;
	if (!t)
		return 0;
	t->rows = rows;
	t->n = n;
	t->use = use;
	for (int i = 0; i < n; i++)
		if ((!use || use[i]) && !rows[i].prepared)
			calib_prepare(&rows[i], e);
	build_tree(t);
	/* Parents come before their children in the node array. */
	for (int k = 0; k < t->nnodes; k++) {
		evals += fit_node(t, k, &e->perf);
		out->profiles[out->nprofiles++] = t->nodes[k].prof;
	}
	tree_free(t);
	free(t);
	return evals;
}

int calib_cross_validate(struct calib_row *rows, int n, const int *fold, int nfolds,
			 const struct engine_profile *e, double *resid, struct calib_pred *pred)
{
	unsigned char *use = malloc((size_t)(n > 0 ? n : 1));
	struct engine_profile *fitted = malloc(sizeof(*fitted));
	int done = 0;

	for (int i = 0; i < n; i++) {
		resid[i] = NAN;
		if (!rows[i].prepared)
			calib_prepare(&rows[i], e);
	}
	if (!use || !fitted)
		goto cleanup;
	for (int f = 0; f < nfolds; f++) {
		int held = 0;
		for (int i = 0; i < n; i++) {
			use[i] = fold[i] != f;
			held += !use[i];
		}
		if (!held)
			continue;
		calib_fit_tree(rows, n, use, e, fitted);
		for (int i = 0; i < n; i++) {
			struct calib_pred p;
			if (use[i])
				continue;
			calib_predict_engine(&rows[i], fitted, &p);
			if (pred)
				pred[i] = p;
			resid[i] = p.fits && p.output_tok_s > 0 ?
				   log(p.output_tok_s / rows[i].output_tok_s) : NAN;
		}
		done++;
	}
cleanup:
	free(use);
	free(fitted);
	return done;
}

void calib_spread(struct calib_row *rows, int n, const double *resid,
		  const double *resid_out_of_family, int out_of_sample, struct engine_profile *e)
{
	double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
	if (!v)
		return;
	for (int k = 0; k < e->nprofiles; k++) {
		struct perf_profile *pr = &e->profiles[k];
		const double *src = pr->scope != PERF_SCOPE_ARCH && resid_out_of_family ?
				    resid_out_of_family : resid;
		int m = 0;
		for (int i = 0; i < n; i++)
			if (row_in(&rows[i], pr->scope, pr->scope_name, pr->model_class) &&
			    !isnan(src[i]))
				v[m++] = src[i];
		qsort(v, (size_t)m, sizeof(*v), cmp_double);
		/* Fewer than 3 residuals say nothing of a spread: the engine node's stands in. */
		if (m < 3 && k > 0) {
			pr->log_p10 = e->profiles[0].log_p10;
			pr->log_p90 = e->profiles[0].log_p90;
		} else {
			pr->log_p10 = m ? quantile(v, m, 0.1) : 0;
			pr->log_p90 = m ? quantile(v, m, 0.9) : 0;
		}
		pr->out_of_sample = out_of_sample;
	}
	free(v);
}
