/* The per-worker crypto-job executor.
 *
 * Jobs queue in groups keyed by (operation, algorithm, key), because a
 * batching backend can only put operations of one shape in the lanes of
 * one register. acc_exec_flush() takes the whole queue (jobs submitted by
 * the done callbacks wait for the next flush), runs every group in
 * batches of at most ACC_LANES, and hands each job back. */
#include <stdlib.h>
#include <string.h>

#include "acc_exec.h"
#include "acc_key_priv.h"
#include "acc_ossl.h"

#define ACC_LANES 8
#define ACC_GROUPS 16

struct acc_group_q {
	uint8_t op;
	uint16_t alg;
	const struct acc_key *key;
	struct acc_job *head, **tail;
	size_t n;
};

struct acc_exec {
	const char *backend;
	struct acc_ossl *ossl;
	struct acc_group_q q[ACC_GROUPS];
	size_t nq;
	size_t pending;
	struct acc_stats stats;
};

struct acc_exec *
acc_exec_new(const char *backend)
{
	struct acc_exec *ex;

	if (backend == NULL || strcmp(backend, "auto") == 0)
		backend = "openssl";
	if (strcmp(backend, "openssl") != 0)
		return NULL; /* "ifma" arrives with the multi-buffer RSA backend */
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL)
		return NULL;
	ex->backend = "openssl";
	ex->ossl = acc_ossl_new();
	if (ex->ossl == NULL) {
		free(ex);
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
	size_t i;

	job->status = ACC_PENDING;
	job->next = NULL;
	for (i = 0; i < ex->nq; i++) {
		if (ex->q[i].op == job->op && ex->q[i].alg == job->alg && ex->q[i].key == job->key) {
			g = &ex->q[i];
			break;
		}
	}
	if (g == NULL && ex->nq < ACC_GROUPS) {
		g = &ex->q[ex->nq++];
		g->op = job->op;
		g->alg = job->alg;
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

/* Run up to ACC_LANES jobs of one shape. The place where a batching
 * backend takes a full (or worthwhile partial) batch; the OpenSSL
 * reference runs them one by one. */
static void
acc_exec_run_batch(struct acc_exec *ex, struct acc_job **jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		acc_ossl_run(ex->ossl, jobs[i]);
	ex->stats.batches++;
	ex->stats.lanes_filled += n;
}

size_t
acc_exec_flush(struct acc_exec *ex, acc_done_fn done, void *arg)
{
	struct acc_group_q q[ACC_GROUPS];
	struct acc_job *batch[ACC_LANES], *j, *next;
	size_t nq = ex->nq, i, n, completed = 0;

	if (ex->pending == 0)
		return 0;
	/* Detach the queue so that callbacks may submit for the next flush. */
	memcpy(q, ex->q, nq * sizeof(q[0]));
	ex->nq = 0;
	ex->pending = 0;
	for (i = 0; i < nq; i++) {
		for (j = q[i].head; j != NULL;) {
			for (n = 0; j != NULL && n < ACC_LANES; j = j->next)
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

void
acc_exec_stats(const struct acc_exec *ex, struct acc_stats *out)
{
	*out = ex->stats;
}
