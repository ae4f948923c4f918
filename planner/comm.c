/*
 * comm.c - communication cost of one pass (see comm.h). Three kinds of
 * traffic, each on the link it really runs over:
 *
 * - Tensor-parallel all-reduces: one after attention in every layer and
 *   one after every dense MLP (and every MoE layer without DP: its experts
 *   are tensor-parallel over TP, or with EP their outputs are summed over
 *   TP), ring all-reduce of the layer's activations (tokens x hidden x
 *   2 B). Over NVLink inside its domain; over PCIe (L40S, L4, H100 PCIe,
 *   RTX PRO 6000: their link column is PCIe) outside it; over the
 *   scale-out network when TP spans nodes (only when asked).
 * - The MoE layers' exchange across DP ranks (vLLM's default all2all
 *   backend, allgather_reducescatter, with or without
 *   --enable-expert-parallel): every GPU gathers the other DP ranks'
 *   tokens (dispatch, in the activation dtype) and reduce-scatters the
 *   expert outputs back (combine, bf16). The peers in the node are reached
 *   over NVLink, the others over the scale-out network, at once.
 * - Pipeline hand-offs: the activations of the micro-batch, once per stage
 *   boundary, within the node or across it.
 * - Wide EP (--all2all-backend deepep_high_throughput / deepep_low_latency):
 *   DeepEP's all-to-all in place of the all-gather, each token sent only to
 *   the ranks of its k experts (comm_deepep_layer_s), the hottest rank
 *   receiving the expert load imbalance times the mean.
 */
#include "comm.h"
#include "instance.h"

#include <math.h>
#include <string.h>

/*
 * Latencies without a measured figure in the catalog (estimates): a small
 * NCCL collective through the PCIe switches of a node about twice
 * NVLink's, and about 25 us across nodes over InfiniBand / RoCE.
 */
#define PCIE_ALPHA_FACTOR 2.0
#define SCALEOUT_ALPHA_S 25e-6

int comm_node_gpus(const struct gpu_spec *g)
{
	if (g->gpus_per_node > 0)
		return g->gpus_per_node;
	return g->nvlink_domain_gpus > 1 ? g->nvlink_domain_gpus : 8;
}

/* PCIe inside a node when the GPUs also have NVLink: Gen5 x16 on Hopper and later, else Gen4. */
static double pcie_bytes_per_s(const struct gpu_spec *g)
{
	if (g->nvlink_domain_gpus <= 1)
		return g->link_bytes_per_s;	/* the catalog's link is PCIe already */
	if (!strcmp(g->arch, "Ampere") || !strcmp(g->arch, "Ada"))
		return 32e9;
	return 64e9;
}

void comm_layout_init(struct comm_layout *c, const struct gpu_spec *g, double link_efficiency,
		      double alpha_s, int tp, int pp, int dp, int ep)
{
	memset(c, 0, sizeof(*c));
	c->tp = tp;
	c->pp = pp;
	c->dp = dp;
	c->ep = ep;
	c->node_gpus = comm_node_gpus(g);
	int gpus = tp * pp * dp;
	c->nodes = (gpus + c->node_gpus - 1) / c->node_gpus;

	c->nvlink.bytes_per_s = g->link_bytes_per_s * link_efficiency;
	c->nvlink.alpha_s = alpha_s;
	c->pcie.bytes_per_s = pcie_bytes_per_s(g) * link_efficiency;
	c->pcie.alpha_s = alpha_s * (g->nvlink_domain_gpus <= 1 ? 1 : PCIE_ALPHA_FACTOR);
	c->scaleout.bytes_per_s = g->scaleout_bytes_per_s * link_efficiency;
	c->scaleout.alpha_s = SCALEOUT_ALPHA_S;
	c->scaleout_peak_bytes_per_s = g->scaleout_bytes_per_s;

	/* Within a node: NVLink when the node is one NVLink domain (or PCIe is all there is). */
	c->intra = c->node_gpus <= g->nvlink_domain_gpus || g->nvlink_domain_gpus <= 1 ?
		   c->nvlink : c->pcie;
	if (tp <= g->nvlink_domain_gpus)
		c->tp_link = c->nvlink;
	else if (tp <= c->node_gpus)
		c->tp_link = c->pcie;
	else {
		c->tp_link = c->scaleout;
		c->tp_cross_node = 1;
	}

	/* The expert group: one stage's GPUs of every DP rank; a node holds node / pp of them. */
	c->group_gpus = tp * dp;
	int per_node = c->node_gpus / pp;
	if (per_node < tp)
		per_node = tp;
	c->group_local = c->group_gpus < per_node ? c->group_gpus : per_node;

	/* Stages of one DP rank: node / tp of them per node. */
	if (tp * pp > c->node_gpus) {
		int stages_per_node = c->node_gpus / tp > 0 ? c->node_gpus / tp : 1;
		c->pp_cross_node = (pp + stages_per_node - 1) / stages_per_node - 1;
	}
}

