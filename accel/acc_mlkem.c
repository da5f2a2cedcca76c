/* ML-KEM-768 (acc_mlkem.h), written from FIPS 203 sections 5 to 7. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acc_ct.h"
#include "acc_mlkem.h"
#include "acc_mlkem_poly.h"

/* ML-KEM-768 parameters (Table 2): k = 3, eta1 = eta2 = 2, du = 10, dv = 4. */
#define K 3
#define DU 10
#define DV 4
#define POLY_BYTES 384                 /* ByteEncode12 of one polynomial */
#define PKE_BYTES (K * POLY_BYTES)     /* 1152: t-hat in ek, s-hat in dk */
#define CT_U_BYTES (K * 32 * DU)       /* 960 */
#define PRF_BYTES 128                  /* PRF_eta output, 64 * eta */
#define XOF_BLOCK 168                  /* SHAKE128 rate */

struct acc_mlkem {
	EVP_MD *sha3_256; /* H */
	EVP_MD *sha3_512; /* G */
	EVP_MD *shake128; /* XOF */
	EVP_MD *shake256; /* PRF and J */
	EVP_MD_CTX *ctx;
};

struct acc_mlkem *
acc_mlkem_new(void)
{
	struct acc_mlkem *mk = calloc(1, sizeof(*mk));

	if (mk == NULL)
		return NULL;
	mk->sha3_256 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
	mk->sha3_512 = EVP_MD_fetch(NULL, "SHA3-512", NULL);
	mk->shake128 = EVP_MD_fetch(NULL, "SHAKE128", NULL);
	mk->shake256 = EVP_MD_fetch(NULL, "SHAKE256", NULL);
	mk->ctx = EVP_MD_CTX_new();
	if (mk->sha3_256 == NULL || mk->sha3_512 == NULL || mk->shake128 == NULL || mk->shake256 == NULL ||
	    mk->ctx == NULL) {
		acc_mlkem_free(mk);
		return NULL;
	}
	return mk;
}

void
acc_mlkem_free(struct acc_mlkem *mk)
{
	if (mk == NULL)
		return;
	EVP_MD_free(mk->sha3_256);
	EVP_MD_free(mk->sha3_512);
	EVP_MD_free(mk->shake128);
	EVP_MD_free(mk->shake256);
	EVP_MD_CTX_free(mk->ctx);
	free(mk);
}

/* md(a || b), out_len bytes (an XOF when out_len differs from the
 * digest's size). The context is reused: no allocation per call. */
static int
hash2(struct acc_mlkem *mk, const EVP_MD *md, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
      uint8_t *out, size_t out_len)
{
	bool xof = md == mk->shake128 || md == mk->shake256;

	if (EVP_DigestInit_ex2(mk->ctx, md, NULL) != 1 || EVP_DigestUpdate(mk->ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(mk->ctx, b, blen) != 1))
		return -1;
	if (xof)
		return EVP_DigestFinalXOF(mk->ctx, out, out_len) == 1 ? 0 : -1;
	return EVP_DigestFinal_ex(mk->ctx, out, NULL) == 1 ? 0 : -1;
}

/* PRF_eta(s, b) (4.3): SHAKE256(s || b), 128 bytes, sampled by CBD. */
static int
prf_cbd(struct acc_mlkem *mk, const uint8_t s[32], uint8_t nonce, struct acc_mlkem_poly *f)
{
	uint8_t buf[PRF_BYTES];
	int rc = hash2(mk, mk->shake256, s, 32, &nonce, 1, buf, sizeof(buf));

	if (rc == 0)
		acc_mlkem_poly_cbd2(f, buf);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* K polynomials sampled from seed s with consecutive nonces. */
static int
prf_cbd_vec(struct acc_mlkem *mk, const uint8_t s[32], uint8_t *nonce, struct acc_mlkem_poly f[K])
{
	for (unsigned i = 0; i < K; i++)
		if (prf_cbd(mk, s, (*nonce)++, &f[i]) != 0)
			return -1;
	return 0;
}

/* A-hat[i][j] = SampleNTT(rho || j || i) (Algorithms 13 and 14). OpenSSL
 * 3.0 squeezes a SHAKE once, so a stream too short for 256 coefficients
 * is squeezed again, longer, and sampling resumes where it stopped (the
 * longer stream begins with the shorter one). Three blocks are short with
 * a probability near 2^-30; 24 blocks, never in practice: -1 then. */
static int
gen_matrix(struct acc_mlkem *mk, const uint8_t rho[32], struct acc_mlkem_poly a[K][K])
{
	static const size_t lens[] = { 3 * XOF_BLOCK, 8 * XOF_BLOCK, 24 * XOF_BLOCK };
	uint8_t buf[24 * XOF_BLOCK];

	for (unsigned i = 0; i < K; i++) {
		for (unsigned j = 0; j < K; j++) {
			uint8_t idx[2] = { (uint8_t)j, (uint8_t)i };
			size_t filled = 0, used = 0;

			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]) && filled < ACC_MLKEM_N; l++) {
				if (hash2(mk, mk->shake128, rho, 32, idx, 2, buf, lens[l]) != 0)
					return -1;
				used += acc_mlkem_poly_sample_ntt(&a[i][j], &filled, buf + used, lens[l] - used);
			}
			if (filled < ACC_MLKEM_N)
				return -1;
		}
	}
	return 0;
}

