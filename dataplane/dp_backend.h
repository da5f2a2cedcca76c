/* Proxy mode's backend pool: the addresses, which
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
 * still needs per-worker counts).
 *
 * How a worker reaches its backends is a small table of operations
 * (struct dp_be_ops): kernel sockets from its epoll (dp_be_sock.c) or the
 * userspace TCP's active opens (dp_ns.c). The relay (dp_proxy.c) and the
 * health checks here go through it only, so both dataplanes share them. */
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

/* Tags of the owners of backend connections (first byte of the object a
 * transport's event points to); dp_kernel's own tags are 1..3. */
enum { DP_KIND_BACKEND = 4, DP_KIND_HEALTH = 5 };

struct dp_pool;
struct dp_proxy;
struct dp_backend;
struct dp_io_ops;

/* One end of a backend connection, the first member of its owner (a
 * proxied connection, DP_KIND_BACKEND, or a backend's health check,
 * DP_KIND_HEALTH). */
struct dp_be_end {
	uint8_t kind;
	bool open;                 /* io is a live transport */
	bool connecting;           /* its connect is in flight */
	void *io;
};

/* What a transport tells an end (dp_be_notify). After DP_BE_FAILED and
 * DP_BE_GONE the transport has released io: the end must not close it. */
enum {
	DP_BE_CONNECTED = 1,       /* the connect completed */
	DP_BE_FAILED = 2,          /* the connect failed (refused, reset, unreachable) */
	DP_BE_READABLE = 4,        /* pulled transports: recv may have bytes */
	DP_BE_WRITABLE = 8,        /* send takes bytes again */
	DP_BE_EOF = 16,            /* pushed transports: the backend's FIN, after its bytes */
	DP_BE_GONE = 32,           /* reset, or closed both ways */
};

enum { DP_BE_REFUSED = -1, DP_BE_NO_ROOM = -2 };

/* A worker's way to its backends. */
struct dp_be_ops {
	/* send, recv (NULL: the transport pushes bytes with dp_be_push),
	 * close (dead: reset), room (optional: the end can take more). */
	const struct dp_io_ops *io;
	/* Start a connect to b for e: 0 with e->io set (completion comes
	 * as DP_BE_CONNECTED or DP_BE_FAILED), DP_BE_REFUSED when it failed
	 * at once, DP_BE_NO_ROOM when we lack the resources (a socket, a
	 * table slot, an ephemeral port): not the backend's fault. */
	int (*open)(void *arg, const struct dp_backend *b, struct dp_be_end *e);
	/* FIN after what was sent (shutdown(SHUT_WR)). */
	void (*shutdown_write)(void *io);
};

struct dp_backend {
	struct dp_be_end check;    /* DP_KIND_HEALTH: the health check in flight */
	bool up;
	struct dp_pool *pool;
	struct sockaddr_storage sa;
	socklen_t sa_len;
	char name[CFG_HOST_MAX + 16]; /* "HOST:PORT" as configured */
	unsigned ok_run, fail_run; /* consecutive results */
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
	uint64_t no_room;          /* clients closed: no socket, slot or port here */
	uint64_t marked_down, marked_up;
};

struct dp_pool {
	const struct cfg *cfg;
	unsigned worker;
	const struct dp_be_ops *ops; /* how this worker reaches them */
	void *ops_arg;
	uint64_t now_ms;
	struct dp_backend be[CFG_MAX_BACKENDS];
	size_t n;
	size_t rr;                 /* where the next pick starts */
	bool retired;              /* replaced by a reload: no health checks, kept for its connections */
	struct dp_proxy *connecting; /* connects in flight (dp_proxy.c), for their timeout */
	struct dp_pool_stats stats;
};

/* The pool of cfg->backends for one worker (names resolved here, at
 * start) reached through ops (ops_arg their first argument); every
 * backend starts up. NULL on failure (logged). */
struct dp_pool *dp_pool_new(const struct cfg *cfg, unsigned worker, const struct dp_be_ops *ops, void *ops_arg);
void dp_pool_free(struct dp_pool *p);

/* The backend for a new connection among those up and not in tried
 * (bit i = backend i), or -1. */
int dp_pool_pick(struct dp_pool *p, uint64_t tried);
/* A connect to backend i succeeded or failed (health check or real
 * connection): rise/fall bookkeeping, up/down logged. */
void dp_pool_result(struct dp_pool *p, size_t i, bool ok);
/* Start a connect of e to b through the pool's transport (e->connecting
 * while in flight): 0, DP_BE_REFUSED or DP_BE_NO_ROOM (ops->open). */
int dp_be_open(struct dp_pool *p, const struct dp_backend *b, struct dp_be_end *e);
/* Close e's transport if open (dead: a reset). */
void dp_be_close(struct dp_pool *p, struct dp_be_end *e, bool dead);

/* Time: start the health checks due, fail the overdue ones. */
void dp_pool_tick(struct dp_pool *p, uint64_t now_ms);
/* A transport's news for a health check (DP_BE_*). */
void dp_pool_check_notify(struct dp_backend *b, unsigned what);
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
