#!/usr/bin/env bash
# Generate demo/test certificates in DIR (kept if already there):
#   ca.crt/ca.key                a test CA
#   rsa.crt/rsa.key              RSA-2048 server cert for localhost/127.0.0.1, signed by the CA
#   ecdsa.crt/ecdsa.key          P-256 server cert, signed by the CA
#   client.crt/client.key        a client certificate signed by the CA
# The .crt files of server certs hold the chain (leaf first, then the CA).
set -euo pipefail
dir=${1:?usage: gen-cert.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f ecdsa.crt ] && [ -f client.crt ] && exit 0

ext=$(mktemp)
trap 'rm -f "$ext" *.csr' EXIT
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$ext"

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 825 \
	-subj "/CN=tlsoffload demo CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null

leaf() { # name keyopts
	local name=$1; shift
	openssl req -new -newkey "$@" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=localhost" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
		-extfile "$ext" -out "$name.leaf" 2>/dev/null
	cat "$name.leaf" ca.crt >"$name.crt"
	rm -f "$name.leaf"
}
leaf rsa rsa:2048
leaf ecdsa ec -pkeyopt ec_paramgen_curve:P-256

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key \
	-out client.csr -subj "/CN=tlsoffload test client" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$ext"
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
	-extfile "$ext" -out client.crt 2>/dev/null
chmod 600 ./*.key
