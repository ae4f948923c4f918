/*
 * instance.h - what one model server (an "instance": TP x PP GPUs, x DP
 * with expert parallelism) can hold and how fast it runs: the per-GPU
 * memory model, the vLLM flags that follow from it, and a roofline
 * performance model (decode step, prefill, chunked-prefill interference,
 * queueing) for the three load shapes people benchmark: offline, a closed
 * loop of N clients, and open-loop arrivals at a rate.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. DESIGN.md sections 4-5
 * give the arithmetic; this header states the contract and the units.
 *
 * Cost model for callers that enumerate layouts: instance_size() is a few
 * hundred floating-point operations; the performance calls iterate it at
 * most a few thousand times (bisection to a relative 1e-4), so a plan over
 * every GPU x TP x PP x EP x precision stays well under a second.
 *
 * Units: bytes, seconds, tokens, requests; FLOP/s. "Per GPU" means one GPU
 * of the busiest pipeline stage unless a field says otherwise.
 */
#ifndef PIQPLAN_INSTANCE_H
#define PIQPLAN_INSTANCE_H

#include <stddef.h>
#include <stdint.h>

#include "comm.h"
#include "memory.h"
#include "model.h"

/* One GPU type, from the gpu table. */
struct gpu_spec {
	char id[64];			/* 'H100-SXM-80GB' */
	double memory_bytes;		/* capacity the driver reports (nvidia-smi) */
	double mem_bw_bytes_per_s;	/* HBM bandwidth */
	double bf16_flops;		/* dense BF16 tensor FLOP/s */
	double fp8_flops;		/* dense FP8 FLOP/s; 0: no FP8 tensor cores */
	double fp4_flops;		/* dense FP4 FLOP/s; 0: none */
	double link_bytes_per_s;	/* GPU-to-GPU bandwidth per direction */
	int nvlink_domain_gpus;		/* GPUs sharing one NVLink domain (1: PCIe) */
	double memory_torch_bytes;	/* total torch sees (vLLM's total_memory); 0: unknown */
	double scaleout_bytes_per_s;	/* network between nodes per GPU; 0: unknown */
	int gpus_per_node;		/* GPUs in one node; 0: unknown */
	char form_factor[16];		/* 'SXM', 'PCIe', 'OAM', 'superchip', 'TPU'; '' unknown */
	char arch[16];			/* 'Hopper', 'CDNA3', 'Gaudi', ...; '' unknown */
	int not_vllm_served;		/* 1: vLLM's CUDA/ROCm path does not serve it (Gaudi,
					 * TPU); 0: it does, or unknown */
};

/* An engine profile, from the engine table, in bytes and seconds. */
struct engine_profile {
	char id[32];			/* 'vllm', 'sglang', 'trtllm' */
	char version[32];
	double gpu_memory_utilization;	/* default fraction (of total or of free) */
	int fraction_of_free;		/* 1: memory_fraction_of = 'free' (TRT-LLM) */
	int max_num_seqs_large;		/* default max_num_seqs on a "large" GPU */
	int max_num_seqs_small;
	double large_gpu_min_bytes;	/* memory from which a GPU is "large" */
	char large_gpu_exclude[32];	/* GPU ids containing this are never large ('A100') */
	int max_num_batched_tokens_large;
	int max_num_batched_tokens_small;
	int block_size_tokens;		/* KV block (page); vLLM: 0 or 16 lets the model and GPU
					 * decide (memory.h vllm_block_size) */
	int block_size_flag;		/* a --block-size every instance gets (0: none) */
	int enforce_eager;		/* 1: no CUDA graphs (--enforce-eager) */
	/* SGLang and TensorRT-LLM: flat overheads (vLLM's are modelled term by term in
	 * memory.c from its version). */
	double non_torch_tp1_bytes;	/* CUDA context etc., single-GPU instance */
	double non_torch_tpn_bytes;	/* the same plus NCCL, multi-GPU instance */
	double cuda_graph_bytes;	/* captured CUDA graphs, per GPU */
	double activation_bytes_per_token_dense; /* profile-run peak per batched token */
	double activation_bytes_per_token_moe;
	double bw_efficiency;		/* achieved / peak HBM bandwidth */
	double flops_efficiency;	/* achieved / peak FLOP/s */
	double moe_efficiency_floor;	/* the expert GEMMs' FLOP rate relative to the
					 * dense path's at ~0 tokens per expert (see
					 * moe_efficiency); weight reads are not penalised */
	double moe_tokens_per_expert_half; /* tokens per expert where it is half way to 1 */
	double step_overhead_s;		/* scheduler + launch per engine step */
	double allreduce_alpha_s;	/* latency of one small all-reduce */
	double link_efficiency;		/* achieved / peak link bandwidth */
};

