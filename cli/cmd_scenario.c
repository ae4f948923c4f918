/*
 * cmd_scenario.c - `piqplan scenario create|set|copy|list|show|remove`:
 * named sets of planning assumptions (workloads, candidate GPUs, horizon,
 * growth, SLOs, pricing, redundancy, long-context isolation), and
 * `scenario run|compare`: running one (run/scenario_run.c) and printing
 * what the run stored, comparing the latest runs of two.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/listing.h"
#include "cli/opts.h"
#include "cli/table.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/slo.h"
#include "run/scenario_run.h"
#include "schema/db.h"
#include "schema/listings.h"
#include "schema/lookup.h"
#include "schema/run_rows.h"
#include "schema/scenario.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCENARIO_OPTS(o) \
	{ "workload", 0, OPT_STRING, &(o).workloads, 0 }, \
	{ "gpus", 0, OPT_STRING, &(o).gpus, 0 }, \
	{ "start", 0, OPT_STRING, &(o).start, 0 }, \
	{ "quarters", 0, OPT_INT, &(o).quarters, &(o).have_quarters }, \
	{ "growth", 0, OPT_STRING, &(o).growth, 0 }, \
	{ "ttft-ms", 0, OPT_DOUBLE, &(o).ttft_ms, &(o).have_ttft }, \
	{ "tpot-ms", 0, OPT_DOUBLE, &(o).tpot_ms, &(o).have_tpot }, \
	{ "slo-percentile", 0, OPT_STRING, &(o).slo_percentile, 0 }, \
	{ "long-ttft-ms-per-1k", 0, OPT_DOUBLE, &(o).long_ttft_ms_per_1k, &(o).have_long_ttft }, \
	{ "margin", 0, OPT_STRING, &(o).margin, 0 }, \
	{ "utilization", 0, OPT_DOUBLE, &(o).utilization, &(o).have_util }, \
	{ "max-model-len", 0, OPT_INT, &(o).max_model_len, &(o).have_max_model_len }, \
	{ "prefix-hit", 0, OPT_STRING, &(o).prefix_hit, 0 }, \
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
	"  --quarters N            quarters planned, 1-40, ending by 9999Q4\n"
	"  --growth PCT            demand growth per quarter, compounded: 15 or 15%\n"
	"                          (above -100, at most 1000)\n"
	"  --growth W=PCT,...      per workload; a bare PCT in the list is the default\n"
	"  --ttft-ms N             time-to-first-token target, queueing included (default 2000)\n"
	"  --tpot-ms N             time-per-output-token target (default 100)\n"
	"  --slo-percentile P      the share of requests both targets hold for: p99 (default),\n"
	"                          p90, p99.9, or a percent from 50 to below 100\n"
	"  --long-ttft-ms-per-1k N the long SLO class (a long pool's requests): TTFT at most\n"
	"                          max(--ttft-ms, N ms per 1,000 prompt tokens) (default 500)\n"
	"  --margin POLICY         utilization (default): instances at most --utilization busy;\n"
	"                          spares: N+--redundancy spare instances per GPU type; both\n"
	"  --utilization F         highest planned busy fraction of an instance, (0,1] (default 0.7)\n"
	"  --redundancy N          spare instances per GPU type with --margin spares|both (default 1)\n"
	"  --pricing KIND          on-demand (default), reserved-1y, reserved-3y, spot,\n"
	"                          capacity-block, owned: the price kind for GPUs to acquire\n"
	"  --long-context MODE     auto (default): isolate long requests in their own pool when\n"
	"                          that is cheaper; off; or a threshold in tokens (prompt+output)\n"
	"  --max-model-len N       cap every pool's max_model_len (default: each pool covers its\n"
	"                          longest request, up to the model's context); the share of\n"
	"                          requests it rejects is reported; 0 removes the cap\n"
	"  --prefix-hit F|measured share of prompt tokens a prefix cache would serve if it kept\n"
	"                          every block, [0, 1): what a finite cache keeps is worked out\n"
	"                          per configuration from the KV left beside the running batch;\n"
	"                          measured (default): the workloads' own reuse (Mooncake\n"
	"                          hash_ids), else 0; 0 assumes no hits (vLLM caches prefixes\n"
	"                          by default either way)\n"
	"  --engine NAME           vllm (default), sglang, trtllm\n"
	"  --demand STAT           the request rate planned for: p99 (default), p50, p90 or p99.9\n"
	"                          of the workload's windowed rates, peak (its busiest window)\n"
	"                          or mean\n"
	"  --lead-time-days N      from order to GPUs in service (default 90)\n"
	"  --mfu F                 model-FLOPs utilisation for the compute floor (default 0.4)\n"
	"  --description TEXT      what this scenario is about (opens its reports)\n";

/* Validate what was given, before any database work. */
static int check_opts(struct ctx *ctx, const struct scenario_settings *o)
{
	if (o->start && quarter_parse(o->start) < 0)
		return error("--start '%s': expected a quarter like 2027Q1", o->start), usage_error(ctx);
	if (o->have_quarters && (o->quarters < 1 || o->quarters > SCENARIO_MAX_QUARTERS))
		return error("--quarters %lld: expected 1 to %d", (long long)o->quarters,
			     SCENARIO_MAX_QUARTERS), usage_error(ctx);
	if (o->have_ttft && !(o->ttft_ms > 0 && o->ttft_ms <= SCENARIO_MAX_SLO_MS))
		return error("--ttft-ms must be positive, at most an hour (3600000)"), usage_error(ctx);
	if (o->have_tpot && !(o->tpot_ms > 0 && o->tpot_ms <= SCENARIO_MAX_SLO_MS))
		return error("--tpot-ms must be positive, at most an hour (3600000)"), usage_error(ctx);
	if (o->have_util && (o->utilization <= 0 || o->utilization > 1))
		return error("--utilization %g: expected a fraction in (0, 1]", o->utilization),
		       usage_error(ctx);
	if (o->have_mfu && (o->mfu <= 0 || o->mfu > 1))
		return error("--mfu %g: expected a fraction in (0, 1]", o->mfu), usage_error(ctx);
	if (o->have_redundancy && (o->redundancy < 0 || o->redundancy > SCENARIO_MAX_REDUNDANCY))
		return error("--redundancy must be 0 to %d", SCENARIO_MAX_REDUNDANCY), usage_error(ctx);
	if (o->have_lead && (o->lead_time_days < 0 || o->lead_time_days > SCENARIO_MAX_LEAD_TIME_DAYS))
		return error("--lead-time-days must be 0 to 3650"), usage_error(ctx);
	if (o->pricing && !pricing_valid(o->pricing))
		return error("unknown pricing '%s' (expected one of: %s)", o->pricing,
			     pricing_kinds_help), usage_error(ctx);
	if (o->demand && !scenario_demand_valid(o->demand))
		return error("--demand '%s': expected mean, p50, p90, p99, p99.9 or peak", o->demand),
		       usage_error(ctx);
	if (o->margin && !scenario_margin_valid(o->margin))
		return error("--margin '%s': expected utilization, spares or both", o->margin),
		       usage_error(ctx);
	double pct;
	if (o->slo_percentile && slo_percentile_parse(o->slo_percentile, &pct))
		return error("--slo-percentile '%s': expected p90, p99, p99.9 or a percent from 50 "
			     "to below 100", o->slo_percentile), usage_error(ctx);
	if (o->have_long_ttft && !(o->long_ttft_ms_per_1k > 0 &&
				  o->long_ttft_ms_per_1k <= SCENARIO_MAX_LONG_TTFT_MS_PER_1K))
		return error("--long-ttft-ms-per-1k must be above 0, at most %g",
			     SCENARIO_MAX_LONG_TTFT_MS_PER_1K), usage_error(ctx);
	if (o->have_max_model_len && (o->max_model_len < 0 ||
				      o->max_model_len > SCENARIO_MAX_MODEL_LEN))
		return error("--max-model-len %lld: expected 0 (no cap) to 100000000 tokens",
			     (long long)o->max_model_len), usage_error(ctx);
	if (o->prefix_hit && strcmp(o->prefix_hit, "measured")) {
		double h;
		if (parse_double(o->prefix_hit, &h) || !(h >= 0 && h < 1))
			return error("--prefix-hit '%s': expected a share of prompt tokens from 0 to "
				     "below 1, or measured", o->prefix_hit), usage_error(ctx);
	}
	if (o->long_context && strcmp(o->long_context, "auto") && strcmp(o->long_context, "off")) {
		int64_t t;
		if (parse_int64(o->long_context, &t) || t < 1 || t > 100000000)
			return error("--long-context '%s': expected auto, off or a number of tokens",
				     o->long_context), usage_error(ctx);
	}
	static const char *const lists[] = { "workload", "gpus", "growth" };
	const char *values[] = { o->workloads, o->gpus, o->growth };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (values[i] && !values[i][strspn(values[i], ", ")])
			return error("--%s '%s': expected one or more names separated by commas",
				     lists[i], values[i]), usage_error(ctx);
	if (o->growth) {
		char *list = xstrdup(o->growth), *save = NULL;
		for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char *eq = strrchr(item, '=');	/* a workload name may hold '=' itself */
			double pct;
			if (growth_pct_parse(eq ? eq + 1 : item, &pct) || (eq && eq == item)) {
				error("--growth '%s': expected PCT or WORKLOAD=PCT, with PCT above -100 "
				      "and at most %g", item, SCENARIO_MAX_GROWTH_PCT);
				free(list);
				return usage_error(ctx);
			}
		}
		free(list);
	}
	return 0;
}

