// The session store shared by a fleet (hsk_store.h): the sealed entry
// encoding, and the engine's pending lookup (hit, miss, no answer in time,
// an answer at once) between two servers that share ticket keys but no
// session cache, for TLS 1.2 session IDs and TLS 1.3 store identities.
#include <gtest/gtest.h>

#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unistd.h>

#include "hsk_store.h"
#include "hsk_test_peer.h"

using hsk_test::Pair;
using hsk_test::Server;

namespace {

hsk_sess
some_session(uint64_t created = 1000, uint32_t lifetime = 300)
{
	hsk_sess s;
	memset(&s, 0, sizeof(s));
	hsk_sess_id_new(2, s.id);
	s.id_len = HSK_SESS_ID_LEN;
	s.ems = true;
	s.version = 0x0303;
	s.suite = 0xc02f;
	s.ctx_id = 7;
	s.created_s = created;
	s.lifetime_s = lifetime;
	s.sni_digest = 0x5a17d1u; // the server name travels: resumed only for it (RFC 6066 3)
	EXPECT_EQ(RAND_bytes(s.master, sizeof(s.master)), 1);
	return s;
}

std::string
seal(hsk_tickets *t, const hsk_sess &s)
{
	char key[HSK_STORE_KEY_MAX];
	uint8_t val[HSK_STORE_VAL_MAX];
	size_t klen = hsk_store_key(0x0303, s.id, s.id_len, key), n = 0;
	EXPECT_TRUE(hsk_store_seal(hsk_tickets_current(t), &s, key, klen, val, sizeof(val), &n));
	return std::string((const char *)val, n);
}

bool
open_as(hsk_tickets *t, const uint8_t *id, const std::string &v, uint32_t ctx_id, uint64_t now, hsk_sess *out)
{
	return hsk_store_open(hsk_tickets_current(t), 0x0303, id, HSK_SESS_ID_LEN, (const uint8_t *)v.data(), v.size(),
				ctx_id, now, out);
}

TEST(HskStore, KeyIsPrefixAndHexOfTheId)
{
	uint8_t id[HSK_SESS_ID_LEN];
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(i * 17 + 1);
	char key[HSK_STORE_KEY_MAX];
	size_t n = hsk_store_key(0x0303, id, sizeof(id), key);
	std::string expect = "tlso:s12:";
	char hx[3];
	for (size_t i = 0; i < sizeof(id); i++) {
		snprintf(hx, sizeof(hx), "%02x", id[i]);
		expect += hx;
	}
	EXPECT_EQ(std::string(key, n), expect);
	EXPECT_EQ(strlen(key), n);
}

TEST(HskStore, SealedValueOpensAndHidesTheMasterSecret)
{
	hsk_tickets *t = hsk_tickets_new();
	hsk_sess s = some_session();
	std::string v = seal(t, s);
	// key name (16) || nonce (12) || state || tag (16): no master secret in it
	EXPECT_EQ(v.find(std::string((const char *)s.master, sizeof(s.master))), std::string::npos);
	EXPECT_EQ(v.compare(0, HSK_TICKET_NAME_LEN,
			    std::string((const char *)hsk_tickets_current(t)->keys[0].name, HSK_TICKET_NAME_LEN)),
		  0);
	hsk_sess out;
	ASSERT_TRUE(open_as(t, s.id, v, 7, 1100, &out));
	EXPECT_EQ(memcmp(out.master, s.master, sizeof(s.master)), 0);
	EXPECT_EQ(memcmp(out.id, s.id, sizeof(s.id)), 0);
	EXPECT_EQ(out.suite, 0xc02f);
	EXPECT_TRUE(out.ems);
	EXPECT_FALSE(out.client_cert);
	EXPECT_EQ(out.sni_digest, 0x5a17d1u);
	EXPECT_EQ(out.created_s, 1000u);
	// two seals of one session differ (fresh nonce)
	EXPECT_NE(seal(t, s), v);
	hsk_tickets_free(t);
}

TEST(HskStore, RefusesAnotherIdAnotherListenerExpiryAndTampering)
{
	hsk_tickets *t = hsk_tickets_new();
	hsk_sess s = some_session(1000, 300), other = some_session(), out;
	std::string v = seal(t, s);
	// the value moved under another session ID's key
	EXPECT_FALSE(open_as(t, other.id, v, 7, 1100, &out));
	EXPECT_FALSE(open_as(t, s.id, v, 8, 1100, &out));
	EXPECT_FALSE(open_as(t, s.id, v, 7, 1300, &out)); // lifetime over
	EXPECT_FALSE(open_as(t, s.id, v, 7, 994, &out)); // made too far in the future
	EXPECT_TRUE(open_as(t, s.id, v, 7, 995, &out));  // another host's clock a little behind
	EXPECT_TRUE(open_as(t, s.id, v, 7, 1299, &out));
	for (size_t i = 0; i < v.size(); i += 7) {
		std::string bad = v;
		bad[i] ^= 1;
		EXPECT_FALSE(open_as(t, s.id, bad, 7, 1100, &out)) << i;
		uint8_t zero[sizeof(out.master)] = {};
		EXPECT_EQ(memcmp(out.master, zero, sizeof(zero)), 0);
	}
	EXPECT_FALSE(open_as(t, s.id, v.substr(0, v.size() - 1), 7, 1100, &out));
	hsk_tickets_free(t);
}

TEST(HskStore, OpensUnderAPreviousKeyWhileItIsKept)
{
	hsk_tickets *t = hsk_tickets_new();
	hsk_sess s = some_session(), out;
	std::string v = seal(t, s);
	ASSERT_EQ(hsk_tickets_rotate(t, 2), 0);
	EXPECT_TRUE(open_as(t, s.id, v, 7, 1100, &out));
	ASSERT_EQ(hsk_tickets_rotate(t, 1), 0); // the sealing key is gone
	EXPECT_FALSE(open_as(t, s.id, v, 7, 1100, &out));
	hsk_tickets_free(t);
}

TEST(HskStore, Tls13StateOpensOnlyAsTls13UnderItsOwnKey)
{
	hsk_tickets *t = hsk_tickets_new();
	hsk_sess s = some_session(), other = some_session(), out;
	s.version = 0x0304;
	s.suite = 0x1302;
	s.secret_len = 48;
	s.age_add = 0x01020304u;
	s.client_cert = true;
	char key[HSK_STORE_KEY_MAX];
	uint8_t val[HSK_STORE_VAL_MAX];
	size_t klen = hsk_store_key(0x0304, s.id, s.id_len, key), n = 0;
	EXPECT_EQ(std::string(key, sizeof(HSK_STORE_PREFIX13) - 1), "tlso:s13:");
	ASSERT_TRUE(hsk_store_seal(hsk_tickets_current(t), &s, key, klen, val, sizeof(val), &n));
	std::string v((const char *)val, n);
	EXPECT_EQ(v.find(std::string((const char *)s.master, 16)), std::string::npos);
	const hsk_ticket_keys *k = hsk_tickets_current(t);
	ASSERT_TRUE(hsk_store_open(k, 0x0304, s.id, HSK_SESS_ID_LEN, val, n, 7, 1100, &out));
	EXPECT_EQ(memcmp(out.master, s.master, 48), 0);
	EXPECT_EQ(out.secret_len, 48);
	EXPECT_EQ(out.age_add, 0x01020304u);
	EXPECT_EQ(out.suite, 0x1302);
	EXPECT_TRUE(out.client_cert);
	EXPECT_EQ(out.sni_digest, 0x5a17d1u);
	// the same value read as a TLS 1.2 session of that ID, or under another ID
	EXPECT_FALSE(hsk_store_open(k, 0x0303, s.id, HSK_SESS_ID_LEN, val, n, 7, 1100, &out));
	EXPECT_FALSE(hsk_store_open(k, 0x0304, other.id, HSK_SESS_ID_LEN, val, n, 7, 1100, &out));
	// a TLS 1.2 value moved under a TLS 1.3 key of the same ID
	s.version = 0x0303;
	std::string v12 = seal(t, s);
	EXPECT_FALSE(hsk_store_open(k, 0x0304, s.id, HSK_SESS_ID_LEN, (const uint8_t *)v12.data(), v12.size(), 7,
				    1100, &out));
	hsk_tickets_free(t);
}

TEST(HskStore, StoreIdentityIsMarkerAndIdNeverASealedTicket)
{
	uint8_t ident[HSK_STORE_ID13_LEN];
	ident[0] = HSK_STORE_ID13_MARK;
	EXPECT_EQ(RAND_bytes(ident + 1, HSK_SESS_ID_LEN), 1);
	EXPECT_EQ(hsk_store_id13(ident, sizeof(ident)), ident + 1);
	EXPECT_EQ(hsk_store_id13(ident, sizeof(ident) - 1), nullptr);
	ident[0] ^= 1;
	EXPECT_EQ(hsk_store_id13(ident, sizeof(ident)), nullptr);
	// the shortest sealed ticket is longer than an identity
	hsk_tickets *t = hsk_tickets_new();
	hsk_ticket tk = {};
	tk.version = 0x0304;
	uint8_t buf[HSK_TICKET_MAX];
	size_t n = 0;
	ASSERT_TRUE(hsk_ticket_seal(hsk_tickets_current(t), &tk, buf, sizeof(buf), &n));
	EXPECT_GT(n, (size_t)HSK_STORE_ID13_LEN);
	EXPECT_EQ(hsk_store_id13(buf, n), nullptr);
	hsk_tickets_free(t);
}

// ---- the engine's pending lookup ----

// An in-memory store the test answers by hand.
struct FakeStore {
	std::map<std::string, std::string> kv;
	std::map<std::string, uint64_t> ttl;
	hsk_store_lookup *out = nullptr; // the lookup waiting for an answer
	unsigned gets = 0, dels = 0;
	bool down = false;               // answer every lookup at once: failed

