/* Logging to stderr with a level filter. Setup and rare events only:
 * the fast path counts instead of logging. Lines are text ("TIME
 * tlsoffload LEVEL: message", non-printable bytes as \xNN) or, with
 * --log-format json, one JSON object per line. */
#ifndef DP_LOG_H
#define DP_LOG_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DP_LOG_ERROR = 0, DP_LOG_WARN = 1, DP_LOG_INFO = 2, DP_LOG_DEBUG = 3 };

extern int dp_log_level;
extern bool dp_log_json;      /* --log-format json */

void dp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How dp_log_escape writes bytes that a peer chose (an SNI may hold
 * quotes, control bytes or anything else):
 *  JSON:   the inside of a JSON string (RFC 8259 7): '"' and '\' escaped,
 *          control bytes, DEL and every byte >= 0x80 as \u00XX (bytes are
 *          not trusted to be UTF-8, and the line must stay valid JSON);
 *  QUOTED: the inside of a "..." field of a text line: '"' and '\'
 *          escaped, bytes outside printable ASCII as \xNN;
 *  PLAIN:  bytes outside printable ASCII as \xNN, the rest as is. */
enum dp_esc { DP_ESC_JSON = 0, DP_ESC_QUOTED = 1, DP_ESC_PLAIN = 2 };

/* Escape n bytes of s into out (cap bytes, NUL-terminated when cap > 0);
 * an escape sequence is never cut: what does not fit is dropped whole.
 * Returns the length written (without the NUL). */
size_t dp_log_escape(char *out, size_t cap, const char *s, size_t n, enum dp_esc how);

/* UTC time with milliseconds, "2026-12-04T17:51:54.123Z", into out
 * (at least 25 bytes). sec/nsec: CLOCK_REALTIME. */
void dp_log_time(char *out, size_t cap, long long sec, long nsec);

#ifdef __cplusplus
}
#endif
#endif
