/* The TLS 1.3 server handshake (RFC 8446 2, 4), 1-RTT with (EC)DHE:
 *
 *   ClientHello [-> HelloRetryRequest, ClientHello]
 *   -> ServerHello, [ChangeCipherSpec], {EncryptedExtensions},
 *      {CertificateRequest}, {Certificate}, {CertificateVerify}, {Finished}
 *   <- {Certificate, CertificateVerify}, {Finished}
 *
 * The key share (keygen + derive) and the CertificateVerify signature are
 * crypto jobs; everything else (HKDF, HMAC, hashing) runs inline. */
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "acc_job.h"
#include "acc_key.h"
#include "acc_mlkem_kx.h"
#include "hsk_algs.h"
#include "hsk_conn_priv.h"
#include "hsk_hkdf.h"
#include "hsk_names.h"
#include "hsk_ocsp.h"
#include "hsk_peer_cert.h"
#include "hsk_sig.h"
#include "hsk_suite.h"

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		hsk_err e_ = (expr);                                                               \
		if (e_ != HSK_OK)                                                                  \
			return e_;                                                                 \
	} while (0)

#define ERR_INTERNAL HSK_ALERT(HSK_AD_INTERNAL_ERROR)

enum {
	EXT_SERVER_NAME = 0,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_CERTIFICATE_AUTHORITIES = 47,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_COOKIE = 44,
	EXT_KEY_SHARE = 51,
	EXT_PRE_SHARED_KEY = 41,
	HSK_MT_NEW_SESSION_TICKET = 4,
	HSK_MT_ENCRYPTED_EXTENSIONS = 8,
	HSK_MT_MESSAGE_HASH = 254,
};

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") as ServerHello.random. */
static const uint8_t hsk_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static size_t
hsk13_hlen(const struct hsk_conn *c)
{
	return hsk_hash_len(c->suite->prf);
}

/* Traffic keys from a traffic secret (RFC 8446 7.3). */
static hsk_err
hsk13_install(struct hsk_conn *c, bool server, const uint8_t *secret)
{
	uint8_t key[32], iv[12];
	hsk_err err;

	TRY(hsk_hkdf_expand_label(c->suite->prf, secret, "key", NULL, 0, key, c->suite->key_len));
	TRY(hsk_hkdf_expand_label(c->suite->prf, secret, "iv", NULL, 0, iv, 12));
	err = rec_dir_init(server ? &c->wr : &c->rd, c->suite, 0x0304, server, false, key, iv, NULL);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(iv, sizeof(iv));
	return err;
}

/* Finished verify_data (RFC 8446 4.4.4) over the transcript so far. */
static hsk_err
hsk13_finished_mac(struct hsk_conn *c, const uint8_t *base_secret, uint8_t *out, size_t *out_len)
{
	uint8_t fkey[64], th[64];
	size_t hlen = hsk13_hlen(c), thlen;
	hsk_err err;

	TRY(hsk_hkdf_expand_label(c->suite->prf, base_secret, "finished", NULL, 0, fkey, hlen));
	err = hsk_transcript_hash(c, th, &thlen);
	if (err == HSK_OK)
		err = hsk_hmac(c->suite->prf, fkey, hlen, th, thlen, out, out_len);
	OPENSSL_cleanse(fkey, sizeof(fkey));
	return err;
}

/* Derive-Secret(secret, label, "") (RFC 8446 7.1). */
static hsk_err
hsk13_derived_label(struct hsk_conn *c, const uint8_t *secret, const char *label, uint8_t *out)
{
	const EVP_MD *md = hsk_algs_md(c->suite->prf);
	uint8_t empty[64];
	unsigned int n;

	if (!EVP_Digest("", 0, empty, &n, md, NULL))
		return ERR_INTERNAL;
	return hsk_hkdf_derive_secret(c->suite->prf, secret, label, empty, out);
}

/* The "derived" secret of the previous stage. */
static hsk_err
hsk13_derived(struct hsk_conn *c, const uint8_t *secret, uint8_t *out)
{
	return hsk13_derived_label(c, secret, "derived", out);
}

/* ---- ClientHello: suite, group, certificate and scheme by server preference ---- */

static bool
hsk13_sig_fits(uint16_t s, const struct hsk_cert *cert)
{
	switch (s) {
	case ACC_SIG_RSA_PSS_RSAE_SHA256:
	case ACC_SIG_RSA_PSS_RSAE_SHA384:
	case ACC_SIG_RSA_PSS_RSAE_SHA512:
		return cert->key_type == ACC_KEY_RSA;
	case ACC_SIG_ECDSA_SECP256R1_SHA256:
		return cert->key_type == ACC_KEY_EC && cert->group == ACC_GROUP_SECP256R1;
	case ACC_SIG_ECDSA_SECP384R1_SHA384:
		return cert->key_type == ACC_KEY_EC && cert->group == ACC_GROUP_SECP384R1;
	case ACC_SIG_ECDSA_SECP521R1_SHA512:
		return cert->key_type == ACC_KEY_EC && cert->group == ACC_GROUP_SECP521R1;
	default:
		return false; /* PKCS#1 v1.5 is not for TLS 1.3 handshakes (RFC 8446 4.2.3) */
	}
}

/* The server name picks the certificates (RSA and ECDSA twins), then our
 * scheme preference among what the client accepts picks one of them:
 * ECDSA first by default. */
static hsk_err
hsk13_choose_cert(struct hsk_conn *c, const struct hsk_client_hello *ch)
{
	const struct hsk_ctx *ctx = c->ctx;
	uint32_t allowed = hsk_names_select(ctx, ch->sni_host.base, ch->sni_host.len, ch->has_sni);

	if (!ch->has_sigalgs)
		return HSK_ALERT(HSK_AD_MISSING_EXTENSION);
	for (size_t i = 0; i < ctx->n_sigalgs; i++) {
		if (!hsk_view_has16(ch->sigalgs, ctx->sigalgs[i]))
			continue;
		for (size_t k = 0; k < ctx->n_certs; k++) {
			if ((allowed >> k & 1) && hsk13_sig_fits(ctx->sigalgs[i], &ctx->certs[k])) {
				c->sigalg = ctx->sigalgs[i];
				c->cert = k;
				return HSK_OK;
			}
		}
	}
	return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
}

