/*
 * memory.c - vLLM's start-up memory accounting (see memory.h). Each term
 * says which vLLM code or log it follows; the research behind every rule
 * (with the published logs each was checked on) is in seeds/README.md,
 * "vLLM memory model", and the start-ups themselves are tests/data/vllm/.
 *
 * The budget (vllm/v1/worker/gpu_worker.py determine_available_memory,
 * vllm/utils/mem_utils.py memory_profiling):
 *   KV = total x u - weights - torch peak increase - non-torch increase
 *        [- CUDA-graph estimate, from v0.21 (PR #38284,
 *           VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1 by default)]
 * Each worker sizes its own; the engine core then gives every rank the
 * smallest block count (kv_cache_utils.get_kv_cache_configs), so with PP the
 * stage with least room decides the tokens while the log prints rank 0's
 * terms.
 */
#include "memory.h"
#include "instance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0
#define MIB 1048576.0

/* Activations are bf16 (the model dtype piqplan plans: bf16 / fp16). */
#define ACT_BYTES 2.0

/* vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE. */
#define VOCAB_PAD 64

/* envs.py VLLM_FUSED_MOE_CHUNK_SIZE default 16 * 1024: the fused-MoE kernels take at
 * most this many tokens per call, so their workspace stops growing there. */
#define FUSED_MOE_CHUNK 16384


int vllm_version_parse(const char *s, struct vllm_version *v)
{
	const char *p = s;
	char *end;

	v->major = 0;
	v->minor = 21;
	v->patch = 0;
	if (!p)
		return -1;
	while (*p && (*p < '0' || *p > '9'))
		p++;
	if (!*p)
		return -1;
	long a = strtol(p, &end, 10);
	if (*end != '.')
		return -1;
	long b = strtol(end + 1, &end, 10);
	long c = 0;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		c = strtol(end + 1, &end, 10);
	if (a < 0 || a > 99 || b < 0 || b > 999 || c < 0 || c > 999)
		return -1;
	v->major = (int)a;
	v->minor = (int)b;
	v->patch = (int)c;
	return 0;
}

int vllm_version_at_least(const struct vllm_version *v, int major, int minor)
{
	return v->major > major || (v->major == major && v->minor >= minor);
}

void vllm_stage_layers(int layers, int pp, int stage, int *first, int *count)
{
	/*
	 * vllm/distributed/utils.py get_pp_indices: layers / pp each; the
	 * remainder one more each on stages -2, -3, ... (never the last, which
	 * holds the LM head and the sampler).
	 */
	int base = layers / pp, rem = layers % pp, f = 0;

	for (int s = 0; s < stage; s++)
		f += base + (s >= pp - 1 - rem && s < pp - 1);
	*first = f;
	*count = base + (stage >= pp - 1 - rem && stage < pp - 1);
}

double vllm_context_bytes(int gpus_in_group)
{
	/*
	 * In use before the budget's snapshot (CUDA context, NCCL init): the
	 * v0.19 H100 logs show free 78.68 of 79.19 GiB at TP 1 and 77.66 at TP 2
	 * and 4 (llm-d-planner logs). It only caps gpu_memory_utilization.
	 */
	return (gpus_in_group > 1 ? 1.55 : 0.52) * GIB;
}

/* ---- Weights ("Model loading took W GiB") ------------------------------ */

static int has_module(const struct model_arch *m, int i, enum module g)
{
	int mix = m->mixer[i], mlp = m->mlp[i];

	switch (g) {
	case MOD_ATTN:
		return mix == MIX_FULL || mix == MIX_SLIDING || mix == MIX_CHUNKED ||
		       mix == MIX_MLA || mix == MIX_MLA_SPARSE || mix == MIX_CSA;
	case MOD_MIXER:
		return mix == MIX_LINEAR || mix == MIX_MAMBA2;
	case MOD_INDEXER:
		return mix == MIX_MLA_SPARSE || mix == MIX_CSA;
	case MOD_DENSE:
		return mlp == MLP_DENSE || mlp == MLP_DENSE_MOE;
	case MOD_SHARED:
	case MOD_ROUTED:
	case MOD_ROUTER:
		return mlp == MLP_MOE || mlp == MLP_DENSE_MOE;
	case MOD_NORMS:
		return 1;
	case MOD_EMBED:
	case MOD_LM_HEAD:
	case MOD_COUNT:
		break;
	}
	return 0;
}

