/* TLS policy of a listener: defaults, copies, checks and the name tables
 * for groups and signature schemes (see cfg.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "cfg_priv.h"
#include "cfg_value.h"

struct name_id {
	const char *name;
	uint16_t id;
};

/* NamedGroup code points: RFC 8446 4.2.7, RFC 7919 2. Only the groups the
 * engine implements (DESIGN.md; hsk_ctx_init's defaults). */
static const struct name_id groups[] = {
	{"x25519", 0x001d},
	{"X25519MLKEM768", 0x11ec}, /* draft-ietf-tls-ecdhe-mlkem, TLS 1.3 only */
	{"secp256r1", 0x0017},
	{"P-256", 0x0017},
	{"prime256v1", 0x0017},
	{"secp384r1", 0x0018},
	{"P-384", 0x0018},
	{"ffdhe2048", 0x0100},
	{"ffdhe3072", 0x0101},
	{NULL, 0},
};

/* SignatureScheme code points: RFC 8446 4.2.3 names, then OpenSSL's
 * "ALG+HASH" spelling for the same schemes. */
static const struct name_id sigalgs[] = {
	{"rsa_pkcs1_sha256", 0x0401},
	{"rsa_pkcs1_sha384", 0x0501},
	{"rsa_pkcs1_sha512", 0x0601},
	{"ecdsa_secp256r1_sha256", 0x0403},
	{"ecdsa_secp384r1_sha384", 0x0503},
	{"ecdsa_secp521r1_sha512", 0x0603},
	{"rsa_pss_rsae_sha256", 0x0804},
	{"rsa_pss_rsae_sha384", 0x0805},
	{"rsa_pss_rsae_sha512", 0x0806},
	{"ed25519", 0x0807},
	{"ed448", 0x0808},
	{"rsa_pss_pss_sha256", 0x0809},
	{"rsa_pss_pss_sha384", 0x080a},
	{"rsa_pss_pss_sha512", 0x080b},
	{"rsa_pkcs1_sha1", 0x0201},
	{"ecdsa_sha1", 0x0203},
	{"RSA+SHA256", 0x0401},
	{"RSA+SHA384", 0x0501},
	{"RSA+SHA512", 0x0601},
	{"RSA+SHA1", 0x0201},
	{"ECDSA+SHA256", 0x0403},
	{"ECDSA+SHA384", 0x0503},
	{"ECDSA+SHA512", 0x0603},
	{"ECDSA+SHA1", 0x0203},
	{"RSA-PSS+SHA256", 0x0804},
	{"RSA-PSS+SHA384", 0x0805},
	{"RSA-PSS+SHA512", 0x0806},
	{NULL, 0},
};

static uint16_t
lookup(const struct name_id *t, const char *name)
{
	for (; t->name != NULL; t++) {
		if (strcasecmp(t->name, name) == 0)
			return t->id;
	}
	return 0;
}

uint16_t
cfg_tls_group_id(const char *name)
{
	return lookup(groups, name);
}

uint16_t
cfg_tls_sigalg_id(const char *name)
{
	return lookup(sigalgs, name);
}

const char *
cfg_tls_version_name(uint16_t version)
{
	switch (version) {
	case CFG_TLS12:
		return "1.2";
	case CFG_TLS13:
		return "1.3";
	case 0:
		return "default";
	default:
		return "unknown";
	}
}

void
cfg_tls_init(struct cfg_tls *tls)
{
	memset(tls, 0, sizeof(*tls));
	tls->policy = CFG_POLICY_NONE;
	tls->client_auth = CFG_CLIENT_AUTH_NONE;
	tls->resumption = true;
	tls->max_handshake_message = CFG_DEFAULT_MAX_HANDSHAKE_MESSAGE;
}

void
cfg_tls_free(struct cfg_tls *tls)
{
	cfg_list_clear(tls->ciphers, &tls->n_ciphers);
	cfg_list_clear(tls->groups, &tls->n_groups);
	cfg_list_clear(tls->sigalgs, &tls->n_sigalgs);
	cfg_list_clear(tls->alpn, &tls->n_alpn);
	free(tls->ca_file);
	cfg_tls_init(tls);
}

static int
copy_list(char **dst, size_t *dn, char *const *src, size_t sn)
{
	for (size_t i = 0; i < sn; i++) {
		dst[i] = strdup(src[i]);
		if (dst[i] == NULL)
			return -1;
		*dn = i + 1;
	}
	return 0;
}

int
cfg_tls_copy(struct cfg_tls *dst, const struct cfg_tls *src)
{
	if (dst == src)
		return 0;
	cfg_tls_free(dst);
	dst->version_min = src->version_min;
	dst->version_max = src->version_max;
	dst->policy = src->policy;
	dst->client_auth = src->client_auth;
	dst->resumption = src->resumption;
	dst->max_handshake_message = src->max_handshake_message;
	if (copy_list(dst->ciphers, &dst->n_ciphers, src->ciphers, src->n_ciphers) != 0 ||
	    copy_list(dst->groups, &dst->n_groups, src->groups, src->n_groups) != 0 ||
	    copy_list(dst->sigalgs, &dst->n_sigalgs, src->sigalgs, src->n_sigalgs) != 0 ||
	    copy_list(dst->alpn, &dst->n_alpn, src->alpn, src->n_alpn) != 0 ||
	    cfg_str_set(&dst->ca_file, src->ca_file) != 0) {
		cfg_tls_free(dst);
		return -1;
	}
	return 0;
}

