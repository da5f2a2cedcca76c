/* The userspace stack's TCP (RFC 9293), first part: passive open with the
 * MSS option, in-order delivery (a segment out of order is dropped and
 * answered with a duplicate ACK), sending from a bounded per-connection
 * buffer in MSS-sized segments within the peer's window, retransmission
 * on a timer with exponential backoff (RFC 6298: SRTT/RTTVAR, RTO at least
 * NS_TCP_RTO_MIN_MS), FIN and RST in every state, TIME_WAIT with a bound.
 * Flow control: the window we announce is what the application says it
 * can take, and bytes it does not take are not acknowledged. Segments
 * ahead of a gap wait in a bounded out-of-order queue. Not yet:
 * window scaling, SACK, fast retransmit and NewReno on our sends,
 * zero-window probes of our own, SYN cookies, active open, a timer wheel
 * (ns_tcp_timers scans the table).
 *
 * One ns_tcp per worker over its ns_if; no locks. The application sees
 * connections through callbacks and writes with ns_tcp_send. */
#ifndef NS_TCP_H
#define NS_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ns_if.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NS_TCP_CONNS 256
#define NS_TCP_SNDBUF 65536        /* bytes queued per connection, sent or not */
#define NS_TCP_RCV_WND 65535       /* the most we announce */
#define NS_TCP_RCV_WSCALE 2        /* our window-scale shift when the peer scales */
#define NS_TCP_MSS 1460
#define NS_TCP_RTO_INIT_MS 1000
#define NS_TCP_RTO_MIN_MS 50         /* above Linux's 40 ms delayed ACK; see below */
#define NS_TCP_RTO_MAX_MS 60000
#define NS_TCP_RETRIES 8           /* then the connection is reset */
#define NS_TCP_TIME_WAIT_MS 30000
#define NS_TCP_PORTS 8
#define NS_TCP_OOO_BYTES 16384     /* out-of-order bytes held per connection */
#define NS_TCP_OOO_SEGS 16

enum ns_tcp_state {
	NS_TCP_FREE = 0,
	NS_TCP_SYN_RCVD,
	NS_TCP_ESTABLISHED,
	NS_TCP_CLOSE_WAIT,
	NS_TCP_LAST_ACK,
	NS_TCP_FIN_WAIT_1,
	NS_TCP_FIN_WAIT_2,
	NS_TCP_CLOSING,
	NS_TCP_TIME_WAIT,
};

struct ns_tcp_conn {
	enum ns_tcp_state state;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t iss, snd_una, snd_nxt, snd_wnd, irs, rcv_nxt;
	uint32_t snd_max;          /* the highest snd_nxt (a timeout rewinds snd_nxt) */
	uint16_t mss;              /* the peer's */
	uint32_t adv_wnd;          /* the window we announced last (bytes) */
	bool ws_ok;                /* window scaling negotiated (RFC 7323) */
	uint8_t snd_wscale;        /* the peer's shift (0 without scaling) */
	uint8_t rcv_wscale;        /* ours */
	/* congestion control (RFC 5681, NewReno RFC 6582) */
	uint32_t cwnd, ssthresh, recover;
	uint16_t dupacks;
	bool in_recovery;
	bool close_requested;      /* our FIN goes after the queued data */
	bool fin_sent;
	/* send buffer: bytes from snd_una on (the unacknowledged, then the unsent) */
	uint8_t *buf;
	size_t buf_len;
	/* RFC 6298 */
	uint32_t srtt_ms, rttvar_ms, rto_ms;
	uint64_t rto_at;           /* 0: no timer */
	unsigned retries;
	uint32_t rtt_seq;          /* the segment being timed, when rtt_at != 0 */
	uint64_t rtt_at;
	uint64_t time_wait_until;
	bool told_gone;            /* ops->gone was called */
	/* segments that arrived ahead of rcv_nxt, kept until the gap fills */
	uint8_t *ooo_buf;
	struct {
		uint32_t seq;
		uint16_t len, at;
	} ooo[NS_TCP_OOO_SEGS];
	uint8_t n_ooo;
	uint16_t ooo_used;
	void *app;
	struct ns_tcp *tcp;        /* the table it belongs to */
};

struct ns_tcp;

struct ns_tcp_ops {
	/* A connection is established; returns the application's state. */
	void *(*accept)(void *arg, struct ns_tcp_conn *c);
	/* Bytes in order; returns how many it took. What it did not take is
	 * not acknowledged: the peer sends it again (flow control). */
	size_t (*data)(void *arg, struct ns_tcp_conn *c, const uint8_t *p, size_t len);
	/* The bytes it can take now: the window we announce (NULL: always
	 * NS_TCP_RCV_WND). */
	size_t (*rcv_space)(void *arg, struct ns_tcp_conn *c);
	/* The peer sent FIN (no more data will come). */
	void (*peer_closed)(void *arg, struct ns_tcp_conn *c);
	/* The connection is gone (closed, reset or timed out); c is reused after. */
	void (*gone)(void *arg, struct ns_tcp_conn *c);
	/* Acknowledged bytes left the send buffer: ns_tcp_send takes more. */
	void (*writable)(void *arg, struct ns_tcp_conn *c);
};

struct ns_tcp_stats {
	uint64_t segs_in, segs_out, bad_csum, syn, established, reset_in, reset_out;
	uint64_t out_of_order, ooo_dropped, retransmits, timeouts, table_full;
	uint64_t fast_retransmits, window_probes;
};

struct ns_tcp {
	struct ns_if *nif;
	uint16_t ports[NS_TCP_PORTS];
	size_t n_ports;
	struct ns_tcp_conn conns[NS_TCP_CONNS];
	const struct ns_tcp_ops *ops;
	void *arg;
	uint64_t now_ms;           /* the time of the last input or timer call */
	struct ns_tcp_stats stats;
};

/* Attach to nif (its TCP input hook). 0, or -1 without memory. */
int ns_tcp_init(struct ns_tcp *t, struct ns_if *nif, const struct ns_tcp_ops *ops, void *arg);
void ns_tcp_free(struct ns_tcp *t);
int ns_tcp_listen(struct ns_tcp *t, uint16_t port);

/* Queue bytes; returns how many fit in the send buffer. */
size_t ns_tcp_send(struct ns_tcp *t, struct ns_tcp_conn *c, const uint8_t *p, size_t len);
/* The application can take more: announce it (after a zero window). */
void ns_tcp_window_update(struct ns_tcp *t, struct ns_tcp_conn *c);
/* FIN after what is queued. */
void ns_tcp_close(struct ns_tcp *t, struct ns_tcp_conn *c);
/* RST now; c is released (ops->gone is not called for it). */
void ns_tcp_abort(struct ns_tcp *t, struct ns_tcp_conn *c);
/* Retransmissions and TIME_WAIT expiry; call every few milliseconds. */
void ns_tcp_timers(struct ns_tcp *t, uint64_t now_ms);
/* The input hook (set on nif by ns_tcp_init); exposed for tests. */
void ns_tcp_input(void *tcp, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
