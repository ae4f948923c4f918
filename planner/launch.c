/*
 * launch.c - the commands that start an instance (see launch.h). Sources
 * of every flag: seeds/vllm_args.csv, seeds/sglang_args.csv,
 * seeds/trtllm_args.csv (each row names the file and commit it was read
 * from); the multi-node shapes: vLLM docs/serving/expert_parallel_
 * deployment.md (@13642f1e) and data_parallel_deployment.md (@01e4fce0)
 * for DP across nodes, docs/serving/parallelism_scaling.md (@f948f41e) for
 * Ray; SGLang's server_args.py (@001067ff: --dist-init-addr, --nnodes,
 * --node-rank, --tp-size counting every GPU); TensorRT-LLM's
 * commands/serve.py (@00209af1).
 */
#include "launch.h"
#include "instance.h"
#include "model.h"
#include "lib/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* vLLM's default DP RPC port (ParallelConfig.data_parallel_rpc_port) and Ray's. */
#define VLLM_DP_RPC_PORT 29550
#define RAY_PORT 6379
#define SGLANG_DIST_PORT 5000
/* Node 0's address, read on every node from the environment. */
#define HEAD "${HEAD_IP:?set HEAD_IP to the address of node 0}"
#define TRTLLM_YAML "piqplan-trtllm.yaml"

int launch_engine_parse(const char *name, enum launch_engine *out)
{
	if (!strcmp(name, "vllm"))
		*out = LAUNCH_VLLM;
	else if (!strcmp(name, "sglang"))
		*out = LAUNCH_SGLANG;
	else if (!strcmp(name, "trtllm"))
		*out = LAUNCH_TRTLLM;
	else
		return -1;
	return 0;
}

const char *launch_engine_name(enum launch_engine e)
{
	switch (e) {
	case LAUNCH_VLLM: return "vllm";
	case LAUNCH_SGLANG: return "sglang";
	case LAUNCH_TRTLLM: return "trtllm";
	}
	return "vllm";
}

int launch_node_count(const struct instance *in, enum launch_engine e)
{
	if (e == LAUNCH_TRTLLM)
		return 1;
	return in->nodes > 1 ? in->nodes : 1;
}

