#!/usr/bin/env bash
# No private key or secret ever reaches a log. The server runs at
# --log-level debug while real peers drive every handshake type
# (tests/integration/lib_handshakes.sh), each writing the session's
# secrets to an SSLKEYLOGFILE; then SIGUSR1 (statistics) and SIGTERM,
# and --check-config runs that fail on keys and ticket-key files. The
# server's stdout and stderr must hold none of:
#   - the private keys: the PEM base64 (any wrapping), the raw DER, its hex;
#   - their private numbers from `openssl pkey -text` (RSA d, p, q, dP,
#     dQ, qInv; the EC scalar): hex with or without colons, raw, decimal;
#   - the TLS secrets of the keylog (master secrets, TLS 1.3 traffic
#     secrets): hex, raw, base64;
#   - the session-ticket keys of --ticket-key-file.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/lib_handshakes.sh

for c in gnutls-cli curl; do
	if ! command -v "$c" >/dev/null; then
		echo "skip: $c is not installed (scripts/deps.sh test)"
		exit 77
	fi
done

KEYLOG=$TMP/keylog.txt
: >"$KEYLOG"
TICKET_KEYS=$TMP/ticket.keys
od -An -tx1 -N96 /dev/urandom | tr -d ' \n' | fold -w96 >"$TICKET_KEYS"
echo >>"$TICKET_KEYS"
od -An -tx1 -N48 /dev/urandom | tr -d ' \n' >>"$TICKET_KEYS"
echo >>"$TICKET_KEYS"
cp "$TICKET_KEYS" "$TMP/ticket.secrets"
LOGS=("$TMP/server.log")

PORT=$(free_port)
AUTH_PORT=$(free_port)
handshakes_config "$TMP/server.yaml" "$PORT" "$AUTH_PORT"
"$BIN" -c "$TMP/server.yaml" --log-level debug --ticket-key-file "$TICKET_KEYS" >"$TMP/server.log" 2>&1 &
SRV_PID=$!
if ! wait_listen "$AUTH_PORT" "$SRV_PID" 50; then
	echo "server did not start:"
	cat "$TMP/server.log"
	exit 1
fi

every_handshake

# A ticket-key file rewritten with a bad line: the reload fails and says so.
sed -i '1s/.$/x/' "$TICKET_KEYS"
sleep 1.5
kill -USR1 "$SRV_PID"
sleep 0.5
stop_pid "$SRV_PID"
SRV_PID=

# Loading that fail: a key that is not the certificate's, a truncated
# key, a bad ticket-key file.
checkcfg() { # NAME ARGS...: --check-config output into the logs
	local log="$TMP/check-$1.log"
	shift
	"$BIN" --check-config --listen 127.0.0.1:1 "$@" >"$log" 2>&1
	LOGS+=("$log")
}
head -c 900 "$CERTS/rsa.key" >"$TMP/truncated.key"
checkcfg mismatch --cert "$CERTS/rsa.crt" --key "$CERTS/ecdsa.key"
checkcfg truncated --cert "$CERTS/rsa.crt" --key "$TMP/truncated.key"
checkcfg tickets --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --ticket-key-file "$TICKET_KEYS"

# The checker: secrets from the key files, the keylog and the ticket keys,
# searched in every form in the given logs. Exit 1 and name what it
# found, if anything.
cat >"$TMP/find_secrets.py" <<'PY'
import base64, re, subprocess, sys

keys, keylog, ticket_file, logs = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[4:]
raw = b"".join(open(f, "rb").read() for f in logs)
text = raw.decode("latin-1")
flat = re.sub(r"\s", "", text)                    # base64 re-wrapped or not
hexs = re.sub(r"[^0-9a-f]", "", text.lower())     # hex with any separators
digits = re.sub(r"[^0-9]", "", text)
found = []

def windows(s, width, stride):
    if len(s) <= width:
        yield s
        return
    for i in range(0, len(s) - width + 1, stride):
        yield s[i:i + width]

def secret_bytes(name, b):
    """b in raw, hex and base64 forms."""
    for w in windows(b, 16, 8):
        if w in raw:
            found.append(name + " (raw bytes)")
            return
    for w in windows(b.hex(), 32, 2):
        if w in hexs:
            found.append(name + " (hex)")
            return
    for enc in (base64.b64encode(b), base64.urlsafe_b64encode(b)):
        for w in windows(enc.decode().rstrip("="), 24, 4):
            if w in flat:
                found.append(name + " (base64)")
                return

