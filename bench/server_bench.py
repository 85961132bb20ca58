#!/usr/bin/python3
# bench/server_bench.py — owned by the lede benchmark suite (bench/).
# The HTTP server benchmark: lede-server vs Groonga's HTTP server (groonga -s --protocol http),
# both on 127.0.0.1 with 2 threads, same AllSides articles, driven by wrk with the
# search-benchmark-game union and intersection queries.
#   lede-build    --lede-index PATH         build the lede index the server reads (work/server-lede)
#   groonga-build [--force]                  load the same articles into a Groonga database (work/groonga)
#   run --lede-server PATH [--engines ...]  start the servers, check the replies, run wrk, write out/server.json
#   report                                   out/server.json -> the text table (out/server.txt)
# Entry point: bench/server.sh (dependencies, build, order of the steps). Inputs come from bench.py prep.
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from common import WORK, OUT, BENCH, log, die, read_json, write_json, load_queries, parse_lede_query

CORPUS = os.path.join(WORK, "allsides.jsonl")
LEDE_DIR = os.path.join(WORK, "server-lede")          # not run.sh's lede-allsides: built by the server's own lede-index
GROONGA_DIR = os.path.join(WORK, "groonga")
GROONGA_DB = os.path.join(GROONGA_DIR, "db")
SRV_DIR = os.path.join(WORK, "server")                 # path files, wrk script, server logs
SETS = ["union", "intersection"]
K = 10
HOST = "127.0.0.1"

# Groonga's "search with snippets": BM25 is not available in Groonga 13, so _score is its default
# (term-frequency) scorer, title weighted 2. snippet_html(body) is Groonga's keyword-in-context
# snippet with <span class="keyword"> highlights. cache=no: no query-result cache (see README).
# match_escalation_threshold=-1: exact token matching only (no fall-back to partial/unsplit
# matching when a query has 0 hits), which is lede's matching semantics.
GROONGA_PARAMS = [
    ("table", "Articles"),
    ("match_columns", "title*2||body"),
    ("output_columns", "_key,_score,title,source,date,url,snippet_html(body)"),
    ("limit", str(K)),
    ("sort_keys", "-_score"),
    ("cache", "no"),
    ("match_escalation_threshold", "-1"),
]
GROONGA_SCHEMA = """plugin_register token_filters/stem
table_create Articles TABLE_HASH_KEY ShortText
column_create Articles title COLUMN_SCALAR ShortText
column_create Articles body COLUMN_SCALAR LongText
column_create Articles source COLUMN_SCALAR ShortText
column_create Articles date COLUMN_SCALAR ShortText
column_create Articles url COLUMN_SCALAR ShortText
"""
# The index is created after the load (Groonga's static index construction, its fastest way).
GROONGA_INDEX = """table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenNgram --normalizer NormalizerAuto --token_filters TokenFilterStem
column_create Terms article_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION Articles title,body
"""
LOAD_BATCH = 500


def q_enc(s):
    return urllib.parse.quote(s, safe="")


# ---------------------------------------------------------------- query translation

def _groonga_term(w):
    """One word as a Groonga query-syntax term: bare if plain alphanumeric, else a quoted phrase."""
    if w.isalnum() and w.upper() != "OR":
        return w
    return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_groonga(q, kind):
    """union 'a b c' -> 'a OR b OR c'; intersection '+a +b' -> 'a b' (Groonga's default operator is AND)."""
    terms = [_groonga_term(" ".join(words)) for op, words in parse_lede_query(q) if op != "-"]
    if not terms:
        return None
    return (" OR " if kind == "union" else " ").join(terms)


def lede_path(q):
    return f"/search?q={q_enc(q)}&k={K}"


def groonga_path(gq, snippets=True):
    params = GROONGA_PARAMS if snippets else [
        (k, "_key,_score,title,source,date,url" if k == "output_columns" else v) for k, v in GROONGA_PARAMS]
    return "/d/select?" + "&".join(f"{k}={q_enc(v)}" for k, v in params + [("query", gq)])


