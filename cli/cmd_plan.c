/*
 * cmd_plan.c - `piqplan plan WORKLOAD`: the configurations that could
 * serve a stored workload, ranked by what the instances its demand needs
 * cost, then by what a million output tokens cost at the rate one instance
 * sustains under the SLOs at their percentile. One shared pool (no
 * long-context split), the workload's demand (p99 of its windowed rates by
 * default), one quarter from the current one, the utilisation target as
 * the margin (no spare instances): the quick answer to "what should I run
 * this on", where `scenario run` is the full plan over quarters.
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
#include "planner/slo.h"
#include "run/vllm_args.h"
#include "run/workload_plan.h"
#include "schema/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plan_usage[] =
	"WORKLOAD [--gpus G,...] [--ttft-ms N] [--tpot-ms N] [--slo-percentile P]\n"
	"       [--utilization F] [--demand STAT] [--max-model-len N] [--engine E]\n"
	"       [--max-num-seqs N] [--max-num-batched-tokens N] [--block-size N]\n"
	"       [--enforce-eager] [--prefix-hit F|measured] [--top N] [--json]";

#define DEFAULT_TOP 10

static void layout_text(const struct layout *l, char *buf, size_t n)
{
	/* wep: wide EP, DeepEP's all-to-all with EPLB (planner/instance.h) */
	snprintf(buf, n, "%d/%d/%d/%s", l->tp, l->pp, l->dp,
		 l->a2a != A2A_ALLGATHER ? "wep" : l->ep ? "ep" : "-");
}

/* One side of a disaggregated layout: "8 x H200-SXM-141GB tp 8" ... */
static void side_text(const struct disagg_side *s, const struct plan_gpu *gpus, char *buf,
		      size_t n)
{
	char lay[32];
	layout_text(&s->inst.layout, lay, sizeof(lay));
	snprintf(buf, n, "%lld x %s %s %s (%d GPUs each)", (long long)s->instances[0],
		 gpus[s->gpu].spec.id, lay, precision_name(s->inst.layout.precision), s->inst.gpus);
}

/* o.launch: the instance's command per node, each {node, engine, command}. */
static void add_launch_json(cJSON *o, const struct instance *in, const struct model_arch *arch,
			    const char *model_id, const char *engine)
{
	struct launch_lines launch;
	launch_lines_alloc(in, arch, model_id, engine, &launch);
	cJSON *cmds = cJSON_AddArrayToObject(o, "launch");
	for (int n = 0; n < launch.n; n++) {
		cJSON *y = cJSON_CreateObject();
		cJSON_AddNumberToObject(y, "node", n);
		cJSON_AddStringToObject(y, "engine", launch.engine);
		cJSON_AddStringToObject(y, "command", launch.line[n]);
		cJSON_AddItemToArray(cmds, y);
	}
	launch_lines_free(&launch);
}

/* A configuration's GPU and layout: gpu, tp, pp, dp, ep, wide_ep, precision. */
static cJSON *layout_json(const char *gpu, const struct layout *l)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "gpu", gpu);
	cJSON_AddNumberToObject(x, "tp", l->tp);
	cJSON_AddNumberToObject(x, "pp", l->pp);
	cJSON_AddNumberToObject(x, "dp", l->dp);
	cJSON_AddBoolToObject(x, "ep", l->ep);
	cJSON_AddBoolToObject(x, "wide_ep", l->a2a != A2A_ALLGATHER);
	cJSON_AddStringToObject(x, "precision", precision_name(l->precision));
	return x;
}

