// tests/e2e/test_web.mjs: drives lede's search page in Debian's chromium
// (playwright-core, no test runner) against a running lede-server with the
// sample corpus plus tests/e2e/articles.jsonl. Prints TAP-style lines and
// exits 1 on any failure. Any console error, CSP violation, dialog (an alert
// would mean XSS) or failed request fails the run.
//
//   node tests/e2e/test_web.mjs http://127.0.0.1:PORT
//
// Screenshots go to $LEDE_E2E_OUT (search-page.png, search-page-phone.png).
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base || !/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) {
  console.error("usage: node test_web.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const outDir = process.env.LEDE_E2E_OUT || join(tmpdir(), "lede-e2e-shots");
mkdirSync(outDir, { recursive: true });
const TIMEOUT = 10_000;

/* ---------- TAP-ish reporting ---------- */

let count = 0;
let failed = 0;
async function step(name, fn) {
  count++;
  try {
    await fn();
    console.log(`ok ${count} - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok ${count} - ${name}`);
    for (const line of String(err && err.stack ? err.stack : err).split("\n").slice(0, 8)) console.log(`#   ${line}`);
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

/* ---------- the API, asked directly, is the reference ---------- */

async function api(path, params) {
  const url = `${base}${path}?${new URLSearchParams(params)}`;
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/* ---------- browser ---------- */

const browser = await chromium.launch({
  executablePath: process.env.LEDE_E2E_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  timeout: 60_000,
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
context.setDefaultTimeout(TIMEOUT);

// CSP violations are reported to the page as events; the init script runs
// before the page's own script (and is not subject to the page's CSP).
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    const v = `${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`;
    window.__cspViolations.push(v);
    console.error(`CSP violation: ${v}`);
  });
});

const problems = [];
// Some steps expect 4xx replies from /search (a syntax error): those are
// allowed only while expectedStatus says so.
let expectedStatus = null;
const page = await context.newPage();

page.on("console", (msg) => {
  if (msg.type() !== "error") return;
  const text = msg.text();
  if (expectedStatus && text.includes(`status of ${expectedStatus}`)) return;
  problems.push(`console error: ${text}`);
});
page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
page.on("dialog", async (dialog) => {
  problems.push(`dialog (${dialog.type()}): ${dialog.message()}`);
  await dialog.dismiss().catch(() => {});
});
page.on("requestfailed", (req) => {
  const why = req.failure() ? req.failure().errorText : "?";
  // The page cancels stale searches and suggestions on purpose, and a
  // navigation (reload, history) cancels whatever was still in flight.
  if (why === "net::ERR_ABORTED" && req.resourceType() === "fetch") return;
  problems.push(`request failed: ${req.method()} ${req.url()} (${why})`);
});
page.on("response", (res) => {
  if (res.status() < 400) return;
  if (expectedStatus && res.status() === expectedStatus && new URL(res.url()).pathname === "/search") return;
  problems.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
});

const searches = [];
page.on("request", (req) => {
  const u = new URL(req.url());
  if (u.pathname === "/search") searches.push(u.searchParams);
});

/* ---------- helpers that wait for conditions ---------- */

const pageURL = () => new URL(page.url());

async function waitStatus(pattern) {
  await page.waitForFunction(
    (src) => new RegExp(src).test(document.getElementById("status").textContent),
    pattern.source,
  );
  // The list is drawn in the same task as the status, but be explicit.
  await page.waitForFunction(() => document.getElementById("progress").hidden);
}

async function waitURL(pred, what) {
  try {
    await page.waitForURL((u) => pred(new URL(u)));
  } catch (err) {
    throw new Error(`URL never became ${what}; it is ${page.url()}`);
  }
}

const hitSources = () => page.$$eval("#hits .hit .hit-source", (els) => els.map((e) => e.textContent));
const hitIds = () => page.$$eval("#hits .hit", (els) => els.map((e) => e.dataset.id));

async function searchFor(q) {
  await page.fill("#q", q);
  await page.press("#q", "Enter");
  await waitURL((u) => u.searchParams.get("q") === q, `q=${q}`);
}

async function noHorizontalOverflow(what) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.scrollingElement.scrollWidth,
    client: document.scrollingElement.clientWidth,
  }));
  check(scroll <= 375 && scroll <= client, `${what}: page is ${scroll}px wide in a ${client}px viewport`);
}

/* ---------- the steps ---------- */

