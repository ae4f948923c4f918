/*
 * test_comm.c - Check suite for planner/comm.c: which link each collective
 * runs over, and its time, worked by hand. GPUs are the catalog's rows
 * (seeds/gpus.csv): H100 SXM (NVLink 450 GB/s per direction, 8 per node,
 * 400 Gb/s scale-out per GPU), L40S (PCIe Gen4 x16, 32 GB/s, no NVLink),
 * H200 NVL (a 4-GPU NVLink bridge in an 8-GPU PCIe node). The engine's link
 * efficiency 0.82 and all-reduce latency 10 us (seeds/engines.csv).
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "planner/comm.h"
#include "planner/instance.h"
#include "testutil.h"

#define EFF 0.82
#define ALPHA 10e-6

#define gpu test_gpu	/* seeds/gpus.csv rows (testutil.h) */

/* Ring all-reduce: 2 (n-1)/n x bytes / bw + alpha. */
START_TEST(test_allreduce)
{
	struct comm_link l = { 369e9, ALPHA };
	/* 4 GPUs, 64 MiB: 2 x 3/4 x 67,108,864 / 369e9 = 272.8 us, + 10. */
	ck_assert_rel(comm_allreduce_s(&l, 4, 67108864.0), 1.5 * 67108864.0 / 369e9 + ALPHA, 1e-12);
	ck_assert_double_eq(comm_allreduce_s(&l, 1, 1e9), 0);
}
END_TEST

/* The TP group's link: NVLink, PCIe (L40S; H200 NVL beyond its 4-GPU bridge), scale-out. */
START_TEST(test_tp_links)
{
	struct comm_layout c;
	struct gpu_spec h100 = gpu("H100-SXM-80GB"), l40s = gpu("L40S-48GB");
	struct gpu_spec nvl = gpu("H200-NVL-141GB");

	comm_layout_init(&c, &h100, EFF, ALPHA, 8, 1, 1, 0);
	ck_assert_rel(c.tp_link.bytes_per_s, 450e9 * EFF, 1e-12);
	ck_assert_int_eq(c.tp_cross_node, 0);
	ck_assert_int_eq(c.nodes, 1);
	comm_layout_init(&c, &l40s, EFF, ALPHA, 4, 1, 1, 0);
	ck_assert_rel(c.tp_link.bytes_per_s, 32e9 * EFF, 1e-12);
	comm_layout_init(&c, &nvl, EFF, ALPHA, 4, 1, 1, 0);
	ck_assert_rel(c.tp_link.bytes_per_s, 450e9 * EFF, 1e-12);
	comm_layout_init(&c, &nvl, EFF, ALPHA, 8, 1, 1, 0);
	ck_assert_rel(c.tp_link.bytes_per_s, 64e9 * EFF, 1e-12);	/* PCIe Gen5 x16 */
	ck_assert_rel(c.tp_link.alpha_s, 2 * ALPHA, 1e-12);
	comm_layout_init(&c, &h100, EFF, ALPHA, 16, 1, 1, 0);
	ck_assert_int_eq(c.tp_cross_node, 1);
	ck_assert_int_eq(c.nodes, 2);
	ck_assert_rel(c.tp_link.bytes_per_s, 50e9 * EFF, 1e-12);
	ck_assert_rel(c.tp_link.alpha_s, 25e-6, 1e-12);
}
END_TEST

/*
 * Llama-3.1-70B at TP 4 on H100, 256 tokens: 80 layers x (attention + MLP)
 * = 160 all-reduces of 256 x 8192 x 2 = 4,194,304 B: each 2 x 3/4 x
 * 4,194,304 / 369e9 + 10 us = 27.05 us; 4.33 ms in all. On L40S (PCIe,
 * 26.24 GB/s) each takes 239.8 + 10 us: 39.97 ms.
 */
