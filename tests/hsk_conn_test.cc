// The TLS 1.2 server engine driven in memory by OpenSSL's libssl as the
// client: suites, groups, signature schemes, EMS/ETM, resumption, client
// authentication, refusals and malformed input with the expected alerts.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "acc_ifma.h"
#include "hsk_err.h"
#include "hsk_prf.h"
#include "hsk_suite.h"
#include "hsk_test_peer.h"
#include "rec_layer.h"
#include "test_hex.h"

using hsk_test::Pair;
using hsk_test::Server;

namespace {

struct CtxDeleter {
	void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

CtxPtr
client(const char *ciphers = nullptr, const char *groups = nullptr, const char *sigalgs = nullptr)
{
	SSL_CTX *c = hsk_test::client_ctx();
	if (ciphers != nullptr) {
		EXPECT_EQ(SSL_CTX_set_cipher_list(c, ciphers), 1) << ciphers;
	}
	if (groups != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_groups_list(c, groups), 1) << groups;
	}
	if (sigalgs != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_sigalgs_list(c, sigalgs), 1) << sigalgs;
	}
	return CtxPtr(c);
}

void
enable_all_suites(Server &s)
{
	char err[128];
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "old", err, sizeof(err)), 0) << err;
}

// A full exchange: handshake, data both ways (several records), close_notify.
void
exchange(Pair &p)
{
	ASSERT_TRUE(p.handshake()) << "server_err=" << std::hex << p.server_err << " client_alert="
				   << std::dec << p.client_alert;
	EXPECT_EQ(p.client_to_server("GET / HTTP/1.1\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n");
	std::string big(100000, 'x');
	for (size_t i = 0; i < big.size(); i++)
		big[i] = (char)('a' + i % 26);
	EXPECT_EQ(p.server_to_client(big), big);
	std::string up(40000, 'u');
	EXPECT_EQ(p.client_to_server(up), up);
	// close_notify from the client: the engine answers with its own.
	SSL_shutdown(p.ssl);
	p.pump();
	EXPECT_TRUE(hsk_conn_peer_closed(p.conn));
	EXPECT_EQ(SSL_shutdown(p.ssl), 1);
}

struct SuiteCase {
	const char *name;
	uint16_t id;
};

// gtest would print the struct's bytes, padding included (valgrind:
// uninitialised values)
void
PrintTo(const SuiteCase &c, std::ostream *os)
{
	*os << c.name;
}

class HskConnSuite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(HskConnSuite, FullHandshakeAndData)
{
	Server s;
	enable_all_suites(s);
	auto c = client(GetParam().name);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.suite, GetParam().id);
	EXPECT_EQ(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p.ssl)), GetParam().id);
	EXPECT_TRUE(info.ems);
	EXPECT_EQ(s.w[0].handshakes_full, 1u);
}

INSTANTIATE_TEST_SUITE_P(
	AllSuites, HskConnSuite,
	::testing::Values(SuiteCase{ "ECDHE-ECDSA-AES128-GCM-SHA256", 0xc02b },
			  SuiteCase{ "ECDHE-RSA-AES128-GCM-SHA256", 0xc02f },
			  SuiteCase{ "ECDHE-ECDSA-AES256-GCM-SHA384", 0xc02c },
			  SuiteCase{ "ECDHE-RSA-AES256-GCM-SHA384", 0xc030 },
			  SuiteCase{ "ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9 },
			  SuiteCase{ "ECDHE-RSA-CHACHA20-POLY1305", 0xcca8 },
			  SuiteCase{ "ECDHE-ECDSA-AES128-SHA256", 0xc023 },
			  SuiteCase{ "ECDHE-RSA-AES128-SHA256", 0xc027 },
			  SuiteCase{ "ECDHE-ECDSA-AES256-SHA384", 0xc024 },
			  SuiteCase{ "ECDHE-RSA-AES256-SHA384", 0xc028 },
			  SuiteCase{ "ECDHE-RSA-AES128-SHA", 0xc013 },
			  SuiteCase{ "ECDHE-ECDSA-AES256-SHA", 0xc00a },
			  SuiteCase{ "DHE-RSA-AES128-GCM-SHA256", 0x009e },
			  SuiteCase{ "DHE-RSA-AES256-GCM-SHA384", 0x009f },
			  SuiteCase{ "AES128-GCM-SHA256", 0x009c },
			  SuiteCase{ "AES256-GCM-SHA384", 0x009d },
			  SuiteCase{ "AES128-SHA256", 0x003c }),
	[](const ::testing::TestParamInfo<SuiteCase> &i) {
		std::string n = i.param.name;
		for (auto &ch : n)
			if (ch == '-')
				ch = '_';
		return n;
	});

TEST(HskConn, CbcWithoutEncryptThenMac)
{
	Server s;
	auto c = client("ECDHE-RSA-AES128-SHA256");
	SSL_CTX_set_options(c.get(), SSL_OP_NO_ENCRYPT_THEN_MAC);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_FALSE(info.etm);
}

TEST(HskConn, CbcWithEncryptThenMac)
{
	Server s;
	auto c = client("ECDHE-ECDSA-AES256-SHA384");
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.etm);
}

TEST(HskConn, WithoutExtendedMasterSecret)
{
	Server s;
	auto c = client("ECDHE-RSA-AES128-GCM-SHA256");
	SSL_CTX_set_options(c.get(), SSL_OP_NO_EXTENDED_MASTER_SECRET);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_FALSE(info.ems);
}

class HskConnGroup : public ::testing::TestWithParam<std::pair<const char *, uint16_t>> {};

