/* The YAML configuration file, read with libyaml's document loader.
 *
 * The whole document is loaded as a node tree first, so every error can
 * name the node's line and column, and the top-level tls: section (the
 * listeners' starting policy) is applied before listeners: wherever it is
 * written. Every mapping is checked against the keys it may hold: an
 * unknown key, a duplicate key (YAML 1.1 3.2.1.1 requires unique keys;
 * libyaml does not check), a wrong type or an unknown word is an error. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cfg.h"
#include "cfg_priv.h"
#include "cfg_value.h"

struct ld {
	const char *path;
	yaml_document_t *doc;
	struct cfg *cfg;
	char *err;
	size_t errlen;
	const yaml_node_t *workers_node; /* to refuse workers and cores together */
	const yaml_node_t *cores_node;
	const yaml_node_t *backends_node; /* backends: or proxy.backends: (not both) */
	const yaml_node_t *listeners_node; /* applied after everything else */
	const char *listeners_path;
};

typedef int (*key_fn)(struct ld *ld, void *obj, const char *path, const yaml_node_t *val);

struct key {
	const char *name;
	key_fn fn;
};

static int __attribute__((format(printf, 3, 4)))
ld_err(struct ld *ld, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libyaml marks count from 0; editors count from 1. */
	return cfg_errf(ld->err, ld->errlen, "%s:%zu:%zu: %s", ld->path, n->start_mark.line + 1,
			n->start_mark.column + 1, msg);
}

static const yaml_node_t *
ld_node(struct ld *ld, int id)
{
	return yaml_document_get_node(ld->doc, id);
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *
type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
	default:
		return "nothing";
	}
}

/* The text of a scalar; NULL (with the error set) for anything else. */
static const char *
ld_scalar(struct ld *ld, const yaml_node_t *n, const char *path)
{
	if (n->type != YAML_SCALAR_NODE) {
		ld_err(ld, n, "%s: expected a single value, got %s", path, type_name(n));
		return NULL;
	}
	if (is_null(n)) {
		ld_err(ld, n, "%s: missing value", path);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		ld_err(ld, n, "%s: value contains a NUL byte", path);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* Levenshtein distance, capped: only for "did you mean" on short keys. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Check a mapping's keys (all known, none twice), then call each key's
 * handler in the order written. */
static int
ld_map(struct ld *ld, const yaml_node_t *n, const char *path, const struct key *keys, void *obj)
{
	if (n->type != YAML_MAPPING_NODE) {
		if (n->type == YAML_SCALAR_NODE && is_null(n))
			return ld_err(ld, n, "%s: empty section", path);
		return ld_err(ld, n, "%s: expected a mapping of keys, got %s", path, type_name(n));
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = ld_node(ld, p->key), *v = ld_node(ld, p->value);
		const struct key *found = NULL;
		const char *name;
		char sub[256];

		if (k == NULL || v == NULL)
			return ld_err(ld, n, "%s: broken mapping", path);
		if (k->type != YAML_SCALAR_NODE)
			return ld_err(ld, k, "%s: keys must be plain words", path);
		name = (const char *)k->data.scalar.value;
		for (const struct key *c = keys; c->name != NULL; c++) {
			if (strcmp(c->name, name) == 0)
				found = c;
		}
		if (found == NULL) {
			const char *best = NULL;
			size_t bd = 3;

			for (const struct key *c = keys; c->name != NULL; c++) {
				size_t d = edit_distance(name, c->name);
				/* Close enough to be a typo, not just short. */
				if (d < bd && d * 3 <= strlen(c->name) + 1) {
					bd = d;
					best = c->name;
				}
			}
			if (best != NULL)
				return ld_err(ld, k, "unknown key '%s' in %s (did you mean '%s'?)", name,
					      path, best);
			return ld_err(ld, k, "unknown key '%s' in %s", name, path);
		}
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
			const yaml_node_t *qk = ld_node(ld, q->key);
			if (qk != NULL && qk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)qk->data.scalar.value, name) == 0)
				return ld_err(ld, k, "duplicate key '%s' in %s (first at line %zu)", name,
					      path, qk->start_mark.line + 1);
		}
		if (strcmp(path, "the file") == 0)
			snprintf(sub, sizeof(sub), "%s", name);
		else
			snprintf(sub, sizeof(sub), "%s.%s", path, name);
		if (found->fn(ld, obj, sub, v) != 0)
			return -1;
	}
	return 0;
}

