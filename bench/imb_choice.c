/* Why HMAC for the PRF/HKDF and the CBC suites' records stay on OpenSSL:
 * one message at a time (as a handshake or a record needs them) through
 * ipsec-mb's job API, against OpenSSL's EVP, on one core, each result
 * checked against the other. ipsec-mb's job manager gains by filling
 * lanes with many buffers; a single job waits for a flush.
 *   - HMAC-SHA256 of 100 bytes under a fresh 32-byte key each time (an
 *     HKDF step: the key's ipad/opad blocks are hashed first);
 *   - AES-128-CBC + HMAC-SHA256 (encrypt-then-MAC) of a 16 KiB record.
 *
 *   build/bench/imb_choice [seconds per round, default 0.3] [rounds, default 5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <intel-ipsec-mb.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bench_util.h"

static IMB_MGR *mgr;
static EVP_MAC *hmac;

static void
imb_hmac_keys(const uint8_t *key, size_t len, uint8_t ipad[32], uint8_t opad[32])
{
	uint8_t k[64] = {0}, b[64];

	memcpy(k, key, len); /* len <= 64 here */
	for (int i = 0; i < 64; i++)
		b[i] = k[i] ^ 0x36;
	IMB_SHA256_ONE_BLOCK(mgr, b, ipad);
	for (int i = 0; i < 64; i++)
		b[i] = k[i] ^ 0x5c;
	IMB_SHA256_ONE_BLOCK(mgr, b, opad);
}

/* One job: optional AES-128-CBC encryption of len bytes, then HMAC over
 * src (encrypt-then-MAC: the caller encrypts in place, src == dst). */
static void
imb_run(const void *enc_keys, const uint8_t *iv, const uint8_t *src, uint8_t *dst, size_t len, const uint8_t *ipad,
	const uint8_t *opad, uint8_t tag[32])
{
	IMB_JOB *j = IMB_GET_NEXT_JOB(mgr);

	memset(j, 0, sizeof(*j));
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	if (enc_keys != NULL) {
		j->cipher_mode = IMB_CIPHER_CBC;
		j->enc_keys = enc_keys;
		j->key_len_in_bytes = 16;
		j->iv = iv;
		j->iv_len_in_bytes = 16;
		j->src = src;
		j->dst = dst;
		j->msg_len_to_cipher_in_bytes = len;
	} else {
		j->cipher_mode = IMB_CIPHER_NULL;
		j->src = src;
	}
	j->hash_alg = IMB_AUTH_HMAC_SHA_256;
	j->msg_len_to_hash_in_bytes = len;
	j->u.HMAC._hashed_auth_key_xor_ipad = ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = opad;
	j->auth_tag_output = tag;
	j->auth_tag_output_len_in_bytes = 32;
	j = IMB_SUBMIT_JOB(mgr);
	while ((j = IMB_FLUSH_JOB(mgr)) != NULL)
		if (j->status != IMB_STATUS_COMPLETED)
			exit(1);
}

static void
evp_hmac(const uint8_t *key, size_t klen, const uint8_t *msg, size_t len, uint8_t tag[32])
{
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			    OSSL_PARAM_construct_end() };
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac);
	size_t n;

	if (c == NULL || !EVP_MAC_init(c, key, klen, p) || !EVP_MAC_update(c, msg, len) || !EVP_MAC_final(c, tag, &n, 32))
		exit(1);
	EVP_MAC_CTX_free(c);
}

static double
hkdf_step_rate(int imb, double secs)
{
	uint8_t key[32], msg[100] = {7}, tag[32], want[32], ipad[32] __attribute__((aligned(16))),
						     opad[32] __attribute__((aligned(16)));
	unsigned long done = 0;
	double t0 = bench_now_s(), t;

	do {
		for (int i = 0; i < 64; i++, done++) {
			memset(key, (int)done, sizeof(key));
			if (imb) {
				imb_hmac_keys(key, sizeof(key), ipad, opad);
				imb_run(NULL, NULL, msg, NULL, sizeof(msg), ipad, opad, tag);
			} else {
				evp_hmac(key, sizeof(key), msg, sizeof(msg), tag);
			}
		}
		t = bench_now_s();
	} while (t - t0 < secs);
	/* the two agree */
	evp_hmac(key, sizeof(key), msg, sizeof(msg), want);
	imb_hmac_keys(key, sizeof(key), ipad, opad);
	imb_run(NULL, NULL, msg, NULL, sizeof(msg), ipad, opad, tag);
	if (memcmp(tag, want, 32) != 0)
		exit(2);
	return (double)done / (t - t0);
}

