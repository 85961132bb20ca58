#!/usr/bin/env python3
"""test_boundary.py: the house rules of the source tree, checked on every run.

1. server/ and the contract tests include only the public API (include/lede/),
   their own folder's headers, and the test helpers; the white-box unit tests
   named in WHITE_BOX may include liblede's private headers.
2. Inside index/, a layer includes only its own headers and those of the
   layers below it (base <- text <- store <- write, query; cli sees only the
   public API), so there are no cycles between folders.
3. The build itself enforces rule 1: a probe that includes each private
   header, compiled with the exact command line meson uses for server/api.c
   and for a contract test, must fail to find it.

Usage: test_boundary.py SOURCE_ROOT BUILD_ROOT. Prints TAP."""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

SRC, BUILD = sys.argv[1], sys.argv[2]
RANK = {"base": 0, "text": 1, "store": 2, "write": 3, "query": 3}
WHITE_BOX = {"tests/unit/test_codec.c", "tests/unit/test_highlight.c",
             "tests/unit/test_qparse.c", "bench/bench_snippet.c",
             "tests/unit/test_hashtab.c", "tests/unit/test_docstore.c"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def sources(*dirs):
    for d in dirs:
        for root, _, files in os.walk(os.path.join(SRC, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(root, f), SRC)


def includes(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8", errors="replace") as f:
        return INCLUDE.findall(f.read())


def public(inc):
    return inc.startswith("lede/") and os.path.exists(os.path.join(SRC, "include", inc))


def private_headers():
    return sorted(os.path.relpath(p, os.path.join(SRC, "index"))
                  for p in (os.path.join(r, f) for r, _, fs in os.walk(os.path.join(SRC, "index"))
                            for f in fs if f.endswith(".h")))


# 1. What outside code includes.
for rel in sources("server", "tests", "bench"):
    here = os.path.dirname(rel)
    for inc in includes(rel):
        if public(inc) or rel in WHITE_BOX and inc.split("/")[0] in RANK:
            continue
        local = os.path.exists(os.path.join(SRC, here, inc)) or inc == "web_assets.h"
        helper = inc in ("tap.h", "testutil.h") and rel.startswith("tests/")
        server_hdr = rel.startswith("tests/fuzz/") and os.path.exists(os.path.join(SRC, "server", inc))
        check(local or helper or server_hdr, f"{rel} includes only the public API: \"{inc}\"")

# 2. Layers include downward.
for rel in sources("index"):
    parts = rel.split("/")
    layer = parts[1]
    for inc in includes(rel):
        if public(inc):
            continue
        target = inc.split("/")[0] if "/" in inc else layer
        if layer == "cli":
            ok = False
        elif target == layer:
            ok = True
        else:
            ok = target in RANK and RANK[target] < RANK[layer]
        check(ok, f"{rel} ({layer}) may include \"{inc}\"")

# 3. The compiler cannot see private headers from server/ or a contract test.
with open(os.path.join(BUILD, "compile_commands.json")) as f:
    commands = json.load(f)


def command_for(suffix):
    for c in commands:
        if c["file"].replace("\\", "/").endswith(suffix):
            return c
    return None


with tempfile.TemporaryDirectory() as tmp:
    for who in ("server/api.c", "tests/oracle/test_oracle.c", "index/cli/main.c"):
        c = command_for(who)
        if c is None:
            check(False, f"compile command of {who} found")
            continue
        argv = shlex.split(c["command"])
        # Keep the compiler and every -I/-D/-std/-f flag; compile a probe instead.
        keep, skip = [argv[0]], False
        for a in argv[1:]:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MQ", "-c"):
                skip = a != "-c"
                continue
            if a.startswith(("-I", "-D", "-std", "-isystem")) or a == "-pthread":
                keep.append(a)
        for hdr in private_headers():
            probe = os.path.join(tmp, "probe.c")
            with open(probe, "w") as f:
                f.write(f'#include "{hdr}"\nint main(void) {{ return 0; }}\n')
            r = subprocess.run(keep + ["-fsyntax-only", probe], cwd=c["directory"],
                               capture_output=True, text=True)
            check(r.returncode != 0 and "No such file" in r.stderr,
                  f"{who}'s command line cannot include \"{hdr}\"",
                  r.stderr.strip()[:200] if r.returncode == 0 else "")
    # The probe itself works: a public header compiles with the same flags.
    c = command_for("server/api.c")
    if c:
        probe = os.path.join(tmp, "probe.c")
        with open(probe, "w") as f:
            f.write('#include "lede/search.h"\nint main(void) { return 0; }\n')
        argv = [a for a in shlex.split(c["command"]) if a.startswith(("-I", "-D", "-std"))]
        r = subprocess.run([shlex.split(c["command"])[0]] + argv + ["-fsyntax-only", probe],
                           cwd=c["directory"], capture_output=True, text=True)
        check(r.returncode == 0, "the probe compiles a public header with server/'s flags", r.stderr[:200])

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print("# " + detail.replace("\n", "\n# "))
sys.exit(0 if all(r[0] for r in results) else 1)
