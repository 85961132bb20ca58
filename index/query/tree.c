/* tree.c: query trees built through include/lede/query.h (for callers that
 * have no query string: an Elasticsearch-style DSL, a shard coordinator)
 * and their translation into the parser's AST when a search runs. Nodes
 * live in the tree's arena; leaf text is analyzed at translation with the
 * searched index's analyzer, through the parser's own leaf builders, so a
 * tree and the equivalent string give the same AST. Calls base/ and
 * qparse.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "query/query_int.h"

struct lede_query_tree {
    lede_arena *a;
};

static const char *const column_names[LEDE_NCOLUMNS] = {"source"};

int lede_column_by_name(const char *name)
{
    for (int i = 0; name && i < LEDE_NCOLUMNS; i++)
        if (strcmp(name, column_names[i]) == 0)
            return i;
    return -1;
}

const char *lede_column_name(int column)
{
    return column >= 0 && column < LEDE_NCOLUMNS ? column_names[column] : NULL;
}

lede_query_tree *lede_query_tree_new(void)
{
    lede_query_tree *t = calloc(1, sizeof *t);
    if (t && !(t->a = lede_arena_new(8 * 1024))) {
        free(t);
        return NULL;
    }
    return t;
}

void lede_query_tree_free(lede_query_tree *t)
{
    if (!t)
        return;
    lede_arena_free(t->a);
    free(t);
}

static lede_query *node(lede_query_tree *t, int kind, const char *text, size_t len)
{
    if (!t)
        return NULL;
    lede_query *q = lede_arena_zalloc(t->a, sizeof *q);
    if (!q)
        return NULL;
    q->tree = t;
    q->kind = kind;
    q->boost = 1.0;
    if (text || len) {
        if (!text || !(q->text = lede_arena_strndup(t->a, text, len)))
            return NULL;
        q->len = len;
    }
    return q;
}

static uint8_t field_of(lede_field f)
{
    return f == LEDE_FIELD_TITLE || f == LEDE_FIELD_BODY ? (uint8_t)f : LEDE_FIELD_ALL;
}

lede_query *lede_query_match(lede_query_tree *t, lede_field field, const char *text, size_t len,
                             int all_required)
{
    lede_query *q = node(t, QB_MATCH, text ? text : "", text ? len : 0);
    if (q) {
        q->field = field_of(field);
        q->flag = all_required != 0;
    }
    return q;
}

lede_query *lede_query_term(lede_query_tree *t, lede_field field, const char *term, size_t len)
{
    lede_query *q = node(t, QB_TERM, term ? term : "", term ? len : 0);
    if (q)
        q->field = field_of(field);
    return q;
}

lede_query *lede_query_phrase(lede_query_tree *t, lede_field field, const char *text, size_t len)
{
    lede_query *q = node(t, QB_PHRASE, text ? text : "", text ? len : 0);
    if (q)
        q->field = field_of(field);
    return q;
}

lede_query *lede_query_prefix(lede_query_tree *t, lede_field field, const char *word, size_t len)
{
    lede_query *q = node(t, QB_PREFIX, word ? word : "", word ? len : 0);
    if (q)
        q->field = field_of(field);
    return q;
}

lede_query *lede_query_keyword(lede_query_tree *t, lede_column column, const char *value,
                               size_t len)
{
    if ((int)column < 0 || column >= LEDE_NCOLUMNS)
        return NULL;
    lede_query *q = node(t, QB_KEYWORD, value ? value : "", value ? len : 0);
    if (q)
        q->column = (uint8_t)column;
    return q;
}

lede_query *lede_query_date_range(lede_query_tree *t, int32_t from, int32_t to)
{
    lede_query *q = node(t, QB_DATE, NULL, 0);
    if (q) {
        q->lo = from > 0 ? from : LEDE_DATE_MIN;
        q->hi = to > 0 ? to : LEDE_DATE_MAX;
    }
    return q;
}

lede_query *lede_query_all(lede_query_tree *t)
{
    return node(t, QB_ALL, NULL, 0);
}

lede_query *lede_query_string(lede_query_tree *t, const char *text, size_t len, int plain)
{
    lede_query *q = node(t, QB_STRING, text ? text : "", text ? len : 0);
    if (q)
        q->flag = plain != 0;
    return q;
}

lede_query *lede_query_bool(lede_query_tree *t)
{
    return node(t, QB_BOOL, NULL, 0);
}

int lede_query_add(lede_query *parent, lede_occur occur, lede_query *child)
{
    if (!parent || !child || parent->kind != QB_BOOL || child->tree != parent->tree ||
        child == parent || (int)occur < LEDE_MUST || occur > LEDE_FILTER)
        return LEDE_EINVAL;
    if (parent->nkids == parent->cap) {
        uint32_t cap = parent->cap ? 2 * parent->cap : 4;
        lede_query **kids = lede_arena_alloc(parent->tree->a, cap * sizeof *kids);
        uint8_t *occ = lede_arena_alloc(parent->tree->a, cap);
        if (!kids || !occ)
            return LEDE_ENOMEM;
        if (parent->nkids) {
            memcpy(kids, parent->kids, parent->nkids * sizeof *kids);
            memcpy(occ, parent->occur, parent->nkids);
        }
        parent->kids = kids;
        parent->occur = occ;
        parent->cap = cap;
    }
    parent->kids[parent->nkids] = child;
    parent->occur[parent->nkids++] = (uint8_t)occur;
    return 0;
}

int lede_query_set_boost(lede_query *q, double boost)
{
    if (!q || !(boost > 0) || !isfinite(boost))
        return LEDE_EINVAL;
    q->boost = boost;
    return 0;
}

/* ------------------------------------------------------------ translation */

