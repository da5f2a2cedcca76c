/* RSA encodings (acc_rsa_pad.h). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "acc_ct.h"
#include "acc_rsa_pad.h"

/* DER of DigestInfo up to the digest octets (RFC 8017 9.2, note 1). */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha384[] = { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

int
acc_rsa_pad_pkcs1(const EVP_MD *md, const uint8_t *digest, size_t dlen, uint8_t *em, size_t emlen)
{
	const uint8_t *di;
	size_t dilen;

	switch (EVP_MD_get_type(md)) {
	case NID_sha1: di = di_sha1; dilen = sizeof(di_sha1); break;
	case NID_sha256: di = di_sha256; dilen = sizeof(di_sha256); break;
	case NID_sha384: di = di_sha384; dilen = sizeof(di_sha384); break;
	case NID_sha512: di = di_sha512; dilen = sizeof(di_sha512); break;
	default: return -1;
	}
	if (dlen != (size_t)EVP_MD_get_size(md) || emlen < dilen + dlen + 11)
		return -1;
	em[0] = 0;
	em[1] = 1;
	memset(em + 2, 0xff, emlen - dilen - dlen - 3);
	em[emlen - dilen - dlen - 1] = 0;
	memcpy(em + emlen - dilen - dlen, di, dilen);
	memcpy(em + emlen - dlen, digest, dlen);
	return 0;
}

/* mask ^= MGF1(seed)[0..len) (RFC 8017 B.2.1). */
static int
acc_mgf1_xor(const EVP_MD *md, const uint8_t *seed, size_t slen, uint8_t *mask, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t block[EVP_MAX_MD_SIZE];
	unsigned int blen;
	int ok = c != NULL;

	for (uint32_t counter = 0, done = 0; ok && done < len; counter++) {
		uint8_t cb[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16), (uint8_t)(counter >> 8),
				  (uint8_t)counter };
		ok = EVP_DigestInit_ex(c, md, NULL) && EVP_DigestUpdate(c, seed, slen) &&
		     EVP_DigestUpdate(c, cb, 4) && EVP_DigestFinal_ex(c, block, &blen);
		for (unsigned i = 0; ok && i < blen && done < len; i++)
			mask[done++] ^= block[i];
	}
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int
acc_rsa_pad_pss(const EVP_MD *md, const uint8_t *digest, size_t dlen, uint8_t *em, size_t emlen,
		unsigned mod_bits)
{
	static const uint8_t zeros[8];
	size_t hlen = (size_t)EVP_MD_get_size(md), em_bits = mod_bits - 1, len = (em_bits + 7) / 8;
	uint8_t *out = em + (emlen - len), salt[EVP_MAX_MD_SIZE], *h;
	EVP_MD_CTX *c;
	int ok;

	if (dlen != hlen || emlen < len || len < 2 * hlen + 2)
		return -1;
	memset(em, 0, emlen);
	h = out + len - hlen - 1;
	if (RAND_bytes(salt, (int)hlen) != 1)
		return -1;
	/* H = Hash(0^8 || mHash || salt) */
	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) && EVP_DigestUpdate(c, zeros, 8) &&
	     EVP_DigestUpdate(c, digest, dlen) && EVP_DigestUpdate(c, salt, hlen) &&
	     EVP_DigestFinal_ex(c, h, NULL);
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	/* DB = PS (zeros) || 01 || salt, masked with MGF1(H) */
	out[len - 2 * hlen - 2] = 0x01;
	memcpy(out + len - 2 * hlen - 1, salt, hlen);
	if (acc_mgf1_xor(md, h, hlen, out, len - hlen - 1) != 0)
		return -1;
	out[0] &= (uint8_t)(0xff >> (8 * len - em_bits));
	out[len - 1] = 0xbc;
	OPENSSL_cleanse(salt, sizeof(salt));
	return 0;
}

int
acc_rsa_pad_tls_pms(const uint8_t *em, size_t emlen, unsigned client_version, uint8_t out[48])
{
	const size_t pms = 48, sep = emlen - pms - 1;
	uint8_t rnd[48];
	size_t good;

	/* 00 02, at least 8 bytes of PS, 00, 48 bytes (RFC 8017 7.2.2). */
	if (emlen < pms + 11 || RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	good = acc_ct_is_zero(em[0]) & acc_ct_eq(em[1], 2);
	for (size_t i = 2; i < sep; i++)
		good &= ~acc_ct_is_zero(em[i]);
	good &= acc_ct_is_zero(em[sep]);
	/* A version rollback gets the random premaster too. */
	good &= acc_ct_eq(em[sep + 1], (client_version >> 8) & 0xff) & acc_ct_eq(em[sep + 2], client_version & 0xff);
	for (size_t i = 0; i < pms; i++)
		out[i] = (uint8_t)((em[sep + 1 + i] & good) | (rnd[i] & ~good));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}
