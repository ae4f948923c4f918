/*
 * listings.c - see listings.h. The queries decide what a listing shows, so
 * a column is added to a list command here and nowhere else.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/listings.h"
#include "schema/db.h"

#include <stddef.h>

/* printf(fmt, x) in SQL, but NULL (shown "-") when x is NULL. */
#define SQL_FMT(fmt, x) "CASE WHEN " x " IS NOT NULL THEN printf('" fmt "', " x ") END"

/*
 * SQL for a count in human units (671.03B, 1.03T) in a table column: x is
 * an SQL expression, pasted three times.
 */
#define SQL_HUMAN_COUNT(x) \
	"CASE WHEN " x " >= 1e12 THEN printf('%.2fT', " x " / 1e12)" \
	" WHEN " x " >= 1e9 THEN printf('%.2fB', " x " / 1e9)" \
	" WHEN " x " >= 1e6 THEN printf('%.2fM', " x " / 1e6) ELSE " x " END"

/* A statement with one text parameter bound (NULL binds NULL). */
static struct stmt *prepare_text(struct db *db, const char *sql, const char *param,
				 const char *value)
{
	struct stmt *st = db_prepare(db, sql);
	if (st)
		stmt_bind_text(st, param, value);
	return st;
}

static struct stmt *prepare_int(struct db *db, const char *sql, const char *param, int64_t value)
{
	struct stmt *st = db_prepare(db, sql);
	if (st)
		stmt_bind_int64(st, param, value);
	return st;
}

struct stmt *gpu_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
		"SELECT id, vendor, memory_bytes, mem_bw_bytes_per_s, bf16_flops, fp8_flops, fp4_flops,"
		"       link_bytes_per_s, link, nvlink_domain_gpus, tdp_watts, memory_torch_bytes,"
		"       memory_torch_basis, scaleout_bytes_per_s, gpus_per_node, form_factor, arch,"
		"       vllm_served, source"
		"  FROM gpu ORDER BY id" :
		"SELECT id AS ID, arch AS ARCH, form_factor AS FORM,"
		"       printf('%.0f GiB', memory_bytes / 1073741824.0) AS \">MEMORY\","
		"       " SQL_FMT("%.2f", "memory_torch_bytes / 1073741824.0") " AS \">TORCH GIB\","
		"       printf('%.2f', mem_bw_bytes_per_s / 1e12) AS \">HBM TB/S\","
		"       printf('%.0f', bf16_flops / 1e12) AS \">BF16 TFLOPS\","
		"       " SQL_FMT("%.0f", "fp8_flops / 1e12") " AS \">FP8 TFLOPS\","
		"       nvlink_domain_gpus AS \">NVLINK\", gpus_per_node AS \">NODE\","
		"       " SQL_FMT("%.0f", "scaleout_bytes_per_s * 8 / 1e9") " AS \">NET GB/S\","
		"       CASE vllm_served WHEN 0 THEN 'no' ELSE 'yes' END AS VLLM,"
		"       (SELECT printf('%.2f (%s)', usd_per_gpu_hour, CASE WHEN basis = 'user'"
		"                 THEN 'yours, ' || as_of WHEN quotes = 1 THEN as_of"
		"                 ELSE 'median of ' || quotes END)"
		"          FROM gpu_price_current"
		"         WHERE gpu_id = gpu.id AND pricing = 'on-demand') AS \"ON-DEMAND USD/GPU-H\""
		"  FROM gpu ORDER BY id");
}

struct stmt *gpu_show_stmt(struct db *db, const char *id)
{
	return prepare_text(db,
		"SELECT id, vendor, memory_bytes, mem_bw_bytes_per_s, bf16_flops, fp8_flops, fp4_flops,"
		"       link_bytes_per_s, link, nvlink_domain_gpus, tdp_watts, memory_torch_bytes,"
		"       memory_torch_basis, scaleout_bytes_per_s, gpus_per_node, form_factor, arch,"
		"       vllm_served, source FROM gpu WHERE id = :id",
		":id", id);
}

/*
 * Whether a price row is one a plan uses (view gpu_price_current): 'yes' for
 * the user's newest, 'median' for a catalog quote inside the median's window,
 * '' for the rest. Needs gpu_price p LEFT JOIN gpu_price_current v.
 */
#define SQL_PRICE_USED \
	"CASE WHEN v.basis = 'user' AND p.origin = 'user' AND p.as_of = v.as_of THEN 'yes'" \
	"     WHEN v.basis = 'median' AND p.origin = 'catalog'" \
	"      AND p.as_of_date >= date(v.as_of_date, '-180 days') THEN 'median' ELSE '' END"
#define SQL_PRICE_JOIN \
	" FROM gpu_price p LEFT JOIN gpu_price_current v" \
	"   ON v.gpu_id = p.gpu_id AND v.pricing = p.pricing"

