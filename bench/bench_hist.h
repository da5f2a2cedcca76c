/* A log-linear latency histogram in the spirit of HdrHistogram: exact
 * below 128 ns, then 64 sub-buckets per power of two, so every recorded
 * value is known to within 1/64 (1.6 %) of itself, from nanoseconds to
 * hours, in a fixed array (no allocation, no locks: one per thread,
 * merged at the end). */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_HIST_SUB_BITS 7                       /* 128 exact values in the first range */
#define BENCH_HIST_HALF (1u << (BENCH_HIST_SUB_BITS - 1)) /* 64 sub-buckets per power of two */
/* The largest shift is 63 - (SUB_BITS - 1) = 57: (57 + 2) * 64 indexes. */
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB_BITS + 2) * BENCH_HIST_HALF)

struct bench_hist {
	uint64_t count;
	uint64_t min, max;
	long double sum;
	uint64_t bins[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_record(struct bench_hist *h, uint64_t v);
/* h += o */
void bench_hist_merge(struct bench_hist *h, const struct bench_hist *o);
/* The value at quantile q (0..1): the highest value equivalent to the
 * bucket holding the ceil(q * count)-th smallest sample, clamped to the
 * recorded min and max; 0 for an empty histogram. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
double bench_hist_mean(const struct bench_hist *h);

/* Exposed for the tests: a value's bucket and a bucket's value range. */
size_t bench_hist_index(uint64_t v);
uint64_t bench_hist_lowest(size_t idx);
uint64_t bench_hist_highest(size_t idx);

#ifdef __cplusplus
}
#endif

#endif
