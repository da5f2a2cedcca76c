/* Hostile TLS clients for tests/integration/hostile.sh: each mode attacks
 * HOST:PORT (127.0.0.1 only in the tests) in one way, bounded in count and
 * time, and prints one line with its figures. libssl plays the honest
 * part of a client where one is needed (handshakes); the engine's own
 * record layer seals and opens the records libssl would never send (a
 * renegotiation flood in TLS 1.2).
 *
 *   hostile_client abort HOST PORT N THREADS
 *       N handshakes abandoned at every stage (after connect, in the
 *       middle of the ClientHello, after it, after the server's flight, in
 *       the middle of the client's second flight), half closed with FIN,
 *       half with RST. The ClientHello is captured once from libssl (it
 *       asks for ECDSA signatures, the server's cheaper key).
 *   hostile_client burst HOST PORT N
 *       N connections at once, each sending the ClientHello and reading
 *       the server's flight, then all reset: the server's connection
 *       objects are all in use at once (a warm-up before measuring memory).
 *   hostile_client slowloris HOST PORT N SECONDS
 *       N connections each sending one byte of a ClientHello per second;
 *       one the server closes is opened again.
 *   hostile_client garbage HOST PORT N THREADS [SECONDS]
 *       N connections (or as many as SECONDS allow) each sending one kind of garbage (non-TLS bytes,
 *       a bad content type, an oversized record, a broken ClientHello,
 *       application data before the handshake, an SSLv2 hello) and
 *       counting the alerts and closes that come back.
 *   hostile_client reneg HOST PORT K
 *       a TLS 1.2 handshake, then K renegotiation ClientHellos (one per
 *       record), then a request; reports the alerts.
 *   hostile_client keyupdate HOST PORT K
 *       a TLS 1.3 handshake, K KeyUpdates in a row, then a request.
 *
 * Exit status: 0 when the run went as far as it could (the figures say
 * what happened; the script judges them), 2 on a usage or setup error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hsk_buf.h"
#include "hsk_prf.h"
#include "hsk_suite.h"
#include "rec_layer.h"

#define HC_IO_TIMEOUT_MS 3000

static struct sockaddr_in hc_addr;
static uint8_t hc_hello[4096]; /* one ClientHello record (or several) as libssl sends it */
static size_t hc_hello_len;

