/* Listener contexts: certificates, keys and policy, prepared once. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acc_job.h"
#include "acc_key.h"
#include "hsk_algs.h"
#include "hsk_conn_priv.h" /* HSK_OUT_CAP */
#include "hsk_ctx.h"
#include "hsk_suite.h"

static atomic_uint hsk_ctx_next_id = 1;

/* X25519MLKEM768 first (issue 17): TLS 1.3 only, where a client that
 * lists it gets it (hsk_srv13.c); TLS 1.2 never picks it. */
static const uint16_t hsk_default_groups[] = {
	ACC_GROUP_X25519MLKEM768, ACC_GROUP_X25519, ACC_GROUP_SECP256R1, ACC_GROUP_SECP384R1, ACC_GROUP_FFDHE2048,
	ACC_GROUP_FFDHE3072,
};

/* No SHA-1 by default; ECDSA first (cheaper to sign), PSS before PKCS#1.
 * Every ECDSA hash is listed: in TLS 1.2 any of them signs with any curve
 * (RFC 8422 5.1.1), so a P-256 key serves a client that only offers
 * ecdsa_secp521r1_sha512. */
static const uint16_t hsk_default_sigalgs[] = {
	ACC_SIG_ECDSA_SECP256R1_SHA256, ACC_SIG_ECDSA_SECP384R1_SHA384, ACC_SIG_ECDSA_SECP521R1_SHA512,
	ACC_SIG_RSA_PSS_RSAE_SHA256,    ACC_SIG_RSA_PSS_RSAE_SHA384,
	ACC_SIG_RSA_PSS_RSAE_SHA512,    ACC_SIG_RSA_PKCS1_SHA256,
	ACC_SIG_RSA_PKCS1_SHA384,       ACC_SIG_RSA_PKCS1_SHA512,
};

static const char *hsk_default_alpn = "http/1.1";

/* Suites of a policy word; NULL if the word is not a policy. */
static bool
hsk_policy_has(const char *word, const struct hsk_suite *s)
{
	if (strcasecmp(word, "modern") == 0)
		return s->version == 0x0304 ||
		       (s->kx == HSK_KX_ECDHE && s->mac == 0); /* ECDHE + AEAD */
	if (strcasecmp(word, "intermediate") == 0)
		return s->default_on;
	return true; /* "old": every suite we implement */
}

static bool
hsk_is_policy(const char *word)
{
	return strcasecmp(word, "modern") == 0 || strcasecmp(word, "intermediate") == 0 ||
	       strcasecmp(word, "old") == 0;
}

static void
hsk_ctx_policy(struct hsk_ctx *ctx, const char *word)
{
	size_t n;
	const struct hsk_suite *all = hsk_suite_all(&n);

	ctx->n_suites = 0;
	for (size_t i = 0; i < n && ctx->n_suites < HSK_MAX_SUITES; i++)
		if (hsk_policy_has(word, &all[i]))
			ctx->suites[ctx->n_suites++] = all[i].id;
}

void
hsk_ctx_init(struct hsk_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->id = atomic_fetch_add(&hsk_ctx_next_id, 1);
	ctx->version_min = 0x0303;
	ctx->version_max = 0x0304;
	hsk_ctx_policy(ctx, "intermediate");
	memcpy(ctx->groups, hsk_default_groups, sizeof(hsk_default_groups));
	ctx->n_groups = sizeof(hsk_default_groups) / sizeof(hsk_default_groups[0]);
	memcpy(ctx->sigalgs, hsk_default_sigalgs, sizeof(hsk_default_sigalgs));
	ctx->n_sigalgs = sizeof(hsk_default_sigalgs) / sizeof(hsk_default_sigalgs[0]);
	ctx->alpn[0] = hsk_default_alpn;
	ctx->n_alpn = 1;
	ctx->resumption = true;
	ctx->session_lifetime_s = 300;
	ctx->tickets13 = 2;
	ctx->psk_modes = HSK_PSK_DHE_KE;
	ctx->max_hs_msg = HSK_MAX_HS_MSG_DEFAULT;
	(void)hsk_algs_init();
}

