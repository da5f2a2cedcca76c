// OCSP stapling: responses built here with libcrypto (OCSP_basic_sign by
// the test CA) checked at load (for this leaf, successful, not expired),
// then stapled by the engine in TLS 1.2 (CertificateStatus) and TLS 1.3
// (the leaf's CertificateEntry extension) to a client that asks, and no
// longer once the worker's wall clock passes nextUpdate.
#include <gtest/gtest.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <memory>
#include <string>

#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_ocsp.h"
#include "hsk_test_peer.h"

namespace {

using hsk_test::cert_path;
using hsk_test::Pair;
using hsk_test::Server;

const time_t kNow = 1800000000; // a fixed "now" for the load checks

// One PEM object of a test file (PEM_read_X509, PEM_read_PrivateKey).
template <typename T>
T *
read_pem(const char *name, T *(*read)(FILE *, T **, pem_password_cb *, void *))
{
	FILE *f = fopen(cert_path(name).c_str(), "r");
	T *x = f ? read(f, nullptr, nullptr, nullptr) : nullptr;
	if (f)
		fclose(f);
	return x;
}

struct Pki {
	X509 *ca = read_pem("ca.crt", PEM_read_X509);
	EVP_PKEY *ca_key = read_pem("ca.key", PEM_read_PrivateKey);
	X509 *rsa = read_pem("rsa.crt", PEM_read_X509); // leaf first in the chain file
	X509 *ecdsa = read_pem("ecdsa.crt", PEM_read_X509);
	~Pki()
	{
		X509_free(ca);
		EVP_PKEY_free(ca_key);
		X509_free(rsa);
		X509_free(ecdsa);
	}
};

// The DER of an OCSPResponse with this status and basic response (may be
// nullptr); takes neither.
std::string
der_of(int status, OCSP_BASICRESP *bs)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, bs);
	unsigned char *der = nullptr;
	int n = i2d_OCSP_RESPONSE(r, &der);
	std::string out((const char *)der, n > 0 ? (size_t)n : 0);
	OPENSSL_free(der);
	OCSP_RESPONSE_free(r);
	return out;
}

// A DER OCSP response from the CA about leaf, valid from this_update to
// next_update (0: no nextUpdate), saying cert_status (revoked: since
// this_update), carrying n_certs copies of the CA certificate (a
// responder may send certificates for its signature); or an unsuccessful
// one of that status.
std::string
response(const Pki &pki, X509 *leaf, time_t this_update, time_t next_update,
	 int status = OCSP_RESPONSE_STATUS_SUCCESSFUL, int cert_status = V_OCSP_CERTSTATUS_GOOD, int n_certs = 0)
{
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		return der_of(status, nullptr);
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, pki.ca);
	ASN1_TIME *tu = ASN1_TIME_set(nullptr, this_update);
	ASN1_TIME *nu = next_update ? ASN1_TIME_set(nullptr, next_update) : nullptr;
	bool revoked = cert_status == V_OCSP_CERTSTATUS_REVOKED;
	EXPECT_NE(OCSP_basic_add1_status(bs, id, cert_status, revoked ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : 0,
					 revoked ? tu : nullptr, tu, nu),
		  nullptr);
	STACK_OF(X509) *certs = sk_X509_new_null();
	for (int i = 0; i < n_certs; i++)
		sk_X509_push(certs, pki.ca);
	EXPECT_EQ(OCSP_basic_sign(bs, pki.ca, pki.ca_key, EVP_sha256(), certs, 0), 1);
	sk_X509_free(certs);
	std::string out = der_of(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return out;
}

struct Checked {
	int rc;
	hsk_ocsp o;
	std::string err, warn;
};

Checked
check(const std::string &der, X509 *leaf, X509 *issuer, time_t now = kNow)
{
	Checked c;
	char err[256] = "", warn[256] = "";
	c.rc = hsk_ocsp_check((const uint8_t *)der.data(), der.size(), leaf, issuer, (uint64_t)now, &c.o, err,
			      sizeof(err), warn, sizeof(warn));
	c.err = err;
	c.warn = warn;
	return c;
}

TEST(HskOcsp, FreshResponseEncodedAsCertificateStatus)
{
	Pki pki;
	std::string der = response(pki, pki.rsa, kNow - 3600, kNow + 86400);
	Checked c = check(der, pki.rsa, pki.ca);
	ASSERT_EQ(c.rc, 0) << c.err;
	ASSERT_NE(c.o.status, nullptr);
	// ocsp(1) || u24 length || the response, unchanged (RFC 6066 8)
	ASSERT_EQ(c.o.status_len, 4 + der.size());
	EXPECT_EQ(c.o.status[0], 1);
	EXPECT_EQ((size_t)c.o.status[1] << 16 | (size_t)c.o.status[2] << 8 | c.o.status[3], der.size());
	EXPECT_EQ(std::string((const char *)c.o.status + 4, der.size()), der);
	EXPECT_EQ(c.o.next_update, (uint64_t)kNow + 86400);
	EXPECT_EQ(c.o.this_update, (uint64_t)kNow - 3600);
	EXPECT_TRUE(c.warn.empty());
	hsk_ocsp_free(&c.o);
}

