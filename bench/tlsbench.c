/* tlsbench HOST:PORT: TLS handshakes per second against any TLS server,
 * with latency percentiles, errors by kind and the client's own CPU per
 * handshake (so a reader can tell when the client was the bottleneck).
 * Options: bench_opts.c; the client threads: bench_client.c. */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bench_util.h"
#include "tlsbench.h"

static atomic_bool stop_flag;

static void
on_sigint(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, true);
}

/* n split over k: the first n % k get one more. */
static uint64_t
share(uint64_t n, unsigned k, unsigned i)
{
	return n / k + (i < n % k ? 1 : 0);
}

struct bench_total {
	struct bench_stats st;
	double elapsed, cpu_s;
	uint64_t handshakes, errors, started;
	double rate; /* handshakes/s */
};

static void
total_merge(struct bench_total *tot, struct bench_thread *th, unsigned n)
{
	double t_end = th[0].t0;

	memset(tot, 0, sizeof(*tot));
	bench_hist_init(&tot->st.hs_lat);
	bench_hist_init(&tot->st.req_lat);
	for (unsigned i = 0; i < n; i++) {
		const struct bench_stats *s = &th[i].st;

		tot->started += atomic_load(&s->started);
		tot->handshakes += atomic_load(&s->handshakes);
		tot->errors += atomic_load(&s->errors);
		tot->st.in_window += s->in_window;
		tot->st.resumed += s->resumed;
		tot->st.resume_tried += s->resume_tried;
		tot->st.resume_missed += s->resume_missed;
		tot->st.tls12 += s->tls12;
		tot->st.tls13 += s->tls13;
		tot->st.late_starts += s->late_starts;
		for (int k = 0; k < BENCH_ERR_KINDS; k++) {
			tot->st.err[k] += s->err[k];
			if (tot->st.err_first[k][0] == '\0')
				memcpy(tot->st.err_first[k], s->err_first[k], sizeof(s->err_first[k]));
		}
		if (tot->st.cipher[0] == '\0') {
			memcpy(tot->st.cipher, s->cipher, sizeof(s->cipher));
			memcpy(tot->st.group, s->group, sizeof(s->group));
		}
		bench_hist_merge(&tot->st.hs_lat, &s->hs_lat);
		bench_hist_merge(&tot->st.req_lat, &s->req_lat);
		tot->cpu_s += s->cpu_s;
		if (th[i].t_end > t_end)
			t_end = th[i].t_end;
	}
	tot->elapsed = t_end - th[0].t0;
	/* With -d, the rate counts what completed within the duration: the
	 * drain of the connections still in flight at the end (up to one
	 * latency, more against a slow server) would otherwise dilute it. */
	if (th[0].o->count == 0 && th[0].o->duration > 0 && !atomic_load(&stop_flag))
		tot->rate = (double)tot->st.in_window / th[0].o->duration;
	else
		tot->rate = tot->elapsed > 0 ? (double)tot->handshakes / tot->elapsed : 0.0;
}

static const double quantiles[] = { 0.5, 0.9, 0.99, 0.999 };
static const char *const qnames[] = { "p50", "p90", "p99", "p99.9" };

static void
json_hist(const char *name, const struct bench_hist *h)
{
	printf("\"%s\":{\"count\":%" PRIu64 ",\"min\":%.1f,\"mean\":%.1f,\"max\":%.1f", name, h->count,
	       h->count ? (double)h->min / 1e3 : 0.0, bench_hist_mean(h) / 1e3, (double)h->max / 1e3);
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		printf(",\"%s\":%.1f", qnames[i], (double)bench_hist_quantile(h, quantiles[i]) / 1e3);
	/* the distribution for a CDF plot: [quantile, us] at every percent
	 * and into the tail */
	printf(",\"cdf\":[");
	for (int i = 1; i <= 103; i++) {
		double q = i <= 99 ? i / 100.0 : i == 100 ? 0.995 : i == 101 ? 0.999 : i == 102 ? 0.9999 : 1.0;

		printf("%s[%g,%.1f]", i > 1 ? "," : "", q, (double)bench_hist_quantile(h, q) / 1e3);
	}
	printf("]}");
}

