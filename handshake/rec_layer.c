/* The TLS record layer: framing (RFC 5246 6.2.1) and record protection for
 * AEAD (RFC 5246 6.2.3.3, RFC 5288 3, RFC 7905 2, RFC 8446 5.2) and CBC
 * with HMAC, MAC-then-encrypt (RFC 5246 6.2.3.2) or encrypt-then-MAC
 * (RFC 7366). Cipher and MAC contexts are keyed once per direction; a
 * record only sets its nonce, so no allocation happens per record. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "acc_ct.h"
#include "hsk_algs.h"
#include "hsk_suite.h"
#include "acc_imb_aead.h"
#include "rec_layer.h"

#define REC_CBC_BLOCK 16

hsk_err
rec_hdr_parse(const uint8_t *in, size_t avail, size_t max_len, struct rec_hdr *h)
{
	if (avail < REC_HDR_LEN)
		return HSK_WANT_INPUT;
	h->type = in[0];
	h->version = (uint16_t)(in[1] << 8 | in[2]);
	h->len = (uint16_t)(in[3] << 8 | in[4]);
	/* An SSLv2 ClientHello (high bit set) or any non-TLS bytes: not a
	 * content type we know (RFC 5246 6.2.1, 6). */
	if (h->type < REC_CHANGE_CIPHER_SPEC || h->type > REC_APPLICATION_DATA)
		return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
	if (in[1] != 3)
		return HSK_ALERT(HSK_AD_PROTOCOL_VERSION);
	if (h->len > max_len)
		return HSK_ALERT(HSK_AD_RECORD_OVERFLOW);
	if (avail - REC_HDR_LEN < h->len)
		return HSK_WANT_INPUT;
	return HSK_OK;
}

static bool
rec_is_cbc(const struct hsk_suite *s)
{
	return s->cipher == HSK_CIPHER_AES128_CBC || s->cipher == HSK_CIPHER_AES256_CBC;
}

hsk_err
rec_dir_init(struct rec_dir *d, const struct hsk_suite *s, uint16_t version, bool encrypt, bool etm,
	     const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
	EVP_CIPHER_CTX *cctx = NULL;
	EVP_MAC_CTX *mctx = NULL;
	const EVP_CIPHER *cipher = hsk_algs_cipher(s->cipher);
	size_t ivlen = version == 0x0304 ? 12 : s->fixed_iv_len;

	rec_dir_clear(d);
	if (cipher == NULL || s->key_len > sizeof(d->key) || ivlen > sizeof(d->iv) ||
	    s->mac_key_len > sizeof(d->mac_key))
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	if (s->cipher == HSK_CIPHER_AES128_GCM)
		d->aead = acc_imb_aead_new(ACC_AEAD_AES_128_GCM, key); /* NULL: EVP below */
	else if (s->cipher == HSK_CIPHER_AES256_GCM)
		d->aead = acc_imb_aead_new(ACC_AEAD_AES_256_GCM, key);
	else if (s->cipher == HSK_CIPHER_CHACHA20_POLY1305)
		d->aead = acc_imb_aead_new(ACC_AEAD_CHACHA20_POLY1305, key);
	cctx = d->aead != NULL ? NULL : EVP_CIPHER_CTX_new();
	if (d->aead == NULL && (cctx == NULL || !EVP_CipherInit_ex2(cctx, cipher, key, NULL, encrypt ? 1 : 0, NULL)))
		goto fail;
	if (rec_is_cbc(s)) {
		const EVP_MD *md = hsk_algs_md(s->mac);
		OSSL_PARAM params[2] = {
			OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							 (char *)EVP_MD_get0_name(md), 0),
			OSSL_PARAM_construct_end(),
		};

		EVP_CIPHER_CTX_set_padding(cctx, 0);
		mctx = EVP_MAC_CTX_new(hsk_algs_hmac());
		if (mctx == NULL || !EVP_MAC_init(mctx, mac_key, s->mac_key_len, params))
			goto fail;
		memcpy(d->mac_key, mac_key, s->mac_key_len);
	}
	d->suite = s;
	d->version = version;
	d->encrypt = encrypt;
	d->etm = etm && rec_is_cbc(s);
	d->seq = 0;
	memcpy(d->key, key, s->key_len);
	if (ivlen)
		memcpy(d->iv, iv, ivlen);
	d->cipher_ctx = cctx;
	d->mac_ctx = mctx;
	return HSK_OK;
