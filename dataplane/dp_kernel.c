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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acc_exec.h"
#include "dp_http.h"
#include "dp_kernel.h"
#include "dp_log.h"
#include "hsk_conn.h"

#define DP_EVENTS 128
#define DP_TIMER_MS 200
#define DP_SERVICE_ROUNDS 64

enum dp_kind { DP_KIND_LISTEN = 1, DP_KIND_CONN = 2, DP_KIND_WAKE = 3 };

struct dp_listen {
	uint8_t kind;
	int fd;
	const struct hsk_ctx *ctx;
};

struct dp_worker;

struct dp_conn {
	uint8_t kind;
	bool readable, writable;
	bool need_recv;       /* the engine has bytes (or room) to process */
	bool rdhup;           /* the peer's FIN was signalled: read to the end */
	bool closing;         /* close once the output is sent */
	bool dead;            /* socket closed; freed when no job is pending */
	bool close_after;     /* the current response ends the connection */
	int fd;
	struct dp_conn *prev, *next, *run_next;
	struct dp_worker *w;
	struct hsk_conn *tls;
	uint64_t started_ms, active_ms;
	size_t head_len, head_off;
	uint64_t body_left;
	char head[256];
	struct dp_http http;
};

struct dp_stats {
	uint64_t accepted;
	uint64_t closed;
	uint64_t timeouts;
	uint64_t requests;
};

struct dp_worker {
	unsigned id;
	int cpu;
	int ep;
	int wake_fd;
	const struct cfg *cfg;
	struct dp_listen listen[CFG_MAX_LISTENERS];
	size_t n_listen;
	struct hsk_worker hw;
	struct dp_conn *conns;
	struct dp_conn *runnable;
	size_t n_conns;
	uint64_t now_ms, next_timer_ms;
	struct dp_stats stats;
	struct acc_stats acc;  /* the executor's counters, kept at teardown */
	pthread_t thread;
	int start_rc;
};

static atomic_bool dp_stop;
static uint8_t dp_body[16384];

static uint64_t
dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- connections ---- */

static void
dp_conn_release(struct dp_conn *c)
{
	struct dp_worker *w = c->w;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->n_conns--;
	hsk_conn_free(c->tls);
	free(c);
}

/* Close the socket now; the object goes when its crypto job is back. */
static void
dp_conn_kill(struct dp_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
		c->w->stats.closed++;
	}
	c->dead = true;
	if (!hsk_conn_crypto_pending(c->tls))
		dp_conn_release(c);
}

static void
dp_conn_new(struct dp_worker *w, int fd, const struct hsk_ctx *ctx)
{
	struct dp_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev;

	if (c == NULL) {
		close(fd);
		return;
	}
	c->tls = hsk_conn_new(ctx, &w->hw);
	if (c->tls == NULL) {
		free(c);
		close(fd);
		return;
	}
	/* TCP_NODELAY is inherited from the listening socket (Linux). */
	c->kind = DP_KIND_CONN;
	c->fd = fd;
	c->w = w;
	c->writable = true;
	c->started_ms = c->active_ms = w->now_ms;
	dp_http_init(&c->http);
	hsk_conn_set_user(c->tls, c);
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	w->stats.accepted++;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		dp_conn_kill(c);
}

/* Send what the engine has for the socket. */
static bool
dp_conn_flush(struct dp_conn *c)
{
	const uint8_t *p;
	size_t n;
	bool progress = false;

	while (c->writable && (n = hsk_conn_out(c->tls, &p)) > 0) {
		ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

		if (r > 0) {
			hsk_conn_out_done(c->tls, (size_t)r);
			progress = true;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->writable = false;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			c->closing = true;
			c->dead = true; /* peer gone: nothing more can be sent */
			return false;
		}
	}
	return progress;
}

/* Queue a response for the request just parsed. */
static void
dp_conn_answer(struct dp_conn *c, int status, bool keep_alive, bool head_only)
{
	uint64_t body = status == 200 ? c->w->cfg->response_size : 0;

	c->head_len = dp_http_head(c->head, sizeof(c->head), status, body, keep_alive);
	c->head_off = 0;
	c->body_left = head_only ? 0 : body;
	c->close_after = !keep_alive;
	c->w->stats.requests++;
}

static bool
dp_conn_responding(const struct dp_conn *c)
{
	return c->head_off < c->head_len || c->body_left > 0;
}

