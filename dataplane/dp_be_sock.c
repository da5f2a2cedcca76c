/* Backends over kernel sockets (dp_be_sock.h): non-blocking connects
 * registered in the worker's epoll (edge-triggered), their events turned
 * into dp_be_notify news. The epoll tag is the end's owner (its first
 * byte, DP_KIND_BACKEND or DP_KIND_HEALTH), which outlives the socket
 * until the end of the poll iteration (dp_app's reap list). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp_be_sock.h"
#include "dp_conn.h"
#include "dp_proxy.h"

static int
dp_be_sock_fd(const struct dp_be_end *e)
{
	return (int)(intptr_t)e->io;
}

/* A non-blocking TCP connect to b (TCP_NODELAY: the relay writes what it
 * has at once), in e's owner's name in the epoll ep. */
static int
dp_be_sock_open(void *arg, const struct dp_backend *b, struct dp_be_end *e)
{
	int ep = (int)(intptr_t)arg, one = 1;
	int fd = socket(b->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev;

	if (fd < 0)
		return DP_BE_NO_ROOM;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&b->sa, b->sa_len) != 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return e == EADDRNOTAVAIL || e == ENOBUFS || e == ENOMEM ? DP_BE_NO_ROOM : DP_BE_REFUSED;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = e;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		return DP_BE_NO_ROOM;
	}
	e->io = (void *)(intptr_t)fd;
	return 0;
}

static void
dp_be_sock_shutdown(void *io)
{
	(void)shutdown((int)(intptr_t)io, SHUT_WR);
}

const struct dp_be_ops dp_be_sock_ops = { &dp_sock_ops, dp_be_sock_open, dp_be_sock_shutdown };

void
dp_be_sock_event(void *obj, uint32_t events)
{
	struct dp_be_end *e = obj;

	if (!e->open)
		return; /* closed earlier in this batch */
	if (e->connecting) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(dp_be_sock_fd(e), SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
			soerr = errno;
		if (soerr != 0) {
			close(dp_be_sock_fd(e)); /* DP_BE_FAILED: released here */
			e->open = false;
			dp_be_notify(e, DP_BE_FAILED);
			return;
		}
		/* read once: the first edge may predate the connect's end */
		dp_be_notify(e, DP_BE_CONNECTED | DP_BE_READABLE | DP_BE_WRITABLE);
		return;
	}
	dp_be_notify(e, ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? DP_BE_READABLE : 0u) |
				((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? DP_BE_WRITABLE : 0u));
}
