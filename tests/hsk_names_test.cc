// Certificate selection by server name: name rules (RFC 6125 6.4.3
// wildcards, case, what is a name), the lookup table, the default, the
// choice of RSA or ECDSA within a name by the client's signature
// algorithms and suites (TLS 1.2 and 1.3), and resumption bound to the
// name (RFC 6066 3).
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_names.h"
#include "hsk_test_peer.h"

namespace {

using hsk_test::cert_path;
using hsk_test::Pair;
using hsk_test::Server;

struct CtxFree {
	void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

bool
valid(const char *n)
{
	return hsk_name_valid(n, strlen(n));
}

bool
match(const char *pattern, const char *host)
{
	return hsk_name_match(pattern, (const uint8_t *)host, strlen(host));
}

uint32_t
select(const hsk_ctx &ctx, const char *host)
{
	return hsk_names_select(&ctx, (const uint8_t *)host, host ? strlen(host) : 0, host != nullptr);
}

// Add the test RSA ("rsa") or ECDSA ("ecdsa") certificate for names.
void
add(hsk_ctx *ctx, const char *which, std::vector<const char *> names)
{
	char err[256];
	hsk_cert_opts o = {};
	o.names = names.data();
	o.n_names = names.size();
	std::string crt = cert_path((std::string(which) + ".crt").c_str());
	std::string key = cert_path((std::string(which) + ".key").c_str());
	ASSERT_EQ(hsk_ctx_add_cert_ex(ctx, crt.c_str(), key.c_str(), &o, err, sizeof(err)), 0) << err;
}

// Certificates 0/1: localhost RSA/ECDSA (the default); 2/3: a.example.com
// RSA/ECDSA; 4: *.w.example.com ECDSA; 5: B.Example.COM RSA.
void
named_certs(hsk_ctx *ctx)
{
	add(ctx, "rsa", {"localhost"});
	add(ctx, "ecdsa", {"localhost"});
	add(ctx, "rsa", {"a.example.com"});
	add(ctx, "ecdsa", {"a.example.com"});
	add(ctx, "ecdsa", {"*.w.example.com"});
	add(ctx, "rsa", {"B.Example.COM"});
}

TEST(HskNames, WhatIsAName)
{
	EXPECT_TRUE(valid("example.com"));
	EXPECT_TRUE(valid("localhost"));
	EXPECT_TRUE(valid("xn--bcher-kva.example"));
	EXPECT_TRUE(valid("*.example.com"));
	EXPECT_FALSE(valid(""));
	EXPECT_FALSE(valid("*.com"));           // a wildcard over a public suffix
	EXPECT_FALSE(valid("*"));
	EXPECT_FALSE(valid("f*.example.com"));  // partial wildcards are not selected by
	EXPECT_FALSE(valid("a.*.example.com"));
	EXPECT_FALSE(valid("a..example.com"));  // empty label
	EXPECT_FALSE(valid(".example.com"));
	EXPECT_FALSE(valid("example.com."));
	EXPECT_FALSE(valid("exa mple.com"));
	EXPECT_FALSE(valid(std::string(64, 'a').append(".com").c_str())); // label over 63
	std::string long_name;
	for (int i = 0; i < 64; i++)
		long_name += "abc.";
	long_name += "com"; // 259 bytes
	EXPECT_FALSE(valid(long_name.c_str()));
}

TEST(HskNames, ExactMatchIgnoresCase)
{
	EXPECT_TRUE(match("example.com", "example.com"));
	EXPECT_TRUE(match("example.com", "EXAMPLE.Com"));
	EXPECT_FALSE(match("example.com", "example.co"));
	EXPECT_FALSE(match("example.com", "www.example.com"));
	EXPECT_FALSE(match("example.com", ""));
}

TEST(HskNames, WildcardIsExactlyOneLabel)
{
	// RFC 6125 6.4.3
	EXPECT_TRUE(match("*.example.com", "a.example.com"));
	EXPECT_TRUE(match("*.example.com", "WWW.EXAMPLE.COM"));
	EXPECT_FALSE(match("*.example.com", "example.com"));
	EXPECT_FALSE(match("*.example.com", "a.b.example.com"));
	EXPECT_FALSE(match("*.example.com", ".example.com"));
	EXPECT_FALSE(match("*.example.com", "a.example.org"));
}

TEST(HskNames, LookupByNameThenWildcardThenDefault)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	named_certs(&ctx);
	ASSERT_EQ(ctx.n_certs, 6u);
	EXPECT_EQ(select(ctx, "a.example.com"), 0x0cu);
	EXPECT_EQ(select(ctx, "A.Example.Com"), 0x0cu);
	EXPECT_EQ(select(ctx, "b.example.com"), 0x20u);    // stored lowered
	EXPECT_EQ(select(ctx, "x.w.example.com"), 0x10u);  // the wildcard
	EXPECT_EQ(select(ctx, "X.W.EXAMPLE.COM"), 0x10u);
	// the default: the first certificate's name, RSA and ECDSA
	EXPECT_EQ(ctx.default_certs, 0x03u);
	EXPECT_EQ(select(ctx, nullptr), 0x03u);            // no SNI
	EXPECT_EQ(select(ctx, "unknown.example.com"), 0x03u);
	EXPECT_EQ(select(ctx, "w.example.com"), 0x03u);    // not the wildcard's
	EXPECT_EQ(select(ctx, "a.b.w.example.com"), 0x03u);
	EXPECT_EQ(select(ctx, "*.w.example.com"), 0x03u);  // a '*' sent is no name
	EXPECT_EQ(select(ctx, ".w.example.com"), 0x03u);
	EXPECT_EQ(select(ctx, "a.example.com."), 0x03u);
	EXPECT_EQ(hsk_names_select(&ctx, (const uint8_t *)"a.example.com\0x", 15, true), 0x03u);
	hsk_ctx_free(&ctx);
}

TEST(HskNames, NamesFromSubjectAltNameByDefault)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	add(&ctx, "rsa", {});
	add(&ctx, "ecdsa", {});
	// gen-cert.sh: DNS:localhost, IP:127.0.0.1, IP:::1 (addresses are no names)
	ASSERT_EQ(ctx.n_names, 1u);
	EXPECT_STREQ(ctx.names[0].name, "localhost");
	EXPECT_EQ(ctx.names[0].certs, 0x03u);
	EXPECT_EQ(select(ctx, "LOCALHOST"), 0x03u);
	EXPECT_EQ(select(ctx, nullptr), 0x03u);
	hsk_ctx_free(&ctx);
}

