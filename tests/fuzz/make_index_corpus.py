#!/usr/bin/env python3
"""make_index_corpus.py: writes the seed corpora of the two liblede fuzz
targets: tests/fuzz/corpus-jsonl/ (fuzz_jsonl.c: JSON Lines records, one
file of lines each) and tests/fuzz/corpus-segment/ (fuzz_segment.c: a mode
byte, 0x01 = recompute checksums, or 0x03 = also delete document 0, then a
real segment file). The segments are built with lede-index from
tests/data/seeds.jsonl (all five articles, and the first alone) and from a
few small crafted documents (so the fuzzer also has files of a few hundred
bytes). Files of both corpora are replaced, except the regress-* inputs:
fixed findings, added by hand.

Usage: python3 tests/fuzz/make_index_corpus.py BUILD/index/lede-index
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "data", "seeds.jsonl")

JSONL = {
    "seed-lines": None,  # the first two seed articles, filled in below
    "escapes": '{"id":"e1","title":"Caf\\u00e9 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t",'
               '"body":"\\ud83d\\ude00 emoji","source":"AP","date":"2017-06-13","url":null}',
    "number-id": '{"id":42,"title":"n"}\n{"id":-7,"body":"x"}\n{"id":1.5}\n{"id":1e3}',
    "nested-ignored": '{"id":"n","extra":[1,{"a":[true,false,null]},"s"],"title":"t"}',
    "nulls-empty": '{"id":"z","title":null,"body":"","source":null,"date":null}\n{}',
    "utf8-raw": b'{"id":"u","title":"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}',
    "bad-utf8": b'{"id":"u","title":"\xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf"}',
    "bad-surrogates": '{"id":"s","title":"\\ud800"}\n{"id":"s","title":"\\udc00x"}\n'
                      '{"id":"s","title":"\\ud800\\u0041"}',
    "bad-syntax": '{"id":"a",}\n{"id" "a"}\n["id"]\n{"id":"a"} x\n{"id":tru}\n{"title":5}\n',
    "deep": '{"x":' + '[' * 70 + ']' * 70 + '}',
    "duplicate-keys": '{"id":"a","id":"b","title":"t","title":"u"}',
    "control-chars": '{"id":"c","title":"tab\there"}\n{"id":"c\\u0000nul"}',
    "whitespace": ' \t{ "id" : "w" , "title" : "t" } \r',
}


def b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


def clear(d):
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "*")):
        if not os.path.basename(f).startswith("regress-"):
            os.remove(f)


def build_segment(lede_index, docs, tmp, name):
    src = os.path.join(tmp, name + ".jsonl")
    with open(src, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    out = os.path.join(tmp, name)
    subprocess.run([lede_index, "build", "-o", out, src], check=True, capture_output=True)
    segs = sorted(glob.glob(os.path.join(out, "seg-*.lede")))
    assert len(segs) == 1, segs
    with open(segs[0], "rb") as f:
        return f.read()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lede_index = sys.argv[1]
    with open(SEEDS, encoding="utf-8") as f:
        seeds = [json.loads(line) for line in f if line.strip()]
    JSONL["seed-lines"] = "\n".join(json.dumps(d, ensure_ascii=False) for d in seeds[:2])

    jdir = os.path.join(HERE, "corpus-jsonl")
    clear(jdir)
    for name, text in JSONL.items():
        with open(os.path.join(jdir, name), "wb") as f:
            f.write(b(text))

    crafted = [
        {"id": "a", "title": "Social media fines", "body": "Social media firms face fines.",
         "source": "Reuters", "date": "2017-06-13"},
        {"id": "b", "title": "Macron and May", "body": "The president spoke; presidential talks.",
         "source": "ITV News", "date": "2016-02-29"},
        {"id": "c", "title": "", "body": "", "source": None},
    ]
    sdir = os.path.join(HERE, "corpus-segment")
    clear(sdir)
    with tempfile.TemporaryDirectory() as tmp:
        segs = {
            "seeds-all": build_segment(lede_index, seeds, tmp, "all"),
            "seeds-one": build_segment(lede_index, seeds[:1], tmp, "one"),
            "crafted": build_segment(lede_index, crafted, tmp, "crafted"),
            "crafted-one": build_segment(lede_index, crafted[:1], tmp, "crafted1"),
        }
    for name, seg in segs.items():
        with open(os.path.join(sdir, name), "wb") as f:
            f.write(b"\x01" + seg)
    with open(os.path.join(sdir, "crafted-deleted"), "wb") as f:
        f.write(b"\x03" + segs["crafted"])
    with open(os.path.join(sdir, "crafted-raw-crc"), "wb") as f:
        f.write(b"\x00" + segs["crafted"])
    print("wrote %d JSON Lines and %d segment seeds" % (len(JSONL), len(segs) + 2))


if __name__ == "__main__":
    main()
