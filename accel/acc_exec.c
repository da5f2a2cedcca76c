/* The per-worker crypto-job executor.
 *
 * Jobs queue in groups keyed by (operation, algorithm, key), because a
 * batching backend can only put operations of one shape in the lanes of
 * one register. acc_exec_flush() takes the whole queue (jobs submitted by
 * the done callbacks wait for the next flush), runs every group in
 * batches of at most ACC_LANES (of one job on the OpenSSL backend, which
 * has no lanes), and hands each batch's jobs back before the next runs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "acc_exec.h"
#include "acc_ifma.h"
#include "acc_ifma_rsa.h"
#include "acc_key_priv.h"
#include "acc_ossl.h"
#include "acc_rsa_pad.h"
#include "acc_ifma_kx.h"
#include "acc_mlkem.h"
#include "acc_mlkem_kx.h"

#define ACC_LANES 8
#define ACC_GROUPS 16

struct acc_group_q {
	uint8_t op;
	uint16_t alg;
	const struct acc_key *key;
	struct acc_job *head, **tail;
	size_t n;
};

/* How many signatures of a batch go to the IFMA lanes. One pass of the
 * lanes holds the CRT halves of 4 signatures, so the lanes take whole
 * passes, and a partial pass only when it beats OpenSSL signing the
 * remainder one by one. bench/acc_bench measured (bench/RESULTS.md): for
 * RSA-2048, where OpenSSL 3.0 has IFMA code of its own, a pass costs about
 * 3 scalar signatures on the AMD EPYC VMs (1.7 on an Intel Xeon VM, where
 * k = 2..3 would gain a little): never a partial pass; for 3072 and 4096
 * bits a pass costs 1.0-1.7 scalar ones: a partial pass from 2
 * signatures. Never slower than OpenSSL alone on either CPU. */
#define ACC_IFMA_PER_PASS 4
#define ACC_IFMA_RSA_BYTES 512 /* the largest modulus the lanes take: 4096 bits */
#define ACC_IFMA_PARTIAL_2048 4
#define ACC_IFMA_PARTIAL_LARGER 2

struct acc_exec {
	const char *backend;
	struct acc_ossl *ossl;
	struct acc_ifma_rsa *ifma; /* NULL: the OpenSSL backend */
	struct acc_ifma_kx_pool *kx_pool;
	struct acc_mlkem *mlkem; /* hashes for X25519MLKEM768 shares */
	struct acc_group_q q[ACC_GROUPS];
	size_t nq;
	size_t pending;
	/* the bounded flush delay (acc_exec_set_hold): 0 = off */
	uint32_t hold_us, hold_min;
	uint64_t held_since; /* when the queued jobs' wait began; UINT64_MAX: not yet */
	bool hold_expired;   /* the last acc_exec_due said yes because of the deadline */
	struct acc_stats stats;
};

struct acc_exec *
acc_exec_new(const char *backend)
{
	struct acc_exec *ex;

	if (backend == NULL || strcmp(backend, "auto") == 0)
		backend = acc_ifma_available() ? "ifma" : "openssl";
	if (strcmp(backend, "openssl") != 0 && (strcmp(backend, "ifma") != 0 || !acc_ifma_available()))
		return NULL;
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL)
		return NULL;
	ex->backend = strcmp(backend, "ifma") == 0 ? "ifma" : "openssl";
	ex->held_since = UINT64_MAX;
	ex->hold_min = 1;
	ex->ossl = acc_ossl_new();
	ex->mlkem = acc_mlkem_new();
	if (ex->ossl == NULL || ex->mlkem == NULL ||
	    (strcmp(backend, "ifma") == 0 &&
	     ((ex->ifma = acc_ifma_rsa_new()) == NULL || (ex->kx_pool = acc_ifma_kx_pool_new()) == NULL))) {
		acc_exec_free(ex);
		return NULL;
	}
	return ex;
}

