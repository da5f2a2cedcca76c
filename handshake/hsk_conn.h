/* The sans-IO TLS server connection: bytes in, bytes out, crypto jobs out.
 *
 * The dataplane owns the socket (or TCP stream) and the clock. Per
 * connection it:
 *   - feeds received bytes with hsk_conn_recv();
 *   - sends whatever hsk_conn_out() shows, then hsk_conn_out_done();
 *   - reads decrypted application data with hsk_conn_app_read() and writes
 *     application data with hsk_conn_app_write();
 *   - on HSK_WANT_CRYPTO, leaves the connection alone until its job comes
 *     back from acc_exec_flush(); the done callback calls hsk_conn_resume()
 *     (via hsk_worker_job_done()), which continues the handshake; the
 *     same for a session store lookup (hsk_store.h: hsk_conn_from_lookup()
 *     then hsk_conn_resume()), the other kind of pending job;
 *   - on an alert error, sends what hsk_conn_out() still shows (the alert)
 *     and closes.
 * The engine never reads a clock: the worker's now_s is set by the
 * dataplane once per poll iteration. */
#ifndef HSK_CONN_H
#define HSK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_ctx;
struct hsk_conn;
struct hsk_sess_cache;
struct acc_exec;
struct acc_job;
struct hsk_store_ops;

/* Per-worker engine state: owned by one thread. */
struct hsk_worker {
	unsigned id;                   /* worker index, encoded in session IDs */
	struct acc_exec *exec;         /* this worker's executor */
	struct hsk_sess_cache *cache;  /* shared session cache (per-worker shards) */
	uint64_t now_s;                /* set by the dataplane each iteration */
	uint64_t wall_s;               /* the same as seconds since the epoch (OCSP
	                                * nextUpdate); 0: unknown, not checked */
	/* a session store shared by a fleet (hsk_store.h), or NULL */
	const struct hsk_store_ops *store;
	void *store_arg;
	/* counters */
	uint64_t handshakes_full;
	uint64_t handshakes_resumed;
	uint64_t handshake_failures;
	uint64_t alerts_sent;
	/* limits hit (hostile or broken clients) */
	uint64_t hs_too_large;         /* handshake message above the listener's maximum */
	uint64_t renegotiations_cut;   /* renegotiation attempts beyond the refusals */
	uint64_t key_updates_cut;      /* KeyUpdates beyond the bound without data */
	uint64_t ocsp_expired;         /* OCSP staples withheld: past nextUpdate since load */
	/* the session store: lookups started, and how they ended */
	uint64_t store_lookups;
	uint64_t store_hits;           /* resumed from the store */
	uint64_t store_misses;         /* no entry, or one that did not open */
	uint64_t store_failed;         /* no answer in time, error, store down */
	/* connection objects kept for reuse (no allocation per handshake) */
	void *conn_pool;
	unsigned conn_pool_n;
};

/* Release the worker's pooled connection objects. */
void hsk_worker_release(struct hsk_worker *w);

struct hsk_conn *hsk_conn_new(const struct hsk_ctx *ctx, struct hsk_worker *w);
/* Zeroizes every key and secret. Must not be called while a crypto job is
 * pending (hsk_conn_crypto_pending()); close it and free it from the job's
 * completion instead. */
void hsk_conn_free(struct hsk_conn *c);

/* Feed received bytes. *len is in: bytes available, out: bytes consumed
 * (the engine buffers partial records internally; it may consume fewer
 * than offered when its buffer is full, never zero unless blocked on
 * crypto). Returns HSK_OK (progress made, check out/app data),
 * HSK_WANT_INPUT, HSK_WANT_CRYPTO, HSK_CLOSED, or an alert error. */
HSK_MUST_CHECK hsk_err hsk_conn_recv(struct hsk_conn *c, const uint8_t *in, size_t *len);

/* Zero-copy input: the dataplane reads straight into the engine's buffer.
 * hsk_conn_in_buf() returns where to write and *space (0 when the engine
 * cannot take bytes now: a record waits for crypto or for the application
 * to read); hsk_conn_in_commit(n) adds n bytes, then hsk_conn_recv() with
 * *len == 0 processes them. */
uint8_t *hsk_conn_in_buf(struct hsk_conn *c, size_t *space);
void hsk_conn_in_commit(struct hsk_conn *c, size_t n);

/* The dataplane's own pointer, for the executor's done callback. */
void hsk_conn_set_user(struct hsk_conn *c, void *user);
void *hsk_conn_user(const struct hsk_conn *c);

/* The worker's now_s when the connection was created (handshake timeout). */
uint64_t hsk_conn_started_s(const struct hsk_conn *c);

/* Continue after this connection's crypto job completed. Same returns as
 * hsk_conn_recv(). */
HSK_MUST_CHECK hsk_err hsk_conn_resume(struct hsk_conn *c);

/* The executor's done callback for jobs whose owner is an hsk_conn: checks
 * the generation, marks the connection runnable. Returns the connection or
 * NULL if the job is stale. */
struct hsk_conn *hsk_conn_from_job(struct acc_job *job);

/* Bytes waiting to be sent. */
size_t hsk_conn_out(struct hsk_conn *c, const uint8_t **p);
void hsk_conn_out_done(struct hsk_conn *c, size_t n);

/* Decrypted application data; returns bytes copied. */
size_t hsk_conn_app_read(struct hsk_conn *c, uint8_t *buf, size_t cap);
size_t hsk_conn_app_pending(const struct hsk_conn *c);
/* Encrypt application data into the output buffer; returns bytes taken
 * (fewer than n when the output buffer is full: send, then call again). */
HSK_MUST_CHECK hsk_err hsk_conn_app_write(struct hsk_conn *c, const uint8_t *p, size_t n, size_t *taken);
/* Queue close_notify. */
void hsk_conn_close(struct hsk_conn *c);
/* Half-close (proxy mode): a close_notify from the peer ends its
 * direction only (hsk_conn_recv returns HSK_CLOSED, hsk_conn_peer_closed
 * is true, later input is ignored) and is not answered: the application
 * may still write, then calls hsk_conn_close when its own side is done.
 * RFC 8446 6.1 makes closure per direction. Call before the first recv. */
void hsk_conn_set_half_close(struct hsk_conn *c);

bool hsk_conn_established(const struct hsk_conn *c);
/* The handshake ended, whatever came after it: still true once a
 * close_notify or an alert that arrived with the client's Finished closed
 * the connection (hsk_conn_established is false then). */
bool hsk_conn_completed(const struct hsk_conn *c);
bool hsk_conn_crypto_pending(const struct hsk_conn *c);
bool hsk_conn_peer_closed(const struct hsk_conn *c);

struct hsk_conn_info {
	uint16_t version;
	uint16_t suite;
	uint16_t group;        /* 0 for static RSA */
	uint16_t sigalg;
	bool resumed;
	bool ems;
	bool etm;
	bool client_cert;      /* a client certificate was verified */
	uint8_t cert;          /* full handshakes: index in ctx->certs of the one sent */
	bool ocsp_stapled;     /* full handshakes: its OCSP response was sent */
	char sni[256];
	char alpn[32];
	char client_cn[65];    /* full handshakes: the client certificate's subject CN (UTF-8) */
};
void hsk_conn_info(const struct hsk_conn *c, struct hsk_conn_info *out);

#ifdef __cplusplus
}
#endif
#endif