typedef int (*item_check_fn)(const char *item);

/* A list of strings: a YAML sequence of values, or one value split on any
 * of seps ("a:b:c"). Replaces the list. check, when given, must accept
 * each item ("unknown group" errors point at the item). */
static int
ld_list(struct ld *ld, const yaml_node_t *n, const char *path, const char *seps, bool skip_empty,
	char **items, size_t max, size_t *count, item_check_fn check, const char *what)
{
	char why[256];

	cfg_list_clear(items, count);
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			const yaml_node_t *v = ld_node(ld, *it);
			const char *s;

			if (v == NULL)
				return ld_err(ld, n, "%s: broken list", path);
			s = ld_scalar(ld, v, path);
			if (s == NULL)
				return -1;
			if (s[0] == '\0')
				return ld_err(ld, v, "%s: empty item", path);
			if (check != NULL && check(s) == 0)
				return ld_err(ld, v, "%s: unknown %s '%s'", path, what, s);
			if (cfg_list_add(items, max, count, s, why, sizeof(why)) != 0)
				return ld_err(ld, v, "%s: %s", path, why);
		}
		return 0;
	}
	const char *s = ld_scalar(ld, n, path);
	if (s == NULL)
		return -1;
	if (cfg_value_parse_list(s, seps, skip_empty, items, max, count, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	for (size_t i = 0; check != NULL && i < *count; i++) {
		if (check(items[i]) == 0)
			return ld_err(ld, n, "%s: unknown %s '%s'", path, what, items[i]);
	}
	return 0;
}

static int
ld_word(struct ld *ld, const yaml_node_t *n, const char *path, const struct cfg_word *words, int *out)
{
	char why[256];
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_word(words, s, out, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	return 0;
}

static int
ld_uint(struct ld *ld, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
	char why[256];
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_uint(s, min, max, out, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	return 0;
}

/* Bytes: "512", "16k", "1m" (cfg_value_parse_size), min..max. */
static int
ld_size(struct ld *ld, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
	char why[256];
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_size(s, max, out, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	if (*out < min)
		return ld_err(ld, n, "%s: at least %llu bytes", path, (unsigned long long)min);
	return 0;
}

static int
ld_duration(struct ld *ld, const yaml_node_t *n, const char *path, uint32_t *out_ms)
{
	char why[256];
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_duration(s, out_ms, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	return 0;
}

static int
ld_bool(struct ld *ld, const yaml_node_t *n, const char *path, bool *out)
{
	char why[256];
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_bool(s, out, why, sizeof(why)) != 0)
		return ld_err(ld, n, "%s: %s", path, why);
	return 0;
}

static int
ld_file(struct ld *ld, const yaml_node_t *n, const char *path, char **out)
{
	const char *s = ld_scalar(ld, n, path);

	if (s == NULL)
		return -1;
	if (s[0] == '\0')
		return ld_err(ld, n, "%s: empty file name", path);
	if (cfg_str_set(out, s) != 0)
		return ld_err(ld, n, "%s: out of memory", path);
	return 0;
}

/* --- tls: (top level, and per listener) --- */

struct tls_obj {
	struct cfg_tls *tls;
	const yaml_node_t *policy;
	const yaml_node_t *ciphers;
};

static int
k_min_version(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_version(s, &t->tls->version_min, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	return 0;
}

static int
k_max_version(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_version(s, &t->tls->version_max, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	return 0;
}

/* A policy word and a ciphers list say the same thing twice: refuse both
 * in one section; either one replaces the other inherited from tls:. */
static int
k_policy(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;
	int w;

	if (t->ciphers != NULL)
		return ld_err(ld, v, "%s: set either policy or ciphers, not both (ciphers at line %zu)",
			      path, t->ciphers->start_mark.line + 1);
	if (ld_word(ld, v, path, cfg_policy_words, &w) != 0)
		return -1;
	t->policy = v;
	t->tls->policy = (enum cfg_policy)w;
	cfg_list_clear(t->tls->ciphers, &t->tls->n_ciphers);
	return 0;
}

static int
k_ciphers(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	if (t->policy != NULL)
		return ld_err(ld, v, "%s: set either policy or ciphers, not both (policy at line %zu)",
			      path, t->policy->start_mark.line + 1);
	t->ciphers = v;
	t->tls->policy = CFG_POLICY_NONE;
	return ld_list(ld, v, path, ":,", false, t->tls->ciphers, CFG_MAX_SUITES, &t->tls->n_ciphers,
		       NULL, NULL);
}

static int
group_known(const char *s)
{
	return cfg_tls_group_id(s) != 0;
}

static int
sigalg_known(const char *s)
{
	return cfg_tls_sigalg_id(s) != 0;
}

static int
k_groups(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	if (ld_list(ld, v, path, ":,", false, t->tls->groups, CFG_MAX_GROUPS, &t->tls->n_groups,
		    group_known, "group") != 0)
		return -1;
	return 0;
}

static int
k_sigalgs(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	return ld_list(ld, v, path, ":,", false, t->tls->sigalgs, CFG_MAX_SIGALGS, &t->tls->n_sigalgs,
		       sigalg_known, "signature algorithm");
}

static int
k_alpn(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	return ld_list(ld, v, path, ":,", false, t->tls->alpn, CFG_MAX_ALPN, &t->tls->n_alpn, NULL, NULL);
}

static int
k_client_auth(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;
	int w;

	if (ld_word(ld, v, path, cfg_client_auth_words, &w) != 0)
		return -1;
	t->tls->client_auth = (enum cfg_client_auth)w;
	return 0;
}

static int
k_ca(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	return ld_file(ld, v, path, &t->tls->ca_file);
}

static int
k_resumption(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;

	return ld_bool(ld, v, path, &t->tls->resumption);
}

static int
k_max_handshake_message(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct tls_obj *t = obj;
	uint64_t n;

	if (ld_size(ld, v, path, CFG_MIN_MAX_HANDSHAKE_MESSAGE, CFG_MAX_MAX_HANDSHAKE_MESSAGE, &n) != 0)
		return -1;
	t->tls->max_handshake_message = (uint32_t)n;
	return 0;
}

static const struct key tls_keys[] = {
	{"min_version", k_min_version},
	{"max_version", k_max_version},
	{"policy", k_policy},
	{"ciphers", k_ciphers},
	{"groups", k_groups},
	{"signature_algorithms", k_sigalgs},
	{"alpn", k_alpn},
	{"client_auth", k_client_auth},
	{"ca", k_ca},
	{"resumption", k_resumption},
	{"max_handshake_message", k_max_handshake_message},
	{NULL, NULL},
};

static int
ld_tls(struct ld *ld, const yaml_node_t *n, const char *path, struct cfg_tls *tls)
{
	struct tls_obj t = {tls, NULL, NULL};

	return ld_map(ld, n, path, tls_keys, &t);
}

/* --- listeners: --- */

struct cert_obj {
	struct cfg_cert *cert;
};

static int
k_cert_file(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cert_obj *c = obj;

	return ld_file(ld, v, path, &c->cert->cert_file);
}

static int
k_key_file(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cert_obj *c = obj;

	return ld_file(ld, v, path, &c->cert->key_file);
}

static int
k_ocsp_file(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cert_obj *c = obj;

	return ld_file(ld, v, path, &c->cert->ocsp_file);
}

/* names: [a.example.com, "*.example.com"], or one string split on ',' or
 * ' '. Checked when the certificate is loaded (hsk_names_add). */
static int
k_cert_names(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cert_obj *c = obj;

	return ld_list(ld, v, path, ", ", true, c->cert->names, CFG_MAX_CERT_NAMES, &c->cert->n_names, NULL,
		       NULL);
}

static const struct key cert_keys[] = {
	{"cert", k_cert_file},
	{"key", k_key_file},
	{"ocsp", k_ocsp_file},
	{"names", k_cert_names},
	{NULL, NULL},
};

struct listener_obj {
	struct cfg_listener *l;
	const yaml_node_t *tls_node;
	bool have_listen;
};

static int
k_listen(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct listener_obj *o = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_addr(s, false, &o->l->addr, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	o->have_listen = true;
	return 0;
}

static int
k_certificates(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct listener_obj *o = obj;
	struct cfg_listener *l = o->l;
	size_t i = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return ld_err(ld, v, "%s: expected a list of {cert, key[, ocsp, names]}, got %s", path, type_name(v));
	cfg_certs_clear(l);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		const yaml_node_t *c = ld_node(ld, *it);
		char sub[256];
		struct cert_obj co;

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (c == NULL)
			return ld_err(ld, v, "%s: broken list", path);
		if (l->n_certs >= CFG_MAX_CERTS)
			return ld_err(ld, c, "%s: too many certificates (at most %d)", path, CFG_MAX_CERTS);
		co.cert = &l->certs[l->n_certs++];
		if (ld_map(ld, c, sub, cert_keys, &co) != 0)
			return -1;
		if (co.cert->cert_file == NULL && co.cert->key_file != NULL)
			return ld_err(ld, c, "%s: 'key' without 'cert'", sub);
		if (co.cert->key_file == NULL && co.cert->cert_file != NULL)
			return ld_err(ld, c, "%s: 'cert' without 'key'", sub);
		if (co.cert->cert_file == NULL)
			return ld_err(ld, c, "%s: needs 'cert' and 'key'", sub);
	}
	return 0;
}

static int
k_listener_tls(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct listener_obj *o = obj;

	o->tls_node = v;
	return ld_tls(ld, v, path, &o->l->tls);
}

static const struct key listener_keys[] = {
	{"listen", k_listen},
	{"certificates", k_certificates},
	{"tls", k_listener_tls},
	{NULL, NULL},
};

static int
ld_listeners(struct ld *ld, const yaml_node_t *v, const char *path)
{
	struct cfg *cfg = ld->cfg;
	size_t i = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return ld_err(ld, v, "%s: expected a list of listeners, got %s", path, type_name(v));
	/* The file's listeners replace any defined before it was loaded. */
	for (size_t j = 0; j < cfg->n_listeners; j++)
		cfg_listener_free(&cfg->listeners[j]);
	cfg->n_listeners = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++) {
		const yaml_node_t *n = ld_node(ld, *it);
		struct listener_obj o = {NULL, NULL, false};
		char sub[256], origin[CFG_ORIGIN_MAX], why[512];

		if (n == NULL)
			return ld_err(ld, v, "%s: broken list", path);
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		snprintf(origin, sizeof(origin), "%s:%zu:%zu", ld->path, n->start_mark.line + 1,
			 n->start_mark.column + 1);
		o.l = cfg_listener_add(cfg, origin, why, sizeof(why));
		if (o.l == NULL)
			return ld_err(ld, n, "%s: %s", sub, why);
		if (ld_map(ld, n, sub, listener_keys, &o) != 0)
			return -1;
		if (!o.have_listen)
			return ld_err(ld, n, "%s: missing 'listen: ADDR:PORT'", sub);
		/* The policy as merged with the top-level tls: must hold
		 * together (min <= max, client_auth with a CA...). */
		if (cfg_tls_check(&o.l->tls, why, sizeof(why)) != 0)
			return ld_err(ld, o.tls_node ? o.tls_node : n, "%s: %s", sub, why);
	}
	return 0;
}

/* --- top level --- */

static int
k_dataplane(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_dataplane_words, &w) != 0)
		return -1;
	cfg->dataplane = (enum cfg_dataplane)w;
	return 0;
}

static int
k_mode(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_mode_words, &w) != 0)
		return -1;
	cfg->mode = (enum cfg_mode)w;
	return 0;
}

static int
k_workers(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld->cores_node != NULL)
		return ld_err(ld, v, "%s: set either workers or cores, not both (cores at line %zu)",
			      path, ld->cores_node->start_mark.line + 1);
	ld->workers_node = v;
	if (ld_uint(ld, v, path, 1, CFG_MAX_WORKERS, &n) != 0)
		return -1;
	cfg->workers = (unsigned)n;
	cfg->n_cores = 0;
	return 0;
}

