#!/usr/bin/env bash
# Server CPU time per full TLS handshake, tlsoffload vs nginx + OpenSSL,
# measured side by side in one run (issue "Measure it"):
#   - each server has one worker pinned to CPU 0, resumption off;
#   - wrk on CPU 1 with 'Connection: close', so every request is a new
#     connection and a full handshake;
#   - CPU = utime + stime of the server processes (/proc/PID/stat) over
#     the run, divided by the requests wrk completed;
#   - runs alternate between the servers; the median of the runs is kept.
# Usage: bench/cpu_per_handshake.sh [--key rsa|ecdsa] [--tls 1.2|1.3] [--duration S]
#            [--runs N] [--connections C] [--accel auto|openssl|ifma] [--bin build/tlsoffload]
# Loopback only. Needs nginx and wrk (scripts/deps.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/bench_lib.sh

key=rsa tls=1.2 accel=auto duration=5 runs=3 conns=16 bin=build/tlsoffload
while [ $# -gt 0 ]; do
	case $1 in
	--key) key=$2; shift 2 ;;
	--tls) tls=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
. bench/nginx_pair.sh
pair_start 0

hz=$(getconf CLK_TCK)
nginx_pids() { echo "${pids[0]} $(pgrep -P "${pids[0]}" | tr '\n' ' ')"; }

measure() { # name port pids...
	local name=$1 port=$2
	shift 2
	local t0 t1 out reqs
	t0=$(ticks "$@")
	out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" -H 'Connection: close' "https://127.0.0.1:$port/")
	t1=$(ticks "$@")
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	if echo "$out" | grep -q 'Non-2xx'; then
		echo "$name: wrk reported non-2xx responses" >&2
	fi
	python3 -c "print(f'{($t1 - $t0) * 1e6 / $hz / max($reqs, 1):.1f} {$reqs / $duration:.0f}')"
}

echo "key=$key tls=$tls suite=$suite accel=$accel duration=${duration}s runs=$runs connections=$conns"
ours=() theirs=()
for r in $(seq "$runs"); do
	read -r n_us n_rate < <(measure nginx "$np" $(nginx_pids))
	read -r t_us t_rate < <(measure tlsoffload "$tp" "${pids[1]}")
	echo "run $r: nginx $n_us us/handshake ($n_rate/s)   tlsoffload $t_us us/handshake ($t_rate/s)"
	theirs+=("$n_us")
	ours+=("$t_us")
done
python3 - "${theirs[*]}" "${ours[*]}" <<'PY'
import statistics, sys
n = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
mn, mt = statistics.median(n), statistics.median(t)
print(f"median: nginx {mn:.1f} us/handshake, tlsoffload {mt:.1f} us/handshake, nginx/us = {mn / mt:.2f}")
PY
