/* The dpdk dataplane's session store thread (dp_sthread.h). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "dp_log.h"
#include "dp_redis.h"
#include "dp_sthread.h"

#define DP_STHREAD_EVENTS 32
/* The longest sleep with nothing due (stop and doorbell wake it sooner). */
#define DP_STHREAD_WAIT_MS 200
/* Requests taken from one worker's ring per pass: the others' get their turn. */
#define DP_STHREAD_BURST 64u

struct dp_sthread {
	const struct cfg_store *cfg;
	unsigned n;
	int ep;
	struct dp_sring_wake *wk;
	struct dp_sring **rings;
	struct dp_redis **redis;
	struct dp_redis_stats *kept;  /* the connections' counters once they are gone */
	pthread_t thread;
	bool started, stopped;
	atomic_bool stop;
};

static uint64_t
dp_sthread_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct dp_sthread *
dp_sthread_new(const struct cfg_store *cfg, unsigned n)
{
	struct dp_sthread *t = calloc(1, sizeof(*t));
	struct epoll_event ev = { .events = EPOLLIN };

	if (t == NULL)
		goto fail;
	t->cfg = cfg;
	t->n = n;
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	t->wk = dp_sring_wake_new();
	t->rings = calloc(n, sizeof(*t->rings));
	t->redis = calloc(n, sizeof(*t->redis));
	t->kept = calloc(n, sizeof(*t->kept));
	atomic_init(&t->stop, false);
	if (t->ep < 0 || t->wk == NULL || t->rings == NULL || t->redis == NULL || t->kept == NULL)
		goto fail;
	ev.data.ptr = t->wk; /* told from the connections (DP_KIND_STORE) by address */
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, dp_sring_wake_fd(t->wk), &ev) != 0)
		goto fail;
	return t;
fail:
	dp_log(DP_LOG_ERROR, "session store thread: %s", strerror(errno ? errno : ENOMEM));
	dp_sthread_free(t);
	return NULL;
}

struct dp_sring *
dp_sthread_ring(struct dp_sthread *t, unsigned i, const uint64_t *now_ms, dp_sring_done_fn *done, void *done_arg)
{
	struct dp_sring *s = dp_sring_new(i, t->cfg->timeout_ms, now_ms, t->wk, done, done_arg);

	if (s == NULL)
		return NULL;
	/* the connection starts now; only the thread touches it from its start */
	t->redis[i] = dp_redis_new(t->cfg, i, t->ep, dp_sring_answer, s, dp_sthread_now_ms());
	if (t->redis[i] == NULL) {
		dp_sring_free(s);
		return NULL;
	}
	dp_sring_attach(s, &dp_redis_ops, t->redis[i]);
	t->rings[i] = s;
	return s;
}

static void *
dp_sthread_main(void *arg)
{
	struct dp_sthread *t = arg;
	struct epoll_event evs[DP_STHREAD_EVENTS];

	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		uint64_t now = dp_sthread_now_ms();
		int wait = DP_STHREAD_WAIT_MS, n;

		for (unsigned i = 0; i < t->n; i++)
			dp_redis_tick(t->redis[i], now);
		for (unsigned i = 0; i < t->n; i++)
			(void)dp_sring_serve(t->rings[i], DP_STHREAD_BURST);
		for (unsigned i = 0; i < t->n; i++)
			wait = dp_redis_wait_ms(t->redis[i], now, wait);
		/* asleep only with no request waiting: an lcore rings from now on */
		if (wait > 0 && !dp_sring_wake_sleep(t->wk, t->rings, t->n))
			wait = 0;
		n = epoll_wait(t->ep, evs, DP_STHREAD_EVENTS, wait);
		dp_sring_wake_woke(t->wk);
		if (n < 0 && errno != EINTR)
			dp_log(DP_LOG_WARN, "session store thread: epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == t->wk)
				dp_sring_wake_drain(t->wk);
			else
				dp_redis_event(evs[i].data.ptr, evs[i].events);
		}
		/* replies and deadlines: the answers go to the lcores */
		for (unsigned i = 0; i < t->n; i++)
			dp_redis_complete(t->redis[i]);
	}
	return NULL;
}

/* An EAL control thread, not a plain pthread: one made from the main
 * lcore would inherit its affinity (EAL pins it to worker 0's core) and
 * share that core with a worker that never sleeps. A control thread runs
 * on the cores no lcore uses, or on the process' original cores when the
 * lcores took them all. */
int
dp_sthread_start(struct dp_sthread *t)
{
	int rc = rte_ctrl_thread_create(&t->thread, "tlso-store", NULL, dp_sthread_main, t);

	if (rc != 0) {
		dp_log(DP_LOG_ERROR, "session store thread: cannot start: %s", strerror(rc < 0 ? -rc : rc));
		return -1;
	}
	t->started = true;
	return 0;
}

void
dp_sthread_stop(struct dp_sthread *t)
{
	if (t == NULL || t->stopped)
		return;
	t->stopped = true;
	if (t->started) {
		atomic_store_explicit(&t->stop, true, memory_order_release);
		dp_sring_wake_poke(t->wk);
		pthread_join(t->thread, NULL);
	}
	/* each connection's lookups still out come back as failed answers */
	for (unsigned i = 0; t->redis != NULL && i < t->n; i++) {
		if (t->redis[i] == NULL)
			continue;
		dp_redis_stats(t->redis[i], &t->kept[i]);
		dp_redis_free(t->redis[i]);
		t->redis[i] = NULL;
	}
	/* and every lookup of the lcores completes, exactly once */
	for (unsigned i = 0; t->rings != NULL && i < t->n; i++)
		if (t->rings[i] != NULL)
			dp_sring_close(t->rings[i]);
}

void
dp_sthread_free(struct dp_sthread *t)
{
	if (t == NULL)
		return;
	dp_sthread_stop(t);
	for (unsigned i = 0; t->rings != NULL && i < t->n; i++)
		dp_sring_free(t->rings[i]);
	if (t->ep >= 0)
		close(t->ep);
	dp_sring_wake_free(t->wk);
	free(t->rings);
	free(t->redis);
	free(t->kept);
	free(t);
}

void
dp_sthread_log(const struct dp_sthread *t, unsigned i, const struct hsk_worker *hw)
{
	struct dp_redis_stats st = t->kept[i];
	struct dp_sring_stats r;

	if (t->rings[i] == NULL)
		return;
	if (t->redis[i] != NULL)
		dp_redis_stats(t->redis[i], &st);
	dp_sring_stats(t->rings[i], &r);
	/* what the lcore saw of the writes, and the lookups failed at once
	 * on either side of the rings, with the connection's own (events
	 * apart from the connection's: nothing is counted twice) */
	st.sets = r.puts;
	st.dels = r.dels;
	st.dropped += r.dropped;
	st.down += r.full + r.busy;
	dp_redis_log(i, hw, &st);
	/* The lcore's deadline and the thread's fire for the same lookup
	 * when Redis is slow: those go on a line of their own. */
	if (r.late != 0 || r.stale != 0 || r.lost != 0)
		dp_log(DP_LOG_INFO, "worker %u: session store rings: lookups failed at the lcore's deadline %llu, "
		       "answers after it %llu, answers lost (ring full) %llu", i, (unsigned long long)r.late,
		       (unsigned long long)r.stale, (unsigned long long)r.lost);
}
