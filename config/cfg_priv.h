/* Helpers shared by the files of config/ (not installed, not for users). */
#ifndef CFG_PRIV_H
#define CFG_PRIV_H

#include <stdarg.h>
#include <stddef.h>

#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* snprintf into err (when err is not NULL); always returns -1. */
int cfg_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Replace *dst by a copy of src (NULL clears). 0 or -1 (memory). */
CFG_MUST_CHECK int cfg_str_set(char **dst, const char *src);

/* Append a copy of s; fails when the list is full. */
CFG_MUST_CHECK int cfg_list_add(char **items, size_t max, size_t *n, const char *s,
				char *err, size_t errlen);
void cfg_list_clear(char **items, size_t *n);

/* Append a listener whose TLS policy is a copy of cfg->tls, its origin
 * set to the given text. NULL with a message when full or out of memory. */
struct cfg_listener *cfg_listener_add(struct cfg *cfg, const char *origin, char *err, size_t errlen);
void cfg_listener_free(struct cfg_listener *l);
/* Deep copy of a listener (dst is overwritten without freeing). */
CFG_MUST_CHECK int cfg_listener_copy(struct cfg_listener *dst, const struct cfg_listener *src);
void cfg_certs_clear(struct cfg_listener *l);

#ifdef __cplusplus
}
#endif
#endif
