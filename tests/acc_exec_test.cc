// The executor and its OpenSSL backend: signatures verified by OpenSSL for
// every scheme, PKCS#1 v1.5 bit for bit, static-RSA premaster decryption
// with implicit rejection, key agreement in every group against OpenSSL,
// the RFC 7748 X25519 vector, queueing and counters.
#include <gtest/gtest.h>

#include "test_hex.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <string>
#include <vector>

#include "acc_exec.h"
#include "acc_ifma.h"
#include "acc_ifma_rsa.h"
#include "acc_key.h"
#include "acc_key_priv.h"

namespace {

EVP_PKEY *
gen(const char *type, const char *group = nullptr, unsigned bits = 0)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
	EVP_PKEY *k = nullptr;
	EVP_PKEY_keygen_init(c);
	if (group != nullptr) {
		OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
				   OSSL_PARAM_construct_end() };
		EVP_PKEY_CTX_set_params(c, p);
	}
	if (bits != 0)
		EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits);
	EVP_PKEY_generate(c, &k);
	EVP_PKEY_CTX_free(c);
	return k;
}

struct Exec {
	acc_exec *ex = acc_exec_new("openssl");
	~Exec() { acc_exec_free(ex); }
	void run(acc_job *j)
	{
		acc_exec_submit(ex, j);
		int calls = 0;
		acc_exec_flush(ex, [](acc_job *, void *a) { ++*static_cast<int *>(a); }, &calls);
		EXPECT_EQ(calls, 1);
	}
};

const EVP_MD *
md_of(uint16_t scheme)
{
	switch (scheme >> 8) {
	case 0x04: return EVP_sha256();
	case 0x05: return EVP_sha384();
	case 0x06: return EVP_sha512();
	default: return scheme == 0x0804 ? EVP_sha256() : scheme == 0x0805 ? EVP_sha384() : EVP_sha512();
	}
}

// A signing job over a digest.
acc_job
sign_job(const acc_key *key, uint16_t scheme, const uint8_t *dg, size_t dlen, uint8_t *out, size_t cap)
{
	acc_job j = {};
	j.op = ACC_OP_SIGN;
	j.alg = scheme;
	j.key = key;
	j.in = dg;
	j.in_len = (uint32_t)dlen;
	j.out = out;
	j.out_cap = (uint32_t)cap;
	return j;
}

bool
verify(EVP_PKEY *k, uint16_t scheme, const uint8_t *dg, size_t dlen, const uint8_t *sig, size_t slen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, nullptr);
	EVP_PKEY_verify_init(c);
	EVP_PKEY_CTX_set_signature_md(c, md_of(scheme));
	if (scheme >= 0x0804 && scheme <= 0x0806) {
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST);
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING);
	}
	int ok = EVP_PKEY_verify(c, sig, slen, dg, dlen);
	EVP_PKEY_CTX_free(c);
	return ok == 1;
}

TEST(AccExec, BackendSelection)
{
	acc_exec *a = acc_exec_new(nullptr);
	ASSERT_NE(a, nullptr);
	EXPECT_STREQ(acc_exec_backend(a), acc_ifma_available() ? "ifma" : "openssl");
	acc_exec_free(a);
	EXPECT_EQ(acc_exec_new("quantum"), nullptr);
	// forced: openssl always; ifma only where the CPU has it
	a = acc_exec_new("openssl");
	EXPECT_STREQ(acc_exec_backend(a), "openssl");
	acc_exec_free(a);
	setenv("TLSO_NO_IFMA", "1", 1);
	EXPECT_EQ(acc_exec_new("ifma"), nullptr);
	a = acc_exec_new("auto");
	EXPECT_STREQ(acc_exec_backend(a), "openssl");
	acc_exec_free(a);
	unsetenv("TLSO_NO_IFMA");
}

TEST(AccExec, RsaSignaturesVerifyWithOpenSsl)
{
	EVP_PKEY *pk = gen("RSA", nullptr, 2048);
	acc_key *key = acc_key_from_evp(pk);
	ASSERT_NE(key, nullptr);
	EXPECT_EQ(acc_key_type(key), ACC_KEY_RSA);
	EXPECT_EQ(acc_key_bits(key), 2048u);
	EXPECT_EQ(acc_key_max_sig(key), 256u);
	Exec e;
	for (uint16_t scheme : { 0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806 }) {
		uint8_t dg[64], sig[512];
		size_t dlen = (size_t)EVP_MD_get_size(md_of(scheme));
		RAND_bytes(dg, (int)dlen);
		acc_job j = sign_job(key, scheme, dg, dlen, sig, sizeof(sig));
		e.run(&j);
		ASSERT_EQ(j.status, ACC_DONE) << std::hex << scheme;
		EXPECT_EQ(j.out_len, 256u);
		EXPECT_TRUE(verify(pk, scheme, dg, dlen, sig, j.out_len)) << std::hex << scheme;
		if (scheme >> 8 != 0x08) {
			// PKCS#1 v1.5 is deterministic: the same bytes as OpenSSL's own
			uint8_t ref[512];
			size_t rlen = sizeof(ref);
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, nullptr);
			EVP_PKEY_sign_init(c);
			EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING);
			EVP_PKEY_CTX_set_signature_md(c, md_of(scheme));
			ASSERT_EQ(EVP_PKEY_sign(c, ref, &rlen, dg, dlen), 1);
			EVP_PKEY_CTX_free(c);
			EXPECT_EQ(std::string((char *)ref, rlen), std::string((char *)sig, j.out_len));
		}
	}
	// wrong key type for the scheme, wrong digest length
	uint8_t dg[32] = {}, sig[512];
	acc_job j = sign_job(key, 0x0403, dg, 32, sig, sizeof(sig));
	e.run(&j);
	EXPECT_EQ(j.status, ACC_FAILED);
	j.alg = 0x0804;
	j.in_len = 20;
	e.run(&j);
	EXPECT_EQ(j.status, ACC_FAILED);
	acc_key_free(key);
	EVP_PKEY_free(pk);
}

