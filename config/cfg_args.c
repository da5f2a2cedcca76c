/* The command line of DESIGN.md "Command line" (and a few extras), applied
 * on top of the -c file. How --listen/--cert/--key and the TLS flags meet
 * the file's listeners is spelled out in cfg_usage(). */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_priv.h"
#include "cfg_value.h"

enum opt_id {
	O_CONFIG,
	O_DATAPLANE,
	O_LISTEN,
	O_CERT,
	O_KEY,
	O_OCSP,
	O_WORKERS,
	O_CORES,
	O_MODE,
	O_BACKEND,
	O_BALANCE,
	O_PROXY_PROTOCOL,
	O_RESPONSE_SIZE,
	O_DPDK_PREFIX,
	O_DPDK_GATEWAY,
	O_DPDK_MAX_CONNS,
	O_TLS_MIN,
	O_TLS_MAX,
	O_RESUMPTION,
	O_CHECK_CONFIG,
	O_LOG_LEVEL,
	O_HELP,
	O_VERSION,
	O_ACCEL,
	O_CIPHERS,
	O_CLIENT_AUTH,
	O_CA,
	O_HANDSHAKE_TIMEOUT,
	O_IDLE_TIMEOUT,
	O_DRAIN_TIMEOUT,
	O_SESSION_CACHE,
	O_TICKETS,
	O_TICKET_ROTATION,
	O_TICKET_KEY_FILE,
	O_PSK_MODES,
	O_MAX_CONNS,
	O_MAX_HANDSHAKES,
	O_CONN_BUFFER,
	O_MAX_HS_MESSAGE,
	O_BATCH_DELAY,
	O_BATCH_MIN,
	O_SESSION_STORE,
	O_SESSION_STORE_TIMEOUT,
	O_SESSION_STORE_TLS13,
	O_LOG_FORMAT,
	O_ACCESS_LOG,
	O_METRICS,
};

struct opt {
	const char *name;
	enum opt_id id;
	bool has_arg;
};

static const struct opt opts[] = {
	{"-c", O_CONFIG, true},
	{"--config", O_CONFIG, true},
	{"--dataplane", O_DATAPLANE, true},
	{"--listen", O_LISTEN, true},
	{"--cert", O_CERT, true},
	{"--key", O_KEY, true},
	{"--ocsp", O_OCSP, true},
	{"--workers", O_WORKERS, true},
	{"--cores", O_CORES, true},
	{"--mode", O_MODE, true},
	{"--backend", O_BACKEND, true},
	{"--balance", O_BALANCE, true},
	{"--proxy-protocol", O_PROXY_PROTOCOL, true},
	{"--response-size", O_RESPONSE_SIZE, true},
	{"--tls-min", O_TLS_MIN, true},
	{"--tls-max", O_TLS_MAX, true},
	{"--resumption", O_RESUMPTION, true},
	{"--check-config", O_CHECK_CONFIG, false},
	{"--log-level", O_LOG_LEVEL, true},
	{"-h", O_HELP, false},
	{"--help", O_HELP, false},
	{"--version", O_VERSION, false},
	{"--accel", O_ACCEL, true},
	{"--ciphers", O_CIPHERS, true},
	{"--client-auth", O_CLIENT_AUTH, true},
	{"--ca", O_CA, true},
	{"--handshake-timeout", O_HANDSHAKE_TIMEOUT, true},
	{"--idle-timeout", O_IDLE_TIMEOUT, true},
	{"--drain-timeout", O_DRAIN_TIMEOUT, true},
	{"--session-cache", O_SESSION_CACHE, true},
	{"--tickets", O_TICKETS, true},
	{"--ticket-rotation", O_TICKET_ROTATION, true},
	{"--ticket-key-file", O_TICKET_KEY_FILE, true},
	{"--psk-modes", O_PSK_MODES, true},
	{"--dpdk-prefix", O_DPDK_PREFIX, true},
	{"--dpdk-gateway", O_DPDK_GATEWAY, true},
	{"--dpdk-max-conns", O_DPDK_MAX_CONNS, true},
	{"--max-conns", O_MAX_CONNS, true},
	{"--max-handshakes", O_MAX_HANDSHAKES, true},
	{"--conn-buffer", O_CONN_BUFFER, true},
	{"--max-handshake-message", O_MAX_HS_MESSAGE, true},
	{"--batch-delay-us", O_BATCH_DELAY, true},
	{"--batch-min", O_BATCH_MIN, true},
	{"--session-store", O_SESSION_STORE, true},
	{"--session-store-timeout-ms", O_SESSION_STORE_TIMEOUT, true},
	{"--session-store-tls13", O_SESSION_STORE_TLS13, true},
	{"--log-format", O_LOG_FORMAT, true},
	{"--access-log", O_ACCESS_LOG, true},
	{"--metrics", O_METRICS, true},
};

