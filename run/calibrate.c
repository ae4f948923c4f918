/*
 * calibrate.c - see calibrate.h: resolve what each checked row names
 * against the catalog, fit each engine's rows (planner/calibrate.h) and
 * store the result.
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
	struct model_arch arch;
};

/* The model's parsed config (loaded on first use), or NULL after error(). */
static const struct model_arch *model_for(struct calib_rows *rd, const char *id)
{
	for (int i = 0; i < rd->nmodels; i++)
		if (!strcmp(rd->models[i]->id, id))
			return &rd->models[i]->arch;
	struct calib_model *m = xcalloc(1, sizeof(*m));
	if (load_model_arch(rd->db, id, &m->arch)) {
		free(m);
		return NULL;
	}
	m->id = xstrdup(id);
	rd->models = xrealloc(rd->models, (size_t)(rd->nmodels + 1) * sizeof(*rd->models));
	rd->models[rd->nmodels++] = m;
	return &m->arch;
}

int calib_rows_add(struct calib_rows *rd, const char *model, const char *gpu, const char *engine,
		   const struct calib_row *row)
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
	r.model = model_for(rd, model);
	if (!r.model || load_gpu_spec(rd->db, gpu, &r.gpu))
		return -1;
	if (rd->nrows == rd->alloc) {
		rd->alloc = rd->alloc ? 2 * rd->alloc : 64;
		rd->rows = xrealloc(rd->rows, (size_t)rd->alloc * sizeof(*rd->rows));
	}
	struct calib_source *re = &rd->rows[rd->nrows++];
	re->engine = xstrdup(engine);
	re->model_id = xstrdup(model);
	re->row = r;
	return 0;
}

void calib_rows_release(struct calib_rows *rd)
{
	for (int i = 0; i < rd->nrows; i++) {
		free(rd->rows[i].engine);
		free(rd->rows[i].model_id);
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

cJSON *engine_fit_params_json(const struct engine_fit *ef)
{
	cJSON *o = cJSON_CreateObject();
	for (int p = 0; p < CALIB_NPARAMS; p++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "before", calib_param_get(&ef->before, p));
		cJSON_AddNumberToObject(v, "after", calib_param_get(&ef->after, p));
		cJSON_AddBoolToObject(v, "fitted", (ef->params >> p) & 1);
		cJSON_AddItemToObject(o, calib_param_name(p), v);
	}
	return o;
}

static int store_fit(struct db *db, const char *engine, const struct engine_fit *ef,
		     const char *file_desc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "params", engine_fit_params_json(ef));
	cJSON_AddItemToObject(o, "before", calib_error_json(&ef->err_before));
	cJSON_AddItemToObject(o, "after", calib_error_json(&ef->err_after));
	char *json = cJSON_PrintUnformatted(o);
	int r = engine_store_fit(db, engine, &ef->after, file_desc, ef->n, json);
	free(json);
	cJSON_Delete(o);
	return r;
}

int calibrate_begin(struct db *db, const struct calibration_request *req,
		    struct calibration *out)
{
	memset(out, 0, sizeof(*out));
	out->read.db = db;
	out->read.path = req->path;
	if (req->engine) {
		int r = engine_exists(db, req->engine);
		if (r <= 0)
			return r < 0 ? -1 : error("unknown engine '%s'", req->engine);
		out->read.only_engine = req->engine;
	}
	return 0;
}

int calibrate_fit(struct db *db, const struct calibration_request *req, struct calibration *out)
{
	struct calib_rows *rd = &out->read;
	char *file_desc = NULL;
	int ret = -1;

	file_desc = xasprintf("%s sha256 %s", rd->path, out->sha256);

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
		ef->params = calib_params_for(ef->rows, ef->n);
		calib_evaluate(ef->rows, ef->n, &ef->before, &ef->err_before);
		calib_fit(ef->rows, ef->n, &ef->before, ef->params, &ef->after);
		calib_evaluate(ef->rows, ef->n, &ef->after, &ef->err_after);
		if (!req->dry_run && store_fit(db, out->engines[k], ef, file_desc))
			goto cleanup;
	}
	ret = 0;
cleanup:
	free(file_desc);
	return ret;
}

void calibration_free(struct calibration *c)
{
	if (c->fits)
		for (int k = 0; k < c->nengines; k++) {
			free(c->fits[k].rows);
			free(c->fits[k].src);
		}
	free(c->fits);
	free(c->engines);
	calib_rows_release(&c->read);
	memset(c, 0, sizeof(*c));
}
