/* Configuration: a YAML file (libyaml) and the command line (DESIGN.md
 * "Command line") parsed into plain structs. Nothing here knows the TLS
 * engine or the executor: names of suites, groups and signature schemes
 * stay strings, and the dataplane's main turns a struct cfg into engine
 * contexts (hsk_ctx_*). Groups and signature schemes are checked against
 * the names we know at load time so a typo fails with its file:line; the
 * cipher suite names are resolved (and rejected) by the engine.
 *
 * Strings in these structs are heap copies owned by the struct; cfg_free()
 * releases them. Counts never exceed the CFG_MAX_* capacities. */
#ifndef CFG_H
#define CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CFG_MUST_CHECK __attribute__((warn_unused_result))

/* Capacities. The TLS ones equal hsk_ctx.h's HSK_MAX_* (config does not
 * include handshake/; the dataplane may static_assert the equality). */
#define CFG_MAX_LISTENERS 16
#define CFG_MAX_CERTS 32       /* HSK_MAX_CERTS: per listener, RSA and ECDSA per name */
#define CFG_MAX_CERT_NAMES 16  /* explicit names: of one certificate */
#define CFG_MAX_SUITES 32      /* HSK_MAX_SUITES */
#define CFG_MAX_GROUPS 8       /* HSK_MAX_GROUPS */
#define CFG_MAX_SIGALGS 16     /* HSK_MAX_SIGALGS */
#define CFG_MAX_ALPN 4         /* HSK_MAX_ALPN */
#define CFG_MAX_BACKENDS 64
#define CFG_MAX_WORKERS 256    /* workers, and entries of a core list */
#define CFG_MAX_CPU 1024       /* core ids are < CFG_MAX_CPU (CPU_SETSIZE) */
#define CFG_MAX_EAL_ARGS 64
#define CFG_MAX_RESPONSE_SIZE (64u << 20)
#define CFG_HOST_MAX 256       /* a DNS name is at most 253 characters */
#define CFG_ORIGIN_MAX 256

/* Defaults (cfg_init). */
#define CFG_DEFAULT_LISTEN "127.0.0.1:8443"
#define CFG_DEFAULT_WORKERS 1
#define CFG_DEFAULT_RESPONSE_SIZE 0 /* issue: "--response-size bytes (default 0)" */
#define CFG_DEFAULT_SESSION_CACHE 20480      /* entries, all workers together */
#define CFG_DEFAULT_SESSION_LIFETIME_S 300
#define CFG_DEFAULT_TICKET_ROTATION_S 3600
#define CFG_DEFAULT_TICKETS 2
#define CFG_DEFAULT_STORE_TIMEOUT_MS 2
#define CFG_DEFAULT_DPDK_CONNS 4096
#define CFG_MAX_DPDK_CONNS 65534
#define CFG_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define CFG_DEFAULT_IDLE_TIMEOUT_MS 60000
#define CFG_DEFAULT_DRAIN_TIMEOUT_MS 10000
/* Limits (hostile clients): per worker, and per connection. A connection
 * object holds about 70 KiB (the engine's record buffers), so the
 * default connection limit bounds a worker near 700 MiB. */
#define CFG_DEFAULT_MAX_CONNS 10000        /* connections per worker */
#define CFG_MAX_MAX_CONNS 1000000
#define CFG_DEFAULT_MAX_HANDSHAKES 2048    /* handshakes in flight per worker */
#define CFG_DEFAULT_CONN_BUFFER (256u << 10) /* kernel socket buffer each way */
/* The bounded flush delay (issue 14): off by default; at most 10 ms, as
 * every held handshake waits for it; a batch of the IFMA lanes is 8. */
#define CFG_MAX_BATCH_DELAY_US 10000
#define CFG_DEFAULT_BATCH_MIN 8
#define CFG_MAX_BATCH_MIN 64
#define CFG_MIN_CONN_BUFFER (4u << 10)
#define CFG_MAX_CONN_BUFFER (64u << 20)
/* Largest handshake message: 131,396 bytes, the largest ClientHello the
 * grammar allows (HSK_CLIENT_HELLO_MAX), lets every well-formed hello and
 * ordinary client certificate chains through; a message length is a
 * 24-bit field (RFC 8446 4), hence the maximum. */
