/* tlsbench's command line (tlsbench -h lists it). Every value is checked
 * here so the client threads never meet an inconsistent combination. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tlsbench.h"

static const char usage[] =
	"usage: tlsbench [options] HOST:PORT\n"
	"  -c N                 connections in flight, all threads together (default 32)\n"
	"  -t N                 client threads (default: 1, or one per --cores entry)\n"
	"  --cores LIST         pin one thread to each listed core (\"0,1\", \"0-3\")\n"
	"  -d SECONDS           run this long (default 10) ...\n"
	"  -n COUNT             ... or make exactly COUNT connections (handshake attempts)\n"
	"  --tls 1.2|1.3|any    protocol version (default any: 1.2-1.3)\n"
	"  --ciphers LIST       TLS 1.2 suites (OpenSSL names)\n"
	"  --ciphersuites LIST  TLS 1.3 suites\n"
	"  --groups LIST        key exchange groups (X25519:P-256...)\n"
	"  --sni NAME           server name indication (also the Host of --request)\n"
	"  --alpn LIST          ALPN protocols, comma separated (h2,http/1.1)\n"
	"  --resume none|id|ticket|psk\n"
	"                       resumption: TLS 1.2 session ID or ticket, TLS 1.3 PSK (default none)\n"
	"  --resume-ratio R     share of connections that offer a session (default 1 with --resume)\n"
	"  --request PATH       send GET PATH on each connection, read the response to its\n"
	"                       Content-Length or the close\n"
	"  --rate N[/s]         start at most N connections per second (all threads)\n"
	"  --open-loop          start connections on a fixed schedule at --rate; latency counts\n"
	"                       from the scheduled start (no coordinated omission)\n"
	"  --verify CAFILE      verify the server's chain (and the --sni name) against CAFILE\n"
	"  --pin SHA256HEX      accept only this server key: sha256 of its DER SubjectPublicKeyInfo\n"
	"                       (openssl x509 -pubkey -noout -in C | openssl pkey -pubin -outform der\n"
	"                       | sha256sum)\n"
	"  --linger0 on|off     close with RST once the exchange is over, leaving no TIME_WAIT\n"
	"                       (default on)\n"
	"  --timeout SECONDS    per connection (default 10)\n"
	"  --json               print the summary as one JSON object on stdout\n"
	"  -q                   no progress lines on stderr\n"
	"  --openssl-decoders   parse the server's keys through OpenSSL 3.0's provider decoders\n"
	"                       (10x slower; by default the built-in RSA/EC methods, bench_legacy.c)\n";

enum {
	OPT_CORES = 256, OPT_TLS, OPT_CIPHERS, OPT_SUITES, OPT_GROUPS, OPT_SNI, OPT_ALPN,
	OPT_RESUME, OPT_RATIO, OPT_REQUEST, OPT_RATE, OPT_OPEN, OPT_VERIFY, OPT_PIN,
	OPT_LINGER, OPT_TIMEOUT, OPT_JSON, OPT_DECODERS,
};

static const struct option longopts[] = {
	{ "cores", required_argument, NULL, OPT_CORES },
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "ciphers", required_argument, NULL, OPT_CIPHERS },
	{ "ciphersuites", required_argument, NULL, OPT_SUITES },
	{ "groups", required_argument, NULL, OPT_GROUPS },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "alpn", required_argument, NULL, OPT_ALPN },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "resume-ratio", required_argument, NULL, OPT_RATIO },
	{ "request", required_argument, NULL, OPT_REQUEST },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "open-loop", no_argument, NULL, OPT_OPEN },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "linger0", required_argument, NULL, OPT_LINGER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "openssl-decoders", no_argument, NULL, OPT_DECODERS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
opts_fail(const char *what, const char *arg)
{
	fprintf(stderr, "tlsbench: %s: %s\n", what, arg);
	return -1;
}

/* A number in [lo, hi], the whole argument (an optional "/s" after --rate). */
static int
opts_number(const char *arg, double lo, double hi, const char *suffix, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || errno != 0 || (*end != '\0' && (suffix == NULL || strcmp(end, suffix) != 0)))
		return -1;
	if (!(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

/* "0,1" or "0-3,6": one thread per core listed. */
static int
opts_cores(struct bench_opts *o, const char *arg)
{
	const char *p = arg;

	o->n_threads = 0;
	while (*p != '\0') {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a > 4095)
			return -1;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b > 4095)
				return -1;
		}
		for (long c = a; c <= b; c++) {
			if (o->n_threads == BENCH_MAX_THREADS)
				return -1;
			o->cores[o->n_threads++] = (int)c;
		}
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		p = end;
	}
	return o->n_threads > 0 ? 0 : -1;
}

