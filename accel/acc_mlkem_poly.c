/* ML-KEM polynomial arithmetic (acc_mlkem_poly.h), written from FIPS 203
 * sections 4.2 and 4.3. */
#include <pthread.h>

#include "acc_mlkem_poly.h"

#define Q ACC_MLKEM_Q
#define N ACC_MLKEM_N
#define ZETA 17        /* the primitive 256th root of unity mod q (4.3) */
#define INV128 3303    /* 128^-1 mod q: the scaling at the end of Algorithm 10 */
#define BARRETT 1290167u /* floor(2^32 / q) */

/* zetas[i] = 17^BitRev7(i), gammas[i] = 17^(2 BitRev7(i) + 1) (Appendix A),
 * computed once rather than typed in. */
static uint16_t zetas[128], gammas[128];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* a in [0, 2q) -> a mod q, without a branch. */
static inline uint16_t
csubq(uint32_t a)
{
	uint32_t r = a - Q;

	r += Q & (0u - (r >> 31));
	return (uint16_t)r;
}

/* x mod q for any 32-bit x: the quotient estimate is low by at most one. */
static inline uint16_t
reduce(uint32_t x)
{
	uint32_t t = (uint32_t)(((uint64_t)x * BARRETT) >> 32);

	return csubq(x - t * Q);
}

static inline uint16_t
mulq(uint16_t a, uint16_t b)
{
	return reduce((uint32_t)a * b);
}

static unsigned
bitrev7(unsigned i)
{
	unsigned r = 0;

	for (unsigned b = 0; b < 7; b++)
		r |= ((i >> b) & 1u) << (6 - b);
	return r;
}

static uint16_t
powq(unsigned e)
{
	uint16_t r = 1;

	for (unsigned i = 0; i < e; i++)
		r = mulq(r, ZETA);
	return r;
}

static void
tables_init(void)
{
	for (unsigned i = 0; i < 128; i++) {
		zetas[i] = powq(bitrev7(i));
		gammas[i] = powq(2 * bitrev7(i) + 1);
	}
}

static void
tables(void)
{
	(void)pthread_once(&tables_once, tables_init);
}

void
acc_mlkem_poly_ntt(struct acc_mlkem_poly *f)
{
	unsigned k = 1;

	tables();
	for (unsigned len = 128; len >= 2; len /= 2) {
		for (unsigned start = 0; start < N; start += 2 * len) {
			uint16_t z = zetas[k++];

			for (unsigned j = start; j < start + len; j++) {
				uint16_t t = mulq(z, f->c[j + len]);

				f->c[j + len] = csubq((uint32_t)f->c[j] + Q - t);
				f->c[j] = csubq((uint32_t)f->c[j] + t);
			}
		}
	}
}

void
acc_mlkem_poly_invntt(struct acc_mlkem_poly *f)
{
	unsigned k = 127;

	tables();
	for (unsigned len = 2; len <= 128; len *= 2) {
		for (unsigned start = 0; start < N; start += 2 * len) {
			uint16_t z = zetas[k--];

			for (unsigned j = start; j < start + len; j++) {
				uint16_t t = f->c[j];

				f->c[j] = csubq((uint32_t)t + f->c[j + len]);
				f->c[j + len] = mulq(z, csubq((uint32_t)f->c[j + len] + Q - t));
			}
		}
	}
	for (unsigned j = 0; j < N; j++)
		f->c[j] = mulq(f->c[j], INV128);
}

/* Algorithms 11 and 12: 128 products of degree-one polynomials modulo
 * X^2 - gamma_i, added to r. Each sum stays below 2^26 before reducing. */
void
acc_mlkem_poly_mul_acc(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *f, const struct acc_mlkem_poly *g)
{
	tables();
	for (unsigned i = 0; i < 128; i++) {
		uint32_t a0 = f->c[2 * i], a1 = f->c[2 * i + 1];
		uint32_t b0 = g->c[2 * i], b1 = g->c[2 * i + 1];
		uint32_t c0 = a0 * b0 + mulq(reduce(a1 * b1), gammas[i]);
		uint32_t c1 = a0 * b1 + a1 * b0;

		r->c[2 * i] = reduce(r->c[2 * i] + c0);
		r->c[2 * i + 1] = reduce(r->c[2 * i + 1] + c1);
	}
}

void
acc_mlkem_poly_add(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *a)
{
	for (unsigned j = 0; j < N; j++)
		r->c[j] = csubq((uint32_t)r->c[j] + a->c[j]);
}

void
acc_mlkem_poly_sub(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *a)
{
	for (unsigned j = 0; j < N; j++)
		r->c[j] = csubq((uint32_t)r->c[j] + Q - a->c[j]);
}

