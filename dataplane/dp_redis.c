/* The session store in Redis, one async hiredis connection per worker on
 * the worker's epoll (dp_redis.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "dp_log.h"
#include "dp_redis.h"
#include "hsk_conn.h"

/* Lookups out at once per worker (beyond: failed at once); a power of 2.
 * Above the default max_handshakes, so only a store that stopped
 * answering fills it. */
#define DP_REDIS_SLOTS 4096u
/* Commands of every kind in flight: writes beyond it are dropped, so a
 * stalled Redis does not grow hiredis' output buffer without bound. */
#define DP_REDIS_INFLIGHT_MAX 8192u
#define DP_REDIS_BACKOFF_MIN_MS 100u
#define DP_REDIS_BACKOFF_MAX_MS 2000u
/* A lookup still unanswered this long after its deadline: the connection
 * is taken as dead (a Redis stopped, a peer gone without a reset) and
 * made again. */
#define DP_REDIS_STALE_MS 1000u

struct dp_redis_slot {
	struct hsk_store_lookup *l; /* NULL once completed (the reply may still come) */
	bool busy;                  /* a GET whose reply or drop is still to come */
};

struct dp_redis {
	uint8_t kind;               /* DP_KIND_STORE: the epoll tag */
	unsigned worker;
	int ep;
	const struct cfg_store *cfg;
	redisAsyncContext *ac;      /* NULL: not connected, retry at retry_ms */
	bool connected;
	bool was_up;                /* log a loss once, not every retry */
	int fd;                     /* registered in ep, or -1 */
	uint32_t events;            /* what is registered */
	uint64_t now_ms, retry_ms;
	uint64_t connect_ms;        /* when the connect in progress started */
	uint32_t backoff_ms;
	uint32_t inflight;
	/* GET slots in issue order: [head, tail) busy, deadlines increasing;
	 * scan: the first one whose deadline is still to check */
	uint32_t head, scan, tail;
	struct dp_redis_slot slots[DP_REDIS_SLOTS];
	uint64_t deadline[DP_REDIS_SLOTS];
	/* completed lookups, for dp_redis_complete */
	struct hsk_store_lookup *done_head, **done_tail;
	dp_redis_done_fn *done;
	void *done_arg;
	struct dp_redis_stats st;
};

/* ---- the event adapter: hiredis' hooks onto the worker's epoll ---- */

static void
dp_redis_set_events(struct dp_redis *r, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = r };
	int fd = r->ac != NULL ? r->ac->c.fd : -1;

	if (events == r->events && fd == r->fd)
		return;
	if (r->fd >= 0 && (events == 0 || fd != r->fd)) {
		(void)epoll_ctl(r->ep, EPOLL_CTL_DEL, r->fd, NULL);
		r->fd = -1;
		r->events = 0;
	}
	if (events == 0 || fd < 0)
		return;
	if (epoll_ctl(r->ep, r->fd < 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
		dp_log(DP_LOG_WARN, "worker %u: session store: epoll: %s", r->worker, strerror(errno));
		return;
	}
	r->fd = fd;
	r->events = events;
}

static void
dp_redis_add_read(void *p)
{
	struct dp_redis *r = p;

	dp_redis_set_events(r, r->events | EPOLLIN);
}

static void
dp_redis_del_read(void *p)
{
	struct dp_redis *r = p;

	dp_redis_set_events(r, r->events & ~(uint32_t)EPOLLIN);
}

static void
dp_redis_add_write(void *p)
{
	struct dp_redis *r = p;

	dp_redis_set_events(r, r->events | EPOLLOUT);
}

static void
dp_redis_del_write(void *p)
{
	struct dp_redis *r = p;

	dp_redis_set_events(r, r->events & ~(uint32_t)EPOLLOUT);
}

/* Called by hiredis before it closes the socket. */
static void
dp_redis_cleanup(void *p)
{
	struct dp_redis *r = p;

	if (r->fd >= 0)
		(void)epoll_ctl(r->ep, EPOLL_CTL_DEL, r->fd, NULL);
	r->fd = -1;
	r->events = 0;
}

