/*
 * test_launch.c - Check suite for planner/launch.c: the commands that start
 * an instance. Every line piqplan can emit, over a sweep of models, GPUs and
 * layouts (one node and several, DP and Ray, EP, fp8, fp8 KV, eager, block
 * size), uses only flags -- and values -- of the engine's argument list as
 * shipped in seeds/ (vllm_args.csv: vllm/engine/arg_utils.py at commit
 * 002f10e0 and the serve CLI; sglang_args.csv: server_args.py at 001067ff;
 * trtllm_args.csv: commands/serve.py at 00209af1). The multi-node lines are
 * checked word for word against vLLM's docs
 * (docs/serving/expert_parallel_deployment.md @13642f1e: node 0 with
 * --data-parallel-size-local, --data-parallel-address and
 * --data-parallel-rpc-port; the others with --data-parallel-start-rank and
 * --headless; parallelism_scaling.md @f948f41e: TP x PP over a Ray cluster).
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/instance.h"
#include "planner/launch.h"
#include "planner/model.h"
#include "testutil.h"

#define MAX_FLAGS 512

/* ---- an engine's argument list, from seeds/ENGINE_args.csv ---------------------- */

struct flag {
	char name[96];
	int takes_value;	/* 0: a switch */
	char choices[512];	/* the choices column, as read */
	char alias_of[96];	/* "(alias)" rows: the primary flag */
};

struct arglist {
	struct flag f[MAX_FLAGS];
	int n;
};

/* Next CSV field of line at *p (quotes allowed) into out. */
static void csv_field(const char **p, char *out, size_t n)
{
	const char *s = *p;
	size_t k = 0;
	int q = 0;

	if (*s == '"') {
		q = 1;
		s++;
	}
	for (; *s; s++) {
		if (q && *s == '"' && s[1] == '"') {
			s++;
		} else if (q && *s == '"') {
			q = 0;
			continue;
		} else if (!q && (*s == ',' || *s == '\n')) {
			break;
		}
		if (k + 1 < n)
			out[k++] = *s;
	}
	out[k] = '\0';
	*p = *s == ',' ? s + 1 : s;
}

static void arglist_load(const char *file, struct arglist *a)
{
	char path[1024], line[4096], takes[128], source[2048];
	const char *dir = getenv("PIQPLAN_MODELS_DIR");	/* seeds/models */

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/../%s", dir, file);
	FILE *fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	memset(a, 0, sizeof(*a));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));	/* header */
	while (fgets(line, sizeof(line), fp)) {
		struct flag *f = &a->f[a->n];
		const char *p = line;
		csv_field(&p, f->name, sizeof(f->name));
		csv_field(&p, takes, sizeof(takes));
		csv_field(&p, f->choices, sizeof(f->choices));
		csv_field(&p, source, sizeof(source));
		if (f->name[0] != '-')
			continue;
		f->takes_value = !strcmp(takes, "yes");
		if (!strcmp(takes, "(alias)")) {
			const char *of = strstr(source, "alias of ");
			if (!of)
				of = strstr(f->choices, "alias of ");
			if (of)
				sscanf(of + 9, "%95[-a-zA-Z0-9_]", f->alias_of);
		}
		ck_assert_int_lt(++a->n, MAX_FLAGS);
	}
	fclose(fp);
	/* Aliases take what their primary takes. */
	for (int i = 0; i < a->n; i++)
		for (int j = 0; a->f[i].alias_of[0] && j < a->n; j++)
			if (!strcmp(a->f[j].name, a->f[i].alias_of)) {
				a->f[i].takes_value = a->f[j].takes_value;
				memmove(a->f[i].choices, a->f[j].choices, sizeof(a->f[i].choices));
			}
}

static const struct flag *arglist_find(const struct arglist *a, const char *name)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->f[i].name, name))
			return &a->f[i];
	return NULL;
}