void
acc_exec_free(struct acc_exec *ex)
{
	if (ex == NULL)
		return;
	acc_ossl_free(ex->ossl);
	acc_ifma_rsa_free(ex->ifma);
	acc_ifma_kx_pool_free(ex->kx_pool);
	acc_mlkem_free(ex->mlkem);
	free(ex);
}

const char *
acc_exec_backend(const struct acc_exec *ex)
{
	return ex->backend;
}

void
acc_exec_submit(struct acc_exec *ex, struct acc_job *job)
{
	struct acc_group_q *g = NULL;
	uint16_t alg = job->alg;
	uint8_t op = job->op;
	size_t i;

	job->status = ACC_PENDING;
	job->next = NULL;
	/* The RSA private operations of one key (signatures whatever their
	 * padding, premaster decryptions) are one shape for the lanes: one
	 * group, so that they fill the lanes together. */
	if ((op == ACC_OP_SIGN || op == ACC_OP_RSA_DECRYPT_PMS) && job->key != NULL &&
	    job->key->type == ACC_KEY_RSA) {
		op = ACC_OP_SIGN;
		alg = 0;
	}
	for (i = 0; i < ex->nq; i++) {
		if (ex->q[i].op == op && ex->q[i].alg == alg && ex->q[i].key == job->key) {
			g = &ex->q[i];
			break;
		}
	}
	if (g == NULL && ex->nq < ACC_GROUPS) {
		g = &ex->q[ex->nq++];
		g->op = op;
		g->alg = alg;
		g->key = job->key;
		g->head = NULL;
		g->tail = &g->head;
		g->n = 0;
	} else if (g == NULL) {
		/* More shapes than groups in one poll iteration: share the
		 * last group (its batches then mix shapes; the OpenSSL path
		 * runs job by job, a batching backend must check). */
		g = &ex->q[ACC_GROUPS - 1];
	}
	*g->tail = job;
	g->tail = &job->next;
	g->n++;
	ex->pending++;
}

size_t
acc_exec_pending(const struct acc_exec *ex)
{
	return ex->pending;
}

bool
acc_exec_ready(const struct acc_exec *ex)
{
	if (ex->pending == 0)
		return false;
	if (ex->ifma == NULL)
		return true;
	for (size_t i = 0; i < ex->nq; i++)
		if (ex->q[i].n >= ACC_LANES)
			return true;
	return false;
}

void
acc_exec_set_hold(struct acc_exec *ex, uint32_t delay_us, uint32_t min_jobs)
{
	ex->hold_us = delay_us;
	ex->hold_min = min_jobs > 0 ? min_jobs : 1;
}

/* The largest group: the most jobs one batch could hold now. */
static size_t
acc_exec_largest(const struct acc_exec *ex)
{
	size_t most = 0;

	for (size_t i = 0; i < ex->nq; i++)
		if (ex->q[i].n > most)
			most = ex->q[i].n;
	return most;
}

bool
acc_exec_due(struct acc_exec *ex, uint64_t now_us)
{
	ex->hold_expired = false;
	if (ex->pending == 0)
		return false;
	if (ex->hold_us == 0)
		return true;
	if (ex->held_since == UINT64_MAX)
		ex->held_since = now_us;
	if (acc_exec_largest(ex) >= ex->hold_min)
		return true;
	ex->hold_expired = now_us - ex->held_since >= ex->hold_us;
	return ex->hold_expired;
}

uint64_t
acc_exec_deadline(const struct acc_exec *ex)
{
	if (ex->pending == 0 || ex->hold_us == 0 || ex->held_since == UINT64_MAX)
		return UINT64_MAX;
	return ex->held_since + ex->hold_us;
}

/* Whether a job can run on the lanes with key: an RSA signature, or a
 * premaster decryption whose ciphertext has the modulus length (a shorter
 * one is public and gets its random premaster from the OpenSSL path). */
