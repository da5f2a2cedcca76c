/* TCP, first part (ns_tcp.h). Sequence numbers compare modulo 2^32
 * (seq_lt); segments are parsed with the bounds-checked reader and built
 * in one buffer with the pseudo-header checksum. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hsk_buf.h"
#include "ns_tcp.h"

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

struct seg {
	uint16_t sport, dport, wnd, mss;
	int16_t wscale;            /* -1: no window-scale option */
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *data;
	size_t len;
};

static bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool
seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static uint32_t
ns_tcp_pseudo(uint32_t src, uint32_t dst, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + NS_IP_TCP + (uint32_t)len;
}

enum { OPT_MSS = 1, OPT_WS = 2 };

/* One segment out; opts adds the MSS and window-scale options (SYN-ACK). */
static void
ns_tcp_emit(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport, uint32_t seq,
	    uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len, unsigned opts)
{
	uint8_t s[NS_ETH_MAX - NS_ETH_HDR - NS_IP_HDR];
	size_t hlen = 20 + (opts & OPT_MSS ? 4 : 0) + (opts & OPT_WS ? 4 : 0);
	struct hsk_wr w;
	uint16_t sum;

	if (hlen + len > sizeof(s))
		return;
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
	sum = (uint16_t)~ns_csum(s, w.len, ns_tcp_pseudo(laddr, raddr, w.len));
	s[16] = (uint8_t)(sum >> 8);
	s[17] = (uint8_t)sum;
	t->stats.segs_out++;
	(void)ns_ip_output(t->nif, laddr, raddr, NS_IP_TCP, s, w.len, t->now_ms);
}

/* The window to announce: what the application can take (bytes). */
static uint32_t
ns_tcp_rcv_wnd(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	size_t w = t->ops->rcv_space != NULL && c->state >= NS_TCP_ESTABLISHED ? t->ops->rcv_space(t->arg, c)
										 : NS_TCP_RCV_WND;
	return (uint32_t)(w < NS_TCP_RCV_WND ? w : NS_TCP_RCV_WND);
}

static void
ns_tcp_emit_c(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, uint8_t flags, const uint8_t *data,
	      size_t len, unsigned opts)
{
	/* the SYN-ACK's window is never scaled (RFC 7323 2.2) */
	unsigned shift = (flags & F_SYN) ? 0 : c->rcv_wscale;
	uint32_t wnd = ns_tcp_rcv_wnd(t, c) >> shift;

	if (wnd > 0xffff)
		wnd = 0xffff;
	c->adv_wnd = wnd << shift;
	ns_tcp_emit(t, c->laddr, c->raddr, c->lport, c->rport, seq, c->rcv_nxt, flags, (uint16_t)wnd, data, len,
		    opts);
}

static unsigned
ns_tcp_synack_opts(const struct ns_tcp_conn *c)
{
	return OPT_MSS | (c->ws_ok ? OPT_WS : 0);
}

/* Send the segment that starts at seq (retransmissions): up to one MSS of
 * what was sent from there, or our FIN alone. */
static void
ns_tcp_emit_at(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq)
{
	size_t off = seq - c->snd_una, sent = c->snd_nxt - c->snd_una - (c->fin_sent ? 1 : 0), n;

	if (off > sent)
		return;
	n = sent - off < c->mss ? sent - off : c->mss;
	if (n > c->buf_len - off)
		n = c->buf_len > off ? c->buf_len - off : 0;
	if (n > 0)
		ns_tcp_emit_c(t, c, seq, F_ACK | F_PSH, c->buf + off, n, 0);
	else if (c->fin_sent)
		ns_tcp_emit_c(t, c, seq, F_FIN | F_ACK, NULL, 0, 0);
}

int
ns_tcp_init(struct ns_tcp *t, struct ns_if *nif, const struct ns_tcp_ops *ops, void *arg)
{
	uint8_t *slab;

	memset(t, 0, sizeof(*t));
	/* every send buffer and out-of-order area, once */
	slab = calloc(NS_TCP_CONNS, NS_TCP_SNDBUF + NS_TCP_OOO_BYTES);
	if (slab == NULL)
		return -1;
	for (size_t i = 0; i < NS_TCP_CONNS; i++) {
		t->conns[i].buf = slab + i * (NS_TCP_SNDBUF + NS_TCP_OOO_BYTES);
		t->conns[i].ooo_buf = t->conns[i].buf + NS_TCP_SNDBUF;
		t->conns[i].tcp = t;
	}
	t->nif = nif;
	t->ops = ops;
	t->arg = arg;
	nif->tcp_in = ns_tcp_input;
	nif->tcp_arg = t;
	return 0;
}

