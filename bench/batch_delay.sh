#!/usr/bin/env bash
# The bounded flush delay (issue 14): one tlsoffload worker with and
# without --batch-delay-us, at saturation and at a light load.
#
#   bash bench/batch_delay.sh [--delay US] [--min K] [--duration S] [--rounds N]
#        [--conns C] [--light-frac F] [--tls 1.2|1.3] [--key rsa|ecdsa]
#        [--bin build/tlsoffload] [--tlsbench build/tlsbench]
#
# tlsoffload: one worker on core 1 (--cores 1), resumption off, one suite
# with X25519; tlsbench on core 0. Each run starts a fresh server (its
# executor counters from zero). Rounds alternate the two settings (ABBA:
# off, on, on, off) so a drift of the shared machine hits both alike;
# medians over the rounds:
#   - saturation: closed loop, -c C connections in flight;
#   - light: open loop (latency from each connection's scheduled start, so
#     no coordinated omission) at F times the median saturation rate
#     measured without the delay;
# per run: handshakes/s, p50/p99 handshake latency, server CPU per
# handshake (utime + stime of the server process), and the executor's
# fill: crypto jobs per flush and the share of flushes that waited out
# the delay (SIGUSR1 counter line).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/bench_lib.sh

delay=200 min=8 duration=4 rounds=3 conns=64 frac=0.3 tls=1.2 key=rsa
bin=build/tlsoffload tb=build/tlsbench
while [ $# -gt 0 ]; do
	case $1 in
	--delay) delay=$2; shift 2 ;;
	--min) min=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--light-frac) frac=$2; shift 2 ;;
	--tls) tls=$2; shift 2 ;;
	--key) key=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--tlsbench) tb=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "batch_delay.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
for f in "$bin" "$tb"; do
	[ -x "$f" ] || { echo "batch_delay.sh: $f missing: build first" >&2; exit 1; }
done
bin=$(readlink -f "$bin") tb=$(readlink -f "$tb")
case $key/$tls in
rsa/1.2) suite=(--ciphers ECDHE-RSA-AES128-GCM-SHA256) ;;
ecdsa/1.2) suite=(--ciphers ECDHE-ECDSA-AES128-GCM-SHA256) ;;
*/1.3) suite=(--ciphersuites TLS_AES_128_GCM_SHA256) ;;
*) echo "batch_delay.sh: --key rsa|ecdsa, --tls 1.2|1.3" >&2; exit 2 ;;
esac
bench_setup batch

# run LOAD SETTING ROUND TBARGS...: one run on a fresh server -> a line of runs.tsv
run() {
	local load=$1 setting=$2 r=$3 t0 t1 n hold=()
	shift 3
	[ "$setting" = on ] && hold=(--batch-delay-us "$delay" --batch-min "$min")
	one_worker "$bin" "$key" "${hold[@]}"
	t0=$(ticks "$SRV")
	"$tb" -q --json --cores 0 --tls "$tls" "${suite[@]}" --groups X25519 -d "$duration" "$@" \
		"127.0.0.1:$PORT" >"$tmp/run.json" || true
	t1=$(ticks "$SRV")
	kill -USR1 "$SRV"
	for n in $(seq 40); do grep -q 'crypto jobs' "$tmp/srv.log" && break; sleep 0.05; done
	stop_worker
	python3 - "$tmp/run.json" "$tmp/srv.log" "$load" "$setting" "$r" "$((t1 - t0))" "$hz" >>"$out" <<-'PY'
	import json, re, sys
	d = json.load(open(sys.argv[1]))
	m = re.findall(r"crypto jobs (\d+) in \d+ batches .* in (\d+) flushes \((\d+) held", open(sys.argv[2]).read())
	jobs, flushes, held = map(int, m[-1]) if m else (0, 0, 0)
	hs = max(d["handshakes"], 1)
	h = d["latency_us"]["handshake"]
	print("\t".join(str(x) for x in (sys.argv[3], sys.argv[4], sys.argv[5], round(d["handshakes_per_s"], 1),
	      h["p50"], h["p99"], round(int(sys.argv[6]) * 1e6 / int(sys.argv[7]) / hs, 1),
	      round(jobs / flushes, 2) if flushes else 0, round(held / flushes, 3) if flushes else 0,
	      d["errors"])))
	PY
	tail -1 "$out" | awk -F'\t' '{printf "  %-10s delay %-3s round %s: %8.1f hs/s, p50 %7d us, p99 %7d us, server %7.1f us/hs, %5.2f jobs/flush, %4.1f %% held to the deadline, errors %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 * 100, $10}'
}

echo "tlsoffload $(basename "$bin"), key $key, TLS $tls, --batch-delay-us $delay --batch-min $min, $(date -u '+%F %H:%M UTC')"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	for s in off on on off; do run saturation "$s" "$r" -c "$conns"; done
done
cap=$(awk -F'\t' '$1 == "saturation" && $2 == "off" {print $4}' "$out" | sort -n |
	awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
rate=$(python3 -c "print(max(1, int($cap * $frac)))")
echo "light load: open loop at $rate connections/s ($frac of the median $cap/s without the delay)"
for r in $(seq "$rounds"); do
	for s in off on on off; do run light "$s" "$r" -c 4096 --rate "$rate" --open-loop; done
done
python3 - "$out" "$delay" "$min" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
med = lambda load, s, i: statistics.median(float(r[i]) for r in rows if r[0] == load and r[1] == s)
print()
print("| load | delay | handshakes/s | p50 ms | p99 ms | server µs/handshake | jobs per flush | flushes held to the deadline |")
print("|---|---|---|---|---|---|---|---|")
for load in ("saturation", "light"):
    for s in ("off", "on"):
        print("| %s | %s | %.1f | %.2f | %.2f | %.1f | %.2f | %.0f %% |" % (
            load, "off" if s == "off" else "%s µs / %s" % (sys.argv[2], sys.argv[3]), med(load, s, 3),
            med(load, s, 4) / 1000, med(load, s, 5) / 1000, med(load, s, 6), med(load, s, 7), med(load, s, 8) * 100))
    ratio = lambda i: med(load, "on", i) / med(load, "off", i) if med(load, "off", i) else float("nan")
    print("| %s | on/off | **%.2f** | %.2f | **%.2f** | %.2f | %.2f | |" % (
        load, ratio(3), ratio(4), ratio(5), ratio(6), ratio(7)))
PY
