/*
 * cmd_scenario.c - `piqplan scenario create|set|copy|list|show|remove`:
 * named sets of planning assumptions (workloads, candidate GPUs, horizon,
 * growth, SLOs, pricing, redundancy, long-context isolation). Running a
 * scenario and comparing runs live in cmd_run.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "cmd.h"
#include "listing.h"
#include "schema/lookup.h"
#include "opts.h"
#include "run.h"
#include "schema/scenario.h"
#include "lib/json.h"
#include "lib/util.h"
#include "schema/db.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defaults of a new scenario; each is documented in --help. */
#define DEFAULT_TTFT_MS 2000.0
#define DEFAULT_TPOT_MS 100.0
#define DEFAULT_UTILIZATION 0.7
#define DEFAULT_REDUNDANCY 1
#define DEFAULT_LEAD_TIME_DAYS 90
#define DEFAULT_MFU 0.4

/* What the options of create/set say; a NULL / unset field is "not given". */
struct scenario_opts {
	const char *workloads, *gpus, *start, *growth, *pricing, *long_context, *engine;
	const char *description, *demand;
	int64_t quarters, redundancy, lead_time_days;
	double ttft_ms, tpot_ms, utilization, mfu;
	int have_quarters, have_redundancy, have_lead, have_ttft, have_tpot, have_util, have_mfu;
};

#define SCENARIO_OPTS(o) \
	{ "workload", 0, OPT_STRING, &(o).workloads, 0 }, \
	{ "gpus", 0, OPT_STRING, &(o).gpus, 0 }, \
	{ "start", 0, OPT_STRING, &(o).start, 0 }, \
	{ "quarters", 0, OPT_INT, &(o).quarters, &(o).have_quarters }, \
	{ "growth", 0, OPT_STRING, &(o).growth, 0 }, \
	{ "ttft-ms", 0, OPT_DOUBLE, &(o).ttft_ms, &(o).have_ttft }, \
	{ "tpot-ms", 0, OPT_DOUBLE, &(o).tpot_ms, &(o).have_tpot }, \
	{ "utilization", 0, OPT_DOUBLE, &(o).utilization, &(o).have_util }, \
	{ "pricing", 0, OPT_STRING, &(o).pricing, 0 }, \
	{ "redundancy", 0, OPT_INT, &(o).redundancy, &(o).have_redundancy }, \
	{ "long-context", 0, OPT_STRING, &(o).long_context, 0 }, \
	{ "engine", 0, OPT_STRING, &(o).engine, 0 }, \
	{ "demand", 0, OPT_STRING, &(o).demand, 0 }, \
	{ "lead-time-days", 0, OPT_INT, &(o).lead_time_days, &(o).have_lead }, \
	{ "mfu", 0, OPT_DOUBLE, &(o).mfu, &(o).have_mfu }, \
	{ "description", 0, OPT_STRING, &(o).description, 0 }

static const char options_help[] =
	"Options:\n"
	"  --workload W[,W...]     workloads to serve (see 'piqplan workload list')\n"
	"  --gpus G[,G...]         candidate GPU types (default: every GPU type with a price)\n"
	"  --start QUARTER         first quarter planned, e.g. 2027Q1\n"
	"  --quarters N            quarters planned, 1-40\n"
	"  --growth PCT            demand growth per quarter, compounded: 15 or 15%\n"
	"  --growth W=PCT,...      per workload; a bare PCT in the list is the default\n"
	"  --ttft-ms N             time-to-first-token target (default 2000)\n"
	"  --tpot-ms N             time-per-output-token target (default 100)\n"
	"  --utilization F         highest planned busy share of an instance, (0,1] (default 0.7)\n"
	"  --pricing KIND          on-demand (default), reserved-1y, reserved-3y, spot,\n"
	"                          capacity-block, owned: the price kind for GPUs to acquire\n"
	"  --redundancy N          spare instances per pool, N+1 is 1 (default 1)\n"
	"  --long-context MODE     auto (default): isolate long requests in their own pool when\n"
	"                          that is cheaper; off; or a threshold in tokens (prompt+output)\n"
	"  --engine NAME           vllm (default), sglang, trtllm\n"
	"  --demand peak|mean      plan for the workload's peak (default) or mean request rate\n"
	"  --lead-time-days N      from order to GPUs in service (default 90)\n"
	"  --mfu F                 model-FLOPs utilisation for the compute floor (default 0.4)\n"
	"  --description TEXT      what this scenario is about (opens its reports)\n";

