#!/usr/bin/env bash
# 4 workers, 200 concurrent full handshakes (resumption off): all succeed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

concurrent() { # n
	timeout 120 python3 - "$PORT" "$CERTS/ca.crt" "$1" <<'PY'
import socket, ssl, sys, threading
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ok, errors = [], []
start = threading.Barrier(n)
def one(i):
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        start.wait(timeout=60)
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 OK"), data[:40]
            ok.append(i)
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join(90)
print(len(ok), "ok,", len(errors), "errors", errors[:3])
sys.exit(0 if len(ok) == n else 1)
PY
}

start_server --workers 4 --resumption off
check "200 concurrent handshakes on 4 workers" concurrent 200
check "server log shows work on several workers" sh -c "kill -USR1 $SRV_PID; sleep 0.3; grep -c 'handshakes full [1-9]' $TMP/server.log | awk '\$1 >= 2 {ok=1} END {exit !ok}'"
finish