	static void
	get(void *arg, hsk_store_lookup *l)
	{
		FakeStore *f = static_cast<FakeStore *>(arg);
		f->gets++;
		if (f->down)
			l->status = HSK_STORE_FAILED;
		else
			f->out = l;
	}
	static void
	put(void *arg, const char *key, size_t klen, const uint8_t *val, size_t n, uint64_t ttl_ms)
	{
		FakeStore *f = static_cast<FakeStore *>(arg);
		f->kv[std::string(key, klen)] = std::string((const char *)val, n);
		f->ttl[std::string(key, klen)] = ttl_ms;
	}
	static void
	del(void *arg, const char *key, size_t klen)
	{
		FakeStore *f = static_cast<FakeStore *>(arg);
		f->dels++;
		f->kv.erase(std::string(key, klen));
	}
};

const hsk_store_ops fake_ops = { FakeStore::get, FakeStore::put, FakeStore::del };

// Two servers of a fleet: their own caches and listeners, one ticket key
// file, one store.
struct Fleet {
	Server a, b;
	FakeStore store;
	std::string keyfile;

	Fleet()
	{
		char path[] = "/tmp/hsk-store-keys-XXXXXX";
		int fd = mkstemp(path);
		uint8_t raw[48];
		std::string line;
		EXPECT_EQ(RAND_bytes(raw, sizeof(raw)), 1);
		for (uint8_t x : raw) {
			char hx[3];
			snprintf(hx, sizeof(hx), "%02x", x);
			line += hx;
		}
		line += "\n";
		EXPECT_EQ(write(fd, line.data(), line.size()), (ssize_t)line.size());
		close(fd);
		keyfile = path;
		char err[256];
		EXPECT_EQ(hsk_tickets_load_file(a.ctx.tickets, path, err, sizeof(err)), 0) << err;
		EXPECT_EQ(hsk_tickets_load_file(b.ctx.tickets, path, err, sizeof(err)), 0) << err;
		b.ctx.id = a.ctx.id; // the same listener on two machines
		for (unsigned i = 0; i < 4; i++) {
			for (Server *s : { &a, &b }) {
				s->w[i].store = &fake_ops;
				s->w[i].store_arg = &store;
			}
		}
	}
	~Fleet() { unlink(keyfile.c_str()); }
};

SSL_CTX *
id_only_client()
{
	SSL_CTX *c = hsk_test::client_ctx();
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET); // the session ID path
	return c;
}