const QUERY = "macron fines";
const ref = (await api("/search", { q: QUERY, k: 10, source_details: 50 })).body;

await step("the page loads with its start state, and makes no search", async () => {
  const res = await page.goto(`${base}/`);
  same(res.status(), 200, "status of /");
  const csp = res.headers()["content-security-policy"] || "";
  check(csp.includes("script-src 'self'"), `CSP header missing or different: ${csp}`);
  await page.waitForSelector("#start", { state: "visible" });
  check((await page.title()).includes("lede"), "title names lede");
  same(searches.length, 0, "searches made by an empty page");
});

await step("the OpenSearch description is linked from <head> and served", async () => {
  const link = await page.$eval('head link[rel="search"]', (l) => ({
    type: l.getAttribute("type"), title: l.getAttribute("title"), href: l.getAttribute("href"),
  }));
  same(link, { type: "application/opensearchdescription+xml", title: "lede", href: "/opensearch.xml" }, "search link");
  const res = await fetch(`${base}/opensearch.xml`);
  const xml = await res.text();
  check(res.ok && xml.includes("/?q={searchTerms}"), "opensearch.xml names /?q={searchTerms}");
});

await step("landmarks, labels and the skip link are there", async () => {
  const a11y = await page.evaluate(() => ({
    banner: !!document.querySelector("body > header"),
    search: !!document.querySelector('form[role="search"]'),
    main: !!document.querySelector("main"),
    aside: document.querySelector("aside")?.getAttribute("aria-label"),
    label: document.querySelector('label[for="q"]')?.textContent.trim(),
    live: [document.getElementById("status").getAttribute("role"),
      document.getElementById("status").getAttribute("aria-live")],
    combobox: ["role", "aria-expanded", "aria-controls"].map((a) => document.getElementById("q").getAttribute(a)),
    listbox: document.getElementById("suggestions").getAttribute("role"),
  }));
  same(a11y, {
    banner: true, search: true, main: true, aside: "Outlets", label: "Search the news",
    live: ["status", "polite"], combobox: ["combobox", "false", "suggestions"], listbox: "listbox",
  }, "accessibility skeleton");
  await page.keyboard.press("Tab");
  same(await page.evaluate(() => document.activeElement.className), "skip-link", "first Tab stop");
});

await step("'/' focuses the search box", async () => {
  await page.keyboard.press("/");
  same(await page.evaluate(() => document.activeElement.id), "q", "focused element");
  same(await page.inputValue("#q"), "", "box after '/'");
});

await step("suggestions appear while typing; arrows move through them (combobox)", async () => {
  const expected = (await api("/suggest", { q: "macron fin", count: 8 })).body.suggestions.map((s) => s.text);
  await page.keyboard.type("macron fin", { delay: 40 });
  // On a busy machine an earlier prefix's list may show first: wait for the
  // list of the whole text.
  await page.waitForFunction((want) => {
    const list = document.querySelector("#suggestions");
    const got = [...list.querySelectorAll('[role="option"]')].map((e) => e.textContent);
    return !list.hidden && JSON.stringify(got) === JSON.stringify(want);
  }, expected).catch(() => {});
  same(await page.getAttribute("#q", "aria-expanded"), "true", "aria-expanded when open");
  const options = await page.$$eval('#suggestions [role="option"]', (els) => els.map((e) => [e.id, e.textContent]));
  same(options.map((o) => o[1]), expected, "suggestions shown");
  await page.keyboard.press("ArrowDown");
  same(await page.getAttribute("#q", "aria-activedescendant"), options[0][0], "active option after ArrowDown");
  same(await page.getAttribute(`#${options[0][0]}`, "aria-selected"), "true", "aria-selected of the active option");
  same(await page.evaluate(() => document.activeElement.id), "q", "focus stays in the box");
  await page.keyboard.press("ArrowUp");
  same(await page.getAttribute("#q", "aria-activedescendant"), null, "no active option after ArrowUp");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#suggestions", { state: "hidden" });
  same(await page.getAttribute("#q", "aria-expanded"), "false", "aria-expanded after Escape");
  same(await page.inputValue("#q"), "macron fin", "Escape keeps the text");
});

await step("results update as you type, and the URL follows the query", async () => {
  await page.keyboard.type("es", { delay: 40 });
  await waitStatus(new RegExp(`^${ref.total} results for “${QUERY}” from ${ref.total_sources} outlets`));
  await waitURL((u) => u.searchParams.get("q") === QUERY, `q=${QUERY}`);
  same(await hitIds(), ref.hits.map((h) => h.id), "hit ids, in order");
  same(await page.evaluate(() => document.activeElement.id), "q", "focus stays in the box");
});

