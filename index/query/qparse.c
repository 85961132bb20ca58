/* qparse.c: the query language. lede_qparse turns a query string into the
 * lede_qnode tree the searcher runs (every node in the caller's arena), and
 * lede_qnode_dump renders such a tree as an S-expression for the tests and
 * for --explain. docs/QUERY.md is the users' reference of the syntax; this
 * header is the reference of the dump, which tests compare byte for byte:
 *
 *   (term FIELD "t")                 FIELD is all, title or body
 *   (phrase FIELD "t0" 0 "t1" 2)     each term followed by its relative position
 *   (prefix FIELD "p")              or (prefix FIELD "p" "stem"): prefix p, plus the exact stem
 *   (source "Value")
 *   (date LO HI)                     inclusive yyyymmdd; open ends are 10101 and 99991231
 *   (all)
 *   (bool (must ..) (must_not ..) (should ..))   empty lists left out; "(bool)"
 *                                    is the empty query that matches nothing
 *
 * Children are separated by one space. A boost other than 1 is written just
 * before the node's closing parenthesis as " ^2" (printf %g). In strings,
 * '"' and '\' are escaped with a backslash and bytes below 0x20 and 0x7f
 * as \xNN; every other byte (UTF-8 included) is written as it is.
 *
 * The parser is a recursive descent over a one-token lookahead. Precedence,
 * tightest first: + - NOT, then AND, then OR, then juxtaposition (a clause
 * list). Only groups recurse without bound in the grammar, and their depth
 * is capped, so a hostile query cannot exhaust the stack; every read of the
 * query is checked against its length, never against a NUL. */
#include <stdio.h>
#include <string.h>

#include "query/query_int.h"

#define QPARSE_MAX_LEN 4096
#define QPARSE_MAX_DEPTH 32
#define QPARSE_MIN_PREFIX 2
/* Open ends of a date range: the first and last days a date can name
 * (lede/date.h). The low end is not 0 because 0 is how a document without a
 * date is stored, and "date<2017" must not match those. */
#define DATE_OPEN_LO LEDE_DATE_MIN
#define DATE_OPEN_HI LEDE_DATE_MAX

typedef enum tok_kind {
    TOK_END,
    TOK_WORD,
    TOK_PHRASE,   /* start is the opening quote, end is one past the closing one */
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_PLUS,
    TOK_MINUS,
    TOK_AND,
    TOK_OR,
    TOK_NOT,
} tok_kind;

typedef struct qtoken {
    tok_kind kind;
    uint32_t start, end;
} qtoken;

typedef struct qparser {
    lede_arena *arena;
    lede_analyzer *an;
    const char *q;
    uint32_t len;
    uint32_t scan_pos;   /* where the token after the lookahead starts scanning */
    qtoken tok;          /* the lookahead */
    int depth;           /* open parentheses */
    lede_err *err;
} qparser;

/* How a clause joins its clause list: '+' must, '-' / NOT must_not. */
typedef enum polarity { POL_PLAIN, POL_MUST, POL_NOT } polarity;

typedef struct clause {
    lede_qnode *node;    /* NULL: the clause analyzed to nothing and is dropped */
    polarity pol;
    uint32_t at;         /* its first byte, modifiers included */
} clause;

/* A list of nodes growing inside the arena; the old array is simply left
 * behind when it grows, which a per-query arena can afford. */
typedef struct nodevec {
    lede_qnode **v;
    uint32_t n, cap;
} nodevec;

/* ------------------------------------------------------------ helpers */

static int oom(qparser *p)
{
    return lede_err_set(p->err, LEDE_ENOMEM, "out of memory while parsing the query");
}

static int syntax_error(qparser *p, uint32_t at, const char *what)
{
    return lede_err_set_at(p->err, LEDE_ESYNTAX, (long)at, "%s", what);
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes that end a word. Everything else, '+' '-' ':' '*' included, may sit
 * inside one, so "e-mail", "10:30" and "U.S.-Mexico" stay single words. */
static bool ends_word(unsigned char c)
{
    return is_space(c) || c == '(' || c == ')' || c == '"';
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static lede_qnode *new_node(qparser *p, lede_qkind kind, uint8_t field, uint32_t at)
{
    lede_qnode *n = lede_arena_zalloc(p->arena, sizeof *n);
    if (n) {
        n->kind = kind;
        n->field = field;
        n->at = at;
        n->boost = 1.0f;
    }
    return n;
}

static int vec_push(qparser *p, nodevec *v, lede_qnode *n)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        lede_qnode **grown = lede_arena_alloc(p->arena, cap * sizeof *grown);
        if (!grown)
            return oom(p);
        if (v->n)
            memcpy(grown, v->v, v->n * sizeof *grown);
        v->v = grown;
        v->cap = cap;
    }
    v->v[v->n++] = n;
    return 0;
}

