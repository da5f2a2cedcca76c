#!/usr/bin/env bash
# Install the Debian 12 packages tlsoffload needs, only those missing.
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh test     + the TLS peers and tools the tests drive
#   scripts/deps.sh bench    + nginx, HAProxy, wrk, gnuplot and friends for bench/
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc g++ libc6-dev libssl-dev libyaml-dev
      libgtest-dev libipsec-mb-dev libdpdk-dev dpdk-dev libhiredis-dev openssl python3)
case "${1:-}" in
test)  pkgs+=(curl gnutls-bin iproute2 iputils-ping nftables ethtool procps psmisc netcat-openbsd testssl.sh
             sslscan nginx valgrind clang-14 libfuzzer-14-dev redis-server redis-tools
             python3-cryptography python3-prometheus-client) ;;   # clang: tests/fuzz; redis: redis_store.sh; python3-cryptography: sni.sh's expired OCSP response; the client: metrics.sh parses /metrics
bench) pkgs+=(curl gnutls-bin nginx haproxy wrk gnuplot-nox procps psmisc util-linux) ;;
"")    ;;
*)     echo "usage: $0 [test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
