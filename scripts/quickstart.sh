#!/usr/bin/env bash
# scripts/quickstart.sh: the README's first command. On a fresh Debian 12
# machine: install the Debian packages lede needs (scripts/debian-packages.txt,
# with sudo unless run as root), build in release mode (build/), index the
# bundled sample corpus (tests/data/seeds.jsonl, into sample-index/) and run a
# query on it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=$(while read -r pkg; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done <scripts/debian-packages.txt)
if [ -n "$missing" ]; then
    as_root apt-get update
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
fi

[ -d build ] || meson setup build --buildtype=release
ninja -C build
build/index/lede-index build -o sample-index tests/data/seeds.jsonl
build/index/lede-index stats sample-index
echo 'query: "legal liability" social media'
build/index/lede-index search sample-index '"legal liability" social media' -k 5