static int vec_push_all(qparser *p, nodevec *v, lede_qnode **nodes, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int rc = vec_push(p, v, nodes[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ lexer */

/* Scans the token after the current one into p->tok. The only lexical
 * error is a quote left open. */
static int advance(qparser *p)
{
    const char *q = p->q;
    uint32_t i = p->scan_pos, len = p->len;
    while (i < len && is_space((unsigned char)q[i]))
        i++;
    qtoken t = {TOK_END, i, i};
    if (i < len) {
        switch (q[i]) {
        case '(': t.kind = TOK_LPAREN; t.end = i + 1; break;
        case ')': t.kind = TOK_RPAREN; t.end = i + 1; break;
        case '+': t.kind = TOK_PLUS; t.end = i + 1; break;
        case '-': t.kind = TOK_MINUS; t.end = i + 1; break;
        case '"': {
            const char *close = memchr(q + i + 1, '"', len - i - 1);
            if (!close)
                return syntax_error(p, i, "unterminated quote: expected a closing '\"'");
            t.kind = TOK_PHRASE;
            t.end = (uint32_t)(close - q) + 1;
            break;
        }
        default: {
            uint32_t e = i;
            while (e < len && !ends_word((unsigned char)q[e]))
                e++;
            t.kind = TOK_WORD;
            t.end = e;
            uint32_t n = e - i;
            /* Only the uppercase spellings are operators: "rock and roll"
             * is a search for three words. */
            if (n == 3 && memcmp(q + i, "AND", 3) == 0)
                t.kind = TOK_AND;
            else if (n == 2 && memcmp(q + i, "OR", 2) == 0)
                t.kind = TOK_OR;
            else if (n == 3 && memcmp(q + i, "NOT", 3) == 0)
                t.kind = TOK_NOT;
            break;
        }
        }
    }
    p->tok = t;
    p->scan_pos = t.end;
    return 0;
}

static bool starts_clause(tok_kind k)
{
    return k == TOK_WORD || k == TOK_PHRASE || k == TOK_LPAREN || k == TOK_PLUS ||
           k == TOK_MINUS || k == TOK_NOT;
}

static const char *op_name(tok_kind k)
{
    switch (k) {
    case TOK_PLUS: return "'+'";
    case TOK_MINUS: return "'-'";
    case TOK_AND: return "AND";
    case TOK_OR: return "OR";
    case TOK_NOT: return "NOT";
    default: return "operator";
    }
}

/* An operator needs a clause after it; reports the operator, not the end,
 * since that is what the user has to fix. */
static int expect_clause_after(qparser *p, const qtoken *op)
{
    if (starts_clause(p->tok.kind))
        return 0;
    char what[96];
    snprintf(what, sizeof what, "expected a word, a phrase or '(' after %s", op_name(op->kind));
    return syntax_error(p, op->start, what);
}

/* ------------------------------------------------------------ analysis */

typedef struct token_list {
    lede_arena *arena;
    char **terms;
    uint32_t *pos;
    uint32_t *start;     /* byte offset in the analyzed text */
    uint32_t *end;
    uint32_t n, cap;
} token_list;

static int collect_token(void *ctx, const lede_token *t)
{
    token_list *l = ctx;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        char **terms = lede_arena_alloc(l->arena, cap * sizeof *terms);
        uint32_t *pos = lede_arena_alloc(l->arena, cap * sizeof *pos);
        uint32_t *start = lede_arena_alloc(l->arena, cap * sizeof *start);
        uint32_t *end = lede_arena_alloc(l->arena, cap * sizeof *end);
        if (!terms || !pos || !start || !end)
            return LEDE_ENOMEM;
        if (l->n) {
            memcpy(terms, l->terms, l->n * sizeof *terms);
            memcpy(pos, l->pos, l->n * sizeof *pos);
            memcpy(start, l->start, l->n * sizeof *start);
            memcpy(end, l->end, l->n * sizeof *end);
        }
        l->terms = terms;
        l->pos = pos;
        l->start = start;
        l->end = end;
        l->cap = cap;
    }
    char *term = lede_arena_strndup(l->arena, t->term, t->term_len);
    if (!term)
        return LEDE_ENOMEM;
    l->terms[l->n] = term;
    l->pos[l->n] = t->pos;
    l->start[l->n] = t->start;
    l->end[l->n] = t->end;
    l->n++;
    return 0;
}

/* Analyzes q[s, e); *npos (may be NULL) gets the number of word positions
 * used, stop words included. */
static int analyze_range(qparser *p, uint32_t s, uint32_t e, token_list *out, uint32_t *npos)
{
    memset(out, 0, sizeof *out);
    out->arena = p->arena;
    uint32_t next = 0;
    int rc = lede_analyze(p->an, p->q + s, e - s, 0, collect_token, out, &next);
    if (rc == LEDE_ENOMEM)
        return oom(p);
    if (rc != 0)
        return lede_err_set(p->err, rc < 0 ? rc : LEDE_EINVAL, "analyzing the query failed: %s",
                            lede_rc_text(rc));
    if (npos)
        *npos = next;
    return 0;
}

/* The analyzed words of a bare word or a quoted phrase: nothing (NULL), a
 * TERM, or a PHRASE keeping the analyzer's gaps. */
static int text_node(qparser *p, uint8_t field, uint32_t at, uint32_t s, uint32_t e,
                     lede_qnode **out)
{
    token_list toks;
    int rc = analyze_range(p, s, e, &toks, NULL);
    if (rc)
        return rc;
    *out = NULL;
    if (toks.n == 0)
        return 0;
    lede_qnode *n = new_node(p, toks.n == 1 ? Q_TERM : Q_PHRASE, field, at);
    if (!n)
        return oom(p);
    n->terms = toks.terms;
    n->nterms = toks.n;
    if (toks.n > 1) {
        n->term_pos = toks.pos;
        uint32_t first = toks.pos[0];
        for (uint32_t i = 0; i < toks.n; i++)
            n->term_pos[i] -= first;
    }
    *out = n;
    return 0;
}

/* ------------------------------------------------------------ bool building */

static bool is_scoring(const lede_qnode *n)
{
    switch (n->kind) {
    case Q_TERM:
    case Q_PHRASE:
    case Q_PREFIX:
        return true;
    case Q_BOOL:
        for (uint32_t i = 0; i < n->nmust; i++)
            if (is_scoring(n->must[i]))
                return true;
        for (uint32_t i = 0; i < n->nshould; i++)
            if (is_scoring(n->should[i]))
                return true;
        return false;
    default:
        return false;
    }
}

static bool any_scoring(const nodevec *v)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (is_scoring(v->v[i]))
            return true;
    return false;
}

/* Builds a normalized BOOL from its three lists, or the one node it reduces
 * to, or NULL when all three are empty. Children were built the same way,
 * so flattening one level is enough:
 *  - a must child without should clauses adds its must and must_not lists
 *    (it matches exactly when all of those agree, and scores their sum);
 *  - a should or must_not child made only of should clauses adds them
 *    (OR of ORs; NOT (a OR b) = NOT a, NOT b).
 * Then Q_ALL sits first in must exactly when nothing else makes the BOOL
 * match documents: no should clause and no scoring must clause. */
static int make_bool(qparser *p, uint32_t at, const nodevec *must, const nodevec *should,
                     const nodevec *must_not, lede_qnode **out)
{
    nodevec m = {0}, s = {0}, mn = {0};
    int rc = 0;
    for (uint32_t i = 0; !rc && must && i < must->n; i++) {
        lede_qnode *c = must->v[i];
        if (c->kind == Q_BOOL && c->nshould == 0) {
            rc = vec_push_all(p, &m, c->must, c->nmust);
            if (!rc)
                rc = vec_push_all(p, &mn, c->must_not, c->nmust_not);
        } else {
            rc = vec_push(p, &m, c);
        }
    }
    for (uint32_t i = 0; !rc && should && i < should->n; i++) {
        lede_qnode *c = should->v[i];
        if (c->kind == Q_BOOL && c->nmust == 0 && c->nmust_not == 0)
            rc = vec_push_all(p, &s, c->should, c->nshould);
        else
            rc = vec_push(p, &s, c);
    }
    for (uint32_t i = 0; !rc && must_not && i < must_not->n; i++) {
        lede_qnode *c = must_not->v[i];
        if (c->kind == Q_BOOL && c->nmust == 0 && c->nmust_not == 0)
            rc = vec_push_all(p, &mn, c->should, c->nshould);
        else
            rc = vec_push(p, &mn, c);
    }
    if (rc)
        return rc;

    bool scoring = any_scoring(&m);
    /* With a should list and no scoring must, a Q_ALL in must is what makes
     * the should clauses optional: keep it. Otherwise it is redundant. */
    if (scoring || s.n == 0) {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < m.n; i++)
            if (m.v[i]->kind != Q_ALL)
                m.v[kept++] = m.v[i];
        m.n = kept;
    }
    if (!scoring && s.n == 0 && m.n + mn.n > 0) {
        lede_qnode *all = new_node(p, Q_ALL, LEDE_FIELD_ALL, at);
        if (!all || (rc = vec_push(p, &m, all)) != 0)
            return rc ? rc : oom(p);
        memmove(m.v + 1, m.v, (m.n - 1) * sizeof *m.v);
        m.v[0] = all;
    }

    *out = NULL;
    if (m.n + s.n + mn.n == 0)
        return 0;
    if (s.n == 1 && m.n == 0 && mn.n == 0) {
        *out = s.v[0];
        return 0;
    }
    if (m.n == 1 && s.n == 0 && mn.n == 0) {
        *out = m.v[0];
        return 0;
    }
    lede_qnode *b = new_node(p, Q_BOOL, LEDE_FIELD_ALL, at);
    if (!b)
        return oom(p);
    b->must = m.v;
    b->nmust = m.n;
    b->should = s.v;
    b->nshould = s.n;
    b->must_not = mn.v;
    b->nmust_not = mn.n;
    *out = b;
    return 0;
}

