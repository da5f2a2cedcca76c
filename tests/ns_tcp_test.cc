// TCP at packet level: passive open with MSS, in-order delivery and ACKs,
// the out-of-order queue, flow control (bytes not taken are not
// acknowledged), retransmission on the timer with backoff, FIN in both
// orders, RST for a closed port and for a wrong ACK, checksums.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "ns_test_peer.h"

extern "C" {
#include "ns_tcp.h"
}

using namespace ns_test;

namespace {

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16 };
const size_t kConns = 256; // the table of the tests

struct Seg {
	uint16_t sport, dport, wnd, mss = 0;
	int wscale = -1;
	uint32_t seq, ack;
	uint8_t flags;
	std::string data;
};

// A TCP segment from the peer (198.18.0.1:40000) to us, in a frame.
Bytes
tcp_frame(uint32_t seq, uint32_t ack, uint8_t flags, const std::string &data = "", uint16_t dport = 7,
	  bool mss = false, uint16_t wnd = 65535, int wscale = -1, uint16_t sport = 40000)
{
	Bytes s;
	put16(s, sport);
	put16(s, dport);
	put32(s, seq);
	put32(s, ack);
	s.push_back((uint8_t)((5 + (mss ? 1 : 0) + (wscale >= 0 ? 1 : 0)) << 4));
	s.push_back(flags);
	put16(s, wnd);
	put16(s, 0);
	put16(s, 0);
	if (mss) {
		s.push_back(2);
		s.push_back(4);
		put16(s, 1460);
	}
	if (wscale >= 0) {
		s.push_back(1);
		s.push_back(3);
		s.push_back(3);
		s.push_back((uint8_t)wscale);
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
	for (size_t o = tcp + 20; o < tcp + hl && f[o] != 0;) { // options
		if (f[o] == 1) {
			o++;
			continue;
		}
		if (f[o] == 2)
			g.mss = get16(f, o + 2);
		if (f[o] == 3)
			g.wscale = f[o + 2];
		o += f[o + 1];
	}
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
	bool accepted = false, peer_closed = false, gone = false, connected = false;
	int writable = 0;
	ns_tcp_conn *conn = nullptr;
	static const ns_tcp_ops ops;

	Tcp()
	{
		EXPECT_EQ(ns_tcp_init(&t, &nif, &ops, this, kConns), 0);
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
	uint32_t open(uint32_t irs = 1000, int wscale = -1)
	{
		in(tcp_frame(irs, 0, SYN, "", 7, true, 65535, wscale));
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
	[](void *a, ns_tcp_conn *) { static_cast<Tcp *>(a)->writable++; },
	[](void *a, ns_tcp_conn *c) {
		auto *s = static_cast<Tcp *>(a);
		s->connected = true;
		s->conn = c;
	},
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

// RFC 7323: the option is answered only when offered; windows scale after
// the SYN in both directions.
TEST(NsTcp, WindowScaleIsNegotiated)
{
	Tcp plain;
	plain.in(tcp_frame(1000, 0, SYN, "", 7, true));
	auto v = plain.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].wscale, -1);

	Tcp s;
	s.in(tcp_frame(1000, 0, SYN, "", 7, true, 65535, 7));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].wscale, NS_TCP_RCV_WSCALE);
	EXPECT_EQ(v[0].wnd, 65535); // a SYN-ACK's window is not scaled
	uint32_t iss = v[0].seq;
	s.in(tcp_frame(1001, iss + 1, ACK, "", 7, false, 1000)); // 1000 << 7 bytes
	ASSERT_TRUE(s.accepted);
	EXPECT_EQ(s.conn->snd_wnd, 1000u << 7);
	s.space = 40000;
	s.in(tcp_frame(1001, iss + 1, ACK, "x", 7, false, 1000));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].wnd, 40000 >> NS_TCP_RCV_WSCALE);
}

