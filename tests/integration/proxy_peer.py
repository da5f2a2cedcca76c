"""Both ends of tests/integration/proxy.sh: a plaintext backend that parses
the PROXY protocol v2 header (haproxy's proxy-protocol.txt 2.2), and TLS
clients driven through the proxy with Python's ssl over memory BIOs (so a
client can send close_notify and keep reading: a half-close).

  proxy_peer.py backend PORT NAME [--pp2]     serve until killed
  proxy_peer.py blackhole PORT                a listener whose full accept
                                              queue drops every SYN (connects time out)
  proxy_peer.py CASE PORT CA ARGS...          one client case, exit 0 = pass

Backend protocol (bytes, not HTTP): after the optional PROXY header the
client sends one command line; every answer starts with "NAME\\n".
  XCHG N   the backend sends N pattern bytes (pattern(N)) while it reads the
           client's bytes to their end, then "\\nRECV <count> <sha256>\\n"
           and closes (FIN: the proxy turns it into close_notify).
  SEND N   N bytes of b"x", then close.
  INFO     the parsed PROXY header as one JSON line, after the client's end.
A connection that sends nothing (a health check) is closed quietly.

Addresses (for tests/integration/proxy_dpdk.sh, inside a namespace): the
backend listens on $PEER_BIND (default 127.0.0.1) and the clients connect
to $PEER_HOST (default 127.0.0.1)."""
import hashlib, json, os, random, socket, ssl, struct, sys, threading, time

PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
BIND = os.environ.get("PEER_BIND", "127.0.0.1")
HOST = os.environ.get("PEER_HOST", "127.0.0.1")


def pattern(n):
    return random.Random(n).randbytes(n)


# ---------------------------------------------------------------- backend

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise EOFError("short read: %d of %d" % (len(buf), n))
        buf += c
    return buf


def tlvs(data):
    out = []
    while data:
        if len(data) < 3:
            raise ValueError("truncated TLV")
        t, n = data[0], struct.unpack("!H", data[1:3])[0]
        if len(data) < 3 + n:
            raise ValueError("TLV overruns the header")
        out.append((t, data[3:3 + n]))
        data = data[3 + n:]
    return out


def parse_pp2(s):
    """The header as a dict; None when the peer sent nothing at all (a
    health check: its end may be a reset)."""
    try:
        first = s.recv(16, socket.MSG_WAITALL)
    except ConnectionResetError:
        return None
    if not first:
        return None
    if len(first) < 16 or first[:12] != PP2_SIG:
        raise ValueError("no PROXY v2 signature: %r" % first[:16])
    ver_cmd, fam, length = first[12], first[13], struct.unpack("!H", first[14:16])[0]
    if ver_cmd != 0x21:
        raise ValueError("version/command %#x" % ver_cmd)
    body = recv_exact(s, length)
    h = {"fam": fam}
    if fam == 0x11:
        h["src"] = socket.inet_ntop(socket.AF_INET, body[0:4])
        h["dst"] = socket.inet_ntop(socket.AF_INET, body[4:8])
        h["sport"], h["dport"] = struct.unpack("!HH", body[8:12])
        rest = body[12:]
    elif fam == 0x21:
        h["src"] = socket.inet_ntop(socket.AF_INET6, body[0:16])
        h["dst"] = socket.inet_ntop(socket.AF_INET6, body[16:32])
        h["sport"], h["dport"] = struct.unpack("!HH", body[32:36])
        rest = body[36:]
    else:
        raise ValueError("family %#x" % fam)
    names = {0x21: "version", 0x22: "cn", 0x23: "cipher", 0x24: "sig_alg", 0x25: "key_alg"}
    for t, v in tlvs(rest):
        if t == 0x01:
            h["alpn"] = v.decode()
        elif t == 0x02:
            h["authority"] = v.decode()
        elif t == 0x20:
            h["client"], h["verify"] = v[0], struct.unpack("!I", v[1:5])[0]
            for st, sv in tlvs(v[5:]):
                h[names.get(st, "sub%#x" % st)] = sv.decode()
    return h


