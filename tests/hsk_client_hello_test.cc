// ClientHello decoding (real hellos from libssl, hand-built and truncated
// ones), version selection, server-preference negotiation, the listener
// context and the session cache.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "acc_job.h"
#include "acc_key.h"
#include "hsk_client_hello.h"
#include "hsk_ctx.h"
#include "hsk_sess.h"
#include "hsk_suite.h"
#include "hsk_test_peer.h"

namespace {

// The ClientHello body a libssl client sends (record and handshake headers stripped).
std::string
libssl_hello(int max_version, const char *ciphers = nullptr)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(c, max_version);
	if (ciphers != nullptr)
		SSL_CTX_set_cipher_list(c, ciphers);
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX_set_alpn_protos(c, alpn, sizeof(alpn) - 1);
	SSL *s = SSL_new(c);
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
	SSL_set_bio(s, r, w);
	SSL_set_tlsext_host_name(s, "example.com");
	SSL_connect(s);
	char buf[4096];
	int n = BIO_read(w, buf, sizeof(buf));
	SSL_free(s);
	SSL_CTX_free(c);
	return std::string(buf + 9, (size_t)n - 9);
}

hsk_err
decode(const std::string &b, hsk_client_hello *ch)
{
	return hsk_client_hello_decode((const uint8_t *)b.data(), b.size(), ch);
}

TEST(HskClientHello, DecodesLibsslTls12Hello)
{
	std::string b = libssl_hello(TLS1_2_VERSION);
	hsk_client_hello ch;
	ASSERT_EQ(decode(b, &ch), HSK_OK);
	EXPECT_EQ(ch.legacy_version, 0x0303);
	EXPECT_TRUE(ch.has_sni);
	EXPECT_EQ(std::string((const char *)ch.sni_host.base, ch.sni_host.len), "example.com");
	EXPECT_TRUE(ch.has_groups);
	EXPECT_TRUE(ch.has_sigalgs);
	EXPECT_TRUE(ch.has_alpn);
	EXPECT_TRUE(ch.ems);
	EXPECT_TRUE(ch.etm);
	EXPECT_TRUE(ch.reneg_scsv || ch.has_reneg_info);
	EXPECT_FALSE(ch.has_supported_versions);
	EXPECT_TRUE(hsk_view_has16(ch.suites, 0xc02f));
}

TEST(HskClientHello, DecodesLibsslTls13Hello)
{
	std::string b = libssl_hello(TLS1_3_VERSION);
	hsk_client_hello ch;
	ASSERT_EQ(decode(b, &ch), HSK_OK);
	EXPECT_TRUE(ch.has_supported_versions);
	EXPECT_TRUE(ch.has_key_share);
	EXPECT_TRUE(ch.has_psk_modes);
	EXPECT_EQ(ch.session_id.len, 32u); // middlebox compatibility
}

TEST(HskClientHello, EveryTruncationIsDecodeError)
{
	std::string b = libssl_hello(TLS1_2_VERSION);
	hsk_client_hello ch;
	for (size_t n = 0; n < b.size(); n++) {
		hsk_err e = decode(b.substr(0, n), &ch);
		// the one valid prefix: everything before the (optional) extensions
		if (e == HSK_OK) {
			EXPECT_FALSE(ch.has_extensions) << "n=" << n;
			continue;
		}
		EXPECT_EQ(e, HSK_ALERT(HSK_AD_DECODE_ERROR)) << "n=" << n;
	}
	EXPECT_EQ(decode(b + "x", &ch), HSK_ALERT(HSK_AD_DECODE_ERROR)); // trailing byte
}

std::string
hello(const std::string &exts, const std::string &sid = "", const std::string &suites = std::string("\x00\x02\xc0\x2f", 4),
      const std::string &comps = std::string("\x01\x00", 2))
{
	std::string b("\x03\x03", 2);
	b += std::string(32, 'r');
	b += (char)sid.size();
	b += sid;
	b += suites + comps;
	b += (char)(exts.size() >> 8);
	b += (char)exts.size();
	return b + exts;
}

