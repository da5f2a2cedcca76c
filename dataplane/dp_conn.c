/* Respond mode over any byte stream (dp_conn.h). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_alog.h"
#include "dp_conn.h"
#include "dp_gen.h"
#include "dp_log.h"
#include "dp_metrics.h"
#include "dp_proxy.h"
#include "hsk_store.h"
#include "hsk_suite.h"

#define DP_APP_TIMER_MS 200
#define DP_SERVICE_ROUNDS 64

static uint8_t dp_body[16384];

/* ---- connections ---- */

uint64_t
dp_conn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
dp_conn_set_peer(struct dp_conn *c, const struct sockaddr *sa, socklen_t len)
{
	if (len > sizeof(c->peer))
		len = sizeof(c->peer);
	memcpy(&c->peer, sa, len);
}

/* The first cause of the end is kept. */
static void
dp_conn_end(struct dp_conn *c, enum dp_end why, uint8_t alert)
{
	if (c->end != DP_END_CLOSED)
		return;
	c->end = (uint8_t)why;
	c->alert = alert;
}

static const char *
dp_conn_end_name(const struct dp_conn *c, char *buf, size_t cap)
{
	switch (c->end) {
	case DP_END_ALERT:
		snprintf(buf, cap, "alert:%s", hsk_alert_name(c->alert));
		return buf;
	case DP_END_PEER_ALERT:
		snprintf(buf, cap, "peer_alert:%s", hsk_alert_name(c->alert));
		return buf;
	case DP_END_CLOSE_NOTIFY:
		return "close_notify";
	case DP_END_EOF:
		return "eof";
	case DP_END_RESET:
		return "reset";
	case DP_END_HS_TIMEOUT:
		return "handshake_timeout";
	case DP_END_IDLE_TIMEOUT:
		return "idle_timeout";
	case DP_END_SHUTDOWN:
		return "shutdown";
	case DP_END_CLOSED:
	default:
		return "closed";
	}
}

/* The handshake just ended: count it by version, suite and resumption,
 * with its latency (from hsk_conn's public accessors: the engine has no
 * clock). */
static void
dp_conn_handshake_done(struct dp_conn *c)
{
	struct hsk_conn_info info;

	c->hs_done = true;
	hsk_conn_info(c->tls, &info);
	c->hs_ns = c->first_ns != 0 ? dp_conn_now_ns() - c->first_ns : 0;
	if (c->app->mx != NULL)
		dp_mx_handshake(c->app->mx, info.suite, info.resumed, c->hs_ns);
}

/* Its access log line. */
static void
dp_conn_log(struct dp_conn *c)
{
	struct hsk_conn_info info;
	struct dp_alog_rec r;
	const struct hsk_suite *suite;
	struct timespec ts;
	char why[64];

	hsk_conn_info(c->tls, &info);
	suite = info.suite != 0 ? hsk_suite_by_id(info.suite) : NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(&r, 0, sizeof(r));
	r.time_s = (long long)ts.tv_sec;
	r.time_ns = ts.tv_nsec;
	r.peer = c->peer;
	r.sni = info.sni;
	r.version = c->hs_done ? info.version : 0;
	r.suite = c->hs_done && suite != NULL ? suite->iana : "";
	r.resumed = c->hs_done && info.resumed;
	r.established = c->hs_done;
	r.hs_ms = c->hs_done ? (double)c->hs_ns / 1e6 : -1;
	r.bytes_in = c->bytes_in;
	r.bytes_out = c->bytes_out;
	r.backend = c->proxy != NULL ? dp_proxy_backend(c->proxy) : NULL;
	r.close = dp_conn_end_name(c, why, sizeof(why));
	dp_alog_add(c->app->alog, &r);
}

/* The connection is gone: a handshake that began and did not end is a
 * failure, counted by the alert we sent; the access log line. */
static void
dp_conn_finish(struct dp_conn *c)
{
	struct dp_app *a = c->app;

	if (!c->hs_done && hsk_conn_completed(c->tls))
		dp_conn_handshake_done(c); /* ended in the call that closed it */
	if (!c->hs_done && c->first_ns != 0 && a->mx != NULL)
		dp_mx_handshake_failed(a->mx, c->end == DP_END_ALERT ? c->alert : -1);
	if (a->alog != NULL)
		dp_conn_log(c);
}