struct stmt *gpu_prices_stmt(struct db *db, const char *id)
{
	return prepare_text(db,
		"SELECT p.pricing, p.usd_per_gpu_hour, p.as_of, p.source, p.origin,"
		"       " SQL_PRICE_USED SQL_PRICE_JOIN
		" WHERE p.gpu_id = :id ORDER BY p.pricing, p.as_of_date DESC", ":id", id);
}

struct stmt *gpu_current_prices_stmt(struct db *db, const char *id)
{
	return prepare_text(db,
		"SELECT pricing, usd_per_gpu_hour, basis, quotes, usd_min, usd_max, as_of"
		"  FROM gpu_price_current WHERE gpu_id = :id ORDER BY pricing", ":id", id);
}

struct stmt *price_list_stmt(struct db *db, const char *gpu, int json)
{
	return prepare_text(db, json ?
		"SELECT p.gpu_id AS gpu, p.pricing, p.usd_per_gpu_hour, p.as_of, p.source, p.origin,"
		"       " SQL_PRICE_USED " AS used" SQL_PRICE_JOIN
		" WHERE :gpu IS NULL OR p.gpu_id = :gpu"
		" ORDER BY p.gpu_id, p.pricing, p.as_of_date DESC" :
		"SELECT p.gpu_id AS GPU, p.pricing AS PRICING, printf('%.3f', p.usd_per_gpu_hour)"
		"       AS \">USD/GPU-H\", p.as_of AS \"AS OF\", p.origin AS ORIGIN,"
		"       " SQL_PRICE_USED " AS USED, p.source AS SOURCE" SQL_PRICE_JOIN
		" WHERE :gpu IS NULL OR p.gpu_id = :gpu"
		" ORDER BY p.gpu_id, p.pricing, p.as_of_date DESC",
		":gpu", gpu);
}

struct stmt *model_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
		"SELECT id, model_type, attention, layers, layer_mix, total_params, active_params,"
		"       experts, experts_per_token, kv_bytes_per_token, kv_growth_bytes_per_token,"
		"       state_bytes_per_seq, seq_bytes_1m, max_context_tokens, quant_method"
		"  FROM model ORDER BY id" :
		"SELECT id AS ID, model_type AS TYPE, coalesce(layer_mix, layers) AS LAYERS,"
		"       CASE WHEN max_context_tokens >= 1048576 AND max_context_tokens % 1048576 = 0"
		"            THEN (max_context_tokens / 1048576) || 'M'"
		"            WHEN max_context_tokens >= 1024 AND max_context_tokens % 1024 = 0"
		"            THEN (max_context_tokens / 1024) || 'K'"
		"            ELSE max_context_tokens END AS \">CONTEXT\","
		"       " SQL_HUMAN_COUNT("total_params") " AS \">TOTAL\","
		"       " SQL_HUMAN_COUNT("active_params") " AS \">ACTIVE\","
		"       CASE WHEN experts > 0 THEN experts_per_token || '/' || experts END"
		"         AS \">EXPERTS\","
		"       printf('%.0f', coalesce(kv_growth_bytes_per_token, kv_bytes_per_token))"
		"         AS \">KV B/TOKEN\","
		"       CASE WHEN state_bytes_per_seq > 0"
		"            THEN printf('%.1f MiB', state_bytes_per_seq / 1048576.0) END"
		"         AS \">STATE/SEQ\","
		"       " SQL_FMT("%.2f GiB", "seq_bytes_1m / 1073741824.0") " AS \">1M-TOKEN SEQ\""
		"  FROM model ORDER BY id");
}

struct stmt *model_show_stmt(struct db *db, const char *id)
{
	return prepare_text(db, "SELECT source, native_format FROM model WHERE id = :id", ":id", id);
}

struct stmt *cluster_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
		"SELECT name, gpu_id AS gpu, gpus, pricing, usd_per_gpu_hour, from_quarter"
		"  FROM cluster ORDER BY name" :
		"SELECT name AS NAME, gpu_id AS GPU, gpus AS \">GPUS\", pricing AS PRICING,"
		"       " SQL_FMT("%.3f", "usd_per_gpu_hour") " AS \">USD/GPU-H\","
		"       coalesce(from_quarter, 'now') AS \"FROM\""
		"  FROM cluster ORDER BY name");
}

