/* The sans-IO connection: input buffering, the record loop, handshake
 * message reassembly, alerts, application data and output. The TLS 1.2
 * messages themselves live in hsk_srv12.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "acc_exec.h"
#include "hsk_algs.h"
#include "hsk_conn_priv.h"
#include "hsk_suite.h"

#define HSK_POOL_MAX 256

#define TRY_OUT(expr)                                                                              \
	do {                                                                                       \
		hsk_err e_ = (expr);                                                               \
		if (e_ != HSK_OK)                                                                  \
			return e_;                                                                 \
	} while (0)
#define HSK_MAX_WARNINGS 4
/* Renegotiation ClientHellos refused with a no_renegotiation warning on
 * one connection; the next one ends it (each costs us a record and an
 * alert, for nothing: a client that goes on is not a client that can
 * proceed without renegotiating, RFC 5246 7.2.2). */
#define HSK_MAX_RENEG_REFUSALS 3

static const uint8_t hsk_zero_app;

struct hsk_conn *
hsk_conn_new(const struct hsk_ctx *ctx, struct hsk_worker *w)
{
	struct hsk_conn *c = w->conn_pool;
	uint32_t gen = 0;

	if (c != NULL) {
		w->conn_pool = c->pool_next;
		w->conn_pool_n--;
		gen = c->gen;
	} else {
		c = malloc(sizeof(*c));
		if (c == NULL)
			return NULL;
	}
	/* Only the header is cleared: the buffers are written before read. */
	memset(c, 0, offsetof(struct hsk_conn, in));
	c->gen = gen + 1;
	c->ctx = ctx;
	c->w = w;
	c->started_s = w->now_s;
	c->transcript = EVP_MD_CTX_new();
	c->hs_cap = 16384 + 4;
	c->hs = malloc(c->hs_cap);
	if (c->transcript == NULL || c->hs == NULL) {
		EVP_MD_CTX_free(c->transcript);
		free(c->hs);
		free(c);
		return NULL;
	}
	return c;
}

static void
hsk_conn_wipe(struct hsk_conn *c)
{
	rec_dir_clear(&c->rd);
	rec_dir_clear(&c->wr);
	acc_eph_clear(&c->eph);
	EVP_MD_CTX_free(c->transcript);
	c->transcript = NULL;
	EVP_PKEY_free(c->peer_key);
	c->peer_key = NULL;
	if (c->raw != NULL) {
		OPENSSL_cleanse(c->raw, c->raw_len);
		free(c->raw);
		c->raw = NULL;
	}
	free(c->hs);
	c->hs = NULL;
	OPENSSL_cleanse(c->master, sizeof(c->master));
	OPENSSL_cleanse(c->secret13, sizeof(c->secret13));
	OPENSSL_cleanse(c->c_traffic, sizeof(c->c_traffic));
	OPENSSL_cleanse(c->s_traffic, sizeof(c->s_traffic));
	OPENSSL_cleanse(c->key_block, sizeof(c->key_block));
	OPENSSL_cleanse(c->job_in, sizeof(c->job_in));
	OPENSSL_cleanse(c->job_out, sizeof(c->job_out));
	/* Plaintext of application records may remain in in[]/out[]. */
	OPENSSL_cleanse(c->in, c->in_len);
	OPENSSL_cleanse(c->out, c->out_len);
}

void
hsk_conn_free(struct hsk_conn *c)
{
	struct hsk_worker *w;

	if (c == NULL)
		return;
	w = c->w;
	hsk_conn_wipe(c);
	if (w->conn_pool_n < HSK_POOL_MAX) {
		c->pool_next = w->conn_pool;
		w->conn_pool = c;
		w->conn_pool_n++;
		return;
	}
	free(c);
}

void
hsk_worker_release(struct hsk_worker *w)
{
	struct hsk_conn *c, *next;

	for (c = w->conn_pool; c != NULL; c = next) {
		next = c->pool_next;
		free(c);
	}
	w->conn_pool = NULL;
	w->conn_pool_n = 0;
}

void
hsk_conn_set_user(struct hsk_conn *c, void *user)
{
	c->user = user;
}

void *
hsk_conn_user(const struct hsk_conn *c)
{
	return c->user;
}

uint64_t
hsk_fleet_now_s(const struct hsk_worker *w)
{
	return w->wall_s != 0 ? w->wall_s : w->now_s;
}

uint64_t
hsk_conn_started_s(const struct hsk_conn *c)
{
	return c->started_s;
}

