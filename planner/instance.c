/*
 * instance.c - one model server: the per-GPU memory model, the flags, and a
 * roofline performance model. See instance.h for the contract; the
 * comments here say why each piece of arithmetic is what it is.
 *
 * The performance model in one paragraph. A "pass" carries a micro-batch
 * of tokens (decoding tokens and prefill tokens together, as chunked
 * prefill mixes them) through every pipeline stage. Its time per GPU is a
 * sum of rooflines, max(bytes / bandwidth, FLOPs / peak), one per kind of
 * kernel (dense GEMMs; expert GEMMs, bound at small batches by reading the
 * touched experts' weights at a grouped-GEMM bandwidth; attention), at the
 * peak of the kernel path the weights' format runs on (linear_peak), plus
 * a fixed latency per layer and per MoE layer, plus the collectives on
 * their links (comm.c: tensor-parallel all-reduces, the MoE layers' DP
 * exchange, pipeline hand-offs). An engine step adds the engine's fixed
 * and per-sequence overheads, a request its own; DP ranks step in
 * lockstep. The parameters are a fitted profile (engine_perf_select,
 * calibrate.h). With PP the n running sequences form pp micro-batches of
 * n/pp; each stage works on one while the others work on the rest, so a
 * sequence advances one token per pass through all stages (TPOT = one
 * pass at n/pp tokens) and the instance emits n tokens per TPOT; prefill
 * chunks pipeline the same way, in every load shape. PP therefore buys
 * memory (KV), not speed: the weights are read once per micro-batch.
 */
#include "instance.h"
#include "comm.h"
#include "memory.h"
#include "lib/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GIB 1073741824.0

/*
 * Bisections stop when the bracket is within this fraction of its upper end
 * (1e-4: about 14 halvings, far finer than the model's accuracy), or after
 * BISECT_ITERS halvings. They nest (a rate bisection calls a Little's-law
 * bisection), so the tolerance sets the planner's speed.
 */
#define BISECT_REL 1e-4
#define BISECT_ITERS 60

static void fmt_thousands(char *buf, size_t n, int64_t v)
{
	char tmp[32];
	int len, out = 0, neg = v < 0;
	uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;

	len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)u);
	if (n == 0)
		return;
	if (neg && (size_t)out + 1 < n)
		buf[out++] = '-';
	for (int i = 0; i < len && (size_t)out + 1 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0 && (size_t)out + 2 < n)
			buf[out++] = ',';
		buf[out++] = tmp[i];
	}
	buf[out] = '\0';
}

/* GiB for messages: "80" when whole, else one decimal ("79.6"). */
static void fmt_gib(char *buf, size_t n, double bytes)
{
	double g = bytes / GIB;
	if (fabs(g - round(g)) < 0.05)
		snprintf(buf, n, "%.0f", g);
	else
		snprintf(buf, n, "%.1f", g);
}

int64_t round_up_tokens(int64_t tokens, int64_t to)
{
	if (to <= 0)
		return tokens;
	return (tokens + to - 1) / to * to;
}

double experts_touched(int experts, int experts_per_token, double tokens)
{
	if (experts <= 0 || tokens <= 0)
		return 0.0;
	return experts * (1.0 - pow(1.0 - (double)experts_per_token / experts, tokens));
}

static const char *const class_names[] = { "", "dense", "MoE" };

/* ---- serving modes: speculative decoding and prefix caching (issue 14) ---- */

double spec_expected_tokens(double a, int k)
{
	if (k <= 0 || !(a > 0))
		return 1;
	if (a >= 1)
		return k + 1;
	return (1 - pow(a, k + 1)) / (1 - a);
}

/*
 * Defaults, each from a published figure (notes/perf.md section 1):
 * - MTP: DeepSeek-V3's one MTP module, "the acceptance rate of the second
 *   token prediction ranges between 85% and 90%" (DeepSeek-V3 technical
 *   report, arXiv 2412.19437 section 5.4.3): 0.85, the low end, one draft
 *   (E = 1.85, the report's "1.8 times TPS"). Drafting further with the
 *   one module accepts less per token (nebius/MTP-DeepSeek-V3-0324: mean
 *   acceptance length 3.20 at K = 7, i.e. a = 0.71), so more drafts want
 *   their own --spec-acceptance.
 * - EAGLE-3: RedHatAI's Llama-3.3-70B EAGLE-3 head, MT-bench acceptance
 *   length 2.88 at K = 7, T = 1 (HF card nebius/EAGLE3-Llama-3.3-70B-
 *   Instruct): (1 - a^8) / (1 - a) = 2.88 gives a = 0.666, taken as 0.66;
 *   three drafts, as vLLM's recipes run them (E = 2.38).
 * - n-gram: no per-token figure is published (it depends on how much of
 *   the output copies the prompt: vLLM's 2024 blog measured 2.8x on
 *   CNN/DailyMail and a slowdown on ShareGPT), so it must be given.
 */
double spec_default_acceptance(enum spec_method m)
{
	switch (m) {
	case DRAFT_MTP:
		return 0.85;
	case DRAFT_EAGLE3:
		return 0.66;
	default:
		return 0;
	}
}

int spec_default_tokens(enum spec_method m)
{
	switch (m) {
	case DRAFT_MTP:
		return 1;
	case DRAFT_EAGLE3:
		return 3;
	case DRAFT_NGRAM:
		return 4;
	default:
		return 0;
	}
}

const char *spec_method_name(enum spec_method m)
{
	switch (m) {
	case DRAFT_MTP:
		return "mtp";
	case DRAFT_EAGLE3:
		return "eagle3";
	case DRAFT_NGRAM:
		return "ngram";
	default:
		return "none";
	}
}

int spec_method_parse(const char *s, enum spec_method *out)
{
	static const enum spec_method all[] = { DRAFT_NONE, DRAFT_MTP, DRAFT_EAGLE3, DRAFT_NGRAM };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, spec_method_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	/* vLLM's older name for DeepSeek's MTP (vllm/config/speculative.py MTPModelTypes). */
	if (!strcmp(s, "deepseek_mtp")) {
		*out = DRAFT_MTP;
		return 0;
	}
	return -1;
}

/*
 * Published EAGLE-3 heads (notes/perf.md section 1): yuhuili's for
 * Llama-3.1-8B-Instruct, RedHatAI's for Llama-3.3-70B-Instruct (the 3.1
 * 70B shares its architecture), NVIDIA's for gpt-oss-120b (vLLM recipe
 * OpenAI/GPT-OSS.md), AngelSlim's for Qwen3 (angelslim.readthedocs.io).
 */
const char *spec_eagle3_draft(const char *model_id)
{
	static const struct { const char *model, *draft; } known[] = {
		{ "meta-llama/Llama-3.1-8B", "yuhuili/EAGLE3-LLaMA3.1-Instruct-8B" },
		{ "meta-llama/Llama-3.1-70B", "RedHatAI/Llama-3.3-70B-Instruct-speculator.eagle3" },
		{ "openai/gpt-oss-120b", "nvidia/gpt-oss-120b-Eagle3-v2" },
		{ "Qwen/Qwen3-8B", "AngelSlim/Qwen3-8B_eagle3" },
		{ "Qwen/Qwen3-32B", "AngelSlim/Qwen3-32B_eagle3" },
		{ "Qwen/Qwen3-30B-A3B", "AngelSlim/Qwen3-a3B_eagle3" },
	};
	if (!model_id)
		return NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(model_id, known[i].model))
			return known[i].draft;
	return NULL;
}

void instance_prefill_work(double s, double h, double *new_tokens, double *keys)
{
	if (!(h > 0))
		h = 0;
	if (h > 1)
		h = 1;
	if (new_tokens)
		*new_tokens = (1 - h) * s;
	if (keys)
		*keys = s * (1 + h) / 2;
}

void instance_set_prefix_hit(struct instance *in, double h)
{
	in->prefix_hit = h > 0 ? (h < 0.999 ? h : 0.999) : 0;
}

double prefix_hit_kept(double asked, double unbounded, const double *within, int n,
		       double free_tokens, double alloc_tok_s)
{
	if (!(asked > 0))
		return 0;
	if (!within || n <= 0 || !(unbounded > 0))
		return asked;
	if (!(free_tokens > 0))
		return 0;
	double t = alloc_tok_s > 0 ? free_tokens / alloc_tok_s : INFINITY, kept;
	if (t <= 1)
		kept = within[0] * t;	/* below a second: linear down to nothing */
	else if (t >= ldexp(1, n - 1))
		kept = within[n - 1];
	else {
		double x = log2(t);
		int i = (int)floor(x);
		kept = within[i] + (within[i + 1] - within[i]) * (x - i);
	}
	double h = asked * kept / unbounded;
	return h < asked ? h : asked;
}

void perf_profile_name(const char *engine, const struct perf_profile *pr, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", engine, pr->scope_name[0] ? " x " : "", pr->scope_name,
		 pr->model_class != PERF_CLASS_ANY ? " x " : "", class_names[pr->model_class]);
}

/* The profile of scope/name/class in e, or NULL. */
static const struct perf_profile *find_profile(const struct engine_profile *e,
					       enum perf_scope scope, const char *name,
					       enum perf_class cls)
{
	for (int i = 0; i < e->nprofiles; i++) {
		const struct perf_profile *pr = &e->profiles[i];
		if (pr->scope == scope && pr->model_class == cls && pr->rows > 0 &&
		    (scope == PERF_SCOPE_ENGINE || !strcmp(pr->scope_name, name)))
			return pr;
	}
	return NULL;
}

