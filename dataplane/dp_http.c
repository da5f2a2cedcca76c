/* HTTP/1.x requests for respond mode (RFC 9112). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dp_http.h"

void
dp_http_init(struct dp_http *h)
{
	h->len = 0;
	h->body_left = 0;
}

size_t
dp_http_feed(struct dp_http *h, const uint8_t *p, size_t n)
{
	size_t room = sizeof(h->buf) - h->len;

	if (n > room)
		n = room;
	memcpy(h->buf + h->len, p, n);
	h->len += n;
	return n;
}

static void
dp_http_consume(struct dp_http *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
}

/* End of the head: CRLF CRLF or bare LF LF (RFC 9112 2.2 allows LF). */
static size_t
dp_http_head_end(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] != '\n')
			continue;
		if (i + 1 < n && b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Does the comma-separated header value hold token (case-insensitive)? */
static bool
dp_http_has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);

	for (size_t i = 0; i + tl <= n; i++) {
		if (strncasecmp(v + i, token, tl) != 0)
			continue;
		bool start = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t';
		bool end = i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t' ||
			   v[i + tl] == '\r';
		if (start && end)
			return true;
	}
	return false;
}

static bool
dp_http_is_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Request line: method SP target SP HTTP/1.x */
static bool
dp_http_request_line(const char *l, size_t n, struct dp_http_req *req)
{
	size_t i = 0, m;

	while (i < n && dp_http_is_tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return false;
	m = i;
	req->head = m == 4 && memcmp(l, "HEAD", 4) == 0;
	i++;
	while (i < n && l[i] != ' ' && (unsigned char)l[i] > 0x20 && l[i] != 0x7f)
		i++;
	if (i >= n || l[i] != ' ' || i == m + 1)
		return false;
	i++;
	if (n - i != 8 || memcmp(l + i, "HTTP/1.", 7) != 0 || (l[i + 7] != '0' && l[i + 7] != '1'))
		return false;
	req->minor = l[i + 7] - '0';
	return true;
}

enum dp_http_result
dp_http_next(struct dp_http *h, struct dp_http_req *req)
{
	size_t end, off, line_end;
	bool first = true, conn_close = false, conn_keep = false, chunked = false;
	uint64_t clen = 0;

	if (h->body_left > 0) {
		size_t n = h->len < h->body_left ? h->len : (size_t)h->body_left;
		dp_http_consume(h, n);
		h->body_left -= n;
		if (h->body_left > 0)
			return DP_HTTP_NONE;
	}
	/* Empty lines before a request are ignored (RFC 9112 2.2). */
	while (h->len > 0 && (h->buf[0] == '\r' || h->buf[0] == '\n'))
		dp_http_consume(h, 1);
	end = dp_http_head_end(h->buf, h->len);
	if (end == 0) {
		if (h->len == sizeof(h->buf))
			return DP_HTTP_TOO_LARGE;
		/* Reject early what can never become a request line. */
		for (size_t i = 0; i < h->len && h->buf[i] != ' '; i++)
			if (!dp_http_is_tchar(h->buf[i]))
				return DP_HTTP_BAD;
		return DP_HTTP_NONE;
	}
	for (off = 0; off < end; off = line_end + 1) {
		const char *l = h->buf + off;
		size_t n;

		line_end = off;
		while (line_end < end && h->buf[line_end] != '\n')
			line_end++;
		n = line_end - off;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (first) {
			if (!dp_http_request_line(l, n, req))
				return DP_HTTP_BAD;
			first = false;
			continue;
		}
		if (n == 0)
			break;
		const char *colon = memchr(l, ':', n);
		if (colon == NULL || colon == l)
			return DP_HTTP_BAD;
		size_t nl = (size_t)(colon - l), vo = nl + 1;
		while (vo < n && (l[vo] == ' ' || l[vo] == '\t'))
			vo++;
		if (nl == 10 && strncasecmp(l, "connection", 10) == 0) {
			conn_close |= dp_http_has_token(l + vo, n - vo, "close");
			conn_keep |= dp_http_has_token(l + vo, n - vo, "keep-alive");
		} else if (nl == 14 && strncasecmp(l, "content-length", 14) == 0) {
			uint64_t v = 0;
			if (vo == n)
				return DP_HTTP_BAD;
			for (size_t i = vo; i < n && l[i] != ' ' && l[i] != '\t'; i++) {
				if (l[i] < '0' || l[i] > '9' || v > (UINT64_MAX - 9) / 10)
					return DP_HTTP_BAD;
				v = v * 10 + (uint64_t)(l[i] - '0');
			}
			clen = v;
		} else if (nl == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
			chunked = true;
		}
	}
	if (chunked) /* respond mode has no use for request bodies */
		return DP_HTTP_BAD;
	req->keep_alive = req->minor == 1 ? !conn_close : conn_keep && !conn_close;
	dp_http_consume(h, end);
	h->body_left = clen;
	if (h->body_left > 0) {
		size_t n = h->len < h->body_left ? h->len : (size_t)h->body_left;
		dp_http_consume(h, n);
		h->body_left -= n;
	}
	return DP_HTTP_REQUEST;
}

size_t
dp_http_head(char *buf, size_t cap, int status, uint64_t body_len, bool keep_alive)
{
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request"
						  : status == 431 ? "Request Header Fields Too Large"
								  : "Error";
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: tlsoffload\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
			 status, reason, (unsigned long long)body_len, keep_alive ? "keep-alive" : "close");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
