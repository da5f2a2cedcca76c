#!/usr/bin/env bash
# /metrics (--metrics) scraped before and after known traffic on the kernel
# dataplane (2 workers): the counters move by what the clients did (full
# and resumed handshakes by version, a handshake_failure, the latency
# histogram), the gauges come back to 0, the text parses; the access log
# has a line per connection with its fields; with --log-format json every
# log line and access log line is one JSON object, a hostile SNI included.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

# The Debian python3 has the packaged prometheus_client (scripts/deps.sh).
PY=python3
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null && PY=/usr/bin/python3
MC="$PY tests/integration/metrics_check.py"
MPORT=$(free_port)

# /metrics opens after the workers' listeners (dp_kernel.c, dp_dpdk.c):
# the first scrape may come before it listens (it did, sanitized on a
# loaded machine), so a refused connection is tried again.
MCURL=(curl -sf --max-time 5 --retry 10 --retry-connrefused --retry-delay 1)
scrape() { # FILE
	"${MCURL[@]}" "http://127.0.0.1:$MPORT/metrics" -o "$1"
}
get() { # FILE NAME [K=V...]
	$MC get "$@"
}
# delta NAME [K=V...]: after - before
delta() {
	echo $(($(get "$TMP/after" "$@" | cut -d. -f1) - $(get "$TMP/before" "$@" | cut -d. -f1)))
}
# moved WANT NAME [K=V...]
moved() {
	local want=$1 got
	shift
	got=$(delta "$@")
	[ "$got" = "$want" ] || { echo "$*: moved by $got, expected $want"; return 1; }
}

curl_get() { curl -sfk --max-time 10 "https://127.0.0.1:$PORT/" -o /dev/null; }

start_server --workers 2 --metrics "127.0.0.1:$MPORT" --access-log "$TMP/access.log" || exit 1
check "first scrape" scrape "$TMP/before"
check "the exposition parses" $MC parse "$TMP/before"

# Known traffic: TLS 1.3 full x4, TLS 1.2 full x2 and resumed x1, and a
# client offering only a suite the listener does not enable (static-RSA
# AES128-SHA: configuration only) gets handshake_failure.
traffic() {
	for _ in 1 2 3; do curl_get || return 1; done
	s_client -tls1_3 | grep -q '^HTTP/1.1 200' || return 1
	s_client -tls1_2 | grep -q '^HTTP/1.1 200' || return 1
	s_client -tls1_2 -no_ticket -sess_out "$TMP/sess" | grep -q '^HTTP/1.1 200' || return 1
	s_client -tls1_2 -no_ticket -sess_in "$TMP/sess" | grep -q '^Reused, TLSv1.2' || return 1
	s_client -tls1_2 -cipher AES128-SHA | grep -q 'alert handshake failure' || return 1
}
check "traffic: 7 handshakes and one failure" traffic
sleep 0.5 # the workers' access log buffers go out every 200 ms

# The connection gauges go back to 0 once the clients have gone.
settled() {
	for _ in $(seq 20); do
		scrape "$TMP/after" || return 1
		[ "$(get "$TMP/after" tlso_connections_open)" = 0 ] &&
			[ "$(get "$TMP/after" tlso_handshakes_in_progress)" = 0 ] && return 0
		sleep 0.1
	done
	echo "open connections: $(get "$TMP/after" tlso_connections_open)"
	return 1
}
check "second scrape: open connections and handshakes in progress back to 0" settled
check "the exposition still parses" $MC parse "$TMP/after"
check "TLS 1.3 full handshakes +4" moved 4 tlso_handshakes_total version=1.3 resumed=false
check "TLS 1.2 full handshakes +2" moved 2 tlso_handshakes_total version=1.2 resumed=false
check "TLS 1.2 resumed handshakes +1" moved 1 tlso_handshakes_total version=1.2 resumed=true
check "no TLS 1.3 resumption" moved 0 tlso_handshakes_total version=1.3 resumed=true
check "failures: handshake_failure +1" moved 1 tlso_handshake_failures_total alert=handshake_failure
check "no other failure" moved 1 tlso_handshake_failures_total
check "latency histogram: _count +7" moved 7 tlso_handshake_duration_seconds_count
check "latency histogram: +Inf bucket +7" moved 7 tlso_handshake_duration_seconds_bucket le=+Inf
check "connections accepted +8" moved 8 tlso_connections_accepted_total
check "HTTP requests +7" moved 7 tlso_http_requests_total
bigger() { [ "$(delta "$@")" -gt 0 ] || { echo "$* did not move"; return 1; }; }
check "crypto batches moved" bigger tlso_crypto_batches_total
check "lanes filled moved" bigger tlso_crypto_batch_lanes_filled_total
check "client bytes in and out moved" sh -c "[ $(delta tlso_client_bytes_total direction=in) -gt 2000 ] && [ $(delta tlso_client_bytes_total direction=out) -gt 10000 ]"
busy_idle() {
	for w in 0 1; do
		grep -q "^tlso_worker_busy_seconds_total{worker=\"$w\"} " "$TMP/after" || return 1
		grep -q "^tlso_worker_idle_seconds_total{worker=\"$w\"} " "$TMP/after" || return 1
	done
	[ "$(get "$TMP/after" tlso_worker_idle_seconds_total | cut -d. -f1)" -ge 1 ]
}
check "busy and idle time per worker" busy_idle
buckets() {
	local le
	for le in 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf; do
		grep -q "^tlso_handshake_duration_seconds_bucket{le=\"$le\"} " "$TMP/after" || { echo "no le=$le"; return 1; }
	done
}
check "histogram buckets: le=\"0.0005\" .. le=\"10\", +Inf" buckets
check "another path: 404" expect '^404$' curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/"
check "POST: 405" expect '^405$' curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$MPORT/metrics"