/* The client's share for group, or an empty view. */
static hsk_err
hsk13_find_share(const struct hsk_client_hello *ch, uint16_t group, struct hsk_view *share)
{
	struct hsk_rd r = hsk_rd_make(ch->key_shares.base, ch->key_shares.len), ke;
	uint16_t g;

	share->base = NULL;
	share->len = 0;
	while (hsk_rd_left(&r) > 0) {
		TRY(hsk_rd_u16(&r, &g));
		TRY(hsk_rd_vec(&r, 2, 1, 0xffff, &ke));
		if (g == group && share->base == NULL) {
			share->base = ke.cur;
			share->len = hsk_rd_left(&ke);
		}
	}
	return HSK_OK;
}

/* Groups for a TLS 1.3 key share. FFDHE (RFC 8446 4.2.8.1): Y left-padded
 * to the prime's size both ways, the shared secret too (7.4.1, the
 * executor's KX_KEYGEN_DERIVE), and the client's Y checked 1 < Y < p - 1
 * by the executor (a failed job is illegal_parameter). */
static bool
hsk13_group_ok(uint16_t g)
{
	return g == ACC_GROUP_X25519 || g == ACC_GROUP_SECP256R1 || g == ACC_GROUP_SECP384R1 ||
	       g == ACC_GROUP_FFDHE2048 || g == ACC_GROUP_FFDHE3072 || g == ACC_GROUP_X25519MLKEM768;
}

/* A share of the right size for its group (RFC 8446 4.2.8.2, 7748). */
static bool
hsk13_share_len_ok(uint16_t g, size_t len)
{
	switch (g) {
	case ACC_GROUP_X25519:
		return len == 32;
	case ACC_GROUP_SECP256R1:
		return len == 65;
	case ACC_GROUP_SECP384R1:
		return len == 97;
	case ACC_GROUP_FFDHE2048:
		return len == 256;
	case ACC_GROUP_FFDHE3072:
		return len == 384;
	case ACC_GROUP_X25519MLKEM768: /* ek || X25519 (draft-ietf-tls-ecdhe-mlkem) */
		return len == ACC_X25519MLKEM768_CLIENT_LEN;
	default:
		return false;
	}
}

/* Whether to ask, with a HelloRetryRequest, for an X25519MLKEM768 share
 * instead of taking the classical share the client sent for group. A
 * post-quantum key exchange is worth the round trip, but only to a
 * client that wants it: it lists the hybrid ahead of group in its own
 * supported_groups (a client that ranks X25519 first and sends only that
 * share is served at once), we rank it ahead of group too, and no PSK was
 * accepted (a retried ClientHello drops it, and resumption matters more
 * to a client that offers it than one more round trip). Clients that send
 * the hybrid share themselves (OpenSSL 3.5, Chrome, Firefox) never get
 * here. */
static bool
hsk13_retry_for_hybrid(const struct hsk_conn *c, const struct hsk_client_hello *ch, uint16_t group)
{
	const struct hsk_ctx *ctx = c->ctx;
	size_t ours_h = SIZE_MAX, ours_g = SIZE_MAX, theirs_h, theirs_g;

	if (group == ACC_GROUP_X25519MLKEM768 || c->resumed)
		return false;
	for (size_t i = 0; i < ctx->n_groups; i++) {
		if (ctx->groups[i] == ACC_GROUP_X25519MLKEM768 && ours_h == SIZE_MAX)
			ours_h = i;
		if (ctx->groups[i] == group && ours_g == SIZE_MAX)
			ours_g = i;
	}
	theirs_h = hsk_view_pos16(ch->groups, ACC_GROUP_X25519MLKEM768);
	theirs_g = hsk_view_pos16(ch->groups, group);
	return ours_h < ours_g && theirs_h < theirs_g;
}

/* HelloRetryRequest (RFC 8446 4.1.4): the transcript restarts with the
 * hash of the first ClientHello. */
static hsk_err
hsk13_send_hrr(struct hsk_conn *c, uint16_t group)
{
	uint8_t th[64], mh[4 + 64], buf[256];
	size_t thlen;
	struct hsk_wr w;
	size_t exts;

	TRY(hsk_transcript_hash(c, th, &thlen));
	mh[0] = HSK_MT_MESSAGE_HASH;
	mh[1] = 0;
	mh[2] = 0;
	mh[3] = (uint8_t)thlen;
	memcpy(mh + 4, th, thlen);
	if (!EVP_DigestInit_ex(c->transcript, hsk_algs_md(c->suite->prf), NULL))
		return ERR_INTERNAL;
	hsk_transcript_add(c, mh, 4 + thlen);
	if (RAND_bytes(c->cookie, sizeof(c->cookie)) != 1)
		return ERR_INTERNAL;
	hsk_wr_init(&w, buf, sizeof(buf));
	hsk_wr_u16(&w, 0x0303);
	hsk_wr_bytes(&w, hsk_hrr_random, 32);
	hsk_wr_u8(&w, c->session_id_len);
	hsk_wr_bytes(&w, c->session_id, c->session_id_len);
	hsk_wr_u16(&w, c->suite->id);
	hsk_wr_u8(&w, 0);
	exts = hsk_wr_open(&w, 2);
	hsk_wr_u16(&w, EXT_SUPPORTED_VERSIONS);
	hsk_wr_u16(&w, 2);
	hsk_wr_u16(&w, 0x0304);
	hsk_wr_u16(&w, EXT_KEY_SHARE);
	hsk_wr_u16(&w, 2);
	hsk_wr_u16(&w, group);
	hsk_wr_u16(&w, EXT_COOKIE);
	hsk_wr_u16(&w, 2 + sizeof(c->cookie));
	hsk_wr_u16(&w, sizeof(c->cookie));
	hsk_wr_bytes(&w, c->cookie, sizeof(c->cookie));
	hsk_wr_close(&w, exts, 2);
	if (w.err)
		return ERR_INTERNAL;
	TRY(hsk_out_hs(c, HSK_MT_SERVER_HELLO, buf, w.len));
	if (c->session_id_len && !c->ccs_sent) {
		static const uint8_t ccs = 1;
		TRY(hsk_out_record(c, REC_CHANGE_CIPHER_SPEC, &ccs, 1));
		c->ccs_sent = true;
	}
	c->hrr = true;
	c->group = group;
	c->state = HSK_ST_CLIENT_HELLO;
	return HSK_OK;
}