/* ---- output ---- */

static struct hsk_wr
hsk_out_begin(struct hsk_conn *c)
{
	struct hsk_wr w;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	hsk_wr_init(&w, c->out, HSK_OUT_CAP);
	w.len = c->out_len;
	return w;
}

hsk_err
hsk_out_record(struct hsk_conn *c, uint8_t type, const uint8_t *p, size_t len)
{
	struct hsk_wr w = hsk_out_begin(c);
	hsk_err err;

	err = rec_seal(&c->wr, type, p, len, &w);
	if (err != HSK_OK || w.err)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	c->out_len = w.len;
	return HSK_OK;
}

void
hsk_transcript_add(struct hsk_conn *c, const uint8_t *p, size_t len)
{
	if (len == 0)
		return;
	EVP_DigestUpdate(c->transcript, p, len);
	if (c->raw != NULL) {
		if (c->raw_len + len > hsk_transcript_cap(c)) {
			/* Too long for a CertificateVerify: it will fail. */
			c->raw_len = hsk_transcript_cap(c) + 1;
			return;
		}
		memcpy(c->raw + c->raw_len, p, len);
		c->raw_len += len;
	}
}

hsk_err
hsk_transcript_hash(struct hsk_conn *c, uint8_t *out, size_t *len)
{
	EVP_MD_CTX *tmp = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = tmp != NULL && EVP_MD_CTX_copy_ex(tmp, c->transcript) && EVP_DigestFinal_ex(tmp, out, &n);
	EVP_MD_CTX_free(tmp);
	*len = n;
	return ok ? HSK_OK : HSK_ALERT(HSK_AD_INTERNAL_ERROR);
}

/* A handshake message: header + body into the transcript, then records
 * of its own, one per 2^14 bytes. RFC 5246 6.2.1 lets messages share a
 * record, but clients that read a flight record by record expect one
 * message each (OpenSSL's servers send them so): sslscan's group probe
 * reads the record after the ServerHello for the ServerKeyExchange and,
 * when that record never comes, waits 3 s per group for it. */
hsk_err
hsk_out_hs(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t hdr[4] = { type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	uint8_t buf[REC_MAX_PLAIN];

	hsk_transcript_add(c, hdr, 4);
	hsk_transcript_add(c, body, len);
	for (size_t done = 0, total = 4 + len; done < total;) {
		size_t n = total - done < sizeof(buf) ? total - done : sizeof(buf);
		size_t k = done < 4 ? (4 - done < n ? 4 - done : n) : 0;

		/* n bytes of hdr || body, from offset done */
		memcpy(buf, hdr + done, k);
		if (n > k)
			memcpy(buf + k, body + (done + k - 4), n - k);
		TRY_OUT(hsk_out_record(c, REC_HANDSHAKE, buf, n));
		done += n;
	}
	return HSK_OK;
}

/* A fatal alert (RFC 5246 7.2.2): sent once, then the connection is dead. */
static hsk_err
hsk_fail(struct hsk_conn *c, hsk_err err)
{
	bool was_established = c->state == HSK_ST_ESTABLISHED;

	if (c->err != HSK_OK)
		return c->err;
	c->err = err;
	c->state = HSK_ST_FAILED;
	c->app_n = 0;
	if (HSK_IS_ALERT(err)) {
		uint8_t alert[2] = { 2, HSK_ALERT_CODE(err) };

		c->w->alerts_sent++;
		if (hsk_out_record(c, REC_ALERT, alert, 2) != HSK_OK) {
			/* no room: drop pending output, the alert matters more */
			c->out_off = c->out_len = 0;
			if (hsk_out_record(c, REC_ALERT, alert, 2) != HSK_OK)
				c->out_len = 0;
		}
	}
	if (c->resumed || c->session_id_len)
		hsk_sess_cache_remove(c->w->cache, c->w->id, c->session_id, c->session_id_len);
	/* Only once the peer proved the key (its Finished checked): a
	 * ClientHello with a session ID seen in clear and then an alert
	 * would otherwise delete another client's session fleet-wide. */
	if (was_established)
		hsk_store_forget(c); /* a session the fleet may hold */
	if (!was_established)
		c->w->handshake_failures++;
	return err;
}

size_t
hsk_conn_out(struct hsk_conn *c, const uint8_t **p)
{
	*p = c->out + c->out_off;
	return c->out_len - c->out_off;
}

void
hsk_conn_out_done(struct hsk_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off >= c->out_len)
		c->out_off = c->out_len = 0;
}

