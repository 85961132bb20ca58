#!/usr/bin/python3
# bench/eval.py — owned by the lede benchmark suite (bench/).
# Relevance check of lede's BM25 ranking on two judged collections:
#   SciFact (BEIR test split, 300 queries, binary qrels) and Cranfield (225 queries, graded qrels).
# Builds a lede index of each corpus, runs `lede-index search DIR --queries F --plain -k 100`,
# and computes nDCG@10 (trec_eval ndcg_cut.10: gain = qrels grade, discount log2(rank+1),
# ideal ranking from the qrels, queries without results count 0) and Recall@100.
# The same metrics are computed for bag-of-words OR queries on SQLite FTS5 and Xapian (--no-peers to skip).
# Usage: eval.py --lede PATH [--no-peers] | eval.py --self-check
# Writes bench/out/eval.json.
import argparse
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys

from common import WORK, OUT, log, die, write_json

CORPORA = os.path.join(os.environ.get("LEDE_SHARED") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared"), "corpora")
COLLECTIONS = {
    # remove_query: drop a hit whose doc id equals the query id, as BEIR's evaluator
    # (ignore_identical_ids) and Anserini (-removeQuery) do for SciFact.
    "scifact": {"dir": os.path.join(CORPORA, "scifact-beir"), "remove_query": True},
    "cranfield": {"dir": os.path.join(CORPORA, "cranfield"), "remove_query": False},
}
K = 100


# ---------------------------------------------------------------- metrics

def ndcg_at(ranked, grades, k=10):
    """nDCG@k as trec_eval's ndcg_cut: DCG = sum_{r=1..k} grade_r / log2(r+1); ideal from qrels grades."""
    dcg = sum(grades.get(d, 0) / math.log2(r + 1) for r, d in enumerate(ranked[:k], 1) if grades.get(d, 0) > 0)
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal, 1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked, grades, k=100):
    rel = {d for d, g in grades.items() if g > 0}
    return len(rel & set(ranked[:k])) / len(rel) if rel else 0.0


def self_check():
    g = {"a": 3, "b": 2, "c": 1}
    # ranking b, x, a: DCG = 2/log2(2) + 0 + 3/log2(4) = 2 + 1.5 = 3.5
    # ideal a, b, c:   IDCG = 3/1 + 2/log2(3) + 1/log2(4) = 3 + 1.2618595 + 0.5 = 4.7618595
    v = ndcg_at(["b", "x", "a"], g)
    assert abs(v - 3.5 / 4.7618595) < 1e-6, v
    assert abs(ndcg_at(["a", "b", "c", "x"], g) - 1.0) < 1e-12
    assert ndcg_at(["x", "y"], g) == 0.0 and ndcg_at([], g) == 0.0
    # cut-off: a relevant doc at rank 11 does not count at @10
    assert ndcg_at(["x"] * 10 + ["a"], g) == 0.0
    # binary case: single relevant doc at rank 3 -> 1/log2(4) = 0.5
    assert abs(ndcg_at(["x", "y", "r"], {"r": 1}) - 0.5) < 1e-12
    assert abs(recall_at(["b", "x", "a"], g, 2) - 1 / 3) < 1e-12
    assert recall_at(["b", "x", "a"], g, 100) == 2 / 3
    log("eval metric self-check passed")


# ---------------------------------------------------------------- data

