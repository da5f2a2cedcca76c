/* The session store thread of the dpdk dataplane (--session-store): an
 * EAL control thread (a pthread on the cores the lcores leave, not an
 * lcore) with its own epoll, that runs the kernel
 * dataplane's Redis client (dp_redis.h) for the lcores: one asynchronous
 * hiredis connection per worker, as on the kernel dataplane (the same
 * code, the same counters, a worker's commands in its order on its own
 * connection), fed by that worker's rings (dp_sring.h). The lcores never
 * touch a socket of the store; the thread sleeps in epoll_wait until a
 * reply, a deadline, a reconnection or an lcore's doorbell. */
#ifndef DP_STHREAD_H
#define DP_STHREAD_H

#include "cfg.h"
#include "dp_sring.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp_sthread;
struct hsk_worker;

/* For n workers (not started). NULL on failure (logged). */
struct dp_sthread *dp_sthread_new(const struct cfg_store *cfg, unsigned n);
/* Worker i's rings and connection: now_ms its clock, done its completion
 * (dp_app_lookup_done); for hsk_worker.store_arg with dp_sring_ops.
 * NULL on failure. */
struct dp_sring *dp_sthread_ring(struct dp_sthread *t, unsigned i, const uint64_t *now_ms, dp_sring_done_fn *done,
				 void *done_arg);
/* Start the thread once every worker has its rings. 0 or -1 (logged). */
int dp_sthread_start(struct dp_sthread *t);
/* Once the lcores stopped polling: the thread stops and joins, its
 * connections close, and every lookup still out completes (done is
 * called here, for the answers that came and for the rest as failed).
 * The engines must not use the rings afterwards. Idempotent; NULL is a
 * no-op. */
void dp_sthread_stop(struct dp_sthread *t);
void dp_sthread_free(struct dp_sthread *t);

/* Worker i's session store log line (the kernel dataplane's, dp_redis_log). */
void dp_sthread_log(const struct dp_sthread *t, unsigned i, const struct hsk_worker *hw);

#ifdef __cplusplus
}
#endif
#endif
