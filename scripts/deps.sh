#!/bin/sh
# Install every build, test and benchmark dependency of Vigie on Debian 12 (idempotent).
# Usage: scripts/deps.sh            (as root, or through sudo)
set -eu
PKGS="build-essential cmake ninja-build pkg-config git python3 python3-yaml
      python3-jsonschema libyaml-dev libpcre2-dev libvectorscan-dev libsqlite3-dev sqlite3
      libssl-dev libmicrohttpd-dev libsodium-dev libzstd-dev libcurl4-openssl-dev nftables iproute2 curl
      libbpf-dev bpftool libelf-dev zlib1g-dev libyara-dev libpcap-dev tshark tcpdump openssl
      clang-14 libclang-rt-14-dev llvm-14 clang-format-14
      libevtx-utils hyperfine valgrind chromium"
# the web console's browser test (tests/ui) runs playwright-core on Node.js; a Node.js already
# installed (e.g. a newer one from NodeSource, which bundles npm) is kept
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
