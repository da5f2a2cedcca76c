/* ICMP (RFC 792): echo requests to our addresses are answered with the
 * same identifier, sequence and data; everything else is ignored. */
#include <string.h>

#include "ns_if.h"

void
ns_icmp_input(struct ns_if *nif, uint32_t src, uint32_t dst, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	uint8_t reply[NS_ETH_MAX - NS_ETH_HDR - NS_IP_HDR];
	uint16_t sum;

	if (len < 8 || ns_csum(msg, len, 0) != 0xffff) {
		nif->stats.malformed++;
		return;
	}
	if (msg[0] != 8 || msg[1] != 0 || len > sizeof(reply)) { /* not an echo request */
		nif->stats.other_proto++;
		return;
	}
	memcpy(reply, msg, len);
	reply[0] = 0; /* echo reply */
	reply[2] = reply[3] = 0;
	sum = (uint16_t)~ns_csum(reply, len, 0);
	reply[2] = (uint8_t)(sum >> 8);
	reply[3] = (uint8_t)sum;
	if (ns_ip_output(nif, dst, src, NS_IP_ICMP, reply, len, now_ms) == 0)
		nif->stats.icmp_echo++;
}
