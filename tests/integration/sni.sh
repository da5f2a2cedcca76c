#!/usr/bin/env bash
# Certificates chosen by SNI (two names with an RSA and an ECDSA
# certificate each, a wildcard, the default for an unknown name and for no
# name), RSA vs ECDSA by the client's signature algorithms and suites,
# TLS 1.2 and 1.3; OCSP stapling (openssl s_client -status), an expired
# response not stapled and logged; gnutls-cli's SNI; YAML names:.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

C=$TMP/sni
mkdir -p "$C"
ext=$C/ext

# leaf NAME rsa|ecdsa SAN: NAME.crt (chain: leaf, CA) and NAME.key, subject
# CN=NAME, signed by the test CA. The keys are lib.sh's (no key
# generation: the certificates are what differs).
leaf() {
	local name=$1 key=$2 san=$3
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$ext"
	cp "$CERTS/$key.key" "$C/$name.key"
	openssl req -new -key "$C/$name.key" -out "$C/$name.csr" -subj "/CN=$name" 2>/dev/null
	openssl x509 -req -in "$C/$name.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -CAcreateserial \
		-days 30 -extfile "$ext" -out "$C/$name.leaf" 2>/dev/null
	cat "$C/$name.leaf" "$CERTS/ca.crt" >"$C/$name.crt"
}
leaf a-rsa rsa DNS:a.test
leaf a-ec ecdsa DNS:a.test
leaf b-rsa rsa 'DNS:b.test,DNS:www.b.test'
leaf b-ec ecdsa 'DNS:b.test,DNS:www.b.test'
leaf w-ec ecdsa 'DNS:*.w.test'

# OCSP responses from the test CA acting as its own responder, no
# network: an index file in `openssl ca` format names the certificates.
index_line() { # NAME: "V expiry (empty) serial unknown subject"
	printf 'V\t%s\t\t%s\tunknown\t/CN=%s\n' "$(date -u -d '+30 days' +%y%m%d%H%M%SZ)" \
		"$(openssl x509 -in "$C/$1.leaf" -noout -serial | cut -d= -f2)" "$1"
}
{ index_line a-ec; index_line a-rsa; } >"$C/index.txt"
openssl ocsp -index "$C/index.txt" -rsigner "$CERTS/ca.crt" -rkey "$CERTS/ca.key" -CA "$CERTS/ca.crt" \
	-issuer "$CERTS/ca.crt" -cert "$C/a-ec.leaf" -respout "$C/a-ec.ocsp" -ndays 1 >/dev/null 2>&1
# `openssl ocsp` dates its responses now; an expired one (nextUpdate an
# hour ago) is signed with python3-cryptography instead.
python3 - "$C/a-rsa.leaf" "$CERTS/ca.crt" "$CERTS/ca.key" "$C/a-rsa.ocsp" <<'EOF'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
leaf = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[3], "rb").read(), None)
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
b = ocsp.OCSPResponseBuilder().add_response(
    cert=leaf, issuer=ca, algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.GOOD,
    this_update=now - datetime.timedelta(days=2), next_update=now - datetime.timedelta(hours=1),
    revocation_time=None, revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, ca)
open(sys.argv[4], "wb").write(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
EOF

# The default set first (launch: localhost RSA + ECDSA), then the names.
start_server --cert "$C/a-rsa.crt" --key "$C/a-rsa.key" --ocsp "$C/a-rsa.ocsp" \
	--cert "$C/a-ec.crt" --key "$C/a-ec.key" --ocsp "$C/a-ec.ocsp" \
	--cert "$C/b-rsa.crt" --key "$C/b-rsa.key" --cert "$C/b-ec.crt" --key "$C/b-ec.key" \
	--cert "$C/w-ec.crt" --key "$C/w-ec.key"

# served NAME SUBJECT_CN [s_client args...]: the certificate served for the
# server name NAME has subject CN=SUBJECT_CN and verifies for that name.
served() {
	local name=$1 cn=$2
	shift 2
	local out
	out=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername "$name" \
			-CAfile "$CERTS/ca.crt" -verify_hostname "$name" -verify_return_error -ign_eof "$@" 2>&1)
	echo "$out" | grep -Eq "^subject=CN ?= ?$cn\$" && echo "$out" | grep -q 'HTTP/1.1 200 OK' || {
		echo "expected subject CN=$cn for $name:"
		echo "$out" | grep -E '^(subject|issuer)=|Verif|alert|error|Peer signature' | head -10
		return 1
	}
}

for v in 1.2 1.3; do
	check "TLS $v: a.test, ECDSA by default" served a.test a-ec "-tls${v/./_}"
	check "TLS $v: b.test, ECDSA by default" served b.test b-ec "-tls${v/./_}"
	check "TLS $v: www.b.test (second SAN name)" served www.b.test b-ec "-tls${v/./_}"
	check "TLS $v: upper-case A.TEST" served A.TEST a-ec "-tls${v/./_}"
	check "TLS $v: a.test RSA when the client signs with RSA only" served a.test a-rsa "-tls${v/./_}" \
		-sigalgs 'rsa_pss_rsae_sha256:RSA+SHA256'
	check "TLS $v: b.test RSA when the client signs with RSA only" served b.test b-rsa "-tls${v/./_}" \
		-sigalgs 'rsa_pss_rsae_sha256:RSA+SHA256'
	check "TLS $v: x.w.test by the wildcard *.w.test" served x.w.test w-ec "-tls${v/./_}"
	# no name: the default certificate; the name check is for localhost
	check "TLS $v: unknown name -> default (localhost)" expect '^subject=CN ?= ?localhost$' \
		s_client "-tls${v/./_}" -servername unknown.test
	check "TLS $v: no SNI -> default (localhost)" expect '^subject=CN ?= ?localhost$' \
		sh -c "printf '' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -noservername -tls${v/./_} 2>&1"
	# "*.w.test" is one label: neither w.test nor a.b.w.test
	check "TLS $v: w.test is not *.w.test -> default" expect '^subject=CN ?= ?localhost$' \
		s_client "-tls${v/./_}" -servername w.test
	check "TLS $v: a.b.w.test is not *.w.test -> default" expect '^subject=CN ?= ?localhost$' \
		s_client "-tls${v/./_}" -servername a.b.w.test