static void
report_json(const struct bench_opts *o, const struct bench_total *t, unsigned n_threads)
{
	static const char *const resume[] = { "none", "id", "ticket", "psk" };
	double hs = (double)t->handshakes;

	printf("{\"target\":\"%s:%s\",\"threads\":%u,\"connections\":%u,", o->host, o->port, n_threads, o->conns);
	printf("\"mode\":\"%s\",\"rate\":%.1f,", o->open_loop ? "open-loop" : o->rate > 0 ? "rate-limited" : "closed-loop",
	       o->rate);
	printf("\"resume\":\"%s\",\"resume_ratio\":%.3f,", resume[o->resume], o->resume_ratio);
	printf("\"elapsed_s\":%.3f,\"started\":%" PRIu64 ",\"handshakes\":%" PRIu64 ",\"errors\":%" PRIu64 ",",
	       t->elapsed, t->started, t->handshakes, t->errors);
	printf("\"handshakes_per_s\":%.1f,", t->rate);
	printf("\"resumed\":%" PRIu64 ",\"resumed_share\":%.4f,\"resume_offered\":%" PRIu64
	       ",\"resume_refused\":%" PRIu64 ",",
	       t->st.resumed, hs > 0 ? (double)t->st.resumed / hs : 0.0, t->st.resume_tried, t->st.resume_missed);
	printf("\"tls12\":%" PRIu64 ",\"tls13\":%" PRIu64 ",\"cipher\":\"%s\",\"group\":\"%s\",", t->st.tls12,
	       t->st.tls13, t->st.cipher, t->st.group);
	printf("\"late_starts\":%" PRIu64 ",", t->st.late_starts);
	printf("\"client_cpu_s\":%.3f,\"client_cpu_us_per_handshake\":%.1f,", t->cpu_s,
	       hs > 0 ? t->cpu_s * 1e6 / hs : 0.0);
	printf("\"errors_by_kind\":{");
	for (int k = 0, first = 1; k < BENCH_ERR_KINDS; k++) {
		if (t->st.err[k] == 0)
			continue;
		printf("%s\"%s\":%" PRIu64, first ? "" : ",", bench_err_names[k], t->st.err[k]);
		first = 0;
	}
	printf("},\"first_error\":{");
	for (int k = 0, first = 1; k < BENCH_ERR_KINDS; k++) {
		if (t->st.err[k] == 0)
			continue;
		printf("%s\"%s\":\"", first ? "" : ",", bench_err_names[k]);
		for (const char *p = t->st.err_first[k]; *p != '\0'; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				putchar(*p);
		printf("\"");
		first = 0;
	}
	printf("},\"latency_us\":{");
	json_hist("handshake", &t->st.hs_lat);
	if (o->request != NULL) {
		printf(",");
		json_hist("request", &t->st.req_lat);
	}
	printf("}}\n");
}

static void
text_hist(const char *name, const struct bench_hist *h)
{
	printf("  %-9s latency (ms): min %.3f  mean %.3f", name, h->count ? (double)h->min / 1e6 : 0.0,
	       bench_hist_mean(h) / 1e6);
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		printf("  %s %.3f", qnames[i], (double)bench_hist_quantile(h, quantiles[i]) / 1e6);
	printf("  max %.3f\n", (double)h->max / 1e6);
}

static void
report_text(const struct bench_opts *o, const struct bench_total *t)
{
	double hs = (double)t->handshakes;

	printf("tlsbench %s:%s: %" PRIu64 " handshakes in %.2f s = %.1f handshakes/s (%" PRIu64
	       " connections started)\n",
	       o->host, o->port, t->handshakes, t->elapsed, t->rate, t->started);
	printf("  TLS 1.2: %" PRIu64 "  TLS 1.3: %" PRIu64 "  cipher %s  group %s\n", t->st.tls12, t->st.tls13,
	       t->st.cipher[0] ? t->st.cipher : "-", t->st.group[0] ? t->st.group : "-");
	printf("  resumed %" PRIu64 " (%.1f %%), sessions offered %" PRIu64 ", refused %" PRIu64 "\n", t->st.resumed,
	       hs > 0 ? 100.0 * (double)t->st.resumed / hs : 0.0, t->st.resume_tried, t->st.resume_missed);
	text_hist("handshake", &t->st.hs_lat);
	if (o->request != NULL)
		text_hist("request", &t->st.req_lat);
	if (o->open_loop)
		printf("  open loop: %" PRIu64 " arrivals found every connection slot busy\n", t->st.late_starts);
	printf("  client CPU %.2f s = %.1f us per handshake\n", t->cpu_s, hs > 0 ? t->cpu_s * 1e6 / hs : 0.0);
	printf("  errors %" PRIu64 "\n", t->errors);
	for (int k = 0; k < BENCH_ERR_KINDS; k++)
		if (t->st.err[k] != 0)
			printf("    %-8s %" PRIu64 " (first: %s)\n", bench_err_names[k], t->st.err[k], t->st.err_first[k]);
}

/* Once a second on stderr, until every thread is done. */
static void
progress(struct bench_thread *th, unsigned n, atomic_uint *done, bool quiet)
{
	double t0 = th[0].t0, next = t0 + 1;
	uint64_t last = 0;

	while (atomic_load(done) < n) {
		double now = bench_now_s();
		uint64_t hs = 0, err = 0, fl = 0;

		if (now < next) {
			usleep(20000);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			hs += atomic_load_explicit(&th[i].st.handshakes, memory_order_relaxed);
			err += atomic_load_explicit(&th[i].st.errors, memory_order_relaxed);
			fl += atomic_load_explicit(&th[i].st.inflight, memory_order_relaxed);
		}
		if (!quiet)
			fprintf(stderr, "tlsbench: %5.0f s  %8.0f handshakes/s  errors %" PRIu64 "  in flight %" PRIu64 "\n",
				next - t0, (double)(hs - last) / (now - next + 1), err, fl);
		last = hs;
		next += 1;
	}
}

struct bench_runner {
	struct bench_thread *t;
	atomic_uint *done;
};

static void *
runner(void *arg)
{
	struct bench_runner *r = arg;

	bench_client_run(r->t);
	atomic_fetch_add(r->done, 1);
	return NULL;
}

/* glibc's per-thread cache keeps 7 free chunks of each size. A handshake
 * frees several hundred small objects that the next one allocates again,
 * so most of them went through the arena's bins (malloc_consolidate,
 * unlink_chunk: cold memory); a deeper cache takes ~10 % off tlsbench's
 * CPU per full handshake (bench/RESULTS.md, third pass). Its depth is a
 * tunable that glibc reads at start only: tlsbench starts itself again,
 * once, with it set (same PID), unless GLIBC_TUNABLES sets it already
 * (glibc.malloc.tcache_count=7 is glibc's default). */
#define BENCH_TCACHE "glibc.malloc.tcache_count="

static void
deep_malloc_cache(char **argv)
{
	const char *t = getenv("GLIBC_TUNABLES");
	char v[1024];
	int n;

	if (t != NULL && strstr(t, BENCH_TCACHE) != NULL)
		return;
	n = snprintf(v, sizeof(v), "%s%s" BENCH_TCACHE "2000", t != NULL ? t : "", t != NULL ? ":" : "");
	if (n < 0 || (size_t)n >= sizeof(v) || setenv("GLIBC_TUNABLES", v, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* not fatal: run on with the default cache (and the variable as it was) */
	v[t != NULL ? strlen(v) - strlen(":" BENCH_TCACHE "2000") : 0] = '\0';
	if (v[0] != '\0')
		setenv("GLIBC_TUNABLES", v, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	static struct bench_thread th[BENCH_MAX_THREADS];
	struct bench_runner rn[BENCH_MAX_THREADS];
	pthread_t tid[BENCH_MAX_THREADS];
	atomic_uint done = 0;
	struct bench_total *tot;
	struct sigaction sa = { .sa_handler = on_sigint };
	double t0;
	unsigned n;

	if (bench_opts_parse(&o, argc, argv) != 0)
		return 2;
	deep_malloc_cache(argv);
	if (!o.openssl_decoders && bench_legacy_keys() != 0) {
		fprintf(stderr, "tlsbench: cannot register the built-in key methods\n");
		return 1;
	}
	/* Each handshake allocates and frees some 100 KiB; a thread's malloc
	 * arena then shrank and grew back around every one (an mprotect per
	 * handshake, strace -c). Keep what it has. */
	(void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
	(void)mallopt(M_TOP_PAD, 1 << 20);
	n = o.n_threads;
	if (o.count > 0 && o.count < n)
		n = (unsigned)o.count; /* no thread without a connection to make */
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = bench_now_s();
	for (unsigned i = 0; i < n; i++) {
		th[i] = (struct bench_thread){
			.o = &o, .id = i, .cpu = o.cores[i],
			.conns = (unsigned)share(o.conns, n, i),
			.count = o.count > 0 ? share(o.count, n, i) : 0,
			.rate = o.rate / n, .t0 = t0, .t_stop = t0 + o.duration, .stop = &stop_flag,
		};
		bench_hist_init(&th[i].st.hs_lat);
		bench_hist_init(&th[i].st.req_lat);
		rn[i] = (struct bench_runner){ &th[i], &done };
		if (pthread_create(&tid[i], NULL, runner, &rn[i]) != 0) {
			fprintf(stderr, "tlsbench: cannot start thread %u\n", i);
			return 1;
		}
	}
	progress(th, n, &done, o.quiet);
	for (unsigned i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; i < n; i++)
		if (th[i].rc != 0)
			return 1;
	tot = malloc(sizeof(*tot));
	if (tot == NULL)
		return 1;
	total_merge(tot, th, n);
	if (o.json)
		report_json(&o, tot, n);
	else
		report_text(&o, tot);
	n = tot->errors == 0 && tot->handshakes > 0 ? 0 : 3;
	free(tot);
	return (int)n;
}
