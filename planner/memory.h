/*
 * memory.h - vLLM's start-up memory accounting, term by term, as its log
 * prints it, and its KV cache as the hybrid allocator lays it out. One call
 * gives one rank (one GPU of one pipeline stage):
 *
 *   requested  = memory torch sees x gpu_memory_utilization
 *   weights    "Model loading took W GiB"
 *   activation "torch peak memory increase" (the profile run)
 *   non-torch  "non-torch forward increase memory"
 *   CUDA graphs "Graph capturing finished ... took G GiB"; vLLM's own
 *              estimate ("Estimated CUDA graph memory") comes out of the
 *              budget from v0.21 (PR #38284), not before
 *   KV         "Available KV cache memory" = requested - the rest
 *   blocks     "num_gpu_blocks"; tokens "GPU KV cache size: N tokens"
 *
 * The vLLM version (the engine profile's) picks the accounting; the rules
 * and their sources are in memory.c. Pure arithmetic: no SQLite, no stdio,
 * no globals. Bytes throughout.
 */
#ifndef PIQPLAN_MEMORY_H
#define PIQPLAN_MEMORY_H

#include <stdint.h>

#include "model.h"

struct gpu_spec;

/* A vLLM release: 0.19.0 is { 0, 19, 0 }. */
struct vllm_version {
	int major, minor, patch;
};

/*
 * Read "0.19.0", "0.21", "v0.10.2" (anything after the numbers is
 * ignored). 0, or -1 (and *v the newest accounting piqplan knows, 0.21)
 * when s holds no version.
 */
int vllm_version_parse(const char *s, struct vllm_version *v);
/* 1 when v is major.minor or later. */
int vllm_version_at_least(const struct vllm_version *v, int major, int minor);

/* One instance as vLLM is asked to start it. */
struct mem_input {
	const struct model_arch *m;
	const struct gpu_spec *g;
	struct vllm_version version;
	int tp, pp, dp, ep;
	int redundant_experts;		/* EPLB's extra expert slots over the group (0: none) */
	enum precision precision;	/* how the weights are stored (PREC_FP8: online fp8) */
	int kv_elem_bytes;		/* 2 or 1 (fp8 KV) */
	double gpu_memory_utilization;
	int max_num_seqs;
	int max_num_batched_tokens;
	int block_size_tokens;		/* --block-size; 0: vLLM's choice for the model and GPU */
	int enforce_eager;		/* 1: no CUDA graphs */
	int64_t max_model_len;
	double draft_weights_bytes;	/* speculative decoding's drafter on this rank (last stage) */
	int draft_layers;		/* its decoder layers: each holds KV like one of the
					 * target's and adds to the CUDA graphs (0: none) */
	/*
	 * The model's weights in `precision` and its parameter counts
	 * (model_weights_bytes, model_params_count), when the caller has them
	 * (an instance is sized a dozen times over); NULL: worked out here.
	 */
	const struct model_weights *weights;
	const struct model_params *params;
};

/* One rank's terms and KV layout. */
struct mem_stage {
	int stage, first_layer, layers;	/* pipeline stage and its layers (vLLM's split) */
	double total_bytes;		/* what torch sees (mem_get_info total) */
	double requested_bytes;		/* total x gpu_memory_utilization */
	double weights_bytes;
	double activation_bytes;	/* profile-run peak, the CUDA-graph estimate not in it */
	double non_torch_bytes;
	double cuda_graph_bytes;	/* the pool captured after the KV cache is sized */
	double cuda_graph_estimate_bytes; /* vLLM's estimate of it */
	int cuda_graph_in_budget;	/* 1 (v0.21+): the estimate comes out of the KV budget */
	int cuda_graphs;		/* graphs captured (PIECEWISE + FULL); 0 eager */
	double kv_bytes;		/* "Available KV cache memory"; < 0: nothing left */

	/* The KV cache as the allocator lays it out (kv_cache_utils.py). */
	int uniform;			/* 1: uniform pages grouped as vLLM groups them; 0: an
					 * approximation by bytes (layers whose specs vLLM
					 * cannot unify into one page size, e.g. DeepSeek-V4) */
	int block_size;			/* tokens per block of the full-attention layers */
	int groups;			/* KV cache groups */
	int group_size;			/* layers sharing one block tensor */
	double page_bytes;		/* one block of one layer */
	int64_t blocks;			/* num_gpu_blocks on this rank */
	int64_t blocks_per_request;	/* one max_model_len request, all groups */
	int64_t tokens;			/* "GPU KV cache size": blocks / groups x block_size */
};

/*
 * The terms of pipeline stage `stage` (0 .. pp-1) on one of its GPUs.
 * Never fails; out->kv_bytes may be negative (nothing left for KV).
 */
void vllm_memory_stage(const struct mem_input *in, int stage, struct mem_stage *out);

/* Layers of pipeline stage `stage` as vLLM's get_pp_indices splits them. */
void vllm_stage_layers(int layers, int pp, int stage, int *first, int *count);

/*
 * KV layout of layers [first, first + count) on one rank holding kv_bytes
 * (fills the layout fields of *out; kv_bytes itself from the caller).
 */
void vllm_kv_layout(const struct mem_input *in, int first, int count, double kv_bytes,
		    struct mem_stage *out);

/* CUDA graph capture sizes for max_num_seqs (vLLM's default list). */
int vllm_capture_sizes(const struct vllm_version *v, const struct model_arch *m,
		       int max_num_seqs, int *full_graphs);

/* What vLLM starts with before the budget (CUDA context, NCCL): caps gpu_memory_utilization. */
double vllm_context_bytes(int gpus_in_group);

/* The block size vLLM picks for the model on the GPU when --block-size is not given. */
int vllm_block_size(const struct model_arch *m, const struct gpu_spec *g, int given);

#endif
