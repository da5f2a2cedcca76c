/* Session-ID resumption cache (RFC 5246 7.3, 7.4.1.2), one shard per
 * worker. With a session store (hsk_store.h) it also holds the TLS 1.3
 * resumption state behind the store's PSK identities (version 0x0304,
 * created_s on the fleet's clock: hsk_fleet_now_s), so that a client
 * coming back to this server resumes without a lookup.
 *
 * A session ID carries its owner: byte 0 is the worker that created it, so
 * a reconnect that lands on another worker (SO_REUSEPORT or RSS hashed the
 * new source port elsewhere) looks in the right shard directly. Only the
 * owning worker writes its shard; any worker may read any shard. Entries
 * are guarded by a per-slot sequence counter (seqlock): a reader copies the
 * entry and retries if a write overlapped, so the fast path takes no lock.
 * Slots are a fixed array per shard (size bound), replaced round robin,
 * with expiry by lifetime checked against the caller's clock. Evicted and
 * replaced master secrets are zeroized. */
#ifndef HSK_SESS_H
#define HSK_SESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HSK_SESS_ID_LEN 32

struct hsk_sess {
	uint8_t id[HSK_SESS_ID_LEN];
	uint8_t id_len;
	bool ems;              /* master secret is an extended master secret */
	bool client_cert;      /* the client authenticated in the full handshake */
	uint16_t version;
	uint16_t suite;
	uint32_t ctx_id;       /* the listener (hsk_ctx.id): no resumption across listeners */
	uint64_t created_s;
	uint32_t lifetime_s;
	uint8_t master[48];    /* TLS 1.2: the master secret; TLS 1.3: the PSK */
	uint8_t secret_len;    /* TLS 1.3: bytes of master that are the PSK (the suite's hash) */
	uint32_t age_add;      /* TLS 1.3: the ticket's obfuscation (RFC 8446 4.6.1) */
	uint32_t sni_digest;   /* hsk_names_digest of its server name: resumed only for it (RFC 6066 3) */
};

struct hsk_sess_cache;

/* n_shards: one per worker (at most 256); capacity: entries in total,
 * split evenly (at least 1 per shard). NULL on allocation failure. */
struct hsk_sess_cache *hsk_sess_cache_new(unsigned n_shards, size_t capacity);
void hsk_sess_cache_free(struct hsk_sess_cache *c);

/* A fresh random session ID whose first byte names the owning worker. */
void hsk_sess_id_new(unsigned worker, uint8_t id[HSK_SESS_ID_LEN]);

/* Store s in worker's shard (called only by that worker's thread). */
void hsk_sess_cache_put(struct hsk_sess_cache *c, unsigned worker, const struct hsk_sess *s);

/* Find id (its shard named by id[0]); copy it to *out when present, not
 * expired at now_s, and belonging to ctx_id. Any thread. */
bool hsk_sess_cache_get(struct hsk_sess_cache *c, const uint8_t *id, size_t id_len,
			uint32_t ctx_id, uint64_t now_s, struct hsk_sess *out);

/* Drop id if it is in worker's own shard (a fatal alert invalidates the
 * session, RFC 5246 7.2.2). Called only by that worker's thread. */
void hsk_sess_cache_remove(struct hsk_sess_cache *c, unsigned worker, const uint8_t *id,
			   size_t id_len);

/* Zeroize a copy of a session taken by hsk_sess_cache_get(). */
void hsk_sess_clear(struct hsk_sess *s);

#ifdef __cplusplus
}
#endif
#endif
