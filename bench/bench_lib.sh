# Shell helpers of the bench scripts (sourced): a free loopback port, the
# wait for a listener, and the CPU time of processes.

# port: a free TCP port on 127.0.0.1
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_port PORT: until something accepts on 127.0.0.1:PORT (5 s at most)
wait_port() {
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
	echo "nothing listens on port $1" >&2
	return 1
}

# ticks PID...: utime + stime of the processes (all their threads), in
# clock ticks (getconf CLK_TCK per second)
ticks() {
	local t=0 p
	for p in "$@"; do
		# fields after the ")" of the command name: utime is the 12th, stime the 13th
		t=$((t + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
	done
	echo "$t"
}

# bench_setup NAME: a work directory $tmp (removed at exit, with the server
# $SRV if one still runs), certificates in $tmp/certs, $hz (clock ticks
# per second) and an empty $out for the runs; no open-file limit below the
# hard one
bench_setup() {
	ulimit -n "$(ulimit -Hn)"
	tmp=$(mktemp -d "/tmp/tlso-$1.XXXXXX")
	SRV=
	trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$tmp"' EXIT
	bash scripts/gen-cert.sh "$tmp/certs" >/dev/null
	hz=$(getconf CLK_TCK)
	out=$tmp/runs.tsv
	: >"$out"
}

# one_worker BIN KEY [OPTIONS...]: tlsoffload with one worker on core 1,
# resumption off, no response body, on a free $PORT; its PID in $SRV, its
# log in $tmp/srv.log. stop_worker ends it.
one_worker() {
	local bin=$1 key=$2
	shift 2
	PORT=$(port)
	"$bin" --listen "127.0.0.1:$PORT" --cert "$tmp/certs/$key.crt" --key "$tmp/certs/$key.key" \
		--cores 1 --resumption off --response-size 0 "$@" >"$tmp/srv.log" 2>&1 &
	SRV=$!
	wait_port "$PORT"
}

stop_worker() {
	kill "$SRV"
	wait "$SRV" 2>/dev/null || true
	SRV=
}