static double module_bytes(const struct model_weights *w, enum module g)
{
	switch (g) {
	case MOD_ATTN: return w->attention;
	case MOD_MIXER: return w->mixers;
	case MOD_INDEXER: return w->indexer;
	case MOD_DENSE: return w->dense_mlp;
	case MOD_SHARED: return w->shared_experts;
	case MOD_ROUTED: return w->routed_experts;
	case MOD_ROUTER: return w->router;
	case MOD_NORMS: return w->norms;
	case MOD_EMBED: return w->embedding;
	case MOD_LM_HEAD: return w->lm_head;
	case MOD_COUNT: break;
	}
	return 0;
}

/*
 * MXFP4 experts are padded for their kernels (quantization/mxfp4.py):
 * Marlin (Ampere) and the SM90 Triton path round the hidden size up to 256
 * and the expert width per rank to 128, SM100 FlashInfer both to 256.
 * gpt-oss-20b: 2,880 -> 3,072 and 1,440 -> 1,536 at TP 2 on H100, 14 %
 * more: 7.01 GiB logged (v0.19) against 6.43 unpadded; 13.72 at TP 1 on
 * A100 (2,880 -> 2,944).
 */
static double mxfp4_padding(const struct mem_input *in)
{
	const struct model_arch *m = in->m;
	int mx = in->precision == PREC_FP4 ||
		 (in->precision == PREC_NATIVE && m->native_experts == WF_MXFP4);
	if (!mx || m->expert_intermediate <= 0 || m->hidden <= 0)
		return 1;
	double part = in->ep ? m->expert_intermediate :
		      (double)m->expert_intermediate / ((double)in->tp * in->dp);
	double ih = !strcmp(in->g->arch, "Blackwell") ? 256 : 128;
	double hp = ceil(m->hidden / 256.0) * 256, ip = ceil(part / ih) * ih;
	return hp / m->hidden * ip / part;
}

/*
 * Weights of one rank of stage [first, first + count): every module group
 * by the share of its layers on the stage, sharded as vLLM shards it --
 * attention, linear mixers, dense MLPs and shared experts / TP; routed
 * experts / (TP x DP) with or without --enable-expert-parallel
 * (FusedMoEParallelConfig.make flattens TP across DP: without EP every
 * expert is tensor-sliced over the group, with it whole experts are
 * spread); router, indexers, compressors and norms replicated; embedding
 * on the first stage and LM head on the last, vocab-parallel over TP with
 * the vocabulary padded to 64. Plus what vLLM keeps whole on every rank:
 * K/V projections of replicated KV heads (TP > KV heads), MLA's fused
 * q_a / kv_a projection and its norms (MergedReplicatedLinear in
 * deepseek_v2.py), and the rotary cache.
 */