SSL_SESSION *
session_from(Server &s, SSL_CTX *c)
{
	Pair p(s, c, 1);
	EXPECT_TRUE(p.handshake());
	SSL_shutdown(p.ssl);
	p.pump();
	return SSL_get1_session(p.ssl);
}

// Starts a handshake on b with sess: it stops at the pending lookup.
void
start_on_b(Fleet &f, Pair &p, SSL_SESSION *sess)
{
	SSL_set_session(p.ssl, sess);
	SSL_do_handshake(p.ssl);
	p.pump();
	ASSERT_TRUE(hsk_conn_crypto_pending(p.conn));
	ASSERT_NE(f.store.out, nullptr);
	EXPECT_FALSE(SSL_is_init_finished(p.ssl));
}

// The dataplane's side: answer, take the connection back, resume it.
void
answer(Fleet &f, Pair &p, uint8_t status, const std::string &val = "")
{
	hsk_store_lookup *l = f.store.out;
	ASSERT_NE(l, nullptr); // no lookup went out
	f.store.out = nullptr;
	memcpy(l->val, val.data(), val.size());
	l->val_len = val.size();
	l->status = status;
	hsk_conn *c = hsk_conn_from_lookup(l);
	ASSERT_EQ(c, p.conn);
	EXPECT_EQ(hsk_conn_from_lookup(l), nullptr); // completed once
	p.note(hsk_conn_resume(c));
	p.pump();
}

