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
	struct comm_link intra;		/* between any two GPUs of one node */
	struct comm_link tp_link;	/* what the TP all-reduce runs over */
	int tp_cross_node;	/* 1: the TP group spans nodes */
	int group_gpus;		/* the expert group: tp x dp */
	int group_local;	/* of it within one node */
	int pp_cross_node;	/* pipeline hand-offs that cross a node boundary */
	/* The model's shape, as the collectives see it. */
	int layers, dense_layers, moe_layers, hidden, experts;
	double act_bytes;	/* bytes per activation dispatched to experts (fp8: 1) */
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