void comm_layout_a2a(struct comm_layout *c, int a2a, int experts_per_token, double imbalance)
{
	c->a2a = a2a;
	c->experts_per_token = experts_per_token;
	c->imbalance = imbalance >= 1 ? imbalance : 1;
}

/*
 * DeepEP's measured bandwidths per EP size (deepseek-ai/DeepEP docs/legacy.md,
 * V1 on H800 with CX7 InfiniBand 400 Gb/s, about 50 GB/s per GPU; notes/perf.md
 * section 2), GB/s, {dispatch, combine}:
 *   low-latency kernels (128 tokens a batch, hidden 7168, top-8, FP8 dispatch,
 *   BF16 combine), RDMA bandwidth per call: EP8 98/127, EP16 63/74, EP32
 *   48/53, EP64 43/46, EP128 39/39, EP256 39/40 -- 128 x 8 x 7168 B = 7.34 MB
 *   at 98 GB/s is 75 us, the 77 us measured: the bandwidth is the whole call's;
 *   normal kernels (4096 tokens a batch), internode RDMA bandwidth: EP16 43/43,
 *   EP32 58/57, EP64 51/50 (EP8 runs over NVLink: 153/158; beyond EP64 the
 *   EP64 figure is used).
 * Between measured sizes the bandwidth is interpolated in log2(EP).
 */
static const struct { int ep; double ll_d, ll_c, ht_d, ht_c; } deepep_bw[] = {
	{ 8, 98, 127, 153, 158 },
	{ 16, 63, 74, 43, 43 },
	{ 32, 48, 53, 58, 57 },
	{ 64, 43, 46, 51, 50 },
	{ 128, 39, 39, 51, 50 },
	{ 256, 39, 40, 51, 50 },
};
#define DEEPEP_MEASURED_SCALEOUT 50e9

static void deepep_bandwidth(int ep, int low_latency, double *dispatch, double *combine)
{
	int n = (int)(sizeof(deepep_bw) / sizeof(deepep_bw[0]));
	double x = log2(ep > 8 ? ep : 8);
	int i = 0;
	while (i < n - 2 && log2(deepep_bw[i + 1].ep) < x)
		i++;
	double x0 = log2(deepep_bw[i].ep), x1 = log2(deepep_bw[i + 1].ep);
	double f = fmin(1, fmax(0, (x - x0) / (x1 - x0)));
	double d0 = low_latency ? deepep_bw[i].ll_d : deepep_bw[i].ht_d;
	double d1 = low_latency ? deepep_bw[i + 1].ll_d : deepep_bw[i + 1].ht_d;
	double c0 = low_latency ? deepep_bw[i].ll_c : deepep_bw[i].ht_c;
	double c1 = low_latency ? deepep_bw[i + 1].ll_c : deepep_bw[i + 1].ht_c;
	*dispatch = (d0 + f * (d1 - d0)) * 1e9;
	*combine = (c0 + f * (c1 - c0)) * 1e9;
}

