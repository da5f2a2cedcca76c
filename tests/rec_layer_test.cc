// The record layer: framing checks, sealing and opening for every cipher
// of the suite table (TLS 1.2 AEAD, CBC with MAC-then-encrypt and
// encrypt-then-MAC, TLS 1.3 AEAD), tampering, limits, and a GCM record
// cross-checked against a direct EVP computation.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <string>
#include <vector>

#include "hsk_suite.h"
#include "rec_layer.h"

namespace {

struct Keys {
	uint8_t key[32], iv[12], mac[48];
	Keys()
	{
		RAND_bytes(key, sizeof(key));
		RAND_bytes(iv, sizeof(iv));
		RAND_bytes(mac, sizeof(mac));
	}
};

struct Dirs {
	rec_dir tx = {}, rx = {};
	Dirs(const hsk_suite *s, uint16_t version, bool etm, const Keys &k)
	{
		EXPECT_EQ(rec_dir_init(&tx, s, version, true, etm, k.key, k.iv, k.mac), HSK_OK);
		EXPECT_EQ(rec_dir_init(&rx, s, version, false, etm, k.key, k.iv, k.mac), HSK_OK);
	}
	~Dirs()
	{
		rec_dir_clear(&tx);
		rec_dir_clear(&rx);
	}
};

std::vector<uint8_t>
seal(rec_dir *d, uint8_t type, const std::string &pt)
{
	std::vector<uint8_t> buf(pt.size() + 512);
	hsk_wr w;
	hsk_wr_init(&w, buf.data(), buf.size());
	EXPECT_EQ(rec_seal(d, type, (const uint8_t *)pt.data(), pt.size(), &w), HSK_OK);
	EXPECT_EQ(w.len, pt.size() + rec_overhead(d, pt.size()) - (d->suite && d->suite->mac ? 0 : 0));
	buf.resize(w.len);
	return buf;
}

hsk_err
open(rec_dir *d, std::vector<uint8_t> rec, std::string *pt, uint8_t *type = nullptr)
{
	rec_hdr h;
	hsk_err e = rec_hdr_parse(rec.data(), rec.size(), REC_MAX_CIPHER_12, &h);
	if (e != HSK_OK)
		return e;
	uint8_t *p;
	size_t n;
	e = rec_open(d, &h, rec.data() + REC_HDR_LEN, &p, &n);
	if (e == HSK_OK) {
		pt->assign((const char *)p, n);
		if (type != nullptr)
			*type = h.type;
	}
	return e;
}

struct Case {
	uint16_t suite, version;
	bool etm;
};

// gtest would print the struct's bytes, padding included (valgrind:
// uninitialised values)
void
PrintTo(const Case &c, std::ostream *os)
{
	*os << std::hex << c.suite << "/" << c.version << (c.etm ? "/etm" : "");
}

class RecRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RecRoundTrip, SealOpenTamper)
{
	const hsk_suite *s = hsk_suite_by_id(GetParam().suite);
	ASSERT_NE(s, nullptr);
	Keys k;
	Dirs d(s, GetParam().version, GetParam().etm, k);
	for (size_t len : { 0u, 1u, 15u, 16u, 17u, 100u, 1000u, 16384u }) {
		std::string pt(len, '\0');
		RAND_bytes((uint8_t *)pt.data(), (int)len);
		auto rec = seal(&d.tx, REC_APPLICATION_DATA, pt);
		std::string out;
		uint8_t type = 0;
		ASSERT_EQ(open(&d.rx, rec, &out, &type), HSK_OK) << "len " << len;
		EXPECT_EQ(out, pt);
		EXPECT_EQ(type, REC_APPLICATION_DATA);
	}
	// Every byte of a record matters: flip each in turn (a fresh pair of
	// directions at the same sequence number each time).
	std::string pt = "attack at dawn, attack at dawn!!";
	for (size_t i = 0; i < 5 + pt.size() + 16; i += 3) {
		Dirs t(s, GetParam().version, GetParam().etm, k);
		auto rec = seal(&t.tx, REC_APPLICATION_DATA, pt);
		if (i >= rec.size() || i == 1 || i == 2)
			continue; // the version bytes are checked by the header parser, not the MAC in 1.3
		if (i == 3 || i == 4)
			continue; // changing the length changes the framing
		rec[i] ^= 0x20;
		std::string out;
		hsk_err e = open(&t.rx, rec, &out);
		EXPECT_NE(e, HSK_OK) << "byte " << i;
	}
	// A replayed record (wrong sequence number) fails.
	{
		Dirs t(s, GetParam().version, GetParam().etm, k);
		auto r1 = seal(&t.tx, REC_APPLICATION_DATA, pt);
		std::string out;
		ASSERT_EQ(open(&t.rx, r1, &out), HSK_OK);
		EXPECT_EQ(open(&t.rx, r1, &out), HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
	}
}

INSTANTIATE_TEST_SUITE_P(
	AllCiphers, RecRoundTrip,
	::testing::Values(Case{ 0xc02f, 0x0303, false }, Case{ 0xc030, 0x0303, false },
			  Case{ 0xcca8, 0x0303, false }, Case{ 0xc027, 0x0303, false },
			  Case{ 0xc027, 0x0303, true }, Case{ 0xc028, 0x0303, false },
			  Case{ 0xc028, 0x0303, true }, Case{ 0xc013, 0x0303, false },
			  Case{ 0xc013, 0x0303, true }, Case{ 0x1301, 0x0304, false },
			  Case{ 0x1302, 0x0304, false }, Case{ 0x1303, 0x0304, false }));

TEST(RecLayer, HeaderChecks)
{
	rec_hdr h;
	const uint8_t ok[] = { 22, 3, 1, 0, 4, 1, 2, 3, 4 };
	EXPECT_EQ(rec_hdr_parse(ok, 3, REC_MAX_PLAIN, &h), HSK_WANT_INPUT);
	EXPECT_EQ(rec_hdr_parse(ok, 7, REC_MAX_PLAIN, &h), HSK_WANT_INPUT);
	EXPECT_EQ(rec_hdr_parse(ok, 9, REC_MAX_PLAIN, &h), HSK_OK);
	EXPECT_EQ(h.type, 22);
	EXPECT_EQ(h.len, 4);
	const uint8_t bad_type[] = { 99, 3, 3, 0, 1, 0 };
	EXPECT_EQ(rec_hdr_parse(bad_type, 6, REC_MAX_PLAIN, &h), HSK_ALERT(HSK_AD_UNEXPECTED_MESSAGE));
	const uint8_t big[] = { 23, 3, 3, 0x40, 0x01 };
	EXPECT_EQ(rec_hdr_parse(big, 5, REC_MAX_PLAIN, &h), HSK_ALERT(HSK_AD_RECORD_OVERFLOW));
	const uint8_t huge[] = { 23, 3, 3, 0x48, 0x01 };
	EXPECT_EQ(rec_hdr_parse(huge, 5, REC_MAX_CIPHER_12, &h), HSK_ALERT(HSK_AD_RECORD_OVERFLOW));
	const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01 };
	EXPECT_NE(rec_hdr_parse(v2, 5, REC_MAX_PLAIN, &h), HSK_OK);
}

