/*
 * catalog.c - loading the embedded seeds (GPUs, prices, engine profiles,
 * Hugging Face configs) into the database, inserting models, prices and
 * clusters.
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/catalog.h"
#include "lib/csvrows.h"
#include "lib/util.h"
#include "planner/model.h"
#include "schema/db.h"
#include "schema/embedded.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0

static const struct embedded_file *seed_table(const char *name)
{
	for (const struct embedded_file *f = seed_tables; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	die("seed table '%s' missing from the binary", name);
}

int price_date_normalise(const char *s, char out[11])
{
	size_t n = strlen(s);
	for (size_t i = 0; i < 4; i++)
		if (n < 4 || !isdigit((unsigned char)s[i]))
			return -1;
	int month = 1, day = 1;
	if (n == 4) {
		;
	} else if (n == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q') && s[6] >= '1' && s[6] <= '4') {
		month = 3 * (s[6] - '1') + 1;
	} else if (n == 7 && s[4] == '-' && isdigit((unsigned char)s[5]) && isdigit((unsigned char)s[6])) {
		month = atoi(s + 5);
	} else if (n == 10 && s[4] == '-' && s[7] == '-' && isdigit((unsigned char)s[5]) &&
		   isdigit((unsigned char)s[6]) && isdigit((unsigned char)s[8]) &&
		   isdigit((unsigned char)s[9])) {
		month = atoi(s + 5);
		day = atoi(s + 8);
	} else {
		return -1;
	}
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year = atoi(s), leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] ||
	    (month == 2 && day == 29 && !leap))
		return -1;
	snprintf(out, 11, "%.4s-%02u-%02u", s, (unsigned)month % 100u, (unsigned)day % 100u);
	return 0;
}

/* State shared by the row callbacks of one seed table. */
struct seed_load {
	struct db *db;
	struct stmt *st;
	const char *file;
	char **header;
	int ncols;
	int added;
	int failed;
};

static void header_free(struct seed_load *sl)
{
	for (int i = 0; i < sl->ncols; i++)
		free(sl->header[i]);
	free(sl->header);
	sl->header = NULL;
}

static int take_header(struct seed_load *sl, char **fields, int n)
{
	sl->header = xcalloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++)
		sl->header[i] = xstrdup(fields[i]);
	sl->ncols = n;
	return 0;
}

static const char *field(struct seed_load *sl, char **fields, const char *name)
{
	int i = csv_column(sl->header, sl->ncols, name);
	if (i < 0)
		die("seed %s has no column '%s'", sl->file, name);
	return fields[i];
}

/* A number from a seed column, scaled; an empty cell binds NULL. */
static int bind_number(struct seed_load *sl, char **fields, long line, const char *col,
		       const char *param, double scale, int required)
{
	const char *v = field(sl, fields, col);
	double d;
	if (!*v) {
		if (required)
			return error("seeds/%s:%ld: column %s: expected a number, got nothing",
				     sl->file, line, col);
		stmt_bind_null(sl->st, param);
		return 0;
	}
	if (parse_double(v, &d))
		return error("seeds/%s:%ld: column %s: expected a number, got '%s'",
			     sl->file, line, col, v);
	stmt_bind_double(sl->st, param, d * scale);
	return 0;
}

static int step_insert(struct seed_load *sl)
{
	int r = stmt_step(sl->st);
	stmt_reset(sl->st);
	if (r < 0)
		return -1;
	sl->added += (int)db_changes(sl->db);
	return 0;
}

