#!/usr/bin/env bash
# Install what is missing, build, and run every test:
#   1. build/      warnings as errors; unit tests + integration tests with real peers
#   2. build-san/  AddressSanitizer + UndefinedBehaviorSanitizer; unit tests and
#                  the integration tests that drive most of the server's code
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

logs=(build/meson-logs/testlog.junit.xml)
[ -f build-san/meson-logs/testlog.junit.xml ] && [ "${TLSO_SKIP_SAN:-0}" != 1 ] &&
	logs+=(build-san/meson-logs/testlog.junit.xml)
python3 scripts/count-tests.py "${logs[@]}" || status=1
exit $status