static int
k_cores(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	char why[256];

	if (ld->workers_node != NULL)
		return ld_err(ld, v, "%s: set either workers or cores, not both (workers at line %zu)",
			      path, ld->workers_node->start_mark.line + 1);
	ld->cores_node = v;
	cfg->n_cores = 0;
	if (v->type == YAML_SEQUENCE_NODE) {
		/* [0, 1, "4-5"]: each item a core list of its own. */
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			const yaml_node_t *c = ld_node(ld, *it);
			const char *s;

			if (c == NULL)
				return ld_err(ld, v, "%s: broken list", path);
			s = ld_scalar(ld, c, path);
			if (s == NULL)
				return -1;
			if (cfg_value_parse_cores(s, cfg->cores, CFG_MAX_WORKERS, &cfg->n_cores, why,
						  sizeof(why)) != 0)
				return ld_err(ld, c, "%s: %s", path, why);
		}
	} else {
		const char *s = ld_scalar(ld, v, path);

		if (s == NULL)
			return -1;
		if (cfg_value_parse_cores(s, cfg->cores, CFG_MAX_WORKERS, &cfg->n_cores, why, sizeof(why)) != 0)
			return ld_err(ld, v, "%s: %s", path, why);
	}
	if (cfg->n_cores == 0)
		return ld_err(ld, v, "%s: empty core list", path);
	cfg->workers = (unsigned)cfg->n_cores;
	return 0;
}