/* The option of arg ("--workers" or "--workers=4"); *inline_val gets the
 * text after '=' or NULL. */
static const struct opt *
opt_find(const char *arg, const char **inline_val)
{
	*inline_val = NULL;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t len = strlen(opts[i].name);

		if (strcmp(arg, opts[i].name) == 0)
			return &opts[i];
		if (opts[i].has_arg && opts[i].name[1] == '-' && strncmp(arg, opts[i].name, len) == 0 &&
		    arg[len] == '=') {
			*inline_val = arg + len + 1;
			return &opts[i];
		}
	}
	return NULL;
}

/* TLS flags apply to every listener once all flags are read, so their
 * place relative to --listen does not matter. */
struct tls_override {
	bool min_set, max_set, ciphers_set, client_auth_set, resumption_set;
	uint16_t min, max;
	uint32_t max_hs_message;   /* 0: not given */
	const char *ciphers;
	int client_auth;
	const char *ca;
	bool resumption;
};

struct args {
	struct cfg_addr listens[CFG_MAX_LISTENERS];
	size_t n_listens;
	const char *certs[CFG_MAX_CERTS];
	size_t n_certs;
	const char *keys[CFG_MAX_CERTS];
	size_t n_keys;
	const char *ocsps[CFG_MAX_CERTS]; /* by --cert; NULL: none */
	bool workers_given, cores_given, backends_given;
	struct tls_override tls;
};

static int
tls_apply(struct cfg_tls *t, const struct tls_override *o, char *err, size_t errlen)
{
	if (o->min_set)
		t->version_min = o->min;
	if (o->max_set)
		t->version_max = o->max;
	if (o->ciphers_set) {
		int w;

		cfg_list_clear(t->ciphers, &t->n_ciphers);
		t->policy = CFG_POLICY_NONE;
		/* One flag for both forms, as hsk_ctx_set_suites() takes them. */
		if (cfg_value_parse_word(cfg_policy_words, o->ciphers, &w, NULL, 0) == 0) {
			t->policy = (enum cfg_policy)w;
		} else if (cfg_value_parse_list(o->ciphers, ":,", false, t->ciphers, CFG_MAX_SUITES,
						&t->n_ciphers, err, errlen) != 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err ? err : "");
			return cfg_errf(err, errlen, "--ciphers: %s", why);
		}
	}
	if (o->client_auth_set)
		t->client_auth = (enum cfg_client_auth)o->client_auth;
	if (o->ca != NULL && cfg_str_set(&t->ca_file, o->ca) != 0)
		return cfg_errf(err, errlen, "out of memory");
	if (o->resumption_set)
		t->resumption = o->resumption;
	if (o->max_hs_message != 0)
		t->max_handshake_message = o->max_hs_message;
	return 0;
}

