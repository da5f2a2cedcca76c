/* RSA encodings for a backend that runs the private operation itself:
 * the signature encodings of RFC 8017 (EMSA-PKCS1-v1_5 and EMSA-PSS; the
 * input is the message digest, the output the encoded message of the
 * modulus size, ready for m^d mod n), and the check of a decrypted TLS 1.2
 * EncryptedPreMasterSecret with implicit rejection. */
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

/* The premaster secret from em = c^d mod n (emlen = modulus bytes), as
 * RFC 5246 7.4.7.1 asks: em must be 00 02 PS 00 M with PS nonzero and M
 * 48 bytes starting with client_version; otherwise out is 48 fresh random
 * bytes. Whether em was good decides nothing but a masked selection: no
 * branch, no address and no return value depends on it. -1 only when
 * the random bytes could not be drawn or emlen is below 59 (both public). */
int acc_rsa_pad_tls_pms(const uint8_t *em, size_t emlen, unsigned client_version, uint8_t out[48]);

#ifdef __cplusplus
}
#endif
#endif
