/* Scalar value parsers (see cfg_value.h). Strict on purpose: a value that
 * is not exactly what the key wants is an error, never a silent 0. */
#include "cfg_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_priv.h"

const struct cfg_word cfg_dataplane_words[] = {
	{"kernel", CFG_DATAPLANE_KERNEL},
	{"dpdk", CFG_DATAPLANE_DPDK},
	{NULL, 0},
};

const struct cfg_word cfg_mode_words[] = {
	{"respond", CFG_MODE_RESPOND},
	{"proxy", CFG_MODE_PROXY},
	{NULL, 0},
};

const struct cfg_word cfg_store13_words[] = {
	{"store", CFG_STORE13_STORE},
	{"ticket", CFG_STORE13_TICKET},
	{NULL, 0},
};

const struct cfg_word cfg_balance_words[] = {
	{"roundrobin", CFG_BALANCE_ROUNDROBIN},
	{"leastconn", CFG_BALANCE_LEASTCONN},
	{NULL, 0},
};

const struct cfg_word cfg_proxy_protocol_words[] = {
	{"off", CFG_PROXY_PROTOCOL_OFF},
	{"v2", CFG_PROXY_PROTOCOL_V2},
	{NULL, 0},
};

const struct cfg_word cfg_accel_words[] = {
	{"auto", CFG_ACCEL_AUTO},
	{"openssl", CFG_ACCEL_OPENSSL},
	{"ifma", CFG_ACCEL_IFMA},
	{NULL, 0},
};

const struct cfg_word cfg_log_level_words[] = {
	{"error", CFG_LOG_ERROR},
	{"warn", CFG_LOG_WARN},
	{"info", CFG_LOG_INFO},
	{"debug", CFG_LOG_DEBUG},
	{NULL, 0},
};

const struct cfg_word cfg_log_format_words[] = {
	{"text", CFG_LOG_TEXT},
	{"json", CFG_LOG_JSON},
	{NULL, 0},
};

const struct cfg_word cfg_policy_words[] = {
	{"modern", CFG_POLICY_MODERN},
	{"intermediate", CFG_POLICY_INTERMEDIATE},
	{"old", CFG_POLICY_OLD},
	{NULL, 0},
};

const struct cfg_word cfg_client_auth_words[] = {
	{"none", CFG_CLIENT_AUTH_NONE},
	{"optional", CFG_CLIENT_AUTH_OPTIONAL},
	{"require", CFG_CLIENT_AUTH_REQUIRE},
	{NULL, 0},
};

const struct cfg_word cfg_psk_mode_words[] = {
	{"psk_dhe_ke", CFG_PSK_DHE_KE},
	{"psk_ke", CFG_PSK_KE},
	{NULL, 0},
};

int
cfg_value_parse_word(const struct cfg_word *words, const char *s, int *out, char *err, size_t errlen)
{
	char choices[256];
	size_t used = 0;

	for (const struct cfg_word *w = words; w->name != NULL; w++) {
		if (strcmp(w->name, s) == 0) {
			*out = w->value;
			return 0;
		}
	}
	choices[0] = '\0';
	for (const struct cfg_word *w = words; w->name != NULL; w++) {
		int k = snprintf(choices + used, sizeof(choices) - used, "%s%s",
				 used ? ", " : "", w->name);
		if (k < 0 || (size_t)k >= sizeof(choices) - used)
			break;
		used += (size_t)k;
	}
	return cfg_errf(err, errlen, "'%s' is not one of: %s", s, choices);
}

int
cfg_value_parse_word_set(const struct cfg_word *words, const char *s, int *out, char *err, size_t errlen)
{
	char *items[16];
	size_t n = 0;
	int set = 0, rc;

	rc = cfg_value_parse_list(s, ",", false, items, sizeof(items) / sizeof(items[0]), &n, err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int v;
		rc = cfg_value_parse_word(words, items[i], &v, err, errlen);
		set |= v;
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	if (rc == 0)
		*out = set;
	return rc;
}

/* Leading decimal digits of s into *v; *end after them. -1 on overflow or
 * when there is no digit. */
static int
parse_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	*end = p;
	return 0;
}

