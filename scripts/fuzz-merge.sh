#!/bin/sh
# Minimise the working corpora of scripts/fuzz.sh into the committed corpora
# (fuzz/corpus/<target>/, replayed by `meson test --suite fuzz-regression`).
# Inputs larger than 64 KiB are left out to keep the repository small.
# Usage: sh scripts/fuzz-merge.sh [TARGET...]
set -eu
cd "$(dirname "$0")/.."
B=build-fuzz
TARGETS="$*"
[ -n "$TARGETS" ] || TARGETS=$(ls fuzz/_work | grep -v '\.' | grep -v '^crash-')
for t in $TARGETS; do
    [ -x "$B/fuzz/fuzz_$t" ] && [ -d "fuzz/_work/$t" ] || continue
    mkdir -p "fuzz/corpus/$t"
    "$B/fuzz/fuzz_$t" -merge=1 -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        "fuzz/corpus/$t" "fuzz/_work/$t" >/dev/null 2>&1 || true
    echo "$t: $(ls fuzz/corpus/$t | wc -l) inputs, $(du -sh fuzz/corpus/$t | cut -f1)"
done
