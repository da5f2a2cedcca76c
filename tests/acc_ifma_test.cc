// The IFMA backend against OpenSSL: the eight-lane exponentiation against
// BN_mod_exp for every limb count used (RSA-2048/3072/4096 halves), radix
// conversions, the RSA private operation bit for bit against OpenSSL's raw
// RSA, and the signature encodings (PKCS#1 v1.5 identical to OpenSSL's,
// PSS verified by OpenSSL), and eight-lane X25519 against RFC 7748 and
// OpenSSL. Skipped on a CPU without AVX-512 IFMA.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "acc_ifma.h"
#include "acc_ifma_rsa.h"
#include "acc_rsa_pad.h"
#include "acc_ifma_x25519.h"

namespace {

#define NEED_IFMA()                                                   \
	do {                                                          \
		if (!acc_ifma_available())                            \
			GTEST_SKIP() << "no AVX-512 IFMA on this CPU"; \
	} while (0)

struct Bn {
	BIGNUM *b = BN_new();
	~Bn() { BN_free(b); }
};

std::vector<uint8_t>
le_of(const BIGNUM *x, size_t len)
{
	std::vector<uint8_t> v(len);
	BN_bn2lebinpad(x, v.data(), (int)len);
	return v;
}

EVP_PKEY *
rsa_key(unsigned bits)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
	EVP_PKEY *k = nullptr;
	EVP_PKEY_keygen_init(c);
	EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits);
	EVP_PKEY_generate(c, &k);
	EVP_PKEY_CTX_free(c);
	return k;
}

TEST(AccIfma, RadixRoundTrip)
{
	for (int t = 0; t < 100; t++) {
		uint8_t in[260], out[260];
		uint64_t limbs[ACC_IFMA_MAX_LIMBS];
		size_t len = 1 + (size_t)t * 2;
		RAND_bytes(in, sizeof(in));
		acc_ifma_from_bytes(limbs, 1, ACC_IFMA_MAX_LIMBS, 52, in, len);
		for (size_t i = 0; i < ACC_IFMA_MAX_LIMBS; i++)
			ASSERT_LT(limbs[i], 1ULL << 52);
		acc_ifma_to_bytes(limbs, 1, ACC_IFMA_MAX_LIMBS, 52, out, len);
		ASSERT_EQ(memcmp(in, out, len), 0) << len;
	}
}

TEST(AccIfma, K0)
{
	for (uint64_t m : {1ULL, 3ULL, 0xfffffffffffffULL, 0x123456789abcdefULL}) {
		uint64_t k0 = acc_ifma_k0(m);
		EXPECT_EQ((m * k0 + 1) & ((1ULL << 52) - 1), 0u) << m;
	}
}

