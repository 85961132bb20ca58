#!/usr/bin/python3
# bench/peers.py — owned by the lede benchmark suite (bench/).
# Builds and queries the two peer engines on the same data and queries as lede:
#   SQLite FTS5  (Python sqlite3, fts5(title, body, tokenize='porter unicode61'), bm25())
#   Xapian       (python3-xapian, TermGenerator + English stemmer, positions, BM25Weight)
# Usage: peers.py build  {fts5|xapian}
#        peers.py query  {fts5|xapian} [--reps N]
#        peers.py counts {fts5|xapian}
# Inputs come from bench.py prep (bench/work/); results go to bench/out/<engine>-*.json.
import argparse
import json
import os
import resource
import shutil
import sqlite3
import time

from common import WORK, OUT, log, die, read_json, write_json, load_queries, to_fts5

try:
    import xapian
except ImportError:  # only fatal when Xapian is asked for
    xapian = None

CORPUS = os.path.join(WORK, "allsides.jsonl")
FTS5_DB = os.path.join(WORK, "fts5.db")
XAPIAN_DIR = os.path.join(WORK, "xapian")
TOP_K = 10


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def docs():
    """(docno, title, body), docno = 1-based line number = FTS5 rowid = Xapian docid."""
    with open(CORPUS, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            d = json.loads(line)
            yield no, d.get("title") or "", d.get("body") or ""


def dir_parts(path):
    parts = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            key = name.split(".")[0]
            parts[key] = parts.get(key, 0) + os.path.getsize(full)
    return parts


# ---------------------------------------------------------------- FTS5

def fts5_build():
    if os.path.exists(FTS5_DB):
        os.unlink(FTS5_DB)
    t0 = time.perf_counter()
    con = sqlite3.connect(FTS5_DB, isolation_level=None)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61')")
    con.execute("BEGIN")
    n = 0
    for no, title, body in docs():
        con.execute("INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)", (no, title, body))
        n += 1
    con.execute("COMMIT")
    t_insert = time.perf_counter() - t0
    t1 = time.perf_counter()
    con.execute("INSERT INTO t(t) VALUES ('optimize')")  # merge all segments into one b-tree
    t_opt = time.perf_counter() - t1
    con.close()
    seconds = time.perf_counter() - t0
    con = sqlite3.connect(FTS5_DB)
    parts = {name: size for name, size in
             con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")}
    con.close()
    stored = parts.get("t_content", 0)
    total = os.path.getsize(FTS5_DB)
    parts["free pages"] = total - sum(parts.values())
    res = {
        "engine": "fts5", "documents": n, "seconds": seconds,
        "insert_seconds": t_insert, "optimize_seconds": t_opt,
        "peak_rss_mb": peak_rss_mb(), "cpu_seconds": cpu_seconds(),
        "bytes_total": total, "bytes_stored": stored,
        "bytes_index": total - stored - parts["free pages"],
        "parts": parts, "sqlite_version": sqlite3.sqlite_version,
    }
    write_json(os.path.join(OUT, "fts5-build.json"), res)
    log(f"fts5: {n} docs in {seconds:.1f} s (insert {t_insert:.1f} s, optimize {t_opt:.1f} s), {total/1e6:.1f} MB")


class Fts5:
    SQL = "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT %d" % TOP_K

    def __init__(self):
        if not os.path.exists(FTS5_DB):
            die("no FTS5 index; run peers.py build fts5 first")
        self.con = sqlite3.connect(FTS5_DB)
        self.cur = self.con.cursor()

    def prepare(self, q):
        return to_fts5(q)  # the adapter's translation is not timed

    def run(self, expr):
        """Timed part: execute the query and fetch the top-10 rowids."""
        if expr is None:
            return [], 0
        t0 = time.perf_counter_ns()
        rows = self.cur.execute(self.SQL, (expr,)).fetchall()
        t1 = time.perf_counter_ns()
        return [r[0] for r in rows], (t1 - t0) / 1000.0

    def count(self, expr):
        if expr is None:
            return 0
        return self.cur.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expr,)).fetchone()[0]


# ---------------------------------------------------------------- Xapian

def need_xapian():
    if xapian is None:
        die("python3-xapian is not importable from /usr/bin/python3 (apt-get install python3-xapian)")


