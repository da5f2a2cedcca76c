// Conformance of the engine against exact bytes (issue 16): a hand-made
// client builds ClientHellos and records byte by byte, feeds them to the
// engine with hsk_conn_recv() and reads the answer (records, alerts). For
// TLS 1.3 it runs the key schedule itself, so records can be injected
// under the handshake or application keys with any padding or split.
#include <gtest/gtest.h>

#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstring>
#include <functional>
#include <memory>

#include "acc_exec.h"
#include "acc_job.h"
#include "acc_mlkem.h"
#include "hsk_algs.h"
#include "hsk_buf.h"
#include "hsk_err.h"
#include "hsk_hkdf.h"
#include "hsk_suite.h"
#include "hsk_test_peer.h"
#include "rec_layer.h"

using hsk_test::Pair;
using hsk_test::Server;

namespace {

// ---- wire encoding ----

std::string
be(uint64_t v, int n)
{
	std::string s;
	for (int i = n - 1; i >= 0; i--)
		s += (char)(uint8_t)(v >> (8 * i));
	return s;
}

std::string
vec(int lenbytes, const std::string &body)
{
	return be(body.size(), lenbytes) + body;
}

std::string
ext(uint16_t type, const std::string &body)
{
	return be(type, 2) + vec(2, body);
}

std::string
list16(const std::vector<uint16_t> &v)
{
	std::string s;
	for (uint16_t x : v)
		s += be(x, 2);
	return s;
}

std::string
hs_msg(uint8_t type, const std::string &body)
{
	return std::string(1, (char)type) + vec(3, body);
}

// Plaintext records of at most frag bytes each.
std::string
records(uint8_t type, const std::string &data, size_t frag = 16384, uint16_t version = 0x0303)
{
	std::string out;
	for (size_t off = 0; off < data.size() || (off == 0 && data.empty()); off += frag) {
		std::string piece = data.substr(off, frag);
		out += std::string(1, (char)type) + be(version, 2) + vec(2, piece);
		if (data.empty())
			break;
	}
	return out;
}

// A ClientHello body: TLS 1.2 layout, the caller's suites and extensions.
std::string
client_hello_body(const std::vector<uint16_t> &suites, const std::string &exts,
		  const std::string &session_id = "", const std::string &random = std::string(32, '\x42'))
{
	return be(0x0303, 2) + random + vec(1, session_id) + vec(2, list16(suites)) + vec(1, std::string(1, '\0')) +
	       vec(2, exts);
}

std::string
client_hello(const std::vector<uint16_t> &suites, const std::string &exts, const std::string &session_id = "")
{
	return hs_msg(1, client_hello_body(suites, exts, session_id));
}

// ---- the engine, fed bytes ----

struct Rec {
	uint8_t type;
	std::string body;
};

struct Conn {
	Server &s;
	hsk_conn *c;
	hsk_err err = HSK_OK;     // last result that is not progress
	std::string out;          // server -> client bytes not yet parsed

	explicit Conn(Server &srv) : s(srv), c(hsk_conn_new(&srv.ctx, &srv.w[0])) {}
	~Conn()
	{
		while (acc_exec_pending(s.exec[0]) > 0)
			acc_exec_flush(s.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); }, nullptr);
		hsk_conn_free(c);
	}
	Conn(const Conn &) = delete;
	Conn &operator=(const Conn &) = delete;

	void
	collect()
	{
		const uint8_t *o;
		size_t n = hsk_conn_out(c, &o);
		out.append((const char *)o, n);
		hsk_conn_out_done(c, n);
	}

	void
	note(hsk_err e)
	{
		err = e;
		collect();
		uint8_t buf[4096];
		while (hsk_conn_app_read(c, buf, sizeof(buf)) > 0) {
		}
	}

	// Feed bytes in chunks of at most chunk, running crypto jobs.
	hsk_err
	feed(const std::string &bytes, size_t chunk = SIZE_MAX)
	{
		size_t off = 0;
		for (int guard = 0; guard < 100000; guard++) {
			size_t len = std::min(bytes.size() - off, chunk);
			hsk_err e = hsk_conn_recv(c, (const uint8_t *)bytes.data() + off, &len);
			off += len;
			note(e);
			while (e == HSK_WANT_CRYPTO) {
				acc_exec_flush(s.exec[0], [](acc_job *j, void *) { (void)hsk_conn_from_job(j); },
					       nullptr);
				e = hsk_conn_resume(c);
				note(e);
			}
			if (e != HSK_OK && e != HSK_WANT_INPUT)
				return e;
			if (off == bytes.size() && e == HSK_WANT_INPUT)
				return e;
			if (len == 0 && e != HSK_OK)
				return e;
		}
		return err;
	}

	// Whole records from out (consumed).
	std::vector<Rec>
	take_records()
	{
		std::vector<Rec> v;
		size_t off = 0;
		while (out.size() - off >= 5) {
			size_t n = (uint8_t)out[off + 3] << 8 | (uint8_t)out[off + 4];
			if (out.size() - off - 5 < n)
				break;
			v.push_back({ (uint8_t)out[off], out.substr(off + 5, n) });
			off += 5 + n;
		}
		out.erase(0, off);
		return v;
	}
};

// Handshake messages of a plaintext flight: (type, body) in order.
std::vector<std::pair<uint8_t, std::string>>
messages_of(const std::vector<Rec> &recs, int *alert = nullptr)
{
	std::string hs;
	for (const Rec &r : recs) {
		if (r.type == REC_HANDSHAKE)
			hs += r.body;
		if (r.type == REC_ALERT && alert != nullptr && r.body.size() == 2)
			*alert = (uint8_t)r.body[1];
	}
	std::vector<std::pair<uint8_t, std::string>> v;
	size_t off = 0;
	while (hs.size() - off >= 4) {
		size_t n = (uint8_t)hs[off + 1] << 16 | (uint8_t)hs[off + 2] << 8 | (uint8_t)hs[off + 3];
		if (hs.size() - off - 4 < n)
			break;
		v.push_back({ (uint8_t)hs[off], hs.substr(off + 4, n) });
		off += 4 + n;
	}
	return v;
}

// The fatal alert in a plaintext answer, or -1.
int
plain_alert(Conn &c)
{
	int alert = -1;
	(void)messages_of(c.take_records(), &alert);
	return alert;
}

// ServerHello's session_id.
std::string
server_hello_session_id(const std::string &sh)
{
	size_t n = (uint8_t)sh[34];
	return sh.substr(35, n);
}

uint16_t
server_hello_suite(const std::string &sh)
{
	size_t at = 35 + (uint8_t)sh[34];
	return (uint16_t)((uint8_t)sh[at] << 8 | (uint8_t)sh[at + 1]);
}

// ---- common extensions ----

const std::vector<uint16_t> kSigalgs = { 0x0403, 0x0503, 0x0804, 0x0805, 0x0401 };

std::string
exts12(const std::string &more = "", bool ems = true)
{
	std::string e = ext(10, vec(2, list16({ 0x001d, 0x0017, 0x0100 }))) + ext(11, vec(1, std::string(1, '\0'))) +
			ext(13, vec(2, list16(kSigalgs))) + ext(0xff01, vec(1, ""));
	if (ems)
		e += ext(23, "");
	return e + more;
}

// A ServerHello body that is a HelloRetryRequest (its special random,
// RFC 8446 4.1.3), and the cookie it carries (its last extension).
bool
is_hrr(const std::string &sh)
{
	return sh.size() > 35 && sh.substr(2, 8) == std::string("\xcf\x21\xad\x74\xe5\x9a\x61\x11", 8);
}

std::string
hrr_cookie(const std::string &hrr)
{
	size_t at = hrr.find(std::string("\x00\x2c", 2), 35 + (uint8_t)hrr[34] + 3);
	if (at == std::string::npos || at + 6 > hrr.size())
		return "";
	return hrr.substr(at + 6, ((uint8_t)hrr[at + 4] << 8 | (uint8_t)hrr[at + 5]));
}

// ---- a TLS 1.3 client with its own key schedule (SHA-256 suites) ----