/* "15", "15%", "-5.5%" -> percent; -1 if not a number > -100. */
static int parse_pct(const char *s, double *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	if (buf[n - 1] == '%')
		buf[n - 1] = '\0';
	if (parse_double(buf, out) || *out <= -100)
		return -1;
	return 0;
}

/* Validate what was given, before any database work. */
static int check_opts(struct ctx *ctx, const struct scenario_opts *o)
{
	if (o->start && quarter_parse(o->start) < 0)
		return error("--start '%s': expected a quarter like 2027Q1", o->start), usage_error(ctx);
	if (o->have_quarters && (o->quarters < 1 || o->quarters > 40))
		return error("--quarters %lld: expected 1 to 40", (long long)o->quarters),
		       usage_error(ctx);
	if (o->have_ttft && o->ttft_ms <= 0)
		return error("--ttft-ms must be positive"), usage_error(ctx);
	if (o->have_tpot && o->tpot_ms <= 0)
		return error("--tpot-ms must be positive"), usage_error(ctx);
	if (o->have_util && (o->utilization <= 0 || o->utilization > 1))
		return error("--utilization %g: expected a fraction in (0, 1]", o->utilization),
		       usage_error(ctx);
	if (o->have_mfu && (o->mfu <= 0 || o->mfu > 1))
		return error("--mfu %g: expected a fraction in (0, 1]", o->mfu), usage_error(ctx);
	if (o->have_redundancy && (o->redundancy < 0 || o->redundancy > 1000))
		return error("--redundancy must be 0 or more"), usage_error(ctx);
	if (o->have_lead && (o->lead_time_days < 0 || o->lead_time_days > 3650))
		return error("--lead-time-days must be 0 to 3650"), usage_error(ctx);
	if (o->pricing && !pricing_valid(o->pricing))
		return error("unknown pricing '%s' (expected one of: %s)", o->pricing,
			     pricing_kinds_help), usage_error(ctx);
	if (o->demand && strcmp(o->demand, "peak") && strcmp(o->demand, "mean"))
		return error("--demand '%s': expected peak or mean", o->demand), usage_error(ctx);
	if (o->long_context && strcmp(o->long_context, "auto") && strcmp(o->long_context, "off")) {
		int64_t t;
		if (parse_int64(o->long_context, &t) || t < 1 || t > 100000000)
			return error("--long-context '%s': expected auto, off or a number of tokens",
				     o->long_context), usage_error(ctx);
	}
	if (o->growth) {
		char *list = xstrdup(o->growth), *save = NULL;
		for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(item, '=');
			double pct;
			if (parse_pct(eq ? eq + 1 : item, &pct) || (eq && eq == item)) {
				error("--growth '%s': expected PCT or WORKLOAD=PCT, with PCT > -100", item);
				free(list);
				return usage_error(ctx);
			}
		}
		free(list);
	}
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
		char *eq = strchr(item, '=');
		double pct;
		parse_pct(eq ? eq + 1 : item, &pct);	/* validated by check_opts */
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
static int set_fields(struct db *db, int64_t sid, const struct scenario_opts *o)
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
		"  demand = coalesce(:demand, demand),"
		"  lead_time_days = coalesce(:lead, lead_time_days),"
		"  mfu = coalesce(:mfu, mfu)"
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
	stmt_bind_int64(st, ":id", sid);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

