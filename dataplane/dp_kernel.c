/* The kernel dataplane (DESIGN.md "Dataplanes"): per worker thread, one
 * epoll, one SO_REUSEPORT socket per listener, the engine instances of its
 * connections, its executor and its session-cache shard. Each poll
 * iteration handles the ready sockets, then flushes the crypto batch and
 * resumes the connections whose jobs completed. No locks on this path. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dp_backend.h"
#include "dp_be_sock.h"
#include "dp_conn.h"
#include "dp_ctl.h"
#include "dp_gen.h"
#include "dp_kernel.h"
#include "dp_log.h"
#include "dp_metrics.h"
#include "dp_proxy.h"
#include "tlso_build.h"
#if TLSO_HAVE_HIREDIS
#include "dp_redis.h"
#endif

#define DP_EVENTS 128
#define DP_TIMER_MS 200

enum dp_kind { DP_KIND_LISTEN = 1, DP_KIND_CONN = 2, DP_KIND_WAKE = 3 };

struct dp_listen {
	uint8_t kind;
	int fd;
	size_t index;          /* cfg->listeners[index]: its context in the current generation */
};

struct dp_worker {
	struct dp_app app;     /* connections, executor, timeouts */
	int cpu;
	int ep;
	int wake_fd;
	struct dp_listen listen[CFG_MAX_LISTENERS];
	size_t n_listen;
	struct dp_hold *pooled;  /* the generation whose pool was made (proxy mode) */
	pthread_t thread;
	int start_rc;
#if TLSO_HAVE_HIREDIS
	struct dp_redis *store;    /* --session-store, or NULL */
	struct dp_redis_stats store_stats; /* kept at teardown */
#endif
};

static uint64_t
dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
dp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* How long the poll may sleep: the timers' period, less while a drain's
 * deadline is nearer. */
static int
dp_worker_timeout(const struct dp_worker *w)
{
	const struct dp_app *a = &w->app;

	if (dp_app_busy(a))
		return 0;
	if (a->draining && a->drain_until_ms < a->now_ms + DP_TIMER_MS)
		return a->drain_until_ms > a->now_ms ? (int)(a->drain_until_ms - a->now_ms) : 0;
#if TLSO_HAVE_HIREDIS
	if (w->store != NULL) /* a lookup's deadline, a reconnection */
		return dp_redis_wait_ms(w->store, dp_now_ms(), DP_TIMER_MS);
#endif
	return DP_TIMER_MS;
}

/* Wait for events: not at all while crypto jobs are due, at most until
 * the deadline of jobs the bounded flush delay holds (in microseconds:
 * epoll_pwait2; a 200 us delay cannot wait for epoll_wait's whole
 * milliseconds), else up to dp_worker_timeout. */
static int
dp_worker_wait(struct dp_worker *w, struct epoll_event *evs)
{
	uint64_t deadline = dp_app_deadline_us(&w->app), now, wait;
	int timeout_ms = dp_worker_timeout(w);
	struct timespec ts;
	int n;

	if (timeout_ms == 0 || deadline == UINT64_MAX)
		return epoll_wait(w->ep, evs, DP_EVENTS, timeout_ms);
	now = dp_now_us();
	wait = deadline > now ? deadline - now : 0;
	if (wait > (uint64_t)timeout_ms * 1000)
		wait = (uint64_t)timeout_ms * 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(wait * 1000);
	n = epoll_pwait2(w->ep, evs, DP_EVENTS, &ts, NULL);
	if (n < 0 && errno == ENOSYS) /* before Linux 5.11: milliseconds, rounded up */
		n = epoll_wait(w->ep, evs, DP_EVENTS, (int)((wait + 999) / 1000));
	return n;
}

/* ---- the socket transport ---- */

/* One send or read, retried on EINTR; "again" and errors as dp_conn wants. */
static ssize_t
dp_sock_io(void *io, uint8_t *buf, size_t n, bool out)
{
	for (;;) {
		int fd = (int)(intptr_t)io;
		ssize_t r = out ? send(fd, buf, n, MSG_NOSIGNAL) : read(fd, buf, n);

		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return DP_IO_AGAIN;
		if (errno != EINTR)
			return DP_IO_ERROR;
	}
}

