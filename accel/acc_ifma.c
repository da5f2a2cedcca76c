/* Eight-lane Montgomery exponentiation with AVX-512 IFMA (acc_ifma.h). */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "acc_ifma.h"

#define IFMA_TARGET __attribute__((target("avx512f,avx512ifma,avx512vl")))
#define MASK52 ((1ULL << 52) - 1)
#define WIN 5
#define WIN_ENTRIES (1u << WIN)

typedef __m512i vec;

bool
acc_ifma_available(void)
{
	const char *off = getenv("TLSO_NO_IFMA");

	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0)
		return false;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512ifma");
}

uint64_t
acc_ifma_k0(uint64_t m0)
{
	uint64_t x = m0; /* m0 * x == 1 mod 2^3 for odd m0; each step doubles the bits */

	for (int i = 0; i < 5; i++)
		x *= 2 - m0 * x;
	return (0 - x) & MASK52;
}

void
acc_ifma_from_bytes(uint64_t *limbs, size_t stride, size_t n, unsigned radix, const uint8_t *le, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		size_t bit = radix * i;

		for (size_t k = 0; k < 8; k++) { /* 64 bits from bit & ~7: enough, bit % 8 + radix <= 64 */
			size_t at = bit / 8 + k;
			if (at < len)
				v |= (uint64_t)le[at] << (8 * k);
		}
		v >>= bit % 8;
		limbs[i * stride] = v & ((1ULL << radix) - 1);
	}
}

void
acc_ifma_to_bytes(const uint64_t *limbs, size_t stride, size_t n, unsigned radix, uint8_t *le, size_t len)
{
	memset(le, 0, len);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = limbs[i * stride];
		size_t bit = radix * i;

		for (size_t k = 0; k < 8 && v != 0; k++) {
			size_t at = bit / 8 + k;
			uint64_t part = k == 0 ? v << (bit % 8) : v >> (8 * k - bit % 8);
			if (at < len)
				le[at] |= (uint8_t)part;
		}
	}
}

/* One row of Montgomery reduction: add q m with q = -t_0 / m mod 2^52, so
 * that the lowest limb vanishes, and drop it (shifting t down a limb). */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_reduce_row(const size_t n, vec *t, const vec *m, vec k0)
{
	const vec zero = _mm512_setzero_si512();
	const vec q = _mm512_madd52lo_epu64(zero, t[0], k0);
	vec c;

#pragma GCC unroll 64
	for (size_t j = 0; j < n; j++)
		t[j] = _mm512_madd52lo_epu64(t[j], q, m[j]);
#pragma GCC unroll 64
	for (size_t j = 0; j < n; j++)
		t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], q, m[j]);
	c = _mm512_srli_epi64(t[0], 52); /* the low 52 bits are zero now */
#pragma GCC unroll 64
	for (size_t j = 0; j < n; j++)
		t[j] = t[j + 1];
	t[0] = _mm512_add_epi64(t[0], c);
	t[n] = zero;
}

/* The accumulator's limbs carried into 52-bit limbs. */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_normalize(const size_t n, const vec *t, vec *out)
{
	const vec mask = _mm512_set1_epi64((long long)MASK52);
	vec c = _mm512_setzero_si512();

#pragma GCC unroll 64
	for (size_t j = 0; j < n; j++) {
		vec x = _mm512_add_epi64(t[j], c);
		out[j] = _mm512_and_si512(x, mask);
		c = _mm512_srli_epi64(x, 52);
	}
}

/* out = a b / R mod m, below 2m (a, b below 2m), by rows (operand
 * scanning, "CIOS"): row i adds a_i b and q_i m to an accumulator of n + 1
 * limbs, where q_i makes the lowest limb vanish, then drops that limb.
 * With n a constant and the loops unrolled, the accumulator lives in
 * registers; b and m come from memory. Each accumulator limb collects at
 * most 4 n products below 2^52 plus carries: below 2^60 for n <= 40. */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_amm(const size_t n, const vec *a, const vec *b, const vec *m, vec k0, vec *out)
{
	const vec zero = _mm512_setzero_si512();
	vec t[ACC_IFMA_MAX_LIMBS + 1];

#pragma GCC unroll 64
	for (size_t j = 0; j <= n; j++)
		t[j] = zero;
	for (size_t i = 0; i < n; i++) {
		const vec ai = a[i];

#pragma GCC unroll 64
		for (size_t j = 0; j < n; j++)
			t[j] = _mm512_madd52lo_epu64(t[j], ai, b[j]);
#pragma GCC unroll 64
		for (size_t j = 0; j < n; j++)
			t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], ai, b[j]);
		ifma_reduce_row(n, t, m, k0);
	}
	ifma_normalize(n, t, out);
}

