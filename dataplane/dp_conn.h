/* Respond mode over any byte stream: one TLS engine instance, the HTTP
 * request parser and the response being written, per connection; and a
 * worker's set of them (struct dp_app) with its executor, its completion
 * list and its timeouts. Both dataplanes use it: the kernel one over
 * non-blocking sockets, the dpdk one over the userspace TCP. The
 * transport is a small table of operations, so nothing here knows which.
 *
 * Input either comes pulled (ops->recv, a socket: dp_conn_service reads
 * while c->readable) or pushed (dp_conn_push, the userspace TCP handing
 * over in-order bytes). Output goes through ops->send until it takes no
 * more; the transport says when it can take more again (c->writable and
 * dp_conn_service). One thread per dp_app; no locks. */
#ifndef DP_CONN_H
#define DP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "acc_exec.h"
#include "cfg.h"
#include "dp_http.h"
#include "hsk_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { DP_IO_AGAIN = -2, DP_IO_ERROR = -1 };

struct dp_io_ops {
	/* Bytes taken (0: no room now); DP_IO_ERROR: the transport is gone. */
	ssize_t (*send)(void *io, const uint8_t *p, size_t n);
	/* Bytes read; 0 at the end of the stream; DP_IO_AGAIN: nothing now.
	 * NULL for transports that push (dp_conn_push). */
	ssize_t (*recv)(void *io, uint8_t *buf, size_t cap);
	/* Close the transport after what was sent (or at once when dead). */
	void (*close)(void *io, bool dead);
	/* Optional: the engine may take more input now (a window update). */
	void (*room)(void *io);
};

struct dp_alog;
struct dp_app;
struct dp_gens;
struct dp_hold;
struct dp_mx;
struct dp_pool;
struct dp_proxy;

/* Why a connection ended (the access log's close field); the first
 * cause seen wins. */
enum dp_end {
	DP_END_CLOSED = 0,         /* we closed it (Connection: close, the proxy's end) */
	DP_END_ALERT,              /* we sent a fatal alert (dp_conn.alert) */
	DP_END_PEER_ALERT,         /* the client sent one */
	DP_END_CLOSE_NOTIFY,       /* close_notify */
	DP_END_EOF,                /* the client's FIN without close_notify */
	DP_END_RESET,              /* the transport failed or was reset */
	DP_END_HS_TIMEOUT,
	DP_END_IDLE_TIMEOUT,
	DP_END_SHUTDOWN,           /* the server stopped */
};

struct dp_conn {
	uint8_t kind;          /* the dataplane's event tag (first byte) */
	bool readable;         /* ops->recv may have bytes */
	bool writable;         /* ops->send may take bytes */
	bool rdhup;            /* the peer's FIN was signalled: read to the end */
	bool need_recv;        /* the engine has bytes (or room) to process */
	bool closing;          /* close once the output is sent */
	bool dead;             /* transport gone; freed when no job is pending */
	bool close_after;      /* the current response ends the connection */
	bool handshaking;      /* counted in dp_app.n_handshaking */
	bool eof;              /* ops->recv returned the end of the stream */
	bool release_queued;   /* proxied and dead: released at the end of the iteration */
	const struct dp_io_ops *ops;
	void *io;
	struct dp_conn *prev, *next;
	struct dp_conn *reap_next; /* on dp_app.reap */
	struct dp_app *app;
	struct hsk_conn *tls;
	struct dp_proxy *proxy;    /* proxy mode (dp_proxy.h), or NULL: respond mode */
	struct dp_hold *hold;      /* the generation it started under (dp_gen.h), or NULL */
	uint64_t started_ms, active_ms;
	/* metrics and the access log */
	bool hs_done;              /* the handshake's end was counted */
	uint8_t end;               /* enum dp_end */
	uint8_t alert;             /* DP_END_ALERT, DP_END_PEER_ALERT: its description */
	uint64_t first_ns;         /* CLOCK_MONOTONIC at the first byte from the client; 0: none yet */
	uint64_t hs_ns;            /* first byte to the handshake's end */
	uint64_t bytes_in, bytes_out; /* TLS bytes from and to the client */
	struct sockaddr_storage peer; /* the client's address (family 0: unknown) */
	size_t head_len, head_off;
	uint64_t body_left;
	char head[256];
	struct dp_http http;
};

struct dp_app_stats {
	uint64_t accepted, closed, timeouts, requests;
	/* connections reset at accept: at max_conns, at max_handshakes */
	uint64_t refused_conns, refused_handshakes;
};

