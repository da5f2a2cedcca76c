#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "dp_log.h"

int dp_log_level = DP_LOG_INFO;

void
dp_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > dp_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line so that threads do not interleave */
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02dZ tlsoffload %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, names[level & 3], line);
}
