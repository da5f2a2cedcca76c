#!/usr/bin/env bash
# Proxy mode on the dpdk dataplane: inside a network namespace this test
# creates (and deletes), build/tlsoffload --dataplane dpdk --mode proxy runs
# on a TAP device (net_tap); the kernel side of the TAP has 198.18.0.1/24
# and the two plaintext backends of tests/integration/proxy_peer.py listen
# there, so the server reaches them through the userspace TCP's active
# open (ARP, SYN, ...). Clients (Python ssl, openssl s_client) run in the namespace too:
# 1 MB both ways intact, client close_notify seen by the backend as EOF,
# backend FIN as close_notify, the PROXY v2 header with the client's
# address, 24 concurrent clients over both backends, a slow reader (zero
# windows both ways), a backend killed and marked down with the other
# taking the traffic, then 24 concurrent clients on two workers with one
# backend reached through --dpdk-gateway. Needs root,
# /dev/net/tun and a build with DPDK; elsewhere it is skipped (77).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

ns_need python3 openssl
if "$BIN" --dataplane dpdk --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --check-config 2>&1 | grep -q "no DPDK"; then
	echo "skip: this build has no DPDK"
	exit 77
fi
PEER=tests/integration/proxy_peer.py
DP_PID=
B1_PID=
B2_PID=
ns_cleanup() {
	[ -n "$DP_PID" ] && kill -TERM "$DP_PID" 2>/dev/null && wait "$DP_PID" 2>/dev/null
	stop_pid "$B1_PID"
	stop_pid "$B2_PID"
	ns_del
}
trap 'ns_cleanup; cleanup' EXIT
ns_add tlso-pxd-$$
EAL="--no-pci --no-huge -m 512 --no-shconf"
HOST=198.18.0.2
GW=198.18.0.1

# dp_start LOG TAP CONFIG [flags...]: the proxy in the namespace on
# HOST:443 (its PID in DP_PID), then the kernel side of TAP at GW/24.
dp_start() {
	local log=$1 tap=$2 conf=$3
	shift 3
	# ip netns exec execs the server: $! is its PID
	ip netns exec "$NS" "$BIN" --dataplane dpdk -c "$conf" --listen "$HOST:443" --cert "$CERTS/rsa.crt" \
		--key "$CERTS/rsa.key" --client-auth optional --ca "$CERTS/ca.crt" "$@" \
		-- $EAL "--vdev=net_tap_$tap,iface=$tap" >"$log" 2>&1 &
	DP_PID=$!
	for _ in $(seq 100); do
		grep -q "dpdk dataplane:" "$log" 2>/dev/null && break
		kill -0 "$DP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "dpdk dataplane:" "$log"; then
		echo "the dpdk server did not start:" >&2
		cat "$log" >&2
		DP_PID=
		return 1
	fi
	in_ns ip addr add "$GW/24" dev "$tap"
	in_ns ip link set "$tap" up
}

dp_stop() {
	kill -TERM "$DP_PID"
	wait "$DP_PID"
	local rc=$?
	DP_PID=
	[ "$rc" -eq 0 ]
}

# backend NAME PORT: a PROXY-v2-parsing backend on every address of the
# namespace (GW appears with the TAP); its PID in LAUNCHED.
backend() {
	ip netns exec "$NS" env PEER_BIND=0.0.0.0 python3 "$PEER" backend "$2" "$1" --pp2 \
		>>"$TMP/backend-$1.log" 2>&1 &
	LAUNCHED=$!
	for _ in $(seq 50); do
		grep -q listening "$TMP/backend-$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "backend $1 did not start" >&2
	return 1
}

