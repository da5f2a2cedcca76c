/* Prometheus metrics: the workers' counters, their sum, the text
 * exposition format 0.0.4 and the control thread serving it
 * (dp_metrics.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dp_backend.h"
#include "dp_conn.h"
#include "dp_gen.h"
#include "dp_log.h"
#include "dp_metrics.h"
#include "hsk_err.h"
#include "hsk_suite.h"

/* From half a millisecond (a resumed handshake on an idle server) to
 * the default handshake timeout's half (a client on a bad link). */
const double dp_mx_bucket_le[DP_MX_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						0.1,    0.25,  0.5,    1,     2.5,  5,     10 };

/* ---- the workers' side ---- */

struct dp_mx *
dp_mx_new(void)
{
	struct dp_mx *m = aligned_alloc(64, sizeof(struct dp_mx));

	if (m != NULL)
		memset(m, 0, sizeof(*m));
	return m;
}

void
dp_mx_free(struct dp_mx *m)
{
	free(m);
}

void
dp_mx_handshake(struct dp_mx *m, uint16_t suite, bool resumed, uint64_t ns)
{
	size_t n;
	const struct hsk_suite *all = hsk_suite_all(&n);
	const struct hsk_suite *row = hsk_suite_by_id(suite);
	size_t b = 0;

	if (row != NULL && (size_t)(row - all) < n && (size_t)(row - all) < DP_MX_SUITES)
		dp_mx_add(&m->hs[row - all][resumed ? 1 : 0], 1);
	while (b < DP_MX_BUCKETS && (double)ns > dp_mx_bucket_le[b] * 1e9)
		b++;
	dp_mx_add(&m->lat[b], 1);
	dp_mx_add(&m->lat_sum_ns, ns);
}

void
dp_mx_handshake_failed(struct dp_mx *m, int alert)
{
	dp_mx_add(&m->hs_fail[alert >= 0 && alert < 256 ? alert : 256], 1);
}

/* ---- the snapshot ---- */

static void
dp_mx_sum(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += dp_mx_read(&src[i]);
}

/* The executor's counters; the struct is all uint64_t. */
static void
dp_mx_sum_acc(struct acc_stats *dst, const struct acc_exec *ex)
{
	struct acc_stats st;

	acc_exec_stats(ex, &st);
	dst->jobs += st.jobs;
	dst->batches += st.batches;
	dst->lanes_filled += st.lanes_filled;
	dst->failed += st.failed;
	dst->fault_rechecks += st.fault_rechecks;
	dst->lane_jobs += st.lane_jobs;
	dst->lane_passes += st.lane_passes;
}

/* A pool's counters added to v (enum dp_mx_px). */
static void
dp_mx_pool_sum(uint64_t *v, const struct dp_pool *p)
{
	v[DP_MX_PX_PROXIED] += p->stats.proxied;
	v[DP_MX_PX_BYTES_UP] += p->stats.bytes_up;
	v[DP_MX_PX_BYTES_DOWN] += p->stats.bytes_down;
	v[DP_MX_PX_CONNECT_FAILURES] += p->stats.connect_failures;
	v[DP_MX_PX_CONNECT_TIMEOUTS] += p->stats.connect_timeouts;
	v[DP_MX_PX_NO_BACKEND] += p->stats.no_backend;
	v[DP_MX_PX_MARKED_DOWN] += p->stats.marked_down;
	v[DP_MX_PX_MARKED_UP] += p->stats.marked_up;
}