TEST(HskClientHello, Malformed)
{
	hsk_client_hello ch;
	// session_id longer than 32
	EXPECT_EQ(decode(hello("", std::string(33, 's')), &ch), HSK_ALERT(HSK_AD_DECODE_ERROR));
	// odd cipher_suites length
	EXPECT_EQ(decode(hello("", "", std::string("\x00\x03\xc0\x2f\x00", 5)), &ch), HSK_ALERT(HSK_AD_DECODE_ERROR));
	// empty compression list
	EXPECT_EQ(decode(hello("", "", std::string("\x00\x02\xc0\x2f", 4), std::string("\x00", 1)), &ch),
		  HSK_ALERT(HSK_AD_DECODE_ERROR));
	// duplicate extension
	EXPECT_EQ(decode(hello(std::string("\x00\x17\x00\x00\x00\x17\x00\x00", 8)), &ch),
		  HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER));
	// EMS with a body
	EXPECT_EQ(decode(hello(std::string("\x00\x17\x00\x01\x00", 5)), &ch), HSK_ALERT(HSK_AD_DECODE_ERROR));
	// ec_point_formats without uncompressed: decoded, refused by TLS 1.2
	// ECC suites only (hsk_conform_test)
	EXPECT_EQ(decode(hello(std::string("\x00\x0b\x00\x02\x01\x01", 6)), &ch), HSK_OK);
	EXPECT_TRUE(ch.has_point_formats);
	// extension length beyond the block
	EXPECT_EQ(decode(hello(std::string("\x00\x17\x00\x05", 4)), &ch), HSK_ALERT(HSK_AD_DECODE_ERROR));
	// pre_shared_key not last
	std::string psk("\x00\x29\x00\x2e\x00\x09\x00\x03" "abc" "\x00\x00\x00\x01\x00\x21\x20", 18);
	psk += std::string(32, 'b');
	EXPECT_EQ(decode(hello(psk + std::string("\x00\x17\x00\x00", 4)), &ch), HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER));
	// SNI with two host names
	std::string sni("\x00\x00\x00\x0c\x00\x0a\x00\x00\x02" "ab" "\x00\x00\x02" "cd", 16);
	EXPECT_EQ(decode(hello(sni), &ch), HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER));
	// unknown extensions are ignored
	EXPECT_EQ(decode(hello(std::string("\x12\x34\x00\x02zz", 6)), &ch), HSK_OK);
	// no extensions block at all
	std::string noext = hello("");
	noext.resize(noext.size() - 2);
	EXPECT_EQ(decode(noext, &ch), HSK_OK);
	EXPECT_FALSE(ch.has_extensions);
}

TEST(HskClientHello, VersionSelection)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	EXPECT_EQ(ctx.version_max, 0x0304);
	hsk_client_hello ch;
	uint16_t v = 0;
	// (the decoded views point into these strings: keep them alive)
	std::string h12 = libssl_hello(TLS1_2_VERSION), h13 = libssl_hello(TLS1_3_VERSION);
	ASSERT_EQ(decode(h12, &ch), HSK_OK);
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_OK);
	EXPECT_EQ(v, 0x0303);
	ASSERT_EQ(decode(h13, &ch), HSK_OK);
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_OK);
	EXPECT_EQ(v, 0x0304);
	// A 1.2-only listener gives a 1.3 client TLS 1.2 ...
	ctx.version_max = 0x0303;
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_OK);
	EXPECT_EQ(v, 0x0303);
	// ... and a 1.3-only listener refuses a 1.2 client.
	ctx.version_max = 0x0304;
	ctx.version_min = 0x0304;
	ASSERT_EQ(decode(h12, &ch), HSK_OK);
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_ALERT(HSK_AD_PROTOCOL_VERSION));
	ctx.version_min = 0x0303;
	for (uint16_t old : { 0x0300, 0x0301, 0x0302 }) {
		std::string b = hello("");
		b[0] = (char)(old >> 8);
		b[1] = (char)old;
		ASSERT_EQ(decode(b, &ch), HSK_OK);
		EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_ALERT(HSK_AD_PROTOCOL_VERSION)) << old;
	}
	// TLS_FALLBACK_SCSV from a 1.2 client: fine for a 1.2-only listener,
	// an inappropriate fallback when we could do 1.3 (RFC 7507).
	std::string scsv = hello("", "", std::string("\x00\x04\xc0\x2f\x56\x00", 6));
	ASSERT_EQ(decode(scsv, &ch), HSK_OK);
	EXPECT_TRUE(ch.fallback_scsv);
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_ALERT(HSK_AD_INAPPROPRIATE_FALLBACK));
	ctx.version_max = 0x0303;
	EXPECT_EQ(hsk_client_hello_version(&ch, &ctx, &v), HSK_OK);
	hsk_ctx_free(&ctx);
}

