#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: fuzzes lede-server's request handling
# (tests/fuzz/fuzz_request.c) with libFuzzer for SECONDS (default 60) and
# prints one summary line, "fuzz: N runs in S s, 0 crashes", or what crashed
# and where the input was saved. Exits 0 when nothing crashed, leaked or hung,
# 1 when something did, 2 when the fuzzer could not be built or run.
#
# Needs clang and its fuzzer runtime (Debian 12: apt-get install clang
# libclang-rt-14-dev). Builds in build-fuzz/ (LEDE_FUZZ_BUILD overrides;
# configured once, then rebuilt incrementally): clang, ASan + UBSan, and
# coverage instrumentation on all of liblede and the server code. Fuzzes a
# scratch copy of tests/fuzz/corpus/ (never the corpus itself) with
# tests/fuzz/request.dict; inputs up to 4096 bytes, 10 s per input at most.
# The log and any crash input are kept in BUILD/fuzz-run/.
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: tests/fuzz/run.sh [SECONDS]" >&2
    exit 2
fi
build=${LEDE_FUZZ_BUILD:-build-fuzz}
work=$build/fuzz-run

if ! command -v clang >/dev/null; then
    echo "fuzz: clang not found (Debian 12: apt-get install clang libclang-rt-14-dev)"
    exit 2
fi

# Configure once (-O1 with line tables: quick to build, stack traces with
# lines, assertions on); fuzzer-no-link instruments every library for coverage
# feedback (the harness itself gets -fsanitize=fuzzer from tests/meson.build).
# UBSan checks stay recoverable so tests/fuzz/ubsan.supp can name known
# reports; halt_on_error makes every other one fatal.
if [ ! -f "$build/build.ninja" ]; then
    rm -rf "$build"
    mkdir -p "$build"
    if ! CC=clang meson setup "$build" --buildtype=plain -Dfuzz=true \
            -Db_sanitize=address,undefined -Db_lundef=false \
            "-Dc_args=-O1 -gline-tables-only -fsanitize=fuzzer-no-link" \
            >"$build.setup.log" 2>&1; then
        tail -30 "$build.setup.log"
        echo "fuzz: meson setup failed (log: $build.setup.log)"
        exit 2
    fi
fi
if ! ninja -C "$build" tests/fuzz_request >"$build.build.log" 2>&1; then
    tail -50 "$build.build.log"
    echo "fuzz: build failed (log: $build.build.log)"
    exit 2
fi

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp tests/fuzz/corpus/* "$work/corpus/"
log=$work/fuzz.log
started=$(date +%s)

# libFuzzer reports crashes, sanitizer errors, leaks (-detect_leaks) and
# inputs slower than -timeout; each writes its input to artifacts/ and ends
# the run with a non-zero status.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=tests/fuzz/ubsan.supp} \
    "$build/tests/fuzz_request" "$work/corpus" \
    -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -dict=tests/fuzz/request.dict -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 >"$log" 2>&1
status=$?
took=$(($(date +%s) - started))

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1)
echo "  coverage at the end: ${cov:-unknown} (log: $log)"

artifacts=$(find "$work/artifacts" -type f | sort)
if [ "$status" -eq 0 ] && [ -z "$artifacts" ]; then
    echo "fuzz: ${runs:-?} runs in $took s, 0 crashes"
    exit 0
fi
if [ -z "$artifacts" ]; then
    tail -20 "$log"
    echo "fuzz: fuzz_request stopped with status $status after $took s and saved no input (log: $log)"
    exit 2
fi
# What went wrong: the sanitizer's or libFuzzer's report, then each input
# as a C string so it can be pasted into a test.
grep -m1 -A40 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|invariant violated|ERROR: libFuzzer' "$log" | head -60
for a in $artifacts; do
    printf '  input %s: "' "$a"
    od -An -v -tx1 "$a" | tr -s ' \n' ' ' | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g; s/ $//' | tr -d '\n'
    echo '"'
done
what=$(grep -o -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+|runtime error: .*|invariant violated: .*' "$log" | head -1)
n=$(echo "$artifacts" | grep -c .)
[ "$n" -eq 1 ] && crashes="1 crash" || crashes="$n crashes"
echo "fuzz: ${runs:-?} runs in $took s, $crashes: ${what:-exit status $status} (input saved in $work/artifacts/)"
exit 1
