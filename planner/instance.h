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
	char vendor[16];		/* 'nvidia', 'amd', ...; '' unknown */
};

/*
 * The parameters of the step-time model that a calibration fits, for one
 * engine on one GPU family and model class (see instance.c for where each
 * enters). Efficiencies are fractions of the GPU's peaks; times in seconds.
 */
struct perf_params {
	double bw_efficiency;		/* dense weights: achieved / peak HBM bandwidth */
	double flops_efficiency;	/* GEMMs: achieved / the kernel path's peak */
	double attn_efficiency;		/* attention FLOPs: achieved / peak bf16 FLOP/s */
	double kv_bw_efficiency;	/* KV cache and linear-attention state reads:
					 * achieved / peak HBM bandwidth */
	double moe_bw_efficiency;	/* touched experts' weights as a grouped GEMM reads them:
					 * achieved / peak HBM bandwidth */
	double layer_latency_s;		/* fixed time per decoder layer per pass: launches, norms,
					 * the minimum time of each small kernel */
	double moe_layer_latency_s;	/* fixed extra per MoE layer per pass: router, top-k,
					 * permute and unpermute, grouped-GEMM set-up */
	double step_overhead_s;		/* per engine step: scheduling, input preparation */
	double seq_overhead_s;		/* per running sequence per step: sampling, detokenising,
					 * streaming its token */
	double request_overhead_s;	/* per request: tokenising, admission, completion */
	double ttft_latency_s;		/* fixed latency before every first token that is no
					 * engine time: the API server, tokenising, the first
					 * streamed chunk (TTFT only, not throughput) */
};

enum perf_scope { PERF_SCOPE_ENGINE, PERF_SCOPE_VENDOR, PERF_SCOPE_ARCH };
enum perf_class { PERF_CLASS_ANY, PERF_CLASS_DENSE, PERF_CLASS_MOE };

/* One fitted profile: an engine's parameters on a vendor or family, for a model class. */
struct perf_profile {
	enum perf_scope scope;
	char scope_name[16];		/* '' (engine-wide), the vendor ('amd') or arch ('Hopper') */
	enum perf_class model_class;
	struct perf_params p;
	int rows;			/* measured rows it was fitted on (0: not fitted) */
	int rows_dense, rows_moe;
	double log_p10, log_p90;	/* p10/p90 of ln(predicted / measured) output tok/s */
	int out_of_sample;		/* 1: the spread is of held-out predictions */
};

#define ENGINE_PROFILES_MAX 48

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
	struct perf_params perf;	/* the engine's starting point: what answers where no
					 * profile was fitted, and the prior of a fit */
	double allreduce_alpha_s;	/* latency of one small all-reduce */
	double link_efficiency;		/* achieved / peak link bandwidth */
	struct perf_profile profiles[ENGINE_PROFILES_MAX]; /* fitted, any order */
	int nprofiles;
};

/*
 * The MoE layers' exchange across DP ranks: vLLM's default
 * (allgather_reducescatter: every rank gathers every token), or DeepEP's
 * all-to-all (each token goes only to the ranks of its experts; "normal"
 * kernels for batches of prompt tokens, "low-latency" ones for decode
 * steps), what wide expert parallelism across nodes runs on.
 */
enum a2a_backend {
	A2A_ALLGATHER,		/* --all2all-backend allgather_reducescatter (vLLM's default) */
	A2A_DEEPEP_HT,		/* deepep_high_throughput: DeepEP normal kernels */
	A2A_DEEPEP_LL,		/* deepep_low_latency: DeepEP low-latency kernels */
};

/* What an instance serves: both phases, or one side of a P/D-disaggregated pair. */
enum pd_role {
	PD_AGGREGATED,		/* prefill and decode in one engine (chunked prefill) */
	PD_PREFILL,		/* prefill only; the KV goes to a decode instance (kv_producer) */
	PD_DECODE,		/* decode only, from a transferred KV (kv_consumer) */
};

/*
 * Speculative decoding (issue 14). A method proposes `tokens` draft tokens
 * per sequence per step, the target verifies them in one pass over
 * tokens + 1 positions, and each draft is accepted with probability
 * `acceptance` given the ones before it (a constant per-token rate): the
 * expected tokens a step emits are E = (1 - a^(k+1)) / (1 - a)
 * (spec_expected_tokens). The methods and their vLLM names:
 *   DRAFT_MTP     the checkpoint's own multi-token-prediction layers
 *                (num_nextn_predict_layers > 0), vLLM method "mtp"
 *   DRAFT_EAGLE3  an EAGLE-3 draft head (a published checkpoint), "eagle3"
 *   DRAFT_NGRAM   prompt lookup, "ngram": no GPU work for the draft
 */
enum spec_method { DRAFT_NONE = 0, DRAFT_MTP, DRAFT_EAGLE3, DRAFT_NGRAM };

