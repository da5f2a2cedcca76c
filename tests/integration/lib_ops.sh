# Helpers of the reload and drain tests (reload.sh, drain.sh,
# dpdk_ops.sh), sourced after lib.sh.

# wait_for TENTHS CMD...: until CMD succeeds, at most TENTHS x 0.1 s.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# log_count FILE PATTERN N: FILE has at least N lines matching PATTERN.
log_count() { [ "$(grep -Ec -- "$2" "$1")" -ge "$3" ]; }

# hup PID FILE PATTERN [N]: SIGHUP, then wait (5 s at most) until FILE
# has N (default 1) lines matching PATTERN.
hup() {
	kill -HUP "$1"
	wait_for 50 log_count "$2" "$3" "${4:-1}"
}

# cert_id FILE: the leaf's SHA-256, 16 hex digits (ops_peer.py cert_id).
cert_id() { openssl x509 -in "$1" -outform DER | sha256sum | cut -c1-16; }

# new_cert: $CERTS/new.crt and new.key, another certificate for the same
# name from the same CA.
new_cert() {
	(
		cd "$CERTS" || exit 1
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
		openssl req -new -newkey rsa:2048 -nodes -keyout new.key -out new.csr -subj "/CN=localhost reloaded" \
			2>/dev/null &&
			openssl x509 -req -in new.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile ext.cnf \
				-out new.leaf 2>/dev/null &&
			cat new.leaf ca.crt >new.crt
	)
}
