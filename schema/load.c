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

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_text(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* A stored value outside its range (load.h): a data error. */
static int stored_bad(const char *what, const char *id, const char *column, double v,
		      const char *want)
{
	return data_error("%s '%s' as stored: %s %.17g, expected %s (was the database edited "
			  "outside piqplan?)", what, id, column, v, want);
}

/* An INTEGER column into an int without wrapping (the range check refuses what was clamped). */
static int clamp_int(int64_t v)
{
	return v < -1 ? -1 : v > INT_MAX ? INT_MAX : (int)v;
}

/* lo < v <= hi (lo_open) or lo <= v <= hi, and finite. */
static int in_range(double v, double lo, double hi, int lo_open)
{
	return isfinite(v) && (lo_open ? v > lo : v >= lo) && v <= hi;
}

/* 005's CHECK lists of gpu.form_factor and gpu.arch. */
static const char *const gpu_form_factors[] = { "SXM", "PCIe", "OAM", "superchip", "TPU", NULL };
static const char *const gpu_archs[] = { "Ampere", "Ada", "Hopper", "Blackwell", "CDNA3", "CDNA4",
					 "Gaudi", "TPU", NULL };

/* 1 when s is one of the NULL-terminated list. */
static int text_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
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
	int64_t domain = stmt_int64(st, 7);
	out->nvlink_domain_gpus = domain < 1 || domain > GPU_MAX_NVLINK_DOMAIN ? 0 : (int)domain;
	out->memory_torch_bytes = stmt_is_null(st, 8) ? 0 : (double)stmt_int64(st, 8);
	out->scaleout_bytes_per_s = stmt_is_null(st, 9) ? 0 : stmt_double(st, 9);
	int64_t node = stmt_is_null(st, 10) ? 0 : stmt_int64(st, 10);
	out->gpus_per_node = node < 1 || node > GPU_MAX_NODE_GPUS ? 0 : (int)node;
	copy_text(out->form_factor, sizeof(out->form_factor), stmt_text(st, 11));
	copy_text(out->arch, sizeof(out->arch), stmt_text(st, 12));
	int64_t served = stmt_is_null(st, 13) ? 1 : stmt_int64(st, 13);
	out->not_vllm_served = served == 0;
	const struct { const char *column; double v, lo; int open; } f[] = {
		{ "memory_bytes", out->memory_bytes, 0, 1 },
		{ "mem_bw_bytes_per_s", out->mem_bw_bytes_per_s, 0, 1 },
		{ "bf16_flops", out->bf16_flops, 0, 1 },
		{ "fp8_flops", out->fp8_flops, 0, 0 },
		{ "fp4_flops", out->fp4_flops, 0, 0 },
		{ "link_bytes_per_s", out->link_bytes_per_s, 0, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (!in_range(f[i].v, f[i].lo, i == 0 ? GPU_MAX_MEMORY_BYTES : 1e20, f[i].open)) {
			stored_bad("GPU", id, f[i].column, f[i].v, "a positive finite figure");
			goto cleanup;
		}
	if (!out->nvlink_domain_gpus) {
		stored_bad("GPU", id, "nvlink_domain_gpus", (double)domain, "1 to 1024");
		goto cleanup;
	}
	/* 005's columns: NULL where unknown, else as their CHECKs state. */
	if (!stmt_is_null(st, 8) && !(out->memory_torch_bytes > 0 &&
				      out->memory_torch_bytes <= out->memory_bytes)) {
		stored_bad("GPU", id, "memory_torch_bytes", out->memory_torch_bytes,
			   "above 0, at most memory_bytes");
		goto cleanup;
	}
	if (!stmt_is_null(st, 9) && !in_range(out->scaleout_bytes_per_s, 0, 1e20, 1)) {
		stored_bad("GPU", id, "scaleout_bytes_per_s", out->scaleout_bytes_per_s,
			   "a positive finite figure");
		goto cleanup;
	}
	if (!stmt_is_null(st, 10) && !out->gpus_per_node) {
		stored_bad("GPU", id, "gpus_per_node", (double)node, "1 to 1024");
		goto cleanup;
	}
	if (served != 0 && served != 1) {
		stored_bad("GPU", id, "vllm_served", (double)served, "0 or 1");
		goto cleanup;
	}
	if (!stmt_is_null(st, 11) && !text_in(out->form_factor, gpu_form_factors)) {
		data_error("GPU '%s' as stored: form_factor '%s', expected one of SXM, PCIe, OAM, "
			   "superchip, TPU (was the database edited outside piqplan?)", id,
			   out->form_factor);
		goto cleanup;
	}
	if (!stmt_is_null(st, 12) && !text_in(out->arch, gpu_archs)) {
		data_error("GPU '%s' as stored: arch '%s', expected one of Ampere, Ada, Hopper, "
			   "Blackwell, CDNA3, CDNA4, Gaudi, TPU (was the database edited outside "
			   "piqplan?)", id, out->arch);
		goto cleanup;
	}
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

/*
 * A step-model parameter read back from the database: finite and not
 * negative, an efficiency (a fraction of a peak) above 0 and at most 1, a
 * time at most 10^9 of its unit. 1 (the message out) when one is not.
 */
static int perf_bad(const char *what, const char *id, const struct perf_params *p)
{
	for (int k = 0; k < CALIB_NPARAMS; k++) {
		double lo, hi, v = calib_param_get(p, k);
		calib_param_bounds(k, &lo, &hi);
		int fraction = hi <= 1;
		if (fraction ? !in_range(v, 0, 1, 1) : !in_range(v, 0, 1e9, 0)) {
			stored_bad(what, id, calib_param_name(k), v,
				   fraction ? "above 0, at most 1" : "0 to 1e9");
			return 1;
		}
	}
	return 0;
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
		if (perf_bad("engine profile of", id, &pr->p))
			goto bad;
		if (!isfinite(pr->log_p10) || !isfinite(pr->log_p90) || pr->log_p10 > pr->log_p90 ||
		    fabs(pr->log_p10) > 50 || fabs(pr->log_p90) > 50 || pr->rows < 0) {
			stored_bad("engine profile of", id, "log_p10", pr->log_p10,
				   "finite, at most log_p90, with rows >= 0");
			goto bad;
		}
	}
	stmt_finalize(st);
	return r < 0 ? -1 : 0;
bad:
	stmt_finalize(st);
	return -1;
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
	out->max_num_seqs_large = clamp_int(stmt_int64(st, 4));
	out->max_num_seqs_small = clamp_int(stmt_int64(st, 5));
	out->large_gpu_min_bytes = (double)stmt_int64(st, 6);
	copy_text(out->large_gpu_exclude, sizeof(out->large_gpu_exclude), stmt_text(st, 7));
	out->max_num_batched_tokens_large = clamp_int(stmt_int64(st, 8));
	out->max_num_batched_tokens_small = clamp_int(stmt_int64(st, 9));
	out->block_size_tokens = clamp_int(stmt_int64(st, 10));
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
	/* The CHECK constraints of 001_catalog.sql, with finite upper bounds. */
	const struct { const char *column; double v, lo, hi; int open; } f[] = {
		{ "gpu_memory_utilization", out->gpu_memory_utilization, 0, 1, 1 },
		{ "max_num_seqs_large", out->max_num_seqs_large, 0, 1e6, 1 },
		{ "max_num_seqs_small", out->max_num_seqs_small, 0, 1e6, 1 },
		{ "large_gpu_min_bytes", out->large_gpu_min_bytes, 0, GPU_MAX_MEMORY_BYTES, 0 },
		{ "max_num_batched_tokens_large", out->max_num_batched_tokens_large, 0, 1e8, 1 },
		{ "max_num_batched_tokens_small", out->max_num_batched_tokens_small, 0, 1e8, 1 },
		{ "block_size_tokens", out->block_size_tokens, 0, 1e6, 1 },
		{ "non_torch_tp1_bytes", out->non_torch_tp1_bytes, 0, GPU_MAX_MEMORY_BYTES, 0 },
		{ "non_torch_tpn_bytes", out->non_torch_tpn_bytes, 0, GPU_MAX_MEMORY_BYTES, 0 },
		{ "cuda_graph_bytes", out->cuda_graph_bytes, 0, GPU_MAX_MEMORY_BYTES, 0 },
		{ "activation_bytes_per_token_dense", out->activation_bytes_per_token_dense, 0, 1e12, 0 },
		{ "activation_bytes_per_token_moe", out->activation_bytes_per_token_moe, 0, 1e12, 0 },
		{ "allreduce_alpha_us", out->allreduce_alpha_s * 1e6, 0, 1e9, 0 },
		{ "link_efficiency", out->link_efficiency, 0, 1, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (!in_range(f[i].v, f[i].lo, f[i].hi, f[i].open)) {
			char want[64];
			snprintf(want, sizeof(want), f[i].open ? "above %g, at most %g" : "%g to %g",
				 f[i].lo, f[i].hi);
			stored_bad("engine", id, f[i].column, f[i].v, want);
			goto cleanup;
		}
	if (perf_bad("engine", id, &out->perf))
		goto cleanup;
	ret = load_profiles(db, id, out);
cleanup:
	stmt_finalize(st);
	return ret;
}

/*
 * What an import writes: bounds 0 <= lo < hi <= WL_TOKENS_END, 1 to 10^12
 * requests, sums of requests tokens each within [lo, hi].
 */
static int bucket_ok(const struct wl_bucket *b)
{
	const int64_t max_requests = 1000000000000LL;
	if (b->prompt_lo < 0 || b->prompt_lo >= b->prompt_hi || b->prompt_hi > WL_TOKENS_END ||
	    b->output_lo < 0 || b->output_lo >= b->output_hi || b->output_hi > WL_TOKENS_END ||
	    b->requests < 1 || b->requests > max_requests)
		return 0;
	double n = (double)b->requests;
	return b->prompt_tokens_sum >= 0 && b->output_tokens_sum >= 0 &&
	       (double)b->prompt_tokens_sum <= n * (double)b->prompt_hi &&
	       (double)b->output_tokens_sum <= n * (double)b->output_hi;
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
		if (*n > WL_MAX_BUCKETS || !bucket_ok(b)) {
			r = data_error("workload '%s' as stored: a bucket [%lld, %lld) x [%lld, %lld) of "
				       "%lld requests is outside what an import writes (was the "
				       "database edited outside piqplan?)", name,
				       (long long)b->prompt_lo, (long long)b->prompt_hi,
				       (long long)b->output_lo, (long long)b->output_hi,
				       (long long)b->requests);
			break;
		}
	}
	stmt_finalize(st);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	if (*n == 0)
		return error("workload '%s' has no buckets", name);
	return 0;
}
