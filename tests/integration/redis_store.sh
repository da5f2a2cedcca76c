#!/usr/bin/env bash
# The session store shared by a fleet (--session-store, issue 17): two
# servers on different ports share one redis-server started here (and one
# ticket key file). A TLS 1.2 session ID made on one resumes on the other
# through Redis; TLS 1.3 resumes on the other with its ticket. Redis holds
# only sealed values (no master secret in hex or binary), with the session
# lifetime as TTL. Redis stopped, then killed: handshakes go on as full
# ones with no client error and no wait beyond the lookup timeout; Redis
# back on the same port: resumption across the servers works again.
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
check "TLS 1.3 session made on A resumes on B (ticket, shared key file)" across TLSv1.3 "$TMP/s13" -tls1_3
check "TLS 1.2 with a ticket made on A resumes on B" across TLSv1.2 "$TMP/s12t" -tls1_2

# What Redis holds: tlso:s12:<session id> entries, sealed.
sealed() {
	local sid master key
	s_client -tls1_2 -no_ticket -sess_out "$TMP/s12b" >"$TMP/c.log"
	sid=$(sed -n 's/^ *Session-ID: *\([0-9A-F]*\)$/\1/p' "$TMP/c.log" | head -1 | tr 'A-F' 'a-f')
	master=$(sed -n 's/^ *Master-Key: *\([0-9A-F]*\)$/\1/p' "$TMP/c.log" | head -1)
	[ ${#sid} -eq 64 ] && [ ${#master} -eq 96 ] || { echo "no session id / master key:"; tail -30 "$TMP/c.log"; return 1; }
	sleep 0.2
	rcli --scan --pattern 'tlso:s12:*' >"$TMP/keys.list"
	echo "$(wc -l <"$TMP/keys.list") entries"
	grep -qx "tlso:s12:$sid" "$TMP/keys.list" || { echo "tlso:s12:$sid not in Redis"; cat "$TMP/keys.list"; return 1; }
	local ttl
	ttl=$(rcli PTTL "tlso:s12:$sid")
	[ "$ttl" -gt 290000 ] && [ "$ttl" -le 300000 ] || { echo "PTTL $ttl, expected the 300 s lifetime"; return 1; }
	# every value: none holds a master secret of this test
	: >"$TMP/masters"
	sed -n 's/^CLIENT_RANDOM [0-9a-f]* \([0-9a-f]*\)$/\1/p' "$TMP/keylog12" >>"$TMP/masters"
	echo "$master" >>"$TMP/masters"
	redis_sealed "$TMP/masters"
}
check "Redis holds sealed tlso:s12:<id> entries, TTL = lifetime, no master secret" sealed

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
# A fresh session of A for the store cases (B has never seen it).
fresh() { s_client -tls1_2 -no_ticket -sess_out "$TMP/s12b" >/dev/null; }

# Redis stopped (no reply at all): lookups time out at 100 ms, full handshakes.
fresh
kill -STOP "$RPID"
check "Redis stopped: handshakes on B go on as full ones, none waits" timed 5 b_resume
cat "$TMP/timing"
kill -CONT "$RPID"
sleep 0.3

# Redis killed: the connection drops, lookups fail at once.
redis_stop
fresh
check "Redis killed: full handshakes go on, no client error, none waits" timed 5 b_resume
cat "$TMP/timing"
check "Redis killed: new sessions on A still work" expect '^New, TLSv1.2' s_client -tls1_2 -no_ticket
check "Redis killed: TLS 1.3 still resumes across servers (tickets)" across TLSv1.3 "$TMP/s13k" -tls1_3

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
