/* Test helper: the userspace stack (ns_if, ns_tcp) on a Linux TAP device,
 * so that the kernel's own ARP, ping and TCP can talk to it; TCP port 7
 * echoes what it receives and closes when the peer does. The test runs it
 * inside a network namespace it created; the TAP device appears there.
 *   ns_tap_peer IFNAME ADDR PREFIX SECONDS [LOSS_PERCENT]
 * With LOSS_PERCENT, that share of the frames in each direction is dropped
 * and as many again delayed behind the next one (reordered): the kernel
 * here has no netem qdisc, so the helper impairs the link itself.
 * Prints the stack's counters when the time is up or on SIGTERM. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ns_if.h"
#include "ns_tcp.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static unsigned loss_pct;
static unsigned long dropped, reordered;

/* true: drop this frame (a bounded, seeded pseudo-random choice) */
static bool
impair(void)
{
	return loss_pct != 0 && (unsigned)(rand() % 100) < loss_pct && ++dropped;
}

/* A frame held back to go after the next one. */
static uint8_t held[2048];
static size_t held_len;

static void
tap_tx(void *arg, const uint8_t *frame, size_t len)
{
	int fd = *(int *)arg;

	if (impair())
		return;
	if (loss_pct != 0 && held_len == 0 && len <= sizeof(held) && (unsigned)(rand() % 100) < loss_pct) {
		memcpy(held, frame, len);
		held_len = len;
		reordered++;
		return;
	}
	if (write(fd, frame, len) != (ssize_t)len)
		perror("tap write");
	if (held_len != 0) {
		if (write(fd, held, held_len) != (ssize_t)held_len)
			perror("tap write");
		held_len = 0;
	}
}

static void *
echo_accept(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	return c;
}

/* echo: what fits in the send buffer is taken, the rest waits (the
 * window announced is the send buffer's room) */
static size_t
echo_data(void *arg, struct ns_tcp_conn *c, const uint8_t *p, size_t len)
{
	return ns_tcp_send(arg, c, p, len);
}

static size_t
echo_space(void *arg, struct ns_tcp_conn *c)
{
	(void)arg;
	return NS_TCP_SNDBUF - c->buf_len;
}

static void
echo_closed(void *arg, struct ns_tcp_conn *c)
{
	ns_tcp_close(arg, c);
}

int
main(int argc, char **argv)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const struct ns_tcp_ops echo = { echo_accept, echo_data, echo_space, echo_closed, NULL };
	static struct ns_tcp tcp;
	struct ns_if nif;
	struct ifreq ifr;
	struct in_addr a;
	uint64_t end;
	int fd;

	if ((argc != 5 && argc != 6) || inet_pton(AF_INET, argv[2], &a) != 1) {
		fprintf(stderr, "usage: %s IFNAME ADDR PREFIX SECONDS [LOSS_PERCENT]\n", argv[0]);
		return 2;
	}
	loss_pct = argc == 6 ? (unsigned)atoi(argv[5]) : 0;
	srand(12345);
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		perror("/dev/net/tun");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF");
		return 1;
	}
	ns_if_init(&nif, mac, tap_tx, &fd);
	if (ns_if_add_addr(&nif, ntohl(a.s_addr), (unsigned)atoi(argv[3])) != 0)
		return 2;
	if (ns_tcp_init(&tcp, &nif, &echo, &tcp, 256) != 0 || ns_tcp_listen(&tcp, 7) != 0)
		return 1;
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	end = now_ms() + 1000 * (uint64_t)atoi(argv[4]);
	while (!stop && now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint8_t frame[2048];
		ssize_t n;

		ns_tcp_timers(&tcp, now_ms());
		if (poll(&p, 1, 5) <= 0)
			continue;
		while ((n = read(fd, frame, sizeof(frame))) > 0)
			if (!impair())
				ns_eth_input(&nif, frame, (size_t)n, now_ms());
	}
	printf("rx %llu tx %llu arp_answered %llu arp_learned %llu icmp_echo %llu malformed %llu not_for_us %llu\n",
	       (unsigned long long)nif.stats.rx_frames, (unsigned long long)nif.stats.tx_frames,
	       (unsigned long long)nif.stats.arp_answered, (unsigned long long)nif.stats.arp_learned,
	       (unsigned long long)nif.stats.icmp_echo, (unsigned long long)nif.stats.malformed,
	       (unsigned long long)nif.stats.not_for_us);
	printf("tcp in %llu out %llu established %llu retransmits %llu out_of_order %llu resets %llu bad %llu\n",
	       (unsigned long long)tcp.stats.segs_in, (unsigned long long)tcp.stats.segs_out,
	       (unsigned long long)tcp.stats.established, (unsigned long long)tcp.stats.retransmits,
	       (unsigned long long)tcp.stats.out_of_order, (unsigned long long)tcp.stats.reset_out,
	       (unsigned long long)tcp.stats.bad_csum);
	for (size_t i = 0; i < tcp.n_conns; i++) {
		const struct ns_tcp_conn *c = &tcp.conns[i];
		if (c->state != NS_TCP_FREE)
			printf("conn %zu: state %d snd_una %u snd_nxt %u buf %zu snd_wnd %u rcv_nxt %u adv_wnd %u "
			       "rto %u retries %u fin_sent %d\n",
			       i, c->state, c->snd_una - c->iss, c->snd_nxt - c->iss, c->buf_len, c->snd_wnd,
			       c->rcv_nxt - c->irs, c->adv_wnd, c->rto_ms, c->retries, c->fin_sent);
	}
	if (loss_pct)
		printf("impaired: %lu dropped, %lu reordered\n", dropped, reordered);
	ns_tcp_free(&tcp);
	close(fd);
	return 0;
}