static double stage_weights(const struct mem_input *in, int first, int count, int last)
{
	const struct model_arch *m = in->m;
	struct model_weights w;
	struct model_params p;
	int have[MOD_COUNT] = { 0 }, total[MOD_COUNT] = { 0 };
	int tp = in->tp, pp = in->pp;
	double bytes = 0;

	if (in->weights)
		w = *in->weights;
	else
		model_weights_bytes(m, in->precision, &w);
	if (in->params)
		p = *in->params;
	else
		model_params_count(m, &p);
	/* Module counts over runs of layers of one kind (the modules depend on it alone). */
	for (int i = 0, j; i < m->layers; i = j) {
		for (j = i + 1; j < m->layers && m->mixer[j] == m->mixer[i] && m->mlp[j] == m->mlp[i];
		     j++)
			;
		int lo = i > first ? i : first, hi = j < first + count ? j : first + count;
		int here = hi > lo ? hi - lo : 0;
		for (int g = 0; g < MOD_COUNT; g++)
			if (g != MOD_EMBED && g != MOD_LM_HEAD && has_module(m, i, (enum module)g)) {
				total[g] += j - i;
				have[g] += here;
			}
	}
	for (int g = 0; g < MOD_COUNT; g++) {
		if (g == MOD_EMBED || g == MOD_LM_HEAD || !total[g])
			continue;
		double shard = 1;
		if (g == MOD_ATTN || g == MOD_MIXER || g == MOD_DENSE || g == MOD_SHARED)
			shard = tp;
		else if (g == MOD_ROUTED)
			shard = (double)tp * in->dp;
		double b = module_bytes(&w, (enum module)g) * have[g] / total[g] / shard;
		if (g == MOD_ROUTED)
			b *= mxfp4_padding(in) * (m->experts > 0 ? (double)(m->experts +
			     in->redundant_experts) / m->experts : 1);
		bytes += b;
	}

	double pad = m->vocab > 0 ? (double)((m->vocab + VOCAB_PAD - 1) / VOCAB_PAD * VOCAB_PAD) /
				    (double)m->vocab : 1;
	if (first == 0)
		bytes += w.embedding * pad / tp;
	if (last) {
		if (w.lm_head > 0)
			bytes += w.lm_head * pad / tp;
		else if (pp > 1)	/* tied: the last stage holds its own copy */
			bytes += w.embedding * pad / tp;
	}

	/* Replicated pieces, at the attention weights' bytes per parameter. */
	double attn_bpp = p.attention > 0 ? w.attention / (double)p.attention : 2;
	int attn_layers = 0, mla_layers = 0;
	for (int i = first; i < first + count && i < m->layers; i++) {
		int mix = m->mixer[i];
		attn_layers += mix == MIX_FULL || mix == MIX_SLIDING || mix == MIX_CHUNKED;
		mla_layers += mix == MIX_MLA || mix == MIX_MLA_SPARSE;
	}
	if (m->attention != ATTN_MLA && tp > m->kv_heads && m->kv_heads > 0) {
		/* QKVParallelLinear: one K/V head per rank where there are fewer heads than ranks. */
		double kv = 2.0 * m->hidden * m->head_dim;
		bytes += attn_layers * kv * (1.0 - (double)m->kv_heads / tp) * attn_bpp;
	}
	if (mla_layers > 0 && tp > 1) {
		double rep = (double)m->hidden * (m->q_lora_rank + m->kv_lora_rank +
						  m->qk_rope_head_dim) +
			     m->q_lora_rank + m->kv_lora_rank;
		bytes += mla_layers * rep * (1.0 - 1.0 / tp) * attn_bpp;
	}
	/*
	 * The rotary cos/sin cache, max_position x rotary_dim in the model dtype
	 * (Llama-3.1: 131,072 x 128 x 2 B = 32 MiB, which closes the 8B's
	 * 14.957 -> 14.99 GiB; Llama-4-Scout's 10M positions make it 2.5 GiB,
	 * most of the 2.7 GiB its TP 4 log shows above the parameters).
	 */
	double positions = (double)m->max_context_tokens;
	int rotary = m->attention == ATTN_MLA ? m->qk_rope_head_dim : m->head_dim;
	if (count > 0 && m->mixer_layers[MIX_FULL] + m->mixer_layers[MIX_SLIDING] +
	    m->mixer_layers[MIX_CHUNKED] + m->mixer_layers[MIX_MLA] +
	    m->mixer_layers[MIX_MLA_SPARSE] + m->mixer_layers[MIX_CSA] > 0)
		bytes += positions * rotary * ACT_BYTES;
	return bytes;
}

/* ---- Activation ("torch peak memory increase") --------------------------- */

