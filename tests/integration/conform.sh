#!/usr/bin/env bash
# Conformance cases of issue 16 through the real server on the kernel
# dataplane (the engine's own cases are in tests/hsk_conform_test.cc):
# ClientHellos up to the largest the grammar allows, in one write or many
# records; TLS 1.3 FFDHE key shares; TLS 1.2 ECDSA P-256 signing with
# SHA-384/512; NewSessionTickets without any request written.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

start_server
hello() { timeout 20 python3 tests/integration/big_hello.py "$PORT" "$@"; }
check "ClientHello of 131,400 bytes in 16 KiB records" expect '^ServerHelloDone$' hello brim
check "ClientHello of 131,400 bytes, one write per 1,000-byte record" expect '^ServerHelloDone$' hello brim 1000 separate
check "ClientHello longer than any ClientHello: decode_error" expect '^alert decode_error$' hello over
check "server still answers" expect '^ServerHelloDone$' hello plain
for g in ffdhe2048 ffdhe3072; do
	check "TLS 1.3 key share $g (openssl)" expect "Server Temp Key: DH, ${g#ffdhe} bits" s_client -tls1_3 -groups "$g"
	check "TLS 1.3 key share $g answers HTTP" expect 'HTTP/1.1 200 OK' s_client -tls1_3 -groups "$g"
done
for g in FFDHE2048 FFDHE3072; do
	check "TLS 1.3 key share $g (gnutls-cli)" sh -c "printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' | timeout 10 gnutls-cli --x509cafile $CERTS/ca.crt --port $PORT --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-$g' 127.0.0.1 2>&1 | grep -q '200 OK'"
done
for h in SHA384 SHA512; do
	check "TLS 1.2 ECDSA P-256 signs with ECDSA+$h" expect "Peer signing digest: $h" \
		s_client -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -sigalgs "ECDSA+$h"
done
tickets_unasked() {
	# no request written: the tickets must come after the Finished alone
	{ sleep 2; } | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$CERTS/ca.crt" \
		-sess_out "$TMP/sess.pem" 2>&1 | grep -c 'Post-Handshake New Session Ticket arrived' | grep -qx 2
}
check "TLS 1.3 tickets arrive without a request" tickets_unasked
finish