// Lane L: random odd modulus of bits_m, base below it, exponent of exp_bits.
void
modexp_case(size_t n, int bits_m, size_t exp_bits)
{
	auto b = std::unique_ptr<acc_ifma_batch, void (*)(void *)>(
		static_cast<acc_ifma_batch *>(aligned_alloc(64, sizeof(acc_ifma_batch))), free);
	memset(b.get(), 0, sizeof(*b));
	BN_CTX *ctx = BN_CTX_new();
	Bn m[8], x[8], e[8], want[8], rr, got;
	size_t len = (n * 52 + 7) / 8 + 8;
	b->n = n;
	b->exp_bits = exp_bits;
	for (int l = 0; l < 8; l++) {
		BN_rand(m[l].b, bits_m, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
		BN_rand_range(x[l].b, m[l].b);
		if (l == 1)
			BN_zero(x[l].b); // edge cases: 0, 1, m - 1
		if (l == 2)
			BN_one(x[l].b);
		if (l == 3)
			BN_sub(x[l].b, m[l].b, BN_value_one());
		BN_rand(e[l].b, (int)exp_bits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
		if (l == 4)
			BN_zero(e[l].b);
		BN_mod_exp(want[l].b, x[l].b, e[l].b, m[l].b, ctx);
		BN_zero(rr.b);
		BN_set_bit(rr.b, (int)(2 * 52 * n));
		BN_mod(rr.b, rr.b, m[l].b, ctx);
		auto ml = le_of(m[l].b, len), rl = le_of(rr.b, len), xl = le_of(x[l].b, len);
		acc_ifma_from_bytes(&b->mod[0][l], 8, n, 52, ml.data(), len);
		acc_ifma_from_bytes(&b->rr[0][l], 8, n, 52, rl.data(), len);
		acc_ifma_from_bytes(&b->base[0][l], 8, n, 52, xl.data(), len);
		b->k0[l] = acc_ifma_k0(b->mod[0][l]);
		std::vector<uint8_t> el(ACC_IFMA_MAX_EXP_WORDS * 8);
		BN_bn2lebinpad(e[l].b, el.data(), (int)el.size());
		memcpy(b->exp[l], el.data(), el.size());
	}
	acc_ifma_modexp(b.get());
	for (int l = 0; l < 8; l++) {
		std::vector<uint8_t> out(len);
		acc_ifma_to_bytes(&b->out[0][l], 8, n, 52, out.data(), len);
		BN_lebin2bn(out.data(), (int)len, got.b);
		EXPECT_EQ(BN_cmp(got.b, want[l].b), 0) << "n=" << n << " lane " << l;
	}
	BN_CTX_free(ctx);
}

TEST(AccIfma, ModexpMatchesBnModExp)
{
	NEED_IFMA();
	for (int rep = 0; rep < 4; rep++) {
		modexp_case(20, 1024, 1024);
		modexp_case(20, 1038, 1024); // the largest modulus 20 limbs allow
		modexp_case(30, 1536, 1536);
		modexp_case(30, 1558, 1536); // the squarings by columns at their bounds
		modexp_case(40, 2048, 2048);
		modexp_case(40, 2078, 2048);
		modexp_case(3, 100, 7); // tiny, short exponent
	}
}

// The public-exponent power (the lanes' check of RSA results) against
// BN_mod_exp: the RSA-2048 modulus size and others, exponents 3, 65537, a
// full word, 1; the bases 0, 1, m - 1 and random ones.
TEST(AccIfma, PublicPowerMatchesBnModExp)
{
	NEED_IFMA();
	auto b = std::unique_ptr<acc_ifma_batch, void (*)(void *)>(
		static_cast<acc_ifma_batch *>(aligned_alloc(64, sizeof(acc_ifma_batch))), free);
	BN_CTX *ctx = BN_CTX_new();
	const struct {
		size_t n;
		int bits;
	} sizes[] = { { 40, 2048 }, { 40, 2078 }, { 20, 1024 }, { 30, 1500 }, { 3, 100 } };
	for (auto sz : sizes)
		for (uint64_t e : { 3ULL, 65537ULL, 0xfedcba9876543211ULL, 1ULL }) {
			Bn m[8], x[8], want, rr, got, eb;
			size_t len = (sz.n * 52 + 7) / 8 + 8;
			memset(b.get(), 0, sizeof(*b));
			b->n = sz.n;
			BN_set_word(eb.b, e);
			for (int l = 0; l < 8; l++) {
				BN_rand(m[l].b, sz.bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD);
				BN_rand_range(x[l].b, m[l].b);
				if (l == 1)
					BN_zero(x[l].b);
				if (l == 2)
					BN_one(x[l].b);
				if (l == 3)
					BN_sub(x[l].b, m[l].b, BN_value_one());
				BN_zero(rr.b);
				BN_set_bit(rr.b, (int)(2 * 52 * sz.n));
				BN_mod(rr.b, rr.b, m[l].b, ctx);
				auto ml = le_of(m[l].b, len), rl = le_of(rr.b, len), xl = le_of(x[l].b, len);
				acc_ifma_from_bytes(&b->mod[0][l], 8, sz.n, 52, ml.data(), len);
				acc_ifma_from_bytes(&b->rr[0][l], 8, sz.n, 52, rl.data(), len);
				acc_ifma_from_bytes(&b->base[0][l], 8, sz.n, 52, xl.data(), len);
				b->k0[l] = acc_ifma_k0(b->mod[0][l]);
			}
			acc_ifma_modexp_public(b.get(), e);
			for (int l = 0; l < 8; l++) {
				std::vector<uint8_t> out(len);
				BN_mod_exp(want.b, x[l].b, eb.b, m[l].b, ctx);
				acc_ifma_to_bytes(&b->out[0][l], 8, sz.n, 52, out.data(), len);
				BN_lebin2bn(out.data(), (int)len, got.b);
				EXPECT_EQ(BN_cmp(got.b, want.b), 0) << "n=" << sz.n << " e=" << e << " lane " << l;
			}
		}
	BN_CTX_free(ctx);
}

// Raw RSA (no padding) through OpenSSL: the reference result.
std::vector<uint8_t>
ossl_raw(EVP_PKEY *k, const std::vector<uint8_t> &in)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, nullptr);
	std::vector<uint8_t> out(in.size());
	size_t len = out.size();
	EXPECT_EQ(EVP_PKEY_decrypt_init(c), 1);
	EXPECT_EQ(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING), 1);
	EXPECT_EQ(EVP_PKEY_decrypt(c, out.data(), &len, in.data(), in.size()), 1);
	EVP_PKEY_CTX_free(c);
	return out;
}

