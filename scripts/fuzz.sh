#!/bin/sh
# Run libFuzzer targets for a while (not part of the test suite).
# Usage: sh scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   targets: scan, format_<name> for each format in lib/formats/formats.def
# New crashes land in fuzz/_work/<target>/; minimise and copy them into
# fuzz/corpus/<target>/ in the commit that fixes them.
set -eu
cd "$(dirname "$0")/.."
SECS="${1:-60}"
[ $# -gt 0 ] && shift
B=build-fuzz
[ -f "$B/build.ninja" ] || CC=clang-14 meson setup "$B" -Dfuzz=enabled --buildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C "$B" >/dev/null
TARGETS="$*"
[ -n "$TARGETS" ] || TARGETS=$(cd "$B/fuzz" && ls fuzz_* | sed 's/^fuzz_//')
for t in $TARGETS; do
    mkdir -p "fuzz/_work/$t" "fuzz/corpus/$t"
    dict=""
    f=$(echo "$t" | sed 's/^format_//')
    [ -f "fuzz/dict/$f.dict" ] && dict="-dict=fuzz/dict/$f.dict"
    echo "== fuzz_$t for ${SECS}s"
    "$B/fuzz/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 $dict \
        -artifact_prefix="fuzz/_work/$t/" "fuzz/_work/$t" "fuzz/corpus/$t" \
        tests/formats/malformed 2>&1 | grep -E '^#[0-9]+.*(DONE|pulse)|ERROR|SUMMARY|Done' | tail -3
done