static int scenario_create(struct ctx *ctx, int argc, char **argv)
{
	struct scenario_settings o = { 0 };
	const struct opt opts[] = { SCENARIO_OPTS(o), OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (!o.workloads || !o.start || !o.have_quarters) {
		error("scenario create needs --workload, --start and --quarters");
		return usage_error(ctx);
	}
	if (!*pos[0])
		return error("scenario name must not be empty"), usage_error(ctx);
	if (check_opts(ctx, &o))
		return -1;

	if (scenario_insert(ctx->db, pos[0], &o))
		return -1;
	tprintf("created scenario '%s'; run it with: piqplan scenario run %s\n", pos[0], pos[0]);
	return 0;
}

static int scenario_set(struct ctx *ctx, int argc, char **argv)
{
	struct scenario_settings o = { 0 };
	const struct opt opts[] = { SCENARIO_OPTS(o), OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (check_opts(ctx, &o))
		return -1;
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0 || scenario_update(ctx->db, sid, &o))
		return -1;
	tprintf("updated scenario '%s'\n", pos[0]);
	return 0;
}

static int scenario_copy(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[2];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 2, 2, &npos);
	if (parsed)
		return parsed;
	if (!*pos[1])
		return error("scenario name must not be empty"), usage_error(ctx);
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0)
		return -1;
	if (scenario_insert_copy(ctx->db, sid, pos[1]))
		return -1;
	tprintf("copied scenario '%s' to '%s'; change it with: piqplan scenario set %s ...\n",
	       pos[0], pos[1], pos[1]);
	return 0;
}