/* Append one word (printf-style); 0, or -1 when it does not fit. */
static int word(struct launch_cmd *c, int raw, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(c->text) - c->used;

	if (c->nwords >= LAUNCH_MAX_WORDS || room < 2)
		return -1;
	va_start(ap, fmt);
	int n = vsnprintf(c->text + c->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	c->word[c->nwords] = c->text + c->used;
	c->raw[c->nwords] = (unsigned char)raw;
	c->nwords++;
	c->used += (size_t)n + 1;
	return 0;
}

/* A fraction with no misleading rounding: 0.9 -> "0.90", 0.915 -> "0.915". */
static void fmt_fraction(char *buf, size_t n, double v)
{
	snprintf(buf, n, "%.4f", v);
	size_t len = strlen(buf);
	while (len > 4 && buf[len - 1] == '0')	/* keep "0.90" */
		buf[--len] = '\0';
}

/* DP ranks a node holds, and the nodes a multi-node DP instance uses. */
static int ranks_per_node(const struct instance *in)
{
	int rank_gpus = in->layout.tp * in->layout.pp;
	int r = in->comm.node_gpus / rank_gpus;
	return r > 0 ? r : 1;
}

/*
 * Wide EP and P/D disaggregation, as vLLM takes them (every flag in
 * seeds/vllm_args.csv): DeepEP through --all2all-backend (deepep_high_throughput
 * for prefill batches, deepep_low_latency for decode steps; docs
 * serving/expert_parallel_deployment), EPLB's redundant experts through
 * --enable-eplb and --eplb-config (EPLBConfig.num_redundant_experts), and the
 * KV transfer through NIXL: kv_producer on a prefill instance, kv_consumer on
 * a decode one, as docs/features/nixl_connector_usage.md @026c83f9 writes
 * its multi-instance set-up (a proxy in front routes each request to both).
 */
static int vllm_mode_words(const struct layout *l, struct launch_cmd *c)
{
	int r = 0;
	if (l->a2a == A2A_DEEPEP_HT || l->a2a == A2A_DEEPEP_LL)
		r |= word(c, 0, "--all2all-backend") |
		     word(c, 0, l->a2a == A2A_DEEPEP_LL ? "deepep_low_latency" :
			  "deepep_high_throughput");
	if (l->redundant_experts > 0)
		r |= word(c, 0, "--enable-eplb") | word(c, 0, "--eplb-config") |
		     word(c, 0, "{\"num_redundant_experts\":%d}", l->redundant_experts);
	if (l->role == PD_PREFILL || l->role == PD_DECODE)
		r |= word(c, 0, "--kv-transfer-config") |
		     word(c, 0, "{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"%s\"}",
			  l->role == PD_PREFILL ? "kv_producer" : "kv_consumer");
	return r;
}

/*
 * The same in SGLang (seeds/sglang_args.csv, docs advanced_features/
 * server_arguments.md): --moe-a2a-backend deepep with --deepep-mode normal
 * or low_latency, --enable-eplb with --ep-num-redundant-experts, and
 * --disaggregation-mode prefill|decode over NIXL
 * (--disaggregation-transfer-backend nixl; SGLang's default is Mooncake).
 */
static int sglang_mode_words(const struct layout *l, struct launch_cmd *c)
{
	int r = 0;
	if (l->a2a == A2A_DEEPEP_HT || l->a2a == A2A_DEEPEP_LL)
		r |= word(c, 0, "--moe-a2a-backend") | word(c, 0, "deepep") |
		     word(c, 0, "--deepep-mode") |
		     word(c, 0, l->a2a == A2A_DEEPEP_LL ? "low_latency" : "normal");
	if (l->redundant_experts > 0)
		r |= word(c, 0, "--enable-eplb") | word(c, 0, "--ep-num-redundant-experts") |
		     word(c, 0, "%d", l->redundant_experts);
	if (l->role == PD_PREFILL || l->role == PD_DECODE)
		r |= word(c, 0, "--disaggregation-mode") |
		     word(c, 0, l->role == PD_PREFILL ? "prefill" : "decode") |
		     word(c, 0, "--disaggregation-transfer-backend") | word(c, 0, "nixl");
	/*
	 * Speculative decoding: MTP layers run as SGLang's EAGLE algorithm
	 * (NEXTN is its alias: docs/basic_usage/deepseek.md, "Multi-token
	 * Prediction"), a chain of k steps, top-1, k + 1 tokens verified;
	 * EAGLE-3 with its draft head; NGRAM with k draft tokens.
	 */
	if (l->spec.method == DRAFT_MTP || l->spec.method == DRAFT_EAGLE3)
		r |= word(c, 0, "--speculative-algorithm") |
		     word(c, 0, l->spec.method == DRAFT_MTP ? "EAGLE" : "EAGLE3");
	if (l->spec.method == DRAFT_EAGLE3)
		r |= word(c, 0, "--speculative-draft-model-path") | word(c, 0, "%s", l->spec.draft);
	if (l->spec.method == DRAFT_MTP || l->spec.method == DRAFT_EAGLE3)
		r |= word(c, 0, "--speculative-num-steps") | word(c, 0, "%d", l->spec.tokens) |
		     word(c, 0, "--speculative-eagle-topk") | word(c, 0, "1") |
		     word(c, 0, "--speculative-num-draft-tokens") | word(c, 0, "%d", l->spec.tokens + 1);
	else if (l->spec.method == DRAFT_NGRAM)
		r |= word(c, 0, "--speculative-algorithm") | word(c, 0, "NGRAM") |
		     word(c, 0, "--speculative-num-draft-tokens") | word(c, 0, "%d", l->spec.tokens);
	return r;
}

static int vllm_words(const struct instance *in, const struct model_arch *m,
		      const char *model_id, int node, struct launch_cmd *c)
{
	const struct layout *l = &in->layout;
	int nodes = launch_node_count(in, LAUNCH_VLLM);
	int dp_nodes = nodes > 1 && l->dp > 1;
	int ray = nodes > 1 && !dp_nodes;
	char gmu[16];
	int r = 0;

	if (ray && node > 0) {
		/* A Ray worker: joins node 0's cluster; node 0 places the workers. */
		c->server = -1;
		return word(c, 0, "ray") | word(c, 0, "start") |
		       word(c, 1, "--address=%s:%d", HEAD, RAY_PORT) | word(c, 0, "--block");
	}
	if (ray)
		r |= word(c, 0, "ray") | word(c, 0, "start") | word(c, 0, "--head") |
		     word(c, 0, "--port=%d", RAY_PORT) | word(c, 1, "&&");
	c->server = c->nwords;
	r |= word(c, 0, "vllm") | word(c, 0, "serve") | word(c, 0, "%s", model_id);
	r |= word(c, 0, "--tensor-parallel-size") | word(c, 0, "%d", l->tp);
	if (l->pp > 1)
		r |= word(c, 0, "--pipeline-parallel-size") | word(c, 0, "%d", l->pp);
	if (l->dp > 1)
		r |= word(c, 0, "--data-parallel-size") | word(c, 0, "%d", l->dp);
	if (dp_nodes) {
		int per = ranks_per_node(in), start = node * per;
		int local = l->dp - start < per ? l->dp - start : per;
		r |= word(c, 0, "--data-parallel-size-local") | word(c, 0, "%d", local) |
		     word(c, 0, "--data-parallel-address") | word(c, 1, "%s", HEAD) |
		     word(c, 0, "--data-parallel-rpc-port") | word(c, 0, "%d", VLLM_DP_RPC_PORT);
		if (node > 0)
			r |= word(c, 0, "--data-parallel-start-rank") | word(c, 0, "%d", start) |
			     word(c, 0, "--headless");
	}
	if (l->ep)
		r |= word(c, 0, "--enable-expert-parallel");
	r |= vllm_mode_words(l, c);
	if (in->online_fp8)
		r |= word(c, 0, "--quantization") | word(c, 0, "fp8");
	if (l->kv_elem_bytes == 1)
		r |= word(c, 0, "--kv-cache-dtype") | word(c, 0, "fp8");
	/*
	 * Speculative decoding as one JSON --speculative-config (arg_utils.py;
	 * "mtp" is vLLM's method for every family's MTP layers, deepseek_mtp
	 * its older name: vllm/config/speculative.py MTPModelTypes).
	 */
	if (l->spec.method == DRAFT_MTP || l->spec.method == DRAFT_NGRAM)
		r |= word(c, 0, "--speculative-config") |
		     word(c, 0, "{\"method\": \"%s\", \"num_speculative_tokens\": %d%s}",
			  spec_method_name(l->spec.method), l->spec.tokens,
			  l->spec.method == DRAFT_NGRAM ? ", \"prompt_lookup_max\": 4" : "");
	else if (l->spec.method == DRAFT_EAGLE3)
		r |= word(c, 0, "--speculative-config") |
		     word(c, 0, "{\"method\": \"eagle3\", \"model\": \"%s\", "
			  "\"num_speculative_tokens\": %d}", l->spec.draft, l->spec.tokens);
	if (m->auto_map)
		r |= word(c, 0, "--trust-remote-code");
	if (in->block_size_given > 0)
		r |= word(c, 0, "--block-size") | word(c, 0, "%d", in->block_size_given);
	if (in->enforce_eager)
		r |= word(c, 0, "--enforce-eager");
	if (ray)
		r |= word(c, 0, "--distributed-executor-backend") | word(c, 0, "ray");
	fmt_fraction(gmu, sizeof(gmu), in->gpu_memory_utilization);
	r |= word(c, 0, "--max-model-len") | word(c, 0, "%lld", (long long)in->max_model_len) |
	     word(c, 0, "--max-num-seqs") | word(c, 0, "%d", in->max_num_seqs) |
	     word(c, 0, "--max-num-batched-tokens") | word(c, 0, "%d", in->max_num_batched_tokens) |
	     word(c, 0, "--gpu-memory-utilization") | word(c, 0, "%s", gmu);
	return r ? -1 : 0;
}

/*
 * SGLang: --tp-size counts every GPU of the server (with DP attention the
 * DP ranks share it: "--tp 16 --dp 16 --enable-dp-attention"); the static
 * memory fraction is what weights and KV take of the GPU (SGLang sizes its
 * pools from it); --max-running-requests is for the whole server.
 */
static int sglang_words(const struct instance *in, const struct model_arch *m,
			const char *model_id, int node, struct launch_cmd *c)
{
	const struct layout *l = &in->layout;
	int nodes = launch_node_count(in, LAUNCH_SGLANG);
	int dp_attn = l->dp > 1 && m->experts > 0;
	int tp = dp_attn ? l->tp * l->dp : l->tp;
	char frac[16];
	int r = 0;

	double f = in->memory_bytes > 0 ? (in->weights_bytes_per_gpu + in->kv_budget_bytes_per_gpu) /
					  in->memory_bytes : 0.85;
	f = f < 0.5 ? 0.5 : f > 0.95 ? 0.95 : f;
	c->server = 0;
	r |= word(c, 0, "python") | word(c, 0, "-m") | word(c, 0, "sglang.launch_server") |
	     word(c, 0, "--model-path") | word(c, 0, "%s", model_id) |
	     word(c, 0, "--tp-size") | word(c, 0, "%d", tp);
	if (l->pp > 1)
		r |= word(c, 0, "--pp-size") | word(c, 0, "%d", l->pp);
	if (l->dp > 1)
		r |= word(c, 0, "--dp-size") | word(c, 0, "%d", l->dp);
	if (dp_attn)
		r |= word(c, 0, "--enable-dp-attention");
	if (l->ep)
		r |= word(c, 0, "--ep-size") | word(c, 0, "%d", l->tp * l->dp);
	r |= sglang_mode_words(l, c);
	if (in->online_fp8)
		r |= word(c, 0, "--quantization") | word(c, 0, "fp8");
	if (l->kv_elem_bytes == 1)
		r |= word(c, 0, "--kv-cache-dtype") | word(c, 0, "fp8_e4m3");
	if (m->auto_map)
		r |= word(c, 0, "--trust-remote-code");
	if (in->enforce_eager)
		r |= word(c, 0, "--disable-cuda-graph");
	snprintf(frac, sizeof(frac), "%.3f", f);
	r |= word(c, 0, "--context-length") | word(c, 0, "%lld", (long long)in->max_model_len) |
	     word(c, 0, "--max-running-requests") | word(c, 0, "%d", in->max_num_seqs * l->dp) |
	     word(c, 0, "--chunked-prefill-size") | word(c, 0, "%d", in->max_num_batched_tokens) |
	     word(c, 0, "--mem-fraction-static") | word(c, 0, "%s", frac);
	if (nodes > 1)
		r |= word(c, 0, "--dist-init-addr") | word(c, 1, "%s:%d", HEAD, SGLANG_DIST_PORT) |
		     word(c, 0, "--nnodes") | word(c, 0, "%d", nodes) |
		     word(c, 0, "--node-rank") | word(c, 0, "%d", node);
	return r ? -1 : 0;
}

/*
 * TensorRT-LLM (PyTorch backend): attention DP and an fp8 KV cache are
 * LLM-API options, so they go in a YAML file passed with --config; over
 * several nodes one mpirun on node 0 starts every rank
 * (trtllm-llmapi-launch), the hosts from TRTLLM_HOSTS ("node0:8,node1:8").
 * The fraction is of the memory free after weights (serve.py).
 */
static int trtllm_words(const struct instance *in, const struct model_arch *m,
			const char *model_id, struct launch_cmd *c)
{
	const struct layout *l = &in->layout;
	int dp_attn = l->dp > 1 && m->experts > 0;
	int mtp = l->spec.method == DRAFT_MTP;
	int yaml = dp_attn || l->kv_elem_bytes == 1 || mtp;
	int gpus = in->gpus;
	char frac[16];
	int r = 0;

	if (yaml) {
		r |= word(c, 0, "printf") | word(c, 0, "%%s\\n");
		if (dp_attn)
			r |= word(c, 0, "enable_attention_dp: true");
		if (l->kv_elem_bytes == 1)
			r |= word(c, 0, "kv_cache_config:") | word(c, 0, "  dtype: fp8");
		/*
		 * The checkpoint's MTP layers (TensorRT-LLM's DeepSeek-R1 guides:
		 * speculative_config with decoding_type MTP, num_nextn_predict_layers
		 * the drafts; docs/source/blogs/Best_perf_practice_on_DeepSeek-R1).
		 */
		if (mtp)
			r |= word(c, 0, "speculative_config:") | word(c, 0, "  decoding_type: MTP") |
			     word(c, 0, "  num_nextn_predict_layers: %d", l->spec.tokens);
		r |= word(c, 1, ">") | word(c, 0, TRTLLM_YAML) | word(c, 1, "&&");
	}
	if (in->nodes > 1)
		r |= word(c, 0, "mpirun") | word(c, 0, "-H") |
		     word(c, 1, "${TRTLLM_HOSTS:?set TRTLLM_HOSTS to node0:%d,node1:%d,...}",
			  in->comm.node_gpus, in->comm.node_gpus) |
		     word(c, 0, "-n") | word(c, 0, "%d", gpus) | word(c, 0, "trtllm-llmapi-launch");
	c->server = c->nwords;
	fmt_fraction(frac, sizeof(frac), in->gpu_memory_utilization);
	r |= word(c, 0, "trtllm-serve") | word(c, 0, "%s", model_id) |
	     word(c, 0, "--backend") | word(c, 0, "pytorch") |
	     word(c, 0, "--tp_size") | word(c, 0, "%d", l->tp * (dp_attn ? l->dp : 1)) |
	     word(c, 0, "--pp_size") | word(c, 0, "%d", l->pp);
	if (l->ep)
		r |= word(c, 0, "--ep_size") | word(c, 0, "%d", l->tp * l->dp);
	if (m->auto_map)
		r |= word(c, 0, "--trust_remote_code");
	r |= word(c, 0, "--max_batch_size") | word(c, 0, "%d", in->max_num_seqs) |
	     word(c, 0, "--max_num_tokens") | word(c, 0, "%d", in->max_num_batched_tokens) |
	     word(c, 0, "--max_seq_len") | word(c, 0, "%lld", (long long)in->max_model_len) |
	     word(c, 0, "--kv_cache_free_gpu_memory_fraction") | word(c, 0, "%s", frac);
	if (yaml)
		r |= word(c, 0, "--config") | word(c, 0, TRTLLM_YAML);
	return r ? -1 : 0;
}

int launch_build(const struct instance *in, const struct model_arch *m, const char *model_id,
		 enum launch_engine e, int node, struct launch_cmd *out)
{
	memset(out, 0, sizeof(*out));
	out->node = node;
	if (node < 0 || node >= launch_node_count(in, e))
		return -1;
	switch (e) {
	case LAUNCH_VLLM:
		return vllm_words(in, m, model_id, node, out);
	case LAUNCH_SGLANG:
		return sglang_words(in, m, model_id, node, out);
	case LAUNCH_TRTLLM:
		return trtllm_words(in, m, model_id, out);
	}
	return -1;
}

/* snprintf-style appending: counts every byte, writes what fits, keeps a NUL. */
static void put(char *buf, size_t n, size_t *off, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (*off + 1 < n)
			buf[*off] = s[i];
		(*off)++;
	}
}

