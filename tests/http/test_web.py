#!/usr/bin/env python3
"""test_web.py: what lede-server serves to browsers, over real HTTP.

Usage: test_web.py PATH/TO/lede-index PATH/TO/lede-server [TEST_NAME...]

Checks the security headers of every kind of reply (the one test that pins
them); the search page and its files as compiled into the binary: content
types, caching (ETag, 304, year-long caching of the versioned references the
page cites), that the page obeys its Content-Security-Policy (no
inline script, handler or style), the 50 KB budget, that the page calls only
the public API; /opensearch.xml is well-formed OpenSearch 1.1 whose URLs
(from the Host header, or web.public_url) work when followed, including the
suggestions URL answering in the OpenSearch suggestions format; and
web.web_enabled = 0. The browser itself is tested by tests/e2e/.
Uses tests/lib/ledetest.py; standard library only; prints TAP.
"""
import html.parser
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import ledetest as lt  # noqa: E402  (the shared runner and server harness)
from ledetest import Server, check  # noqa: E402

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
BUDGET = 50 * 1024
OS_NS = "{http://a9.com/-/spec/opensearch/1.1/}"
# What the page may call: the API documented for curl users (docs/API.md).
PUBLIC_PATHS = {"/", "/search", "/suggest", "/doc/", "/analyze", "/health", "/stats",
                "/opensearch.xml"}


class PageParser(html.parser.HTMLParser):
    """Collects what the CSP and the budget care about."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []          # (attrs, inline text)
        self.styles = 0            # <style> elements
        self.inline_attrs = []     # (tag, attribute) of on* handlers and style=
        self.links = []            # attrs of <link>
        self.refs = []             # every src/href value
        self.html_attrs = None
        self.metas = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_attrs = a
        for k, v in attrs:
            if k.startswith("on") or k == "style":
                self.inline_attrs.append((tag, k))
            if k in ("src", "href") and v is not None:
                self.refs.append(v)
            if v and v.strip().lower().startswith("javascript:"):
                self.inline_attrs.append((tag, k + "=javascript:"))
        if tag == "script":
            self._in_script = [a, ""]
            self.scripts.append(self._in_script)
        elif tag == "style":
            self.styles += 1
        elif tag == "link":
            self.links.append(a)
        elif tag == "meta":
            self.metas.append(a)

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script[1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def get(server, target, headers=None, method="GET"):
    return server.request(method, target, headers=headers)


def page_and_assets(server):
    """(page body, {path: (target, headers, body)}) of the page and what it cites."""
    status, h, body = get(server, "/")
    check(status == 200, "GET /: %d" % status)
    p = PageParser()
    p.feed(body.decode("utf-8"))
    assets = {}
    for ref in p.refs:
        u = urllib.parse.urlsplit(ref)
        if u.scheme or u.netloc or not u.path.startswith("/static/"):
            continue
        s, ah, ab = get(server, ref)
        check(s == 200, "GET %s: %d" % (ref, s))
        assets[u.path] = (ref, ah, ab)
    return body, p, assets


# ------------------------------------------------------------------ tests

def test_security_headers():
    """The one place the security headers are pinned (the golden files leave
    them out): every kind of reply has nosniff and no-referrer; the page has
    its own policy, everything else the API's deny-all one."""
    s = Server("--cors-origins", "*", index=lt.seeds_index())
    try:
        _, h, _ = get(s, "/")
        page_etag = h.get("etag", "")
        _, h, _ = get(s, "/static/app.js")
        app_etag = h.get("etag", "")
        cases = [
            # (what, method, target, headers, status, policy)
            ("the page", "GET", "/", {}, 200, PAGE_CSP),
            ("the page with a search", "GET", "/?q=macron+fines&source=ITV+News&page=2", {}, 200,
             PAGE_CSP),
            ("the page revalidated", "GET", "/", {"If-None-Match": page_etag}, 304, PAGE_CSP),
            ("the page, HEAD", "HEAD", "/", {}, 200, PAGE_CSP),
            ("a static file", "GET", "/static/app.js", {}, 200, API_CSP),
            ("a static file revalidated", "GET", "/static/app.js", {"If-None-Match": app_etag},
             304, API_CSP),
            ("OpenSearch", "GET", "/opensearch.xml", {}, 200, API_CSP),
            ("JSON API", "GET", "/search?q=macron", {}, 200, API_CSP),
            ("JSON API, POST", "POST", "/search", {"Content-Type": "application/json"}, 200,
             API_CSP),
            ("cached JSON", "GET", "/suggest?q=mac", {}, 200, API_CSP),
            ("OpenSearch suggestions", "GET", "/suggest?q=mac&format=opensearch", {}, 200,
             API_CSP),
            ("metrics text", "GET", "/metrics", {}, 200, API_CSP),
            ("CORS preflight", "OPTIONS", "/search", {"Origin": "http://a.example"}, 204,
             API_CSP),
            ("400 error", "GET", "/search?k=0&q=x", {}, 400, API_CSP),
            ("404 error", "GET", "/nope", {}, 404, API_CSP),
            ("404 of a web route", "GET", "/static/nope.js", {}, 404, API_CSP),
            ("405 error", "DELETE", "/search", {}, 405, API_CSP),
            ("405 on the page", "POST", "/", {}, 405, API_CSP),
            ("400 from the target parser", "GET", "/search?q=%zz", {}, 400, API_CSP),
            ("413 error", "POST", "/search", {"Content-Type": "application/json"}, 413, API_CSP),
            ("414 error", "GET", "/search?q=" + "a" * 220000, {}, 414, API_CSP),
            ("431 error", "GET", "/health", {"X-Big": "h" * 40000}, 431, API_CSP),
        ]
        for what, method, target, headers, want, policy in cases:
            body = None
            if method == "POST" and target == "/search":
                body = b'{"q": "macron"}' if want == 200 else b"x" * 70000
            status, h, _ = s.request(method, target, body=body, headers=headers)
            check(status == want, "%s: status %d, want %d" % (what, status, want))
            check(h.get("x-content-type-options") == "nosniff",
                  "%s: X-Content-Type-Options %r" % (what, h.get("x-content-type-options")))
            check(h.get("referrer-policy") == "no-referrer",
                  "%s: Referrer-Policy %r" % (what, h.get("referrer-policy")))
            check(h.get("content-security-policy") == policy,
                  "%s: Content-Security-Policy %r" % (what, h.get("content-security-policy")))
    finally:
        s.stop()