void
dp_mx_proxy_publish(struct dp_app *a)
{
	struct dp_mx *m = a->mx;
	const struct dp_pool *cur = a->pool;
	uint64_t v[DP_MX_PX_N] = { 0 }, up = 0;

	if (m == NULL || cur == NULL)
		return;
	dp_mx_pool_sum(v, cur);
	for (const struct dp_hold *h = a->retired; h != NULL; h = h->next)
		if (h->pool != NULL && h->pool != cur)
			dp_mx_pool_sum(v, h->pool);
	if (a->mx_pool != cur) {
		/* a new pool (the start, a reload): its names, under the
		 * sequence count the reader checks */
		uint64_t seq = m->px_seq;

		__atomic_store_n(&m->px_seq, seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		for (size_t i = 0; i < cur->n && i < CFG_MAX_BACKENDS; i++)
			memcpy(m->px_name[i], cur->be[i].name, sizeof(m->px_name[i]));
		__atomic_store_n(&m->px_n, (uint64_t)cur->n, __ATOMIC_RELAXED);
		__atomic_store_n(&m->px_seq, seq + 2, __ATOMIC_RELEASE);
		a->mx_pool = cur;
	}
	for (size_t i = 0; i < cur->n && i < CFG_MAX_BACKENDS; i++)
		if (cur->be[i].up)
			up |= 1ull << i;
	for (size_t k = 0; k < DP_MX_PX_N; k++)
		__atomic_store_n(&m->px[k], v[k], __ATOMIC_RELAXED);
	__atomic_store_n(&m->px_up, up, __ATOMIC_RELAXED);
	__atomic_store_n(&m->px_on, 1, __ATOMIC_RELAXED);
}

/* One worker's published pool into the snapshot; the names only from a
 * consistent copy (seqlock: a reload may be rewriting them). */
static void
dp_mx_collect_pool(struct dp_mx_snap *s, const struct dp_mx *m)
{
	uint64_t up, n = 0;

	if (dp_mx_read(&m->px_on) == 0)
		return;
	s->proxy = true;
	s->proxied += dp_mx_read(&m->px[DP_MX_PX_PROXIED]);
	s->bytes_up += dp_mx_read(&m->px[DP_MX_PX_BYTES_UP]);
	s->bytes_down += dp_mx_read(&m->px[DP_MX_PX_BYTES_DOWN]);
	s->connect_failures += dp_mx_read(&m->px[DP_MX_PX_CONNECT_FAILURES]);
	s->connect_timeouts += dp_mx_read(&m->px[DP_MX_PX_CONNECT_TIMEOUTS]);
	s->no_backend += dp_mx_read(&m->px[DP_MX_PX_NO_BACKEND]);
	s->marked_down += dp_mx_read(&m->px[DP_MX_PX_MARKED_DOWN]);
	s->marked_up += dp_mx_read(&m->px[DP_MX_PX_MARKED_UP]);
	for (int tries = 0; tries < 100; tries++) {
		uint64_t seq = __atomic_load_n(&m->px_seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		n = dp_mx_read(&m->px_n);
		if (n > CFG_MAX_BACKENDS)
			n = CFG_MAX_BACKENDS;
		for (size_t i = 0; i < n; i++) {
			memcpy(s->be[i].name, m->px_name[i], sizeof(s->be[i].name));
			s->be[i].name[sizeof(s->be[i].name) - 1] = 0;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&m->px_seq, __ATOMIC_RELAXED) == seq)
			break;
	}
	s->n_backends = n;
	up = dp_mx_read(&m->px_up);
	for (size_t i = 0; i < n; i++)
		if (up >> i & 1)
			s->be[i].up_workers++;
}

void
dp_mx_collect(struct dp_mx_snap *s, const struct dp_mx_src *src, unsigned n, const char *dataplane)
{
	memset(s, 0, sizeof(*s));
	s->dataplane = dataplane;
	s->n_workers = n < CFG_MAX_WORKERS ? n : CFG_MAX_WORKERS;
	for (unsigned i = 0; i < s->n_workers; i++) {
		const struct dp_app *a = src[i].app;
		const struct dp_mx *m = a->mx;
		struct dp_mx_worker *w = &s->w[i];

		if (m != NULL) {
			dp_mx_sum(&s->sum.hs[0][0], &m->hs[0][0], DP_MX_SUITES * 2);
			dp_mx_sum(s->sum.hs_fail, m->hs_fail, 257);
			dp_mx_sum(s->sum.lat, m->lat, DP_MX_BUCKETS + 1);
			dp_mx_sum(&s->sum.lat_sum_ns, &m->lat_sum_ns, 1);
			dp_mx_sum(&s->sum.bytes_in, &m->bytes_in, 1);
			dp_mx_sum(&s->sum.bytes_out, &m->bytes_out, 1);
			dp_mx_sum(&s->sum.alog_lines, &m->alog_lines, 1);
			dp_mx_sum(&s->sum.alog_dropped, &m->alog_dropped, 1);
		}
		if (src[i].busy != NULL && src[i].ticks_per_s > 0) {
			w->cycles = true;
			w->busy_cycles = dp_mx_read(src[i].busy);
			w->idle_cycles = dp_mx_read(src[i].idle);
			w->busy_s = (double)w->busy_cycles / (double)src[i].ticks_per_s;
			w->idle_s = (double)w->idle_cycles / (double)src[i].ticks_per_s;
		} else if (m != NULL) {
			w->busy_s = (double)dp_mx_read(&m->busy_ns) / 1e9;
			w->idle_s = (double)dp_mx_read(&m->idle_ns) / 1e9;
		}
		w->conns = __atomic_load_n(&a->n_conns, __ATOMIC_RELAXED);
		w->handshaking = __atomic_load_n(&a->n_handshaking, __ATOMIC_RELAXED);
		s->accepted += dp_mx_read(&a->stats.accepted);
		s->closed += dp_mx_read(&a->stats.closed);
		s->timeouts += dp_mx_read(&a->stats.timeouts);
		s->requests += dp_mx_read(&a->stats.requests);
		s->refused_conns += dp_mx_read(&a->stats.refused_conns);
		s->refused_handshakes += dp_mx_read(&a->stats.refused_handshakes);
		s->hs_too_large += dp_mx_read(&a->hw.hs_too_large);
		s->renegotiations_cut += dp_mx_read(&a->hw.renegotiations_cut);
		s->key_updates_cut += dp_mx_read(&a->hw.key_updates_cut);
		s->store_lookups += dp_mx_read(&a->hw.store_lookups);
		s->store_hits += dp_mx_read(&a->hw.store_hits);
		s->store_misses += dp_mx_read(&a->hw.store_misses);
		s->store_failed += dp_mx_read(&a->hw.store_failed);
		if (a->hw.exec != NULL)
			dp_mx_sum_acc(&s->acc, a->hw.exec);
		if (m != NULL)
			dp_mx_collect_pool(s, m);
	}
}

/* ---- the exposition format ---- */

void
dp_mx_printf(struct dp_mx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		/* grow, up to max */
		size_t want = b->cap ? b->cap * 2 : 16384;
		char *p;

		while (want < b->len + (size_t)n + 1)
			want *= 2;
		if (want > b->max || (p = realloc(b->p, want)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = want;
	}
}

void
dp_mx_family(struct dp_mx_buf *b, const char *name, const char *type, const char *help)
{
	dp_mx_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
dp_mx_label(struct dp_mx_buf *b, const char *v)
{
	/* exposition format 0.0.4: in label values, backslash, double
	 * quote and line feed are escaped */
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			dp_mx_printf(b, "\\\\");
		else if (*v == '"')
			dp_mx_printf(b, "\\\"");
		else if (*v == '\n')
			dp_mx_printf(b, "\\n");
		else
			dp_mx_printf(b, "%c", *v);
	}
}

static void
dp_mx_counter(struct dp_mx_buf *b, const char *name, const char *help, uint64_t v)
{
	dp_mx_family(b, name, "counter", help);
	dp_mx_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
dp_mx_gauge(struct dp_mx_buf *b, const char *name, const char *help, uint64_t v)
{
	dp_mx_family(b, name, "gauge", help);
	dp_mx_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
dp_mx_render_handshakes(struct dp_mx_buf *b, const struct dp_mx_snap *s)
{
	size_t n;
	const struct hsk_suite *all = hsk_suite_all(&n);
	uint64_t count = 0, cum = 0;

	dp_mx_family(b, "tlso_handshakes_total", "counter",
		     "TLS handshakes completed, by protocol version, cipher suite and resumption");
	for (size_t i = 0; i < n && i < DP_MX_SUITES; i++) {
		for (int r = 0; r < 2; r++) {
			if (s->sum.hs[i][r] == 0)
				continue;
			dp_mx_printf(b, "tlso_handshakes_total{version=\"%s\",suite=\"%s\",resumed=\"%s\"} %llu\n",
				     all[i].version == 0x0304 ? "1.3" : "1.2", all[i].iana, r ? "true" : "false",
				     (unsigned long long)s->sum.hs[i][r]);
		}
	}
	dp_mx_family(b, "tlso_handshake_failures_total", "counter",
		     "Handshakes begun (a first byte received) that did not complete, by the alert the "
		     "server sent (none: the client gave up, sent an alert, or timed out)");
	for (int a = 0; a <= 256; a++) {
		if (s->sum.hs_fail[a] == 0)
			continue;
		dp_mx_printf(b, "tlso_handshake_failures_total{alert=\"%s\"} %llu\n",
			     a == 256 ? "none" : hsk_alert_name((uint8_t)a), (unsigned long long)s->sum.hs_fail[a]);
	}
	dp_mx_family(b, "tlso_handshake_duration_seconds", "histogram",
		     "From the first byte of the ClientHello to the handshake's end");
	for (int k = 0; k <= DP_MX_BUCKETS; k++)
		count += s->sum.lat[k];
	for (int k = 0; k < DP_MX_BUCKETS; k++) {
		cum += s->sum.lat[k];
		dp_mx_printf(b, "tlso_handshake_duration_seconds_bucket{le=\"%g\"} %llu\n", dp_mx_bucket_le[k],
			     (unsigned long long)cum);
	}
	dp_mx_printf(b, "tlso_handshake_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)count);
	dp_mx_printf(b, "tlso_handshake_duration_seconds_sum %.9f\n", (double)s->sum.lat_sum_ns / 1e9);
	dp_mx_printf(b, "tlso_handshake_duration_seconds_count %llu\n", (unsigned long long)count);
}

static void
dp_mx_render_conns(struct dp_mx_buf *b, const struct dp_mx_snap *s)
{
	uint64_t conns = 0, hs = 0;

	for (unsigned i = 0; i < s->n_workers; i++) {
		conns += s->w[i].conns;
		hs += s->w[i].handshaking;
	}
	dp_mx_gauge(b, "tlso_connections_open", "Client connections open", conns);
	dp_mx_gauge(b, "tlso_handshakes_in_progress", "Client connections not yet established", hs);
	dp_mx_counter(b, "tlso_connections_accepted_total", "Client connections accepted", s->accepted);
	dp_mx_counter(b, "tlso_connections_closed_total", "Client connections closed", s->closed);
	dp_mx_family(b, "tlso_connections_refused_total", "counter",
		     "Connections reset at accept, by the limit they were over");
	dp_mx_printf(b, "tlso_connections_refused_total{limit=\"max_conns\"} %llu\n",
		     (unsigned long long)s->refused_conns);
	dp_mx_printf(b, "tlso_connections_refused_total{limit=\"max_handshakes\"} %llu\n",
		     (unsigned long long)s->refused_handshakes);
	dp_mx_family(b, "tlso_connections_cut_total", "counter",
		     "Connections ended for abuse, by cause");
	dp_mx_printf(b, "tlso_connections_cut_total{cause=\"handshake_message_too_large\"} %llu\n",
		     (unsigned long long)s->hs_too_large);
	dp_mx_printf(b, "tlso_connections_cut_total{cause=\"renegotiation\"} %llu\n",
		     (unsigned long long)s->renegotiations_cut);
	dp_mx_printf(b, "tlso_connections_cut_total{cause=\"key_update\"} %llu\n",
		     (unsigned long long)s->key_updates_cut);
	dp_mx_counter(b, "tlso_session_store_lookups_total",
		      "Session IDs looked up in the session store shared by a fleet (--session-store)",
		      s->store_lookups);
	dp_mx_family(b, "tlso_session_store_results_total", "counter",
		     "Session store lookups by outcome (failed: timeout, error or store down; a full handshake)");
	{
		const struct {
			const char *result;
			uint64_t n;
		} rs[] = { { "resumed", s->store_hits }, { "missed", s->store_misses }, { "failed", s->store_failed } };

		for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++)
			dp_mx_printf(b, "tlso_session_store_results_total{result=\"%s\"} %llu\n", rs[i].result,
				     (unsigned long long)rs[i].n);
	}
	dp_mx_counter(b, "tlso_timeouts_total", "Connections closed by the handshake or idle timeout", s->timeouts);
	dp_mx_counter(b, "tlso_http_requests_total", "HTTP requests answered (respond mode)", s->requests);
	dp_mx_family(b, "tlso_client_bytes_total", "counter", "TLS bytes from and to clients");
	dp_mx_printf(b, "tlso_client_bytes_total{direction=\"in\"} %llu\n", (unsigned long long)s->sum.bytes_in);
	dp_mx_printf(b, "tlso_client_bytes_total{direction=\"out\"} %llu\n", (unsigned long long)s->sum.bytes_out);
}

static void
dp_mx_render_workers(struct dp_mx_buf *b, const struct dp_mx_snap *s)
{
	bool cycles = s->n_workers > 0 && s->w[0].cycles;

	dp_mx_counter(b, "tlso_crypto_jobs_total", "Private-key and key-agreement jobs run", s->acc.jobs);
	dp_mx_counter(b, "tlso_crypto_jobs_failed_total", "Crypto jobs that failed", s->acc.failed);
	dp_mx_counter(b, "tlso_crypto_batches_total", "Executor batches run", s->acc.batches);
	dp_mx_counter(b, "tlso_crypto_batch_lanes_filled_total",
		      "Jobs over all batches (lanes filled; / batches = mean fill)", s->acc.lanes_filled);
	dp_mx_counter(b, "tlso_crypto_ifma_jobs_total", "Jobs run on the AVX-512 IFMA lanes", s->acc.lane_jobs);
	dp_mx_counter(b, "tlso_crypto_ifma_passes_total", "Passes of the IFMA lanes", s->acc.lane_passes);
	dp_mx_counter(b, "tlso_crypto_fault_rechecks_total", "RSA results recomputed after a failed self-check",
		      s->acc.fault_rechecks);
	dp_mx_gauge(b, "tlso_workers", "Worker threads or lcores", s->n_workers);
	dp_mx_family(b, "tlso_worker_busy_seconds_total", "counter",
		     cycles ? "Poll loop time in iterations that did work (TSC)"
			    : "Worker time outside epoll_wait");
	for (unsigned i = 0; i < s->n_workers; i++)
		dp_mx_printf(b, "tlso_worker_busy_seconds_total{worker=\"%u\"} %.6f\n", i, s->w[i].busy_s);
	dp_mx_family(b, "tlso_worker_idle_seconds_total", "counter",
		     cycles ? "Poll loop time in iterations that found nothing (TSC)" : "Worker time in epoll_wait");
	for (unsigned i = 0; i < s->n_workers; i++)
		dp_mx_printf(b, "tlso_worker_idle_seconds_total{worker=\"%u\"} %.6f\n", i, s->w[i].idle_s);
	if (!cycles)
		return;
	dp_mx_family(b, "tlso_dpdk_busy_cycles_total", "counter", "Poll loop TSC cycles that did work");
	for (unsigned i = 0; i < s->n_workers; i++)
		dp_mx_printf(b, "tlso_dpdk_busy_cycles_total{worker=\"%u\"} %llu\n", i,
			     (unsigned long long)s->w[i].busy_cycles);
	dp_mx_family(b, "tlso_dpdk_idle_cycles_total", "counter", "Poll loop TSC cycles that found nothing");
	for (unsigned i = 0; i < s->n_workers; i++)
		dp_mx_printf(b, "tlso_dpdk_idle_cycles_total{worker=\"%u\"} %llu\n", i,
			     (unsigned long long)s->w[i].idle_cycles);
}

static void
dp_mx_render_proxy(struct dp_mx_buf *b, const struct dp_mx_snap *s)
{
	dp_mx_counter(b, "tlso_proxy_connections_total", "Backend connections established", s->proxied);
	dp_mx_family(b, "tlso_proxy_bytes_total", "counter", "Plaintext bytes relayed, by direction");
	dp_mx_printf(b, "tlso_proxy_bytes_total{direction=\"to_backend\"} %llu\n", (unsigned long long)s->bytes_up);
	dp_mx_printf(b, "tlso_proxy_bytes_total{direction=\"from_backend\"} %llu\n",
		     (unsigned long long)s->bytes_down);
	dp_mx_counter(b, "tlso_backend_connect_failures_total",
		      "Backend connects refused, reset or timed out (client connections)", s->connect_failures);
	dp_mx_counter(b, "tlso_backend_connect_timeouts_total", "Backend connects timed out", s->connect_timeouts);
	dp_mx_counter(b, "tlso_proxy_no_backend_total", "Clients closed with no backend left to try", s->no_backend);
	dp_mx_family(b, "tlso_backend_transitions_total", "counter",
		     "Backends marked down or up again by a worker (health checks, failed connects)");
	dp_mx_printf(b, "tlso_backend_transitions_total{to=\"down\"} %llu\n", (unsigned long long)s->marked_down);
	dp_mx_printf(b, "tlso_backend_transitions_total{to=\"up\"} %llu\n", (unsigned long long)s->marked_up);
	dp_mx_family(b, "tlso_backend_up", "gauge", "1 when at least one worker sees the backend up");
	for (size_t i = 0; i < s->n_backends; i++) {
		dp_mx_printf(b, "tlso_backend_up{backend=\"");
		dp_mx_label(b, s->be[i].name);
		dp_mx_printf(b, "\"} %d\n", s->be[i].up_workers > 0);
	}
	dp_mx_family(b, "tlso_backend_up_workers", "gauge", "Workers whose health checks see the backend up");
	for (size_t i = 0; i < s->n_backends; i++) {
		dp_mx_printf(b, "tlso_backend_up_workers{backend=\"");
		dp_mx_label(b, s->be[i].name);
		dp_mx_printf(b, "\"} %u\n", s->be[i].up_workers);
	}
}

void
dp_mx_render(struct dp_mx_buf *b, const struct dp_mx_snap *s)
{
	dp_mx_family(b, "tlso_info", "gauge", "The dataplane");
	dp_mx_printf(b, "tlso_info{dataplane=\"");
	dp_mx_label(b, s->dataplane != NULL ? s->dataplane : "");
	dp_mx_printf(b, "\"} 1\n");
	dp_mx_render_handshakes(b, s);
	dp_mx_render_conns(b, s);
	dp_mx_render_workers(b, s);
	if (s->proxy)
		dp_mx_render_proxy(b, s);
	dp_mx_counter(b, "tlso_access_log_lines_total", "Access log lines written", s->sum.alog_lines);
	dp_mx_counter(b, "tlso_access_log_dropped_total", "Access log lines lost (write failed)",
		      s->sum.alog_dropped);
}

/* ---- the control thread ---- */

#define DP_MX_CLIENTS 4            /* scrapes served at once; more wait in the backlog */
#define DP_MX_REQ 2048             /* bytes of request head read, at most */
#define DP_MX_DEADLINE_MS 5000     /* a scrape's whole life: slow clients go */
#define DP_MX_MAX_BODY (8u << 20)

struct dp_mx_client {
	int fd;                    /* -1: free */
	uint64_t deadline_ms;
	size_t req_len;
	char req[DP_MX_REQ];
	struct dp_mx_buf out;      /* the response, once the request is read */
	size_t out_off;
};

struct dp_metrics {
	int lfd, wake;
	pthread_t thread;
	const struct dp_mx_src *src;
	unsigned n;
	const char *dataplane;
	struct dp_mx_snap *snap;
	struct dp_mx_client cl[DP_MX_CLIENTS];
};

static uint64_t
dp_mx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
dp_mx_client_close(struct dp_mx_client *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->out.p);
	memset(&c->out, 0, sizeof(c->out));
	c->out_off = 0;
	c->req_len = 0;
}

static void
dp_mx_reply(struct dp_mx_client *c, int status, const char *reason, const char *type, const char *body,
	    size_t len, bool head)
{
	c->out.max = DP_MX_MAX_BODY + 512;
	dp_mx_printf(&c->out,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, reason, type, len);
	if (!head && len > 0)
		dp_mx_printf(&c->out, "%.*s", (int)len, body);
}

/* A whole request head is in: answer it. */
static void
dp_mx_answer(struct dp_metrics *m, struct dp_mx_client *c)
{
	char method[16], target[256];
	bool head;
	size_t plen;

	c->req[c->req_len] = '\0';
	if (sscanf(c->req, "%15s %255s HTTP/1.%*c", method, target) != 2) {
		dp_mx_reply(c, 400, "Bad Request", "text/plain", "bad request\n", 12, false);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		dp_mx_reply(c, 405, "Method Not Allowed", "text/plain", "GET only\n", 9, false);
		return;
	}
	plen = strcspn(target, "?");
	if (plen != 8 || memcmp(target, "/metrics", 8) != 0) {
		dp_mx_reply(c, 404, "Not Found", "text/plain", "not found: try /metrics\n", 24, head);
		return;
	}
	{
		struct dp_mx_buf body = { .max = DP_MX_MAX_BODY };

		dp_mx_collect(m->snap, m->src, m->n, m->dataplane);
		dp_mx_render(&body, m->snap);
		if (body.oom)
			dp_mx_reply(c, 500, "Internal Server Error", "text/plain", "too large\n", 10, head);
		else
			dp_mx_reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body.p, body.len, head);
		free(body.p);
	}
}

/* Readable: more of the request head. */
static void
dp_mx_client_read(struct dp_metrics *m, struct dp_mx_client *c)
{
	ssize_t r = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);

	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			dp_mx_client_close(c);
		return;
	}
	c->req_len += (size_t)r;
	c->req[c->req_len] = '\0';
	if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL)
		dp_mx_answer(m, c);
	else if (c->req_len == sizeof(c->req) - 1)
		dp_mx_reply(c, 431, "Request Header Fields Too Large", "text/plain", "too large\n", 10, false);
}

