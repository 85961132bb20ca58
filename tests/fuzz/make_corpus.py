#!/usr/bin/env python3
"""make_corpus.py: writes the seed corpus of tests/fuzz/fuzz_request.c into
tests/fuzz/corpus/ (one file per request). Other files of the corpus are
removed, except the regress-* inputs: fixed findings, added by hand. The
seeds cover every endpoint, every /search parameter and query operator, both
body types, every method, and the malformed cases each parser reports.

Input layout (see fuzz_request.c):
  '0' + TARGET                  GET TARGET
  '1' + BODY                    POST /search, application/json
  '2' + BODY                    POST /search, application/x-www-form-urlencoded
  '3' + M + C + TARGET \\n BODY  method M % 5, Content-Type C % 6, and for a
                                TARGET without a leading '/', path (M // 5) % 8
Usage: python3 tests/fuzz/make_corpus.py [DIR]
"""
import json
import os
import sys
from urllib.parse import quote_plus

METHODS = ["GET", "POST", "HEAD", "PUT", "OPTIONS"]
PATHS = ["/search", "/suggest", "/analyze", "/doc/", "/health", "/stats", "/metrics", "/nope",
         "/", "/static/", "/opensearch.xml"]
TYPES = [None, "application/json", "application/x-www-form-urlencoded",
         "application/x-www-form-urlencoded; charset=UTF-8", "text/plain",
         "Application/JSON; charset=utf-8"]


def b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


def get(target):
    return b"0" + b(target)


def search(**params):
    """GET /search with params (a list value repeats the key)."""
    parts = []
    for k, v in params.items():
        for one in v if isinstance(v, list) else [v]:
            parts.append(quote_plus(k) + "=" + quote_plus(str(one), safe=""))
    return get("/search?" + "&".join(parts))


def post_json(body):
    return b"1" + b(body if isinstance(body, (str, bytes)) else json.dumps(body))


def post_form(body):
    return b"2" + b(body)


def raw(method, target, body=None, ctype=None, path=None):
    """Mode 3: any method, Content-Type and path; body None = no body."""
    m = METHODS.index(method) + 5 * (PATHS.index(path) if path else 0)
    c = TYPES.index(ctype)
    out = b"3" + bytes([m, c]) + b(target)
    if body is not None:
        out += b"\n" + b(body)
    return out


