/* ClientHello decoding (RFC 5246 7.4.1.2, RFC 8446 4.1.2) and the server's
 * choices from it. Decoded fields are views into the message body, which
 * must outlive the struct. */
#ifndef HSK_CLIENT_HELLO_H
#define HSK_CLIENT_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsk_err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hsk_ctx;
struct hsk_suite;

/* A view: base[0..len). */
struct hsk_view {
	const uint8_t *base;
	size_t len;
};

struct hsk_client_hello {
	uint16_t legacy_version;
	const uint8_t *random;          /* 32 bytes */
	struct hsk_view session_id;     /* 0..32 bytes */
	struct hsk_view suites;         /* CipherSuite list, 2 bytes each */
	struct hsk_view compressions;   /* CompressionMethod list */
	struct hsk_view extensions;     /* the whole extensions block (may be empty) */
	bool has_extensions;

	/* Extensions, views of their bodies (inner lists without their length
	 * prefix where the extension is a single list). */
	struct hsk_view sni_host;       /* server_name(0): the host_name */
	bool has_sni;
	struct hsk_view groups;         /* supported_groups(10): NamedGroup list */
	bool has_groups;
	struct hsk_view point_formats;  /* ec_point_formats(11) */
	bool has_point_formats;
	struct hsk_view sigalgs;        /* signature_algorithms(13): SignatureScheme list */
	bool has_sigalgs;
	struct hsk_view sigalgs_cert;   /* signature_algorithms_cert(50) */
	struct hsk_view alpn;           /* application_layer_protocol_negotiation(16): ProtocolNameList contents */
	bool has_alpn;
	bool ems;                       /* extended_master_secret(23) */
	bool etm;                       /* encrypt_then_mac(22) */
	bool has_reneg_info;            /* renegotiation_info(0xff01) */
	struct hsk_view reneg_info;     /* renegotiated_connection */
	bool reneg_scsv;                /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00ff) in suites */
	bool fallback_scsv;             /* TLS_FALLBACK_SCSV (0x5600) in suites */
	bool has_session_ticket;        /* session_ticket(35) */
	struct hsk_view session_ticket;
	bool status_request;            /* status_request(5) of type ocsp */
	bool sct;                       /* signed_certificate_timestamp(18) */
	/* TLS 1.3 */
	bool has_supported_versions;
	struct hsk_view supported_versions; /* supported_versions(43): version list */
	bool has_key_share;
	struct hsk_view key_shares;     /* key_share(51): KeyShareEntry list */
	bool has_psk_modes;
	struct hsk_view psk_modes;      /* psk_key_exchange_modes(45) */
	bool has_psk;
	struct hsk_view psk;            /* pre_shared_key(41): whole body; must be last */
	size_t psk_binders_offset;      /* offset in the message body where binders start */
	bool has_cookie;
	struct hsk_view cookie;         /* cookie(44): the cookie */
	bool early_data;                /* early_data(42) */
	bool post_handshake_auth;       /* post_handshake_auth(49) */
};

/* Decode a ClientHello body (after the 4-byte handshake header).
 * decode_error for any malformed length or vector, illegal_parameter for a
 * repeated extension or an extension whose contents are invalid (RFC 8446
 * 4.2, RFC 5246 7.4.1.4), decode_error for trailing bytes. Rules that
 * depend on the version (ec_point_formats) are the caller's. */
HSK_MUST_CHECK hsk_err hsk_client_hello_decode(const uint8_t *body, size_t len,
					       struct hsk_client_hello *ch);

/* Highest protocol version both sides accept (0x0303 or 0x0304), from
 * supported_versions when present, else legacy_version. protocol_version
 * alert when none (SSLv3, TLS 1.0, TLS 1.1 clients, or outside ctx's
 * min/max); inappropriate_fallback for TLS_FALLBACK_SCSV when we could do
 * better (RFC 7507). */
HSK_MUST_CHECK hsk_err hsk_client_hello_version(const struct hsk_client_hello *ch,
						const struct hsk_ctx *ctx, uint16_t *version);

/* The server's choices for a TLS 1.2 full handshake. */
struct hsk_choice {
	const struct hsk_suite *suite;
	size_t cert;        /* index into ctx->certs */
	uint16_t group;     /* ECDHE/DHE group; 0 for static RSA */
	uint16_t sigalg;    /* SignatureScheme for ServerKeyExchange; 0 for static RSA */
	struct hsk_view alpn; /* chosen protocol name, empty if none */
};

/* Server-preference negotiation: the first suite in ctx->suites that the
 * client offers, that the version allows and for which a certificate, a
 * common group (ECDHE: the client's supported_groups, or P-256 when absent
 * per RFC 4492 4; DHE: an ffdhe group when the client lists one or lists
 * none at all, RFC 7919 4) and a common signature scheme (the client's
 * signature_algorithms, or {sha1,rsa/ecdsa} by RFC 5246 7.4.1.4.1 when
 * absent) exist. ALPN: the first of ctx->alpn the client offers; none
 * (no ALPN in ServerHello, as nginx does) when nothing matches.
 * handshake_failure when no suite fits. */
HSK_MUST_CHECK hsk_err hsk_client_hello_choose12(const struct hsk_client_hello *ch,
						 const struct hsk_ctx *ctx,
						 struct hsk_choice *out);

/* ALPN alone (also for an abbreviated handshake): the first of ctx->alpn
 * the client offers, or an empty view. */
void hsk_client_hello_alpn(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx,
			   struct hsk_view *out);

/* Whether a 2-byte code point list (suites, groups, schemes) holds v. */
bool hsk_view_has16(struct hsk_view list, uint16_t v);
/* Index of v in a list of 16-bit values, SIZE_MAX if absent. */
size_t hsk_view_pos16(struct hsk_view list, uint16_t v);

#ifdef __cplusplus
}
#endif
#endif
