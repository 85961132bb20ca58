/* test_facets.c: the search options beyond ranking (outlet and date
 * filters, date order, per-outlet facets, grouping by outlet, highlight
 * terms, the time budget) held against a reference computed from the
 * exhaustive result list: every match with its score, filtered, counted,
 * grouped and sorted by hand. A synthetic corpus (20 outlets, dates over
 * three years, some documents without source or date) is written in
 * several segments with deletions, so the per-snapshot outlet table is
 * exercised across segments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lede/search.h"
#include "tap.h"
#include "testutil.h"

#define NDOCS 3000
#define NSOURCES 20

static const char *const words[] = {"border", "wall", "tax", "reform", "senate", "vote",
                                    "court", "ruling", "climate", "energy", "trade", "tariff",
                                    "election", "poll", "health", "care", "budget", "deal"};
#define NWORDS (sizeof words / sizeof *words)

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state % n);
}

static void add_docs(lede_writer *w, uint32_t from, uint32_t to)
{
    char id[32], title[256], body[2048], source[32], date[16];
    for (uint32_t i = from; i < to; i++) {
        snprintf(id, sizeof id, "d%05u", i);
        title[0] = body[0] = '\0';
        for (uint32_t j = 0, n = 2 + rnd(5); j < n; j++) {
            strcat(title, words[rnd(NWORDS)]);
            strcat(title, " ");
        }
        for (uint32_t j = 0, n = 5 + rnd(60); j < n; j++) {
            strcat(body, words[rnd(NWORDS)]);
            strcat(body, j % 9 == 8 ? ". " : " ");
        }
        /* Outlet 0 also appears in another case: names are exact bytes. */
        uint32_t s = rnd(NSOURCES + 1);
        snprintf(source, sizeof source, s == NSOURCES ? "" : "Outlet %02u", s);
        uint32_t has_date = rnd(10) != 0;
        snprintf(date, sizeof date, "%04u-%02u-%02u", 2017 + rnd(3), 1 + rnd(12), 1 + rnd(28));
        lede_doc d = {{id, strlen(id)},
                      {title, strlen(title)},
                      {body, strlen(body)},
                      {s == NSOURCES ? NULL : source, strlen(source)},
                      {has_date ? date : NULL, has_date ? strlen(date) : 0},
                      {NULL, 0}};
        lede_err err = {0};
        if (lede_writer_add(w, &d, &err)) {
            fprintf(stderr, "add: %s\n", err.msg);
            exit(1);
        }
    }
}

static lede_index *build(const char *dir)
{
    lede_err err = {0};
    lede_writer_opts wo = {0};
    wo.no_merge = 1;
    for (int session = 0; session < 3; session++) {
        lede_writer *w;
        if (lede_writer_open(dir, &wo, session == 0, &w, &err)) {
            fprintf(stderr, "open writer: %s\n", err.msg);
            exit(1);
        }
        add_docs(w, (uint32_t)session * NDOCS / 3, (uint32_t)(session + 1) * NDOCS / 3);
        if (session == 2)
            for (uint32_t i = 0; i < NDOCS; i += 7) {
                char id[32];
                int found;
                snprintf(id, sizeof id, "d%05u", i);
                lede_writer_delete(w, id, strlen(id), &found, &err);
            }
        if (lede_writer_commit(w, &err)) {
            fprintf(stderr, "commit: %s\n", err.msg);
            exit(1);
        }
        lede_writer_free(w);
    }
    lede_index *ix;
    if (lede_index_open(dir, &ix, &err)) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    return ix;
}

/* ------------------------------------------------------------ reference */

typedef struct ref_hit {
    double score;
    uint64_t docno;
    char id[32], source[32];
    int32_t date;
} ref_hit;

static int32_t date_of(const lede_str *s)
{
    int32_t d;
    return s->ptr && lede_parse_date(s->ptr, s->len, &d) == 0 ? d : 0;
}