const struct perf_params *engine_perf_select(const struct engine_profile *e,
					     const struct gpu_spec *g, int moe,
					     struct perf_band *band)
{
	static const struct { enum perf_scope scope; int by_class; } order[] = {
		{ PERF_SCOPE_ARCH, 1 }, { PERF_SCOPE_ARCH, 0 }, { PERF_SCOPE_VENDOR, 1 },
		{ PERF_SCOPE_VENDOR, 0 }, { PERF_SCOPE_ENGINE, 1 }, { PERF_SCOPE_ENGINE, 0 },
	};
	enum perf_class cls = moe ? PERF_CLASS_MOE : PERF_CLASS_DENSE;
	const struct perf_profile *pr = NULL;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !pr; i++) {
		const char *name = order[i].scope == PERF_SCOPE_ARCH ? g->arch : g->vendor;
		if (order[i].scope != PERF_SCOPE_ENGINE && !name[0])
			continue;
		pr = find_profile(e, order[i].scope, name, order[i].by_class ? cls : PERF_CLASS_ANY);
	}
	if (!band)
		return pr ? &pr->p : &e->perf;
	memset(band, 0, sizeof(*band));
	band->ratio_lo = band->ratio_hi = 1;
	if (!pr) {
		snprintf(band->profile, sizeof(band->profile), "%s", e->id);
		snprintf(band->note, sizeof(band->note),
			 "no measurements of %s: its unfitted starting point used", e->id);
		return &e->perf;
	}
	perf_profile_name(e->id, pr, band->profile, sizeof(band->profile));
	band->rows = pr->rows;
	band->out_of_sample = pr->out_of_sample;
	/* ln(pred/measured) at p90 is the most optimistic prediction: measured = pred / e^x. */
	band->ratio_lo = exp(-pr->log_p90);
	band->ratio_hi = exp(-pr->log_p10);
	int class_rows = moe ? pr->rows_moe : pr->rows_dense;
	band->validated = pr->scope == PERF_SCOPE_ARCH && class_rows > 0;
	if (!band->validated) {
		const char *fam = g->arch[0] ? g->arch : g->id;
		if (pr->scope == PERF_SCOPE_ARCH)
			snprintf(band->note, sizeof(band->note),
				 "no %s measurements of %.31s on %.15s: %.63s profile used",
				 moe ? "MoE" : "dense", e->id, fam, band->profile);
		else
			snprintf(band->note, sizeof(band->note),
				 "no measurements of %.31s on %.15s: %.63s profile used", e->id, fam,
				 band->profile);
	}
	return &pr->p;
}

void instance_set_perf(struct instance *in, const struct perf_params *p)
{
	in->perf.p = *p;
}

const char *instance_bound_name(int memory_bound)
{
	return memory_bound ? "memory" : "compute";
}

static int is_pow2(int v)
{
	return v > 0 && (v & (v - 1)) == 0;
}

/*
 * The kernel path a group of linear layers runs on, by how its weights are
 * stored and what the GPU family has (notes/perf.md section 4, vLLM's
 * default paths). The precision is the checkpoint's (effective_precision:
 * fp4 only from an MXFP4 or NVFP4 checkpoint, fp8 from one or online from
 * bf16):
 *
 *   weights        FP8 tensor cores (Ada, Hopper,   none (Ampere)
 *                  Blackwell, CDNA3 fnuz, CDNA4)
 *   fp8            W8A8 at the FP8 peak             W8A16, FP8 Marlin: BF16 peak
 *                                                   (fp8.py use_marlin below
 *                                                   capability 8.9)
 *   int8           W8A8 at the FP8 (8-bit) peak     BF16 peak
 *   mxfp4          W4A16: BF16 peak on every family (vLLM's default MXFP4 MoE
 *                  runs BF16 activations even on Blackwell; Hopper and Ampere
 *                  Marlin/Triton W4A16; ROCm A16W4)
 *   nvfp4          W4A4 at the FP4 peak where there are FP4 tensor cores
 *                  (Blackwell), else W4A16 (FP4 Marlin)
 *   int4           W4A16: BF16 peak (AWQ, GPTQ, compressed-tensors W4A16)
 *
 * *weight_only is set when the weights are narrower than the arithmetic.
 */
static double linear_peak(const struct gpu_spec *g, enum weight_format f, int *weight_only)
{
	switch (f) {
	case WF_FP8:
		if (g->fp8_flops > 0)
			return g->fp8_flops;
		*weight_only = 1;
		return g->bf16_flops;
	case WF_INT8:
		return g->fp8_flops > 0 ? g->fp8_flops : g->bf16_flops;
	case WF_MXFP4:
		*weight_only = 1;
		return g->bf16_flops;
	case WF_NVFP4:
		if (g->fp4_flops > 0)
			return g->fp4_flops;
		*weight_only = 1;
		return g->bf16_flops;
	case WF_INT4:
		*weight_only = 1;
		return g->bf16_flops;
	case WF_BF16:
	case WF_FP32:
	case WF_COUNT:
		break;
	}
	return g->bf16_flops;
}

static enum weight_format format_of(const struct model_arch *m, enum precision p, int experts)
{
	switch (p) {
	case PREC_FP8:
		return WF_FP8;
	case PREC_FP4:
		return WF_MXFP4;
	case PREC_NATIVE:
		return experts ? m->native_experts : m->native_linear;
	case PREC_BF16:
		break;
	}
	return WF_BF16;
}

/* Whether the instance's linear layers (or, with routed experts, those) are stored as f. */
static int stores_format(const struct model_arch *m, enum precision p, enum weight_format f)
{
	return format_of(m, p, 0) == f || (m->experts > 0 && format_of(m, p, 1) == f);
}

/* The caveat of a weight-only kernel path (linear_peak set *weight_only). */
static void weight_only_note(const struct model_arch *m, const struct gpu_spec *g,
			     enum precision p, char *note, size_t n)
{
	if (stores_format(m, p, WF_FP8) && g->fp8_flops <= 0)
		snprintf(note, n, "fp8 weights run weight-only on %s (FP8 Marlin, W8A16: bf16 "
			 "compute)", g->id);
	else if (stores_format(m, p, WF_MXFP4))
		snprintf(note, n, "mxfp4 weights run W4A16 (bf16 activations, vLLM's default MXFP4 "
			 "path)");
	else if (stores_format(m, p, WF_NVFP4))
		snprintf(note, n, "fp4 weights run weight-only (bf16 compute): %s has no FP4 tensor "
			 "cores", g->id);
	else
		snprintf(note, n, "int4 weights run weight-only (W4A16, bf16 compute)");
}

int instance_max_tp(const struct gpu_spec *g)
{
	int node = comm_node_gpus(g);
	return g->nvlink_domain_gpus > node ? g->nvlink_domain_gpus : node;
}

int instance_max_expert_group(const struct gpu_spec *g)
{
	int one = instance_max_tp(g);
	return g->scaleout_bytes_per_s > 0 ? 4 * comm_node_gpus(g) > one ? 4 * comm_node_gpus(g)
									  : one : one;
}

/*
 * Wide EP (DeepEP all-to-all, EPLB) and the roles of a disaggregated pair:
 * DeepEP needs expert parallelism over DP ranks (vLLM: --all2all-backend
 * deepep_* with --enable-expert-parallel and DP attention, docs
 * serving/expert_parallel_deployment), and runs over NVSHMEM on NVIDIA
 * GPUs (deepseek-ai/DeepEP README: Hopper and later; ROCm has its own MoRI
 * kernels, which piqplan does not model); EPLB's redundant experts need
 * EP. Pipeline parallelism is left out of both (piqplan models DP x EP
 * with PP 1 there).
 */
static int wide_ep_refused(const struct model_arch *m, const struct gpu_spec *g,
			   const struct layout *l, char *why, size_t n)
{
	if (l->role != PD_AGGREGATED && l->role != PD_PREFILL && l->role != PD_DECODE) {
		snprintf(why, n, "unknown serving role %d", (int)l->role);
		return 1;
	}
	if (l->a2a != A2A_ALLGATHER && l->a2a != A2A_DEEPEP_HT && l->a2a != A2A_DEEPEP_LL) {
		snprintf(why, n, "unknown all-to-all backend %d", (int)l->a2a);
		return 1;
	}
	if (l->redundant_experts < 0 || l->redundant_experts > 4096) {
		snprintf(why, n, "redundant experts %d (0 to 4,096)", l->redundant_experts);
		return 1;
	}
	if (l->a2a == A2A_ALLGATHER && l->redundant_experts == 0)
		return 0;
	if (m->experts == 0 || !l->ep || l->dp < 2) {
		snprintf(why, n, "wide EP (DeepEP all-to-all, EPLB) needs a MoE model with expert "
			 "parallelism over data-parallel ranks (--ep, dp >= 2)");
		return 1;
	}
	if (l->a2a != A2A_ALLGATHER && strcmp(g->vendor, "nvidia")) {
		snprintf(why, n, "DeepEP runs on NVIDIA GPUs (NVSHMEM); %s is %s", g->id,
			 g->vendor[0] ? g->vendor : "not known to be NVIDIA");
		return 1;
	}
	if (l->pp > 1) {
		snprintf(why, n, "wide EP is planned with pp 1 (DP attention x EP)");
		return 1;
	}
	return 0;
}

/*
 * Why vLLM would not start this layout at all, before any memory
 * arithmetic; 0 if it would. The rules and where vLLM enforces them:
 * config/model.py verify_with_parallel_config (heads / TP, EP needs
 * experts), linear.py QKVParallelLinear (K/V heads and TP divide each
 * other), vocab_parallel_embedding.py (the padded vocabulary / TP),
 * fused_moe/config.py FusedMoEConfig (without EP the expert width / (TP x
 * DP)), quantization/fp8.py (block-fp8 shards stay whole 128 blocks), and
 * the launch: a DP rank's TP x PP GPUs live in one node (each node runs
 * --data-parallel-size-local whole ranks), nodes talk over the scale-out
 * network, and TP across nodes is only planned when asked for.
 */
/*
 * Speculative decoding vLLM would not run: MTP on a checkpoint without MTP
 * layers (num_nextn_predict_layers 0), EAGLE-3 without a draft head, any
 * method with pipeline parallelism (vLLM's speculative-decoding docs: "Pipeline
 * parallelism is not supported with speculative decoding"; the V1 drafter
 * runs on the last rank's hidden states), a draft count or acceptance out of
 * range.
 */
