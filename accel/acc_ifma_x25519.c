/* X25519 on eight lanes of AVX-512 IFMA (acc_ifma_x25519.h).
 *
 * A field element is five limbs in radix 2^51, each below 2^52 between
 * operations (vpmadd52 multiplies the low 52 bits of its inputs, so every
 * limb must fit whole). A product a_i b_j of weight 2^(51 (i+j)) comes out
 * of the multipliers as its low 52 bits (same weight) and its bits 52..103
 * (weight 2^(51 (i+j+1) + 1): doubled into the next limb). Limbs 5..9 of a
 * product fold into 0..4 times 19 (2^255 = 19 mod p), then one carry pass
 * brings every limb below 2^52 again (fe_carry). */
#include <immintrin.h>
#include <string.h>

#include "acc_ifma.h"
#include "acc_ifma_x25519.h"

#define X_TARGET __attribute__((target("avx512f,avx512ifma,avx512vl,avx512dq")))
#define X_INLINE static inline __attribute__((always_inline)) X_TARGET
#define M51 ((1ULL << 51) - 1)

typedef __m512i vec;
typedef struct {
	vec v[5];
} fe;

/* t[0..4] (each below 2^62) into limbs below 2^52; t[5] is scratch. */
X_INLINE void
fe_carry(vec *t, fe *out)
{
	const vec m = _mm512_set1_epi64((long long)M51), n19 = _mm512_set1_epi64(19);
	vec c;

	t[5] = _mm512_setzero_si512();
#pragma GCC unroll 10
	for (int k = 0; k < 5; k++) {
		c = _mm512_srli_epi64(t[k], 51);
		t[k] = _mm512_and_si512(t[k], m);
		t[k + 1] = _mm512_add_epi64(t[k + 1], c);
	}
	t[0] = _mm512_add_epi64(t[0], _mm512_mullo_epi64(t[5], n19));
	c = _mm512_srli_epi64(t[0], 51);
	out->v[0] = _mm512_and_si512(t[0], m);
	out->v[1] = _mm512_add_epi64(t[1], c);
#pragma GCC unroll 10
	for (int k = 2; k < 5; k++)
		out->v[k] = t[k];
}

X_INLINE void
fe_mul(fe *out, const fe *a, const fe *b)
{
	const vec z = _mm512_setzero_si512(), n19 = _mm512_set1_epi64(19);
	vec lo[10], hi[10], t[6];

#pragma GCC unroll 10
	for (int k = 0; k < 10; k++)
		lo[k] = hi[k] = z;
#pragma GCC unroll 5
	for (int i = 0; i < 5; i++) {
#pragma GCC unroll 5
		for (int j = 0; j < 5; j++) {
			lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], a->v[i], b->v[j]);
			hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], a->v[i], b->v[j]);
		}
	}
	/* limb k = lo[k] + 2 hi[k-1]; limb k+5 folds in times 19 */
#pragma GCC unroll 10
	for (int k = 0; k < 5; k++) {
		vec low = k == 0 ? lo[0] : _mm512_add_epi64(lo[k], _mm512_slli_epi64(hi[k - 1], 1));
		vec high = _mm512_add_epi64(lo[k + 5], _mm512_slli_epi64(hi[k + 4], 1));
		t[k] = _mm512_add_epi64(low, _mm512_mullo_epi64(high, n19));
	}
	fe_carry(t, out);
}

X_INLINE void
fe_sqr(fe *out, const fe *a)
{
	fe_mul(out, a, a);
}

X_INLINE void
fe_add(fe *out, const fe *a, const fe *b)
{
	vec t[6];

#pragma GCC unroll 10
	for (int k = 0; k < 5; k++)
		t[k] = _mm512_add_epi64(a->v[k], b->v[k]);
	fe_carry(t, out);
}

/* a - b + 2p: every limb of b is below 2^52 - 38, so no limb goes negative. */
X_INLINE void
fe_sub(fe *out, const fe *a, const fe *b)
{
	vec t[6];

#pragma GCC unroll 10
	for (int k = 0; k < 5; k++) {
		vec two_p = _mm512_set1_epi64((long long)(k == 0 ? (1ULL << 52) - 38 : (1ULL << 52) - 2));
		t[k] = _mm512_sub_epi64(_mm512_add_epi64(a->v[k], two_p), b->v[k]);
	}
	fe_carry(t, out);
}

