/* Test helper: the userspace stack (ns_if) on a Linux TAP device, so that
 * the kernel's own ARP and ping can talk to it. The test runs it inside a
 * network namespace it created; the TAP device appears there.
 *   ns_tap_peer IFNAME ADDR PREFIX SECONDS
 * Prints the stack's counters when the time is up or on SIGTERM. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "ns_if.h"

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

static void
tap_tx(void *arg, const uint8_t *frame, size_t len)
{
	if (write(*(int *)arg, frame, len) != (ssize_t)len)
		perror("tap write");
}

int
main(int argc, char **argv)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct ns_if nif;
	struct ifreq ifr;
	struct in_addr a;
	uint64_t end;
	int fd;

	if (argc != 5 || inet_pton(AF_INET, argv[2], &a) != 1) {
		fprintf(stderr, "usage: %s IFNAME ADDR PREFIX SECONDS\n", argv[0]);
		return 2;
	}
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
	signal(SIGTERM, on_term);
	printf("ready\n");
	fflush(stdout);
	end = now_ms() + 1000 * (uint64_t)atoi(argv[4]);
	while (!stop && now_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint8_t frame[2048];
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		while ((n = read(fd, frame, sizeof(frame))) > 0)
			ns_eth_input(&nif, frame, (size_t)n, now_ms());
	}
	printf("rx %llu tx %llu arp_answered %llu arp_learned %llu icmp_echo %llu malformed %llu not_for_us %llu\n",
	       (unsigned long long)nif.stats.rx_frames, (unsigned long long)nif.stats.tx_frames,
	       (unsigned long long)nif.stats.arp_answered, (unsigned long long)nif.stats.arp_learned,
	       (unsigned long long)nif.stats.icmp_echo, (unsigned long long)nif.stats.malformed,
	       (unsigned long long)nif.stats.not_for_us);
	close(fd);
	return 0;
}