/* ------------------------------------------------------------ filters */

/* The value of source: or date: is the rest of the word, or a quoted
 * string right after the colon. */
static int filter_value(qparser *p, const char *name, uint32_t vs, uint32_t word_end,
                        uint32_t *out_s, uint32_t *out_e)
{
    char what[96];
    if (vs < word_end) {
        *out_s = vs;
        *out_e = word_end;
        return 0;
    }
    if (p->tok.kind == TOK_PHRASE && p->tok.start == word_end) {
        uint32_t quote = p->tok.start;
        *out_s = p->tok.start + 1;
        *out_e = p->tok.end - 1;
        int rc = advance(p);
        if (rc)
            return rc;
        if (*out_s == *out_e) {
            snprintf(what, sizeof what, "empty value: expected a value inside the quotes after %s",
                     name);
            return syntax_error(p, quote, what);
        }
        return 0;
    }
    snprintf(what, sizeof what, "empty value: expected a word or a quoted value right after %s",
             name);
    return syntax_error(p, vs, what);
}

static int source_filter(qparser *p, uint32_t at, uint32_t vs, uint32_t word_end,
                         lede_qnode **out)
{
    uint32_t s = 0, e = 0;
    int rc = filter_value(p, "source:", vs, word_end, &s, &e);
    if (rc)
        return rc;
    lede_qnode *n = new_node(p, Q_KEYWORD, LEDE_FIELD_ALL, at);
    if (!n || !(n->value = lede_arena_strndup(p->arena, p->q + s, e - s)))
        return oom(p);
    *out = n;
    return 0;
}

