#!/usr/bin/env bash
# Other TLS peers: curl, gnutls-cli, Python's ssl; refusals (TLS 1.0/1.1,
# plaintext HTTP on the TLS port); respond mode's HTTP behaviour.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

curl_ok() {
	local out
	out=$(timeout 10 curl -sS --cacert "$CERTS/ca.crt" --resolve "localhost:$PORT:127.0.0.1" \
		-w '%{http_code} %{size_download}' -o /dev/null "$@")
	echo "$out"
	[ "$out" = "200 $RESPONSE_SIZE" ]
}

gnutls_ok() {
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		timeout 10 gnutls-cli --x509cafile "$CERTS/ca.crt" --port "$PORT" "$@" 127.0.0.1 2>&1 |
		tee /dev/stderr | grep -q '200 OK'
}

python_ok() {
	timeout 20 python3 - "$PORT" "$CERTS/ca.crt" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        assert s.version() == "TLSv1.2", s.version()
        assert s.selected_alpn_protocol() == "http/1.1", s.selected_alpn_protocol()
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, body = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 OK"), head
        n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
        while len(body) < n:
            body += s.recv(65536)
        assert len(body) == n, (len(body), n)
        print("python ok", s.version(), s.cipher())
PY
}

plaintext_gets_alert() {
	timeout 10 python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
data = s.recv(100)
print(data.hex())
# a fatal alert record: type 21, TLS 1.2, length 2, level 2
assert data[:3] == b"\x15\x03\x03" and data[5] == 2, data
PY
}

RESPONSE_SIZE=0
start_server
check "curl GET" curl_ok "https://localhost:$PORT/"
check "curl keep-alive (two requests, one connection)" \
	expect '^200 1 200 0' timeout 10 curl -sS --cacert "$CERTS/ca.crt" --resolve "localhost:$PORT:127.0.0.1" \
	-w '%{http_code} %{num_connects} ' -o /dev/null -o /dev/null "https://localhost:$PORT/a" "https://localhost:$PORT/b"
check "curl HEAD" curl_ok -I "https://localhost:$PORT/"
check "gnutls-cli" gnutls_ok
check "gnutls-cli forcing ECDHE-RSA-AES256-GCM-SHA384" gnutls_ok \
	--priority 'NONE:+VERS-TLS1.2:+ECDHE-RSA:+AES-256-GCM:+AEAD:+SIGN-ALL:+GROUP-ALL:+COMP-NULL'
check "python ssl" python_ok
check "TLS 1.1 client refused (protocol_version)" refuse 'alert protocol version|protocol version|wrong version|no protocols' \
	s_client -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'
check "TLS 1.0 client refused (protocol_version)" refuse 'alert protocol version|protocol version|wrong version|no protocols' \
	s_client -tls1 -cipher 'DEFAULT@SECLEVEL=0'
check "plaintext HTTP on the TLS port gets a fatal alert" plaintext_gets_alert
check "server still serves after bad clients" curl_ok "https://localhost:$PORT/"

handshake_timeout() {
	timeout 20 python3 - "$PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
idle = socket.create_connection(("127.0.0.1", port), timeout=10)
partial = socket.create_connection(("127.0.0.1", port), timeout=10)
partial.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello that never ends
t0 = time.time()
for s in (idle, partial):
    data = s.recv(100)   # b"" once the server closes
    assert data == b"" or data[:1] == b"\x15", data
elapsed = time.time() - t0
print("closed after %.1f s" % elapsed)
assert 0.5 < elapsed < 5, elapsed
PY
}

start_server --handshake-timeout 1s
check "handshake timeout closes silent and slow clients" handshake_timeout
check "server still serves after timeouts" curl_ok "https://localhost:$PORT/"

RESPONSE_SIZE=1000000
start_server --response-size $RESPONSE_SIZE --workers 2
check "1 MB response body" curl_ok "https://localhost:$PORT/"
check "python reads a 1 MB body" python_ok
check "--check-config" expect 'configuration OK' "$BIN" --check-config --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key"
check "--check-config rejects a key that does not match" refuse 'does not match' \
	"$BIN" --check-config --cert "$CERTS/rsa.crt" --key "$CERTS/ecdsa.key"
finish