static cJSON *side_json(const struct disagg_side *s, const struct workload_plan *w)
{
	const struct layout *l = &s->inst.layout;
	cJSON *x = layout_json(w->gpus[s->gpu].spec.id, l);
	cJSON_AddNumberToObject(x, "gpus", s->inst.gpus);
	cJSON_AddNumberToObject(x, "nodes", s->inst.nodes);
	cJSON_AddNumberToObject(x, "instances", (double)s->instances[0]);
	cJSON_AddNumberToObject(x, "max_num_seqs", s->inst.max_num_seqs);
	cJSON_AddNumberToObject(x, "rate_rps", s->rate_rps);
	cJSON_AddNumberToObject(x, "utilization", s->busy);
	if (l->role == PD_PREFILL)
		cJSON_AddNumberToObject(x, "ttft_ms", s->ttft_s * 1e3);
	else
		cJSON_AddNumberToObject(x, "tpot_ms", s->tpot_s * 1e3);
	cJSON_AddNumberToObject(x, "usd_per_hour", s->usd_per_hour);
	add_launch_json(x, &s->inst, &w->arch, w->model_id, w->engine.id);
	return x;
}

/* The best fitting wide-EP candidate, or NULL. */
static const struct candidate *best_wide_ep(const struct workload_plan *w)
{
	for (int i = 0; i < w->ncands; i++)
		if (w->cands[i].fits && w->cands[i].inst.layout.a2a != A2A_ALLGATHER)
			return &w->cands[i];
	return NULL;
}

/* The serving modes side by side: aggregated, wide EP, disaggregated. */
static void print_modes(const struct workload_plan *w)
{
	const struct candidate *agg = w->nfit > 0 ? &w->cands[0] : NULL;
	const struct candidate *wide = best_wide_ep(w);
	const struct disagg_plan *dg = &w->disagg;
	char a[160], b[160], words[400];

	if (!dg->tried && !wide)
		return;
	tprintf("\nserving modes (cost of the demand for the quarter):\n");
	if (agg) {
		layout_text(&agg->inst.layout, a, sizeof(a));
		tprintf("  %-12s %lld x %s %s (%d GPUs each): %.0f USD\n", "aggregated",
			(long long)agg->instances[0], w->gpus[agg->gpu].spec.id, a, agg->inst.gpus,
			agg->total_usd);
	}
	if (wide) {
		layout_text(&wide->inst.layout, a, sizeof(a));
		tprintf("  %-12s %lld x %s %s (%d GPUs, %d nodes each, DeepEP + EPLB): %.0f USD%s\n",
			"wide EP", (long long)wide->instances[0], w->gpus[wide->gpu].spec.id, a,
			wide->inst.gpus, wide->inst.nodes, wide->total_usd,
			wide == agg ? " (chosen)" : "");
	} else if (w->arch.experts > 0) {
		tprintf("  %-12s no wide-EP candidate meets the SLOs\n", "wide EP");
	}
	if (!dg->tried)
		return;
	plan_mode_words(dg, agg, 0, words, sizeof(words));
	if (!dg->fits) {
		tprintf("  %-12s %s\n", "disagg", words);
		return;
	}
	side_text(&dg->prefill, w->gpus, a, sizeof(a));
	side_text(&dg->decode, w->gpus, b, sizeof(b));
	tprintf("  %-12s prefill %s + decode %s: %.0f USD\n", "disagg", a, b, dg->total_usd);
	tprintf("  %-12s P:D %.2f prefill per decode instance (rates %.3g and %.3g req/s); KV %.1f "
		"MB per request (%.0f B a prompt token) in %.1f ms; TTFT %.0f ms, TPOT %.1f ms\n", "",
		dg->pd_ratio, dg->prefill.rate_rps, dg->decode.rate_rps,
		dg->kv_bytes_per_request / 1e6, w->pool.isl > 0 ? dg->kv_bytes_per_request /
		w->pool.isl : 0, dg->transfer_s * 1e3, dg->prefill.ttft_s * 1e3,
		dg->decode.tpot_s * 1e3);
	tprintf("  %-12s %s\n", "", words);
	for (int side = 0; side < 2; side++) {
		struct launch_lines launch;
		const struct disagg_side *s = side ? &dg->decode : &dg->prefill;
		launch_lines_alloc(&s->inst, &w->arch, w->model_id, w->engine.id, &launch);
		for (int n = 0; n < launch.n; n++)
			tprintf("  %-12s %s node %d: %s\n", "", side ? "decode" : "prefill", n,
				launch.line[n]);
		launch_lines_free(&launch);
	}
}