/*
 * The profile run (gpu_model_runner.py profile_run): one forward pass of
 * max_num_batched_tokens T tokens, then, on the last PP stage only, the
 * sampler on min(max_num_seqs, T) dummy requests over the whole vocabulary
 * (the logits are all-gathered to full vocab on every TP rank, so TP does
 * not shrink it). Fitted on 23 v0.19 H100 start-ups (median error
 * 0.02 GiB):
 *   sampler  S = n_r x V x beta + T x h x b, beta = b + 12.94 B per logit
 *              from v0.17 (Triton top-k/top-p kernel, PR #33538) and
 *              38.4 B before (the sort-based path: Qwen3-14B 5.64 GiB on
 *              v0.15/v0.16 -> 2.23 on v0.17, llm-d accuracy report)
 *   forward  F = T x (3 b I / TP + 4.25 b h)  (gate_up + activation + ~4
 *              hidden-sized tensors)
 *   fused-MoE workspace W = M x k x (max(2 I_e', h) + I_e') x b, M the
 *              tokens the MoE layer sees (all DP ranks' with DP, the
 *              allgather_reducescatter backend), at most the 16,384-token
 *              chunk, I_e' the expert width on the rank; kept by the
 *              workspace manager from v0.17 (it adds to S), transient
 *              before (v0.10.2's Qwen3-235B on L40S prints S alone); the
 *              MXFP4 path (gpt-oss) has none.
 *   last stage A = max(F, S) + W; earlier stages F + 2 T h b + W (no
 *   sampler; their intermediate-tensor buffers: PP 2 / 4 print 1.10 / 1.05).
 */
static double stage_activation(const struct mem_input *in, int first, int count, int last)
{
	const struct model_arch *m = in->m;
	double T = in->max_num_batched_tokens, h = m->hidden, b = ACT_BYTES;
	double n_r = fmin(in->max_num_seqs, T);
	int dense = 0, moe = 0;

	for (int i = first; i < first + count && i < m->layers; i++) {
		dense += m->mlp[i] == MLP_DENSE || m->mlp[i] == MLP_DENSE_MOE;
		moe += m->mlp[i] == MLP_MOE || m->mlp[i] == MLP_DENSE_MOE;
	}
	double I = dense ? m->dense_intermediate : 0;
	double F = T * (3 * b * I / in->tp + 4.25 * b * h);
	double W = 0;
	int mxfp4 = in->precision == PREC_FP4 ||
		    (in->precision == PREC_NATIVE && m->native_experts == WF_MXFP4);
	if (moe && m->experts > 0 && !mxfp4) {
		double M = fmin(T * (in->dp > 1 ? in->dp : 1), FUSED_MOE_CHUNK);
		double Ie = in->ep ? m->expert_intermediate :
			    (double)m->expert_intermediate / ((double)in->tp * in->dp);
		W = M * m->experts_per_token * (fmax(2 * Ie, h) + Ie) * b;
	}
	int kept = vllm_version_at_least(&in->version, 0, 17);
	if (!last)
		return F + 2 * T * h * b + W;
	double beta = kept ? b + 12.94 : 38.4;
	double S = n_r * (double)m->vocab * beta + T * h * b;
	return kept ? fmax(F, S) + W : fmax(F + W, S);
}

/* ---- Non-torch ("non-torch forward increase memory") --------------------- */

/*
 * Growth of memory outside torch's allocator after the post-NCCL snapshot
 * (NCCL channel buffers made on the first collective, cuBLAS and attention
 * workspaces, kernel images), measured, not derived:
 *   one GPU: 0.25 GiB from v0.18 (0.24-0.26 over 20 v0.19 H100 logs), 0.13
 *            on v0.15-v0.17 (Qwen3-14B sweep, llm-d accuracy report);
 *            an earlier PP stage 0.07 (v0.19 PP 2 / 4)
 *   TP (or a DP expert group) >= 2 over NVLink: 2.1 + 0.04 log2(n / 2)
 *            (2.06-2.10 at 2, 2.13-2.21 at 4, v0.19 H100: NCCL's NVLS
 *            buffers, the same 1.79 GiB step PR #10511 saw in V0)
 *   the same over PCIe: 0.2 up to v0.20 (8 x L40S v0.10.2: 0.21), 1.15 from
 *            v0.21 (4 x RTX PRO 6000 v0.27.1 prints 1.70 = consumed - weights,
 *            of which 0.55 is the fused-MoE workspace counted here in the
 *            activation)
 */
