/* ClientHello decoding and the server's TLS 1.2 choices.
 *
 *   struct {
 *       ProtocolVersion client_version;
 *       Random random;
 *       SessionID session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       CompressionMethod compression_methods<1..2^8-1>;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ClientHello;                                  (RFC 5246 7.4.1.2) */
#include <string.h>

#include "acc_job.h"
#include "acc_key.h"
#include "hsk_buf.h"
#include "hsk_client_hello.h"
#include "hsk_ctx.h"
#include "hsk_names.h"
#include "hsk_suite.h"

#define ERR_DECODE HSK_ALERT(HSK_AD_DECODE_ERROR)
#define ERR_ILLEGAL HSK_ALERT(HSK_AD_ILLEGAL_PARAMETER)

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		hsk_err e_ = (expr);                                                               \
		if (e_ != HSK_OK)                                                                  \
			return e_;                                                                 \
	} while (0)

enum {
	EXT_SERVER_NAME = 0,
	EXT_STATUS_REQUEST = 5,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_SCT = 18,
	EXT_ENCRYPT_THEN_MAC = 22,
	EXT_EXTENDED_MASTER_SECRET = 23,
	EXT_SESSION_TICKET = 35,
	EXT_PRE_SHARED_KEY = 41,
	EXT_EARLY_DATA = 42,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_COOKIE = 44,
	EXT_PSK_KEY_EXCHANGE_MODES = 45,
	EXT_SIGNATURE_ALGORITHMS_CERT = 50,
	EXT_POST_HANDSHAKE_AUTH = 49,
	EXT_KEY_SHARE = 51,
	EXT_RENEGOTIATION_INFO = 0xff01,
};

static struct hsk_view
hsk_view_of(const struct hsk_rd *r)
{
	return (struct hsk_view){ r->cur, (size_t)(r->end - r->cur) };
}

/* A body that is exactly one vector: the view of its contents. */
static hsk_err
hsk_ch_list(struct hsk_rd *body, int lenbytes, size_t min, size_t max, size_t unit,
	    struct hsk_view *out)
{
	struct hsk_rd l;

	TRY(hsk_rd_vec(body, lenbytes, min, max, &l));
	TRY(hsk_rd_end(body));
	if (unit > 1 && hsk_rd_left(&l) % unit != 0)
		return ERR_DECODE;
	*out = hsk_view_of(&l);
	return HSK_OK;
}

/* server_name (RFC 6066 3): a ServerNameList with one host_name. */
static hsk_err
hsk_ch_sni(struct hsk_rd *body, struct hsk_client_hello *ch)
{
	struct hsk_rd list, name;
	uint8_t type;

	TRY(hsk_rd_vec(body, 2, 1, 0xffff, &list));
	TRY(hsk_rd_end(body));
	while (hsk_rd_left(&list) > 0) {
		TRY(hsk_rd_u8(&list, &type));
		TRY(hsk_rd_vec(&list, 2, 1, 0xffff, &name));
		if (type != 0)
			continue;
		if (ch->has_sni) /* one host_name at most (RFC 6066 3) */
			return ERR_ILLEGAL;
		if (hsk_rd_left(&name) > 255)
			return ERR_ILLEGAL;
		ch->sni_host = hsk_view_of(&name);
		ch->has_sni = true;
	}
	return HSK_OK;
}

static hsk_err
hsk_ch_alpn(struct hsk_rd *body, struct hsk_client_hello *ch)
{
	struct hsk_rd list, it, name;

	TRY(hsk_rd_vec(body, 2, 2, 0xffff, &list));
	TRY(hsk_rd_end(body));
	it = list;
	while (hsk_rd_left(&it) > 0) /* ProtocolName opaque<1..2^8-1> (RFC 7301 3.1) */
		TRY(hsk_rd_vec(&it, 1, 1, 255, &name));
	ch->alpn = hsk_view_of(&list);
	ch->has_alpn = true;
	return HSK_OK;
}