static int plan_run(struct ctx *ctx, int argc, char **argv)
{
	const char *gpus_opt = NULL, *engine_name = "vllm";
	double ttft_ms = SCENARIO_DEFAULT_TTFT_MS, tpot_ms = SCENARIO_DEFAULT_TPOT_MS;
	double util = SCENARIO_DEFAULT_UTILIZATION, pct = SCENARIO_DEFAULT_SLO_PERCENTILE;
	const char *pct_opt = NULL, *demand = SCENARIO_DEFAULT_DEMAND;
	int64_t top = DEFAULT_TOP, mml = 0, max_seqs = 0, max_batched = 0, block = 0;
	int json = 0, npos, eager = 0;
	const char *hit_opt = "measured";
	double hit = -1;
	const struct opt opts[] = {
		{ "gpus", 0, OPT_STRING, &gpus_opt, 0 },
		{ "ttft-ms", 0, OPT_DOUBLE, &ttft_ms, 0 },
		{ "tpot-ms", 0, OPT_DOUBLE, &tpot_ms, 0 },
		{ "slo-percentile", 0, OPT_STRING, &pct_opt, 0 },
		{ "utilization", 0, OPT_DOUBLE, &util, 0 },
		{ "demand", 0, OPT_STRING, &demand, 0 },
		{ "max-model-len", 0, OPT_INT, &mml, 0 },
		{ "engine", 0, OPT_STRING, &engine_name, 0 },
		{ "top", 0, OPT_INT, &top, 0 },
		{ "prefix-hit", 0, OPT_STRING, &hit_opt, 0 },
		{ "max-num-seqs", 0, OPT_INT, &max_seqs, 0 },
		{ "max-num-batched-tokens", 0, OPT_INT, &max_batched, 0 },
		{ "block-size", 0, OPT_INT, &block, 0 },
		{ "enforce-eager", 0, OPT_FLAG, &eager, 0 },
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
	if (pct_opt && slo_percentile_parse(pct_opt, &pct)) {
		error("--slo-percentile '%s': expected p90, p99, p99.9 or a percent from 50 to below "
		      "100", pct_opt);
		return usage_error(ctx);
	}
	if (!scenario_demand_valid(demand)) {
		error("--demand '%s': expected mean, p50, p90, p99, p99.9 or peak", demand);
		return usage_error(ctx);
	}
	if (mml < 0 || mml > 100000000) {
		error("--max-model-len %lld: expected 0 (no cap) to 100000000 tokens", (long long)mml);
		return usage_error(ctx);
	}
	if (cmd_vllm_flags_check(ctx, max_seqs, max_batched, block))
		return -1;
	if (strcmp(hit_opt, "measured") && (parse_double(hit_opt, &hit) || !(hit >= 0 && hit < 1))) {
		error("--prefix-hit '%s': expected a share of prompt tokens from 0 to below 1, or "
		      "measured", hit_opt);
		return usage_error(ctx);
	}
	struct workload_plan_request req = {
		.prefix_hit = hit,
		.workload = pos[0], .gpus = gpus_opt, .engine = engine_name,
		.ttft_ms = ttft_ms, .tpot_ms = tpot_ms, .slo_percentile = pct, .utilization = util,
		.demand = demand, .max_model_len = mml,
		.max_num_seqs = (int)max_seqs, .max_num_batched_tokens = (int)max_batched,
		.block_size = (int)block, .enforce_eager = eager,
	};
	if (workload_plan(ctx->db, &req, &w))
		return -1;

	const struct candidate *c = w.cands;
	const struct pool_traffic *pool = &w.pool;
	/* The best candidate of every serving mode, in rank order. */
	char mode_names[8][32], mname[32];
	int best_of[8], nmodes = 0;
	for (int i = 0; i < w.ncands && c[i].fits && nmodes < 8; i++) {
		plan_mode_name(&c[i].inst.layout, mname, sizeof(mname));
		int m;
		for (m = 0; m < nmodes && strcmp(mode_names[m], mname); m++)
			;
		if (m == nmodes) {
			snprintf(mode_names[nmodes], sizeof(mode_names[nmodes]), "%s", mname);
			best_of[nmodes++] = i;
		}
	}
	const struct plan_gpu *gpus = w.gpus;
	const struct engine_profile *e = &w.engine;
	int ncand = w.ncands, nfit = w.nfit, nrc = w.nreasons;
	const struct workload_plan_reason *rc = w.reasons;
	int shown = nfit < top ? nfit : (int)top;
	char lay[32], pname[16];
	slo_percentile_name(pct / 100, pname);

	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workload", w.name);
		cJSON_AddStringToObject(o, "model", w.model_id);
		cJSON_AddStringToObject(o, "engine", e->id);
		cJSON_AddStringToObject(o, "demand", w.demand);
		cJSON_AddNumberToObject(o, "demand_rps", w.demand_rps);
		cJSON_AddNumberToObject(o, "mean_rps", w.mean_rps);
		cJSON_AddNumberToObject(o, "isl", pool->isl);
		cJSON_AddNumberToObject(o, "osl", pool->osl);
		cJSON_AddNumberToObject(o, "max_model_len", (double)pool->max_model_len);
		cJSON_AddNumberToObject(o, "longest_tokens", (double)pool->longest_tokens);
		cJSON_AddNumberToObject(o, "rejected_share", pool->rejected_share);
		cJSON_AddStringToObject(o, "slo_percentile", pname);
		cJSON_AddNumberToObject(o, "ttft_ms", ttft_ms);
		cJSON_AddNumberToObject(o, "tpot_ms", tpot_ms);
		cJSON_AddNumberToObject(o, "utilization", util);
		cJSON_AddNumberToObject(o, "evaluated", ncand);
		cJSON_AddNumberToObject(o, "feasible", nfit);
		cJSON *arr = cJSON_AddArrayToObject(o, "candidates");
		for (int i = 0; i < shown; i++) {
			const struct candidate *k = &c[i];
			const struct layout *l = &k->inst.layout;
			cJSON *x = layout_json(gpus[k->gpu].spec.id, l);
			char *args = vllm_args_alloc(&k->inst, &w.arch, w.model_id);
			cJSON_AddStringToObject(x, "mode", plan_mode_name(l, lay, sizeof(lay)));
			cJSON_AddStringToObject(x, "kv_dtype", l->kv_elem_bytes == 1 ? "fp8" : "auto");
			cJSON_AddNumberToObject(x, "prefix_hit", k->prefix_hit);
			cJSON_AddNumberToObject(x, "gpus", k->inst.gpus);
			cJSON_AddNumberToObject(x, "max_model_len", (double)k->inst.max_model_len);
			cJSON_AddNumberToObject(x, "max_num_seqs", k->inst.max_num_seqs);
			cJSON_AddNumberToObject(x, "kv_max_num_seqs", k->kv_seqs);
			cJSON_AddNumberToObject(x, "max_num_batched_tokens",
						k->inst.max_num_batched_tokens);
			cJSON_AddNumberToObject(x, "kv_tokens", (double)k->inst.kv_tokens);
			cJSON_AddNumberToObject(x, "rate_rps", k->rate_rps);
			cJSON_AddNumberToObject(x, "capacity_rps", k->at.capacity_rate);
			cJSON_AddNumberToObject(x, "utilization", k->at.utilisation);
			cJSON_AddNumberToObject(x, "rate_rps_p10", k->rate_rps * k->inst.band.ratio_lo);
			cJSON_AddNumberToObject(x, "rate_rps_p90", k->rate_rps * k->inst.band.ratio_hi);
			cJSON_AddStringToObject(x, "perf_profile", k->inst.band.profile);
			cJSON_AddNumberToObject(x, "perf_rows", k->inst.band.rows);
			cJSON_AddBoolToObject(x, "perf_validated", k->inst.band.validated);
			if (k->inst.band.note[0])
				cJSON_AddStringToObject(x, "perf_note", k->inst.band.note);
			cJSON_AddNumberToObject(x, "ttft_ms", k->at.ttft_s * 1e3);
			cJSON_AddNumberToObject(x, "tpot_ms", k->at.tpot_s * 1e3);
			cJSON_AddNumberToObject(x, "tpot_mean_ms", k->at.tpot_mean_s * 1e3);
			cJSON_AddNumberToObject(x, "tpot_full_ms", k->full.tpot_s * 1e3);
			cJSON_AddNumberToObject(x, "usd_per_hour", k->usd_per_hour);
			cJSON_AddNumberToObject(x, "usd_per_m_output_tokens",
						workload_plan_fleet_usd_per_m_output(&w, k));
			cJSON_AddNumberToObject(x, "usd_per_m_output_tokens_at_rate",
						workload_plan_usd_per_m_output(k, pool->osl));
			cJSON_AddNumberToObject(x, "instances", (double)k->instances[0]);
			cJSON_AddStringToObject(x, "vllm_args", args);
			free(args);
			cJSON_AddNumberToObject(x, "nodes", k->inst.nodes);
			add_launch_json(x, &k->inst, &w.arch, w.model_id, e->id);
			cJSON_AddItemToArray(arr, x);
		}
		if (w.disagg.tried) {
			cJSON *dj = cJSON_AddObjectToObject(o, "disagg");
			char words[400];
			plan_mode_words(&w.disagg, nfit > 0 ? &c[0] : NULL, 0, words, sizeof(words));
			cJSON_AddBoolToObject(dj, "fits", w.disagg.fits);
			cJSON_AddBoolToObject(dj, "wins", w.disagg.fits && (nfit == 0 ||
						 w.disagg.total_usd < c[0].total_usd));
			cJSON_AddStringToObject(dj, "reason", w.disagg.reason);
			cJSON_AddStringToObject(dj, "versus_aggregated", words);
			cJSON_AddNumberToObject(dj, "candidates", (double)w.disagg.candidates);
			if (w.disagg.fits) {
				cJSON_AddNumberToObject(dj, "usd", w.disagg.total_usd);
				cJSON_AddNumberToObject(dj, "pd_ratio", w.disagg.pd_ratio);
				cJSON_AddNumberToObject(dj, "kv_bytes_per_request",
							w.disagg.kv_bytes_per_request);
				cJSON_AddNumberToObject(dj, "kv_transfer_ms", w.disagg.transfer_s * 1e3);
				cJSON_AddItemToObject(dj, "prefill", side_json(&w.disagg.prefill, &w));
				cJSON_AddItemToObject(dj, "decode", side_json(&w.disagg.decode, &w));
			}
		}
		if (nfit > 0)
			cJSON_AddNumberToObject(o, "aggregated_usd", c[0].total_usd);
		const struct candidate *wide = best_wide_ep(&w);
		if (wide)
			cJSON_AddNumberToObject(o, "wide_ep_usd", wide->total_usd);
		else
			cJSON_AddNullToObject(o, "wide_ep_usd");
		cJSON *modes = cJSON_AddArrayToObject(o, "modes");
		for (int m = 0; m < nmodes; m++) {
			const struct candidate *k = &c[best_of[m]];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "mode", mode_names[m]);
			cJSON_AddNumberToObject(x, "rank", best_of[m] + 1);
			cJSON_AddStringToObject(x, "gpu", gpus[k->gpu].spec.id);
			cJSON_AddNumberToObject(x, "gpus", (double)(k->instances[0] * k->inst.gpus));
			cJSON_AddNumberToObject(x, "usd_per_hour", (double)k->instances[0] *
						k->usd_per_hour);
			cJSON_AddNumberToObject(x, "rate_rps", k->rate_rps);
			cJSON_AddItemToArray(modes, x);
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
		tprintf("workload %s: %s, demand %.3g req/s (%s; mean %.3g), mean %.0f + %.0f tokens, "
		       "max_model_len %lld\n", w.name, w.model_id, w.demand_rps, w.demand,
		       w.mean_rps, pool->isl, pool->osl, (long long)pool->max_model_len);
		if (pool->rejected_share > 0)
			tprintf("max_model_len rejects %.3f%% of requests (the longest is %lld tokens)\n",
			       100 * pool->rejected_share, (long long)pool->longest_tokens);
		tprintf("engine %s, SLOs TTFT %s %.0f ms, TPOT %s %.0f ms, utilization at most %.2f; "
		       "%d candidates evaluated, %d feasible\n\n", e->id, pname, ttft_ms, pname,
		       tpot_ms, util, ncand, nfit);
		if (shown > 0)
			tprintf("%-3s %-16s %-11s %-6s %-10s %4s %7s %6s %9s %8s %4s %5s %9s %8s %9s\n",
			       "#", "gpu", "tp/pp/dp/ep", "prec", "mode", "gpus", "mml", "seqs", "kv_tok",
			       "req/s", "busy", "inst", "ttft " , "tpot ", "usd/Mtok");
		for (int i = 0; i < shown; i++) {
			const struct candidate *k = &c[i];
			layout_text(&k->inst.layout, lay, sizeof(lay));
			tprintf("%-3d %-16.16s %-11s %-6s %-10s %4d %7lld %6d %9lld %8.3g %3.0f%% %5lld "
			       "%4s%5.0f %4s%4.0f %9.3f\n", i + 1, gpus[k->gpu].spec.id, lay,
			       precision_name(k->inst.layout.precision),
			       plan_mode_name(&k->inst.layout, mname, sizeof(mname)), k->inst.gpus,
			       (long long)k->inst.max_model_len, k->inst.max_num_seqs,
			       (long long)k->inst.kv_tokens, k->rate_rps, 100 * k->at.utilisation,
			       (long long)k->instances[0], pname, k->at.ttft_s * 1e3, pname,
			       k->at.tpot_s * 1e3, workload_plan_fleet_usd_per_m_output(&w, k));
		}
		if (shown > 0)
			tprintf("(seqs: the SLO batch, emitted as --max-num-seqs; inst: instances for the "
			       "demand; usd/Mtok: those instances over the mean rate's output tokens)\n");
		if (nmodes > 0) {
			tprintf("\nbest of each serving mode (GPUs and USD/hour for the demand):\n");
			for (int m = 0; m < nmodes; m++) {
				const struct candidate *k = &c[best_of[m]];
				layout_text(&k->inst.layout, lay, sizeof(lay));
				tprintf("  %-12s #%-4d %s x%d %s: %lld GPUs, %.2f USD/h, %.3g req/s per "
					"instance\n", mode_names[m], best_of[m] + 1, gpus[k->gpu].spec.id,
					k->inst.gpus, lay, (long long)(k->instances[0] * k->inst.gpus),
					(double)k->instances[0] * k->usd_per_hour, k->rate_rps);
			}
		}
		if (shown > 0 && c[0].prefix_hit > 0)
			tprintf("prefix cache: the best assumes %.1f%% of prompt tokens hit vLLM's "
				"automatic prefix cache (of %.1f%% an unbounded cache would serve; a freed "
				"block stays cached %.0f s at its rate)\n", 100 * c[0].prefix_hit,
				100 * plan_prefix_asked(&(struct plan_params){ .prefix_hit = hit }, pool),
				c[0].prefix_retention_s);
		if (shown > 0) {
			struct launch_lines launch;
			const struct perf_band *b = &c[0].inst.band;
			launch_lines_alloc(&c[0].inst, &w.arch, w.model_id, e->id, &launch);
			for (int n = 0; n < launch.n; n++) {
				if (launch.n > 1)
					tprintf("%s node %d: %s\n", n ? "    " : "\nbest:", n,
						launch.line[n]);
				else
					tprintf("\nbest: %s\n", launch.line[n]);
			}
			launch_lines_free(&launch);
			if (b->rows > 0)
				tprintf("band: %.3g-%.3g req/s (p10-p90 of measured/predicted %.2f-%.2f: "
					"%s profile, %d rows)\n", c[0].rate_rps * b->ratio_lo,
					c[0].rate_rps * b->ratio_hi, b->ratio_lo, b->ratio_hi,
					b->profile, b->rows);
			if (!b->validated)
				tprintf("unvalidated: %s\n", b->note);
		} else if (pool->longest_tokens >= 32768) {
			/* A hint, not data: stderr, beside the error below. */
			fprintf(stderr, "(requests of up to %lld tokens share one pool here, all held "
				"to the chat TTFT; 'piqplan scenario run' isolates long requests in a "
				"pool of their own SLO class)\n", (long long)pool->longest_tokens);
		}
		print_modes(&w);
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
	  "sizes each instance (one shared pool; max_model_len covers the workload's\n"
	  "longest request), sets max_num_seqs to its SLO batch (the largest running\n"
	  "batch whose TPOT meets the target at the percentile), finds the request rate\n"
	  "it sustains under the SLOs, and ranks them by what the instances the demand\n"
	  "needs cost per hour (on-demand price, newest), then by USD per million output\n"
	  "tokens at that rate. Then the distinct reasons the others fail.\n"
	  "\n"
	  "For MoE models it also weighs the serving modes (README \"Serving modes\"):\n"
	  "wide EP (DP attention x EP over 2-8 nodes on DeepEP with EPLB, 'wep' in the\n"
	  "table) among the candidates, and P/D disaggregation: a prefill pool judged on\n"
	  "TTFT (the KV transfer over the scale-out network included) and a decode pool\n"
	  "judged on TPOT with no prefill in its steps, each its own GPU type, layout\n"
	  "and count, their ratio from the workload; printed beside the aggregated best\n"
	  "with its cost, both sides' commands (NIXL kv_producer / kv_consumer) and why\n"
	  "the loser lost.\n"
	  "\n"
	  "  --gpus G,...       candidate GPU types (default: every GPU with an\n"
	  "                     on-demand price; those without one are left out)\n"
	  "  --ttft-ms N        TTFT target, queueing included (default 2000)\n"
	  "  --tpot-ms N        TPOT target (default 100)\n"
	  "  --slo-percentile P the share of requests both hold for: p99 (default), p90,\n"
	  "                     p99.9, or a percent from 50 to below 100\n"
	  "  --utilization F    highest busy fraction of an instance (default 0.7)\n"
	  "  --demand STAT      the rate planned for: p99 (default), p50, p90, p99.9 of\n"
	  "                     the windowed rates, peak or mean\n"
	  "  --max-model-len N  cap max_model_len (the share it rejects is shown)\n"
	  "  --engine E         engine profile (default vllm)\n"
	  "  --max-num-seqs N   the largest running batch per DP rank (default the\n"
	  "                     engine's: vLLM 1024 or 256)\n"
	  "  --max-num-batched-tokens N   the engine's step budget (default the\n"
	  "                     engine's for the GPU)\n"
	  "  --block-size N     KV block (default the engine's for the model)\n"
	  "  --enforce-eager    no CUDA graphs\n"
	  "  --prefix-hit F     share of prompt tokens an unbounded prefix cache would serve,\n"
	  "                     [0, 1); what each candidate's cache keeps is worked out from\n"
	  "                     the KV beside its running batch (default measured: the\n"
	  "                     workload's Mooncake reuse, else 0)\n"
	  "  --top N            how many ranked candidates to show (default 10)\n"
	  "  --json             one object: candidates (gpu, tp, pp, dp, ep, precision,\n"
	  "                     gpus, nodes, max_model_len, max_num_seqs, kv_max_num_seqs,\n"
	  "                     kv_tokens, rate_rps, capacity_rps, utilization, ttft_ms,\n"
	  "                     tpot_ms, tpot_full_ms, instances, usd_per_m_output_tokens\n"
	  "                     (at the mean rate), vllm_args, launch: one command per\n"
	  "                     node) and infeasible (reason, candidates); aggregated_usd,\n"
	  "                     wide_ep_usd (null: none serves) and, for MoE models, disagg\n"
	  "                     (fits, wins, usd, pd_ratio, kv_bytes_per_request,\n"
	  "                     kv_transfer_ms, versus_aggregated, prefill, decode)\n" },
	{ 0 },
};

const struct cmd cmd_plan = { "plan", "rank configurations for a stored workload", plan_subs };