void
ns_tcp_free(struct ns_tcp *t)
{
	free(t->conns[0].buf);
	t->conns[0].buf = NULL;
}

int
ns_tcp_listen(struct ns_tcp *t, uint16_t port)
{
	if (t->n_ports == NS_TCP_PORTS)
		return -1;
	t->ports[t->n_ports++] = port;
	return 0;
}

static void
ns_tcp_release(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	uint8_t *buf = c->buf, *ooo = c->ooo_buf;

	if (!c->told_gone && c->state >= NS_TCP_ESTABLISHED && t->ops->gone != NULL)
		t->ops->gone(t->arg, c);
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->ooo_buf = ooo;
	c->tcp = t;
}

/* Keep a segment that arrived ahead of rcv_nxt (within the window), if
 * there is room; a copy of one already held is not kept twice. */
static void
ns_tcp_ooo_keep(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < c->n_ooo; i++)
		if (c->ooo[i].seq == seq && c->ooo[i].len >= len)
			return;
	if (c->n_ooo == NS_TCP_OOO_SEGS || len > (size_t)(NS_TCP_OOO_BYTES - c->ooo_used) ||
	    !seq_lt(seq, c->rcv_nxt + NS_TCP_RCV_WND)) {
		t->stats.ooo_dropped++;
		return;
	}
	c->ooo[c->n_ooo].seq = seq;
	c->ooo[c->n_ooo].len = (uint16_t)len;
	c->ooo[c->n_ooo].at = c->ooo_used;
	memcpy(c->ooo_buf + c->ooo_used, p, len);
	c->ooo_used = (uint16_t)(c->ooo_used + len);
	c->n_ooo++;
}

/* Hand the application the bytes of [seq, seq + len) from rcv_nxt on
 * (seq <= rcv_nxt); rcv_nxt advances by what it took. false when the
 * connection went away in the callback. */
static bool
ns_tcp_deliver(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t seq, const uint8_t *p, size_t len)
{
	uint32_t off = c->rcv_nxt - seq;
	size_t took;

	if (!seq_lt(c->rcv_nxt, seq + (uint32_t)len))
		return true; /* nothing new */
	took = len - off;
	if (t->ops->data != NULL)
		took = t->ops->data(t->arg, c, p + off, len - off);
	if (c->state == NS_TCP_FREE)
		return false;
	if (took > len - off)
		took = len - off;
	c->rcv_nxt += (uint32_t)took;
	return true;
}

/* Deliver held segments the in-order data has reached; each is dropped
 * once used (a rest the application could not take comes again from the
 * peer) or found old. false when the connection went away. */
static bool
ns_tcp_ooo_deliver(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	for (size_t i = 0; i < c->n_ooo;) {
		if (!seq_le(c->ooo[i].seq, c->rcv_nxt)) {
			i++;
			continue;
		}
		if (!ns_tcp_deliver(t, c, c->ooo[i].seq, c->ooo_buf + c->ooo[i].at, c->ooo[i].len))
			return false;
		c->ooo[i] = c->ooo[--c->n_ooo];
		i = 0; /* rcv_nxt moved: look again from the start */
	}
	if (c->n_ooo == 0)
		c->ooo_used = 0;
	return true;
}

static void
ns_tcp_time_wait(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	c->state = NS_TCP_TIME_WAIT;
	c->time_wait_until = t->now_ms + NS_TCP_TIME_WAIT_MS;
	c->rto_at = 0;
	if (!c->told_gone && t->ops->gone != NULL)
		t->ops->gone(t->arg, c);
	c->told_gone = true;
}

static void
ns_tcp_reset(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	ns_tcp_emit_c(t, c, c->snd_nxt, F_RST | F_ACK, NULL, 0, 0);
	t->stats.reset_out++;
	ns_tcp_release(t, c);
}

static void
ns_tcp_arm(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->rto_at == 0)
		c->rto_at = t->now_ms + c->rto_ms;
}

