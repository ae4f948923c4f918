/*
 * load.c - catalog rows into planner structs (see load.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/load.h"
#include "lib/util.h"
#include "planner/calibrate.h"
#include "planner/instance.h"
#include "planner/workload.h"
#include "schema/db.h"

#include <stdio.h>
#include <string.h>

static void copy_text(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

int load_gpu_spec(struct db *db, const char *id, struct gpu_spec *out)
{
	int ret = -1, r;
	struct stmt *st = db_prepare(db,
		"SELECT id, memory_bytes, mem_bw_bytes_per_s, bf16_flops, fp8_flops, fp4_flops,"
		"       link_bytes_per_s, nvlink_domain_gpus, memory_torch_bytes,"
		"       scaleout_bytes_per_s, gpus_per_node, form_factor, arch, vllm_served, vendor"
		"  FROM gpu WHERE id = :id");

	if (!st)
		return -1;
	stmt_bind_text(st, ":id", id);
	r = stmt_step(st);
	if (r < 0)
		goto cleanup;
	if (r == 0) {
		error("unknown GPU '%s'", id);
		goto cleanup;
	}
	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), stmt_text(st, 0));
	out->memory_bytes = (double)stmt_int64(st, 1);
	out->mem_bw_bytes_per_s = stmt_double(st, 2);
	out->bf16_flops = stmt_double(st, 3);
	out->fp8_flops = stmt_is_null(st, 4) ? 0 : stmt_double(st, 4);
	out->fp4_flops = stmt_is_null(st, 5) ? 0 : stmt_double(st, 5);
	out->link_bytes_per_s = stmt_double(st, 6);
	out->nvlink_domain_gpus = (int)stmt_int64(st, 7);
	out->memory_torch_bytes = stmt_is_null(st, 8) ? 0 : (double)stmt_int64(st, 8);
	out->scaleout_bytes_per_s = stmt_is_null(st, 9) ? 0 : stmt_double(st, 9);
	out->gpus_per_node = stmt_is_null(st, 10) ? 0 : (int)stmt_int64(st, 10);
	copy_text(out->form_factor, sizeof(out->form_factor), stmt_text(st, 11));
	copy_text(out->arch, sizeof(out->arch), stmt_text(st, 12));
	out->not_vllm_served = !stmt_is_null(st, 13) && stmt_int64(st, 13) == 0;
	copy_text(out->vendor, sizeof(out->vendor), stmt_text(st, 14));
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

static enum perf_scope scope_of(const char *s)
{
	return !strcmp(s, "vendor") ? PERF_SCOPE_VENDOR : !strcmp(s, "arch") ? PERF_SCOPE_ARCH :
	       PERF_SCOPE_ENGINE;
}

static enum perf_class class_of(const char *s)
{
	return !strcmp(s, "dense") ? PERF_CLASS_DENSE : !strcmp(s, "moe") ? PERF_CLASS_MOE :
	       PERF_CLASS_ANY;
}

/*
 * The step-time parameters from n = CALIB_NPARAMS columns starting at
 * `first`, in the table's units and in calib_param order (planner/calibrate.h):
 * bw, flops, attn, kv_bw, moe_bw efficiencies, layer and MoE-layer latency
 * (us), step overhead (ms), sequence overhead (us), request overhead and
 * TTFT latency (ms).
 */
#define PERF_COLUMNS \
	"bw_efficiency, flops_efficiency, attn_efficiency, kv_bw_efficiency, moe_bw_efficiency," \
	" layer_latency_us, moe_layer_latency_us, step_overhead_ms, seq_overhead_us," \
	" request_overhead_ms, ttft_latency_ms"

static void read_perf(struct stmt *st, int first, struct perf_params *p)
{
	for (int k = 0; k < CALIB_NPARAMS; k++)
		calib_param_set(p, k, stmt_double(st, first + k));
}

/* The engine's fitted profiles (engine_profile rows) into out->profiles. */
static int load_profiles(struct db *db, const char *id, struct engine_profile *out)
{
	struct stmt *st = db_prepare(db,
		"SELECT scope, scope_name, model_class, rows, rows_dense, rows_moe, log_p10,"
		"       log_p90, out_of_sample, " PERF_COLUMNS
		"  FROM engine_profile WHERE engine_id = :id"
		" ORDER BY scope = 'arch', scope = 'vendor', scope_name, model_class");
	int r;

	if (!st)
		return -1;
	stmt_bind_text(st, ":id", id);
	out->nprofiles = 0;
	while ((r = stmt_step(st)) == 1 && out->nprofiles < ENGINE_PROFILES_MAX) {
		struct perf_profile *pr = &out->profiles[out->nprofiles++];
		memset(pr, 0, sizeof(*pr));
		pr->scope = scope_of(stmt_text(st, 0));
		copy_text(pr->scope_name, sizeof(pr->scope_name), stmt_text(st, 1));
		pr->model_class = class_of(stmt_text(st, 2));
		pr->rows = (int)stmt_int64(st, 3);
		pr->rows_dense = (int)stmt_int64(st, 4);
		pr->rows_moe = (int)stmt_int64(st, 5);
		pr->log_p10 = stmt_double(st, 6);
		pr->log_p90 = stmt_double(st, 7);
		pr->out_of_sample = (int)stmt_int64(st, 8);
		read_perf(st, 9, &pr->p);
	}
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
}