void
flip_last(std::string &bytes, void *)
{
	if (!bytes.empty())
		bytes.back() ^= 1;
}

// The client's next record damaged: bad_record_mac, a fatal alert.
void
damage_next_record(Pair &p)
{
	p.tamper = flip_last;
	p.client_to_server("ping");
	EXPECT_EQ(p.server_err, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

// Each case: a fleet, a client without tickets, and a session it made on a.
class HskStoreEngine : public ::testing::Test {
      protected:
	Fleet f;
	SSL_CTX *c = nullptr;
	SSL_SESSION *sess = nullptr;

	void
	SetUp() override
	{
		c = id_only_client();
		sess = session_from(f.a, c);
		ASSERT_EQ(f.store.kv.size(), 1u);
	}
	void
	TearDown() override
	{
		SSL_SESSION_free(sess);
		SSL_CTX_free(c);
	}
};

TEST_F(HskStoreEngine, FullHandshakeStoresSealedSession)
{
	unsigned int idlen;
	const unsigned char *id = SSL_SESSION_get_id(sess, &idlen);
	ASSERT_EQ(idlen, 32u);
	char key[HSK_STORE_KEY_MAX];
	size_t klen = hsk_store_key(0x0303, id, idlen, key);
	ASSERT_EQ(f.store.kv.count(std::string(key, klen)), 1u);
	EXPECT_EQ(f.store.ttl[std::string(key, klen)], 300u * 1000);
	unsigned char master[48];
	ASSERT_EQ(SSL_SESSION_get_master_key(sess, master, sizeof(master)), 48u);
	EXPECT_EQ(f.store.kv[std::string(key, klen)].find(std::string((const char *)master, 48)), std::string::npos);
	EXPECT_EQ(f.store.gets, 0u); // a fresh client has no session to look up
}

TEST_F(HskStoreEngine, LookupHitResumesOnAnotherServer)
{
	Pair p(f.b, c, 2);
	start_on_b(f, p, sess);
	EXPECT_EQ(std::string(f.store.out->key, f.store.out->key_len), f.store.kv.begin()->first);
	answer(f, p, HSK_STORE_HIT, f.store.kv.begin()->second);
	ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.b.w[2].handshakes_resumed, 1u);
	EXPECT_EQ(f.b.w[2].store_lookups, 1u);
	EXPECT_EQ(f.b.w[2].store_hits, 1u);
	EXPECT_EQ(p.client_to_server("ping"), "ping");
}

TEST_F(HskStoreEngine, LookupMissIsAFullHandshake)
{
	Pair p(f.b, c, 0);
	start_on_b(f, p, sess);
	answer(f, p, HSK_STORE_MISS);
	ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.b.w[0].handshakes_full, 1u);
	EXPECT_EQ(f.b.w[0].store_misses, 1u);
	EXPECT_EQ(f.b.w[0].store_hits, 0u);
	// that full handshake stored its own new session too
	EXPECT_EQ(f.store.kv.size(), 2u);
}

TEST_F(HskStoreEngine, LookupTimeoutIsAFullHandshakeCounted)
{
	Pair p(f.b, c, 0);
	start_on_b(f, p, sess);
	answer(f, p, HSK_STORE_FAILED); // the dataplane's deadline passed
	ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.b.w[0].store_failed, 1u);
	EXPECT_EQ(f.b.w[0].handshake_failures, 0u);
}

TEST_F(HskStoreEngine, ValueUnderAnotherKeyDoesNotResume)
{
	SSL_SESSION *s2 = session_from(f.a, c);
	ASSERT_EQ(f.store.kv.size(), 2u);
	unsigned int idlen;
	const unsigned char *id1 = SSL_SESSION_get_id(sess, &idlen);
	char key[HSK_STORE_KEY_MAX];
	size_t klen = hsk_store_key(0x0303, id1, idlen, key);
	std::string other;
	for (auto &kv : f.store.kv)
		if (kv.first != std::string(key, klen))
			other = kv.second;
	Pair p(f.b, c, 0);
	start_on_b(f, p, sess);
	answer(f, p, HSK_STORE_HIT, other); // s2's sealed state offered for sess's ID
	ASSERT_TRUE(SSL_is_init_finished(p.ssl));
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.b.w[0].store_misses, 1u);
	SSL_SESSION_free(s2);
}

