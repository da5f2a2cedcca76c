/* Algorithms fetched once per process (see hsk_algs.h). */
#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "hsk_algs.h"
#include "hsk_suite.h"

static EVP_MD *hsk_md[5];
static EVP_CIPHER *hsk_cipher[6];
static EVP_MAC *hsk_hmac;
static int hsk_algs_ok;
static uint8_t hsk_ffdhe_p[2][384];
static size_t hsk_ffdhe_len[2];
static pthread_once_t hsk_algs_once = PTHREAD_ONCE_INIT;

/* The named groups' primes, taken from libcrypto's own RFC 7919 tables. */
static int
hsk_algs_ffdhe_load(int i, const char *name)
{
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL;
	int ok = 0;

	if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) > 0 &&
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_FFC_P, &p) > 0 &&
	    BN_num_bytes(p) <= (int)sizeof(hsk_ffdhe_p[i])) {
		hsk_ffdhe_len[i] = (size_t)BN_bn2bin(p, hsk_ffdhe_p[i]);
		ok = 1;
	}
	BN_free(p);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
hsk_algs_fetch(void)
{
	hsk_md[HSK_HASH_SHA1] = EVP_MD_fetch(NULL, "SHA1", NULL);
	hsk_md[HSK_HASH_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
	hsk_md[HSK_HASH_SHA384] = EVP_MD_fetch(NULL, "SHA384", NULL);
	hsk_md[HSK_HASH_SHA512] = EVP_MD_fetch(NULL, "SHA512", NULL);
	hsk_cipher[HSK_CIPHER_AES128_GCM] = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	hsk_cipher[HSK_CIPHER_AES256_GCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	hsk_cipher[HSK_CIPHER_CHACHA20_POLY1305] = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	hsk_cipher[HSK_CIPHER_AES128_CBC] = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	hsk_cipher[HSK_CIPHER_AES256_CBC] = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	hsk_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	hsk_algs_ok = hsk_hmac != NULL && hsk_algs_ffdhe_load(0, "ffdhe2048") &&
		      hsk_algs_ffdhe_load(1, "ffdhe3072");
	for (int i = 1; i < 5; i++)
		hsk_algs_ok &= hsk_md[i] != NULL;
	for (int i = 1; i < 6; i++)
		hsk_algs_ok &= hsk_cipher[i] != NULL;
}

int
hsk_algs_init(void)
{
	pthread_once(&hsk_algs_once, hsk_algs_fetch);
	return hsk_algs_ok ? 0 : -1;
}

const EVP_MD *
hsk_algs_md(int hash)
{
	hsk_algs_init();
	return hash > 0 && hash < 5 ? hsk_md[hash] : NULL;
}

const EVP_CIPHER *
hsk_algs_cipher(int cipher)
{
	hsk_algs_init();
	return cipher > 0 && cipher < 6 ? hsk_cipher[cipher] : NULL;
}

EVP_MAC *
hsk_algs_hmac(void)
{
	hsk_algs_init();
	return hsk_hmac;
}

const uint8_t *
hsk_algs_ffdhe_p(uint16_t group, size_t *len)
{
	int i = group == 0x0100 ? 0 : group == 0x0101 ? 1 : -1;

	hsk_algs_init();
	if (i < 0 || hsk_ffdhe_len[i] == 0)
		return NULL;
	*len = hsk_ffdhe_len[i];
	return hsk_ffdhe_p[i];
}
