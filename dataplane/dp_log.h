/* Logging to stderr with a level filter. Setup and rare events only:
 * the fast path counts instead of logging. */
#ifndef DP_LOG_H
#define DP_LOG_H

enum { DP_LOG_ERROR = 0, DP_LOG_WARN = 1, DP_LOG_INFO = 2, DP_LOG_DEBUG = 3 };

extern int dp_log_level;

void dp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
