#!/usr/bin/env bash
# valgrind memcheck on the server while real peers drive every handshake
# type once (tests/integration/lib_handshakes.sh), then SIGUSR1 and
# SIGTERM: no invalid read or write, no use of uninitialised values, no
# definite leak, and no instruction valgrind cannot run.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/lib_handshakes.sh

for c in valgrind gnutls-cli curl; do
	if ! command -v "$c" >/dev/null; then
		echo "skip: $c is not installed (scripts/deps.sh test)"
		exit 77
	fi
done

# valgrind 3.19 has no AVX-512: our IFMA lanes and ipsec-mb's AVX-512
# paths off, and OpenSSL's too. OPENSSL_ia32cap's second word is
# CPUID(7).EBX (low half) : ECX (high half); cleared: EBX AVX512F (16),
# DQ (17), IFMA (21), PF (26), ER (27), CD (28), BW (30), VL (31); ECX
# VBMI (1), VBMI2 (6), VAES (9), VPCLMULQDQ (10), VNNI (11), BITALG (12),
# VPOPCNTDQ (14).
export TLSO_NO_IFMA=1 TLSO_NO_IPSECMB=1 OPENSSL_ia32cap=':~0x5e42dc230000'
VG_ERR=99

PORT=$(free_port)
AUTH_PORT=$(free_port)
handshakes_config "$TMP/server.yaml" "$PORT" "$AUTH_PORT"
valgrind --error-exitcode=$VG_ERR --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --track-origins=yes --num-callers=30 --log-file="$TMP/valgrind.log" \
	"$BIN" -c "$TMP/server.yaml" >"$TMP/server.log" 2>&1 &
SRV_PID=$!
if ! wait_listen "$AUTH_PORT" "$SRV_PID" 150; then
	echo "server did not start under valgrind:"
	cat "$TMP/server.log" "$TMP/valgrind.log"
	exit 1
fi

every_handshake

kill -USR1 "$SRV_PID"
sleep 1
kill -TERM "$SRV_PID"
# the leak check runs at exit: wait for it, boundedly
for _ in $(seq 300); do
	kill -0 "$SRV_PID" 2>/dev/null || break
	sleep 0.2
done
wait "$SRV_PID"
RC=$?
SRV_PID=

clean() {
	local bad
	grep -q 'ERROR SUMMARY' "$TMP/valgrind.log" || { echo "no valgrind summary (rc $RC)"; tail -20 "$TMP/valgrind.log"; return 1; }
	bad=$(grep -E 'Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost in|unhandled instruction|unrecognised instruction|Process terminating' "$TMP/valgrind.log" || true)
	if [ -n "$bad" ] || [ "$RC" -ne 0 ]; then
		echo "server exit $RC; valgrind:"
		grep -vE '^==[0-9]+== *$' "$TMP/valgrind.log" | head -150
		return 1
	fi
	grep -E 'ERROR SUMMARY|definitely lost|in use at exit' "$TMP/valgrind.log"
}
check "valgrind: no memory errors, no definite leaks, clean exit" clean
finish
