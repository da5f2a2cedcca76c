/* The access log (--access-log FILE, "-" for stderr): one line per client
 * connection at its close, text or JSON (--log-format), with what a peer
 * chose (the SNI) escaped.
 *
 * Each worker owns a struct dp_alog: lines go into its buffer and the
 * buffer goes to the file in one write() when it passes half its size and
 * at the worker's timer (every 200 ms), never a write per line. The file
 * is opened by each worker with O_APPEND, so whole buffers of whole lines
 * from several workers never interleave mid-line. */
#ifndef DP_ALOG_H
#define DP_ALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DP_ALOG_BUF 65536
#define DP_ALOG_LINE 2800          /* the longest line (an SNI of 255 bytes, all escaped) */

/* One connection, as it ends. */
struct dp_alog_rec {
	long long time_s;          /* CLOCK_REALTIME at the close */
	long time_ns;
	struct sockaddr_storage peer; /* family 0: unknown */
	const char *sni;           /* "" when none */
	uint16_t version;          /* 0: no handshake reached a version */
	const char *suite;         /* IANA name, or "" */
	bool resumed;
	bool established;
	double hs_ms;              /* first byte to the handshake's end; < 0: none */
	uint64_t bytes_in, bytes_out;
	const char *backend;       /* proxy mode: "HOST:PORT", or NULL */
	const char *close;         /* why it ended: "close_notify", "alert:decode_error", ... */
};

/* The line of r (newline included) into out; its length (0 if cap is
 * below DP_ALOG_LINE). */
size_t dp_alog_format(char *out, size_t cap, const struct dp_alog_rec *r, bool json);

struct dp_alog {
	int fd;
	bool own_fd;               /* not stderr */
	bool json;
	size_t len;
	uint64_t *lines, *dropped; /* the worker's metrics counters */
	char buf[DP_ALOG_BUF];
};

/* Open path ("-": stderr) for appending. NULL on failure (logged). */
struct dp_alog *dp_alog_open(const char *path, bool json, uint64_t *lines, uint64_t *dropped);
void dp_alog_close(struct dp_alog *l);    /* flushes first */
void dp_alog_add(struct dp_alog *l, const struct dp_alog_rec *r);
void dp_alog_flush(struct dp_alog *l);

#ifdef __cplusplus
}
#endif
#endif