static bool
version_ok(uint16_t v)
{
	return v == 0 || v == CFG_TLS12 || v == CFG_TLS13;
}

/* Known names, each code point once (a scheme listed under two spellings
 * is a duplicate too). */
static int
check_names(const char *what, char *const *names, size_t n, uint16_t (*id_of)(const char *),
	    char *err, size_t errlen)
{
	uint16_t ids[CFG_MAX_SIGALGS > CFG_MAX_GROUPS ? CFG_MAX_SIGALGS : CFG_MAX_GROUPS];

	for (size_t i = 0; i < n; i++) {
		uint16_t id = id_of(names[i]);

		if (id == 0)
			return cfg_errf(err, errlen, "unknown %s '%s'", what, names[i]);
		for (size_t j = 0; j < i; j++) {
			if (ids[j] == id)
				return cfg_errf(err, errlen, "%s '%s' is listed twice (as '%s')", what,
						names[i], names[j]);
		}
		if (i < sizeof(ids) / sizeof(ids[0]))
			ids[i] = id;
	}
	return 0;
}

int
cfg_tls_check(const struct cfg_tls *tls, char *err, size_t errlen)
{
	if (!version_ok(tls->version_min) || !version_ok(tls->version_max))
		return cfg_errf(err, errlen, "TLS version must be 1.2 or 1.3");
	if (tls->version_min != 0 && tls->version_max != 0 && tls->version_min > tls->version_max)
		return cfg_errf(err, errlen, "min_version %s is above max_version %s",
				cfg_tls_version_name(tls->version_min),
				cfg_tls_version_name(tls->version_max));
	if (tls->policy != CFG_POLICY_NONE && tls->n_ciphers > 0)
		return cfg_errf(err, errlen, "set either a policy (%s) or a ciphers list, not both",
				cfg_policy_name(tls->policy));
	switch (tls->policy) {
	case CFG_POLICY_NONE:
	case CFG_POLICY_MODERN:
	case CFG_POLICY_INTERMEDIATE:
	case CFG_POLICY_OLD:
		break;
	default:
		return cfg_errf(err, errlen, "unknown policy %d", (int)tls->policy);
	}
	if (tls->n_ciphers > CFG_MAX_SUITES || tls->n_groups > CFG_MAX_GROUPS ||
	    tls->n_sigalgs > CFG_MAX_SIGALGS || tls->n_alpn > CFG_MAX_ALPN)
		return cfg_errf(err, errlen, "too many TLS list entries");
	for (size_t i = 0; i < tls->n_ciphers; i++) {
		if (tls->ciphers[i] == NULL || tls->ciphers[i][0] == '\0')
			return cfg_errf(err, errlen, "empty cipher suite name");
	}
	if (check_names("group", tls->groups, tls->n_groups, cfg_tls_group_id, err, errlen) != 0)
		return -1;
	if (check_names("signature algorithm", tls->sigalgs, tls->n_sigalgs, cfg_tls_sigalg_id,
			err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < tls->n_alpn; i++) {
		size_t len = tls->alpn[i] ? strlen(tls->alpn[i]) : 0;

		/* RFC 7301 3.1: ProtocolName<1..2^8-1>. */
		if (len == 0 || len > 255)
			return cfg_errf(err, errlen, "ALPN protocol name must be 1..255 bytes");
	}
	switch (tls->client_auth) {
	case CFG_CLIENT_AUTH_NONE:
		if (tls->ca_file != NULL)
			return cfg_errf(err, errlen, "a CA file is set but client_auth is none "
					"(set client_auth: optional or require)");
		break;
	case CFG_CLIENT_AUTH_OPTIONAL:
	case CFG_CLIENT_AUTH_REQUIRE:
		if (tls->ca_file == NULL || tls->ca_file[0] == '\0')
			return cfg_errf(err, errlen, "client_auth %s needs a CA file (ca)",
					cfg_client_auth_name(tls->client_auth));
		break;
	default:
		return cfg_errf(err, errlen, "unknown client_auth %d", (int)tls->client_auth);
	}
	if (tls->max_handshake_message < CFG_MIN_MAX_HANDSHAKE_MESSAGE ||
	    tls->max_handshake_message > CFG_MAX_MAX_HANDSHAKE_MESSAGE)
		return cfg_errf(err, errlen, "max_handshake_message must be %u..%u bytes",
				CFG_MIN_MAX_HANDSHAKE_MESSAGE, CFG_MAX_MAX_HANDSHAKE_MESSAGE);
	return 0;
}

int
cfg_tls_suites_string(const struct cfg_tls *tls, char *out, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return -1;
	out[0] = '\0';
	if (tls->policy != CFG_POLICY_NONE) {
		const char *w = cfg_policy_name(tls->policy);
		if (strlen(w) >= len)
			return -1;
		strcpy(out, w);
		return (int)strlen(w);
	}
	for (size_t i = 0; i < tls->n_ciphers; i++) {
		int k = snprintf(out + used, len - used, "%s%s", i ? ":" : "", tls->ciphers[i]);
		if (k < 0 || (size_t)k >= len - used) {
			out[0] = '\0';
			return -1;
		}
		used += (size_t)k;
	}
	return (int)used;
}