TEST(HskOcsp, ExpiredResponseNotStapledWithAReason)
{
	Pki pki;
	Checked c = check(response(pki, pki.rsa, kNow - 2 * 86400, kNow - 60), pki.rsa, pki.ca);
	EXPECT_EQ(c.rc, 0) << c.err; // not an error: the server runs without a staple
	EXPECT_EQ(c.o.status, nullptr);
	EXPECT_NE(c.warn.find("expired 60 s ago"), std::string::npos) << c.warn;
	// nextUpdate exactly now is expired too
	Checked d = check(response(pki, pki.rsa, kNow - 86400, kNow), pki.rsa, pki.ca);
	EXPECT_EQ(d.o.status, nullptr);
	hsk_ocsp_free(&c.o);
	hsk_ocsp_free(&d.o);
}

TEST(HskOcsp, RevokedOrUnknownNotStapledWithAReason)
{
	Pki pki;
	Checked c = check(response(pki, pki.rsa, kNow - 3600, kNow + 86400, OCSP_RESPONSE_STATUS_SUCCESSFUL,
				   V_OCSP_CERTSTATUS_REVOKED),
			  pki.rsa, pki.ca);
	EXPECT_EQ(c.rc, 0) << c.err; // not an error: the server runs without a staple
	EXPECT_EQ(c.o.status, nullptr);
	EXPECT_NE(c.warn.find("revoked"), std::string::npos) << c.warn;
	Checked d = check(response(pki, pki.rsa, kNow - 3600, kNow + 86400, OCSP_RESPONSE_STATUS_SUCCESSFUL,
				   V_OCSP_CERTSTATUS_UNKNOWN),
			  pki.rsa, pki.ca);
	EXPECT_EQ(d.rc, 0) << d.err;
	EXPECT_EQ(d.o.status, nullptr);
	EXPECT_NE(d.warn.find("unknown"), std::string::npos) << d.warn;
	hsk_ocsp_free(&c.o);
	hsk_ocsp_free(&d.o);
}

TEST(HskOcsp, WithoutNextUpdateAlwaysFresh)
{
	Pki pki;
	Checked c = check(response(pki, pki.rsa, kNow - 86400, 0), pki.rsa, pki.ca);
	ASSERT_EQ(c.rc, 0) << c.err;
	EXPECT_NE(c.o.status, nullptr);
	EXPECT_EQ(c.o.next_update, 0u);
	hsk_ocsp_free(&c.o);
}

TEST(HskOcsp, ResponseForAnotherCertificateRefused)
{
	Pki pki;
	Checked c = check(response(pki, pki.ecdsa, kNow - 60, kNow + 60), pki.rsa, pki.ca);
	EXPECT_EQ(c.rc, -1);
	EXPECT_NE(c.err.find("not about this certificate"), std::string::npos) << c.err;
	// Without the issuer in the chain the serial alone decides.
	Checked d = check(response(pki, pki.ecdsa, kNow - 60, kNow + 60), pki.rsa, nullptr);
	EXPECT_EQ(d.rc, -1);
	Checked e = check(response(pki, pki.rsa, kNow - 60, kNow + 60), pki.rsa, nullptr);
	EXPECT_EQ(e.rc, 0) << e.err;
	hsk_ocsp_free(&e.o);
}

TEST(HskOcsp, UnusableResponsesRefused)
{
	Pki pki;
	Checked a = check(response(pki, pki.rsa, 0, 0, OCSP_RESPONSE_STATUS_TRYLATER), pki.rsa, pki.ca);
	EXPECT_EQ(a.rc, -1);
	EXPECT_NE(a.err.find("trylater"), std::string::npos) << a.err;
	EXPECT_EQ(check("not DER at all", pki.rsa, pki.ca).rc, -1);
	EXPECT_EQ(check("", pki.rsa, pki.ca).rc, -1);
	std::string der = response(pki, pki.rsa, kNow - 60, kNow + 60);
	EXPECT_EQ(check(der + "x", pki.rsa, pki.ca).rc, -1);                   // trailing bytes
	EXPECT_EQ(check(der.substr(0, der.size() - 1), pki.rsa, pki.ca).rc, -1); // truncated
	EXPECT_EQ(check(std::string(HSK_OCSP_MAX + 1, '0'), pki.rsa, pki.ca).rc, -1);
}

