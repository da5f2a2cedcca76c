/* The kernel dataplane: N pinned worker threads, each with its own epoll,
 * its own SO_REUSEPORT listening sockets, executor and session-cache
 * shard, serving respond mode. */
#ifndef DP_KERNEL_H
#define DP_KERNEL_H

#include "cfg.h"
#include "hsk_sess.h"

struct dp_ctl;

/* Run until drained after SIGINT/SIGTERM; the calling thread serves the
 * signals (dp_ctl_run). The listeners' contexts are ctl's current
 * generation. Returns 0, or -1 if the workers could not start (the
 * reason is logged). */
int dp_kernel_run(const struct cfg *cfg, struct dp_ctl *ctl, struct hsk_sess_cache *cache);

#endif
