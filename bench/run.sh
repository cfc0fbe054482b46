#!/bin/sh
# weightwall benchmark: prints files/s, MB/s and peak RSS per case. Not a test.
# Usage: sh bench/run.sh [build-dir]
set -eu
cd "$(dirname "$0")/.."
B="${1:-build-release}"
[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=release >/dev/null
ninja -C "$B" >/dev/null
WW="$B/cli/weightwall"
C=bench/_corpus
/usr/bin/python3 bench/make_corpus.py "$C" >/dev/null

run() { # name, args...
    name=$1; shift
    bytes=$(du -sb "$@" 2>/dev/null | awk '{s+=$1} END {print s}')
    files=$(find "$@" -type f | wc -l)
    # best of 3 wall times; peak RSS from /usr/bin/time
    best=999999
    for i in 1 2 3; do
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o /tmp/ww_bench_rss "$WW" scan -q "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        ms=$(( (t1 - t0) / 1000000 ))
        [ "$ms" -lt "$best" ] && best=$ms
    done
    rss=$(cat /tmp/ww_bench_rss)
    awk -v n="$name" -v ms="$best" -v b="$bytes" -v f="$files" -v rss="$rss" 'BEGIN {
        s = (ms > 0 ? ms : 0.5) / 1000.0;
        printf "%-28s %6d files %9.1f MB %8d ms %10.1f files/s %10.1f MB/s  peak RSS %6.1f MB\n",
               n, f, b / 1e6, ms, f / s, b / 1e6 / s, rss / 1024.0 }'
}

echo "weightwall $($WW version | cut -d' ' -f2) on $(nproc) cores"
run "1 GB torch zip checkpoint" $C/ckpt_1g.pt
run "100 MB torch zip checkpoint" $C/ckpt_100m.pt
run "100 MB legacy torch" $C/legacy_100m.pt
run "100 MB pickle, small objs" $C/objects_100m.pkl
run "2000 small pickles (-j all)" $C/small
for f in model.npz model.safetensors model.gguf model.onnx model.h5; do
    [ -f $C/$f ] && run "$f" $C/$f
done
echo "-- without the sandbox (in-process parsing):"
run_ns() { name=$1; shift; t0=$(date +%s%N); "$WW" scan -q --no-sandbox "$@" >/dev/null 2>&1 || true
           t1=$(date +%s%N); echo "$name: $(( (t1 - t0) / 1000000 )) ms"; }
run_ns "1 GB torch zip checkpoint" $C/ckpt_1g.pt
run_ns "2000 small pickles" $C/small
echo "-- pickle opcode throughput (CPU time):"
[ -x "$B/bench/pickle_bench" ] && "$B/bench/pickle_bench" $C/objects_100m.pkl 5 || true
echo "-- policy evaluation:"
[ -x "$B/bench/policy_bench" ] && "$B/bench/policy_bench" || true
