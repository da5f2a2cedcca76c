/* HKDF with the HMAC fetched once (hsk_algs.h). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "hsk_algs.h"
#include "hsk_hkdf.h"
#include "hsk_suite.h"

/* HMAC over up to three pieces. */
static hsk_err
hsk_hmac3(int hash, const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
	  const uint8_t *b, size_t blen, const uint8_t *c, size_t clen, uint8_t *out, size_t *out_len)
{
	const EVP_MD *md = hsk_algs_md(hash);
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	size_t n = 0;
	int ok;

	if (md == NULL)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	ctx = EVP_MAC_CTX_new(hsk_algs_hmac());
	if (ctx == NULL)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, key, key_len, params) && (alen == 0 || EVP_MAC_update(ctx, a, alen)) &&
	     (blen == 0 || EVP_MAC_update(ctx, b, blen)) && (clen == 0 || EVP_MAC_update(ctx, c, clen)) &&
	     EVP_MAC_final(ctx, out, &n, 64);
	EVP_MAC_CTX_free(ctx);
	if (out_len != NULL)
		*out_len = n;
	return ok ? HSK_OK : HSK_ALERT(HSK_AD_INTERNAL_ERROR);
}

hsk_err
hsk_hmac(int hash, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out,
	 size_t *out_len)
{
	return hsk_hmac3(hash, key, key_len, data, len, NULL, 0, NULL, 0, out, out_len);
}

hsk_err
hsk_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		 uint8_t *out)
{
	static const uint8_t zeros[64];
	size_t hlen = hsk_hash_len(hash);

	/* RFC 5869 2.2: an absent salt is HashLen zeros. */
	if (salt == NULL) {
		salt = zeros;
		salt_len = hlen;
	}
	if (ikm == NULL) { /* RFC 8446 7.1: absent IKM is HashLen zeros */
		ikm = zeros;
		ikm_len = hlen;
	}
	return hsk_hmac3(hash, salt, salt_len, ikm, ikm_len, NULL, 0, NULL, 0, out, NULL);
}

hsk_err
hsk_hkdf_expand_label(int hash, const uint8_t *secret, const char *label, const uint8_t *context,
		      size_t context_len, uint8_t *out, size_t len)
{
	size_t hlen = hsk_hash_len(hash), llen = strlen(label), done = 0, n;
	uint8_t info[2 + 1 + 255 + 1 + 255], t[64];
	size_t ilen = 0, tlen = 0;
	hsk_err err = HSK_OK;

	if (hlen == 0 || llen + 6 > 255 || context_len > 255 || len > 255 * hlen)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	/* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel */
	info[ilen++] = (uint8_t)(len >> 8);
	info[ilen++] = (uint8_t)len;
	info[ilen++] = (uint8_t)(6 + llen);
	memcpy(info + ilen, "tls13 ", 6);
	ilen += 6;
	memcpy(info + ilen, label, llen);
	ilen += llen;
	info[ilen++] = (uint8_t)context_len;
	if (context_len)
		memcpy(info + ilen, context, context_len);
	ilen += context_len;
	/* RFC 5869 2.3: T(i) = HMAC(PRK, T(i-1) | info | i) */
	for (uint8_t i = 1; done < len && err == HSK_OK; i++) {
		err = hsk_hmac3(hash, secret, hlen, t, tlen, info, ilen, &i, 1, t, &tlen);
		n = len - done < tlen ? len - done : tlen;
		memcpy(out + done, t, n);
		done += n;
	}
	OPENSSL_cleanse(t, sizeof(t));
	return err;
}

hsk_err
hsk_hkdf_derive_secret(int hash, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out)
{
	size_t hlen = hsk_hash_len(hash);

	return hsk_hkdf_expand_label(hash, secret, label, transcript_hash, hlen, out, hlen);
}
