#!/usr/bin/env bash
# The userspace stack (dataplane/ns_*) against the Linux kernel as its peer:
# inside a network namespace this test creates, tests/ns_tap_peer runs the
# stack on a TAP device with 198.18.0.2/24 (the benchmarking range); the
# kernel side gets 198.18.0.1/24 and pings it (ARP first, then ICMP echo,
# up to a full 1500-byte datagram) and talks TCP to its echo service on
# port 7 (up to 20 MB, then a few transfers over a link that loses and
# reorders 5 % of the frames each way). The namespace is deleted at the end.
# Needs root (CI has it); elsewhere the test is skipped.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

ns_need ping
PEER=$(dirname "$BIN")/tests/ns_tap_peer
ns_cleanup() {
	[ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null
	ns_del
}
trap 'ns_cleanup; cleanup' EXIT
ns_add tlso-ns-$$

# peer_up TAP LOG [peer args...]: the stack on TAP in the namespace (its
# PID in PEER_PID), the kernel side of TAP at 198.18.0.1/24
peer_up() {
	local tap=$1 log=$2
	shift 2
	ip netns exec "$NS" "$PEER" "$tap" 198.18.0.2 24 "$@" >"$log" 2>&1 &
	PEER_PID=$!
	for _ in $(seq 50); do
		grep -q ready "$log" 2>/dev/null && break
		sleep 0.1
	done
	in_ns ip addr add 198.18.0.1/24 dev "$tap"
	in_ns ip link set "$tap" up
}

peer_up tlsotap0 "$TMP/peer.log" 30

check "ping: 5 echo replies from the stack" in_ns ping -c 5 -i 0.2 -W 2 198.18.0.2
check "ping: a full 1500-byte datagram (DF) and back" in_ns ping -c 2 -i 0.2 -W 2 -s 1472 -M do 198.18.0.2
check "the kernel learned our MAC through ARP" sh -c "ip netns exec $NS ip neigh show 198.18.0.2 | grep -q 02:00:00:00:00:02"
check "an address we do not own gets no answer" sh -c "! ip netns exec $NS ping -c 1 -W 1 198.18.0.3"
check "TCP echo: 1 byte, 100 KB, 20 MB intact" in_ns timeout 120 python3 tests/integration/tcp_echo.py 198.18.0.2 1 100000 20000000
check "TCP to a closed port is refused (RST)" sh -c "ip netns exec $NS python3 -c 'import socket; socket.create_connection((\"198.18.0.2\", 9), timeout=5)' 2>&1 | grep -q 'Connection refused'"
kill -TERM "$PEER_PID" 2>/dev/null
wait "$PEER_PID"
PEER_PID=
counters() {
	cat "$TMP/peer.log"
	python3 - "$TMP/peer.log" <<'PY'
import re, sys
m = re.search(r"arp_answered (\d+) .*icmp_echo (\d+) malformed (\d+)", open(sys.argv[1]).read())
answered, echo, malformed = map(int, m.groups())
sys.exit(0 if answered >= 1 and echo >= 7 and malformed == 0 else 1)
PY
}
check "the stack counted the ARP answers and 7 echoes, nothing malformed" counters

# The same stack on a link that drops 5 % of the frames in each direction
# and delays as many behind the next one (this kernel has no netem).
peer_up tlsotap1 "$TMP/lossy.log" 100 5
check "TCP echo over 5 % loss and reordering: 3 x 30 KB intact" in_ns timeout 100 python3 tests/integration/tcp_echo.py 198.18.0.2 30000 30000 30000
kill -TERM "$PEER_PID" 2>/dev/null
wait "$PEER_PID"
PEER_PID=
lossy() {
	cat "$TMP/lossy.log"
	grep -Eq 'impaired: [1-9][0-9]* dropped' "$TMP/lossy.log"
}
check "the link really lost and reordered frames" lossy
finish
