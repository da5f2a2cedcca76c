#!/usr/bin/env python3
"""Send one hand-built TLS 1.2 ClientHello to 127.0.0.1:PORT and report how
the server answered: "ServerHelloDone", "alert NAME", "closed" or "timeout".

usage: big_hello.py PORT CASE [FRAGMENT [separate]]
CASE: plain | brim (every field at its maximum: 32,767 suites, 255
compression methods, a 32-byte session ID, a 65,535-byte extensions block:
a 131,400-byte message) | over (a message longer than any ClientHello).
FRAGMENT: record payload size (default 16384); "separate" sends each
record in its own write."""
import socket
import struct
import sys
import time


def vec(n, b):
    return len(b).to_bytes(n, "big") + b


def ext(t, b):
    return struct.pack(">H", t) + vec(2, b)


def u16s(v):
    return b"".join(struct.pack(">H", x) for x in v)


def hello(case):
    exts = (ext(10, vec(2, u16s([0x1D, 0x17]))) + ext(11, vec(1, b"\0")) +
            ext(13, vec(2, u16s([0x0403, 0x0804, 0x0401]))) + ext(23, b""))
    suites, comps, sid = [0xC02F], b"\0", b""
    if case in ("brim", "over"):
        # unassigned code points around the real suite (not 0x5600, the
        # fallback SCSV)
        suites = [s for s in range(0x5A00, 0x5A00 + 32767) if s != 0x5600][:32766] + [0xC02F]
        comps, sid = bytes(range(255)), b"\x07" * 32
        exts += ext(0x4ABC, b"\x5c" * (65535 - len(exts) - 4))
    body = (struct.pack(">H", 0x0303) + b"\x42" * 32 + vec(1, sid) + vec(2, u16s(suites)) +
            vec(1, comps) + vec(2, exts))
    if case == "over":
        body += b"\0" * 100  # past the largest ClientHello
    return b"\x01" + vec(3, body)


ALERTS = {10: "unexpected_message", 40: "handshake_failure", 47: "illegal_parameter",
          50: "decode_error", 80: "internal_error"}


def main():
    port, case = int(sys.argv[1]), sys.argv[2]
    frag = int(sys.argv[3]) if len(sys.argv) > 3 else 16384
    separate = len(sys.argv) > 4 and sys.argv[4] == "separate"
    m = hello(case)
    recs = [b"\x16\x03\x01" + vec(2, m[i:i + frag]) for i in range(0, len(m), frag)]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if separate:
            for r in recs:
                s.sendall(r)
        else:
            s.sendall(b"".join(recs))
    except OSError:
        pass  # the server may close before all is sent (an alert)
    got, deadline = b"", time.time() + 10
    while time.time() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            d = b""
        if not d:
            print("closed")
            return
        got += d
        off, hs = 0, b""
        while off + 5 <= len(got):
            n = struct.unpack(">H", got[off + 3:off + 5])[0]
            if off + 5 + n > len(got):
                break
            if got[off] == 21:
                print("alert", ALERTS.get(got[off + 6], got[off + 6]))
                return
            if got[off] == 22:
                hs += got[off + 5:off + 5 + n]
            off += 5 + n
        if hs.endswith(b"\x0e\x00\x00\x00"):
            print("ServerHelloDone")
            return
    print("timeout")


if __name__ == "__main__":
    main()
