# Shared helpers of the integration tests (sourced). Each test script gets
# the server binary as $1, runs from the source root, talks to 127.0.0.1
# only, stops every server it starts by PID, and exits non-zero when a
# case failed. One line per case: "ok   name" or "FAIL name".
set -u
BIN=${1:?usage: $0 path/to/tlsoffload}
BIN=$(readlink -f "$BIN")
TMP=$(mktemp -d /tmp/tlso-it.XXXXXX)
CERTS=$TMP/certs
PASS=0
FAIL=0
SRV_PID=
PORT=
OTHER_PID=
OTHER_PORT=
LAUNCHED=
N_SERVERS=0

# A failed case or a sanitizer report: the servers' logs go to stderr
# before the tmp dir goes (meson keeps them in its testlog; a report lost
# with the dir cannot be found again).
dump_logs() {
	local f
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		if [ "$FAIL" -gt 0 ] || grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$f"; then
			echo "---- $(basename "$f") (last 80 lines) ----" >&2
			tail -n 80 "$f" >&2
		fi
	done
}

cleanup() {
	stop_server
	dump_logs
	rm -rf "$TMP"
}
trap cleanup EXIT

# A server built with the sanitizers (meson's integration-san tests set
# TLSO_SANITIZED=1) is slower everywhere and, at exit, LeakSanitizer scans
# its heap: an idle one took 60-540 ms to exit on a loaded 2-core machine,
# against drain.sh's 100 ms. Bounds that say "at once" are multiplied by
# TIME_SCALE there; they still tell "at once" from waiting for a drain
# timeout, the unsanitized run keeps the tight ones.
TIME_SCALE=1
[ "${TLSO_SANITIZED:-0}" = 1 ] && TIME_SCALE=10

bash scripts/gen-cert.sh "$CERTS" >/dev/null

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# launch PORT LOG [flags...]: a server with the RSA + ECDSA certificates
# on 127.0.0.1:PORT, its PID in LAUNCHED; waits until it accepts.
launch() {
	local port=$1 log=$2
	shift 2
	"$BIN" --listen "127.0.0.1:$port" \
		--cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" \
		--cert "$CERTS/ecdsa.crt" --key "$CERTS/ecdsa.key" "$@" >"$log" 2>&1 &
	LAUNCHED=$!
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "$LAUNCHED" 2>/dev/null || break
		sleep 0.1
	done
	echo "server did not start:" >&2
	cat "$log" >&2
	return 1
}

# start_server [flags...]: the server of the cases, on 127.0.0.1:$PORT
start_server() {
	stop_server
	# the previous server's log stays for dump_logs
	[ -f "$TMP/server.log" ] && mv "$TMP/server.log" "$TMP/server.$((N_SERVERS += 1)).log"
	PORT=$(free_port)
	launch "$PORT" "$TMP/server.log" "$@"
	local rc=$?
	SRV_PID=$LAUNCHED
	return $rc
}

# start_other [flags...]: a second server on 127.0.0.1:$OTHER_PORT
start_other() {
	stop_pid "$OTHER_PID"
	OTHER_PORT=$(free_port)
	launch "$OTHER_PORT" "$TMP/other.log" "$@"
	local rc=$?
	OTHER_PID=$LAUNCHED
	return $rc
}

stop_pid() {
	if [ -n "$1" ]; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
}

stop_server() {
	stop_pid "$SRV_PID"
	stop_pid "$OTHER_PID"
	SRV_PID=
	OTHER_PID=
}

# check NAME CMD...: the case passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$TMP/case.log" 2>&1; then
		PASS=$((PASS + 1))
		echo "ok   $name"
	else
		FAIL=$((FAIL + 1))
		echo "FAIL $name"
		sed 's/^/     | /' "$TMP/case.log" | tail -15
	fi
}

# s_client ARGS...: a TLS 1.2 connection with one GET; output on stdout.
s_client() {
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
			-CAfile "$CERTS/ca.crt" -verify_return_error -ign_eof "$@" 2>&1
}

# expect PATTERN CMD...: CMD's output matches the extended regex.
expect() {
	local pat=$1
	shift
	local out
	out=$("$@" 2>&1)
	echo "$out" | grep -Eq -- "$pat" || {
		echo "expected /$pat/ in:"
		echo "$out" | tail -25
		return 1
	}
}

# refuse PATTERN CMD...: the server did not answer (no HTTP response came
# back) and the output matches PATTERN (the alert, or the error).
refuse() {
	local pat=$1
	shift
	local out
	out=$("$@" 2>&1)
	if echo "$out" | grep -q 'HTTP/1.1 200 OK'; then
		echo "the server answered, expected a refusal:"
		echo "$out" | tail -20
		return 1
	fi
	echo "$out" | grep -Eq -- "$pat" || {
		echo "expected /$pat/ in:"
		echo "$out" | tail -20
		return 1
	}
}

finish() {
	stop_server
	echo "$PASS passed, $FAIL failed ($(basename "$0"))"
	[ "$FAIL" -eq 0 ]
}

# ---- network namespaces (tests that need root) ----

# ns_need CMD...: skip the test (exit 77) unless we are root with
# /dev/net/tun and every command named.
ns_need() {
	local c
	if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
		echo "skip: needs root and /dev/net/tun"
		exit 77
	fi
	for c in ip "$@"; do
		command -v "$c" >/dev/null || {
			echo "skip: needs $c"
			exit 77
		}
	done
}

# ns_add NAME: the test's network namespace, in $NS with lo up (skip when
# this machine cannot make one). The caller deletes it in its EXIT trap:
# ns_del.
# TLSO_NS_TAG, when set, is appended to the name (several people testing
# on one machine can tell their namespaces apart).
ns_add() {
	ns_try_add "$1" || {
		echo "skip: cannot create a network namespace here"
		exit 77
	}
}
# ns_try_add NAME: the same, but a failure is the caller's to handle.
ns_try_add() {
	NS=$1${TLSO_NS_TAG:+-$TLSO_NS_TAG}
	ip netns add "$NS" || {
		NS=
		return 1
	}
	ip netns exec "$NS" ip link set lo up
}
ns_del() { [ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null; }
in_ns() { ip netns exec "$NS" "$@"; }
