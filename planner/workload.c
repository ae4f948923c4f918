/*
 * workload.c - the joint prompt x output histogram, its percentile sketch,
 * arrival-rate accounting and the Mooncake block set. See workload.h for
 * the contract; this file holds only arithmetic and small hash tables.
 */
#include "workload.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- formats ---------------------------------------------------------- */

static const char *const format_names[] = {
	[WL_FMT_AUTO] = "auto",
	[WL_FMT_REQUESTS] = "requests",
	[WL_FMT_BUCKETS] = "buckets",
	[WL_FMT_PROMETHEUS] = "prometheus",
	[WL_FMT_MOONCAKE] = "mooncake",
};

const char *wl_format_name(enum wl_format f)
{
	if ((unsigned)f >= sizeof(format_names) / sizeof(format_names[0]))
		return NULL;
	return format_names[f];
}

int wl_format_parse(const char *s, enum wl_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (s && !strcmp(s, format_names[i])) {
			*out = (enum wl_format)i;
			return 0;
		}
	}
	return -1;
}

/* ---- edges ------------------------------------------------------------ */

int wl_edges_parse(const char *spec, struct wl_edges *out, const char **why)
{
	static const char *dummy;
	if (!why)
		why = &dummy;
	out->n = 0;
	out->edge[out->n++] = 0;
	if (!spec || !*spec || !strcmp(spec, "log2")) {
		for (int64_t e = 1; e <= WL_TOKENS_MAX; e *= 2)
			out->edge[out->n++] = e;
		out->edge[out->n++] = WL_TOKENS_END;
		return 0;
	}
	const char *p = spec;
	for (;;) {
		if (*p < '0' || *p > '9') {
			*why = "expected 'log2' or a comma-separated list of whole token counts";
			return -1;
		}
		int64_t v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (*p++ - '0');
			if (v > WL_TOKENS_MAX) {
				*why = "expected edges at most 10000000 tokens";
				return -1;
			}
		}
		if (*p && *p != ',') {
			*why = "expected 'log2' or a comma-separated list of whole token counts";
			return -1;
		}
		if (v == 0 && out->n == 1 && out->edge[0] == 0 && p - spec == 1) {
			/* a leading 0 repeats the implicit first edge */
		} else if (v <= out->edge[out->n - 1]) {
			*why = "expected strictly increasing edges";
			return -1;
		} else if (out->n >= WL_MAX_EDGES - 1) {
			*why = "expected at most 255 edges";
			return -1;
		} else {
			out->edge[out->n++] = v;
		}
		if (!*p)
			break;
		p++;
	}
	out->edge[out->n++] = WL_TOKENS_END;
	return 0;
}

/* ---- the percentile sketch -------------------------------------------- */

/*
 * Cells 0..2047 hold one token each; above, the octave [2^m, 2^(m+1)) for
 * m = 11..24 is cut into 1024 cells 2^(m-10) wide. Values up to 2^25 - 1
 * (prompt + output <= 2 x WL_TOKENS_MAX) fit.
 */
#define SK_EXACT	2048
#define SK_SUB		1024
#define SK_OCTAVES	14
#define SK_CELLS	(SK_EXACT + SK_OCTAVES * SK_SUB)

static int log2_floor(int64_t v)
{
	int m = 0;
	while (v >>= 1)
		m++;
	return m;
}

static int sk_index(int64_t v)
{
	if (v < SK_EXACT)
		return (int)v;
	int m = log2_floor(v);
	int sub = (int)(v >> (m - 10)) - SK_SUB;
	return SK_EXACT + (m - 11) * SK_SUB + sub;
}

static void sk_cell(int i, int64_t *lo, int64_t *width)
{
	if (i < SK_EXACT) {
		*lo = i;
		*width = 1;
		return;
	}
	int m = (i - SK_EXACT) / SK_SUB + 11;
	int sub = (i - SK_EXACT) % SK_SUB;
	*width = (int64_t)1 << (m - 10);
	*lo = (int64_t)(SK_SUB + sub) << (m - 10);
}

/* Spread weight w evenly over the integers [lo, hi). */
static void sk_add_range(double *sk, int64_t lo, int64_t hi, double w)
{
	if (hi - lo <= 1) {
		sk[sk_index(lo)] += w;
		return;
	}
	double per_token = w / (double)(hi - lo);
	for (int i = sk_index(lo), last = sk_index(hi - 1); i <= last; i++) {
		int64_t clo, cw;
		sk_cell(i, &clo, &cw);
		int64_t a = clo > lo ? clo : lo;
		int64_t b = clo + cw < hi ? clo + cw : hi;
		if (b > a)
			sk[i] += per_token * (double)(b - a);
	}
}

static double sk_quantile(const double *sk, double q, int integral)
{
	double n = 0;
	for (int i = 0; i < SK_CELLS; i++)
		n += sk[i];
	if (n <= 0)
		return NAN;
	double target = q * n;
	if (integral)
		target = ceil(target - 1e-9);
	/* Relative slack so fractional weights that sum to n are not missed. */
	double eps = 1e-12 * n;
	double cum = 0;
	int last = 0;
	for (int i = 0; i < SK_CELLS; i++) {
		if (sk[i] <= 0)
			continue;
		last = i;
		if (cum + sk[i] + eps >= target) {
			int64_t lo, w;
			sk_cell(i, &lo, &w);
			if (w == 1)
				return (double)lo;
			double v = lo + (double)w * (target - cum) / sk[i];
			if (v < lo)
				v = lo;
			if (v > lo + w - 1)
				v = lo + w - 1;
			return v;
		}
		cum += sk[i];
	}
	int64_t lo, w;
	sk_cell(last, &lo, &w);
	return (double)(lo + w - 1);
}

/* ---- the histogram ---------------------------------------------------- */

struct wl_hist {
	int binned;			/* 1: edges given, requests added one by one */
	struct wl_edges edges;
	struct wl_bucket *b;		/* non-empty buckets, insertion order until finish */
	size_t n, alloc;
	int32_t *index;			/* open addressing into b; -1 empty */
	size_t index_size;		/* power of two */
	int64_t requests, prompt_sum, output_sum;
	int64_t max[3];			/* WL_AXIS_* longest request (binned kind); -1: none */
	double *sk[3];			/* WL_AXIS_* sketches */
	int marginals_sketched;		/* prompt/output sketches set by add_independent */
	int finished;
};

