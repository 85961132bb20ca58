#!/usr/bin/env python3
"""test_golden.py: lede-server's HTTP contract pinned by golden files.

Usage: test_golden.py PATH/TO/lede-index PATH/TO/lede-server [--update] [CASE...]

Builds the index of the sample corpus (tests/data/seeds.jsonl) with
`lede-index build`, starts lede-server on it (on 127.0.0.1, port 0, the bound
port read from its "listening on http://127.0.0.1:PORT" log line), sends the
request of every tests/http/golden/NNN-endpoint-case.req in file-name order
and compares the reply with NNN-endpoint-case.json, byte for byte, printing
a unified diff when they differ. CASE arguments keep only the cases whose
name contains one of them. --update rewrites the .json files from the
current replies instead (for maintainers: review the diff before
committing). Standard library only; prints TAP and exits 1 on a failure.

A .req file, read as bytes:

    # server: cors              optional directive lines, each "# NAME: VALUE"
    # body-size: 70000
    METHOD TARGET               the request line (no HTTP version)
    Header: value               any number of header lines
                                a blank line
    raw body                    everything after it, byte for byte (no body:
                                nothing after the blank line)

The target is sent exactly as written, so malformed percent-escapes, %00
and '+' reach the server untouched (non-ASCII bytes are sent raw too).
Host is added unless the file gives one; Content-Length is added when there is a body. A body that
ends with one newline has that newline removed (files end with one).
Directives:

    server: NAME      which server answers (default: "default")
                        default  the seed index, default settings
                        cors     the same with --cors-origins http://example.org
                        metrics  a server only the "metrics" cases talk to, in
                                 file-name order, so its counters are known
                                 (select all of them when giving CASE names)
                        web      web.public_url and web.site_name set
                        noweb    web.web_enabled = 0 (the API only)
                        longq    search.max_query_bytes = 8192 (past the
                                 query parser's own limit)
    body-size: N      the body is repeated (or cut) to exactly N bytes
    target-size: N    the target's last byte is repeated to make it N bytes
    header-size: N    an X-Padding header is added, its value N bytes of "p"

A .json file is the reply, indented by 2 spaces (a short list of scalars
stays on one line), with the server's key order:

    {"status": 200, "content_type": "...", "headers": {...}, "body": ...}

headers holds those of RECORDED_HEADERS the reply has. body is the parsed
JSON of a JSON reply (any content type ending in "json"), with the value of
every key in MASKED_KEYS replaced by "<masked>"; the list of the lines of any
other reply's text, with the volatile samples of /metrics (MASKED_METRICS)
masked the same way; "" when the reply has no body (204, HEAD). ETag values
are masked too, and the server's own address reads 127.0.0.1:PORT.

Every server must exit 0 on SIGTERM and must not print a sanitizer report.
"""
import difflib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
SEEDS = os.path.join(os.path.dirname(HERE), "data", "seeds.jsonl")

RECORDED_HEADERS = ["Allow", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                    "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
                    "Cache-Control", "ETag", "X-Content-Type-Options", "Content-Security-Policy",
                    "Referrer-Policy"]
# Timings, and counters that depend on which requests came before.
MASKED_KEYS = {"took_ms", "uptime_s", "queries_served", "requests_served", "in_flight"}
# /metrics samples that are timings or depend on timings (reply sizes carry took_ms).
# The +Inf bucket equals the count, which is known.
MASKED_METRICS = re.compile(r"^(lede_request_duration_seconds_bucket\{.*le=\"(?!\+Inf)"
                            r"|lede_request_duration_seconds_sum\b|lede_response_bytes_total\b"
                            r"|lede_uptime_seconds\b|lede_requests_in_flight\b)")
MASK = "<masked>"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

SERVERS = {
    "default": [],
    "cors": ["--cors-origins", "http://example.org"],
    "metrics": [],
    "web": ["-o", "web.public_url=https://news.example.org/search/",
            "-o", "web.site_name=Newsroom & Co"],
    "noweb": ["-o", "web.web_enabled=0"],
    "longq": ["-o", "search.max_query_bytes=8192"],
}


# ------------------------------------------------------------------ servers

