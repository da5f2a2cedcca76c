#!/usr/bin/env bash
# The bounded flush delay (issue 14, --batch-delay-us / --batch-min): with
# it on, handshakes of every kind still complete (TLS 1.2 and 1.3, RSA and
# ECDSA, resumed, a lone client that only the deadline serves), and under
# load from tlsbench with many connections the executor's counters
# (SIGUSR1) show fuller flushes than the same load without it.
cd "$(dirname "$0")/../.." || exit 1
source tests/integration/lib.sh
TB=$(dirname "$BIN")/tlsbench
[ -x "$TB" ] || { echo "FAIL no $TB"; exit 1; }

run() { # NAME ARGS...: tlsbench --json -q ARGS into $TMP/NAME.json
	local name=$1
	shift
	timeout 60 "$TB" --json -q "$@" "127.0.0.1:$PORT" >"$TMP/$name.json" 2>"$TMP/$name.err" || true
}

exact() { # NAME N: N handshakes, no error
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ok = d["handshakes"] == int(sys.argv[2]) and d["errors"] == 0
print(d["handshakes"], "handshakes,", d["errors"], "errors")
sys.exit(0 if ok else 1)' "$TMP/$1.json" "$2" || { cat "$TMP/$1.err"; return 1; }
}

# fill: jobs per flush of the worker from its last SIGUSR1 line, into $FILL
fill() {
	kill -USR1 "$SRV_PID"
	for _ in $(seq 20); do
		grep -q "flushes" "$TMP/server.log" && break
		sleep 0.1
	done
	sleep 0.2
	FILL=$(python3 - "$TMP/server.log" <<'PY'
import re, sys
m = re.findall(r"crypto jobs (\d+) in \d+ batches .* in (\d+) flushes \((\d+) held", open(sys.argv[1]).read())
jobs, flushes, held = map(int, m[-1])
print("%.2f %d %d %d" % (jobs / flushes if flushes else 0, jobs, flushes, held))
PY
)
	echo "  jobs per flush, jobs, flushes, held to the deadline: $FILL"
}

start_server --workers 1 --resumption on --batch-delay-us 2000 --batch-min 8 ||
	{ echo "FAIL server with --batch-delay-us did not start"; exit 1; }
run lone -n 5 -c 1 --tls 1.3
check "a lone client: each handshake served by the deadline" exact lone 5
fill
check "a lone client: its flushes waited out the delay" \
	python3 -c "import sys; f = '$FILL'.split(); sys.exit(0 if int(f[3]) >= 5 else 1)"
run r12 -n 60 -c 16 --tls 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
check "TLS 1.2 ECDHE-RSA, 16 in flight" exact r12 60
run e12 -n 60 -c 16 --tls 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256
check "TLS 1.2 ECDHE-ECDSA, 16 in flight" exact e12 60
run r13 -n 60 -c 16 --tls 1.3 --request /
check "TLS 1.3 with a request, 16 in flight" exact r13 60
run psk -n 60 -c 16 --resume psk
check "TLS 1.3 PSK resumption, 16 in flight" exact psk 60
run sid -n 60 -c 16 --resume id
check "TLS 1.2 session IDs, 16 in flight" exact sid 60

# The same open-loop load (200 connections at 100/s, 64 in flight at
# most: well below saturation, where each ClientHello would otherwise be
# flushed on its own) with and without the delay; a fresh server each,
# counters from zero.
load() { # NAME
	run "$1" -n 200 -c 64 --tls 1.3 --rate 100 --open-loop
	exact "$1" 200 && fill
}
start_server --workers 1 --resumption off
check "open loop at 100/s without the delay" load plain
PLAIN=${FILL%% *}
start_server --workers 1 --resumption off --batch-delay-us 10000 --batch-min 8
check "open loop at 100/s with --batch-delay-us 10000 --batch-min 8" load held
HELD=${FILL%% *}
check "fuller flushes with the delay ($HELD vs $PLAIN jobs per flush)" \
	python3 -c "import sys; sys.exit(0 if float('$HELD') >= 1.3 * float('$PLAIN') else 1)"
finish