/* status_request (RFC 6066 8):
 *   struct {
 *       CertificateStatusType status_type;
 *       select (status_type) {
 *           case ocsp: OCSPStatusRequest;
 *       } request;
 *   } CertificateStatusRequest;
 *   struct {
 *       ResponderID responder_id_list<0..2^16-1>;
 *       Extensions  request_extensions;
 *   } OCSPStatusRequest;
 * Only ocsp(1) asks for what we staple; other types are ignored. */
static hsk_err
hsk_ch_status_request(struct hsk_rd *body, struct hsk_client_hello *ch)
{
	struct hsk_rd ids, exts, id;
	uint8_t type;

	TRY(hsk_rd_u8(body, &type));
	if (type != 1)
		return HSK_OK;
	TRY(hsk_rd_vec(body, 2, 0, 0xffff, &ids));
	while (hsk_rd_left(&ids) > 0) /* ResponderID opaque<1..2^16-1> */
		TRY(hsk_rd_vec(&ids, 2, 1, 0xffff, &id));
	TRY(hsk_rd_vec(body, 2, 0, 0xffff, &exts));
	TRY(hsk_rd_end(body));
	ch->status_request = true;
	return HSK_OK;
}

/* One extension; psk_offset is the offset of pre_shared_key's binders. */
static hsk_err
hsk_ch_ext(uint16_t type, struct hsk_rd *body, struct hsk_client_hello *ch, const uint8_t *msg)
{
	struct hsk_rd sub;

	switch (type) {
	case EXT_SERVER_NAME:
		return hsk_ch_sni(body, ch);
	case EXT_SUPPORTED_GROUPS:
		ch->has_groups = true;
		return hsk_ch_list(body, 2, 2, 0xfffe, 2, &ch->groups);
	case EXT_EC_POINT_FORMATS:
		/* uncompressed(0) is mandatory for TLS 1.2 ECC suites (RFC
		 * 8422 5.1.2, checked in hsk_srv12.c); TLS 1.3 ignores the
		 * extension (RFC 8446 4.2.7 fixes the point format). */
		ch->has_point_formats = true;
		return hsk_ch_list(body, 1, 1, 255, 1, &ch->point_formats);
	case EXT_SIGNATURE_ALGORITHMS:
		ch->has_sigalgs = true;
		return hsk_ch_list(body, 2, 2, 0xfffe, 2, &ch->sigalgs);
	case EXT_SIGNATURE_ALGORITHMS_CERT:
		return hsk_ch_list(body, 2, 2, 0xfffe, 2, &ch->sigalgs_cert);
	case EXT_ALPN:
		return hsk_ch_alpn(body, ch);
	case EXT_ENCRYPT_THEN_MAC:
		ch->etm = true;
		return hsk_rd_end(body);
	case EXT_EXTENDED_MASTER_SECRET:
		ch->ems = true;
		return hsk_rd_end(body);
	case EXT_RENEGOTIATION_INFO:
		ch->has_reneg_info = true;
		TRY(hsk_rd_vec(body, 1, 0, 255, &sub));
		ch->reneg_info = hsk_view_of(&sub);
		return hsk_rd_end(body);
	case EXT_SESSION_TICKET:
		ch->has_session_ticket = true;
		ch->session_ticket = hsk_view_of(body);
		return HSK_OK;
	case EXT_STATUS_REQUEST:
		return hsk_ch_status_request(body, ch);
	case EXT_SCT:
		ch->sct = true;
		return HSK_OK;
	case EXT_SUPPORTED_VERSIONS:
		ch->has_supported_versions = true;
		return hsk_ch_list(body, 1, 2, 254, 2, &ch->supported_versions);
	case EXT_KEY_SHARE:
		ch->has_key_share = true;
		return hsk_ch_list(body, 2, 0, 0xffff, 1, &ch->key_shares);
	case EXT_PSK_KEY_EXCHANGE_MODES:
		ch->has_psk_modes = true;
		return hsk_ch_list(body, 1, 1, 255, 1, &ch->psk_modes);
	case EXT_PRE_SHARED_KEY: {
		struct hsk_rd ids, binders;

		ch->has_psk = true;
		ch->psk = hsk_view_of(body);
		TRY(hsk_rd_vec(body, 2, 7, 0xffff, &ids));
		ch->psk_binders_offset = (size_t)(body->cur - msg);
		TRY(hsk_rd_vec(body, 2, 33, 0xffff, &binders));
		return hsk_rd_end(body);
	}
	case EXT_COOKIE:
		ch->has_cookie = true;
		return hsk_ch_list(body, 2, 1, 0xffff, 1, &ch->cookie);
	case EXT_EARLY_DATA:
		ch->early_data = true;
		return hsk_rd_end(body);
	case EXT_POST_HANDSHAKE_AUTH:
		ch->post_handshake_auth = true;
		return hsk_rd_end(body);
	default:
		return HSK_OK; /* unknown extensions are ignored (RFC 5246 7.4.1.4) */
	}
}