TEST_F(HskStoreEngine, StoreDownAnswersAtOnceWithoutWaiting)
{
	f.store.down = true;
	Pair p(f.b, c, 0);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_FALSE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.store.gets, 1u);
	EXPECT_EQ(f.b.w[0].store_failed, 1u);
}

TEST_F(HskStoreEngine, LocalCacheFirstAndNoLookupForTickets)
{
	Pair p(f.a, c, 3); // same server, another worker: its cache answers
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	EXPECT_TRUE(SSL_session_reused(p.ssl));
	EXPECT_EQ(f.store.gets, 0u);
	// A client with tickets resumes with its ticket on b: no lookup.
	SSL_CTX *tc = hsk_test::client_ctx();
	SSL_SESSION *ts = session_from(f.a, tc);
	Pair q(f.b, tc, 0);
	SSL_set_session(q.ssl, ts);
	ASSERT_TRUE(q.handshake());
	EXPECT_TRUE(SSL_session_reused(q.ssl));
	EXPECT_EQ(f.store.gets, 0u);
	SSL_SESSION_free(ts);
	SSL_CTX_free(tc);
}

// Before the client's Finished checks, nobody has proved the master
// secret: whoever saw a TLS 1.2 session ID in clear could send it in a
// ClientHello and then an alert (or garbage). The fleet's copy stays.
void
fail_before_finished(Fleet &f, SSL_CTX *c, SSL_SESSION *sess, void (*tamper)(std::string &, void *), hsk_err err)
{
	Pair p(f.b, c, 0);
	start_on_b(f, p, sess);
	p.tamper = tamper;
	answer(f, p, HSK_STORE_HIT, f.store.kv.begin()->second);
	EXPECT_EQ(p.server_err, err) << std::hex << p.server_err;
	EXPECT_EQ(f.store.dels, 0u);
	EXPECT_EQ(f.store.kv.size(), 1u);
}

TEST_F(HskStoreEngine, DamagedFinishedKeepsTheSession)
{
	fail_before_finished(f, c, sess, flip_last, HSK_ALERT(HSK_AD_BAD_RECORD_MAC));
}

TEST_F(HskStoreEngine, FatalAlertBeforeTheFinishedKeepsTheSession)
{
	// a fatal alert in clear instead of ChangeCipherSpec and Finished
	fail_before_finished(
		f, c, sess, [](std::string &bytes, void *) { bytes = std::string("\x15\x03\x03\x00\x02\x02\x28", 7); },
		HSK_PEER_ALERT(HSK_AD_HANDSHAKE_FAILURE));
}

// Once the session was resumed (the client proved the key), a fatal
// alert makes it not resumable anywhere (RFC 5246 7.2.2).
TEST_F(HskStoreEngine, FatalAlertAfterResumptionForgetsTheSession)
{
	Pair p(f.b, c, 0);
	start_on_b(f, p, sess);
	answer(f, p, HSK_STORE_HIT, f.store.kv.begin()->second);
	ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
	ASSERT_TRUE(SSL_session_reused(p.ssl));
	damage_next_record(p);
	EXPECT_EQ(f.store.dels, 1u);
	EXPECT_TRUE(f.store.kv.empty());
}

// Hosts of a fleet booted at different times: their monotonic clocks
// differ, their wall clocks agree. What one seals, the others open.
void
set_clocks(Server &s, uint64_t now, uint64_t wall)
{
	for (unsigned i = 0; i < 4; i++) {
		s.w[i].now_s = now;
		s.w[i].wall_s = wall;
	}
}

const uint64_t kWall = 1700000000;

