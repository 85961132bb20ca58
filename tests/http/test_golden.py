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
committing). Uses tests/lib/ledetest.py; standard library only; prints TAP
and exits 1 on a failure.

Counters. A reply that counts requests (/metrics) would depend on which
cases ran before it, so on file order and on the CASE selection. Such cases
run on a fresh server of their own ("server: metrics"), started for the case
and stopped after it, which first gets the case's own "before:" requests:
every count in the golden file is then driven by that file alone, and the
counts stay exact (masking them would hide a request counted twice or not
at all; a start costs well under a second). What depends on time (latency
buckets and sums, uptime, bytes that include took_ms) is masked.

The security headers (X-Content-Type-Options, Content-Security-Policy,
Referrer-Policy) are the same on every reply of a kind and are pinned once,
for every kind of reply, by test_web.py (test_security_headers); the golden
files leave them out.

A .req file, read as bytes:

    # server: cors              optional directive lines, each "# NAME: VALUE"
    # body-size: 70000          ("before:" may be repeated)
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
                        metrics  a fresh server for this case alone, default
                                 settings (see Counters)
                        web      web.public_url and web.site_name set
                        noweb    web.web_enabled = 0 (the API only)
                        longq    search.max_query_bytes = 8192 (past the
                                 query parser's own limit)
    body-size: N      the body is repeated (or cut) to exactly N bytes
    target-size: N    the target's last byte is repeated to make it N bytes
    header-size: N    an X-Padding header is added, its value N bytes of "p"
    before: METHOD TARGET
                      a request sent to the case's fresh server before the
                      case's own (its reply is not recorded)

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
import functools
import http.client
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import ledetest as lt  # noqa: E402  (the shared runner and server harness)
from ledetest import Server, check  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")

# Not the security headers: test_web.py pins them (see above).
RECORDED_HEADERS = ["Allow", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                    "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary",
                    "Cache-Control", "ETag"]
# Timings, and counters that depend on which requests came before.
MASKED_KEYS = {"took_ms", "uptime_s", "queries_served", "requests_served", "in_flight"}
# /metrics samples that are timings or depend on timings (reply sizes carry took_ms).
# The +Inf bucket equals the count, which is known.
MASKED_METRICS = re.compile(r"^(lede_request_duration_seconds_bucket\{.*le=\"(?!\+Inf)"
                            r"|lede_request_duration_seconds_sum\b|lede_response_bytes_total\b"
                            r"|lede_uptime_seconds\b|lede_requests_in_flight\b)")
MASK = "<masked>"

SERVERS = {
    "default": [],
    "cors": ["--cors-origins", "http://example.org"],
    "metrics": [],
    "web": ["-o", "web.public_url=https://news.example.org/search/",
            "-o", "web.site_name=Newsroom & Co"],
    "noweb": ["-o", "web.web_enabled=0"],
    "longq": ["-o", "search.max_query_bytes=8192"],
}
FRESH = {"metrics"}   # servers started anew for each of their cases


# ------------------------------------------------------------------ cases

class Case:
    def __init__(self, name, raw):
        self.name = name
        self.directives = {}
        self.before = []          # (method, target) of the "before:" lines
        self.headers = []
        lines = raw.split(b"\n")
        i = 0
        while i < len(lines) and lines[i].startswith(b"#"):
            m = re.match(rb"#\s*([a-z-]+)\s*:\s*(.*?)\s*$", lines[i])
            if not m:
                raise ValueError("%s: bad directive line %r" % (name, lines[i]))
            key, value = m.group(1).decode(), m.group(2).decode()
            if key == "before":
                method, _, target = value.partition(" ")
                if not method or not target:
                    raise ValueError("%s: a before line must be METHOD TARGET" % name)
                self.before.append((method, target))
            else:
                self.directives[key] = value
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
        if self.before and self.server not in FRESH:
            raise ValueError("%s: before lines need a fresh server (%s)" % (name, ", ".join(FRESH)))


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

def server_for(case, servers):
    """The shared server of case.server, started on first use."""
    if case.server not in servers:
        servers[case.server] = Server(*SERVERS[case.server], index=lt.seeds_index())
    return servers[case.server]


def reply_of(case, servers):
    """The golden text of the reply to case, from its server."""
    if case.server not in FRESH:
        s = server_for(case, servers)
        return render(*send(s.port, case)).replace(f"127.0.0.1:{s.port}", "127.0.0.1:PORT")
    s = Server(*SERVERS[case.server], index=lt.seeds_index())
    try:
        for method, target in case.before:
            s.request(method, target)
        return render(*send(s.port, case)).replace(f"127.0.0.1:{s.port}", "127.0.0.1:PORT")
    finally:
        s.stop(what="fresh server of %s" % case.name)


def run_case(case, servers, update):
    golden = os.path.join(GOLDEN, case.name + ".json")
    got = reply_of(case, servers)
    if update:
        with open(golden, "w", encoding="utf-8") as f:
            f.write(got)
        return "updated"
    try:
        with open(golden, encoding="utf-8") as f:
            want = f.read()
    except FileNotFoundError:
        want = ""
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(),
                                    "golden/" + case.name + ".json", "reply", lineterm="")
        check(False, "\n".join(diff))
    return None


def finish(servers, all_cases):
    """Stops the shared servers; with every case run, no golden reply may lack
    its request file."""
    for name, s in sorted(servers.items()):
        s.stop(what="server %s" % name)
    servers.clear()
    if all_cases:
        files = os.listdir(GOLDEN)
        orphans = sorted(n for n in files if n.endswith(".json") and n[:-5] + ".req" not in files)
        check(not orphans, "golden replies without a request file: %s" % ", ".join(orphans))


def main():
    args = sys.argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    if len(args) < 2:
        print("usage: test_golden.py PATH/TO/lede-index PATH/TO/lede-server [--update] [CASE...]",
              file=sys.stderr)
        return 2
    lt.LEDE_INDEX, lt.LEDE_SERVER = os.path.abspath(args[0]), os.path.abspath(args[1])
    only = args[2:]
    names = sorted(n[:-4] for n in os.listdir(GOLDEN) if n.endswith(".req"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    cases = []
    for n in names:
        with open(os.path.join(GOLDEN, n + ".req"), "rb") as f:
            cases.append(Case(n, f.read()))
    servers = {}
    tests = [(c.name, functools.partial(run_case, c, servers, update)) for c in cases]
    tests.append(("servers stopped cleanly, golden files tidy",
                  functools.partial(finish, servers, not only)))

    def kill_all():  # after an interrupt; finish() has stopped them otherwise
        for s in servers.values():
            s.kill()
    return lt.run_tests(tests, prefix="lede-golden-", cleanup=kill_all)


if __name__ == "__main__":
    sys.exit(main())