TEST(AccExec, EcdsaSignatures)
{
	for (auto g : { std::make_pair("P-256", (uint16_t)0x0403), std::make_pair("P-384", (uint16_t)0x0503) }) {
		EVP_PKEY *pk = gen("EC", g.first);
		acc_key *key = acc_key_from_evp(pk);
		ASSERT_NE(key, nullptr);
		EXPECT_EQ(acc_key_group(key), g.second == 0x0403 ? ACC_GROUP_SECP256R1 : ACC_GROUP_SECP384R1);
		Exec e;
		uint8_t dg[48], sig[256];
		size_t dlen = g.second == 0x0403 ? 32 : 48;
		RAND_bytes(dg, (int)dlen);
		acc_job j = sign_job(key, g.second, dg, dlen, sig, sizeof(sig));
		e.run(&j);
		ASSERT_EQ(j.status, ACC_DONE);
		EXPECT_TRUE(verify(pk, g.second, dg, dlen, sig, j.out_len));
		acc_key_free(key);
		EVP_PKEY_free(pk);
	}
}

// The OpenSSL backend keeps signing contexts per (key, scheme): repeated
// signatures still verify and draw fresh nonces/salts, more pairs than the
// cache holds evict each other cleanly, and a key allocated where a freed
// one was never signs with the freed key's context.
TEST(AccExec, SigningContextsReused)
{
	Exec e;
	auto sign = [&](acc_key *key, uint16_t scheme, const uint8_t *dg, size_t dl) {
		std::vector<uint8_t> sig(512);
		acc_job j = sign_job(key, scheme, dg, dl, sig.data(), sig.size());
		e.run(&j);
		EXPECT_EQ(j.status, ACC_DONE);
		sig.resize(j.out_len);
		return sig;
	};
	uint8_t dg[32];
	RAND_bytes(dg, sizeof(dg));
	std::vector<EVP_PKEY *> pks;
	std::vector<acc_key *> keys;
	for (int i = 0; i < 10; i++) {
		pks.push_back(i < 5 ? gen("EC", "P-256") : gen("RSA", nullptr, 2048));
		keys.push_back(acc_key_from_evp(pks.back()));
	}
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < keys.size(); i++) {
			uint16_t scheme = i < 5 ? ACC_SIG_ECDSA_SECP256R1_SHA256 : ACC_SIG_RSA_PSS_RSAE_SHA256;
			auto a = sign(keys[i], scheme, dg, 32), b = sign(keys[i], scheme, dg, 32);
			EXPECT_TRUE(verify(pks[i], scheme, dg, 32, a.data(), a.size())) << i;
			EXPECT_TRUE(verify(pks[i], scheme, dg, 32, b.data(), b.size())) << i;
			EXPECT_NE(a, b) << i; // a fresh nonce / salt each time
		}
	}
	// free a key and make others until one lands at its address
	acc_key *old = keys[0];
	uintptr_t where = (uintptr_t)old;
	(void)sign(old, ACC_SIG_ECDSA_SECP256R1_SHA256, dg, 32);
	acc_key_free(old);
	EVP_PKEY *pk = gen("EC", "P-256");
	acc_key *nk = acc_key_from_evp(pk);
	auto s = sign(nk, ACC_SIG_ECDSA_SECP256R1_SHA256, dg, 32);
	EXPECT_TRUE(verify(pk, ACC_SIG_ECDSA_SECP256R1_SHA256, dg, 32, s.data(), s.size()))
		<< ((uintptr_t)nk == where ? "same address" : "other address");
	acc_key_free(nk);
	EVP_PKEY_free(pk);
	for (size_t i = 1; i < keys.size(); i++)
		acc_key_free(keys[i]);
	for (EVP_PKEY *p : pks)
		EVP_PKEY_free(p);
}

// EncryptedPreMasterSecret for a given plaintext block (raw RSA).
std::vector<uint8_t>
rsa_raw_encrypt(EVP_PKEY *pk, const std::vector<uint8_t> &em)
{
	std::vector<uint8_t> out((size_t)EVP_PKEY_get_size(pk));
	size_t n = out.size();
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, nullptr);
	EVP_PKEY_encrypt_init(c);
	EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING);
	EXPECT_EQ(EVP_PKEY_encrypt(c, out.data(), &n, em.data(), em.size()), 1);
	EVP_PKEY_CTX_free(c);
	return out;
}

// PKCS#1 v1.5 type 2 block: 00 02 PS 00 M
std::vector<uint8_t>
type2(const std::vector<uint8_t> &m, size_t ps_len, uint8_t bt = 2)
{
	std::vector<uint8_t> em = { 0, bt };
	for (size_t i = 0; i < ps_len; i++)
		em.push_back((uint8_t)(1 + i % 250));
	em.push_back(0);
	em.insert(em.end(), m.begin(), m.end());
	return em;
}

TEST(AccExec, PremasterImplicitRejection)
{
	EVP_PKEY *pk = gen("RSA", nullptr, 2048);
	acc_key *key = acc_key_from_evp(pk);
	Exec e;
	std::vector<uint8_t> pms(48);
	RAND_bytes(pms.data(), 48);
	pms[0] = 3;
	pms[1] = 3;
	auto run = [&](const std::vector<uint8_t> &ct, uint16_t client_version) {
		uint8_t out[64];
		acc_job j = {};
		j.op = ACC_OP_RSA_DECRYPT_PMS;
		j.key = key;
		j.client_version = client_version;
		j.in = ct.data();
		j.in_len = (uint32_t)ct.size();
		j.out = out;
		j.out_cap = sizeof(out);
		e.run(&j);
		EXPECT_EQ(j.status, ACC_DONE); // always: no oracle
		EXPECT_EQ(j.out_len, 48u);
		return std::vector<uint8_t>(out, out + 48);
	};
	auto good = rsa_raw_encrypt(pk, type2(pms, 256 - 3 - 48));
	EXPECT_EQ(run(good, 0x0303), pms);
	// each failure gives 48 random bytes, different each time
	std::vector<std::vector<uint8_t>> bad = {
		rsa_raw_encrypt(pk, type2(pms, 256 - 3 - 48, 1)),                        // block type 1
		rsa_raw_encrypt(pk, type2(std::vector<uint8_t>(pms.begin(), pms.end() - 1), 256 - 3 - 47)), // 47 bytes
	};
	std::vector<uint8_t> nosep = type2(pms, 256 - 3 - 48);
	nosep[2 + 256 - 3 - 48] = 7; // the 00 separator replaced
	bad.push_back(rsa_raw_encrypt(pk, nosep));
	for (auto &ct : bad) {
		auto a = run(ct, 0x0303), b = run(ct, 0x0303);
		EXPECT_NE(a, pms);
		EXPECT_NE(a, b);
	}
	// wrong version in the premaster (a rollback): random too
	auto a = run(good, 0x0302);
	EXPECT_NE(a, pms);
	// wrong ciphertext length: still 48 bytes, no failure
	std::vector<uint8_t> shortct(good.begin(), good.end() - 1);
	EXPECT_NE(run(shortct, 0x0303), pms);
	acc_key_free(key);
	EVP_PKEY_free(pk);
}

