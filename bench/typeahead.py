#!/usr/bin/python3
# bench/typeahead.py — owned by the lede benchmark suite (bench/).
# What one journalist typing into the search page costs lede-server: the
# requests the page (server/web/app.js) sends, replayed one after another on
# one keep-alive connection, as a fast typist who never pauses long enough
# for the debounce to drop a request would trigger them:
#   - every character typed: GET /suggest?q=PREFIX&count=8
#   - every finished word and the whole query: GET /search with the page's
#     parameters (k=10, snippets=2, snippet_chars=180, source_details=50)
#   - then a click on the first outlet of the panel: the same search with
#     source=OUTLET&panel=all
# Queries: the plain words of the search-benchmark-game queries (operators
# dropped). Reports client-side latency percentiles and reply sizes per kind
# of request, and the server's own took_ms for /search.
#
#   bench/typeahead.py --index DIR --lede-server PATH [--queries N] [--out bench/out]
#   bench/typeahead.py --url http://127.0.0.1:PORT     (a server already running)
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
DEFAULT_QUERIES = os.path.join(ROOT, "..", "shared", "queries", "search-benchmark-game.jsonl")
PAGE = {"k": "10", "snippets": "2", "snippet_chars": "180", "source_details": "50"}


def plain_words(q):
    words = re.findall(r"[A-Za-z0-9']+", q)
    return " ".join(w for w in words if w.upper() not in ("AND", "OR", "NOT"))


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Client:
    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def get(self, path, params):
        target = path + "?" + urllib.parse.urlencode(params, doseq=True)
        t0 = time.perf_counter()
        self.conn.request("GET", target)
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            raise RuntimeError("%s: %d %s" % (target, r.status, body[:200]))
        return ms, body


def start_server(exe, index):
    p = subprocess.Popen([exe, "--index", index, "--listen", "127.0.0.1:0", "--access-log", "off"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for raw in p.stderr:
        m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", raw)
        if m:
            return p, int(m.group(1))
    raise RuntimeError("lede-server did not start")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url")
    ap.add_argument("--index")
    ap.add_argument("--lede-server")
    ap.add_argument("--queries-file", default=DEFAULT_QUERIES)
    ap.add_argument("--queries", type=int, default=300, help="how many distinct queries to type")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    a = ap.parse_args()
    if not os.path.exists(a.queries_file):
        sys.exit("typeahead: no %s (the shared queries); give --queries-file" % a.queries_file)
    seen, queries = set(), []
    for line in open(a.queries_file, encoding="utf-8"):
        q = plain_words(json.loads(line)["query"])
        if len(q) >= 3 and q.lower() not in seen:
            seen.add(q.lower())
            queries.append(q)
    queries = queries[:a.queries]

    proc = None
    if a.url:
        u = urllib.parse.urlsplit(a.url)
        host, port = u.hostname, u.port
    else:
        if not (a.index and a.lede_server):
            sys.exit("typeahead: give --url, or --index and --lede-server")
        proc, port = start_server(a.lede_server, a.index)
        host = "127.0.0.1"
    c = Client(host, port)
    lat = {"suggest": [], "search": [], "outlet click": []}
    size = {k: [] for k in lat}
    took = []
    try:
        # Warm-up: page cache and allocator, not measured.
        for q in queries[:20]:
            c.get("/search", dict(PAGE, q=q))
        for q in queries:
            for i in range(1, len(q) + 1):
                prefix = q[:i]
                ms, body = c.get("/suggest", {"q": prefix, "count": "8"})
                lat["suggest"].append(ms)
                size["suggest"].append(len(body))
                word_done = i == len(q) or q[i] == " "
                if word_done and prefix.strip():
                    ms, body = c.get("/search", dict(PAGE, q=prefix))
                    lat["search"].append(ms)
                    size["search"].append(len(body))
                    reply = json.loads(body)
                    took.append(reply["took_ms"])
            if reply.get("sources"):
                params = dict(PAGE, q=q, source=reply["sources"][0]["source"], panel="all")
                ms, body = c.get("/search", params)
                lat["outlet click"].append(ms)
                size["outlet click"].append(len(body))
    finally:
        if proc:
            proc.terminate()
            proc.wait()

    rows = []
    for kind in lat:
        v = lat[kind]
        rows.append({"request": kind, "n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95),
                     "p99_ms": pct(v, 99), "max_ms": max(v) if v else float("nan"),
                     "mean_kb": sum(size[kind]) / max(1, len(size[kind])) / 1024})
    lines = ["typeahead: %d queries typed one character at a time, one connection, loopback" %
             len(queries),
             "%-13s %6s %8s %8s %8s %8s %9s" % ("request", "n", "p50 ms", "p95 ms", "p99 ms",
                                               "max ms", "mean KB")]
    for r in rows:
        lines.append("%-13s %6d %8.2f %8.2f %8.2f %8.2f %9.1f" % (
            r["request"], r["n"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["max_ms"], r["mean_kb"]))
    lines.append("server took_ms for /search: p50 %.2f, p99 %.2f" % (pct(took, 50), pct(took, 99)))
    text = "\n".join(lines)
    print(text)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "typeahead.json"), "w") as f:
        json.dump({"queries": len(queries), "rows": rows,
                   "took_ms_p50": pct(took, 50), "took_ms_p99": pct(took, 99)}, f, indent=1)
    with open(os.path.join(a.out, "typeahead.txt"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
