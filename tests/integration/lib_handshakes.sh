# Every handshake type once, with real peers (sourced after lib.sh by the
# tests that watch the server while it handshakes: valgrind.sh,
# secrets.sh). The server runs the configuration of handshakes_config;
# every_handshake drives it and records each case with check.
# $KEYLOG, when set, is the SSLKEYLOGFILE every client appends to.

# handshakes_config FILE PORT AUTH_PORT: PORT with the RSA and ECDSA
# certificates and every kind of suite (static RSA and SHA-1 CBC are off
# by default), AUTH_PORT requiring a client certificate from the test CA.
handshakes_config() {
	cat >"$1" <<CONF
workers: 1
log_level: debug
listeners:
  - listen: 127.0.0.1:$2
    certificates:
      - { cert: $CERTS/rsa.crt, key: $CERTS/rsa.key }
      - { cert: $CERTS/ecdsa.crt, key: $CERTS/ecdsa.key }
    tls:
      ciphers: [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256,
                ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-CHACHA20-POLY1305,
                ECDHE-RSA-AES128-SHA256, ECDHE-RSA-AES128-SHA, DHE-RSA-AES128-GCM-SHA256,
                AES128-GCM-SHA256, AES128-SHA256]
  - listen: 127.0.0.1:$3
    certificates:
      - { cert: $CERTS/rsa.crt, key: $CERTS/rsa.key }
    tls:
      client_auth: require
      ca: $CERTS/ca.crt
CONF
}