/* How an instance is laid out. */
struct layout {
	int tp;			/* tensor parallel, power of two, within one NVLink domain */
	int pp;			/* pipeline stages */
	int dp;			/* data-parallel ranks inside the server (1: none) */
	int ep;			/* 1: --enable-expert-parallel: routed experts over tp*dp */
	enum precision precision;
	int kv_elem_bytes;	/* 2: KV in the model dtype (bf16); 1: fp8 KV cache */
};

/* What the caller asks of the instance's configuration. */
struct instance_request {
	int64_t max_model_len;		/* tokens one sequence may reach; > 0 */
	double resident_tokens_per_seq;	/* expected tokens a running sequence holds
					 * (for max_num_seqs); 0: max_model_len / 2 */
	double gpu_memory_utilization;	/* 0: engine default minus gmu_margin */
	double gmu_margin;		/* > 0: taken off the engine default; else none */
	int max_num_seqs;		/* 0: derive (what KV holds, capped by the default) */
	int max_num_batched_tokens;	/* 0: the engine's default for the GPU */
	int block_size_tokens;		/* --block-size; 0: the engine's */
	int enforce_eager;		/* 1: --enforce-eager (no CUDA graphs) */
	int cross_node_tp;		/* 1: tensor parallelism may span nodes */
	double prompt_cv2;		/* squared coefficient of variation of prompt
					 * lengths (variance / mean^2); 0: all alike */
	double ttft_prompt_tokens;	/* the prompt the TTFT target is judged on (a
					 * pool's p99); 0 or less than isl: the mean isl */
};

#define INSTANCE_REQUEST_INIT { 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0 }

/*
 * Everything the performance model needs, summed over the pipeline stages
 * (one token passes all of them) and divided as one GPU of each stage sees
 * it. Filled by instance_size(); callers read, never write.
 */
struct instance_perf {
	double dense_bytes;		/* non-expert weights read per step: attention, dense,
					 * shared experts, router, norms, LM head */
	double routed_bytes;		/* routed expert weights held (all of them) */
	double dense_flops_per_token;	/* 2 x non-expert matmul parameters, per GPU */
	double routed_flops_per_token;	/* 2 x active routed parameters, per GPU */
	struct model_kv kv;		/* per-layer-kind terms of all stages, per GPU: what a
					 * token reads and computes per context token
					 * (full, window, top-k, compressed, indexer) and the
					 * linear/Mamba state it updates */
	int experts, experts_per_token;
	int moe_tokens_scale;		/* DP ranks whose tokens meet in one EP group */
	double peak_dense_flops;	/* FLOP/s of the non-expert matmuls */
	double peak_routed_flops;	/* FLOP/s of the expert matmuls */
	double peak_attn_flops;		/* attention runs in bf16 */
	double bw;			/* bytes/s x bw_efficiency */
	double link;			/* bytes/s x link_efficiency */
	double flops_efficiency;
	double moe_floor, moe_half;
	double step_overhead_s;
	double alpha_s;
	int layers, moe_layers, hidden;
	int act_bytes;			/* bytes per activation on the wire (fp8: 1) */
};

