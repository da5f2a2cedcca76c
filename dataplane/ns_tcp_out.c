/* TCP output (ns_tcp.h): segments built in one buffer with the
 * pseudo-header checksum, the window we announce, sending within the
 * peer's window and the congestion window, RTT samples (RFC 6298). */
#include <string.h>

#include "hsk_buf.h"
#include "ns_tcp_priv.h"

uint32_t
ns_tcp_pseudo(uint32_t src, uint32_t dst, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + NS_IP_TCP + (uint32_t)len;
}

/* One segment out; opts adds the MSS and window-scale options (SYN-ACK). */
bool
ns_tcp_emit(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
	    uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len, unsigned opts)
{
	uint8_t s[NS_ETH_MAX - NS_ETH_HDR - NS_IP_HDR];
	size_t hlen = 20 + (opts & OPT_MSS ? 4 : 0) + (opts & OPT_WS ? 4 : 0);
	struct hsk_wr w;
	uint16_t sum;

	if (hlen + len > sizeof(s))
		return false;
	hsk_wr_init(&w, s, sizeof(s));
	hsk_wr_u16(&w, lport);
	hsk_wr_u16(&w, rport);
	hsk_wr_u32(&w, seq);
	hsk_wr_u32(&w, ack);
	hsk_wr_u8(&w, (uint8_t)(hlen / 4 << 4));
	hsk_wr_u8(&w, flags);
	hsk_wr_u16(&w, wnd);
	hsk_wr_u16(&w, 0); /* checksum */
	hsk_wr_u16(&w, 0); /* urgent pointer */
	if (opts & OPT_MSS) {
		hsk_wr_u8(&w, 2);
		hsk_wr_u8(&w, 4);
		hsk_wr_u16(&w, NS_TCP_MSS);
	}
	if (opts & OPT_WS) { /* NOP, then kind 3 length 3 shift */
		hsk_wr_u8(&w, 1);
		hsk_wr_u8(&w, 3);
		hsk_wr_u8(&w, 3);
		hsk_wr_u8(&w, NS_TCP_RCV_WSCALE);
	}
	hsk_wr_bytes(&w, data, len);
	/* with the port's offload, the pseudo-header's sum; the port adds the rest */
	sum = t->nif->tx_csum_offload ? ns_csum(NULL, 0, ns_tcp_pseudo(laddr, raddr, w.len))
				      : (uint16_t)~ns_csum(s, w.len, ns_tcp_pseudo(laddr, raddr, w.len));
	s[16] = (uint8_t)(sum >> 8);
	s[17] = (uint8_t)sum;
	t->stats.segs_out++;
	return ns_ip_output(t->nif, laddr, raddr, NS_IP_TCP, s, w.len, t->now_ms) == 0;
}

/* The window to announce: what the application can take (bytes). */
uint32_t
ns_tcp_rcv_wnd(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	/* an active open's application exists from the SYN on: its SYN
	 * announces its room too (a window is not to shrink later) */
	bool app = c->state >= NS_TCP_ESTABLISHED || c->state == NS_TCP_SYN_SENT;
	size_t w = t->ops->rcv_space != NULL && app ? t->ops->rcv_space(t->arg, c) : NS_TCP_RCV_WND;

	return (uint32_t)(w < NS_TCP_RCV_WND ? w : NS_TCP_RCV_WND);
}

bool
ns_tcp_emit_c(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, uint8_t flags, const uint8_t *data,
	      size_t len, unsigned opts)
{
	/* the SYN-ACK's window is never scaled (RFC 7323 2.2) */
	unsigned shift = (flags & F_SYN) ? 0 : c->rcv_wscale;
	uint32_t wnd = ns_tcp_rcv_wnd(t, c) >> shift;

	if (wnd > 0xffff)
		wnd = 0xffff;
	c->adv_wnd = wnd << shift;
	if (wnd == 0 && !(flags & F_RST))
		t->stats.zero_windows++;
	return ns_tcp_emit(t, c->laddr, c->raddr, c->lport, c->rport, seq, c->rcv_nxt, flags, (uint16_t)wnd, data,
			   len, opts);
}

unsigned
ns_tcp_synack_opts(const struct ns_tcp_conn *c)
{
	return OPT_MSS | (c->ws_ok ? OPT_WS : 0);
}

/* A data segment of n bytes (n <= MSS) from offset off of the send
 * buffer (a ring: the bytes may wrap). */
static void
ns_tcp_emit_data(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, size_t off, size_t n)
{
	uint8_t seg[NS_TCP_MSS];
	size_t at = (c->buf_head + off) % NS_TCP_SNDBUF, first = NS_TCP_SNDBUF - at < n ? NS_TCP_SNDBUF - at : n;

	memcpy(seg, c->buf + at, first);
	memcpy(seg + first, c->buf, n - first);
	ns_tcp_emit_c(t, c, seq, F_ACK | F_PSH, seg, n, 0);
}

/* Send the segment that starts at seq (retransmissions): up to one MSS of
 * what was sent from there, or our FIN alone. */
