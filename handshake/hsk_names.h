/* Certificate selection by server name (RFC 6066 3): a listener's names,
 * exact ("www.example.com") and one-label wildcards ("*.example.com",
 * RFC 6125 6.4.3), each naming the set of certificates that serve it (an
 * RSA and an ECDSA one, say). Built once at configuration load into a
 * sorted table; a ClientHello's host_name is looked up with two binary
 * searches and no allocation. */
#ifndef HSK_NAMES_H
#define HSK_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_ctx;

#define HSK_NAME_MAX 255 /* a DNS name (RFC 1035 2.3.4), and HostName<1..2^16-1> as sent */

struct hsk_name {
	char name[HSK_NAME_MAX + 1]; /* lower case; "*.example.com" for a wildcard */
	uint32_t certs;              /* bit i: ctx->certs[i] serves this name */
};

/* Whether name (len bytes) is a name a certificate may be selected by:
 * LDH labels and dots, no empty label, at most HSK_NAME_MAX bytes, and a
 * '*' only as the whole first label of a name with at least two more
 * labels ("*.example.com", not "*.com" nor "f*.example.com"). */
bool hsk_name_valid(const char *name, size_t len);

/* Whether a server name (as sent, any case) matches a certificate name
 * (lower case, as stored): equal ignoring case, or the wildcard's one
 * label. RFC 6125 6.4.3: "*.example.com" matches "a.example.com", not
 * "example.com" nor "a.b.example.com". */
bool hsk_name_match(const char *pattern, const uint8_t *host, size_t len);

/* Load time: certificate cert (index in ctx->certs) serves name. The name
 * is checked (hsk_name_valid) and lowered; a name served by several
 * certificates gets one entry with several bits. 0, or -1 with a message. */
int hsk_names_add(struct hsk_ctx *ctx, size_t cert, const char *name, char *err, size_t errlen);

/* Load time: the names of certificate cert (index in ctx->certs, leaf an
 * X509 *): names[0..n) when given, else the leaf's subjectAltName DNS
 * entries (ones we cannot select by, e.g. "f*.example.com", are skipped),
 * else its subject's commonName. Then the default set is brought up to
 * date. 0, or -1 with a message. */
int hsk_names_add_cert(struct hsk_ctx *ctx, size_t cert, void *leaf, const char *const *names, size_t n,
		       char *err, size_t errlen);

/* The certificates to choose among for a ClientHello (a mask of
 * ctx->certs): those of the exact name, else those of the wildcard of its
 * parent, else the default ones (ctx->default_certs). A context with no
 * name table offers every certificate. */
uint32_t hsk_names_select(const struct hsk_ctx *ctx, const uint8_t *host, size_t len, bool has_sni);

/* A 32-bit digest of the server name, case folded, 0 without one: what a
 * session keeps of the name it was made for, so it resumes only for the
 * same name (RFC 6066 3). FNV-1a: the client offers its own session, the
 * check keeps honest clients from resuming across names, not a defence
 * against collisions. */
uint32_t hsk_names_digest(const uint8_t *host, size_t len, bool has_sni);

/* Whether a session made for the name of digest sess resumes under a
 * ClientHello whose name has digest hello. RFC 6066 3: not when the
 * server_name "contains a different name"; a ClientHello without one
 * names nothing different (OpenSSL resumes it too). A session made
 * without a name is not resumed under one: that name might have its own
 * certificate. */
bool hsk_names_resumable(uint32_t sess, uint32_t hello);

void hsk_names_free(struct hsk_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