TEST(AccIfmaRsa, PrivateMatchesOpenSSLBitForBit)
{
	NEED_IFMA();
	acc_ifma_rsa *r = acc_ifma_rsa_new();
	ASSERT_NE(r, nullptr);
	for (unsigned bits : {2048u, 3072u, 4096u}) {
		EVP_PKEY *pk = rsa_key(bits);
		acc_ifma_rsa_key *k = acc_ifma_rsa_key_new(pk);
		ASSERT_NE(k, nullptr) << bits;
		size_t bytes = acc_ifma_rsa_key_bytes(k);
		ASSERT_EQ(bytes, bits / 8);
		for (size_t count = 1; count <= ACC_IFMA_RSA_MAX; count++) {
			std::vector<std::vector<uint8_t>> in(count, std::vector<uint8_t>(bytes)), out = in;
			const uint8_t *ip[ACC_IFMA_RSA_MAX];
			uint8_t *op[ACC_IFMA_RSA_MAX];
			bool ok[ACC_IFMA_RSA_MAX];
			for (size_t i = 0; i < count; i++) {
				RAND_bytes(in[i].data(), (int)bytes);
				in[i][0] &= 0x7f; // below n
				ip[i] = in[i].data();
				op[i] = out[i].data();
			}
			EXPECT_EQ(acc_ifma_rsa_private(r, k, count, ip, op, ok), 0u);
			for (size_t i = 0; i < count; i++) {
				ASSERT_TRUE(ok[i]) << bits << " " << count << " " << i;
				EXPECT_EQ(out[i], ossl_raw(pk, in[i])) << bits << " " << count << " " << i;
			}
		}
		// an input not below n is refused, the others still done
		std::vector<uint8_t> big(bytes, 0xff), fine(bytes, 0x01), o1(bytes), o2(bytes);
		const uint8_t *ip[2] = {big.data(), fine.data()};
		uint8_t *op[2] = {o1.data(), o2.data()};
		bool ok[2];
		acc_ifma_rsa_private(r, k, 2, ip, op, ok);
		EXPECT_FALSE(ok[0]);
		EXPECT_TRUE(ok[1]);
		EXPECT_EQ(o2, ossl_raw(pk, fine));
		acc_ifma_rsa_key_free(k);
		EVP_PKEY_free(pk);
	}
	acc_ifma_rsa_free(r);
}

