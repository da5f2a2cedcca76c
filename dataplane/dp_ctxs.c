/* The listeners' engine contexts from a configuration (dp_ctxs.h): moved
 * from main.c (main_ctx) so that a reload builds what the start did. */
#include <stdio.h>
#include <time.h>

#include "cfg.h"
#include "dp_ctxs.h"
#include "dp_log.h"
#include "hsk_ctx.h"

_Static_assert(CFG_MAX_CERTS == HSK_MAX_CERTS, "certificate capacities differ");
_Static_assert(CFG_MAX_SUITES == HSK_MAX_SUITES, "suite capacities differ");
_Static_assert(CFG_MAX_GROUPS == HSK_MAX_GROUPS, "group capacities differ");
_Static_assert(CFG_MAX_SIGALGS == HSK_MAX_SIGALGS, "sigalg capacities differ");
_Static_assert(CFG_MAX_ALPN == HSK_MAX_ALPN, "ALPN capacities differ");

/* One certificate with its names and OCSP response; a response that is
 * not stapled (expired) is logged, not an error. */
static int
dp_ctxs_cert(struct hsk_ctx *ctx, const struct cfg_cert *c, char *err, size_t errlen)
{
	char warn[512];
	struct hsk_cert_opts opts = {
		.names = (const char *const *)c->names,
		.n_names = c->n_names,
		.ocsp_path = c->ocsp_file,
		.now = (uint64_t)time(NULL),
		.warn = warn,
		.warnlen = sizeof(warn),
	};

	if (hsk_ctx_add_cert_ex(ctx, c->cert_file, c->key_file, &opts, err, errlen) != 0)
		return -1;
	if (warn[0] != 0)
		dp_log(DP_LOG_WARN, "%s: %s", c->cert_file, warn);
	return 0;
}

/* One listener's policy into its engine context; errors name the origin. */
static int
dp_ctxs_listener(struct hsk_ctx *ctx, const struct cfg *cfg, const struct cfg_listener *l, char *err, size_t errlen)
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
	ctx->store13 = cfg->session_store.on && cfg->session_store.tls13 == CFG_STORE13_STORE;
	ctx->psk_modes = (uint8_t)((cfg->psk_modes & CFG_PSK_DHE_KE ? HSK_PSK_DHE_KE : 0) |
				   (cfg->psk_modes & CFG_PSK_KE ? HSK_PSK_KE : 0));
	for (n = 0; n < l->n_certs; n++)
		if (dp_ctxs_cert(ctx, &l->certs[n], msg, sizeof(msg)) != 0)
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
dp_ctxs_build(struct hsk_ctx *ctxs, const struct cfg *cfg, struct hsk_tickets *tickets, char *err, size_t errlen)
{
	size_t built;

	for (built = 0; built < cfg->n_listeners; built++) {
		if (dp_ctxs_listener(&ctxs[built], cfg, &cfg->listeners[built], err, errlen) != 0) {
			hsk_ctx_free(&ctxs[built]);
			dp_ctxs_free(ctxs, built);
			return -1;
		}
		/* One ticket key set for every listener (tickets carry the
		 * listener's id, so they never cross listeners). */
		ctxs[built].tickets = tickets;
	}
	return 0;
}

void
dp_ctxs_free(struct hsk_ctx *ctxs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hsk_ctx_free(&ctxs[i]);
}
