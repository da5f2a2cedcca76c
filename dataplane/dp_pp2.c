/* PROXY protocol v2 header (dp_pp2.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "acc_key.h"
#include "dp_pp2.h"
#include "hsk_buf.h"
#include "hsk_conn.h"
#include "hsk_ctx.h"
#include "hsk_suite.h"

/* proxy-protocol.txt 2.2: the 12-byte signature, then version 2 with the
 * PROXY command, then TCP over IPv4 or IPv6. */
static const uint8_t dp_pp2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
#define DP_PP2_V2_PROXY 0x21
#define DP_PP2_TCP4 0x11
#define DP_PP2_TCP6 0x21

void
dp_pp2_tls_describe(const struct hsk_ctx *ctx, const struct hsk_conn *tls, struct dp_pp2_tls *out)
{
	struct hsk_conn_info info;
	const struct hsk_suite *suite;

	memset(out, 0, sizeof(*out));
	hsk_conn_info(tls, &info);
	out->client = DP_PP2_CLIENT_SSL;
	snprintf(out->version, sizeof(out->version), "%s", info.version == 0x0304 ? "TLSv1.3" : "TLSv1.2");
	suite = hsk_suite_by_id(info.suite);
	if (suite != NULL)
		snprintf(out->cipher, sizeof(out->cipher), "%s", suite->name);
	/* 2.2.6: CERT_SESS when the session ever had a client certificate,
	 * CERT_CONN when it came on this connection (a full handshake). */
	if (info.client_cert) {
		out->client |= DP_PP2_CLIENT_CERT_SESS;
		if (!info.resumed)
			out->client |= DP_PP2_CLIENT_CERT_CONN;
		out->verified = true; /* the engine refuses a certificate that fails */
	}
	memcpy(out->cn, info.client_cn, sizeof(out->cn));
	memcpy(out->sni, info.sni, sizeof(out->sni));
	memcpy(out->alpn, info.alpn, sizeof(out->alpn));
	if (!info.resumed && info.cert < ctx->n_certs) {
		const struct hsk_cert *cert = &ctx->certs[info.cert];
		int nid = cert->leaf != NULL ? X509_get_signature_nid((const X509 *)cert->leaf) : NID_undef;
		const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

		if (sn != NULL)
			snprintf(out->sig_alg, sizeof(out->sig_alg), "%s", sn);
		snprintf(out->key_alg, sizeof(out->key_alg), "%s%u", cert->key_type == ACC_KEY_EC ? "EC" : "RSA",
			 cert->bits);
	}
}

/* One TLV (2.2: type, 16-bit length, value) unless the value is empty. */
static void
dp_pp2_tlv(struct hsk_wr *w, uint8_t type, const char *value)
{
	size_t at;

	if (value[0] == '\0')
		return;
	hsk_wr_u8(w, type);
	at = hsk_wr_open(w, 2);
	hsk_wr_bytes(w, value, strlen(value));
	hsk_wr_close(w, at, 2);
}

/* 2.1: source then destination address, then source then destination
 * port, all in network byte order (sockaddr fields already are). */
static bool
dp_pp2_addresses(struct hsk_wr *w, const struct sockaddr *src, const struct sockaddr *dst)
{
	if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src, *d = (const struct sockaddr_in *)dst;

		hsk_wr_bytes(w, &s->sin_addr, 4);
		hsk_wr_bytes(w, &d->sin_addr, 4);
		hsk_wr_bytes(w, &s->sin_port, 2);
		hsk_wr_bytes(w, &d->sin_port, 2);
		return true;
	}
	if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src, *d = (const struct sockaddr_in6 *)dst;

		hsk_wr_bytes(w, &s->sin6_addr, 16);
		hsk_wr_bytes(w, &d->sin6_addr, 16);
		hsk_wr_bytes(w, &s->sin6_port, 2);
		hsk_wr_bytes(w, &d->sin6_port, 2);
		return true;
	}
	return false;
}

size_t
dp_pp2_header(uint8_t *buf, size_t cap, const struct sockaddr *src, const struct sockaddr *dst,
	      const struct dp_pp2_tls *tls)
{
	struct hsk_wr w;
	size_t len_at, ssl_at;

	hsk_wr_init(&w, buf, cap);
	hsk_wr_bytes(&w, dp_pp2_sig, sizeof(dp_pp2_sig));
	hsk_wr_u8(&w, DP_PP2_V2_PROXY);
	hsk_wr_u8(&w, src->sa_family == AF_INET ? DP_PP2_TCP4 : DP_PP2_TCP6);
	len_at = hsk_wr_open(&w, 2); /* bytes after these 16 */
	if (!dp_pp2_addresses(&w, src, dst))
		return 0;
	dp_pp2_tlv(&w, DP_PP2_TYPE_ALPN, tls->alpn);
	dp_pp2_tlv(&w, DP_PP2_TYPE_AUTHORITY, tls->sni);
	/* 2.2.6: struct pp2_tlv_ssl { u8 client; u32 verify; sub-TLVs }. */
	hsk_wr_u8(&w, DP_PP2_TYPE_SSL);
	ssl_at = hsk_wr_open(&w, 2);
	hsk_wr_u8(&w, tls->client);
	hsk_wr_u32(&w, tls->verified ? 0 : 1);
	dp_pp2_tlv(&w, DP_PP2_SUBTYPE_SSL_VERSION, tls->version);
	dp_pp2_tlv(&w, DP_PP2_SUBTYPE_SSL_CIPHER, tls->cipher);
	dp_pp2_tlv(&w, DP_PP2_SUBTYPE_SSL_SIG_ALG, tls->sig_alg);
	dp_pp2_tlv(&w, DP_PP2_SUBTYPE_SSL_KEY_ALG, tls->key_alg);
	dp_pp2_tlv(&w, DP_PP2_SUBTYPE_SSL_CN, tls->cn);
	hsk_wr_close(&w, ssl_at, 2);
	hsk_wr_close(&w, len_at, 2);
	return w.err ? 0 : w.len;
}