/* The result: whether it fits, the memory split, the flags. */
struct instance {
	struct layout layout;
	int fits;			/* 1: serves max_model_len */
	char reason[160];		/* why not, when !fits */
	char note[160];			/* a caveat that does not stop it (fp4 w-only) */
	int gpus;			/* tp * pp * dp */
	int nodes;			/* nodes of gpus_per_node it spans */
	int moe;			/* 1: the model has routed experts */
	double memory_bytes;		/* per GPU: what torch sees (the budget's base) */
	/*
	 * The memory terms of the binding stage (the one with the fewest KV
	 * blocks: vLLM gives every rank that count), as vLLM's log prints them
	 * (memory.h); mem_first is rank 0's, the one the log shows.
	 */
	double weights_bytes_per_gpu;
	double activation_bytes;	/* profile-run peak at max_num_batched_tokens */
	double non_torch_bytes;
	double cuda_graph_bytes;	/* the captured pool */
	double cuda_graph_estimate_bytes; /* vLLM's estimate; in the budget from v0.21 */
	int cuda_graph_in_budget;
	double kv_budget_bytes_per_gpu;
	double kv_bytes_per_token_per_gpu; /* what each token adds in the busiest stage once
					 * every window is full: full attention, MLA latents,
					 * compressed entries, indexer keys */
	double kv_window_bytes_per_seq_per_gpu; /* windowed layers (sliding, chunked, V4 SWA)
					 * with their window full, per sequence */
	double state_bytes_per_seq_per_gpu; /* linear-attention / Mamba / V4 compressor
					 * state, per running sequence */
	double kv_window_tokens;	/* the largest window (0: none) */
	struct model_kv stage_kv;	/* the busiest stage's terms, per GPU */
	int stage_layers;		/* layers of the busiest stage */
	int64_t kv_tokens;		/* per DP rank, as vLLM prints "GPU KV cache size":
					 * blocks / KV groups x block size */
	int64_t kv_blocks;		/* num_gpu_blocks (every rank) */
	int kv_groups;			/* KV cache groups (hybrid allocator) */
	double max_concurrency;		/* max_model_len requests the blocks hold at once */
	int block_size_tokens;
	struct mem_stage mem, mem_first; /* vLLM only: the binding stage's terms and rank 0's */
	struct comm_layout comm;	/* links of each collective (comm.h) */
	double gpu_memory_utilization;	/* the one used */
	int max_num_seqs;		/* per DP rank, as vLLM counts it */
	int max_num_batched_tokens;
	int64_t max_model_len;
	int compute_fp8;		/* linear layers run on FP8 tensor cores */
	int weight_only;		/* weights stored narrower than the compute dtype */
	int online_fp8;			/* --quantization fp8 of a bf16 checkpoint */
	int enforce_eager;		/* --enforce-eager */
	int block_size_given;		/* --block-size as asked (0: the engine's) */
	double prompt_cv2;		/* from the request: variability of the queue's work */
	double ttft_prompt_tokens;	/* from the request: the prompt TTFT is reported for */
	struct instance_perf perf;
};

/*
 * Size an instance: shard the weights, take the engine's overheads out of
 * the memory, count the KV tokens, choose max_num_seqs and the batched
 * tokens. Returns out->fits. Never fails: a layout vLLM refuses (heads or
 * vocabulary not divisible by tp, EP on a dense model, an expert width the
 * group does not divide, a data-parallel rank straddling nodes, TP across
 * nodes not asked for), a precision the checkpoint cannot give (fp4 from a
 * bf16 checkpoint, --quantization fp8 of an mxfp4 one), a max_model_len
 * beyond the model's context, weights or KV that do not fit: fits 0 and the
 * reason, e.g. "weights 84.1 GiB exceed 0.92 x 79.2 GiB",
 * "KV holds 12,288 tokens < max_model_len 32,768". With the vLLM engine the
 * memory terms follow memory.h for the profile's version.
 */
int instance_size(const struct model_arch *m, const struct gpu_spec *g,
		  const struct engine_profile *e, const struct layout *l,
		  const struct instance_request *rq, struct instance *out);

/*
 * Sequences a DP rank's KV cache holds when each holds `resident` tokens:
 * per sequence the busiest stage's terms at that context (windowed layers
 * count min(resident, window), compressed layers resident / ratio) plus
 * its fixed linear/Mamba state. 0 when none fits.
 */
int64_t instance_seqs_fit(const struct instance *in, double resident);

/* Routed experts one MoE layer touches for `tokens` tokens: E(1-(1-k/E)^tokens). */
double experts_touched(int experts, int experts_per_token, double tokens);

/*
 * The expert GEMMs' FLOP-rate efficiency relative to the dense path, at x
 * tokens per expert: floor + (1-floor) x/(x+half). It divides the routed
 * experts' compute time only (a grouped GEMM that sees few tokens per
 * expert wastes its tensor-core tiles); reading the touched experts'
 * weights runs at the dense bandwidth efficiency. Each kind of kernel
 * (dense GEMMs, expert GEMMs, attention) is its own roofline and their
 * times add: see instance.c.
 */