static int spec_refused(const struct model_arch *m, const struct layout *l, char *why,
			size_t n)
{
	const struct spec_decode *sp = &l->spec;
	if (sp->method == DRAFT_NONE)
		return 0;
	if (sp->tokens < 1 || sp->tokens > 16) {
		snprintf(why, n, "num_speculative_tokens %d (1 to 16)", sp->tokens);
		return 1;
	}
	if (!(sp->acceptance > 0 && sp->acceptance < 1)) {
		snprintf(why, n, "speculative acceptance %g (between 0 and 1)", sp->acceptance);
		return 1;
	}
	if (l->pp > 1) {
		snprintf(why, n, "speculative decoding (%s) with pp %d: vLLM does not run "
			 "speculative decoding with pipeline parallelism",
			 spec_method_name(sp->method), l->pp);
		return 1;
	}
	if (sp->method == DRAFT_MTP && m->mtp_layers <= 0) {
		snprintf(why, n, "MTP needs the checkpoint's multi-token-prediction layers "
			 "(%s has num_nextn_predict_layers 0)", m->model_type);
		return 1;
	}
	if (sp->method == DRAFT_EAGLE3 && !sp->draft[0]) {
		snprintf(why, n, "no EAGLE-3 draft head is known for this model");
		return 1;
	}
	return 0;
}

static int layout_refused(const struct model_arch *m, const struct gpu_spec *g,
			  const struct layout *l, const struct instance_request *rq, char *why,
			  size_t n)
{
	int node = comm_node_gpus(g);
	int gpus = l->tp * l->pp * l->dp;

	if (l->tp < 1 || l->pp < 1 || l->dp < 1 || !is_pow2(l->tp)) {
		snprintf(why, n, "invalid layout tp %d pp %d dp %d (tp a power of two, all >= 1)",
			 l->tp, l->pp, l->dp);
		return 1;
	}
	if (l->kv_elem_bytes != 1 && l->kv_elem_bytes != 2) {
		snprintf(why, n, "KV element size %d bytes (2 or 1)", l->kv_elem_bytes);
		return 1;
	}
	if (g->not_vllm_served) {
		snprintf(why, n, "%s (%s) is not served by vLLM's CUDA/ROCm path", g->id,
			 g->arch[0] ? g->arch : "other backend");
		return 1;
	}
	if (l->tp > node && l->tp > g->nvlink_domain_gpus && !rq->cross_node_tp) {
		snprintf(why, n, "tp %d spans %d nodes of %d GPUs: tensor parallelism across nodes "
			 "is planned only when asked (--cross-node-tp)", l->tp,
			 (l->tp + node - 1) / node, node);
		return 1;
	}
	if (gpus > node && gpus > g->nvlink_domain_gpus && g->scaleout_bytes_per_s <= 0) {
		snprintf(why, n, "%d GPUs span %d nodes, but %s has no scale-out network in the "
			 "catalog", gpus, (gpus + node - 1) / node, g->id);
		return 1;
	}
	if (l->dp > 1 && gpus > node && (l->tp * l->pp > node || node % (l->tp * l->pp))) {
		snprintf(why, n, "a data-parallel rank (tp x pp = %d GPUs) does not fit whole in a "
			 "%d-GPU node: vLLM runs whole ranks per node", l->tp * l->pp, node);
		return 1;
	}
	if (l->ep && m->experts == 0) {
		snprintf(why, n, "expert parallelism needs routed experts (%s is dense)",
			 m->model_type);
		return 1;
	}
	/* vLLM shards query heads evenly; K/V heads split or replicate evenly. */
	if (m->heads % l->tp) {
		snprintf(why, n, "tp %d does not divide the %d attention heads", l->tp, m->heads);
		return 1;
	}
	if (m->attention != ATTN_MLA && m->kv_heads % l->tp && l->tp % m->kv_heads) {
		snprintf(why, n, "tp %d and the %d KV heads do not divide each other", l->tp,
			 m->kv_heads);
		return 1;
	}
	int64_t vpad = (m->vocab + 63) / 64 * 64;
	if (vpad % l->tp) {
		snprintf(why, n, "tp %d does not divide the vocabulary padded to %lld", l->tp,
			 (long long)vpad);
		return 1;
	}
	int group = l->tp * l->dp;
	if (m->experts > 0 && !l->ep && m->expert_intermediate % group) {
		snprintf(why, n, "without expert parallelism each expert is split over tp x dp = %d "
			 "GPUs, which does not divide its width %d (use --ep)", group,
			 m->expert_intermediate);
		return 1;
	}
	if (m->experts > 0 && l->ep && group > m->experts) {
		snprintf(why, n, "expert parallel group %d (tp x dp) exceeds the %d experts", group,
			 m->experts);
		return 1;
	}
	int block_fp8 = l->precision == PREC_NATIVE && strstr(m->ckpt.scheme, "block");
	if (block_fp8 && m->experts > 0 && !l->ep && m->ckpt.fmt[MOD_ROUTED] == WF_FP8 &&
	    (m->expert_intermediate / group) % 128) {
		snprintf(why, n, "the fp8 checkpoint's 128 x 128 blocks do not split over tp x dp "
			 "= %d: the expert width per GPU %d / %d is not a multiple of 128 (use --ep)",
			 group, m->expert_intermediate, group);
		return 1;
	}
	if (block_fp8 && m->dense_layers > 0 && m->ckpt.fmt[MOD_DENSE] == WF_FP8 &&
	    (m->dense_intermediate / l->tp) % 128) {
		snprintf(why, n, "the fp8 checkpoint's 128 x 128 blocks do not split over tp %d: "
			 "the MLP width per GPU %d / %d is not a multiple of 128", l->tp,
			 m->dense_intermediate, l->tp);
		return 1;
	}
	if (l->pp > m->layers) {
		snprintf(why, n, "pp %d exceeds the %d layers", l->pp, m->layers);
		return 1;
	}
	if (wide_ep_refused(m, g, l, why, n))
		return 1;
	return spec_refused(m, l, why, n);
}

/*
 * The precision the instance really runs, or why vLLM would not: the
 * checkpoint decides (config/model.py _verify_quantization). --quantization
 * fp8 is online quantisation of a bf16 checkpoint (fp8.py, on every GPU
 * vLLM serves: weight-only W8A16 Marlin on Ampere); a checkpoint quantised
 * otherwise is refused by vLLM ("Quantization method specified in the model
 * config (mxfp4) does not match ... (fp8)"), an fp8 one is simply run as
 * stored. fp4 comes only from a pre-quantised MXFP4 / NVFP4 checkpoint.
 */
static int effective_precision(const struct model_arch *m, enum precision p,
			       enum precision *out, char *why, size_t n)
{
	const char *qm = m->ckpt.quant_method;
	int fp4 = m->native_linear == WF_MXFP4 || m->native_linear == WF_NVFP4 ||
		  (m->experts > 0 && (m->native_experts == WF_MXFP4 ||
				      m->native_experts == WF_NVFP4));
	int fp8 = m->native_linear == WF_FP8 || (m->experts > 0 && m->native_experts == WF_FP8);

	*out = p;
	if (p == PREC_FP8 && qm[0]) {
		if (fp8) {
			*out = PREC_NATIVE;
			return 0;
		}
		bprintf(why, n, "--quantization fp8 needs a bf16 checkpoint: this one is %s "
			 "(quant_method '%s'), and vLLM refuses another method", m->ckpt.scheme, qm);
		return 1;
	}
	if (p == PREC_FP4) {
		if (fp4) {
			*out = PREC_NATIVE;
			return 0;
		}
		bprintf(why, n, "fp4 needs a pre-quantised MXFP4 or NVFP4 checkpoint: vLLM does "
			 "not quantise a %s checkpoint to fp4 (import one with model import)",
			 qm[0] ? m->ckpt.scheme : "bf16");
		return 1;
	}
	return 0;
}

/*
 * Fill the performance summary: everything summed over the stages, as one
 * GPU of each stage sees it. Linear-attention and Mamba mixers shard over
 * TP like attention; the sparse-attention indexer and V4's compressors are
 * replicated on every rank (vLLM ReplicatedLinear).
 */
