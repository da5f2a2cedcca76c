/* accel/ throughput on one core, ours against OpenSSL's, in one run:
 * RSA-2048/3072/4096 PKCS#1 v1.5 signatures through the executor (the
 * "ifma" backend: eight lanes of AVX-512 IFMA, against the "openssl"
 * backend), and the cost per signature for 1..8 jobs in one flush (which
 * decides when a partial batch goes to the lanes), and X25519 key
 * agreements (keygen + derive, as a TLS 1.3 server does), and AES-128-GCM
 * on 16 KiB records (ipsec-mb against EVP). Each figure is the
 * median of several rounds, the two backends alternating.
 *
 *   build/bench/acc_bench [seconds per round, default 0.3] [rounds, default 5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "acc_exec.h"
#include "bench_util.h"
#include "acc_imb_aead.h"
#include "acc_ifma.h"
#include "acc_key.h"

static void
on_done(struct acc_job *job, void *arg)
{
	if (job->status != ACC_DONE)
		++*(unsigned long *)arg;
}

/* A TLS 1.2 EncryptedPreMasterSecret for key: 48 bytes starting 03 03,
 * PKCS#1 v1.5 type 2 (what a static-RSA client sends). */
static size_t
pms_ciphertext(const struct acc_key *key, uint8_t *out, size_t cap)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(acc_key_evp(key), NULL);
	uint8_t pms[48];
	size_t n = cap;

	RAND_bytes(pms, sizeof(pms));
	pms[0] = 3;
	pms[1] = 3;
	if (c == NULL || EVP_PKEY_encrypt_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_encrypt(c, out, &n, pms, sizeof(pms)) <= 0)
		n = 0;
	EVP_PKEY_CTX_free(c);
	return n;
}

/* RSA private operations per second (op: ACC_OP_SIGN, PKCS#1 v1.5
 * SHA-256; or ACC_OP_RSA_DECRYPT_PMS) with `per_flush` jobs per flush for
 * `secs`. */
static double
rsa_rate(struct acc_exec *ex, const struct acc_key *key, uint8_t op, unsigned per_flush, double secs)
{
	static uint8_t digest[32], ct[512], out[8][512];
	struct acc_job jobs[8];
	unsigned long done = 0, failed = 0;
	size_t ct_len = 0;
	double t0, t;

	RAND_bytes(digest, sizeof(digest));
	if (op == ACC_OP_RSA_DECRYPT_PMS && (ct_len = pms_ciphertext(key, ct, sizeof(ct))) == 0) {
		fprintf(stderr, "cannot make a premaster ciphertext\n");
		exit(1);
	}
	t0 = bench_now_s();
	do {
		for (unsigned i = 0; i < per_flush; i++) {
			memset(&jobs[i], 0, sizeof(jobs[i]));
			jobs[i].op = op;
			jobs[i].alg = ACC_SIG_RSA_PKCS1_SHA256;
			jobs[i].client_version = 0x0303;
			jobs[i].key = key;
			jobs[i].in = op == ACC_OP_SIGN ? digest : ct;
			jobs[i].in_len = op == ACC_OP_SIGN ? sizeof(digest) : (uint32_t)ct_len;
			jobs[i].out = out[i];
			jobs[i].out_cap = sizeof(out[i]);
			acc_exec_submit(ex, &jobs[i]);
		}
		done += acc_exec_flush(ex, on_done, &failed);
		t = bench_now_s();
	} while (t - t0 < secs);
	if (failed) {
		fprintf(stderr, "%lu RSA operations failed\n", failed);
		exit(1);
	}
	return (double)done / (t - t0);
}

/* X25519 key agreements per second (TLS 1.3 server: keygen + derive in one
 * job, two scalar multiplications), `per_flush` jobs per flush. */