static void
dp_mx_client_write(struct dp_mx_client *c)
{
	ssize_t r = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			dp_mx_client_close(c);
		return;
	}
	c->out_off += (size_t)r;
	if (c->out_off == c->out.len) {
		shutdown(c->fd, SHUT_WR);
		dp_mx_client_close(c);
	}
}

static void
dp_mx_accept(struct dp_metrics *m)
{
	for (int i = 0; i < DP_MX_CLIENTS; i++) {
		struct dp_mx_client *c = &m->cl[i];

		if (c->fd >= 0)
			continue;
		c->fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0)
			return;
		c->deadline_ms = dp_mx_now_ms() + DP_MX_DEADLINE_MS;
	}
}

static void *
dp_metrics_main(void *arg)
{
	struct dp_metrics *m = arg;
	cpu_set_t all;

	/* Off the workers' cores where the scheduler can: the thread
	 * inherits the dpdk main lcore's pinning otherwise. */
	CPU_ZERO(&all);
	for (long i = 0, n = sysconf(_SC_NPROCESSORS_ONLN); i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, &all);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	for (;;) {
		struct pollfd pfd[DP_MX_CLIENTS + 2];
		int idx[DP_MX_CLIENTS + 2], np = 0, free_slots = 0;
		uint64_t now = dp_mx_now_ms();

		pfd[np] = (struct pollfd){ .fd = m->wake, .events = POLLIN };
		idx[np++] = -2;
		for (int i = 0; i < DP_MX_CLIENTS; i++) {
			struct dp_mx_client *c = &m->cl[i];

			if (c->fd < 0) {
				free_slots++;
				continue;
			}
			if (now >= c->deadline_ms) {
				dp_mx_client_close(c);
				free_slots++;
				continue;
			}
			pfd[np] = (struct pollfd){ .fd = c->fd, .events = c->out.len > 0 ? POLLOUT : POLLIN };
			idx[np++] = i;
		}
		if (free_slots > 0) {
			pfd[np] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
			idx[np++] = -1;
		}
		if (poll(pfd, (nfds_t)np, 250) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break; /* dp_metrics_stop */
		for (int k = 1; k < np; k++) {
			struct dp_mx_client *c;

			if (pfd[k].revents == 0)
				continue;
			if (idx[k] == -1) {
				dp_mx_accept(m);
				continue;
			}
			c = &m->cl[idx[k]];
			if (c->out.len > 0)
				dp_mx_client_write(c);
			else
				dp_mx_client_read(m, c);
			if (c->fd >= 0 && c->out.len > 0 && c->out_off == 0)
				dp_mx_client_write(c); /* the answer usually fits the socket at once */
		}
	}
	return NULL;
}

static int
dp_mx_listen(const struct cfg_addr *a)
{
	int one = 1, fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)&a->sa, a->sa_len) != 0 || listen(fd, 16) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct dp_metrics *
