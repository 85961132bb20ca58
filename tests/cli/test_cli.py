#!/usr/bin/env python3
"""test_cli.py: lede-index's command-line contract (docs/CLI.md), end to end.

Usage: test_cli.py PATH/TO/lede-index [TEST_NAME...]

Builds indexes of tests/data/seeds.jsonl and tests/data/seeds_txt/ in
temporary directories and checks every command: JSON on stdout with its keys
in order, one error line on stderr starting "lede-index: ", exit codes 0 ok /
1 runtime error / 2 usage error, nothing published by a failed build, clean
errors on corrupt or non-index directories. Search outputs for a few queries
are compared byte for byte with tests/cli/golden/ (LEDE_UPDATE_GOLDEN=1
rewrites them). Uses tests/lib/ledetest.py; standard library only; prints
TAP and exits 1 on a failure.
"""
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "data")
SEEDS = os.path.join(DATA, "seeds.jsonl")
SEEDS_TXT = os.path.join(DATA, "seeds_txt")
GOLDEN = os.path.join(HERE, "golden")

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import ledetest as lt  # noqa: E402  (the shared runner)
from ledetest import check  # noqa: E402


class Obj(list):
    """A JSON object as its (key, value) pairs, in order."""


class Run:
    def __init__(self, args, p):
        self.args = args
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    @property
    def lines(self):
        return self.out.decode("utf-8").splitlines()

    @property
    def err_lines(self):
        return self.err.decode("utf-8", "replace").splitlines()

    def json(self):
        return [json.loads(l, object_pairs_hook=Obj) for l in self.lines]

    def __repr__(self):
        return "lede-index %s -> exit %d\n  stdout: %r\n  stderr: %r" % (
            " ".join(self.args), self.rc, self.out[:400], self.err[:400])


def lede(*args, stdin=None, cwd=None, timeout=60):
    p = subprocess.run([lt.LEDE_INDEX] + list(args), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd or lt.TMP, timeout=timeout)
    return Run(list(args), p)


def ok(*args, **kw):
    """Runs a command that must succeed quietly on stderr-errors."""
    r = lede(*args, **kw)
    if r.rc != 0:
        raise AssertionError("expected success: %r" % r)
    return r


def keys(obj):
    return [k for k, _ in obj]


def val(obj, key):
    for k, v in obj:
        if k == key:
            return v
    raise KeyError(key)


def as_dict(obj):
    """A pairs-list JSON value turned into plain dicts/lists."""
    if isinstance(obj, Obj):
        return {k: as_dict(v) for k, v in obj}
    if isinstance(obj, list):
        return [as_dict(x) for x in obj]
    return obj


def hits(r):
    return [as_dict(o) for o in r.json()]


def ids(r):
    return [h["id"] for h in hits(r)]


def scores(r):
    return {h["id"]: h["score"] for h in hits(r)}


def expect_error(r, code, what, one_line=True):
    """A failure: the exit code and a first stderr line 'lede-index: ...'.
    one_line=True: that is all of stderr; False: the only 'lede-index: '
    line (usage text may follow); "first": only the first line is checked."""
    check(r.rc == code, "%s: exit %d, want %d: %r" % (what, r.rc, code, r))
    check(r.rc >= 0, "%s: killed by signal %d" % (what, -r.rc))
    el = r.err_lines
    check(len(el) >= 1 and el[0].startswith("lede-index: ") and len(el[0]) > len("lede-index: ") + 3,
          "%s: stderr must start with one 'lede-index: ' line: %r" % (what, r.err))
    if one_line == "first":
        pass  # later lines may add context (build: "nothing was published")
    elif one_line:
        check(len(el) == 1, "%s: stderr must be one line: %r" % (what, r.err))
    else:
        check(sum(1 for l in el if l.startswith("lede-index: ")) == 1,
              "%s: one error line expected: %r" % (what, r.err))
    for bad in ("Segmentation", "Aborted", "AddressSanitizer", "runtime error"):
        check(bad.encode() not in r.err, "%s: %s on stderr: %r" % (what, bad, r.err))
    return el[0] if el else ""


def mktemp(name):
    return tempfile.mkdtemp(prefix=name + "-", dir=lt.TMP)


def seeds_index():
    """A pristine index of seeds.jsonl (built once per run, copy per test)."""
    return lt.seeds_index()


def copy_index(src):
    d = mktemp("copy")
    os.rmdir(d)
    shutil.copytree(src, d)
    return d


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
    return path


