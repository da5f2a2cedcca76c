/* Connections over the userspace stack (dp_ns.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dp_backend.h"
#include "dp_gen.h"
#include "dp_ns.h"
#include "dp_proxy.h"

/* ---- the transport seen by dp_conn: io is the ns_tcp_conn ---- */

static ssize_t
dp_ns_send(void *io, const uint8_t *p, size_t n)
{
	struct ns_tcp_conn *c = io;

	if (c->state != NS_TCP_ESTABLISHED && c->state != NS_TCP_CLOSE_WAIT)
		return DP_IO_ERROR;
	return (ssize_t)ns_tcp_send(c->tcp, c, p, n);
}

static void
dp_ns_close(void *io, bool dead)
{
	struct ns_tcp_conn *c = io;

	c->app = NULL; /* what still comes for it is not ours */
	if (dead)
		ns_tcp_abort(c->tcp, c);
	else
		ns_tcp_close(c->tcp, c);
}

static void
dp_ns_room(void *io)
{
	struct ns_tcp_conn *c = io;

	ns_tcp_window_update(c->tcp, c);
}

static const struct dp_io_ops dp_ns_ops = { dp_ns_send, NULL, dp_ns_close, dp_ns_room };

/* ---- proxy mode's backends: active opens on the same stack ---- */

/* Our address for a backend: one on its subnet, else the first (the
 * gateway's). */
static uint32_t
dp_ns_source(const struct ns_if *nif, uint32_t dst)
{
	for (size_t i = 0; i < nif->n_addrs; i++) {
		uint32_t mask = nif->prefix[i] ? ~0u << (32 - nif->prefix[i]) : 0;

		if ((dst & mask) == (nif->addrs[i] & mask))
			return nif->addrs[i];
	}
	return nif->addrs[0];
}

static int
dp_ns_be_open(void *arg, const struct dp_backend *b, struct dp_be_end *e)
{
	struct dp_ns *d = arg;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&b->sa;
	uint32_t raddr = ntohl(sin->sin_addr.s_addr);
	struct ns_tcp_conn *c;

	if (b->sa.ss_family != AF_INET)
		return DP_BE_REFUSED; /* refused at start (dp_ns_init) */
	c = ns_tcp_connect(&d->tcp, dp_ns_source(&d->nif, raddr), raddr, ntohs(sin->sin_port), e);
	if (c == NULL)
		return DP_BE_NO_ROOM; /* table full, or every ephemeral port in use */
	e->io = c;
	return 0;
}

static void
dp_ns_be_shutdown(void *io)
{
	struct ns_tcp_conn *c = io;

	ns_tcp_close(c->tcp, c);
}

/* The same transport both ways: a backend's end is an ns_tcp_conn too. */
static const struct dp_be_ops dp_ns_be_ops = { &dp_ns_ops, dp_ns_be_open, dp_ns_be_shutdown };

/* A connection's application: a backend connection's end (the tags of
 * dp_backend.h), or NULL for a client's dp_conn (kind 0). */
static struct dp_be_end *
dp_ns_end(const struct ns_tcp_conn *c)
{
	struct dp_be_end *e = c->app;

	return e != NULL && (e->kind == DP_KIND_BACKEND || e->kind == DP_KIND_HEALTH) ? e : NULL;
}

/* Every backend is IPv4 and has a route: on a listen address's subnet,
 * or a gateway. */
static int
dp_ns_check_backends(const struct dp_ns *d, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->app.pool->n; i++) {
		const struct dp_backend *b = &d->app.pool->be[i];
		uint32_t ip, src, mask = 0;

		if (b->sa.ss_family != AF_INET) {
			snprintf(err, errlen, "backend %s: the dpdk dataplane reaches IPv4 backends only", b->name);
			return -1;
		}
		ip = ntohl(((const struct sockaddr_in *)&b->sa)->sin_addr.s_addr);
		src = dp_ns_source(&d->nif, ip);
		for (size_t j = 0; j < d->nif.n_addrs; j++)
			if (d->nif.addrs[j] == src && d->nif.prefix[j])
				mask = ~0u << (32 - d->nif.prefix[j]);
		if ((ip & mask) != (src & mask) && d->nif.gateway == 0) {
			snprintf(err, errlen, "backend %s is not on the link (no listen address's subnet has it) and "
				 "no --dpdk-gateway is set", b->name);
			return -1;
		}
	}
	return 0;
}

