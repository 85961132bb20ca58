#!/usr/bin/env bash
# bench/run.sh — owned by the lede benchmark suite (bench/); entry point of the "lede core" benchmark.
# Builds lede in release mode (build-bench/), then on the AllSides news corpus measures build time,
# MB/s, index size and top-10 query latency of lede, SQLite FTS5 and Xapian, checks result sanity,
# runs the relevance eval (bench/eval.py), and prints one report (also bench/out/report.txt, report.json).
# All bench Python runs under /usr/bin/python3 (Debian's python3-xapian is only importable there).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
PY=/usr/bin/python3
OUT="${BENCH_OUT:-$BENCH/out}"
WORK="${BENCH_WORK:-$BENCH/work}"
export BENCH_OUT="$OUT" BENCH_WORK="$WORK"

LEDE="${LEDE_INDEX:-}"
REPS=3
REUSE_PEERS=0
DO_PEERS=1
DO_EVAL=1
DO_COUNTS=1

usage() {
  cat <<USAGE
usage: bench/run.sh [--lede PATH] [--reps N] [--reuse-peers] [--no-peers] [--no-eval] [--no-counts]
  --lede PATH     lede-index binary to use as is (also: env LEDE_INDEX). Default: build it in
                  release mode in build-bench/ (meson setup build-bench --buildtype=release).
  --reps N        timed passes over the query set after the warm-up pass (default 3)
  --reuse-peers   keep existing FTS5/Xapian indexes and their build numbers in bench/out/
  --no-peers      lede only
  --no-eval       skip the SciFact/Cranfield relevance eval
  --no-counts     skip the untimed full-match-count sanity pass
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --lede) LEDE="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --reuse-peers) REUSE_PEERS=1; shift ;;
    --no-peers) DO_PEERS=0; shift ;;
    --no-eval) DO_EVAL=0; shift ;;
    --no-counts) DO_COUNTS=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n[run.sh] %s\n' "$*" >&2; }
die() { printf '[run.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies
need_apt=()
command -v zstd >/dev/null || need_apt+=(zstd)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
[ -x "$PY" ] || die "$PY not found (Debian's python3 is needed for python3-xapian)"
"$PY" -c 'import xapian' 2>/dev/null || need_apt+=(python3-xapian)
if [ -z "$LEDE" ]; then
  command -v meson >/dev/null || need_apt+=(meson)
  command -v ninja >/dev/null || need_apt+=(ninja-build)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing missing packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" \
    || die "could not install ${need_apt[*]}; install them and re-run"
fi
"$PY" - <<'PYCHECK' || die "the sqlite3 module of $PY lacks FTS5"
import sqlite3
sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE x USING fts5(a)")
PYCHECK

mkdir -p "$OUT" "$WORK"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "kernel: $(uname -r)  load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
  echo "lede: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit') $(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(dirty tree)')"
  echo "sqlite: $("$PY" -c 'import sqlite3; print(sqlite3.sqlite_version)')  xapian: $("$PY" -c 'import xapian; print(xapian.version_string())' 2>/dev/null || echo n/a)"
} > "$OUT/env.txt"

# ---------------------------------------------------------------- lede (release build)
LEDE_OK=1
if [ -z "$LEDE" ]; then
  say "building lede in release mode (build-bench/)"
  if { [ -f "$ROOT/build-bench/build.ninja" ] || meson setup "$ROOT/build-bench" "$ROOT" --buildtype=release; } \
     && ninja -C "$ROOT/build-bench" index/lede-index; then
    LEDE="$ROOT/build-bench/index/lede-index"
  else
    say "WARNING: lede did not build; continuing with the peers only"
    LEDE_OK=0
  fi
fi
if [ "$LEDE_OK" = 1 ] && [ ! -x "$LEDE" ]; then
  say "WARNING: lede-index binary '$LEDE' not found; continuing with the peers only"
  LEDE_OK=0
fi
export LEDE_INDEX="${LEDE:-}"

cd "$BENCH"
# Drop results of earlier runs so the report never mixes runs (peer build results survive --reuse-peers).
rm -f "$OUT"/lede-*.json "$OUT"/*-queries.json "$OUT"/*-counts.json "$OUT"/eval.json "$OUT"/report.*
[ "$REUSE_PEERS" = 1 ] || rm -f "$OUT"/fts5-build.json "$OUT"/xapian-build.json

say "preparing data"
"$PY" bench.py prep

# ---------------------------------------------------------------- builds (one at a time)
if [ "$LEDE_OK" = 1 ]; then
  say "lede: build"
  "$PY" bench.py lede-build --lede "$LEDE" || { say "WARNING: lede build failed; peers only"; LEDE_OK=0; }
fi
if [ "$DO_PEERS" = 1 ]; then
  for e in fts5 xapian; do
    if [ "$REUSE_PEERS" = 1 ] && [ -f "$OUT/$e-build.json" ]; then
      say "$e: reusing existing index"
    else
      say "$e: build (Xapian takes a few minutes)"
      "$PY" peers.py build "$e"
    fi
  done
fi

# ---------------------------------------------------------------- queries
if [ "$LEDE_OK" = 1 ]; then
  say "lede: queries"
  "$PY" bench.py lede-query --lede "$LEDE" --reps "$REPS" || { say "WARNING: lede queries failed"; LEDE_OK=0; }
fi
if [ "$DO_PEERS" = 1 ]; then
  for e in fts5 xapian; do say "$e: queries"; "$PY" peers.py query "$e" --reps "$REPS"; done
fi
if [ "$DO_COUNTS" = 1 ]; then
  say "full match counts (untimed sanity pass)"
  [ "$LEDE_OK" = 1 ] && { "$PY" bench.py lede-counts --lede "$LEDE" || say "WARNING: lede counts failed"; }
  if [ "$DO_PEERS" = 1 ]; then for e in fts5 xapian; do "$PY" peers.py counts "$e"; done; fi
fi

# ---------------------------------------------------------------- relevance
if [ "$DO_EVAL" = 1 ]; then
  say "relevance eval (SciFact, Cranfield)"
  eval_args=()
  [ "$LEDE_OK" = 1 ] && eval_args+=(--lede "$LEDE")
  [ "$DO_PEERS" = 1 ] || eval_args+=(--no-peers)
  if [ "$LEDE_OK" = 1 ] || [ "$DO_PEERS" = 1 ]; then
    LEDE_INDEX= "$PY" eval.py "${eval_args[@]}" || say "WARNING: eval failed"
  fi
fi

# ---------------------------------------------------------------- report
echo "load average at end: $(cut -d" " -f1-3 /proc/loadavg)" >> "$OUT/env.txt"
"$PY" report.py | tee "$OUT/report.txt"
if [ "$LEDE_OK" != 1 ]; then
  say "NOTE: lede was not benchmarked (see warnings above)"
  exit 3
fi
