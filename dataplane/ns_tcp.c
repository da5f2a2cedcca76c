/* TCP input and the connection states (ns_tcp.h). Sequence numbers
 * compare modulo 2^32 (seq_lt); segments are parsed with the
 * bounds-checked reader. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hsk_buf.h"
#include "ns_tcp_priv.h"

int
ns_tcp_init(struct ns_tcp *t, struct ns_if *nif, const struct ns_tcp_ops *ops, void *arg, size_t max_conns)
{
	uint8_t *slab;
	size_t buckets = 16;

	memset(t, 0, sizeof(*t));
	if (max_conns == 0 || max_conns > NS_TCP_MAX_CONNS)
		return -1;
	while (buckets < 2 * max_conns)
		buckets *= 2;
	t->n_conns = max_conns;
	t->hash_mask = buckets - 1;
	t->syn_backlog = max_conns / 4 > 0 ? max_conns / 4 : 1;
	t->conns = calloc(max_conns, sizeof(*t->conns));
	t->hash = calloc(buckets, sizeof(*t->hash));
	t->free = calloc(max_conns, sizeof(*t->free));
	/* every send buffer and out-of-order area, once (untouched pages
	 * cost nothing until a connection uses them) */
	slab = calloc(max_conns, NS_TCP_SNDBUF + NS_TCP_OOO_BYTES);
	if (t->conns == NULL || t->hash == NULL || t->free == NULL || slab == NULL || ns_tcp_cookie_init(t) != 0) {
		free(slab);
		ns_tcp_free(t);
		return -1;
	}
	for (size_t i = 0; i < max_conns; i++) {
		t->conns[i].buf = slab + i * (NS_TCP_SNDBUF + NS_TCP_OOO_BYTES);
		t->conns[i].ooo_buf = t->conns[i].buf + NS_TCP_SNDBUF;
		t->conns[i].tcp = t;
	}
	ns_tcp_table_init(t);
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
	if (t->conns != NULL)
		free(t->conns[0].buf);
	free(t->conns);
	free(t->hash);
	free(t->free);
	t->conns = NULL;
	t->hash = t->free = NULL;
	t->n_conns = 0;
}

int
ns_tcp_listen(struct ns_tcp *t, uint16_t port)
{
	if (t->n_ports == NS_TCP_PORTS)
		return -1;
	t->ports[t->n_ports++] = port;
	return 0;
}

void
ns_tcp_unlisten(struct ns_tcp *t)
{
	t->n_ports = 0;
}

