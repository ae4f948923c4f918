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
#include "cmd.h"
#include "schema/load.h"
#include "schema/lookup.h"
#include "opts.h"
#include "lib/json.h"
#include "lib/util.h"
#include "planner/fleet.h"
#include "planner/model.h"
#include "planner/plan.h"
#include "run/vllm_args.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char plan_usage[] =
	"WORKLOAD [--gpus G,...] [--ttft-ms N] [--tpot-ms N] [--utilization F]\n"
	"       [--engine E] [--top N] [--json]";

#define DEFAULT_TTFT_MS 2000
#define DEFAULT_TPOT_MS 100
#define DEFAULT_UTILIZATION 0.7	/* as `scenario create` */
#define DEFAULT_TOP 10
#define MAX_REASONS 5

struct plan_input {
	char *name, *model_id;
	struct model_arch arch;
	struct wl_bucket *buckets;
	int nbuckets;
	double peak_rps, p999_total;
};

/* USD per million output tokens at the candidate's sustainable rate. */
static double usd_per_m_output(const struct candidate *c, double osl)
{
	return c->usd_per_hour / (c->rate_rps * osl * 3600) * 1e6;
}

/*
 * Cheapest per output token first. One pool has one mean output length, so
 * USD per million output tokens orders as USD per hour / request rate.
 */
static int by_usd_per_token(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;
	if (a->fits != b->fits)
		return b->fits - a->fits;
	if (!a->fits)
		return a->order - b->order;
	double x = a->usd_per_hour / a->rate_rps, y = b->usd_per_hour / b->rate_rps;
	if (x != y)
		return x < y ? -1 : 1;
	if (a->inst.gpus != b->inst.gpus)
		return a->inst.gpus - b->inst.gpus;
	return a->order - b->order;
}

static int load_input(struct db *db, const char *name, struct plan_input *w)
{
	struct stmt *st = db_prepare(db,
		"SELECT name, model_id, peak_rps, mean_rps, total_tokens_p999, id"
		"  FROM workload WHERE name = :n");
	int64_t id;
	int r;

	if (!st)
		return -1;
	stmt_bind_text(st, ":n", name);
	r = stmt_step(st);
	if (r <= 0) {
		stmt_finalize(st);
		return r < 0 ? -1 : error("unknown workload '%s'", name);
	}
	w->name = xstrdup(stmt_text(st, 0));
	w->model_id = xstrdup(stmt_text(st, 1));
	w->peak_rps = stmt_is_null(st, 2) ? 0 : stmt_double(st, 2);
	if (!(w->peak_rps > 0) && !stmt_is_null(st, 3))
		w->peak_rps = stmt_double(st, 3);
	w->p999_total = stmt_is_null(st, 4) ? NAN : stmt_double(st, 4);
	id = stmt_int64(st, 5);
	stmt_finalize(st);
	if (!(w->peak_rps > 0))
		return error("workload '%s' has no arrival rate (import it from timestamped "
			     "requests, or a buckets file with period or peak_rps columns)", name);
	if (load_model_arch(db, w->model_id, &w->arch))
		return -1;

	return load_workload_buckets(db, id, name, &w->buckets, &w->nbuckets);
}