def query_sets():
    qs = load_queries()
    out = {}
    for s in SETS:
        rows = []
        for q in qs:
            if q["kind"] != s:
                continue
            gq = to_groonga(q["query"], s)
            if gq is None:
                continue
            rows.append({"qid": q["qid"], "query": q["query"], "groonga_query": gq,
                         "lede_path": lede_path(q["query"]), "groonga_path": groonga_path(gq),
                         "groonga-nosnippet_path": groonga_path(gq, snippets=False)})
        out[s] = rows
    return out


# ---------------------------------------------------------------- builds

def lede_build(lede_index):
    if os.path.exists(LEDE_DIR):
        shutil.rmtree(LEDE_DIR)
    cmd = [lede_index, "build", "-o", LEDE_DIR, "--quiet", CORPUS]
    log("running: " + " ".join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-4000:])
        die(f"lede-index build failed (exit {p.returncode})")
    st = json.loads(subprocess.run([lede_index, "stats", LEDE_DIR], capture_output=True, text=True,
                                   check=True).stdout)
    write_json(os.path.join(WORK, "server-lede-build.json"), {"seconds": secs, "stats": st})
    log(f"lede: index for the server built in {secs:.1f} s ({st.get('documents')} docs)")


def groonga_cmd(args, stdin_text=None, stdin_file=None):
    p = subprocess.run(["groonga"] + args, input=stdin_text, stdin=stdin_file, capture_output=True, text=True)
    return p


def check_groonga_output(text, what):
    """Every line of a standalone groonga run is [[status, ...], result]; status 0 = ok."""
    bad = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("[["):
            continue
        try:
            head = json.loads(line)[0]
        except ValueError:
            continue
        if head[0] != 0:
            bad.append(line[:500])
    if bad:
        die(f"groonga {what}: {len(bad)} failed commands, first: {bad[0]}")


