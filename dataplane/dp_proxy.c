/* Proxy mode: the per-connection relay (dp_proxy.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dp_backend.h"
#include "dp_conn.h"
#include "dp_log.h"
#include "dp_pp2.h"
#include "dp_proxy.h"

/* Each direction's buffer: one TLS record's worth of plaintext, so one
 * read from the backend fills one record, and the PROXY header fits. */
#define DP_PROXY_BUF 16384
_Static_assert(DP_PROXY_BUF >= DP_PP2_MAX, "the PROXY header must fit the up buffer");

enum dp_px_state {
	DP_PX_HANDSHAKE = 0, /* TLS not established yet */
	DP_PX_CONNECTING,    /* connect to p->backend in flight */
	DP_PX_OPEN,          /* relaying */
	DP_PX_FAILED,        /* no backend, or it reset: the client is being closed */
};

struct dp_proxy {
	struct dp_be_end be; /* DP_KIND_BACKEND: the backend connection (first member) */
	uint8_t state;       /* enum dp_px_state */
	bool be_readable;    /* pulled: the backend may have bytes (edge seen, not drained) */
	bool be_writable;
	bool be_eof;         /* the backend's FIN was read */
	bool be_shut;        /* we sent shutdown(SHUT_WR) to the backend */
	bool sent_close;     /* we queued close_notify to the client */
	bool pushing;        /* inside dp_be_push */
	int backend;         /* index in the pool while be is open, or -1 */
	int last_backend;    /* the last one connected to (the access log), or -1 */
	uint64_t tried;      /* backends tried for this connection (bit i) */
	uint64_t deadline_ms; /* connect timeout */
	struct dp_conn *c;
	struct dp_pool *pool;
	const struct hsk_ctx *ctx;
	struct dp_proxy *cprev, *cnext; /* pool->connecting */
	struct sockaddr_storage client, local;
	size_t up_off, up_len;     /* up[up_off..up_len): for the backend */
	size_t down_off, down_len; /* down[down_off..down_len): for the engine */
	uint8_t up[DP_PROXY_BUF];
	uint8_t down[DP_PROXY_BUF];
};

int
dp_proxy_attach(struct dp_conn *c, const struct sockaddr_storage *client, const struct sockaddr_storage *local,
		const struct hsk_ctx *ctx, struct dp_pool *pool)
{
	struct dp_proxy *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	p->be.kind = DP_KIND_BACKEND;
	p->backend = -1;
	p->last_backend = -1;
	p->c = c;
	p->pool = pool;
	p->ctx = ctx;
	/* For the PROXY header; unknown (family 0): the header is not
	 * sent (logged when it would be). */
	p->client = *client;
	p->local = *local;
	hsk_conn_set_half_close(c->tls);
	c->proxy = p;
	return 0;
}

static void
dp_proxy_unlink(struct dp_proxy *p)
{
	if (p->cprev != NULL)
		p->cprev->cnext = p->cnext;
	else if (p->pool->connecting == p)
		p->pool->connecting = p->cnext;
	if (p->cnext != NULL)
		p->cnext->cprev = p->cprev;
	p->cprev = p->cnext = NULL;
}

/* dead: a reset (the connection is abandoned), else a FIN after what
 * was sent. */
static void
dp_proxy_backend_close(struct dp_proxy *p, bool dead)
{
	if (p->state == DP_PX_CONNECTING)
		dp_proxy_unlink(p);
	dp_be_close(p->pool, &p->be, dead);
	if (p->backend >= 0)
		p->pool->be[p->backend].active--;
	p->backend = -1;
}

void
dp_proxy_free(struct dp_proxy *p)
{
	if (p == NULL)
		return;
	/* both directions done: a graceful end; else a reset */
	dp_proxy_backend_close(p, !(p->be_shut && p->be_eof));
	free(p);
}

/* Give up on the backend side: close the client after what the engine
 * already holds, without close_notify (the client sees a truncation). */
static void
dp_proxy_abort(struct dp_proxy *p)
{
	dp_proxy_backend_close(p, true);
	p->state = DP_PX_FAILED;
	p->c->closing = true;
}