def test_page_headers():
    s = Server(index=lt.seeds_index())
    try:
        for target in ("/", "/?q=macron+fines&source=ITV+News&sort=date&page=2&from=2017-01-01"):
            status, h, body = get(s, target)
            check(status == 200, "GET %s: %d" % (target, status))
            check(h.get("content-type") == "text/html; charset=utf-8",
                  "page content type %r" % h.get("content-type"))
            check(h.get("cache-control") == "no-cache", "page cache %r" % h.get("cache-control"))
            check(re.fullmatch(r'"[0-9a-f]{16}"', h.get("etag", "")), "page ETag %r" %
                  h.get("etag"))
    finally:
        s.stop()


def test_page_obeys_its_policy():
    s = Server(index=lt.seeds_index())
    try:
        body, p, assets = page_and_assets(s)
        check(p.html_attrs is not None and p.html_attrs.get("lang"), "<html> has no lang")
        check(any(m.get("name") == "viewport" for m in p.metas), "no viewport meta (phones)")
        check(any(m.get("charset", "").lower() == "utf-8" for m in p.metas), "no charset meta")
        check(p.scripts, "the page has no script")
        for attrs, text in p.scripts:
            check(attrs.get("src"), "an inline <script> (the CSP forbids it)")
            check(not text.strip(), "a <script src> with inline text")
        check(p.styles == 0, "a <style> element (the CSP forbids inline styles)")
        check(not p.inline_attrs, "inline handlers or styles: %r" % p.inline_attrs)
        for ref in p.refs:
            u = urllib.parse.urlsplit(ref)
            check(not u.scheme and not u.netloc or ref.startswith("#"),
                  "an external reference %r (the page must be self-contained)" % ref)
        search = [l for l in p.links if l.get("rel") == "search"]
        check(len(search) == 1 and search[0].get("href") == "/opensearch.xml" and
              search[0].get("type") == "application/opensearchdescription+xml",
              "no OpenSearch <link rel=search>: %r" % search)
        # Every asset it cites carries the version of the bytes served.
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml"}
        check("/static/app.js" in assets and "/static/style.css" in assets,
              "the page does not cite app.js and style.css: %r" % sorted(assets))
        total = len(body)
        for path, (ref, h, b) in assets.items():
            total += len(b)
            ext = os.path.splitext(path)[1]
            check(h.get("content-type") == types.get(ext), "%s content type %r" %
                  (path, h.get("content-type")))
            v = urllib.parse.parse_qs(urllib.parse.urlsplit(ref).query).get("v", [""])[0]
            check(re.fullmatch(r"[0-9a-f]{12}", v), "%s cited without ?v=VERSION" % ref)
            check(h.get("etag", "").strip('"').startswith(v), "%s: v=%s is not its ETag %r" %
                  (path, v, h.get("etag")))
            check(h.get("cache-control") == "public, max-age=31536000, immutable",
                  "%s: versioned reference not cached for a year: %r" % (ref,
                                                                     h.get("cache-control")))
        check(total < BUDGET, "the page and its files are %d bytes, over %d" % (total, BUDGET))
        # The whole of server/web/ counts, cited or not.
        web = os.path.join(lt.ROOT, "server", "web")
        size = sum(os.path.getsize(os.path.join(web, f)) for f in os.listdir(web))
        check(size < BUDGET, "server/web/ is %d bytes, over %d" % (size, BUDGET))
        # The page calls the public API only.
        js = assets.get("/static/app.js", ("", {}, b""))[2].decode("utf-8")
        for lit in set(re.findall(r"""["'`](/[a-z_./-]*)""", js)):
            root = "/" + lit.split("/")[1] if lit.count("/") > 1 else lit
            check(lit in PUBLIC_PATHS or root + "/" in PUBLIC_PATHS or root in PUBLIC_PATHS or
                  lit.startswith("/static/"), "app.js uses a path outside the public API: %r" % lit)
    finally:
        s.stop()