typedef enum date_op { DATE_IN, DATE_GE, DATE_GT, DATE_LE, DATE_LT } date_op;

static int date_filter(qparser *p, uint32_t at, const char *name, date_op op, uint32_t vs,
                       uint32_t word_end, lede_qnode **out)
{
    uint32_t s = 0, e = 0;
    int rc = filter_value(p, name, vs, word_end, &s, &e);
    if (rc)
        return rc;
    /* A date value names a span: a year, a month or a day. */
    int32_t first, last;
    if (lede_date_span(p->q + s, e - s, &first, &last) != 0)
        return syntax_error(p, s, "bad date: expected YYYY, YYYY-MM or YYYY-MM-DD");
    lede_qnode *n = new_node(p, Q_DATE, LEDE_FIELD_ALL, at);
    if (!n)
        return oom(p);
    switch (op) {
    case DATE_IN: n->date_lo = first; n->date_hi = last; break;
    case DATE_GE: n->date_lo = first; n->date_hi = DATE_OPEN_HI; break;
    case DATE_GT: n->date_lo = lede_date_next(last); n->date_hi = DATE_OPEN_HI; break;
    case DATE_LE: n->date_lo = DATE_OPEN_LO; n->date_hi = last; break;
    case DATE_LT: n->date_lo = DATE_OPEN_LO; n->date_hi = lede_date_prev(first); break;
    }
    *out = n;
    return 0;
}

/* ------------------------------------------------------------ grammar */

static int parse_clauses(qparser *p, uint8_t field, uint32_t at, lede_qnode **out);

/* Stems, not words, are indexed, so "president*" must look for "presid":
 * when the stem of the folded word is a prefix of it, the stem is the
 * prefix. When stemming rewrote the end ("happy" -> "happi", "elys" ->
 * "eli"), the folded word is the prefix and the stem is added as one exact
 * term (terms[1]): "happy*" finds "happy..." terms and "happi" itself,
 * without reaching back to every "hap..." or "el..." term. */