static int check_engine(struct db *db, const char *engine)
{
	if (!engine)
		return 0;
	struct stmt *st = db_prepare(db, "SELECT 1 FROM engine WHERE id = :id");
	if (!st)
		return -1;
	stmt_bind_text(st, ":id", engine);
	int r = stmt_step_once(st);
	stmt_finalize(st);
	if (r == 0)
		return error("unknown engine '%s' (the catalog has vllm, sglang, trtllm)", engine);
	return r < 0 ? -1 : 0;
}

static int apply_opts(struct db *db, int64_t sid, const struct scenario_opts *o)
{
	if (check_engine(db, o->engine) || set_fields(db, sid, o))
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

static int scenario_create(struct ctx *ctx, int argc, char **argv)
{
	struct scenario_opts o = { 0 };
	const struct opt opts[] = { SCENARIO_OPTS(o), OPT_END };
	char *pos[1];
	int npos;

	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	if (!o.workloads || !o.start || !o.have_quarters) {
		error("scenario create needs --workload, --start and --quarters");
		return usage_error(ctx);
	}
	if (!*pos[0])
		return error("scenario name must not be empty"), usage_error(ctx);
	if (check_opts(ctx, &o))
		return -1;

	if (name_taken(ctx->db, pos[0]))
		return -1;

	struct stmt *st = db_prepare(ctx->db,
		"INSERT INTO scenario (name, start_quarter, quarters, ttft_ms, tpot_ms, utilization,"
		"   pricing, redundancy, long_context, engine_id, lead_time_days, mfu)"
		" VALUES (:name, upper(:start), :quarters, :ttft, :tpot, :util, 'on-demand',"
		"   :redundancy, 'auto', 'vllm', :lead, :mfu)");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", pos[0]);
	stmt_bind_text(st, ":start", o.start);
	stmt_bind_int64(st, ":quarters", o.quarters);
	stmt_bind_double(st, ":ttft", DEFAULT_TTFT_MS);
	stmt_bind_double(st, ":tpot", DEFAULT_TPOT_MS);
	stmt_bind_double(st, ":util", DEFAULT_UTILIZATION);
	stmt_bind_int64(st, ":redundancy", DEFAULT_REDUNDANCY);
	stmt_bind_int64(st, ":lead", DEFAULT_LEAD_TIME_DAYS);
	stmt_bind_double(st, ":mfu", DEFAULT_MFU);
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return -1;
	int64_t sid = db_last_insert_rowid(ctx->db);
	if (apply_opts(ctx->db, sid, &o))
		return -1;
	printf("created scenario '%s'; run it with: piqplan scenario run %s\n", pos[0], pos[0]);
	return 0;
}

static int scenario_set(struct ctx *ctx, int argc, char **argv)
{
	struct scenario_opts o = { 0 };
	const struct opt opts[] = { SCENARIO_OPTS(o), OPT_END };
	char *pos[1];
	int npos;

	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	if (check_opts(ctx, &o))
		return -1;
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0 || apply_opts(ctx->db, sid, &o))
		return -1;
	printf("updated scenario '%s'\n", pos[0]);
	return 0;
}