/* K-PKE.Encrypt (Algorithm 14): ek is checked by the caller. */
static int
pke_encrypt(struct acc_mlkem *mk, const uint8_t ek[ACC_MLKEM768_EK_LEN], const uint8_t m[32], const uint8_t r[32],
	    uint8_t ct[ACC_MLKEM768_CT_LEN])
{
	struct acc_mlkem_poly a[K][K], t[K], y[K], e1[K], e2, u, v, mu;
	uint8_t nonce = 0;
	int rc = -1;

	for (unsigned i = 0; i < K; i++)
		acc_mlkem_poly_decode12(&t[i], ek + i * POLY_BYTES);
	if (gen_matrix(mk, ek + PKE_BYTES, a) != 0)
		goto out;
	if (prf_cbd_vec(mk, r, &nonce, y) != 0 || prf_cbd_vec(mk, r, &nonce, e1) != 0 ||
	    prf_cbd(mk, r, nonce, &e2) != 0)
		goto out;
	for (unsigned i = 0; i < K; i++)
		acc_mlkem_poly_ntt(&y[i]);
	/* u = NTT^-1(A-hat^T o y-hat) + e1 */
	for (unsigned i = 0; i < K; i++) {
		memset(&u, 0, sizeof(u));
		for (unsigned j = 0; j < K; j++)
			acc_mlkem_poly_mul_acc(&u, &a[j][i], &y[j]);
		acc_mlkem_poly_invntt(&u);
		acc_mlkem_poly_add(&u, &e1[i]);
		acc_mlkem_poly_compress(ct + i * 32 * DU, &u, DU);
	}
	/* v = NTT^-1(t-hat^T o y-hat) + e2 + Decompress_1(m) */
	memset(&v, 0, sizeof(v));
	for (unsigned j = 0; j < K; j++)
		acc_mlkem_poly_mul_acc(&v, &t[j], &y[j]);
	acc_mlkem_poly_invntt(&v);
	acc_mlkem_poly_add(&v, &e2);
	acc_mlkem_poly_decompress(&mu, m, 1);
	acc_mlkem_poly_add(&v, &mu);
	acc_mlkem_poly_compress(ct + CT_U_BYTES, &v, DV);
	rc = 0;
out:
	OPENSSL_cleanse(y, sizeof(y));
	OPENSSL_cleanse(e1, sizeof(e1));
	OPENSSL_cleanse(&e2, sizeof(e2));
	OPENSSL_cleanse(&u, sizeof(u));
	OPENSSL_cleanse(&v, sizeof(v));
	OPENSSL_cleanse(&mu, sizeof(mu));
	return rc;
}

/* K-PKE.Decrypt (Algorithm 15). */
static void
pke_decrypt(const uint8_t dk_pke[PKE_BYTES], const uint8_t ct[ACC_MLKEM768_CT_LEN], uint8_t m[32])
{
	struct acc_mlkem_poly s, u, w, v;

	memset(&w, 0, sizeof(w));
	for (unsigned i = 0; i < K; i++) {
		acc_mlkem_poly_decompress(&u, ct + i * 32 * DU, DU);
		acc_mlkem_poly_ntt(&u);
		acc_mlkem_poly_decode12(&s, dk_pke + i * POLY_BYTES);
		acc_mlkem_poly_mul_acc(&w, &s, &u);
	}
	acc_mlkem_poly_invntt(&w);
	acc_mlkem_poly_decompress(&v, ct + CT_U_BYTES, DV);
	acc_mlkem_poly_sub(&v, &w); /* w = v - NTT^-1(s-hat^T o NTT(u)) */
	acc_mlkem_poly_compress(m, &v, 1);
	OPENSSL_cleanse(&s, sizeof(s));
	OPENSSL_cleanse(&w, sizeof(w));
	OPENSSL_cleanse(&v, sizeof(v));
}

/* K-PKE.KeyGen (Algorithm 13) and ML-KEM.KeyGen_internal (Algorithm 16):
 * dk = dk_pke || ek || H(ek) || z. */