TEST(HskNames, NoNameTableOffersEveryCertificate)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	ctx.n_certs = 3; // certificates filled in by hand (no names added)
	EXPECT_EQ(select(ctx, "anything"), 0x07u);
	ctx.n_certs = 0;
	hsk_ctx_free(&ctx);
}

TEST(HskNames, BadExplicitNameRefused)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	char err[256];
	const char *names[] = { "f*.example.com" };
	hsk_cert_opts o = {};
	o.names = names;
	o.n_names = 1;
	EXPECT_EQ(hsk_ctx_add_cert_ex(&ctx, cert_path("rsa.crt").c_str(), cert_path("rsa.key").c_str(), &o, err,
				      sizeof(err)),
		  -1);
	EXPECT_NE(std::string(err).find("f*.example.com"), std::string::npos) << err;
	EXPECT_EQ(ctx.n_certs, 0u);
	// a good name before the bad one leaves nothing behind either
	const char *two[] = { "good.example.com", "bad..example.com" };
	o.names = two;
	o.n_names = 2;
	EXPECT_EQ(hsk_ctx_add_cert_ex(&ctx, cert_path("rsa.crt").c_str(), cert_path("rsa.key").c_str(), &o, err,
				      sizeof(err)),
		  -1);
	EXPECT_EQ(ctx.n_names, 0u);
	add(&ctx, "ecdsa", {});
	EXPECT_EQ(select(ctx, "good.example.com"), 0x01u); // the default, not a ghost entry
	ASSERT_EQ(ctx.n_names, 1u);
	EXPECT_STREQ(ctx.names[0].name, "localhost");
	hsk_ctx_free(&ctx);
}