static int scenario_copy(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[2];
	int npos;

	if (opts_parse(argc, argv, opts, pos, 2, &npos) || npos != 2)
		return usage_error(ctx);
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0)
		return -1;
	static const char *const copies[] = {
		"INSERT INTO scenario (name, description, start_quarter, quarters,"
		"   growth_pct_per_quarter, ttft_ms, tpot_ms, utilization, pricing, redundancy,"
		"   long_context, engine_id, demand, lead_time_days, mfu)"
		" SELECT :new, description, start_quarter, quarters, growth_pct_per_quarter, ttft_ms,"
		"   tpot_ms, utilization, pricing, redundancy, long_context, engine_id, demand,"
		"   lead_time_days, mfu FROM scenario WHERE id = :s",
		"INSERT INTO scenario_workload (scenario_id, workload_id, growth_pct_per_quarter)"
		" SELECT (SELECT id FROM scenario WHERE name = :new), workload_id, growth_pct_per_quarter"
		"   FROM scenario_workload WHERE scenario_id = :s",
		"INSERT INTO scenario_gpu (scenario_id, gpu_id)"
		" SELECT (SELECT id FROM scenario WHERE name = :new), gpu_id"
		"   FROM scenario_gpu WHERE scenario_id = :s",
	};
	if (name_taken(ctx->db, pos[1]))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(copies); i++) {
		struct stmt *st = db_prepare(ctx->db, copies[i]);
		if (!st)
			return -1;
		stmt_bind_text(st, ":new", pos[1]);
		stmt_bind_int64(st, ":s", sid);
		int r = stmt_step(st);
		stmt_finalize(st);
		if (r < 0)
			return -1;
	}
	printf("copied scenario '%s' to '%s'; change it with: piqplan scenario set %s ...\n",
	       pos[0], pos[1], pos[1]);
	return 0;
}

static int scenario_remove(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[1];
	int npos;

	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0)
		return -1;
	struct stmt *st = db_prepare(ctx->db, "DELETE FROM scenario WHERE id = :s");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":s", sid);
	int r = stmt_step(st);
	stmt_finalize(st);
	if (r < 0)
		return -1;
	printf("removed scenario '%s' and its runs\n", pos[0]);
	return 0;
}

static int scenario_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	if (opts_parse(argc, argv, opts, pos, 0, &npos))
		return usage_error(ctx);
	return print_rows(db_prepare(ctx->db, json ?
		"SELECT s.name, s.start_quarter AS start, s.quarters, s.growth_pct_per_quarter,"
		"       s.pricing, s.engine_id AS engine,"
		"       (SELECT group_concat(w.name, ',') FROM scenario_workload sw"
		"          JOIN workload w ON w.id = sw.workload_id WHERE sw.scenario_id = s.id)"
		"         AS workloads,"
		"       (SELECT group_concat(gpu_id, ',') FROM scenario_gpu WHERE scenario_id = s.id)"
		"         AS gpus,"
		"       (SELECT max(started_at) FROM run WHERE scenario_id = s.id) AS last_run,"
		"       (SELECT count(*) FROM run WHERE scenario_id = s.id) AS runs,"
		"       coalesce(s.description, '') AS description"
		"  FROM scenario s ORDER BY s.name" :
		"SELECT s.name AS NAME, s.start_quarter AS START, s.quarters AS \">QUARTERS\","
		"       s.growth_pct_per_quarter || '%' AS \">GROWTH\", s.pricing AS PRICING,"
		"       (SELECT group_concat(w.name, ',') FROM scenario_workload sw"
		"          JOIN workload w ON w.id = sw.workload_id WHERE sw.scenario_id = s.id)"
		"         AS WORKLOADS,"
		"       coalesce((SELECT group_concat(gpu_id, ',') FROM scenario_gpu"
		"                  WHERE scenario_id = s.id), 'all priced') AS GPUS,"
		"       coalesce((SELECT max(started_at) FROM run WHERE scenario_id = s.id), 'never')"
		"         AS \"LAST RUN\""
		"  FROM scenario s ORDER BY s.name"), json);
}

