// Generations of the reloadable state (dataplane/dp_gen.h): what a worker
// takes, when a replaced generation is freed, and when a drain ends.
#include <gtest/gtest.h>

#include "cfg.h"
#include "dp_conn.h"
#include "dp_gen.h"

namespace {

// A configuration without listeners: generations with no contexts, so
// the tests need no certificate.
struct Gens {
	struct cfg cfg;
	struct dp_gens gs;
	struct dp_app a[2];

	explicit Gens(unsigned workers = 1)
	{
		cfg_init(&cfg);
		char err[256];
		struct dp_gen *g = dp_gen_new(&cfg, false, nullptr, nullptr, err, sizeof(err));
		EXPECT_NE(g, nullptr) << err;
		EXPECT_EQ(dp_gens_init(&gs, g, workers), 0);
		for (unsigned i = 0; i < 2; i++) {
			a[i] = {};
			a[i].id = i;
			a[i].cfg = &cfg;
		}
		for (unsigned i = 0; i < workers; i++)
			dp_app_attach(&a[i], &gs);
	}
	~Gens()
	{
		for (auto &app : a)
			dp_app_detach(&app);
		dp_gens_fini(&gs);
		cfg_free(&cfg);
	}
	struct dp_gen *next()
	{
		char err[256];
		struct dp_gen *g = dp_gen_new(&cfg, false, nullptr, atomic_load(&gs.cur), err, sizeof(err));
		EXPECT_NE(g, nullptr) << err;
		return g;
	}
	struct dp_gen *grave() { return atomic_load(&gs.grave); }
};

// The wake-up of the control thread, played by the worker's next poll
// iteration.
void
poll_worker(void *arg)
{
	(void)dp_app_control(static_cast<struct dp_app *>(arg));
}

} // namespace

TEST(DpGen, WorkerTakesTheNewGenerationAndTheOldOneIsFreed)
{
	Gens t;
	struct dp_gen *g1 = t.a[0].hold->gen;
	EXPECT_EQ(g1->serial, 1u);
	EXPECT_EQ(atomic_load(&g1->refs), 2u); // publisher + worker

	struct dp_gen *g2 = t.next();
	EXPECT_EQ(g2->serial, 2u);
	dp_gens_publish(&t.gs, g2, poll_worker, &t.a[0], 1000);
	EXPECT_EQ(t.a[0].hold->gen, g2);
	EXPECT_EQ(t.a[0].cfg, g2->cfg);
	// No connection used g1: both references are gone, it waits for the
	// control thread.
	EXPECT_EQ(t.grave(), g1);
	dp_gens_reap(&t.gs);
	EXPECT_EQ(t.grave(), nullptr);
	EXPECT_EQ(atomic_load(&g2->refs), 2u);
}

TEST(DpGen, ConnectionsKeepTheirGenerationUntilTheLastOneGoes)
{
	Gens t;
	struct dp_hold *h1 = t.a[0].hold;
	struct dp_gen *g1 = h1->gen;
	h1->conns = 2; // two connections started under g1 (dp_conn_new)

	dp_gens_publish(&t.gs, t.next(), poll_worker, &t.a[0], 1000);
	EXPECT_NE(t.a[0].hold, h1);
	EXPECT_EQ(t.a[0].retired, h1);
	EXPECT_EQ(t.grave(), nullptr);
	EXPECT_EQ(atomic_load(&g1->refs), 1u); // the worker's, for its connections

	dp_hold_conn_gone(&t.a[0], h1);
	EXPECT_EQ(t.grave(), nullptr);
	dp_hold_conn_gone(&t.a[0], h1);
	EXPECT_EQ(t.a[0].retired, nullptr);
	EXPECT_EQ(t.grave(), g1);
}

