/* The TLS 1.2 server handshake (RFC 5246 7.3), message by message:
 *
 *   full:        ClientHello -> ServerHello, Certificate, [ServerKeyExchange],
 *                [CertificateRequest], ServerHelloDone
 *                <- [Certificate], ClientKeyExchange, [CertificateVerify],
 *                   ChangeCipherSpec, Finished
 *                -> ChangeCipherSpec, Finished
 *   abbreviated: ClientHello -> ServerHello, ChangeCipherSpec, Finished
 *                <- ChangeCipherSpec, Finished
 *
 * Private-key and key-agreement steps leave as crypto jobs; the state
 * names the job, and hsk_srv12_resume() continues from it. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "acc_job.h"
#include "acc_key.h"
#include "hsk_algs.h"
#include "hsk_conn_priv.h"
#include "hsk_names.h"
#include "hsk_ocsp.h"
#include "hsk_peer_cert.h"
#include "hsk_prf.h"
#include "hsk_sig.h"
#include "hsk_suite.h"

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		hsk_err e_ = (expr);                                                               \
		if (e_ != HSK_OK)                                                                  \
			return e_;                                                                 \
	} while (0)

#define ERR_DECODE HSK_ALERT(HSK_AD_DECODE_ERROR)
#define ERR_INTERNAL HSK_ALERT(HSK_AD_INTERNAL_ERROR)

enum {
	EXT_STATUS_REQUEST = 5,
	EXT_SESSION_TICKET = 35,
	HSK_MT_NEW_SESSION_TICKET = 4,
	HSK_MT_CERTIFICATE_STATUS = 22,
	EXT_EC_POINT_FORMATS = 11,
	EXT_ALPN = 16,
	EXT_ENCRYPT_THEN_MAC = 22,
	EXT_EXTENDED_MASTER_SECRET = 23,
	EXT_RENEGOTIATION_INFO = 0xff01,
};

/* RFC 8446 4.1.3: a TLS 1.3 server negotiating TLS 1.2 says so. */
static const uint8_t hsk_downgrade12[8] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01 };

static bool
hsk_is_cbc(const struct hsk_suite *s)
{
	return s->mac != 0;
}

/* RFC 8422 5.1.2: a client listing point formats without uncompressed(0)
 * cannot take an ECC suite; the handshake is refused. */
static bool
hsk_srv12_points_ok(const struct hsk_client_hello *ch, const struct hsk_suite *s)
{
	if (!ch->has_point_formats || (s->kx != HSK_KX_ECDHE && s->auth != HSK_AUTH_ECDSA))
		return true;
	return memchr(ch->point_formats.base, 0, ch->point_formats.len) != NULL;
}

/* ---- keys ---- */

/* key_block (RFC 5246 6.3): client MAC key, server MAC key, client key,
 * server key, client IV, server IV. */
static hsk_err
hsk_srv12_key_block(struct hsk_conn *c)
{
	const struct hsk_suite *s = c->suite;
	size_t n = 2 * ((size_t)s->mac_key_len + s->key_len + s->fixed_iv_len);

	if (n > sizeof(c->key_block))
		return ERR_INTERNAL;
	return hsk_prf_key_block(s->prf, c->master, c->client_random, c->server_random, c->key_block, n);
}

static hsk_err
hsk_srv12_install(struct hsk_conn *c, bool server)
{
	const struct hsk_suite *s = c->suite;
	const uint8_t *kb = c->key_block;
	size_t mk = s->mac_key_len, k = s->key_len, iv = s->fixed_iv_len;
	const uint8_t *mac = kb + (server ? mk : 0);
	const uint8_t *key = kb + 2 * mk + (server ? k : 0);
	const uint8_t *ivp = kb + 2 * mk + 2 * k + (server ? iv : 0);

	return rec_dir_init(server ? &c->wr : &c->rd, s, 0x0303, server, c->etm, key, ivp, mac);
}

static hsk_err
hsk_srv12_send_finished(struct hsk_conn *c)
{
	static const uint8_t ccs = 1;
	uint8_t hash[64], verify[12];
	size_t hlen;

	TRY(hsk_out_record(c, REC_CHANGE_CIPHER_SPEC, &ccs, 1));
	TRY(hsk_srv12_install(c, true));
	TRY(hsk_transcript_hash(c, hash, &hlen));
	TRY(hsk_prf_finished(c->suite->prf, c->master, 0, hash, hlen, verify));
	return hsk_out_hs(c, HSK_MT_FINISHED, verify, sizeof(verify));
}