static void
dp_conn_release(struct dp_conn *c)
{
	struct dp_app *a = c->app;
	struct dp_hold *h = c->hold;

	dp_conn_finish(c);

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	a->n_conns--;
	if (c->handshaking)
		a->n_handshaking--;
	dp_proxy_free(c->proxy);
	hsk_conn_free(c->tls);
	free(c);
	dp_hold_conn_gone(a, h); /* may free its generation's pool: after dp_proxy_free */
}

/* Close the transport now; the object goes when its crypto job is back.
 * Returns whether c still exists. */
static bool
dp_conn_kill(struct dp_conn *c)
{
	if (c->io != NULL) {
		c->ops->close(c->io, c->dead);
		c->io = NULL;
		c->app->stats.closed++;
	}
	c->dead = true;
	if (hsk_conn_crypto_pending(c->tls))
		return true;
	if (c->proxy != NULL) {
		/* Its backend socket's event may follow in this epoll batch:
		 * free it with the completed jobs, after the batch. */
		if (!c->release_queued) {
			c->release_queued = true;
			c->reap_next = c->app->reap;
			c->app->reap = c;
		}
		return true;
	}
	dp_conn_release(c);
	return false;
}

struct dp_conn *
dp_conn_new(struct dp_app *a, const struct hsk_ctx *ctx, const struct dp_io_ops *ops, void *io)
{
	struct dp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->tls = hsk_conn_new(ctx, &a->hw);
	if (c->tls == NULL) {
		free(c);
		return NULL;
	}
	c->ops = ops;
	c->io = io;
	c->app = a;
	c->hold = a->hold;
	if (c->hold != NULL)
		c->hold->conns++;
	c->writable = true;
	c->started_ms = c->active_ms = a->now_ms;
	dp_http_init(&c->http);
	hsk_conn_set_user(c->tls, c);
	c->next = a->conns;
	if (a->conns != NULL)
		a->conns->prev = c;
	a->conns = c;
	a->n_conns++;
	c->handshaking = true;
	a->n_handshaking++;
	a->stats.accepted++;
	return c;
}

bool
dp_app_admit(struct dp_app *a)
{
	if (a->n_conns >= a->cfg->max_conns) {
		a->stats.refused_conns++;
		return false;
	}
	if (a->n_handshaking >= a->cfg->max_handshakes) {
		a->stats.refused_handshakes++;
		return false;
	}
	return true;
}

/* Send what the engine has for the transport. Not while its crypto job
 * is pending: the rest of the flight (CertificateVerify and Finished, or
 * ServerKeyExchange and ServerHelloDone) follows at the end of this poll
 * iteration, when the executor flushes, and goes out with the first part
 * in one send (one segment series instead of two). */
static bool
dp_conn_flush(struct dp_conn *c)
{
	const uint8_t *p;
	size_t n;
	bool progress = false;

	if (hsk_conn_crypto_pending(c->tls))
		return false;
	while (c->writable && c->io != NULL && (n = hsk_conn_out(c->tls, &p)) > 0) {
		ssize_t r = c->ops->send(c->io, p, n);

		if (r > 0) {
			hsk_conn_out_done(c->tls, (size_t)r);
			c->bytes_out += (uint64_t)r;
			if (c->app->mx != NULL)
				dp_mx_add(&c->app->mx->bytes_out, (uint64_t)r);
			c->active_ms = c->app->now_ms; /* the peer is reading */
			progress = true;
		} else if (r == 0 || r == DP_IO_AGAIN) {
			c->writable = false;
		} else {
			dp_conn_end(c, DP_END_RESET, 0);
			c->closing = true;
			c->dead = true; /* peer gone: nothing more can be sent */
			return false;
		}
	}
	return progress;
}

/* Queue a response for the request just parsed. */
static void
dp_conn_answer(struct dp_conn *c, int status, bool keep_alive, bool head_only)
{
	uint64_t body = status == 200 ? c->app->cfg->response_size : 0;

	if (c->app->draining)
		keep_alive = false; /* "Connection: close": the server is going away */

	c->head_len = dp_http_head(c->head, sizeof(c->head), status, body, keep_alive);
	c->head_off = 0;
	c->body_left = head_only ? 0 : body;
	c->close_after = !keep_alive;
	c->app->stats.requests++;
}

