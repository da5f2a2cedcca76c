#!/usr/bin/env bash
# Session tickets: TLS 1.3 PSK resumption and TLS 1.2 tickets (RFC 5077)
# with openssl s_client -sess_out/-sess_in, gnutls-cli --resume and
# Python's ssl, across 4 workers, psk_ke by configuration, a key file shared
# by two servers, and a key file rotated under a running server.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

# resumes VERSION SESS N [s_client flags...]: a full handshake saving the
# session, then N reconnects that must all report "Reused, VERSION".
resumes() {
	local v=$1 sess=$2 n=$3
	shift 3
	s_client -sess_out "$sess" "$@" | grep -q "^New, $v" || {
		echo "the first connection was not a new $v session"
		return 1
	}
	for i in $(seq "$n"); do
		s_client -sess_in "$sess" "$@" >"$TMP/re.log"
		grep -q "^Reused, $v" "$TMP/re.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/re.log" || {
			echo "reconnect $i was not resumed:"
			tail -30 "$TMP/re.log"
			return 1
		}
	done
}

# not_resumed SESS [flags...]: a reconnect with SESS is a full handshake
not_resumed() {
	local sess=$1
	shift
	s_client -sess_in "$sess" "$@" >"$TMP/re.log"
	grep -q '^New, ' "$TMP/re.log" && grep -q 'HTTP/1.1 200 OK' "$TMP/re.log" || {
		echo "expected a new session that answers:"
		tail -30 "$TMP/re.log"
		return 1
	}
}

# n_tickets N: a TLS 1.3 connection receives N NewSessionTicket messages
n_tickets() {
	local n
	n=$(s_client -tls1_3 | grep -c 'Post-Handshake New Session Ticket arrived')
	[ "$n" -eq "$1" ] || { echo "$n tickets, expected $1"; return 1; }
}

start_server --workers 4
check "TLS 1.3: two tickets by default" n_tickets 2
for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
	check "TLS 1.3 $s: 4 workers, 8 reconnects Reused" resumes TLSv1.3 "$TMP/s13-$s" 8 -tls1_3 -ciphersuites "$s"
done
check "TLS 1.3 resumption keeps forward secrecy (psk_dhe_ke: a key share)" expect 'Server Temp Key: X25519' \
	sh -c "$(declare -f s_client); PORT=$PORT CERTS=$CERTS; s_client -tls1_3 -sess_in $TMP/s13-TLS_AES_128_GCM_SHA256"
check "TLS 1.2 ticket (RFC 5077): 4 workers, 8 reconnects Reused" resumes TLSv1.2 "$TMP/s12" 8 -tls1_2
check "TLS 1.2 ticket issued" expect 'TLS session ticket lifetime hint: 300' s_client -tls1_2
check "TLS 1.2 session ID without a ticket still resumes" resumes TLSv1.2 "$TMP/s12id" 4 -tls1_2 -no_ticket
check "gnutls-cli --resume with TLS 1.3" expect 'This is a resumed session' sh -c \
	"timeout 20 gnutls-cli --resume --x509cafile $CERTS/ca.crt --port $PORT --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' 127.0.0.1 </dev/null 2>&1"
check "python ssl resumes TLS 1.3 and 1.2" timeout 30 python3 - "$PORT" "$CERTS/ca.crt" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = v
    sess = None
    for i in range(4):
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="localhost", session=sess) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            assert data.startswith(b"HTTP/1.1 200 OK"), data
            assert s.session_reused == (i > 0), (v, i, s.session_reused)
            sess = s.session
print("ok")
PY

start_server --workers 2 --psk-modes psk_ke
check "--psk-modes psk_ke: resumption without a key share" resumes TLSv1.3 "$TMP/ske" 2 -tls1_3 -allow_no_dhe_kex
no_temp_key() {
	s_client -tls1_3 -allow_no_dhe_kex -sess_in "$TMP/ske" >"$TMP/re.log"
	grep -q '^Reused, TLSv1.3' "$TMP/re.log" && ! grep -q 'Server Temp Key' "$TMP/re.log"
}
check "--psk-modes psk_ke: no key exchange on resumption" no_temp_key
check "--psk-modes psk_ke: a client offering only psk_dhe_ke gets a full handshake" not_resumed "$TMP/ske" -tls1_3

start_server --tickets 0 --resumption on
check "--tickets 0: no TLS 1.3 ticket" n_tickets 0

# A fleet: two servers reading one key file resume each other's tickets.
keyline() { openssl rand -hex 48; }
K1=$(keyline)
K2=$(keyline)
echo "$K1" >"$TMP/keys"
start_server --ticket-key-file "$TMP/keys"
start_other --ticket-key-file "$TMP/keys"
fleet() { # VERSION: a session from one server resumes on the other
	s_client "-$1" -sess_out "$TMP/fleet" >/dev/null
	PORT=$OTHER_PORT s_client "-$1" -sess_in "$TMP/fleet" | grep -q '^Reused, '
}
check "key file: a TLS 1.3 ticket of one server resumes on the other" fleet tls1_3
check "key file: a TLS 1.2 ticket of one server resumes on the other" fleet tls1_2
# Rotation by the file: a new current key, the old one still opens.
s_client -tls1_3 -sess_out "$TMP/old" >/dev/null
sleep 1.1 # a distinct modification time
printf '%s\n%s\n' "$K2" "$K1" >"$TMP/keys"
sleep 2.5 # the control thread polls once a second
resumes_old() { s_client -tls1_3 -sess_in "$TMP/old" | grep -q '^Reused, TLSv1.3'; }
check "key file rotated: an old ticket still resumes" resumes_old
printf '%s\n' "$K2" >"$TMP/keys.new" && mv "$TMP/keys.new" "$TMP/keys"
sleep 2.5
check "key file without the old key: full handshake" not_resumed "$TMP/old" -tls1_3
check "the server logged the reloads" grep -q 'ticket keys reloaded' "$TMP/server.log"
echo "not hex" >"$TMP/keys.bad" && mv "$TMP/keys.bad" "$TMP/keys"
sleep 2.5
check "a bad key file keeps the keys in use" sh -c "grep -q 'ticket keys kept' $TMP/server.log"
check "bad key file refused at start" sh -c "! $BIN --check-config --ticket-key-file $TMP/keys --cert $CERTS/rsa.crt --key $CERTS/rsa.key"
finish