static int scenario_remove(struct ctx *ctx, int argc, char **argv)
{
	const struct opt opts[] = { OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	int64_t sid = scenario_lookup(ctx->db, pos[0]);
	if (sid < 0)
		return -1;
	if (scenario_delete(ctx->db, sid))
		return -1;
	tprintf("removed scenario '%s' and its runs\n", pos[0]);
	return 0;
}

static int scenario_list(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	return print_rows(scenario_list_stmt(ctx->db, json), json);
}

static int scenario_show(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos, ret = -1;
	struct scenario sc;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
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
	tprintf("scenario        %s\n", sc.name);
	if (sc.description[0])
		tprintf("description     %s\n", sc.description);
	tprintf("horizon         %d quarters from %s\n", sc.quarters, start);
	tprintf("growth          %g%% per quarter, compounded\n", sc.growth_pct);
	char pct[16];
	slo_percentile_name(sc.slo_percentile / 100, pct);
	tprintf("SLOs            TTFT %s %g ms, TPOT %s %g ms; long class TTFT %s max(%g ms, "
	       "%g ms per 1k prompt tokens)\n", pct, sc.ttft_ms, pct, sc.tpot_ms, pct, sc.ttft_ms,
	       sc.long_ttft_ms_per_1k);
	if (!strcmp(sc.margin, "utilization"))
		tprintf("margin          instances at most %g busy, no spares\n", sc.utilization);
	else if (!strcmp(sc.margin, "spares"))
		tprintf("margin          N+%d spare instances per GPU type, no utilisation cap\n",
		       sc.redundancy);
	else
		tprintf("margin          instances at most %g busy and N+%d spares per GPU type\n",
		       sc.utilization, sc.redundancy);
	if (!strcmp(sc.demand, "mean") || !strcmp(sc.demand, "peak"))
		tprintf("demand          the workloads' %s request rate\n", sc.demand);
	else
		tprintf("demand          the %s of the workloads' windowed request rates\n", sc.demand);
	if (sc.max_model_len > 0)
		tprintf("max_model_len   at most %lld tokens\n", (long long)sc.max_model_len);
	if (sc.prefix_hit < 0)
		tprintf("prefix cache    the workloads' measured prefix reuse (0 where not measured)\n");
	else
		tprintf("prefix cache    %g of prompt tokens with an unbounded cache%s\n", sc.prefix_hit,
			sc.prefix_hit == 0 ? " (no hits assumed)" : "");
	tprintf("pricing         %s; lead time %d days\n", sc.pricing, sc.lead_time_days);
	if (sc.long_context_tokens > 0)
		tprintf("long context    isolate requests of %lld tokens or more\n",
		       (long long)sc.long_context_tokens);
	else
		tprintf("long context    %s\n", sc.long_context_tokens == 0 ? "auto" : "off");
	tprintf("engine          %s; compute floor at MFU %g\n", sc.engine, sc.mfu);
	tprintf("workloads:\n");
	for (int i = 0; i < sc.nworkloads; i++)
		tprintf("  %-20s model %s, growth %g%%/quarter\n", sc.workloads[i].name,
		       sc.workloads[i].model_id, sc.workloads[i].growth_pct);
	tprintf("candidate GPUs: ");
	if (!sc.ngpus)
		tprintf("every GPU type with a %s price\n", sc.pricing);
	for (int i = 0; i < sc.ngpus; i++)
		tprintf("%s%s", sc.gpus[i], i + 1 < sc.ngpus ? ", " : "\n");
	cJSON_Delete(o);
	ret = 0;
cleanup:
	scenario_free(&sc);
	return ret;
}

/* --- run, compare -------------------------------------------------------- */

/* The chosen configuration of each pool, as `scenario run` prints it. */
static int print_pools(struct stmt *st, cJSON *arr)
{
	int r;
	while ((r = stmt_step(st)) == 1) {
		char pct[16], layout[48];
		slo_percentile_name(stmt_double(st, 14) / 100, pct);
		snprintf(layout, sizeof(layout), "TP %lld PP %lld DP %lld%s",
			 (long long)stmt_int64(st, 5), (long long)stmt_int64(st, 6),
			 (long long)stmt_int64(st, 7), stmt_int64(st, 8) ? " EP" : "");
		if (arr) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "model", stmt_text(st, 0));
			cJSON_AddStringToObject(x, "pool", stmt_text(st, 1));
			cJSON_AddStringToObject(x, "slo_class", stmt_text(st, 2));
			cJSON_AddStringToObject(x, "gpu", stmt_text(st, 3));
			cJSON_AddNumberToObject(x, "gpus_per_instance", (double)stmt_int64(st, 4));
			cJSON_AddStringToObject(x, "layout", layout);
			cJSON_AddNumberToObject(x, "max_num_seqs", (double)stmt_int64(st, 9));
			cJSON_AddNumberToObject(x, "kv_max_num_seqs", (double)stmt_int64(st, 10));
			cJSON_AddNumberToObject(x, "rate_rps", stmt_double(st, 11));
			cJSON_AddStringToObject(x, "slo_percentile", pct);
			cJSON_AddNumberToObject(x, "ttft_ms", stmt_double(st, 12));
			cJSON_AddNumberToObject(x, "tpot_ms", stmt_double(st, 13));
			cJSON_AddNumberToObject(x, "utilization", stmt_double(st, 15));
			cJSON_AddItemToArray(arr, x);
			continue;
		}
		tprintf("%s %s pool (%s SLOs): %s x%lld, %s, max_num_seqs %lld (the KV holds %lld),\n"
		       "    %.3g req/s per instance at TTFT %s %.0f ms, TPOT %s %.1f ms, %.0f%% busy\n",
		       stmt_text(st, 0), stmt_text(st, 1), stmt_text(st, 2), stmt_text(st, 3),
		       (long long)stmt_int64(st, 4), layout, (long long)stmt_int64(st, 9),
		       (long long)stmt_int64(st, 10), stmt_double(st, 11), pct, stmt_double(st, 12),
		       pct, stmt_double(st, 13), 100 * stmt_double(st, 15));
	}
	return r < 0 ? -1 : 0;
}