/* "h2,http/1.1" -> the ProtocolNameList of RFC 7301 3.1. */
static int
opts_alpn(struct bench_opts *o, const char *arg)
{
	const char *p = arg;

	o->alpn_len = 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == 0 || n > 255 || o->alpn_len + 1 + n > sizeof(o->alpn))
			return -1;
		o->alpn[o->alpn_len++] = (unsigned char)n;
		memcpy(o->alpn + o->alpn_len, p, n);
		o->alpn_len += (unsigned)n;
		p += n;
		if (*p == ',')
			p++;
	}
	return o->alpn_len > 0 ? 0 : -1;
}

static int
opts_pin(struct bench_opts *o, const char *arg)
{
	if (strlen(arg) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(arg + 2 * i, "%2x", &v) != 1)
			return -1;
		o->pin[i] = (unsigned char)v;
	}
	o->have_pin = true;
	return 0;
}

/* HOST:PORT, [V6]:PORT; resolved once, first address. */
static int
opts_target(struct bench_opts *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	const char *h = arg;
	size_t hl;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc;

	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= sizeof(o->port))
		return opts_fail("expected HOST:PORT", arg);
	hl = (size_t)(colon - arg);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(o->host))
		return opts_fail("expected HOST:PORT", arg);
	memcpy(o->host, h, hl);
	o->host[hl] = '\0';
	strcpy(o->port, colon + 1);
	rc = getaddrinfo(o->host, o->port, &hints, &res);
	if (rc != 0)
		return opts_fail(gai_strerror(rc), arg);
	memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
	o->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
opts_resume(struct bench_opts *o, const char *arg)
{
	static const char *const names[] = { "none", "id", "ticket", "psk" };

	for (int i = 0; i < 4; i++)
		if (strcmp(arg, names[i]) == 0) {
			o->resume = (enum bench_resume)i;
			return 0;
		}
	return -1;
}

/* The version range the resumption kind needs: session IDs and RFC 5077
 * tickets are TLS 1.2 mechanisms, PSK resumption is TLS 1.3's. */
static int
opts_check(struct bench_opts *o, bool tls_given, bool ratio_given)
{
	switch (o->resume) {
	case BENCH_RESUME_ID:
	case BENCH_RESUME_TICKET:
		if (tls_given && o->tls_min > TLS1_2_VERSION)
			return opts_fail("--resume id|ticket", "needs TLS 1.2");
		o->tls_min = o->tls_max = TLS1_2_VERSION;
		break;
	case BENCH_RESUME_PSK:
		if (tls_given && o->tls_max < TLS1_3_VERSION)
			return opts_fail("--resume psk", "needs TLS 1.3");
		o->tls_min = o->tls_max = TLS1_3_VERSION;
		break;
	case BENCH_RESUME_NONE:
		if (ratio_given && o->resume_ratio > 0)
			return opts_fail("--resume-ratio", "needs --resume id|ticket|psk");
		o->resume_ratio = 0;
		break;
	default:
		return -1;
	}
	if (o->open_loop && o->rate <= 0)
		return opts_fail("--open-loop", "needs --rate");
	if (o->n_threads > o->conns)
		return opts_fail("-c", "fewer connections than threads");
	return 0;
}