void
dp_redis_event(void *tagged, uint32_t events)
{
	struct dp_redis *r = tagged;

	/* the read side first: it also sees a reset or the end of the stream */
	if (r->ac != NULL && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		redisAsyncHandleRead(r->ac);
	if (r->ac != NULL && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		redisAsyncHandleWrite(r->ac);
}

/* ---- lookups ---- */

static void
dp_redis_finish(struct dp_redis *r, struct hsk_store_lookup *l, uint8_t status)
{
	l->status = status;
	l->next = NULL;
	*r->done_tail = l;
	r->done_tail = &l->next;
}

/* Slots whose reply or drop came: out of the ring, oldest first. */
static void
dp_redis_pop(struct dp_redis *r)
{
	while (r->head != r->tail && !r->slots[r->head % DP_REDIS_SLOTS].busy)
		r->head++;
	if ((int32_t)(r->scan - r->head) < 0)
		r->scan = r->head;
}

static void
dp_redis_on_get(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct dp_redis *r = ac->data;
	struct dp_redis_slot *s = privdata;
	const redisReply *rep = reply;
	struct hsk_store_lookup *l = s->l;

	r->inflight--;
	s->busy = false;
	s->l = NULL;
	if (l != NULL) {
		/* GETRANGE answers an empty string for a missing key */
		if (rep != NULL && rep->type == REDIS_REPLY_STRING && rep->len > 0 && rep->len <= sizeof(l->val)) {
			memcpy(l->val, rep->str, rep->len);
			l->val_len = rep->len;
			r->st.hits++;
			dp_redis_finish(r, l, HSK_STORE_HIT);
		} else if (rep != NULL && (rep->type == REDIS_REPLY_NIL || rep->type == REDIS_REPLY_STRING)) {
			r->st.misses++; /* none, or not one of ours (too long) */
			dp_redis_finish(r, l, HSK_STORE_MISS);
		} else {
			r->st.errors++; /* an error reply, or the connection went */
			dp_redis_finish(r, l, HSK_STORE_FAILED);
		}
	}
	dp_redis_pop(r);
}

static void
dp_redis_get(void *arg, struct hsk_store_lookup *l)
{
	struct dp_redis *r = arg;
	struct dp_redis_slot *s = &r->slots[r->tail % DP_REDIS_SLOTS];
	/* GETRANGE, not GET: hiredis buffers a whole reply, and a value
	 * longer than any of ours (whoever else writes to the store) would
	 * be read in full. At most HSK_STORE_VAL_MAX + 1 bytes come back, one
	 * more than fits: too long, a miss. */
	char last[24];
	const char *argv[4] = { "GETRANGE", l->key, "0", last };
	size_t lens[4] = { 8, l->key_len, 1, 0 };

	lens[3] = (size_t)snprintf(last, sizeof(last), "%zu", sizeof(l->val));
	r->st.gets++;
	/* No connection (or a full ring): answered at once, so the handshake
	 * does not wait for a store that cannot answer. */
	if (!r->connected || r->inflight >= DP_REDIS_INFLIGHT_MAX || r->tail - r->head >= DP_REDIS_SLOTS ||
	    redisAsyncCommandArgv(r->ac, dp_redis_on_get, s, 4, argv, lens) != REDIS_OK) {
		r->st.down++;
		l->status = HSK_STORE_FAILED;
		return;
	}
	r->inflight++;
	s->busy = true;
	s->l = l;
	r->deadline[r->tail % DP_REDIS_SLOTS] = r->now_ms + r->cfg->timeout_ms;
	r->tail++;
}

/* Lookups past their deadline go on without the answer. */
static void
dp_redis_deadlines(struct dp_redis *r)
{
	while (r->scan != r->tail) {
		struct dp_redis_slot *s = &r->slots[r->scan % DP_REDIS_SLOTS];

		if (s->l != NULL) {
			if (r->deadline[r->scan % DP_REDIS_SLOTS] > r->now_ms)
				break;
			r->st.timeouts++;
			dp_redis_finish(r, s->l, HSK_STORE_FAILED);
			s->l = NULL;
		}
		r->scan++;
	}
}

void
dp_redis_complete(struct dp_redis *r)
{
	/* Deadlines against the iteration's start (dp_redis_tick), after its
	 * events: a reply that came in this iteration is taken, not failed. */
	dp_redis_deadlines(r);
	while (r->done_head != NULL) {
		struct hsk_store_lookup *l = r->done_head;

		r->done_head = l->next;
		if (r->done_head == NULL)
			r->done_tail = &r->done_head;
		l->next = NULL;
		r->done(l, r->done_arg);
	}
}

/* ---- writes: fire and forget ---- */

static void
dp_redis_on_write(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct dp_redis *r = ac->data;
	const redisReply *rep = reply;

	(void)privdata;
	r->inflight--;
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR && r->st.errors++ == 0)
		dp_log(DP_LOG_WARN, "worker %u: session store: %.*s", r->worker, (int)rep->len, rep->str);
}

static void
dp_redis_write(struct dp_redis *r, int argc, const char **argv, const size_t *lens)
{
	if (!r->connected || r->inflight >= DP_REDIS_INFLIGHT_MAX ||
	    redisAsyncCommandArgv(r->ac, dp_redis_on_write, NULL, argc, argv, lens) != REDIS_OK) {
		r->st.dropped++;
		return;
	}
	r->inflight++;
}

static void
dp_redis_put(void *arg, const char *key, size_t key_len, const uint8_t *val, size_t val_len, uint64_t ttl_ms)
{
	struct dp_redis *r = arg;
	char ttl[24];
	int n = snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)(ttl_ms ? ttl_ms : 1));
	const char *argv[5] = { "SET", key, (const char *)val, "PX", ttl };
	size_t lens[5] = { 3, key_len, val_len, 2, (size_t)n };

	r->st.sets++;
	dp_redis_write(r, 5, argv, lens);
}