n_secrets = 0
for key in keys:
    pem = open(key).read()
    body = "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))
    for w in windows(body, 32, 4):
        if w in flat:
            found.append(key + " (PEM base64)")
            break
    secret_bytes(key + " DER", base64.b64decode(body))
    n_secrets += 1
    txt = subprocess.run(["openssl", "pkey", "-in", key, "-text", "-noout"], check=True,
                         capture_output=True, text=True).stdout
    for m in re.finditer(r"^(privateExponent|prime1|prime2|exponent1|exponent2|coefficient|priv):\s*\n((?:\s+[0-9a-f:]+\n)+)",
                         txt, re.M):
        h = re.sub(r"[^0-9a-f]", "", m.group(2))
        b = bytes.fromhex(h).lstrip(b"\0")
        secret_bytes("%s %s" % (key, m.group(1)), b)
        for w in windows(str(int.from_bytes(b, "big")), 32, 8):
            if w in digits:
                found.append("%s %s (decimal)" % (key, m.group(1)))
                break
        n_secrets += 1
labels = set()
for line in open(keylog):
    parts = line.split()
    if len(parts) != 3 or parts[0].startswith("#"):
        continue
    labels.add(parts[0])
    secret_bytes("keylog %s of %s" % (parts[0], parts[1][:16]), bytes.fromhex(parts[2]))
    n_secrets += 1
for line in open(ticket_file):
    h = re.sub(r"[^0-9a-fA-F]", "", line)
    if len(h) >= 32:
        secret_bytes("ticket key", bytes.fromhex(h[: len(h) // 2 * 2]))
        n_secrets += 1
print("%d secrets, keylog labels: %s" % (n_secrets, " ".join(sorted(labels))))
if found:
    print("FOUND in the logs:\n  " + "\n  ".join(sorted(set(found))))
    sys.exit(1)
PY
KEYS="$CERTS/rsa.key,$CERTS/ecdsa.key"
find_secrets() { # LOGS...
	python3 "$TMP/find_secrets.py" "$KEYS" "$KEYLOG" "$TMP/ticket.secrets" "$@"
}

keylog_complete() { # every client wrote its secrets: TLS 1.2 and 1.3 labels
	local n
	n=$(grep -c . "$KEYLOG")
	echo "$n keylog lines"
	[ "$n" -ge 40 ] && grep -q '^CLIENT_RANDOM ' "$KEYLOG" && grep -q '^SERVER_TRAFFIC_SECRET_0 ' "$KEYLOG" &&
		grep -q '^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$KEYLOG"
}
check "the clients' keylog holds TLS 1.2 and 1.3 secrets" keylog_complete
logs_written() { # the runs above did log: debug lines, statistics, load errors
	cat "${LOGS[@]}" >"$TMP/all.log"
	grep -q 'debug: .*sent alert' "$TMP/all.log" && grep -q 'handshakes full' "$TMP/all.log" &&
		grep -q 'ticket keys kept' "$TMP/all.log" && grep -q 'not a hex digit' "$TMP/check-tickets.log" &&
		[ "$(grep -c . "$TMP/check-mismatch.log")" -gt 0 ] && [ "$(grep -c . "$TMP/check-truncated.log")" -gt 0 ] || {
		tail -5 "${LOGS[@]}"
		return 1
	}
}
check "the logs hold what the server did (debug lines, statistics, load errors)" logs_written
check "no private key, TLS secret or ticket key in the logs" find_secrets "${LOGS[@]}"

# The checker finds each form when it is there.
planted() { # NAME CONTENT: a log holding CONTENT is caught
	printf '%s\n' "some log line" "$2" "another" >"$TMP/planted.log"
	caught "$TMP/planted.log"
}
caught() { # LOG: the checker fails on it, naming what it found
	local out
	out=$(find_secrets "$1") && return 1
	echo "$out"
	echo "$out" | grep -q 'FOUND in the logs'
}
pem_line=$(sed -n 5p "$CERTS/rsa.key")
prime_colons=$(openssl pkey -in "$CERTS/rsa.key" -text -noout | sed -n '/^prime1:/,/^prime2:/p' | sed '1d;$d' | tr -d ' \n')
der_hex=$(openssl pkey -in "$CERTS/ecdsa.key" -outform DER | od -An -tx1 | tr -d ' \n' | cut -c40-120 | tr a-f A-F)
secret_hex=$(awk '$1 == "SERVER_TRAFFIC_SECRET_0" { print $3; exit }' "$KEYLOG")
ticket_hex=$(sed -n 2p "$TMP/ticket.secrets")
check "checker: catches a PEM line of the key" planted pem "key: $pem_line"
check "checker: catches a prime in colon hex" planted prime "p=$prime_colons"
check "checker: catches DER bytes in upper-case hex" planted der "der $der_hex"
check "checker: catches a TLS 1.3 traffic secret" planted secret "secret ${secret_hex:8:40}"
check "checker: catches a ticket key" planted ticket "t=$ticket_hex"
printf 'x' >"$TMP/raw.log"
openssl pkey -in "$CERTS/rsa.key" -outform DER | head -c 200 | tail -c 40 >>"$TMP/raw.log"
check "checker: catches raw DER bytes" caught "$TMP/raw.log"
finish