/* Send what the window allows, then our FIN when asked for and all is
 * sent. Returns whether a segment went out. */
static bool
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
		ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK | F_PSH, c->buf + done, n, 0);
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
	size_t room = NS_TCP_SNDBUF - c->buf_len;

	if (c->close_requested || (c->state != NS_TCP_ESTABLISHED && c->state != NS_TCP_CLOSE_WAIT))
		return 0;
	if (len > room)
		len = room;
	memcpy(c->buf + c->buf_len, p, len);
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

void
ns_tcp_abort(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->state == NS_TCP_FREE)
		return;
	c->told_gone = true;
	if (c->state != NS_TCP_TIME_WAIT)
		ns_tcp_reset(t, c);
	else
		ns_tcp_release(t, c);
}

/* RFC 6298 2.2-2.3 with a sample r. */
static void
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

static bool
ns_tcp_parse(const uint8_t *p, size_t len, struct seg *s)
{
	struct hsk_rd r = hsk_rd_make(p, len), opts;
	uint8_t off, flags;
	uint16_t sum, urg;
	const uint8_t *o;

	memset(s, 0, sizeof(*s));
	s->wscale = -1;
	if (hsk_rd_u16(&r, &s->sport) != HSK_OK || hsk_rd_u16(&r, &s->dport) != HSK_OK ||
	    hsk_rd_u32(&r, &s->seq) != HSK_OK || hsk_rd_u32(&r, &s->ack) != HSK_OK || hsk_rd_u8(&r, &off) != HSK_OK ||
	    hsk_rd_u8(&r, &flags) != HSK_OK || hsk_rd_u16(&r, &s->wnd) != HSK_OK || hsk_rd_u16(&r, &sum) != HSK_OK ||
	    hsk_rd_u16(&r, &urg) != HSK_OK)
		return false;
	(void)sum, (void)urg;
	if ((size_t)(off >> 4) * 4 < 20 || (size_t)(off >> 4) * 4 > len)
		return false;
	s->flags = flags;
	if (hsk_rd_bytes(&r, (size_t)(off >> 4) * 4 - 20, &o) != HSK_OK)
		return false;
	opts = hsk_rd_make(o, (size_t)(off >> 4) * 4 - 20);
	while (hsk_rd_left(&opts) > 0) { /* kind, length, value; only MSS is read */
		uint8_t kind, olen;
		const uint8_t *v;

		if (hsk_rd_u8(&opts, &kind) != HSK_OK || kind == 0)
			break;
		if (kind == 1)
			continue;
		if (hsk_rd_u8(&opts, &olen) != HSK_OK || olen < 2 || hsk_rd_bytes(&opts, olen - 2u, &v) != HSK_OK)
			return false;
		if (kind == 2 && olen == 4)
			s->mss = (uint16_t)(v[0] << 8 | v[1]);
		else if (kind == 3 && olen == 3)
			s->wscale = v[0] > 14 ? 14 : v[0]; /* RFC 7323 2.3 */
	}
	s->data = r.cur;
	s->len = hsk_rd_left(&r);
	return true;
}

static struct ns_tcp_conn *
ns_tcp_find(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	for (size_t i = 0; i < NS_TCP_CONNS; i++) {
		struct ns_tcp_conn *c = &t->conns[i];
		if (c->state != NS_TCP_FREE && c->laddr == laddr && c->raddr == raddr && c->lport == lport &&
		    c->rport == rport)
			return c;
	}
	return NULL;
}

/* A free slot, else the TIME_WAIT that ends first (TIME_WAIT must not
 * hold memory without bound). */
static struct ns_tcp_conn *
ns_tcp_alloc(struct ns_tcp *t)
{
	struct ns_tcp_conn *tw = NULL;

	for (size_t i = 0; i < NS_TCP_CONNS; i++) {
		struct ns_tcp_conn *c = &t->conns[i];
		if (c->state == NS_TCP_FREE)
			return c;
		if (c->state == NS_TCP_TIME_WAIT && (tw == NULL || c->time_wait_until < tw->time_wait_until))
			tw = c;
	}
	if (tw != NULL)
		ns_tcp_release(t, tw);
	return tw;
}

static bool
ns_tcp_listening(const struct ns_tcp *t, uint16_t port)
{
	for (size_t i = 0; i < t->n_ports; i++)
		if (t->ports[i] == port)
			return true;
	return false;
}