struct PkeyDeleter {
	void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// A key share for group: the key and the encoded public value.
// X25519MLKEM768: the X25519 key, pub = ek || X25519 and the ML-KEM
// decapsulation key in *mlkem_dk (made by accel's ML-KEM, which
// acc_mlkem_test checks against NIST's vectors and OpenSSL 3.5).
PkeyPtr
share_key(uint16_t group, std::string *pub, std::string *mlkem_dk = nullptr)
{
	EVP_PKEY *k = nullptr;
	if (group == ACC_GROUP_X25519MLKEM768) {
		std::string x, ek(ACC_MLKEM768_EK_LEN, '\0'), dk(ACC_MLKEM768_DK_LEN, '\0');
		PkeyPtr xk = share_key(ACC_GROUP_X25519, &x);
		acc_mlkem *mk = acc_mlkem_new();
		EXPECT_EQ(acc_mlkem768_keygen(mk, nullptr, nullptr, (uint8_t *)&ek[0], (uint8_t *)&dk[0]), 0);
		acc_mlkem_free(mk);
		*pub = ek + x;
		if (mlkem_dk != nullptr)
			*mlkem_dk = dk;
		return xk;
	}
	if (group == ACC_GROUP_X25519) {
		k = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
		uint8_t b[32];
		size_t n = sizeof(b);
		EVP_PKEY_get_raw_public_key(k, b, &n);
		pub->assign((const char *)b, n);
	} else if (group == ACC_GROUP_SECP256R1) {
		k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
		uint8_t b[65];
		size_t n = sizeof(b);
		EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, b, sizeof(b), &n);
		pub->assign((const char *)b, n);
	} else {
		const char *name = group == ACC_GROUP_FFDHE2048 ? "ffdhe2048" : "ffdhe3072";
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
		OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)name, 0),
				   OSSL_PARAM_construct_end() };
		EVP_PKEY_keygen_init(pc);
		EVP_PKEY_CTX_set_params(pc, p);
		EVP_PKEY_generate(pc, &k);
		EVP_PKEY_CTX_free(pc);
		BIGNUM *y = nullptr;
		EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &y);
		std::string b((size_t)EVP_PKEY_get_size(k), '\0');
		BN_bn2binpad(y, (uint8_t *)&b[0], (int)b.size()); // RFC 8446 4.2.8.1
		BN_free(y);
		*pub = b;
	}
	return PkeyPtr(k);
}

// The shared secret with the peer's public value (FFDHE left-padded to p).
std::string
share_derive(EVP_PKEY *ours, uint16_t group, const std::string &peer_pub, const std::string &mlkem_dk = "")
{
	EVP_PKEY *peer = nullptr;
	if (group == ACC_GROUP_X25519MLKEM768) {
		// ciphertext || X25519 in, ML-KEM secret || X25519 secret out
		if (peer_pub.size() != ACC_MLKEM768_CT_LEN + 32)
			return "";
		uint8_t ss[ACC_MLKEM_SS_LEN];
		acc_mlkem *mk = acc_mlkem_new();
		int rc = acc_mlkem768_decaps(mk, (const uint8_t *)mlkem_dk.data(), mlkem_dk.size(),
					     (const uint8_t *)peer_pub.data(), ACC_MLKEM768_CT_LEN, ss);
		acc_mlkem_free(mk);
		std::string x = share_derive(ours, ACC_GROUP_X25519, peer_pub.substr(ACC_MLKEM768_CT_LEN));
		if (rc != 0 || x.empty())
			return "";
		return std::string((const char *)ss, sizeof(ss)) + x;
	}
	if (group == ACC_GROUP_X25519) {
		peer = EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, (const uint8_t *)peer_pub.data(),
						     peer_pub.size());
	} else {
		peer = EVP_PKEY_new();
		EVP_PKEY_copy_parameters(peer, ours);
		EVP_PKEY_set1_encoded_public_key(peer, (const uint8_t *)peer_pub.data(), peer_pub.size());
	}
	EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(ours, nullptr);
	uint8_t out[512];
	size_t n = sizeof(out);
	EVP_PKEY_derive_init(dc);
	if (group == ACC_GROUP_FFDHE2048 || group == ACC_GROUP_FFDHE3072)
		EVP_PKEY_CTX_set_dh_pad(dc, 1);
	EVP_PKEY_derive_set_peer(dc, peer);
	std::string s;
	if (EVP_PKEY_derive(dc, out, &n) > 0)
		s.assign((const char *)out, n);
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(peer);
	return s;
}

struct Client13 {
	const hsk_suite *suite = hsk_suite_by_id(0x1301);
	uint16_t group = ACC_GROUP_X25519;
	PkeyPtr key;
	std::string pub;
	std::string transcript;      // raw handshake messages
	uint8_t hs_secret[32], master[32], c_hs[32], s_hs[32], c_ap[32], s_ap[32];
	rec_dir rd = {};             // server -> client
	uint8_t c_cur[32];           // the client's sending secret
	uint64_t wseq = 0;
	bool server_finished = false;
	int alert = -1;              // last alert from the server
	std::vector<uint8_t> post;   // post-handshake message types received
	std::string hsbuf;           // server handshake bytes not yet a whole message

	std::string mlkem_dk;        // X25519MLKEM768: the ML-KEM half's private key

	explicit Client13(uint16_t g = ACC_GROUP_X25519) : group(g) { key = share_key(g, &pub, &mlkem_dk); }
	~Client13()
	{
		rec_dir_clear(&rd);
	}
	Client13(const Client13 &) = delete;
	Client13 &operator=(const Client13 &) = delete;

	std::string
	hash(const std::string &m) const
	{
		uint8_t h[32];
		unsigned n;
		EVP_Digest(m.data(), m.size(), h, &n, EVP_sha256(), nullptr);
		return std::string((const char *)h, n);
	}

