/* HMAC and HKDF over the digests fetched once (hsk_algs.h). */
#include <string.h>

#include <openssl/crypto.h>

#include "hsk_algs.h"
#include "hsk_hkdf.h"
#include "hsk_suite.h"

/* HMAC (RFC 2104) over the digest fetched at start:
 * H((K ^ opad) | H((K ^ ipad) | data)), data given in pieces. One digest
 * context per call, freed (and so cleansed) at the end; no MAC object, no
 * look-up by name (EVP_MAC_init with a digest name fetches it each time). */
hsk_err
hsk_hmacv(int hash, const uint8_t *key, size_t key_len, const struct hsk_piece *piece, size_t npieces,
	  uint8_t *out, size_t *out_len)
{
	const EVP_MD *md = hsk_algs_md(hash);
	EVP_MD_CTX *ctx;
	uint8_t k[128], inner[EVP_MAX_MD_SIZE];
	unsigned int klen = 0, ilen = 0, olen = 0;
	size_t block;
	int ok;

	if (md == NULL || (block = (size_t)EVP_MD_get_block_size(md)) > sizeof(k) ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	memset(k, 0, block);
	/* a key longer than a block is replaced by its hash */
	if (key_len > block)
		ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, key, key_len) &&
		     EVP_DigestFinal_ex(ctx, k, &klen);
	else
		ok = (memcpy(k, key, key_len), 1);
	for (size_t i = 0; i < block; i++)
		k[i] ^= 0x36;
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, k, block);
	for (size_t i = 0; ok && i < npieces; i++)
		ok = piece[i].len == 0 || EVP_DigestUpdate(ctx, piece[i].p, piece[i].len);
	ok = ok && EVP_DigestFinal_ex(ctx, inner, &ilen);
	for (size_t i = 0; i < block; i++)
		k[i] ^= 0x36 ^ 0x5c;
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, k, block) &&
	     EVP_DigestUpdate(ctx, inner, ilen) && EVP_DigestFinal_ex(ctx, out, &olen);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(inner, sizeof(inner));
	EVP_MD_CTX_free(ctx);
	if (out_len != NULL)
		*out_len = olen;
	return ok ? HSK_OK : HSK_ALERT(HSK_AD_INTERNAL_ERROR);
}

hsk_err
hsk_hmac(int hash, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t *out,
	 size_t *out_len)
{
	const struct hsk_piece piece = { data, len };

	return hsk_hmacv(hash, key, key_len, &piece, 1, out, out_len);
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
	return hsk_hmac(hash, salt, salt_len, ikm, ikm_len, out, NULL);
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
		const struct hsk_piece piece[3] = { { t, tlen }, { info, ilen }, { &i, 1 } };

		err = hsk_hmacv(hash, secret, hlen, piece, 3, t, &tlen);
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
