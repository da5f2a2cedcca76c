/* Respond mode's HTTP/1.x side (DESIGN.md "Application modes"): an
 * incremental request parser, sans-IO like the engine, and the response
 * head. Forgiving like nginx: bare LF line ends, requests split across
 * records or glued to the next, HTTP/1.0 closes after the answer unless it
 * asks for keep-alive, bytes that are not HTTP get a 400 and a close. */
#ifndef DP_HTTP_H
#define DP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DP_HTTP_MAX_HEAD 8192

struct dp_http {
	size_t len;          /* buffered bytes */
	uint64_t body_left;  /* request body still to skip */
	char buf[DP_HTTP_MAX_HEAD];
};

enum dp_http_result {
	DP_HTTP_NONE = 0,     /* need more bytes */
	DP_HTTP_REQUEST = 1,  /* a complete request head */
	DP_HTTP_BAD = 2,      /* not HTTP: answer 400 and close */
	DP_HTTP_TOO_LARGE = 3 /* head above DP_HTTP_MAX_HEAD: 431 and close */
};

struct dp_http_req {
	bool keep_alive;
	bool head;            /* HEAD: no body in the answer */
	int minor;            /* HTTP/1.minor */
};

void dp_http_init(struct dp_http *h);
/* Buffer up to n bytes; returns how many were taken (fewer when full). */
size_t dp_http_feed(struct dp_http *h, const uint8_t *p, size_t n);
/* The next complete request, consuming its head (and skipping its body
 * by Content-Length as the bytes arrive). */
enum dp_http_result dp_http_next(struct dp_http *h, struct dp_http_req *req);

/* "HTTP/1.1 <status> <reason>" head with Content-Length and Connection;
 * returns its length (0 if cap is too small). */
size_t dp_http_head(char *buf, size_t cap, int status, uint64_t body_len, bool keep_alive);

#ifdef __cplusplus
}
#endif
#endif
