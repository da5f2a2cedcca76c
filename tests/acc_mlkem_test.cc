// ML-KEM-768 (accel/acc_mlkem.c): a NIST ACVP known answer (encapsulation
// and decapsulation, tests/data/mlkem768_acvp_encapdecap.txt), the C2SP
// CCTV accumulated vectors (keyGen, encaps, decaps of 10 000 cases), vectors made by OpenSSL 3.5 through
// Node.js 26 (tests/tools/mlkem_node_vectors.js), round trips, implicit
// rejection, and the input checks of FIPS 203 7.2 and 7.3.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "acc_mlkem.h"

namespace {

using test_hex::unhex;
using Bytes = std::vector<uint8_t>;

// Lines of "key=hex key=hex ..." from tests/data/NAME; '#' starts a comment.
std::vector<std::map<std::string, std::string>>
load(const char *name)
{
	std::vector<std::map<std::string, std::string>> out;
	std::ifstream f(std::string(TLSO_SOURCE_DIR) + "/tests/data/" + name);
	std::string line;

	while (std::getline(f, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream ss(line);
		std::map<std::string, std::string> kv;
		std::string tok;
		while (ss >> tok) {
			size_t eq = tok.find('=');
			if (eq != std::string::npos)
				kv[tok.substr(0, eq)] = tok.substr(eq + 1);
		}
		out.push_back(kv);
	}
	return out;
}

struct Mlkem : ::testing::Test {
	acc_mlkem *mk = nullptr;
	void SetUp() override
	{
		mk = acc_mlkem_new();
		ASSERT_NE(mk, nullptr);
	}
	void TearDown() override { acc_mlkem_free(mk); }
};

TEST_F(Mlkem, NodeOpenSsl35KeyGenAndDecaps)
{
	auto v = load("mlkem768_node.txt");
	ASSERT_GE(v.size(), 4u);
	for (auto &t : v) {
		Bytes seed = unhex(t["seed"]), ek(ACC_MLKEM768_EK_LEN), dk(ACC_MLKEM768_DK_LEN), ss(32);
		ASSERT_EQ(seed.size(), 64u);
		ASSERT_EQ(acc_mlkem768_keygen(mk, seed.data(), seed.data() + 32, ek.data(), dk.data()), 0);
		EXPECT_EQ(ek, unhex(t["ek"]));
		Bytes ct = unhex(t["ct"]);
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size(), ss.data()), 0);
		EXPECT_EQ(ss, unhex(t["ss"]));
		Bytes bad = unhex(t["bad"]);
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), bad.data(), bad.size(), ss.data()), 0);
		EXPECT_EQ(ss, unhex(t["rej"])) << "implicit rejection differs";
	}
}

// The accumulated test of C2SP CCTV ML-KEM: 10 000 key pairs,
// encapsulations and decapsulations of random ciphertexts drawn from
// SHAKE-128(""), every output hashed into one SHAKE-128. The expected
// value for final FIPS 203 (with k appended to d, 5.1) is the one that
// BoringSSL and LibreSSL check (LibreSSL regress mlkem_iteration_tests.c,
// kExpectedAdam768); CCTV's own README value is for the draft.
TEST_F(Mlkem, CctvAccumulated10000)
{
	const size_t iters = 10000, per = 32 + 32 + 32 + ACC_MLKEM768_CT_LEN;
	Bytes rng(iters * per), ek(ACC_MLKEM768_EK_LEN), dk(ACC_MLKEM768_DK_LEN), ct(ACC_MLKEM768_CT_LEN), k(32), k2(32),
		out(32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	ASSERT_TRUE(EVP_DigestInit_ex(c, EVP_shake128(), nullptr));
	ASSERT_TRUE(EVP_DigestFinalXOF(c, rng.data(), rng.size()));
	EXPECT_EQ(Bytes(rng.begin(), rng.begin() + 4), unhex("7f9c2ba4"));
	ASSERT_TRUE(EVP_DigestInit_ex(c, EVP_shake128(), nullptr));
	for (size_t i = 0; i < iters; i++) {
		const uint8_t *r = rng.data() + i * per;
		ASSERT_EQ(acc_mlkem768_keygen(mk, r, r + 32, ek.data(), dk.data()), 0);
		EVP_DigestUpdate(c, ek.data(), ek.size());
		EVP_DigestUpdate(c, dk.data(), dk.size());
		ASSERT_EQ(acc_mlkem768_encaps(mk, ek.data(), ek.size(), r + 64, ct.data(), k.data()), 0);
		EVP_DigestUpdate(c, ct.data(), ct.size());
		EVP_DigestUpdate(c, k.data(), k.size());
		if (i % 100 == 0) { // the right ciphertext gives the same secret
			ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size(), k2.data()), 0);
			ASSERT_EQ(k, k2);
		}
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), r + 96, ACC_MLKEM768_CT_LEN, k2.data()), 0);
		EVP_DigestUpdate(c, k2.data(), k2.size());
	}
	ASSERT_TRUE(EVP_DigestFinalXOF(c, out.data(), out.size()));
	EVP_MD_CTX_free(c);
	EXPECT_EQ(out, unhex("f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1"));
}