TEST_P(HskConnGroup, KeyExchange)
{
	Server s;
	bool dhe = GetParam().second >= 0x100;
	if (dhe) {
		// libssl lists no FFDHE group in a TLS 1.2 ClientHello: the
		// server's first FFDHE group is used (RFC 7919 4).
		uint16_t g = GetParam().second;
		char err[64];
		ASSERT_EQ(hsk_ctx_set_groups(&s.ctx, &g, 1, err, sizeof(err)), 0);
	}
	auto c = client(dhe ? "DHE-RSA-AES128-GCM-SHA256" : "ECDHE-RSA-AES128-GCM-SHA256", GetParam().first);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.group, GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(AllGroups, HskConnGroup,
			 ::testing::Values(std::make_pair("X25519", (uint16_t)0x1d),
					   std::make_pair("P-256", (uint16_t)0x17),
					   std::make_pair("P-384", (uint16_t)0x18),
					   std::make_pair("ffdhe2048", (uint16_t)0x100),
					   std::make_pair("ffdhe3072", (uint16_t)0x101)));

class HskConnSigalg : public ::testing::TestWithParam<std::pair<const char *, uint16_t>> {};

TEST_P(HskConnSigalg, ServerKeyExchangeSignature)
{
	Server s;
	auto c = client(nullptr, nullptr, GetParam().first);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.sigalg, GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(AllSigalgs, HskConnSigalg,
			 ::testing::Values(std::make_pair("rsa_pss_rsae_sha256", (uint16_t)0x0804),
					   std::make_pair("rsa_pss_rsae_sha384", (uint16_t)0x0805),
					   std::make_pair("rsa_pss_rsae_sha512", (uint16_t)0x0806),
					   std::make_pair("RSA+SHA256", (uint16_t)0x0401),
					   std::make_pair("RSA+SHA384", (uint16_t)0x0501),
					   std::make_pair("RSA+SHA512", (uint16_t)0x0601),
					   std::make_pair("ECDSA+SHA256", (uint16_t)0x0403)));

TEST(HskConn, EcdsaP384Certificate)
{
	// Server with only a P-384 key, generated here.
	std::string d = hsk_test::cert_dir();
	std::string cmd = "cd " + d + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 "
				      "-nodes -keyout p384.key -out p384.crt -days 30 -subj /CN=localhost "
				      ">/dev/null 2>&1";
	ASSERT_EQ(system(cmd.c_str()), 0);
	Server s(false, false);
	char err[256];
	ASSERT_EQ(hsk_ctx_add_cert(&s.ctx, (d + "/p384.crt").c_str(), (d + "/p384.key").c_str(), err,
				   sizeof(err)),
		  0)
		<< err;
	auto c = client();
	SSL_CTX_set_verify(c.get(), SSL_VERIFY_NONE, nullptr);
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.sigalg, 0x0503);
}

TEST(HskConn, StaticRsaRefusedByDefault)
{
	Server s;
	auto c = client("AES128-GCM-SHA256");
	Pair p(s, c.get());
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
	EXPECT_EQ(p.client_alert, HSK_AD_HANDSHAKE_FAILURE);
}

TEST(HskConn, ServerPreferenceOrder)
{
	Server s;
	// The client prefers CBC; the server's order puts AES-GCM first.
	auto c = client("ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.suite, 0xc02f);
}

TEST(HskConn, AlpnChosen)
{
	Server s;
	auto c = client();
	static const unsigned char protos[] = "\x02h2\x08http/1.1";
	SSL_CTX_set_alpn_protos(c.get(), protos, sizeof(protos) - 1);
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	const unsigned char *sel;
	unsigned int len;
	SSL_get0_alpn_selected(p.ssl, &sel, &len);
	EXPECT_EQ(std::string((const char *)sel, len), "http/1.1");
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_STREQ(info.alpn, "http/1.1");
	EXPECT_STREQ(info.sni, "localhost");
}

// ---- resumption ----

SSL_SESSION *
full_then_session(Server &s, SSL_CTX *c, unsigned worker)
{
	Pair p(s, c, worker);
	EXPECT_TRUE(p.handshake());
	// A clean close: libssl only resumes sessions that were shut down.
	SSL_shutdown(p.ssl);
	p.pump();
	return SSL_get1_session(p.ssl);
}

TEST(HskConnResume, SameWorker)
{
	Server s;
	auto c = client();
	SSL_SESSION *sess = full_then_session(s, c.get(), 0);
	Pair p(s, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	exchange(p);
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.resumed);
	EXPECT_EQ(s.w[0].handshakes_resumed, 1u);
	SSL_SESSION_free(sess);
}

TEST(HskConnResume, AcrossWorkers)
{
	Server s;
	auto c = client("ECDHE-ECDSA-CHACHA20-POLY1305");
	SSL_SESSION *sess = full_then_session(s, c.get(), 0);
	Pair p(s, c.get(), 3);
	SSL_set_session(p.ssl, sess);
	exchange(p);
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	EXPECT_EQ(s.w[3].handshakes_resumed, 1u);
	SSL_SESSION_free(sess);
}

TEST(HskConnResume, NotAcrossContexts)
{
	Server s1, s2;
	auto c = client();
	SSL_SESSION *sess = full_then_session(s1, c.get(), 0);
	// s2 has its own cache; give it s1's to prove the ctx id check.
	for (auto &w : s2.w)
		w.cache = s1.cache;
	Pair p(s2, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	for (auto &w : s2.w)
		w.cache = s2.cache;
	SSL_SESSION_free(sess);
}

TEST(HskConnResume, OffMeansFullHandshake)
{
	Server s;
	s.ctx.resumption = false;
	auto c = client();
	SSL_SESSION *sess = full_then_session(s, c.get(), 0);
	Pair p(s, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	SSL_SESSION_free(sess);
}

TEST(HskConnResume, ExpiredSession)
{
	Server s;
	auto c = client();
	SSL_SESSION *sess = full_then_session(s, c.get(), 0);
	s.w[0].now_s += s.ctx.session_lifetime_s + 1;
	Pair p(s, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	SSL_SESSION_free(sess);
}

// ---- client authentication ----

void
set_client_auth(Server &s, int mode)
{
	char err[256];
	ASSERT_EQ(hsk_ctx_set_client_auth(&s.ctx, mode, hsk_test::cert_path("ca.crt").c_str(), err,
					  sizeof(err)),
		  0)
		<< err;
}

void
use_client_cert(SSL_CTX *c, const char *name)
{
	std::string base = hsk_test::cert_path(name);
	ASSERT_EQ(SSL_CTX_use_certificate_file(c, (base + ".crt").c_str(), SSL_FILETYPE_PEM), 1);
	ASSERT_EQ(SSL_CTX_use_PrivateKey_file(c, (base + ".key").c_str(), SSL_FILETYPE_PEM), 1);
}

TEST(HskConnClientAuth, RequireWithCertificate)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client();
	use_client_cert(c.get(), "client");
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.client_cert);
	EXPECT_STREQ(info.client_cn, "tlsoffload test client");
}

TEST(HskConnClientAuth, RequireWithRsaPssClientKey)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client(nullptr, nullptr, "rsa_pss_rsae_sha256:ECDSA+SHA256");
	// The server's RSA leaf has no clientAuth usage; sign a client RSA cert.
	std::string d = hsk_test::cert_dir();
	std::string cmd = "cd " + d + " && [ -f rsaclient.crt ] || (openssl req -new -newkey rsa:2048 -nodes "
				      "-keyout rsaclient.key -out rsaclient.csr -subj /CN=rsaclient && "
				      "printf 'extendedKeyUsage=clientAuth\\n' > rc.ext && openssl x509 -req "
				      "-in rsaclient.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 "
				      "-extfile rc.ext -out rsaclient.crt) >/dev/null 2>&1";
	ASSERT_EQ(system(cmd.c_str()), 0);
	use_client_cert(c.get(), "rsaclient");
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.client_cert);
}

TEST(HskConnClientAuth, RequireWithoutCertificate)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client();
	Pair p(s, c.get());
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
	EXPECT_EQ(p.client_alert, HSK_AD_HANDSHAKE_FAILURE);
}

TEST(HskConnClientAuth, OptionalWithoutCertificate)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_OPTIONAL);
	auto c = client();
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_FALSE(info.client_cert);
}

// The client's second flight with its handshake messages packed into one
// record (Certificate, ClientKeyExchange, CertificateVerify), as RFC 5246
// 6.2.1 allows: the messages after the one that starts a crypto job wait
// in the reassembly buffer and must be handled when the job is done.
TEST(HskConnClientAuth, SecondFlightInOneRecord)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client("ECDHE-ECDSA-AES128-GCM-SHA256");
	use_client_cert(c.get(), "client");
	Pair p(s, c.get());
	int merged = 0;
	p.tamper = [](std::string &b, void *arg) {
		// the plaintext handshake records before ChangeCipherSpec
		// (not the ClientHello) become one record
		std::string out, body;
		size_t off = 0;
		bool ccs = false;
		while (off + 5 <= b.size()) {
			size_t len = (size_t)(uint8_t)b[off + 3] << 8 | (uint8_t)b[off + 4];
			if (off + 5 + len > b.size())
				break;
			ccs = ccs || b[off] == 20;
			if (b[off] == 22 && !ccs && b[off + 5] != 1) {
				body += b.substr(off + 5, len);
			} else {
				out += b.substr(off, 5 + len);
			}
			off += 5 + len;
		}
		if (body.size() > 0 && off == b.size()) {
			std::string hdr = { 22, 3, 3, (char)(body.size() >> 8), (char)body.size() };
			b = hdr + body + out;
			++*static_cast<int *>(arg);
		}
	};
	p.tamper_arg = &merged;
	exchange(p);
	EXPECT_EQ(merged, 1);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.client_cert);
}

TEST(HskConnClientAuth, UnknownCa)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_OPTIONAL);
	auto c = client();
	use_client_cert(c.get(), "rogue");
	Pair p(s, c.get());
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_UNKNOWN_CA));
	EXPECT_EQ(p.client_alert, HSK_AD_UNKNOWN_CA);
}