static double
hc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connected TCP socket, or -1. */
static int
hc_connect(bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0), one = 1;

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&hc_addr, sizeof(hc_addr)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Close with a FIN, or with a RST (SO_LINGER 0). */
static void
hc_close(int fd, bool rst)
{
	if (rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
}

static bool
hc_send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Read what arrives within ms milliseconds; 0 at EOF or reset, -1 on a
 * timeout with nothing read, else bytes read. */
static ssize_t
hc_recv(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t r;

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	r = recv(fd, buf, cap, 0);
	return r < 0 ? 0 : r;
}

/* ---- libssl pieces ---- */

static SSL_CTX *
hc_ssl_ctx(int version, const char *ciphers)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (c == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(c, version);
	SSL_CTX_set_max_proto_version(c, version);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	if (ciphers != NULL && SSL_CTX_set_cipher_list(c, ciphers) != 1) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* A TLS 1.3 client that takes ECDSA signatures only: the server signs
 * with its P-256 key, so a run of aborted handshakes costs it little
 * (they are about the closes, not the signatures). */
static SSL_CTX *
hc_ssl_ctx13_ecdsa(void)
{
	SSL_CTX *c = hc_ssl_ctx(TLS1_3_VERSION, NULL);

	if (c != NULL && SSL_CTX_set1_sigalgs_list(c, "ECDSA+SHA256:ECDSA+SHA384") != 1) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* libssl's first flight into hc_hello, through memory BIOs. */
static int
hc_capture_hello(void)
{
	SSL_CTX *c = hc_ssl_ctx13_ecdsa();
	SSL *s = c ? SSL_new(c) : NULL;
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int n;

	if (s == NULL || rb == NULL || wb == NULL)
		return -1;
	SSL_set_bio(s, rb, wb);
	SSL_set_tlsext_host_name(s, "localhost");
	(void)SSL_connect(s);
	n = BIO_read(wb, hc_hello, sizeof(hc_hello));
	SSL_free(s);
	SSL_CTX_free(c);
	if (n <= 0)
		return -1;
	hc_hello_len = (size_t)n;
	return 0;
}

static int hc_alert_seen = -1;

static void
hc_info(const SSL *s, int where, int ret)
{
	(void)s;
	if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ))
		hc_alert_seen = ret & 0xff;
}

/* A TLS connection of the given version over a blocking socket. */
static SSL *
hc_tls_connect(SSL_CTX *ctx, int *fdp)
{
	int fd = hc_connect(false);
	struct timeval tv = { .tv_sec = HC_IO_TIMEOUT_MS / 1000 };
	SSL *s;

	if (fd < 0)
		return NULL;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	SSL_set_tlsext_host_name(s, "localhost");
	SSL_set_info_callback(s, hc_info);
	if (SSL_connect(s) != 1) {
		SSL_free(s);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return s;
}

static const char hc_get[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/* ---- abort ---- */

enum { HC_AB_CONNECT, HC_AB_MID_HELLO, HC_AB_HELLO, HC_AB_FLIGHT, HC_AB_MID_CLIENT, HC_AB_N };
static const char *hc_ab_names[HC_AB_N] = { "after connect", "mid ClientHello", "after ClientHello",
					    "after server flight", "mid client flight" };
static atomic_ulong hc_ab_done[HC_AB_N], hc_ab_failed;
static atomic_ulong hc_next;
static unsigned long hc_total;
static double hc_deadline; /* 0: none */

/* Stage of connection i, per 1,000: 300 after connect, 300 mid-hello,
 * 298 after the hello, 100 after the server's flight, 2 in the middle of
 * the client's flight (a real handshake on both sides: kept few). */
static int
hc_ab_stage(unsigned long i)
{
	unsigned long k = i % 1000;

	return k < 300 ? HC_AB_CONNECT
	       : k < 600 ? HC_AB_MID_HELLO
	       : k < 898 ? HC_AB_HELLO
	       : k < 998 ? HC_AB_FLIGHT
			 : HC_AB_MID_CLIENT;
}

/* The server's flight, or its first part: the server writes it in one
 * send, and on loopback one read takes most of it. */
static bool
hc_read_flight(int fd, BIO *into)
{
	uint8_t buf[65536];
	ssize_t r = hc_recv(fd, buf, sizeof(buf), HC_IO_TIMEOUT_MS);

	if (r > 0 && into != NULL)
		BIO_write(into, buf, (int)r);
	return r > 0;
}

/* A real TLS 1.3 handshake up to the client's Finished, half of which is
 * sent. */
static bool
hc_ab_mid_client(int fd, SSL_CTX *ctx)
{
	SSL *s = SSL_new(ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	uint8_t buf[8192];
	bool ok = false;
	int n;

	SSL_set_bio(s, rb, wb);
	SSL_set_tlsext_host_name(s, "localhost");
	(void)SSL_connect(s);
	n = BIO_read(wb, buf, sizeof(buf));
	if (n > 0 && hc_send_all(fd, buf, (size_t)n)) {
		/* feed libssl until it has written its Finished */
		for (int round = 0; round < 16; round++) {
			int r = SSL_connect(s);

			if (r == 1) {
				n = BIO_read(wb, buf, sizeof(buf));
				ok = n > 1 && hc_send_all(fd, buf, (size_t)n / 2);
				break;
			}
			if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ || !hc_read_flight(fd, rb))
				break;
		}
	}
	SSL_free(s);
	return ok;
}

static void *
hc_abort_thread(void *arg)
{
	SSL_CTX *ctx = arg;
	unsigned long i;

	while ((i = atomic_fetch_add(&hc_next, 1)) < hc_total) {
		int stage = hc_ab_stage(i), fd = hc_connect(false);
		bool ok = fd >= 0;

		switch (ok ? stage : -1) {
		case HC_AB_CONNECT:
			break;
		case HC_AB_MID_HELLO:
			ok = hc_send_all(fd, hc_hello, hc_hello_len / 2);
			break;
		case HC_AB_HELLO:
			ok = hc_send_all(fd, hc_hello, hc_hello_len);
			break;
		case HC_AB_FLIGHT:
			ok = hc_send_all(fd, hc_hello, hc_hello_len) && hc_read_flight(fd, NULL);
			break;
		case HC_AB_MID_CLIENT:
			ok = hc_ab_mid_client(fd, ctx);
			break;
		default:
			break;
		}
		if (fd >= 0)
			hc_close(fd, i % 2 == 1);
		if (ok)
			atomic_fetch_add(&hc_ab_done[stage], 1);
		else
			atomic_fetch_add(&hc_ab_failed, 1);
	}
	return NULL;
}

static int
hc_run_threads(void *(*fn)(void *), void *arg, unsigned threads)
{
	pthread_t t[64];

	if (threads == 0 || threads > 64)
		return -1;
	for (unsigned i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, fn, arg) != 0)
			return -1;
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int
hc_abort(unsigned long n, unsigned threads)
{
	SSL_CTX *ctx = hc_ssl_ctx13_ecdsa();
	double t0 = hc_now();
	unsigned long done = 0;

	hc_total = n;
	if (ctx == NULL || hc_run_threads(hc_abort_thread, ctx, threads) != 0)
		return 2;
	printf("abort: %lu connections in %.1f s (%.0f/s):", n, hc_now() - t0, (double)n / (hc_now() - t0));
	for (int s = 0; s < HC_AB_N; s++) {
		done += hc_ab_done[s];
		printf(" %s %lu,", hc_ab_names[s], (unsigned long)hc_ab_done[s]);
	}
	printf(" failed to reach their stage %lu\n", (unsigned long)hc_ab_failed);
	SSL_CTX_free(ctx);
	return done + hc_ab_failed == n ? 0 : 2;
}

/* ---- burst ---- */

static int
hc_burst(unsigned n)
{
	int *fd = calloc(n, sizeof(int));
	unsigned flights = 0;

	if (fd == NULL)
		return 2;
	for (unsigned i = 0; i < n; i++) {
		fd[i] = hc_connect(false);
		if (fd[i] >= 0 && !hc_send_all(fd[i], hc_hello, hc_hello_len)) {
			close(fd[i]);
			fd[i] = -1;
		}
	}
	for (unsigned i = 0; i < n; i++)
		flights += fd[i] >= 0 && hc_read_flight(fd[i], NULL);
	for (unsigned i = 0; i < n; i++)
		if (fd[i] >= 0)
			hc_close(fd[i], true);
	printf("burst: %u connections at once, %u server flights read\n", n, flights);
	free(fd);
	return 0;
}

/* ---- slowloris ---- */

static int
hc_slowloris(unsigned n, unsigned seconds)
{
	int *fd = calloc(n, sizeof(int));
	size_t *off = calloc(n, sizeof(size_t));
	unsigned long closed = 0, reopened = 0, bytes = 0, open_end = 0;
	double t0 = hc_now();

	if (fd == NULL || off == NULL)
		return 2;
	for (unsigned i = 0; i < n; i++)
		fd[i] = hc_connect(true);
	for (unsigned tick = 0; tick < seconds; tick++) {
		for (unsigned i = 0; i < n; i++) {
			uint8_t b;
			ssize_t r;

			if (fd[i] >= 0) {
				r = recv(fd[i], &b, 1, MSG_DONTWAIT);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) ||
				    (r > 0)) {
					/* closed (or answered) by the server: again */
					close(fd[i]);
					fd[i] = -1;
					closed++;
				}
			}
			if (fd[i] < 0) {
				fd[i] = hc_connect(true);
				off[i] = 0;
				reopened++;
				continue;
			}
			/* one byte, never the whole hello */
			if (off[i] + 1 < hc_hello_len && send(fd[i], hc_hello + off[i], 1, MSG_NOSIGNAL) == 1) {
				off[i]++;
				bytes++;
			}
		}
		while (hc_now() < t0 + tick + 1)
			usleep(20000);
	}
	for (unsigned i = 0; i < n; i++) {
		if (fd[i] >= 0) {
			open_end++;
			close(fd[i]);
		}
	}
	printf("slowloris: %u connections for %u s, %lu bytes sent, %lu closed by the server and "
	       "reopened, %lu open at the end\n",
	       n, seconds, bytes, closed, open_end);
	(void)reopened;
	free(fd);
	free(off);
	return 0;
}

/* ---- garbage ---- */

enum { HC_G_TEXT, HC_G_TYPE, HC_G_OVERSIZE, HC_G_HELLO_LEN, HC_G_APPDATA, HC_G_SSLV2, HC_G_N };
static atomic_ulong hc_g_alerts, hc_g_closed, hc_g_silent;

/* One kind of garbage for connection i, into buf; returns its length. */
static size_t
hc_garbage(unsigned long i, uint8_t *buf, size_t cap)
{
	static const uint8_t text[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10 };
	size_t n;

	switch (i % HC_G_N) {
	case HC_G_TEXT:
		memcpy(buf, text, sizeof(text) - 1);
		return sizeof(text) - 1;
	case HC_G_TYPE: /* content type 0x63, then random bytes */
		n = 64;
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)(i * 131 + k * 17);
		buf[0] = 0x63;
		return n;
	case HC_G_OVERSIZE: /* a handshake record of 2^14 + 1 bytes, announced */
		memcpy(buf, (const uint8_t[]){ 0x16, 0x03, 0x01, 0x40, 0x01 }, 5);
		memset(buf + 5, 0x01, 64);
		return 69;
	case HC_G_HELLO_LEN: { /* libssl's ClientHello, its last 10 bytes cut (record and
				* message lengths agree, the extensions' length does not) */
		size_t rec = (size_t)hc_hello[3] << 8 | hc_hello[4], msg = rec - 4;

		n = REC_HDR_LEN + rec;
		if (n > hc_hello_len || n > cap || rec < 64)
			return 0;
		memcpy(buf, hc_hello, n - 10);
		buf[3] = (uint8_t)((rec - 10) >> 8);
		buf[4] = (uint8_t)(rec - 10);
		buf[6] = (uint8_t)((msg - 10) >> 16);
		buf[7] = (uint8_t)((msg - 10) >> 8);
		buf[8] = (uint8_t)(msg - 10);
		return n - 10;
	}
	case HC_G_APPDATA: /* application data before any handshake */
		memcpy(buf, (const uint8_t[]){ 0x17, 0x03, 0x03, 0x00, 0x20 }, 5);
		memset(buf + 5, 0xaa, 32);
		return 37;
	case HC_G_SSLV2:
	default:
		memcpy(buf, sslv2, sizeof(sslv2));
		memset(buf + sizeof(sslv2), 0, 0x2e + 2 - sizeof(sslv2));
		return 0x2e + 2;
	}
}