def read_line(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            return None
        line += c
    return line.decode().strip()


def drain(s, h):
    while True:
        c = s.recv(65536)
        if not c:
            return
        h.update(c)


def serve_one(s, name, pp2):
    try:
        header = parse_pp2(s) if pp2 else {}
        if header is None:
            return  # a health check
        cmd = read_line(s)
        if cmd is None:
            return
        word, _, arg = cmd.partition(" ")
        s.sendall(name.encode() + b"\n")
        if word == "XCHG":
            n = int(arg)
            w = threading.Thread(target=s.sendall, args=(pattern(n),))
            w.start()
            h, count = hashlib.sha256(), [0]
            while True:
                c = s.recv(65536)
                if not c:
                    break
                count[0] += len(c)
                h.update(c)
            w.join()
            s.sendall(b"\nRECV %d %s\n" % (count[0], h.hexdigest().encode()))
        elif word == "SEND":
            n, chunk = int(arg), b"x" * 65536
            while n > 0:
                s.sendall(chunk[:n])
                n -= min(n, len(chunk))
        elif word == "INFO":
            drain(s, hashlib.sha256())
            s.sendall(json.dumps(header).encode() + b"\n")
    except (OSError, ValueError, EOFError) as e:
        print("backend %s: %r" % (name, e), file=sys.stderr, flush=True)
    finally:
        s.close()


def backend(port, name, pp2):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((BIND, port))
    ls.listen(512)
    print("listening", flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s, name, pp2), daemon=True).start()