static ssize_t
dp_sock_send(void *io, const uint8_t *p, size_t n)
{
	return dp_sock_io(io, (uint8_t *)p, n, true);
}

static ssize_t
dp_sock_recv(void *io, uint8_t *buf, size_t cap)
{
	return dp_sock_io(io, buf, cap, false);
}

static void
dp_sock_close(void *io, bool dead)
{
	(void)dead;
	close((int)(intptr_t)io);
}

const struct dp_io_ops dp_sock_ops = { dp_sock_send, dp_sock_recv, dp_sock_close, NULL };

/* ---- the worker ---- */

/* A connection over a limit: reset (SO_LINGER 0), so the client learns
 * at once instead of after its handshake timeout, and the socket leaves
 * no TIME_WAIT behind. */
static void
dp_refuse(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Proxy mode: the addresses of the PROXY header (unknown ones stay of
 * family 0, and the header is not sent). */
static int
dp_attach(struct dp_conn *c, int fd, const struct hsk_ctx *ctx, struct dp_pool *pool)
{
	struct sockaddr_storage client = { 0 }, local = { 0 };
	socklen_t len = sizeof(client);

	(void)getpeername(fd, (struct sockaddr *)&client, &len);
	len = sizeof(local);
	(void)getsockname(fd, (struct sockaddr *)&local, &len);
	return dp_proxy_attach(c, &client, &local, ctx, pool);
}

static void
dp_accept(struct dp_worker *w, struct dp_listen *l)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		const struct hsk_ctx *ctx;
		struct epoll_event ev;
		struct dp_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dp_log(DP_LOG_WARN, "worker %u: accept: %s", w->app.id, strerror(errno));
			return;
		}
		/* In proxy mode, no pool means no backends to offer (a reload
		 * whose pool could not be made): refused like a limit. */
		if (!dp_app_admit(&w->app) || (w->app.cfg->mode == CFG_MODE_PROXY && w->app.pool == NULL)) {
			dp_refuse(fd);
			continue;
		}
		ctx = dp_app_ctx(&w->app, l->index);
		/* TCP_NODELAY and the buffer sizes are inherited from the
		 * listening socket (Linux). */
		c = dp_conn_new(&w->app, ctx, &dp_sock_ops, (void *)(intptr_t)fd);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->kind = DP_KIND_CONN;
		dp_conn_set_peer(c, (const struct sockaddr *)&peer, plen);
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if ((w->app.pool != NULL && dp_attach(c, fd, ctx, w->app.pool) != 0) ||
		    epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			c->dead = true;
			(void)dp_conn_service(c); /* closes the socket, frees c */
		}
	}
}

static int
dp_listen_socket(const struct cfg_addr *a, int buf)
{
	int fd, one = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Handshake flights are written whole: no Nagle delay. Accepted
	 * sockets inherit it, and the buffer sizes (limits: conn_buffer,
	 * which bounds what a client that stops reading or floods us can
	 * make the kernel hold; set before listen() so the window scale
	 * offered matches). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    (a->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)&a->sa, a->sa_len) != 0 || listen(fd, 4096) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Proxy mode: the backends of the generation new connections take (made
 * here, on the worker: the pool's sockets join its epoll; a reload has
 * resolved the names already). */
static void
dp_worker_pool(struct dp_worker *w)
{
	struct dp_hold *h = w->app.hold;

	if (w->app.cfg->mode != CFG_MODE_PROXY || h == NULL || h == w->pooled)
		return;
	w->pooled = h;
	h->pool = dp_pool_new(h->gen->cfg, w->app.id, &dp_be_sock_ops, (void *)(intptr_t)w->ep);
	if (h->pool == NULL)
		dp_log(DP_LOG_ERROR, "worker %u: no backend pool for generation %u: new connections refused",
		       w->app.id, h->gen->serial);
	w->app.pool = h->pool;
}

static int
dp_worker_setup(struct dp_worker *w, struct dp_gens *gens, struct hsk_sess_cache *cache, const struct cfg *cfg)
{
	struct epoll_event ev;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->wake_fd < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = &w->wake_fd; /* distinguished by address */
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake_fd, &ev) != 0)
		return -1;
	if (dp_app_init(&w->app, w->app.id, cfg, cache) != 0)
		return -1;
	dp_app_attach(&w->app, gens);
	dp_worker_pool(w);
	if (cfg->mode == CFG_MODE_PROXY && w->app.pool == NULL)
		return -1;
