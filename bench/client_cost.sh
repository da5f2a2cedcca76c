#!/usr/bin/env bash
# tlsbench's own CPU per full handshake against the server's (issue 14):
# is one client core enough to saturate one server worker?
#
#   bash bench/client_cost.sh [--rounds N] [--duration S] [--conns C]
#        [--key rsa|ecdsa] [--bin build/tlsoffload]
#        [--variant 'NAME=PATH [tlsbench options]']...
#
# tlsoffload: one worker on core 1 (--cores 1), resumption off; tlsbench
# on core 0, full handshakes, X25519, TLS 1.2 (ECDHE-<key>-AES128-GCM-SHA256)
# and TLS 1.3 (TLS_AES_128_GCM_SHA256; RSA-PSS with an RSA key). Each run
# starts a fresh server; server CPU = its utime + stime over the run
# (/proc) / handshakes, client CPU = tlsbench's getrusage / handshakes.
# With two or more --variant (default: one, build/tlsbench), each round
# runs them forward then backward (ABBA), so a drift of a shared machine
# hits all alike; the table gives medians. `openssl speed` on core 0 after
# the runs gives the client's crypto (two X25519 operations and one
# RSA/ECDSA verify per full handshake) for the "x crypto" column.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/bench_lib.sh

rounds=3 duration=4 conns=32 key=rsa bin=build/tlsoffload variants=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--key) key=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--variant) variants+=("$2"); shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "client_cost.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
[ ${#variants[@]} -gt 0 ] || variants=("tlsbench=build/tlsbench")
[ -x "$bin" ] || { echo "client_cost.sh: $bin missing: build first" >&2; exit 1; }
case $key in
rsa) suite12=ECDHE-RSA-AES128-GCM-SHA256 verify=rsa2048 ;;
ecdsa) suite12=ECDHE-ECDSA-AES128-GCM-SHA256 verify=ecdsap256 ;;
*) echo "client_cost.sh: --key rsa|ecdsa" >&2; exit 2 ;;
esac
bin=$(readlink -f "$bin")
bench_setup cost

# run VARIANT-INDEX TLS ROUND
run() {
	local name=${variants[$1]%%=*} cmd=${variants[$1]#*=} tls=$2 r=$3 t0 t1 suite
	local -a tb
	read -r -a tb <<<"$cmd"
	if [ "$tls" = 1.2 ]; then suite=(--ciphers "$suite12"); else suite=(--ciphersuites TLS_AES_128_GCM_SHA256); fi
	one_worker "$bin" "$key"
	t0=$(ticks "$SRV")
	"${tb[0]}" -q --json --cores 0 --tls "$tls" "${suite[@]}" --groups X25519 -d "$duration" -c "$conns" \
		"${tb[@]:1}" "127.0.0.1:$PORT" >"$tmp/run.json" || true
	t1=$(ticks "$SRV")
	stop_worker
	python3 - "$tmp/run.json" "$name" "$tls" "$r" "$((t1 - t0))" "$hz" >>"$out" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	hs = max(d["handshakes"], 1)
	print("\t".join(str(x) for x in (sys.argv[2], sys.argv[3], sys.argv[4], round(d["handshakes_per_s"], 1),
	      round(int(sys.argv[5]) * 1e6 / int(sys.argv[6]) / hs, 1), d["client_cpu_us_per_handshake"], d["errors"])))
	PY
	tail -1 "$out" | awk -F'\t' '{printf "  %-14s TLS %s round %s: %8.1f hs/s, server %7.1f us/hs, client %7.1f us/hs, errors %s\n", $1, $2, $3, $4, $5, $6, $7}'
}

echo "tlsoffload --cores 1 vs tlsbench --cores 0, key $key, -c $conns -d $duration, $(date -u '+%F %H:%M UTC')"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), uptime:$(uptime)"
n=${#variants[@]}
for r in $(seq "$rounds"); do
	order=$(seq 0 $((n - 1)))
	[ "$n" -gt 1 ] && order="$order $(seq $((n - 1)) -1 0)"
	for v in $order; do
		for tls in 1.2 1.3; do run "$v" "$tls" "$r"; done
	done
done
taskset -c 0 openssl speed -seconds 2 -mr ecdhx25519 "$verify" 2>/dev/null >"$tmp/speed.txt" || true
echo "uptime after:$(uptime)"
python3 - "$out" "$tmp/speed.txt" "$key" "${variants[@]}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
x25519 = verify = None
for l in open(sys.argv[2]):
    f = l.strip().split(":")
    if f[0] == "+F5" and f[2] == "253":           # ECDH X25519: ops/s
        x25519 = 1e6 / float(f[3])
    elif f[0] == "+F2" and sys.argv[3] == "rsa":  # RSA: sign/s, verify/s
        verify = 1e6 / float(f[4])
    elif f[0] == "+F4" and sys.argv[3] == "ecdsa":  # ECDSA: sign/s, verify/s
        verify = 1e6 / float(f[4])
crypto = 2 * x25519 + verify if x25519 and verify else 0
print()
if crypto:
    print("openssl speed on core 0: X25519 %.1f us, %s verify %.1f us: client crypto %.1f us per full handshake"
          % (x25519, sys.argv[3].upper(), verify, crypto))
print()
print("| tlsbench | TLS | handshakes/s | server µs/handshake | client µs/handshake | server / client | client / crypto |")
print("|---|---|---|---|---|---|---|")
for v in sys.argv[4:]:
    name = v.split("=", 1)[0]
    for tls in ("1.2", "1.3"):
        sel = [r for r in rows if r[0] == name and r[1] == tls]
        if not sel:
            continue
        med = lambda i: statistics.median(float(r[i]) for r in sel)
        ratio = statistics.median(float(r[4]) / float(r[5]) for r in sel if float(r[5]) > 0)
        print("| %s | %s | %.0f | %.0f | %.0f | **%.2f** | %s |" % (name, tls, med(3), med(4), med(5), ratio,
              "%.2f" % (med(5) / crypto) if crypto else "-"))
PY
