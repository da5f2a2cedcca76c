/* Session tickets: sealing, opening and key sets (hsk_ticket.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acc_imb_aead.h"
#include "hsk_algs.h"
#include "hsk_buf.h"
#include "hsk_suite.h"
#include "hsk_ticket.h"

#define HSK_TICKET_GRACE 8 /* replaced sets kept alive (rotations) */
#define HSK_TICKET_STATE_VERSION 2 /* 2: with the server name digest */

struct hsk_tickets {
	_Atomic(struct hsk_ticket_keys *) cur;
	struct hsk_ticket_keys *retired[HSK_TICKET_GRACE];
	size_t next_retired;
};

static void
hsk_keys_free(struct hsk_ticket_keys *k)
{
	if (k != NULL) {
		for (size_t i = 0; i < k->n; i++)
			acc_imb_aead_free(k->keys[i].gcm);
		OPENSSL_cleanse(k, sizeof(*k));
		free(k);
	}
}

/* Publish a new set; the old one joins the grace ring. Each key gets its
 * own key schedule here (a key carried over from the previous set gets a
 * new one: schedules belong to one set), so sealing and opening tickets
 * expand no key per handshake. */
static void
hsk_tickets_publish(struct hsk_tickets *t, struct hsk_ticket_keys *k)
{
	struct hsk_ticket_keys *old;

	for (size_t i = 0; i < k->n; i++)
		k->keys[i].gcm = acc_imb_aead_new(ACC_AEAD_AES_256_GCM, k->keys[i].key);
	old = atomic_exchange_explicit(&t->cur, k, memory_order_acq_rel);

	if (old == NULL)
		return;
	hsk_keys_free(t->retired[t->next_retired]);
	t->retired[t->next_retired] = old;
	t->next_retired = (t->next_retired + 1) % HSK_TICKET_GRACE;
}

