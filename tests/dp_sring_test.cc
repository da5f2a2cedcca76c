// dp_sring: the session store between a DPDK lcore and the store thread.
// Both ends run here by hand (and once on two threads): the thread's store
// is a fake that records what reached it and answers when told.
#include <gtest/gtest.h>

#include <poll.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "dp_sring.h"

namespace {

struct FakeStore {
	std::vector<hsk_store_lookup *> gets;  // proxies out
	std::vector<std::string> puts, dels;
	std::vector<uint64_t> ttls;
	bool down = false;                     // answer every GET at once, failed
};

void
fake_get(void *arg, hsk_store_lookup *l)
{
	auto *f = static_cast<FakeStore *>(arg);

	if (f->down) {
		l->status = HSK_STORE_FAILED;
		return;
	}
	f->gets.push_back(l);
}

void
fake_put(void *arg, const char *key, size_t key_len, const uint8_t *val, size_t val_len, uint64_t ttl_ms)
{
	auto *f = static_cast<FakeStore *>(arg);

	f->puts.push_back(std::string(key, key_len) + "=" + std::string((const char *)val, val_len));
	f->ttls.push_back(ttl_ms);
}

void
fake_del(void *arg, const char *key, size_t key_len)
{
	static_cast<FakeStore *>(arg)->dels.push_back(std::string(key, key_len));
}

const hsk_store_ops fake_ops = { fake_get, fake_put, fake_del };

struct Done {
	std::vector<hsk_store_lookup *> got;
};

void
on_done(hsk_store_lookup *l, void *arg)
{
	static_cast<Done *>(arg)->got.push_back(l);
}

// A lookup as the engine starts it (inside its connection).
struct Lookup {
	hsk_store_lookup l;
	explicit Lookup(const char *key)
	{
		memset(&l, 0, sizeof(l));
		l.key_len = strlen(key);
		memcpy(l.key, key, l.key_len);
		l.status = HSK_STORE_PENDING;
	}
};

class DpSring : public ::testing::Test {
    protected:
	void SetUp() override
	{
		wk = dp_sring_wake_new();
		ASSERT_NE(wk, nullptr);
		s = dp_sring_new(0, 2, &now, wk, on_done, &done);
		ASSERT_NE(s, nullptr);
		dp_sring_attach(s, &fake_ops, &store);
	}
	void TearDown() override
	{
		dp_sring_free(s);
		dp_sring_wake_free(wk);
	}
	void get(Lookup &k) { dp_sring_ops.get(s, &k.l); }
	// the store answers its i-th GET
	void answer(size_t i, uint8_t status, const std::string &val = "")
	{
		hsk_store_lookup *p = store.gets.at(i);

		p->status = status;
		memcpy(p->val, val.data(), val.size());
		p->val_len = val.size();
		dp_sring_answer(p, s);
	}
	struct dp_sring_stats stats()
	{
		struct dp_sring_stats st;

		dp_sring_stats(s, &st);
		return st;
	}