/* Extensions whose repetition we detect: every code point below 64 and
 * renegotiation_info. A repeat is illegal (RFC 5246 7.4.1.4, RFC 8446 4.2). */
static bool
hsk_ch_seen(uint64_t *seen, bool *seen_reneg, uint16_t type)
{
	uint64_t bit;

	if (type == EXT_RENEGOTIATION_INFO) {
		if (*seen_reneg)
			return true;
		*seen_reneg = true;
		return false;
	}
	if (type >= 64)
		return false;
	bit = (uint64_t)1 << type;
	if (*seen & bit)
		return true;
	*seen |= bit;
	return false;
}

hsk_err
hsk_client_hello_decode(const uint8_t *msg, size_t len, struct hsk_client_hello *ch)
{
	struct hsk_rd r = hsk_rd_make(msg, len), v, exts, body;
	uint64_t seen = 0;
	bool seen_reneg = false;
	size_t i;

	memset(ch, 0, sizeof(*ch));
	TRY(hsk_rd_u16(&r, &ch->legacy_version));
	TRY(hsk_rd_bytes(&r, 32, &ch->random));
	TRY(hsk_rd_vec(&r, 1, 0, 32, &v));
	ch->session_id = hsk_view_of(&v);
	TRY(hsk_rd_vec(&r, 2, 2, 0xfffe, &v));
	if (hsk_rd_left(&v) % 2 != 0)
		return ERR_DECODE;
	ch->suites = hsk_view_of(&v);
	TRY(hsk_rd_vec(&r, 1, 1, 255, &v));
	ch->compressions = hsk_view_of(&v);
	for (i = 0; i + 1 < ch->suites.len; i += 2) {
		uint16_t s = (uint16_t)(ch->suites.base[i] << 8 | ch->suites.base[i + 1]);
		ch->reneg_scsv |= s == 0x00ff;
		ch->fallback_scsv |= s == 0x5600;
	}
	if (hsk_rd_left(&r) == 0)
		return HSK_OK;
	ch->has_extensions = true;
	TRY(hsk_rd_vec(&r, 2, 0, 0xffff, &exts));
	TRY(hsk_rd_end(&r));
	ch->extensions = hsk_view_of(&exts);
	while (hsk_rd_left(&exts) > 0) {
		uint16_t type;

		if (ch->has_psk) /* pre_shared_key must be last (RFC 8446 4.2.11) */
			return ERR_ILLEGAL;
		TRY(hsk_rd_u16(&exts, &type));
		TRY(hsk_rd_vec(&exts, 2, 0, 0xffff, &body));
		if (hsk_ch_seen(&seen, &seen_reneg, type))
			return ERR_ILLEGAL;
		TRY(hsk_ch_ext(type, &body, ch, msg));
	}
	return HSK_OK;
}

size_t
hsk_view_pos16(struct hsk_view l, uint16_t v)
{
	for (size_t i = 0; i + 1 < l.len; i += 2)
		if ((uint16_t)(l.base[i] << 8 | l.base[i + 1]) == v)
			return i / 2;
	return SIZE_MAX;
}

bool
hsk_view_has16(struct hsk_view l, uint16_t v)
{
	return hsk_view_pos16(l, v) != SIZE_MAX;
}