static double
kx_rate(struct acc_exec *ex, unsigned per_flush, double secs)
{
	static uint8_t peer[32], out[8][32], secret[8][32];
	struct acc_job jobs[8];
	struct acc_eph eph[8];
	unsigned long done = 0, failed = 0;
	double t0 = bench_now_s(), t;

	RAND_bytes(peer, sizeof(peer));
	peer[31] &= 0x7f;
	memset(eph, 0, sizeof(eph));
	do {
		for (unsigned i = 0; i < per_flush; i++) {
			acc_eph_clear(&eph[i]);
			memset(&jobs[i], 0, sizeof(jobs[i]));
			jobs[i].op = ACC_OP_KX_KEYGEN_DERIVE;
			jobs[i].alg = ACC_GROUP_X25519;
			jobs[i].eph = &eph[i];
			jobs[i].in = peer;
			jobs[i].in_len = 32;
			jobs[i].out = out[i];
			jobs[i].out_cap = 32;
			jobs[i].secret = secret[i];
			jobs[i].secret_cap = 32;
			acc_exec_submit(ex, &jobs[i]);
		}
		done += acc_exec_flush(ex, on_done, &failed);
		t = bench_now_s();
	} while (t - t0 < secs);
	for (unsigned i = 0; i < 8; i++)
		acc_eph_clear(&eph[i]);
	if (failed) {
		fprintf(stderr, "%lu key agreements failed\n", failed);
		exit(1);
	}
	return (double)done / (t - t0);
}

/* AEAD seals of one 16 KiB record per second, in place: ipsec-mb
 * (acc_imb_aead) or OpenSSL's EVP with the context reused, as the record
 * layer uses them. */
static double
aead_rate(enum acc_aead alg, bool ours, double secs)
{
	static uint8_t buf[16384 + 16], key[32], iv[12], aad[13];
	struct acc_imb_aead *g = ours ? acc_imb_aead_new(alg, key) : NULL;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *cipher = alg == ACC_AEAD_AES_128_GCM ? EVP_aes_128_gcm()
				   : alg == ACC_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
								 : EVP_chacha20_poly1305();
	unsigned long done = 0;
	double t0 = bench_now_s(), t;
	int n;

	if ((ours && g == NULL) || c == NULL || !EVP_EncryptInit_ex2(c, cipher, key, NULL, NULL))
		exit(1);
	do {
		for (int i = 0; i < 16; i++, done++) {
			iv[11]++;
			if (ours) {
				acc_imb_aead_seal(g, iv, aad, sizeof(aad), buf, buf, 16384, buf + 16384);
			} else if (!EVP_EncryptInit_ex2(c, NULL, NULL, iv, NULL) ||
				   !EVP_EncryptUpdate(c, NULL, &n, aad, sizeof(aad)) ||
				   !EVP_EncryptUpdate(c, buf, &n, buf, 16384) || !EVP_EncryptFinal_ex(c, buf + n, &n) ||
				   !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, buf + 16384)) {
				exit(1);
			}
		}
		t = bench_now_s();
	} while (t - t0 < secs);
	acc_imb_aead_free(g);
	EVP_CIPHER_CTX_free(c);
	return (double)done / (t - t0);
}

