#!/usr/bin/env python3
"""TLS handshakes against HOST:PORT with Python's ssl (OpenSSL's libssl as
the peer): COUNT connections, CONC at a time, each doing a full handshake
(no session reuse), one GET with Connection: close, and reading the whole
response (its body length must match Content-Length). Prints a summary and
exits non-zero when any connection failed. Every connection has a timeout;
the whole run is bounded by --deadline seconds."""
import argparse
import socket
import ssl
import sys
import threading
import time


def one(host, port, ctx, timeout):
    with socket.create_connection((host, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ssl.SSLZeroReturnError:
                    break
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("bad answer: %r" % head[:40])
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    if int(line.split(b":")[1]) != len(body):
                        raise RuntimeError("body %d bytes, expected %s" % (len(body), line))
            return s.version()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("conc", type=int)
    ap.add_argument("--tls", choices=["1.2", "1.3", "any"], default="any")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--deadline", type=float, default=300)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if a.tls == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif a.tls == "1.3":
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "fail": 0, "errors": {}, "versions": {}}
    end = time.monotonic() + a.deadline

    def worker():
        while time.monotonic() < end:
            with lock:
                if state["next"] >= a.count:
                    return
                state["next"] += 1
            try:
                v = one(a.host, a.port, ctx, a.timeout)
                with lock:
                    state["ok"] += 1
                    state["versions"][v] = state["versions"].get(v, 0) + 1
            except Exception as e:  # every failure is counted and named
                with lock:
                    state["fail"] += 1
                    k = type(e).__name__ + ": " + str(e)[:80]
                    state["errors"][k] = state["errors"].get(k, 0) + 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    print("%d handshakes ok, %d failed, %d not started, in %.2f s (%s)" %
          (state["ok"], state["fail"], a.count - state["next"], took, state["versions"]))
    for k, n in state["errors"].items():
        print("  %d x %s" % (n, k))
    sys.exit(0 if state["ok"] == a.count else 1)


if __name__ == "__main__":
    main()