	// The usual extensions; extra ones go before the key share.
	std::string
	extensions(const std::string &extra = "", bool with_share = true) const
	{
		std::string ks = with_share ? be(group, 2) + vec(2, pub) : "";
		return ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ group }))) +
		       ext(13, vec(2, list16(kSigalgs))) + extra + ext(51, vec(2, ks));
	}

	std::string
	hello(const std::string &extra = "", const std::vector<uint16_t> &suites = { 0x1301 })
	{
		std::string m = client_hello(suites, extensions(extra));
		transcript += m;
		return m;
	}

	void
	install(rec_dir *d, const uint8_t *secret, bool enc)
	{
		uint8_t k[32], iv[12];
		ASSERT_EQ(hsk_hkdf_expand_label(suite->prf, secret, "key", nullptr, 0, k, suite->key_len), HSK_OK);
		ASSERT_EQ(hsk_hkdf_expand_label(suite->prf, secret, "iv", nullptr, 0, iv, 12), HSK_OK);
		ASSERT_EQ(rec_dir_init(d, suite, 0x0304, enc, false, k, iv, nullptr), HSK_OK);
	}

	void
	derive_secret(const uint8_t *secret, const char *label, const std::string &th, uint8_t *out)
	{
		ASSERT_EQ(hsk_hkdf_derive_secret(suite->prf, secret, label, (const uint8_t *)th.data(), out), HSK_OK);
	}

	// After ServerHello: handshake keys from the shared secret.
	void
	on_server_hello(const std::string &sh)
	{
		struct hsk_rd r = hsk_rd_make((const uint8_t *)sh.data(), sh.size()), sid = {}, exts = {}, e = {};
		const uint8_t *rnd;
		uint16_t v, cs, type;
		uint8_t comp;
		std::string peer;
		ASSERT_EQ(hsk_rd_u16(&r, &v), HSK_OK);
		ASSERT_EQ(hsk_rd_bytes(&r, 32, &rnd), HSK_OK);
		ASSERT_EQ(hsk_rd_vec(&r, 1, 0, 32, &sid), HSK_OK);
		ASSERT_EQ(hsk_rd_u16(&r, &cs), HSK_OK);
		ASSERT_EQ(hsk_rd_u8(&r, &comp), HSK_OK);
		ASSERT_EQ(hsk_rd_vec(&r, 2, 0, 0xffff, &exts), HSK_OK);
		while (hsk_rd_left(&exts) > 0) {
			ASSERT_EQ(hsk_rd_u16(&exts, &type), HSK_OK);
			ASSERT_EQ(hsk_rd_vec(&exts, 2, 0, 0xffff, &e), HSK_OK);
			if (type == 51)
				peer.assign((const char *)e.cur + 4, hsk_rd_left(&e) - 4);
		}
		ASSERT_FALSE(peer.empty());
		std::string shared = share_derive(key.get(), group, peer, mlkem_dk);
		ASSERT_FALSE(shared.empty());
		uint8_t early[32], derived[32];
		std::string th = hash(transcript);
		ASSERT_EQ(hsk_hkdf_extract(suite->prf, nullptr, 0, nullptr, 32, early), HSK_OK);
		derive_secret(early, "derived", hash(""), derived);
		ASSERT_EQ(hsk_hkdf_extract(suite->prf, derived, 32, (const uint8_t *)shared.data(), shared.size(),
					   hs_secret),
			  HSK_OK);
		derive_secret(hs_secret, "c hs traffic", th, c_hs);
		derive_secret(hs_secret, "s hs traffic", th, s_hs);
		install(&rd, s_hs, false);
		memcpy(c_cur, c_hs, 32);
		wseq = 0;
	}

	void
	on_message(uint8_t type, const std::string &body)
	{
		std::string m = hs_msg(type, body);
		if (server_finished) {
			post.push_back(type);
			return;
		}
		transcript += m;
		if (type == 2) {
			on_server_hello(body);
		} else if (type == 20) {
			server_finished = true;
			uint8_t derived[32];
			std::string th = hash(transcript);
			derive_secret(hs_secret, "derived", hash(""), derived);
			ASSERT_EQ(hsk_hkdf_extract(suite->prf, derived, 32, nullptr, 0, master), HSK_OK);
			derive_secret(master, "c ap traffic", th, c_ap);
			derive_secret(master, "s ap traffic", th, s_ap);
			install(&rd, s_ap, false);
		}
	}

	// Everything the server sent: handshake messages, alerts.
	void
	read(Conn &c)
	{
		for (Rec &r : c.take_records()) {
			uint8_t type = r.type;
			std::string body = r.body;
			if (type == REC_CHANGE_CIPHER_SPEC)
				continue;
			if (type == REC_APPLICATION_DATA && rd.suite != nullptr) {
				rec_hdr h = { REC_APPLICATION_DATA, 0x0303, (uint16_t)body.size() };
				uint8_t *pt;
				size_t n;
				ASSERT_EQ(rec_open(&rd, &h, (uint8_t *)&body[0], &pt, &n), HSK_OK);
				type = h.type;
				body.assign((const char *)pt, n);
			}
			if (type == REC_ALERT && body.size() == 2) {
				alert = (uint8_t)body[1];
				continue;
			}
			if (type != REC_HANDSHAKE)
				continue;
			hsbuf += body;
			while (hsbuf.size() >= 4) {
				size_t n = (uint8_t)hsbuf[1] << 16 | (uint8_t)hsbuf[2] << 8 | (uint8_t)hsbuf[3];
				if (hsbuf.size() < 4 + n)
					break;
				on_message((uint8_t)hsbuf[0], hsbuf.substr(4, n));
				hsbuf.erase(0, 4 + n);
			}
		}
	}

	// A record under the client's current keys whose TLSInnerPlaintext is
	// content, type and pad zero bytes (RFC 8446 5.2, 5.4), AES-128-GCM.
	std::string
	seal(uint8_t type, const std::string &content, size_t pad = 0)
	{
		return seal_inner(content + std::string(1, (char)type) + std::string(pad, '\0'));
	}

	std::string
	seal_inner(const std::string &inner)
	{
		uint8_t k[16], iv[12], nonce[12];
		EXPECT_EQ(hsk_hkdf_expand_label(suite->prf, c_cur, "key", nullptr, 0, k, 16), HSK_OK);
		EXPECT_EQ(hsk_hkdf_expand_label(suite->prf, c_cur, "iv", nullptr, 0, iv, 12), HSK_OK);
		memcpy(nonce, iv, 12);
		for (int i = 0; i < 8; i++)
			nonce[4 + i] ^= (uint8_t)(wseq >> (8 * (7 - i)));
		std::string hdr = std::string("\x17\x03\x03", 3) + be(inner.size() + 16, 2);
		std::string ct(inner.size() + 16, '\0');
		EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
		int outl;
		EVP_EncryptInit_ex2(cc, EVP_aes_128_gcm(), k, nonce, nullptr);
		EVP_EncryptUpdate(cc, nullptr, &outl, (const uint8_t *)hdr.data(), 5);
		EVP_EncryptUpdate(cc, (uint8_t *)&ct[0], &outl, (const uint8_t *)inner.data(), (int)inner.size());
		EVP_EncryptFinal_ex(cc, (uint8_t *)&ct[0] + outl, &outl);
		EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, 16, (uint8_t *)&ct[inner.size()]);
		EVP_CIPHER_CTX_free(cc);
		wseq++;
		return hdr + ct;
	}

	// The client's next sending secret (RFC 8446 7.2): after its KeyUpdate.
	void
	key_update()
	{
		uint8_t next[32];
		ASSERT_EQ(hsk_hkdf_expand_label(suite->prf, c_cur, "traffic upd", nullptr, 0, next, 32), HSK_OK);
		memcpy(c_cur, next, 32);
		wseq = 0;
	}

	// The client's Finished message (not yet sealed).
	std::string
	finished_msg()
	{
		uint8_t fkey[32], mac[32];
		size_t n;
		std::string th = hash(transcript);
		EXPECT_EQ(hsk_hkdf_expand_label(suite->prf, c_hs, "finished", nullptr, 0, fkey, 32), HSK_OK);
		EXPECT_EQ(hsk_hmac(suite->prf, fkey, 32, (const uint8_t *)th.data(), th.size(), mac, &n), HSK_OK);
		return hs_msg(20, std::string((const char *)mac, n));
	}

	// Finished under the handshake keys, then the application keys.
	std::string
	finish()
	{
		std::string m = finished_msg();
		std::string rec = seal(REC_HANDSHAKE, m);
		transcript += m;
		memcpy(c_cur, c_ap, 32);
		wseq = 0;
		return rec;
	}
};

// A TLS 1.3 handshake up to the server's Finished: true when it got there.
bool
server_flight(Conn &c, Client13 &cl, const std::string &extra = "")
{
	c.feed(records(REC_HANDSHAKE, cl.hello(extra)));
	cl.read(c);
	return cl.server_finished;
}

// A whole TLS 1.3 handshake; the engine is established after it.
bool
handshake13(Conn &c, Client13 &cl, const std::string &extra = "")
{
	if (!server_flight(c, cl, extra))
		return false;
	c.feed(cl.finish());
	cl.read(c);
	return hsk_conn_established(c.c);
}

} // namespace

// ---- the harness itself ----

TEST(HskConform, HandMadeTls13ClientCompletes)
{
	Server s;
	Conn c(s);
	Client13 cl;
	ASSERT_TRUE(handshake13(c, cl)) << std::hex << c.err;
	EXPECT_EQ(c.feed(cl.seal(REC_APPLICATION_DATA, "ping")), HSK_WANT_INPUT);
	EXPECT_EQ(cl.alert, -1);
}

// ---- resumption (RFC 7627 5.3, RFC 5246 7.4.1.2) ----

namespace {

struct SslSessDeleter {
	void operator()(SSL_SESSION *s) const { SSL_SESSION_free(s); }
};
using SessPtr = std::unique_ptr<SSL_SESSION, SslSessDeleter>;

// A TLS 1.2 session from a libssl client: with or without EMS, with a
// ticket or a session ID.
SessPtr
session12(Server &s, bool ems, bool ticket, const char *cipher = "ECDHE-RSA-AES128-GCM-SHA256")
{
	SSL_CTX *cc = hsk_test::client_ctx();
	SSL_CTX_set_cipher_list(cc, cipher);
	if (!ems)
		SSL_CTX_set_options(cc, SSL_OP_NO_EXTENDED_MASTER_SECRET);
	if (!ticket)
		SSL_CTX_set_options(cc, SSL_OP_NO_TICKET);
	SessPtr sess;
	{
		Pair p(s, cc);
		if (p.handshake())
			sess.reset(SSL_get1_session(p.ssl));
	}
	SSL_CTX_free(cc);
	return sess;
}

std::string
sess_id(SSL_SESSION *sess)
{
	unsigned n;
	const uint8_t *id = SSL_SESSION_get_id(sess, &n);
	return std::string((const char *)id, n);
}

std::string
sess_ticket(SSL_SESSION *sess)
{
	const uint8_t *t;
	size_t n;
	SSL_SESSION_get0_ticket(sess, &t, &n);
	return std::string((const char *)t, n);
}

enum class Outcome { resumed, full, alert };

// Feed a ClientHello, tell what the server did with it.
Outcome
offer12(Server &s, const std::vector<uint16_t> &suites, const std::string &exts, const std::string &sid,
	int *alert_out = nullptr, uint16_t *suite_out = nullptr)
{
	Conn c(s);
	c.feed(records(REC_HANDSHAKE, client_hello(suites, exts, sid)));
	int alert = -1;
	auto msgs = messages_of(c.take_records(), &alert);
	if (alert_out != nullptr)
		*alert_out = alert;
	if (alert >= 0 || msgs.empty() || msgs[0].first != 2)
		return Outcome::alert;
	if (suite_out != nullptr)
		*suite_out = server_hello_suite(msgs[0].second);
	bool cert = false;
	for (auto &m : msgs)
		cert |= m.first == 11;
	bool echoed = !sid.empty() && server_hello_session_id(msgs[0].second) == sid;
	return echoed && !cert ? Outcome::resumed : Outcome::full;
}

} // namespace

