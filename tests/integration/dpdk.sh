#!/usr/bin/env bash
# The dpdk dataplane with real Linux peers. Inside a network namespace this
# test creates (and deletes), build/tlsoffload --dataplane dpdk runs on a
# TAP device (net_tap, one queue per worker) and on one end of a veth pair
# (net_af_packet: a single queue, so the workers steer flows in software);
# the kernel side of each link gets an address of 198.18.0.0/15 (the
# benchmarking range) and drives the server with ping, curl, openssl
# s_client and Python: 1,000 sequential and 200 concurrent handshakes with
# 2 workers, session resumption across workers, a 20 MB response TLSO_LOSS_RUNS
# times (default 3) over a link losing 5 % of the frames each way (nftables: this kernel has
# no netem), a SYN flood from spoofed addresses answered with SYN cookies
# while real clients still connect, and a clean exit on SIGTERM. Needs root, /dev/net/tun and a
# build with DPDK; elsewhere it is skipped.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

ns_need nft ethtool ping curl
if "$BIN" --dataplane dpdk --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --check-config 2>&1 | grep -q "no DPDK"; then
	echo "skip: this build has no DPDK"
	exit 77
fi
DP_PID=
ns_cleanup() {
	[ -n "$DP_PID" ] && kill -TERM "$DP_PID" 2>/dev/null && wait "$DP_PID" 2>/dev/null
	ns_del
}
trap 'ns_cleanup; cleanup' EXIT
ns_add tlso-dpdk-$$
EAL="--no-pci --no-huge -m 512 --no-shconf"

# dp_start LOG ADDR VDEV [flags...]: the server in the namespace on ADDR:443,
# its PID in DP_PID; waits for its start line.
dp_start() {
	local log=$1 addr=$2 vdev=$3
	shift 3
	# ip netns exec execs the server: $! is its PID
	ip netns exec "$NS" "$BIN" --dataplane dpdk --listen "$addr:443" --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" \
		--cert "$CERTS/ecdsa.crt" --key "$CERTS/ecdsa.key" "$@" -- $EAL "--vdev=$vdev" >"$log" 2>&1 &
	DP_PID=$!
	for _ in $(seq 100); do
		grep -q "dpdk dataplane:" "$log" 2>/dev/null && return 0
		kill -0 "$DP_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "the dpdk server did not start:" >&2
	cat "$log" >&2
	DP_PID=
	return 1
}

# dp_stop LOG: SIGTERM, then the exit status must be 0 and the log end
# with the workers' counters.
dp_stop() {
	kill -TERM "$DP_PID"
	wait "$DP_PID"
	local rc=$?
	DP_PID=
	[ "$rc" -eq 0 ] && grep -q "shutting down" "$1" && grep -q "worker 1 (lcore" "$1"
}

# stats LOG: ask for the counters (SIGUSR1), print them (three lines per
# worker of the two)
stats() {
	kill -USR1 "$DP_PID"
	sleep 0.5
	grep "worker" "$1" | tail -6
}

# a worker served connections: "worker N (cpu ..): accepted K" with K > 0
served() {
	stats "$2" | grep -Eq "worker $1 \(cpu [0-9]+\): accepted [1-9]"
}

tls() {
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		in_ns timeout 10 openssl s_client -connect "$HOST:443" -servername localhost -CAfile "$CERTS/ca.crt" \
			-ign_eof "$@" 2>&1
}

