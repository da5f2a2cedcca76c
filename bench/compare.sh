#!/usr/bin/env bash
# nginx, HAProxy and tlsoffload at saturation, driven by tlsbench (issue 14).
#
#   bash bench/compare.sh [--quick] [--duration S] [--rounds N] [--conns C]
#        [--cases LIST] [--bin build/tlsoffload] [--tlsbench build/tlsbench]
#        [--h13load build/bench/h13load]
#        [--out DIR] [--results bench/RESULTS.md | --no-results]
#
# Each server has one worker pinned to core 1 (nginx: worker_processes 1,
# HAProxy: nbthread 1, tlsoffload: --cores 1), tlsbench runs on core 0
# with -c C connections in flight. Every server gets the same certificate
# files (scripts/gen-cert.sh: leaf + CA chain), the same suite and group,
# and resumption off for the full-handshake cases (on for the resumed
# ones). A round runs the servers in ABBA order (nginx, haproxy,
# tlsoffload, tlsoffload, haproxy, nginx) so a drift of the shared
# machine hits each equally; the medians over the rounds are reported,
# with the ratio to nginx:
#   - handshakes/s at saturation (tlsbench's count / elapsed);
#   - server CPU per handshake: utime + stime of the server's processes
#     (/proc/PID/stat) over the run / handshakes;
#   - client CPU per handshake (tlsbench's getrusage) and each server's
#     busy share of its core (server CPU per handshake x handshakes/s): a
#     server well below 100 % was waiting for the client, and the ratio of
#     that case is the client's, not the servers';
#   - the *-h13 cases: full TLS 1.3 driven by build/bench/h13load instead
#     (bench/h13load.c: our own minimal client, X25519, no certificate
#     check, about half of tlsbench's CPU per handshake), because one core
#     of tlsbench (libssl) cannot saturate one tlsoffload worker on ECDSA;
#   - latency p99 in open loop at 50 % and 90 % of each server's measured
#     capacity for the first case (coordinated omission excluded:
#     latency counts from each connection's scheduled start);
#   - tlsoffload's executor: crypto jobs per flush and, where the CPU has
#     AVX-512 IFMA, jobs per IFMA pass (SIGUSR1 counter line);
#   - the client's crypto on its core (`openssl speed`, same minute), and
#     (without --quick) a cross-check against wrk on nginx.
# Writes OUT/summary.md, OUT/runs.tsv, OUT/*.json, OUT/handshakes.png and
# OUT/latency_cdf.png; without --quick or --no-results the summary also
# replaces the "compare.sh" section of bench/RESULTS.md (plots copied to
# bench/plots/). Loopback only; installs what is missing with
# scripts/deps.sh bench (nginx, haproxy, gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/bench_lib.sh

quick=0 duration=5 rounds=2 conns=64 bin=build/tlsoffload tb=build/tlsbench h13=
out= results=bench/RESULTS.md cases=
all_cases="rsa2048-12 rsa2048-13 rsa3072-12 rsa4096-12 ecdsa-12 ecdsa-13 resume-id-12 resume-ticket-12 resume-psk-13 rsa2048-13-h13 ecdsa-13-h13"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--duration) duration=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--cases) cases=${2//,/ }; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--tlsbench) tb=$2; shift 2 ;;
	--h13load) h13=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--no-results) results=; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "compare.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done
if [ "$quick" = 1 ]; then
	duration=2 rounds=1 results=
	cases=${cases:-"rsa2048-12 ecdsa-13 resume-psk-13"}