TEST(HskConnClientAuth, ResumptionKeepsClientCert)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client();
	use_client_cert(c.get(), "client");
	SSL_SESSION *sess = full_then_session(s, c.get(), 1);
	Pair p(s, c.get(), 2);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.client_cert);
	SSL_SESSION_free(sess);
}

// ---- refusals ----

class HskConnOldVersion : public ::testing::TestWithParam<int> {};

TEST_P(HskConnOldVersion, ProtocolVersionAlert)
{
	Server s;
	SSL_CTX *c = hsk_test::client_ctx(GetParam());
	SSL_CTX_set_security_level(c, 0);
	SSL_CTX_set_cipher_list(c, "DEFAULT@SECLEVEL=0");
	Pair p(s, c);
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
	SSL_CTX_free(c);
}

INSTANTIATE_TEST_SUITE_P(Tls10And11, HskConnOldVersion, ::testing::Values(TLS1_VERSION, TLS1_1_VERSION));

// A hand-built ClientHello record: version, suites, compressions, extensions.
// supported_groups {x25519, P-256} and signature_algorithms {rsa_pss_rsae_sha256, ecdsa_p256}
const std::string kBasicExts("\x00\x0a\x00\x06\x00\x04\x00\x1d\x00\x17"
			     "\x00\x0d\x00\x06\x00\x04\x08\x04\x04\x03",
			     20);

std::string
client_hello(uint16_t version, std::vector<uint16_t> suites, std::vector<uint8_t> comps,
	     const std::string &exts = kBasicExts, bool with_ext = true)
{
	std::string b;
	b += (char)(version >> 8);
	b += (char)version;
	b += std::string(32, '\x11');
	b += '\0';
	b += (char)(suites.size() * 2 >> 8);
	b += (char)(suites.size() * 2);
	for (uint16_t s : suites) {
		b += (char)(s >> 8);
		b += (char)s;
	}
	b += (char)comps.size();
	for (uint8_t c : comps)
		b += (char)c;
	if (with_ext) {
		b += (char)(exts.size() >> 8);
		b += (char)exts.size();
		b += exts;
	}
	std::string m;
	m += '\x01';
	m += (char)(b.size() >> 16);
	m += (char)(b.size() >> 8);
	m += (char)b.size();
	m += b;
	std::string r = "\x16\x03\x01";
	r += (char)(m.size() >> 8);
	r += (char)m.size();
	return r + m;
}

hsk_err
feed_raw(Server &s, const std::string &bytes, std::string *out = nullptr)
{
	hsk_conn *c = hsk_conn_new(&s.ctx, &s.w[0]);
	size_t len = bytes.size();
	hsk_err e = hsk_conn_recv(c, (const uint8_t *)bytes.data(), &len);
	if (e == HSK_WANT_CRYPTO) {
		acc_exec_flush(s.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); }, nullptr);
		e = hsk_conn_resume(c);
	}
	const uint8_t *o;
	size_t n = hsk_conn_out(c, &o);
	if (out != nullptr)
		out->assign((const char *)o, n);
	while (acc_exec_pending(s.exec[0]) > 0)
		acc_exec_flush(s.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); }, nullptr);
	hsk_conn_free(c);
	return e;
}

TEST(HskConnRefuse, LegacySuitesOnly)
{
	Server s;
	// RC4-SHA, DES-CBC3-SHA, NULL-SHA, EXP-RC4-MD5, RC4-MD5
	std::string out;
	EXPECT_EQ(feed_raw(s, client_hello(0x0303, { 0x0005, 0x000a, 0x0002, 0x0003, 0x0004 }, { 0 }), &out),
		  HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
	// The alert record on the wire: fatal handshake_failure.
	ASSERT_EQ(out.size(), 7u);
	EXPECT_EQ(out[0], 21);
	EXPECT_EQ(out[5], 2);
	EXPECT_EQ(out[6], HSK_AD_HANDSHAKE_FAILURE);
}

TEST(HskConnRefuse, CompressionWithoutNull)
{
	Server s;
	EXPECT_EQ(feed_raw(s, client_hello(0x0303, { 0xc02f }, { 1 })), HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER));
}

TEST(HskConnRefuse, DeflateAndNullChoosesNull)
{
	Server s;
	std::string out;
	EXPECT_EQ(feed_raw(s, client_hello(0x0303, { 0xc02f }, { 1, 0 }), &out), HSK_WANT_CRYPTO);
	ASSERT_GT(out.size(), 50u);
	EXPECT_EQ(out[5], 2); // ServerHello
}

TEST(HskConnRefuse, Ssl3ClientHello)
{
	Server s;
	EXPECT_EQ(feed_raw(s, client_hello(0x0300, { 0xc02f }, { 0 })), HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
}

TEST(HskConnRefuse, Sslv2ClientHello)
{
	Server s;
	std::string v2 = "\x80\x2e\x01\x03\x01";
	v2 += std::string(0x2e - 3, '\0');
	EXPECT_EQ(feed_raw(s, v2), HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
}

TEST(HskConnRefuse, NonEmptyRenegotiationInfoOnInitialHandshake)
{
	Server s;
	std::string ext = kBasicExts + std::string("\xff\x01\x00\x02\x01\x00", 6);
	EXPECT_EQ(feed_raw(s, client_hello(0x0303, { 0xc02f }, { 0 }, ext)), HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
}

TEST(HskConnRefuse, ClientRenegotiationGetsWarning)
{
	Server s;
	auto c = client();
	SSL_CTX_clear_options(c.get(), SSL_OP_NO_RENEGOTIATION);
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	ASSERT_EQ(SSL_renegotiate(p.ssl), 1);
	SSL_do_handshake(p.ssl);
	p.pump();
	// The server refuses with a warning and would go on; libssl then
	// gives up itself with a fatal handshake_failure (its choice).
	EXPECT_EQ(p.client_alert, HSK_AD_NO_RENEGOTIATION);
	EXPECT_TRUE(p.server_err == HSK_OK || p.server_err == HSK_PEER_ALERT(HSK_AD_HANDSHAKE_FAILURE));
}

// The client's TLS 1.2 write direction rebuilt from libssl's session
// (the key block of RFC 5246 6.3, AEAD suites: no MAC keys), so a test
// can send records libssl itself would never send.
void
client_write_dir(SSL *ssl, rec_dir *d)
{
	const hsk_suite *su = hsk_suite_by_id(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl)));
	uint8_t master[48], cr[32], sr[32], kb[2 * (32 + 12)];
	ASSERT_NE(su, nullptr);
	ASSERT_EQ(su->mac_key_len, 0u);
	ASSERT_EQ(SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof(master)), sizeof(master));
	SSL_get_client_random(ssl, cr, sizeof(cr));
	SSL_get_server_random(ssl, sr, sizeof(sr));
	size_t kl = su->key_len, il = su->fixed_iv_len;
	ASSERT_EQ(hsk_prf(su->prf, master, sizeof(master), "key expansion", sr, 32, cr, 32, kb, 2 * kl + 2 * il),
		  HSK_OK);
	ASSERT_EQ(rec_dir_init(d, su, 0x0303, true, false, kb, kb + 2 * kl, nullptr), HSK_OK);
	d->seq = 1; // the client's Finished was its record 0
}

// One handshake message sealed in one record, fed to the engine.
hsk_err
feed_sealed(Pair &p, rec_dir *d, uint8_t type, const std::string &msg)
{
	uint8_t buf[REC_MAX_PLAIN + REC_MAX_OVERHEAD + REC_HDR_LEN];
	hsk_wr w;
	hsk_wr_init(&w, buf, sizeof(buf));
	if (rec_seal(d, type, (const uint8_t *)msg.data(), msg.size(), &w) != HSK_OK || w.err)
		return HSK_ALERT(HSK_AD_INTERNAL_ERROR);
	size_t len = w.len;
	hsk_err e = hsk_conn_recv(p.conn, buf, &len);
	hsk_conn_out_done(p.conn, [&] {
		const uint8_t *o;
		return hsk_conn_out(p.conn, &o);
	}());
	return e;
}

