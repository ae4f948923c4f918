/*
 * scenario.c - scenario rows: loading a scenario with its workloads and
 * GPUs, and creating, changing, copying and removing scenarios.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/scenario.h"
#include "lib/util.h"
#include "schema/db.h"
#include "schema/lookup.h"

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

/* A stored value outside its range: a data error naming the scenario and the column. */
static int stored_bad(const struct scenario *s, const char *column, const char *value,
		      const char *want)
{
	return data_error("scenario '%s' as stored: %s %s, expected %s (was the database "
			  "edited outside piqplan?)", s->name, column, value, want);
}

static int bad_number(const struct scenario *s, const char *column, double v, const char *want)
{
	char text[40];
	snprintf(text, sizeof(text), "%.17g", v);
	return stored_bad(s, column, text, want);
}

static int growth_ok(double pct)
{
	return pct > -100 && pct <= SCENARIO_MAX_GROWTH_PCT;
}

/* Every setting of s in the range create and set accept. 0, or -1 after data_error(). */
static int scenario_check(const struct scenario *s, const char *start_text, const char *lc)
{
	char want[80];
	if (s->start_quarter < 0)
		return stored_bad(s, "start_quarter", start_text, "a quarter like 2027Q1");
	if (s->quarters < 1 || s->quarters > SCENARIO_MAX_QUARTERS) {
		snprintf(want, sizeof(want), "1 to %d", SCENARIO_MAX_QUARTERS);
		return bad_number(s, "quarters", s->quarters, want);
	}
	if (s->start_quarter + s->quarters - 1 > SCENARIO_LAST_QUARTER)
		return bad_number(s, "quarters", s->quarters, "a horizon that ends by 9999Q4");
	if (!growth_ok(s->growth_pct))
		return bad_number(s, "growth_pct_per_quarter", s->growth_pct, "above -100, at most 1000");
	if (!(s->ttft_ms > 0 && s->ttft_ms <= SCENARIO_MAX_SLO_MS))
		return bad_number(s, "ttft_ms", s->ttft_ms, "above 0, at most an hour");
	if (!(s->tpot_ms > 0 && s->tpot_ms <= SCENARIO_MAX_SLO_MS))
		return bad_number(s, "tpot_ms", s->tpot_ms, "above 0, at most an hour");
	if (!(s->utilization > 0 && s->utilization <= 1))
		return bad_number(s, "utilization", s->utilization, "a fraction in (0, 1]");
	if (!(s->mfu > 0 && s->mfu <= 1))
		return bad_number(s, "mfu", s->mfu, "a fraction in (0, 1]");
	if (!pricing_valid(s->pricing))
		return stored_bad(s, "pricing", s->pricing, pricing_kinds_help);
	if (s->redundancy < 0 || s->redundancy > SCENARIO_MAX_REDUNDANCY)
		return bad_number(s, "redundancy", s->redundancy, "0 to 1000");
	if (s->lead_time_days < 0 || s->lead_time_days > SCENARIO_MAX_LEAD_TIME_DAYS)
		return bad_number(s, "lead_time_days", s->lead_time_days, "0 to 3650");
	if (!scenario_demand_valid(s->demand))
		return stored_bad(s, "demand_stat", s->demand, "mean, p50, p90, p99, p99.9 or peak");
	if (!scenario_margin_valid(s->margin))
		return stored_bad(s, "margin", s->margin, "utilization, spares or both");
	if (!(s->slo_percentile >= SCENARIO_MIN_SLO_PERCENTILE && s->slo_percentile < 100))
		return bad_number(s, "slo_percentile", s->slo_percentile, "50 to below 100");
	if (!(s->long_ttft_ms_per_1k > 0 && s->long_ttft_ms_per_1k <= SCENARIO_MAX_LONG_TTFT_MS_PER_1K))
		return bad_number(s, "long_ttft_ms_per_1k", s->long_ttft_ms_per_1k,
				  "above 0, at most 10000000");
	if (s->max_model_len < 0 || s->max_model_len > SCENARIO_MAX_MODEL_LEN)
		return bad_number(s, "max_model_len", (double)s->max_model_len,
				  "NULL or 1 to 100000000 tokens");
	if (!(s->prefix_hit == -1 || (s->prefix_hit >= 0 && s->prefix_hit < 1)))
		return bad_number(s, "prefix_hit", s->prefix_hit, "NULL or 0 to below 1");
	if (s->long_context_tokens < -1 || s->long_context_tokens > SCENARIO_MAX_LONG_CONTEXT ||
	    (s->long_context_tokens == 0 && strcmp(lc, "auto")))
		return stored_bad(s, "long_context", lc, "auto, off or 1 to 100000000 tokens");
	for (int i = 0; i < s->nworkloads; i++)
		if (!growth_ok(s->workloads[i].growth_pct))
			return bad_number(s, "scenario_workload.growth_pct_per_quarter",
					  s->workloads[i].growth_pct, "above -100, at most 1000");
	return 0;
}

