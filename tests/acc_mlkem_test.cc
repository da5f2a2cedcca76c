// ML-KEM-768 (accel/acc_mlkem.c): NIST ACVP known answers (keyGen,
// encapsulation, decapsulation), vectors made by OpenSSL 3.5 through
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