TEST(HskConnRefuse, RenegotiationFloodEndsTheConnection)
{
	Server s;
	auto c = client("ECDHE-RSA-AES128-GCM-SHA256");
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	rec_dir d{};
	client_write_dir(p.ssl, &d);
	// The ClientHello message without its record header.
	std::string ch = client_hello(0x0303, { 0xc02f }, { 0 }).substr(REC_HDR_LEN);
	// A few are refused with a warning and the connection goes on...
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(feed_sealed(p, &d, REC_HANDSHAKE, ch), HSK_WANT_INPUT) << i;
	EXPECT_EQ(s.w[0].renegotiations_cut, 0u);
	EXPECT_EQ(feed_sealed(p, &d, REC_APPLICATION_DATA, "GET"), HSK_OK);
	EXPECT_EQ(hsk_conn_app_pending(p.conn), 3u);
	uint8_t app[8];
	EXPECT_EQ(hsk_conn_app_read(p.conn, app, sizeof(app)), 3u);
	// ...then the next one ends it with a fatal alert, counted.
	EXPECT_EQ(feed_sealed(p, &d, REC_HANDSHAKE, ch), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	EXPECT_EQ(s.w[0].renegotiations_cut, 1u);
	rec_dir_clear(&d);
}

// Records fed in pieces (the engine's input buffer holds one record),
// crypto jobs run as they come; the server's output in *out.
hsk_err
feed_records(Server &srv, const std::string &recs, std::string *out)
{
	hsk_conn *c = hsk_conn_new(&srv.ctx, &srv.w[0]);
	hsk_err e = HSK_WANT_INPUT;
	for (size_t off = 0; off < recs.size() && (e == HSK_WANT_INPUT || e == HSK_OK);) {
		size_t len = recs.size() - off;
		e = hsk_conn_recv(c, (const uint8_t *)recs.data() + off, &len);
		off += len;
		while (e == HSK_WANT_CRYPTO) {
			acc_exec_flush(srv.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); }, nullptr);
			e = hsk_conn_resume(c);
		}
	}
	const uint8_t *o;
	size_t n = hsk_conn_out(c, &o);
	out->assign((const char *)o, n);
	hsk_conn_free(c);
	return e;
}

