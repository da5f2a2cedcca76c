/* The userspace stack's TCP (RFC 9293). Passive open with the MSS and
 * window-scale options (RFC 7323), SYN cookies when the half-open table
 * is full, active open; in-order delivery with a bounded out-of-order
 * queue; sending from a bounded per-connection buffer in MSS-sized
 * segments within the peer's window and the congestion window (RFC 5681
 * slow start and congestion avoidance, fast retransmit with limited
 * transmit, NewReno recovery per RFC 6582); the retransmission timer of
 * RFC 6298 with backoff (minimum NS_TCP_RTO_MIN_MS: below RFC 6298's 1 s
 * as in datacenter stacks, above Linux's 40 ms delayed ACK); zero-window
 * probes; FIN and RST in every state (RFC 5961 checks); TIME_WAIT
 * reclaimed when the table is full. Flow control: the window we announce
 * is what the application says it can take, and bytes it does not take
 * are not acknowledged. Connections are found by a hash of the 4-tuple;
 * timers sit on a wheel. Not done: SACK, timestamps, PAWS, IPv6.
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

#define NS_TCP_DEFAULT_CONNS 4096  /* per worker, unless configured (at most NS_TCP_MAX_CONNS) */
#define NS_TCP_MAX_CONNS 65534
#define NS_TCP_SNDBUF 65536        /* bytes queued per connection, sent or not */
#define NS_TCP_RCV_WND 65535       /* the most we announce */
#define NS_TCP_RCV_WSCALE 2        /* our window-scale shift when the peer scales */
#define NS_TCP_MSS 1460
#define NS_TCP_RTO_INIT_MS 1000
#define NS_TCP_RTO_MIN_MS 50       /* see above */
#define NS_TCP_RTO_MAX_MS 60000
#define NS_TCP_RETRIES 8           /* then the connection is reset */
#define NS_TCP_TIME_WAIT_MS 30000
#define NS_TCP_PORTS 8
#define NS_TCP_OOO_BYTES 16384     /* out-of-order bytes held per connection */
#define NS_TCP_OOO_SEGS 16
#define NS_TCP_WHEEL 256           /* timer wheel slots ... */
#define NS_TCP_TICK_MS 4           /* ... of 4 ms: one revolution is about 1 s */
#define NS_TCP_ARP_WAIT_MS 10      /* a SYN held for its next hop's ARP: tried again this often ... */
#define NS_TCP_ARP_WAITS 300       /* ... this many times (3 s), then the usual backoff */
/* Half-open connections beyond a quarter of the table get SYN cookies. */

enum ns_tcp_state {
	NS_TCP_FREE = 0,
	NS_TCP_SYN_SENT,           /* active open */
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
	bool rcv_wscale_offered;   /* our SYN or SYN-ACK may carry the option */
	uint8_t snd_wscale;        /* the peer's shift (0 without scaling) */
	uint8_t rcv_wscale;        /* ours */
	/* congestion control (RFC 5681, NewReno RFC 6582) */
	uint32_t cwnd, ssthresh, recover;
	uint16_t dupacks;
	bool in_recovery;
	bool syn_unsent;           /* active open: our SYN waits for ARP */
	uint16_t arp_waits;
	bool close_requested;      /* our FIN goes after the queued data */
	bool fin_sent;
	/* send buffer, a ring of NS_TCP_SNDBUF bytes: buf_len bytes from
	 * snd_una on (the unacknowledged, then the unsent), the first at
	 * buf[buf_head] */
	uint8_t *buf;
	size_t buf_len, buf_head;
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
	uint16_t hnext;            /* hash chain (slot index) */
	uint16_t wnext, wprev;     /* timer wheel list */
	uint64_t wheel_at;         /* the time of the wheel slot it is in; 0: none */
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
	/* An active open (ns_tcp_connect) completed; c->app is what was
	 * given. A failed one gets gone(). */
	void (*connected)(void *arg, struct ns_tcp_conn *c);
};

