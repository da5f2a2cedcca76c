/* tlsbench: a TLS handshake load generator (libssl as an independent
 * client). Shared between the option parser (bench_opts.c), the
 * per-thread engine (bench_client.c) and main/report (tlsbench.c). */
#ifndef TLSBENCH_H
#define TLSBENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench_hist.h"

#define BENCH_MAX_THREADS 64

enum bench_resume {
	BENCH_RESUME_NONE,
	BENCH_RESUME_ID,     /* TLS 1.2 session ID (RFC 5246 7.4.1.2) */
	BENCH_RESUME_TICKET, /* TLS 1.2 session ticket (RFC 5077) */
	BENCH_RESUME_PSK,    /* TLS 1.3 PSK from a NewSessionTicket (RFC 8446 4.6.1) */
};

/* Why a connection failed; one counter per kind. */
enum bench_err {
	BENCH_ERR_CONNECT,   /* the TCP connection was refused or failed */
	BENCH_ERR_RESET,     /* the peer reset or closed during the handshake */
	BENCH_ERR_ALERT,     /* the server sent a fatal alert */
	BENCH_ERR_TLS,       /* any other handshake failure seen by libssl */
	BENCH_ERR_PIN,       /* the server's public key is not the pinned one */
	BENCH_ERR_HTTP,      /* the response was not a complete 2xx */
	BENCH_ERR_TIMEOUT,   /* no progress within --timeout */
	BENCH_ERR_RESOURCE,  /* a local socket or memory failure (ports exhausted...) */
	BENCH_ERR_KINDS,
};

extern const char *const bench_err_names[BENCH_ERR_KINDS];

struct bench_opts {
	char host[256];
	char port[16];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	unsigned conns;           /* -c: connections in flight, all threads */
	unsigned n_threads;
	int cores[BENCH_MAX_THREADS]; /* --cores; -1: not pinned */
	double duration;          /* -d seconds; 0 with -n */
	uint64_t count;           /* -n handshakes (attempts); 0 with -d */
	int tls_min, tls_max;     /* TLS1_2_VERSION / TLS1_3_VERSION */
	const char *ciphers, *ciphersuites, *groups, *sni;
	unsigned char alpn[256];  /* wire format (RFC 7301 3.1) */
	unsigned alpn_len;
	enum bench_resume resume;
	double resume_ratio;
	const char *request;      /* --request PATH */
	double rate;              /* --rate: connection starts per second, all threads */
	bool open_loop;
	const char *verify_ca;
	unsigned char pin[32];
	bool have_pin;
	bool linger0;
	double timeout;           /* per connection, seconds */
	bool json, quiet;
	bool openssl_decoders;   /* keep OpenSSL 3.0's provider key decoding (bench_legacy.c) */
};

/* One client thread's counters: the progress line reads them while the
 * thread runs (relaxed atomics), the report after it joined. */
struct bench_stats {
	_Atomic uint64_t started, handshakes, errors, inflight;
	uint64_t in_window;      /* handshakes done before -d ran out (the rate's numerator) */
	uint64_t resumed, resume_tried, resume_missed; /* missed: offered, not resumed */
	uint64_t tls12, tls13;
	uint64_t late_starts;    /* open loop: arrivals that found every slot busy */
	uint64_t err[BENCH_ERR_KINDS];
	char err_first[BENCH_ERR_KINDS][160];
	char cipher[64], group[32];
	struct bench_hist hs_lat;  /* start (scheduled, in open loop) -> handshake done, ns */
	struct bench_hist req_lat; /* start -> response complete, ns (--request) */
	double cpu_s;              /* this thread's user + system time */
};

struct bench_thread {
	const struct bench_opts *o;
	unsigned id;
	int cpu;
	unsigned conns;       /* this thread's share of -c */
	uint64_t count;       /* this thread's share of -n (0: until stop) */
	double rate;          /* this thread's share of --rate */
	double t0;            /* common start, CLOCK_MONOTONIC seconds */
	double t_stop;        /* no new connections after this (duration mode) */
	atomic_bool *stop;    /* set by SIGINT */
	double t_end;         /* when its last connection finished */
	int rc;
	struct bench_stats st;
};

int bench_opts_parse(struct bench_opts *o, int argc, char **argv);
struct ssl_ctx_st *bench_client_ctx(const struct bench_opts *o);
void *bench_client_run(void *thread);
int bench_legacy_keys(void);

#endif
