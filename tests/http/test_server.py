#!/usr/bin/env python3
"""test_server.py: lede-server as a running daemon, end to end.

Usage: test_server.py PATH/TO/lede-index PATH/TO/lede-server [TEST_NAME...]

Builds indexes of tests/data/seeds.jsonl with lede-index and runs lede-server
on free loopback ports: its flags, conf files and exit codes (0 ok, 1 runtime
error, 2 usage error); the access log; CORS; keep-alive and HEAD; eight
threads of searches (keep-alive and fresh connections) checked against the
top hits lede-index gives, while the index grows (lede-index add + SIGHUP:
the new documents are found, generation 2, no request fails) and while a
reload fails (MANIFEST moved away: the old snapshot keeps serving, the
error is logged and counted in /metrics); then SIGTERM with requests in
flight: they complete, the process exits 0, the port is closed; targets and
headers over lede's limits (JSON 414 and 431, logged and counted), the
largest request the settings allow, and requests libmicrohttpd gives up on.
Every server's stderr is checked for sanitizer reports. Uses
tests/lib/ledetest.py; standard library only; prints TAP and exits 1 on a
failure.
"""
import configparser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import ledetest as lt  # noqa: E402  (the shared runner and server harness)
from ledetest import Server, check, no_sanitizer_report, seeds_index  # noqa: E402
from ledetest import run_server as run  # noqa: E402

ROOT = lt.ROOT
CONF = os.path.join(ROOT, "conf", "lede.conf")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def copy_index():
    d = tempfile.mkdtemp(prefix="ix-", dir=lt.TMP)
    os.rmdir(d)
    shutil.copytree(seeds_index(), d)
    return d