TEST_F(Mlkem, AcvpEncapsDecaps)
{
	auto v = load("mlkem768_acvp_encapdecap.txt");
	ASSERT_EQ(v.size(), 1u);
	for (auto &t : v) {
		Bytes ek = unhex(t["ek"]), m = unhex(t["m"]), dk = unhex(t["dk"]), ct(ACC_MLKEM768_CT_LEN), ss(32);
		ASSERT_EQ(acc_mlkem768_encaps(mk, ek.data(), ek.size(), m.data(), ct.data(), ss.data()), 0);
		EXPECT_EQ(ct, unhex(t["c"])) << "tcId " << t["tcId"];
		EXPECT_EQ(ss, unhex(t["k"])) << "tcId " << t["tcId"];
		Bytes c = unhex(t["c"]);
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), c.data(), c.size(), ss.data()), 0);
		EXPECT_EQ(ss, unhex(t["k"])) << "tcId " << t["tcId"];
	}
}

TEST_F(Mlkem, RoundTripAndImplicitRejection)
{
	Bytes ek(ACC_MLKEM768_EK_LEN), dk(ACC_MLKEM768_DK_LEN), ct(ACC_MLKEM768_CT_LEN), ss(32), ss2(32), ss3(32);

	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(acc_mlkem768_keygen(mk, nullptr, nullptr, ek.data(), dk.data()), 0);
		ASSERT_EQ(acc_mlkem768_encaps(mk, ek.data(), ek.size(), nullptr, ct.data(), ss.data()), 0);
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size(), ss2.data()), 0);
		EXPECT_EQ(ss, ss2);
		// A changed ciphertext decapsulates to J(z || c), not an error.
		ct[i * 100] ^= 1;
		ASSERT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size(), ss3.data()), 0);
		EXPECT_NE(ss3, ss);
	}
}

// FIPS 203 7.2: the length, and every 12-bit value of t-hat below q.
TEST_F(Mlkem, EncapsRefusesBadKeys)
{
	Bytes ek(ACC_MLKEM768_EK_LEN), dk(ACC_MLKEM768_DK_LEN), ct(ACC_MLKEM768_CT_LEN), ss(32);

	ASSERT_EQ(acc_mlkem768_keygen(mk, nullptr, nullptr, ek.data(), dk.data()), 0);
	EXPECT_EQ(acc_mlkem768_encaps(mk, ek.data(), ek.size() - 1, nullptr, ct.data(), ss.data()), -2);
	Bytes bad = ek;
	bad[1150] = 0xff; // the last coefficient's high byte: 0xff0 | low nibble >= q
	bad[1149] |= 0xf0;
	EXPECT_EQ(acc_mlkem768_encaps(mk, bad.data(), bad.size(), nullptr, ct.data(), ss.data()), -2);
	bad = ek;
	bad[0] = 0x01; // coefficient 0 = 3329 exactly: 0xd01
	bad[1] = (uint8_t)((bad[1] & 0xf0) | 0x0d);
	EXPECT_EQ(acc_mlkem768_encaps(mk, bad.data(), bad.size(), nullptr, ct.data(), ss.data()), -2);
	bad[0] = 0x00; // 3328 = q - 1: reduced, accepted
	EXPECT_EQ(acc_mlkem768_encaps(mk, bad.data(), bad.size(), nullptr, ct.data(), ss.data()), 0);
	// the seed rho is not checked: any 32 bytes
	bad = ek;
	memset(bad.data() + 1152, 0xff, 32);
	EXPECT_EQ(acc_mlkem768_encaps(mk, bad.data(), bad.size(), nullptr, ct.data(), ss.data()), 0);
}

// FIPS 203 7.3: lengths and the hash of ek inside dk.
TEST_F(Mlkem, DecapsRefusesBadInputs)
{
	Bytes ek(ACC_MLKEM768_EK_LEN), dk(ACC_MLKEM768_DK_LEN), ct(ACC_MLKEM768_CT_LEN), ss(32);

	ASSERT_EQ(acc_mlkem768_keygen(mk, nullptr, nullptr, ek.data(), dk.data()), 0);
	ASSERT_EQ(acc_mlkem768_encaps(mk, ek.data(), ek.size(), nullptr, ct.data(), ss.data()), 0);
	EXPECT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size() - 1, ss.data()), -2);
	EXPECT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size() - 1, ct.data(), ct.size(), ss.data()), -2);
	dk[1152 + 5] ^= 1; // ek inside dk no longer matches H(ek)
	EXPECT_EQ(acc_mlkem768_decaps(mk, dk.data(), dk.size(), ct.data(), ct.size(), ss.data()), -2);
}

} // namespace
