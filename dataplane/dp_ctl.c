/* Signals, reload and drain on the control thread (dp_ctl.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cfg_value.h"
#include "dp_backend.h"
#include "dp_ctl.h"
#include "dp_log.h"
#include "dp_tickets.h"

/* How long a reload waits for every worker to take the new generation
 * (one poll iteration each, after a wake-up) before it keeps the old one
 * allocated rather than risk freeing it under a worker. */
#define DP_CTL_PUBLISH_WAIT_MS 2000

int
dp_ctl_init(struct dp_ctl *ctl, int argc, char **argv, const struct cfg *base, struct hsk_tickets *tickets,
	    struct dp_tickets *rotation, struct dp_gen *first)
{
	unsigned n = base->n_cores ? (unsigned)base->n_cores : base->workers;

	memset(ctl, 0, sizeof(*ctl));
	ctl->argc = argc;
	ctl->argv = argv;
	ctl->base = base;
	ctl->tickets = tickets;
	ctl->rotation = rotation;
	ctl->sfd = -1;
	sigemptyset(&ctl->sigs);
	sigaddset(&ctl->sigs, SIGINT);
	sigaddset(&ctl->sigs, SIGTERM);
	sigaddset(&ctl->sigs, SIGHUP);
	sigaddset(&ctl->sigs, SIGUSR1);
	/* Writes to a closed socket fail with EPIPE instead. */
	sigaddset(&ctl->sigs, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &ctl->sigs, NULL) != 0 || dp_gens_init(&ctl->gens, first, n) != 0) {
		dp_log(DP_LOG_ERROR, "control thread: %s", strerror(errno));
		return -1;
	}
	ctl->gens.drain_timeout_ms = base->drain_timeout_ms;
	ctl->sfd = signalfd(-1, &ctl->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ctl->sfd < 0) {
		dp_log(DP_LOG_ERROR, "control thread: signalfd: %s", strerror(errno));
		dp_gens_fini(&ctl->gens);
		return -1;
	}
	return 0;
}