TEST(AccIfmaRsa, ANewKeyAtAFreedKeysAddressGetsItsOwnBlinding)
{
	// The worker's blinding values are per key; a key freed and another
	// allocated in its place must not inherit them (found by this suite:
	// every result then failed its check).
	NEED_IFMA();
	acc_ifma_rsa *r = acc_ifma_rsa_new();
	const void *first = nullptr;
	bool reused = false;
	for (int round = 0; round < 4; round++) {
		EVP_PKEY *pk = rsa_key(2048);
		acc_ifma_rsa_key *k = acc_ifma_rsa_key_new(pk);
		ASSERT_NE(k, nullptr);
		if (round == 0)
			first = k;
		else
			reused = reused || k == first;
		std::vector<uint8_t> in(256), out(256);
		RAND_bytes(in.data(), 256);
		in[0] &= 0x7f;
		const uint8_t *ip[1] = {in.data()};
		uint8_t *op[1] = {out.data()};
		bool ok[1];
		EXPECT_EQ(acc_ifma_rsa_private(r, k, 1, ip, op, ok), 0u) << round;
		EXPECT_TRUE(ok[0]);
		EXPECT_EQ(out, ossl_raw(pk, in));
		acc_ifma_rsa_key_free(k);
		EVP_PKEY_free(pk);
	}
	if (!reused)
		std::printf("note: the allocator did not reuse the address this time\n");
	acc_ifma_rsa_free(r);
}

TEST(AccIfmaRsa, NotForOtherKeys)
{
	EVP_PKEY *small = rsa_key(1024);
	EXPECT_EQ(acc_ifma_rsa_key_new(small), nullptr);
	EVP_PKEY_free(small);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
	EVP_PKEY *ec = nullptr;
	EVP_PKEY_keygen_init(c);
	EVP_PKEY_CTX_set_group_name(c, "P-256");
	EVP_PKEY_generate(c, &ec);
	EVP_PKEY_CTX_free(c);
	EXPECT_EQ(acc_ifma_rsa_key_new(ec), nullptr);
	EVP_PKEY_free(ec);
}

TEST(AccRsaPad, Pkcs1IdenticalToOpenSSLAndPssVerifies)
{
	EVP_PKEY *pk = rsa_key(2048);
	for (const EVP_MD *md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
		uint8_t dg[64], em[256];
		size_t dl = (size_t)EVP_MD_get_size(md);
		RAND_bytes(dg, (int)dl);
		// PKCS#1 v1.5: our encoding, OpenSSL's raw private op == OpenSSL's signature
		ASSERT_EQ(acc_rsa_pad_pkcs1(md, dg, dl, em, sizeof(em)), 0);
		std::vector<uint8_t> ours = ossl_raw(pk, std::vector<uint8_t>(em, em + sizeof(em)));
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, nullptr);
		std::vector<uint8_t> theirs(256);
		size_t sl = theirs.size();
		EVP_PKEY_sign_init(c);
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING);
		EVP_PKEY_CTX_set_signature_md(c, md);
		ASSERT_EQ(EVP_PKEY_sign(c, theirs.data(), &sl, dg, dl), 1);
		EVP_PKEY_CTX_free(c);
		EXPECT_EQ(ours, theirs);
		// PSS: OpenSSL verifies it with salt length = digest length
		ASSERT_EQ(acc_rsa_pad_pss(md, dg, dl, em, sizeof(em), 2048), 0);
		std::vector<uint8_t> sig = ossl_raw(pk, std::vector<uint8_t>(em, em + sizeof(em)));
		c = EVP_PKEY_CTX_new(pk, nullptr);
		EVP_PKEY_verify_init(c);
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_signature_md(c, md);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(c, (int)dl);
		EXPECT_EQ(EVP_PKEY_verify(c, sig.data(), sig.size(), dg, dl), 1);
		dg[0] ^= 1;
		EXPECT_NE(EVP_PKEY_verify(c, sig.data(), sig.size(), dg, dl), 1);
		EVP_PKEY_CTX_free(c);
	}
	EVP_PKEY_free(pk);
}

using test_hex::unhex;

