/* AEAD for the record layer (and tickets) through Intel ipsec-mb's direct
 * API, with the VAES/AVX-512 code its run-time detection picks: AES-128-GCM,
 * AES-256-GCM and ChaCha20-Poly1305, keyed once per direction of a
 * connection. OpenSSL's EVP stays the reference and the fallback:
 * acc_imb_aead_new() returns NULL when ipsec-mb is not built in, cannot
 * start, or is masked (TLSO_NO_IPSECMB=1 in the environment), and the
 * caller then uses EVP. */
#ifndef ACC_IMB_AEAD_H
#define ACC_IMB_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum acc_aead {
	ACC_AEAD_AES_128_GCM = 1, /* 16-byte key */
	ACC_AEAD_AES_256_GCM,     /* 32-byte key */
	ACC_AEAD_CHACHA20_POLY1305, /* 32-byte key (RFC 8439) */
};

struct acc_imb_aead;

struct acc_imb_aead *acc_imb_aead_new(enum acc_aead alg, const uint8_t *key);
void acc_imb_aead_free(struct acc_imb_aead *a); /* zeroizes the key and its schedule */

/* 12-byte nonce, 16-byte tag; out may equal in. */
void acc_imb_aead_seal(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		       const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16]);
/* false (and out unspecified) when the tag does not verify. */
bool acc_imb_aead_open(const struct acc_imb_aead *a, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		       const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16]);

/* The implementation in use: "ipsec-mb <arch>" or NULL. */
const char *acc_imb_aead_impl(void);

#ifdef __cplusplus
}
#endif
#endif
