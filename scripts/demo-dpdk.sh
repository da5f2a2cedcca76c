#!/usr/bin/env bash
# The demo on the dpdk dataplane, without a NIC: a network namespace
# "tlso-demo" with a TAP device that DPDK's net_tap drives; the userspace
# stack owns 198.18.0.2 (port 443), the kernel side of the TAP gets
# 198.18.0.1/24. From another shell:
#   ip netns exec tlso-demo curl -k https://198.18.0.2/
# Ctrl-C stops the server and deletes the namespace. Needs root. Extra
# arguments go to tlsoffload (e.g. --workers 2 --response-size 1024).
set -euo pipefail
cd "$(dirname "$0")/.."

NS=tlso-demo
bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build tlsoffload >/dev/null
bash scripts/gen-cert.sh build/demo >/dev/null
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
pid=
stop() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap stop EXIT
trap 'exit 0' INT TERM
ip netns exec "$NS" build/tlsoffload --dataplane dpdk --listen 198.18.0.2:443 \
	--cert build/demo/rsa.crt --key build/demo/rsa.key \
	--cert build/demo/ecdsa.crt --key build/demo/ecdsa.key "$@" \
	-- --no-pci --no-huge -m 512 --no-shconf --vdev=net_tap0,iface=tlsodemo0 &
pid=$!
# the TAP device appears once the port is up
for _ in $(seq 100); do
	ip netns exec "$NS" ip link show tlsodemo0 >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || exit 1
	sleep 0.1
done
ip netns exec "$NS" ip addr add 198.18.0.1/24 dev tlsodemo0
ip netns exec "$NS" ip link set tlsodemo0 up
echo "ready: ip netns exec $NS curl -k https://198.18.0.2/   (Ctrl-C stops it)"
wait "$pid"