// One lane, through acc_ifma_x25519_lanes.
std::vector<uint8_t>
x25519_one(const std::vector<uint8_t> &k, const uint8_t *u, bool *okp = nullptr)
{
	uint8_t out[32];
	const uint8_t *kp[1] = {k.data()}, *up[1] = {u};
	uint8_t *op[1] = {out};
	bool ok;
	acc_ifma_x25519_lanes(1, kp, up, op, &ok);
	if (okp != nullptr)
		*okp = ok;
	return std::vector<uint8_t>(out, out + 32);
}

TEST(AccIfmaX25519, Rfc7748Vectors)
{
	NEED_IFMA();
	// 5.2, a single multiplication
	auto k1 = unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	auto u1 = unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
	EXPECT_EQ(x25519_one(k1, u1.data()), unhex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
	// 5.2, iterated: k = u = 9, after 1 and 1,000 iterations
	std::vector<uint8_t> k(32, 0), u(32, 0);
	k[0] = u[0] = 9;
	for (int i = 1; i <= 1000; i++) {
		auto r = x25519_one(k, u.data());
		u = k;
		k = r;
		if (i == 1) {
			EXPECT_EQ(k, unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"));
		}
	}
	EXPECT_EQ(k, unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"));
	// 6.1: Alice and Bob
	auto a = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	auto b = unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	auto apub = unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	auto bpub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	auto shared = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	EXPECT_EQ(x25519_one(a, nullptr), apub);
	EXPECT_EQ(x25519_one(b, nullptr), bpub);
	EXPECT_EQ(x25519_one(a, bpub.data()), shared);
	EXPECT_EQ(x25519_one(b, apub.data()), shared);
	// a point of small order gives all zeros: refused
	std::vector<uint8_t> zero(32, 0);
	bool ok = true;
	EXPECT_EQ(x25519_one(a, zero.data(), &ok), zero);
	EXPECT_FALSE(ok);
}

// Random scalars and points (including non-canonical u >= p and the top
// bit set) in 1..8 lanes against OpenSSL.
TEST(AccIfmaX25519, MatchesOpenSSL)
{
	NEED_IFMA();
	int zeros = 0;
	for (int round = 0; round < 300; round++) {
		size_t count = 1 + (size_t)round % 8;
		uint8_t k[8][32], u[8][32], out[8][32];
		const uint8_t *kp[8], *up[8];
		uint8_t *op[8];
		bool ok[8];
		for (size_t l = 0; l < count; l++) {
			RAND_bytes(k[l], 32);
			RAND_bytes(u[l], 32);
			if (round % 5 == 0) // non-canonical: p <= u < 2^255, or with the top bit
				memset(u[l] + 1, 0xff, 31), u[l][0] = (uint8_t)(0xed + l % 18);
			kp[l] = k[l];
			up[l] = (round % 7 == 3 && l % 2) ? nullptr : u[l];
			op[l] = out[l];
		}
		acc_ifma_x25519_lanes(count, kp, up, op, ok);
		for (size_t l = 0; l < count; l++) {
			uint8_t want[32];
			size_t wl = 32;
			int rc = 1;
			EVP_PKEY *priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, k[l], 32);
			if (up[l] == nullptr) {
				ASSERT_EQ(EVP_PKEY_get_raw_public_key(priv, want, &wl), 1);
			} else {
				EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, u[l], 32);
				EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, nullptr);
				ASSERT_EQ(EVP_PKEY_derive_init(c), 1);
				ASSERT_EQ(EVP_PKEY_derive_set_peer(c, peer), 1);
				rc = EVP_PKEY_derive(c, want, &wl); // fails on an all-zero result
				EVP_PKEY_CTX_free(c);
				EVP_PKEY_free(peer);
			}
			EVP_PKEY_free(priv);
			EXPECT_EQ(ok[l], rc == 1) << "round " << round << " lane " << l;
			if (rc == 1) {
				EXPECT_EQ(memcmp(out[l], want, 32), 0) << "round " << round << " lane " << l;
			}
			zeros += rc != 1;
		}
	}
	EXPECT_GT(zeros, 0); // u = p and u = p + 1 (small order) came up and were refused
}

} // namespace
