/* The access log (dp_alog.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_alog.h"
#include "dp_log.h"
#include "dp_metrics.h"

/* "127.0.0.1:443", "[::1]:443", or "-". */
static void
dp_alog_peer(char *out, size_t cap, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(out, cap, "-");
	}
}

size_t
dp_alog_format(char *out, size_t cap, const struct dp_alog_rec *r, bool json)
{
	char when[32], peer[64], sni[6 * 255 + 1], hs[32], backend[600];
	const char *ver = r->version == 0x0304 ? "1.3" : r->version == 0x0303 ? "1.2" : "";
	enum dp_esc how = json ? DP_ESC_JSON : DP_ESC_QUOTED;
	int n;

	if (cap < DP_ALOG_LINE)
		return 0;
	dp_log_time(when, sizeof(when), r->time_s, r->time_ns);
	dp_alog_peer(peer, sizeof(peer), &r->peer);
	/* the SNI is the client's choice (RFC 6066 3 says a host name; a
	 * hostile client sends anything up to 255 bytes): escaped */
	(void)dp_log_escape(sni, sizeof(sni), r->sni, strnlen(r->sni, 255), how);
	(void)dp_log_escape(backend, sizeof(backend), r->backend != NULL ? r->backend : "",
			    r->backend != NULL ? strlen(r->backend) : 0, how);
	if (r->hs_ms >= 0)
		snprintf(hs, sizeof(hs), "%.3f", r->hs_ms);
	else
		snprintf(hs, sizeof(hs), "%s", json ? "null" : "-");
	if (json) {
		n = snprintf(out, cap,
			     "{\"time\":\"%s\",\"client\":\"%s\",\"sni\":\"%s\",\"version\":\"%s\",\"suite\":\"%s\","
			     "\"resumed\":%s,\"established\":%s,\"handshake_ms\":%s,\"bytes_in\":%llu,"
			     "\"bytes_out\":%llu,\"backend\":%s%s%s,\"close\":\"%s\"}\n",
			     when, peer, sni, ver, r->suite, r->resumed ? "true" : "false",
			     r->established ? "true" : "false", hs, (unsigned long long)r->bytes_in,
			     (unsigned long long)r->bytes_out, r->backend != NULL ? "\"" : "",
			     r->backend != NULL ? backend : "null", r->backend != NULL ? "\"" : "", r->close);
	} else {
		n = snprintf(out, cap,
			     "%s client=%s sni=\"%s\" version=%s suite=%s resumed=%d established=%d "
			     "handshake_ms=%s bytes_in=%llu bytes_out=%llu backend=%s close=%s\n",
			     when, peer, sni, ver[0] ? ver : "-", r->suite[0] ? r->suite : "-", r->resumed,
			     r->established, hs, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out,
			     r->backend != NULL ? backend : "-", r->close);
	}
	if (n < 0)
		return 0;
	if ((size_t)n >= cap) {
		/* cannot happen within DP_ALOG_LINE; keep a line a line */
		out[cap - 2] = '\n';
		return cap - 1;
	}
	return (size_t)n;
}

struct dp_alog *
dp_alog_open(const char *path, bool json, uint64_t *lines, uint64_t *dropped)
{
	struct dp_alog *l = malloc(sizeof(*l));

	if (l == NULL) {
		dp_log(DP_LOG_ERROR, "access log: out of memory");
		return NULL;
	}
	l->len = 0;
	l->json = json;
	l->lines = lines;
	l->dropped = dropped;
	if (strcmp(path, "-") == 0) {
		l->fd = STDERR_FILENO;
		l->own_fd = false;
		return l;
	}
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (l->fd < 0) {
		dp_log(DP_LOG_ERROR, "access log %s: %s", path, strerror(errno));
		free(l);
		return NULL;
	}
	l->own_fd = true;
	return l;
}

void
dp_alog_flush(struct dp_alog *l)
{
	size_t off = 0;

	while (off < l->len) {
		ssize_t r = write(l->fd, l->buf + off, l->len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* a full disk or a closed pipe: the lines are lost, counted */
			size_t lost = 0;

			for (size_t i = off; i < l->len; i++)
				lost += l->buf[i] == '\n';
			dp_mx_add(l->dropped, lost);
			break;
		}
		off += (size_t)r;
	}
	l->len = 0;
}

void
dp_alog_add(struct dp_alog *l, const struct dp_alog_rec *r)
{
	size_t n;

	if (sizeof(l->buf) - l->len < DP_ALOG_LINE)
		dp_alog_flush(l);
	n = dp_alog_format(l->buf + l->len, sizeof(l->buf) - l->len, r, l->json);
	l->len += n;
	dp_mx_add(l->lines, 1);
	if (l->len >= sizeof(l->buf) / 2)
		dp_alog_flush(l);
}

void
dp_alog_close(struct dp_alog *l)
{
	if (l == NULL)
		return;
	dp_alog_flush(l);
	if (l->own_fd)
		close(l->fd);
	free(l);
}