/* ---- TCP's callbacks ---- */

/* Proxy mode: the client's and our address for the PROXY header. */
static int
dp_ns_attach(struct dp_ns *d, struct dp_conn *dc, const struct ns_tcp_conn *c, const struct hsk_ctx *ctx)
{
	struct sockaddr_storage client = { 0 }, local = { 0 };
	struct sockaddr_in *cl = (struct sockaddr_in *)&client, *lo = (struct sockaddr_in *)&local;

	cl->sin_family = lo->sin_family = AF_INET;
	cl->sin_addr.s_addr = htonl(c->raddr);
	cl->sin_port = htons(c->rport);
	lo->sin_addr.s_addr = htonl(c->laddr);
	lo->sin_port = htons(c->lport);
	return dp_proxy_attach(dc, &client, &local, ctx, d->app.pool);
}

static void *
dp_ns_accept(void *arg, struct ns_tcp_conn *c)
{
	struct dp_ns *d = arg;

	for (size_t i = 0; i < d->cfg->n_listeners; i++) {
		const struct cfg_addr *a = &d->cfg->listeners[i].addr;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->sa;

		if (a->port == c->lport && ntohl(sin->sin_addr.s_addr) == c->laddr) {
			struct dp_conn *dc;
			const struct hsk_ctx *ctx = d->app.hold != NULL ? dp_app_ctx(&d->app, i) : &d->ctxs[i];

			/* draining: a handshake TCP finished after the
			 * listeners closed is not taken */
			if (d->app.draining || !dp_app_admit(&d->app)) {
				ns_tcp_abort(c->tcp, c); /* a reset, counted */
				return NULL;
			}
			dc = dp_conn_new(&d->app, ctx, &dp_ns_ops, c);
			if (dc != NULL) {
				struct sockaddr_in peer = { .sin_family = AF_INET };

				/* for the access log */
				peer.sin_addr.s_addr = htonl(c->raddr);
				peer.sin_port = htons(c->rport);
				dp_conn_set_peer(dc, (const struct sockaddr *)&peer, sizeof(peer));
			}
			if (dc != NULL && d->app.pool != NULL && dp_ns_attach(d, dc, c, ctx) != 0) {
				dc->dead = true;
				(void)dp_conn_service(dc); /* resets c, frees dc */
				return NULL;
			}
			return dc;
		}
	}
	return NULL;
}

static size_t
dp_ns_data(void *arg, struct ns_tcp_conn *c, const uint8_t *p, size_t len)
{
	(void)arg;
	if (c->app == NULL)
		return len; /* closed by us: taken and dropped */
	if (dp_ns_end(c) != NULL)
		return dp_be_push(dp_ns_end(c), p, len);
	return dp_conn_push(c->app, p, len);
}

static size_t
dp_ns_rcv_space(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	if (dp_ns_end(c) != NULL)
		return dp_be_room(dp_ns_end(c));
	return c->app != NULL ? dp_conn_room(c->app) : NS_TCP_RCV_WND;
}

static void
dp_ns_peer_closed(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	if (dp_ns_end(c) != NULL)
		dp_be_notify(dp_ns_end(c), DP_BE_EOF);
	else if (c->app != NULL)
		(void)dp_conn_eof(c->app);
}

static void
dp_ns_gone(void *arg, struct ns_tcp_conn *c)
{
	struct dp_be_end *e = dp_ns_end(c);
	struct dp_conn *dc = c->app;

	(void)arg;
	c->app = NULL;
	if (e != NULL) {
		/* released by the stack: a failed connect, or the end */
		e->open = false;
		e->io = NULL;
		if (e->connecting)
			dp_be_notify(e, DP_BE_FAILED);
		else /* TIME_WAIT: the peer's FIN came after ours (FIN_WAIT_2): its end too */
			dp_be_notify(e, c->state == NS_TCP_TIME_WAIT ? DP_BE_EOF | DP_BE_GONE : DP_BE_GONE);
	} else if (dc != NULL) {
		dp_conn_gone(dc);
	}
}

static void
dp_ns_writable(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	if (dp_ns_end(c) != NULL) {
		dp_be_notify(dp_ns_end(c), DP_BE_WRITABLE);
	} else if (c->app != NULL) {
		struct dp_conn *dc = c->app;

		dc->writable = true;
		(void)dp_conn_service(dc);
	}
}

