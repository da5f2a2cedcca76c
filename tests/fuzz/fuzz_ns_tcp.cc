// The userspace stack's input path (dataplane/ns_*.c): Ethernet, ARP,
// IPv4, ICMP and above all TCP, with a small table (SYN cookies, TIME_WAIT
// reuse, table full), timers and an application that reads, writes and
// closes as the input says.
//
// Input: a list of operations, each an opcode byte and its fields:
//   0, 1  a TCP segment from the peer 198.18.0.1 (the harness builds the
//         frame and its checksums): flags, port byte (source 40000 + bits
//         0-1, destination 80 or, bit 2, the closed port 81), seq and ack
//         as signed 16-bit offsets from the peer's ISN (1000) and from our
//         last SYN-ACK's sequence number, window, option bytes (length
//         byte, up to 40), data (2-byte length, up to 1460)
//   2     the same with a wrong TCP checksum
//   3     a raw frame (2-byte length, bytes)
//   4     time passes (2-byte milliseconds) and the timers run
//   5     the application closes the port's connection
//   6     the application sends (2-byte length) on it
//   7     the application aborts it, or (bit 3 set) changes how much it
//         takes and announces a window update
// Seeds: tests/fuzz/corpus/ns_tcp (a handshake, data, FIN; fuzz_capture).
#include <algorithm>
#include <cstdint>

#include "ns_test_peer.h"

extern "C" {
#include "ns_tcp.h"
}

using namespace ns_test;

namespace {

const uint32_t kPeerIsn = 1000;

struct Stack : Iface {
	ns_tcp t;
	size_t take = SIZE_MAX, space = NS_TCP_RCV_WND;
	uint32_t our_iss[4] = {};
	static const ns_tcp_ops ops;

	Stack()
	{
		if (ns_tcp_init(&t, &nif, &ops, this, 4) != 0 || ns_tcp_listen(&t, 80) != 0)
			abort();
		learn_peer();
	}
	~Stack() { ns_tcp_free(&t); }
	Stack(const Stack &) = delete;
	Stack &operator=(const Stack &) = delete;