bool
ns_tcp_closing(const struct ns_tcp *t)
{
	for (size_t i = 0; i < t->n_conns; i++) {
		enum ns_tcp_state st = t->conns[i].state;

		if (st == NS_TCP_FIN_WAIT_1 || st == NS_TCP_CLOSING || st == NS_TCP_LAST_ACK)
			return true;
	}
	return false;
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

void
ns_tcp_time_wait(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	c->state = NS_TCP_TIME_WAIT;
	c->time_wait_until = t->now_ms + NS_TCP_TIME_WAIT_MS;
	ns_tcp_timer_need(t, c);
	c->rto_at = 0;
	if (!c->told_gone && t->ops->gone != NULL)
		t->ops->gone(t->arg, c);
	c->told_gone = true;
}

void
ns_tcp_reset(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	ns_tcp_emit_c(t, c, c->snd_nxt, F_RST | F_ACK, NULL, 0, 0);
	t->stats.reset_out++;
	ns_tcp_release(t, c);
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

/* The state both opens share once the peer's ISN (irs) is known. */
static void
ns_tcp_synced(struct ns_tcp_conn *c, const struct seg *s, uint16_t mss)
{
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->recover = c->iss;
	if (s->wscale >= 0 && c->rcv_wscale_offered) { /* RFC 7323: both sides sent the option */
		c->ws_ok = true;
		c->snd_wscale = (uint8_t)s->wscale;
		c->rcv_wscale = NS_TCP_RCV_WSCALE;
	}
	c->mss = mss ? (mss < NS_TCP_MSS ? mss : NS_TCP_MSS) : 536; /* RFC 9293 3.7.1 default */
	ns_tcp_cc_init(c);
}

static uint32_t
ns_tcp_iss(const struct ns_tcp *t, const struct ns_tcp_conn *c)
{
	uint32_t iss;

	/* a random initial sequence number (RFC 6528's goal: not guessable) */
	if (getrandom(&iss, sizeof(iss), GRND_NONBLOCK) != (ssize_t)sizeof(iss))
		iss = (uint32_t)t->now_ms * 2654435761u ^ (uint32_t)(uintptr_t)c;
	return iss;
}

static void
ns_tcp_passive_open(struct ns_tcp *t, uint32_t src, uint32_t dst, const struct seg *s)
{
	struct ns_tcp_conn *c = NULL;

	t->stats.syn++;
	if (t->n_syn_rcvd < t->syn_backlog)
		c = ns_tcp_alloc(t, dst, src, s->dport, s->sport);
	if (c == NULL) {
		/* no state: the SYN-ACK's sequence number is a cookie */
		uint32_t cookie = ns_tcp_cookie_make(t, dst, src, s->dport, s->sport, s->seq, s->mss ? s->mss : 536,
						     t->now_ms);

		if (t->n_syn_rcvd < t->syn_backlog)
			t->stats.table_full++;
		t->stats.syn_cookies_sent++;
		ns_tcp_emit(t, dst, src, s->dport, s->sport, cookie, s->seq + 1, F_SYN | F_ACK, NS_TCP_RCV_WND, NULL,
			    0, OPT_MSS);
		return;
	}
	t->n_syn_rcvd++;
	c->state = NS_TCP_SYN_RCVD;
	c->iss = ns_tcp_iss(t, c);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_wnd = s->wnd; /* a SYN's window is not scaled */
	c->rcv_wscale_offered = true;
	ns_tcp_synced(c, s, s->mss);
	c->rto_ms = NS_TCP_RTO_INIT_MS;
	ns_tcp_emit_c(t, c, c->iss, F_SYN | F_ACK, NULL, 0, ns_tcp_synack_opts(c));
	ns_tcp_arm(t, c);
}

/* An ACK for no connection: the end of a handshake we answered with a
 * cookie? Then the connection exists from now on. */
static struct ns_tcp_conn *
ns_tcp_cookie_open(struct ns_tcp *t, uint32_t src, uint32_t dst, const struct seg *s)
{
	struct ns_tcp_conn *c;
	uint16_t mss;
	struct seg syn;

	if ((s->flags & (F_SYN | F_RST | F_ACK)) != F_ACK || !ns_tcp_listening(t, s->dport))
		return NULL;
	mss = ns_tcp_cookie_check(t, dst, src, s->dport, s->sport, s->seq - 1, s->ack - 1, t->now_ms);
	if (mss == 0) {
		t->stats.syn_cookies_bad++;
		return NULL;
	}
	c = ns_tcp_alloc(t, dst, src, s->dport, s->sport);
	if (c == NULL) {
		t->stats.table_full++;
		return NULL;
	}
	t->stats.syn_cookies_ok++;
	syn = *s;
	syn.seq = s->seq - 1;
	syn.wscale = -1;
	c->state = NS_TCP_SYN_RCVD;
	t->n_syn_rcvd++;
	c->iss = s->ack - 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = s->ack;
	ns_tcp_synced(c, &syn, mss);
	c->rto_ms = NS_TCP_RTO_INIT_MS;
	return c;
}

void
ns_tcp_syn_out(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	c->rto_at = 0;
	if (ns_tcp_emit_c(t, c, c->iss, F_SYN, NULL, 0, OPT_MSS | OPT_WS) || c->arp_waits >= NS_TCP_ARP_WAITS) {
		c->syn_unsent = false;
		ns_tcp_arm(t, c); /* RFC 6298 backoff from here */
		return;
	}
	/* The next hop is being resolved: a SYN held back for ARP is not
	 * a loss (no backoff, no retry counted), it goes once ARP answers. */
	c->syn_unsent = true;
	c->arp_waits++;
	c->rto_at = t->now_ms + NS_TCP_ARP_WAIT_MS;
	ns_tcp_timer_need(t, c);
}

/* An ephemeral port (49152-65535, RFC 6335 6) free for this peer, whose
 * replies reach this worker; 0 if none. */
static uint16_t
ns_tcp_ephemeral(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	for (unsigned tries = 0; tries < 16384; tries++) {
		uint16_t port = (uint16_t)(49152 + t->next_port++ % 16384);

		if (ns_tcp_find(t, laddr, raddr, port, rport) == NULL &&
		    (t->port_ok == NULL || t->port_ok(t->port_ok_arg, laddr, raddr, port, rport)))
			return port;
	}
	return 0;
}

struct ns_tcp_conn *
ns_tcp_connect(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t rport, void *app)
{
	uint16_t port = ns_tcp_ephemeral(t, laddr, raddr, rport);
	struct ns_tcp_conn *c = port != 0 ? ns_tcp_alloc(t, laddr, raddr, port, rport) : NULL;

	if (c == NULL)
		return NULL;
	c->state = NS_TCP_SYN_SENT;
	c->app = app;
	c->iss = ns_tcp_iss(t, c);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->mss = 536;
	c->rcv_wscale_offered = true;
	c->rto_ms = NS_TCP_RTO_INIT_MS;
	ns_tcp_syn_out(t, c);
	return c;
}

/* A segment for a connection in SYN_SENT (RFC 9293 3.10.7.3). */
static void
ns_tcp_syn_sent(struct ns_tcp *t, struct ns_tcp_conn *c, uint32_t src, uint32_t dst, const struct seg *s)
{
	if ((s->flags & F_ACK) && s->ack != c->snd_nxt) {
		if (!(s->flags & F_RST))
			ns_tcp_emit(t, dst, src, s->dport, s->sport, s->ack, 0, F_RST, 0, NULL, 0, 0);
		return;
	}
	if (s->flags & F_RST) {
		if (s->flags & F_ACK) { /* refused */
			t->stats.reset_in++;
			ns_tcp_release(t, c);
		}
		return;
	}
	if (!(s->flags & F_SYN) || !(s->flags & F_ACK))
		return; /* a simultaneous open is not supported */
	ns_tcp_synced(c, s, s->mss);
	c->snd_una = s->ack;
	c->snd_wnd = s->wnd; /* not scaled in a SYN */
	c->state = NS_TCP_ESTABLISHED;
	c->rto_at = 0;
	c->retries = 0;
	t->stats.established++;
	ns_tcp_emit_c(t, c, c->snd_nxt, F_ACK, NULL, 0, 0);
	if (t->ops->connected != NULL)
		t->ops->connected(t->arg, c);
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
	c->buf_head = (c->buf_head + data) % NS_TCP_SNDBUF; /* a ring: nothing moves */
	c->buf_len -= data;
	c->snd_una = s->ack;
	ns_tcp_cc_ack(t, c, s->ack, acked);
	if (c->rtt_at != 0 && seq_le(c->rtt_seq, s->ack)) {
		ns_tcp_rtt(c, (uint32_t)(t->now_ms - c->rtt_at));
		c->rtt_at = 0;
	}
	c->retries = 0;
	c->rto_at = c->snd_una == c->snd_nxt ? 0 : t->now_ms + c->rto_ms;
	ns_tcp_timer_need(t, c);
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
	if ((!t->nif->rx_csum_ok && ns_csum(p, len, ns_tcp_pseudo(src, dst, len)) != 0xffff) ||
	    !ns_tcp_parse(p, len, &s)) {
		t->stats.bad_csum++;
		return;
	}
	c = ns_tcp_find(t, dst, src, s.dport, s.sport);
	if (c == NULL) {
		if ((s.flags & (F_SYN | F_ACK | F_RST)) == F_SYN && ns_tcp_listening(t, s.dport)) {
			ns_tcp_passive_open(t, src, dst, &s);
			return;
		}
		c = ns_tcp_cookie_open(t, src, dst, &s);
		if (c == NULL) {
			ns_tcp_refuse(t, src, dst, &s);
			return;
		}
	}
	if (c->state == NS_TCP_SYN_SENT) {
		ns_tcp_syn_sent(t, c, src, dst, &s);
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
		t->n_syn_rcvd--;
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
			ns_tcp_timer_need(t, c);
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
