#!/usr/bin/env bash
# The end-to-end table of bench/RESULTS.md in one command: server CPU per
# full handshake, tlsoffload against nginx (bench/cpu_per_handshake.sh),
# for the six configurations the issues name -- RSA-2048 and ECDSA P-256,
# TLS 1.2 and 1.3 with the default (IFMA) backend, and TLS 1.2 with the
# OpenSSL backend -- and a markdown table of the medians at the end.
# Usage: bench/e2e_matrix.sh [--duration S] [--runs N] [--bin build/tlsoffload]
# Loopback only. Needs nginx and wrk (scripts/deps.sh bench).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=5 runs=5 bin=build/tlsoffload
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	*) echo "unknown argument $1" >&2; exit 2 ;;
	esac
done

rows=()
for cfg in "rsa 1.2 auto" "rsa 1.3 auto" "ecdsa 1.2 auto" "ecdsa 1.3 auto" "rsa 1.2 openssl" "ecdsa 1.2 openssl"; do
	read -r key tls accel <<<"$cfg"
	echo "=== --key $key --tls $tls --accel $accel"
	out=$(bash bench/cpu_per_handshake.sh --key "$key" --tls "$tls" --accel "$accel" \
		--duration "$duration" --runs "$runs" --bin "$bin")
	echo "$out"
	# "median: nginx N us/handshake, tlsoffload T us/handshake, nginx/us = R"
	med=$(echo "$out" | awk '/^median:/ {print $3, $6, $10}')
	[ -n "$med" ] || { echo "no median for $cfg" >&2; exit 1; }
	read -r n t r <<<"$med"
	rows+=("| $key | $tls | $accel | $n | $t | **$r** |")
done
echo
echo "| certificate | TLS | backend | nginx µs | tlsoffload µs | nginx/us |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
