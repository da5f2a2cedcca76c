/* Proxy mode, on both dataplanes: once a connection's handshake is
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
 * client can see).
 *
 * The backend connection goes through the pool's transport operations
 * (dp_backend.h struct dp_be_ops): kernel sockets or the userspace TCP;
 * its news arrive through dp_be_notify, and a pushing transport hands
 * bytes over with dp_be_push and takes dp_be_room as its window. */
#ifndef DP_PROXY_H
#define DP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dp_be_end;
struct dp_conn;
struct dp_pool;
struct dp_proxy;
struct hsk_ctx;

/* Make c (just accepted from client on our address local, on a listener
 * served by ctx) a proxied connection of pool; an address of family 0 is
 * unknown. 0, or -1 without memory. */
int dp_proxy_attach(struct dp_conn *c, const struct sockaddr_storage *client, const struct sockaddr_storage *local,
		    const struct hsk_ctx *ctx, struct dp_pool *pool);
/* Called by dp_conn_service in place of respond mode: move bytes both
 * ways as far as they go. Returns whether anything moved. */
bool dp_proxy_relay(struct dp_proxy *p);
/* The connection is released: close the backend socket. */
void dp_proxy_free(struct dp_proxy *p);
/* A transport's news (DP_BE_*) for a backend connection's end: a
 * proxied connection's or a health check's. */
void dp_be_notify(struct dp_be_end *e, unsigned what);
/* Pushed transports: the backend's bytes in order; returns how many were
 * taken (the rest is not acknowledged: flow control). */
size_t dp_be_push(struct dp_be_end *e, const uint8_t *data, size_t len);
/* What dp_be_push would take now: the window to announce. */
size_t dp_be_room(const struct dp_be_end *e);
/* The backend this connection was relayed to last ("HOST:PORT" as
 * configured), or NULL if none was connected. */
const char *dp_proxy_backend(const struct dp_proxy *p);
/* Each poll iteration: connect timeouts and health checks. */
void dp_proxy_tick(struct dp_pool *pool, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