await step("each hit shows headline, outlet, date and a snippet with <mark>", async () => {
  const hits = await page.$$eval("#hits .hit", (els) => els.map((li) => ({
    title: li.querySelector(".hit-title").textContent,
    source: li.querySelector(".hit-source").textContent,
    date: li.querySelector(".hit-date").getAttribute("datetime"),
    href: li.querySelector(".hit-title a")?.getAttribute("href") ?? null,
    rel: li.querySelector(".hit-title a")?.getAttribute("rel") ?? null,
    marks: li.querySelectorAll(".hit-snippet mark").length,
  })));
  same(hits.map((h) => h.title), ref.hits.map((h) => h.title), "titles");
  same(hits.map((h) => h.source), ref.hits.map((h) => h.source), "outlets");
  same(hits.map((h) => h.date), ref.hits.map((h) => h.date), "dates");
  for (const [i, h] of hits.entries()) {
    const url = ref.hits[i].url;
    if (url && url.startsWith("https://")) {
      same([h.href, h.rel], [url, "noopener noreferrer"], `link of hit ${i}`);
    } else {
      same(h.href, null, `hit ${i} without a web url has no link`);
    }
    if (ref.hits[i].highlights.body.matched) check(h.marks > 0, `hit ${i} snippet has <mark>`);
  }
  check(hits.some((h) => h.marks > 0), "some snippet is highlighted");
});

await step("the outlet panel lists every outlet with its count and a highlighted passage", async () => {
  const panel = await page.$$eval("#outlet-list .outlet", (els) => els.map((li) => ({
    name: li.querySelector(".outlet-name").textContent,
    count: li.querySelector(".outlet-count").textContent,
    name2: li.querySelector(".outlet-toggle").textContent.replace(/\s+/g, " ").trim(),
    pressed: li.querySelector(".outlet-toggle").getAttribute("aria-pressed"),
    marks: li.querySelectorAll(".outlet-passage mark, .outlet-title mark").length,
  })));
  same(panel.map((o) => [o.name, o.count, o.pressed]),
    ref.sources.map((s) => [s.source, `${s.count} ${s.count === 1 ? "article" : "articles"}`, "false"]),
    "panel outlets and counts");
  // What a screen reader says for an outlet button.
  same(panel[0].name2, `${ref.sources[0].source} ${ref.sources[0].count} article${ref.sources[0].count === 1 ? "" : "s"}`,
    "outlet button text");
  for (const o of panel) check(o.marks > 0, `outlet ${o.name} has a highlighted passage`);
  const inHits = new Set(await hitSources());
  for (const s of inHits) check(panel.some((o) => o.name === s), `outlet ${s} of the results is on the panel`);
  same(await page.getAttribute("aside", "aria-label"), "Outlets", "panel label");
});

await step("desktop screenshot (1280x800)", async () => {
  await page.screenshot({ path: join(outDir, "search-page.png") });
});

const OUTLET = "Harbor Times";
await step("clicking an outlet filters to it, shows a chip and puts source= in the URL", async () => {
  await page.click(`#outlet-list .outlet-toggle[data-source="${OUTLET}"]`);
  await waitURL((u) => u.searchParams.getAll("source").join() === OUTLET, `source=${OUTLET}`);
  await waitStatus(/^1 result for/);
  same([...new Set(await hitSources())], [OUTLET], "outlets of the results");
  same(await page.getAttribute(`.outlet-toggle[data-source="${OUTLET}"]`, "aria-pressed"), "true", "aria-pressed");
  same(await page.$$eval("#chips .chip span", (els) => els.map((e) => e.textContent)), [`Outlet: ${OUTLET}`], "chips");
  // The other outlets stay on the panel, with their passages, so more can be added.
  const panel = await page.$$eval("#outlet-list .outlet", (els) => els.map((li) => [
    li.querySelector(".outlet-name").textContent, li.querySelectorAll(".outlet-passage mark").length > 0]));
  same(panel, ref.sources.map((s) => [s.source, true]), "outlets still listed, with highlighted passages");
});

