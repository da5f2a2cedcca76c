/* ARP for IPv4 over Ethernet (RFC 826): we answer for our addresses, learn
 * the senders that talk to us, and resolve next hops with a rate-limited
 * request. The cache is a small table scanned linearly (64 slots, one per
 * worker): the peers of a server are few next hops. */
#include <string.h>

#include "hsk_buf.h"
#include "ns_if.h"

#define ARP_LEN 28

static struct ns_arp_entry *
ns_arp_find(struct ns_if *nif, uint32_t ip)
{
	for (size_t i = 0; i < NS_ARP_SLOTS; i++)
		if (nif->arp[i].ip == ip && (nif->arp[i].valid || nif->arp[i].asked_ms != 0))
			return &nif->arp[i];
	return NULL;
}

/* A slot for ip: its own, an unused one, else the oldest pending request,
 * and only when every slot holds a resolved neighbour, the one that
 * expires first. Addresses that never answer (a SYN flood from spoofed
 * sources has us ask for each) must not evict the neighbours that do. */
static struct ns_arp_entry *
ns_arp_slot(struct ns_if *nif, uint32_t ip)
{
	struct ns_arp_entry *e = ns_arp_find(nif, ip), *victim = NULL;

	if (e != NULL)
		return e;
	for (size_t i = 0; i < NS_ARP_SLOTS; i++) {
		struct ns_arp_entry *s = &nif->arp[i];

		if (!s->valid && s->asked_ms == 0) {
			victim = s;
			break;
		}
		if (victim == NULL || (!s->valid && (victim->valid || s->asked_ms < victim->asked_ms)) ||
		    (s->valid && victim->valid && s->expires_ms < victim->expires_ms))
			victim = s;
	}
	memset(victim, 0, sizeof(*victim));
	victim->ip = ip;
	return victim;
}

void
ns_arp_learn(struct ns_if *nif, uint32_t ip, const uint8_t mac[6], uint64_t now_ms)
{
	struct ns_arp_entry *e = ns_arp_slot(nif, ip);

	memcpy(e->mac, mac, 6);
	e->valid = true;
	e->expires_ms = now_ms + NS_ARP_TTL_MS;
}

/* Our address to speak from towards ip: one on the same subnet, else the first. */
static uint32_t
ns_arp_source(const struct ns_if *nif, uint32_t ip)
{
	for (size_t i = 0; i < nif->n_addrs; i++) {
		uint32_t mask = nif->prefix[i] ? ~0u << (32 - nif->prefix[i]) : 0;
		if ((nif->addrs[i] & mask) == (ip & mask))
			return nif->addrs[i];
	}
	return nif->n_addrs ? nif->addrs[0] : 0;
}

static void
ns_arp_send(struct ns_if *nif, uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6], uint32_t spa,
	    uint32_t tpa)
{
	uint8_t p[ARP_LEN];
	struct hsk_wr w;

	hsk_wr_init(&w, p, sizeof(p));
	hsk_wr_u16(&w, 1);           /* Ethernet */
	hsk_wr_u16(&w, NS_ETH_IPV4);
	hsk_wr_u8(&w, 6);
	hsk_wr_u8(&w, 4);
	hsk_wr_u16(&w, op);
	hsk_wr_bytes(&w, nif->mac, 6);
	hsk_wr_u32(&w, spa);
	hsk_wr_bytes(&w, tha, 6);
	hsk_wr_u32(&w, tpa);
	ns_if_send(nif, eth_dst, NS_ETH_ARP, p, w.len);
}

void
ns_arp_input(struct ns_if *nif, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct hsk_rd r = hsk_rd_make(pkt, len);
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	const uint8_t *sha, *tha;
	uint32_t spa, tpa;
	struct ns_arp_entry *known;

	if (hsk_rd_u16(&r, &htype) != HSK_OK || hsk_rd_u16(&r, &ptype) != HSK_OK || hsk_rd_u8(&r, &hlen) != HSK_OK ||
	    hsk_rd_u8(&r, &plen) != HSK_OK || hsk_rd_u16(&r, &op) != HSK_OK || hsk_rd_bytes(&r, 6, &sha) != HSK_OK ||
	    hsk_rd_u32(&r, &spa) != HSK_OK || hsk_rd_bytes(&r, 6, &tha) != HSK_OK || hsk_rd_u32(&r, &tpa) != HSK_OK ||
	    htype != 1 || ptype != NS_ETH_IPV4 || hlen != 6 || plen != 4 || (op != 1 && op != 2) ||
	    (sha[0] & 1) != 0 /* a group address as sender */) {
		nif->stats.malformed++;
		return;
	}
	(void)tha;
	/* RFC 826 "merge": refresh a sender we already know */
	known = ns_arp_find(nif, spa);
	if (known != NULL && spa != 0)
		ns_arp_learn(nif, spa, sha, now_ms);
	if (!ns_if_is_ours(nif, tpa)) {
		nif->stats.not_for_us++;
		return;
	}
	if (spa != 0) { /* not an address probe (RFC 5227) */
		if (known == NULL)
			ns_arp_learn(nif, spa, sha, now_ms);
		if (op == 2)
			nif->stats.arp_learned++;
	}
	if (op == 1) {
		ns_arp_send(nif, 2, sha, sha, tpa, spa);
		nif->stats.arp_answered++;
	}
}

bool
ns_arp_resolve(struct ns_if *nif, uint32_t ip, uint64_t now_ms, uint8_t mac[6])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, zero[6] = { 0 };
	struct ns_arp_entry *e = ns_arp_find(nif, ip);

	if (e != NULL && e->valid && now_ms < e->expires_ms) {
		memcpy(mac, e->mac, 6);
		return true;
	}
	if (e == NULL)
		e = ns_arp_slot(nif, ip);
	if (e->asked_ms == 0 || now_ms >= e->asked_ms + NS_ARP_RETRY_MS) {
		e->valid = false;
		e->asked_ms = now_ms ? now_ms : 1;
		e->expires_ms = now_ms + NS_ARP_TTL_MS; /* the slot's age, for replacement */
		ns_arp_send(nif, 1, bcast, zero, ns_arp_source(nif, ip), ip);
		nif->stats.arp_requests++;
	}
	return false;
}