fail:
	EVP_CIPHER_CTX_free(cctx);
	EVP_MAC_CTX_free(mctx);
	return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
}

void
rec_dir_clear(struct rec_dir *d)
{
	EVP_CIPHER_CTX_free(d->cipher_ctx); /* frees and cleanses the key schedule */
	EVP_MAC_CTX_free(d->mac_ctx);
	acc_imb_aead_free(d->aead);
	OPENSSL_cleanse(d, sizeof(*d));
	d->suite = NULL;
	d->cipher_ctx = NULL;
	d->mac_ctx = NULL;
	d->aead = NULL;
}

static void
rec_put_seq(uint8_t out[8], uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		out[i] = (uint8_t)seq;
}

/* TLS 1.2 AEAD additional data: seq_num + type + version + length (RFC 5246 6.2.3.3). */
static void
rec_aad12(uint8_t aad[13], uint64_t seq, uint8_t type, uint16_t version, size_t len)
{
	rec_put_seq(aad, seq);
	aad[8] = type;
	aad[9] = (uint8_t)(version >> 8);
	aad[10] = (uint8_t)version;
	aad[11] = (uint8_t)(len >> 8);
	aad[12] = (uint8_t)len;
}

/* The per-record nonce: GCM in TLS 1.2 is fixed_iv(4) + explicit(8) with
 * the explicit part = seq (RFC 5288 3); ChaCha20 (RFC 7905 2) and TLS 1.3
 * (RFC 8446 5.3) XOR the padded sequence number into the 12-byte IV. */
static void
rec_nonce(const struct rec_dir *d, uint8_t nonce[12])
{
	uint8_t seq[8];

	rec_put_seq(seq, d->seq);
	if (d->version != 0x0304 && d->suite->fixed_iv_len == 4) {
		memcpy(nonce, d->iv, 4);
		memcpy(nonce + 4, seq, 8);
		return;
	}
	memcpy(nonce, d->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= seq[i];
}

static size_t
rec_explicit_len(const struct rec_dir *d)
{
	if (rec_is_cbc(d->suite))
		return REC_CBC_BLOCK;
	return d->version != 0x0304 && d->suite->fixed_iv_len == 4 ? 8 : 0;
}

size_t
rec_overhead(const struct rec_dir *d, size_t len)
{
	const struct hsk_suite *s = d->suite;

	if (s == NULL)
		return REC_HDR_LEN;
	if (rec_is_cbc(s)) {
		size_t body = len + (d->etm ? 0 : s->mac_len);

		return REC_HDR_LEN + REC_CBC_BLOCK + (body / REC_CBC_BLOCK + 1) * REC_CBC_BLOCK - len +
		       (d->etm ? s->mac_len : 0);
	}
	return REC_HDR_LEN + rec_explicit_len(d) + 16 + (d->version == 0x0304 ? 1 : 0);
}

static int
rec_hmac(struct rec_dir *d, const uint8_t hdr[13], const uint8_t *p, size_t n, uint8_t *mac)
{
	EVP_MAC_CTX *m = d->mac_ctx;
	size_t outl;

	return EVP_MAC_init(m, NULL, 0, NULL) && EVP_MAC_update(m, hdr, 13) && EVP_MAC_update(m, p, n) &&
	       EVP_MAC_final(m, mac, &outl, 64);
}

static hsk_err
rec_seal_aead(struct rec_dir *d, uint8_t type, const uint8_t *pt, size_t len, struct hsk_wr *w)
{
	EVP_CIPHER_CTX *c = d->cipher_ctx;
	bool tls13 = d->version == 0x0304;
	size_t exp = rec_explicit_len(d), inner = len + (tls13 ? 1 : 0), clen = exp + inner + 16;
	uint8_t nonce[12], aad[13], *hdr, *body;
	int outl;

	hdr = hsk_wr_reserve(w, REC_HDR_LEN + clen);
	if (hdr == NULL)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	hdr[0] = tls13 ? REC_APPLICATION_DATA : type;
	hdr[1] = 3;
	hdr[2] = 3;
	hdr[3] = (uint8_t)(clen >> 8);
	hdr[4] = (uint8_t)clen;
	body = hdr + REC_HDR_LEN;
	rec_nonce(d, nonce);
	memcpy(body, nonce + 4, exp);
	memmove(body + exp, pt, len);
	if (tls13) {
		body[exp + len] = type; /* TLSInnerPlaintext, no padding */
		memcpy(aad, hdr, REC_HDR_LEN);
	} else {
		rec_aad12(aad, d->seq, type, 0x0303, len);
	}
	if (d->aead != NULL) {
		acc_imb_aead_seal(d->aead, nonce, aad, tls13 ? REC_HDR_LEN : 13, body + exp, body + exp, inner,
				  body + exp + inner);
		return HSK_OK;
	}
	if (!EVP_CipherInit_ex2(c, NULL, NULL, nonce, 1, NULL) ||
	    !EVP_EncryptUpdate(c, NULL, &outl, aad, tls13 ? REC_HDR_LEN : 13) ||
	    !EVP_EncryptUpdate(c, body + exp, &outl, body + exp, (int)inner) ||
	    !EVP_EncryptFinal_ex(c, body + exp + outl, &outl) ||
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, body + exp + inner))
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	return HSK_OK;
}

