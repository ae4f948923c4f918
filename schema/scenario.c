/*
 * scenario.c - loading a scenario and its workloads and GPUs.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/scenario.h"
#include "lib/util.h"
#include "schema/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t scenario_lookup(struct db *db, const char *name)
{
	struct stmt *st = db_prepare(db, "SELECT id FROM scenario WHERE name = :name");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	int r = stmt_step(st);
	int64_t id = r == 1 ? stmt_int64(st, 0) : -1;
	stmt_finalize(st);
	if (r == 0) {
		error("unknown scenario '%s'", name);
		fprintf(stderr, "Try 'piqplan scenario list'.\n");
	}
	return id;
}


int64_t scenario_latest_run(struct db *db, int64_t sid, const char *name)
{
	struct stmt *st = db_prepare(db, "SELECT max(id) FROM run WHERE scenario_id = :s");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":s", sid);
	int64_t id = -1;
	if (stmt_step(st) == 1 && !stmt_is_null(st, 0))
		id = stmt_int64(st, 0);
	else
		error("scenario '%s' has not been run yet (piqplan scenario run %s)", name, name);
	stmt_finalize(st);
	return id;
}

int scenario_load(struct db *db, int64_t id, struct scenario *s)
{
	struct stmt *st = NULL;
	int ret = -1, r;

	memset(s, 0, sizeof(*s));
	st = db_prepare(db,
		"SELECT name, coalesce(description, ''), start_quarter, quarters,"
		"       growth_pct_per_quarter, ttft_ms, tpot_ms, utilization, pricing, redundancy,"
		"       long_context, engine_id, demand, lead_time_days, mfu"
		"  FROM scenario WHERE id = :id");
	if (!st)
		goto cleanup;
	stmt_bind_int64(st, ":id", id);
	if ((r = stmt_step(st)) != 1) {
		if (r == 0)
			error("no scenario with id %lld", (long long)id);
		goto cleanup;
	}
	s->id = id;
	s->name = xstrdup(stmt_text(st, 0));
	s->description = xstrdup(stmt_text(st, 1));
	s->start_quarter = quarter_parse(stmt_text(st, 2));
	s->quarters = (int)stmt_int64(st, 3);
	s->growth_pct = stmt_double(st, 4);
	s->ttft_ms = stmt_double(st, 5);
	s->tpot_ms = stmt_double(st, 6);
	s->utilization = stmt_double(st, 7);
	s->pricing = xstrdup(stmt_text(st, 8));
	s->redundancy = (int)stmt_int64(st, 9);
	const char *lc = stmt_text(st, 10);
	s->long_context_tokens = !strcmp(lc, "auto") ? 0 : !strcmp(lc, "off") ? -1 : atoll(lc);
	s->engine = xstrdup(stmt_text(st, 11));
	s->demand_peak = !strcmp(stmt_text(st, 12), "peak");
	s->lead_time_days = (int)stmt_int64(st, 13);
	s->mfu = stmt_double(st, 14);
	stmt_finalize(st);

	st = db_prepare(db,
		"SELECT w.id, w.name, w.model_id, coalesce(sw.growth_pct_per_quarter, :growth)"
		"  FROM scenario_workload sw JOIN workload w ON w.id = sw.workload_id"
		" WHERE sw.scenario_id = :id ORDER BY w.name");
	if (!st)
		goto cleanup;
	stmt_bind_int64(st, ":id", id);
	stmt_bind_double(st, ":growth", s->growth_pct);
	while ((r = stmt_step(st)) == 1) {
		s->workloads = xrealloc(s->workloads, (size_t)(s->nworkloads + 1) * sizeof(*s->workloads));
		struct scenario_workload *w = &s->workloads[s->nworkloads++];
		w->id = stmt_int64(st, 0);
		w->name = xstrdup(stmt_text(st, 1));
		w->model_id = xstrdup(stmt_text(st, 2));
		w->growth_pct = stmt_double(st, 3);
	}
	if (r < 0)
		goto cleanup;
	stmt_finalize(st);

	st = db_prepare(db, "SELECT gpu_id FROM scenario_gpu WHERE scenario_id = :id ORDER BY gpu_id");
	if (!st)
		goto cleanup;
	stmt_bind_int64(st, ":id", id);
	while ((r = stmt_step(st)) == 1) {
		s->gpus = xrealloc(s->gpus, (size_t)(s->ngpus + 1) * sizeof(*s->gpus));
		s->gpus[s->ngpus++] = xstrdup(stmt_text(st, 0));
	}
	if (r < 0)
		goto cleanup;
	ret = 0;
cleanup:
	stmt_finalize(st);
	if (ret)
		scenario_free(s);
	return ret;
}

void scenario_free(struct scenario *s)
{
	for (int i = 0; i < s->nworkloads; i++) {
		free(s->workloads[i].name);
		free(s->workloads[i].model_id);
	}
	free(s->workloads);
	for (int i = 0; i < s->ngpus; i++)
		free(s->gpus[i]);
	free(s->gpus);
	free(s->name);
	free(s->description);
	free(s->pricing);
	free(s->engine);
	memset(s, 0, sizeof(*s));
}

cJSON *scenario_json(const struct scenario *s)
{
	char q[QUARTER_BUF];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "description", s->description);
	quarter_format(s->start_quarter, q);
	cJSON_AddStringToObject(o, "start", q);
	cJSON_AddNumberToObject(o, "quarters", s->quarters);
	cJSON_AddNumberToObject(o, "growth_pct_per_quarter", s->growth_pct);
	cJSON_AddNumberToObject(o, "ttft_ms", s->ttft_ms);
	cJSON_AddNumberToObject(o, "tpot_ms", s->tpot_ms);
	cJSON_AddNumberToObject(o, "utilization", s->utilization);
	cJSON_AddStringToObject(o, "pricing", s->pricing);
	cJSON_AddNumberToObject(o, "redundancy", s->redundancy);
	if (s->long_context_tokens > 0)
		cJSON_AddNumberToObject(o, "long_context", (double)s->long_context_tokens);
	else
		cJSON_AddStringToObject(o, "long_context", s->long_context_tokens ? "off" : "auto");
	cJSON_AddStringToObject(o, "engine", s->engine);
	cJSON_AddStringToObject(o, "demand", s->demand_peak ? "peak" : "mean");
	cJSON_AddNumberToObject(o, "lead_time_days", s->lead_time_days);
	cJSON_AddNumberToObject(o, "mfu", s->mfu);
	cJSON *wa = cJSON_AddArrayToObject(o, "workloads");
	for (int i = 0; i < s->nworkloads; i++) {
		cJSON *w = cJSON_CreateObject();
		cJSON_AddStringToObject(w, "name", s->workloads[i].name);
		cJSON_AddStringToObject(w, "model", s->workloads[i].model_id);
		cJSON_AddNumberToObject(w, "growth_pct_per_quarter", s->workloads[i].growth_pct);
		cJSON_AddItemToArray(wa, w);
	}
	cJSON *ga = cJSON_AddArrayToObject(o, "gpus");
	for (int i = 0; i < s->ngpus; i++)
		cJSON_AddItemToArray(ga, cJSON_CreateString(s->gpus[i]));
	return o;
}