static void fill_perf(const struct model_arch *m, const struct model_params *p,
		      const struct model_weights *w, const struct gpu_spec *g,
		      const struct engine_profile *e, const struct layout *l, int expert_shards,
		      int kv_elem_bytes, struct instance *out)
{
	struct instance_perf *q = &out->perf;
	int tp = l->tp;
	double lm_head_bytes = w->lm_head > 0 ? w->lm_head : w->embedding;
	double lm_head_params = p->lm_head > 0 ? (double)p->lm_head : (double)p->embedding;
	int wo = 0;

	memset(q, 0, sizeof(*q));
	/* The embedding is a row gather (negligible); the LM head a full read. */
	q->dense_bytes = (w->attention + w->mixers + w->dense_mlp + w->shared_experts +
			  lm_head_bytes) / tp + w->indexer + w->router + w->norms;
	/* EPLB's redundant slots: (E + R) / E of the routed weights over the group. */
	double slots = m->experts > 0 ? (double)(m->experts + l->redundant_experts) / m->experts : 1;
	q->routed_bytes = w->routed_experts * slots / expert_shards;
	q->dense_flops_per_token = 2.0 * ((double)(p->attention + p->mixers + p->dense_mlp +
				   p->shared_experts) + lm_head_params) / tp +
				   2.0 * (double)(p->router + p->indexer);
	if (m->experts > 0)
		q->routed_flops_per_token = 2.0 * (double)p->routed_experts *
					    m->experts_per_token / m->experts / tp;

	/*
	 * Attention per context token, per layer kind (model_kv_terms): full
	 * layers over the whole context, windowed ones up to their window,
	 * sparse ones over index_topk entries plus the indexer's pass over
	 * every key, compressed ones over context / ratio; linear and Mamba
	 * layers a fixed cost per token.
	 */
	model_kv_terms(m, kv_elem_bytes, tp, 0, m->layers, &q->kv);
	/*
	 * Sparse-attention indexers score keys in fp8 (vLLM fp8_mqa_logits):
	 * their FLOPs count at the fp8 rate where there are FP8 tensor cores
	 * (the attention roofline divides by the bf16 peak).
	 */
	if (g->fp8_flops > 0)
		for (int i = 0; i < q->kv.nterms; i++)
			if (q->kv.term[i].category == KV_INDEXER) {
				q->kv.term[i].flops_decode *= g->bf16_flops / g->fp8_flops;
				q->kv.term[i].flops_prefill *= g->bf16_flops / g->fp8_flops;
			}
	q->experts = m->experts;
	q->experts_per_token = m->experts_per_token;
	/*
	 * The routed experts are sharded over tp x dp GPUs with or without
	 * --enable-expert-parallel (fused_moe/config.py), so every DP rank's
	 * tokens meet in each MoE layer: the experts see the union batch.
	 */
	q->moe_tokens_scale = l->dp;
	q->expert_imbalance = 1;
	if (l->a2a != A2A_ALLGATHER)
		q->expert_imbalance = l->redundant_experts > 0 ? EP_IMBALANCE_EPLB
							       : EP_IMBALANCE_NO_EPLB;

	q->peak_dense_flops = linear_peak(g, format_of(m, l->precision, 0), &wo);
	if (m->experts > 0)
		q->peak_routed_flops = linear_peak(g, format_of(m, l->precision, 1), &wo);
	q->peak_attn_flops = g->bf16_flops;
	out->weight_only = wo;
	out->compute_fp8 = g->fp8_flops > 0 && (format_of(m, l->precision, 0) == WF_FP8 ||
			   (m->experts > 0 && format_of(m, l->precision, 1) == WF_FP8));
	q->act_bytes = out->compute_fp8 ? 1 : 2;

	q->hbm_bw = g->mem_bw_bytes_per_s;
	q->link = g->link_bytes_per_s * e->link_efficiency;
	q->alpha_s = e->allreduce_alpha_s;
	q->p = *engine_perf_select(e, g, m->experts > 0, &out->band);
	q->layers = m->layers;
	q->moe_layers = m->moe_layers;
	q->hidden = m->hidden;
}

/*
 * The drafter of a speculative layout: tokens per step, the cost of one
 * draft token as a share of the target's decode pass, its weights per GPU.
 * MTP (vLLM runs the checkpoint's MTP layer once per draft token): one
 * decoder layer of the target's plus the shared LM head and eh_proj, about
 * two layers' worth of a pass, 2 / layers; its weights are the MTP layer's
 * (model_params.mtp), routed experts over tp x dp like the target's, the
 * rest over tp. EAGLE-3: one dense decoder layer of the target's width, a
 * 3h -> h fusion and a 32k-token draft vocabulary head -- also about two
 * layers of a pass; its weights, in bf16 over tp, 4h^2 + 3hI + 3h^2 +
 * 32,000h (I the MLP width, 4h without a dense MLP). n-gram: prompt lookup
 * on the CPU, nothing on the GPU.
 */
static void set_draft(const struct model_arch *m, const struct model_params *p,
		      const struct model_weights *w, const struct layout *l, struct instance *out)
{
	const struct spec_decode *sp = &l->spec;
	double h = m->hidden;
	out->spec_tokens_per_step = spec_expected_tokens(sp->acceptance, sp->tokens);
	out->draft_pass_share = sp->method == DRAFT_NGRAM ? 0 : 2.0 / m->layers;
	if (sp->method == DRAFT_MTP) {
		double routed = m->moe_layers > 0 ? (double)p->routed_experts / m->moe_layers : 0;
		double routed_b = p->routed_experts > 0 ? w->routed_experts / p->routed_experts : 0;
		double other_b = p->attention > 0 ? w->attention / p->attention : 2;
		double rest = fmax(0, (double)p->mtp - routed);
		out->draft_weights_bytes = routed * routed_b / (l->tp * l->dp) +
					   rest * other_b / l->tp;
	} else if (sp->method == DRAFT_EAGLE3) {
		double inter = m->dense_intermediate > 0 ? m->dense_intermediate : 4 * h;
		out->draft_weights_bytes = 2 * (7 * h * h + 3 * h * inter + 32000 * h) / l->tp;
	}
}

static int gpu_is_large(const struct gpu_spec *g, const struct engine_profile *e)
{
	if (e->large_gpu_exclude[0] && strstr(g->id, e->large_gpu_exclude))
		return 0;
	return g->memory_bytes >= e->large_gpu_min_bytes;
}

int64_t instance_seqs_fit(const struct instance *in, double resident)
{
	double per_seq = model_kv_seq_bytes(&in->stage_kv, resident);

	if (in->kv_budget_bytes_per_gpu <= 0 || per_seq <= 0)
		return 0;
	return (int64_t)floor(in->kv_budget_bytes_per_gpu / per_seq);
}

/* Set the busiest stage's per-layer-kind terms (what a sequence holds on one of its GPUs). */
static void set_stage_kv(const struct model_arch *m, int kv_bytes, const struct layout *l,
			 int first, int count, struct instance *out)
{
	model_kv_terms(m, kv_bytes, l->tp, first, count, &out->stage_kv);
	out->stage_layers = count;
	out->kv_bytes_per_token_per_gpu = model_kv_growth_bytes_per_token(&out->stage_kv);
	out->kv_window_tokens = model_kv_window_tokens(&out->stage_kv);
	out->state_bytes_per_seq_per_gpu = out->stage_kv.state_bytes_per_seq;
	out->kv_window_bytes_per_seq_per_gpu = 0;
	for (int t = 0; t < out->stage_kv.nterms; t++)
		if (!isinf(out->stage_kv.term[t].cap))
			out->kv_window_bytes_per_seq_per_gpu += out->stage_kv.term[t].mem_bytes *
								out->stage_kv.term[t].cap;
}

/* "KV holds N tokens < max_model_len M" (or, when blocks not tokens fall short, that). */
static void kv_short_reason(const struct instance *out, int64_t blocks, int64_t needed,
			    int64_t max_model_len, char *why, size_t n)
{
	char a[32], b[32], c[32];

	fmt_thousands(a, sizeof(a), out->kv_tokens);
	fmt_thousands(b, sizeof(b), max_model_len);
	if (out->kv_tokens < max_model_len || needed <= 0) {
		snprintf(why, n, "KV holds %s tokens < max_model_len %s", a, b);
		return;
	}
	fmt_thousands(a, sizeof(a), blocks);
	fmt_thousands(c, sizeof(c), needed);
	snprintf(why, n, "KV holds %s blocks < the %s one max_model_len %s request needs", a, c, b);
}

/*
 * vLLM: the memory terms of every pipeline stage (memory.h, for the
 * engine's version), each rank's KV blocks, and every rank given the
 * smallest count. Fills the instance from the binding stage. 0, or 1 with
 * the reason when it does not fit.
 */
static int size_vllm(const struct model_arch *m, const struct gpu_spec *g,
		     const struct engine_profile *e, const struct layout *l, int kv_bytes,
		     int max_num_seqs, const struct model_weights *w, const struct model_params *p,
		     struct instance *out)
{
	struct mem_input mi;
	struct mem_stage st, bind;
	int64_t blocks = -1, need = 0;
	double heaviest = 0;
	char a[32], b[32];

	memset(&mi, 0, sizeof(mi));
	mi.m = m;
	mi.g = g;
	mi.weights = w;
	mi.params = p;
	vllm_version_parse(e->version, &mi.version);
	mi.tp = l->tp;
	mi.pp = l->pp;
	mi.dp = l->dp;
	mi.ep = l->ep;
	mi.redundant_experts = l->redundant_experts;
	mi.precision = l->precision;
	mi.kv_elem_bytes = kv_bytes;
	mi.gpu_memory_utilization = out->gpu_memory_utilization;
	mi.max_num_seqs = max_num_seqs;
	mi.max_num_batched_tokens = out->max_num_batched_tokens;
	mi.block_size_tokens = out->block_size_given;
	mi.enforce_eager = out->enforce_eager;
	mi.max_model_len = out->max_model_len;
	mi.draft_weights_bytes = out->draft_weights_bytes;
	mi.draft_layers = l->spec.method == DRAFT_MTP ? m->mtp_layers :
			  l->spec.method == DRAFT_EAGLE3 ? 1 : 0;
	memset(&bind, 0, sizeof(bind));
	for (int s = 0; s < l->pp; s++) {
		vllm_memory_stage(&mi, s, &st);
		if (s == 0)
			out->mem_first = st;
		heaviest = fmax(heaviest, st.weights_bytes);
		if (blocks < 0 || st.blocks < blocks ||
		    (st.blocks == blocks && st.blocks_per_request > need)) {
			blocks = st.blocks;
			need = st.blocks_per_request;
			bind = st;
		}
	}
	out->mem = bind;
	out->memory_bytes = bind.total_bytes;
	out->weights_bytes_per_gpu = bind.weights_bytes;
	out->activation_bytes = bind.activation_bytes;
	out->non_torch_bytes = bind.non_torch_bytes;
	out->cuda_graph_bytes = bind.cuda_graph_bytes;
	out->cuda_graph_estimate_bytes = bind.cuda_graph_estimate_bytes;
	out->cuda_graph_in_budget = bind.cuda_graph_in_budget;
	out->kv_budget_bytes_per_gpu = bind.kv_bytes;
	out->block_size_tokens = bind.block_size;
	out->kv_blocks = blocks > 0 ? blocks : 0;
	out->kv_groups = bind.groups;
	out->kv_tokens = bind.groups > 0 ? out->kv_blocks / bind.groups * bind.block_size : 0;
	out->max_concurrency = need > 0 ? (double)out->kv_blocks / (double)need : 0;
	set_stage_kv(m, kv_bytes, l, bind.first_layer, bind.layers, out);