/* ---- resumption with a PSK from our own ticket (RFC 8446 4.2.11) ---- */

/* The binder of a PSK over the ClientHello truncated before the binders
 * (RFC 8446 4.2.11.2). */
static hsk_err
hsk13_binder(struct hsk_conn *c, const uint8_t *psk, const uint8_t *hdr, const uint8_t *body, size_t trunc,
	     uint8_t *out, size_t *out_len)
{
	const EVP_MD *md = hsk_algs_md(c->suite->prf);
	size_t hlen = hsk13_hlen(c);
	uint8_t early[64], bkey[64], fkey[64], th[64];
	unsigned int thlen;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	hsk_err err = ERR_INTERNAL;
	int ok;

	ok = m != NULL && EVP_DigestInit_ex(m, md, NULL) && EVP_DigestUpdate(m, hdr, 4) &&
	     EVP_DigestUpdate(m, body, trunc) && EVP_DigestFinal_ex(m, th, &thlen);
	EVP_MD_CTX_free(m);
	if (ok && hsk_hkdf_extract(c->suite->prf, NULL, 0, psk, hlen, early) == HSK_OK &&
	    hsk13_derived_label(c, early, "res binder", bkey) == HSK_OK &&
	    hsk_hkdf_expand_label(c->suite->prf, bkey, "finished", NULL, 0, fkey, hlen) == HSK_OK)
		err = hsk_hmac(c->suite->prf, fkey, hlen, th, thlen, out, out_len);
	OPENSSL_cleanse(early, sizeof(early));
	OPENSSL_cleanse(bkey, sizeof(bkey));
	OPENSSL_cleanse(fkey, sizeof(fkey));
	return err;
}

/* The age the client reports (obfuscated_ticket_age - ticket_age_add, in
 * ms) must agree with ours (whole seconds since issue) within
 * HSK13_AGE_WINDOW_MS (RFC 8446 4.2.11.1, 8.3): a ticket replayed long
 * after it was captured is not taken, the client falls back to a full
 * handshake. */
#define HSK13_AGE_WINDOW_MS 10000

static bool
hsk13_age_ok(const struct hsk_conn *c, const struct hsk_ticket *t, uint32_t obfuscated)
{
	uint64_t client_ms = (uint32_t)(obfuscated - t->age_add);
	uint64_t now = hsk_fleet_now_s(c->w); /* the clock created_s was sealed with */
	uint64_t lo = now > t->created_s ? (now - t->created_s) * 1000 : 0; /* ours, truncated */
	uint64_t hi = lo + 1000;

	return client_ms + HSK13_AGE_WINDOW_MS >= lo && client_ms <= hi + HSK13_AGE_WINDOW_MS;
}

/* The state behind one PSK identity: one of our sealed tickets, or a
 * store identity (hsk_store.h) that this server's cache or the fleet's
 * store holds. HSK_WANT_CRYPTO: a store lookup went out, the ClientHello
 * runs again on its answer; *found false: the identity is ignored. */
static hsk_err
hsk13_psk_state(struct hsk_conn *c, const uint8_t *identity, size_t len, bool may_ask, struct hsk_ticket *t,
		bool *found)
{
	const uint8_t *store_id = hsk_store_id13(identity, len);

	if (store_id != NULL)
		return hsk_store_psk13(c, store_id, may_ask, t, found);
	*found = hsk_ticket_open(hsk_tickets_current(c->ctx->tickets), identity, len, t);
	return HSK_OK;
}

/* Accept the first identity that is one of our tickets, still valid, for
 * this listener, with the chosen suite's hash, and whose binder checks.
 * The store is asked at most once per ClientHello (its first store
 * identity not in this server's cache), and only when the PSK can be
 * taken: a share in this ClientHello, or psk_ke alone (else a
 * HelloRetryRequest comes first, and the PSK is not taken after it). */