static double
cbc_record_rate(int imb, double secs)
{
	static uint8_t rec[16384], pt[16384], ct[16384];
	uint8_t key[16] = {1}, mkey[32] = {2}, iv[16] = {3}, tag[32], want[32];
	uint8_t ipad[32] __attribute__((aligned(16))), opad[32] __attribute__((aligned(16)));
	uint32_t enc[15 * 4] __attribute__((aligned(16))), dec[15 * 4] __attribute__((aligned(16)));
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			    OSSL_PARAM_construct_end() };
	EVP_MAC_CTX *m = EVP_MAC_CTX_new(hmac);
	unsigned long done = 0;
	double t0, t;
	int l;
	size_t n;

	IMB_AES_KEYEXP_128(mgr, key, enc, dec);
	imb_hmac_keys(mkey, sizeof(mkey), ipad, opad);
	if (c == NULL || m == NULL || !EVP_EncryptInit_ex2(c, EVP_aes_128_cbc(), key, iv, NULL) ||
	    !EVP_MAC_init(m, mkey, sizeof(mkey), p))
		exit(1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	t0 = bench_now_s();
	do { /* a record encrypted in place, then its MAC (encrypt-then-MAC) */
		for (int i = 0; i < 8; i++, done++) {
			iv[0]++;
			if (imb) {
				imb_run(enc, iv, rec, rec, sizeof(rec), ipad, opad, tag);
			} else if (!EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL) ||
				   !EVP_EncryptUpdate(c, rec, &l, rec, sizeof(rec)) || !EVP_MAC_init(m, NULL, 0, NULL) ||
				   !EVP_MAC_update(m, rec, sizeof(rec)) || !EVP_MAC_final(m, tag, &n, 32)) {
				exit(1);
			}
		}
		t = bench_now_s();
	} while (t - t0 < secs);
	/* the two agree */
	memset(pt, 5, sizeof(pt));
	memcpy(rec, pt, sizeof(pt));
	imb_run(enc, iv, rec, rec, sizeof(rec), ipad, opad, want);
	if (!EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL) || !EVP_EncryptUpdate(c, ct, &l, pt, sizeof(pt)) ||
	    !EVP_MAC_init(m, NULL, 0, NULL) || !EVP_MAC_update(m, ct, sizeof(ct)) || !EVP_MAC_final(m, tag, &n, 32) ||
	    memcmp(ct, rec, sizeof(ct)) != 0 || memcmp(tag, want, 32) != 0)
		exit(2);
	EVP_CIPHER_CTX_free(c);
	EVP_MAC_CTX_free(m);
	return (double)done / (t - t0);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	IMB_ARCH arch;
	struct {
		const char *name;
		double (*rate)(int, double);
	} t[] = {
		{"HMAC-SHA256 100 B, new key", hkdf_step_rate},
		{"AES-128-CBC+HMAC 16 KiB", cbc_record_rate},
	};

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS || secs <= 0) {
		fprintf(stderr, "usage: %s [seconds per round] [rounds 1..%d]\n", argv[0], BENCH_MAX_ROUNDS);
		return 2;
	}
	mgr = alloc_mb_mgr(0);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mgr == NULL || hmac == NULL)
		return 1;
	init_mb_mgr_auto(mgr, &arch);
	printf("# one core, one message at a time, median of %d rounds of %.2f s (ipsec-mb arch %d)\n", rounds, secs,
	       (int)arch);
	printf("%-28s %14s %14s %8s\n", "operation", "ipsec-mb/s", "OpenSSL/s", "ratio");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS], ra, rb;

		for (int r = 0; r < rounds; r++) {
			a[r] = t[i].rate(1, secs);
			b[r] = t[i].rate(0, secs);
		}
		ra = bench_median(a, rounds);
		rb = bench_median(b, rounds);
		printf("%-28s %14.0f %14.0f %8.2f\n", t[i].name, ra, rb, ra / rb);
	}
	free_mb_mgr(mgr);
	EVP_MAC_free(hmac);
	return 0;
}