struct ns_tcp_stats {
	uint64_t segs_in, segs_out, bad_csum, syn, established, reset_in, reset_out;
	uint64_t out_of_order, ooo_dropped, retransmits, timeouts, table_full;
	uint64_t fast_retransmits, window_probes;
	uint64_t zero_windows;     /* segments that announced a window of 0 (flow control holding the peer) */
	uint64_t syn_cookies_sent, syn_cookies_ok, syn_cookies_bad, time_wait_reclaimed;
};

struct ns_tcp {
	struct ns_if *nif;
	uint16_t ports[NS_TCP_PORTS];
	size_t n_ports;
	struct ns_tcp_conn *conns; /* the table: n_conns slots */
	size_t n_conns;
	uint16_t *hash;            /* buckets (a power of 2, hash_mask + 1) of the 4-tuple hash */
	size_t hash_mask;
	uint16_t *free;            /* a stack of free slots */
	size_t n_free;
	size_t n_syn_rcvd, syn_backlog;
	uint16_t wheel[NS_TCP_WHEEL];
	uint64_t wheel_tick;       /* the last tick looked at */
	uint8_t cookie_key[16];
	uint16_t next_port;        /* ephemeral ports of active opens */
	/* Optional: whether the replies to an active open from lport would
	 * reach this table's worker (RSS or software steering picks the
	 * worker by the 4-tuple); NULL: every port does. */
	bool (*port_ok)(void *arg, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport);
	void *port_ok_arg;
	const struct ns_tcp_ops *ops;
	void *arg;
	uint64_t now_ms;           /* the time of the last input or timer call */
	struct ns_tcp_stats stats;
};

/* Attach to nif (its TCP input hook), with a table of max_conns
 * connections (1..NS_TCP_MAX_CONNS; their buffers are reserved, and touched
 * as connections use them). 0, or -1 without memory or for a bad size. */
int ns_tcp_init(struct ns_tcp *t, struct ns_if *nif, const struct ns_tcp_ops *ops, void *arg, size_t max_conns);
void ns_tcp_free(struct ns_tcp *t);
int ns_tcp_listen(struct ns_tcp *t, uint16_t port);
/* Listen no more (a drain): SYNs to every port get a reset; connections
 * already open go on. */
void ns_tcp_unlisten(struct ns_tcp *t);
/* Whether a closed connection still has bytes or its FIN unacknowledged
 * (FIN-WAIT-1, CLOSING, LAST-ACK): a drain waits for them. A scan of the
 * table. */
bool ns_tcp_closing(const struct ns_tcp *t);

/* Active open from laddr (one of ours) to raddr:rport, from an ephemeral
 * port that port_ok accepts; app is stored in c->app. The SYN goes again
 * with RFC 6298 backoff; one not sent for want of the next hop's MAC goes
 * as soon as ARP answers (polled every NS_TCP_ARP_WAIT_MS). A RST or
 * NS_TCP_RETRIES timeouts end it (ops->gone). NULL when the table is full
 * or no port fits. */
struct ns_tcp_conn *ns_tcp_connect(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t rport, void *app);
/* The connection of a 4-tuple (ours first), or NULL. */
struct ns_tcp_conn *ns_tcp_find(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport);
/* Queue bytes; returns how many fit in the send buffer. */
size_t ns_tcp_send(struct ns_tcp *t, struct ns_tcp_conn *c, const uint8_t *p, size_t len);
/* The application can take more: announce it (after a zero window). */
void ns_tcp_window_update(struct ns_tcp *t, struct ns_tcp_conn *c);
/* FIN after what is queued. */
void ns_tcp_close(struct ns_tcp *t, struct ns_tcp_conn *c);
/* RST now; c is released (ops->gone is not called for it). */
void ns_tcp_abort(struct ns_tcp *t, struct ns_tcp_conn *c);
/* Retransmissions, probes and TIME_WAIT expiry: the timer wheel's ticks
 * up to now_ms (call every millisecond or so; cheap when nothing is due). */
void ns_tcp_timers(struct ns_tcp *t, uint64_t now_ms);
/* The input hook (set on nif by ns_tcp_init); exposed for tests. */
void ns_tcp_input(void *tcp, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