hsk_err
hsk_client_hello_version(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx,
			 uint16_t *version)
{
	uint16_t best = 0, client_max = 0, vmin, vmax;

	hsk_ctx_versions(ctx, &vmin, &vmax);

	if (ch->has_supported_versions) {
		/* RFC 8446 4.2.1: the client's list, legacy_version ignored. */
		for (size_t i = 0; i + 1 < ch->supported_versions.len; i += 2) {
			uint16_t v = (uint16_t)(ch->supported_versions.base[i] << 8 |
						ch->supported_versions.base[i + 1]);
			if (v == 0x0303 || v == 0x0304) {
				if (v > client_max)
					client_max = v;
				if (v >= vmin && v <= vmax && v > best)
					best = v;
			}
		}
	} else {
		client_max = ch->legacy_version >= 0x0303 ? 0x0303 : ch->legacy_version;
		if (ch->legacy_version >= 0x0303 && vmin <= 0x0303)
			best = 0x0303;
	}
	/* SSLv3, TLS 1.0/1.1, or nothing within our min..max (RFC 5246 E.1). */
	if (best == 0)
		return HSK_ALERT(HSK_AD_PROTOCOL_VERSION);
	/* RFC 7507 3: a fallback retry while we support something higher. */
	if (ch->fallback_scsv && client_max < vmax)
		return HSK_ALERT(HSK_AD_INAPPROPRIATE_FALLBACK);
	*version = best;
	return HSK_OK;
}

/* Whether scheme can sign with cert's key. With curve_bound, an ECDSA
 * scheme must name the key's curve (as TLS 1.3 requires); without, any
 * ECDSA hash fits any curve, which is all TLS 1.2 asks (RFC 5246
 * 7.4.1.4.1, RFC 8422 5.1.1). */
static bool
hsk_sig_fits(uint16_t scheme, const struct hsk_cert *cert, bool curve_bound)
{
	switch (scheme) {
	case ACC_SIG_RSA_PKCS1_SHA1:
	case ACC_SIG_RSA_PKCS1_SHA256:
	case ACC_SIG_RSA_PKCS1_SHA384:
	case ACC_SIG_RSA_PKCS1_SHA512:
	case ACC_SIG_RSA_PSS_RSAE_SHA256:
	case ACC_SIG_RSA_PSS_RSAE_SHA384:
	case ACC_SIG_RSA_PSS_RSAE_SHA512:
		return cert->key_type == ACC_KEY_RSA;
	case ACC_SIG_ECDSA_SECP256R1_SHA256:
		return cert->key_type == ACC_KEY_EC && (!curve_bound || cert->group == ACC_GROUP_SECP256R1);
	case ACC_SIG_ECDSA_SECP384R1_SHA384:
		return cert->key_type == ACC_KEY_EC && (!curve_bound || cert->group == ACC_GROUP_SECP384R1);
	case ACC_SIG_ECDSA_SECP521R1_SHA512:
		return cert->key_type == ACC_KEY_EC && (!curve_bound || cert->group == ACC_GROUP_SECP521R1);
	default:
		return false;
	}
}

/* The first of our schemes the client accepts for this certificate:
 * one that names the key's curve if there is one, else any ECDSA hash. */
static uint16_t
hsk_choose_sigalg(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx,
		  const struct hsk_cert *cert)
{
	for (int curve_bound = 1; curve_bound >= 0; curve_bound--) {
		for (size_t i = 0; i < ctx->n_sigalgs; i++) {
			uint16_t s = ctx->sigalgs[i];

			if (!hsk_sig_fits(s, cert, curve_bound))
				continue;
			if (ch->has_sigalgs ? hsk_view_has16(ch->sigalgs, s)
					    /* RFC 5246 7.4.1.4.1: absent means {sha1, rsa/ecdsa} */
					    : s == ACC_SIG_RSA_PKCS1_SHA1)
				return s;
		}
	}
	return 0;
}

static bool
hsk_is_ffdhe(uint16_t g)
{
	return g == ACC_GROUP_FFDHE2048 || g == ACC_GROUP_FFDHE3072;
}

