#!/bin/sh
# Configure (once) and build weightwall into build/ (or $1).
set -eu
cd "$(dirname "$0")/.."
B="${1:-build}"
[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=debugoptimized >/dev/null
ninja -C "$B"