int
bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	bool tls_given = false, ratio_given = false, threads_given = false;
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	o->conns = 32;
	o->n_threads = 1;
	o->cores[0] = -1;
	o->tls_min = TLS1_2_VERSION;
	o->tls_max = TLS1_3_VERSION;
	o->resume_ratio = 1.0;
	o->linger0 = true;
	o->timeout = 10;
	while ((c = getopt_long(argc, argv, "c:t:d:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (opts_number(optarg, 1, 1e6, NULL, &v) != 0)
				return opts_fail("-c", optarg);
			o->conns = (unsigned)v;
			break;
		case 't':
			if (opts_number(optarg, 1, BENCH_MAX_THREADS, NULL, &v) != 0)
				return opts_fail("-t", optarg);
			o->n_threads = (unsigned)v;
			for (unsigned i = 0; i < o->n_threads; i++)
				o->cores[i] = -1;
			threads_given = true;
			break;
		case OPT_CORES:
			if (threads_given || opts_cores(o, optarg) != 0)
				return opts_fail("--cores (a list such as 0,1 or 0-3; not with -t)", optarg);
			break;
		case 'd':
			if (opts_number(optarg, 0.001, 1e7, NULL, &o->duration) != 0)
				return opts_fail("-d", optarg);
			break;
		case 'n':
			if (opts_number(optarg, 1, 1e15, NULL, &v) != 0)
				return opts_fail("-n", optarg);
			o->count = (uint64_t)v;
			break;
		case OPT_TLS:
			tls_given = true;
			if (strcmp(optarg, "1.2") == 0)
				o->tls_min = o->tls_max = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				o->tls_min = o->tls_max = TLS1_3_VERSION;
			else if (strcmp(optarg, "any") != 0)
				return opts_fail("--tls 1.2|1.3|any", optarg);
			break;
		case OPT_CIPHERS: o->ciphers = optarg; break;
		case OPT_SUITES: o->ciphersuites = optarg; break;
		case OPT_GROUPS: o->groups = optarg; break;
		case OPT_SNI: o->sni = optarg; break;
		case OPT_ALPN:
			if (opts_alpn(o, optarg) != 0)
				return opts_fail("--alpn", optarg);
			break;
		case OPT_RESUME:
			if (opts_resume(o, optarg) != 0)
				return opts_fail("--resume none|id|ticket|psk", optarg);
			break;
		case OPT_RATIO:
			if (opts_number(optarg, 0, 1, NULL, &o->resume_ratio) != 0)
				return opts_fail("--resume-ratio (0..1)", optarg);
			ratio_given = true;
			break;
		case OPT_REQUEST:
			if (optarg[0] != '/' || strpbrk(optarg, " \r\n") != NULL)
				return opts_fail("--request (a path starting with /)", optarg);
			o->request = optarg;
			break;
		case OPT_RATE:
			if (opts_number(optarg, 0.001, 1e8, "/s", &o->rate) != 0)
				return opts_fail("--rate", optarg);
			break;
		case OPT_OPEN: o->open_loop = true; break;
		case OPT_VERIFY: o->verify_ca = optarg; break;
		case OPT_PIN:
			if (opts_pin(o, optarg) != 0)
				return opts_fail("--pin (64 hex digits)", optarg);
			break;
		case OPT_LINGER:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return opts_fail("--linger0 on|off", optarg);
			o->linger0 = strcmp(optarg, "on") == 0;
			break;
		case OPT_TIMEOUT:
			if (opts_number(optarg, 0.001, 3600, NULL, &o->timeout) != 0)
				return opts_fail("--timeout", optarg);
			break;
		case OPT_JSON: o->json = true; break;
		case OPT_DECODERS: o->openssl_decoders = true; break;
		case 'q': o->quiet = true; break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return -1;
	}
	if (o->count > 0 && o->duration > 0)
		return opts_fail("-d and -n", "choose one");
	if (o->count == 0 && o->duration == 0)
		o->duration = 10;
	if (opts_target(o, argv[optind]) != 0)
		return -1;
	return opts_check(o, tls_given, ratio_given);
}