struct KxCase {
	uint16_t group;
	const char *type, *name;
};

class AccKx : public ::testing::TestWithParam<KxCase> {};

TEST_P(AccKx, AgreesWithOpenSslPeer)
{
	Exec e;
	acc_eph eph = {};
	uint8_t pub[512], secret[512];
	acc_job j = {};
	j.op = ACC_OP_KX_KEYGEN;
	j.alg = GetParam().group;
	j.eph = &eph;
	j.out = pub;
	j.out_cap = sizeof(pub);
	e.run(&j);
	ASSERT_EQ(j.status, ACC_DONE);
	uint32_t publen = j.out_len;
	// the peer: plain OpenSSL in the same group
	EVP_PKEY *peer = gen(GetParam().type, GetParam().name);
	ASSERT_NE(peer, nullptr);
	std::vector<uint8_t> ppub(512);
	size_t pplen;
	if (GetParam().group == ACC_GROUP_X25519) {
		pplen = 32;
		EVP_PKEY_get_raw_public_key(peer, ppub.data(), &pplen);
	} else if (GetParam().group >= 0x100) {
		BIGNUM *y = nullptr;
		EVP_PKEY_get_bn_param(peer, OSSL_PKEY_PARAM_PUB_KEY, &y);
		pplen = (size_t)EVP_PKEY_get_size(peer);
		BN_bn2binpad(y, ppub.data(), (int)pplen);
		BN_free(y);
		EXPECT_EQ(publen, pplen); // Ys padded to the prime length
	} else {
		EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, ppub.data(), ppub.size(), &pplen);
		EXPECT_EQ(pub[0], 4); // uncompressed point
	}
	acc_job d = {};
	d.op = ACC_OP_KX_DERIVE;
	d.alg = GetParam().group;
	d.eph = &eph;
	d.in = ppub.data();
	d.in_len = (uint32_t)pplen;
	d.out = secret;
	d.out_cap = sizeof(secret);
	e.run(&d);
	ASSERT_EQ(d.status, ACC_DONE);
	// the peer's side of the agreement
	EVP_PKEY *ours = EVP_PKEY_new();
	if (GetParam().group == ACC_GROUP_X25519) {
		EVP_PKEY_free(ours);
		ours = EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, pub, publen);
	} else {
		EVP_PKEY_copy_parameters(ours, peer);
		ASSERT_EQ(EVP_PKEY_set1_encoded_public_key(ours, pub, publen), 1);
	}
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(peer, nullptr);
	EVP_PKEY_derive_init(c);
	EVP_PKEY_derive_set_peer(c, ours);
	uint8_t ref[512];
	size_t rlen = sizeof(ref);
	ASSERT_EQ(EVP_PKEY_derive(c, ref, &rlen), 1);
	EXPECT_EQ(std::string((char *)ref, rlen), std::string((char *)secret, d.out_len));
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(ours);
	// an invalid peer value fails
	if (GetParam().group != ACC_GROUP_X25519) {
		std::vector<uint8_t> junk(pplen, 0);
		junk[0] = GetParam().group >= 0x100 ? 0 : 4;
		if (GetParam().group >= 0x100)
			junk[pplen - 1] = 1; // Y = 1
		else
			junk[pplen - 1] = 1; // not on the curve
		d.in = junk.data();
		e.run(&d);
		EXPECT_EQ(d.status, ACC_FAILED);
	}
	acc_eph_clear(&eph);
	EVP_PKEY_free(peer);
}

INSTANTIATE_TEST_SUITE_P(Groups, AccKx,
			 ::testing::Values(KxCase{ ACC_GROUP_X25519, "X25519", nullptr },
					   KxCase{ ACC_GROUP_SECP256R1, "EC", "P-256" },
					   KxCase{ ACC_GROUP_SECP384R1, "EC", "P-384" },
					   KxCase{ ACC_GROUP_FFDHE2048, "DH", "ffdhe2048" },
					   KxCase{ ACC_GROUP_FFDHE3072, "DH", "ffdhe3072" }));

using test_hex::unhex;

// RFC 7748 6.1: Alice's private key, Bob's public key, the shared secret.
TEST(AccExec, X25519Rfc7748Vector)
{
	Exec e;
	acc_eph eph = {};
	auto a = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	auto apub = unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	auto bpub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	auto shared = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	memcpy(eph.priv, a.data(), 32);
	eph.priv_len = 32;
	uint8_t pub[32], sec[32];
	acc_job j = {};
	j.op = ACC_OP_KX_KEYGEN;
	j.alg = ACC_GROUP_X25519;
	j.eph = &eph;
	j.out = pub;
	j.out_cap = 32;
	e.run(&j);
	ASSERT_EQ(j.status, ACC_DONE);
	EXPECT_EQ(std::vector<uint8_t>(pub, pub + 32), apub);
	j.op = ACC_OP_KX_DERIVE;
	j.in = bpub.data();
	j.in_len = 32;
	j.out = sec;
	e.run(&j);
	ASSERT_EQ(j.status, ACC_DONE);
	EXPECT_EQ(std::vector<uint8_t>(sec, sec + 32), shared);
	acc_eph_clear(&eph);
	EXPECT_EQ(eph.priv_len, 0);
}

