/* Constant-time masks: all-ones when the condition holds, else zero,
 * computed with arithmetic only (no branch, no table look-up), for
 * checks on secret bytes (the CBC record's padding and MAC, the RSA
 * premaster block). */
#ifndef ACC_CT_H
#define ACC_CT_H

#include <stddef.h>

#define ACC_CT_TOP (sizeof(size_t) * 8 - 1)

static inline size_t
acc_ct_lt(size_t a, size_t b)
{
	return (size_t)0 - ((a ^ ((a ^ b) | ((a - b) ^ b))) >> ACC_CT_TOP);
}

static inline size_t
acc_ct_ge(size_t a, size_t b)
{
	return ~acc_ct_lt(a, b);
}

static inline size_t
acc_ct_is_zero(size_t x)
{
	return (size_t)0 - ((~x & (x - 1)) >> ACC_CT_TOP);
}

static inline size_t
acc_ct_eq(size_t a, size_t b)
{
	return acc_ct_is_zero(a ^ b);
}

#endif
