/* RSA signature encodings (RFC 8017): EMSA-PKCS1-v1_5 and EMSA-PSS, for
 * a backend that runs the private operation itself. The input is the
 * message digest; the output is the encoded message of the modulus size,
 * ready for m^d mod n. */
#ifndef ACC_RSA_PAD_H
#define ACC_RSA_PAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* EM = 00 01 FF..FF 00 DigestInfo(md) digest (RFC 8017 9.2). 0 or -1. */
int acc_rsa_pad_pkcs1(const EVP_MD *md, const uint8_t *digest, size_t dlen, uint8_t *em, size_t emlen);

/* EMSA-PSS-ENCODE (RFC 8017 9.1.1) with MGF1(md), salt length = digest
 * length (TLS, RFC 8446 4.2.3), a fresh random salt; em is the modulus
 * size (mod_bits), with a leading zero byte when mod_bits - 1 is a
 * multiple of 8. 0 or -1. */
int acc_rsa_pad_pss(const EVP_MD *md, const uint8_t *digest, size_t dlen, uint8_t *em, size_t emlen,
		    unsigned mod_bits);

#ifdef __cplusplus
}
#endif
#endif
