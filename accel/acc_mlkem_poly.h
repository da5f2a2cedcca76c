/* Polynomial arithmetic of ML-KEM (FIPS 203 section 4): the ring
 * Z_q[X]/(X^256 + 1) with q = 3329, its NTT, the centred binomial sampler
 * and the byte and compression encodings.
 *
 * Coefficients are kept fully reduced in [0, q) as uint16_t. Everything
 * here is constant time in the coefficient values: reductions use
 * multiplications and masks, never a branch or a table index on a value
 * (the zeta tables are indexed by loop position only). The one routine
 * that branches on values, acc_mlkem_poly_sample_ntt, reads public bytes
 * (the matrix A comes from the public seed rho). */
#ifndef ACC_MLKEM_POLY_H
#define ACC_MLKEM_POLY_H

#include <stddef.h>
#include <stdint.h>

#define ACC_MLKEM_N 256
#define ACC_MLKEM_Q 3329

struct acc_mlkem_poly {
	uint16_t c[ACC_MLKEM_N];
};

/* Algorithms 9 and 10: forward and inverse NTT, in place. */
void acc_mlkem_poly_ntt(struct acc_mlkem_poly *f);
void acc_mlkem_poly_invntt(struct acc_mlkem_poly *f);

/* Algorithm 11 accumulated: r += f * g in the NTT domain. */
void acc_mlkem_poly_mul_acc(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *f,
			    const struct acc_mlkem_poly *g);
void acc_mlkem_poly_add(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *a);
void acc_mlkem_poly_sub(struct acc_mlkem_poly *r, const struct acc_mlkem_poly *a); /* r -= a */

/* Algorithm 7, from bytes of the XOF stream: the number of coefficients
 * accepted so far is *filled; returns the bytes consumed (a multiple of 3).
 * The caller squeezes more while *filled < 256. */
size_t acc_mlkem_poly_sample_ntt(struct acc_mlkem_poly *f, size_t *filled, const uint8_t *buf, size_t len);

/* Algorithm 8 with eta = 2 (ML-KEM-768's eta1 and eta2): 128 bytes in. */
void acc_mlkem_poly_cbd2(struct acc_mlkem_poly *f, const uint8_t buf[128]);

/* Algorithms 5 and 6 for d = 12 (384 bytes). decode12 reduces mod q as
 * the standard says; acc_mlkem_poly_is_reduced12 is the encapsulation
 * key check of 7.2 (public data). */
void acc_mlkem_poly_encode12(uint8_t out[384], const struct acc_mlkem_poly *f);
void acc_mlkem_poly_decode12(struct acc_mlkem_poly *f, const uint8_t in[384]);
int acc_mlkem_poly_is_reduced12(const uint8_t in[384]);

/* Compress_d then ByteEncode_d (d = 10, 4, 1), and ByteDecode_d then
 * Decompress_d (4.2.1): out/in hold 32 * d bytes. */
void acc_mlkem_poly_compress(uint8_t *out, const struct acc_mlkem_poly *f, unsigned d);
void acc_mlkem_poly_decompress(struct acc_mlkem_poly *f, const uint8_t *in, unsigned d);

#endif
