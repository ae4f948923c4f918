/*
 * testutil.h - what several Check suites share: a relative-tolerance
 * assertion, reading one of the catalog's config.json files (from
 * $PIQPLAN_MODELS_DIR, which meson points at seeds/models), catalog GPU
 * rows and engine profiles built by hand, and running a suite from main().
 */
#ifndef PIQPLAN_TESTUTIL_H
#define PIQPLAN_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "planner/instance.h"
#include "planner/model.h"

/* |got - want| <= rel * |want| */
#define ck_assert_rel(got, want, rel) \
	ck_assert_msg(fabs((double)(got) - (double)(want)) <= (rel) * fabs((double)(want)), \
		      "%s = %.9g, want %.9g within %g%%", #got, (double)(got), \
		      (double)(want), 100.0 * (rel))

/* Read a catalog file (caller frees); *n its length. */
static inline char *read_seed(const char *file, size_t *n)
{
	const char *dir = getenv("PIQPLAN_MODELS_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long len;

	if (!dir || !*dir)
		dir = "seeds/models";
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 1);
	rewind(f);
	buf = malloc((size_t)len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return buf;	/* not NUL-terminated on purpose: the parser must honour len */
}

/* Read one catalog config (and its hf_quant_config.json, when quant is not NULL). */
static inline void load_quant(const char *file, const char *quant, struct model_arch *m)
{
	char err[256];
	size_t n, qn = 0;
	char *buf = read_seed(file, &n), *q = quant ? read_seed(quant, &qn) : NULL;

	ck_assert_msg(model_arch_parse_quant(buf, n, q, qn, m, err, sizeof(err)) == 0, "%s: %s",
		      file, err);
	free(q);
	free(buf);
}

static inline void load(const char *file, struct model_arch *m)
{
	load_quant(file, NULL, m);
}

/*
 * A GPU type as seeds/gpus.csv has it (memory MiB, torch GiB, TB/s, dense
 * TFLOPS, link GB/s per direction, NVLink domain, GPUs per node, scale-out
 * Gb/s per GPU / 8, architecture).
 */
static inline struct gpu_spec test_gpu(const char *id)
{
	static const struct {
		const char *id;
		double mib, torch_gib, tb_s, bf16, fp8, fp4, link_gb_s;
		int domain, node;
		double scaleout_gbps;
		const char *arch;
		int not_served;
	} rows[] = {
		{ "H100-SXM-80GB", 81559, 79.19, 3.35, 989, 1979, 0, 450, 8, 8, 400, "Hopper", 0 },
		{ "H200-SXM-141GB", 143771, 139.81, 4.8, 989, 1979, 0, 450, 8, 8, 400, "Hopper", 0 },
		{ "H200-NVL-141GB", 143771, 139.81, 4.8, 835.5, 1670.5, 0, 450, 4, 8, 0, "Hopper", 0 },
		{ "A100-SXM-80GB", 81920, 79.25, 2.039, 312, 0, 0, 300, 8, 8, 200, "Ampere", 0 },
		{ "L40S-48GB", 46068, 44.42, 0.864, 362.05, 733, 0, 32, 1, 8, 0, "Ada", 0 },
		{ "B200-SXM-180GB", 184320, 178.35, 7.7, 2250, 4500, 9000, 900, 8, 8, 400, "Blackwell", 0 },
		{ "RTX-PRO-6000-SE-96GB", 97887, 95.01, 1.792, 467.8, 935.6, 1871.2, 64, 1, 8, 0,
		  "Blackwell", 0 },
		{ "GB200-186GB", 189471, 184.43, 8.0, 2500, 5000, 10000, 900, 72, 4, 400, "Blackwell", 0 },
		{ "TPU-v6e-32GB", 32768, 0, 1.638, 918, 0, 0, 400, 256, 8, 0, "TPU", 1 },
	};
	struct gpu_spec g;

	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].id, id))
			continue;
		snprintf(g.id, sizeof(g.id), "%s", id);
		g.memory_bytes = rows[i].mib * 1048576.0;
		g.memory_torch_bytes = rows[i].torch_gib * 1073741824.0;
		g.mem_bw_bytes_per_s = rows[i].tb_s * 1e12;
		g.bf16_flops = rows[i].bf16 * 1e12;
		g.fp8_flops = rows[i].fp8 * 1e12;
		g.fp4_flops = rows[i].fp4 * 1e12;
		g.link_bytes_per_s = rows[i].link_gb_s * 1e9;
		g.nvlink_domain_gpus = rows[i].domain;
		g.gpus_per_node = rows[i].node;
		g.scaleout_bytes_per_s = rows[i].scaleout_gbps * 1e9 / 8;
		snprintf(g.arch, sizeof(g.arch), "%s", rows[i].arch);
		g.not_vllm_served = rows[i].not_served;
		return g;
	}
	ck_abort_msg("no such GPU in the test table: %s", id);
	return g;
}

/* An engine profile with seeds/engines.csv's defaults (version 0.21 for vLLM). */
static inline struct engine_profile test_engine(const char *id)
{
	struct engine_profile e;
	const double gib = 1073741824.0;

	memset(&e, 0, sizeof(e));
	snprintf(e.id, sizeof(e.id), "%s", id);
	snprintf(e.version, sizeof(e.version), "%s", !strcmp(id, "vllm") ? "0.21" : "");
	e.gpu_memory_utilization = !strcmp(id, "trtllm") ? 0.9 : !strcmp(id, "sglang") ? 1.0 : 0.92;
	e.fraction_of_free = !strcmp(id, "trtllm");
	e.max_num_seqs_large = !strcmp(id, "vllm") ? 1024 : 2048;
	e.max_num_seqs_small = !strcmp(id, "vllm") ? 256 : 2048;
	e.large_gpu_min_bytes = 70 * gib;
	snprintf(e.large_gpu_exclude, sizeof(e.large_gpu_exclude), "%s",
		 !strcmp(id, "vllm") ? "A100" : "");
	e.max_num_batched_tokens_large = 8192;
	e.max_num_batched_tokens_small = !strcmp(id, "vllm") ? 2048 : 8192;
	e.block_size_tokens = !strcmp(id, "trtllm") ? 32 : 16;
	e.non_torch_tp1_bytes = 0.15 * gib;
	e.non_torch_tpn_bytes = 0.4 * gib;
	e.cuda_graph_bytes = 0.5 * gib;
	e.activation_bytes_per_token_dense = 0.15 * gib / 1000;
	e.activation_bytes_per_token_moe = 0.3 * gib / 1000;
	/*
	 * The step-time parameters (planner/instance.h struct perf_params):
	 * weights, KV and expert reads at 0.5 of the HBM peak, GEMMs and
	 * attention at 0.4 of theirs, 3 ms per step, no per-layer, per-sequence
	 * or per-request terms -- round figures the suites' sums use.
	 */
	e.perf.bw_efficiency = 0.5;
	e.perf.flops_efficiency = 0.4;
	e.perf.attn_efficiency = 0.4;
	e.perf.kv_bw_efficiency = 0.5;
	e.perf.moe_bw_efficiency = 0.5;
	e.perf.step_overhead_s = 3e-3;
	e.allreduce_alpha_s = 10e-6;
	e.link_efficiency = 0.82;
	return e;
}

/* Run one suite to the end: main()'s exit status. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
