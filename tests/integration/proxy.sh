#!/usr/bin/env bash
# Proxy mode on the kernel dataplane: TLS in front of plaintext backends
# (tests/integration/proxy_peer.py plays the backends and the clients).
# 1 MB both ways intact, half-close, the PROXY v2 header and its TLS TLVs,
# 100 concurrent clients over two backends, a connect refused and retried,
# a backend killed and marked down with no client failing after, a slow
# reader whose backend sends 100 MB with the server's memory bounded, and
# the counters of the SIGUSR1 log line.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

PEER=tests/integration/proxy_peer.py
B1_PID=
B2_PID=
stop_backends() {
	stop_pid "$B1_PID"
	stop_pid "$B2_PID"
	B1_PID=
	B2_PID=
}
trap 'stop_backends; cleanup' EXIT

# backend NAME PORT: a PROXY-v2-parsing backend; its PID in LAUNCHED.
backend() {
	python3 "$PEER" backend "$2" "$1" --pp2 >>"$TMP/backend-$1.log" 2>&1 &
	LAUNCHED=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "backend $1 did not start" >&2
	return 1
}

P1=$(free_port)
P2=$(free_port)
P3=$(free_port) # nothing listens there: every connect is refused
backend b1 "$P1" && B1_PID=$LAUNCHED
backend b2 "$P2" && B2_PID=$LAUNCHED
cat >"$TMP/proxy.yaml" <<YAML
mode: proxy
idle_timeout: 20s
proxy:
  backends: [127.0.0.1:$P1, 127.0.0.1:$P2, 127.0.0.1:$P3]
  balance: roundrobin
  connect_timeout: 500ms
  health: {interval: 200ms, rise: 2, fall: 2}
  proxy_protocol: v2
YAML
start_server -c "$TMP/proxy.yaml" --workers 2 --client-auth optional --ca "$CERTS/ca.crt"
peer() { timeout 60 python3 "$PEER" "$1" "$PORT" "$CERTS/ca.crt" "${@:2}"; }

check "1 MB both ways intact, TLS 1.3" peer xchg 1048576 1.3
check "1 MB both ways intact, TLS 1.2" peer xchg 1048576 1.2
check "half-close: close_notify sent, the answer still arrives" peer xchg 0 1.3
check "backend FIN arrives as close_notify" peer closed-backend b1,b2
check "PROXY v2: addresses, TLS 1.3, cipher, SNI, ALPN, no client cert" peer info 1.3
check "PROXY v2: TLS 1.2 with a client certificate: CN and verify 0" \
	peer info 1.2 "$CERTS/client.crt" "$CERTS/client.key"
check "100 concurrent clients over both backends" peer concurrent 100 20000 b1,b2
check "the refusing backend is marked down by the health checks" \
	grep -q "backend 127.0.0.1:$P3 is down" "$TMP/server.log"

# Without active checks (and a high fall count) the refusing backend and
# a silent one (its SYNs dropped) stay up: connects to them are refused
# or time out (300 ms) and retried on b2; no client fails.
P4=$(free_port)
python3 "$PEER" blackhole "$P4" >"$TMP/blackhole.log" 2>&1 &
HOLE_PID=$!
cat >"$TMP/retry.yaml" <<YAML
mode: proxy
idle_timeout: 1s
proxy:
  backends: [127.0.0.1:$P3, 127.0.0.1:$P4, 127.0.0.1:$P2]
  connect_timeout: 300ms
  health: {interval: 0, fall: 100}
  proxy_protocol: v2
YAML
start_other -c "$TMP/retry.yaml" --workers 1
retried() {
	for _ in $(seq 30); do grep -q ready "$TMP/blackhole.log" && break; sleep 0.1; done
	PORT=$OTHER_PORT peer concurrent 20 1000 b2 || return 1
	kill -USR1 "$OTHER_PID"
	sleep 0.3
	grep -E "backend connect failures [1-9][0-9]* \([1-9][0-9]* timeouts\), .*backends up 3 down 0" \
		"$TMP/other.log"
}
check "connect refused or timed out: retried on another backend, no client fails" retried
idle_closed() { PORT=$OTHER_PORT peer idle 1; }
check "idle timeout: close_notify after 1 s with nothing moving" idle_closed
stop_pid "$OTHER_PID"
stop_pid "$HOLE_PID"
OTHER_PID=

# Kill b1: the health checks (every 200 ms, down after 2 failures) take
# it out on both workers; from then on every client lands on b2.
stop_pid "$B1_PID"
B1_PID=
killed_down() {
	for _ in $(seq 30); do
		[ "$(grep -c "backend 127.0.0.1:$P1 is down" "$TMP/server.log")" -ge 2 ] && return 0
		sleep 0.1
	done
	return 1
}
check "killed backend marked down by both workers" killed_down
check "after that, 40 concurrent clients all served by b2" peer concurrent 40 5000 b2

slow_reader() {
	peer slow-reader "$SRV_PID" 104857600 16384
}
check "slow reader, backend sends 100 MB: server RSS bounded, all bytes arrive" slow_reader

counters() {
	kill -USR1 "$SRV_PID"
	sleep 0.3
	python3 - "$TMP/server.log" <<'PY'
import re, sys
lines = re.findall(r"proxy: proxied (\d+), bytes to backends (\d+), from backends (\d+), backend connect "
                   r"failures (\d+) \(\d+ timeouts\), clients without a backend \d+; backends up (\d+) down (\d+)",
                   open(sys.argv[1]).read())
last = lines[-2:]  # one line per worker, the latest
proxied = sum(int(l[0]) for l in last)
up_bytes = sum(int(l[1]) for l in last)
down_bytes = sum(int(l[2]) for l in last)
print(last)
ok = (proxied >= 140 and up_bytes >= 2 * 1048576 and down_bytes >= 100 * 1048576
      and all(l[4] == "1" and l[5] == "2" for l in last))
sys.exit(0 if ok else 1)
PY
}
check "SIGUSR1 counters: proxied, bytes each way, backends up/down" counters
stop_backends
finish
