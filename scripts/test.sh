#!/bin/sh
# Install what is missing, build, and run every test: first a normal build, then
# the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [--no-sanitize]
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
echo "== build (debugoptimized)"
sh scripts/build.sh build
echo "== tests"
meson test -C build --print-errorlogs
if [ "${1:-}" != "--no-sanitize" ]; then
    echo "== build (ASan + UBSan)"
    [ -f build-asan/build.ninja ] || CC=clang-14 meson setup build-asan --buildtype=debug \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
    ninja -C build-asan
    echo "== tests under ASan + UBSan"
    WW_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs
fi
echo "== all tests passed"
