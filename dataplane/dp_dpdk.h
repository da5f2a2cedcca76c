/* The dpdk dataplane: EAL, a port with a queue pair per worker lcore, the
 * userspace stack and the engine on each worker (dp_dpdk.c). */
#ifndef DP_DPDK_H
#define DP_DPDK_H

#include "cfg.h"
#include "hsk_sess.h"

struct dp_ctl;

/* Run until drained after SIGINT/SIGTERM; a control thread serves the
 * signals (dp_ctl.h: SIGHUP reloads, SIGUSR1 logs counters). The
 * listeners' contexts are ctl's current generation. EAL arguments come
 * from cfg->eal_args ("-l" is added from the workers when absent).
 * Returns 0, or -1 when EAL, the port or a worker could not start
 * (logged). */
int dp_dpdk_run(const struct cfg *cfg, struct dp_ctl *ctl, struct hsk_sess_cache *cache);

#endif
