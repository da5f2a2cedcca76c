/* Algorithms fetched once per process (see hsk_algs.h). */
#include <pthread.h>

#include "hsk_algs.h"
#include "hsk_suite.h"

static EVP_MD *hsk_md[5];
static EVP_CIPHER *hsk_cipher[6];
static EVP_MAC *hsk_hmac;
static int hsk_algs_ok;
static pthread_once_t hsk_algs_once = PTHREAD_ONCE_INIT;

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
	hsk_algs_ok = hsk_hmac != NULL;
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
