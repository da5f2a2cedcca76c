// TCP at packet level: passive open with MSS, in-order delivery and ACKs,
// the out-of-order queue, flow control (bytes not taken are not
// acknowledged), retransmission on the timer with backoff, FIN in both
// orders, RST for a closed port and for a wrong ACK, checksums.
#include <gtest/gtest.h>

#include "ns_test_peer.h"

extern "C" {
#include "ns_tcp.h"
}

using namespace ns_test;

namespace {

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };

struct Seg {
	uint16_t sport, dport, wnd, mss = 0;
	uint32_t seq, ack;
	uint8_t flags;
	std::string data;
};

// A TCP segment from the peer (198.18.0.1:40000) to us, in a frame.
Bytes
tcp_frame(uint32_t seq, uint32_t ack, uint8_t flags, const std::string &data = "", uint16_t dport = 7,
	  bool mss = false, uint16_t wnd = 65535)
{
	Bytes s;
	put16(s, 40000);
	put16(s, dport);
	put32(s, seq);
	put32(s, ack);
	s.push_back((uint8_t)((mss ? 6 : 5) << 4));
	s.push_back(flags);
	put16(s, wnd);
	put16(s, 0);
	put16(s, 0);
	if (mss) {
		s.push_back(2);
		s.push_back(4);
		put16(s, 1460);
	}
	s.insert(s.end(), data.begin(), data.end());
	uint32_t pseudo = (kPeerIp >> 16) + (kPeerIp & 0xffff) + (kOurIp >> 16) + (kOurIp & 0xffff) + 6 + (uint32_t)s.size();
	uint16_t sum = (uint16_t)~ns_csum(s.data(), s.size(), pseudo);
	s[16] = (uint8_t)(sum >> 8);
	s[17] = (uint8_t)sum;
	return eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 6, s));
}

Seg
parse(const Bytes &f)
{
	Seg g;
	size_t ip = 14, tcp = ip + (size_t)(f[ip] & 0x0f) * 4, total = get16(f, ip + 2);
	g.sport = get16(f, tcp);
	g.dport = get16(f, tcp + 2);
	g.seq = get32(f, tcp + 4);
	g.ack = get32(f, tcp + 8);
	size_t hl = (size_t)(f[tcp + 12] >> 4) * 4;
	g.flags = f[tcp + 13];
	g.wnd = get16(f, tcp + 14);
	if (hl >= 24 && f[tcp + 20] == 2)
		g.mss = get16(f, tcp + 22);
	g.data.assign(f.begin() + (long)(tcp + hl), f.begin() + (long)(ip + total));
	// the checksum is right
	uint32_t pseudo = (kOurIp >> 16) + (kOurIp & 0xffff) + (kPeerIp >> 16) + (kPeerIp & 0xffff) + 6 +
			  (uint32_t)(total - (tcp - ip));
	EXPECT_EQ(ns_csum(f.data() + tcp, total - (tcp - ip), pseudo), 0xffff);
	return g;
}

// The stack with an application that records what it gets and takes at
// most `take` bytes per call.
struct Tcp : Iface {
	ns_tcp t;
	std::string got;
	size_t take = SIZE_MAX, space = 65535;
	bool accepted = false, peer_closed = false, gone = false;
	ns_tcp_conn *conn = nullptr;
	static const ns_tcp_ops ops;

	Tcp()
	{
		EXPECT_EQ(ns_tcp_init(&t, &nif, &ops, this), 0);
		ns_tcp_listen(&t, 7);
		learn_peer();
	}
	~Tcp() { ns_tcp_free(&t); }
	std::vector<Seg> segs()
	{
		std::vector<Seg> v;
		for (auto &f : sent)
			if (get16(f, 12) == 0x0800 && f[14 + 9] == 6)
				v.push_back(parse(f));
		sent.clear();
		return v;
	}
	// SYN, SYN-ACK, ACK: returns our ISS
	uint32_t open(uint32_t irs = 1000)
	{
		in(tcp_frame(irs, 0, SYN, "", 7, true));
		auto v = segs();
		EXPECT_EQ(v.size(), 1u);
		uint32_t iss = v[0].seq;
		in(tcp_frame(irs + 1, iss + 1, ACK));
		EXPECT_TRUE(accepted);
		return iss;
	}
};