static hsk_err
hsk13_try_psk(struct hsk_conn *c, const struct hsk_client_hello *ch, const uint8_t *hdr, const uint8_t *body,
	      bool have_share)
{
	const struct hsk_ctx *ctx = c->ctx;
	struct hsk_rd r, ids, binders, id, binder;
	uint8_t mode_ok = 0;
	uint16_t index = 0;

	for (size_t i = 0; ch->has_psk_modes && i < ch->psk_modes.len; i++)
		c->client_psk_modes |= ch->psk_modes.base[i] == 1 ? HSK_PSK_DHE_KE
				       : ch->psk_modes.base[i] == 0 ? HSK_PSK_KE : 0;
	mode_ok = c->client_psk_modes & ctx->psk_modes;
	c->psk_modes_absent = !ch->has_psk_modes;
	if (!ch->has_psk || !ctx->resumption || ctx->tickets == NULL || mode_ok == 0)
		return HSK_OK;
	r = hsk_rd_make(ch->psk.base, ch->psk.len);
	TRY(hsk_rd_vec(&r, 2, 7, 0xffff, &ids));
	TRY(hsk_rd_vec(&r, 2, 33, 0xffff, &binders));
	while (hsk_rd_left(&ids) > 0) {
		struct hsk_ticket t;
		uint32_t age;
		bool usable;

		TRY(hsk_rd_vec(&ids, 2, 1, 0xffff, &id));
		TRY(hsk_rd_u32(&ids, &age));
		TRY(hsk_rd_vec(&binders, 1, 32, 255, &binder));
		TRY(hsk13_psk_state(c, id.cur, hsk_rd_left(&id), have_share || !(mode_ok & HSK_PSK_DHE_KE), &t,
				    &usable));
		if (!usable) {
			index++;
			continue;
		}
		usable = t.version == 0x0304 && t.ctx_id == ctx->id &&
			 hsk_ticket_fresh(t.created_s, t.lifetime_s, hsk_fleet_now_s(c->w)) && hsk13_age_ok(c, &t, age) &&
			 t.secret_len == hsk13_hlen(c) &&
			 hsk_suite_by_id(t.suite) != NULL && hsk_suite_by_id(t.suite)->prf == c->suite->prf &&
			 !(ctx->client_auth == HSK_CLIENT_AUTH_REQUIRE && !t.client_cert) &&
			 hsk_names_resumable(t.sni_digest, c->sni_digest); /* RFC 6066 3 */
		if (usable) {
			uint8_t mac[64];
			size_t mlen;
			const uint8_t *store_id = hsk_store_id13(id.cur, hsk_rd_left(&id));
			hsk_err err = hsk13_binder(c, t.secret, hdr, body, ch->psk_binders_offset, mac, &mlen);

			if (err == HSK_OK && (mlen != hsk_rd_left(&binder) || CRYPTO_memcmp(mac, binder.cur, mlen) != 0))
				err = HSK_ALERT(HSK_AD_DECRYPT_ERROR); /* RFC 8446 4.2.11 */
			if (err != HSK_OK) {
				OPENSSL_cleanse(&t, sizeof(t));
				return err;
			}
			memcpy(c->master, t.secret, t.secret_len); /* the PSK */
			c->client_cert = t.client_cert;
			c->resumed = true;
			c->psk_identity = index;
			c->psk_ke = !(mode_ok & HSK_PSK_DHE_KE);
			c->resumed_store13 = store_id != NULL; /* forgotten after a fatal alert */
			if (store_id != NULL)
				memcpy(c->store_id13, store_id, HSK_SESS_ID_LEN);
			OPENSSL_cleanse(&t, sizeof(t));
			return HSK_OK;
		}
		OPENSSL_cleanse(&t, sizeof(t));
		index++;
	}
	return HSK_OK;
}

static void
hsk13_take_alpn(struct hsk_conn *c, const struct hsk_client_hello *ch)
{
	struct hsk_view alpn;

	hsk_client_hello_alpn(ch, c->ctx, &alpn);
	if (alpn.len)
		memcpy(c->alpn, alpn.base, alpn.len < sizeof(c->alpn) - 1 ? alpn.len : sizeof(c->alpn) - 1);
}