/* Encode the chain once as the Certificate message body: TLS 1.2
 * (RFC 5246 7.4.2) and TLS 1.3 (RFC 8446 4.4.2: an empty request context,
 * and each entry followed by its extensions: leaf_ext for the leaf, an
 * already encoded Extension list, none for the others). */
static uint8_t *
hsk_cert_encode_one(STACK_OF(X509) *chain, bool tls13, const uint8_t *leaf_ext, size_t leaf_ext_len,
		    size_t *out_len)
{
	size_t total = 0, head = tls13 ? 4 : 3;
	int n = sk_X509_num(chain);
	uint8_t *buf, *p;

	for (int i = 0; i < n; i++) {
		int len = i2d_X509(sk_X509_value(chain, i), NULL);
		if (len <= 0)
			return NULL;
		total += 3 + (size_t)len + (tls13 ? 2 + (i == 0 ? leaf_ext_len : 0) : 0);
	}
	if (total > 0xffffff || leaf_ext_len > 0xffff)
		return NULL;
	buf = malloc(head + total);
	if (buf == NULL)
		return NULL;
	p = buf;
	if (tls13)
		*p++ = 0; /* certificate_request_context */
	p[0] = (uint8_t)(total >> 16);
	p[1] = (uint8_t)(total >> 8);
	p[2] = (uint8_t)total;
	p += 3;
	for (int i = 0; i < n; i++) {
		uint8_t *q = p + 3;
		int len = i2d_X509(sk_X509_value(chain, i), &q);
		size_t ext = i == 0 ? leaf_ext_len : 0;

		p[0] = (uint8_t)(len >> 16);
		p[1] = (uint8_t)(len >> 8);
		p[2] = (uint8_t)len;
		p = q;
		if (tls13) {
			*p++ = (uint8_t)(ext >> 8);
			*p++ = (uint8_t)ext;
			if (ext > 0)
				memcpy(p, leaf_ext, ext);
			p += ext;
		}
	}
	*out_len = head + total;
	return buf;
}

/* TLS 1.3's leaf entry with the staple: one status_request(5) extension
 * whose body is the CertificateStatus (RFC 8446 4.4.2.1). */
static int
hsk_cert_encode_ocsp13(struct hsk_cert *cert, STACK_OF(X509) *chain)
{
	size_t n = cert->ocsp.status_len;
	uint8_t *ext;

	if (cert->ocsp.status == NULL)
		return 0;
	ext = malloc(4 + n);
	if (ext == NULL)
		return -1;
	ext[0] = 0;
	ext[1] = 5; /* status_request */
	ext[2] = (uint8_t)(n >> 8);
	ext[3] = (uint8_t)n;
	memcpy(ext + 4, cert->ocsp.status, n);
	cert->list13_ocsp = hsk_cert_encode_one(chain, true, ext, 4 + n, &cert->list13_ocsp_len);
	free(ext);
	return cert->list13_ocsp != NULL ? 0 : -1;
}

static int
hsk_cert_encode(struct hsk_cert *cert, STACK_OF(X509) *chain)
{
	cert->list = hsk_cert_encode_one(chain, false, NULL, 0, &cert->list_len);
	cert->list13 = hsk_cert_encode_one(chain, true, NULL, 0, &cert->list13_len);
	if (cert->list == NULL || cert->list13 == NULL)
		return -1;
	return hsk_cert_encode_ocsp13(cert, chain);
}

/* The rest of a first flight at its largest: ServerHello (a hybrid key
 * share), ServerKeyExchange (ffdhe3072, an 8192-bit RSA signature),
 * CertificateRequest (up to 8192 bytes of CA names), EncryptedExtensions,
 * CertificateVerify, ServerHelloDone or Finished. */
