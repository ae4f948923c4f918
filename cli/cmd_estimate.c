/*
 * cmd_estimate.c - `piqplan estimate`: one model on one GPU type, one
 * traffic shape. Sizes the instance (or, without --tp, picks the layout:
 * fewest GPUs that fit, then the most output tokens/s per GPU), prints the
 * memory split, the vLLM flags and the predicted throughput and latency.
 * A configuration that does not fit is an answer (exit 0, fits false).
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/cmd.h"
#include "cli/opts.h"
#include "lib/escape.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/instance.h"
#include "planner/model.h"
#include "planner/plan.h"
#include "run/estimate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0
#define DEFAULT_REQUESTS 1000

static const char estimate_usage[] =
	"--model ID --gpu ID --isl N --osl N [--tp N] [--pp N] [--dp N] [--ep]\n"
	"       [--precision native|bf16|fp8|fp4] [--kv-dtype auto|fp8]\n"
	"       [--spec-method mtp|eagle3|ngram [--spec-tokens K] [--spec-acceptance A]]\n"
	"       [--prefix-hit F]\n"
	"       [--engine vllm|sglang|trtllm]\n"
	"       [--offline [--requests N] | --concurrency N | --rate R] [--osl-max N]\n"
	"       [--max-model-len N] [--gpu-memory-utilization F] [--max-num-seqs N]\n"
	"       [--max-num-batched-tokens N] [--block-size N] [--enforce-eager]\n"
	"       [--cross-node-tp] [--wide-ep [--no-eplb]] [--role prefill|decode] [--json]";

static const char *const mode_names[] = { "offline", "concurrency", "rate" };

/* 462336 -> "462,336" */
static void fmt_int_commas(char *buf, size_t n, long long v)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%lld", v < 0 ? -v : v);
	size_t out = 0;

	if (v < 0 && out + 1 < n)
		buf[out++] = '-';
	for (int i = 0; i < len && out + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = tmp[i];
	}
	buf[out] = '\0';
}

static double ms(double s)
{
	return s * 1e3;
}

/*
 * The memory split per GPU, term by term as vLLM's start-up log prints it
 * (the binding pipeline stage: the one with the fewest KV blocks); for
 * SGLang and TensorRT-LLM their flat overheads.
 */
static void print_memory(const struct estimate *est)
{
	const struct instance *in = &est->in;
	const struct engine_profile *e = &est->engine;
	const struct mem_stage *ms = &in->mem;
	int vllm = !strcmp(e->id, "vllm");
	char a[40], b[40];

	tprintf("\nmemory per GPU");
	if (vllm && in->layout.pp > 1)
		tprintf(" (stage %d of %d, layers %d-%d: the fewest KV blocks)", ms->stage + 1,
		       in->layout.pp, ms->first_layer, ms->first_layer + ms->layers - 1);
	tprintf("      GiB\n");
	tprintf("  torch sees                   %9.2f (the driver: %.2f)\n", in->memory_bytes / GIB,
	       est->gpu.memory_bytes / GIB);
	if (e->fraction_of_free)
		tprintf("  KV share of free memory      %9.2f (fraction)\n",
		       in->gpu_memory_utilization);
	else
		tprintf("  x gpu_memory_utilization %.3g %9.2f\n", in->gpu_memory_utilization,
		       (vllm ? ms->requested_bytes : in->gpu_memory_utilization * in->memory_bytes) /
		       GIB);
	tprintf("  - weights                    %9.2f\n", in->weights_bytes_per_gpu / GIB);
	tprintf("  - activation peak            %9.2f (%d batched tokens, %d sequences)\n",
	       in->activation_bytes / GIB, in->max_num_batched_tokens, in->max_num_seqs);
	tprintf("  - non-torch                  %9.2f\n", in->non_torch_bytes / GIB);
	if (!vllm)
		tprintf("  - CUDA graphs                %9.2f\n", in->cuda_graph_bytes / GIB);
	else if (in->enforce_eager)
		tprintf("  - CUDA graphs                %9.2f (--enforce-eager)\n", 0.0);
	else if (in->cuda_graph_in_budget)
		tprintf("  - CUDA graphs (estimate)     %9.2f (vLLM %s counts it in the budget; the "
		       "%d graphs take about %.2f)\n", in->cuda_graph_estimate_bytes / GIB,
		       e->version, ms->cuda_graphs, in->cuda_graph_bytes / GIB);
	else
		tprintf("  (CUDA graphs                 %9.2f: %d graphs captured after the budget, "
		       "outside it before v0.21)\n", in->cuda_graph_bytes / GIB, ms->cuda_graphs);
	fmt_int_commas(a, sizeof(a), (long long)in->kv_tokens);
	fmt_int_commas(b, sizeof(b), (long long)in->kv_blocks);
	if (vllm)
		tprintf("  = KV cache                   %9.2f (%s blocks of %d tokens, %d group%s -> "
		       "%s tokens; %.1f x max_model_len)\n", in->kv_budget_bytes_per_gpu / GIB, b,
		       in->block_size_tokens, in->kv_groups, in->kv_groups == 1 ? "" : "s", a,
		       in->max_concurrency);
	else
		tprintf("  = KV cache                   %9.2f (%.0f B/token -> %s tokens)\n",
		       in->kv_budget_bytes_per_gpu / GIB, in->kv_bytes_per_token_per_gpu, a);
}

