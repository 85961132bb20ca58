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
#include "reply_json.h"

typedef struct render {
    lede_analyzer *an;
    const lede_hl_query *terms;
    lede_snippet_opts body_opts, title_opts, passage_opts;
    int failed;
    lede_err err;
} render;

static json_t *fragment_json(const lede_fragment *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "text", json_text(f->text, f->text_len));
    json_object_set_new(o, "html", json_text(f->html, f->html_len));
    json_t *m = json_array();
    for (uint32_t i = 0; i < f->nmatches; i++) {
        json_t *span = json_array();
        json_array_append_new(span, json_integer(f->matches[i].start));
        json_array_append_new(span, json_integer(f->matches[i].end));
        json_array_append_new(m, span);
    }
    json_object_set_new(o, "matches", m);
    return o;
}

/* The snippet of one field; body = 1 adds the fragments one by one. */
static json_t *snippet_json(render *r, int field, const lede_str *text,
                            const lede_snippet_opts *opts, int with_fragments)
{
    if (!text->ptr)
        return json_null();
    lede_snippet *sn = NULL;
    lede_err err = {0};
    if (lede_snippet_make(r->an, r->terms, field, text->ptr, text->len, opts, &sn, &err)) {
        if (!r->failed)
            r->err = err;
        r->failed = 1;
        return json_null();
    }
    json_t *o = fragment_json(&sn->joined);
    json_object_set_new(o, "matched", json_boolean(sn->matched));
    if (with_fragments) {
        json_t *list = json_array();
        for (uint32_t i = 0; i < sn->nfragments; i++)
            json_array_append_new(list, fragment_json(&sn->fragments[i]));
        json_object_set_new(o, "fragments", list);
    }
    lede_snippet_free(sn);
    return o;
}

static json_t *explain_json(const lede_explain *x)
{
    json_t *o = json_object();
    json_object_set_new(o, "N", json_integer((json_int_t)x->N));
    json_object_set_new(o, "avgdl", json_real(x->avgdl));
    json_object_set_new(o, "doc_length", json_integer(x->doc_len));
    json_t *terms = json_array();
    for (uint32_t i = 0; i < x->nterms; i++) {
        const lede_explain_term *t = &x->terms[i];
        json_t *e = json_object();
        json_object_set_new(e, "term", json_text(t->term, strlen(t->term)));
        json_object_set_new(e, "field", json_string(t->field));
        json_object_set_new(e, "tf", json_integer(t->tf));
        json_object_set_new(e, "df", json_integer((json_int_t)t->df));
        json_object_set_new(e, "idf", json_real(t->idf));
        json_object_set_new(e, "score", json_real(t->score));
        json_array_append_new(terms, e);
    }
    json_object_set_new(o, "terms", terms);
    return o;
}

static json_t *hit_json(render *r, const lede_hit *h, const search_params *p)
{
    const lede_stored *d = &h->doc;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_text(d->id.ptr, d->id.len));
    json_object_set_new(o, "score", json_real(h->score));
    json_object_set_new(o, "title", json_text(d->title.ptr, d->title.len));
    json_object_set_new(o, "source", json_text(d->source.ptr, d->source.len));
    json_object_set_new(o, "date", json_text(d->date.ptr, d->date.len));
    json_object_set_new(o, "url", json_text(d->url.ptr, d->url.len));
    json_t *hl = json_object();
    json_object_set_new(hl, "title", snippet_json(r, LEDE_HL_TITLE, &d->title, &r->title_opts, 0));
    if (p->snippets)
        json_object_set_new(hl, "body", snippet_json(r, LEDE_HL_BODY, &d->body, &r->body_opts, 1));
    json_object_set_new(o, "highlights", hl);
    if (h->explain)
        json_object_set_new(o, "explain", explain_json(h->explain));
    return o;
}

static json_t *hits_json(render *r, const lede_hit *hits, uint32_t n, const search_params *p)
{
    json_t *list = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(list, hit_json(r, &hits[i], p));
    return list;
}