/* One worker's connections. */
struct dp_app {
	unsigned id;
	const struct cfg *cfg;
	struct hsk_worker hw;
	struct dp_conn *conns;
	struct dp_pool *pool;      /* proxy mode: this worker's backends (dp_backend.h) */
	struct dp_conn *reap;      /* proxied connections released after this iteration */
	size_t n_conns;
	size_t n_handshaking;      /* connections not yet established */
	uint64_t now_ms, next_timer_ms;
	uint64_t now_us;           /* the iteration's clock, for the bounded flush delay */
	struct dp_app_stats stats;
	uint64_t trimmed_at;       /* stats.closed at the last malloc_trim */
	bool ocsp_expiry_logged;   /* hw.ocsp_expired seen and logged once */
	struct acc_stats acc;      /* the executor's counters, kept at teardown */
	/* reload and drain (dp_gen.h) */
	struct dp_gens *gens;      /* what the control thread publishes, or NULL */
	struct dp_hold *hold;      /* the generation new connections take */
	struct dp_hold *retired;   /* older ones, while connections use them */
	bool draining;             /* stop accepting; finish what is in flight */
	uint64_t drain_until_ms;
	struct dp_mx *mx;          /* this worker's metrics counters (dp_metrics.h) */
	const struct dp_pool *mx_pool; /* the pool whose names mx holds */
	struct dp_alog *alog;      /* the access log, or NULL (dp_alog.h) */
};

/* Create the executor of the configured backend. 0, or -1 (logged). */
int dp_app_init(struct dp_app *a, unsigned id, const struct cfg *cfg, struct hsk_sess_cache *cache);
/* Complete every job, release every connection (closing transports
 * dead), free the executor. */
void dp_app_teardown(struct dp_app *a);
/* The clock of this iteration (milliseconds, monotonic). */
void dp_app_tick(struct dp_app *a, uint64_t now_ms);
/* The same in microseconds (also sets now_ms): the dataplanes' poll loops
 * use it, as the bounded flush delay counts microseconds. */
void dp_app_tick_us(struct dp_app *a, uint64_t now_us);
/* Whether the next poll must not sleep (jobs queued and not held). */
bool dp_app_busy(const struct dp_app *a);
/* When the jobs held by the bounded flush delay must run (the dataplane's
 * microsecond clock): the poll must wake by then. UINT64_MAX: none held. */
uint64_t dp_app_deadline_us(const struct dp_app *a);
/* End of the poll iteration: run the crypto jobs, each owner going on
 * (its flight sent) as soon as its batch is done, and every
 * DP_APP_TIMER_MS the handshake and idle timeouts. */
void dp_app_flush(struct dp_app *a);
/* A session store lookup is back (hsk_store.h): the handshake goes on,
 * or the connection, closed meanwhile, goes. For dp_redis_new's done. */
struct hsk_store_lookup;
void dp_app_lookup_done(struct hsk_store_lookup *l, void *arg);
/* Its counters into a log line. */
void dp_app_log_stats(const struct dp_app *a, int cpu);
/* The process's heap in use (glibc mallinfo2), a log line. */
void dp_log_heap(void);

/* Drain begins: respond-mode connections idle between requests close
 * (close_notify); responses from now on end their connection. */
void dp_app_drain_start(struct dp_app *a);

/* Whether a new connection may come in under the configured limits
 * (max_conns, max_handshakes); a refusal is counted, and the caller
 * resets its transport. */
bool dp_app_admit(struct dp_app *a);

/* A new connection over (ops, io); NULL without memory (the caller
 * closes its transport). */
struct dp_conn *dp_conn_new(struct dp_app *a, const struct hsk_ctx *ctx, const struct dp_io_ops *ops, void *io);
/* Move bytes until nothing moves. false when c was freed. */
bool dp_conn_service(struct dp_conn *c);
/* Pushed input: returns how many bytes the engine took (it takes none
 * while a crypto job is pending or the connection is closing). */
size_t dp_conn_push(struct dp_conn *c, const uint8_t *p, size_t len);
/* What dp_conn_push would take now. */
size_t dp_conn_room(struct dp_conn *c);
/* The peer ended its stream (pushed transports). false when c was freed. */
bool dp_conn_eof(struct dp_conn *c);
/* The transport went away under the connection (reset, timeout). */
void dp_conn_gone(struct dp_conn *c);
/* The client's address, for the access log. */
void dp_conn_set_peer(struct dp_conn *c, const struct sockaddr *sa, socklen_t len);
/* Monotonic nanoseconds (the handshake latency's clock). */
uint64_t dp_conn_now_ns(void);

#ifdef __cplusplus
}
#endif
#endif