int load_engine_profile(struct db *db, const char *id, struct engine_profile *out)
{
	int ret = -1, r;
	/*
	 * The starting point's newer columns are NULL in a row written before
	 * schema 009 until `init` fills them: the engines.csv estimates stand in.
	 */
	struct stmt *st = db_prepare(db,
		"SELECT id, version, gpu_memory_utilization, memory_fraction_of,"
		"       max_num_seqs_large, max_num_seqs_small, large_gpu_min_bytes,"
		"       large_gpu_exclude, max_num_batched_tokens_large,"
		"       max_num_batched_tokens_small, block_size_tokens, non_torch_tp1_bytes,"
		"       non_torch_tpn_bytes, cuda_graph_bytes, activation_bytes_per_token_dense,"
		"       activation_bytes_per_token_moe, allreduce_alpha_us, link_efficiency,"
		"       bw_efficiency, flops_efficiency, coalesce(attn_efficiency, 0.5),"
		"       coalesce(kv_bw_efficiency, 0.5), coalesce(moe_bw_efficiency, 0.4),"
		"       coalesce(layer_latency_us, 30), coalesce(moe_layer_latency_us, 60),"
		"       step_overhead_ms, coalesce(seq_overhead_us, 10),"
		"       coalesce(request_overhead_ms, 2), coalesce(ttft_latency_ms, 20)"
		"  FROM engine WHERE id = :id");

	if (!st)
		return -1;
	stmt_bind_text(st, ":id", id);
	r = stmt_step(st);
	if (r < 0)
		goto cleanup;
	if (r == 0) {
		error("unknown engine '%s'", id);
		goto cleanup;
	}
	memset(out, 0, sizeof(*out));
	copy_text(out->id, sizeof(out->id), stmt_text(st, 0));
	copy_text(out->version, sizeof(out->version), stmt_text(st, 1));
	out->gpu_memory_utilization = stmt_double(st, 2);
	out->fraction_of_free = !strcmp(stmt_text(st, 3), "free");
	out->max_num_seqs_large = (int)stmt_int64(st, 4);
	out->max_num_seqs_small = (int)stmt_int64(st, 5);
	out->large_gpu_min_bytes = (double)stmt_int64(st, 6);
	copy_text(out->large_gpu_exclude, sizeof(out->large_gpu_exclude), stmt_text(st, 7));
	out->max_num_batched_tokens_large = (int)stmt_int64(st, 8);
	out->max_num_batched_tokens_small = (int)stmt_int64(st, 9);
	out->block_size_tokens = (int)stmt_int64(st, 10);
	out->non_torch_tp1_bytes = (double)stmt_int64(st, 11);
	out->non_torch_tpn_bytes = (double)stmt_int64(st, 12);
	out->cuda_graph_bytes = (double)stmt_int64(st, 13);
	out->activation_bytes_per_token_dense = stmt_double(st, 14);
	out->activation_bytes_per_token_moe = stmt_double(st, 15);
	out->allreduce_alpha_s = stmt_double(st, 16) / 1e6;
	out->link_efficiency = stmt_double(st, 17);
	read_perf(st, 18, &out->perf);
	stmt_finalize(st);
	st = NULL;
	ret = load_profiles(db, id, out);
cleanup:
	stmt_finalize(st);
	return ret;
}

int load_workload_buckets(struct db *db, int64_t id, const char *name,
			  struct wl_bucket **out, int *n)
{
	struct stmt *st = db_prepare(db,
		"SELECT prompt_tokens_lo, prompt_tokens_hi, output_tokens_lo, output_tokens_hi,"
		"       requests, prompt_tokens_sum, output_tokens_sum"
		"  FROM workload_bucket WHERE workload_id = :id"
		" ORDER BY prompt_tokens_lo, output_tokens_lo");
	int r, alloc = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	stmt_bind_int64(st, ":id", id);
	while ((r = stmt_step(st)) == 1) {
		if (*n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			*out = xrealloc(*out, (size_t)alloc * sizeof(**out));
		}
		struct wl_bucket *b = &(*out)[(*n)++];
		memset(b, 0, sizeof(*b));
		b->prompt_lo = stmt_int64(st, 0);
		b->prompt_hi = stmt_int64(st, 1);
		b->output_lo = stmt_int64(st, 2);
		b->output_hi = stmt_int64(st, 3);
		b->requests = stmt_int64(st, 4);
		b->prompt_tokens_sum = stmt_int64(st, 5);
		b->output_tokens_sum = stmt_int64(st, 6);
	}
	stmt_finalize(st);
	if (r < 0)
		return -1;
	if (*n == 0)
		return error("workload '%s' has no buckets", name);
	return 0;
}
