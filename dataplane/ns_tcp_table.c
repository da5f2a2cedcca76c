/* The per-worker TCP table (ns_tcp.h): connections found by a hash of
 * their 4-tuple, free slots on a stack, the TIME_WAIT that ends first
 * reclaimed when none is free, and a hashed timer wheel: each connection
 * with a deadline (retransmission, probe, TIME_WAIT) sits in the slot of
 * that time; a call to ns_tcp_timers looks only at the slots of the ticks
 * that passed. Deadlines that move later (every ACK re-arms the
 * retransmission timer) leave the connection where it is until that slot
 * comes: it is then put where its deadline now falls. */
#include <string.h>

#include "ns_tcp_priv.h"

#define NIL 0xffff

static uint32_t
ns_tcp_hash(uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	uint32_t h = raddr * 2654435761u;

	h = (h ^ laddr) * 2246822519u;
	h = (h ^ ((uint32_t)rport << 16 | lport)) * 3266489917u;
	return h ^ h >> 15;
}

void
ns_tcp_table_init(struct ns_tcp *t)
{
	for (size_t i = 0; i <= t->hash_mask; i++)
		t->hash[i] = NIL;
	for (size_t i = 0; i < NS_TCP_WHEEL; i++)
		t->wheel[i] = NIL;
	for (size_t i = 0; i < t->n_conns; i++) {
		t->conns[i].hnext = t->conns[i].wnext = t->conns[i].wprev = NIL;
		t->free[i] = (uint16_t)(t->n_conns - 1 - i);
	}
	t->n_free = t->n_conns;
	t->wheel_tick = 0;
}

struct ns_tcp_conn *
ns_tcp_find(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	for (uint16_t i = t->hash[ns_tcp_hash(laddr, raddr, lport, rport) & t->hash_mask]; i != NIL;
	     i = t->conns[i].hnext) {
		struct ns_tcp_conn *c = &t->conns[i];

		if (c->laddr == laddr && c->raddr == raddr && c->lport == lport && c->rport == rport)
			return c;
	}
	return NULL;
}

/* ---- the wheel ---- */

static void
ns_tcp_wheel_unlink(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	if (c->wheel_at == 0)
		return;
	if (c->wprev != NIL)
		t->conns[c->wprev].wnext = c->wnext;
	else
		t->wheel[(c->wheel_at / NS_TCP_TICK_MS) % NS_TCP_WHEEL] = c->wnext;
	if (c->wnext != NIL)
		t->conns[c->wnext].wprev = c->wprev;
	c->wnext = c->wprev = NIL;
	c->wheel_at = 0;
}

static void
ns_tcp_wheel_link(struct ns_tcp *t, struct ns_tcp_conn *c, uint64_t at)
{
	uint16_t i = (uint16_t)(c - t->conns);
	size_t slot;

	/* a deadline already passed goes to the tick being looked at, which
	 * every call looks at again */
	if (at / NS_TCP_TICK_MS < t->wheel_tick)
		at = t->wheel_tick * NS_TCP_TICK_MS;
	slot = (at / NS_TCP_TICK_MS) % NS_TCP_WHEEL;
	c->wheel_at = at;
	c->wprev = NIL;
	c->wnext = t->wheel[slot];
	if (c->wnext != NIL)
		t->conns[c->wnext].wprev = i;
	t->wheel[slot] = i;
}

static uint64_t
ns_tcp_deadline(const struct ns_tcp_conn *c)
{
	if (c->rto_at != 0)
		return c->rto_at;
	return c->state == NS_TCP_TIME_WAIT ? c->time_wait_until : 0;
}

void
ns_tcp_timer_need(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	uint64_t d = ns_tcp_deadline(c);

	if (d == 0 || (c->wheel_at != 0 && c->wheel_at <= d))
		return; /* nothing due, or looked at by then anyway */
	ns_tcp_wheel_unlink(t, c);
	ns_tcp_wheel_link(t, c, d);
}

void
ns_tcp_timers(struct ns_tcp *t, uint64_t now_ms)
{
	uint64_t now_tick = now_ms / NS_TCP_TICK_MS, from;

	t->now_ms = now_ms;
	if (now_tick < t->wheel_tick)
		t->wheel_tick = now_tick;
	/* the last tick again (deadlines later in it), then the new ones;
	 * after a long pause, one revolution visits every slot once */
	from = now_tick - t->wheel_tick >= NS_TCP_WHEEL ? now_tick - NS_TCP_WHEEL + 1 : t->wheel_tick;
	for (uint64_t tick = from; tick <= now_tick; tick++) {
		size_t slot = tick % NS_TCP_WHEEL;
		uint16_t i = t->wheel[slot];

		t->wheel_tick = tick;
		t->wheel[slot] = NIL; /* detached: entries put back are seen by a later call */
		while (i != NIL) {
			struct ns_tcp_conn *c = &t->conns[i];
			uint64_t d;

			i = c->wnext;
			if (i != NIL)
				t->conns[i].wprev = NIL;
			c->wnext = c->wprev = NIL;
			c->wheel_at = 0;
			d = ns_tcp_deadline(c);
			if (d != 0 && d <= now_ms)
				ns_tcp_timer_fire(t, c, now_ms); /* may re-arm, or free c */
			if (c->state != NS_TCP_FREE)
				ns_tcp_timer_need(t, c);
		}
	}
	t->wheel_tick = now_tick;
}

/* ---- slots ---- */

struct ns_tcp_conn *
ns_tcp_alloc(struct ns_tcp *t, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	struct ns_tcp_conn *c = NULL;
	size_t h;

	if (t->n_free == 0) {
		struct ns_tcp_conn *tw = NULL;

		for (size_t i = 0; i < t->n_conns; i++) {
			struct ns_tcp_conn *x = &t->conns[i];
			if (x->state == NS_TCP_TIME_WAIT && (tw == NULL || x->time_wait_until < tw->time_wait_until))
				tw = x;
		}
		if (tw == NULL)
			return NULL;
		t->stats.time_wait_reclaimed++;
		ns_tcp_release(t, tw);
	}
	c = &t->conns[t->free[--t->n_free]];
	c->laddr = laddr;
	c->raddr = raddr;
	c->lport = lport;
	c->rport = rport;
	h = ns_tcp_hash(laddr, raddr, lport, rport) & t->hash_mask;
	c->hnext = t->hash[h];
	t->hash[h] = (uint16_t)(c - t->conns);
	return c;
}

void
ns_tcp_release(struct ns_tcp *t, struct ns_tcp_conn *c)
{
	uint8_t *buf = c->buf, *ooo = c->ooo_buf;
	uint16_t i = (uint16_t)(c - t->conns), *p;

	if (c->state == NS_TCP_FREE)
		return;
	if (!c->told_gone && (c->state >= NS_TCP_ESTABLISHED || c->state == NS_TCP_SYN_SENT) && t->ops->gone != NULL)
		t->ops->gone(t->arg, c);
	if (c->state == NS_TCP_SYN_RCVD)
		t->n_syn_rcvd--;
	ns_tcp_wheel_unlink(t, c);
	for (p = &t->hash[ns_tcp_hash(c->laddr, c->raddr, c->lport, c->rport) & t->hash_mask]; *p != NIL;
	     p = &t->conns[*p].hnext)
		if (*p == i) {
			*p = c->hnext;
			break;
		}
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->ooo_buf = ooo;
	c->tcp = t;
	c->hnext = c->wnext = c->wprev = NIL;
	t->free[t->n_free++] = i;
}
