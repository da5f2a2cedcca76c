/* struct cfg: defaults, release, whole-configuration checks, help text and
 * the YAML dump (see cfg.h). */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg_priv.h"
#include "cfg_value.h"
#include "tlso_build.h"

int
cfg_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
cfg_str_set(char **dst, const char *src)
{
	char *copy = NULL;

	if (src != NULL) {
		copy = strdup(src);
		if (copy == NULL)
			return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

int
cfg_list_add(char **items, size_t max, size_t *n, const char *s, char *err, size_t errlen)
{
	if (*n >= max)
		return cfg_errf(err, errlen, "too many items (at most %zu)", max);
	items[*n] = strdup(s);
	if (items[*n] == NULL)
		return cfg_errf(err, errlen, "out of memory");
	(*n)++;
	return 0;
}

void
cfg_list_clear(char **items, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free(items[i]);
		items[i] = NULL;
	}
	*n = 0;
}

void
cfg_certs_clear(struct cfg_listener *l)
{
	for (size_t i = 0; i < l->n_certs; i++) {
		free(l->certs[i].cert_file);
		free(l->certs[i].key_file);
		free(l->certs[i].ocsp_file);
		l->certs[i].cert_file = NULL;
		l->certs[i].key_file = NULL;
		l->certs[i].ocsp_file = NULL;
		cfg_list_clear(l->certs[i].names, &l->certs[i].n_names);
	}
	l->n_certs = 0;
}

void
cfg_listener_free(struct cfg_listener *l)
{
	cfg_certs_clear(l);
	cfg_tls_free(&l->tls);
	memset(l, 0, sizeof(*l));
	cfg_tls_init(&l->tls);
}

int
cfg_listener_copy(struct cfg_listener *dst, const struct cfg_listener *src)
{
	memset(dst, 0, sizeof(*dst));
	cfg_tls_init(&dst->tls);
	dst->addr = src->addr;
	memcpy(dst->origin, src->origin, sizeof(dst->origin));
	for (size_t i = 0; i < src->n_certs; i++) {
		dst->n_certs = i + 1;
		if (cfg_str_set(&dst->certs[i].cert_file, src->certs[i].cert_file) != 0 ||
		    cfg_str_set(&dst->certs[i].key_file, src->certs[i].key_file) != 0 ||
		    (src->certs[i].ocsp_file != NULL &&
		     cfg_str_set(&dst->certs[i].ocsp_file, src->certs[i].ocsp_file) != 0))
			goto fail;
		for (size_t k = 0; k < src->certs[i].n_names; k++)
			if (cfg_list_add(dst->certs[i].names, CFG_MAX_CERT_NAMES, &dst->certs[i].n_names,
					 src->certs[i].names[k], NULL, 0) != 0)
				goto fail;
	}
	if (cfg_tls_copy(&dst->tls, &src->tls) != 0)
		goto fail;
	return 0;
fail:
	cfg_listener_free(dst);
	return -1;
}

struct cfg_listener *
cfg_listener_add(struct cfg *cfg, const char *origin, char *err, size_t errlen)
{
	struct cfg_listener *l;

	if (cfg->n_listeners >= CFG_MAX_LISTENERS) {
		cfg_errf(err, errlen, "too many listeners (at most %d)", CFG_MAX_LISTENERS);
		return NULL;
	}
	l = &cfg->listeners[cfg->n_listeners];
	memset(l, 0, sizeof(*l));
	cfg_tls_init(&l->tls);
	if (cfg_tls_copy(&l->tls, &cfg->tls) != 0) {
		cfg_errf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(l->origin, sizeof(l->origin), "%s", origin);
	cfg->n_listeners++;
	return l;
}

void
cfg_init(struct cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dataplane = CFG_DATAPLANE_KERNEL;
	cfg->mode = CFG_MODE_RESPOND;
	cfg->workers = CFG_DEFAULT_WORKERS;
	cfg_tls_init(&cfg->tls);
	cfg->response_size = CFG_DEFAULT_RESPONSE_SIZE;
	cfg->session_cache_size = CFG_DEFAULT_SESSION_CACHE;
	cfg->session_lifetime_s = CFG_DEFAULT_SESSION_LIFETIME_S;
	cfg->ticket_rotation_s = CFG_DEFAULT_TICKET_ROTATION_S;
	cfg->tickets = CFG_DEFAULT_TICKETS;
	cfg->psk_modes = CFG_PSK_DHE_KE;
	cfg->session_store.timeout_ms = CFG_DEFAULT_STORE_TIMEOUT_MS;
	cfg->dpdk_prefix_len = 24;
	cfg->dpdk_max_conns = CFG_DEFAULT_DPDK_CONNS;
	cfg->handshake_timeout_ms = CFG_DEFAULT_HANDSHAKE_TIMEOUT_MS;
	cfg->idle_timeout_ms = CFG_DEFAULT_IDLE_TIMEOUT_MS;
	cfg->drain_timeout_ms = CFG_DEFAULT_DRAIN_TIMEOUT_MS;
	cfg->max_conns = CFG_DEFAULT_MAX_CONNS;
	cfg->max_handshakes = CFG_DEFAULT_MAX_HANDSHAKES;
	cfg->conn_buffer = CFG_DEFAULT_CONN_BUFFER;
	cfg->proxy.balance = CFG_BALANCE_ROUNDROBIN;
	cfg->proxy.connect_timeout_ms = CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->proxy.health_interval_ms = CFG_DEFAULT_HEALTH_INTERVAL_MS;
	cfg->proxy.health_rise = CFG_DEFAULT_HEALTH_RISE;
	cfg->proxy.health_fall = CFG_DEFAULT_HEALTH_FALL;
	cfg->proxy.proxy_protocol = CFG_PROXY_PROTOCOL_OFF;
	cfg->accel = CFG_ACCEL_AUTO;
	cfg->batch_min = CFG_DEFAULT_BATCH_MIN;
	cfg->log_level = CFG_LOG_INFO;
}

void
cfg_free(struct cfg *cfg)
{
	free(cfg->config_file);
	free(cfg->ticket_key_file);
	free(cfg->access_log);
	for (size_t i = 0; i < cfg->n_listeners; i++)
		cfg_listener_free(&cfg->listeners[i]);
	cfg_tls_free(&cfg->tls);
	cfg_list_clear(cfg->eal_args, &cfg->n_eal_args);
	cfg_init(cfg);
}

const char *
cfg_version(void)
{
	return "tlsoffload " TLSO_VERSION;
}

static const char *
word_name(const struct cfg_word *w, int v)
{
	for (; w->name != NULL; w++) {
		if (w->value == v)
			return w->name;
	}
	return "unknown";
}

const char *
cfg_dataplane_name(enum cfg_dataplane v)
{
	return word_name(cfg_dataplane_words, v);
}

const char *
cfg_store13_name(enum cfg_store13 v)
{
	return word_name(cfg_store13_words, v);
}

const char *
cfg_mode_name(enum cfg_mode v)
{
	return word_name(cfg_mode_words, v);
}

const char *
cfg_accel_name(enum cfg_accel v)
{
	return word_name(cfg_accel_words, v);
}

const char *
cfg_log_level_name(enum cfg_log_level v)
{
	return word_name(cfg_log_level_words, v);
}

const char *
cfg_log_format_name(enum cfg_log_format v)
{
	return word_name(cfg_log_format_words, v);
}

const char *
cfg_policy_name(enum cfg_policy v)
{
	if (v == CFG_POLICY_NONE)
		return "none";
	return word_name(cfg_policy_words, v);
}

const char *
cfg_client_auth_name(enum cfg_client_auth v)
{
	return word_name(cfg_client_auth_words, v);
}

const char *
cfg_balance_name(enum cfg_balance v)
{
	return word_name(cfg_balance_words, v);
}

const char *
cfg_proxy_protocol_name(enum cfg_proxy_protocol v)
{
	return word_name(cfg_proxy_protocol_words, v);
}

/* The backend pool's settings (checked in any mode: a file is either
 * right or wrong, whatever mode the command line picks). */
static int
validate_proxy(const struct cfg_proxy *p, const char *src, char *err, size_t errlen)
{
	switch (p->balance) {
	case CFG_BALANCE_ROUNDROBIN:
	case CFG_BALANCE_LEASTCONN:
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown balance %d", src, (int)p->balance);
	}
	switch (p->proxy_protocol) {
	case CFG_PROXY_PROTOCOL_OFF:
	case CFG_PROXY_PROTOCOL_V2:
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown proxy_protocol %d", src, (int)p->proxy_protocol);
	}
	if (p->connect_timeout_ms == 0)
		return cfg_errf(err, errlen, "%s: proxy connect_timeout must be above 0", src);
	if (p->health_rise < 1 || p->health_rise > CFG_MAX_HEALTH_COUNT || p->health_fall < 1 ||
	    p->health_fall > CFG_MAX_HEALTH_COUNT)
		return cfg_errf(err, errlen, "%s: proxy health rise and fall must be 1..%d", src,
				CFG_MAX_HEALTH_COUNT);
	return 0;
}

/* A file we will open at start: must be a readable regular file. Opening
 * it is the only honest test of "readable" (access() uses the real uid). */
static int
check_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (path == NULL || path[0] == '\0')
		return cfg_errf(err, errlen, "%s: no file name", what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cfg_errf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cfg_errf(err, errlen, "%s '%s': not a regular file", what, path);
	}
	close(fd);
	return 0;
}

static bool
addr_is_wildcard(const struct cfg_addr *a)
{
	if (a->family == AF_INET)
		return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
	return false;
}

/* Two listeners that cannot both bind (same address), or that would share
 * one port's traffic through SO_REUSEPORT (wildcard and specific). */
static bool
addr_conflict(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (addr_is_wildcard(a) || addr_is_wildcard(b))
		return true;
	return a->sa_len == b->sa_len && memcmp(&a->sa, &b->sa, a->sa_len) == 0;
}

static int
validate_listener(const struct cfg *cfg, size_t idx, char *err, size_t errlen)
{
	const struct cfg_listener *l = &cfg->listeners[idx];
	char name[CFG_HOST_MAX + 16], pre[CFG_HOST_MAX + CFG_ORIGIN_MAX + 32], why[512];

	cfg_addr_format(&l->addr, name, sizeof(name));
	snprintf(pre, sizeof(pre), "listener %s (%s)", name, l->origin);
	if ((l->addr.family != AF_INET && l->addr.family != AF_INET6) || l->addr.port == 0 ||
	    l->addr.sa_len == 0)
		return cfg_errf(err, errlen, "%s: needs a numeric IPv4 or [IPv6] address and a port", pre);
	for (size_t j = 0; j < idx; j++) {
		const struct cfg_listener *o = &cfg->listeners[j];
		if (addr_conflict(&l->addr, &o->addr)) {
			char oname[CFG_HOST_MAX + 16];
			cfg_addr_format(&o->addr, oname, sizeof(oname));
			return cfg_errf(err, errlen, "%s: overlaps listener %s (%s)", pre, oname, o->origin);
		}
	}
	if (l->n_certs == 0)
		return cfg_errf(err, errlen,
				"%s: no certificate (certificates: in the file, or --cert FILE --key FILE)", pre);
	if (l->n_certs > CFG_MAX_CERTS)
		return cfg_errf(err, errlen, "%s: too many certificates", pre);
	for (size_t i = 0; i < l->n_certs; i++) {
		const struct cfg_cert *c = &l->certs[i];
		if (c->cert_file == NULL && c->key_file != NULL)
			return cfg_errf(err, errlen, "%s: key '%s' without a certificate", pre, c->key_file);
		if (c->key_file == NULL)
			return cfg_errf(err, errlen, "%s: certificate '%s' without a key", pre,
					c->cert_file ? c->cert_file : "");
		if (check_file("certificate", c->cert_file, why, sizeof(why)) != 0 ||
		    check_file("key", c->key_file, why, sizeof(why)) != 0 ||
		    (c->ocsp_file != NULL && check_file("OCSP response", c->ocsp_file, why, sizeof(why)) != 0))
			return cfg_errf(err, errlen, "%s: %s", pre, why);
	}
	if (cfg_tls_check(&l->tls, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "%s: %s", pre, why);
	if (l->tls.ca_file != NULL && check_file("CA", l->tls.ca_file, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "%s: %s", pre, why);
	return 0;
}

static int
validate_cores(const struct cfg *cfg, char *err, size_t errlen)
{
	cpu_set_t allowed;
	bool have_mask;

	if (cfg->n_cores == 0)
		return 0;
	if (cfg->n_cores != cfg->workers)
		return cfg_errf(err, errlen, "workers (%u) does not match the %zu cores listed",
				cfg->workers, cfg->n_cores);
	CPU_ZERO(&allowed);
	have_mask = sched_getaffinity(0, sizeof(allowed), &allowed) == 0;
	for (size_t i = 0; i < cfg->n_cores; i++) {
		if (cfg->cores[i] >= CFG_MAX_CPU)
			return cfg_errf(err, errlen, "core %u is out of range", cfg->cores[i]);
		for (size_t j = 0; j < i; j++) {
			if (cfg->cores[j] == cfg->cores[i])
				return cfg_errf(err, errlen, "core %u is listed twice", cfg->cores[i]);
		}
		/* Pinning to a CPU outside our affinity mask fails at start:
		 * say so now, with the cores we do have. */
		if (have_mask && !CPU_ISSET(cfg->cores[i], &allowed)) {
			char list[256];
			size_t used = 0;

			list[0] = '\0';
			for (int c = 0; c < CPU_SETSIZE && used < sizeof(list) - 8; c++) {
				if (CPU_ISSET(c, &allowed)) {
					int k = snprintf(list + used, sizeof(list) - used, "%s%d",
							 used ? "," : "", c);
					if (k > 0)
						used += (size_t)k;
				}
			}
			return cfg_errf(err, errlen, "core %u is not available to this process (allowed: %s)",
					cfg->cores[i], list);
		}
	}
	return 0;
}

int
cfg_validate(const struct cfg *cfg, char *err, size_t errlen)
{
	const char *src = cfg->config_file ? cfg->config_file : "configuration";
	bool resumption = false;

	switch (cfg->dataplane) {
	case CFG_DATAPLANE_KERNEL:
		break;
	case CFG_DATAPLANE_DPDK:
		if (!TLSO_HAVE_DPDK)
			return cfg_errf(err, errlen, "%s: dataplane dpdk: this build has no DPDK", src);
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown dataplane %d", src, (int)cfg->dataplane);
	}
	if (cfg->session_store.on && !TLSO_HAVE_HIREDIS)
		return cfg_errf(err, errlen, "%s: session_store: this build has no hiredis (libhiredis-dev)", src);
	switch (cfg->mode) {
	case CFG_MODE_RESPOND:
		break;
	case CFG_MODE_PROXY:
		if (cfg->n_backends == 0)
			return cfg_errf(err, errlen, "%s: mode proxy needs at least one backend "
					"(backends: or --backend HOST:PORT)", src);
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown mode %d", src, (int)cfg->mode);
	}
	switch (cfg->accel) {
	case CFG_ACCEL_AUTO:
	case CFG_ACCEL_OPENSSL:
		break;
	case CFG_ACCEL_IFMA:
		/* Asking for IFMA on a CPU without it is a configuration error;
		 * "auto" is the word for "IFMA when present". */
		if (!__builtin_cpu_supports("avx512ifma"))
			return cfg_errf(err, errlen, "%s: accel ifma: this CPU has no AVX-512 IFMA "
					"(use auto or openssl)", src);
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown accel %d", src, (int)cfg->accel);
	}
	switch (cfg->log_level) {
	case CFG_LOG_ERROR:
	case CFG_LOG_WARN:
	case CFG_LOG_INFO:
	case CFG_LOG_DEBUG:
		break;
	default:
		return cfg_errf(err, errlen, "%s: unknown log level %d", src, (int)cfg->log_level);
	}
	if (cfg->log_format != CFG_LOG_TEXT && cfg->log_format != CFG_LOG_JSON)
		return cfg_errf(err, errlen, "%s: unknown log format %d", src, (int)cfg->log_format);
	if (cfg->metrics_on && cfg->metrics.port == 0)
		return cfg_errf(err, errlen, "%s: metrics needs ADDR:PORT with a port", src);
	if (cfg->workers < 1 || cfg->workers > CFG_MAX_WORKERS)
		return cfg_errf(err, errlen, "%s: workers must be 1..%d", src, CFG_MAX_WORKERS);
	if (validate_cores(cfg, err, errlen) != 0)
		return -1;
	if (cfg->response_size > CFG_MAX_RESPONSE_SIZE)
		return cfg_errf(err, errlen, "%s: response_size is above %u bytes", src, CFG_MAX_RESPONSE_SIZE);
	if (cfg->handshake_timeout_ms == 0)
		return cfg_errf(err, errlen, "%s: handshake_timeout must be above 0", src);
	if (cfg->max_conns < 1 || cfg->max_conns > CFG_MAX_MAX_CONNS)
		return cfg_errf(err, errlen, "%s: limits: max_conns must be 1..%u", src, CFG_MAX_MAX_CONNS);
	if (cfg->max_handshakes < 1 || cfg->max_handshakes > cfg->max_conns)
		return cfg_errf(err, errlen, "%s: limits: max_handshakes must be 1..max_conns (%u)", src,
				cfg->max_conns);
	if (cfg->conn_buffer < CFG_MIN_CONN_BUFFER || cfg->conn_buffer > CFG_MAX_CONN_BUFFER)
		return cfg_errf(err, errlen, "%s: limits: conn_buffer must be %u..%u bytes", src,
				CFG_MIN_CONN_BUFFER, CFG_MAX_CONN_BUFFER);
	if (cfg->n_backends > CFG_MAX_BACKENDS || cfg->n_eal_args > CFG_MAX_EAL_ARGS)
		return cfg_errf(err, errlen, "%s: too many backends or EAL arguments", src);
	for (size_t i = 0; i < cfg->n_backends; i++) {
		if (cfg->backends[i].port == 0 || cfg->backends[i].host[0] == '\0')
			return cfg_errf(err, errlen, "%s: backend %zu needs HOST:PORT", src, i + 1);
	}
	if (validate_proxy(&cfg->proxy, src, err, errlen) != 0)
		return -1;
	if (cfg->n_listeners == 0)
		return cfg_errf(err, errlen, "%s: no listener", src);
	if (cfg->n_listeners > CFG_MAX_LISTENERS)
		return cfg_errf(err, errlen, "%s: too many listeners", src);
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		if (validate_listener(cfg, i, err, errlen) != 0)
			return -1;
		resumption = resumption || cfg->listeners[i].tls.resumption;
	}
	if (resumption && (cfg->session_cache_size == 0 || cfg->session_lifetime_s == 0))
		return cfg_errf(err, errlen, "%s: resumption is on but the session cache has no room "
				"or no lifetime (session_cache: size/lifetime, or resumption: off)", src);
	return 0;
}

void
cfg_usage(FILE *out)
{
	fputs("Usage: tlsoffload [-c FILE] [--dataplane kernel|dpdk] [--listen ADDR:PORT]...\n"
	      "                  [--cert FILE --key FILE]... [--workers N | --cores LIST]\n"
	      "                  [--mode respond|proxy] [--backend HOST:PORT]... [--response-size N]\n"
	      "                  [--tls-min 1.2|1.3] [--tls-max 1.2|1.3] [--resumption on|off]\n"
	      "                  [--check-config] [--log-level LEVEL] [-h] [--version]\n"
	      "                  [-- EAL arguments for the dpdk dataplane]\n"
	      "\n"
	      "A TLS handshake offload server. Flags override the YAML file given with -c\n"
	      "(examples in config/examples/); --flag VALUE and --flag=VALUE both work.\n"
	      "\n"
	      "  -c, --config FILE         YAML configuration, loaded before the flags apply\n"
	      "  --dataplane kernel|dpdk   packet I/O (default kernel)\n"
	      "  --listen ADDR:PORT        127.0.0.1:8443 or [::1]:8443; repeatable\n"
	      "  --cert FILE --key FILE    PEM chain (leaf first) and its key; repeatable, up to 32;\n"
	      "                            chosen by the client's server name (SNI) among the\n"
	      "                            certificate's DNS names, the first one by default, and\n"
	      "                            ECDSA over RSA for a name when the client takes it\n"
	      "  --ocsp FILE               DER OCSP response stapled with the --cert before it\n"
	      "  --workers N               worker threads or lcores (default 1)\n"
	      "  --cores LIST              one worker pinned per core, e.g. 0-1,3\n"
	      "  --mode respond|proxy      answer HTTP itself (default) or forward to backends\n"
	      "  --backend HOST:PORT       plaintext backend for proxy mode; repeatable\n"
	      "  --balance roundrobin|leastconn   how proxy mode picks a backend (default roundrobin)\n"
	      "  --proxy-protocol off|v2   PROXY protocol v2 header (client address, TLS TLVs)\n"
	      "                            before the stream to the backend (default off)\n"
	      "  --response-size N         respond mode body bytes, e.g. 1024 or 16k (default 0)\n"
	      "  --tls-min 1.2|1.3         lowest TLS version offered\n"
	      "  --tls-max 1.2|1.3         highest TLS version offered\n"
	      "  --ciphers LIST|POLICY     suites separated by ':' or ',' (OpenSSL or IANA names),\n"
	      "                            or a policy: modern, intermediate, old\n"
	      "  --client-auth none|optional|require   ask for client certificates\n"
	      "  --ca FILE                 PEM CAs that sign client certificates\n"
	      "  --resumption on|off       session IDs and tickets (default on)\n"
	      "  --session-cache N         session cache entries (default 20480)\n"
	      "  --tickets N               TLS 1.3 session tickets per handshake (default 2; 0 = none)\n"
	      "  --ticket-rotation DUR     new random ticket key this often (default 1h)\n"
	      "  --psk-modes LIST          TLS 1.3 resumption modes accepted: psk_dhe_ke,psk_ke\n"
	      "                            (default psk_dhe_ke: forward secret resumption only)\n"
	      "  --ticket-key-file FILE    ticket keys shared by a fleet: 96 hex digits per line,\n"
	      "                            the first one current; re-read when the file changes\n"
	      "  --session-store URL       redis://HOST:PORT[/DB]: TLS 1.2 and 1.3 sessions shared by a\n"
	      "                            fleet (sealed with the ticket keys: share the key file too)\n"
	      "  --session-store-timeout-ms N  wait this long for a lookup, then a full\n"
	      "                            handshake (default 2)\n"
	      "  --session-store-tls13 store|ticket  TLS 1.3 resumption state in the store, the\n"
	      "                            tickets naming its entries (default store), or in\n"
	      "                            stateless tickets as without a store\n"
	      "  --handshake-timeout DUR   e.g. 10s, 500ms, or seconds (default 10s)\n"
	      "  --idle-timeout DUR        close idle connections; 0 = never (default 60s)\n"
	      "  --drain-timeout DUR       on SIGTERM, time given to handshakes and streams in\n"
	      "                            flight before they are closed; 0 = at once (default 10s)\n"
	      "  --max-conns N             connections per worker; more are reset (default 10000)\n"
	      "  --max-handshakes N        handshakes in flight per worker; more are reset\n"
	      "                            (default 2048)\n"
	      "  --conn-buffer SIZE        kernel socket buffer per connection, each way\n"
	      "                            (default 256k)\n"
	      "  --max-handshake-message SIZE  largest handshake message taken (default 64k;\n"
	      "                            16k..16m-1), per listener\n"
	      "  --accel auto|openssl|ifma crypto backend (default auto: IFMA when the CPU has it)\n"
	      "  --batch-delay-us N        hold queued crypto jobs up to N us to fill a batch\n"
	      "                            (default 0: off; at most 10000)\n"
	      "  --batch-min K             with --batch-delay-us: run at once when K jobs of one\n"
	      "                            operation and key are queued (default 8)\n"
	      "  --log-level LEVEL         error, warn, info (default) or debug\n"
	      "  --log-format text|json    log lines (and access log lines) as text (default)\n"
	      "                            or one JSON object per line\n"
	      "  --access-log FILE         a line per connection at its close (client, SNI,\n"
	      "                            version, suite, handshake time, bytes); - = stderr\n"
	      "  --metrics ADDR:PORT       serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	      "  --dpdk-prefix N           dpdk: the listen addresses' subnet length (default 24)\n"
	      "  --dpdk-gateway ADDR       dpdk: next hop for peers outside that subnet\n"
	      "  --dpdk-max-conns N        dpdk: TCP connections per worker (default 4096)\n"
	      "  --check-config            validate, load certificates and keys, and exit\n"
	      "  -h, --help                this text\n"
	      "  --version                 print the version\n"
	      "  -- ARGS...                EAL arguments (replace the file's dpdk: eal_args)\n"
	      "\n"
	      "Listeners. The file may define several (listeners:). The command line\n"
	      "describes the FIRST listener, creating it when the file has none:\n"
	      "  - the --cert/--key pairs (the i-th --cert with the i-th --key) replace its\n"
	      "    certificates;\n"
	      "  - the first --listen replaces its address; each further --listen adds a\n"
	      "    listener with the same certificates and TLS policy.\n"
	      "Other listeners of the file are kept. Without any listener at all the\n"
	      "server listens on 127.0.0.1:8443. The TLS flags (--tls-min, --tls-max,\n"
	      "--ciphers, --client-auth, --ca, --resumption, --max-handshake-message)\n"
	      "apply to every listener.\n"
	      "--workers and --cores replace each other (the file's setting too).\n",
	      out);
}

/* YAML double-quoted scalar (YAML 1.1 5.7 escapes). */
static void
put_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void
put_list(FILE *out, const char *indent, const char *key, char *const *items, size_t n)
{
	fprintf(out, "%s%s: [", indent, key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		put_str(out, items[i]);
	}
	fputs("]\n", out);
}

/* Every key, empty lists included, so a listener printed under a
 * top-level tls: section reloads to the same policy. */
static void
put_tls(FILE *out, const char *indent, const struct cfg_tls *t)
{
	fprintf(out, "%smin_version: %s\n", indent, cfg_tls_version_name(t->version_min));
	fprintf(out, "%smax_version: %s\n", indent, cfg_tls_version_name(t->version_max));
	if (t->policy != CFG_POLICY_NONE)
		fprintf(out, "%spolicy: %s\n", indent, cfg_policy_name(t->policy));
	else
		put_list(out, indent, "ciphers", t->ciphers, t->n_ciphers);
	put_list(out, indent, "groups", t->groups, t->n_groups);
	put_list(out, indent, "signature_algorithms", t->sigalgs, t->n_sigalgs);
	put_list(out, indent, "alpn", t->alpn, t->n_alpn);
	fprintf(out, "%sclient_auth: %s\n", indent, cfg_client_auth_name(t->client_auth));
	if (t->ca_file != NULL) {
		fprintf(out, "%sca: ", indent);
		put_str(out, t->ca_file);
		fputc('\n', out);
	}
	fprintf(out, "%sresumption: %s\n", indent, t->resumption ? "on" : "off");
	fprintf(out, "%smax_handshake_message: %u\n", indent, t->max_handshake_message);
}

void
cfg_print(const struct cfg *cfg, FILE *out)
{
	char buf[CFG_HOST_MAX + 16];

	fprintf(out, "dataplane: %s\n", cfg_dataplane_name(cfg->dataplane));
	fprintf(out, "mode: %s\n", cfg_mode_name(cfg->mode));
	if (cfg->n_cores > 0) {
		fputs("cores: \"", out);
		for (size_t i = 0; i < cfg->n_cores; i++)
			fprintf(out, "%s%u", i ? "," : "", cfg->cores[i]);
		fputs("\"\n", out);
	} else {
		fprintf(out, "workers: %u\n", cfg->workers);
	}
	fprintf(out, "response_size: %zu\n", cfg->response_size);
	fputs("backends: [", out);
	for (size_t i = 0; i < cfg->n_backends; i++) {
		cfg_addr_format(&cfg->backends[i], buf, sizeof(buf));
		fputs(i ? ", " : "", out);
		put_str(out, buf);
	}
	fputs("]\n", out);
	fprintf(out, "proxy:\n  balance: %s\n  connect_timeout: %ums\n  proxy_protocol: %s\n",
		cfg_balance_name(cfg->proxy.balance), cfg->proxy.connect_timeout_ms,
		cfg_proxy_protocol_name(cfg->proxy.proxy_protocol));
	fprintf(out, "  health:\n    interval: %ums\n    rise: %u\n    fall: %u\n", cfg->proxy.health_interval_ms,
		cfg->proxy.health_rise, cfg->proxy.health_fall);
	fprintf(out, "session_cache:\n  size: %u\n  lifetime: %us\n", cfg->session_cache_size,
		cfg->session_lifetime_s);
	fprintf(out, "tickets:\n  count: %u\n  rotation: %us\n  psk_modes: \"%s%s%s\"\n", cfg->tickets,
		cfg->ticket_rotation_s, cfg->psk_modes & CFG_PSK_DHE_KE ? "psk_dhe_ke" : "",
		cfg->psk_modes == (CFG_PSK_DHE_KE | CFG_PSK_KE) ? "," : "",
		cfg->psk_modes & CFG_PSK_KE ? "psk_ke" : "");
	if (cfg->ticket_key_file != NULL)
		fprintf(out, "  key_file: \"%s\"\n", cfg->ticket_key_file);
	if (cfg->session_store.on) {
		char a[CFG_HOST_MAX + 16];

		cfg_addr_format(&cfg->session_store.addr, a, sizeof(a));
		fprintf(out, "session_store:\n  url: \"redis://%s/%u\"\n  timeout: %ums\n  tls13: %s\n", a,
			cfg->session_store.db, cfg->session_store.timeout_ms, cfg_store13_name(cfg->session_store.tls13));
	}
	fprintf(out, "handshake_timeout: %ums\n", cfg->handshake_timeout_ms);
	fprintf(out, "idle_timeout: %ums\n", cfg->idle_timeout_ms);
	fprintf(out, "drain_timeout: %ums\n", cfg->drain_timeout_ms);
	fprintf(out, "limits:\n  max_conns: %u\n  max_handshakes: %u\n  conn_buffer: %u\n", cfg->max_conns,
		cfg->max_handshakes, cfg->conn_buffer);
	fprintf(out, "accel: %s\n", cfg_accel_name(cfg->accel));
	fprintf(out, "batch:\n  delay_us: %u\n  min: %u\n", cfg->batch_delay_us, cfg->batch_min);
	fprintf(out, "log_level: %s\n", cfg_log_level_name(cfg->log_level));
	fprintf(out, "log_format: %s\n", cfg_log_format_name(cfg->log_format));
	if (cfg->access_log != NULL) {
		fputs("access_log: ", out);
		put_str(out, cfg->access_log);
		fputc('\n', out);
	}
	if (cfg->metrics_on) {
		cfg_addr_format(&cfg->metrics, buf, sizeof(buf));
		fputs("metrics: ", out);
		put_str(out, buf);
		fputc('\n', out);
	}
	fputs("dpdk:\n", out);
	put_list(out, "  ", "eal_args", cfg->eal_args, cfg->n_eal_args);
	fprintf(out, "  prefix_len: %u\n", cfg->dpdk_prefix_len);
	fprintf(out, "  max_conns: %u\n", cfg->dpdk_max_conns);
	if (cfg->dpdk_gateway != 0)
		fprintf(out, "  gateway: %u.%u.%u.%u\n", cfg->dpdk_gateway >> 24, cfg->dpdk_gateway >> 16 & 255,
			cfg->dpdk_gateway >> 8 & 255, cfg->dpdk_gateway & 255);
	fputs("tls:\n", out);
	put_tls(out, "  ", &cfg->tls);
	fputs("listeners:", out);
	if (cfg->n_listeners == 0)
		fputs(" []", out);
	fputc('\n', out);
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		const struct cfg_listener *l = &cfg->listeners[i];

		cfg_addr_format(&l->addr, buf, sizeof(buf));
		fputs("  - listen: ", out);
		put_str(out, buf);
		fprintf(out, "\n    certificates:%s\n", l->n_certs ? "" : " []");
		for (size_t c = 0; c < l->n_certs; c++) {
			fputs("      - cert: ", out);
			put_str(out, l->certs[c].cert_file ? l->certs[c].cert_file : "");
			fputs("\n        key: ", out);
			put_str(out, l->certs[c].key_file ? l->certs[c].key_file : "");
			fputc('\n', out);
			if (l->certs[c].ocsp_file != NULL) {
				fputs("        ocsp: ", out);
				put_str(out, l->certs[c].ocsp_file);
				fputc('\n', out);
			}
			if (l->certs[c].n_names > 0)
				put_list(out, "        ", "names", l->certs[c].names, l->certs[c].n_names);
		}
		fputs("    tls:\n", out);
		put_tls(out, "      ", &l->tls);
	}
}