static int prefix_node(qparser *p, uint8_t field, uint32_t at, uint32_t s, uint32_t e,
                       lede_qnode **out)
{
    token_list toks;
    uint32_t npos = 0;
    int rc = analyze_range(p, s, e, &toks, &npos);
    if (rc)
        return rc;
    if (npos > 1)
        return syntax_error(p, s, "a prefix query takes one word before '*'");
    /* A stop word or an over-long word uses a position without a token;
     * fold what was written then. */
    const char *word = p->q + s;
    size_t word_len = e - s;
    if (toks.n == 1) {
        word = p->q + s + toks.start[0];
        word_len = toks.end[0] - toks.start[0];
    }
    char folded[4 * LEDE_MAX_TERM + 1], stemmed[4 * LEDE_MAX_TERM + 1];
    size_t folded_len = word_len ? lede_fold_word(p->an, word, word_len, folded, sizeof folded) : 0;
    size_t stemmed_len = 0;
    if (folded_len > 0)
        stemmed_len = lede_stem_word(p->an, folded, folded_len, stemmed, sizeof stemmed);
    int stem_is_prefix = stemmed_len > 0 && stemmed_len <= folded_len &&
                         memcmp(folded, stemmed, stemmed_len) == 0;
    const char *prefix = stem_is_prefix ? stemmed : folded;
    size_t prefix_len = stem_is_prefix ? stemmed_len : folded_len;
    if (prefix_len < QPARSE_MIN_PREFIX)
        return syntax_error(p, s, "prefix too short: expected at least 2 letters before '*'");
    int extra = !stem_is_prefix && stemmed_len > 0;
    lede_qnode *n = new_node(p, Q_PREFIX, field, at);
    if (!n || !(n->terms = lede_arena_alloc(p->arena, 2 * sizeof *n->terms)) ||
        !(n->terms[0] = lede_arena_strndup(p->arena, prefix, prefix_len)) ||
        (extra && !(n->terms[1] = lede_arena_strndup(p->arena, stemmed, stemmed_len))))
        return oom(p);
    n->nterms = extra ? 2 : 1;
    *out = n;
    return 0;
}

static int parse_group(qparser *p, uint8_t field, lede_qnode **out)
{
    uint32_t open = p->tok.start;
    if (p->depth >= QPARSE_MAX_DEPTH) {
        char what[96];
        snprintf(what, sizeof what, "too deeply nested: at most %d levels of parentheses",
                 QPARSE_MAX_DEPTH);
        return syntax_error(p, open, what);
    }
    p->depth++;
    int rc = advance(p);
    if (rc)
        return rc;
    if (p->tok.kind == TOK_RPAREN)
        return syntax_error(p, open, "empty parentheses: expected a clause inside '(' ')'");
    rc = parse_clauses(p, field, open, out);
    if (rc)
        return rc;
    if (p->tok.kind != TOK_RPAREN)
        return syntax_error(p, open, "unbalanced '(': expected a matching ')'");
    p->depth--;
    return advance(p);
}

/* at: where the clause starts, which is before the quote in title:"...". */
static int parse_phrase(qparser *p, uint8_t field, uint32_t at, lede_qnode **out)
{
    qtoken t = p->tok;
    int rc = advance(p);
    if (rc)
        return rc;
    return text_node(p, field, at, t.start + 1, t.end - 1, out);
}

/* title:, body:, source: and date are recognized at the start of a word
 * only, in lowercase; any other "name:" is text ("Update:", "10:30"). */
static int parse_word(qparser *p, uint8_t field, lede_qnode **out)
{
    const char *q = p->q;
    uint32_t at = p->tok.start, s = p->tok.start, e = p->tok.end;
    int rc = advance(p);
    if (rc)
        return rc;
    /* A loop rather than recursion, so "title:body:title:..." costs no stack. */
    for (;;) {
        const char *w = q + s;
        uint32_t n = e - s;
        const char *scope = NULL;
        if (has_prefix(w, n, "title:")) {
            field = LEDE_FIELD_TITLE;
            scope = "title:";
        } else if (has_prefix(w, n, "body:")) {
            field = LEDE_FIELD_BODY;
            scope = "body:";
        }
        if (scope) {
            s += (uint32_t)strlen(scope);
            if (s < e)
                continue;
            /* Nothing after the colon in this word: the scoped clause is the
             * phrase or group that touches it. */
            if (p->tok.start == e && p->tok.kind == TOK_PHRASE)
                return parse_phrase(p, field, at, out);
            if (p->tok.start == e && p->tok.kind == TOK_LPAREN)
                return parse_group(p, field, out);
            char what[96];
            snprintf(what, sizeof what,
                     "empty value: expected a word, a phrase or '(' right after %s", scope);
            return syntax_error(p, s, what);
        }
        if (has_prefix(w, n, "source:"))
            return source_filter(p, at, s + 7, e, out);
        static const struct { const char *spelling; date_op op; } date_ops[] = {
            {"date:", DATE_IN}, {"date>=", DATE_GE}, {"date<=", DATE_LE},
            {"date>", DATE_GT}, {"date<", DATE_LT},
        };
        for (size_t i = 0; i < sizeof date_ops / sizeof date_ops[0]; i++)
            if (has_prefix(w, n, date_ops[i].spelling))
                return date_filter(p, at, date_ops[i].spelling, date_ops[i].op,
                                   s + (uint32_t)strlen(date_ops[i].spelling), e, out);
        break;
    }
    if (q[e - 1] == '*')
        return prefix_node(p, field, at, s, e - 1, out);
    return text_node(p, field, at, s, e, out);
}

