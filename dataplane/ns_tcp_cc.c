/* TCP loss recovery and congestion control (ns_tcp.h): RFC 5681 slow
 * start and congestion avoidance, fast retransmit with limited transmit
 * (RFC 3042), NewReno fast recovery (RFC 6582), the retransmission
 * timeout with backoff (RFC 6298) and zero-window probes. */
#include "ns_tcp_priv.h"

void
ns_tcp_cc_init(struct ns_tcp_conn *c)
{
	c->cwnd = 10u * c->mss;                 /* RFC 6928 initial window */
	c->ssthresh = 0xffffffffu;
	c->dupacks = 0;
	c->in_recovery = false;
}

static uint32_t
ns_tcp_flight(const struct ns_tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

void
ns_tcp_cc_halve(struct ns_tcp_conn *c)
{
	uint32_t half = ns_tcp_flight(c) / 2;

	c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
}

/* A duplicate ACK (nothing new acknowledged, data outstanding). */
void
ns_tcp_dupack(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	c->dupacks++;
	if (c->in_recovery) {
		c->cwnd += c->mss; /* a segment left the network */
		return;
	}
	/* the third: the segment at snd_una was lost; not again for data
	 * sent before an earlier loss was repaired (RFC 6582 4.1) */
	if (c->dupacks < 3) {
		/* RFC 3042 limited transmit: a new segment for each of the
		 * first two, so that a small window still yields three */
		c->cwnd += c->dupacks * (uint32_t)c->mss;
		ns_tcp_output(t, c);
		c->cwnd -= c->dupacks * (uint32_t)c->mss;
		return;
	}
	if (c->dupacks == 3 && seq_lt(c->recover, c->snd_una + 1)) {
		t->stats.fast_retransmits++;
		ns_tcp_cc_halve(c);
		c->recover = c->snd_nxt;
		c->in_recovery = true;
		c->rtt_at = 0; /* Karn */
		ns_tcp_emit_at(t, c, c->snd_una);
		c->cwnd = c->ssthresh + 3u * c->mss;
	}
}

/* New data acknowledged: snd_una moved to ack by acked bytes. */
void
ns_tcp_cc_ack(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t ack, uint32_t acked)
{
	c->dupacks = 0;
	if (c->in_recovery) {
		if (seq_lt(ack, c->recover)) {
			/* partial ACK: the next hole is lost too; resend it, deflate */
			ns_tcp_emit_at(t, c, ack);
			t->stats.fast_retransmits++;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
			return;
		}
		c->in_recovery = false; /* full ACK */
		c->cwnd = c->ssthresh;
		return;
	}
	if (c->cwnd < c->ssthresh)
		c->cwnd += acked < c->mss ? acked : c->mss;
	else
		c->cwnd += c->mss * c->mss / c->cwnd > 0 ? c->mss * c->mss / c->cwnd : 1;
	if (c->cwnd > 4u * NS_TCP_SNDBUF)
		c->cwnd = 4u * NS_TCP_SNDBUF;
}

void
ns_tcp_timer_fire(struct ns_tcp *t, struct ns_tcp_conn *c, uint64_t now_ms)
{
	if (c->state == NS_TCP_TIME_WAIT) {
		if (now_ms >= c->time_wait_until)
			ns_tcp_release(t, c);
		return;
	}
	if (c->rto_at == 0 || now_ms < c->rto_at)
		return;
	if (c->state == NS_TCP_SYN_SENT && c->syn_unsent) {
		ns_tcp_syn_out(t, c); /* still waiting for ARP, or now sent */
		return;
	}
	if (c->state > NS_TCP_SYN_RCVD && c->snd_wnd == 0 && c->snd_nxt == c->snd_una && c->buf_len > 0) {
		/* RFC 9293 3.8.6.1: probe the zero window with an old
		 * sequence number (the peer answers with its window),
		 * backing off, for as long as it takes */
		t->stats.window_probes++;
		ns_tcp_emit_c(t, c, c->snd_una - 1, F_ACK, NULL, 0, 0);
		c->rto_ms = c->rto_ms * 2 > NS_TCP_RTO_MAX_MS ? NS_TCP_RTO_MAX_MS : c->rto_ms * 2;
		c->rto_at = now_ms + c->rto_ms;
		return;
	}
	if (++c->retries > NS_TCP_RETRIES) {
		t->stats.timeouts++;
		ns_tcp_reset(t, c);
		return;
	}
	/* RFC 6298 5.4-5.6: back off, send again from snd_una */
	t->stats.retransmits++;
	c->rto_ms = c->rto_ms * 2 > NS_TCP_RTO_MAX_MS ? NS_TCP_RTO_MAX_MS : c->rto_ms * 2;
	c->rto_at = 0;
	c->rtt_at = 0; /* Karn: no sample from a retransmitted segment */
	if (c->state == NS_TCP_SYN_SENT) {
		ns_tcp_syn_out(t, c);
		return;
	}
	if (c->state == NS_TCP_SYN_RCVD) {
		(void)ns_tcp_emit_c(t, c, c->iss, F_SYN | F_ACK, NULL, 0, ns_tcp_synack_opts(c));
		ns_tcp_arm(t, c);
		return;
	}
	/* RFC 5681 3.1 (5.5 of RFC 6298): one segment, slow start again */
	if (c->retries == 1)
		ns_tcp_cc_halve(c);
	c->cwnd = c->mss;
	c->recover = c->snd_nxt;
	c->in_recovery = false;
	c->dupacks = 0;
	c->snd_nxt = c->snd_una;
	if (c->fin_sent) {
		c->fin_sent = false;
		if (c->state == NS_TCP_FIN_WAIT_1)
			c->state = NS_TCP_ESTABLISHED;
		else if (c->state == NS_TCP_LAST_ACK)
			c->state = NS_TCP_CLOSE_WAIT;
		else if (c->state == NS_TCP_CLOSING)
			c->state = NS_TCP_CLOSE_WAIT; /* FIN again, then LAST_ACK */
	}
	ns_tcp_output(t, c);
}