def seed_docs():
    with open(SEEDS, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def listing(d):
    return sorted(n for n in os.listdir(d) if n != "LOCK")


# ------------------------------------------------------------------ tests

def test_build_quiet_and_progress():
    d = os.path.join(mktemp("b"), "ix")
    r = lede("build", "-o", d, "--quiet", SEEDS)
    check(r.rc == 0, "build --quiet: %r" % r)
    check(r.out == b"" and r.err == b"", "--quiet prints nothing on success: %r" % r)
    check(os.path.exists(os.path.join(d, "MANIFEST")), "build published a MANIFEST")
    # Not quiet, stderr not a tty: a summary line, but no progress.
    d2 = os.path.join(mktemp("b"), "ix")
    r = lede("build", "-o", d2, SEEDS)
    check(r.rc == 0 and r.out == b"", "build prints nothing on stdout: %r" % r)
    check(b"\r" not in r.err and b"ETA" not in r.err and b"MB/s (input)" not in r.err,
          "no progress when stderr is not a tty: %r" % r.err)
    check(len(r.err_lines) == 1 and r.err_lines[0].startswith("lede-index: ")
          and "5 documents" in r.err_lines[0], "one summary line: %r" % r.err)
    # Default directory: ./index.
    cwd = mktemp("cwd")
    r = lede("build", "--quiet", SEEDS, cwd=cwd)
    check(r.rc == 0 and os.path.exists(os.path.join(cwd, "index", "MANIFEST")),
          "build without -o writes ./index: %r" % r)
    # On a terminal, --quiet still prints nothing.
    master, slave = pty.openpty()
    try:
        d3 = os.path.join(mktemp("b"), "ix")
        p = subprocess.run([lt.LEDE_INDEX, "build", "-o", d3, "--quiet", SEEDS], stdout=subprocess.PIPE,
                           stderr=slave, cwd=lt.TMP, timeout=60)
        os.close(slave)
        slave = None
        got = b""
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        check(p.returncode == 0 and p.stdout == b"" and got == b"",
              "--quiet on a tty prints nothing: exit %d, %r %r" % (p.returncode, p.stdout, got))
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


def test_build_txt_folder():
    d = os.path.join(mktemp("txt"), "ix")
    ok("build", "-o", d, "--quiet", SEEDS_TXT)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 5, "txt folder: 5 documents: %r" % st)
    want = sorted(os.path.splitext(n)[0] for n in os.listdir(SEEDS_TXT) if n.endswith(".txt"))
    r = ok("search", d, "macron OR social OR media OR may", "-k", "100")
    check(sorted(ids(r)) == want, "txt ids are file names: %r vs %r" % (ids(r), want))
    titles = {h["id"]: h["title"] for h in hits(r)}
    for name in want:
        with open(os.path.join(SEEDS_TXT, name + ".txt"), encoding="utf-8") as f:
            first = next(l.strip() for l in f if l.strip())
        check(titles.get(name) == first, "txt title is the first line: %r vs %r" % (titles.get(name), first))
    check(ok("check", d).out == b'{"ok":true}\n', "txt index checks ok")


def test_search_output():
    d = seeds_index()
    r = ok("search", d, "macron fines")
    objs = r.json()
    check(len(objs) >= 1, "search returns hits")
    for o in objs:
        check(keys(o) == ["id", "score", "title", "source", "date", "url"],
              "hit keys and order: %r" % keys(o))
        h = as_dict(o)
        check(isinstance(h["id"], str) and isinstance(h["score"], float) and h["score"] > 0,
              "id is a string, score a positive number: %r" % h)
    sc = [as_dict(o)["score"] for o in objs]
    check(sc == sorted(sc, reverse=True), "best first: %r" % sc)
    check(r.err == b"", "search is silent on stderr: %r" % r.err)
    # Stored fields come back as given.
    docs = {x["id"]: x for x in seed_docs()}
    for h in hits(r):
        src = docs[h["id"]]
        for f in ("title", "source", "date", "url"):
            check(h[f] == src.get(f), "field %s of %s: %r vs %r" % (f, h["id"], h[f], src.get(f)))
    # Scores print with %.9g: at most 9 significant digits.
    for line in r.lines:
        s = line.split('"score":', 1)[1].split(",", 1)[0]
        digits = s.replace("-", "").replace(".", "").split("e")[0].lstrip("0")
        check(len(digits) <= 9, "score printed with %%.9g: %s" % s)
    # A query that matches nothing prints nothing, exit 0.
    r = ok("search", d, "zzzyxwnothing")
    check(r.out == b"", "no hits, no output: %r" % r)
    # A prefix that matches no term (under UBSan: no report either).
    r = lede("search", d, "qqqzzz*")
    check(r.rc == 0 and r.out == b"" and r.err == b"", "a prefix matching nothing: %r" % r)