#if TLSO_HAVE_HIREDIS
	if (cfg->session_store.on) {
		w->store = dp_redis_new(&cfg->session_store, w->app.id, w->ep, dp_app_lookup_done, &w->app,
					w->app.now_ms);
		if (w->store == NULL)
			return -1;
		w->app.hw.store = &dp_redis_ops;
		w->app.hw.store_arg = w->store;
	}
#endif
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct dp_listen *l = &w->listen[w->n_listen];
		const struct cfg_addr *a = &cfg->listeners[i].addr;

		l->kind = DP_KIND_LISTEN;
		l->index = i;
		l->fd = dp_listen_socket(a, (int)cfg->conn_buffer);
		if (l->fd < 0) {
			dp_log(DP_LOG_ERROR, "worker %u: listen on %s:%u: %s", w->app.id, a->host, a->port,
			       strerror(errno));
			return -1;
		}
		w->n_listen++;
		ev.events = EPOLLIN;
		ev.data.ptr = l;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, l->fd, &ev) != 0)
			return -1;
	}
	return 0;
}

/* Drain: no more connections. Closing the listening sockets makes the
 * kernel refuse new ones (and reset those still in the accept queue)
 * once every worker has closed its own (SO_REUSEPORT). */
static void
dp_worker_close_listeners(struct dp_worker *w)
{
	for (size_t i = 0; i < w->n_listen; i++)
		close(w->listen[i].fd);
	w->n_listen = 0;
}