static void
dp_redis_del(void *arg, const char *key, size_t key_len)
{
	struct dp_redis *r = arg;
	const char *argv[2] = { "DEL", key };
	size_t lens[2] = { 3, key_len };

	r->st.dels++;
	dp_redis_write(r, 2, argv, lens);
}

const struct hsk_store_ops dp_redis_ops = { dp_redis_get, dp_redis_put, dp_redis_del };

/* ---- the connection ---- */

/* The next connect after the backoff, which doubles up to its maximum. */
static void
dp_redis_retry_later(struct dp_redis *r)
{
	r->retry_ms = r->now_ms + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > DP_REDIS_BACKOFF_MAX_MS ? DP_REDIS_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

static void
dp_redis_lost(struct dp_redis *r, const char *why)
{
	if (r->was_up)
		dp_log(DP_LOG_WARN, "worker %u: session store: connection lost (%s); lookups go on as full "
		       "handshakes until it is back", r->worker, why);
	r->was_up = false;
	r->ac = NULL; /* hiredis frees it after this callback */
	r->connected = false;
	r->fd = -1;
	r->events = 0;
	dp_redis_retry_later(r);
}

static void
dp_redis_on_connect(const redisAsyncContext *ac, int status)
{
	struct dp_redis *r = ac->data;

	if (status != REDIS_OK) {
		dp_redis_lost(r, ac->errstr);
		return;
	}
	r->connected = true;
	r->was_up = true;
	r->backoff_ms = DP_REDIS_BACKOFF_MIN_MS;
	r->st.connects++;
	dp_log(DP_LOG_INFO, "worker %u: session store connected (%s:%u)", r->worker, r->cfg->addr.host,
	       r->cfg->addr.port);
}

static void
dp_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct dp_redis *r = ac->data;

	(void)status;
	r->st.disconnects++;
	dp_redis_lost(r, ac->errstr[0] ? ac->errstr : "closed");
}

/* A non-blocking connect (the address is numeric: no name lookup). The
 * database is selected first of all commands, which queue behind it. */
static void
dp_redis_connect(struct dp_redis *r)
{
	redisAsyncContext *ac = redisAsyncConnect(r->cfg->addr.host, r->cfg->addr.port);

	if (ac == NULL || ac->err) {
		if (ac != NULL)
			redisAsyncFree(ac);
		dp_redis_retry_later(r);
		return;
	}
	r->ac = ac;
	r->connect_ms = r->now_ms;
	ac->data = r;
	ac->ev.data = r;
	ac->ev.addRead = dp_redis_add_read;
	ac->ev.delRead = dp_redis_del_read;
	ac->ev.addWrite = dp_redis_add_write;
	ac->ev.delWrite = dp_redis_del_write;
	ac->ev.cleanup = dp_redis_cleanup;
	redisAsyncSetConnectCallback(ac, dp_redis_on_connect);
	redisAsyncSetDisconnectCallback(ac, dp_redis_on_disconnect);
	/* the connect completes on the first write event */
	dp_redis_add_write(r);
	if (r->cfg->db != 0) {
		char db[16];
		int n = snprintf(db, sizeof(db), "%u", r->cfg->db);
		const char *argv[2] = { "SELECT", db };
		size_t lens[2] = { 6, (size_t)n };

		if (redisAsyncCommandArgv(ac, dp_redis_on_write, NULL, 2, argv, lens) == REDIS_OK)
			r->inflight++;
	}
}

/* Give up a connection now: every reply still due comes back as a drop
 * (hiredis runs their callbacks with no reply). */