/* Write the pending response into the engine as far as it takes it. */
static bool
dp_conn_respond(struct dp_conn *c)
{
	bool progress = false;
	size_t taken;

	while (c->head_off < c->head_len) {
		if (hsk_conn_app_write(c->tls, (const uint8_t *)c->head + c->head_off,
				       c->head_len - c->head_off, &taken) != HSK_OK) {
			c->closing = true;
			return false;
		}
		if (taken == 0)
			return progress;
		c->head_off += taken;
		progress = true;
	}
	while (c->body_left > 0) {
		size_t n = c->body_left < sizeof(dp_body) ? (size_t)c->body_left : sizeof(dp_body);

		if (hsk_conn_app_write(c->tls, dp_body, n, &taken) != HSK_OK) {
			c->closing = true;
			return false;
		}
		if (taken == 0)
			return progress;
		c->body_left -= taken;
		progress = true;
	}
	if (progress && c->close_after) {
		hsk_conn_close(c->tls);
		c->closing = true;
	}
	return progress;
}

/* Decrypted bytes -> HTTP parser -> responses, one at a time. */
static bool
dp_conn_requests(struct dp_conn *c)
{
	struct dp_http_req req;
	bool progress = false;

	while (!dp_conn_responding(c) && !c->closing) {
		uint8_t buf[4096];
		size_t n;

		switch (dp_http_next(&c->http, &req)) {
		case DP_HTTP_REQUEST:
			dp_conn_answer(c, 200, req.keep_alive, req.head);
			return true;
		case DP_HTTP_BAD:
			dp_conn_answer(c, 400, false, false);
			return true;
		case DP_HTTP_TOO_LARGE:
			dp_conn_answer(c, 431, false, false);
			return true;
		case DP_HTTP_NONE:
		default:
			break;
		}
		if (hsk_conn_app_pending(c->tls) == 0)
			return progress;
		n = hsk_conn_app_read(c->tls, buf, sizeof(buf) < DP_HTTP_MAX_HEAD - c->http.len
							   ? sizeof(buf)
							   : DP_HTTP_MAX_HEAD - c->http.len);
		if (n == 0)
			return progress;
		(void)dp_http_feed(&c->http, buf, n);
		if (hsk_conn_app_pending(c->tls) == 0)
			c->need_recv = true; /* the engine stopped at this record */
		progress = true;
	}
	return progress;
}

static void
dp_conn_result(struct dp_conn *c, hsk_err err)
{
	if (err == HSK_OK || err == HSK_WANT_INPUT || err == HSK_WANT_CRYPTO)
		return;
	/* An alert (ours or the peer's) or close_notify: send what the
	 * engine still has (our alert or close_notify), then close. */
	if (HSK_IS_ALERT(err))
		dp_log(DP_LOG_DEBUG, "worker %u: sent alert %s", c->w->id,
		       hsk_alert_name(HSK_ALERT_CODE(err)));
	c->closing = true;
}

/* Move bytes until nothing moves: socket -> engine -> HTTP -> engine -> socket. */
static void
dp_conn_service(struct dp_conn *c)
{
	for (int round = 0; round < DP_SERVICE_ROUNDS && !c->dead; round++) {
		bool progress = false;

		progress |= dp_conn_requests(c);
		progress |= dp_conn_respond(c);
		if (c->need_recv && !hsk_conn_crypto_pending(c->tls) && hsk_conn_app_pending(c->tls) == 0) {
			size_t zero = 0;

			c->need_recv = false;
			dp_conn_result(c, hsk_conn_recv(c->tls, NULL, &zero));
			progress = true;
		}
		progress |= dp_conn_flush(c);
		if (c->readable && !c->closing && !hsk_conn_crypto_pending(c->tls)) {
			size_t space;
			uint8_t *buf = hsk_conn_in_buf(c->tls, &space);

			if (space > 0) {
				ssize_t r = read(c->fd, buf, space);

				if (r > 0) {
					hsk_conn_in_commit(c->tls, (size_t)r);
					c->need_recv = true;
					c->active_ms = c->w->now_ms;
					progress = true;
					/* A short read drained the socket: skip the read
					 * that would only say EAGAIN (edge-triggered: new
					 * bytes raise a new event). Not after a FIN, whose
					 * edge is already consumed. */
					if ((size_t)r < space && !c->rdhup)
						c->readable = false;
				} else if (r == 0) {
					c->closing = true; /* TCP FIN: nothing more will come */
					progress = true;
				} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
					c->readable = false;
				} else if (errno != EINTR) {
					c->closing = true;
					c->dead = true;
				}
			}
		}
		if (c->closing && !hsk_conn_crypto_pending(c->tls)) {
			const uint8_t *p;

			if (c->dead || hsk_conn_out(c->tls, &p) == 0) {
				dp_conn_kill(c);
				return;
			}
		}
		if (!progress)
			break;
	}
}