# wait_listen PORT PID TRIES: until PORT accepts (0.2 s a try), while PID lives
wait_listen() {
	for _ in $(seq "$3"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# tls_ok PATTERN S_CLIENT_ARGS...: a GET answered with 200 OK, and the
# s_client output matches PATTERN (the suite, group or resumption).
tls_ok() {
	local pat=$1 out
	shift
	out=$(s_client ${KEYLOG:+-keylogfile "$KEYLOG"} "$@")
	if echo "$out" | grep -q 'HTTP/1.1 200 OK' && echo "$out" | grep -Eq -- "$pat"; then
		return 0
	fi
	echo "expected 200 OK and /$pat/ in:"
	echo "$out" | tail -30
	return 1
}

# resumes FLAGS...: a handshake that saves its session, then one that
# resumes it (the output of the second says Reused).
resumes() {
	local f="$TMP/sess.$RANDOM"
	tls_ok 'Cipher is' "$@" -sess_out "$f" || return 1
	tls_ok '^Reused, TLSv1\.[23]' "$@" -sess_in "$f"
}

hello_retry() { # two ServerHellos: the HelloRetryRequest, then the real one
	local out
	out=$(s_client ${KEYLOG:+-keylogfile "$KEYLOG"} -tls1_3 -groups X448:X25519 -msg)
	echo "$out" | grep -q 'HTTP/1.1 200 OK' && [ "$(echo "$out" | grep -c '<<< .*ServerHello')" -eq 2 ] || {
		echo "$out" | tail -30
		return 1
	}
}

key_update() { # 'k' updates the client's keys, 'K' asks the server to update its own too
	local out
	out=$( (printf 'k\n'; sleep 0.5; printf 'K\n'; sleep 0.5
		printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 2) |
		timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost \
			-CAfile "$CERTS/ca.crt" -tls1_3 -msg ${KEYLOG:+-keylogfile "$KEYLOG"} 2>&1)
	echo "$out" | grep -q '<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate' &&
		echo "$out" | grep -q 'HTTP/1.1 200 OK' || {
		echo "$out" | tail -30
		return 1
	}
}

gnutls_no_etm() { # a CBC suite with MAC-then-encrypt (gnutls can refuse ETM)
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		SSLKEYLOGFILE=${KEYLOG:-} timeout 15 gnutls-cli --x509cafile "$CERTS/ca.crt" --port "$PORT" \
			--priority 'NORMAL:-VERS-TLS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1:%NO_ETM' \
			localhost 2>&1 | grep -q '200 OK'
}

curl_ok() { # curl ARGS...: 200
	local code
	code=$(SSLKEYLOGFILE=${KEYLOG:-} timeout 15 curl -sS --cacert "$CERTS/ca.crt" \
		--resolve "localhost:$PORT:127.0.0.1" -w '%{http_code}' -o /dev/null "$@" "https://localhost:$PORT/")
	[ "$code" = 200 ] || { echo "curl: $code"; return 1; }
}

python_ok() { # python's ssl, TLS 1.3 then TLS 1.2
	timeout 20 python3 - "$PORT" "$CERTS/ca.crt" "${KEYLOG:-}" <<'PY'
import socket, ssl, sys
port, ca, keylog = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.maximum_version = version
    if keylog:
        ctx.keylog_filename = keylog
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 OK"), data
            print("python ok", s.version(), s.cipher())
PY
}

# Handshakes abandoned at every stage: half a ClientHello; a ClientHello
# and an immediate close (its crypto job still queued); the server's
# whole flight read, then a close (TLS 1.2 and 1.3); a reset; garbage.
aborted() {
	timeout 30 python3 - "$PORT" <<'PY'
import socket, ssl, struct, sys, time
port = int(sys.argv[1])

def client_hello(version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=10)

def read_some(s, want):
    data = b""
    while len(data) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data

ch12 = client_hello(ssl.TLSVersion.TLSv1_2)
ch13 = client_hello(ssl.TLSVersion.TLSv1_3)
with conn() as s:                       # half a ClientHello
    s.sendall(ch12[: len(ch12) // 2])
with conn() as s:                       # ClientHello, gone at once
    s.sendall(ch12)
for ch in (ch12, ch13):                 # the server's flight, then gone
    with conn() as s:
        s.sendall(ch)
        got = read_some(s, 1000)
        assert got[:1] == b"\x16", got[:16]
with conn() as s:                       # reset after the ClientHello
    s.sendall(ch13)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
with conn() as s:                       # not TLS: an alert comes back
    s.sendall(b"\x16\x03\x01\x00\x05garbage")
    got = read_some(s, 7)
    assert got[:1] == b"\x15", got
time.sleep(0.5)
print("aborted handshakes done")
PY
}

# every_handshake: the cases, on $PORT and $AUTH_PORT.
every_handshake() {
	local main=$PORT
	check "TLS 1.2 ECDHE-RSA" tls_ok 'Cipher is ECDHE-RSA-AES128-GCM-SHA256' \
		-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
	check "TLS 1.2 ECDHE-ECDSA" tls_ok 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256' \
		-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
	check "TLS 1.2 ECDHE-RSA ChaCha20-Poly1305" tls_ok 'Cipher is ECDHE-RSA-CHACHA20-POLY1305' \
		-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305
	check "TLS 1.2 DHE-RSA (ffdhe2048)" tls_ok 'Server Temp Key: DH, 2048 bits' \
		-tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
	check "TLS 1.2 static RSA AES-GCM" tls_ok 'Cipher is AES128-GCM-SHA256' -tls1_2 -cipher AES128-GCM-SHA256
	check "TLS 1.2 static RSA AES-CBC" tls_ok 'Cipher is AES128-SHA256' -tls1_2 -cipher AES128-SHA256
	check "TLS 1.2 CBC with encrypt-then-MAC" tls_ok 'encrypt-then-mac' \
		-tls1_2 -cipher ECDHE-RSA-AES128-SHA256 -tlsextdebug
	check "TLS 1.2 SHA-1 CBC without encrypt-then-MAC (gnutls)" gnutls_no_etm
	check "TLS 1.2 session-ID resumption" resumes -tls1_2 -no_ticket
	check "TLS 1.2 ticket resumption" resumes -tls1_2
	check "TLS 1.3 X25519" tls_ok 'Server Temp Key: X25519' -tls1_3 -groups X25519
	check "TLS 1.3 P-256" tls_ok 'Server Temp Key: ECDH, prime256v1' -tls1_3 -groups P-256
	check "TLS 1.3 P-384" tls_ok 'Server Temp Key: ECDH, secp384r1' -tls1_3 -groups P-384
	check "TLS 1.3 ECDSA certificate, ChaCha20-Poly1305" tls_ok 'Peer signature type: ECDSA' \
		-tls1_3 -sigalgs ecdsa_secp256r1_sha256 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
	check "TLS 1.3 HelloRetryRequest" hello_retry
	check "TLS 1.3 PSK resumption" resumes -tls1_3
	check "TLS 1.3 KeyUpdate both ways" key_update
	check "curl (TLS 1.3, ALPN)" curl_ok
	check "curl TLS 1.2" curl_ok --tlsv1.2 --tls-max 1.2
	check "python ssl TLS 1.3 and 1.2" python_ok
	PORT=$AUTH_PORT
	check "TLS 1.2 client certificate" tls_ok 'Cipher is' -tls1_2 -cert "$CERTS/client.crt" -key "$CERTS/client.key"
	check "TLS 1.3 client certificate" tls_ok 'Cipher is' -tls1_3 -cert "$CERTS/client.crt" -key "$CERTS/client.key"
	check "TLS 1.3 missing client certificate refused" refuse 'alert|error' \
		s_client ${KEYLOG:+-keylogfile "$KEYLOG"} -tls1_3
	PORT=$main
	check "aborted handshakes" aborted
}
