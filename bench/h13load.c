/* h13load: full TLS 1.3 handshakes at load with X25519MLKEM768 or X25519,
 * from one thread: a load mode of our own, because Debian's libssl cannot
 * offer the hybrid group and a Node.js 26 client costs more CPU per
 * handshake than the server (bench/RESULTS.md, issue 17), so it cannot
 * saturate one server worker from one core.
 *
 *   h13load --port N --group x25519mlkem768|x25519 [--conns C]
 *           [--warmup S] [--duration S] [--server-pid PID]
 *
 * A minimal TLS 1.3 client, only what a load generator needs: one suite
 * (TLS_AES_128_GCM_SHA256), one group offered with its share, no session
 * ID, no PSK; the key share is made once and reused by every connection
 * (the server's work, a fresh encapsulation and X25519 key per handshake,
 * is the same); the server's Certificate and CertificateVerify are hashed
 * into the transcript but not checked (that is the client's cost, not the
 * server's). Everything else is a real handshake: ML-KEM-768 decapsulation
 * (accel/acc_mlkem.c) and X25519 for the shared secret, the key schedule
 * (handshake/hsk_hkdf.c), the server's Finished verified, the client's
 * Finished sent, then close_notify under the application keys; the
 * server's answer must be its close_notify or nothing before EOF (an alert
 * such as decrypt_error for a bad Finished counts as an error). A
 * handshake counts when that connection ends cleanly.
 *
 * C connections are kept in flight on 127.0.0.1; after the warm-up a
 * window of S seconds counts handshakes, errors, the latency of each
 * (connect() to the server's Finished verified), this process's CPU
 * (getrusage) and, with --server-pid, the server's (/proc/PID/stat), and
 * the time each waited for a CPU that something else held (schedstat
 * run_delay: how much other load on the same cores there was).
 * Output: one JSON object, the keys of bench/tls13_load.mjs. Exit 1 when
 * no handshake completed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <dirent.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acc_mlkem.h"
#include "bench_util.h"
#include "hsk_algs.h"
#include "hsk_hkdf.h"
#include "hsk_suite.h"

#define GROUP_X25519 0x001d
#define GROUP_HYBRID 0x11ec
#define HASH_LEN 32
#define REC_MAX (5 + 16384 + 256)
#define HS_MAX 16384

enum st { ST_CONNECTING, ST_SERVER_HELLO, ST_FLIGHT, ST_CLOSING };

struct conn {
	int fd;
	enum st st;
	bool counted; /* started inside the window */
	double t0, t_hs;
	uint8_t in[REC_MAX];
	size_t in_len;
	uint8_t hs[HS_MAX]; /* handshake bytes not parsed yet */
	size_t hs_len;
	EVP_MD_CTX *th; /* transcript hash */
	uint8_t hs_secret[HASH_LEN], c_hs[HASH_LEN], s_hs[HASH_LEN];
	uint8_t s_key[16], s_iv[12];
	uint64_t s_seq;
};

struct load {
	uint16_t port, group;
	int conns, epfd;
	double warmup, duration;
	int server_pid;
	/* the client's share, made once */
	uint8_t hello[2048];
	size_t hello_len;
	size_t random_off;
	uint8_t mlkem_dk[ACC_MLKEM768_DK_LEN];
	EVP_PKEY *x25519;
	EVP_PKEY_CTX *derive; /* with x25519, derive_init done */
	const EVP_CIPHER *gcm; /* fetched once (hsk_algs.h) */
	const EVP_MD *sha256;
	struct acc_mlkem *mk;
	EVP_CIPHER_CTX *aead;
	uint8_t derived_early[HASH_LEN], empty_hash[HASH_LEN];
	/* the window */
	bool counting, stopping;
	uint64_t handshakes, errors, wrong;
	uint64_t err_kind[8];
	double *lat;
	size_t nlat, cap;
};