static hsk_err
rec_seal_cbc(struct rec_dir *d, uint8_t type, const uint8_t *pt, size_t len, struct hsk_wr *w)
{
	const struct hsk_suite *s = d->suite;
	EVP_CIPHER_CTX *c = d->cipher_ctx;
	size_t body = len + (d->etm ? 0 : s->mac_len);
	size_t padded = (body / REC_CBC_BLOCK + 1) * REC_CBC_BLOCK;
	size_t clen = REC_CBC_BLOCK + padded + (d->etm ? s->mac_len : 0);
	uint8_t mhdr[13], *hdr, *iv, *ct;
	int outl;

	hdr = hsk_wr_reserve(w, REC_HDR_LEN + clen);
	if (hdr == NULL)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	hdr[0] = type;
	hdr[1] = 3;
	hdr[2] = 3;
	hdr[3] = (uint8_t)(clen >> 8);
	hdr[4] = (uint8_t)clen;
	iv = hdr + REC_HDR_LEN;
	ct = iv + REC_CBC_BLOCK;
	memmove(ct, pt, len);
	if (RAND_bytes(iv, REC_CBC_BLOCK) != 1)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	if (!d->etm) {
		rec_aad12(mhdr, d->seq, type, 0x0303, len);
		if (!rec_hmac(d, mhdr, ct, len, ct + len))
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	}
	memset(ct + body, (int)(padded - body - 1), padded - body);
	if (!EVP_CipherInit_ex2(c, NULL, NULL, iv, 1, NULL) ||
	    !EVP_EncryptUpdate(c, ct, &outl, ct, (int)padded))
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	if (d->etm) {
		/* RFC 7366 3: MAC(seq + type + version + length + IV + ciphertext) */
		rec_aad12(mhdr, d->seq, type, 0x0303, REC_CBC_BLOCK + padded);
		if (!rec_hmac(d, mhdr, iv, REC_CBC_BLOCK + padded, ct + padded))
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	}
	return HSK_OK;
}

