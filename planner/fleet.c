/*
 * fleet.c - quarters, growth, instance counts and cost (see fleet.h).
 */
#include "fleet.h"

#include <math.h>
#include <stdio.h>

/*
 * Howard Hinnant's days_from_civil / civil_from_days algorithms (public
 * domain description of the proleptic Gregorian calendar in 400-year eras).
 */
int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t quarter_start_day(int q)
{
	return days_from_civil(q / 4, (q % 4) * 3 + 1, 1);
}

int quarter_days(int q)
{
	return (int)(quarter_start_day(q + 1) - quarter_start_day(q));
}

double quarter_hours(int q)
{
	return quarter_days(q) * 24.0;
}

double growth_factor(double growth_pct, int i)
{
	return pow(1.0 + growth_pct / 100.0, i);
}

int64_t fleet_instances(double demand_rps, double rate_per_instance_rps, int redundancy)
{
	if (demand_rps <= 0)
		return 0;
	if (rate_per_instance_rps <= 0)
		return -1;
	/* Guard against 3.0000000001 instances from rounding in the rates. */
	double need = demand_rps / rate_per_instance_rps;
	if (!(need <= (double)FLEET_MAX_INSTANCES))	/* too many to count, or NaN */
		return FLEET_MAX_INSTANCES + redundancy;
	int64_t n = (int64_t)ceil(need - 1e-9);
	if (n < 1)
		n = 1;
	return n + redundancy;
}

int fleet_saturated(int64_t instances, int redundancy)
{
	return instances - redundancy >= FLEET_MAX_INSTANCES;
}

double fleet_utilization(double demand_rps, double rate_per_instance_rps, int64_t instances,
			 int redundancy)
{
	int64_t serving = instances - redundancy;
	if (serving <= 0 || rate_per_instance_rps <= 0)
		return 0;
	double u = demand_rps / (rate_per_instance_rps * (double)serving);
	return u > 1 ? 1 : u;
}

int64_t fleet_shortfall(int64_t gpus_needed, int64_t gpus_owned)
{
	return gpus_needed > gpus_owned ? gpus_needed - gpus_owned : 0;
}

void order_by_date(int q, int lead_time_days, char buf[11])
{
	int y, m, d;
	civil_from_days(quarter_start_day(q) - lead_time_days, &y, &m, &d);
	unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
	snprintf(buf, 11, "%04u-%02u-%02u", uy, um, ud);
}

double quarter_cost_usd(int64_t gpus, double usd_per_gpu_hour, int q)
{
	return (double)gpus * usd_per_gpu_hour * quarter_hours(q);
}

double usd_per_million_tokens(double usd_per_hour, double tokens_per_s)
{
	if (tokens_per_s <= 0)
		return INFINITY;
	return usd_per_hour / (tokens_per_s * 3600.0) * 1e6;
}

double compute_floor_gpu_hours(double active_params, double tokens, double peak_flops,
			       double mfu)
{
	if (peak_flops <= 0 || mfu <= 0)
		return INFINITY;
	return 2.0 * active_params * tokens / (peak_flops * mfu) / 3600.0;
}
