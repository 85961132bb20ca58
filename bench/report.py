#!/usr/bin/python3
# bench/report.py — owned by the lede benchmark suite (bench/).
# Reads bench/work/corpus-info.json and bench/out/{lede,fts5,xapian}-{build,queries,counts}.json
# (+ bench/out/eval.json), prints the comparison report and writes bench/out/report.json.
# A missing engine or step is shown as "n/a"; the report never fails for that.
import os
import statistics

from common import WORK, OUT, KINDS, MAIN_KINDS, read_json, write_json, percentile, mean

ENGINES = ["lede", "fts5", "xapian"]
PEERS = ["fts5", "xapian"]
NAMES = {"lede": "lede", "fts5": "FTS5", "xapian": "Xapian"}


def load(name):
    p = os.path.join(OUT, name)
    return read_json(p) if os.path.exists(p) else None


def fmt(v, spec=".1f", na="n/a"):
    if v is None or (isinstance(v, float) and v != v):
        return na
    return format(v, spec)


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def table(rows, header):
    w = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w[i]) if i else str(c).ljust(w[i]) for i, c in enumerate(r))
    print(line(header))
    print("  ".join("-" * x for x in w))
    for r in rows:
        print(line(r))


def main():
    info = read_json(os.path.join(WORK, "corpus-info.json"))
    mb = info["text_bytes"] / 1e6
    rep = {"corpus": info}
    print()
    print("=" * 100)
    envf = os.path.join(OUT, "env.txt")
    if os.path.exists(envf):
        print(open(envf, encoding="utf-8").read().rstrip())
    print(f"lede benchmark — AllSides news: {info['documents']} docs, {mb:.1f} MB title+body text (UTF-8)")
    print("=" * 100)

    # ---------------- build
    builds = {e: load(f"{e}-build.json") for e in ENGINES}
    rep["build"] = {}
    rows = []
    for e in ENGINES:
        b = builds[e]
        if not b:
            rows.append([NAMES[e]] + ["n/a"] * 9)
            continue
        r = {"seconds": b["seconds"], "mb_per_s": mb / b["seconds"], "peak_rss_mb": b.get("peak_rss_mb"),
             "cpu_seconds": b.get("cpu_seconds"),
             "total_mb": b["bytes_total"] / 1e6, "index_mb": b["bytes_index"] / 1e6,
             "stored_mb": b["bytes_stored"] / 1e6,
             "index_pct_of_text": 100.0 * b["bytes_index"] / info["text_bytes"]}
        rep["build"][e] = r
        rows.append([NAMES[e], fmt(r["seconds"]), fmt(r["cpu_seconds"]), fmt(r["mb_per_s"]), fmt(r["peak_rss_mb"], ".0f"),
                     fmt(r["total_mb"]), fmt(r["stored_mb"]), fmt(r["index_mb"]),
                     fmt(r["index_pct_of_text"]) + "%",
                     str(b.get("segments", "")) if e == "lede" else ""])
    print("\n## Build (single run, same plain .jsonl input; peers' times include Python json.loads, "
          f"~{info['python_parse_seconds']:.1f} s)")
    table(rows, ["engine", "seconds", "CPU s", "MB/s", "peak RSS MB", "total MB", "stored MB", "index MB",
                 "index/text", "segments"])
    lb = rep["build"].get("lede")
    for p in PEERS:
        pb = rep["build"].get(p)
        if lb and pb:
            rep["build"][f"lede_vs_{p}"] = {
                "build_speedup": pb["seconds"] / lb["seconds"],
                "index_size_ratio": lb["index_mb"] / pb["index_mb"],
                "total_size_ratio": lb["total_mb"] / pb["total_mb"]}
            x = rep["build"][f"lede_vs_{p}"]
            print(f"lede vs {NAMES[p]}: build {x['build_speedup']:.2f}x faster"
                  f" (>1 = lede faster); index w/o stored text {x['index_size_ratio']:.2f}x the size;"
                  f" total {x['total_size_ratio']:.2f}x")
    print("\nIndex parts (MB, % of raw title+body text):")
    for e in ENGINES:
        b = builds[e]
        if b:
            parts = ", ".join(f"{k} {v/1e6:.1f} ({100.0*v/info['text_bytes']:.1f}%)"
                              for k, v in b["parts"].items())
            print(f"  {NAMES[e]:7s} {parts}")
    if builds["fts5"]:
        print(f"  (FTS5 build = {builds['fts5']['insert_seconds']:.1f} s inserts in one transaction"
              f" + {builds['fts5']['optimize_seconds']:.1f} s 'optimize' merge)")
    if builds["xapian"] and "compact_seconds" in builds["xapian"]:
        x = builds["xapian"]
        print(f"  (Xapian build = {x['index_seconds']:.1f} s add_document+commit + {x['compact_seconds']:.1f} s compact;"
              f" {x['bytes_before_compact']/1e6:.1f} MB before compact)")

    # ---------------- latency
    qres = {e: load(f"{e}-queries.json") for e in ENGINES}
    per = {}  # engine -> qid -> (kind, median us, ids, query)
    for e in ENGINES:
        if qres[e]:
            per[e] = {q["qid"]: (q["kind"], statistics.median(q["us"]) if q["us"] else None, q["ids"], q["query"])
                      for q in qres[e]["queries"]}
    reps = sorted({qres[e]["reps"] for e in ENGINES if qres[e]})
    reps = "/".join(map(str, reps)) or "n/a"
    print(f"\n## Query latency, top-10, single thread, in-process, µs (per query: median of {reps} timed passes"
          " after one warm-up pass; p50/p99 nearest-rank over queries)")
    rep["latency"] = {}
    rows = []
    for k in KINDS:
        row = [k + ("" if k in MAIN_KINDS else " (extra)")]
        lat = {}
        for e in ENGINES:
            vals = [v[1] for v in per.get(e, {}).values() if v[0] == k and v[1] is not None]
            if vals:
                lat[e] = {"n": len(vals), "p50": percentile(vals, 50), "p99": percentile(vals, 99), "mean": mean(vals)}
        rep["latency"][k] = lat
        n = max((lat[e]["n"] for e in lat), default=0)
        row.append(n)
        for e in ENGINES:
            row += [fmt(lat[e][s], ".0f") if e in lat else "n/a" for s in ("p50", "p99", "mean")]
        for p in PEERS:
            for s in ("p50", "p99"):
                r = ratio(lat.get(p, {}).get(s), lat.get("lede", {}).get(s))
                row.append(fmt(r, ".2f") + "x" if r else "n/a")
                lat.setdefault("speedup", {})[f"{p}_{s}"] = r
        rows.append(row)
    table(rows, ["kind", "n", "lede p50", "p99", "mean", "FTS5 p50", "p99", "mean", "Xap p50", "p99", "mean",
                 "FTS5/lede p50", "p99", "Xap/lede p50", "p99"])
    print("(ratio columns: peer latency / lede latency; >1 = lede faster)")
    if "lede" in per:
        rep["latency"]["lede_slower"] = {}
        parts = []
        for k in KINDS:
            qids = [q for q, v in per["lede"].items() if v[0] == k and v[1] is not None]
            n = {p: sum(1 for q in qids if p in per and per[p][q][1] is not None and per[p][q][1] < per["lede"][q][1])
                 for p in PEERS if p in per}
            rep["latency"]["lede_slower"][k] = n
            parts.append(f"{k} " + "/".join(str(n.get(p, "n/a")) for p in PEERS))
        print("queries where lede is slower than FTS5/Xapian: " + ", ".join(parts))
        print("slowest lede queries per kind (µs: lede, FTS5, Xapian; full match count by lede):")
        cnt = load("lede-counts.json") or {}
        for k in KINDS:
            qids = sorted((q for q, v in per["lede"].items() if v[0] == k and v[1] is not None),
                          key=lambda q: -per["lede"][q][1])[:3]
            for q in qids:
                t = [per[e][q][1] if e in per else None for e in ENGINES]
                print(f"  {k:18s} {per['lede'][q][3]!r:45.45s} " + " / ".join(fmt(x, ".0f") for x in t)
                      + f"  (matches {cnt.get(q, 'n/a')})")

    # ---------------- sanity
    counts = {e: load(f"{e}-counts.json") for e in ENGINES}
    print("\n## Sanity: zero-result queries, top-10 overlap, full match counts")
    rows = []
    rep["sanity"] = {}
    odd = {"lede_zero_peer_hits": [], "lede_hits_peers_zero": [], "count_mismatch": [], "lede_errors": []}
    for k in KINDS:
        qids = [qid for qid, v in per.get("lede", per.get("fts5", per.get("xapian", {}))).items() if v[0] == k]
        s = {}
        for e in ENGINES:
            if e in per:
                s[f"zero_{e}"] = sum(1 for q in qids if not per[e][q][2])
        for p in PEERS:
            if "lede" in per and p in per:
                ov = []
                for q in qids:
                    a, b = set(per["lede"][q][2] or []), set(per[p][q][2] or [])
                    if a or b:
                        ov.append(len(a & b) / max(len(a), len(b)))
                s[f"overlap10_{p}"] = mean(ov)
            if counts["lede"] and counts[p]:
                both = [q for q in qids if counts["lede"].get(q) is not None]
                s[f"count_equal_{p}"] = sum(1 for q in both if counts["lede"][q] == counts[p][q])
                s[f"count_within10pct_{p}"] = sum(1 for q in both if abs(counts["lede"][q] - counts[p][q])
                                                  <= 0.1 * max(counts["lede"][q], counts[p][q]))
        rep["sanity"][k] = s
        rows.append([k, len(qids)] + [s.get(f"zero_{e}", "n/a") for e in ENGINES]
                    + [fmt(s.get(f"overlap10_{p}"), ".2f") for p in PEERS]
                    + [f"{s.get(f'count_equal_{p}', 'n/a')}/{s.get(f'count_within10pct_{p}', 'n/a')}" for p in PEERS])
    table(rows, ["kind", "n", "0 hits lede", "FTS5", "Xapian", "top10 overlap FTS5", "Xapian",
                 "count = / ±10% FTS5", "Xapian"])
    print("(overlap = |lede ∩ peer| / max(|lede|, |peer|) of top-10 ids, mean over queries with any hit;"
          " counts = full match counts, untimed pass)")

    if "lede" in per:
        for qid, (k, _, ids, q) in per["lede"].items():
            pe = {p: len(per[p][qid][2]) for p in PEERS if p in per}
            if not ids and any(pe.values()):
                odd["lede_zero_peer_hits"].append({"qid": qid, "kind": k, "query": q, "peer_top10": pe})
            if ids and pe and not any(pe.values()):
                odd["lede_hits_peers_zero"].append({"qid": qid, "kind": k, "query": q, "lede_top10": len(ids)})
        for q in qres["lede"]["queries"]:
            if q.get("error"):
                odd["lede_errors"].append({"qid": q["qid"], "query": q["query"], "error": q["error"]})
        if counts["lede"]:
            for qid, (k, _, ids, q) in per["lede"].items():
                c = {e: counts[e].get(qid) for e in ENGINES if counts[e]}
                peer = [c[p] for p in PEERS if p in c and c[p] is not None]
                if c.get("lede") is None or not peer:
                    continue
                lo, hi = min(peer), max(peer)
                if c["lede"] < lo * 0.9 or c["lede"] > hi * 1.1:
                    dev = max(lo / max(c["lede"], 1), c["lede"] / max(hi, 1))
                    odd["count_mismatch"].append({"qid": qid, "kind": k, "query": q, "counts": c, "dev": dev})
            odd["count_mismatch"].sort(key=lambda x: -x["dev"])
    rep["oddities"] = odd
    print(f"\nlede 0 hits but a peer has hits: {len(odd['lede_zero_peer_hits'])}"
          f"; lede hits but both peers 0: {len(odd['lede_hits_peers_zero'])}"
          f"; lede errors: {len(odd['lede_errors'])}"
          f"; full-count outside peers' range ±10%: {len(odd['count_mismatch'])}")
    for key, label in [("lede_zero_peer_hits", "lede 0 hits, peers have hits"),
                       ("lede_hits_peers_zero", "lede has hits, peers 0"),
                       ("lede_errors", "lede errors"),
                       ("count_mismatch", "largest full-count mismatches")]:
        if odd[key]:
            print(f"  {label} (first 10):")
            for o in odd[key][:10]:
                extra = o.get("counts") or o.get("peer_top10") or o.get("lede_top10") or o.get("error")
                print(f"    {o['qid']:6s} {o.get('kind', ''):18s} {o['query']!r:40s} {extra}")

    # ---------------- relevance
    ev = load("eval.json")
    if ev:
        rep["relevance"] = ev
        print("\n## Relevance (bench/eval.py; trec_eval-style nDCG@10 with gain = grade, Recall@100)")
        rows = []
        for name, d in ev["collections"].items():
            for e, m in d["engines"].items():
                rows.append([name, NAMES.get(e, e), d["queries"], fmt(m["ndcg10"], ".4f"),
                             fmt(m["recall100"], ".4f"), m.get("zero_hits", "")])
        table(rows, ["collection", "engine", "queries", "nDCG@10", "R@100", "0-hit queries"])
        print("Published BM25 on SciFact nDCG@10: BEIR paper (Elasticsearch) 0.665; Anserini flat 0.679 (R@100 0.925)"
              "; Anserini multifield 0.665 (R@100 0.908)")
    write_json(os.path.join(OUT, "report.json"), rep)
    print(f"\nreport written to {os.path.join(OUT, 'report.json')}")


if __name__ == "__main__":
    main()
