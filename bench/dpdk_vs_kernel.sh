#!/usr/bin/env bash
# One dpdk worker vs one kernel-dataplane worker against the same client,
# side by side in one run: handshakes per second (full and resumed) and
# the server CPU per handshake.
#   - everything runs in a network namespace this script creates (and
#     deletes): the dpdk server on a TAP device (net_tap, 198.18.0.2:443,
#     the kernel side 198.18.0.1/24), the kernel-dataplane server on the
#     namespace's loopback (127.0.0.1:8443); each has one worker pinned to
#     CPU 0 and the RSA-2048 certificate;
#   - the client is wrk on CPU 1 with 'Connection: close': one handshake
#     per request; "full" runs the servers with --resumption off, "resumed"
#     with resumption on (wrk offers the ticket it got last time); or,
#     with --client tlsbench, build/tlsbench on CPU 1 (-c C connections in
#     flight, resumed: --resume psk for TLS 1.3, ticket for 1.2), which
#     costs less than half of wrk's CPU per handshake (RESULTS.md);
#   - server CPU: the kernel worker's utime + stime (/proc/PID/stat); the
#     dpdk worker spins at 100 %, so its busy cycles (iterations that found
#     work, from its SIGUSR1 counters) as a fraction of all its cycles,
#     times the run's wall time;
#   - runs alternate between the servers; medians are printed.
# Usage: bench/dpdk_vs_kernel.sh [--duration S] [--runs N] [--connections C] [--tls 1.2|1.3]
#            [--bin build/tlsoffload] [--client wrk|tlsbench] [--tlsbench build/tlsbench]
# Needs root, wrk (scripts/deps.sh bench) and a build with DPDK.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=5 runs=3 conns=16 tls=1.3 bin=build/tlsoffload client=wrk tb=build/tlsbench
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--tls) tls=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--client) client=$2; shift 2 ;;
	--tlsbench) tb=$2; shift 2 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
bin=$(readlink -f "$bin") tb=$(readlink -f "$tb")
NS=tlso-bench-$$
tmp=$(mktemp -d /tmp/tlso-bench.XXXXXX)
kpid= dpid=
stop() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	kpid= dpid=
	return 0
}
trap 'stop; ip netns del $NS 2>/dev/null; rm -rf $tmp' EXIT
bash scripts/gen-cert.sh "$tmp/certs" >/dev/null
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
ciphers=$([ "$tls" = 1.2 ] && echo ECDHE-RSA-AES128-GCM-SHA256 || echo TLS_AES_128_GCM_SHA256)
common=(--cert "$tmp/certs/rsa.crt" --key "$tmp/certs/rsa.key" --cores 0 --response-size 0
	--ciphers "$ciphers" --log-level info)

# Only one server runs at a time (both pin CPU 0; the dpdk one spins).
start_kernel() { # resumption on|off
	stop
	ip netns exec "$NS" "$bin" --listen 127.0.0.1:8443 "${common[@]}" --resumption "$1" >"$tmp/kernel.log" 2>&1 &
	kpid=$!
	for _ in $(seq 100); do
		grep -q "kernel dataplane:" "$tmp/kernel.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$tmp/kernel.log" >&2
	return 1
}
start_dpdk() { # resumption on|off
	stop
	ip netns exec "$NS" "$bin" --dataplane dpdk --listen 198.18.0.2:443 "${common[@]}" --resumption "$1" \
		-- --no-pci --no-huge -m 512 --no-shconf --vdev=net_tap0,iface=tlsobench0 >"$tmp/dpdk.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do
		grep -q "dpdk dataplane:" "$tmp/dpdk.log" 2>/dev/null && break
		sleep 0.1
	done
	in_ns ip addr add 198.18.0.1/24 dev tlsobench0
	in_ns ip link set tlsobench0 up
	in_ns ping -c 1 -W 2 198.18.0.2 >/dev/null
}

ticks() { awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
busy() { # the dpdk worker's busy and total cycles, from a fresh SIGUSR1 dump
	local n
	n=$(grep -c "busy" "$tmp/dpdk.log" || true)
	kill -USR1 "$dpid"
	for _ in $(seq 50); do
		[ "$(grep -c "busy" "$tmp/dpdk.log" || true)" -gt "$n" ] && break
		sleep 0.05
	done
	grep -o "busy [0-9.]*% ([0-9]* of [0-9]* cycles" "$tmp/dpdk.log" | tail -1 | awk '{gsub(/\(/, "", $3); print $3, $5}'
}
wrk_run() { # url -> requests/s
	in_ns taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" -H 'Connection: close' "$1" |
		awk '/requests in/ {print $1}'
}
tlsbench_run() { # mode host:port -> handshakes
	local res=none
	[ "$1" = on ] && res=$([ "$tls" = 1.2 ] && echo ticket || echo psk)
	in_ns "$tb" -q --json --cores 1 -c "$conns" -d "$duration" --tls "$tls" --resume "$res" "$2" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print(round(d["handshakes_per_s"] * d["elapsed_s"]))'
}
client_run() { # mode host:port -> handshakes (requests)
	if [ "$client" = tlsbench ]; then tlsbench_run "$1" "$2"; else wrk_run "https://$2/"; fi
}
measure() { # mode -> "kernel_rate kernel_us dpdk_rate dpdk_us dpdk_busy_pct"
	local t0 t1 k d b0 a0 b1 a1
	start_kernel "$1" >&2
	t0=$(ticks "$kpid")
	k=$(client_run "$1" 127.0.0.1:8443)
	t1=$(ticks "$kpid")
	start_dpdk "$1" >&2
	read -r b0 a0 < <(busy)
	d=$(client_run "$1" 198.18.0.2:443)
	read -r b1 a1 < <(busy)
	stop
	python3 -c "
d, k = $d / $duration, $k / $duration
kus = ($t1 - $t0) * 1e6 / $hz / max($k, 1)
frac = ($b1 - $b0) / max($a1 - $a0, 1)
dus = frac * $duration * 1e6 / max($d, 1)
print(f'{k:.0f} {kus:.1f} {d:.0f} {dus:.1f} {100 * frac:.0f}')"
}

echo "tls=$tls suite=$ciphers duration=${duration}s runs=$runs connections=$conns ($client on CPU 1, servers on CPU 0)"
for mode in off on; do
	label=$([ "$mode" = off ] && echo full || echo resumed)
	rows=()
	for r in $(seq "$runs"); do
		row=$(measure "$mode")
		rows+=("$row")
		read -r kr ku dr du df <<<"$row"
		echo "$label run $r: kernel $kr/s ($ku us CPU/handshake)   dpdk $dr/s ($du us busy/handshake, worker busy $df %)"
	done
	python3 - "$label" "${rows[@]}" <<'PY'
import statistics, sys
rows = [list(map(float, r.split())) for r in sys.argv[2:]]
med = [statistics.median(c) for c in zip(*rows)]
print(f"{sys.argv[1]} median: kernel {med[0]:.0f}/s {med[1]:.1f} us/handshake; dpdk {med[2]:.0f}/s {med[3]:.1f} us/handshake; "
      f"rate dpdk/kernel = {med[2] / med[0]:.2f}, CPU kernel/dpdk = {med[1] / med[3]:.2f}")
PY
done
