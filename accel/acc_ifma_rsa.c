/* RSA private operations on the IFMA lanes (acc_ifma_rsa.h).
 *
 * One operation is two half-size exponentiations (CRT): x^dp mod p and
 * x^dq mod q. Both halves of up to four operations fill the eight lanes of
 * one pass, so a lone handshake pays one pass, and eight pay two. The
 * recombination, blinding and check are scalar libcrypto BIGNUM work
 * (a few microseconds against the exponentiations' hundreds). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "acc_ifma.h"
#include "acc_ifma_rsa.h"

#define BLIND_SLOTS 4

static _Atomic uint64_t acc_ifma_rsa_key_ids;
#define BLIND_REFRESH 256 /* uses of one blinding pair (squared in between) before a fresh one: the inversion costs about a millisecond */

/* A modulus in the lanes' form: limbs, R^2 mod m, -m^-1 mod 2^52. */
struct acc_ifma_mont {
	uint64_t mod[ACC_IFMA_MAX_LIMBS];
	uint64_t rr[ACC_IFMA_MAX_LIMBS];
	uint64_t k0;
};

struct acc_ifma_half {
	BIGNUM *p;       /* the prime */
	BN_MONT_CTX *mont; /* libcrypto's Montgomery form mod p, radix R_p */
	struct acc_ifma_mont m;
	uint64_t exp[ACC_IFMA_MAX_EXP_WORDS];
};

struct acc_ifma_rsa_key {
	uint64_t id;     /* unique for the process: a freed key's address may come back */
	size_t n;        /* limbs per half */
	size_t bytes;    /* of the modulus */
	size_t exp_bits;
	struct acc_ifma_half half[2];
	/* n itself, for checking results on the lanes when it fits them
	 * (RSA-2048: 40 limbs) and e fits a word; else check_n is 0 and
	 * libcrypto checks */
	struct acc_ifma_mont full;
	size_t check_n;
	uint64_t e64;
	BIGNUM *nn, *e, *qinv; /* qinv in Montgomery form mod p */
	BN_MONT_CTX *mont_n;
};

/* The work around the lanes is done in libcrypto's Montgomery forms, so
 * that no step divides (BN_mod_mul and BN_nnmod divide, in constant time,
 * and cost about as much as a tenth of the exponentiation): the blinding
 * pair is kept as a R and a^-1 R mod n, the halves' inputs are reduced
 * by BN_from_montgomery then BN_to_montgomery (x / R_p mod p, then x mod
 * p: two 1024-bit multiplications), and qinv is kept as qinv R_p mod p. */

struct acc_ifma_blind {
	uint64_t key_id; /* 0: unused */
	BIGNUM *a, *ai;  /* r^e and r^-1 mod n, both in Montgomery form */
	unsigned uses;
};

struct acc_ifma_rsa {
	struct acc_ifma_batch *b;
	BN_CTX *ctx;
	struct acc_ifma_blind blind[BLIND_SLOTS];
	size_t next_blind;
};

static void
acc_ifma_bn_limbs(const BIGNUM *x, uint64_t *limbs, size_t stride, size_t n)
{
	uint8_t le[ACC_IFMA_MAX_LIMBS * 52 / 8 + 8];

	BN_bn2lebinpad(x, le, (int)sizeof(le));
	acc_ifma_from_bytes(limbs, stride, n, 52, le, sizeof(le));
	OPENSSL_cleanse(le, sizeof(le));
}

static int
acc_ifma_mont_init(struct acc_ifma_mont *mt, const BIGNUM *m, size_t n, BN_CTX *ctx)
{
	BIGNUM *rr = BN_new();
	int ok = rr != NULL && BN_set_bit(rr, (int)(2 * 52 * n)) && BN_mod(rr, rr, m, ctx);

	if (ok) {
		acc_ifma_bn_limbs(m, mt->mod, 1, n);
		acc_ifma_bn_limbs(rr, mt->rr, 1, n);
		mt->k0 = acc_ifma_k0(mt->mod[0]);
	}
	BN_free(rr);
	return ok;
}