def xapian_build():
    need_xapian()
    raw = XAPIAN_DIR + "-raw"
    for d in (raw, XAPIAN_DIR):
        if os.path.exists(d):
            shutil.rmtree(d)
    t0 = time.perf_counter()
    db = xapian.WritableDatabase(raw, xapian.DB_CREATE_OR_OVERWRITE)
    tg = xapian.TermGenerator()
    tg.set_stemmer(xapian.Stem("english"))
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)  # default: raw terms with positions + Z-stems
    n = 0
    for no, title, body in docs():
        doc = xapian.Document()
        tg.set_document(doc)
        tg.index_text(title)
        tg.increase_termpos()  # no phrase across title/body
        tg.index_text(body)
        if db.add_document(doc) != no:  # docid = line number
            die("xapian: unexpected docid")
        n += 1
    db.commit()
    db.close()
    t_index = time.perf_counter() - t0
    raw_parts = dir_parts(raw)
    # Like FTS5's 'optimize': compact the fresh database (what xapian-compact does); queries use the result.
    t1 = time.perf_counter()
    xapian.Database(raw).compact(XAPIAN_DIR)
    t_compact = time.perf_counter() - t1
    seconds = time.perf_counter() - t0
    shutil.rmtree(raw)
    parts = dir_parts(XAPIAN_DIR)
    total = sum(parts.values())
    res = {
        "engine": "xapian", "documents": n, "seconds": seconds,
        "index_seconds": t_index, "compact_seconds": t_compact,
        "peak_rss_mb": peak_rss_mb(), "cpu_seconds": cpu_seconds(),
        "bytes_total": total, "bytes_stored": parts.get("docdata", 0),
        "bytes_index": total - parts.get("docdata", 0),
        "parts": parts, "bytes_before_compact": sum(raw_parts.values()), "parts_before_compact": raw_parts,
        "xapian_version": xapian.version_string(),
    }
    write_json(os.path.join(OUT, "xapian-build.json"), res)
    log(f"xapian: {n} docs in {seconds:.1f} s (index+commit {t_index:.1f} s, compact {t_compact:.1f} s), "
        f"{total/1e6:.1f} MB ({res['bytes_before_compact']/1e6:.1f} MB before compact)")


class Xapian:
    FLAGS = 0

    def __init__(self):
        need_xapian()
        if not os.path.exists(XAPIAN_DIR):
            die("no Xapian index; run peers.py build xapian first")
        self.db = xapian.Database(XAPIAN_DIR)
        self.enq = xapian.Enquire(self.db)
        self.enq.set_weighting_scheme(xapian.BM25Weight())
        self.qp = xapian.QueryParser()
        self.qp.set_stemmer(xapian.Stem("english"))
        self.qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
        self.qp.set_default_op(xapian.Query.OP_OR)
        self.flags = (xapian.QueryParser.FLAG_PHRASE | xapian.QueryParser.FLAG_BOOLEAN
                      | xapian.QueryParser.FLAG_LOVEHATE)

    def prepare(self, q):
        return q  # lede's syntax is Xapian QueryParser syntax; parsing is timed

    def run(self, q):
        t0 = time.perf_counter_ns()
        self.enq.set_query(self.qp.parse_query(q, self.flags))
        ids = [m.docid for m in self.enq.get_mset(0, TOP_K)]
        t1 = time.perf_counter_ns()
        return ids, (t1 - t0) / 1000.0

    def count(self, q):
        self.enq.set_query(self.qp.parse_query(q, self.flags))
        n = self.db.get_doccount()
        return self.enq.get_mset(0, 0, n).get_matches_estimated()  # exact: check_at_least = all docs


ENGINES = {"fts5": Fts5, "xapian": Xapian}
BUILDERS = {"fts5": fts5_build, "xapian": xapian_build}


def query(engine, reps):
    ids_of = read_json(os.path.join(WORK, "ids.json"))  # docno-1 -> article id
    qs = load_queries()
    e = ENGINES[engine]()
    prepared = [e.prepare(q["query"]) for q in qs]
    t0 = time.perf_counter()
    for p in prepared:  # warm-up, untimed
        e.run(p)
    log(f"{engine}: warm-up pass {time.perf_counter() - t0:.1f} s")
    times = [[] for _ in qs]
    last = [None] * len(qs)
    for r in range(reps):
        for i, p in enumerate(prepared):
            ids, us = e.run(p)
            times[i].append(us)
            last[i] = ids
    out = []
    for q, p, t, ids in zip(qs, prepared, times, last):
        out.append({"qid": q["qid"], "kind": q["kind"], "query": q["query"],
                    "engine_query": str(p), "us": t, "ids": [ids_of[d - 1] for d in ids]})
    write_json(os.path.join(OUT, f"{engine}-queries.json"), {"engine": engine, "reps": reps, "k": TOP_K, "queries": out})
    log(f"{engine}: {len(qs)} queries x {reps} timed reps done")


def counts(engine):
    qs = load_queries()
    e = ENGINES[engine]()
    res = {q["qid"]: e.count(e.prepare(q["query"])) for q in qs}
    write_json(os.path.join(OUT, f"{engine}-counts.json"), res)
    log(f"{engine}: match counts done")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("action", choices=["build", "query", "counts"])
    ap.add_argument("engine", choices=sorted(ENGINES))
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.action == "build":
        if not os.path.exists(CORPUS):
            die(f"{CORPUS} missing; run bench.py prep first")
        BUILDERS[a.engine]()
    elif a.action == "query":
        query(a.engine, a.reps)
    else:
        counts(a.engine)


if __name__ == "__main__":
    main()