/* ---- ClientHello -> ServerHello ... ---- */

static hsk_err
hsk_srv12_server_hello(struct hsk_conn *c, const struct hsk_client_hello *ch, struct hsk_view alpn)
{
	uint8_t buf[512];
	struct hsk_wr w;
	size_t exts;

	hsk_wr_init(&w, buf, sizeof(buf));
	hsk_wr_u16(&w, 0x0303);
	hsk_wr_bytes(&w, c->server_random, 32);
	hsk_wr_u8(&w, c->session_id_len);
	hsk_wr_bytes(&w, c->session_id, c->session_id_len);
	hsk_wr_u16(&w, c->suite->id);
	hsk_wr_u8(&w, 0); /* null compression */
	exts = hsk_wr_open(&w, 2);
	if (c->reneg) { /* RFC 5746 3.6: empty renegotiated_connection */
		hsk_wr_u16(&w, EXT_RENEGOTIATION_INFO);
		hsk_wr_u16(&w, 1);
		hsk_wr_u8(&w, 0);
	}
	if (c->ems) {
		hsk_wr_u16(&w, EXT_EXTENDED_MASTER_SECRET);
		hsk_wr_u16(&w, 0);
	}
	if (c->etm) {
		hsk_wr_u16(&w, EXT_ENCRYPT_THEN_MAC);
		hsk_wr_u16(&w, 0);
	}
	if (alpn.len) {
		hsk_wr_u16(&w, EXT_ALPN);
		hsk_wr_u16(&w, (uint16_t)(alpn.len + 3));
		hsk_wr_u16(&w, (uint16_t)(alpn.len + 1));
		hsk_wr_u8(&w, (uint8_t)alpn.len);
		hsk_wr_bytes(&w, alpn.base, alpn.len);
	}
	if (c->staple) { /* RFC 6066 8: empty; CertificateStatus follows Certificate */
		hsk_wr_u16(&w, EXT_STATUS_REQUEST);
		hsk_wr_u16(&w, 0);
	}
	if (c->issue_ticket) { /* RFC 5077 3.2: a NewSessionTicket will follow */
		hsk_wr_u16(&w, EXT_SESSION_TICKET);
		hsk_wr_u16(&w, 0);
	}
	if (c->suite->kx == HSK_KX_ECDHE && ch->has_point_formats && !c->resumed) {
		hsk_wr_u16(&w, EXT_EC_POINT_FORMATS); /* RFC 8422 5.2: uncompressed */
		hsk_wr_u16(&w, 2);
		hsk_wr_u8(&w, 1);
		hsk_wr_u8(&w, 0);
	}
	hsk_wr_close(&w, exts, 2);
	if (w.err)
		return ERR_INTERNAL;
	if (w.len == exts + 2)
		w.len = exts; /* no extensions: leave the block out */
	return hsk_out_hs(c, HSK_MT_SERVER_HELLO, buf, w.len);
}

/* RFC 7627 5.3 on a session that could otherwise be resumed: one made
 * with the extended master secret offered without it aborts the
 * handshake; one made without it offered with it is not resumed (a full
 * handshake follows). *found tells whether to resume. */
static hsk_err
hsk_srv12_ems_rule(bool sess_ems, bool ch_ems, bool *found)
{
	*found = sess_ems == ch_ems;
	return sess_ems && !ch_ems ? HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE) : HSK_OK;
}

/* Whether the listener enables the suite now: a session made under
 * another configuration (ticket keys kept in a file across a restart
 * with fewer suites) is not resumed, a full handshake follows. */
static bool
hsk_srv12_suite_enabled(const struct hsk_ctx *ctx, uint16_t suite)
{
	for (size_t i = 0; i < ctx->n_suites; i++)
		if (ctx->suites[i] == suite)
			return true;
	return false;
}

/* RFC 5246 7.4.1.2: a client asking to resume MUST offer the session's
 * suite. One that does not is misbehaving (CVE-2010-4180 was a server
 * resuming anyway): the handshake is aborted, as OpenSSL does and
 * tlsfuzzer expects, rather than resumed or silently renegotiated. */
static hsk_err
hsk_srv12_suite_rule(const struct hsk_client_hello *ch, uint16_t suite)
{
	return hsk_view_has16(ch->suites, suite) ? HSK_OK : HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
}

