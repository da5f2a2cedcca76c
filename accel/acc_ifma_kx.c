/* X25519 jobs of the executor on the IFMA lanes (acc_ifma_kx.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <openssl/rand.h>

#include "acc_ifma_kx.h"
#include "acc_ifma_x25519.h"
#include "acc_ossl.h"

#define KX_BATCH 8     /* jobs in one executor batch */
#define KX_MULS (3 * KX_BATCH) /* 2 per job, and pool keys in the last pass's free lanes */
/* A partial pass from this many multiplications: bench/acc_bench measured
 * a pass at about 2.1 of OpenSSL's multiplications (release build). */
#define PARTIAL 3
/* The pool: refilled from a pass's free lanes while below POOL_LOW keys,
 * so that one pass in about seven serves a lone handshake's derive and
 * the next keys, and the derives in between go to OpenSSL. */
#define POOL_CAP 32
#define POOL_LOW 8

struct acc_ifma_kx_pool {
	size_t n;
	uint8_t priv[POOL_CAP][32];
	uint8_t pub[POOL_CAP][32];
};

struct acc_ifma_kx_pool *
acc_ifma_kx_pool_new(void)
{
	return calloc(1, sizeof(struct acc_ifma_kx_pool));
}

void
acc_ifma_kx_pool_free(struct acc_ifma_kx_pool *pool)
{
	if (pool == NULL)
		return;
	OPENSSL_cleanse(pool, sizeof(*pool));
	free(pool);
}

size_t
acc_ifma_kx_pool_size(const struct acc_ifma_kx_pool *pool)
{
	return pool->n;
}

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

/* A fresh key for the job from the pool: its public value is the job's
 * output (keygen) and stays with the key. */
static bool
kx_pool_take(struct acc_ifma_kx_pool *pool, struct acc_job *j)
{
	struct acc_eph *eph = j->eph;

	if (pool->n == 0)
		return false;
	pool->n--;
	acc_eph_clear(eph);
	memcpy(eph->priv, pool->priv[pool->n], 32);
	memcpy(eph->pub, pool->pub[pool->n], 32);
	OPENSSL_cleanse(pool->priv[pool->n], 32);
	eph->priv_len = 32;
	eph->pub_len = 32;
	eph->group = ACC_GROUP_X25519;
	memcpy(j->out, eph->pub, 32);
	j->out_len = 32;
	return true;
}

/* The derive of a job whose key is ready, through OpenSSL. */
static void
kx_ossl_derive(struct acc_ossl *ossl, struct acc_job *j)
{
	struct acc_job d = *j;

	if (j->op == ACC_OP_KX_KEYGEN_DERIVE) {
		d.op = ACC_OP_KX_DERIVE;
		d.out = j->secret;
		d.out_cap = j->secret_cap;
	}
	acc_ossl_run(ossl, &d);
	if (d.status != ACC_DONE)
		j->status = ACC_FAILED;
	else if (j->op == ACC_OP_KX_KEYGEN_DERIVE)
		j->secret_len = d.out_len;
	else
		j->out_len = d.out_len;
}

size_t
acc_ifma_kx_run(struct acc_ossl *ossl, struct acc_ifma_kx_pool *pool, struct acc_job **jobs, size_t n,
		struct acc_stats *st)
{
	const uint8_t *scalar[KX_MULS], *point[KX_MULS];
	uint8_t *out[KX_MULS];
	struct acc_job *owner[KX_MULS];
	bool ok[KX_MULS], pooled[KX_BATCH];
	uint8_t new_priv[KX_BATCH][32], new_pub[KX_BATCH][32];
	size_t fit = 0, m = 0, refill = 0;

	while (fit < n && fit < KX_BATCH && kx_fits(jobs[fit]))
		fit++;
	if (fit == 0)
		return 0;
	/* fresh private keys: from the pool, else drawn here */
	for (size_t i = 0; i < fit; i++) {
		struct acc_job *j = jobs[i];
		struct acc_eph *eph = j->eph;

		j->status = ACC_DONE;
		j->out_len = 0;
		pooled[i] = false;
		if (!kx_wants_fresh_key(j))
			continue;
		if (pool != NULL && (pooled[i] = kx_pool_take(pool, j)))
			continue;
		acc_eph_clear(eph);
		if (RAND_priv_bytes(eph->priv, 32) == 1)
			eph->priv_len = 32;
		else
			j->status = ACC_FAILED;
	}
	/* the multiplications left: public keys, then secrets */
	for (size_t i = 0; i < fit; i++) {
		struct acc_job *j = jobs[i];

		if (j->status != ACC_DONE)
			continue;
		j->eph->group = ACC_GROUP_X25519;
		if (j->op != ACC_OP_KX_DERIVE && !pooled[i]) {
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
	if (m == 0) {
		st->lane_jobs += fit; /* all from the pool */
		return fit;
	}
	if (m < PARTIAL && (pool == NULL || pool->n >= POOL_LOW)) {
		/* one or two multiplications: OpenSSL's scalar code is cheaper */
		for (size_t i = 0; i < fit; i++) {
			struct acc_job *j = jobs[i];

			if (j->status != ACC_DONE || (pooled[i] && j->op == ACC_OP_KX_KEYGEN))
				continue; /* failed, or a keygen the pool answered */
			if (pooled[i] || j->op == ACC_OP_KX_DERIVE)
				kx_ossl_derive(ossl, j);
			else
				acc_ossl_run(ossl, j);
		}
		return fit;
	}
	/* the free lanes of the last pass make keys for the pool */
	if (pool != NULL && m % ACC_IFMA_X25519_LANES != 0) {
		refill = ACC_IFMA_X25519_LANES - m % ACC_IFMA_X25519_LANES;
		if (refill > POOL_CAP - pool->n)
			refill = POOL_CAP - pool->n;
		if (RAND_priv_bytes(new_priv[0], (int)(32 * refill)) != 1)
			refill = 0;
		for (size_t r = 0; r < refill; r++) {
			scalar[m + r] = new_priv[r];
			point[m + r] = NULL;
			out[m + r] = new_pub[r];
			owner[m + r] = NULL;
		}
	}
	for (size_t start = 0; start < m + refill; start += ACC_IFMA_X25519_LANES) {
		size_t c = m + refill - start < ACC_IFMA_X25519_LANES ? m + refill - start : ACC_IFMA_X25519_LANES;
		acc_ifma_x25519_lanes(c, scalar + start, point + start, out + start, ok + start);
		st->lane_passes++;
	}
	for (size_t i = 0; i < m; i++) {
		struct acc_eph *eph = owner[i]->eph;

		if (!ok[i]) {
			owner[i]->status = ACC_FAILED;
		} else if (out[i] == owner[i]->secret) {
			owner[i]->secret_len = 32;
		} else if (point[i] == NULL) { /* a public key: kept with the key */
			owner[i]->out_len = 32;
			memcpy(eph->pub, out[i], 32);
			eph->pub_len = 32;
		} else {
			owner[i]->out_len = 32;
		}
	}
	for (size_t r = 0; r < refill; r++) {
		if (!ok[m + r]) /* the base point never gives zero: only a fault */
			continue;
		memcpy(pool->priv[pool->n], new_priv[r], 32);
		memcpy(pool->pub[pool->n], new_pub[r], 32);
		pool->n++;
	}
	OPENSSL_cleanse(new_priv, sizeof(new_priv));
	st->lane_jobs += fit;
	return fit;
}