fi
cases=${cases:-$all_cases}
out=${out:-build/compare-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(readlink -f "$out")

bash scripts/deps.sh bench
h13=${h13:-$(dirname "$tb")/bench/h13load}
for f in "$bin" "$tb" "$h13"; do
	[ -x "$f" ] || { echo "compare.sh: $f missing: build first (meson setup build && ninja -C build)" >&2; exit 1; }
done
bin=$(readlink -f "$bin") tb=$(readlink -f "$tb") h13=$(readlink -f "$h13")
ulimit -n "$(ulimit -Hn)"
maxfd=$(ulimit -n)
[ "$maxfd" = unlimited ] && maxfd=65536
open_conns=$((maxfd / 2 > 8000 ? 8000 : maxfd / 2)) # open loop: in flight at most

tmp=$(mktemp -d /tmp/tlso-compare.XXXXXX)
srv_pids=()
stop_servers() {
	local p
	for p in "${srv_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${srv_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	srv_pids=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT
bash scripts/gen-cert.sh "$tmp/certs" --rsa-bits 3072 4096 >/dev/null
ln -sf rsa.crt "$tmp/certs/rsa2048.crt"
ln -sf rsa.key "$tmp/certs/rsa2048.key"
for k in rsa2048 rsa3072 rsa4096 ecdsa; do # HAProxy wants the key in the same PEM
	cat "$tmp/certs/$k.crt" "$tmp/certs/$k.key" >"$tmp/certs/$k.pem"
done


# case NAME -> KEY TLS SUITE RESUME CLIENT (resume: none|id|ticket|psk;
# client: tlsbench|h13load)
case_def() {
	case $1 in
	*-h13) echo "$(case_def "${1%-h13}" | cut -d' ' -f1-4) h13load" ;;
	rsa2048-12) echo rsa2048 1.2 ECDHE-RSA-AES128-GCM-SHA256 none tlsbench ;;
	rsa2048-13) echo rsa2048 1.3 TLS_AES_128_GCM_SHA256 none tlsbench ;;
	rsa3072-12) echo rsa3072 1.2 ECDHE-RSA-AES128-GCM-SHA256 none tlsbench ;;
	rsa4096-12) echo rsa4096 1.2 ECDHE-RSA-AES128-GCM-SHA256 none tlsbench ;;
	ecdsa-12) echo ecdsa 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 none tlsbench ;;
	ecdsa-13) echo ecdsa 1.3 TLS_AES_128_GCM_SHA256 none tlsbench ;;
	resume-id-12) echo rsa2048 1.2 ECDHE-RSA-AES128-GCM-SHA256 id tlsbench ;;
	resume-ticket-12) echo rsa2048 1.2 ECDHE-RSA-AES128-GCM-SHA256 ticket tlsbench ;;
	resume-psk-13) echo rsa2048 1.3 TLS_AES_128_GCM_SHA256 psk tlsbench ;;
	*) echo "compare.sh: unknown case $1 (cases: $all_cases)" >&2; return 1 ;;
	esac
}
case_title() {
	case $1 in
	rsa2048-12) echo "full TLS 1.2 ECDHE-RSA-2048" ;;
	rsa2048-13) echo "full TLS 1.3 X25519 + RSA-PSS-2048" ;;
	rsa3072-12) echo "full TLS 1.2 ECDHE-RSA-3072" ;;
	rsa4096-12) echo "full TLS 1.2 ECDHE-RSA-4096" ;;
	ecdsa-12) echo "full TLS 1.2 ECDHE-ECDSA P-256" ;;
	ecdsa-13) echo "full TLS 1.3 X25519 + ECDSA P-256" ;;
	resume-id-12) echo "resumed TLS 1.2, session ID" ;;
	resume-ticket-12) echo "resumed TLS 1.2, ticket" ;;
	resume-psk-13) echo "resumed TLS 1.3, psk_dhe_ke" ;;
	*-h13) echo "$(case_title "${1%-h13}"), h13load" ;;
	*) echo "$1" ;;
	esac
}

# start_SERVER KEY TLS SUITE RESUMPTION(on|off): sets PORT and PIDS (the
# processes whose CPU counts), the server pinned to core 1.
start_nginx() {
	local key=$1 tls=$2 suite=$3 res=$4 d=$tmp/nginx tlsconf sess
	mkdir -p "$d/logs"
	PORT=$(port)
	if [ "$tls" = 1.2 ]; then
		tlsconf="ssl_protocols TLSv1.2; ssl_ciphers $suite;"
	else
		tlsconf="ssl_protocols TLSv1.3; ssl_conf_command Ciphersuites $suite;"
	fi
	if [ "$res" = on ]; then
		sess="ssl_session_cache shared:S:20m; ssl_session_tickets on;"
	else
		sess="ssl_session_cache off; ssl_session_tickets off;"
	fi
	cat >"$d/nginx.conf" <<-CONF
	worker_processes 1;
	daemon off;
	pid $d/nginx.pid;
	error_log $d/logs/error.log crit;
	events { worker_connections $((maxfd / 2)); }
	worker_rlimit_nofile $maxfd;
	http {
	    access_log off;
	    server {
	        listen 127.0.0.1:$PORT ssl backlog=4096;
	        ssl_certificate $tmp/certs/$key.crt;
	        ssl_certificate_key $tmp/certs/$key.key;
	        $tlsconf
	        ssl_ecdh_curve X25519:prime256v1;
	        $sess
	        location / { return 200 ""; }
	    }
	}
	CONF
	taskset -c 1 nginx -p "$d" -c "$d/nginx.conf" &
	srv_pids+=($!)
	wait_port "$PORT"
	for _ in $(seq 50); do pgrep -P $! >/dev/null && break; sleep 0.05; done
	PIDS="$! $(pgrep -P $!)"
}