static const char *const err_names[] = {"connect", "io", "eof", "protocol", "alert", "finished", "crypto", "group"};
enum { E_CONNECT, E_IO, E_EOF, E_PROTO, E_ALERT, E_FINISHED, E_CRYPTO, E_GROUP };

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put24(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static size_t
get24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

/* The ClientHello record, with a random to fill per connection. */
static int
build_hello(struct load *L)
{
	uint8_t share[ACC_MLKEM768_EK_LEN + 32];
	size_t share_len = 0, xlen = 32;

	if (L->group == GROUP_HYBRID) {
		if (acc_mlkem768_keygen(L->mk, NULL, NULL, share, L->mlkem_dk) != 0)
			return -1;
		share_len = ACC_MLKEM768_EK_LEN;
	}
	L->x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	if (!L->x25519 || !EVP_PKEY_get_raw_public_key(L->x25519, share + share_len, &xlen) || xlen != 32)
		return -1;
	share_len += 32;

	uint8_t *p = L->hello, *rec = p, *msg, *ext;
	p += 5;      /* record header */
	msg = p;
	p += 4;      /* handshake header */
	put16(p, 0x0303);
	p += 2;
	L->random_off = (size_t)(p - L->hello);
	p += 32;
	*p++ = 0;    /* legacy_session_id */
	put16(p, 2); /* cipher_suites */
	put16(p + 2, 0x1301);
	p += 4;
	*p++ = 1;    /* compression methods */
	*p++ = 0;
	ext = p;
	p += 2;
	static const uint8_t sni[] = {0, 0, 0, 14, 0, 12, 0, 0, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
	memcpy(p, sni, sizeof(sni));
	p += sizeof(sni);
	put16(p, 0x000a); /* supported_groups */
	put16(p + 2, 4);
	put16(p + 4, 2);
	put16(p + 6, L->group);
	p += 8;
	static const uint8_t sigs[] = {0, 13, 0, 10, 0, 8, 4, 3, 8, 4, 8, 5, 8, 6};
	memcpy(p, sigs, sizeof(sigs));
	p += sizeof(sigs);
	static const uint8_t vers[] = {0, 43, 0, 3, 2, 3, 4};
	memcpy(p, vers, sizeof(vers));
	p += sizeof(vers);
	put16(p, 0x0033); /* key_share */
	put16(p + 2, share_len + 6);
	put16(p + 4, share_len + 4);
	put16(p + 6, L->group);
	put16(p + 8, share_len);
	memcpy(p + 10, share, share_len);
	p += 10 + share_len;
	put16(ext, (unsigned)(p - ext - 2));
	msg[0] = 1;
	put24(msg + 1, (size_t)(p - msg - 4));
	rec[0] = 22;
	put16(rec + 1, 0x0301);
	put16(rec + 3, (unsigned)(p - rec - 5));
	L->hello_len = (size_t)(p - L->hello);
	return 0;
}

/* secret -> AES-128-GCM key and IV */
static int
traffic_keys(const uint8_t *secret, uint8_t key[16], uint8_t iv[12])
{
	return hsk_hkdf_expand_label(HSK_HASH_SHA256, secret, "key", NULL, 0, key, 16) == HSK_OK &&
			       hsk_hkdf_expand_label(HSK_HASH_SHA256, secret, "iv", NULL, 0, iv, 12) == HSK_OK
		       ? 0
		       : -1;
}

/* One TLS 1.3 record: seal inner (plus its content type) into out. */
static size_t
seal(struct load *L, const uint8_t key[16], const uint8_t iv[12], uint64_t seq, uint8_t type, const uint8_t *in,
     size_t len, uint8_t *out)
{
	uint8_t nonce[12], pt[64];
	int n = 0, f = 0;

	memcpy(nonce, iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
	memcpy(pt, in, len);
	pt[len] = type;
	out[0] = 23;
	put16(out + 1, 0x0303);
	put16(out + 3, (unsigned)(len + 1 + 16));
	if (!EVP_EncryptInit_ex(L->aead, L->gcm, NULL, key, nonce) ||
	    !EVP_EncryptUpdate(L->aead, NULL, &n, out, 5) || !EVP_EncryptUpdate(L->aead, out + 5, &n, pt, (int)len + 1) ||
	    !EVP_EncryptFinal_ex(L->aead, out + 5 + n, &f) ||
	    !EVP_CIPHER_CTX_ctrl(L->aead, EVP_CTRL_GCM_GET_TAG, 16, out + 5 + len + 1))
		return 0;
	return 5 + len + 1 + 16;
}

/* Open the record rec (header included) in place; the inner content type
 * in *type, the plaintext at rec + 5, its length returned (-1: bad). */
static long
open_rec(struct load *L, struct conn *c, uint8_t *rec, size_t len, uint8_t *type)
{
	uint8_t nonce[12];
	int n = 0, f = 0;

	if (len < 5 + 17)
		return -1;
	memcpy(nonce, c->s_iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(c->s_seq >> (8 * i));
	c->s_seq++;
	size_t clen = len - 5 - 16;
	if (!EVP_DecryptInit_ex(L->aead, L->gcm, NULL, c->s_key, nonce) ||
	    !EVP_DecryptUpdate(L->aead, NULL, &n, rec, 5) ||
	    !EVP_DecryptUpdate(L->aead, rec + 5, &n, rec + 5, (int)clen) ||
	    !EVP_CIPHER_CTX_ctrl(L->aead, EVP_CTRL_GCM_SET_TAG, 16, rec + 5 + clen) ||
	    EVP_DecryptFinal_ex(L->aead, rec + 5 + n, &f) <= 0)
		return -1;
	while (clen > 0 && rec[5 + clen - 1] == 0)
		clen--;
	if (clen == 0)
		return -1;
	*type = rec[5 + clen - 1];
	return (long)clen - 1;
}

static void conn_start(struct load *L, struct conn *c);

static void
conn_end(struct load *L, struct conn *c, int err)
{
	if (c->fd >= 0) {
		epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (L->counting && c->counted) {
		if (err >= 0) {
			L->errors++;
			L->err_kind[err]++;
		} else {
			L->handshakes++;
			if (L->nlat == L->cap) {
				L->cap = L->cap ? 2 * L->cap : 65536;
				L->lat = realloc(L->lat, L->cap * sizeof(*L->lat));
				if (!L->lat)
					abort();
			}
			L->lat[L->nlat++] = (c->t_hs - c->t0) * 1e3;
		}
	}
	if (!L->stopping)
		conn_start(L, c);
}

static void
conn_start(struct load *L, struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(L->port)};
	struct linger lg = {1, 0};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->st = ST_CONNECTING;
	c->counted = L->counting;
	c->t0 = bench_now_s();
	c->in_len = c->hs_len = 0;
	c->s_seq = 0;
	EVP_DigestInit_ex(c->th, L->sha256, NULL);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		perror("socket");
		exit(2);
	}
	/* the client closes first: a reset, so runs leave no TIME_WAIT behind */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	epoll_ctl(L->epfd, EPOLL_CTL_ADD, c->fd, &ev);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		perror("h13load: connect"); /* nothing listens, or no port left: no load to make */
		exit(1);
	}
}

static bool
send_all(int fd, const uint8_t *p, size_t n)
{
	/* a ClientHello or the client's last flight: a few KB at most, which an
	 * empty socket buffer takes whole */
	return write(fd, p, n) == (ssize_t)n;
}

/* The ServerHello in c->hs: the shared secret, the handshake keys. */
static int
on_server_hello(struct load *L, struct conn *c, const uint8_t *m, size_t len)
{
	static const uint8_t hrr[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
					0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
					0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
	if (len < 2 + 32 + 1 || memcmp(m + 2, hrr, 32) == 0)
		return E_PROTO;
	size_t off = 34, sid = m[off];
	off += 1 + sid;
	if (off + 2 + 1 + 2 > len || get16(m + off) != 0x1301)
		return E_PROTO;
	off += 3;
	size_t end = off + 2 + get16(m + off);
	if (end > len)
		return E_PROTO;
	off += 2;
	const uint8_t *ks = NULL;
	size_t ks_len = 0;
	while (off + 4 <= end) {
		unsigned type = get16(m + off), elen = get16(m + off + 2);
		if (off + 4 + elen > end)
			return E_PROTO;
		if (type == 0x0033 && elen >= 4) {
			if (get16(m + off + 4) != L->group)
				return E_GROUP;
			ks = m + off + 8;
			ks_len = get16(m + off + 6);
			if (8 + ks_len > 4 + (size_t)elen)
				return E_PROTO;
		}
		off += 4 + elen;
	}
	size_t want = L->group == GROUP_HYBRID ? ACC_MLKEM768_CT_LEN + 32 : 32;
	if (!ks || ks_len != want)
		return E_PROTO;

	/* shared secret: ML-KEM secret || X25519 secret (the hybrid), or X25519 */
	uint8_t ss[ACC_MLKEM_SS_LEN + 32];
	size_t ss_len = 0, xlen = 32;
	if (L->group == GROUP_HYBRID) {
		if (acc_mlkem768_decaps(L->mk, L->mlkem_dk, sizeof(L->mlkem_dk), ks, ACC_MLKEM768_CT_LEN, ss) != 0)
			return E_CRYPTO;
		ss_len = ACC_MLKEM_SS_LEN;
		ks += ACC_MLKEM768_CT_LEN;
	}
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, ks, 32);
	int ok = peer && EVP_PKEY_derive_set_peer_ex(L->derive, peer, 0) > 0 &&
		 EVP_PKEY_derive(L->derive, ss + ss_len, &xlen) > 0 && xlen == 32;
	EVP_PKEY_free(peer);
	if (!ok)
		return E_CRYPTO;
	ss_len += 32;

	uint8_t th[HASH_LEN];
	EVP_MD_CTX *t = EVP_MD_CTX_new();
	ok = t && EVP_MD_CTX_copy_ex(t, c->th) && EVP_DigestFinal_ex(t, th, NULL);
	EVP_MD_CTX_free(t);
	if (!ok || hsk_hkdf_extract(HSK_HASH_SHA256, L->derived_early, HASH_LEN, ss, ss_len, c->hs_secret) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, c->hs_secret, "c hs traffic", th, c->c_hs) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, c->hs_secret, "s hs traffic", th, c->s_hs) != HSK_OK ||
	    traffic_keys(c->s_hs, c->s_key, c->s_iv) != 0)
		return E_CRYPTO;
	return -1;
}