/* ---- the executor's completions ---- */

static void
dp_on_done(struct acc_job *job, void *arg)
{
	struct dp_worker *w = arg;
	struct hsk_conn *t = hsk_conn_from_job(job);
	struct dp_conn *c;

	if (t == NULL)
		return;
	c = hsk_conn_user(t);
	c->run_next = w->runnable;
	w->runnable = c;
}

static void
dp_run_completed(struct dp_worker *w)
{
	struct dp_conn *c, *next;

	c = w->runnable;
	w->runnable = NULL;
	for (; c != NULL; c = next) {
		next = c->run_next;
		if (c->dead) {
			dp_conn_release(c);
			continue;
		}
		dp_conn_result(c, hsk_conn_resume(c->tls));
		dp_conn_service(c);
	}
}

/* ---- timers ---- */

static void
dp_timers(struct dp_worker *w)
{
	const struct cfg *cfg = w->cfg;
	struct dp_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->dead || hsk_conn_crypto_pending(c->tls))
			continue;
		if (!hsk_conn_established(c->tls) &&
		    w->now_ms - c->started_ms >= cfg->handshake_timeout_ms) {
			w->stats.timeouts++;
			dp_conn_kill(c);
		} else if (cfg->idle_timeout_ms && hsk_conn_established(c->tls) &&
			   w->now_ms - c->active_ms >= cfg->idle_timeout_ms) {
			w->stats.timeouts++;
			hsk_conn_close(c->tls);
			c->closing = true;
			dp_conn_service(c);
		}
	}
}

/* ---- the worker ---- */

static void
dp_accept(struct dp_worker *w, struct dp_listen *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dp_log(DP_LOG_WARN, "worker %u: accept: %s", w->id, strerror(errno));
			return;
		}
		dp_conn_new(w, fd, l->ctx);
	}
}

static int
dp_listen_socket(const struct cfg_addr *a)
{
	int fd, one = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Handshake flights are written whole: no Nagle delay. Accepted
	 * sockets inherit it. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
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
dp_worker_setup(struct dp_worker *w, struct hsk_ctx *ctxs, struct hsk_sess_cache *cache)
{
	const struct cfg *cfg = w->cfg;
	struct epoll_event ev;
	static const char *backends[] = { "auto", "openssl", "ifma" };

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->wake_fd < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = &w->wake_fd; /* distinguished by address */
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake_fd, &ev) != 0)
		return -1;
	w->hw.id = w->id;
	w->hw.cache = cache;
	w->hw.exec = acc_exec_new(backends[cfg->accel <= CFG_ACCEL_IFMA ? cfg->accel : 0]);
	if (w->hw.exec == NULL) {
		dp_log(DP_LOG_ERROR, "worker %u: crypto backend '%s' is not available here", w->id,
		       backends[cfg->accel <= CFG_ACCEL_IFMA ? cfg->accel : 0]);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct dp_listen *l = &w->listen[w->n_listen];
		const struct cfg_addr *a = &cfg->listeners[i].addr;

		l->kind = DP_KIND_LISTEN;
		l->ctx = &ctxs[i];
		l->fd = dp_listen_socket(a);
		if (l->fd < 0) {
			dp_log(DP_LOG_ERROR, "worker %u: listen on %s:%u: %s", w->id, a->host, a->port,
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

	while (!atomic_load_explicit(&dp_stop, memory_order_relaxed)) {
		int timeout = acc_exec_pending(w->hw.exec) > 0 || w->runnable != NULL ? 0 : DP_TIMER_MS;
		int n = epoll_wait(w->ep, evs, DP_EVENTS, timeout);

		w->now_ms = dp_now_ms();
		w->hw.now_s = w->now_ms / 1000;
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
				dp_conn_service(c);
			}
		}
		/* End of the iteration: run the batch, resume its owners. */
		if (acc_exec_pending(w->hw.exec) > 0)
			acc_exec_flush(w->hw.exec, dp_on_done, w);
		dp_run_completed(w);
		if (w->now_ms >= w->next_timer_ms) {
			dp_timers(w);
			w->next_timer_ms = w->now_ms + DP_TIMER_MS;
		}
	}
}