start_haproxy() {
	local key=$1 tls=$2 suite=$3 res=$4 d=$tmp/haproxy ver cache tickets
	mkdir -p "$d"
	PORT=$(port)
	ver="ssl-min-ver TLSv$tls ssl-max-ver TLSv$tls"
	cache=0 tickets=no-tls-tickets
	if [ "$res" = on ]; then cache=20000 tickets=; fi
	cat >"$d/haproxy.cfg" <<-CONF
	global
	    nbthread 1
	    maxconn $((maxfd / 2 - 100))
	    tune.ssl.cachesize $cache
	defaults
	    mode http
	    timeout connect 5s
	    timeout client 30s
	    timeout server 30s
	frontend tls
	    bind 127.0.0.1:$PORT ssl crt $tmp/certs/$key.pem $ver ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256 $tickets
	    http-request return status 200 content-type text/plain string ok
	CONF
	taskset -c 1 haproxy -db -f "$d/haproxy.cfg" >"$d/log" 2>&1 &
	srv_pids+=($!)
	wait_port "$PORT"
	PIDS=$!
	: "$suite"
}

start_tlsoffload() {
	local key=$1 tls=$2 suite=$3 res=$4
	PORT=$(port)
	"$bin" --listen "127.0.0.1:$PORT" --cert "$tmp/certs/$key.crt" --key "$tmp/certs/$key.key" \
		--cores 1 --resumption "$res" --tls-min "$tls" --tls-max "$tls" --ciphers "$suite" \
		--response-size 0 --log-level info >"$tmp/tlsoffload.log" 2>&1 &
	srv_pids+=($!)
	wait_port "$PORT"
	PIDS=$!
}

hz=$(getconf CLK_TCK)

# executor counters of tlsoffload: "jobs flushes lane_jobs lane_passes" (a batch
# is one job on the OpenSSL backend: the fill is jobs per flush)
exec_counters() {
	local n
	n=$(grep -c 'crypto jobs' "$tmp/tlsoffload.log" || true)
	kill -USR1 "$1"
	for _ in $(seq 40); do
		[ "$(grep -c 'crypto jobs' "$tmp/tlsoffload.log" || true)" -gt "$n" ] && break
		sleep 0.05
	done
	grep 'crypto jobs' "$tmp/tlsoffload.log" | tail -1 |
		sed -E 's/.*crypto jobs ([0-9]+) in ([0-9]+) batches \(([0-9]+) jobs in ([0-9]+) IFMA passes.* in ([0-9]+) flushes.*/\1 \5 \3 \4/'
}

