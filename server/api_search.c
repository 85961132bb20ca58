/* api_search.c: GET/POST /search: parameters in, lede_search with the
 * filters, order and grouping asked for, then the reply: hits with their
 * title and body highlights, and the per-outlet panel ("sources"): every
 * outlet among the matches with its count and best hit, the first ones
 * with that hit's highlighted passage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "lede/highlight.h"
#include "lede/search.h"
#include "params.h"
#include "json_writer.h"
#include "reply_json.h"

typedef struct render {
    lede_analyzer *an;
    const lede_hl_query *terms;
    lede_snippet_opts body_opts, title_opts, passage_opts;
    int failed;
    lede_err err;
} render;

static void fragment_json(jw *w, const lede_fragment *f, int matched)
{
    jw_obj(w);
    jw_key(w, "text");
    jw_str(w, f->text, f->text_len);
    jw_key(w, "html");
    jw_str(w, f->html, f->html_len);
    jw_key(w, "matches");
    jw_arr(w);
    for (uint32_t i = 0; i < f->nmatches; i++) {
        jw_arr(w);
        jw_int(w, f->matches[i].start);
        jw_int(w, f->matches[i].end);
        jw_end_arr(w);
    }
    jw_end_arr(w);
    if (matched >= 0) {
        jw_key(w, "matched");
        jw_bool(w, matched);
    }
}

/* The snippet of one field, as a value; with_fragments adds them one by one. */
static void snippet_json(jw *w, render *r, int field, const lede_str *text,
                         const lede_snippet_opts *opts, int with_fragments)
{
    if (!text->ptr) {
        jw_null(w);
        return;
    }
    lede_snippet *sn = NULL;
    lede_err err = {0};
    if (lede_snippet_make(r->an, r->terms, field, text->ptr, text->len, opts, &sn, &err)) {
        if (!r->failed)
            r->err = err;
        r->failed = 1;
        jw_null(w);
        return;
    }
    fragment_json(w, &sn->joined, sn->matched);
    if (with_fragments) {
        jw_key(w, "fragments");
        jw_arr(w);
        for (uint32_t i = 0; i < sn->nfragments; i++) {
            fragment_json(w, &sn->fragments[i], -1);
            jw_end_obj(w);
        }
        jw_end_arr(w);
    }
    jw_end_obj(w);
    lede_snippet_free(sn);
}

