#!/usr/bin/env bash
# 4 workers, 200 concurrent full handshakes (resumption off): all succeed.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

concurrent() { # n [TLS 1.2 cipher list]
	timeout 120 python3 - "$PORT" "$CERTS/ca.crt" "$1" "${2:-}" <<'PY'
import socket, ssl, sys, threading
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if sys.argv[4]:
    ctx.set_ciphers(sys.argv[4])
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
# The IFMA lanes under load: one worker, 200 RSA handshakes at once; the
# worker's counters must show the RSA private operations (signatures, or
# static-RSA premaster decryptions) going through the lanes several to a
# pass (batches forming), and no fault recheck.
lanes_filled() {
	kill -USR1 "$SRV_PID"
	sleep 0.3
	python3 - "$TMP/server.log" <<'PY'
import re, sys
m = re.findall(r"(\d+) jobs in (\d+) IFMA passes, (\d+) fault rechecks", open(sys.argv[1]).read())
jobs, passes, faults = map(int, m[-1])
print(jobs, "RSA operations in", passes, "passes,", faults, "fault rechecks")
sys.exit(0 if jobs >= 100 and jobs >= 2 * passes and faults == 0 else 1)
PY
}
if grep -qw avx512ifma /proc/cpuinfo; then
	start_server --workers 1 --resumption off --accel ifma
	check "200 concurrent RSA handshakes on the IFMA lanes" concurrent 200 ECDHE-RSA-AES128-GCM-SHA256
	check "signatures went through the lanes several to a pass" lanes_filled
	start_server --workers 1 --resumption off --accel ifma --ciphers AES128-GCM-SHA256
	check "200 concurrent static-RSA handshakes on the IFMA lanes" concurrent 200 AES128-GCM-SHA256
	check "premaster decryptions went through the lanes several to a pass" lanes_filled
	start_server --workers 1 --resumption off --accel openssl
	check "the same 200 handshakes with --accel openssl" concurrent 200 ECDHE-RSA-AES128-GCM-SHA256
else
	echo "skip IFMA cases: no AVX-512 IFMA on this CPU"
fi
finish
