/*
 * slo.h - service levels at a stated percentile for one instance under
 * Poisson arrivals: the waiting-time distributions behind TTFT, the
 * step-time distribution behind TPOT under chunked prefill, the SLO batch
 * (the largest running batch whose TPOT meets its target), and the largest
 * arrival rate an instance sustains under its SLOs and utilisation target.
 *
 * Built on instance.h's step times (instance_decode_step_s and
 * instance_step_s): this module adds queueing and percentiles, never its
 * own physics. Pure arithmetic: no SQLite, no stdio, no globals.
 *
 * The model in one paragraph (README "SLOs and margins" has the long
 * form). A DP rank runs n sequences; a decode step takes t_d. A prompt of
 * s tokens rides in k = ceil(s / room) steps beside the decoders (room =
 * max_num_batched_tokens - n/pp, at least an eighth of it), each taking
 * t_c: that is the request's own prefill, k t_c, and a stall of
 * D(s) = k (t_c - t_d) for every sequence decoding meanwhile. A slot holds
 * a request for its prefill and its osl decode steps, so Little's law
 * gives the arrival rate per rank, lambda = n / (E[k t_c] + osl TPOT);
 * while a request decodes the other n - 1 slots turn over, stalling it at
 * lambda (n - 1) / n, which sets the mean TPOT (slo.c solves the two
 * together) and, the stalls being compound Poisson, a TPOT variance of
 * stall rate x TPOT x E[D^2] / (o - 1) for a request of o output tokens,
 * taken as normal per output-length point. TTFT = slot wait +
 * prefill-queue wait + the prompt's own k t_c + half a step. The slot wait
 * is M/M/c over
 * max_num_seqs slots (Erlang C); the prefill queue is M/G/1 in prompt
 * tokens served at a full chunk per step; each wait is P(W > 0) = p with an
 * exponential tail whose mean matches its queue's mean wait (exact for
 * M/M/c and M/M/1; for M/G/1 the Pollaczek-Khinchine mean with
 * P(W > 0) = rho). The percentile is over requests, each prompt-length
 * point with its own prefill time.
 *
 * Units: seconds, tokens, requests/s; "per rank" means one DP rank.
 */
#ifndef PIQPLAN_SLO_H
#define PIQPLAN_SLO_H

#include "instance.h"

/* Distinct length points a distribution keeps (adjacent ones merge beyond). */
#define SLO_MAX_POINTS 32

/* One point of a length distribution. */
struct slo_point {
	double tokens;		/* mean length of the requests at this point */
	double tokens_sq;	/* their mean squared length (>= tokens^2) */
	double weight;		/* share of requests, the points of one axis sum to 1 */
	int long_class;		/* prompt points: 1 when the request is of the long SLO class */
};

/* The request lengths of a pool, as the SLO arithmetic sees them. */
struct slo_traffic {
	double isl, osl;			/* mean prompt and output tokens */
	int nprompt, noutput;
	struct slo_point prompt[SLO_MAX_POINTS];
	struct slo_point output[SLO_MAX_POINTS];
};

/*
 * Add `weight` of requests of mean length `tokens` (mean square tokens_sq)
 * to one axis of t (prompt: axis 0, output: axis 1); points of equal
 * length and class add up. Call slo_traffic_finish after the last.
 */
void slo_traffic_add(struct slo_traffic *t, int axis, double tokens, double tokens_sq,
		     double weight, int long_class);
/*
 * Normalise the weights, fill isl and osl, and merge adjacent points
 * (by length, within a class) until each axis fits SLO_MAX_POINTS.
 */
void slo_traffic_finish(struct slo_traffic *t);

/* What a pool asks; a 0 leaves a target out. */
struct slo_target {
	double quantile;		/* the stated percentile as a fraction, (0, 1): 0.99 */
	double ttft_s;			/* TTFT target of every request */
	double long_ttft_s_per_token;	/* long class: TTFT target max(ttft_s, this x prompt) */
	double tpot_s;			/* TPOT target */
	double utilisation;		/* largest busy fraction of capacity; 0 or >= 1: none */
};