TEST(HskConnRefuse, HandshakeMessageAboveTheListenersMaximum)
{
	// An unknown extension makes the ClientHello 20,000 bytes long.
	std::string big(20000, 'z');
	std::string ext = kBasicExts + std::string("\xfe\x00", 2) + (char)(big.size() >> 8) + (char)big.size() + big;
	std::string ch = client_hello(0x0303, { 0xc02f }, { 0 }, ext);
	// Records carry at most 2^14 bytes: split the message over two.
	std::string msg = ch.substr(REC_HDR_LEN), recs;
	for (size_t off = 0; off < msg.size(); off += 16384) {
		std::string part = msg.substr(off, 16384);
		recs += std::string("\x16\x03\x01", 3) + (char)(part.size() >> 8) + (char)part.size() + part;
	}
	Server small;
	small.ctx.max_hs_msg = 16384;
	std::string out;
	EXPECT_EQ(feed_records(small, recs, &out), HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
	EXPECT_EQ(small.w[0].hs_too_large, 1u);
	EXPECT_EQ(out, std::string("\x15\x03\x03\x00\x02\x02\x28", 7));
	// The default maximum takes it: the server's flight comes back.
	Server dflt;
	hsk_err e = feed_records(dflt, recs, &out);
	EXPECT_TRUE(e == HSK_WANT_INPUT || e == HSK_OK) << std::hex << e;
	EXPECT_EQ(dflt.w[0].hs_too_large, 0u);
	ASSERT_GT(out.size(), 6u);
	EXPECT_EQ(out[0], '\x16'); // a handshake record...
	EXPECT_EQ(out[5], '\x02'); // ...starting with the ServerHello
}

TEST(HskConnRefuse, MessageOfTheMaximumSizeSharesItsLastRecord)
{
	// A ClientHello of exactly the listener's maximum whose last record
	// also starts the next message: not too large.
	Server s;
	s.ctx.max_hs_msg = 16384;
	auto with_ext = [](size_t n) {
		return kBasicExts + std::string("\xfe\x00", 2) + (char)(n >> 8) + (char)n + std::string(n, 'p');
	};
	size_t base = client_hello(0x0303, { 0xc02f }, { 0 }, with_ext(0)).size() - REC_HDR_LEN - 4;
	std::string msg = client_hello(0x0303, { 0xc02f }, { 0 }, with_ext(16384 - base)).substr(REC_HDR_LEN);
	ASSERT_EQ(msg.size(), 16384u + 4);
	// the next message: a header announcing more than comes
	std::string next = std::string("\x10\x00\x3f\xf9", 4) + std::string(16380 - 4, 'q');
	std::string wire = msg + next, recs;
	for (size_t off = 0; off < wire.size(); off += 16384) {
		std::string part = wire.substr(off, 16384);
		recs += std::string("\x16\x03\x03", 3) + (char)(part.size() >> 8) + (char)part.size() + part;
	}
	std::string out;
	// Taken whole (not refused as too large); the bytes after it in its
	// record are then unexpected_message (RFC 8446 5.1: the keys may
	// change after a ClientHello, so nothing may follow it in a record).
	EXPECT_EQ(feed_records(s, recs, &out), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	EXPECT_EQ(s.w[0].hs_too_large, 0u);
}

// ---- malformed input ----

TEST(HskConnMalformed, TruncatedClientHelloAtEveryLength)
{
	Server s;
	auto c = client();
	Pair p(s, c.get());
	SSL_do_handshake(p.ssl);
	char buf[4096];
	int n = BIO_read(p.from_client, buf, sizeof(buf));
	ASSERT_GT(n, 50);
	std::string ch(buf, (size_t)n);
	// Shrink the handshake message and the record consistently: every
	// truncated body must give decode_error, never a crash.
	size_t body = ch.size() - 9;
	for (size_t cut = 1; cut < body; cut += 7) {
		std::string t = ch.substr(0, ch.size() - cut);
		size_t mlen = body - cut, rlen = mlen + 4;
		t[3] = (char)(rlen >> 8);
		t[4] = (char)rlen;
		t[6] = (char)(mlen >> 16);
		t[7] = (char)(mlen >> 8);
		t[8] = (char)mlen;
		hsk_err e = feed_raw(s, t);
		EXPECT_TRUE(e == HSK_ALERT(HSK_AD_DECODE_ERROR) || e == HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER))
			<< "cut " << cut << " err " << std::hex << e;
	}
}

TEST(HskConnMalformed, GarbageFirstRecord)
{
	Server s;
	EXPECT_EQ(feed_raw(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
}

TEST(HskConnMalformed, RecordOverflow)
{
	Server s;
	std::string r = "\x16\x03\x03\x48\x01";
	r += std::string(100, 'x');
	EXPECT_EQ(feed_raw(s, r), HSK_ALERT(HSK_AD_RECORD_OVERFLOW));
}

TEST(HskConnMalformed, ApplicationDataFirst)
{
	Server s;
	std::string r("\x17\x03\x03\x00\x05hello", 10);
	EXPECT_EQ(feed_raw(s, r), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
}

TEST(HskConnMalformed, DuplicateExtension)
{
	Server s;
	std::string ext = kBasicExts + std::string("\x00\x17\x00\x00\x00\x17\x00\x00", 8);
	EXPECT_EQ(feed_raw(s, client_hello(0x0303, { 0xc02f }, { 0 }, ext)), HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER));
}

TEST(HskConnMalformed, ZeroLengthHandshakeRecord)
{
	Server s;
	EXPECT_EQ(feed_raw(s, std::string("\x16\x03\x01\x00\x00", 5)), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
}

TEST(HskConnMalformed, HandshakeSplitAcrossRecords)
{
	// Not malformed: the ClientHello in 1-byte records is accepted.
	Server s;
	std::string ch = client_hello(0x0303, { 0xc02f }, { 0 });
	std::string msg = ch.substr(5), split;
	for (char b : msg)
		split += std::string("\x16\x03\x01\x00\x01", 5) + b;
	EXPECT_EQ(feed_raw(s, split), HSK_WANT_CRYPTO);
}

// Flip a byte of the client's encrypted Finished (the last record of its
// flight) -> bad_record_mac.
void
flip_last_record(std::string &b, void *arg)
{
	bool *done = static_cast<bool *>(arg);
	// the client's second flight ends with CCS (6 bytes) + encrypted Finished
	size_t ccs = b.find(std::string("\x14\x03\x03\x00\x01\x01", 6));
	if (!*done && ccs != std::string::npos && b.size() > ccs + 6 + 10) {
		b[b.size() - 3] ^= 0x01;
		*done = true;
	}
}

TEST(HskConnMalformed, TamperedFinishedRecord)
{
	Server s;
	auto c = client("ECDHE-RSA-AES128-GCM-SHA256");
	Pair p(s, c.get());
	bool done = false;
	p.tamper = flip_last_record;
	p.tamper_arg = &done;
	EXPECT_FALSE(p.handshake());
	EXPECT_TRUE(done);
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
	EXPECT_EQ(p.client_alert, HSK_AD_BAD_RECORD_MAC);
}

TEST(HskConnMalformed, TamperedCbcRecord)
{
	Server s;
	auto c = client("ECDHE-RSA-AES128-SHA256");
	SSL_CTX_set_options(c.get(), SSL_OP_NO_ENCRYPT_THEN_MAC);
	Pair p(s, c.get());
	bool done = false;
	p.tamper = flip_last_record;
	p.tamper_arg = &done;
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

TEST(HskConnMalformed, WrongPremasterFailsFinished)
{
	// Static RSA with a corrupted EncryptedPreMasterSecret: no distinct
	// alert at ClientKeyExchange (ROBOT); the Finished check fails.
	Server s;
	enable_all_suites(s);
	auto c = client("AES128-GCM-SHA256");
	Pair p(s, c.get());
	p.tamper = [](std::string &b, void *arg) {
		bool *done = static_cast<bool *>(arg);
		// ClientKeyExchange: handshake type 16 after a record header
		size_t at = b.find(std::string("\x16\x03\x03\x01\x06\x10", 6));
		if (!*done && at != std::string::npos) {
			b[at + 20] ^= 0x40;
			*done = true;
		}
	};
	bool done = false;
	p.tamper_arg = &done;
	EXPECT_FALSE(p.handshake());
	EXPECT_TRUE(done);
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

TEST(HskConnMalformed, ConnectionKeysAreIndependent)
{
	// Two connections on one worker: one fails, the other completes.
	Server s;
	auto c = client();
	Pair good(s, c.get());
	EXPECT_EQ(feed_raw(s, "garbage!"), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	exchange(good);
}

// ---- scanners ----

// sslscan 2.0.7's TLS 1.2 key-exchange-group probe for secp256r1, as it
// went on the wire: after the record holding the ServerHello it reads one
// more record and expects the ServerKeyExchange to begin it.
const char kSslscanGroupProbe[] =
	"16030301310100012d03036b12d4b4ba3dc1490869aede55949b73a1bf8808e4ea759d26166332674150c70000aac030"
	"c02cc028c024c014c00a00a500a300a1009f006b006a0069006800390038003700360088008700860085c032c02ec02a"
	"c026c00fc005009d003d00350084c02fc02bc027c023c013c00900a400a200a0009e00670040003f003e003300320031"
	"0030009a0099009800970045004400430042c031c02dc029c025c00ec004009c003c002f00960041c011c007c00cc002"
	"00050004c012c008001600130010000dc00dc003000a00ff0100005a0000000e000c0000093132372e302e302e31000b"
	"00040300010200230000000d0030002e080408050806080708080809080a080b0601060206030501050205030401040"
	"20403030103020303020102020203000a000400020017";

TEST(HskConnScanner, EachFlightMessageInItsOwnRecord)
{
	Server s;
	std::vector<uint8_t> probe = test_hex::unhex(kSslscanGroupProbe);
	ASSERT_EQ(probe.size(), 310u);
	hsk_conn *c = hsk_conn_new(&s.ctx, &s.w[0]);
	size_t len = probe.size();
	hsk_err e = hsk_conn_recv(c, probe.data(), &len);
	for (int i = 0; i < 4 && e == HSK_WANT_CRYPTO; i++) {
		acc_exec_flush(s.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); }, nullptr);
		e = hsk_conn_resume(c);
	}
	EXPECT_EQ(e, HSK_WANT_INPUT);
	const uint8_t *o;
	size_t n = hsk_conn_out(c, &o);
	std::vector<int> types;
	size_t off = 0;
	while (off + 5 <= n) {
		size_t rlen = (size_t)o[off + 3] << 8 | o[off + 4];
		ASSERT_EQ(o[off], 22) << "record at " << off;
		ASSERT_LE(off + 5 + rlen, n);
		ASSERT_GE(rlen, 4u);
		size_t mlen = (size_t)o[off + 6] << 16 | (size_t)o[off + 7] << 8 | o[off + 8];
		EXPECT_EQ(mlen + 4, rlen) << "message type " << (int)o[off + 5] << " shares its record";
		types.push_back(o[off + 5]);
		off += 5 + rlen;
	}
	EXPECT_EQ(off, n);
	EXPECT_EQ(types, (std::vector<int>{ 2, 11, 12, 14 })); // ServerHello .. ServerHelloDone
	hsk_conn_free(c);
}

} // namespace

// ---- TLS 1.3 (RFC 8446) ----

namespace {

CtxPtr
client13(const char *suites = nullptr, const char *groups = nullptr, const char *sigalgs = nullptr)
{
	SSL_CTX *c = hsk_test::client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	if (suites != nullptr) {
		EXPECT_EQ(SSL_CTX_set_ciphersuites(c, suites), 1) << suites;
	}
	if (groups != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_groups_list(c, groups), 1) << groups;
	}
	if (sigalgs != nullptr) {
		EXPECT_EQ(SSL_CTX_set1_sigalgs_list(c, sigalgs), 1) << sigalgs;
	}
	return CtxPtr(c);
}

struct Info13 {
	uint16_t suite, group, sigalg;
};

Info13
info_of(Pair &p)
{
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.version, 0x0304);
	EXPECT_EQ(SSL_version(p.ssl), TLS1_3_VERSION);
	return { info.suite, info.group, info.sigalg };
}

class Tls13Suite : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(Tls13Suite, FullHandshakeAndData)
{
	Server s;
	auto c = client13(GetParam().name);
	Pair p(s, c.get());
	exchange(p);
	EXPECT_EQ(info_of(p).suite, GetParam().id);
	EXPECT_EQ(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p.ssl)), GetParam().id);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, Tls13Suite,
			 ::testing::Values(SuiteCase{ "TLS_AES_128_GCM_SHA256", 0x1301 },
					   SuiteCase{ "TLS_AES_256_GCM_SHA384", 0x1302 },
					   SuiteCase{ "TLS_CHACHA20_POLY1305_SHA256", 0x1303 }),
			 [](const ::testing::TestParamInfo<SuiteCase> &i) { return std::string(i.param.name); });

class Tls13Group : public ::testing::TestWithParam<std::pair<const char *, uint16_t>> {};

TEST_P(Tls13Group, KeyShare)
{
	Server s;
	auto c = client13(nullptr, GetParam().first);
	Pair p(s, c.get());
	exchange(p);
	EXPECT_EQ(info_of(p).group, GetParam().second);
}

INSTANTIATE_TEST_SUITE_P(AllGroups, Tls13Group,
			 ::testing::Values(std::make_pair("X25519", (uint16_t)0x1d),
					   std::make_pair("P-256", (uint16_t)0x17),
					   std::make_pair("P-384", (uint16_t)0x18)));

TEST(Tls13, RsaPssAndEcdsaCertificates)
{
	Server s;
	auto rsa = client13(nullptr, nullptr, "rsa_pss_rsae_sha256:rsa_pss_rsae_sha512");
	Pair p1(s, rsa.get());
	exchange(p1);
	EXPECT_EQ(info_of(p1).sigalg, 0x0804);
	auto ec = client13(nullptr, nullptr, "ECDSA+SHA256");
	Pair p2(s, ec.get());
	exchange(p2);
	EXPECT_EQ(info_of(p2).sigalg, 0x0403);
	// PKCS#1 v1.5 only: nothing to sign a TLS 1.3 CertificateVerify with
	auto pkcs1 = client13(nullptr, nullptr, "RSA+SHA256");
	Pair p3(s, pkcs1.get());
	EXPECT_FALSE(p3.handshake());
	EXPECT_EQ(p3.server_err, HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
}

TEST(Tls13, HelloRetryRequest)
{
	Server s;
	uint16_t only = ACC_GROUP_X25519;
	char err[64];
	ASSERT_EQ(hsk_ctx_set_groups(&s.ctx, &only, 1, err, sizeof(err)), 0);
	// libssl sends a share for its first group only (P-256): the server
	// asks again for X25519.
	auto c = client13(nullptr, "P-256:X25519");
	Pair p(s, c.get());
	exchange(p);
	EXPECT_EQ(info_of(p).group, 0x1d);
}

TEST(Tls13, NoCommonGroup)
{
	Server s;
	uint16_t only = ACC_GROUP_SECP384R1;
	char err[64];
	ASSERT_EQ(hsk_ctx_set_groups(&s.ctx, &only, 1, err, sizeof(err)), 0);
	auto c = client13(nullptr, "X25519:P-256");
	Pair p(s, c.get());
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
}

TEST(Tls13, WithoutMiddleboxCompatibility)
{
	Server s;
	auto c = client13();
	SSL_CTX_clear_options(c.get(), SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
	Pair p(s, c.get());
	exchange(p);
}

TEST(Tls13, KeyUpdateBothWays)
{
	Server s;
	auto c = client13();
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(SSL_key_update(p.ssl, i == 1 ? SSL_KEY_UPDATE_NOT_REQUESTED : SSL_KEY_UPDATE_REQUESTED), 1);
		std::string msg = "after update " + std::to_string(i);
		EXPECT_EQ(p.client_to_server(msg), msg);
		EXPECT_EQ(p.server_to_client("reply " + msg), "reply " + msg);
	}
	EXPECT_EQ(p.server_err, HSK_OK);
}

TEST(Tls13, KeyUpdateFloodEndsTheConnection)
{
	Server s;
	auto c = client13();
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	// 32 in a row are taken (BoringSSL's and rustls's bound)...
	for (int i = 0; i < 32; i++) {
		ASSERT_EQ(SSL_key_update(p.ssl, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
		ASSERT_EQ(SSL_do_handshake(p.ssl), 1);
	}
	p.pump();
	EXPECT_EQ(p.server_err, HSK_OK);
	// ...application data resets the count...
	EXPECT_EQ(p.client_to_server("data"), "data");
	for (int i = 0; i < 32; i++) {
		ASSERT_EQ(SSL_key_update(p.ssl, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
		ASSERT_EQ(SSL_do_handshake(p.ssl), 1);
	}
	p.pump();
	EXPECT_EQ(p.server_err, HSK_OK);
	EXPECT_EQ(s.w[0].key_updates_cut, 0u);
	// ...and the 33rd in a row ends the connection with a fatal alert.
	ASSERT_EQ(SSL_key_update(p.ssl, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
	ASSERT_EQ(SSL_do_handshake(p.ssl), 1);
	p.pump();
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	EXPECT_EQ(s.w[0].key_updates_cut, 1u);
	char buf[16];
	EXPECT_LE(SSL_read(p.ssl, buf, sizeof(buf)), 0);
	EXPECT_EQ(p.client_alert, HSK_AD_UNEXPECTED_MESSAGE);
}

TEST(Tls13, ClientAuthRequire)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client13();
	use_client_cert(c.get(), "client");
	Pair p(s, c.get());
	exchange(p);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_TRUE(info.client_cert);
}

TEST(Tls13, ClientAuthRequireWithoutCertificate)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_REQUIRE);
	auto c = client13();
	Pair p(s, c.get());
	p.handshake();
	p.pump();
	char b;
	SSL_read(p.ssl, &b, 1); // the client reads the alert after its Finished
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_CERTIFICATE_REQUIRED));
	EXPECT_EQ(p.client_alert, HSK_AD_CERTIFICATE_REQUIRED);
}

TEST(Tls13, ClientAuthOptionalAndUnknownCa)
{
	Server s;
	set_client_auth(s, HSK_CLIENT_AUTH_OPTIONAL);
	auto c = client13();
	Pair p(s, c.get());
	exchange(p);
	auto rogue = client13();
	use_client_cert(rogue.get(), "rogue");
	Pair p2(s, rogue.get());
	p2.handshake();
	EXPECT_EQ(p2.server_err, HSK_ALERT(HSK_AD_UNKNOWN_CA));
}

TEST(Tls13, PaddedRecordsFromTheClient)
{
	// RFC 8446 5.4: the client pads every record to a multiple of 512
	// bytes; the server strips the zeros and finds the content type.
	Server s;
	auto c = client13();
	SSL_CTX_set_block_padding(c.get(), 512);
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake()) << std::hex << p.server_err;
	EXPECT_EQ(p.client_to_server("padded"), "padded");
	EXPECT_EQ(p.client_to_server(std::string(3000, 'p')), std::string(3000, 'p'));
}

TEST(Tls13, TamperedClientFinished)
{
	Server s;
	auto c = client13();
	Pair p(s, c.get());
	p.tamper = [](std::string &b, void *arg) {
		bool *done = static_cast<bool *>(arg);
		// the client's second flight: [CCS] + an encrypted record
		if (!*done && b.size() > 30 && b[0] != 0x16) {
			b[b.size() - 5] ^= 0x10;
			*done = true;
		}
	};
	bool done = false;
	p.tamper_arg = &done;
	EXPECT_FALSE(p.handshake());
	EXPECT_TRUE(done);
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

TEST(Tls13, Tls12OnlyServerNegotiates12WithoutSentinelIssue)
{
	// A 1.3 client against a 1.2-only listener: TLS 1.2 (libssl checks
	// the downgrade sentinel, which a 1.2-only server must not send).
	Server s;
	s.ctx.version_max = 0x0303;
	auto c = client();
	SSL_CTX_set_max_proto_version(c.get(), TLS1_3_VERSION);
	Pair p(s, c.get());
	exchange(p);
	EXPECT_EQ(SSL_version(p.ssl), TLS1_2_VERSION);
}

TEST(Tls13, CipherListWithout13SuitesMeansTls12)
{
	Server s;
	char err[256];
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "ECDHE-RSA-AES128-GCM-SHA256", err, sizeof(err)), 0) << err;
	auto c = client();
	SSL_CTX_set_max_proto_version(c.get(), TLS1_3_VERSION);
	Pair p(s, c.get());
	exchange(p); // libssl also checks that no downgrade sentinel came
	EXPECT_EQ(SSL_version(p.ssl), TLS1_2_VERSION);
	// and TLS 1.3 suites only: a TLS 1.2-only client is refused
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "TLS_AES_128_GCM_SHA256", err, sizeof(err)), 0) << err;
	auto c12 = client();
	SSL_CTX_set_max_proto_version(c12.get(), TLS1_2_VERSION);
	Pair q(s, c12.get());
	EXPECT_FALSE(q.handshake());
	EXPECT_EQ(q.server_err, HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
}