const ns_tcp_ops Tcp::ops = {
	[](void *a, ns_tcp_conn *c) -> void * {
		auto *s = static_cast<Tcp *>(a);
		s->accepted = true;
		s->conn = c;
		return s;
	},
	[](void *a, ns_tcp_conn *, const uint8_t *p, size_t n) -> size_t {
		auto *s = static_cast<Tcp *>(a);
		size_t k = n < s->take ? n : s->take;
		s->got.append(reinterpret_cast<const char *>(p), k);
		return k;
	},
	[](void *a, ns_tcp_conn *) -> size_t { return static_cast<Tcp *>(a)->space; },
	[](void *a, ns_tcp_conn *) { static_cast<Tcp *>(a)->peer_closed = true; },
	[](void *a, ns_tcp_conn *) { static_cast<Tcp *>(a)->gone = true; },
};

TEST(NsTcp, PassiveOpenAnnouncesMss)
{
	Tcp s;
	s.in(tcp_frame(1000, 0, SYN, "", 7, true));
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, SYN | ACK);
	EXPECT_EQ(v[0].ack, 1001u);
	EXPECT_EQ(v[0].mss, NS_TCP_MSS);
	EXPECT_EQ(v[0].sport, 7);
	EXPECT_EQ(v[0].dport, 40000);
	EXPECT_FALSE(s.accepted);
	// a wrong ACK gets a RST, the right one establishes
	s.in(tcp_frame(1001, v[0].seq + 5, ACK));
	auto r = s.segs();
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].flags, RST);
	s.in(tcp_frame(1001, v[0].seq + 1, ACK));
	EXPECT_TRUE(s.accepted);
	EXPECT_EQ(s.t.stats.established, 1u);
}

TEST(NsTcp, ClosedPortAndBadChecksum)
{
	Tcp s;
	s.in(tcp_frame(5, 0, SYN, "", 81));
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, RST | ACK);
	EXPECT_EQ(v[0].ack, 6u);
	Bytes f = tcp_frame(5, 0, SYN, "", 7);
	f[f.size() - 1] ^= 1; // the checksum no longer holds
	s.in(f);
	EXPECT_TRUE(s.segs().empty());
	EXPECT_EQ(s.t.stats.bad_csum, 1u);
}

TEST(NsTcp, InOrderDataIsDeliveredAndAcked)
{
	Tcp s;
	uint32_t iss = s.open();
	s.in(tcp_frame(1001, iss + 1, ACK | PSH, "hello"));
	EXPECT_EQ(s.got, "hello");
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1006u);
	// a duplicate is acknowledged again, not delivered twice
	s.in(tcp_frame(1001, iss + 1, ACK | PSH, "hello"));
	EXPECT_EQ(s.got, "hello");
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1006u);
}

TEST(NsTcp, OutOfOrderSegmentsWaitForTheGap)
{
	Tcp s;
	uint32_t iss = s.open();
	s.in(tcp_frame(1006, iss + 1, ACK, "world"));
	s.in(tcp_frame(1011, iss + 1, ACK, "!"));
	EXPECT_EQ(s.got, "");
	auto v = s.segs();
	ASSERT_EQ(v.size(), 2u); // duplicate ACKs for the gap
	EXPECT_EQ(v[1].ack, 1001u);
	s.in(tcp_frame(1001, iss + 1, ACK, "hello"));
	EXPECT_EQ(s.got, "helloworld!");
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1012u);
}

TEST(NsTcp, FlowControlDoesNotAckWhatTheApplicationLeft)
{
	Tcp s;
	uint32_t iss = s.open();
	s.take = 3;
	s.space = 0;
	s.in(tcp_frame(1001, iss + 1, ACK, "abcdef"));
	EXPECT_EQ(s.got, "abc");
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1004u);
	EXPECT_EQ(v[0].wnd, 0);
	// a zero-window probe (an old sequence number) is answered
	s.in(tcp_frame(1003, iss + 1, ACK));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1004u);
	// room again: the window update goes out
	s.space = 4000;
	s.take = SIZE_MAX;
	ns_tcp_window_update(&s.t, s.conn);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].wnd, 4000);
	s.in(tcp_frame(1004, iss + 1, ACK, "def"));
	EXPECT_EQ(s.got, "abcdef");
}

