/* The session store seen from a DPDK lcore (hsk_store.h): the lcore never
 * does Redis socket I/O. Each worker has a pair of single-producer
 * single-consumer rings to the store thread (dp_sthread.h):
 *   - requests, lcore -> thread: GET (the lookup's slot number), SET and
 *     DEL with the key and value copied into the bounded message;
 *   - answers, thread -> lcore: the slot number, the status and a copy of
 *     the value, drained by the lcore once per poll iteration.
 * The thread never touches the lcore's memory: it runs each GET on a
 * lookup of its own (its proxy) and sends back a copy, so a lookup the
 * lcore gave up on may be answered late, and is then ignored.
 *
 * The lcore keeps its lookups in issue order with their deadlines (its own
 * clock; timeout_ms after the GET): one not answered by then fails (a full
 * handshake). Every lookup is completed exactly once, through the done
 * callback, from dp_sring_poll (or dp_sring_close at shutdown). A full
 * request ring or every slot out: the lookup fails at once (no wait), a
 * write is dropped; both counted.
 *
 * The store thread's doorbell (struct dp_sring_wake): the thread says it
 * goes to sleep, then looks at every request ring once more; an lcore
 * writes the eventfd only when it enqueued while the thread slept (one
 * fenced load per request otherwise). */
#ifndef DP_SRING_H
#define DP_SRING_H

#include <stdbool.h>
#include <stdint.h>

#include "hsk_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lookups out at once per worker, and each ring's size (it holds one
 * message less): a power of 2. */
#define DP_SRING_SLOTS 1024u

struct dp_sring;
struct dp_sring_wake;

typedef void dp_sring_done_fn(struct hsk_store_lookup *l, void *arg);

struct dp_sring_stats {
	/* the lcore's */
	uint64_t gets, puts, dels;
	uint64_t full;     /* lookups failed at once: request ring full or every slot out */
	uint64_t late;     /* lookups failed at the lcore's deadline: no answer in time */
	uint64_t stale;    /* answers that came after their lookup was completed */
	uint64_t dropped;  /* writes dropped: request ring full */
	/* the store thread's */
	uint64_t served;   /* requests taken off the ring */
	uint64_t lost;     /* answers dropped: answer ring full (their lookups fail late) */
	uint64_t busy;     /* lookups failed at once: every proxy of the thread out */
};

/* ---- the doorbell ---- */

/* With its eventfd (nonblocking); NULL on failure. */
struct dp_sring_wake *dp_sring_wake_new(void);
void dp_sring_wake_free(struct dp_sring_wake *wk);
int dp_sring_wake_fd(const struct dp_sring_wake *wk);
/* The thread, before its wait: true when it may sleep (no request in any
 * of rings[0..n); a producer rings from now on). false: work is there. */
bool dp_sring_wake_sleep(struct dp_sring_wake *wk, struct dp_sring *const *rings, unsigned n);
/* The thread, after its wait: awake (no producer needs to ring). */
void dp_sring_wake_woke(struct dp_sring_wake *wk);
/* The thread, when epoll said the eventfd is readable: consume it. */
void dp_sring_wake_drain(struct dp_sring_wake *wk);
/* Wake the thread whatever it does (to stop it). */
void dp_sring_wake_poke(struct dp_sring_wake *wk);
/* How many times producers wrote the eventfd (racy read, for tests). */
uint64_t dp_sring_wake_rings(const struct dp_sring_wake *wk);

/* ---- one worker's rings ---- */

/* now_ms: the lcore's clock (read at each GET and poll). done gets each
 * completed lookup on the lcore. NULL without memory. */
struct dp_sring *dp_sring_new(unsigned worker, uint32_t timeout_ms, const uint64_t *now_ms, struct dp_sring_wake *wk,
			      dp_sring_done_fn *done, void *done_arg);
void dp_sring_free(struct dp_sring *s);

/* The lcore's side. For hsk_worker.store / store_arg (arg: the dp_sring). */
extern const struct hsk_store_ops dp_sring_ops;
/* Once per poll iteration: answers in, deadlines; done for each. The
 * number of lookups completed. */
unsigned dp_sring_poll(struct dp_sring *s);
/* Shutdown, once the thread stopped: the answers that came, then every
 * lookup still out fails. */
void dp_sring_close(struct dp_sring *s);
/* Lookups out (the lcore's view). */
unsigned dp_sring_out(const struct dp_sring *s);

/* The store thread's side: its store (dp_redis_ops and its client). */
void dp_sring_attach(struct dp_sring *s, const struct hsk_store_ops *ops, void *arg);
/* Requests off the ring into the store (at most max); how many. */
unsigned dp_sring_serve(struct dp_sring *s, unsigned max);
/* The store's done callback (arg: the dp_sring): the answer to the lcore. */
void dp_sring_answer(struct hsk_store_lookup *l, void *arg);
/* No request waiting. */
bool dp_sring_idle(const struct dp_sring *s);

/* Racy reads of both sides' counters, for a log line. */
void dp_sring_stats(const struct dp_sring *s, struct dp_sring_stats *out);

#ifdef __cplusplus
}
#endif
#endif