/* ---- input ---- */

uint8_t *
hsk_conn_in_buf(struct hsk_conn *c, size_t *space)
{
	if (c->app_n == 0 && c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	/* RFC 8446 6.1: data after a closure alert is ignored. */
	*space = c->state >= HSK_ST_CLOSED || c->peer_closed ? 0 : HSK_IN_CAP - c->in_len;
	return c->in + c->in_len;
}

void
hsk_conn_in_commit(struct hsk_conn *c, size_t n)
{
	c->in_len += n;
}

static hsk_err
hsk_on_alert(struct hsk_conn *c, const uint8_t *p, size_t len)
{
	/* An alert record holds exactly one alert: an empty one is an empty
	 * fragment of a type that may not have any (RFC 5246 6.2.1, RFC 8446
	 * 5.1, 5.4), whatever padding came with it. */
	if (len == 0)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	if (len != 2)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	if (p[1] == HSK_AD_CLOSE_NOTIFY && c->half_close && c->state == HSK_ST_ESTABLISHED) {
		/* RFC 8446 6.1: the peer closed its write side only; ours
		 * stays open until the application closes it. */
		c->peer_closed = true;
		return HSK_CLOSED;
	}
	if (p[1] == HSK_AD_CLOSE_NOTIFY) {
		/* RFC 5246 7.2.1: answer with our own close_notify. */
		c->peer_closed = true;
		hsk_conn_close(c);
		c->state = HSK_ST_CLOSED;
		return HSK_CLOSED;
	}
	if (p[0] == 2) {
		c->err = HSK_PEER_ALERT(p[1]);
		if (c->state == HSK_ST_ESTABLISHED) /* the peer proved the key */
			hsk_store_forget(c); /* a session the fleet may hold */
		c->state = HSK_ST_FAILED;
		if (c->session_id_len)
			hsk_sess_cache_remove(c->w->cache, c->w->id, c->session_id, c->session_id_len);
		return c->err;
	}
	/* Warnings (user_canceled, no_certificate...) are ignored, a few. */
	if (++c->warn_alerts > HSK_MAX_WARNINGS)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	return HSK_OK;
}

/* Whether the client's message of this type, in the current state, must
 * end its record (RFC 8446 5.1: no message spans a key change): a
 * ClientHello (TLS 1.3 handshake keys or a HelloRetryRequest to wait for;
 * in TLS 1.2 too the client sends nothing before our flight), a TLS 1.3
 * Finished (application keys) or KeyUpdate (RFC 8446 4.6.3). */
static bool
hsk_changes_read_keys(const struct hsk_conn *c, uint8_t type)
{
	switch (type) {
	case HSK_MT_CLIENT_HELLO:
		return c->state == HSK_ST_CLIENT_HELLO;
	case HSK_MT_FINISHED:
		return c->version == 0x0304 && c->state == HSK_ST_FINISHED;
	case HSK_MT_KEY_UPDATE:
		return c->version == 0x0304 && c->state == HSK_ST_ESTABLISHED;
	default:
		return false;
	}
}

/* A message above the listener's maximum, counted. A ClientHello above
 * the largest its grammar allows cannot be well formed (decode_error, RFC
 * 8446 6.2); anything else is refused (handshake_failure). */
static hsk_err
hsk_hs_too_large(struct hsk_conn *c, size_t mlen)
{
	c->w->hs_too_large++;
	return HSK_ALERT(c->state == HSK_ST_CLIENT_HELLO && mlen > HSK_CLIENT_HELLO_MAX ? HSK_AD_DECODE_ERROR
										       : HSK_AD_HANDSHAKE_FAILURE);
}

/* Handle every complete message in the reassembly buffer, until one
 * starts a crypto job: the messages after it (a record may carry several,
 * RFC 5246 6.2.1) wait there for hsk_conn_resume(). */
static hsk_err
hsk_dispatch_handshake(struct hsk_conn *c)
{
	size_t off = 0;
	hsk_err err = HSK_OK;
	bool key_change;

	while (err == HSK_OK && c->hs_len - off >= 4) {
		const uint8_t *m = c->hs + off;
		size_t mlen = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];

		if (mlen > c->ctx->max_hs_msg)
			return hsk_hs_too_large(c, mlen);
		if (c->hs_len - off - 4 < mlen)
			break;
		key_change = hsk_changes_read_keys(c, m[0]);
		if (c->state == HSK_ST_ESTABLISHED && c->version == 0x0304) {
			err = hsk_srv13_post_handshake(c, m[0], m + 4, mlen);
		} else if (c->state == HSK_ST_ESTABLISHED) {
			/* Renegotiation: refused with a warning (RFC 5746 4.2,
			 * RFC 5246 7.2.2); the connection goes on, a few times. */
			if (m[0] != HSK_MT_CLIENT_HELLO)
				return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
			if (++c->reneg_refused > HSK_MAX_RENEG_REFUSALS) {
				c->w->renegotiations_cut++;
				return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
			}
			static const uint8_t warn[2] = { 1, HSK_AD_NO_RENEGOTIATION };
			err = hsk_out_record(c, REC_ALERT, warn, 2);
		} else if (c->version == 0x0304 && c->state != HSK_ST_CLIENT_HELLO) {
			err = hsk_srv13_message(c, m[0], m + 4, mlen);
		} else {
			err = hsk_srv12_message(c, m[0], m + 4, mlen);
		}
		if (err == HSK_WANT_CRYPTO && c->hello_kept)
			break; /* a store lookup: the ClientHello runs again on its answer */
		off += 4 + mlen;
		/* RFC 8446 5.1: a message before a key change ends its record. */
		if (key_change && off < c->hs_len && (err == HSK_OK || err == HSK_WANT_CRYPTO))
			err = HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	}
	if (off > 0) {
		memmove(c->hs, c->hs + off, c->hs_len - off);
		c->hs_len -= off;
	}
	return err;
}

