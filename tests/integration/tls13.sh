#!/usr/bin/env bash
# TLS 1.3 against openssl s_client, curl and Python's ssl: every suite and
# group, HelloRetryRequest, client certificates, KeyUpdate, and version
# limits (--tls-min / --tls-max).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

start_server
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	check "TLS 1.3 suite $s" expect "New, TLSv1.3, Cipher is $s" s_client -tls1_3 -ciphersuites "$s"
	check "TLS 1.3 suite $s answers HTTP" expect 'HTTP/1.1 200 OK' s_client -tls1_3 -ciphersuites "$s"
done
for g in X25519 P-256 P-384; do
	check "TLS 1.3 group $g" expect "Server Temp Key: (X25519|ECDH, (prime256v1|secp384r1)|ECDH, P-(256|384))" \
		s_client -tls1_3 -groups "$g"
done
check "TLS 1.3 RSA-PSS certificate" expect 'Peer signature type: RSA-PSS' s_client -tls1_3 -sigalgs rsa_pss_rsae_sha256
check "TLS 1.3 ECDSA certificate" expect 'Peer signature type: ECDSA' s_client -tls1_3 -sigalgs ECDSA+SHA256
check "TLS 1.3 is the default version" expect 'New, TLSv1.3' s_client
check "curl negotiates TLS 1.3" expect 'TLSv1.3' sh -c "timeout 10 curl -sv --cacert $CERTS/ca.crt --resolve localhost:$PORT:127.0.0.1 https://localhost:$PORT/ -o /dev/null 2>&1"
check "python ssl with TLS 1.3" timeout 20 python3 - "$PORT" "$CERTS/ca.crt" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost") as s:
    assert s.version() == "TLSv1.3", s.version()
    for i in range(3):  # keep-alive: three requests on one connection
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        assert data.startswith(b"HTTP/1.1 200 OK"), data
print("ok")
PY
check "gnutls-cli with TLS 1.3" sh -c "printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' | timeout 10 gnutls-cli --x509cafile $CERTS/ca.crt --port $PORT --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' 127.0.0.1 2>&1 | tee /dev/stderr | grep -q '200 OK'"
keyupdate() {
	# 'k' on s_client's stdin sends a KeyUpdate (requested), then a request
	{ sleep 0.5; printf 'K\n'; sleep 0.3; printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 1; } |
		timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 -CAfile "$CERTS/ca.crt" 2>&1
}
check "TLS 1.3 KeyUpdate (update_requested) then data" expect 'HTTP/1.1 200 OK' keyupdate

# HelloRetryRequest: the server takes only X25519, the client offers a
# P-256 share first.
cat >"$TMP/hrr.yaml" <<YAML
tls:
  groups: [x25519]
YAML
start_server -c "$TMP/hrr.yaml"
check "HelloRetryRequest to X25519" expect 'Server Temp Key: X25519' s_client -tls1_3 -groups P-256:X25519
check "no common group: handshake_failure" refuse 'handshake failure|alert' s_client -tls1_3 -groups P-256

start_server --client-auth require --ca "$CERTS/ca.crt"
check "TLS 1.3 client certificate" expect 'HTTP/1.1 200 OK' \
	s_client -tls1_3 -cert "$CERTS/client.crt" -key "$CERTS/client.key"
check "TLS 1.3 missing client certificate: certificate_required" refuse 'certificate required|alert' s_client -tls1_3

start_server --tls-max 1.2
check "--tls-max 1.2: a TLS 1.3 client gets TLS 1.2" expect 'New, TLSv1.2' s_client
start_server --tls-min 1.3
check "--tls-min 1.3: a TLS 1.2 client is refused" refuse 'protocol version|alert' s_client -tls1_2
check "--tls-min 1.3: TLS 1.3 works" expect 'New, TLSv1.3' s_client
finish