await step("reloading the URL restores query, filter and results", async () => {
  searches.length = 0;
  await page.reload();
  await waitStatus(/^1 result for/);
  same(await page.inputValue("#q"), QUERY, "box after reload");
  same([...new Set(await hitSources())], [OUTLET], "outlets after reload");
  same(await page.getAttribute(`.outlet-toggle[data-source="${OUTLET}"]`, "aria-pressed"), "true", "aria-pressed after reload");
  same(await page.$$eval("#chips .chip", (els) => els.length), 1, "chips after reload");
  check(searches.some((p) => p.getAll("source").join() === OUTLET && p.get("q") === QUERY), "search sent source=");
});

await step("Back and Forward move between the filtered and unfiltered search", async () => {
  await page.goBack();
  await waitURL((u) => !u.searchParams.has("source") && u.searchParams.get("q") === QUERY, "without source");
  await waitStatus(new RegExp(`^${ref.total} results`));
  same(await page.$$eval("#chips .chip", (els) => els.length), 0, "chips after Back");
  same(await hitIds(), ref.hits.map((h) => h.id), "hits after Back");
  await page.goForward();
  await waitURL((u) => u.searchParams.get("source") === OUTLET, `source=${OUTLET}`);
  await waitStatus(/^1 result for/);
});

await step("a chip's remove button clears its filter", async () => {
  await page.click("#chips .chip-remove");
  await waitURL((u) => !u.searchParams.has("source"), "without source");
  await waitStatus(new RegExp(`^${ref.total} results`));
  same(await page.$$eval("#chips .chip", (els) => els.length), 0, "chips");
});