#define HSK_FLIGHT_OTHERS (12u * 1024)

/* The whole first flight is written into the connection's output buffer
 * (HSK_OUT_CAP) before any of it is sent: a chain (with its staple) that
 * cannot fit would fail every handshake with internal_error. */
static bool
hsk_cert_fits(const struct hsk_cert *cert, size_t *need)
{
	/* TLS 1.2: Certificate and CertificateStatus (RFC 6066 8); TLS 1.3:
	 * Certificate, the staple in the leaf's extensions (RFC 8446 4.4.2.1) */
	size_t l12 = 4 + cert->list_len + (cert->ocsp.status != NULL ? 4 + cert->ocsp.status_len : 0);
	size_t l13 = 4 + (cert->list13_ocsp != NULL ? cert->list13_ocsp_len : cert->list13_len);
	size_t msgs = (l12 > l13 ? l12 : l13) + HSK_FLIGHT_OTHERS;
	size_t records = msgs / REC_MAX_PLAIN + 4; /* full records, and ServerHello, CCS, a last one... */

	*need = msgs + records * (REC_HDR_LEN + REC_MAX_OVERHEAD);
	return *need <= HSK_OUT_CAP;
}

static void
hsk_cert_free(struct hsk_cert *cert)
{
	acc_key_free(cert->key);
	X509_free(cert->leaf);
	free(cert->list);
	free(cert->list13);
	free(cert->list13_ocsp);
	hsk_ocsp_free(&cert->ocsp);
	memset(cert, 0, sizeof(*cert));
}

/* The OCSP response of a certificate being added (chain[0] its leaf). */
static int
hsk_cert_ocsp(struct hsk_cert *cert, STACK_OF(X509) *chain, const struct hsk_cert_opts *opts, char *err,
	      size_t errlen)
{
	X509 *issuer = sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : NULL;
	char warn[256];

	if (opts == NULL || opts->ocsp_path == NULL)
		return 0;
	if (hsk_ocsp_load(opts->ocsp_path, sk_X509_value(chain, 0), issuer, opts->now, &cert->ocsp, err,
			  errlen, warn, sizeof(warn)) != 0)
		return -1;
	if (warn[0] != 0 && opts->warn != NULL)
		snprintf(opts->warn, opts->warnlen, "%s: %s", opts->ocsp_path, warn);
	return 0;
}

int
hsk_ctx_add_cert(struct hsk_ctx *ctx, const char *cert_path, const char *key_path, char *err,
		 size_t errlen)
{
	return hsk_ctx_add_cert_ex(ctx, cert_path, key_path, NULL, err, errlen);
}

