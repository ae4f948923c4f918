/*
 * calibrate.c - predicting measured rows and fitting an engine profile to
 * them (see calibrate.h). The optimiser is a plain Nelder-Mead simplex in
 * the logarithm of each parameter: efficiencies and overheads are ratios,
 * so a step of 10% means the same whether the value is 0.05 or 0.8, and a
 * clamp to the bounds keeps every trial physical.
 */
#include "calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_LEN_ROUND 256
#define UNFIT_PENALTY 4.0
#define PRIOR_WEIGHT 1e-4
#define TTFT_WEIGHT 0.5
#define NM_MAX_EVALS 400
#define NM_MAX_RESTARTS 4

static const char *const param_names[CALIB_NPARAMS] = {
	"bw_efficiency", "flops_efficiency", "step_overhead_ms",
	"moe_efficiency_floor", "moe_tokens_per_expert_half",
};

/*
 * Bounds, in the table's units. Decode bandwidth efficiency of a
 * maintained engine on Hopper is 0.5-0.95 of the HBM peak (below that the
 * fit is absorbing something else, e.g. a batch the model sizes wrong);
 * prefill FLOP efficiency 0.2-0.9; the MoE floor spans far below the
 * 10-30% of speed-of-light NVIDIA's configurator quotes up to "no penalty";
 * the overhead spans an overlapped scheduler (0.05 ms) to a slow Python
 * loop (10 ms).
 */
static const double param_lo[CALIB_NPARAMS] = { 0.5, 0.2, 0.05, 0.02, 0.25 };
static const double param_hi[CALIB_NPARAMS] = { 0.95, 0.9, 10.0, 1.0, 4096.0 };

const char *calib_param_name(int p)
{
	return p >= 0 && p < CALIB_NPARAMS ? param_names[p] : "?";
}

void calib_param_bounds(int p, double *lo, double *hi)
{
	*lo = param_lo[p];
	*hi = param_hi[p];
}

double calib_param_get(const struct engine_profile *e, int p)
{
	switch (p) {
	case CALIB_BW_EFFICIENCY:
		return e->bw_efficiency;
	case CALIB_FLOPS_EFFICIENCY:
		return e->flops_efficiency;
	case CALIB_STEP_OVERHEAD:
		return e->step_overhead_s * 1e3;
	case CALIB_MOE_FLOOR:
		return e->moe_efficiency_floor;
	case CALIB_MOE_HALF:
		return e->moe_tokens_per_expert_half;
	}
	return 0;
}

void calib_param_set(struct engine_profile *e, int p, double v)
{
	switch (p) {
	case CALIB_BW_EFFICIENCY:
		e->bw_efficiency = v;
		break;
	case CALIB_FLOPS_EFFICIENCY:
		e->flops_efficiency = v;
		break;
	case CALIB_STEP_OVERHEAD:
		e->step_overhead_s = v / 1e3;
		break;
	case CALIB_MOE_FLOOR:
		e->moe_efficiency_floor = v;
		break;
	case CALIB_MOE_HALF:
		e->moe_tokens_per_expert_half = v;
		break;
	}
}

int calib_predict(const struct calib_row *r, const struct engine_profile *e,
		  struct calib_pred *pred)
{
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	struct load_point lp;

	memset(pred, 0, sizeof(*pred));
	rq.max_model_len = round_up_tokens((int64_t)ceil(r->isl + r->osl), MODEL_LEN_ROUND);
	rq.resident_tokens_per_seq = r->isl + r->osl / 2;
	if (!instance_size(r->model, &r->gpu, e, &r->layout, &rq, &in))
		return 0;
	switch (r->load) {
	case CALIB_OFFLINE:
		instance_offline(&in, r->isl, r->osl, r->load_value > 0 ? r->load_value :
				 CALIB_DEFAULT_REQUESTS, &lp);
		break;
	case CALIB_CONCURRENCY:
		instance_closed_loop(&in, r->isl, r->osl, r->load_value, &lp);
		break;
	case CALIB_RATE:
	default:
		instance_open_loop(&in, r->isl, r->osl, r->load_value, &lp);
		break;
	}
	pred->fits = 1;
	pred->output_tok_s = lp.output_tok_s;
	pred->ttft_s = lp.ttft_s;
	pred->tpot_s = lp.tpot_s;
	return 1;
}

static double sq_log(double pred, double meas)
{
	double d = log(pred / meas);
	return d * d;
}