static void print_plain(const struct estimate *est, const struct estimate_request *t, int chosen)
{
	const char *model_id = est->model_id;
	const struct gpu_spec *g = &est->gpu;
	const struct engine_profile *e = &est->engine;
	const struct estimate *c = est;
	const struct instance *in = &c->in;
	const struct layout *l = &in->layout;
	const struct load_point *lp = &c->lp;
	char a[40], b[40];

	tprintf("model       %s\n", model_id);
	tprintf("gpu         %s x %d (tp %d, pp %d, dp %d%s)%s\n", g->id, in->gpus, l->tp, l->pp,
	       l->dp, l->ep ? ", expert parallel" : "",
	       chosen ? "  [chosen: serves the load, fewest GPUs, then tok/s per GPU]" : "");
	if (in->nodes > 1)
		tprintf("nodes       %d of %d GPUs\n", in->nodes, in->comm.node_gpus);
	tprintf("engine      %s %s\n", e->id, e->version);
	tprintf("precision   %s weights, %s KV cache\n", precision_name(l->precision),
	       l->kv_elem_bytes == 1 ? "fp8" : "bf16");
	if (l->spec.method != DRAFT_NONE)
		tprintf("speculative %s, %d draft tokens at acceptance %.2f: %.2f tokens a step "
			"(1 - a^(k+1)) / (1 - a)%s%s\n", spec_method_name(l->spec.method),
			l->spec.tokens, l->spec.acceptance,
			spec_expected_tokens(l->spec.acceptance, l->spec.tokens),
			l->spec.draft[0] ? ", draft " : "", l->spec.draft);
	if (in->prefix_hit > 0)
		tprintf("prefix      %.1f%% of prompt tokens served from the prefix cache (they "
			"skip prefill, still attended to)\n", 100 * in->prefix_hit);
	if (!in->fits) {
		tprintf("fits        no: %s\n", in->reason);
		if (in->weights_bytes_per_gpu > 0)
			tprintf("weights     %.2f GiB per GPU\n", in->weights_bytes_per_gpu / GIB);
		return;
	}
	if (in->note[0])
		tprintf("note        %s\n", in->note);

	print_memory(est);
	/* One max_model_len sequence per GPU, by term (model show has them per layer kind). */
	double seq = model_kv_seq_bytes(&in->stage_kv, (double)in->max_model_len);
	fmt_int_commas(a, sizeof(a), (long long)in->max_model_len);
	tprintf("  one sequence of %s tokens: %.3f GiB (%.3f per token x len + %.3f windows"
	       " + %.3f state)\n", a, seq / GIB,
	       in->kv_bytes_per_token_per_gpu * (double)in->max_model_len / GIB,
	       in->kv_window_bytes_per_seq_per_gpu / GIB, in->state_bytes_per_seq_per_gpu / GIB);

	tprintf("\nflags\n");
	tprintf("  max_model_len %lld, max_num_seqs %d, max_num_batched_tokens %d,"
	       " gpu_memory_utilization %.3g\n", (long long)in->max_model_len, in->max_num_seqs,
	       in->max_num_batched_tokens, in->gpu_memory_utilization);
	if (est->launch.n > 1)
		tprintf("  %d commands, one per node (node 0's address in $HEAD_IP on every node):\n",
		       est->launch.n);
	for (int k = 0; k < est->launch.n; k++) {
		if (est->launch.n > 1)
			tprintf("  node %d: %s\n", k, est->launch.line[k]);
		else
			tprintf("  %s\n", est->launch.line[k]);
	}

	tprintf("\nperformance (%s", mode_names[t->mode]);
	if (t->mode == ESTIMATE_OFFLINE)
		tprintf(", %.0f requests", t->value);
	else if (t->mode == ESTIMATE_CONCURRENCY)
		tprintf(" %.0f", t->value);
	else
		tprintf(" %g req/s", t->value);
	tprintf(", %g + %g tokens)\n", t->isl, t->osl);
	if (lp->saturated)
		tprintf("  saturated: %g req/s exceeds the capacity of %.3g req/s\n", t->value,
		       lp->capacity_rate);
	fmt_count(a, sizeof(a), lp->output_tok_s);
	fmt_count(b, sizeof(b), lp->output_tok_s / in->gpus);
	tprintf("  output        %s tok/s (%s per GPU)\n", a, b);
	fmt_count(a, sizeof(a), lp->output_tok_s * in->band.ratio_lo);
	fmt_count(b, sizeof(b), lp->output_tok_s * in->band.ratio_hi);
	if (in->band.rows > 0)
		tprintf("  band          %s-%s tok/s (p10-p90: %s profile, %d rows, measured/"
		       "predicted %.2f-%.2f%s)\n", a, b, in->band.profile, in->band.rows,
		       in->band.ratio_lo, in->band.ratio_hi,
		       in->band.out_of_sample ? ", held out" : "");
	else
		tprintf("  band          none: %s\n", in->band.note);
	if (in->band.rows > 0 && !in->band.validated)
		tprintf("  unvalidated   %s\n", in->band.note);
	tprintf("  requests      %.3g req/s (capacity %.3g req/s)\n", lp->request_rate,
	       lp->capacity_rate);
	tprintf("  running       %.1f sequences per DP rank\n", lp->running);
	if (lp->ttft_s >= 0)
		tprintf("  TTFT          %.1f ms\n", ms(lp->ttft_s));
	else
		tprintf("  TTFT          unbounded (queue grows)\n");
	tprintf("  TPOT          %.2f ms (decode step %s-bound)\n", ms(lp->tpot_s),
	       instance_bound_name(lp->memory_bound));
}