def groonga_build(force):
    info = read_json(os.path.join(WORK, "corpus-info.json"))
    stamp = os.path.join(GROONGA_DIR, "build.json")
    if not force and os.path.exists(stamp):
        st = read_json(stamp)
        if st.get("corpus_bytes") == info["file_bytes"] and st.get("documents") == info["documents"]:
            log(f"groonga: reusing {GROONGA_DB} (built {st['built']}; --force to rebuild)")
            return
    if os.path.exists(GROONGA_DIR):
        shutil.rmtree(GROONGA_DIR)
    os.makedirs(GROONGA_DIR)
    p = groonga_cmd(["-n", GROONGA_DB], stdin_text=GROONGA_SCHEMA)
    check_groonga_output(p.stdout, "schema")
    if p.returncode != 0:
        die("groonga schema: " + p.stderr[-2000:])
    # One standalone groonga process reads load commands of LOAD_BATCH records each from a file.
    cmds = os.path.join(GROONGA_DIR, "load.tmp")
    n = 0
    with open(CORPUS, encoding="utf-8") as f, open(cmds, "w", encoding="utf-8") as out:
        batch = []

        def flush():
            if batch:
                out.write("load --table Articles --columns '_key,title,body,source,date,url'\n")
                out.write(json.dumps(batch, ensure_ascii=False))
                out.write("\n")
                batch.clear()
        for line in f:
            d = json.loads(line)
            batch.append([str(d["id"]), d.get("title") or "", d.get("body") or "", d.get("source") or "",
                          d.get("date") or "", d.get("url") or ""])
            n += 1
            if len(batch) == LOAD_BATCH:
                flush()
        flush()
    t0 = time.perf_counter()
    with open(cmds, encoding="utf-8") as f:
        p = groonga_cmd([GROONGA_DB], stdin_file=f)
    t_load = time.perf_counter() - t0
    os.unlink(cmds)
    check_groonga_output(p.stdout, "load")
    loaded = sum(json.loads(l)[1] for l in p.stdout.splitlines() if l.startswith("[["))
    t1 = time.perf_counter()
    p = groonga_cmd([GROONGA_DB], stdin_text=GROONGA_INDEX)
    t_index = time.perf_counter() - t1
    check_groonga_output(p.stdout, "index")
    p = groonga_cmd([GROONGA_DB, "select", "Articles", "--limit", "0", "--output_columns", "_id"])
    count = json.loads(p.stdout)[1][0][0][0]
    if count != info["documents"]:
        die(f"groonga: {count} records in Articles, corpus has {info['documents']}")
    size = sum(os.path.getsize(os.path.join(GROONGA_DIR, x)) for x in os.listdir(GROONGA_DIR))
    write_json(stamp, {"documents": count, "loaded": loaded, "corpus_bytes": info["file_bytes"],
                       "load_seconds": t_load, "index_seconds": t_index, "bytes_total": size,
                       "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "schema": GROONGA_SCHEMA + GROONGA_INDEX})
    log(f"groonga: loaded {count} docs in {t_load:.1f} s, index built in {t_index:.1f} s, {size/1e6:.0f} MB")


# ---------------------------------------------------------------- servers

def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def wait_port(port, proc, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class Server:
    def __init__(self, name, cmd, port, logname):
        self.name, self.cmd, self.port = name, cmd, port
        self.log = os.path.join(SRV_DIR, logname)
        self.proc = None

    def start(self, timeout=60):
        if not port_free(self.port):
            die(f"{self.name}: port {self.port} on {HOST} is in use")
        log(f"{self.name}: starting: " + " ".join(self.cmd))
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        t0 = time.time()
        if not wait_port(self.port, self.proc, timeout):
            self.stop()
            return f"did not accept connections on {HOST}:{self.port} within {timeout} s " \
                   f"(exit status {self.proc.returncode}); log tail:\n" + self.log_tail()
        log(f"{self.name}: listening after {time.time() - t0:.1f} s (pid {self.proc.pid})")
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=3000):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")[-n:]
        except OSError:
            return ""

    def rss(self):
        out = {}
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmRSS", "VmHWM", "Threads"):
                        out[k] = int(v.split()[0])
        except OSError:
            pass
        return {"rss_mb": out.get("VmRSS", 0) / 1024.0, "peak_rss_mb": out.get("VmHWM", 0) / 1024.0,
                "threads": out.get("Threads")}

    def cpu_seconds(self):
        """user+sys CPU seconds of the server process so far (all threads)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_get(port, path, timeout=30):
    """(status, body bytes, seconds); status 0 and the error text on a transport failure."""
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=timeout) as r:
            body = r.read()
            return r.status, body, time.perf_counter() - t0
    except urllib.error.HTTPError as e:
        return e.code, e.read(), time.perf_counter() - t0
    except OSError as e:
        return 0, str(e).encode(), time.perf_counter() - t0


def groonga_reply(body):
    """(ok, hits, top ids, n snippets) from a /d/select reply."""
    o = json.loads(body)
    if o[0][0] != 0:
        return False, 0, [], 0, str(o[0])
    res = o[1][0]
    cols = [c[0] for c in res[1]]
    rows = res[2:]
    ids = [r[cols.index("_key")] for r in rows]
    snip = sum(1 for r in rows if r[cols.index("snippet_html")])
    return True, res[0][0], ids, snip, None


def lede_reply(body):
    """(ok, hits, top ids, n hits with a snippet/highlight) from a lede-server /search reply.
    lede-server's reply: {"total", "hits":[{"id", ..., "highlights":{"title", "body":{"fragments"}}}],
    "sources":[...], ...}."""
    o = json.loads(body)
    if not isinstance(o, dict) or "hits" not in o:
        return False, 0, [], 0, "no 'hits' in reply: " + body[:300].decode(errors="replace")
    hits = o["hits"] or []
    total = None
    for key in ("total", "matches", "count", "hits_total", "n"):
        if isinstance(o.get(key), int):
            total = o[key]
            break
    ids = [h.get("id") for h in hits if isinstance(h, dict)]
    def has_snippet(h):
        hl = h.get("highlights") if isinstance(h, dict) else None
        body = hl.get("body") if isinstance(hl, dict) else None
        return isinstance(body, dict) and bool(body.get("fragments") or body.get("text"))
    snip = sum(1 for h in hits if has_snippet(h))
    return True, (total if total is not None else len(hits)), ids, snip, None


def sanity(engine, port, rows, path_key):
    """Send every query once (untimed; also warms the page cache) and check the replies."""
    parse = groonga_reply if engine == "groonga" else lede_reply
    st = {"queries": len(rows), "http_non2xx": 0, "transport_errors": 0, "engine_errors": 0,
          "zero_hits": 0, "with_snippets": 0, "hits": {}, "top": {}, "examples": [], "bytes": 0}
    lat = []
    for r in rows:
        code, body, secs = http_get(port, r[path_key])
        lat.append(secs * 1e6)
        st["bytes"] += len(body)
        if code == 0:
            st["transport_errors"] += 1
            if len(st["examples"]) < 5:
                st["examples"].append({"qid": r["qid"], "error": body.decode(errors="replace")[:300]})
            continue
        if not 200 <= code < 300:
            st["http_non2xx"] += 1
            if len(st["examples"]) < 5:
                st["examples"].append({"qid": r["qid"], "status": code, "body": body[:300].decode(errors="replace")})
            continue
        try:
            ok, hits, ids, snip, err = parse(body)
        except (ValueError, IndexError, TypeError, KeyError) as e:
            ok, hits, ids, snip, err = False, 0, [], 0, f"unparsable reply ({e}): " + body[:200].decode(errors="replace")
        if not ok:
            st["engine_errors"] += 1
            if len(st["examples"]) < 5:
                st["examples"].append({"qid": r["qid"], "error": err})
            continue
        st["hits"][r["qid"]] = hits
        st["top"][r["qid"]] = ids
        st["zero_hits"] += hits == 0
        st["with_snippets"] += snip > 0
    st["mean_reply_bytes"] = st["bytes"] / max(1, len(rows))
    st["single_client_us_p50"] = sorted(lat)[len(lat) // 2] if lat else None
    return st


# ---------------------------------------------------------------- wrk

WRK_LUA = r"""-- generated by bench/server_bench.py: cycle through the request paths of one query set
local paths = {}
local i = 0
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  -- threads start at different points of the list
  i = ((tid or 0) * math.floor(#paths / 2)) % #paths
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
"""


def run_wrk(port, paths_file, threads, conns, secs, timeout_s=10):
    script = os.path.join(SRV_DIR, "cycle.lua")
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s", "--timeout", f"{timeout_s}s",
           "-s", script, f"http://{HOST}:{port}/", "--", paths_file]
    p = subprocess.run(cmd, capture_output=True, text=True)
    res = None
    for line in p.stdout.splitlines():
        if line.startswith("WRKJSON "):
            res = json.loads(line[len("WRKJSON "):])
    if p.returncode != 0 or res is None:
        return {"error": f"wrk exit {p.returncode}", "stdout": p.stdout[-2000:], "stderr": p.stderr[-2000:],
                "cmd": " ".join(cmd)}
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["non2xx"] = res["errors"]["status"]
    res["socket_errors"] = sum(v for k, v in res["errors"].items() if k != "status")
    res["mean_reply_bytes"] = res["bytes"] / max(1, res["requests"])
    res["cmd"] = " ".join(cmd)
    res["wrk_text"] = "\n".join(l for l in p.stdout.splitlines() if not l.startswith("WRKJSON "))
    return res


def cpu_busy_seconds():
    """Machine-wide busy CPU seconds so far (all cores, /proc/stat), to see foreign load during a run."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_quiet(max_wait, limit=0.15):
    """Wait (up to max_wait s) until the machine is idle: < limit cores busy over 5 s. Returns the last value."""
    t0 = time.time()
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(5)
        busy = (cpu_busy_seconds() - b0) / 5
        if busy < limit or time.time() - t0 >= max_wait:
            return busy
        log(f"machine busy ({busy:.2f} cores in use by other processes); waiting for it to be quiet")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def overlap(a, b):
    a, b = set(a), set(b)
    return len(a & b) / max(len(a), len(b)) if (a or b) else None


def run(args):
    # SIGTERM/SIGINT (also when started in the background, where SIGINT is ignored) stop the servers via finally
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.makedirs(SRV_DIR, exist_ok=True)
    with open(os.path.join(SRV_DIR, "cycle.lua"), "w") as f:
        f.write(WRK_LUA)
    sets = query_sets()
    engines = args.engines
    path_files = {}
    for s, rows in sets.items():
        for e in ("lede", "groonga", "groonga-nosnippet"):
            pf = os.path.join(SRV_DIR, f"{e}-{s}.paths")
            with open(pf, "w", encoding="utf-8") as f:
                for r in rows:
                    f.write(r[f"{e}_path"] + "\n")
            path_files[(e, s)] = pf
    write_json(os.path.join(SRV_DIR, "queries.json"), sets)

    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    gv = subprocess.run(["groonga", "--version"], capture_output=True, text=True).stdout.splitlines()
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": f"{os.cpu_count()} cores", "load_average_start": loadavg(),
        "wrk": wrk_v[0] if wrk_v else "?", "groonga": gv[0] if gv else "?",
        "settings": {"wrk_threads": args.wrk_threads, "connections": args.connections,
                     "latency_connections": args.latency_connections, "seconds": args.seconds,
                     "warmup_seconds": args.warmup, "reps": args.reps, "server_threads": 2, "k": K,
                     "groonga_params": dict(GROONGA_PARAMS)},
        "queries": {s: len(r) for s, r in sets.items()},
        "engines": {}, "runs": [],
    }
    gb = os.path.join(GROONGA_DIR, "build.json")
    if os.path.exists(gb):
        result["groonga_build"] = {k: v for k, v in read_json(gb).items() if k != "schema"}
    lb = os.path.join(WORK, "server-lede-build.json")
    if os.path.exists(lb):
        result["lede_build"] = read_json(lb)

    servers = {}
    if "groonga" in engines:
        if not os.path.exists(GROONGA_DB):
            die("no Groonga database; run server_bench.py groonga-build first")
        servers["groonga"] = Server("groonga", ["groonga", "-s", "--protocol", "http", "--bind-address", HOST,
                                                "--port", str(args.groonga_port), "-t", "2", "--cache-limit", "0",
                                                "--log-path", os.path.join(SRV_DIR, "groonga.log"),
                                                GROONGA_DB],
                                    args.groonga_port, "groonga.out")
    if "lede" in engines:
        if not args.lede_server or not os.access(args.lede_server, os.X_OK):
            die(f"lede-server binary not found/executable: {args.lede_server!r}")
        if not os.path.isdir(LEDE_DIR):
            die("no lede index for the server; run server_bench.py lede-build first")
        servers["lede"] = Server("lede", [args.lede_server, "--index", LEDE_DIR, "--listen",
                                          f"{HOST}:{args.lede_port}", "--threads", "2"],
                                 args.lede_port, "lede-server.out")
    ports = {"lede": args.lede_port, "groonga": args.groonga_port, "groonga-nosnippet": args.groonga_port}
    failed = {}
    try:
        for e, srv in servers.items():
            err = srv.start()
            if err:
                failed[e] = {"stage": "start", "cmd": " ".join(srv.cmd), "error": err}
                log(f"ERROR: {e}: {err}")
        # ---- sanity: every query once, untimed
        for e, srv in servers.items():
            if e in failed:
                continue
            result["engines"][e] = {"cmd": " ".join(srv.cmd), "sanity": {}}
            for s, rows in sets.items():
                st = sanity(e, ports[e], rows, f"{e}_path")
                result["engines"][e]["sanity"][s] = st
                log(f"{e} {s}: {st['queries']} queries, non-2xx {st['http_non2xx']}, transport errors "
                    f"{st['transport_errors']}, engine errors {st['engine_errors']}, 0 hits {st['zero_hits']}, "
                    f"with snippets {st['with_snippets']}, mean reply {st['mean_reply_bytes']/1024:.1f} KiB")
                bad = st["http_non2xx"] + st["transport_errors"] + st["engine_errors"]
                if bad:
                    log(f"{e} {s}: examples of failures: {json.dumps(st['examples'])[:1500]}")
                if bad > st["queries"] // 10 or not srv.alive():
                    failed[e] = {"stage": "sanity", "cmd": " ".join(srv.cmd),
                                 "error": f"{bad} of {st['queries']} {s} queries failed; alive={srv.alive()}",
                                 "examples": st["examples"], "log_tail": srv.log_tail()}
                    log(f"ERROR: {e}: {failed[e]['error']}; not timing it")
                    break
        # ---- timed runs: per rep, per set, per concurrency, engines one after another
        conc = [("throughput", args.connections)]
        if args.latency_connections:
            conc.append(("low-concurrency", args.latency_connections))
        for rep in range(args.reps):
            for s in SETS:
                for label, c in conc:
                    order = [e for e in ("groonga", "lede") if e in servers and e not in failed]
                    if rep % 2:
                        order.reverse()
                    # information only: Groonga without snippet_html (same server), at the throughput setting
                    if args.groonga_nosnippet and "groonga" in order and label == "throughput":
                        order.insert(order.index("groonga") + 1, "groonga-nosnippet")
                    for e in order:
                        srv = servers[e.split("-")[0]]
                        if not srv.alive():
                            failed[e] = {"stage": "wrk", "error": f"server exited ({srv.proc.returncode})",
                                         "log_tail": srv.log_tail()}
                            continue
                        if args.warmup:
                            run_wrk(ports[e], path_files[(e, s)], args.wrk_threads, c, args.warmup)
                        if args.quiet_wait:
                            wait_quiet(args.quiet_wait)
                        cpu0, busy0 = srv.cpu_seconds(), cpu_busy_seconds()
                        ch0 = os.times()
                        r = run_wrk(ports[e], path_files[(e, s)], args.wrk_threads, c, args.seconds)
                        ch1 = os.times()
                        if "error" not in r:
                            secs = r["duration_us"] / 1e6
                            r["wrk_cpu_seconds"] = (ch1.children_user + ch1.children_system
                                                    - ch0.children_user - ch0.children_system)
                            # cores busy with anything but this server and wrk: > 0.1 means a disturbed run
                            r["foreign_cores_busy"] = max(0.0, (cpu_busy_seconds() - busy0 - r["wrk_cpu_seconds"]
                                                                - (srv.cpu_seconds() - cpu0)) / secs)
                            r["server_cpu_seconds"] = srv.cpu_seconds() - cpu0
                            r["server_cpu_ms_per_request"] = r["server_cpu_seconds"] * 1000 / max(1, r["requests"])
                            r["server_cores_busy"] = r["server_cpu_seconds"] / (r["duration_us"] / 1e6)
                        r.update({"engine": e, "set": s, "mode": label, "connections": c, "rep": rep,
                                  "loadavg": loadavg()})
                        result["runs"].append(r)
                        if "error" in r:
                            log(f"{e} {s} c={c}: wrk failed: {r['error']} {r.get('stderr', '')[:500]}")
                        else:
                            lt = r["latency_us"]
                            log(f"{e:8s} {s:12s} c={c:<3d} {r['rps']:9.0f} req/s  p50 {lt['p50']/1000:7.2f} ms  "
                                f"p99 {lt['p99']/1000:7.2f} ms  non-2xx {r['non2xx']}  socket errors "
                                f"{r['socket_errors']}  reply {r['mean_reply_bytes']/1024:.1f} KiB  server CPU "
                                f"{r['server_cpu_ms_per_request']:.2f} ms/req ({r['server_cores_busy']:.2f} cores), other processes "
                                f"{r['foreign_cores_busy']:.2f} cores")
                        if not srv.alive():
                            failed[e] = {"stage": "wrk", "error": f"server exited ({srv.proc.returncode}) "
                                         f"during the {s} run", "log_tail": srv.log_tail()}
        for e, srv in servers.items():
            if srv.alive():
                result["engines"].setdefault(e, {})["memory_after_run"] = srv.rss()
    finally:
        for srv in servers.values():
            srv.stop()
    # ---- agreement between the engines on the sanity pass (information, not a pass/fail)
    if "lede" in result["engines"] and "groonga" in result["engines"]:
        agree = {}
        for s in SETS:
            lh = result["engines"]["lede"].get("sanity", {}).get(s, {})
            gh = result["engines"]["groonga"].get("sanity", {}).get(s, {})
            both = [q for q in lh.get("top", {}) if q in gh.get("top", {})]
            ov = [overlap(lh["top"][q], gh["top"][q]) for q in both]
            ov = [x for x in ov if x is not None]
            agree[s] = {"queries_compared": len(both),
                        "lede_0_groonga_hits": sum(1 for q in both if lh["hits"][q] == 0 and gh["hits"][q] > 0),
                        "groonga_0_lede_hits": sum(1 for q in both if gh["hits"][q] == 0 and lh["hits"][q] > 0),
                        "mean_top10_overlap": sum(ov) / len(ov) if ov else None}
        result["agreement"] = agree
    result["failed"] = failed
    result["load_average_end"] = loadavg()
    result["summary"] = summarize(result)
    write_json(os.path.join(OUT, "server.json"), result)
    text = report_text(result)
    with open(os.path.join(OUT, "server.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 3 if failed else 0


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def summarize(result):
    """Per engine x set x mode: the median over reps of req/s, p50, p99; summed errors."""
    summ = {}
    for r in result["runs"]:
        if "error" in r:
            continue
        summ.setdefault((r["engine"], r["set"], r["mode"]), []).append(r)
    out = {}
    for (e, s, m), rs in summ.items():
        key = f"{e}/{s}/{m}"
        out[key] = {"engine": e, "set": s, "mode": m, "connections": rs[0]["connections"], "reps": len(rs),
                    "rps": median([r["rps"] for r in rs]),
                    "p50_ms": median([r["latency_us"]["p50"] for r in rs]) / 1000,
                    "p99_ms": median([r["latency_us"]["p99"] for r in rs]) / 1000,
                    "max_ms": max(r["latency_us"]["max"] for r in rs) / 1000,
                    "requests": sum(r["requests"] for r in rs),
                    "non2xx": sum(r["non2xx"] for r in rs),
                    "socket_errors": sum(r["socket_errors"] for r in rs),
                    "mean_reply_kib": median([r["mean_reply_bytes"] for r in rs]) / 1024,
                    "server_cpu_ms_per_request": median([r["server_cpu_ms_per_request"] for r in rs]),
                    "server_cores_busy": median([r["server_cores_busy"] for r in rs]),
                    "foreign_cores_busy_max": max(r.get("foreign_cores_busy", float("nan")) for r in rs)}
    for key, v in out.items():
        if v["engine"] == "lede":
            g = out.get(f"groonga/{v['set']}/{v['mode']}")
            if g and g["rps"] > 0:
                v["rps_ratio_vs_groonga"] = v["rps"] / g["rps"]
    return out


def report_text(result):
    L = []
    L.append(f"HTTP server benchmark: lede-server vs Groonga HTTP server, {result['date']}")
    L.append(f"machine: {result['cpu']}, load average {result['load_average_start']} -> "
             f"{result.get('load_average_end', '?')}; {result['wrk']}; {result['groonga']}")
    st = result["settings"]
    L.append(f"wrk -t{st['wrk_threads']} on 127.0.0.1, {st['seconds']} s per run after a {st['warmup_seconds']} s "
             f"warm-up, {st['reps']} rep(s) (median); servers with 2 threads; top {st['k']} with snippets; "
             f"queries: " + ", ".join(f"{k} {v}" for k, v in result["queries"].items()))
    L.append("")
    hdr = (f"{'engine':17s} {'queries':13s} {'conns':>5s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} "
           f"{'max ms':>8s} {'non-2xx':>8s} {'sock err':>8s} {'KiB/reply':>9s} {'srv CPU ms/req':>14s} "
           f"{'other cores':>11s} {'lede/groonga':>12s}")
    L.append(hdr)
    L.append("-" * len(hdr))
    summ = result["summary"]
    for mode in ("throughput", "low-concurrency"):
        for s in SETS:
            for e in ("lede", "groonga", "groonga-nosnippet"):
                v = summ.get(f"{e}/{s}/{mode}")
                if not v:
                    continue
                ratio = f"{v['rps_ratio_vs_groonga']:.2f}x" if "rps_ratio_vs_groonga" in v else ""
                L.append(f"{e:17s} {s:13s} {v['connections']:5d} {v['rps']:9.0f} {v['p50_ms']:8.2f} "
                         f"{v['p99_ms']:8.2f} {v['max_ms']:8.1f} {v['non2xx']:8d} {v['socket_errors']:8d} "
                         f"{v['mean_reply_kib']:9.1f} {v['server_cpu_ms_per_request']:14.2f} "
                         f"{v['foreign_cores_busy_max']:11.2f} {ratio:>12s}")
    if any(k.startswith("groonga-nosnippet/") for k in summ):
        L.append("(groonga-nosnippet: the same Groonga server without snippet_html, for information; "
                 "lede/groonga compares with the 'groonga' rows)")
    L.append("")
    for e, info in result["engines"].items():
        m = info.get("memory_after_run")
        if m:
            L.append(f"{e}: RSS after the run {m['rss_mb']:.0f} MB (peak {m['peak_rss_mb']:.0f} MB), "
                     f"{m['threads']} threads")
        for s, sa in info.get("sanity", {}).items():
            L.append(f"{e} {s} sanity pass: {sa['queries']} queries, non-2xx {sa['http_non2xx']}, "
                     f"errors {sa['transport_errors'] + sa['engine_errors']}, 0 hits {sa['zero_hits']}, "
                     f"replies with snippets {sa['with_snippets']}")
    for s, a in result.get("agreement", {}).items():
        ov = a["mean_top10_overlap"]
        L.append(f"agreement {s}: lede 0 hits where groonga has hits: {a['lede_0_groonga_hits']}, reverse: "
                 f"{a['groonga_0_lede_hits']}, mean top-10 overlap {ov:.2f}" if ov is not None else
                 f"agreement {s}: n/a")
    gb = result.get("groonga_build")
    if gb:
        L.append(f"groonga database: load {gb['load_seconds']:.1f} s + index {gb['index_seconds']:.1f} s, "
                 f"{gb['bytes_total']/1e6:.0f} MB on disk")
    for s in SETS:
        l = summ.get(f"lede/{s}/throughput")
        if l and "rps_ratio_vs_groonga" in l:
            L.append(f"goal {s}: req/s {l['rps_ratio_vs_groonga']:.2f}x Groonga (goal >= 2x: "
                     f"{'met' if l['rps_ratio_vs_groonga'] >= 2 else 'NOT met'}), p99 {l['p99_ms']:.2f} ms at "
                     f"{l['connections']} connections (goal < 10 ms: {'met' if l['p99_ms'] < 10 else 'NOT met'})")
    for e, f in result.get("failed", {}).items():
        L.append(f"FAILED {e} at {f.get('stage')}: {f.get('error')}")
        if f.get("cmd"):
            L.append(f"  command: {f['cmd']}")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["lede-build", "groonga-build", "run", "report"])
    ap.add_argument("--lede-index", default=os.environ.get("LEDE_INDEX"))
    ap.add_argument("--lede-server", default=os.environ.get("LEDE_SERVER"))
    ap.add_argument("--engines", default="lede,groonga")
    ap.add_argument("--force", action="store_true", help="groonga-build: rebuild even if up to date")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--latency-connections", type=int, default=2, help="0: no low-concurrency run")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--no-groonga-nosnippet", dest="groonga_nosnippet", action="store_false",
                    help="skip the information-only run of Groonga without snippet_html")
    ap.add_argument("--quiet-wait", type=int, default=0,
                    help="before each timed run wait up to N s for other processes to leave the CPUs idle")
    ap.add_argument("--lede-port", type=int, default=18080)
    ap.add_argument("--groonga-port", type=int, default=18041)
    a = ap.parse_args()
    a.engines = [e for e in a.engines.split(",") if e]
    if a.action == "lede-build":
        if not a.lede_index or not os.access(a.lede_index, os.X_OK):
            die(f"lede-index binary not found/executable: {a.lede_index!r}")
        return lede_build(a.lede_index)
    if a.action == "groonga-build":
        return groonga_build(a.force)
    if a.action == "report":
        res = read_json(os.path.join(OUT, "server.json"))
        res["summary"] = summarize(res)
        sys.stdout.write(report_text(res))
        return 0
    sys.exit(run(a))


if __name__ == "__main__":
    main()
