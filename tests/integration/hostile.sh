#!/usr/bin/env bash
# Hostile clients (issue 16), each case with its figure: slowloris and a
# garbage flood while legitimate handshakes keep >= 80 % of their unloaded
# rate (measured in the same run with the same client); renegotiation and
# KeyUpdate floods cut off with a fatal alert; 100,000 handshakes aborted
# at every stage leave the server's memory and connection counters where
# they were; connections beyond --max-conns / --max-handshakes are reset
# and counted while those within complete. build/tests/hostile_client is
# the attacker, tests/integration/tls_load.py the legitimate client.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

HC=$(dirname "$BIN")/tests/hostile_client
[ -x "$HC" ] || { echo "FAIL hostile_client not built ($HC)"; exit 1; }

# rate: full TLS 1.3 handshakes per second of the legitimate client
# (Python's ssl, 4 at a time, resumption off on the server).
rate() {
	local out
	out=$(timeout 60 python3 tests/integration/tls_load.py 127.0.0.1 "$PORT" 300 4 --tls 1.3 --timeout 10 \
		--deadline 50 2>&1) || { echo "$out" >&2; echo 0; return; }
	echo "$out" | awk '/handshakes ok/ { for (i = 1; i <= NF; i++) if ($i == "in") { printf "%.0f\n", $1 / $(i + 1); exit } }'
}

# stats: the server's per-worker limits lines (one per worker), fresh
# from SIGUSR1.
stats() {
	local before
	before=$(wc -l <"$TMP/server.log")
	kill -USR1 "$SRV_PID"
	for _ in $(seq 50); do
		tail -n +$((before + 1)) "$TMP/server.log" | grep -q 'live connections' && break
		sleep 0.05
	done
	sleep 0.1
	tail -n +$((before + 1)) "$TMP/server.log" | grep 'live connections'
}

# stats_has PATTERN: print the stats lines; one matches PATTERN
stats_has() {
	local lines
	lines=$(stats)
	echo "$lines"
	echo "$lines" | grep -q -- "$1"
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SRV_PID/status"; }
# heap: bytes malloc has handed out (the SIGUSR1 "process:" line)
heap() {
	kill -USR1 "$SRV_PID"
	sleep 0.3
	sed -n 's/.*process: heap in use \([0-9]*\) bytes.*/\1/p' "$TMP/server.log" | tail -1
}

# under_load NAME CMD...: the legitimate rate unloaded, then with CMD
# running in the background; passes at >= 80 %. The machine is shared:
# one more pair of measurements when the first falls short.
under_load() {
	local name=$1 base loaded pct attack
	shift
	for try in 1 2; do
		base=$(rate)
		"$@" >"$TMP/attack.out" 2>&1 &
		attack=$!
		sleep 3 # the attack is in place
		loaded=$(rate)
		echo "  $name: server during the attack: $(stats | head -1)"
		wait "$attack"
		pct=$((base > 0 ? 100 * loaded / base : 0))
		echo "  $name: legitimate handshakes unloaded $base/s, under attack $loaded/s ($pct %); $(cat "$TMP/attack.out")"
		[ "$pct" -ge 80 ] && return 0
		[ "$try" = 1 ] && echo "  (below 80 %: measuring once more)"
	done
	return 1
}

# ---- slowloris: 500 connections, a byte per second ----
start_server --resumption off --handshake-timeout 5s
slowloris() {
	under_load slowloris "$HC" slowloris 127.0.0.1 "$PORT" 500 14 || return 1
	# the slow ones were closed by the handshake timeout (5 s): each of
	# the 500 at least once
	[ "$(sed -n 's/.* \([0-9]*\) closed by the server.*/\1/p' "$TMP/attack.out" | tail -1)" -ge 500 ]
}
check "slowloris: 500 connections at 1 byte/s, legitimate rate >= 80 %" slowloris
sed -n 's/^  /     /p' "$TMP/case.log" | head -6

# ---- garbage records and malformed ClientHellos ----
garbage() {
	under_load garbage "$HC" garbage 127.0.0.1 "$PORT" 1000000 4 8 || return 1
	# every connection got its close, most an alert (a plaintext one)
	grep -Eq ', [1-9][0-9]* got a fatal alert' "$TMP/attack.out" &&
		grep -q ', 0 left waiting' "$TMP/attack.out"
}
check "garbage flood: alerts and closes, legitimate rate >= 80 %" garbage
sed -n 's/^  /     /p' "$TMP/case.log" | head -4

# ---- renegotiation and KeyUpdate floods ----
# flood MODE K PATTERN: hostile_client MODE with K messages; its line
# must match PATTERN.
flood() {
	local out
	out=$("$HC" "$1" 127.0.0.1 "$PORT" "$2") || return 1
	echo "$out"
	echo "$out" | grep -q -- "$3"
}
reneg() {
	# three refusals, then unexpected_message (10), counted; three are fine
	flood reneg 10 '3 no_renegotiation warnings, fatal alert 10,' &&
		flood reneg 3 'fatal alert -1, request answered yes' &&
		stats_has 'renegotiations 1 ' &&
		expect 'HTTP/1.1 200 OK' s_client -tls1_2
}
start_server --resumption off
check "renegotiation flood: 3 refused, then a fatal alert; the server still answers" reneg
sed 's/^/     /' "$TMP/case.log" | grep -E 'reneg:|live' | head -3

keyupdate() {
	flood keyupdate 40 'fatal alert 10, request answered no' &&
		flood keyupdate 32 'fatal alert -1, request answered yes' &&
		stats_has 'key updates 1$' &&
		expect 'HTTP/1.1 200 OK' s_client -tls1_3
}
check "KeyUpdate flood: 32 taken, the 33rd gets a fatal alert; the server still answers" keyupdate
sed 's/^/     /' "$TMP/case.log" | grep -E 'keyupdate:|live' | head -3

# ---- 100,000 aborted handshakes: memory and counters back ----
aborted() {
	local rss0 rss1 heap0 heap1 t0 t1 line
	# warm-up: every pooled connection object used at once (they keep
	# their pages), then a round of the same mix
	"$HC" burst 127.0.0.1 "$PORT" 800 || return 1
	"$HC" abort 127.0.0.1 "$PORT" 20000 16 || return 1
	sleep 0.5
	rss0=$(rss_kb)
	heap0=$(heap)
	stats # pooled objects: reused connection objects (at most 256 a worker)
	t0=$(date +%s.%N)
	timeout 120 "$HC" abort 127.0.0.1 "$PORT" 100000 16 || return 1
	t1=$(date +%s.%N)
	sleep 0.5 # the server sees the last closes
	rss1=$(rss_kb)
	heap1=$(heap)
	line=$(stats)
	echo "$line"
	echo "RSS after the warm-up round $rss0 kB, after 100,000 more $rss1 kB ($((rss1 - rss0)) kB);" \
		"heap in use $heap0 -> $heap1 bytes ($((heap1 - heap0))); $(echo "$t1 - $t0" | bc) s"
	[ "$(echo "$line" | grep -c 'live connections 0 handshaking 0 crypto pending 0 ')" = 2 ] || return 1
	# The heap in use within 1 MiB (a leak of 11 bytes per connection
	# would show). The RSS within 6 MiB: it also moves with how many
	# pages of the 512 pooled connection objects (52 KiB each) the last
	# connections touched, +-3 MB between rounds on the 2-core VM.
	[ $((heap1 - heap0)) -le 1048576 ] && [ $((rss1 - rss0)) -le 6144 ] || return 1
	[ "$(echo "$t1 - $t0 < 60" | bc)" = 1 ]
}
start_server --resumption off --workers 2
check "100,000 aborted handshakes: RSS, heap and live counters back, in under a minute" aborted
sed -n 's/^/     /p' "$TMP/case.log" | grep -Ev '^     $' | head -8

# ---- idle timeout: an established connection that goes quiet ----
idle() {
	timeout 30 python3 - "$PORT" <<'PY'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)) as s:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # keep-alive
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    t0 = time.monotonic()
    try:
        end = s.recv(1)  # close_notify: b""
    except ssl.SSLZeroReturnError:
        end = b""
    took = time.monotonic() - t0