# one saturation run: server case round -> a line of runs.tsv
measure() {
	local server=$1 cas=$2 r=$3 key tls suite resume client res args t0 t1 e0 e1 json
	read -r key tls suite resume client < <(case_def "$cas")
	res=off
	[ "$resume" != none ] && res=on
	"start_$server" "$key" "$tls" "$suite" "$res"
	# P-256 too: in TLS 1.2 the client's groups also say which curves its
	# ECDSA peer may sign with (RFC 8422 5.1); X25519 first, so it is the
	# key exchange everywhere
	args=(-q --json --cores 0 -c "$conns" -d "$duration" --tls "$tls" --resume "$resume" --groups X25519:P-256)
	if [ "$tls" = 1.2 ]; then args+=(--ciphers "$suite"); else args+=(--ciphersuites "$suite"); fi
	json=$out/$cas.$server.$r.json
	[ "$server" = tlsoffload ] && e0=$(exec_counters $PIDS)
	# shellcheck disable=SC2086
	t0=$(ticks $PIDS)
	if [ "$client" = h13load ]; then
		# no warm-up: its window is the whole run, the same as the ticks'
		taskset -c 0 "$h13" --port "$PORT" --group x25519 --conns "$conns" --warmup 0 \
			--duration "$duration" >"$json.h13" || true
		python3 - "$json.h13" >"$json" <<-'PY'
		import json, sys
		d = json.load(open(sys.argv[1]))
		lat = {"p50": d["p50ms"] * 1e3, "p99": d["p99ms"] * 1e3}
		json.dump({"handshakes": d["handshakes"], "handshakes_per_s": d["hsPerSec"],
		           "client_cpu_us_per_handshake": d["clientUsPerHs"], "resumed_share": 0.0,
		           "errors": d["errors"] + d["wrongGroup"], "latency_us": {"handshake": lat}}, sys.stdout)
		PY
	else
		"$tb" "${args[@]}" "127.0.0.1:$PORT" >"$json" || true
	fi
	# shellcheck disable=SC2086
	t1=$(ticks $PIDS)
	e1="0 0 0 0"
	[ "$server" = tlsoffload ] && e1=$(exec_counters $PIDS)
	[ "$server" = tlsoffload ] || e0="0 0 0 0"
	stop_servers
	python3 - "$json" "$server" "$cas" "$r" "$((t1 - t0))" "$hz" "$e0" "$e1" >>"$out/runs.tsv" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	server, cas, r, ticks, hz = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
	e0, e1 = [int(x) for x in sys.argv[7].split()], [int(x) for x in sys.argv[8].split()]
	jobs, flushes, ljobs, passes = [b - a for a, b in zip(e0, e1)]
	hs = max(d["handshakes"], 1)
	h = d["latency_us"]["handshake"]
	print("\t".join(str(x) for x in (cas, server, r, round(d["handshakes_per_s"], 1),
	      round(ticks * 1e6 / hz / hs, 1), d["client_cpu_us_per_handshake"], h["p50"], h["p99"],
	      round(d["resumed_share"], 3), d["errors"], jobs, flushes, ljobs, passes)))
	PY
	tail -1 "$out/runs.tsv" | awk -F'\t' '{printf "  %-16s %-10s round %s: %8.1f handshakes/s, server %7.1f us, client %6.1f us, errors %s\n", $1, $2, $3, $4, $5, $6, $10}'
}

# open loop at a fixed rate for the latency CDF: server case rate label
open_loop() {
	local server=$1 cas=$2 rate=$3 label=$4 key tls suite resume args
	read -r key tls suite resume < <(case_def "$cas")
	"start_$server" "$key" "$tls" "$suite" off
	args=(-q --json --cores 0 -c "$open_conns" -d "$duration" --tls "$tls" --resume none --groups X25519:P-256
		--rate "$rate" --open-loop)
	if [ "$tls" = 1.2 ]; then args+=(--ciphers "$suite"); else args+=(--ciphersuites "$suite"); fi
	"$tb" "${args[@]}" "127.0.0.1:$PORT" >"$out/open.$server.$label.json" || true
	stop_servers
	python3 - "$out/open.$server.$label.json" "$server" "$label" "$rate" >>"$out/open.tsv" <<-'PY'
	import json, sys
	d = json.load(open(sys.argv[1]))
	h = d["latency_us"]["handshake"]
	print("\t".join(str(x) for x in (sys.argv[2], sys.argv[3], sys.argv[4], round(d["handshakes_per_s"], 1),
	      h["p50"], h["p90"], h["p99"], h["p99.9"], d["errors"], d["late_starts"])))
	PY
	tail -1 "$out/open.tsv" | awk -F'\t' '{printf "  open loop %-10s %s (%s/s): p50 %.2f ms, p99 %.2f ms, errors %s\n", $1, $2, $3, $5 / 1000, $7 / 1000, $9}'
}

# What the client's own crypto costs on its core, the same minute: one
# X25519 keygen + derive (two scalar multiplications) and one RSA-2048 or
# ECDSA P-256 verify per full handshake.
taskset -c 0 openssl speed -seconds 1 ecdhx25519 rsa2048 ecdsap256 2>/dev/null |
	awk '/^rsa 2048/ {print "rsa2048_verify_us", 1e6 / $NF} /X25519/ {print "x25519_op_us", 1e6 / $NF}
	     /256 bits ecdsa/ {print "p256_verify_us", 1e6 / $NF}' >"$out/speed.txt"

