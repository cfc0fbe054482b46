/* Rego parser. See parse.h and docs/rego.md section 2 for the grammar. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/lex.h"
#include "policy/parse.h"

void wwp_err_set(wwp_err *e, const char *code, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...)
{
    if (e->code)
        return; /* the first error wins */
    e->code = code;
    e->file = file;
    e->line = line;
    e->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

typedef struct ps {
    wwp_arena *a;
    const char *file;
    wwp_tok *t;
    size_t n, i;
    unsigned depth;
    unsigned group; /* open (), [] or {} inside the current literal */
    bool no_pipe;   /* parsing a comprehension head: '|' ends it */
    wwp_err *err;
    ww_status st;
} ps;

#define TOK (&p->t[p->i])
#define KIND (p->t[p->i].kind)

static wwp_tok *peek(ps *p, size_t k)
{
    size_t j = p->i + k;
    return j < p->n ? &p->t[j] : &p->t[p->n - 1];
}

static void *fail_at(ps *p, const wwp_tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail_at(ps *p, const wwp_tok *t, const char *fmt, ...)
{
    if (p->st == WW_OK) {
        char msg[300];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        wwp_err_set(p->err, "rego_parse_error", p->file, t->line, t->col, "%s", msg);
        p->st = WW_E_POLICY_PARSE;
    }
    return NULL;
}

static void *oom(ps *p)
{
    if (p->st == WW_OK) {
        p->st = p->a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM;
        wwp_err_set(p->err, "rego_compile_error", p->file, TOK->line, TOK->col,
                    "out of memory while parsing");
    }
    return NULL;
}

static void *unexpected(ps *p, const char *want)
{
    const wwp_tok *t = TOK;
    if (t->kind == T_IDENT || t->kind == T_NUMBER)
        return fail_at(p, t, "unexpected %s '%.*s', expected %s", wwp_tok_name(t->kind),
                       (int)(t->len > 40 ? 40 : t->len), t->text, want);
    return fail_at(p, t, "unexpected %s, expected %s", wwp_tok_name(t->kind), want);
}

static bool accept(ps *p, int kind)
{
    if (KIND == kind) {
        p->i++;
        return true;
    }
    return false;
}

static bool expect(ps *p, int kind, const char *want)
{
    if (accept(p, kind))
        return true;
    unexpected(p, want);
    return false;
}

static wwp_node *mk(ps *p, int type, const wwp_tok *at)
{
    wwp_node *nd = wwp_alloc(p->a, sizeof(*nd));
    if (!nd)
        return oom(p);
    nd->type = (uint8_t)type;
    nd->line = at->line;
    nd->col = at->col;
    nd->slot = -1;
    nd->builtin = -1;
    return nd;
}

static char *tokstr(ps *p, const wwp_tok *t)
{
    char *s = wwp_strndup(p->a, t->text, t->len);
    return s ? s : oom(p);
}

static wwp_node *mk_str(ps *p, const wwp_tok *at, const char *s, size_t len)
{
    wwp_node *nd = mk(p, N_SCALAR, at);
    if (nd && !(nd->val = wwp_str(p->a, s, len)))
        return oom(p);
    return nd;
}

typedef struct nvec {
    wwp_node **v;
    size_t n, cap;
} nvec;

static bool npush(ps *p, nvec *v, wwp_node *x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        wwp_node **nv = wwp_alloc_array(p->a, cap, sizeof(*nv));
        if (!nv) {
            oom(p);
            return false;
        }
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof(*nv));
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

static bool enter(ps *p)
{
    if (++p->depth > WWP_MAX_PARSE_DEPTH) {
        fail_at(p, TOK, "policy nested too deeply (more than %d levels)", WWP_MAX_PARSE_DEPTH);
        return false;
    }
    return true;
}

static wwp_node *parse_expr(ps *p, bool allow_comma);
static wwp_query *parse_query(ps *p, int end);
static wwp_lit *parse_literal(ps *p);

static wwp_node *parse_number(ps *p, const wwp_tok *t, bool neg)
{
    wwp_node *nd = mk(p, N_SCALAR, t);
    if (!nd)
        return NULL;
    char buf[4200];
    size_t n = t->len < sizeof(buf) - 2 ? t->len : sizeof(buf) - 2;
    size_t o = 0;
    if (neg)
        buf[o++] = '-';
    memcpy(buf + o, t->text, n);
    buf[o + n] = '\0';
    bool is_int = strpbrk(buf, ".eE") == NULL;
    if (is_int && n <= 18) {
        nd->val = wwp_int(p->a, strtoll(buf, NULL, 10));
    } else {
        nd->val = wwp_num(p->a, strtod(buf, NULL));
        if (!nd->val)
            return fail_at(p, t, "number out of range");
    }
    return nd->val ? nd : oom(p);
}

/* Collection literals and comprehensions after '[' or '{'. */
static wwp_node *parse_collection(ps *p, bool brace)
{
    const wwp_tok *open = TOK;
    int close = brace ? T_RBRACE : T_RBRACK;
    p->i++;
    p->group++;
    wwp_node *nd = NULL;
    if (accept(p, close)) {
        p->group--;
        return mk(p, brace ? N_OBJECT : N_ARRAY, open);
    }
    bool save_np = p->no_pipe;
    p->no_pipe = true;
    wwp_node *first = parse_expr(p, false);
    wwp_node *firstv = NULL;
    bool obj = false;
    if (first && brace && accept(p, T_COLON)) {
        obj = true;
        firstv = parse_expr(p, false);
    }
    p->no_pipe = save_np;
    if (p->st != WW_OK)
        return NULL;
    if (KIND == T_PIPE) { /* comprehension */
        p->i++;
        nd = mk(p, !brace ? N_ARRCOMP : obj ? N_OBJCOMP : N_SETCOMP, open);
        if (!nd)
            return NULL;
        nd->term = first;
        nd->vterm = firstv;
        unsigned g = p->group;
        p->group = 0;
        nd->body = parse_query(p, close);
        p->group = g;
        if (!nd->body || !expect(p, close, brace ? "'}'" : "']'"))
            return NULL;
        p->group--;
        return nd;
    }
    nd = mk(p, !brace ? N_ARRAY : obj ? N_OBJECT : N_SET, open);
    nvec items = {0}, vals = {0};
    if (!nd || !npush(p, &items, first) || (obj && !npush(p, &vals, firstv)))
        return NULL;
    while (accept(p, T_COMMA)) {
        if (KIND == close)
            break; /* trailing comma */
        wwp_node *x = parse_expr(p, false);
        if (!x || !npush(p, &items, x))
            return NULL;
        if (obj) {
            if (!expect(p, T_COLON, "':' in object"))
                return NULL;
            wwp_node *v = parse_expr(p, false);
            if (!v || !npush(p, &vals, v))
                return NULL;
        }
    }
    if (!expect(p, close, brace ? "',' or '}'" : "',' or ']'"))
        return NULL;
    p->group--;
    nd->items = items.v;
    nd->vals = vals.v;
    nd->n = items.n;
    return nd;
}

static wwp_node *parse_call_args(ps *p, wwp_node *call)
{
    p->i++; /* '(' */
    p->group++;
    nvec args = {0};
    if (!accept(p, T_RPAREN)) {
        for (;;) {
            wwp_node *x = parse_expr(p, false);
            if (!x || !npush(p, &args, x))
                return NULL;
            if (accept(p, T_COMMA)) {
                if (accept(p, T_RPAREN))
                    break;
                continue;
            }
            if (!expect(p, T_RPAREN, "',' or ')'"))
                return NULL;
            break;
        }
    }
    p->group--;
    call->items = args.v;
    call->n = args.n;
    return call;
}

static bool is_name_tok(int kind)
{
    return kind == T_IDENT || wwp_tok_is_keyword(kind);
}

static wwp_node *parse_primary(ps *p)
{
    wwp_tok *t = TOK;
    switch (t->kind) {
    case T_NUMBER:
        p->i++;
        return parse_number(p, t, false);
    case T_STRING:
        p->i++;
        return mk_str(p, t, t->str, t->slen);
    case T_TRUE:
    case T_FALSE:
    case T_NULL: {
        p->i++;
        wwp_node *nd = mk(p, N_SCALAR, t);
        if (nd)
            nd->val = t->kind == T_NULL ? &wwp_v_null : wwp_bool(t->kind == T_TRUE);
        return nd;
    }
    case T_LBRACK:
        return parse_collection(p, false);
    case T_LBRACE:
        return parse_collection(p, true);
    case T_LPAREN: {
        p->i++;
        p->group++;
        bool np = p->no_pipe;
        p->no_pipe = false;
        wwp_node *e = parse_expr(p, true);
        p->no_pipe = np;
        if (!e || !expect(p, T_RPAREN, "')'"))
            return NULL;
        p->group--;
        return e;
    }
    case T_IDENT:
    case T_CONTAINS: {
        if (t->kind == T_CONTAINS && peek(p, 1)->kind != T_LPAREN)
            return unexpected(p, "a term");
        /* Dotted name: a call when '(' follows, otherwise a reference. */
        size_t j = p->i + 1;
        while (j + 1 < p->n && p->t[j].kind == T_DOT && !p->t[j].sp_before &&
               is_name_tok(p->t[j + 1].kind) && !p->t[j + 1].sp_before)
            j += 2;
        if (j < p->n && p->t[j].kind == T_LPAREN && !p->t[j].nl_before) {
            size_t len = (size_t)(p->t[j - 1].text + p->t[j - 1].len - t->text);
            wwp_node *call = mk(p, N_CALL, t);
            if (!call || !(call->name = wwp_strndup(p->a, t->text, len)))
                return oom(p);
            p->i = j;
            if (!parse_call_args(p, call))
                return NULL;
            if (strcmp(call->name, "set") == 0) {
                if (call->n != 0)
                    return fail_at(p, t, "set() takes no arguments");
                call->type = N_SET;
            }
            return call;
        }
        p->i++;
        wwp_node *v = mk(p, N_VAR, t);
        if (!v || !(v->name = tokstr(p, t)))
            return NULL;
        v->wildcard = strcmp(v->name, "_") == 0;
        return v;
    }
    case T_MINUS:
    default:
        return unexpected(p, "a term");
    }
}

/* Postfix: .name and [expr], which must touch the previous token. */
static wwp_node *parse_ref(ps *p)
{
    wwp_node *base = parse_primary(p);
    if (!base)
        return NULL;
    nvec path = {0};
    for (;;) {
        wwp_tok *t = TOK;
        if (t->kind == T_DOT && !t->sp_before) {
            wwp_tok *nm = peek(p, 1);
            if (!is_name_tok(nm->kind) || nm->sp_before)
                return fail_at(p, nm, "expected a field name after '.'");
            p->i += 2;
            wwp_node *s = mk_str(p, nm, nm->text, nm->len);
            if (!s || !npush(p, &path, s))
                return NULL;
        } else if (t->kind == T_LBRACK && !t->sp_before) {
            p->i++;
            p->group++;
            bool np = p->no_pipe;
            p->no_pipe = false;
            wwp_node *x = parse_expr(p, false);
            p->no_pipe = np;
            if (!x || !expect(p, T_RBRACK, "']'") || !npush(p, &path, x))
                return NULL;
            p->group--;
        } else {
            break;
        }
    }
    if (path.n == 0)
        return base;
    wwp_node *r = mk(p, N_REF, &(wwp_tok){.line = base->line, .col = base->col});
    if (!r)
        return NULL;
    r->head = base;
    r->path = path.v;
    r->npath = path.n;
    return r;
}

static wwp_node *parse_unary(ps *p)
{
    if (KIND == T_MINUS) {
        wwp_tok *t = TOK;
        wwp_tok *nx = peek(p, 1);
        if (nx->kind == T_NUMBER && !nx->sp_before) {
            p->i += 2;
            return parse_number(p, nx, true);
        }
        p->i++;
        if (!enter(p))
            return NULL;
        wwp_node *x = parse_unary(p);
        p->depth--;
        if (!x)
            return NULL;
        wwp_node *nd = mk(p, N_NEG, t);
        if (nd)
            nd->l = x;
        return nd;
    }
    return parse_ref(p);
}

/* A binary operator continues the expression unless it starts a new line
 * outside any bracket: there, a newline separates literals. */
static bool op_here(ps *p, int kind)
{
    return KIND == kind && (p->group > 0 || !TOK->nl_before);
}

static wwp_node *binop(ps *p, int op, wwp_node *l, wwp_node *r, const wwp_tok *at)
{
    if (!l || !r)
        return NULL;
    wwp_node *nd = mk(p, N_BINOP, at);
    if (nd) {
        nd->op = (uint8_t)op;
        nd->l = l;
        nd->r = r;
    }
    return nd;
}

static wwp_node *parse_mul(ps *p)
{
    wwp_node *l = parse_unary(p);
    while (l && (op_here(p, T_STAR) || op_here(p, T_SLASH) || op_here(p, T_PERCENT))) {
        wwp_tok *t = TOK;
        p->i++;
        l = binop(p, t->kind, l, parse_unary(p), t);
    }
    return l;
}

static wwp_node *parse_add(ps *p)
{
    wwp_node *l = parse_mul(p);
    while (l && (op_here(p, T_PLUS) || op_here(p, T_MINUS))) {
        wwp_tok *t = TOK;
        p->i++;
        l = binop(p, t->kind, l, parse_mul(p), t);
    }
    return l;
}

static wwp_node *parse_and(ps *p)
{
    wwp_node *l = parse_add(p);
    while (l && op_here(p, T_AMP)) {
        wwp_tok *t = TOK;
        p->i++;
        l = binop(p, t->kind, l, parse_add(p), t);
    }
    return l;
}

static wwp_node *parse_or(ps *p)
{
    wwp_node *l = parse_and(p);
    while (l && !p->no_pipe && op_here(p, T_PIPE)) {
        wwp_tok *t = TOK;
        p->i++;
        l = binop(p, t->kind, l, parse_and(p), t);
    }
    return l;
}

static bool is_cmp(int k)
{
    return k == T_EQ || k == T_NEQ || k == T_LT || k == T_LE || k == T_GT || k == T_GE;
}

static wwp_node *parse_cmp(ps *p)
{
    wwp_node *l = parse_or(p);
    while (l && is_cmp(KIND) && op_here(p, KIND)) {
        wwp_tok *t = TOK;
        p->i++;
        l = binop(p, t->kind, l, parse_or(p), t);
    }
    return l;
}

static wwp_node *member(ps *p, wwp_node *key, wwp_node *val, wwp_node *coll, const wwp_tok *at)
{
    if (!val || !coll)
        return NULL;
    wwp_node *nd = mk(p, N_MEMBER, at);
    if (nd) {
        nd->key = key;
        nd->l = val;
        nd->r = coll;
    }
    return nd;
}

static wwp_node *parse_expr(ps *p, bool allow_comma)
{
    if (!enter(p))
        return NULL;
    wwp_node *l = parse_cmp(p);
    if (l && allow_comma && KIND == T_COMMA) {
        p->i++;
        wwp_node *v = parse_cmp(p);
        wwp_tok *t = TOK;
        if (v && !expect(p, T_IN, "'in' after 'key, value'"))
            l = NULL;
        else
            l = member(p, l, v, parse_cmp(p), t);
    }
    while (l && op_here(p, T_IN)) {
        wwp_tok *t = TOK;
        p->i++;
        l = member(p, NULL, l, parse_cmp(p), t);
    }
    p->depth--;
    return l;
}

static bool parse_withs(ps *p, wwp_lit *lit)
{
    size_t cap = 0;
    while (KIND == T_WITH && (p->group > 0 || !TOK->nl_before)) {
        wwp_tok *t = TOK;
        p->i++;
        wwp_node *target = parse_ref(p);
        if (!target)
            return false;
        wwp_node *h = target->type == N_REF ? target->head : target;
        if (h->type != N_VAR) {
            fail_at(p, t, "'with' needs a reference such as input.x or data.x");
            return false;
        }
        if (!expect(p, T_AS, "'as'"))
            return false;
        wwp_node *v = parse_expr(p, false);
        if (!v)
            return false;
        if (lit->nwith == cap) {
            cap = cap ? cap * 2 : 2;
            wwp_with *nw = wwp_alloc_array(p->a, cap, sizeof(*nw));
            if (!nw) {
                oom(p);
                return false;
            }
            if (lit->nwith)
                memcpy(nw, lit->withs, lit->nwith * sizeof(*nw));
            lit->withs = nw;
        }
        lit->withs[lit->nwith].target = target;
        lit->withs[lit->nwith].value = v;
        lit->nwith++;
    }
    return true;
}

static wwp_lit *parse_literal(ps *p)
{
    if (!enter(p))
        return NULL;
    wwp_tok *t = TOK;
    wwp_lit *lit = wwp_alloc(p->a, sizeof(*lit));
    if (!lit)
        return oom(p);
    lit->line = t->line;
    lit->col = t->col;
    if (accept(p, T_SOME)) {
        nvec xs = {0};
        for (;;) {
            wwp_node *x = parse_cmp(p);
            if (!x || !npush(p, &xs, x))
                return NULL;
            if (!accept(p, T_COMMA))
                break;
        }
        if (accept(p, T_IN)) {
            if (xs.n > 2)
                return fail_at(p, t, "'some' with 'in' takes one or two variables");
            lit->kind = L_SOMEIN;
            lit->key = xs.n == 2 ? xs.v[0] : NULL;
            lit->val = xs.v[xs.n - 1];
            lit->coll = parse_cmp(p);
            if (!lit->coll)
                return NULL;
        } else {
            for (size_t i = 0; i < xs.n; i++)
                if (xs.v[i]->type != N_VAR)
                    return fail_at(p, t, "'some' declares variables: expected a name or 'in'");
            lit->kind = L_SOME;
            lit->vars = xs.v;
            lit->nvars = xs.n;
        }
    } else if (accept(p, T_EVERY)) {
        lit->kind = L_EVERY;
        wwp_node *a = parse_primary(p), *b = NULL;
        if (a && accept(p, T_COMMA))
            b = parse_primary(p);
        if (!a || p->st != WW_OK)
            return NULL;
        if (a->type != N_VAR || (b && b->type != N_VAR))
            return fail_at(p, t, "'every' takes variable names: every x in xs { ... }");
        lit->key = b ? a : NULL;
        lit->val = b ? b : a;
        if (!expect(p, T_IN, "'in'"))
            return NULL;
        lit->coll = parse_cmp(p);
        if (!lit->coll || !expect(p, T_LBRACE, "'{' starting the body of 'every'"))
            return NULL;
        unsigned g = p->group;
        p->group = 0;
        lit->body = parse_query(p, T_RBRACE);
        p->group = g;
        if (!lit->body || !expect(p, T_RBRACE, "'}'"))
            return NULL;
    } else {
        if (accept(p, T_NOT))
            lit->neg = true;
        lit->expr = parse_expr(p, true);
        if (!lit->expr)
            return NULL;
        lit->kind = L_EXPR;
        if (KIND == T_ASSIGN || KIND == T_UNIFY) {
            if (lit->neg && KIND == T_ASSIGN)
                return fail_at(p, TOK, "':=' cannot be negated");
            lit->kind = KIND == T_ASSIGN ? L_ASSIGN : L_UNIFY;
            p->i++;
            lit->rhs = parse_expr(p, false);
            if (!lit->rhs)
                return NULL;
        }
    }
    if (!parse_withs(p, lit))
        return NULL;
    p->depth--;
    return lit;
}

static wwp_query *parse_query(ps *p, int end)
{
    if (!enter(p))
        return NULL;
    wwp_tok *start = TOK;
    wwp_query *q = wwp_alloc(p->a, sizeof(*q));
    if (!q)
        return oom(p);
    q->line = start->line;
    q->col = start->col;
    size_t cap = 0;
    while (KIND != end) {
        if (KIND == T_EOF)
            return unexpected(p, end == T_EOF ? "a literal" : wwp_tok_name(end));
        wwp_lit *lit = parse_literal(p);
        if (!lit)
            return NULL;
        if (q->n == cap) {
            cap = cap ? cap * 2 : 4;
            wwp_lit **nl = wwp_alloc_array(p->a, cap, sizeof(*nl));
            if (!nl)
                return oom(p);
            if (q->n)
                memcpy(nl, q->lits, q->n * sizeof(*nl));
            q->lits = nl;
        }
        q->lits[q->n++] = lit;
        if (accept(p, T_SEMI))
            continue;
        if (KIND == end || TOK->nl_before)
            continue;
        return unexpected(p, "';', a newline or the end of the body");
    }
    if (q->n == 0)
        return fail_at(p, start, "empty body");
    p->depth--;
    return q;
}

/* ---- modules ------------------------------------------------------------- */

/* pathref := IDENT { "." IDENT | "[" STRING "]" } into segments. */
static bool parse_pathref(ps *p, nvec *segs, wwp_tok **first)
{
    *first = TOK;
    if (KIND != T_IDENT) {
        unexpected(p, "a name");
        return false;
    }
    for (;;) {
        wwp_tok *t = TOK;
        wwp_node *s = NULL;
        if (segs->n == 0 || (t->kind == T_DOT && !t->sp_before)) {
            if (segs->n) {
                p->i++;
                t = TOK;
                if (!is_name_tok(t->kind)) {
                    unexpected(p, "a name after '.'");
                    return false;
                }
            }
            p->i++;
            s = mk_str(p, t, t->text, t->len);
        } else if (t->kind == T_LBRACK && !t->sp_before) {
            p->i++;
            wwp_tok *st = TOK;
            if (!expect(p, T_STRING, "a string in '[...]'"))
                return false;
            s = mk_str(p, st, st->str, st->slen);
            if (!expect(p, T_RBRACK, "']'"))
                return false;
        } else {
            return true;
        }
        if (!s || !npush(p, segs, s))
            return false;
    }
}

static char *seg_str(ps *p, wwp_node *s)
{
    char *c = wwp_strndup(p->a, s->val->s, s->val->len);
    return c ? c : oom(p);
}

static wwp_body *add_body(ps *p, wwp_rdef *d, size_t *cap)
{
    if (d->nchain == *cap) {
        *cap = *cap ? *cap * 2 : 2;
        wwp_body *nb = wwp_alloc_array(p->a, *cap, sizeof(*nb));
        if (!nb)
            return oom(p);
        if (d->nchain)
            memcpy(nb, d->chain, d->nchain * sizeof(*nb));
        d->chain = nb;
    }
    return &d->chain[d->nchain++];
}

/* `if { query }` or `if literal`. */
static wwp_query *parse_if_body(ps *p)
{
    unsigned g = p->group;
    p->group = 0;
    wwp_query *q;
    if (KIND == T_LBRACE) {
        p->i++;
        q = parse_query(p, T_RBRACE);
        if (q && !expect(p, T_RBRACE, "'}'"))
            q = NULL;
    } else {
        wwp_tok *t = TOK;
        q = wwp_alloc(p->a, sizeof(*q));
        wwp_lit **l = wwp_alloc(p->a, sizeof(*l));
        if (!q || !l)
            return oom(p);
        q->line = t->line;
        q->col = t->col;
        l[0] = parse_literal(p);
        if (!l[0])
            return NULL;
        q->lits = l;
        q->n = 1;
    }
    p->group = g;
    return q;
}

static bool parse_rule(ps *p, wwp_module *m, size_t *cap)
{
    wwp_tok *t = TOK;
    bool is_default = accept(p, T_DEFAULT);
    wwp_tok *nt = TOK;
    if (KIND != T_IDENT) {
        unexpected(p, is_default ? "a rule name after 'default'" : "a rule, 'import' or 'package'");
        return false;
    }
    p->i++;
    wwp_rdef *d = wwp_alloc(p->a, sizeof(*d));
    wwp_rule r = {.is_default = is_default, .line = t->line, .col = t->col, .def = d};
    if (!d || !(r.name = tokstr(p, nt)))
        return oom(p);
    d->file = p->file;
    d->line = t->line;
    d->col = t->col;
    size_t bcap = 0;
    wwp_body *b0 = add_body(p, d, &bcap);
    if (!b0)
        return false;
    b0->line = t->line;
    b0->col = t->col;
    r.form = RF_COMPLETE;
    if (KIND == T_DOT && !TOK->sp_before) {
        fail_at(p, TOK, "dotted rule heads such as '%s.x' are not supported (write a single name)",
                r.name);
        return false;
    }
    if (KIND == T_LPAREN) {
        r.form = RF_FUNC;
        wwp_node tmp = {0};
        if (!parse_call_args(p, &tmp))
            return false;
        d->args = tmp.items;
        d->nargs = tmp.n;
    } else if (KIND == T_LBRACK && !TOK->sp_before) {
        if (is_default) {
            fail_at(p, TOK, "'default' cannot be used with a key ('%s[...]')", r.name);
            return false;
        }
        p->i++;
        p->group++;
        d->key = parse_expr(p, false);
        if (!d->key || !expect(p, T_RBRACK, "']'"))
            return false;
        p->group--;
        if (KIND == T_LBRACK && !TOK->sp_before) {
            fail_at(p, TOK, "rule heads with several keys ('%s[a][b]') are not supported", r.name);
            return false;
        }
        r.form = RF_OBJ;
        if (accept(p, T_CONTAINS)) {
            r.form = RF_OBJSET;
            b0->value = parse_expr(p, false);
            if (!b0->value)
                return false;
        }
    } else if (KIND == T_CONTAINS) {
        if (is_default) {
            fail_at(p, TOK, "'default' cannot be used with 'contains'");
            return false;
        }
        p->i++;
        r.form = RF_SET;
        d->key = parse_expr(p, false);
        if (!d->key)
            return false;
    }
    if (r.form != RF_SET && r.form != RF_OBJSET && (KIND == T_ASSIGN || KIND == T_UNIFY)) {
        p->i++;
        b0->value = parse_expr(p, false);
        if (!b0->value)
            return false;
    } else if (is_default) {
        unexpected(p, "':=' after a default rule's name");
        return false;
    }
    if (is_default) {
        if (KIND == T_IF || KIND == T_LBRACE) {
            fail_at(p, TOK, "a default rule cannot have a body");
            return false;
        }
    } else if (accept(p, T_IF)) {
        b0->q = parse_if_body(p);
        if (!b0->q)
            return false;
    } else if (KIND == T_LBRACE && !TOK->nl_before) {
        fail_at(p, TOK, "`if` keyword is required before rule body%s",
                r.form == RF_OBJ ? " (for a set, write `name contains x if { ... }`)" : "");
        return false;
    }
    while (KIND == T_ELSE) {
        wwp_tok *et = TOK;
        if (r.form != RF_COMPLETE && r.form != RF_FUNC) {
            fail_at(p, et, "'else' is only allowed on complete rules and functions");
            return false;
        }
        if (is_default) {
            fail_at(p, et, "a default rule cannot have 'else'");
            return false;
        }
        p->i++;
        wwp_body *b = add_body(p, d, &bcap);
        if (!b)
            return false;
        b->line = et->line;
        b->col = et->col;
        if (KIND == T_ASSIGN || KIND == T_UNIFY) {
            p->i++;
            b->value = parse_expr(p, false);
            if (!b->value)
                return false;
        }
        if (accept(p, T_IF)) {
            b->q = parse_if_body(p);
            if (!b->q)
                return false;
        } else if (KIND == T_LBRACE) {
            fail_at(p, TOK, "`if` keyword is required before an else body");
            return false;
        }
    }
    if (KIND != T_EOF && !TOK->nl_before && KIND != T_SEMI) {
        unexpected(p, "a newline after the rule");
        return false;
    }
    accept(p, T_SEMI);
    if (m->nrules == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        wwp_rule *nr = wwp_alloc_array(p->a, *cap, sizeof(*nr));
        if (!nr)
            return oom(p);
        if (m->nrules)
            memcpy(nr, m->rules, m->nrules * sizeof(*nr));
        m->rules = nr;
    }
    m->rules[m->nrules++] = r;
    return true;
}

static bool parse_import(ps *p, wwp_module *m, size_t *cap)
{
    wwp_tok *t = TOK;
    p->i++;
    nvec segs = {0};
    wwp_tok *first;
    if (!parse_pathref(p, &segs, &first))
        return false;
    wwp_import im = {.line = t->line, .col = t->col};
    const wwp_val *h = segs.v[0]->val;
    bool is_input = h->len == 5 && memcmp(h->s, "input", 5) == 0;
    bool is_data = h->len == 4 && memcmp(h->s, "data", 4) == 0;
    bool is_rego = h->len == 4 && memcmp(h->s, "rego", 4) == 0;
    bool is_future = h->len == 6 && memcmp(h->s, "future", 6) == 0;
    if (is_rego || is_future) {
        const wwp_val *s1 = segs.n > 1 ? segs.v[1]->val : NULL;
        bool ok = is_rego ? (segs.n == 2 && s1->len == 2 && memcmp(s1->s, "v1", 2) == 0)
                          : (segs.n >= 2 && s1->len == 8 && memcmp(s1->s, "keywords", 8) == 0);
        if (!ok) {
            fail_at(p, first, "unsupported import (only rego.v1, future.keywords, input and data)");
            return false;
        }
        if (KIND == T_AS) {
            fail_at(p, TOK, "this import cannot be aliased");
            return false;
        }
    } else if (is_input || is_data) {
        wwp_node *head = mk(p, N_VAR, first);
        if (!head || !(head->name = seg_str(p, segs.v[0])))
            return false;
        if (segs.n == 1) {
            im.ref = head;
        } else {
            im.ref = mk(p, N_REF, first);
            if (!im.ref)
                return false;
            im.ref->head = head;
            im.ref->path = segs.v + 1;
            im.ref->npath = segs.n - 1;
        }
        if (accept(p, T_AS)) {
            wwp_tok *at = TOK;
            if (!expect(p, T_IDENT, "an alias name"))
                return false;
            im.alias = tokstr(p, at);
        } else {
            im.alias = seg_str(p, segs.v[segs.n - 1]);
        }
        if (!im.alias)
            return false;
    } else {
        fail_at(p, first, "unsupported import (only rego.v1, future.keywords, input and data)");
        return false;
    }
    if (!im.alias)
        return true; /* no-op */
    if (m->nimports == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        wwp_import *ni = wwp_alloc_array(p->a, *cap, sizeof(*ni));
        if (!ni) {
            oom(p);
            return false;
        }
        if (m->nimports)
            memcpy(ni, m->imports, m->nimports * sizeof(*ni));
        m->imports = ni;
    }
    m->imports[m->nimports++] = im;
    return true;
}

static ww_status lex_into(ps *p, const char *text, size_t len)
{
    wwp_toks toks;
    char msg[200];
    uint32_t line = 0, col = 0;
    ww_status st = wwp_lex(p->a, text, len, &toks, msg, sizeof(msg), &line, &col);
    if (st == WW_E_POLICY_PARSE)
        wwp_err_set(p->err, "rego_parse_error", p->file, line, col, "%s", msg);
    else if (st != WW_OK)
        wwp_err_set(p->err, "rego_compile_error", p->file, 1, 1, "out of memory while reading");
    p->t = toks.t;
    p->n = toks.n;
    return st;
}

ww_status wwp_parse_module(wwp_arena *a, const char *file, const char *text, size_t len,
                           wwp_module **out, wwp_err *err)
{
    ps p = {.a = a, .file = file, .err = err};
    *out = NULL;
    ww_status st = lex_into(&p, text, len);
    if (st != WW_OK)
        return st;
    wwp_module *m = wwp_alloc(a, sizeof(*m));
    if (!m)
        return WW_E_NOMEM;
    m->file = file;
    if (p.t[0].kind != T_PACKAGE) {
        fail_at(&p, &p.t[0], "a module must start with 'package'");
        return p.st;
    }
    p.i++;
    nvec segs = {0};
    wwp_tok *first;
    if (!parse_pathref(&p, &segs, &first))
        return p.st;
    m->npkg = segs.n;
    m->pkg = wwp_alloc_array(a, segs.n, sizeof(char *));
    if (!m->pkg)
        return WW_E_NOMEM;
    for (size_t i = 0; i < segs.n; i++)
        if (!(m->pkg[i] = seg_str(&p, segs.v[i])))
            return p.st;
    size_t icap = 0, rcap = 0;
    while (p.t[p.i].kind != T_EOF) {
        bool ok = p.t[p.i].kind == T_IMPORT ? parse_import(&p, m, &icap)
                                            : parse_rule(&p, m, &rcap);
        if (!ok)
            return p.st != WW_OK ? p.st : WW_E_POLICY_PARSE;
    }
    *out = m;
    return WW_OK;
}

ww_status wwp_parse_query(wwp_arena *a, const char *text, size_t len, wwp_query **out,
                          wwp_err *err)
{
    ps p = {.a = a, .file = "query", .err = err};
    *out = NULL;
    ww_status st = lex_into(&p, text, len);
    if (st != WW_OK)
        return st;
    wwp_query *q = parse_query(&p, T_EOF);
    if (!q)
        return p.st != WW_OK ? p.st : WW_E_POLICY_PARSE;
    *out = q;
    return WW_OK;
}