def test_explain():
    d = seeds_index()
    r = ok("search", d, '"social media" macron title:fines', "--explain", "-k", "3")
    for o in r.json():
        check(keys(o) == ["id", "score", "title", "source", "date", "url", "explain"],
              "explain hit keys: %r" % keys(o))
        x = val(o, "explain")
        check(keys(x) == ["N", "avgdl", "doc_len", "terms"], "explain keys: %r" % keys(x))
        check(val(x, "N") == 5, "N = 5: %r" % val(x, "N"))
        total = 0.0
        for t in val(x, "terms"):
            check(keys(t)[:5] == ["term", "field", "tf", "df", "idf"], "explain term keys: %r" % keys(t))
            td = as_dict(t)
            check(td["field"] in ("all", "title", "body"), "field: %r" % td)
            check(td["df"] <= 5 and td["idf"] > 0, "df <= N, idf > 0: %r" % td)
            total += td.get("score", 0.0)
        if val(x, "terms") and "score" in keys(val(x, "terms")[0]):
            check(abs(total - val(o, "score")) < 1e-6 * max(1.0, abs(total)),
                  "term scores add up to the hit's score: %r vs %r" % (total, val(o, "score")))
        terms = [as_dict(t)["term"] for t in val(x, "terms")]
        check("social media" in terms, "a phrase is its words joined by a space: %r" % terms)
    # Explain does not change the ranking.
    plain = ok("search", d, '"social media" macron title:fines', "-k", "3")
    check(ids(plain) == ids(r) and list(scores(plain).values()) == list(scores(r).values()),
          "--explain keeps ids and scores")


QUERIES = [
    "macron", "macron fines", '"social media"', '"legal liability" social media',
    "presid*", "+theresa -facebook", "title:fines OR body:terrorist",
    'source:"ITV News" media', "date>=2017-06-13 extremist", "date:2017-06",
    "(france AND uk) NOT google", " -macron", "extrem* +content",
]


def test_exhaustive_and_k():
    d = seeds_index()
    for q in QUERIES:
        for k in ("1", "2", "3", "10"):
            a = lede("search", d, q, "-k", k)
            b = lede("search", d, q, "-k", k, "--exhaustive")
            check(a.rc == 0 and b.rc == 0, "search %r: %r %r" % (q, a, b))
            check(a.out == b.out, "--exhaustive equals default for %r -k %s:\n%s\n%s" % (q, k, a.out, b.out))
            check(len(a.lines) <= int(k), "-k %s caps the hits of %r" % (k, q))
        full = lede("search", d, q, "-k", "10").lines
        for off in ("1", "2"):
            r = lede("search", d, q, "-k", "2", "--offset", off)
            check(r.lines == full[int(off):int(off) + 2], "--offset %s of %r" % (off, q))


def test_query_starting_with_dash():
    """QUERY.md: "-football" returns every document without football. The
    CLI must let such a query through: as the QUERY argument, or after "--"."""
    d = seeds_index()
    want = ok("search", d, " -facebook").out
    check(len(want.splitlines()) >= 1, "' -facebook' matches documents")
    a = lede("search", d, "-facebook")
    b = lede("search", d, "--", "-facebook")
    check((a.rc == 0 and a.out == want) or (b.rc == 0 and b.out == want),
          "a query starting with '-' can be searched (search DIR -facebook, or search DIR -- -facebook):"
          "\n%r\n%r" % (a, b))


def test_queries_file():
    d = seeds_index()
    qf = write(os.path.join(mktemp("q"), "queries.txt"),
               "q1\tmacron fines\n\"social media\"\n\nq3\tpresid*\n\"unterminated\nq5\tmacron)\n")
    r = ok("search", d, "--queries", qf, "-k", "3")
    objs = r.json()
    check(len(objs) == 5, "one line per non-empty query: %r" % r)
    for o in objs:
        k = keys(o)
        check(k[:3] == ["query", "ids", "us"], "queries keys: %r" % k)
        check(isinstance(val(o, "us"), (int, float)) and val(o, "us") >= 0, "us is a number")
    got = [as_dict(o) for o in objs]
    check([g["query"] for g in got] == ["q1", '"social media"', "q3", '"unterminated', "q5"],
          "query is the ID before a tab, else the text: %r" % [g["query"] for g in got])
    check(got[0]["ids"] == ids(ok("search", d, "macron fines", "-k", "3")), "ids match single search")
    check(got[1]["ids"] == ids(ok("search", d, '"social media"', "-k", "3")), "ids match single search")
    check(got[2]["ids"] == ids(ok("search", d, "presid*", "-k", "3")), "ids match single search")
    check("error" in got[3] and got[3].get("at") == 0 and got[3]["ids"] == [],
          "bad query line has error and at: %r" % got[3])
    check("error" in got[4] and got[4].get("at") == 6, "bad query line has at = 6: %r" % got[4])
    check("error" not in got[0], "good lines have no error")
    # From stdin, and with --exhaustive / --plain.
    r2 = ok("search", d, "--queries", "-", "-k", "3", stdin=open(qf, "rb").read())
    check([as_dict(o)["ids"] for o in r2.json()] == [g["ids"] for g in got], "--queries - reads stdin")
    r3 = ok("search", d, "--queries", qf, "-k", "3", "--exhaustive")
    check([as_dict(o)["ids"] for o in r3.json()] == [g["ids"] for g in got], "--queries --exhaustive")
    r4 = ok("search", d, "--queries", qf, "-k", "3", "--plain")
    check(all("error" not in as_dict(o) for o in r4.json()), "--plain queries have no syntax errors")
    r = lede("search", d, "--queries", os.path.join(lt.TMP, "no-such-file"))
    expect_error(r, 1, "--queries with a missing file")


