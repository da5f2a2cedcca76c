/* IPv4 (RFC 791, RFC 1122 3.2.1): datagrams to our addresses, header
 * checked; fragments are dropped and counted (a TLS server's peers send
 * segments that fit the MSS we announce). Output builds one header, DF set,
 * and finds the next hop's MAC through ARP. */
#include <string.h>

#include "hsk_buf.h"
#include "ns_if.h"

void
ns_ip_input(struct ns_if *nif, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct hsk_rd r = hsk_rd_make(pkt, len);
	uint8_t vihl, tos, ttl, proto;
	uint16_t total, id, frag, csum;
	uint32_t src, dst;
	size_t hlen;

	if (hsk_rd_u8(&r, &vihl) != HSK_OK || hsk_rd_u8(&r, &tos) != HSK_OK || hsk_rd_u16(&r, &total) != HSK_OK ||
	    hsk_rd_u16(&r, &id) != HSK_OK || hsk_rd_u16(&r, &frag) != HSK_OK || hsk_rd_u8(&r, &ttl) != HSK_OK ||
	    hsk_rd_u8(&r, &proto) != HSK_OK || hsk_rd_u16(&r, &csum) != HSK_OK || hsk_rd_u32(&r, &src) != HSK_OK ||
	    hsk_rd_u32(&r, &dst) != HSK_OK) {
		nif->stats.malformed++;
		return;
	}
	(void)tos, (void)id, (void)ttl, (void)csum;
	hlen = (size_t)(vihl & 0x0f) * 4;
	/* version 4, header within the datagram, the datagram within the
	 * frame (Ethernet may pad short ones), a header checksum that sums to
	 * all ones, and no group or unspecified source */
	if ((vihl >> 4) != 4 || hlen < NS_IP_HDR || total < hlen || total > len ||
	    (!nif->rx_csum_ok && ns_csum(pkt, hlen, 0) != 0xffff) || src == 0 || src == 0xffffffffu || (src >> 28) == 0xe) {
		nif->stats.malformed++;
		return;
	}
	if (!ns_if_is_ours(nif, dst)) {
		nif->stats.not_for_us++;
		return;
	}
	if ((frag & 0x2000) != 0 || (frag & 0x1fff) != 0) { /* MF, or an offset */
		nif->stats.ip_fragments++;
		return;
	}
	switch (proto) {
	case NS_IP_ICMP:
		ns_icmp_input(nif, src, dst, pkt + hlen, total - hlen, now_ms);
		break;
	case NS_IP_TCP:
		if (nif->tcp_in == NULL) { /* no TCP layer attached */
			nif->stats.other_proto++;
			break;
		}
		nif->stats.tcp_in++;
		nif->tcp_in(nif->tcp_arg, src, dst, pkt + hlen, total - hlen, now_ms);
		break;
	default:
		nif->stats.other_proto++;
		break;
	}
}

/* The next hop towards dst: dst itself when it is on one of our subnets,
 * else the gateway; 0 when there is none. */
static uint32_t
ns_ip_next_hop(const struct ns_if *nif, uint32_t dst)
{
	for (size_t i = 0; i < nif->n_addrs; i++) {
		uint32_t mask = nif->prefix[i] ? ~0u << (32 - nif->prefix[i]) : 0;
		if ((nif->addrs[i] & mask) == (dst & mask))
			return dst;
	}
	return nif->gateway;
}

int
ns_ip_output(struct ns_if *nif, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *payload, size_t len,
	     uint64_t now_ms)
{
	uint8_t p[NS_ETH_MAX - NS_ETH_HDR], mac[6];
	uint32_t hop = ns_ip_next_hop(nif, dst);
	struct hsk_wr w;
	uint16_t sum;

	if (len > sizeof(p) - NS_IP_HDR || hop == 0 || !ns_arp_resolve(nif, hop, now_ms, mac)) {
		nif->stats.tx_unresolved++;
		return -1;
	}
	hsk_wr_init(&w, p, sizeof(p));
	hsk_wr_u8(&w, 0x45);
	hsk_wr_u8(&w, 0);
	hsk_wr_u16(&w, (uint16_t)(NS_IP_HDR + len));
	hsk_wr_u16(&w, nif->ip_id++);
	hsk_wr_u16(&w, 0x4000); /* DF */
	hsk_wr_u8(&w, 64);
	hsk_wr_u8(&w, proto);
	hsk_wr_u16(&w, 0);
	hsk_wr_u32(&w, src);
	hsk_wr_u32(&w, dst);
	sum = nif->tx_csum_offload ? 0 : (uint16_t)~ns_csum(p, NS_IP_HDR, 0); /* else the port fills it */
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	hsk_wr_bytes(&w, payload, len);
	ns_if_send(nif, mac, NS_ETH_IPV4, p, w.len);
	return 0;
}