TEST(AccExec, QueueFlushAndCounters)
{
	EVP_PKEY *pk = gen("EC", "P-256");
	acc_key *key = acc_key_from_evp(pk);
	Exec e;
	std::vector<acc_job> jobs(20);
	std::vector<std::vector<uint8_t>> sigs(20, std::vector<uint8_t>(128));
	uint8_t dg[32] = { 1 };
	for (size_t i = 0; i < jobs.size(); i++) {
		jobs[i] = sign_job(key, 0x0403, dg, 32, sigs[i].data(), 128);
		acc_exec_submit(e.ex, &jobs[i]);
	}
	EXPECT_EQ(acc_exec_pending(e.ex), 20u);
	struct Ctx {
		acc_exec *ex;
		acc_job *extra;
		int calls;
	} ctx = { e.ex, &jobs[0], 0 };
	// a callback that submits again: that job runs in the next flush
	size_t done = acc_exec_flush(
		e.ex,
		[](acc_job *j, void *a) {
			Ctx *c = static_cast<Ctx *>(a);
			EXPECT_EQ(j->status, ACC_DONE);
			if (c->calls++ == 0)
				acc_exec_submit(c->ex, c->extra);
		},
		&ctx);
	EXPECT_EQ(done, 20u);
	EXPECT_EQ(ctx.calls, 20);
	EXPECT_EQ(acc_exec_pending(e.ex), 1u);
	EXPECT_EQ(acc_exec_flush(e.ex, [](acc_job *, void *) {}, nullptr), 1u);
	acc_stats st;
	acc_exec_stats(e.ex, &st);
	EXPECT_EQ(st.jobs, 21u);
	EXPECT_EQ(st.batches, 21u); // no lanes: one job a batch
	EXPECT_EQ(st.lanes_filled, 21u);
	EXPECT_EQ(st.failed, 0u);
	acc_key_free(key);
	EVP_PKEY_free(pk);
}

// The OpenSSL backend runs job by job: any queued job is worth running at
// once, and each is handed back before the next runs (issue 14: a flight
// must not wait for the rest of a poll iteration's crypto).
TEST(AccExec, ReadyAtOnceWithoutLanes)
{
	EVP_PKEY *pk = gen("EC", "P-256");
	acc_key *key = acc_key_from_evp(pk);
	Exec e;
	uint8_t dg[32] = { 1 }, sig[128];
	acc_job j = sign_job(key, 0x0403, dg, 32, sig, sizeof(sig));
	EXPECT_FALSE(acc_exec_ready(e.ex));
	acc_exec_submit(e.ex, &j);
	EXPECT_TRUE(acc_exec_ready(e.ex));
	EXPECT_EQ(acc_exec_flush(e.ex, [](acc_job *, void *) {}, nullptr), 1u);
	EXPECT_FALSE(acc_exec_ready(e.ex));
	// and each job comes back before the next one runs
	uint8_t sigs[3][128];
	acc_job js[3];
	for (int i = 0; i < 3; i++) {
		js[i] = sign_job(key, 0x0403, dg, 32, sigs[i], sizeof(sigs[i]));
		acc_exec_submit(e.ex, &js[i]);
	}
	struct Seen {
		acc_job *js;
		int calls, still_pending;
	} seen = { js, 0, 0 };
	EXPECT_EQ(acc_exec_flush(
			  e.ex,
			  [](acc_job *, void *a) {
				  Seen *s = static_cast<Seen *>(a);
				  s->calls++;
				  for (int i = 0; i < 3; i++)
					  s->still_pending += s->js[i].status == ACC_PENDING;
			  },
			  &seen),
		  3u);
	EXPECT_EQ(seen.calls, 3);
	EXPECT_EQ(seen.still_pending, 2 + 1 + 0);
	acc_key_free(key);
	EVP_PKEY_free(pk);
}

// The bounded flush delay (issue 14): jobs are held while the largest
// group is below min_jobs and the deadline (delay_us after the first
// acc_exec_due that saw them) has not passed; off, any job is due at once.
struct Held {
	EVP_PKEY *pk[2] = { gen("EC", "P-256"), gen("EC", "P-256") };
	acc_key *key[2] = { acc_key_from_evp(pk[0]), acc_key_from_evp(pk[1]) };
	Exec e;
	uint8_t dg[32] = { 1 };
	uint8_t sig[16][128];
	acc_job js[16];
	size_t n = 0;
	~Held()
	{
		for (int i = 0; i < 2; i++) {
			acc_key_free(key[i]);
			EVP_PKEY_free(pk[i]);
		}
	}
	void submit(int which)
	{
		js[n] = sign_job(key[which], 0x0403, dg, 32, sig[n], sizeof(sig[n]));
		acc_exec_submit(e.ex, &js[n]);
		n++;
	}
	size_t flush() { return acc_exec_flush(e.ex, [](acc_job *, void *) {}, nullptr); }
};

TEST(AccExecHold, OffByDefault)
{
	Held h;
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1000));
	h.submit(0);
	EXPECT_TRUE(acc_exec_due(h.e.ex, 1000));
	EXPECT_EQ(acc_exec_deadline(h.e.ex), UINT64_MAX);
	EXPECT_EQ(h.flush(), 1u);
	acc_exec_set_hold(h.e.ex, 0, 8); // a delay of 0 is off too
	h.submit(0);
	EXPECT_TRUE(acc_exec_due(h.e.ex, 1000));
}

TEST(AccExecHold, HeldBelowMinUntilTheDeadline)
{
	Held h;
	acc_exec_set_hold(h.e.ex, 200, 8);
	for (int i = 0; i < 3; i++)
		h.submit(0);
	EXPECT_EQ(acc_exec_deadline(h.e.ex), UINT64_MAX); // the wait starts at the first due
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1000));
	EXPECT_EQ(acc_exec_deadline(h.e.ex), 1200u);
	h.submit(0);
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1100)); // a later job does not move it
	EXPECT_EQ(acc_exec_deadline(h.e.ex), 1200u);
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1199));
	EXPECT_TRUE(acc_exec_due(h.e.ex, 1200));
	EXPECT_EQ(h.flush(), 4u);
	EXPECT_EQ(acc_exec_deadline(h.e.ex), UINT64_MAX);
	acc_stats st;
	acc_exec_stats(h.e.ex, &st);
	EXPECT_EQ(st.flushes, 1u);
	EXPECT_EQ(st.held_flushes, 1u);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(h.js[i].status, ACC_DONE);
}

