/* The executor's X25519MLKEM768 key share (draft-ietf-tls-ecdhe-mlkem,
 * TLS 1.3 server side): one ACC_OP_KX_KEYGEN_DERIVE job with
 *   in     = the client's share: ML-KEM-768 ek (1184) || X25519 (32)
 *   out    = our share: ML-KEM ciphertext (1088) || X25519 (32)
 *   secret = ML-KEM shared secret (32) || X25519 shared secret (32)
 * (for this group the ML-KEM part comes first everywhere). The ML-KEM
 * encapsulation runs here, one at a time; the X25519 half is an ordinary
 * X25519 keygen-and-derive on the OpenSSL path, with the job's eph. A
 * share of the wrong length, an ek that fails the FIPS 203 7.2 check or
 * an X25519 failure leave the job ACC_FAILED (illegal_parameter). */
#ifndef ACC_MLKEM_KX_H
#define ACC_MLKEM_KX_H

#include "acc_job.h"

#define ACC_X25519MLKEM768_CLIENT_LEN (1184 + 32)
#define ACC_X25519MLKEM768_SERVER_LEN (1088 + 32)
#define ACC_X25519MLKEM768_SECRET_LEN (32 + 32)

struct acc_ossl;
struct acc_mlkem;

void acc_mlkem_kx_run(struct acc_ossl *ossl, struct acc_mlkem *mk, struct acc_job *job);

#endif