/* Half h for the prime p (h owns p on success) and exponent d. */
static int
acc_ifma_half_init(struct acc_ifma_half *h, BIGNUM *p, const BIGNUM *d, size_t n, BN_CTX *ctx)
{
	uint8_t le[ACC_IFMA_MAX_EXP_WORDS * 8];
	int ok;

	BN_set_flags(p, BN_FLG_CONSTTIME);
	h->mont = BN_MONT_CTX_new();
	ok = h->mont != NULL && BN_MONT_CTX_set(h->mont, p, ctx) && acc_ifma_mont_init(&h->m, p, n, ctx) &&
	     BN_bn2lebinpad(d, le, (int)sizeof(le)) == (int)sizeof(le);
	if (ok) {
		for (size_t w = 0; w < ACC_IFMA_MAX_EXP_WORDS; w++) {
			uint64_t v = 0;
			for (int k = 7; k >= 0; k--)
				v = v << 8 | le[8 * w + (size_t)k];
			h->exp[w] = v;
		}
		h->p = p;
	}
	OPENSSL_cleanse(le, sizeof(le));
	return ok;
}

struct acc_ifma_rsa_key *
acc_ifma_rsa_key_new(EVP_PKEY *pkey)
{
	struct acc_ifma_rsa_key *k;
	BIGNUM *p = NULL, *q = NULL, *dp = NULL, *dq = NULL, *r3 = NULL;
	BN_CTX *ctx = NULL;
	int bits = EVP_PKEY_get_bits(pkey), pbits;
	bool ok = false;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || bits < 2048 || bits > 4096)
		return NULL;
	/* two primes only */
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3, &r3) == 1) {
		BN_free(r3);
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	ctx = BN_CTX_new();
	if (k == NULL || ctx == NULL)
		goto out;
	k->id = atomic_fetch_add(&acc_ifma_rsa_key_ids, 1) + 1;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &k->nn) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &k->e) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, &p) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, &q) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1, &dp) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2, &dq) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &k->qinv) != 1)
		goto out;
	pbits = BN_num_bits(p) > BN_num_bits(q) ? BN_num_bits(p) : BN_num_bits(q);
	/* almost-Montgomery needs 4m < R = 2^(52 n) */
	k->n = ((size_t)pbits + 2 + 51) / 52;
	k->bytes = (size_t)(bits + 7) / 8;
	k->exp_bits = (size_t)pbits;
	if (k->n > ACC_IFMA_MAX_LIMBS || !BN_is_odd(p) || !BN_is_odd(q) ||
	    BN_num_bits(dp) > pbits || BN_num_bits(dq) > pbits)
		goto out;
	BN_set_flags(k->qinv, BN_FLG_CONSTTIME);
	if (!acc_ifma_half_init(&k->half[0], p, dp, k->n, ctx))
		goto out;
	p = NULL;
	if (!acc_ifma_half_init(&k->half[1], q, dq, k->n, ctx))
		goto out;
	q = NULL;
	k->mont_n = BN_MONT_CTX_new();
	ok = k->mont_n != NULL && BN_MONT_CTX_set(k->mont_n, k->nn, ctx) &&
	     BN_to_montgomery(k->qinv, k->qinv, k->half[0].mont, ctx);
	/* the check on the lanes: n below 2^(52 n - 2) in at most 40 limbs */
	if (ok && (size_t)bits + 2 <= 52 * ACC_IFMA_MAX_LIMBS && BN_num_bits(k->e) <= 64 && BN_is_odd(k->e) &&
	    !BN_is_one(k->e)) {
		k->check_n = ((size_t)bits + 2 + 51) / 52;
		k->e64 = BN_get_word(k->e);
		ok = acc_ifma_mont_init(&k->full, k->nn, k->check_n, ctx);
	}
out:
	BN_clear_free(p);
	BN_clear_free(q);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_CTX_free(ctx);
	if (!ok) {
		acc_ifma_rsa_key_free(k);
		return NULL;
	}
	return k;
}