double moe_efficiency(double floor, double half, double tokens_per_expert);

/*
 * One decode step for n running sequences (per DP rank) of mean context
 * ctx tokens, no prefill in it: seconds from one token of every sequence
 * to the next (TPOT). With PP the n sequences run as pp micro-batches of
 * n/pp; a token passes every stage in turn, so its step is the sum of the
 * stages' times, i.e. one pass at n/pp tokens (see instance.c).
 * *memory_bound (may be NULL) is 1 when bytes, not FLOPs, set the time.
 */
double instance_decode_step_s(const struct instance *in, double n, double ctx,
			      int *memory_bound);

/*
 * One engine step with n sequences decoding (per DP rank, mean context ctx
 * tokens) and prefill_tokens prompt tokens riding in one micro-batch, each
 * attending prefill_keys keys on average: seconds, the engine's overhead
 * included, split into several steps when the micro-batch exceeds
 * max_num_batched_tokens. With no prefill it is instance_decode_step_s.
 * planner/slo.c builds the step-time distribution of chunked prefill on it.
 */
double instance_step_s(const struct instance *in, double n, double ctx, double prefill_tokens,
		       double prefill_keys, int *memory_bound);

/* Prefill of one prompt of s tokens alone (chunked by max_num_batched_tokens). */
double instance_prefill_s(const struct instance *in, double s);

/*
 * Steady-state TPOT with chunked prefill: n sequences decoding, each new
 * request's isl prompt tokens spread over its osl steps (n*isl/osl prefill
 * tokens ride along per step).
 */
double instance_tpot_s(const struct instance *in, double n, double isl, double osl,
		       int *memory_bound);

/* Sequences one DP rank can run at once for this traffic: max_num_seqs and KV. */
double instance_max_running(const struct instance *in, double isl, double osl);

/* One operating point. Rates and throughputs are for the whole instance. */
struct load_point {
	double running;		/* sequences running per DP rank */
	double tpot_s;		/* mean time per output token */
	double ttft_s;		/* mean time to first token; < 0 when unbounded */
	double request_rate;	/* requests/s completed */
	double output_tok_s;	/* output tokens/s */
	double utilisation;	/* offered load / capacity (open loop), else running/cap */
	double capacity_rate;	/* requests/s at full batch */
	int memory_bound;	/* the decode step is bandwidth-bound */
	int saturated;		/* open loop: the rate exceeds capacity */
};

/* All `requests` queued at once; fixed isl/osl runs in waves (see instance.c). */
void instance_offline(const struct instance *in, double isl, double osl, double requests,
		      struct load_point *out);

/* `clients` closed-loop clients, each sending its next request when one ends. */
void instance_closed_loop(const struct instance *in, double isl, double osl, double clients,
			  struct load_point *out);

/* Poisson arrivals at `rate` requests/s; saturated when beyond capacity. */
void instance_open_loop(const struct instance *in, double isl, double osl, double rate,
			struct load_point *out);

/* Service-level objectives; 0 leaves one out. */
struct slo {
	double ttft_s;
	double tpot_s;
	double utilisation;	/* largest offered load / capacity; 0: 1 */
};

/*
 * The largest arrival rate (requests/s, whole instance) that meets the
 * SLOs, with the operating point there in *at (may be NULL). 0 when even
 * a trickle misses them (a lone request's TTFT or TPOT is too slow).
 */
double instance_sustainable_rate(const struct instance *in, double isl, double osl,
				 const struct slo *slo, struct load_point *at);

/* "memory" or "compute". */
const char *instance_bound_name(int memory_bound);

/*
 * The largest TP a layout search should try on g without asking for TP
 * across nodes: a node (PCIe TP included), or the NVLink domain when it is
 * larger (NVL72).
 */
int instance_max_tp(const struct gpu_spec *g);
/* The largest expert group (tp x dp) a search should try: 4 nodes with a scale-out
 * network, else one node (or NVLink domain). */
int instance_max_expert_group(const struct gpu_spec *g);

/* Round tokens up to a multiple of `to` (to > 0). */
int64_t round_up_tokens(int64_t tokens, int64_t to);

#endif