int
cfg_value_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	uint64_t v;
	const char *end;

	if (parse_digits(s, &v, &end) != 0 || *end != '\0')
		return cfg_errf(err, errlen, "'%s' is not a whole number", s);
	if (v < min || v > max)
		return cfg_errf(err, errlen, "%s is out of range (%llu..%llu)", s,
				(unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int
cfg_value_parse_size(const char *s, uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	uint64_t v, mul = 1;
	const char *end;

	if (parse_digits(s, &v, &end) != 0)
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	default:
		goto bad;
	}
	if (*end != '\0')
		goto bad;
	if (v > max / mul)
		return cfg_errf(err, errlen, "%s is too large (at most %llu bytes)", s,
				(unsigned long long)max);
	*out = v * mul;
	return 0;
bad:
	return cfg_errf(err, errlen, "'%s' is not a size (e.g. 512, 16k, 1m)", s);
}

int
cfg_value_parse_duration(const char *s, uint32_t *out_ms, char *err, size_t errlen)
{
	uint64_t v, mul;
	const char *end;

	if (parse_digits(s, &v, &end) != 0)
		goto bad;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		goto bad;
	if (v > UINT32_MAX / mul)
		return cfg_errf(err, errlen, "%s is too long (at most %u ms)", s, UINT32_MAX);
	*out_ms = (uint32_t)(v * mul);
	return 0;
bad:
	return cfg_errf(err, errlen, "'%s' is not a duration (e.g. 10s, 500ms, 2m, 1h, or seconds)", s);
}

int
cfg_value_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return cfg_errf(err, errlen, "'%s' is not an IPv4 address", s);
	*out = ntohl(a.s_addr);
	return 0;
}

int
cfg_value_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"on", "true", "yes"};
	static const char *const no[] = {"off", "false", "no"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return cfg_errf(err, errlen, "'%s' is not on/off (or true/false, yes/no)", s);
}

int
cfg_value_parse_version(const char *s, uint16_t *out, char *err, size_t errlen)
{
	const char *v = s;

	if (strcmp(v, "default") == 0) {
		*out = 0; /* the engine's default */
		return 0;
	}
	if (strncasecmp(v, "TLSv", 4) == 0)
		v += 4;
	if (strcmp(v, "1.2") == 0) {
		*out = CFG_TLS12;
		return 0;
	}
	if (strcmp(v, "1.3") == 0) {
		*out = CFG_TLS13;
		return 0;
	}
	/* Never below TLS 1.2 (DESIGN.md: policies never go below 1.2). */
	return cfg_errf(err, errlen, "'%s' is not a supported TLS version (1.2, 1.3 or default)", s);
}

