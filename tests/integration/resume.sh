#!/usr/bin/env bash
# Session-ID resumption (no tickets: -no_ticket) with openssl s_client -sess_out/-sess_in, on one
# worker and on four (whichever worker the reconnect lands on), and none
# with --resumption off.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

resumed_n_times() { # n
	s_client -tls1_2 -no_ticket -sess_out "$TMP/sess" >/dev/null || return 1
	for i in $(seq "$1"); do
		s_client -tls1_2 -no_ticket -sess_in "$TMP/sess" | grep -q '^Reused, TLSv1.2' || {
			echo "reconnect $i was not resumed"
			return 1
		}
	done
}

start_server
check "resumption reports Reused" expect '^Reused, TLSv1.2' \
	sh -c "$(declare -f s_client); PORT=$PORT CERTS=$CERTS; s_client -tls1_2 -no_ticket -sess_out $TMP/s1 >/dev/null; s_client -tls1_2 -no_ticket -sess_in $TMP/s1"
check "resumption keeps the suite (ECDHE-ECDSA-CHACHA20-POLY1305)" expect 'Reused, TLSv1.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305' \
	sh -c "$(declare -f s_client); PORT=$PORT CERTS=$CERTS; s_client -tls1_2 -no_ticket -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -sess_out $TMP/s2 >/dev/null; s_client -tls1_2 -no_ticket -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -sess_in $TMP/s2"

start_server --workers 4
check "4 workers: 12 reconnects all resumed" resumed_n_times 12

refuse_ticket() {
	s_client -tls1_2 >"$TMP/out" && grep -q 'HTTP/1.1 200 OK' "$TMP/out" && ! grep -q 'TLS session ticket' "$TMP/out"
}

start_server --resumption off
# No session ID is issued, so there is nothing to resume.
check "--resumption off: no session ID issued" expect '^ +Session-ID: *$' s_client -tls1_2 -no_ticket
check "--resumption off: no ticket either" refuse_ticket
finish