# ---- net_tap, a queue per worker ----
HOST=198.18.0.2
LOG=$TMP/tap.log
dp_start "$LOG" "$HOST" net_tap0,iface=tlsodp0 --workers 2 --response-size 1000 --dpdk-gateway 198.18.0.1 || exit 1
in_ns ip addr add 198.18.0.1/24 dev tlsodp0
in_ns ip link set tlsodp0 up
check "tap: 2 workers, a queue pair each, RSS" grep -q "2 workers, 2 queue pairs, RSS" "$LOG"
check "tap: checksums offloaded to the port both ways" grep -q "checksums: tx port, rx port" "$LOG"
check "ping: the stack answers ARP and ICMP echo" in_ns ping -c 3 -i 0.2 -W 2 "$HOST"
check "curl: HTTPS GET, 1000-byte body" expect "^200 1000$" in_ns curl -sk -m 10 -o /dev/null -w "%{http_code} %{size_download}" "https://$HOST/"
# answered PATTERN ARGS...: s_client's output has PATTERN and the response
answered() {
	local pat=$1
	shift
	tls "$@" >"$TMP/tls.out"
	grep -Eq -- "$pat" "$TMP/tls.out" && grep -q "HTTP/1.1 200 OK" "$TMP/tls.out" || {
		tail -20 "$TMP/tls.out"
		return 1
	}
}
check "openssl s_client TLS 1.3: certificate verified, 200 OK" answered "Verify return code: 0 \(ok\)" -tls1_3
check "openssl s_client TLS 1.2 ECDHE-ECDSA: 200 OK" answered "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
in_ns ip addr add 198.19.5.1/32 dev tlsodp0
check "a client outside the /24 is answered through the gateway" expect "^200 1000$" in_ns curl -sk -m 10 --interface 198.19.5.1 -o /dev/null -w "%{http_code} %{size_download}" "https://$HOST/"
check "TCP to a closed port is refused (RST)" expect "Connection refused" in_ns python3 -c "import socket; socket.create_connection(('$HOST', 444), timeout=5)"
check "Python: 1,000 sequential handshakes, all answered" in_ns python3 tests/integration/tls_load.py "$HOST" 443 1000 1 --deadline 240
check "Python: 200 concurrent handshakes, all answered" in_ns python3 tests/integration/tls_load.py "$HOST" 443 200 200 --deadline 120
check "Python: 200 concurrent TLS 1.2 handshakes" in_ns python3 tests/integration/tls_load.py "$HOST" 443 200 200 --tls 1.2 --deadline 120
check "Python: 600 concurrent handshakes (over 256 per worker)" in_ns python3 tests/integration/tls_load.py "$HOST" 443 600 600 --deadline 180
both_served() { served 0 "$LOG" && served 1 "$LOG"; }
check "both workers served connections" both_served
resume() {
	answered "^New, TLSv1.3" -tls1_3 -sess_out "$TMP/sess" || return 1
	for _ in 1 2 3 4 5 6; do
		answered "^Reused, TLSv1.3" -tls1_3 -sess_in "$TMP/sess" || return 1
	done
}
check "TLS 1.3 tickets resume on 6 reconnects (either worker)" resume
check "gnutls-cli: TLS 1.3 handshake" expect "Handshake was completed" sh -c "echo | ip netns exec $NS timeout 10 gnutls-cli --insecure --port 443 $HOST"
# SYN flood: COUNT SYNs (at most SECONDS) from spoofed addresses of the
# /24 (nobody answers the stack's ARP for them, so each stays half-open)
# with random ports, through a raw socket in the namespace.
synflood() { # COUNT SECONDS
	in_ns timeout 60 python3 - "$HOST" "$1" "$2" <<'PY'
import random, socket, struct, sys, time
dst, count, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # we write the IP header
daddr = socket.inet_aton(dst)
start = time.monotonic()
sent = 0
while sent < count and time.monotonic() < start + secs:
    saddr = socket.inet_aton("198.18.0.%d" % random.randint(10, 250))
    # SYN with an MSS option: data offset 6 words
    tcp = struct.pack("!HHIIBBHHH", random.randint(1024, 65535), 443, random.getrandbits(32), 0, 6 << 4, 0x02,
                      64240, 0, 0) + b"\x02\x04\x05\xb4"
    tcp = tcp[:16] + struct.pack("!H", csum(saddr + daddr + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64, 6, 0, saddr, daddr)
    raw.sendto(ip + tcp, (dst, 0))
    sent += 1
    if sent % 50 == 0:
        time.sleep(0.01)  # about 5,000 a second: the flood lasts while the clients try
print("syn flood: %d SYNs in %.1f s" % (sent, time.monotonic() - start))
PY
}
syn_cookies() {
	local flood ok=0
	synflood 20000 8 >"$TMP/flood.log" 2>&1 &
	flood=$!
	sleep 1.5 # the half-open quarter of each worker's table is full
	for i in 1 2 3 4 5; do
		in_ns curl -sk -m 10 -o /dev/null -w "curl $i: %{http_code} in %{time_total} s\n" "https://$HOST/" |
			tee -a "$TMP/clients" | grep -q ": 200 " && ok=$((ok + 1))
	done
	answered "Verify return code: 0 \(ok\)" -tls1_3 && ok=$((ok + 1))
	cat "$TMP/clients"
	wait "$flood"
	cat "$TMP/flood.log"
	echo "during the flood: $ok of 6 real clients (5 curl, 1 s_client) answered"
	stats "$LOG" | grep -o "worker [0-9] (lcore.*table full [0-9]* syn cookies sent [0-9]* ok [0-9]* bad [0-9]*" |
		sed 's/(lcore \([0-9]*\)).*tcp: syn \([0-9]*\) .*\(table full.*\)/(lcore \1): syn \2, \3/' | tee "$TMP/cookies"
	grep -Eq "syn cookies sent [1-9]" "$TMP/cookies" && [ "$ok" -eq 6 ]
}
check "SYN flood: SYN cookies sent, real clients still answered" syn_cookies
sed -n 's/^/     /p' "$TMP/case.log" | grep -E "flood|clients|syn|curl"

# a client that holds its connection open across the stop: told by a RST
in_ns python3 - "$HOST" >"$TMP/held.log" 2>&1 <<'PY' &
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443), timeout=20))
print("open", flush=True)
try:
    print("read", s.recv(100))