static void *
hc_garbage_thread(void *arg)
{
	unsigned long i;

	(void)arg;
	while ((i = atomic_fetch_add(&hc_next, 1)) < hc_total && (hc_deadline == 0 || hc_now() < hc_deadline)) {
		uint8_t buf[4096], in[512];
		size_t n = hc_garbage(i, buf, sizeof(buf)), got = 0;
		int fd = hc_connect(false);
		ssize_t r = 0;

		if (fd < 0 || !hc_send_all(fd, buf, n)) {
			if (fd >= 0)
				close(fd);
			atomic_fetch_add(&hc_g_closed, 1);
			continue;
		}
		/* What comes back, up to the close. */
		while (got < sizeof(in) && (r = hc_recv(fd, in + got, sizeof(in) - got, HC_IO_TIMEOUT_MS)) > 0)
			got += (size_t)r;
		/* A plaintext fatal alert: 15 03 0x 00 02 02 code */
		if (got >= 7 && in[0] == 0x15 && in[3] == 0 && in[4] == 2 && in[5] == 2)
			atomic_fetch_add(&hc_g_alerts, 1);
		if (r == 0)
			atomic_fetch_add(&hc_g_closed, 1);
		else
			atomic_fetch_add(&hc_g_silent, 1);
		hc_close(fd, false);
	}
	return NULL;
}