struct spec_decode {
	enum spec_method method;	/* DRAFT_NONE: no speculation (tokens, acceptance unused) */
	int tokens;			/* num_speculative_tokens, 1..16 */
	double acceptance;		/* per-token acceptance, in (0, 1) */
	char draft[96];			/* EAGLE-3: the draft checkpoint (spec_eagle3_draft) */
};

/* No speculative decoding, for struct layout initialisers. */
#define NO_SPEC { DRAFT_NONE, 0, 0, "" }

/* How an instance is laid out. */
struct layout {
	int tp;			/* tensor parallel, power of two, within one NVLink domain */
	int pp;			/* pipeline stages */
	int dp;			/* data-parallel ranks inside the server (1: none) */
	int ep;			/* 1: --enable-expert-parallel: routed experts over tp*dp */
	enum precision precision;
	int kv_elem_bytes;	/* 2: KV in the model dtype (bf16); 1: fp8 KV cache */
	enum a2a_backend a2a;	/* the MoE exchange (A2A_ALLGATHER unless wide EP) */
	int redundant_experts;	/* EPLB: extra expert slots over the group (0: no EPLB) */
	enum pd_role role;	/* PD_AGGREGATED unless one side of a disaggregated pair */
	struct spec_decode spec; /* speculative decoding; zero: none */
};

/*
 * Expert load imbalance under wide EP: tokens the hottest EP rank receives
 * over the mean, DeepSeek-R1 at EP32 (TensorRT-LLM blog4 "Scaling Expert
 * Parallelism", Table 1 @1d263f15: imbalance ratio (max - mean) / mean
 * 1.564 without EPLB, 0.109 with EPLB and one redundant expert slot per
 * rank, 9 slots at EP32). The busiest rank sets the MoE layer's time.
 */
#define EP_IMBALANCE_NO_EPLB 2.564
#define EP_IMBALANCE_EPLB 1.109

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
	double output_max_tokens;	/* each request's max_tokens when outputs stop at
					 * EOS and so vary below it (offline runs drain:
					 * see instance_offline); 0: all are osl long */
	double prefix_hit;		/* share of prompt tokens served from the prefix
					 * cache, [0, 1): they skip prefill compute but are
					 * attended to (instance_prefill_work); 0: none */
};

#define INSTANCE_REQUEST_INIT { 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

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
	double hbm_bw;			/* peak HBM bytes/s */
	double link;			/* bytes/s x link_efficiency */
	struct perf_params p;		/* the profile that answers (instance_set_perf) */
	double alpha_s;
	int layers, moe_layers, hidden;
	int act_bytes;			/* bytes per activation on the wire (fp8: 1) */
	double expert_imbalance;	/* busiest EP rank's expert work over the mean (1: even;
					 * wide EP: EP_IMBALANCE_*) */
};

/*
 * Which profile answered for an instance and how far to trust it: the
 * spread of its measured rows' residuals as a band around every prediction.
 */
struct perf_band {
	char profile[64];		/* 'vllm x Hopper x MoE', 'sglang x amd', 'vllm' */
	int rows;			/* measurements behind it; 0: the unfitted starting point */
	int validated;			/* 1: those rows include this GPU family and model class */
	char note[160];			/* why not, e.g. 'no measurements of sglang on CDNA4:
					 * sglang x amd profile used' */
	double ratio_lo, ratio_hi;	/* measured / predicted output tok/s: p10 and p90 */
	int out_of_sample;		/* 1: the spread is of held-out predictions */
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
	double output_max_tokens;	/* from the request: outputs vary below it; 0: alike */
	double prefix_hit;		/* from the request (instance_set_prefix_hit may change
					 * it): prompt tokens the prefix cache serves */
	double spec_tokens_per_step;	/* expected tokens a decode step emits per sequence
					 * (1 without speculation; spec_expected_tokens) */
	double draft_pass_share;	/* one draft token's pass as a share of the target's
					 * decode pass (0: n-gram or none) */
	double draft_weights_bytes;	/* the drafter's weights per GPU (in weights_bytes_per_gpu) */
	struct instance_perf perf;
	struct perf_band band;		/* the profile behind perf.p */
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
 * The profile of e that answers for GPU g and a dense or MoE model: the
 * most specific fitted one, in the order family x class, family, vendor x
 * class, vendor, engine x class, engine; else e->perf, unfitted. *band
 * (may be NULL) names it, with its spread and whether its rows cover this
 * family and class.
 */
const struct perf_params *engine_perf_select(const struct engine_profile *e,
					     const struct gpu_spec *g, int moe,
					     struct perf_band *band);

/* "vllm x Hopper x MoE": an engine id and a profile's scope and class. */
void perf_profile_name(const char *engine, const struct perf_profile *pr, char *buf,
		       size_t n);

/*
 * Replace the parameters an instance runs with (a fit tries many on one
 * sized instance: the memory side does not depend on them).
 */
void instance_set_perf(struct instance *in, const struct perf_params *p);

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
 * Every load shape runs on the same steps, and planner/slo.c builds the
 * step-time distribution of chunked prefill on this function. With DP the
 * step is the busiest rank's: n below 1 per rank costs one sequence (dummy
 * passes), and prefill_tokens are that rank's (instance_tpot_s puts there a
 * prompt whenever any rank has one, the lockstep's imbalance).
 */