// ---- the engine staples it ----

std::string
write_file(const std::string &name, const std::string &data)
{
	std::string p = hsk_test::cert_dir() + "/" + name;
	FILE *f = fopen(p.c_str(), "wb");
	fwrite(data.data(), 1, data.size(), f);
	fclose(f);
	return p;
}

// A server whose RSA certificate staples der (loaded at wall time now).
struct StaplingServer : Server {
	explicit StaplingServer(const std::string &der, time_t now = time(nullptr)) : Server(false, true)
	{
		std::string path = write_file("rsa.ocsp", der);
		char err[256], warn[256];
		hsk_cert_opts o = {};
		o.ocsp_path = path.c_str();
		o.now = (uint64_t)now;
		o.warn = warn;
		o.warnlen = sizeof(warn);
		EXPECT_EQ(hsk_ctx_add_cert_ex(&ctx, cert_path("rsa.crt").c_str(), cert_path("rsa.key").c_str(), &o,
					      err, sizeof(err)),
			  0)
			<< err;
		for (auto &wk : w)
			wk.wall_s = (uint64_t)now;
	}
};

struct CtxFree {
	void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};

// The staple the client received ("" for none), over an RSA-only client.
std::string
stapled(Server &s, int version, bool ask, bool *ok = nullptr)
{
	std::unique_ptr<SSL_CTX, CtxFree> c(hsk_test::client_ctx(version));
	SSL_CTX_set_min_proto_version(c.get(), version);
	SSL_CTX_set1_sigalgs_list(c.get(), "rsa_pss_rsae_sha256:RSA+SHA256");
	Pair p(s, c.get());
	if (ask)
		SSL_set_tlsext_status_type(p.ssl, TLSEXT_STATUSTYPE_ocsp);
	bool done = p.handshake();
	if (ok != nullptr)
		*ok = done;
	EXPECT_TRUE(done);
	const unsigned char *resp = nullptr;
	long n = SSL_get_tlsext_status_ocsp_resp(p.ssl, &resp);
	struct hsk_conn_info info;
	hsk_conn_info(p.conn, &info);
	EXPECT_EQ(info.ocsp_stapled, n > 0);
	return n > 0 ? std::string((const char *)resp, (size_t)n) : std::string();
}

TEST(HskOcspHandshake, StapledInTls12AndTls13WhenAsked)
{
	Pki pki;
	time_t now = time(nullptr);
	std::string der = response(pki, pki.rsa, now - 60, now + 3600);
	StaplingServer s(der, now);
	ASSERT_NE(s.ctx.certs[1].list13_ocsp, nullptr);
	EXPECT_EQ(stapled(s, TLS1_2_VERSION, true), der);
	EXPECT_EQ(stapled(s, TLS1_3_VERSION, true), der);
	EXPECT_EQ(stapled(s, TLS1_2_VERSION, false), ""); // RFC 6066 8: only when asked
	EXPECT_EQ(stapled(s, TLS1_3_VERSION, false), "");
}

TEST(HskOcspHandshake, DroppedOnceTheWallClockPassesNextUpdate)
{
	Pki pki;
	time_t now = time(nullptr);
	StaplingServer s(response(pki, pki.rsa, now - 60, now + 3600), now);
	for (auto &wk : s.w)
		wk.wall_s = (uint64_t)now + 3600; // nextUpdate reached
	EXPECT_EQ(stapled(s, TLS1_2_VERSION, true), "");
	EXPECT_EQ(stapled(s, TLS1_3_VERSION, true), "");
	EXPECT_EQ(s.w[0].ocsp_expired, 2u); // counted for the dataplane's log
	EXPECT_EQ(stapled(s, TLS1_3_VERSION, false), "");
	EXPECT_EQ(s.w[0].ocsp_expired, 2u); // not asked: nothing withheld
	for (auto &wk : s.w)
		wk.wall_s = (uint64_t)now + 3599;
	EXPECT_NE(stapled(s, TLS1_3_VERSION, true), "");
}

TEST(HskOcspHandshake, ExpiredAtLoadNeverStapled)
{
	Pki pki;
	time_t now = time(nullptr);
	StaplingServer s(response(pki, pki.rsa, now - 7200, now - 3600), now);
	EXPECT_EQ(s.ctx.certs[1].ocsp.status, nullptr);
	EXPECT_EQ(s.ctx.certs[1].list13_ocsp, nullptr);
	EXPECT_EQ(stapled(s, TLS1_2_VERSION, true), "");
	EXPECT_EQ(stapled(s, TLS1_3_VERSION, true), "");
	EXPECT_EQ(s.w[0].ocsp_expired, 0u); // dropped (and logged) at load
}

