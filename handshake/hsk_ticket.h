/* Session tickets for TLS 1.2 (RFC 5077) and TLS 1.3 (RFC 8446 4.6.1):
 * the session state sealed with AES-256-GCM under a named key.
 *
 *   ticket = key_name (16) || nonce (12) || AEAD(state) || tag (16)
 *
 * with key_name as additional data. A key set holds the current key (it
 * seals) and the previous ones (they still open), so that a rotation does
 * not invalidate tickets in flight. Sets are immutable once published:
 * the control thread builds a new set and swaps the shared pointer
 * (hsk_tickets_publish); workers only load it (one atomic acquire per
 * use), so the fast path takes no lock. A replaced set is freed only after
 * a grace period of further rotations. */
#ifndef HSK_TICKET_H
#define HSK_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HSK_TICKET_NAME_LEN 16
#define HSK_TICKET_KEY_LEN 32
#define HSK_TICKET_KEYS_MAX 4
#define HSK_TICKET_MAX 256 /* bytes of a sealed ticket */
#define HSK_TICKET_AD_MAX 96 /* bytes of caller context bound by the _ad variants */

struct acc_imb_aead;

struct hsk_ticket_key {
	uint8_t name[HSK_TICKET_NAME_LEN];
	uint8_t key[HSK_TICKET_KEY_LEN];
	struct acc_imb_aead *gcm; /* its key schedule, made once when a set is
				  * published (NULL: OpenSSL's EVP per ticket) */
};

struct hsk_ticket_keys {
	size_t n;                    /* keys[0] seals; all open */
	struct hsk_ticket_key keys[HSK_TICKET_KEYS_MAX];
};

/* What a ticket carries. */
struct hsk_ticket {
	uint16_t version;            /* 0x0303 or 0x0304 */
	uint16_t suite;
	uint32_t ctx_id;             /* the listener that issued it */
	uint64_t created_s;
	uint32_t lifetime_s;
	uint32_t age_add;            /* TLS 1.3 */
	uint32_t sni_digest;         /* hsk_names_digest of the server name (RFC 6066 3) */
	bool ems;
	bool client_cert;
	uint8_t secret_len;
	uint8_t secret[48];          /* TLS 1.2 master secret, or the TLS 1.3 PSK */
};

struct hsk_tickets;

/* A shared holder with one fresh random key. */
struct hsk_tickets *hsk_tickets_new(void);
void hsk_tickets_free(struct hsk_tickets *t);

/* The set in use now (workers: valid for the duration of one engine call). */
const struct hsk_ticket_keys *hsk_tickets_current(const struct hsk_tickets *t);

/* Control thread: a new random current key, keeping up to keep - 1 of the
 * previous ones for decryption. Returns 0 or -1. */
int hsk_tickets_rotate(struct hsk_tickets *t, unsigned keep);

/* Control thread: replace the set with keys from a file shared by a fleet:
 * one key per line, 96 hex digits (16-byte name, 32-byte key), the first
 * line sealing. Returns 0, or -1 with a message. */
int hsk_tickets_load_file(struct hsk_tickets *t, const char *path, char *err, size_t errlen);

/* Seal / open. Open fails (false) for an unknown key name, a forged or
 * damaged ticket, or a malformed state; *out is zeroized then. */
bool hsk_ticket_seal(const struct hsk_ticket_keys *k, const struct hsk_ticket *t, uint8_t *out,
		     size_t cap, size_t *len);
bool hsk_ticket_open(const struct hsk_ticket_keys *k, const uint8_t *in, size_t len, struct hsk_ticket *out);

/* The same with ad (at most HSK_TICKET_AD_MAX bytes) bound as further
 * additional data: the state opens only under the same ad. The session
 * store binds its entries to their keys this way (hsk_store.h), so that
 * a value moved to another key in the store does not open. */
bool hsk_ticket_seal_ad(const struct hsk_ticket_keys *k, const struct hsk_ticket *t, const uint8_t *ad,
			size_t ad_len, uint8_t *out, size_t cap, size_t *len);
bool hsk_ticket_open_ad(const struct hsk_ticket_keys *k, const uint8_t *ad, size_t ad_len, const uint8_t *in,
			size_t len, struct hsk_ticket *out);

/* Sealed state leaves the process (tickets, the fleet's store): its
 * created_s is wall-clock seconds, and the hosts' clocks differ a little.
 * Valid at now_s (the same clock): made at most HSK_TICKET_SKEW_S in the
 * future, and its lifetime not over. */
#define HSK_TICKET_SKEW_S 5
bool hsk_ticket_fresh(uint64_t created_s, uint32_t lifetime_s, uint64_t now_s);

#ifdef __cplusplus
}
#endif
#endif
