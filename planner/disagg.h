/*
 * disagg.h - prefill/decode disaggregation: a pool served by two kinds of
 * instance, prefill instances that compute prompts and hand each request's
 * KV cache over the scale-out network to decode instances that only decode
 * (vLLM with NixlConnector, SGLang --disaggregation-mode, llm-d). Each side
 * has its own GPU type, parallelism and count; the ratio of prefill to
 * decode instances follows from the workload.
 *
 * The model in one paragraph (README "Serving modes: P/D disaggregation and
 * wide EP" has the long form). A request's KV is its prompt's bytes as the
 * model stores them (model_kv_bytes_per_sequence: MLA latents, windows,
 * indexer keys, fixed states), moved in bytes / (links x scale-out x link
 * efficiency) + DISAGG_TRANSFER_LATENCY_S, one link per GPU that holds a
 * distinct shard of it. A prefill instance is judged on TTFT alone: each DP
 * rank is an M/G/1 queue of prompts served at its full-chunk token rate
 * (instance_prefill_chunk_s), TTFT = front end + queue wait + the prompt's
 * own prefill + the transfer + 1.5 decode steps at the TPOT target (the
 * decode instance's step in progress and its first step, which emits the
 * first token); the percentile is over the pool's prompt points. A decode
 * instance is judged on TPOT with no prefill in its steps (the SLO batch
 * is the largest n with instance_decode_step_s(n) + per-request overhead
 * within the target) and admits a request without waiting for a slot at
 * the percentile (Erlang C over its slots). Both sides stay under the
 * utilisation target and their network under the scale-out bandwidth.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals.
 */
#ifndef PIQPLAN_DISAGG_H
#define PIQPLAN_DISAGG_H

#include <stdint.h>

#include "instance.h"

#define DISAGG_MAX_QUARTERS 40

/*
 * Fixed time of one KV hand-off besides its bytes: the proxy's request to
 * the decode instance and NIXL's notification of the read (an estimate:
 * no published figure; a millisecond is a local HTTP round trip).
 */
#define DISAGG_TRANSFER_LATENCY_S 1e-3

struct plan_gpu;
struct pool_traffic;
struct plan_params;

/* One side of a disaggregated pool: the instance, its rate and what it costs. */
struct disagg_side {
	int gpu;			/* index into the plan_gpu array; -1: none */
	struct instance inst;		/* sized; max_num_seqs is the emitted one */
	int fits;
	char reason[240];		/* why not, or a summary */
	double rate_rps;		/* sustainable requests/s per instance */
	double ttft_s;			/* prefill: TTFT at the percentile at that rate */
	double tpot_s;			/* decode: TPOT at that rate (no prefill in its steps) */
	double busy;			/* utilisation at that rate */
	double usd_per_hour;		/* one instance */
	double usd_per_rps;		/* usd_per_hour / rate_rps: what ranks the sides */
	double prefix_retention_s;	/* prefill side: how long a freed block stays cached
					 * (prefix_hit_kept's T); 0: no hits assumed */
	int64_t instances[DISAGG_MAX_QUARTERS];
};

/* A pool served disaggregated: the cheapest pair found, and what it costs. */
struct disagg_plan {
	int tried;			/* 1: candidates were evaluated */
	int fits;
	char reason[240];		/* why no pair serves the pool, or a summary */
	struct disagg_side prefill, decode;
	double kv_bytes_per_request;	/* the mean prompt's KV, as transferred */
	double transfer_s;		/* the mean prompt's hand-off */
	double pd_ratio;		/* prefill instances per decode instance, from the rates */
	double serving_usd, spare_usd, total_usd;	/* over the horizon */
	int64_t candidates;		/* sides evaluated */
};

/*
 * KV bytes one request of `prompt_tokens` hands over: what a sequence of
 * that many tokens holds in the whole model (TP 1), every layer kind
 * (model_kv_bytes_per_sequence), with kv_elem_bytes 2 (bf16) or 1 (fp8).
 * DeepSeek-V3: 61 x (512 + 64) x 2 B = 70,272 B per token.
 */
double disagg_kv_bytes(const struct model_arch *m, int kv_elem_bytes, double prompt_tokens);

/*
 * Seconds to move `bytes` from a prefill instance to a decode one: bytes /
 * (links x bytes_per_s) + DISAGG_TRANSFER_LATENCY_S, bytes_per_s the
 * slower side's scale-out per GPU times the engine's link efficiency.
 * INFINITY when either side has no scale-out network (bytes_per_s <= 0).
 */
double disagg_transfer_s(double bytes, int links, double bytes_per_s);

/*
 * GPUs of a prefill instance that send a request's KV at once: one per
 * distinct shard of it (TP ranks holding different K/V heads, pipeline
 * stages); MLA latents are whole on every TP rank, so one per stage.
 */
int disagg_links(const struct model_arch *m, const struct instance *in);

/*
 * Prefill instances per decode instance for a demand both sides must
 * serve: decode_rate / prefill_rate (each a sustainable requests/s per
 * instance). 0 when either is not positive.
 */
double disagg_pd_ratio(double prefill_rate_rps, double decode_rate_rps);

/*
 * Evaluate one side: size `l` (its role PD_PREFILL or PD_DECODE) on GPU
 * gpus[gi] for pool t, find its sustainable rate as the model above says
 * (the prefill side with the transfer at `transfer_bytes_per_s` per link),
 * its price. out->fits 0 with the reason when it cannot serve.
 */
void disagg_side_eval(const struct model_arch *m, const struct plan_gpu *gpus, int gi,
		      const struct engine_profile *e, const struct pool_traffic *t,
		      const struct plan_params *p, const struct layout *l,
		      double transfer_bytes_per_s, struct disagg_side *out);

/*
 * The cheapest disaggregated layout of a pool over gpus[0..ngpus-1]:
 * prefill and decode candidates on every GPU type with a scale-out
 * network (TP within a node, DP x EP, wide EP over nodes; PP 1), each
 * side's best few by cost per request/s, then every pair costed over the
 * horizon (instances per quarter for the demand, GPUs beyond those owned,
 * spares once per GPU type). 0, or -1 when out of memory; out->fits 0
 * with the reason when nothing serves (no GPU with a scale-out network,
 * no prefill or no decode candidate that meets its SLO).
 */
int disagg_pool(const struct model_arch *m, const struct plan_gpu *gpus, int ngpus,
		const struct engine_profile *e, const struct pool_traffic *t,
		const struct plan_params *p, struct disagg_plan *out);

#endif