SEEDS = {
    # /search: every parameter and operator, answered 200
    "search-words-cache-buster": get("/search?q=social+media&_=123&_cb"),
    "search-phrase-k-offset": search(q='"legal liability" social media', k=5, offset=1),
    "search-required-excluded-explain": search(q="+macron +fines -football", explain="true"),
    "search-group-and-date": search(q="(border OR wall) AND date:2017", sort="date"),
    "search-title-source-group": search(q='title:"tax reform" source:Reuters', group="source",
                                        group_hits=2),
    "search-panel-all": search(q="macron fines", source=["ITV News", "euronews"], panel="all",
                               group="source"),
    "search-source-filters-dates": search(q="media", source=["ITV News", "euronews"],
                                          **{"from": "2017-06"}, to="2017-12-31"),
    "search-snippets": search(q="social media fines", snippets=3, snippet_chars=40,
                              source_details=2),
    "search-prefix-not-nosnippets": search(q="presiden* macron NOT football", snippets=0,
                                           facets="off"),
    "search-date-range": search(q="date>=2017-06-01 date<2018-01-01 date>2016 date<=2017-06-13"),
    "search-fields-nested": search(q="body:extremist title:(macron OR may) AND (tax OR (social AND media))"),
    "search-source-quoted-negated": search(q='source:"New York Times - News" -source:Reuters reform'),
    "search-leap-day-relevance": search(q='date:"2016-02-29" OR tax', sort="relevance", group="none"),
    "search-max-window": search(q="media", k=100, offset=10000, group_hits=20, explain="1"),
    "search-unicode-fold": search(q="\u00c9lys\u00e9e Macron\u2019s caf\u00e9 fine*"),
    "search-long-body-snippets": search(q='"social media" fines', snippets=10, snippet_chars=2000),
    # /search: every parameter error
    "search-missing-q": get("/search"),
    "search-blank-q": get("/search?q=+%09+"),
    "search-duplicate-q": get("/search?q=a&q=b"),
    "search-unknown-param": search(q="x", bogus=1),
    "search-k-huge": search(q="x", k="99999999999999999999"),
    "search-from-bad-month": search(q="x", **{"from": "2017-13"}),
    "search-to-before-from": search(q="x", to="2017", **{"from": "2018"}),
    "search-sort-bad": search(q="x", sort="random"),
    "search-group-bad": search(q="x", group="outlet", facets="2"),
    "search-source-bad-utf8": get("/search?q=x&source=%ff%c3"),
    "search-too-many-sources": search(q="x", source=["s%d" % i for i in range(65)]),
    "search-q-too-long": search(q="word " * 110),
    "search-q-bad-utf8": get("/search?q=ab%ed%a0%80cd"),
    # request targets the parser rejects
    "target-bad-escape": get("/search?q=%zz"),
    "target-nul-escape": get("/search?q=a%00b"),
    "target-nul-byte": b"0/search?q=a\x00&k=0",
    "target-fragment-absolute": get("http://host/search#frag?q=x"),
    "target-star-empty-pairs": get("*?&&=&=x&q"),
    # query syntax errors (docs/QUERY.md "Errors")
    "qsyntax-dangling-and": search(q="trump AND"),
    "qsyntax-negated-or": search(q="trump OR -biden"),
    "qsyntax-unterminated": search(q='"social media'),
    "qsyntax-empty-source": search(q='source:"" title: x'),
    "qsyntax-short-prefix": search(q="p* e-mail*"),
    "qsyntax-too-deep": search(q="(" * 33 + "x" + ")" * 33),
    # the other endpoints
    "doc-seed": get("/doc/000_136d13ec05cde2c5"),
    "doc-odd-id": get("/doc/doc%2Fwith%20space%3F%26%3D%25"),
    "doc-missing": get("/doc/nope"),
    "doc-empty-id": get("/doc/"),
    "analyze-text": get("/analyze?text=" + quote_plus("Macron\u2019s \u00c9lys\u00e9e e-mail U.S.A. 3.5% co-op")),
    "analyze-missing": get("/analyze"),
    "analyze-too-long": get("/analyze?text=" + "a" * 2100),
    "suggest-word": get("/suggest?q=soc"),
    "suggest-opensearch": get("/suggest?q=social+me&count=3&format=opensearch"),
    "suggest-accent": get("/suggest?q=%C3%A9ly&format=lede"),
    "suggest-bad-count": get("/suggest?q=x&count=0"),
    "suggest-missing": get("/suggest?count=-1"),
    "suggest-too-long": get("/suggest?q=" + "s" * 300),
    "health": get("/health"),
    "stats": get("/stats"),
    "metrics": get("/metrics"),
    "health-unknown-param": get("/health?verbose=1"),
    "not-found": get("/nope/%C3%A9"),
    # JSON bodies
    "json-full": post_json({"q": "social media", "k": 3, "offset": 0, "explain": True,
                            "source": ["ITV News", "Euronews"], "sort": "date", "facets": False,
                            "from": "2016", "to": "2018-06", "_ts": 1}),
    "json-grouped": post_json({"q": "media", "group": "source", "group_hits": 3, "snippets": 1,
                               "snippet_chars": 20, "source_details": 0, "x_null": None}),
    "json-real-k": post_json('{"q": "tax", "k": 2.5}'),
    "json-array-not-source": post_json('{"q": ["a", "b"]}'),
    "json-array-of-objects": post_json('{"q": "x", "source": [1, {"a": 1}]}'),
    "json-nul-in-string": post_json('{"q": "a\\u0000b"}'),
    "json-not-object": post_json("[1, 2]"),
    "json-truncated": post_json('  \r\n{"q": "media", "k": '),
    "json-empty": post_json(""),
    "json-deep": post_json('{"q": "x", "source": ' + "[" * 600 + "]" * 600 + "}"),
    "json-too-large": post_json({"q": "media " * 400}),
    # form bodies
    "form-basic": post_form("q=social+media&k=2&explain=yes"),
    "form-bad-escape": post_form("q=tax&source=%G1"),
    "form-json-shaped": post_form('{"q": "media"}'),
    # methods, content types and paths
    "put-search": raw("PUT", "/search?q=media", "q=x", TYPES[2]),
    "options-search": raw("OPTIONS", "/search", None),
    "post-analyze": raw("POST", "/analyze?text=x", "", TYPES[4]),
    "post-doc": raw("POST", "/doc/x", "{}", TYPES[1]),
    "get-with-body": raw("GET", "/search?q=media", '{"q":"ignored"}', TYPES[1]),
    "post-text-plain-form": raw("POST", "/search", "q=media", TYPES[4]),
    "post-query-and-json": raw("POST", "/search?k=2", '{"q": "media"}', TYPES[5]),
    "path-suggest-prefix": raw("GET", "?q=ma&count=20", path="/suggest"),
    "path-doc-prefix": raw("HEAD", "long", path="/doc/"),
    # the web page (a GET body is sent as Host and If-None-Match)
    "web-page-state": get("/?q=macron+fines&source=ITV+News&sort=date&page=2"),
    "web-static-versioned": raw("GET", "app.js?v=0123456789ab&v=x", path="/static/"),
    "web-static-revalidate": raw("GET", "/static/style.css", "*"),
    "web-static-missing": get("/static/../index.html"),
    "web-opensearch-host": raw("GET", "/opensearch.xml", "news.example.org:8443"),
    "web-opensearch-bad-host": raw("HEAD", "/opensearch.xml", 'x"><script>'),
    "web-page-post": raw("POST", "/?q=x", "q=y", TYPES[2]),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name not in SEEDS and not name.startswith("regress-"):
            os.remove(os.path.join(out, name))
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seed inputs to {out}")


if __name__ == "__main__":
    main()