static bool
dp_conn_responding(const struct dp_conn *c)
{
	return c->head_off < c->head_len || c->body_left > 0;
}

/* Write the pending response into the engine as far as it takes it. */
static bool
dp_conn_respond(struct dp_conn *c)
{
	bool progress = false;
	size_t taken;

	while (c->head_off < c->head_len) {
		if (hsk_conn_app_write(c->tls, (const uint8_t *)c->head + c->head_off,
				       c->head_len - c->head_off, &taken) != HSK_OK) {
			c->closing = true;
			return false;
		}
		if (taken == 0)
			return progress;
		c->head_off += taken;
		progress = true;
	}
	while (c->body_left > 0) {
		size_t n = c->body_left < sizeof(dp_body) ? (size_t)c->body_left : sizeof(dp_body);

		if (hsk_conn_app_write(c->tls, dp_body, n, &taken) != HSK_OK) {
			c->closing = true;
			return false;
		}
		if (taken == 0)
			return progress;
		c->body_left -= taken;
		progress = true;
	}
	if (progress && c->close_after) {
		hsk_conn_close(c->tls);
		c->closing = true;
	}
	return progress;
}

/* Decrypted bytes -> HTTP parser -> responses, one at a time. */
static bool
dp_conn_requests(struct dp_conn *c)
{
	struct dp_http_req req;
	bool progress = false;

	while (!dp_conn_responding(c) && !c->closing) {
		uint8_t buf[4096];
		size_t n;

		switch (dp_http_next(&c->http, &req)) {
		case DP_HTTP_REQUEST:
			dp_conn_answer(c, 200, req.keep_alive, req.head);
			return true;
		case DP_HTTP_BAD:
			dp_conn_answer(c, 400, false, false);
			return true;
		case DP_HTTP_TOO_LARGE:
			dp_conn_answer(c, 431, false, false);
			return true;
		case DP_HTTP_NONE:
		default:
			break;
		}
		if (hsk_conn_app_pending(c->tls) == 0)
			return progress;
		n = hsk_conn_app_read(c->tls, buf, sizeof(buf) < DP_HTTP_MAX_HEAD - c->http.len
							   ? sizeof(buf)
							   : DP_HTTP_MAX_HEAD - c->http.len);
		if (n == 0)
			return progress;
		(void)dp_http_feed(&c->http, buf, n);
		if (hsk_conn_app_pending(c->tls) == 0)
			c->need_recv = true; /* the engine stopped at this record */
		progress = true;
	}
	return progress;
}

static void
dp_conn_result(struct dp_conn *c, hsk_err err)
{
	if (!c->hs_done && hsk_conn_completed(c->tls))
		dp_conn_handshake_done(c);
	if (err == HSK_OK || err == HSK_WANT_INPUT || err == HSK_WANT_CRYPTO)
		return;
	if (err == HSK_CLOSED)
		dp_conn_end(c, DP_END_CLOSE_NOTIFY, 0);
	else if (HSK_IS_ALERT(err))
		dp_conn_end(c, DP_END_ALERT, HSK_ALERT_CODE(err));
	else if (HSK_IS_PEER_ALERT(err))
		dp_conn_end(c, DP_END_PEER_ALERT, HSK_ALERT_CODE(err));
	if (err == HSK_CLOSED && c->proxy != NULL)
		return; /* half-close: the relay ends the client's direction */
	/* An alert (ours or the peer's) or close_notify: send what the
	 * engine still has (our alert or close_notify), then close. */
	if (HSK_IS_ALERT(err))
		dp_log(DP_LOG_DEBUG, "worker %u: sent alert %s", c->app->id, hsk_alert_name(HSK_ALERT_CODE(err)));
	c->closing = true;
}

/* Bytes from the client: the first starts the handshake's clock. */
static void
dp_conn_got(struct dp_conn *c, size_t n)
{
	if (c->first_ns == 0)
		c->first_ns = dp_conn_now_ns();
	c->bytes_in += n;
	if (c->app->mx != NULL)
		dp_mx_add(&c->app->mx->bytes_in, n);
}

