/* The per-worker crypto-job executor (DESIGN.md): jobs are queued by
 * operation and key, and acc_exec_flush(), called at the end of every poll
 * iteration, runs them (full batches of 8 where a batching backend exists,
 * the remainder on the best path for a partial batch) and hands each back.
 * One executor per worker thread; it is not thread-safe and needs no lock. */
#ifndef ACC_EXEC_H
#define ACC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acc_job.h"

#ifdef __cplusplus
extern "C" {
#endif

struct acc_exec;

/* backend: "auto" (or NULL), "openssl", "ifma". NULL on failure (an
 * unknown backend, or "ifma" forced on a CPU without AVX-512 IFMA). */
struct acc_exec *acc_exec_new(const char *backend);
void acc_exec_free(struct acc_exec *ex);
const char *acc_exec_backend(const struct acc_exec *ex);

/* Queue a job; its status becomes ACC_PENDING. */
void acc_exec_submit(struct acc_exec *ex, struct acc_job *job);
size_t acc_exec_pending(const struct acc_exec *ex);
/* Whether flushing now gives up no batching: the OpenSSL backend runs
 * job by job, and a group already holding a full batch gains nothing
 * from waiting. The dataplane then flushes before it reads more sockets,
 * so that no finished flight waits for the rest of a poll iteration. */
bool acc_exec_ready(const struct acc_exec *ex);

/* The bounded flush delay (issue 14, off by default): with delay_us > 0
 * the executor holds its queued jobs until one group (jobs that can share
 * a batch: one operation and key) has min_jobs of them, or until delay_us
 * have passed since the first of them was seen, so that a batching
 * backend can fill its lanes at some cost in latency. The executor has no
 * clock: the dataplane passes its own time (microseconds, monotonic) to
 * acc_exec_due and sleeps at most until acc_exec_deadline. delay_us = 0
 * turns the hold off; min_jobs is taken as at least 1. */
void acc_exec_set_hold(struct acc_exec *ex, uint32_t delay_us, uint32_t min_jobs);
/* Whether the queued jobs are to run at now_us. The first call that finds
 * jobs queued since the last flush starts their wait at now_us, so the
 * dataplane passes the time its poll iteration began (no later than the
 * jobs' submission). Without a hold: whether any job is queued. */
bool acc_exec_due(struct acc_exec *ex, uint64_t now_us);
/* When the held jobs must run (UINT64_MAX: nothing held, or the wait has
 * not started: acc_exec_due was not called since they were queued). */
uint64_t acc_exec_deadline(const struct acc_exec *ex);

typedef void (*acc_done_fn)(struct acc_job *job, void *arg);

/* Run every queued job and call done(job, arg) for each, in any order,
 * as soon as its batch is done (before the next batch runs; a batch is
 * one job without lanes). done may submit new jobs: they run in the next
 * flush. Returns the number of jobs completed. */
size_t acc_exec_flush(struct acc_exec *ex, acc_done_fn done, void *arg);

struct acc_stats {
	uint64_t jobs;
	uint64_t batches;
	uint64_t lanes_filled;
	uint64_t failed;
	uint64_t fault_rechecks; /* RSA results recomputed after a failed self-check */
	uint64_t lane_jobs;      /* jobs run on the IFMA lanes (RSA private operations, X25519) */
	uint64_t lane_passes;    /* passes of the lanes (4 RSA operations or 8 X25519 multiplications) */
	uint64_t flushes;        /* acc_exec_flush calls that ran jobs: jobs / flushes is the fill */
	uint64_t held_flushes;   /* of those, after a hold that ran to its deadline */
};

void acc_exec_stats(const struct acc_exec *ex, struct acc_stats *out);

#ifdef __cplusplus
}
#endif
#endif
