// HMAC (RFC 4231 vectors, OpenSSL's HMAC() for random keys and pieces),
// TLS 1.2 PRF, master secret (with and without EMS), key block and
// Finished: a published vector and cross-checks against OpenSSL's own
// TLS1-PRF KDF with random inputs; HKDF and Expand-Label.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <string>
#include <vector>

#include "hsk_hkdf.h"
#include "hsk_prf.h"
#include "hsk_suite.h"

namespace {

using test_hex::unhex;

// OpenSSL's TLS1-PRF: out = PRF(secret, label, seed) with seed = label||s1||s2.
std::vector<uint8_t>
ossl_prf(const char *md, const std::vector<uint8_t> &secret, const std::string &label,
	 const std::vector<uint8_t> &s1, const std::vector<uint8_t> &s2, size_t n)
{
	EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	std::vector<uint8_t> seed(label.begin(), label.end());
	seed.insert(seed.end(), s1.begin(), s1.end());
	seed.insert(seed.end(), s2.begin(), s2.end());
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret.data(), secret.size()),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
		OSSL_PARAM_construct_end(),
	};
	std::vector<uint8_t> out(n);
	EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), n, params), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return out;
}

std::vector<uint8_t>
rnd(size_t n)
{
	std::vector<uint8_t> v(n);
	RAND_bytes(v.data(), (int)n);
	return v;
}

// The TLS 1.2 PRF SHA-256 test vector circulated on the IETF TLS list
// (secret 9bbe436b..., seed a0ba9f93..., label "test label", 100 bytes).
TEST(HskPrf, Sha256PublishedVector)
{
	auto secret = unhex("9bbe436ba940f017b17652849a71db35");
	auto seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
	auto expect = unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");
	std::vector<uint8_t> out(100);
	ASSERT_EQ(hsk_prf(HSK_HASH_SHA256, secret.data(), secret.size(), "test label", seed.data(), seed.size(),
			  nullptr, 0, out.data(), out.size()),
		  HSK_OK);
	EXPECT_EQ(out, expect);
}

TEST(HskPrf, MatchesOpenSslForManyLengths)
{
	for (int hash : { HSK_HASH_SHA256, HSK_HASH_SHA384 }) {
		const char *md = hash == HSK_HASH_SHA256 ? "SHA256" : "SHA384";
		for (size_t n : { 1u, 12u, 31u, 32u, 33u, 48u, 64u, 104u, 200u }) {
			auto secret = rnd(48), a = rnd(32), b = rnd(32);
			std::vector<uint8_t> out(n);
			ASSERT_EQ(hsk_prf(hash, secret.data(), secret.size(), "some label", a.data(), a.size(), b.data(),
					  b.size(), out.data(), n),
				  HSK_OK);
			EXPECT_EQ(out, ossl_prf(md, secret, "some label", a, b, n)) << md << " n=" << n;
		}
	}
}

TEST(HskPrf, MasterSecretAndExtendedMasterSecret)
{
	auto pms = rnd(48), cr = rnd(32), sr = rnd(32), sh = rnd(32);
	uint8_t master[48];
	ASSERT_EQ(hsk_prf_master(HSK_HASH_SHA256, pms.data(), pms.size(), 0, cr.data(), sr.data(), nullptr, 0,
				 master),
		  HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(master, master + 48), ossl_prf("SHA256", pms, "master secret", cr, sr, 48));
	// RFC 7627 4: the session hash replaces the randoms.
	ASSERT_EQ(hsk_prf_master(HSK_HASH_SHA384, pms.data(), pms.size(), 1, cr.data(), sr.data(), sh.data(),
				 sh.size(), master),
		  HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(master, master + 48),
		  ossl_prf("SHA384", pms, "extended master secret", sh, {}, 48));
}

TEST(HskPrf, KeyBlockUsesServerRandomFirst)
{
	auto m = rnd(48), cr = rnd(32), sr = rnd(32);
	std::vector<uint8_t> kb(104);
	ASSERT_EQ(hsk_prf_key_block(HSK_HASH_SHA256, m.data(), cr.data(), sr.data(), kb.data(), kb.size()), HSK_OK);
	// RFC 5246 6.3: PRF(master, "key expansion", server_random + client_random)
	EXPECT_EQ(kb, ossl_prf("SHA256", m, "key expansion", sr, cr, 104));
}