int scenario_load(struct db *db, int64_t id, struct scenario *s)
{
	char *start_text = NULL, *lc_text = NULL;
	struct stmt *st = NULL;
	int ret = -1, r;

	memset(s, 0, sizeof(*s));
	st = db_prepare(db,
		"SELECT name, coalesce(description, ''), start_quarter, quarters,"
		"       growth_pct_per_quarter, ttft_ms, tpot_ms, utilization, pricing, redundancy,"
		"       long_context, engine_id, demand_stat, lead_time_days, mfu, slo_percentile,"
		"       long_ttft_ms_per_1k, margin, coalesce(max_model_len, 0),"
		"       coalesce(prefix_hit, -1)"
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
	start_text = xstrdup(stmt_text(st, 2));
	s->start_quarter = quarter_parse(start_text);
	int64_t quarters = stmt_int64(st, 3), redundancy = stmt_int64(st, 9);
	int64_t lead = stmt_int64(st, 13);
	/* Clamped so the int fields cannot wrap; scenario_check refuses what was out of range. */
	s->quarters = quarters < 0 ? -1 : quarters > 1000000 ? 1000000 : (int)quarters;
	s->growth_pct = stmt_double(st, 4);
	s->ttft_ms = stmt_double(st, 5);
	s->tpot_ms = stmt_double(st, 6);
	s->utilization = stmt_double(st, 7);
	s->pricing = xstrdup(stmt_text(st, 8));
	s->redundancy = redundancy < 0 ? -1 : redundancy > 1000000 ? 1000000 : (int)redundancy;
	lc_text = xstrdup(stmt_text(st, 10));
	int64_t lc = 0;
	if (!strcmp(lc_text, "off"))
		lc = -1;
	else if (strcmp(lc_text, "auto") && (parse_int64(lc_text, &lc) || lc < 1))
		lc = -2;	/* neither: refused below */
	s->long_context_tokens = lc;
	s->engine = xstrdup(stmt_text(st, 11));
	s->demand = xstrdup(stmt_text(st, 12));
	s->lead_time_days = lead < 0 ? -1 : lead > 1000000 ? 1000000 : (int)lead;
	s->mfu = stmt_double(st, 14);
	s->slo_percentile = stmt_double(st, 15);
	s->long_ttft_ms_per_1k = stmt_double(st, 16);
	s->margin = xstrdup(stmt_text(st, 17));
	s->max_model_len = stmt_int64(st, 18);
	s->prefix_hit = stmt_double(st, 19);
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
	if (scenario_check(s, start_text, lc_text))
		goto cleanup;
	ret = 0;
cleanup:
	stmt_finalize(st);
	free(start_text);
	free(lc_text);
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
	free(s->demand);
	free(s->margin);
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
	cJSON_AddNumberToObject(o, "slo_percentile", s->slo_percentile);
	cJSON_AddNumberToObject(o, "long_ttft_ms_per_1k", s->long_ttft_ms_per_1k);
	cJSON_AddStringToObject(o, "margin", s->margin);
	cJSON_AddNumberToObject(o, "utilization", s->utilization);
	cJSON_AddStringToObject(o, "pricing", s->pricing);
	cJSON_AddNumberToObject(o, "redundancy", s->redundancy);
	if (s->long_context_tokens > 0)
		cJSON_AddNumberToObject(o, "long_context", (double)s->long_context_tokens);
	else
		cJSON_AddStringToObject(o, "long_context", s->long_context_tokens ? "off" : "auto");
	cJSON_AddStringToObject(o, "engine", s->engine);
	cJSON_AddStringToObject(o, "demand", s->demand);
	cJSON_AddNumberToObject(o, "lead_time_days", s->lead_time_days);
	cJSON_AddNumberToObject(o, "mfu", s->mfu);
	if (s->max_model_len > 0)
		cJSON_AddNumberToObject(o, "max_model_len", (double)s->max_model_len);
	else
		cJSON_AddNullToObject(o, "max_model_len");
	if (s->prefix_hit >= 0)
		cJSON_AddNumberToObject(o, "prefix_hit", s->prefix_hit);
	else
		cJSON_AddStringToObject(o, "prefix_hit", "measured");
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

/* --- writing scenarios ------------------------------------------------------ */

int scenario_demand_valid(const char *s)
{
	static const char *const kinds[] = { "mean", "p50", "p90", "p99", "p99.9", "peak" };
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (s && !strcmp(s, kinds[i]))
			return 1;
	return 0;
}

int scenario_margin_valid(const char *s)
{
	return s && (!strcmp(s, "utilization") || !strcmp(s, "spares") || !strcmp(s, "both"));
}

int slo_percentile_parse(const char *s, double *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	const char *digits = s[0] == 'p' || s[0] == 'P' ? s + 1 : s;
	n = strlen(digits);
	memcpy(buf, digits, n + 1);
	if (n && buf[n - 1] == '%')
		buf[n - 1] = '\0';
	if (parse_double(buf, out) || !(*out >= SCENARIO_MIN_SLO_PERCENTILE && *out < 100))
		return -1;
	return 0;
}

int growth_pct_parse(const char *s, double *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == '%')
		buf[n - 1] = '\0';
	if (parse_double(buf, out) || !growth_ok(*out))
		return -1;
	return 0;
}

/* Replace the scenario's workload list with the comma-separated names. */
static int set_workloads(struct db *db, int64_t sid, const char *names)
{
	struct stmt *del = db_prepare(db, "DELETE FROM scenario_workload WHERE scenario_id = :s");
	struct stmt *find = db_prepare(db, "SELECT id FROM workload WHERE name = :name");
	struct stmt *ins = db_prepare(db,
		"INSERT OR IGNORE INTO scenario_workload (scenario_id, workload_id) VALUES (:s, :w)");
	char *list = xstrdup(names), *save = NULL;
	int ret = -1, n = 0;

	if (!del || !find || !ins)
		goto cleanup;
	stmt_bind_int64(del, ":s", sid);
	if (stmt_step(del) < 0)
		goto cleanup;
	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		stmt_bind_text(find, ":name", name);
		int r = stmt_step(find);
		int64_t wid = r == 1 ? stmt_int64(find, 0) : -1;
		stmt_reset(find);
		if (r == 0) {
			error("unknown workload '%s'", name);
			fprintf(stderr, "Try 'piqplan workload list'.\n");
		}
		if (r != 1)
			goto cleanup;
		stmt_bind_int64(ins, ":s", sid);
		stmt_bind_int64(ins, ":w", wid);
		if (stmt_step(ins) < 0)
			goto cleanup;
		stmt_reset(ins);
		n++;
	}
	if (n == 0) {
		error("--workload needs at least one workload");
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(list);
	stmt_finalize(ins);
	stmt_finalize(find);
	stmt_finalize(del);
	return ret;
}

/* Replace the candidate GPU list. */
static int set_gpus(struct db *db, int64_t sid, const char *names)
{
	struct stmt *del = db_prepare(db, "DELETE FROM scenario_gpu WHERE scenario_id = :s");
	struct stmt *ins = db_prepare(db,
		"INSERT OR IGNORE INTO scenario_gpu (scenario_id, gpu_id) VALUES (:s, :g)");
	char *list = xstrdup(names), *save = NULL;
	int ret = -1;

	if (!del || !ins)
		goto cleanup;
	stmt_bind_int64(del, ":s", sid);
	if (stmt_step(del) < 0)
		goto cleanup;
	for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		char *id = lookup_gpu(db, name);
		if (!id)
			goto cleanup;
		stmt_bind_int64(ins, ":s", sid);
		stmt_bind_text(ins, ":g", id);
		free(id);
		if (stmt_step(ins) < 0)
			goto cleanup;
		stmt_reset(ins);
	}
	ret = 0;
cleanup:
	free(list);
	stmt_finalize(ins);
	stmt_finalize(del);
	return ret;
}