TEST(Tls13, DowngradeSentinelWhenServerCould13)
{
	// The server does 1.3 but the client asks 1.2 only: TLS 1.2, with the
	// RFC 8446 4.1.3 sentinel in ServerHello.random (a 1.3-capable libssl
	// client would abort; a 1.2-only one ignores it).
	Server s;
	auto c = client();
	Pair p(s, c.get());
	ASSERT_TRUE(p.handshake());
	unsigned char sr[32];
	SSL_get_server_random(p.ssl, sr, sizeof(sr));
	EXPECT_EQ(memcmp(sr + 24, "DOWNGRD\x01", 8), 0);
}

} // namespace

// ---- session tickets and PSK resumption ----

namespace {

// A full handshake whose client keeps the session (tickets read).
SSL_SESSION *
ticket_session(Server &s, SSL_CTX *c, unsigned worker)
{
	Pair p(s, c, worker);
	EXPECT_TRUE(p.handshake());
	// TLS 1.3 tickets arrive after the handshake: let the client read them
	EXPECT_EQ(p.server_to_client("x"), "x");
	SSL_shutdown(p.ssl);
	p.pump();
	SSL_SESSION *sess = SSL_get1_session(p.ssl);
	EXPECT_NE(sess, nullptr);
	return sess;
}

bool
resumes(Server &s, SSL_CTX *c, SSL_SESSION *sess, unsigned worker, uint16_t *group = nullptr)
{
	Pair p(s, c, worker);
	SSL_set_session(p.ssl, sess);
	bool ok = p.handshake();
	EXPECT_TRUE(ok) << std::hex << p.server_err;
	EXPECT_EQ(p.client_to_server("ping"), "ping");
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.resumed, SSL_session_reused(p.ssl) == 1);
	if (group != nullptr)
		*group = info.group;
	return ok && SSL_session_reused(p.ssl);
}

