/* X25519 jobs of the executor on the IFMA lanes (acc_ifma_kx.h). */
#include <string.h>

#include <openssl/rand.h>

#include "acc_ifma_kx.h"
#include "acc_ifma_x25519.h"
#include "acc_ossl.h"

#define KX_BATCH 8     /* jobs in one executor batch */
/* A partial pass from this many multiplications: bench/acc_bench measured
 * a pass at about 2.1 of OpenSSL's multiplications (release build). */
#define PARTIAL 3

/* A job the lanes can run: keygen (fresh, or a private key set by the
 * caller), derive with a private key held as bytes, or both. Ephemeral
 * keys made by OpenSSL (impl set) stay with OpenSSL. */
static bool
kx_fits(const struct acc_job *j)
{
	if (j->alg != ACC_GROUP_X25519 || j->eph == NULL || j->eph->impl != NULL)
		return false;
	switch (j->op) {
	case ACC_OP_KX_KEYGEN:
		return j->out_cap >= 32;
	case ACC_OP_KX_DERIVE:
		return j->eph->priv_len == 32 && j->in_len == 32 && j->out_cap >= 32;
	case ACC_OP_KX_KEYGEN_DERIVE:
		return j->in_len == 32 && j->out_cap >= 32 && j->secret_cap >= 32;
	default:
		return false;
	}
}

static bool
kx_wants_fresh_key(const struct acc_job *j)
{
	return j->op == ACC_OP_KX_KEYGEN_DERIVE || (j->op == ACC_OP_KX_KEYGEN && j->eph->priv_len == 0);
}

size_t
acc_ifma_kx_run(struct acc_ossl *ossl, struct acc_job **jobs, size_t n, struct acc_stats *st)
{
	const uint8_t *scalar[2 * KX_BATCH], *point[2 * KX_BATCH];
	uint8_t *out[2 * KX_BATCH];
	struct acc_job *owner[2 * KX_BATCH];
	bool ok[2 * KX_BATCH];
	size_t fit = 0, m = 0;

	while (fit < n && fit < KX_BATCH && kx_fits(jobs[fit]))
		fit++;
	if (fit == 0)
		return 0;
	/* fresh private keys */
	for (size_t i = 0; i < fit; i++) {
		struct acc_job *j = jobs[i];
		struct acc_eph *eph = j->eph;

		j->status = ACC_DONE;
		j->out_len = 0;
		if (!kx_wants_fresh_key(j))
			continue;
		acc_eph_clear(eph);
		if (RAND_priv_bytes(eph->priv, 32) == 1)
			eph->priv_len = 32;
		else
			j->status = ACC_FAILED;
	}
	/* the multiplications: public keys, then secrets */
	for (size_t i = 0; i < fit; i++) {
		struct acc_job *j = jobs[i];

		if (j->status != ACC_DONE)
			continue;
		j->eph->group = ACC_GROUP_X25519;
		if (j->op != ACC_OP_KX_DERIVE) {
			scalar[m] = j->eph->priv;
			point[m] = NULL;
			out[m] = j->out;
			owner[m++] = j;
		}
		if (j->op != ACC_OP_KX_KEYGEN) {
			scalar[m] = j->eph->priv;
			point[m] = j->in;
			out[m] = j->op == ACC_OP_KX_DERIVE ? j->out : j->secret;
			owner[m++] = j;
		}
	}
	if (m >= PARTIAL) {
		for (size_t start = 0; start < m; start += ACC_IFMA_X25519_LANES) {
			size_t c = m - start < ACC_IFMA_X25519_LANES ? m - start : ACC_IFMA_X25519_LANES;
			acc_ifma_x25519_lanes(c, scalar + start, point + start, out + start, ok + start);
			st->lane_passes++;
		}
		for (size_t i = 0; i < m; i++) {
			if (!ok[i])
				owner[i]->status = ACC_FAILED;
			else if (out[i] == owner[i]->secret)
				owner[i]->secret_len = 32;
			else
				owner[i]->out_len = 32;
		}
		st->lane_jobs += fit;
	} else {
		/* one or two multiplications: OpenSSL's scalar code is cheaper */
		for (size_t i = 0; i < fit; i++) {
			struct acc_job *j = jobs[i];
			if (j->status != ACC_DONE)
				continue;
			acc_ossl_run(ossl, j);
		}
	}
	return fit;
}