static int gpu_row(void *arg, char **f, int n, long line)
{
	struct seed_load *sl = arg;
	if (!sl->header)
		return take_header(sl, f, n);
	if (n != sl->ncols)
		return error("seeds/%s:%ld: expected %d columns, got %d", sl->file, line, sl->ncols, n);
	struct stmt *st = sl->st;
	int64_t tdp;
	stmt_bind_text(st, ":id", field(sl, f, "id"));
	stmt_bind_text(st, ":vendor", field(sl, f, "vendor"));
	stmt_bind_text(st, ":link", field(sl, f, "link"));
	stmt_bind_text(st, ":source", field(sl, f, "source"));
	if (bind_number(sl, f, line, "memory_mib", ":memory_bytes", 1048576.0, 1) ||
	    bind_number(sl, f, line, "mem_bw_tb_s", ":bw", 1e12, 1) ||
	    bind_number(sl, f, line, "bf16_dense_tflops", ":bf16", 1e12, 1) ||
	    bind_number(sl, f, line, "fp8_dense_tflops", ":fp8", 1e12, 0) ||
	    bind_number(sl, f, line, "fp4_dense_tflops", ":fp4", 1e12, 0) ||
	    bind_number(sl, f, line, "link_gb_s_per_dir", ":link_bw", 1e9, 1) ||
	    bind_number(sl, f, line, "nvlink_domain_gpus", ":domain", 1, 1))
		return -1;
	if (parse_int64(field(sl, f, "tdp_w"), &tdp) == 0)
		stmt_bind_int64(st, ":tdp", tdp);
	else
		stmt_bind_null(st, ":tdp");
	/* Columns of schema/005_gpu_models.sql; empty cells are unknown. */
	if (bind_number(sl, f, line, "memory_torch_gib", ":torch", GIB, 0) ||
	    bind_number(sl, f, line, "scaleout_gbps_per_gpu", ":scaleout", 1e9 / 8, 0) ||
	    bind_number(sl, f, line, "gpus_per_node", ":per_node", 1, 0) ||
	    bind_number(sl, f, line, "vllm_served", ":served", 1, 0))
		return -1;
	static const struct { const char *col, *param; } texts[] = {
		{ "memory_torch_basis", ":torch_basis" }, { "form_factor", ":form" },
		{ "arch", ":arch" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		const char *v = field(sl, f, texts[i].col);
		if (*v)
			stmt_bind_text(st, texts[i].param, v);
		else
			stmt_bind_null(st, texts[i].param);
	}
	return step_insert(sl);
}

static int price_row(void *arg, char **f, int n, long line)
{
	struct seed_load *sl = arg;
	if (!sl->header)
		return take_header(sl, f, n);
	if (n != sl->ncols)
		return error("seeds/%s:%ld: expected %d columns, got %d", sl->file, line, sl->ncols, n);
	char date[11];
	const char *as_of = field(sl, f, "as_of");
	if (price_date_normalise(as_of, date))
		return error("seeds/%s:%ld: column as_of: expected a date, got '%s'",
			     sl->file, line, as_of);
	stmt_bind_text(sl->st, ":gpu", field(sl, f, "gpu"));
	stmt_bind_text(sl->st, ":pricing", field(sl, f, "pricing"));
	stmt_bind_text(sl->st, ":as_of", as_of);
	stmt_bind_text(sl->st, ":as_of_date", date);
	stmt_bind_text(sl->st, ":source", field(sl, f, "source"));
	if (bind_number(sl, f, line, "usd_per_gpu_hour", ":usd", 1, 1))
		return -1;
	return step_insert(sl);
}

static int engine_row(void *arg, char **f, int n, long line)
{
	struct seed_load *sl = arg;
	if (!sl->header)
		return take_header(sl, f, n);
	if (n != sl->ncols)
		return error("seeds/%s:%ld: expected %d columns, got %d", sl->file, line, sl->ncols, n);
	static const struct { const char *col, *param; double scale; } num[] = {
		{ "gpu_memory_utilization", ":gmu", 1 },
		{ "max_num_seqs_large", ":seqs_large", 1 },
		{ "max_num_seqs_small", ":seqs_small", 1 },
		{ "large_gpu_min_gib", ":large_min", GIB },
		{ "max_num_batched_tokens_large", ":mbt_large", 1 },
		{ "max_num_batched_tokens_small", ":mbt_small", 1 },
		{ "block_size_tokens", ":block", 1 },
		{ "non_torch_tp1_gib", ":nt1", GIB },
		{ "non_torch_tpn_gib", ":ntn", GIB },
		{ "cuda_graph_gib", ":graphs", GIB },
		{ "activation_gib_per_1k_batched_tokens_dense", ":act_dense", GIB / 1000 },
		{ "activation_gib_per_1k_batched_tokens_moe", ":act_moe", GIB / 1000 },
		{ "bw_efficiency", ":bw_eff", 1 },
		{ "flops_efficiency", ":flops_eff", 1 },
		{ "moe_efficiency_floor", ":moe_floor", 1 },
		{ "moe_tokens_per_expert_half", ":moe_half", 1 },
		{ "step_overhead_ms", ":overhead", 1 },
		{ "allreduce_alpha_us", ":alpha", 1 },
		{ "link_efficiency", ":link_eff", 1 },
		{ "attn_efficiency", ":attn", 1 },
		{ "kv_bw_efficiency", ":kv_bw", 1 },
		{ "moe_bw_efficiency", ":moe_bw", 1 },
		{ "layer_latency_us", ":layer_lat", 1 },
		{ "moe_layer_latency_us", ":moe_lat", 1 },
		{ "seq_overhead_us", ":seq_ov", 1 },
		{ "request_overhead_ms", ":req_ov", 1 },
		{ "ttft_latency_ms", ":ttft_lat", 1 },
	};
	stmt_bind_text(sl->st, ":id", field(sl, f, "engine"));
	stmt_bind_text(sl->st, ":version", field(sl, f, "version"));
	stmt_bind_text(sl->st, ":source", field(sl, f, "source"));
	stmt_bind_text(sl->st, ":fraction_of", field(sl, f, "memory_fraction_of"));
	stmt_bind_text(sl->st, ":exclude", field(sl, f, "large_gpu_exclude"));
	for (size_t i = 0; i < ARRAY_SIZE(num); i++)
		if (bind_number(sl, f, line, num[i].col, num[i].param, num[i].scale, 1))
			return -1;
	return step_insert(sl);
}

/* A published measurement piqplan ships (seeds/measurements.csv, schema 009). */
static int measurement_row(void *arg, char **f, int n, long line)
{
	struct seed_load *sl = arg;
	if (!sl->header)
		return take_header(sl, f, n);
	if (n != sl->ncols)
		return error("seeds/%s:%ld: expected %d columns, got %d", sl->file, line, sl->ncols, n);
	static const struct { const char *col, *param; int required; } num[] = {
		{ "gpus", ":gpus", 1 }, { "tp", ":tp", 1 }, { "pp", ":pp", 1 }, { "ep", ":ep", 1 },
		{ "isl", ":isl", 1 }, { "osl", ":osl", 1 }, { "osl_max", ":osl_max", 0 },
		{ "load_value", ":load_value", 0 },
		{ "output_tok_s", ":tok_s", 1 }, { "ttft_ms", ":ttft", 0 }, { "tpot_ms", ":tpot", 0 },
	};
	static const struct { const char *col, *param; } text[] = {
		{ "model", ":model" }, { "gpu", ":gpu" }, { "precision", ":precision" },
		{ "kv_dtype", ":kv_dtype" },
		{ "engine", ":engine" }, { "load", ":load" }, { "mode", ":mode" },
		{ "excluded", ":excluded" }, { "source", ":source" }, { "notes", ":notes" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(text); i++)
		stmt_bind_text(sl->st, text[i].param, field(sl, f, text[i].col));
	for (size_t i = 0; i < ARRAY_SIZE(num); i++)
		if (bind_number(sl, f, line, num[i].col, num[i].param, 1, num[i].required))
			return -1;
	return step_insert(sl);
}

/* A fitted profile piqplan ships (seeds/profiles.csv, written by scripts/calibrate). */
static int profile_row(void *arg, char **f, int n, long line)
{
	struct seed_load *sl = arg;
	if (!sl->header)
		return take_header(sl, f, n);
	if (n != sl->ncols)
		return error("seeds/%s:%ld: expected %d columns, got %d", sl->file, line, sl->ncols, n);
	static const char *const num[] = {
		"bw_efficiency", "flops_efficiency", "attn_efficiency", "kv_bw_efficiency",
		"moe_bw_efficiency",
		"layer_latency_us",
		"moe_layer_latency_us", "step_overhead_ms", "seq_overhead_us", "request_overhead_ms",
		"ttft_latency_ms",
		"rows", "rows_dense", "rows_moe", "log_p10", "log_p90", "out_of_sample",
	};
	static const char *const text[] = {
		"engine", "scope", "scope_name", "model_class", "fitted_at", "source",
	};
	char param[48];
	for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
		snprintf(param, sizeof(param), ":%s", text[i]);
		stmt_bind_text(sl->st, param, field(sl, f, text[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(num); i++) {
		snprintf(param, sizeof(param), ":%s", num[i]);
		if (bind_number(sl, f, line, num[i], param, 1, 1))
			return -1;
	}
	return step_insert(sl);
}

/*
 * A GPU already in the database keeps its row; columns added by migration
 * 005 that it lacks (NULL) are filled from the seed.
 */
static const char sql_gpu_insert[] =
	"INSERT INTO gpu (id, vendor, memory_bytes, mem_bw_bytes_per_s, bf16_flops, fp8_flops,"
	"                 fp4_flops, link_bytes_per_s, link, nvlink_domain_gpus, tdp_watts, source,"
	"                 memory_torch_bytes, memory_torch_basis, scaleout_bytes_per_s,"
	"                 gpus_per_node, form_factor, arch, vllm_served)"
	" VALUES (:id, :vendor, CAST(:memory_bytes AS INTEGER), :bw, :bf16, :fp8, :fp4, :link_bw,"
	"         :link, CAST(:domain AS INTEGER), :tdp, :source, CAST(:torch AS INTEGER),"
	"         :torch_basis, :scaleout, CAST(:per_node AS INTEGER), :form, :arch,"
	"         CAST(:served AS INTEGER))"
	" ON CONFLICT (id) DO UPDATE SET"
	"   memory_torch_bytes = coalesce(memory_torch_bytes, excluded.memory_torch_bytes),"
	"   memory_torch_basis = coalesce(memory_torch_basis, excluded.memory_torch_basis),"
	"   scaleout_bytes_per_s = coalesce(scaleout_bytes_per_s, excluded.scaleout_bytes_per_s),"
	"   gpus_per_node = coalesce(gpus_per_node, excluded.gpus_per_node),"
	"   form_factor = coalesce(form_factor, excluded.form_factor),"
	"   arch = coalesce(arch, excluded.arch),"
	"   vllm_served = coalesce(vllm_served, excluded.vllm_served)"
	" WHERE memory_torch_bytes IS NULL AND excluded.memory_torch_bytes IS NOT NULL"
	"    OR gpus_per_node IS NULL AND excluded.gpus_per_node IS NOT NULL"
	"    OR arch IS NULL AND excluded.arch IS NOT NULL";

static const char sql_price_insert[] =
	"INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date, source, origin)"
	" VALUES (:gpu, :pricing, :usd, :as_of, :as_of_date, :source, 'catalog')"
	" ON CONFLICT (gpu_id, pricing, as_of) DO UPDATE SET origin = 'catalog'"
	" WHERE origin <> 'catalog' AND usd_per_gpu_hour = excluded.usd_per_gpu_hour"
	"   AND source = excluded.source";

static const char sql_engine_insert[] =
	"INSERT INTO engine (id, version, gpu_memory_utilization, memory_fraction_of,"
	"   large_gpu_exclude, max_num_seqs_large,"
	"   max_num_seqs_small, large_gpu_min_bytes, max_num_batched_tokens_large,"
	"   max_num_batched_tokens_small, block_size_tokens, non_torch_tp1_bytes,"
	"   non_torch_tpn_bytes, cuda_graph_bytes, activation_bytes_per_token_dense,"
	"   activation_bytes_per_token_moe, bw_efficiency, flops_efficiency, moe_efficiency_floor,"
	"   moe_tokens_per_expert_half, step_overhead_ms, allreduce_alpha_us, link_efficiency, source,"
	"   attn_efficiency, kv_bw_efficiency, moe_bw_efficiency, layer_latency_us,"
	"   moe_layer_latency_us, seq_overhead_us, request_overhead_ms, ttft_latency_ms)"
	" VALUES (:id, :version, :gmu, :fraction_of, :exclude, CAST(:seqs_large AS INTEGER), CAST(:seqs_small AS INTEGER),"
	"   CAST(:large_min AS INTEGER), CAST(:mbt_large AS INTEGER), CAST(:mbt_small AS INTEGER),"
	"   CAST(:block AS INTEGER), CAST(:nt1 AS INTEGER), CAST(:ntn AS INTEGER),"
	"   CAST(:graphs AS INTEGER), :act_dense, :act_moe, :bw_eff, :flops_eff, :moe_floor,"
	"   :moe_half, :overhead, :alpha, :link_eff, :source, :attn, :kv_bw, :moe_bw, :layer_lat,"
	"   :moe_lat, :seq_ov, :req_ov, :ttft_lat)"
	/* An engine row from before schema 009 gets the new starting values. */
	" ON CONFLICT (id) DO UPDATE SET"
	"   attn_efficiency = excluded.attn_efficiency,"
	"   kv_bw_efficiency = excluded.kv_bw_efficiency,"
	"   moe_bw_efficiency = excluded.moe_bw_efficiency,"
	"   layer_latency_us = excluded.layer_latency_us,"
	"   moe_layer_latency_us = excluded.moe_layer_latency_us,"
	"   seq_overhead_us = excluded.seq_overhead_us,"
	"   request_overhead_ms = excluded.request_overhead_ms,"
	"   ttft_latency_ms = excluded.ttft_latency_ms"
	" WHERE moe_bw_efficiency IS NULL";

static const char sql_measurement_insert[] =
	"INSERT INTO measurement (origin, model_id, gpu_id, gpus, tp, pp, ep, precision, kv_dtype,"
	"   engine, isl_tokens, osl_tokens, osl_max_tokens, load, load_value, output_tok_s, ttft_ms, tpot_ms,"
	"   mode, excluded, source, notes)"
	" VALUES ('seed', :model, :gpu, CAST(:gpus AS INTEGER), CAST(:tp AS INTEGER),"
	"   CAST(:pp AS INTEGER), CAST(:ep AS INTEGER), :precision,"
	"   coalesce(nullif(:kv_dtype, ''), 'auto'), :engine, :isl, :osl, :osl_max, :load,"
	"   :load_value, :tok_s, :ttft, :tpot, coalesce(nullif(:mode, ''), 'standard'),"
	"   nullif(:excluded, ''), :source, :notes)"
	" ON CONFLICT DO NOTHING";

static const char sql_profile_insert[] =
	"INSERT INTO engine_profile (engine_id, scope, scope_name, model_class, bw_efficiency,"
	"   flops_efficiency, attn_efficiency, kv_bw_efficiency, moe_bw_efficiency,"
	"   layer_latency_us,"
	"   moe_layer_latency_us,"
	"   step_overhead_ms, seq_overhead_us, request_overhead_ms, ttft_latency_ms, rows, rows_dense, rows_moe,"
	"   log_p10, log_p90, out_of_sample, fitted_at, source)"
	" VALUES (:engine, :scope, :scope_name, :model_class, :bw_efficiency, :flops_efficiency,"
	"   :attn_efficiency, :kv_bw_efficiency, :moe_bw_efficiency, :layer_latency_us, :moe_layer_latency_us, :step_overhead_ms,"
	"   :seq_overhead_us, :request_overhead_ms, :ttft_latency_ms, CAST(:rows AS INTEGER),"
	"   CAST(:rows_dense AS INTEGER), CAST(:rows_moe AS INTEGER), :log_p10, :log_p90,"
	"   CAST(:out_of_sample AS INTEGER), :fitted_at, :source)"
	/* A database's own fit (piqplan calibrate) is never overwritten by the seed. */
	" ON CONFLICT DO NOTHING";

static int load_table(struct db *db, const char *file, const char *sql, csvrow_fn fn, int *added)
{
	const struct embedded_file *seed = seed_table(file);
	struct seed_load sl = { .db = db, .file = file };
	char err[200];
	long line = 0;
	int ret = -1;

	sl.st = db_prepare(db, sql);
	if (!sl.st)
		goto cleanup;
	int r = csvrows_parse(seed->data, seed->len, fn, &sl, err, sizeof(err), &line);
	if (r == -1 && line > 0) {
		error("seeds/%s:%ld: %s", file, line, err);
		goto cleanup;
	}
	if (r != 0)
		goto cleanup;
	*added = sl.added;
	ret = 0;
cleanup:
	header_free(&sl);
	stmt_finalize(sl.st);
	return ret;
}

char *model_id_from_filename(const char *name)
{
	const char *sep = strstr(name, "--");
	size_t n = strlen(name);
	if (n > 5 && !strcmp(name + n - 5, ".json"))
		n -= 5;
	if (!sep || (size_t)(sep - name) >= n)
		return xstrndup(name, n);
	return xasprintf("%.*s/%.*s", (int)(sep - name), name,
			 (int)(n - (size_t)(sep - name) - 2), sep + 2);
}

int model_id_valid(const char *id)
{
	return id[0] && id[0] != '-';
}

/* The largest list anywhere in v, and the layer counts it declares; -1 on a count past the limit. */
static int check_config_value(const cJSON *v, const char *what)
{
	const cJSON *c;
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > MODEL_MAX_LIST)
		return data_error("%s: expected lists of at most %d entries, found one of %d ('%s')",
				  what, MODEL_MAX_LIST, cJSON_GetArraySize(v),
				  v->string ? v->string : "?");
	if (cJSON_IsObject(v)) {
		const cJSON *layers = cJSON_GetObjectItemCaseSensitive(v, "num_hidden_layers");
		if (cJSON_IsNumber(layers) && !(layers->valuedouble <= MODEL_MAX_LAYERS))
			return data_error("%s: field 'num_hidden_layers' must be at most %d, found %.17g",
					  what, MODEL_MAX_LAYERS, layers->valuedouble);
	}
	cJSON_ArrayForEach(c, v)
		if (check_config_value(c, what))
			return -1;
	return 0;
}

int model_config_check(const char *json, size_t len, const char *what)
{
	const char *end = NULL;
	if (len > MODEL_CONFIG_MAX_BYTES)
		return data_error("%s: expected a JSON file of at most %u bytes, found %zu",
				  what, MODEL_CONFIG_MAX_BYTES, len);
	/* Read as model_arch_parse reads it: Python's Infinity and NaN as numbers. */
	char *text = xmalloc(len + 1);
	memcpy(text, json, len);
	text[len] = '\0';
	model_json_strictify(text, len);
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	int ret = 0;
	if (doc) {
		while (end && end < text + len && strchr(" \t\r\n", *end))
			end++;
		if (end != text + len)
			ret = data_error("%s: expected one JSON object, found more text after it "
					 "(at byte %zu)", what, (size_t)(end - text));
		else
			ret = check_config_value(doc, what);
	}	/* else model_arch_parse says what is wrong with it */
	cJSON_Delete(doc);
	free(text);
	return ret;
}

int catalog_add_model(struct db *db, const char *id, const char *json, size_t len,
		      const char *quant, size_t qlen, const char *source,
		      enum model_insert_mode mode, const char *what)
{
	struct model_arch *m = xcalloc(1, sizeof(*m));
	struct model_params p;
	struct model_kv kv;
	char err[256], mix[128], native[256];
	char *strict = NULL;
	struct stmt *st = NULL;
	int ret = -1;

	if (!model_id_valid(id)) {
		ret = data_error("model id '%s' starts with '-': vllm serve would read it as an "
				 "option", id);
		goto cleanup;
	}
	if (model_config_check(json, len, what) || (quant && model_config_check(quant, qlen, what)))
		goto cleanup;
	if (model_arch_parse_quant(json, len, quant, qlen, m, err, sizeof(err))) {
		ret = data_error("%s: %s", what, err);
		goto cleanup;
	}
	if (strlen(json) != len || (quant && strlen(quant) != qlen)) {
		ret = data_error("%s: NUL byte inside the JSON text", what);
		goto cleanup;
	}
	model_params_count(m, &p);
	model_layer_mix(m, mix, sizeof(mix));
	model_native_format(m, native, sizeof(native));
	model_kv_terms(m, m->ckpt.kv_fp8 ? 1 : 2, 1, 0, m->layers, &kv);
	/* config_json must be strict JSON; config_text keeps Python's Infinity verbatim. */
	strict = xstrndup(json, len);
	int relaxed = model_json_strictify(strict, len);

	st = db_prepare(db, "SELECT 1 FROM model WHERE id = :id");
	if (!st)
		goto cleanup;
	stmt_bind_text(st, ":id", id);
	int exists = stmt_step_once(st);
	stmt_finalize(st);
	st = NULL;
	if (exists < 0)
		goto cleanup;
	if (exists && mode == MODEL_FAIL_EXISTING) {
		error("model '%s' already exists (use --replace to overwrite it)", id);
		goto cleanup;
	}

	/*
	 * A seed already there keeps its row; one written before migration 005
	 * (no layer_mix) and still holding this very config gets its derived
	 * columns recomputed.
	 */
	int refresh = exists && mode == MODEL_SKIP_EXISTING;
	st = db_prepare(db, refresh ?
		"UPDATE model SET model_type = :type, attention = :attention, layers = :layers,"
		"   hidden_size = :hidden, total_params = :total, active_params = :active,"
		"   experts = :experts, experts_per_token = :k, kv_bytes_per_token = :kv,"
		"   max_context_tokens = :ctx, native_format = :native, layer_mix = :mix,"
		"   kv_growth_bytes_per_token = :growth, window_tokens = :window,"
		"   state_bytes_per_seq = :state, indexer_bytes_per_token = :indexer,"
		"   seq_bytes_1m = :seq1m, mtp_layers = :mtp, quant_method = :qmethod,"
		"   quant_config_json = coalesce(quant_config_json, :qjson), note = :note,"
		"   config_text = coalesce(config_text, :text)"
		" WHERE id = :id AND layer_mix IS NULL AND config_json = :json AND source = :source" :
		"INSERT OR REPLACE INTO model (id, model_type, attention, layers, hidden_size,"
		"   total_params, active_params, experts, experts_per_token, kv_bytes_per_token,"
		"   max_context_tokens, native_format, config_json, source, layer_mix,"
		"   kv_growth_bytes_per_token, window_tokens, state_bytes_per_seq,"
		"   indexer_bytes_per_token, seq_bytes_1m, mtp_layers, quant_method,"
		"   quant_config_json, note, config_text)"
		" VALUES (:id, :type, :attention, :layers, :hidden, :total, :active, :experts, :k,"
		"   :kv, :ctx, :native, :json, :source, :mix, :growth, :window, :state, :indexer,"
		"   :seq1m, :mtp, :qmethod, :qjson, :note, :text)");
	if (!st)
		goto cleanup;
	stmt_bind_text(st, ":id", id);
	stmt_bind_text(st, ":type", m->model_type);
	stmt_bind_text(st, ":attention", attn_kind_name(m->attention));
	stmt_bind_int64(st, ":layers", m->layers);
	stmt_bind_int64(st, ":hidden", m->hidden);
	stmt_bind_int64(st, ":total", p.total);
	stmt_bind_int64(st, ":active", p.active);
	stmt_bind_int64(st, ":experts", m->experts);
	stmt_bind_int64(st, ":k", m->experts_per_token);
	stmt_bind_int64(st, ":kv", model_kv_bytes_per_token(m, m->ckpt.kv_fp8 ? 1 : 2));
	stmt_bind_int64(st, ":ctx", m->max_context_tokens);
	stmt_bind_text(st, ":native", native);
	stmt_bind_text(st, ":json", strict);
	stmt_bind_text(st, ":source", source);
	stmt_bind_text(st, ":mix", mix);
	stmt_bind_double(st, ":growth", model_kv_growth_bytes_per_token(&kv));
	if (model_kv_window_tokens(&kv) > 0)
		stmt_bind_int64(st, ":window", (int64_t)model_kv_window_tokens(&kv));
	else
		stmt_bind_null(st, ":window");
	stmt_bind_int64(st, ":state", (int64_t)kv.state_bytes_per_seq);
	stmt_bind_double(st, ":indexer", model_kv_category_bytes(&kv, KV_INDEXER));
	stmt_bind_int64(st, ":seq1m", (int64_t)model_kv_seq_bytes(&kv, 1048576.0));
	stmt_bind_int64(st, ":mtp", m->mtp_layers);
	if (m->ckpt.quant_method[0])
		stmt_bind_text(st, ":qmethod", m->ckpt.quant_method);
	else
		stmt_bind_null(st, ":qmethod");
	if (quant) {
		char *q = xstrndup(quant, qlen);
		model_json_strictify(q, qlen);
		stmt_bind_text(st, ":qjson", q);
		free(q);
	} else {
		stmt_bind_null(st, ":qjson");
	}
	if (m->note[0])
		stmt_bind_text(st, ":note", m->note);
	else
		stmt_bind_null(st, ":note");
	if (relaxed)
		stmt_bind_text(st, ":text", json);
	else
		stmt_bind_null(st, ":text");
	if (stmt_step(st) < 0) {
		set_failure_status(EXIT_DATA);
		goto cleanup;
	}
	if (refresh) {
		ret = 0;
		goto cleanup;
	}
	if (m->note[0])
		warning("%s: %s", what, m->note);
	ret = 1;
cleanup:
	stmt_finalize(st);
	free(strict);
	free(m);
	return ret;
}

/* The seed "ORG--NAME.hf_quant_config.json" beside "ORG--NAME.json", or NULL. */
static const struct embedded_file *seed_quant_config(const char *model_file)
{
	size_t n = strlen(model_file);
	for (const struct embedded_file *f = seed_models; f->name; f++) {
		size_t fn = strlen(f->name);
		if (n > 5 && fn == n - 5 + strlen(".hf_quant_config.json") &&
		    !strncmp(f->name, model_file, n - 5) &&
		    !strcmp(f->name + n - 5, ".hf_quant_config.json"))
			return f;
	}
	return NULL;
}

static int is_quant_config(const char *name)
{
	size_t n = strlen(name), s = strlen(".hf_quant_config.json");
	return n > s && !strcmp(name + n - s, ".hf_quant_config.json");
}

int catalog_load(struct db *db, struct catalog_counts *added)
{
	memset(added, 0, sizeof(*added));
	if (load_table(db, "gpus.csv", sql_gpu_insert, gpu_row, &added->gpus) ||
	    load_table(db, "prices.csv", sql_price_insert, price_row, &added->prices) ||
	    load_table(db, "engines.csv", sql_engine_insert, engine_row, &added->engines) ||
	    load_table(db, "measurements.csv", sql_measurement_insert, measurement_row,
		       &added->measurements))
		return -1;
	/* Shipped profiles only where this database has none of its own fit. */
	int own = 0;
	struct stmt *st = db_prepare(db, "SELECT count(*) FROM engine_profile");
	if (!st || stmt_step_once(st) < 0) {
		stmt_finalize(st);
		return -1;
	}
	own = (int)stmt_int64(st, 0);
	stmt_finalize(st);
	if (!own && load_table(db, "profiles.csv", sql_profile_insert, profile_row,
			       &added->profiles))
		return -1;
	for (const struct embedded_file *f = seed_models; f->name; f++) {
		if (is_quant_config(f->name))
			continue;
		const struct embedded_file *q = seed_quant_config(f->name);
		char *id = model_id_from_filename(f->name);
		char *source = xasprintf("https://huggingface.co/%s/blob/main/config.json "
					 "(shipped verbatim as seeds/models/%s%s%s)", id, f->name,
					 q ? " with " : "", q ? q->name : "");
		char *what = xasprintf("seeds/models/%s", f->name);
		int r = catalog_add_model(db, id, f->data, f->len, q ? q->data : NULL,
					  q ? q->len : 0, source, MODEL_SKIP_EXISTING, what);
		free(what);
		free(source);
		free(id);
		if (r < 0)
			return -1;
		added->models += r;
	}
	return 0;
}

int price_insert(struct db *db, const char *gpu, const char *pricing, double usd_per_gpu_hour,
	      const char *as_of, const char *date, const char *source)
{
	struct stmt *st = db_prepare(db,
		"INSERT INTO gpu_price (gpu_id, pricing, usd_per_gpu_hour, as_of, as_of_date, source,"
		"                       origin)"
		" VALUES (:gpu, :pricing, :usd, :as_of, :date, :source, 'user')"
		" ON CONFLICT (gpu_id, pricing, as_of) DO UPDATE SET"
		"   usd_per_gpu_hour = excluded.usd_per_gpu_hour, source = excluded.source,"
		"   origin = 'user'");
	if (!st)
		return -1;
	stmt_bind_text(st, ":gpu", gpu);
	stmt_bind_text(st, ":pricing", pricing);
	stmt_bind_double(st, ":usd", usd_per_gpu_hour);
	stmt_bind_text(st, ":as_of", as_of);
	stmt_bind_text(st, ":date", date);
	stmt_bind_text(st, ":source", source);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int cluster_insert(struct db *db, const char *name, const char *gpu, int64_t gpus,
		const char *pricing, double usd_per_gpu_hour, const char *from_quarter)
{
	struct stmt *st = db_prepare(db, "SELECT 1 FROM cluster WHERE name = :name");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	int exists = stmt_step_once(st);
	stmt_finalize(st);
	if (exists) {
		if (exists > 0)
			error("cluster '%s' already exists", name);
		return -1;
	}
	st = db_prepare(db,
		"INSERT INTO cluster (name, gpu_id, gpus, pricing, usd_per_gpu_hour, from_quarter)"
		" VALUES (:name, :gpu, :gpus, :pricing, :usd, upper(:from))");
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	stmt_bind_text(st, ":gpu", gpu);
	stmt_bind_int64(st, ":gpus", gpus);
	stmt_bind_text(st, ":pricing", pricing);
	if (!isnan(usd_per_gpu_hour))
		stmt_bind_double(st, ":usd", usd_per_gpu_hour);
	else
		stmt_bind_null(st, ":usd");
	stmt_bind_text(st, ":from", from_quarter);
	int r = stmt_step(st);
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int cluster_delete(struct db *db, const char *name)
{
	struct stmt *st = db_prepare(db, "DELETE FROM cluster WHERE name = :name");
	int ret = -1;
	if (!st)
		return -1;
	stmt_bind_text(st, ":name", name);
	if (stmt_step(st) < 0)
		goto cleanup;
	if (db_changes(db) == 0) {
		error("unknown cluster '%s'", name);
		goto cleanup;
	}
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

int cluster_owned(struct db *db, const char *gpu, const char *quarter, int64_t *gpus,
		  double *usd_per_gpu_hour, int64_t *unstated)
{
	struct stmt *st = db_prepare(db,
		"SELECT coalesce(sum(gpus), 0),"
		"       sum(gpus * usd_per_gpu_hour) / nullif(sum(CASE WHEN usd_per_gpu_hour IS NOT NULL"
		"                                                 THEN gpus END), 0),"
		"       coalesce(sum(CASE WHEN usd_per_gpu_hour IS NULL THEN gpus END), 0)"
		"  FROM cluster WHERE gpu_id = :gpu AND (from_quarter IS NULL OR from_quarter <= :q)");
	if (!st)
		return -1;
	stmt_bind_text(st, ":gpu", gpu);
	stmt_bind_text(st, ":q", quarter);
	int r = stmt_step(st);
	if (r == 1) {
		*gpus = stmt_int64(st, 0);
		*usd_per_gpu_hour = stmt_is_null(st, 1) ? NAN : stmt_double(st, 1);
		*unstated = stmt_int64(st, 2);
		/* As cluster add stores them: at most 10^7 GPUs a cluster, a price in range. */
		if (*gpus < 0 || *gpus > CLUSTER_MAX_GPUS_OWNED || *unstated < 0 || *unstated > *gpus ||
		    !(isnan(*usd_per_gpu_hour) ||
		      (*usd_per_gpu_hour >= 0 && *usd_per_gpu_hour <= PRICE_MAX_USD_PER_HOUR)))
			r = data_error("the clusters of GPU '%s' as stored: %lld GPUs at %.17g USD/GPU-hour "
				       "in %s, expected 0 to %lld at 0 to %g (was the database edited "
				       "outside piqplan?)", gpu, (long long)*gpus, *usd_per_gpu_hour,
				       quarter, (long long)CLUSTER_MAX_GPUS_OWNED, PRICE_MAX_USD_PER_HOUR);
	}
	stmt_finalize(st);
	return r == 1 ? 0 : -1;
}
