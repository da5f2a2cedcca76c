/* Certificate selection by server name (hsk_names.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hsk_ctx.h"
#include "hsk_names.h"

static char
hsk_lower(uint8_t ch)
{
	return (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
}

/* A label of letters, digits and hyphens (RFC 1035 2.3.1, RFC 5890's
 * A-labels included: they are LDH too). Underscores are taken: names such
 * as "_acme.example.com" exist in the wild and hurt nobody here. */
static bool
hsk_label_ok(const char *p, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = hsk_lower((uint8_t)p[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

bool
hsk_name_valid(const char *name, size_t len)
{
	size_t labels = 0, start = 0;
	bool wild = len >= 2 && name[0] == '*' && name[1] == '.';

	if (len == 0 || len > HSK_NAME_MAX)
		return false;
	if (wild)
		start = 2;
	for (size_t i = start; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (!hsk_label_ok(name + start, i - start))
			return false;
		labels++;
		start = i + 1;
	}
	/* RFC 6125 7.2: a wildcard over a public suffix is refused by clients;
	 * "*.com" is not a name to select by either. */
	return !wild || labels >= 2;
}

bool
hsk_name_match(const char *pattern, const uint8_t *host, size_t len)
{
	size_t plen = strlen(pattern), first = 0;

	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* the wildcard stands for exactly the first label, a non-empty one */
		while (first < len && host[first] != '.')
			first++;
		if (first == 0 || first == len)
			return false;
		pattern++;
		plen--;
	}
	if (len - first != plen)
		return false;
	for (size_t i = 0; i < plen; i++)
		if (hsk_lower(host[first + i]) != pattern[i])
			return false;
	return true;
}

/* Index of name in the sorted table, or where it would go (*found false). */
static size_t
hsk_names_find(const struct hsk_ctx *ctx, const char *name, bool *found)
{
	size_t lo = 0, hi = ctx->n_names;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(ctx->names[mid].name, name);

		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
hsk_names_add(struct hsk_ctx *ctx, size_t cert, const char *name, char *err, size_t errlen)
{
	char low[HSK_NAME_MAX + 1];
	size_t len = strlen(name), at;
	struct hsk_name *grown;
	bool found;

	if (cert >= HSK_MAX_CERTS || !hsk_name_valid(name, len)) {
		snprintf(err, errlen, "'%s' is not a name to select a certificate by", name);
		return -1;
	}
	for (size_t i = 0; i <= len; i++)
		low[i] = hsk_lower((uint8_t)name[i]);
	at = hsk_names_find(ctx, low, &found);
	if (found) {
		ctx->names[at].certs |= (uint32_t)1 << cert;
		return 0;
	}
	grown = realloc(ctx->names, (ctx->n_names + 1) * sizeof(*grown));
	if (grown == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctx->names = grown;
	memmove(&grown[at + 1], &grown[at], (ctx->n_names - at) * sizeof(*grown));
	memcpy(grown[at].name, low, len + 1);
	grown[at].certs = (uint32_t)1 << cert;
	ctx->n_names++;
	return 0;
}

/* The default set: every certificate serving the first certificate's
 * first name (its RSA and ECDSA twins), and the first certificate itself
 * even when it has no name. Recomputed as certificates are added. */
static void
hsk_names_default(struct hsk_ctx *ctx)
{
	bool found;
	size_t at;

	ctx->default_certs = 1;
	if (ctx->default_name[0] == 0)
		return;
	at = hsk_names_find(ctx, ctx->default_name, &found);
	if (found)
		ctx->default_certs |= ctx->names[at].certs;
}

/* One name of a certificate; the first one of the first certificate is
 * the default name. */
static int
hsk_names_add_one(struct hsk_ctx *ctx, size_t cert, const char *name, char *err, size_t errlen)
{
	if (hsk_names_add(ctx, cert, name, err, errlen) != 0)
		return -1;
	if (cert == 0 && ctx->default_name[0] == 0)
		for (size_t i = 0; i <= strlen(name); i++)
			ctx->default_name[i] = hsk_lower((uint8_t)name[i]);
	return 0;
}

/* subjectAltName dNSName entries (RFC 5280 4.2.1.6); *added counts them. */
static int
hsk_names_from_san(struct hsk_ctx *ctx, size_t cert, X509 *leaf, size_t *added, char *err, size_t errlen)
{
	GENERAL_NAMES *san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int rc = 0;

	*added = 0;
	for (int i = 0; san != NULL && i < sk_GENERAL_NAME_num(san) && rc == 0; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, i);
		const char *dns;
		int len;

		if (gn->type != GEN_DNS)
			continue;
		dns = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		if (len <= 0 || memchr(dns, 0, (size_t)len) != NULL || !hsk_name_valid(dns, (size_t)len))
			continue; /* a name no client can send (embedded NUL, partial wildcard) */
		{
			char name[HSK_NAME_MAX + 1];

			memcpy(name, dns, (size_t)len);
			name[len] = 0;
			rc = hsk_names_add_one(ctx, cert, name, err, errlen);
		}
		(*added)++;
	}
	GENERAL_NAMES_free(san);
	return rc;
}

/* A certificate that failed to load leaves no name behind: its bit goes,
 * and the entries that only it served. */
static void
hsk_names_forget(struct hsk_ctx *ctx, size_t cert)
{
	size_t kept = 0;

	for (size_t i = 0; i < ctx->n_names; i++) {
		ctx->names[i].certs &= ~((uint32_t)1 << cert);
		if (ctx->names[i].certs != 0)
			ctx->names[kept++] = ctx->names[i];
	}
	ctx->n_names = kept;
	if (cert == 0)
		ctx->default_name[0] = 0;
}

static int
hsk_names_of(struct hsk_ctx *ctx, size_t cert, X509 *leaf, const char *const *names, size_t n, char *err,
	     size_t errlen)
{
	char cn[HSK_NAME_MAX + 1];
	size_t added = 0;
	int len;

	for (size_t i = 0; i < n; i++)
		if (hsk_names_add_one(ctx, cert, names[i], err, errlen) != 0)
			return -1;
	if (n == 0 && hsk_names_from_san(ctx, cert, leaf, &added, err, errlen) != 0)
		return -1;
	if (n == 0 && added == 0) {
		len = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof(cn));
		if (len > 0 && (size_t)len < sizeof(cn) && hsk_name_valid(cn, (size_t)len) &&
		    hsk_names_add_one(ctx, cert, cn, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int
hsk_names_add_cert(struct hsk_ctx *ctx, size_t cert, void *leaf, const char *const *names, size_t n,
		   char *err, size_t errlen)
{
	int rc = hsk_names_of(ctx, cert, leaf, names, n, err, errlen);

	if (rc != 0)
		hsk_names_forget(ctx, cert);
	hsk_names_default(ctx);
	return rc;
}

uint32_t
hsk_names_select(const struct hsk_ctx *ctx, const uint8_t *host, size_t len, bool has_sni)
{
	char key[HSK_NAME_MAX + 1];
	size_t first = 0, at;
	bool found;

	if (ctx->n_names == 0)
		return ctx->n_certs >= 32 ? UINT32_MAX : ((uint32_t)1 << ctx->n_certs) - 1;
	if (!has_sni || len == 0 || len > HSK_NAME_MAX)
		return ctx->default_certs;
	for (size_t i = 0; i < len; i++) {
		if (host[i] == 0 || host[i] == '*') /* no name of ours has them */
			return ctx->default_certs;
		key[i] = hsk_lower(host[i]);
	}
	key[len] = 0;
	at = hsk_names_find(ctx, key, &found);
	if (found)
		return ctx->names[at].certs;
	/* "*.example.com" for "a.example.com": the first label replaced. */
	while (first < len && key[first] != '.')
		first++;
	if (first == 0 || first >= len - 1)
		return ctx->default_certs;
	key[first - 1] = '*';
	at = hsk_names_find(ctx, key + first - 1, &found);
	return found ? ctx->names[at].certs : ctx->default_certs;
}

uint32_t
hsk_names_digest(const uint8_t *host, size_t len, bool has_sni)
{
	uint32_t h = 2166136261u;

	if (!has_sni)
		return 0;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)hsk_lower(host[i]);
		h *= 16777619u;
	}
	return h != 0 ? h : 1; /* 0 stays "no name" */
}

bool
hsk_names_resumable(uint32_t sess, uint32_t hello)
{
	return hello == 0 || hello == sess;
}

void
hsk_names_free(struct hsk_ctx *ctx)
{
	free(ctx->names);
	ctx->names = NULL;
	ctx->n_names = 0;
}
