/* The kernel dataplane: N pinned worker threads, each with its own epoll,
 * its own SO_REUSEPORT listening sockets, executor and session-cache
 * shard, serving respond mode. */
#ifndef DP_KERNEL_H
#define DP_KERNEL_H

#include "cfg.h"
#include "hsk_ctx.h"
#include "hsk_sess.h"

/* Run until SIGINT/SIGTERM. ctxs[i] serves cfg->listeners[i]. Returns 0,
 * or -1 if the workers could not start (the reason is logged). */
int dp_kernel_run(const struct cfg *cfg, struct hsk_ctx *ctxs, struct hsk_sess_cache *cache);

#endif
