/* tlsbench's client thread: its own SSL_CTX and epoll set, up to its share
 * of -c connections in flight, each a non-blocking socket driven through
 * libssl's state machine. What a connection does, in order:
 *
 *   CONNECTING -> HANDSHAKE -> [REQUEST -> RESPONSE] -> CLOSING -> closed
 *
 * CLOSING sends close_notify and reads until the server's close_notify or
 * its FIN (RFC 8446 6.1, RFC 5246 7.2.1). Closing at once would be cheaper
 * but wrong twice over: where the client speaks last (TLS 1.3, an
 * abbreviated TLS 1.2 handshake) an RST could overtake our Finished and the
 * server would be measured for work it never did; and OpenSSL-based
 * servers treat a close without close_notify as a fatal error and drop
 * the session from their cache (ssl3_send_alert), so session-ID and
 * ticket resumption would never happen. Reading also collects TLS 1.3
 * NewSessionTickets (RFC 8446 4.6.1). Only then is the socket closed, by
 * default with SO_LINGER 0 (an RST): the exchange is over, and no
 * TIME_WAIT is left to exhaust the ~28k loopback ephemeral ports at a
 * few thousand connections per second. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "tlsbench.h"

#define BENCH_HDR_MAX 2048 /* response header bytes kept for parsing */
#define BENCH_EVENTS 256

enum bench_state { ST_CONNECTING, ST_HANDSHAKE, ST_REQUEST, ST_RESPONSE, ST_CLOSING };

struct bench_conn {
	int fd;
	SSL *ssl;               /* kept across connections of this slot (SSL_clear) */
	enum bench_state state;
	uint32_t events;        /* what epoll waits for now */
	double t_origin;        /* latency counts from here: the (scheduled) start */
	double deadline;        /* --timeout after the real start */
	bool offered;           /* a session was offered for resumption */
	size_t sent;            /* request bytes written */
	size_t hdr_len;         /* response header bytes in hdr */
	bool hdr_done;
	long long body_left;    /* -1: until the close */
	char hdr[BENCH_HDR_MAX];
	struct bench_conn *prev, *next; /* in flight, oldest first (the timeouts) */
};

struct bench_client {
	struct bench_thread *t;
	const struct bench_opts *o;
	SSL_CTX *ctx;
	int ep;
	struct bench_conn *pool;
	struct bench_conn **free_list;
	unsigned n_free;
	struct bench_conn *head, *tail; /* in flight */
	SSL_SESSION *session;           /* the latest resumable session the server gave */
	double next_start;              /* --rate: the next permitted (open loop: scheduled) start */
	uint64_t arrivals;              /* open loop: arrivals started so far */
	bool late_counted;              /* the scheduled start at next_start was found late */
	bool no_pwait2;                 /* epoll_pwait2 is not available */
	bool primed;                    /* a connection has ended (and left a session, if any) */
	char request[600];
	size_t request_len;
	char scratch[16384];
};

const char *const bench_err_names[BENCH_ERR_KINDS] = {
	[BENCH_ERR_CONNECT] = "connect", [BENCH_ERR_RESET] = "reset",
	[BENCH_ERR_ALERT] = "alert", [BENCH_ERR_TLS] = "tls", [BENCH_ERR_PIN] = "pin",
	[BENCH_ERR_HTTP] = "http", [BENCH_ERR_TIMEOUT] = "timeout",
	[BENCH_ERR_RESOURCE] = "resource",
};

/* One writer per counter (its thread); the progress line reads. */
static inline void
stat_add(_Atomic uint64_t *p, int64_t d)
{
	atomic_store_explicit(p, atomic_load_explicit(p, memory_order_relaxed) + (uint64_t)d,
			      memory_order_relaxed);
}

/* ---- the SSL_CTX ---- */

/* Keeps the newest session: TLS 1.3 tickets arrive after the handshake
 * and a resumed TLS 1.2 ticket handshake may renew the ticket, so the
 * callback (not SSL_get1_session at handshake end) sees every one. */
static int
client_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct bench_client *cl = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!SSL_SESSION_is_resumable(sess))
		return 0;
	if (cl->session != NULL)
		SSL_SESSION_free(cl->session);
	cl->session = sess;
	return 1; /* we keep the reference */
}