#define CFG_DEFAULT_MAX_HANDSHAKE_MESSAGE 131396u
#define CFG_MIN_MAX_HANDSHAKE_MESSAGE (16u << 10)
#define CFG_MAX_MAX_HANDSHAKE_MESSAGE ((1u << 24) - 1)
#define CFG_DEFAULT_CONNECT_TIMEOUT_MS 2000
#define CFG_DEFAULT_HEALTH_INTERVAL_MS 2000
#define CFG_DEFAULT_HEALTH_RISE 2
#define CFG_DEFAULT_HEALTH_FALL 3
#define CFG_MAX_HEALTH_COUNT 100

/* Protocol versions as on the wire (RFC 5246, RFC 8446). */
#define CFG_TLS12 0x0303
#define CFG_TLS13 0x0304

enum cfg_dataplane {
	CFG_DATAPLANE_KERNEL = 0,
	CFG_DATAPLANE_DPDK = 1,
};

/* What a TLS 1.3 NewSessionTicket carries with a session store. */
enum cfg_store13 {
	CFG_STORE13_STORE = 0,     /* an identity of a store entry (the state in the store) */
	CFG_STORE13_TICKET = 1,    /* the sealed state itself (stateless, as without a store) */
};

enum cfg_mode {
	CFG_MODE_RESPOND = 0,
	CFG_MODE_PROXY = 1,
};

/* How proxy mode picks a backend for a new connection. */
enum cfg_balance {
	CFG_BALANCE_ROUNDROBIN = 0,
	CFG_BALANCE_LEASTCONN = 1,
};

enum cfg_proxy_protocol {
	CFG_PROXY_PROTOCOL_OFF = 0,
	CFG_PROXY_PROTOCOL_V2 = 2, /* haproxy's proxy-protocol.txt, binary header with TLS TLVs */
};

enum cfg_accel {
	CFG_ACCEL_AUTO = 0,
	CFG_ACCEL_OPENSSL = 1,
	CFG_ACCEL_IFMA = 2,
};

/* Log lines (dp_log) and access log lines: text or one JSON object each. */
enum cfg_log_format {
	CFG_LOG_TEXT = 0,
	CFG_LOG_JSON = 1,
};

enum cfg_log_level {
	CFG_LOG_ERROR = 0,
	CFG_LOG_WARN = 1,
	CFG_LOG_INFO = 2,
	CFG_LOG_DEBUG = 3,
};

/* A named suite policy; CFG_POLICY_NONE means "the explicit ciphers list,
 * or the engine's default when that list is empty". */
enum cfg_policy {
	CFG_POLICY_NONE = 0,
	CFG_POLICY_MODERN = 1,
	CFG_POLICY_INTERMEDIATE = 2,
	CFG_POLICY_OLD = 3,
};

/* Same values as enum hsk_client_auth. */
/* TLS 1.3 PSK key-exchange modes accepted for resumption (RFC 8446 4.2.9). */
enum cfg_psk_mode {
	CFG_PSK_DHE_KE = 1 << 0, /* a fresh (EC)DHE with the PSK: forward secret */
	CFG_PSK_KE = 1 << 1,     /* the PSK alone: cheaper, not forward secret */
};

enum cfg_client_auth {
	CFG_CLIENT_AUTH_NONE = 0,
	CFG_CLIENT_AUTH_OPTIONAL = 1,
	CFG_CLIENT_AUTH_REQUIRE = 2,
};

/* HOST:PORT. Listeners are numeric ("127.0.0.1:8443", "[::1]:8443",
 * "[fe80::1%eth0]:8443"); backends may also name a host, resolved by the
 * dataplane at start (family AF_UNSPEC, sa_len 0). */
struct cfg_addr {
	char host[CFG_HOST_MAX];   /* as written, without brackets: "::1" */
	uint16_t port;
	int family;                /* AF_INET, AF_INET6, or AF_UNSPEC for a name */
	struct sockaddr_storage sa; /* numeric addresses: ready for bind()/connect() */
	socklen_t sa_len;
};

/* A session store shared by a fleet (hsk_store.h): redis://HOST:PORT[/DB]
 * with a numeric address (a worker never waits on a name lookup). */