// How a ClientHello offers a session: the ticket extension (with a
// session ID of its own, RFC 5077 3.4) or the session's ID.
struct Offer {
	std::string ext, sid;
};

Offer
offer_of(SSL_SESSION *sess, bool ticket)
{
	if (ticket)
		return { ext(35, sess_ticket(sess)), std::string(32, '\x5a') };
	return { "", sess_id(sess) };
}

// RFC 7627 5.3, by session ID and by ticket: a session made with EMS
// offered without it aborts with handshake_failure; one made without
// it offered with EMS gets a full handshake; each resumes when offered
// as it was made.
TEST(HskConformResume, ExtendedMasterSecretMustMatch)
{
	for (bool ticket : { false, true }) {
		for (bool ems : { true, false }) {
			Server s;
			SessPtr sess = session12(s, ems, ticket);
			ASSERT_TRUE(sess);
			Offer o = offer_of(sess.get(), ticket);
			ASSERT_EQ(o.sid.size(), 32u);
			ASSERT_TRUE(!ticket || o.ext.size() > 4);
			int alert = -1;
			EXPECT_EQ(offer12(s, { 0xc02f }, exts12(o.ext, ems), o.sid), Outcome::resumed)
				<< "ticket " << ticket << " ems " << ems;
			Outcome other = offer12(s, { 0xc02f }, exts12(o.ext, !ems), o.sid, &alert);
			EXPECT_EQ(other, ems ? Outcome::alert : Outcome::full) << "ticket " << ticket << " ems " << ems;
			EXPECT_EQ(alert, ems ? HSK_AD_HANDSHAKE_FAILURE : -1) << "ticket " << ticket;
		}
	}
}

// The new ClientHello does not offer the session's suite (RFC 5246
// 7.4.1.2: it MUST): never resumed, the handshake is aborted with
// illegal_parameter, by session ID, ticket, or both (tlsfuzzer's
// test-resumption-with-wrong-ciphers.py).
TEST(HskConformResume, SuiteNoLongerOfferedIsNotResumed)
{
	Server s;
	char err[128];
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "old", err, sizeof(err)), 0) << err;
	SessPtr byid = session12(s, true, false, "ECDHE-RSA-AES128-SHA");
	SessPtr byticket = session12(s, true, true, "ECDHE-RSA-AES128-SHA");
	ASSERT_TRUE(byid && byticket);
	std::string id = sess_id(byid.get()), t = ext(35, sess_ticket(byticket.get()));
	std::string tid = sess_id(byticket.get()).empty() ? std::string(32, '\x5a') : sess_id(byticket.get());
	int alert = -1;
	EXPECT_EQ(offer12(s, { 0xc013 }, exts12(), id), Outcome::resumed);
	EXPECT_EQ(offer12(s, { 0xc013 }, exts12(t), tid), Outcome::resumed);
	for (const std::vector<uint16_t> &suites :
	     { std::vector<uint16_t>{ 0xc014 }, std::vector<uint16_t>{ 0xc02f, 0xc014 },
	       std::vector<uint16_t>{ 0x0033, 0xc014, 0x00ff }, std::vector<uint16_t>{ 0x0002 } }) {
		EXPECT_EQ(offer12(s, suites, exts12(), id, &alert), Outcome::alert);
		EXPECT_EQ(alert, HSK_AD_ILLEGAL_PARAMETER);
		EXPECT_EQ(offer12(s, suites, exts12(t), tid, &alert), Outcome::alert);
		EXPECT_EQ(alert, HSK_AD_ILLEGAL_PARAMETER);
		// the ticket of one session with the ID of the other
		EXPECT_EQ(offer12(s, suites, exts12(t), id, &alert), Outcome::alert);
		EXPECT_EQ(alert, HSK_AD_ILLEGAL_PARAMETER);
	}
	// the sessions are still good with their suite
	EXPECT_EQ(offer12(s, { 0xc02f, 0xc013 }, exts12(), id), Outcome::resumed);
	// an unknown session ID is a full handshake whatever the suites
	EXPECT_EQ(offer12(s, { 0xc014 }, exts12(), std::string(32, '\x01')), Outcome::full);
	// offered, but no longer enabled by the listener (sessions and ticket
	// keys outliving a configuration change): a full handshake
	uint16_t suite = 0;
	ASSERT_EQ(hsk_ctx_set_suites(&s.ctx, "intermediate", err, sizeof(err)), 0) << err;
	EXPECT_EQ(offer12(s, { 0xc013, 0xc02f }, exts12(), id, nullptr, &suite), Outcome::full);
	EXPECT_EQ(suite, 0xc02f);
	EXPECT_EQ(offer12(s, { 0xc013, 0xc02f }, exts12(t), tid, nullptr, &suite), Outcome::full);
	EXPECT_EQ(suite, 0xc02f);
}

// ---- TLS 1.2 ServerKeyExchange and ClientKeyExchange ----

namespace {

// A TLS 1.2 ClientHello up to ServerHelloDone: the flight's messages.
std::vector<std::pair<uint8_t, std::string>>
flight12(Conn &c, const std::vector<uint16_t> &suites, const std::string &exts, int *alert)
{
	c.feed(records(REC_HANDSHAKE, client_hello(suites, exts)));
	return messages_of(c.take_records(), alert);
}

std::string
find_msg(const std::vector<std::pair<uint8_t, std::string>> &msgs, uint8_t type)
{
	for (auto &m : msgs)
		if (m.first == type)
			return m.second;
	return "";
}

// ffdhe2048 public values out of range (RFC 7919 5.1: 1 < Y < p - 1), as
// long as p or longer.
std::vector<std::pair<const char *, std::string>>
bad_ffdhe2048_values()
{
	size_t plen;
	const uint8_t *p = hsk_algs_ffdhe_p(ACC_GROUP_FFDHE2048, &plen);
	std::string pm1(plen, '\0'), pp1(plen, '\0');
	BIGNUM *bn = BN_bin2bn(p, (int)plen, nullptr);
	BN_sub_word(bn, 1);
	BN_bn2binpad(bn, (uint8_t *)&pm1[0], (int)plen);
	BN_add_word(bn, 2);
	BN_bn2binpad(bn, (uint8_t *)&pp1[0], (int)plen);
	BN_free(bn);
	return {
		{ "zero padded", std::string(plen, '\0') },
		{ "one padded", std::string(plen - 1, '\0') + "\x01" },
		{ "p-1", pm1 },
		{ "p", std::string((const char *)p, plen) },
		{ "p+1", pp1 },
		{ "all ones", std::string(plen, '\xff') },
		{ "longer than p, leading zero", std::string(1, '\0') + pm1 },
		{ "2^8192 (tlsfuzzer)", std::string(1, '\1') + std::string(1024, '\0') },
	};
}

} // namespace

// RFC 5246 7.4.7.2, RFC 7919 5.1: a client Yc outside 1 < Yc < p - 1
// (or longer than p) is illegal_parameter.
TEST(HskConformKx, DheClientValueOutOfRange)
{
	Server s;
	auto cases = bad_ffdhe2048_values();
	cases.push_back({ "zero", std::string(1, '\0') });
	cases.push_back({ "one", std::string(1, '\1') });
	for (auto &tc : cases) {
		Conn c(s);
		int alert = -1;
		auto msgs = flight12(c, { 0x009e }, exts12(), &alert);
		ASSERT_TRUE(!msgs.empty() && msgs.back().first == 14) << "no ServerHelloDone, alert " << alert;
		c.feed(records(REC_HANDSHAKE, hs_msg(16, vec(2, tc.second))));
		EXPECT_EQ(plain_alert(c), HSK_AD_ILLEGAL_PARAMETER) << tc.first;
	}
}