static struct acc_key *
rsa_key(unsigned bits)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	struct acc_key *key;

	if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) <= 0 ||
	    EVP_PKEY_generate(c, &k) <= 0)
		exit(1);
	EVP_PKEY_CTX_free(c);
	key = acc_key_from_evp(k);
	EVP_PKEY_free(k);
	return key;
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct acc_exec *ours, *ossl;
	static const unsigned sizes[] = { 2048, 3072, 4096 };

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS || secs <= 0) {
		fprintf(stderr, "usage: %s [seconds per round] [rounds 1..%d]\n", argv[0], BENCH_MAX_ROUNDS);
		return 2;
	}
	if (!acc_ifma_available()) {
		printf("no AVX-512 IFMA on this CPU: nothing to compare\n");
		return 0;
	}
	ours = acc_exec_new("ifma");
	ossl = acc_exec_new("openssl");
	if (ours == NULL || ossl == NULL)
		return 1;
	printf("# one core, median of %d rounds of %.2f s, backends alternating\n", rounds, secs);
	printf("%-22s %12s %12s %8s\n", "operation", "ours/s", "openssl/s", "ratio");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct acc_key *key = rsa_key(sizes[s]);
		double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS], ra, rb;
		char name[64];

		for (int r = 0; r < rounds; r++) {
			a[r] = rsa_rate(ours, key, ACC_OP_SIGN, 8, secs);
			b[r] = rsa_rate(ossl, key, ACC_OP_SIGN, 8, secs);
		}
		ra = bench_median(a, rounds);
		rb = bench_median(b, rounds);
		snprintf(name, sizeof(name), "RSA-%u sign (8/flush)", sizes[s]);
		printf("%-22s %12.0f %12.0f %8.2f\n", name, ra, rb, ra / rb);
		{
			printf("  partial batches, RSA-%u: microseconds per flush of k jobs\n", sizes[s]);
			printf("  %4s %10s %10s\n", "k", "ours", "openssl");
			for (unsigned k = 1; k <= 8; k += sizes[s] == 2048 ? 1 : 3) {
				for (int r = 0; r < rounds; r++) {
					a[r] = rsa_rate(ours, key, ACC_OP_SIGN, k, secs / 3);
					b[r] = rsa_rate(ossl, key, ACC_OP_SIGN, k, secs / 3);
				}
				printf("  %4u %10.0f %10.0f\n", k, 1e6 * k / bench_median(a, rounds),
				       1e6 * k / bench_median(b, rounds));
			}
		}
		if (sizes[s] == 2048) { /* static RSA: the premaster decryption */
			for (int r = 0; r < rounds; r++) {
				a[r] = rsa_rate(ours, key, ACC_OP_RSA_DECRYPT_PMS, 8, secs);
				b[r] = rsa_rate(ossl, key, ACC_OP_RSA_DECRYPT_PMS, 8, secs);
			}
			ra = bench_median(a, rounds);
			rb = bench_median(b, rounds);
			printf("%-22s %12.0f %12.0f %8.2f\n", "RSA-2048 TLS premaster", ra, rb, ra / rb);
		}
		acc_key_free(key);
	}
	{
		double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS], ra, rb;

		for (int r = 0; r < rounds; r++) {
			a[r] = kx_rate(ours, 8, secs);
			b[r] = kx_rate(ossl, 8, secs);
		}
		ra = bench_median(a, rounds);
		rb = bench_median(b, rounds);
		printf("%-22s %12.0f %12.0f %8.2f\n", "X25519 keygen+derive", ra, rb, ra / rb);
		printf("  partial batches, X25519 keygen+derive: microseconds per flush of k jobs\n");
		printf("  %4s %10s %10s\n", "k", "ours", "openssl");
		for (unsigned k = 1; k <= 8; k++) {
			for (int r = 0; r < rounds; r++) {
				a[r] = kx_rate(ours, k, secs / 3);
				b[r] = kx_rate(ossl, k, secs / 3);
			}
			printf("  %4u %10.1f %10.1f\n", k, 1e6 * k / bench_median(a, rounds), 1e6 * k / bench_median(b, rounds));
		}
	}
	if (acc_imb_aead_impl() != NULL) {
		static const struct {
			enum acc_aead alg;
			const char *name;
		} aeads[] = {
			{ACC_AEAD_AES_128_GCM, "AES-128-GCM 16 KiB"},
			{ACC_AEAD_AES_256_GCM, "AES-256-GCM 16 KiB"},
			{ACC_AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305 16K"},
		};

		for (size_t x = 0; x < sizeof(aeads) / sizeof(aeads[0]); x++) {
			double a[BENCH_MAX_ROUNDS], b[BENCH_MAX_ROUNDS], ra, rb;

			for (int r = 0; r < rounds; r++) {
				a[r] = aead_rate(aeads[x].alg, true, secs);
				b[r] = aead_rate(aeads[x].alg, false, secs);
			}
			ra = bench_median(a, rounds);
			rb = bench_median(b, rounds);
			printf("%-22s %12.0f %12.0f %8.2f   (%s: %.1f GB/s, EVP %.1f GB/s)\n", aeads[x].name, ra, rb,
			       ra / rb, acc_imb_aead_impl(), ra * 16384 / 1e9, rb * 16384 / 1e9);
		}
	} else {
		printf("AEAD: ipsec-mb not available\n");
	}
	acc_exec_free(ours);
	acc_exec_free(ossl);
	return 0;
}
