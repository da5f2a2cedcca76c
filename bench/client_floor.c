/* client_floor CERT KEY [N]: what tlsbench's libssl client costs per full
 * handshake on its own, without TCP, and how much of that is the client's
 * crypto (issue 14).
 *
 * A thread on core 0 runs N full handshakes of tlsbench's own client
 * context (bench_client_ctx, built-in RSA/EC key methods as tlsbench's
 * default) against a libssl server thread on core 1 over an AF_UNIX
 * socket pair, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 and TLS 1.3
 * TLS_AES_128_GCM_SHA256, X25519, no tickets, the server's CERT chain;
 * the client thread's CPU time per handshake (the SSL reset as tlsbench
 * does it, the handshake, close_notify both ways). Then the same thread
 * times the crypto that a full handshake cannot do without, called as
 * libssl calls it: an X25519 key generation, an X25519 derive, an
 * RSA-PSS-SHA256 verify with the server's key, and the decode of the
 * certificates the server sends. "libssl's own" is the handshake less
 * that crypto (and less a few AF_UNIX reads and writes). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsbench.h"

static double
cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void
die(const char *what)
{
	fprintf(stderr, "client_floor: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static SSL_CTX *
server_ctx(const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || !SSL_CTX_use_certificate_chain_file(ctx, cert) ||
	    !SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) || !SSL_CTX_set1_groups_list(ctx, "X25519"))
		die("server context");
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

/* The server side: n + n / 10 connections on its end of the socket pair,
 * one after the other (a close_notify each way ends each one). */
struct server_arg {
	SSL_CTX *ctx;
	int fd, n, cpu;
};

static void
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
server_run(void *arg)
{
	struct server_arg *a = arg;
	char buf[256];

	pin(a->cpu);
	for (int i = 0; i < a->n; i++) {
		SSL *s = SSL_new(a->ctx);

		if (s == NULL || !SSL_set_fd(s, a->fd) || SSL_accept(s) != 1)
			die("server handshake");
		while (SSL_read(s, buf, sizeof(buf)) > 0) /* to the client's close_notify */
			;
		SSL_shutdown(s);
		SSL_free(s);
		ERR_clear_error();
	}
	return NULL;
}

/* n full handshakes of tlsbench's client context, on core 0, against a
 * libssl server thread on core 1 over an AF_UNIX socket pair (blocking:
 * a few cheap system calls, no TCP); the client's SSL kept across
 * connections and reset as tlsbench resets it (SSL_clear). Returns the
 * client thread's CPU time per handshake in us, the first tenth (warm-up)
 * left out. */
