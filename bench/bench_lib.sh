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