# The access log: one line per TLS connection (the launch probe's
# connection, which sent nothing, has one too).
alog() {
	local f=$TMP/access.log n
	n=$(grep -c ' client=127\.0\.0\.1:' "$f")
	cat "$f" # shown when a check fails
	[ "$n" -ge 8 ] || { echo "$n lines"; return 1; }
	[ "$(grep -c ' version=1\.3 suite=TLS_[A-Z0-9_]* resumed=0 established=1 ' "$f")" = 4 ] || return 1
	[ "$(grep -c ' version=1\.2 suite=TLS_ECDHE_[A-Z0-9_]* resumed=0 established=1 ' "$f")" = 2 ] || return 1
	[ "$(grep -c ' version=1\.2 .* resumed=1 established=1 ' "$f")" = 1 ] || return 1
	[ "$(grep -c ' established=0 handshake_ms=- .* close=alert:handshake_failure$' "$f")" = 1 ] || return 1
	grep -Eq ' sni="localhost" .* handshake_ms=[0-9]+\.[0-9]{3} bytes_in=[1-9][0-9]* bytes_out=[1-9][0-9]* backend=- close=(closed|close_notify)$' "$f"
}
check "access log: a line per connection with its fields" alog

# A client whose Finished and close_notify arrive in one read: the
# handshake counts as one (it once counted as a failure with alert
# "none": the connection was closed before the dataplane looked).
fin_close() {
	scrape "$TMP/before" &&
		python3 tests/integration/finished_close.py "$PORT" 3 &&
		sleep 0.3 && scrape "$TMP/after"
}
check "Finished and close_notify in one read: 3 TLS 1.3 clients" fin_close
check "... counted as TLS 1.3 full handshakes +3" moved 3 tlso_handshakes_total version=1.3 resumed=false
check "... and no failure" moved 0 tlso_handshake_failures_total
stop_server

# JSON: the log lines and the access log lines are JSON objects, one per
# line; a hostile SNI (a quote, a backslash, braces) stays in its string.
EVIL='ev"il\}{x'
start_server --metrics "127.0.0.1:$MPORT" --log-format json --access-log - || exit 1
json_traffic() {
	curl_get &&
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
			-servername "$EVIL" -tls1_3 -ign_eof 2>&1 | grep -q '^HTTP/1.1 200'
}
check "json: traffic" json_traffic
sleep 0.5
stop_server
per_line_json() {
	local n=0
	while IFS= read -r line; do
		printf '%s\n' "$line" | python3 -m json.tool >/dev/null || { echo "not JSON: $line"; return 1; }
		n=$((n + 1))
	done <"$TMP/server.log"
	[ "$n" -ge 6 ] || { echo "$n lines"; return 1; }
}
check "json: every line of the server's stderr parses (python3 -m json.tool)" per_line_json
sni_round_trip() {
	python3 - "$TMP/server.log" "$EVIL" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
conns = [l for l in lines if "client" in l]
logs = [l for l in lines if "msg" in l]
assert len(conns) >= 2, conns
assert any(l["sni"] == sys.argv[2] and l["version"] == "1.3" and l["established"] for l in conns), conns
assert all(set(l) == {"time", "level", "msg"} for l in logs), logs
assert any("metrics on http://127.0.0.1:" in l["msg"] for l in logs), logs
PY
}
check "json: the hostile SNI comes back intact, the fields are there" sni_round_trip

# Proxy mode: bytes each way, backend up/down (a backend nobody listens
# on is marked down by the health checks), the backend in the access log.
BPORT=$(free_port)
DEAD=$(free_port)
python3 tests/integration/proxy_peer.py backend "$BPORT" b1 >"$TMP/backend.log" 2>&1 &
B_PID=$!
D_PID=
trap 'stop_pid "$B_PID"; cleanup' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$BPORT") 2>/dev/null && break; sleep 0.1; done
cat >"$TMP/proxy.yaml" <<YAML
mode: proxy
metrics: 127.0.0.1:$MPORT
access_log: $TMP/proxy-access.log
proxy:
  backends: [127.0.0.1:$BPORT, 127.0.0.1:$DEAD]
  connect_timeout: 500ms
  health: {interval: 100ms, rise: 1, fall: 2}