/* What `scenario run` prints of the run it stored: pools, shortfall, orders, cost per quarter. */
static int print_summary(struct db *db, const char *name, const struct run_result *res, int json,
			 const char *db_path)
{
	struct stmt *st = run_shortfall_stmt(db, res->run_id);
	struct stmt *cost = run_cost_stmt(db, res->run_id);
	struct stmt *pools = run_pools_stmt(db, res->run_id);
	int r, ret = -1;
	if (!st || !cost || !pools)
		goto cleanup;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "run_id", (double)res->run_id);
		cJSON_AddStringToObject(o, "scenario", name);
		cJSON_AddNumberToObject(o, "candidates_evaluated", (double)res->candidates);
		if (print_pools(pools, cJSON_AddArrayToObject(o, "pools"))) {
			cJSON_Delete(o);
			goto cleanup;
		}
		cJSON *cap = cJSON_AddArrayToObject(o, "shortfall");
		while ((r = stmt_step(st)) == 1) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "quarter", stmt_text(st, 0));
			cJSON_AddStringToObject(x, "gpu", stmt_text(st, 1));
			cJSON_AddNumberToObject(x, "gpus_needed", (double)stmt_int64(st, 2));
			cJSON_AddNumberToObject(x, "spare_gpus", (double)stmt_int64(st, 3));
			cJSON_AddNumberToObject(x, "gpus_owned", (double)stmt_int64(st, 4));
			cJSON_AddNumberToObject(x, "shortfall", (double)stmt_int64(st, 5));
			cJSON_AddNumberToObject(x, "gpus_to_order", (double)stmt_int64(st, 6));
			if (stmt_int64(st, 6) > 0 && !stmt_is_null(st, 7))
				cJSON_AddStringToObject(x, "order_by", stmt_text(st, 7));
			else
				cJSON_AddNullToObject(x, "order_by");
			/* The band's ends: serving GPUs at the p90 and p10 ratio, plus the spares. */
			if (!stmt_is_null(st, 8)) {
				cJSON_AddNumberToObject(x, "gpus_needed_lo",
							(double)(stmt_int64(st, 8) + stmt_int64(st, 3)));
				cJSON_AddNumberToObject(x, "gpus_needed_hi",
							(double)(stmt_int64(st, 9) + stmt_int64(st, 3)));
			}
			cJSON_AddItemToArray(cap, x);
		}
		cJSON *ca = cJSON_AddArrayToObject(o, "cost");
		while (r >= 0 && (r = stmt_step(cost)) == 1) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "quarter", stmt_text(cost, 0));
			cJSON_AddNumberToObject(x, "cost_usd", stmt_double(cost, 1));
			cJSON_AddNumberToObject(x, "compute_floor_usd", stmt_double(cost, 2));
			cJSON_AddItemToArray(ca, x);
		}
		print_json(o);
		ret = r < 0 ? -1 : 0;
		goto cleanup;
	}
	static const char *const headers[] = {
		"QUARTER", "GPU", ">NEEDED", ">BAND", ">SPARES", ">OWNED", ">SHORTFALL", ">TO ORDER",
		"ORDER BY",
	};
	tprintf("run %lld of scenario '%s': %lld candidates evaluated\n\n", (long long)res->run_id,
	       name, (long long)res->candidates);
	if (print_pools(pools, NULL))
		goto cleanup;
	putchar('\n');
	struct table *t = table_new(9, headers);
	while ((r = stmt_step(st)) == 1) {
		int64_t spares = stmt_int64(st, 3);
		table_cell(t, stmt_text(st, 0));
		table_cell(t, stmt_text(st, 1));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 2));
		if (stmt_is_null(st, 8))
			table_cell(t, "-");
		else
			table_cellf(t, "%lld-%lld", (long long)(stmt_int64(st, 8) + spares),
				    (long long)(stmt_int64(st, 9) + spares));
		table_cellf(t, "%lld", (long long)spares);
		table_cellf(t, "%lld", (long long)stmt_int64(st, 4));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 5));
		table_cellf(t, "%lld", (long long)stmt_int64(st, 6));
		table_cell(t, stmt_int64(st, 6) > 0 && !stmt_is_null(st, 7) ? stmt_text(st, 7) : "-");
	}
	table_print(t, stdout);
	table_free(t);
	putchar('\n');
	while (r >= 0 && (r = stmt_step(cost)) == 1)
		tprintf("%s  cost %.2f USD  (compute floor by active parameters %.2f USD)\n",
		       stmt_text(cost, 0), stmt_double(cost, 1), stmt_double(cost, 2));
	printf("\nBAND: the GPUs needed (spares included) if throughput is at the p90 or the p10\n"
	       "of measured / predicted for the performance profile that answered (report:\n"
	       "configurations).\n");
	/* Hints are not data: stderr, so stdout stays the run's summary alone. */
	fputs("\nsqlite3 ", stderr);
	term_fputs(db_path, 0, stderr);
	fputs(" 'select * from v_configs' shows the vLLM configurations,\n"
	      "'select * from v_orders' what to order by when;\npiqplan report quarterly ", stderr);
	term_fputs(name, 0, stderr);
	fputs(" renders the report.\n", stderr);
	ret = r < 0 ? -1 : 0;