static bool
hsk_is_ec(uint16_t g)
{
	return g == ACC_GROUP_X25519 || g == ACC_GROUP_SECP256R1 || g == ACC_GROUP_SECP384R1 ||
	       g == ACC_GROUP_SECP521R1;
}

static uint16_t
hsk_choose_group(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx, int kx)
{
	bool client_ffdhe = false;

	if (kx == HSK_KX_DHE && ch->has_groups)
		for (size_t i = 0; i + 1 < ch->groups.len; i += 2)
			client_ffdhe |= hsk_is_ffdhe((uint16_t)(ch->groups.base[i] << 8 | ch->groups.base[i + 1]));
	for (size_t i = 0; i < ctx->n_groups; i++) {
		uint16_t g = ctx->groups[i];

		if (kx == HSK_KX_ECDHE && hsk_is_ec(g)) {
			/* No supported_groups: P-256 is assumed (RFC 8422 4). */
			if (ch->has_groups ? hsk_view_has16(ch->groups, g) : g == ACC_GROUP_SECP256R1)
				return g;
		}
		if (kx == HSK_KX_DHE && hsk_is_ffdhe(g)) {
			/* RFC 7919 4: a client listing no FFDHE group gets our first. */
			if (!client_ffdhe || hsk_view_has16(ch->groups, g))
				return g;
		}
	}
	return 0;
}

static bool
hsk_cert_fits(const struct hsk_client_hello *ch, const struct hsk_suite *s, const struct hsk_cert *c)
{
	if (s->auth == HSK_AUTH_RSA)
		return c->key_type == ACC_KEY_RSA;
	if (c->key_type != ACC_KEY_EC)
		return false;
	/* The certificate's curve must be one the client supports (RFC 8422 5.1). */
	return !ch->has_groups || hsk_view_has16(ch->groups, c->group);
}

void
hsk_client_hello_alpn(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx,
		      struct hsk_view *out)
{
	out->base = NULL;
	out->len = 0;
	if (!ch->has_alpn)
		return;
	for (size_t i = 0; i < ctx->n_alpn; i++) {
		size_t n = strlen(ctx->alpn[i]);
		struct hsk_rd r = hsk_rd_make(ch->alpn.base, ch->alpn.len), name;

		while (hsk_rd_left(&r) > 0 && hsk_rd_vec(&r, 1, 1, 255, &name) == HSK_OK) {
			if (hsk_rd_left(&name) == n && memcmp(name.cur, ctx->alpn[i], n) == 0) {
				*out = hsk_view_of(&name);
				return;
			}
		}
	}
}

hsk_err
hsk_client_hello_choose12(const struct hsk_client_hello *ch, const struct hsk_ctx *ctx,
			  struct hsk_choice *out)
{
	/* the server name picks the certificates; the suites pick among them */
	uint32_t allowed = hsk_names_select(ctx, ch->sni_host.base, ch->sni_host.len, ch->has_sni);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ctx->n_suites; i++) {
		const struct hsk_suite *s = hsk_suite_by_id(ctx->suites[i]);

		if (s == NULL || s->version != 0x0303 || !hsk_view_has16(ch->suites, s->id))
			continue;
		for (size_t c = 0; c < ctx->n_certs; c++) {
			const struct hsk_cert *cert = &ctx->certs[c];
			uint16_t group = 0, sig = 0;

			if (!(allowed >> c & 1) || !hsk_cert_fits(ch, s, cert))
				continue;
			if (s->kx != HSK_KX_RSA) {
				group = hsk_choose_group(ch, ctx, s->kx);
				sig = hsk_choose_sigalg(ch, ctx, cert);
				if (group == 0 || sig == 0)
					continue;
			}
			out->suite = s;
			out->cert = c;
			out->group = group;
			out->sigalg = sig;
			hsk_client_hello_alpn(ch, ctx, &out->alpn);
			return HSK_OK;
		}
	}
	return HSK_ALERT(HSK_AD_HANDSHAKE_FAILURE);
}
