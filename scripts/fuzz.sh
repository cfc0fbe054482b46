#!/bin/sh
# Run libFuzzer targets for a while (not part of the test suite).
# Usage: sh scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   targets: scan, format_<name> for each format in lib/formats/formats.def
# The working corpus is fuzz/_work/<target>/ (kept between runs); crashes land in
# fuzz/_work/crash-<target>-*. `sh scripts/fuzz-merge.sh` minimises the working
# corpora into fuzz/corpus/<target>/ (replayed by the test suite). Copy crashes into
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
    case "$t" in
    policy_*) dict="-dict=fuzz/dict/rego.dict" ;;
    scan) # the whole entry point sees every format: all dictionaries at once
        cat fuzz/dict/[!r]*.dict > fuzz/_work/scan.dict && dict="-dict=fuzz/_work/scan.dict" ;;
    esac
    echo "== fuzz_$t for ${SECS}s"
    # Seeds: the committed corpus, the malformed samples and, when present, the
    # peer samples and the test fixtures (read-only inputs; new units go to _work).
    seeds="fuzz/corpus/$t tests/formats/malformed"
    [ -d ../shared/peer-samples ] && seeds="$seeds ../shared/peer-samples"
    case "$t" in policy_*) seeds="fuzz/corpus/$t policies" ;; esac
    # Undefined behaviour is a crash, as in the sanitizer test build.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    /usr/bin/time -f "cpu_seconds=%U+%S" -o "fuzz/_work/$t.time" \
    "$B/fuzz/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 $dict \
        -artifact_prefix="fuzz/_work/crash-$t-" "fuzz/_work/$t" $seeds \
        > "fuzz/_work/$t.log" 2>&1 || true
    grep -E 'DONE|ERROR|SUMMARY|Done' "fuzz/_work/$t.log" | tail -2
    cat "fuzz/_work/$t.time"
    execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "fuzz/_work/$t.log" | tail -1)
    printf '%s\t%s\t%s\n' "$t" "$(sed 's/cpu_seconds=//; s/+/\t/' "fuzz/_work/$t.time")" \
        "${execs:-0}" >> fuzz/_work/ledger.tsv
done
