/*
 * estimate.h - `piqplan estimate`: one model server, one traffic shape.
 * Load the model, the GPU type and the engine profile (schema/), size the
 * instance -- or, without a tensor-parallel size, choose the layout: the
 * fewest GPUs that fit, then the most output tokens/s per GPU (TP within a
 * node, PP 1-8, and for MoE models DP 1-16 with EP off and on) -- and
 * predict what it does under the traffic (planner/instance.h). Reads the
 * database, writes nothing.
 */
#ifndef PIQPLAN_ESTIMATE_H
#define PIQPLAN_ESTIMATE_H

#include <stdint.h>

#include "planner/instance.h"
#include "planner/model.h"
#include "run/vllm_args.h"

struct db;

enum estimate_mode {
	ESTIMATE_OFFLINE,	/* all requests queued at once (value: how many) */
	ESTIMATE_CONCURRENCY,	/* a closed loop of `value` clients */
	ESTIMATE_RATE,		/* Poisson arrivals at `value` requests/s */
};

struct estimate_request {
	const char *model;	/* as people type it (resolved as lookup_model does) */
	const char *gpu;	/* as people type it (resolved as lookup_gpu does) */
	const char *engine;	/* engine profile id */
	/*
	 * precision and kv_elem_bytes; tp, pp, dp and ep as given. Without
	 * tp_given the layout is chosen: every power-of-two TP within a node
	 * (or the NVLink domain when larger), PP 1-8 (or the one given), and
	 * for MoE models DP 1-16 (or the one given) with EP off and on (or as
	 * given).
	 */
	struct layout layout;
	int tp_given, pp_given, ep_given, dp_given;
	enum estimate_mode mode;
	double isl, osl;		/* tokens per request */
	double value;			/* requests, clients or requests/s, per mode */
	int64_t max_model_len;		/* 0: isl + osl rounded up to 256 tokens (at most the
					 * model's context) */
	double gpu_memory_utilization;	/* 0: the engine's default */
	int max_num_seqs;		/* 0: derived (what the KV holds, the engine's cap) */
	int max_num_batched_tokens;	/* 0: the engine's default for the GPU */
	int block_size;			/* 0: the engine's choice for the model and GPU */
	int enforce_eager;		/* 1: no CUDA graphs */
	int cross_node_tp;		/* 1: TP may span nodes */
	double prefix_hit;		/* share of prompt tokens the prefix cache serves, [0, 1) */
	double osl_max;			/* outputs stop at EOS below this cap (mean osl); 0: all
					 * are osl long */
};

struct estimate {
	char *model_id;
	struct model_arch arch;
	struct gpu_spec gpu;
	struct engine_profile engine;
	struct instance in;	/* the sized instance; in.fits says whether it fits (reason if not) */
	struct load_point lp;	/* what it does under the traffic, when it fits */
	char *vllm_args;	/* the `vllm serve` arguments; "" when it does not fit */
	struct launch_lines launch; /* the engine's commands, one per node (none when it
				 * does not fit) */
};

/*
 * Estimate req. 0 and *out filled (free it with estimate_free) -- also when
 * the instance does not fit, which is an answer -- or -1 after error():
 * unknown model, GPU or engine.
 */
int estimate_instance(struct db *db, const struct estimate_request *req, struct estimate *out);
void estimate_free(struct estimate *e);

#endif
