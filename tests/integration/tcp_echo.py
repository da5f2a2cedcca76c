"""TCP echo client for tests/integration/ns_tap.sh: for each size, one
connection sends that many random bytes (reading the echo concurrently),
half-closes, and checks that exactly the same bytes came back.
   tcp_echo.py HOST SIZE..."""
import os, socket, sys, threading, time
host, sizes = sys.argv[1], [int(x) for x in sys.argv[2:]]
for size in sizes:
    data = os.urandom(size)
    s = socket.create_connection((host, 7), timeout=30)
    got = bytearray()
    def reader():
        while True:
            c = s.recv(65536)
            if not c:
                break
            got.extend(c)
    t = threading.Thread(target=reader)
    t.start()
    t0 = time.time()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(60)
    s.close()
    ok = bytes(got) == data
    print(size, "ok" if ok else "MISMATCH %d" % len(got), "%.3fs" % (time.time() - t0))
    if not ok:
        sys.exit(1)
