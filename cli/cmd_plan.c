/*
 * cmd_plan.c - `piqplan plan WORKLOAD`: the configurations that could
 * serve a stored workload, ranked by what a million output tokens cost at
 * the rate one instance sustains under the SLOs. One shared pool (no
 * long-context split), the workload's peak arrival rate, one quarter from
 * the current one, no spare instances: the quick answer to "what should I
 * run this on", where `scenario run` is the full plan over quarters.
 *
 * GPU types without an on-demand price are left out with a warning, never
 * priced at zero.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "run/vllm_args.h"
#include "run/workload_plan.h"
#include "schema/scenario.h"

#include <stdio.h>
#include <stdlib.h>

static const char plan_usage[] =
	"WORKLOAD [--gpus G,...] [--ttft-ms N] [--tpot-ms N] [--utilization F]\n"
	"       [--engine E] [--top N] [--json]";

#define DEFAULT_TOP 10

static void layout_text(const struct layout *l, char *buf, size_t n)
{
	snprintf(buf, n, "%d/%d/%d/%s", l->tp, l->pp, l->dp, l->ep ? "ep" : "-");
}

static int plan_run(struct ctx *ctx, int argc, char **argv)
{
	const char *gpus_opt = NULL, *engine_name = "vllm";
	double ttft_ms = SCENARIO_DEFAULT_TTFT_MS, tpot_ms = SCENARIO_DEFAULT_TPOT_MS;
	double util = SCENARIO_DEFAULT_UTILIZATION;
	int64_t top = DEFAULT_TOP;
	int json = 0, npos;
	const struct opt opts[] = {
		{ "gpus", 0, OPT_STRING, &gpus_opt, 0 },
		{ "ttft-ms", 0, OPT_DOUBLE, &ttft_ms, 0 },
		{ "tpot-ms", 0, OPT_DOUBLE, &tpot_ms, 0 },
		{ "utilization", 0, OPT_DOUBLE, &util, 0 },
		{ "engine", 0, OPT_STRING, &engine_name, 0 },
		{ "top", 0, OPT_INT, &top, 0 },
		{ "json", 0, OPT_FLAG, &json, 0 },
		OPT_END,
	};
	char *pos[1];
	struct workload_plan w;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 1, 1, &npos);
	if (parsed)
		return parsed;
	if (!(ttft_ms > 0) || !(tpot_ms > 0) || !(util > 0 && util <= 1) || top < 1) {
		error("--ttft-ms and --tpot-ms must be positive, --utilization in (0, 1],"
		      " --top at least 1");
		return usage_error(ctx);
	}
	struct workload_plan_request req = {
		.workload = pos[0], .gpus = gpus_opt, .engine = engine_name,
		.ttft_ms = ttft_ms, .tpot_ms = tpot_ms, .utilization = util,
	};
	if (workload_plan(ctx->db, &req, &w))
		return -1;

	const struct candidate *c = w.cands;
	const struct pool_traffic *pool = &w.pool;
	const struct plan_gpu *gpus = w.gpus;
	const struct engine_profile *e = &w.engine;
	int ncand = w.ncands, nfit = w.nfit, nrc = w.nreasons;
	const struct workload_plan_reason *rc = w.reasons;
	int shown = nfit < top ? nfit : (int)top;
	char lay[32];

	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workload", w.name);
		cJSON_AddStringToObject(o, "model", w.model_id);
		cJSON_AddStringToObject(o, "engine", e->id);
		cJSON_AddNumberToObject(o, "peak_rps", w.peak_rps);
		cJSON_AddNumberToObject(o, "isl", pool->isl);
		cJSON_AddNumberToObject(o, "osl", pool->osl);
		cJSON_AddNumberToObject(o, "max_model_len", (double)pool->max_model_len);
		cJSON_AddNumberToObject(o, "ttft_ms", ttft_ms);
		cJSON_AddNumberToObject(o, "tpot_ms", tpot_ms);
		cJSON_AddNumberToObject(o, "utilization", util);
		cJSON_AddNumberToObject(o, "evaluated", ncand);
		cJSON_AddNumberToObject(o, "feasible", nfit);
		cJSON *arr = cJSON_AddArrayToObject(o, "candidates");
		for (int i = 0; i < shown; i++) {
			const struct candidate *k = &c[i];
			const struct layout *l = &k->inst.layout;
			cJSON *x = cJSON_CreateObject();
			char *args = vllm_args_alloc(&k->inst, &w.arch, w.model_id);
			cJSON_AddStringToObject(x, "gpu", gpus[k->gpu].spec.id);
			cJSON_AddNumberToObject(x, "tp", l->tp);
			cJSON_AddNumberToObject(x, "pp", l->pp);
			cJSON_AddNumberToObject(x, "dp", l->dp);
			cJSON_AddBoolToObject(x, "ep", l->ep);
			cJSON_AddStringToObject(x, "precision", precision_name(l->precision));
			cJSON_AddNumberToObject(x, "gpus", k->inst.gpus);
			cJSON_AddNumberToObject(x, "max_model_len", (double)k->inst.max_model_len);
			cJSON_AddNumberToObject(x, "max_num_seqs", k->inst.max_num_seqs);
			cJSON_AddNumberToObject(x, "kv_tokens", (double)k->inst.kv_tokens);
			cJSON_AddNumberToObject(x, "rate_rps", k->rate_rps);
			cJSON_AddNumberToObject(x, "ttft_ms", k->at.ttft_s * 1e3);
			cJSON_AddNumberToObject(x, "tpot_ms", k->at.tpot_s * 1e3);
			cJSON_AddNumberToObject(x, "usd_per_hour", k->usd_per_hour);
			cJSON_AddNumberToObject(x, "usd_per_m_output_tokens",
						workload_plan_usd_per_m_output(k, pool->osl));
			cJSON_AddNumberToObject(x, "instances", (double)k->instances[0]);
			cJSON_AddStringToObject(x, "vllm_args", args);
			free(args);
			cJSON_AddItemToArray(arr, x);
		}
		cJSON *inf = cJSON_AddArrayToObject(o, "infeasible");
		for (int i = 0; i < nrc; i++) {
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "reason", rc[i].reason);
			cJSON_AddNumberToObject(x, "candidates", rc[i].count);
			cJSON_AddItemToArray(inf, x);
		}
		print_json(o);
	} else {
		tprintf("workload %s: %s, peak %.3g req/s, mean %.0f + %.0f tokens, "
		       "max_model_len %lld\n", w.name, w.model_id, w.peak_rps, pool->isl,
		       pool->osl, (long long)pool->max_model_len);
		tprintf("engine %s, SLOs TTFT %.0f ms, TPOT %.0f ms, utilization %.2f; "
		       "%d candidates evaluated, %d feasible\n\n", e->id, ttft_ms, tpot_ms, util,
		       ncand, nfit);
		if (shown > 0)
			tprintf("%-3s %-16s %-11s %-6s %4s %7s %6s %9s %8s %7s %6s %9s\n", "#", "gpu",
			       "tp/pp/dp/ep", "prec", "gpus", "mml", "seqs", "kv_tok", "req/s",
			       "ttft", "tpot", "usd/Mtok");
		for (int i = 0; i < shown; i++) {
			const struct candidate *k = &c[i];
			layout_text(&k->inst.layout, lay, sizeof(lay));
			tprintf("%-3d %-16.16s %-11s %-6s %4d %7lld %6d %9lld %8.3g %5.0fms %4.0fms"
			       " %9.3f\n", i + 1, gpus[k->gpu].spec.id, lay,
			       precision_name(k->inst.layout.precision), k->inst.gpus,
			       (long long)k->inst.max_model_len, k->inst.max_num_seqs,
			       (long long)k->inst.kv_tokens, k->rate_rps, k->at.ttft_s * 1e3,
			       k->at.tpot_s * 1e3, workload_plan_usd_per_m_output(k, pool->osl));
		}
		if (shown > 0) {
			char *args = vllm_args_alloc(&c[0].inst, &w.arch, w.model_id);
			tprintf("\nbest: vllm serve %s\n", args);
			free(args);
		}
		if (nrc > 0) {
			tprintf("\ninfeasible (%d):\n", ncand - nfit);
			for (int i = 0; i < nrc; i++)
				tprintf("  %4d x %s\n", rc[i].count, rc[i].reason);
		}
	}
	int none = nfit == 0;
	workload_plan_free(&w);
	/* As scenario run: a plan with nothing that serves the workload has failed. */
	if (none)
		return error("no candidate configuration of workload '%s' meets the SLOs (TTFT %g ms, "
			     "TPOT %g ms)", pos[0], ttft_ms, tpot_ms);
	return 0;
}

