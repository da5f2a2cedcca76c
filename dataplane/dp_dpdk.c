/* The dpdk dataplane (DESIGN.md "Dataplanes"): EAL, one port, one RX/TX
 * queue pair per worker lcore, and on each worker the userspace stack with
 * the engine on top (dp_ns). A poll iteration: one RX burst from its queue,
 * the frames other workers steered to it, the crypto batch, completions,
 * TCP timers, then one TX flush.
 *
 * Steering. With RSS on the TCP 4-tuple (a port that has it and a queue
 * per worker), a flow always arrives on one queue and its worker owns it.
 * Otherwise (one queue, fewer queues than workers, no RSS) each worker
 * that polls a queue hashes every TCP frame's 4-tuple and hands frames of
 * other workers' flows to them through a ring; a worker without a TX
 * queue sends through the ring of one that has. ARP frames go to every
 * worker (each keeps its own ARP cache). Frames carry software checksums.
 *
 * Proxy mode's active opens (to the backends) choose their ephemeral port
 * so that the backend's replies arrive where the connection lives
 * (dpk_port_ok): with software steering, the same hash of the reply's
 * 4-tuple; with RSS, the port's Toeplitz hash (its key and redirection
 * table, read from the port) of the reply's 4-tuple. A port that does not
 * tell them gets software steering on top of its queues, and so does
 * net_tap, whose "RSS" is the kernel's tun queue selection (a flow hash
 * of its own and a table of recent flows): replies to our SYNs were seen
 * on the other worker's queue about half of the time with two workers.
 *
 * The session store shared by a fleet (--session-store) is no lcore's
 * business: a store thread does the Redis I/O (dp_sthread.h), each
 * worker reaches it through its pair of rings (dp_sring.h) and takes the
 * answers once per iteration, before the crypto batch. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "dp_backend.h"
#include "dp_ctl.h"
#include "dp_dpdk.h"
#include "dp_gen.h"
#include "dp_log.h"
#include "dp_metrics.h"
#include "dp_ns.h"
#include "tlso_build.h"
#if TLSO_HAVE_HIREDIS
#include "dp_sthread.h"
#endif

#define DPK_BURST 32
#define DPK_RX_DESC 1024
#define DPK_TX_DESC 1024
#define DPK_MBUFS 8191           /* per worker: descriptors, rings, bursts in flight */
#define DPK_MBUF_CACHE 256
#define DPK_RING 4096
#define DPK_RSS_KEY 64           /* room for the longest RSS key */
#define DPK_RETA 512             /* RTE_ETH_RSS_RETA_SIZE_512 */

struct dpk_stats {
	uint64_t rx, tx, tx_dropped, steered_out, steered_in, ring_full, no_mbuf, multiseg;
	uint64_t busy_cycles, idle_cycles, iterations;
};

struct dpk;

struct dpk_worker {
	struct dp_ns ns;
	struct dpk *k;
	unsigned id, lcore;
	int rxq, txq;                /* -1: none (steering through rings) */
	struct rte_mempool *pool;
	struct rte_ring *rx_ring;    /* frames steered to us */
	struct rte_ring *tx_ring;    /* frames of workers without a TX queue (if we have one) */
	struct rte_ring *tx_via;     /* where we send without a TX queue */
	struct rte_mbuf *tx[DPK_BURST];
	unsigned n_tx;
	struct dpk_stats st;
	int start_rc;
	bool unlistened;             /* draining: the ports no longer listen */
#if TLSO_HAVE_HIREDIS
	struct dp_sring *store;      /* --session-store: the rings to the store thread */
#endif
};

struct dpk {
	const struct cfg *cfg;
	uint16_t port;
	unsigned n;                  /* workers */
	unsigned nq;                 /* queue pairs */
	bool steer;                  /* software steering of TCP flows */
	bool tx_csum, rx_csum;       /* the port's IPv4 + TCP checksum offloads */
	bool closed;                 /* the port is stopped: frames are dropped */
	uint8_t rss_key[DPK_RSS_KEY];
	uint16_t reta[DPK_RETA];
	uint16_t reta_size;
	uint64_t tsc_per_ms, tsc_per_us;
	struct dpk_worker *ws;
#if TLSO_HAVE_HIREDIS
	struct dp_sthread *store;    /* --session-store: its thread, or NULL */
#endif
};

static atomic_bool dpk_stop;
static atomic_bool dpk_dump;