/* Is `id` in the comma-separated list (NULL: every GPU)? */
static int listed(const char *list, const char *id)
{
	size_t n = strlen(id);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, id, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/*
 * The candidate GPUs with their newest on-demand price. --gpus names are
 * resolved as everywhere else (exact id, case, unique prefix).
 */
static int load_gpus(struct db *db, const char *gpus_opt, struct plan_gpu **out, int *nout)
{
	struct strbuf want = STRBUF_INIT, unpriced = STRBUF_INIT;
	struct stmt *st = NULL;
	int r, ret = -1;

	*out = NULL;
	*nout = 0;
	if (gpus_opt) {
		char *copy = xstrdup(gpus_opt), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char *id = lookup_gpu(db, t);
			if (!id) {
				free(copy);
				goto cleanup;
			}
			strbuf_addf(&want, "%s%s", want.len ? "," : "", id);
			free(id);
		}
		free(copy);
		if (!want.len) {
			error("--gpus: expected one or more GPU ids separated by commas");
			goto cleanup;
		}
	}
	st = db_prepare(db,
		"SELECT g.id,"
		"       (SELECT usd_per_gpu_hour FROM gpu_price p WHERE p.gpu_id = g.id"
		"          AND p.pricing = 'on-demand' ORDER BY as_of_date DESC LIMIT 1)"
		"  FROM gpu g ORDER BY g.id");
	if (!st)
		goto cleanup;
	while ((r = stmt_step(st)) == 1) {
		const char *id = stmt_text(st, 0);
		if (want.len && !listed(want.buf, id))
			continue;
		if (stmt_is_null(st, 1)) {
			strbuf_addf(&unpriced, "%s%s", unpriced.len ? ", " : "", id);
			continue;
		}
		*out = xrealloc(*out, (size_t)(*nout + 1) * sizeof(**out));
		struct plan_gpu *g = &(*out)[*nout];
		memset(g, 0, sizeof(*g));	/* nothing owned: plan prices every GPU */
		g->usd_per_gpu_hour = stmt_double(st, 1);
		char *gid = xstrdup(id);
		int bad = load_gpu_spec(db, gid, &g->spec);
		free(gid);
		if (bad)
			goto cleanup;
		(*nout)++;
	}
	if (r < 0)
		goto cleanup;
	if (unpriced.len)
		warning("no on-demand price for %s: left out (add one with 'piqplan price add')",
			unpriced.buf);
	if (*nout == 0) {
		error("no candidate GPU has an on-demand price");
		goto cleanup;
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	strbuf_release(&want);
	strbuf_release(&unpriced);
	return ret;
}

static int current_quarter(void)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	return (tm.tm_year + 1900) * 4 + tm.tm_mon / 3;
}

/* Distinct reasons among the infeasible candidates, most frequent first. */
struct reason_count {
	const char *reason;
	int count;
};

/* The part of a reason that does not vary with the figures: up to the first digit. */
static size_t reason_stem(const char *s)
{
	size_t n = strcspn(s, "0123456789");
	return n > 0 ? n : strlen(s);
}

static int collect_reasons(const struct candidate *c, int n, struct reason_count *rc, int max)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (c[i].fits)
			continue;
		size_t stem = reason_stem(c[i].reason);
		int j;
		for (j = 0; j < k; j++)
			if (reason_stem(rc[j].reason) == stem && !strncmp(rc[j].reason, c[i].reason,
									  stem))
				break;
		if (j < k) {
			rc[j].count++;
		} else if (k < max) {
			rc[k].reason = c[i].reason;
			rc[k++].count = 1;
		}
	}
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && rc[j].count > rc[j - 1].count; j--) {
			struct reason_count t = rc[j];
			rc[j] = rc[j - 1];
			rc[j - 1] = t;
		}
	return k;
}

static void layout_text(const struct layout *l, char *buf, size_t n)
{
	snprintf(buf, n, "%d/%d/%d/%s", l->tp, l->pp, l->dp, l->ep ? "ep" : "-");
}