static int
listeners_apply(struct cfg *cfg, const struct args *a, char *err, size_t errlen)
{
	struct cfg_listener *first;

	if (a->n_certs != a->n_keys)
		return cfg_errf(err, errlen, "--cert given %zu times but --key %zu times: give them in pairs",
				a->n_certs, a->n_keys);
	if (a->n_listens == 0 && a->n_certs == 0)
		return 0;
	if (cfg->n_listeners == 0) {
		if (cfg_listener_add(cfg, "command line", err, errlen) == NULL)
			return -1;
		if (cfg_value_parse_addr(CFG_DEFAULT_LISTEN, false, &cfg->listeners[0].addr, err, errlen) != 0)
			return -1;
	}
	first = &cfg->listeners[0];
	if (a->n_certs > 0) {
		cfg_certs_clear(first);
		for (size_t i = 0; i < a->n_certs; i++) {
			first->n_certs = i + 1;
			if (cfg_str_set(&first->certs[i].cert_file, a->certs[i]) != 0 ||
			    cfg_str_set(&first->certs[i].key_file, a->keys[i]) != 0 ||
			    (a->ocsps[i] != NULL && cfg_str_set(&first->certs[i].ocsp_file, a->ocsps[i]) != 0))
				return cfg_errf(err, errlen, "out of memory");
		}
	}
	if (a->n_listens > 0) {
		first->addr = a->listens[0];
		if (strcmp(first->origin, "command line") != 0) {
			size_t len = strlen(first->origin);
			snprintf(first->origin + len, sizeof(first->origin) - len, ", address from --listen");
		}
	}
	for (size_t i = 1; i < a->n_listens; i++) {
		struct cfg_listener *l;

		if (cfg->n_listeners >= CFG_MAX_LISTENERS)
			return cfg_errf(err, errlen, "--listen: too many listeners (at most %d)", CFG_MAX_LISTENERS);
		l = &cfg->listeners[cfg->n_listeners];
		if (cfg_listener_copy(l, &cfg->listeners[0]) != 0)
			return cfg_errf(err, errlen, "out of memory");
		cfg->n_listeners++;
		l->addr = a->listens[i];
		snprintf(l->origin, sizeof(l->origin), "command line (--listen)");
	}
	return 0;
}

/* Pass 1: -h/--version anywhere before "--", and the -c file. */
static int
args_scan(int argc, char **argv, const char **config, char *err, size_t errlen)
{
	*config = NULL;
	for (int i = 1; i < argc; i++) {
		const char *val;
		const struct opt *o;

		if (strcmp(argv[i], "--") == 0)
			break;
		o = opt_find(argv[i], &val);
		if (o == NULL)
			continue; /* reported in pass 2, unless -h or --version wins */
		switch (o->id) {
		case O_HELP:
			return CFG_ARGS_HELP;
		case O_VERSION:
			return CFG_ARGS_VERSION;
		case O_CONFIG:
			if (val == NULL && i + 1 < argc)
				val = argv[i + 1];
			if (*config != NULL && val != NULL)
				return cfg_errf(err, errlen, "-c given twice ('%s' and '%s')", *config, val);
			*config = val;
			break;
		default:
			break;
		}
		if (o->has_arg && opt_find(argv[i], &val) != NULL && val == NULL)
			i++; /* skip the value: "--cert -h" names a file */
	}
	return CFG_ARGS_OK;
}