// RFC 5246 7.4.1.4.1, RFC 8422 5.1.1: in TLS 1.2 the hash of an ECDSA
// signature is not tied to the certificate's curve.
TEST(HskConformKx, EcdsaP256CertificateSignsWithSha384AndSha512)
{
	Server s(false, true);
	BIO *b = BIO_new_file(hsk_test::cert_path("ecdsa.crt").c_str(), "r");
	X509 *x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
	BIO_free(b);
	ASSERT_NE(x, nullptr);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	for (uint16_t scheme : { 0x0503, 0x0603 }) {
		Conn c(s);
		int alert = -1;
		std::string e = ext(10, vec(2, list16({ 0x0017 }))) + ext(11, vec(1, std::string(1, '\0'))) +
				ext(13, vec(2, list16({ scheme }))) + ext(23, "");
		auto msgs = flight12(c, { 0xc02b }, e, &alert);
		ASSERT_EQ(alert, -1) << std::hex << scheme;
		std::string sh = find_msg(msgs, 2), ske = find_msg(msgs, 12);
		ASSERT_FALSE(ske.empty());
		size_t params = 4 + (uint8_t)ske[3];
		ASSERT_EQ((uint16_t)((uint8_t)ske[params] << 8 | (uint8_t)ske[params + 1]), scheme);
		std::string sig = ske.substr(params + 4);
		std::string signed_data = std::string(32, '\x42') + sh.substr(2, 32) + ske.substr(0, params);
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ASSERT_EQ(EVP_DigestVerifyInit(m, nullptr, scheme == 0x0503 ? EVP_sha384() : EVP_sha512(), nullptr, pub), 1);
		EXPECT_EQ(EVP_DigestVerify(m, (const uint8_t *)sig.data(), sig.size(),
					   (const uint8_t *)signed_data.data(), signed_data.size()),
			  1)
			<< std::hex << scheme;
		EVP_MD_CTX_free(m);
	}
	X509_free(x);
}

// TLS 1.3 still binds the curve (RFC 8446 4.2.3): P-256 key, only
// ecdsa_secp384r1_sha384 offered.
TEST(HskConformKx, Tls13EcdsaSchemeStillBindsTheCurve)
{
	Server s(false, true);
	Conn c(s);
	Client13 cl;
	std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x001d }))) +
			ext(13, vec(2, list16({ 0x0503 }))) + ext(51, vec(2, be(0x001d, 2) + vec(2, cl.pub)));
	c.feed(records(REC_HANDSHAKE, client_hello({ 0x1301 }, e)));
	EXPECT_EQ(plain_alert(c), HSK_AD_HANDSHAKE_FAILURE);
}

// ---- alert choices ----

namespace {

// A TLS 1.3 connection at the point where the client's Finished is due
// (keys: handshake), or after it (keys: application).
struct At13 {
	Server s;
	Conn c{ s };
	Client13 cl;

	explicit At13(bool established)
	{
		bool ok = established ? handshake13(c, cl) : server_flight(c, cl);
		EXPECT_TRUE(ok) << std::hex << c.err;
	}

	// Feed bytes, return the alert the server sent (-1: none).
	int
	send(const std::string &bytes, size_t chunk = SIZE_MAX)
	{
		c.feed(bytes, chunk);
		cl.read(c);
		return cl.alert;
	}
};

} // namespace

// RFC 8446 5.1, 5.4 (and RFC 5246 6.2.1): an alert record must hold one
// alert; an empty one, whatever its padding, is unexpected_message.
TEST(HskConformAlert, EmptyTls13AlertRecord)
{
	for (bool established : { false, true }) {
		for (size_t pad : { 0, 1, 200 }) {
			At13 a(established);
			EXPECT_EQ(a.send(a.cl.seal(REC_ALERT, "", pad)), HSK_AD_UNEXPECTED_MESSAGE)
				<< "established " << established << " pad " << pad;
		}
	}
}

TEST(HskConformAlert, TwoByteChangeCipherSpec)
{
	{
		At13 a(false);
		EXPECT_EQ(a.send(records(REC_CHANGE_CIPHER_SPEC, "\x01\x01")), HSK_AD_UNEXPECTED_MESSAGE);
	}
	// TLS 1.2, where the ChangeCipherSpec is due
	Server s;
	Conn c(s);
	int alert = -1;
	auto msgs = flight12(c, { 0xc02f }, exts12(), &alert);
	ASSERT_TRUE(!msgs.empty() && msgs.back().first == 14) << alert;
	std::string pub;
	PkeyPtr k = share_key(ACC_GROUP_X25519, &pub);
	c.feed(records(REC_HANDSHAKE, hs_msg(16, vec(1, pub))) + records(REC_CHANGE_CIPHER_SPEC, "\x01\x01"));
	EXPECT_EQ(plain_alert(c), HSK_AD_UNEXPECTED_MESSAGE);
}

// RFC 8446 4.4.4: verify_data is Hash.length bytes; any other length is
// a decode_error, found before the MAC is checked.
TEST(HskConformAlert, Tls13FinishedOfWrongLength)
{
	for (size_t len : { 0, 31, 33, 64 }) {
		At13 a(false);
		std::string fin = a.cl.finished_msg().substr(4);
		fin.resize(len, '\0');
		EXPECT_EQ(a.send(a.cl.seal(REC_HANDSHAKE, hs_msg(20, fin))), HSK_AD_DECODE_ERROR) << len;
	}
}

// RFC 8446 5.4: TLSInnerPlaintext (content, type, padding) above 2^14 + 1
// bytes is record_overflow, even when the content alone fits.
TEST(HskConformAlert, Tls13InnerPlaintextOverflow)
{
	for (bool established : { false, true }) {
		At13 a(established);
		uint8_t type = established ? REC_APPLICATION_DATA : REC_HANDSHAKE;
		std::string content = established ? std::string(16000, 'x') : a.cl.finished_msg();
		size_t pad = 16384 + 2 - content.size() - 1;
		EXPECT_EQ(a.send(a.cl.seal(type, content, pad)), HSK_AD_RECORD_OVERFLOW) << established;
	}
	// exactly 2^14 + 1 is fine
	At13 a(true);
	EXPECT_EQ(a.send(a.cl.seal(REC_APPLICATION_DATA, std::string(16000, 'x'), 16384 - 16000)), -1);
}

// RFC 8446 5.1: a handshake message split over records must not have
// another record type between its pieces, however the bytes arrive.
TEST(HskConformAlert, KeyUpdateSplitAroundApplicationData)
{
	for (size_t chunk : { (size_t)1, (size_t)7, (size_t)64, SIZE_MAX }) {
		At13 a(true);
		std::string ku = hs_msg(24, std::string(1, '\0'));
		std::string bytes = a.cl.seal(REC_HANDSHAKE, ku.substr(0, 2));
		bytes += a.cl.seal(REC_APPLICATION_DATA, "GET / HTTP/1.1\r\n\r\n");
		bytes += a.cl.seal(REC_HANDSHAKE, ku.substr(2));
		EXPECT_EQ(a.send(bytes, chunk), HSK_AD_UNEXPECTED_MESSAGE) << chunk;
	}
	// the same pieces back to back are one good KeyUpdate
	At13 a(true);
	std::string ku = hs_msg(24, std::string(1, '\0'));
	std::string bytes = a.cl.seal(REC_HANDSHAKE, ku.substr(0, 2));
	bytes += a.cl.seal(REC_HANDSHAKE, ku.substr(2));
	EXPECT_EQ(a.send(bytes), -1);
	a.cl.key_update();
	EXPECT_EQ(a.send(a.cl.seal(REC_APPLICATION_DATA, "after")), -1);
}

// RFC 8446 5.1: handshake messages must not span a key change: bytes of
// the next message in the record that carries the client's Finished or a
// KeyUpdate are unexpected_message.
TEST(HskConformAlert, Tls13MessageSpanningKeyChange)
{
	{
		At13 a(false);
		std::string fin = a.cl.finished_msg();
		EXPECT_EQ(a.send(a.cl.seal(REC_HANDSHAKE, fin + hs_msg(24, std::string(1, '\0')).substr(0, 2))),
			  HSK_AD_UNEXPECTED_MESSAGE);
	}
	{
		At13 a(true);
		std::string ku = hs_msg(24, std::string(1, '\0'));
		EXPECT_EQ(a.send(a.cl.seal(REC_HANDSHAKE, ku + ku.substr(0, 1))), HSK_AD_UNEXPECTED_MESSAGE);
	}
}

// ---- large ClientHellos (up to the ~128 KiB the grammar allows, over many records) ----