await step("hostile article text is shown as text, never run", async () => {
  await searchFor("onerror alert");
  await waitStatus(/^1 result for/);
  const shown = await page.evaluate(() => ({
    title: document.querySelector("#hits .hit-title").textContent,
    snippet: document.querySelector("#hits .hit-snippet").textContent,
    visible: document.querySelector("#hits").innerText,
    elements: document.querySelectorAll("#main script, #main img, #main b, #outlets script, #outlets img, #outlets b").length,
    jsLinks: [...document.querySelectorAll("a[href]")].filter((a) => !/^(https?:|\/|#)/.test(a.getAttribute("href"))).length,
  }));
  check(shown.title.includes("<script>alert(1)</script>"), `title text: ${shown.title}`);
  check(shown.title.includes("<img src=x onerror=alert(2)>"), `title text: ${shown.title}`);
  check(shown.visible.includes("<script>alert(1)</script>"), "markup visible as text");
  check(shown.snippet.includes("<b>bold</b>"), `snippet text: ${shown.snippet}`);
  same(shown.elements, 0, "script/img/b elements created from article text");
  same(shown.jsLinks, 0, "links that are not http(s) (the article's url is javascript:)");
  check(!problems.some((p) => p.startsWith("dialog")), "no dialog");
});

await step("a query syntax error is explained, with a marker at its position", async () => {
  expectedStatus = 400;
  try {
    await searchFor("macron (");
    await page.waitForSelector("#problem", { state: "visible" });
    const err = (await api("/search", { q: "macron (" })).body.error;
    const shown = await page.evaluate(() => ({
      title: document.getElementById("problem-title").textContent,
      message: document.getElementById("problem-message").textContent,
      marker: document.querySelector("#problem-query .error-at")?.textContent,
      before: document.querySelector("#problem-query code")?.firstChild?.textContent,
      status: document.getElementById("status").textContent,
      results: document.getElementById("results").hidden,
    }));
    check(shown.message.toLowerCase().includes(err.message.toLowerCase()), `message ${shown.message} vs ${err.message}`);
    same([shown.before, shown.marker], ["macron ", "("], "marker position");
    check(shown.status.includes(err.message), "the live region says what is wrong");
    same(shown.results, true, "results hidden");
    // Byte offsets: with two-byte letters before it, the marker must still be on '('.
    const marker = () => page.evaluate(() => {
      const code = document.querySelector("#problem-query code");
      return code && [code.firstChild.textContent, code.querySelector(".error-at").textContent];
    });
    await searchFor("élysée fines (");
    await page.waitForFunction(() => document.querySelector("#problem-query code")?.textContent.startsWith("é"));
    same(await marker(), ["élysée fines ", "("], "marker after two-byte letters");
    // An unterminated quote at the very start.
    await searchFor('"social media');
    await page.waitForFunction(() => document.querySelector("#problem-query code")?.textContent.startsWith('"'));
    same(await marker(), ["", '"'], "marker at the start");
  } finally {
    expectedStatus = null;
  }
});

await step("a search without results says so in plain words", async () => {
  await searchFor("zyzzyva");
  await waitStatus(/^No results for “zyzzyva”/);
  const title = await page.textContent("#problem-title");
  same(title, "No results", "heading");
  same(await page.isHidden("#outlets"), true, "panel hidden");
});

await step("the date range keeps only dated articles in range", async () => {
  await searchFor(QUERY);
  await waitStatus(new RegExp(`^${ref.total} results`));
  const ranged = (await api("/search", { q: QUERY, from: "2017-06-13", to: "2017-06-14", k: 10 })).body;
  check(ranged.total > 0 && ranged.total < ref.total, `the range narrows (${ranged.total} of ${ref.total})`);
  await page.fill("#from", "2017-06-13");
  await page.fill("#to", "2017-06-14");
  await waitURL((u) => u.searchParams.get("from") === "2017-06-13" && u.searchParams.get("to") === "2017-06-14", "from/to");
  await waitStatus(new RegExp(`^${ranged.total} results? for`));
  same(await hitIds(), ranged.hits.map((h) => h.id), "hits in range");
  const dates = await page.$$eval("#hits .hit-date", (els) => els.map((e) => e.getAttribute("datetime")));
  for (const d of dates) check(d && d >= "2017-06-13" && d <= "2017-06-14", `date ${d} in range`);
  same(await page.$$eval("#chips .chip span", (els) => els.map((e) => e.textContent)),
    ["From 2017-06-13", "To 2017-06-14"], "date chips");
  await page.click("#chips .chip-remove >> nth=0");
  await page.click("#chips .chip-remove >> nth=0");
  await waitURL((u) => !u.searchParams.has("from") && !u.searchParams.has("to"), "without dates");
  await waitStatus(new RegExp(`^${ref.total} results`));
  same(await page.inputValue("#from"), "", "from box cleared");
});

await step("sort by date puts the newest first", async () => {
  const byDate = (await api("/search", { q: QUERY, sort: "date", k: 10 })).body;
  await page.selectOption("#sort", "date");
  await waitURL((u) => u.searchParams.get("sort") === "date", "sort=date");
  await page.waitForFunction((first) => document.querySelector("#hits .hit")?.dataset.id === first, byDate.hits[0].id);
  same(await hitIds(), byDate.hits.map((h) => h.id), "hits by date");
  const dates = (await page.$$eval("#hits .hit-date", (els) => els.map((e) => e.getAttribute("datetime")))).filter(Boolean);
  same(dates, [...dates].sort().reverse(), "dates newest first");
  await page.goBack();
  await waitURL((u) => !u.searchParams.has("sort"), "sort back to relevance");
  await page.waitForFunction((first) => document.querySelector("#hits .hit")?.dataset.id === first, ref.hits[0].id);
  same(await page.inputValue("#sort"), "relevance", "sort box after Back");
});

await step("the pager is hidden when one page holds every result", async () => {
  check(ref.total <= 10, "the test corpus fits one page");
  same(await page.isHidden("#pager"), true, "pager hidden");
});

await step("a page past the end offers the way back, and the pager links work", async () => {
  await page.goto(`${base}/?q=${encodeURIComponent(QUERY)}&page=2`);
  await waitStatus(/none on page 2/);
  await page.waitForSelector("#pager", { state: "visible" });
  same(await page.$$eval("#pager .pager-next", (els) => els.map((e) => e.tagName)), ["SPAN"], "Next disabled");
  await page.click("#pager a.pager-prev");
  await waitURL((u) => !u.searchParams.has("page") && u.searchParams.get("q") === QUERY, "page 1");
  await waitStatus(new RegExp(`^${ref.total} results`));
  same(await page.isHidden("#pager"), true, "pager hidden on the only page");
  same(await page.evaluate(() => document.activeElement.id), "results", "focus moved to the results");
});

await step("an opened /?q= URL (the OpenSearch URL) searches on load", async () => {
  await page.goto(`${base}/?q=${encodeURIComponent("terror extremist")}`);
  await waitStatus(/results? for “terror extremist”/);
  same(await page.inputValue("#q"), "terror extremist", "box");
});

await step("the README's embeddable <form> snippet, on another page, searches lede", async () => {
  // The snippet as the README gives it, pointed at this server.
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const m = readme.match(/<form action="(http:\/\/[^"]+)"[\s\S]*?<\/form>/);
  check(m, "README.md has no <form action=\"http://...\"> snippet");
  const snippet = m[0].replace(m[1], `${base}/`);
  await page.setContent(`<!doctype html><title>Intranet</title>${snippet}`);
  await page.fill("input[name=q]", "legal liability");
  await Promise.all([page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("q") === "legal liability"),
    page.press("input[name=q]", "Enter")]);
  await waitStatus(/results? for “legal liability”/);
  check((await page.$$("#hits .hit")).length > 0, "results after the form's search");
});

