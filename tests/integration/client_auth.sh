#!/usr/bin/env bash
# Client certificates: require / optional, with the test CA.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

start_server --client-auth require --ca "$CERTS/ca.crt"
check "require: with a client certificate" expect 'HTTP/1.1 200 OK' \
	s_client -tls1_2 -cert "$CERTS/client.crt" -key "$CERTS/client.key"
check "require: without a certificate refused" refuse 'handshake failure|alert' s_client -tls1_2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/rogue.key" \
	-out "$TMP/rogue.crt" -days 30 -subj /CN=rogue >/dev/null 2>&1
check "require: a certificate from another CA refused (unknown_ca)" refuse 'alert unknown ca' \
	s_client -tls1_2 -cert "$TMP/rogue.crt" -key "$TMP/rogue.key"
check "require: a server-only certificate refused as a client certificate" refuse 'alert' \
	s_client -tls1_2 -cert "$CERTS/rsa.crt" -key "$CERTS/rsa.key"
check "require: curl with a client certificate" expect '^200' timeout 10 curl -sS --cacert "$CERTS/ca.crt" \
	--resolve "localhost:$PORT:127.0.0.1" --cert "$CERTS/client.crt" --key "$CERTS/client.key" \
	-w '%{http_code}' -o /dev/null "https://localhost:$PORT/"

start_server --client-auth optional --ca "$CERTS/ca.crt"
check "optional: without a certificate" expect 'HTTP/1.1 200 OK' s_client -tls1_2
check "optional: with a certificate" expect 'HTTP/1.1 200 OK' \
	s_client -tls1_2 -cert "$CERTS/client.crt" -key "$CERTS/client.key"
finish