// Three duplicate ACKs: the missing segment goes again at once (no
// timeout), the window halves, and NewReno resends the next hole on a
// partial ACK; the first two duplicates release new segments (RFC 3042).
TEST(NsTcp, FastRetransmitAndNewRenoRecovery)
{
	Tcp s;
	uint32_t iss = s.open();
	std::string data(20 * 1000, 'a');
	for (size_t i = 0; i < data.size(); i++)
		data[i] = (char)('a' + i % 26);
	ASSERT_EQ(ns_tcp_send(&s.t, s.conn, (const uint8_t *)data.data(), data.size()), data.size());
	auto v = s.segs();
	ASSERT_EQ(v.size(), 10u); // the initial window: 10 segments (RFC 6928)
	uint32_t base = iss + 1;
	// segments 0 and 2 are lost; 1, 3, 4, ... arrive: duplicate ACKs for 0
	s.in(tcp_frame(1001, base, ACK));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u); // limited transmit: one new segment
	EXPECT_EQ(v[0].seq, base + 10 * 1460);
	s.in(tcp_frame(1001, base, ACK));
	EXPECT_EQ(s.segs().size(), 1u);
	s.in(tcp_frame(1001, base, ACK));
	v = s.segs();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seq, base); // the fast retransmit
	EXPECT_EQ(v[0].data, data.substr(0, 1460));
	EXPECT_EQ(s.t.stats.fast_retransmits, 1u);
	EXPECT_EQ(s.t.stats.retransmits, 0u); // no timeout
	EXPECT_TRUE(s.conn->in_recovery);
	EXPECT_EQ(s.conn->ssthresh, 6u * 1460); // half of the 12 segments in flight
	// a partial ACK up to the second hole: it is resent at once
	s.in(tcp_frame(1001, base + 2 * 1460, ACK));
	v = s.segs();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seq, base + 2 * 1460);
	EXPECT_EQ(v[0].data, data.substr(2 * 1460, 1460));
	EXPECT_TRUE(s.conn->in_recovery);
	// the full ACK ends the recovery with cwnd = ssthresh
	s.in(tcp_frame(1001, s.conn->recover, ACK));
	EXPECT_FALSE(s.conn->in_recovery);
	EXPECT_EQ(s.conn->cwnd, s.conn->ssthresh);
	EXPECT_GT(s.writable, 0); // the application heard that the buffer emptied
}

// After a timeout rewinds the send point, an ACK for more than was resent
// (the peer had it all) is taken, not refused.
TEST(NsTcp, AckBeyondTheResentDataAfterATimeout)
{
	Tcp s;
	uint32_t iss = s.open();
	std::string data(4000, 'q');
	ns_tcp_send(&s.t, s.conn, (const uint8_t *)data.data(), data.size());
	s.segs();
	s.now += NS_TCP_RTO_INIT_MS + 1;
	ns_tcp_timers(&s.t, s.now);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u); // one segment after a timeout (cwnd = 1 MSS)
	EXPECT_EQ(v[0].seq, iss + 1);
	EXPECT_EQ(s.conn->cwnd, 1460u);
	s.in(tcp_frame(1001, iss + 1 + 4000, ACK));
	EXPECT_EQ(s.conn->buf_len, 0u);
	EXPECT_EQ(s.conn->snd_una, iss + 1 + 4000);
	EXPECT_EQ(s.conn->rto_at, 0u);
}

// A zero window with data waiting: probes with an old sequence number,
// backing off, and the data goes once the window opens.
TEST(NsTcp, ZeroWindowIsProbed)
{
	Tcp s;
	uint32_t iss = s.open();
	s.in(tcp_frame(1001, iss + 1, ACK, "", 7, false, 0));
	ns_tcp_send(&s.t, s.conn, (const uint8_t *)"hello", 5);
	EXPECT_TRUE(s.segs().empty());
	s.now += s.conn->rto_ms + 1;
	ns_tcp_timers(&s.t, s.now);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seq, iss); // one before snd_una: the peer must answer
	EXPECT_TRUE(v[0].data.empty());
	EXPECT_EQ(s.t.stats.window_probes, 1u);
	uint32_t rto = s.conn->rto_ms;
	s.now += rto - 1;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_TRUE(s.segs().empty()); // backed off
	s.now += 2;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(s.segs().size(), 1u);
	s.in(tcp_frame(1001, iss + 1, ACK, "", 7, false, 1000));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].data, "hello");
	EXPECT_EQ(s.t.stats.timeouts, 0u); // probes never reset the connection
}