def blackhole(port):
    """Backlog 0 and one connection of our own that is never accepted: the
    queue is full, the kernel drops further SYNs, connects hang."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(0)
    filler = socket.create_connection(("127.0.0.1", port))
    print("ready", flush=True)
    while filler:
        time.sleep(60)


# ---------------------------------------------------------------- clients

class Tls:
    """A TLS client over a blocking socket and memory BIOs."""

    def __init__(self, port, ca, version="1.3", cert=None, key=None):
        ctx = ssl.create_default_context(cafile=ca)
        v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = v
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        if cert:
            ctx.load_cert_chain(cert, key)
        self.sock = socket.create_connection((HOST, port), timeout=60)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="localhost")
        self.pending = bytearray()  # read before our close_notify (close_write)
        self.pump(self.obj.do_handshake)

    def flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def fill(self):
        data = self.sock.recv(65536)
        if data:
            self.inc.write(data)
        else:
            self.inc.write_eof()

    def pump(self, fn, *args):
        while True:
            try:
                r = fn(*args)
                self.flush()
                return r
            except ssl.SSLWantReadError:
                self.flush()
                self.fill()

    def send(self, data):
        for i in range(0, len(data), 16384):
            self.pump(self.obj.write, data[i:i + 16384])

    def close_write(self):
        """close_notify, and keep reading (RFC 8446 6.1). The records
        already received are decrypted first: unwrap() calls SSL_shutdown
        a second time to look for the peer's close_notify, and OpenSSL
        fails there on application data ("application data after close
        notify"), dropping it; a reply that came early (a loaded machine)
        failed the exchange."""
        while True:
            try:
                data = self.obj.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
            if not data:
                break
            self.pending += data
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        self.flush()

    def read(self, n=65536):
        """Bytes, or b"" after the server's close_notify; a close without
        close_notify raises (ssl.SSLEOFError)."""
        if self.pending:
            data, self.pending = bytes(self.pending), bytearray()
            return data
        try:
            return self.pump(self.obj.read, n)
        except ssl.SSLZeroReturnError:
            return b""

    def read_all(self):
        buf = bytearray()
        while True:
            c = self.read()
            if not c:
                return bytes(buf)
            buf += c


def xchg(port, ca, n, version="1.3"):
    """Send n bytes, close_notify, read the backend's n bytes and its
    checksum of ours. Returns the backend's name."""
    t = Tls(port, ca, version)
    body = os.urandom(n)
    t.send(b"XCHG %d\n" % n + body)
    t.close_write()
    data = t.read_all()
    name, _, rest = data.partition(b"\n")
    want_tail = b"\nRECV %d %s\n" % (n, hashlib.sha256(body).hexdigest().encode())
    if not rest.endswith(want_tail):
        raise AssertionError("backend got other bytes: %r" % rest[-120:])
    got = rest[:-len(want_tail)]
    if hashlib.sha256(got).digest() != hashlib.sha256(pattern(n)).digest():
        raise AssertionError("client got %d bytes, not the backend's %d" % (len(got), n))
    t.sock.close()
    return name.decode()


def case_xchg(port, ca, n, version):
    print(xchg(port, ca, int(n), version), "ok")


def case_concurrent(port, ca, n, size, want_names):
    n, size = int(n), int(size)
    names, errors = [], []
    start = threading.Barrier(n)

    def one():
        try:
            start.wait(timeout=60)
            names.append(xchg(port, ca, size))
        except Exception as e:
            errors.append(repr(e))
    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    seen = {x: names.count(x) for x in set(names)}
    print(len(names), "ok,", len(errors), "errors", errors[:3], "backends", seen)
    if len(names) != n or set(seen) != set(want_names.split(",")):
        sys.exit(1)


def case_info(port, ca, version, cert=None, key=None):
    t = Tls(port, ca, version, cert, key)
    t.send(b"INFO\n")
    t.close_write()
    name, _, rest = t.read_all().partition(b"\n")
    h = json.loads(rest)
    local = t.sock.getsockname()
    want = {"fam": 0x11, "src": local[0], "sport": local[1], "dst": HOST, "dport": port,
            "alpn": "http/1.1", "authority": "localhost", "version": "TLSv1.3" if version == "1.3" else "TLSv1.2",
            "cipher": t.obj.cipher()[0], "verify": 0 if cert else 1, "client": 7 if cert else 1}
    if cert:
        want["cn"] = "tlsoffload test client"
    bad = {k: (h.get(k), v) for k, v in want.items() if h.get(k) != v}
    if not cert and "cn" in h:
        bad["cn"] = (h["cn"], None)
    # our certificate: the key and signature algorithms of the one chosen
    if h.get("key_alg") not in ("RSA2048", "EC256") or not h.get("sig_alg"):
        bad["cert algorithms"] = (h.get("key_alg"), h.get("sig_alg"))
    print(name.decode(), h)
    if bad:
        print("mismatch (got, want):", bad)
        sys.exit(1)


def vmrss_kb(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def case_slow_reader(port, ca, pid, total, bound_kb):
    """Read a little of `total` bytes, stall, watch the server's RSS, then
    read the rest: everything arrives and the RSS stayed bounded."""
    total, bound_kb = int(total), int(bound_kb)
    before = vmrss_kb(pid)
    t = Tls(port, ca)
    t.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    t.send(b"SEND %d\n" % total)
    got = 0
    while got < 256 * 1024:
        got += len(t.read())
    peak = before
    for _ in range(15):  # 3 s stalled: the backend keeps trying to send
        time.sleep(0.2)
        peak = max(peak, vmrss_kb(pid))
    stalled = got
    while True:
        c = t.read(1 << 20)
        if not c:
            break
        got += len(c)
    print("RSS before %d kB, peak while stalled %d kB (bound +%d kB); read %d bytes before the stall, %d in all"
          % (before, peak, bound_kb, stalled, got))
    if peak - before > bound_kb or got < total:
        sys.exit(1)


def case_closed_backend(port, ca, want):
    """The backend's FIN reaches the client as close_notify: read_all ends
    without an SSLEOFError, and the answer names the backend."""
    t = Tls(port, ca, "1.2")
    t.send(b"SEND 100\n")
    data = t.read_all()
    name, _, rest = data.partition(b"\n")
    print(name, len(rest))
    if name.decode() not in want.split(",") or rest != b"x" * 100:
        sys.exit(1)


def case_idle(port, ca, seconds):
    """Nothing moves either way: the server sends close_notify after its
    idle timeout (and closes the backend connection)."""
    t = Tls(port, ca)
    t.send(b"INFO\n")  # the backend answers its name, then waits for our end
    t0 = time.time()
    name = t.read()
    rest = t.read_all()
    took = time.time() - t0
    print(name, rest, "close_notify after %.2f s" % took)
    if rest or not float(seconds) * 0.9 <= took <= float(seconds) + 2:
        sys.exit(1)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "backend":
        backend(int(args[0]), args[1], "--pp2" in args[2:])
    elif cmd == "blackhole":
        blackhole(int(args[0]))
    else:
        fn = globals()["case_" + cmd.replace("-", "_")]
        fn(int(args[0]), *args[1:])
