/* A session store shared by a fleet (Redis, on the dataplane), behind
 * the per-worker session cache (hsk_sess.h): TLS 1.2 session IDs and TLS
 * 1.3 resumption state made on one server resume on any other (RFC 5246
 * 7.4.1.2, 7.3; RFC 8446 4.6.1, 2.2).
 *
 * The engine does no I/O. It talks to the store through three operations
 * its worker carries (struct hsk_store_ops), implemented by the dataplane:
 *   - put and del are fire and forget: the handshake never waits for them;
 *   - get starts a lookup that the dataplane completes later: the
 *     ClientHello waits as a pending job (hsk_conn_crypto_pending() is
 *     true, the engine returned HSK_WANT_CRYPTO), exactly like a crypto
 *     job; the dataplane fills the lookup's status and value, takes the
 *     connection back with hsk_conn_from_lookup() and calls
 *     hsk_conn_resume(), which runs the kept ClientHello again with the
 *     answer. Every lookup must be completed exactly once: with the value,
 *     a miss, or HSK_STORE_FAILED (timeout, error, store down) after which
 *     the handshake goes on as a full one.
 *
 * Entries: key "tlso:s12:<session id in hex>" (TLS 1.2) or
 * "tlso:s13:<id in hex>" (TLS 1.3), value the session state sealed with
 * the current ticket key (AES-256-GCM, hsk_ticket_seal_ad: key name ||
 * nonce || ciphertext || tag), with the entry's key bound as additional
 * data. The store never sees a master secret or PSK in clear; a server
 * opens what any server of the fleet sealed once they share the ticket
 * key file, and a rotation leaves entries sealed under a previous key
 * readable while that key is kept. Entries expire with the session
 * lifetime (the dataplane sets it as the entry's TTL).
 *
 * TLS 1.3 (hsk_ctx.store13): a NewSessionTicket carries no sealed state
 * but a store identity, HSK_STORE_ID13_MARK || a 32-byte ID made like a
 * session ID (hsk_sess_id_new: its first byte names the worker, whose
 * cache shard also holds the state). 33 bytes: never one of our sealed
 * tickets (hsk_ticket_open takes no fewer than 45), which are still
 * accepted. Each NewSessionTicket is its own entry. */
#ifndef HSK_STORE_H
#define HSK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsk_sess.h"
#include "hsk_ticket.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HSK_STORE_PREFIX12 "tlso:s12:"
#define HSK_STORE_PREFIX13 "tlso:s13:" /* as long as PREFIX12 */
#define HSK_STORE_KEY_MAX (sizeof(HSK_STORE_PREFIX12) + 2 * HSK_SESS_ID_LEN)
#define HSK_STORE_ID13_MARK 0x53 /* 'S', version 1 of the identity */
#define HSK_STORE_ID13_LEN (1 + HSK_SESS_ID_LEN)
#define HSK_STORE_VAL_MAX HSK_TICKET_MAX

enum hsk_store_status {
	HSK_STORE_PENDING = 0,
	HSK_STORE_HIT = 1,     /* val holds the stored value */
	HSK_STORE_MISS = 2,    /* no such entry */
	HSK_STORE_FAILED = 3,  /* timeout, error or no connection: a full handshake */
};

/* One lookup, inside its connection (no allocation per lookup). */
struct hsk_store_lookup {
	void *owner;           /* the connection */
	uint32_t gen;          /* owner's generation when started */
	uint8_t status;        /* enum hsk_store_status, set by the dataplane */
	char key[HSK_STORE_KEY_MAX];
	size_t key_len;
	uint8_t val[HSK_STORE_VAL_MAX];
	size_t val_len;
	/* the dataplane's own */
	uint64_t deadline_ms;
	struct hsk_store_lookup *next;
};

struct hsk_store_ops {
	void (*get)(void *arg, struct hsk_store_lookup *l);
	void (*put)(void *arg, const char *key, size_t key_len, const uint8_t *val, size_t val_len,
		    uint64_t ttl_ms);
	void (*del)(void *arg, const char *key, size_t key_len);
};

/* The store key of a session ID (NUL-terminated) for version (0x0303:
 * a TLS 1.2 session ID, 0x0304: a TLS 1.3 store identity's ID); its
 * length. */
size_t hsk_store_key(uint16_t version, const uint8_t *id, size_t id_len, char key[HSK_STORE_KEY_MAX]);

/* The ID inside a TLS 1.3 PSK identity of the store, or NULL when the
 * identity is something else (one of our sealed tickets). */
const uint8_t *hsk_store_id13(const uint8_t *identity, size_t len);

/* Seal s (its version: 0x0303 with a 48-byte master secret, 0x0304 with
 * a secret_len-byte PSK) for the store under key (the current ticket
 * key). false when there is no key or no room. */
bool hsk_store_seal(const struct hsk_ticket_keys *k, const struct hsk_sess *s, const char *key, size_t key_len,
		    uint8_t *out, size_t cap, size_t *len);

/* Open a value read back under the key of (version, id): true and *s
 * filled (id from the key) when it opens under one of the keys, carries
 * a state of that version, belongs to ctx_id and has not expired at
 * now_s (wall-clock seconds, within HSK_TICKET_SKEW_S: hsk_ticket_fresh).
 * *s is zeroized otherwise. */
bool hsk_store_open(const struct hsk_ticket_keys *k, uint16_t version, const uint8_t *id, size_t id_len,
		    const uint8_t *val, size_t len, uint32_t ctx_id, uint64_t now_s, struct hsk_sess *s);

struct hsk_conn;

/* The dataplane's completion: the lookup's connection when the lookup is
 * still its current one (checked by generation; it is no longer pending
 * then), or NULL for a stale lookup. */
struct hsk_conn *hsk_conn_from_lookup(struct hsk_store_lookup *l);

#ifdef __cplusplus
}
#endif
#endif