await step("Enter takes the highlighted suggestion", async () => {
  await page.fill("#q", "");
  await page.focus("#q");
  const want = (await api("/suggest", { q: "terr", count: 8 })).body.suggestions.map((s) => s.text);
  check(want.length > 0, "the API suggests something for 'terr'");
  await page.keyboard.type("terr", { delay: 40 });
  await page.waitForFunction((first) => {
    const list = document.querySelector("#suggestions");
    const option = list.querySelector('[role="option"]');
    return !list.hidden && option && option.textContent === first;
  }, want[0]);
  const first = await page.textContent('#suggestions [role="option"]');
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await waitURL((u) => u.searchParams.get("q") === first, `q=${first}`);
  same(await page.inputValue("#q"), first, "box holds the suggestion");
  await page.waitForSelector("#suggestions", { state: "hidden" });
  await waitStatus(new RegExp(`results? for “${first}”`));
});

await step("a slow old reply never overwrites a newer one", async () => {
  // Hold back the reply for "macron" until "macron fines" has been answered.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route((u) => u.pathname === "/search" && u.searchParams.get("q") === "macron", async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  await page.fill("#q", "");
  await page.focus("#q");
  await page.keyboard.type("macron", { delay: 20 });
  await page.waitForRequest((r) => new URL(r.url()).searchParams.get("q") === "macron");
  await page.keyboard.type(" fines", { delay: 20 });
  await waitStatus(new RegExp(`^${ref.total} results for “${QUERY}”`));
  release();
  await page.unroute("**/*");
  // Give a stale reply every chance to land (a round trip), then look again.
  await page.evaluate(() => fetch("/health").then((r) => r.json()));
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 100))));
  check((await page.textContent("#status")).includes(`“${QUERY}”`), "status still for the newer query");
  same(await hitIds(), ref.hits.map((h) => h.id), "hits still for the newer query");
});

await step("an empty box returns to the start state", async () => {
  await page.fill("#q", "");
  await page.waitForSelector("#start", { state: "visible" });
  await waitURL((u) => u.search === "", "/");
  same(await page.textContent("#status"), "", "status");
});

await step("phone size (375x700): no horizontal scrolling, panel stacked", async () => {
  await page.setViewportSize({ width: 375, height: 700 });
  await page.goto(`${base}/?q=${encodeURIComponent(QUERY)}&source=${encodeURIComponent(OUTLET)}&from=2017-01-01`);
  await waitStatus(/^1 result for/);
  await noHorizontalOverflow("filtered results");
  const box = await page.evaluate(() => {
    const main = document.querySelector("main").getBoundingClientRect();
    const aside = document.querySelector("aside").getBoundingClientRect();
    return { stacked: aside.top >= main.bottom - 1 || aside.bottom <= main.top + 1, asideWidth: aside.width };
  });
  check(box.stacked, "panel stacked with the results");
  check(box.asideWidth <= 375, `panel ${box.asideWidth}px wide`);
  await page.goto(`${base}/?q=${encodeURIComponent(QUERY)}`);
  await waitStatus(new RegExp(`^${ref.total} results`));
  await noHorizontalOverflow("results");
  await page.screenshot({ path: join(outDir, "search-page-phone.png") });
  expectedStatus = 400;
  try {
    await searchFor("macron (");
    await page.waitForSelector("#problem", { state: "visible" });
    await noHorizontalOverflow("syntax error");
  } finally {
    expectedStatus = null;
  }
  await page.goto(`${base}/`);
  await page.waitForSelector("#start", { state: "visible" });
  await noHorizontalOverflow("start page");
  await page.setViewportSize({ width: 1280, height: 800 });
});

await step("no console errors, CSP violations, dialogs or failed requests", async () => {
  const csp = await page.evaluate(() => window.__cspViolations);
  same(csp, [], "CSP violations on the last page");
  if (problems.length) throw new Error(problems.join("\n"));
});

await browser.close();
console.log(`1..${count}`);
console.log(`# ${count - failed} passed, ${failed} failed; screenshots in ${outDir}`);
process.exit(failed ? 1 : 0);