// Beyond a quarter of the table half-open, SYNs are answered with
// a cookie and no state; the ACK that returns it creates the connection,
// one that does not is refused.
TEST(NsTcp, SynCookiesWhenTheBacklogIsFull)
{
	Tcp s;
	ASSERT_EQ(s.t.syn_backlog, kConns / 4);
	for (uint16_t p = 0; p < s.t.syn_backlog; p++)
		s.in(tcp_frame(5000, 0, SYN, "", 7, true, 65535, -1, (uint16_t)(20000 + p)));
	EXPECT_EQ(s.t.n_syn_rcvd, s.t.syn_backlog);
	s.segs();
	size_t free_before = s.t.n_free;
	s.in(tcp_frame(7000, 0, SYN, "", 7, true, 65535, 7));
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, SYN | ACK);
	EXPECT_EQ(v[0].ack, 7001u);
	EXPECT_EQ(v[0].wscale, -1); // no scaling on a cookie connection
	EXPECT_EQ(s.t.n_free, free_before); // no slot taken
	EXPECT_EQ(s.t.stats.syn_cookies_sent, 1u);
	uint32_t cookie = v[0].seq;
	// a forged ACK is refused
	s.in(tcp_frame(7001, cookie + 2, ACK));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, RST);
	EXPECT_EQ(s.t.stats.syn_cookies_bad, 1u);
	EXPECT_FALSE(s.accepted);
	// the real one, carrying data, opens the connection
	s.in(tcp_frame(7001, cookie + 1, ACK | PSH, "GET"));
	EXPECT_TRUE(s.accepted);
	EXPECT_EQ(s.got, "GET");
	EXPECT_EQ(s.t.stats.syn_cookies_ok, 1u);
	EXPECT_EQ(s.conn->mss, 1460);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].ack, 7004u);
	// the cookie is bound to the 4-tuple: another port cannot reuse it
	s.in(tcp_frame(7001, cookie + 1, ACK, "", 7, false, 65535, -1, 40001));
	EXPECT_EQ(s.t.stats.syn_cookies_bad, 2u);
	// and it expires (two 64 s slots)
	s.now += 3 * 65536;
	s.in(tcp_frame(7001, cookie + 1, ACK, "", 7, false, 65535, -1, 40002));
	EXPECT_EQ(s.t.stats.syn_cookies_bad, 3u);
}

// The active open: SYN with MSS and window scale, the SYN-ACK establishes
// and is acknowledged; a refused one (RST) reports the connection gone.
TEST(NsTcp, ActiveOpen)
{
	Tcp s;
	int app = 42;
	ns_tcp_conn *c = ns_tcp_connect(&s.t, kOurIp, kPeerIp, 8080, &app);
	ASSERT_NE(c, nullptr);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, SYN);
	EXPECT_EQ(v[0].dport, 8080);
	EXPECT_EQ(v[0].mss, NS_TCP_MSS);
	EXPECT_EQ(v[0].wscale, NS_TCP_RCV_WSCALE);
	EXPECT_GE(v[0].sport, 49152);
	// the SYN-ACK, from 8080 to our port
	Bytes synack = tcp_frame(9000, v[0].seq + 1, SYN | ACK, "", v[0].sport, true, 65535, 3, 8080);
	s.in(synack);
	EXPECT_TRUE(s.connected);
	EXPECT_EQ(c->state, NS_TCP_ESTABLISHED);
	EXPECT_EQ(c->app, &app);
	EXPECT_TRUE(c->ws_ok);
	auto a = s.segs();
	ASSERT_EQ(a.size(), 1u);
	EXPECT_EQ(a[0].flags, ACK);
	EXPECT_EQ(a[0].ack, 9001u);
	ns_tcp_send(&s.t, c, (const uint8_t *)"ping", 4);
	a = s.segs();
	ASSERT_EQ(a.size(), 1u);
	EXPECT_EQ(a[0].data, "ping");

	// a second one is refused
	ns_tcp_conn *d = ns_tcp_connect(&s.t, kOurIp, kPeerIp, 8081, &app);
	ASSERT_NE(d, nullptr);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_NE(v[0].sport, c->lport);
	s.gone = false;
	s.in(tcp_frame(0, v[0].seq + 1, RST | ACK, "", v[0].sport, false, 0, -1, 8081));
	EXPECT_TRUE(s.gone);
	EXPECT_EQ(d->state, NS_TCP_FREE);
}

