/*
 * fleet.h - from one instance to a fleet over quarters: calendar arithmetic
 * for quarters, demand growth, instances and GPUs per quarter, shortfall
 * against what is owned, order-by dates and cost.
 *
 * Pure arithmetic: no SQLite, no stdio, no globals.
 *
 * Quarters are indices: year * 4 + (quarter - 1), so 2027Q1 is 8108.
 * Dates are days since 1970-01-01 (proleptic Gregorian, UTC).
 */
#ifndef PIQPLAN_FLEET_H
#define PIQPLAN_FLEET_H

#include <stdint.h>

/* Days since 1970-01-01 of a calendar date; and back (y, m 1-12, d 1-31). */
int64_t days_from_civil(int y, int m, int d);
void civil_from_days(int64_t days, int *y, int *m, int *d);

/* First day of quarter q, as days since 1970-01-01. */
int64_t quarter_start_day(int q);
/* Days in quarter q: 90 or 91 (Q1 of a leap year), 91, 92, 92. */
int quarter_days(int q);
/* Hours in quarter q: quarter_days(q) * 24. */
double quarter_hours(int q);

/*
 * Demand multiplier i quarters after the start, growing by growth_pct per
 * quarter, compounded: (1 + growth_pct/100)^i. growth_pct > -100.
 */
double growth_factor(double growth_pct, int i);

/*
 * Instances a pool needs to serve demand_rps when one instance sustains
 * rate_per_instance_rps (already at the target utilisation and SLOs),
 * plus `redundancy` spares (N+1 is redundancy 1). No demand, no instances.
 * rate_per_instance_rps <= 0 with demand > 0 returns -1 (cannot serve).
 * A need beyond FLEET_MAX_INSTANCES (or not a number) saturates: the
 * result is FLEET_MAX_INSTANCES + redundancy, which fleet_saturated()
 * flags, never a wrapped or undefined count.
 */
#define FLEET_MAX_INSTANCES 1000000000LL
int64_t fleet_instances(double demand_rps, double rate_per_instance_rps, int redundancy);
/* 1 when a count from fleet_instances() saturated. */
int fleet_saturated(int64_t instances, int redundancy);

/* Utilisation of the instances that serve (spares excluded), in [0, 1]. */
double fleet_utilization(double demand_rps, double rate_per_instance_rps, int64_t instances,
			 int redundancy);

/* GPUs short of need (0 when owned covers it). */
int64_t fleet_shortfall(int64_t gpus_needed, int64_t gpus_owned);

/*
 * Date by which GPUs for quarter q must be ordered: the quarter's first
 * day minus lead_time_days. Written as YYYY-MM-DD into buf (11 bytes).
 */
void order_by_date(int q, int lead_time_days, char buf[11]);

/* USD for `gpus` GPUs at usd_per_gpu_hour over quarter q. */
double quarter_cost_usd(int64_t gpus, double usd_per_gpu_hour, int q);

/*
 * USD per million tokens when `usd_per_hour` of hardware serves
 * tokens_per_s tokens per second: usd_per_hour / (tokens_per_s * 3600) * 1e6.
 * Infinity when tokens_per_s is 0.
 */
double usd_per_million_tokens(double usd_per_hour, double tokens_per_s);

/*
 * The compute floor by active parameters: GPU-hours that the FLOPs alone
 * would take, 2 * active_params * tokens / (peak_flops * mfu), for
 * `tokens` tokens processed (prompt and output). MoE models pay far more
 * than this floor because every expert must sit in memory; the ratio of
 * the real cost to this floor is that memory tax.
 */
double compute_floor_gpu_hours(double active_params, double tokens, double peak_flops,
			       double mfu);

#endif
