/* The interface: addresses and frame output (ns_if.h). */
#include <string.h>

#include "ns_if.h"

void
ns_if_init(struct ns_if *nif, const uint8_t mac[6], ns_tx_fn tx, void *tx_arg)
{
	memset(nif, 0, sizeof(*nif));
	memcpy(nif->mac, mac, 6);
	nif->tx = tx;
	nif->tx_arg = tx_arg;
}

int
ns_if_add_addr(struct ns_if *nif, uint32_t addr, unsigned prefix_len)
{
	if (nif->n_addrs == NS_MAX_ADDRS || prefix_len > 32)
		return -1;
	nif->addrs[nif->n_addrs] = addr;
	nif->prefix[nif->n_addrs++] = (uint8_t)prefix_len;
	return 0;
}

bool
ns_if_is_ours(const struct ns_if *nif, uint32_t addr)
{
	for (size_t i = 0; i < nif->n_addrs; i++)
		if (nif->addrs[i] == addr)
			return true;
	return false;
}

void
ns_if_send(struct ns_if *nif, const uint8_t dst[6], uint16_t type, const uint8_t *payload, size_t len)
{
	uint8_t f[NS_ETH_MAX];
	size_t n = NS_ETH_HDR + len;

	if (len > NS_ETH_MAX - NS_ETH_HDR)
		return;
	memcpy(f, dst, 6);
	memcpy(f + 6, nif->mac, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	memcpy(f + NS_ETH_HDR, payload, len);
	if (n < 60) { /* the Ethernet minimum, zero padded */
		memset(f + n, 0, 60 - n);
		n = 60;
	}
	nif->stats.tx_frames++;
	nif->tx(nif->tx_arg, f, n);
}