# all_up LOG [BACKEND...]: every backend the server marked down (its
# first health checks ran before the TAP had an address) is up again.
all_up() {
	local log=$1 b
	shift
	[ $# -gt 0 ] || set -- "$GW:8081" "$GW:8082"
	for _ in $(seq 50); do
		for b in "$@"; do
			if [ "$(grep -c "backend $b is down" "$log")" -gt "$(grep -c "backend $b is up" "$log")" ]; then
				sleep 0.1
				continue 2
			fi
		done
		return 0
	done
	return 1
}

peer() { in_ns env PEER_HOST=$HOST timeout 60 python3 "$PEER" "$1" 443 "$CERTS/ca.crt" "${@:2}"; }

# (sanitized, connects that took over 500 ms on a loaded machine marked
# live backends down: the timeout is TIME_SCALE times longer there)
cat >"$TMP/proxy.yaml" <<YAML
mode: proxy
idle_timeout: 20s
proxy:
  backends: [$GW:8081, $GW:8082]
  balance: roundrobin
  connect_timeout: $((500 * TIME_SCALE))ms
  health: {interval: 200ms, rise: 2, fall: 2}
  proxy_protocol: v2
YAML
backend b1 8081 && B1_PID=$LAUNCHED
backend b2 8082 && B2_PID=$LAUNCHED
LOG=$TMP/server.log
dp_start "$LOG" tlsopx0 "$TMP/proxy.yaml" --workers 1 || exit 1
check "started in proxy mode on the dpdk dataplane" grep -q "proxy mode (2 backends, roundrobin, PROXY protocol v2)" "$LOG"
sleep 0.5
check "both backends up (ARP resolved, health checks connect)" all_up "$LOG"

check "1 MB both ways intact (sha256), TLS 1.3" peer xchg 1048576 1.3
check "1 MB both ways intact (sha256), TLS 1.2" peer xchg 1048576 1.2
check "client close_notify: the backend sees EOF, its answer still arrives" peer xchg 0 1.3
check "backend FIN arrives as close_notify" peer closed-backend b1,b2
check "PROXY v2: the client's address and port, ours, TLS 1.3, cipher, SNI, ALPN" peer info 1.3
check "PROXY v2: TLS 1.2 with a client certificate: CN and verify 0" \
	peer info 1.2 "$CERTS/client.crt" "$CERTS/client.key"
sclient() {
	printf 'SEND 5\n' | in_ns timeout 10 openssl s_client -connect "$HOST:443" -servername localhost \
		-CAfile "$CERTS/ca.crt" -verify_return_error -quiet 2>/dev/null | tr '\n' ' '
}
check "openssl s_client: the backend's name and bytes back" expect "^b[12] xxxxx" sclient
check "24 concurrent clients over both backends" peer concurrent 24 20000 b1,b2
# The client stalls while its backend sends 20 MB: the server's windows
# close both ways (bounded buffers), then everything arrives.
zero_windows() {
	kill -USR1 "$DP_PID"
	sleep 0.5
	grep -Eo "zero windows sent [0-9]+" "$LOG" | tail -1
}
ZW_BEFORE=$(zero_windows)
check "slow reader, backend sends 20 MB: RSS bounded, all bytes arrive" peer slow-reader "$DP_PID" 20971520 16384
# the backend was held by a zero window (its bytes not read) while the
# client stalled
held() {
	local after
	after=$(zero_windows)
	echo "before: $ZW_BEFORE, after: $after"
	[ "${after##* }" -gt "${ZW_BEFORE##* }" ]
}
check "the stalled client's backend was held by zero windows" held

stop_pid "$B1_PID"
B1_PID=
killed_down() {
	for _ in $(seq 30); do
		grep -q "backend $GW:8081 is down" "$LOG" && [ "$(grep -c "backend $GW:8081 is down" "$LOG")" -gt \
			"$(grep -c "backend $GW:8081 is up" "$LOG")" ] && return 0
		sleep 0.1
	done
	return 1
}
check "killed backend marked down by the health checks" killed_down
check "after that, 20 concurrent clients all served by b2" peer concurrent 20 5000 b2
counters() {
	kill -USR1 "$DP_PID"
	sleep 0.5
	grep -E "proxy: proxied [1-9][0-9]*, bytes to backends [1-9][0-9]{6,}, from backends [1-9][0-9]{7,}, .*backends up 1 down 1" "$LOG"
}
check "SIGUSR1 counters: proxied, bytes each way, backends up 1 down 1" counters
check "SIGTERM: clean exit" dp_stop

# Two workers (net_tap: a queue each): the active opens' ports are chosen
# so that the backend's replies reach the worker of the connection. The
# second backend is off the link (198.19.7.1, an address of the kernel
# side), reached through --dpdk-gateway.
backend b1 8081 && B1_PID=$LAUNCHED
sed "s/backends: .*/backends: [$GW:8081, 198.19.7.1:8082]/" "$TMP/proxy.yaml" >"$TMP/proxy2.yaml"
LOG=$TMP/server2.log
dp_start "$LOG" tlsopx1 "$TMP/proxy2.yaml" --workers 2 --dpdk-gateway "$GW" || exit 1
in_ns ip addr add 198.19.7.1/32 dev tlsopx1
sleep 0.5
check "2 workers: both backends up, one through the gateway" all_up "$LOG" "$GW:8081" 198.19.7.1:8082
check "2 workers: 24 concurrent clients over both backends" peer concurrent 24 20000 b1,b2
check "2 workers: SIGTERM, clean exit" dp_stop

# A backend off the link with no gateway: refused at start, with the reason.
off_link() {
	in_ns timeout 20 "$BIN" --dataplane dpdk --mode proxy --backend 10.9.9.9:80 --listen "$HOST:443" \
		--cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" -- $EAL --vdev=net_tap_off,iface=tlsopx2
	[ $? -eq 1 ]
}
check "a backend off the link without --dpdk-gateway is refused at start" \
	expect "backend 10.9.9.9:80 is not on the link .* no --dpdk-gateway" off_link
finish