/* A segment for no connection: RST unless it is one (RFC 9293 3.10.7.1). */
static void
ns_tcp_refuse(struct ns_tcp *t, uint32_t src, uint32_t dst, const struct seg *s)
{
	if (s->flags & F_RST)
		return;
	t->stats.reset_out++;
	if (s->flags & F_ACK)
		ns_tcp_emit(t, dst, src, s->dport, s->sport, s->ack, 0, F_RST, 0, NULL, 0, 0);
	else
		ns_tcp_emit(t, dst, src, s->dport, s->sport, 0,
			    s->seq + (uint32_t)s->len + ((s->flags & F_SYN) ? 1 : 0) + ((s->flags & F_FIN) ? 1 : 0),
			    F_RST | F_ACK, 0, NULL, 0, 0);
}

/* ---- congestion control: RFC 5681 slow start and congestion
 * avoidance, fast retransmit and NewReno fast recovery (RFC 6582) ---- */

static void
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

static void
ns_tcp_cc_halve(struct ns_tcp_conn *c)
{
	uint32_t half = ns_tcp_flight(c) / 2;

	c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
}

/* A duplicate ACK (nothing new acknowledged, data outstanding). */
static void
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
		c->cwnd += c->mss;
		ns_tcp_output(t, c);
		c->cwnd -= c->mss;
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
static void
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

static void
ns_tcp_passive_open(struct ns_tcp *t, uint32_t src, uint32_t dst, const struct seg *s)
{
	struct ns_tcp_conn *c = ns_tcp_alloc(t);

	if (c == NULL) {
		t->stats.table_full++;
		return; /* the peer retries its SYN */
	}
	t->stats.syn++;
	c->state = NS_TCP_SYN_RCVD;
	c->laddr = dst;
	c->raddr = src;
	c->lport = s->dport;
	c->rport = s->sport;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	/* a random initial sequence number (RFC 6528's goal: not guessable) */
	if (getrandom(&c->iss, sizeof(c->iss), GRND_NONBLOCK) != (ssize_t)sizeof(c->iss))
		c->iss = (uint32_t)t->now_ms * 2654435761u ^ (uint32_t)(uintptr_t)c;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->recover = c->iss;
	c->snd_wnd = s->wnd; /* a SYN's window is not scaled */
	if (s->wscale >= 0) { /* RFC 7323: both sides sent the option */
		c->ws_ok = true;
		c->snd_wscale = (uint8_t)s->wscale;
		c->rcv_wscale = NS_TCP_RCV_WSCALE;
	}
	c->mss = s->mss ? (s->mss < NS_TCP_MSS ? s->mss : NS_TCP_MSS) : 536; /* RFC 9293 3.7.1 default */
	ns_tcp_cc_init(c);
	c->rto_ms = NS_TCP_RTO_INIT_MS;
	ns_tcp_emit_c(t, c, c->iss, F_SYN | F_ACK, NULL, 0, ns_tcp_synack_opts(c));
	ns_tcp_arm(t, c);
}

/* The acknowledgment field of a segment on a synchronized connection;
 * returns the bytes it freed in the send buffer. */