double instance_step_s(const struct instance *in, double n, double ctx, double prefill_tokens,
		       double prefill_keys, int *memory_bound);

/*
 * Prompt tokens in the busiest DP rank's step when every rank starts r
 * prompts of isl tokens a step on average: r x isl with one rank; with dp
 * ranks in lockstep a step carries a prompt whenever any rank has one,
 * isl x max(r, 1 - (1 - r)^dp) -- one rank's prefill delays every rank's
 * decode (instance_tpot_s and planner/slo.c both pass it to instance_step_s).
 */
double instance_lockstep_prefill_tokens(const struct instance *in, double r, double isl);

/* Prefill of one prompt of s tokens alone (chunked by max_num_batched_tokens). */
double instance_prefill_s(const struct instance *in, double s);

/*
 * One DP rank's step over a full chunk of prompt tokens (max_num_batched_tokens
 * of them, from prompts whose tokens attend `keys` keys on average): seconds,
 * the engine's step overhead included. A prefill-only instance (P/D
 * disaggregation) works in such steps under load, so its token rate per
 * rank is max_num_batched_tokens / this.
 */
double instance_prefill_chunk_s(const struct instance *in, double keys);

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

/*
 * All `requests` queued at once. Fixed lengths run in waves; with varied
 * output lengths (output_max_tokens above osl) the batch stays full while requests
 * wait, then drains as the longest finish alone (see instance.c).
 */
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

/*
 * Expected tokens one speculative step emits per sequence: k drafts, each
 * accepted with probability a given the ones before it, plus the target's
 * own token: 1 + a + a^2 + ... + a^k = (1 - a^(k+1)) / (1 - a). k 0 (or a
 * 0) is 1; a must be below 1.
 */
double spec_expected_tokens(double acceptance, int tokens);

/*
 * The default per-token acceptance and draft count of a method, from a
 * published figure (instance.c names each source); 0 when there is none
 * (n-gram: it depends on how much of the output copies the prompt, so it
 * must be given).
 */
double spec_default_acceptance(enum spec_method m);
int spec_default_tokens(enum spec_method m);
/* "mtp", "eagle3", "ngram", "none"; spec_method_parse: -1 when unknown. */
const char *spec_method_name(enum spec_method m);
int spec_method_parse(const char *s, enum spec_method *out);
/*
 * The EAGLE-3 draft checkpoint published for a model id (Hugging Face), or
 * NULL when piqplan knows none.
 */
const char *spec_eagle3_draft(const char *model_id);

/*
 * The prefill work of a prompt of s tokens when a share h of them hits
 * the prefix cache: *new_tokens = (1 - h) s run through the model; each
 * attends on average *keys = s (1 + h) / 2 keys (the hit tokens are
 * attended to, they are not recomputed). Without hits: s and s / 2. The
 * FLOPs a hit saves: 2 x active parameters per hit token, and a share h^2
 * of the prompt's attention (s^2 / 2 -> s^2 (1 - h^2) / 2).
 */
void instance_prefill_work(double s, double h, double *new_tokens, double *keys);

/* Change the prefix-cache hit share an instance's prefills see (planner refinement). */
void instance_set_prefix_hit(struct instance *in, double h);

/*
 * The reuse a finite prefix cache keeps. vLLM caches a finished request's
 * blocks in its free queue and evicts the least recently used when it
 * allocates, so a freed block survives while `free_tokens` (the KV beyond
 * the running batch) take `alloc_tok_s` of new blocks to turn over:
 * T = free_tokens / alloc_tok_s seconds (Che's characteristic time of an
 * LRU cache). A reuse hits when the block was last used less than T ago:
 * within[i] is the measured share of prefix blocks reused within 2^i s
 * (i = 0 .. n - 1; interpolated in log time) of the workload whose reuse
 * with an unbounded cache is `unbounded`. Returns the hit share kept of
 * `asked`: asked x within(T) / unbounded, at most asked. Without a curve
 * (n 0 or unbounded not > 0) the asked share is returned as is.
 */
double prefix_hit_kept(double asked, double unbounded, const double *within, int n,
		       double free_tokens, double alloc_tok_s);

/* Round tokens up to a multiple of `to` (to > 0). */
int64_t round_up_tokens(int64_t tokens, int64_t to);

#endif
