/*
 * calibrate.c - see calibrate.h: resolve what each measured row names
 * against the catalog, fit each engine's profile tree (planner/calibrate.h),
 * cross-validate it for the spreads, and store the result.
 */
#define _POSIX_C_SOURCE 200809L
#include "run/calibrate.h"
#include "lib/util.h"
#include "schema/calibration.h"
#include "schema/load.h"
#include "schema/lookup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A model's parsed config, loaded once for all its rows. */
struct calib_model {
	char *id;
	int nvfp4;			/* 1: as its pre-quantised NVFP4 checkpoint */
	struct model_arch arch;
};

/*
 * The model's parsed config (loaded on first use), or NULL after error().
 * nvfp4: a row measured in fp4 of a checkpoint that is not (published fp4
 * runs use the vendor's pre-quantised checkpoint, which the catalog does
 * not hold): the model as that checkpoint (model_arch_as_nvfp4).
 */
static const struct model_arch *model_for(struct calib_rows *rd, const char *id, int nvfp4)
{
	for (int i = 0; i < rd->nmodels; i++)
		if (!strcmp(rd->models[i]->id, id) && rd->models[i]->nvfp4 == nvfp4)
			return &rd->models[i]->arch;
	struct calib_model *m = xcalloc(1, sizeof(*m));
	if (load_model_arch(rd->db, id, &m->arch)) {
		free(m);
		return NULL;
	}
	if (nvfp4 && !model_arch_is_fp4(&m->arch))
		model_arch_as_nvfp4(&m->arch);
	m->nvfp4 = nvfp4;
	m->id = xstrdup(id);
	rd->models = xrealloc(rd->models, (size_t)(rd->nmodels + 1) * sizeof(*rd->models));
	rd->models[rd->nmodels++] = m;
	return &m->arch;
}

int calib_rows_add(struct calib_rows *rd, const char *model, const char *gpu, const char *engine,
		   const char *source, const struct calib_row *row)
{
	struct calib_row r = *row;

	if (rd->only_engine && strcmp(engine, rd->only_engine))
		return 0;
	int known_e = engine_exists(rd->db, engine);
	int known_m = model_exists(rd->db, model);
	int known_g = gpu_exists(rd->db, gpu);
	if (known_e < 0 || known_m < 0 || known_g < 0)
		return -1;
	if (!known_e || !known_m || !known_g) {
		warning("%s:%ld: unknown %s '%s': row skipped", rd->path, row->line,
			!known_e ? "engine" : !known_m ? "model" : "GPU",
			!known_e ? engine : !known_m ? model : gpu);
		rd->skipped++;
		return 0;
	}
	r.model = model_for(rd, model, r.layout.precision == PREC_FP4);
	if (!r.model || load_gpu_spec(rd->db, gpu, &r.gpu))
		return -1;
	/* An fp4 checkpoint runs as stored (instance_size: the precision is the checkpoint's). */
	if (r.layout.precision == PREC_FP4)
		r.layout.precision = PREC_NATIVE;
	r.prepared = r.fits = 0;
	if (rd->nrows == rd->alloc) {
		rd->alloc = rd->alloc ? 2 * rd->alloc : 64;
		rd->rows = xrealloc(rd->rows, (size_t)rd->alloc * sizeof(*rd->rows));
	}
	struct calib_source *re = &rd->rows[rd->nrows++];
	re->engine = xstrdup(engine);
	re->model_id = xstrdup(model);
	re->source = xstrdup(source ? source : "");
	re->row = r;
	return 0;
}

void calib_rows_release(struct calib_rows *rd)
{
	for (int i = 0; i < rd->nrows; i++) {
		free(rd->rows[i].engine);
		free(rd->rows[i].model_id);
		free(rd->rows[i].source);
	}
	free(rd->rows);
	for (int i = 0; i < rd->nmodels; i++) {
		free(rd->models[i]->id);
		free(rd->models[i]);
	}
	free(rd->models);
	rd->rows = NULL;
	rd->models = NULL;
	rd->nrows = rd->alloc = rd->nmodels = 0;
}

