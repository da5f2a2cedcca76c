/* The session store between a DPDK lcore and the store thread: a ring
 * each way (dp_sring.h). */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_log.h"
#include "dp_sring.h"

#define DP_SRING_CACHE 64
/* Answers taken per dequeue (on the lcore's stack). */
#define DP_SRING_BURST 16u

enum dp_sring_op { DP_SRING_GET = 1, DP_SRING_PUT = 2, DP_SRING_DEL = 3 };

/* The messages are copied into the rings (elements of their size, a
 * multiple of 4 bytes): no allocation, no pointer into the lcore's
 * memory crosses. */
struct dp_sring_req {
	uint32_t seq;               /* GET: the lcore's slot number */
	uint8_t op;                 /* enum dp_sring_op */
	uint8_t pad;
	uint16_t key_len;
	uint16_t val_len;
	uint64_t ttl_ms;
	char key[HSK_STORE_KEY_MAX];
	uint8_t val[HSK_STORE_VAL_MAX];
} __attribute__((aligned(8)));

struct dp_sring_ans {
	uint32_t seq;
	uint8_t status;             /* enum hsk_store_status */
	uint16_t val_len;
	uint8_t val[HSK_STORE_VAL_MAX];
} __attribute__((aligned(4)));

_Static_assert(sizeof(struct dp_sring_req) % 4 == 0, "ring elements are multiples of 4 bytes");
_Static_assert(sizeof(struct dp_sring_ans) % 4 == 0, "ring elements are multiples of 4 bytes");
_Static_assert((DP_SRING_SLOTS & (DP_SRING_SLOTS - 1)) == 0, "a power of 2");
_Static_assert(DP_SRING_SLOTS <= UINT16_MAX + 1u, "proxy indexes are 16 bits");

struct dp_sring_wake {
	atomic_bool sleeping;
	atomic_uint_fast64_t rings;
	int fd;
};

struct dp_sring_slot {
	struct hsk_store_lookup *l;  /* NULL once completed */
	uint64_t deadline_ms;
};

struct dp_sring {
	struct rte_ring *req, *ans;  /* in the same allocation, after this struct's parts */
	struct dp_sring_wake *wk;
	unsigned worker;
	uint32_t timeout_ms;
	const uint64_t *now_ms;
	dp_sring_done_fn *done;
	void *done_arg;

	/* the lcore's: lookups in issue order, [head, tail) out or done
	 * but not yet passed by head; deadlines increasing */
	alignas(DP_SRING_CACHE) uint32_t head, tail;
	struct dp_sring_slot slots[DP_SRING_SLOTS];
	uint64_t gets, puts, dels, full, late, stale, dropped;

	/* the store thread's: proxy lookups run by its store */
	alignas(DP_SRING_CACHE) const struct hsk_store_ops *ops;
	void *arg;
	uint32_t n_free;
	uint16_t free_px[DP_SRING_SLOTS];
	uint64_t served, lost, busy;
	struct hsk_store_lookup px[DP_SRING_SLOTS];
};

/* ---- the doorbell ---- */

struct dp_sring_wake *
dp_sring_wake_new(void)
{
	struct dp_sring_wake *wk = calloc(1, sizeof(*wk));

	if (wk == NULL)
		return NULL;
	wk->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wk->fd < 0) {
		free(wk);
		return NULL;
	}
	atomic_init(&wk->sleeping, false);
	atomic_init(&wk->rings, 0);
	return wk;
}

void
dp_sring_wake_free(struct dp_sring_wake *wk)
{
	if (wk == NULL)
		return;
	close(wk->fd);
	free(wk);
}

int
dp_sring_wake_fd(const struct dp_sring_wake *wk)
{
	return wk->fd;
}

void
dp_sring_wake_poke(struct dp_sring_wake *wk)
{
	uint64_t one = 1;

	if (write(wk->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		dp_log(DP_LOG_WARN, "session store: eventfd: %s", strerror(errno));
}

/* The producer's half of the handshake (after its enqueue): the thread
 * either saw the request when it looked before sleeping, or said it
 * sleeps before that look, and then this load sees it (both sides fence
 * between their store and their load). One producer writes. */
static void
dp_sring_ring_bell(struct dp_sring_wake *wk)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&wk->sleeping, memory_order_relaxed) && atomic_exchange(&wk->sleeping, false)) {
		atomic_fetch_add_explicit(&wk->rings, 1, memory_order_relaxed);
		dp_sring_wake_poke(wk);
	}
}

