#!/usr/bin/env bash
# Install what is missing, build, and run every test:
#   1. build/      warnings as errors; unit tests + integration tests with real peers
#   2. build-san/  AddressSanitizer + UndefinedBehaviorSanitizer; unit tests and
#                  the integration tests that drive most of the server's code
#   3. build-fuzz/ clang, the libFuzzer harnesses of tests/fuzz: each replays its
#                  regression inputs and fuzzes for 25 s under ASan + UBSan, two at a time
# Ends with the line "N passed, M failed" (gtest cases and integration scripts).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh test || exit 1

status=0
if [ ! -f build/build.ninja ]; then
	meson setup build -Dwerror=true >/dev/null || exit 1
fi
ninja -C build || exit 1
meson test -C build --print-errorlogs --num-processes 2 || status=1

if [ "${TLSO_SKIP_SAN:-0}" != 1 ]; then
	if [ ! -f build-san/build.ninja ]; then
		meson setup build-san -Dwerror=true -Db_sanitize=address,undefined \
			-Db_lundef=false >/dev/null || exit 1
	fi
	ninja -C build-san || exit 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-san --suite unit --suite integration-san --print-errorlogs --num-processes 2 ||
		status=1
fi

if [ "${TLSO_SKIP_FUZZ:-0}" != 1 ]; then
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang-14 CXX=clang++-14 meson setup build-fuzz -Dfuzz=true -Ddpdk=disabled -Dwerror=true \
			-Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
	fi
	ninja -C build-fuzz || exit 1
	meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2 || status=1
fi

logs=(build/meson-logs/testlog.junit.xml)
[ -f build-san/meson-logs/testlog.junit.xml ] && [ "${TLSO_SKIP_SAN:-0}" != 1 ] &&
	logs+=(build-san/meson-logs/testlog.junit.xml)
[ -f build-fuzz/meson-logs/testlog.junit.xml ] && [ "${TLSO_SKIP_FUZZ:-0}" != 1 ] &&
	logs+=(build-fuzz/meson-logs/testlog.junit.xml)
python3 scripts/count-tests.py "${logs[@]}" || status=1
exit $status