/*
 * Apply --growth: bare percentages set the scenario's growth, W=PCT the
 * growth of a workload of the scenario (which must be one of its workloads).
 */
static int set_growth(struct db *db, int64_t sid, const char *spec)
{
	struct stmt *sc = db_prepare(db,
		"UPDATE scenario SET growth_pct_per_quarter = :pct WHERE id = :s");
	struct stmt *wl = db_prepare(db,
		"UPDATE scenario_workload SET growth_pct_per_quarter = :pct"
		" WHERE scenario_id = :s AND workload_id = (SELECT id FROM workload WHERE name = :w)");
	char *list = xstrdup(spec), *save = NULL;
	int ret = -1;

	if (!sc || !wl)
		goto cleanup;
	for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(item, '=');	/* the name may hold '=' itself */
		double pct;
		growth_pct_parse(eq ? eq + 1 : item, &pct);	/* validated by the caller */
		struct stmt *st = eq ? wl : sc;
		if (eq) {
			*eq = '\0';
			stmt_bind_text(wl, ":w", item);
		}
		stmt_bind_double(st, ":pct", pct);
		stmt_bind_int64(st, ":s", sid);
		if (stmt_step(st) < 0)
			goto cleanup;
		stmt_reset(st);
		if (eq && db_changes(db) == 0) {
			error("--growth: '%s' is not a workload of this scenario", item);
			goto cleanup;
		}
	}
	ret = 0;