void
acc_ifma_rsa_key_free(struct acc_ifma_rsa_key *k)
{
	if (k == NULL)
		return;
	for (int h = 0; h < 2; h++) {
		BN_clear_free(k->half[h].p);
		BN_MONT_CTX_free(k->half[h].mont);
	}
	BN_free(k->nn);
	BN_free(k->e);
	BN_clear_free(k->qinv);
	BN_MONT_CTX_free(k->mont_n);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

void
acc_ifma_rsa_key_inject_fault(struct acc_ifma_rsa_key *k)
{
	k->half[0].exp[0] ^= 2;
}

size_t
acc_ifma_rsa_key_bytes(const struct acc_ifma_rsa_key *k)
{
	return k->bytes;
}

struct acc_ifma_rsa *
acc_ifma_rsa_new(void)
{
	struct acc_ifma_rsa *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->b = aligned_alloc(64, sizeof(*r->b));
	r->ctx = BN_CTX_secure_new();
	if (r->b == NULL || r->ctx == NULL) {
		acc_ifma_rsa_free(r);
		return NULL;
	}
	memset(r->b, 0, sizeof(*r->b));
	return r;
}

void
acc_ifma_rsa_free(struct acc_ifma_rsa *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < BLIND_SLOTS; i++) {
		BN_clear_free(r->blind[i].a);
		BN_clear_free(r->blind[i].ai);
	}
	if (r->b != NULL)
		OPENSSL_cleanse(r->b, sizeof(*r->b));
	free(r->b);
	BN_CTX_free(r->ctx);
	free(r);
}

/* This worker's blinding pair for k, fresh every BLIND_REFRESH uses and
 * squared in between (as libcrypto's BN_BLINDING does). */
static struct acc_ifma_blind *
acc_ifma_blinding(struct acc_ifma_rsa *r, const struct acc_ifma_rsa_key *k)
{
	struct acc_ifma_blind *bl = NULL;

	for (size_t i = 0; i < BLIND_SLOTS && bl == NULL; i++)
		if (r->blind[i].key_id == k->id)
			bl = &r->blind[i];
	if (bl == NULL) {
		bl = &r->blind[r->next_blind];
		r->next_blind = (r->next_blind + 1) % BLIND_SLOTS;
		bl->key_id = k->id;
		bl->uses = BLIND_REFRESH;
	}
	if (bl->a == NULL && ((bl->a = BN_new()) == NULL || (bl->ai = BN_new()) == NULL))
		return NULL;
	if (bl->uses >= BLIND_REFRESH) {
		BIGNUM *rnd = BN_CTX_get(r->ctx);
		bool ok = false;

		for (int tries = 0; rnd != NULL && tries < 8 && !ok; tries++)
			ok = BN_priv_rand_range(rnd, k->nn) && !BN_is_zero(rnd) &&
			     BN_mod_inverse(bl->ai, rnd, k->nn, r->ctx) != NULL;
		if (!ok || !BN_mod_exp_mont(bl->a, rnd, k->e, k->nn, r->ctx, k->mont_n) ||
		    !BN_to_montgomery(bl->a, bl->a, k->mont_n, r->ctx) ||
		    !BN_to_montgomery(bl->ai, bl->ai, k->mont_n, r->ctx))
			return NULL;
		BN_clear(rnd);
		bl->uses = 0;
	} else if (!BN_mod_mul_montgomery(bl->a, bl->a, bl->a, k->mont_n, r->ctx) ||
		   !BN_mod_mul_montgomery(bl->ai, bl->ai, bl->ai, k->mont_n, r->ctx)) {
		return NULL;
	}
	bl->uses++;
	return bl;
}

/* Lane l of the batch: modulus mt of n limbs, base x. */
static void
acc_ifma_lane_load(struct acc_ifma_batch *b, size_t l, const struct acc_ifma_mont *mt, size_t n, const BIGNUM *x)
{
	for (size_t i = 0; i < n; i++) {
		b->mod[i][l] = mt->mod[i];
		b->rr[i][l] = mt->rr[i];
	}
	b->k0[l] = mt->k0;
	acc_ifma_bn_limbs(x, &b->base[0][l], ACC_IFMA_LANES, n);
}