int
acc_mlkem768_keygen(struct acc_mlkem *mk, const uint8_t *d, const uint8_t *z, uint8_t ek[ACC_MLKEM768_EK_LEN],
		    uint8_t dk[ACC_MLKEM768_DK_LEN])
{
	struct acc_mlkem_poly a[K][K], s[K], e[K], t;
	uint8_t seeds[64], rnd[64], kbyte = K, nonce = 0;
	const uint8_t *sigma = seeds + 32;
	int rc = -1;

	if (d == NULL || z == NULL) {
		if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
			goto out;
		d = d != NULL ? d : rnd;
		z = z != NULL ? z : rnd + 32;
	}
	/* (rho, sigma) = G(d || k) */
	if (hash2(mk, mk->sha3_512, d, 32, &kbyte, 1, seeds, sizeof(seeds)) != 0 || gen_matrix(mk, seeds, a) != 0)
		goto out;
	if (prf_cbd_vec(mk, sigma, &nonce, s) != 0 || prf_cbd_vec(mk, sigma, &nonce, e) != 0)
		goto out;
	for (unsigned i = 0; i < K; i++) {
		acc_mlkem_poly_ntt(&s[i]);
		acc_mlkem_poly_ntt(&e[i]);
	}
	for (unsigned i = 0; i < K; i++) {
		memset(&t, 0, sizeof(t));
		for (unsigned j = 0; j < K; j++)
			acc_mlkem_poly_mul_acc(&t, &a[i][j], &s[j]);
		acc_mlkem_poly_add(&t, &e[i]);
		acc_mlkem_poly_encode12(ek + i * POLY_BYTES, &t);
		acc_mlkem_poly_encode12(dk + i * POLY_BYTES, &s[i]);
	}
	memcpy(ek + PKE_BYTES, seeds, 32);
	memcpy(dk + PKE_BYTES, ek, ACC_MLKEM768_EK_LEN);
	if (hash2(mk, mk->sha3_256, ek, ACC_MLKEM768_EK_LEN, NULL, 0, dk + PKE_BYTES + ACC_MLKEM768_EK_LEN, 32) != 0)
		goto out;
	memcpy(dk + ACC_MLKEM768_DK_LEN - 32, z, 32);
	rc = 0;
out:
	OPENSSL_cleanse(seeds, sizeof(seeds));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(s, sizeof(s));
	OPENSSL_cleanse(e, sizeof(e));
	return rc;
}

/* ML-KEM.Encaps (Algorithms 17 and 20) with the checks of 7.2. */
int
acc_mlkem768_encaps(struct acc_mlkem *mk, const uint8_t *ek, size_t ek_len, const uint8_t *m,
		    uint8_t ct[ACC_MLKEM768_CT_LEN], uint8_t ss[ACC_MLKEM_SS_LEN])
{
	uint8_t h[32], kr[64], rnd[32];
	int rc = -1;

	/* 7.2: the type check (length), then the modulus check */
	if (ek_len != ACC_MLKEM768_EK_LEN)
		return -2;
	for (unsigned i = 0; i < K; i++)
		if (!acc_mlkem_poly_is_reduced12(ek + i * POLY_BYTES))
			return -2;
	if (m == NULL) {
		if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1)
			goto out;
		m = rnd;
	}
	/* (K, r) = G(m || H(ek)) */
	if (hash2(mk, mk->sha3_256, ek, ek_len, NULL, 0, h, sizeof(h)) != 0 ||
	    hash2(mk, mk->sha3_512, m, 32, h, sizeof(h), kr, sizeof(kr)) != 0 ||
	    pke_encrypt(mk, ek, m, kr + 32, ct) != 0)
		goto out;
	memcpy(ss, kr, ACC_MLKEM_SS_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(kr, sizeof(kr));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rc;
}

/* ML-KEM.Decaps (Algorithms 18 and 21) with the checks of 7.3. The
 * re-encryption is compared in constant time and the secret selected
 * with a mask: whether the ciphertext was valid stays hidden. */
int
acc_mlkem768_decaps(struct acc_mlkem *mk, const uint8_t *dk, size_t dk_len, const uint8_t *ct, size_t ct_len,
		    uint8_t ss[ACC_MLKEM_SS_LEN])
{
	const uint8_t *ek = dk + PKE_BYTES, *h = ek + ACC_MLKEM768_EK_LEN, *z = h + 32;
	uint8_t m[32], kr[64], kbar[32], hcheck[32], ct2[ACC_MLKEM768_CT_LEN];
	size_t mask;
	int rc = -1;

	if (dk_len != ACC_MLKEM768_DK_LEN || ct_len != ACC_MLKEM768_CT_LEN)
		return -2;
	if (hash2(mk, mk->sha3_256, ek, ACC_MLKEM768_EK_LEN, NULL, 0, hcheck, sizeof(hcheck)) != 0)
		return -1;
	if (CRYPTO_memcmp(hcheck, h, 32) != 0)
		return -2; /* 7.3 hash check: dk is not a well-formed key */
	pke_decrypt(dk, ct, m);
	if (hash2(mk, mk->sha3_512, m, 32, h, 32, kr, sizeof(kr)) != 0 ||
	    hash2(mk, mk->shake256, z, 32, ct, ct_len, kbar, sizeof(kbar)) != 0 ||
	    pke_encrypt(mk, ek, m, kr + 32, ct2) != 0)
		goto out;
	mask = acc_ct_is_zero((size_t)CRYPTO_memcmp(ct, ct2, sizeof(ct2)));
	for (unsigned i = 0; i < ACC_MLKEM_SS_LEN; i++)
		ss[i] = (uint8_t)((kr[i] & mask) | (kbar[i] & ~mask));
	rc = 0;
out:
	OPENSSL_cleanse(m, sizeof(m));
	OPENSSL_cleanse(kr, sizeof(kr));
	OPENSSL_cleanse(kbar, sizeof(kbar));
	return rc;
}