int
hsk_ctx_add_cert_ex(struct hsk_ctx *ctx, const char *cert_path, const char *key_path,
		    const struct hsk_cert_opts *opts, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	struct hsk_cert *cert;
	struct acc_key *key = NULL;
	X509 *x;
	FILE *f;
	size_t need;
	int rc = -1;

	if (opts != NULL && opts->warn != NULL && opts->warnlen > 0)
		opts->warn[0] = 0;
	if (ctx->n_certs == HSK_MAX_CERTS) {
		snprintf(err, errlen, "%s: more than %d certificates", cert_path, HSK_MAX_CERTS);
		return -1;
	}
	f = fopen(cert_path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open certificate file", cert_path);
		return -1;
	}
	chain = sk_X509_new_null();
	while (chain != NULL && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	fclose(f);
	ERR_clear_error();
	if (chain == NULL || sk_X509_num(chain) == 0) {
		snprintf(err, errlen, "%s: no PEM certificate", cert_path);
		goto out;
	}
	key = acc_key_load_pem(key_path, err, errlen);
	if (key == NULL)
		goto out;
	if (X509_check_private_key(sk_X509_value(chain, 0), acc_key_evp(key)) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: key does not match certificate %s", key_path, cert_path);
		goto out;
	}
	cert = &ctx->certs[ctx->n_certs];
	memset(cert, 0, sizeof(*cert));
	if (hsk_cert_ocsp(cert, chain, opts, err, errlen) != 0) {
		hsk_cert_free(cert);
		goto out;
	}
	if (hsk_cert_encode(cert, chain) != 0) {
		hsk_cert_free(cert);
		snprintf(err, errlen, "%s: cannot encode the chain", cert_path);
		goto out;
	}
	if (!hsk_cert_fits(cert, &need)) {
		snprintf(err, errlen,
			 "%s: the chain%s is too large for a first flight (%zu bytes with the rest of it, at most %zu)",
			 cert_path, cert->ocsp.status != NULL ? " with its OCSP response" : "", need,
			 (size_t)HSK_OUT_CAP);
		hsk_cert_free(cert);
		goto out;
	}
	if (hsk_names_add_cert(ctx, ctx->n_certs, sk_X509_value(chain, 0), opts ? opts->names : NULL,
			       opts ? opts->n_names : 0, err, errlen) != 0) {
		hsk_cert_free(cert);
		goto out;
	}
	cert->key = key;
	cert->key_type = acc_key_type(key);
	cert->group = acc_key_group(key);
	cert->bits = acc_key_bits(key);
	cert->leaf = sk_X509_shift(chain);
	ctx->n_certs++;
	key = NULL;
	rc = 0;
out:
	acc_key_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* certificate_authorities: DistinguishedName list (RFC 5246 7.4.4). */
static int
hsk_ctx_ca_names(struct hsk_ctx *ctx, STACK_OF(X509_OBJECT) *objs)
{
	size_t total = 0, off = 0;
	uint8_t *buf;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
			X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
			int len = x ? i2d_X509_NAME(X509_get_subject_name(x), NULL) : 0;

			if (len <= 0)
				continue;
			if (pass == 0) {
				total += 2 + (size_t)len;
				continue;
			}
			buf = (uint8_t *)ctx->ca_names + off;
			buf[0] = (uint8_t)(len >> 8);
			buf[1] = (uint8_t)len;
			buf += 2;
			i2d_X509_NAME(X509_get_subject_name(x), &buf);
			off += 2 + (size_t)len;
		}
		if (pass == 0) {
			if (total > 0xffff)
				total = 0; /* too many to list: send none (allowed) */
			ctx->ca_names = malloc(total ? total : 1);
			if (ctx->ca_names == NULL)
				return -1;
			if (total == 0)
				break;
		}
	}
	ctx->ca_names_len = total;
	return 0;
}

int
hsk_ctx_set_client_auth(struct hsk_ctx *ctx, int mode, const char *ca_path, char *err, size_t errlen)
{
	X509_STORE *store;

	ctx->client_auth = mode;
	if (mode == HSK_CLIENT_AUTH_NONE)
		return 0;
	if (ca_path == NULL) {
		snprintf(err, errlen, "client authentication needs a CA file");
		return -1;
	}
	store = X509_STORE_new();
	if (store == NULL || X509_STORE_load_file(store, ca_path) != 1) {
		ERR_clear_error();
		X509_STORE_free(store);
		snprintf(err, errlen, "%s: cannot load CA certificates", ca_path);
		return -1;
	}
	X509_STORE_free(ctx->ca_store);
	free(ctx->ca_names);
	ctx->ca_names = NULL;
	ctx->ca_store = store;
	if (hsk_ctx_ca_names(ctx, X509_STORE_get0_objects(store)) != 0) {
		snprintf(err, errlen, "%s: out of memory", ca_path);
		return -1;
	}
	return 0;
}