namespace {

// Unknown extensions, count of them, each with len bytes (random or zero).
std::string
unknown_exts(size_t count, size_t len, bool random)
{
	std::string e;
	for (size_t i = 0; i < count; i++) {
		std::string body(len, '\0');
		if (random && len > 0)
			RAND_bytes((uint8_t *)&body[0], (int)len);
		// unassigned code points (RFC 8446 4.2 leaves them to IANA)
		e += ext((uint16_t)(0x4000 + i), body);
	}
	return e;
}

// Cipher suites that do not exist, then the real ones.
std::vector<uint16_t>
many_suites(size_t n, const std::vector<uint16_t> &real)
{
	std::vector<uint16_t> v;
	for (size_t i = 0; v.size() < n; i++)
		if (hsk_suite_by_id((uint16_t)(0x5a00 + i)) == nullptr && (uint16_t)(0x5a00 + i) != 0x5600)
			v.push_back((uint16_t)(0x5a00 + i));
	v.insert(v.end(), real.begin(), real.end());
	return v;
}

// signature_algorithms with n unknown schemes before the real ones.
std::string
many_schemes(size_t n, uint16_t type = 13)
{
	std::vector<uint16_t> v;
	for (size_t i = 0; i < n; i++)
		v.push_back((uint16_t)(0xfe00 - i));
	v.insert(v.end(), kSigalgs.begin(), kSigalgs.end());
	return ext(type, vec(2, list16(v)));
}

struct Big {
	const char *name;
	std::vector<uint16_t> suites12, suites13;
	std::string exts;  // added to the usual ones
	size_t frag;
};

std::vector<Big>
big_cases()
{
	std::vector<Big> v;
	v.push_back({ "10968 suites", many_suites(10968, { 0xc02f }), many_suites(10968, { 0x1301 }), "", 16384 });
	// one unknown extension filling the message to 2^16 - 1 bytes (set below)
	v.push_back({ "65439-byte extension", { 0xc02f }, { 0x1301 }, "pad:65439", 16384 });
	v.push_back({ "32700 schemes", { 0xc02f }, { 0x1301 }, "schemes", 16384 });
	v.push_back({ "32700 schemes and signature_algorithms_cert", { 0xc02f }, { 0x1301 }, "schemes+cert", 16384 });
	v.push_back({ "4000 empty extensions", { 0xc02f }, { 0x1301 }, unknown_exts(4000, 0, false), 16384 });
	v.push_back({ "4000 extensions with random payloads", { 0xc02f }, { 0x1301 }, unknown_exts(4000, 10, true),
		      16384 });
	v.push_back({ "one maximum-size fragment", { 0xc02f }, { 0x1301 }, unknown_exts(1, 16000, true), 16384 });
	v.push_back({ "many 1-byte fragments", { 0xc02f }, { 0x1301 }, unknown_exts(1, 3000, true), 1 });
	// every field at its maximum: 32,767 suites, a 65,535-byte extensions
	// block (a message of about 128 KiB)
	v.push_back({ "suites and extensions filled to the brim", many_suites(32766, { 0xc02f }),
		      many_suites(32766, { 0x1301 }), "fill", 16384 });
	return v;
}

// The extras of a case as extension bytes, given the rest of the message.
std::string
big_exts(const Big &b, size_t rest)
{
	if (b.exts == "schemes")
		return "";
	if (b.exts == "schemes+cert")
		return ext(50, vec(2, list16(kSigalgs)));
	if (b.exts == "fill") {
		// one unknown extension bringing the extensions block to 2^16 - 1
		size_t block = rest - client_hello_body(b.suites12, "").size();
		return ext(0x4abc, std::string(65535 - block - 4, '\x5c'));
	}
	if (b.exts.rfind("pad:", 0) == 0) {
		// a single unknown extension whose body brings the message to
		// 2^16 - 1 bytes
		size_t want = 65535 - rest - 4;
		return ext(0x4abc, std::string(want, '\x5c'));
	}
	return b.exts;
}

} // namespace

TEST(HskConformLarge, Tls12ClientHelloUpToItsLargest)
{
	Server s;
	for (const Big &b : big_cases()) {
		std::string base = ext(10, vec(2, list16({ 0x001d, 0x0017 }))) + ext(11, vec(1, std::string(1, '\0'))) +
				   (b.exts.rfind("schemes", 0) == 0 ? many_schemes(32700)
								     : ext(13, vec(2, list16(kSigalgs)))) +
				   ext(23, "");
		size_t rest = client_hello_body(b.suites12, base).size();
		std::string body = client_hello_body(b.suites12, base + big_exts(b, rest));
		ASSERT_LE(body.size(), 131396u) << b.name;
		Conn c(s);
		c.feed(records(REC_HANDSHAKE, hs_msg(1, body), b.frag));
		int alert = -1;
		auto msgs = messages_of(c.take_records(), &alert);
		EXPECT_EQ(alert, -1) << b.name;
		EXPECT_TRUE(!msgs.empty() && msgs.back().first == 14) << b.name << ": no ServerHelloDone";
	}
}

TEST(HskConformLarge, Tls13ClientHelloUpToItsLargestCompletes)
{
	Server s;
	for (const Big &b : big_cases()) {
		Conn c(s);
		Client13 cl;
		std::string base = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x001d }))) +
				   (b.exts.rfind("schemes", 0) == 0 ? many_schemes(32700)
								     : ext(13, vec(2, list16(kSigalgs))));
		std::string share = ext(51, vec(2, be(0x001d, 2) + vec(2, cl.pub)));
		size_t rest = client_hello_body(b.suites13, base + share).size();
		std::string m = hs_msg(1, client_hello_body(b.suites13, base + big_exts(b, rest) + share));
		ASSERT_LE(m.size(), 131396u + 4) << b.name;
		cl.transcript += m;
		c.feed(records(REC_HANDSHAKE, m, b.frag));
		cl.read(c);
		ASSERT_TRUE(cl.server_finished) << b.name << " err " << std::hex << c.err << " alert " << std::dec
						<< cl.alert;
		c.feed(cl.finish());
		cl.read(c);
		EXPECT_TRUE(hsk_conn_established(c.c)) << b.name;
	}
}

// A ClientHello whose padding extension says it runs 65,536 bytes past
// the end of the message: malformed, decode_error (RFC 8446 6.2), even
// though the message is larger than the engine takes.
TEST(HskConformLarge, PaddingPastTheMessageIsDecodeError)
{
	Server s;
	std::string exts = exts12();
	std::string body = client_hello_body({ 0xc02f }, exts);
	// the extensions block claims 65,536 + its size; the padding
	// extension (21) claims 65,535 bytes and the message carries them all
	std::string pad = be(21, 2) + be(0xffff, 2) + std::string(0xffff, '\0');
	std::string full = be(0x0303, 2) + std::string(32, '\x42') + vec(1, "") + vec(2, list16({ 0xc02f })) +
			   vec(1, std::string(1, '\0')) + be((exts.size() + pad.size()) & 0xffff, 2) + exts + pad;
	Conn c(s);
	c.feed(records(REC_HANDSHAKE, hs_msg(1, full)));
	EXPECT_EQ(plain_alert(c), HSK_AD_DECODE_ERROR);
	// and one that fits but whose padding runs past the extensions block
	std::string shortpad = be(21, 2) + be(0xffff, 2) + std::string(100, '\0');
	Conn c2(s);
	c2.feed(records(REC_HANDSHAKE, hs_msg(1, be(0x0303, 2) + std::string(32, '\x42') + vec(1, "") +
						   vec(2, list16({ 0xc02f })) + vec(1, std::string(1, '\0')) +
						   vec(2, exts + shortpad))));
	EXPECT_EQ(plain_alert(c2), HSK_AD_DECODE_ERROR);
	// a message longer than any ClientHello can be
	std::string over = client_hello_body(many_suites(32766, { 0xc02f }),
					     exts + be(21, 2) + be(0xffff, 2) + std::string(0xffff, '\0'));
	Conn c3(s);
	c3.feed(records(REC_HANDSHAKE, hs_msg(1, over)));
	EXPECT_EQ(plain_alert(c3), HSK_AD_DECODE_ERROR);
}

// ---- TLS 1.3 extensions and flow ----

// ec_point_formats has no meaning in TLS 1.3 (RFC 8446 4.2.7: points are
// uncompressed): a list with only compressed formats is ignored there,
// and still refused by a TLS 1.2 ECC suite (RFC 8422 5.1.2).
TEST(HskConform13, CompressedPointFormatsIgnoredInTls13)
{
	Server s;
	std::string compressed = ext(11, vec(1, std::string("\x01\x02", 2)));
	{
		Conn c(s);
		Client13 cl;
		ASSERT_TRUE(handshake13(c, cl, compressed)) << std::hex << c.err << " alert " << std::dec << cl.alert;
	}
	std::string e12 = ext(10, vec(2, list16({ 0x001d, 0x0017 }))) + compressed + ext(13, vec(2, list16(kSigalgs)));
	for (uint16_t suite : { 0xc02f, 0xc02b }) {
		Conn c(s);
		c.feed(records(REC_HANDSHAKE, client_hello({ suite }, e12)));
		EXPECT_EQ(plain_alert(c), HSK_AD_ILLEGAL_PARAMETER) << std::hex << suite;
	}
	// a TLS 1.2 DHE suite has no points
	Conn c(s);
	int alert = -1;
	auto msgs = flight12(c, { 0x009e }, e12, &alert);
	EXPECT_EQ(alert, -1);
}

