#!/usr/bin/python3
# bench/bench.py — owned by the lede benchmark suite (bench/).
# Data preparation and the lede side of the news benchmark:
#   prep                      decompress the AllSides corpus into bench/work/, measure its
#                             title+body bytes, write the query set (queries.json, lede-queries.txt)
#   lede-build  --lede PATH   time `lede-index build --quiet`, read `lede-index stats`
#   lede-query  --lede PATH   time every query in-process with `lede-index search --queries`
#   lede-counts --lede PATH   full match counts (untimed sanity pass)
# Results go to bench/out/lede-*.json; bench/report.py turns everything into the report.
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from common import (WORK, OUT, CORPUS_ZST, QUERIES_SRC, KINDS, log, die,
                    read_json, write_json, load_queries)

CORPUS = os.path.join(WORK, "allsides.jsonl")
LEDE_DIR = os.path.join(WORK, "lede-allsides")


def prep():
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(CORPUS):
        log(f"decompressing {CORPUS_ZST} -> {CORPUS}")
        tmp = CORPUS + ".tmp"
        with open(tmp, "wb") as f:
            subprocess.run(["zstd", "-dcq", CORPUS_ZST], stdout=f, check=True)
        os.replace(tmp, CORPUS)
    info_path = os.path.join(WORK, "corpus-info.json")
    if not os.path.exists(info_path) or read_json(info_path).get("file_bytes") != os.path.getsize(CORPUS):
        ids, text_bytes = [], 0
        t0 = time.perf_counter()
        with open(CORPUS, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                ids.append(str(d["id"]))
                text_bytes += len((d.get("title") or "").encode()) + len((d.get("body") or "").encode())
        parse_s = time.perf_counter() - t0
        write_json(os.path.join(WORK, "ids.json"), ids)
        write_json(info_path, {"documents": len(ids), "text_bytes": text_bytes,
                               "file_bytes": os.path.getsize(CORPUS), "python_parse_seconds": parse_s})
    info = read_json(info_path)
    log(f"corpus: {info['documents']} docs, {info['text_bytes']/1e6:.1f} MB title+body "
        f"(Python read+json.loads pass: {info['python_parse_seconds']:.1f} s)")
    qs = []
    with open(QUERIES_SRC, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            o = json.loads(line)
            kind = o["tags"][0]
            if kind in KINDS:
                qs.append({"qid": f"q{no}", "kind": kind, "query": o["query"]})
    write_json(os.path.join(WORK, "queries.json"), qs)
    log("queries: " + ", ".join(f"{k} {sum(q['kind'] == k for q in qs)}" for k in KINDS))




def lede_build(lede):
    info = read_json(os.path.join(WORK, "corpus-info.json"))
    if os.path.exists(LEDE_DIR):
        shutil.rmtree(LEDE_DIR)
    cmd = [lede, "build", "-o", LEDE_DIR, "--quiet", CORPUS]
    log("running: " + " ".join(cmd))
    logf = os.path.join(WORK, "lede-build.log")
    with open(logf, "wb") as lf:  # a file, not a pipe: wait4 must not block on a full pipe
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)  # wait4 gives this child's own peak RSS
        secs = time.perf_counter() - t0
    with open(logf, "rb") as lf:
        err = lf.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
        die(f"lede-index build failed (exit {code})")
    st = subprocess.run([lede, "stats", LEDE_DIR], capture_output=True, text=True)
    if st.returncode != 0:
        sys.stderr.write(st.stderr[-4000:])
        die("lede-index stats failed")
    stats = json.loads(st.stdout)
    parts = stats.get("bytes", {})
    total = sum(v for v in parts.values() if isinstance(v, (int, float)))
    disk = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(LEDE_DIR) for f in fs)
    res = {"engine": "lede", "seconds": secs, "peak_rss_mb": ru.ru_maxrss / 1024.0,
           "cpu_seconds": ru.ru_utime + ru.ru_stime,
           "documents": stats.get("documents"), "terms": stats.get("terms"),
           "segments": stats.get("segments"), "parts": parts,
           "bytes_total": total, "bytes_stored": parts.get("stored", 0),
           "bytes_index": total - parts.get("stored", 0), "bytes_on_disk": disk,
           "stats": stats, "text_bytes": info["text_bytes"],
           "build_stderr_tail": err.decode(errors="replace")[-2000:]}
    if stats.get("documents") != info["documents"]:
        log(f"WARNING: lede indexed {stats.get('documents')} documents, corpus has {info['documents']}")
    write_json(os.path.join(OUT, "lede-build.json"), res)
    log(f"lede: built in {secs:.1f} s, {total/1e6:.1f} MB ({stats.get('segments')} segments)")