struct hsk_tickets *
hsk_tickets_new(void)
{
	struct hsk_tickets *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if (hsk_tickets_rotate(t, 1) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void
hsk_tickets_free(struct hsk_tickets *t)
{
	if (t == NULL)
		return;
	hsk_keys_free(atomic_load(&t->cur));
	for (size_t i = 0; i < HSK_TICKET_GRACE; i++)
		hsk_keys_free(t->retired[i]);
	free(t);
}

const struct hsk_ticket_keys *
hsk_tickets_current(const struct hsk_tickets *t)
{
	return atomic_load_explicit(&((struct hsk_tickets *)t)->cur, memory_order_acquire);
}

int
hsk_tickets_rotate(struct hsk_tickets *t, unsigned keep)
{
	const struct hsk_ticket_keys *old = atomic_load(&t->cur);
	struct hsk_ticket_keys *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -1;
	if (RAND_bytes(k->keys[0].name, HSK_TICKET_NAME_LEN) != 1 ||
	    RAND_bytes(k->keys[0].key, HSK_TICKET_KEY_LEN) != 1) {
		hsk_keys_free(k);
		return -1;
	}
	k->n = 1;
	if (keep > HSK_TICKET_KEYS_MAX)
		keep = HSK_TICKET_KEYS_MAX;
	for (size_t i = 0; old != NULL && i < old->n && k->n < keep; i++)
		k->keys[k->n++] = old->keys[i];
	hsk_tickets_publish(t, k);
	return 0;
}

static int
hsk_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int
hsk_tickets_load_file(struct hsk_tickets *t, const char *path, char *err, size_t errlen)
{
	struct hsk_ticket_keys *k = calloc(1, sizeof(*k));
	char line[256];
	unsigned lineno = 0;
	FILE *f;

	if (k == NULL)
		return -1;
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open the ticket key file", path);
		hsk_keys_free(k);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		uint8_t raw[HSK_TICKET_NAME_LEN + HSK_TICKET_KEY_LEN];
		size_t n = strcspn(line, "\r\n");

		lineno++;
		if (n == 0 || line[0] == '#')
			continue;
		if (n != 2 * sizeof(raw) || k->n == HSK_TICKET_KEYS_MAX) {
			snprintf(err, errlen, "%s:%u: expected %zu hex digits (at most %d keys)", path, lineno,
				 2 * sizeof(raw), HSK_TICKET_KEYS_MAX);
			goto fail;
		}
		for (size_t i = 0; i < sizeof(raw); i++) {
			int hi = hsk_hexval(line[2 * i]), lo = hsk_hexval(line[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "%s:%u: not a hex digit", path, lineno);
				goto fail;
			}
			raw[i] = (uint8_t)(hi << 4 | lo);
		}
		memcpy(k->keys[k->n].name, raw, HSK_TICKET_NAME_LEN);
		memcpy(k->keys[k->n].key, raw + HSK_TICKET_NAME_LEN, HSK_TICKET_KEY_LEN);
		OPENSSL_cleanse(raw, sizeof(raw));
		k->n++;
	}
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	if (k->n == 0) {
		snprintf(err, errlen, "%s: no key", path);
		hsk_keys_free(k);
		return -1;
	}
	hsk_tickets_publish(t, k);
	return 0;
fail:
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	hsk_keys_free(k);
	return -1;
}

/* AES-256-GCM in one direction with the key name, then the caller's
 * context (hsk_ticket_seal_ad), as additional data. */
static bool
hsk_ticket_gcm(const struct hsk_ticket_key *key, bool enc, const uint8_t nonce[12], const uint8_t *ad,
	       size_t ad_len, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	uint8_t aad[HSK_TICKET_NAME_LEN + HSK_TICKET_AD_MAX];
	EVP_CIPHER_CTX *c;
	int n, ok;

	if (ad_len > HSK_TICKET_AD_MAX)
		return false;
	memcpy(aad, key->name, HSK_TICKET_NAME_LEN);
	if (ad_len > 0)
		memcpy(aad + HSK_TICKET_NAME_LEN, ad, ad_len);
	if (key->gcm != NULL) {
		if (!enc)
			return acc_imb_aead_open(key->gcm, nonce, aad, HSK_TICKET_NAME_LEN + ad_len, in, out, len,
						 tag);
		acc_imb_aead_seal(key->gcm, nonce, aad, HSK_TICKET_NAME_LEN + ad_len, in, out, len, tag);
		return true;
	}
	c = EVP_CIPHER_CTX_new();
	ok = c != NULL &&
	     EVP_CipherInit_ex2(c, hsk_algs_cipher(HSK_CIPHER_AES256_GCM), key->key, nonce, enc ? 1 : 0, NULL) &&
	     EVP_CipherUpdate(c, NULL, &n, aad, (int)(HSK_TICKET_NAME_LEN + ad_len)) &&
	     EVP_CipherUpdate(c, out, &n, in, (int)len) &&
	     (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag)) &&
	     EVP_CipherFinal_ex(c, out + n, &n) > 0 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag));
	EVP_CIPHER_CTX_free(c);
	return ok;
}

bool
hsk_ticket_seal(const struct hsk_ticket_keys *k, const struct hsk_ticket *t, uint8_t *out, size_t cap,
		size_t *len)
{
	return hsk_ticket_seal_ad(k, t, NULL, 0, out, cap, len);
}

bool
hsk_ticket_seal_ad(const struct hsk_ticket_keys *k, const struct hsk_ticket *t, const uint8_t *ad, size_t ad_len,
		   uint8_t *out, size_t cap, size_t *len)
{
	uint8_t state[128];
	struct hsk_wr w;
	size_t total;
	bool ok;

	if (k == NULL || k->n == 0 || t->secret_len > sizeof(t->secret))
		return false;
	hsk_wr_init(&w, state, sizeof(state));
	hsk_wr_u8(&w, HSK_TICKET_STATE_VERSION);
	hsk_wr_u16(&w, t->version);
	hsk_wr_u16(&w, t->suite);
	hsk_wr_u32(&w, t->ctx_id);
	hsk_wr_u32(&w, (uint32_t)(t->created_s >> 32));
	hsk_wr_u32(&w, (uint32_t)t->created_s);
	hsk_wr_u32(&w, t->lifetime_s);
	hsk_wr_u32(&w, t->age_add);
	hsk_wr_u32(&w, t->sni_digest);
	hsk_wr_u8(&w, (uint8_t)(t->ems | t->client_cert << 1));
	hsk_wr_u8(&w, t->secret_len);
	hsk_wr_bytes(&w, t->secret, t->secret_len);
	total = HSK_TICKET_NAME_LEN + 12 + w.len + 16;
	if (w.err || total > cap) {
		OPENSSL_cleanse(state, sizeof(state));
		return false;
	}
	memcpy(out, k->keys[0].name, HSK_TICKET_NAME_LEN);
	ok = RAND_bytes(out + HSK_TICKET_NAME_LEN, 12) == 1 &&
	     hsk_ticket_gcm(&k->keys[0], true, out + HSK_TICKET_NAME_LEN, ad, ad_len, state, w.len,
			    out + HSK_TICKET_NAME_LEN + 12, out + HSK_TICKET_NAME_LEN + 12 + w.len);
	OPENSSL_cleanse(state, sizeof(state));
	*len = total;
	return ok;
}