static void
dp_worker_teardown(struct dp_worker *w)
{
	/* Complete every job so that no connection is left pending. */
	while (w->hw.exec != NULL && acc_exec_pending(w->hw.exec) > 0)
		acc_exec_flush(w->hw.exec, dp_on_done, w);
	w->runnable = NULL;
	while (w->conns != NULL) {
		struct dp_conn *c = w->conns;

		if (c->fd >= 0)
			close(c->fd);
		dp_conn_release(c);
	}
	for (size_t i = 0; i < w->n_listen; i++)
		close(w->listen[i].fd);
	hsk_worker_release(&w->hw);
	if (w->hw.exec != NULL)
		acc_exec_stats(w->hw.exec, &w->acc);
	acc_exec_free(w->hw.exec);
	w->hw.exec = NULL;
	if (w->ep >= 0)
		close(w->ep);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
}

struct dp_start {
	struct dp_worker *w;
	struct hsk_ctx *ctxs;
	struct hsk_sess_cache *cache;
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
		dp_log(DP_LOG_WARN, "worker %u: cannot pin to CPU %d", w->id, w->cpu);
	w->now_ms = dp_now_ms();
	w->hw.now_s = w->now_ms / 1000;
	w->start_rc = dp_worker_setup(w, st->ctxs, st->cache);
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
		struct dp_worker *w = &ws[i];
		struct acc_stats as = w->acc;

		if (w->hw.exec != NULL)
			acc_exec_stats(w->hw.exec, &as); /* racy read of counters, for a log line */
		dp_log(DP_LOG_INFO,
		       "worker %u (cpu %d): accepted %llu, handshakes full %llu resumed %llu failed %llu, "
		       "requests %llu, timeouts %llu; crypto jobs %llu in %llu batches (%llu jobs in %llu "
		       "IFMA passes, %llu fault rechecks)",
		       w->id, w->cpu, (unsigned long long)w->stats.accepted,
		       (unsigned long long)__atomic_load_n(&w->hw.handshakes_full, __ATOMIC_RELAXED),
		       (unsigned long long)__atomic_load_n(&w->hw.handshakes_resumed, __ATOMIC_RELAXED),
		       (unsigned long long)__atomic_load_n(&w->hw.handshake_failures, __ATOMIC_RELAXED),
		       (unsigned long long)w->stats.requests, (unsigned long long)w->stats.timeouts,
		       (unsigned long long)as.jobs, (unsigned long long)as.batches,
		       (unsigned long long)as.lane_jobs, (unsigned long long)as.lane_passes,
		       (unsigned long long)as.fault_rechecks);
	}
}

int
dp_kernel_run(const struct cfg *cfg, struct hsk_ctx *ctxs, struct hsk_sess_cache *cache)
{
	unsigned n = cfg->n_cores ? (unsigned)cfg->n_cores : cfg->workers;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct dp_worker *ws = calloc(n, sizeof(*ws));
	struct dp_start *st = calloc(n, sizeof(*st));
	pthread_barrier_t ready;
	sigset_t sigs;
	int rc = 0, sig;

	if (ws == NULL || st == NULL) {
		free(ws);
		free(st);
		return -1;
	}
	memset(dp_body, 'x', sizeof(dp_body));
	/* Signals go to this thread only (sigwait below). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pthread_barrier_init(&ready, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		ws[i].id = i;
		ws[i].cfg = cfg;
		ws[i].ep = ws[i].wake_fd = -1;
		ws[i].cpu = cfg->n_cores ? cfg->cores[i] : (int)(i % (unsigned)(ncpu > 0 ? ncpu : 1));
		st[i] = (struct dp_start){ &ws[i], ctxs, cache, &ready };
		if (pthread_create(&ws[i].thread, NULL, dp_worker_main, &st[i]) != 0) {
			dp_log(DP_LOG_ERROR, "cannot start worker %u", i);
			abort();
		}
	}
	pthread_barrier_wait(&ready);
	for (unsigned i = 0; i < n; i++)
		if (ws[i].start_rc != 0)
			rc = -1;
	if (rc == 0) {
		for (size_t i = 0; i < cfg->n_listeners; i++)
			dp_log(DP_LOG_INFO, "listening on %s%s%s:%u (%zu certificate%s)",
			       cfg->listeners[i].addr.family == AF_INET6 ? "[" : "",
			       cfg->listeners[i].addr.host,
			       cfg->listeners[i].addr.family == AF_INET6 ? "]" : "",
			       cfg->listeners[i].addr.port, ctxs[i].n_certs, ctxs[i].n_certs == 1 ? "" : "s");
		dp_log(DP_LOG_INFO, "kernel dataplane: %u worker%s, crypto backend %s, respond mode (%zu-byte body)",
		       n, n == 1 ? "" : "s", acc_exec_backend(ws[0].hw.exec), cfg->response_size);
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
	pthread_barrier_destroy(&ready);
	free(st);
	free(ws);
	return rc;
}
