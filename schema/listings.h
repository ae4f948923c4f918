/*
 * listings.h - the SQL of the list and show commands. Each function returns
 * a prepared statement with its parameters bound, or NULL after error(); the
 * caller steps it, prints the rows (cli/listing.c) and finalizes it.
 *
 * With json set, a listing gives every stored column under its own name
 * (numbers as numbers, NULL as NULL), for programs. Without, it gives the
 * table people read: the column names are the headers (one starting with
 * '>' is right-aligned, the '>' dropped), values formatted with their unit,
 * NULL where a value is unknown (shown "-").
 *
 * To add a list command: a function here, and print_rows() on its
 * statement in the command's file.
 */
#ifndef PIQPLAN_LISTINGS_H
#define PIQPLAN_LISTINGS_H

#include <stdint.h>

struct db;
struct stmt;

/* GPU types by id: memory, HBM bandwidth, dense FLOP/s, NVLink domain, newest on-demand price. */
struct stmt *gpu_list_stmt(struct db *db, int json);
/*
 * One GPU type (an exact id), every column under its own name: id, vendor,
 * memory_bytes, mem_bw_bytes_per_s, bf16_flops, fp8_flops, fp4_flops,
 * link_bytes_per_s, link, nvlink_domain_gpus, tdp_watts, source (in that
 * order); no row when there is no such id.
 */
struct stmt *gpu_show_stmt(struct db *db, const char *id);
/*
 * Its prices: pricing, usd_per_gpu_hour, as_of, source, origin ('catalog',
 * 'user'), used ('yes': the user's price plans use, 'median': a quote in the
 * catalog median plans use, ''); newest first per kind.
 */
struct stmt *gpu_prices_stmt(struct db *db, const char *id);
/*
 * The price per kind plans use (view gpu_price_current): pricing,
 * usd_per_gpu_hour, basis ('user', 'median'), quotes, usd_min, usd_max, as_of.
 */
struct stmt *gpu_current_prices_stmt(struct db *db, const char *id);

/* Dated GPU-hour prices, of one GPU type (an exact id) or, with gpu NULL, of all. */
struct stmt *price_list_stmt(struct db *db, const char *gpu, int json);

/* Models by id: type, attention, layers, total/active parameters, experts, KV bytes per token. */
struct stmt *model_list_stmt(struct db *db, int json);
/* One model's source and native_format (in that order); no row when there is no such id. */
struct stmt *model_show_stmt(struct db *db, const char *id);

/* Owned and committed clusters by name. */
struct stmt *cluster_list_stmt(struct db *db, int json);
/* The measurement table (engine, gpu, model exact ids, each NULL for all), by id. */
struct stmt *measurement_list_stmt(struct db *db, const char *engine, const char *gpu,
				   const char *model, int json);

/* Workloads by name: model, format, requests, rates, mean lengths, p99 total, when imported. */
struct stmt *workload_list_stmt(struct db *db, int json);
/* One workload row, every column (SELECT *); no row when there is no such name. */
struct stmt *workload_show_stmt(struct db *db, const char *name);
/*
 * Its buckets: prompt_tokens_lo, prompt_tokens_hi, output_tokens_lo,
 * output_tokens_hi, requests, prompt_tokens_sum, output_tokens_sum,
 * ordered by prompt, then output bounds.
 */
struct stmt *workload_buckets_stmt(struct db *db, int64_t id);
/*
 * One marginal of its histogram: lo, hi, requests per distinct (lo, hi)
 * bounds of the prompt (output = 0) or output (output = 1) axis, by bounds.
 */
struct stmt *workload_marginal_stmt(struct db *db, int64_t id, int output);

/* Scenarios by name: horizon, growth, pricing, workloads, GPUs, last run. */
struct stmt *scenario_list_stmt(struct db *db, int json);

/* Reports rendered so far, oldest first: scenario, run, kind, format, size, when. */
struct stmt *report_list_stmt(struct db *db, int json);

#endif