cleanup:
	stmt_finalize(pools);
	stmt_finalize(cost);
	stmt_finalize(st);
	return ret;
}

static int scenario_run_cmd(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	char *pos[1];
	int npos;
	struct run_request req = { 0 };
	struct run_result res;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	req.scenario = pos[0];
	if (scenario_run(ctx->db, &req, &res))
		return -1;
	return print_summary(ctx->db, pos[0], &res, json, ctx->db_path);
}

/* The newest run of the scenario called name, or -1 after error(). */
static int64_t latest_run_of(struct db *db, const char *name)
{
	int64_t sid = scenario_lookup(db, name);
	return sid < 0 ? -1 : scenario_latest_run(db, sid, name);
}

static int scenario_compare_cmd(struct ctx *ctx, int argc, char **argv)
{
	int json = 0;
	const struct opt opts[] = { { "json", 0, OPT_FLAG, &json, 0 }, OPT_END };
	static const char *const headers[] = {
		"QUARTER", ">GPUS A", ">GPUS B", ">DIFF", ">COST A USD", ">COST B USD", ">DIFF USD",
	};
	char *pos[2];
	int npos, n;
	struct run_compare_row *rows;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 2, 2, &npos);
	if (parsed)
		return parsed;
	int64_t ra = latest_run_of(ctx->db, pos[0]), rb = latest_run_of(ctx->db, pos[1]);
	if (ra < 0 || rb < 0 || run_compare(ctx->db, ra, rb, &rows, &n))
		return -1;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "a", pos[0]);
		cJSON_AddNumberToObject(o, "run_a", (double)ra);
		cJSON_AddStringToObject(o, "b", pos[1]);
		cJSON_AddNumberToObject(o, "run_b", (double)rb);
		cJSON *arr = cJSON_AddArrayToObject(o, "quarters");
		for (int i = 0; i < n; i++) {
			const struct run_compare_row *q = &rows[i];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "quarter", q->quarter);
			cJSON_AddNumberToObject(x, "gpus_a", (double)q->gpus_a);
			cJSON_AddNumberToObject(x, "gpus_b", (double)q->gpus_b);
			cJSON_AddNumberToObject(x, "gpus_diff", (double)(q->gpus_b - q->gpus_a));
			cJSON_AddNumberToObject(x, "cost_a_usd", q->cost_a_usd);
			cJSON_AddNumberToObject(x, "cost_b_usd", q->cost_b_usd);
			cJSON_AddNumberToObject(x, "cost_diff_usd", q->cost_b_usd - q->cost_a_usd);
			cJSON_AddItemToArray(arr, x);
		}
		print_json(o);
	} else {
		struct table *t = table_new(7, headers);
		for (int i = 0; i < n; i++) {
			const struct run_compare_row *q = &rows[i];
			table_cell(t, q->quarter);
			table_cellf(t, "%lld", (long long)q->gpus_a);
			table_cellf(t, "%lld", (long long)q->gpus_b);
			table_cellf(t, "%+lld", (long long)(q->gpus_b - q->gpus_a));
			table_cellf(t, "%.2f", q->cost_a_usd);
			table_cellf(t, "%.2f", q->cost_b_usd);
			table_cellf(t, "%+.2f", q->cost_b_usd - q->cost_a_usd);
		}
		tprintf("A = '%s' (run %lld), B = '%s' (run %lld); DIFF = B - A\n\n", pos[0],
		       (long long)ra, pos[1], (long long)rb);
		table_print(t, stdout);
		table_free(t);
	}
	free(rows);
	return 0;
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
	{ "run", scenario_run_cmd, CMD_WRITES, "NAME [--json]",
	  "Plan the fleet: pools, configurations, GPUs per quarter, shortfall, orders and cost.",
	  "For every model of the scenario's workloads (workloads on one model share its\n"
	  "pools): split its requests into pools (long-context isolation when that is\n"
	  "cheaper, the long pool in its own SLO class), try every candidate GPU type x TP\n"
	  "x PP x EP x precision at its SLO batch, keep the configuration that meets the\n"
	  "SLOs at their percentile at the least cost over the horizon, and size the fleet\n"
	  "quarter by quarter against the clusters you own, with the margin policy's spares.\n"
	  "Everything is written in one transaction as a new run (the newest run is what\n"
	  "the v_fleet, v_configs, v_shortfall, v_orders and v_cost views show).\n"
	  "\n"
	  "Options:\n"
	  "  --json   print the shortfall and cost summary as one JSON object\n" },
	{ "compare", scenario_compare_cmd, CMD_DB, "A B [--json]",
	  "Compare the latest runs of two scenarios per quarter (GPUs and cost).",
	  "Options:\n  --json   one JSON object\n" },
	{ 0 },
};

const struct cmd cmd_scenario = { "scenario", "plan a fleet over quarters under named assumptions",
				  scenario_subs };