TEST(AccExecHold, FlushedAtMinOfOneGroup)
{
	Held h;
	acc_exec_set_hold(h.e.ex, 200, 4);
	// 3 + 3 jobs of two keys: two groups of 3, below 4 each
	for (int i = 0; i < 6; i++)
		h.submit(i % 2);
	EXPECT_FALSE(acc_exec_due(h.e.ex, 5000));
	h.submit(1); // the second key's group reaches 4
	EXPECT_TRUE(acc_exec_due(h.e.ex, 5001));
	EXPECT_EQ(h.flush(), 7u); // everything queued goes, not only that group
	acc_stats st;
	acc_exec_stats(h.e.ex, &st);
	EXPECT_EQ(st.flushes, 1u);
	EXPECT_EQ(st.held_flushes, 0u);
	// min 1: nothing is ever held
	acc_exec_set_hold(h.e.ex, 200, 1);
	h.submit(0);
	EXPECT_TRUE(acc_exec_due(h.e.ex, 6000));
}

// Jobs submitted by the done callbacks start a wait of their own.
TEST(AccExecHold, ResubmittedJobsWaitAnew)
{
	Held h;
	acc_exec_set_hold(h.e.ex, 200, 8);
	h.submit(0);
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1000));
	ASSERT_TRUE(acc_exec_due(h.e.ex, 1250));
	struct Ctx {
		Held *h;
	} ctx = { &h };
	EXPECT_EQ(acc_exec_flush(
			  h.e.ex, [](acc_job *, void *a) { static_cast<Ctx *>(a)->h->submit(1); }, &ctx),
		  1u);
	EXPECT_EQ(acc_exec_pending(h.e.ex), 1u);
	EXPECT_EQ(acc_exec_deadline(h.e.ex), UINT64_MAX);
	EXPECT_FALSE(acc_exec_due(h.e.ex, 1300));
	EXPECT_EQ(acc_exec_deadline(h.e.ex), 1500u);
}

// A dataplane's loop on a simulated clock: jobs arrive at pseudo-random
// times (submitted in the iteration that reads them, at its clock); the
// poll sleeps until the next arrival or the held jobs' deadline and wakes
// up to `slack` late (a poll's granularity). No job waits longer than
// delay + slack, and under a dense arrival rate batches of min_jobs form
// before the deadline.
TEST(AccExecHold, NeverLaterThanTheDelayPlusOnePoll)
{
	const uint64_t delay = 200, slack = 37;
	for (uint64_t gap : { 10u, 60u, 150u, 400u }) {
		Held h;
		acc_exec_set_hold(h.e.ex, (uint32_t)delay, 4);
		uint64_t now = 0, next_arrival = 0, submitted_at[16] = {}, worst = 0, rng = 12345;
		size_t flushed_full = 0, flushes = 0;
		struct Ctx {
			uint64_t now, *submitted_at, *worst;
			acc_job *base;
		} ctx = { 0, submitted_at, &worst, h.js };
		for (int it = 0; it < 400; it++) {
			if (now >= next_arrival && h.n < 16) {
				submitted_at[h.n] = now;
				h.submit(0);
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				next_arrival = now + gap / 2 + (rng >> 33) % gap;
			}
			if (acc_exec_due(h.e.ex, now)) {
				flushed_full += acc_exec_pending(h.e.ex) >= 4;
				flushes++;
				ctx.now = now;
				acc_exec_flush(
					h.e.ex,
					[](acc_job *j, void *a) {
						Ctx *c = static_cast<Ctx *>(a);
						uint64_t waited = c->now - c->submitted_at[j - c->base];
						if (waited > *c->worst)
							*c->worst = waited;
					},
					&ctx);
				h.n = 0; // every job is back: reuse the slots
			}
			uint64_t wake = next_arrival;
			if (acc_exec_deadline(h.e.ex) < wake)
				wake = acc_exec_deadline(h.e.ex);
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			now = (wake > now ? wake : now) + (rng >> 33) % (slack + 1);
		}
		EXPECT_GT(flushes, 10u) << gap;
		EXPECT_LE(worst, delay + slack) << gap;
		if (gap <= 60) {
			EXPECT_GT(flushed_full * 2, flushes) << gap; // mostly full batches
		}
		if (gap >= 400) {
			EXPECT_EQ(flushed_full, 0u) << gap; // lone jobs, each after its delay
		}
	}
}

TEST(AccKey, LoadPem)
{
	char err[256];
	EXPECT_EQ(acc_key_load_pem("/nonexistent.key", err, sizeof(err)), nullptr);
	EXPECT_NE(std::string(err).find("/nonexistent.key"), std::string::npos);
}

// ---- the IFMA backend against OpenSSL, through the executor ----

struct SigKey {
	EVP_PKEY *pk;
	acc_key *key;
	unsigned count; // messages signed with it
};

// One signature job's reference check: PKCS#1 v1.5 identical to
// OpenSSL's, PSS verified by OpenSSL.
bool
matches_openssl(EVP_PKEY *pk, uint16_t scheme, const uint8_t *dg, size_t dl, const uint8_t *sig, size_t sl)
{
	const EVP_MD *md = md_of(scheme);
	bool pss = (scheme >> 8) == 0x08;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, nullptr);
	bool ok;
	if (pss) {
		EVP_PKEY_verify_init(c);
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_signature_md(c, md);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(c, (int)dl);
		ok = EVP_PKEY_verify(c, sig, sl, dg, dl) == 1;
	} else {
		std::vector<uint8_t> want((size_t)EVP_PKEY_get_size(pk));
		size_t wl = want.size();
		EVP_PKEY_sign_init(c);
		EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING);
		EVP_PKEY_CTX_set_signature_md(c, md);
		ok = EVP_PKEY_sign(c, want.data(), &wl, dg, dl) == 1 && wl == sl && memcmp(want.data(), sig, sl) == 0;
	}
	EVP_PKEY_CTX_free(c);
	return ok;
}