static void explain_json(jw *w, const lede_explain *x)
{
    jw_obj(w);
    jw_key(w, "N");
    jw_int(w, (long long)x->N);
    jw_key(w, "avgdl");
    jw_real(w, x->avgdl);
    jw_key(w, "doc_length");
    jw_int(w, x->doc_len);
    jw_key(w, "terms");
    jw_arr(w);
    for (uint32_t i = 0; i < x->nterms; i++) {
        const lede_explain_term *t = &x->terms[i];
        jw_obj(w);
        jw_key(w, "term");
        jw_cstr(w, t->term);
        jw_key(w, "field");
        jw_cstr(w, t->field);
        jw_key(w, "tf");
        jw_int(w, t->tf);
        jw_key(w, "df");
        jw_int(w, (long long)t->df);
        jw_key(w, "idf");
        jw_real(w, t->idf);
        jw_key(w, "score");
        jw_real(w, t->score);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_end_obj(w);
}

/* The stored fields of d that have a flag of want (lede/schema.h), in the
 * schema's order, except the field of ordinal skip (-1: none). */
static void fields_json(jw *w, const lede_stored *d, unsigned want, int skip)
{
#define FIELD_JSON(member, key, ord, flags)          \
    if (((flags) & want) && (ord) != skip) {         \
        jw_key(w, key);                              \
        jw_str(w, d->member.ptr, d->member.len);     \
    }
    LEDE_SCHEMA_FIELDS(FIELD_JSON)
#undef FIELD_JSON
}

/* A hit: the key (id), the score, the summary fields; the body only as
 * highlights. */
static void hit_json(jw *w, render *r, const lede_hit *h, const search_params *p)
{
    const lede_stored *d = &h->doc;
    jw_obj(w);
    fields_json(w, d, LEDE_SCHEMA_KEY, -1);
    jw_key(w, "score");
    jw_real(w, h->score);
    fields_json(w, d, LEDE_SCHEMA_SUMMARY, -1);
    jw_key(w, "highlights");
    jw_obj(w);
    jw_key(w, "title");
    snippet_json(w, r, LEDE_HL_TITLE, &d->title, &r->title_opts, 0);
    if (p->snippets) {
        jw_key(w, "body");
        snippet_json(w, r, LEDE_HL_BODY, &d->body, &r->body_opts, 1);
    }
    jw_end_obj(w);
    if (h->explain) {
        jw_key(w, "explain");
        explain_json(w, h->explain);
    }
    jw_end_obj(w);
}

static void hits_json(jw *w, render *r, const lede_hit *hits, uint32_t n, const search_params *p)
{
    jw_arr(w);
    for (uint32_t i = 0; i < n; i++)
        hit_json(w, r, &hits[i], p);
    jw_end_arr(w);
}

static void sources_json(jw *w, render *r, const lede_results *res, const search_params *p)
{
    jw_arr(w);
    for (uint32_t i = 0; i < res->nfacets; i++) {
        const lede_facet *f = &res->facets[i];
        const lede_stored *d = &f->best.doc;
        jw_obj(w);
        jw_key(w, "source");
        jw_cstr(w, f->value);
        jw_key(w, "count");
        jw_int(w, (long long)f->count);
        jw_key(w, "best");
        jw_obj(w);
        fields_json(w, d, LEDE_SCHEMA_KEY, -1);
        jw_key(w, "score");
        jw_real(w, f->best.score);
        if (i < p->source_details) {
            /* the facet names the outlet already */
            fields_json(w, d, LEDE_SCHEMA_SUMMARY, LEDE_FIELD_ORD_source);
            jw_key(w, "title_html");
            snippet_json(w, r, LEDE_HL_TITLE, &d->title, &r->title_opts, 0);
            jw_key(w, "passage");
            snippet_json(w, r, LEDE_HL_BODY, &d->body, &r->passage_opts, 0);
        }
        jw_end_obj(w);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

void api_search(app *a, request *rq, reply *rp)
{
    if (strcmp(rq->method, "POST") == 0) {
        if (rq->body_too_large) {
            json_t *d = json_object();
            json_object_set_new(d, "limit", json_integer(a->cfg.max_body_bytes));
            reply_error(rp, 413, "body_too_large", d, "the request body is over %u bytes",
                        a->cfg.max_body_bytes);
            return;
        }
        const char *ct = rq->content_type;
        size_t i = 0;
        while (i < rq->body_len && (rq->body[i] == ' ' || rq->body[i] == '\t' ||
                                    rq->body[i] == '\r' || rq->body[i] == '\n'))
            i++;
        int looks_json = i < rq->body_len && rq->body[i] == '{';
        char msg[256];
        /* curl -d sends a JSON body as a form: the body's shape decides. */
        if (!looks_json && ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
            if (request_parse_form(rq, rq->body, rq->body_len, msg, sizeof msg)) {
                reply_error(rp, 400, "bad_request", NULL, "%s", msg);
                return;
            }
        } else if (params_from_json(rq, rp)) {
            return;
        }
    }
    search_params p;
    if (params_parse(rq, &a->cfg, &p, rp))
        return;
    snapshot *s = snapshot_acquire(&a->snaps);
    lede_search_opts o = {0};
    o.query = p.q;
    o.k = p.k;
    o.offset = p.offset;
    o.explain = p.explain;
    o.k1 = a->cfg.k1;
    o.b = a->cfg.b;
    o.b_set = 1;
    o.with_body = p.snippets > 0 || (p.facets && p.source_details > 0);
    o.sources = p.sources;
    o.nsources = p.nsources;
    o.date_from = p.from;
    o.date_to = p.to;
    o.sort = p.sort_date ? LEDE_SORT_DATE : LEDE_SORT_RELEVANCE;
    o.facets = p.facets;
    o.facets_ignore_sources = p.panel_all;
    o.facet_docs = p.source_details;
    o.group_hits = p.group_source ? p.group_hits : 0;
    o.budget_ms = a->cfg.time_budget_ms;
    lede_results *res = NULL;
    lede_err err = {0};
    int rc = lede_search(s->ix, &o, &res, &err);
    if (rc) {
        /* A syntax error names the query and the byte in it. */
        json_t *d = NULL;
        if (rc == LEDE_ESYNTAX) {
            d = json_object();
            json_object_set_new(d, "parameter", json_string("q"));
            json_object_set_new(d, "position", json_integer(err.at));
            json_object_set_new(d, "query", json_text(p.q, strlen(p.q)));
        }
        reply_lede_error(rp, rc, &err, d);
    } else {
        render r = {0};
        r.an = lede_index_analyzer(s->ix, &r.err);
        r.terms = &res->terms;
        lede_snippet_opts base = {0};
        base.pre_tag = a->cfg.pre_tag;
        base.post_tag = a->cfg.post_tag;
        r.body_opts = r.title_opts = r.passage_opts = base;
        r.body_opts.fragments = p.snippets;
        r.body_opts.chars = p.snippet_chars;
        r.title_opts.whole = 1;
        r.passage_opts.fragments = 1;
        r.passage_opts.chars = p.snippet_chars;
        jw w;
        jw_init(&w, 64 * 1024);
        jw_obj(&w);
        jw_key(&w, "query");
        jw_cstr(&w, p.q);
        /* took_ms is known only once the reply is written: a blank
         * placeholder (valid JSON whitespace) is filled in at the end. */
        jw_key(&w, "took_ms");
        size_t took_at = jw_placeholder(&w, 16);
        jw_key(&w, "total");
        jw_int(&w, (long long)res->total);
        jw_key(&w, "total_exact");
        jw_bool(&w, res->total_exact);
        jw_key(&w, "timed_out");
        jw_bool(&w, res->timed_out);
        jw_key(&w, "offset");
        jw_int(&w, p.offset);
        jw_key(&w, "k");
        jw_int(&w, p.k);
        jw_key(&w, "sort");
        jw_cstr(&w, p.sort_date ? "date" : "relevance");
        if (!r.an) {
            r.failed = 1;
        } else if (p.group_source) {
            jw_key(&w, "total_groups");
            jw_int(&w, (long long)res->total_groups);
            jw_key(&w, "groups");
            jw_arr(&w);
            for (uint32_t i = 0; i < res->ngroups; i++) {
                const lede_group *g = &res->groups[i];
                jw_obj(&w);
                jw_key(&w, "source");
                jw_cstr(&w, g->value);
                jw_key(&w, "count");
                jw_int(&w, (long long)g->count);
                jw_key(&w, "hits");
                hits_json(&w, &r, g->hits, g->nhits, &p);
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
        } else {
            jw_key(&w, "hits");
            hits_json(&w, &r, res->hits, res->nhits, &p);
        }
        if (p.facets && !r.failed) {
            jw_key(&w, "total_sources");
            jw_int(&w, res->nfacets);
            jw_key(&w, "sources");
            sources_json(&w, &r, res, &p);
        }
        jw_end_obj(&w);
        double took_ms = (double)(long)((app_now() * 1e6 - rq->started_us) + 0.5) / 1000.0;
        jw_patch_real(&w, took_at, 16, took_ms);
        size_t len = 0;
        char *body = jw_finish(&w, &len);
        if (r.failed) {
            free(body);
            lede_err e;
            lede_err_clear(&e);
            lede_err_set(&e, r.err.rc, "cannot make snippets: %s", r.err.msg);
            reply_lede_error(rp, r.err.rc, &e, NULL);
        } else if (!body) {
            reply_lede_error(rp, LEDE_ENOMEM, NULL, NULL);
        } else {
            reply_clear(rp);
            rp->status = 200;
            rp->content_type = "application/json";
            rp->body = body;
            rp->len = len;
        }
    }
    lede_results_free(res);
    snapshot_release(s);
}