YAML
start_server -c "$TMP/proxy.yaml" || exit 1
check "proxy: first scrape" scrape "$TMP/before"
check "proxy: 100000 bytes each way" timeout 30 python3 tests/integration/proxy_peer.py xchg "$PORT" "$CERTS/ca.crt" 100000 1.3
sleep 0.5
check "proxy: second scrape" scrape "$TMP/after"
check "proxy: the exposition parses" $MC parse "$TMP/after"
at_least() { # MIN NAME [K=V...]
	local min=$1 d
	shift
	d=$(delta "$@")
	[ "$d" -ge "$min" ] || { echo "$*: moved by $d, expected at least $min"; return 1; }
}
check "proxy: bytes to the backend +100000 or more" at_least 100000 tlso_proxy_bytes_total direction=to_backend
check "proxy: bytes from the backend +100000 or more" at_least 100000 tlso_proxy_bytes_total direction=from_backend
check "proxy: one backend connection" moved 1 tlso_proxy_connections_total
check "proxy: the live backend is up" expect '^1$' get "$TMP/after" tlso_backend_up backend="127.0.0.1:$BPORT"
check "proxy: the dead one is down" expect '^0$' get "$TMP/after" tlso_backend_up backend="127.0.0.1:$DEAD"
check "proxy: it was marked down once" expect '^1$' get "$TMP/after" tlso_backend_transitions_total to=down
check "proxy: no client's connect failed (the dead backend was down before)" moved 0 tlso_backend_connect_failures_total
check "proxy: the access log names the backend" \
	grep -q " version=1\.3 .* backend=127\.0\.0\.1:$BPORT close=" "$TMP/proxy-access.log"

# The dpdk dataplane (as root, in a namespace this test creates, on
# net_tap): the same counters, and the poll loop's TSC cycles per worker.
dpdk_ok() {
	[ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null &&
		! "$BIN" --dataplane dpdk --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --check-config 2>&1 | grep -q "no DPDK"
}
if dpdk_ok && ns_try_add "tlso-mx-$$" 2>/dev/null; then
	trap 'stop_pid "$B_PID"; stop_pid "$D_PID"; ns_del; cleanup' EXIT
	# ip netns exec execs the server: $! is its PID (through in_ns, a
	# function, it was a subshell's: stop_pid left the server running,
	# polling, with its namespace deleted)
	ip netns exec "$NS" "$BIN" --dataplane dpdk --listen 198.18.0.2:443 --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" \
		--workers 2 --metrics "127.0.0.1:$MPORT" --access-log "$TMP/dpdk-access.log" \
		-- --no-pci --no-huge -m 512 --no-shconf --vdev=net_tap0,iface=tlsomx0 >"$TMP/dpdk.log" 2>&1 &
	D_PID=$!
	for _ in $(seq 100); do grep -q "dpdk dataplane:" "$TMP/dpdk.log" && break; sleep 0.1; done
	in_ns ip addr add 198.18.0.1/24 dev tlsomx0
	in_ns ip link set tlsomx0 up
	dscrape() { in_ns "${MCURL[@]}" "http://127.0.0.1:$MPORT/metrics" -o "$1"; }
	check "dpdk: first scrape" dscrape "$TMP/before"
	dtraffic() {
		for _ in 1 2 3; do in_ns curl -sfk --max-time 10 https://198.18.0.2/ -o /dev/null || return 1; done
		echo | in_ns timeout 10 openssl s_client -connect 198.18.0.2:443 -tls1_2 -cipher AES128-SHA 2>&1 |
			grep -q 'alert handshake failure'
	}
	check "dpdk: traffic (3 handshakes and one failure)" dtraffic
	sleep 0.5
	dsettled() {
		for _ in $(seq 20); do
			dscrape "$TMP/after" || return 1
			[ "$(get "$TMP/after" tlso_connections_open)" = 0 ] && return 0
			sleep 0.1
		done
		return 1
	}
	check "dpdk: second scrape, no connection open" dsettled
	check "dpdk: the exposition parses" $MC parse "$TMP/after"
	check "dpdk: TLS 1.3 handshakes +3" moved 3 tlso_handshakes_total version=1.3
	check "dpdk: handshake_failure +1" moved 1 tlso_handshake_failures_total alert=handshake_failure
	check "dpdk: latency histogram _count +3" moved 3 tlso_handshake_duration_seconds_count
	check "dpdk: busy and idle cycles per worker" sh -c "grep -q '^tlso_dpdk_busy_cycles_total{worker=\"1\"} [1-9]' $TMP/after &&
		grep -q '^tlso_dpdk_idle_cycles_total{worker=\"0\"} [1-9]' $TMP/after && grep -q '^tlso_info{dataplane=\"dpdk\"} 1' $TMP/after"
	check "dpdk: the access log has the clients" \
		sh -c "[ \$(grep -c ' client=198\.18\.0\.1:[0-9]* sni=\"\" version=1\.3 ' $TMP/dpdk-access.log) = 3 ]"
	kill "$D_PID"
	wait "$D_PID"
	D_RC=$?
	D_PID=
	check "dpdk: SIGTERM, exit status 0" test "$D_RC" -eq 0
	ns_del
else
	echo "skip the dpdk dataplane's cases (they need root, /dev/net/tun and a DPDK build)"
fi

finish
