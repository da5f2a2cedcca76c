#!/usr/bin/env bash
# Quick start: install what is missing, build, generate a demo certificate
# and run the server on 127.0.0.1:8443 (kernel dataplane, respond mode).
# Then, from another shell:  curl -k https://127.0.0.1:8443/
# Extra arguments are passed to tlsoffload (e.g. --workers 2 --response-size 1024).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build tlsoffload >/dev/null
bash scripts/gen-cert.sh build/demo >/dev/null
exec build/tlsoffload --listen 127.0.0.1:8443 \
	--cert build/demo/rsa.crt --key build/demo/rsa.key \
	--cert build/demo/ecdsa.crt --key build/demo/ecdsa.key "$@"
