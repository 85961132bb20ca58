#!/usr/bin/env bash
# tests/e2e/run.sh: the search page's end-to-end test in a real browser.
# Builds an index from the sample corpus plus tests/e2e/articles.jsonl, starts
# lede-server on a free loopback port, drives Debian's chromium through
# playwright-core (tests/e2e/test_web.mjs), then stops the server with SIGTERM
# and checks it exited 0.
#
#   tests/e2e/run.sh LEDE_INDEX_EXE LEDE_SERVER_EXE
#
# Exit 0 passed, 1 failed, 77 skipped (no chromium; no node or playwright-core
# unless LEDE_E2E_REQUIRED=1). Screenshots go to $LEDE_E2E_OUT (default:
# e2e-shots in the meson build dir holding the server binary, else
# $TMPDIR/lede-e2e-shots).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -ne 2 ]; then
    echo "usage: $0 LEDE_INDEX_EXE LEDE_SERVER_EXE" >&2
    exit 2
fi
index_exe=$(realpath "$1")
server_exe=$(realpath "$2")

chromium=${LEDE_E2E_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "SKIP: no chromium at $chromium (apt-get install chromium)"
    exit 77
fi

missing=""
if ! command -v node >/dev/null 2>&1; then
    missing="node (apt-get install nodejs npm)"
elif [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    missing="playwright-core (npm ci --prefix tests/e2e)"
fi
if [ -n "$missing" ]; then
    if [ "${LEDE_E2E_REQUIRED:-0}" = 1 ]; then
        echo "FAIL: LEDE_E2E_REQUIRED=1 but $missing is not installed" >&2
        exit 1
    fi
    echo "SKIP: $missing is not installed"
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lede-e2e.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Default output: e2e-shots in the build dir holding the server binary.
build_dir=$(dirname "$(dirname "$server_exe")")
if [ -z "${LEDE_E2E_OUT:-}" ] && [ -f "$build_dir/build.ninja" ]; then
    out="$build_dir/e2e-shots"
else
    out=${LEDE_E2E_OUT:-${TMPDIR:-/tmp}/lede-e2e-shots}
fi
mkdir -p "$out"

cat "$root/tests/data/seeds.jsonl" "$here/articles.jsonl" >"$work/corpus.jsonl"
if ! "$index_exe" build -o "$work/index" "$work/corpus.jsonl" >"$work/index.log" 2>&1; then
    echo "FAIL: lede-index build failed:" >&2
    cat "$work/index.log" >&2
    exit 1
fi

"$server_exe" --index "$work/index" --listen 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!

# The server logs "listening on http://127.0.0.1:PORT" once it accepts.
port=""
for _ in $(seq 1 200); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$work/server.log" | head -n 1)
    [ -n "$port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        break
    fi
    sleep 0.05
done
if [ -z "$port" ]; then
    echo "FAIL: lede-server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

LEDE_E2E_OUT="$out" LEDE_E2E_CHROMIUM="$chromium" node "$here/test_web.mjs" "http://127.0.0.1:$port"
status=$?

kill -TERM "$server_pid"
wait "$server_pid"
server_status=$?
server_pid=""
if [ "$server_status" -ne 0 ]; then
    echo "not ok - lede-server exited $server_status after SIGTERM (expected 0); its log:"
    tail -n 40 "$work/server.log"
    status=1
else
    echo "ok - lede-server stopped cleanly on SIGTERM"
fi
# Under ASan/UBSan (the second suite) the server must stay silent.
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$work/server.log"; then
    echo "not ok - sanitizer report in lede-server's log:"
    grep -E -A20 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$work/server.log" | head -60
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "# server log (last 40 lines):"
    tail -n 40 "$work/server.log" | sed 's/^/# /'
fi
echo "# screenshots: $out"
exit "$status"
