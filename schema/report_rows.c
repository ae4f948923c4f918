/*
 * report_rows.c - what the quarterly report shows: one SQL query per
 * section over the rows a run stored, loaded into plain tables for the
 * renderers (reports/), and the rendered bodies kept in the report table.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/report_rows.h"
#include "lib/util.h"
#include "schema/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct section_def {
	const char *id, *title, *intro, *sql;
};

/* The workloads a pool p serves, comma-separated by name. */
#define POOL_WORKLOADS \
	"(SELECT group_concat(name, ',') FROM (SELECT w.name FROM run_pool_workload pw" \
	"  JOIN workload w ON w.id = pw.workload_id WHERE pw.pool_id = p.id ORDER BY w.name))"
/* The workloads run :run planned for. */
#define RUN_WORKLOADS "(SELECT workload_id FROM run_pool_workload WHERE run_id = :run)"

/*
 * The sections, in the order the report shows them. Each query takes :run.
 * Column names are what readers see (Markdown/HTML headers, JSON keys).
 */
static const struct section_def sections[] = {
	{ "summary", "Summary: GPUs per quarter",
	  "GPUs needed (spares included) against GPUs owned, the shortfall (cumulative) and what to "
	  "order that quarter (its increase); cost is every GPU owned (at its stated rate, serving "
	  "or not) plus the shortfall at the scenario's price; token figures are at the mean rate, "
	  "and usd_per_mtok_all_in charges every GPU-hour to the output tokens. gpus_band is the "
	  "GPUs needed (spares included) at the p90 and p10 of measured / predicted throughput of "
	  "the profiles that answered (see the configurations).",
	  "SELECT c.quarter, sum(c.gpus_needed) AS gpus_needed,"
	  "       ((SELECT sum(f.gpus_lo) FROM run_fleet f WHERE f.run_id = c.run_id"
	  "          AND f.quarter = c.quarter) + sum(c.spare_gpus)) || '-' ||"
	  "       ((SELECT sum(f.gpus_hi) FROM run_fleet f WHERE f.run_id = c.run_id"
	  "          AND f.quarter = c.quarter) + sum(c.spare_gpus)) AS gpus_band,"
	  "       sum(c.spare_gpus) AS spare_gpus,"
	  "       sum(c.gpus_owned) AS gpus_owned, sum(c.shortfall) AS shortfall,"
	  "       coalesce((SELECT sum(o.gpus_to_order) FROM v_run_orders o"
	  "                  WHERE o.run_id = c.run_id AND o.quarter = c.quarter), 0) AS gpus_to_order,"
	  "       round(sum(c.cost_usd), 2) AS cost_usd,"
	  "       round(sum(c.cost_usd) / nullif(sum(c.output_tokens), 0) * 1e6, 4) AS usd_per_mtok_all_in,"
	  "       round(sum(c.compute_floor_usd), 2) AS compute_floor_usd,"
	  "       round(sum(c.cost_usd) / nullif(sum(c.compute_floor_usd), 0), 2) AS memory_tax"
	  "  FROM run_capacity c WHERE c.run_id = :run GROUP BY c.quarter ORDER BY c.quarter" },
	{ "policy", "Service levels, demand and margin",
	  "What the plan holds to: the SLOs at their percentile of requests, the demand planned for, "
	  "and the one margin policy.",
	  "SELECT 'SLO percentile' AS setting,"
	  "       'p' || printf('%g', json_extract(assumptions_json, '$.slo_percentile')) AS value"
	  "  FROM run WHERE id = :run"
	  " UNION ALL SELECT 'TTFT target', printf('%g ms at p%g, queueing included',"
	  "       json_extract(assumptions_json, '$.ttft_ms'),"
	  "       json_extract(assumptions_json, '$.slo_percentile')) FROM run WHERE id = :run"
	  " UNION ALL SELECT 'TPOT target', printf('%g ms at p%g, each request''s mean over its tokens',"
	  "       json_extract(assumptions_json, '$.tpot_ms'),"
	  "       json_extract(assumptions_json, '$.slo_percentile')) FROM run WHERE id = :run"
	  " UNION ALL SELECT 'long SLO class (a long pool''s requests)',"
	  "       printf('TTFT at most max(%g ms, %g ms per 1,000 prompt tokens)',"
	  "       json_extract(assumptions_json, '$.ttft_ms'),"
	  "       json_extract(assumptions_json, '$.long_ttft_ms_per_1k')) FROM run WHERE id = :run"
	  " UNION ALL SELECT 'demand', CASE json_extract(assumptions_json, '$.demand')"
	  "       WHEN 'mean' THEN 'the workloads'' mean request rate'"
	  "       WHEN 'peak' THEN 'the workloads'' busiest window'"
	  "       ELSE 'the ' || json_extract(assumptions_json, '$.demand') ||"
	  "            ' of the workloads'' windowed request rates' END ||"
	  "       printf(', growing %g%% a quarter; tokens and cost per token at the mean rate',"
	  "       json_extract(assumptions_json, '$.growth_pct_per_quarter')) FROM run WHERE id = :run"
	  " UNION ALL SELECT 'margin', CASE json_extract(assumptions_json, '$.margin')"
	  "       WHEN 'utilization' THEN printf('instances at most %g busy; no spare instances',"
	  "            json_extract(assumptions_json, '$.utilization'))"
	  "       WHEN 'spares' THEN printf('N+%d spare instances per GPU type across pools;"
	  " instances as busy as the SLOs allow', json_extract(assumptions_json, '$.redundancy'))"
	  "       ELSE printf('instances at most %g busy, and N+%d spare instances per GPU type',"
	  "            json_extract(assumptions_json, '$.utilization'),"
	  "            json_extract(assumptions_json, '$.redundancy')) END FROM run WHERE id = :run"
	  " UNION ALL SELECT 'max_num_seqs', 'the SLO batch: the largest running batch meeting"
	  " the TPOT target at the percentile, at most what the KV holds'" },
	{ "capacity", "Need, ownership and shortfall per GPU type",
	  "Per quarter and GPU type; listed 0 marks owned GPUs of a type the scenario does not list "
	  "(unused capacity).",
	  "SELECT quarter, gpu_id AS gpu, gpus_needed, spare_gpus, gpus_owned, shortfall, listed"
	  "  FROM run_capacity WHERE run_id = :run ORDER BY quarter, gpu_id" },
	{ "orders", "What to order, and by when",
	  "The increase of the shortfall over the previous quarter, by the quarter's first day minus "
	  "the lead time; summed, the last quarter's shortfall.",
	  "SELECT quarter, gpu, gpus_to_order, order_by FROM v_run_orders WHERE run_id = :run"
	  " ORDER BY quarter, gpu" },
	{ "demand", "Demand, instances and utilisation per pool",
	  "Per quarter, workload and pool: the workload's planned demand (growth applied) and mean "
	  "rate, its share of the pool's demand, and the pool's serving instances (spares are per "
	  "GPU type, above). Utilisation is the busy fraction of the pool's serving capacity at the "
	  "SLO batch; token rates are at the mean.",
	  "SELECT f.quarter, w.name AS workload, p.pool, f.gpu_id AS gpu,"
	  "       round(s.demand_rps, 3) AS demand_rps, round(s.mean_rps, 3) AS mean_rps,"
	  "       round(s.share, 4) AS share, round(s.input_tok_s, 1) AS input_tok_s,"
	  "       round(s.output_tok_s, 1) AS output_tok_s, f.instances, f.gpus,"
	  "       f.gpus_lo || '-' || f.gpus_hi AS gpus_band,"
	  "       round(f.utilization, 3) AS utilization"
	  "  FROM run_fleet f JOIN run_pool p ON p.id = f.pool_id"
	  "  JOIN run_fleet_share s ON s.run_id = f.run_id AND s.quarter = f.quarter"
	  "   AND s.pool_id = f.pool_id"
	  "  JOIN workload w ON w.id = s.workload_id"
	  " WHERE f.run_id = :run ORDER BY f.quarter, w.name, p.pool" },
	{ "configs", "Chosen configuration per pool",
	  "The per-instance vLLM configuration each pool runs, and the exact command line. "
	  "max_num_seqs is the SLO batch (kv_max_num_seqs what the KV would hold); ttft_ms and "
	  "tpot_ms are at slo_percentile at the sustainable rate, tpot_full_ms with every slot busy. "
	  "perf_profile is the performance profile that predicted it (engine x GPU family x model "
	  "class), perf_rows the measurements behind it, band_lo and band_hi the p10 and p90 of "
	  "measured / predicted throughput.",
	  "SELECT " POOL_WORKLOADS " AS workload, p.pool, p.slo_class, c.gpu_id AS gpu, c.tp, c.pp,"
	  "       c.dp, c.ep, c.precision, c.kv_dtype, c.gpus_per_instance, c.max_model_len,"
	  "       c.max_num_seqs, c.kv_max_num_seqs, c.max_num_batched_tokens,"
	  "       c.gpu_memory_utilization, c.kv_tokens,"
	  "       round(c.rate_rps, 3) AS rate_rps, round(c.capacity_rps, 3) AS capacity_rps,"
	  "       round(c.utilization, 3) AS utilization,"
	  "       'p' || printf('%g', c.slo_percentile) AS slo_percentile,"
	  "       round(c.ttft_ms, 1) AS ttft_ms, round(c.tpot_ms, 2) AS tpot_ms,"
	  "       round(c.tpot_full_ms, 2) AS tpot_full_ms,"
	  "       round(c.usd_per_mtok_output, 4) AS usd_per_mtok_output, c.perf_profile,"
	  "       c.perf_rows, round(c.band_lo, 2) AS band_lo, round(c.band_hi, 2) AS band_hi,"
	  "       c.perf_note, c.reason, c.vllm_args"
	  "  FROM run_config c JOIN run_pool p ON p.id = c.pool_id"
	  " WHERE c.run_id = :run AND c.chosen = 1 ORDER BY workload, p.pool" },
	{ "modes", "Serving mode per pool, and the next-best mode",
	  "The serving mode each pool's configuration runs (aggregated; fp8-kv: --kv-cache-dtype "
	  "fp8; mtp, eagle3, ngram: speculative decoding, with the draft tokens, the per-token "
	  "acceptance assumed and the tokens a step emits, (1 - a^(k+1)) / (1 - a); wide-ep: DP "
	  "attention x EP over nodes on DeepEP; disagg-prefill, disagg-decode: the two pools of a "
	  "P/D-disaggregated pair, each with the modes it adds), and the best "
	  "configuration of another mode with the GPUs it needs (busiest quarter) and what it "
	  "costs over the horizon. Prefix caching (vLLM's default) is an assumption of every "
	  "mode: prefix_hit is the share of prompt tokens the configuration's cache is assumed "
	  "to serve -- what a cache holding the KV left beside the running batch keeps of the "
	  "reuse measured with an unbounded one, freed blocks staying retention_s seconds; "
	  "no_prefix_gpus is what the pool needs planned with no hits (--prefix-hit 0).",
	  "SELECT " POOL_WORKLOADS " AS workload, p.pool, c.gpu_id AS gpu, c.mode,"
	  "       c.spec_method, c.spec_tokens, round(c.spec_acceptance, 3) AS spec_acceptance,"
	  "       round(c.spec_tokens_per_step, 3) AS tokens_per_step,"
	  "       round(c.prefix_hit, 4) AS prefix_hit,"
	  "       round(c.prefix_retention_s, 0) AS retention_s,"
	  "       (SELECT max(f.gpus) FROM run_fleet f WHERE f.run_id = c.run_id"
	  "          AND f.pool_id = c.pool_id) AS gpus,"
	  "       c.no_prefix_gpus, round(c.total_usd, 0) AS total_usd, c.next_mode,"
	  "       c.next_mode_gpus, round(c.next_mode_cost_usd, 0) AS next_mode_cost_usd,"
	  "       round(c.next_mode_cost_usd - c.total_usd, 0) AS next_mode_extra_usd"
	  "  FROM run_config c JOIN run_pool p ON p.id = c.pool_id"
	  " WHERE c.run_id = :run AND c.chosen = 1 ORDER BY workload, p.pool" },
	{ "candidates", "Runners-up and why they lost",
	  "The next candidates of each pool by total cost over the horizon, and a sample of those "
	  "that cannot work, with the reason.",
	  "SELECT " POOL_WORKLOADS " AS workload, p.pool, c.rank, c.gpu_id AS gpu, c.tp, c.pp, c.ep,"
	  "       c.precision, c.mode, c.fits, round(c.rate_rps, 3) AS rate_rps,"
	  "       round(c.total_usd, 0) AS total_usd, c.reason"
	  "  FROM run_config c JOIN run_pool p ON p.id = c.pool_id"
	  " WHERE c.run_id = :run AND c.chosen = 0 AND c.rank <= 8"
	  " ORDER BY workload, p.pool, c.rank" },
	{ "pools", "Pools, SLO classes and long-context isolation",
	  "How each model's requests were split between pools (by prompt + output tokens), the SLO "
	  "class each holds, the share max_model_len rejects, and the alternative that lost and why.",
	  "SELECT " POOL_WORKLOADS " AS workload, p.model_id AS model, p.pool, p.slo_class,"
	  "       p.min_total_tokens, p.max_total_tokens,"
	  "       round(p.request_share, 4) AS request_share,"
	  "       round(p.prompt_tokens_mean, 1) AS prompt_tokens_mean,"
	  "       round(p.output_tokens_mean, 1) AS output_tokens_mean,"
	  "       p.ttft_target_ms, p.long_ttft_ms_per_1k, p.long_class_tokens, p.max_model_len,"
	  "       p.longest_tokens, round(p.rejected_share, 6) AS rejected_share,"
	  "       round(p.shared_alternative_usd, 0) AS shared_alternative_usd,"
	  "       round(p.split_alternative_usd, 0) AS split_alternative_usd, p.threshold_choice,"
	  "       p.alternative_lost"
	  "  FROM run_pool p WHERE p.run_id = :run ORDER BY workload, p.pool" },
	{ "cost", "Cost per quarter, GPU type and source",
	  "Owned GPUs (every one, at its stated rate, serving or not) and acquired ones (the "
	  "shortfall at the scenario's price, with its date), each with the rate it pays; cost per "
	  "million input and output tokens at the mean rate (the GPU time each request spends in "
	  "prefill is charged to its input tokens, its share of decode steps to its output tokens) "
	  "and the compute floor by active parameters: 2 x active parameters x tokens / (peak "
	  "FLOP/s x MFU) priced at the same rate. Their ratio is the memory tax a model pays for "
	  "parameters it holds but does not use per token.",
	  "SELECT quarter, gpu_id AS gpu, source, gpus, gpus_in_service, pricing, usd_per_gpu_hour,"
	  "       price_as_of, hours, round(cost_usd, 2) AS cost_usd,"
	  "       round(usd_per_mtok_input, 4) AS usd_per_mtok_input,"
	  "       round(usd_per_mtok_output, 4) AS usd_per_mtok_output,"
	  "       round(compute_floor_usd, 2) AS compute_floor_usd,"
	  "       round(cost_usd / nullif(compute_floor_usd, 0), 2) AS memory_tax"
	  "  FROM run_cost WHERE run_id = :run ORDER BY quarter, gpu_id, source" },
	{ "workloads", "Workloads",
	  "The traffic each workload was measured as, and how: its mean rate, the percentiles of "
	  "its windowed rates (window_s long, over rate_windows windows) and its busiest window.",
	  "SELECT w.name AS workload, w.model_id AS model, w.format, w.requests,"
	  "       round(w.span_s / 3600, 2) AS span_hours, w.peak_window_s AS window_s,"
	  "       w.rate_windows, round(w.mean_rps, 3) AS mean_rps,"
	  "       round(w.rate_p50_rps, 3) AS rate_p50_rps, round(w.rate_p99_rps, 3) AS rate_p99_rps,"
	  "       round(w.peak_rps, 3) AS peak_rps,"
	  "       round(w.prompt_tokens_mean, 1) AS prompt_tokens_mean,"
	  "       round(w.output_tokens_mean, 1) AS output_tokens_mean,"
	  "       round(w.total_tokens_p99, 0) AS total_tokens_p99, w.total_tokens_max,"
	  "       w.independent_marginals, w.sums_estimated,"
	  "       round(w.prefix_reuse_share, 3) AS prefix_reuse_share"
	  "  FROM workload w WHERE w.id IN " RUN_WORKLOADS
	  " ORDER BY w.name" },
	{ "notes", "Risks and assumptions",
	  NULL,
	  "SELECT kind, text FROM run_note WHERE run_id = :run ORDER BY seq" },
	{ "provenance", "Provenance of the inputs",
	  "Every input the run read, with the SHA-256 of what it read.",
	  "SELECT kind, name, sha256 FROM run_input WHERE run_id = :run"
	  " UNION ALL"
	  " SELECT 'workload file', w.name || ': ' || w.source_file, w.source_sha256"
	  "   FROM workload w WHERE w.id IN " RUN_WORKLOADS
	  " ORDER BY 1, 2" },
};