TEST(HskClientHello, ChooseByServerPreference)
{
	hsk_test::Server s; // RSA + ECDSA certificates
	hsk_client_hello ch;
	hsk_choice choice;
	std::string h1 = libssl_hello(TLS1_2_VERSION), h2 = libssl_hello(TLS1_2_VERSION, "ECDHE-RSA-AES256-GCM-SHA384"),
		    h3 = libssl_hello(TLS1_2_VERSION, "AES128-GCM-SHA256");
	ASSERT_EQ(decode(h1, &ch), HSK_OK);
	ASSERT_EQ(hsk_client_hello_choose12(&ch, &s.ctx, &choice), HSK_OK);
	EXPECT_EQ(choice.suite->id, 0xc02b); // ECDHE-ECDSA-AES128-GCM first
	EXPECT_EQ(s.ctx.certs[choice.cert].key_type, ACC_KEY_EC);
	EXPECT_EQ(choice.group, ACC_GROUP_X25519);
	EXPECT_EQ(choice.sigalg, ACC_SIG_ECDSA_SECP256R1_SHA256);
	EXPECT_EQ(std::string((const char *)choice.alpn.base, choice.alpn.len), "http/1.1");
	// RSA only on the client side
	ASSERT_EQ(decode(h2, &ch), HSK_OK);
	ASSERT_EQ(hsk_client_hello_choose12(&ch, &s.ctx, &choice), HSK_OK);
	EXPECT_EQ(choice.suite->id, 0xc030);
	EXPECT_EQ(s.ctx.certs[choice.cert].key_type, ACC_KEY_RSA);
	EXPECT_EQ(choice.sigalg, ACC_SIG_RSA_PSS_RSAE_SHA256);
	// static RSA only: refused by default, chosen when configured
	ASSERT_EQ(decode(h3, &ch), HSK_OK);
	EXPECT_EQ(hsk_client_hello_choose12(&ch, &s.ctx, &choice), HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE));
	char err[128];
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "AES128-GCM-SHA256", err, sizeof(err)), 0);
	ASSERT_EQ(hsk_client_hello_choose12(&ch, &s.ctx, &choice), HSK_OK);
	EXPECT_EQ(choice.suite->kx, HSK_KX_RSA);
	EXPECT_EQ(choice.group, 0);
	EXPECT_EQ(choice.sigalg, 0);
}

TEST(HskCtx, SuitesGroupsSigalgsPolicies)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	char err[128];
	EXPECT_EQ(hsk_ctx_set_suites(&ctx, "ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", err,
				     sizeof(err)),
		  0);
	ASSERT_EQ(ctx.n_suites, 2u);
	EXPECT_EQ(ctx.suites[1], 0xc02c);
	EXPECT_EQ(hsk_ctx_set_suites(&ctx, "RC4-SHA", err, sizeof(err)), -1);
	EXPECT_NE(std::string(err).find("RC4-SHA"), std::string::npos);
	EXPECT_EQ(hsk_ctx_set_suites(&ctx, "modern", err, sizeof(err)), 0);
	for (size_t i = 0; i < ctx.n_suites; i++)
		EXPECT_EQ(hsk_suite_by_id(ctx.suites[i])->mac, 0) << ctx.suites[i]; // AEAD only
	EXPECT_EQ(hsk_ctx_set_suites(&ctx, "old", err, sizeof(err)), 0);
	bool has_static = false;
	for (size_t i = 0; i < ctx.n_suites; i++)
		has_static |= hsk_suite_by_id(ctx.suites[i])->kx == HSK_KX_RSA;
	EXPECT_TRUE(has_static);
	uint16_t groups[] = { ACC_GROUP_SECP384R1, ACC_GROUP_X25519 };
	EXPECT_EQ(hsk_ctx_set_groups(&ctx, groups, 2, err, sizeof(err)), 0);
	EXPECT_EQ(ctx.groups[0], ACC_GROUP_SECP384R1);
	uint16_t bad = 0x1234;
	EXPECT_EQ(hsk_ctx_set_groups(&ctx, &bad, 1, err, sizeof(err)), -1);
	EXPECT_EQ(hsk_ctx_set_sigalgs(&ctx, &bad, 1, err, sizeof(err)), -1);
	hsk_ctx_free(&ctx);
}

