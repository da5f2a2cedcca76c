#!/usr/bin/env bash
# Generate demo/test certificates in DIR (kept if already there):
#   ca.crt/ca.key                a test CA
#   rsa.crt/rsa.key              RSA-2048 server cert for localhost/127.0.0.1, signed by the CA
#   ecdsa.crt/ecdsa.key          P-256 server cert, signed by the CA
#   client.crt/client.key        a client certificate signed by the CA
#   rsaBITS.crt/rsaBITS.key      with --rsa-bits BITS... (e.g. 3072 4096): more RSA server
#                                certs of those sizes, same CA (made even when the rest exists)
# The .crt files of server certs hold the chain (leaf first, then the CA).
set -euo pipefail
dir=${1:?usage: gen-cert.sh DIR [--rsa-bits BITS...]}
shift
extra_bits=()
if [ "${1:-}" = --rsa-bits ]; then
	shift
	extra_bits=("$@")
fi
mkdir -p "$dir"
cd "$dir"

ext=$(mktemp)
trap 'rm -f "$ext" *.csr' EXIT
server_ext() {
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$ext"
}
server_ext

more_rsa() {
	local b
	for b in "${extra_bits[@]}"; do
		case $b in
		2048|3072|4096|8192) ;;
		*) echo "gen-cert.sh: --rsa-bits takes 2048, 3072, 4096 or 8192, not $b" >&2; exit 2 ;;
		esac
		[ -f "rsa$b.crt" ] || leaf "rsa$b" "rsa:$b"
	done
	chmod 600 ./*.key
}

leaf() { # name keyopts
	local name=$1; shift
	openssl req -new -newkey "$@" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=localhost" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
		-extfile "$ext" -out "$name.leaf" 2>/dev/null
	cat "$name.leaf" ca.crt >"$name.crt"
	rm -f "$name.leaf"
}

if [ -f ecdsa.crt ] && [ -f client.crt ]; then
	more_rsa
	exit 0
fi

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 825 \
	-subj "/CN=tlsoffload demo CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null

leaf rsa rsa:2048
leaf ecdsa ec -pkeyopt ec_paramgen_curve:P-256

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key \
	-out client.csr -subj "/CN=tlsoffload test client" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$ext"
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
	-extfile "$ext" -out client.crt 2>/dev/null
server_ext
more_rsa
