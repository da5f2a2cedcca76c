/* libcrypto algorithms fetched once per process (EVP_MD_fetch,
 * EVP_CIPHER_fetch, EVP_MAC_fetch), never per handshake or per record:
 * an implicit fetch costs a provider look-up and a lock each time
 * (OpenSSL 3.0 performance notes). hsk_algs_init() runs at start (and
 * lazily, once, from any getter); the results are read-only afterwards. */
#ifndef HSK_ALGS_H
#define HSK_ALGS_H

#include <openssl/evp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0 on success, -1 if an algorithm is missing from the default provider. */
int hsk_algs_init(void);

/* enum hsk_hash -> digest (SHA-1, SHA-256, SHA-384, SHA-512); NULL if unknown. */
const EVP_MD *hsk_algs_md(int hash);
/* enum hsk_cipher -> cipher (AES-128/256-GCM, ChaCha20-Poly1305, AES-128/256-CBC). */
const EVP_CIPHER *hsk_algs_cipher(int cipher);
/* HMAC (EVP_MAC); set the digest with an OSSL_PARAM per use. */
EVP_MAC *hsk_algs_hmac(void);
/* RFC 7919 group parameters for ffdhe2048 (0x0100) and ffdhe3072 (0x0101):
 * the prime p (big-endian) and its length; the generator is 2. NULL for
 * any other group. */
const uint8_t *hsk_algs_ffdhe_p(uint16_t group, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