bool
hsk_ticket_open(const struct hsk_ticket_keys *k, const uint8_t *in, size_t len, struct hsk_ticket *t)
{
	return hsk_ticket_open_ad(k, NULL, 0, in, len, t);
}

bool
hsk_ticket_open_ad(const struct hsk_ticket_keys *k, const uint8_t *ad, size_t ad_len, const uint8_t *in,
		   size_t len, struct hsk_ticket *t)
{
	uint8_t state[128], tag[16], flags = 0, v = 0;
	const struct hsk_ticket_key *key = NULL;
	const uint8_t *secret;
	uint32_t hi = 0, lo = 0;
	size_t n;
	struct hsk_rd r;
	bool ok;

	memset(t, 0, sizeof(*t));
	if (k == NULL || len < HSK_TICKET_NAME_LEN + 12 + 16 + 1 || len > HSK_TICKET_MAX)
		return false;
	for (size_t i = 0; i < k->n && key == NULL; i++)
		if (CRYPTO_memcmp(k->keys[i].name, in, HSK_TICKET_NAME_LEN) == 0)
			key = &k->keys[i];
	if (key == NULL)
		return false; /* an unknown or expired key: a full handshake */
	n = len - HSK_TICKET_NAME_LEN - 12 - 16;
	if (n > sizeof(state))
		return false;
	memcpy(tag, in + len - 16, 16);
	if (!hsk_ticket_gcm(key, false, in + HSK_TICKET_NAME_LEN, ad, ad_len, in + HSK_TICKET_NAME_LEN + 12, n,
			    state, tag))
		return false;
	r = hsk_rd_make(state, n);
	ok = hsk_rd_u8(&r, &v) == HSK_OK && v == HSK_TICKET_STATE_VERSION && hsk_rd_u16(&r, &t->version) == HSK_OK &&
	     hsk_rd_u16(&r, &t->suite) == HSK_OK && hsk_rd_u32(&r, &t->ctx_id) == HSK_OK &&
	     hsk_rd_u32(&r, &hi) == HSK_OK && hsk_rd_u32(&r, &lo) == HSK_OK &&
	     hsk_rd_u32(&r, &t->lifetime_s) == HSK_OK && hsk_rd_u32(&r, &t->age_add) == HSK_OK &&
	     hsk_rd_u32(&r, &t->sni_digest) == HSK_OK &&
	     hsk_rd_u8(&r, &flags) == HSK_OK && hsk_rd_u8(&r, &t->secret_len) == HSK_OK &&
	     t->secret_len <= sizeof(t->secret) && hsk_rd_bytes(&r, t->secret_len, &secret) == HSK_OK &&
	     hsk_rd_end(&r) == HSK_OK;
	if (ok) {
		t->created_s = (uint64_t)hi << 32 | lo;
		t->ems = flags & 1;
		t->client_cert = (flags >> 1) & 1;
		memcpy(t->secret, secret, t->secret_len);
	} else {
		OPENSSL_cleanse(t, sizeof(*t));
	}
	OPENSSL_cleanse(state, sizeof(state));
	return ok;
}

bool
hsk_ticket_fresh(uint64_t created_s, uint32_t lifetime_s, uint64_t now_s)
{
	return created_s <= now_s + HSK_TICKET_SKEW_S && now_s < created_s + lifetime_s;
}