	// What we sent: remember the sequence number of each SYN-ACK (the
	// fuzzer acknowledges relative to it); the frames themselves are dropped.
	void
	look_at_sent()
	{
		for (const Bytes &f : sent) {
			if (f.size() < 14 + 20 + 20 || get16(f, 12) != 0x0800 || f[14 + 9] != 6)
				continue;
			size_t tcp = 14 + (size_t)(f[14] & 0x0f) * 4;
			if (tcp + 20 > f.size())
				abort(); // our own frames are well formed
			uint16_t dport = get16(f, tcp + 2);
			if ((f[tcp + 13] & 0x02) && dport >= 40000 && dport < 40004)
				our_iss[dport - 40000] = get32(f, tcp + 4);
		}
		sent.clear();
	}
};

const ns_tcp_ops Stack::ops = {
	[](void *a, ns_tcp_conn *) -> void * { return a; },
	[](void *a, ns_tcp_conn *c, const uint8_t *p, size_t n) -> size_t {
		auto *s = static_cast<Stack *>(a);
		size_t k = std::min(n, s->take);
		// echo the first bytes back: data both ways
		ns_tcp_send(&s->t, c, p, std::min<size_t>(k, 64));
		return k;
	},
	[](void *a, ns_tcp_conn *) -> size_t { return static_cast<Stack *>(a)->space; },
	[](void *a, ns_tcp_conn *c) { ns_tcp_close(&static_cast<Stack *>(a)->t, c); },
	[](void *, ns_tcp_conn *) {},
	[](void *, ns_tcp_conn *) {},
	[](void *, ns_tcp_conn *) {},
};

// A bounds-checked cursor over the input.
struct Cursor {
	const uint8_t *p;
	size_t n;
	bool
	take(size_t k, const uint8_t **out)
	{
		if (n < k)
			return false;
		*out = p;
		p += k;
		n -= k;
		return true;
	}
	bool
	u8(uint8_t *v)
	{
		const uint8_t *q;
		if (!take(1, &q))
			return false;
		*v = q[0];
		return true;
	}
	bool
	u16(uint16_t *v)
	{
		const uint8_t *q;
		if (!take(2, &q))
			return false;
		*v = (uint16_t)(q[0] << 8 | q[1]);
		return true;
	}
};

bool
segment(Stack &s, Cursor &in, bool bad_csum)
{
	uint8_t flags, port, optlen;
	uint16_t seqd, ackd, wnd, dlen;
	const uint8_t *opts, *data;
	if (!in.u8(&flags) || !in.u8(&port) || !in.u16(&seqd) || !in.u16(&ackd) || !in.u16(&wnd) ||
	    !in.u8(&optlen))
		return false;
	optlen %= 41;
	if (!in.take(optlen, &opts) || !in.u16(&dlen))
		return false;
	dlen = (uint16_t)std::min<size_t>(dlen % (NS_TCP_MSS + 1), in.n); // the input may end early
	if (!in.take(dlen, &data))
		return false;
	size_t hl = 20 + (optlen + 3u) / 4 * 4;
	Bytes g;
	put16(g, (uint16_t)(40000 + (port & 3)));
	put16(g, (port & 4) ? 81 : 80);
	put32(g, kPeerIsn + (uint32_t)(int32_t)(int16_t)seqd);
	put32(g, s.our_iss[port & 3] + (uint32_t)(int32_t)(int16_t)ackd);
	g.push_back((uint8_t)(hl / 4 << 4));
	g.push_back(flags);
	put16(g, wnd);
	put16(g, 0);
	put16(g, 0);
	g.insert(g.end(), opts, opts + optlen);
	g.resize(hl, 0); // end-of-options padding
	g.insert(g.end(), data, data + dlen);
	uint32_t pseudo = (kPeerIp >> 16) + (kPeerIp & 0xffff) + (kOurIp >> 16) + (kOurIp & 0xffff) + 6 +
			  (uint32_t)g.size();
	uint16_t sum = (uint16_t)~ns_csum(g.data(), g.size(), pseudo);
	g[16] = (uint8_t)(sum >> 8);
	g[17] = (uint8_t)(sum ^ (bad_csum ? 1 : 0));
	s.in(eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeerIp, kOurIp, 6, g)));
	return true;
}

ns_tcp_conn *
conn_of(Stack &s, uint8_t port)
{
	return ns_tcp_find(&s.t, kOurIp, kPeerIp, 80, (uint16_t)(40000 + (port & 3)));
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Stack s;
	Cursor in{ data, size };
	uint8_t op, port;
	uint16_t v;
	const uint8_t *raw;
	ns_tcp_conn *c;
	static const uint8_t junk[1460] = { 'x' };

	for (int i = 0; i < 512 && in.u8(&op); i++) {
		bool ok = true;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			ok = segment(s, in, (op & 7) == 2);
			break;
		case 3:
			ok = in.u16(&v);
			v = (uint16_t)std::min<size_t>(v % (NS_ETH_MAX + 1), in.n);
			ok = ok && in.take(v, &raw);
			if (ok) // raw points into the input: never NULL, even for 0 bytes
				ns_eth_input(&s.nif, raw, v, s.now);
			break;
		case 4:
			ok = in.u16(&v);
			s.now += v;
			ns_tcp_timers(&s.t, s.now);
			break;
		case 5:
			ok = in.u8(&port);
			if (ok && (c = conn_of(s, port)) != nullptr)
				ns_tcp_close(&s.t, c);
			break;
		case 6:
			ok = in.u8(&port) && in.u16(&v);
			if (ok && (c = conn_of(s, port)) != nullptr)
				ns_tcp_send(&s.t, c, junk, v % sizeof(junk));
			break;
		default:
			ok = in.u8(&port);
			if (!ok || (c = conn_of(s, port)) == nullptr)
				break;
			if (op & 8) {
				s.take = (port >> 2) == 0 ? SIZE_MAX : (size_t)(port >> 2) * 64;
				s.space = s.take == SIZE_MAX ? NS_TCP_RCV_WND : s.take;
				ns_tcp_window_update(&s.t, c);
			} else {
				ns_tcp_abort(&s.t, c);
			}
			break;
		}
		s.look_at_sent();
		if (!ok)
			break;
	}
	return 0;
}