static const struct subcmd plan_subs[] = {
	{ NULL, plan_run, CMD_DB, plan_usage,
	  "Rank the configurations that could serve a stored workload.",
	  "Enumerates GPU type x TP x PP x EP x precision for the workload's model,\n"
	  "sizes each instance (one shared pool; max_model_len from the workload's\n"
	  "p99.9 prompt + output), finds the request rate it sustains under the SLOs\n"
	  "and ranks them by USD per million output tokens at that rate (on-demand\n"
	  "price, newest). Then the distinct reasons the others fail.\n"
	  "\n"
	  "  --gpus G,...       candidate GPU types (default: every GPU with an\n"
	  "                     on-demand price; those without one are left out)\n"
	  "  --ttft-ms N        TTFT target (default 2000)\n"
	  "  --tpot-ms N        TPOT target (default 100)\n"
	  "  --utilization F    highest busy share of an instance (default 0.7)\n"
	  "  --engine E         engine profile (default vllm)\n"
	  "  --top N            how many ranked candidates to show (default 10)\n"
	  "  --json             one object: candidates (gpu, tp, pp, dp, ep, precision,\n"
	  "                     gpus, max_model_len, max_num_seqs, kv_tokens, rate_rps,\n"
	  "                     ttft_ms, tpot_ms, usd_per_m_output_tokens, vllm_args)\n"
	  "                     and infeasible (reason, candidates)\n" },
	{ 0 },
};

const struct cmd cmd_plan = { "plan", "rank configurations for a stored workload", plan_subs };
