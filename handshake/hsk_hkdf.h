/* HMAC (RFC 2104), HKDF (RFC 5869) and the TLS 1.3 key schedule helpers
 * (RFC 8446 7.1): HKDF-Expand-Label and Derive-Secret. The hash is an
 * enum hsk_hash. */
#ifndef HSK_HKDF_H
#define HSK_HKDF_H

#include <stddef.h>
#include <stdint.h>

#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out (hash length) = HMAC(salt, ikm); a NULL salt means zeros. */
HSK_MUST_CHECK hsk_err hsk_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len,
					const uint8_t *ikm, size_t ikm_len, uint8_t *out);

/* HKDF-Expand-Label(secret, label, context, len) with the "tls13 " prefix. */
HSK_MUST_CHECK hsk_err hsk_hkdf_expand_label(int hash, const uint8_t *secret, const char *label,
					     const uint8_t *context, size_t context_len, uint8_t *out,
					     size_t len);

/* Derive-Secret(secret, label, transcript hash) = Expand-Label(secret,
 * label, hash, hash length). */
HSK_MUST_CHECK hsk_err hsk_hkdf_derive_secret(int hash, const uint8_t *secret, const char *label,
					      const uint8_t *transcript_hash, uint8_t *out);

/* A piece of an HMAC's data. */
struct hsk_piece {
	const uint8_t *p;
	size_t len;
};

/* HMAC(key, the pieces in order) with hash; out holds the hash length. */
HSK_MUST_CHECK hsk_err hsk_hmacv(int hash, const uint8_t *key, size_t key_len, const struct hsk_piece *piece,
				 size_t npieces, uint8_t *out, size_t *out_len);

/* HMAC(key, data) with the suite's hash (TLS 1.3 Finished, binders). */
HSK_MUST_CHECK hsk_err hsk_hmac(int hash, const uint8_t *key, size_t key_len, const uint8_t *data,
				size_t len, uint8_t *out, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
