/* The userspace network stack, lower half: one interface with our MAC and
 * IPv4 addresses, Ethernet, ARP (answers for our addresses, resolves next
 * hops, a cache with expiry), IPv4 (header checks, our addresses only,
 * fragments dropped and counted) and ICMP echo. It knows nothing of DPDK:
 * frames come in as bytes (ns_eth_input) and leave through a callback, so
 * the same code runs on a DPDK port, a TAP device and in unit tests. One
 * ns_if per worker; not thread-safe, no locks. Addresses are in host byte
 * order; times are milliseconds of the caller's clock. */
#ifndef NS_IF_H
#define NS_IF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NS_MAX_ADDRS 8
#define NS_ARP_SLOTS 64
#define NS_ARP_TTL_MS 60000      /* a learned entry is trusted this long */
#define NS_ARP_RETRY_MS 1000     /* at most one request per next hop per second */
#define NS_ETH_HDR 14
#define NS_ETH_MAX 1514          /* frame without FCS, 1500-byte MTU */
#define NS_IP_HDR 20

enum {
	NS_ETH_IPV4 = 0x0800,
	NS_ETH_ARP = 0x0806,
	NS_IP_ICMP = 1,
	NS_IP_TCP = 6,
};

struct ns_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t not_for_us;       /* another MAC, another IP, unknown ethertype */
	uint64_t malformed;        /* truncated or inconsistent headers, bad checksums */
	uint64_t ip_fragments;     /* dropped: we do not reassemble */
	uint64_t arp_answered, arp_learned, arp_requests;
	uint64_t icmp_echo;        /* echo requests answered */
	uint64_t tcp_in;           /* segments handed to the TCP layer */
	uint64_t other_proto;
	uint64_t tx_unresolved;    /* datagrams not sent: next hop unknown yet, or no route */
};

struct ns_arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool valid;                /* mac known */
	uint64_t expires_ms;
	uint64_t asked_ms;         /* last request sent */
};

typedef void (*ns_tx_fn)(void *arg, const uint8_t *frame, size_t len);
/* An IPv4 payload of protocol TCP for one of our addresses. */
typedef void (*ns_l4_fn)(void *arg, uint32_t src, uint32_t dst, const uint8_t *seg, size_t len, uint64_t now_ms);

struct ns_if {
	uint8_t mac[6];
	uint32_t addrs[NS_MAX_ADDRS];
	uint8_t prefix[NS_MAX_ADDRS];
	size_t n_addrs;
	uint32_t gateway;          /* 0: on-link destinations only */
	struct ns_arp_entry arp[NS_ARP_SLOTS];
	uint16_t ip_id;
	ns_tx_fn tx;
	void *tx_arg;
	ns_l4_fn tcp_in;
	void *tcp_arg;
	/* Checksum offloads. tx: the port computes the IPv4 header checksum
	 * and the TCP checksum (we leave 0 and the pseudo-header's sum, as
	 * DPDK wants). rx: set by the caller for the frame it passes when
	 * the port verified both checksums as good. */
	bool tx_csum_offload;
	bool rx_csum_ok;
	struct ns_stats stats;
};

void ns_if_init(struct ns_if *nif, const uint8_t mac[6], ns_tx_fn tx, void *tx_arg);
/* 0, or -1 when the table is full or prefix_len > 32. */
int ns_if_add_addr(struct ns_if *nif, uint32_t addr, unsigned prefix_len);
bool ns_if_is_ours(const struct ns_if *nif, uint32_t addr);
/* Frames out: dst MAC, ethertype, payload (padded to the 60-byte minimum). */
void ns_if_send(struct ns_if *nif, const uint8_t dst[6], uint16_t type, const uint8_t *payload, size_t len);

/* One received frame (without FCS). */
void ns_eth_input(struct ns_if *nif, const uint8_t *frame, size_t len, uint64_t now_ms);

/* ARP (ns_arp.c). */
void ns_arp_input(struct ns_if *nif, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* The MAC of next hop ip into mac: true when known; else a request is sent
 * (at most once per NS_ARP_RETRY_MS) and false returned. */
bool ns_arp_resolve(struct ns_if *nif, uint32_t ip, uint64_t now_ms, uint8_t mac[6]);
void ns_arp_learn(struct ns_if *nif, uint32_t ip, const uint8_t mac[6], uint64_t now_ms);

/* IPv4 (ns_ip.c). */
void ns_ip_input(struct ns_if *nif, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Send payload as one datagram from src (one of ours) to dst. 0, or -1
 * when the next hop's MAC is not known yet (ARP asked) or no route. */
int ns_ip_output(struct ns_if *nif, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *payload,
		 size_t len, uint64_t now_ms);

/* ICMP (ns_icmp.c): an ICMP message to one of our addresses. */
void ns_icmp_input(struct ns_if *nif, uint32_t src, uint32_t dst, const uint8_t *msg, size_t len,
		   uint64_t now_ms);

/* RFC 1071: the one's complement sum of data folded to 16 bits, starting
 * from sum (for pseudo-headers); the checksum field is ~result. */
uint16_t ns_csum(const void *data, size_t len, uint32_t sum);

#ifdef __cplusplus
}
#endif
#endif