TEST(HskPrf, FinishedLabels)
{
	auto m = rnd(48), h = rnd(32);
	uint8_t c[12], s[12];
	ASSERT_EQ(hsk_prf_finished(HSK_HASH_SHA256, m.data(), 1, h.data(), h.size(), c), HSK_OK);
	ASSERT_EQ(hsk_prf_finished(HSK_HASH_SHA256, m.data(), 0, h.data(), h.size(), s), HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(c, c + 12), ossl_prf("SHA256", m, "client finished", h, {}, 12));
	EXPECT_EQ(std::vector<uint8_t>(s, s + 12), ossl_prf("SHA256", m, "server finished", h, {}, 12));
}

TEST(HskSuite, TableLookups)
{
	const hsk_suite *s = hsk_suite_by_id(0xc02f);
	ASSERT_NE(s, nullptr);
	EXPECT_STREQ(s->name, "ECDHE-RSA-AES128-GCM-SHA256");
	EXPECT_EQ(hsk_suite_by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), s);
	EXPECT_EQ(hsk_suite_by_name("ecdhe-rsa-aes128-gcm-sha256"), s);
	EXPECT_EQ(hsk_suite_by_id(0x0005), nullptr); // RC4: never
	EXPECT_EQ(hsk_suite_by_id(0x000a), nullptr); // 3DES: never
	EXPECT_EQ(hsk_suite_by_name("RC4-SHA"), nullptr);
	size_t n;
	const hsk_suite *all = hsk_suite_all(&n);
	for (size_t i = 0; i < n; i++) {
		// static RSA and SHA-1 MACs are never on by default
		if (all[i].kx == HSK_KX_RSA || all[i].mac == HSK_HASH_SHA1) {
			EXPECT_FALSE(all[i].default_on) << all[i].name;
		}
		EXPECT_EQ(hsk_suite_by_id(all[i].id), &all[i]);
	}
	EXPECT_EQ(hsk_hash_len(HSK_HASH_SHA384), 48u);
}

} // namespace

// ---- TLS 1.3 key schedule (RFC 8446 7.1), RFC 8448 3 "Simple 1-RTT" ----

#include "hsk_hkdf.h"

namespace {

TEST(HskHkdf, Rfc8448EarlyAndHandshakeSecrets)
{
	uint8_t early[32], empty_hash[32], derived[32], hs[32];
	ASSERT_EQ(hsk_hkdf_extract(HSK_HASH_SHA256, nullptr, 0, nullptr, 0, early), HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(early, early + 32),
		  unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"));
	unsigned int n;
	EVP_Digest("", 0, empty_hash, &n, EVP_sha256(), nullptr);
	ASSERT_EQ(hsk_hkdf_derive_secret(HSK_HASH_SHA256, early, "derived", empty_hash, derived), HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(derived, derived + 32),
		  unhex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"));
	auto ecdhe = unhex("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d");
	ASSERT_EQ(hsk_hkdf_extract(HSK_HASH_SHA256, derived, 32, ecdhe.data(), ecdhe.size(), hs), HSK_OK);
	EXPECT_EQ(std::vector<uint8_t>(hs, hs + 32),
		  unhex("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"));
}

// Expand-Label against OpenSSL's own TLS13-KDF for both hashes.
TEST(HskHkdf, ExpandLabelMatchesOpenSsl)
{
	for (int hash : { HSK_HASH_SHA256, HSK_HASH_SHA384 }) {
		size_t hl = hsk_hash_len(hash);
		auto secret = rnd(hl), ctx = rnd(hl);
		for (size_t len : { (size_t)12, (size_t)16, (size_t)32, hl }) {
			std::vector<uint8_t> ours(len), ref(len);
			ASSERT_EQ(hsk_hkdf_expand_label(hash, secret.data(), "c hs traffic", ctx.data(), ctx.size(),
							ours.data(), len),
				  HSK_OK);
			EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "TLS13-KDF", nullptr);
			EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
			int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
			OSSL_PARAM p[] = {
				OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
				OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
								 (char *)(hash == HSK_HASH_SHA256 ? "SHA256" : "SHA384"), 0),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret.data(), secret.size()),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)"tls13 ", 6),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)"c hs traffic", 12),
				OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, ctx.data(), ctx.size()),
				OSSL_PARAM_construct_end(),
			};
			ASSERT_EQ(EVP_KDF_derive(k, ref.data(), len, p), 1);
			EVP_KDF_CTX_free(k);
			EVP_KDF_free(kdf);
			EXPECT_EQ(ours, ref) << "hash " << hash << " len " << len;
		}
	}
}