static int
k_response_size(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_size(ld, v, path, 0, CFG_MAX_RESPONSE_SIZE, &n) != 0)
		return -1;
	cfg->response_size = (size_t)n;
	return 0;
}

static int
ld_backend(struct ld *ld, const yaml_node_t *v, const char *path)
{
	struct cfg *cfg = ld->cfg;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg->n_backends >= CFG_MAX_BACKENDS)
		return ld_err(ld, v, "%s: too many backends (at most %d)", path, CFG_MAX_BACKENDS);
	if (cfg_value_parse_addr(s, true, &cfg->backends[cfg->n_backends], why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	cfg->n_backends++;
	return 0;
}

/* The pool's addresses, from the top-level backends: (kept for older
 * files) or proxy.backends:, one of the two. */
static int
k_backends(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = ld->cfg;

	(void)obj;
	if (ld->backends_node != NULL)
		return ld_err(ld, v, "%s: backends are already listed at line %zu (use backends: or "
			      "proxy.backends:, not both)", path, ld->backends_node->start_mark.line + 1);
	ld->backends_node = v;
	cfg->n_backends = 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return ld_backend(ld, v, path);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *b = ld_node(ld, *it);

		if (b == NULL)
			return ld_err(ld, v, "%s: broken list", path);
		if (ld_backend(ld, b, path) != 0)
			return -1;
	}
	return 0;
}