static bool
acc_exec_lane_job(const struct acc_job *j, const struct acc_key *key)
{
	int pad;

	if (j->key != key || key->fast == NULL || key->max_sig > ACC_IFMA_RSA_BYTES)
		return false;
	if (j->op == ACC_OP_RSA_DECRYPT_PMS)
		return j->in_len == key->max_sig && j->out_cap >= 48;
	return j->op == ACC_OP_SIGN && acc_ossl_sig_kind(j->alg, &pad) == ACC_KEY_RSA &&
	       j->out_cap >= key->max_sig;
}

/* Put the jobs that the lanes can run first (the batch is of one key,
 * but the overflow group may mix shapes) and return how many of them the
 * lanes take: whole passes, and a partial pass only where it beats
 * OpenSSL running the remainder one by one. */
static size_t
acc_exec_ifma_takes(const struct acc_exec *ex, struct acc_job **jobs, size_t n)
{
	struct acc_job *rest[ACC_LANES];
	size_t lanes = 0, nrest = 0, rem;

	if (ex->ifma == NULL || jobs[0]->key == NULL || jobs[0]->key->type != ACC_KEY_RSA)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (acc_exec_lane_job(jobs[i], jobs[0]->key))
			jobs[lanes++] = jobs[i];
		else
			rest[nrest++] = jobs[i];
	}
	memcpy(jobs + lanes, rest, nrest * sizeof(rest[0]));
	rem = lanes % ACC_IFMA_PER_PASS;
	if (rem < (jobs[0]->key->bits <= 2048 ? ACC_IFMA_PARTIAL_2048 : ACC_IFMA_PARTIAL_LARGER))
		lanes -= rem;
	return lanes;
}

/* The RSA private operations of one key on the lanes. Signatures: our
 * encoding in, the signature out. Premaster decryptions: the ciphertext
 * in, the padding checked in constant time (acc_rsa_pad_tls_pms). A
 * result that failed its check is done again by OpenSSL. */
static void
acc_exec_ifma_rsa(struct acc_exec *ex, struct acc_job **jobs, size_t n)
{
	const struct acc_key *key = jobs[0]->key;
	uint8_t em[ACC_IFMA_RSA_MAX][ACC_IFMA_RSA_BYTES];
	const uint8_t *in[ACC_IFMA_RSA_MAX];
	uint8_t *out[ACC_IFMA_RSA_MAX];
	struct acc_job *run[ACC_IFMA_RSA_MAX];
	bool ok[ACC_IFMA_RSA_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const EVP_MD *md = acc_ossl_sig_md(jobs[i]->alg);
		int pad = 0, rc = -1;

		if (jobs[i]->op == ACC_OP_RSA_DECRYPT_PMS) {
			in[k] = jobs[i]->in;
			out[k] = em[k]; /* the padded block, checked below */
			run[k++] = jobs[i];
			continue;
		}
		if (md != NULL) {
			(void)acc_ossl_sig_kind(jobs[i]->alg, &pad);
			rc = pad == RSA_PKCS1_PSS_PADDING
				     ? acc_rsa_pad_pss(md, jobs[i]->in, jobs[i]->in_len, em[k], key->max_sig, key->bits)
				     : acc_rsa_pad_pkcs1(md, jobs[i]->in, jobs[i]->in_len, em[k], key->max_sig);
		}
		if (rc != 0) {
			jobs[i]->status = ACC_FAILED;
			jobs[i]->out_len = 0;
			continue;
		}
		in[k] = em[k];
		out[k] = jobs[i]->out;
		run[k++] = jobs[i];
	}
	ex->stats.fault_rechecks += acc_ifma_rsa_private(ex->ifma, key->fast, k, in, out, ok);
	ex->stats.lane_jobs += k;
	ex->stats.lane_passes += (k + ACC_IFMA_PER_PASS - 1) / ACC_IFMA_PER_PASS;
	for (size_t i = 0; i < k; i++) {
		struct acc_job *j = run[i];

		/* Out of range (c >= n is public) or a failed check: OpenSSL. */
		if (ok[i] && j->op == ACC_OP_RSA_DECRYPT_PMS)
			ok[i] = acc_rsa_pad_tls_pms(em[i], key->max_sig, j->client_version, j->out) == 0;
		if (ok[i]) {
			j->status = ACC_DONE;
			j->out_len = j->op == ACC_OP_RSA_DECRYPT_PMS ? 48 : (uint32_t)key->max_sig;
		} else {
			acc_ossl_run(ex->ossl, j);
		}
	}
	OPENSSL_cleanse(em, sizeof(em));
}