TEST(HskNames, ResumableForTheSameNameOrNone)
{
	EXPECT_TRUE(hsk_names_resumable(7, 7));
	EXPECT_TRUE(hsk_names_resumable(7, 0));
	EXPECT_TRUE(hsk_names_resumable(0, 0));
	EXPECT_FALSE(hsk_names_resumable(7, 8));
	EXPECT_FALSE(hsk_names_resumable(0, 8));
}

TEST(HskNames, DigestFoldsCase)
{
	const uint8_t *a = (const uint8_t *)"a.example.com", *b = (const uint8_t *)"A.EXAMPLE.COM";
	EXPECT_EQ(hsk_names_digest(a, 13, true), hsk_names_digest(b, 13, true));
	EXPECT_NE(hsk_names_digest(a, 13, true), hsk_names_digest((const uint8_t *)"b.example.com", 13, true));
	EXPECT_EQ(hsk_names_digest(nullptr, 0, false), 0u);
	EXPECT_NE(hsk_names_digest(a, 0, true), 0u); // an empty name is still a name
}

// ---- whole handshakes: the name, then the key type ----

CtxPtr
client12(const char *ciphers, const char *sigalgs)
{
	SSL_CTX *c = hsk_test::client_ctx(TLS1_2_VERSION);
	if (ciphers != nullptr) {
		EXPECT_EQ(SSL_CTX_set_cipher_list(c, ciphers), 1);
	}
	if (sigalgs != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_sigalgs_list(c, sigalgs), 1);
	}
	return CtxPtr(c);
}

CtxPtr
client13(const char *sigalgs)
{
	SSL_CTX *c = hsk_test::client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	if (sigalgs != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_sigalgs_list(c, sigalgs), 1);
	}
	return CtxPtr(c);
}

// The certificate index the server sent for name (nullptr: no SNI); -1
// when the handshake failed.
int
served(Server &s, SSL_CTX *c, const char *name)
{
	Pair p(s, c);
	SSL_set_tlsext_host_name(p.ssl, name); // nullptr clears it
	if (!p.handshake())
		return -1;
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	return info.resumed ? -2 : info.cert;
}

struct NamedServer : Server {
	NamedServer() : Server(false, false) { named_certs(&ctx); }
};

TEST(HskNamesHandshake, Tls12ByNameThenSignatureAlgorithms)
{
	NamedServer s;
	auto any = client12(nullptr, nullptr);
	auto rsa_sig = client12(nullptr, "rsa_pss_rsae_sha256:RSA+SHA256");
	auto rsa_suite = client12("ECDHE-RSA-AES128-GCM-SHA256", nullptr);
	auto ec_suite = client12("ECDHE-ECDSA-AES128-GCM-SHA256", nullptr);
	EXPECT_EQ(served(s, any.get(), "a.example.com"), 3);       // ECDSA preferred
	EXPECT_EQ(served(s, rsa_sig.get(), "a.example.com"), 2);   // RSA signatures only
	EXPECT_EQ(served(s, rsa_suite.get(), "a.example.com"), 2); // RSA suites only
	EXPECT_EQ(served(s, ec_suite.get(), "a.example.com"), 3);
	EXPECT_EQ(served(s, any.get(), "x.w.example.com"), 4);
	EXPECT_EQ(served(s, any.get(), "b.example.com"), 5);       // RSA is all it has
	EXPECT_EQ(served(s, any.get(), "localhost"), 1);
	EXPECT_EQ(served(s, rsa_sig.get(), nullptr), 0);           // the default, RSA
	EXPECT_EQ(served(s, any.get(), "unknown.example"), 1);     // the default, ECDSA
	// a name with only ECDSA and a client with RSA suites only: refused,
	// never another name's certificate
	EXPECT_EQ(served(s, rsa_suite.get(), "x.w.example.com"), -1);
}