/* Trees nest as deep as the parser allows parentheses, so a hostile DSL
 * request cannot exhaust the stack. */
#define MAX_TREE_DEPTH 64

static lede_qnode *new_ast(lede_arena *a, lede_qkind kind)
{
    lede_qnode *n = lede_arena_zalloc(a, sizeof *n);
    if (n) {
        n->kind = kind;
        n->boost = 1;
    }
    return n;
}

static void scale(lede_qnode *n, double boost)
{
    if (boost == 1.0)
        return;
    if (n->kind == Q_BOOL) {
        for (uint32_t i = 0; i < n->nmust; i++)
            scale(n->must[i], boost);
        for (uint32_t i = 0; i < n->nshould; i++)
            scale(n->should[i], boost);
    } else {
        n->boost = (float)((n->boost > 0 ? n->boost : 1.0) * boost);
    }
}

static void set_field(lede_qnode *n, uint8_t field)
{
    if (n->kind == Q_BOOL) {
        for (uint32_t i = 0; i < n->nmust; i++)
            set_field(n->must[i], field);
        for (uint32_t i = 0; i < n->nshould; i++)
            set_field(n->should[i], field);
    } else if (n->kind == Q_TERM || n->kind == Q_PHRASE || n->kind == Q_PREFIX) {
        n->field = field;
    }
}

static int translate(lede_arena *a, lede_analyzer *an, const lede_query *q, int depth,
                     lede_qnode **out, lede_err *err);

static int translate_bool(lede_arena *a, lede_analyzer *an, const lede_query *q, int depth,
                          lede_qnode **out, lede_err *err)
{
    lede_qnode *b = new_ast(a, Q_BOOL);
    uint32_t n = q->nkids;
    lede_qnode **must = lede_arena_zalloc(a, (n + 1) * sizeof *must);
    lede_qnode **should = lede_arena_zalloc(a, (n ? n : 1) * sizeof *should);
    lede_qnode **not = lede_arena_zalloc(a, (n ? n : 1) * sizeof *not);
    if (!b || !must || !should || !not)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    b->must = must;
    b->should = should;
    b->must_not = not;
    for (uint32_t i = 0; i < n; i++) {
        lede_qnode *kid;
        int rc = translate(a, an, q->kids[i], depth + 1, &kid, err);
        if (rc)
            return rc;
        switch (q->occur[i]) {
        case LEDE_MUST:
            must[b->nmust++] = kid;
            break;
        case LEDE_FILTER:
            kid->no_score = 1;
            must[b->nmust++] = kid;
            break;
        case LEDE_SHOULD:
            should[b->nshould++] = kid;
            break;
        default:
            not[b->nmust_not++] = kid;
            break;
        }
    }
    /* Only negations: everything but them, as the parser reads "-a -b". */
    if (b->nmust_not && !b->nmust && !b->nshould) {
        lede_qnode *all = new_ast(a, Q_ALL);
        if (!all)
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        must[b->nmust++] = all;
    }
    *out = b;
    return 0;
}