START_TEST(test_tp_pass)
{
	struct comm_layout c;
	struct gpu_spec h100 = gpu("H100-SXM-80GB"), l40s = gpu("L40S-48GB");
	double bytes = 256.0 * 8192 * 2;

	comm_layout_init(&c, &h100, EFF, ALPHA, 4, 1, 1, 0);
	comm_layout_model(&c, 80, 80, 0, 8192, 0, 2);
	ck_assert_rel(comm_pass_s(&c, 256), 160 * (1.5 * bytes / 369e9 + ALPHA), 1e-9);
	comm_layout_init(&c, &l40s, EFF, ALPHA, 4, 1, 1, 0);
	comm_layout_model(&c, 80, 80, 0, 8192, 0, 2);
	ck_assert_rel(comm_pass_s(&c, 256), 160 * (1.5 * bytes / 26.24e9 + ALPHA), 1e-9);
}
END_TEST

/*
 * DeepSeek-V3 DP 16 (TP 1) over two 8-GPU H100 nodes, 64 tokens per rank:
 * every MoE layer gathers the other 15 ranks' tokens (fp8, 1 B) and
 * reduce-scatters the outputs (bf16, 2 B): 15 x 64 x 7168 x 3 = 20,643,840
 * B per GPU, 7/15 of it to the 7 peers in the node over NVLink (369 GB/s:
 * 26.1 us), 8/15 to the 8 in the other node over the scale-out network
 * (41 GB/s: 268.5 us); both at once, + 2 x 25 us: 318.5 us per layer,
 * x 58 MoE layers. Within one node (DP 8) the same goes over NVLink only.
 */
START_TEST(test_ep_across_nodes)
{
	struct comm_layout c;
	struct gpu_spec h100 = gpu("H100-SXM-80GB");
	double bytes = 15.0 * 64 * 7168 * 3;

	comm_layout_init(&c, &h100, EFF, ALPHA, 1, 1, 16, 1);
	comm_layout_model(&c, 61, 3, 58, 7168, 256, 1);
	ck_assert_int_eq(c.nodes, 2);
	ck_assert_int_eq(c.group_gpus, 16);
	ck_assert_int_eq(c.group_local, 8);
	double far = bytes * 8 / 15 / 41e9, near = bytes * 7 / 15 / 369e9;
	ck_assert(far > near);
	ck_assert_rel(comm_pass_s(&c, 64), 58 * (far + 2 * 25e-6), 1e-9);

	bytes = 7.0 * 64 * 7168 * 3;
	comm_layout_init(&c, &h100, EFF, ALPHA, 1, 1, 8, 1);
	comm_layout_model(&c, 61, 3, 58, 7168, 256, 1);
	ck_assert_rel(comm_pass_s(&c, 64), 58 * (bytes / 369e9 + 2 * ALPHA), 1e-9);
}
END_TEST

/* PP hand-offs: TP 8 x PP 2 on H100 crosses a node once; TP 1 x PP 4 never. */
START_TEST(test_pp_handoffs)
{
	struct comm_layout c;
	struct gpu_spec h100 = gpu("H100-SXM-80GB");
	double b = 512.0 * 16384 * 2;

	comm_layout_init(&c, &h100, EFF, ALPHA, 8, 2, 1, 0);
	ck_assert_int_eq(c.pp_cross_node, 1);
	comm_layout_model(&c, 126, 126, 0, 16384, 0, 2);
	double tp = 2 * 126 * (2.0 * 7 / 8 * b / 369e9 + ALPHA);
	ck_assert_rel(comm_pass_s(&c, 512), tp + b / 41e9 + 25e-6, 1e-9);
	comm_layout_init(&c, &h100, EFF, ALPHA, 1, 4, 1, 0);
	ck_assert_int_eq(c.pp_cross_node, 0);
	comm_layout_model(&c, 126, 126, 0, 16384, 0, 2);
	ck_assert_rel(comm_pass_s(&c, 512), 3 * (b / 369e9 + ALPHA), 1e-9);
}
END_TEST

static Suite *comm_suite(void)
{
	Suite *s = suite_create("comm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_allreduce);
	tcase_add_test(tc, test_tp_links);
	tcase_add_test(tc, test_tp_pass);
	tcase_add_test(tc, test_ep_across_nodes);
	tcase_add_test(tc, test_pp_handoffs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(comm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