// Runs the TCP timers every millisecond for ms milliseconds.
void
run_timers(Tcp &s, uint64_t ms)
{
	for (uint64_t end = s.now + ms; s.now < end;) {
		s.now++;
		ns_tcp_timers(&s.t, s.now);
	}
}

// An active open to a peer whose MAC is not known: ARP asks, the SYN
// waits for the answer (no backoff for that) and leaves as soon as it
// comes; unanswered, it goes again with RFC 6298 backoff (1 s, then 2 s).
TEST(NsTcp, ActiveOpenWaitsForArpThenBacksOff)
{
	Tcp s;
	int app = 1;
	memset(s.nif.arp, 0, sizeof(s.nif.arp)); // forget the peer
	ns_tcp_conn *c = ns_tcp_connect(&s.t, kOurIp, kPeerIp, 8080, &app);
	ASSERT_NE(c, nullptr);
	EXPECT_TRUE(s.segs().empty()); // only the ARP request left
	run_timers(s, 3 * NS_TCP_ARP_WAIT_MS);
	EXPECT_TRUE(s.segs().empty());
	EXPECT_EQ(c->retries, 0u);
	s.in(eth(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kPeerIp, kOurMac, kOurIp)));
	run_timers(s, NS_TCP_ARP_WAIT_MS);
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, SYN);
	EXPECT_EQ(c->rto_ms, (uint32_t)NS_TCP_RTO_INIT_MS); // waiting for ARP was no loss
	run_timers(s, NS_TCP_RTO_INIT_MS - 50);
	EXPECT_TRUE(s.segs().empty());
	run_timers(s, 100);
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].flags, SYN);
	EXPECT_EQ(c->rto_ms, 2u * NS_TCP_RTO_INIT_MS);
	run_timers(s, 2 * NS_TCP_RTO_INIT_MS - 100);
	EXPECT_TRUE(s.segs().empty());
	run_timers(s, 100);
	EXPECT_EQ(s.segs().size(), 1u);
	EXPECT_EQ(s.t.stats.retransmits, 2u);
	EXPECT_FALSE(s.gone);
}

// The ephemeral port is one the steering accepts (its replies reach
// this worker); none accepted: no connection.
TEST(NsTcp, ActiveOpenPortChosenBySteering)
{
	Tcp s;
	int app = 1;
	s.t.port_ok = [](void *, uint32_t, uint32_t, uint16_t lport, uint16_t) { return lport % 7 == 3; };
	for (int i = 0; i < 20; i++) {
		ns_tcp_conn *c = ns_tcp_connect(&s.t, kOurIp, kPeerIp, 8080, &app);
		ASSERT_NE(c, nullptr);
		EXPECT_EQ(c->lport % 7, 3);
		EXPECT_GE(c->lport, 49152);
	}
	s.t.port_ok = [](void *, uint32_t, uint32_t, uint16_t, uint16_t) { return false; };
	EXPECT_EQ(ns_tcp_connect(&s.t, kOurIp, kPeerIp, 8080, &app), nullptr);
}

