#!/bin/sh
# Benchmark of `weightwall serve` against the loopback fake hub (tests/remote/hubserver.py).
# Prints: TTFB on a cold cache for a 1 GiB malicious and a 1 GiB benign checkpoint, throughput
# serving a cached blob (one and four clients), added latency for cached small files versus the
# upstream itself, and the gate's peak RSS under load (32 parallel 1 GiB downloads).
#
#   bench/gate_bench.sh [path/to/weightwall]     (default build-gate/cli/weightwall, then build/)
#
# Needs /usr/bin/python3 with python3-torch (fixture builder) and curl. Everything listens on
# 127.0.0.1 and stops by itself; the work dir is removed at the end.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WW=${1:-}
if [ -z "$WW" ]; then
    for d in build-gate build; do
        if [ -x "$ROOT/$d/cli/weightwall" ]; then WW="$ROOT/$d/cli/weightwall"; break; fi
    done
fi
[ -x "$WW" ] || { echo "gate_bench: weightwall binary not found" >&2; exit 2; }
command -v curl >/dev/null || { echo "gate_bench: curl is required" >&2; exit 2; }
WORK=$(mktemp -d /tmp/ww-gate-bench.XXXXXX)
HUBPID=""; GATEPID=""
cleanup() {
    [ -n "$GATEPID" ] && kill "$GATEPID" 2>/dev/null || true
    [ -n "$HUBPID" ] && kill "$HUBPID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# ---- upstream: the fake hub with a 1 GiB benign and a 1 GiB malicious checkpoint (sparse) ----
cat > "$WORK/hub.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "remote"))
import hubfixtures as F
from hubserver import HubServer, RepoFile
work = sys.argv[2]
numel = 1 << 28                                   # 2^28 float32 = 1 GiB
big = os.path.join(work, "benign.bin")
size, sha = F.write_sparse_torch_zip(big, numel)
orig = F.torch_data_pkl
F.torch_data_pkl = lambda n, key="weight": (lambda b: b[:2] + F.POSIX_SYSTEM_PREFIX + b[2:])(orig(n, key))
evil = os.path.join(work, "evil.bin")
esize, esha = F.write_sparse_torch_zip(evil, numel)
F.torch_data_pkl = orig
b = F.benign_repo_files()
with HubServer(page_size=100, max_lifetime=1800) as hub:
    hub.add_repo("acme/big-benign", {"config.json": b["config.json"],
                 "pytorch_model.bin": RepoFile("pytorch_model.bin", big, sha256=sha)})
    hub.add_repo("acme/big-evil", {"config.json": b["config.json"],
                 "pytorch_model.bin": RepoFile("pytorch_model.bin", evil, sha256=esha)})
    hub.add_repo("acme/small", dict(b))
    with open(os.path.join(work, "hub.url.tmp"), "w") as f:
        f.write(f"{hub.url} {size} {sha}\n")
    os.rename(os.path.join(work, "hub.url.tmp"), os.path.join(work, "hub.url"))
    while os.path.exists(os.path.join(work, "hub.py")):
        time.sleep(0.5)
EOF
/usr/bin/python3 "$WORK/hub.py" "$ROOT" "$WORK" > "$WORK/hub.log" 2>&1 &
HUBPID=$!
i=0
while [ ! -f "$WORK/hub.url" ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { echo "hub did not start"; cat "$WORK/hub.log"; exit 1; }
    sleep 0.2
done
read -r HUB BIGSIZE BIGSHA < "$WORK/hub.url"

cat > "$WORK/policy.rego" <<'EOF'
package cloudsmith
import rego.v1
default match := false
incomplete_or_unsafe if {
    input.v0.model_security.availability != "COMPLETE"
}
incomplete_or_unsafe if {
    input.v0.model_security.scan_summary != "SAFE"
}
match if {
    "huggingface" == input.v0.package.format
    incomplete_or_unsafe
}
EOF
"$WW" serve --upstream "$HUB" --listen 127.0.0.1:0 --store "$WORK/store" \
    --policy "$WORK/policy.rego" --ready-file "$WORK/gate.url" --exit-after 1700 --quiet \
    > "$WORK/gate.log" 2>&1 &
GATEPID=$!
i=0
while [ ! -f "$WORK/gate.url" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "gate did not start"; cat "$WORK/gate.log"; exit 1; }
    sleep 0.1
done
GATE=$(cat "$WORK/gate.url")
echo "weightwall gate benchmark: $WW"
echo "  upstream $HUB (fake hub, loopback), gate $GATE, $(nproc) cores"

ttfb() { # url -> "status seconds": request start to first byte, 503 retries included
    t0=$(date +%s.%N)
    n=0
    while :; do
        ts=$(date +%s.%N)
        out=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}' --max-time 120 "$1")
        code=${out% *}
        [ "$code" = 503 ] && [ $n -lt 30 ] || break
        n=$((n + 1)); sleep 1
    done
    echo "$code $(echo "$t0 $ts ${out#* } $n" | awk '{printf "%.2f %d", $2 - $1 + $3, $4}')"
}

set -- $(ttfb "$GATE/acme/big-evil/resolve/main/pytorch_model.bin")
echo "TTFB cold, 1 GiB malicious checkpoint: ${2} s (HTTP $1 after $3 x 503; refused by the ranged scan)"
set -- $(ttfb "$GATE/acme/big-benign/resolve/main/pytorch_model.bin")
echo "TTFB cold, 1 GiB benign checkpoint:    ${2} s (HTTP $1 after $3 x 503; ranged scan, download + sha256, rescan)"

up=$(curl -s -o /dev/null -w '%{speed_download}' "$(curl -s -o /dev/null -w '%{redirect_url}' "$HUB/acme/big-benign/resolve/main/pytorch_model.bin")")
echo "$up" | awk '{printf "  (for reference: the fake hub itself delivers the 1 GiB blob at %.2f GB/s)\n", $1/1e9}'

# ---- throughput from the store ----
curl -s -o /dev/null "$GATE/acme/big-benign/resolve/main/pytorch_model.bin"
t0=$(date +%s.%N)
for k in 1 2 3; do
    curl -s -o /dev/null "$GATE/acme/big-benign/resolve/main/pytorch_model.bin"
done
t1=$(date +%s.%N)
echo "$t0 $t1 $BIGSIZE" | awk '{printf "Throughput, cached 1 GiB blob, 1 client:  %.2f GB/s\n", 3*$3/($2-$1)/1e9}'
t0=$(date +%s.%N)
pids=""
for k in 1 2 3 4; do
    curl -s -o /dev/null "$GATE/acme/big-benign/resolve/main/pytorch_model.bin" &
    pids="$pids $!"
done
wait $pids
t1=$(date +%s.%N)
echo "$t0 $t1 $BIGSIZE" | awk '{printf "Throughput, cached 1 GiB blob, 4 clients: %.2f GB/s aggregate\n", 4*$3/($2-$1)/1e9}'

# ---- added latency for cached small files (keep-alive client, median of 300) ----
/usr/bin/python3 - "$HUB" "$GATE" <<'EOF'
import http.client, statistics, sys, time, urllib.parse
def lat(base, path, n=300):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    out = []
    for i in range(n + 20):
        t0 = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
        if i >= 20:
            out.append((time.perf_counter() - t0) * 1e3)
    c.close()
    return statistics.median(out), sorted(out)[int(len(out) * 0.99) - 1]
import json
p = "/acme/small/resolve/main/config.json"
c = http.client.HTTPConnection(urllib.parse.urlsplit(sys.argv[1]).hostname,
                               urllib.parse.urlsplit(sys.argv[1]).port)
c.request("GET", "/api/models/acme/small/revision/main"); sha = json.loads(c.getresponse().read())["sha"]
lat(sys.argv[2], p, 5)                              # warm: decision + blob in the store
up = lat(sys.argv[1], p)
gw = lat(sys.argv[2], p)
gc = lat(sys.argv[2], f"/acme/small/resolve/{sha}/config.json")
print(f"Small cached file (config.json, keep-alive, median of 300):")
print(f"  gate, rev=main: {gw[0]:.2f} ms (p99 {gw[1]:.2f} ms); gate, rev=<commit>: {gc[0]:.2f} ms "
      f"(p99 {gc[1]:.2f} ms)")
print(f"  upstream fake hub directly: {up[0]:.2f} ms (Python http.server; dominated by "
      f"delayed ACK), so the gate adds {gw[0]:.2f} ms at most in absolute terms")
EOF

# ---- peak RSS under load: 32 parallel 1 GiB downloads ----
t0=$(date +%s.%N)
pids=""
for k in $(seq 1 32); do
    curl -s -o /dev/null "$GATE/acme/big-benign/resolve/main/pytorch_model.bin" &
    pids="$pids $!"
done
wait $pids
t1=$(date +%s.%N)
echo "$t0 $t1 $BIGSIZE" | awk '{printf "Load, 32 parallel 1 GiB downloads: %.2f GB/s aggregate\n", 32*$3/($2-$1)/1e9}'
rss=$(awk '/VmHWM/ {print $2}' "/proc/$GATEPID/status")
echo "Peak RSS of the gate (whole run, incl. 32 parallel 1 GiB downloads): $((rss / 1024)) MiB"
curl -s "$GATE/metrics" | grep -E '^weightwall_gate_(bytes_served|upstream_bytes|scan_seconds_(sum|count)|quarantines)_?' || true
rm -f "$WORK/hub.py"
