#!/usr/bin/env bash
# One harness's smoke run (meson test --suite fuzz):
#   fuzz_smoke.sh HARNESS CORPUS_DIR REGRESSIONS_DIR SECONDS
# Replays every regression input once, then fuzzes for SECONDS from the
# seed corpus (left untouched: new inputs go to a scratch directory).
# A crash, leak, timeout or sanitizer report fails the test; its input is
# kept in fuzz-artifacts/ of the current (build) directory.
set -uo pipefail
exe=$1 corpus=$2 regressions=$3 seconds=$4
name=$(basename "$exe")

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
scratch=$(mktemp -d "/tmp/$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p fuzz-artifacts
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$PWD/fuzz-artifacts/$name-")

shopt -s nullglob
inputs=("$regressions"/*)
if [ ${#inputs[@]} -gt 0 ]; then
	echo "$name: replaying ${#inputs[@]} regression inputs"
	"$exe" "${common[@]}" "${inputs[@]}" || { echo "FAIL $name: a regression input fails again"; exit 1; }
fi
seeds=()
[ -d "$corpus" ] && seeds=("$corpus")
"$exe" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 "$scratch" "${seeds[@]}" 2>&1 |
	grep -v '^#[0-9]*[[:space:]]*\(NEW\|REDUCE\|pulse\)' 
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && echo "ok   $name" || echo "FAIL $name (exit $rc)"
exit "$rc"
