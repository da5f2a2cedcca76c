/* SignatureScheme facts (RFC 8446 4.2.3) shared by the server messages. */
#ifndef HSK_SIG_H
#define HSK_SIG_H

#include <stdbool.h>
#include <stdint.h>

#include "acc_job.h"
#include "hsk_suite.h"

/* The hash a scheme signs with (enum hsk_hash), 0 if unknown. */
static inline int
hsk_sig_hash(uint16_t scheme)
{
	switch (scheme) {
	case ACC_SIG_RSA_PKCS1_SHA1:
		return HSK_HASH_SHA1;
	case ACC_SIG_RSA_PKCS1_SHA256:
	case ACC_SIG_ECDSA_SECP256R1_SHA256:
	case ACC_SIG_RSA_PSS_RSAE_SHA256:
		return HSK_HASH_SHA256;
	case ACC_SIG_RSA_PKCS1_SHA384:
	case ACC_SIG_ECDSA_SECP384R1_SHA384:
	case ACC_SIG_RSA_PSS_RSAE_SHA384:
		return HSK_HASH_SHA384;
	case ACC_SIG_RSA_PKCS1_SHA512:
	case ACC_SIG_ECDSA_SECP521R1_SHA512:
	case ACC_SIG_RSA_PSS_RSAE_SHA512:
		return HSK_HASH_SHA512;
	default:
		return 0;
	}
}

static inline bool
hsk_sig_is_pss(uint16_t scheme)
{
	return scheme >= ACC_SIG_RSA_PSS_RSAE_SHA256 && scheme <= ACC_SIG_RSA_PSS_RSAE_SHA512;
}

static inline bool
hsk_sig_is_rsa(uint16_t scheme)
{
	return hsk_sig_is_pss(scheme) || (scheme & 0xff) == 0x01;
}

#endif