/* One ',' separated item of a core list: "N" or "A-B". */
static int
parse_core_item(const char *item, size_t len, uint16_t *cores, size_t max, size_t *n,
		char *err, size_t errlen)
{
	char buf[32];
	uint64_t a, b;
	const char *end;

	while (len > 0 && isspace((unsigned char)*item)) {
		item++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)item[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return cfg_errf(err, errlen, "empty or overlong item in core list");
	memcpy(buf, item, len);
	buf[len] = '\0';
	if (parse_digits(buf, &a, &end) != 0)
		goto bad;
	b = a;
	if (*end == '-') {
		if (parse_digits(end + 1, &b, &end) != 0)
			goto bad;
	}
	if (*end != '\0')
		goto bad;
	if (a > b)
		return cfg_errf(err, errlen, "core range '%s' goes backwards", buf);
	if (b >= CFG_MAX_CPU)
		return cfg_errf(err, errlen, "core %llu is out of range (0..%d)",
				(unsigned long long)b, CFG_MAX_CPU - 1);
	for (uint64_t c = a; c <= b; c++) {
		for (size_t i = 0; i < *n; i++) {
			if (cores[i] == c)
				return cfg_errf(err, errlen, "core %llu is listed twice",
						(unsigned long long)c);
		}
		if (*n >= max)
			return cfg_errf(err, errlen, "too many cores (at most %zu)", max);
		cores[(*n)++] = (uint16_t)c;
	}
	return 0;
bad:
	return cfg_errf(err, errlen, "'%s' is not a core id or range (e.g. 0-1,3)", buf);
}

int
cfg_value_parse_cores(const char *s, uint16_t *cores, size_t max, size_t *n, char *err, size_t errlen)
{
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (parse_core_item(p, len, cores, max, n, err, errlen) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* RFC 1123 2.1 host name: labels of letters, digits and '-', not starting
 * or ending with '-', at most 63 each; the last label not all digits (so
 * "1.2.3" is a bad address, not a name). */
static bool
is_hostname(const char *h)
{
	size_t total = strlen(h), label = 0;
	bool all_digits = true;

	if (total == 0 || total > 253)
		return false;
	for (const char *p = h;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return !all_digits;
			label = 0;
			all_digits = true;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		if (label == 0 && *p == '-')
			return false;
		if (!isdigit((unsigned char)*p))
			all_digits = false;
		if (++label > 63)
			return false;
	}
}

static int
parse_v6(const char *host, struct cfg_addr *a, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *zone = strchr(host, '%');
	size_t alen = zone ? (size_t)(zone - host) : strlen(host);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->sa;
	uint32_t scope = 0;

	if (alen >= sizeof(buf))
		return cfg_errf(err, errlen, "'%s' is not an IPv6 address", host);
	memcpy(buf, host, alen);
	buf[alen] = '\0';
	memset(&a->sa, 0, sizeof(a->sa));
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
		return cfg_errf(err, errlen, "'%s' is not an IPv6 address", buf);
	if (zone != NULL) {
		uint64_t v;
		const char *end;

		/* RFC 4007 11: a zone is an interface name or index. */
		if (parse_digits(zone + 1, &v, &end) == 0 && *end == '\0' && v <= UINT32_MAX)
			scope = (uint32_t)v;
		else
			scope = if_nametoindex(zone + 1);
		if (scope == 0)
			return cfg_errf(err, errlen, "unknown interface '%s' in '%s'", zone + 1, host);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	sin6->sin6_scope_id = scope;
	a->family = AF_INET6;
	a->sa_len = sizeof(*sin6);
	return 0;
}

int
cfg_value_parse_addr(const char *s, bool allow_name, struct cfg_addr *out, char *err, size_t errlen)
{
	struct cfg_addr a;
	const char *host, *port;
	size_t hlen;
	uint64_t pv;
	char perr[128];

	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return cfg_errf(err, errlen, "'%s' is not [IPv6]:PORT", s);
		host = s + 1;
		hlen = (size_t)(close - host);
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon == NULL)
			return cfg_errf(err, errlen, "'%s' has no port (HOST:PORT)", s);
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return cfg_errf(err, errlen, "'%s': IPv6 addresses need brackets, e.g. [::1]:8443", s);
		host = s;
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hlen == 0)
		return cfg_errf(err, errlen, "'%s' has no host", s);
	if (hlen >= sizeof(a.host))
		return cfg_errf(err, errlen, "host in '%s' is too long", s);
	memcpy(a.host, host, hlen);
	a.host[hlen] = '\0';
	if (cfg_value_parse_uint(port, 1, 65535, &pv, perr, sizeof(perr)) != 0)
		return cfg_errf(err, errlen, "bad port in '%s': %s", s, perr);
	a.port = (uint16_t)pv;

	if (s[0] == '[') {
		if (parse_v6(a.host, &a, err, errlen) != 0)
			return -1;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a.sa;

		if (inet_pton(AF_INET, a.host, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(a.port);
			a.family = AF_INET;
			a.sa_len = sizeof(*sin);
		} else if (allow_name && is_hostname(a.host)) {
			a.family = AF_UNSPEC;
			a.sa_len = 0;
		} else {
			return cfg_errf(err, errlen, "'%s' is not an IPv4 address%s", a.host,
					allow_name ? " or host name" : " (use [IPv6]:PORT for IPv6)");
		}
	}
	*out = a;
	return 0;
}

void
cfg_addr_format(const struct cfg_addr *a, char *out, size_t len)
{
	if (a->family == AF_INET6)
		snprintf(out, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(out, len, "%s:%u", a->host, a->port);
}

int
cfg_value_parse_list(const char *s, const char *seps, bool skip_empty, char **items, size_t max,
		     size_t *n, char *err, size_t errlen)
{
	const char *p = s;

	for (;;) {
		size_t len = strcspn(p, seps);
		const char *b = p, *e = p + len;
		char *item;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (b == e) {
			if (!skip_empty)
				return cfg_errf(err, errlen, "empty item in list '%s'", s);
		} else {
			if (*n >= max)
				return cfg_errf(err, errlen, "too many items (at most %zu)", max);
			item = strndup(b, (size_t)(e - b));
			if (item == NULL)
				return cfg_errf(err, errlen, "out of memory");
			items[(*n)++] = item;
		}
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
cfg_value_parse_store_url(const char *s, struct cfg_store *out, char *err, size_t errlen)
{
	static const char scheme[] = "redis://";
	char hostport[CFG_HOST_MAX + 16], why[256];
	const char *slash;
	size_t n;
	uint64_t db = 0;

	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0)
		return cfg_errf(err, errlen, "'%s' is not redis://HOST:PORT[/DB]", s);
	s += sizeof(scheme) - 1;
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(hostport))
		return cfg_errf(err, errlen, "'%s': expected HOST:PORT after redis://", s);
	memcpy(hostport, s, n);
	hostport[n] = 0;
	if (slash != NULL && cfg_value_parse_uint(slash + 1, 0, 1000000, &db, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "database '%s': %s", slash + 1, why);
	if (cfg_value_parse_addr(hostport, false, &out->addr, why, sizeof(why)) != 0)
		return cfg_errf(err, errlen, "%s (a numeric address: workers do not resolve names)", why);
	if (out->addr.port == 0)
		return cfg_errf(err, errlen, "'%s': port 0", hostport);
	out->db = (unsigned)db;
	out->on = true;
	return 0;
}
