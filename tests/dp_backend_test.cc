// The backend pool: round robin and least connections, rise/fall, and a
// real health check round over epoll against a listening and a closed port.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_value.h"
#include "dp_backend.h"
#include "dp_be_sock.h"
#include "dp_conn.h"
#include "dp_proxy.h"

namespace {

struct Pool {
	struct cfg c;
	struct dp_pool *p = nullptr;
	Pool(std::initializer_list<const char *> addrs, enum cfg_balance b = CFG_BALANCE_ROUNDROBIN)
	{
		char err[256];
		cfg_init(&c);
		for (const char *a : addrs) {
			EXPECT_EQ(cfg_value_parse_addr(a, true, &c.backends[c.n_backends], err, sizeof(err)), 0) << err;
			c.n_backends++;
		}
		c.proxy.balance = b;
		c.proxy.health_rise = 2;
		c.proxy.health_fall = 2;
	}
	void
	start(unsigned worker = 0, int ep = -1)
	{
		p = dp_pool_new(&c, worker, &dp_be_sock_ops, (void *)(intptr_t)ep);
		ASSERT_NE(p, nullptr);
	}
	~Pool()
	{
		dp_pool_free(p);
		cfg_free(&c);
	}
};

// A listening socket on 127.0.0.1 and its port.
int
listener(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {};
	socklen_t len = sizeof(a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	EXPECT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	EXPECT_EQ(listen(fd, 8), 0);
	EXPECT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

} // namespace

TEST(DpBackend, RoundRobinSkipsTriedAndDown)
{
	Pool t({"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"});
	t.start();
	EXPECT_EQ(dp_pool_pick(t.p, 0), 0);
	EXPECT_EQ(dp_pool_pick(t.p, 0), 1);
	EXPECT_EQ(dp_pool_pick(t.p, 0), 2);
	EXPECT_EQ(dp_pool_pick(t.p, 0), 0);
	EXPECT_EQ(dp_pool_pick(t.p, 1u << 1), 2); // 1 already tried
	EXPECT_EQ(dp_pool_pick(t.p, 7), -1);
	dp_pool_result(t.p, 0, false);
	EXPECT_TRUE(t.p->be[0].up); // one failure of two
	dp_pool_result(t.p, 0, false);
	EXPECT_FALSE(t.p->be[0].up);
	EXPECT_EQ(dp_pool_up(t.p), 2u);
	for (int i = 0; i < 6; i++)
		EXPECT_NE(dp_pool_pick(t.p, 0), 0);
	EXPECT_EQ(dp_pool_pick(t.p, 1u << 1 | 1u << 2), -1); // the rest tried, 0 is down
	dp_pool_result(t.p, 0, true);
	EXPECT_FALSE(t.p->be[0].up);
	dp_pool_result(t.p, 0, true);
	EXPECT_TRUE(t.p->be[0].up);
	EXPECT_EQ(t.p->stats.marked_down, 1u);
	EXPECT_EQ(t.p->stats.marked_up, 1u);
}

TEST(DpBackend, FailuresMustBeInARow)
{
	Pool t({"127.0.0.1:1"});
	t.start();
	for (int i = 0; i < 5; i++) {
		dp_pool_result(t.p, 0, false);
		dp_pool_result(t.p, 0, true);
	}
	EXPECT_TRUE(t.p->be[0].up);
}

TEST(DpBackend, WorkersStartAtDifferentBackends)
{
	Pool t({"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"});
	t.start(4);
	EXPECT_EQ(dp_pool_pick(t.p, 0), 1);
}

TEST(DpBackend, LeastConnectionsWithRoundRobinTies)
{
	Pool t({"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, CFG_BALANCE_LEASTCONN);
	t.start();
	t.p->be[0].active = 5;
	t.p->be[1].active = 2;
	t.p->be[2].active = 3;
	EXPECT_EQ(dp_pool_pick(t.p, 0), 1);
	EXPECT_EQ(dp_pool_pick(t.p, 1u << 1), 2);
	t.p->be[0].active = t.p->be[1].active = t.p->be[2].active = 0;
	int a = dp_pool_pick(t.p, 0), b = dp_pool_pick(t.p, 0), c = dp_pool_pick(t.p, 0);
	EXPECT_TRUE(a != b && b != c && a != c) << a << b << c;
}

TEST(DpBackend, NamesResolveAtStart)
{
	Pool t({"localhost:8080"});
	t.start();
	EXPECT_TRUE(t.p->be[0].sa.ss_family == AF_INET || t.p->be[0].sa.ss_family == AF_INET6);
	EXPECT_STREQ(t.p->be[0].name, "localhost:8080"); // (/etc/hosts: no query leaves the machine)
}

TEST(DpBackend, HealthChecksOverEpoll)
{
	uint16_t open_port, closed_port;
	int lfd = listener(&open_port), gone = listener(&closed_port);
	close(gone); // nothing listens there any more
	std::string a = "127.0.0.1:" + std::to_string(open_port), b = "127.0.0.1:" + std::to_string(closed_port);
	int ep = epoll_create1(0);
	Pool t({a.c_str(), b.c_str()});
	t.c.proxy.health_interval_ms = 100;
	t.c.proxy.health_fall = 2;
	t.start(0, ep);
	t.p->be[0].up = false; // the listening one must come up (rise 2)
	for (uint64_t now = 0; now <= 400; now += 100) {
		dp_pool_tick(t.p, now);
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 1000);
		for (int i = 0; i < n; i++)
			dp_be_sock_event(evs[i].data.ptr, evs[i].events);
	}
	EXPECT_TRUE(t.p->be[0].up);
	EXPECT_FALSE(t.p->be[1].up);
	EXPECT_EQ(dp_pool_up(t.p), 1u);
	close(lfd);
	close(ep);
}

namespace {

// A transport of our own (struct dp_be_ops): the health checks use
// nothing else, so any dataplane's connects can drive them.
struct Fake {
	int next = 0;          // what open returns
	int opens = 0, closes = 0;
	static Fake *self;
	static int
	open(void *, const struct dp_backend *, struct dp_be_end *e)
	{
		self->opens++;
		if (self->next == 0)
			e->io = self;
		return self->next;
	}
	static void
	close(void *, bool)
	{
		self->closes++;
	}
	static void
	shut(void *)
	{
	}
};
Fake *Fake::self;
const struct dp_io_ops fake_io = {nullptr, nullptr, Fake::close, nullptr};
const struct dp_be_ops fake_ops = {&fake_io, Fake::open, Fake::shut};

} // namespace

// Through any transport: a connect that completes counts for the backend
// (and is closed at once), one that fails against it; a connect we could
// not even start for want of resources here is no verdict; a check with
// no answer in time is a failure.
TEST(DpBackend, HealthChecksThroughAnyTransport)
{
	Fake f;
	Fake::self = &f;
	Pool t({"127.0.0.1:1"});
	t.c.proxy.health_interval_ms = 100;
	t.c.proxy.connect_timeout_ms = 50;
	t.p = dp_pool_new(&t.c, 0, &fake_ops, nullptr);
	ASSERT_NE(t.p, nullptr);
	struct dp_backend *b = &t.p->be[0];

	dp_pool_tick(t.p, 0); // a check starts
	ASSERT_EQ(f.opens, 1);
	EXPECT_TRUE(b->check.open && b->check.connecting);
	b->check.open = false; // the transport failed it (and released it)
	dp_be_notify(&b->check, DP_BE_FAILED);
	dp_pool_tick(t.p, 100);
	b->check.open = false;
	dp_be_notify(&b->check, DP_BE_FAILED);
	EXPECT_FALSE(b->up); // fall 2
	EXPECT_EQ(f.closes, 0); // released by the transport, not closed again

	f.next = DP_BE_NO_ROOM; // ours: no verdict either way
	for (uint64_t now = 200; now <= 600; now += 100)
		dp_pool_tick(t.p, now);
	EXPECT_FALSE(b->up);
	EXPECT_EQ(b->ok_run, 0u);

	f.next = 0;
	dp_pool_tick(t.p, 700);
	dp_be_notify(&b->check, DP_BE_CONNECTED);
	EXPECT_EQ(f.closes, 1); // the connect is the whole check
	dp_pool_tick(t.p, 800);
	dp_be_notify(&b->check, DP_BE_CONNECTED);
	EXPECT_TRUE(b->up); // rise 2

	dp_pool_tick(t.p, 900); // no answer within connect_timeout: failures
	dp_pool_tick(t.p, 950);
	dp_pool_tick(t.p, 1000);
	dp_pool_tick(t.p, 1050);
	EXPECT_FALSE(b->up);
	EXPECT_EQ(f.closes, 4); // two checks connected, two timed out
}