static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_mul(const size_t n, const vec *a, const vec *b, const vec *m, vec k0, vec *out)
{
	ifma_amm(n, a, b, m, k0, out);
}

/* out = a^2 / R mod m: as ifma_amm, but each cross product a_i a_j
 * (i < j) is computed once, in row i, and added twice; with the rows
 * unrolled (all indices constants) that takes n(n+1) multiply-adds for the
 * product instead of 2n^2. Used where the unrolled code still fits the
 * registers and the instruction cache (n = 20: RSA-2048). */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_ams_unrolled(const size_t n, const vec *a, const vec *m, vec k0, vec *out)
{
	const vec zero = _mm512_setzero_si512();
	vec t[ACC_IFMA_MAX_LIMBS + 1];

#pragma GCC unroll 64
	for (size_t j = 0; j <= n; j++)
		t[j] = zero;
#pragma GCC unroll 64
	for (size_t i = 0; i < n; i++) {
		const vec ai = a[i];

		t[i] = _mm512_madd52lo_epu64(t[i], ai, ai);
		t[i + 1] = _mm512_madd52hi_epu64(t[i + 1], ai, ai);
#pragma GCC unroll 64
		for (size_t j = i + 1; j < n; j++) {
			vec lo = _mm512_madd52lo_epu64(zero, ai, a[j]);
			vec hi = _mm512_madd52hi_epu64(zero, ai, a[j]);
			t[j] = _mm512_add_epi64(t[j], _mm512_add_epi64(lo, lo));
			t[j + 1] = _mm512_add_epi64(t[j + 1], _mm512_add_epi64(hi, hi));
		}
		ifma_reduce_row(n, t, m, k0);
	}
	ifma_normalize(n, t, out);
}

/* out = a^2 / R mod m in two phases ("SOS"), each kept in registers:
 * the square by columns (product scanning: column k sums a_i a_{k-i} for
 * i < k - i, low halves into column k and high halves into k + 1, doubles
 * the sum and adds the diagonal's halves), with a in registers and one
 * store per column; then n rows of Montgomery reduction over the 2n-limb
 * square with an n + 1 limb window in registers, a limb of the square
 * loaded per row. n^2 + n multiply-adds for the square and 2n^2 + n for
 * the reduction, instead of 4n^2 + n. Every limb stays below 2^61: at most
 * 2n + 2 products below 2^52 from the square and 2n from the reduction. */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_sqr_cols(const size_t n, const vec *a, const vec *m, vec k0, vec *out)
{
	const vec zero = _mm512_setzero_si512();
	vec x[ACC_IFMA_MAX_LIMBS], p[2 * ACC_IFMA_MAX_LIMBS + 1], t[ACC_IFMA_MAX_LIMBS + 1];
	vec prev = zero; /* high halves of the previous column's pairs */

#pragma GCC unroll 64
	for (size_t j = 0; j < n; j++)
		x[j] = a[j];
	/* Each column's sums start from zero, so that the columns' chains of
	 * dependent multiply-adds overlap instead of forming one long chain. */
#pragma GCC unroll 128
	for (size_t k = 0; k < 2 * n; k++) {
		vec lo = zero, hi = zero;

#pragma GCC unroll 64
		for (size_t i = k >= n ? k - n + 1 : 0; 2 * i < k; i++) {
			lo = _mm512_madd52lo_epu64(lo, x[i], x[k - i]);
			hi = _mm512_madd52hi_epu64(hi, x[i], x[k - i]);
		}
		lo = _mm512_add_epi64(lo, prev);
		lo = _mm512_add_epi64(lo, lo);
		if (k % 2 == 0)
			lo = _mm512_madd52lo_epu64(lo, x[k / 2], x[k / 2]);
		else
			lo = _mm512_madd52hi_epu64(lo, x[k / 2], x[k / 2]);
		p[k] = lo;
		prev = hi;
	}
	p[2 * n] = zero;
#pragma GCC unroll 64
	for (size_t j = 0; j <= n; j++)
		t[j] = p[j];
	for (size_t i = 0; i < n; i++) {
		ifma_reduce_row(n, t, m, k0);
		t[n] = p[i + n + 1];
	}
	ifma_normalize(n, t, out);
	explicit_bzero(p, sizeof(p));
	explicit_bzero(x, sizeof(x));
}