/* Look the session up; resume only with the session's suite offered,
 * the same extended-master-secret state, and never around a
 * client-certificate requirement. */
static hsk_err
hsk_srv12_find_session(struct hsk_conn *c, const struct hsk_client_hello *ch, struct hsk_sess *s, bool *found)
{
	const struct hsk_ctx *ctx = c->ctx;
	const struct hsk_suite *suite;
	hsk_err err;

	*found = false;
	if (!ctx->resumption || c->w->cache == NULL || ch->session_id.len != HSK_SESS_ID_LEN)
		return HSK_OK;
	/* this server's cache first, then the fleet's store when it answered */
	if (!hsk_sess_cache_get(c->w->cache, ch->session_id.base, ch->session_id.len, ctx->id, c->w->now_s, s) &&
	    !hsk_store_take(c, 0x0303, ch->session_id.base, ch->session_id.len, s))
		return HSK_OK;
	suite = hsk_suite_by_id(s->suite);
	if (suite == NULL || s->version != 0x0303 || !hsk_srv12_suite_enabled(ctx, s->suite) ||
	    (ctx->client_auth == HSK_CLIENT_AUTH_REQUIRE && !s->client_cert) ||
	    !hsk_names_resumable(s->sni_digest, c->sni_digest)) {
		hsk_sess_clear(s);
		return HSK_OK;
	}
	err = hsk_srv12_suite_rule(ch, s->suite);
	if (err == HSK_OK)
		err = hsk_srv12_ems_rule(s->ems, ch->ems, found);
	if (!*found)
		hsk_sess_clear(s);
	return err;
}

/* A TLS 1.2 session ticket (RFC 5077 3.4): the same rules as a cached
 * session. A ticket under an unknown or expired key, a forged one, or one
 * from another listener just means a full handshake. */