struct stmt *measurement_list_stmt(struct db *db, const char *engine, const char *gpu,
				   const char *model, int json)
{
	struct stmt *st = db_prepare(db, json ?
		"SELECT id, origin, model_id AS model, gpu_id AS gpu, gpus, tp, pp, ep, precision,"
		"       kv_dtype, engine, isl_tokens, osl_tokens, osl_max_tokens, load, load_value,"
		"       output_tok_s, ttft_ms, tpot_ms, mode, excluded, source, notes, added_at"
		"  FROM measurement"
		" WHERE (:engine IS NULL OR engine = :engine) AND (:gpu IS NULL OR gpu_id = :gpu)"
		"   AND (:model IS NULL OR model_id = :model) ORDER BY id" :
		"SELECT id AS \">ID\", origin AS ORIGIN, engine AS ENGINE,"
		"       substr(model_id, instr(model_id, '/') + 1) AS MODEL, gpu_id AS GPU,"
		"       gpus || ' (' || tp || 'x' || pp || CASE ep WHEN 1 THEN ' ep' ELSE '' END || ')'"
		"         AS LAYOUT, precision AS PREC,"
		"       printf('%.0f/%.0f', isl_tokens, osl_tokens) AS \">ISL/OSL\","
		"       load || CASE WHEN load_value IS NULL THEN '' ELSE ' ' ||"
		"         printf('%g', load_value) END AS LOAD,"
		"       " SQL_FMT("%.1f", "output_tok_s") " AS \">TOK/S\","
		"       " SQL_FMT("%.1f", "ttft_ms") " AS \">TTFT MS\","
		"       " SQL_FMT("%.2f", "tpot_ms") " AS \">TPOT MS\","
		"       mode || CASE WHEN excluded IS NULL THEN '' ELSE ' (excluded)' END AS MODE,"
		"       substr(source, 1, 60) AS SOURCE"
		"  FROM measurement"
		" WHERE (:engine IS NULL OR engine = :engine) AND (:gpu IS NULL OR gpu_id = :gpu)"
		"   AND (:model IS NULL OR model_id = :model) ORDER BY id");
	if (!st)
		return NULL;
	stmt_bind_text(st, ":engine", engine);
	stmt_bind_text(st, ":gpu", gpu);
	stmt_bind_text(st, ":model", model);
	return st;
}

struct stmt *workload_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
		"SELECT name, model_id AS model, format, requests, mean_rps, peak_rps,"
		"       prompt_tokens_mean, output_tokens_mean, total_tokens_p99, imported_at"
		"  FROM workload ORDER BY name" :
		"SELECT name AS NAME, model_id AS MODEL, format AS FORMAT, requests AS \">REQUESTS\","
		"       " SQL_FMT("%.2f", "mean_rps") " AS \">MEAN RPS\","
		"       " SQL_FMT("%.2f", "peak_rps") " AS \">PEAK RPS\","
		"       printf('%.1f', prompt_tokens_mean) AS \">PROMPT MEAN\","
		"       printf('%.1f', output_tokens_mean) AS \">OUTPUT MEAN\","
		"       " SQL_FMT("%.0f", "total_tokens_p99") " AS \">P99 TOTAL\", imported_at AS IMPORTED"
		"  FROM workload ORDER BY name");
}

struct stmt *workload_show_stmt(struct db *db, const char *name)
{
	return prepare_text(db, "SELECT * FROM workload WHERE name = :name", ":name", name);
}

struct stmt *workload_buckets_stmt(struct db *db, int64_t id)
{
	return prepare_int(db,
		"SELECT prompt_tokens_lo, prompt_tokens_hi, output_tokens_lo, output_tokens_hi,"
		"       requests, prompt_tokens_sum, output_tokens_sum"
		"  FROM workload_bucket WHERE workload_id = :id"
		" ORDER BY prompt_tokens_lo, output_tokens_lo", ":id", id);
}

struct stmt *workload_marginal_stmt(struct db *db, int64_t id, int output)
{
	return prepare_int(db, output ?
		"SELECT output_tokens_lo, output_tokens_hi, sum(requests) FROM workload_bucket"
		" WHERE workload_id = :id GROUP BY output_tokens_lo, output_tokens_hi"
		" ORDER BY output_tokens_lo, output_tokens_hi" :
		"SELECT prompt_tokens_lo, prompt_tokens_hi, sum(requests) FROM workload_bucket"
		" WHERE workload_id = :id GROUP BY prompt_tokens_lo, prompt_tokens_hi"
		" ORDER BY prompt_tokens_lo, prompt_tokens_hi", ":id", id);
}

struct stmt *scenario_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
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
		"  FROM scenario s ORDER BY s.name");
}

struct stmt *report_list_stmt(struct db *db, int json)
{
	return db_prepare(db, json ?
		"SELECT p.id, s.name AS scenario, p.run_id, p.kind, p.format,"
		"       length(CAST(p.body AS BLOB)) AS bytes, p.created_at"
		"  FROM report p JOIN run r ON r.id = p.run_id JOIN scenario s ON s.id = r.scenario_id"
		" ORDER BY p.id" :
		"SELECT p.id AS \">ID\", s.name AS SCENARIO, p.run_id AS \">RUN\", p.kind AS KIND,"
		"       p.format AS FORMAT, length(CAST(p.body AS BLOB)) AS \">BYTES\","
		"       p.created_at AS CREATED"
		"  FROM report p JOIN run r ON r.id = p.run_id JOIN scenario s ON s.id = r.scenario_id"
		" ORDER BY p.id");
}