// RFC 8446 4.6.1: the NewSessionTickets follow the client's Finished at
// once, before any application data, also to a client that lists no
// psk_key_exchange_modes (tlsfuzzer's count-tickets client); not to one
// whose modes exclude every mode the server resumes with (4.2.9).
TEST(HskConform13, TicketsRightAfterFinished)
{
	Server s;
	struct Case {
		const char *name;
		std::string ext;
		size_t tickets;
	};
	std::vector<Case> cases = {
		{ "no psk_key_exchange_modes", "", 2 },
		{ "psk_dhe_ke", ext(45, vec(1, "\x01")), 2 },
		{ "psk_ke only (refused by default)", ext(45, vec(1, std::string(1, '\0'))), 0 },
	};
	for (const Case &k : cases) {
		Conn c(s);
		Client13 cl;
		ASSERT_TRUE(handshake13(c, cl, k.ext)) << k.name;
		EXPECT_EQ(cl.post, std::vector<uint8_t>(k.tickets, 4)) << k.name;
	}
}

// RFC 8446 4.2.10: a refused 0-RTT offer answered by HelloRetryRequest.
// The client's early records are skipped until the second ClientHello,
// which may not carry early data: a record that fails to open after it
// is bad_record_mac at once (tlsfuzzer's "0-RTT, HRR and early data after
// 2nd Client Hello" waited for an answer that never came).
TEST(HskConform13, ZeroRttThenHrrThenEarlyData)
{
	Server s;
	for (bool garbage_after : { true, false }) {
		Conn c(s);
		Client13 cl;
		std::string psk_id(320, '\x33'), binder(32, '\x44');
		auto psk = [&]() {
			return ext(41, vec(2, vec(2, psk_id) + be(0x12345678, 4)) + vec(2, vec(1, binder)));
		};
		std::string common = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x1300, 0x001d }))) +
				     ext(13, vec(2, list16(kSigalgs))) + ext(45, vec(1, std::string("\x01\x00", 2)));
		std::string ch1 = client_hello({ 0x1301 }, common + ext(42, "") +
								ext(51, vec(2, be(0x1300, 2) + vec(2, std::string(32, '\xab')))) +
								psk());
		std::string early = records(REC_APPLICATION_DATA, std::string(1000, '\x55'));
		c.feed(records(REC_HANDSHAKE, ch1) + early + early);
		auto msgs = messages_of(c.take_records());
		ASSERT_FALSE(msgs.empty()) << std::hex << c.err;
		std::string hrr = msgs[0].second;
		ASSERT_TRUE(is_hrr(hrr)) << "not a HelloRetryRequest";
		std::string cookie = hrr_cookie(hrr);
		ASSERT_FALSE(cookie.empty());
		cl.transcript = hs_msg(254, cl.hash(ch1)) + hs_msg(2, hrr);
		std::string ch2 = client_hello({ 0x1301 }, common + ext(44, vec(2, cookie)) +
								ext(51, vec(2, be(0x001d, 2) + vec(2, cl.pub))) + psk());
		cl.transcript += ch2;
		c.feed(records(REC_HANDSHAKE, ch2));
		cl.read(c);
		ASSERT_TRUE(cl.server_finished) << std::hex << c.err << " alert " << std::dec << cl.alert;
		if (garbage_after) {
			std::string junk(64, '\0');
			RAND_bytes((uint8_t *)&junk[0], (int)junk.size());
			c.feed(records(REC_APPLICATION_DATA, junk));
			cl.read(c);
			EXPECT_EQ(cl.alert, HSK_AD_BAD_RECORD_MAC);
		} else {
			c.feed(cl.finish());
			cl.read(c);
			EXPECT_TRUE(hsk_conn_established(c.c));
			EXPECT_EQ(cl.alert, -1);
		}
	}
}

// RFC 8446 4.1.2: the ClientHello after a HelloRetryRequest keeps the
// first one's server_name; another name (or none) is illegal_parameter.
TEST(HskConform13, HrrSecondHelloMayNotChangeServerName)
{
	Server s;
	auto sni = [](const std::string &host) { return ext(0, vec(2, std::string(1, '\0') + vec(2, host))); };
	struct {
		std::string second;
		bool ok;
	} cases[] = { { sni("a.example"), true }, { sni("b.example"), false }, { "", false } };
	for (auto &k : cases) {
		Conn c(s);
		Client13 cl;
		std::string common = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x1300, 0x001d }))) +
				     ext(13, vec(2, list16(kSigalgs)));
		std::string ch1 = client_hello({ 0x1301 }, sni("a.example") + common +
								ext(51, vec(2, be(0x1300, 2) + vec(2, std::string(32, '\xab')))));
		c.feed(records(REC_HANDSHAKE, ch1));
		auto msgs = messages_of(c.take_records());
		ASSERT_FALSE(msgs.empty()) << std::hex << c.err;
		std::string hrr = msgs[0].second;
		ASSERT_TRUE(is_hrr(hrr)) << "not a HelloRetryRequest";
		std::string cookie = hrr_cookie(hrr);
		cl.transcript = hs_msg(254, cl.hash(ch1)) + hs_msg(2, hrr);
		std::string ch2 = client_hello({ 0x1301 }, k.second + common + ext(44, vec(2, cookie)) +
								ext(51, vec(2, be(0x001d, 2) + vec(2, cl.pub))));
		cl.transcript += ch2;
		c.feed(records(REC_HANDSHAKE, ch2));
		if (k.ok) {
			cl.read(c);
			EXPECT_TRUE(cl.server_finished) << std::hex << c.err << " alert " << std::dec << cl.alert;
		} else {
			EXPECT_EQ(c.err, HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER)) << std::hex << c.err;
		}
	}
}

// RFC 8446 4.2.9: a client that offers pre_shared_key without
// psk_key_exchange_modes gets missing_extension; with the modes, the same
// unknown identity is only a full handshake.
TEST(HskConform13, PskWithoutKeyExchangeModes)
{
	Server s;
	for (bool modes : { false, true }) {
		Conn c(s);
		Client13 cl;
		std::string psk = ext(41, vec(2, vec(2, std::string(48, '\x33')) + be(0x12345678, 4)) +
					      vec(2, vec(1, std::string(32, '\x44'))));
		std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x001d }))) +
				ext(13, vec(2, list16(kSigalgs))) + (modes ? ext(45, vec(1, "\x01")) : "") +
				ext(51, vec(2, be(0x001d, 2) + vec(2, cl.pub))) + psk;
		std::string ch = client_hello({ 0x1301 }, e);
		if (!modes) {
			c.feed(records(REC_HANDSHAKE, ch));
			EXPECT_EQ(plain_alert(c), HSK_AD_MISSING_EXTENSION);
			continue;
		}
		cl.transcript = ch;
		c.feed(records(REC_HANDSHAKE, ch));
		cl.read(c);
		EXPECT_TRUE(cl.server_finished) << std::hex << c.err << " alert " << std::dec << cl.alert;
	}
}

// ---- FFDHE key shares in TLS 1.3 (RFC 8446 4.2.8.1, 7.4.1) ----

TEST(HskConformFfdhe, Tls13KeyShareCompletes)
{
	Server s;
	for (uint16_t g : { ACC_GROUP_FFDHE2048, ACC_GROUP_FFDHE3072 }) {
		Conn c(s);
		Client13 cl(g);
		ASSERT_TRUE(handshake13(c, cl)) << std::hex << g << " err " << c.err << " alert " << std::dec << cl.alert;
		struct hsk_conn_info info;
		hsk_conn_info(c.c, &info);
		EXPECT_EQ(info.group, g);
		EXPECT_EQ(c.feed(cl.seal(REC_APPLICATION_DATA, "GET / HTTP/1.1\r\n\r\n")), HSK_WANT_INPUT);
		EXPECT_EQ(cl.alert, -1);
	}
	// only FFDHE listed, no share: HelloRetryRequest for ffdhe2048
	Conn c(s);
	Client13 cl(ACC_GROUP_FFDHE2048);
	c.feed(records(REC_HANDSHAKE, client_hello({ 0x1301 }, cl.extensions("", false))));
	auto msgs = messages_of(c.take_records());
	ASSERT_FALSE(msgs.empty());
	EXPECT_NE(msgs[0].second.find(std::string("\x00\x33\x00\x02\x01\x00", 6)), std::string::npos);
}

