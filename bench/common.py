# bench/common.py — owned by the lede benchmark suite (bench/).
# Shared helpers for the bench scripts: work/out paths, the query set,
# a parser for lede's query syntax and its translation to FTS5, percentiles.
# Run every bench script with /usr/bin/python3 (Debian's python3-xapian lives there).
import json
import math
import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
WORK = os.environ.get("BENCH_WORK", os.path.join(BENCH, "work"))
OUT = os.environ.get("BENCH_OUT", os.path.join(BENCH, "out"))

# ../shared beside the repository, or $LEDE_SHARED.
SHARED = os.environ.get("LEDE_SHARED") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared")
CORPUS_ZST = os.path.join(SHARED, "corpora", "allsides-news", "corpus.jsonl.zst")
QUERIES_SRC = os.path.join(SHARED, "queries", "search-benchmark-game.jsonl")
KINDS = ["union", "intersection", "phrase", "negated", "intersection_union"]
MAIN_KINDS = ["union", "intersection", "phrase"]


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def die(msg):
    print("[bench] ERROR:", msg, file=sys.stderr, flush=True)
    sys.exit(1)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def load_queries():
    """The prepared query set: list of {qid, kind, query} (see bench.py prep)."""
    return read_json(os.path.join(WORK, "queries.json"))


def parse_lede_query(q):
    """Split a query in lede's syntax into clauses (op, words).

    op is '+' (required), '-' (excluded) or '' (optional, OR-ed).
    words is a list of words; more than one word means a phrase ("a b").
    """
    clauses = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        op = ""
        if q[i] in "+-":
            op = q[i]
            i += 1
        if i < n and q[i] == '"':
            j = q.find('"', i + 1)
            if j < 0:
                j = n
            words = q[i + 1:j].split()
            i = j + 1
        else:
            j = i
            while j < n and not q[j].isspace():
                j += 1
            words = [q[i:j]]
            i = j
        words = [w for w in words if any(c.isalnum() for c in w)]
        if words:
            clauses.append((op, words))
    return clauses


def _fts5_quote(words):
    return '"' + " ".join(words).replace('"', '""') + '"'


def to_fts5(q):
    """Translate a lede query into an FTS5 MATCH expression (every term quoted).

    union: "a" OR "b"; intersection: "a" AND "b"; phrase: "a b";
    negated: "a" NOT "b" NOT "c".  FTS5 has no optional-beside-required
    operator, so for "+a b" only the required part is kept ("a").
    Returns None when nothing searchable is left.
    """
    cl = parse_lede_query(q)
    req = [_fts5_quote(w) for op, w in cl if op == "+"]
    opt = [_fts5_quote(w) for op, w in cl if op == ""]
    neg = [_fts5_quote(w) for op, w in cl if op == "-"]
    if req:
        expr = " AND ".join(req)
    elif opt:
        expr = " OR ".join(opt)
    else:
        return None
    if neg:
        expr = "(" + expr + ")"
        for n in neg:
            expr += " NOT " + n
    return expr


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(1, math.ceil(p / 100.0 * len(v)))
    return v[k - 1]


def mean(values):
    return sum(values) / len(values) if values else float("nan")