	uint64_t now = 1000;
	dp_sring_wake *wk = nullptr;
	dp_sring *s = nullptr;
	FakeStore store;
	Done done;
};

TEST_F(DpSring, AHitComesBackToItsLookupOnceWithTheValue)
{
	Lookup k("tlso:s12:aa");

	get(k);
	EXPECT_EQ(k.l.status, HSK_STORE_PENDING);
	EXPECT_EQ(dp_sring_poll(s), 0u); // nothing yet: the thread has not run
	EXPECT_EQ(dp_sring_serve(s, 64), 1u);
	ASSERT_EQ(store.gets.size(), 1u);
	EXPECT_NE(store.gets[0], &k.l); // the thread runs its own copy
	EXPECT_EQ(std::string(store.gets[0]->key, store.gets[0]->key_len), "tlso:s12:aa");
	answer(0, HSK_STORE_HIT, "sealed-value");
	EXPECT_EQ(dp_sring_poll(s), 1u);
	ASSERT_EQ(done.got.size(), 1u);
	EXPECT_EQ(done.got[0], &k.l);
	EXPECT_EQ(k.l.status, HSK_STORE_HIT);
	EXPECT_EQ(std::string((const char *)k.l.val, k.l.val_len), "sealed-value");
	now += 100;
	EXPECT_EQ(dp_sring_poll(s), 0u); // once only: not failed at its deadline later
	EXPECT_EQ(done.got.size(), 1u);
	EXPECT_EQ(dp_sring_out(s), 0u);
}

TEST_F(DpSring, AMissAndAStoreDownAreAnsweredThroughTheRing)
{
	Lookup a("tlso:s12:01"), b("tlso:s12:02");

	get(a);
	dp_sring_serve(s, 64);
	answer(0, HSK_STORE_MISS);
	store.down = true; // no connection: the store answers at once
	get(b);
	dp_sring_serve(s, 64);
	EXPECT_EQ(dp_sring_poll(s), 2u);
	EXPECT_EQ(a.l.status, HSK_STORE_MISS);
	EXPECT_EQ(b.l.status, HSK_STORE_FAILED);
	EXPECT_EQ(done.got.size(), 2u);
}

TEST_F(DpSring, NoAnswerByTheDeadlineFailsOnceAndALateAnswerIsIgnored)
{
	Lookup k("tlso:s12:bb");

	get(k);
	dp_sring_serve(s, 64);
	now += 1; // timeout 2 ms
	EXPECT_EQ(dp_sring_poll(s), 0u);
	EXPECT_TRUE(done.got.empty());
	now += 1;
	EXPECT_EQ(dp_sring_poll(s), 1u);
	ASSERT_EQ(done.got.size(), 1u);
	EXPECT_EQ(k.l.status, HSK_STORE_FAILED);
	EXPECT_EQ(stats().late, 1u);
	// the store answers after all: stale, the lookup is not touched again
	answer(0, HSK_STORE_HIT, "too-late");
	EXPECT_EQ(dp_sring_poll(s), 0u);
	EXPECT_EQ(done.got.size(), 1u);
	EXPECT_EQ(k.l.status, HSK_STORE_FAILED);
	EXPECT_EQ(k.l.val_len, 0u);
	EXPECT_EQ(stats().stale, 1u);
}

TEST_F(DpSring, AnAnswerThatCameBeforeTheDeadlineCheckIsTaken)
{
	Lookup k("tlso:s12:cc");

	get(k);
	dp_sring_serve(s, 64);
	answer(0, HSK_STORE_HIT, "v");
	now += 50; // the lcore polls late: the answer is in the ring already
	EXPECT_EQ(dp_sring_poll(s), 1u);
	EXPECT_EQ(k.l.status, HSK_STORE_HIT);
	EXPECT_EQ(stats().late, 0u);
}

TEST_F(DpSring, AnswersOutOfOrderReachTheirOwnLookups)
{
	std::vector<Lookup> ks;
	for (int i = 0; i < 3; i++)
		ks.emplace_back(("tlso:s12:0" + std::to_string(i)).c_str());
	for (auto &k : ks)
		get(k);
	dp_sring_serve(s, 64);
	ASSERT_EQ(store.gets.size(), 3u);
	answer(2, HSK_STORE_HIT, "two");
	answer(0, HSK_STORE_MISS);
	EXPECT_EQ(dp_sring_poll(s), 2u);
	EXPECT_EQ(std::string((const char *)ks[2].l.val, ks[2].l.val_len), "two");
	EXPECT_EQ(ks[0].l.status, HSK_STORE_MISS);
	EXPECT_EQ(ks[1].l.status, HSK_STORE_PENDING);
	now += 2;
	EXPECT_EQ(dp_sring_poll(s), 1u); // only the one still out fails
	EXPECT_EQ(ks[1].l.status, HSK_STORE_FAILED);
	EXPECT_EQ(done.got.size(), 3u);
}

TEST_F(DpSring, WritesCarryACopyOfKeyValueAndLifetime)
{
	uint8_t val[HSK_STORE_VAL_MAX];
	memset(val, 'x', sizeof(val));
	std::string key = "tlso:s12:dd";

	dp_sring_ops.put(s, key.data(), key.size(), val, sizeof(val), 300000);
	memset(val, 'y', sizeof(val)); // the caller's buffer is its own again at once
	dp_sring_ops.del(s, key.data(), key.size());
	EXPECT_EQ(dp_sring_serve(s, 64), 2u);
	ASSERT_EQ(store.puts.size(), 1u);
	EXPECT_EQ(store.puts[0], key + "=" + std::string(HSK_STORE_VAL_MAX, 'x'));
	EXPECT_EQ(store.ttls[0], 300000u);
	ASSERT_EQ(store.dels.size(), 1u);
	EXPECT_EQ(store.dels[0], key);
	// one byte beyond what a message holds: dropped, counted
	uint8_t big[HSK_STORE_VAL_MAX + 1] = {};
	dp_sring_ops.put(s, key.data(), key.size(), big, sizeof(big), 1);
	EXPECT_EQ(dp_sring_serve(s, 64), 0u);
	EXPECT_EQ(stats().dropped, 1u);
}

TEST_F(DpSring, AFullRequestRingFailsALookupAtOnceAndDropsWrites)
{
	uint8_t v[8] = {};
	for (unsigned i = 0; i < DP_SRING_SLOTS - 1; i++) // what a ring holds
		dp_sring_ops.put(s, "k", 1, v, sizeof(v), 1);
	EXPECT_EQ(stats().dropped, 0u);
	dp_sring_ops.del(s, "k", 1);
	EXPECT_EQ(stats().dropped, 1u);
	Lookup k("tlso:s12:ee");
	get(k);
	EXPECT_EQ(k.l.status, HSK_STORE_FAILED); // no wait for a store that cannot be asked
	EXPECT_EQ(stats().full, 1u);
	EXPECT_EQ(dp_sring_out(s), 0u);
	EXPECT_EQ(dp_sring_serve(s, 2 * DP_SRING_SLOTS), DP_SRING_SLOTS - 1);
	EXPECT_EQ(store.puts.size(), DP_SRING_SLOTS - 1);
}

TEST_F(DpSring, EverySlotOutFailsTheNextLookupAtOnce)
{
	std::vector<Lookup> ks;
	ks.reserve(DP_SRING_SLOTS + 1);
	for (unsigned i = 0; i <= DP_SRING_SLOTS; i++)
		ks.emplace_back("tlso:s12:ff");
	for (unsigned i = 0; i < DP_SRING_SLOTS; i++) {
		get(ks[i]);
		if (i % 64 == 63)
			dp_sring_serve(s, 64);
	}
	EXPECT_EQ(dp_sring_out(s), DP_SRING_SLOTS);
	get(ks[DP_SRING_SLOTS]);
	EXPECT_EQ(ks[DP_SRING_SLOTS].l.status, HSK_STORE_FAILED);
	EXPECT_EQ(stats().full, 1u);
	// the thread's proxies are all out too: after the lcore gave up on
	// them, a new lookup is answered failed by the thread, not lost
	now += 2;
	EXPECT_EQ(dp_sring_poll(s), DP_SRING_SLOTS);
	Lookup k("tlso:s12:99");
	get(k);
	dp_sring_serve(s, 64);
	EXPECT_EQ(stats().busy, 1u);
	EXPECT_EQ(dp_sring_poll(s), 1u);
	EXPECT_EQ(k.l.status, HSK_STORE_FAILED);
	// and once the store answers them (stale now), proxies are back
	for (size_t i = 0; i < store.gets.size(); i++) {
		answer(i, HSK_STORE_MISS);
		if (i % 256 == 255) {
			EXPECT_EQ(dp_sring_poll(s), 0u);
		}
	}
	EXPECT_EQ(dp_sring_poll(s), 0u);
	EXPECT_EQ(stats().stale, DP_SRING_SLOTS);
	Lookup again("tlso:s12:98");
	get(again);
	dp_sring_serve(s, 64);
	EXPECT_EQ(store.gets.size(), DP_SRING_SLOTS + 1);
}

TEST_F(DpSring, CloseTakesTheAnswersThatCameAndFailsTheRestOnce)
{
	Lookup a("tlso:s12:a1"), b("tlso:s12:b1"), c("tlso:s12:c1");

	get(a);
	get(b);
	get(c); // never reaches the thread
	dp_sring_serve(s, 2);
	answer(1, HSK_STORE_HIT, "b");
	dp_sring_close(s);
	EXPECT_EQ(done.got.size(), 3u);
	EXPECT_EQ(a.l.status, HSK_STORE_FAILED);
	EXPECT_EQ(b.l.status, HSK_STORE_HIT);
	EXPECT_EQ(c.l.status, HSK_STORE_FAILED);
	EXPECT_EQ(dp_sring_out(s), 0u);
	dp_sring_close(s);
	EXPECT_EQ(done.got.size(), 3u);
}

bool
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	return poll(&p, 1, 0) == 1;
}