/* SIGUSR1 on the control thread: worker 0 logs the counters. */
static void
dpk_stats(void *arg)
{
	(void)arg;
	atomic_store(&dpk_dump, true);
}

/* The control thread (dp_ctl.h): signals, reloads, the drain. */
static void *
dpk_ctl_main(void *arg)
{
	struct dp_ctl *ctl = arg;

	dp_ctl_run(ctl, ctl->gens.n_workers);
	return NULL;
}

static uint64_t
dpk_now_ms(const struct dpk *k)
{
	return rte_rdtsc() / k->tsc_per_ms;
}

/* ---- TX ---- */

static void
dpk_tx_flush(struct dpk *k, struct dpk_worker *w)
{
	unsigned sent = 0;

	if (w->n_tx == 0)
		return;
	if (w->txq >= 0) {
		for (int tries = 0; tries < 4 && sent < w->n_tx; tries++)
			sent += rte_eth_tx_burst(k->port, (uint16_t)w->txq, w->tx + sent, (uint16_t)(w->n_tx - sent));
	} else {
		sent = rte_ring_enqueue_burst(w->tx_via, (void **)w->tx, w->n_tx, NULL);
	}
	w->st.tx += sent;
	if (sent < w->n_tx) {
		w->st.tx_dropped += w->n_tx - sent;
		rte_pktmbuf_free_bulk(w->tx + sent, w->n_tx - sent);
	}
	w->n_tx = 0;
}

/* The stack's frame out (ns_tx_fn). */
static void
dpk_tx(void *arg, const uint8_t *frame, size_t len)
{
	struct dpk_worker *w = arg;
	struct rte_mbuf *m;
	char *p;

	if (w->k->closed)
		return;
	m = rte_pktmbuf_alloc(w->pool);
	if (m == NULL) {
		w->st.no_mbuf++;
		return;
	}
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		w->st.no_mbuf++;
		return;
	}
	memcpy(p, frame, len);
	if (w->k->tx_csum && len >= NS_ETH_HDR + NS_IP_HDR && frame[12] == 0x08 && frame[13] == 0x00) {
		m->l2_len = NS_ETH_HDR;
		m->l3_len = (uint64_t)(frame[NS_ETH_HDR] & 0x0f) * 4;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		if (frame[NS_ETH_HDR + 9] == NS_IP_TCP)
			m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	}
	w->tx[w->n_tx++] = m;
	if (w->n_tx == DPK_BURST)
		dpk_tx_flush(w->k, w);
}

/* ---- RX and steering ---- */

/* Software steering's hash of a TCP frame's 4-tuple as it sits in the
 * frame (network order): source address, destination address, then both
 * ports in one word. */
static unsigned
dpk_hash(const struct dpk *k, uint32_t src, uint32_t dst, uint32_t ports)
{
	uint32_t h = src * 2654435761u;

	h = (h ^ dst) * 2246822519u;
	h = (h ^ ports) * 3266489917u;
	/* the high bits, which every input bit reaches (the low ones of a
	 * product see only the low bits of its factors: with h % n the
	 * port of an active open could not choose the worker) */
	return (unsigned)(((uint64_t)h * k->n) >> 32);
}

/* The worker owning a frame's TCP flow (hash of the 4-tuple), or -1 for
 * frames any worker may take. -2: ARP, for every worker. */
static int
dpk_owner(const struct dpk *k, const uint8_t *f, size_t len)
{
	size_t ihl;
	uint32_t src, dst, ports;

	if (len < NS_ETH_HDR + 2)
		return -1;
	if (f[12] == 0x08 && f[13] == 0x06)
		return -2;
	if (f[12] != 0x08 || f[13] != 0x00 || len < NS_ETH_HDR + NS_IP_HDR + 4)
		return -1;
	ihl = (size_t)(f[NS_ETH_HDR] & 0x0f) * 4;
	if (f[NS_ETH_HDR + 9] != NS_IP_TCP || len < NS_ETH_HDR + ihl + 4)
		return -1;
	memcpy(&src, f + NS_ETH_HDR + 12, 4);
	memcpy(&dst, f + NS_ETH_HDR + 16, 4);
	memcpy(&ports, f + NS_ETH_HDR + ihl, 4);
	return (int)dpk_hash(k, src, dst, ports);
}

/* ns_tcp's port_ok: do the replies of an active open from lport (host
 * order) come to worker w? */
