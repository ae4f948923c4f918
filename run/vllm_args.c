/*
 * vllm_args.c - see vllm_args.h.
 */
#include "run/vllm_args.h"
#include "lib/util.h"
#include "planner/instance.h"
#include "planner/launch.h"

#include <stdlib.h>
#include <string.h>

char *vllm_args_alloc(const struct instance *in, const struct model_arch *m, const char *model_id)
{
	int n = instance_vllm_args(in, m, model_id, NULL, 0);
	char *buf = xmalloc((size_t)n + 1);
	instance_vllm_args(in, m, model_id, buf, (size_t)n + 1);
	return buf;
}

void launch_lines_alloc(const struct instance *in, const struct model_arch *m,
			const char *model_id, const char *engine, struct launch_lines *out)
{
	enum launch_engine e = LAUNCH_VLLM;
	struct launch_cmd *c = xmalloc(sizeof(*c));

	if (!engine || launch_engine_parse(engine, &e))
		e = LAUNCH_VLLM;
	memset(out, 0, sizeof(*out));
	out->engine = launch_engine_name(e);
	out->n = launch_node_count(in, e);
	out->line = xcalloc((size_t)out->n, sizeof(*out->line));
	for (int k = 0; k < out->n; k++) {
		if (launch_build(in, m, model_id, e, k, c)) {
			out->line[k] = xstrdup("");
			continue;
		}
		int len = launch_render(c, NULL, 0);
		out->line[k] = xmalloc((size_t)len + 1);
		launch_render(c, out->line[k], (size_t)len + 1);
	}
	free(c);
}

void launch_lines_free(struct launch_lines *l)
{
	for (int k = 0; k < l->n; k++)
		free(l->line[k]);
	free(l->line);
	memset(l, 0, sizeof(*l));
}