static uint32_t
ns_tcp_ack(struct ns_tcp *t, struct ns_tcp_conn *c, const struct seg *s)
{
	uint32_t acked, data;

	if (seq_lt(c->snd_max, s->ack)) { /* acks what we never sent */
		ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
		return 0;
	}
	if (seq_lt(c->snd_nxt, s->ack)) {
		/* after a timeout rewound snd_nxt: the peer had more than we
		 * resent (our FIN too, when it acks one past the data) */
		c->snd_nxt = s->ack;
		if (c->close_requested && !c->fin_sent && s->ack - c->snd_una == c->buf_len + 1) {
			c->fin_sent = true;
			c->state = c->state == NS_TCP_CLOSE_WAIT ? NS_TCP_LAST_ACK : NS_TCP_FIN_WAIT_1;
		}
	}
	c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
	if (!seq_lt(c->snd_una, s->ack)) {
		if (s->ack == c->snd_una && s->len == 0 && !(s->flags & F_FIN) && c->snd_nxt != c->snd_una)
			ns_tcp_dupack(t, c);
		return 0;
	}
	acked = s->ack - c->snd_una;
	data = c->fin_sent && s->ack == c->snd_nxt ? acked - 1 : acked;
	if (data > c->buf_len)
		data = (uint32_t)c->buf_len;
	memmove(c->buf, c->buf + data, c->buf_len - data);
	c->buf_len -= data;
	c->snd_una = s->ack;
	ns_tcp_cc_ack(t, c, s->ack, acked);
	if (c->rtt_at != 0 && seq_le(c->rtt_seq, s->ack)) {
		ns_tcp_rtt(c, (uint32_t)(t->now_ms - c->rtt_at));
		c->rtt_at = 0;
	}
	c->retries = 0;
	c->rto_at = c->snd_una == c->snd_nxt ? 0 : t->now_ms + c->rto_ms;
	if (c->fin_sent && c->snd_una == c->snd_nxt) { /* our FIN is acknowledged */
		if (c->state == NS_TCP_FIN_WAIT_1)
			c->state = NS_TCP_FIN_WAIT_2;
		else if (c->state == NS_TCP_CLOSING)
			ns_tcp_time_wait(t, c);
		else if (c->state == NS_TCP_LAST_ACK)
			ns_tcp_release(t, c);
	}
	return data;
}

void
ns_tcp_input(void *tcp, uint32_t src, uint32_t dst, const uint8_t *p, size_t len, uint64_t now_ms)
{
	struct ns_tcp *t = tcp;
	struct ns_tcp_conn *c;
	struct seg s;
	bool need_ack = false;
	uint32_t freed = 0;

	t->now_ms = now_ms;
	t->stats.segs_in++;
	if (ns_csum(p, len, ns_tcp_pseudo(src, dst, len)) != 0xffff || !ns_tcp_parse(p, len, &s)) {
		t->stats.bad_csum++;
		return;
	}
	c = ns_tcp_find(t, dst, src, s.dport, s.sport);
	if (c == NULL) {
		if ((s.flags & (F_SYN | F_ACK | F_RST)) == F_SYN && ns_tcp_listening(t, s.dport))
			ns_tcp_passive_open(t, src, dst, &s);
		else
			ns_tcp_refuse(t, src, dst, &s);
		return;
	}
	if (s.flags & F_RST) {
		/* RFC 5961 3.2: only the exact next sequence number resets;
		 * elsewhere in the window, a challenge ACK */
		if (s.seq == c->rcv_nxt) {
			t->stats.reset_in++;
			ns_tcp_release(t, c);
		} else if (seq_lt(c->rcv_nxt, s.seq) && seq_lt(s.seq, c->rcv_nxt + NS_TCP_RCV_WND)) {
			ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
		}
		return;
	}
	if (s.flags & F_SYN) {
		if (c->state == NS_TCP_SYN_RCVD && s.seq == c->irs) /* our SYN-ACK was lost */
			ns_tcp_emit_c(t, c, c->iss, F_SYN | F_ACK, NULL, 0, ns_tcp_synack_opts(c));
		else
			ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0); /* RFC 5961 4 */
		return;
	}
	if (!(s.flags & F_ACK))
		return;
	if (c->state == NS_TCP_SYN_RCVD) {
		if (s.ack != c->snd_nxt) {
			ns_tcp_emit(t, dst, src, s.dport, s.sport, s.ack, 0, F_RST, 0, NULL, 0, 0);
			return;
		}
		c->snd_una = s.ack;
		c->snd_wnd = (uint32_t)s.wnd << c->snd_wscale;
		c->state = NS_TCP_ESTABLISHED;
		c->rto_at = 0;
		c->retries = 0;
		t->stats.established++;
		c->app = t->ops->accept != NULL ? t->ops->accept(t->arg, c) : NULL;
		if (c->state == NS_TCP_FREE)
			return;
	} else {
		freed = ns_tcp_ack(t, c, &s);
		if (c->state == NS_TCP_FREE)
			return;
		/* after a window below one segment, say when it opens */
		if (c->adv_wnd < c->mss && ns_tcp_rcv_wnd(t, c) >= c->mss)
			need_ack = true;
	}
	if (c->state == NS_TCP_TIME_WAIT) {
		if (s.flags & F_FIN) { /* the peer's FIN again: our ACK was lost */
			c->time_wait_until = now_ms + NS_TCP_TIME_WAIT_MS;
			ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
		}
		return;
	}
	/* A segment before the window (a zero-window probe carries an old
	 * sequence number) is answered with an ACK (RFC 9293 3.10.7.4). */
	if (s.len == 0 && seq_lt(s.seq, c->rcv_nxt))
		need_ack = true;
	/* data, in order only */
	if (s.len > 0) {
		need_ack = true;
		if (c->state != NS_TCP_ESTABLISHED && c->state != NS_TCP_FIN_WAIT_1 && c->state != NS_TCP_FIN_WAIT_2) {
			/* after the peer's FIN: nothing more may come */
		} else if (seq_le(s.seq, c->rcv_nxt)) {
			if (!ns_tcp_deliver(t, c, s.seq, s.data, s.len) || !ns_tcp_ooo_deliver(t, c))
				return;
		} else {
			/* ahead of a gap: kept, and the duplicate ACK asks for the gap */
			t->stats.out_of_order++;
			ns_tcp_ooo_keep(t, c, s.seq, s.data, s.len);
			s.flags &= (uint8_t)~F_FIN; /* a FIN after a gap comes again */
		}
	}
	if ((s.flags & F_FIN) && s.seq + (uint32_t)s.len == c->rcv_nxt) {
		c->rcv_nxt++;
		need_ack = true;
		switch (c->state) {
		case NS_TCP_ESTABLISHED:
			c->state = NS_TCP_CLOSE_WAIT;
			break;
		case NS_TCP_FIN_WAIT_1:
			c->state = NS_TCP_CLOSING;
			break;
		case NS_TCP_FIN_WAIT_2:
			ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
			ns_tcp_time_wait(t, c);
			return;
		default:
			break;
		}
		if (t->ops->peer_closed != NULL)
			t->ops->peer_closed(t->arg, c);
		if (c->state == NS_TCP_FREE || c->state == NS_TCP_TIME_WAIT)
			return;
	}
	if (freed > 0 && t->ops->writable != NULL && (c->state == NS_TCP_ESTABLISHED || c->state == NS_TCP_CLOSE_WAIT)) {
		t->ops->writable(t->arg, c);
		if (c->state == NS_TCP_FREE)
			return;
	}
	if (!ns_tcp_output(t, c) && need_ack)
		ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
}