	fmt_gib(a, sizeof(a), heaviest);
	fmt_gib(b, sizeof(b), bind.total_bytes);
	if (heaviest > bind.requested_bytes) {
		out->weights_bytes_per_gpu = heaviest;
		snprintf(out->reason, sizeof(out->reason), "weights %s GiB exceed %.2f x %s GiB", a,
			 out->gpu_memory_utilization, b);
		return 1;
	}
	double context = vllm_context_bytes(out->gpus);
	if (bind.requested_bytes > bind.total_bytes - context) {
		snprintf(out->reason, sizeof(out->reason), "gpu_memory_utilization %.3g asks more "
			 "than the %.2f GiB free after the CUDA context%s: vLLM refuses to start",
			 out->gpu_memory_utilization, (bind.total_bytes - context) / GIB,
			 out->gpus > 1 ? " and NCCL" : "");
		return 1;
	}
	if (bind.kv_bytes <= 0) {
		fmt_gib(b, sizeof(b), bind.activation_bytes + bind.non_torch_bytes +
			(bind.cuda_graph_in_budget ? bind.cuda_graph_estimate_bytes : 0));
		snprintf(out->reason, sizeof(out->reason), "no memory left for KV: weights %s GiB + "
			 "activations and overheads %s GiB", a, b);
		return 1;
	}
	if (blocks < need) {
		kv_short_reason(out, blocks, need, out->max_model_len, out->reason,
				sizeof(out->reason));
		return 1;
	}
	return 0;
}

/*
 * SGLang and TensorRT-LLM: flat overheads from the engine profile, on the
 * busiest stage (the stage holding the most of a max_model_len sequence).
 */
static int size_flat(const struct model_arch *m, const struct gpu_spec *g,
		     const struct engine_profile *e, const struct layout *l, int kv_bytes,
		     struct instance *out)
{
	struct model_weights w;
	char a[32], b[32], c[32];
	int tp = l->tp, pp = l->pp, first = 0, count = m->layers;
	double busiest = -1;

	for (int st = 0; st < pp; st++) {
		struct model_kv kv;
		int f, k;
		vllm_stage_layers(m->layers, pp, st, &f, &k);
		model_kv_terms(m, kv_bytes, tp, f, k, &kv);
		double bytes = model_kv_seq_bytes(&kv, (double)out->max_model_len);
		if (bytes > busiest) {
			busiest = bytes;
			first = f;
			count = k;
		}
	}
	set_stage_kv(m, kv_bytes, l, first, count, out);
	model_weights_bytes(m, l->precision, &w);
	int stage_layers = (m->layers + pp - 1) / pp;
	double f = (double)stage_layers / m->layers;
	double vocab = pp == 1 ? (w.embedding + w.lm_head) / tp :
		       fmax(w.embedding, w.lm_head > 0 ? w.lm_head : w.embedding) / tp;
	out->weights_bytes_per_gpu = f * ((w.attention + w.mixers + w.dense_mlp +
					   w.shared_experts) / tp + w.indexer + w.router +
					  w.norms + w.routed_experts * (m->experts > 0 ?
					  (double)(m->experts + l->redundant_experts) / m->experts : 1) /
					  ((double)tp * l->dp)) + vocab;
	out->memory_bytes = g->memory_torch_bytes > 0 ? g->memory_torch_bytes : g->memory_bytes;
	out->activation_bytes = out->max_num_batched_tokens * (out->moe ?
		e->activation_bytes_per_token_moe : e->activation_bytes_per_token_dense);
	out->non_torch_bytes = out->gpus > 1 ? e->non_torch_tpn_bytes : e->non_torch_tp1_bytes;
	out->cuda_graph_bytes = out->enforce_eager ? 0 : e->cuda_graph_bytes;
	out->cuda_graph_in_budget = 1;
	out->cuda_graph_estimate_bytes = out->cuda_graph_bytes;
	double overheads = out->activation_bytes + out->non_torch_bytes + out->cuda_graph_bytes;
	double mem = out->memory_bytes, gmu = out->gpu_memory_utilization;

	fmt_gib(a, sizeof(a), out->weights_bytes_per_gpu);
	fmt_gib(b, sizeof(b), mem);
	if (e->fraction_of_free) {
		/* TRT-LLM: the fraction is of what is free after weights and buffers. */
		if (out->weights_bytes_per_gpu > mem) {
			snprintf(out->reason, sizeof(out->reason), "weights %s GiB exceed %s GiB", a, b);
			return 1;
		}
		out->kv_budget_bytes_per_gpu = gmu * (mem - out->weights_bytes_per_gpu - overheads);
	} else {
		if (out->weights_bytes_per_gpu > gmu * mem) {
			snprintf(out->reason, sizeof(out->reason), "weights %s GiB exceed %.2f x %s GiB",
				 a, gmu, b);
			return 1;
		}
		out->kv_budget_bytes_per_gpu = gmu * mem - out->weights_bytes_per_gpu - overheads;
	}
	if (out->kv_budget_bytes_per_gpu <= 0) {
		fmt_gib(c, sizeof(c), overheads);
		snprintf(out->reason, sizeof(out->reason), "no memory left for KV: weights %s GiB + "
			 "activations and overheads %s GiB", a, c);
		return 1;
	}
	/* Tokens: the growing terms once one sequence's windows and state are set aside. */
	double full = out->kv_bytes_per_token_per_gpu;
	double room = out->kv_budget_bytes_per_gpu - out->kv_window_bytes_per_seq_per_gpu -
		      out->state_bytes_per_seq_per_gpu;
	int64_t tokens = full > 0 ? (int64_t)fmin(floor(room / full), (double)(INT64_MAX / 4)) :
			 INT64_MAX / 4;
	out->kv_tokens = room > 0 ? tokens / out->block_size_tokens * out->block_size_tokens : 0;
	out->kv_blocks = out->kv_tokens / out->block_size_tokens;
	out->kv_groups = 1;
	out->max_concurrency = (double)out->kv_tokens / (double)out->max_model_len;
	if (out->kv_tokens < out->max_model_len) {
		kv_short_reason(out, 0, 0, out->max_model_len, out->reason, sizeof(out->reason));
		return 1;
	}
	return 0;
}

