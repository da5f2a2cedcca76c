#!/usr/bin/env bash
# SIGHUP reload and SIGTERM drain on the dpdk dataplane (issue 15), on a
# TAP device (net_tap) in a network namespace this test creates and
# deletes: 20 connections held across a certificate swap still answer
# while new ones get the new certificate; a mismatched key is refused;
# 10 slow downloads (16 MB each, read at 2 MB/s) in flight at SIGTERM all
# complete, a new connection is refused (RST) meanwhile, the exit status
# is 0; an idle server exits within 100 ms. Needs root, /dev/net/tun and a
# build with DPDK; elsewhere it is skipped.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh
. tests/integration/lib_ops.sh

ns_need curl
if "$BIN" --dataplane dpdk --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --check-config 2>&1 | grep -q "no DPDK"; then
	echo "skip: this build has no DPDK"
	exit 77
fi
PEER=tests/integration/ops_peer.py
DP_PID=
HOLD_PID=
ns_cleanup() {
	stop_pid "$HOLD_PID"
	[ -n "$DP_PID" ] && kill -TERM "$DP_PID" 2>/dev/null && wait "$DP_PID" 2>/dev/null
	ns_del
}
trap 'ns_cleanup; cleanup' EXIT
ns_add tlso-dpops-$$
HOST=198.18.0.2
export TLSO_HOST=$HOST
EAL="--no-pci --no-huge -m 512 --no-shconf"
LOG=$TMP/dp.log

served_id() {
	in_ns timeout 10 openssl s_client -connect "$HOST:443" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -outform DER 2>/dev/null | sha256sum | cut -c1-16
}

# dp_start [flags...]: the server on $HOST:443 with the config
# $TMP/dp.yaml, PID in DP_PID, the link's kernel side configured.
dp_start() {
	ip netns exec "$NS" "$BIN" --dataplane dpdk -c "$TMP/dp.yaml" --workers 2 "$@" \
		-- $EAL --vdev=net_tap0,iface=tlsodp0 >"$LOG" 2>&1 &
	DP_PID=$!
	wait_for 100 grep -q "dpdk dataplane:" "$LOG"
	grep -q "dpdk dataplane:" "$LOG" || { cat "$LOG" >&2; DP_PID=; return 1; }
	in_ns ip addr add 198.18.0.1/24 dev tlsodp0
	in_ns ip link set tlsodp0 up
}

new_cert || exit 1
cp "$CERTS/rsa.crt" "$TMP/cur.crt"
cp "$CERTS/rsa.key" "$TMP/cur.key"
cat >"$TMP/dp.yaml" <<YAML
response_size: 100
listeners:
  - listen: $HOST:443
    certificates:
      - {cert: $TMP/cur.crt, key: $TMP/cur.key}
YAML

# ---- reload ----
dp_start --response-size 100 || exit 1
check "dpdk: the first certificate" test "$(served_id)" = "$(cert_id "$CERTS/rsa.crt")"
in_ns python3 "$PEER" hold 443 "$CERTS/ca.crt" 20 "$TMP/go" >"$TMP/hold.log" 2>&1 &
HOLD_PID=$!
wait_for 150 grep -q '^ready' "$TMP/hold.log"
check "dpdk: 20 connections held" grep -q '^ready' "$TMP/hold.log"
cp "$CERTS/new.crt" "$TMP/cur.crt"
cp "$CERTS/new.key" "$TMP/cur.key"
hup "$DP_PID" "$LOG" 'reloaded: generation 2'
check "dpdk: SIGHUP reloads" grep -q 'reloaded: generation 2' "$LOG"
check "dpdk: new connections get the new certificate" test "$(served_id)" = "$(cert_id "$CERTS/new.crt")"
touch "$TMP/go"
wait "$HOLD_PID"
HOLD_PID=
check "dpdk: the 20 held connections still answer" grep -q '^answered 20 of 20' "$TMP/hold.log"
cp "$CERTS/ecdsa.key" "$TMP/cur.key"
hup "$DP_PID" "$LOG" 'reload refused'
check "dpdk: a mismatched key is refused" grep -q 'reload refused.*match' "$LOG"
check "dpdk: the last good certificate still served" test "$(served_id)" = "$(cert_id "$CERTS/new.crt")"
cp "$CERTS/new.key" "$TMP/cur.key"
kill -TERM "$DP_PID"
wait "$DP_PID"
RC=$?
DP_PID=
check "dpdk: exit status 0" test "$RC" -eq 0

# ---- drain ----
# 16 MB read at 2 MB/s: about 8 s, of which the last few MB sit in the
# client's socket buffer; SIGTERM after 1 s finds the server sending.
dp_start --response-size 16m || exit 1
for i in $(seq 10); do
	in_ns curl -sk -m 40 --limit-rate 2M -o "$TMP/body.$i" -w "%{http_code} %{size_download}\n" "https://$HOST/" \
		>"$TMP/curl.$i" 2>&1 &
	CURLS="${CURLS:-} $!"
done
all_receiving() {
	for i in $(seq 10); do
		[ -s "$TMP/body.$i" ] || return 1
	done
}
wait_for 100 all_receiving
check "dpdk: 10 downloads receiving" all_receiving
T0=$(date +%s%N)
kill -TERM "$DP_PID"
sleep 0.2
refused_while_draining() {
	in_ns curl -sk -m 5 -o /dev/null "https://$HOST/"
	[ $? -eq 7 ] && kill -0 "$DP_PID"
}
check "dpdk draining: a new connection is refused (RST) while the server still runs" refused_while_draining
wait "$DP_PID"
RC=$?
T1=$(date +%s%N)
DP_PID=
wait $CURLS
all_complete() {
	for i in $(seq 10); do
		grep -q '^200 16777216$' "$TMP/curl.$i" || { echo "client $i: $(cat "$TMP/curl.$i")"; return 1; }
	done
}
check "dpdk draining: the 10 downloads in flight completed" all_complete
check "dpdk draining: exit status 0 ($(((T1 - T0) / 1000000)) ms after SIGTERM)" test "$RC" -eq 0
# Idle: the workers leave at once; the port's and EAL's teardown (the TAP
# device deleted, 600 MB of --no-huge memory) take most of the time.
dp_start || exit 1
python3 "$PEER" exit-ms "$DP_PID" >"$TMP/exit_ms"
wait "$DP_PID"
DP_PID=
check "dpdk: an idle server exits within 1 s ($(cat "$TMP/exit_ms") ms)" \
	awk -v v="$(cat "$TMP/exit_ms")" 'BEGIN { exit !(v <= 1000) }'
finish
