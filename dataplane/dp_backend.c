/* The backend pool: balancing and health checks (dp_backend.h). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_value.h"
#include "dp_backend.h"
#include "dp_conn.h"
#include "dp_log.h"

/* A configured name into an address (getaddrinfo may block: at start or
 * on the control thread, never on a worker's poll loop). The first
 * address is used. */
static int
dp_addr_resolve(const struct cfg_addr *a, struct sockaddr_storage *sa, socklen_t *sa_len, const char *name,
		char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rc;

	if (a->sa_len > 0) {
		memcpy(sa, &a->sa, a->sa_len);
		*sa_len = a->sa_len;
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host, port, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(*sa)) {
		snprintf(err, errlen, "backend %s: cannot resolve: %s", name, rc ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*sa_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
dp_backend_resolve(struct dp_backend *b, const struct cfg_addr *a)
{
	char err[CFG_HOST_MAX + 128];

	if (dp_addr_resolve(a, &b->sa, &b->sa_len, b->name, err, sizeof(err)) != 0) {
		dp_log(DP_LOG_ERROR, "%s", err);
		return -1;
	}
	return 0;
}

int
dp_backends_resolve(struct cfg *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_backends && i < CFG_MAX_BACKENDS; i++) {
		struct cfg_addr *a = &cfg->backends[i];
		char name[CFG_HOST_MAX + 16];

		cfg_addr_format(a, name, sizeof(name));
		if (dp_addr_resolve(a, &a->sa, &a->sa_len, name, err, errlen) != 0)
			return -1;
	}
	return 0;
}

void
dp_pool_retire(struct dp_pool *p)
{
	p->retired = true;
}

void
dp_pool_stats_add(struct dp_pool *to, const struct dp_pool *from)
{
	struct dp_pool_stats *t = &to->stats;
	const struct dp_pool_stats *f = &from->stats;

	t->proxied += f->proxied;
	t->bytes_up += f->bytes_up;
	t->bytes_down += f->bytes_down;
	t->connect_failures += f->connect_failures;
	t->connect_timeouts += f->connect_timeouts;
	t->no_backend += f->no_backend;
	t->marked_down += f->marked_down;
	t->marked_up += f->marked_up;
}

struct dp_pool *
dp_pool_new(const struct cfg *cfg, unsigned worker, const struct dp_be_ops *ops, void *ops_arg)
{
	struct dp_pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->cfg = cfg;
	p->worker = worker;
	p->ops = ops;
	p->ops_arg = ops_arg;
	/* Workers start at different backends: their first connections
	 * spread instead of all landing on backend 0. */
	p->rr = cfg->n_backends ? worker % cfg->n_backends : 0;
	for (size_t i = 0; i < cfg->n_backends && i < CFG_MAX_BACKENDS; i++) {
		struct dp_backend *b = &p->be[i];

		b->check.kind = DP_KIND_HEALTH;
		b->pool = p;
		b->up = true;
		cfg_addr_format(&cfg->backends[i], b->name, sizeof(b->name));
		if (dp_backend_resolve(b, &cfg->backends[i]) != 0) {
			free(p);
			return NULL;
		}
		p->n++;
	}
	return p;
}

int
dp_be_open(struct dp_pool *p, const struct dp_backend *b, struct dp_be_end *e)
{
	int rc;

	e->open = e->connecting = false;
	e->io = NULL;
	rc = p->ops->open(p->ops_arg, b, e);
	if (rc != 0)
		return rc;
	e->open = e->connecting = true;
	return 0;
}

void
dp_be_close(struct dp_pool *p, struct dp_be_end *e, bool dead)
{
	if (e->open)
		p->ops->io->close(e->io, dead);
	e->open = e->connecting = false;
	e->io = NULL;
}

/* The connect is the whole check: the connection goes at once (a reset
 * on the userspace TCP, which leaves no TIME_WAIT behind; a close on a
 * kernel socket). */
static void
dp_backend_check_close(struct dp_backend *b)
{
	dp_be_close(b->pool, &b->check, true);
}

void
dp_pool_free(struct dp_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		dp_backend_check_close(&p->be[i]);
	free(p);
}

int
dp_pool_pick(struct dp_pool *p, uint64_t tried)
{
	int best = -1;

	for (size_t k = 0; k < p->n; k++) {
		size_t i = (p->rr + k) % p->n;

		if (!p->be[i].up || (tried >> i & 1))
			continue;
		if (p->cfg->proxy.balance == CFG_BALANCE_ROUNDROBIN) {
			best = (int)i;
			break;
		}
		/* leastconn: fewest open connections; ties go round robin
		 * (the scan starts after the last pick). */
		if (best < 0 || p->be[i].active < p->be[best].active)
			best = (int)i;
	}
	if (best >= 0)
		p->rr = ((size_t)best + 1) % p->n;
	return best;
}

size_t
dp_pool_up(const struct dp_pool *p)
{
	size_t up = 0;

	for (size_t i = 0; i < p->n; i++)
		up += p->be[i].up;
	return up;
}

void
dp_pool_result(struct dp_pool *p, size_t i, bool ok)
{
	struct dp_backend *b = &p->be[i];

	if (ok) {
		b->fail_run = 0;
		if (!b->up && ++b->ok_run >= p->cfg->proxy.health_rise) {
			b->up = true;
			b->ok_run = 0;
			p->stats.marked_up++;
			dp_log(DP_LOG_WARN, "worker %u: backend %s is up (%zu of %zu up)", p->worker, b->name,
			       dp_pool_up(p), p->n);
		}
		return;
	}
	b->ok_run = 0;
	if (b->up && ++b->fail_run >= p->cfg->proxy.health_fall) {
		b->up = false;
		b->fail_run = 0;
		p->stats.marked_down++;
		dp_log(DP_LOG_WARN, "worker %u: backend %s is down (%zu of %zu up)", p->worker, b->name,
		       dp_pool_up(p), p->n);
	}
}

/* Start one health check: a connect whose completion the transport reports. */
static void
dp_backend_check_start(struct dp_pool *p, size_t i)
{
	struct dp_backend *b = &p->be[i];
	uint32_t window = p->cfg->proxy.connect_timeout_ms;

	if (window > p->cfg->proxy.health_interval_ms)
		window = p->cfg->proxy.health_interval_ms;
	b->next_check_ms = p->now_ms + p->cfg->proxy.health_interval_ms;
	switch (dp_be_open(p, b, &b->check)) {
	case 0:
		break;
	case DP_BE_NO_ROOM:
		return; /* not the backend's fault: no verdict */
	case DP_BE_REFUSED:
	default:
		dp_pool_result(p, i, false);
		return;
	}
	b->check_deadline_ms = p->now_ms + window;
}

void
dp_pool_tick(struct dp_pool *p, uint64_t now_ms)
{
	p->now_ms = now_ms;
	if (p->cfg->proxy.health_interval_ms == 0 || p->retired)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct dp_backend *b = &p->be[i];

		if (b->check.open && now_ms >= b->check_deadline_ms) {
			dp_backend_check_close(b); /* no answer in time: a failure */
			dp_pool_result(p, i, false);
		}
		if (!b->check.open && now_ms >= b->next_check_ms)
			dp_backend_check_start(p, i);
	}
}

void
dp_pool_check_notify(struct dp_backend *b, unsigned what)
{
	if (!b->check.connecting || !(what & (DP_BE_CONNECTED | DP_BE_FAILED | DP_BE_GONE)))
		return;
	if (what & DP_BE_CONNECTED)
		dp_backend_check_close(b);
	else
		b->check.open = b->check.connecting = false; /* the transport released it */
	dp_pool_result(b->pool, (size_t)(b - b->pool->be), (what & DP_BE_CONNECTED) != 0);
}

void
dp_pool_log_stats(const struct dp_pool *p)
{
	const struct dp_pool_stats *s = &p->stats;

	dp_log(DP_LOG_INFO,
	       "worker %u proxy: proxied %llu, bytes to backends %llu, from backends %llu, backend "
	       "connect failures %llu (%llu timeouts), clients without a backend %llu; backends up %zu down %zu "
	       "(marked down %llu, up %llu times); clients closed for want of a socket or port here %llu",
	       p->worker, (unsigned long long)s->proxied, (unsigned long long)s->bytes_up,
	       (unsigned long long)s->bytes_down, (unsigned long long)s->connect_failures,
	       (unsigned long long)s->connect_timeouts, (unsigned long long)s->no_backend, dp_pool_up(p), p->n - dp_pool_up(p),
	       (unsigned long long)s->marked_down, (unsigned long long)s->marked_up, (unsigned long long)s->no_room);
}
