/* tlsoffload: configuration -> listener contexts -> dataplane. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "dp_kernel.h"
#include "tlso_build.h"
#if TLSO_HAVE_DPDK
#include "dp_dpdk.h"
#endif
#include "dp_log.h"
#include "dp_tickets.h"
#include "hsk_algs.h"
#include "hsk_ctx.h"
#include "hsk_sess.h"
#include "hsk_ticket.h"

_Static_assert(CFG_MAX_CERTS == HSK_MAX_CERTS, "certificate capacities differ");
_Static_assert(CFG_MAX_SUITES == HSK_MAX_SUITES, "suite capacities differ");
_Static_assert(CFG_MAX_GROUPS == HSK_MAX_GROUPS, "group capacities differ");
_Static_assert(CFG_MAX_SIGALGS == HSK_MAX_SIGALGS, "sigalg capacities differ");
_Static_assert(CFG_MAX_ALPN == HSK_MAX_ALPN, "ALPN capacities differ");

/* One listener's policy into its engine context; errors name the origin. */
static int
main_ctx(struct hsk_ctx *ctx, const struct cfg *cfg, const struct cfg_listener *l, char *err, size_t errlen)
{
	const struct cfg_tls *t = &l->tls;
	char msg[512], suites[4096];
	uint16_t ids[16];
	size_t n;

	hsk_ctx_init(ctx);
	if (t->version_min != 0)
		ctx->version_min = t->version_min;
	if (t->version_max != 0)
		ctx->version_max = t->version_max;
	if (ctx->version_min > ctx->version_max) {
		snprintf(err, errlen, "%s: tls-min is above tls-max", l->origin);
		return -1;
	}
	if (cfg_tls_suites_string(t, suites, sizeof(suites)) < 0 ||
	    hsk_ctx_set_suites(ctx, suites, msg, sizeof(msg)) != 0)
		goto fail;
	for (n = 0; n < t->n_groups; n++)
		ids[n] = cfg_tls_group_id(t->groups[n]);
	if (hsk_ctx_set_groups(ctx, ids, n, msg, sizeof(msg)) != 0)
		goto fail;
	for (n = 0; n < t->n_sigalgs; n++)
		ids[n] = cfg_tls_sigalg_id(t->sigalgs[n]);
	if (hsk_ctx_set_sigalgs(ctx, ids, n, msg, sizeof(msg)) != 0)
		goto fail;
	if (t->n_alpn > 0) {
		for (n = 0; n < t->n_alpn; n++)
			ctx->alpn[n] = t->alpn[n];
		ctx->n_alpn = t->n_alpn;
	}
	ctx->resumption = t->resumption;
	ctx->max_hs_msg = t->max_handshake_message;
	ctx->session_lifetime_s = cfg->session_lifetime_s;
	ctx->tickets13 = (uint8_t)cfg->tickets;
	ctx->psk_modes = (uint8_t)((cfg->psk_modes & CFG_PSK_DHE_KE ? HSK_PSK_DHE_KE : 0) |
				   (cfg->psk_modes & CFG_PSK_KE ? HSK_PSK_KE : 0));
	for (n = 0; n < l->n_certs; n++)
		if (hsk_ctx_add_cert(ctx, l->certs[n].cert_file, l->certs[n].key_file, msg, sizeof(msg)) != 0)
			goto fail;
	if (t->client_auth != CFG_CLIENT_AUTH_NONE &&
	    hsk_ctx_set_client_auth(ctx, (int)t->client_auth, t->ca_file, msg, sizeof(msg)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", l->origin, msg);
	return -1;
}

int
main(int argc, char **argv)
{
	struct hsk_ctx ctxs[CFG_MAX_LISTENERS];
	struct hsk_sess_cache *cache = NULL;
	struct hsk_tickets *tickets = NULL;
	struct dp_tickets *rotation = NULL;
	struct cfg cfg;
	char err[1024];
	size_t built = 0;
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
	for (built = 0; built < cfg.n_listeners; built++) {
		if (main_ctx(&ctxs[built], &cfg, &cfg.listeners[built], err, sizeof(err)) != 0) {
			hsk_ctx_free(&ctxs[built]);
			dp_log(DP_LOG_ERROR, "%s", err);
			goto out;
		}
	}
	/* One ticket key set for every listener (tickets carry the listener's
	 * id, so they never cross listeners). */
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
	for (size_t i = 0; i < built; i++)
		ctxs[i].tickets = tickets;
	if (cfg.check_config) {
		printf("configuration OK: %zu listener%s, %u worker%s\n", cfg.n_listeners,
		       cfg.n_listeners == 1 ? "" : "s", cfg.n_cores ? (unsigned)cfg.n_cores : cfg.workers,
		       (cfg.n_cores ? cfg.n_cores : cfg.workers) == 1 ? "" : "s");
		rc = 0;
		goto out;
	}
	if (cfg.mode == CFG_MODE_PROXY && cfg.dataplane != CFG_DATAPLANE_KERNEL) {
		dp_log(DP_LOG_ERROR, "proxy mode runs on the kernel dataplane only (for now)");
		goto out;
	}
	cache = hsk_sess_cache_new(cfg.n_cores ? (unsigned)cfg.n_cores : cfg.workers,
				   cfg.session_cache_size);
	if (cache == NULL) {
		dp_log(DP_LOG_ERROR, "cannot allocate the session cache");
		goto out;
	}
	rotation = dp_tickets_start(tickets, cfg.ticket_key_file, cfg.ticket_rotation_s);
	if (rotation == NULL)
		goto out;
#if TLSO_HAVE_DPDK
	if (cfg.dataplane == CFG_DATAPLANE_DPDK)
		rc = dp_dpdk_run(&cfg, ctxs, cache) == 0 ? 0 : 1;
	else
#endif
		rc = dp_kernel_run(&cfg, ctxs, cache) == 0 ? 0 : 1;
out:
	dp_tickets_stop(rotation);
	hsk_tickets_free(tickets);
	hsk_sess_cache_free(cache);
	for (size_t i = 0; i < built; i++)
		hsk_ctx_free(&ctxs[i]);
	cfg_free(&cfg);
	return rc;
}