print("idle connection closed by the server after %.1f s (--idle-timeout 1s), %r" % (took, end))
sys.exit(0 if end == b"" and 0.9 <= took <= 2.5 else 1)
PY
}
start_server --idle-timeout 1s
check "idle timeout: a quiet established connection gets close_notify" idle
sed -n 's/^/     /p' "$TMP/case.log" | head -1

# ---- connection limits ----
# hold N raw connections, then M more must be reset; then the N complete
# their handshakes (and, with a handshake limit, one more fits afterwards).
limits() { # N M AFTER
	timeout 60 python3 - "$PORT" "$1" "$2" "$3" <<'PY'
import socket, ssl, sys, time
port, n, m, after = (int(a) for a in sys.argv[1:5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
time.sleep(0.5)  # the server accepted them
reset = 0
for _ in range(m):
    try:  # the reset may come before connect() returns, or at the first read
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        reset += s.recv(1) == b""  # a FIN would do too
        s.close()
    except ConnectionResetError:
        reset += 1
def get(raw):
    with ctx.wrap_socket(raw, server_hostname="localhost") as t:
        t.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return t.recv(64).startswith(b"HTTP/1.1 200")
ok = sum(get(s) for s in held)
more = sum(get(socket.create_connection(("127.0.0.1", port), timeout=10)) for _ in range(after))
print("%d held connections completed %d, %d beyond the limit reset %d, %d afterwards completed %d"
      % (n, ok, m, reset, after, more))
sys.exit(0 if ok == n and reset == m and more == after else 1)
PY
}
# limit_case N M AFTER COUNTERS: limits, then the server's refusal counters
limit_case() {
	limits "$1" "$2" "$3" || return 1
	stats_has "$4"
}
start_server --max-conns 20 --max-handshakes 20
check "--max-conns 20: 10 more reset and counted, the 20 complete" \
	limit_case 20 10 0 'max_conns 10 max_handshakes 0;'
sed -n 's/^/     /p' "$TMP/case.log" | head -1
start_server --max-conns 100 --max-handshakes 10
check "--max-handshakes 10: 5 more reset and counted, room again once they complete" \
	limit_case 10 5 5 'max_conns 0 max_handshakes 5;'
sed -n 's/^/     /p' "$TMP/case.log" | head -1

finish