hsk_err
hsk_srv13_client_hello(struct hsk_conn *c, const struct hsk_client_hello *ch, const uint8_t *body,
		       size_t len)
{
	const struct hsk_ctx *ctx = c->ctx;
	uint8_t hdr[4] = { 1, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	struct hsk_view share = { NULL, 0 };
	uint16_t group = 0;

	/* RFC 8446 4.1.2: exactly the null compression method */
	if (ch->compressions.len != 1 || ch->compressions.base[0] != 0)
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	if (!ch->has_key_share || !ch->has_groups)
		return HSK_ALERT(HSK_AD_MISSING_EXTENSION); /* RFC 8446 9.2 */
	/* RFC 8446 4.2.9: a pre_shared_key without psk_key_exchange_modes
	 * MUST abort the handshake (it was ignored, as if no PSK came). */
	if (ch->has_psk && !ch->has_psk_modes)
		return HSK_ALERT(HSK_AD_MISSING_EXTENSION);
	if (c->hrr) {
		/* The second ClientHello: same suite, the cookie echoed, a
		 * share for the group we asked for, no early data (RFC 8446
		 * 4.1.2, 4.2.10). */
		if (!hsk_view_has16(ch->suites, c->suite->id) || !ch->has_cookie || ch->early_data ||
		    ch->cookie.len != sizeof(c->cookie) ||
		    CRYPTO_memcmp(ch->cookie.base, c->cookie, sizeof(c->cookie)) != 0)
			return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
		TRY(hsk13_find_share(ch, c->group, &share));
		if (share.base == NULL)
			return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
		/* RFC 8446 4.1.2: the second ClientHello may not change
		 * server_name (the certificate was chosen for the first). */
		if (hsk_names_digest(ch->sni_host.base, ch->sni_host.len, ch->has_sni) != c->sni_digest)
			return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
		group = c->group;
		/* Early records are skipped only up to this ClientHello
		 * (RFC 8446 4.2.10): from here a record that does not open
		 * under the handshake keys is bad_record_mac. */
		c->early_skip = 0;
	} else {
		c->version = 0x0304;
		c->suite = NULL;
		/* 0-RTT is refused: no early_data in EncryptedExtensions, and
		 * the client's early records are skipped (RFC 8446 4.2.10). */
		if (ch->early_data)
			c->early_skip = HSK13_EARLY_SKIP_MAX;
		for (size_t i = 0; i < ctx->n_suites && c->suite == NULL; i++) {
			const struct hsk_suite *s = hsk_suite_by_id(ctx->suites[i]);
			if (s != NULL && s->version == 0x0304 && hsk_view_has16(ch->suites, s->id))
				c->suite = s;
		}
		if (c->suite == NULL)
			return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
		TRY(hsk13_choose_cert(c, ch));
		/* legacy_session_id is echoed (RFC 8446 4.1.3) */
		c->session_id_len = (uint8_t)ch->session_id.len;
		memcpy(c->session_id, ch->session_id.base, ch->session_id.len);
		memcpy(c->client_random, ch->random, 32);
		if (ch->has_sni) {
			size_t n = ch->sni_host.len < sizeof(c->sni) - 1 ? ch->sni_host.len : sizeof(c->sni) - 1;
			memcpy(c->sni, ch->sni_host.base, n);
			c->sni[n] = 0;
		}
		c->sni_digest = hsk_names_digest(ch->sni_host.base, ch->sni_host.len, ch->has_sni);
		c->status_req = ch->status_request;
		/* Our preferred group among those the client sent a share for;
		 * else a HelloRetryRequest for our preferred supported one. */
		for (size_t i = 0; i < ctx->n_groups && group == 0; i++) {
			if (!hsk13_group_ok(ctx->groups[i]) || !hsk_view_has16(ch->groups, ctx->groups[i]))
				continue;
			TRY(hsk13_find_share(ch, ctx->groups[i], &share));
			if (share.base != NULL)
				group = ctx->groups[i];
		}
		TRY(hsk13_try_psk(c, ch, hdr, body, group != 0));
		if (!EVP_DigestInit_ex(c->transcript, hsk_algs_md(c->suite->prf), NULL))
			return ERR_INTERNAL;
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		if (c->resumed && c->psk_ke) {
			/* psk_ke: no key share at all (RFC 8446 4.2.9) */
			hsk13_take_alpn(c, ch);
			c->group = 0;
			c->job.status = ACC_DONE;
			c->job.out_len = 0;
			c->job.secret_len = 0;
			c->state = HSK_ST13_KX;
			return hsk_srv13_resume(c);
		}
		if (group != 0 && hsk13_retry_for_hybrid(c, ch, group))
			return hsk13_send_hrr(c, ACC_GROUP_X25519MLKEM768);
		if (group == 0) {
			/* a PSK is only taken with a share in this ClientHello */
			c->resumed = false;
			for (size_t i = 0; i < ctx->n_groups; i++)
				if (hsk13_group_ok(ctx->groups[i]) && hsk_view_has16(ch->groups, ctx->groups[i]))
					return hsk13_send_hrr(c, ctx->groups[i]);
			return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
		}
	}
	if (c->hrr) {
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
	}
	if (!hsk13_share_len_ok(group, share.len))
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	hsk13_take_alpn(c, ch);
	c->group = group;
	memcpy(c->job_in, share.base, share.len);
	c->job.in = c->job_in;
	c->job.in_len = (uint32_t)share.len;
	c->job.out = c->job_out;
	c->job.out_cap = HSK13_SHARE_CAP;
	c->job.secret = c->job_out + HSK13_SHARE_CAP;
	c->job.secret_cap = sizeof(c->job_out) - HSK13_SHARE_CAP;
	c->job.eph = &c->eph;
	c->job.key = NULL;
	c->state = HSK_ST13_KX;
	return hsk_submit(c, ACC_OP_KX_KEYGEN_DERIVE, group);
}

/* ---- the server's flight ---- */

static hsk_err
hsk13_server_hello(struct hsk_conn *c)
{
	uint8_t buf[512 + HSK13_SHARE_CAP];
	struct hsk_wr w;
	size_t exts;

	if (RAND_bytes(c->server_random, 32) != 1)
		return ERR_INTERNAL;
	hsk_wr_init(&w, buf, sizeof(buf));
	hsk_wr_u16(&w, 0x0303);
	hsk_wr_bytes(&w, c->server_random, 32);
	hsk_wr_u8(&w, c->session_id_len);
	hsk_wr_bytes(&w, c->session_id, c->session_id_len);
	hsk_wr_u16(&w, c->suite->id);
	hsk_wr_u8(&w, 0);
	exts = hsk_wr_open(&w, 2);
	hsk_wr_u16(&w, EXT_SUPPORTED_VERSIONS);
	hsk_wr_u16(&w, 2);
	hsk_wr_u16(&w, 0x0304);
	if (!c->psk_ke) {
		hsk_wr_u16(&w, EXT_KEY_SHARE);
		hsk_wr_u16(&w, (uint16_t)(4 + c->job.out_len));
		hsk_wr_u16(&w, c->group);
		hsk_wr_u16(&w, (uint16_t)c->job.out_len);
		hsk_wr_bytes(&w, c->job_out, c->job.out_len);
	}
	if (c->resumed) {
		hsk_wr_u16(&w, EXT_PRE_SHARED_KEY);
		hsk_wr_u16(&w, 2);
		hsk_wr_u16(&w, c->psk_identity);
	}
	hsk_wr_close(&w, exts, 2);
	if (w.err)
		return ERR_INTERNAL;
	return hsk_out_hs(c, HSK_MT_SERVER_HELLO, buf, w.len);
}

static hsk_err
hsk13_encrypted_extensions(struct hsk_conn *c)
{
	uint8_t buf[128];
	struct hsk_wr w;
	size_t exts;
	size_t alen = strlen(c->alpn);

	hsk_wr_init(&w, buf, sizeof(buf));
	exts = hsk_wr_open(&w, 2);
	if (c->sni[0]) { /* RFC 6066 3: the name was used */
		hsk_wr_u16(&w, EXT_SERVER_NAME);
		hsk_wr_u16(&w, 0);
	}
	if (alen) {
		hsk_wr_u16(&w, EXT_ALPN);
		hsk_wr_u16(&w, (uint16_t)(alen + 3));
		hsk_wr_u16(&w, (uint16_t)(alen + 1));
		hsk_wr_u8(&w, (uint8_t)alen);
		hsk_wr_bytes(&w, c->alpn, alen);
	}
	hsk_wr_close(&w, exts, 2);
	if (w.err)
		return ERR_INTERNAL;
	return hsk_out_hs(c, HSK_MT_ENCRYPTED_EXTENSIONS, buf, w.len);
}

static hsk_err
hsk13_certificate_request(struct hsk_conn *c)
{
	const struct hsk_ctx *ctx = c->ctx;
	uint8_t buf[8192 + 128];
	struct hsk_wr w;
	size_t exts, at;

	hsk_wr_init(&w, buf, sizeof(buf));
	hsk_wr_u8(&w, 0); /* certificate_request_context */
	exts = hsk_wr_open(&w, 2);
	hsk_wr_u16(&w, EXT_SIGNATURE_ALGORITHMS);
	at = hsk_wr_open(&w, 2);
	size_t list = hsk_wr_open(&w, 2);
	for (size_t i = 0; i < ctx->n_sigalgs; i++)
		if (!hsk_sig_is_rsa(ctx->sigalgs[i]) || hsk_sig_is_pss(ctx->sigalgs[i]))
			hsk_wr_u16(&w, ctx->sigalgs[i]);
	hsk_wr_close(&w, list, 2);
	hsk_wr_close(&w, at, 2);
	if (ctx->ca_names_len > 0 && ctx->ca_names_len <= 8192) {
		hsk_wr_u16(&w, EXT_CERTIFICATE_AUTHORITIES);
		hsk_wr_u16(&w, (uint16_t)(ctx->ca_names_len + 2));
		hsk_wr_u16(&w, (uint16_t)ctx->ca_names_len);
		hsk_wr_bytes(&w, ctx->ca_names, ctx->ca_names_len);
	}
	hsk_wr_close(&w, exts, 2);
	if (w.err)
		return ERR_INTERNAL;
	return hsk_out_hs(c, HSK_MT_CERTIFICATE_REQUEST, buf, w.len);
}

/* The signed content of a CertificateVerify (RFC 8446 4.4.3). */
static hsk_err
hsk13_verify_content(struct hsk_conn *c, bool server, uint8_t *out, size_t *out_len)
{
	static const char *labels[2] = { "TLS 1.3, client CertificateVerify",
					 "TLS 1.3, server CertificateVerify" };
	const char *label = labels[server];
	size_t llen = strlen(label), thlen;

	memset(out, 0x20, 64);
	memcpy(out + 64, label, llen);
	out[64 + llen] = 0;
	TRY(hsk_transcript_hash(c, out + 65 + llen, &thlen));
	*out_len = 65 + llen + thlen;
	return HSK_OK;
}

static hsk_err hsk13_server_finished(struct hsk_conn *c);

/* Certificate (RFC 8446 4.4.2), encoded at load with and without the
 * leaf's OCSP staple; the staple only to a client that asked for it
 * (4.4.2.1), while it has not expired. */
static hsk_err
hsk13_certificate(struct hsk_conn *c)
{
	const struct hsk_cert *cert = &c->ctx->certs[c->cert];

	c->staple = cert->list13_ocsp != NULL && hsk_ocsp_staple(cert, c->w, c->status_req);
	if (c->staple)
		return hsk_out_hs(c, HSK_MT_CERTIFICATE, cert->list13_ocsp, cert->list13_ocsp_len);
	return hsk_out_hs(c, HSK_MT_CERTIFICATE, cert->list13, cert->list13_len);
}

/* After the key share: ServerHello, handshake keys, EncryptedExtensions,
 * CertificateRequest, Certificate, then the CertificateVerify job. */
static hsk_err
hsk13_after_kx(struct hsk_conn *c)
{
	const EVP_MD *md = hsk_algs_md(hsk_sig_hash(c->sigalg));
	int prf = c->suite->prf;
	uint8_t early[64], derived[64], th[64], content[200];
	size_t thlen, clen;
	unsigned int dlen;
	hsk_err err;

	if (c->job.status != ACC_DONE)
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER); /* not a valid share */
	acc_eph_clear(&c->eph);
	TRY(hsk13_server_hello(c));
	if (c->session_id_len && !c->ccs_sent) {
		static const uint8_t ccs = 1; /* middlebox compatibility (RFC 8446 D.4) */
		TRY(hsk_out_record(c, REC_CHANGE_CIPHER_SPEC, &ccs, 1));
		c->ccs_sent = true;
	}
	/* Key schedule without PSK: early secret from zeros, then the
	 * handshake secret from the (EC)DHE shared secret. */
	TRY(hsk_hkdf_extract(prf, NULL, 0, c->resumed ? c->master : NULL, hsk13_hlen(c), early));
	OPENSSL_cleanse(c->master, sizeof(c->master));
	TRY(hsk13_derived(c, early, derived));
	OPENSSL_cleanse(early, sizeof(early));
	err = hsk_hkdf_extract(prf, derived, hsk13_hlen(c), c->psk_ke ? NULL : c->job.secret,
			       c->psk_ke ? 0 : c->job.secret_len, c->secret13);
	OPENSSL_cleanse(c->job_out + HSK13_SHARE_CAP, sizeof(c->job_out) - HSK13_SHARE_CAP);
	TRY(err);
	TRY(hsk_transcript_hash(c, th, &thlen));
	TRY(hsk_hkdf_derive_secret(prf, c->secret13, "c hs traffic", th, c->c_traffic));
	TRY(hsk_hkdf_derive_secret(prf, c->secret13, "s hs traffic", th, c->s_traffic));
	TRY(hsk13_install(c, true, c->s_traffic));
	TRY(hsk13_install(c, false, c->c_traffic));
	TRY(hsk13_encrypted_extensions(c));
	if (c->resumed) /* authenticated by the PSK: straight to Finished */
		return hsk13_server_finished(c);
	if (c->ctx->client_auth != HSK_CLIENT_AUTH_NONE)
		TRY(hsk13_certificate_request(c));
	TRY(hsk13_certificate(c));
	TRY(hsk13_verify_content(c, true, content, &clen));
	if (md == NULL || !EVP_Digest(content, clen, c->job_in, &dlen, md, NULL))
		return ERR_INTERNAL;
	c->job.key = c->ctx->certs[c->cert].key;
	c->job.in = c->job_in;
	c->job.in_len = dlen;
	c->job.out = c->job_out;
	c->job.out_cap = sizeof(c->job_out);
	c->state = HSK_ST13_SIGN;
	return hsk_submit(c, ACC_OP_SIGN, c->sigalg);
}