struct wl_hist *wl_hist_new(const struct wl_edges *edges)
{
	struct wl_hist *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	if (edges) {
		h->binned = 1;
		h->edges = *edges;
	}
	h->max[0] = h->max[1] = h->max[2] = -1;
	for (int i = 0; i < 3; i++) {
		h->sk[i] = calloc(SK_CELLS, sizeof(double));
		if (!h->sk[i]) {
			wl_hist_free(h);
			return NULL;
		}
	}
	return h;
}

void wl_hist_free(struct wl_hist *h)
{
	if (!h)
		return;
	for (int i = 0; i < 3; i++)
		free(h->sk[i]);
	free(h->index);
	free(h->b);
	free(h);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t rect_hash(int64_t plo, int64_t phi, int64_t olo, int64_t ohi)
{
	uint64_t x = mix64((uint64_t)plo);
	x = mix64(x ^ (uint64_t)phi);
	x = mix64(x ^ (uint64_t)olo);
	return mix64(x ^ (uint64_t)ohi);
}

static int index_rebuild(struct wl_hist *h, size_t size)
{
	int32_t *idx = malloc(size * sizeof(*idx));
	if (!idx)
		return WL_ENOMEM;
	memset(idx, 0xff, size * sizeof(*idx));
	for (size_t k = 0; k < h->n; k++) {
		const struct wl_bucket *b = &h->b[k];
		size_t s = rect_hash(b->prompt_lo, b->prompt_hi, b->output_lo, b->output_hi)
			   & (size - 1);
		while (idx[s] >= 0)
			s = (s + 1) & (size - 1);
		idx[s] = (int32_t)k;
	}
	free(h->index);
	h->index = idx;
	h->index_size = size;
	return 0;
}

/* The bucket for a rectangle, created empty if new; NULL and *err on failure. */
static struct wl_bucket *bucket_get(struct wl_hist *h, int64_t plo, int64_t phi,
				    int64_t olo, int64_t ohi, int64_t line, int *err)
{
	if (h->index_size == 0 || (h->n + 1) * 2 > h->index_size) {
		*err = index_rebuild(h, h->index_size ? h->index_size * 2 : 64);
		if (*err)
			return NULL;
	}
	size_t mask = h->index_size - 1;
	size_t s = rect_hash(plo, phi, olo, ohi) & mask;
	for (; h->index[s] >= 0; s = (s + 1) & mask) {
		struct wl_bucket *b = &h->b[h->index[s]];
		if (b->prompt_lo == plo && b->prompt_hi == phi &&
		    b->output_lo == olo && b->output_hi == ohi)
			return b;
	}
	if (h->n >= WL_MAX_BUCKETS) {
		*err = WL_EFULL;
		return NULL;
	}
	if (h->n == h->alloc) {
		size_t alloc = h->alloc ? h->alloc * 2 : 64;
		struct wl_bucket *nb = realloc(h->b, alloc * sizeof(*nb));
		if (!nb) {
			*err = WL_ENOMEM;
			return NULL;
		}
		h->b = nb;
		h->alloc = alloc;
	}
	struct wl_bucket *b = &h->b[h->n];
	*b = (struct wl_bucket){ plo, phi, olo, ohi, 0, 0, 0, line };
	h->index[s] = (int32_t)h->n++;
	return b;
}

/* Index i of the bin [edge[i], edge[i+1]) holding v. */
static int bin_of(const struct wl_edges *e, int64_t v)
{
	int lo = 0, hi = e->n - 1;	/* edge[lo] <= v < edge[hi] */
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (e->edge[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int wl_hist_add_request(struct wl_hist *h, int64_t prompt_tokens, int64_t output_tokens)
{
	if (!h->binned || h->finished)
		return WL_EUSAGE;
	if (prompt_tokens < 0 || prompt_tokens > WL_TOKENS_MAX ||
	    output_tokens < 0 || output_tokens > WL_TOKENS_MAX)
		return WL_ERANGE;
	const struct wl_edges *e = &h->edges;
	int i = bin_of(e, prompt_tokens), j = bin_of(e, output_tokens);
	int err = 0;
	struct wl_bucket *b = bucket_get(h, e->edge[i], e->edge[i + 1],
					 e->edge[j], e->edge[j + 1], 0, &err);
	if (!b)
		return err;
	b->requests++;
	b->prompt_tokens_sum += prompt_tokens;
	b->output_tokens_sum += output_tokens;
	h->requests++;
	h->prompt_sum += prompt_tokens;
	h->output_sum += output_tokens;
	h->sk[WL_AXIS_PROMPT][sk_index(prompt_tokens)] += 1;
	h->sk[WL_AXIS_OUTPUT][sk_index(output_tokens)] += 1;
	h->sk[WL_AXIS_TOTAL][sk_index(prompt_tokens + output_tokens)] += 1;
	int64_t v[3] = { prompt_tokens, output_tokens, prompt_tokens + output_tokens };
	for (int k = 0; k < 3; k++)
		if (v[k] > h->max[k])
			h->max[k] = v[k];
	return 0;
}

/* Estimated tokens of one request in [lo, hi): the midpoint, or lo if open-ended. */
static int64_t estimate_tokens(int64_t lo, int64_t hi)
{
	if (hi >= WL_TOKENS_END)
		return lo;
	return (lo + hi - 1) / 2;
}

static int valid_bounds(int64_t lo, int64_t hi)
{
	return lo >= 0 && lo < hi && hi <= WL_TOKENS_END;
}

int wl_hist_add_bucket(struct wl_hist *h, int64_t plo, int64_t phi, int64_t olo, int64_t ohi,
		       int64_t requests, int64_t line)
{
	if (h->binned || h->finished)
		return WL_EUSAGE;
	if (!valid_bounds(plo, phi) || !valid_bounds(olo, ohi) || requests < 0)
		return WL_ERANGE;
	int64_t ps, os, nreq, np, no;
	if (__builtin_mul_overflow(requests, estimate_tokens(plo, phi), &ps) ||
	    __builtin_mul_overflow(requests, estimate_tokens(olo, ohi), &os) ||
	    __builtin_add_overflow(h->requests, requests, &nreq) ||
	    __builtin_add_overflow(h->prompt_sum, ps, &np) ||
	    __builtin_add_overflow(h->output_sum, os, &no))
		return WL_ERANGE;
	int err = 0;
	struct wl_bucket *b = bucket_get(h, plo, phi, olo, ohi, line, &err);
	if (!b)
		return err;
	b->requests += requests;
	b->prompt_tokens_sum += ps;
	b->output_tokens_sum += os;
	h->requests = nreq;
	h->prompt_sum = np;
	h->output_sum = no;
	return 0;
}

struct remainder {
	double frac;
	size_t cell;
};

static int by_frac_desc(const void *a, const void *b)
{
	const struct remainder *x = a, *y = b;
	if (x->frac != y->frac)
		return x->frac > y->frac ? -1 : 1;
	return x->cell < y->cell ? -1 : x->cell > y->cell;
}

int wl_hist_add_independent(struct wl_hist *h,
			    const struct wl_marginal_bin *prompt, size_t nprompt,
			    const struct wl_marginal_bin *output, size_t noutput,
			    int64_t total)
{
	if (h->binned || h->finished || h->marginals_sketched)
		return WL_EUSAGE;
	if (total < 0)
		return WL_ERANGE;
	if (total == 0)
		return 0;
	double wp = 0, wo = 0;
	for (size_t i = 0; i < nprompt; i++) {
		if (!valid_bounds(prompt[i].lo, prompt[i].hi) || !(prompt[i].requests >= 0))
			return WL_ERANGE;
		wp += prompt[i].requests;
	}
	for (size_t j = 0; j < noutput; j++) {
		if (!valid_bounds(output[j].lo, output[j].hi) || !(output[j].requests >= 0))
			return WL_ERANGE;
		wo += output[j].requests;
	}
	if (!(wp > 0) || !(wo > 0))
		return WL_ERANGE;
	if (nprompt * noutput > WL_MAX_BUCKETS)
		return WL_EFULL;

	size_t cells = nprompt * noutput;
	int64_t *count = malloc(cells * sizeof(*count));
	struct remainder *rem = malloc(cells * sizeof(*rem));
	int ret = WL_ENOMEM;
	if (!count || !rem)
		goto cleanup;
	int64_t assigned = 0;
	for (size_t i = 0; i < nprompt; i++) {
		for (size_t j = 0; j < noutput; j++) {
			size_t c = i * noutput + j;
			double share = (double)total * (prompt[i].requests / wp)
				       * (output[j].requests / wo);
			count[c] = (int64_t)floor(share);
			rem[c] = (struct remainder){ share - (double)count[c], c };
			assigned += count[c];
		}
	}
	qsort(rem, cells, sizeof(*rem), by_frac_desc);
	for (size_t k = 0; assigned < total; k = (k + 1) % cells, assigned++)
		count[rem[k].cell]++;
	/* Floating-point floors can overshoot by a request: take from the least deserving. */
	for (size_t k = cells; assigned > total; k = k ? k - 1 : cells) {
		if (k < cells && count[rem[k].cell] > 0) {
			count[rem[k].cell]--;
			assigned--;
		}
	}
	for (size_t c = 0; c < cells; c++) {
		if (!count[c])
			continue;
		const struct wl_marginal_bin *p = &prompt[c / noutput], *o = &output[c % noutput];
		ret = wl_hist_add_bucket(h, p->lo, p->hi, o->lo, o->hi, count[c], 0);
		if (ret)
			goto cleanup;
	}
	for (size_t i = 0; i < nprompt; i++) {
		int64_t hi = prompt[i].hi >= WL_TOKENS_END ? prompt[i].lo + 1 : prompt[i].hi;
		sk_add_range(h->sk[WL_AXIS_PROMPT], prompt[i].lo, hi,
			     (double)total * prompt[i].requests / wp);
	}
	for (size_t j = 0; j < noutput; j++) {
		int64_t hi = output[j].hi >= WL_TOKENS_END ? output[j].lo + 1 : output[j].hi;
		sk_add_range(h->sk[WL_AXIS_OUTPUT], output[j].lo, hi,
			     (double)total * output[j].requests / wo);
	}
	h->marginals_sketched = 1;
	ret = 0;
cleanup:
	free(rem);
	free(count);
	return ret;
}

/* One axis of wl_hist_set_sums (output: 0 prompt, 1 output). */
static int set_axis_sum(struct wl_hist *h, int output, int64_t total)
{
	double cur = 0, down = 0, up = 0, open_requests = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct wl_bucket *b = &h->b[i];
		int64_t lo = output ? b->output_lo : b->prompt_lo;
		int64_t hi = output ? b->output_hi : b->prompt_hi;
		double n = (double)b->requests, s = (double)(output ? b->output_tokens_sum
								  : b->prompt_tokens_sum);
		cur += s;
		down += s - n * (double)lo;
		if (hi >= WL_TOKENS_END)
			open_requests += n;
		else
			up += n * (double)(hi - 1) - s;
	}
	double want = (double)total, move = want - cur;
	if (move < -down * (1 + 1e-12) || (move > up * (1 + 1e-12) && open_requests == 0))
		return WL_ERANGE;
	int64_t assigned = 0;
	for (size_t i = 0; i < h->n; i++) {
		struct wl_bucket *b = &h->b[i];
		int64_t lo = output ? b->output_lo : b->prompt_lo;
		int64_t hi = output ? b->output_hi : b->prompt_hi;
		int64_t *sum = output ? &b->output_tokens_sum : &b->prompt_tokens_sum;
		double n = (double)b->requests, s = (double)*sum, v;
		if (move < 0)
			v = s - (s - n * (double)lo) * (down > 0 ? -move / down : 0);
		else if (move <= up || hi < WL_TOKENS_END)
			v = hi >= WL_TOKENS_END ? s : s + (n * (double)(hi - 1) - s) *
							(up > 0 ? (move < up ? move / up : 1) : 0);
		else	/* the finite buckets are full: the open ones take the rest */
			v = s + (move - up) * n / open_requests;
		*sum = llround(v);
		assigned += *sum;
	}
	/* Rounding leaves a few tokens: give or take them where the bounds allow. */
	for (size_t i = 0; i < h->n && assigned != total; i++) {
		struct wl_bucket *b = &h->b[i];
		int64_t lo = output ? b->output_lo : b->prompt_lo;
		int64_t hi = output ? b->output_hi : b->prompt_hi;
		int64_t *sum = output ? &b->output_tokens_sum : &b->prompt_tokens_sum;
		int64_t min = b->requests * lo;
		int64_t max = hi >= WL_TOKENS_END ? INT64_MAX / 2 : b->requests * (hi - 1);
		int64_t d = total - assigned;
		d = d > 0 ? (d < max - *sum ? d : max - *sum) : (d > min - *sum ? d : min - *sum);
		*sum += d;
		assigned += d;
	}
	if (output)
		h->output_sum = assigned;
	else
		h->prompt_sum = assigned;
	return assigned == total ? 0 : WL_ERANGE;
}

int wl_hist_set_sums(struct wl_hist *h, int64_t prompt_sum, int64_t output_sum)
{
	if (h->binned)
		return WL_EUSAGE;
	int rc = prompt_sum >= 0 ? set_axis_sum(h, 0, prompt_sum) : 0;
	if (!rc && output_sum >= 0)
		rc = set_axis_sum(h, 1, output_sum);
	return rc;
}

static int by_bounds(const void *a, const void *b)
{
	const struct wl_bucket *x = a, *y = b;
	if (x->prompt_lo != y->prompt_lo)
		return x->prompt_lo < y->prompt_lo ? -1 : 1;
	if (x->output_lo != y->output_lo)
		return x->output_lo < y->output_lo ? -1 : 1;
	if (x->prompt_hi != y->prompt_hi)
		return x->prompt_hi < y->prompt_hi ? -1 : 1;
	return (x->output_hi > y->output_hi) - (x->output_hi < y->output_hi);
}

/* ---- overlap check: a sweep over prompt bounds ------------------------- */

/*
 * Buckets, sorted by prompt_lo, are swept along the prompt axis: a bucket
 * is active from its prompt_lo to its prompt_hi. The active buckets' output
 * ranges are disjoint (else two overlap), so a new one overlaps an active
 * one exactly when an active output range starts inside its own, or the
 * nearest one starting below it reaches into it. A Fenwick tree over the
 * output lower bounds counts the active starts: O(n log n), where comparing
 * every pair took seconds for 65,536 buckets sharing one prompt range.
 */
struct sweep {
	int64_t *lo;		/* distinct output_lo values, increasing */
	size_t m;
	int32_t *tree;		/* Fenwick tree of active starts, 1-based */
	int32_t *who;		/* the active bucket starting at each lo */
};

static void fw_add(struct sweep *w, size_t pos, int32_t d)
{
	for (size_t i = pos + 1; i <= w->m; i += i & (0 - i))
		w->tree[i] += d;
}

/* Active starts at positions below pos. */
static int32_t fw_count_below(const struct sweep *w, size_t pos)
{
	int32_t n = 0;
	for (size_t i = pos; i > 0; i -= i & (0 - i))
		n += w->tree[i];
	return n;
}

/* The position of the k-th active start (k >= 1). */
static size_t fw_kth(const struct sweep *w, int32_t k)
{
	size_t pos = 0, step = 1;
	while (step * 2 <= w->m)
		step *= 2;
	for (; step; step /= 2)
		if (pos + step <= w->m && w->tree[pos + step] < k) {
			pos += step;
			k -= w->tree[pos];
		}
	return pos;	/* 0-based */
}

/* The first index of lo holding v or more. */
static size_t lower_bound(const int64_t *lo, size_t m, int64_t v)
{
	size_t a = 0, b = m;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (lo[mid] < v)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

static int cmp_i64(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

/* When a bucket leaves the sweep. */
struct sweep_end {
	int64_t prompt_hi;
	int32_t bucket;
};

static int by_prompt_hi(const void *pa, const void *pb)
{
	const struct sweep_end *a = pa, *b = pb;
	return (a->prompt_hi > b->prompt_hi) - (a->prompt_hi < b->prompt_hi);
}

/* Buckets sorted by prompt_lo: 0, WL_EOVERLAP with *a and *c the two, or WL_ENOMEM. */
static int find_overlap(const struct wl_hist *h, size_t *a, size_t *c)
{
	size_t n = h->n;
	struct sweep w = { malloc((n + 1) * sizeof(int64_t)), 0,
			   calloc(n + 1, sizeof(int32_t)), malloc((n + 1) * sizeof(int32_t)) };
	struct sweep_end *ends = malloc((n + 1) * sizeof(*ends));
	int ret = WL_ENOMEM;
	if (!w.lo || !w.tree || !w.who || !ends)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		w.lo[i] = h->b[i].output_lo;
		ends[i] = (struct sweep_end){ h->b[i].prompt_hi, (int32_t)i };
	}
	qsort(w.lo, n, sizeof(*w.lo), cmp_i64);
	for (size_t i = 0; i < n; i++)
		if (!w.m || w.lo[w.m - 1] != w.lo[i])
			w.lo[w.m++] = w.lo[i];
	qsort(ends, n, sizeof(*ends), by_prompt_hi);
	ret = 0;
	for (size_t i = 0, e = 0; i < n && !ret; i++) {
		const struct wl_bucket *b = &h->b[i];
		/*
		 * Half-open: a bucket ending where this one starts is gone. (One
		 * not yet swept cannot end here: it starts at or after this one.)
		 */
		for (; e < n && ends[e].prompt_hi <= b->prompt_lo; e++)
			fw_add(&w, lower_bound(w.lo, w.m, h->b[ends[e].bucket].output_lo), -1);
		size_t at = lower_bound(w.lo, w.m, b->output_lo);
		int32_t below = fw_count_below(&w, at);
		int32_t upto = fw_count_below(&w, lower_bound(w.lo, w.m, b->output_hi));
		if (upto > below)				/* an active start in [olo, ohi) */
			*a = (size_t)w.who[fw_kth(&w, below + 1)], ret = WL_EOVERLAP;
		else if (below > 0 && h->b[w.who[fw_kth(&w, below)]].output_hi > b->output_lo)
			*a = (size_t)w.who[fw_kth(&w, below)], ret = WL_EOVERLAP;	/* reaches in */
		if (ret) {
			*c = i;
			break;
		}
		w.who[at] = (int32_t)i;
		fw_add(&w, at, 1);
	}
cleanup:
	free(ends);
	free(w.who);
	free(w.tree);
	free(w.lo);
	return ret;
}

int wl_hist_finish(struct wl_hist *h, int64_t *line_a, int64_t *line_b)
{
	if (h->finished)
		return WL_EUSAGE;
	h->finished = 1;
	free(h->index);
	h->index = NULL;
	h->index_size = 0;
	if (h->n)
		qsort(h->b, h->n, sizeof(*h->b), by_bounds);
	if (h->binned)
		return 0;
	size_t a, c;
	int rc = find_overlap(h, &a, &c);
	if (rc == WL_EOVERLAP) {
		int64_t la = h->b[a].line, lb = h->b[c].line;
		if (line_a)
			*line_a = la < lb ? la : lb;
		if (line_b)
			*line_b = la < lb ? lb : la;
	}
	if (rc)
		return rc;
	/* Requests spread evenly inside each rectangle; open tops sit at lo. */
	for (size_t i = 0; i < h->n; i++) {
		const struct wl_bucket *b = &h->b[i];
		double w = (double)b->requests;
		int64_t phi = b->prompt_hi >= WL_TOKENS_END ? b->prompt_lo + 1 : b->prompt_hi;
		int64_t ohi = b->output_hi >= WL_TOKENS_END ? b->output_lo + 1 : b->output_hi;
		if (!h->marginals_sketched) {
			sk_add_range(h->sk[WL_AXIS_PROMPT], b->prompt_lo, phi, w);
			sk_add_range(h->sk[WL_AXIS_OUTPUT], b->output_lo, ohi, w);
		}
		/* prompt + output spans [plo + olo, phi - 1 + ohi - 1]. */
		sk_add_range(h->sk[WL_AXIS_TOTAL], b->prompt_lo + b->output_lo, phi + ohi - 1, w);
	}
	return 0;
}

size_t wl_hist_buckets(const struct wl_hist *h)
{
	return h->n;
}

const struct wl_bucket *wl_hist_bucket(const struct wl_hist *h, size_t i)
{
	return i < h->n ? &h->b[i] : NULL;
}

int64_t wl_hist_requests(const struct wl_hist *h)
{
	return h->requests;
}

int64_t wl_hist_prompt_tokens_sum(const struct wl_hist *h)
{
	return h->prompt_sum;
}

int64_t wl_hist_output_tokens_sum(const struct wl_hist *h)
{
	return h->output_sum;
}

int wl_hist_sums_estimated(const struct wl_hist *h)
{
	return !h->binned;
}

/* A bucket's last token: hi - 1, or lo when it is open-ended. */
static int64_t bucket_last(int64_t lo, int64_t hi)
{
	return hi >= WL_TOKENS_END ? lo : hi - 1;
}

int64_t wl_hist_max(const struct wl_hist *h, enum wl_axis axis)
{
	if (h->binned)
		return h->max[axis];
	int64_t m = -1;
	for (size_t i = 0; i < h->n; i++) {
		const struct wl_bucket *b = &h->b[i];
		int64_t p = bucket_last(b->prompt_lo, b->prompt_hi);
		int64_t o = bucket_last(b->output_lo, b->output_hi);
		int64_t v = axis == WL_AXIS_PROMPT ? p : axis == WL_AXIS_OUTPUT ? o : p + o;
		if (b->requests > 0 && v > m)
			m = v;
	}
	return m;
}

void wl_hist_percentiles(const struct wl_hist *h, enum wl_axis axis,
			 struct wl_percentiles *out)
{
	const double *sk = h->sk[axis];
	out->p50 = sk_quantile(sk, 0.50, h->binned);
	out->p90 = sk_quantile(sk, 0.90, h->binned);
	out->p99 = sk_quantile(sk, 0.99, h->binned);
	out->p999 = sk_quantile(sk, 0.999, h->binned);
}

/* ---- arrivals --------------------------------------------------------- */

struct slot {
	int64_t key;		/* slot number, or window start (ns) */
	int64_t end_ns;		/* window mode: latest end seen for this start */
	double count;
};

#define SLOT_EMPTY INT64_MIN
/* A window count above this is clamped in the sketch (its top cell). */
#define SK_MAX_VALUE (((int64_t)1 << 25) - 1)

enum { MODE_NONE, MODE_SLOTS, MODE_WINDOWS };

struct wl_arrivals {
	int64_t slot_ns;
	int mode;
	struct slot *t;
	size_t size, used;	/* size: power of two */
	int any;
	int64_t first_ns, last_ns;
	/* Slots mode: what has been folded into the window histogram. */
	int64_t min_slot, max_slot;	/* occupied slots placed so far */
	int folded;			/* 1 once a fold happened */
	int64_t frontier;		/* slots below it are final: a later arrival there is late */
	int64_t next_w;			/* the next window start to count */
	double *sk;			/* window counts (the token sketch's cells); NULL until a fold */
	double windows, peak_count;	/* windows counted so far, the largest count */
	int64_t late;
};

struct wl_arrivals *wl_arrivals_new(int64_t window_ns)
{
	if (window_ns < WL_PEAK_STEPS)
		return NULL;
	struct wl_arrivals *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->slot_ns = window_ns / WL_PEAK_STEPS;
	return a;
}

void wl_arrivals_free(struct wl_arrivals *a)
{
	if (!a)
		return;
	free(a->sk);
	free(a->t);
	free(a);
}

static struct slot *slot_find(const struct wl_arrivals *a, int64_t key)
{
	if (!a->size)
		return NULL;
	size_t mask = a->size - 1;
	for (size_t s = mix64((uint64_t)key) & mask; a->t[s].key != SLOT_EMPTY;
	     s = (s + 1) & mask)
		if (a->t[s].key == key)
			return &a->t[s];
	return NULL;
}

/* Rehash into `size` slots, keeping the entries whose key is keep_from or more. */
static int slots_rehash(struct wl_arrivals *a, size_t size, int64_t keep_from)
{
	struct slot *t = malloc(size * sizeof(*t));
	if (!t)
		return WL_ENOMEM;
	for (size_t s = 0; s < size; s++)
		t[s].key = SLOT_EMPTY;
	a->used = 0;
	for (size_t k = 0; k < a->size; k++) {
		if (a->t[k].key == SLOT_EMPTY || a->t[k].key < keep_from)
			continue;
		size_t s = mix64((uint64_t)a->t[k].key) & (size - 1);
		while (t[s].key != SLOT_EMPTY)
			s = (s + 1) & (size - 1);
		t[s] = a->t[k];
		a->used++;
	}
	free(a->t);
	a->t = t;
	a->size = size;
	return 0;
}

static struct slot *slot_get(struct wl_arrivals *a, int64_t key)
{
	struct slot *found = slot_find(a, key);
	if (found)
		return found;
	if ((a->used + 1) * 2 > a->size &&
	    slots_rehash(a, a->size ? a->size * 2 : 256, INT64_MIN))
		return NULL;
	size_t mask = a->size - 1;
	size_t s = mix64((uint64_t)key) & mask;
	while (a->t[s].key != SLOT_EMPTY)
		s = (s + 1) & mask;
	a->t[s] = (struct slot){ key, 0, 0 };
	a->used++;
	return &a->t[s];
}

void wl_arrivals_extend(struct wl_arrivals *a, int64_t start_ns, int64_t end_ns)
{
	if (!a->any || start_ns < a->first_ns)
		a->first_ns = start_ns;
	if (!a->any || end_ns > a->last_ns)
		a->last_ns = end_ns;
	a->any = 1;
}

static int by_key(const void *pa, const void *pb)
{
	const struct slot *x = pa, *y = pb;
	return (x->key > y->key) - (x->key < y->key);
}

/* The table's entries with key < below (INT64_MAX: all), sorted; *n of them. NULL: ENOMEM. */
static struct slot *sorted_slots(const struct wl_arrivals *a, int64_t below, size_t *n)
{
	struct slot *s = malloc((a->used ? a->used : 1) * sizeof(*s));
	*n = 0;
	if (!s)
		return NULL;
	for (size_t k = 0; k < a->size; k++)
		if (a->t[k].key != SLOT_EMPTY && a->t[k].key < below)
			s[(*n)++] = a->t[k];
	qsort(s, *n, sizeof(*s), by_key);
	return s;
}

/*
 * Count the windows starting at *next_w .. last_w into sk, from the sorted
 * occupied slots s[0..n-1] (every slot those windows touch). Runs of empty
 * windows are counted at once, so a gap costs nothing however long.
 */
static void count_windows(const struct slot *s, size_t n, int64_t *next_w, int64_t last_w,
			  double *sk, double *windows, double *peak)
{
	size_t i = 0;
	int64_t w = *next_w;
	while (w <= last_w) {
		while (i < n && s[i].key < w)
			i++;
		if (i == n || s[i].key > w + (WL_PEAK_STEPS - 1)) {
			int64_t until = i < n ? s[i].key - (WL_PEAK_STEPS - 1) : last_w + 1;
			if (until > last_w + 1)
				until = last_w + 1;
			sk[0] += (double)(until - w);
			*windows += (double)(until - w);
			w = until;
			continue;
		}
		double c = 0;
		for (size_t j = i; j < n && s[j].key <= w + (WL_PEAK_STEPS - 1); j++)
			c += s[j].count;
		int64_t v = c < (double)SK_MAX_VALUE ? (int64_t)llround(c) : SK_MAX_VALUE;
		sk[sk_index(v)] += 1;
		*windows += 1;
		if (c > *peak)
			*peak = c;
		w++;
	}
	*next_w = w;
}

/*
 * The table is full: fold the slots more than WL_SLOT_CAP / 2 behind the
 * newest. Windows wholly below the new frontier are counted; the last
 * WL_PEAK_STEPS - 1 slots below it stay, for the windows that straddle it.
 */
static int fold(struct wl_arrivals *a)
{
	int64_t frontier = a->max_slot - WL_SLOT_CAP / 2;
	size_t n;
	if (a->folded && frontier <= a->frontier)
		return 0;
	if (!a->sk && !(a->sk = calloc(SK_CELLS, sizeof(double))))
		return WL_ENOMEM;
	struct slot *s = sorted_slots(a, frontier, &n);
	if (!s)
		return WL_ENOMEM;
	if (!a->folded)
		a->next_w = a->min_slot;
	count_windows(s, n, &a->next_w, frontier - WL_PEAK_STEPS, a->sk, &a->windows,
		      &a->peak_count);
	free(s);
	a->folded = 1;
	a->frontier = frontier;
	return slots_rehash(a, a->size, frontier - (WL_PEAK_STEPS - 1));
}

int wl_arrivals_add(struct wl_arrivals *a, int64_t t_ns)
{
	if (a->mode == MODE_WINDOWS)
		return WL_EUSAGE;
	int64_t key = t_ns / a->slot_ns - (t_ns % a->slot_ns < 0);
	wl_arrivals_extend(a, t_ns, t_ns);
	if (a->folded && key < a->frontier) {
		a->late++;
		return 0;
	}
	if (a->mode == MODE_NONE || key < a->min_slot)
		a->min_slot = key;
	if (a->mode == MODE_NONE || key > a->max_slot)
		a->max_slot = key;
	a->mode = MODE_SLOTS;
	if (a->used >= WL_SLOT_CAP && !slot_find(a, key)) {
		int r = fold(a);
		if (r)
			return r;
	}
	struct slot *s = slot_get(a, key);
	if (!s)
		return WL_ENOMEM;
	s->count += 1;
	return 0;
}

int wl_arrivals_add_window(struct wl_arrivals *a, int64_t start_ns, int64_t end_ns,
			   double requests)
{
	if (a->mode == MODE_SLOTS)
		return WL_EUSAGE;
	if (end_ns <= start_ns || !(requests >= 0))
		return WL_ERANGE;
	a->mode = MODE_WINDOWS;
	struct slot *s = slot_get(a, start_ns);
	if (!s)
		return WL_ENOMEM;
	s->count += requests;
	if (end_ns > s->end_ns)
		s->end_ns = end_ns;
	wl_arrivals_extend(a, start_ns, end_ns);
	return 0;
}

int wl_arrivals_any(const struct wl_arrivals *a)
{
	return a->any;
}

int64_t wl_arrivals_first_ns(const struct wl_arrivals *a)
{
	return a->first_ns;
}

int64_t wl_arrivals_last_ns(const struct wl_arrivals *a)
{
	return a->last_ns;
}

/*
 * b - a in ns: exact while it fits an int64_t, in double beyond (1900 to
 * 2262 is 1.1e19 ns, more than INT64_MAX).
 */
static double ns_apart(int64_t a, int64_t b)
{
	int64_t d;
	if (!__builtin_sub_overflow(b, a, &d))
		return (double)d;
	return (double)b - (double)a;
}

/* One explicit window of wl_arrivals' windows mode: its rate and its length. */
struct window_rate {
	double rps, len_s;
};

static int by_rps(const void *pa, const void *pb)
{
	const struct window_rate *x = pa, *y = pb;
	return (x->rps > y->rps) - (x->rps < y->rps);
}

/* Explicit windows: rates weighted by length, nearest rank by weight. */
static int window_rates(const struct wl_arrivals *a, struct wl_rates *out)
{
	size_t n;
	struct slot *s = sorted_slots(a, INT64_MAX, &n);
	struct window_rate *r = malloc((n ? n : 1) * sizeof(*r));
	double total = 0;
	int ret = WL_ENOMEM;
	if (!s || !r)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		/* A window may span 1900 to 2262, more ns than an int64_t holds. */
		r[i].len_s = ns_apart(s[i].key, s[i].end_ns) / 1e9;
		r[i].rps = s[i].count / r[i].len_s;
		total += r[i].len_s;
		if (isnan(out->peak) || r[i].rps > out->peak)
			out->peak = r[i].rps;
	}
	qsort(r, n, sizeof(*r), by_rps);
	double q[4] = { 0.50, 0.90, 0.99, 0.999 }, *dst[4] = { &out->p50, &out->p90, &out->p99,
							      &out->p999 };
	for (int k = 0; k < 4 && n > 0; k++) {
		double want = q[k] * total, cum = 0;
		for (size_t i = 0; i < n; i++) {
			cum += r[i].len_s;
			if (cum + 1e-9 * total >= want || i + 1 == n) {
				*dst[k] = r[i].rps;
				break;
			}
		}
	}
	out->windows = (double)n;
	ret = 0;
cleanup:
	free(r);
	free(s);
	return ret;
}

int wl_arrivals_rates(const struct wl_arrivals *a, struct wl_rates *out)
{
	*out = (struct wl_rates){ NAN, NAN, NAN, NAN, NAN, 0, a->late };
	if (a->mode == MODE_WINDOWS)
		return window_rates(a, out);
	if (a->mode != MODE_SLOTS)
		return 0;
	/* The slots not yet folded, counted into a copy: reading changes nothing. */
	size_t n;
	double *sk = malloc(SK_CELLS * sizeof(double));
	struct slot *s = sorted_slots(a, INT64_MAX, &n);
	int ret = WL_ENOMEM;
	if (!sk || !s)
		goto cleanup;
	if (a->sk)
		memcpy(sk, a->sk, SK_CELLS * sizeof(double));
	else
		memset(sk, 0, SK_CELLS * sizeof(double));
	double windows = a->windows, peak = a->peak_count, placed = 0;
	int64_t next_w = a->folded ? a->next_w : a->min_slot;
	for (size_t i = 0; i < n; i++)
		placed += s[i].count;
	count_windows(s, n, &next_w, a->max_slot - (WL_PEAK_STEPS - 1), sk, &windows, &peak);
	double window_s = (double)(a->slot_ns * WL_PEAK_STEPS) / 1e9;
	out->windows = windows;
	if (windows > 0) {
		out->peak = peak / window_s;
		out->p50 = sk_quantile(sk, 0.50, 1) / window_s;
		out->p90 = sk_quantile(sk, 0.90, 1) / window_s;
		out->p99 = sk_quantile(sk, 0.99, 1) / window_s;
		out->p999 = sk_quantile(sk, 0.999, 1) / window_s;
		/* Above 2,048 a cell is up to 0.1 % wide: no percentile above the busiest window. */
		double *q[4] = { &out->p50, &out->p90, &out->p99, &out->p999 };
		for (int k = 0; k < 4; k++)
			if (*q[k] > out->peak)
				*q[k] = out->peak;
	} else {
		/* Shorter than a window: every arrival falls in one. */
		out->peak = placed / window_s;
	}
	ret = 0;
cleanup:
	free(s);
	free(sk);
	return ret;
}

double wl_arrivals_peak_rps(const struct wl_arrivals *a)
{
	struct wl_rates r;
	return wl_arrivals_rates(a, &r) ? NAN : r.peak;
}

/* ---- block set -------------------------------------------------------- */

/* 1 if id (>= WL_BLOCK_DENSE_IDS) was in the sparse set; added if not. -1 on ENOMEM. */
static int sparse_seen(struct wl_blockset *s, uint32_t id)
{
	if ((s->sparse_used + 1) * 2 > s->sparse_size) {
		size_t size = s->sparse_size ? s->sparse_size * 2 : 1024;
		uint32_t *t = calloc(size, sizeof(*t));
		if (!t)
			return -1;
		for (size_t k = 0; k < s->sparse_size; k++) {
			if (!s->sparse[k])
				continue;
			size_t j = mix64(s->sparse[k]) & (size - 1);
			while (t[j])
				j = (j + 1) & (size - 1);
			t[j] = s->sparse[k];
		}
		free(s->sparse);
		s->sparse = t;
		s->sparse_size = size;
	}
	uint32_t key = id + 1;
	size_t j = mix64(key) & (s->sparse_size - 1);
	for (; s->sparse[j]; j = (j + 1) & (s->sparse_size - 1))
		if (s->sparse[j] == key)
			return 1;
	s->sparse[j] = key;
	s->sparse_used++;
	return 0;
}

int wl_blockset_add(struct wl_blockset *s, int64_t id)
{
	if (id < 0 || id >= WL_MAX_BLOCK_ID)
		return WL_ERANGE;
	s->blocks++;
	if (id >= WL_BLOCK_DENSE_IDS) {
		if (s->overflow)
			return 0;
		if (s->sparse_used >= WL_MAX_SPARSE_BLOCKS) {
			s->overflow = 1;	/* repeats are no longer known */
			return 0;
		}
		int seen = sparse_seen(s, (uint32_t)id);
		if (seen < 0)
			return WL_ENOMEM;
		s->repeated += seen;
		return 0;
	}
	size_t word = (size_t)(id / 64);
	if (word >= s->words) {
		size_t words = s->words ? s->words : 1024;
		while (words <= word)
			words *= 2;
		uint64_t *bits = realloc(s->bits, words * sizeof(*bits));
		if (!bits)
			return WL_ENOMEM;
		memset(bits + s->words, 0, (words - s->words) * sizeof(*bits));
		s->bits = bits;
		s->words = words;
	}
	uint64_t bit = (uint64_t)1 << (id % 64);
	if (s->bits[word] & bit)
		s->repeated++;
	else
		s->bits[word] |= bit;
	return 0;
}

int wl_blockset_add_at(struct wl_blockset *s, int64_t id, double t_s)
{
	int64_t before = s->repeated;
	int r = wl_blockset_add(s, id);
	if (r || id >= WL_BLOCK_DENSE_IDS)
		return r;
	if (!s->timed) {
		s->t0_s = t_s;
		s->timed = 1;
	}
	size_t i = (size_t)id;
	if (i >= s->last_size) {
		size_t size = s->last_size ? s->last_size : 4096;
		while (size <= i)
			size *= 2;
		float *t = realloc(s->last_s, size * sizeof(*t));
		if (!t)
			return WL_ENOMEM;
		s->last_s = t;
		s->last_size = size;
	}
	float now = (float)(t_s - s->t0_s);
	if (s->repeated > before) {
		double gap = (double)now - (double)s->last_s[i];
		s->timed_repeated++;
		for (int k = 0; k < WL_REUSE_POINTS; k++)
			if (gap <= ldexp(1, k))
				s->reuse_within[k]++;
	}
	s->last_s[i] = now;
	return 0;
}

void wl_blockset_release(struct wl_blockset *s)
{
	free(s->last_s);
	free(s->bits);
	free(s->sparse);
	*s = (struct wl_blockset)WL_BLOCKSET_INIT;
}

/* ---- summary ---------------------------------------------------------- */

void wl_summary_init(struct workload_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->format = WL_FMT_AUTO;
	s->first_s = s->last_s = s->span_s = s->window_s = NAN;
	s->mean_rps = s->peak_rps = NAN;
	s->prompt_tokens_mean = s->output_tokens_mean = NAN;
	s->prompt = s->output = s->total = (struct wl_percentiles){ NAN, NAN, NAN, NAN };
	s->rate = (struct wl_percentiles){ NAN, NAN, NAN, NAN };
	s->rate_windows = NAN;
	s->prompt_max = s->output_max = s->total_max = -1;
	s->prefix_reuse_share = NAN;
}

void wl_summary_fill(struct workload_summary *s, const struct wl_hist *h,
		     const struct wl_arrivals *a)
{
	s->requests = h->requests;
	s->prompt_tokens_sum = h->prompt_sum;
	s->output_tokens_sum = h->output_sum;
	s->sums_estimated = !h->binned;
	s->prompt_tokens_mean = h->requests ? (double)h->prompt_sum / (double)h->requests : NAN;
	s->output_tokens_mean = h->requests ? (double)h->output_sum / (double)h->requests : NAN;
	wl_hist_percentiles(h, WL_AXIS_PROMPT, &s->prompt);
	wl_hist_percentiles(h, WL_AXIS_OUTPUT, &s->output);
	wl_hist_percentiles(h, WL_AXIS_TOTAL, &s->total);
	s->prompt_max = wl_hist_max(h, WL_AXIS_PROMPT);
	s->output_max = wl_hist_max(h, WL_AXIS_OUTPUT);
	s->total_max = wl_hist_max(h, WL_AXIS_TOTAL);
	if (!a || !a->any)
		return;
	s->first_s = (double)a->first_ns / 1e9;
	s->last_s = (double)a->last_ns / 1e9;
	s->span_s = ns_apart(a->first_ns, a->last_ns) / 1e9;
	s->mean_rps = s->span_s > 0 ? (double)h->requests / s->span_s : NAN;
	struct wl_rates r;
	if (wl_arrivals_rates(a, &r) == 0) {
		s->peak_rps = r.peak;
		s->rate = (struct wl_percentiles){ r.p50, r.p90, r.p99, r.p999 };
		s->rate_windows = isnan(r.p50) ? NAN : r.windows;
		s->arrivals_late = r.late;
	}
	if (a->mode != MODE_WINDOWS) {
		s->window_s = (double)(a->slot_ns * WL_PEAK_STEPS) / 1e9;
		/*
		 * The busiest window is never less busy than the average: a trace
		 * shorter than the window (30 s of traffic spread over 60 s), or
		 * a steady one whose windows each miss a request of the span's
		 * (11 requests 6 s apart: 10 per 60 s window, 11 / 60 s mean),
		 * would otherwise report a peak below its mean.
		 */
		if (isfinite(s->mean_rps) && !(s->peak_rps >= s->mean_rps))
			s->peak_rps = s->mean_rps;
	}
}
