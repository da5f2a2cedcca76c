/* The executor's X25519 jobs on the IFMA lanes (acc_ifma_x25519.h): a
 * keygen is one scalar multiplication of the base point, a derive one of
 * the peer's point, keygen-and-derive both; eight per pass. A pool of
 * precomputed key pairs was tried and measured slower: OpenSSL recomputes
 * the public key when it imports a raw private key for a derive. */
#ifndef ACC_IFMA_KX_H
#define ACC_IFMA_KX_H

#include <stddef.h>

#include "acc_exec.h"
#include "acc_job.h"

struct acc_ossl;

/* Complete the X25519 jobs at the start of jobs[0..n) (on the lanes, or
 * through OpenSSL when too few multiplications remain for a pass to pay)
 * and return how many; the caller runs the rest. */
size_t acc_ifma_kx_run(struct acc_ossl *ossl, struct acc_job **jobs, size_t n, struct acc_stats *st);

#endif
