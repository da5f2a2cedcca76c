/* Generations of the reloadable state, and drain (dp_gen.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dp_backend.h"
#include "dp_conn.h"
#include "dp_ctxs.h"
#include "dp_gen.h"
#include "dp_log.h"

#define DP_GEN_LEFT UINT32_MAX

struct dp_gen *
dp_gen_new(struct cfg *cfg, bool own_cfg, struct hsk_tickets *tickets, const struct dp_gen *prev, char *err,
	   size_t errlen)
{
	struct dp_gen *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		snprintf(err, errlen, "no memory for a configuration generation");
		return NULL;
	}
	if (dp_ctxs_build(g->ctxs, cfg, tickets, err, errlen) != 0) {
		free(g);
		return NULL;
	}
	/* Sessions (cache entries and tickets) name their listener by its
	 * context id: a reloaded listener keeps it, or every client would
	 * fall back to a full handshake after each reload. The ticket keys
	 * and the session cache outlive reloads; a session resumed after a
	 * certificate change keeps its original authentication, as with
	 * nginx and OpenSSL's shared session caches. */
	for (size_t i = 0; prev != NULL && i < cfg->n_listeners && i < prev->n; i++)
		g->ctxs[i].id = prev->ctxs[i].id;
	atomic_init(&g->refs, 1);
	g->serial = prev != NULL ? prev->serial + 1 : 1;
	g->cfg = cfg;
	g->own_cfg = own_cfg;
	g->n = cfg->n_listeners;
	return g;
}

void
dp_gen_free(struct dp_gen *g)
{
	if (g == NULL)
		return;
	dp_ctxs_free(g->ctxs, g->n);
	if (g->own_cfg) {
		cfg_free(g->cfg);
		free(g->cfg);
	}
	free(g);
}

/* Drop one reference; the last one goes to the control thread. Any
 * thread. */
static void
dp_gen_put(struct dp_gens *gs, struct dp_gen *g)
{
	struct dp_gen *head;

	if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
		return;
	head = atomic_load_explicit(&gs->grave, memory_order_relaxed);
	do
		g->grave_next = head;
	while (!atomic_compare_exchange_weak_explicit(&gs->grave, &head, g, memory_order_release,
						      memory_order_relaxed));
	dp_gens_notify(gs);
}

/* ---- the control thread ---- */

int
dp_gens_init(struct dp_gens *gs, struct dp_gen *first, unsigned n_workers)
{
	memset(gs, 0, sizeof(*gs));
	gs->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (gs->notify_fd < 0)
		return -1;
	gs->n_workers = n_workers;
	atomic_init(&gs->cur, first);
	return 0;
}

