#!/bin/sh
# Install every Debian 12 package weightwall needs to build and test.
# Only packages that are missing are installed; safe to run repeatedly.
set -eu
PKGS="build-essential meson ninja-build pkg-config clang-14 libclang-rt-14-dev
libarchive-dev libhdf5-dev libcurl4-openssl-dev libjansson-dev libpcre2-dev
libmicrohttpd-dev libseccomp-dev libsqlite3-dev libpq-dev libssl-dev zlib1g-dev libzstd-dev
liblzma-dev libbz2-dev valgrind
python3 python3-pytest python3-yaml python3-numpy python3-torch python3-joblib python3-sklearn
python3-h5py python3-onnx python3-dill python3-cloudpickle python3-protobuf python3-jinja2
p7zip-full zstd xz-utils bzip2
postgresql chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
else
    echo "install-deps: all packages present"
fi
