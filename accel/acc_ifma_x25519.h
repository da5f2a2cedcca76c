/* X25519 (RFC 7748) for eight scalars at once in the lanes of AVX-512
 * IFMA registers: field elements in radix 2^51 (five limbs, kept below
 * 2^52 so that the 52-bit multipliers see them whole), the Montgomery
 * ladder with mask swaps, inversion by Fermat. No branch and no memory
 * address depends on a scalar or a point. Call only when
 * acc_ifma_available(). */
#ifndef ACC_IFMA_X25519_H
#define ACC_IFMA_X25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACC_IFMA_X25519_LANES 8

/* out[i] = X25519(scalar[i], point[i]) for i < count (count <= 8); the
 * base point 9 where point[i] is NULL. ok[i] is false when the result is
 * all zeros (a point of small order: RFC 7748 6.1, RFC 8446 7.4.2). */
void acc_ifma_x25519_lanes(size_t count, const uint8_t *const *scalar, const uint8_t *const *point,
		      uint8_t *const *out, bool *ok);

#ifdef __cplusplus
}
#endif
#endif