/* Connect to the next backend the pool offers; none left: abort. */
static void
dp_proxy_connect(struct dp_proxy *p)
{
	struct dp_pool *pool = p->pool;

	for (;;) {
		int i = dp_pool_pick(pool, p->tried), rc;

		if (i < 0) {
			pool->stats.no_backend++;
			dp_proxy_abort(p);
			return;
		}
		p->tried |= 1ull << i;
		rc = dp_be_open(pool, &pool->be[i], &p->be);
		if (rc == DP_BE_NO_ROOM) {
			/* ours, not the backend's: no verdict, and no point in
			 * another backend */
			pool->stats.no_room++;
			dp_proxy_abort(p);
			return;
		}
		if (rc != 0) {
			pool->stats.connect_failures++;
			dp_pool_result(pool, (size_t)i, false);
			continue;
		}
		p->backend = i;
		pool->be[i].active++;
		p->state = DP_PX_CONNECTING;
		p->deadline_ms = pool->now_ms + pool->cfg->proxy.connect_timeout_ms;
		p->cnext = pool->connecting;
		if (pool->connecting != NULL)
			pool->connecting->cprev = p;
		pool->connecting = p;
		return;
	}
}

/* The connect failed (refused, reset, timed out): count it against the
 * backend and try another; nothing was sent yet, so nothing is lost. */
static void
dp_proxy_connect_failed(struct dp_proxy *p)
{
	size_t i = (size_t)p->backend;

	p->pool->stats.connect_failures++;
	dp_proxy_backend_close(p, true);
	dp_pool_result(p->pool, i, false);
	dp_proxy_connect(p);
}

static void
dp_proxy_connected(struct dp_proxy *p)
{
	p->be.connecting = false;
	dp_proxy_unlink(p);
	p->state = DP_PX_OPEN;
	p->be_writable = true;
	p->be_readable = true; /* read once: the first edge may predate OPEN */
	p->pool->stats.proxied++;
	p->last_backend = p->backend;
	dp_pool_result(p->pool, (size_t)p->backend, true);
}

const char *
dp_proxy_backend(const struct dp_proxy *p)
{
	return p->last_backend >= 0 ? p->pool->be[p->last_backend].name : NULL;
}

/* The handshake is done: the PROXY header (if configured) goes first in
 * up[], then the first backend connect. */
static void
dp_proxy_start(struct dp_proxy *p)
{
	if (p->pool->cfg->proxy.proxy_protocol == CFG_PROXY_PROTOCOL_V2) {
		struct dp_pp2_tls tls;

		dp_pp2_tls_describe(p->ctx, p->c->tls, &tls);
		p->up_len = dp_pp2_header(p->up, sizeof(p->up), (const struct sockaddr *)&p->client,
					  (const struct sockaddr *)&p->local, &tls);
		if (p->up_len == 0) {
			dp_log(DP_LOG_WARN, "worker %u: no PROXY header for this client (address unknown)",
			       p->pool->worker);
			p->state = DP_PX_FAILED;
			p->c->closing = true;
			return;
		}
	}
	dp_proxy_connect(p);
}

/* Make room at the end of a buffer: drop what was consumed. */
static void
dp_proxy_compact(uint8_t *buf, size_t *off, size_t *len)
{
	if (*off == 0)
		return;
	memmove(buf, buf + *off, *len - *off);
	*len -= *off;
	*off = 0;
}

/* Decrypted client bytes -> up[]. */
static bool
dp_proxy_up_fill(struct dp_proxy *p)
{
	struct dp_conn *c = p->c;
	bool progress = false;

	dp_proxy_compact(p->up, &p->up_off, &p->up_len);
	while (p->up_len < sizeof(p->up) && hsk_conn_app_pending(c->tls) > 0) {
		size_t n = hsk_conn_app_read(c->tls, p->up + p->up_len, sizeof(p->up) - p->up_len);

		if (n == 0)
			break;
		p->up_len += n;
		progress = true;
		if (hsk_conn_app_pending(c->tls) == 0)
			c->need_recv = true; /* the engine stopped at this record */
	}
	return progress;
}

/* One send or recv on the backend connection through the pool's
 * transport: bytes, 0 at the end of the stream (recv), DP_IO_AGAIN or
 * DP_IO_ERROR. */
