// Shared by the engine harnesses (fuzz_engine.cc, fuzz_engine_keys.cc):
// the listener contexts they serve from, and one connection of the engine
// driven the way a dataplane drives it (feed bytes, run the executor's
// jobs, send what the engine shows, read application data), reusing the
// in-memory libssl pairing of the unit tests (tests/hsk_test_peer.h).
#ifndef FUZZ_ENGINE_H
#define FUZZ_ENGINE_H

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "hsk_test_peer.h"

extern "C" {
#include "hsk_conn_priv.h"
}

namespace fuzz_engine {

// Listener variants a harness input chooses from (its first byte): each
// reaches a different part of the engine.
enum Variant {
	V_DEFAULT = 0,      // the shipped defaults
	V_OLD_AUTH = 1,     // "old" suites (SHA-1 CBC, static RSA), optional client certificates
	V_TLS13_PSK = 2,    // TLS 1.3 only, psk_ke and psk_dhe_ke, required client certificates
	V_TLS12_AUTH = 3,   // TLS 1.2 only, required client certificates
	V_COUNT = 4,
};

// The certificates of tests/fuzz/certs (gen-cert.sh, valid 825 days from
// 2026-12-04): the corpus's client certificates are signed by its CA, so
// they must be the same in fuzz_capture and in every fuzzing process.
inline void
fixed_certs()
{
	setenv("TLSO_TEST_CERT_DIR", TLSO_SOURCE_DIR "/tests/fuzz/certs", 0);
}

inline hsk_test::Server *
make_server(int v)
{
	auto *s = new hsk_test::Server();
	char err[256];
	int rc = 0;
	switch (v) {
	case V_OLD_AUTH:
		rc = hsk_ctx_set_suites(&s->ctx, "old", err, sizeof(err));
		rc |= hsk_ctx_set_client_auth(&s->ctx, HSK_CLIENT_AUTH_OPTIONAL,
					      hsk_test::cert_path("ca.crt").c_str(), err, sizeof(err));
		break;
	case V_TLS13_PSK:
		s->ctx.version_min = 0x0304;
		s->ctx.psk_modes = HSK_PSK_KE | HSK_PSK_DHE_KE;
		rc = hsk_ctx_set_client_auth(&s->ctx, HSK_CLIENT_AUTH_REQUIRE,
					     hsk_test::cert_path("ca.crt").c_str(), err, sizeof(err));
		break;
	case V_TLS12_AUTH:
		s->ctx.version_max = 0x0303;
		rc = hsk_ctx_set_client_auth(&s->ctx, HSK_CLIENT_AUTH_REQUIRE,
					     hsk_test::cert_path("ca.crt").c_str(), err, sizeof(err));
		break;
	default:
		break;
	}
	if (rc != 0) {
		fprintf(stderr, "fuzz: listener variant %d: %s\n", v, err);
		abort();
	}
	return s;
}

// The listeners, made once per process (certificates from gen-cert.sh).
inline hsk_test::Server &
server(int v)
{
	static hsk_test::Server *s[V_COUNT];
	fixed_certs();
	if (s[v] == nullptr)
		s[v] = make_server(v);
	return *s[v];
}

// Drop what the engine wants to send: no peer reads it.
inline void
discard_output(hsk_test::Pair &p)
{
	const uint8_t *o;
	size_t n = hsk_conn_out(p.conn, &o);
	hsk_conn_out_done(p.conn, n);
}

// Liveness: once no crypto job is pending, no complete handshake message
// may wait in the reassembly buffer (it would wait for a record the client
// has no reason to send: the connection stalls until its timeout).
inline void
check_live(const hsk_test::Pair &p)
{
	const hsk_conn *c = p.conn;
	if (c->err != HSK_OK || c->job_pending || c->hs_len < 4)
		return;
	size_t mlen = (size_t)c->hs[1] << 16 | (size_t)c->hs[2] << 8 | c->hs[3];
	if (c->hs_len - 4 >= mlen) {
		fprintf(stderr, "fuzz: a complete handshake message (type %u) waits with no job pending\n", c->hs[0]);
		abort();
	}
}

// Run the connection's queued crypto jobs (a resumed state may queue the
// next one), as the worker does at the end of each poll iteration. With
// drain false the peer reads nothing and the output accumulates.
inline void
settle(hsk_test::Pair &p, bool drain = true)
{
	acc_exec *ex = p.srv.exec[p.worker];
	for (int i = 0; i < 8 && acc_exec_pending(ex) > 0; i++)
		acc_exec_flush(ex, hsk_test::Pair::on_done, &p);
	p.server_app.clear();
	if (drain)
		discard_output(p);
	check_live(p);
}

// Feed d[0..n) in pieces of at most chunk bytes, as TCP may deliver them.
// False once the engine failed or closed.
inline bool
feed(hsk_test::Pair &p, const uint8_t *d, size_t n, size_t chunk, bool drain = true)
{
	size_t off = 0;
	for (int guard = 0; off < n && guard < 200000; guard++) {
		if (p.server_err != HSK_OK)
			return false;
		size_t len = std::min(chunk, n - off);
		hsk_err e = hsk_conn_recv(p.conn, d + off, &len);
		off += len;
		p.note(e);
		settle(p, drain);
		// Taking nothing without a job to wait for: blocked for good.
		if (len == 0 && !hsk_conn_crypto_pending(p.conn))
			break;
	}
	return p.server_err == HSK_OK;
}

// Before the pair goes away: no job may still point at the connection.
inline void
finish(hsk_test::Pair &p)
{
	settle(p);
	if (hsk_conn_crypto_pending(p.conn)) {
		fprintf(stderr, "fuzz: a crypto job is still pending after the executor's flushes\n");
		abort();
	}
}

} // namespace fuzz_engine

#endif