def test_plain():
    d = seeds_index()
    r = ok("search", d, '"social media', "--plain")
    check(len(r.lines) > 0, "--plain: an unterminated quote is just words")
    a = ok("search", d, "macron AND fines", "--plain", "-k", "10")
    b = ok("search", d, "macron fines and", "-k", "10")
    check(ids(a) == ids(b), "--plain: AND is an ordinary word: %r vs %r" % (ids(a), ids(b)))
    r = ok("search", d, "title:(macron", "--plain")
    check(r.rc == 0, "--plain: no syntax errors")


def test_stats():
    d = seeds_index()
    r = ok("stats", d)
    objs = r.json()
    check(len(objs) == 1, "stats prints one object")
    o = objs[0]
    k = keys(o)
    for want in ("documents", "terms", "segments", "bytes"):
        check(want in k, "stats has %s: %r" % (want, k))
    check(k.index("documents") < k.index("terms") < k.index("segments") < k.index("bytes"),
          "stats key order: %r" % k)
    b = val(o, "bytes")
    check(keys(b) == ["postings", "positions", "dictionary", "stored", "other"], "bytes keys: %r" % keys(b))
    st = as_dict(o)
    check(st["documents"] == 5 and st["segments"] == 1 and st["terms"] > 100, "stats values: %r" % st)
    seg_bytes = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".lede"))
    check(sum(st["bytes"].values()) == seg_bytes,
          "bytes add up to the segment files: %r vs %d" % (st["bytes"], seg_bytes))
    check(all(v > 0 for v in st["bytes"].values()), "every byte class is used: %r" % st["bytes"])


def test_check_ok():
    d = seeds_index()
    r = ok("check", d)
    check(r.out == b'{"ok":true}\n' and r.err == b"", "check ok: %r" % r)


def test_analyze():
    text = "Macron’s Élysée, the U.S. and 1,000 e-mails; don't stop"
    r = ok("analyze", text)
    arr = json.loads(r.out, object_pairs_hook=Obj)
    check(isinstance(arr, list) and len(arr) > 5, "analyze prints an array: %r" % r.out)
    raw = text.encode("utf-8")
    prev_pos = -1
    for t in arr:
        check(keys(t) == ["term", "position", "start", "end"], "analyze keys: %r" % keys(t))
        t = as_dict(t)
        check(0 <= t["start"] < t["end"] <= len(raw), "offsets in range: %r" % t)
        check(t["position"] > prev_pos, "positions increase: %r" % t)
        prev_pos = t["position"]
    terms = [as_dict(t)["term"] for t in arr]
    check(terms[0] == "macron" and raw[as_dict(arr[0])["start"]:as_dict(arr[0])["end"]] == "Macron’s".encode(),
          "possessive dropped, byte offsets span the word: %r" % arr[:1])
    check("us" in terms and "1000" in terms, "U.S. -> us, 1,000 -> 1000: %r" % terms)
    check(ok("analyze", "").out == b"[]\n", "empty text: []")
    expect_error(lede("analyze"), 2, "analyze without text", one_line=False)
    expect_error(lede("analyze", "a", "b"), 2, "analyze with two texts", one_line=False)


def test_analyzer_options():
    """--no-stem and --stopwords are recorded in the index and used by search."""
    tmp = mktemp("an")
    ns = os.path.join(tmp, "nostem")
    ok("build", "-o", ns, "--quiet", "--no-stem", SEEDS)
    stemmed = set(ids(ok("search", seeds_index(), "fines", "-k", "10")))
    unstemmed = set(ids(ok("search", ns, "fines", "-k", "10")))
    check(unstemmed < stemmed, "--no-stem: 'fines' no longer finds 'fine': %r vs %r" % (unstemmed, stemmed))
    check(ok("check", ns).rc == 0, "--no-stem index checks ok")
    stop = os.path.join(os.path.dirname(os.path.dirname(HERE)), "conf", "stopwords-en.txt")
    if os.path.exists(stop):
        sw = os.path.join(tmp, "stop")
        ok("build", "-o", sw, "--quiet", "--stopwords", stop, SEEDS)
        check(ok("search", sw, "the").out == b"", "a stop word finds nothing")
        check(len(ok("search", seeds_index(), "the").lines) == 5, "without a stop list 'the' is a word")
        check(ids(ok("search", sw, '"theresa may"', "-k", "1")) != [], "phrases still work")
        check(ok("check", sw).rc == 0, "stop-word index checks ok")
        # Adding to it keeps its analyzer.
        extra = write(os.path.join(tmp, "x.jsonl"), '{"id":"x","title":"The the the","body":"zebra"}\n')
        ok("add", sw, "--quiet", extra)
        check(ok("search", sw, "the").out == b"" and ids(ok("search", sw, "zebra")) == ["x"],
              "add uses the index's stop list")
    r = lede("build", "-o", os.path.join(tmp, "nostop"), "--stopwords", os.path.join(tmp, "missing.txt"), SEEDS)
    expect_error(r, 1, "--stopwords with a missing file", one_line="first")


