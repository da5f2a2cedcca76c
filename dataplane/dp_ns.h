/* Connections over the userspace stack: one worker's interface (ns_if),
 * its TCP table (ns_tcp) and its dp_app, glued so that TCP hands in-order
 * bytes to dp_conn_push, announces the engine's free input space as its
 * window, and takes the engine's output with ns_tcp_send. In proxy mode
 * the worker's backend pool reaches its backends through the same TCP's
 * active opens (dp_backend.h's struct dp_be_ops): their bytes go to
 * dp_be_push and their window is dp_be_room. No DPDK here: frames leave through the tx callback, so the
 * same worker runs on a DPDK port, a TAP device or in a test. */
#ifndef DP_NS_H
#define DP_NS_H

#include "cfg.h"
#include "dp_conn.h"
#include "hsk_ctx.h"
#include "ns_if.h"
#include "ns_tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp_ns {
	struct ns_if nif;
	struct ns_tcp tcp;
	struct dp_app app;
	const struct cfg *cfg;
	struct hsk_ctx *ctxs;      /* ctxs[i] serves cfg->listeners[i] */
	uint64_t timers_ms;        /* when the TCP timers last ran */
};

/* The listeners' IPv4 addresses become the interface's (prefix_len on
 * link, gateway 0 for none); their ports listen. 0, or -1 with err set. */
int dp_ns_init(struct dp_ns *d, unsigned id, const struct cfg *cfg, struct hsk_ctx *ctxs,
	       struct hsk_sess_cache *cache, const uint8_t mac[6], unsigned prefix_len, uint32_t gateway,
	       ns_tx_fn tx, void *tx_arg, char *err, size_t errlen);
/* One received frame. */
void dp_ns_input(struct dp_ns *d, const uint8_t *frame, size_t len);
/* End of a poll iteration: crypto batch, completions, timeouts, and the
 * TCP timers once per millisecond. */
void dp_ns_poll_end(struct dp_ns *d);
void dp_ns_tick(struct dp_ns *d, uint64_t now_ms);
void dp_ns_free(struct dp_ns *d);

#ifdef __cplusplus
}
#endif
#endif