static void
dp_ns_connected(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	if (dp_ns_end(c) != NULL)
		dp_be_notify(dp_ns_end(c), DP_BE_CONNECTED);
}

static const struct ns_tcp_ops dp_ns_tcp_ops = {
	.accept = dp_ns_accept,
	.data = dp_ns_data,
	.rcv_space = dp_ns_rcv_space,
	.peer_closed = dp_ns_peer_closed,
	.gone = dp_ns_gone,
	.writable = dp_ns_writable,
	.connected = dp_ns_connected,
};

int
dp_ns_init(struct dp_ns *d, unsigned id, const struct cfg *cfg, struct hsk_ctx *ctxs,
	   struct hsk_sess_cache *cache, const uint8_t mac[6], unsigned prefix_len, uint32_t gateway,
	   ns_tx_fn tx, void *tx_arg, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->ctxs = ctxs;
	ns_if_init(&d->nif, mac, tx, tx_arg);
	d->nif.gateway = gateway;
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_addr *a = &cfg->listeners[i].addr;
		uint32_t ip;

		if (a->family != AF_INET) {
			snprintf(err, errlen, "%s: the dpdk dataplane serves IPv4 addresses only", a->host);
			return -1;
		}
		ip = ntohl(((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr);
		if (ip == 0) {
			snprintf(err, errlen, "%s:%u: the userspace stack needs the address it owns, not 0.0.0.0",
				 a->host, a->port);
			return -1;
		}
		if (!ns_if_is_ours(&d->nif, ip) && ns_if_add_addr(&d->nif, ip, prefix_len) != 0) {
			snprintf(err, errlen, "%s: too many addresses", a->host);
			return -1;
		}
	}
	if (gateway != 0) {
		bool on_link = false;

		for (size_t i = 0; i < d->nif.n_addrs; i++) {
			uint32_t mask = d->nif.prefix[i] ? ~0u << (32 - d->nif.prefix[i]) : 0;
			on_link |= (gateway & mask) == (d->nif.addrs[i] & mask);
		}
		if (!on_link) {
			snprintf(err, errlen, "the gateway %u.%u.%u.%u is on none of the listen addresses' /%u subnets",
				 gateway >> 24, gateway >> 16 & 255, gateway >> 8 & 255, gateway & 255, prefix_len);
			return -1;
		}
	}
	if (ns_tcp_init(&d->tcp, &d->nif, &dp_ns_tcp_ops, d, cfg->dpdk_max_conns) != 0) {
		snprintf(err, errlen, "no memory for a TCP table of %u connections", cfg->dpdk_max_conns);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= cfg->listeners[j].addr.port == cfg->listeners[i].addr.port;
		if (!dup && ns_tcp_listen(&d->tcp, cfg->listeners[i].addr.port) != 0) {
			snprintf(err, errlen, "too many listening ports");
			return -1;
		}
	}
	if (dp_app_init(&d->app, id, cfg, cache) != 0) {
		snprintf(err, errlen, "no crypto backend");
		return -1;
	}
	if (cfg->mode == CFG_MODE_PROXY) {
		d->app.pool = dp_pool_new(cfg, id, &dp_ns_be_ops, d);
		if (d->app.pool == NULL) {
			snprintf(err, errlen, "cannot set up the backend pool");
			return -1;
		}
		if (dp_ns_check_backends(d, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void
dp_ns_tick(struct dp_ns *d, uint64_t now_ms)
{
	dp_app_tick(&d->app, now_ms);
	if (d->app.pool != NULL)
		dp_proxy_tick(d->app.pool, now_ms); /* connect timeouts, health checks */
}

void
dp_ns_input(struct dp_ns *d, const uint8_t *frame, size_t len)
{
	ns_eth_input(&d->nif, frame, len, d->app.now_ms);
}

void
dp_ns_poll_end(struct dp_ns *d)
{
	dp_app_flush(&d->app);
	if (d->app.now_ms != d->timers_ms) {
		ns_tcp_timers(&d->tcp, d->app.now_ms);
		d->timers_ms = d->app.now_ms;
	}
}

void
dp_ns_free(struct dp_ns *d)
{
	dp_app_teardown(&d->app);
	dp_pool_free(d->app.pool); /* its checks in flight reset */
	d->app.pool = NULL;
	ns_tcp_free(&d->tcp);
}
