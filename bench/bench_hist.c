/* Log-linear histogram (see bench_hist.h). Index of v >= 128: with
 * b = msb(v) - 6, the 64 values [64, 128) << b share a shift, and v >> b
 * picks one of 64 sub-buckets: index = b * 64 + (v >> b). For b = 1 that
 * starts at 128, right where the exact range [0, 128) ends. */
#include "bench_hist.h"

#include <string.h>

void
bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t
bench_hist_index(uint64_t v)
{
	unsigned b;

	if (v < (1u << BENCH_HIST_SUB_BITS))
		return (size_t)v;
	b = (unsigned)(63 - __builtin_clzll(v)) - (BENCH_HIST_SUB_BITS - 1);
	return (size_t)b * BENCH_HIST_HALF + (size_t)(v >> b);
}

/* The shift of bucket idx: its values share their bits above it. */
static unsigned
hist_shift(size_t idx)
{
	return idx < (1u << BENCH_HIST_SUB_BITS) ? 0 : (unsigned)(idx / BENCH_HIST_HALF) - 1;
}

uint64_t
bench_hist_lowest(size_t idx)
{
	if (idx < (1u << BENCH_HIST_SUB_BITS))
		return idx;
	return (uint64_t)(idx % BENCH_HIST_HALF + BENCH_HIST_HALF) << hist_shift(idx);
}

uint64_t
bench_hist_highest(size_t idx)
{
	return bench_hist_lowest(idx) + ((1ull << hist_shift(idx)) - 1);
}

void
bench_hist_record(struct bench_hist *h, uint64_t v)
{
	h->bins[bench_hist_index(v)]++;
	h->count++;
	h->sum += (long double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
bench_hist_merge(struct bench_hist *h, const struct bench_hist *o)
{
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
		h->bins[i] += o->bins[i];
	h->count += o->count;
	h->sum += o->sum;
	if (o->min < h->min)
		h->min = o->min;
	if (o->max > h->max)
		h->max = o->max;
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++; /* ceil: the p99 of 100 samples is the 99th */
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bins[i];
		if (seen >= rank) {
			uint64_t v = bench_hist_highest(i);

			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

double
bench_hist_mean(const struct bench_hist *h)
{
	return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}