static int
client_no_chain_check(X509_STORE_CTX *store, void *arg)
{
	(void)store;
	(void)arg;
	return 1; /* the --pin check, if any, follows the handshake */
}

/* The client context of the options, without the session callback (it
 * needs the thread); also used by client_floor.c. NULL on failure. */
SSL_CTX *
bench_client_ctx(const struct bench_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, o->tls_min) ||
	    !SSL_CTX_set_max_proto_version(ctx, o->tls_max) ||
	    (o->ciphers != NULL && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) ||
	    (o->ciphersuites != NULL && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) ||
	    (o->groups != NULL && !SSL_CTX_set1_groups_list(ctx, o->groups)) ||
	    (o->alpn_len > 0 && SSL_CTX_set_alpn_protos(ctx, o->alpn, o->alpn_len) != 0) ||
	    (o->verify_ca != NULL && !SSL_CTX_load_verify_locations(ctx, o->verify_ca, NULL))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (o->verify_ca != NULL) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		/* With SSL_VERIFY_NONE libssl still builds and checks the chain
		 * (and ignores the verdict): skip that work altogether. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_cert_verify_callback(ctx, client_no_chain_check, NULL);
	}
	/* A server that closes without close_notify (openssl s_server -www
	 * does, after its response) is not an error here, and libssl would
	 * otherwise mark the session not resumable (SSL_CTX_remove_session). */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Read what the socket has in one call: without read-ahead libssl
	 * reads each record's 5-byte header and then its body, 17 read(2)
	 * per full TLS 1.2 handshake against tlsoffload (strace -c). */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Full handshakes and session IDs: do not ask for RFC 5077 tickets,
	 * so the server does not spend a ticket encryption on us. */
	if (o->resume == BENCH_RESUME_NONE || o->resume == BENCH_RESUME_ID)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (o->resume == BENCH_RESUME_NONE)
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	else
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	return ctx;
}

static int
client_ctx(struct bench_client *cl)
{
	cl->ctx = bench_client_ctx(cl->o);
	if (cl->ctx == NULL)
		return -1;
	SSL_CTX_set_app_data(cl->ctx, cl);
	if (cl->o->resume != BENCH_RESUME_NONE)
		SSL_CTX_sess_set_new_cb(cl->ctx, client_new_session);
	return 0;
}

/* ---- errors ---- */

