/* Eight modular exponentiations at once in the eight 64-bit lanes of
 * AVX-512 registers, with the 52-bit multiply-add instructions of
 * AVX-512 IFMA (vpmadd52luq / vpmadd52huq).
 *
 * Numbers are in radix 2^52, "lane-sliced": limb i of all eight lanes is
 * one vector, stored as uint64_t[n][8] (n limbs, lane L at [i][L]).
 * Multiplication is Montgomery's with R = 2^(52 n), in its "almost"
 * form (results stay below 2m, no final subtraction inside the ladder),
 * which needs every modulus below 2^(52 n - 2). The exponentiation uses a
 * fixed 5-bit window over a fixed number of exponent bits and selects
 * table entries by masks over the whole table: no branch and no memory
 * address depends on the exponent or the base.
 *
 * This file is compiled with per-function target attributes (DPDK's
 * flags bring -march=corei7 to everything); acc_ifma_available() tells
 * whether the CPU can run it, and nothing here may be called when it
 * cannot. */
#ifndef ACC_IFMA_H
#define ACC_IFMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACC_IFMA_LANES 8
#define ACC_IFMA_MAX_LIMBS 40  /* 2080 bits: the CRT halves of RSA-4096 */
#define ACC_IFMA_MAX_EXP_WORDS 33 /* 64-bit words of an exponent (2048 bits + slack) */

typedef uint64_t acc_ifma_num[ACC_IFMA_MAX_LIMBS][ACC_IFMA_LANES] __attribute__((aligned(64)));

/* One batch: lane L computes base^exp mod mod in that lane's modulus. */
struct acc_ifma_batch {
	size_t n;                /* limbs, 1..ACC_IFMA_MAX_LIMBS */
	size_t exp_bits;         /* bits of every exponent (leading zeros allowed) */
	acc_ifma_num mod;        /* odd, below 2^(52 n - 2) */
	acc_ifma_num rr;         /* R^2 mod mod */
	uint64_t k0[ACC_IFMA_LANES] __attribute__((aligned(64))); /* -mod^-1 mod 2^52 */
	acc_ifma_num base;       /* below mod */
	uint64_t exp[ACC_IFMA_LANES][ACC_IFMA_MAX_EXP_WORDS]; /* little-endian words */
	acc_ifma_num out;        /* base^exp mod mod, fully reduced */
	/* scratch: the window table (32 entries of n limbs) */
	uint64_t table[32 * ACC_IFMA_MAX_LIMBS][ACC_IFMA_LANES] __attribute__((aligned(64)));
};

/* AVX-512 F + VL + IFMA on this CPU (and not masked by the environment
 * variable TLSO_NO_IFMA, for forced-fallback runs). */
bool acc_ifma_available(void);

/* Run the batch. All lanes are computed; unused lanes should hold a copy
 * of a used one (their results are ignored). */
void acc_ifma_modexp(struct acc_ifma_batch *b);

/* out = base^e mod mod in every lane, for a public exponent e >= 1 (the
 * RSA check s^e == x): exp and exp_bits are not used. e's bits decide the
 * sequence of operations, so it must not be secret. */
void acc_ifma_modexp_public(struct acc_ifma_batch *b, uint64_t e);

/* Radix helpers (scalar): little-endian bytes <-> n limbs of radix bits
 * (52 here, 51 for X25519) at limbs[0], limbs[stride], ... (stride
 * ACC_IFMA_LANES for one lane of an acc_ifma_num, 1 for a plain array).
 * Bytes beyond len read as zero; limbs must be below 2^radix. */
void acc_ifma_from_bytes(uint64_t *limbs, size_t stride, size_t n, unsigned radix, const uint8_t *le,
			 size_t len);
void acc_ifma_to_bytes(const uint64_t *limbs, size_t stride, size_t n, unsigned radix, uint8_t *le,
		       size_t len);

/* -m0^-1 mod 2^52 for an odd m0. */
uint64_t acc_ifma_k0(uint64_t m0);

#ifdef __cplusplus
}
#endif
#endif
