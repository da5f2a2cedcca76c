/* The listeners' engine contexts from a configuration: at start and on
 * every reload (SIGHUP), the same code, so a reload builds exactly what a
 * restart would. */
#ifndef DP_CTXS_H
#define DP_CTXS_H

#include <stddef.h>

#include "cfg.h"
#include "hsk_ctx.h"

struct hsk_tickets;

/* ctxs[i] for cfg->listeners[i], all sharing tickets (may be NULL). 0, or
 * -1 with a message naming the listener's origin; nothing is left to
 * free on failure. ctxs[i] points into cfg (ALPN names): cfg outlives it. */
int dp_ctxs_build(struct hsk_ctx *ctxs, const struct cfg *cfg, struct hsk_tickets *tickets, char *err,
		  size_t errlen);
void dp_ctxs_free(struct hsk_ctx *ctxs, size_t n);

#endif
