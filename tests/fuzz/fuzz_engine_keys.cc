// The engine after the keys change. A real handshake with libssl (memory
// BIOs, tests/hsk_test_peer.h) brings a connection to the chosen point;
// then the input is a list of records that the harness protects with the
// client's current keys, so the fuzzer reaches what only protected
// records reach: the TLS 1.2 client Finished, the TLS 1.3 client
// Certificate/CertificateVerify/Finished, and after the handshake
// application data, alerts, KeyUpdate, NewSessionTicket/renegotiation
// attempts, records too long or wrongly padded.
//
// The client's keys are taken from the engine's own read direction (the
// keys it expects the client to use, kept by its key schedule) and
// installed in a sealing rec_dir before every record: deterministic, and
// it follows the engine through ChangeCipherSpec and KeyUpdate without a
// second key schedule in the harness. Key-schedule mistakes are not this
// harness's concern: the unit tests check the keys against libssl.
//
// Input:
//   byte 0: bit 0 TLS 1.3 (else 1.2); bits 1-2 cipher family; bit 3 stop
//           after the ClientHello (the client's second flight comes from
//           the input) instead of after the whole handshake; bit 4 the
//           client has a certificate; bit 5 the listener asks for one;
//           bit 6 (TLS 1.2) no encrypt-then-MAC and no extended master secret;
//           bit 7 the client reads nothing (the server's output piles up).
//   then records: ctl, length (2 bytes), body.
//     ctl bits 0-1: content type handshake, application_data, alert,
//     change_cipher_spec; bit 2 (TLS 1.3): the body is the whole
//     TLSInnerPlaintext (content, type byte, zero padding); bit 3: raw
//     bytes, not sealed; bit 4: flip a bit of the sealed record; bits
//     5-6: delivery in whole, 1, 3 or 64-byte pieces; bit 7: then the
//     server writes as many bytes of application data as the body has,
//     times 16 (a response).
#include <vector>

#include "fuzz_engine.h"

extern "C" {
#include "rec_layer.h"
}