int
hsk_ctx_set_suites(struct hsk_ctx *ctx, const char *list, char *err, size_t errlen)
{
	char buf[2048], *tok, *save = NULL;
	uint16_t ids[HSK_MAX_SUITES];
	size_t n = 0;

	if (list == NULL || *list == '\0')
		return 0; /* engine default */
	if (hsk_is_policy(list)) {
		hsk_ctx_policy(ctx, list);
		return 0;
	}
	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "cipher list too long");
		return -1;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ":, ", &save); tok != NULL; tok = strtok_r(NULL, ":, ", &save)) {
		const struct hsk_suite *s = hsk_suite_by_name(tok);

		if (s == NULL) {
			snprintf(err, errlen, "unknown cipher suite '%s'", tok);
			return -1;
		}
		if (n == HSK_MAX_SUITES) {
			snprintf(err, errlen, "more than %d cipher suites", HSK_MAX_SUITES);
			return -1;
		}
		ids[n++] = s->id;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty cipher list");
		return -1;
	}
	memcpy(ctx->suites, ids, n * sizeof(ids[0]));
	ctx->n_suites = n;
	return 0;
}

static bool
hsk_known_group(uint16_t g)
{
	for (size_t i = 0; i < sizeof(hsk_default_groups) / sizeof(hsk_default_groups[0]); i++)
		if (hsk_default_groups[i] == g)
			return true;
	return false;
}

static bool
hsk_known_sigalg(uint16_t s)
{
	for (size_t i = 0; i < sizeof(hsk_default_sigalgs) / sizeof(hsk_default_sigalgs[0]); i++)
		if (hsk_default_sigalgs[i] == s)
			return true;
	return s == ACC_SIG_RSA_PKCS1_SHA1;
}

/* One setter serves both lists. */
static int
hsk_ctx_set_list(uint16_t *dst, size_t *dst_n, size_t cap, const uint16_t *ids, size_t n,
		 bool (*known)(uint16_t), const char *what, char *err, size_t errlen)
{
	if (n == 0)
		return 0; /* engine default */
	if (n > cap) {
		snprintf(err, errlen, "more than %zu %s", cap, what);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!known(ids[i])) {
			snprintf(err, errlen, "unsupported %s 0x%04x", what, ids[i]);
			return -1;
		}
	}
	memcpy(dst, ids, n * sizeof(ids[0]));
	*dst_n = n;
	return 0;
}

int
hsk_ctx_set_groups(struct hsk_ctx *ctx, const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	return hsk_ctx_set_list(ctx->groups, &ctx->n_groups, HSK_MAX_GROUPS, ids, n, hsk_known_group,
				"groups", err, errlen);
}

int
hsk_ctx_set_sigalgs(struct hsk_ctx *ctx, const uint16_t *ids, size_t n, char *err, size_t errlen)
{
	return hsk_ctx_set_list(ctx->sigalgs, &ctx->n_sigalgs, HSK_MAX_SIGALGS, ids, n,
				hsk_known_sigalg, "signature schemes", err, errlen);
}

void
hsk_ctx_free(struct hsk_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_certs; i++)
		hsk_cert_free(&ctx->certs[i]);
	hsk_names_free(ctx);
	X509_STORE_free(ctx->ca_store);
	free(ctx->ca_names);
	memset(ctx, 0, sizeof(*ctx));
}

/* The listener's version range narrowed to the versions it has a suite
 * for: a cipher list of TLS 1.2 suites only means TLS 1.2 only. */
void
hsk_ctx_versions(const struct hsk_ctx *ctx, uint16_t *vmin, uint16_t *vmax)
{
	bool has12 = false, has13 = false;

	for (size_t i = 0; i < ctx->n_suites; i++) {
		const struct hsk_suite *s = hsk_suite_by_id(ctx->suites[i]);
		if (s != NULL && s->version == 0x0304)
			has13 = true;
		else if (s != NULL)
			has12 = true;
	}
	*vmin = ctx->version_min;
	*vmax = ctx->version_max;
	if (*vmax == 0x0304 && !has13)
		*vmax = 0x0303;
	if (*vmin <= 0x0303 && !has12)
		*vmin = 0x0304;
}
