/*
 * load.c - catalog rows into planner structs (see load.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "schema/load.h"
#include "lib/util.h"
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
		"       scaleout_bytes_per_s, gpus_per_node, form_factor, arch, vllm_served"
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
	ret = 0;
cleanup:
	stmt_finalize(st);
	return ret;
}

int load_engine_profile(struct db *db, const char *id, struct engine_profile *out)
{
	int ret = -1, r;
	struct stmt *st = db_prepare(db,
		"SELECT id, version, gpu_memory_utilization, memory_fraction_of,"
		"       max_num_seqs_large, max_num_seqs_small, large_gpu_min_bytes,"
		"       large_gpu_exclude, max_num_batched_tokens_large,"
		"       max_num_batched_tokens_small, block_size_tokens, non_torch_tp1_bytes,"
		"       non_torch_tpn_bytes, cuda_graph_bytes, activation_bytes_per_token_dense,"
		"       activation_bytes_per_token_moe, bw_efficiency, flops_efficiency,"
		"       moe_efficiency_floor, moe_tokens_per_expert_half, step_overhead_ms,"
		"       allreduce_alpha_us, link_efficiency FROM engine WHERE id = :id");

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
	out->bw_efficiency = stmt_double(st, 16);
	out->flops_efficiency = stmt_double(st, 17);
	out->moe_efficiency_floor = stmt_double(st, 18);
	out->moe_tokens_per_expert_half = stmt_double(st, 19);
	out->step_overhead_s = stmt_double(st, 20) / 1e3;
	out->allreduce_alpha_s = stmt_double(st, 21) / 1e6;
	out->link_efficiency = stmt_double(st, 22);
	ret = 0;
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
