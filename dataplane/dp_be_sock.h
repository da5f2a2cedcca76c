/* Proxy mode's backends over kernel sockets, for the kernel dataplane:
 * the dp_be_ops of dp_backend.h with the worker's epoll fd as their
 * argument. */
#ifndef DP_BE_SOCK_H
#define DP_BE_SOCK_H

#include <stdint.h>

#include "dp_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel socket transport (dp_kernel.c; io: the fd). */
extern const struct dp_io_ops dp_sock_ops;
/* The backend operations over it. */
extern const struct dp_be_ops dp_be_sock_ops;
/* An epoll event whose tag is a backend connection's end. */
void dp_be_sock_event(void *obj, uint32_t events);

#ifdef __cplusplus
}
#endif
#endif