/* CertificateVerify and Finished, then the application secrets. */
static hsk_err
hsk13_after_sign(struct hsk_conn *c)
{
	uint8_t buf[600];
	struct hsk_wr w;

	if (c->job.status != ACC_DONE)
		return ERR_INTERNAL;
	hsk_wr_init(&w, buf, sizeof(buf));
	hsk_wr_u16(&w, c->sigalg);
	hsk_wr_u16(&w, (uint16_t)c->job.out_len);
	hsk_wr_bytes(&w, c->job_out, c->job.out_len);
	if (w.err)
		return ERR_INTERNAL;
	TRY(hsk_out_hs(c, HSK_MT_CERTIFICATE_VERIFY, buf, w.len));
	return hsk13_server_finished(c);
}

/* Our Finished, then the master secret and the application secrets. */
static hsk_err
hsk13_server_finished(struct hsk_conn *c)
{
	int prf = c->suite->prf;
	uint8_t mac[64], derived[64], th[64];
	size_t mlen, thlen;

	TRY(hsk13_finished_mac(c, c->s_traffic, mac, &mlen));
	TRY(hsk_out_hs(c, HSK_MT_FINISHED, mac, mlen));
	/* master secret and application traffic secrets (RFC 8446 7.1) */
	TRY(hsk13_derived(c, c->secret13, derived));
	TRY(hsk_transcript_hash(c, th, &thlen));
	/* client handshake secret is still needed for its Finished: keep it
	 * in c_traffic until then; the application one is derived later. */
	TRY(hsk_hkdf_extract(prf, derived, hsk13_hlen(c), NULL, 0, c->secret13));
	TRY(hsk_hkdf_derive_secret(prf, c->secret13, "s ap traffic", th, c->s_traffic));
	TRY(hsk13_install(c, true, c->s_traffic));
	/* the client's application secret uses the same transcript hash */
	memcpy(c->key_block, th, thlen);
	c->state = c->ctx->client_auth != HSK_CLIENT_AUTH_NONE && !c->resumed ? HSK_ST_CLIENT_CERT
										: HSK_ST_FINISHED;
	return HSK_OK;
}