static hsk_err
hsk_srv12_find_ticket(struct hsk_conn *c, const struct hsk_client_hello *ch, struct hsk_sess *s, bool *found)
{
	const struct hsk_ctx *ctx = c->ctx;
	struct hsk_ticket t;
	hsk_err err = HSK_OK;
	bool ok;

	*found = false;
	if (!ctx->resumption || ctx->tickets == NULL || !ch->has_session_ticket || ch->session_ticket.len == 0 ||
	    !hsk_ticket_open(hsk_tickets_current(ctx->tickets), ch->session_ticket.base, ch->session_ticket.len, &t))
		return HSK_OK;
	ok = t.version == 0x0303 && t.ctx_id == ctx->id && t.secret_len == 48 &&
	     hsk_ticket_fresh(t.created_s, t.lifetime_s, hsk_fleet_now_s(c->w)) && hsk_suite_by_id(t.suite) != NULL &&
	     hsk_srv12_suite_enabled(ctx, t.suite) && !(ctx->client_auth == HSK_CLIENT_AUTH_REQUIRE && !t.client_cert) &&
	     hsk_names_resumable(t.sni_digest, c->sni_digest);
	if (ok)
		err = hsk_srv12_suite_rule(ch, t.suite);
	if (ok && err == HSK_OK)
		err = hsk_srv12_ems_rule(t.ems, ch->ems, found);
	if (*found) {
		memset(s, 0, sizeof(*s));
		s->id_len = (uint8_t)ch->session_id.len; /* echoed (RFC 5077 3.4) */
		memcpy(s->id, ch->session_id.base, ch->session_id.len);
		s->suite = t.suite;
		s->ems = t.ems;
		s->client_cert = t.client_cert;
		memcpy(s->master, t.secret, 48);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return err;
}

/* NewSessionTicket (RFC 5077 3.3), sent before our ChangeCipherSpec. */
static hsk_err
hsk_srv12_new_ticket(struct hsk_conn *c)
{
	struct hsk_ticket t;
	uint8_t buf[6 + HSK_TICKET_MAX];
	size_t n;
	bool ok;

	memset(&t, 0, sizeof(t));
	t.version = 0x0303;
	t.suite = c->suite->id;
	t.ctx_id = c->ctx->id;
	t.created_s = hsk_fleet_now_s(c->w); /* opened by any server of the fleet */
	t.lifetime_s = c->ctx->session_lifetime_s;
	t.ems = c->ems;
	t.client_cert = c->client_cert;
	t.sni_digest = c->sni_digest;
	t.secret_len = 48;
	memcpy(t.secret, c->master, 48);
	ok = hsk_ticket_seal(hsk_tickets_current(c->ctx->tickets), &t, buf + 6, sizeof(buf) - 6, &n);
	OPENSSL_cleanse(&t, sizeof(t));
	if (!ok)
		return ERR_INTERNAL;
	buf[0] = (uint8_t)(c->ctx->session_lifetime_s >> 24);
	buf[1] = (uint8_t)(c->ctx->session_lifetime_s >> 16);
	buf[2] = (uint8_t)(c->ctx->session_lifetime_s >> 8);
	buf[3] = (uint8_t)c->ctx->session_lifetime_s;
	buf[4] = (uint8_t)(n >> 8);
	buf[5] = (uint8_t)n;
	return hsk_out_hs(c, HSK_MT_NEW_SESSION_TICKET, buf, 6 + n);
}

static hsk_err
hsk_srv12_client_hello(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	const struct hsk_ctx *ctx = c->ctx;
	struct hsk_client_hello ch;
	struct hsk_choice choice;
	struct hsk_sess sess;
	struct hsk_view alpn;
	uint16_t version;
	bool found;
	uint8_t hdr[4] = { HSK_MT_CLIENT_HELLO, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };

	TRY(hsk_client_hello_decode(body, len, &ch));
	TRY(hsk_client_hello_version(&ch, ctx, &version));
	if (version == 0x0304)
		return hsk_srv13_client_hello(c, &ch, body, len);
	if (c->hrr) /* a retried ClientHello must stay with TLS 1.3 */
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	c->version = 0x0303;
	/* null compression is mandatory and the only one we take (RFC 5246 7.4.1.2) */
	if (memchr(ch.compressions.base, 0, ch.compressions.len) == NULL)
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	/* RFC 5746 3.6: a non-empty renegotiated_connection on an initial handshake */
	if (ch.has_reneg_info && ch.reneg_info.len != 0)
		return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
	c->reneg = ch.reneg_scsv || ch.has_reneg_info;
	c->client_version = ch.legacy_version;
	memcpy(c->client_random, ch.random, 32);
	if (ch.has_sni) {
		size_t n = ch.sni_host.len < sizeof(c->sni) - 1 ? ch.sni_host.len : sizeof(c->sni) - 1;
		memcpy(c->sni, ch.sni_host.base, n);
		c->sni[n] = 0;
	}
	/* RFC 6066 3: a session resumes only for the name it was made for */
	c->sni_digest = hsk_names_digest(ch.sni_host.base, ch.sni_host.len, ch.has_sni);
	c->status_req = ch.status_request;

	TRY(hsk_srv12_find_ticket(c, &ch, &sess, &found));
	if (!found)
		TRY(hsk_srv12_find_session(c, &ch, &sess, &found));
	if (!found && hsk_store_wanted(c, ch.session_id.len)) {
		/* Not here: ask the fleet's store. The ClientHello waits for the
		 * answer and runs again from the top (hsk_store.h). */
		TRY(hsk_store_ask(c, 0x0303, ch.session_id.base, ch.session_id.len));
		TRY(hsk_srv12_find_session(c, &ch, &sess, &found));
	}
	if (found) {
		c->resumed = true;
		c->suite = hsk_suite_by_id(sess.suite);
		c->ems = sess.ems;
		c->client_cert = sess.client_cert;
		memcpy(c->master, sess.master, 48);
		memcpy(c->session_id, sess.id, sess.id_len);
		c->session_id_len = sess.id_len;
		hsk_sess_clear(&sess);
		hsk_client_hello_alpn(&ch, ctx, &alpn);
	} else {
		TRY(hsk_client_hello_choose12(&ch, ctx, &choice));
		c->suite = choice.suite;
		c->cert = choice.cert;
		/* RFC 6066 8: only to a client that asked, never on resumption */
		c->staple = hsk_ocsp_staple(&ctx->certs[c->cert], c->w, c->status_req);
		c->group = choice.group;
		c->sigalg = choice.sigalg;
		c->ems = ch.ems;
		alpn = choice.alpn;
		c->issue_ticket = ctx->resumption && ctx->tickets != NULL && ch.has_session_ticket;
		if (ctx->resumption && c->w->cache != NULL) {
			hsk_sess_id_new(c->w->id, c->session_id);
			c->session_id_len = HSK_SESS_ID_LEN;
		}
		/* CertificateVerify signs all messages with a hash of the
		 * client's choosing: keep them while it may come. */
		if (ctx->client_auth != HSK_CLIENT_AUTH_NONE) {
			c->raw = malloc(hsk_transcript_cap(c));
			if (c->raw == NULL)
				return ERR_INTERNAL;
		}
	}
	if (!hsk_srv12_points_ok(&ch, c->suite))
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	c->etm = hsk_is_cbc(c->suite) && ch.etm;
	if (alpn.len) {
		memcpy(c->alpn, alpn.base, alpn.len < sizeof(c->alpn) - 1 ? alpn.len : sizeof(c->alpn) - 1);
	}
	if (RAND_bytes(c->server_random, 32) != 1)
		return ERR_INTERNAL;
	{
		uint16_t vmin, vmax;
		hsk_ctx_versions(ctx, &vmin, &vmax);
		if (vmax >= 0x0304) /* RFC 8446 4.1.3 */
			memcpy(c->server_random + 24, hsk_downgrade12, 8);
	}

	if (!EVP_DigestInit_ex(c->transcript, hsk_algs_md(c->suite->prf), NULL))
		return ERR_INTERNAL;
	hsk_transcript_add(c, hdr, 4);
	hsk_transcript_add(c, body, len);
	TRY(hsk_srv12_server_hello(c, &ch, alpn));

	if (c->resumed) {
		TRY(hsk_srv12_key_block(c));
		TRY(hsk_srv12_send_finished(c));
		c->state = HSK_ST_CCS;
		return HSK_OK;
	}
	TRY(hsk_out_hs(c, HSK_MT_CERTIFICATE, ctx->certs[c->cert].list, ctx->certs[c->cert].list_len));
	if (c->staple) /* CertificateStatus (RFC 6066 8), right after Certificate */
		TRY(hsk_out_hs(c, HSK_MT_CERTIFICATE_STATUS, ctx->certs[c->cert].ocsp.status,
			       ctx->certs[c->cert].ocsp.status_len));
	if (c->suite->kx == HSK_KX_RSA)
		return hsk_srv12_resume(c); /* straight to ServerHelloDone */
	c->job.eph = &c->eph;
	c->job.key = NULL;
	c->job.in = NULL;
	c->job.in_len = 0;
	c->job.out = c->job_out;
	c->job.out_cap = sizeof(c->job_out);
	c->state = HSK_ST_KEYGEN;
	return hsk_submit(c, ACC_OP_KX_KEYGEN, c->group);
}

/* ServerKeyExchange params (RFC 8422 5.4, RFC 5246 7.4.3) from our new
 * public value, then the signature job over randoms + params. */
static hsk_err
hsk_srv12_after_keygen(struct hsk_conn *c)
{
	const EVP_MD *md = hsk_algs_md(hsk_sig_hash(c->sigalg));
	struct hsk_wr w;
	unsigned int dlen;
	EVP_MD_CTX *mctx;
	int ok;

	if (c->job.status != ACC_DONE || md == NULL)
		return ERR_INTERNAL;
	hsk_wr_init(&w, c->params, sizeof(c->params));
	if (c->suite->kx == HSK_KX_ECDHE) {
		hsk_wr_u8(&w, 3); /* named_curve */
		hsk_wr_u16(&w, c->group);
		hsk_wr_u8(&w, (uint8_t)c->job.out_len);
	} else {
		size_t plen;
		const uint8_t *p = hsk_algs_ffdhe_p(c->group, &plen);

		if (p == NULL)
			return ERR_INTERNAL;
		hsk_wr_u16(&w, (uint16_t)plen);
		hsk_wr_bytes(&w, p, plen);
		hsk_wr_u16(&w, 1);
		hsk_wr_u8(&w, 2); /* RFC 7919 groups: g = 2 */
		hsk_wr_u16(&w, (uint16_t)c->job.out_len);
	}
	hsk_wr_bytes(&w, c->job_out, c->job.out_len);
	if (w.err)
		return ERR_INTERNAL;
	c->params_len = w.len;

	mctx = EVP_MD_CTX_new();
	ok = mctx != NULL && EVP_DigestInit_ex(mctx, md, NULL) &&
	     EVP_DigestUpdate(mctx, c->client_random, 32) &&
	     EVP_DigestUpdate(mctx, c->server_random, 32) &&
	     EVP_DigestUpdate(mctx, c->params, c->params_len) &&
	     EVP_DigestFinal_ex(mctx, c->job_in, &dlen);
	EVP_MD_CTX_free(mctx);
	if (!ok)
		return ERR_INTERNAL;
	c->job.key = c->ctx->certs[c->cert].key;
	c->job.in = c->job_in;
	c->job.in_len = dlen;
	c->job.out = c->job_out;
	c->job.out_cap = sizeof(c->job_out);
	c->state = HSK_ST_SIGN;
	return hsk_submit(c, ACC_OP_SIGN, c->sigalg);
}

/* ServerKeyExchange (when signed), CertificateRequest, ServerHelloDone. */
static hsk_err
hsk_srv12_finish_flight(struct hsk_conn *c)
{
	const struct hsk_ctx *ctx = c->ctx;
	uint8_t buf[8192 + 64];
	struct hsk_wr w;

	if (c->suite->kx != HSK_KX_RSA) {
		if (c->job.status != ACC_DONE)
			return ERR_INTERNAL;
		hsk_wr_init(&w, buf, sizeof(buf));
		hsk_wr_bytes(&w, c->params, c->params_len);
		hsk_wr_u16(&w, c->sigalg);
		hsk_wr_u16(&w, (uint16_t)c->job.out_len);
		hsk_wr_bytes(&w, c->job_out, c->job.out_len);
		if (w.err)
			return ERR_INTERNAL;
		TRY(hsk_out_hs(c, HSK_MT_SERVER_KEY_EXCHANGE, buf, w.len));
	}
	if (ctx->client_auth != HSK_CLIENT_AUTH_NONE) {
		size_t at;

		/* RFC 5246 7.4.4 */
		hsk_wr_init(&w, buf, sizeof(buf));
		hsk_wr_u8(&w, 2);
		hsk_wr_u8(&w, 1);  /* rsa_sign */
		hsk_wr_u8(&w, 64); /* ecdsa_sign */
		at = hsk_wr_open(&w, 2);
		for (size_t i = 0; i < ctx->n_sigalgs; i++)
			hsk_wr_u16(&w, ctx->sigalgs[i]);
		hsk_wr_close(&w, at, 2);
		hsk_wr_u16(&w, ctx->ca_names_len <= 8192 ? (uint16_t)ctx->ca_names_len : 0);
		if (ctx->ca_names_len <= 8192)
			hsk_wr_bytes(&w, ctx->ca_names, ctx->ca_names_len);
		if (w.err)
			return ERR_INTERNAL;
		TRY(hsk_out_hs(c, HSK_MT_CERTIFICATE_REQUEST, buf, w.len));
		c->state = HSK_ST_CLIENT_CERT;
	} else {
		c->state = HSK_ST_CLIENT_KEY_EXCHANGE;
	}
	return hsk_out_hs(c, HSK_MT_SERVER_HELLO_DONE, NULL, 0);
}

/* ---- client flight ---- */

/* Certificate from the client (RFC 5246 7.4.6), verified against the CA. */
static hsk_err
hsk_srv12_client_certificate(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	struct hsk_rd r = hsk_rd_make(body, len), list, der;
	STACK_OF(X509) *chain = NULL;
	hsk_err err = HSK_ALERT(HSK_AD_BAD_CERTIFICATE);

	TRY(hsk_rd_vec(&r, 3, 0, 0xffffff, &list));
	TRY(hsk_rd_end(&r));
	if (hsk_rd_left(&list) == 0) {
		if (c->ctx->client_auth == HSK_CLIENT_AUTH_REQUIRE)
			return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
		free(c->raw); /* no CertificateVerify will come */
		c->raw = NULL;
		c->state = HSK_ST_CLIENT_KEY_EXCHANGE;
		return HSK_OK;
	}
	chain = sk_X509_new_null();
	if (chain == NULL)
		return ERR_INTERNAL;
	while (hsk_rd_left(&list) > 0) {
		const uint8_t *p;
		X509 *x;

		if ((err = hsk_rd_vec(&list, 3, 1, 0xffffff, &der)) != HSK_OK)
			goto out;
		p = der.cur;
		x = d2i_X509(NULL, &p, (long)hsk_rd_left(&der));
		if (x == NULL || p != der.end) {
			X509_free(x);
			err = HSK_ALERT(HSK_AD_BAD_CERTIFICATE);
			goto out;
		}
		sk_X509_push(chain, x);
	}
	err = hsk_peer_cert_verify(c, chain);
	if (err != HSK_OK)
		goto out;
	c->state = HSK_ST_CLIENT_KEY_EXCHANGE;
	err = HSK_OK;
out:
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return err;
}

/* ClientKeyExchange (RFC 5246 7.4.7, RFC 8422 5.7): the client's public
 * value or encrypted premaster goes to a job. */
static hsk_err
hsk_srv12_client_key_exchange(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	struct hsk_rd r = hsk_rd_make(body, len), v;
	uint8_t op;

	switch (c->suite->kx) {
	case HSK_KX_ECDHE:
		TRY(hsk_rd_vec(&r, 1, 1, 255, &v));
		op = ACC_OP_KX_DERIVE;
		break;
	case HSK_KX_DHE: {
		size_t plen = 0;

		/* Yc longer than p is above it: out of range, illegal_parameter
		 * like any Yc outside 1 < Yc < p - 1 (RFC 7919 5.1), not a
		 * decoding failure. */
		TRY(hsk_rd_vec(&r, 2, 1, 0xffff, &v));
		if (hsk_algs_ffdhe_p(c->group, &plen) == NULL || hsk_rd_left(&v) > plen) {
			TRY(hsk_rd_end(&r));
			return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
		}
		op = ACC_OP_KX_DERIVE;
		break;
	}
	case HSK_KX_RSA:
		TRY(hsk_rd_vec(&r, 2, 1, 512, &v));
		op = ACC_OP_RSA_DECRYPT_PMS;
		break;
	default:
		return ERR_INTERNAL;
	}
	TRY(hsk_rd_end(&r));
	memcpy(c->job_in, v.cur, hsk_rd_left(&v));
	c->job.in = c->job_in;
	c->job.in_len = (uint32_t)hsk_rd_left(&v);
	c->job.out = c->job_out;
	c->job.out_cap = sizeof(c->job_out);
	c->job.eph = &c->eph;
	c->job.key = c->ctx->certs[c->cert].key;
	c->job.client_version = c->client_version;
	c->state = HSK_ST_KX_DERIVE;
	return hsk_submit(c, op, op == ACC_OP_KX_DERIVE ? c->group : 0);
}

/* Premaster -> master secret (with the session hash for EMS) -> keys. */
static hsk_err
hsk_srv12_after_derive(struct hsk_conn *c)
{
	uint8_t session_hash[64];
	size_t shlen = 0;
	hsk_err err;

	acc_eph_clear(&c->eph);
	if (c->job.status != ACC_DONE) /* not a point on the curve, Y out of range */
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	if (c->ems)
		TRY(hsk_transcript_hash(c, session_hash, &shlen));
	err = hsk_prf_master(c->suite->prf, c->job_out, c->job.out_len, c->ems, c->client_random,
			     c->server_random, session_hash, shlen, c->master);
	OPENSSL_cleanse(c->job_out, sizeof(c->job_out));
	TRY(err);
	TRY(hsk_srv12_key_block(c));
	c->state = c->client_cert ? HSK_ST_CERT_VERIFY : HSK_ST_CCS;
	return HSK_OK;
}

/* CertificateVerify (RFC 5246 7.4.8): a signature over every handshake
 * message so far, with a scheme we offered. */
static hsk_err
hsk_srv12_certificate_verify(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	struct hsk_rd r = hsk_rd_make(body, len), sig;
	uint16_t scheme;

	TRY(hsk_rd_u16(&r, &scheme));
	TRY(hsk_rd_vec(&r, 2, 1, 0xffff, &sig));
	TRY(hsk_rd_end(&r));
	if (c->raw == NULL || c->raw_len > hsk_transcript_cap(c))
		return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
	TRY(hsk_peer_cert_check_sig(c, scheme, sig.cur, hsk_rd_left(&sig), c->raw, c->raw_len));
	{
		uint8_t hdr[4] = { HSK_MT_CERTIFICATE_VERIFY, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				   (uint8_t)len };
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
	}
	OPENSSL_cleanse(c->raw, c->raw_len);
	free(c->raw);
	c->raw = NULL;
	EVP_PKEY_free(c->peer_key);
	c->peer_key = NULL;
	c->state = HSK_ST_CCS;
	return HSK_OK;
}

hsk_err
hsk_srv12_ccs(struct hsk_conn *c)
{
	TRY(hsk_srv12_install(c, false));
	c->state = HSK_ST_FINISHED;
	return HSK_OK;
}

static void
hsk_srv12_store_session(struct hsk_conn *c)
{
	struct hsk_sess s;

	if (!c->ctx->resumption || c->w->cache == NULL || c->session_id_len != HSK_SESS_ID_LEN)
		return;
	memset(&s, 0, sizeof(s));
	memcpy(s.id, c->session_id, HSK_SESS_ID_LEN);
	s.id_len = HSK_SESS_ID_LEN;
	s.ems = c->ems;
	s.client_cert = c->client_cert;
	s.version = 0x0303;
	s.suite = c->suite->id;
	s.ctx_id = c->ctx->id;
	s.created_s = c->w->now_s;
	s.lifetime_s = c->ctx->session_lifetime_s;
	s.sni_digest = c->sni_digest;
	memcpy(s.master, c->master, 48);
	hsk_sess_cache_put(c->w->cache, c->w->id, &s);
	hsk_store_put(c, &s);
	hsk_sess_clear(&s);
}

/* Finished (RFC 5246 7.4.9). */
static hsk_err
hsk_srv12_finished(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	uint8_t hash[64], expect[12];
	uint8_t hdr[4] = { HSK_MT_FINISHED, 0, 0, 12 };
	size_t hlen;

	if (len != 12)
		return ERR_DECODE;
	TRY(hsk_transcript_hash(c, hash, &hlen));
	TRY(hsk_prf_finished(c->suite->prf, c->master, 1, hash, hlen, expect));
	if (CRYPTO_memcmp(expect, body, 12) != 0)
		return HSK_ALERT(HSK_AD_DECRYPT_ERROR);
	hsk_transcript_add(c, hdr, 4);
	hsk_transcript_add(c, body, len);
	if (c->resumed) {
		c->w->handshakes_resumed++;
	} else {
		if (c->issue_ticket)
			TRY(hsk_srv12_new_ticket(c));
		TRY(hsk_srv12_send_finished(c));
		hsk_srv12_store_session(c);
		c->w->handshakes_full++;
	}
	OPENSSL_cleanse(c->key_block, sizeof(c->key_block));
	c->state = HSK_ST_ESTABLISHED;
	c->completed = true;
	return HSK_OK;
}

hsk_err
hsk_srv12_message(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	static const uint8_t expect[] = {
		[HSK_ST_CLIENT_HELLO] = HSK_MT_CLIENT_HELLO,
		[HSK_ST_CLIENT_CERT] = HSK_MT_CERTIFICATE,
		[HSK_ST_CLIENT_KEY_EXCHANGE] = HSK_MT_CLIENT_KEY_EXCHANGE,
		[HSK_ST_CERT_VERIFY] = HSK_MT_CERTIFICATE_VERIFY,
		[HSK_ST_FINISHED] = HSK_MT_FINISHED,
		[HSK_ST_CCS] = 0xff,
		[HSK_ST_KEYGEN] = 0xff,
		[HSK_ST_SIGN] = 0xff,
		[HSK_ST_KX_DERIVE] = 0xff,
	};
	uint8_t hdr[4] = { type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };

	if (c->state >= sizeof(expect) || expect[c->state] != type)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	switch (type) {
	case HSK_MT_CLIENT_HELLO:
		return hsk_srv12_client_hello(c, body, len);
	case HSK_MT_CERTIFICATE:
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		return hsk_srv12_client_certificate(c, body, len);
	case HSK_MT_CLIENT_KEY_EXCHANGE:
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		return hsk_srv12_client_key_exchange(c, body, len);
	case HSK_MT_CERTIFICATE_VERIFY:
		return hsk_srv12_certificate_verify(c, body, len);
	case HSK_MT_FINISHED:
		return hsk_srv12_finished(c, body, len);
	default:
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	}
}

hsk_err
hsk_srv12_resume(struct hsk_conn *c)
{
	switch (c->state) {
	case HSK_ST_KEYGEN:
		return hsk_srv12_after_keygen(c);
	case HSK_ST_SIGN:
	case HSK_ST_CLIENT_HELLO: /* static RSA: no ServerKeyExchange */
		return hsk_srv12_finish_flight(c);
	case HSK_ST_KX_DERIVE:
		return hsk_srv12_after_derive(c);
	default:
		return ERR_INTERNAL;
	}
}