TEST_F(DpSring, TheDoorbellRingsOnlyForAThreadAsleep)
{
	dp_sring *rings[1] = { s };
	Lookup a("tlso:s12:a2"), b("tlso:s12:b2");

	get(a); // the thread is awake: no write
	EXPECT_EQ(dp_sring_wake_rings(wk), 0u);
	EXPECT_FALSE(dp_sring_wake_sleep(wk, rings, 1)); // work waits: no sleep
	dp_sring_serve(s, 64);
	ASSERT_TRUE(dp_sring_wake_sleep(wk, rings, 1));
	EXPECT_FALSE(readable(dp_sring_wake_fd(wk)));
	get(b);
	EXPECT_EQ(dp_sring_wake_rings(wk), 1u);
	EXPECT_TRUE(readable(dp_sring_wake_fd(wk)));
	dp_sring_ops.del(s, "k", 1); // rung once per sleep
	EXPECT_EQ(dp_sring_wake_rings(wk), 1u);
	dp_sring_wake_drain(wk);
	dp_sring_wake_woke(wk);
	EXPECT_FALSE(readable(dp_sring_wake_fd(wk)));
}

// Two threads: the store thread sleeps with no timeout at all, so a lost
// wakeup would stall a lookup for good (caught by the time bound).
struct Echo {
	dp_sring *s;
	dp_sring_wake *wk;
	std::atomic<bool> stop{ false };
	std::vector<hsk_store_lookup *> gets;
};

