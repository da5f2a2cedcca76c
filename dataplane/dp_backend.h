/* Proxy mode's backend pool on the kernel dataplane: the addresses, which
 * are up, how a new connection picks one (round robin or least
 * connections), and the active health checks (a TCP connect every
 * interval; rise successes in a row bring a backend up, fall failures in
 * a row take it down; a failed connect of a real connection counts as a
 * failure too).
 *
 * One pool per worker, share-nothing: each worker probes from its own
 * epoll and keeps its own up/down view, counters and connection counts.
 * No lock, no atomic on the fast path, and the worker that picks a
 * backend is the one that saw it fail. The price: workers x backends
 * probes per interval, and workers may disagree for up to one interval
 * (a control thread publishing an atomic bitmap would probe once, but
 * its view would lag the worker's own failed connects, and leastconn
 * still needs per-worker counts). */
#ifndef DP_BACKEND_H
#define DP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Epoll tags of the proxy's sockets (first byte of the object the event
 * points to); dp_kernel's own tags are 1..3. */
enum { DP_KIND_BACKEND = 4, DP_KIND_HEALTH = 5 };

struct dp_pool;
struct dp_proxy;

struct dp_backend {
	uint8_t kind;              /* DP_KIND_HEALTH: its check socket's tag */
	bool up;
	struct dp_pool *pool;
	struct sockaddr_storage sa;
	socklen_t sa_len;
	char name[CFG_HOST_MAX + 16]; /* "HOST:PORT" as configured */
	unsigned ok_run, fail_run; /* consecutive results */
	int check_fd;              /* a health check in flight, or -1 */
	uint64_t check_deadline_ms, next_check_ms;
	uint32_t active;           /* this worker's open connections to it */
};

struct dp_pool_stats {
	uint64_t proxied;          /* backend connections established */
	uint64_t bytes_up;         /* client -> backend (PROXY header included) */
	uint64_t bytes_down;       /* backend -> client */
	uint64_t connect_failures; /* refused, reset or timed out (real connections) */
	uint64_t connect_timeouts; /* of which timed out */
	uint64_t no_backend;       /* clients closed: no backend left to try */
	uint64_t marked_down, marked_up;
};

struct dp_pool {
	const struct cfg *cfg;
	unsigned worker;
	int ep;                    /* the worker's epoll */
	uint64_t now_ms;
	struct dp_backend be[CFG_MAX_BACKENDS];
	size_t n;
	size_t rr;                 /* where the next pick starts */
	bool retired;              /* replaced by a reload: no health checks, kept for its connections */
	struct dp_proxy *connecting; /* connects in flight (dp_proxy.c), for their timeout */
	struct dp_pool_stats stats;
};

/* The pool of cfg->backends for one worker (names resolved here, at
 * start); every backend starts up. NULL on failure (logged). */
struct dp_pool *dp_pool_new(const struct cfg *cfg, unsigned worker, int ep);
void dp_pool_free(struct dp_pool *p);

/* The backend for a new connection among those up and not in tried
 * (bit i = backend i), or -1. */
int dp_pool_pick(struct dp_pool *p, uint64_t tried);
/* A connect to backend i succeeded or failed (health check or real
 * connection): rise/fall bookkeeping, up/down logged. */
void dp_pool_result(struct dp_pool *p, size_t i, bool ok);
/* A non-blocking TCP connect to b (TCP_NODELAY): the socket, connected
 * or in progress; -1 when it failed at once. */
int dp_backend_connect(const struct dp_backend *b);

/* Time: start the health checks due, fail the overdue ones. */
void dp_pool_tick(struct dp_pool *p, uint64_t now_ms);
/* An epoll event on a health check socket. */
void dp_pool_check_event(struct dp_backend *b, uint32_t events);
/* Resolve cfg's backend names in place (the control thread, at a reload:
 * getaddrinfo may block, never on a worker). 0, or -1 with a message. */
int dp_backends_resolve(struct cfg *cfg, char *err, size_t errlen);
/* A reload replaced p: it keeps serving its connections, without health
 * checks. */
void dp_pool_retire(struct dp_pool *p);
/* A retired pool's counters into the pool that replaced it. */
void dp_pool_stats_add(struct dp_pool *to, const struct dp_pool *from);
/* How many backends this worker sees up. */
size_t dp_pool_up(const struct dp_pool *p);
/* Its counters into a log line. */
void dp_pool_log_stats(const struct dp_pool *p);

#ifdef __cplusplus
}
#endif
#endif