// Many connections at once: each found by its 4-tuple (the hash), and a
// full table reclaims the TIME_WAIT that ends first.
TEST(NsTcp, ManyConnectionsAndTimeWaitReclaimed)
{
	Tcp s;
	ns_tcp bad;
	EXPECT_EQ(ns_tcp_init(&bad, &s.nif, &Tcp::ops, &s, 0), -1);
	EXPECT_EQ(ns_tcp_init(&bad, &s.nif, &Tcp::ops, &s, NS_TCP_MAX_CONNS + 1), -1);
	EXPECT_EQ(s.nif.tcp_arg, &s.t); // a failed init leaves the interface alone
	std::vector<uint32_t> iss(kConns);
	for (uint16_t i = 0; i < kConns; i++) {
		uint16_t port = (uint16_t)(30000 + i);
		s.in(tcp_frame(100, 0, SYN, "", 7, true, 65535, -1, port));
		auto v = s.segs();
		ASSERT_EQ(v.size(), 1u) << i;
		iss[i] = v[0].seq;
		s.in(tcp_frame(101, iss[i] + 1, ACK, "", 7, false, 65535, -1, port));
		s.segs();
	}
	EXPECT_EQ(s.t.n_free, 0u);
	// data for connection 77 reaches it and no other
	s.got.clear();
	s.in(tcp_frame(101, iss[77] + 1, ACK, "seventy-seven", 7, false, 65535, -1, 30077));
	EXPECT_EQ(s.got, "seventy-seven");
	auto v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].dport, 30077);
	EXPECT_EQ(v[0].ack, 114u);
	// a full table: a new SYN gets a cookie (no slot)
	s.in(tcp_frame(100, 0, SYN, "", 7, true, 65535, -1, 39999));
	EXPECT_EQ(s.t.stats.syn_cookies_sent, 1u);
	s.segs();
	// close connection 5 from our side into TIME_WAIT: its slot is taken back
	ns_tcp_conn *c = nullptr;
	for (size_t i = 0; i < s.t.n_conns; i++)
		if (s.t.conns[i].rport == 30005)
			c = &s.t.conns[i];
	ASSERT_NE(c, nullptr);
	ns_tcp_close(&s.t, c);
	s.in(tcp_frame(101, iss[5] + 2, ACK | FIN, "", 7, false, 65535, -1, 30005));
	EXPECT_EQ(c->state, NS_TCP_TIME_WAIT);
	s.segs();
	s.in(tcp_frame(100, 0, SYN, "", 7, true, 65535, -1, 39998));
	v = s.segs();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(s.t.stats.time_wait_reclaimed, 1u);
	EXPECT_EQ(c->rport, 39998);
}

// The timer wheel: a deadline several revolutions away fires on time, and
// one moved later by ACKs does not fire early.
TEST(NsTcp, TimerWheelDeadlines)
{
	Tcp s;
	uint32_t iss = s.open();
	ns_tcp_send(&s.t, s.conn, (const uint8_t *)"abc", 3);
	s.segs();
	for (int i = 0; i < 50; i++) { // ~40 revolutions of calls, every 1 ms
		s.now += 1;
		ns_tcp_timers(&s.t, s.now);
	}
	EXPECT_TRUE(s.segs().empty()); // RTO_INIT (1 s) not reached
	s.now += NS_TCP_RTO_INIT_MS - 50 - 1;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_TRUE(s.segs().empty());
	s.now += 2;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(s.segs().size(), 1u);
	s.in(tcp_frame(1001, iss + 4, ACK));
	// TIME_WAIT: 30 s away, seen after one long pause
	ns_tcp_close(&s.t, s.conn);
	s.in(tcp_frame(1001, iss + 5, ACK | FIN));
	EXPECT_EQ(s.conn->state, NS_TCP_TIME_WAIT);
	s.now += NS_TCP_TIME_WAIT_MS - 10;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(s.conn->state, NS_TCP_TIME_WAIT);
	s.now += 20;
	ns_tcp_timers(&s.t, s.now);
	EXPECT_EQ(s.conn->state, NS_TCP_FREE);
}

} // namespace

