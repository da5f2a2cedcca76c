/* The session store shared by a fleet: entry encoding and sealing, and
 * the engine's side of lookups (hsk_store.h). */
#include <string.h>

#include <openssl/crypto.h>

#include "hsk_conn_priv.h"
#include "hsk_store.h"

size_t
hsk_store_key(uint16_t version, const uint8_t *id, size_t id_len, char key[HSK_STORE_KEY_MAX])
{
	static const char hex[] = "0123456789abcdef";
	const char *prefix = version == 0x0304 ? HSK_STORE_PREFIX13 : HSK_STORE_PREFIX12;
	size_t n = sizeof(HSK_STORE_PREFIX12) - 1;

	if (id_len > HSK_SESS_ID_LEN)
		id_len = HSK_SESS_ID_LEN;
	memcpy(key, prefix, n);
	for (size_t i = 0; i < id_len; i++) {
		key[n++] = hex[id[i] >> 4];
		key[n++] = hex[id[i] & 15];
	}
	key[n] = 0;
	return n;
}

const uint8_t *
hsk_store_id13(const uint8_t *identity, size_t len)
{
	struct hsk_rd r = hsk_rd_make(identity, len);
	const uint8_t *id = NULL;
	uint8_t mark = 0;

	if (hsk_rd_u8(&r, &mark) != HSK_OK || mark != HSK_STORE_ID13_MARK ||
	    hsk_rd_bytes(&r, HSK_SESS_ID_LEN, &id) != HSK_OK || hsk_rd_end(&r) != HSK_OK)
		return NULL;
	return id;
}

/* A session as a ticket's state, and back (the ID is not in the state:
 * the entry's key carries it). */
static void
hsk_store_ticket_of(const struct hsk_sess *s, struct hsk_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->version = s->version;
	t->suite = s->suite;
	t->ctx_id = s->ctx_id;
	t->created_s = s->created_s;
	t->lifetime_s = s->lifetime_s;
	t->age_add = s->age_add;
	t->ems = s->ems;
	t->client_cert = s->client_cert;
	t->sni_digest = s->sni_digest; /* resumed only for its server name */
	t->secret_len = s->version == 0x0304 ? s->secret_len : sizeof(s->master);
	if (t->secret_len > sizeof(t->secret))
		t->secret_len = sizeof(t->secret);
	memcpy(t->secret, s->master, t->secret_len);
}

static void
hsk_store_sess_of(const struct hsk_ticket *t, const uint8_t *id, struct hsk_sess *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id, HSK_SESS_ID_LEN);
	s->id_len = HSK_SESS_ID_LEN;
	s->ems = t->ems;
	s->client_cert = t->client_cert;
	s->version = t->version;
	s->suite = t->suite;
	s->ctx_id = t->ctx_id;
	s->created_s = t->created_s;
	s->lifetime_s = t->lifetime_s;
	s->age_add = t->age_add;
	s->sni_digest = t->sni_digest;
	s->secret_len = t->secret_len;
	memcpy(s->master, t->secret, t->secret_len);
}