static int
k_balance(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg_proxy *p = obj;
	int w;

	if (ld_word(ld, v, path, cfg_balance_words, &w) != 0)
		return -1;
	p->balance = (enum cfg_balance)w;
	return 0;
}

static int
k_connect_timeout(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg_proxy *p = obj;

	if (ld_duration(ld, v, path, &p->connect_timeout_ms) != 0)
		return -1;
	if (p->connect_timeout_ms == 0)
		return ld_err(ld, v, "%s: must be above 0", path);
	return 0;
}

static int
k_proxy_protocol(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg_proxy *p = obj;
	int w;

	if (ld_word(ld, v, path, cfg_proxy_protocol_words, &w) != 0)
		return -1;
	p->proxy_protocol = (enum cfg_proxy_protocol)w;
	return 0;
}

static int
k_health_interval(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg_proxy *p = obj;

	return ld_duration(ld, v, path, &p->health_interval_ms);
}

static int
ld_health_count(struct ld *ld, const yaml_node_t *v, const char *path, unsigned *out)
{
	uint64_t n;

	if (ld_uint(ld, v, path, 1, CFG_MAX_HEALTH_COUNT, &n) != 0)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int
k_health_rise(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_health_count(ld, v, path, &((struct cfg_proxy *)obj)->health_rise);
}

static int
k_health_fall(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_health_count(ld, v, path, &((struct cfg_proxy *)obj)->health_fall);
}

static const struct key health_keys[] = {
	{"interval", k_health_interval},
	{"rise", k_health_rise},
	{"fall", k_health_fall},
	{NULL, NULL},
};

static int
k_health(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, health_keys, obj);
}