static bool
dpk_port_ok(void *arg, uint32_t laddr, uint32_t raddr, uint16_t lport, uint16_t rport)
{
	const struct dpk_worker *w = arg;
	const struct dpk *k = w->k;

	if (k->n == 1)
		return true;
	if (k->steer) {
		/* the reply's frame: from raddr:rport to laddr:lport */
		uint8_t f[12] = { (uint8_t)(raddr >> 24), (uint8_t)(raddr >> 16), (uint8_t)(raddr >> 8), (uint8_t)raddr,
				  (uint8_t)(laddr >> 24), (uint8_t)(laddr >> 16), (uint8_t)(laddr >> 8), (uint8_t)laddr,
				  (uint8_t)(rport >> 8),  (uint8_t)rport,	  (uint8_t)(lport >> 8), (uint8_t)lport };
		uint32_t src, dst, ports;

		memcpy(&src, f, 4);
		memcpy(&dst, f + 4, 4);
		memcpy(&ports, f + 8, 4);
		return dpk_hash(k, src, dst, ports) == w->id;
	}
	{
		/* RSS (Microsoft's RSS spec, verification suite order): the
		 * reply's source address, destination, source port, destination */
		struct rte_ipv4_tuple t = { .src_addr = raddr, .dst_addr = laddr };
		uint32_t h;

		t.sport = rport;
		t.dport = lport;
		h = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN, k->rss_key);
		return k->reta[h % k->reta_size] == w->rxq;
	}
}

/* Proxy mode with RSS: read the port's key and redirection table for
 * dpk_port_ok; a port that does not tell gets software steering. */
static void
dpk_rss_learn(struct dpk *k, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_conf rc = { .rss_key = k->rss_key, .rss_key_len = DPK_RSS_KEY };
	struct rte_eth_rss_reta_entry64 reta[DPK_RETA / RTE_ETH_RETA_GROUP_SIZE];
	const char *drv = info->driver_name != NULL ? info->driver_name : "";

	if (k->cfg->mode != CFG_MODE_PROXY || k->steer)
		return;
	memset(reta, 0, sizeof(reta));
	for (size_t i = 0; i < DPK_RETA / RTE_ETH_RETA_GROUP_SIZE; i++)
		reta[i].mask = ~0ull;
	if (strcmp(drv, "net_tap") != 0 && info->reta_size > 0 && info->reta_size <= DPK_RETA && info->hash_key_size >= 16 &&
	    info->hash_key_size <= DPK_RSS_KEY && rte_eth_dev_rss_hash_conf_get(k->port, &rc) == 0 &&
	    rte_eth_dev_rss_reta_query(k->port, reta, info->reta_size) == 0) {
		k->reta_size = info->reta_size;
		for (unsigned i = 0; i < k->reta_size; i++)
			k->reta[i] = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
		return;
	}
	dp_log(DP_LOG_INFO, "dpdk: port %u (%s): its RSS cannot be predicted; software steering, so that "
	       "backend replies reach the worker of their connection", k->port, drv);
	k->steer = true;
}

static void
dpk_input(struct dpk_worker *w, struct rte_mbuf *m)
{
	if (m->nb_segs != 1 && rte_pktmbuf_linearize(m) != 0) {
		w->st.multiseg++;
	} else {
		/* both checksums verified good by the port: not again */
		w->ns.nif.rx_csum_ok = w->k->rx_csum &&
				       (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
				       (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		dp_ns_input(&w->ns, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m));
		w->ns.nif.rx_csum_ok = false;
	}
	rte_pktmbuf_free(m);
}

static void
dpk_give(struct dpk_worker *to, struct dpk_worker *from, struct rte_mbuf *m)
{
	if (rte_ring_enqueue(to->rx_ring, m) != 0) {
		from->st.ring_full++;
		rte_pktmbuf_free(m);
	} else {
		from->st.steered_out++;
	}
}

/* A frame from our queue: ours, another worker's, or everyone's. */
static void
dpk_rx_one(struct dpk *k, struct dpk_worker *w, struct rte_mbuf *m)
{
	int owner = dpk_owner(k, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m));

	if (owner == -2) {
		/* ARP: every worker learns it (the mbuf is shared read-only) */
		if (k->n > 1) {
			rte_mbuf_refcnt_update(m, (int16_t)(k->n - 1));
			for (unsigned i = 0; i < k->n; i++)
				if (i != w->id)
					dpk_give(&k->ws[i], w, m);
		}
		owner = -1;
	}
	if (!k->steer)
		owner = -1; /* RSS: the queue a flow arrives on is its owner's */
	if (owner < 0 || (unsigned)owner == w->id)
		dpk_input(w, m);
	else
		dpk_give(&k->ws[owner], w, m);
}

