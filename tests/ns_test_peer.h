// Test harness for the userspace stack: an interface whose transmitted
// frames are captured, and builders for the frames a Linux peer sends.
#ifndef NS_TEST_PEER_H
#define NS_TEST_PEER_H

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "ns_if.h"
}

namespace ns_test {

using Bytes = std::vector<uint8_t>;

const uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t kPeerMac[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint32_t kOurIp = 0xc6120002;  // 198.18.0.2
const uint32_t kPeerIp = 0xc6120001; // 198.18.0.1

inline void
put16(Bytes &b, uint16_t v)
{
	b.push_back((uint8_t)(v >> 8));
	b.push_back((uint8_t)v);
}

inline void
put32(Bytes &b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

inline uint16_t
get16(const Bytes &b, size_t at)
{
	return (uint16_t)(b[at] << 8 | b[at + 1]);
}

inline uint32_t
get32(const Bytes &b, size_t at)
{
	return (uint32_t)get16(b, at) << 16 | get16(b, at + 2);
}

inline Bytes
eth(const uint8_t dst[6], const uint8_t src[6], uint16_t type, const Bytes &payload)
{
	Bytes f(dst, dst + 6);
	f.insert(f.end(), src, src + 6);
	put16(f, type);
	f.insert(f.end(), payload.begin(), payload.end());
	return f;
}

inline Bytes
arp(uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	Bytes p;
	put16(p, 1);
	put16(p, 0x0800);
	p.push_back(6);
	p.push_back(4);
	put16(p, op);
	p.insert(p.end(), sha, sha + 6);
	put32(p, spa);
	p.insert(p.end(), tha, tha + 6);
	put32(p, tpa);
	return p;
}

inline void
fix_csum(Bytes &b, size_t start, size_t len, size_t at)
{
	b[at] = b[at + 1] = 0;
	uint16_t s = (uint16_t)~ns_csum(b.data() + start, len, 0);
	b[at] = (uint8_t)(s >> 8);
	b[at + 1] = (uint8_t)s;
}

// An IPv4 datagram (checksum set; frag: flags + offset field).
inline Bytes
ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes &payload, uint16_t frag = 0x4000)
{
	Bytes p;
	p.push_back(0x45);
	p.push_back(0);
	put16(p, (uint16_t)(20 + payload.size()));
	put16(p, 0x1234);
	put16(p, frag);
	p.push_back(64);
	p.push_back(proto);
	put16(p, 0);
	put32(p, src);
	put32(p, dst);
	fix_csum(p, 0, 20, 10);
	p.insert(p.end(), payload.begin(), payload.end());
	return p;
}

inline Bytes
icmp_echo(uint16_t id, uint16_t seq, const std::string &data, uint8_t type = 8)
{
	Bytes m;
	m.push_back(type);
	m.push_back(0);
	put16(m, 0);
	put16(m, id);
	put16(m, seq);
	m.insert(m.end(), data.begin(), data.end());
	fix_csum(m, 0, m.size(), 2);
	return m;
}

// An interface with 198.18.0.2/24 whose frames are captured in sent.
struct Iface {
	ns_if nif;
	std::vector<Bytes> sent;
	uint64_t now = 1000;

	Iface()
	{
		ns_if_init(&nif, kOurMac, [](void *arg, const uint8_t *f, size_t n) {
			static_cast<Iface *>(arg)->sent.emplace_back(f, f + n);
		}, this);
		ns_if_add_addr(&nif, kOurIp, 24);
	}
	void in(const Bytes &frame) { ns_eth_input(&nif, frame.data(), frame.size(), now); }
	// The peer announces itself (so that replies can be addressed).
	void learn_peer()
	{
		in(eth(kBcast, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, kBcast, kOurIp)));
		sent.clear();
	}
};

} // namespace ns_test

#endif
