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
#include <signal.h>
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
#include "dp_conn.h"
#include "dp_kernel.h"
#include "dp_log.h"
#include "dp_metrics.h"
#include "dp_proxy.h"

#define DP_EVENTS 128
#define DP_TIMER_MS 200

enum dp_kind { DP_KIND_LISTEN = 1, DP_KIND_CONN = 2, DP_KIND_WAKE = 3 };

struct dp_listen {
	uint8_t kind;
	int fd;
	const struct hsk_ctx *ctx;
};

struct dp_worker {
	struct dp_app app;     /* connections, executor, timeouts */
	int cpu;
	int ep;
	int wake_fd;
	struct dp_listen listen[CFG_MAX_LISTENERS];
	size_t n_listen;
	pthread_t thread;
	int start_rc;
};

static atomic_bool dp_stop;


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

static const struct dp_io_ops dp_sock_ops = { dp_sock_send, dp_sock_recv, dp_sock_close, NULL };

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

static void
dp_accept(struct dp_worker *w, struct dp_listen *l)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev;
		struct dp_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dp_log(DP_LOG_WARN, "worker %u: accept: %s", w->app.id, strerror(errno));
			return;
		}
		if (!dp_app_admit(&w->app)) {
			dp_refuse(fd);
			continue;
		}
		/* TCP_NODELAY and the buffer sizes are inherited from the
		 * listening socket (Linux). */
		c = dp_conn_new(&w->app, l->ctx, &dp_sock_ops, (void *)(intptr_t)fd);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->kind = DP_KIND_CONN;
		dp_conn_set_peer(c, (const struct sockaddr *)&peer, plen);
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = c;
		if ((w->app.pool != NULL && dp_proxy_attach(c, fd, l->ctx, w->app.pool) != 0) ||
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

static int
dp_worker_setup(struct dp_worker *w, struct hsk_ctx *ctxs, struct hsk_sess_cache *cache, const struct cfg *cfg)
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
	if (cfg->mode == CFG_MODE_PROXY && (w->app.pool = dp_pool_new(cfg, w->app.id, w->ep)) == NULL)
		return -1;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct dp_listen *l = &w->listen[w->n_listen];
		const struct cfg_addr *a = &cfg->listeners[i].addr;

		l->kind = DP_KIND_LISTEN;
		l->ctx = &ctxs[i];
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

static void
dp_worker_loop(struct dp_worker *w)
{
	struct epoll_event evs[DP_EVENTS];
	uint64_t t_work = dp_conn_now_ns();

	while (!atomic_load_explicit(&dp_stop, memory_order_relaxed)) {
		uint64_t t_wait = dp_conn_now_ns(), t_woke;
		int n = epoll_wait(w->ep, evs, DP_EVENTS, dp_app_busy(&w->app) ? 0 : DP_TIMER_MS);

		/* busy and idle time for the metrics: one more clock read per
		 * iteration (vDSO, tens of nanoseconds) */
		t_woke = dp_conn_now_ns();
		dp_mx_add(&w->app.mx->busy_ns, t_wait - t_work);
		dp_mx_add(&w->app.mx->idle_ns, t_woke - t_wait);
		t_work = t_woke;
		dp_app_tick(&w->app, t_woke / 1000000);
		if (w->app.pool != NULL)
			dp_proxy_tick(w->app.pool, w->app.now_ms);
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
			} else if (kind >= DP_KIND_BACKEND) {
				dp_proxy_event(p, kind, evs[i].events);
			}
		}
		/* End of the iteration: run the batch, resume its owners. */
		dp_app_flush(&w->app);
	}
}

static void
dp_worker_teardown(struct dp_worker *w)
{
	dp_app_teardown(&w->app);
	for (size_t i = 0; i < w->n_listen; i++)
		close(w->listen[i].fd);
	if (w->ep >= 0)
		close(w->ep);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
}

struct dp_start {
	struct dp_worker *w;
	struct hsk_ctx *ctxs;
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
	dp_app_tick(&w->app, dp_conn_now_ns() / 1000000);
	w->start_rc = dp_worker_setup(w, st->ctxs, st->cache, st->cfg);
	pthread_barrier_wait(st->ready);
	if (w->start_rc == 0)
		dp_worker_loop(w);
	dp_worker_teardown(w);
	return NULL;
}

static void
dp_log_stats(struct dp_worker *ws, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		dp_app_log_stats(&ws[i].app, ws[i].cpu);
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

int
dp_kernel_run(const struct cfg *cfg, struct hsk_ctx *ctxs, struct hsk_sess_cache *cache)
{
	unsigned n = cfg->n_cores ? (unsigned)cfg->n_cores : cfg->workers;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct dp_worker *ws = calloc(n, sizeof(*ws));
	struct dp_start *st = calloc(n, sizeof(*st));
	struct dp_mx_src *src = calloc(n, sizeof(*src));
	struct dp_metrics *metrics = NULL;
	pthread_barrier_t ready;
	sigset_t sigs;
	int rc = 0, sig;

	if (ws == NULL || st == NULL || src == NULL) {
		free(ws);
		free(st);
		free(src);
		return -1;
	}
	dp_raise_nofile(cfg, n);
	/* Signals go to this thread only (sigwait below). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pthread_barrier_init(&ready, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		ws[i].app.id = i;
		ws[i].ep = ws[i].wake_fd = -1;
		ws[i].cpu = cfg->n_cores ? cfg->cores[i] : (int)(i % (unsigned)(ncpu > 0 ? ncpu : 1));
		st[i] = (struct dp_start){ &ws[i], ctxs, cache, cfg, &ready };
		if (pthread_create(&ws[i].thread, NULL, dp_worker_main, &st[i]) != 0) {
			dp_log(DP_LOG_ERROR, "cannot start worker %u", i);
			abort();
		}
	}
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < n; i++)
		if (ws[i].start_rc != 0)
			rc = -1;
	for (unsigned i = 0; i < n; i++)
		src[i] = (struct dp_mx_src){ .app = &ws[i].app, .pool = ws[i].app.pool };
	if (rc == 0 && cfg->metrics_on && (metrics = dp_metrics_start(cfg, src, n, "kernel")) == NULL)
		rc = -1;
	if (rc == 0) {
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
		for (;;) {
			if (sigwait(&sigs, &sig) != 0)
				continue;
			if (sig == SIGUSR1) {
				dp_log_stats(ws, n);
				continue;
			}
			if (sig == SIGINT || sig == SIGTERM)
				break;
		}
		dp_log(DP_LOG_INFO, "shutting down");
	}
	dp_metrics_stop(metrics); /* it reads the workers' counters: before they go */
	atomic_store(&dp_stop, true);
	for (unsigned i = 0; i < n; i++) {
		uint64_t one = 1;
		if (ws[i].wake_fd >= 0 && write(ws[i].wake_fd, &one, sizeof(one)) < 0)
			dp_log(DP_LOG_WARN, "cannot wake worker %u", i);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(ws[i].thread, NULL);
	if (rc == 0)
		dp_log_stats(ws, n);
	for (unsigned i = 0; i < n; i++)
		dp_pool_free(ws[i].app.pool); /* after the last log line, which reads it */
	pthread_barrier_destroy(&ready);
	free(src);
	free(st);
	free(ws);
	return rc;
}