/* Pull from the transport into the engine's buffer. */
static bool
dp_conn_read(struct dp_conn *c)
{
	size_t space;
	uint8_t *buf = hsk_conn_in_buf(c->tls, &space);
	ssize_t r;

	if (space == 0)
		return false;
	r = c->ops->recv(c->io, buf, space);
	if (r > 0) {
		hsk_conn_in_commit(c->tls, (size_t)r);
		dp_conn_got(c, (size_t)r);
		c->need_recv = true;
		c->active_ms = c->app->now_ms;
		/* A short read drained the socket: skip the read that would
		 * only say "again" (edge-triggered: new bytes raise a new
		 * event). Not after a FIN, whose edge is already consumed. */
		if ((size_t)r < space && !c->rdhup)
			c->readable = false;
		return true;
	}
	if (r == 0) {
		/* FIN: nothing more will come. The relay may still have
		 * the backend's answer to send (a half-close). */
		c->eof = true;
		c->readable = false;
		dp_conn_end(c, DP_END_EOF, 0);
		if (c->proxy == NULL)
			c->closing = true;
		return true;
	}
	c->readable = false;
	if (r != DP_IO_AGAIN) {
		dp_conn_end(c, DP_END_RESET, 0);
		c->closing = true;
		c->dead = true;
	}
	return false;
}

bool
dp_conn_service(struct dp_conn *c)
{
	for (int round = 0; round < DP_SERVICE_ROUNDS && !c->dead; round++) {
		bool progress = false;

		if (c->proxy != NULL) {
			progress |= dp_proxy_relay(c->proxy);
		} else {
			progress |= dp_conn_requests(c);
			progress |= dp_conn_respond(c);
		}
		if (c->need_recv && !hsk_conn_crypto_pending(c->tls) && hsk_conn_app_pending(c->tls) == 0) {
			size_t zero = 0;

			c->need_recv = false;
			dp_conn_result(c, hsk_conn_recv(c->tls, NULL, &zero));
			progress = true;
		}
		progress |= dp_conn_flush(c);
		if (c->readable && !c->eof && c->ops->recv != NULL && !c->closing &&
		    !hsk_conn_crypto_pending(c->tls))
			progress |= dp_conn_read(c);
		if (c->closing && !hsk_conn_crypto_pending(c->tls)) {
			const uint8_t *p;

			if (c->dead || hsk_conn_out(c->tls, &p) == 0)
				return dp_conn_kill(c);
		}
		if (!progress)
			break;
	}
	if (c->dead && !hsk_conn_crypto_pending(c->tls))
		return dp_conn_kill(c);
	if (c->handshaking && hsk_conn_completed(c->tls)) {
		c->handshaking = false;
		c->app->n_handshaking--;
	}
	if (c->ops->room != NULL && c->io != NULL)
		c->ops->room(c->io);
	return true;
}

size_t
dp_conn_room(struct dp_conn *c)
{
	size_t space = 0;

	if (c->closing || c->dead || hsk_conn_crypto_pending(c->tls))
		return 0;
	(void)hsk_conn_in_buf(c->tls, &space);
	return space;
}

size_t
dp_conn_push(struct dp_conn *c, const uint8_t *p, size_t len)
{
	size_t took = 0;

	while (took < len) {
		size_t space = dp_conn_room(c), n;
		uint8_t *buf;

		if (space == 0)
			break;
		buf = hsk_conn_in_buf(c->tls, &space);
		n = len - took < space ? len - took : space;
		memcpy(buf, p + took, n);
		hsk_conn_in_commit(c->tls, n);
		dp_conn_got(c, n);
		took += n;
		c->need_recv = true;
		c->active_ms = c->app->now_ms;
		if (!dp_conn_service(c))
			break;
	}
	return took;
}

bool
dp_conn_eof(struct dp_conn *c)
{
	dp_conn_end(c, DP_END_EOF, 0);
	/* proxied: the backend's answer may still come (a half-close) */
	if (c->proxy != NULL)
		c->eof = true;
	else
		c->closing = true;
	return dp_conn_service(c);
}