/* A number, or null when it is not known (have 0). */
static void add_number(cJSON *o, const char *key, int have, double v)
{
	if (have && isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/* true or false, or null when it is not known (have 0). */
static void add_bool(cJSON *o, const char *key, int have, int v)
{
	if (have)
		cJSON_AddBoolToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_string(cJSON *o, const char *key, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/*
 * One object with the same keys whatever the outcome (a program reads
 * j["kv_tokens"] without asking first whether it fits): what a
 * configuration that does not fit has no value for is null.
 */
static void print_json_result(const struct estimate *est, const struct estimate_request *t)
{
	const char *model_id = est->model_id, *args = est->vllm_args;
	const struct gpu_spec *g = &est->gpu;
	const struct engine_profile *e = &est->engine;
	const struct estimate *c = est;
	const struct instance *in = &c->in;
	const struct layout *l = &in->layout;
	const struct load_point *lp = &c->lp;
	int fits = in->fits;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "model", model_id);
	cJSON_AddStringToObject(o, "gpu", g->id);
	cJSON_AddStringToObject(o, "engine", e->id);
	cJSON_AddBoolToObject(o, "fits", fits);
	add_string(o, "reason", fits ? NULL : in->reason);
	add_string(o, "note", in->note);
	cJSON_AddNumberToObject(o, "tp", l->tp);
	cJSON_AddNumberToObject(o, "pp", l->pp);
	cJSON_AddNumberToObject(o, "dp", l->dp);
	cJSON_AddBoolToObject(o, "ep", l->ep);
	cJSON_AddNumberToObject(o, "gpus", in->gpus);
	cJSON_AddNumberToObject(o, "nodes", in->nodes);
	cJSON_AddStringToObject(o, "engine_version", e->version);
	cJSON_AddStringToObject(o, "precision", precision_name(l->precision));
	cJSON_AddStringToObject(o, "kv_dtype", l->kv_elem_bytes == 1 ? "fp8" : "auto");
	char smode[32];
	cJSON_AddStringToObject(o, "serving_mode", plan_mode_name(l, smode, sizeof(smode)));
	int spec = l->spec.method != DRAFT_NONE;
	add_string(o, "spec_method", spec ? spec_method_name(l->spec.method) : NULL);
	add_number(o, "spec_tokens", spec, l->spec.tokens);
	add_number(o, "spec_acceptance", spec, l->spec.acceptance);
	add_number(o, "spec_tokens_per_step", spec,
		   spec_expected_tokens(l->spec.acceptance, l->spec.tokens));
	cJSON_AddNumberToObject(o, "prefix_hit", t->prefix_hit);
	add_number(o, "weights_bytes_per_gpu", in->weights_bytes_per_gpu > 0,
		   round(in->weights_bytes_per_gpu));
	add_number(o, "kv_bytes_per_token_per_gpu", in->kv_bytes_per_token_per_gpu > 0,
		   in->kv_bytes_per_token_per_gpu);
	cJSON_AddNumberToObject(o, "kv_window_bytes_per_seq_per_gpu",
				in->kv_window_bytes_per_seq_per_gpu);
	cJSON_AddNumberToObject(o, "state_bytes_per_seq_per_gpu", in->state_bytes_per_seq_per_gpu);
	cJSON_AddNumberToObject(o, "seq_bytes_per_gpu",
				round(model_kv_seq_bytes(&in->stage_kv, (double)in->max_model_len)));
	cJSON_AddNumberToObject(o, "max_model_len", (double)in->max_model_len);
	add_number(o, "memory_torch_bytes", fits, round(in->memory_bytes));
	add_number(o, "activation_bytes", fits, round(in->activation_bytes));
	add_number(o, "non_torch_bytes", fits, round(in->non_torch_bytes));
	add_number(o, "cuda_graph_bytes", fits, round(in->cuda_graph_bytes));
	add_number(o, "cuda_graph_estimate_bytes", fits, round(in->cuda_graph_estimate_bytes));
	add_bool(o, "cuda_graph_in_budget", fits, in->cuda_graph_in_budget);
	add_number(o, "kv_budget_bytes_per_gpu", fits, round(in->kv_budget_bytes_per_gpu));
	add_number(o, "kv_tokens", fits, (double)in->kv_tokens);
	add_number(o, "kv_blocks", fits, (double)in->kv_blocks);
	add_number(o, "kv_groups", fits, in->kv_groups);
	add_number(o, "block_size", fits, in->block_size_tokens);
	add_number(o, "max_concurrency", fits, in->max_concurrency);
	add_bool(o, "enforce_eager", fits, in->enforce_eager);
	add_number(o, "max_num_seqs", fits, in->max_num_seqs);
	add_number(o, "max_num_batched_tokens", fits, in->max_num_batched_tokens);
	add_number(o, "gpu_memory_utilization", fits, in->gpu_memory_utilization);
	cJSON_AddStringToObject(o, "mode", mode_names[t->mode]);
	cJSON_AddNumberToObject(o, "load_value", t->value);
	cJSON_AddNumberToObject(o, "isl", t->isl);
	cJSON_AddNumberToObject(o, "osl", t->osl);
	add_number(o, "running", fits, lp->running);
	add_number(o, "output_tok_s", fits, lp->output_tok_s);
	add_number(o, "output_tok_s_per_gpu", fits && in->gpus > 0, lp->output_tok_s / in->gpus);
	cJSON *band = cJSON_AddObjectToObject(o, "band");
	add_string(band, "profile", in->band.profile[0] ? in->band.profile : NULL);
	cJSON_AddNumberToObject(band, "rows", in->band.rows);
	cJSON_AddBoolToObject(band, "validated", in->band.validated);
	add_string(band, "note", in->band.note[0] ? in->band.note : NULL);
	cJSON_AddBoolToObject(band, "out_of_sample", in->band.out_of_sample);
	add_number(band, "ratio_p10", in->band.rows > 0, in->band.ratio_lo);
	add_number(band, "ratio_p90", in->band.rows > 0, in->band.ratio_hi);
	add_number(band, "output_tok_s_p10", fits && in->band.rows > 0,
		   lp->output_tok_s * in->band.ratio_lo);
	add_number(band, "output_tok_s_p90", fits && in->band.rows > 0,
		   lp->output_tok_s * in->band.ratio_hi);
	add_number(o, "request_rate", fits, lp->request_rate);
	add_number(o, "capacity_rate", fits, lp->capacity_rate);
	add_number(o, "ttft_ms", fits && lp->ttft_s >= 0, ms(lp->ttft_s));	/* null: saturated */
	add_number(o, "tpot_ms", fits, ms(lp->tpot_s));
	if (fits) {
		cJSON_AddBoolToObject(o, "saturated", lp->saturated);
		cJSON_AddStringToObject(o, "bound", instance_bound_name(lp->memory_bound));
	} else {
		cJSON_AddNullToObject(o, "saturated");
		cJSON_AddNullToObject(o, "bound");
	}
	add_string(o, "vllm_args", fits ? args : NULL);
	cJSON *launch = cJSON_AddArrayToObject(o, "launch");	/* empty: does not fit */
	for (int k = 0; fits && k < est->launch.n; k++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "node", k);
		cJSON_AddStringToObject(x, "engine", est->launch.engine);
		cJSON_AddStringToObject(x, "command", est->launch.line[k]);
		cJSON_AddItemToArray(launch, x);
	}
	print_json(o);
}

static int estimate_run(struct ctx *ctx, int argc, char **argv)
{
	const char *model_name = NULL, *gpu_name = NULL, *prec_name = "native";
	const char *kv_name = "auto", *engine_name = "vllm", *spec_name = NULL;
	int64_t spec_tokens = 0;
	double spec_acc = 0, prefix_hit = 0, osl_max = 0;
	int spec_tokens_seen = 0, spec_acc_seen = 0;
	int64_t tp = 0, pp = 1, dp = 1, isl = 0, osl = 0, requests = DEFAULT_REQUESTS;
	int64_t concurrency = 0, mml = 0;
	double rate = 0, gmu = 0;
	int ep = 0, offline = 0, json = 0;
	int64_t max_seqs = 0, max_batched = 0, block = 0;
	int eager = 0, cross_tp = 0, dp_seen = 0, wide_ep = 0, no_eplb = 0;
	const char *role = NULL;
	int tp_seen = 0, pp_seen = 0, ep_seen = 0, isl_seen = 0, osl_seen = 0;
	int req_seen = 0, conc_seen = 0, rate_seen = 0, mml_seen = 0, gmu_seen = 0;
	const struct opt opts[] = {
		{ "model", 0, OPT_STRING, &model_name, 0 },
		{ "gpu", 0, OPT_STRING, &gpu_name, 0 },
		{ "tp", 0, OPT_INT, &tp, &tp_seen },
		{ "pp", 0, OPT_INT, &pp, &pp_seen },
		{ "dp", 0, OPT_INT, &dp, &dp_seen },
		{ "ep", 0, OPT_FLAG, &ep, &ep_seen },
		{ "precision", 0, OPT_STRING, &prec_name, 0 },
		{ "kv-dtype", 0, OPT_STRING, &kv_name, 0 },
		{ "spec-method", 0, OPT_STRING, &spec_name, 0 },
		{ "spec-tokens", 0, OPT_INT, &spec_tokens, &spec_tokens_seen },
		{ "spec-acceptance", 0, OPT_DOUBLE, &spec_acc, &spec_acc_seen },
		{ "prefix-hit", 0, OPT_DOUBLE, &prefix_hit, 0 },
		{ "osl-max", 0, OPT_DOUBLE, &osl_max, 0 },
		{ "engine", 0, OPT_STRING, &engine_name, 0 },
		{ "isl", 0, OPT_INT, &isl, &isl_seen },
		{ "osl", 0, OPT_INT, &osl, &osl_seen },
		{ "offline", 0, OPT_FLAG, &offline, 0 },
		{ "requests", 0, OPT_INT, &requests, &req_seen },
		{ "concurrency", 0, OPT_INT, &concurrency, &conc_seen },
		{ "rate", 0, OPT_DOUBLE, &rate, &rate_seen },
		{ "max-model-len", 0, OPT_INT, &mml, &mml_seen },
		{ "gpu-memory-utilization", 0, OPT_DOUBLE, &gmu, &gmu_seen },
		{ "max-num-seqs", 0, OPT_INT, &max_seqs, 0 },
		{ "max-num-batched-tokens", 0, OPT_INT, &max_batched, 0 },
		{ "block-size", 0, OPT_INT, &block, 0 },
		{ "enforce-eager", 0, OPT_FLAG, &eager, 0 },
		{ "cross-node-tp", 0, OPT_FLAG, &cross_tp, 0 },
		{ "wide-ep", 0, OPT_FLAG, &wide_ep, 0 },
		{ "no-eplb", 0, OPT_FLAG, &no_eplb, 0 },
		{ "role", 0, OPT_STRING, &role, 0 },
		{ "json", 0, OPT_FLAG, &json, 0 },
		OPT_END,
	};
	char *pos[1];
	int npos;
	struct estimate_request t = { 0 };
	struct layout *l = &t.layout;
	struct estimate est;

	int parsed = cmd_options(ctx, argc, argv, opts, pos, 0, 0, &npos);
	if (parsed)
		return parsed;
	if (!model_name || !gpu_name || !isl_seen || !osl_seen) {
		error("--model, --gpu, --isl and --osl are required");
		return usage_error(ctx);
	}
	if (isl < 1 || osl < 1 || isl > 100000000 || osl > 100000000) {
		error("--isl and --osl must be whole numbers of tokens >= 1");
		return usage_error(ctx);
	}
	if (tp_seen && (tp < 1 || tp > 1024 || (tp & (tp - 1)))) {
		error("--tp must be a power of two (1, 2, 4, 8, ...), got %lld", (long long)tp);
		return usage_error(ctx);
	}
	if (pp < 1 || pp > 1024 || dp < 1 || dp > 1024) {
		error("--pp and --dp must be between 1 and 1024");
		return usage_error(ctx);
	}
	if (precision_parse(prec_name, &l->precision)) {
		error("unknown precision '%s' (native, bf16, fp8, fp4)", prec_name);
		return usage_error(ctx);
	}
	if (!strcmp(kv_name, "auto")) {
		l->kv_elem_bytes = 2;
	} else if (!strcmp(kv_name, "fp8")) {
		l->kv_elem_bytes = 1;
	} else {
		error("unknown --kv-dtype '%s' (auto, fp8)", kv_name);
		return usage_error(ctx);
	}
	if (spec_name) {
		if (spec_method_parse(spec_name, &l->spec.method) || l->spec.method == DRAFT_NONE) {
			error("unknown --spec-method '%s' (mtp, eagle3, ngram)", spec_name);
			return usage_error(ctx);
		}
		l->spec.tokens = spec_tokens_seen ? (int)spec_tokens
						  : spec_default_tokens(l->spec.method);
		l->spec.acceptance = spec_acc_seen ? spec_acc
						   : spec_default_acceptance(l->spec.method);
		if (spec_tokens_seen && (spec_tokens < 1 || spec_tokens > 16)) {
			error("--spec-tokens must be 1 to 16, got %lld", (long long)spec_tokens);
			return usage_error(ctx);
		}
		if (!spec_acc_seen && !(l->spec.acceptance > 0)) {
			error("--spec-method %s has no published default acceptance: give "
			      "--spec-acceptance A", spec_name);
			return usage_error(ctx);
		}
		if (!(l->spec.acceptance > 0 && l->spec.acceptance < 1)) {
			error("--spec-acceptance must be between 0 and 1 (exclusive), got %g",
			      l->spec.acceptance);
			return usage_error(ctx);
		}
	} else if (spec_tokens_seen || spec_acc_seen) {
		error("--spec-tokens and --spec-acceptance need --spec-method");
		return usage_error(ctx);
	}
	if (!(prefix_hit >= 0 && prefix_hit < 1)) {
		error("--prefix-hit must be a share of prompt tokens in [0, 1), got %g", prefix_hit);
		return usage_error(ctx);
	}
	t.prefix_hit = prefix_hit;
	if (osl_max != 0 && !(osl_max >= (double)osl && osl_max <= 1e7)) {
		error("--osl-max is each request's max_tokens when outputs stop at EOS below it: "
		      "from --osl up to 10000000, got %g", osl_max);
		return usage_error(ctx);
	}
	t.osl_max = osl_max;
	if (offline + conc_seen + rate_seen > 1 || (req_seen && (conc_seen || rate_seen))) {
		error("choose one of --offline [--requests N], --concurrency N, --rate R");
		return usage_error(ctx);
	}
	if ((req_seen && requests < 1) || (conc_seen && concurrency < 1) ||
	    (rate_seen && !(rate > 0)) || (mml_seen && mml < 1) ||
	    (gmu_seen && !(gmu > 0 && gmu <= 1))) {
		error("--requests, --concurrency, --rate and --max-model-len must be positive;"
		      " --gpu-memory-utilization in (0, 1]");
		return usage_error(ctx);
	}

	if (cmd_vllm_flags_check(ctx, max_seqs, max_batched, block))
		return -1;

	if (role && strcmp(role, "prefill") && strcmp(role, "decode")) {
		error("unknown --role '%s' (prefill, decode)", role);
		return usage_error(ctx);
	}
	if (no_eplb && !wide_ep) {
		error("--no-eplb goes with --wide-ep");
		return usage_error(ctx);
	}
	if (wide_ep && (!dp_seen || dp < 2)) {
		error("--wide-ep needs --dp N (N >= 2: DP attention x EP; --ep is implied)");
		return usage_error(ctx);
	}
	l->role = !role ? PD_AGGREGATED : !strcmp(role, "prefill") ? PD_PREFILL : PD_DECODE;
	if (wide_ep) {
		/* DeepEP's low-latency kernels for decode steps, the normal ones otherwise. */
		l->a2a = l->role == PD_DECODE ? A2A_DEEPEP_LL : A2A_DEEPEP_HT;
		ep = 1;
		ep_seen = 1;
	}

	t.model = model_name;
	t.gpu = gpu_name;
	t.engine = engine_name;
	t.isl = (double)isl;
	t.osl = (double)osl;
	if (conc_seen) {
		t.mode = ESTIMATE_CONCURRENCY;
		t.value = (double)concurrency;
	} else if (rate_seen) {
		t.mode = ESTIMATE_RATE;
		t.value = rate;
	} else {
		t.mode = ESTIMATE_OFFLINE;
		t.value = (double)requests;
	}
	t.max_model_len = mml_seen ? mml : 0;
	t.gpu_memory_utilization = gmu_seen ? gmu : 0;
	l->tp = (int)tp;
	l->pp = (int)pp;
	l->dp = (int)dp;
	l->ep = ep;
	/* EPLB: one redundant expert slot per GPU of the expert group (instance.h). */
	l->redundant_experts = wide_ep && !no_eplb ? (int)(dp * (tp_seen ? tp : 1)) : 0;
	t.max_num_seqs = (int)max_seqs;
	t.max_num_batched_tokens = (int)max_batched;
	t.block_size = (int)block;
	t.enforce_eager = eager;
	t.cross_node_tp = cross_tp;
	t.dp_given = dp_seen;
	t.tp_given = tp_seen;
	t.pp_given = pp_seen;
	t.ep_given = ep_seen;

	if (estimate_instance(ctx->db, &t, &est))
		return -1;
	if (json)
		print_json_result(&est, &t);
	else
		print_plain(&est, &t, !tp_seen);
	estimate_free(&est);
	return 0;
}

static const struct subcmd estimate_subs[] = {
	{ NULL, estimate_run, CMD_DB, estimate_usage,
	  "Estimate what one model server does: memory, vLLM flags, throughput, latency.",
	  "Sizes one instance of --model on --gpu and predicts its throughput and\n"
	  "latency for prompts of --isl and outputs of --osl tokens.\n"
	  "\n"
	  "Layout:\n"
	  "  --tp N          tensor parallel (power of two, within a node; over PCIe\n"
	  "                  where the GPU has no NVLink); without it the layout is\n"
	  "                  chosen: it fits and serves the load (the KV holds the\n"
	  "                  --concurrency clients, the --rate is below capacity),\n"
	  "                  then fewest GPUs, then the most output tokens/s per\n"
	  "                  GPU (MoE models: DP and EP tried too)\n"
	  "  --pp N          pipeline stages (default 1; across nodes when needed)\n"
	  "  --dp N          data-parallel ranks in the server (default 1); routed\n"
	  "                  experts are split over tp x dp GPUs\n"
	  "  --ep            expert parallelism: whole experts spread over tp x dp\n"
	  "                  GPUs (across nodes over the scale-out network)\n"
	  "  --cross-node-tp allow tensor parallelism across nodes\n"
	  "  --wide-ep       wide expert parallelism: DP attention x EP over the --dp\n"
	  "                  ranks on DeepEP's all-to-all (--all2all-backend deepep_*),\n"
	  "                  its time by EP size from DeepEP's measured bandwidths, the\n"
	  "                  busiest rank's expert load 1.109 x the mean with EPLB's\n"
	  "                  one redundant expert per GPU (2.564 with --no-eplb;\n"
	  "                  TensorRT-LLM, EP32); NVIDIA GPUs with a scale-out network\n"
	  "  --no-eplb       wide EP without EPLB's redundant experts\n"
	  "  --role R        one side of P/D disaggregation, prefill or decode: the\n"
	  "                  commands get --kv-transfer-config (NIXL, kv_producer /\n"
	  "                  kv_consumer; SGLang --disaggregation-mode), wide EP on a\n"
	  "                  decode side the low-latency kernels. The sizing and\n"
	  "                  performance shown are the layout's; 'piqplan plan' and\n"
	  "                  'scenario run' weigh the prefill and decode pools together\n"
	  "  --precision P   native (the checkpoint's, default), bf16, fp8, fp4\n"
	  "  --kv-dtype D    auto (the model dtype, default) or fp8\n"
	  "  --engine E      engine profile: vllm (default), sglang, trtllm\n"
	  "\n"
	  "Serving modes:\n"
	  "  --spec-method M     speculative decoding (vLLM): mtp (the checkpoint's\n"
	  "                      multi-token-prediction layers), eagle3 (a published\n"
	  "                      EAGLE-3 head), ngram (prompt lookup); not with --pp\n"
	  "  --spec-tokens K     draft tokens per step (default: mtp 1, eagle3 3,\n"
	  "                      ngram 4)\n"
	  "  --spec-acceptance A per-token acceptance in (0, 1); a step emits\n"
	  "                      (1 - A^(K+1)) / (1 - A) tokens. Default: mtp 0.85\n"
	  "                      (DeepSeek-V3 report), eagle3 0.66 (acceptance length\n"
	  "                      2.88 at K 7); ngram has none: give it\n"
	  "  --prefix-hit F      share of prompt tokens the prefix cache serves, [0, 1):\n"
	  "                      they skip prefill but are attended to (default 0)\n"
	  "\n"
	  "Load (one of):\n"
	  "  --offline       all requests queued at once (default)\n"
	  "  --requests N    how many, offline (default 1000)\n"
	  "  --concurrency N N clients in a closed loop\n"
	  "  --rate R        Poisson arrivals at R requests/s\n"
	  "  --osl-max N     outputs stop at EOS with a mean of --osl, each capped at\n"
	  "                  N (ShareGPT, a random dataset's output range): an offline\n"
	  "                  run drains, the longest finishing alone (default: every\n"
	  "                  output is --osl long)\n"
	  "\n"
	  "Flags:\n"
	  "  --max-model-len N            default isl + osl rounded up to 256\n"
	  "  --gpu-memory-utilization F   default the engine's (0.92 vLLM)\n"
	  "  --max-num-seqs N             default the most the KV holds when vLLM is\n"
	  "                               sized with that many, capped by the engine's\n"
	  "                               default (vLLM 1024 / 256)\n"
	  "  --max-num-batched-tokens N   default the engine's for the GPU\n"
	  "  --block-size N               KV block; default the engine's for the model\n"
	  "  --enforce-eager              no CUDA graphs (their memory goes to KV)\n"
	  "  --json                       one JSON object (fits, reason, tp, pp, dp, ep,\n"
	  "                               gpus, weights_bytes_per_gpu, kv_tokens,\n"
	  "                               max_num_seqs, output_tok_s, ttft_ms, tpot_ms,\n"
	  "                               bound, vllm_args, launch, ...): always the same\n"
	  "                               keys, null where there is no value\n"
	  "\n"
	  "A configuration that does not fit is reported with its reason and exit 0.\n" },
	{ 0 },
};

const struct cmd cmd_estimate = { "estimate",
				  "estimate one model server: memory, vLLM flags, performance",
				  estimate_subs };