struct cfg_store {
	bool on;
	struct cfg_addr addr;
	unsigned db;               /* SELECTed after connecting */
	uint32_t timeout_ms;       /* a lookup's answer (CFG_DEFAULT_STORE_TIMEOUT_MS) */
	enum cfg_store13 tls13;    /* TLS 1.3 resumption state: in the store (default) or in tickets */
};

struct cfg_cert {
	char *cert_file;           /* PEM chain, leaf first */
	char *key_file;            /* PEM private key */
	char *ocsp_file;           /* DER OCSP response to staple, or NULL */
	/* Server names it is chosen for ("www.example.com", "*.example.com");
	 * none: the names in the certificate (subjectAltName DNS). */
	char *names[CFG_MAX_CERT_NAMES];
	size_t n_names;
};

/* TLS policy of a listener. Empty lists and version 0 mean "the engine's
 * default" (hsk_ctx_init). */
struct cfg_tls {
	uint16_t version_min;      /* 0, CFG_TLS12 or CFG_TLS13 */
	uint16_t version_max;
	enum cfg_policy policy;    /* exclusive with ciphers */
	char *ciphers[CFG_MAX_SUITES]; /* OpenSSL or IANA names, preference order */
	size_t n_ciphers;
	char *groups[CFG_MAX_GROUPS];  /* "x25519", "secp256r1"/"P-256", ... (cfg_tls_group_id) */
	size_t n_groups;
	char *sigalgs[CFG_MAX_SIGALGS]; /* "rsa_pss_rsae_sha256", "ECDSA+SHA256", ... (cfg_tls_sigalg_id) */
	size_t n_sigalgs;
	char *alpn[CFG_MAX_ALPN];  /* "http/1.1", server preference */
	size_t n_alpn;
	enum cfg_client_auth client_auth;
	char *ca_file;             /* PEM CAs for client certificates */
	bool resumption;           /* session IDs and tickets */
	uint32_t max_handshake_message; /* bytes of one handshake message (CFG_DEFAULT_MAX_HANDSHAKE_MESSAGE) */
};

struct cfg_listener {
	struct cfg_addr addr;
	struct cfg_cert certs[CFG_MAX_CERTS];
	size_t n_certs;
	struct cfg_tls tls;
	/* Where it was defined, for error messages of later stages:
	 * "tls.yaml:7:5", "command line", "default". */
	char origin[CFG_ORIGIN_MAX];
};

/* Proxy mode's backend pool (the addresses are cfg->backends). */
struct cfg_proxy {
	enum cfg_balance balance;
	uint32_t connect_timeout_ms;   /* > 0: then the next backend is tried */
	/* Active health checks: a TCP connect every interval; rise successes
	 * in a row bring a backend up, fall failures in a row take it down.
	 * interval 0: no active checks (connect failures still count). */
	uint32_t health_interval_ms;
	unsigned health_rise, health_fall; /* 1..CFG_MAX_HEALTH_COUNT */
	enum cfg_proxy_protocol proxy_protocol;
};