static double stage_non_torch(const struct mem_input *in, int last)
{
	int group = in->tp;

	if (in->m->experts > 0 && in->dp > 1)
		group = in->tp * in->dp;
	if (group <= 1) {
		if (!last)
			return 0.07 * GIB;
		return (vllm_version_at_least(&in->version, 0, 18) ? 0.25 : 0.13) * GIB;
	}
	if (in->g->nvlink_domain_gpus > 1) {
		int n = group < in->g->nvlink_domain_gpus ? group : in->g->nvlink_domain_gpus;
		return (2.1 + 0.04 * log2(n / 2.0 > 1 ? n / 2.0 : 1)) * GIB;
	}
	return (vllm_version_at_least(&in->version, 0, 21) ? 1.15 : 0.2) * GIB;
}

/* ---- CUDA graphs ----------------------------------------------------------- */

int vllm_capture_sizes(const struct vllm_version *v, const struct model_arch *m,
		       int max_num_seqs, int *full_graphs)
{
	/*
	 * config/compilation.py: max_cudagraph_capture_size = min(2 x
	 * max_num_seqs, 512) (gpt-oss raises it to 1024: 83 sizes in its v0.19
	 * log); sizes [1, 2, 4] + range(8, 256, 8) + range(256, max + 1, 16)
	 * from v0.11 (51 at 512), [1, 2, 4] + range(8, max + 1, 8) before (67
	 * at 512, v0.10.2). FULL_AND_PIECEWISE (v0.11+) captures a FULL decode
	 * graph too for every size up to max_num_seqs.
	 */
	int cap_max = !strcmp(m->model_type, "gpt_oss") ? 1024 : 512;
	int max = 2 * max_num_seqs < cap_max ? 2 * max_num_seqs : cap_max;
	int n = 0, full = 0, modern = vllm_version_at_least(v, 0, 11);

	for (int s = 1; s <= max;) {
		n++;
		full += s <= max_num_seqs;
		if (s < 4)
			s = s == 1 ? 2 : 4;
		else if (s == 4)
			s = 8;
		else
			s += (!modern || s < 256) ? 8 : 16;
	}
	if (full_graphs)
		*full_graphs = modern ? full : 0;
	return n;
}

/*
 * The captured pool, fitted on 21 v0.19 H100 start-ups (median error
 * 0.04 GiB): graphs x (0.48 + 0.176 x layers) MiB -- a per-graph cost
 * growing with the graph's nodes, MoE layers counting twice -- plus
 * 308 MiB x (h / 4096) / TP of largest-batch activations in the shared
 * pool. vLLM's own estimate (profile_cudagraph_memory: the largest first
 * capture + (n - 1) x the second capture's delta) is about 0.9 x the pool
 * on v0.19 H100 (0.84 vs 0.91 for Llama-3.1-8B).
 */
static double stage_cuda_graphs(const struct mem_input *in, int first, int count, int *graphs)
{
	const struct model_arch *m = in->m;
	int full = 0, layers = 0;

	*graphs = 0;
	if (in->enforce_eager)
		return 0;
	int n = vllm_capture_sizes(&in->version, m, in->max_num_seqs, &full);
	for (int i = first; i < first + count && i < m->layers; i++)
		layers += 1 + (m->mlp[i] == MLP_MOE || m->mlp[i] == MLP_DENSE_MOE);
	*graphs = n + full;
	return ((n + full) * (0.48 + 0.176 * layers) + 308.0 * m->hidden / 4096.0 / in->tp) * MIB;
}

/* ---- KV cache layout ---------------------------------------------------------- */