// ---- a chain and its staple must fit in the first flight ----

std::string
file_text(const std::string &path)
{
	std::string out;
	char buf[4096];
	FILE *f = fopen(path.c_str(), "rb");
	size_t n;
	while (f != nullptr && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		out.append(buf, n);
	if (f != nullptr)
		fclose(f);
	return out;
}

// rsa.crt's chain and then n more copies of the CA certificate.
std::string
padded_chain(int n)
{
	std::string pem = file_text(cert_path("rsa.crt")), ca = file_text(cert_path("ca.crt"));
	for (int i = 0; i < n; i++)
		pem += ca;
	return write_file("rsa-padded.crt", pem);
}

// A good response about rsa.crt that carries n copies of the CA
// certificate.
std::string
bulky_response(const Pki &pki, int n)
{
	return response(pki, pki.rsa, time(nullptr) - 3600, 0, OCSP_RESPONSE_STATUS_SUCCESSFUL,
			V_OCSP_CERTSTATUS_GOOD, n);
}

int
load(const std::string &chain, const std::string &der, std::string *err)
{
	hsk_ctx ctx;
	hsk_ctx_init(&ctx);
	char e[512] = "", warn[256] = "";
	std::string ocsp = der.empty() ? "" : write_file("rsa-bulky.ocsp", der);
	hsk_cert_opts o = {};
	o.ocsp_path = der.empty() ? nullptr : ocsp.c_str();
	o.now = (uint64_t)time(nullptr);
	o.warn = warn;
	o.warnlen = sizeof(warn);
	int rc = hsk_ctx_add_cert_ex(&ctx, chain.c_str(), cert_path("rsa.key").c_str(), &o, e, sizeof(e));
	*err = e;
	hsk_ctx_free(&ctx);
	return rc;
}

TEST(HskOcspLoad, ChainAndStapleTooLargeForTheFirstFlightRefused)
{
	Pki pki;
	int ca_len = i2d_X509(pki.ca, nullptr);
	ASSERT_GT(ca_len, 0);
	std::string chain = padded_chain(12000 / ca_len); // about 12 KB
	std::string der = bulky_response(pki, 12000 / ca_len);
	ASSERT_LE(der.size(), HSK_OCSP_MAX);
	std::string err;
	// each fits alone
	EXPECT_EQ(load(chain, "", &err), 0) << err;
	EXPECT_EQ(load(cert_path("rsa.crt"), der, &err), 0) << err;
	// together they cannot: refused at load with the reason
	EXPECT_EQ(load(chain, der, &err), -1);
	EXPECT_NE(err.find("too large for a first flight"), std::string::npos) << err;
	EXPECT_NE(err.find("with its OCSP response"), std::string::npos) << err;
	// and a chain alone of 30 KB
	EXPECT_EQ(load(padded_chain(30000 / ca_len), "", &err), -1);
	EXPECT_NE(err.find("too large for a first flight"), std::string::npos) << err;
}

// The largest that loads still makes a first flight, stapled, in both
// versions (the reserve for the rest of the flight is not too small).
TEST(HskOcspLoad, LargeChainWithStapleThatLoadsHandshakes)
{
	Pki pki;
	int ca_len = i2d_X509(pki.ca, nullptr);
	std::string der = bulky_response(pki, 5000 / ca_len);
	std::string err;
	int n = 0;
	while (n < 64 && load(padded_chain(n + 1), der, &err) == 0)
		n++;
	ASSERT_GT(n, 0);
	ASSERT_LT(n, 64);
	std::string chain = padded_chain(n);
	Server s(false, true);
	std::string ocsp = write_file("rsa-bulky.ocsp", der);
	char e[512], warn[256];
	hsk_cert_opts o = {};
	o.ocsp_path = ocsp.c_str();
	o.now = (uint64_t)time(nullptr);
	o.warn = warn;
	o.warnlen = sizeof(warn);
	ASSERT_EQ(hsk_ctx_add_cert_ex(&s.ctx, chain.c_str(), cert_path("rsa.key").c_str(), &o, e, sizeof(e)), 0) << e;
	for (auto &wk : s.w)
		wk.wall_s = (uint64_t)time(nullptr);
	for (int v : { TLS1_2_VERSION, TLS1_3_VERSION }) {
		bool ok = false;
		EXPECT_EQ(stapled(s, v, true, &ok), der) << v;
		EXPECT_TRUE(ok) << v;
	}
}

} // namespace