void
dp_conn_gone(struct dp_conn *c)
{
	dp_conn_end(c, DP_END_RESET, 0);
	c->io = NULL;
	c->closing = true;
	c->dead = true;
	c->app->stats.closed++;
	(void)dp_conn_kill(c);
}

/* A respond-mode connection waiting for its next request: nothing
 * parsed, nothing buffered, nothing being answered. */
static bool
dp_conn_idle(struct dp_conn *c)
{
	return c->proxy == NULL && !c->dead && !c->closing && hsk_conn_established(c->tls) &&
	       !hsk_conn_crypto_pending(c->tls) && !dp_conn_responding(c) && c->http.len == 0 &&
	       c->http.body_left == 0 && hsk_conn_app_pending(c->tls) == 0;
}

void
dp_app_drain_start(struct dp_app *a)
{
	struct dp_conn *c, *next;

	for (c = a->conns; c != NULL; c = next) {
		next = c->next;
		if (!dp_conn_idle(c))
			continue;
		hsk_conn_close(c->tls); /* close_notify, then close once sent */
		c->closing = true;
		(void)dp_conn_service(c);
	}
}

/* ---- the worker's side ---- */

/* A job is back: the handshake goes on at once, so that its flight leaves
 * before the next job runs, not when the whole batch of the iteration is
 * done (issue 14: the client waited, idle, for flights long ready). A
 * connection closed while its job ran goes now. */
static void
dp_app_go_on(struct hsk_conn *t)
{
	struct dp_conn *c = hsk_conn_user(t);

	if (c->dead) {
		dp_conn_release(c);
		return;
	}
	dp_conn_result(c, hsk_conn_resume(c->tls));
	(void)dp_conn_service(c);
}

static void
dp_app_on_done(struct acc_job *job, void *arg)
{
	struct hsk_conn *t = hsk_conn_from_job(job);

	(void)arg;
	if (t != NULL)
		dp_app_go_on(t);
}

void
dp_app_lookup_done(struct hsk_store_lookup *l, void *arg)
{
	struct hsk_conn *t = hsk_conn_from_lookup(l);

	(void)arg;
	if (t != NULL)
		dp_app_go_on(t);
}

/* Teardown: the jobs complete, no connection goes on. */
static void
dp_app_on_drop(struct acc_job *job, void *arg)
{
	(void)arg;
	(void)hsk_conn_from_job(job);
}

/* After a burst, give the freed memory back. glibc keeps the chunks
 * freed in its arenas, so the RSS would stay at the burst's high-water
 * mark of live connections (a flood of aborted handshakes leaves
 * hundreds behind); once the worker has no connection left, malloc_trim
 * returns the whole free pages. At most once per burst. */
static void
dp_app_trim(struct dp_app *a)
{
	if (a->n_conns != 0 || a->stats.closed == a->trimmed_at)
		return;
	a->trimmed_at = a->stats.closed;
	(void)malloc_trim(0);
}

static void
dp_app_timers(struct dp_app *a)
{
	const struct cfg *cfg = a->cfg;
	struct dp_conn *c, *next;

	for (c = a->conns; c != NULL; c = next) {
		bool est;

		next = c->next;
		if (c->dead || hsk_conn_crypto_pending(c->tls))
			continue;
		est = hsk_conn_established(c->tls);
		if (est ? cfg->idle_timeout_ms == 0 || a->now_ms - c->active_ms < cfg->idle_timeout_ms
			: a->now_ms - c->started_ms < cfg->handshake_timeout_ms)
			continue;
		a->stats.timeouts++;
		dp_conn_end(c, est ? DP_END_IDLE_TIMEOUT : DP_END_HS_TIMEOUT, 0);
		if (!est || c->closing) {
			(void)dp_conn_kill(c); /* nothing moved since: give up */
		} else {
			/* idle: close_notify, then close once it is sent */
			hsk_conn_close(c->tls);
			c->closing = true;
			c->active_ms = a->now_ms;
			(void)dp_conn_service(c);
		}
	}
}