TEST(HskCtx, CertificateChainEncodedOnce)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	char err[256];
	ASSERT_EQ(hsk_ctx_add_cert(&ctx, hsk_test::cert_path("rsa.crt").c_str(), hsk_test::cert_path("rsa.key").c_str(),
				   err, sizeof(err)),
		  0)
		<< err;
	const hsk_cert &c = ctx.certs[0];
	EXPECT_EQ(c.key_type, ACC_KEY_RSA);
	EXPECT_EQ(c.bits, 2048u);
	// u24 total, then two u24-prefixed certificates (leaf, CA)
	size_t total = (size_t)c.list[0] << 16 | (size_t)c.list[1] << 8 | c.list[2];
	ASSERT_EQ(total + 3, c.list_len);
	size_t first = (size_t)c.list[3] << 16 | (size_t)c.list[4] << 8 | c.list[5];
	size_t second = (size_t)c.list[6 + first] << 16 | (size_t)c.list[7 + first] << 8 | c.list[8 + first];
	EXPECT_EQ(3 + first + 3 + second, total);
	// a key that does not match
	EXPECT_EQ(hsk_ctx_add_cert(&ctx, hsk_test::cert_path("rsa.crt").c_str(), hsk_test::cert_path("ecdsa.key").c_str(),
				   err, sizeof(err)),
		  -1);
	EXPECT_NE(std::string(err).find("does not match"), std::string::npos);
	EXPECT_EQ(hsk_ctx_add_cert(&ctx, "/nonexistent.crt", "/nonexistent.key", err, sizeof(err)), -1);
	hsk_ctx_free(&ctx);
}

hsk_sess
make_sess(unsigned worker, uint32_t ctx_id, uint64_t now)
{
	hsk_sess s = {};
	hsk_sess_id_new(worker, s.id);
	s.id_len = 32;
	s.version = 0x0303;
	s.suite = 0xc02f;
	s.ctx_id = ctx_id;
	s.created_s = now;
	s.lifetime_s = 300;
	memset(s.master, (int)(s.id[5] | 1), 48);
	return s;
}

TEST(HskSess, PutGetExpiryContext)
{
	hsk_sess_cache *c = hsk_sess_cache_new(4, 400);
	hsk_sess s = make_sess(2, 7, 1000), out;
	EXPECT_EQ(s.id[0], 2);
	hsk_sess_cache_put(c, 2, &s);
	ASSERT_TRUE(hsk_sess_cache_get(c, s.id, 32, 7, 1100, &out));
	EXPECT_EQ(memcmp(out.master, s.master, 48), 0);
	EXPECT_FALSE(hsk_sess_cache_get(c, s.id, 32, 8, 1100, &out));  // another listener
	EXPECT_FALSE(hsk_sess_cache_get(c, s.id, 32, 7, 1300, &out));  // expired
	EXPECT_FALSE(hsk_sess_cache_get(c, s.id, 31, 7, 1100, &out));  // wrong length
	// only the owner's shard takes it
	hsk_sess other = make_sess(1, 7, 1000);
	hsk_sess_cache_put(c, 3, &other);
	EXPECT_FALSE(hsk_sess_cache_get(c, other.id, 32, 7, 1001, &out));
	hsk_sess_cache_remove(c, 2, s.id, 32);
	EXPECT_FALSE(hsk_sess_cache_get(c, s.id, 32, 7, 1100, &out));
	hsk_sess_cache_free(c);
}

TEST(HskSess, SizeBoundEvicts)
{
	hsk_sess_cache *c = hsk_sess_cache_new(1, 64);
	std::vector<hsk_sess> all;
	for (int i = 0; i < 1000; i++) {
		all.push_back(make_sess(0, 1, 10));
		hsk_sess_cache_put(c, 0, &all.back());
	}
	int found = 0;
	hsk_sess out;
	for (auto &s : all)
		found += hsk_sess_cache_get(c, s.id, 32, 1, 11, &out);
	EXPECT_LE(found, 64);
	EXPECT_GT(found, 16);
	EXPECT_TRUE(hsk_sess_cache_get(c, all.back().id, 32, 1, 11, &out)); // the newest is there
	hsk_sess_cache_free(c);
}

TEST(HskSess, ReaderOnAnotherThreadSeesWholeEntries)
{
	hsk_sess_cache *c = hsk_sess_cache_new(2, 2);
	std::vector<hsk_sess> pool;
	for (int i = 0; i < 8; i++)
		pool.push_back(make_sess(0, 1, 10));
	std::atomic<bool> stop{ false };
	std::atomic<int> torn{ 0 }, hits{ 0 };
	std::thread reader([&] {
		hsk_sess out;
		for (int i = 0; i < 200000 && !stop; i++) {
			const hsk_sess &want = pool[(size_t)i % pool.size()];
			if (hsk_sess_cache_get(c, want.id, 32, 1, 11, &out)) {
				hits++;
				// the master secret must belong to the id we asked for
				if (memcmp(out.master, want.master, 48) != 0)
					torn++;
			}
		}
	});
	for (int i = 0; i < 200000; i++)
		hsk_sess_cache_put(c, 0, &pool[(size_t)i % pool.size()]);
	stop = true;
	reader.join();
	EXPECT_EQ(torn.load(), 0);
	hsk_sess_cache_free(c);
}

} // namespace