static const struct key proxy_keys[] = {
	{"backends", k_backends},
	{"balance", k_balance},
	{"connect_timeout", k_connect_timeout},
	{"health", k_health},
	{"proxy_protocol", k_proxy_protocol},
	{NULL, NULL},
};

static int
k_proxy(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	(void)obj;
	return ld_map(ld, v, path, proxy_keys, &ld->cfg->proxy);
}

static int
k_cache_size(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_size(ld, v, path, 0, UINT32_MAX, &n) != 0)
		return -1;
	cfg->session_cache_size = (uint32_t)n;
	return 0;
}

static int
k_cache_lifetime(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint32_t ms;

	if (ld_duration(ld, v, path, &ms) != 0)
		return -1;
	if (ms % 1000 != 0)
		return ld_err(ld, v, "%s: must be whole seconds", path);
	cfg->session_lifetime_s = ms / 1000;
	return 0;
}

static const struct key cache_keys[] = {
	{"size", k_cache_size},
	{"lifetime", k_cache_lifetime},
	{NULL, NULL},
};

static int
k_session_cache(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, cache_keys, obj);
}

static int
k_store_url(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_store_url(s, &cfg->session_store, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	return 0;
}

static int
k_store_timeout(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint32_t ms;

	if (ld_duration(ld, v, path, &ms) != 0)
		return -1;
	if (ms == 0 || ms > 10000)
		return ld_err(ld, v, "%s: between 1ms and 10s", path);
	cfg->session_store.timeout_ms = ms;
	return 0;
}

static int
k_store_tls13(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_store13_words, &w) != 0)
		return -1;
	cfg->session_store.tls13 = (enum cfg_store13)w;
	return 0;
}

static const struct key store_keys[] = {
	{"url", k_store_url},
	{"timeout", k_store_timeout},
	{"tls13", k_store_tls13},
	{NULL, NULL},
};

static int
k_session_store(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, store_keys, obj);
}

static int
k_tickets_count(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_uint(ld, v, path, 0, 16, &n) != 0)
		return -1;
	cfg->tickets = (unsigned)n;
	return 0;
}

static int
k_tickets_rotation(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint32_t ms;

	if (ld_duration(ld, v, path, &ms) != 0)
		return -1;
	if (ms < 1000)
		return ld_err(ld, v, "%s: at least 1s", path);
	cfg->ticket_rotation_s = ms / 1000;
	return 0;
}

static int
k_tickets_key_file(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	free(cfg->ticket_key_file);
	cfg->ticket_key_file = strdup(s);
	return cfg->ticket_key_file != NULL ? 0 : ld_err(ld, v, "%s: out of memory", path);
}

static int
k_tickets_psk_modes(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	char why[256];
	int set;
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_word_set(cfg_psk_mode_words, s, &set, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	cfg->psk_modes = (unsigned)set;
	return 0;
}

static const struct key ticket_keys[] = {
	{"count", k_tickets_count},
	{"rotation", k_tickets_rotation},
	{"key_file", k_tickets_key_file},
	{"psk_modes", k_tickets_psk_modes},
	{NULL, NULL},
};

static int
k_tickets(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, ticket_keys, obj);
}

static int
k_handshake_timeout(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;

	if (ld_duration(ld, v, path, &cfg->handshake_timeout_ms) != 0)
		return -1;
	if (cfg->handshake_timeout_ms == 0)
		return ld_err(ld, v, "%s: must be above 0", path);
	return 0;
}

static int
k_idle_timeout(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;

	return ld_duration(ld, v, path, &cfg->idle_timeout_ms);
}

static int
k_drain_timeout(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;

	return ld_duration(ld, v, path, &cfg->drain_timeout_ms);
}

