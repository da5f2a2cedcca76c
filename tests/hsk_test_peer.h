// A libssl TLS client and the sans-IO engine wired together in memory
// (memory BIOs, no sockets), for the engine's tests. Header-only.
#ifndef HSK_TEST_PEER_H
#define HSK_TEST_PEER_H

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "acc_exec.h"
#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_sess.h"
#include "hsk_ticket.h"

#ifndef TLSO_SOURCE_DIR
#define TLSO_SOURCE_DIR "."
#endif

namespace hsk_test {

// Test certificates from scripts/gen-cert.sh, made once per process.
inline const std::string &
cert_dir()
{
	static std::string dir;
	// Fixed certificates instead (the fuzz harnesses: their seed inputs
	// carry client certificates signed by that CA)
	const char *fixed = getenv("TLSO_TEST_CERT_DIR");
	if (dir.empty() && fixed != nullptr)
		dir = fixed;
	if (dir.empty()) {
		char tmpl[] = "/tmp/hsk-test-XXXXXX";
		dir = mkdtemp(tmpl);
		std::string cmd = "bash " TLSO_SOURCE_DIR "/scripts/gen-cert.sh " + dir + " >/dev/null 2>&1";
		if (system(cmd.c_str()) != 0)
			abort();
		// A client certificate from a CA the server does not know.
		cmd = "cd " + dir + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		      "-nodes -keyout rogue.key -out rogue.crt -days 30 -subj /CN=rogue >/dev/null 2>&1";
		if (system(cmd.c_str()) != 0)
			abort();
	}
	return dir;
}

inline std::string
cert_path(const char *name)
{
	return cert_dir() + "/" + name;
}

// One server: a context shared by up to 4 workers with one session cache.
struct Server {
	hsk_ctx ctx;
	hsk_sess_cache *cache = nullptr;
	hsk_worker w[4] = {};
	acc_exec *exec[4] = {};

	explicit Server(bool rsa = true, bool ecdsa = true)
	{
		char err[256];
		hsk_ctx_init(&ctx);
		if (rsa && hsk_ctx_add_cert(&ctx, cert_path("rsa.crt").c_str(), cert_path("rsa.key").c_str(),
					    err, sizeof(err)) != 0)
			abort();
		if (ecdsa && hsk_ctx_add_cert(&ctx, cert_path("ecdsa.crt").c_str(),
					      cert_path("ecdsa.key").c_str(), err, sizeof(err)) != 0)
			abort();
		cache = hsk_sess_cache_new(4, 1024);
		ctx.tickets = hsk_tickets_new();
		for (unsigned i = 0; i < 4; i++) {
			// TLSO_TEST_ACCEL=auto|ifma runs the engine on the batching
			// backend (a second run of the engine tests does)
			const char *backend = getenv("TLSO_TEST_ACCEL");
			exec[i] = acc_exec_new(backend != nullptr ? backend : "openssl");
			w[i].id = i;
			w[i].exec = exec[i];
			w[i].cache = cache;
			w[i].now_s = 1000;
		}
	}
	~Server()
	{
		for (unsigned i = 0; i < 4; i++) {
			hsk_worker_release(&w[i]);
			acc_exec_free(exec[i]);
		}
		hsk_sess_cache_free(cache);
		hsk_tickets_free(ctx.tickets);
		hsk_ctx_free(&ctx);
	}
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;
};

// The client side: an SSL_CTX configured by the test.
inline SSL_CTX *
client_ctx(int max_version = TLS1_2_VERSION)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_max_proto_version(c, max_version);
	SSL_CTX_set_min_proto_version(c, max_version < TLS1_2_VERSION ? max_version : TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
	SSL_CTX_load_verify_locations(c, cert_path("ca.crt").c_str(), nullptr);
	return c;
}

// One connection: client SSL <-> memory BIOs <-> engine.
struct Pair {
	Server &srv;
	unsigned worker;
	SSL *ssl = nullptr;
	BIO *to_client = nullptr, *from_client = nullptr;
	hsk_conn *conn = nullptr;
	hsk_err server_err = HSK_OK;   // last error the engine returned (alerts)
	std::string server_app;        // what the server's application read
	std::string pending;           // client bytes the engine has not taken yet
	int client_alert = -1;         // alert the client received
	// Optional hook to edit client->server bytes before the engine sees them.
	void (*tamper)(std::string &bytes, void *arg) = nullptr;
	void *tamper_arg = nullptr;