/* The server's Finished (m: its body): check it, send ours and
 * close_notify under the application keys. */
static int
on_finished(struct load *L, struct conn *c, const uint8_t *m, size_t len)
{
	uint8_t th[HASH_LEN], fk[HASH_LEN], vd[HASH_LEN];
	size_t vlen = 0;
	EVP_MD_CTX *t = EVP_MD_CTX_new();
	int ok = t && EVP_MD_CTX_copy_ex(t, c->th) && EVP_DigestFinal_ex(t, th, NULL);

	EVP_MD_CTX_free(t);
	if (!ok || len != HASH_LEN ||
	    hsk_hkdf_expand_label(HSK_HASH_SHA256, c->s_hs, "finished", NULL, 0, fk, HASH_LEN) != HSK_OK ||
	    hsk_hmac(HSK_HASH_SHA256, fk, HASH_LEN, th, HASH_LEN, vd, &vlen) != HSK_OK)
		return E_CRYPTO;
	if (CRYPTO_memcmp(vd, m, HASH_LEN) != 0)
		return E_FINISHED;
	c->t_hs = bench_now_s();

	/* the transcript through the server's Finished */
	uint8_t hdr[4] = {20, 0, 0, HASH_LEN};
	if (!EVP_DigestUpdate(c->th, hdr, 4) || !EVP_DigestUpdate(c->th, m, len) ||
	    !EVP_DigestFinal_ex(c->th, th, NULL))
		return E_CRYPTO;
	uint8_t fin[4 + HASH_LEN] = {20, 0, 0, HASH_LEN}, derived[HASH_LEN], master[HASH_LEN], c_ap[HASH_LEN],
		s_ap[HASH_LEN], zeros[HASH_LEN] = {0}, key[16], iv[12];
	if (hsk_hkdf_expand_label(HSK_HASH_SHA256, c->c_hs, "finished", NULL, 0, fk, HASH_LEN) != HSK_OK ||
	    hsk_hmac(HSK_HASH_SHA256, fk, HASH_LEN, th, HASH_LEN, fin + 4, &vlen) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, c->hs_secret, "derived", L->empty_hash, derived) != HSK_OK ||
	    hsk_hkdf_extract(HSK_HASH_SHA256, derived, HASH_LEN, zeros, HASH_LEN, master) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, master, "c ap traffic", th, c_ap) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, master, "s ap traffic", th, s_ap) != HSK_OK)
		return E_CRYPTO;
	uint8_t out[2 * 64];
	size_t n = 0, k;
	if (traffic_keys(c->c_hs, key, iv) != 0 || !(k = seal(L, key, iv, 0, 22, fin, sizeof(fin), out)))
		return E_CRYPTO;
	n += k;
	static const uint8_t close_notify[2] = {1, 0};
	if (traffic_keys(c_ap, key, iv) != 0 || !(k = seal(L, key, iv, 0, 21, close_notify, 2, out + n)))
		return E_CRYPTO;
	n += k;
	if (!send_all(c->fd, out, n))
		return E_IO;
	/* what the server sends now is under its application keys */
	if (traffic_keys(s_ap, c->s_key, c->s_iv) != 0)
		return E_CRYPTO;
	c->s_seq = 0;
	c->st = ST_CLOSING;
	return -1;
}

