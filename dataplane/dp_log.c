#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dp_log.h"

int dp_log_level = DP_LOG_INFO;
bool dp_log_json;

/* One escaped byte into e (at most 7 bytes); its length. */
static size_t
dp_log_escape_byte(char e[8], unsigned char b, enum dp_esc how)
{
	static const char hex[] = "0123456789abcdef";
	bool printable = b >= 0x20 && b < 0x7f;

	if (how != DP_ESC_PLAIN && (b == '"' || b == '\\')) {
		e[0] = '\\';
		e[1] = (char)b;
		return 2;
	}
	if (printable) {
		e[0] = (char)b;
		return 1;
	}
	if (how == DP_ESC_JSON) {
		/* RFC 8259 7: the short forms where they exist */
		switch (b) {
		case '\n':
			memcpy(e, "\\n", 2);
			return 2;
		case '\r':
			memcpy(e, "\\r", 2);
			return 2;
		case '\t':
			memcpy(e, "\\t", 2);
			return 2;
		default:
			memcpy(e, "\\u00", 4);
			e[4] = hex[b >> 4];
			e[5] = hex[b & 15];
			return 6;
		}
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[b >> 4];
	e[3] = hex[b & 15];
	return 4;
}

size_t
dp_log_escape(char *out, size_t cap, const char *s, size_t n, enum dp_esc how)
{
	size_t len = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char e[8];
		size_t k = dp_log_escape_byte(e, (unsigned char)s[i], how);

		if (len + k >= cap)
			break;
		memcpy(out + len, e, k);
		len += k;
	}
	out[len] = '\0';
	return len;
}

void
dp_log_time(char *out, size_t cap, long long sec, long nsec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000000);
}

void
dp_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char msg[1024], esc[4096], line[4300], when[32];
	struct timespec ts;
	va_list ap;
	int n;

	if (level > dp_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message may quote what a peer sent: escaped either way. */
	(void)dp_log_escape(esc, sizeof(esc), msg, strlen(msg), dp_log_json ? DP_ESC_JSON : DP_ESC_PLAIN);
	if (dp_log_json) {
		dp_log_time(when, sizeof(when), (long long)ts.tv_sec, ts.tv_nsec);
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n", when,
			     names[level & 3], esc);
	} else {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02dZ tlsoffload %s: %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     names[level & 3], esc);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* one write per line so that threads do not interleave */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere to report it */
}