struct cfg {
	char *config_file;         /* -c FILE, or NULL */
	enum cfg_dataplane dataplane;
	enum cfg_mode mode;
	/* Worker count; with a core list, workers == n_cores and worker i is
	 * pinned to cores[i]. Without one, the dataplane picks the cores. */
	unsigned workers;
	uint16_t cores[CFG_MAX_WORKERS];
	size_t n_cores;
	struct cfg_listener listeners[CFG_MAX_LISTENERS];
	size_t n_listeners;
	/* Top-level "tls:" section: the starting point of every listener's
	 * policy (each listener's own "tls:" keys override it). */
	struct cfg_tls tls;
	size_t response_size;      /* respond mode: bytes of response body */
	struct cfg_addr backends[CFG_MAX_BACKENDS]; /* proxy mode */
	size_t n_backends;
	struct cfg_proxy proxy;
	uint32_t session_cache_size; /* entries */
	uint32_t session_lifetime_s;
	/* Session tickets (TLS 1.2 RFC 5077, TLS 1.3 NewSessionTicket): keys
	 * rotate every ticket_rotation_s (random keys), or are read from
	 * ticket_key_file (shared by a fleet; re-read when it changes). */
	char *ticket_key_file;
	uint32_t ticket_rotation_s;
	unsigned tickets;          /* NewSessionTicket messages per TLS 1.3 handshake; 0: none */
	unsigned psk_modes;        /* CFG_PSK_* (default psk_dhe_ke) */
	struct cfg_store session_store;
	uint32_t handshake_timeout_ms; /* > 0 */
	uint32_t idle_timeout_ms;  /* 0: no idle timeout */
	/* SIGTERM/SIGINT: listeners close, what is in flight gets this long
	 * to finish; 0: close at once */
	uint32_t drain_timeout_ms;
	/* limits: beyond max_conns or max_handshakes a new connection is
	 * reset at accept (and counted); conn_buffer bounds each kernel
	 * socket's send and receive buffers (SO_SNDBUF, SO_RCVBUF) */
	uint32_t max_conns;        /* per worker (CFG_DEFAULT_MAX_CONNS) */
	uint32_t max_handshakes;   /* per worker, not yet established (CFG_DEFAULT_MAX_HANDSHAKES) */
	uint32_t conn_buffer;      /* bytes (CFG_DEFAULT_CONN_BUFFER) */
	enum cfg_accel accel;
	/* batch: a worker holds its queued crypto jobs until batch_min of one
	 * operation and key are queued or batch_delay_us have passed
	 * (acc_exec_set_hold); 0: flush at the end of every poll iteration */
	uint32_t batch_delay_us;
	uint32_t batch_min;        /* 1..CFG_MAX_BATCH_MIN (CFG_DEFAULT_BATCH_MIN) */
	enum cfg_log_level log_level;
	enum cfg_log_format log_format; /* --log-format (default text) */
	char *access_log;          /* --access-log FILE, "-" for stderr; NULL: none */
	bool metrics_on;           /* --metrics ADDR:PORT given */
	struct cfg_addr metrics;   /* where the Prometheus text is served (a control thread) */
	char *eal_args[CFG_MAX_EAL_ARGS]; /* dpdk dataplane, without argv[0] */
	size_t n_eal_args;
	/* dpdk dataplane: the listen addresses' subnet on the port, and the
	 * next hop for everything outside it (IPv4, host order; 0: none) */
	unsigned dpdk_prefix_len;
	uint32_t dpdk_gateway;
	uint32_t dpdk_max_conns;   /* TCP connections per worker (CFG_DEFAULT_DPDK_CONNS) */
	bool check_config;         /* --check-config: validate, load keys, exit */
};

/* cfg_parse_args() results. */
enum {
	CFG_ARGS_OK = 0,
	CFG_ARGS_ERROR = -1,
	CFG_ARGS_HELP = 1,         /* -h/--help: print cfg_usage(stdout), exit 0 */
	CFG_ARGS_VERSION = 2,      /* --version: print cfg_version(), exit 0 */
};

/* Defaults: kernel dataplane, respond mode, 1 worker, no listener yet
 * (cfg_parse_args adds 127.0.0.1:8443 when none is given), resumption on,
 * log level info, accel auto, timeouts and cache sizes as CFG_DEFAULT_*. */
void cfg_init(struct cfg *cfg);

/* Release every string; cfg is left as after cfg_init(). Safe on a cfg
 * that failed to load. */
void cfg_free(struct cfg *cfg);

/* Apply a YAML file on top of cfg. Unknown keys, wrong types, unknown
 * words and values out of range are errors; the message starts with
 * "PATH:LINE:COLUMN: ". Relative file names inside (certificates, CA) are
 * kept as written: they are relative to the working directory, as on the
 * command line. On error cfg may be partly updated (free it). */
CFG_MUST_CHECK int cfg_load_file(struct cfg *cfg, const char *path, char *err, size_t errlen);

/* The command line (argv[0] is the program name; argv is not modified).
 * -h/--help and --version win over everything else and are found before
 * -c is loaded. Otherwise -c FILE (or --config FILE) is loaded first,
 * wherever it is written, then the flags apply in order on top of it:
 *  - scalar flags replace the file's value; the last one given wins;
 *  - --workers and --cores replace each other (both given: error);
 *  - the --backend list replaces the file's backends;
 *  - arguments after "--" replace the file's dpdk eal_args;
 *  - --listen/--cert/--key describe the FIRST listener (listeners[0]),
 *    created at 127.0.0.1:8443 with the top-level tls: policy if the file
 *    has none: the --cert/--key pairs (i-th --cert with i-th --key, counts
 *    must match) replace its certificates; the first --listen replaces its
 *    address; each further --listen appends a copy of it (certificates and
 *    TLS policy) at that address. The file's other listeners stay;
 *  - --tls-min, --tls-max, --ciphers, --client-auth, --ca, --resumption
 *    apply to cfg->tls and to every listener, after the above;
 *  - with no listener at all, one at 127.0.0.1:8443 (origin "default").
 * Returns a CFG_ARGS_* value; on CFG_ARGS_ERROR err says which flag (or
 * FILE:LINE:COL for the file). */