int
dp_app_init(struct dp_app *a, unsigned id, const struct cfg *cfg, struct hsk_sess_cache *cache)
{
	static const char *backends[] = { "auto", "openssl", "ifma" };
	const char *backend = backends[cfg->accel <= CFG_ACCEL_IFMA ? cfg->accel : 0];

	memset(dp_body, 'x', sizeof(dp_body)); /* the same bytes from every thread */
	a->id = id;
	a->cfg = cfg;
	a->hw.id = id;
	a->hw.cache = cache;
	a->hw.exec = acc_exec_new(backend);
	if (a->hw.exec == NULL) {
		dp_log(DP_LOG_ERROR, "worker %u: crypto backend '%s' is not available here", id, backend);
		return -1;
	}
	acc_exec_set_hold(a->hw.exec, cfg->batch_delay_us, cfg->batch_min);
	a->mx = dp_mx_new();
	if (a->mx == NULL) {
		dp_log(DP_LOG_ERROR, "worker %u: out of memory", id);
		return -1;
	}
	if (cfg->access_log != NULL &&
	    (a->alog = dp_alog_open(cfg->access_log, cfg->log_format == CFG_LOG_JSON, &a->mx->alog_lines,
				    &a->mx->alog_dropped)) == NULL)
		return -1;
	return 0;
}

/* Seconds since the epoch, from the coarse clock (no system call, a
 * few ns): only compared with OCSP nextUpdate times. */
static uint64_t
dp_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts.tv_sec > 0 ? (uint64_t)ts.tv_sec : 0;
}

void
dp_app_tick(struct dp_app *a, uint64_t now_ms)
{
	a->now_ms = now_ms;
	a->now_us = now_ms * 1000;
	a->hw.now_s = now_ms / 1000;
	a->hw.wall_s = dp_wall_s(); /* OCSP staples expire by the calendar */
	if (a->hw.ocsp_expired > 0 && !a->ocsp_expiry_logged) {
		a->ocsp_expiry_logged = true;
		dp_log(DP_LOG_WARN, "worker %u: an OCSP response passed its nextUpdate: no longer stapled "
		       "(refresh the file)", a->id);
	}
}

void
dp_app_tick_us(struct dp_app *a, uint64_t now_us)
{
	dp_app_tick(a, now_us / 1000);
	a->now_us = now_us;
}

/* Jobs left queued after the iteration are either held (their wait began
 * in dp_app_run_jobs: a deadline) or submitted by the last completions
 * and worth running at once (no hold: no deadline). */
bool
dp_app_busy(const struct dp_app *a)
{
	uint64_t deadline;

	if (a->hw.exec == NULL || acc_exec_pending(a->hw.exec) == 0)
		return false;
	deadline = acc_exec_deadline(a->hw.exec);
	return deadline == UINT64_MAX || deadline <= a->now_us;
}

uint64_t
dp_app_deadline_us(const struct dp_app *a)
{
	return a->hw.exec != NULL ? acc_exec_deadline(a->hw.exec) : UINT64_MAX;
}

/* Run the queued jobs (their owners go on as each batch is done); again
 * while the jobs those submitted (a signature after its key share) gain
 * nothing from waiting for the next iteration. With the bounded flush
 * delay, only when the executor says they are due: held jobs wait for
 * more of their kind or their deadline. */
static void
dp_app_run_jobs(struct dp_app *a)
{
	while (acc_exec_due(a->hw.exec, a->now_us)) {
		acc_exec_flush(a->hw.exec, dp_app_on_done, a);
		if (a->cfg->batch_delay_us == 0 && !acc_exec_ready(a->hw.exec))
			break;
	}
}

void
dp_app_flush(struct dp_app *a)
{
	dp_app_run_jobs(a);
	if (a->pool != NULL)
		dp_mx_proxy_publish(a);
	/* Proxied connections that died in this iteration: no event of the
	 * batch can name them any more. */
	while (a->reap != NULL) {
		struct dp_conn *c = a->reap;

		a->reap = c->reap_next;
		dp_conn_release(c);
	}
	if (a->now_ms >= a->next_timer_ms) {
		dp_app_timers(a);
		dp_app_trim(a);
		if (a->alog != NULL)
			dp_alog_flush(a->alog);
		a->next_timer_ms = a->now_ms + DP_APP_TIMER_MS;
	}
}