/* A connection count of limits: into *out. */
static int
ld_conns(struct ld *ld, const yaml_node_t *v, const char *path, uint32_t *out)
{
	uint64_t n;

	if (ld_uint(ld, v, path, 1, CFG_MAX_MAX_CONNS, &n) != 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int
k_limits_max_conns(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_conns(ld, v, path, &((struct cfg *)obj)->max_conns);
}

static int
k_limits_max_handshakes(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_conns(ld, v, path, &((struct cfg *)obj)->max_handshakes);
}

static int
k_limits_conn_buffer(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_size(ld, v, path, CFG_MIN_CONN_BUFFER, CFG_MAX_CONN_BUFFER, &n) != 0)
		return -1;
	cfg->conn_buffer = (uint32_t)n;
	return 0;
}

static const struct key limits_keys[] = {
	{"max_conns", k_limits_max_conns},
	{"max_handshakes", k_limits_max_handshakes},
	{"conn_buffer", k_limits_conn_buffer},
	{NULL, NULL},
};

static int
k_limits(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, limits_keys, obj);
}

static int
k_accel(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_accel_words, &w) != 0)
		return -1;
	cfg->accel = (enum cfg_accel)w;
	return 0;
}

/* A whole number min..max into a 32-bit field. */
static int
ld_u32(struct ld *ld, const yaml_node_t *v, const char *path, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t n;

	if (ld_uint(ld, v, path, min, max, &n) != 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int
k_batch_delay_us(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_u32(ld, v, path, 0, CFG_MAX_BATCH_DELAY_US, &((struct cfg *)obj)->batch_delay_us);
}

static int
k_batch_min(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_u32(ld, v, path, 1, CFG_MAX_BATCH_MIN, &((struct cfg *)obj)->batch_min);
}

static const struct key batch_keys[] = {
	{"delay_us", k_batch_delay_us},
	{"min", k_batch_min},
	{NULL, NULL},
};

static int
k_batch(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, batch_keys, obj);
}

static int
k_log_level(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_log_level_words, &w) != 0)
		return -1;
	cfg->log_level = (enum cfg_log_level)w;
	return 0;
}

static int
k_log_format(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	int w;

	if (ld_word(ld, v, path, cfg_log_format_words, &w) != 0)
		return -1;
	cfg->log_format = (enum cfg_log_format)w;
	return 0;
}

static int
k_access_log(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (s[0] == '\0')
		return ld_err(ld, v, "%s: empty file name", path);
	return cfg_str_set(&cfg->access_log, s) == 0 ? 0 : ld_err(ld, v, "%s: out of memory", path);
}

static int
k_metrics(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_addr(s, false, &cfg->metrics, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	cfg->metrics_on = true;
	return 0;
}

static int
k_eal_args(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;

	/* A string form splits on blanks, not ':' (PCI addresses and
	 * --vdev=net_tap0,iface=x contain both ':' and ','). */
	return ld_list(ld, v, path, " \t", true, cfg->eal_args, CFG_MAX_EAL_ARGS, &cfg->n_eal_args,
		       NULL, NULL);
}

static int
k_dpdk_prefix(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_uint(ld, v, path, 1, 32, &n) != 0)
		return -1;
	cfg->dpdk_prefix_len = (unsigned)n;
	return 0;
}

static int
k_dpdk_gateway(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	char why[256];
	const char *s = ld_scalar(ld, v, path);

	if (s == NULL)
		return -1;
	if (cfg_value_parse_ipv4(s, &cfg->dpdk_gateway, why, sizeof(why)) != 0)
		return ld_err(ld, v, "%s: %s", path, why);
	return 0;
}

static int
k_dpdk_max_conns(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	struct cfg *cfg = obj;
	uint64_t n;

	if (ld_uint(ld, v, path, 1, CFG_MAX_DPDK_CONNS, &n) != 0)
		return -1;
	cfg->dpdk_max_conns = (uint32_t)n;
	return 0;
}

static const struct key dpdk_keys[] = {
	{"max_conns", k_dpdk_max_conns},
	{"eal_args", k_eal_args},
	{"prefix_len", k_dpdk_prefix},
	{"gateway", k_dpdk_gateway},
	{NULL, NULL},
};