TEST(Tls13Resume, PskDheAcrossWorkers)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	uint16_t group = 0;
	EXPECT_TRUE(resumes(s, c.get(), sess, 3, &group));
	EXPECT_EQ(group, 0x1d); // psk_dhe_ke: a fresh X25519 exchange
	EXPECT_EQ(s.w[3].handshakes_resumed, 1u);
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, PskKeWhenAllowed)
{
	Server s;
	s.ctx.psk_modes = HSK_PSK_KE;
	auto c = client13();
	SSL_CTX_set_options(c.get(), SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_SESSION *sess = ticket_session(s, c.get(), 1);
	uint16_t group = 1;
	EXPECT_TRUE(resumes(s, c.get(), sess, 2, &group));
	EXPECT_EQ(group, 0); // no key exchange
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, PskKeRefusedByDefault)
{
	Server s; // psk_dhe_ke only
	auto c = client13();
	SSL_CTX_set_options(c.get(), SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	uint16_t group = 0;
	EXPECT_TRUE(resumes(s, c.get(), sess, 0, &group)); // the client also offers psk_dhe_ke
	EXPECT_EQ(group, 0x1d);
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, RotatedKeys)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	// one rotation keeping the previous key: still accepted
	ASSERT_EQ(hsk_tickets_rotate(s.ctx.tickets, 2), 0);
	EXPECT_TRUE(resumes(s, c.get(), sess, 0));
	SSL_SESSION_free(sess);
	sess = ticket_session(s, c.get(), 0);
	// the key expired out of the set: a full handshake, no error
	ASSERT_EQ(hsk_tickets_rotate(s.ctx.tickets, 1), 0);
	EXPECT_FALSE(resumes(s, c.get(), sess, 0));
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, ExpiredTicketAndOtherListener)
{
	Server s, other;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	// another listener sharing the ticket keys does not take it
	hsk_tickets *mine = other.ctx.tickets;
	other.ctx.tickets = s.ctx.tickets;
	EXPECT_FALSE(resumes(other, c.get(), sess, 0));
	other.ctx.tickets = mine;
	s.w[0].now_s += s.ctx.session_lifetime_s + 1;
	EXPECT_FALSE(resumes(s, c.get(), sess, 0));
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, TicketAgeOutsideWindowMeansFullHandshake)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	// the client reports an age of about 0 s; ours says 30 s: a replay
	s.w[0].now_s += 30;
	EXPECT_FALSE(resumes(s, c.get(), sess, 0));
	// within the window it is taken
	s.w[0].now_s -= 25;
	EXPECT_TRUE(resumes(s, c.get(), sess, 0));
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, EarlyDataRefusedAndSkipped)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	// our tickets never allow early data; make the client send some anyway
	ASSERT_EQ(SSL_SESSION_set_max_early_data(sess, 16384), 1);
	Pair p(s, c.get(), 1);
	SSL_set_session(p.ssl, sess);
	std::string early(3000, 'e');
	size_t written = 0;
	ASSERT_EQ(SSL_write_early_data(p.ssl, early.data(), early.size(), &written), 1);
	ASSERT_EQ(SSL_write_early_data(p.ssl, early.data(), early.size(), &written), 1);
	EXPECT_TRUE(p.handshake()) << std::hex << p.server_err;
	EXPECT_EQ(SSL_get_early_data_status(p.ssl), SSL_EARLY_DATA_REJECTED);
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	EXPECT_EQ(p.client_to_server("after"), "after"); // the early bytes never reached the application
	EXPECT_EQ(p.server_app, "after");
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, TooMuchEarlyDataIsUnexpectedMessage)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	ASSERT_EQ(SSL_SESSION_set_max_early_data(sess, 1 << 20), 1);
	Pair p(s, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	std::string early(16384, 'e');
	size_t written = 0;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(SSL_write_early_data(p.ssl, early.data(), early.size(), &written), 1);
	EXPECT_FALSE(p.handshake());
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, TamperedBinderIsDecryptError)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	Pair p(s, c.get(), 0);
	SSL_set_session(p.ssl, sess);
	bool done = false;
	p.tamper = [](std::string &b, void *arg) {
		bool *d = static_cast<bool *>(arg);
		if (!*d && b.size() > 100 && b[0] == 0x16 && b[5] == 0x01) {
			b[b.size() - 1] ^= 0x01; // the last byte of the ClientHello: the binder
			*d = true;
		}
	};
	p.tamper_arg = &done;
	EXPECT_FALSE(p.handshake());
	EXPECT_TRUE(done);
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_DECRYPT_ERROR));
	SSL_SESSION_free(sess);
}

TEST(Tls13Resume, TamperedTicketMeansFullHandshake)
{
	Server s;
	auto c = client13();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	const unsigned char *tick;
	size_t tlen;
	SSL_SESSION_get0_ticket(sess, &tick, &tlen);
	ASSERT_GT(tlen, 40u);
	std::vector<unsigned char> bad(tick, tick + tlen);
	bad[30] ^= 0x80;
	// libssl has no setter for a session's ticket: check the opener on
	// the ticket it received (a forged one means a full handshake).
	hsk_ticket t;
	EXPECT_TRUE(hsk_ticket_open(hsk_tickets_current(s.ctx.tickets), tick, tlen, &t));
	EXPECT_FALSE(hsk_ticket_open(hsk_tickets_current(s.ctx.tickets), bad.data(), bad.size(), &t));
	bad[30] ^= 0x80;
	bad[0] ^= 1; // key name
	EXPECT_FALSE(hsk_ticket_open(hsk_tickets_current(s.ctx.tickets), bad.data(), bad.size(), &t));
	SSL_SESSION_free(sess);
}

