/* Proxy mode on the kernel dataplane: once a connection's handshake is
 * done, its decrypted bytes go to a plaintext TCP backend (picked by the
 * worker's dp_pool) and the backend's bytes come back encrypted. Bytes,
 * not HTTP.
 *
 * Per connection, two bounded buffers: "up" (decrypted client bytes, and
 * first the PROXY v2 header, waiting for the backend socket) and "down"
 * (backend bytes waiting for the engine to encrypt them). Backpressure:
 * the engine's input is not read while "up" is full, so the client's
 * socket is not read either; the backend is not read while "down" is
 * full, which stays full while the engine's output (bounded) waits for
 * the client's socket. Memory per connection is fixed, whatever the
 * speed of either side.
 *
 * Half-close both ways: the client's close_notify (or FIN) becomes
 * shutdown(SHUT_WR) to the backend once its bytes are delivered; the
 * backend's FIN becomes close_notify once its bytes are encrypted; the
 * connection ends when both directions are done. A backend that resets
 * ends the client's connection without close_notify (a truncation the
 * client can see). */
#ifndef DP_PROXY_H
#define DP_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dp_conn;
struct dp_pool;
struct dp_proxy;
struct hsk_ctx;

/* Make c (a kernel socket fd, just accepted on a listener served by ctx)
 * a proxied connection of pool. The backend socket is read and written
 * through c's transport operations (c->ops, the kernel socket ones, with
 * the fd as their io). 0, or -1 without memory. */
int dp_proxy_attach(struct dp_conn *c, int fd, const struct hsk_ctx *ctx, struct dp_pool *pool);
/* Called by dp_conn_service in place of respond mode: move bytes both
 * ways as far as they go. Returns whether anything moved. */
bool dp_proxy_relay(struct dp_proxy *p);
/* The connection is released: close the backend socket. */
void dp_proxy_free(struct dp_proxy *p);
/* An epoll event on a DP_KIND_BACKEND or DP_KIND_HEALTH object. */
void dp_proxy_event(void *obj, uint8_t kind, uint32_t events);
/* The backend this connection was relayed to last ("HOST:PORT" as
 * configured), or NULL if none was connected. */
const char *dp_proxy_backend(const struct dp_proxy *p);
/* Each poll iteration: connect timeouts and health checks. */
void dp_proxy_tick(struct dp_pool *pool, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