X_INLINE void
fe_cswap(vec mask, fe *a, fe *b)
{
#pragma GCC unroll 10
	for (int k = 0; k < 5; k++) {
		vec x = _mm512_and_si512(_mm512_xor_si512(a->v[k], b->v[k]), mask);
		a->v[k] = _mm512_xor_si512(a->v[k], x);
		b->v[k] = _mm512_xor_si512(b->v[k], x);
	}
}

static X_TARGET void
fe_sqr_n(fe *out, const fe *a, int n)
{
	fe_sqr(out, a);
	for (int i = 1; i < n; i++)
		fe_sqr(out, out);
}

/* z^(p - 2) = z^-1 (the addition chain of the reference implementation). */
static X_TARGET void
fe_invert(fe *out, const fe *z)
{
	fe z2, z9, z11, z2_5, z2_10, z2_20, z2_50, z2_100, t;

	fe_sqr(&z2, z);                 /* 2 */
	fe_sqr_n(&t, &z2, 2);           /* 8 */
	fe_mul(&z9, &t, z);             /* 9 */
	fe_mul(&z11, &z9, &z2);         /* 11 */
	fe_sqr(&t, &z11);               /* 22 */
	fe_mul(&z2_5, &t, &z9);         /* 2^5 - 1 */
	fe_sqr_n(&t, &z2_5, 5);
	fe_mul(&z2_10, &t, &z2_5);      /* 2^10 - 1 */
	fe_sqr_n(&t, &z2_10, 10);
	fe_mul(&z2_20, &t, &z2_10);     /* 2^20 - 1 */
	fe_sqr_n(&t, &z2_20, 20);
	fe_mul(&t, &t, &z2_20);         /* 2^40 - 1 */
	fe_sqr_n(&t, &t, 10);
	fe_mul(&z2_50, &t, &z2_10);     /* 2^50 - 1 */
	fe_sqr_n(&t, &z2_50, 50);
	fe_mul(&z2_100, &t, &z2_50);    /* 2^100 - 1 */
	fe_sqr_n(&t, &z2_100, 100);
	fe_mul(&t, &t, &z2_100);        /* 2^200 - 1 */
	fe_sqr_n(&t, &t, 50);
	fe_mul(&t, &t, &z2_50);         /* 2^250 - 1 */
	fe_sqr_n(&t, &t, 5);            /* 2^255 - 2^5 */
	fe_mul(out, &t, &z11);          /* 2^255 - 21 = p - 2 */
}

/* Fully reduced limbs (below 2^51, value below p). Two carry passes make
 * every limb below 2^51 with the value below 2^255; then q = 1 exactly
 * when value + 19 reaches 2^255, and value + 19 q - 2^255 q is the
 * residue (the reference implementation's freeze). */
static X_TARGET void
fe_freeze(fe *a)
{
	const vec m = _mm512_set1_epi64((long long)M51), n19 = _mm512_set1_epi64(19);
	vec t[6], q;

	for (int pass = 0; pass < 2; pass++) {
#pragma GCC unroll 10
		for (int k = 0; k < 5; k++)
			t[k] = a->v[k];
		fe_carry(t, a);
	}
	q = _mm512_srli_epi64(_mm512_add_epi64(a->v[0], n19), 51);
#pragma GCC unroll 10
	for (int k = 1; k < 5; k++)
		q = _mm512_srli_epi64(_mm512_add_epi64(a->v[k], q), 51);
	a->v[0] = _mm512_add_epi64(a->v[0], _mm512_mullo_epi64(q, n19));
#pragma GCC unroll 10
	for (int k = 0; k < 4; k++) {
		a->v[k + 1] = _mm512_add_epi64(a->v[k + 1], _mm512_srli_epi64(a->v[k], 51));
		a->v[k] = _mm512_and_si512(a->v[k], m);
	}
	a->v[4] = _mm512_and_si512(a->v[4], m);
}