CFG_MUST_CHECK int cfg_parse_args(struct cfg *cfg, int argc, char **argv, char *err, size_t errlen);

/* Whole-configuration checks: at least one listener, each with a
 * certificate and key, no duplicate addresses, TLS versions and names,
 * client_auth with a CA, workers vs cores (and cores we may run on),
 * proxy mode with backends, and that every certificate, key and CA file
 * is a readable regular file. Does not parse PEM (the engine does).
 * Returns 0 or -1 with a message. */
CFG_MUST_CHECK int cfg_validate(const struct cfg *cfg, char *err, size_t errlen);

/* The help text (the command line of DESIGN.md and the extras). */
void cfg_usage(FILE *out);

/* "tlsoffload 0.1.0". */
const char *cfg_version(void);

/* Write the effective configuration as YAML that cfg_load_file() reads
 * back to the same struct (for --check-config output and tests). */
void cfg_print(const struct cfg *cfg, FILE *out);

/* --- TLS policy helpers (cfg_tls.c) --- */

/* Defaults of a policy: everything "engine default", resumption on. */
void cfg_tls_init(struct cfg_tls *tls);
void cfg_tls_free(struct cfg_tls *tls);
/* Deep copy; dst is overwritten (freed first). Returns 0 or -1 (memory). */
CFG_MUST_CHECK int cfg_tls_copy(struct cfg_tls *dst, const struct cfg_tls *src);
/* Checks of one policy: versions, min <= max, policy xor ciphers, known
 * and distinct groups and signature schemes, ALPN lengths (RFC 7301 3.1),
 * client_auth needs ca_file and ca_file needs client_auth. */
CFG_MUST_CHECK int cfg_tls_check(const struct cfg_tls *tls, char *err, size_t errlen);
/* The suite string for hsk_ctx_set_suites(): the policy word, or the
 * ciphers joined with ':', or "" when neither is set (engine default).
 * Returns its length, or -1 if it does not fit in len. */
int cfg_tls_suites_string(const struct cfg_tls *tls, char *out, size_t len);
/* IANA NamedGroup (RFC 8446 4.2.7, RFC 7919) of a group name, 0 if unknown.
 * Names: x25519, secp256r1 (P-256, prime256v1), secp384r1 (P-384),
 * ffdhe2048, ffdhe3072; case-insensitive. */
uint16_t cfg_tls_group_id(const char *name);
/* IANA SignatureScheme (RFC 8446 4.2.3) of a name, 0 if unknown: the RFC
 * names ("rsa_pss_rsae_sha256") or OpenSSL's ("RSA-PSS+SHA256",
 * "ECDSA+SHA256", "RSA+SHA256"); case-insensitive. */
uint16_t cfg_tls_sigalg_id(const char *name);
/* "1.2", "1.3" or "default" for 0. */
const char *cfg_tls_version_name(uint16_t version);

/* Names of enum values, for logs: "kernel", "respond", "auto", "info",
 * "modern", "require"... Never NULL. */
const char *cfg_dataplane_name(enum cfg_dataplane v);
const char *cfg_mode_name(enum cfg_mode v);
const char *cfg_store13_name(enum cfg_store13 v);
const char *cfg_accel_name(enum cfg_accel v);
const char *cfg_log_level_name(enum cfg_log_level v);
const char *cfg_log_format_name(enum cfg_log_format v);
const char *cfg_policy_name(enum cfg_policy v);
const char *cfg_client_auth_name(enum cfg_client_auth v);
const char *cfg_balance_name(enum cfg_balance v);
const char *cfg_proxy_protocol_name(enum cfg_proxy_protocol v);

#ifdef __cplusplus
}
#endif
#endif
