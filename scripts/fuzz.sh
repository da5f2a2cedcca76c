#!/usr/bin/env bash
# Long fuzzing runs of the libFuzzer harnesses (tests/fuzz/README.md):
#   scripts/fuzz.sh [--hours H] [--jobs J] [TARGET...]
# Builds build-fuzz/ (clang, ASan + UBSan) if needed, then runs each
# TARGET (default: all) in turn for H hours divided among them, with J
# worker processes each (libFuzzer's -fork mode; default: the cores). The
# corpus grows in build-fuzz/fuzz-corpus/<target> (kept between runs, seeded
# from tests/fuzz/corpus/<target>); crashes, leaks and timeouts are saved
# in build-fuzz/fuzz-artifacts/ and the run goes on. Each target's final
# libFuzzer statistics go to build-fuzz/fuzz-logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

hours=1
jobs=$(nproc)
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--hours) hours=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
all=(rec client_hello engine engine_keys ns_tcp http cfg_yaml)
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzz=true -Ddpdk=disabled -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
seconds=$(python3 -c "print(max(1, int(float('$hours') * 3600 / ${#targets[@]})))")
cd build-fuzz
mkdir -p fuzz-artifacts fuzz-logs
for t in "${targets[@]}"; do
	mkdir -p "fuzz-corpus/$t"
	# records and handshakes up to 2^14 bytes and past it (record_overflow)
	case $t in rec|engine|engine_keys) max_len=20000 ;; *) max_len=4096 ;; esac
	echo "fuzz.sh: $t for ${seconds}s with $jobs workers (log: build-fuzz/fuzz-logs/$t.log)"
	"tests/fuzz/fuzz_$t" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$PWD/fuzz-artifacts/$t-" "fuzz-corpus/$t" "../tests/fuzz/corpus/$t" \
		>"fuzz-logs/$t.log" 2>&1 || true
	grep -E 'cov: ' "fuzz-logs/$t.log" | tail -1
done
ls fuzz-artifacts | sed 's/^/fuzz.sh: artifact /'