// Random RSA signature jobs in flushes of 1..8 (and full batches of 8),
// several keys and schemes mixed in one flush; every result checked.
void
differential(const char *backend, unsigned messages, acc_stats *st)
{
	static const uint16_t schemes[] = { 0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806 };
	std::vector<SigKey> keys;
	for (unsigned bits : {2048u, 2048u, 2048u, 3072u, 4096u}) {
		EVP_PKEY *pk = gen("RSA", nullptr, bits);
		keys.push_back({pk, acc_key_from_evp(pk), 0});
	}
	acc_exec *ex = acc_exec_new(backend);
	ASSERT_NE(ex, nullptr);
	struct Job {
		acc_job j;
		uint8_t dg[64], out[512];
		size_t key;
	};
	std::vector<Job> jobs(8);
	unsigned done = 0, flushes = 0, bad = 0;
	while (done < messages) {
		unsigned n = flushes % 3 == 0 ? 8 : 1 + flushes % 8;
		// most signatures with the 2048-bit keys; the big keys in a few flushes
		size_t big = flushes % 40 == 0 ? 3 + (flushes / 40) % 2 : keys.size();
		for (unsigned i = 0; i < n; i++) {
			Job &J = jobs[i];
			uint16_t scheme = schemes[(flushes + i) % 6];
			// full flushes: one key, schemes mixed (the lanes take them together)
			J.key = big < keys.size() ? big : n == 8 ? (flushes / 3) % 3 : (flushes * 7 + i) % 3;
			size_t dlen = (size_t)EVP_MD_get_size(md_of(scheme));
			RAND_bytes(J.dg, (int)dlen);
			J.j = sign_job(keys[J.key].key, scheme, J.dg, dlen, J.out, sizeof(J.out));
			acc_exec_submit(ex, &J.j);
		}
		acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr);
		for (unsigned i = 0; i < n; i++) {
			Job &J = jobs[i];
			if (J.j.status != ACC_DONE ||
			    !matches_openssl(keys[J.key].pk, J.j.alg, J.dg, J.j.in_len, J.out, J.j.out_len))
				bad++;
			keys[J.key].count++;
		}
		done += n;
		flushes++;
	}
	EXPECT_EQ(bad, 0u) << backend;
	EXPECT_GT(keys[3].count, 0u);
	EXPECT_GT(keys[4].count, 0u);
	acc_exec_stats(ex, st);
	acc_exec_free(ex);
	for (SigKey &k : keys) {
		acc_key_free(k.key);
		EVP_PKEY_free(k.pk);
	}
}

TEST(AccExecIfma, TenThousandSignaturesMatchOpenSSL)
{
	if (!acc_ifma_available())
		GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
	acc_stats st;
	differential("ifma", 10000, &st);
	EXPECT_GE(st.jobs, 10000u);
	EXPECT_GT(st.lane_jobs, st.jobs / 2); // most went through the lanes
	EXPECT_GE(st.lane_jobs, 4 * st.lane_passes - 3 * 40); // full passes, bar a few partial ones
	EXPECT_EQ(st.fault_rechecks, 0u);
}

// With lanes, jobs wait for company until one shape fills a batch of 8;
// jobs of other shapes do not add up to a batch.
TEST(AccExecIfma, ReadyWhenABatchIsFull)
{
	if (!acc_ifma_available())
		GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
	EVP_PKEY *rpk = gen("RSA", nullptr, 2048), *epk = gen("EC", "P-256");
	acc_key *rsa = acc_key_from_evp(rpk), *ec = acc_key_from_evp(epk);
	acc_exec *ex = acc_exec_new("ifma");
	ASSERT_NE(ex, nullptr);
	uint8_t dg[32] = { 2 }, out[9][256];
	acc_job j[9];
	for (int i = 0; i < 7; i++) {
		j[i] = sign_job(rsa, ACC_SIG_RSA_PKCS1_SHA256, dg, 32, out[i], sizeof(out[i]));
		acc_exec_submit(ex, &j[i]);
	}
	j[7] = sign_job(ec, 0x0403, dg, 32, out[7], sizeof(out[7]));
	acc_exec_submit(ex, &j[7]);
	EXPECT_FALSE(acc_exec_ready(ex)); // 7 + 1 of another key
	j[8] = sign_job(rsa, ACC_SIG_RSA_PKCS1_SHA256, dg, 32, out[8], sizeof(out[8]));
	acc_exec_submit(ex, &j[8]);
	EXPECT_TRUE(acc_exec_ready(ex));
	EXPECT_EQ(acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr), 9u);
	EXPECT_FALSE(acc_exec_ready(ex));
	acc_exec_free(ex);
	acc_key_free(rsa);
	acc_key_free(ec);
	EVP_PKEY_free(rpk);
	EVP_PKEY_free(epk);
}

TEST(AccExecIfma, ForcedFallbackSameResults)
{
	acc_stats st;
	setenv("TLSO_NO_IFMA", "1", 1);
	differential("auto", 2000, &st);
	unsetenv("TLSO_NO_IFMA");
	EXPECT_EQ(st.lane_jobs, 0u);
}