static int is_int(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Whether value v is one the flag accepts, judged from its choices column. */
static int value_ok(const struct flag *f, const char *v)
{
	const char *c = f->choices;
	char list[600];

	if (!strcmp(f->name, "--quantization"))
		/* QUANTIZATION_METHODS (docs.vllm.ai v0.16.0 and later) has fp8; piqplan emits only it. */
		return !strcmp(v, "fp8");
	const char *brace = strchr(c, '{');
	if (brace) {
		snprintf(list, sizeof(list), ",%s", brace + 1);
		char *end = strchr(list, '}');
		if (end)
			*end = ',';
	} else if (strchr(c, ',') && !strchr(c, ' ')) {
		snprintf(list, sizeof(list), ",%s,", c);
	} else if (!strncmp(c, "int", 3)) {
		return is_int(v);
	} else if (!strncmp(c, "float", 5)) {
		return strtod(v, NULL) > 0 && strtod(v, NULL) <= 1;
	} else if (!strncmp(f->name, "--data-parallel-address", 23) || strstr(c, "host")) {
		return v[0] != '\0';
	} else {
		return v[0] != '\0' && strncmp(v, "--", 2);
	}
	char want[128];
	snprintf(want, sizeof(want), ",%s,", v);
	return strstr(list, want) != NULL;
}

/*
 * Every flag of the server command in c is in the list, every value-taking
 * flag has a value it accepts, every switch none. Returns the flags seen.
 */
static int check_words(const struct arglist *a, const struct launch_cmd *c, const char *what)
{
	int flags = 0;

	if (c->server < 0)
		return 0;
	for (int i = c->server; i < c->nwords; i++) {
		const char *w = c->word[i];
		if (strncmp(w, "--", 2))
			continue;
		const struct flag *f = arglist_find(a, w);
		ck_assert_msg(f != NULL, "%s: %s is not in the argument list", what, w);
		flags++;
		if (!f->takes_value) {
			ck_assert_msg(i + 1 >= c->nwords || !strncmp(c->word[i + 1], "--", 2),
				      "%s: switch %s followed by %s", what, w, c->word[i + 1]);
			continue;
		}
		ck_assert_msg(i + 1 < c->nwords, "%s: %s without a value", what, w);
		ck_assert_msg(value_ok(f, c->word[i + 1]), "%s: %s %s (choices: %s)", what, w,
			      c->word[i + 1], f->choices);
		i++;
	}
	return flags;
}

/* GPUs and engines: seeds/gpus.csv and seeds/engines.csv rows (testutil.h). */
#define gpu test_gpu
#define engine test_engine

static void render(const struct launch_cmd *c, char *buf, size_t n)
{
	int len = launch_render(c, buf, n);
	ck_assert_int_lt(len, (int)n);
}

/*
 * DeepSeek-V3 DP 16 with EP over two 8 x H100 nodes, as the EP deployment
 * doc writes it (its example: the same flags, the backend left at vLLM's
 * default allgather_reducescatter so the line runs without DeepEP).
 */
START_TEST(test_dp16_ep_two_nodes)
{
	struct model_arch m;
	struct gpu_spec g = gpu("H100-SXM-80GB");
	struct engine_profile e = engine("vllm");
	struct layout l = { 1, 1, 16, 1, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	struct launch_cmd c;
	char line[4096], want[4096];

	rq.max_model_len = 4096;
	rq.resident_tokens_per_seq = 2048;
	load("deepseek-ai--DeepSeek-V3.json", &m);
	ck_assert_msg(instance_size(&m, &g, &e, &l, &rq, &in), "%s", in.reason);
	ck_assert_int_eq(in.nodes, 2);
	ck_assert_int_eq(launch_node_count(&in, LAUNCH_VLLM), 2);
	const char *head = "${HEAD_IP:?set HEAD_IP to the address of node 0}";
	const char *tail_fmt = " --enable-expert-parallel --trust-remote-code --max-model-len 4096"
			       " --max-num-seqs %d --max-num-batched-tokens 8192"
			       " --gpu-memory-utilization 0.92";
	char tail[256];
	snprintf(tail, sizeof(tail), tail_fmt, in.max_num_seqs);

	ck_assert_int_eq(launch_build(&in, &m, "deepseek-ai/DeepSeek-V3", LAUNCH_VLLM, 0, &c), 0);
	render(&c, line, sizeof(line));
	snprintf(want, sizeof(want), "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 1"
		 " --data-parallel-size 16 --data-parallel-size-local 8 --data-parallel-address %s"
		 " --data-parallel-rpc-port 29550%s", head, tail);
	ck_assert_str_eq(line, want);
	ck_assert_int_eq(launch_build(&in, &m, "deepseek-ai/DeepSeek-V3", LAUNCH_VLLM, 1, &c), 0);
	render(&c, line, sizeof(line));
	snprintf(want, sizeof(want), "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 1"
		 " --data-parallel-size 16 --data-parallel-size-local 8 --data-parallel-address %s"
		 " --data-parallel-rpc-port 29550 --data-parallel-start-rank 8 --headless%s", head,
		 tail);
	ck_assert_str_eq(line, want);
	ck_assert_int_eq(launch_build(&in, &m, "x", LAUNCH_VLLM, 2, &c), -1);

	/* SGLang: --tp-size counts all 16 GPUs, DP attention, one rank per node. */
	ck_assert_int_eq(launch_build(&in, &m, "deepseek-ai/DeepSeek-V3", LAUNCH_SGLANG, 1, &c), 0);
	render(&c, line, sizeof(line));
	ck_assert_msg(strstr(line, "python -m sglang.launch_server --model-path "
			     "deepseek-ai/DeepSeek-V3 --tp-size 16 --dp-size 16 "
			     "--enable-dp-attention --ep-size 16 --trust-remote-code"), "%s", line);
	ck_assert_msg(strstr(line, " --dist-init-addr ${HEAD_IP:?set HEAD_IP to the address of "
			     "node 0}:5000 --nnodes 2 --node-rank 1"), "%s", line);

	/* The head's address expands in a shell, and stops the line when unset. */
	const char *cmd = "HEAD_IP=10.0.0.1 sh -c 'echo ${HEAD_IP:?set HEAD_IP to the address "
			  "of node 0}' | grep -qx 10.0.0.1 && ! sh -c 'unset HEAD_IP; : ${HEAD_IP:?"
			  "set HEAD_IP to the address of node 0}' 2>/dev/null";
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* TP x PP bigger than a node: a Ray cluster, one command per node (Llama-3.1-405B bf16). */
START_TEST(test_ray_across_nodes)
{
	struct model_arch m;
	struct gpu_spec g = gpu("H100-SXM-80GB");
	struct engine_profile e = engine("vllm");
	struct layout l = { 8, 2, 1, 0, PREC_BF16, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	struct launch_cmd c;
	char line[4096];

	rq.max_model_len = 4096;
	load("meta-llama--Llama-3.1-405B.json", &m);
	ck_assert_msg(instance_size(&m, &g, &e, &l, &rq, &in), "%s", in.reason);
	ck_assert_int_eq(in.nodes, 2);
	ck_assert_int_eq(in.comm.pp_cross_node, 1);
	ck_assert_int_eq(launch_build(&in, &m, "meta-llama/Llama-3.1-405B", LAUNCH_VLLM, 0, &c), 0);
	render(&c, line, sizeof(line));
	ck_assert_msg(!strncmp(line, "ray start --head --port=6379 && vllm serve "
			       "meta-llama/Llama-3.1-405B --tensor-parallel-size 8 "
			       "--pipeline-parallel-size 2 --distributed-executor-backend ray "
			       "--max-model-len 4096 ", strlen("ray start --head --port=6379 && vllm "
			       "serve meta-llama/Llama-3.1-405B --tensor-parallel-size 8 "
			       "--pipeline-parallel-size 2 --distributed-executor-backend ray "
			       "--max-model-len 4096 ")), "%s", line);
	ck_assert_int_eq(launch_build(&in, &m, "meta-llama/Llama-3.1-405B", LAUNCH_VLLM, 1, &c), 0);
	render(&c, line, sizeof(line));
	ck_assert_str_eq(line, "ray start --address=${HEAD_IP:?set HEAD_IP to the address of "
			 "node 0}:6379 --block");
	ck_assert_int_eq(c.server, -1);
}
END_TEST

/* Kimi-K2's config names remote code (auto_map): --trust-remote-code, in every engine. */
START_TEST(test_trust_remote_code)
{
	struct model_arch m;
	struct gpu_spec g = gpu("B200-SXM-180GB");
	struct engine_profile e = engine("vllm");
	struct layout l = { 8, 1, 1, 1, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	struct instance in;
	char args[2048];
	struct launch_cmd c;

	rq.max_model_len = 8192;
	load("moonshotai--Kimi-K2-Instruct.json", &m);
	ck_assert_int_eq(m.auto_map, 1);
	ck_assert_msg(instance_size(&m, &g, &e, &l, &rq, &in), "%s", in.reason);
	instance_vllm_args(&in, &m, "moonshotai/Kimi-K2-Instruct", args, sizeof(args));
	ck_assert_msg(strstr(args, " --trust-remote-code "), "%s", args);
	launch_build(&in, &m, "moonshotai/Kimi-K2-Instruct", LAUNCH_TRTLLM, 0, &c);
	render(&c, args, sizeof(args));
	ck_assert_msg(strstr(args, " --trust_remote_code "), "%s", args);
	/* Llama-3.1-8B has no auto_map: none. */
	load("meta-llama--Llama-3.1-8B.json", &m);
	ck_assert_int_eq(m.auto_map, 0);
	l.ep = 0;
	l.tp = 1;
	ck_assert(instance_size(&m, &g, &e, &l, &rq, &in));
	instance_vllm_args(&in, &m, "meta-llama/Llama-3.1-8B", args, sizeof(args));
	ck_assert_msg(!strstr(args, "trust-remote-code"), "%s", args);
}
END_TEST

/*
 * Every line piqplan can emit, for every engine, over a sweep of models,
 * GPUs and layouts, uses only the engine's flags with values it accepts;
 * max_model_len never exceeds the model's context; fp8 is asked only of a
 * bf16 checkpoint.
 */
START_TEST(test_every_line_uses_known_flags)
{
	static struct arglist vllm, sglang, trtllm;
	static const char *const models[] = {
		"meta-llama--Llama-3.1-8B.json", "meta-llama--Llama-3.1-70B.json",
		"deepseek-ai--DeepSeek-V3.json", "openai--gpt-oss-120b.json",
		"moonshotai--Kimi-K2-Instruct.json", "Qwen--Qwen3-235B-A22B.json",
		"Qwen--Qwen3.5-397B-A17B.json", "deepseek-ai--DeepSeek-V4-Flash.json",
		"google--gemma-4-26B-A4B.json", "nvidia--Qwen3-235B-A22B-NVFP4.json",
	};
	static const char *const gpus[] = { "H100-SXM-80GB", "B200-SXM-180GB", "L40S-48GB" };
	static const char *const engines[] = { "vllm", "sglang", "trtllm" };
	static const int64_t lens[] = { 4096, 1048576 };
	int lines = 0, flags = 0, multi = 0;

	arglist_load("vllm_args.csv", &vllm);
	arglist_load("sglang_args.csv", &sglang);
	arglist_load("trtllm_args.csv", &trtllm);
	ck_assert_int_gt(vllm.n, 200);
	for (size_t mi = 0; mi < sizeof(models) / sizeof(models[0]); mi++) {
		static struct model_arch m;
		if (strstr(models[mi], "NVFP4"))
			load_quant(models[mi], "nvidia--Qwen3-235B-A22B-NVFP4.hf_quant_config.json", &m);
		else
			load(models[mi], &m);
		for (size_t gi = 0; gi < sizeof(gpus) / sizeof(gpus[0]); gi++) {
			struct gpu_spec g = gpu(gpus[gi]);
			for (size_t ei = 0; ei < 3; ei++) {
				struct engine_profile e = engine(engines[ei]);
				enum launch_engine le;
				ck_assert_int_eq(launch_engine_parse(engines[ei], &le), 0);
				const struct arglist *list = ei == 0 ? &vllm : ei == 1 ? &sglang : &trtllm;
				for (int v = 0; v < 64; v++) {
					struct layout l = { 1 << (v % 4), 1 + (v / 4) % 2 * 1,
							    1 << ((v / 8) % 3), (v / 24) % 2,
							    (v / 48) % 2 ? PREC_FP8 : PREC_NATIVE,
							    (v % 3) ? 2 : 1, A2A_ALLGATHER, 0, PD_AGGREGATED, NO_SPEC };
					l.pp = (v / 4) % 2 ? 2 : 1;
					/* Speculation on some: MTP where the model has it, n-gram. */
					if (v % 6 == 1 && m.mtp_layers > 0)
						l.spec = (struct spec_decode){ DRAFT_MTP, 1 + v % 3, 0.8, "" };
					else if (v % 6 == 3)
						l.spec = (struct spec_decode){ DRAFT_NGRAM, 3, 0.5, "" };
					struct instance_request rq = INSTANCE_REQUEST_INIT;
					rq.max_model_len = lens[v % 2];
					rq.enforce_eager = v % 5 == 0;
					rq.block_size_tokens = v % 7 == 0 ? 32 : 0;
					static struct instance in;
					if (!instance_size(&m, &g, &e, &l, &rq, &in))
						continue;
					ck_assert(in.max_model_len <= m.max_context_tokens);
					ck_assert(!in.online_fp8 || !m.ckpt.quant_method[0]);
					for (int k = 0; k < launch_node_count(&in, le); k++) {
						static struct launch_cmd c;
						char what[256];
						ck_assert_int_eq(launch_build(&in, &m, "org/model", le, k, &c), 0);
						snprintf(what, sizeof(what), "%s %s %s tp%d pp%d dp%d ep%d node %d",
							 engines[ei], models[mi], gpus[gi], l.tp, l.pp, l.dp,
							 l.ep, k);
						flags += check_words(list, &c, what);
						lines++;
						multi += k > 0;
					}
				}
			}
		}
	}
	printf("launch: %d lines (%d for nodes after the first), %d flags checked\n", lines, multi,
	       flags);
	ck_assert_int_gt(lines, 300);
	ck_assert_int_gt(multi, 10);
}
END_TEST

/* An unknown engine name; the engine names. */
/*
 * Speculation in SGLang's words: MTP layers as its EAGLE algorithm, a chain
 * of k steps, top-1, k + 1 tokens verified (sgl-project/sglang
 * docs/basic_usage/deepseek.md, "Multi-token Prediction"); TensorRT-LLM
 * takes MTP in its YAML and refuses the rest.
 */
START_TEST(test_sglang_mtp)
{
	static struct model_arch m;
	static struct instance in;
	static struct launch_cmd c;
	char line[4096];
	load("deepseek-ai--DeepSeek-V3.json", &m);
	struct gpu_spec g = gpu("H200-SXM-141GB");
	struct engine_profile e = engine("sglang");
	struct layout l = { 8, 1, 1, 0, PREC_NATIVE, 2, A2A_ALLGATHER, 0, PD_AGGREGATED,
			    { DRAFT_MTP, 2, 0.85, "" } };
	struct instance_request rq = INSTANCE_REQUEST_INIT;
	rq.max_model_len = 4096;
	ck_assert(instance_size(&m, &g, &e, &l, &rq, &in));
	ck_assert_int_eq(launch_build(&in, &m, "deepseek-ai/DeepSeek-V3", LAUNCH_SGLANG, 0, &c), 0);
	render(&c, line, sizeof(line));
	ck_assert_msg(strstr(line, " --speculative-algorithm EAGLE --speculative-num-steps 2"
			     " --speculative-eagle-topk 1 --speculative-num-draft-tokens 3"), "%s", line);
	/* TensorRT-LLM: MTP in its YAML (decoding_type MTP, num_nextn_predict_layers k). */
	e = engine("trtllm");
	ck_assert(instance_size(&m, &g, &e, &l, &rq, &in));
	ck_assert_int_eq(launch_build(&in, &m, "deepseek-ai/DeepSeek-V3", LAUNCH_TRTLLM, 0, &c), 0);
	render(&c, line, sizeof(line));
	ck_assert_msg(strstr(line, " speculative_config: '  decoding_type: MTP'"
			     " '  num_nextn_predict_layers: 2' > "), "%s", line);
	/* ... and n-gram refused there. */
	l.spec.method = DRAFT_NGRAM;
	ck_assert(!instance_size(&m, &g, &e, &l, &rq, &in));
	ck_assert_msg(strstr(in.reason, "TensorRT-LLM"), "%s", in.reason);
}
END_TEST

START_TEST(test_engine_names)
{
	enum launch_engine e;
	ck_assert_int_eq(launch_engine_parse("tgi", &e), -1);
	ck_assert_int_eq(launch_engine_parse("sglang", &e), 0);
	ck_assert_str_eq(launch_engine_name(e), "sglang");
}
END_TEST

static Suite *launch_suite(void)
{
	Suite *s = suite_create("launch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dp16_ep_two_nodes);
	tcase_add_test(tc, test_ray_across_nodes);
	tcase_add_test(tc, test_trust_remote_code);
	tcase_add_test(tc, test_every_line_uses_known_flags);
	tcase_add_test(tc, test_sglang_mtp);
	tcase_add_test(tc, test_engine_names);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(launch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
