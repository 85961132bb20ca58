"""ledetest.py: what lede's Python test programs share (tests/cli/test_cli.py,
tests/http/test_server.py, test_web.py, test_golden.py).

- check(cond, msg): records a failed check without stopping the test.
- run_tests(tests): the TAP runner: "1..N", one "ok N - name" or
  "not ok N - name" line per test (the failed checks follow as "#" lines),
  "# K of N tests failed", and the exit code (1 if any failed), which is
  what meson counts. Each run gets a scratch directory, TMP.
- tests_in(namespace, only): the test_* functions of a module, in the order
  they are defined, kept to the names in only (with or without "test_").
- seeds_index(): the index of tests/data/seeds.jsonl, built once per run.
- run_server(*args): lede-server run to completion (flags, conf files).
- Server: a lede-server child on a free loopback port, its stderr read line
  by line; stop() checks the exit status and that no sanitizer spoke.

A program sets LEDE_INDEX and LEDE_SERVER (the paths of the binaries under
test) before using them. It finds this module with

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "lib"))

Standard library only.
"""
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
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "tests", "data", "seeds.jsonl")

LEDE_INDEX = None     # path of lede-index, set by the program
LEDE_SERVER = None    # path of lede-server, set by the program
TMP = None            # scratch directory of the current run_tests

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
# Generous: under AddressSanitizer everything is several times slower.
START_TIMEOUT = 60
STOP_TIMEOUT = 30

_failures = []        # messages of the failed checks of the current test
_built = {}


def check(cond, msg):
    """Records a failed check without stopping the test."""
    if not cond:
        _failures.append(msg)
    return cond


def sanitizer_problems(text, what):
    """One message per sanitizer report found in text."""
    return ["%s: sanitizer report (%s):\n%s" % (what, mark, text[-6000:])
            for mark in SANITIZER_MARKS if mark in text]


def no_sanitizer_report(text, what):
    for m in sanitizer_problems(text, what):
        check(False, m)


def tests_in(namespace, only=()):
    tests = [(n, f) for n, f in list(namespace.items()) if n.startswith("test_") and callable(f)]
    if only:
        tests = [t for t in tests if t[0] in only or t[0][5:] in only]
    return tests


def run_tests(tests, prefix="lede-test-", timing=False, cleanup=None):
    """Runs (name, fn) pairs with TAP output in a fresh TMP; returns the exit
    code. A test fails on a failed check or an exception; a test that returns
    a string gets it as a note ("ok 3 - name # note"). cleanup runs last,
    even after an interrupt."""
    global TMP
    TMP = tempfile.mkdtemp(prefix=prefix)
    _built.clear()
    failed = 0
    print("1..%d" % len(tests))
    sys.stdout.flush()
    try:
        for i, (name, fn) in enumerate(tests, 1):
            del _failures[:]
            t0 = time.monotonic()
            note = None
            try:
                note = fn()
            except Exception:
                _failures.append("exception:\n" + traceback.format_exc())
            if _failures:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for m in _failures[:20]:
                    print("#   " + m.replace("\n", "\n#   "))
                if len(_failures) > 20:
                    print("#   ... and %d more" % (len(_failures) - 20))
            else:
                notes = ([note] if isinstance(note, str) else []) + (
                    ["%.1f s" % (time.monotonic() - t0)] if timing else [])
                print("ok %d - %s%s" % (i, name, " # " + ", ".join(notes) if notes else ""))
            sys.stdout.flush()
    finally:
        if cleanup:
            cleanup()
        shutil.rmtree(TMP, ignore_errors=True)
    print("# %d of %d tests failed" % (failed, len(tests)))
    return 1 if failed else 0


def seeds_index():
    """A pristine index of seeds.jsonl (built once per run; copy it to change it)."""
    if "seeds" not in _built:
        d = os.path.join(TMP, "seeds-master")
        p = subprocess.run([LEDE_INDEX, "build", "-o", d, "-q", SEEDS], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("lede-index build failed: %s" % p.stdout.decode("utf-8", "replace"))
        _built["seeds"] = d
    return _built["seeds"]


def run_server(*args, timeout=60):
    """Runs lede-server with args to completion (flags, conf files, startup
    errors): (exit status, stdout, stderr); a sanitizer report fails the test."""
    p = subprocess.run([LEDE_SERVER] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, cwd=TMP)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    no_sanitizer_report(err, "lede-server " + " ".join(args))
    return p.returncode, out, err


class Server:
    """A lede-server child process; stderr is collected line by line."""

    def __init__(self, *args, index=None, listen="127.0.0.1:0", access_log="off"):
        cmd = [LEDE_SERVER]
        if index:
            cmd += ["--index", index]
        if listen:
            cmd += ["--listen", listen]
        if access_log:
            cmd += ["--access-log", access_log]
        self.cmd = cmd + list(args)
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, cwd=TMP)
        self.lines = []
        self.cond = threading.Condition()
        self.port = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        m = self.wait_log(r"listening on http://127\.0\.0\.1:(\d+)$", START_TIMEOUT)
        if not m:
            self.kill()
            raise RuntimeError("lede-server did not start: %s\n%s" % (" ".join(self.cmd),
                                                                     self.stderr()))
        self.port = int(m.group(1))

    def _read(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of stderr
            self.cond.notify_all()

    def stderr(self):
        with self.cond:
            return "\n".join(l for l in self.lines if l is not None)

    def wait_log(self, pattern, timeout, start=0):
        """The match of the first stderr line from index start matching pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if self.lines[i] is None:
                        return None
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def log_size(self):
        with self.cond:
            return len(self.lines)

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, target, body=None, headers=None, conn=None):
        """(status, headers dict with lower-case names, body bytes)."""
        c = conn or self.conn()
        try:
            c.request(method, target, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def get_json(self, target):
        status, _, body = self.request("GET", target)
        if status != 200:
            raise AssertionError("GET %s: %d %r" % (target, status, body[:300]))
        return json.loads(body)

    def stop(self, sig=signal.SIGTERM, what="server", record=True):
        """Signals the server; returns the problems (no exit within
        STOP_TIMEOUT, an exit status but 0, sanitizer reports), which are
        also recorded as failed checks unless record is False."""
        problems = []
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.p.returncode
            problems.append("%s: no exit within %ds of signal %d:\n%s" % (
                what, STOP_TIMEOUT, sig, self.stderr()[-3000:]))
        self.reader.join(10)
        if rc != 0:
            problems.append("%s: exit status %d after signal %d:\n%s" % (
                what, rc, sig, self.stderr()[-3000:]))
        problems += sanitizer_problems(self.stderr(), what)
        if record:
            for m in problems:
                check(False, m)
        return problems

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
