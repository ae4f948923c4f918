/*
 * vllm_args.h - the commands that start a sized instance, as new strings:
 * planner/launch.h's argument vectors rendered and allocated. For the
 * commands that print them (plan, estimate) and the run that stores them.
 */
#ifndef PIQPLAN_VLLM_ARGS_H
#define PIQPLAN_VLLM_ARGS_H

struct instance;
struct model_arch;

/* "MODEL --tensor-parallel-size N ..." (node 0's `vllm serve` arguments); caller frees. */
char *vllm_args_alloc(const struct instance *in, const struct model_arch *m, const char *model_id);

/* Every node's command for one engine. */
struct launch_lines {
	int n;			/* commands: one per node (TensorRT-LLM: one mpirun) */
	char **line;		/* n shell lines */
	const char *engine;	/* "vllm", "sglang", "trtllm" */
};

/*
 * The commands of instance in for engine ("vllm", "sglang", "trtllm"; an
 * unknown one gets vLLM's). Free with launch_lines_free.
 */
void launch_lines_alloc(const struct instance *in, const struct model_arch *m,
			const char *model_id, const char *engine, struct launch_lines *out);
void launch_lines_free(struct launch_lines *l);

#endif