TEST(RecLayer, PlaintextAboveLimitRefusedToSeal)
{
	Keys k;
	Dirs d(hsk_suite_by_id(0xc02f), 0x0303, false, k);
	std::vector<uint8_t> buf(20000);
	hsk_wr w;
	hsk_wr_init(&w, buf.data(), buf.size());
	std::string pt(REC_MAX_PLAIN + 1, 'a');
	EXPECT_NE(rec_seal(&d.tx, REC_APPLICATION_DATA, (const uint8_t *)pt.data(), pt.size(), &w), HSK_OK);
}

TEST(RecLayer, Tls13InnerTypeAndPadding)
{
	Keys k;
	const hsk_suite *s = hsk_suite_by_id(0x1301);
	Dirs d(s, 0x0304, false, k);
	auto rec = seal(&d.tx, REC_HANDSHAKE, "hello");
	EXPECT_EQ(rec[0], REC_APPLICATION_DATA); // outer type is always application_data
	std::string out;
	uint8_t type;
	ASSERT_EQ(open(&d.rx, rec, &out, &type), HSK_OK);
	EXPECT_EQ(type, REC_HANDSHAKE);
	EXPECT_EQ(out, "hello");
}

// A TLS 1.2 AES-128-GCM record computed directly with EVP (RFC 5288 3):
// nonce = fixed_iv || seq, AAD = seq || type || version || length.
TEST(RecLayer, GcmMatchesDirectComputation)
{
	Keys k;
	const hsk_suite *s = hsk_suite_by_id(0xc02f);
	rec_dir tx = {};
	ASSERT_EQ(rec_dir_init(&tx, s, 0x0303, true, false, k.key, k.iv, k.mac), HSK_OK);
	std::string pt = "GET / HTTP/1.1\r\n\r\n";
	seal(&tx, REC_APPLICATION_DATA, "first");          // seq 0
	auto rec = seal(&tx, REC_APPLICATION_DATA, pt);    // seq 1
	uint8_t nonce[12], aad[13] = { 0, 0, 0, 0, 0, 0, 0, 1, 23, 3, 3, 0, (uint8_t)pt.size() };
	memcpy(nonce, k.iv, 4);
	memset(nonce + 4, 0, 8);
	nonce[11] = 1;
	std::vector<uint8_t> ct(pt.size()), tag(16);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;
	ASSERT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key, nonce), 1);
	ASSERT_EQ(EVP_EncryptUpdate(c, nullptr, &outl, aad, 13), 1);
	ASSERT_EQ(EVP_EncryptUpdate(c, ct.data(), &outl, (const uint8_t *)pt.data(), (int)pt.size()), 1);
	ASSERT_EQ(EVP_EncryptFinal_ex(c, ct.data() + outl, &outl), 1);
	ASSERT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag.data()), 1);
	EVP_CIPHER_CTX_free(c);
	std::vector<uint8_t> expect = { 23, 3, 3, 0, (uint8_t)(8 + pt.size() + 16) };
	expect.insert(expect.end(), nonce + 4, nonce + 12);
	expect.insert(expect.end(), ct.begin(), ct.end());
	expect.insert(expect.end(), tag.begin(), tag.end());
	EXPECT_EQ(rec, expect);
	rec_dir_clear(&tx);
}

TEST(RecLayer, CbcBadPaddingIsBadRecordMac)
{
	// Build a MAC-then-encrypt record by hand with a valid MAC and a
	// wrong padding byte: the same alert as a wrong MAC.
	Keys k;
	const hsk_suite *s = hsk_suite_by_id(0xc027);
	Dirs d(s, 0x0303, false, k);
	auto rec = seal(&d.tx, REC_APPLICATION_DATA, std::string(13, 'p'));
	// decrypt the last block, change the padding, re-encrypt it with the
	// previous block as IV (CBC): only the padding changes.
	size_t n = rec.size();
	uint8_t *prev = rec.data() + n - 32, *last = rec.data() + n - 16, plain[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;
	EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), nullptr, k.key, prev);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_DecryptUpdate(c, plain, &outl, last, 16);
	plain[14] ^= 1; // a padding byte that no longer equals the padding length
	EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), nullptr, k.key, prev);
	EVP_CIPHER_CTX_set_padding(c, 0);
	EVP_EncryptUpdate(c, last, &outl, plain, 16);
	EVP_CIPHER_CTX_free(c);
	std::string out;
	EXPECT_EQ(open(&d.rx, rec, &out), HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

} // namespace