namespace {

// With the port's checksum offloads: frames leave with the IPv4 checksum
// empty and the TCP checksum field holding the pseudo-header's sum (the
// port completes both), and received frames the port verified are not
// summed again.
TEST(NsTcp, ChecksumOffloads)
{
	Tcp s;
	s.nif.tx_csum_offload = true;
	s.in(tcp_frame(1000, 0, SYN, "", 7, true));
	ASSERT_EQ(s.sent.size(), 1u);
	Bytes f = s.sent[0];
	s.sent.clear();
	size_t ip = 14, tcp = ip + 20, len = get16(f, ip + 2) - 20u; // (the frame is padded)
	EXPECT_EQ(get16(f, ip + 10), 0); // IPv4 header checksum: the port's
	uint32_t pseudo = (kOurIp >> 16) + (kOurIp & 0xffff) + (kPeerIp >> 16) + (kPeerIp & 0xffff) + 6 + (uint32_t)len;
	EXPECT_EQ(get16(f, tcp + 16), ns_csum(nullptr, 0, pseudo));
	// completing them gives what a port would send: valid sums
	fix_csum(f, ip, 20, ip + 10);
	f[tcp + 16] = f[tcp + 17] = 0;
	uint16_t sum = (uint16_t)~ns_csum(f.data() + tcp, len, pseudo);
	f[tcp + 16] = (uint8_t)(sum >> 8);
	f[tcp + 17] = (uint8_t)sum;
	uint32_t iss = parse(f).seq;
	// a frame whose TCP checksum is wrong: dropped, unless the port vouched
	Bytes bad = tcp_frame(1001, iss + 1, ACK);
	bad[bad.size() - 3] ^= 0x55; // inside the TCP header's checksum field
	s.in(bad);
	EXPECT_FALSE(s.accepted);
	EXPECT_EQ(s.t.stats.bad_csum, 1u);
	s.nif.rx_csum_ok = true;
	s.in(bad);
	EXPECT_TRUE(s.accepted);
}

} // namespace