/* Run the halves hx[0..nh) (operation i's half h is hx[2i + h]) through
 * the lanes, results into res[]. */
static void
acc_ifma_run_halves(struct acc_ifma_rsa *r, const struct acc_ifma_rsa_key *k, BIGNUM **hx, BIGNUM **res,
		    const int *which, size_t nh)
{
	struct acc_ifma_batch *b = r->b;
	uint8_t le[ACC_IFMA_MAX_LIMBS * 52 / 8 + 8];
	size_t len = (k->n * 52 + 7) / 8;

	b->n = k->n;
	b->exp_bits = k->exp_bits;
	for (size_t start = 0; start < nh; start += ACC_IFMA_LANES) {
		for (size_t l = 0; l < ACC_IFMA_LANES; l++) {
			size_t src = start + l < nh ? start + l : start; /* idle lanes repeat one */
			const struct acc_ifma_half *h = &k->half[which[src]];

			acc_ifma_lane_load(b, l, &h->m, k->n, hx[src]);
			memcpy(b->exp[l], h->exp, sizeof(h->exp));
		}
		acc_ifma_modexp(b);
		for (size_t l = 0; l < ACC_IFMA_LANES && start + l < nh; l++) {
			acc_ifma_to_bytes(&b->out[0][l], ACC_IFMA_LANES, k->n, 52, le, len);
			BN_lebin2bn(le, (int)len, res[start + l]);
		}
	}
	OPENSSL_cleanse(le, sizeof(le));
	OPENSSL_cleanse(b->exp, sizeof(b->exp));
	OPENSSL_cleanse(b->base, sizeof(b->base));
	OPENSSL_cleanse(b->out, sizeof(b->out));
}

/* good[j] = (s[j]^e == x[j] mod n) for the j < cnt with have[j], in one
 * pass of the lanes (n in k->check_n limbs): 16 squarings for e = 65537
 * where libcrypto's BN_mod_exp_mont took one 2048-bit exponentiation per
 * result (measured: RSA-2048 signatures +8 % per core). */
_Static_assert(ACC_IFMA_RSA_MAX <= ACC_IFMA_LANES, "one check pass per call");
static void
acc_ifma_check_lanes(struct acc_ifma_rsa *r, const struct acc_ifma_rsa_key *k, BIGNUM *const *s,
		     BIGNUM *const *x, const bool *have, size_t cnt, bool *good)
{
	struct acc_ifma_batch *b = r->b;
	uint64_t want[ACC_IFMA_MAX_LIMBS];
	size_t first = 0;

	while (first < cnt && !have[first])
		first++;
	if (first == cnt)
		return;
	b->n = k->check_n;
	for (size_t l = 0; l < ACC_IFMA_LANES; l++) /* idle lanes repeat one */
		acc_ifma_lane_load(b, l, &k->full, k->check_n, s[l < cnt && have[l] ? l : first]);
	acc_ifma_modexp_public(b, k->e64);
	for (size_t j = 0; j < cnt; j++) {
		uint64_t diff = 0;

		if (!have[j])
			continue;
		acc_ifma_bn_limbs(x[j], want, 1, k->check_n);
		for (size_t i = 0; i < k->check_n; i++)
			diff |= b->out[i][j] ^ want[i];
		good[j] = diff == 0;
	}
	OPENSSL_cleanse(b->base, sizeof(b->base));
	OPENSSL_cleanse(b->out, sizeof(b->out));
}