/* A stored measurement as a calibration row. */
static int keep_measurement(void *arg, const struct measurement *m)
{
	struct calib_rows *rd = arg;
	struct calib_row r;

	memset(&r, 0, sizeof(r));
	r.line = (long)m->id;
	r.layout.tp = m->tp;
	r.layout.pp = m->pp;
	r.layout.dp = m->gpus / (m->tp * m->pp);
	r.layout.ep = m->ep;
	r.layout.kv_elem_bytes = m->kv_dtype && !strcmp(m->kv_dtype, "fp8") ? 1 : 2;
	if (precision_parse(m->precision, &r.layout.precision))
		return error("measurement %lld: precision '%s'", (long long)m->id, m->precision);
	r.load = !strcmp(m->load, "offline") ? CALIB_OFFLINE :
		 !strcmp(m->load, "concurrency") ? CALIB_CONCURRENCY : CALIB_RATE;
	r.load_value = m->load_value;
	r.isl = m->isl;
	r.osl = m->osl;
	r.osl_max = m->osl_max;
	r.output_tok_s = m->output_tok_s;
	r.ttft_s = m->ttft_ms / 1e3;
	r.tpot_s = m->tpot_ms / 1e3;
	return calib_rows_add(rd, m->model, m->gpu, m->engine, m->source, &r);
}

int calibrate_load_store(struct db *db, struct calibration *out)
{
	return measurement_each(db, out->read.only_engine, 1, keep_measurement, &out->read);
}

static cJSON *metric_json(const struct calib_metric *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", m->n);
	cJSON_AddNumberToObject(o, "median_ape_pct", round(m->median_ape * 10) / 10);
	cJSON_AddNumberToObject(o, "p90_ape_pct", round(m->p90_ape * 10) / 10);
	return o;
}

cJSON *calib_error_json(const struct calib_error *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "rows", e->rows);
	cJSON_AddNumberToObject(o, "unfit", e->unfit);
	cJSON_AddItemToObject(o, "output_tok_s", metric_json(&e->tok_s));
	cJSON_AddItemToObject(o, "ttft", metric_json(&e->ttft));
	cJSON_AddItemToObject(o, "tpot", metric_json(&e->tpot));
	cJSON_AddNumberToObject(o, "loss", e->loss);
	return o;
}

cJSON *perf_profile_json(const char *engine, const struct perf_profile *pr)
{
	static const char *const scopes[] = { "engine", "vendor", "arch" };
	static const char *const classes[] = { "any", "dense", "moe" };
	char name[64];
	cJSON *o = cJSON_CreateObject();

	perf_profile_name(engine, pr, name, sizeof(name));
	cJSON_AddStringToObject(o, "profile", name);
	cJSON_AddStringToObject(o, "scope", scopes[pr->scope]);
	cJSON_AddStringToObject(o, "scope_name", pr->scope_name);
	cJSON_AddStringToObject(o, "model_class", classes[pr->model_class]);
	for (int k = 0; k < CALIB_NPARAMS; k++)
		cJSON_AddNumberToObject(o, calib_param_name(k), calib_param_get(&pr->p, k));
	cJSON_AddNumberToObject(o, "rows", pr->rows);
	cJSON_AddNumberToObject(o, "rows_dense", pr->rows_dense);
	cJSON_AddNumberToObject(o, "rows_moe", pr->rows_moe);
	cJSON_AddNumberToObject(o, "log_p10", pr->log_p10);
	cJSON_AddNumberToObject(o, "log_p90", pr->log_p90);
	cJSON_AddBoolToObject(o, "out_of_sample", pr->out_of_sample);
	return o;
}

int calibrate_begin(struct db *db, const struct calibration_request *req,
		    struct calibration *out)
{
	memset(out, 0, sizeof(*out));
	out->read.db = db;
	out->read.path = req->path ? req->path : "measurement";
	if (req->engine) {
		int r = engine_exists(db, req->engine);
		if (r <= 0)
			return r < 0 ? -1 : error("unknown engine '%s'", req->engine);
		out->read.only_engine = req->engine;
	}
	return 0;
}

/*
 * A source's document: its text before a " (" section note, so the rows of
 * one page or file (GPUStack's sections of one page) are held out together.
 */
static size_t source_key_len(const char *s)
{
	const char *p = strstr(s, " (");
	return p ? (size_t)(p - s) : strlen(s);
}

/* fold[i] = index of row i's source document (or GPU family); returns the number of folds. */
static int folds_by(struct engine_fit *ef, int family, int *fold)
{
	const char **key = xcalloc((size_t)(ef->n > 0 ? ef->n : 1), sizeof(*key));
	size_t *len = xcalloc((size_t)(ef->n > 0 ? ef->n : 1), sizeof(*len));
	int nk = 0;

	for (int i = 0; i < ef->n; i++) {
		const char *k = family ? ef->rows[i].gpu.arch : ef->src[i]->source;
		size_t l = family ? strlen(k) : source_key_len(k);
		int f = -1;
		for (int j = 0; j < nk && f < 0; j++)
			if (len[j] == l && !strncmp(key[j], k, l))
				f = j;
		if (f < 0) {
			key[nk] = k;
			len[nk] = l;
			f = nk++;
		}
		fold[i] = f;
	}
	free(key);
	free(len);
	return nk;
}

