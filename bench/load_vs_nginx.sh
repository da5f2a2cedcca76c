#!/usr/bin/env bash
# Handshakes per second and request latency under load, tlsoffload vs
# nginx + OpenSSL, side by side (issue 14, "its worker sits idle while
# clients wait"):
#   - each server has one worker pinned to --server-cpu (default 1),
#     resumption off in both (nginx: ssl_session_cache off,
#     ssl_session_tickets off), same certificate, suite and groups;
#   - wrk -t1 -cC --latency -H 'Connection: close' pinned to --client-cpu
#     (default 0): one request per connection, so every request is a new
#     full handshake; requests/s = handshakes/s;
#   - for each C of --connections, rounds alternate the servers in ABBA
#     order (nginx first in odd rounds, tlsoffload first in even ones);
#     the median of --runs rounds is kept for handshakes/s and for wrk's
#     latency p50 / p99 (request sent -> response read, on the new
#     connection: the handshake is not in it).
# Usage: bench/load_vs_nginx.sh [--key rsa|ecdsa] [--tls 1.2|1.3] [--connections 1,8,32,64]
#            [--duration S] [--runs N] [--accel auto|openssl|ifma] [--bin build/tlsoffload]
#            [--server-cpu N] [--client-cpu N]
# Prints one line per round and a markdown table row per C. Loopback only;
# needs nginx and wrk (scripts/deps.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."

key=rsa tls=1.2 accel=auto duration=5 runs=3 conns_list=1,8,32,64 bin=build/tlsoffload
scpu=1 ccpu=0
while [ $# -gt 0 ]; do
	case $1 in
	--key) key=$2; shift 2 ;;
	--tls) tls=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--connections) conns_list=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--server-cpu) scpu=$2; shift 2 ;;
	--client-cpu) ccpu=$2; shift 2 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done
. bench/nginx_pair.sh
pair_start "$scpu"

# One wrk run: "handshakes/s p50_ms p99_ms" (requests without errors only).
measure() { # port conns
	local out
	out=$(taskset -c "$ccpu" wrk -t1 -c"$2" -d"${duration}s" --latency -H 'Connection: close' \
		"https://127.0.0.1:$1/")
	if echo "$out" | grep -q 'Non-2xx\|Socket errors'; then
		echo "$out" | grep 'Non-2xx\|Socket errors' | sed 's/^/  wrk: /' >&2
	fi
	echo "$out" | python3 -c '
import re, sys
text = sys.stdin.read()
unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
def pct(p):
    m = re.search(r"^\s*" + str(p) + r"%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
reqs = int(re.search(r"(\d+) requests in", text).group(1))
print(f"{reqs / float(sys.argv[1]):.0f} {pct(50):.2f} {pct(99):.2f}")' "$duration"
}

echo "key=$key tls=$tls suite=$suite accel=$accel duration=${duration}s runs=$runs" \
	"server cpu $scpu, wrk cpu $ccpu, bin=$bin"
rows=()
for c in ${conns_list//,/ }; do
	n_res=() t_res=()
	for r in $(seq "$runs"); do
		if [ $((r % 2)) -eq 1 ]; then
			n=$(measure "$np" "$c"); t=$(measure "$tp" "$c")
		else
			t=$(measure "$tp" "$c"); n=$(measure "$np" "$c")
		fi
		echo "c=$c run $r: nginx $n   tlsoffload $t   (handshakes/s p50_ms p99_ms)"
		n_res+=("$n") t_res+=("$t")
	done
	rows+=("$(python3 - "$c" "$(printf '%s;' "${n_res[@]}")" "$(printf '%s;' "${t_res[@]}")" <<'PY'
import statistics, sys
def med(runs):
    cols = list(zip(*[[float(v) for v in r.split()] for r in runs.split(";") if r]))
    return [statistics.median(c) for c in cols]
n, t = med(sys.argv[2]), med(sys.argv[3])
print(f"| {sys.argv[1]} | {n[0]:.0f} | {t[0]:.0f} | **{t[0] / n[0]:.2f}** | "
      f"{n[1]:.2f} / {n[2]:.2f} | {t[1]:.2f} / {t[2]:.2f} |")
PY
)")
done
echo "| wrk -c | nginx hs/s | tlsoffload hs/s | ours/nginx | nginx p50 / p99 ms | tlsoffload p50 / p99 ms |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
