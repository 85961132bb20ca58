#!/usr/bin/env bash
# bench/server.sh — owned by the lede benchmark suite (bench/); entry point of the HTTP server benchmark.
# On loopback, wrk against lede-server's /search (with snippets) and against Groonga's own HTTP server
# (groonga -s --protocol http, /d/select with snippet_html) on the same AllSides articles, with the
# search-benchmark-game union and intersection queries: requests/s, p50/p99 latency, errors, lede/Groonga
# ratio, lede-server's RSS. Writes bench/out/server.json and bench/out/server.txt.
# All bench Python runs under /usr/bin/python3. The driver is bench/server_bench.py.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
PY=/usr/bin/python3
OUT="${BENCH_OUT:-$BENCH/out}"
WORK="${BENCH_WORK:-$BENCH/work}"
export BENCH_OUT="$OUT" BENCH_WORK="$WORK"

BUILD="${LEDE_BUILD_DIR:-$ROOT/build-bench}"
LEDE_INDEX="${LEDE_INDEX:-}"
LEDE_SERVER="${LEDE_SERVER:-}"
ENGINES="lede,groonga"
REBUILD_GROONGA=0
RUN_ARGS=()

usage() {
  cat <<USAGE
usage: bench/server.sh [--build DIR] [--lede-index PATH] [--lede-server PATH] [--groonga-only | --lede-only]
                       [--rebuild-groonga] [--seconds N] [--warmup N] [--connections N]
                       [--latency-connections N] [--reps N] [--wrk-threads N] [--quiet-wait N]
                       [--no-groonga-nosnippet]
  --build DIR           release build dir for lede (default build-bench/, as bench/run.sh;
                        env LEDE_BUILD_DIR); both index/lede-index and server/lede-server are built there
  --lede-index PATH     use this lede-index binary as is (env LEDE_INDEX)
  --lede-server PATH    use this lede-server binary as is (env LEDE_SERVER)
  --groonga-only        benchmark only the Groonga side (no lede build needed)
  --lede-only           benchmark only lede-server
  --rebuild-groonga     rebuild the Groonga database even if bench/work/groonga is up to date
  --seconds N           seconds per timed wrk run (default 20)
  --warmup N            seconds of untimed wrk warm-up before each timed run (default 5)
  --connections N       wrk connections of the throughput run (default 16)
  --latency-connections N  connections of the second, low-concurrency run (default 2; 0 = skip)
  --no-groonga-nosnippet  skip the information-only run of Groonga without snippet_html
  --reps N              timed runs per engine x query set x concurrency; the table shows the median (default 1)
  --wrk-threads N       wrk client threads (default 2)
  --quiet-wait N        before each timed run, wait up to N s until no other process uses the CPUs (default 0)
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD="$2"; shift 2 ;;
    --lede-index) LEDE_INDEX="$2"; shift 2 ;;
    --lede-server) LEDE_SERVER="$2"; shift 2 ;;
    --groonga-only) ENGINES="groonga"; shift ;;
    --lede-only) ENGINES="lede"; shift ;;
    --rebuild-groonga) REBUILD_GROONGA=1; shift ;;
    --no-groonga-nosnippet) RUN_ARGS+=("$1"); shift ;;
    --seconds|--warmup|--connections|--latency-connections|--reps|--wrk-threads|--quiet-wait)
      RUN_ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "server.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n[server.sh] %s\n' "$*" >&2; }
die() { printf '[server.sh] ERROR: %s\n' "$*" >&2; exit 1; }
want() { case ",$ENGINES," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# ---------------------------------------------------------------- dependencies
need_apt=()
command -v zstd >/dev/null || need_apt+=(zstd)
command -v wrk >/dev/null || need_apt+=(wrk)
[ -x "$PY" ] || die "$PY not found"
if want groonga; then
  command -v groonga >/dev/null || need_apt+=(groonga-bin)
  # Snowball stemming for Groonga (TokenFilterStem), as lede stems with libstemmer
  ls /usr/lib/*/groonga/plugins/token_filters/stem.so >/dev/null 2>&1 || need_apt+=(groonga-token-filter-stem)
fi
if want lede && { [ -z "$LEDE_INDEX" ] || [ -z "$LEDE_SERVER" ]; }; then
  command -v meson >/dev/null || need_apt+=(meson)
  command -v ninja >/dev/null || need_apt+=(ninja-build)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing missing packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" \
    || die "could not install ${need_apt[*]}; install them and re-run"
fi
mkdir -p "$OUT" "$WORK"

# ---------------------------------------------------------------- lede (release build)
if want lede; then
  if [ -z "$LEDE_INDEX" ] || [ -z "$LEDE_SERVER" ]; then
    say "building lede in release mode ($BUILD)"
    [ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$ROOT" --buildtype=release
    ninja -C "$BUILD" index/lede-index || die "lede-index did not build"
    ninja -C "$BUILD" server/lede-server || die "lede-server did not build (is server/ in the tree yet?)"
    [ -n "$LEDE_INDEX" ] || LEDE_INDEX="$BUILD/index/lede-index"
    [ -n "$LEDE_SERVER" ] || LEDE_SERVER="$BUILD/server/lede-server"
  fi
  [ -x "$LEDE_INDEX" ] || die "lede-index binary '$LEDE_INDEX' not found"
  [ -x "$LEDE_SERVER" ] || die "lede-server binary '$LEDE_SERVER' not found"
  LEDE_INDEX="$(realpath "$LEDE_INDEX")"; LEDE_SERVER="$(realpath "$LEDE_SERVER")"   # the steps below cd to bench/
fi

cd "$BENCH"
rm -f "$OUT/server.json" "$OUT/server.txt"
say "preparing data"
"$PY" bench.py prep

if want lede; then
  say "lede: index for the server"
  "$PY" server_bench.py lede-build --lede-index "$LEDE_INDEX"
fi
if want groonga; then
  say "groonga: database (load + static index; about 40 s)"
  gargs=(); [ "$REBUILD_GROONGA" = 1 ] && gargs+=(--force)
  "$PY" server_bench.py groonga-build "${gargs[@]}"
fi

say "servers and wrk (with the defaults about 100 s per engine and rep)"
rc=0
"$PY" server_bench.py run --engines "$ENGINES" ${LEDE_SERVER:+--lede-server "$LEDE_SERVER"} "${RUN_ARGS[@]}" || rc=$?
[ -f "$OUT/server.txt" ] && say "written: $OUT/server.json, $OUT/server.txt"
[ "$rc" = 0 ] || say "NOTE: an engine failed (see FAILED lines above and $WORK/server/*.out)"
exit "$rc"