static int load_section(struct db *db, int64_t run_id, const struct section_def *def,
			struct rsection *s)
{
	struct stmt *st = db_prepare(db, def->sql);
	if (!st)
		return -1;
	stmt_bind_int64(st, ":run", run_id);
	s->id = def->id;
	s->title = def->title;
	s->intro = def->intro;
	s->ncols = stmt_column_count(st);
	s->cols = xcalloc((size_t)s->ncols, sizeof(char *));
	for (int c = 0; c < s->ncols; c++)
		s->cols[c] = xstrdup(stmt_column_name(st, c));
	int r, alloc = 0;
	while ((r = stmt_step(st)) == 1) {
		if (s->nrows == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			s->cells = xrealloc(s->cells, (size_t)alloc * (size_t)s->ncols * sizeof(*s->cells));
		}
		struct rcell *row = &s->cells[(size_t)s->nrows * (size_t)s->ncols];
		for (int c = 0; c < s->ncols; c++) {
			char t = stmt_type(st, c);
			row[c].type = t == 'n' ? '-' : (t == 'i' || t == 'r') ? 'n' : 't';
			row[c].num = row[c].type == 'n' ? stmt_double(st, c) : NAN;
			row[c].text = row[c].type == '-' ? NULL : xstrdup(stmt_text(st, c));
		}
		s->nrows++;
	}
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int report_load(struct db *db, int64_t run_id, struct report *r)
{
	memset(r, 0, sizeof(*r));
	struct stmt *st = db_prepare(db,
		"SELECT s.name, coalesce(s.description, ''), r.started_at, r.piqplan_version,"
		"       r.inputs_sha256, r.candidates_evaluated, r.elapsed_ms"
		"  FROM run r JOIN scenario s ON s.id = r.scenario_id WHERE r.id = :run");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":run", run_id);
	int rc = stmt_step(st);
	if (rc != 1) {
		stmt_finalize(st);
		return rc == 0 ? error("unknown run %lld", (long long)run_id) : -1;
	}
	r->run_id = run_id;
	r->scenario = xstrdup(stmt_text(st, 0));
	r->description = xstrdup(stmt_text(st, 1));
	r->started_at = xstrdup(stmt_text(st, 2));
	r->version = xstrdup(stmt_text(st, 3));
	r->inputs_sha256 = xstrdup(stmt_text(st, 4));
	r->candidates_evaluated = stmt_int64(st, 5);
	r->elapsed_ms = stmt_double(st, 6);
	stmt_finalize(st);