size_t
acc_ifma_rsa_private(struct acc_ifma_rsa *r, const struct acc_ifma_rsa_key *k, size_t count,
		     const uint8_t *const *in, uint8_t *const *out, bool *ok)
{
	BIGNUM *x[ACC_IFMA_RSA_MAX], *ai[ACC_IFMA_RSA_MAX], *hx[2 * ACC_IFMA_RSA_MAX], *res[2 * ACC_IFMA_RSA_MAX];
	BIGNUM *s[ACC_IFMA_RSA_MAX];
	bool crt[ACC_IFMA_RSA_MAX], good[ACC_IFMA_RSA_MAX];
	size_t op[ACC_IFMA_RSA_MAX], nops = 0, faults = 0;
	int which[2 * ACC_IFMA_RSA_MAX];
	BIGNUM *t, *chk;
	BN_CTX *ctx = r->ctx;

	if (count > ACC_IFMA_RSA_MAX)
		count = ACC_IFMA_RSA_MAX;
	BN_CTX_start(ctx);
	t = BN_CTX_get(ctx);
	chk = BN_CTX_get(ctx);
	for (size_t i = 0; i < count; i++) {
		struct acc_ifma_blind *bl;
		BIGNUM *xb;

		ok[i] = false;
		x[nops] = BN_CTX_get(ctx);
		ai[nops] = BN_CTX_get(ctx);
		hx[2 * nops] = BN_CTX_get(ctx);
		hx[2 * nops + 1] = BN_CTX_get(ctx);
		res[2 * nops] = BN_CTX_get(ctx);
		res[2 * nops + 1] = BN_CTX_get(ctx);
		xb = t;
		if (res[2 * nops + 1] == NULL || BN_bin2bn(in[i], (int)k->bytes, x[nops]) == NULL ||
		    BN_cmp(x[nops], k->nn) >= 0 || (bl = acc_ifma_blinding(r, k)) == NULL ||
		    BN_copy(ai[nops], bl->ai) == NULL || !BN_mod_mul_montgomery(xb, x[nops], bl->a, k->mont_n, ctx))
			continue;
		BN_set_flags(xb, BN_FLG_CONSTTIME);
		/* xb mod p as (xb / R_p) R_p (xb < n < p R_p), and mod q */
		if (!BN_from_montgomery(hx[2 * nops], xb, k->half[0].mont, ctx) ||
		    !BN_to_montgomery(hx[2 * nops], hx[2 * nops], k->half[0].mont, ctx) ||
		    !BN_from_montgomery(hx[2 * nops + 1], xb, k->half[1].mont, ctx) ||
		    !BN_to_montgomery(hx[2 * nops + 1], hx[2 * nops + 1], k->half[1].mont, ctx))
			continue;
		which[2 * nops] = 0;
		which[2 * nops + 1] = 1;
		op[nops++] = i;
	}
	acc_ifma_run_halves(r, k, hx, res, which, 2 * nops);
	for (size_t j = 0; j < nops; j++) {
		BIGNUM *m1 = res[2 * j], *m2 = res[2 * j + 1];

		s[j] = hx[2 * j];
		good[j] = false;
		BN_set_flags(m1, BN_FLG_CONSTTIME);
		BN_set_flags(m2, BN_FLG_CONSTTIME);
		/* s = m2 + q * (qinv (m1 - m2) mod p), then unblinded */
		crt[j] = BN_mod_sub(t, m1, m2, k->half[0].p, ctx) &&
			 BN_mod_mul_montgomery(t, t, k->qinv, k->half[0].mont, ctx) &&
			 BN_mul(t, t, k->half[1].p, ctx) && BN_add(s[j], t, m2) &&
			 BN_mod_mul_montgomery(s[j], s[j], ai[j], k->mont_n, ctx);
	}
	/* the check: s^e == x mod n */
	if (k->check_n != 0)
		acc_ifma_check_lanes(r, k, s, x, crt, nops, good);
	else
		for (size_t j = 0; j < nops; j++)
			good[j] = crt[j] && BN_mod_exp_mont(chk, s[j], k->e, k->nn, ctx, k->mont_n) &&
				  BN_cmp(chk, x[j]) == 0;
	for (size_t j = 0; j < nops; j++) {
		size_t i = op[j];

		if (crt[j] && !good[j])
			faults++;
		else if (good[j])
			ok[i] = BN_bn2binpad(s[j], out[i], (int)k->bytes) == (int)k->bytes;
	}
	for (size_t j = 0; j < 2 * nops; j++) {
		BN_clear(hx[j]);
		BN_clear(res[j]);
	}
	BN_clear(t);
	BN_CTX_end(ctx);
	return faults;
}