static int parse_primary(qparser *p, uint8_t field, lede_qnode **out)
{
    char what[96];
    switch (p->tok.kind) {
    case TOK_WORD:
        return parse_word(p, field, out);
    case TOK_PHRASE:
        return parse_phrase(p, field, p->tok.start, out);
    case TOK_LPAREN:
        return parse_group(p, field, out);
    case TOK_AND:
    case TOK_OR:
        snprintf(what, sizeof what, "expected a word, a phrase or '(' before %s",
                 op_name(p->tok.kind));
        return syntax_error(p, p->tok.start, what);
    default:
        return syntax_error(p, p->tok.start, "expected a word, a phrase or '('");
    }
}

/* Modifiers are read in a loop, not by recursion. Two negations cancel into
 * a required clause ("NOT -a" is +a); '+' never undoes a negation. */
static int parse_unary(qparser *p, uint8_t field, clause *out)
{
    out->at = p->tok.start;
    bool must = false;
    unsigned negations = 0;
    while (p->tok.kind == TOK_PLUS || p->tok.kind == TOK_MINUS || p->tok.kind == TOK_NOT) {
        qtoken op = p->tok;
        int rc = advance(p);
        if (!rc)
            rc = expect_clause_after(p, &op);
        if (rc)
            return rc;
        if (op.kind == TOK_PLUS)
            must = true;
        else
            negations++;
    }
    out->pol = negations % 2 ? POL_NOT : must || negations ? POL_MUST : POL_PLAIN;
    return parse_primary(p, field, &out->node);
}

static int parse_and(qparser *p, uint8_t field, clause *out)
{
    int rc = parse_unary(p, field, out);
    if (rc || p->tok.kind != TOK_AND)
        return rc;
    nodevec must = {0}, must_not = {0};
    clause c = *out;
    for (;;) {
        if (c.node)
            rc = vec_push(p, c.pol == POL_NOT ? &must_not : &must, c.node);
        if (rc || p->tok.kind != TOK_AND)
            break;
        qtoken op = p->tok;
        if ((rc = advance(p)) != 0 || (rc = expect_clause_after(p, &op)) != 0 ||
            (rc = parse_unary(p, field, &c)) != 0)
            return rc;
    }
    if (rc)
        return rc;
    out->pol = POL_PLAIN;
    return make_bool(p, out->at, &must, NULL, &must_not, &out->node);
}

/* An OR of a negation has no useful meaning ("a OR -b" is almost every
 * document), so it is refused rather than guessed at. '+' has no effect on
 * an operand of OR. */
static int parse_or(qparser *p, uint8_t field, clause *out)
{
    int rc = parse_and(p, field, out);
    if (rc || p->tok.kind != TOK_OR)
        return rc;
    nodevec should = {0};
    clause c = *out;
    for (;;) {
        if (c.pol == POL_NOT)
            return syntax_error(p, c.at, "a negated clause cannot be OR-ed");
        if (c.node && (rc = vec_push(p, &should, c.node)) != 0)
            return rc;
        if (p->tok.kind != TOK_OR)
            break;
        qtoken op = p->tok;
        if ((rc = advance(p)) != 0 || (rc = expect_clause_after(p, &op)) != 0 ||
            (rc = parse_and(p, field, &c)) != 0)
            return rc;
    }
    out->pol = POL_PLAIN;
    return make_bool(p, out->at, NULL, &should, NULL, &out->node);
}

/* A clause list: plain clauses are should, '+' must, '-' / NOT must_not.
 * Filters (and anything else that scores nothing) are must whatever their
 * modifier. When the must list holds only such non-scoring clauses, the
 * should clauses are gathered into one required clause: "trump
 * source:Reuters" means Reuters articles about Trump, not every Reuters
 * article with the Trump ones first. */