# tlsbench against wrk, the same server (nginx, full TLS 1.2 RSA-2048, a
# GET per connection with Connection: close), alternating: with the
# server saturated the two must agree. wrk -c 16 -t1 on core 0 like tlsbench.
wrk_check() {
	local r t0 t1 req hs
	start_nginx rsa2048 1.2 ECDHE-RSA-AES128-GCM-SHA256 off
	printf 'tool\tround\ths_per_s\tserver_us\n' >"$out/wrk.tsv"
	for r in $(seq "$rounds"); do
		# shellcheck disable=SC2086
		t0=$(ticks $PIDS)
		req=$(taskset -c 0 wrk -t1 -c16 -d"${duration}s" -H 'Connection: close' "https://127.0.0.1:$PORT/" |
			awk '/requests in/ {print $1}')
		# shellcheck disable=SC2086
		t1=$(ticks $PIDS)
		python3 -c "print('wrk\t$r\t%.1f\t%.1f' % ($req / $duration, ($t1 - $t0) * 1e6 / $hz / max($req, 1)))" >>"$out/wrk.tsv"
		# shellcheck disable=SC2086
		t0=$(ticks $PIDS)
		"$tb" -q --json --cores 0 -c 16 -d "$duration" --tls 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 \
			--request / "127.0.0.1:$PORT" >"$out/wrk.tlsbench.$r.json" || true
		# shellcheck disable=SC2086
		t1=$(ticks $PIDS)
		hs=$(python3 -c "import json; print(json.load(open('$out/wrk.tlsbench.$r.json'))['handshakes'])")
		python3 -c "print('tlsbench\t$r\t%.1f\t%.1f' % ($hs / $duration, ($t1 - $t0) * 1e6 / $hz / max($hs, 1)))" >>"$out/wrk.tsv"
		tail -2 "$out/wrk.tsv" | awk -F'\t' '{printf "  cross-check %-8s round %s: %8.1f handshakes/s, server %7.1f us\n", $1, $2, $3, $4}'
	done
	stop_servers
}

servers=(nginx haproxy tlsoffload)
printf 'case\tserver\tround\ths_per_s\tserver_us\tclient_us\tp50_us\tp99_us\tresumed\terrors\tjobs\tflushes\tlane_jobs\tlane_passes\n' >"$out/runs.tsv"
printf 'server\tload\trate\ths_per_s\tp50_us\tp90_us\tp99_us\tp999_us\terrors\tlate\n' >"$out/open.tsv"
echo "compare.sh: cases: $cases; $rounds ABBA round(s) of ${duration}s runs, -c $conns; results in $out" >&2
for cas in $cases; do
	case_def "$cas" >/dev/null
	echo "$(case_title "$cas"):"
	for r in $(seq "$rounds"); do
		for s in "${servers[@]}" $(printf '%s\n' "${servers[@]}" | tac); do
			measure "$s" "$cas" "$r"
		done
	done
done

[ "$quick" = 1 ] || wrk_check