class Server:
    """A lede-server child process on a free loopback port."""

    def __init__(self, exe, index, extra, timeout=60):
        self.cmd = [exe, "--index", index, "--listen", "127.0.0.1:0", "--access-log", "off"] + extra
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.err_lines = []
        self.port = None
        got_port = threading.Event()

        def drain():
            for raw in self.p.stderr:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.err_lines.append(line)
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)$", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    got_port.set()
            got_port.set()

        self.drainer = threading.Thread(target=drain, daemon=True)
        self.drainer.start()
        if not got_port.wait(timeout) or self.port is None:
            self.p.kill()
            self.p.wait()
            raise RuntimeError("lede-server did not start: %s\n%s" % (
                " ".join(self.cmd), "\n".join(self.err_lines)))

    def stop(self, timeout=30):
        """SIGTERM; returns a list of problems (exit code, sanitizer reports)."""
        problems = []
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            problems.append("did not exit within %ds of SIGTERM" % timeout)
        self.drainer.join(10)
        if rc != 0:
            problems.append("exit status %d after SIGTERM" % rc)
        text = "\n".join(self.err_lines)
        for mark in SANITIZER_MARKS:
            if mark in text:
                problems.append("sanitizer report (%s) on stderr" % mark)
        if problems:
            problems.append("stderr:\n" + text[-6000:])
        return problems


# ------------------------------------------------------------------ cases