static int
hc_garbage_run(unsigned long n, unsigned threads, unsigned seconds)
{
	double t0 = hc_now(), took;
	unsigned long done;

	hc_total = n;
	hc_deadline = seconds ? t0 + seconds : 0;
	if (hc_run_threads(hc_garbage_thread, NULL, threads) != 0)
		return 2;
	took = hc_now() - t0;
	done = hc_g_closed + hc_g_silent;
	printf("garbage: %lu connections in %.1f s (%.0f/s), %lu got a fatal alert, %lu closed by the "
	       "server, %lu left waiting\n",
	       done, took, (double)done / took, (unsigned long)hc_g_alerts, (unsigned long)hc_g_closed,
	       (unsigned long)hc_g_silent);
	return 0;
}

/* ---- renegotiation flood (TLS 1.2) ---- */

/* Both directions of a TLS 1.2 AEAD connection rebuilt from libssl's
 * session: the key block of RFC 5246 6.3 (no MAC keys for AEAD). Our
 * Finished and the server's were record 0 of each direction. */
static int
hc_dirs(SSL *s, struct rec_dir *out, struct rec_dir *in)
{
	const struct hsk_suite *su = hsk_suite_by_id(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(s)));
	uint8_t master[48], cr[32], sr[32], kb[2 * (32 + 12)];
	size_t kl, il;

	if (su == NULL || su->mac_key_len != 0 ||
	    SSL_SESSION_get_master_key(SSL_get_session(s), master, sizeof(master)) != sizeof(master))
		return -1;
	SSL_get_client_random(s, cr, sizeof(cr));
	SSL_get_server_random(s, sr, sizeof(sr));
	kl = su->key_len;
	il = su->fixed_iv_len;
	if (hsk_prf(su->prf, master, sizeof(master), "key expansion", sr, 32, cr, 32, kb, 2 * (kl + il)) != HSK_OK ||
	    rec_dir_init(out, su, 0x0303, true, false, kb, kb + 2 * kl, NULL) != HSK_OK ||
	    rec_dir_init(in, su, 0x0303, false, false, kb + kl, kb + 2 * kl + il, NULL) != HSK_OK)
		return -1;
	out->seq = in->seq = 1;
	return 0;
}

