/*
 * vllm_args.h - the `vllm serve` arguments of a sized instance as a new
 * string: planner/instance.h's instance_vllm_args, allocated. For the
 * commands that print them (plan, estimate) and the run that stores them.
 */
#ifndef PIQPLAN_VLLM_ARGS_H
#define PIQPLAN_VLLM_ARGS_H

struct instance;
struct model_arch;

/* "MODEL --tensor-parallel-size N ..." for instance in of model m (id model_id); caller frees. */
char *vllm_args_alloc(const struct instance *in, const struct model_arch *m, const char *model_id);

#endif
