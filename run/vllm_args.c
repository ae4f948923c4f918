/*
 * vllm_args.c - see vllm_args.h.
 */
#include "run/vllm_args.h"
#include "lib/util.h"
#include "planner/instance.h"

char *vllm_args_alloc(const struct instance *in, const struct model_arch *m, const char *model_id)
{
	int n = instance_vllm_args(in, m, model_id, NULL, 0);
	char *buf = xmalloc((size_t)n + 1);
	instance_vllm_args(in, m, model_id, buf, (size_t)n + 1);
	return buf;
}
