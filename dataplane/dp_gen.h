/* Reload (SIGHUP) and drain (SIGTERM) as the workers see them.
 *
 * A generation is what a reload replaces: the configuration it was built
 * from and the listeners' engine contexts (certificates, keys, policy),
 * and through its configuration the proxy's backends. It is refcounted
 * and immutable once published. The control thread builds a new one off
 * the fast path and publishes it with one atomic store (release); each
 * worker loads the pointer once per poll iteration (acquire) and, when it
 * changed, takes a reference for its new connections. Existing
 * connections keep the generation they started under (a handshake in
 * flight finishes with the old certificate), counted per worker in a
 * dp_hold without atomics; the worker drops its reference when the last
 * of them is gone. No lock anywhere, one atomic per reload per worker.
 *
 * The reference dropped last hands the generation to the control thread
 * (a lock-free list and an eventfd): contexts are freed there, once,
 * never on a worker's poll loop.
 *
 * The publisher keeps its own reference to a replaced generation until
 * every worker has acknowledged the new one (seen[]): a worker that read
 * the old pointer just before the swap still finds it alive when it takes
 * its reference. */
#ifndef DP_GEN_H
#define DP_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "hsk_ctx.h"

/* C11 atomics; the same objects as std::atomic for the C++ tests (the
 * same size and representation with GCC and Clang). */
#ifdef __cplusplus
#include <atomic>
#define DP_ATOMIC(T) std::atomic<T>
#else
#include <stdatomic.h>
#define DP_ATOMIC(T) _Atomic(T)
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct dp_app;
struct dp_pool;
struct hsk_tickets;

struct dp_gen {
	DP_ATOMIC(unsigned) refs;
	unsigned serial;           /* 1 at start, then one more per reload */
	struct cfg *cfg;           /* what it was built from */
	bool own_cfg;              /* a reload's: freed with the generation */
	size_t n;                  /* contexts: cfg->n_listeners */
	struct dp_gen *grave_next; /* on dp_gens.grave */
	struct hsk_ctx ctxs[CFG_MAX_LISTENERS];
};

/* What the control thread publishes to the workers. */
struct dp_gens {
	DP_ATOMIC(struct dp_gen *) cur;   /* new connections' generation */
	DP_ATOMIC(struct dp_gen *) grave; /* unreferenced: the control thread frees them */
	DP_ATOMIC(unsigned) seen[CFG_MAX_WORKERS]; /* serial each worker took (UINT32_MAX: it left) */
	DP_ATOMIC(unsigned) done;         /* workers out of their poll loop */
	DP_ATOMIC(bool) drain;            /* SIGTERM: stop accepting, finish what is in flight */
	DP_ATOMIC(bool) stop;             /* close everything now */
	uint32_t drain_timeout_ms;        /* set before drain */
	unsigned n_workers;
	int notify_fd;                    /* eventfd the control thread polls */
};

/* A worker's use of one generation. */
struct dp_hold {
	struct dp_gen *gen;
	struct dp_pool *pool;      /* proxy mode, kernel dataplane: its backends */
	size_t conns;              /* this worker's connections started under it */
	struct dp_hold *next;      /* dp_app.retired */
};

/* A generation from cfg (own_cfg: the generation frees it). Listener i
 * keeps prev's context id when prev has a listener i (same address: the
 * addresses do not reload), so that sessions and tickets issued before a
 * reload still resume after it. NULL with a message. */
struct dp_gen *dp_gen_new(struct cfg *cfg, bool own_cfg, struct hsk_tickets *tickets, const struct dp_gen *prev,
			  char *err, size_t errlen);
/* Free an unpublished (or unreferenced) generation. */
void dp_gen_free(struct dp_gen *g);

/* Control thread. first is published with the publisher's reference. */
int dp_gens_init(struct dp_gens *gs, struct dp_gen *first, unsigned n_workers);
/* Publish g; once every worker running has taken it (at most wait_ms), drop
 * the publisher's reference to the one it replaces. The caller wakes the
 * workers (wake) so that they look at once. */
void dp_gens_publish(struct dp_gens *gs, struct dp_gen *g, void (*wake)(void *), void *arg, uint32_t wait_ms);
/* Free the generations whose last reference is gone. */
void dp_gens_reap(struct dp_gens *gs);
/* After the workers: drop the current generation, reap, close. */
void dp_gens_fini(struct dp_gens *gs);
/* A worker tells the control thread (notify_fd). */
void dp_gens_notify(struct dp_gens *gs);

/* Workers (dp_app). Take the current generation: at setup. */
void dp_app_attach(struct dp_app *a, struct dp_gens *gs);
/* Once per poll iteration: a newer generation taken, drain started (the
 * dataplane closes its listeners when a->draining turns true). false when
 * the worker should leave its loop: stop, drain timed out, or drained
 * (no connection left). */
bool dp_app_control(struct dp_app *a);
/* The context of listener i for a new connection. */
const struct hsk_ctx *dp_app_ctx(const struct dp_app *a, size_t i);
/* Out of the loop: acknowledge (publish no longer waits for us). */
void dp_app_left(struct dp_app *a);
/* After teardown (no connection left): drop the current generation. */
void dp_app_detach(struct dp_app *a);
/* dp_conn: a connection of hold h was released. */
void dp_hold_conn_gone(struct dp_app *a, struct dp_hold *h);

#ifdef __cplusplus
}
#endif
#endif