TEST(HskStoreFleet, StoreValueResumesAcrossHostsBootedAtOtherTimes)
{
	Fleet f;
	set_clocks(f.a, 1000000, kWall); // up eleven days
	set_clocks(f.b, 60, kWall - 3);  // booted a minute ago, its clock a little behind
	SSL_CTX *c = id_only_client();
	SSL_SESSION *sess = session_from(f.a, c);
	ASSERT_EQ(f.store.kv.size(), 1u);
	std::string val = f.store.kv.begin()->second;
	{
		Pair p(f.b, c, 1);
		start_on_b(f, p, sess);
		answer(f, p, HSK_STORE_HIT, val);
		ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
		EXPECT_TRUE(SSL_session_reused(p.ssl));
		SSL_shutdown(p.ssl); // else the client marks its session not resumable
		p.pump();
	}
	// the same value once its lifetime (300 s) is over by the date
	set_clocks(f.b, 61, kWall + 300);
	{
		Pair p(f.b, c, 2);
		start_on_b(f, p, sess);
		answer(f, p, HSK_STORE_HIT, val);
		ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
		EXPECT_FALSE(SSL_session_reused(p.ssl));
		EXPECT_EQ(f.b.w[2].store_misses, 1u);
	}
	SSL_SESSION_free(sess);
	SSL_CTX_free(c);
}

// Tickets (RFC 5077, RFC 8446 4.6.1) likewise, in both versions; the TLS
// 1.3 age check (obfuscated_ticket_age) runs on the same clock.
void
ticket_across_hosts(int version)
{
	Fleet f;
	f.store.down = true; // a ticket refused: no wait on the session ID's lookup
	set_clocks(f.a, 1000000, kWall);
	set_clocks(f.b, 60, kWall - 3);
	SSL_CTX *c = hsk_test::client_ctx();
	SSL_CTX_set_min_proto_version(c, version);
	SSL_CTX_set_max_proto_version(c, version);
	SSL_SESSION *sess = nullptr;
	{
		Pair p(f.a, c, 0);
		ASSERT_TRUE(p.handshake());
		EXPECT_EQ(p.server_to_client("x"), "x"); // TLS 1.3 tickets come after the handshake
		SSL_shutdown(p.ssl);
		p.pump();
		sess = SSL_get1_session(p.ssl);
	}
	ASSERT_NE(sess, nullptr);
	{
		Pair p(f.b, c, 1);
		SSL_set_session(p.ssl, sess);
		ASSERT_TRUE(p.handshake()) << std::hex << p.server_err;
		EXPECT_TRUE(SSL_session_reused(p.ssl));
		SSL_shutdown(p.ssl);
		p.pump();
	}
	set_clocks(f.b, 61, kWall + 300); // its lifetime over by the date
	{
		Pair p(f.b, c, 2);
		SSL_set_session(p.ssl, sess);
		ASSERT_TRUE(p.handshake()) << std::hex << p.server_err;
		EXPECT_FALSE(SSL_session_reused(p.ssl));
	}
	SSL_SESSION_free(sess);
	SSL_CTX_free(c);
}

TEST(HskStoreFleet, Tls12TicketResumesAcrossHostsBootedAtOtherTimes)
{
	ticket_across_hosts(TLS1_2_VERSION);
}

TEST(HskStoreFleet, Tls13TicketResumesAcrossHostsBootedAtOtherTimes)
{
	ticket_across_hosts(TLS1_3_VERSION);
}

// ---- TLS 1.3: resumption state in the store (hsk_ctx.store13) ----

SSL_CTX *
tls13_client()
{
	SSL_CTX *c = hsk_test::client_ctx(TLS1_3_VERSION);
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	return c;
}

// A TLS 1.3 session made on s (its tickets come after the handshake).
SSL_SESSION *
session13_from(Server &s, SSL_CTX *c, unsigned worker = 1)
{
	Pair p(s, c, worker);
	EXPECT_TRUE(p.handshake()) << std::hex << p.server_err;
	EXPECT_EQ(p.server_to_client("x"), "x");
	SSL_shutdown(p.ssl);
	p.pump();
	return SSL_get1_session(p.ssl);
}

// The ticket a TLS 1.3 session carries, and the store key it names.
std::string
ticket_of(SSL_SESSION *sess)
{
	const unsigned char *tick = nullptr;
	size_t len = 0;
	SSL_SESSION_get0_ticket(sess, &tick, &len);
	return std::string((const char *)tick, len);
}

std::string
key13_of(SSL_SESSION *sess)
{
	std::string t = ticket_of(sess);
	char key[HSK_STORE_KEY_MAX];
	if (t.size() != HSK_STORE_ID13_LEN)
		return "";
	size_t n = hsk_store_key(0x0304, (const uint8_t *)t.data() + 1, HSK_SESS_ID_LEN, key);
	return std::string(key, n);
}

size_t
count_prefix(const FakeStore &st, const std::string &prefix)
{
	size_t n = 0;
	for (auto &kv : st.kv)
		n += kv.first.compare(0, prefix.size(), prefix) == 0;
	return n;
}