TEST(Tls12Tickets, ResumeWithTicketOnAnotherWorker)
{
	Server s;
	// no session cache: only a ticket can resume
	for (auto &w : s.w)
		w.cache = nullptr;
	auto c = client();
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	const unsigned char *tick;
	size_t tlen;
	SSL_SESSION_get0_ticket(sess, &tick, &tlen);
	EXPECT_GT(tlen, 0u);
	EXPECT_TRUE(resumes(s, c.get(), sess, 2));
	for (auto &w : s.w)
		w.cache = s.cache;
	SSL_SESSION_free(sess);
}

TEST(Tls12Tickets, NoTicketWhenClientDoesNotAsk)
{
	Server s;
	auto c = client();
	SSL_CTX_set_options(c.get(), SSL_OP_NO_TICKET);
	SSL_SESSION *sess = ticket_session(s, c.get(), 0);
	const unsigned char *tick;
	size_t tlen;
	SSL_SESSION_get0_ticket(sess, &tick, &tlen);
	EXPECT_EQ(tlen, 0u);
	EXPECT_TRUE(resumes(s, c.get(), sess, 0)); // by session ID
	SSL_SESSION_free(sess);
}

TEST(HskTicket, SealOpenRoundTripAndKeyFile)
{
	hsk_tickets *t = hsk_tickets_new();
	hsk_ticket in = {}, out;
	in.version = 0x0304;
	in.suite = 0x1301;
	in.ctx_id = 9;
	in.created_s = 123456789012ull;
	in.lifetime_s = 300;
	in.age_add = 0xdeadbeef;
	in.client_cert = true;
	in.secret_len = 32;
	memset(in.secret, 0x5a, 32);
	uint8_t buf[HSK_TICKET_MAX];
	size_t n;
	ASSERT_TRUE(hsk_ticket_seal(hsk_tickets_current(t), &in, buf, sizeof(buf), &n));
	ASSERT_TRUE(hsk_ticket_open(hsk_tickets_current(t), buf, n, &out));
	EXPECT_EQ(out.created_s, in.created_s);
	EXPECT_EQ(out.age_add, in.age_add);
	EXPECT_TRUE(out.client_cert);
	EXPECT_EQ(memcmp(out.secret, in.secret, 32), 0);
	// a fleet's key file: the same file on two servers opens each other's tickets
	std::string path = hsk_test::cert_dir() + "/ticket.keys";
	FILE *f = fopen(path.c_str(), "w");
	fprintf(f, "# current first\n%s\n%s\n", std::string(96, 'a').c_str(), std::string(96, '7').c_str());
	fclose(f);
	hsk_tickets *a = hsk_tickets_new(), *b = hsk_tickets_new();
	char err[256];
	ASSERT_EQ(hsk_tickets_load_file(a, path.c_str(), err, sizeof(err)), 0) << err;
	ASSERT_EQ(hsk_tickets_load_file(b, path.c_str(), err, sizeof(err)), 0) << err;
	ASSERT_TRUE(hsk_ticket_seal(hsk_tickets_current(a), &in, buf, sizeof(buf), &n));
	EXPECT_TRUE(hsk_ticket_open(hsk_tickets_current(b), buf, n, &out));
	EXPECT_FALSE(hsk_ticket_open(hsk_tickets_current(t), buf, n, &out));
	f = fopen(path.c_str(), "w");
	fprintf(f, "zz\n");
	fclose(f);
	EXPECT_EQ(hsk_tickets_load_file(a, path.c_str(), err, sizeof(err)), -1);
	EXPECT_NE(std::string(err).find(":1:"), std::string::npos);
	hsk_tickets_free(a);
	hsk_tickets_free(b);
	hsk_tickets_free(t);
}

} // namespace

// ---- handshakes batched together, on both backends ----

namespace {

// Eight handshakes on one worker whose crypto jobs share each flush, as
// on a loaded worker: on the IFMA backend the signatures and X25519 key
// agreements fill the lanes. Every handshake must complete and carry data.
void
lockstep(const char *backend, bool tls13, acc_stats *st)
{
	setenv("TLSO_TEST_ACCEL", backend, 1);
	Server s;
	unsetenv("TLSO_TEST_ACCEL");
	auto c = tls13 ? client13("TLS_AES_128_GCM_SHA256", "X25519", "rsa_pss_rsae_sha256")
		       : client("ECDHE-RSA-AES128-GCM-SHA256", "X25519", "RSA+SHA256");
	std::vector<std::unique_ptr<Pair>> ps;
	for (int i = 0; i < 8; i++) {
		ps.emplace_back(new Pair(s, c.get(), 0));
		SSL_do_handshake(ps.back()->ssl);
	}
	for (int round = 0; round < 60; round++) {
		for (auto &p : ps)
			p->pump(1, false);
		if (acc_exec_pending(s.exec[0]) > 0)
			acc_exec_flush(s.exec[0], Pair::on_done, nullptr);
	}
	for (auto &p : ps) {
		EXPECT_TRUE(SSL_is_init_finished(p->ssl) && hsk_conn_established(p->conn))
			<< backend << " " << std::hex << p->server_err;
		EXPECT_EQ(p->client_to_server("batched"), "batched");
	}
	acc_exec_stats(s.exec[0], st);
}

TEST(HskConnBatch, EightHandshakesShareTheLanes)
{
	for (bool tls13 : {false, true}) {
		acc_stats lanes, ref;
		lockstep("auto", tls13, &lanes);
		lockstep("openssl", tls13, &ref);
		EXPECT_EQ(lanes.jobs, ref.jobs);
		EXPECT_EQ(lanes.failed, 0u);
		EXPECT_EQ(ref.lane_jobs, 0u);
		if (acc_ifma_available()) {
			// 8 signatures and 8 key agreements, each set in one flush
			EXPECT_GE(lanes.lane_jobs, 16u) << (tls13 ? "TLS 1.3" : "TLS 1.2");
			EXPECT_EQ(lanes.fault_rechecks, 0u);
		}
	}
}

} // namespace

// Half-close (proxy mode, RFC 8446 6.1): the client's close_notify ends
// its direction only; the server still writes, then closes its own.
class HskConnHalfClose : public ::testing::TestWithParam<int> {};

TEST_P(HskConnHalfClose, PeerCloseNotifyLeavesOurSideOpen)
{
	Server s;
	auto c = client();
	SSL_CTX_set_max_proto_version(c.get(), GetParam());
	Pair p(s, c.get());
	hsk_conn_set_half_close(p.conn);
	ASSERT_TRUE(p.handshake());
	EXPECT_EQ(p.client_to_server("request"), "request");
	EXPECT_EQ(SSL_shutdown(p.ssl), 0); // close_notify sent, none received
	p.pump();
	EXPECT_TRUE(hsk_conn_peer_closed(p.conn));
	EXPECT_EQ(p.server_err, HSK_CLOSED);
	const uint8_t *out;
	EXPECT_EQ(hsk_conn_out(p.conn, &out), 0u); // not answered with our close_notify
	std::string answer(50000, 'a');
	EXPECT_EQ(p.server_to_client(answer), answer);
	hsk_conn_close(p.conn);
	p.pump();
	char buf[16];
	EXPECT_EQ(SSL_read(p.ssl, buf, sizeof(buf)), 0);
	EXPECT_EQ(SSL_get_error(p.ssl, 0), SSL_ERROR_ZERO_RETURN);
	EXPECT_EQ(SSL_shutdown(p.ssl), 1);
}

INSTANTIATE_TEST_SUITE_P(Versions, HskConnHalfClose, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION));