static int scenario_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, ret = -1;
	struct scenario sc;

	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0 || scenario_load(ctx->db, sid, &sc))
		return -1;
	cJSON *o = scenario_json(&sc);
	if (json) {
		print_json(o);
		ret = 0;
		goto cleanup;
	}
	char start[QUARTER_BUF];
	quarter_format(sc.start_quarter, start);
	printf("scenario        %s\n", sc.name);
	if (sc.description[0])
		printf("description     %s\n", sc.description);
	printf("horizon         %d quarters from %s\n", sc.quarters, start);
	printf("growth          %g%% per quarter, compounded\n", sc.growth_pct);
	printf("SLOs            TTFT %g ms, TPOT %g ms, utilisation at most %g\n", sc.ttft_ms,
	       sc.tpot_ms, sc.utilization);
	printf("demand          the workloads' %s request rate\n", sc.demand_peak ? "peak" : "mean");
	printf("pricing         %s; redundancy N+%d per pool; lead time %d days\n", sc.pricing,
	       sc.redundancy, sc.lead_time_days);
	if (sc.long_context_tokens > 0)
		printf("long context    isolate requests of %lld tokens or more\n",
		       (long long)sc.long_context_tokens);
	else
		printf("long context    %s\n", sc.long_context_tokens == 0 ? "auto" : "off");
	printf("engine          %s; compute floor at MFU %g\n", sc.engine, sc.mfu);
	printf("workloads:\n");
	for (int i = 0; i < sc.nworkloads; i++)
		printf("  %-20s model %s, growth %g%%/quarter\n", sc.workloads[i].name,
		       sc.workloads[i].model_id, sc.workloads[i].growth_pct);
	printf("candidate GPUs: ");
	if (!sc.ngpus)
		printf("every GPU type with a %s price\n", sc.pricing);
	for (int i = 0; i < sc.ngpus; i++)
		printf("%s%s", sc.gpus[i], i + 1 < sc.ngpus ? ", " : "\n");
	cJSON_Delete(o);
	ret = 0;
cleanup:
	scenario_free(&sc);
	return ret;
}

static const struct subcmd scenario_subs[] = {
	{ "create", scenario_create, CMD_WRITES,
	  "NAME --workload W[,W...] --start QUARTER --quarters N [options]",
	  "Create a scenario: the assumptions to plan a fleet under.",
	  options_help },
	{ "set", scenario_set, CMD_WRITES, "NAME [options]",
	  "Change assumptions of a scenario (the same options as create).",
	  options_help },
	{ "copy", scenario_copy, CMD_WRITES, "NAME NEW",
	  "Copy a scenario, to change one assumption and compare.",
	  "Example:\n"
	  "  piqplan scenario copy q3-plan q3-fast && piqplan scenario set q3-fast --growth 25%\n" },
	{ "list", scenario_list, CMD_DB, "[--json]", "List scenarios and when they last ran.",
	  "Options:\n  --json   one JSON array\n" },
	{ "show", scenario_show, CMD_DB, "NAME [--json]", "Show a scenario's assumptions.",
	  "Options:\n  --json   one JSON object\n" },
	{ "remove", scenario_remove, CMD_WRITES, "NAME", "Remove a scenario and all its runs.",
	  NULL },
	{ "run", scenario_run, CMD_WRITES, "NAME [--json]",
	  "Plan the fleet: pools, configurations, GPUs per quarter, shortfall and cost.",
	  "For every workload of the scenario: split it into pools (long-context isolation\n"
	  "when that is cheaper), try every candidate GPU type x TP x PP x EP x precision,\n"
	  "keep the configuration that meets the SLOs at the least cost over the horizon,\n"
	  "and size the fleet quarter by quarter against the clusters you own.\n"
	  "Everything is written in one transaction as a new run (the newest run is what\n"
	  "the v_fleet, v_configs, v_shortfall and v_cost views show).\n"
	  "\n"
	  "Options:\n"
	  "  --json   print the shortfall and cost summary as one JSON object\n" },
	{ "compare", scenario_compare, CMD_DB, "A B [--json]",
	  "Compare the latest runs of two scenarios per quarter (GPUs and cost).",
	  "Options:\n  --json   one JSON object\n" },
	{ 0 },
};

const struct cmd cmd_scenario = { "scenario", "plan a fleet over quarters under named assumptions",
				  scenario_subs };