def test_caching_and_revalidation():
    s = Server(index=lt.seeds_index())
    try:
        _, _, assets = page_and_assets(s)
        targets = ["/"] + [ref for ref, _, _ in assets.values()]
        for target in targets:
            _, h, body = get(s, target)
            etag = h.get("etag")
            for inm in (etag, 'W/' + etag, '"nope", ' + etag, "*"):
                status, h2, b2 = get(s, target, {"If-None-Match": inm})
                check(status == 304 and b2 == b"" and h2.get("etag") == etag,
                      "%s If-None-Match %s: %d, ETag %r" % (target, inm, status, h2.get("etag")))
                check(h2.get("cache-control") == h.get("cache-control"),
                      "%s: 304 with another Cache-Control" % target)
            status, _, b3 = get(s, target, {"If-None-Match": '"0000000000000000"'})
            check(status == 200 and b3 == body, "%s: a stale ETag did not get the file" % target)
            status, h4, b4 = get(s, target, method="HEAD")
            check(status == 200 and b4 == b"" and h4.get("content-length") == str(len(body)) and
                  h4.get("etag") == etag, "%s: HEAD %d, length %r" % (target, status,
                                                                       h4.get("content-length")))
        # An asset asked for without, or with another, version must be revalidated.
        for target in ("/static/app.js", "/static/app.js?v=000000000000"):
            status, h, _ = get(s, target)
            check(status == 200 and h.get("cache-control") == "no-cache",
                  "%s: %d, Cache-Control %r" % (target, status, h.get("cache-control")))
        for target, code in (("/static/nope.js", 404), ("/static/", 404),
                             ("/static/../server/web.c", 404), ("/index.html", 404)):
            status, h, body = get(s, target)
            check(status == code and json.loads(body)["error"]["code"] == "not_found",
                  "%s: %d %r" % (target, status, body[:200]))
        status, h, body = s.request("POST", "/", body=b"q=x",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 405 and h.get("allow") == "GET, HEAD, OPTIONS" and
              json.loads(body)["error"]["code"] == "method_not_allowed", "POST /: %d" % status)
    finally:
        s.stop()


def parse_opensearch(body):
    root = ET.fromstring(body)  # raises on malformed XML
    check(root.tag == OS_NS + "OpenSearchDescription", "root element %r" % root.tag)
    urls = {}
    for u in root.findall(OS_NS + "Url"):
        check(u.get("type") not in urls or u.get("rel") == "self", "two Urls of type %r" %
              u.get("type"))
        urls.setdefault(u.get("type"), u.get("template"))
    short = root.findtext(OS_NS + "ShortName")
    check(short and len(short) <= 16, "ShortName %r" % short)
    check(root.findtext(OS_NS + "Description"), "no Description")
    check(root.findtext(OS_NS + "InputEncoding") == "UTF-8", "InputEncoding is not UTF-8")
    image = root.findtext(OS_NS + "Image")
    return root, urls, short, image


def follow(server, url, terms):
    """GET a template URL of this server with {searchTerms} filled in."""
    filled = url.replace("{searchTerms}", urllib.parse.quote(terms))
    u = urllib.parse.urlsplit(filled)
    return server.request("GET", u.path + ("?" + u.query if u.query else ""),
                          headers={"Host": u.netloc})


