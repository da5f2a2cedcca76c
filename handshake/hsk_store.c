/* The session store shared by a fleet: entry encoding and sealing, and
 * the engine's side of lookups (hsk_store.h). */
#include <string.h>

#include <openssl/crypto.h>

#include "hsk_conn_priv.h"
#include "hsk_store.h"

size_t
hsk_store_key12(const uint8_t *id, size_t id_len, char key[HSK_STORE_KEY_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = sizeof(HSK_STORE_PREFIX12) - 1;

	if (id_len > HSK_SESS_ID_LEN)
		id_len = HSK_SESS_ID_LEN;
	memcpy(key, HSK_STORE_PREFIX12, n);
	for (size_t i = 0; i < id_len; i++) {
		key[n++] = hex[id[i] >> 4];
		key[n++] = hex[id[i] & 15];
	}
	key[n] = 0;
	return n;
}

bool
hsk_store_seal12(const struct hsk_ticket_keys *k, const struct hsk_sess *s, const char *key, size_t key_len,
		 uint8_t *out, size_t cap, size_t *len)
{
	struct hsk_ticket t;
	bool ok;

	memset(&t, 0, sizeof(t));
	t.version = 0x0303;
	t.suite = s->suite;
	t.ctx_id = s->ctx_id;
	t.created_s = s->created_s;
	t.lifetime_s = s->lifetime_s;
	t.ems = s->ems;
	t.client_cert = s->client_cert;
	t.sni_digest = s->sni_digest; /* resumed only for its server name */
	t.secret_len = sizeof(s->master);
	memcpy(t.secret, s->master, sizeof(s->master));
	ok = hsk_ticket_seal_ad(k, &t, (const uint8_t *)key, key_len, out, cap, len);
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

bool
hsk_store_open12(const struct hsk_ticket_keys *k, const uint8_t *id, size_t id_len, const uint8_t *val,
		 size_t len, uint32_t ctx_id, uint64_t now_s, struct hsk_sess *s)
{
	char key[HSK_STORE_KEY_MAX];
	size_t key_len;
	struct hsk_ticket t;
	bool ok;

	memset(s, 0, sizeof(*s));
	if (id_len != HSK_SESS_ID_LEN)
		return false;
	key_len = hsk_store_key12(id, id_len, key);
	/* The key is bound as additional data: a value copied under another
	 * session ID does not open (whoever can write to the store cannot
	 * hand one client's session to another ID). */
	ok = hsk_ticket_open_ad(k, (const uint8_t *)key, key_len, val, len, &t) && t.version == 0x0303 &&
	     t.ctx_id == ctx_id && t.secret_len == sizeof(s->master) &&
	     hsk_ticket_fresh(t.created_s, t.lifetime_s, now_s);
	if (ok) {
		memcpy(s->id, id, HSK_SESS_ID_LEN);
		s->id_len = HSK_SESS_ID_LEN;
		s->ems = t.ems;
		s->client_cert = t.client_cert;
		s->version = t.version;
		s->suite = t.suite;
		s->ctx_id = t.ctx_id;
		s->created_s = t.created_s;
		s->lifetime_s = t.lifetime_s;
		s->sni_digest = t.sni_digest;
		memcpy(s->master, t.secret, sizeof(s->master));
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

/* ---- the engine's side ---- */

/* Ask only once per ClientHello, only for a session ID of ours (32
 * bytes: hsk_sess_id_new), and only when a ticket key can open the
 * answer. */
bool
hsk_store_wanted12(const struct hsk_conn *c, size_t id_len)
{
	return c->w->store != NULL && c->ctx->resumption && c->ctx->tickets != NULL && id_len == HSK_SESS_ID_LEN &&
	       !c->store_asked;
}

/* Start the lookup. HSK_WANT_CRYPTO: the ClientHello waits for the
 * answer (hsk_conn_from_lookup, hsk_conn_resume); HSK_OK: the dataplane
 * answered at once (no connection to the store: HSK_STORE_FAILED), go on. */
hsk_err
hsk_store_ask12(struct hsk_conn *c, const uint8_t *id, size_t id_len)
{
	struct hsk_store_lookup *l = &c->lookup;

	c->store_asked = true;
	l->owner = c;
	l->gen = c->gen;
	l->status = HSK_STORE_PENDING;
	l->val_len = 0;
	l->key_len = hsk_store_key12(id, id_len, l->key);
	c->w->store_lookups++;
	c->job_pending = true;
	c->hello_kept = true;
	c->w->store->get(c->w->store_arg, l);
	if (l->status == HSK_STORE_PENDING)
		return HSK_WANT_CRYPTO;
	c->job_pending = false;
	c->hello_kept = false;
	return HSK_OK;
}

/* The answer, once: a session that opens, or false (counted). */
bool
hsk_store_take12(struct hsk_conn *c, const uint8_t *id, size_t id_len, struct hsk_sess *s)
{
	struct hsk_store_lookup *l = &c->lookup;
	bool ok = false;

	if (!c->store_asked || l->status == HSK_STORE_PENDING)
		return false;
	switch (l->status) {
	case HSK_STORE_HIT:
		ok = hsk_store_open12(hsk_tickets_current(c->ctx->tickets), id, id_len, l->val, l->val_len,
				      c->ctx->id, hsk_fleet_now_s(c->w), s);
		if (ok)
			c->w->store_hits++;
		else
			c->w->store_misses++; /* expired, another listener's, or under a key gone */
		break;
	case HSK_STORE_MISS:
		c->w->store_misses++;
		break;
	default:
		c->w->store_failed++;
		break;
	}
	OPENSSL_cleanse(l->val, l->val_len);
	l->val_len = 0;
	l->status = HSK_STORE_PENDING; /* taken */
	return ok;
}

/* After a full handshake: the session for the rest of the fleet. */
void
hsk_store_put12(struct hsk_conn *c, const struct hsk_sess *s)
{
	char key[HSK_STORE_KEY_MAX];
	uint8_t val[HSK_STORE_VAL_MAX];
	size_t key_len, n;
	struct hsk_sess fleet;

	if (c->w->store == NULL || c->ctx->tickets == NULL)
		return;
	/* s is stamped for this process's cache (monotonic); other hosts
	 * booted at other times, so the stored copy carries the date. */
	fleet = *s;
	fleet.created_s = hsk_fleet_now_s(c->w);
	key_len = hsk_store_key12(s->id, s->id_len, key);
	if (hsk_store_seal12(hsk_tickets_current(c->ctx->tickets), &fleet, key, key_len, val, sizeof(val), &n))
		c->w->store->put(c->w->store_arg, key, key_len, val, n, (uint64_t)s->lifetime_s * 1000);
	hsk_sess_clear(&fleet);
}

/* A fatal alert on a connection with a TLS 1.2 session: the session is
 * not resumable anywhere any more (RFC 5246 7.2.2). */
void
hsk_store_forget(struct hsk_conn *c)
{
	char key[HSK_STORE_KEY_MAX];
	size_t key_len;

	if (c->w->store == NULL || c->version != 0x0303 || c->session_id_len != HSK_SESS_ID_LEN)
		return;
	key_len = hsk_store_key12(c->session_id, c->session_id_len, key);
	c->w->store->del(c->w->store_arg, key, key_len);
}

struct hsk_conn *
hsk_conn_from_lookup(struct hsk_store_lookup *l)
{
	struct hsk_conn *c = l->owner;

	if (c == NULL || l->gen != c->gen || !c->job_pending || !c->hello_kept)
		return NULL;
	c->job_pending = false;
	return c;
}
