#!/usr/bin/env bash
# tlsbench (build/tlsbench) against openssl s_server -www and against
# build/tlsoffload: short runs by connection count, checked through the
# JSON summary: exact counts, no errors, the resumed share asked for, the
# protocol asked for, the key pin, chain verification, HTTP requests, the
# open-loop schedule, and errors counted by kind when the server is gone.
cd "$(dirname "$0")/../.."
source tests/integration/lib.sh
TB=$(dirname "$BIN")/tlsbench
[ -x "$TB" ] || { echo "FAIL no $TB"; exit 1; }
SS_PID=
stop_ss() { stop_pid "$SS_PID"; SS_PID=; }
trap 'stop_ss; cleanup' EXIT

# ss_start CERT KEY: openssl s_server -www on 127.0.0.1:$SS_PORT
ss_start() {
	SS_PORT=$(free_port)
	openssl s_server -accept "127.0.0.1:$SS_PORT" -cert "$1" -key "$2" -www -quiet \
		>"$TMP/s_server.log" 2>&1 &
	SS_PID=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$SS_PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run NAME ARGS...: tlsbench --json -q ARGS into $TMP/NAME.json (its exit
# status is ignored: the checks read the summary)
run() {
	local name=$1
	shift
	timeout 120 "$TB" --json -q "$@" >"$TMP/$name.json" 2>"$TMP/$name.err" || true
}

# holds NAME EXPR: the Python expression EXPR over the summary d is true.
holds() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("not true:", sys.argv[2])
    print(json.dumps(d, indent=1))
sys.exit(0 if ok else 1)' "$TMP/$1.json" "$2" || { cat "$TMP/$1.err"; return 1; }
}

exact() { # NAME N: N handshakes of N connections, no error
	holds "$1" "d['started'] == $2 and d['handshakes'] == $2 and d['errors'] == 0 and d['errors_by_kind'] == {}"
}

lat_sane() { # NAME: percentiles ordered, within min..max
	holds "$1" "(lambda h: 0 < h['min'] <= h['p50'] <= h['p90'] <= h['p99'] <= h['p99.9'] <= h['max'] and h['count'] == d['handshakes'])(d['latency_us']['handshake'])"
}

share() { # NAME LO HI: resumed share in [LO, HI], every offer accepted
	holds "$1" "$2 <= d['resumed_share'] <= $3 and d['resume_refused'] == 0 and d['resumed'] == d['resume_offered']"
}

exact_share() { exact "$1" "$2" && share "$1" "$3" "$4"; }

pin_of() { # CERT: sha256 of the DER SubjectPublicKeyInfo, hex
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1
}

ss_start "$CERTS/rsa.crt" "$CERTS/rsa.key" || { echo "FAIL s_server did not start"; exit 1; }
T=127.0.0.1:$SS_PORT

run full13 -n 200 -c 8 --tls 1.3 "$T"
check "s_server: 200 full TLS 1.3 handshakes, exact, no errors" exact full13 200
check "s_server: all TLS 1.3, none resumed" holds full13 "d['tls13'] == 200 and d['resumed'] == 0"
check "s_server: latency percentiles ordered" lat_sane full13
check "s_server: client CPU per handshake reported" holds full13 "d['client_cpu_us_per_handshake'] > 0"

run full12 -n 150 -c 4 -t 2 --tls 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$T"
check "s_server: TLS 1.2 suite as asked, 2 threads, exact" holds full12 \
	"d['handshakes'] == 150 and d['errors'] == 0 and d['tls12'] == 150 and d['cipher'] == 'ECDHE-RSA-AES128-GCM-SHA256' and d['threads'] == 2"

for r in id ticket psk; do
	run "res_$r" -n 200 -c 8 --resume "$r" --resume-ratio 0.5 "$T"
	check "s_server: --resume $r --resume-ratio 0.5: exact, ~50 % resumed" exact "res_$r" 200
	check "s_server: --resume $r: share 0.45-0.55" share "res_$r" 0.45 0.55
done
check "s_server: --resume psk is TLS 1.3" holds res_psk "d['tls13'] == 200"
check "s_server: --resume id is TLS 1.2" holds res_id "d['tls12'] == 200"
run res_all -n 100 -c 4 --resume ticket "$T"
check "s_server: --resume ticket (ratio 1): all but the first resumed" holds res_all "d['resumed'] == 99"

run pin -n 50 -c 4 --pin "$(pin_of "$CERTS/rsa.crt")" "$T"
check "s_server: --pin of the server's key: no errors" exact pin 50
run badpin -n 20 -c 4 --pin "$(pin_of "$CERTS/ecdsa.crt")" "$T"
check "s_server: --pin of another key: every connection an error of kind pin" \
	holds badpin "d['handshakes'] == 0 and d['errors_by_kind'] == {'pin': 20}"
run verify -n 30 -c 4 --verify "$CERTS/ca.crt" --sni localhost "$T"
check "s_server: --verify with the CA and --sni localhost: no errors" exact verify 30
run badverify -n 10 -c 2 --verify "$CERTS/ca.crt" --sni example.com "$T"
check "s_server: --verify for another name: tls errors" \
	holds badverify "d['handshakes'] == 0 and d['errors'] == 10 and 'tls' in d['errors_by_kind']"

run req -n 60 -c 4 --request / "$T"
check "s_server: --request /: every response read" \
	holds req "d['handshakes'] == 60 and d['errors'] == 0 and d['latency_us']['request']['count'] == 60"

run open -d 1.5 --rate 40 --open-loop -c 16 "$T"
check "s_server: --open-loop --rate 40 for 1.5 s: 60 scheduled starts, no errors" \
	holds open "d['mode'] == 'open-loop' and d['started'] == 60 and d['errors'] == 0"

run dur -d 1 -c 4 "$T"
check "s_server: -d 1 stops after about a second" holds dur "0.9 < d['elapsed_s'] < 3 and d['handshakes'] > 0"

# The deep malloc cache (tlsbench.c, deep_malloc_cache): tlsbench runs with
# glibc.malloc.tcache_count=2000 (it starts itself again, same PID); a
# depth the caller set is kept, and so are the caller's other tunables.
# (Read from /proc/PID/environ while it runs.)
tunables_of() { # [VAR=VALUE]: GLIBC_TUNABLES of a running tlsbench
	env "$@" "$TB" -q -d 4 -c 2 "$T" >/dev/null 2>&1 &
	local pid=$! v= w i
	for i in $(seq 30); do
		sleep 0.1
		# glibc splits the variable at its colons in place once it has
		# read it: its pieces follow as entries of their own
		w=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
			sed -n 's/^GLIBC_TUNABLES=//p; t; /^glibc\./p' | paste -sd:)
		[ -n "$w" ] && v=$w
		[[ $v == *tcache_count=2000 ]] && break
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	echo "$v"
}
same() { [ "$1" = "$2" ] || { echo "got '$1', want '$2'"; return 1; }; }
check "tlsbench runs with glibc.malloc.tcache_count=2000" same "$(tunables_of)" glibc.malloc.tcache_count=2000
check "a tcache_count the caller set is kept" \
	same "$(tunables_of GLIBC_TUNABLES=glibc.malloc.tcache_count=7)" glibc.malloc.tcache_count=7