/* One operating point of an instance. Rates are whole-instance. */
struct slo_load {
	double running;		/* mean sequences running per DP rank */
	double rate;		/* requests/s offered */
	double capacity_rate;	/* requests/s with every max_num_seqs slot busy */
	double utilisation;	/* rate / capacity_rate: the busy fraction */
	double decode_step_s;	/* t_d: a step without prefill */
	double tpot_mean_s;	/* mean TPOT */
	double tpot_s;		/* TPOT at the percentile, over requests */
	double ttft_s;		/* TTFT at the percentile, over requests; INFINITY: unbounded */
	double ttft_miss_share;	/* share of requests over their TTFT target */
	double prefill_busy;	/* utilisation of the prefill queue's server */
	double slot_wait_share;	/* share of requests that wait for a slot (Erlang C) */
	int tpot_meets;		/* TPOT at the percentile meets the target (or there is none) */
	int memory_bound;	/* the decode step is bandwidth-bound */
	int saturated;		/* a queue is unstable at this load */
};

/* ---- the waiting-time distributions ---------------------------------- */

/*
 * Pollaczek-Khinchine: mean wait of an M/G/1 queue with arrival rate
 * lambda and service time moments E[S], E[S^2]: lambda E[S^2] / (2 (1 - rho)),
 * rho = lambda E[S]. INFINITY when rho >= 1.
 */
double mg1_mean_wait(double lambda, double es, double es2);

/*
 * P(W > t) for a wait that is 0 with probability 1 - p and else
 * exponential with mean mean_wait / p (so E[W] = mean_wait). For M/G/1,
 * p = rho. 1 for t < 0.
 */
double wait_tail(double p, double mean_wait, double t);

/* The quantile q of that wait: 0 when 1 - q >= p, else (mean_wait / p) ln(p / (1 - q)). */
double wait_quantile(double p, double mean_wait, double q);

/*
 * P(W1 + W2 > t) for two independent waits of that form (p1, mean1) and
 * (p2, mean2): the sum of atoms and exponentials, in closed form.
 */
double wait_tail_sum(double p1, double mean1, double p2, double mean2, double t);

/*
 * Erlang C: the probability that an arrival waits in an M/M/c queue with
 * c servers and offered load a = lambda / mu (a < c), by the stable
 * Erlang B recursion. 1 when a >= c.
 */
double erlang_c(int c, double a);

/* Upper tail of the standard normal distribution, P(Z > z). */
double normal_tail(double z);

/* ---- one instance ------------------------------------------------------ */

/*
 * The operating point with n sequences running per DP rank (0 < n <=
 * max_num_seqs) in steady state: the arrival rate Little's law gives, the
 * TPOT and TTFT at tgt->quantile (TTFT targets from tgt, for the miss
 * share), the queues' loads.
 */
void slo_at_running(const struct instance *in, const struct slo_traffic *t,
		    const struct slo_target *tgt, double n, struct slo_load *out);

/*
 * The SLO batch: the largest whole number of running sequences per DP
 * rank, at most cap, whose TPOT at the percentile meets tgt->tpot_s with
 * every slot busy (the arrival rate that batch sustains). 0 when even one
 * sequence misses it; cap when there is no TPOT target.
 */
int slo_batch(const struct instance *in, const struct slo_traffic *t,
	      const struct slo_target *tgt, int cap);

/*
 * The largest arrival rate (requests/s, whole instance) at which the
 * instance, with its max_num_seqs slots per rank, meets every target:
 * TTFT at the percentile for each request's class, TPOT at the
 * percentile, utilisation at most tgt->utilisation (and below 1). The
 * operating point there goes to *at (may be NULL). 0 when even a trickle
 * misses them; *at then holds the lightest load tried.
 */
double slo_sustainable_rate(const struct instance *in, const struct slo_traffic *t,
			    const struct slo_target *tgt, struct slo_load *at);

/* "p99", "p99.9", "p90" for a quantile 0.99, 0.999, 0.9 (buf of 16 bytes). */
void slo_percentile_name(double quantile, char buf[16]);

#endif