def test_delete_add_merge():
    d = copy_index(seeds_index())
    base = ok("search", d, "macron OR social", "-k", "10")
    victim = "003_3d7c43c390a1a416"
    check(victim in ids(base), "the victim is found before")
    r = ok("delete", d, victim)
    check(as_dict(r.json()[0]) == {"deleted": 1, "missing": 0} and keys(r.json()[0]) == ["deleted", "missing"],
          "delete output: %r" % r)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 4 and st["deleted"] == 1, "stats after delete: %r" % st)
    check(victim not in ids(ok("search", d, "macron OR social", "-k", "10")), "deleted doc not found")
    check(ok("check", d).rc == 0, "check ok after delete")
    # Scores stay positive and the pruned top-k stays the exhaustive one.
    for q in QUERIES:
        for k in ("1", "2", "10"):
            a = ok("search", d, q, "-k", k)
            b = ok("search", d, q, "-k", k, "--exhaustive")
            check(all(s >= 0 for s in scores(b).values()),
                  "after a delete, scores of %r stay non-negative (idf = ln(1 + (N - df + 0.5)/(df + 0.5))"
                  " with df <= N): %r" % (q, scores(b)))
            check(a.out == b.out, "after a delete, --exhaustive equals default for %r -k %s:\n%s\n%s"
                  % (q, k, a.out.decode(), b.out.decode()))
    # Missing ids: exit 1, the others still deleted.
    r = lede("delete", d, "001_323ec14388e56bcd", "no-such-id")
    check(r.rc == 1 and as_dict(r.json()[0]) == {"deleted": 1, "missing": 1},
          "delete with a missing id: %r" % r)
    check(len(r.err_lines) == 1 and "no-such-id" in r.err_lines[0], "missing id named: %r" % r.err)
    check("001_323ec14388e56bcd" not in ids(ok("search", d, "macron OR social", "-k", "10")),
          "the found id was deleted anyway")
    # Add both back from a file: new segment.
    docs = {x["id"]: x for x in seed_docs()}
    back = write(os.path.join(mktemp("add"), "back.jsonl"),
                 json.dumps(docs[victim]) + "\n" + json.dumps(docs["001_323ec14388e56bcd"]) + "\n")
    r = lede("add", d, "--quiet", "--no-merge", back)
    check(r.rc == 0 and r.out == b"" and r.err == b"", "add --quiet: %r" % r)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 5 and st["segments"] == 2, "stats after add: %r" % st)
    check(ok("check", d).rc == 0, "check ok after add")
    check(set(ids(ok("search", d, "macron OR social", "-k", "10"))) == set(ids(base)), "all back after add")
    # Merge: one segment, no deletions, the same answers as the original index.
    r = ok("merge", d)
    check(r.out == b"" and r.err == b"", "merge is silent: %r" % r)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 5 and st["deleted"] == 0 and st["segments"] == 1, "stats after merge: %r" % st)
    check(ok("check", d).rc == 0, "check ok after merge")
    for q in QUERIES:
        a = scores(ok("search", SEEDS_IX(), q, "-k", "10", "--exhaustive"))
        b = scores(ok("search", d, q, "-k", "10", "--exhaustive"))
        check(a.keys() == b.keys() and all(abs(a[i] - b[i]) <= 1e-9 * abs(a[i]) for i in a),
              "after delete+add+merge, %r scores as the original: %r vs %r" % (q, a, b))


def SEEDS_IX():
    return seeds_index()


def test_segments_do_not_change_scores():
    """An index cut into segments (--mem-mb / add --no-merge) answers like one."""
    docs = seed_docs()
    tmp = mktemp("cut")
    parts = []
    for i, doc in enumerate(docs):
        parts.append(write(os.path.join(tmp, "part%d.jsonl" % i), json.dumps(doc) + "\n"))
    d = os.path.join(tmp, "ix")
    ok("build", "-o", d, "--quiet", parts[0])
    for p in parts[1:]:
        ok("add", d, "--quiet", "--no-merge", p)
    st = as_dict(ok("stats", d).json()[0])
    check(st["segments"] == 5 and st["documents"] == 5, "five segments: %r" % st)
    check(ok("check", d).rc == 0, "multi-segment index checks ok")
    for q in QUERIES:
        a = ok("search", seeds_index(), q, "-k", "10", "--exhaustive")
        b = ok("search", d, q, "-k", "10", "--exhaustive")
        c = ok("search", d, q, "-k", "10")
        sa, sb = scores(a), scores(b)
        check(sa.keys() == sb.keys() and all(abs(sa[i] - sb[i]) <= 1e-9 * abs(sa[i]) for i in sa),
              "segments do not change scores of %r: %r vs %r" % (q, sa, sb))
        check(b.out == c.out, "multi-segment: --exhaustive equals default for %r" % q)


