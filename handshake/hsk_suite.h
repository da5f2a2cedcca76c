/* Cipher suites as const descriptors (picotls style): adding a suite adds a
 * table row, not branches. The record layer, negotiation and the key
 * schedule all read the same row. */
#ifndef HSK_SUITE_H
#define HSK_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hsk_kx {
	HSK_KX_ECDHE = 1,
	HSK_KX_DHE = 2,
	HSK_KX_RSA = 3,   /* static RSA key transport */
	HSK_KX_TLS13 = 4, /* TLS 1.3: key exchange negotiated separately */
};

enum hsk_auth {
	HSK_AUTH_RSA = 1,
	HSK_AUTH_ECDSA = 2,
	HSK_AUTH_ANY = 3, /* TLS 1.3 */
};

enum hsk_cipher {
	HSK_CIPHER_AES128_GCM = 1,
	HSK_CIPHER_AES256_GCM = 2,
	HSK_CIPHER_CHACHA20_POLY1305 = 3,
	HSK_CIPHER_AES128_CBC = 4,
	HSK_CIPHER_AES256_CBC = 5,
};

enum hsk_hash {
	HSK_HASH_SHA1 = 1,
	HSK_HASH_SHA256 = 2,
	HSK_HASH_SHA384 = 3,
	HSK_HASH_SHA512 = 4,
};

struct hsk_suite {
	uint16_t id;          /* IANA code point */
	const char *name;     /* OpenSSL name, as used in configs: "ECDHE-RSA-AES128-GCM-SHA256" */
	const char *iana;     /* "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
	uint8_t kx;           /* enum hsk_kx */
	uint8_t auth;         /* enum hsk_auth */
	uint8_t cipher;       /* enum hsk_cipher */
	uint8_t mac;          /* enum hsk_hash for CBC suites; 0 for AEAD */
	uint8_t prf;          /* enum hsk_hash of the PRF / HKDF and Finished */
	uint8_t key_len;      /* cipher key bytes */
	uint8_t fixed_iv_len; /* TLS 1.2: GCM 4, ChaCha 12, CBC 0 (explicit IV); TLS 1.3: 12 */
	uint8_t mac_key_len;  /* CBC: HMAC key bytes; AEAD: 0 */
	uint8_t mac_len;      /* CBC: HMAC output bytes; AEAD: tag 16 */
	uint16_t version;     /* 0x0303 (TLS 1.2 suites) or 0x0304 (TLS 1.3) */
	bool default_on;      /* offered without configuration (DESIGN.md) */
};

/* The row for a code point, or NULL if the engine does not know it. */
const struct hsk_suite *hsk_suite_by_id(uint16_t id);
/* The row for an OpenSSL or IANA name, or NULL. */
const struct hsk_suite *hsk_suite_by_name(const char *name);
/* All known suites, in the default server preference order; *n gets the count. */
const struct hsk_suite *hsk_suite_all(size_t *n);
/* Size in bytes of the digest of an enum hsk_hash. */
size_t hsk_hash_len(int hash);

#ifdef __cplusplus
}
#endif
#endif