static __attribute__((noinline)) IFMA_TARGET void
ifma_sqr_cols_30(const vec *a, const vec *m, vec k0, vec *out)
{
	ifma_sqr_cols(30, a, m, k0, out);
}

static __attribute__((noinline)) IFMA_TARGET void
ifma_sqr_cols_40(const vec *a, const vec *m, vec k0, vec *out)
{
	ifma_sqr_cols(40, a, m, k0, out);
}

/* The squarings of the exponentiation. Measured (bench/acc_bench,
 * bench/RESULTS.md): for n = 20 the row method with each cross product
 * once, inlined, is fastest; for n = 30 and 40 the square by columns, a
 * function of its own (its registers are its own). */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_sqr(const size_t n, const vec *a, const vec *m, vec k0, vec *out)
{
	if (n == 20)
		ifma_ams_unrolled(20, a, m, k0, out);
	else if (n == 30)
		ifma_sqr_cols_30(a, m, k0, out);
	else if (n == 40)
		ifma_sqr_cols_40(a, m, k0, out);
	else
		ifma_amm(n, a, a, m, k0, out);
}

/* The window of WIN bits starting at bit pos of each lane's exponent. */
static IFMA_TARGET vec
ifma_window(const struct acc_ifma_batch *b, size_t pos)
{
	uint64_t w[ACC_IFMA_LANES] __attribute__((aligned(64)));

	for (size_t l = 0; l < ACC_IFMA_LANES; l++) {
		size_t word = pos / 64, sh = pos % 64;
		uint64_t v = b->exp[l][word] >> sh;

		if (sh > 64 - WIN && word + 1 < ACC_IFMA_MAX_EXP_WORDS)
			v |= b->exp[l][word + 1] << (64 - sh);
		w[l] = v & (WIN_ENTRIES - 1);
	}
	return _mm512_load_si512((const void *)w);
}

/* r = table[idx] lane by lane, reading every entry. */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_select(size_t n, const vec *table, vec idx, vec *r)
{
	for (size_t i = 0; i < n; i++)
		r[i] = _mm512_setzero_si512();
	for (unsigned e = 0; e < WIN_ENTRIES; e++) {
		__mmask8 k = _mm512_cmpeq_epi64_mask(idx, _mm512_set1_epi64(e));
		const vec *t = table + (size_t)e * n;

		for (size_t i = 0; i < n; i++)
			r[i] = _mm512_mask_mov_epi64(r[i], k, t[i]);
	}
}

/* x - m where x >= m, lane by lane, else x (x < 2m). */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_final_sub(size_t n, vec *x, const vec *m)
{
	const vec mask = _mm512_set1_epi64((long long)MASK52);
	vec d[ACC_IFMA_MAX_LIMBS], borrow = _mm512_setzero_si512();
	__mmask8 ge;

	for (size_t i = 0; i < n; i++) {
		vec v = _mm512_sub_epi64(_mm512_sub_epi64(x[i], m[i]), borrow);
		borrow = _mm512_srli_epi64(v, 63);
		d[i] = _mm512_and_si512(v, mask);
	}
	ge = _mm512_cmpeq_epi64_mask(borrow, _mm512_setzero_si512());
	for (size_t i = 0; i < n; i++)
		x[i] = _mm512_mask_mov_epi64(x[i], ge, d[i]);
}

/* b->out = acc / R mod m, fully reduced: out of the Montgomery domain
 * (one: the number 1). */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_leave(struct acc_ifma_batch *b, size_t n, vec *acc, const vec *one, const vec *m, vec k0)
{
	ifma_mul(n, acc, one, m, k0, acc);
	ifma_final_sub(n, acc, m);
	for (size_t i = 0; i < n; i++)
		_mm512_store_si512((void *)b->out[i], acc[i]);
}

