/* lede's search page: the behaviour of index.html (search as you type,
 * results, the outlet panel, filters, pages, errors, URL state, keyboard).
 * Only the public JSON API (docs/API.md): GET /search and GET /suggest.
 * The CSP allows nothing inline: looks change through classes and `hidden`. */
(() => {
  "use strict";

  const PAGE_SIZE = 10;
  // Enough outlets get their best passage for a real newsroom query; the
  // server caps it (search.max_source_details) and the rest show counts only.
  const SOURCE_DETAILS = 50;
  const SNIPPETS = 2;
  const SNIPPET_CHARS = 180;
  const SUGGEST_COUNT = 8;
  const SUGGEST_DELAY_MS = 80;
  const SEARCH_DELAY_MS = 180;
  const FILTER_DELAY_MS = 300;
  const MAX_PAGE = 1001; // search.max_offset (10000) / PAGE_SIZE + 1

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("search-form"), q: $("q"), list: $("suggestions"),
    from: $("from"), to: $("to"), sort: $("sort"), chips: $("chips"),
    status: $("status"), timing: $("timing"), progress: $("progress"),
    start: $("start"), problem: $("problem"), problemTitle: $("problem-title"),
    problemMessage: $("problem-message"), problemQuery: $("problem-query"),
    problemHelp: $("problem-help"), clearFilters: $("clear-filters"),
    results: $("results"), hits: $("hits"), pager: $("pager"),
    outlets: $("outlets"), outletList: $("outlet-list"), outletsCount: $("outlets-count"),
    hitTemplate: $("hit-template"), outletTemplate: $("outlet-template"),
  };

  /* ---------- state <-> URL ---------- */

  // The whole search lives in the page URL (/?q=..&source=..&from=..&to=..
  // &sort=date&page=2), so a search can be shared, bookmarked and reloaded,
  // and /?q= is also the OpenSearch search URL.
  function emptyState() {
    return { q: "", sources: [], from: "", to: "", sort: "relevance", page: 1 };
  }

  function stateFromURL() {
    const p = new URLSearchParams(location.search);
    const s = emptyState();
    s.q = p.get("q") || "";
    s.sources = [...new Set(p.getAll("source").filter((v) => v.trim() !== ""))];
    s.from = validDate(p.get("from"));
    s.to = validDate(p.get("to"));
    s.sort = p.get("sort") === "date" ? "date" : "relevance";
    const page = Number.parseInt(p.get("page"), 10);
    s.page = page > 1 ? Math.min(page, MAX_PAGE) : 1;
    return s;
  }

  function validDate(v) {
    return v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : "";
  }

  function pageURL(s) {
    const p = new URLSearchParams();
    if (s.q.trim() !== "") p.set("q", s.q);
    for (const src of s.sources) p.append("source", src);
    if (s.from) p.set("from", s.from);
    if (s.to) p.set("to", s.to);
    if (s.sort === "date") p.set("sort", "date");
    if (s.page > 1) p.set("page", String(s.page));
    const qs = p.toString();
    return qs ? `/?${qs}` : "/";
  }

  // History: a search typed in the box updates one "draft" entry
  // (replaceState); the first keystroke after a finished search opens it
  // (pushState) so Back returns to that search. Enter or a suggestion
  // finishes the draft in place; a filter, sort or page is a new entry.
  function remember(s, how) {
    const url = pageURL(s);
    const current = location.pathname + location.search;
    const draft = Boolean(history.state && history.state.draft);
    if (how === "typing") {
      if (draft) history.replaceState({ draft: true }, "", url);
      else if (url !== current) history.pushState({ draft: true }, "", url);
    } else if (how === "submit" && draft) {
      history.replaceState({ draft: false }, "", url);
    } else if (url !== current) {
      if (draft) history.replaceState({ draft: false }, "", current);
      history.pushState({ draft: false }, "", url);
    }
    setTitle(s);
  }

  function setTitle(s) {
    document.title = s.q.trim() ? `${s.q.trim()} · lede` : "lede · news search";
  }

  let state = emptyState();

  function showStateInForm(s) {
    if (el.q.value !== s.q) el.q.value = s.q;
    el.from.value = s.from;
    el.to.value = s.to;
    el.sort.value = s.sort;
  }

  /* ---------- requests ---------- */

  // Only documented, non-empty parameters: the server answers 400 to any
  // other key, so a typo can never silently change a search.
  function searchParams(s) {
    const p = new URLSearchParams();
    p.set("q", s.q);
    p.set("k", String(PAGE_SIZE));
    if (s.page > 1) p.set("offset", String((s.page - 1) * PAGE_SIZE));
    for (const src of s.sources) p.append("source", src);
    // With outlets chosen, the panel still lists every outlet the query
    // matches (panel=all), so more can be added and counts compared.
    if (s.sources.length) p.set("panel", "all");
    if (s.sort === "date") p.set("sort", "date");
    p.set("snippets", String(SNIPPETS));
    if (s.from) p.set("from", s.from);
    if (s.to) p.set("to", s.to);
    p.set("source_details", String(SOURCE_DETAILS));
    p.set("snippet_chars", String(SNIPPET_CHARS));
    return p;
  }

  // Resolves to the reply; rejects with the server's error object
  // ({code, message, parameter, position, query} plus the HTTP status), a
  // network TypeError (no status) or an AbortError.
  async function getJSON(path, params, signal) {
    const res = await fetch(`${path}?${params}`, { signal });
    // A proxy's HTML error page has no JSON: its status says enough.
    const body = await res.json().catch(() => null);
    if (res.ok && body) return body;
    throw { code: "http", message: `the server answered ${res.status}`, ...(body && body.error), status: res.status };
  }

  let searchController = null;
  let searchSeq = 0;

  // One search at a time: a newer one aborts the older, and a reply is drawn
  // only if it still belongs to the newest request, so a slow old reply can
  // never overwrite a newer one.
  async function runSearch(s) {
    if (searchController) searchController.abort();
    const seq = ++searchSeq;
    if (s.q.trim() === "") {
      searchController = null;
      setBusy(false);
      showStart();
      return;
    }
    const controller = new AbortController();
    searchController = controller;
    setBusy(true);
    try {
      const reply = await getJSON("/search", searchParams(s), controller.signal);
      if (seq !== searchSeq) return;
      showResults(s, reply);
    } catch (err) {
      if (seq !== searchSeq || (err && err.name === "AbortError")) return;
      showProblem(s, err);
    } finally {
      if (seq === searchSeq) {
        setBusy(false);
        searchController = null;
      }
    }
  }

  function setBusy(busy) {
    el.progress.hidden = !busy;
    el.results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  /* ---------- safe highlighted text ---------- */

  // The server's `html` fields are escaped text with <mark> around matches.
  // As defense in depth they are parsed inert (a <template> runs no script
  // and loads nothing) and rebuilt from text nodes and <mark> only; any
  // other element is reduced to its text.
  function markedText(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    const out = document.createDocumentFragment();
    copyMarkedText(tpl.content, out);
    return out;
  }

  function copyMarkedText(from, to) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.data);
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.localName === "mark") {
          const mark = document.createElement("mark");
          copyMarkedText(node, mark);
          to.append(mark);
        } else {
          copyMarkedText(node.localName === "template" ? node.content : node, to);
        }
      }
    }
  }

  // Highlighted text when the server sent it, else the plain text.
  function fillText(target, highlight, plain) {
    target.replaceChildren();
    if (highlight && typeof highlight.html === "string") target.append(markedText(highlight.html));
    else target.textContent = plain || "";
  }

  // Only web links: a stored url such as javascript:... must never become a
  // clickable link.
  function safeURL(url) {
    if (typeof url !== "string" || url === "") return null;
    try {
      const u = new URL(url, location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });

  function fillDate(timeEl, date) {
    const m = typeof date === "string" && /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (m) {
      timeEl.dateTime = date;
      timeEl.textContent = dateFormat.format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
    } else {
      timeEl.removeAttribute("datetime");
      timeEl.textContent = typeof date === "string" ? date : "";
    }
    timeEl.hidden = timeEl.textContent === "";
  }

  function plural(n, one, many) {
    return `${n.toLocaleString()} ${n === 1 ? one : many}`;
  }

  /* ---------- drawing ---------- */

  function showOnly(part) {
    el.start.hidden = part !== "start";
    el.problem.hidden = part !== "problem";
    el.results.hidden = part !== "results";
    if (part !== "results") el.outlets.hidden = true;
    // The problem box says it all on screen; the live region still speaks.
    el.status.classList.toggle("visually-hidden", part === "problem");
    if (part === "problem") el.timing.hidden = true;
  }

  function showStart() {
    showOnly("start");
    el.status.textContent = "";
    el.timing.hidden = true;
    el.hits.replaceChildren();
    el.outletList.replaceChildren();
    drawChips(state);
  }

  function showResults(s, reply) {
    drawChips(s);
    el.timing.textContent = typeof reply.took_ms === "number" ? `${reply.took_ms.toFixed(1)} ms` : "";
    el.timing.hidden = el.timing.textContent === "";

    const total = reply.total || 0;
    const more = reply.total_exact === false || reply.timed_out === true;
    const count = more ? `more than ${plural(total, "result", "results")}`
      : plural(total, "result", "results");
    const quoted = `“${s.q.trim()}”`;
    // The panel counts every outlet (panel=all); the hits come from the chosen ones.
    const chosen = new Set(s.sources.map((x) => x.toLowerCase()));
    const outlets = s.sources.length
      ? (reply.sources || []).filter((x) => x.count > 0 && chosen.has(String(x.source).toLowerCase())).length
      : reply.total_sources;
    const outletsNote = outlets ? ` from ${plural(outlets, "outlet", "outlets")}` : "";

    if (total === 0) {
      el.status.textContent = `No results for ${quoted}.`;
      el.hits.replaceChildren();
      el.outletList.replaceChildren();
      const filtered = hasFilters(s);
      problem("No results",
        filtered ? `Nothing matches ${quoted} with the filters you chose.`
          : `No article matches ${quoted}.`,
        filtered ? "Try removing a filter, widening the dates, or using fewer words."
          : "Check the spelling, use fewer or more general words, or try OR between alternatives.",
        null, filtered);
      // Other outlets may still match: keep the panel so one can be picked.
      if ((reply.sources || []).length) drawOutlets(s, reply);
      return;
    }

    if (!reply.hits.length) {
      // A page past the end (say an old bookmark): offer the way back.
      el.status.textContent = `${count} for ${quoted}, but none on page ${s.page}.`;
      problem("No results on this page", `This search has ${count}; page ${s.page} is past the last one.`,
        "Use the page links below to go back.", null, false);
      el.results.hidden = false;
      el.hits.replaceChildren();
      drawPager(s, reply);
      drawOutlets(s, reply);
      return;
    }

    showOnly("results");
    const first = reply.offset + 1;
    const last = reply.offset + reply.hits.length;
    const range = total > reply.hits.length ? `, showing ${first.toLocaleString()}–${last.toLocaleString()}` : "";
    el.status.textContent = `${count} for ${quoted}${outletsNote}${range}.`;
    el.hits.replaceChildren(...reply.hits.map(drawHit));
    el.hits.start = first;
    drawPager(s, reply);
    drawOutlets(s, reply);
  }

  function drawHit(hit) {
    const li = el.hitTemplate.content.firstElementChild.cloneNode(true);
    const h = hit.highlights || {};
    const titleBox = li.querySelector(".hit-title");
    const url = safeURL(hit.url);
    const target = url ? document.createElement("a") : titleBox;
    if (url) {
      target.href = url;
      target.rel = "noopener noreferrer";
      titleBox.append(target);
    }
    if (hit.title == null && !(h.title && h.title.html)) target.textContent = "(untitled)";
    else fillText(target, h.title, hit.title);
    li.querySelector(".hit-source").textContent = hit.source || "Unknown outlet";
    fillDate(li.querySelector(".hit-date"), hit.date);
    const snippet = li.querySelector(".hit-snippet");
    fillText(snippet, h.body, "");
    snippet.hidden = snippet.textContent.trim() === "";
    li.dataset.id = hit.id;
    li.dataset.source = hit.source || "";
    return li;
  }

  function drawOutlets(s, reply) {
    const sources = (reply && reply.sources) || [];
    // Chosen outlets stay on the panel (pressed) even when the dates leave
    // them no match, so each can still be switched off there.
    const listed = new Set(sources.map((o) => o.source.toLowerCase()));
    const missing = s.sources.filter((src) => !listed.has(src.toLowerCase()))
      .map((src) => ({ source: src, count: 0, best: null }));
    const all = sources.concat(missing);
    el.outletList.replaceChildren(...all.map((o) => drawOutlet(s, o)));
    const n = reply && typeof reply.total_sources === "number" ? reply.total_sources : sources.length;
    el.outletsCount.textContent = `(${n.toLocaleString()})`;
    el.outlets.hidden = all.length === 0;
  }

  function drawOutlet(s, o) {
    const li = el.outletTemplate.content.firstElementChild.cloneNode(true);
    const pressed = s.sources.some((src) => src.toLowerCase() === o.source.toLowerCase());
    const button = li.querySelector(".outlet-toggle");
    button.setAttribute("aria-pressed", String(pressed));
    button.dataset.source = o.source;
    li.querySelector(".outlet-name").textContent = o.source;
    const count = li.querySelector(".outlet-count");
    const unit = document.createElement("span");
    unit.className = "visually-hidden";
    unit.textContent = o.count === 1 ? " article" : " articles";
    count.append(o.count.toLocaleString(), unit);
    li.classList.toggle("is-active", pressed);

    const best = o.best || {};
    const titleBox = li.querySelector(".outlet-title");
    const passage = li.querySelector(".outlet-passage");
    if (best.title_html || best.passage) {
      const url = safeURL(best.url);
      const target = url ? document.createElement("a") : document.createElement("span");
      if (url) {
        target.href = url;
        target.rel = "noopener noreferrer";
      }
      fillText(target, best.title_html, best.title || "(untitled)");
      titleBox.replaceChildren(target);
      const time = document.createElement("time");
      time.className = "outlet-date";
      fillDate(time, best.date);
      if (!time.hidden) titleBox.append(" ", time);
      fillText(passage, best.passage, "");
      passage.hidden = passage.textContent.trim() === "";
    } else {
      // Past source_details the server sends only the count.
      li.querySelector(".outlet-best").hidden = true;
    }
    return li;
  }

  function drawChips(s) {
    const chips = [];
    for (const src of s.sources) {
      chips.push(chip(`Outlet: ${src}`, `Remove outlet filter ${src}`, () => toggleSource(src)));
    }
    if (s.from) chips.push(chip(`From ${s.from}`, `Remove start date ${s.from}`, () => setFilter("from", "")));
    if (s.to) chips.push(chip(`To ${s.to}`, `Remove end date ${s.to}`, () => setFilter("to", "")));
    el.chips.replaceChildren(...chips);
    el.chips.hidden = chips.length === 0;
  }

  function chip(text, label, onRemove) {
    const li = document.createElement("li");
    li.className = "chip";
    const span = document.createElement("span");
    span.textContent = text;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "chip-remove";
    button.setAttribute("aria-label", label);
    button.textContent = "×";
    button.addEventListener("click", () => {
      onRemove();
      el.q.focus();
    });
    li.append(span, button);
    return li;
  }

  function drawPager(s, reply) {
    const total = reply.total || 0;
    const exact = reply.total_exact !== false && reply.timed_out !== true;
    // With a lower-bound total there may be pages past the known ones.
    let pages = Math.ceil(total / PAGE_SIZE);
    if (!exact && reply.hits.length === PAGE_SIZE) pages = Math.max(pages, s.page + 1);
    pages = Math.min(pages, MAX_PAGE);
    if (pages <= 1 && s.page <= 1) {
      el.pager.hidden = true;
      el.pager.replaceChildren();
      return;
    }
    const items = [];
    items.push(pageLink(s, s.page - 1, "‹ Previous", "pager-prev", s.page <= 1));
    const list = document.createElement("ol");
    list.className = "pager-pages";
    for (const n of pageNumbers(s.page, Math.max(pages, s.page))) {
      const li = document.createElement("li");
      if (n === null) {
        li.className = "pager-gap";
        li.textContent = "…";
      } else {
        li.append(pageLink(s, n, String(n), "pager-page", false, `Page ${n}`));
      }
      list.append(li);
    }
    items.push(list);
    items.push(pageLink(s, s.page + 1, "Next ›", "pager-next", s.page >= pages));
    el.pager.replaceChildren(...items);
    el.pager.hidden = false;
  }

  // 1 … p-2 p-1 p p+1 p+2 … last
  function pageNumbers(page, pages) {
    const out = [];
    const lo = Math.max(1, page - 2);
    const hi = Math.min(pages, page + 2);
    if (lo > 1) out.push(1);
    if (lo > 2) out.push(null);
    for (let n = lo; n <= hi; n++) out.push(n);
    if (hi < pages - 1) out.push(null);
    if (hi < pages) out.push(pages);
    return out;
  }

  // Real links, so a page can be opened in a new tab; a plain click stays
  // in the page.
  function pageLink(s, n, text, cls, disabled, label) {
    const a = document.createElement(disabled ? "span" : "a");
    a.className = disabled ? `${cls} is-disabled` : cls;
    a.textContent = text;
    if (disabled) return a;
    a.href = pageURL({ ...s, page: n });
    a.dataset.page = String(n);
    if (label) a.setAttribute("aria-label", label);
    if (n === s.page) a.setAttribute("aria-current", "page");
    return a;
  }

  function hasFilters(s) {
    return s.sources.length > 0 || s.from !== "" || s.to !== "";
  }

  function problem(title, message, help, queryMarker, offerClear) {
    showOnly("problem");
    el.problemTitle.textContent = title;
    el.problemMessage.textContent = message;
    el.problemHelp.textContent = help || "";
    el.problemHelp.hidden = !help;
    el.problemQuery.replaceChildren();
    el.problemQuery.hidden = !queryMarker;
    if (queryMarker) el.problemQuery.append(queryMarker);
    el.clearFilters.hidden = !offerClear;
  }

  function showProblem(s, err) {
    el.timing.hidden = true;
    el.hits.replaceChildren();
    el.outletList.replaceChildren();
    drawChips(s);
    if (!err || !err.status) {
      el.status.textContent = "The server could not be reached.";
      problem("The server could not be reached", "Check the connection and search again.", "", null, false);
      return;
    }
    const syntax = err.code === "query_syntax";
    const filter = ["from", "to", "source"].includes(err.parameter);
    const what = syntax ? "The query could not be read"
      : filter ? "The filters could not be used"
        : err.status >= 500 ? "The server could not answer" : "The search could not be run";
    const message = String(err.message);
    el.status.textContent = `${what}: ${message}`;
    const marked = syntax && markPosition(typeof err.query === "string" ? err.query : s.q, err.position);
    problem(what, `${message.charAt(0).toUpperCase()}${message.slice(1)}.`,
      syntax ? "Quotes and parentheses come in pairs; AND, OR and NOT need a word on each side; " +
        "a prefix* needs two letters. The marker shows where the problem is." : "",
      marked && marked.node, filter);
    if (marked) el.problemQuery.setAttribute("aria-label", marked.label);
  }

  // The server's position is a byte offset into the UTF-8 query; the marker
  // goes at the matching character, or after the end of the query.
  function markPosition(query, position) {
    const bytes = new TextEncoder().encode(query);
    const at = Number.isInteger(position) ? Math.max(0, Math.min(position, bytes.length)) : bytes.length;
    const before = new TextDecoder().decode(bytes.subarray(0, at));
    const rest = query.slice(before.length);
    const ch = rest ? String.fromCodePoint(rest.codePointAt(0)) : "";
    const code = document.createElement("code");
    code.className = "query-echo";
    const marker = document.createElement("span");
    marker.className = ch.trim() ? "error-at" : "error-at is-gap";
    marker.textContent = ch || " ";
    marker.title = "The problem is here";
    code.append(before, marker, rest.slice(ch.length));
    const label = `The problem is at character ${[...before].length + 1} of “${query}”`;
    return { node: code, label };
  }

  /* ---------- suggestions (ARIA combobox with a listbox popup) ---------- */

  let suggestions = [];
  let activeSuggestion = -1;
  let suggestController = null;
  let suggestTimer = 0;

  function scheduleSuggest() {
    clearTimeout(suggestTimer);
    const typed = el.q.value;
    if (typed.trim() === "") {
      if (suggestController) suggestController.abort();
      closeSuggestions();
      return;
    }
    suggestTimer = setTimeout(() => fetchSuggestions(typed), SUGGEST_DELAY_MS);
  }

  async function fetchSuggestions(typed) {
    if (suggestController) suggestController.abort();
    const controller = new AbortController();
    suggestController = controller;
    try {
      const p = new URLSearchParams({ q: typed, count: String(SUGGEST_COUNT) });
      const reply = await getJSON("/suggest", p, controller.signal);
      // The box may have changed (or lost focus) while the reply travelled.
      if (controller !== suggestController || el.q.value !== typed || document.activeElement !== el.q) return;
      openSuggestions((reply.suggestions || []).map((x) => x.text)
        .filter((t) => typeof t === "string" && t !== typed));
    } catch (err) {
      // Completions are a convenience: a failed one just shows none.
      if (controller === suggestController && !(err && err.name === "AbortError")) closeSuggestions();
    }
  }

  function openSuggestions(texts) {
    suggestions = texts;
    activeSuggestion = -1;
    el.q.removeAttribute("aria-activedescendant");
    if (!texts.length) {
      closeSuggestions();
      return;
    }
    const typed = el.q.value;
    el.list.replaceChildren(...texts.map((text, i) => {
      const li = document.createElement("li");
      li.id = `suggestion-${i}`;
      li.className = "suggestion";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      // The typed part plain, the completion in bold, as search boxes do.
      const same = text.toLowerCase().startsWith(typed.toLowerCase()) ? typed.length : 0;
      const strong = document.createElement("strong");
      strong.textContent = text.slice(same);
      li.append(text.slice(0, same), strong);
      li.dataset.index = String(i);
      return li;
    }));
    el.list.hidden = false;
    el.q.setAttribute("aria-expanded", "true");
  }

  function closeSuggestions() {
    clearTimeout(suggestTimer);
    suggestions = [];
    activeSuggestion = -1;
    el.list.hidden = true;
    el.list.replaceChildren();
    el.q.setAttribute("aria-expanded", "false");
    el.q.removeAttribute("aria-activedescendant");
  }

  function moveSuggestion(delta) {
    if (!suggestions.length) return;
    const n = suggestions.length;
    // -1 is "no option": moving past either end comes back to the box.
    activeSuggestion = activeSuggestion === -1 ? (delta > 0 ? 0 : n - 1)
      : activeSuggestion + delta;
    if (activeSuggestion < 0 || activeSuggestion >= n) activeSuggestion = -1;
    for (const li of el.list.children) {
      const on = Number(li.dataset.index) === activeSuggestion;
      li.setAttribute("aria-selected", String(on));
      li.classList.toggle("is-active", on);
      if (on) li.scrollIntoView({ block: "nearest" });
    }
    if (activeSuggestion >= 0) el.q.setAttribute("aria-activedescendant", `suggestion-${activeSuggestion}`);
    else el.q.removeAttribute("aria-activedescendant");
  }

  function pickSuggestion(i) {
    const text = suggestions[i];
    if (typeof text !== "string") return;
    el.q.value = text;
    commitSearch();
  }

  /* ---------- actions ---------- */

  let searchTimer = 0;
  let filterTimer = 0;

  // Typing: search shortly after the last keystroke, keep the URL in step
  // without filling the history with every letter.
  function onTyping() {
    scheduleSuggest();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state = { ...state, q: el.q.value, page: 1 };
      remember(state, "typing");
      runSearch(state);
    }, SEARCH_DELAY_MS);
  }

  function commitSearch() {
    clearTimeout(searchTimer);
    closeSuggestions();
    const q = el.q.value;
    const page = q === state.q ? state.page : 1;
    go({ ...state, q, page }, "submit");
  }

  // A committed change: into the history (see remember), search now.
  function go(s, how = "navigate") {
    clearTimeout(searchTimer);
    clearTimeout(filterTimer);
    state = s;
    showStateInForm(state);
    remember(state, how);
    runSearch(state);
  }

  function toggleSource(src) {
    const key = src.toLowerCase();
    const on = state.sources.some((x) => x.toLowerCase() === key);
    const sources = on ? state.sources.filter((x) => x.toLowerCase() !== key) : state.sources.concat([src]);
    go({ ...state, q: el.q.value, sources, page: 1 });
  }

  function setFilter(name, value) {
    go({ ...state, q: el.q.value, [name]: value, page: 1 });
  }

  function onDateChange() {
    // Typing a date digit by digit fires a change per digit: wait for a pause.
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      const from = el.from.validity.valid ? el.from.value : state.from;
      const to = el.to.validity.valid ? el.to.value : state.to;
      if (from !== state.from || to !== state.to) go({ ...state, q: el.q.value, from, to, page: 1 });
    }, FILTER_DELAY_MS);
  }

  function isTypingField(node) {
    if (!node || node === document.body) return false;
    if (node.isContentEditable) return true;
    return ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName);
  }

  /* ---------- wiring ---------- */

  el.q.addEventListener("input", onTyping);

  el.q.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    const open = !el.list.hidden;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!open) {
        if (e.key === "ArrowDown" && el.q.value.trim()) fetchSuggestions(el.q.value);
        return;
      }
      e.preventDefault();
      moveSuggestion(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Escape") {
      // Closing the list only; a second Escape clears the box as usual.
      if (open) {
        e.preventDefault();
        closeSuggestions();
      }
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (open && activeSuggestion >= 0) pickSuggestion(activeSuggestion);
      else commitSearch();
    }
  });

  el.q.addEventListener("blur", () => closeSuggestions());

  // mousedown would blur the box (and close the list) before the click.
  el.list.addEventListener("mousedown", (e) => e.preventDefault());
  el.list.addEventListener("click", (e) => {
    const li = e.target.closest("[role=option]");
    if (li) pickSuggestion(Number(li.dataset.index));
  });

  el.form.addEventListener("submit", (e) => {
    e.preventDefault();
    commitSearch();
  });

  el.from.addEventListener("change", onDateChange);
  el.to.addEventListener("change", onDateChange);
  el.sort.addEventListener("change", () => go({ ...state, q: el.q.value, sort: el.sort.value, page: 1 }));

  el.outletList.addEventListener("click", (e) => {
    const button = e.target.closest(".outlet-toggle");
    if (button) toggleSource(button.dataset.source);
  });

  el.pager.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-page]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button !== 0) return;
    e.preventDefault();
    go({ ...state, q: el.q.value, page: Number(a.dataset.page) });
    // Keyboard and screen reader users land on the new list, not the pager.
    el.results.focus({ preventScroll: true });
    el.results.scrollIntoView({ block: "start" });
  });

  el.clearFilters.addEventListener("click", () => {
    go({ ...state, q: el.q.value, sources: [], from: "", to: "", page: 1 });
  });

  document.addEventListener("keydown", (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || isTypingField(document.activeElement)) return;
    e.preventDefault();
    el.q.focus();
    el.q.select();
  });

  window.addEventListener("popstate", () => {
    closeSuggestions();
    clearTimeout(searchTimer);
    clearTimeout(filterTimer);
    state = stateFromURL();
    showStateInForm(state);
    setTitle(state);
    runSearch(state);
  });

  // First load: /?q=... (a shared link, a bookmark, the browser's search bar).
  state = stateFromURL();
  showStateInForm(state);
  history.replaceState({ draft: false }, "", pageURL(state) + location.hash);
  setTitle(state);
  runSearch(state);
})();