static void
dp_worker_loop(struct dp_worker *w)
{
	struct epoll_event evs[DP_EVENTS];
	uint64_t t_work = dp_conn_now_ns();

	while (dp_app_control(&w->app)) {
		uint64_t t_wait, t_woke;
		int n;

		dp_worker_pool(w);
		if (w->app.draining && w->n_listen > 0)
			dp_worker_close_listeners(w);
		t_wait = dp_conn_now_ns();
		n = dp_worker_wait(w, evs);
		/* busy and idle time for the metrics: one more clock read per
		 * iteration (vDSO, tens of nanoseconds) */
		t_woke = dp_conn_now_ns();
		dp_mx_add(&w->app.mx->busy_ns, t_wait - t_work);
		dp_mx_add(&w->app.mx->idle_ns, t_woke - t_wait);
		t_work = t_woke;
		dp_app_tick_us(&w->app, t_woke / 1000);
		if (w->app.pool != NULL)
			dp_proxy_tick(w->app.pool, w->app.now_ms);
		for (struct dp_hold *h = w->app.retired; h != NULL; h = h->next)
			if (h->pool != NULL)
				dp_proxy_tick(h->pool, w->app.now_ms); /* connect timeouts of its connections */
#if TLSO_HAVE_HIREDIS
		if (w->store != NULL)
			dp_redis_tick(w->store, w->app.now_ms);
#endif
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			uint8_t kind = p == &w->wake_fd ? DP_KIND_WAKE : *(uint8_t *)p;

			if (kind == DP_KIND_LISTEN) {
				dp_accept(w, p);
			} else if (kind == DP_KIND_CONN) {
				struct dp_conn *c = p;

				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					c->readable = true;
				if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					c->rdhup = true;
				if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
					c->writable = true;
				(void)dp_conn_service(c);
			} else if (kind == DP_KIND_WAKE) {
				uint64_t v;

				/* level-triggered: consume it (dp_app_control looks next) */
				if (read(w->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					dp_log(DP_LOG_WARN, "worker %u: eventfd: %s", w->app.id, strerror(errno));
#if TLSO_HAVE_HIREDIS
			} else if (kind == DP_KIND_STORE) {
				dp_redis_event(p, evs[i].events);
#endif
			} else if (kind >= DP_KIND_BACKEND) {
				dp_be_sock_event(p, evs[i].events);
			}
		}
#if TLSO_HAVE_HIREDIS
		/* Lookups answered or past their deadline: their handshakes go
		 * on (and may queue crypto jobs for the flush below). */
		if (w->store != NULL)
			dp_redis_complete(w->store);
#endif
		/* End of the iteration: run the batch, resume its owners. */
		dp_app_flush(&w->app);
	}
	dp_app_left(&w->app);
}

static void
dp_worker_teardown(struct dp_worker *w)
{
#if TLSO_HAVE_HIREDIS
	/* first: no connection may be left waiting for a lookup */
	if (w->store != NULL) {
		dp_redis_stats(w->store, &w->store_stats);
		/* the engine must not reach the freed store while the
		 * connections are torn down below */
		w->app.hw.store = NULL;
		w->app.hw.store_arg = NULL;
		dp_redis_free(w->store);
		w->store = NULL;
	}
#endif
	dp_app_teardown(&w->app);
	dp_worker_close_listeners(w);
	if (w->ep >= 0)
		close(w->ep);
	/* wake_fd stays open until the join: the control thread may still
	 * write to it (a second signal), and its number must not be reused. */
}

struct dp_start {
	struct dp_worker *w;
	struct dp_gens *gens;
	struct hsk_sess_cache *cache;
	const struct cfg *cfg;
	pthread_barrier_t *ready;
};

static void *
dp_worker_main(void *arg)
{
	struct dp_start *st = arg;
	struct dp_worker *w = st->w;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		dp_log(DP_LOG_WARN, "worker %u: cannot pin to CPU %d", w->app.id, w->cpu);
	dp_app_tick(&w->app, dp_now_ms());
	w->start_rc = dp_worker_setup(w, st->gens, st->cache, st->cfg);
	pthread_barrier_wait(st->ready);
	if (w->start_rc == 0)
		dp_worker_loop(w);
	/* Out of the loop: the metrics thread may still read this worker's
	 * counters, executor and pools; teardown waits until it is stopped
	 * (the same barrier, a second time). */
	pthread_barrier_wait(st->ready);
	dp_worker_teardown(w);
	return NULL;
}

#if TLSO_HAVE_HIREDIS
/* The session store's counters (racy reads, for a log line). */
static void
dp_log_store(const struct dp_worker *w)
{
	struct dp_redis_stats st = w->store_stats;

	if (w->store != NULL)
		dp_redis_stats(w->store, &st);
	dp_redis_log(w->app.id, &w->app.hw, &st);
}
#endif

static void
dp_log_stats(struct dp_worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		dp_app_log_stats(&ws[i].app, ws[i].cpu);
#if TLSO_HAVE_HIREDIS
		if (ws[i].app.cfg != NULL && ws[i].app.cfg->session_store.on)
			dp_log_store(&ws[i]);
#endif
		if (ws[i].app.pool != NULL)
			dp_pool_log_stats(ws[i].app.pool); /* racy read of counters, for a log line */
	}
	dp_log_heap();
}

/* Room for every worker's max_conns descriptors: the soft limit is
 * raised towards the hard one (often 1024 soft by default). */
static void
dp_raise_nofile(const struct cfg *cfg, unsigned workers)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)workers * cfg->max_conns + 64 + 4 * cfg->n_listeners * workers;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		dp_log(DP_LOG_WARN, "open files limited to %llu: fewer than max_conns (%u) x %u workers",
		       (unsigned long long)rl.rlim_cur, cfg->max_conns, workers);
}

/* The control thread's hooks (dp_ctl.h). */
struct dp_kernel {
	struct dp_worker *ws;
	unsigned n;
};

static void
dp_kernel_wake(void *arg)
{
	struct dp_kernel *k = arg;

	for (unsigned i = 0; i < k->n; i++) {
		uint64_t one = 1;

		if (k->ws[i].start_rc != 0)
			continue; /* not polling */
		if (k->ws[i].wake_fd >= 0 && write(k->ws[i].wake_fd, &one, sizeof(one)) < 0)
			dp_log(DP_LOG_WARN, "cannot wake worker %u", i);
	}
}

static void
dp_kernel_stats(void *arg)
{
	struct dp_kernel *k = arg;

	dp_log_stats(k->ws, k->n);
}