class HskStore13 : public ::testing::Test {
      protected:
	Fleet f;
	SSL_CTX *c = nullptr;
	SSL_SESSION *sess = nullptr;
	std::string key;

	void
	SetUp() override
	{
		f.a.ctx.store13 = f.b.ctx.store13 = true;
		c = tls13_client();
		sess = session13_from(f.a, c);
		ASSERT_NE(sess, nullptr);
		key = key13_of(sess);
		ASSERT_EQ(f.store.kv.count(key), 1u) << key;
	}
	void
	TearDown() override
	{
		SSL_SESSION_free(sess);
		SSL_CTX_free(c);
	}
	// a handshake on b that resumes or not, its client shut down cleanly
	void
	finish(Pair &p, bool reused)
	{
		ASSERT_TRUE(SSL_is_init_finished(p.ssl)) << std::hex << p.server_err;
		EXPECT_EQ(p.server_err, HSK_OK);
		EXPECT_EQ(p.client_alert, -1);
		EXPECT_EQ(SSL_session_reused(p.ssl), reused ? 1 : 0);
		EXPECT_EQ(p.client_to_server("ping"), "ping");
	}
};

TEST_F(HskStore13, TicketsAreStoreIdentitiesOfSealedEntries)
{
	std::string t = ticket_of(sess);
	ASSERT_EQ(t.size(), (size_t)HSK_STORE_ID13_LEN);
	EXPECT_EQ((uint8_t)t[0], HSK_STORE_ID13_MARK);
	// two NewSessionTickets: two entries, each for the session's lifetime
	EXPECT_EQ(f.store.kv.size(), 2u);
	EXPECT_EQ(count_prefix(f.store, "tlso:s13:"), 2u);
	EXPECT_EQ(f.store.ttl[key], 300u * 1000);
	// the PSK (OpenSSL keeps it as the session's master key) is in no value
	unsigned char psk[64];
	size_t pn = SSL_SESSION_get_master_key(sess, psk, sizeof(psk));
	ASSERT_GE(pn, 32u);
	for (auto &kv : f.store.kv)
		EXPECT_EQ(kv.second.find(std::string((const char *)psk, pn)), std::string::npos);
	EXPECT_EQ(f.store.gets, 0u);
}

TEST_F(HskStore13, LocalCacheFirst)
{
	Pair p(f.a, c, 3); // same server, another worker: the issuing worker's shard answers
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake()) << std::hex << p.server_err;
	finish(p, true);
	EXPECT_EQ(f.store.gets, 0u);
}

TEST_F(HskStore13, LookupHitResumesOnAnotherServer)
{
	Pair p(f.b, c, 2);
	ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
	EXPECT_EQ(std::string(f.store.out->key, f.store.out->key_len), key);
	answer(f, p, HSK_STORE_HIT, f.store.kv[key]);
	finish(p, true);
	EXPECT_EQ(f.b.w[2].handshakes_resumed, 1u);
	EXPECT_EQ(f.b.w[2].store_lookups, 1u);
	EXPECT_EQ(f.b.w[2].store_hits, 1u);
	EXPECT_EQ(count_prefix(f.store, "tlso:s13:"), 4u); // the resumption's own tickets
}

// A miss, or no answer in time: the PSK is ignored, a full handshake,
// counted, never an alert.
TEST_F(HskStore13, LookupMissOrFailureIsAFullHandshakeCounted)
{
	const struct {
		uint8_t status;
		uint64_t hsk_worker::*counter;
	} cases[] = { { HSK_STORE_MISS, &hsk_worker::store_misses }, { HSK_STORE_FAILED, &hsk_worker::store_failed } };
	unsigned w = 0;
	for (auto &k : cases) {
		Pair p(f.b, c, w);
		ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
		answer(f, p, k.status);
		finish(p, false);
		EXPECT_EQ(f.b.w[w].handshakes_full, 1u);
		EXPECT_EQ(f.b.w[w].*k.counter, 1u);
		EXPECT_EQ(f.b.w[w].store_hits, 0u);
		EXPECT_EQ(f.b.w[w].handshake_failures, 0u);
		w++;
	}
}

TEST_F(HskStore13, StoreDownAnswersAtOnce)
{
	f.store.down = true;
	Pair p(f.b, c, 0);
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	finish(p, false);
	EXPECT_EQ(f.store.gets, 1u);
	EXPECT_EQ(f.b.w[0].store_failed, 1u);
}

