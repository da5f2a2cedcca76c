// Writes the seed corpora of tests/fuzz/corpus/: the bytes real libssl
// clients send to the engine (in-memory handshakes, tests/hsk_test_peer.h)
// in each harness's input format, plus small hand-made seeds where no
// client exists (HTTP requests, TCP segments, record plaintexts).
//   fuzz_capture OUTDIR      (OUTDIR/<target>/<name>)
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_engine.h"

namespace {

using Bytes = std::vector<uint8_t>;
std::string out_dir;

void
put(const std::string &target, const std::string &name, const Bytes &b)
{
	std::string dir = out_dir + "/" + target;
	mkdir(out_dir.c_str(), 0755);
	mkdir(dir.c_str(), 0755);
	FILE *f = fopen((dir + "/" + name).c_str(), "wb");
	if (f == nullptr || fwrite(b.data(), 1, b.size(), f) != b.size() || fclose(f) != 0) {
		perror(name.c_str());
		exit(1);
	}
}

Bytes
cat(std::initializer_list<Bytes> parts)
{
	Bytes r;
	for (const Bytes &p : parts)
		r.insert(r.end(), p.begin(), p.end());
	return r;
}

Bytes
str(const std::string &s)
{
	return Bytes(s.begin(), s.end());
}

// What a client sends, captured through the pair's tamper hook.
struct Capture {
	Bytes bytes;
	static void
	hook(std::string &chunk, void *arg)
	{
		auto *c = static_cast<Capture *>(arg);
		c->bytes.insert(c->bytes.end(), chunk.begin(), chunk.end());
	}
};

struct ClientCase {
	const char *name;
	int variant;      // fuzz_engine::Variant
	int max_version;
	const char *ciphers;  // TLS 1.2 list (or nullptr)
	const char *groups;
	bool client_cert;
};

// One handshake (plus a request and close_notify); the client's whole stream.
Bytes
client_stream(const ClientCase &k, Bytes *first_flight)
{
	SSL_CTX *c = hsk_test::client_ctx(k.max_version);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
	if (k.ciphers != nullptr && SSL_CTX_set_cipher_list(c, k.ciphers) != 1)
		abort();
	if (k.groups != nullptr && SSL_CTX_set1_groups_list(c, k.groups) != 1)
		abort();
	if (k.client_cert) {
		std::string base = hsk_test::cert_path("client");
		SSL_CTX_use_certificate_file(c, (base + ".crt").c_str(), SSL_FILETYPE_PEM);
		SSL_CTX_use_PrivateKey_file(c, (base + ".key").c_str(), SSL_FILETYPE_PEM);
	}
	Capture cap;
	{
		hsk_test::Pair p(fuzz_engine::server(k.variant), c);
		p.tamper = Capture::hook;
		p.tamper_arg = &cap;
		SSL_do_handshake(p.ssl);
		p.pump(1);
		*first_flight = cap.bytes;
		if (!p.handshake()) {
			fprintf(stderr, "capture %s: handshake failed (%x)\n", k.name, p.server_err);
			exit(1);
		}
		p.client_to_server("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
		SSL_shutdown(p.ssl);
		p.pump();
	}
	SSL_CTX_free(c);
	return cap.bytes;
}

// The engine's and the ClientHello decoder's seeds.
void
engine_seeds()
{
	static const ClientCase cases[] = {
		{ "tls13", fuzz_engine::V_DEFAULT, TLS1_3_VERSION, nullptr, nullptr, false },
		{ "tls13_hrr", fuzz_engine::V_DEFAULT, TLS1_3_VERSION, nullptr, "ffdhe2048:P-384", false },
		{ "tls13_cert", fuzz_engine::V_TLS13_PSK, TLS1_3_VERSION, nullptr, nullptr, true },
		{ "tls12_ecdhe_gcm", fuzz_engine::V_DEFAULT, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", nullptr, false },
		{ "tls12_ecdhe_cbc", fuzz_engine::V_DEFAULT, TLS1_2_VERSION, "ECDHE-RSA-AES256-SHA384", "P-256", false },
		{ "tls12_dhe", fuzz_engine::V_DEFAULT, TLS1_2_VERSION, "DHE-RSA-AES128-GCM-SHA256", nullptr, false },
		{ "tls12_rsa_sha1", fuzz_engine::V_OLD_AUTH, TLS1_2_VERSION, "AES128-SHA", nullptr, false },
		{ "tls12_cert", fuzz_engine::V_TLS12_AUTH, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", nullptr, true },
	};
	for (const ClientCase &k : cases) {
		Bytes first;
		Bytes all = client_stream(k, &first);
		Bytes sel = { (uint8_t)k.variant };
		put("engine", k.name, cat({ sel, all }));
		// the first flight alone, delivered a byte at a time
		put("engine", std::string(k.name) + "_hello_bytewise", cat({ { (uint8_t)(k.variant | 4) }, first }));
		// the ClientHello body: after the record and handshake headers
		// (libssl's hellos fit one record)
		if (first.size() > 9 && first[0] == 22 && first[5] == 1)
			put("client_hello", k.name, cat({ sel, Bytes(first.begin() + 9, first.end()) }));
	}
}

// engine_keys: a configuration byte, then records (ctl, length, body).
Bytes
rec(uint8_t ctl, const Bytes &body)
{
	Bytes r = { ctl, (uint8_t)(body.size() >> 8), (uint8_t)body.size() };
	r.insert(r.end(), body.begin(), body.end());
	return r;
}

Bytes
hs(uint8_t type, const Bytes &body)
{
	Bytes m = { type, (uint8_t)(body.size() >> 16), (uint8_t)(body.size() >> 8), (uint8_t)body.size() };
	m.insert(m.end(), body.begin(), body.end());
	return m;
}

void
engine_keys_seeds()
{
	const Bytes get = str("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
	const Bytes close_notify = { 1, 0 };
	const Bytes key_update = hs(24, { 1 });
	const Bytes finished32(32, 0x5a), finished12(12, 0x5a);
	Bytes hello13, hello12;
	client_stream({ "", 0, TLS1_3_VERSION, nullptr, nullptr, false }, &hello13);
	client_stream({ "", 0, TLS1_2_VERSION, nullptr, nullptr, false }, &hello12);
	Bytes hello12_msg(hello12.begin() + 5, hello12.end());

	for (uint8_t fam = 0; fam < 4; fam++) {
		uint8_t f = (uint8_t)(fam << 1);
		std::string n = std::to_string(fam);
		// after the handshake
		put("engine_keys", "tls13_app_" + n, cat({ { (uint8_t)(1 | f) }, rec(1, get), rec(0, key_update), rec(1, get), rec(2, close_notify) }));
		put("engine_keys", "tls12_app_" + n, cat({ { f }, rec(1, get), rec(0, hello12_msg), rec(1, get), rec(2, close_notify) }));
		// the client's second flight from the input
		put("engine_keys", "tls13_finished_" + n, cat({ { (uint8_t)(1 | f | 8) }, rec(3, { 1 }), rec(0, hs(20, finished32)), rec(1, get) }));
		Bytes cke = hs(16, cat({ { 32 }, Bytes(32, 9) }));
		put("engine_keys", "tls12_second_flight_" + n, cat({ { (uint8_t)(f | 8) }, rec(0, cke), rec(3, { 1 }), rec(0, hs(20, finished12)) }));
	}
	// client certificates asked for: an empty Certificate, then Finished
	put("engine_keys", "tls13_empty_cert", cat({ { 1 | 8 | 0x20 }, rec(0, hs(11, { 0, 0, 0, 0 })), rec(0, hs(20, finished32)) }));
	put("engine_keys", "tls12_empty_cert", cat({ { 8 | 0x20 }, rec(0, hs(11, { 0, 0, 0 })), rec(0, hs(16, cat({ { 32 }, Bytes(32, 9) }))) }));
	// TLS 1.3 padding, an empty inner plaintext, a record split bytewise
	put("engine_keys", "tls13_padding", cat({ { 1 }, rec(4, cat({ get, { 23, 0, 0, 0 } })), rec(4, { 0, 0 }), rec(0x21, get) }));
	// the server responds (ctl bit 7), to a client that reads or not (config bit 7)
	put("engine_keys", "tls13_respond", cat({ { 1 }, rec(0x81, get), rec(0, key_update), rec(0x81, get) }));
	put("engine_keys", "tls12_respond_unread", cat({ { 0x80 }, rec(0x81, get), rec(0x81, get), rec(0x81, get) }));
	put("engine_keys", "tls13_keyupdate_split", cat({ { 1 }, rec(0, { 24, 0 }), rec(1, get), rec(0, { 0, 1, 1 }) }));
	(void)hello13;
}

void
rec_seeds()
{
	const Bytes get = str("GET / HTTP/1.1\r\n\r\n");
	for (uint8_t fam = 0; fam < 12; fam++) {
		std::string n = std::to_string(fam);
		put("rec", "roundtrip_" + n, cat({ { fam, 1 }, rec(1, get), rec(0, hs(20, Bytes(12, 1))), rec(2, { 1, 0 }) }));
		put("rec", "tamper_" + n, cat({ { fam, 2 }, rec(1, get), { 0, 7 } }));
		// a header and a too-short fragment, as from the wire
		put("rec", "wire_" + n, cat({ { fam, 0 }, { 23, 3, 3, 0, 20 }, Bytes(20, 0), { 22, 3, 3, 0, 1, 0 } }));
	}
}

void
http_seeds()
{
	put("http", "get", cat({ { 0 }, str("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n") }));
	put("http", "pipelined_split", cat({ { 7 }, str("GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") }));
	put("http", "post_body", cat({ { 0 }, str("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n") }));
	put("http", "bare_lf_close", cat({ { 3 }, str("GET / HTTP/1.1\nConnection: close\n\n") }));
	put("http", "not_http", cat({ { 0 }, str("\x16\x03\x01\x00\x05hello") }));
}

// ns_tcp: handshake, data, FIN from the peer, a timer tick.
void
tcp_seeds()
{
	auto seg = [](uint8_t flags, uint8_t port, int16_t seq, int16_t ack, const Bytes &opts, const Bytes &data) {
		Bytes s = { 0, flags, port, (uint8_t)((uint16_t)seq >> 8), (uint8_t)seq, (uint8_t)((uint16_t)ack >> 8),
			    (uint8_t)ack, 0xff, 0xff, (uint8_t)opts.size() };
		s.insert(s.end(), opts.begin(), opts.end());
		s.push_back((uint8_t)(data.size() >> 8));
		s.push_back((uint8_t)data.size());
		s.insert(s.end(), data.begin(), data.end());
		return s;
	};
	const Bytes mss_ws = { 2, 4, 5, 0xb4, 1, 3, 3, 7 };
	const Bytes syn = seg(2, 0, 0, 0, mss_ws, {}), ack = seg(16, 0, 1, 1, {}, {});
	const Bytes data = seg(16 | 8, 0, 1, 1, {}, str("hello")), fin = seg(16 | 1, 0, 6, 1, {}, {});
	put("ns_tcp", "open_data_fin", cat({ syn, ack, data, { 4, 0, 100 }, fin, { 4, 0x10, 0 } }));
	put("ns_tcp", "server_close", cat({ syn, ack, data, { 6, 0, 0x10, 0 }, { 5, 0 }, { 4, 0x7f, 0xff } }));
	put("ns_tcp", "syn_flood", cat({ syn, seg(2, 1, 0, 0, {}, {}), seg(2, 2, 0, 0, {}, {}), seg(2, 3, 0, 0, {}, {}), seg(16, 3, 1, 1, {}, {}) }));
	put("ns_tcp", "out_of_order", cat({ syn, ack, seg(16, 0, 6, 1, {}, str("world")), data, { 7 | 8, 4 } }));
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	fuzz_engine::fixed_certs();
	engine_seeds();
	engine_keys_seeds();
	rec_seeds();
	http_seeds();
	tcp_seeds();
	return 0;
}