void
echo_get(void *arg, hsk_store_lookup *l)
{
	static_cast<Echo *>(arg)->gets.push_back(l);
}

void
echo_put(void *, const char *, size_t, const uint8_t *, size_t, uint64_t)
{
}

void
echo_del(void *, const char *, size_t)
{
}

const hsk_store_ops echo_ops = { echo_get, echo_put, echo_del };

void
get_into(dp_sring *s, Lookup &k)
{
	dp_sring_ops.get(s, &k.l);
}

void *
echo_main(void *arg)
{
	auto *e = static_cast<Echo *>(arg);
	dp_sring *rings[1] = { e->s };

	while (!e->stop.load()) {
		dp_sring_serve(e->s, 64);
		for (auto *l : e->gets) { // answer with the key as the value
			l->status = HSK_STORE_HIT;
			memcpy(l->val, l->key, l->key_len);
			l->val_len = l->key_len;
			dp_sring_answer(l, e->s);
		}
		e->gets.clear();
		if (dp_sring_wake_sleep(e->wk, rings, 1)) {
			struct pollfd p = { dp_sring_wake_fd(e->wk), POLLIN, 0 };
			(void)poll(&p, 1, -1);
			dp_sring_wake_drain(e->wk);
		}
		dp_sring_wake_woke(e->wk);
	}
	return nullptr;
}

TEST(DpSringThreads, EveryLookupIsAnsweredWithItsOwnValueAndNoWakeupIsLost)
{
	uint64_t now = 0; // the lcore's clock stands still: only answers complete
	Done done;
	dp_sring_wake *wk = dp_sring_wake_new();
	dp_sring *s = dp_sring_new(1, 2, &now, wk, on_done, &done);
	Echo e;
	pthread_t t;
	const unsigned n = 20000;
	std::vector<Lookup> ks;

	ASSERT_NE(s, nullptr);
	e.s = s;
	e.wk = wk;
	dp_sring_attach(s, &echo_ops, &e);
	ks.reserve(n);
	for (unsigned i = 0; i < n; i++)
		ks.emplace_back(("tlso:s12:" + std::to_string(i)).c_str());
	ASSERT_EQ(pthread_create(&t, nullptr, echo_main, &e), 0);
	auto t0 = std::chrono::steady_clock::now();
	unsigned issued = 0;
	while (done.got.size() < n && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
		// a few at a time, with pauses: the thread goes to sleep often
		// (fewer out than slots: none fails at once however late the thread)
		for (unsigned j = 0; j < 1 + issued % 3 && issued < n && dp_sring_out(s) < DP_SRING_SLOTS / 2; j++)
			get_into(s, ks[issued++]);
		dp_sring_poll(s);
	}
	e.stop.store(true);
	dp_sring_wake_poke(wk);
	pthread_join(t, nullptr);
	ASSERT_EQ(done.got.size(), n) << "lookups stalled: a wakeup was lost";
	for (unsigned i = 0; i < n; i++) {
		EXPECT_EQ(ks[i].l.status, HSK_STORE_HIT);
		ASSERT_EQ(std::string((const char *)ks[i].l.val, ks[i].l.val_len),
			  std::string(ks[i].l.key, ks[i].l.key_len));
	}
	struct dp_sring_stats st;
	dp_sring_stats(s, &st);
	EXPECT_EQ(st.late + st.stale + st.full + st.lost + st.busy, 0u);
	EXPECT_GT(dp_sring_wake_rings(wk), 0u); // it did sleep and was woken
	dp_sring_free(s);
	dp_sring_wake_free(wk);
}

} // namespace