/* Whole handshake messages in c->hs, through the server's Finished. -1 to
 * go on, else an error kind. */
static int
on_handshake(struct load *L, struct conn *c)
{
	size_t off = 0;
	int r;

	while (c->st != ST_CLOSING && off + 4 <= c->hs_len) {
		const uint8_t *m = c->hs + off;
		size_t len = get24(m + 1);
		if (off + 4 + len > c->hs_len)
			break;
		off += 4 + len;
		if (c->st == ST_SERVER_HELLO) {
			if (m[0] != 2 || !EVP_DigestUpdate(c->th, m, 4 + len))
				return E_PROTO;
			if ((r = on_server_hello(L, c, m + 4, len)) >= 0)
				return r;
			c->st = ST_FLIGHT;
			if (off != c->hs_len)
				return E_PROTO; /* the rest must come encrypted */
		} else if (m[0] == 20) {
			if ((r = on_finished(L, c, m + 4, len)) >= 0)
				return r;
		} else if (!EVP_DigestUpdate(c->th, m, 4 + len)) {
			return E_CRYPTO;
		}
	}
	memmove(c->hs, c->hs + off, c->hs_len - off);
	c->hs_len -= off;
	return -1;
}

/* Whole records in c->in. -1 to go on, -2 when the connection is done
 * cleanly, else an error kind. */
