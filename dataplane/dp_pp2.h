/* The PROXY protocol version 2 header (haproxy's doc/proxy-protocol.txt,
 * section 2.2) that proxy mode may send to a backend before the client's
 * bytes: the client's and our addresses, and TLVs describing the TLS
 * connection (PP2_TYPE_ALPN, PP2_TYPE_AUTHORITY for SNI, PP2_TYPE_SSL with
 * the version, cipher, certificate signature and key algorithms, the
 * client certificate's verify result and CN). Written with the
 * bounds-checked writer of hsk_buf.h. */
#ifndef DP_PP2_H
#define DP_PP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_ctx;
struct hsk_conn;

/* Type codes (proxy-protocol.txt 2.2). */
enum {
	DP_PP2_TYPE_ALPN = 0x01,
	DP_PP2_TYPE_AUTHORITY = 0x02,
	DP_PP2_TYPE_SSL = 0x20,
	DP_PP2_SUBTYPE_SSL_VERSION = 0x21,
	DP_PP2_SUBTYPE_SSL_CN = 0x22,
	DP_PP2_SUBTYPE_SSL_CIPHER = 0x23,
	DP_PP2_SUBTYPE_SSL_SIG_ALG = 0x24,
	DP_PP2_SUBTYPE_SSL_KEY_ALG = 0x25,
	DP_PP2_CLIENT_SSL = 0x01,
	DP_PP2_CLIENT_CERT_CONN = 0x02,
	DP_PP2_CLIENT_CERT_SESS = 0x04,
};

/* Largest header we write: 16 + 36 (IPv6) + ALPN, SNI and the SSL TLV. */
#define DP_PP2_MAX 1024

/* What the TLVs say; empty strings are left out. */
struct dp_pp2_tls {
	uint8_t client;        /* DP_PP2_CLIENT_* */
	bool verified;         /* a client certificate was verified (verify field 0) */
	char version[8];       /* "TLSv1.3" */
	char cipher[64];       /* OpenSSL name: "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256" */
	char sig_alg[32];      /* our certificate's signature: "RSA-SHA256" */
	char key_alg[16];      /* our certificate's key: "RSA2048", "EC256" */
	char cn[65];           /* client certificate's subject CN */
	char sni[256];
	char alpn[32];
};

/* The TLS facts of an established connection served from ctx. The
 * certificate algorithms are known on full handshakes only (a resumed one
 * sends no certificate). */
void dp_pp2_tls_describe(const struct hsk_ctx *ctx, const struct hsk_conn *tls, struct dp_pp2_tls *out);

/* The header for a TCP connection from src to dst (AF_INET or AF_INET6,
 * the same family) into buf; its length, or 0 when it does not fit or the
 * family is neither. */
size_t dp_pp2_header(uint8_t *buf, size_t cap, const struct sockaddr *src, const struct sockaddr *dst,
		     const struct dp_pp2_tls *tls);

#ifdef __cplusplus
}
#endif
#endif