/* Every match of q, exhaustively scored, with its outlet and date. */
static ref_hit *all_matches(lede_index *ix, const char *q, uint32_t *n)
{
    lede_search_opts o = {0};
    o.query = q;
    o.k = 100000;
    o.exhaustive = 1;
    lede_results *r;
    lede_err err = {0};
    if (lede_search(ix, &o, &r, &err)) {
        fprintf(stderr, "search %s: %s\n", q, err.msg);
        exit(1);
    }
    ref_hit *h = calloc(r->nhits + 1, sizeof *h);
    for (uint32_t i = 0; i < r->nhits; i++) {
        const lede_stored *d = &r->hits[i].doc;
        h[i].score = r->hits[i].score;
        h[i].docno = r->hits[i].docno;
        snprintf(h[i].id, sizeof h[i].id, "%.*s", (int)d->id.len, d->id.ptr);
        snprintf(h[i].source, sizeof h[i].source, "%.*s", (int)d->source.len,
                 d->source.ptr ? d->source.ptr : "");
        h[i].date = date_of(&d->date);
    }
    *n = r->nhits;
    lede_results_free(r);
    return h;
}

static int keep(const ref_hit *h, const char *const *sources, uint32_t nsources, int32_t from,
                int32_t to)
{
    if (nsources) {
        int any = 0;
        for (uint32_t i = 0; i < nsources; i++)
            any |= h->source[0] && strcasecmp(h->source, sources[i]) == 0;
        if (!any)
            return 0;
    }
    if ((from || to) && (!h->date || (from && h->date < from) || (to && h->date > to)))
        return 0;
    return 1;
}

static int by_score(const void *x, const void *y)
{
    const ref_hit *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->docno < b->docno ? -1 : a->docno > b->docno;
}

static int by_date(const void *x, const void *y)
{
    const ref_hit *a = x, *b = y;
    if (a->date != b->date)
        return a->date > b->date ? -1 : 1;
    return by_score(x, y);
}

static int hit_is(const lede_hit *h, const ref_hit *r)
{
    return h->doc.id.len == strlen(r->id) && memcmp(h->doc.id.ptr, r->id, h->doc.id.len) == 0 &&
           h->score == r->score;
}

/* ------------------------------------------------------------ checks */

static const char *const queries[] = {
    "border wall", "+tax +reform", "\"border wall\"", "climate -energy", "title:court ruling",
    "trade OR tariff", "bud*", "health care budget deal", "+vote senate poll", "-tax",
    "(border OR wall) +election", "title:\"tax reform\"", "nosuchword", "ruling court^2",
};

