/* A listener's TLS context: certificates, keys and policy, built once when
 * the configuration is loaded and then read-only, shared by every worker.
 * Everything expensive (certificate chains encoded as the Certificate
 * message body, keys parsed, algorithms fetched) happens here, never per
 * handshake. */
#ifndef HSK_CTX_H
#define HSK_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsk_names.h"
#include "hsk_ocsp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct acc_key;

#define HSK_MAX_SUITES 32
#define HSK_MAX_GROUPS 8
#define HSK_MAX_SIGALGS 16
/* Certificates per listener: masks of them are uint32_t (hsk_names.h). */
#define HSK_MAX_CERTS 32
#define HSK_MAX_ALPN 4
/* The largest ClientHello its grammar allows (RFC 5246 7.4.1.2, RFC 8446
 * 4.1.2): version, random, session_id<0..32>, cipher_suites<2..2^16-2>,
 * compression_methods<1..2^8-1>, extensions<0..2^16-1>. Clients do send
 * hellos close to it (every suite code point, a full extensions block). */
#define HSK_CLIENT_HELLO_MAX (2 + 32 + 1 + 32 + 2 + 65534 + 1 + 255 + 2 + 65535)
/* Largest handshake message by default: any well-formed ClientHello and
 * ordinary client certificate chains fit; the message buffer grows to it
 * only when a message needs it. At least one record's worth
 * (HSK_MIN_HS_MSG): the buffer starts there. */
#define HSK_MAX_HS_MSG_DEFAULT HSK_CLIENT_HELLO_MAX
#define HSK_MIN_HS_MSG (16u * 1024)

enum hsk_client_auth {
	HSK_CLIENT_AUTH_NONE = 0,
	HSK_CLIENT_AUTH_OPTIONAL = 1,
	HSK_CLIENT_AUTH_REQUIRE = 2,
};

/* TLS 1.3 PSK key exchange modes (RFC 8446 4.2.9), as a mask. */
enum {
	HSK_PSK_KE = 1 << 0,     /* psk_ke: no (EC)DHE, no forward secrecy */
	HSK_PSK_DHE_KE = 1 << 1, /* psk_dhe_ke */
};

struct hsk_cert {
	struct acc_key *key;
	int key_type;          /* enum acc_key_type */
	uint16_t group;        /* EC key: its NamedGroup */
	unsigned bits;
	void *leaf;            /* X509 * of the leaf */
	uint8_t *list;         /* the TLS 1.2 Certificate message body, encoded once:
	                        * u24 total || (u24 len || DER)*, leaf first */
	size_t list_len;
	uint8_t *list13;       /* the TLS 1.3 Certificate message body (RFC 8446 4.4.2):
	                        * empty context || u24 total || (u24 len || DER || u16 0)* */
	size_t list13_len;
	struct hsk_ocsp ocsp;  /* the stapled OCSP response, if any (hsk_ocsp.h) */
	uint8_t *list13_ocsp;  /* list13 with the leaf's status_request entry
	                        * extension (RFC 8446 4.4.2.1); NULL: no staple */
	size_t list13_ocsp_len;
};

/* What a certificate is loaded with besides its files. */
struct hsk_cert_opts {
	/* The names it serves; none: its subjectAltName DNS names, or its
	 * subject's commonName when it has none (RFC 6125 6.4.4). */
	const char *const *names;
	size_t n_names;
	const char *ocsp_path;   /* DER OCSP response to staple; NULL: none */
	uint64_t now;            /* wall clock (seconds since the epoch) for the OCSP check */
	char *warn;              /* set (non-empty) when the response is not stapled */
	size_t warnlen;
};

