#!/usr/bin/env bash
# testssl.sh (Debian's testssl.sh package) against the server on
# 127.0.0.1: protocols offered and refused, and its vulnerability checks
# (Heartbleed, CCS injection, Ticketbleed, renegotiation, CRIME, POODLE,
# SWEET32, FREAK, DROWN, LOGJAM, BEAST, RC4; ROBOT with static RSA on).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

if ! command -v testssl >/dev/null; then
	echo "skip: testssl.sh is not installed (scripts/deps.sh test)"
	exit 77
fi
testssl_run() { # output file, testssl flags...
	local out=$1
	shift
	timeout 600 testssl --quiet --color 0 --warnings off --ip one "$@" "127.0.0.1:$PORT" >"$out" 2>&1
	cat "$out"
}
offers() { # the protocol lines
	grep -Eq '^ SSLv2 +not offered' "$TMP/p.txt" && grep -Eq '^ SSLv3 +not offered' "$TMP/p.txt" &&
		grep -Eq '^ TLS 1 +not offered' "$TMP/p.txt" && grep -Eq '^ TLS 1.1 +not offered' "$TMP/p.txt" &&
		grep -Eq '^ TLS 1.2 +offered' "$TMP/p.txt" && grep -Eq '^ TLS 1.3 +offered' "$TMP/p.txt"
}
# no finding marked VULNERABLE, except the lines matching $1 (a regex)
clean() {
	local allowed=$1 bad
	bad=$(grep -E 'VULNERABLE' "$TMP/u.txt" | grep -Ev "$allowed" || true)
	grep -q 'Heartbleed' "$TMP/u.txt" || { echo "testssl did not run its checks"; return 1; }
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

start_server
testssl_run "$TMP/p.txt" -p >/dev/null
check "testssl: only TLS 1.2 and 1.3 offered" offers
testssl_run "$TMP/u.txt" -U >/dev/null
# LUCKY13 is reported for any CBC suite (its check is a heuristic; our CBC
# decryption is constant-time, tests/rec_layer_test.cc)
check "testssl -U: nothing vulnerable (default policy, CBC suites on)" clean 'LUCKY13'

start_server --ciphers modern
testssl_run "$TMP/u.txt" -U >/dev/null
check "testssl -U: nothing vulnerable at all (modern policy)" clean '^$'

start_server --ciphers ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384
robot() {
	testssl_run "$TMP/r.txt" --robot >/dev/null
	grep -E '^ ROBOT' "$TMP/r.txt"
	grep -Eq '^ ROBOT +not vulnerable' "$TMP/r.txt"
}
check "testssl --robot with static RSA on: not vulnerable" robot
finish