/* One row's contribution: mean of its metrics' squared log errors. */
static double row_loss(const struct calib_row *r, const struct calib_pred *p)
{
	double sum, w;

	if (!p->fits || !(p->output_tok_s > 0))
		return UNFIT_PENALTY;
	sum = sq_log(p->output_tok_s, r->output_tok_s);
	w = 1;
	if (r->tpot_s > 0 && p->tpot_s > 0) {
		sum += sq_log(p->tpot_s, r->tpot_s);
		w += 1;
	}
	if (r->ttft_s > 0) {
		sum += TTFT_WEIGHT * (p->ttft_s > 0 ? fmin(sq_log(p->ttft_s, r->ttft_s),
							   UNFIT_PENALTY) : UNFIT_PENALTY);
		w += TTFT_WEIGHT;
	}
	return sum / w;
}

double calib_loss(const struct calib_row *rows, int n, const struct engine_profile *e,
		  const struct engine_profile *start, unsigned params)
{
	double sum = 0;
	struct calib_pred p;

	for (int i = 0; i < n; i++) {
		calib_predict(&rows[i], e, &p);
		sum += row_loss(&rows[i], &p);
	}
	sum = n > 0 ? sum / n : 0;
	if (start)
		for (int k = 0; k < CALIB_NPARAMS; k++)
			if (params & (1u << k))
				sum += PRIOR_WEIGHT * sq_log(calib_param_get(e, k),
							     calib_param_get(start, k));
	return sum;
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

static void summarise(double *ape, int n, struct calib_metric *m)
{
	qsort(ape, (size_t)n, sizeof(*ape), cmp_double);
	m->n = n;
	m->median_ape = quantile(ape, n, 0.5);
	m->p90_ape = quantile(ape, n, 0.9);
}

void calib_evaluate(const struct calib_row *rows, int n, const struct engine_profile *e,
		    struct calib_error *out)
{
	double *a = calloc((size_t)(3 * (n > 0 ? n : 1)), sizeof(double));
	double *b = a + (n > 0 ? n : 1), *c = b + (n > 0 ? n : 1);
	int na = 0, nb = 0, nc = 0;
	double sum = 0;
	struct calib_pred p;

	memset(out, 0, sizeof(*out));
	if (!a)
		return;
	for (int i = 0; i < n; i++) {
		const struct calib_row *r = &rows[i];
		calib_predict(r, e, &p);
		sum += row_loss(r, &p);
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
	summarise(a, na, &out->tok_s);
	summarise(b, nb, &out->ttft);
	summarise(c, nc, &out->tpot);
	out->loss = n > 0 ? sum / n : 0;
	free(a);
}

unsigned calib_params_for(const struct calib_row *rows, int n)
{
	unsigned p = (1u << CALIB_BW_EFFICIENCY) | (1u << CALIB_STEP_OVERHEAD) |
		     (1u << CALIB_FLOPS_EFFICIENCY);
	int moe = 0;

	for (int i = 0; i < n; i++)
		moe |= rows[i].model->experts > 0;
	if (moe) {
		p |= 1u << CALIB_MOE_FLOOR;
		if (n >= 6)
			p |= 1u << CALIB_MOE_HALF;
	}
	return p;
}

/* The fit's working state: which parameters move, in log space. */
struct fit {
	const struct calib_row *rows;
	int n;
	const struct engine_profile *start;
	unsigned params;
	int idx[CALIB_NPARAMS];		/* simplex coordinate -> parameter */
	int dim;
	int evals;
	struct engine_profile work;
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
	clamp_point(f, x);
	for (int j = 0; j < f->dim; j++)
		calib_param_set(&f->work, f->idx[j], exp(x[j]));
	f->evals++;
	return calib_loss(f->rows, f->n, &f->work, f->start, f->params);
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

int calib_fit(const struct calib_row *rows, int n, const struct engine_profile *start,
	      unsigned params, struct engine_profile *out)
{
	struct fit f;
	double x[CALIB_NPARAMS];

	memset(&f, 0, sizeof(f));
	f.rows = rows;
	f.n = n;
	f.start = start;
	f.params = params;
	f.work = *start;
	for (int k = 0; k < CALIB_NPARAMS; k++) {
		if (!(params & (1u << k)))
			continue;
		f.idx[f.dim] = k;
		x[f.dim] = log(calib_param_get(start, k));
		f.dim++;
	}
	*out = *start;
	if (f.dim == 0 || n == 0)
		return 0;
	clamp_point(&f, x);
	double best = eval_point(&f, x);
	for (int r = 0; r < NM_MAX_RESTARTS; r++) {
		double got = nelder_mead(&f, x);
		int done = best - got < 1e-4;
		best = fmin(best, got);
		if (done)
			break;
	}
	eval_point(&f, x);
	*out = f.work;
	return f.evals;
}