static size_t render_words(const struct launch_cmd *c, int from, char *buf, size_t n)
{
	size_t off = 0;

	for (int i = from; i < c->nwords; i++) {
		if (i > from)
			put(buf, n, &off, " ", 1);
		if (c->raw[i]) {
			put(buf, n, &off, c->word[i], strlen(c->word[i]));
		} else {
			size_t need;
			if (buf && off < n)	/* lib/escape.h; cuts like snprintf */
				need = shell_quote(buf + off, n - off, c->word[i]);
			else
				need = shell_quote(NULL, 0, c->word[i]);
			off += need;
		}
	}
	if (n > 0 && buf)
		buf[off < n ? off : n - 1] = '\0';
	return off;
}

int launch_render(const struct launch_cmd *c, char *buf, size_t n)
{
	return (int)render_words(c, 0, buf, n);
}

int instance_vllm_args(const struct instance *in, const struct model_arch *m,
		       const char *model_id, char *buf, size_t bufsz)
{
	struct launch_cmd c;

	if (launch_build(in, m, model_id, LAUNCH_VLLM, 0, &c) || c.server < 0) {
		if (bufsz > 0 && buf)
			buf[0] = '\0';
		return 0;
	}
	return (int)render_words(&c, c.server + 2, buf, bufsz);	/* after "vllm serve" */
}