// The client's Y must be 1 < Y < p - 1 and as long as p (RFC 8446
// 4.2.8.1, RFC 7919 5.1): illegal_parameter otherwise.
TEST(HskConformFfdhe, Tls13BadClientShare)
{
	Server s;
	auto cases = bad_ffdhe2048_values();
	cases.push_back({ "short (not padded)", std::string(255, '\x02') });
	for (auto &tc : cases) {
		Conn c(s);
		std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x0100 }))) +
				ext(13, vec(2, list16(kSigalgs))) + ext(51, vec(2, be(0x0100, 2) + vec(2, tc.second)));
		c.feed(records(REC_HANDSHAKE, client_hello({ 0x1301 }, e)));
		EXPECT_EQ(plain_alert(c), HSK_AD_ILLEGAL_PARAMETER) << tc.first;
	}
}

// The executor's TLS 1.3 derive keeps the secret's leading zero bytes
// (RFC 8446 7.4.1): about one handshake in 256 has one, and would fail
// its Finished if it were stripped as in TLS 1.2.
TEST(HskConformFfdhe, SharedSecretLeftPadded)
{
	acc_exec *ex = acc_exec_new("openssl");
	ASSERT_NE(ex, nullptr);
	std::string pub;
	PkeyPtr client = share_key(ACC_GROUP_FFDHE2048, &pub);
	bool saw_leading_zero = false;
	for (int i = 0; i < 3000 && !saw_leading_zero; i++) {
		acc_eph eph = {};
		uint8_t out[512], secret[512];
		acc_job j = {};
		j.op = ACC_OP_KX_KEYGEN_DERIVE;
		j.alg = ACC_GROUP_FFDHE2048;
		j.eph = &eph;
		j.in = (const uint8_t *)pub.data();
		j.in_len = (uint32_t)pub.size();
		j.out = out;
		j.out_cap = sizeof(out);
		j.secret = secret;
		j.secret_cap = sizeof(secret);
		acc_exec_submit(ex, &j);
		acc_exec_flush(ex, [](acc_job *, void *) {}, nullptr);
		ASSERT_EQ(j.status, ACC_DONE);
		ASSERT_EQ(j.out_len, 256u);
		ASSERT_EQ(j.secret_len, 256u) << "iteration " << i;
		std::string expect = share_derive(client.get(), ACC_GROUP_FFDHE2048,
						  std::string((const char *)out, j.out_len));
		ASSERT_EQ(std::string((const char *)secret, j.secret_len), expect);
		saw_leading_zero = secret[0] == 0;
		acc_eph_clear(&eph);
	}
	EXPECT_TRUE(saw_leading_zero);
	acc_exec_free(ex);
}

// ---- X25519MLKEM768 (issue 17, draft-ietf-tls-ecdhe-mlkem) ----

// A whole handshake with a hand-made hybrid share: the client decapsulates
// the server's ciphertext and derives X25519 itself, and the Finished
// messages check that both sides put ML-KEM's secret first.
TEST(HskConformMlkem, HybridShareCompletes)
{
	Server s;
	Conn c(s);
	Client13 cl(ACC_GROUP_X25519MLKEM768);
	ASSERT_TRUE(handshake13(c, cl)) << std::hex << c.err << " alert " << std::dec << cl.alert;
	struct hsk_conn_info info;
	hsk_conn_info(c.c, &info);
	EXPECT_EQ(info.group, ACC_GROUP_X25519MLKEM768);
	EXPECT_EQ(c.feed(cl.seal(REC_APPLICATION_DATA, "GET / HTTP/1.1\r\n\r\n")), HSK_WANT_INPUT);
	EXPECT_EQ(cl.alert, -1);
}

// A hybrid share of the wrong length, an ek with a coefficient >= q
// (FIPS 203 7.2) or a bad X25519 half: illegal_parameter.
TEST(HskConformMlkem, BadHybridShares)
{
	Server s;
	std::string good;
	PkeyPtr k = share_key(ACC_GROUP_X25519MLKEM768, &good);
	std::string unreduced = good;
	unreduced[0] = '\x01'; // coefficient 0 = 0xd01 = q
	unreduced[1] = (char)((unreduced[1] & 0xf0) | 0x0d);
	std::string zero_x = good.substr(0, ACC_MLKEM768_EK_LEN) + std::string(32, '\0'); // low order point
	const std::vector<std::pair<const char *, std::string>> cases = {
		{ "one byte short", good.substr(0, good.size() - 1) },
		{ "one byte long", good + "x" },
		{ "X25519 only", good.substr(ACC_MLKEM768_EK_LEN) },
		{ "ek not reduced mod q", unreduced },
		{ "X25519 half all zero", zero_x },
	};
	for (auto &tc : cases) {
		Conn c(s);
		std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x11ec }))) +
				ext(13, vec(2, list16(kSigalgs))) + ext(51, vec(2, be(0x11ec, 2) + vec(2, tc.second)));
		c.feed(records(REC_HANDSHAKE, client_hello({ 0x1301 }, e)));
		EXPECT_EQ(plain_alert(c), HSK_AD_ILLEGAL_PARAMETER) << tc.first;
	}
}

namespace {

// The server's first answer to a TLS 1.3 ClientHello listing groups with
// one X25519 share: the group of its key_share, and whether it was a
// HelloRetryRequest.
uint16_t
first_answer_group(Server &s, const std::vector<uint16_t> &groups, bool *hrr)
{
	std::string x;
	PkeyPtr k = share_key(ACC_GROUP_X25519, &x);
	Conn c(s);
	std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16(groups))) +
			ext(13, vec(2, list16(kSigalgs))) + ext(51, vec(2, be(0x001d, 2) + vec(2, x)));
	c.feed(records(REC_HANDSHAKE, client_hello({ 0x1301 }, e)));
	auto msgs = messages_of(c.take_records());
	if (msgs.empty() || msgs[0].first != 2)
		return 0;
	const std::string &sh = msgs[0].second;
	*hrr = is_hrr(sh);
	size_t at = sh.find(std::string("\x00\x33", 2), 35 + (uint8_t)sh[34] + 3);
	if (at == std::string::npos || at + 6 > sh.size())
		return 0;
	return (uint16_t)((uint8_t)sh[at + 4] << 8 | (uint8_t)sh[at + 5]);
}

} // namespace

// HelloRetryRequest for the hybrid to a client that ranks it first but
// sent only an X25519 share; none to one that ranks X25519 first, or
// that does not list the hybrid.
TEST(HskConformMlkem, RetryOnlyWhenTheClientPrefersTheHybrid)
{
	Server s;
	bool hrr = false;
	EXPECT_EQ(first_answer_group(s, { 0x11ec, 0x001d }, &hrr), 0x11ec);
	EXPECT_TRUE(hrr);
	EXPECT_EQ(first_answer_group(s, { 0x001d, 0x11ec }, &hrr), 0x001d);
	EXPECT_FALSE(hrr);
	EXPECT_EQ(first_answer_group(s, { 0x001d }, &hrr), 0x001d);
	EXPECT_FALSE(hrr);
}

// The retried ClientHello with the hybrid share completes.
TEST(HskConformMlkem, RetryThenHybridCompletes)
{
	Server s;
	Conn c(s);
	Client13 cl(ACC_GROUP_X25519MLKEM768);
	std::string x;
	PkeyPtr k = share_key(ACC_GROUP_X25519, &x);
	std::string e = ext(43, vec(1, be(0x0304, 2))) + ext(10, vec(2, list16({ 0x11ec, 0x001d }))) +
			ext(13, vec(2, list16(kSigalgs))) + ext(51, vec(2, be(0x001d, 2) + vec(2, x)));
	std::string ch1 = client_hello({ 0x1301 }, e);
	c.feed(records(REC_HANDSHAKE, ch1));
	auto msgs = messages_of(c.take_records());
	ASSERT_FALSE(msgs.empty());
	std::string hrr = msgs[0].second;
	ASSERT_TRUE(is_hrr(hrr)) << "not a HelloRetryRequest";
	std::string cookie = hrr_cookie(hrr);
	ASSERT_FALSE(cookie.empty());
	cl.transcript = hs_msg(254, cl.hash(ch1)) + hs_msg(2, hrr);
	c.feed(records(REC_HANDSHAKE, cl.hello(ext(44, vec(2, cookie)))));
	cl.read(c);
	ASSERT_TRUE(cl.server_finished) << "alert " << cl.alert;
	c.feed(cl.finish());
	cl.read(c);
	EXPECT_TRUE(hsk_conn_established(c.c));
	struct hsk_conn_info info;
	hsk_conn_info(c.c, &info);
	EXPECT_EQ(info.group, ACC_GROUP_X25519MLKEM768);
}