hsk_err
rec_seal(struct rec_dir *d, uint8_t type, const uint8_t *pt, size_t len, struct hsk_wr *w)
{
	hsk_err err;

	if (len > REC_MAX_PLAIN)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	if (d->suite == NULL) {
		hsk_wr_u8(w, type);
		hsk_wr_u16(w, 0x0303);
		hsk_wr_u16(w, (uint16_t)len);
		hsk_wr_bytes(w, pt, len);
		return w->err ? HSK_ALERT(HSK_AD_INTERNAL_ERROR) : HSK_OK;
	}
	if (d->seq == UINT64_MAX) /* RFC 5246 6.1: renegotiate or close; we close */
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	err = rec_is_cbc(d->suite) ? rec_seal_cbc(d, type, pt, len, w) : rec_seal_aead(d, type, pt, len, w);
	if (err == HSK_OK)
		d->seq++;
	return err;
}

static hsk_err
rec_open_aead(struct rec_dir *d, struct rec_hdr *h, uint8_t *frag, uint8_t **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX *c = d->cipher_ctx;
	bool tls13 = d->version == 0x0304;
	size_t exp = rec_explicit_len(d), n;
	uint8_t nonce[12], aad[13];
	int outl, fin;

	if (h->len < exp + 16)
		return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	n = h->len - exp - 16;
	rec_nonce(d, nonce);
	if (exp)
		memcpy(nonce + 4, frag, exp); /* the sender's explicit nonce */
	if (tls13) {
		aad[0] = h->type;
		aad[1] = (uint8_t)(h->version >> 8);
		aad[2] = (uint8_t)h->version;
		aad[3] = (uint8_t)(h->len >> 8);
		aad[4] = (uint8_t)h->len;
	} else {
		rec_aad12(aad, d->seq, h->type, h->version, n);
	}
	if (d->aead != NULL) {
		if (!acc_imb_aead_open(d->aead, nonce, aad, tls13 ? REC_HDR_LEN : 13, frag + exp, frag + exp, n,
				       frag + exp + n))
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	} else {
		if (!EVP_CipherInit_ex2(c, NULL, NULL, nonce, 0, NULL) ||
		    !EVP_DecryptUpdate(c, NULL, &outl, aad, tls13 ? REC_HDR_LEN : 13) ||
		    !EVP_DecryptUpdate(c, frag + exp, &outl, frag + exp, (int)n) ||
		    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, frag + exp + n))
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		fin = EVP_DecryptFinal_ex(c, frag + exp + outl, &outl);
		if (fin <= 0)
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	}
	if (tls13) {
		/* TLSInnerPlaintext, padding included, is at most 2^14 + 1
		 * bytes (RFC 8446 5.2, 5.4). */
		if (n > REC_MAX_PLAIN + 1)
			return HSK_ALERT(HSK_AD_RECORD_OVERFLOW);
		/* Strip the zero padding; the last non-zero byte is the real
		 * content type (RFC 8446 5.4). */
		while (n > 0 && frag[n - 1] == 0)
			n--;
		if (n == 0)
			return HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE);
		h->type = frag[--n];
	}
	if (n > REC_MAX_PLAIN)
		return HSK_ALERT(HSK_AD_RECORD_OVERFLOW);
	*pt = frag + exp;
	*ptlen = n;
	return HSK_OK;
}

/* MAC-then-encrypt CBC record, Lucky 13 aware: the padding check touches
 * the same bytes whatever the padding value, the MAC is compared by a scan
 * over a fixed window, and the HMAC is fed the same number of bytes
 * whatever the padding length (the real input, then dummy bytes through
 * a second pass of the same context), so one bad_record_mac covers every
 * failure. */
