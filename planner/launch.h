/*
 * launch.h - the commands that start a sized instance, one per node, for
 * vLLM (`vllm serve`), SGLang (`python -m sglang.launch_server`) and
 * TensorRT-LLM (`trtllm-serve`), as argument vectors and as shell lines.
 *
 * Multi-node vLLM follows its docs: data parallelism over nodes runs whole
 * DP ranks per node (node 0: --data-parallel-size-local, address, RPC port;
 * the others also --data-parallel-start-rank and --headless); a TP x PP
 * rank larger than a node runs on a Ray cluster (node 0 starts the head and
 * serves with --distributed-executor-backend ray, the others join it).
 * Node 0's address is read from the environment variable HEAD_IP on every
 * node (the line stops with a message when it is not set). Every flag
 * emitted is in seeds/vllm_args.csv (vLLM's arg_utils.py at a pinned
 * commit); tests/test_launch.c checks it for every layout.
 *
 * Pure: no SQLite, no stdio, no globals; fixed buffers, no allocation
 * (run/vllm_args.c allocates the strings).
 */
#ifndef PIQPLAN_LAUNCH_H
#define PIQPLAN_LAUNCH_H

#include <stddef.h>

struct instance;
struct model_arch;

enum launch_engine {
	LAUNCH_VLLM,
	LAUNCH_SGLANG,
	LAUNCH_TRTLLM,
};

#define LAUNCH_MAX_WORDS 96
#define LAUNCH_TEXT 4096

/* One node's command line, word by word. */
struct launch_cmd {
	int node;			/* 0: the head (API server) */
	int nwords;
	const char *word[LAUNCH_MAX_WORDS];	/* into text */
	unsigned char raw[LAUNCH_MAX_WORDS];	/* 1: written as is (&&, ${HEAD_IP:?...});
						 * else one shell word, quoted if needed */
	int server;			/* index of the server's first word ("vllm"); -1: this
					 * node runs only a helper (a Ray worker) */
	size_t used;
	char text[LAUNCH_TEXT];
};

/* "vllm", "sglang", "trtllm" -> the engine; 0, or -1 when unknown. */
int launch_engine_parse(const char *name, enum launch_engine *out);
const char *launch_engine_name(enum launch_engine e);

/*
 * How many commands start the instance: one per node for vLLM and SGLang;
 * one for TensorRT-LLM (mpirun starts every node from node 0).
 */
int launch_node_count(const struct instance *in, enum launch_engine e);

/*
 * Node `node`'s command for instance in of model m (Hugging Face id
 * model_id). 0, or -1 when node is out of range or the words do not fit.
 */
int launch_build(const struct instance *in, const struct model_arch *m, const char *model_id,
		 enum launch_engine e, int node, struct launch_cmd *out);

/*
 * The command as one shell line: words joined by spaces, each quoted
 * (lib/escape.h shell_quote) unless raw. Like snprintf: writes at most n
 * bytes (buf may be NULL when n is 0) and returns the length needed.
 */
int launch_render(const struct launch_cmd *c, char *buf, size_t n);

/*
 * The arguments of node 0's `vllm serve` (the words after "vllm serve"),
 * as one line: "MODEL --tensor-parallel-size N [--pipeline-parallel-size
 * N] [--data-parallel-size N ...] [--enable-expert-parallel]
 * [--quantization fp8] [--kv-cache-dtype fp8] [--trust-remote-code]
 * [--block-size N] [--enforce-eager] --max-model-len N --max-num-seqs N
 * --max-num-batched-tokens N --gpu-memory-utilization F". snprintf-like.
 */
int instance_vllm_args(const struct instance *in, const struct model_arch *m,
		       const char *model_id, char *buf, size_t bufsz);

#endif
