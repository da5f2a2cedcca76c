// AES-GCM through ipsec-mb against the published vectors and against
// OpenSSL's EVP for random keys, nonces, additional data and lengths
// (empty to a full record, in place and not), and tampering rejected.
// The record-layer and engine tests run once more with TLSO_NO_IPSECMB=1,
// the EVP fallback.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "acc_imb_gcm.h"

namespace {

using test_hex::unhex;

#define NEED_IPSECMB()                                                        \
	do {                                                                  \
		if (acc_imb_gcm_impl() == nullptr)                                \
			GTEST_SKIP() << "ipsec-mb not in this build or masked"; \
	} while (0)

// EVP reference: ciphertext || tag.
std::vector<uint8_t>
evp_seal(const std::vector<uint8_t> &key, const uint8_t iv[12], const std::vector<uint8_t> &aad,
	 const std::vector<uint8_t> &pt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	std::vector<uint8_t> out(pt.size() + 16);
	int n = 0;
	EVP_EncryptInit_ex(c, key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), nullptr, key.data(), iv);
	EVP_EncryptUpdate(c, nullptr, &n, aad.data(), (int)aad.size());
	EVP_EncryptUpdate(c, out.data(), &n, pt.data(), (int)pt.size());
	EVP_EncryptFinal_ex(c, out.data() + n, &n);
	EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + pt.size());
	EVP_CIPHER_CTX_free(c);
	return out;
}

TEST(AccGcm, PublishedVectors)
{
	NEED_IPSECMB();
	// GCM spec (McGrew & Viega) test cases 2 and 14: zero key, zero IV,
	// one zero block.
	struct {
		const char *key, *ct, *tag;
	} tc[] = {
		{"00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
		 "ab6e47d42cec13bdf53a67b21257bddf"},
		{"0000000000000000000000000000000000000000000000000000000000000000",
		 "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
	};
	for (auto &t : tc) {
		auto key = unhex(t.key);
		uint8_t iv[12] = {0}, pt[16] = {0}, ct[16], tag[16], back[16];
		acc_imb_gcm *g = acc_imb_gcm_new(key.data(), key.size());
		ASSERT_NE(g, nullptr);
		acc_imb_gcm_seal(g, iv, nullptr, 0, pt, ct, 16, tag);
		EXPECT_EQ(std::vector<uint8_t>(ct, ct + 16), unhex(t.ct));
		EXPECT_EQ(std::vector<uint8_t>(tag, tag + 16), unhex(t.tag));
		EXPECT_TRUE(acc_imb_gcm_open(g, iv, nullptr, 0, ct, back, 16, tag));
		EXPECT_EQ(memcmp(back, pt, 16), 0);
		acc_imb_gcm_free(g);
	}
}

TEST(AccGcm, MatchesEvpAndRejectsTampering)
{
	NEED_IPSECMB();
	const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 255, 1000, 4096, 16383, 16384, 16385};
	for (int round = 0; round < 400; round++) {
		std::vector<uint8_t> key(round % 2 ? 32 : 16), aad(round % 3 == 0 ? 13 : round % 5 == 0 ? 0 : 5 + round % 60);
		size_t len = round < 13 ? lens[round] : (size_t)(rand() % 16400);
		std::vector<uint8_t> pt(len), out(len + 16);
		uint8_t iv[12];
		RAND_bytes(key.data(), (int)key.size());
		RAND_bytes(iv, 12);
		if (!aad.empty())
			RAND_bytes(aad.data(), (int)aad.size());
		if (len)
			RAND_bytes(pt.data(), (int)len);
		acc_imb_gcm *g = acc_imb_gcm_new(key.data(), key.size());
		ASSERT_NE(g, nullptr);
		bool in_place = round % 2 == 0;
		if (in_place && len > 0)
			memcpy(out.data(), pt.data(), len);
		acc_imb_gcm_seal(g, iv, aad.data(), aad.size(), in_place ? out.data() : pt.data(), out.data(), len,
			     out.data() + len);
		ASSERT_EQ(out, evp_seal(key, iv, aad, pt)) << "round " << round << " len " << len;
		std::vector<uint8_t> back(len + 1);
		EXPECT_TRUE(acc_imb_gcm_open(g, iv, aad.data(), aad.size(), out.data(), back.data(), len, out.data() + len));
		EXPECT_TRUE(len == 0 || memcmp(back.data(), pt.data(), len) == 0);
		// one flipped bit anywhere: the tag does not verify
		std::vector<uint8_t> bad = out;
		bad[(size_t)rand() % bad.size()] ^= (uint8_t)(1u << (rand() % 8));
		EXPECT_FALSE(acc_imb_gcm_open(g, iv, aad.data(), aad.size(), bad.data(), back.data(), len, bad.data() + len));
		if (!aad.empty()) {
			aad[0] ^= 1;
			EXPECT_FALSE(acc_imb_gcm_open(g, iv, aad.data(), aad.size(), out.data(), back.data(), len, out.data() + len));
		}
		acc_imb_gcm_free(g);
	}
}

TEST(AccGcm, OnlyAesKeySizes)
{
	NEED_IPSECMB();
	uint8_t key[32] = {0};
	EXPECT_EQ(acc_imb_gcm_new(key, 24), nullptr);
	EXPECT_EQ(acc_imb_gcm_new(key, 0), nullptr);
}

} // namespace
