/*
 * comm.h - what an instance's GPUs spend talking to each other in one pass
 * of a micro-batch: tensor-parallel all-reduces (over NVLink, PCIe or, for
 * TP across nodes, the scale-out network), the MoE layers' exchange over
 * the expert group of TP x DP GPUs (within a node and across nodes), and
 * pipeline hand-offs (within a node or across). The layout (which link each
 * collective runs over, how many nodes a group spans) is fixed once per
 * instance by comm_layout_init(); comm_pass_s() is then cheap enough to sit
 * inside the performance model's inner loops.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals. Bytes and seconds.
 */
#ifndef PIQPLAN_COMM_H
#define PIQPLAN_COMM_H

struct gpu_spec;

/* One kind of link as a collective sees it. */
struct comm_link {
	double bytes_per_s;	/* achieved, per GPU and direction */
	double alpha_s;		/* latency of one small collective over it */
};

struct comm_layout {
	int tp, pp, dp, ep;
	int node_gpus;		/* GPUs per node */
	int nodes;		/* nodes the instance spans */
	struct comm_link nvlink;	/* within the NVLink domain (PCIe when there is none) */
	struct comm_link pcie;		/* within a node, outside the NVLink domain */
	struct comm_link scaleout;	/* between nodes, per GPU (0 bytes/s: none known) */
	double scaleout_peak_bytes_per_s; /* the catalog's figure, before link efficiency */
	struct comm_link intra;		/* between any two GPUs of one node */
	struct comm_link tp_link;	/* what the TP all-reduce runs over */
	int tp_cross_node;	/* 1: the TP group spans nodes */
	int group_gpus;		/* the expert group: tp x dp */
	int group_local;	/* of it within one node */
	int pp_cross_node;	/* pipeline hand-offs that cross a node boundary */
	/* The model's shape, as the collectives see it. */
	int layers, dense_layers, moe_layers, hidden, experts;
	double act_bytes;	/* bytes per activation dispatched to experts (fp8: 1) */
	/* Wide EP (comm_layout_a2a): DeepEP's all-to-all in place of the all-gather. */
	int a2a;		/* enum a2a_backend (instance.h); 0: allgather_reducescatter */
	int experts_per_token;
	double imbalance;	/* the busiest rank's tokens over the mean (>= 1) */
};

/* GPUs of one node of g (the catalog's gpus_per_node; else its NVLink domain, else 8). */
int comm_node_gpus(const struct gpu_spec *g);

/*
 * Fix the links of a layout of tp x pp x dp GPUs (ep: --enable-expert-
 * parallel) on GPU g. link_efficiency and alpha_s are the engine's (for
 * NVLink; PCIe and scale-out get the same efficiency and their own
 * latencies, see comm.c).
 */
void comm_layout_init(struct comm_layout *c, const struct gpu_spec *g, double link_efficiency,
		      double alpha_s, int tp, int pp, int dp, int ep);

/* Set the model's shape (layers of each kind over the whole model). */
void comm_layout_model(struct comm_layout *c, int layers, int dense_layers, int moe_layers,
		       int hidden, int experts, double act_bytes);

/*
 * Run the MoE exchange on DeepEP (a2a: A2A_DEEPEP_HT or A2A_DEEPEP_LL) with
 * k experts per token, the busiest rank receiving `imbalance` x the mean.
 */
void comm_layout_a2a(struct comm_layout *c, int a2a, int experts_per_token, double imbalance);

/*
 * DeepEP dispatch + combine for one MoE layer, `tokens` per rank of an EP
 * group of ep GPUs, k experts per token, hidden h, dispatch in act_bytes
 * (fp8: 1) and combine in bf16: each call max(latency, bytes / bandwidth)
 * with bytes = tokens x k x h x (act_bytes | 2) and the bandwidth DeepEP
 * measured at that EP size for the kernel kind (low_latency 1: the
 * low-latency kernels, else the normal ones), scaled by the GPU's
 * scale-out network over the 50 GB/s (CX7 400 Gb/s) it was measured on.
 * Seconds. See comm.c for the table and its source.
 */
double comm_deepep_layer_s(int ep, double tokens, int k, int hidden, double act_bytes,
			   double scaleout_bytes_per_s, int low_latency);

/* Ring all-reduce of `bytes` over n GPUs on link l: 2 (n-1)/n bytes / bw + alpha. */
double comm_allreduce_s(const struct comm_link *l, int n, double bytes);

/*
 * Exchange of `bytes_per_gpu` that each GPU of a group of n (local of them
 * in its node) sends spread evenly over the others: the in-node share over
 * `intra`, the rest over `inter`, both at once.
 */
double comm_exchange_s(const struct comm_link *intra, const struct comm_link *inter, int n,
		       int local, double bytes_per_gpu);

/*
 * One pass of `tokens` tokens per data-parallel rank through every stage:
 * the sum of all its collectives (the pipeline's stages run one after
 * another for a token, so their collectives add).
 */
double comm_pass_s(const struct comm_layout *c, double tokens);

#endif