bool
hsk_store_seal(const struct hsk_ticket_keys *k, const struct hsk_sess *s, const char *key, size_t key_len,
	       uint8_t *out, size_t cap, size_t *len)
{
	struct hsk_ticket t;
	bool ok;

	hsk_store_ticket_of(s, &t);
	ok = hsk_ticket_seal_ad(k, &t, (const uint8_t *)key, key_len, out, cap, len);
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

bool
hsk_store_open(const struct hsk_ticket_keys *k, uint16_t version, const uint8_t *id, size_t id_len,
	       const uint8_t *val, size_t len, uint32_t ctx_id, uint64_t now_s, struct hsk_sess *s)
{
	char key[HSK_STORE_KEY_MAX];
	size_t key_len;
	struct hsk_ticket t;
	bool ok;

	memset(s, 0, sizeof(*s));
	if (id_len != HSK_SESS_ID_LEN)
		return false;
	key_len = hsk_store_key(version, id, id_len, key);
	/* The key is bound as additional data: a value copied under another
	 * session ID (or from a TLS 1.2 key to a TLS 1.3 one) does not open
	 * (whoever can write to the store cannot hand one client's session
	 * to another ID). */
	ok = hsk_ticket_open_ad(k, (const uint8_t *)key, key_len, val, len, &t) && t.version == version &&
	     t.ctx_id == ctx_id && (version == 0x0304 ? t.secret_len >= 32 : t.secret_len == sizeof(s->master)) &&
	     hsk_ticket_fresh(t.created_s, t.lifetime_s, now_s);
	if (ok)
		hsk_store_sess_of(&t, id, s);
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

/* ---- the engine's side ---- */

/* Ask only once per ClientHello, only for a session ID of ours (32
 * bytes: hsk_sess_id_new), and only when a ticket key can open the
 * answer. */
bool
hsk_store_wanted(const struct hsk_conn *c, size_t id_len)
{
	return c->w->store != NULL && c->ctx->resumption && c->ctx->tickets != NULL && id_len == HSK_SESS_ID_LEN &&
	       !c->store_asked;
}

/* Start the lookup of (version, id). HSK_WANT_CRYPTO: the ClientHello
 * waits for the answer (hsk_conn_from_lookup, hsk_conn_resume); HSK_OK:
 * the dataplane answered at once (no connection to the store:
 * HSK_STORE_FAILED), go on. */
hsk_err
hsk_store_ask(struct hsk_conn *c, uint16_t version, const uint8_t *id, size_t id_len)
{
	struct hsk_store_lookup *l = &c->lookup;

	c->store_asked = true;
	l->owner = c;
	l->gen = c->gen;
	l->status = HSK_STORE_PENDING;
	l->val_len = 0;
	l->key_len = hsk_store_key(version, id, id_len, l->key);
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

/* The answer for (version, id), once: a session that opens, or false
 * (counted). An answer for another ID stays for its own. */
bool
hsk_store_take(struct hsk_conn *c, uint16_t version, const uint8_t *id, size_t id_len, struct hsk_sess *s)
{
	struct hsk_store_lookup *l = &c->lookup;
	char key[HSK_STORE_KEY_MAX];
	bool ok = false;

	if (!c->store_asked || l->status == HSK_STORE_PENDING ||
	    hsk_store_key(version, id, id_len, key) != l->key_len || memcmp(key, l->key, l->key_len) != 0)
		return false;
	switch (l->status) {
	case HSK_STORE_HIT:
		ok = hsk_store_open(hsk_tickets_current(c->ctx->tickets), version, id, id_len, l->val, l->val_len,
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

/* After a full handshake, or a TLS 1.3 ticket: the session for the rest
 * of the fleet. */
void
hsk_store_put(struct hsk_conn *c, const struct hsk_sess *s)
{
	char key[HSK_STORE_KEY_MAX];
	uint8_t val[HSK_STORE_VAL_MAX];
	size_t key_len, n;
	struct hsk_sess fleet;

	if (c->w->store == NULL || c->ctx->tickets == NULL)
		return;
	/* A TLS 1.2 s is stamped for this process's cache (monotonic); other
	 * hosts booted at other times, so the stored copy carries the date. */
	fleet = *s;
	fleet.created_s = hsk_fleet_now_s(c->w);
	key_len = hsk_store_key(s->version, s->id, s->id_len, key);
	if (hsk_store_seal(hsk_tickets_current(c->ctx->tickets), &fleet, key, key_len, val, sizeof(val), &n))
		c->w->store->put(c->w->store_arg, key, key_len, val, n, (uint64_t)s->lifetime_s * 1000);
	OPENSSL_cleanse(val, sizeof(val));
	hsk_sess_clear(&fleet);
}

/* ---- TLS 1.3 ---- */

/* Whether this connection's NewSessionTickets are store identities. */
bool
hsk_store_issues13(const struct hsk_conn *c)
{
	return c->ctx->store13 && c->w->store != NULL;
}

/* A NewSessionTicket's state t kept in this worker's cache and the
 * fleet's store; its identity (HSK_STORE_ID13_LEN bytes) in out. */
void
hsk_store_issue13(struct hsk_conn *c, const struct hsk_ticket *t, uint8_t out[HSK_STORE_ID13_LEN])
{
	uint8_t id[HSK_SESS_ID_LEN];
	struct hsk_sess s;

	hsk_sess_id_new(c->w->id, id);
	hsk_store_sess_of(t, id, &s); /* created_s: the fleet's clock, for the age check */
	if (c->w->cache != NULL)
		hsk_sess_cache_put(c->w->cache, c->w->id, &s);
	hsk_store_put(c, &s);
	hsk_sess_clear(&s);
	out[0] = HSK_STORE_ID13_MARK;
	memcpy(out + 1, id, HSK_SESS_ID_LEN);
}

/* The state behind a store identity's id: this server's cache, else the
 * store's answer, else (may_ask) a lookup: HSK_WANT_CRYPTO, the
 * ClientHello runs again on its answer. *found false: the identity is
 * ignored (a miss, a failure, another's answer). */
hsk_err
hsk_store_psk13(struct hsk_conn *c, const uint8_t *id, bool may_ask, struct hsk_ticket *t, bool *found)
{
	struct hsk_sess s;
	hsk_err err;

	*found = false;
	memset(t, 0, sizeof(*t));
	if (c->w->store == NULL)
		return HSK_OK;
	*found = c->w->cache != NULL &&
		 hsk_sess_cache_get(c->w->cache, id, HSK_SESS_ID_LEN, c->ctx->id, hsk_fleet_now_s(c->w), &s) &&
		 s.version == 0x0304;
	if (!*found && may_ask && hsk_store_wanted(c, HSK_SESS_ID_LEN)) {
		err = hsk_store_ask(c, 0x0304, id, HSK_SESS_ID_LEN);
		if (err != HSK_OK) {
			hsk_sess_clear(&s); /* a TLS 1.2 session of that ID may be in it */
			return err;
		}
	}
	if (!*found)
		*found = hsk_store_take(c, 0x0304, id, HSK_SESS_ID_LEN, &s);
	if (*found)
		hsk_store_ticket_of(&s, t);
	hsk_sess_clear(&s);
	return HSK_OK;
}

/* A fatal alert on an established connection with a TLS 1.2 session, or
 * one resumed from a TLS 1.3 store identity: the session is not
 * resumable anywhere any more (RFC 5246 7.2.2). */
void
hsk_store_forget(struct hsk_conn *c)
{
	char key[HSK_STORE_KEY_MAX];
	size_t key_len;

	if (c->w->store == NULL)
		return;
	if (c->version == 0x0303 && c->session_id_len == HSK_SESS_ID_LEN) {
		key_len = hsk_store_key(0x0303, c->session_id, c->session_id_len, key);
	} else if (c->version == 0x0304 && c->resumed && c->resumed_store13) {
		if (c->w->cache != NULL)
			hsk_sess_cache_remove(c->w->cache, c->w->id, c->store_id13, HSK_SESS_ID_LEN);
		key_len = hsk_store_key(0x0304, c->store_id13, HSK_SESS_ID_LEN, key);
	} else {
		return;
	}
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
