#!/usr/bin/env bash
# tests/e2e-setup.sh: gets what the browser test (tests/e2e/) needs, when it
# can: Debian's chromium (apt, as root or with passwordless sudo), Node.js and
# npm if there is no node, and playwright-core at the version pinned in
# tests/e2e/package-lock.json (npm ci; it never downloads a browser). Safe to
# run again: it installs only what is missing. It does not fail: whatever
# it could not get, it says so, and the test then skips with that message
# (unless LEDE_E2E_REQUIRED=1, as in CI once chromium is installed).
set -uo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}
apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null 2>&1 ||
        { as_root apt-get update -qq >/dev/null 2>&1 &&
          as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
              "$@" >/dev/null 2>&1; }
}

if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium || echo "e2e-setup: could not install chromium (apt-get install chromium)"
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm || echo "e2e-setup: could not install nodejs and npm"
fi
if command -v npm >/dev/null && [ ! -f tests/e2e/node_modules/playwright-core/package.json ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/e2e --no-audit --no-fund \
        --loglevel=error >/dev/null 2>&1 ||
        echo "e2e-setup: npm ci --prefix tests/e2e failed (is the npm registry reachable?)"
fi
exit 0