class Case:
    def __init__(self, name, raw):
        self.name = name
        self.directives = {}
        self.headers = []
        lines = raw.split(b"\n")
        i = 0
        while i < len(lines) and lines[i].startswith(b"#"):
            m = re.match(rb"#\s*([a-z-]+)\s*:\s*(.*?)\s*$", lines[i])
            if not m:
                raise ValueError("%s: bad directive line %r" % (name, lines[i]))
            self.directives[m.group(1).decode()] = m.group(2).decode()
            i += 1
        request_line = lines[i].rstrip(b"\r")
        i += 1
        method, _, target = request_line.partition(b" ")
        if not method or not target:
            raise ValueError("%s: the first line must be METHOD TARGET" % name)
        self.method = method.decode("ascii")
        if "target-size" in self.directives:
            n = int(self.directives["target-size"])
            target = target + target[-1:] * (n - len(target))
        self.target = target
        while i < len(lines) and lines[i].rstrip(b"\r"):
            k, sep, v = lines[i].rstrip(b"\r").partition(b":")
            if not sep:
                raise ValueError("%s: bad header line %r" % (name, lines[i]))
            self.headers.append((k.strip().decode("latin-1"), v.strip().decode("latin-1")))
            i += 1
        if "header-size" in self.directives:
            self.headers.append(("X-Padding", "p" * int(self.directives["header-size"])))
        body = b"\n".join(lines[i + 1:])
        if body.endswith(b"\n"):
            body = body[:-1]
        if "body-size" in self.directives:
            n = int(self.directives["body-size"])
            body = (body * (n // max(len(body), 1) + 1))[:n] if body else b"x" * n
        self.body = body
        self.server = self.directives.get("server", "default")
        if self.server not in SERVERS:
            raise ValueError("%s: unknown server %r" % (name, self.server))


class RawConnection(http.client.HTTPConnection):
    """Sends the request target as given: bytes above 0x7f are not refused."""

    def _encode_request(self, request):
        return request.encode("utf-8", "surrogateescape")

    def _validate_path(self, url):
        pass


def send(port, case, timeout=60):
    conn = RawConnection("127.0.0.1", port, timeout=timeout)
    try:
        has_host = any(k.lower() == "host" for k, _ in case.headers)
        conn.putrequest(case.method, case.target.decode("utf-8", "surrogateescape"),
                        skip_host=has_host, skip_accept_encoding=True)
        for k, v in case.headers:
            conn.putheader(k, v)
        if case.body:
            conn.putheader("Content-Length", str(len(case.body)))
        conn.endheaders(case.body if case.body else None)
        r = conn.getresponse()
        body = r.read()
        return r.status, r.getheaders(), body
    finally:
        conn.close()


def mask(v):
    if isinstance(v, dict):
        return {k: (MASK if k in MASKED_KEYS else mask(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [mask(x) for x in v]
    return v


def text_lines(text):
    """A text body as its lines, the volatile /metrics samples masked."""
    out = []
    for line in text.split("\n"):
        if MASKED_METRICS.match(line):
            line = line.rsplit(" ", 1)[0] + " " + MASK
        out.append(line)
    return out


def render(status, headers, body):
    """The golden text of one reply."""
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k.lower(), v)
    ctype = hmap.get("content-type")
    recorded = {h: hmap[h.lower()] for h in RECORDED_HEADERS if h.lower() in hmap}
    if "ETag" in recorded:  # a content hash: it changes with every edit of the page
        recorded["ETag"] = MASK
    if not body:
        parsed = ""
    elif ctype and ctype.split(";")[0].strip().endswith("json"):
        try:
            parsed = mask(json.loads(body.decode("utf-8")))
        except ValueError as e:
            parsed = {"<not JSON>": "%s: %r" % (e, body[:2000])}
    else:
        parsed = text_lines(body.decode("utf-8", "replace"))
    doc = {"status": status, "content_type": ctype, "headers": recorded, "body": parsed}
    return dump(doc) + "\n"


def dump(v, indent=""):
    """json.dumps(v, indent=2, ensure_ascii=False), except that a short list
    of scalars (a match span, OpenSearch suggestions) stays on one line."""
    inner = indent + "  "
    if isinstance(v, dict) and v:
        items = ["%s%s: %s" % (inner, json.dumps(k, ensure_ascii=False), dump(x, inner))
                 for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(v, list) and v:
        if all(not isinstance(x, (dict, list)) or not x for x in v):
            line = "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in v) + "]"
            if len(line) <= 100:
                return line
        return "[\n" + ",\n".join(inner + dump(x, inner) for x in v) + "\n" + indent + "]"
    return json.dumps(v, ensure_ascii=False)


# ------------------------------------------------------------------ main

def main():
    args = sys.argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    if len(args) < 2:
        print("usage: test_golden.py PATH/TO/lede-index PATH/TO/lede-server [--update] [CASE...]",
              file=sys.stderr)
        return 2
    lede_index, lede_server = os.path.abspath(args[0]), os.path.abspath(args[1])
    only = args[2:]
    names = sorted(n[:-4] for n in os.listdir(GOLDEN) if n.endswith(".req"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    cases = []
    for n in names:
        with open(os.path.join(GOLDEN, n + ".req"), "rb") as f:
            cases.append(Case(n, f.read()))

    tmp = tempfile.mkdtemp(prefix="lede-golden-")
    servers = {}
    failed = 0
    print("1..%d" % (len(cases) + 1))
    try:
        index = os.path.join(tmp, "seeds")
        p = subprocess.run([lede_index, "build", "-o", index, "-q", SEEDS],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            print("Bail out! lede-index build failed: %s" % p.stdout.decode("utf-8", "replace"))
            return 1
        for name in sorted({c.server for c in cases}):
            servers[name] = Server(lede_server, index, SERVERS[name])
        for i, case in enumerate(cases, 1):
            golden = os.path.join(GOLDEN, case.name + ".json")
            try:
                port = servers[case.server].port
                got = render(*send(port, case)).replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, case.name))
                print("#   " + traceback.format_exc().replace("\n", "\n#   "))
                continue
            if update:
                with open(golden, "w", encoding="utf-8") as f:
                    f.write(got)
                print("ok %d - %s # updated" % (i, case.name))
                continue
            try:
                with open(golden, encoding="utf-8") as f:
                    want = f.read()
            except FileNotFoundError:
                want = ""
            if got == want:
                print("ok %d - %s" % (i, case.name))
            else:
                failed += 1
                print("not ok %d - %s" % (i, case.name))
                diff = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                            "golden/" + case.name + ".json", "reply", lineterm="")
                for line in diff:
                    print("#   " + line)
            sys.stdout.flush()
    finally:
        problems = []
        if not only:
            orphans = sorted(n for n in os.listdir(GOLDEN)
                             if n.endswith(".json") and n[:-5] + ".req" not in os.listdir(GOLDEN))
            if orphans:
                problems.append("golden replies without a request file: %s" % ", ".join(orphans))
        for name, s in sorted(servers.items()):
            problems += ["server %s: %s" % (name, m) for m in s.stop()]
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(cases) + 1
    if problems:
        failed += 1
        print("not ok %d - servers stopped cleanly, golden files tidy" % n)
        for m in problems:
            print("#   " + m.replace("\n", "\n#   "))
    else:
        print("ok %d - servers stopped cleanly, golden files tidy" % n)
    print("# %d of %d tests failed" % (failed, n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