struct hsk_ctx {
	uint32_t id;           /* unique per context (hsk_ctx_init): sessions never cross listeners */
	uint16_t version_min;  /* 0x0303 or 0x0304 */
	uint16_t version_max;
	uint16_t suites[HSK_MAX_SUITES]; /* server preference order */
	size_t n_suites;
	uint16_t groups[HSK_MAX_GROUPS]; /* NamedGroups, preference order */
	size_t n_groups;
	uint16_t sigalgs[HSK_MAX_SIGALGS]; /* SignatureSchemes we sign with / accept */
	size_t n_sigalgs;
	struct hsk_cert certs[HSK_MAX_CERTS];
	size_t n_certs;
	/* Selection by server name (hsk_names.h): sorted by name. The
	 * default certificates serve a ClientHello without a name or with
	 * one we do not have: those of the first certificate's first name. */
	struct hsk_name *names;
	size_t n_names;
	uint32_t default_certs;
	char default_name[HSK_NAME_MAX + 1];
	const char *alpn[HSK_MAX_ALPN]; /* server preference, e.g. "http/1.1" */
	size_t n_alpn;
	int client_auth;       /* enum hsk_client_auth */
	void *ca_store;        /* X509_STORE * for client certificates */
	void *ca_names;        /* encoded certificate_authorities for CertificateRequest */
	size_t ca_names_len;
	bool resumption;       /* session IDs and tickets */
	uint32_t session_lifetime_s;
	struct hsk_tickets *tickets; /* shared ticket keys (hsk_ticket.h); NULL: no tickets */
	uint8_t tickets13;     /* NewSessionTicket messages after a TLS 1.3 handshake (default 2) */
	bool store13;          /* with a session store (hsk_store.h): TLS 1.3 tickets are identities of
				* its entries instead of sealed state (default off) */
	uint8_t psk_modes;     /* HSK_PSK_* accepted for TLS 1.3 resumption */
	uint32_t max_hs_msg;   /* largest handshake message body taken (HSK_MAX_HS_MSG_DEFAULT) */
};

/* Defaults: TLS 1.2..1.3, the default suites
 * of DESIGN.md, groups x25519, P-256, P-384, ffdhe2048, ffdhe3072, every
 * signature scheme, no client auth, resumption on, lifetime 300 s,
 * handshake messages up to HSK_MAX_HS_MSG_DEFAULT. */
void hsk_ctx_init(struct hsk_ctx *ctx);

/* Load a PEM certificate chain (leaf first) and its private key; checks
 * that they match. Returns 0 or -1 with a message naming the file. */
int hsk_ctx_add_cert(struct hsk_ctx *ctx, const char *cert_path, const char *key_path,
		     char *err, size_t errlen);

/* The same with names and an OCSP response (opts may be NULL). */
int hsk_ctx_add_cert_ex(struct hsk_ctx *ctx, const char *cert_path, const char *key_path,
			const struct hsk_cert_opts *opts, char *err, size_t errlen);

/* Client authentication with a PEM CA file. */
int hsk_ctx_set_client_auth(struct hsk_ctx *ctx, int mode, const char *ca_path,
			    char *err, size_t errlen);

/* Suite list from names (OpenSSL or IANA spelling) separated by ':' or ','
 * or a policy word: "modern", "intermediate", "old". */
int hsk_ctx_set_suites(struct hsk_ctx *ctx, const char *list, char *err, size_t errlen);

/* Groups (NamedGroup) and signature schemes (SignatureScheme) in
 * preference order; unknown values are refused. */
int hsk_ctx_set_groups(struct hsk_ctx *ctx, const uint16_t *ids, size_t n, char *err, size_t errlen);
int hsk_ctx_set_sigalgs(struct hsk_ctx *ctx, const uint16_t *ids, size_t n, char *err, size_t errlen);

void hsk_ctx_free(struct hsk_ctx *ctx);

/* The listener's version range narrowed to the versions it has a suite
 * for (a cipher list of TLS 1.2 suites only means TLS 1.2 only). */
void hsk_ctx_versions(const struct hsk_ctx *ctx, uint16_t *vmin, uint16_t *vmax);

#ifdef __cplusplus
}
#endif
#endif