int vllm_block_size(const struct model_arch *m, const struct gpu_spec *g, int given)
{
	/*
	 * 16 (CacheConfig.DEFAULT_BLOCK_SIZE) unless the attention backend
	 * needs another (platforms/cuda.py check_and_update_config): MLA on
	 * Hopper FlashMLA 64; on Blackwell FlashInfer MLA 64 (qk_nope 128,
	 * dense) or CUTLASS MLA 128; sparse MLA (FLASHMLA_SPARSE) 64;
	 * DeepSeek-V4 256 (DeepseekSparseSWABackend). A given size is kept when
	 * the backend accepts it.
	 */
	int mla = m->attention == ATTN_MLA, sparse = m->mixer_layers[MIX_MLA_SPARSE] > 0;
	int v4 = m->mixer_layers[MIX_CSA] > 0;
	int hopper = !strcmp(g->arch, "Hopper"), blackwell = !strcmp(g->arch, "Blackwell");

	if (v4)
		return given > 0 && given % 256 == 0 ? given : 256;
	if (mla && (sparse || hopper || (blackwell && m->qk_nope_head_dim == 128)))
		return given > 0 && given % 64 == 0 ? given : 64;
	if (mla && blackwell)
		return given > 0 && given % 128 == 0 ? given : 128;
	return given > 0 ? given : 16;
}

/* One layer's cache spec, as kv_cache_interface.py sees it. */
enum spec_kind { SPEC_NONE, SPEC_FULL, SPEC_SLIDING, SPEC_CHUNKED, SPEC_STATE, SPEC_MIXED };

struct spec {
	enum spec_kind kind;
	double bytes;		/* per token per layer (attention), per sequence (state) */
	double window;		/* sliding window / chunk */
	int layers;
	int block;		/* this kind's block size after page unification */
};

static void layer_spec(const struct mem_input *in, int i, struct spec *s)
{
	struct model_kv kv;
	int capped = 0, uncapped = 0;
	double bytes = 0, cap = 0;

	memset(s, 0, sizeof(*s));
	int kvb = in->kv_elem_bytes == 2 && in->m->ckpt.kv_fp8 ? 1 : in->kv_elem_bytes;
	model_kv_terms(in->m, kvb, in->tp, i, 1, &kv);
	for (int t = 0; t < kv.nterms; t++) {
		if (kv.term[t].mem_bytes <= 0)
			continue;
		bytes += kv.term[t].mem_bytes * kv.term[t].scale;
		if (isinf(kv.term[t].cap)) {
			uncapped++;
		} else {
			if (capped && kv.term[t].cap != cap)
				uncapped += 100;	/* two windows: mixed */
			capped++;
			cap = kv.term[t].cap;
		}
	}
	if (kv.state_bytes_per_seq > 0) {
		s->kind = capped || uncapped ? SPEC_MIXED : SPEC_STATE;
		s->bytes = kv.state_bytes_per_seq;
		return;
	}
	if (!capped && !uncapped)
		return;
	if (capped && uncapped) {
		s->kind = SPEC_MIXED;
		return;
	}
	s->bytes = bytes;
	if (uncapped) {
		s->kind = SPEC_FULL;
		return;
	}
	s->kind = in->m->mixer[i] == MIX_CHUNKED ? SPEC_CHUNKED : SPEC_SLIDING;
	s->window = cap;
}

static int64_t cdiv64(double a, double b)
{
	return (int64_t)ceil(a / b - 1e-9);
}

/* Blocks one request of L tokens takes in one group of kind s (max_memory_usage_bytes). */
static int64_t request_blocks(const struct spec *s, double L, double T)
{
	switch (s->kind) {
	case SPEC_FULL:
		return cdiv64(L, s->block);
	case SPEC_SLIDING:
	case SPEC_CHUNKED:
		/* SlidingWindowSpec: cdiv(min(window - 1 + T, L), block) + 1. */
		return cdiv64(fmin(s->window - 1 + T, L), s->block) + 1;
	case SPEC_STATE:
		return 1;	/* mamba_cache_mode none: one state block per request */
	case SPEC_NONE:
	case SPEC_MIXED:
		break;
	}
	return 0;
}