static ssize_t
dp_proxy_io(struct dp_proxy *p, uint8_t *buf, size_t n, bool out)
{
	const struct dp_io_ops *io = p->pool->ops->io;

	return out ? io->send(p->be.io, buf, n) : io->recv(p->be.io, buf, n);
}

/* up[] -> the backend, while its socket takes bytes. */
static bool
dp_proxy_up_send(struct dp_proxy *p)
{
	bool progress = false;

	while (p->state == DP_PX_OPEN && p->be_writable && p->up_off < p->up_len) {
		ssize_t r = dp_proxy_io(p, p->up + p->up_off, p->up_len - p->up_off, true);

		if (r == DP_IO_AGAIN || r == 0) {
			p->be_writable = false;
		} else if (r < 0) {
			dp_proxy_abort(p);
			return true;
		} else {
			p->up_off += (size_t)r;
			p->pool->stats.bytes_up += (uint64_t)r;
			p->c->active_ms = p->pool->now_ms;
			progress = true;
		}
	}
	return progress;
}

/* The backend -> down[], while there is room (none: the backend waits,
 * its socket buffer fills and TCP flow control slows it down). Pushed
 * transports fill down[] through dp_be_push instead. */
static bool
dp_proxy_down_recv(struct dp_proxy *p)
{
	bool progress = false;

	dp_proxy_compact(p->down, &p->down_off, &p->down_len);
	while (p->state == DP_PX_OPEN && p->pool->ops->io->recv != NULL && p->be_readable && !p->be_eof &&
	       p->down_len < sizeof(p->down)) {
		ssize_t r = dp_proxy_io(p, p->down + p->down_len, sizeof(p->down) - p->down_len, false);

		if (r == DP_IO_AGAIN) {
			p->be_readable = false;
		} else if (r == DP_IO_ERROR) {
			dp_proxy_abort(p);
			return true;
		} else if (r == 0) {
			p->be_eof = true;
			progress = true;
		} else {
			p->down_len += (size_t)r;
			p->c->active_ms = p->pool->now_ms;
			progress = true;
		}
	}
	return progress;
}

/* down[] -> the engine (encrypted into its bounded output buffer). */
static bool
dp_proxy_down_write(struct dp_proxy *p)
{
	bool progress = false;

	while (p->down_off < p->down_len && !p->sent_close) {
		size_t taken;

		if (hsk_conn_app_write(p->c->tls, p->down + p->down_off, p->down_len - p->down_off, &taken) !=
		    HSK_OK) {
			p->state = DP_PX_FAILED;
			p->c->closing = true;
			return true;
		}
		if (taken == 0)
			break; /* output full: dp_conn_flush sends, the client's socket paces us */
		p->down_off += taken;
		p->pool->stats.bytes_down += taken;
		progress = true;
	}
	/* room again in down[]: a transport that announced a closed
	 * window says it opened (not from inside its own delivery, whose
	 * ACK follows with the window) */
	if (progress && p->be.open && !p->pushing && p->pool->ops->io->room != NULL)
		p->pool->ops->io->room(p->be.io);
	return progress;
}

/* Half-closes: each direction ends once its bytes are delivered. */
static bool
dp_proxy_ends(struct dp_proxy *p)
{
	struct dp_conn *c = p->c;
	bool progress = false;
	bool client_done = (hsk_conn_peer_closed(c->tls) || c->eof) && hsk_conn_app_pending(c->tls) == 0 &&
			   !c->need_recv && p->up_off == p->up_len;

	if (client_done && p->state == DP_PX_OPEN && !p->be_shut) {
		if (p->be.open)
			p->pool->ops->shutdown_write(p->be.io);
		p->be_shut = true;
		progress = true;
	}
	if (p->be_eof && p->down_off == p->down_len && !p->sent_close) {
		hsk_conn_close(c->tls);
		p->sent_close = true;
		progress = true;
	}
	if (p->be_shut && p->sent_close) {
		c->closing = true; /* once close_notify is sent */
		progress = true;
	}
	return progress;
}