static void
conn_release(struct bench_client *cl, struct bench_conn *c)
{
	/* The slot keeps its SSL for its next connection (client_ssl). */
	if (c->fd >= 0) {
		if (cl->o->linger0) {
			struct linger lg = { 1, 0 };

			(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c->fd); /* also leaves the epoll set */
	}
	c->fd = -1;
	cl->primed = true;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cl->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		cl->tail = c->prev;
	c->prev = c->next = NULL;
	cl->free_list[cl->n_free++] = c;
	stat_add(&cl->t->st.inflight, -1);
}

/* A connection that ended well. SSL_free of a connection that did not
 * send close_notify drops its session from the client's cache and marks
 * it not resumable (ssl_clear_bad_session), which would end resumption
 * after the first server that closes first: say the shutdown happened. */
static void
conn_done(struct bench_client *cl, struct bench_conn *c)
{
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	conn_release(cl, c);
}

static void
conn_fail(struct bench_client *cl, struct bench_conn *c, enum bench_err kind, const char *why)
{
	struct bench_stats *st = &cl->t->st;

	st->err[kind]++;
	if (st->err_first[kind][0] == '\0')
		snprintf(st->err_first[kind], sizeof(st->err_first[kind]), "%s", why);
	stat_add(&st->errors, 1);
	ERR_clear_error();
	conn_release(cl, c);
}

/* What a failed SSL call means, from SSL_get_error and the error queue. */
static void
conn_fail_ssl(struct bench_client *cl, struct bench_conn *c, int ssl_err)
{
	unsigned long e = ERR_peek_error();
	char why[160];
	enum bench_err kind = BENCH_ERR_TLS;

	if (ssl_err == SSL_ERROR_SYSCALL) {
		snprintf(why, sizeof(why), "%s", errno != 0 ? strerror(errno) : "connection closed by the server");
		conn_fail(cl, c, BENCH_ERR_RESET, why);
		return;
	}
	ERR_error_string_n(e, why, sizeof(why));
	if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
		int r = ERR_GET_REASON(e);

		if (r == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			kind = BENCH_ERR_RESET;
		else if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
			kind = BENCH_ERR_ALERT; /* "sslv3/tlsv1 alert ...": the peer's alert */
	}
	conn_fail(cl, c, kind, why);
}

/* ---- epoll ---- */

/* Edge-triggered for both directions, set once at the connect: libssl
 * reports WANT_READ or WANT_WRITE only after the socket said EAGAIN, so
 * an edge always follows, and no epoll_ctl per state change is needed
 * (there were 3-4 per connection). */
#define BENCH_EPOLL_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static int
conn_wait(struct bench_client *cl, struct bench_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events || c->events == BENCH_EPOLL_EVENTS)
		return 0;
	c->events = events;
	return epoll_ctl(cl->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* After an SSL call returned r <= 0: wait for what it wants, or fail. */
static void
conn_ssl_blocked(struct bench_client *cl, struct bench_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (conn_wait(cl, c, EPOLLIN) != 0)
			conn_fail(cl, c, BENCH_ERR_RESOURCE, "epoll_ctl");
		break;
	case SSL_ERROR_WANT_WRITE:
		if (conn_wait(cl, c, EPOLLOUT) != 0)
			conn_fail(cl, c, BENCH_ERR_RESOURCE, "epoll_ctl");
		break;
	default:
		conn_fail_ssl(cl, c, e);
		break;
	}
}

/* ---- the connection's steps ---- */

static void conn_step(struct bench_client *cl, struct bench_conn *c);
static void conn_closing(struct bench_client *cl, struct bench_conn *c);

/* sha256(DER SubjectPublicKeyInfo) == --pin (RFC 7469 2.4's input). */
static bool
conn_pin_ok(const struct bench_opts *o, SSL *ssl)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int len;

	if (cert == NULL)
		return false;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0)
		return false;
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	return memcmp(md, o->pin, sizeof(md)) == 0;
}

static void
conn_handshake_done(struct bench_client *cl, struct bench_conn *c, double now)
{
	struct bench_stats *st = &cl->t->st;
	bool reused = SSL_session_reused(c->ssl);
	int version = SSL_version(c->ssl);

	if (cl->o->have_pin && !reused && !conn_pin_ok(cl->o, c->ssl)) {
		conn_fail(cl, c, BENCH_ERR_PIN, "the server's public key is not the pinned one");
		return;
	}
	bench_hist_record(&st->hs_lat, (uint64_t)((now - c->t_origin) * 1e9));
	stat_add(&st->handshakes, 1);
	if (cl->t->count > 0 || now <= cl->t->t_stop)
		st->in_window++;
	if (reused)
		st->resumed++;
	else if (c->offered)
		st->resume_missed++;
	if (version == TLS1_3_VERSION)
		st->tls13++;
	else
		st->tls12++;
	if (st->cipher[0] == '\0') {
		int g = SSL_get_negotiated_group(c->ssl);
		const char *gn = g != 0 ? SSL_group_to_name(c->ssl, g) : NULL;

		snprintf(st->cipher, sizeof(st->cipher), "%s", SSL_get_cipher_name(c->ssl));
		snprintf(st->group, sizeof(st->group), "%s", gn != NULL ? gn : "-");
	}
	c->state = cl->o->request != NULL ? ST_REQUEST : ST_CLOSING;
	conn_step(cl, c);
}

/* The status line and Content-Length of hdr[0..hdr_len), which holds the
 * whole header (RFC 9112 2.1, 6.3). */
static bool
conn_parse_header(struct bench_conn *c, size_t header_end)
{
	int status;
	const char *p;

	c->hdr[header_end - 1] = '\0';
	if (sscanf(c->hdr, "HTTP/1.%*1d %3d", &status) != 1 || status < 200 || status > 299)
		return false;
	c->body_left = -1;
	for (p = strchr(c->hdr, '\n'); p != NULL; p = strchr(p + 1, '\n')) {
		if (strncasecmp(p + 1, "content-length:", 15) == 0) {
			char *end;
			long long v = strtoll(p + 16, &end, 10);

			if (end == p + 16 || v < 0)
				return false;
			c->body_left = v;
		}
	}
	return true;
}