/* ---- the worker ---- */

static void
dpk_log_stats(const struct dpk *k)
{
	for (unsigned i = 0; i < k->n; i++) {
		const struct dpk_worker *w = &k->ws[i];
		uint64_t all = w->st.busy_cycles + w->st.idle_cycles;

		dp_app_log_stats(&w->ns.app, (int)w->lcore);
#if TLSO_HAVE_HIREDIS
		if (k->store != NULL)
			dp_sthread_log(k->store, i, &w->ns.app.hw);
#endif
		if (w->ns.app.pool != NULL)
			dp_pool_log_stats(w->ns.app.pool);
		dp_log(DP_LOG_INFO,
		       "worker %u (lcore %u): busy %.1f%% (%llu of %llu cycles, %llu iterations); rx %llu tx %llu "
		       "(dropped %llu), steered out %llu, ring full %llu, no mbuf %llu; tcp: syn %llu "
		       "established %llu timeouts %llu (retransmissions) fast retransmits %llu resets after "
		       "retries %llu out-of-order %llu table full %llu syn cookies sent %llu ok %llu bad %llu zero windows "
		       "sent %llu; "
		       "ip: malformed %llu fragments %llu not for us %llu",
		       w->id, w->lcore, all ? 100.0 * (double)w->st.busy_cycles / (double)all : 0.0,
		       (unsigned long long)w->st.busy_cycles, (unsigned long long)all, (unsigned long long)w->st.iterations, (unsigned long long)w->st.rx,
		       (unsigned long long)w->st.tx, (unsigned long long)w->st.tx_dropped,
		       (unsigned long long)w->st.steered_out, (unsigned long long)w->st.ring_full,
		       (unsigned long long)w->st.no_mbuf, (unsigned long long)w->ns.tcp.stats.syn,
		       (unsigned long long)w->ns.tcp.stats.established,
		       (unsigned long long)w->ns.tcp.stats.retransmits,
		       (unsigned long long)w->ns.tcp.stats.fast_retransmits, (unsigned long long)w->ns.tcp.stats.timeouts,
		       (unsigned long long)w->ns.tcp.stats.out_of_order, (unsigned long long)w->ns.tcp.stats.table_full,
		       (unsigned long long)w->ns.tcp.stats.syn_cookies_sent,
		       (unsigned long long)w->ns.tcp.stats.syn_cookies_ok,
		       (unsigned long long)w->ns.tcp.stats.syn_cookies_bad,
		       (unsigned long long)w->ns.tcp.stats.zero_windows,
		       (unsigned long long)w->ns.nif.stats.malformed, (unsigned long long)w->ns.nif.stats.ip_fragments,
		       (unsigned long long)w->ns.nif.stats.not_for_us);
	}
	dp_log_heap();
}

/* dp_app_control, and during a drain the connections already closed by
 * the engine: their last bytes and FIN sit in the userspace TCP, which
 * only this loop retransmits. */
static bool
dpk_worker_on(struct dpk_worker *w)
{
	const struct dp_app *a = &w->ns.app;

	if (dp_app_control(&w->ns.app))
		return true;
	return a->draining && a->now_ms < a->drain_until_ms && !atomic_load(&a->gens->stop) &&
	       ns_tcp_closing(&w->ns.tcp);
}

