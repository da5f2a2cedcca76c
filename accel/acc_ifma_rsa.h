/* RSA private operations on the eight IFMA lanes (acc_ifma.h): CRT with
 * both halves of up to four operations in one pass, message blinding, and
 * every result checked with the public exponent before it is released
 * (a fault in a CRT half would otherwise leak a factor of n): on the lanes
 * when n fits them (RSA-2048), else by libcrypto. */
#ifndef ACC_IFMA_RSA_H
#define ACC_IFMA_RSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-key precomputation, made once when the key is loaded. NULL when the
 * key is not a two-prime RSA key of 2048..4096 bits (the caller then uses
 * OpenSSL). */
struct acc_ifma_rsa_key;
struct acc_ifma_rsa_key *acc_ifma_rsa_key_new(EVP_PKEY *pkey);
void acc_ifma_rsa_key_free(struct acc_ifma_rsa_key *k);
size_t acc_ifma_rsa_key_bytes(const struct acc_ifma_rsa_key *k);

/* Per-worker state: the lane batch, blinding values, a BN_CTX. */
struct acc_ifma_rsa;
struct acc_ifma_rsa *acc_ifma_rsa_new(void);
void acc_ifma_rsa_free(struct acc_ifma_rsa *r);

/* Tests only: flip a bit of the precomputed dp, so that every result
 * fails its check as a faulty CRT half would. */
void acc_ifma_rsa_key_inject_fault(struct acc_ifma_rsa_key *k);

#define ACC_IFMA_RSA_MAX 8 /* operations per call */

/* out[i] = in[i]^d mod n for count <= ACC_IFMA_RSA_MAX inputs of the
 * modulus size (big-endian, below n). ok[i] is false when the input was
 * out of range or the result failed its check: the caller recomputes
 * that one elsewhere. Returns the number of failed checks (faults). */
size_t acc_ifma_rsa_private(struct acc_ifma_rsa *r, const struct acc_ifma_rsa_key *k, size_t count,
			    const uint8_t *const *in, uint8_t *const *out, bool *ok);

#ifdef __cplusplus
}
#endif
#endif