/* Response bytes buf[0..n): the header into c->hdr until its blank line,
 * then the body counted against Content-Length. */
static int
conn_response_bytes(struct bench_conn *c, const char *buf, size_t n)
{
	if (!c->hdr_done) {
		size_t take = n < sizeof(c->hdr) - 1 - c->hdr_len ? n : sizeof(c->hdr) - 1 - c->hdr_len;
		char *end;

		memcpy(c->hdr + c->hdr_len, buf, take);
		c->hdr_len += take;
		c->hdr[c->hdr_len] = '\0';
		end = strstr(c->hdr, "\r\n\r\n");
		if (end == NULL) {
			if (c->hdr_len == sizeof(c->hdr) - 1)
				return -1; /* a header this long is not what we asked for */
			return 0;
		}
		size_t header_end = (size_t)(end - c->hdr) + 4;
		size_t body = c->hdr_len - header_end + (n - take);

		c->hdr_done = true;
		if (!conn_parse_header(c, header_end))
			return -1;
		if (c->body_left >= 0)
			c->body_left -= (long long)body;
	} else if (c->body_left >= 0) {
		c->body_left -= (long long)n;
	}
	return 0;
}

static void
conn_response_done(struct bench_client *cl, struct bench_conn *c, bool closed)
{
	double now = bench_now_s();

	if (!c->hdr_done || (c->body_left > 0) || (c->body_left < 0 && !closed)) {
		conn_fail(cl, c, BENCH_ERR_HTTP, c->hdr_done ? "response shorter than its Content-Length"
							     : "no complete HTTP response header");
		return;
	}
	bench_hist_record(&cl->t->st.req_lat, (uint64_t)((now - c->t_origin) * 1e9));
	if (closed) {
		conn_done(cl, c);
		return;
	}
	c->state = ST_CLOSING;
	conn_closing(cl, c);
}

static void
conn_read_response(struct bench_client *cl, struct bench_conn *c)
{
	for (;;) {
		int r = SSL_read(c->ssl, cl->scratch, (int)sizeof(cl->scratch));

		if (r > 0) {
			if (conn_response_bytes(c, cl->scratch, (size_t)r) != 0) {
				conn_fail(cl, c, BENCH_ERR_HTTP, "not a 2xx HTTP response");
				return;
			}
			if (c->hdr_done && c->body_left == 0) {
				conn_response_done(cl, c, false);
				return;
			}
			continue;
		}
		int e = SSL_get_error(c->ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			conn_ssl_blocked(cl, c, r);
			return;
		}
		/* close_notify, or a close without one: the end of a response
		 * without Content-Length (RFC 9112 6.3 item 8) */
		ERR_clear_error();
		conn_response_done(cl, c, true);
		return;
	}
}

/* After our close_notify: read to the server's close_notify or FIN. */
static void
conn_closing(struct bench_client *cl, struct bench_conn *c)
{
	if (!(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
		int r = SSL_shutdown(c->ssl);

		if (r < 0) {
			int e = SSL_get_error(c->ssl, r);

			if (e == SSL_ERROR_WANT_WRITE) {
				conn_ssl_blocked(cl, c, r);
				return;
			}
			ERR_clear_error();
			conn_done(cl, c); /* the server closed already: it is done */
			return;
		}
	}
	for (;;) {
		int r = SSL_read(c->ssl, cl->scratch, (int)sizeof(cl->scratch));

		if (r > 0)
			continue; /* data after the handshake: not ours to judge */
		int e = SSL_get_error(c->ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			conn_ssl_blocked(cl, c, r);
			return;
		}
		ERR_clear_error();
		conn_done(cl, c);
		return;
	}
}

static void
conn_step(struct bench_client *cl, struct bench_conn *c)
{
	int r, err;
	socklen_t len = sizeof(err);

	switch (c->state) {
	case ST_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			conn_fail(cl, c, BENCH_ERR_CONNECT, strerror(err));
			return;
		}
		c->state = ST_HANDSHAKE;
		/* fall through */
	case ST_HANDSHAKE:
		r = SSL_do_handshake(c->ssl);
		if (r == 1)
			conn_handshake_done(cl, c, bench_now_s());
		else
			conn_ssl_blocked(cl, c, r);
		return;
	case ST_REQUEST:
		r = SSL_write(c->ssl, cl->request + c->sent, (int)(cl->request_len - c->sent));
		if (r <= 0) {
			conn_ssl_blocked(cl, c, r);
			return;
		}
		c->sent += (size_t)r;
		if (c->sent < cl->request_len)
			return;
		c->state = ST_RESPONSE;
		/* fall through */
	case ST_RESPONSE:
		conn_read_response(cl, c);
		return;
	case ST_CLOSING:
		conn_closing(cl, c);
		return;
	default:
		conn_fail(cl, c, BENCH_ERR_RESOURCE, "bad state");
		return;
	}
}