// Static-RSA premaster decryption on the lanes, mixed with signatures of
// the same key in one flush: good ciphertexts give the client's premaster
// exactly as the OpenSSL backend does; every kind of bad one (block type,
// no separator, 47 bytes, a version rollback, c >= n, a short ciphertext)
// gives 48 random bytes, different each time, and ACC_DONE.
TEST(AccExecIfma, PremasterDecryptionOnTheLanes)
{
	if (!acc_ifma_available())
		GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
	for (unsigned bits : {2048u, 3072u}) {
		EVP_PKEY *pk = gen("RSA", nullptr, bits);
		acc_key *key = acc_key_from_evp(pk);
		ASSERT_NE(key->fast, nullptr);
		const size_t k = bits / 8, ps = k - 3 - 48;
		acc_exec *ex = acc_exec_new("ifma"), *ref = acc_exec_new("openssl");
		struct Case {
			std::vector<uint8_t> ct, pms;
			bool good;
		};
		unsigned mismatches = 0, rounds = 60;
		for (unsigned round = 0; round < rounds; round++) {
			std::vector<Case> cases;
			for (int i = 0; i < 8; i++) {
				std::vector<uint8_t> pms(48);
				RAND_bytes(pms.data(), 48);
				pms[0] = 3;
				pms[1] = 3;
				std::vector<uint8_t> em = type2(pms, ps);
				bool good = true;
				// half of each batch hostile, a different kind each round
				if (i % 2 == 1) {
					good = false;
					switch ((round + i) % 5) {
					case 0: em[1] = 1; break;             // block type 1
					case 1: em[2 + ps] = 7; break;        // no 00 separator
					case 2: em = type2(std::vector<uint8_t>(pms.begin(), pms.end() - 1), ps + 1); break;
					case 3: // a version rollback: the premaster says TLS 1.0
						pms[1] = 1;
						em = type2(pms, ps);
						break;
					case 4: em[2 + (round % ps)] = 0; break; // a zero inside PS
					}
				}
				cases.push_back({rsa_raw_encrypt(pk, em), pms, good});
			}
			if (round % 10 == 0) // c >= n: public, answered by the OpenSSL path
				cases[7].ct.assign(k, 0xff);
			uint8_t out[8][64], rout[8][64], dg[4][32], sig[4][512];
			acc_job j[12] = {}, r[8] = {};
			for (int i = 0; i < 8; i++) {
				for (acc_job *x : {&j[i], &r[i]}) {
					x->op = ACC_OP_RSA_DECRYPT_PMS;
					x->key = key;
					x->client_version = 0x0303;
					x->in = cases[i].ct.data();
					x->in_len = (uint32_t)k;
					x->out = x == &j[i] ? out[i] : rout[i];
					x->out_cap = 64;
				}
				acc_exec_submit(ref, &r[i]);
			}
			for (int i = 0; i < 4; i++) { // signatures of the same key
				RAND_bytes(dg[i], 32);
				j[8 + i] = sign_job(key, ACC_SIG_RSA_PKCS1_SHA256, dg[i], 32, sig[i], sizeof(sig[i]));
			}
			for (int i = 0; i < 12; i++)
				acc_exec_submit(ex, &j[(i * 5) % 12]); // interleaved
			acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr);
			acc_exec_flush(ref, [](acc_job *, void *) {}, nullptr);
			for (int i = 0; i < 8; i++) {
				ASSERT_EQ(j[i].status, ACC_DONE);
				ASSERT_EQ(j[i].out_len, 48u);
				std::vector<uint8_t> got(out[i], out[i] + 48), theirs(rout[i], rout[i] + 48);
				bool good = cases[i].good && !(round % 10 == 0 && i == 7);
				if (good) {
					EXPECT_EQ(got, cases[i].pms);
					mismatches += got != theirs;
				} else {
					EXPECT_NE(got, cases[i].pms);
					EXPECT_NE(got, theirs); // random, independently drawn
				}
			}
			for (int i = 0; i < 4; i++) {
				ASSERT_EQ(j[8 + i].status, ACC_DONE);
				EXPECT_TRUE(matches_openssl(pk, ACC_SIG_RSA_PKCS1_SHA256, dg[i], 32, sig[i], j[8 + i].out_len));
			}
		}
		EXPECT_EQ(mismatches, 0u);
		acc_stats st;
		acc_exec_stats(ex, &st);
		// all 12 of each round went to the lanes (c >= n came back from
		// them and was answered by OpenSSL)
		EXPECT_EQ(st.lane_jobs, 12u * rounds) << bits;
		EXPECT_EQ(st.fault_rechecks, 0u);
		acc_exec_free(ex);
		acc_exec_free(ref);
		acc_key_free(key);
		EVP_PKEY_free(pk);
	}
}

// A fault in a CRT half fails the check with the public exponent (made on
// the lanes for RSA-2048, in libcrypto for RSA-3072) and OpenSSL
// recomputes the signature; full and partial batches.
TEST(AccExecIfma, FaultyResultIsRecomputedByOpenSSL)
{
	if (!acc_ifma_available())
		GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
	for (unsigned bits : { 2048u, 3072u }) {
		EVP_PKEY *pk = gen("RSA", nullptr, bits);
		acc_key *key = acc_key_from_evp(pk);
		ASSERT_NE(key->fast, nullptr);
		acc_ifma_rsa_key_inject_fault(static_cast<acc_ifma_rsa_key *>(key->fast));
		acc_exec *ex = acc_exec_new("ifma");
		unsigned total = 0;
		for (int count : { 8, 5 }) {
			acc_job j[8];
			uint8_t dg[8][32], out[8][384];
			for (int i = 0; i < count; i++) {
				RAND_bytes(dg[i], 32);
				j[i] = sign_job(key, ACC_SIG_RSA_PKCS1_SHA256, dg[i], 32, out[i], sizeof(out[i]));
				acc_exec_submit(ex, &j[i]);
			}
			acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr);
			for (int i = 0; i < count; i++) {
				ASSERT_EQ(j[i].status, ACC_DONE);
				EXPECT_TRUE(matches_openssl(pk, ACC_SIG_RSA_PKCS1_SHA256, dg[i], 32, out[i], j[i].out_len))
					<< bits;
			}
			total += (unsigned)count;
		}
		acc_stats st;
		acc_exec_stats(ex, &st);
		// every job the lanes took failed its check (a flush of 5 gives
		// the lanes 4, the fifth goes to OpenSSL directly)
		EXPECT_GE(st.lane_jobs, 12u) << bits;
		EXPECT_LE(st.lane_jobs, total) << bits;
		EXPECT_EQ(st.fault_rechecks, st.lane_jobs) << bits;
		acc_exec_free(ex);
		acc_key_free(key);
		EVP_PKEY_free(pk);
	}
}