int
dp_kernel_run(const struct cfg *cfg, struct dp_ctl *ctl, struct hsk_sess_cache *cache)
{
	unsigned n = cfg->n_cores ? (unsigned)cfg->n_cores : cfg->workers;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct dp_worker *ws = calloc(n, sizeof(*ws));
	struct dp_start *st = calloc(n, sizeof(*st));
	struct dp_kernel k = { ws, n };
	const struct hsk_ctx *ctxs;
	struct dp_mx_src *src = calloc(n, sizeof(*src));
	struct dp_metrics *metrics = NULL;
	pthread_barrier_t ready;
	int rc = 0;

	if (ws == NULL || st == NULL || src == NULL) {
		free(ws);
		free(st);
		free(src);
		return -1;
	}
	dp_raise_nofile(cfg, n);
	pthread_barrier_init(&ready, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		ws[i].app.id = i;
		ws[i].ep = ws[i].wake_fd = -1;
		ws[i].cpu = cfg->n_cores ? cfg->cores[i] : (int)(i % (unsigned)(ncpu > 0 ? ncpu : 1));
		st[i] = (struct dp_start){ &ws[i], &ctl->gens, cache, cfg, &ready };
		if (pthread_create(&ws[i].thread, NULL, dp_worker_main, &st[i]) != 0) {
			dp_log(DP_LOG_ERROR, "cannot start worker %u", i);
			abort();
		}
	}
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < n; i++)
		if (ws[i].start_rc != 0)
			rc = -1;
	ctl->wake = dp_kernel_wake;
	ctl->stats = dp_kernel_stats;
	ctl->arg = &k;
	for (unsigned i = 0; i < n; i++)
		src[i] = (struct dp_mx_src){ .app = &ws[i].app };
	if (rc == 0 && cfg->metrics_on && (metrics = dp_metrics_start(cfg, src, n, "kernel")) == NULL)
		rc = -1;
	if (rc == 0) {
		ctxs = atomic_load(&ctl->gens.cur)->ctxs;
		for (size_t i = 0; i < cfg->n_listeners; i++)
			dp_log(DP_LOG_INFO, "listening on %s%s%s:%u (%zu certificate%s)",
			       cfg->listeners[i].addr.family == AF_INET6 ? "[" : "",
			       cfg->listeners[i].addr.host,
			       cfg->listeners[i].addr.family == AF_INET6 ? "]" : "",
			       cfg->listeners[i].addr.port, ctxs[i].n_certs, ctxs[i].n_certs == 1 ? "" : "s");
		if (cfg->mode == CFG_MODE_PROXY)
			dp_log(DP_LOG_INFO, "kernel dataplane: %u worker%s, crypto backend %s, proxy mode (%zu "
			       "backends, %s, PROXY protocol %s)", n, n == 1 ? "" : "s",
			       acc_exec_backend(ws[0].app.hw.exec), cfg->n_backends,
			       cfg_balance_name(cfg->proxy.balance), cfg_proxy_protocol_name(cfg->proxy.proxy_protocol));
		else
			dp_log(DP_LOG_INFO, "kernel dataplane: %u worker%s, crypto backend %s, respond mode (%zu-byte body)",
			       n, n == 1 ? "" : "s", acc_exec_backend(ws[0].app.hw.exec), cfg->response_size);
		/* Signals, reloads, and the drain until every worker is out. */
		dp_ctl_run(ctl, n);
	} else {
		atomic_store(&ctl->gens.stop, true);
		dp_kernel_wake(&k);
	}
	/* Every worker is out of its loop (or never entered it): stop the
	 * reader of their counters, then let them tear down. */
	dp_metrics_stop(metrics);
	metrics = NULL;
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < n; i++)
		pthread_join(ws[i].thread, NULL);
	ctl->wake = NULL;
	for (unsigned i = 0; i < n; i++)
		if (ws[i].wake_fd >= 0)
			close(ws[i].wake_fd);
	ctl->stats = NULL;
	if (rc == 0)
		dp_log_stats(ws, n);
	for (unsigned i = 0; i < n; i++)
		dp_app_detach(&ws[i].app); /* after the last log line, which reads the pools */
	pthread_barrier_destroy(&ready);
	free(src);
	free(st);
	free(ws);
	return rc;
}