/* ---- starting connections ---- */

/* Offer a session on this connection? Connections that wanted to but had
 * none (the first ones, before any ticket came back) are made up later,
 * so over a run the share of offers converges to --resume-ratio. */
static bool
client_wants_resume(struct bench_client *cl)
{
	const struct bench_stats *st = &cl->t->st;
	uint64_t started = atomic_load_explicit(&st->started, memory_order_relaxed);

	return cl->o->resume_ratio > 0 &&
	       (double)st->resume_tried + 0.5 <= cl->o->resume_ratio * (double)(started + 1);
}

/* The slot's SSL for a new connection on c->fd: the one its previous
 * connection used, reset by SSL_clear (SSL_new costs about as much as
 * an X25519 multiplication in OpenSSL 3.0: the method's and the
 * context's settings copied, a dozen allocations; SSL_free as much
 * again), its socket BIO pointed at the new descriptor, and any session
 * it kept dropped (SSL_clear keeps a good one for reuse). */
static int
client_ssl_reset(struct bench_client *cl, struct bench_conn *c)
{
	BIO *bio;

	if (c->ssl != NULL && (!SSL_clear(c->ssl) || !SSL_set_session(c->ssl, NULL))) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	ERR_clear_error();
	if (c->ssl == NULL) {
		c->ssl = SSL_new(cl->ctx);
		return c->ssl != NULL && SSL_set_fd(c->ssl, c->fd) ? 0 : -1;
	}
	bio = SSL_get_rbio(c->ssl);
	if (bio == NULL || bio != SSL_get_wbio(c->ssl))
		return SSL_set_fd(c->ssl, c->fd) ? 0 : -1;
	BIO_set_fd(bio, c->fd, BIO_NOCLOSE);
	return 0;
}

static int
client_ssl(struct bench_client *cl, struct bench_conn *c)
{
	const struct bench_opts *o = cl->o;

	if (client_ssl_reset(cl, c) != 0)
		return -1;
	SSL_set_connect_state(c->ssl);
	if (o->sni != NULL && !SSL_set_tlsext_host_name(c->ssl, o->sni))
		return -1;
	if (o->verify_ca != NULL) {
		const char *name = o->sni != NULL ? o->sni : o->host;

		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) && !SSL_set1_host(c->ssl, name))
			return -1;
		ERR_clear_error();
	}
	c->offered = false;
	if (client_wants_resume(cl) && cl->session != NULL) {
		/* A copy per connection: libssl marks the session it resumed
		 * not resumable when a TLS 1.3 handshake ends (single use,
		 * tls_finish_handshake) and when a TLS 1.2 ticket is renewed,
		 * and the connections still waiting for their TCP connect
		 * would then silently send no PSK or ticket at all. */
		SSL_SESSION *copy = SSL_SESSION_dup(cl->session);
		int ok = copy != NULL && SSL_set_session(c->ssl, copy);

		SSL_SESSION_free(copy);
		if (!ok)
			return -1;
		c->offered = true;
		cl->t->st.resume_tried++;
	}
	return 0;
}

