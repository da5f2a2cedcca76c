# Redis for the session store tests (sourced after lib.sh): a redis-server
# the test starts on 127.0.0.1:$RPORT (inside the namespace $REDIS_NS
# when it is set, else on the host), stopped by PID.
RPID=

redis_in() {
	if [ -n "${REDIS_NS:-}" ]; then
		ip netns exec "$REDIS_NS" "$@"
	else
		"$@"
	fi
}
rcli() { redis_in redis-cli -p "$RPORT" "$@"; }

redis_start() {
	local argv=(redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP/redis"
		--daemonize no)
	mkdir -p "$TMP/redis"
	# not through redis_in (a function: $! would be its subshell's, and
	# the signals would miss the server); ip netns exec execs it
	if [ -n "${REDIS_NS:-}" ]; then
		ip netns exec "$REDIS_NS" "${argv[@]}" >>"$TMP/redis.log" 2>&1 &
	else
		"${argv[@]}" >>"$TMP/redis.log" 2>&1 &
	fi
	RPID=$!
	for _ in $(seq 50); do
		[ "$(rcli ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	echo "redis-server did not start:" >&2
	cat "$TMP/redis.log" >&2
	return 1
}

redis_stop() { # SIGKILL: no goodbye to the clients, as a crash
	if [ -n "$RPID" ]; then
		kill -CONT "$RPID" 2>/dev/null
		kill -9 "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	RPID=
}

# redis_sealed MASTERS: every tlso:s12:* and tlso:s13:* value, raw, into $TMP/val.<key
# with _ for :>; each must start with the current ticket key's name
# ($TMP/keys), have the length of a sealed state, and hold none of the
# master secrets or PSKs (one hex string per line of the file MASTERS)
# in binary or in hex, nor 16 zero bytes.
redis_sealed() {
	local k
	rcli --scan --pattern 'tlso:s1[23]:*' >"$TMP/keys.list"
	rm -f "$TMP"/val.*
	while read -r k; do
		rcli --raw GET "$k" | head -c -1 >"$TMP/val.$(echo "$k" | tr ':' _)"
	done <"$TMP/keys.list"
	python3 - "$TMP" "$1" "$(head -c 32 "$TMP/keys")" <<'PY'
import glob, sys
tmp, mfile, name = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
masters = [l.strip() for l in open(mfile) if l.strip()]
assert masters, "no master secret to look for"
vals = glob.glob(tmp + "/val.*")
assert vals, "no value read"
for f in vals:
    v = open(f, "rb").read()
    assert v.startswith(name), (f, "not sealed under the ticket key", v[:16].hex())
    assert 16 + 12 + 16 < len(v) <= 256, (f, len(v))
    assert b"\x00" * 16 not in v, (f, "zeros in clear")
    for m in masters:
        for needle in (bytes.fromhex(m), m.lower().encode(), m.upper().encode()):
            assert needle not in v, (f, "holds a master secret")
print(len(vals), "values sealed, no master secret in", len(masters) * 3, "forms")
PY
}

# timed N CMD...: N handshakes by CMD (an s_client with a session the
# server has not seen) each complete with an answer as a full one, within
# MAXMS (s_client's own start included: the bound only tells a lookup
# that gave up at its deadline from one that waited for the connection's
# 1 s stale limit or for the handshake timeout: those take 1000 ms or more
# by themselves; TIME_SCALE times that for a sanitized server); the
# slowest in $TMP/timing.
MAXMS=${TLSO_REDIS_MAXMS:-$((1000 * TIME_SCALE))}
timed() {
	local n=$1 t0 t1 ms worst=0
	shift
	for i in $(seq "$n"); do
		t0=$(date +%s%N)
		"$@" >"$TMP/t.log"
		t1=$(date +%s%N)
		ms=$(((t1 - t0) / 1000000))
		[ "$ms" -gt "$worst" ] && worst=$ms
		grep -q 'HTTP/1.1 200 OK' "$TMP/t.log" || { echo "handshake $i failed:"; tail -20 "$TMP/t.log"; return 1; }
		grep -q '^New, TLSv1\.[23]' "$TMP/t.log" || { echo "handshake $i was not a full one"; return 1; }
		[ "$ms" -lt "$MAXMS" ] || { echo "handshake $i took $ms ms"; return 1; }
	done
	echo "     slowest of $n: $worst ms (s_client start included)" >"$TMP/timing"
}
