// bench_hist: the log-linear latency histogram of tlsbench.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "bench_hist.h"

TEST(BenchHist, ExactBelow128)
{
	for (uint64_t v = 0; v < 128; v++) {
		EXPECT_EQ(bench_hist_index(v), v);
		EXPECT_EQ(bench_hist_lowest(v), v);
		EXPECT_EQ(bench_hist_highest(v), v);
	}
}

// Every value lands in a bucket whose range holds it, buckets are
// contiguous and ordered, and a bucket is no wider than 1/64 of its start.
TEST(BenchHist, BucketsCoverEveryValueWithinOneSixtyFourth)
{
	for (size_t i = 1; i < BENCH_HIST_BUCKETS; i++) {
		ASSERT_EQ(bench_hist_lowest(i), bench_hist_highest(i - 1) + 1) << i;
		uint64_t lo = bench_hist_lowest(i), hi = bench_hist_highest(i);
		ASSERT_LE(hi - lo, lo / 64) << i;
		ASSERT_EQ(bench_hist_index(lo), i);
		ASSERT_EQ(bench_hist_index(hi), i);
	}
	EXPECT_EQ(bench_hist_highest(BENCH_HIST_BUCKETS - 1), UINT64_MAX);
	EXPECT_EQ(bench_hist_index(UINT64_MAX), BENCH_HIST_BUCKETS - 1u);
}

TEST(BenchHist, QuantilesOfOneToTenThousand)
{
	struct bench_hist h;

	bench_hist_init(&h);
	for (uint64_t v = 1; v <= 10000; v++)
		bench_hist_record(&h, v);
	EXPECT_EQ(h.count, 10000u);
	EXPECT_EQ(bench_hist_quantile(&h, 0), 1u);
	EXPECT_EQ(bench_hist_quantile(&h, 1), 10000u);
	// the true p50 is 5000, p99 9900, p99.9 9990: within the bucket width
	EXPECT_NEAR((double)bench_hist_quantile(&h, 0.5), 5000.0, 5000.0 / 64);
	EXPECT_NEAR((double)bench_hist_quantile(&h, 0.99), 9900.0, 9900.0 / 64);
	EXPECT_NEAR((double)bench_hist_quantile(&h, 0.999), 9990.0, 9990.0 / 64);
	EXPECT_GE(bench_hist_quantile(&h, 0.5), 5000u); // highest equivalent value
	EXPECT_DOUBLE_EQ(bench_hist_mean(&h), 5000.5);
}

TEST(BenchHist, QuantileOfFewSamplesIsTheRankedOne)
{
	struct bench_hist h;

	bench_hist_init(&h);
	EXPECT_EQ(bench_hist_quantile(&h, 0.5), 0u);
	for (int i = 0; i < 99; i++)
		bench_hist_record(&h, 100);
	bench_hist_record(&h, 1000000);
	// p99 of 100 samples is the 99th smallest (100); p99.9 is the largest
	EXPECT_EQ(bench_hist_quantile(&h, 0.99), 100u);
	EXPECT_EQ(bench_hist_quantile(&h, 0.999), 1000000u);
}

TEST(BenchHist, MergeEqualsRecordingEverythingInOne)
{
	std::mt19937_64 rng(7);
	std::lognormal_distribution<double> lat(13.0, 1.0); // around 0.5 ms in ns
	struct bench_hist a, b, all;
	std::vector<uint64_t> v;

	bench_hist_init(&a);
	bench_hist_init(&b);
	bench_hist_init(&all);
	for (int i = 0; i < 20000; i++) {
		uint64_t x = (uint64_t)lat(rng);
		bench_hist_record(i % 3 ? &a : &b, x);
		bench_hist_record(&all, x);
		v.push_back(x);
	}
	bench_hist_merge(&a, &b);
	std::sort(v.begin(), v.end());
	EXPECT_EQ(a.count, all.count);
	EXPECT_EQ(a.min, v.front());
	EXPECT_EQ(a.max, v.back());
	for (double q : { 0.5, 0.9, 0.99, 0.999 }) {
		uint64_t exact = v[(size_t)(q * (double)v.size()) - 1];
		EXPECT_EQ(bench_hist_quantile(&a, q), bench_hist_quantile(&all, q));
		EXPECT_NEAR((double)bench_hist_quantile(&a, q), (double)exact, (double)exact / 64) << q;
	}
}
