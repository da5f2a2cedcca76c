#!/usr/bin/env bash
# The session store shared by a fleet (--session-store, issue 17): two
# servers on different ports share one redis-server started here (and one
# ticket key file). A TLS 1.2 session ID made on one resumes on the other
# through Redis, and so does a TLS 1.3 session (its tickets name
# tlso:s13:<id> entries; with --session-store-tls13 ticket they carry the
# sealed state instead, no entry, and still resume). Redis holds only
# sealed values (no master secret or PSK in hex or binary), with the
# session lifetime as TTL. Redis stopped, then killed: handshakes go on as
# full ones with no client error and no wait beyond the lookup timeout;
# Redis back on the same port: resumption across the servers works again.
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || {
	echo "skip: redis-server and redis-cli are needed (apt-get install redis-server redis-tools)"
	exit 77
}
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
"$BIN" --session-store redis://127.0.0.1:1 --check-config --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" \
	2>&1 | grep -q 'no hiredis' && { echo "skip: this build has no hiredis"; exit 77; }

. tests/integration/lib_redis.sh
RPORT=$(free_port)
trap 'redis_stop; cleanup' EXIT

redis_start || exit 1
openssl rand -hex 48 >"$TMP/keys"
# A lookup timeout of 100 ms, not the default 2: this test shares a small
# machine with others, where a 2 ms deadline is missed now and then, and
# 20 ms was missed once with the machine loaded by a build (a full
# handshake, counted: correct, but not what the cases look for).
STORE=(--workers 2 --ticket-key-file "$TMP/keys" --session-store "redis://127.0.0.1:$RPORT/0"
	--session-store-timeout-ms 100)
start_server "${STORE[@]}" || exit 1
start_other "${STORE[@]}" || exit 1
# wait_clients: both servers' 4 workers connected to Redis (bounded: 10 s)
wait_clients() {
	for _ in $(seq 100); do
		[ "$(rcli CLIENT LIST 2>/dev/null | grep -c 'cmd=')" -ge 5 ] && return 0 # 4 workers + this redis-cli
		sleep 0.1
	done
	return 0
}
wait_clients

# across VERSION SESS [flags]: a new session on the first server, Reused on the other
across() {
	local v=$1 sess=$2
	shift 2
	s_client -sess_out "$sess" "$@" >"$TMP/a.log"
	grep -q "^New, $v" "$TMP/a.log" || { echo "not a new $v session on A:"; tail -20 "$TMP/a.log"; return 1; }
	sleep 0.2 # A stores the session after the handshake, without waiting: let the SET land on a loaded machine
	PORT=$OTHER_PORT s_client -sess_in "$sess" "$@" >"$TMP/b.log"
	grep -q "^Reused, $v" "$TMP/b.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/b.log" || {
		echo "not resumed on B:"
		tail -30 "$TMP/b.log"
		return 1
	}
}
check "TLS 1.2 session ID (no ticket) made on A resumes on B through Redis" \
	across TLSv1.2 "$TMP/s12" -tls1_2 -no_ticket -keylogfile "$TMP/keylog12"