/* Without uniform pages: tokens from bytes (the growth per token once windows are full). */
static void layout_by_bytes(const struct mem_input *in, int first, int count, double kv_bytes,
			    struct mem_stage *out)
{
	struct model_kv kv;
	int kvb = in->kv_elem_bytes == 2 && in->m->ckpt.kv_fp8 ? 1 : in->kv_elem_bytes;

	model_kv_terms(in->m, kvb, in->tp, first, count, &kv);
	double growth = model_kv_growth_bytes_per_token(&kv);
	double seq = model_kv_seq_bytes(&kv, (double)in->max_model_len);
	double fixed = seq - growth * (double)in->max_model_len;
	out->uniform = 0;
	out->groups = 1;
	out->group_size = count;
	out->page_bytes = growth * out->block_size;
	if (kv_bytes <= 0) {
		out->blocks = out->tokens = 0;
	} else if (growth > 0) {
		double room = kv_bytes - fixed;
		out->blocks = room > 0 ? (int64_t)floor(room / growth / out->block_size) : 0;
		out->tokens = out->blocks * out->block_size;
	} else {
		out->blocks = out->tokens = INT64_MAX / 4;
	}
	out->blocks_per_request = kv_bytes > 0 && seq > kv_bytes ? out->blocks + 1 :
				  cdiv64((double)in->max_model_len, out->block_size);
	if (growth <= 0)
		out->blocks_per_request = seq > kv_bytes ? INT64_MAX / 4 + 1 : 1;
}

void vllm_kv_layout(const struct mem_input *in, int first, int count, double kv_bytes,
		    struct mem_stage *out)
{
	struct spec kinds[8];
	int nk = 0, mixed = 0;
	double T = in->max_num_batched_tokens;

	out->block_size = vllm_block_size(in->m, in->g, in->block_size_tokens);
	out->uniform = 1;
	struct spec s;
	for (int i = first; i < first + count && i < in->m->layers; i++) {
		if (i == first || !model_layers_alike(in->m, i, i - 1))
			layer_spec(in, i, &s);	/* else layer i's spec is layer i - 1's */
		if (s.kind == SPEC_NONE)
			continue;
		if (s.kind == SPEC_MIXED) {
			mixed = 1;
			break;
		}
		int k;
		for (k = 0; k < nk; k++)
			if (kinds[k].kind == s.kind && fabs(kinds[k].bytes - s.bytes) < 0.5 &&
			    kinds[k].window == s.window)
				break;
		if (k == nk) {
			if (nk == 8) {
				mixed = 1;
				break;
			}
			kinds[nk++] = s;
		}
		kinds[k].layers++;
	}
	if (mixed || nk == 0) {
		layout_by_bytes(in, first, count, kv_bytes, out);
		return;
	}

	/*
	 * One page size for every layer (kv_cache_utils _get_kv_cache_groups_
	 * uniform_page_size, unify_kv_cache_spec_page_size): attention kinds
	 * with fewer bytes per token get proportionally larger blocks; with
	 * linear-attention / Mamba state the attention block grows to
	 * kb x cdiv(state, kb x attention bytes per token) and the state page
	 * is padded to it (HybridAttentionMambaModelConfig; families-a.md).
	 */
	double attn_max = 0, state_max = 0;
	int nattn = 0;
	for (int k = 0; k < nk; k++) {
		if (kinds[k].kind == SPEC_STATE) {
			state_max = fmax(state_max, kinds[k].bytes);
		} else {
			attn_max = fmax(attn_max, kinds[k].bytes);
			nattn++;
		}
	}
	if (nattn == 0) {
		layout_by_bytes(in, first, count, kv_bytes, out);
		return;
	}
	int block = out->block_size;
	double attn_min = attn_max;
	for (int k = 0; k < nk; k++)
		if (kinds[k].kind != SPEC_STATE)
			attn_min = fmin(attn_min, kinds[k].bytes);
	if (state_max > 0) {
		if (attn_min != attn_max) {
			layout_by_bytes(in, first, count, kv_bytes, out);
			return;
		}
		int kb = block > 16 ? block : 16;
		int64_t grow = cdiv64(state_max, kb * attn_max);
		if (kb * grow > block)
			block = (int)(kb * grow);
	}
	double page = block * attn_max;
	for (int k = 0; k < nk; k++) {
		if (kinds[k].kind == SPEC_STATE) {
			kinds[k].block = block;
			continue;
		}
		double ratio = attn_max / kinds[k].bytes;
		if (fabs(ratio - round(ratio)) > 1e-9) {
			layout_by_bytes(in, first, count, kv_bytes, out);
			return;
		}
		kinds[k].block = (int)(block * llround(ratio));
	}

