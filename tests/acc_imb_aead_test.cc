// AEAD through ipsec-mb (AES-128/256-GCM, ChaCha20-Poly1305) against the
// published vectors and against OpenSSL's EVP for random keys, nonces,
// additional data and lengths (empty to a full record, in place and not),
// and tampering rejected. The record-layer and engine tests run once more
// with TLSO_NO_IPSECMB=1, the EVP fallback.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "acc_imb_aead.h"

namespace {

using test_hex::unhex;

#define NEED_IPSECMB()                                                        \
	do {                                                                  \
		if (acc_imb_aead_impl() == nullptr)                               \
			GTEST_SKIP() << "ipsec-mb not in this build or masked"; \
	} while (0)

const EVP_CIPHER *
evp_of(acc_aead alg)
{
	return alg == ACC_AEAD_AES_128_GCM ? EVP_aes_128_gcm()
	       : alg == ACC_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
					     : EVP_chacha20_poly1305();
}

size_t
key_len(acc_aead alg)
{
	return alg == ACC_AEAD_AES_128_GCM ? 16 : 32;
}

// EVP reference: ciphertext || tag.
std::vector<uint8_t>
evp_seal(acc_aead alg, const std::vector<uint8_t> &key, const uint8_t iv[12], const std::vector<uint8_t> &aad,
	 const std::vector<uint8_t> &pt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	std::vector<uint8_t> out(pt.size() + 16);
	int n = 0;
	EVP_EncryptInit_ex(c, evp_of(alg), nullptr, key.data(), iv);
	EVP_EncryptUpdate(c, nullptr, &n, aad.data(), (int)aad.size());
	EVP_EncryptUpdate(c, out.data(), &n, pt.data(), (int)pt.size());
	EVP_EncryptFinal_ex(c, out.data() + n, &n);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + pt.size());
	EVP_CIPHER_CTX_free(c);
	return out;
}

TEST(AccAead, GcmPublishedVectors)
{
	NEED_IPSECMB();
	// GCM spec (McGrew & Viega) test cases 2 and 14: zero key, zero IV,
	// one zero block.
	struct {
		acc_aead alg;
		const char *key, *ct, *tag;
	} tc[] = {
		{ACC_AEAD_AES_128_GCM, "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
		 "ab6e47d42cec13bdf53a67b21257bddf"},
		{ACC_AEAD_AES_256_GCM, "0000000000000000000000000000000000000000000000000000000000000000",
		 "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
	};
	for (auto &t : tc) {
		auto key = unhex(t.key);
		uint8_t iv[12] = {0}, pt[16] = {0}, ct[16], tag[16], back[16];
		acc_imb_aead *g = acc_imb_aead_new(t.alg, key.data());
		ASSERT_NE(g, nullptr);
		acc_imb_aead_seal(g, iv, nullptr, 0, pt, ct, 16, tag);
		EXPECT_EQ(std::vector<uint8_t>(ct, ct + 16), unhex(t.ct));
		EXPECT_EQ(std::vector<uint8_t>(tag, tag + 16), unhex(t.tag));
		EXPECT_TRUE(acc_imb_aead_open(g, iv, nullptr, 0, ct, back, 16, tag));
		EXPECT_EQ(memcmp(back, pt, 16), 0);
		acc_imb_aead_free(g);
	}
}

// RFC 8439 2.8.2: the AEAD construction's example.
TEST(AccAead, ChaCha20Poly1305Rfc8439)
{
	NEED_IPSECMB();
	const std::string text = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
				 "future, sunscreen would be it.";
	auto key = unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	auto iv = unhex("070000004041424344454647");
	auto aad = unhex("50515253c0c1c2c3c4c5c6c7");
	auto want = unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
			  "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831"
			  "d7bc3ff4def08e4b7a9de576d26586cec64b6116");
	auto tag = unhex("1ae10b594f09e26a7e902ecbd0600691");
	std::vector<uint8_t> ct(text.size()), t(16), back(text.size());
	acc_imb_aead *g = acc_imb_aead_new(ACC_AEAD_CHACHA20_POLY1305, key.data());
	ASSERT_NE(g, nullptr);
	acc_imb_aead_seal(g, iv.data(), aad.data(), aad.size(), (const uint8_t *)text.data(), ct.data(), text.size(),
			  t.data());
	EXPECT_EQ(ct, want);
	EXPECT_EQ(t, tag);
	EXPECT_TRUE(acc_imb_aead_open(g, iv.data(), aad.data(), aad.size(), ct.data(), back.data(), ct.size(), t.data()));
	EXPECT_EQ(std::string(back.begin(), back.end()), text);
	acc_imb_aead_free(g);
}

class AccAeadAlg : public ::testing::TestWithParam<acc_aead> {};

TEST_P(AccAeadAlg, MatchesEvpAndRejectsTampering)
{
	NEED_IPSECMB();
	const acc_aead alg = GetParam();
	const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 255, 1000, 4096, 16383, 16384, 16385};
	for (int round = 0; round < 400; round++) {
		std::vector<uint8_t> key(key_len(alg)), aad(round % 3 == 0 ? 13 : round % 5 == 0 ? 0 : 5 + round % 60);
		size_t len = round < 13 ? lens[round] : (size_t)(rand() % 16400);
		std::vector<uint8_t> pt(len), out(len + 16);
		uint8_t iv[12];
		RAND_bytes(key.data(), (int)key.size());
		RAND_bytes(iv, 12);
		if (!aad.empty())
			RAND_bytes(aad.data(), (int)aad.size());
		if (len)
			RAND_bytes(pt.data(), (int)len);
		acc_imb_aead *g = acc_imb_aead_new(alg, key.data());
		ASSERT_NE(g, nullptr);
		bool in_place = round % 2 == 0;
		if (in_place && len > 0)
			memcpy(out.data(), pt.data(), len);
		acc_imb_aead_seal(g, iv, aad.data(), aad.size(), in_place ? out.data() : pt.data(), out.data(), len,
				  out.data() + len);
		ASSERT_EQ(out, evp_seal(alg, key, iv, aad, pt)) << "round " << round << " len " << len;
		std::vector<uint8_t> back(len + 1);
		EXPECT_TRUE(acc_imb_aead_open(g, iv, aad.data(), aad.size(), out.data(), back.data(), len, out.data() + len));
		EXPECT_TRUE(len == 0 || memcmp(back.data(), pt.data(), len) == 0);
		// one flipped bit anywhere: the tag does not verify
		std::vector<uint8_t> bad = out;
		bad[(size_t)rand() % bad.size()] ^= (uint8_t)(1u << (rand() % 8));
		EXPECT_FALSE(acc_imb_aead_open(g, iv, aad.data(), aad.size(), bad.data(), back.data(), len, bad.data() + len));
		if (!aad.empty()) {
			aad[0] ^= 1;
			EXPECT_FALSE(acc_imb_aead_open(g, iv, aad.data(), aad.size(), out.data(), back.data(), len, out.data() + len));
		}
		acc_imb_aead_free(g);
	}
}

INSTANTIATE_TEST_SUITE_P(Algs, AccAeadAlg,
			 ::testing::Values(ACC_AEAD_AES_128_GCM, ACC_AEAD_AES_256_GCM, ACC_AEAD_CHACHA20_POLY1305));

TEST(AccAead, UnknownAlgorithm)
{
	NEED_IPSECMB();
	uint8_t key[32] = {0};
	EXPECT_EQ(acc_imb_aead_new((acc_aead)0, key), nullptr);
	EXPECT_EQ(acc_imb_aead_new((acc_aead)9, key), nullptr);
}

} // namespace
