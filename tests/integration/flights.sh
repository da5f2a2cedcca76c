#!/usr/bin/env bash
# Flights leave as soon as their crypto is done (issue 14). ClientHellos of
# many connections that one poll iteration reads together must not all wait
# for the whole iteration's crypto: with a backend that runs job by job
# (--accel openssl), each server flight goes out when its own signature is
# done, so the flights arrive spread over the time of the signatures, not
# all at once at the end. The server is stopped (SIGSTOP) while the
# ClientHellos are sent, so that it reads them in one epoll_wait. RSA
# signatures, the slowest job, make the spread clear; an ECDSA flight costs
# about as much as sending 16 flights in a row, so it could not tell.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

# spread N SUITE: one connection alone, 5 times, gives the time of one
# flight (u, the smallest); then N ClientHellos at once: the first half of
# the flights must arrive spread over at least 3 u (N/2 signatures, one
# after the other: about N/2 u; all in one burst at the end: well under u).
# From the first flight on, so that the time the server takes to be
# scheduled again after SIGCONT does not count.
spread() {
	timeout 120 python3 - "$PORT" "$CERTS/ca.crt" "$SRV_PID" "$1" "$2" <<'PY'
import os, select, signal, socket, ssl, sys, time
port, ca, pid, n, suite = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers(suite)

class Conn:
    """A ClientHello from Python's ssl module; the server's flight is read
    as plain records (no client crypto: its time is not measured)."""
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        try:
            ctx.wrap_bio(inc, out, server_hostname="localhost").do_handshake()
        except ssl.SSLWantReadError:
            pass
        self.hello = out.read()
        self.rec, self.hs = b"", b""
        self.done = None
    def feed(self):
        """True once ServerHelloDone (RFC 5246 7.4.5) has arrived."""
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeError("server closed the connection")
        self.rec += data
        while len(self.rec) >= 5 and len(self.rec) >= 5 + int.from_bytes(self.rec[3:5], "big"):
            n = 5 + int.from_bytes(self.rec[3:5], "big")
            if self.rec[0] != 22:
                raise RuntimeError(f"record type {self.rec[0]} before ServerHelloDone")
            self.hs += self.rec[5:n]
            self.rec = self.rec[n:]
        while len(self.hs) >= 4 and len(self.hs) >= 4 + int.from_bytes(self.hs[1:4], "big"):
            if self.hs[0] == 14:
                return True
            self.hs = self.hs[4 + int.from_bytes(self.hs[1:4], "big"):]
        return False

def flights(conns):
    """Send every ClientHello, return each server flight's arrival time."""
    for c in conns:
        c.sock.sendall(c.hello)
    t0 = time.monotonic()
    if stop:
        os.kill(pid, signal.SIGCONT)
    left = {c.sock.fileno(): c for c in conns}
    while left:
        r, _, _ = select.select(list(left), [], [], 30)
        if not r:
            raise RuntimeError("no server flight within 30 s")
        for fd in r:
            if left[fd].feed():
                left.pop(fd).done = time.monotonic() - t0
    for c in conns:
        c.sock.close()
    return sorted(c.done for c in conns)

stop = False
u = min(flights([Conn()])[0] for _ in range(5))
conns = [Conn() for _ in range(n)]
time.sleep(0.3)                   # all accepted and idle
os.kill(pid, signal.SIGSTOP)
stop = True
try:
    t = flights(conns)
finally:
    os.kill(pid, signal.SIGCONT)
print(f"one flight alone {u * 1e3:.2f} ms; {n} at once: first {t[0] * 1e3:.2f} ms, "
      f"median {t[n // 2] * 1e3:.2f} ms, last {t[-1] * 1e3:.2f} ms")
sys.exit(0 if t[n // 2] - t[0] >= 3 * u else 1)
PY
}

start_server --workers 1 --resumption off --accel openssl
check "ECDHE-RSA: 16 flights leave one by one, not in one burst" spread 16 ECDHE-RSA-AES128-GCM-SHA256
finish