hsk_err
hsk_srv13_resume(struct hsk_conn *c)
{
	switch (c->state) {
	case HSK_ST13_KX:
		return hsk13_after_kx(c);
	case HSK_ST13_SIGN:
		return hsk13_after_sign(c);
	default:
		return ERR_INTERNAL;
	}
}

/* ---- the client's flight ---- */

static hsk_err
hsk13_client_certificate(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	struct hsk_rd r = hsk_rd_make(body, len), ctxv, list, der, exts;
	STACK_OF(X509) *chain;
	hsk_err err = HSK_OK;

	TRY(hsk_rd_vec(&r, 1, 0, 255, &ctxv));
	TRY(hsk_rd_vec(&r, 3, 0, 0xffffff, &list));
	TRY(hsk_rd_end(&r));
	if (hsk_rd_left(&ctxv) != 0) /* we sent an empty context */
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	if (hsk_rd_left(&list) == 0) {
		if (c->ctx->client_auth == HSK_CLIENT_AUTH_REQUIRE)
			return HSK_ALERT(HSK_AD_CERTIFICATE_REQUIRED); /* RFC 8446 4.4.2.4 */
		c->state = HSK_ST_FINISHED;
		return HSK_OK;
	}
	chain = sk_X509_new_null();
	if (chain == NULL)
		return ERR_INTERNAL;
	while (err == HSK_OK && hsk_rd_left(&list) > 0) {
		const uint8_t *p;
		X509 *x;

		if ((err = hsk_rd_vec(&list, 3, 1, 0xffffff, &der)) != HSK_OK ||
		    (err = hsk_rd_vec(&list, 2, 0, 0xffff, &exts)) != HSK_OK)
			break;
		p = der.cur;
		x = d2i_X509(NULL, &p, (long)hsk_rd_left(&der));
		if (x == NULL || p != der.end) {
			X509_free(x);
			err = HSK_ALERT(HSK_AD_BAD_CERTIFICATE);
			break;
		}
		sk_X509_push(chain, x);
	}
	if (err == HSK_OK)
		err = hsk_peer_cert_verify(c, chain);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	if (err == HSK_OK)
		c->state = HSK_ST_CERT_VERIFY;
	return err;
}

static hsk_err
hsk13_client_certificate_verify(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	struct hsk_rd r = hsk_rd_make(body, len), sig;
	uint8_t content[200];
	size_t clen;
	uint16_t scheme;

	TRY(hsk_rd_u16(&r, &scheme));
	TRY(hsk_rd_vec(&r, 2, 1, 0xffff, &sig));
	TRY(hsk_rd_end(&r));
	TRY(hsk13_verify_content(c, false, content, &clen));
	TRY(hsk_peer_cert_check_sig(c, scheme, sig.cur, hsk_rd_left(&sig), content, clen));
	EVP_PKEY_free(c->peer_key);
	c->peer_key = NULL;
	c->state = HSK_ST_FINISHED;
	return HSK_OK;
}

static hsk_err
hsk13_client_finished(struct hsk_conn *c, const uint8_t *body, size_t len)
{
	uint8_t mac[64];
	size_t mlen;

	/* verify_data is Hash.length bytes (RFC 8446 4.4.4): a malformed
	 * message, whatever its MAC */
	if (len != hsk13_hlen(c))
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	/* c_traffic still holds the client handshake traffic secret */
	TRY(hsk13_finished_mac(c, c->c_traffic, mac, &mlen));
	if (len != mlen || CRYPTO_memcmp(mac, body, mlen) != 0)
		return HSK_ALERT(HSK_AD_DECRYPT_ERROR);
	TRY(hsk_hkdf_derive_secret(c->suite->prf, c->secret13, "c ap traffic", c->key_block, c->c_traffic));
	OPENSSL_cleanse(c->key_block, sizeof(c->key_block));
	TRY(hsk13_install(c, false, c->c_traffic));
	if (c->resumed)
		c->w->handshakes_resumed++;
	else
		c->w->handshakes_full++;
	c->state = HSK_ST_ESTABLISHED;
	c->completed = true;
	return HSK_OK;
}

/* NewSessionTicket messages (RFC 8446 4.6.1), each with its own nonce
 * and PSK = HKDF-Expand-Label(resumption_master_secret, "resumption",
 * nonce, Hash.length). */
