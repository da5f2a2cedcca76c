/* AES-GCM for the record layer through Intel ipsec-mb (its direct GCM
 * API, with the VAES/AVX-512 code its run-time detection picks), keyed
 * once per direction of a connection. OpenSSL's EVP stays the reference
 * and the fallback: acc_imb_gcm_new() returns NULL when ipsec-mb is not built
 * in, cannot start, or is masked (TLSO_NO_IPSECMB=1 in the environment),
 * and the caller then uses EVP. */
#ifndef ACC_IMB_GCM_H
#define ACC_IMB_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct acc_imb_gcm;

/* key_len 16 or 32. */
struct acc_imb_gcm *acc_imb_gcm_new(const uint8_t *key, size_t key_len);
void acc_imb_gcm_free(struct acc_imb_gcm *g); /* zeroizes the key schedule */

/* out may equal in. */
void acc_imb_gcm_seal(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, uint8_t tag[16]);
/* false (and out unspecified) when the tag does not verify. */
bool acc_imb_gcm_open(const struct acc_imb_gcm *g, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, uint8_t *out, size_t len, const uint8_t tag[16]);

/* The implementation in use: "ipsec-mb <arch>" or NULL. */
const char *acc_imb_gcm_impl(void);

#ifdef __cplusplus
}
#endif
#endif