	Pair(Server &s, SSL_CTX *cctx, unsigned w = 0) : srv(s), worker(w)
	{
		ssl = SSL_new(cctx);
		to_client = BIO_new(BIO_s_mem());
		from_client = BIO_new(BIO_s_mem());
		SSL_set_bio(ssl, to_client, from_client);
		SSL_set_connect_state(ssl);
		SSL_set_tlsext_host_name(ssl, "localhost");
		SSL_set_app_data(ssl, this);
		SSL_set_info_callback(ssl, [](const SSL *s, int where, int ret) {
			if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ)) {
				Pair *p = static_cast<Pair *>(SSL_get_app_data(s));
				p->client_alert = ret & 0xff;
			}
		});
		conn = hsk_conn_new(&srv.ctx, &srv.w[worker]);
		hsk_conn_set_user(conn, this);
	}
	~Pair()
	{
		SSL_free(ssl);
		if (conn != nullptr && !hsk_conn_crypto_pending(conn))
			hsk_conn_free(conn);
	}
	Pair(const Pair &) = delete;
	Pair &operator=(const Pair &) = delete;

	// A finished job resumes its own connection (several pairs may share
	// one flush: the lockstep test).
	static void
	on_done(acc_job *job, void *)
	{
		hsk_conn *c = hsk_conn_from_job(job);
		if (c != nullptr)
			static_cast<Pair *>(hsk_conn_user(c))->note(hsk_conn_resume(c));
	}

	void
	note(hsk_err e)
	{
		if (e != HSK_OK && e != HSK_WANT_INPUT && e != HSK_WANT_CRYPTO)
			server_err = e;
		read_app();
	}

	void
	read_app()
	{
		uint8_t buf[4096];
		size_t n;
		while ((n = hsk_conn_app_read(conn, buf, sizeof(buf))) > 0)
			server_app.append(reinterpret_cast<char *>(buf), n);
		// let the engine go on after the application has read
		if (hsk_conn_app_pending(conn) == 0 && server_err == HSK_OK && !hsk_conn_crypto_pending(conn)) {
			size_t zero = 0;
			hsk_err e = hsk_conn_recv(conn, nullptr, &zero);
			if (e != HSK_OK && e != HSK_WANT_INPUT && e != HSK_WANT_CRYPTO)
				server_err = e;
			if (e == HSK_OK && hsk_conn_app_pending(conn) > 0)
				read_app();
		}
	}

	// Move bytes both ways and run crypto jobs, for a bounded number of
	// rounds. With flush false the jobs stay queued for a flush that
	// serves several pairs at once.
	void
	pump(int rounds = 50, bool flush = true)
	{
		for (int i = 0; i < rounds; i++) {
			bool progress = false;
			char buf[16384];
			int n;
			while ((n = BIO_read(from_client, buf, sizeof(buf))) > 0) {
				std::string chunk(buf, (size_t)n);
				if (tamper != nullptr)
					tamper(chunk, tamper_arg);
				pending += chunk;
				progress = true;
			}
			while (!pending.empty() && server_err == HSK_OK && !hsk_conn_crypto_pending(conn)) {
				size_t len = pending.size();
				hsk_err e = hsk_conn_recv(conn, (const uint8_t *)pending.data(), &len);
				pending.erase(0, len);
				note(e);
				if (len == 0)
					break;
				progress = true;
			}
			if (flush && acc_exec_pending(srv.exec[worker]) > 0) {
				acc_exec_flush(srv.exec[worker], on_done, this);
				progress = true;
			}
			const uint8_t *out;
			size_t olen = hsk_conn_out(conn, &out);
			if (olen > 0) {
				BIO_write(to_client, out, (int)olen);
				hsk_conn_out_done(conn, olen);
				progress = true;
			}
			if (!SSL_is_init_finished(ssl)) {
				int r = SSL_do_handshake(ssl);
				if (r <= 0 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
					progress = progress || BIO_pending(from_client) > 0;
			}
			if (!progress && BIO_pending(from_client) == 0)
				break;
		}
	}

	// Run the handshake; true when both sides finished.
	bool
	handshake()
	{
		SSL_do_handshake(ssl);
		pump();
		return SSL_is_init_finished(ssl) && hsk_conn_established(conn);
	}

	// Client writes, server reads; server writes, client reads.
	std::string
	client_to_server(const std::string &data)
	{
		server_app.clear();
		SSL_write(ssl, data.data(), (int)data.size());
		pump();
		return server_app;
	}

	std::string
	server_to_client(const std::string &data)
	{
		size_t off = 0;
		std::string got;
		char buf[16384];
		for (int i = 0; i < 1000 && (off < data.size() || BIO_pending(to_client) > 0); i++) {
			size_t taken = 0;
			if (off < data.size() &&
			    hsk_conn_app_write(conn, (const uint8_t *)data.data() + off, data.size() - off,
					       &taken) != HSK_OK)
				break;
			off += taken;
			pump(1);
			int n;
			while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
				got.append(buf, (size_t)n);
		}
		return got;
	}
};

} // namespace hsk_test

#endif