static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_modexp(struct acc_ifma_batch *b, const size_t n)
{
	const vec *m = (const vec *)b->mod, k0 = _mm512_load_si512((const void *)b->k0);
	vec *table = (vec *)b->table;
	vec acc[ACC_IFMA_MAX_LIMBS], sel[ACC_IFMA_MAX_LIMBS], one[ACC_IFMA_MAX_LIMBS];
	size_t pos;

	/* table[e] = base^e * R mod m */
	for (size_t i = 0; i < n; i++)
		one[i] = _mm512_set1_epi64(i == 0);
	ifma_mul(n, (const vec *)b->rr, one, m, k0, table);                  /* R mod m */
	ifma_mul(n, (const vec *)b->base, (const vec *)b->rr, m, k0, table + n); /* base R */
	for (unsigned e = 2; e < WIN_ENTRIES; e++)
		ifma_mul(n, table + (e - 1) * n, table + n, m, k0, table + e * n);
	/* windows from the top; the first one may be short */
	pos = (b->exp_bits + WIN - 1) / WIN * WIN;
	pos -= WIN;
	ifma_select(n, table, ifma_window(b, pos), acc);
	while (pos > 0) {
		pos -= WIN;
		for (int s = 0; s < WIN; s++)
			ifma_sqr(n, acc, m, k0, acc);
		ifma_select(n, table, ifma_window(b, pos), sel);
		ifma_mul(n, acc, sel, m, k0, acc);
	}
	ifma_leave(b, n, acc, one, m, k0);
	explicit_bzero(table, sizeof(vec) * WIN_ENTRIES * n);
	explicit_bzero(sel, sizeof(sel));
	explicit_bzero(acc, sizeof(acc));
}

/* out = base^e mod m in every lane for a public exponent e, left to right
 * over e's bits: the exponent steers the sequence of squarings and
 * multiplications, the data never does. */
static inline __attribute__((always_inline)) IFMA_TARGET void
ifma_pow_public(struct acc_ifma_batch *b, const size_t n, uint64_t e)
{
	const vec *m = (const vec *)b->mod, k0 = _mm512_load_si512((const void *)b->k0);
	vec x[ACC_IFMA_MAX_LIMBS], acc[ACC_IFMA_MAX_LIMBS], one[ACC_IFMA_MAX_LIMBS];

	for (size_t i = 0; i < n; i++)
		one[i] = _mm512_set1_epi64(i == 0);
	ifma_mul(n, (const vec *)b->base, (const vec *)b->rr, m, k0, x); /* base R */
	for (size_t i = 0; i < n; i++)
		acc[i] = x[i];
	for (int bit = 62 - __builtin_clzll(e | 1); bit >= 0; bit--) {
		ifma_sqr(n, acc, m, k0, acc);
		if ((e >> bit) & 1)
			ifma_mul(n, acc, x, m, k0, acc);
	}
	ifma_leave(b, n, acc, one, m, k0);
	explicit_bzero(x, sizeof(x));
	explicit_bzero(acc, sizeof(acc));
}

static IFMA_TARGET void ifma_pow_public_40(struct acc_ifma_batch *b, uint64_t e) { ifma_pow_public(b, 40, e); }
static IFMA_TARGET void ifma_pow_public_any(struct acc_ifma_batch *b, uint64_t e) { ifma_pow_public(b, b->n, e); }

void
acc_ifma_modexp_public(struct acc_ifma_batch *b, uint64_t e)
{
	if (b->n == 40)
		ifma_pow_public_40(b, e);
	else
		ifma_pow_public_any(b, e);
}

/* One copy per limb count of the RSA sizes, with n a constant the
 * compiler unrolls and allocates registers for; any other n runs the
 * generic copy. */
static IFMA_TARGET void ifma_modexp_20(struct acc_ifma_batch *b) { ifma_modexp(b, 20); }
static IFMA_TARGET void ifma_modexp_30(struct acc_ifma_batch *b) { ifma_modexp(b, 30); }
static IFMA_TARGET void ifma_modexp_40(struct acc_ifma_batch *b) { ifma_modexp(b, 40); }
static IFMA_TARGET void ifma_modexp_any(struct acc_ifma_batch *b) { ifma_modexp(b, b->n); }

void
acc_ifma_modexp(struct acc_ifma_batch *b)
{
	switch (b->n) {
	case 20: ifma_modexp_20(b); break;
	case 30: ifma_modexp_30(b); break;
	case 40: ifma_modexp_40(b); break;
	default: ifma_modexp_any(b); break;
	}
}
