#!/usr/bin/env bash
# Every TLS 1.2 suite, group and signature scheme with openssl s_client;
# static RSA refused by default and served when configured.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

suite_ok() { # suite [extra s_client flags]
	local s=$1
	shift
	expect "Cipher is $s" s_client -tls1_2 -cipher "$s" "$@" &&
		expect 'Verify return code: 0' s_client -tls1_2 -cipher "$s" "$@" &&
		expect 'HTTP/1.1 200 OK' s_client -tls1_2 -cipher "$s" "$@"
}

start_server
for s in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 \
	ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 \
	ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-CHACHA20-POLY1305 \
	DHE-RSA-AES128-GCM-SHA256 DHE-RSA-AES256-GCM-SHA384; do
	check "suite $s" suite_ok "$s"
done
for s in ECDHE-ECDSA-AES128-SHA256 ECDHE-RSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384 ECDHE-RSA-AES256-SHA384; do
	check "suite $s (encrypt-then-MAC)" suite_ok "$s"
	check "suite $s (MAC-then-encrypt, -no_etm)" suite_ok "$s" -no_etm
done
for g in X25519 P-256 P-384; do
	check "group $g" expect "Server Temp Key: (X25519|ECDH, (prime256v1|secp384r1)|ECDH, P-(256|384))" \
		s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -groups "$g"
done
check "group ffdhe (DHE, 2048 bits)" expect 'Server Temp Key: DH, 2048 bits' \
	s_client -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
for sa in rsa_pss_rsae_sha256 rsa_pss_rsae_sha384 rsa_pss_rsae_sha512 RSA+SHA256 RSA+SHA384 RSA+SHA512 ECDSA+SHA256; do
	check "signature scheme $sa" expect 'Cipher is ECDHE-' s_client -tls1_2 -sigalgs "$sa"
done
check "static RSA refused by default" refuse 'handshake failure|alert' \
	s_client -tls1_2 -cipher AES128-GCM-SHA256
check "SHA-1 CBC suites off by default" refuse 'handshake failure|alert' \
	s_client -tls1_2 -cipher ECDHE-RSA-AES128-SHA

start_server --ciphers 'ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA'
check "static RSA AES128-GCM-SHA256 when configured" suite_ok AES128-GCM-SHA256
check "static RSA AES256-GCM-SHA384 when configured" suite_ok AES256-GCM-SHA384
check "ECDHE-RSA-AES128-SHA when configured" suite_ok ECDHE-RSA-AES128-SHA
finish