	r->sections = xcalloc(ARRAY_SIZE(sections), sizeof(*r->sections));
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		r->nsections++;
		if (load_section(db, run_id, &sections[i], &r->sections[i])) {
			report_free(r);
			return -1;
		}
	}
	return 0;
}

void report_free(struct report *r)
{
	for (int i = 0; i < r->nsections; i++) {
		struct rsection *s = &r->sections[i];
		for (int c = 0; c < s->ncols; c++)
			free(s->cols[c]);
		free(s->cols);
		for (size_t k = 0; k < (size_t)s->nrows * (size_t)s->ncols; k++)
			free(s->cells[k].text);
		free(s->cells);
	}
	free(r->sections);
	free(r->scenario);
	free(r->description);
	free(r->started_at);
	free(r->version);
	free(r->inputs_sha256);
	memset(r, 0, sizeof(*r));
}

const struct rsection *report_section(const struct report *r, const char *id)
{
	for (int i = 0; i < r->nsections; i++)
		if (!strcmp(r->sections[i].id, id))
			return &r->sections[i];
	return NULL;
}

const struct rcell *rsection_cell(const struct rsection *s, int row, const char *col)
{
	for (int c = 0; c < s->ncols; c++)
		if (!strcmp(s->cols[c], col))
			return &s->cells[(size_t)row * (size_t)s->ncols + (size_t)c];
	return NULL;
}

int report_insert(struct db *db, int64_t run_id, const char *format, const char *body)
{
	struct stmt *st = db_prepare(db,
		"INSERT INTO report (run_id, kind, format, body) VALUES (:run, 'quarterly', :f, :body)");
	if (!st)
		return -1;
	stmt_bind_int64(st, ":run", run_id);
	stmt_bind_text(st, ":f", format);
	stmt_bind_text(st, ":body", body);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}