TEST(HskNamesHandshake, Tls13ByNameThenSignatureAlgorithms)
{
	NamedServer s;
	auto any = client13(nullptr);
	auto rsa = client13("rsa_pss_rsae_sha256");
	auto ec = client13("ECDSA+SHA256");
	EXPECT_EQ(served(s, any.get(), "a.example.com"), 3);
	EXPECT_EQ(served(s, rsa.get(), "a.example.com"), 2);
	EXPECT_EQ(served(s, ec.get(), "A.EXAMPLE.COM"), 3);
	EXPECT_EQ(served(s, any.get(), "x.w.example.com"), 4);
	EXPECT_EQ(served(s, rsa.get(), "x.w.example.com"), -1);
	EXPECT_EQ(served(s, rsa.get(), "b.example.com"), 5);
	EXPECT_EQ(served(s, ec.get(), "b.example.com"), -1);
	EXPECT_EQ(served(s, rsa.get(), nullptr), 0);
	EXPECT_EQ(served(s, ec.get(), "w.example.com"), 1);
}

// ---- resumption only for the name the session was made for ----

SSL_SESSION *
session_for(Server &s, SSL_CTX *c, const char *name)
{
	Pair p(s, c);
	SSL_set_tlsext_host_name(p.ssl, name);
	EXPECT_TRUE(p.handshake());
	// TLS 1.3 tickets arrive after the handshake: let the client read them
	EXPECT_EQ(p.server_to_client("x"), "x");
	SSL_shutdown(p.ssl); // libssl keeps only sessions shut down cleanly
	p.pump();
	return SSL_get1_session(p.ssl);
}

bool
resumed_for(Server &s, SSL_CTX *c, SSL_SESSION *sess, const char *name)
{
	Pair p(s, c);
	SSL_set_tlsext_host_name(p.ssl, name);
	SSL_set_session(p.ssl, sess);
	EXPECT_TRUE(p.handshake()) << name;
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.resumed, SSL_session_reused(p.ssl) == 1);
	SSL_shutdown(p.ssl); // else libssl drops the session for the next case
	p.pump();
	return info.resumed;
}

// The session-ID cache is direct-mapped (hsk_sess.c): each refused
// resumption is a full handshake that stores a new session, and one whose
// random id falls on the slot of ours (1 in 256 per handshake in this
// server's shard) replaces it. So the resumptions that must succeed come
// before the refusals (before, it failed here 6 times in 500 runs).
TEST(HskNamesResume, SessionIdAndTicketOnlyForTheSameName)
{
	NamedServer s;
	for (bool tickets : { false, true }) {
		auto c = client12(nullptr, nullptr);
		if (!tickets)
			SSL_CTX_set_options(c.get(), SSL_OP_NO_TICKET);
		SSL_SESSION *sess = session_for(s, c.get(), "a.example.com");
		ASSERT_NE(sess, nullptr);
		EXPECT_TRUE(resumed_for(s, c.get(), sess, "a.example.com")) << tickets;
		EXPECT_TRUE(resumed_for(s, c.get(), sess, "A.example.COM")) << tickets;
		// no name is no different name (RFC 6066 3)
		EXPECT_TRUE(resumed_for(s, c.get(), sess, nullptr)) << tickets;
		EXPECT_FALSE(resumed_for(s, c.get(), sess, "localhost")) << tickets;
		EXPECT_FALSE(resumed_for(s, c.get(), sess, "x.w.example.com")) << tickets;
		SSL_SESSION_free(sess);
		// made without a name: not resumed under one
		SSL_SESSION *anon = session_for(s, c.get(), nullptr);
		EXPECT_TRUE(resumed_for(s, c.get(), anon, nullptr)) << tickets;
		EXPECT_FALSE(resumed_for(s, c.get(), anon, "localhost")) << tickets;
		SSL_SESSION_free(anon);
	}
}

TEST(HskNamesResume, Tls13TicketOnlyForTheSameName)
{
	NamedServer s;
	auto c = client13(nullptr);
	SSL_SESSION *sess = session_for(s, c.get(), "a.example.com");
	ASSERT_NE(sess, nullptr);
	EXPECT_TRUE(resumed_for(s, c.get(), sess, "a.example.com"));
	EXPECT_FALSE(resumed_for(s, c.get(), sess, "x.w.example.com"));
	SSL_SESSION_free(sess);
}

} // namespace