static int parse_clauses(qparser *p, uint8_t field, uint32_t at, lede_qnode **out)
{
    nodevec must = {0}, should = {0}, must_not = {0};
    int rc = 0;
    while (p->tok.kind != TOK_END && p->tok.kind != TOK_RPAREN) {
        clause c;
        if ((rc = parse_or(p, field, &c)) != 0)
            return rc;
        if (!c.node)
            continue;
        if (c.pol == POL_NOT)
            rc = vec_push(p, &must_not, c.node);
        else if (c.pol == POL_MUST || !is_scoring(c.node))
            rc = vec_push(p, &must, c.node);
        else
            rc = vec_push(p, &should, c.node);
        if (rc)
            return rc;
    }
    if (must.n > 0 && should.n > 0 && !any_scoring(&must)) {
        lede_qnode *any;
        if ((rc = make_bool(p, should.v[0]->at, NULL, &should, NULL, &any)) != 0 ||
            (rc = vec_push(p, &must, any)) != 0)
            return rc;
        should.n = 0;
    }
    return make_bool(p, at, &must, &should, &must_not, out);
}

/* ------------------------------------------------------------ entry points */

/* plain = 1: every analyzed word is a should TERM; a repeated word weighs
 * more instead of appearing twice. */
static int parse_plain(qparser *p, lede_qnode **out)
{
    token_list toks;
    int rc = analyze_range(p, 0, p->len, &toks, NULL);
    if (rc)
        return rc;
    nodevec should = {0};
    for (uint32_t i = 0; i < toks.n; i++) {
        lede_qnode *same = NULL;
        for (uint32_t j = 0; j < should.n && !same; j++)
            if (strcmp(should.v[j]->terms[0], toks.terms[i]) == 0)
                same = should.v[j];
        if (same) {
            same->boost += 1.0f;
            continue;
        }
        lede_qnode *n = new_node(p, Q_TERM, LEDE_FIELD_ALL, toks.start[i]);
        if (!n || !(n->terms = lede_arena_alloc(p->arena, sizeof *n->terms)))
            return oom(p);
        n->terms[0] = toks.terms[i];
        n->nterms = 1;
        if ((rc = vec_push(p, &should, n)) != 0)
            return rc;
    }
    return make_bool(p, 0, NULL, &should, NULL, out);
}

int lede_qparse(lede_arena *a, lede_analyzer *an, const char *q, size_t len, int plain,
                lede_qnode **out, lede_err *err)
{
    if (!out)
        return lede_err_set(err, LEDE_EINVAL, "lede_qparse: no output node");
    *out = NULL;
    if (!a || !an || (!q && len > 0))
        return lede_err_set(err, LEDE_EINVAL, "lede_qparse: missing arena, analyzer or query");
    if (len > QPARSE_MAX_LEN)
        return lede_err_set_at(err, LEDE_ELIMIT, QPARSE_MAX_LEN,
                               "query too long: %zu bytes, the limit is %d", len, QPARSE_MAX_LEN);
    qparser p = {.arena = a, .an = an, .q = q, .len = (uint32_t)len, .err = err};
    size_t first = 0;
    while (first < len && is_space((unsigned char)q[first]))
        first++;
    if (first == len)
        return syntax_error(&p, 0, "empty query: expected a word, a phrase or a filter");

    lede_qnode *root = NULL;
    int rc;
    if (plain) {
        rc = parse_plain(&p, &root);
    } else {
        rc = advance(&p);
        if (!rc)
            rc = parse_clauses(&p, LEDE_FIELD_ALL, (uint32_t)first, &root);
        if (!rc && p.tok.kind == TOK_RPAREN)
            rc = syntax_error(&p, p.tok.start, "unbalanced ')': no '(' before it");
    }
    if (rc)
        return rc;
    /* Every word analyzed to nothing (stop words, punctuation): an empty
     * BOOL, which matches no document. */
    if (!root && !(root = new_node(&p, Q_BOOL, LEDE_FIELD_ALL, (uint32_t)first)))
        return oom(&p);
    *out = root;
    return 0;
}

/* The builders of include/lede/query.h analyze a leaf's text the way the
 * parser does, with no syntax around it. */