static int
on_records(struct load *L, struct conn *c)
{
	size_t off = 0;
	int r = -1;

	while (r == -1 && off + 5 <= c->in_len) {
		uint8_t *rec = c->in + off, type = rec[0];
		size_t len = 5 + get16(rec + 3);
		if (len > REC_MAX)
			return E_PROTO;
		if (off + len > c->in_len)
			break;
		off += len;
		if (type == 20) /* change_cipher_spec (compatibility mode) */
			continue;
		if (type == 21)
			return E_ALERT; /* in clear: the handshake failed */
		if (c->st == ST_SERVER_HELLO) {
			if (type != 22 || c->hs_len + len - 5 > HS_MAX)
				return E_PROTO;
			memcpy(c->hs + c->hs_len, rec + 5, len - 5);
			c->hs_len += len - 5;
			r = on_handshake(L, c);
			continue;
		}
		if (type != 23)
			return E_PROTO;
		uint8_t inner;
		long n = open_rec(L, c, rec, len, &inner);
		if (n < 0)
			return E_CRYPTO;
		if (c->st == ST_CLOSING) {
			if (inner == 21) /* its close_notify, or an alert about ours */
				r = n == 2 && rec[6] == 0 ? -1 : E_ALERT;
			continue; /* NewSessionTicket, if any */
		}
		if (inner != 22 || c->hs_len + (size_t)n > HS_MAX)
			return inner == 21 ? E_ALERT : E_PROTO;
		memcpy(c->hs + c->hs_len, rec + 5, (size_t)n);
		c->hs_len += (size_t)n;
		r = on_handshake(L, c);
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return r;
}

static void
on_event(struct load *L, struct conn *c, uint32_t ev)
{
	if (c->st == ST_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
			conn_end(L, c, E_CONNECT);
			return;
		}
		if (!(ev & EPOLLOUT))
			return;
		if (RAND_bytes(L->hello + L->random_off, 32) != 1) /* a fresh random per ClientHello */
			abort();
		if (!EVP_DigestUpdate(c->th, L->hello + 5, L->hello_len - 5) || !send_all(c->fd, L->hello, L->hello_len)) {
			conn_end(L, c, E_IO);
			return;
		}
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(L->epfd, EPOLL_CTL_MOD, c->fd, &e);
		c->st = ST_SERVER_HELLO;
		return;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0) {
			conn_end(L, c, c->st == ST_CLOSING ? -1 : E_EOF);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			conn_end(L, c, c->st == ST_CLOSING && errno == ECONNRESET ? -1 : E_IO);
			return;
		}
		c->in_len += (size_t)n;
		int r = on_records(L, c);
		if (r >= 0) {
			conn_end(L, c, r);
			return;
		}
	}
}