static void check_query(lede_index *ix, const char *q, char *const *pool)
{
    uint32_t n;
    ref_hit *all = all_matches(ix, q, &n);
    for (int variant = 0; variant < 6; variant++) {
        const char *srcs[3];
        uint32_t nsrc = 0;
        int32_t from = 0, to = 0;
        if (variant & 1) {
            nsrc = 1 + rnd(3);
            for (uint32_t i = 0; i < nsrc; i++)
                srcs[i] = pool[rnd(NSOURCES + 1)];
        }
        if (variant & 2) {
            from = rnd(2) ? 20170000 + (int32_t)(1 + rnd(12)) * 100 + 1 : 0;
            to = rnd(2) ? 20180000 + (int32_t)(1 + rnd(12)) * 100 + 28 : 0;
            if (!from && !to)
                to = 20181231;
        }
        ref_hit *kept = calloc(n + 1, sizeof *kept), *dated = calloc(n + 1, sizeof *dated);
        uint32_t m = 0, md = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (keep(&all[i], srcs, nsrc, from, to))
                kept[m++] = all[i];
            if (keep(&all[i], srcs, 0, from, to))
                dated[md++] = all[i];
        }
        for (int sort = 0; sort < 2; sort++) {
            ref_hit *sorted = calloc(m + 1, sizeof *sorted);
            memcpy(sorted, kept, m * sizeof *sorted);
            qsort(sorted, m, sizeof *sorted, sort ? by_date : by_score);
            /* facets 2: the panel ignores the outlet filter (it counts
             * the matches within the dates), the hits do not. */
            for (int facets = 0; facets < 3; facets++) {
                uint32_t k = 1 + rnd(15), offset = rnd(4);
                lede_search_opts o = {0};
                o.query = q;
                o.k = k;
                o.offset = offset;
                o.sources = srcs;
                o.nsources = nsrc;
                o.date_from = from;
                o.date_to = to;
                o.sort = sort;
                o.facets = facets > 0;
                o.facets_ignore_sources = facets == 2;
                o.facet_docs = 3;
                lede_results *r;
                lede_err err = {0};
                int rc = lede_search(ix, &o, &r, &err);
                CHECK_MSG(rc == 0, q);
                if (rc)
                    continue;
                uint32_t want = m > offset ? (m - offset < k ? m - offset : k) : 0;
                CHECK_EQ_INT(r->nhits, want);
                int same = r->nhits == want;
                for (uint32_t i = 0; same && i < r->nhits; i++)
                    same = hit_is(&r->hits[i], &sorted[offset + i]);
                char what[256];
                snprintf(what, sizeof what, "%s v%d sort%d facets%d k%u off%u", q, variant, sort,
                         facets, k, offset);
                CHECK_MSG(same, what);
                if (facets || sort) {
                    CHECK_EQ_INT(r->total, m);
                    CHECK(r->total_exact);
                }
                if (facets) {
                    /* Per outlet: count and best by score, ordered by best
                     * score then name. */
                    const ref_hit *pan = facets == 2 ? dated : kept;
                    uint32_t npan = facets == 2 ? md : m;
                    uint32_t count[NSOURCES] = {0};
                    int best[NSOURCES];
                    for (int s = 0; s < NSOURCES; s++)
                        best[s] = -1;
                    for (uint32_t i = 0; i < npan; i++) {
                        if (!pan[i].source[0])
                            continue;
                        int s = atoi(pan[i].source + 7);
                        count[s]++;
                        if (best[s] < 0 || by_score(&pan[i], &pan[best[s]]) < 0)
                            best[s] = (int)i;
                    }
                    uint32_t outlets = 0;
                    for (int s = 0; s < NSOURCES; s++)
                        outlets += count[s] > 0;
                    CHECK_EQ_INT(r->nfacets, outlets);
                    double prev = 1e300;
                    for (uint32_t i = 0; i < r->nfacets; i++) {
                        const lede_facet *f = &r->facets[i];
                        int s = atoi(f->value + 7);
                        CHECK_EQ_INT(f->count, count[s]);
                        CHECK(best[s] >= 0 && hit_is(&f->best, &pan[best[s]]));
                        CHECK(f->best.score <= prev);
                        prev = f->best.score;
                        /* Past facet_docs only the id is fetched. */
                        CHECK((i < 3) == (f->best.doc.title.ptr != NULL));
                    }
                }
                lede_results_free(r);
            }
            free(sorted);
        }
        /* Grouping: each outlet's own top hits, groups ranked by their
         * first hit, k and offset counting groups. */
        for (int sort = 0; sort < 2; sort++) {
            uint32_t per = 1 + rnd(4), k = 1 + rnd(6), offset = rnd(3);
            lede_search_opts o = {0};
            o.query = q;
            o.k = k;
            o.offset = offset;
            o.sources = srcs;
            o.nsources = nsrc;
            o.date_from = from;
            o.date_to = to;
            o.sort = sort;
            o.group_hits = per;
            /* The panel, even one ignoring the outlet filter, leaves groups as they are. */
            o.facets = (int)rnd(2);
            o.facets_ignore_sources = (int)rnd(2);
            lede_results *r;
            lede_err err = {0};
            if (lede_search(ix, &o, &r, &err)) {
                CHECK_MSG(0, err.msg);
                continue;
            }
            ref_hit *sorted = calloc(m + 1, sizeof *sorted);
            memcpy(sorted, kept, m * sizeof *sorted);
            qsort(sorted, m, sizeof *sorted, sort ? by_date : by_score);
            /* Groups in order of first appearance in the sorted list. */
            char seen[NSOURCES + 1][32];
            uint32_t ngroups = 0;
            for (uint32_t i = 0; i < m; i++) {
                int dup = 0;
                for (uint32_t g = 0; g < ngroups; g++)
                    dup |= strcmp(seen[g], sorted[i].source) == 0;
                if (!dup)
                    strcpy(seen[ngroups++], sorted[i].source);
            }
            CHECK_EQ_INT(r->total_groups, ngroups);
            uint32_t first = offset < ngroups ? offset : ngroups;
            uint32_t want = ngroups - first < k ? ngroups - first : k;
            CHECK_EQ_INT(r->ngroups, want);
            CHECK_EQ_INT(r->nhits, 0);
            for (uint32_t g = 0; g < r->ngroups && g < want; g++) {
                const lede_group *gr = &r->groups[g];
                const char *name = seen[first + g];
                CHECK_EQ_STR(gr->value ? gr->value : "", name);
                uint32_t j = 0, total = 0;
                int same = 1;
                for (uint32_t i = 0; i < m; i++) {
                    if (strcmp(sorted[i].source, name) != 0)
                        continue;
                    total++;
                    if (j < per) {
                        same &= j < gr->nhits && hit_is(&gr->hits[j], &sorted[i]);
                        j++;
                    }
                }
                CHECK_EQ_INT(gr->count, total);
                CHECK_EQ_INT(gr->nhits, j);
                CHECK_MSG(same, q);
            }
            free(sorted);
            lede_results_free(r);
        }
        /* Pruned and exhaustive agree under filters too. */
        lede_search_opts o = {0};
        o.query = q;
        o.k = 5;
        o.sources = srcs;
        o.nsources = nsrc;
        o.date_from = from;
        o.date_to = to;
        lede_results *pruned, *full;
        lede_err err = {0};
        if (!lede_search(ix, &o, &pruned, &err)) {
            o.exhaustive = 1;
            if (!lede_search(ix, &o, &full, &err)) {
                int same = pruned->nhits == full->nhits;
                for (uint32_t i = 0; same && i < pruned->nhits; i++)
                    same = pruned->hits[i].docno == full->hits[i].docno &&
                           pruned->hits[i].score == full->hits[i].score;
                CHECK_MSG(same, q);
                lede_results_free(full);
            }
            lede_results_free(pruned);
        }
        free(kept);
        free(dated);
    }
    free(all);
}

