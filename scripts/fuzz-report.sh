#!/bin/sh
# Totals of fuzz/_work/ledger.tsv (written by scripts/fuzz.sh): CPU minutes
# (user + system) and inputs executed per target, over every run recorded.
set -eu
cd "$(dirname "$0")/.."
L=fuzz/_work/ledger.tsv
[ -f "$L" ] || { echo "no $L yet: run scripts/fuzz.sh first" >&2; exit 2; }
printf "%-24s %8s %12s %5s\n" target "CPU min" execs runs
awk -F'\t' '{cpu[$1] += $2 + $3; ex[$1] += $4; runs[$1]++}
    END { for (t in cpu) printf "%-24s %8.1f %12d %5d\n", t, cpu[t] / 60, ex[t], runs[t] }' "$L" | sort
awk -F'\t' '{c += $2 + $3; e += $4} END { printf "%-24s %8.1f %12d\n", "total", c / 60, e }' "$L"