/* A job outside the lanes. X25519MLKEM768 shares run one at a time:
 * there is no lane code for ML-KEM (the machines this was written on have
 * no AVX-512 to measure it with). */
static void
acc_exec_run_one(struct acc_exec *ex, struct acc_job *job)
{
	if (job->alg == ACC_GROUP_X25519MLKEM768 && job->op != ACC_OP_SIGN && job->op != ACC_OP_RSA_DECRYPT_PMS)
		acc_mlkem_kx_run(ex->ossl, ex->mlkem, job);
	else
		acc_ossl_run(ex->ossl, job);
}

static void
acc_exec_run_batch(struct acc_exec *ex, struct acc_job **jobs, size_t n)
{
	size_t lanes = acc_exec_ifma_takes(ex, jobs, n);

	if (lanes > 0)
		acc_exec_ifma_rsa(ex, jobs, lanes);
	else if (ex->ifma != NULL)
		lanes = acc_ifma_kx_run(ex->ossl, ex->kx_pool, jobs, n, &ex->stats);
	for (size_t i = lanes; i < n; i++)
		acc_exec_run_one(ex, jobs[i]);
	ex->stats.batches++;
	ex->stats.lanes_filled += n;
}

size_t
acc_exec_flush(struct acc_exec *ex, acc_done_fn done, void *arg)
{
	struct acc_group_q q[ACC_GROUPS];
	struct acc_job *batch[ACC_LANES], *j, *next;
	size_t nq = ex->nq, i, n, completed = 0;
	/* Without lanes a batch is one job: each is handed back when done,
	 * so that its owner's flight need not wait for the others' work. */
	size_t per = ex->ifma != NULL ? ACC_LANES : 1;

	if (ex->pending == 0)
		return 0;
	/* Detach the queue so that callbacks may submit for the next flush. */
	memcpy(q, ex->q, nq * sizeof(q[0]));
	ex->nq = 0;
	ex->pending = 0;
	ex->held_since = UINT64_MAX; /* jobs the callbacks submit wait anew */
	ex->stats.flushes++;
	if (ex->hold_expired)
		ex->stats.held_flushes++;
	ex->hold_expired = false;
	for (i = 0; i < nq; i++) {
		for (j = q[i].head; j != NULL;) {
			for (n = 0; j != NULL && n < per; j = j->next)
				batch[n++] = j;
			acc_exec_run_batch(ex, batch, n);
			for (size_t k = 0; k < n; k++) {
				ex->stats.jobs++;
				if (batch[k]->status != ACC_DONE)
					ex->stats.failed++;
			}
			/* next links are read before done() may resubmit a job. */
			next = j;
			for (size_t k = 0; k < n; k++) {
				batch[k]->next = NULL;
				done(batch[k], arg);
				completed++;
			}
			j = next;
		}
	}
	return completed;
}

/* Field by field with relaxed atomic loads: the metrics control thread
 * reads a worker's counters while the worker runs (each is written by
 * that worker only). */
void
acc_exec_stats(const struct acc_exec *ex, struct acc_stats *out)
{
	const uint64_t *src = (const uint64_t *)&ex->stats;
	uint64_t *dst = (uint64_t *)out;

	_Static_assert(sizeof(struct acc_stats) % sizeof(uint64_t) == 0, "acc_stats is all uint64_t");
	for (size_t i = 0; i < sizeof(struct acc_stats) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