// X25519 through the lanes: the secrets agree with OpenSSL peers, for
// keygen+derive in one job (TLS 1.3), keygen and derive in separate
// flushes (TLS 1.2), and a lane-made key derived on the OpenSSL path.
TEST(AccExecIfma, X25519AgreesWithOpenSSLPeers)
{
	if (!acc_ifma_available())
		GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
	acc_exec *ex = acc_exec_new("ifma");
	const int n = 8;
	EVP_PKEY *peer[n];
	uint8_t ppub[n][32], pub[n][32], sec[n][32];
	acc_eph eph[n] = {};
	acc_job j[n];
	auto peer_secret = [&](int i) {
		EVP_PKEY *ours = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub[i], 32);
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(peer[i], nullptr);
		std::vector<uint8_t> out(32);
		size_t len = 32;
		EVP_PKEY_derive_init(c);
		EVP_PKEY_derive_set_peer(c, ours);
		EXPECT_EQ(EVP_PKEY_derive(c, out.data(), &len), 1);
		EVP_PKEY_CTX_free(c);
		EVP_PKEY_free(ours);
		return out;
	};
	for (int i = 0; i < n; i++) {
		peer[i] = gen("X25519");
		size_t l = 32;
		EVP_PKEY_get_raw_public_key(peer[i], ppub[i], &l);
	}
	auto submit = [&](int i, uint8_t op) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].op = op;
		j[i].alg = ACC_GROUP_X25519;
		j[i].eph = &eph[i];
		j[i].in = ppub[i];
		j[i].in_len = 32;
		j[i].out = op == ACC_OP_KX_DERIVE ? sec[i] : pub[i];
		j[i].out_cap = 32;
		j[i].secret = sec[i];
		j[i].secret_cap = 32;
		acc_exec_submit(ex, &j[i]);
	};
	auto flush = [&]() { acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr); };
	acc_stats st0, st1;
	// keygen + derive
	for (int i = 0; i < n; i++)
		submit(i, ACC_OP_KX_KEYGEN_DERIVE);
	flush();
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(j[i].status, ACC_DONE);
		EXPECT_EQ(j[i].out_len, 32u);
		EXPECT_EQ(j[i].secret_len, 32u);
		EXPECT_EQ(std::vector<uint8_t>(sec[i], sec[i] + 32), peer_secret(i));
		acc_eph_clear(&eph[i]);
	}
	acc_exec_stats(ex, &st0);
	EXPECT_EQ(st0.lane_jobs, 8u);
	EXPECT_EQ(st0.lane_passes, 2u); // 16 multiplications
	// keygen, then derive
	for (int i = 0; i < n; i++)
		submit(i, ACC_OP_KX_KEYGEN);
	flush();
	for (int i = 0; i < n; i++)
		submit(i, ACC_OP_KX_DERIVE);
	flush();
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(j[i].status, ACC_DONE);
		EXPECT_EQ(std::vector<uint8_t>(sec[i], sec[i] + 32), peer_secret(i));
	}
	acc_exec_stats(ex, &st1);
	EXPECT_EQ(st1.lane_jobs, 24u);
	// One handshake per flush (a lightly loaded worker). With the pool
	// below its low mark a lone derive takes a pass and its free lanes
	// make keys for the pool (1 + 7, then 1 + 7 again for a keygen-derive
	// whose key came from the pool); from then on a handshake takes its
	// key from the pool and its derive goes to OpenSSL (no pass), with
	// the lane-made public value handed over; every secret agrees with
	// the peer's.
	auto one = [&](uint8_t op) {
		submit(0, op);
		flush();
		ASSERT_EQ(j[0].status, ACC_DONE);
		if (op != ACC_OP_KX_KEYGEN)
			EXPECT_EQ(std::vector<uint8_t>(sec[0], sec[0] + 32), peer_secret(0));
		else
			EXPECT_EQ(j[0].out_len, 32u);
	};
	acc_exec_stats(ex, &st0);
	one(ACC_OP_KX_DERIVE); // pool 0 -> 7
	acc_exec_stats(ex, &st1);
	EXPECT_EQ(st1.lane_passes, st0.lane_passes + 1);
	acc_eph_clear(&eph[0]);
	one(ACC_OP_KX_KEYGEN_DERIVE); // a pool key; 6 -> 13
	acc_exec_stats(ex, &st1);
	EXPECT_EQ(st1.lane_passes, st0.lane_passes + 2);
	for (int h = 0; h < 5; h++) { // 13 -> 8: no pass
		acc_eph_clear(&eph[0]);
		one(ACC_OP_KX_KEYGEN_DERIVE);
	}
	acc_eph_clear(&eph[0]);
	one(ACC_OP_KX_KEYGEN); // TLS 1.2: the key share from the pool (7 left) ...
	acc_exec_stats(ex, &st1);
	EXPECT_EQ(st1.lane_passes, st0.lane_passes + 2);
	one(ACC_OP_KX_DERIVE); // ... the derive: below the mark, a pass again
	acc_exec_stats(ex, &st1);
	EXPECT_EQ(st1.lane_passes, st0.lane_passes + 3);
	// a key share taken from the pool is never handed out twice
	std::vector<std::vector<uint8_t>> seen;
	for (int h = 0; h < 40; h++) {
		acc_eph_clear(&eph[0]);
		one(ACC_OP_KX_KEYGEN_DERIVE);
		std::vector<uint8_t> p(pub[0], pub[0] + 32);
		for (auto &q : seen)
			EXPECT_NE(p, q);
		seen.push_back(p);
	}
	acc_eph_clear(&eph[0]);
	// a small-order peer point fails on the lanes as on OpenSSL
	for (int i = 0; i < n; i++) {
		memset(ppub[i], 0, 32);
		submit(i, ACC_OP_KX_KEYGEN_DERIVE);
	}
	flush();
	for (int i = 0; i < n; i++)
		EXPECT_EQ(j[i].status, ACC_FAILED);
	for (int i = 0; i < n; i++) {
		acc_eph_clear(&eph[i]);
		EVP_PKEY_free(peer[i]);
	}
	acc_exec_free(ex);
}

} // namespace
