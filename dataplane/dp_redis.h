/* The session store in Redis for the kernel dataplane (hsk_store.h): one
 * asynchronous hiredis connection per worker, driven by the worker's own
 * epoll (an adapter of hiredis' addRead/delRead/addWrite/delWrite/cleanup
 * hooks), so that no Redis command ever blocks a worker:
 *   - SET key value PX lifetime after a full handshake, DEL on a fatal
 *     alert: fire and forget;
 *   - GET for a ClientHello whose session ID missed the local cache: the
 *     handshake waits as a pending job until the reply, or until the
 *     lookup's deadline (timeout_ms) passes, or the connection drops;
 *     then it goes on (resumed, or a full handshake, counted);
 *   - with no connection, lookups fail at once (no wait) and writes are
 *     dropped (counted); reconnection is a non-blocking connect retried
 *     with a doubling backoff (100 ms .. 2 s).
 * Completed lookups are queued and handed to the done callback from
 * dp_redis_complete(), at a point of the poll loop where the connections
 * may go on (never from inside hiredis' callbacks). */
#ifndef DP_REDIS_H
#define DP_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "hsk_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The epoll tag of the Redis socket (first byte of the object, like
 * DP_KIND_CONN, DP_KIND_BACKEND...). */
enum { DP_KIND_STORE = 6 };

struct dp_redis;

struct dp_redis_stats {
	uint64_t gets, hits, misses;
	uint64_t timeouts;         /* no reply before the deadline */
	uint64_t errors;           /* error replies, connection lost with the lookup out */
	uint64_t down;             /* lookups failed at once: no connection */
	uint64_t sets, dels;
	uint64_t dropped;          /* writes dropped: no connection, or too many in flight */
	uint64_t connects, disconnects;
};

typedef void dp_redis_done_fn(struct hsk_store_lookup *l, void *arg);

/* A worker's store client on epoll ep; starts connecting. done gets every
 * completed lookup (from dp_redis_complete). NULL without memory. */
struct dp_redis *dp_redis_new(const struct cfg_store *cfg, unsigned worker, int ep, dp_redis_done_fn *done,
			      void *done_arg, uint64_t now_ms);
/* Fails every lookup still out (done is called for each), closes. */
void dp_redis_free(struct dp_redis *r);

/* For hsk_worker.store / store_arg. */
extern const struct hsk_store_ops dp_redis_ops;

/* An epoll event on the Redis socket (its object is tagged DP_KIND_STORE). */
void dp_redis_event(void *tagged, uint32_t events);
/* Once per poll iteration, before its events: the clock, reconnection. */
void dp_redis_tick(struct dp_redis *r, uint64_t now_ms);
/* After the iteration's events: lookups past their deadline fail, and
 * every completed lookup goes to the done callback. */
void dp_redis_complete(struct dp_redis *r);
/* How long the poll may sleep before the next deadline or reconnection
 * (at most cap_ms; 0 when lookups completed wait for dp_redis_complete). */
int dp_redis_wait_ms(const struct dp_redis *r, uint64_t now_ms, int cap_ms);

void dp_redis_stats(const struct dp_redis *r, struct dp_redis_stats *out);

struct hsk_worker;
/* The session store's log line of a worker (both dataplanes): the
 * engine's lookups and how they ended, with the store's counters. */
void dp_redis_log(unsigned worker, const struct hsk_worker *hw, const struct dp_redis_stats *st);

#ifdef __cplusplus
}
#endif
#endif