static json_t *sources_json(render *r, const lede_results *res, const search_params *p)
{
    json_t *list = json_array();
    for (uint32_t i = 0; i < res->nsources; i++) {
        const lede_source_facet *f = &res->sources[i];
        const lede_stored *d = &f->best.doc;
        json_t *o = json_object();
        json_object_set_new(o, "source", json_text(f->source, strlen(f->source)));
        json_object_set_new(o, "count", json_integer((json_int_t)f->count));
        json_t *best = json_object();
        json_object_set_new(best, "id", json_text(d->id.ptr, d->id.len));
        json_object_set_new(best, "score", json_real(f->best.score));
        if (i < p->source_details) {
            json_object_set_new(best, "title", json_text(d->title.ptr, d->title.len));
            json_object_set_new(best, "date", json_text(d->date.ptr, d->date.len));
            json_object_set_new(best, "url", json_text(d->url.ptr, d->url.len));
            json_object_set_new(best, "title_html",
                                snippet_json(r, LEDE_HL_TITLE, &d->title, &r->title_opts, 0));
            json_object_set_new(best, "passage",
                                snippet_json(r, LEDE_HL_BODY, &d->body, &r->passage_opts, 0));
        }
        json_object_set_new(o, "best", best);
        json_array_append_new(list, o);
    }
    return list;
}

static void syntax_error(reply *rp, const search_params *p, const lede_err *err)
{
    json_t *d = json_object();
    json_object_set_new(d, "parameter", json_string("q"));
    json_object_set_new(d, "position", json_integer(err->at));
    json_object_set_new(d, "query", json_text(p->q, strlen(p->q)));
    reply_error(rp, 400, "query_syntax", d, "%s", err->msg);
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
    o.facet_docs = p.source_details;
    o.group_hits = p.group_source ? p.group_hits : 0;
    o.budget_ms = a->cfg.time_budget_ms;
    lede_results *res = NULL;
    lede_err err = {0};
    int rc = lede_search(s->ix, &o, &res, &err);
    if (rc == LEDE_ESYNTAX) {
        syntax_error(rp, &p, &err);
    } else if (rc == LEDE_ELIMIT || rc == LEDE_EINVAL) {
        reply_error(rp, 400, "limit_exceeded", NULL, "%s", err.msg);
    } else if (rc) {
        reply_error(rp, 500, "internal", NULL, "%s", err.msg[0] ? err.msg : lede_rc_text(rc));
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
        json_t *top = json_object();
        json_object_set_new(top, "query", json_text(p.q, strlen(p.q)));
        json_object_set_new(top, "took_ms", json_real(0));
        json_object_set_new(top, "total", json_integer((json_int_t)res->total));
        json_object_set_new(top, "total_exact", json_boolean(res->total_exact));
        json_object_set_new(top, "timed_out", json_boolean(res->timed_out));
        json_object_set_new(top, "offset", json_integer(p.offset));
        json_object_set_new(top, "k", json_integer(p.k));
        json_object_set_new(top, "sort", json_string(p.sort_date ? "date" : "relevance"));
        if (!r.an) {
            r.failed = 1;
        } else if (p.group_source) {
            json_t *groups = json_array();
            for (uint32_t i = 0; i < res->ngroups; i++) {
                const lede_group *g = &res->groups[i];
                json_t *go = json_object();
                json_object_set_new(go, "source",
                                    g->source ? json_text(g->source, strlen(g->source)) : json_null());
                json_object_set_new(go, "count", json_integer((json_int_t)g->count));
                json_object_set_new(go, "hits", hits_json(&r, g->hits, g->nhits, &p));
                json_array_append_new(groups, go);
            }
            json_object_set_new(top, "total_groups", json_integer((json_int_t)res->total_groups));
            json_object_set_new(top, "groups", groups);
        } else {
            json_object_set_new(top, "hits", hits_json(&r, res->hits, res->nhits, &p));
        }
        if (p.facets && !r.failed) {
            json_object_set_new(top, "total_sources", json_integer(res->nsources));
            json_object_set_new(top, "sources", sources_json(&r, res, &p));
        }
        if (r.failed) {
            json_decref(top);
            reply_error(rp, 500, "internal", NULL, "cannot make snippets: %s", r.err.msg);
        } else {
            json_object_set_new(top, "took_ms",
                                json_real((double)(long)((app_now() * 1e6 - rq->started_us) + 0.5) / 1000.0));
            reply_json(rp, 200, top);
        }
    }
    lede_results_free(res);
    snapshot_release(s);
}