static int
arg_word(const char *flag, const struct cfg_word *words, const char *val, int *out, char *err, size_t errlen)
{
	char why[256];

	if (cfg_value_parse_word(words, val, out, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "%s: %s", flag, why);
	return 0;
}

/* Bytes, min..max. */
static int
arg_size(const char *flag, const char *val, uint64_t min, uint64_t max, uint64_t *n, char *err, size_t errlen)
{
	char why[256];

	if (cfg_value_parse_size(val, max, n, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "%s: %s", flag, why);
	if (*n < min)
		return cfg_errf(err, errlen, "%s: at least %llu bytes", flag, (unsigned long long)min);
	return 0;
}

/* One flag of pass 2. */
static int
arg_apply(struct cfg *cfg, struct args *a, const struct opt *o, const char *flag, const char *val,
	  char *err, size_t errlen)
{
	char why[256];
	uint64_t n;
	uint32_t ms;
	int w;

	switch (o->id) {
	case O_CONFIG:
	case O_HELP:
	case O_VERSION:
		return 0; /* pass 1 */
	case O_DATAPLANE:
		if (arg_word(flag, cfg_dataplane_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->dataplane = (enum cfg_dataplane)w;
		return 0;
	case O_MODE:
		if (arg_word(flag, cfg_mode_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->mode = (enum cfg_mode)w;
		return 0;
	case O_ACCEL:
		if (arg_word(flag, cfg_accel_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->accel = (enum cfg_accel)w;
		return 0;
	case O_LOG_LEVEL:
		if (arg_word(flag, cfg_log_level_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->log_level = (enum cfg_log_level)w;
		return 0;
	case O_LOG_FORMAT:
		if (arg_word(flag, cfg_log_format_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->log_format = (enum cfg_log_format)w;
		return 0;
	case O_ACCESS_LOG:
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty file name", flag);
		if (cfg_str_set(&cfg->access_log, val) != 0)
			return cfg_errf(err, errlen, "%s: out of memory", flag);
		return 0;
	case O_METRICS:
		if (cfg_value_parse_addr(val, false, &cfg->metrics, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->metrics_on = true;
		return 0;
	case O_LISTEN:
		if (a->n_listens >= CFG_MAX_LISTENERS)
			return cfg_errf(err, errlen, "%s: too many (at most %d)", flag, CFG_MAX_LISTENERS);
		if (cfg_value_parse_addr(val, false, &a->listens[a->n_listens], why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->n_listens++;
		return 0;
	case O_CERT:
		if (a->n_certs >= CFG_MAX_CERTS)
			return cfg_errf(err, errlen, "%s: too many (at most %d)", flag, CFG_MAX_CERTS);
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty file name", flag);
		a->certs[a->n_certs++] = val;
		return 0;
	case O_KEY:
		if (a->n_keys >= CFG_MAX_CERTS)
			return cfg_errf(err, errlen, "%s: too many (at most %d)", flag, CFG_MAX_CERTS);
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty file name", flag);
		if (a->n_keys >= a->n_certs)
			return cfg_errf(err, errlen, "%s '%s' without a --cert before it", flag, val);
		a->keys[a->n_keys++] = val;
		return 0;
	case O_OCSP: /* the --cert before it, as --key pairs with a --cert */
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty file name", flag);
		if (a->n_certs == 0)
			return cfg_errf(err, errlen, "%s '%s' without a --cert before it", flag, val);
		if (a->ocsps[a->n_certs - 1] != NULL)
			return cfg_errf(err, errlen, "%s given twice for --cert '%s'", flag, a->certs[a->n_certs - 1]);
		a->ocsps[a->n_certs - 1] = val;
		return 0;
	case O_WORKERS:
		if (a->cores_given)
			return cfg_errf(err, errlen, "--workers and --cores exclude each other");
		if (cfg_value_parse_uint(val, 1, CFG_MAX_WORKERS, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->workers_given = true;
		cfg->workers = (unsigned)n;
		cfg->n_cores = 0;
		return 0;
	case O_CORES:
		if (a->workers_given)
			return cfg_errf(err, errlen, "--workers and --cores exclude each other");
		cfg->n_cores = 0;
		if (cfg_value_parse_cores(val, cfg->cores, CFG_MAX_WORKERS, &cfg->n_cores, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->cores_given = true;
		cfg->workers = (unsigned)cfg->n_cores;
		return 0;
	case O_BACKEND:
		if (!a->backends_given)
			cfg->n_backends = 0; /* the command line's list replaces the file's */
		a->backends_given = true;
		if (cfg->n_backends >= CFG_MAX_BACKENDS)
			return cfg_errf(err, errlen, "%s: too many (at most %d)", flag, CFG_MAX_BACKENDS);
		if (cfg_value_parse_addr(val, true, &cfg->backends[cfg->n_backends], why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->n_backends++;
		return 0;
	case O_BALANCE:
		if (arg_word(flag, cfg_balance_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->proxy.balance = (enum cfg_balance)w;
		return 0;
	case O_PROXY_PROTOCOL:
		if (arg_word(flag, cfg_proxy_protocol_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->proxy.proxy_protocol = (enum cfg_proxy_protocol)w;
		return 0;
	case O_RESPONSE_SIZE:
		if (cfg_value_parse_size(val, CFG_MAX_RESPONSE_SIZE, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->response_size = (size_t)n;
		return 0;
	case O_DPDK_PREFIX:
		if (cfg_value_parse_uint(val, 1, 32, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->dpdk_prefix_len = (unsigned)n;
		return 0;
	case O_DPDK_MAX_CONNS:
		if (cfg_value_parse_uint(val, 1, CFG_MAX_DPDK_CONNS, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->dpdk_max_conns = (uint32_t)n;
		return 0;
	case O_DPDK_GATEWAY:
		if (cfg_value_parse_ipv4(val, &cfg->dpdk_gateway, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		return 0;
	case O_SESSION_CACHE:
		if (cfg_value_parse_size(val, UINT32_MAX, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->session_cache_size = (uint32_t)n;
		return 0;
	case O_TICKETS:
		if (cfg_value_parse_uint(val, 0, 16, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->tickets = (unsigned)n;
		return 0;
	case O_TICKET_ROTATION:
		if (cfg_value_parse_duration(val, &ms, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		if (ms < 1000)
			return cfg_errf(err, errlen, "%s: at least 1s", flag);
		cfg->ticket_rotation_s = ms / 1000;
		return 0;
	case O_PSK_MODES: {
		int set;
		if (cfg_value_parse_word_set(cfg_psk_mode_words, val, &set, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->psk_modes = (unsigned)set;
		return 0;
	}
	case O_SESSION_STORE:
		if (cfg_value_parse_store_url(val, &cfg->session_store, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		return 0;
	case O_SESSION_STORE_TIMEOUT:
		if (cfg_value_parse_uint(val, 1, 10000, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->session_store.timeout_ms = (uint32_t)n;
		return 0;
	case O_SESSION_STORE_TLS13:
		if (arg_word(flag, cfg_store13_words, val, &w, err, errlen) != 0)
			return -1;
		cfg->session_store.tls13 = (enum cfg_store13)w;
		return 0;
	case O_TICKET_KEY_FILE:
		free(cfg->ticket_key_file);
		cfg->ticket_key_file = strdup(val);
		if (cfg->ticket_key_file == NULL)
			return cfg_errf(err, errlen, "%s: out of memory", flag);
		return 0;
	case O_HANDSHAKE_TIMEOUT:
		if (cfg_value_parse_duration(val, &ms, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		if (ms == 0)
			return cfg_errf(err, errlen, "%s: must be above 0", flag);
		cfg->handshake_timeout_ms = ms;
		return 0;
	case O_MAX_CONNS:
	case O_MAX_HANDSHAKES:
		if (cfg_value_parse_uint(val, 1, CFG_MAX_MAX_CONNS, &n, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		if (o->id == O_MAX_CONNS)
			cfg->max_conns = (uint32_t)n;
		else
			cfg->max_handshakes = (uint32_t)n;
		return 0;
	case O_BATCH_DELAY:
	case O_BATCH_MIN:
		if (cfg_value_parse_uint(val, o->id == O_BATCH_MIN ? 1 : 0,
					 o->id == O_BATCH_MIN ? CFG_MAX_BATCH_MIN : CFG_MAX_BATCH_DELAY_US, &n, why,
					 sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		if (o->id == O_BATCH_MIN)
			cfg->batch_min = (uint32_t)n;
		else
			cfg->batch_delay_us = (uint32_t)n;
		return 0;
	case O_CONN_BUFFER:
		if (arg_size(flag, val, CFG_MIN_CONN_BUFFER, CFG_MAX_CONN_BUFFER, &n, err, errlen) != 0)
			return -1;
		cfg->conn_buffer = (uint32_t)n;
		return 0;
	case O_MAX_HS_MESSAGE:
		if (arg_size(flag, val, CFG_MIN_MAX_HANDSHAKE_MESSAGE, CFG_MAX_MAX_HANDSHAKE_MESSAGE, &n, err,
			     errlen) != 0)
			return -1;
		a->tls.max_hs_message = (uint32_t)n;
		return 0;
	case O_IDLE_TIMEOUT:
		if (cfg_value_parse_duration(val, &ms, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->idle_timeout_ms = ms;
		return 0;
	case O_DRAIN_TIMEOUT:
		if (cfg_value_parse_duration(val, &ms, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		cfg->drain_timeout_ms = ms;
		return 0;
	case O_TLS_MIN:
		if (cfg_value_parse_version(val, &a->tls.min, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->tls.min_set = true;
		return 0;
	case O_TLS_MAX:
		if (cfg_value_parse_version(val, &a->tls.max, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->tls.max_set = true;
		return 0;
	case O_CIPHERS:
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty list", flag);
		a->tls.ciphers = val;
		a->tls.ciphers_set = true;
		return 0;
	case O_CLIENT_AUTH:
		if (arg_word(flag, cfg_client_auth_words, val, &a->tls.client_auth, err, errlen) != 0)
			return -1;
		a->tls.client_auth_set = true;
		return 0;
	case O_CA:
		if (val[0] == '\0')
			return cfg_errf(err, errlen, "%s: empty file name", flag);
		a->tls.ca = val;
		return 0;
	case O_RESUMPTION: {
		bool b;
		if (cfg_value_parse_bool(val, &b, why, sizeof(why)) != 0)
			return cfg_errf(err, errlen, "%s: %s", flag, why);
		a->tls.resumption = b;
		a->tls.resumption_set = true;
		return 0;
	}
	case O_CHECK_CONFIG:
		cfg->check_config = true;
		return 0;
	default:
		return cfg_errf(err, errlen, "%s: not handled", flag);
	}
}

int
cfg_parse_args(struct cfg *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct args *a;
	const char *config;
	int rc, i;

	rc = args_scan(argc, argv, &config, err, errlen);
	if (rc != CFG_ARGS_OK)
		return rc;
	if (config != NULL && cfg_load_file(cfg, config, err, errlen) != 0)
		return CFG_ARGS_ERROR;

	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return cfg_errf(err, errlen, "out of memory");
	rc = CFG_ARGS_ERROR;
	for (i = 1; i < argc; i++) {
		const char *val;
		const struct opt *o;

		if (strcmp(argv[i], "--") == 0) {
			/* The EAL arguments of the command line replace the file's. */
			cfg_list_clear(cfg->eal_args, &cfg->n_eal_args);
			for (i++; i < argc; i++) {
				if (cfg_list_add(cfg->eal_args, CFG_MAX_EAL_ARGS, &cfg->n_eal_args, argv[i],
						 err, errlen) != 0)
					goto out;
			}
			break;
		}
		o = opt_find(argv[i], &val);
		if (o == NULL) {
			if (argv[i][0] == '-')
				cfg_errf(err, errlen, "unknown option '%s' (see --help)", argv[i]);
			else
				cfg_errf(err, errlen, "unexpected argument '%s' (see --help)", argv[i]);
			goto out;
		}
		if (o->has_arg && val == NULL) {
			if (i + 1 >= argc) {
				cfg_errf(err, errlen, "%s needs a value", o->name);
				goto out;
			}
			val = argv[++i];
		}
		if (arg_apply(cfg, a, o, o->name, val, err, errlen) != 0)
			goto out;
	}
	if (listeners_apply(cfg, a, err, errlen) != 0)
		goto out;
	if (tls_apply(&cfg->tls, &a->tls, err, errlen) != 0)
		goto out;
	for (size_t l = 0; l < cfg->n_listeners; l++) {
		if (tls_apply(&cfg->listeners[l].tls, &a->tls, err, errlen) != 0)
			goto out;
	}
	if (cfg->n_listeners == 0) {
		if (cfg_listener_add(cfg, "default", err, errlen) == NULL ||
		    cfg_value_parse_addr(CFG_DEFAULT_LISTEN, false, &cfg->listeners[0].addr, err, errlen) != 0)
			goto out;
	}
	rc = CFG_ARGS_OK;
out:
	free(a);
	return rc;
}