static long
server_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	long utime = 0, stime = 0;
	/* after ") ": state is field 3; utime and stime are 14 and 15 */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) != 2)
		return -1;
	return utime + stime;
}

/* Nanoseconds the threads of pid spent runnable but waiting for a CPU
 * (run_delay, /proc/PID/task/TID/schedstat): what another process on the
 * same core took from it. -1 when unreadable. */
static long long
run_delay_ns(int pid)
{
	char path[96];
	long long sum = 0, cpu, wait;
	struct dirent *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/schedstat", pid, d->d_name);
		FILE *f = fopen(path, "r");
		if (f && fscanf(f, "%lld %lld", &cpu, &wait) == 2)
			sum += wait;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return sum;
}

static double
cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void
run_until(struct load *L, struct conn *cs, double until)
{
	struct epoll_event ev[64];
	(void)cs;
	while (bench_now_s() < until) {
		int n = epoll_wait(L->epfd, ev, 64, 10);
		for (int i = 0; i < n; i++)
			on_event(L, ev[i].data.ptr, ev[i].events);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: h13load --port N --group x25519mlkem768|x25519 [--conns C] [--warmup S] "
			"[--duration S] [--server-pid PID]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct load L = {.conns = 16, .warmup = 1, .duration = 5};

	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(k, "--port"))
			L.port = (uint16_t)atoi(v);
		else if (!strcmp(k, "--group"))
			L.group = !strcasecmp(v, "x25519mlkem768") ? GROUP_HYBRID : !strcasecmp(v, "x25519") ? GROUP_X25519 : 0;
		else if (!strcmp(k, "--conns"))
			L.conns = atoi(v);
		else if (!strcmp(k, "--warmup"))
			L.warmup = atof(v);
		else if (!strcmp(k, "--duration"))
			L.duration = atof(v);
		else if (!strcmp(k, "--server-pid"))
			L.server_pid = atoi(v);
		else
			usage();
	}
	if (!L.port || !L.group || L.conns < 1 || L.duration <= 0)
		usage();

	uint8_t zeros[HASH_LEN] = {0}, early[HASH_LEN];
	unsigned hl = 0;
	L.mk = acc_mlkem_new();
	L.aead = EVP_CIPHER_CTX_new();
	L.epfd = epoll_create1(0);
	L.gcm = hsk_algs_cipher(HSK_CIPHER_AES128_GCM);
	L.sha256 = hsk_algs_md(HSK_HASH_SHA256);
	if (!L.mk || !L.aead || L.epfd < 0 || !L.gcm || !L.sha256 || build_hello(&L) != 0 ||
	    !(L.derive = EVP_PKEY_CTX_new_from_pkey(NULL, L.x25519, NULL)) || EVP_PKEY_derive_init(L.derive) <= 0 ||
	    !EVP_Digest("", 0, L.empty_hash, &hl, L.sha256, NULL) ||
	    hsk_hkdf_extract(HSK_HASH_SHA256, NULL, 0, zeros, HASH_LEN, early) != HSK_OK ||
	    hsk_hkdf_derive_secret(HSK_HASH_SHA256, early, "derived", L.empty_hash, L.derived_early) != HSK_OK) {
		fprintf(stderr, "h13load: setup failed\n");
		return 2;
	}
	struct conn *cs = calloc((size_t)L.conns, sizeof(*cs));
	if (!cs)
		return 2;
	for (int i = 0; i < L.conns; i++) {
		cs[i].fd = -1;
		cs[i].th = EVP_MD_CTX_new();
		conn_start(&L, &cs[i]);
	}
	run_until(&L, cs, bench_now_s() + L.warmup);

	long hz = sysconf(_SC_CLK_TCK);
	long s0 = L.server_pid ? server_ticks(L.server_pid) : -1;
	long long w0 = L.server_pid ? run_delay_ns(L.server_pid) : -1, cw0 = run_delay_ns(getpid());
	double c0 = cpu_s(), t0 = bench_now_s();
	L.counting = true;
	run_until(&L, cs, t0 + L.duration);
	double secs = bench_now_s() - t0, ccpu = cpu_s() - c0;
	long s1 = L.server_pid ? server_ticks(L.server_pid) : -1;
	long long w1 = L.server_pid ? run_delay_ns(L.server_pid) : -1, cw1 = run_delay_ns(getpid());
	L.counting = false;
	L.stopping = true;

	double *lat = L.lat;
	double p50 = 0, p99 = 0;
	if (L.nlat) {
		qsort(lat, L.nlat, sizeof(*lat), bench_cmp_d);
		p50 = lat[(size_t)(0.50 * (double)L.nlat)];
		p99 = lat[(size_t)(0.99 * (double)L.nlat)];
	}
	uint64_t n = L.handshakes;
	printf("{\"client\":\"h13load\",\"group\":\"%s\",\"procs\":1,\"conns\":%d,\"seconds\":%.3f,\"handshakes\":%llu,"
	       "\"errors\":%llu,\"errKinds\":{",
	       L.group == GROUP_HYBRID ? "X25519MLKEM768" : "X25519", L.conns, secs, (unsigned long long)n,
	       (unsigned long long)L.errors);
	bool first = true;
	for (size_t i = 0; i < sizeof(err_names) / sizeof(*err_names); i++)
		if (L.err_kind[i]) {
			printf("%s\"%s\":%llu", first ? "" : ",", err_names[i], (unsigned long long)L.err_kind[i]);
			first = false;
		}
	printf("},\"wrongGroup\":%llu,\"hsPerSec\":%.1f,\"p50ms\":%.3f,\"p99ms\":%.3f,\"clientUsPerHs\":%.1f,"
	       "\"clientCpuPct\":%.1f",
	       (unsigned long long)L.err_kind[E_GROUP], (double)n / secs, p50, p99, n ? ccpu * 1e6 / (double)n : 0.0,
	       ccpu * 100 / secs);
	if (cw0 >= 0 && cw1 >= 0)
		printf(",\"clientWaitPct\":%.1f", (double)(cw1 - cw0) / 1e7 / secs);
	if (w0 >= 0 && w1 >= 0)
		printf(",\"serverWaitPct\":%.1f", (double)(w1 - w0) / 1e7 / secs);
	if (s0 >= 0 && s1 >= 0)
		printf(",\"serverUsPerHs\":%.1f,\"serverCpuPct\":%.1f", n ? (double)(s1 - s0) * 1e6 / (double)hz / (double)n : 0.0,
		       (double)(s1 - s0) * 100 / (double)hz / secs);
	printf("}\n");
	for (int i = 0; i < L.conns; i++) {
		if (cs[i].fd >= 0)
			close(cs[i].fd);
		EVP_MD_CTX_free(cs[i].th);
	}
	free(cs);
	free(lat);
	OPENSSL_cleanse(L.mlkem_dk, sizeof(L.mlkem_dk));
	acc_mlkem_free(L.mk);
	EVP_PKEY_CTX_free(L.derive);
	EVP_PKEY_free(L.x25519);
	EVP_CIPHER_CTX_free(L.aead);
	return n == 0 || L.err_kind[E_GROUP] ? 1 : 0;
}