bool
dp_proxy_relay(struct dp_proxy *p)
{
	struct dp_conn *c = p->c;
	bool progress = false;

	if (c->closing || p->state == DP_PX_FAILED)
		return false;
	if (!hsk_conn_established(c->tls)) {
		if (c->eof)
			c->closing = true; /* the client left during the handshake */
		return false;
	}
	if (p->state == DP_PX_HANDSHAKE) {
		dp_proxy_start(p);
		progress = true;
	}
	progress |= dp_proxy_up_fill(p);
	progress |= dp_proxy_up_send(p);
	progress |= dp_proxy_down_recv(p);
	progress |= dp_proxy_down_write(p);
	if (p->state != DP_PX_FAILED)
		progress |= dp_proxy_ends(p);
	return progress;
}

/* The backend connection went away under us: after both FINs nothing is
 * lost; otherwise (a reset, a timeout) the client is cut. */
static void
dp_proxy_gone(struct dp_proxy *p)
{
	p->be.open = p->be.connecting = false;
	p->be.io = NULL;
	if (p->state == DP_PX_OPEN && !(p->be_eof && p->be_shut))
		dp_proxy_abort(p);
}

void
dp_be_notify(struct dp_be_end *e, unsigned what)
{
	struct dp_proxy *p = (struct dp_proxy *)e;

	if (e->kind == DP_KIND_HEALTH) {
		dp_pool_check_notify((struct dp_backend *)e, what);
		return;
	}
	if (e->kind != DP_KIND_BACKEND || p->c->dead)
		return; /* dead: released at the end of this poll iteration */
	if (p->state == DP_PX_CONNECTING && (what & (DP_BE_FAILED | DP_BE_GONE))) {
		p->be.open = false; /* released by the transport */
		dp_proxy_connect_failed(p);
	} else if (p->state == DP_PX_CONNECTING && (what & DP_BE_CONNECTED)) {
		dp_proxy_connected(p);
	}
	if (p->state == DP_PX_OPEN) {
		if (what & DP_BE_READABLE)
			p->be_readable = true;
		if (what & DP_BE_WRITABLE)
			p->be_writable = true;
		if (what & DP_BE_EOF)
			p->be_eof = true;
		if (what & DP_BE_GONE)
			dp_proxy_gone(p);
	}
	(void)dp_conn_service(p->c);
}

size_t
dp_be_room(const struct dp_be_end *e)
{
	const struct dp_proxy *p = (const struct dp_proxy *)e;

	if (e->kind != DP_KIND_BACKEND)
		return DP_PROXY_BUF; /* a health check reads nothing */
	return sizeof(p->down) - (p->down_len - p->down_off);
}

size_t
dp_be_push(struct dp_be_end *e, const uint8_t *data, size_t len)
{
	struct dp_proxy *p = (struct dp_proxy *)e;
	size_t took = 0;

	if (e->kind != DP_KIND_BACKEND || p->state != DP_PX_OPEN || p->c->dead)
		return len; /* nobody reads it any more: taken and dropped */
	while (took < len && p->state == DP_PX_OPEN && !p->c->dead) {
		size_t n;

		dp_proxy_compact(p->down, &p->down_off, &p->down_len);
		n = sizeof(p->down) - p->down_len;
		if (n == 0)
			break; /* not acknowledged: flow control holds the backend */
		if (n > len - took)
			n = len - took;
		memcpy(p->down + p->down_len, data + took, n);
		p->down_len += n;
		took += n;
		p->c->active_ms = p->pool->now_ms;
		p->pushing = true;
		(void)dp_conn_service(p->c); /* encrypt what fits, making room */
		p->pushing = false;
	}
	return p->state == DP_PX_OPEN && !p->c->dead ? took : len;
}

void
dp_proxy_tick(struct dp_pool *pool, uint64_t now_ms)
{
	struct dp_proxy *p, *next;

	dp_pool_tick(pool, now_ms);
	for (p = pool->connecting; p != NULL; p = next) {
		next = p->cnext;
		if (now_ms < p->deadline_ms || p->c->dead)
			continue;
		pool->stats.connect_timeouts++;
		dp_proxy_connect_failed(p); /* relinks p at the head, or aborts */
		(void)dp_conn_service(p->c);
	}
}