/* Append a handshake fragment and handle every complete message. */
static hsk_err
hsk_on_handshake(struct hsk_conn *c, const uint8_t *p, size_t len)
{
	if (len == 0) /* RFC 5246 6.2.1: no zero-length handshake fragments */
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	if (c->hs_len + len > c->hs_cap) {
		/* Grown by doubling up to the largest message taken now (and
		 * the record that ends it, which may start the next message), so
		 * a large maximum costs memory only to messages that use it. */
		size_t max = (size_t)c->ctx->max_hs_msg + 4 + REC_MAX_PLAIN;
		size_t cap = c->hs_cap * 2 > c->hs_len + len ? c->hs_cap * 2 : c->hs_len + len;
		uint8_t *n;

		if (cap > max)
			cap = c->hs_len + len > max ? 0 : max;
		n = cap ? realloc(c->hs, cap) : NULL;

		if (cap == 0) /* the message being assembled is too large */
			return hsk_hs_too_large(c, c->hs_len >= 4 ? (size_t)c->hs[1] << 16 |
									 (size_t)c->hs[2] << 8 | c->hs[3]
								   : SIZE_MAX);
		if (n == NULL)
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		c->hs = n;
		c->hs_cap = cap;
	}
	memcpy(c->hs + c->hs_len, p, len);
	c->hs_len += len;
	return hsk_dispatch_handshake(c);
}

/* A client that sent early_data we refused: records under its early keys
 * are skipped, they fail to open under the handshake keys (or arrive
 * before we have any, after a HelloRetryRequest). The first record that
 * opens ends the skipping (RFC 8446 4.2.10). HSK_WANT_INPUT = skipped. */
static hsk_err
hsk_skip_early(struct hsk_conn *c, struct rec_hdr *h, uint8_t *frag, uint8_t **pt, size_t *ptlen)
{
	hsk_err err = HSK_ALERT(HSK_AD_BAD_RECORD_MAC);

	if (c->rd.suite != NULL)
		err = rec_open(&c->rd, h, frag, pt, ptlen);
	if (err == HSK_OK) {
		c->early_skip = 0;
		return HSK_OK;
	}
	if (h->len > c->early_skip)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	c->early_skip -= h->len;
	return HSK_WANT_INPUT;
}

/* The record loop: runs until it needs bytes, a crypto job, or the
 * application to read what it decrypted. */