def cli_top_id(index, query):
    """The best hit of query by lede-index search, or None."""
    p = subprocess.run([lt.LEDE_INDEX, "search", index, query, "-k", "1"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("lede-index search %r: %s" % (query, p.stderr.decode()))
    lines = p.stdout.decode().splitlines()
    return json.loads(lines[0])["id"] if lines else None


def port_is_closed(port):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def read_reply(sock):
    """(status, body) of one HTTP/1.1 reply with a Content-Length, read from sock."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed after %r" % got[:300])
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed after %d of %d body bytes" % (len(body), length))
        body += chunk
    return status, body


def search_target(q, **params):
    params = dict({"q": q}, **params)
    return "/search?" + urllib.parse.urlencode(params)


# ------------------------------------------------------------------ tests

def test_help_version_usage_errors():
    rc, out, err = run("--help")
    check(rc == 0 and out.startswith("usage: lede-server") and "--print-config" in out
          and err == "", "--help: exit 0, usage on stdout: %d %r %r" % (rc, out[:200], err))
    rc, out, err = run("-h")
    check(rc == 0 and out.startswith("usage: lede-server"), "-h: %d %r" % (rc, out[:100]))
    rc, out, err = run("--version")
    check(rc == 0 and re.fullmatch(r"lede-server \d+\.\d+\.\d+\n", out) is not None and err == "",
          "--version: %d %r %r" % (rc, out, err))
    rc, out, err = run("-V")
    check(rc == 0 and out.startswith("lede-server "), "-V: %d %r" % (rc, out))
    for args, want in [(["--no-such-flag"], "lede-server"),
                       (["--threads", "abc"], "server.threads"),
                       (["--threads", "1000"], "server.threads"),
                       (["-o", "search.max_k"], "KEY=VALUE"),
                       (["-o", "search.no_such_key=1"], "unknown setting"),
                       (["-o", "search.b=2"], "search.b"),
                       (["--log-level", "loud"], "server.log_level"),
                       (["-o", "search.default_k=500"], "default_k"),
                       (["stray-argument"], "unexpected argument"),
                       (["--index"], "lede-server")]:
        rc, out, err = run(*args)
        check(rc == 2, "%s: exit %d, want 2 (usage error): %r" % (args, rc, err))
        check(out == "", "%s: nothing on stdout: %r" % (args, out))
        # getopt's own message starts with argv[0]; lede-server's lines with "lede-server: ".
        check(any(l.startswith("lede-server: ") for l in err.splitlines()) and want in err,
              "%s: stderr names the problem (%r): %r" % (args, want, err))


def test_conf_file_errors():
    d = tempfile.mkdtemp(prefix="conf-", dir=lt.TMP)
    cases = [
        ("unknown-key.conf", "[server]\nthreads = 2\nno_such_key = 1\n", 3, "no_such_key"),
        ("unknown-section.conf", "[server]\n\n[nowhere]\nlisten = 127.0.0.1:1\n", 4, "nowhere"),
        ("bad-number.conf", "[search]\nk1 = 1.2\n\nmax_k = lots\n", 4, "max_k"),
        ("out-of-range.conf", "[search]\nb = 1.5\n", 2, "search.b"),
        ("too-long.conf", "[snippets]\npre_tag = %s\n" % ("x" * 100), 2, "pre_tag"),
        ("syntax.conf", "[server]\nthis line has no equals sign\n", 2, ""),
    ]
    for name, text, line, want in cases:
        path = write(os.path.join(d, name), text)
        rc, out, err = run("--config", path, "--print-config")
        check(rc == 2, "%s: exit %d, want 2: %r" % (name, rc, err))
        check(("%s:%d:" % (path, line)) in err and want in err,
              "%s: stderr must say %s:%d and name %r: %r" % (name, path, line, want, err))
    rc, out, err = run("--config", os.path.join(d, "missing.conf"))
    check(rc == 2 and "missing.conf" in err and "cannot open" in err,
          "missing conf file: exit 2 and a message: %d %r" % (rc, err))
    # A cross-key constraint found after reading the file.
    path = write(os.path.join(d, "cross.conf"), "[search]\ndefault_k = 50\nmax_k = 20\n")
    rc, out, err = run("-c", path)
    check(rc == 2 and "default_k" in err, "default_k over max_k: exit 2: %d %r" % (rc, err))


def conf_keys(text):
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#", ";"),
                                   inline_comment_prefixes=None, strict=True)
    cp.optionxform = str
    cp.read_string(text)
    return {(s, k): v for s in cp.sections() for k, v in cp.items(s)}


def test_print_config():
    rc, out, err = run("--print-config")
    check(rc == 0 and err == "", "--print-config: exit 0, quiet: %d %r" % (rc, err))
    try:
        keys = conf_keys(out)
    except configparser.Error as e:
        check(False, "--print-config output is not in the conf format: %s\n%s" % (e, out))
        return
    for section in ("server", "search", "snippets", "suggest"):
        check(any(s == section for s, _ in keys), "--print-config has [%s]: %r" % (section, out))
    check(keys.get(("search", "max_k")) == "100" and keys.get(("server", "listen")) == "127.0.0.1:8080",
          "defaults printed: %r" % keys)
    # Flags and -o override; the output read back gives the same settings.
    rc, out2, err = run("--print-config", "-o", "search.max_k=50", "--threads", "3",
                        "--cors-origins", "http://a.example,http://b.example", "-o", "pre_tag=<b>")
    k2 = conf_keys(out2) if rc == 0 else {}
    check(k2.get(("search", "max_k")) == "50" and k2.get(("server", "threads")) == "3"
          and k2.get(("server", "cors_origins")) == "http://a.example,http://b.example"
          and k2.get(("snippets", "pre_tag")) == "<b>",
          "overrides printed: %d %r %r" % (rc, out2, err))
    path = write(os.path.join(lt.TMP, "printed.conf"), out2)
    rc, out3, err = run("--config", path, "--print-config")
    check(rc == 0 and out3 == out2, "printed settings read back are the same: %d %r\n%s\n%s"
          % (rc, err, out2, out3))
    # Flags override the conf file wherever the flag is.
    rc, out4, err = run("--threads", "5", "--config", path, "--print-config")
    check(rc == 0 and conf_keys(out4).get(("server", "threads")) == "5",
          "a flag before --config still overrides the file: %d %r" % (rc, out4))
    # The documented conf/lede.conf (when present) loads and lists exactly these keys.
    if os.path.exists(CONF):
        rc, out5, err = run("--config", CONF, "--print-config")
        check(rc == 0, "conf/lede.conf loads: %d %r" % (rc, err))
        try:
            documented = conf_keys(open(CONF, encoding="utf-8").read())
            check(set(documented) == set(keys), "conf/lede.conf lists exactly the settings: "
                  "missing %s, unknown %s" % (sorted(set(keys) - set(documented)),
                                              sorted(set(documented) - set(keys))))
        except configparser.Error as e:
            check(False, "conf/lede.conf does not parse as an ini file: %s" % e)


def test_startup_errors():
    rc, out, err = run("--index", os.path.join(lt.TMP, "no-such-index"), "--listen", "127.0.0.1:0",
                       "--access-log", "off")
    check(rc == 1, "nonexistent index: exit %d, want 1: %r" % (rc, err))
    check("lede-server: cannot open index" in err and "no-such-index" in err,
          "nonexistent index: message: %r" % err)
    notindex = tempfile.mkdtemp(prefix="notindex-", dir=lt.TMP)
    rc, out, err = run("--index", notindex, "--listen", "127.0.0.1:0", "--access-log", "off")
    check(rc == 1 and "cannot open index" in err, "empty directory as index: %d %r" % (rc, err))
    ix = seeds_index()
    rc, out, err = run("--index", ix, "--listen", "127.0.0.1:0",
                       "--access-log", os.path.join(lt.TMP, "no-such-dir", "access.log"))
    check(rc == 1 and "access log" in err, "unwritable access log: exit 1: %d %r" % (rc, err))
    rc, out, err = run("--index", ix, "--listen", "nonsense", "--access-log", "off")
    check(rc in (1, 2) and "nonsense" in err, "bad listen address: %d %r" % (rc, err))
    # A busy port: a second server on the first one's port.
    s = Server(index=ix)
    try:
        rc, out, err = run("--index", ix, "--listen", "127.0.0.1:%d" % s.port, "--access-log", "off")
        check(rc == 1, "busy port: exit %d, want 1: %r" % (rc, err))
        check("cannot listen on 127.0.0.1:%d" % s.port in err and "in use" in err,
              "busy port: message: %r" % err)
        check(s.request("GET", "/health")[0] == 200, "the first server still answers")
    finally:
        s.stop(what="first server")


def test_access_log():
    log = os.path.join(lt.TMP, "access.log")
    s = Server(index=seeds_index(), access_log=log)
    sent = []
    try:
        for method, target, body, hdrs in [
                ("GET", "/search?q=macron&k=1", None, {}),
                ("GET", "/nope", None, {}),
                ("POST", "/search", b'{"q": "fines", "k": 2}', {"Content-Type": "application/json"}),
                ("GET", '/search?q=a"b', None, {}),
                ("HEAD", "/health", None, {}),
                ("DELETE", "/stats", None, {})]:
            status, h, data = s.request(method, target, body, hdrs)
            length = len(data) if method != "HEAD" else int(h.get("content-length", "-1"))
            sent.append((method, target, status, length))
    finally:
        s.stop(what="access-log server")
    lines = open(log, encoding="utf-8").read().splitlines() if os.path.exists(log) else []
    check(len(lines) == len(sent), "one access-log line per request: %r" % lines)
    rx = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) 127\.0\.0\.1 "(\S+) (.*)" (\d{3}) '
                    r'(\d+) (\d+)us$')
    for line, (method, target, status, length) in zip(lines, sent):
        m = rx.match(line)
        if not check(m, "access-log line format (time, client, \"method target\", status, bytes, "
                     "microseconds): %r" % line):
            continue
        logged_target = target.replace('"', "\\x22")
        check(m.group(2) == method and m.group(3) == logged_target,
              "logged method and target %r %r: %r" % (method, logged_target, line))
        check(int(m.group(4)) == status, "logged status %d: %r" % (status, line))
        check(int(m.group(5)) == length, "logged bytes = body bytes sent (%d): %r" % (length, line))
        check(0 <= int(m.group(6)) < 60 * 1000000, "plausible microseconds: %r" % line)
    # Nothing on stderr but the server's own messages.
    check(not any('"GET ' in l for l in s.stderr().splitlines()),
          "access log went to the file, not stderr")


def test_cors_keepalive_head():
    ix = seeds_index()
    s = Server("--cors-origins", "http://a.example, http://b.example", index=ix)
    star = Server("--cors-origins", "*", index=ix)
    plain = Server(index=ix)
    try:
        for origin, want in [("http://b.example", "http://b.example"),
                             ("http://a.example", "http://a.example"),
                             ("http://c.example", None), ("http://a.example.evil", None),
                             (None, None)]:
            hdrs = {"Origin": origin} if origin else {}
            status, h, _ = s.request("GET", "/health", headers=hdrs)
            check(status == 200 and h.get("access-control-allow-origin") == want,
                  "Origin %r: Access-Control-Allow-Origin %r, got %r" % (origin, want, h))
            if want:
                check(h.get("vary") == "Origin", "Vary: Origin with a listed origin: %r" % h)
            status, h, _ = s.request("OPTIONS", "/search", headers=dict(
                hdrs, **{"Access-Control-Request-Method": "POST"}))
            check(status == 204 and h.get("access-control-allow-origin") == want,
                  "preflight from %r: %d %r" % (origin, status, h))
            check(("access-control-allow-methods" in h) == bool(want),
                  "Access-Control-Allow-Methods only for a listed origin: %r" % h)
        status, h, _ = star.request("GET", "/health", headers={"Origin": "http://x.example"})
        check(h.get("access-control-allow-origin") == "*" and "vary" not in h,
              "cors_origins=*: any origin, no Vary: %r" % h)
        status, h, _ = plain.request("GET", "/health", headers={"Origin": "http://a.example"})
        check("access-control-allow-origin" not in h, "no CORS configured: no header: %r" % h)

        # Keep-alive: several requests on one connection, one socket.
        c = plain.conn()
        try:
            ports = set()
            for i in range(5):
                status, h, data = plain.request("GET", search_target("macron", k=1), conn=c)
                check(status == 200 and json.loads(data)["hits"], "keep-alive request %d" % i)
                ports.add(c.sock.getsockname()[1] if c.sock else None)
            check(len(ports) == 1 and None not in ports,
                  "five requests on one kept-alive connection: %r" % ports)
            # An error reply keeps the connection too.
            status, h, data = plain.request("GET", "/search?k=0", conn=c)
            status2, h2, data2 = plain.request("GET", "/health", conn=c)
            check(status == 400 and status2 == 200 and c.sock is not None
                  and c.sock.getsockname()[1] in ports, "keep-alive after a 400")
        finally:
            c.close()

        # HEAD: the GET reply's status and headers, no body.
        for target in [search_target("macron fines", k=2), "/health", "/doc/000_136d13ec05cde2c5",
                       "/suggest?q=mac", "/metrics", "/nope", "/search?k=0"]:
            gs, gh, gbody = plain.request("GET", target)
            hs, hh, hbody = plain.request("HEAD", target)
            check(hs == gs and hbody == b"" and hh.get("content-type") == gh.get("content-type")
                  and hh.get("cache-control") == gh.get("cache-control"),
                  "HEAD %s: like GET without a body: %d %r %r / %d %r" % (target, hs, hh, hbody[:80],
                                                                         gs, gh))
            if target.startswith("/search?q"):
                # took_ms may have another number of digits: allow a few bytes.
                check(abs(int(hh.get("content-length", "-100")) - len(gbody)) <= 8,
                      "HEAD Content-Length is the GET body's: %r vs %d" % (hh, len(gbody)))
            elif not target.startswith("/metrics"):
                check(hh.get("content-length") == str(len(gbody)),
                      "HEAD %s Content-Length %r, GET body %d" % (target, hh, len(gbody)))

        # HTTP/1.0 without keep-alive: the server closes after the reply.
        sk = socket.create_connection(("127.0.0.1", plain.port), timeout=30)
        sk.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        got = b""
        while True:
            chunk = sk.recv(65536)
            if not chunk:
                break
            got += chunk
        sk.close()
        check(got.startswith(b"HTTP/1.") and b" 200 " in got.split(b"\r\n")[0]
              and got.endswith(b"}\n"), "HTTP/1.0 request answered and closed: %r" % got[:300])
    finally:
        s.stop(what="cors server")
        star.stop(what="cors * server")
        plain.stop(what="plain server")


NEW_WORD = "quokkaflux"
NEW_DOCS = [
    {"id": "new-%d" % i, "title": "A %s sighting, number %d" % (NEW_WORD, i),
     "body": "Observers reported the %s near the harbour for the %d time. It left quickly." % (
         NEW_WORD, i), "source": "Test Wire", "date": "2024-01-0%d" % i, "url": None}
    for i in (1, 2, 3)]
QUERIES = ["macron fines", '"legal liability"', "presid*", "title:macron", "extremist -facebook",
           "terrorist", "(facebook OR google) AND macron", "theresa may", "+internet -google",
           "social media companies"]


class Load:
    """Threads searching QUERIES until stopped, recording every outcome."""

    def __init__(self, server, threads=8):
        self.server = server
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.results = []     # (t_sent, t_done, query, top id or None, error or None)
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()

    def work(self, n):
        keep = None
        i = n
        while not self.stop_flag.is_set():
            q = QUERIES[i % len(QUERIES)]
            fresh = i % 2 == 1   # every other request on a new connection
            i += 1
            t0 = time.monotonic()
            top, err = None, None
            try:
                if fresh:
                    status, _, data = self.server.request("GET", search_target(q, k=3))
                else:
                    if keep is None:
                        keep = self.server.conn()
                    status, _, data = self.server.request("GET", search_target(q, k=3), conn=keep)
                if status != 200:
                    err = "status %d: %r" % (status, data[:300])
                else:
                    hits = json.loads(data)["hits"]
                    top = hits[0]["id"] if hits else None
            except Exception as e:  # any failure is recorded, never raised
                err = "%s: %s" % (type(e).__name__, e)
                if keep is not None:
                    keep.close()
                    keep = None
            with self.lock:
                self.results.append((t0, time.monotonic(), q, top, err))
        if keep is not None:
            keep.close()

    def finish(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(60)
        return self.results


def test_concurrent_reload_and_shutdown():
    ix = copy_index()
    before = {q: cli_top_id(ix, q) for q in QUERIES}
    check(all(before.values()), "every load query has a hit: %r" % before)
    s = Server("--threads", "4", index=ix)
    load = None
    try:
        first = s.get_json(search_target(NEW_WORD))
        check(first["total"] == 0, "the new word is not in the index yet: %r" % first)
        load = Load(s)
        load.start()
        time.sleep(1.5)

        # (a) Grow the index and reload it under load.
        new = write(os.path.join(lt.TMP, "new.jsonl"), "".join(json.dumps(d) + "\n" for d in NEW_DOCS))
        p = subprocess.run([lt.LEDE_INDEX, "add", ix, new, "--quiet"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        check(p.returncode == 0, "lede-index add: %r" % p.stdout)
        after = {q: cli_top_id(ix, q) for q in QUERIES}
        mark = s.log_size()
        t_hup = time.monotonic()
        s.p.send_signal(signal.SIGHUP)
        m = s.wait_log(r"reloaded index .*: (\d+) documents \(generation (\d+)", lt.START_TIMEOUT, mark)
        t_reloaded = time.monotonic()
        check(m and m.group(1) == "8" and m.group(2) == "2",
              "SIGHUP logs the reload: 8 documents, generation 2: %r" % (m and m.group(0)))
        health = s.get_json("/health")
        check(health == {"status": "ok", "documents": 8, "generation": 2},
              "/health after the reload: %r" % health)
        found = s.get_json(search_target(NEW_WORD, k=10, snippets=0))
        check(sorted(h["id"] for h in found["hits"]) == ["new-1", "new-2", "new-3"]
              and found["total"] == 3, "the new documents are found: %r" % found)
        doc = s.get_json("/doc/new-2")
        check(doc["title"] == NEW_DOCS[1]["title"], "/doc of a new document: %r" % doc)
        sugg = s.get_json("/suggest?q=quokk")
        check(any(x["text"] == NEW_WORD for x in sugg["suggestions"]),
              "suggestions rebuilt with the new titles: %r" % sugg)
        time.sleep(1.5)

        # (b) A reload that fails: the index directory is broken for a moment.
        manifest = os.path.join(ix, "MANIFEST")
        os.rename(manifest, manifest + ".away")
        try:
            mark = s.log_size()
            s.p.send_signal(signal.SIGHUP)
            m = s.wait_log(r"error: reload failed, still serving the previous index: .+",
                           lt.START_TIMEOUT, mark)
            check(m, "a failed reload is logged as an error:\n%s" % s.stderr()[-2000:])
        finally:
            os.rename(manifest + ".away", manifest)
        health = s.get_json("/health")
        check(health == {"status": "ok", "documents": 8, "generation": 2},
              "the previous snapshot is still served: %r" % health)
        found = s.get_json(search_target(NEW_WORD, k=10, snippets=0))
        check(found["total"] == 3, "still finds the new documents: %r" % found)
        status, h, metrics = s.request("GET", "/metrics")
        metrics = metrics.decode()
        check('lede_index_reloads_total{outcome="failed"} 1\n' in metrics
              and 'lede_index_reloads_total{outcome="ok"} 1\n' in metrics
              and "lede_index_generation 2\n" in metrics and "lede_index_documents 8\n" in metrics,
              "/metrics counts one good and one failed reload:\n%s" % metrics)
        stats = s.get_json("/stats")
        check(stats["reloads"] == 1 and stats["generation"] == 2 and stats["documents"] == 8,
              "/stats after the reloads: %r" % stats)
        time.sleep(1.0)
        results = load.finish()
        load = None

        # Every reply of the load: 200 and the right best hit for the snapshot
        # it could have seen.
        check(len(results) >= 80, "the load ran (%d requests)" % len(results))
        print("# load: %d requests, reload after %.1f s" % (len(results), t_hup - results[0][0]))
        errors = [r for r in results if r[4]]
        check(not errors, "%d of %d requests failed, e.g. %r" % (len(errors), len(results), errors[:5]))
        wrong = []
        for t0, t1, q, top, err in results:
            if err:
                continue
            if t1 < t_hup:
                ok = top == before[q]
            elif t0 > t_reloaded:
                ok = top == after[q]
            else:
                ok = top in (before[q], after[q])
            if not ok:
                wrong.append((q, top, before[q], after[q]))
        check(not wrong, "%d replies had the wrong best hit, e.g. %r" % (len(wrong), wrong[:5]))
        stats = s.get_json("/stats")
        check(stats["queries_served"] >= len(results) - len(errors),
              "/stats counts the searches: %r for %d" % (stats["queries_served"], len(results)))

        # Shutdown with requests in flight: POSTs whose bodies arrive after SIGTERM.
        body = json.dumps({"q": "presid* OR macron", "k": 5, "snippets": 3}).encode()
        slow = []
        for i in range(4):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=60)
            c.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            slow.append(c)
        # And eight threads of searches that run into the shutdown.
        burst = Load(s)
        burst.start()
        time.sleep(0.5)
        mark = s.log_size()
        t_term = time.monotonic()
        s.p.send_signal(signal.SIGTERM)
        m = s.wait_log(r"SIGTERM: finishing (\d+) in-flight requests", lt.STOP_TIMEOUT, mark)
        check(m and int(m.group(1)) >= 4, "SIGTERM logged with the 4 slow requests in flight: %r"
              % (m and m.group(0)))
        time.sleep(0.3)
        check(s.p.poll() is None, "the server waits for in-flight requests")
        for c in slow:
            c.sendall(body[10:])
        for i, c in enumerate(slow):
            try:
                status, payload = read_reply(c)
            except OSError as e:
                status, payload = None, ("<%s: %s>" % (type(e).__name__, e)).encode()
            finally:
                c.close()
            check(status == 200, "in-flight request %d completed with 200: %r %r"
                  % (i, status, payload[:300]))
            try:
                check(json.loads(payload)["hits"], "in-flight request %d has hits" % i)
            except ValueError:
                check(False, "in-flight request %d: a whole JSON body: %r" % (i, payload[:300]))
        try:
            rc = s.p.wait(lt.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t_term
        check(rc == 0, "exit 0 after SIGTERM: %r" % rc)
        check(rc is not None and took < lt.STOP_TIMEOUT, "exited %.1f s after SIGTERM" % took)
        results = burst.finish()
        # Requests that got an answer got a 200; the others were refused or
        # their connection was closed before any reply (not accepted after quiesce).
        refused = ("ConnectionRefusedError", "ConnectionResetError", "RemoteDisconnected",
                   "BrokenPipeError")
        bad = [r for r in results if r[4] and not r[4].startswith(refused)]
        check(not bad, "requests during shutdown: a 200 or never accepted; got %r" % bad[:5])
        check(any(not r[4] for r in results), "some requests were answered during the burst")
        check(port_is_closed(s.port), "the port no longer accepts connections")
        check(s.wait_log(r"lede-server info: stopped$", 10, mark) is not None,
              "'stopped' logged:\n%s" % s.stderr()[-2000:])
    finally:
        if load is not None:
            load.finish()
        if s.p.poll() is None:
            s.kill()
        s.reader.join(10)
        no_sanitizer_report(s.stderr(), "loaded server")


def test_sigint_and_idle_connections():
    """SIGINT stops like SIGTERM, even with an idle keep-alive connection open."""
    s = Server(index=seeds_index())
    c = s.conn()
    try:
        status, _, _ = s.request("GET", "/health", conn=c)
        check(status == 200, "a first request on the kept connection")
        t0 = time.monotonic()
        s.stop(signal.SIGINT, what="SIGINT server")
        check(time.monotonic() - t0 < 10, "an idle connection does not delay the exit")
        # (The count may still include the first request for a moment after
        # its reply arrived: libmicrohttpd completes it after sending.)
        check(s.wait_log(r"SIGINT: finishing \d+ in-flight requests", 5) is not None,
              "SIGINT logged:\n%s" % s.stderr())
    finally:
        c.close()
        s.kill()


# What the default settings allow before the body (server/http.c): the
# longest target is 3 * max(max_body_bytes, max_query_bytes) + 16 KiB (an
# /analyze text of max_body_bytes, every byte percent-encoded), the headers
# 32 KiB as sent.
MAX_TARGET = 3 * 65536 + 16 * 1024
MAX_HEADERS = 32 * 1024


def raw_exchange(port, data, timeout=30):
    """Sends data on a fresh connection and reads one reply: (status,
    headers dict with lower-case names, body); the server may stop reading
    and close early, as libmicrohttpd does on an oversized request."""
    sk = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            sk.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before all of it was read
        got = b""
        for _ in range(100000):
            try:
                chunk = sk.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        sk.close()
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 "):
        raise ConnectionError("no HTTP reply: %r" % got[:300])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def metric(text, name):
    """The value of the sample named exactly name (with its labels), or None."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.rsplit(" ", 1)[1]))
    return None


def test_oversized_target_and_headers():
    """Targets and headers over lede's limits get lede's JSON 414 and 431,
    logged and counted; the largest request the settings allow is answered;
    requests libmicrohttpd itself gives up on (far over the limits, or cut
    by the client) leak nothing (the sanitizer run checks the exit)."""
    log = os.path.join(lt.TMP, "oversized.log")
    s = Server(index=seeds_index(), access_log=log)
    try:
        # The largest: an /analyze text of max_body_bytes, all percent-encoded,
        # with headers at their limit.
        target = "/analyze?text=" + "%41" * 65536
        filler = MAX_HEADERS - 200
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: %s\r\nConnection: close\r\n\r\n"
               % (target, "f" * filler)).encode()
        check(len(target) <= MAX_TARGET, "the test's largest target is within the limit")
        status, h, body = raw_exchange(s.port, req)
        check(status == 200 and json.loads(body)["text"] == "A" * 65536,
              "the largest target and headers allowed: %d %r" % (status, body[:200]))

        big_target = "/search?q=" + "a" * (MAX_TARGET + 100 - len("/search?q="))
        status, h, body = raw_exchange(s.port, ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                                                big_target).encode())
        err = json.loads(body)["error"] if h.get("content-type") == "application/json" else {}
        check(status == 414 and err.get("code") == "uri_too_long" and
              err.get("limit") == MAX_TARGET and str(len(big_target)) in err.get("message", ""),
              "a target over the limit: JSON 414 uri_too_long: %d %r %r" % (status, h, body[:300]))

        big_headers = "".join("X-Big-%d: %s\r\n" % (i, "h" * 1000) for i in range(40))
        status, h, body = raw_exchange(s.port, ("GET /health HTTP/1.1\r\nHost: x\r\n%s\r\n" %
                                                big_headers).encode())
        err = json.loads(body)["error"] if h.get("content-type") == "application/json" else {}
        check(status == 431 and err.get("code") == "headers_too_large" and
              err.get("limit") == MAX_HEADERS,
              "headers over the limit: JSON 431 headers_too_large: %d %r %r" % (status, h, body[:300]))

        # Far past the connection's memory libmicrohttpd answers by itself
        # (after on_uri for the headers case); and a client that leaves in
        # the middle of its body. The server frees their state and serves on.
        for data in (("GET /health HTTP/1.1\r\nHost: x\r\nX-Huge: %s\r\n\r\n" %
                      ("h" * (4 * MAX_TARGET))).encode(),
                     ("GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % ("a" * (4 * MAX_TARGET))).encode()):
            try:
                status, _, _ = raw_exchange(s.port, data)
                check(status in (414, 431), "far over the limits: %d" % status)
            except ConnectionError:
                pass  # closed without a reply is fine too
        sk = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        sk.sendall(b"POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 1000\r\n\r\n{\"q\": \"mac")
        sk.close()
        status, _, text = s.request("GET", "/metrics")
        check(status == 200, "still serving after oversized and aborted requests: %d" % status)
        text = text.decode()
        check(metric(text, 'lede_requests_total{endpoint="other",status="414"}') == 1,
              "the 414 counted in /metrics:\n%s" % text[:1500])
        check(metric(text, 'lede_requests_total{endpoint="other",status="431"}') == 1,
              "the 431 counted in /metrics:\n%s" % text[:1500])
    finally:
        s.stop(what="oversized-requests server")
    lines = open(log, encoding="utf-8").read().splitlines() if os.path.exists(log) else []
    rx = re.compile(r'^\S+Z 127\.0\.0\.1 "GET (\S+)" (\d{3}) (\d+) \d+us$')
    logged = [(m.group(1), int(m.group(2))) for m in map(rx.match, lines) if m]
    check(any(t.startswith("/search?q=aaaa") and len(t) < 2048 and st == 414 for t, st in logged),
          "the 414 in the access log (target cut after 2 KB): %r" %
          [(t[:40], st) for t, st in logged])
    check(("/health", 431) in logged, "the 431 in the access log: %r" %
          [(t[:40], st) for t, st in logged])


# ------------------------------------------------------------------ main

def main():
    if len(sys.argv) < 3:
        print("usage: test_server.py PATH/TO/lede-index PATH/TO/lede-server [TEST...]",
              file=sys.stderr)
        return 2
    lt.LEDE_INDEX = os.path.abspath(sys.argv[1])
    lt.LEDE_SERVER = os.path.abspath(sys.argv[2])
    return lt.run_tests(lt.tests_in(globals(), sys.argv[3:]), prefix="lede-http-", timing=True)


if __name__ == "__main__":
    sys.exit(main())
