// ARP at packet level: answers for our addresses, learning, resolution
// with rate-limited requests, expiry, malformed packets.
#include <gtest/gtest.h>

#include "ns_test_peer.h"

using namespace ns_test;

namespace {

TEST(NsArp, RequestForUsGetsAReply)
{
	Iface i;
	const uint8_t zero[6] = {0};
	i.in(eth(kBcast, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, zero, kOurIp)));
	ASSERT_EQ(i.sent.size(), 1u);
	const Bytes &r = i.sent[0];
	ASSERT_EQ(r.size(), 60u); // padded to the Ethernet minimum
	EXPECT_EQ(memcmp(r.data(), kPeerMac, 6), 0);
	EXPECT_EQ(memcmp(r.data() + 6, kOurMac, 6), 0);
	EXPECT_EQ(get16(r, 12), 0x0806);
	EXPECT_EQ(get16(r, 14 + 6), 2); // reply
	EXPECT_EQ(memcmp(r.data() + 14 + 8, kOurMac, 6), 0);
	EXPECT_EQ(get32(r, 14 + 14), kOurIp);
	EXPECT_EQ(memcmp(r.data() + 14 + 18, kPeerMac, 6), 0);
	EXPECT_EQ(get32(r, 14 + 24), kPeerIp);
	EXPECT_EQ(i.nif.stats.arp_answered, 1u);
	// and the asker is known now: no request needed to reach it
	uint8_t mac[6];
	EXPECT_TRUE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(memcmp(mac, kPeerMac, 6), 0);
	EXPECT_EQ(i.sent.size(), 1u);
}

TEST(NsArp, NotForUsAndMalformed)
{
	Iface i;
	const uint8_t zero[6] = {0};
	i.in(eth(kBcast, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, zero, kOurIp + 1)));
	EXPECT_EQ(i.nif.stats.not_for_us, 1u);
	Bytes bad = arp(1, kPeerMac, kPeerIp, zero, kOurIp);
	i.in(eth(kBcast, kPeerMac, 0x0806, Bytes(bad.begin(), bad.begin() + 27))); // truncated
	bad[4] = 8;                                                               // hlen 8
	i.in(eth(kBcast, kPeerMac, 0x0806, bad));
	Bytes op3 = arp(3, kPeerMac, kPeerIp, zero, kOurIp);
	i.in(eth(kBcast, kPeerMac, 0x0806, op3));
	const uint8_t group[6] = {0x01, 0, 0x5e, 0, 0, 1};
	i.in(eth(kBcast, kPeerMac, 0x0806, arp(1, group, kPeerIp, zero, kOurIp)));
	EXPECT_EQ(i.nif.stats.malformed, 4u);
	EXPECT_TRUE(i.sent.empty());
	// an address probe (sender 0.0.0.0) is answered, not learned
	i.in(eth(kBcast, kPeerMac, 0x0806, arp(1, kPeerMac, 0, zero, kOurIp)));
	EXPECT_EQ(i.sent.size(), 1u);
	i.sent.clear();
	uint8_t mac[6];
	EXPECT_FALSE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac)); // nothing learned: asked
	EXPECT_EQ(i.sent.size(), 1u);
}

TEST(NsArp, ResolveAsksOncePerSecondAndLearnsTheReply)
{
	Iface i;
	uint8_t mac[6];
	EXPECT_FALSE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	ASSERT_EQ(i.sent.size(), 1u);
	const Bytes &q = i.sent[0];
	EXPECT_EQ(memcmp(q.data(), kBcast, 6), 0);
	EXPECT_EQ(get16(q, 14 + 6), 1);
	EXPECT_EQ(get32(q, 14 + 14), kOurIp); // from our address on that subnet
	EXPECT_EQ(get32(q, 14 + 24), kPeerIp);
	i.now += 500;
	EXPECT_FALSE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(i.sent.size(), 1u); // rate-limited
	i.now += 600;
	EXPECT_FALSE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(i.sent.size(), 2u);
	i.in(eth(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kPeerIp, kOurMac, kOurIp)));
	EXPECT_EQ(i.nif.stats.arp_learned, 1u);
	EXPECT_TRUE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(memcmp(mac, kPeerMac, 6), 0);
	// expired: asked again
	i.now += NS_ARP_TTL_MS + 1;
	EXPECT_FALSE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(i.sent.size(), 3u);
}

TEST(NsArp, FullCacheReplacesTheOldest)
{
	Iface i;
	for (uint32_t k = 0; k < 3 * NS_ARP_SLOTS; k++) {
		uint8_t mac[6] = {0x02, 0, 0, 0, (uint8_t)(k >> 8), (uint8_t)k};
		i.now += 10;
		ns_arp_learn(&i.nif, 0xc6120100 + k, mac, i.now);
	}
	uint8_t mac[6];
	EXPECT_TRUE(ns_arp_resolve(&i.nif, 0xc6120100 + 3 * NS_ARP_SLOTS - 1, i.now, mac)); // newest kept
	EXPECT_EQ(mac[5], (uint8_t)(3 * NS_ARP_SLOTS - 1));
	size_t before = i.sent.size();
	EXPECT_FALSE(ns_arp_resolve(&i.nif, 0xc6120100, i.now, mac)); // oldest gone: asked
	EXPECT_EQ(i.sent.size(), before + 1);
}

TEST(NsArp, UnansweredRequestsDoNotEvictNeighbours)
{
	// A SYN flood from spoofed sources has the stack ask for many
	// addresses nobody answers for: the neighbour that did answer stays.
	Iface i;
	ns_arp_learn(&i.nif, kPeerIp, kPeerMac, i.now);
	uint8_t mac[6];
	for (uint32_t k = 0; k < 10 * NS_ARP_SLOTS; k++) {
		i.now += 1;
		EXPECT_FALSE(ns_arp_resolve(&i.nif, 0xc6120a00 + k, i.now, mac));
	}
	size_t before = i.sent.size();
	EXPECT_EQ(before, 10u * NS_ARP_SLOTS); // each asked once
	EXPECT_TRUE(ns_arp_resolve(&i.nif, kPeerIp, i.now, mac));
	EXPECT_EQ(memcmp(mac, kPeerMac, 6), 0);
	EXPECT_EQ(i.sent.size(), before);
	// the pending requests replace each other, oldest first
	EXPECT_FALSE(ns_arp_resolve(&i.nif, 0xc6120a00 + 10 * NS_ARP_SLOTS - 1, i.now, mac));
	EXPECT_EQ(i.sent.size(), before); // still pending, asked less than a second ago
}

TEST(NsEth, OtherMacsAndEthertypesAreNotOurs)
{
	Iface i;
	const uint8_t other[6] = {0x02, 9, 9, 9, 9, 9};
	i.in(eth(other, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, other, kOurIp)));
	i.in(eth(kOurMac, kPeerMac, 0x86dd, Bytes(40, 0))); // IPv6
	i.in(eth(kOurMac, kPeerMac, 0x8100, Bytes(46, 0))); // VLAN tag
	EXPECT_EQ(i.nif.stats.not_for_us, 3u);
	i.in(Bytes(10, 0)); // shorter than a header
	EXPECT_EQ(i.nif.stats.malformed, 1u);
	EXPECT_TRUE(i.sent.empty());
}

} // namespace