static bool
hc_seal_send(int fd, struct rec_dir *d, uint8_t type, const uint8_t *p, size_t n)
{
	uint8_t buf[REC_MAX_PLAIN + REC_MAX_OVERHEAD];
	struct hsk_wr w;

	hsk_wr_init(&w, buf, sizeof(buf));
	return rec_seal(d, type, p, n, &w) == HSK_OK && !w.err && hc_send_all(fd, buf, w.len);
}

struct hc_in {
	uint8_t buf[65536];
	size_t len;
	bool eof;
};

/* The next record from the server, opened: its type and plaintext; false
 * at EOF, a timeout or a record that does not open. */
static bool
hc_next_record(int fd, struct rec_dir *d, struct hc_in *in, uint8_t *type, uint8_t *pt, size_t *ptlen)
{
	for (;;) {
		struct rec_hdr h;
		uint8_t *p;
		size_t plen;
		ssize_t r;

		if (rec_hdr_parse(in->buf, in->len, REC_MAX_CIPHER_12, &h) == HSK_OK) {
			size_t whole = REC_HDR_LEN + h.len;

			if (rec_open(d, &h, in->buf + REC_HDR_LEN, &p, &plen) != HSK_OK)
				return false;
			*type = h.type;
			memcpy(pt, p, plen);
			*ptlen = plen;
			memmove(in->buf, in->buf + whole, in->len - whole);
			in->len -= whole;
			return true;
		}
		if (in->eof || in->len == sizeof(in->buf))
			return false;
		r = hc_recv(fd, in->buf + in->len, sizeof(in->buf) - in->len, HC_IO_TIMEOUT_MS);
		if (r <= 0) {
			in->eof = true;
			return false;
		}
		in->len += (size_t)r;
	}
}