void
dp_gens_notify(struct dp_gens *gs)
{
	uint64_t one = 1;

	if (gs->notify_fd >= 0 && write(gs->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		dp_log(DP_LOG_WARN, "cannot notify the control thread: %s", strerror(errno));
}

static bool
dp_gens_all_seen(struct dp_gens *gs, unsigned serial)
{
	for (unsigned i = 0; i < gs->n_workers; i++) {
		unsigned s = atomic_load_explicit(&gs->seen[i], memory_order_acquire);

		if (s != serial && s != DP_GEN_LEFT)
			return false;
	}
	return true;
}

void
dp_gens_publish(struct dp_gens *gs, struct dp_gen *g, void (*wake)(void *), void *arg, uint32_t wait_ms)
{
	struct dp_gen *old = atomic_exchange_explicit(&gs->cur, g, memory_order_acq_rel);
	struct timespec ms = { 0, 1000000 };
	uint32_t waited = 0;

	if (wake != NULL)
		wake(arg);
	while (!dp_gens_all_seen(gs, g->serial) && waited < wait_ms) {
		nanosleep(&ms, NULL);
		waited++;
	}
	if (!dp_gens_all_seen(gs, g->serial)) {
		/* A worker may still be about to take old: keeping it (a
		 * leak) is safe, freeing it would not be. */
		dp_log(DP_LOG_WARN, "reload: a worker did not take generation %u within %u ms; generation %u kept",
		       g->serial, wait_ms, old->serial);
		return;
	}
	dp_gen_put(gs, old);
}

void
dp_gens_reap(struct dp_gens *gs)
{
	struct dp_gen *g = atomic_exchange_explicit(&gs->grave, NULL, memory_order_acquire);
	uint64_t n;

	if (gs->notify_fd >= 0 && read(gs->notify_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		dp_log(DP_LOG_WARN, "control thread: eventfd: %s", strerror(errno));
	while (g != NULL) {
		struct dp_gen *next = g->grave_next;

		dp_log(DP_LOG_DEBUG, "generation %u freed", g->serial);
		dp_gen_free(g);
		g = next;
	}
}

void
dp_gens_fini(struct dp_gens *gs)
{
	struct dp_gen *g = atomic_exchange(&gs->cur, NULL);

	if (g != NULL)
		dp_gen_put(gs, g);
	dp_gens_reap(gs);
	if (gs->notify_fd >= 0)
		close(gs->notify_fd);
	gs->notify_fd = -1;
}

/* ---- workers ---- */

/* Release a retired hold: its pool (the counters go to the current one),
 * its reference. */
static void
dp_hold_release(struct dp_app *a, struct dp_hold *h)
{
	struct dp_hold **pp = &a->retired;

	while (*pp != NULL && *pp != h)
		pp = &(*pp)->next;
	if (*pp == h)
		*pp = h->next;
	if (h->pool != NULL) {
		if (a->hold != NULL && a->hold->pool != NULL && a->hold != h)
			dp_pool_stats_add(a->hold->pool, h->pool);
		dp_pool_free(h->pool);
	}
	dp_gen_put(a->gens, h->gen);
	free(h);
}

void
dp_hold_conn_gone(struct dp_app *a, struct dp_hold *h)
{
	if (h == NULL)
		return;
	h->conns--;
	if (h != a->hold && h->conns == 0)
		dp_hold_release(a, h);
}

/* The published generation, if it is not ours yet. */
static void
dp_app_take(struct dp_app *a)
{
	struct dp_gen *g = atomic_load_explicit(&a->gens->cur, memory_order_acquire);
	struct dp_hold *h, *old = a->hold;

	if (old != NULL && old->gen == g)
		return;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return; /* the next iteration tries again; the old one serves */
	/* Alive: the publisher holds it until we acknowledge below. */
	atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	h->gen = g;
	a->hold = h;
	a->cfg = g->cfg;
	atomic_store_explicit(&a->gens->seen[a->id], g->serial, memory_order_release);
	if (old != NULL) {
		dp_log(DP_LOG_DEBUG, "worker %u: generation %u (%zu connections stay on %u)", a->id, g->serial,
		       old->conns, old->gen->serial);
		if (old->pool != NULL)
			dp_pool_retire(old->pool);
		old->next = a->retired;
		a->retired = old;
		if (old->conns == 0)
			dp_hold_release(a, old);
	}
}

void
dp_app_attach(struct dp_app *a, struct dp_gens *gs)
{
	a->gens = gs;
	dp_app_take(a);
}

const struct hsk_ctx *
dp_app_ctx(const struct dp_app *a, size_t i)
{
	return &a->hold->gen->ctxs[i];
}

bool
dp_app_control(struct dp_app *a)
{
	struct dp_gens *gs = a->gens;

	if (gs == NULL)
		return true;
	if (atomic_load_explicit(&gs->stop, memory_order_relaxed))
		return false;
	if (!a->draining) {
		dp_app_take(a);
		if (atomic_load_explicit(&gs->drain, memory_order_acquire)) {
			a->draining = true;
			a->drain_until_ms = a->now_ms + gs->drain_timeout_ms;
			dp_app_drain_start(a);
		}
	}
	if (!a->draining)
		return true;
	return a->n_conns > 0 && a->now_ms < a->drain_until_ms;
}

void
dp_app_left(struct dp_app *a)
{
	if (a->gens == NULL)
		return;
	atomic_store_explicit(&a->gens->seen[a->id], DP_GEN_LEFT, memory_order_release);
	atomic_fetch_add_explicit(&a->gens->done, 1, memory_order_release);
	dp_gens_notify(a->gens);
}

void
dp_app_detach(struct dp_app *a)
{
	struct dp_hold *h = a->hold;

	if (h == NULL)
		return;
	a->hold = NULL;
	h->next = a->retired;
	a->retired = h;
	if (h->conns == 0)
		dp_hold_release(a, h);
}