static void
dp_redis_drop(struct dp_redis *r, const char *why)
{
	redisAsyncContext *ac = r->ac;

	redisAsyncFree(ac);
	if (r->ac == ac) { /* not connected yet: no disconnect callback came */
		r->st.disconnects++;
		dp_redis_lost(r, why);
	}
}

void
dp_redis_tick(struct dp_redis *r, uint64_t now_ms)
{
	r->now_ms = now_ms;
	if (r->ac == NULL && now_ms >= r->retry_ms) {
		dp_redis_connect(r);
		return;
	}
	/* A connect or a reply this late is not coming (a Redis stopped, a
	 * peer gone without a reset): start again. */
	if (r->ac != NULL && !r->connected && now_ms - r->connect_ms > DP_REDIS_STALE_MS)
		dp_redis_drop(r, "connect timed out");
	else if (r->ac != NULL && r->head != r->tail &&
		 r->deadline[r->head % DP_REDIS_SLOTS] + DP_REDIS_STALE_MS < now_ms)
		dp_redis_drop(r, "no reply");
}

int
dp_redis_wait_ms(const struct dp_redis *r, uint64_t now_ms, int cap_ms)
{
	uint64_t next = UINT64_MAX;

	if (r->done_head != NULL)
		return 0;
	for (uint32_t i = r->scan; i != r->tail; i++)
		if (r->slots[i % DP_REDIS_SLOTS].l != NULL) {
			next = r->deadline[i % DP_REDIS_SLOTS];
			break;
		}
	if (r->ac == NULL && r->retry_ms < next)
		next = r->retry_ms;
	if (r->ac != NULL && !r->connected && r->connect_ms + DP_REDIS_STALE_MS + 1 < next)
		next = r->connect_ms + DP_REDIS_STALE_MS + 1;
	if (next == UINT64_MAX)
		return cap_ms;
	if (next <= now_ms)
		return 0;
	return next - now_ms < (uint64_t)cap_ms ? (int)(next - now_ms) : cap_ms;
}

struct dp_redis *
dp_redis_new(const struct cfg_store *cfg, unsigned worker, int ep, dp_redis_done_fn *done, void *done_arg,
	     uint64_t now_ms)
{
	struct dp_redis *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->kind = DP_KIND_STORE;
	r->worker = worker;
	r->ep = ep;
	r->cfg = cfg;
	r->fd = -1;
	r->done = done;
	r->done_arg = done_arg;
	r->done_tail = &r->done_head;
	r->backoff_ms = DP_REDIS_BACKOFF_MIN_MS;
	r->now_ms = now_ms;
	r->retry_ms = now_ms;
	dp_redis_connect(r);
	return r;
}

void
dp_redis_free(struct dp_redis *r)
{
	if (r == NULL)
		return;
	r->was_up = false; /* shutting down: no "connection lost" */
	if (r->ac != NULL)
		redisAsyncFree(r->ac); /* every GET still out comes back as a drop */
	r->ac = NULL;
	r->connected = false;
	/* and those only past their deadline in the ring: none is left out */
	for (uint32_t i = r->head; i != r->tail; i++) {
		struct dp_redis_slot *s = &r->slots[i % DP_REDIS_SLOTS];

		if (s->l != NULL)
			dp_redis_finish(r, s->l, HSK_STORE_FAILED);
		s->l = NULL;
	}
	dp_redis_complete(r);
	free(r);
}

void
dp_redis_stats(const struct dp_redis *r, struct dp_redis_stats *out)
{
	*out = r->st;
}

/* One line per worker for both dataplanes (kill -USR1; racy reads). */
void
dp_redis_log(unsigned worker, const struct hsk_worker *hw, const struct dp_redis_stats *st)
{
	dp_log(DP_LOG_INFO,
	       "worker %u: session store: lookups %llu resumed %llu missed %llu failed %llu (timeouts %llu, "
	       "errors %llu, down %llu); sets %llu dels %llu dropped %llu; connects %llu disconnects %llu",
	       worker, (unsigned long long)hw->store_lookups, (unsigned long long)hw->store_hits,
	       (unsigned long long)hw->store_misses, (unsigned long long)hw->store_failed,
	       (unsigned long long)st->timeouts, (unsigned long long)st->errors, (unsigned long long)st->down,
	       (unsigned long long)st->sets, (unsigned long long)st->dels, (unsigned long long)st->dropped,
	       (unsigned long long)st->connects, (unsigned long long)st->disconnects);
}