static int
hc_reneg(unsigned k)
{
	SSL_CTX *ctx = hc_ssl_ctx(TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	struct rec_dir out = { 0 }, in = { 0 };
	static struct hc_in rin;
	uint8_t pt[REC_MAX_PLAIN + 256], type;
	size_t ptlen;
	unsigned sent = 0, warnings = 0;
	int fatal = -1, fd = -1;
	bool answered = false;
	SSL *s = ctx ? hc_tls_connect(ctx, &fd) : NULL;

	/* The renegotiation ClientHello: libssl's, unwrapped from its record
	 * (its content does not matter: the server refuses any). */
	if (s == NULL || hc_dirs(s, &out, &in) != 0 || hc_hello_len < 9) {
		fprintf(stderr, "reneg: no TLS 1.2 connection\n");
		return 2;
	}
	for (; sent < k && fatal < 0; sent++) {
		if (!hc_seal_send(fd, &out, REC_HANDSHAKE, hc_hello + REC_HDR_LEN, hc_hello_len - REC_HDR_LEN))
			break;
		/* one answer per ClientHello: an alert record */
		if (!hc_next_record(fd, &in, &rin, &type, pt, &ptlen) || type != REC_ALERT || ptlen != 2)
			break;
		if (pt[0] == 1 && pt[1] == 100)
			warnings++;
		else if (pt[0] == 2)
			fatal = pt[1];
	}
	if (fatal < 0 && hc_seal_send(fd, &out, REC_APPLICATION_DATA, (const uint8_t *)hc_get, sizeof(hc_get) - 1)) {
		while (hc_next_record(fd, &in, &rin, &type, pt, &ptlen)) {
			if (type == REC_APPLICATION_DATA && ptlen >= 12 && memcmp(pt, "HTTP/1.1 200", 12) == 0)
				answered = true;
			if (type == REC_APPLICATION_DATA)
				break;
			if (type == REC_ALERT && ptlen == 2 && pt[0] == 2) {
				fatal = pt[1];
				break;
			}
		}
	}
	printf("reneg: %u renegotiation ClientHellos sent, %u no_renegotiation warnings, fatal alert %d, "
	       "request answered %s\n",
	       sent, warnings, fatal, answered ? "yes" : "no");
	rec_dir_clear(&out);
	rec_dir_clear(&in);
	SSL_free(s);
	close(fd);
	SSL_CTX_free(ctx);
	return 0;
}

/* ---- KeyUpdate flood (TLS 1.3) ---- */

static int
hc_keyupdate(unsigned k)
{
	SSL_CTX *ctx = hc_ssl_ctx(TLS1_3_VERSION, NULL);
	int fd = -1;
	SSL *s = ctx ? hc_tls_connect(ctx, &fd) : NULL;
	char buf[4096];
	unsigned sent = 0;
	int n = 0;

	if (s == NULL) {
		fprintf(stderr, "keyupdate: no TLS 1.3 connection\n");
		return 2;
	}
	/* The KeyUpdates and the request collect in memory and leave in one
	 * send: the server's alert comes back before it sees more from us
	 * (a write after its close would make the socket fail first). */
	BIO *mem = BIO_new(BIO_s_mem());
	char *wire;
	long wlen;

	SSL_set0_wbio(s, mem);
	for (; sent < k; sent++) {
		if (SSL_key_update(s, SSL_KEY_UPDATE_NOT_REQUESTED) != 1 || SSL_do_handshake(s) != 1)
			break;
	}
	if (SSL_write(s, hc_get, (int)sizeof(hc_get) - 1) > 0 && (wlen = BIO_get_mem_data(mem, &wire)) > 0 &&
	    hc_send_all(fd, (const uint8_t *)wire, (size_t)wlen))
		n = SSL_read(s, buf, sizeof(buf) - 1); /* the session tickets are read on the way */
	printf("keyupdate: %u KeyUpdates sent, fatal alert %d, request answered %s\n", sent, hc_alert_seen,
	       n >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0 ? "yes" : "no");
	SSL_free(s);
	close(fd);
	SSL_CTX_free(ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 3 ? argv[1] : "";
	unsigned long a = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
	unsigned long b = argc > 5 ? strtoul(argv[5], NULL, 10) : 0;

	if (argc < 5) {
		fprintf(stderr, "usage: %s abort|slowloris|garbage|reneg|keyupdate HOST PORT N [THREADS|SECONDS]\n",
			argv[0]);
		return 2;
	}
	memset(&hc_addr, 0, sizeof(hc_addr));
	hc_addr.sin_family = AF_INET;
	hc_addr.sin_port = htons((uint16_t)strtoul(argv[3], NULL, 10));
	if (inet_pton(AF_INET, argv[2], &hc_addr.sin_addr) != 1 || hc_capture_hello() != 0) {
		fprintf(stderr, "%s: bad address, or no ClientHello from libssl\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN); /* libssl writes to sockets the server closed */
	if (strcmp(mode, "abort") == 0 && argc == 6)
		return hc_abort(a, (unsigned)b);
	if (strcmp(mode, "burst") == 0)
		return hc_burst((unsigned)a);
	if (strcmp(mode, "slowloris") == 0 && argc == 6)
		return hc_slowloris((unsigned)a, (unsigned)b);
	if (strcmp(mode, "garbage") == 0 && (argc == 6 || argc == 7))
		return hc_garbage_run(a, (unsigned)b, argc == 7 ? (unsigned)strtoul(argv[6], NULL, 10) : 0);
	if (strcmp(mode, "reneg") == 0)
		return hc_reneg((unsigned)a);
	if (strcmp(mode, "keyupdate") == 0)
		return hc_keyupdate((unsigned)a);
	fprintf(stderr, "%s: unknown mode or arguments\n", argv[0]);
	return 2;
}
