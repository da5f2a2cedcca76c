/* Ethernet input (ns_if.h): frames to our MAC or broadcast, IPv4 and ARP;
 * the rest is counted and dropped. */
#include <string.h>

#include "hsk_buf.h"
#include "ns_if.h"

static const uint8_t ns_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void
ns_eth_input(struct ns_if *nif, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct hsk_rd r = hsk_rd_make(frame, len);
	const uint8_t *dst, *src;
	uint16_t type;

	nif->stats.rx_frames++;
	if (hsk_rd_bytes(&r, 6, &dst) != HSK_OK || hsk_rd_bytes(&r, 6, &src) != HSK_OK ||
	    hsk_rd_u16(&r, &type) != HSK_OK) {
		nif->stats.malformed++;
		return;
	}
	if (memcmp(dst, nif->mac, 6) != 0 && memcmp(dst, ns_broadcast, 6) != 0) {
		nif->stats.not_for_us++;
		return;
	}
	switch (type) {
	case NS_ETH_ARP:
		ns_arp_input(nif, r.cur, hsk_rd_left(&r), now_ms);
		break;
	case NS_ETH_IPV4:
		ns_ip_input(nif, r.cur, hsk_rd_left(&r), now_ms);
		break;
	default: /* VLAN tags, IPv6, LLDP...: not ours */
		nif->stats.not_for_us++;
		break;
	}
}