static hsk_err
hsk13_send_tickets(struct hsk_conn *c)
{
	const struct hsk_ctx *ctx = c->ctx;
	size_t hlen = hsk13_hlen(c), thlen, n;
	uint8_t th[64], rms[64], buf[16 + HSK_TICKET_MAX];
	struct hsk_ticket t;
	hsk_err err = HSK_OK;
	bool store = hsk_store_issues13(c);

	/* Tickets go out with our Finished's answer, unasked (RFC 8446 4.6.1;
	 * clients such as tlsfuzzer wait for them before writing). Not to a
	 * client whose psk_key_exchange_modes exclude every mode we resume
	 * with (4.2.9: SHOULD NOT); one that lists no modes may still learn
	 * to use them, so it gets them, as from OpenSSL. */
	if (!ctx->resumption || ctx->tickets == NULL || ctx->tickets13 == 0 ||
	    ((c->client_psk_modes & ctx->psk_modes) == 0 && !c->psk_modes_absent))
		return HSK_OK;
	TRY(hsk_transcript_hash(c, th, &thlen));
	TRY(hsk_hkdf_derive_secret(c->suite->prf, c->secret13, "res master", th, rms));
	for (uint8_t i = 0; i < ctx->tickets13 && err == HSK_OK; i++) {
		struct hsk_wr w;

		memset(&t, 0, sizeof(t));
		t.version = 0x0304;
		t.suite = c->suite->id;
		t.ctx_id = ctx->id;
		t.created_s = hsk_fleet_now_s(c->w); /* opened by any server of the fleet */
		t.lifetime_s = ctx->session_lifetime_s;
		t.client_cert = c->client_cert;
		t.sni_digest = c->sni_digest;
		t.secret_len = (uint8_t)hlen;
		if (RAND_bytes((uint8_t *)&t.age_add, sizeof(t.age_add)) != 1 ||
		    hsk_hkdf_expand_label(c->suite->prf, rms, "resumption", &i, 1, t.secret, hlen) != HSK_OK) {
			err = ERR_INTERNAL;
			break;
		}
		if (store) {
			/* the state goes to the fleet's store, the client gets its identity */
			hsk_store_issue13(c, &t, buf + 16);
			n = HSK_STORE_ID13_LEN;
		} else if (!hsk_ticket_seal(hsk_tickets_current(ctx->tickets), &t, buf + 16, sizeof(buf) - 16, &n)) {
			err = ERR_INTERNAL;
			break;
		}
		hsk_wr_init(&w, buf, 16);
		hsk_wr_u32(&w, t.lifetime_s);
		hsk_wr_u32(&w, t.age_add);
		hsk_wr_u8(&w, 1);
		hsk_wr_u8(&w, i);         /* ticket_nonce */
		hsk_wr_u16(&w, (uint16_t)n);
		memmove(buf + 12, buf + 16, n);
		buf[12 + n] = 0;          /* no extensions: no early data */
		buf[13 + n] = 0;
		err = hsk_out_hs(c, HSK_MT_NEW_SESSION_TICKET, buf, 14 + n);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(rms, sizeof(rms));
	return err;
}

hsk_err
hsk_srv13_message(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t hdr[4] = { type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	hsk_err err;

	switch (c->state) {
	case HSK_ST_CLIENT_CERT:
		if (type != HSK_MT_CERTIFICATE)
			return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		return hsk13_client_certificate(c, body, len);
	case HSK_ST_CERT_VERIFY:
		if (type != HSK_MT_CERTIFICATE_VERIFY)
			return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
		err = hsk13_client_certificate_verify(c, body, len);
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		return err;
	case HSK_ST_FINISHED:
		if (type != HSK_MT_FINISHED)
			return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
		err = hsk13_client_finished(c, body, len);
		hsk_transcript_add(c, hdr, 4);
		hsk_transcript_add(c, body, len);
		if (err == HSK_OK)
			err = hsk13_send_tickets(c);
		return err;
	default:
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	}
}

/* After the handshake: KeyUpdate (RFC 8446 4.6.3); anything else from a
 * client is unexpected (no renegotiation in TLS 1.3). */
hsk_err
hsk_srv13_post_handshake(struct hsk_conn *c, uint8_t type, const uint8_t *body, size_t len)
{
	size_t hlen = hsk13_hlen(c);
	uint8_t next[64];

	if (type != HSK_MT_KEY_UPDATE)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	if (len != 1)
		return HSK_ALERT(HSK_AD_DECODE_ERROR);
	if (body[0] > 1)
		return HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER);
	/* RFC 8446 4.6.3 puts no bound on KeyUpdates; each costs a key
	 * derivation, and an answer when requested. Like BoringSSL and
	 * rustls: at most HSK13_MAX_KEY_UPDATES in a row without application
	 * data from the client (hsk_conn.c resets the count). */
	if (++c->key_updates > HSK13_MAX_KEY_UPDATES) {
		c->w->key_updates_cut++;
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	}
	TRY(hsk_hkdf_expand_label(c->suite->prf, c->c_traffic, "traffic upd", NULL, 0, next, hlen));
	memcpy(c->c_traffic, next, hlen);
	TRY(hsk13_install(c, false, c->c_traffic));
	if (body[0] == 1) {
		/* update_requested: answer with our own update, sent under the
		 * old keys, then switch. */
		static const uint8_t not_requested = 0;
		uint8_t msg[5] = { HSK_MT_KEY_UPDATE, 0, 0, 1, not_requested };
		TRY(hsk_out_record(c, REC_HANDSHAKE, msg, sizeof(msg)));
		TRY(hsk_hkdf_expand_label(c->suite->prf, c->s_traffic, "traffic upd", NULL, 0, next, hlen));
		memcpy(c->s_traffic, next, hlen);
		TRY(hsk13_install(c, true, c->s_traffic));
	}
	OPENSSL_cleanse(next, sizeof(next));
	return HSK_OK;
}