static int
k_dpdk(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	return ld_map(ld, v, path, dpdk_keys, obj);
}

static int
k_tls(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	(void)obj;
	(void)ld;
	(void)path;
	(void)v;
	return 0; /* applied first, by cfg_load_file */
}

static int
k_listeners(struct ld *ld, void *obj, const char *path, const yaml_node_t *v)
{
	(void)obj;
	ld->listeners_node = v;
	(void)path; /* "listeners": a buffer of ld_map, gone after it returns */
	ld->listeners_path = "listeners";
	return 0; /* applied last, by cfg_load_file */
}

static const struct key top_keys[] = {
	{"dataplane", k_dataplane},
	{"mode", k_mode},
	{"workers", k_workers},
	{"cores", k_cores},
	{"response_size", k_response_size},
	{"backends", k_backends},
	{"proxy", k_proxy},
	{"session_cache", k_session_cache},
	{"tickets", k_tickets},
	{"session_store", k_session_store},
	{"handshake_timeout", k_handshake_timeout},
	{"idle_timeout", k_idle_timeout},
	{"drain_timeout", k_drain_timeout},
	{"limits", k_limits},
	{"accel", k_accel},
	{"batch", k_batch},
	{"log_level", k_log_level},
	{"log_format", k_log_format},
	{"access_log", k_access_log},
	{"metrics", k_metrics},
	{"dpdk", k_dpdk},
	{"tls", k_tls},
	{"listeners", k_listeners},
	{NULL, NULL},
};

static int
ld_root(struct ld *ld, const yaml_node_t *root)
{
	if (root->type != YAML_MAPPING_NODE)
		return ld_err(ld, root, "the top level must be a mapping of keys, got %s", type_name(root));
	/* tls: first, as every listener starts from it. */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = ld_node(ld, p->key), *v = ld_node(ld, p->value);

		if (k != NULL && v != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, "tls") == 0) {
			if (ld_tls(ld, v, "tls", &ld->cfg->tls) != 0)
				return -1;
			break; /* a second tls: is reported by ld_map as a duplicate */
		}
	}
	if (ld_map(ld, root, "the file", top_keys, ld->cfg) != 0)
		return -1;
	if (ld->listeners_node != NULL)
		return ld_listeners(ld, ld->listeners_node, ld->listeners_path);
	return 0;
}

static int
parser_err(const char *path, const yaml_parser_t *p, char *err, size_t errlen)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";

	if (p->context != NULL)
		return cfg_errf(err, errlen, "%s:%zu:%zu: %s %s (line %zu)", path, p->problem_mark.line + 1,
				p->problem_mark.column + 1, problem, p->context, p->context_mark.line + 1);
	return cfg_errf(err, errlen, "%s:%zu:%zu: %s", path, p->problem_mark.line + 1,
			p->problem_mark.column + 1, problem);
}

int
cfg_load_file(struct cfg *cfg, const char *path, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	bool have_parser = false, have_doc = false, have_extra = false;
	struct ld ld;
	const yaml_node_t *root;
	int rc = -1;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		return cfg_errf(err, errlen, "%s: %s", path, strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		cfg_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		parser_err(path, &parser, err, errlen);
		goto out;
	}
	have_doc = true;
	if (!yaml_parser_load(&parser, &extra)) {
		parser_err(path, &parser, err, errlen);
		goto out;
	}
	have_extra = true;
	if (yaml_document_get_root_node(&extra) != NULL) {
		const yaml_node_t *x = yaml_document_get_root_node(&extra);
		cfg_errf(err, errlen, "%s:%zu:%zu: only one YAML document per file", path,
			 x->start_mark.line + 1, x->start_mark.column + 1);
		goto out;
	}
	if (cfg_str_set(&cfg->config_file, path) != 0) {
		cfg_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.doc = &doc;
	ld.cfg = cfg;
	ld.err = err;
	ld.errlen = errlen;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !(root->type == YAML_SCALAR_NODE && is_null(root))) {
		if (ld_root(&ld, root) != 0)
			goto out;
	}
	rc = 0;
out:
	if (have_extra)
		yaml_document_delete(&extra);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