static int plan_run(struct ctx *ctx, int argc, char **argv)
{
	const char *gpus_opt = NULL, *engine_name = "vllm";
	double ttft_ms = DEFAULT_TTFT_MS, tpot_ms = DEFAULT_TPOT_MS;
	double util = DEFAULT_UTILIZATION;
	int64_t top = DEFAULT_TOP;
	int json = 0, npos, ret = -1, ncand = 0, nfit = 0;
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
	struct plan_input w;
	struct plan_gpu *gpus = NULL;
	int ngpus = 0;
	struct engine_profile e;
	struct pool_traffic pool[2];
	struct plan_params p;
	struct candidate *c = NULL;

	memset(&w, 0, sizeof(w));
	if (opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return usage_error(ctx);
	if (!(ttft_ms > 0) || !(tpot_ms > 0) || !(util > 0 && util <= 1) || top < 1) {
		error("--ttft-ms and --tpot-ms must be positive, --utilization in (0, 1],"
		      " --top at least 1");
		return usage_error(ctx);
	}
	if (load_input(ctx->db, pos[0], &w) || load_engine_profile(ctx->db, engine_name, &e) ||
	    load_gpus(ctx->db, gpus_opt, &gpus, &ngpus))
		goto cleanup;

	plan_pools(w.buckets, w.nbuckets, 0, w.p999_total, w.arch.max_context_tokens, pool);
	memset(&p, 0, sizeof(p));
	p.slo.ttft_s = ttft_ms / 1e3;
	p.slo.tpot_s = tpot_ms / 1e3;
	p.slo.utilisation = util;
	p.redundancy = 0;
	p.start_quarter = current_quarter();
	p.quarters = 1;
	p.demand_rps[0] = w.peak_rps;
	p.allow_fp8 = 1;
	ncand = plan_pool(&w.arch, gpus, ngpus, &e, &pool[0], &p, &c);
	if (ncand < 0) {
		error("out of memory planning workload '%s'", w.name);
		goto cleanup;
	}
	qsort(c, (size_t)ncand, sizeof(*c), by_usd_per_token);
	for (int i = 0; i < ncand; i++)
		nfit += c[i].fits;

	struct reason_count rc[MAX_REASONS];
	int nrc = collect_reasons(c, ncand, rc, MAX_REASONS);
	int shown = nfit < top ? nfit : (int)top;
	char lay[32];

	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "workload", w.name);
		cJSON_AddStringToObject(o, "model", w.model_id);
		cJSON_AddStringToObject(o, "engine", e.id);
		cJSON_AddNumberToObject(o, "peak_rps", w.peak_rps);
		cJSON_AddNumberToObject(o, "isl", pool[0].isl);
		cJSON_AddNumberToObject(o, "osl", pool[0].osl);
		cJSON_AddNumberToObject(o, "max_model_len", (double)pool[0].max_model_len);
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
						usd_per_m_output(k, pool[0].osl));
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
		printf("workload %s: %s, peak %.3g req/s, mean %.0f + %.0f tokens, "
		       "max_model_len %lld\n", w.name, w.model_id, w.peak_rps, pool[0].isl,
		       pool[0].osl, (long long)pool[0].max_model_len);
		printf("engine %s, SLOs TTFT %.0f ms, TPOT %.0f ms, utilization %.2f; "
		       "%d candidates evaluated, %d feasible\n\n", e.id, ttft_ms, tpot_ms, util,
		       ncand, nfit);
		if (shown > 0)
			printf("%-3s %-16s %-11s %-6s %4s %7s %6s %9s %8s %7s %6s %9s\n", "#", "gpu",
			       "tp/pp/dp/ep", "prec", "gpus", "mml", "seqs", "kv_tok", "req/s",
			       "ttft", "tpot", "usd/Mtok");
		for (int i = 0; i < shown; i++) {
			const struct candidate *k = &c[i];
			layout_text(&k->inst.layout, lay, sizeof(lay));
			printf("%-3d %-16.16s %-11s %-6s %4d %7lld %6d %9lld %8.3g %5.0fms %4.0fms"
			       " %9.3f\n", i + 1, gpus[k->gpu].spec.id, lay,
			       precision_name(k->inst.layout.precision), k->inst.gpus,
			       (long long)k->inst.max_model_len, k->inst.max_num_seqs,
			       (long long)k->inst.kv_tokens, k->rate_rps, k->at.ttft_s * 1e3,
			       k->at.tpot_s * 1e3, usd_per_m_output(k, pool[0].osl));
		}
		if (shown > 0) {
			char *args = vllm_args_alloc(&c[0].inst, &w.arch, w.model_id);
			printf("\nbest: vllm serve %s\n", args);
			free(args);
		} else {
			printf("no candidate meets the SLOs\n");
		}
		if (nrc > 0) {
			printf("\ninfeasible (%d):\n", ncand - nfit);
			for (int i = 0; i < nrc; i++)
				printf("  %4d x %s\n", rc[i].count, rc[i].reason);
		}
	}
	ret = 0;
cleanup:
	free(c);
	free(gpus);
	free(w.buckets);
	free(w.name);
	free(w.model_id);
	return ret;
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
