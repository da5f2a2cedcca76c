/* Inside the userspace TCP: what its files (ns_tcp*.c) share. */
#ifndef NS_TCP_PRIV_H
#define NS_TCP_PRIV_H

#include "ns_tcp.h"

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };
enum { OPT_MSS = 1, OPT_WS = 2 };

/* A parsed segment. */
struct seg {
	uint16_t sport, dport, wnd, mss;
	int16_t wscale;            /* -1: no window-scale option */
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *data;
	size_t len;
};

static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* ns_tcp_out.c */
/* The TCP pseudo-header's sum for the checksum. */
uint32_t ns_tcp_pseudo(uint32_t src, uint32_t dst, size_t len);
/* Both return whether the segment left (false: its next hop is not
 * resolved yet, ARP was asked). */
bool ns_tcp_emit(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
		 uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len, unsigned opts);
bool ns_tcp_emit_c(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, uint8_t flags, const uint8_t *data,
		   size_t len, unsigned opts);
void ns_tcp_emit_at(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq);
uint32_t ns_tcp_rcv_wnd(struct ns_tcp *t, struct ns_tcp_conn *c);
unsigned ns_tcp_synack_opts(const struct ns_tcp_conn *c);
void ns_tcp_arm(struct ns_tcp *t, struct ns_tcp_conn *c);
bool ns_tcp_output(struct ns_tcp *t, struct ns_tcp_conn *c);
void ns_tcp_rtt(struct ns_tcp_conn *c, uint32_t r);

/* ns_tcp_cc.c */
void ns_tcp_cc_init(struct ns_tcp_conn *c);
void ns_tcp_cc_halve(struct ns_tcp_conn *c);
void ns_tcp_dupack(struct ns_tcp *t, struct ns_tcp_conn *c);
void ns_tcp_cc_ack(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t ack, uint32_t acked);
/* c's timer is due at now_ms: retransmit, probe, or end TIME_WAIT. */
void ns_tcp_timer_fire(struct ns_tcp *t, struct ns_tcp_conn *c, uint64_t now_ms);

/* ns_tcp_table.c */
/* A free slot for the 4-tuple, entered in the hash (else the TIME_WAIT
 * that ends first is reclaimed); NULL when every slot is in use. */
struct ns_tcp_conn *ns_tcp_alloc(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport,
				 uint16_t rport);
void ns_tcp_release(struct ns_tcp *t, struct ns_tcp_conn *c);
/* After rto_at or time_wait_until changed: make sure the wheel looks at
 * c by then (lazy: a later deadline waits for the earlier slot). */
void ns_tcp_timer_need(struct ns_tcp *t, struct ns_tcp_conn *c);
void ns_tcp_table_init(struct ns_tcp *t);

/* ns_tcp.c */
/* Send our SYN (again): on the wire, or held for ARP. */
void ns_tcp_syn_out(struct ns_tcp *t, struct ns_tcp_conn *c);
void ns_tcp_time_wait(struct ns_tcp *t, struct ns_tcp_conn *c);
void ns_tcp_reset(struct ns_tcp *t, struct ns_tcp_conn *c);

/* ns_tcp_cookie.c: SYN cookies (the ISS encodes a time slot, the MSS and
 * a keyed hash of the connection) */
uint32_t ns_tcp_cookie_make(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport,
			    uint32_t irs, uint16_t mss, uint64_t now_ms);
/* The MSS the cookie carries, or 0 when it is not one of ours (or too old). */
uint16_t ns_tcp_cookie_check(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport,
			     uint32_t irs, uint32_t cookie, uint64_t now_ms);
int ns_tcp_cookie_init(struct ns_tcp *t);

#endif
