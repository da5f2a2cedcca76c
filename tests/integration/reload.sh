#!/usr/bin/env bash
# SIGHUP reload (issue 15): 50 TLS connections stay open while the
# certificate the configuration names is swapped; after SIGHUP new
# connections get the new certificate, the 50 old ones still answer
# (with the old one), sessions from before the reload still resume, and a
# configuration whose key does not match its certificate is refused (the
# reason logged, the last good certificate still served, the server up).
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/lib_ops.sh

PEER=tests/integration/ops_peer.py
HOLD_PID=
trap 'stop_pid "$HOLD_PID"; cleanup' EXIT

# served_id: the leaf a new connection gets
served_id() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -outform DER 2>/dev/null | sha256sum | cut -c1-16
}

new_cert || exit 1
OLD=$(cert_id "$CERTS/rsa.crt")
NEW=$(cert_id "$CERTS/new.crt")
cp "$CERTS/rsa.crt" "$TMP/cur.crt"
cp "$CERTS/rsa.key" "$TMP/cur.key"

PORT=$(free_port)
openssl rand -hex 48 >"$TMP/tickets.keys"
cat >"$TMP/reload.yaml" <<YAML
workers: 2
response_size: 100
tickets:
  key_file: $TMP/tickets.keys
listeners:
  - listen: 127.0.0.1:$PORT
    certificates:
      - {cert: $TMP/cur.crt, key: $TMP/cur.key}
YAML
"$BIN" -c "$TMP/reload.yaml" >"$TMP/server.log" 2>&1 &
SRV_PID=$!
wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

check "before the reload: the first certificate" test "$(served_id)" = "$OLD"
s_client -tls1_2 -no_ticket -sess_out "$TMP/sess12" >/dev/null
s_client -tls1_3 -sess_out "$TMP/sess13" >/dev/null

python3 "$PEER" hold "$PORT" "$CERTS/ca.crt" 50 "$TMP/go" >"$TMP/hold.log" 2>&1 &
HOLD_PID=$!
wait_for 200 grep -q '^ready' "$TMP/hold.log"
check "50 connections open with the first certificate" grep -q "^ready $OLD" "$TMP/hold.log"

cp "$CERTS/new.crt" "$TMP/cur.crt"
cp "$CERTS/new.key" "$TMP/cur.key"
hup "$SRV_PID" "$TMP/server.log" 'reloaded: generation 2'
check "SIGHUP: reload logged" grep -q 'reloaded: generation 2' "$TMP/server.log"
check "after the reload: new connections get the new certificate" test "$(served_id)" = "$NEW"
touch "$TMP/go"
wait "$HOLD_PID"
HOLD_RC=$?
HOLD_PID=
check "the 50 connections from before still answer, with the old certificate" \
	sh -c "[ $HOLD_RC -eq 0 ] && grep -q '^answered 50 of 50' '$TMP/hold.log' || { cat '$TMP/hold.log'; exit 1; }"
check "a TLS 1.2 session from before the reload resumes" expect '^Reused, TLSv1.2' \
	s_client -tls1_2 -no_ticket -sess_in "$TMP/sess12"
check "a TLS 1.3 ticket from before the reload resumes" expect '^Reused, TLSv1.3' \
	s_client -tls1_3 -sess_in "$TMP/sess13"

# A key that does not match the certificate: refused, the reason logged.
cp "$CERTS/ecdsa.key" "$TMP/cur.key"
hup "$SRV_PID" "$TMP/server.log" 'reload refused'
check "a mismatched key: reload refused with the reason" \
	expect 'reload refused.*(match|key)' grep 'reload refused' "$TMP/server.log"
check "after the refusal: the last good certificate still served" test "$(served_id)" = "$NEW"
# A configuration that does not parse: refused too.
cp "$CERTS/new.key" "$TMP/cur.key"
echo "workers: [" >>"$TMP/reload.yaml"
hup "$SRV_PID" "$TMP/server.log" 'reload refused' 2
check "a configuration that does not parse: refused" \
	expect 'reload refused.*reload.yaml:[0-9]+' grep 'reload refused' "$TMP/server.log"
