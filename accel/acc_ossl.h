/* The OpenSSL libcrypto backend: one job at a time. It is the reference
 * every other backend is tested against, and the fallback for whatever a
 * batching backend does not cover. */
#ifndef ACC_OSSL_H
#define ACC_OSSL_H

#include <openssl/evp.h>

#include "acc_job.h"

struct acc_ossl;

/* Per-executor state: key-generation contexts prepared once per group. */
struct acc_ossl *acc_ossl_new(void);
void acc_ossl_free(struct acc_ossl *o);

/* The digest a SignatureScheme signs with (NULL: not one we sign), and
 * the key type it needs (enum acc_key_type, 0: none) with the RSA padding
 * (RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING). */
const EVP_MD *acc_ossl_sig_md(uint16_t scheme);
int acc_ossl_sig_kind(uint16_t scheme, int *pad);

/* Run one job; sets job->status (ACC_DONE or ACC_FAILED) and out_len. */
void acc_ossl_run(struct acc_ossl *o, struct acc_job *job);

#endif
