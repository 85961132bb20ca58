#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: runs lede's three libFuzzer targets for SECONDS
# in all (default 60), split evenly: fuzz_request (lede-server's request
# handling, tests/fuzz/fuzz_request.c), fuzz_jsonl (the JSON Lines record
# parser, fuzz_jsonl.c) and fuzz_segment (segment open and decoding,
# fuzz_segment.c). Prints one line per target, "fuzz TARGET: N runs in S s,
# 0 crashes", or what crashed and where the input was saved. Exits 0 when
# nothing crashed, leaked or hung, 1 when something did, 2 when a fuzzer
# could not be built or run. LEDE_FUZZ_TARGETS="jsonl segment" picks some.
#
# Needs clang and its fuzzer runtime (Debian 12: apt-get install clang
# libclang-rt-14-dev). Builds in build-fuzz/ (LEDE_FUZZ_BUILD overrides;
# configured once, then rebuilt incrementally): clang, ASan + UBSan, and
# coverage instrumentation on all of liblede and the server code. Each
# target fuzzes a scratch copy of its seed corpus (tests/fuzz/corpus/,
# corpus-jsonl/, corpus-segment/; never the corpus itself), the request
# target with tests/fuzz/request.dict; inputs up to 4096 bytes (requests),
# 8192 (JSON Lines) or 32768 (segments: the seeds are real segment files),
# 10 s per input at most. Logs and crash inputs are kept in
# BUILD/fuzz-run/TARGET/.
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
targets=${LEDE_FUZZ_TARGETS:-request jsonl segment}
ntargets=$(echo $targets | wc -w)
per=$((secs / ntargets))
[ "$per" -ge 1 ] || per=1
ninja_targets=""
for t in $targets; do ninja_targets="$ninja_targets tests/fuzz_$t"; done
# shellcheck disable=SC2086
if ! ninja -C "$build" $ninja_targets >"$build.build.log" 2>&1; then
    tail -50 "$build.build.log"
    echo "fuzz: build failed (log: $build.build.log)"
    exit 2
fi

# fuzz_one TARGET CORPUS MAX_LEN [EXTRA...]: one target for $per seconds.
fuzz_one() {
    local target=$1 corpus=$2 max_len=$3
    shift 3
    local dir=$work/$target
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    cp "$corpus"/* "$dir/corpus/"
    local log=$dir/fuzz.log started status took runs cov artifacts what n crashes
    started=$(date +%s)
    # libFuzzer reports crashes, sanitizer errors, leaks (-detect_leaks) and
    # inputs slower than -timeout; each writes its input to artifacts/ and
    # ends the run with a non-zero status.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=tests/fuzz/ubsan.supp} \
        "$build/tests/fuzz_$target" "$dir/corpus" \
        -max_total_time="$per" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -detect_leaks=1 -artifact_prefix="$dir/artifacts/" -print_final_stats=1 "$@" \
        >"$log" 2>&1
    status=$?
    took=$(($(date +%s) - started))

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' "$log" | tail -1)
    echo "  $target: coverage at the end: ${cov:-unknown} (log: $log)"

    artifacts=$(find "$dir/artifacts" -type f | sort)
    if [ "$status" -eq 0 ] && [ -z "$artifacts" ]; then
        echo "fuzz $target: ${runs:-?} runs in $took s, 0 crashes"
        return 0
    fi
    if [ -z "$artifacts" ]; then
        tail -20 "$log"
        echo "fuzz $target: stopped with status $status after $took s and saved no input (log: $log)"
        return 2
    fi
    # What went wrong: the sanitizer's or libFuzzer's report, then each
    # input as a C string so it can be pasted into a test.
    grep -m1 -A40 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|invariant violated|ERROR: libFuzzer' "$log" | head -60
    for a in $artifacts; do
        printf '  input %s: "' "$a"
        head -c 2048 "$a" | od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ \([0-9a-f][0-9a-f]\)/\\x\1/g; s/ $//' | tr -d '\n'
        echo '"'
    done
    what=$(grep -o -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+|runtime error: .*|invariant violated: .*' "$log" | head -1)
    n=$(echo "$artifacts" | grep -c .)
    [ "$n" -eq 1 ] && crashes="1 crash" || crashes="$n crashes"
    echo "fuzz $target: ${runs:-?} runs in $took s, $crashes: ${what:-exit status $status} (input saved in $dir/artifacts/)"
    return 1
}

worst=0
for t in $targets; do
    case $t in
    request) fuzz_one request tests/fuzz/corpus 4096 -dict=tests/fuzz/request.dict ;;
    jsonl) fuzz_one jsonl tests/fuzz/corpus-jsonl 8192 ;;
    segment) fuzz_one segment tests/fuzz/corpus-segment 32768 ;;
    *) echo "fuzz: unknown target $t"; (exit 2) ;;
    esac
    rc=$?
    if [ "$rc" -eq 2 ] || { [ "$rc" -eq 1 ] && [ "$worst" -ne 2 ]; }; then worst=$rc; fi
done
exit "$worst"