static void
dpk_worker_loop(struct dpk *k, struct dpk_worker *w)
{
	struct rte_mbuf *pkts[DPK_BURST];
	uint64_t t0 = rte_rdtsc();

	while (!atomic_load_explicit(&dpk_stop, memory_order_relaxed) && dpk_worker_on(w)) {
		unsigned got = 0, n;
		uint64_t now_us = rte_rdtsc() / k->tsc_per_us, t1;
		bool busy;

		if (w->ns.app.draining && !w->unlistened) {
			ns_tcp_unlisten(&w->ns.tcp); /* new SYNs get a reset */
			w->unlistened = true;
		}

		/* microseconds for the bounded flush delay: the loop spins, so
		 * held jobs run in the first iteration past their deadline */
		dp_ns_tick(&w->ns, now_us / 1000);
		dp_app_tick_us(&w->ns.app, now_us);
		if (w->rxq >= 0) {
			n = rte_eth_rx_burst(k->port, (uint16_t)w->rxq, pkts, DPK_BURST);
			w->st.rx += n;
			for (unsigned i = 0; i < n; i++)
				dpk_rx_one(k, w, pkts[i]);
			got += n;
		}
		n = rte_ring_dequeue_burst(w->rx_ring, (void **)pkts, DPK_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			dpk_input(w, pkts[i]);
		got += n;
#if TLSO_HAVE_HIREDIS
		/* the store's answers and the lookups past their deadline: their
		 * handshakes go on (crypto jobs for the flush below) */
		if (w->store != NULL)
			got += dp_sring_poll(w->store);
#endif
		busy = got > 0 || dp_app_busy(&w->ns.app);
		/* the end of the iteration: crypto batch, completions, timers */
		dp_ns_poll_end(&w->ns);
		busy |= w->n_tx > 0;
		dpk_tx_flush(k, w);
		if (w->tx_ring != NULL) {
			n = rte_ring_dequeue_burst(w->tx_ring, (void **)pkts, DPK_BURST, NULL);
			if (n > 0) {
				unsigned sent = rte_eth_tx_burst(k->port, (uint16_t)w->txq, pkts, (uint16_t)n);

				if (sent < n)
					rte_pktmbuf_free_bulk(pkts + sent, n - sent);
				busy = true;
			}
		}
		t1 = rte_rdtsc();
		if (busy)
			w->st.busy_cycles += t1 - t0;
		else
			w->st.idle_cycles += t1 - t0;
		t0 = t1;
		w->st.iterations++;
		if (w->id == 0 && atomic_load_explicit(&dpk_dump, memory_order_relaxed)) {
			atomic_store(&dpk_dump, false);
			dpk_log_stats(k);
		}
	}
	dp_app_left(&w->ns.app);
}

static int
dpk_worker_main(void *arg)
{
	struct dpk_worker *w = arg;

	if (w->start_rc == 0)
		dpk_worker_loop(w->k, w);
	return 0;
}

/* ---- setup ---- */

static bool
dpk_has_lcore_arg(const struct cfg *cfg)
{
	for (size_t i = 0; i < cfg->n_eal_args; i++) {
		const char *a = cfg->eal_args[i];
		if (strcmp(a, "-l") == 0 || strcmp(a, "-c") == 0 || strncmp(a, "--lcores", 8) == 0 ||
		    strncmp(a, "-l", 2) == 0 || strncmp(a, "-c", 2) == 0)
			return true;
	}
	return false;
}

static int
dpk_eal(const struct cfg *cfg, unsigned n)
{
	char *argv[CFG_MAX_EAL_ARGS + 4], lcores[512];
	int argc = 0;

	argv[argc++] = (char *)"tlsoffload";
	for (size_t i = 0; i < cfg->n_eal_args; i++)
		argv[argc++] = cfg->eal_args[i];
	if (!dpk_has_lcore_arg(cfg)) {
		/* the workers' cores: --cores, else the first n */
		size_t off = 0;

		for (unsigned i = 0; i < n && off < sizeof(lcores) - 8; i++)
			off += (size_t)snprintf(lcores + off, sizeof(lcores) - off, "%s%u", i ? "," : "",
						cfg->n_cores ? cfg->cores[i] : i);
		argv[argc++] = (char *)"-l";
		argv[argc++] = lcores;
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		dp_log(DP_LOG_ERROR, "dpdk: EAL init failed: %s", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
dpk_port(struct dpk *k)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t port, found = 0;
	int rc;

	RTE_ETH_FOREACH_DEV(port) {
		if (found++ == 0)
			k->port = port;
	}
	if (found == 0) {
		dp_log(DP_LOG_ERROR, "dpdk: no port (give a PCI device or --vdev=net_tap0,iface=NAME after --)");
		return -1;
	}
	if (found > 1)
		dp_log(DP_LOG_WARN, "dpdk: %u ports; serving on the first (port %u)", found, k->port);
	rc = rte_eth_dev_info_get(k->port, &info);
	if (rc != 0) {
		dp_log(DP_LOG_ERROR, "dpdk: port %u: %s", k->port, rte_strerror(-rc));
		return -1;
	}
	k->nq = k->n;
	if (k->nq > info.max_rx_queues)
		k->nq = info.max_rx_queues;
	if (k->nq > info.max_tx_queues)
		k->nq = info.max_tx_queues;
	memset(&conf, 0, sizeof(conf));
	k->steer = true;
	if (k->nq == k->n && k->n > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP & info.flow_type_rss_offloads;
		k->steer = false;
	}
	if (k->n == 1)
		k->steer = false;
	/* checksums by the port when it can do both IPv4 and TCP */
	if ((info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		k->tx_csum = getenv("TLSO_NO_CSUM_OFFLOAD") == NULL;
		if (!k->tx_csum)
			conf.txmode.offloads = 0;
	}
	if ((info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) ==
	    (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM) && getenv("TLSO_NO_CSUM_OFFLOAD") == NULL) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
		k->rx_csum = true;
	}
	rc = rte_eth_dev_configure(k->port, (uint16_t)k->nq, (uint16_t)k->nq, &conf);
	if (rc != 0) {
		dp_log(DP_LOG_ERROR, "dpdk: port %u: configure %u queues: %s", k->port, k->nq, rte_strerror(-rc));
		return -1;
	}
	for (unsigned q = 0; q < k->nq; q++) {
		struct dpk_worker *w = &k->ws[q];
		int sock = rte_eth_dev_socket_id(k->port);

		if (sock < 0)
			sock = (int)rte_socket_id();
		rc = rte_eth_rx_queue_setup(k->port, (uint16_t)q, DPK_RX_DESC, (unsigned)sock, NULL, w->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(k->port, (uint16_t)q, DPK_TX_DESC, (unsigned)sock, NULL);
		if (rc != 0) {
			dp_log(DP_LOG_ERROR, "dpdk: port %u: queue %u: %s", k->port, q, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(k->port);
	if (rc != 0) {
		dp_log(DP_LOG_ERROR, "dpdk: port %u: start: %s", k->port, rte_strerror(-rc));
		return -1;
	}
	dpk_rss_learn(k, &info);
	return 0;
}

static int
dpk_worker_init(struct dpk *k, unsigned i, unsigned lcore)
{
	struct dpk_worker *w = &k->ws[i];
	char name[RTE_MEMPOOL_NAMESIZE];
	int sock = (int)rte_lcore_to_socket_id(lcore);

	w->k = k;
	w->id = i;
	w->lcore = lcore;
	w->rxq = w->txq = -1;
	snprintf(name, sizeof(name), "tlso_mb%u", i);
	w->pool = rte_pktmbuf_pool_create(name, DPK_MBUFS, DPK_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, sock);
	if (w->pool == NULL) {
		dp_log(DP_LOG_ERROR,
		       "dpdk: worker %u: cannot allocate %u mbufs (%u KiB): %s; give EAL more memory (-m, hugepages)",
		       i, DPK_MBUFS, (unsigned)(DPK_MBUFS * (RTE_MBUF_DEFAULT_BUF_SIZE + 128) / 1024),
		       rte_strerror(rte_errno));
		return -1;
	}
	snprintf(name, sizeof(name), "tlso_rx%u", i);
	w->rx_ring = rte_ring_create(name, DPK_RING, sock, RING_F_SC_DEQ);
	if (w->rx_ring == NULL) {
		dp_log(DP_LOG_ERROR, "dpdk: worker %u: ring: %s", i, rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* The workers' connections end (open ones with a RST the port still
 * sends), then the port stops. */
static void
dpk_close_conns(struct dpk *k, bool port_up)
{
	struct rte_mbuf *pkts[DPK_BURST];
	unsigned n;

	for (unsigned i = 0; i < k->n; i++) {
		struct dpk_worker *w = &k->ws[i];

		if (w->k == NULL || w->ns.cfg == NULL)
			continue;
		dp_ns_free(&w->ns);
		dp_app_detach(&w->ns.app);
		w->ns.cfg = NULL;
		if (port_up)
			dpk_tx_flush(k, w);
	}
	for (unsigned i = 0; port_up && i < k->n; i++) { /* what went through the rings */
		struct dpk_worker *w = &k->ws[i];

		while (w->tx_ring != NULL && (n = rte_ring_dequeue_burst(w->tx_ring, (void **)pkts, DPK_BURST, NULL)) > 0) {
			unsigned sent = rte_eth_tx_burst(k->port, (uint16_t)w->txq, pkts, (uint16_t)n);

			if (sent < n)
				rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		}
	}
}

static void
dpk_worker_free(struct dpk_worker *w)
{
	struct rte_mbuf *m;

	if (w->k == NULL)
		return;
	for (unsigned i = 0; i < w->n_tx; i++)
		rte_pktmbuf_free(w->tx[i]);
	w->n_tx = 0;
	while (w->rx_ring != NULL && rte_ring_dequeue(w->rx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (w->tx_ring != NULL && rte_ring_dequeue(w->tx_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(w->rx_ring);
	rte_ring_free(w->tx_ring);
}

#if TLSO_HAVE_HIREDIS
/* --session-store: each worker's rings to the store thread, then the
 * thread (before the lcores run). */
static int
dpk_store_start(struct dpk *k)
{
	if (!k->cfg->session_store.on)
		return 0;
	k->store = dp_sthread_new(&k->cfg->session_store, k->n);
	if (k->store == NULL)
		return -1;
	for (unsigned i = 0; i < k->n; i++) {
		struct dpk_worker *w = &k->ws[i];

		w->store = dp_sthread_ring(k->store, i, &w->ns.app.now_ms, dp_app_lookup_done, &w->ns.app);
		if (w->store == NULL) {
			dp_log(DP_LOG_ERROR, "dpdk: worker %u: session store: out of memory", i);
			return -1;
		}
		w->ns.app.hw.store = &dp_sring_ops;
		w->ns.app.hw.store_arg = w->store;
	}
	return dp_sthread_start(k->store);
}

/* Once the lcores stopped: the thread joins, every lookup still out
 * completes, and the engines no longer reach the store (the connections
 * torn down next would write to it). */
static void
dpk_store_stop(struct dpk *k)
{
	if (k->store == NULL)
		return;
	dp_sthread_stop(k->store);
	for (unsigned i = 0; i < k->n; i++) {
		k->ws[i].ns.app.hw.store = NULL;
		k->ws[i].ns.app.hw.store_arg = NULL;
	}
}
#endif

int
dp_dpdk_run(const struct cfg *cfg, struct dp_ctl *ctl, struct hsk_sess_cache *cache)
{
	struct dpk k = { .cfg = cfg };
	struct hsk_ctx *ctxs = atomic_load(&ctl->gens.cur)->ctxs;
	struct dp_mx_src *src = NULL;
	struct dp_metrics *metrics = NULL;
	struct rte_ether_addr mac;
	pthread_t ctl_thread;
	unsigned lcore, i;
	char err[256], mode[128];
	int rc = -1;

	k.n = cfg->n_cores ? (unsigned)cfg->n_cores : cfg->workers;
	if (dpk_eal(cfg, k.n) != 0)
		return -1;
	if (rte_lcore_count() < k.n) {
		dp_log(DP_LOG_ERROR, "dpdk: %u workers need %u lcores; EAL has %u", k.n, k.n, rte_lcore_count());
		goto out_eal;
	}
	k.tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (k.tsc_per_ms == 0)
		k.tsc_per_ms = 1;
	k.tsc_per_us = rte_get_tsc_hz() / 1000000;
	if (k.tsc_per_us == 0)
		k.tsc_per_us = 1;
	k.ws = calloc(k.n, sizeof(*k.ws));
	if (k.ws == NULL)
		goto out_eal;
	i = 0;
	RTE_LCORE_FOREACH(lcore) {
		if (i == k.n)
			break;
		if (dpk_worker_init(&k, i, lcore) != 0)
			goto out;
		i++;
	}
	if (dpk_port(&k) != 0)
		goto out;
	rte_eth_macaddr_get(k.port, &mac);
	for (i = 0; i < k.n; i++) {
		struct dpk_worker *w = &k.ws[i];

		if (i < k.nq) {
			w->rxq = w->txq = (int)i;
			if (k.nq < k.n) {
				char name[RTE_RING_NAMESIZE];

				snprintf(name, sizeof(name), "tlso_tx%u", i);
				w->tx_ring = rte_ring_create(name, DPK_RING, (int)rte_socket_id(), RING_F_SC_DEQ);
				if (w->tx_ring == NULL) {
					dp_log(DP_LOG_ERROR, "dpdk: tx ring: %s", rte_strerror(rte_errno));
					goto out;
				}
			}
		}
	}
	for (i = k.nq; i < k.n; i++)
		k.ws[i].tx_via = k.ws[i % k.nq].tx_ring;
	for (i = 0; i < k.n; i++) {
		struct dpk_worker *w = &k.ws[i];

		if (dp_ns_init(&w->ns, i, cfg, ctxs, cache, mac.addr_bytes, cfg->dpdk_prefix_len, cfg->dpdk_gateway, dpk_tx, w, err,
			       sizeof(err)) != 0) {
			dp_log(DP_LOG_ERROR, "dpdk: worker %u: %s", i, err);
			goto out;
		}
		w->ns.nif.tx_csum_offload = k.tx_csum;
		w->ns.tcp.port_ok = dpk_port_ok;
		w->ns.tcp.port_ok_arg = w;
		dp_ns_tick(&w->ns, dpk_now_ms(&k));
		dp_app_attach(&w->ns.app, &ctl->gens);
	}
#if TLSO_HAVE_HIREDIS
	if (dpk_store_start(&k) != 0)
		goto out;
#endif
	/* Workers poll without sleeping: nothing to wake. */
	ctl->stats = dpk_stats;
	if (pthread_create(&ctl_thread, NULL, dpk_ctl_main, ctl) != 0) {
		dp_log(DP_LOG_ERROR, "dpdk: cannot start the control thread");
		goto out;
	}
	if (cfg->mode == CFG_MODE_PROXY)
		snprintf(mode, sizeof(mode), "proxy mode (%zu backends, %s, PROXY protocol %s)", cfg->n_backends,
			 cfg_balance_name(cfg->proxy.balance), cfg_proxy_protocol_name(cfg->proxy.proxy_protocol));
	else
		snprintf(mode, sizeof(mode), "respond mode (%zu-byte body)", cfg->response_size);
	for (size_t l = 0; l < cfg->n_listeners; l++)
		dp_log(DP_LOG_INFO, "listening on %s:%u (%zu certificate%s)", cfg->listeners[l].addr.host,
		       cfg->listeners[l].addr.port, ctxs[l].n_certs, ctxs[l].n_certs == 1 ? "" : "s");
	dp_log(DP_LOG_INFO,
	       "dpdk dataplane: port %u (%s) mac %02x:%02x:%02x:%02x:%02x:%02x, %u worker%s, %u queue pair%s, %s, "
	       "checksums: tx %s, rx %s; crypto backend %s, %s",
	       k.port, rte_eth_dev_get_name_by_port(k.port, err) == 0 ? err : "?",
	       mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2], mac.addr_bytes[3], mac.addr_bytes[4],
	       mac.addr_bytes[5], k.n, k.n == 1 ? "" : "s", k.nq, k.nq == 1 ? "" : "s",
	       k.n == 1 ? "no steering" : k.steer ? "software steering" : "RSS on the TCP 4-tuple",
	       k.tx_csum ? "port" : "software", k.rx_csum ? "port" : "software", acc_exec_backend(k.ws[0].ns.app.hw.exec), mode);
	if (cfg->metrics_on) {
		/* the control thread reads the loop's cycles where SIGUSR1's
		 * log line does: nothing is counted twice */
		src = calloc(k.n, sizeof(*src));
		for (i = 0; src != NULL && i < k.n; i++)
			src[i] = (struct dp_mx_src){ .app = &k.ws[i].ns.app, .busy = &k.ws[i].st.busy_cycles,
						     .idle = &k.ws[i].st.idle_cycles, .ticks_per_s = rte_get_tsc_hz() };
		if (src == NULL || (metrics = dp_metrics_start(cfg, src, k.n, "dpdk")) == NULL)
			goto out;
	}
	for (i = 1; i < k.n; i++)
		rte_eal_remote_launch(dpk_worker_main, &k.ws[i], k.ws[i].lcore);
	dpk_worker_loop(&k, &k.ws[0]); /* the main lcore is worker 0 */
	dp_metrics_stop(metrics); /* before the workers' counters go */
	metrics = NULL;
	rte_eal_mp_wait_lcore();
	pthread_join(ctl_thread, NULL); /* it returns once every worker left */
	ctl->stats = NULL;
#if TLSO_HAVE_HIREDIS
	dpk_store_stop(&k);
#endif
	dpk_log_stats(&k);
	rc = 0;
	dpk_close_conns(&k, true);
	rte_eth_dev_stop(k.port);
	rte_eth_dev_close(k.port);
out:
	dp_metrics_stop(metrics);
	free(src);
	atomic_store(&dpk_stop, true);
	rte_eal_mp_wait_lcore();
#if TLSO_HAVE_HIREDIS
	dpk_store_stop(&k);
#endif
	k.closed = true;
	if (k.ws != NULL) {
		dpk_close_conns(&k, false);
		for (i = 0; i < k.n; i++)
			dpk_worker_free(&k.ws[i]);
	}
#if TLSO_HAVE_HIREDIS
	dp_sthread_free(k.store);
#endif
	free(k.ws);
out_eal:
	rte_eal_cleanup();
	return rc;
}
