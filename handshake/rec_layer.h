/* The TLS record layer (RFC 5246 6, RFC 8446 5): framing, and one
 * direction's record protection. Sans-IO like the rest of handshake/:
 * records are opened in place in the caller's buffer and sealed into the
 * caller's writer; no allocation per record. */
#ifndef REC_LAYER_H
#define REC_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsk_buf.h"
#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_suite;

enum rec_type {
	REC_CHANGE_CIPHER_SPEC = 20,
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_APPLICATION_DATA = 23,
};

#define REC_HDR_LEN 5
#define REC_MAX_PLAIN 16384u
/* TLSCiphertext.length limit: 2^14 + 2048 in TLS 1.2 (RFC 5246 6.2.3),
 * 2^14 + 256 in TLS 1.3 (RFC 8446 5.2). */
#define REC_MAX_CIPHER_12 (16384u + 2048u)
#define REC_MAX_CIPHER_13 (16384u + 256u)
/* The most a sealed record can add to its plaintext (CBC: IV + MAC + pad). */
#define REC_MAX_OVERHEAD 256u

struct rec_hdr {
	uint8_t type;
	uint16_t version;
	uint16_t len;
};

/* Parse the header at in[0..avail): HSK_OK when a whole record
 * (header + len bytes) is available, HSK_WANT_INPUT when not yet,
 * HSK_ALERT(record_overflow) for a length above max_len,
 * HSK_ALERT(unexpected_message) for an unknown content type. An SSLv2
 * ClientHello or other non-TLS bytes fail here too. */
HSK_MUST_CHECK hsk_err rec_hdr_parse(const uint8_t *in, size_t avail, size_t max_len,
				     struct rec_hdr *h);

struct acc_imb_aead;

/* One direction's protection state. Plaintext while suite is NULL. */
struct rec_dir {
	const struct hsk_suite *suite;
	uint16_t version;     /* negotiated: 0x0303 or 0x0304 */
	bool etm;             /* encrypt-then-MAC (RFC 7366), CBC only */
	bool encrypt;         /* sealing (true) or opening (false) */
	uint64_t seq;
	uint8_t key[32];
	uint8_t iv[12];       /* fixed IV / nonce mask */
	uint8_t mac_key[48];
	void *cipher_ctx;     /* backend state, owned */
	void *mac_ctx;
	struct acc_imb_aead *aead; /* AES-GCM or ChaCha20-Poly1305 through ipsec-mb when available (else EVP) */
};

/* Install keys (copied; the caller zeroizes its copy). seq restarts at 0. */
HSK_MUST_CHECK hsk_err rec_dir_init(struct rec_dir *d, const struct hsk_suite *s, uint16_t version,
				    bool encrypt, bool etm, const uint8_t *key,
				    const uint8_t *iv, const uint8_t *mac_key);
/* Release backend state and zeroize keys; the direction becomes plaintext. */
void rec_dir_clear(struct rec_dir *d);

/* Open the record whose header is h and payload frag[0..h->len) in place.
 * On success pt and ptlen view the plaintext inside frag (TLS 1.3: h->type
 * becomes the inner content type). Errors: bad_record_mac for any
 * authentication or padding failure (one alert, no timing difference),
 * record_overflow for plaintext above 2^14, decode_error. */
HSK_MUST_CHECK hsk_err rec_open(struct rec_dir *d, struct rec_hdr *h, uint8_t *frag,
				uint8_t **pt, size_t *ptlen);

/* Append one record of type carrying pt[0..len) (len <= 2^14) to w. */
HSK_MUST_CHECK hsk_err rec_seal(struct rec_dir *d, uint8_t type, const uint8_t *pt, size_t len,
				struct hsk_wr *w);

/* Bytes a sealed record adds to len bytes of plaintext (header included). */
size_t rec_overhead(const struct rec_dir *d, size_t len);

#ifdef __cplusplus
}
#endif
#endif