except (ConnectionResetError, ssl.SSLError, OSError) as e:
    print("ended:", type(e).__name__)
PY
HELD=$!
for _ in $(seq 50); do grep -q open "$TMP/held.log" && break; sleep 0.1; done
check "SIGTERM: clean exit, counters logged" dp_stop "$LOG"
held_ended() {
	wait "$HELD"
	cat "$TMP/held.log"
	grep -Eq "ended: ConnectionResetError|read b''" "$TMP/held.log"
}
check "a connection open at the stop is reset, not left hanging" held_ended

# ---- 20 MB over a lossy link, TLSO_LOSS_RUNS times ----
LOSS_RUNS=${TLSO_LOSS_RUNS:-3}
LOG=$TMP/loss.log
dp_start "$LOG" "$HOST" net_tap1,iface=tlsodp1 --workers 2 --response-size 20000000 || exit 1
in_ns ip addr add 198.18.2.1/24 dev tlsodp1 2>/dev/null
in_ns ip addr del 198.18.0.1/24 dev tlsodp0 2>/dev/null
in_ns ip addr add 198.18.0.1/24 dev tlsodp1
in_ns ip link set tlsodp1 up
in_ns nft add table netdev tlsoloss
in_ns nft add chain netdev tlsoloss in "{ type filter hook ingress device tlsodp1 priority 0; }"
in_ns nft add rule netdev tlsoloss in numgen random mod 100 \< 5 counter drop
in_ns nft add table inet tlsoloss
in_ns nft add chain inet tlsoloss out "{ type filter hook output priority 0; }"
in_ns nft add rule inet tlsoloss out oifname tlsodp1 numgen random mod 100 \< 5 counter drop
big() {
	for i in $(seq "$LOSS_RUNS"); do
		in_ns curl -sk -m 90 -o "$TMP/big" -w "run $i: %{http_code} %{size_download} bytes in %{time_total} s\n" "https://$HOST/" || return 1
		python3 -c "import sys; d=open(sys.argv[1],'rb').read(); sys.exit(0 if len(d)==20000000 and d.count(b'x')==len(d) else 1)" "$TMP/big" || return 1
	done
}
check "20 MB response intact in each of $LOSS_RUNS runs over 5 % loss each way" big
cat "$TMP/case.log"
dropped() {
	in_ns nft list ruleset | grep -o "counter packets [0-9]*" | tee /dev/stderr | awk '{ if ($3 < 100) bad = 1 } END { exit bad }'
}
check "nftables dropped frames both ways" dropped
check "the stack recovered with fast retransmits" sh -c "kill -USR1 $DP_PID; sleep 0.5; grep -Eq 'fast retransmits [1-9]' '$LOG'"
in_ns nft flush ruleset
check "SIGTERM: clean exit" dp_stop "$LOG"

# ---- net_af_packet on a veth: one queue, software steering ----
HOST=198.18.1.2
in_ns ip link add tlsov0 type veth peer name tlsov1
# frames that reach the stack carry full checksums (no offload on the peer)
in_ns ethtool -K tlsov1 tx off >/dev/null
in_ns ip link set tlsov0 up
in_ns ip addr add 198.18.1.1/24 dev tlsov1
in_ns ip link set tlsov1 up
LOG=$TMP/veth.log
dp_start "$LOG" "$HOST" net_af_packet0,iface=tlsov0 --workers 2 --response-size 1000 || exit 1
check "af_packet: 2 workers on 1 queue pair, software steering" grep -q "2 workers, 1 queue pair, software steering" "$LOG"
check "af_packet: software checksums" grep -q "checksums: tx software, rx software" "$LOG"
check "ping through the steering worker" in_ns ping -c 3 -i 0.2 -W 2 "$HOST"
check "Python: 300 sequential handshakes over one queue" in_ns python3 tests/integration/tls_load.py "$HOST" 443 300 1 --deadline 120
check "Python: 200 concurrent handshakes over one queue" in_ns python3 tests/integration/tls_load.py "$HOST" 443 200 200 --deadline 120
steered() {
	stats "$LOG" | grep -Eq "steered out [1-9]" && served 0 "$LOG" && served 1 "$LOG"
}
check "flows were steered to both workers" steered
check "SIGTERM: clean exit" dp_stop "$LOG"
finish
