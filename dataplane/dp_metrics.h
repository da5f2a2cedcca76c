/* Prometheus metrics (text exposition format 0.0.4) served on a control
 * thread with its own kernel socket (--metrics ADDR:PORT): never on a
 * worker, so a scrape costs the fast path nothing but the counters.
 *
 * Share nothing: each worker owns a struct dp_mx (cache-line aligned,
 * written by that worker only, with relaxed atomic stores of its own
 * loads: no lock, no read-modify-write). At scrape time the control
 * thread reads every worker's counters with relaxed atomic loads (its own
 * dp_mx and the counters that already existed: dp_app's, the engine's
 * hsk_worker's, the executor's acc_stats, the proxy pool's, the dpdk
 * loop's cycles) and sums them into a snapshot, then renders it. A scrape
 * may see one worker a few events ahead of another: counters only grow,
 * which is all Prometheus asks of them. */
#ifndef DP_METRICS_H
#define DP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acc_exec.h"
#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Handshake latency buckets (seconds, upper bounds; +Inf implied). */
#define DP_MX_BUCKETS 14
extern const double dp_mx_bucket_le[DP_MX_BUCKETS];
#define DP_MX_SUITES 48        /* rows of hsk_suite_all() counted */

/* The proxy pool's counters as a worker publishes them. */
enum dp_mx_px {
	DP_MX_PX_PROXIED,
	DP_MX_PX_BYTES_UP,
	DP_MX_PX_BYTES_DOWN,
	DP_MX_PX_CONNECT_FAILURES,
	DP_MX_PX_CONNECT_TIMEOUTS,
	DP_MX_PX_NO_BACKEND,
	DP_MX_PX_MARKED_DOWN,
	DP_MX_PX_MARKED_UP,
	DP_MX_PX_N
};
#ifndef __cplusplus
_Static_assert(CFG_MAX_BACKENDS <= 64, "px_up is a 64-bit mask");
#endif

/* One worker's own counters (those that did not exist before). */
struct dp_mx {
	/* handshakes completed, by hsk_suite_all() row (the suite names its
	 * version) and [0] full, [1] resumed */
	uint64_t hs[DP_MX_SUITES][2];
	/* handshakes that did not complete, after the client's first byte:
	 * by the alert we sent, [256]: without an alert of ours (the peer's
	 * alert, its close, a timeout) */
	uint64_t hs_fail[257];
	/* first byte of the ClientHello to the handshake's end: counts per
	 * bucket (not cumulative; [DP_MX_BUCKETS] is +Inf) and the sum */
	uint64_t lat[DP_MX_BUCKETS + 1];
	uint64_t lat_sum_ns;
	uint64_t bytes_in, bytes_out;  /* TLS bytes from and to clients */
	uint64_t alog_lines, alog_dropped; /* access log lines written, lost */
	/* kernel dataplane: time in epoll_wait and out of it */
	uint64_t idle_ns, busy_ns;
	/* proxy mode: the worker's pools as of its last poll iteration,
	 * copied by the worker (dp_mx_proxy_publish): a reload frees pools,
	 * so the control thread never reads one. Counters summed over the
	 * current pool and those a reload retired (they never go back);
	 * names and up flags are the current pool's. */
	uint64_t px_on;
	uint64_t px[DP_MX_PX_N];   /* enum dp_mx_px */
	uint64_t px_up;            /* bit i: backend i up */
	uint64_t px_n;             /* backends named in px_name */
	uint64_t px_seq;           /* odd while px_name is rewritten (after a reload) */
	char px_name[CFG_MAX_BACKENDS][CFG_HOST_MAX + 16];
} __attribute__((aligned(64)));

/* A single writer's increment: a relaxed store of its own load, which the
 * control thread's relaxed loads may read at any time (no lock prefix). */
static inline void
dp_mx_add(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* Another thread's counter. */
static inline uint64_t
dp_mx_read(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

struct dp_mx *dp_mx_new(void);
void dp_mx_free(struct dp_mx *m);
/* Count a completed handshake (suite: IANA code point) and its latency. */
void dp_mx_handshake(struct dp_mx *m, uint16_t suite, bool resumed, uint64_t ns);
/* Count a failed one: alert < 0 when we sent none. */
void dp_mx_handshake_failed(struct dp_mx *m, int alert);

struct dp_app;
struct dp_pool;

/* The worker, after each poll iteration in proxy mode: its pools' counters
 * and backends into its dp_mx. */
void dp_mx_proxy_publish(struct dp_app *a);

/* What the control thread reads of one worker. The pointers stay valid
 * from dp_metrics_start to dp_metrics_stop. busy/idle: the worker's loop
 * time in ticks (ticks_per_s; the dpdk loop's TSC cycles), or NULL to use
 * the dp_mx's nanoseconds. */
struct dp_mx_src {
	const struct dp_app *app;
	const uint64_t *busy, *idle;
	uint64_t ticks_per_s;
};

/* ---- the snapshot and its rendering (no threads, no sockets) ---- */

struct dp_mx_worker {
	double busy_s, idle_s;
	uint64_t busy_cycles, idle_cycles; /* dpdk only (cycles true) */
	bool cycles;
	uint64_t conns, handshaking;
};

struct dp_mx_backend {
	char name[CFG_HOST_MAX + 16];  /* "HOST:PORT" as configured */
	unsigned up_workers;           /* workers whose pool sees it up */
};

struct dp_mx_snap {
	const char *dataplane;         /* "kernel" or "dpdk" */
	unsigned n_workers;
	struct dp_mx_worker w[CFG_MAX_WORKERS];
	struct dp_mx sum;              /* every worker's dp_mx summed */
	struct acc_stats acc;
	uint64_t accepted, closed, timeouts, requests, refused_conns, refused_handshakes;
	uint64_t hs_too_large, renegotiations_cut, key_updates_cut;
	/* the session store shared by a fleet: lookups and how they ended */
	uint64_t store_lookups, store_hits, store_misses, store_failed;
	bool proxy;
	uint64_t proxied, bytes_up, bytes_down, connect_failures, connect_timeouts, no_backend;
	uint64_t marked_down, marked_up;
	size_t n_backends;
	struct dp_mx_backend be[CFG_MAX_BACKENDS];
};

/* Sum the workers' counters (relaxed loads) into s. */
void dp_mx_collect(struct dp_mx_snap *s, const struct dp_mx_src *src, unsigned n, const char *dataplane);

/* A growing text buffer; oom once an append failed or passed max. */
struct dp_mx_buf {
	char *p;
	size_t len, cap, max;
	bool oom;
};

void dp_mx_printf(struct dp_mx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* HELP and TYPE lines of a metric family. */
void dp_mx_family(struct dp_mx_buf *b, const char *name, const char *type, const char *help);
/* A label value with the exposition format's escapes (\\, \", \n). */
void dp_mx_label(struct dp_mx_buf *b, const char *v);
/* The whole exposition of s into b. */
void dp_mx_render(struct dp_mx_buf *b, const struct dp_mx_snap *s);

/* ---- the control thread ---- */

struct dp_metrics;

/* Bind cfg->metrics and start the control thread. NULL on failure
 * (logged). src[0..n) must stay valid until dp_metrics_stop. */
struct dp_metrics *dp_metrics_start(const struct cfg *cfg, const struct dp_mx_src *src, unsigned n,
				    const char *dataplane);
/* Stop the thread (at once), close its sockets. NULL is a no-op. */
void dp_metrics_stop(struct dp_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