# latency at 50 % and 90 % of each server's capacity in the first case
first=${cases%% *}
for s in "${servers[@]}"; do
	cap=$(awk -F'\t' -v c="$first" -v s="$s" '$1 == c && $2 == s {print $4}' "$out/runs.tsv" |
		sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
	for pct in 50 90; do
		open_loop "$s" "$first" "$(python3 -c "print(max(1, round($cap * $pct / 100)))")" "$pct"
	done
done

cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ifma=no
grep -q avx512ifma /proc/cpuinfo && ifma=yes
for c in $cases; do printf '%s\t%s\n' "$c" "$(case_title "$c")"; done >"$out/titles.tsv"
python3 - "$out" "$cpu" "$ifma" "$duration" "$rounds" "$conns" "$cases" <<'PY' >"$out/summary.md"
import csv, statistics, sys, datetime
out, cpu, ifma, duration, rounds, conns, cases = sys.argv[1:8]
titles = dict(l.rstrip("\n").split("\t") for l in open(f"{out}/titles.tsv"))  # case_title()
rows = list(csv.DictReader(open(f"{out}/runs.tsv"), delimiter="\t"))
med = lambda xs: statistics.median(xs) if xs else float("nan")
def pick(c, s, k):
    return [float(r[k]) for r in rows if r["case"] == c and r["server"] == s]
servers = ["nginx", "haproxy", "tlsoffload"]
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
print(f"Run {now} on {cpu} (AVX-512 IFMA: {ifma}), {rounds} ABBA round(s) of {duration} s per server and case, "
      f"the client with {conns} connections in flight on core 0 (tlsbench; h13load in the cases that say so), "
      f"each server one worker on core 1; medians. Busy: each server's CPU over the run, in % of its core "
      f"(nginx / HAProxy / tlsoffload); where a server is well below 100 % the client was the bottleneck, "
      f"and that case's rate ratio is the client's, not the servers' (the CPU ratio still holds).\n")
print("| case | nginx hs/s | HAProxy hs/s | tlsoffload hs/s | ours/nginx | nginx µs | HAProxy µs | tlsoffload µs | nginx µs/ours | busy % | client µs | resumed | errors |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for c in cases.split():
    hs = {s: med(pick(c, s, "hs_per_s")) for s in servers}
    us = {s: med(pick(c, s, "server_us")) for s in servers}
    cl = med([float(r["client_us"]) for r in rows if r["case"] == c])
    res = med([float(r["resumed"]) for r in rows if r["case"] == c])
    err = sum(int(r["errors"]) for r in rows if r["case"] == c)
    busy = " / ".join(f"{med([float(r['hs_per_s']) * float(r['server_us']) / 1e4 for r in rows if r['case'] == c and r['server'] == s]):.0f}"
                      for s in servers)
    print(f"| {titles[c]} | {hs['nginx']:,.0f} | {hs['haproxy']:,.0f} | {hs['tlsoffload']:,.0f} | "
          f"**{hs['tlsoffload'] / hs['nginx']:.2f}** | {us['nginx']:,.0f} | {us['haproxy']:,.0f} | "
          f"{us['tlsoffload']:,.0f} | **{us['nginx'] / us['tlsoffload']:.2f}** | {busy} | {cl:,.0f} | {res:.2f} | {err} |")
print()
fill = []
for c in cases.split():
    t = [r for r in rows if r["case"] == c and r["server"] == "tlsoffload"]
    jobs = sum(int(r["jobs"]) for r in t); flushes = sum(int(r["flushes"]) for r in t)
    lj = sum(int(r["lane_jobs"]) for r in t); lp = sum(int(r["lane_passes"]) for r in t)
    fill.append(f"{titles[c]}: {jobs / flushes if flushes else 0:.2f} jobs per flush"
                + (f", {lj / lp:.2f} jobs per IFMA pass ({lj} of {jobs} jobs on the lanes)" if lp else ", no IFMA pass"))
print("tlsoffload's executor at saturation (SIGUSR1 counters over the runs): " + "; ".join(fill) + ".\n")
speed = dict(l.split() for l in open(f"{out}/speed.txt") if l.strip())
if speed:
    x = float(speed.get("x25519_op_us", "nan")); rv = float(speed.get("rsa2048_verify_us", "nan"))
    ev = float(speed.get("p256_verify_us", "nan"))
    print(f"Client crypto on core 0, the same minute (`openssl speed`): X25519 {x:.1f} µs per scalar "
          f"multiplication, RSA-2048 verify {rv:.1f} µs, ECDSA P-256 verify {ev:.1f} µs: a full RSA-2048 "
          f"handshake needs {2 * x + rv:.0f} µs of client crypto, an ECDSA one {2 * x + ev:.0f} µs "
          f"(the client µs column above is the whole client process's cost, from getrusage: tlsbench, or h13load).\n")
import os
if os.path.exists(f"{out}/wrk.tsv"):
    w = list(csv.DictReader(open(f"{out}/wrk.tsv"), delimiter="\t"))
    wm = {t: (med([float(r["hs_per_s"]) for r in w if r["tool"] == t]),
              med([float(r["server_us"]) for r in w if r["tool"] == t])) for t in ("wrk", "tlsbench")}
    print(f"Cross-check against wrk (nginx, full TLS 1.2 RSA-2048, `wrk -t1 -c16 -H 'Connection: close'` vs "
          f"`tlsbench -c 16 --request /`, alternating, {len(w) // 2} rounds): wrk {wm['wrk'][0]:,.1f} handshakes/s, "
          f"server {wm['wrk'][1]:,.0f} µs each; tlsbench {wm['tlsbench'][0]:,.1f}/s, {wm['tlsbench'][1]:,.0f} µs; "
          f"ratio tlsbench/wrk {wm['tlsbench'][0] / wm['wrk'][0]:.2f} (rate), {wm['tlsbench'][1] / wm['wrk'][1]:.2f} (server CPU).\n")
opens = list(csv.DictReader(open(f"{out}/open.tsv"), delimiter="\t"))
if opens:
    print(f"Open loop ({titles[cases.split()[0]]}), latency from each connection's scheduled start:\n")
    print("| server | load | rate /s | achieved /s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o in opens:
        print(f"| {o['server']} | {o['load']} % | {float(o['rate']):,.0f} | {float(o['hs_per_s']):,.0f} | "
              f"{float(o['p50_us']) / 1e3:.2f} | {float(o['p90_us']) / 1e3:.2f} | {float(o['p99_us']) / 1e3:.2f} | "
              f"{float(o['p999_us']) / 1e3:.2f} | {o['errors']} |")
    print()
PY

# plots: handshakes/s per server per case, and the open-loop latency CDFs
python3 - "$out" "$cases" <<'PY'
import csv, json, statistics, sys, glob, os
out, cases = sys.argv[1], sys.argv[2].split()
rows = list(csv.DictReader(open(f"{out}/runs.tsv"), delimiter="\t"))
with open(f"{out}/handshakes.dat", "w") as f:
    f.write("# case nginx haproxy tlsoffload\n")
    for c in cases:
        v = [statistics.median([float(r["hs_per_s"]) for r in rows if r["case"] == c and r["server"] == s] or [0])
             for s in ("nginx", "haproxy", "tlsoffload")]
        f.write(f"{c} {v[0]:.1f} {v[1]:.1f} {v[2]:.1f}\n")
for p in sorted(glob.glob(f"{out}/open.*.json")):
    d = json.load(open(p))
    name = os.path.basename(p)[5:-5]
    with open(f"{out}/cdf.{name}.dat", "w") as f:
        for q, us in d["latency_us"]["handshake"]["cdf"]:
            f.write(f"{us / 1e3} {q * 100}\n")
PY
cdfs=()
for f in "$out"/cdf.*.dat; do
	[ -e "$f" ] || continue
	n=$(basename "$f" .dat)
	cdfs+=("'$f' using 1:2 with lines lw 2 title '${n#cdf.} %'")
done
{
	echo "set terminal pngcairo size 1000,500 noenhanced"
	echo "set output '$out/handshakes.png'"
	echo "set title 'Handshakes per second at saturation (one server worker, medians)'"
	echo "set style data histograms; set style histogram cluster gap 1; set style fill solid 0.8 border -1"
	echo "set ylabel 'handshakes/s'; set xtics rotate by -25; set grid ytics; set key top right"
	echo "plot '$out/handshakes.dat' using 2:xtic(1) title 'nginx', '' using 3 title 'HAProxy', '' using 4 title 'tlsoffload'"
	if [ ${#cdfs[@]} -gt 0 ]; then
		echo "set output '$out/latency_cdf.png'"
		echo "set title 'Handshake latency CDF, open loop at 50 % and 90 % of each server''s capacity'"
		echo "set style data lines; set logscale x; set xlabel 'latency (ms, from the scheduled start)'"
		echo "set ylabel 'percentile'; set yrange [0:100]; set xtics norotate; set key bottom right"
		(IFS=,; echo "plot ${cdfs[*]}")
	fi
} | gnuplot

cat "$out/summary.md"
if [ -n "$results" ]; then
	mkdir -p bench/plots
	cp "$out/handshakes.png" "$out/latency_cdf.png" bench/plots/ 2>/dev/null || true
	python3 - "$results" "$out/summary.md" "$*" <<'PY'
import sys
path, summary = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- compare.sh: begin -->", "<!-- compare.sh: end -->"
section = (f"{begin}\n## nginx, HAProxy and tlsoffload at saturation (issue 14, `bench/compare.sh`)\n\n"
           f"`bash bench/compare.sh` (written by the script; plots: `bench/plots/handshakes.png`, "
           f"`bench/plots/latency_cdf.png`).\n\n{summary}{end}\n")
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Benchmark results\n"
if begin in text and end in text:
    text = text[:text.index(begin)] + section + text[text.index(end) + len(end) + 1:]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
	echo "compare.sh: updated $results and bench/plots/" >&2
fi