check "the caller's other tunables are kept" \
	same "$(tunables_of GLIBC_TUNABLES=glibc.malloc.mxfast=64)" glibc.malloc.mxfast=64:glibc.malloc.tcache_count=2000
stop_ss

run gone -n 10 -c 2 "$T"
check "no server: 10 connect errors" holds gone "d['handshakes'] == 0 and d['errors_by_kind'] == {'connect': 10}"
check "no server: exit status 3" bash -c "'$TB' -q -n 2 '$T' >/dev/null 2>&1; [ \$? -eq 3 ]"

# client_floor: tlsbench's client context over a BIO pair (no kernel)
# against the crypto as libssl calls it; every figure positive, and the
# handshake costs more than its crypto.
floor_sane() {
	"$(dirname "$TB")/bench/client_floor" "$CERTS/rsa.crt" "$CERTS/rsa.key" 20 | python3 -c '
import re, sys
t = sys.stdin.read()
print(t, end="")
hs = re.search(r"TLS 1.2 ([0-9.]+) us, TLS 1.3 ([0-9.]+) us", t)
cr = re.search(r"keygen ([0-9.]+) us, derive ([0-9.]+) us, RSA-PSS verify ([0-9.]+) us = ([0-9.]+) us", t)
ok = hs and cr and all(float(x) > 0 for x in hs.groups() + cr.groups())
ok = ok and min(map(float, hs.groups())) > float(cr.group(4)) and "2 certificate(s)" in t
sys.exit(0 if ok else 1)'
}
check "client_floor: client CPU in memory and its crypto, sane" floor_sane

# tlsoffload itself (resumption on: session IDs, tickets, PSK)
start_server --workers 1 || { echo "FAIL tlsoffload did not start"; exit 1; }
T=127.0.0.1:$PORT
run ours12 -n 200 -c 8 --tls 1.2 "$T"
check "tlsoffload: 200 full TLS 1.2 handshakes, exact" exact ours12 200
run ours13 -n 200 -c 8 --tls 1.3 --request / "$T"
check "tlsoffload: 200 TLS 1.3 handshakes with a request, exact" exact ours13 200
for r in id ticket psk; do
	run "ours_$r" -n 200 -c 8 --resume "$r" --resume-ratio 0.5 "$T"
	check "tlsoffload: --resume $r --resume-ratio 0.5: exact, share 0.45-0.55" \
		exact_share "ours_$r" 200 0.45 0.55
done
run ours_p256 -n 50 -c 4 --tls 1.3 --groups P-256 --ciphersuites TLS_AES_128_GCM_SHA256 "$T"
check "tlsoffload: --groups P-256 --ciphersuites: as asked" holds ours_p256 \
	"d['handshakes'] == 50 and d['group'] == 'secp256r1' and d['cipher'] == 'TLS_AES_128_GCM_SHA256'"
finish