static X_TARGET void
x_ladder(uint64_t scalar[8][4], uint64_t u[5][8], uint64_t res[5][8])
{
	const vec one_bit = _mm512_set1_epi64(1);
	fe x1, x2, z2, x3, z3, a24, A, AA, B, BB, E, C, D, DA, CB, t;
	vec swap = _mm512_setzero_si512();

#pragma GCC unroll 10
	for (int k = 0; k < 5; k++) {
		x1.v[k] = _mm512_load_si512((const void *)u[k]);
		x3.v[k] = x1.v[k];
		x2.v[k] = _mm512_set1_epi64(k == 0);
		z3.v[k] = x2.v[k];
		z2.v[k] = _mm512_setzero_si512();
		a24.v[k] = _mm512_set1_epi64(k == 0 ? 121665 : 0);
	}
	for (int bit = 254; bit >= 0; bit--) {
		uint64_t kb[8] __attribute__((aligned(64)));
		vec kt;

		for (int l = 0; l < 8; l++)
			kb[l] = (scalar[l][bit / 64] >> (bit % 64)) & 1;
		kt = _mm512_load_si512((const void *)kb);
		swap = _mm512_xor_si512(swap, kt);
		swap = _mm512_sub_epi64(_mm512_setzero_si512(), swap); /* 0 / all ones */
		fe_cswap(swap, &x2, &x3);
		fe_cswap(swap, &z2, &z3);
		swap = kt;
		fe_add(&A, &x2, &z2);
		fe_sqr(&AA, &A);
		fe_sub(&B, &x2, &z2);
		fe_sqr(&BB, &B);
		fe_sub(&E, &AA, &BB);
		fe_add(&C, &x3, &z3);
		fe_sub(&D, &x3, &z3);
		fe_mul(&DA, &D, &A);
		fe_mul(&CB, &C, &B);
		fe_add(&t, &DA, &CB);
		fe_sqr(&x3, &t);
		fe_sub(&t, &DA, &CB);
		fe_sqr(&t, &t);
		fe_mul(&z3, &x1, &t);
		fe_mul(&x2, &AA, &BB);
		fe_mul(&t, &a24, &E);
		fe_add(&t, &AA, &t);
		fe_mul(&z2, &E, &t);
	}
	swap = _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_and_si512(swap, one_bit));
	fe_cswap(swap, &x2, &x3);
	fe_cswap(swap, &z2, &z3);
	fe_invert(&t, &z2);
	fe_mul(&x2, &x2, &t);
	fe_freeze(&x2);
#pragma GCC unroll 10
	for (int k = 0; k < 5; k++)
		_mm512_store_si512((void *)res[k], x2.v[k]);
	/* the stack copies of secrets */
	explicit_bzero(&x2, sizeof(x2));
	explicit_bzero(&z2, sizeof(z2));
	explicit_bzero(&x3, sizeof(x3));
	explicit_bzero(&z3, sizeof(z3));
}

void
acc_ifma_x25519_lanes(size_t count, const uint8_t *const *scalar, const uint8_t *const *point, uint8_t *const *out,
		 bool *ok)
{
	static const uint8_t base[32] = { 9 };
	uint64_t sc[8][4], u[5][8] __attribute__((aligned(64))), res[5][8] __attribute__((aligned(64)));

	if (count > ACC_IFMA_X25519_LANES)
		count = ACC_IFMA_X25519_LANES;
	for (size_t l = 0; l < ACC_IFMA_X25519_LANES; l++) {
		size_t src = l < count ? l : 0; /* idle lanes repeat lane 0 */
		uint8_t k[32], u_le[32];

		memcpy(k, scalar[src], 32);
		k[0] &= 248; /* RFC 7748 5: clamping */
		k[31] &= 127;
		k[31] |= 64;
		for (size_t w = 0; w < 4; w++) {
			uint64_t v = 0;
			for (int i = 7; i >= 0; i--)
				v = v << 8 | k[8 * w + (size_t)i];
			sc[l][w] = v;
		}
		explicit_bzero(k, sizeof(k));
		memcpy(u_le, point[src] != NULL ? point[src] : base, 32);
		u_le[31] &= 0x7f; /* RFC 7748 5: the top bit of u is ignored */
		acc_ifma_from_bytes(&u[0][l], ACC_IFMA_X25519_LANES, 5, 51, u_le, 32);
	}
	x_ladder(sc, u, res);
	for (size_t l = 0; l < count; l++) {
		uint8_t any = 0;

		acc_ifma_to_bytes(&res[0][l], ACC_IFMA_X25519_LANES, 5, 51, out[l], 32);
		for (size_t i = 0; i < 32; i++)
			any |= out[l][i];
		ok[l] = any != 0;
	}
	explicit_bzero(sc, sizeof(sc));
	explicit_bzero(res, sizeof(res));
}