static int has_term(const lede_hl_query *t, const char *term, uint32_t phrase)
{
    for (uint32_t i = 0; i < t->nterms; i++)
        if (strcmp(t->terms[i].term, term) == 0 && (phrase == 0) == (t->terms[i].phrase == 0))
            return 1;
    return 0;
}

static void check_highlight_terms(lede_index *ix)
{
    lede_search_opts o = {0};
    o.query = "border \"tax reform\" -wall title:court bud* -\"health care\"";
    o.k = 1;
    lede_results *r;
    lede_err err = {0};
    if (lede_search(ix, &o, &r, &err)) {
        CHECK_MSG(0, err.msg);
        return;
    }
    const lede_hl_query *t = &r->terms;
    CHECK(has_term(t, "border", 0));
    CHECK(has_term(t, "tax", 1));
    CHECK(has_term(t, "reform", 1));
    CHECK(!has_term(t, "wall", 0));
    CHECK(!has_term(t, "health", 1));
    CHECK(has_term(t, "budget", 0));
    CHECK_EQ_INT(t->nphrases, 1);
    for (uint32_t i = 0; i < t->nterms; i++) {
        CHECK(t->terms[i].weight > 0);
        if (strcmp(t->terms[i].term, "court") == 0)
            CHECK_EQ_INT(t->terms[i].fields, LEDE_HL_TITLE);
        if (strcmp(t->terms[i].term, "reform") == 0)
            CHECK_EQ_INT(t->terms[i].phrase_pos, 1);
    }
    lede_results_free(r);
}

static void check_errors_and_budget(lede_index *ix)
{
    lede_search_opts o = {0};
    lede_results *r;
    lede_err err = {0};
    o.query = "border";
    o.sort = 7;
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), LEDE_EINVAL);
    o.sort = 0;
    o.group_hits = 1000;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), LEDE_ELIMIT);
    o.group_hits = 0;
    /* A generous budget changes nothing. */
    o.budget_ms = 60000;
    o.facets = 1;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), 0);
    if (r) {
        CHECK(!r->timed_out);
        CHECK(r->total_exact);
        lede_results_free(r);
    }
    /* An unknown outlet filters everything out. */
    const char *none[] = {"No Such Outlet"};
    o.sources = none;
    o.nsources = 1;
    lede_err_clear(&err);
    CHECK_EQ_INT(lede_search(ix, &o, &r, &err), 0);
    if (r) {
        CHECK_EQ_INT(r->nhits, 0);
        CHECK_EQ_INT(r->nfacets, 0);
        lede_results_free(r);
    }
}

int main(void)
{
    char *dir = test_tmpdir("facets");
    lede_index *ix = build(dir);
    char *pool[NSOURCES + 1];
    for (int i = 0; i < NSOURCES; i++) {
        pool[i] = malloc(32);
        snprintf(pool[i], 32, i % 5 == 0 ? "outlet %02d" : "Outlet %02d", i);
    }
    pool[NSOURCES] = "Nobody";
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++)
        check_query(ix, queries[i], pool);
    check_highlight_terms(ix);
    check_errors_and_budget(ix);
    for (int i = 0; i < NSOURCES; i++)
        free(pool[i]);
    lede_index_free(ix);
    test_rmtree(dir);
    free(dir);
    return tap_done();
}
