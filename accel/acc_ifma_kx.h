/* The executor's X25519 jobs on the IFMA lanes (acc_ifma_x25519.h): a
 * keygen is one scalar multiplication of the base point, a derive one of
 * the peer's point, keygen-and-derive both; eight per pass.
 *
 * A pass costs about as much with one lane busy as with eight, while a
 * lightly loaded worker has one handshake per flush. So each worker keeps
 * a small pool of key pairs made in lanes that a pass would otherwise
 * leave empty: a handshake takes its key from the pool (no multiplication
 * left for it but the derive), and a lone derive goes to OpenSSL with the
 * public value handed over (no recomputation). Pool keys are used once,
 * wiped when taken and when the pool is freed. */
#ifndef ACC_IFMA_KX_H
#define ACC_IFMA_KX_H

#include <stddef.h>

#include "acc_exec.h"
#include "acc_job.h"

struct acc_ossl;
struct acc_ifma_kx_pool;

struct acc_ifma_kx_pool *acc_ifma_kx_pool_new(void);
void acc_ifma_kx_pool_free(struct acc_ifma_kx_pool *pool);
size_t acc_ifma_kx_pool_size(const struct acc_ifma_kx_pool *pool);

/* Complete the X25519 jobs at the start of jobs[0..n) (on the lanes, or
 * through OpenSSL when too few multiplications remain for a pass to pay)
 * and return how many; the caller runs the rest. */
size_t acc_ifma_kx_run(struct acc_ossl *ossl, struct acc_ifma_kx_pool *pool, struct acc_job **jobs, size_t n,
		       struct acc_stats *st);

#endif