void
ns_tcp_emit_at(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq)
{
	size_t off = seq - c->snd_una, sent = c->snd_nxt - c->snd_una - (c->fin_sent ? 1 : 0), n;

	if (off > sent)
		return;
	n = sent - off < c->mss ? sent - off : c->mss;
	if (n > c->buf_len - off)
		n = c->buf_len > off ? c->buf_len - off : 0;
	if (n > 0)
		ns_tcp_emit_data(t, c, seq, off, n);
	else if (c->fin_sent)
		ns_tcp_emit_c(t, c, seq, F_FIN | F_ACK, NULL, 0, 0);
}

void
ns_tcp_arm(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->rto_at == 0) {
		c->rto_at = t->now_ms + c->rto_ms;
		ns_tcp_timer_need(t, c);
	}
}

/* Send what the window allows, then our FIN when asked for and all is
 * sent. Returns whether a segment went out. */
bool
ns_tcp_output(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	bool sent = false;

	if (c->state < NS_TCP_ESTABLISHED || c->state == NS_TCP_TIME_WAIT)
		return false;
	for (;;) {
		uint32_t in_flight = c->snd_nxt - c->snd_una;
		uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
		size_t done = in_flight - (c->fin_sent ? 1 : 0), n;

		if (c->fin_sent || done >= c->buf_len || in_flight >= wnd) {
			/* data waits for a zero window: probe it (persist timer) */
			if (!c->fin_sent && done < c->buf_len && c->snd_wnd == 0 && in_flight == 0)
				ns_tcp_arm(t, c);
			break;
		}
		n = c->buf_len - done;
		if (n > c->mss)
			n = c->mss;
		if (n > wnd - in_flight)
			n = wnd - in_flight;
		ns_tcp_emit_data(t, c, c->snd_nxt, done, n);
		if (c->rtt_at == 0) {
			c->rtt_at = t->now_ms;
			c->rtt_seq = c->snd_nxt + (uint32_t)n;
		}
		c->snd_nxt += (uint32_t)n;
		if (seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		ns_tcp_arm(t, c);
		sent = true;
	}
	if (c->close_requested && !c->fin_sent && c->snd_nxt - c->snd_una == c->buf_len) {
		ns_tcp_emit_c(t, c, c->snd_nxt, F_FIN | F_ACK, NULL, 0, 0);
		c->snd_nxt++;
		if (seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		c->fin_sent = true;
		ns_tcp_arm(t, c);
		if (c->state == NS_TCP_ESTABLISHED)
			c->state = NS_TCP_FIN_WAIT_1;
		else if (c->state == NS_TCP_CLOSE_WAIT)
			c->state = NS_TCP_LAST_ACK;
		sent = true;
	}
	return sent;
}

size_t
ns_tcp_send(struct ns_tcp *t, struct ns_tcp_conn *c, const uint8_t *p, size_t len)
{
	size_t room = NS_TCP_SNDBUF - c->buf_len, at, first;

	if (c->close_requested || (c->state != NS_TCP_ESTABLISHED && c->state != NS_TCP_CLOSE_WAIT))
		return 0;
	if (len > room)
		len = room;
	at = (c->buf_head + c->buf_len) % NS_TCP_SNDBUF;
	first = NS_TCP_SNDBUF - at < len ? NS_TCP_SNDBUF - at : len;
	memcpy(c->buf + at, p, first);
	memcpy(c->buf, p + first, len - first);
	c->buf_len += len;
	ns_tcp_output(t, c);
	return len;
}

void
ns_tcp_window_update(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->state >= NS_TCP_ESTABLISHED && c->state != NS_TCP_TIME_WAIT && c->adv_wnd < c->mss &&
	    ns_tcp_rcv_wnd(t, c) >= c->mss)
		ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
}

void
ns_tcp_close(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->state != NS_TCP_ESTABLISHED && c->state != NS_TCP_CLOSE_WAIT)
		return;
	c->close_requested = true;
	ns_tcp_output(t, c);
}

/* RFC 6298 2.2-2.3 with a sample r. */
void
ns_tcp_rtt(struct ns_tcp_conn *c, uint32_t r)
{
	if (c->srtt_ms == 0 && c->rttvar_ms == 0) {
		c->srtt_ms = r ? r : 1;
		c->rttvar_ms = r / 2;
	} else {
		uint32_t d = c->srtt_ms > r ? c->srtt_ms - r : r - c->srtt_ms;
		c->rttvar_ms = (3 * c->rttvar_ms + d) / 4;
		c->srtt_ms = (7 * c->srtt_ms + r) / 8;
	}
	c->rto_ms = c->srtt_ms + (4 * c->rttvar_ms > 1 ? 4 * c->rttvar_ms : 1);
	if (c->rto_ms < NS_TCP_RTO_MIN_MS)
		c->rto_ms = NS_TCP_RTO_MIN_MS;
	if (c->rto_ms > NS_TCP_RTO_MAX_MS)
		c->rto_ms = NS_TCP_RTO_MAX_MS;
}
