/* Scalar values shared by the YAML loader and the command line: numbers,
 * sizes, durations, booleans, words, core lists, HOST:PORT and string
 * lists. Each parser takes the text alone and, on failure, writes a reason
 * without position ("'abc' is not a whole number"); the caller prefixes
 * "FILE:LINE:COL: key: " or "--flag: ". */
#ifndef CFG_VALUE_H
#define CFG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A word table ends with {NULL, 0}. */
struct cfg_word {
	const char *name;
	int value;
};

extern const struct cfg_word cfg_dataplane_words[];
extern const struct cfg_word cfg_mode_words[];
extern const struct cfg_word cfg_store13_words[];     /* store, ticket */
extern const struct cfg_word cfg_accel_words[];
extern const struct cfg_word cfg_log_level_words[];
extern const struct cfg_word cfg_log_format_words[];  /* text, json */
extern const struct cfg_word cfg_policy_words[];     /* modern, intermediate, old */
extern const struct cfg_word cfg_client_auth_words[];
extern const struct cfg_word cfg_balance_words[];        /* roundrobin, leastconn */
extern const struct cfg_word cfg_proxy_protocol_words[]; /* off, v2 */

extern const struct cfg_word cfg_psk_mode_words[];

/* Exact (case-sensitive) match of a word; the error lists the choices. */
CFG_MUST_CHECK int cfg_value_parse_word(const struct cfg_word *words, const char *s, int *out,
					char *err, size_t errlen);

/* Comma-separated words ORed into *out (at least one). */
CFG_MUST_CHECK int cfg_value_parse_word_set(const struct cfg_word *words, const char *s, int *out,
					    char *err, size_t errlen);

/* Decimal digits only (no sign, no spaces), min <= value <= max. */
CFG_MUST_CHECK int cfg_value_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
					char *err, size_t errlen);

/* Bytes: "512", "16k", "1m", "1g" (k = 1024, either case), value <= max. */
CFG_MUST_CHECK int cfg_value_parse_size(const char *s, uint64_t max, uint64_t *out,
					char *err, size_t errlen);

/* Duration in milliseconds: "10s", "500ms", "2m", "1h", or plain seconds
 * "10". Fits in 32 bits (about 49 days). */
CFG_MUST_CHECK int cfg_value_parse_duration(const char *s, uint32_t *out_ms, char *err, size_t errlen);

/* on/off, true/false, yes/no (case-insensitive). */
/* A dotted IPv4 address into *out (host order). */
CFG_MUST_CHECK int cfg_value_parse_ipv4(const char *s, uint32_t *out, char *err, size_t errlen);
CFG_MUST_CHECK int cfg_value_parse_bool(const char *s, bool *out, char *err, size_t errlen);

/* "1.2", "1.3", "TLSv1.2", "TLSv1.3" -> CFG_TLS12 / CFG_TLS13;
 * "default" -> 0 (the engine's default). */
CFG_MUST_CHECK int cfg_value_parse_version(const char *s, uint16_t *out, char *err, size_t errlen);

/* A core list "0-1,3": ids and inclusive ranges separated by ',', ids
 * below CFG_MAX_CPU, no id twice. Appends to cores[*n..max). */
CFG_MUST_CHECK int cfg_value_parse_cores(const char *s, uint16_t *cores, size_t max, size_t *n,
					 char *err, size_t errlen);

/* HOST:PORT with port 1..65535. IPv6 in brackets: "[::1]:8443",
 * "[fe80::1%eth0]:8443". IPv4 dotted quad, strictly (inet_pton). With
 * allow_name a DNS name is accepted too (family AF_UNSPEC). */
CFG_MUST_CHECK int cfg_value_parse_addr(const char *s, bool allow_name, struct cfg_addr *out,
					char *err, size_t errlen);

/* A session store URL "redis://HOST:PORT[/DB]" (HOST numeric, IPv6 in
 * brackets) into *out (on, addr, db; timeout_ms untouched). */
CFG_MUST_CHECK int cfg_value_parse_store_url(const char *s, struct cfg_store *out, char *err, size_t errlen);

/* "HOST:PORT" of an address ("[::1]:8443" for IPv6). */
void cfg_addr_format(const struct cfg_addr *a, char *out, size_t len);

/* Split s on any character of seps and append heap copies of the items
 * (spaces around items trimmed) to items[*n..max). Empty items are errors
 * unless skip_empty (used for whitespace-separated EAL arguments). */
CFG_MUST_CHECK int cfg_value_parse_list(const char *s, const char *seps, bool skip_empty,
					char **items, size_t max, size_t *n,
					char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