TEST(DpGen, ThreeGenerationsInFlightAtOnce)
{
	Gens t;
	struct dp_hold *h1 = t.a[0].hold;
	h1->conns = 1;
	dp_gens_publish(&t.gs, t.next(), poll_worker, &t.a[0], 1000);
	struct dp_hold *h2 = t.a[0].hold;
	h2->conns = 1;
	dp_gens_publish(&t.gs, t.next(), poll_worker, &t.a[0], 1000);
	EXPECT_EQ(t.a[0].hold->gen->serial, 3u);
	// Retired in any order: the newer one first.
	struct dp_gen *g2 = h2->gen;
	dp_hold_conn_gone(&t.a[0], h2);
	EXPECT_EQ(t.grave(), g2);
	EXPECT_EQ(t.a[0].retired, h1);
	dp_hold_conn_gone(&t.a[0], h1);
	EXPECT_EQ(t.a[0].retired, nullptr);
	dp_gens_reap(&t.gs);
}

TEST(DpGen, UnacknowledgedPublicationKeepsTheOldGeneration)
{
	Gens t;
	struct dp_gen *g1 = t.a[0].hold->gen;
	// Nobody wakes the worker: the publisher gives up waiting and keeps
	// its reference (freeing could race with the worker's load).
	dp_gens_publish(&t.gs, t.next(), nullptr, nullptr, 5);
	EXPECT_EQ(atomic_load(&g1->refs), 2u);
	EXPECT_EQ(t.grave(), nullptr);
	(void)dp_app_control(&t.a[0]);
	EXPECT_EQ(t.a[0].hold->gen->serial, 2u);
	EXPECT_EQ(atomic_load(&g1->refs), 1u); // the publisher's, kept
	atomic_store(&g1->refs, 0u);
	dp_gen_free(g1);
}

TEST(DpGen, AWorkerThatLeftIsNotWaitedFor)
{
	Gens t(2);
	struct dp_gen *g1 = t.a[0].hold->gen;
	dp_app_left(&t.a[1]);
	dp_gens_publish(&t.gs, t.next(), poll_worker, &t.a[0], 1000);
	// Worker 1 still holds g1 (it has not detached): g1 lives on.
	EXPECT_EQ(atomic_load(&g1->refs), 1u);
	dp_app_detach(&t.a[1]);
	EXPECT_EQ(t.grave(), g1);
}

TEST(DpGen, DrainEndsWithTheLastConnectionOrTheTimeout)
{
	Gens t;
	struct dp_app *a = &t.a[0];
	t.gs.drain_timeout_ms = 500;
	a->now_ms = 1000;
	a->n_conns = 1;
	EXPECT_TRUE(dp_app_control(a));
	EXPECT_FALSE(a->draining);
	atomic_store(&t.gs.drain, true);
	EXPECT_TRUE(dp_app_control(a));
	EXPECT_TRUE(a->draining);
	EXPECT_EQ(a->drain_until_ms, 1500u);
	a->now_ms = 1499;
	EXPECT_TRUE(dp_app_control(a));
	a->now_ms = 1500;
	EXPECT_FALSE(dp_app_control(a)); // timed out
	a->now_ms = 1200;
	a->n_conns = 0;
	EXPECT_FALSE(dp_app_control(a)); // drained
}

TEST(DpGen, DrainDoesNotTakeNewGenerations)
{
	Gens t;
	struct dp_app *a = &t.a[0];
	t.gs.drain_timeout_ms = 500;
	a->n_conns = 1;
	atomic_store(&t.gs.drain, true);
	EXPECT_TRUE(dp_app_control(a));
	struct dp_gen *g2 = t.next();
	atomic_store(&t.gs.cur, g2); // as a publication would
	EXPECT_TRUE(dp_app_control(a));
	EXPECT_EQ(a->hold->gen->serial, 1u);
	a->n_conns = 0;
	// g2 keeps the publisher's reference; g1 keeps the worker's and the
	// (replaced) publisher's: drop that one as publish would have.
	struct dp_gen *g1 = a->hold->gen;
	atomic_fetch_sub(&g1->refs, 1u);
}

TEST(DpGen, StopLeavesAtOnce)
{
	Gens t;
	t.a[0].n_conns = 3;
	EXPECT_TRUE(dp_app_control(&t.a[0]));
	atomic_store(&t.gs.stop, true);
	EXPECT_FALSE(dp_app_control(&t.a[0]));
	t.a[0].n_conns = 0;
}
