/* ML-KEM-768 (FIPS 203): key generation, encapsulation, decapsulation.
 *
 * Written here because no maintained C implementation is installable on
 * the target (Debian 12's OpenSSL 3.0 has none, nor a liboqs package).
 * SHA3-256/512 and SHAKE128/256 come from libcrypto, fetched once per
 * context; a context is used by one thread at a time (one per executor).
 * Secret-dependent work is constant time (acc_mlkem_poly.h); the
 * rejection sampling of the matrix reads only the public seed.
 *
 * One operation at a time: no AVX-512 lanes (the build machines have no
 * AVX-512; see bench/RESULTS.md for the one-core figure). */
#ifndef ACC_MLKEM_H
#define ACC_MLKEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACC_MLKEM768_EK_LEN 1184
#define ACC_MLKEM768_DK_LEN 2400
#define ACC_MLKEM768_CT_LEN 1088
#define ACC_MLKEM_SS_LEN 32
#define ACC_MLKEM_SEED_LEN 32

struct acc_mlkem;

struct acc_mlkem *acc_mlkem_new(void);
void acc_mlkem_free(struct acc_mlkem *mk);

/* ML-KEM.KeyGen_internal (Algorithm 16) from the seeds d and z; NULL
 * seeds are drawn from the DRBG (Algorithm 19). Returns 0, or -1 when a
 * hash or the DRBG fails. */
int acc_mlkem768_keygen(struct acc_mlkem *mk, const uint8_t *d, const uint8_t *z, uint8_t ek[ACC_MLKEM768_EK_LEN],
			uint8_t dk[ACC_MLKEM768_DK_LEN]);

/* ML-KEM.Encaps (Algorithm 20; Encaps_internal, Algorithm 17, when m is
 * given). The input check of 7.2 first: ek_len must be 1184 and every
 * coefficient of ek reduced mod q. Returns 0, -1 on an internal failure,
 * -2 when ek fails the check (nothing is written then). */
int acc_mlkem768_encaps(struct acc_mlkem *mk, const uint8_t *ek, size_t ek_len, const uint8_t *m,
			uint8_t ct[ACC_MLKEM768_CT_LEN], uint8_t ss[ACC_MLKEM_SS_LEN]);

/* ML-KEM.Decaps (Algorithm 21) with the checks of 7.3 (lengths, and the
 * hash of ek inside dk). An invalid ciphertext yields the implicit
 * rejection secret J(z || c), as the standard says, not an error.
 * Returns 0, -1 on an internal failure, -2 when an input fails a check. */
int acc_mlkem768_decaps(struct acc_mlkem *mk, const uint8_t *dk, size_t dk_len, const uint8_t *ct, size_t ct_len,
			uint8_t ss[ACC_MLKEM_SS_LEN]);

#ifdef __cplusplus
}
#endif
#endif