def test_opensearch_description():
    s = Server(index=lt.seeds_index())
    try:
        for host, base in (("127.0.0.1:%d" % s.port, "http://127.0.0.1:%d" % s.port),
                           ("search.newsroom.example:8443", "http://search.newsroom.example:8443"),
                           ("[::1]:8080", "http://[::1]:8080"),
                           # Not a plain host: the server's own address is used instead.
                           ('evil.example"><x', "http://127.0.0.1:%d" % s.port),
                           ("", "http://127.0.0.1:%d" % s.port)):
            status, h, body = get(s, "/opensearch.xml", {"Host": host})
            check(status == 200, "opensearch.xml: %d" % status)
            check(h.get("content-type") == "application/opensearchdescription+xml; charset=utf-8",
                  "opensearch content type %r" % h.get("content-type"))
            root, urls, short, image = parse_opensearch(body)
            check(short == "lede", "ShortName %r" % short)
            check(urls.get("text/html") == base + "/?q={searchTerms}",
                  "Host %r: html Url %r" % (host, urls.get("text/html")))
            check(urls.get("application/x-suggestions+json") ==
                  base + "/suggest?q={searchTerms}&format=opensearch",
                  "Host %r: suggestions Url %r" % (host, urls.get("application/x-suggestions+json")))
            check(urls.get("application/opensearchdescription+xml") == base + "/opensearch.xml",
                  "Host %r: self Url %r" % (host, urls))
            check(image == base + "/static/icon.svg", "Image %r" % image)
        # Follow the URLs a browser would.
        _, urls, _, image = parse_opensearch(get(s, "/opensearch.xml")[2])
        status, h, body = follow(s, urls["application/x-suggestions+json"], "soc")
        check(status == 200 and h.get("content-type") == "application/x-suggestions+json",
              "suggestions: %d %r" % (status, h.get("content-type")))
        got = json.loads(body)
        check(isinstance(got, list) and len(got) >= 2 and got[0] == "soc" and
              isinstance(got[1], list) and got[1] and
              all(isinstance(x, str) and x.startswith("soc") for x in got[1]),
              "not the OpenSearch suggestions format: %r" % got)
        check("social" in got[1], "'soc' does not suggest 'social': %r" % got)
        status, _, body = follow(s, urls["application/x-suggestions+json"], "zzzzqx")
        check(status == 200 and json.loads(body) == ["zzzzqx", []], "no-match suggestions %r" %
              body)
        status, h, _ = follow(s, urls["text/html"], "legal liability")
        check(status == 200 and h.get("content-type", "").startswith("text/html"),
              "the html Url does not give the page: %d" % status)
        status, _, body = follow(s, urls["application/json"], "legal liability")
        check(status == 200 and json.loads(body)["total"] > 0, "the json Url: %d" % status)
        status, h, _ = follow(s, image, "")
        check(status == 200 and h.get("content-type") == "image/svg+xml", "Image: %d" % status)
        status, h, body = get(s, "/suggest?q=soc&format=lede")
        check(status == 200 and h.get("content-type") == "application/json" and
              json.loads(body)["suggestions"][0]["text"] == "social", "lede format %r" % body)
    finally:
        s.stop()
    # Behind a proxy: web.public_url names the address users reach.
    s = Server("-o", "web.public_url=https://news.example.org/lede/", "-o",
               "web.site_name=Desk <& \"Co\">", index=lt.seeds_index())
    try:
        root, urls, short, _ = parse_opensearch(get(s, "/opensearch.xml")[2])
        check(short == 'Desk <& "Co">', "ShortName not escaped and read back: %r" % short)
        check(urls.get("text/html") == "https://news.example.org/lede/?q={searchTerms}",
              "public_url html Url %r" % urls.get("text/html"))
    finally:
        s.stop()


def test_web_settings():
    s = Server("-o", "web.web_enabled=0", index=lt.seeds_index())
    try:
        for target in ("/", "/?q=x", "/static/app.js", "/opensearch.xml"):
            status, _, body = get(s, target)
            check(status == 404 and "web_enabled" in json.loads(body)["error"]["message"],
                  "web off, %s: %d %r" % (target, status, body[:200]))
        status, _, _ = get(s, "/search?q=macron")
        check(status == 200, "web off: /search %d" % status)
    finally:
        s.stop()
    for setting, words in (("web.public_url=ftp://x.example", "public_url"),
                           ("web.public_url=https://x.example/a?b=1", "public_url"),
                           ("web.public_url=https://x.example/\"><", "public_url"),
                           ("web.public_url=https://", "public_url"),
                           ("web.site_name=", "site_name"),
                           ("web.site_name=a name far longer than sixteen", "site_name"),
                           ("web.web_enabled=2", "web_enabled")):
        rc, out, err = lt.run_server("--index", lt.seeds_index(), "-o", setting)
        check(rc == 2 and words in err, "-o %s: exit %d, %r" % (setting, rc, err[-300:]))


def main():
    if len(sys.argv) < 3:
        print("usage: test_web.py PATH/TO/lede-index PATH/TO/lede-server [TEST...]",
              file=sys.stderr)
        return 2
    lt.LEDE_INDEX = os.path.abspath(sys.argv[1])
    lt.LEDE_SERVER = os.path.abspath(sys.argv[2])
    return lt.run_tests(lt.tests_in(globals(), sys.argv[3:]), prefix="lede-web-", timing=True)


if __name__ == "__main__":
    sys.exit(main())