def test_malformed_line():
    good = seed_docs()
    tmp = mktemp("bad")
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w", encoding="utf-8") as f:
        f.write(json.dumps(good[0]) + "\n" + json.dumps(good[1]) + "\n")
        f.write('{"id": "x", "title": 12 "body": }\n')
        f.write(json.dumps(good[2]) + "\n")
    # Fresh directory: exit 1, FILE:LINE, no MANIFEST.
    fresh = os.path.join(tmp, "fresh")
    r = lede("build", "-o", fresh, bad)
    first = expect_error(r, 1, "malformed line, fresh dir", one_line="first")
    check("bad.jsonl:3" in first, "stderr names FILE:LINE: %r" % first)
    check(r.out == b"", "nothing on stdout: %r" % r.out)
    check(not os.path.exists(os.path.join(fresh, "MANIFEST")), "no MANIFEST published in a fresh dir")
    if os.path.isdir(fresh):
        check(not [n for n in os.listdir(fresh) if n.endswith(".lede") or n.endswith(".del")],
              "no segment files left behind: %r" % os.listdir(fresh))
    # Existing index: it stays as it was, and searchable.
    d = copy_index(seeds_index())
    before_files = {n: open(os.path.join(d, n), "rb").read() for n in listing(d)}
    before = ok("search", d, "macron fines", "-k", "10").out
    r = lede("build", "-o", d, bad)
    first = expect_error(r, 1, "malformed line, existing index", one_line="first")
    check("bad.jsonl:3" in first, "stderr names FILE:LINE: %r" % first)
    after_files = {n: open(os.path.join(d, n), "rb").read() for n in listing(d)}
    check(after_files == before_files, "the previous index is untouched: %r vs %r"
          % (sorted(after_files), sorted(before_files)))
    check(ok("search", d, "macron fines", "-k", "10").out == before, "still searchable, same answers")
    check(ok("check", d).rc == 0, "still checks ok")
    # add with a malformed line: also nothing published.
    r = lede("add", d, bad)
    expect_error(r, 1, "add with a malformed line", one_line="first")
    check({n: open(os.path.join(d, n), "rb").read() for n in listing(d)} == before_files,
          "add of a malformed file publishes nothing")
    # --skip-bad: counts and continues.
    sk = os.path.join(tmp, "skip")
    r = lede("build", "-o", sk, "--skip-bad", bad)
    check(r.rc == 0, "--skip-bad succeeds: %r" % r)
    check(any("bad.jsonl:3" in l for l in r.err_lines), "--skip-bad reports the line: %r" % r.err)
    check(any("1 bad line" in l for l in r.err_lines), "--skip-bad counts: %r" % r.err)
    st = as_dict(ok("stats", sk).json()[0])
    check(st["documents"] == 3, "--skip-bad indexed the 3 good lines: %r" % st)
    # Several kinds of malformed lines, each at its line number.
    for i, line in enumerate(['not json', '[1, 2]', '{"id": "a", "title": "t"', '{"id": {}}',
                              '{"title": "x", "body": "\\ud800 bad escape \\q"}', '"string"']):
        f = write(os.path.join(tmp, "m%d.jsonl" % i), json.dumps(good[0]) + "\n" + line + "\n")
        r = lede("build", "-o", os.path.join(tmp, "m%d" % i), f)
        first = expect_error(r, 1, "malformed %r" % line, one_line="first")
        check(("m%d.jsonl:2" % i) in first, "names m%d.jsonl:2: %r" % (i, first))


def test_ids():
    tmp = mktemp("ids")
    f = write(os.path.join(tmp, "misc.jsonl"),
              '{"title":"No id here","body":"orphan words"}\n'
              '{"id":7,"title":"Seven","body":"numeric id"}\n'
              '{"id":"dup","title":"first","body":"alpha"}\n'
              '{"id":null,"title":"Null id","body":"gamma"}\n'
              '{"id":"dup","title":"second","body":"beta"}\n')
    d = os.path.join(tmp, "ix")
    r = lede("build", "-o", d, f)
    check(r.rc == 0 and any("1 replaced" in l for l in r.err_lines), "a repeated id replaces: %r" % r)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 4, "4 documents after replacement: %r" % st)
    r = ok("search", d, "orphan OR numeric OR alpha OR beta OR gamma")
    got = {h["id"]: h["title"] for h in hits(r)}
    check(got.get("dup") == "second", "the later document wins: %r" % got)
    check("alpha" not in ok("search", d, "alpha").out.decode() and ok("search", d, "alpha").out == b"",
          "the replaced text is gone")
    check(got.get("misc.jsonl#1") == "No id here", "a doc with no id is named FILE#LINE: %r" % got)
    check(got.get("misc.jsonl#4") == "Null id", "a null id is named FILE#LINE: %r" % got)
    check(got.get("7") == "Seven", "a numeric id becomes a string: %r" % got)
    # Replacing through add.
    f2 = write(os.path.join(tmp, "again.jsonl"), '{"id":"7","title":"Seven again","body":"delta"}\n')
    r = lede("add", d, f2)
    check(r.rc == 0 and any("1 replaced" in l for l in r.err_lines), "add replaces: %r" % r)
    st = as_dict(ok("stats", d).json()[0])
    check(st["documents"] == 4, "still 4 documents: %r" % st)
    check(ids(ok("search", d, "numeric")) == [], "old version gone")
    check(ids(ok("search", d, "delta")) == ["7"], "new version found")
    check(ok("check", d).rc == 0, "check ok")