static int leaf_from_text(lede_arena *a, lede_analyzer *an, int prefix, uint8_t field,
                          const char *text, size_t len, lede_qnode **out, lede_err *err)
{
    *out = NULL;
    if (!a || !an || (!text && len > 0))
        return lede_err_set(err, LEDE_EINVAL, "lede_qparse: missing arena, analyzer or text");
    if (len > QPARSE_MAX_LEN)
        return lede_err_set(err, LEDE_ELIMIT, "query text too long: %zu bytes, the limit is %d",
                            len, QPARSE_MAX_LEN);
    qparser p = {.arena = a, .an = an, .q = text ? text : "", .len = (uint32_t)len, .err = err};
    int rc = prefix ? prefix_node(&p, field, 0, 0, (uint32_t)len, out)
                    : text_node(&p, field, 0, 0, (uint32_t)len, out);
    if (!rc && !*out && !(*out = new_node(&p, Q_BOOL, field, 0)))
        return oom(&p);
    return rc;
}

int lede_qparse_text(lede_arena *a, lede_analyzer *an, uint8_t field, const char *text,
                     size_t len, lede_qnode **out, lede_err *err)
{
    return leaf_from_text(a, an, 0, field, text, len, out, err);
}

int lede_qparse_prefix(lede_arena *a, lede_analyzer *an, uint8_t field, const char *word,
                       size_t len, lede_qnode **out, lede_err *err)
{
    return leaf_from_text(a, an, 1, field, word, len, out, err);
}

/* ------------------------------------------------------------ dump */

static void dump_str(lede_buf *out, const char *s)
{
    lede_buf_putc(out, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            lede_buf_putc(out, '\\');
            lede_buf_putc(out, c);
        } else if (c < 0x20 || c == 0x7f) {
            char hex[5];
            snprintf(hex, sizeof hex, "\\x%02x", c);
            lede_buf_put(out, hex, 4);
        } else {
            lede_buf_putc(out, c);
        }
    }
    lede_buf_putc(out, '"');
}

static void dump_text(lede_buf *out, const char *s)
{
    lede_buf_put(out, s, strlen(s));
}

static void dump_node(const lede_qnode *n, lede_buf *out);

static void dump_list(const char *name, lede_qnode *const *nodes, uint32_t n, lede_buf *out)
{
    if (n == 0)
        return;
    lede_buf_putc(out, ' ');
    lede_buf_putc(out, '(');
    dump_text(out, name);
    for (uint32_t i = 0; i < n; i++) {
        lede_buf_putc(out, ' ');
        dump_node(nodes[i], out);
    }
    lede_buf_putc(out, ')');
}

static const char *field_name(uint8_t field)
{
    switch (field) {
    case LEDE_FIELD_TITLE: return "title";
    case LEDE_FIELD_BODY: return "body";
    default: return "all";
    }
}

static void dump_node(const lede_qnode *n, lede_buf *out)
{
    char num[48];
    if (!n) {
        dump_text(out, "(null)");
        return;
    }
    lede_buf_putc(out, '(');
    switch (n->kind) {
    case Q_TERM:
    case Q_PREFIX:
        dump_text(out, n->kind == Q_TERM ? "term " : "prefix ");
        dump_text(out, field_name(n->field));
        lede_buf_putc(out, ' ');
        dump_str(out, n->nterms && n->terms[0] ? n->terms[0] : "");
        if (n->kind == Q_PREFIX && n->nterms > 1) {
            lede_buf_putc(out, ' ');
            dump_str(out, n->terms[1] ? n->terms[1] : "");
        }
        break;
    case Q_PHRASE:
        dump_text(out, "phrase ");
        dump_text(out, field_name(n->field));
        for (uint32_t i = 0; i < n->nterms; i++) {
            lede_buf_putc(out, ' ');
            dump_str(out, n->terms[i] ? n->terms[i] : "");
            snprintf(num, sizeof num, " %u", n->term_pos ? (unsigned)n->term_pos[i] : (unsigned)i);
            dump_text(out, num);
        }
        break;
    case Q_KEYWORD:
        dump_text(out, "source ");
        dump_str(out, n->value ? n->value : "");
        break;
    case Q_DATE:
        snprintf(num, sizeof num, "date %ld %ld", (long)n->date_lo, (long)n->date_hi);
        dump_text(out, num);
        break;
    case Q_ALL:
        dump_text(out, "all");
        break;
    case Q_BOOL:
        dump_text(out, "bool");
        dump_list("must", n->must, n->nmust, out);
        dump_list("must_not", n->must_not, n->nmust_not, out);
        dump_list("should", n->should, n->nshould, out);
        break;
    default:
        dump_text(out, "unknown");
        break;
    }
    if (n->boost != 1.0f) {
        snprintf(num, sizeof num, " ^%g", (double)n->boost);
        dump_text(out, num);
    }
    lede_buf_putc(out, ')');
}

int lede_qnode_dump(const lede_qnode *n, lede_buf *out)
{
    dump_node(n, out);
    return out->rc;
}
