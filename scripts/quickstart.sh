#!/usr/bin/env bash
# scripts/quickstart.sh: the README's first command. On a fresh Debian 12
# machine: install the Debian packages lede needs (scripts/debian-packages.txt,
# with sudo unless run as root), build in release mode (build/), index the
# bundled sample corpus (tests/data/seeds.jsonl, into sample-index/) and start
# lede-server on it in the background (127.0.0.1:8080, or $LEDE_PORT), waiting
# until it answers. It prints how to query and how to stop it. Safe to run
# again: a server it started before is stopped first.
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

port=${LEDE_PORT:-8080}
pidfile=build/lede-server.pid
if [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; then
    sleep 0.5
fi
nohup build/server/lede-server --index sample-index --listen "127.0.0.1:$port" \
    --access-log build/lede-server.access.log >build/lede-server.log 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        cat build/lede-server.log
        echo "lede-server did not start" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null
echo
echo "lede-server is running on http://127.0.0.1:$port/ (pid $(cat "$pidfile"), log build/lede-server.log)"
echo "  open http://127.0.0.1:$port/ in a browser for the search page"
echo "  curl 'http://127.0.0.1:$port/search?q=%22legal+liability%22+social+media&k=3'"
echo "  stop it with: kill \$(cat $pidfile)"
echo
curl -fsS "http://127.0.0.1:$port/search?q=%22legal+liability%22+social+media&k=3&snippets=1&facets=false" |
    python3 -c 'import json,sys; r=json.load(sys.stdin); [print("%-20s %.3f  %s" % (h["source"], h["score"], h["highlights"]["body"]["text"][:100])) for h in r["hits"]]'