cleanup:
	free(list);
	stmt_finalize(wl);
	stmt_finalize(sc);
	return ret;
}

/* Write the scalar settings that were given. */
static int set_fields(struct db *db, int64_t sid, const struct scenario_settings *o)
{
	struct stmt *st = db_prepare(db,
		"UPDATE scenario SET"
		"  description = coalesce(:description, description),"
		"  start_quarter = coalesce(upper(:start), start_quarter),"
		"  quarters = coalesce(:quarters, quarters),"
		"  ttft_ms = coalesce(:ttft, ttft_ms),"
		"  tpot_ms = coalesce(:tpot, tpot_ms),"
		"  utilization = coalesce(:util, utilization),"
		"  pricing = coalesce(:pricing, pricing),"
		"  redundancy = coalesce(:redundancy, redundancy),"
		"  long_context = coalesce(:long_context, long_context),"
		"  engine_id = coalesce(:engine, engine_id),"
		"  demand_stat = coalesce(:demand, demand_stat),"
		"  demand = CASE WHEN :demand IS NULL THEN demand WHEN :demand = 'mean' THEN 'mean'"
		"           ELSE 'peak' END,"
		"  lead_time_days = coalesce(:lead, lead_time_days),"
		"  mfu = coalesce(:mfu, mfu),"
		"  slo_percentile = coalesce(:pct, slo_percentile),"
		"  long_ttft_ms_per_1k = coalesce(:long_ttft, long_ttft_ms_per_1k),"
		"  margin = coalesce(:margin, margin),"
		"  max_model_len = CASE WHEN :have_mml THEN nullif(:mml, 0) ELSE max_model_len END,"
		"  prefix_hit = CASE WHEN :hit IS NULL THEN prefix_hit WHEN :hit = 'measured' THEN NULL"
		"               ELSE CAST(:hit AS REAL) END"
		" WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_text(st, ":description", o->description);
	stmt_bind_text(st, ":start", o->start);
	stmt_bind_text(st, ":pricing", o->pricing);
	stmt_bind_text(st, ":long_context", o->long_context);
	stmt_bind_text(st, ":engine", o->engine);
	stmt_bind_text(st, ":demand", o->demand);
	if (o->have_quarters)
		stmt_bind_int64(st, ":quarters", o->quarters);
	if (o->have_ttft)
		stmt_bind_double(st, ":ttft", o->ttft_ms);
	if (o->have_tpot)
		stmt_bind_double(st, ":tpot", o->tpot_ms);
	if (o->have_util)
		stmt_bind_double(st, ":util", o->utilization);
	if (o->have_redundancy)
		stmt_bind_int64(st, ":redundancy", o->redundancy);
	if (o->have_lead)
		stmt_bind_int64(st, ":lead", o->lead_time_days);
	if (o->have_mfu)
		stmt_bind_double(st, ":mfu", o->mfu);
	stmt_bind_text(st, ":margin", o->margin);
	if (o->slo_percentile) {
		double pct;
		slo_percentile_parse(o->slo_percentile, &pct);	/* validated by the caller */
		stmt_bind_double(st, ":pct", pct);
	}
	if (o->have_long_ttft)
		stmt_bind_double(st, ":long_ttft", o->long_ttft_ms_per_1k);
	stmt_bind_text(st, ":hit", o->prefix_hit);
	stmt_bind_int64(st, ":have_mml", o->have_max_model_len);
	stmt_bind_int64(st, ":mml", o->max_model_len);
	stmt_bind_int64(st, ":id", sid);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

static int check_engine(struct db *db, const char *engine)
{
	if (!engine)
		return 0;
	int r = engine_exists(db, engine);
	if (r == 0)
		return error("unknown engine '%s' (the catalog has vllm, sglang, trtllm)", engine);
	return r < 0 ? -1 : 0;
}

/* After a change of start or quarters: the horizon must end by 9999Q4 (a usage error). */
static int check_horizon(struct db *db, int64_t sid)
{
	struct stmt *st = db_prepare(db, "SELECT start_quarter, quarters FROM scenario WHERE id = :s");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":s", sid);
	int r = stmt_step(st), ret = r == 1 ? 0 : -1;
	if (r == 1) {
		int start = quarter_parse(stmt_text(st, 0));
		int64_t quarters = stmt_int64(st, 1);
		if (start >= 0 && start + quarters - 1 > SCENARIO_LAST_QUARTER) {
			error("a horizon of %lld quarters from %s would end after 9999Q4",
			      (long long)quarters, stmt_text(st, 0));
			set_failure_status(EXIT_USAGE);
			ret = -1;
		}
	}
	stmt_finalize(st);
	return ret;
}

int scenario_update(struct db *db, int64_t sid, const struct scenario_settings *o)
{
	if (check_engine(db, o->engine) || set_fields(db, sid, o))
		return -1;
	if ((o->start || o->have_quarters) && check_horizon(db, sid))
		return -1;
	if (o->workloads && set_workloads(db, sid, o->workloads))
		return -1;
	if (o->gpus && set_gpus(db, sid, o->gpus))
		return -1;
	if (o->growth && set_growth(db, sid, o->growth))
		return -1;
	return 0;
}

/* -1 after error() when a scenario is called `name` already (or the query fails), else 0. */
static int name_taken(struct db *db, const char *name)
{
	struct stmt *st = db_prepare(db, "SELECT 1 FROM scenario WHERE name = :name");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	int exists = stmt_step_once(st);
	stmt_finalize(st);
	if (exists > 0)
		error("scenario '%s' already exists", name);
	return exists ? -1 : 0;
}

int scenario_insert(struct db *db, const char *name, const struct scenario_settings *o)
{
	if (name_taken(db, name))
		return -1;

	struct stmt *st = db_prepare(db,
		"INSERT INTO scenario (name, start_quarter, quarters, ttft_ms, tpot_ms, utilization,"
		"   pricing, redundancy, long_context, engine_id, lead_time_days, mfu, slo_percentile,"
		"   long_ttft_ms_per_1k, margin, demand_stat)"
		" VALUES (:name, upper(:start), :quarters, :ttft, :tpot, :util, 'on-demand',"
		"   :redundancy, 'auto', 'vllm', :lead, :mfu, :pct, :long_ttft, :margin, :demand)");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	stmt_bind_text(st, ":start", o->start);
	stmt_bind_int64(st, ":quarters", o->quarters);
	stmt_bind_double(st, ":ttft", SCENARIO_DEFAULT_TTFT_MS);
	stmt_bind_double(st, ":tpot", SCENARIO_DEFAULT_TPOT_MS);
	stmt_bind_double(st, ":util", SCENARIO_DEFAULT_UTILIZATION);
	stmt_bind_int64(st, ":redundancy", SCENARIO_DEFAULT_REDUNDANCY);
	stmt_bind_int64(st, ":lead", SCENARIO_DEFAULT_LEAD_TIME_DAYS);
	stmt_bind_double(st, ":mfu", SCENARIO_DEFAULT_MFU);
	stmt_bind_double(st, ":pct", SCENARIO_DEFAULT_SLO_PERCENTILE);
	stmt_bind_double(st, ":long_ttft", SCENARIO_DEFAULT_LONG_TTFT_MS_PER_1K);
	stmt_bind_text(st, ":margin", SCENARIO_DEFAULT_MARGIN);
	stmt_bind_text(st, ":demand", SCENARIO_DEFAULT_DEMAND);
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return -1;
	return scenario_update(db, db_last_insert_rowid(db), o);
}

int scenario_insert_copy(struct db *db, int64_t sid, const char *new_name)
{
	static const char *const copies[] = {
		"INSERT INTO scenario (name, description, start_quarter, quarters,"
		"   growth_pct_per_quarter, ttft_ms, tpot_ms, utilization, pricing, redundancy,"
		"   long_context, engine_id, demand, lead_time_days, mfu, slo_percentile,"
		"   long_ttft_ms_per_1k, margin, demand_stat, max_model_len, prefix_hit)"
		" SELECT :new, description, start_quarter, quarters, growth_pct_per_quarter, ttft_ms,"
		"   tpot_ms, utilization, pricing, redundancy, long_context, engine_id, demand,"
		"   lead_time_days, mfu, slo_percentile, long_ttft_ms_per_1k, margin, demand_stat,"
		"   max_model_len, prefix_hit FROM scenario WHERE id = :s",
		"INSERT INTO scenario_workload (scenario_id, workload_id, growth_pct_per_quarter)"
		" SELECT (SELECT id FROM scenario WHERE name = :new), workload_id, growth_pct_per_quarter"
		"   FROM scenario_workload WHERE scenario_id = :s",
		"INSERT INTO scenario_gpu (scenario_id, gpu_id)"
		" SELECT (SELECT id FROM scenario WHERE name = :new), gpu_id"
		"   FROM scenario_gpu WHERE scenario_id = :s",
	};
	if (name_taken(db, new_name))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(copies); i++) {
		struct stmt *st = db_prepare(db, copies[i]);
		if (!st)
			return -1;
		stmt_bind_text(st, ":new", new_name);
		stmt_bind_int64(st, ":s", sid);
		int r = stmt_step(st);
		stmt_finalize(st);
		if (r < 0)
			return -1;
	}
	return 0;
}

int scenario_delete(struct db *db, int64_t sid)
{
	struct stmt *st = db_prepare(db, "DELETE FROM scenario WHERE id = :s");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":s", sid);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int scenario_has_run(struct db *db, int64_t sid, const char *name, int64_t run)
{
	struct stmt *st = db_prepare(db, "SELECT 1 FROM run WHERE id = :r AND scenario_id = :s");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":r", run);
	stmt_bind_int64(st, ":s", sid);
	int r = stmt_step_once(st);
	stmt_finalize(st);
	if (r == 0)
		return error("run %lld is not a run of scenario '%s'", (long long)run, name);
	return r < 0 ? -1 : 0;
}