def load_collection(name):
    c = COLLECTIONS[name]
    queries = []
    with open(os.path.join(c["dir"], "queries.jsonl"), encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            queries.append((str(o["id"]), o["text"]))
    qrels = {}
    with open(os.path.join(c["dir"], "qrels.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return queries, qrels


def corpus_docs(name):
    p = subprocess.Popen(["zstd", "-dcq", os.path.join(COLLECTIONS[name]["dir"], "corpus.jsonl.zst")],
                         stdout=subprocess.PIPE)
    for line in p.stdout:
        d = json.loads(line)
        yield str(d["id"]), d.get("title") or "", d.get("body") or ""
    if p.wait() != 0:
        die(f"zstd failed on {name}")


def score(name, runs, qrels, remove_query):
    """runs: {qid: [doc ids best first]} -> metrics averaged over all judged queries."""
    nd, rc, zero = [], [], 0
    for qid, grades in qrels.items():
        ranked = runs.get(qid) or []
        if remove_query:
            ranked = [d for d in ranked if d != qid]
        if not ranked:
            zero += 1
        nd.append(ndcg_at(ranked, grades, 10))
        rc.append(recall_at(ranked, grades, K))
    return {"ndcg10": sum(nd) / len(nd), "recall100": sum(rc) / len(rc), "zero_hits": zero}


def clean(text):
    return " ".join(text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split())


# ---------------------------------------------------------------- engines

def run_lede(lede, name, queries):
    idx = os.path.join(WORK, f"eval-{name}-lede")
    if os.path.exists(idx):
        shutil.rmtree(idx)
    src = os.path.join(COLLECTIONS[name]["dir"], "corpus.jsonl.zst")
    p = subprocess.run([lede, "build", "-o", idx, "--quiet", src], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        die(f"lede-index build failed on {name}")
    qfile = os.path.join(WORK, f"eval-{name}-queries.txt")
    with open(qfile, "w", encoding="utf-8") as f:
        for qid, text in queries:
            f.write(f"{qid}\t{clean(text)}\n")
    p = subprocess.run([lede, "search", idx, "--queries", qfile, "--plain", "-k", str(K)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        die(f"lede-index search failed on {name}")
    runs = {}
    for line in p.stdout.splitlines():
        if line.strip():
            o = json.loads(line)
            runs[str(o["query"])] = [str(x) for x in o.get("ids", [])]
    missing = sum(1 for qid, _ in queries if qid not in runs)
    if missing:
        log(f"WARNING: lede gave no output line for {missing} {name} queries")
    return runs


def words(text):
    return re.findall(r"[^\W_]+", text.lower())


def run_fts5(name, queries):
    path = os.path.join(WORK, f"eval-{name}-fts5.db")
    if os.path.exists(path):
        os.unlink(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, body, tokenize='porter unicode61')")
    con.execute("BEGIN")
    con.executemany("INSERT INTO t(id, title, body) VALUES (?, ?, ?)", corpus_docs(name))
    con.execute("COMMIT")
    runs = {}
    for qid, text in queries:
        w = words(text)
        if not w:
            runs[qid] = []
            continue
        expr = " OR ".join('"' + x + '"' for x in w)
        runs[qid] = [r[0] for r in con.execute(
            f"SELECT id FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT {K}", (expr,))]
    con.close()
    return runs


def run_xapian(name, queries):
    import xapian
    path = os.path.join(WORK, f"eval-{name}-xapian")
    if os.path.exists(path):
        shutil.rmtree(path)
    db = xapian.WritableDatabase(path, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    for did, title, body in corpus_docs(name):
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(title)
        tg.increase_termpos()
        tg.index_text(body)
        doc.set_data(did)
        db.add_document(doc)
    db.commit()
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight())
    qp = xapian.QueryParser()
    qp.set_stemmer(xapian.Stem("english"))
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_OR)
    runs = {}
    for qid, text in queries:
        enq.set_query(qp.parse_query(" ".join(words(text)), 0))
        runs[qid] = [m.document.get_data().decode() for m in enq.get_mset(0, K)]
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lede", default=os.environ.get("LEDE_INDEX"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--self-check", action="store_true", help="only run the metric self-check")
    a = ap.parse_args()
    self_check()
    if a.self_check:
        return
    os.makedirs(WORK, exist_ok=True)
    engines = []
    if a.lede:
        if not os.access(a.lede, os.X_OK):
            die(f"lede-index binary not found/executable: {a.lede!r}")
        engines.append("lede")
    if not a.no_peers:
        engines += ["fts5", "xapian"]
    res = {"k": K, "metric": "trec_eval ndcg_cut.10 (gain = grade, log2(rank+1)), recall@100; -c semantics",
           "collections": {}}
    for name in COLLECTIONS:
        queries, qrels = load_collection(name)
        judged = [q for q in queries if q[0] in qrels]
        res["collections"][name] = {"queries": len(qrels), "engines": {}}
        for e in engines:
            runs = {"lede": lambda: run_lede(a.lede, name, judged),
                    "fts5": lambda: run_fts5(name, judged),
                    "xapian": lambda: run_xapian(name, judged)}[e]()
            m = score(name, runs, qrels, COLLECTIONS[name]["remove_query"])
            res["collections"][name]["engines"][e] = m
            log(f"{name:9s} {e:6s} nDCG@10 {m['ndcg10']:.4f}  R@100 {m['recall100']:.4f}  0-hit queries {m['zero_hits']}")
    res["published"] = {"scifact_bm25_ndcg10_beir": 0.665, "scifact_bm25_ndcg10_anserini_flat": 0.679,
                        "scifact_bm25_recall100_anserini_flat": 0.9253}
    write_json(os.path.join(OUT, "eval.json"), res)
    print(f"SciFact published BM25 nDCG@10: BEIR 0.665, Anserini flat 0.679 (R@100 0.925)")


if __name__ == "__main__":
    main()
