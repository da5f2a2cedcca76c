/* The control thread of either dataplane (the main thread on the kernel
 * one): signals, reloads and the drain, off the workers' poll loops.
 *
 *  SIGHUP   re-read the configuration exactly as at start (the same
 *           command line, so the same -c file), build a new generation
 *           (dp_gen.h) and publish it; a configuration that does not load
 *           (parse error, missing or mismatched key, bad ticket key file,
 *           unresolvable backend) is refused with the reason logged and the
 *           old one serves on. What cannot change without a restart
 *           (listen addresses, workers and cores, dataplane, mode, crypto
 *           backend, session cache size, socket buffers, the ticket key
 *           file's name) keeps its old value, logged.
 *  SIGTERM, SIGINT
 *           drain: workers close their listeners and let what is in
 *           flight finish for up to drain_timeout; a second one closes
 *           everything at once.
 *  SIGUSR1  the dataplane's counters into the log. */
#ifndef DP_CTL_H
#define DP_CTL_H

#include <signal.h>

#include "cfg.h"
#include "dp_gen.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp_tickets;
struct hsk_tickets;

struct dp_ctl {
	struct dp_gens gens;
	int argc;
	char **argv;
	const struct cfg *base;    /* the configuration of the start */
	struct hsk_tickets *tickets;
	struct dp_tickets *rotation;
	int sfd;                   /* signalfd */
	sigset_t sigs;
	/* the dataplane's part */
	void (*wake)(void *arg);   /* make every worker look at dp_gens now */
	void (*stats)(void *arg);  /* SIGUSR1 */
	void *arg;
};

/* Block the signals above in the calling thread (threads created after
 * inherit it: call before starting workers or EAL), and take first as the
 * current generation. 0, or -1 (logged). */
int dp_ctl_init(struct dp_ctl *ctl, int argc, char **argv, const struct cfg *base, struct hsk_tickets *tickets,
		struct dp_tickets *rotation, struct dp_gen *first);
/* Serve signals until n_workers workers have left their loops (after a
 * drain); call once they all started. */
void dp_ctl_run(struct dp_ctl *ctl, unsigned n_workers);
/* After the workers are gone: the last generation, the signal fd. */
void dp_ctl_fini(struct dp_ctl *ctl);

#ifdef __cplusplus
}
#endif
#endif