done
check "TLS 1.2: a.test RSA by the suites (ECDHE-RSA only)" served a.test a-rsa -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
check "TLS 1.2: a.test ECDSA by the suites (ECDHE-ECDSA only)" served a.test a-ec -tls1_2 \
	-cipher ECDHE-ECDSA-AES128-GCM-SHA256
# wildcard name with only an ECDSA certificate: an RSA-only client fails
# rather than getting another name's certificate
check "TLS 1.3: x.w.test RSA-only client refused (no other name's certificate)" refuse 'alert|error' \
	s_client -tls1_3 -servername x.w.test -sigalgs rsa_pss_rsae_sha256

# OCSP: a-ec's response stapled, a-rsa's expired one not, and logged.
for v in 1.2 1.3; do
	check "TLS $v: OCSP staple for a.test ECDSA (s_client -status)" expect 'OCSP Response Status: successful' \
		s_client "-tls${v/./_}" -servername a.test -status
	check "TLS $v: expired OCSP response of a.test RSA not stapled" expect 'OCSP response: no response sent' \
		s_client "-tls${v/./_}" -servername a.test -status -sigalgs rsa_pss_rsae_sha256
	check "TLS $v: no staple without status_request" sh -c \
		"! printf '' | timeout 10 openssl s_client -connect 127.0.0.1:$PORT -servername a.test -tls${v/./_} -msg 2>&1 |
		grep -q CertificateStatus"
done
check "TLS 1.2: CertificateStatus message after Certificate" expect 'CertificateStatus' \
	s_client -tls1_2 -servername a.test -status -msg
check "expired OCSP response logged at load" grep -q 'a-rsa.ocsp.*expired' "$TMP/server.log"

# Resumption only for the same name (RFC 6066 3).
resume_case() { # VERSION NAME2 WANT(Reused|New)
	rm -f "$TMP/sess.pem"
	printf '' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername a.test "-tls${1/./_}" \
		-sess_out "$TMP/sess.pem" >/dev/null 2>&1
	printf '' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername "$2" "-tls${1/./_}" \
		-sess_in "$TMP/sess.pem" 2>&1 | grep -Eq "^$3,"
}
check "TLS 1.2: a.test session resumed for a.test" resume_case 1.2 a.test Reused
check "TLS 1.2: a.test session not resumed for b.test" resume_case 1.2 b.test New
check "TLS 1.2: a.test session resumed for A.TEST (names fold case)" resume_case 1.2 A.TEST Reused

# gnutls-cli's SNI.
gnutls_subject() { # NAME CN [args]
	local name=$1 cn=$2
	shift 2
	printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
		timeout 10 gnutls-cli --x509cafile "$CERTS/ca.crt" -p "$PORT" 127.0.0.1 --sni-hostname "$name" \
			--verify-hostname "$name" "$@" 2>&1 | grep -Eq "subject \`CN=$cn'"
}
if command -v gnutls-cli >/dev/null; then
	check "gnutls-cli: b.test" gnutls_subject b.test b-ec
	check "gnutls-cli: a.test RSA (RSA-only priority)" gnutls_subject a.test a-rsa \
		--priority 'NORMAL:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-SHA256'
	check "gnutls-cli: x.w.test (wildcard)" gnutls_subject x.w.test w-ec
	check "gnutls-cli: OCSP status of a.test" expect 'OCSP status|ocsp' \
		sh -c "printf '' | timeout 10 gnutls-cli --x509cafile $CERTS/ca.crt -p $PORT 127.0.0.1 \
			--sni-hostname a.test --verify-hostname a.test --save-ocsp $TMP/g.ocsp 2>&1; \
			openssl ocsp -respin $TMP/g.ocsp -resp_text -noverify 2>&1 | grep -i 'ocsp response status'"
fi

# YAML names: override the certificate's own names.
stop_server
cat >"$TMP/names.yaml" <<EOF
listeners:
  - listen: 127.0.0.1:$(free_port)
    certificates:
      - {cert: "$CERTS/rsa.crt", key: "$CERTS/rsa.key"}
      - {cert: "$C/a-ec.crt", key: "$C/a-ec.key", names: [other.test]}
EOF
PORT=$(sed -n 's/.*listen: 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/names.yaml")
"$BIN" -c "$TMP/names.yaml" >"$TMP/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
check "YAML names: other.test gets a-ec (its names: override)" expect '^subject=CN ?= ?a-ec$' \
	s_client -servername other.test
check "YAML names: a.test (only in the certificate) -> default" expect '^subject=CN ?= ?localhost$' \
	s_client -servername a.test
finish