namespace {

const char *const kSuites12[4] = { "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
				   "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA" };
const char *const kSuites13[4] = { "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
				   "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256" };

SSL_CTX *
client(uint8_t cfg)
{
	static SSL_CTX *ctxs[128];
	uint8_t key = cfg & 0x57; // version, family, certificate, ETM/EMS
	if (ctxs[key] != nullptr)
		return ctxs[key];
	bool tls13 = cfg & 1;
	int family = (cfg >> 1) & 3;
	SSL_CTX *c = hsk_test::client_ctx(tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_min_proto_version(c, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr); // speed: the unit tests verify
	// ECDSA P-256 and X25519 only: the cheapest handshake per input (P-256
	// listed: in TLS 1.2 the certificate's curve must be, RFC 8422 5.1)
	if ((tls13 ? SSL_CTX_set_ciphersuites(c, kSuites13[family])
		   : SSL_CTX_set_cipher_list(c, kSuites12[family])) != 1 ||
	    SSL_CTX_set1_groups_list(c, "X25519:P-256") != 1 || SSL_CTX_set1_sigalgs_list(c, "ECDSA+SHA256") != 1)
		abort();
	if (!tls13 && (cfg & 0x40))
		SSL_CTX_set_options(c, SSL_OP_NO_ENCRYPT_THEN_MAC | SSL_OP_NO_EXTENDED_MASTER_SECRET);
	if (cfg & 0x10) {
		std::string base = hsk_test::cert_path("client");
		if (SSL_CTX_use_certificate_file(c, (base + ".crt").c_str(), SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c, (base + ".key").c_str(), SSL_FILETYPE_PEM) != 1)
			abort();
	}
	ctxs[key] = c;
	return c;
}

// Protect one record as the client would, with the keys the engine now
// expects from the client (plaintext before they change).
bool
seal(hsk_conn *c, uint8_t type, const uint8_t *pt, size_t len, std::vector<uint8_t> &out)
{
	const rec_dir &rd = c->rd;
	rec_dir m{};
	hsk_wr w;
	bool ok = true;

	out.resize(REC_HDR_LEN + len + REC_MAX_OVERHEAD);
	hsk_wr_init(&w, out.data(), out.size());
	if (rd.suite != nullptr) {
		ok = rec_dir_init(&m, rd.suite, rd.version, true, rd.etm, rd.key, rd.iv, rd.mac_key) == HSK_OK;
		m.seq = rd.seq;
	}
	ok = ok && rec_seal(&m, type, pt, len, &w) == HSK_OK;
	rec_dir_clear(&m);
	out.resize(ok ? w.len : 0);
	return ok;
}

// The server answers with n bytes, as respond mode does; what does not fit
// in the output buffer waits (with drain false it never leaves).
void
respond(hsk_test::Pair &p, size_t n, bool drain)
{
	static const std::vector<uint8_t> body(16 * 16384, 'r');
	size_t off = 0, taken;
	for (int i = 0; i < 64 && off < n; i++) {
		if (hsk_conn_app_write(p.conn, body.data() + off, n - off, &taken) != HSK_OK)
			return;
		off += taken;
		if (!drain && taken == 0)
			return;
		fuzz_engine::settle(p, drain);
	}
}

} // namespace

extern "C" int
LLVMFuzzerInitialize(int *, char ***)
{
	fuzz_engine::fixed_certs();
	(void)fuzz_engine::server(fuzz_engine::V_DEFAULT);
	(void)fuzz_engine::server(fuzz_engine::V_OLD_AUTH);
	return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t kTypes[4] = { REC_HANDSHAKE, REC_APPLICATION_DATA, REC_ALERT,
					   REC_CHANGE_CIPHER_SPEC };
	static const size_t kChunks[4] = { SIZE_MAX, 1, 3, 64 };

	if (size < 1)
		return 0;
	uint8_t cfg = data[0];
	bool tls13 = cfg & 1;
	// The SHA-1 CBC family is offered by the "old" listener only.
	bool ask_cert = (cfg & 0x20) || (!tls13 && ((cfg >> 1) & 3) == 3);
	hsk_test::Pair p(fuzz_engine::server(ask_cert ? fuzz_engine::V_OLD_AUTH : fuzz_engine::V_DEFAULT),
			 client(cfg));
	if (cfg & 0x08) {
		// Only the ClientHello: the input plays the rest of the client.
		SSL_do_handshake(p.ssl);
		std::vector<uint8_t> hello(16384);
		int n = BIO_read(p.from_client, hello.data(), (int)hello.size());
		if (n <= 0 || !fuzz_engine::feed(p, hello.data(), (size_t)n, SIZE_MAX)) {
			fuzz_engine::finish(p);
			return 0;
		}
	} else if (!p.handshake()) {
		// A configuration that cannot complete wastes the input:
		// FUZZ_DEBUG=1 says which.
		if (getenv("FUZZ_DEBUG") != nullptr)
			fprintf(stderr, "fuzz_engine_keys: handshake failed: config %02x error %x client alert %d\n",
				cfg, p.server_err, p.client_alert);
		fuzz_engine::finish(p);
		return 0;
	}
	bool drain = !(cfg & 0x80);
	fuzz_engine::settle(p);

	const uint8_t *d = data + 1;
	size_t n = size - 1;
	std::vector<uint8_t> wire;
	while (n >= 3 && p.server_err == HSK_OK) {
		uint8_t ctl = d[0];
		size_t len = std::min((size_t)(d[1] << 8 | d[2]) % (REC_MAX_PLAIN + 1), n - 3);
		const uint8_t *body = d + 3;
		d += 3 + len;
		n -= 3 + len;
		if (ctl & 0x08) {
			wire.assign(body, body + len);
		} else if ((ctl & 0x04) && p.conn->rd.suite != nullptr && p.conn->rd.version == 0x0304 &&
			   len > 0) {
			// rec_seal appends the type byte: the body's last byte
			// plays it, so padding and the type are the input's.
			if (!seal(p.conn, body[len - 1], body, len - 1, wire))
				break;
		} else if (!seal(p.conn, kTypes[ctl & 3], body, len, wire)) {
			break;
		}
		if ((ctl & 0x10) && wire.size() > REC_HDR_LEN)
			wire[REC_HDR_LEN + (len ^ ctl) % (wire.size() - REC_HDR_LEN)] ^= 0x01;
		fuzz_engine::feed(p, wire.data(), wire.size(), kChunks[(ctl >> 5) & 3], drain);
		if ((ctl & 0x80) && p.server_err == HSK_OK && hsk_conn_established(p.conn))
			respond(p, len * 16, drain);
	}
	fuzz_engine::finish(p);
	return 0;
}
