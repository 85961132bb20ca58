#!/usr/bin/env bash
# tests/run.sh: the whole test suite, as the README's test command runs it:
# a fresh debug build with its tests, then the same suite built with
# AddressSanitizer + UndefinedBehaviorSanitizer. Prints one summary line
# "N passed, N failed, N skipped" over both builds and exits non-zero if any
# test failed. Build directories: build-test/ and build-asan/ (recreated).
# First it fetches what the browser test needs (tests/e2e-setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

# The browser test's tools (chromium, node, playwright-core), when they can
# be had; without them that one test is skipped with the reason.
bash tests/e2e-setup.sh

failed_setup=0
run_suite() {
    local dir=$1; shift
    rm -rf "$dir"
    if ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
        cat "$dir.setup.log"; failed_setup=1; return
    fi
    if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
        tail -50 "$dir.build.log"; failed_setup=1; return
    fi
    # Tests that take long under ASan get more time; failures print their logs.
    meson test -C "$dir" --print-errorlogs --timeout-multiplier 4 || true
}

run_suite build-test --buildtype=debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

python3 - "$failed_setup" build-test build-asan <<'PY'
import json, os, sys
setup_failed = int(sys.argv[1])
passed = failed = skipped = 0
for d in sys.argv[2:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failed += 1
        print(f"{d}: no test log (build failed)")
        continue
    for line in open(log):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"{d}: FAILED {json.loads(line)['name']} ({r})")
failed += setup_failed
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