TEST_F(HskStore13, ExpiredValueOrStaleLookupDoesNotResume)
{
	std::string val = f.store.kv[key];
	set_clocks(f.b, 1000 + 300, 0); // its lifetime over
	{
		Pair p(f.b, c, 0);
		ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
		answer(f, p, HSK_STORE_HIT, val);
		finish(p, false);
		EXPECT_EQ(f.b.w[0].store_misses, 1u);
	}
	set_clocks(f.b, 1000, 0);
	Pair p(f.b, c, 1);
	ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
	hsk_store_lookup *l = f.store.out;
	l->gen++; // the connection moved on: the answer belongs to nobody
	EXPECT_EQ(hsk_conn_from_lookup(l), nullptr);
	l->gen--;
	answer(f, p, HSK_STORE_HIT, val);
	finish(p, true);
}

TEST_F(HskStore13, TamperedOrCopiedValueDoesNotResume)
{
	std::string other;
	for (auto &kv : f.store.kv)
		if (kv.first != key)
			other = kv.second; // the connection's other ticket: same listener, same client
	ASSERT_FALSE(other.empty());
	std::string bad = f.store.kv[key];
	bad[bad.size() / 2] ^= 1;
	for (const std::string &v : { other, bad }) {
		Pair p(f.b, c, 0);
		ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
		answer(f, p, HSK_STORE_HIT, v);
		finish(p, false);
	}
	EXPECT_EQ(f.b.w[0].store_misses, 2u);
	EXPECT_EQ(f.b.w[0].store_hits, 0u);
}

TEST_F(HskStore13, FatalAlertAfterResumptionForgetsTheEntry)
{
	Pair p(f.b, c, 0);
	ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, sess));
	answer(f, p, HSK_STORE_HIT, f.store.kv[key]);
	finish(p, true);
	damage_next_record(p);
	EXPECT_EQ(f.store.dels, 1u);
	EXPECT_EQ(f.store.kv.count(key), 0u);
}

TEST_F(HskStore13, FatalAlertForgetsTheLocalCopyToo)
{
	Pair p(f.a, c, 1); // the issuing worker: resumed from its own shard
	SSL_set_session(p.ssl, sess);
	ASSERT_TRUE(p.handshake());
	finish(p, true);
	damage_next_record(p);
	EXPECT_EQ(f.store.kv.count(key), 0u);
	f.store.down = true; // nowhere left: a full handshake
	Pair q(f.a, c, 1);
	SSL_set_session(q.ssl, sess);
	ASSERT_TRUE(q.handshake());
	finish(q, false);
	EXPECT_EQ(f.a.w[1].store_failed, 1u);
}

TEST_F(HskStore13, StatelessTicketsStillResumeWithoutLookup)
{
	// a ticket issued before the switch to the store (or by a server with
	// --session-store-tls13 ticket)
	f.a.ctx.store13 = false;
	SSL_SESSION *old = session13_from(f.a, c);
	EXPECT_GT(ticket_of(old).size(), (size_t)HSK_STORE_ID13_LEN);
	Pair p(f.b, c, 0);
	SSL_set_session(p.ssl, old);
	ASSERT_TRUE(p.handshake()) << std::hex << p.server_err;
	finish(p, true);
	EXPECT_EQ(f.store.gets, 0u);
	SSL_SESSION_free(old);
}

TEST_F(HskStore13, TicketModeStoresNothingForTls13)
{
	f.a.ctx.store13 = false;
	f.store.kv.clear();
	SSL_SESSION *s2 = session13_from(f.a, c);
	EXPECT_TRUE(f.store.kv.empty());
	EXPECT_EQ(key13_of(s2), "");
	SSL_SESSION_free(s2);
}

// psk_ke (no key share): the lookup happens too, and the PSK is taken alone.
TEST_F(HskStore13, PskKeOnlyResumesFromTheStore)
{
	f.b.ctx.psk_modes = HSK_PSK_KE;
	SSL_CTX *kc = tls13_client();
	SSL_CTX_set_options(kc, SSL_OP_ALLOW_NO_DHE_KEX);
	SSL_SESSION *s2 = session13_from(f.a, kc);
	std::string k2 = key13_of(s2);
	ASSERT_EQ(f.store.kv.count(k2), 1u);
	Pair p(f.b, kc, 0);
	ASSERT_NO_FATAL_FAILURE(start_on_b(f, p, s2));
	answer(f, p, HSK_STORE_HIT, f.store.kv[k2]);
	finish(p, true);
	SSL_SESSION_free(s2);
	SSL_CTX_free(kc);
}

} // namespace