void
dp_app_teardown(struct dp_app *a)
{
	/* Complete every job so that no connection is left pending. */
	while (a->hw.exec != NULL && acc_exec_pending(a->hw.exec) > 0)
		acc_exec_flush(a->hw.exec, dp_app_on_drop, a);
	while (a->conns != NULL) {
		struct dp_conn *c = a->conns;

		if (c->io != NULL)
			c->ops->close(c->io, true);
		dp_conn_end(c, DP_END_SHUTDOWN, 0);
		dp_conn_release(c);
	}
	a->reap = NULL; /* those were on the list of connections too */
	dp_alog_close(a->alog);
	a->alog = NULL;
	hsk_worker_release(&a->hw);
	if (a->hw.exec != NULL)
		acc_exec_stats(a->hw.exec, &a->acc);
	acc_exec_free(a->hw.exec);
	a->hw.exec = NULL;
	dp_mx_free(a->mx); /* the metrics thread is stopped before teardown */
	a->mx = NULL;
}

void
dp_log_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	/* What malloc hands out (arenas and mmapped blocks): unlike the RSS,
	 * it does not depend on which pages of the pooled objects were
	 * touched, so a leak shows here first. */
	dp_log(DP_LOG_INFO, "process: heap in use %zu bytes (%zu in arenas, %zu mmapped in %zu blocks)",
	       mi.uordblks + mi.hblkhd, mi.uordblks, mi.hblkhd, mi.hblks);
}

/* Another thread's counter, for a log line. */
static unsigned long long
dp_read(const uint64_t *p)
{
	return (unsigned long long)__atomic_load_n(p, __ATOMIC_RELAXED);
}

void
dp_app_log_stats(const struct dp_app *a, int cpu)
{
	struct acc_stats as = a->acc;

	if (a->hw.exec != NULL)
		acc_exec_stats(a->hw.exec, &as); /* racy read of counters, for a log line */
	/* Live objects (back to zero when every client is gone) and what
	 * the limits refused. */
	dp_log(DP_LOG_INFO,
	       "worker %u: live connections %zu handshaking %zu crypto pending %zu pooled %u; refused at "
	       "accept: max_conns %llu max_handshakes %llu; cut: message too large %llu renegotiations "
	       "%llu key updates %llu",
	       a->id, __atomic_load_n(&a->n_conns, __ATOMIC_RELAXED),
	       __atomic_load_n(&a->n_handshaking, __ATOMIC_RELAXED),
	       a->hw.exec != NULL ? acc_exec_pending(a->hw.exec) : (size_t)0,
	       __atomic_load_n(&a->hw.conn_pool_n, __ATOMIC_RELAXED), dp_read(&a->stats.refused_conns),
	       dp_read(&a->stats.refused_handshakes), dp_read(&a->hw.hs_too_large),
	       dp_read(&a->hw.renegotiations_cut), dp_read(&a->hw.key_updates_cut));
	dp_log(DP_LOG_INFO,
	       "worker %u (cpu %d): accepted %llu, handshakes full %llu resumed %llu failed %llu, "
	       "requests %llu, timeouts %llu; crypto jobs %llu in %llu batches (%llu jobs in %llu "
	       "IFMA passes, %llu fault rechecks) in %llu flushes (%llu held to the deadline)",
	       a->id, cpu, (unsigned long long)a->stats.accepted,
	       (unsigned long long)__atomic_load_n(&a->hw.handshakes_full, __ATOMIC_RELAXED),
	       (unsigned long long)__atomic_load_n(&a->hw.handshakes_resumed, __ATOMIC_RELAXED),
	       (unsigned long long)__atomic_load_n(&a->hw.handshake_failures, __ATOMIC_RELAXED),
	       (unsigned long long)a->stats.requests, (unsigned long long)a->stats.timeouts,
	       (unsigned long long)as.jobs, (unsigned long long)as.batches, (unsigned long long)as.lane_jobs,
	       (unsigned long long)as.lane_passes, (unsigned long long)as.fault_rechecks,
	       (unsigned long long)as.flushes, (unsigned long long)as.held_flushes);
}