static int translate(lede_arena *a, lede_analyzer *an, const lede_query *q, int depth,
                     lede_qnode **out, lede_err *err)
{
    *out = NULL;
    if (depth > MAX_TREE_DEPTH)
        return lede_err_set(err, LEDE_ELIMIT, "query tree nested deeper than %d levels",
                            MAX_TREE_DEPTH);
    int rc = 0;
    lede_qnode *n = NULL;
    switch (q->kind) {
    case QB_MATCH: {
        /* The parser refuses an empty query; an empty match matches nothing. */
        int blank = 1;
        for (size_t i = 0; i < q->len && blank; i++)
            blank = q->text[i] == ' ' || q->text[i] == '\t' || q->text[i] == '\r' ||
                    q->text[i] == '\n';
        if (blank) {
            n = new_ast(a, Q_BOOL);
            break;
        }
        if ((rc = lede_qparse(a, an, q->text, q->len, 1, &n, err)))
            return rc;
        set_field(n, q->field);
        if (q->flag && n->kind == Q_BOOL && n->nshould && !n->nmust) {
            n->must = n->should;
            n->nmust = n->nshould;
            n->should = NULL;
            n->nshould = 0;
        }
        break;
    }
    case QB_TERM: {
        char **terms = lede_arena_alloc(a, sizeof *terms);
        n = new_ast(a, Q_TERM);
        if (!n || !terms || !(terms[0] = lede_arena_strndup(a, q->text, q->len)))
            return lede_err_set(err, LEDE_ENOMEM, "out of memory");
        n->field = q->field;
        n->terms = terms;
        n->nterms = 1;
        break;
    }
    case QB_PHRASE:
        if ((rc = lede_qparse_text(a, an, q->field, q->text, q->len, &n, err)))
            return rc;
        break;
    case QB_PREFIX:
        if ((rc = lede_qparse_prefix(a, an, q->field, q->text, q->len, &n, err)))
            return rc;
        break;
    case QB_KEYWORD:
        if ((n = new_ast(a, Q_KEYWORD))) {
            n->column = q->column;
            if (!(n->value = lede_arena_strndup(a, q->text, q->len)))
                n = NULL;
        }
        break;
    case QB_DATE:
        if ((n = new_ast(a, Q_DATE))) {
            n->date_lo = q->lo;
            n->date_hi = q->hi;
        }
        break;
    case QB_ALL:
        n = new_ast(a, Q_ALL);
        break;
    case QB_STRING:
        if ((rc = lede_qparse(a, an, q->text, q->len, q->flag, &n, err)))
            return rc;
        break;
    case QB_BOOL:
        if ((rc = translate_bool(a, an, q, depth, &n, err)))
            return rc;
        break;
    default:
        return lede_err_set(err, LEDE_EINVAL, "unknown query node kind %d", q->kind);
    }
    if (!n)
        return lede_err_set(err, LEDE_ENOMEM, "out of memory");
    scale(n, q->boost);
    *out = n;
    return 0;
}

int lede_query_to_ast(lede_arena *a, lede_analyzer *an, const lede_query *q, lede_qnode **out,
                      lede_err *err)
{
    if (!q)
        return lede_err_set(err, LEDE_EINVAL, "no query tree");
    return translate(a, an, q, 0, out, err);
}