static hsk_err
hsk_run(struct hsk_conn *c)
{
	hsk_err err;

	while (c->app_n == 0 && !c->job_pending && c->state < HSK_ST_CLOSED && !c->peer_closed) {
		struct rec_hdr h;
		uint8_t *frag, *pt;
		size_t ptlen, avail = c->in_len - c->in_off;
		const uint8_t *in = c->in + c->in_off;

		/* An SSLv2-format ClientHello (RFC 5246 E.2): refused. */
		if (!c->any_record && avail >= 3 && (in[0] & 0x80) && in[2] == 1)
			return hsk_fail(c, HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
		err = rec_hdr_parse(in, avail,
				    !c->rd.suite && !c->early_skip ? REC_MAX_PLAIN
				    : c->version == 0x0304 ? REC_MAX_CIPHER_13 : REC_MAX_CIPHER_12,
				    &h);
		if (err == HSK_WANT_INPUT)
			return HSK_WANT_INPUT;
		if (err != HSK_OK)
			return hsk_fail(c, err);
		c->any_record = true;
		frag = c->in + c->in_off + REC_HDR_LEN;
		c->in_off += REC_HDR_LEN + h.len;
		if (c->version == 0x0304 && h.type == REC_CHANGE_CIPHER_SPEC) {
			/* RFC 8446 5: an unprotected CCS of one byte 1 before the
			 * handshake ends is dropped; anything else is an error. */
			if (h.len != 1 || frag[0] != 1 || c->state == HSK_ST_ESTABLISHED)
				return hsk_fail(c, HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
			continue;
		}
		if (c->early_skip > 0 && h.type == REC_APPLICATION_DATA) {
			err = hsk_skip_early(c, &h, frag, &pt, &ptlen);
			if (err == HSK_WANT_INPUT)
				continue; /* skipped */
		} else {
			err = rec_open(&c->rd, &h, frag, &pt, &ptlen);
		}
		if (err != HSK_OK)
			return hsk_fail(c, err);
		if (h.type != REC_ALERT)
			c->warn_alerts = 0;
		/* RFC 8446 5.1: no other record between the pieces of a
		 * handshake message. */
		if (c->version == 0x0304 && h.type != REC_HANDSHAKE && c->hs_len != 0)
			return hsk_fail(c, HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
		switch (h.type) {
		case REC_HANDSHAKE:
			err = hsk_on_handshake(c, pt, ptlen);
			break;
		case REC_CHANGE_CIPHER_SPEC:
			/* One byte, 1, between whole messages (RFC 5246 7.1):
			 * anything else is not a ChangeCipherSpec message at all. */
			if (ptlen != 1 || pt[0] != 1 || c->state != HSK_ST_CCS || c->hs_len != 0)
				err = HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
			else
				err = hsk_srv12_ccs(c);
			break;
		case REC_ALERT:
			err = hsk_on_alert(c, pt, ptlen);
			if (err == HSK_CLOSED || HSK_IS_PEER_ALERT(err))
				return err;
			break;
		case REC_APPLICATION_DATA:
			if (c->state != HSK_ST_ESTABLISHED)
				err = HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
			if (ptlen > 0)
				c->key_updates = 0; /* progress: KeyUpdates bounded per data (hsk_srv13.c) */
			c->app_p = ptlen ? pt : &hsk_zero_app;
			c->app_n = ptlen;
			break;
		default:
			err = HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
			break;
		}
		if (err == HSK_WANT_CRYPTO)
			return err;
		if (err != HSK_OK)
			return hsk_fail(c, err);
	}
	if (c->err != HSK_OK)
		return c->err;
	if (c->job_pending)
		return HSK_WANT_CRYPTO;
	if (c->state == HSK_ST_CLOSED || (c->peer_closed && c->app_n == 0))
		return HSK_CLOSED;
	return c->app_n ? HSK_OK : HSK_WANT_INPUT;
}

hsk_err
hsk_conn_recv(struct hsk_conn *c, const uint8_t *in, size_t *len)
{
	size_t space, n = *len;
	uint8_t *dst;

	if (c->err != HSK_OK) {
		*len = 0;
		return c->err;
	}
	dst = hsk_conn_in_buf(c, &space);
	if (n > space)
		n = space;
	if (n > 0)
		memcpy(dst, in, n);
	hsk_conn_in_commit(c, n);
	*len = n;
	return hsk_run(c);
}

hsk_err
hsk_submit(struct hsk_conn *c, uint8_t op, uint16_t alg)
{
	struct acc_job *j = &c->job;

	j->op = op;
	j->alg = alg;
	j->owner = c;
	j->gen = c->gen;
	c->job_pending = true;
	acc_exec_submit(c->w->exec, j);
	return HSK_WANT_CRYPTO;
}

struct hsk_conn *
hsk_conn_from_job(struct acc_job *job)
{
	struct hsk_conn *c = job->owner;

	if (c == NULL || job->gen != c->gen || !c->job_pending)
		return NULL;
	c->job_pending = false;
	return c;
}

hsk_err
hsk_conn_resume(struct hsk_conn *c)
{
	hsk_err err;

	if (c->err != HSK_OK)
		return c->err;
	if (c->hello_kept) {
		c->hello_kept = false; /* the store answered: the kept ClientHello goes first */
		err = HSK_OK;
	} else {
		err = c->version == 0x0304 ? hsk_srv13_resume(c) : hsk_srv12_resume(c);
	}
	/* Messages that came in the job's record, after the message that
	 * started it (a TLS 1.2 CertificateVerify after ClientKeyExchange). */
	if (err == HSK_OK && c->hs_len > 0)
		err = hsk_dispatch_handshake(c);
	if (err == HSK_WANT_CRYPTO)
		return err;
	if (err != HSK_OK)
		return hsk_fail(c, err);
	return hsk_run(c);
}

/* ---- application data ---- */

size_t
hsk_conn_app_read(struct hsk_conn *c, uint8_t *buf, size_t cap)
{
	size_t n = c->app_n < cap ? c->app_n : cap;

	if (n == 0)
		return 0;
	memcpy(buf, c->app_p, n);
	c->app_p += n;
	c->app_n -= n;
	return n;
}

size_t
hsk_conn_app_pending(const struct hsk_conn *c)
{
	return c->app_n;
}

hsk_err
hsk_conn_app_write(struct hsk_conn *c, const uint8_t *p, size_t n, size_t *taken)
{
	size_t done = 0;

	*taken = 0;
	if (c->err != HSK_OK)
		return c->err;
	if (c->state != HSK_ST_ESTABLISHED || c->sent_close)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	(void)hsk_out_begin(c);
	if (c->out_off > 0 && HSK_OUT_CAP - c->out_len < REC_MAX_PLAIN + REC_MAX_OVERHEAD) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	while (done < n) {
		size_t room = HSK_OUT_CAP - c->out_len, chunk = n - done;

		if (chunk > REC_MAX_PLAIN)
			chunk = REC_MAX_PLAIN;
		if (room < rec_overhead(&c->wr, chunk) + chunk) {
			/* Fill what is left with a smaller record, if worth it. */
			if (room < 1024 + REC_MAX_OVERHEAD)
				break;
			chunk = room - REC_MAX_OVERHEAD;
		}
		hsk_err err = hsk_out_record(c, REC_APPLICATION_DATA, p + done, chunk);
		if (err != HSK_OK)
			return hsk_fail(c, err);
		done += chunk;
	}
	*taken = done;
	return HSK_OK;
}

void
hsk_conn_close(struct hsk_conn *c)
{
	static const uint8_t close_notify[2] = { 1, HSK_AD_CLOSE_NOTIFY };

	if (c->sent_close || c->err != HSK_OK)
		return;
	c->sent_close = true;
	if (hsk_out_record(c, REC_ALERT, close_notify, 2) != HSK_OK)
		c->out_off = c->out_len = 0;
}

void
hsk_conn_set_half_close(struct hsk_conn *c)
{
	c->half_close = true;
}

bool
hsk_conn_established(const struct hsk_conn *c)
{
	return c->state == HSK_ST_ESTABLISHED;
}

bool
hsk_conn_completed(const struct hsk_conn *c)
{
	return c->completed;
}

bool
hsk_conn_crypto_pending(const struct hsk_conn *c)
{
	return c->job_pending;
}

bool
hsk_conn_peer_closed(const struct hsk_conn *c)
{
	return c->peer_closed;
}

void
hsk_conn_info(const struct hsk_conn *c, struct hsk_conn_info *out)
{
	memset(out, 0, sizeof(*out));
	out->version = c->suite ? c->version : 0;
	out->suite = c->suite ? c->suite->id : 0;
	out->group = c->group;
	out->sigalg = c->sigalg;
	out->resumed = c->resumed;
	out->ems = c->ems;
	out->etm = c->etm;
	out->client_cert = c->client_cert;
	out->cert = (uint8_t)c->cert;
	out->ocsp_stapled = c->staple;
	memcpy(out->sni, c->sni, sizeof(out->sni));
	memcpy(out->alpn, c->alpn, sizeof(out->alpn));
	memcpy(out->client_cn, c->client_cn, sizeof(out->client_cn));
}