dp_metrics_start(const struct cfg *cfg, const struct dp_mx_src *src, unsigned n, const char *dataplane)
{
	struct dp_metrics *m = calloc(1, sizeof(*m));
	sigset_t all, old;
	int rc;

	if (m == NULL || (m->snap = malloc(sizeof(*m->snap))) == NULL) {
		dp_log(DP_LOG_ERROR, "metrics: out of memory");
		goto fail;
	}
	m->src = src;
	m->n = n;
	m->dataplane = dataplane;
	m->lfd = m->wake = -1;
	for (int i = 0; i < DP_MX_CLIENTS; i++)
		m->cl[i].fd = -1;
	m->lfd = dp_mx_listen(&cfg->metrics);
	if (m->lfd < 0) {
		dp_log(DP_LOG_ERROR, "metrics: listen on %s:%u: %s", cfg->metrics.host, cfg->metrics.port,
		       strerror(errno));
		goto fail;
	}
	m->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake < 0) {
		dp_log(DP_LOG_ERROR, "metrics: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* Signals stay with the threads that handle them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&m->thread, NULL, dp_metrics_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		dp_log(DP_LOG_ERROR, "metrics: cannot start the control thread: %s", strerror(rc));
		goto fail;
	}
	dp_log(DP_LOG_INFO, "metrics on http://%s%s%s:%u/metrics", cfg->metrics.family == AF_INET6 ? "[" : "",
	       cfg->metrics.host, cfg->metrics.family == AF_INET6 ? "]" : "", cfg->metrics.port);
	return m;
fail:
	if (m != NULL) {
		if (m->lfd >= 0)
			close(m->lfd);
		if (m->wake >= 0)
			close(m->wake);
		free(m->snap);
		free(m);
	}
	return NULL;
}

void
dp_metrics_stop(struct dp_metrics *m)
{
	uint64_t one = 1;

	if (m == NULL)
		return;
	if (write(m->wake, &one, sizeof(one)) < 0)
		dp_log(DP_LOG_WARN, "metrics: cannot wake the control thread");
	pthread_join(m->thread, NULL);
	for (int i = 0; i < DP_MX_CLIENTS; i++)
		if (m->cl[i].fd >= 0)
			dp_mx_client_close(&m->cl[i]);
	close(m->lfd);
	close(m->wake);
	free(m->snap);
	free(m);
}