int instance_size(const struct model_arch *m, const struct gpu_spec *g,
		  const struct engine_profile *e, const struct layout *l,
		  const struct instance_request *rq, struct instance *out)
{
	struct model_weights w;
	struct model_params p;
	struct layout lay = *l;
	char a[32], b[32];
	int vllm = !strcmp(e->id, "vllm");

	memset(out, 0, sizeof(*out));
	out->layout = *l;
	out->gpus = l->tp * l->pp * l->dp;
	out->moe = m->experts > 0;
	out->memory_bytes = g->memory_torch_bytes > 0 ? g->memory_torch_bytes : g->memory_bytes;
	out->max_model_len = rq->max_model_len;
	out->prompt_cv2 = rq->prompt_cv2 > 0 ? rq->prompt_cv2 : 0;
	out->ttft_prompt_tokens = rq->ttft_prompt_tokens > 0 ? rq->ttft_prompt_tokens : 0;
	out->output_max_tokens = rq->output_max_tokens > 0 ? rq->output_max_tokens : 0;
	instance_set_prefix_hit(out, rq->prefix_hit);
	out->spec_tokens_per_step = 1;
	out->block_size_given = rq->block_size_tokens > 0 ? rq->block_size_tokens :
				e->block_size_flag > 0 ? e->block_size_flag :
				!vllm ? e->block_size_tokens : 0;
	out->block_size_tokens = out->block_size_given > 0 ? out->block_size_given :
				 e->block_size_tokens > 0 ? e->block_size_tokens : 16;
	out->enforce_eager = rq->enforce_eager || e->enforce_eager;
	int node = comm_node_gpus(g);
	out->nodes = (out->gpus + node - 1) / node;

	if (layout_refused(m, g, l, rq, out->reason, sizeof(out->reason)))
		return 0;
	if (effective_precision(m, l->precision, &lay.precision, out->reason,
				sizeof(out->reason)))
		return 0;
	out->layout.precision = lay.precision;
	out->online_fp8 = lay.precision == PREC_FP8;
	/*
	 * FP8 weights without FP8 tensor cores run weight-only (W8A16, FP8
	 * Marlin), as vLLM does on Ampere (docs.vllm.ai features/quantization
	 * fp8; vLLM PR #5975); other families without FP8 have no such path.
	 */
	if (stores_format(m, lay.precision, WF_FP8) && g->fp8_flops <= 0 &&
	    strcmp(g->arch, "Ampere") && strcmp(g->arch, "Turing")) {
		snprintf(out->reason, sizeof(out->reason),
			 "fp8 needs FP8 tensor cores or vLLM's FP8 Marlin path (%s has neither)",
			 g->id);
		return 0;
	}
	if (m->max_context_tokens > 0 && rq->max_model_len > m->max_context_tokens) {
		fmt_thousands(a, sizeof(a), rq->max_model_len);
		fmt_thousands(b, sizeof(b), m->max_context_tokens);
		snprintf(out->reason, sizeof(out->reason), "max_model_len %s exceeds the model's "
			 "context of %s tokens (max_position_embeddings): vLLM refuses it", a, b);
		return 0;
	}

	model_weights_bytes(m, lay.precision, &w);
	model_params_count(m, &p);

	/*
	 * An fp8-KV checkpoint (ModelOpt kv_cache_quant_algo FP8) gets fp8 KV
	 * under "auto", as vLLM reads it from the checkpoint.
	 */
	int kv_bytes = lay.kv_elem_bytes == 2 && m->ckpt.kv_fp8 ? 1 : lay.kv_elem_bytes;
	/* Routed experts over TP x DP, with or without EP (fused_moe/config.py). */
	int expert_shards = lay.tp * lay.dp;

	fill_perf(m, &p, &w, g, e, &lay, expert_shards, kv_bytes, out);
	if (lay.spec.method != DRAFT_NONE) {
		if (!strcmp(e->id, "trtllm") && lay.spec.method != DRAFT_MTP) {
			snprintf(out->reason, sizeof(out->reason), "TensorRT-LLM speculation is "
				 "planned for MTP layers only (its EAGLE-3 and n-gram take a draft "
				 "configuration piqplan does not write)");
			return 0;
		}
		set_draft(m, &p, &w, &lay, out);
	}
	if (out->weight_only)
		weight_only_note(m, g, lay.precision, out->note, sizeof(out->note));
	comm_layout_init(&out->comm, g, e->link_efficiency, e->allreduce_alpha_s, lay.tp, lay.pp,
			 lay.dp, lay.ep);
	comm_layout_model(&out->comm, m->layers, m->dense_layers, m->moe_layers, m->hidden,
			  m->experts, out->perf.act_bytes);
	if (lay.a2a != A2A_ALLGATHER)
		comm_layout_a2a(&out->comm, (int)lay.a2a, m->experts_per_token,
				out->perf.expert_imbalance);

	/* Engine defaults that depend on the GPU. */
	int large = gpu_is_large(g, e);
	out->max_num_batched_tokens = rq->max_num_batched_tokens > 0 ? rq->max_num_batched_tokens :
		large ? e->max_num_batched_tokens_large : e->max_num_batched_tokens_small;
	int seqs_cap = rq->max_num_seqs > 0 ? rq->max_num_seqs :
		       large ? e->max_num_seqs_large : e->max_num_seqs_small;
	/* vLLM: max_num_seqs <= max_num_batched_tokens. */
	if (seqs_cap > out->max_num_batched_tokens)
		seqs_cap = out->max_num_batched_tokens;

	/* The engine's default unless asked (no blanket margin: DESIGN.md section 5). */
	double margin = rq->gmu_margin > 0 ? rq->gmu_margin : 0.0;
	out->gpu_memory_utilization = rq->gpu_memory_utilization > 0 ?
		rq->gpu_memory_utilization : e->gpu_memory_utilization - margin;
	double resident = rq->resident_tokens_per_seq > 0 ? rq->resident_tokens_per_seq :
			  rq->max_model_len / 2.0;

	if (!vllm) {
		if (size_flat(m, g, e, &lay, kv_bytes, out))
			return 0;
		/* max_num_seqs: what KV holds at the expected residency, capped by the default. */
		int64_t fit = instance_seqs_fit(out, resident);
		out->max_num_seqs = rq->max_num_seqs > 0 ? rq->max_num_seqs :
				    fit > seqs_cap ? seqs_cap : fit < 1 ? 1 : (int)fit;
		out->fits = 1;
		return 1;
	}
	if (rq->max_num_seqs > 0) {
		if (size_vllm(m, g, e, &lay, kv_bytes, seqs_cap, &w, &p, out))
			return 0;
		out->max_num_seqs = seqs_cap;
		out->fits = 1;
		return 1;
	}
	/*
	 * max_num_seqs is piqplan's to emit. vLLM profiles its sampler over
	 * max_num_seqs x vocab logits and captures CUDA graphs up to it, so a
	 * larger value leaves less KV: the sequences the KV holds, sized with n,
	 * fall as n rises. Emit the largest n (at most the engine's cap) whose
	 * KV still holds n sequences at the expected residency; the layout fits
	 * when n = 1 does (one max_model_len request). Integer bisection: about
	 * log2(cap) sizings.
	 */
	int lo, hi;
	if (!size_vllm(m, g, e, &lay, kv_bytes, seqs_cap, &w, &p, out) &&
	    instance_seqs_fit(out, resident) >= seqs_cap) {
		out->max_num_seqs = seqs_cap;
		out->fits = 1;
		return 1;
	}
	if (size_vllm(m, g, e, &lay, kv_bytes, 1, &w, &p, out))
		return 0;
	lo = 1;
	hi = seqs_cap;
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;
		if (!size_vllm(m, g, e, &lay, kv_bytes, mid, &w, &p, out) &&
		    instance_seqs_fit(out, resident) >= mid)
			lo = mid;
		else
			hi = mid;
	}
	out->reason[0] = '\0';
	if (size_vllm(m, g, e, &lay, kv_bytes, lo, &w, &p, out))
		return 0;	/* cannot happen: lo was sized above */
	out->max_num_seqs = lo;
	out->fits = 1;
	return 1;
}

/*
 * One pass of a micro-batch through all stages: m decoding tokens of mean
 * context c, plus p prefill tokens attending cp keys each on average.
 * No engine overhead (callers add it per step).
 *
 * Per GPU, three kinds of kernel run one after another, each its own
 * roofline, max(bytes / achieved bandwidth, FLOPs / achieved peak), and
 * their times add (one's memory time cannot hide another's compute):
 *
 *   dense GEMMs   the non-expert weights at bw_efficiency of the HBM peak,
 *                 FLOPs at flops_efficiency of the kernel path's peak
 *                 (linear_peak: W8A8, W8A16, W4A16, W4A4);
 *   expert GEMMs  the touched experts' weights, E(1-(1-k/E)^T) of E for the
 *                 T tokens of every DP rank (the union batch), at
 *                 moe_bw_efficiency: a grouped GEMM that sees n·k/E tokens
 *                 per expert is bound by streaming those weights, not by
 *                 FLOP/s (DESIGN.md section 5); its FLOPs at the same
 *                 flops_efficiency as the dense path;
 *   attention     KV and state reads at kv_bw_efficiency (paged KV reads
 *                 reach less of the HBM peak than weight streams: 42 %
 *                 against 78-84 % measured on H100, notes/perf.md section
 *                 5), its FLOPs at attn_efficiency of the bf16 peak.
 *
 * On top, a fixed latency per layer (launches, norms, each small kernel's
 * minimum time: what makes a batch-1 MoE step 13.8 ms where its bytes take
 * about 1, notes/perf.md section 5) and per MoE layer (router, top-k,
 * permute, grouped-GEMM set-up), and the communication: tensor-parallel
 * all-reduces, expert-parallel all-to-all, pipeline hand-offs.
 */
static double pass_time(const struct instance *in, double m, double vq, double c, double p,
			double cp, int *memory_bound)
{
	const struct instance_perf *q = &in->perf;
	const struct perf_params *pa = &q->p;
	double tokens = m * vq + p;	/* a verify step runs vq positions of each sequence */
	double bw = q->hbm_bw * pa->bw_efficiency;
	double fe = pa->flops_efficiency;
	double ae = pa->attn_efficiency, kve = pa->kv_bw_efficiency;
	double touched = 0.0;

	if (q->experts > 0 && tokens > 0)
		touched = experts_touched(q->experts, q->experts_per_token,
					  tokens * q->moe_tokens_scale) / q->experts;
	/*
	 * Attention and KV traffic, term by term (instance_perf.kv): a decoding
	 * token of context c attends min(c * scale, cap) entries of each term
	 * and reads them; a prefill token attends min(cp * scale, cap) and
	 * writes its own entries; linear and Mamba layers read and write their
	 * state once per decoded token, whatever the context.
	 */
	double kv = 0, attn = 0;
	for (int i = 0; i < q->kv.nterms; i++) {
		const struct kv_term *t = &q->kv.term[i];
		double ed = fmin(c * t->scale, t->cap), ep = fmin(cp * t->scale, t->cap);
		/* The vq positions of a verify step read the sequence's KV once. */
		kv += m * ed * t->read_bytes + p * t->mem_bytes * t->scale;
		attn += m * vq * ed * t->flops_decode + p * ep * t->flops_prefill;
	}
	kv += m * q->kv.state_rw_bytes_per_token;
	attn += tokens * q->kv.state_flops_per_token;

	double mem[3], cmp[3];
	mem[0] = q->dense_bytes / bw;
	cmp[0] = tokens * q->dense_flops_per_token / (q->peak_dense_flops * fe);
	/* The busiest EP rank's expert work sets the layer's time (wide EP: imbalance > 1). */
	mem[1] = q->experts > 0 ? q->routed_bytes * touched * fmin(q->expert_imbalance, 1 / touched) /
				  (q->hbm_bw * pa->moe_bw_efficiency) : 0.0;
	cmp[1] = q->experts > 0 ? tokens * q->routed_flops_per_token * q->expert_imbalance /
				  (q->peak_routed_flops * fe) : 0.0;
	mem[2] = kv / (q->hbm_bw * kve);
	cmp[2] = attn / (q->peak_attn_flops * ae);
	double t = 0, t_mem = 0, t_cmp = 0;
	for (int i = 0; i < 3; i++) {
		t += fmax(mem[i], cmp[i]);
		if (mem[i] >= cmp[i])
			t_mem += mem[i];
		else
			t_cmp += cmp[i];
	}
	double latency = q->layers * pa->layer_latency_s + q->moe_layers * pa->moe_layer_latency_s;

	/* Communication (tokens per DP rank): comm.c, on the links instance_size fixed. */
	double comm = comm_pass_s(&in->comm, tokens);

	if (memory_bound)
		*memory_bound = t_mem >= t_cmp;
	return t + latency + comm;
}

/*
 * DP ranks step in lockstep (the expert layers synchronise every pass):
 * a rank with nothing to do runs a dummy pass, and each rank's batch is
 * padded to the largest, so once anything runs every rank costs at least
 * one sequence (vLLM docs serving/data_parallel_deployment; notes/perf.md
 * section 7). m is the mean per rank; the step is the busiest rank's.
 */
static double lockstep_tokens(const struct instance *in, double m)
{
	return in->layout.dp > 1 && m > 0 && m < 1 ? 1 : m;
}