	/* Grouping: layers per group = the smallest kind's count (the largest when < 1.5 x). */
	int nmin = kinds[0].layers, nmax = kinds[0].layers;
	for (int k = 1; k < nk; k++) {
		nmin = kinds[k].layers < nmin ? kinds[k].layers : nmin;
		nmax = kinds[k].layers > nmax ? kinds[k].layers : nmax;
	}
	int gs = nmax < 1.5 * nmin ? nmax : nmin;
	int groups = 0;
	int64_t per_request = 0;
	for (int k = 0; k < nk; k++) {
		int g = (kinds[k].layers + gs - 1) / gs;
		groups += g;
		per_request += g * request_blocks(&kinds[k], (double)in->max_model_len, T);
	}
	out->block_size = block;
	out->groups = groups;
	out->group_size = gs;
	out->page_bytes = page;
	out->blocks = kv_bytes > 0 ? (int64_t)floor(kv_bytes / (page * gs)) : 0;
	out->blocks_per_request = per_request;
	/* "GPU KV cache size" (kv_cache_utils.py, v0.19): blocks // groups x block. */
	out->tokens = out->blocks / groups * block;
}

/* ---- One stage -------------------------------------------------------------- */

void vllm_memory_stage(const struct mem_input *in, int stage, struct mem_stage *out)
{
	int first, count, last = stage == in->pp - 1;

	memset(out, 0, sizeof(*out));
	vllm_stage_layers(in->m->layers, in->pp, stage, &first, &count);
	out->stage = stage;
	out->first_layer = first;
	out->layers = count;
	out->total_bytes = in->g->memory_torch_bytes > 0 ? in->g->memory_torch_bytes
		: in->g->memory_bytes - 0.6 * GIB;	/* the reserve seen on H100..B200 */
	out->requested_bytes = ceil(out->total_bytes * in->gpu_memory_utilization);
	out->weights_bytes = stage_weights(in, first, count, last);
	out->activation_bytes = stage_activation(in, first, count, last);
	out->non_torch_bytes = stage_non_torch(in, last);
	out->cuda_graph_bytes = stage_cuda_graphs(in, first, count, &out->cuda_graphs);
	/*
	 * A speculative drafter (MTP layers, an EAGLE head) is loaded beside the
	 * last stage's weights, captures its own graphs (one more layer's worth
	 * per draft layer) and keeps its own KV per token: its layers share the
	 * blocks, so the KV a token needs grows by draft_layers / layers.
	 */
	int draft = last ? in->draft_layers : 0;
	if (last && in->draft_weights_bytes > 0)
		out->weights_bytes += in->draft_weights_bytes;
	if (draft > 0 && count > 0)
		out->cuda_graph_bytes *= 1 + (double)draft / count;
	out->cuda_graph_estimate_bytes = 0.9 * out->cuda_graph_bytes;
	out->cuda_graph_in_budget = vllm_version_at_least(&in->version, 0, 21);
	out->kv_bytes = out->requested_bytes - out->weights_bytes - out->activation_bytes -
			out->non_torch_bytes -
			(out->cuda_graph_in_budget ? out->cuda_graph_estimate_bytes : 0);
	double target_kv = draft > 0 && count > 0 && out->kv_bytes > 0 ?
			   out->kv_bytes * count / (count + draft) : out->kv_bytes;
	vllm_kv_layout(in, first, count, target_kv, out);
}
