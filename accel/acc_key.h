/* Private keys, loaded once at start (never per handshake): the parsed key,
 * its type and size, and whatever a backend precomputes for it. */
#ifndef ACC_KEY_H
#define ACC_KEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum acc_key_type {
	ACC_KEY_RSA = 1,
	ACC_KEY_EC = 2,
};

struct acc_key;

/* Load a PEM private key (PKCS#8 or traditional, unencrypted). Returns
 * NULL and writes a message naming the file to err on failure. */
struct acc_key *acc_key_load_pem(const char *path, char *err, size_t errlen);

/* Wrap an already-parsed EVP_PKEY (the key takes a reference); tests use it. */
struct acc_key *acc_key_from_evp(void *evp_pkey);

void acc_key_free(struct acc_key *key);

int acc_key_type(const struct acc_key *key);     /* enum acc_key_type */
unsigned acc_key_bits(const struct acc_key *key);
uint16_t acc_key_group(const struct acc_key *key); /* EC: NamedGroup; RSA: 0 */
/* Largest signature or ciphertext in bytes (RSA: modulus size). */
size_t acc_key_max_sig(const struct acc_key *key);
/* The libcrypto EVP_PKEY (for matching against a certificate). */
void *acc_key_evp(const struct acc_key *key);

#ifdef __cplusplus
}
#endif
#endif