/* Cross-validate one engine by source and by family, and set the profiles' spreads. */
static void cross_validate(struct engine_fit *ef)
{
	int *fold = xcalloc((size_t)(ef->n > 0 ? ef->n : 1), sizeof(int));
	size_t n = (size_t)(ef->n > 0 ? ef->n : 1);

	ef->loso = xcalloc(n, sizeof(double));
	ef->lofo = xcalloc(n, sizeof(double));
	ef->loso_pred = xcalloc(n, sizeof(struct calib_pred));
	ef->lofo_pred = xcalloc(n, sizeof(struct calib_pred));
	ef->nsources = folds_by(ef, 0, fold);
	calib_cross_validate(ef->rows, ef->n, fold, ef->nsources, &ef->before, ef->loso,
			     ef->loso_pred);
	ef->nfamilies = folds_by(ef, 1, fold);
	calib_cross_validate(ef->rows, ef->n, fold, ef->nfamilies, &ef->before, ef->lofo,
			     ef->lofo_pred);
	calib_spread(ef->rows, ef->n, ef->loso, ef->lofo, 1, &ef->after);
	free(fold);
}

int calibrate_fit(struct db *db, const struct calibration_request *req, struct calibration *out)
{
	struct calib_rows *rd = &out->read;
	char *source = NULL;
	int ret = -1;

	/* Engines in order of first appearance. */
	for (int i = 0; i < rd->nrows; i++) {
		int seen = 0;
		for (int k = 0; k < out->nengines; k++)
			seen |= !strcmp(out->engines[k], rd->rows[i].engine);
		if (!seen) {
			out->engines = xrealloc(out->engines,
						(size_t)(out->nengines + 1) * sizeof(*out->engines));
			out->engines[out->nengines++] = rd->rows[i].engine;
		}
	}
	if (out->nengines == 0) {
		error("no usable rows in '%s'%s%s", rd->path, req->engine ? " for engine " : "",
		      req->engine ? req->engine : "");
		goto cleanup;
	}

	out->fits = xcalloc((size_t)out->nengines, sizeof(*out->fits));
	for (int k = 0; k < out->nengines; k++) {
		struct engine_fit *ef = &out->fits[k];
		if (load_engine_profile(db, out->engines[k], &ef->before))
			goto cleanup;
		ef->rows = xcalloc((size_t)rd->nrows, sizeof(*ef->rows));
		ef->src = xcalloc((size_t)rd->nrows, sizeof(*ef->src));
		for (int i = 0; i < rd->nrows; i++)
			if (!strcmp(rd->rows[i].engine, out->engines[k])) {
				ef->src[ef->n] = &rd->rows[i];
				ef->rows[ef->n++] = rd->rows[i].row;
			}
		calib_evaluate(ef->rows, ef->n, NULL, &ef->before, &ef->err_before);
		calib_fit_tree(ef->rows, ef->n, NULL, &ef->before, &ef->after);
		calib_evaluate(ef->rows, ef->n, NULL, &ef->after, &ef->err_after);
		if (!req->in_sample || req->validate) {
			cross_validate(ef);
		} else {
			double *resid = xcalloc((size_t)(ef->n > 0 ? ef->n : 1), sizeof(double));
			for (int i = 0; i < ef->n; i++) {
				struct calib_pred p;
				calib_predict_engine(&ef->rows[i], &ef->after, &p);
				resid[i] = p.fits && p.output_tok_s > 0 ?
					   log(p.output_tok_s / ef->rows[i].output_tok_s) : NAN;
			}
			calib_spread(ef->rows, ef->n, resid, NULL, 0, &ef->after);
			free(resid);
		}
		if (!req->dry_run) {
			free(source);
			source = xasprintf("piqplan calibrate on %d %s rows of %s", ef->n,
					   out->engines[k], req->path ? req->path : "the measurement table");
			if (engine_profiles_store(db, out->engines[k], &ef->after, source))
				goto cleanup;
		}
	}
	ret = 0;
cleanup:
	free(source);
	return ret;
}

void calibration_free(struct calibration *c)
{
	if (c->fits)
		for (int k = 0; k < c->nengines; k++) {
			free(c->fits[k].rows);
			free(c->fits[k].src);
			free(c->fits[k].loso);
			free(c->fits[k].lofo);
			free(c->fits[k].loso_pred);
			free(c->fits[k].lofo_pred);
		}
	free(c->fits);
	free(c->engines);
	calib_rows_release(&c->read);
	memset(c, 0, sizeof(*c));
}