USAGE_CASES = [
    ([], "no command"),
    (["frobnicate"], "unknown command"),
    (["build"], "build without input"),
    (["build", "--bogus", "x.jsonl"], "unknown build option"),
    (["build", "--mem-mb", "0", "x.jsonl"], "bad --mem-mb"),
    (["build", "--mem-mb", "lots", "x.jsonl"], "bad --mem-mb"),
    (["add"], "add without dir"),
    (["delete"], "delete without args"),
    (["delete", "DIR"], "delete without ids"),
    (["merge"], "merge without dir"),
    (["merge", "a", "b"], "merge with two dirs"),
    (["search"], "search without args"),
    (["search", "DIR"], "search without query"),
    (["search", "DIR", "a", "b"], "two queries"),
    (["search", "DIR", "q", "-k", "0"], "-k 0"),
    (["search", "DIR", "q", "-k", "abc"], "-k abc"),
    (["search", "DIR", "q", "-k", "-3"], "-k -3"),
    (["search", "DIR", "q", "-k", "100001"], "-k too big"),
    (["search", "DIR", "q", "--offset", "x"], "bad --offset"),
    (["search", "DIR", "q", "--k1", "-1"], "bad --k1"),
    (["search", "DIR", "q", "--b", "2"], "bad --b"),
    (["search", "DIR", "q", "--frob"], "unknown search option"),
    (["search", "DIR", "q", "--queries", "F"], "query and --queries"),
    (["stats"], "stats without dir"),
    (["stats", "a", "b"], "stats with two dirs"),
    (["check"], "check without dir"),
    (["analyze"], "analyze without text"),
]


def test_usage_errors():
    d = seeds_index()
    for args, what in USAGE_CASES:
        args = [d if a == "DIR" else a for a in args]
        r = lede(*args)
        expect_error(r, 2, "usage error (%s)" % what, one_line=False)
        check(r.out == b"", "usage error prints nothing on stdout (%s): %r" % (what, r.out))
    r = ok("--help")
    check(r.out.startswith(b"usage: lede-index"), "--help prints usage on stdout")
    r = ok("--version")
    check(r.out.startswith(b"lede-index ") and r.out.count(b"\n") == 1, "--version: %r" % r.out)


def test_syntax_errors():
    d = seeds_index()
    cases = [('"social media', 0), ("macron)", 6), ("title:", 6), ("(macron", 0),
             ("macron AND", 7), ("Élysée )", 9)]
    for q, at in cases:
        r = lede("search", d, q)
        first = expect_error(r, 2, "syntax error %r" % q, one_line=False)
        check(("byte %d" % at) in first, "syntax error of %r names byte %d: %r" % (q, at, first))
        check(r.out == b"", "no stdout on a syntax error")
    # With --explain / --exhaustive the same.
    r = lede("search", d, "macron)", "--exhaustive", "--explain")
    expect_error(r, 2, "syntax error with options", one_line=False)


def test_not_an_index():
    empty = mktemp("empty")
    missing = os.path.join(lt.TMP, "does-not-exist")
    for dd in (empty, missing):
        for args in (["search", dd, "macron"], ["stats", dd], ["delete", dd, "x"], ["merge", dd],
                     ["add", dd, SEEDS], ["search", dd, "--queries", SEEDS]):
            r = lede(*args)
            first = expect_error(r, 1, "%s on a non-index dir" % args[0])
            check("not a lede index" in first or "MANIFEST" in first or "No such file" in first,
                  "message says why: %r" % first)
        r = lede("check", dd)
        check(r.rc == 1 and r.out == b'{"ok":false}\n', "check on a non-index dir: %r" % r)
        check(all(l.startswith("lede-index: ") for l in r.err_lines) and r.err_lines, "check errors: %r" % r)
    check(not os.path.exists(missing), "no directory created by reading commands")
    check(not os.path.exists(os.path.join(empty, "MANIFEST")), "no MANIFEST created in a non-index dir")


