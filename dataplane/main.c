/* tlsoffload: configuration -> listener contexts -> dataplane. */
#include <malloc.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "dp_ctl.h"
#include "dp_gen.h"
#include "dp_kernel.h"
#include "tlso_build.h"
#if TLSO_HAVE_DPDK
#include "dp_dpdk.h"
#endif
#include "dp_log.h"
#include "dp_tickets.h"
#include "hsk_algs.h"
#include "hsk_sess.h"
#include "hsk_ticket.h"


int
main(int argc, char **argv)
{
	struct hsk_sess_cache *cache = NULL;
	struct hsk_tickets *tickets = NULL;
	struct dp_tickets *rotation = NULL;
	struct dp_gen *gen = NULL;
	struct dp_ctl ctl;
	bool ctl_up = false;
	struct cfg cfg;
	char err[1024];
	int rc = 1;

	/* Connection objects (about 52 KiB) beyond each worker's pool come
	 * from mmap and go back to the system when freed. With glibc's
	 * default (a threshold that rises to the largest block freed) they
	 * come from the heap, and bursts of connections (a flood of aborted
	 * handshakes) leave it fragmented: the RSS rose by 10 MB over
	 * 100,000 aborted handshakes after a warm-up (hostile.sh), 2 MB
	 * with this. A fixed threshold no longer rises. */
	(void)mallopt(M_MMAP_THRESHOLD, 32 * 1024);
	cfg_init(&cfg);
	switch (cfg_parse_args(&cfg, argc, argv, err, sizeof(err))) {
	case CFG_ARGS_HELP:
		cfg_usage(stdout);
		cfg_free(&cfg);
		return 0;
	case CFG_ARGS_VERSION:
		printf("%s\n", cfg_version());
		cfg_free(&cfg);
		return 0;
	case CFG_ARGS_OK:
		break;
	case CFG_ARGS_ERROR:
	default:
		fprintf(stderr, "tlsoffload: %s\n(see tlsoffload --help)\n", err);
		cfg_free(&cfg);
		return 2;
	}
	dp_log_level = (int)cfg.log_level;
	dp_log_json = cfg.log_format == CFG_LOG_JSON;
	if (cfg_validate(&cfg, err, sizeof(err)) != 0) {
		dp_log(DP_LOG_ERROR, "%s", err);
		goto out;
	}
	if (hsk_algs_init() != 0) {
		dp_log(DP_LOG_ERROR, "libcrypto lacks an algorithm the engine needs");
		goto out;
	}
	/* One ticket key set for every listener and every generation. */
	tickets = hsk_tickets_new();
	if (tickets == NULL) {
		dp_log(DP_LOG_ERROR, "cannot create ticket keys");
		goto out;
	}
	if (cfg.ticket_key_file != NULL &&
	    hsk_tickets_load_file(tickets, cfg.ticket_key_file, err, sizeof(err)) != 0) {
		dp_log(DP_LOG_ERROR, "%s", err);
		goto out;
	}
	for (size_t i = 0; cfg.mode == CFG_MODE_PROXY && cfg.dataplane == CFG_DATAPLANE_DPDK && i < cfg.n_backends; i++) {
		if (cfg.backends[i].family == AF_INET6) { /* the userspace TCP has no IPv6 */
			dp_log(DP_LOG_ERROR, "backend %s: proxy mode on the dpdk dataplane reaches IPv4 backends only",
			       cfg.backends[i].host);
			goto out;
		}
	}
	/* The listeners' contexts: generation 1 (a reload builds the next
	 * ones the same way, dp_ctl.c). */
	gen = dp_gen_new(&cfg, false, tickets, NULL, err, sizeof(err));
	if (gen == NULL) {
		dp_log(DP_LOG_ERROR, "%s", err);
		goto out;
	}
	if (cfg.check_config) {
		printf("configuration OK: %zu listener%s, %u worker%s\n", cfg.n_listeners,
		       cfg.n_listeners == 1 ? "" : "s", cfg.n_cores ? (unsigned)cfg.n_cores : cfg.workers,
		       (cfg.n_cores ? cfg.n_cores : cfg.workers) == 1 ? "" : "s");
		rc = 0;
		goto out;
	}
	cache = hsk_sess_cache_new(cfg.n_cores ? (unsigned)cfg.n_cores : cfg.workers,
				   cfg.session_cache_size);
	if (cache == NULL) {
		dp_log(DP_LOG_ERROR, "cannot allocate the session cache");
		goto out;
	}
	/* Signals blocked from here on: every thread started later (ticket
	 * rotation, workers, EAL's) inherits the mask, and only the control
	 * thread takes them (signalfd). */
	if (dp_ctl_init(&ctl, argc, argv, &cfg, tickets, NULL, gen) != 0)
		goto out;
	ctl_up = true;
	gen = NULL; /* published: the control thread's now */
	rotation = dp_tickets_start(tickets, cfg.ticket_key_file, cfg.ticket_rotation_s);
	if (rotation == NULL)
		goto out;
	ctl.rotation = rotation;
#if TLSO_HAVE_DPDK
	if (cfg.dataplane == CFG_DATAPLANE_DPDK)
		rc = dp_dpdk_run(&cfg, &ctl, cache) == 0 ? 0 : 1;
	else
#endif
		rc = dp_kernel_run(&cfg, &ctl, cache) == 0 ? 0 : 1;
out:
	dp_tickets_stop(rotation);
	if (ctl_up)
		dp_ctl_fini(&ctl); /* the last generation's contexts */
	dp_gen_free(gen);
	hsk_tickets_free(tickets);
	hsk_sess_cache_free(cache);
	cfg_free(&cfg);
	return rc;
}