// RFC 4231 test cases 2 (short key), 6 (a 131-byte key: hashed first).
TEST(HskHmac, Rfc4231Vectors)
{
	struct V {
		int hash;
		std::vector<uint8_t> key;
		std::string data, mac;
	};
	std::vector<uint8_t> jefe = { 'J', 'e', 'f', 'e' }, big(131, 0xaa);
	const std::string d2 = "what do ya want for nothing?",
			  d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	const V v[] = {
		{ HSK_HASH_SHA256, jefe, d2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ HSK_HASH_SHA384, jefe, d2,
		  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
		{ HSK_HASH_SHA256, big, d6, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ HSK_HASH_SHA512, big, d6,
		  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73"
		  "f63f0aec8b915a985d786598" },
	};
	for (const V &x : v) {
		uint8_t out[64];
		size_t n = 0;
		ASSERT_EQ(hsk_hmac(x.hash, x.key.data(), x.key.size(), (const uint8_t *)x.data.data(), x.data.size(),
				   out, &n),
			  HSK_OK);
		EXPECT_EQ(std::vector<uint8_t>(out, out + n), unhex(x.mac.c_str()));
	}
}

// Random keys around the block sizes, data split into random pieces
// (some empty): the same MAC as OpenSSL's HMAC().
TEST(HskHmac, MatchesOpenSslInPieces)
{
	const struct {
		int hash;
		const EVP_MD *md;
	} hs[] = { { HSK_HASH_SHA1, EVP_sha1() }, { HSK_HASH_SHA256, EVP_sha256() },
		   { HSK_HASH_SHA384, EVP_sha384() }, { HSK_HASH_SHA512, EVP_sha512() } };
	for (const auto &h : hs) {
		for (int round = 0; round < 200; round++) {
			uint8_t r[2];
			RAND_bytes(r, 2);
			auto key = rnd(round % 5 == 0 ? 0 : 1 + r[0] % 200); // 0..200: below, at and above 64/128
			auto data = rnd(r[1] % 300);
			struct hsk_piece piece[4];
			size_t cut1 = data.empty() ? 0 : r[0] % (data.size() + 1), cut2 = cut1 + (data.size() - cut1) / 2;
			piece[0] = { data.data(), cut1 };
			piece[1] = { data.data() + cut1, 0 };
			piece[2] = { data.data() + cut1, cut2 - cut1 };
			piece[3] = { data.data() + cut2, data.size() - cut2 };
			uint8_t out[64], ref[64];
			size_t n = 0;
			unsigned rn = 0;
			// an empty key as a non-NULL pointer: OpenSSL's HMAC() refuses NULL
			const uint8_t *kp = key.empty() ? (const uint8_t *)"" : key.data();
			ASSERT_EQ(hsk_hmacv(h.hash, kp, key.size(), piece, 4, out, &n), HSK_OK);
			ASSERT_NE(HMAC(h.md, kp, (int)key.size(), data.data(), data.size(), ref, &rn), nullptr);
			ASSERT_EQ(n, rn);
			EXPECT_EQ(std::vector<uint8_t>(out, out + n), std::vector<uint8_t>(ref, ref + rn))
				<< "key " << key.size() << " data " << data.size();
		}
	}
}

} // namespace