/*
 * A micro-batch's worth of work as engine steps: at most
 * max_num_batched_tokens tokens per step, each step re-reading the weights
 * and paying the engine's overhead, fixed and per running sequence.
 */
/*
 * Positions a decode step verifies per sequence: 1, or with speculative
 * decoding the k drafts and the target's own token.
 */
static double verify_positions(const struct instance *in)
{
	return in->layout.spec.method != DRAFT_NONE ? in->layout.spec.tokens + 1 : 1;
}

/*
 * With speculative decoding a step over m sequences verifies k + 1
 * positions of each (one pass over m (k + 1) tokens: the experts touched,
 * the FLOPs and the attention FLOPs grow, the weights and each sequence's
 * KV are read once), then the drafter proposes the next k tokens (k passes
 * of draft_pass_share of the target's decode pass over the m sequences),
 * and the step emits E = spec_tokens_per_step tokens per sequence. The
 * time returned is per emitted token (the step / E), so every caller's
 * "one token per sequence per step" stays true: a prompt spread over a
 * request's osl tokens rides in osl / E real steps, E times the prompt
 * tokens each. Where the verify pass is compute bound (large batches) its
 * cost grows with k + 1 while E does not: the gain shrinks and turns into
 * a loss. Prefix-cache hits (prefix_hit) leave (1 - h) of the prompt
 * tokens to compute, attending (1 + h) times the keys (instance_prefill_work).
 */
static double round_time(const struct instance *in, double m, double c, double p, double cp,
			 int *memory_bound)
{
	const struct perf_params *pa = &in->perf.p;
	double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
	double busy = lockstep_tokens(in, m);
	int spec = in->layout.spec.method != DRAFT_NONE && busy > 0;
	double vq = spec ? verify_positions(in) : 1;
	double e = spec ? in->spec_tokens_per_step : 1;
	if (p > 0 && in->prefix_hit > 0) {
		p *= 1 - in->prefix_hit;
		cp *= 1 + in->prefix_hit;
	}
	p *= e;
	double steps = ceil((busy * vq + p) / budget);
	if (steps < 1)
		steps = 1;
	double per = busy / steps;
	double t = steps * (pass_time(in, per, vq, c, p / steps, cp, memory_bound) +
			    pa->step_overhead_s + per * pa->seq_overhead_s);
	if (spec && in->draft_pass_share > 0)
		t += in->layout.spec.tokens * in->draft_pass_share *
		     pass_time(in, busy, 1, c, 0, 0, NULL);
	return t / e;
}

double instance_decode_step_s(const struct instance *in, double n, double ctx,
			      int *memory_bound)
{
	return round_time(in, n / in->layout.pp, ctx, 0, 0, memory_bound);
}

double instance_step_s(const struct instance *in, double n, double ctx, double prefill_tokens,
		       double prefill_keys, int *memory_bound)
{
	return round_time(in, n / in->layout.pp, ctx, prefill_tokens, prefill_keys, memory_bound);
}

/*
 * Prefill of `prompts` prompts of s tokens each, in steps of at most
 * max_num_batched_tokens tokens; a prompt token attends s/2 keys on average.
 * With PP the chunks pipeline like decode micro-batches (pp in flight), so
 * k chunks take (k + pp - 1) / pp passes through all stages: the same
 * throughput as the stages working side by side, plus the fill. Each
 * request pays the per-request overhead once.
 */
static double prefill_batch_s(const struct instance *in, double prompts, double s)
{
	const struct perf_params *pa = &in->perf.p;
	double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
	double fresh, keys;
	instance_prefill_work(s, in->prefix_hit, &fresh, &keys);
	double total = prompts * fresh;
	double pp = in->layout.pp;
	double steps = ceil(total / budget);
	if (steps < 1)
		steps = 1;
	double step = pass_time(in, 0, 1, 0, total / steps, keys, NULL) + pa->step_overhead_s;
	return (steps + pp - 1) / pp * step + prompts * pa->request_overhead_s;
}

double instance_prefill_s(const struct instance *in, double s)
{
	return prefill_batch_s(in, 1, s);
}

double instance_prefill_chunk_s(const struct instance *in, double keys)
{
	double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
	return pass_time(in, 0, 1, 0, budget, keys, NULL) + in->perf.p.step_overhead_s;
}

/*
 * Prompt tokens in the busiest DP rank's step, in steady state with n
 * running per rank: r = n/osl prompts start per step on each rank, and a
 * prompt (up to the step budget) is prefilled in one step. With one rank
 * that is r x isl on average. With dp ranks in lockstep a step waits for the
 * slowest rank, so it carries a prompt whenever any rank has one: with
 * probability 1 - (1 - r)^dp, not r -- the DP imbalance that makes one
 * rank's prefill delay every rank's decode (notes/perf.md section 7).
 */
double instance_lockstep_prefill_tokens(const struct instance *in, double r, double isl)
{
	double dp = in->layout.dp;
	if (!(r > 0))
		return 0;
	if (dp <= 1 || r >= 1)
		return r * isl;
	return isl * fmax(r, 1 - pow(1 - r, dp));
}

static double busiest_prefill_tokens(const struct instance *in, double n, double isl, double osl)
{
	return osl > 0 ? instance_lockstep_prefill_tokens(in, n / osl, isl) : 0;
}

/*
 * A prefill token of a prompt of s tokens attends s/2 keys on average; over
 * prompts of varying length, weighted by their tokens, that is
 * E[s²] / (2 E[s]) = isl (1 + cv²) / 2 -- so a few long prompts among short
 * ones cost their quadratic attention, not the mean prompt's. In steady
 * state n/osl requests finish per step, each paying the per-request
 * overhead once.
 */
double instance_tpot_s(const struct instance *in, double n, double isl, double osl,
		       int *memory_bound)
{
	double pp = in->layout.pp;
	double prefill = busiest_prefill_tokens(in, n, isl, osl);
	double keys = isl * (1 + in->prompt_cv2) / 2;
	double requests = osl > 0 ? n / osl : 0;
	return round_time(in, n / pp, isl + osl / 2, prefill / pp, keys, memory_bound) +
	       requests * in->perf.p.request_overhead_s;
}

double instance_max_running(const struct instance *in, double isl, double osl)
{
	double fit = (double)instance_seqs_fit(in, isl + osl / 2);
	double cap = in->max_num_seqs;
	fit = fmin(fit, cap);
	return fit < 1 ? 1 : fit;
}

/*
 * TTFT without queueing for a prompt among n running sequences of mean
 * prompt isl: the prompt is the request's ttft_prompt_tokens when that is
 * longer (a pool's p99, so the target holds for 99 % of requests, not just
 * on average), else isl. It rides in steps beside the n decoding
 * sequences, in chunks of what the step budget leaves, after its own
 * per-request work and on average half a step for the step in progress,
 * plus the front end's fixed latency (ttft_latency_s).
 */
static double ttft_base(const struct instance *in, double n, double isl, double osl)
{
	const struct perf_params *pa = &in->perf.p;
	double pp = in->layout.pp;
	double budget = in->max_num_batched_tokens > 0 ? in->max_num_batched_tokens : 8192;
	double m = lockstep_tokens(in, n / pp);
	double s = fmax(isl, in->ttft_prompt_tokens), fresh, keys;
	double vq = m > 0 ? verify_positions(in) : 1;
	double room = fmax(budget - m * vq, budget / 8);
	instance_prefill_work(s, in->prefix_hit, &fresh, &keys);
	double steps = fmax(1, ceil(fresh / room));
	double step = pass_time(in, m, vq, isl + osl / 2, fresh / steps, keys, NULL) +
		      pa->step_overhead_s + m * pa->seq_overhead_s;
	return pa->ttft_latency_s + pa->request_overhead_s + steps * step +
	       0.5 * instance_tpot_s(in, n, isl, osl, NULL);
}

/* Requests/s one DP rank completes at n running (Little's law: n = X·osl·TPOT). */
static double rank_rate(const struct instance *in, double n, double isl, double osl)
{
	return n / (osl * instance_tpot_s(in, n, isl, osl, NULL));
}

/*
 * Output lengths that stop at EOS below a cap (each request's max_tokens):
 * L = min(X, cap) with X exponential of mean theta, chosen so that E[L] =
 * osl: theta (1 - e^(-cap/theta)) = osl (an assumption about the shape --
 * the long tail of chat datasets -- with the cap and the mean measured).
 * The lengths come as DRAIN_BUCKETS equal shares of requests, each at its
 * share's mean: the integral of min(x_q, cap) over q in the share, x_q =
 * -theta ln(1 - q), whose antiderivative is G(q) = theta ((1-q) ln(1-q) -
 * (1-q)), capped from q_c = 1 - e^(-cap/theta) on. Ascending.
 */
#define DRAIN_BUCKETS 16

static double exp_antiderivative(double theta, double q)
{
	return q >= 1 ? 0 : theta * ((1 - q) * log(1 - q) - (1 - q));
}

static void drain_lengths(double osl, double cap, double len[DRAIN_BUCKETS])
{
	double lo = osl, hi = osl;
	if (!(cap > osl * 1.0001)) {
		for (int k = 0; k < DRAIN_BUCKETS; k++)
			len[k] = osl;
		return;
	}
	while (hi * (1 - exp(-cap / hi)) < osl)
		hi *= 2;
	for (int i = 0; i < 60 && hi - lo > 1e-9 * hi; i++) {
		double mid = (lo + hi) / 2;
		if (mid * (1 - exp(-cap / mid)) < osl)
			lo = mid;
		else
			hi = mid;
	}
	double theta = (lo + hi) / 2, qc = 1 - exp(-cap / theta);
	for (int k = 0; k < DRAIN_BUCKETS; k++) {
		double q1 = (double)k / DRAIN_BUCKETS, q2 = (double)(k + 1) / DRAIN_BUCKETS;
		double a = fmin(q2, fmax(q1, qc));
		double sum = exp_antiderivative(theta, a) - exp_antiderivative(theta, q1) +
			     cap * (q2 - a);
		len[k] = sum / (q2 - q1);
	}
}