static double
handshakes(SSL_CTX *sctx, int tls, int n)
{
	struct bench_opts o;
	struct server_arg sa = { .ctx = sctx, .n = n + n / 10, .cpu = 1 };
	pthread_t tid;
	SSL_CTX *cctx;
	SSL *cs = NULL;
	double t0 = 0;
	char buf[256];
	int sv[2];

	memset(&o, 0, sizeof(o));
	o.tls_min = o.tls_max = tls;
	o.ciphers = "ECDHE-RSA-AES128-GCM-SHA256";
	o.ciphersuites = "TLS_AES_128_GCM_SHA256";
	o.groups = "X25519";
	cctx = bench_client_ctx(&o);
	if (cctx == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("client context");
	sa.fd = sv[1];
	if (pthread_create(&tid, NULL, server_run, &sa) != 0)
		die("server thread");
	pin(0);
	for (int i = 0; i < sa.n; i++) {
		if (i == n / 10)
			t0 = cpu_us();
		if (cs != NULL && (!SSL_clear(cs) || !SSL_set_session(cs, NULL))) {
			SSL_free(cs);
			cs = NULL;
		}
		if ((cs == NULL && (cs = SSL_new(cctx)) == NULL) || !SSL_set_fd(cs, sv[0]))
			die("client SSL");
		if (SSL_connect(cs) != 1)
			die("client handshake");
		SSL_shutdown(cs);
		while (SSL_read(cs, buf, sizeof(buf)) > 0) /* to the server's close_notify */
			;
		SSL_set_shutdown(cs, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		ERR_clear_error();
	}
	t0 = (cpu_us() - t0) / n;
	pthread_join(tid, NULL);
	SSL_free(cs);
	SSL_CTX_free(cctx);
	close(sv[0]);
	close(sv[1]);
	return t0;
}

/* The certificates of the chain file, DER, and the leaf's key. */
struct chain {
	unsigned char *der[4];
	int len[4], n;
	EVP_PKEY *pub;
};

static void
chain_load(struct chain *ch, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		die("cannot open the certificate");
	memset(ch, 0, sizeof(*ch));
	while (ch->n < 4 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		ch->len[ch->n] = i2d_X509(x, &ch->der[ch->n]);
		if (ch->n == 0)
			ch->pub = X509_get_pubkey(x);
		ch->n++;
		X509_free(x);
	}
	fclose(f);
	ERR_clear_error();
	if (ch->n == 0 || ch->pub == NULL)
		die("no certificate");
}

/* The crypto of one full handshake, as libssl calls it, us each. */
struct crypto_us {
	double keygen, derive, verify, certs;
};

static EVP_PKEY *
x25519_keygen(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	EVP_PKEY *k = NULL;

	if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_keygen(c, &k) <= 0)
		die("X25519 keygen");
	EVP_PKEY_CTX_free(c);
	return k;
}

static void
crypto(struct crypto_us *u, const struct chain *ch, const char *keyfile, int n)
{
	FILE *f = fopen(keyfile, "r");
	EVP_PKEY *priv = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *peer = x25519_keygen();
	unsigned char tbs[100], sig[512], secret[32];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc;
	double t0;

	if (f != NULL)
		fclose(f);
	memset(tbs, 0x5a, sizeof(tbs));
	if (priv == NULL || md == NULL || EVP_DigestSignInit_ex(md, &pc, "SHA256", NULL, NULL, priv, NULL) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_DigestSign(md, sig, &siglen, tbs, sizeof(tbs)) <= 0)
		die("the server key must be RSA (a PSS signature to verify)");
	t0 = cpu_us();
	for (int i = 0; i < n; i++)
		EVP_PKEY_free(x25519_keygen());
	u->keygen = (cpu_us() - t0) / n;
	EVP_PKEY *mine = x25519_keygen();
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
		size_t len = sizeof(secret);

		if (c == NULL || EVP_PKEY_derive_init(c) <= 0 || EVP_PKEY_derive_set_peer(c, peer) <= 0 ||
		    EVP_PKEY_derive(c, secret, &len) <= 0)
			die("X25519 derive");
		EVP_PKEY_CTX_free(c);
	}
	u->derive = (cpu_us() - t0) / n;
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		if (EVP_MD_CTX_reset(md) <= 0 || EVP_DigestVerifyInit_ex(md, &pc, "SHA256", NULL, NULL, ch->pub, NULL) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_DigestVerify(md, sig, siglen, tbs, sizeof(tbs)) != 1)
			die("RSA-PSS verify");
	}
	u->verify = (cpu_us() - t0) / n;
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < ch->n; j++) {
			const unsigned char *p = ch->der[j];
			X509 *x = d2i_X509(NULL, &p, ch->len[j]);

			if (x == NULL || X509_get0_pubkey(x) == NULL)
				die("certificate decode");
			X509_free(x);
		}
	}
	u->certs = (cpu_us() - t0) / n;
	EVP_PKEY_free(mine);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(priv);
	EVP_MD_CTX_free(md);
}

int
main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 2000;
	struct chain ch;
	struct crypto_us u;
	SSL_CTX *sctx;
	double h12, h13, floor;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: client_floor CERT KEY [N]\n");
		return 2;
	}
	if (bench_legacy_keys() != 0)
		die("cannot register the built-in key methods");
	sctx = server_ctx(argv[1], argv[2]);
	chain_load(&ch, argv[1]);
	h12 = handshakes(sctx, TLS1_2_VERSION, n);
	h13 = handshakes(sctx, TLS1_3_VERSION, n);
	crypto(&u, &ch, argv[2], n);
	floor = u.keygen + u.derive + u.verify;
	printf("client CPU per full handshake over a socket pair (no TCP), %d handshakes:\n", n);
	printf("  TLS 1.2 %.1f us, TLS 1.3 %.1f us\n", h12, h13);
	printf("crypto as libssl calls it: X25519 keygen %.1f us, derive %.1f us, RSA-PSS verify %.1f us = %.1f us\n",
	       u.keygen, u.derive, u.verify, floor);
	printf("decoding the %d certificate(s) the server sends: %.1f us\n", ch.n, u.certs);
	printf("libssl's own (handshake less crypto): TLS 1.2 %.1f us, TLS 1.3 %.1f us\n", h12 - floor, h13 - floor);
	for (int j = 0; j < ch.n; j++)
		OPENSSL_free(ch.der[j]);
	EVP_PKEY_free(ch.pub);
	SSL_CTX_free(sctx);
	return 0;
}