double comm_deepep_layer_s(int ep, double tokens, int k, int hidden, double act_bytes,
			   double scaleout_bytes_per_s, int low_latency)
{
	double bw_d, bw_c;
	if (ep <= 1 || tokens <= 0)
		return 0;
	deepep_bandwidth(ep, low_latency, &bw_d, &bw_c);
	double scale = scaleout_bytes_per_s > 0 ? scaleout_bytes_per_s / DEEPEP_MEASURED_SCALEOUT
						: 0;
	if (scale <= 0)
		return INFINITY;
	double bytes = tokens * k * (double)hidden;
	return fmax(SCALEOUT_ALPHA_S, bytes * act_bytes / (bw_d * scale)) +
	       fmax(SCALEOUT_ALPHA_S, bytes * 2.0 / (bw_c * scale));
}

void comm_layout_model(struct comm_layout *c, int layers, int dense_layers, int moe_layers,
		       int hidden, int experts, double act_bytes)
{
	c->layers = layers;
	c->dense_layers = dense_layers;
	c->moe_layers = moe_layers;
	c->hidden = hidden;
	c->experts = experts;
	c->act_bytes = act_bytes;
}

static double over(const struct comm_link *l, double bytes)
{
	return l->bytes_per_s > 0 ? bytes / l->bytes_per_s : INFINITY;
}

double comm_allreduce_s(const struct comm_link *l, int n, double bytes)
{
	if (n <= 1)
		return 0;
	return over(l, 2.0 * (n - 1) / n * bytes) + l->alpha_s;
}

double comm_exchange_s(const struct comm_link *intra, const struct comm_link *inter, int n,
		       int local, double bytes_per_gpu)
{
	if (n <= 1 || bytes_per_gpu <= 0)
		return 0;
	if (local > n)
		local = n;
	if (local < 1)
		local = 1;
	double near = bytes_per_gpu * (local - 1) / (n - 1);
	double far = bytes_per_gpu * (n - local) / (n - 1);
	double t = 0, alpha = 0;
	if (near > 0) {
		t = over(intra, near);
		alpha = intra->alpha_s;
	}
	if (far > 0) {
		t = fmax(t, over(inter, far));
		alpha = fmax(alpha, inter->alpha_s);
	}
	return t + 2 * alpha;	/* dispatch and combine */
}

double comm_pass_s(const struct comm_layout *c, double tokens)
{
	double h = c->hidden, t = 0;
	int exchange = c->experts > 0 && c->moe_layers > 0 && c->dp > 1;

	if (tokens <= 0)
		return 0;
	if (c->tp > 1) {
		int n = c->layers + c->dense_layers + (exchange ? 0 : c->moe_layers);
		t += n * comm_allreduce_s(&c->tp_link, c->tp, tokens * h * 2.0);
	}
	if (exchange && c->a2a) {
		/* DeepEP: the hottest rank's share of the tokens, to and from its experts. */
		t += c->moe_layers * comm_deepep_layer_s(c->group_gpus, tokens * c->imbalance,
							 c->experts_per_token, c->hidden,
							 c->act_bytes, c->scaleout_peak_bytes_per_s,
							 c->a2a == A2A_DEEPEP_LL);
	} else if (exchange) {
		/* Every other DP rank's tokens in, the outputs back: (dp - 1) x t x h x (a + 2). */
		int local_ranks = c->group_local / c->tp;
		double bytes = (c->dp - 1) * tokens * h * (c->act_bytes + 2.0);
		t += c->moe_layers * comm_exchange_s(&c->intra, &c->scaleout, c->dp, local_ranks,
						     bytes);
	}
	if (c->pp > 1) {
		double b = tokens * h * 2.0;
		int near = c->pp - 1 - c->pp_cross_node;
		if (near > 0)
			t += near * (over(&c->intra, b) + c->intra.alpha_s);
		if (c->pp_cross_node > 0)
			t += c->pp_cross_node * (over(&c->scaleout, b) + c->scaleout.alpha_s);
	}
	return t;
}