bool
dp_sring_wake_sleep(struct dp_sring_wake *wk, struct dp_sring *const *rings, unsigned n)
{
	atomic_store(&wk->sleeping, true);
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < n; i++)
		if (rings[i] != NULL && !dp_sring_idle(rings[i])) {
			atomic_store(&wk->sleeping, false);
			return false;
		}
	return true;
}

void
dp_sring_wake_woke(struct dp_sring_wake *wk)
{
	atomic_store_explicit(&wk->sleeping, false, memory_order_relaxed);
}

void
dp_sring_wake_drain(struct dp_sring_wake *wk)
{
	uint64_t v;

	if (read(wk->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		dp_log(DP_LOG_WARN, "session store: eventfd: %s", strerror(errno));
}

uint64_t
dp_sring_wake_rings(const struct dp_sring_wake *wk)
{
	return atomic_load_explicit(&wk->rings, memory_order_relaxed);
}

/* ---- setup ---- */

static size_t
dp_sring_align(size_t n)
{
	return (n + DP_SRING_CACHE - 1) & ~(size_t)(DP_SRING_CACHE - 1);
}

/* Both rings live in the struct's allocation (ordinary memory: the rings
 * need no EAL memory, only rte_ring_init). Each holds DP_SRING_SLOTS - 1
 * messages (no RING_F_EXACT_SZ, which would double the memory). */
struct dp_sring *
dp_sring_new(unsigned worker, uint32_t timeout_ms, const uint64_t *now_ms, struct dp_sring_wake *wk,
	     dp_sring_done_fn *done, void *done_arg)
{
	ssize_t req_sz = rte_ring_get_memsize_elem(sizeof(struct dp_sring_req), DP_SRING_SLOTS);
	ssize_t ans_sz = rte_ring_get_memsize_elem(sizeof(struct dp_sring_ans), DP_SRING_SLOTS);
	size_t base = dp_sring_align(sizeof(struct dp_sring));
	struct dp_sring *s;
	char name[32];

	if (req_sz < 0 || ans_sz < 0)
		return NULL;
	s = aligned_alloc(DP_SRING_CACHE, base + dp_sring_align((size_t)req_sz) + dp_sring_align((size_t)ans_sz));
	if (s == NULL)
		return NULL;
	memset(s, 0, base);
	s->req = (struct rte_ring *)((uint8_t *)s + base);
	s->ans = (struct rte_ring *)((uint8_t *)s->req + dp_sring_align((size_t)req_sz));
	snprintf(name, sizeof(name), "tlso_sq%u", worker);
	if (rte_ring_init(s->req, name, DP_SRING_SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(s);
		return NULL;
	}
	snprintf(name, sizeof(name), "tlso_sa%u", worker);
	if (rte_ring_init(s->ans, name, DP_SRING_SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		free(s);
		return NULL;
	}
	s->wk = wk;
	s->worker = worker;
	s->timeout_ms = timeout_ms;
	s->now_ms = now_ms;
	s->done = done;
	s->done_arg = done_arg;
	s->n_free = DP_SRING_SLOTS;
	for (uint32_t i = 0; i < DP_SRING_SLOTS; i++)
		s->free_px[i] = (uint16_t)(DP_SRING_SLOTS - 1 - i);
	return s;
}

void
dp_sring_free(struct dp_sring *s)
{
	free(s);
}

void
dp_sring_attach(struct dp_sring *s, const struct hsk_store_ops *ops, void *arg)
{
	s->ops = ops;
	s->arg = arg;
}

/* ---- the lcore's side ---- */

static bool
dp_sring_send(struct dp_sring *s, const struct dp_sring_req *m)
{
	if (rte_ring_sp_enqueue_elem(s->req, (void *)m, sizeof(*m)) != 0)
		return false;
	dp_sring_ring_bell(s->wk);
	return true;
}

static void
dp_sring_get(void *arg, struct hsk_store_lookup *l)
{
	struct dp_sring *s = arg;
	struct dp_sring_req m;

	s->gets++;
	if (s->tail - s->head >= DP_SRING_SLOTS || l->key_len > sizeof(m.key)) {
		s->full++;
		l->status = HSK_STORE_FAILED;
		return;
	}
	m.seq = s->tail;
	m.op = DP_SRING_GET;
	m.key_len = (uint16_t)l->key_len;
	m.val_len = 0;
	m.ttl_ms = 0;
	memcpy(m.key, l->key, l->key_len);
	if (!dp_sring_send(s, &m)) {
		s->full++;
		l->status = HSK_STORE_FAILED; /* answered at once: no wait */
		return;
	}
	s->slots[s->tail % DP_SRING_SLOTS] = (struct dp_sring_slot){ l, *s->now_ms + s->timeout_ms };
	s->tail++;
}

static void
dp_sring_write(struct dp_sring *s, uint8_t op, const char *key, size_t key_len, const uint8_t *val,
	       size_t val_len, uint64_t ttl_ms)
{
	struct dp_sring_req m;

	if (key_len > sizeof(m.key) || val_len > sizeof(m.val)) {
		s->dropped++;
		return;
	}
	m.seq = 0;
	m.op = op;
	m.key_len = (uint16_t)key_len;
	m.val_len = (uint16_t)val_len;
	m.ttl_ms = ttl_ms;
	memcpy(m.key, key, key_len);
	if (val_len > 0)
		memcpy(m.val, val, val_len);
	if (!dp_sring_send(s, &m))
		s->dropped++;
}

static void
dp_sring_put(void *arg, const char *key, size_t key_len, const uint8_t *val, size_t val_len, uint64_t ttl_ms)
{
	struct dp_sring *s = arg;

	s->puts++;
	dp_sring_write(s, DP_SRING_PUT, key, key_len, val, val_len, ttl_ms);
}

static void
dp_sring_del(void *arg, const char *key, size_t key_len)
{
	struct dp_sring *s = arg;

	s->dels++;
	dp_sring_write(s, DP_SRING_DEL, key, key_len, NULL, 0, 0);
}

const struct hsk_store_ops dp_sring_ops = { dp_sring_get, dp_sring_put, dp_sring_del };

/* Slots completed at the front: out of the window. */
static void
dp_sring_pop(struct dp_sring *s)
{
	while (s->head != s->tail && s->slots[s->head % DP_SRING_SLOTS].l == NULL)
		s->head++;
}

/* An answer: its lookup when still out (within the window, not yet
 * completed), else stale. */
static struct hsk_store_lookup *
dp_sring_take(struct dp_sring *s, const struct dp_sring_ans *a)
{
	struct dp_sring_slot *sl = &s->slots[a->seq % DP_SRING_SLOTS];
	struct hsk_store_lookup *l;

	if (a->seq - s->head >= s->tail - s->head || sl->l == NULL) {
		s->stale++;
		return NULL;
	}
	l = sl->l;
	sl->l = NULL;
	if (a->status == HSK_STORE_HIT && a->val_len > 0 && a->val_len <= sizeof(l->val)) {
		memcpy(l->val, a->val, a->val_len);
		l->val_len = a->val_len;
		l->status = HSK_STORE_HIT;
	} else if (a->status == HSK_STORE_MISS) {
		l->status = HSK_STORE_MISS;
	} else {
		l->status = HSK_STORE_FAILED;
	}
	return l;
}

unsigned
dp_sring_poll(struct dp_sring *s)
{
	struct dp_sring_ans a[DP_SRING_BURST];
	unsigned n, done = 0;
	uint64_t now = *s->now_ms;

	/* the answers first: one that came before the deadline check is taken */
	do {
		n = rte_ring_sc_dequeue_burst_elem(s->ans, a, sizeof(a[0]), DP_SRING_BURST, NULL);
		for (unsigned i = 0; i < n; i++) {
			struct hsk_store_lookup *l = dp_sring_take(s, &a[i]);

			if (l != NULL) {
				done++;
				s->done(l, s->done_arg);
			}
		}
	} while (n == DP_SRING_BURST);
	dp_sring_pop(s);
	/* then the deadlines, in issue order */
	while (s->head != s->tail) {
		struct dp_sring_slot *sl = &s->slots[s->head % DP_SRING_SLOTS];

		if (sl->l != NULL) {
			struct hsk_store_lookup *l = sl->l;

			if (sl->deadline_ms > now)
				break;
			sl->l = NULL;
			s->late++;
			l->status = HSK_STORE_FAILED;
			done++;
			s->done(l, s->done_arg);
		}
		s->head++;
	}
	return done;
}

void
dp_sring_close(struct dp_sring *s)
{
	(void)dp_sring_poll(s);
	while (s->head != s->tail) {
		struct dp_sring_slot *sl = &s->slots[s->head % DP_SRING_SLOTS];
		struct hsk_store_lookup *l = sl->l;

		sl->l = NULL;
		s->head++;
		if (l != NULL) {
			l->status = HSK_STORE_FAILED;
			s->done(l, s->done_arg);
		}
	}
}

unsigned
dp_sring_out(const struct dp_sring *s)
{
	unsigned n = 0;

	for (uint32_t i = s->head; i != s->tail; i++)
		n += s->slots[i % DP_SRING_SLOTS].l != NULL;
	return n;
}

/* ---- the store thread's side ---- */

static void
dp_sring_reply(struct dp_sring *s, uint32_t seq, const struct hsk_store_lookup *l)
{
	struct dp_sring_ans a;

	a.seq = seq;
	a.status = l->status;
	a.val_len = 0;
	if (l->status == HSK_STORE_HIT && l->val_len <= sizeof(a.val)) {
		a.val_len = (uint16_t)l->val_len;
		memcpy(a.val, l->val, l->val_len);
	} else if (l->status == HSK_STORE_HIT) {
		a.status = HSK_STORE_MISS;
	}
	/* full: the lcore's deadline fails the lookup */
	if (rte_ring_sp_enqueue_elem(s->ans, &a, sizeof(a)) != 0)
		s->lost++;
}

void
dp_sring_answer(struct hsk_store_lookup *l, void *arg)
{
	struct dp_sring *s = arg;

	dp_sring_reply(s, l->gen, l);
	l->val_len = 0;
	s->free_px[s->n_free++] = (uint16_t)(l - s->px);
}

static void
dp_sring_serve_get(struct dp_sring *s, const struct dp_sring_req *m)
{
	struct hsk_store_lookup *l;

	if (s->n_free == 0 || m->key_len > sizeof(l->key)) {
		struct hsk_store_lookup none = { .status = HSK_STORE_FAILED };

		s->busy++;
		dp_sring_reply(s, m->seq, &none);
		return;
	}
	l = &s->px[s->free_px[--s->n_free]];
	l->owner = NULL;
	l->gen = m->seq;
	l->status = HSK_STORE_PENDING;
	l->val_len = 0;
	memcpy(l->key, m->key, m->key_len);
	l->key_len = m->key_len;
	s->ops->get(s->arg, l);
	if (l->status != HSK_STORE_PENDING) /* answered at once (no connection) */
		dp_sring_answer(l, s);
}

unsigned
dp_sring_serve(struct dp_sring *s, unsigned max)
{
	struct dp_sring_req m;
	unsigned n = 0;

	while (n < max && rte_ring_sc_dequeue_elem(s->req, &m, sizeof(m)) == 0) {
		n++;
		switch (m.op) {
		case DP_SRING_GET:
			dp_sring_serve_get(s, &m);
			break;
		case DP_SRING_PUT:
			s->ops->put(s->arg, m.key, m.key_len, m.val, m.val_len, m.ttl_ms);
			break;
		case DP_SRING_DEL:
			s->ops->del(s->arg, m.key, m.key_len);
			break;
		default:
			break;
		}
	}
	s->served += n;
	return n;
}

bool
dp_sring_idle(const struct dp_sring *s)
{
	return rte_ring_empty(s->req);
}

void
dp_sring_stats(const struct dp_sring *s, struct dp_sring_stats *out)
{
	*out = (struct dp_sring_stats){
		.gets = s->gets, .puts = s->puts, .dels = s->dels, .full = s->full, .late = s->late,
		.stale = s->stale, .dropped = s->dropped, .served = s->served, .lost = s->lost, .busy = s->busy,
	};
}