static hsk_err
rec_open_cbc(struct rec_dir *d, struct rec_hdr *h, uint8_t *frag, uint8_t **pt, size_t *ptlen)
{
	const struct hsk_suite *s = d->suite;
	EVP_CIPHER_CTX *c = d->cipher_ctx;
	size_t maclen = s->mac_len, n, padlen, good, datalen, i;
	uint8_t mhdr[13], mac[64] __attribute__((aligned(64))), diff = 0;
	uint8_t *ct = frag + REC_CBC_BLOCK;
	int outl;

	if (h->len < REC_CBC_BLOCK + (d->etm ? maclen : 0))
		return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	n = h->len - REC_CBC_BLOCK - (d->etm ? maclen : 0);
	if (n == 0 || n % REC_CBC_BLOCK != 0 || (!d->etm && n < maclen + 1))
		return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	if (d->etm) {
		rec_aad12(mhdr, d->seq, h->type, h->version, REC_CBC_BLOCK + n);
		if (!rec_hmac(d, mhdr, frag, REC_CBC_BLOCK + n, mac))
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		if (CRYPTO_memcmp(mac, ct + n, maclen) != 0)
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	}
	if (!EVP_CipherInit_ex2(c, NULL, NULL, frag, 0, NULL) ||
	    !EVP_DecryptUpdate(c, ct, &outl, ct, (int)n))
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	padlen = ct[n - 1];
	if (d->etm) {
		/* Authenticated already: the padding is no oracle (RFC 7366 3). */
		if (padlen + 1 > n)
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
		for (i = 0; i < padlen; i++)
			diff |= ct[n - 2 - i] ^ (uint8_t)padlen;
		if (diff)
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
		datalen = n - padlen - 1;
	} else {
		/* good: padding fits after a MAC */
		good = acc_ct_ge(n, maclen + padlen + 1);
		/* Check up to 256 padding bytes, the same bytes every time. */
		size_t to_check = n - 1 < 255 ? n - 1 : 255;
		for (i = 0; i < to_check; i++) {
			size_t in_pad = acc_ct_lt(i, padlen);
			good &= ~(in_pad & (size_t)(ct[n - 2 - i] ^ (uint8_t)padlen));
		}
		good = (size_t)0 - ((good & 0xff) == 0xff); /* all padding bytes matched */
		padlen &= good;                            /* bad padding: treat as zero */
		datalen = n - maclen - padlen - 1;
		rec_aad12(mhdr, d->seq, h->type, h->version, datalen);
		if (!rec_hmac(d, mhdr, ct, datalen, mac))
			return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		/* Equalise the hashing work: padlen + 1 more bytes, discarded. */
		{
			uint8_t dummy[64];
			if (!rec_hmac(d, mhdr, ct, padlen + 1, dummy))
				return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
		}
		/* Compare the received MAC at [datalen, datalen + maclen) by a
		 * scan over the last maclen + 256 bytes. */
		size_t start = n > maclen + 256 ? n - maclen - 256 : 0;
		for (i = start; i < n; i++) {
			size_t idx = i - datalen;
			size_t in_mac = acc_ct_lt(i, datalen + maclen) & acc_ct_ge(i, datalen);
			diff |= (uint8_t)(in_mac & (ct[i] ^ mac[idx & 63]));
		}
		diff |= (uint8_t)~good;
		if (diff)
			return HSK_ALERT(HSK_AD_BAD_RECORD_MAC);
	}
	if (datalen > REC_MAX_PLAIN)
		return HSK_ALERT(HSK_AD_RECORD_OVERFLOW);
	*pt = ct;
	*ptlen = datalen;
	return HSK_OK;
}

hsk_err
rec_open(struct rec_dir *d, struct rec_hdr *h, uint8_t *frag, uint8_t **pt, size_t *ptlen)
{
	hsk_err err;

	if (d->suite == NULL) {
		if (h->len > REC_MAX_PLAIN)
			return HSK_ALERT(HSK_AD_RECORD_OVERFLOW);
		*pt = frag;
		*ptlen = h->len;
		return HSK_OK;
	}
	if (d->seq == UINT64_MAX)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	err = rec_is_cbc(d->suite) ? rec_open_cbc(d, h, frag, pt, ptlen) : rec_open_aead(d, h, frag, pt, ptlen);
	if (err == HSK_OK)
		d->seq++;
	return err;
}