void
ns_tcp_timers(struct ns_tcp *t, uint64_t now_ms)
{
	t->now_ms = now_ms;
	for (size_t i = 0; i < NS_TCP_CONNS; i++) {
		struct ns_tcp_conn *c = &t->conns[i];

		if (c->state == NS_TCP_TIME_WAIT && now_ms >= c->time_wait_until) {
			ns_tcp_release(t, c);
			continue;
		}
		if (c->rto_at == 0 || now_ms < c->rto_at)
			continue;
		if (c->state != NS_TCP_SYN_RCVD && c->snd_wnd == 0 && c->snd_nxt == c->snd_una && c->buf_len > 0) {
			/* RFC 9293 3.8.6.1: probe the zero window with an old
			 * sequence number (the peer answers with its window),
			 * backing off, for as long as it takes */
			t->stats.window_probes++;
			ns_tcp_emit_c(t, c, c->snd_una - 1, F_ACK, NULL, 0, 0);
			c->rto_ms = c->rto_ms * 2 > NS_TCP_RTO_MAX_MS ? NS_TCP_RTO_MAX_MS : c->rto_ms * 2;
			c->rto_at = now_ms + c->rto_ms;
			continue;
		}
		if (++c->retries > NS_TCP_RETRIES) {
			t->stats.timeouts++;
			ns_tcp_reset(t, c);
			continue;
		}
		/* RFC 6298 5.4-5.6: back off, send again from snd_una */
		t->stats.retransmits++;
		c->rto_ms = c->rto_ms * 2 > NS_TCP_RTO_MAX_MS ? NS_TCP_RTO_MAX_MS : c->rto_ms * 2;
		c->rto_at = 0;
		c->rtt_at = 0; /* Karn: no sample from a retransmitted segment */
		if (c->state == NS_TCP_SYN_RCVD) {
			ns_tcp_emit_c(t, c, c->iss, F_SYN | F_ACK, NULL, 0, ns_tcp_synack_opts(c));
			ns_tcp_arm(t, c);
			continue;
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
}