namespace {

// Recompute the IPv4 and TCP checksums of a (mutated) frame where its
// lengths allow, so that mutations reach past the checksum checks.
void
refix(Bytes &f)
{
	if (f.size() < 14 + 20 || get16(f, 12) != 0x0800)
		return;
	size_t ihl = (size_t)(f[14] & 0x0f) * 4, total = get16(f, 16);
	if (ihl < 20 || 14 + ihl > f.size())
		return;
	fix_csum(f, 14, ihl, 14 + 10);
	if (f[14 + 9] != 6 || total < ihl + 20 || 14 + total > f.size())
		return;
	size_t tcp = 14 + ihl, len = total - ihl;
	uint32_t src = get32(f, 14 + 12), dst = get32(f, 14 + 16);
	f[tcp + 16] = f[tcp + 17] = 0;
	uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + (uint32_t)len;
	uint16_t sum = (uint16_t)~ns_csum(f.data() + tcp, len, pseudo);
	f[tcp + 16] = (uint8_t)(sum >> 8);
	f[tcp + 17] = (uint8_t)sum;
}

// The table's invariants: every slot free or in use, each connection in
// use found by its 4-tuple, buffers within their bounds.
void
check_table(const ns_tcp &t)
{
	size_t used = 0;
	for (size_t i = 0; i < t.n_conns; i++) {
		const ns_tcp_conn *c = &t.conns[i];
		if (c->state == NS_TCP_FREE)
			continue;
		used++;
		ASSERT_EQ(ns_tcp_find(const_cast<ns_tcp *>(&t), c->laddr, c->raddr, c->lport, c->rport), c);
		ASSERT_LE(c->buf_len, (size_t)NS_TCP_SNDBUF);
		ASSERT_LE(c->n_ooo, NS_TCP_OOO_SEGS);
		ASSERT_LE(c->ooo_used, NS_TCP_OOO_BYTES);
		ASSERT_LE(c->snd_nxt - c->snd_una, c->snd_max - c->snd_una + 1);
	}
	ASSERT_EQ(used + t.n_free, t.n_conns);
}

// 200,000 frames: valid ones from a handful of peers' connections and
// every kind of damage (bytes flipped, cut short, grown, with the
// checksums made right again half of the time so the damage reaches the
// parsers and the state machine), with the application writing and
// closing and the clock moving. Nothing may crash (the sanitizer build
// runs this too) and the table must stay consistent.
TEST(NsTcp, RandomAndDamagedFramesKeepTheTableConsistent)
{
	Tcp s;
	s.take = 7;
	std::mt19937 rng(20261130);
	auto rnd = [&](uint32_t n) { return (uint32_t)(rng() % n); };
	std::vector<Bytes> seeds;
	for (uint16_t port = 40000; port < 40008; port++) {
		seeds.push_back(tcp_frame(1000, 0, SYN, "", 7, true, 65535, port % 2 ? 7 : -1, port));
		seeds.push_back(tcp_frame(1001, 0, ACK, "", 7, false, 65535, -1, port));
		seeds.push_back(tcp_frame(1001, 0, ACK | PSH, "GET / HTTP/1.1\r\n\r\n", 7, false, 65535, -1, port));
		seeds.push_back(tcp_frame(1019, 0, ACK | FIN, "", 7, false, 0, -1, port));
		seeds.push_back(tcp_frame(1001, 0, RST, "", 7, false, 0, -1, port));
	}
	seeds.push_back(eth(kBcast, kPeerMac, 0x0806, arp(1, kPeerMac, kPeerIp, kBcast, kOurIp)));
	seeds.push_back(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 1, icmp_echo(1, 1, "ping"))));
	std::string junk(3000, 'j');
	for (int i = 0; i < 200000; i++) {
		Bytes f = seeds[rnd((uint32_t)seeds.size())];
		if (f.size() > 14 + 20 + 8 && f[14 + 9] == 6 && rnd(2)) {
			// aim the ACK at what the connection sent, if it exists
			size_t tcp = 14 + 20;
			ns_tcp_conn *c = ns_tcp_find(&s.t, kOurIp, kPeerIp, 7, get16(f, tcp));
			if (c != nullptr) {
				uint32_t ack = c->snd_una + rnd(c->snd_max - c->snd_una + 2);
				f[tcp + 8] = (uint8_t)(ack >> 24);
				f[tcp + 9] = (uint8_t)(ack >> 16);
				f[tcp + 10] = (uint8_t)(ack >> 8);
				f[tcp + 11] = (uint8_t)ack;
				uint32_t seq = c->rcv_nxt + rnd(3000) - 100;
				for (int b = 0; b < 4; b++)
					f[tcp + 4 + b] = (uint8_t)(seq >> (24 - 8 * b));
				refix(f);
			}
		}
		switch (rnd(6)) {
		case 0: // flip bytes
			for (uint32_t n = 1 + rnd(4); n > 0; n--)
				f[rnd((uint32_t)f.size())] ^= (uint8_t)(1 + rnd(255));
			break;
		case 1: // cut short
			f.resize(rnd((uint32_t)f.size() + 1));
			break;
		case 2: // grow
			f.insert(f.end(), junk.begin(), junk.begin() + rnd(1600));
			break;
		default: // as built
			break;
		}
		if (rnd(2))
			refix(f);
		s.in(f);
		s.sent.clear();
		if (rnd(50) == 0) { // the application speaks or closes
			for (size_t k = 0; k < s.t.n_conns; k++) {
				ns_tcp_conn *c = &s.t.conns[k];
				if (c->state == NS_TCP_ESTABLISHED || c->state == NS_TCP_CLOSE_WAIT) {
					if (rnd(3) == 0)
						ns_tcp_close(&s.t, c);
					else
						ns_tcp_send(&s.t, c, (const uint8_t *)junk.data(), rnd(3000));
				}
			}
		}
		if (rnd(20) == 0) {
			s.now += rnd(3000);
			ns_tcp_timers(&s.t, s.now);
			s.sent.clear();
		}
		if (i % 1000 == 0) {
			check_table(s.t);
			if (HasFatalFailure())
				return;
		}
	}
	check_table(s.t);
	EXPECT_GT(s.t.stats.established, 100u); // the damage did not stop everything
	EXPECT_GT(s.t.stats.bad_csum, 1000u);
	EXPECT_GT(s.nif.stats.malformed, 1000u);
}

} // namespace
