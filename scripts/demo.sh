#!/bin/sh
# Install what is missing, build, and scan the demo set: the seed article's three
# __reduce__ pickles (os.system, webbrowser.open, print) and a real benign PyTorch
# checkpoint. Expected: CRITICAL, HIGH and MEDIUM findings, the checkpoint clean,
# exit code 1 (unsafe files found).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/build.sh build >/dev/null
rm -rf demo/_out && mkdir -p demo/_out
/usr/bin/python3 demo/make_demo.py demo/_out
echo "== weightwall scan demo/_out"
set +e
./build/cli/weightwall scan demo/_out
rc=$?
set -e
echo "== exit code: $rc (0 clean, 1 unsafe found, 2 error)"
[ "$rc" -eq 1 ]