# ticket13 SESS: the hex of a TLS 1.3 session's ticket (s_client's -sess_out file)
ticket13() {
	openssl sess_id -in "$1" -noout -text | python3 -c '
import re, sys
lines = sys.stdin.read().split("\n")
i = next(n for n, l in enumerate(lines) if "TLS session ticket:" in l)
out = ""
for l in lines[i + 1:]:
    m = re.match(r"\s*[0-9a-f]{4} - (.{1,47})", l)
    if not m:
        break
    out += re.sub("[^0-9a-f]", "", m.group(1).split("   ")[0])
print(out)'
}
s13_count() { rcli --scan --pattern 'tlso:s13:*' | wc -l; }
# in_store13 SESS: its ticket is a store identity ("53" || 32-byte ID) whose entry Redis holds
in_store13() {
	local t
	t=$(ticket13 "$1")
	[ ${#t} -eq 66 ] && [ "${t:0:2}" = 53 ] || { echo "ticket is not a store identity: $t"; return 1; }
	[ "$(rcli EXISTS "tlso:s13:${t:2}")" = 1 ] || { echo "tlso:s13:${t:2} not in Redis"; return 1; }
	local ttl
	# set with the 300 s lifetime (a resumption on B and more came since: on
	# a loaded machine that took 11 s once)
	ttl=$(rcli PTTL "tlso:s13:${t:2}")
	[ "$ttl" -gt 240000 ] && [ "$ttl" -le 300000 ] || { echo "PTTL $ttl, expected the 300 s lifetime"; return 1; }
}
check "TLS 1.3 session made on A resumes on B through Redis" across TLSv1.3 "$TMP/s13" -tls1_3
check "its ticket names a tlso:s13:<id> entry in Redis, TTL = lifetime" in_store13 "$TMP/s13"

# A third server with --session-store-tls13 ticket: its TLS 1.3 tickets
# are sealed state (no entry in Redis) that A, in store mode, still takes.
ticket_mode() {
	local n0 t
	launch "$C_PORT" "$TMP/c_srv.log" "${STORE[@]}" --session-store-tls13 ticket || return 1
	C_PID=$LAUNCHED
	n0=$(s13_count)
	PORT=$C_PORT s_client -tls1_3 -sess_out "$TMP/s13c" >"$TMP/tm.log"
	grep -q '^New, TLSv1.3' "$TMP/tm.log" || { echo "no new session on C:"; tail -20 "$TMP/tm.log"; return 1; }
	sleep 0.2
	[ "$(s13_count)" -eq "$n0" ] || { echo "C stored TLS 1.3 entries ($n0 -> $(s13_count))"; return 1; }
	t=$(ticket13 "$TMP/s13c")
	[ ${#t} -gt 66 ] || { echo "C's ticket is not sealed state: $t"; return 1; }
	s_client -tls1_3 -sess_in "$TMP/s13c" >"$TMP/tm.log"
	grep -q '^Reused, TLSv1.3' "$TMP/tm.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/tm.log" || {
		echo "C's stateless ticket not resumed on A:"
		tail -20 "$TMP/tm.log"
		return 1
	}
}
C_PORT=$(free_port)
C_PID=
check "--session-store-tls13 ticket: no tlso:s13: entry, the ticket still resumes (on A)" ticket_mode
stop_pid "$C_PID"
check "TLS 1.2 with a ticket made on A resumes on B" across TLSv1.2 "$TMP/s12t" -tls1_2

# What Redis holds: tlso:s12:<session id> entries, sealed.
sealed() {
	local sid master key
	s_client -tls1_2 -no_ticket -sess_out "$TMP/s12b" >"$TMP/c.log"
	sid=$(sed -n 's/^ *Session-ID: *\([0-9A-F]*\)$/\1/p' "$TMP/c.log" | head -1 | tr 'A-F' 'a-f')
	master=$(sed -n 's/^ *Master-Key: *\([0-9A-F]*\)$/\1/p' "$TMP/c.log" | head -1)
	[ ${#sid} -eq 64 ] && [ ${#master} -eq 96 ] || { echo "no session id / master key:"; tail -30 "$TMP/c.log"; return 1; }
	sleep 0.2
	rcli --scan --pattern 'tlso:s1[23]:*' >"$TMP/keys.list"
	echo "$(wc -l <"$TMP/keys.list") entries"
	grep -qx "tlso:s12:$sid" "$TMP/keys.list" || { echo "tlso:s12:$sid not in Redis"; cat "$TMP/keys.list"; return 1; }
	grep -q "^tlso:s13:" "$TMP/keys.list" || { echo "no tlso:s13: entry"; return 1; }
	local ttl
	ttl=$(rcli PTTL "tlso:s12:$sid")
	[ "$ttl" -gt 290000 ] && [ "$ttl" -le 300000 ] || { echo "PTTL $ttl, expected the 300 s lifetime"; return 1; }
	# every value: none holds a master secret of this test
	: >"$TMP/masters"
	sed -n 's/^CLIENT_RANDOM [0-9a-f]* \([0-9a-f]*\)$/\1/p' "$TMP/keylog12" >>"$TMP/masters"
	echo "$master" >>"$TMP/masters"
	# the TLS 1.3 sessions' resumption PSKs
	for f in "$TMP"/s13*; do
		openssl sess_id -in "$f" -noout -text | sed -n 's/^ *Resumption PSK: *\([0-9A-Fa-f]*\)$/\1/p'
	done >"$TMP/psks"
	[ -s "$TMP/psks" ] || { echo "no TLS 1.3 resumption PSK to look for"; return 1; }
	cat "$TMP/psks" >>"$TMP/masters"
	redis_sealed "$TMP/masters"
}
check "Redis holds sealed tlso:s12:/s13: entries, TTL = lifetime, no master secret or PSK" sealed

# A value far longer than any of ours under a session's key: only its
# first 257 bytes come back (GETRANGE), a miss, a full handshake.
oversized() {
	local sid
	s_client -tls1_2 -no_ticket -sess_out "$TMP/s12big" >"$TMP/o.log"
	sid=$(sed -n 's/^ *Session-ID: *\([0-9A-F]*\)$/\1/p' "$TMP/o.log" | head -1 | tr 'A-F' 'a-f')
	[ ${#sid} -eq 64 ] || { echo "no session id:"; tail -20 "$TMP/o.log"; return 1; }
	head -c 1048576 /dev/zero | rcli -x SET "tlso:s12:$sid" >/dev/null
	[ "$(rcli STRLEN "tlso:s12:$sid")" -eq 1048576 ] || { echo "the long value was not set"; return 1; }
	PORT=$OTHER_PORT s_client -tls1_2 -no_ticket -sess_in "$TMP/s12big" >"$TMP/o.log"
	grep -q '^New, TLSv1.2' "$TMP/o.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/o.log" || {
		echo "not a full handshake on B:"
		tail -20 "$TMP/o.log"
		return 1
	}
}
check "a 1 MB value under a session's key: a miss on B, a full handshake" oversized

# b_resume: a session of A on B (with the store down: a full handshake)
b_resume() { PORT=$OTHER_PORT s_client -tls1_2 -no_ticket -sess_in "$TMP/s12b"; }
# b_resume13: a TLS 1.3 session of A on B
b_resume13() { PORT=$OTHER_PORT s_client -tls1_3 -sess_in "$TMP/s13b"; }
# A fresh session of A for the store cases (B has never seen it).
fresh() {
	s_client -tls1_2 -no_ticket -sess_out "$TMP/s12b" >/dev/null
	s_client -tls1_3 -sess_out "$TMP/s13b" >/dev/null
}

# Redis stopped (no reply at all): lookups time out at 100 ms, full handshakes.
fresh
kill -STOP "$RPID"
check "Redis stopped: handshakes on B go on as full ones, none waits" timed 5 b_resume
cat "$TMP/timing"
check "Redis stopped: TLS 1.3 handshakes on B go on as full ones, none waits" timed 3 b_resume13
cat "$TMP/timing"
kill -CONT "$RPID"
sleep 0.3

# Redis killed: the connection drops, lookups fail at once.
redis_stop
fresh
check "Redis killed: full handshakes go on, no client error, none waits" timed 5 b_resume
cat "$TMP/timing"
check "Redis killed: new sessions on A still work" expect '^New, TLSv1.2' s_client -tls1_2 -no_ticket
check "Redis killed: TLS 1.3 handshakes on B go on as full ones, no client error" timed 3 b_resume13
cat "$TMP/timing"
# A TLS 1.3 session made now: its state is in A's own cache only
on_a13() {
	s_client -tls1_3 -sess_out "$TMP/s13k" >"$TMP/k.log"
	grep -q '^New, TLSv1.3' "$TMP/k.log" || { echo "no new TLS 1.3 session on A:"; tail -20 "$TMP/k.log"; return 1; }
	s_client -tls1_3 -sess_in "$TMP/s13k" >"$TMP/k.log"
	grep -q '^Reused, TLSv1.3' "$TMP/k.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/k.log" || {
		echo "not resumed on A:"
		tail -20 "$TMP/k.log"
		return 1
	}
}
check "Redis killed: a TLS 1.3 session made on A resumes on A (its cache)" on_a13

# Redis back on the same port: the workers reconnect (backoff at most 2 s).
redis_start || exit 1
wait_clients
back() {
	for _ in $(seq 12); do
		across TLSv1.2 "$TMP/s12r" -tls1_2 -no_ticket >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	across TLSv1.2 "$TMP/s12r" -tls1_2 -no_ticket
}
check "Redis back: a TLS 1.2 session of A resumes on B again" back
back13() {
	for _ in $(seq 6); do
		across TLSv1.3 "$TMP/s13r" -tls1_3 >/dev/null 2>&1 && in_store13 "$TMP/s13r" && return 0
		sleep 0.5
	done
	across TLSv1.3 "$TMP/s13r" -tls1_3 && in_store13 "$TMP/s13r"
}
check "Redis back: a TLS 1.3 session of A resumes on B again, through Redis" back13

# The counters (SIGUSR1 logs them).
kill -USR1 "$OTHER_PID"
sleep 0.3
check "B counted resumptions, timeouts and failures of the store" sh -c "
	grep 'session store: lookups' '$TMP/other.log' | tail -2 >'$TMP/st';
	sed 's/^.*worker/     worker/' '$TMP/st' >'$TMP/counters';
	awk '{for (i = 1; i <= NF; i++) { if (\$i == \"resumed\") r += \$(i + 1); if (\$i == \"(timeouts\") t += \$(i + 1); if (\$i == \"down\") d += \$(i + 1) } } END { exit !(r >= 2 && t >= 1 && d >= 1) }' '$TMP/st'"
cat "$TMP/counters"
check "the workers logged the loss and the reconnection" sh -c "grep -q 'session store: connection lost' '$TMP/other.log' && [ \$(grep -c 'session store connected' '$TMP/other.log') -ge 4 ]"
check "--session-store wants a numeric address" expect 'numeric address' \
	"$BIN" --session-store redis://localhost:6379 --check-config --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key"
finish