def lede_search(lede, lines, k):
    """Run one `lede-index search` process over `lines` (ID<TAB>query); return {ID: obj}."""
    qfile = os.path.join(WORK, "lede-queries.tmp.txt")
    with open(qfile, "w", encoding="utf-8") as f:
        for qid, q in lines:
            f.write(f"{qid}\t{q}\n")
    cmd = [lede, "search", LEDE_DIR, "--queries", qfile, "-k", str(k)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace")[-4000:])
        die(f"lede-index search failed (exit {p.returncode})")
    res, bad = {}, 0
    for line in p.stdout.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError:
            bad += 1
            continue
        res[str(o.get("query"))] = o
    if bad:
        log(f"WARNING: {bad} unparsable output lines from lede-index search")
    return res, wall, p.stderr.decode(errors="replace")


def lede_query(lede, reps, k=10):
    qs = load_queries()
    # One process, like the Python peers: a warm-up pass over the whole set, then `reps` timed passes.
    lines = [(f"w:{q['qid']}", q["query"]) for q in qs]
    for r in range(reps):
        lines += [(f"r{r}:{q['qid']}", q["query"]) for q in qs]
    res, wall, err = lede_search(lede, lines, k)
    out, missing = [], 0
    for q in qs:
        objs = [res.get(f"r{r}:{q['qid']}") for r in range(reps)]
        if any(o is None for o in objs):
            missing += 1
            out.append({"qid": q["qid"], "kind": q["kind"], "query": q["query"], "us": [], "ids": None,
                        "error": "no output line"})
            continue
        out.append({"qid": q["qid"], "kind": q["kind"], "query": q["query"],
                    "us": [float(o.get("us", "nan")) for o in objs],
                    "ids": [str(x) for x in objs[-1].get("ids", [])],
                    **({"error": objs[-1]["error"]} if "error" in objs[-1] else {})})
    if missing:
        log(f"WARNING: lede printed no result for {missing} queries")
    write_json(os.path.join(OUT, "lede-queries.json"),
               {"engine": "lede", "reps": reps, "k": k, "process_wall_seconds": wall,
                "queries": out, "stderr_tail": err[-2000:]})
    log(f"lede: {len(qs)} queries x {reps} timed reps in one process ({wall:.1f} s wall)")


def lede_counts(lede):
    qs = load_queries()
    n = read_json(os.path.join(WORK, "corpus-info.json"))["documents"]
    res, _, _ = lede_search(lede, [(q["qid"], q["query"]) for q in qs], n)
    write_json(os.path.join(OUT, "lede-counts.json"),
               {q["qid"]: (len(res[q["qid"]].get("ids", [])) if q["qid"] in res else None) for q in qs})
    log("lede: match counts done")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["prep", "lede-build", "lede-query", "lede-counts"])
    ap.add_argument("--lede", default=os.environ.get("LEDE_INDEX"))
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.action == "prep":
        return prep()
    if not a.lede or not os.access(a.lede, os.X_OK):
        die(f"lede-index binary not found/executable: {a.lede!r}")
    {"lede-build": lambda: lede_build(a.lede),
     "lede-query": lambda: lede_query(a.lede, a.reps),
     "lede-counts": lambda: lede_counts(a.lede)}[a.action]()


if __name__ == "__main__":
    main()