static bool
dp_ctl_addr_same(const struct cfg_addr *a, const struct cfg_addr *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* A setting that needs a restart changed: log it, keep the running value. */
#define DP_CTL_KEEP(field, name)                                                                           \
	do {                                                                                               \
		if (nc->field != base->field) {                                                            \
			dp_log(DP_LOG_WARN, "reload: %s changed: needs a restart; kept as it was", name); \
			nc->field = base->field;                                                           \
		}                                                                                          \
	} while (0)

/* What a running server cannot change into nc: the values of base. -1
 * when nc cannot be mapped onto the running listeners. */
static int
dp_ctl_keep(const struct cfg *base, struct cfg *nc, char *err, size_t errlen)
{
	DP_CTL_KEEP(dataplane, "dataplane");
	DP_CTL_KEEP(mode, "mode");
	DP_CTL_KEEP(accel, "accel");
	DP_CTL_KEEP(session_cache_size, "session_cache");
	DP_CTL_KEEP(conn_buffer, "limits.conn_buffer");
	DP_CTL_KEEP(dpdk_max_conns, "dpdk max_conns");
	/* each worker's executor keeps the values it started with */
	DP_CTL_KEEP(batch_delay_us, "batch.delay_us");
	DP_CTL_KEEP(batch_min, "batch.min");
	/* each worker's store connection is made at start */
	if (nc->session_store.on != base->session_store.on || nc->session_store.db != base->session_store.db ||
	    nc->session_store.timeout_ms != base->session_store.timeout_ms ||
	    (base->session_store.on && !dp_ctl_addr_same(&nc->session_store.addr, &base->session_store.addr))) {
		dp_log(DP_LOG_WARN, "reload: session_store changed: needs a restart; kept as it was");
		nc->session_store = base->session_store;
	}
	if (nc->workers != base->workers || nc->n_cores != base->n_cores ||
	    memcmp(nc->cores, base->cores, sizeof(nc->cores[0]) * base->n_cores) != 0) {
		dp_log(DP_LOG_WARN, "reload: workers or cores changed: needs a restart; kept as they were");
		nc->workers = base->workers;
		nc->n_cores = base->n_cores;
		memcpy(nc->cores, base->cores, sizeof(nc->cores));
	}
	/* Listeners are matched by position: their sockets stay open. */
	if (nc->n_listeners != base->n_listeners) {
		snprintf(err, errlen, "the number of listeners changed (%zu, running %zu): needs a restart",
			 nc->n_listeners, base->n_listeners);
		return -1;
	}
	for (size_t i = 0; i < nc->n_listeners; i++) {
		if (dp_ctl_addr_same(&nc->listeners[i].addr, &base->listeners[i].addr))
			continue;
		dp_log(DP_LOG_WARN, "reload: listener %zu address changed (%s:%u): needs a restart; kept at %s:%u",
		       i, nc->listeners[i].addr.host, nc->listeners[i].addr.port, base->listeners[i].addr.host,
		       base->listeners[i].addr.port);
		nc->listeners[i].addr = base->listeners[i].addr;
	}
	/* The rotation thread follows the file named at start. */
	if ((nc->ticket_key_file == NULL) != (base->ticket_key_file == NULL) ||
	    (nc->ticket_key_file != NULL && strcmp(nc->ticket_key_file, base->ticket_key_file) != 0)) {
		char *keep = base->ticket_key_file != NULL ? strdup(base->ticket_key_file) : NULL;

		if (base->ticket_key_file != NULL && keep == NULL) {
			snprintf(err, errlen, "no memory");
			return -1;
		}
		dp_log(DP_LOG_WARN, "reload: tickets.key_file changed: needs a restart; kept as it was");
		free(nc->ticket_key_file);
		nc->ticket_key_file = keep;
	}
	return 0;
}

/* The configuration again, as at start, into a new generation. NULL with
 * the reason. */
static struct dp_gen *
dp_ctl_build(struct dp_ctl *ctl, char *err, size_t errlen)
{
	struct dp_gen *cur = atomic_load(&ctl->gens.cur), *g;
	struct cfg *nc = malloc(sizeof(*nc));

	if (nc == NULL) {
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	cfg_init(nc);
	if (cfg_parse_args(nc, ctl->argc, ctl->argv, err, errlen) != CFG_ARGS_OK ||
	    dp_ctl_keep(ctl->base, nc, err, errlen) != 0 || cfg_validate(nc, err, errlen) != 0 ||
	    (nc->mode == CFG_MODE_PROXY && dp_backends_resolve(nc, err, errlen) != 0))
		goto fail;
	g = dp_gen_new(nc, true, ctl->tickets, cur, err, errlen);
	if (g == NULL)
		goto fail;
	return g;
fail:
	cfg_free(nc);
	free(nc);
	return NULL;
}

static void
dp_ctl_reload(struct dp_ctl *ctl)
{
	char err[1024];
	struct dp_gen *g = dp_ctl_build(ctl, err, sizeof(err));

	if (g == NULL) {
		dp_log(DP_LOG_ERROR, "reload refused, the running configuration stays: %s", err);
		return;
	}
	/* Last, as it cannot be undone: the ticket keys (the same file). */
	if (dp_tickets_reread(ctl->rotation, err, sizeof(err)) != 0) {
		dp_log(DP_LOG_ERROR, "reload refused, the running configuration stays: %s", err);
		dp_gen_free(g);
		return;
	}
	dp_gens_publish(&ctl->gens, g, ctl->wake, ctl->arg, DP_CTL_PUBLISH_WAIT_MS);
	dp_log(DP_LOG_INFO, "reloaded: generation %u, %zu listener%s, %zu backend%s", g->serial, g->n,
	       g->n == 1 ? "" : "s", g->cfg->n_backends, g->cfg->n_backends == 1 ? "" : "s");
}

/* One signal. */
static void
dp_ctl_signal(struct dp_ctl *ctl, int sig)
{
	switch (sig) {
	case SIGHUP:
		if (atomic_load(&ctl->gens.drain))
			dp_log(DP_LOG_WARN, "SIGHUP ignored: draining");
		else
			dp_ctl_reload(ctl);
		break;
	case SIGUSR1:
		if (ctl->stats != NULL)
			ctl->stats(ctl->arg);
		break;
	case SIGINT:
	case SIGTERM:
		if (!atomic_load(&ctl->gens.drain)) {
			dp_log(DP_LOG_INFO, "shutting down: listeners closed, %u ms for what is in flight",
			       ctl->gens.drain_timeout_ms);
			atomic_store_explicit(&ctl->gens.drain, true, memory_order_release);
		} else {
			dp_log(DP_LOG_INFO, "second signal: closing every connection now");
			atomic_store(&ctl->gens.stop, true);
		}
		if (ctl->wake != NULL)
			ctl->wake(ctl->arg);
		break;
	default:
		break; /* SIGPIPE: blocked only */
	}
}

void
dp_ctl_run(struct dp_ctl *ctl, unsigned n_workers)
{
	while (atomic_load_explicit(&ctl->gens.done, memory_order_acquire) < n_workers) {
		struct pollfd pfd[2] = { { ctl->sfd, POLLIN, 0 }, { ctl->gens.notify_fd, POLLIN, 0 } };
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0) {
			struct timespec ms = { 0, 1000000 };

			if (errno == EINTR)
				continue;
			/* Signals can no longer reach us: stop the workers. */
			dp_log(DP_LOG_ERROR, "control thread: poll: %s; stopping", strerror(errno));
			atomic_store(&ctl->gens.stop, true);
			if (ctl->wake != NULL)
				ctl->wake(ctl->arg);
			nanosleep(&ms, NULL);
			continue;
		}
		while (read(ctl->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			dp_ctl_signal(ctl, (int)si.ssi_signo);
		dp_gens_reap(&ctl->gens);
	}
}

void
dp_ctl_fini(struct dp_ctl *ctl)
{
	dp_gens_fini(&ctl->gens);
	if (ctl->sfd >= 0)
		close(ctl->sfd);
	ctl->sfd = -1;
}
