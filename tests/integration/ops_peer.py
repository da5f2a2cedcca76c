"""Clients and a backend for tests/integration/reload.sh and drain.sh.

  ops_peer.py hold PORT CA N GOFILE      N TLS connections to the respond-mode
                                        server, one request each; prints
                                        "ready ID" (the certificate's
                                        SHA-256, 16 hex digits), waits for GOFILE to
                                        exist, sends one more request on
                                        each; exit 0 when every one was
                                        answered 200 on a connection that
                                        still shows ID
  ops_peer.py stream PORT CA GOFILE      proxy mode: one stream to a
                                        proxy_peer.py backend (XCHG) sent half
                                        before "ready NAME", the rest once
                                        GOFILE exists; exit 0 when the backend
                                        (the same one) got every byte and
                                        answered whole
  ops_peer.py slow PORT SIZE SECONDS    a plaintext backend: to each
                                        connection, pattern(SIZE) spread over
                                        SECONDS, then FIN
  ops_peer.py fetch PORT CA N SIZE      N TLS clients at once, each reading
                                        to close_notify; prints "started"
                                        when all have bytes, then one line
                                        "intact K of N"; exit 0 when K == N
  ops_peer.py exit-ms PID               SIGTERM to PID, then the milliseconds
                                        until it is gone (or a zombie)
"""
import hashlib, os, random, signal, socket, ssl, sys, threading, time

HOST = os.environ.get("TLSO_HOST", "127.0.0.1")


def pattern(n):
    return random.Random(n).randbytes(n)


def client_ctx(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return ctx


def say(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------ hold

def wait_go(gofile, seconds=40):
    """Until the test creates gofile; False after seconds."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(gofile):
        if time.monotonic() > deadline:
            say("no go")
            return False
        time.sleep(0.05)
    return True


def request(s):
    """One GET on a keep-alive connection; the status line."""
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(4096)
        if not c:
            raise EOFError("closed before the response head")
        head += c
    h, _, body = head.partition(b"\r\n\r\n")
    length = 0
    for line in h.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        c = s.recv(length - len(body))
        if not c:
            raise EOFError("short body")
        body += c
    return h.split(b"\r\n")[0].decode()


def cert_id(s):
    """The leaf certificate's SHA-256 (16 hex digits), as reload.sh
    computes it from a file."""
    return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()[:16]


def hold(port, ca, n, gofile):
    ctx = client_ctx(ca)
    conns = []
    for _ in range(n):
        raw = socket.create_connection((HOST, port), timeout=20)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        status = request(s)
        if not status.endswith("200 OK"):
            say("first request:", status)
            return 1
        conns.append(s)
    ids = {cert_id(s) for s in conns}
    if len(ids) != 1:
        say("connections see different certificates:", ids)
        return 1
    first = ids.pop()
    say("ready", first)
    if not wait_go(gofile):
        return 1
    ok = 0
    for i, s in enumerate(conns):
        try:
            status = request(s)
        except (OSError, EOFError) as e:
            say("connection %d: %s" % (i, e))
            continue
        if status.endswith("200 OK") and cert_id(s) == first:
            ok += 1
        else:
            say("connection %d: %s" % (i, status))
    say("answered %d of %d" % (ok, n))
    for s in conns:
        s.close()
    return 0 if ok == n else 1


# ------------------------------------------------------------------ stream

def stream(port, ca, gofile):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import proxy_peer
    n = 200000
    body = os.urandom(n)
    t = proxy_peer.Tls(port, ca)
    t.send(b"XCHG %d\n" % n + body[:n // 2])
    first = t.read()  # the backend's name line (and maybe more)
    name = first.partition(b"\n")[0].decode()
    say("ready", name)
    if not wait_go(gofile):
        return 1
    t.send(body[n // 2:])
    t.close_write()
    data = first + t.read_all()
    got_name, _, rest = data.partition(b"\n")
    tail = b"\nRECV %d %s\n" % (n, hashlib.sha256(body).hexdigest().encode())
    ok = got_name.decode() == name and rest.endswith(tail) and rest[:-len(tail)] == proxy_peer.pattern(n)
    say("stream through %s %s" % (name, "intact" if ok else "damaged"))
    return 0 if ok else 1


# ------------------------------------------------------------------ slow backend

def slow_serve(c, size, seconds):
    data = pattern(size)
    chunk = 16384
    steps = max(1, (size + chunk - 1) // chunk)
    try:
        for i in range(steps):
            c.sendall(data[i * chunk:(i + 1) * chunk])
            time.sleep(seconds / steps)
        c.shutdown(socket.SHUT_WR)
        c.settimeout(30)
        while c.recv(4096):
            pass
    except OSError:
        pass
    finally:
        c.close()


def slow(port, size, seconds):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(256)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=slow_serve, args=(c, size, seconds), daemon=True).start()


# ------------------------------------------------------------------ fetch

def fetch(port, ca, n, size):
    ctx = client_ctx(ca)
    want = hashlib.sha256(pattern(size)).hexdigest()
    results = [None] * n
    started = threading.Semaphore(0)

    def one(i):
        got = 0
        h = hashlib.sha256()
        first = True
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(b"go\n")
            while True:
                c = s.recv(65536)
                if first:
                    first = False
                    started.release()
                if not c:
                    break
                got += len(c)
                h.update(c)
            results[i] = (got, h.hexdigest())
        except (OSError, ssl.SSLError) as e:
            results[i] = (got, str(e))
        finally:
            if first:
                started.release()

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for _ in range(n):
        started.acquire()
    say("started")
    for t in ts:
        t.join()
    intact = sum(1 for r in results if r == (size, want))
    say("intact %d of %d" % (intact, n))
    for i, r in enumerate(results):
        if r != (size, want):
            say("client %d: %d bytes, %s" % (i, r[0], r[1]))
            break
    return 0 if intact == n else 1


# ------------------------------------------------------------------ the rest

def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped before or while read
        return True


def exit_ms(pid):
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while not gone(pid):
        if time.monotonic() - t0 > 30:
            say("still running after 30 s")
            return 1
        time.sleep(0.0005)
    say("%.1f" % ((time.monotonic() - t0) * 1000))
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "hold":
        return hold(int(argv[2]), argv[3], int(argv[4]), argv[5])
    if cmd == "stream":
        return stream(int(argv[2]), argv[3], argv[4])
    if cmd == "slow":
        return slow(int(argv[2]), int(argv[3]), float(argv[4]))
    if cmd == "fetch":
        return fetch(int(argv[2]), argv[3], int(argv[4]), int(argv[5]))
    if cmd == "exit-ms":
        return exit_ms(int(argv[2]))
    say("unknown command", cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