/*
 * Offline with varied output lengths (continuous batching): the first b
 * requests (max_num_seqs and the KV at isl + osl/2 each) are prefilled,
 * then the batch stays full while requests wait -- (N - b) requests'
 * tokens at the steady-state TPOT of b running, chunked prefill riding
 * along -- and then drains: the last b requests' remaining lengths (taken
 * as the same distribution) finish share by share, each share's steps paid
 * at the batch still running. The tail of
 * long requests at a small batch is why a ShareGPT run's throughput is well
 * below its batch's.
 */
static void offline_drain(const struct instance *in, double isl, double osl, double per_rank,
			  struct load_point *out)
{
	double dp = in->layout.dp;
	double b = fmin(instance_max_running(in, isl, osl), per_rank);
	double ctx = isl + osl / 2;
	int mb = 0;

	if (b < 1)
		b = 1;
	double ramp = prefill_batch_s(in, b, isl);
	double tpot_full = instance_tpot_s(in, b, isl, osl, &mb);
	double steady = per_rank > b ? (per_rank - b) * osl * tpot_full / b : 0;
	double drain = 0, done = 0, tpot_sum = 0, lens[DRAIN_BUCKETS];
	drain_lengths(osl, in->output_max_tokens, lens);
	for (int k = 0; k < DRAIN_BUCKETS; k++) {
		double len = lens[k];
		double running = b * (DRAIN_BUCKETS - k) / DRAIN_BUCKETS;
		if (len > done)
			drain += (len - done) * instance_decode_step_s(in, running, ctx, NULL);
		done = fmax(done, len);
		tpot_sum += len > 0 ? drain / len : 0;
	}
	double t = ramp + steady + drain;
	double late = per_rank - b;
	out->running = b;
	/* Requests served in the steady state see its TPOT; the last b, the drain's. */
	out->tpot_s = (late * tpot_full + b * tpot_sum / DRAIN_BUCKETS) / per_rank;
	/* The first b wait for half the ramp; the rest are admitted evenly over the steady state. */
	out->ttft_s = in->perf.p.ttft_latency_s +
		      (b * ramp / 2 + late * (ramp + steady / 2)) / per_rank;
	out->request_rate = dp * per_rank / t;
	out->output_tok_s = dp * per_rank * osl / t;
	out->capacity_rate = dp * b / (osl * tpot_full);
	out->utilisation = b / in->max_num_seqs;
	out->memory_bound = mb;
	out->saturated = 0;
}

/*
 * Offline, fixed lengths: every running sequence starts and ends together,
 * so the engine works in waves of b requests: prefill all b prompts
 * (chunked, compute-bound) then osl decode steps at batch b. b is what
 * max_num_seqs and the KV allow when each sequence reaches isl+osl (a
 * wave's sequences all grow to full length at once). Waves are what
 * benchmarks with fixed lengths measure, including the first wave's
 * prefill ramp that dominates when outputs are short; varied output
 * lengths drain instead (offline_drain).
 */
void instance_offline(const struct instance *in, double isl, double osl, double requests,
		      struct load_point *out)
{
	double dp = in->layout.dp;
	double per_rank = requests / dp;
	if (in->output_max_tokens > osl * 1.0001) {
		offline_drain(in, isl, osl, per_rank, out);
		return;
	}
	double b = fmin((double)instance_seqs_fit(in, isl + osl), in->max_num_seqs);
	b = fmin(b, per_rank);
	if (b < 1)
		b = 1;
	double waves = floor(per_rank / b);
	double rest = per_rank - waves * b;
	double t = 0, ttft_sum = 0, tpot_tok = 0;
	int mb = 0;

	for (int i = 0; i < 2; i++) {
		double size = i == 0 ? b : rest;
		double count = i == 0 ? waves : (rest > 0 ? 1 : 0);
		if (count <= 0 || size <= 0)
			continue;
		double prefill = prefill_batch_s(in, size, isl);
		double step = instance_decode_step_s(in, size, isl + osl / 2, i == 0 ? &mb : NULL);
		double wave = prefill + osl * step;
		/* Wave j starts at t + j·wave; its prompts finish evenly over the prefill. */
		ttft_sum += size * (count * t + wave * count * (count - 1) / 2 +
				    count * prefill / 2);
		tpot_tok += count * size * osl * step;
		t += count * wave;
	}
	out->running = b;
	out->tpot_s = tpot_tok / (per_rank * osl);
	out->ttft_s = in->perf.p.ttft_latency_s + ttft_sum / per_rank;
	out->request_rate = requests / t;
	out->output_tok_s = requests * osl / t;
	out->capacity_rate = dp * b / (prefill_batch_s(in, b, isl) +
				       osl * instance_decode_step_s(in, b, isl + osl / 2, NULL));
	out->utilisation = b / in->max_num_seqs;
	out->memory_bound = mb;
	out->saturated = 0;
}

void instance_closed_loop(const struct instance *in, double isl, double osl, double clients,
			  struct load_point *out)
{
	double dp = in->layout.dp;
	double per_rank = clients / dp;
	double cap = instance_max_running(in, isl, osl);
	double n = fmin(per_rank, cap);
	int mb = 0;

	if (n < 1e-9)
		n = 1e-9;
	double tpot = instance_tpot_s(in, n, isl, osl, &mb);
	double ttft = ttft_base(in, n, isl, osl);
	double latency = ttft + (osl - 1) * tpot;
	double x = n / latency;			/* requests/s per rank */
	if (per_rank > n)			/* the rest wait: response = clients / X */
		ttft = per_rank / x - (osl - 1) * tpot;
	out->running = n;
	out->tpot_s = tpot;
	out->ttft_s = ttft;
	out->request_rate = dp * x;
	out->output_tok_s = dp * x * osl;
	out->capacity_rate = dp * rank_rate(in, cap, isl, osl);
	out->utilisation = n / cap;
	out->memory_bound = mb;
	out->saturated = 0;
}

/*
 * Open loop: the running batch solves n = R·osl·TPOT(n) (Little's law; TPOT
 * rises with n, so bisection on n in [0, cap]). Queueing for a slot and for
 * the prefill is taken as M/G/1 against the instance's capacity rate mu
 * (Pollaczek-Khinchine): wait = (1 + cv²)·rho / (2·mu·(1 - rho)), rho = R / mu,
 * where cv² is the squared coefficient of variation of the work, taken as
 * that of prompt lengths (the request's prompt_cv2; 0 gives M/D/1). It is
 * zero at light load and unbounded as R reaches capacity, which is what
 * measured TTFTs do; and a few very long prompts among short ones (large
 * cv²) make everyone wait behind them, which is why long-context requests
 * starve a shared pool.
 */
void instance_open_loop(const struct instance *in, double isl, double osl, double rate,
			struct load_point *out)
{
	double dp = in->layout.dp;
	double r = rate / dp;
	double cap = instance_max_running(in, isl, osl);
	double mu = rank_rate(in, cap, isl, osl);
	int mb = 0;

	memset(out, 0, sizeof(*out));
	out->capacity_rate = dp * mu;
	if (r >= mu) {
		out->saturated = 1;
		out->running = cap;
		out->tpot_s = instance_tpot_s(in, cap, isl, osl, &mb);
		out->ttft_s = -1;
		out->request_rate = dp * mu;
		out->output_tok_s = dp * mu * osl;
		out->utilisation = 1;
		out->memory_bound = mb;
		return;
	}
	double lo = 0, hi = cap;
	for (int i = 0; i < BISECT_ITERS && hi - lo > BISECT_REL * hi; i++) {
		double mid = (lo + hi) / 2;
		if (r * osl * instance_tpot_s(in, mid, isl, osl, NULL) > mid)
			lo = mid;
		else
			hi = mid;
	}
	double n = hi > 1e-9 ? hi : 1e-9;
	double rho = r / mu;
	out->running = n;
	out->tpot_s = instance_tpot_s(in, n, isl, osl, &mb);
	out->ttft_s = ttft_base(in, n, isl, osl) +
		      (1 + in->prompt_cv2) * rho / (2 * mu * (1 - rho));
	out->request_rate = rate;
	out->output_tok_s = rate * osl;
	out->utilisation = rho;
	out->memory_bound = mb;
}

static int meets(const struct load_point *lp, const struct slo *slo)
{
	if (lp->saturated)
		return 0;
	if (slo->tpot_s > 0 && lp->tpot_s > slo->tpot_s)
		return 0;
	if (slo->ttft_s > 0 && lp->ttft_s > slo->ttft_s)
		return 0;
	if (slo->utilisation > 0 && lp->utilisation > slo->utilisation)
		return 0;
	return 1;
}

double instance_sustainable_rate(const struct instance *in, double isl, double osl,
				 const struct slo *slo, struct load_point *at)
{
	struct load_point lp;
	double cap = instance_max_running(in, isl, osl);
	double hi = in->layout.dp * rank_rate(in, cap, isl, osl);
	double lo = hi * 1e-6;

	/* The utilisation target caps the rate outright: no need to search above it. */
	if (slo->utilisation > 0 && slo->utilisation < 1)
		hi *= slo->utilisation;

	instance_open_loop(in, isl, osl, lo, &lp);
	if (!meets(&lp, slo)) {
		if (at)
			*at = lp;
		return 0;
	}
	instance_open_loop(in, isl, osl, hi, &lp);
	if (meets(&lp, slo))
		lo = hi;
	for (int i = 0; i < BISECT_ITERS && hi - lo > BISECT_REL * hi; i++) {
		double mid = (lo + hi) / 2;
		instance_open_loop(in, isl, osl, mid, &lp);
		if (meets(&lp, slo))
			lo = mid;
		else
			hi = mid;
	}
	if (at)
		instance_open_loop(in, isl, osl, lo, at);
	return lo;
}