static void
client_start(struct bench_client *cl, double origin, double now)
{
	struct bench_conn *c = cl->free_list[--cl->n_free];
	struct bench_stats *st = &cl->t->st;
	struct epoll_event ev;
	SSL *ssl = c->ssl;
	int one = 1, r;

	memset(c, 0, offsetof(struct bench_conn, hdr));
	c->ssl = ssl;
	c->t_origin = origin;
	c->deadline = now + cl->o->timeout;
	c->fd = -1;
	c->prev = cl->tail;
	if (cl->tail != NULL)
		cl->tail->next = c;
	else
		cl->head = c;
	cl->tail = c;
	stat_add(&st->inflight, 1);
	stat_add(&st->started, 1);

	c->fd = socket(cl->o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(cl, c, BENCH_ERR_RESOURCE, strerror(errno));
		return;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (client_ssl(cl, c) != 0) {
		conn_fail(cl, c, BENCH_ERR_RESOURCE, "SSL_new");
		return;
	}
	r = connect(c->fd, (const struct sockaddr *)&cl->o->addr, cl->o->addr_len);
	if (r != 0 && errno != EINPROGRESS) {
		conn_fail(cl, c, errno == EADDRNOTAVAIL || errno == EAGAIN ? BENCH_ERR_RESOURCE : BENCH_ERR_CONNECT,
			  strerror(errno));
		return;
	}
	c->state = r == 0 ? ST_HANDSHAKE : ST_CONNECTING;
	c->events = BENCH_EPOLL_EVENTS;
	ev = (struct epoll_event){ .events = BENCH_EPOLL_EVENTS, .data.ptr = c };
	if (epoll_ctl(cl->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		conn_fail(cl, c, BENCH_ERR_RESOURCE, "epoll_ctl");
		return;
	}
	if (r == 0)
		conn_step(cl, c);
}

static bool
client_more(const struct bench_client *cl, double now)
{
	const struct bench_thread *t = cl->t;

	if (atomic_load_explicit(t->stop, memory_order_relaxed))
		return false;
	if (t->count > 0)
		return atomic_load_explicit(&t->st.started, memory_order_relaxed) < t->count;
	/* open loop: every arrival scheduled before the end starts, late or
	 * not (arrival k at t0 + k / rate: no rounding error accumulates) */
	if (cl->o->open_loop)
		return (double)cl->arrivals < (t->t_stop - t->t0) * t->rate - 1e-6;
	return now < t->t_stop;
}

/* Start what the limits allow; returns the time of the next scheduled
 * start, or 0 when nothing waits on the clock. */
static double
client_fill(struct bench_client *cl, double now)
{
	const struct bench_thread *t = cl->t;

	while (client_more(cl, now)) {
		double origin = now;

		/* resumption: the first connection alone, so the others have a
		 * session to offer (or know the server gives none) */
		if (cl->o->resume_ratio > 0 && !cl->primed && cl->head != NULL)
			return 0;

		if (t->rate > 0) {
			if (now < cl->next_start)
				return cl->next_start;
			if (cl->n_free == 0) {
				/* open loop: this arrival is due but every slot is busy;
				 * it starts when one frees, and its latency still counts
				 * from now-ish (its schedule), not from then */
				if (cl->o->open_loop && !cl->late_counted) {
					cl->t->st.late_starts++;
					cl->late_counted = true;
				}
				return 0;
			}
			if (cl->o->open_loop) {
				origin = cl->next_start;
				cl->arrivals++;
				cl->next_start = t->t0 + (double)cl->arrivals / t->rate;
				cl->late_counted = false;
			} else {
				/* a limiter, not a schedule: no burst to catch up */
				cl->next_start = fmax(cl->next_start + 1.0 / t->rate, now);
			}
		} else if (cl->n_free == 0) {
			return 0;
		}
		client_start(cl, origin, now);
	}
	return 0;
}

static void
client_timeouts(struct bench_client *cl, double now)
{
	while (cl->head != NULL && cl->head->deadline <= now)
		conn_fail(cl, cl->head, BENCH_ERR_TIMEOUT, "no progress within --timeout");
}

/* epoll_pwait2 (Linux 5.11) for sub-millisecond sleeps: an open-loop
 * schedule at thousands of starts per second needs them; epoll_wait with
 * the timeout rounded up where it is missing (older kernels, valgrind). */
static int
client_wait(struct bench_client *cl, struct epoll_event *evs, const struct timespec *ts)
{
	int n;

	if (!cl->no_pwait2) {
		n = epoll_pwait2(cl->ep, evs, BENCH_EVENTS, ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		cl->no_pwait2 = true;
	}
	return epoll_wait(cl->ep, evs, BENCH_EVENTS, (int)(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000));
}

static int
client_loop(struct bench_client *cl)
{
	struct epoll_event evs[BENCH_EVENTS];
	const struct bench_thread *t = cl->t;

	cl->next_start = t->t0;
	for (;;) {
		double now = bench_now_s();
		double wake, next = client_fill(cl, now);
		struct timespec ts;
		int n;

		if (cl->head == NULL && !client_more(cl, now))
			break;
		/* sleep until the next scheduled start, the oldest connection's
		 * deadline, the end of the run, or 100 ms (the stop flag) */
		wake = now + 0.1;
		if (next > 0 && next < wake)
			wake = next;
		if (cl->head != NULL && cl->head->deadline < wake)
			wake = cl->head->deadline;
		if (t->count == 0 && t->t_stop > now && t->t_stop < wake)
			wake = t->t_stop;
		wake = fmax(wake - now, 0);
		ts.tv_sec = (time_t)wake;
		ts.tv_nsec = (long)((wake - (double)ts.tv_sec) * 1e9);
		n = client_wait(cl, evs, &ts);
		if (n < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n; i++)
			conn_step(cl, evs[i].data.ptr);
		client_timeouts(cl, bench_now_s());
	}
	return 0;
}

static void
client_free(struct bench_client *cl)
{
	while (cl->head != NULL)
		conn_release(cl, cl->head);
	for (unsigned i = 0; cl->pool != NULL && i < cl->t->conns; i++)
		SSL_free(cl->pool[i].ssl);
	if (cl->session != NULL)
		SSL_SESSION_free(cl->session);
	SSL_CTX_free(cl->ctx);
	if (cl->ep >= 0)
		close(cl->ep);
	free(cl->pool);
	free(cl->free_list);
	free(cl);
}

static int
client_init(struct bench_client *cl, struct bench_thread *t)
{
	const struct bench_opts *o = t->o;
	int n;

	cl->t = t;
	cl->o = o;
	cl->ep = epoll_create1(EPOLL_CLOEXEC);
	cl->pool = calloc(t->conns, sizeof(*cl->pool));
	cl->free_list = calloc(t->conns, sizeof(*cl->free_list));
	if (cl->ep < 0 || cl->pool == NULL || cl->free_list == NULL)
		return -1;
	for (unsigned i = 0; i < t->conns; i++) {
		cl->pool[i].fd = -1;
		cl->free_list[cl->n_free++] = &cl->pool[t->conns - 1 - i];
	}
	if (o->request != NULL) {
		n = snprintf(cl->request, sizeof(cl->request),
			     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsbench\r\nConnection: close\r\n\r\n",
			     o->request, o->sni != NULL ? o->sni : o->host);
		if (n < 0 || (size_t)n >= sizeof(cl->request))
			return -1;
		cl->request_len = (size_t)n;
	}
	return client_ctx(cl);
}

void *
bench_client_run(void *arg)
{
	struct bench_thread *t = arg;
	struct bench_client *cl = calloc(1, sizeof(*cl));
	struct rusage ru;

	t->rc = -1;
	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
			fprintf(stderr, "tlsbench: cannot pin thread %u to core %d\n", t->id, t->cpu);
			free(cl);
			return NULL;
		}
	}
	if (cl == NULL || client_init(cl, t) != 0) {
		unsigned long e = ERR_get_error();

		fprintf(stderr, "tlsbench: thread %u setup failed: %s\n", t->id,
			e != 0 ? ERR_error_string(e, NULL) : strerror(errno));
		if (cl != NULL)
			client_free(cl);
		return NULL;
	}
	t->rc = client_loop(cl);
	t->t_end = bench_now_s();
	if (getrusage(RUSAGE_THREAD, &ru) == 0)
		t->st.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
			      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	client_free(cl);
	return NULL;
}
