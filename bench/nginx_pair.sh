# Sourced by the bench scripts that compare tlsoffload with nginx + OpenSSL
# side by side (cpu_per_handshake.sh, load_vs_nginx.sh): the same
# certificate, suite and groups, one worker each, resumption off in both.
# Before sourcing: key (rsa|ecdsa), tls (1.2|1.3), accel, bin. Sets suite,
# tmp (removed at exit) and, after pair_start, np/tp (nginx's and our
# port) and pids (nginx's master, then ours). Loopback only.
case $key in
rsa) suite=ECDHE-RSA-AES128-GCM-SHA256 ;;
ecdsa) suite=ECDHE-ECDSA-AES128-GCM-SHA256 ;;
*) echo "--key rsa|ecdsa" >&2; exit 2 ;;
esac
case $tls in
1.2) nginx_tls="ssl_protocols TLSv1.2; ssl_ciphers $suite;" ;;
1.3) suite=TLS_AES_128_GCM_SHA256
     nginx_tls="ssl_protocols TLSv1.3; ssl_conf_command Ciphersuites $suite;" ;;
*) echo "--tls 1.2|1.3" >&2; exit 2 ;;
esac

tmp=$(mktemp -d /tmp/tlso-bench.XXXXXX)
pids=()
pair_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap pair_cleanup EXIT
bash scripts/gen-cert.sh "$tmp/certs" >/dev/null
source bench/bench_lib.sh   # port, wait_port, ticks

# pair_start CPU: nginx (one worker, no session cache, no tickets) and
# tlsoffload (one worker), both pinned to CPU.
pair_start() {
	local cpu=$1
	np=$(port)
	mkdir -p "$tmp/nginx/logs"
	cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$np ssl;
        ssl_certificate $tmp/certs/$key.crt;
        ssl_certificate_key $tmp/certs/$key.key;
        $nginx_tls
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 ""; }
    }
}
CONF
	taskset -c "$cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
	pids+=($!)
	wait_port "$np"
	tp=$(port)
	taskset -c "$cpu" "$bin" --listen "127.0.0.1:$tp" --cert "$tmp/certs/$key.crt" \
		--key "$tmp/certs/$key.key" --cores "$cpu" --resumption off --response-size 0 \
		--ciphers "$suite" --accel "$accel" --log-level warn &
	pids+=($!)
	wait_port "$tp"
}