# A damaged ticket key file: refused too, the keys in use stay (a
# ticket from before every reload still resumes).
sed -i '$d' "$TMP/reload.yaml" # the broken line
cp "$TMP/tickets.keys" "$TMP/tickets.good"
echo "not hex" >"$TMP/tickets.keys"
hup "$SRV_PID" "$TMP/server.log" 'reload refused' 3
check "a damaged ticket key file: refused" expect 'reload refused.*tickets.keys' grep 'reload refused' "$TMP/server.log"
cp "$TMP/tickets.good" "$TMP/tickets.keys"
check "the ticket keys in use stayed: a ticket from before still resumes" expect '^Reused, TLSv1.3' \
	s_client -tls1_3 -sess_in "$TMP/sess13"
# Settings each worker took at start: kept, with a warning each.
printf 'batch:\n  delay_us: 123\n  min: 3\nsession_store:\n  url: "redis://127.0.0.1:1/0"\n' >>"$TMP/reload.yaml"
hup "$SRV_PID" "$TMP/server.log" 'session_store changed: needs a restart'
check "batch.delay_us, batch.min and session_store need a restart (logged, kept)" sh -c \
	"grep -q 'batch.delay_us changed: needs a restart' '$TMP/server.log' &&
	 grep -q 'batch.min changed: needs a restart' '$TMP/server.log' &&
	 grep -q 'session_store changed: needs a restart' '$TMP/server.log'"
check "the server is alive and answers" expect 'HTTP/1.1 200 OK' s_client
kill "$SRV_PID"
wait "$SRV_PID"
RC=$?
SRV_PID=
check "exit status 0 after the reloads" test "$RC" -eq 0

# Proxy mode: the backend list reloads. A stream open through b1 goes on
# through b1; new connections go to b2, the only backend now.
PROXY_PEER=tests/integration/proxy_peer.py
B1=$(free_port)
B2=$(free_port)
python3 "$PROXY_PEER" backend "$B1" b1 >"$TMP/b1.log" 2>&1 &
B1_PID=$!
python3 "$PROXY_PEER" backend "$B2" b2 >"$TMP/b2.log" 2>&1 &
B2_PID=$!
trap 'stop_pid "$HOLD_PID"; stop_pid "$B1_PID"; stop_pid "$B2_PID"; cleanup' EXIT
proxy_yaml() { # BACKEND_PORT
	cat >"$TMP/proxy.yaml" <<YAML
mode: proxy
proxy:
  backends: [127.0.0.1:$1]
  health: {interval: 0}
YAML
}
proxy_yaml "$B1"
wait_for 50 bash -c "exec 3<>/dev/tcp/127.0.0.1/$B2"
start_server -c "$TMP/proxy.yaml" --workers 2
via() { timeout 20 python3 "$PROXY_PEER" closed-backend "$PORT" "$CERTS/ca.crt" "$1"; }
check "proxy: before the reload, backend b1" via b1
rm -f "$TMP/go"
python3 "$PEER" stream "$PORT" "$CERTS/ca.crt" "$TMP/go" >"$TMP/stream.log" 2>&1 &
HOLD_PID=$!
wait_for 100 grep -q '^ready' "$TMP/stream.log"
proxy_yaml "$B2"
hup "$SRV_PID" "$TMP/server.log" 'reloaded: generation 2, 1 listener, 1 backend'
check "proxy: SIGHUP reloads the backends" grep -q 'reloaded: generation 2, 1 listener, 1 backend' "$TMP/server.log"
check "proxy: new connections go to b2" via b2
check "proxy: again (both workers)" via b2
touch "$TMP/go"
wait "$HOLD_PID"
HOLD_RC=$?
HOLD_PID=
check "proxy: the stream opened before the reload finished through b1, intact" \
	sh -c "[ $HOLD_RC -eq 0 ] && grep -q '^stream through b1 intact' '$TMP/stream.log' || { cat '$TMP/stream.log'; exit 1; }"
proxy_yaml "$B2"
sed -i 's/^mode: proxy/mode: respond/' "$TMP/proxy.yaml"
hup "$SRV_PID" "$TMP/server.log" 'mode changed: needs a restart'
check "proxy: a mode change needs a restart (logged, mode kept)" grep -q 'mode changed: needs a restart' "$TMP/server.log"
check "proxy: still proxying to b2" via b2
finish