/* Algorithm 7's loop body: two 12-bit candidates from three bytes, each
 * kept when below q. The bytes come from the public seed: the branches
 * leak nothing secret. */
size_t
acc_mlkem_poly_sample_ntt(struct acc_mlkem_poly *f, size_t *filled, const uint8_t *buf, size_t len)
{
	size_t i = 0, n = *filled;

	while (n < N && i + 3 <= len) {
		uint16_t d1 = (uint16_t)(buf[i] | ((buf[i + 1] & 0x0f) << 8));
		uint16_t d2 = (uint16_t)((buf[i + 1] >> 4) | (buf[i + 2] << 4));

		if (d1 < Q)
			f->c[n++] = d1;
		if (d2 < Q && n < N)
			f->c[n++] = d2;
		i += 3;
	}
	*filled = n;
	return i;
}

/* Algorithm 8, eta = 2: each coefficient is (b0 + b1) - (b2 + b3) from
 * four consecutive bits, so a byte gives two coefficients. */
void
acc_mlkem_poly_cbd2(struct acc_mlkem_poly *f, const uint8_t buf[128])
{
	for (unsigned k = 0; k < 128; k++) {
		for (unsigned h = 0; h < 2; h++) {
			uint32_t b = (uint32_t)buf[k] >> (4 * h);
			uint32_t x = (b & 1) + ((b >> 1) & 1);
			uint32_t y = ((b >> 2) & 1) + ((b >> 3) & 1);

			f->c[2 * k + h] = csubq(x + Q - y);
		}
	}
}

void
acc_mlkem_poly_encode12(uint8_t out[384], const struct acc_mlkem_poly *f)
{
	for (unsigned i = 0; i < N / 2; i++) {
		uint16_t a = f->c[2 * i], b = f->c[2 * i + 1];

		out[3 * i] = (uint8_t)a;
		out[3 * i + 1] = (uint8_t)((a >> 8) | (b << 4));
		out[3 * i + 2] = (uint8_t)(b >> 4);
	}
}

void
acc_mlkem_poly_decode12(struct acc_mlkem_poly *f, const uint8_t in[384])
{
	for (unsigned i = 0; i < N / 2; i++) {
		uint32_t a = in[3 * i] | ((uint32_t)(in[3 * i + 1] & 0x0f) << 8);
		uint32_t b = (uint32_t)(in[3 * i + 1] >> 4) | ((uint32_t)in[3 * i + 2] << 4);

		f->c[2 * i] = csubq(a);
		f->c[2 * i + 1] = csubq(b);
	}
}

/* FIPS 203 7.2, the modulus check: ByteEncode12(ByteDecode12(ek)) == ek
 * holds exactly when every 12-bit value is below q. */
int
acc_mlkem_poly_is_reduced12(const uint8_t in[384])
{
	for (unsigned i = 0; i < N / 2; i++) {
		uint32_t a = in[3 * i] | ((uint32_t)(in[3 * i + 1] & 0x0f) << 8);
		uint32_t b = (uint32_t)(in[3 * i + 1] >> 4) | ((uint32_t)in[3 * i + 2] << 4);

		if (a >= Q || b >= Q)
			return 0;
	}
	return 1;
}

/* Compress_d (4.7): round(2^d x / q) mod 2^d = floor((2^d x + 1664) / q)
 * mod 2^d, the division done as a multiplication and one masked fix-up. */
static inline uint32_t
compress(uint16_t x, unsigned d)
{
	uint32_t num = ((uint32_t)x << d) + Q / 2;
	uint32_t t = (uint32_t)(((uint64_t)num * BARRETT) >> 32);
	uint32_t r = num - t * Q;

	t += 1u - ((r - Q) >> 31); /* r >= q: the estimate was one low */
	return t & ((1u << d) - 1);
}

void
acc_mlkem_poly_compress(uint8_t *out, const struct acc_mlkem_poly *f, unsigned d)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (unsigned j = 0; j < N; j++) {
		acc |= compress(f->c[j], d) << bits;
		bits += d;
		while (bits >= 8) {
			out[o++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
}

/* Decompress_d (4.8): round(q y / 2^d). */
void
acc_mlkem_poly_decompress(struct acc_mlkem_poly *f, const uint8_t *in, unsigned d)
{
	uint32_t acc = 0, mask = (1u << d) - 1;
	unsigned bits = 0;
	size_t o = 0;

	for (unsigned j = 0; j < N; j++) {
		while (bits < d) {
			acc |= (uint32_t)in[o++] << bits;
			bits += 8;
		}
		f->c[j] = (uint16_t)(((acc & mask) * Q + (1u << (d - 1))) >> d);
		acc >>= d;
		bits -= d;
	}
}