def corrupt_copies():
    """(label, dir) pairs of damaged copies of the seeds index."""
    src = seeds_index()
    seg = [n for n in os.listdir(src) if n.endswith(".lede")][0]
    out = []
    size = os.path.getsize(os.path.join(src, seg))

    def flip(pos, mask):
        d = copy_index(src)
        p = os.path.join(d, seg)
        with open(p, "r+b") as f:
            f.seek(pos)
            b = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([b ^ mask]))
        return d

    for pos in (0, 8, 20, 100, size // 3, size // 2, 2 * size // 3, size - 100, size - 30, size - 1):
        out.append(("segment byte %d flipped" % pos, flip(pos, 0xff)))
    for n in (0, 10, size // 2, size - 1):
        d = copy_index(src)
        os.truncate(os.path.join(d, seg), n)
        out.append(("segment truncated to %d" % n, d))
    d = copy_index(src)
    os.unlink(os.path.join(d, seg))
    out.append(("segment missing", d))
    d = copy_index(src)
    write(os.path.join(d, "MANIFEST"), b"\x00garbage\xff\n", "wb")
    out.append(("garbage MANIFEST", d))
    d = copy_index(src)
    m = open(os.path.join(d, "MANIFEST"), "rb").read()
    write(os.path.join(d, "MANIFEST"), m.replace(b" 5 -", b" 6 -"), "wb")
    out.append(("MANIFEST edited without its checksum", d))
    return out


def test_corrupt_index():
    for label, d in corrupt_copies():
        for args in (["search", d, "macron"], ["search", d, '"social media" presid*', "--explain"],
                     ["stats", d], ["search", d, "--queries", SEEDS]):
            r = lede(*args)
            first = expect_error(r, 1, "%s on a %s" % (args[0], label))
            check(r.out == b"", "no output on a corrupt index (%s): %r" % (label, r.out[:200]))
        r = lede("check", d)
        check(r.rc == 1 and r.out == b'{"ok":false}\n', "check on a %s: %r" % (label, r))
        check(r.err_lines and all(l.startswith("lede-index: ") for l in r.err_lines),
              "check faults on stderr (%s): %r" % (label, r.err))
        for bad in (b"Segmentation", b"AddressSanitizer", b"runtime error"):
            check(bad not in r.err, "check on a %s: %r" % (label, r.err))


def test_header_flip_detected():
    """Every byte of a segment is covered by a checksum or a magic/version
    check, so any single flip makes check fail (FORMAT.md)."""
    src = seeds_index()
    seg = [n for n in os.listdir(src) if n.endswith(".lede")][0]
    for pos in range(16):
        d = copy_index(src)
        p = os.path.join(d, seg)
        with open(p, "r+b") as f:
            f.seek(pos)
            b = f.read(1)[0]
            f.seek(pos)
            f.write(bytes([b ^ 0x01]))
        r = lede("check", d)
        check(r.rc == 1 and r.out == b'{"ok":false}\n',
              "a flip of header byte %d is detected by check: %r" % (pos, r))
        shutil.rmtree(d)


GOLDEN_QUERIES = [
    # (file name, extra arguments)
    ("legal_liability_social_media.jsonl", ['"legal liability" social media', "-k", "5"]),
    ("macron_fines.jsonl", ["macron fines"]),
    ("presid_prefix.jsonl", ["presid*", "-k", "3"]),
    ("title_macron_explain.jsonl", ["title:macron -football", "--explain"]),
    ("theresa_may_date_filter.jsonl", ['"theresa may" date>=2017-06-13']),
    ("source_itv_news.jsonl", ['source:"ITV News" OR extremist', "-k", "4", "--offset", "1"]),
    ("queries_file.jsonl", None),
]


def test_golden():
    d = seeds_index()
    update = os.environ.get("LEDE_UPDATE_GOLDEN") == "1"
    for name, args in GOLDEN_QUERIES:
        if args is None:
            qf = write(os.path.join(mktemp("gq"), "q.txt"),
                       "a\tmacron fines\nb\t\"social media\" -facebook\nc\tpresid*\n")
            r = ok("search", d, "--queries", qf, "-k", "3")
            # "us" is a timing: blank it.
            out = b"".join(
                json.dumps(dict((k, v) for k, v in o if k != "us"), separators=(",", ":")).encode() + b"\n"
                for o in r.json())
        else:
            out = ok("search", d, *args).out
        path = os.path.join(GOLDEN, name)
        if update:
            os.makedirs(GOLDEN, exist_ok=True)
            write(path, out, "wb")
            continue
        if not check(os.path.exists(path), "golden file %s exists (LEDE_UPDATE_GOLDEN=1 writes it)" % name):
            continue
        want = open(path, "rb").read()
        check(out == want, "golden %s differs:\n got: %s\nwant: %s" % (name, out.decode(), want.decode()))


# ------------------------------------------------------------------ main

def main():
    if len(sys.argv) < 2:
        print("usage: test_cli.py PATH/TO/lede-index [TEST...]", file=sys.stderr)
        return 2
    lt.LEDE_INDEX = os.path.abspath(sys.argv[1])
    return lt.run_tests(lt.tests_in(globals(), sys.argv[2:]), prefix="lede-cli-")


if __name__ == "__main__":
    sys.exit(main())