TEST(NsTcp, SendsInSegmentsAndRetransmitsOnTheTimer)
{
	Tcp s;
	uint32_t iss = s.open();
	std::string big(4000, 'z');
	ASSERT_EQ(ns_tcp_send(&s.t, s.conn, (const uint8_t *)big.data(), big.size()), big.size());
	auto v = s.segs();
	ASSERT_EQ(v.size(), 3u); // 1460 + 1460 + 1080 (the peer announced MSS 1460)
	EXPECT_EQ(v[0].data.size(), 1460u);
	EXPECT_EQ(v[2].data.size(), 1080u);
	EXPECT_EQ(v[1].seq, iss + 1 + 1460);
	// the first two are acknowledged; the third is lost
	s.in(tcp_frame(1001, iss + 1 + 2920, ACK));
	EXPECT_TRUE(s.segs().empty());
	// that ACK gave an RTT sample of 0 ms: the timeout is the minimum now
	EXPECT_EQ(s.conn->rto_ms, (uint32_t)NS_TCP_RTO_MIN_MS);
	s.now += NS_TCP_RTO_MIN_MS - 1;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_TRUE(s.segs().empty()); // not yet
	s.now += 2;
	ns_tcp_timers(&s.t, s.now);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seq, iss + 1 + 2920);
	EXPECT_EQ(v[0].data, big.substr(2920));
	EXPECT_EQ(s.t.stats.retransmits, 1u);
	// backoff: the next retransmission waits twice as long
	s.now += s.conn->rto_ms - 1;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_TRUE(s.segs().empty());
	s.now += 2;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(s.segs().size(), 1u);
	s.in(tcp_frame(1001, iss + 1 + 4000, ACK));
	EXPECT_EQ(s.conn->buf_len, 0u);
	EXPECT_EQ(s.conn->rto_at, 0u);
}

TEST(NsTcp, PeerClosesFirstThenWe)
{
	Tcp s;
	uint32_t iss = s.open();
	s.in(tcp_frame(1001, iss + 1, ACK | FIN, "bye"));
	EXPECT_EQ(s.got, "bye");
	EXPECT_TRUE(s.peer_closed);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1005u); // data and FIN
	EXPECT_EQ(s.conn->state, NS_TCP_CLOSE_WAIT);
	ns_tcp_close(&s.t, s.conn);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, FIN | ACK);
	EXPECT_EQ(s.conn->state, NS_TCP_LAST_ACK);
	s.in(tcp_frame(1005, iss + 2, ACK));
	EXPECT_TRUE(s.gone);
}

TEST(NsTcp, WeCloseFirstAndWaitInTimeWait)
{
	Tcp s;
	uint32_t iss = s.open();
	ns_tcp_close(&s.t, s.conn);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, FIN | ACK);
	ns_tcp_conn *c = s.conn;
	s.in(tcp_frame(1001, iss + 2, ACK));
	EXPECT_EQ(c->state, NS_TCP_FIN_WAIT_2);
	s.in(tcp_frame(1001, iss + 2, ACK | FIN));
	EXPECT_EQ(c->state, NS_TCP_TIME_WAIT);
	EXPECT_TRUE(s.gone);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 1002u);
	s.now += NS_TCP_TIME_WAIT_MS + 1;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(c->state, NS_TCP_FREE);
}

TEST(NsTcp, ResetOnlyAtTheExactSequence)
{
	Tcp s;
	uint32_t iss = s.open();
	s.in(tcp_frame(1500, iss + 1, RST)); // in the window, not exact: a challenge ACK
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, ACK);
	EXPECT_FALSE(s.gone);
	s.in(tcp_frame(1001, iss + 1, RST));
	EXPECT_TRUE(s.gone);
	EXPECT_EQ(s.t.stats.reset_in, 1u);
}

} // namespace
