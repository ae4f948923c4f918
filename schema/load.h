/*
 * load.h - reading catalog rows into the planner's input structs: a GPU
 * row into struct gpu_spec and an engine row, with its fitted profiles
 * (engine_profile rows), into struct engine_profile
 * (milliseconds and microseconds become seconds; NULL FLOP columns, "no
 * such tensor cores", become 0).
 *
 * A database file is input like any other: a row another tool wrote (or
 * one stored with PRAGMA ignore_check_constraints) may hold anything. Every
 * value is checked against the range its column's CHECK states (and a
 * finite upper bound) before the planner sees it; one outside is a data
 * error (exit 65) naming the row, the column and the value.
 */
#ifndef PIQPLAN_LOAD_H
#define PIQPLAN_LOAD_H

#define GPU_MAX_MEMORY_BYTES	1e15	/* a petabyte per GPU */
#define GPU_MAX_NVLINK_DOMAIN	1024	/* GPUs in one NVLink domain */
#define GPU_MAX_NODE_GPUS	1024	/* GPUs in one node (gpus_per_node) */

#include <stdint.h>

struct db;
struct gpu_spec;
struct engine_profile;

/* Load GPU `id` (an exact catalog id). 0, or -1 after error() ("unknown GPU 'x'"). */
int load_gpu_spec(struct db *db, const char *id, struct gpu_spec *out);

/* Load engine `id` ('vllm'). 0, or -1 after error() ("unknown engine 'x'"). */
int load_engine_profile(struct db *db, const char *id, struct engine_profile *out);

/*
 * Load the non-empty buckets of workload `id` (ordered by prompt, then
 * output bounds) into a new array *out of *n entries (caller frees).
 * 0, or -1 after error(); a workload without buckets is an error.
 */
struct wl_bucket;
int load_workload_buckets(struct db *db, int64_t id, const char *name,
			  struct wl_bucket **out, int *n);

#endif
