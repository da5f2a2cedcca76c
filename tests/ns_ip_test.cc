// IPv4 and ICMP at packet level: echo replies, header checks, fragments
// dropped, our addresses only, TCP handed up, output routing.
#include <gtest/gtest.h>

#include "ns_test_peer.h"

using namespace ns_test;

namespace {

Bytes
ping_frame(const std::string &data, uint16_t seq = 1)
{
	return eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 1, icmp_echo(0x77, seq, data)));
}

TEST(NsIcmp, EchoRequestGetsTheSameDataBack)
{
	Iface i;
	i.learn_peer();
	std::string data(56, 'x');
	i.in(ping_frame(data, 9));
	ASSERT_EQ(i.sent.size(), 1u);
	const Bytes &r = i.sent[0];
	EXPECT_EQ(memcmp(r.data(), kPeerMac, 6), 0);
	EXPECT_EQ(get16(r, 12), 0x0800);
	Bytes ip(r.begin() + 14, r.end());
	EXPECT_EQ(ip[0], 0x45);
	EXPECT_EQ(get16(ip, 2), 20 + 8 + 56);
	EXPECT_EQ(ns_csum(ip.data(), 20, 0), 0xffff);
	EXPECT_EQ(ip[8], 64);
	EXPECT_EQ(ip[9], 1);
	EXPECT_EQ(get32(ip, 12), kOurIp);
	EXPECT_EQ(get32(ip, 16), kPeerIp);
	EXPECT_EQ(ip[20], 0); // echo reply
	EXPECT_EQ(get16(ip, 24), 0x77);
	EXPECT_EQ(get16(ip, 26), 9);
	EXPECT_EQ(ns_csum(ip.data() + 20, 8 + 56, 0), 0xffff);
	EXPECT_EQ(std::string(ip.begin() + 28, ip.begin() + 28 + 56), data);
	EXPECT_EQ(i.nif.stats.icmp_echo, 1u);
}

TEST(NsIcmp, LargestEchoAndEthernetPadding)
{
	Iface i;
	i.learn_peer();
	i.in(ping_frame(std::string(1472, 'y'))); // a 1500-byte datagram
	ASSERT_EQ(i.sent.size(), 1u);
	EXPECT_EQ(i.sent[0].size(), 1514u);
	// a tiny echo arrives padded to 60 bytes: the reply has the real length
	Bytes f = ping_frame("");
	f.resize(60, 0);
	i.in(f);
	ASSERT_EQ(i.sent.size(), 2u);
	EXPECT_EQ(get16(i.sent[1], 14 + 2), 28);
}

TEST(NsIp, BadHeadersAreDropped)
{
	Iface i;
	i.learn_peer();
	Bytes good = ipv4(kPeerIp, kOurIp, 1, icmp_echo(1, 1, "abc"));
	auto send = [&](Bytes ip) { i.in(eth(kOurMac, kPeerMac, 0x0800, ip)); };
	Bytes b = good;
	b[11] ^= 1; // header checksum
	send(b);
	b = good;
	b[0] = 0x65; // version 6
	fix_csum(b, 0, 20, 10);
	send(b);
	b = good;
	b[0] = 0x44; // IHL 4
	send(b);
	b = good;
	b[2] = 0x05; // total length beyond the frame
	fix_csum(b, 0, 20, 10);
	send(b);
	send(Bytes(good.begin(), good.begin() + 19)); // shorter than a header
	b = good;
	b[12] = 224; // multicast source
	fix_csum(b, 0, 20, 10);
	send(b);
	b = good;
	b[20 + 2] ^= 1; // ICMP checksum
	send(b);
	EXPECT_EQ(i.nif.stats.malformed, 7u);
	EXPECT_TRUE(i.sent.empty());
}

TEST(NsIp, FragmentsAndOtherAddressesAreDropped)
{
	Iface i;
	i.learn_peer();
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 1, icmp_echo(1, 1, "a"), 0x2000))); // MF
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 1, icmp_echo(1, 1, "a"), 0x0010))); // offset
	EXPECT_EQ(i.nif.stats.ip_fragments, 2u);
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp + 5, 1, icmp_echo(1, 1, "a"))));
	EXPECT_EQ(i.nif.stats.not_for_us, 1u);
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 17, Bytes(8, 0)))); // UDP
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 1, icmp_echo(1, 1, "a", 13)))); // timestamp
	EXPECT_EQ(i.nif.stats.other_proto, 2u);
	EXPECT_TRUE(i.sent.empty());
}

TEST(NsIp, TcpIsHandedUp)
{
	Iface i;
	struct Got {
		uint32_t src = 0, dst = 0;
		size_t len = 0;
	} got;
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 6, Bytes(20, 0))));
	EXPECT_EQ(i.nif.stats.other_proto, 1u); // no TCP layer yet
	i.nif.tcp_in = [](void *arg, uint32_t s, uint32_t d, const uint8_t *, size_t n, uint64_t) {
		auto *g = static_cast<Got *>(arg);
		g->src = s;
		g->dst = d;
		g->len = n;
	};
	i.nif.tcp_arg = &got;
	i.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 6, Bytes(32, 0))));
	EXPECT_EQ(got.src, kPeerIp);
	EXPECT_EQ(got.dst, kOurIp);
	EXPECT_EQ(got.len, 32u);
	EXPECT_EQ(i.nif.stats.tcp_in, 1u);
}

TEST(NsIp, OutputRoutesOnLinkOrThroughTheGateway)
{
	Iface i;
	Bytes data(10, 'd');
	// off-link without a gateway: no route
	EXPECT_EQ(ns_ip_output(&i.nif, kOurIp, 0x08080808, 6, data.data(), data.size(), i.now), -1);
	EXPECT_TRUE(i.sent.empty());
	// with a gateway: its MAC is asked for
	i.nif.gateway = 0xc61200fe;
	EXPECT_EQ(ns_ip_output(&i.nif, kOurIp, 0x08080808, 6, data.data(), data.size(), i.now), -1);
	ASSERT_EQ(i.sent.size(), 1u);
	EXPECT_EQ(get32(i.sent[0], 14 + 24), 0xc61200feu);
	EXPECT_EQ(i.nif.stats.tx_unresolved, 2u);
	// on-link and known: sent, DF set, identification increasing
	i.learn_peer();
	ASSERT_EQ(ns_ip_output(&i.nif, kOurIp, kPeerIp, 6, data.data(), data.size(), i.now), 0);
	ASSERT_EQ(ns_ip_output(&i.nif, kOurIp, kPeerIp, 6, data.data(), data.size(), i.now), 0);
	ASSERT_EQ(i.sent.size(), 2u);
	EXPECT_EQ(get16(i.sent[0], 14 + 6), 0x4000);
	EXPECT_EQ(get16(i.sent[1], 14 + 4), get16(i.sent[0], 14 + 4) + 1);
	// too big for one frame
	Bytes big(1481, 0);
	EXPECT_EQ(ns_ip_output(&i.nif, kOurIp, kPeerIp, 6, big.data(), big.size(), i.now), -1);
}

TEST(NsCsum, Rfc1071Example)
{
	// RFC 1071 4.1: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2
	const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	EXPECT_EQ(ns_csum(d, sizeof(d), 0), 0xddf2);
	EXPECT_EQ(ns_csum(d, 3, 0), 0xf201); // odd length: a zero byte appended
}

} // namespace
