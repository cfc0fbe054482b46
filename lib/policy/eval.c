/* Backtracking evaluator over the checked AST. Solutions are produced in
 * continuation-passing style: every construct that can bind variables calls
 * its continuation once per binding and undoes the binding afterwards.
 * "Undefined" is the absence of a callback (or a NULL value), never false. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/eval.h"
#include "policy/lex.h"

typedef int (*qk_fn)(wwp_ev *, void *);
typedef int (*vk_fn)(wwp_ev *, wwp_val *, void *);

/* ---- errors and budgets ---------------------------------------------------- */

int wwp_ev_fail(wwp_ev *e, ww_status st, const char *code, uint32_t line, uint32_t col,
                const char *fmt, ...)
{
    if (e->st == WW_OK) {
        char msg[360];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        e->st = st;
        wwp_err_set(e->err, code, NULL, line, col, "%s", msg);
    }
    return K_ERR;
}

int wwp_ev_oom(wwp_ev *e)
{
    if (e->a->hit_limit)
        return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                           "policy evaluation memory budget exceeded");
    return wwp_ev_fail(e, WW_E_NOMEM, "eval_internal_error", 0, 0, "out of memory");
}

int wwp_bi_fail(wwp_ev *e, const char *code, const char *fmt, ...)
{
    if (!e->strict)
        return 0;
    if (e->st == WW_OK) {
        char msg[360];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        e->st = WW_E_POLICY_EVAL;
        wwp_err_set(e->err, code, NULL, 0, 0, "%s", msg);
    }
    return K_ERR;
}

bool wwp_step(wwp_ev *e)
{
    if (++e->steps <= e->max_steps)
        return true;
    wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                "policy step budget exceeded (%llu steps)", (unsigned long long)e->max_steps);
    return false;
}

static bool enter(wwp_ev *e, const wwp_node *n)
{
    if (++e->depth <= e->max_depth)
        return true;
    e->depth--;
    wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", n ? n->line : 0, n ? n->col : 0,
                "policy evaluation nested too deeply (limit %u)", e->max_depth);
    return false;
}

static int conflict(wwp_ev *e, uint32_t line, uint32_t col, const char *what)
{
    return wwp_ev_fail(e, WW_E_POLICY_EVAL, "eval_conflict_error", line, col, "%s", what);
}

/* ---- value helpers ------------------------------------------------------------ */

/* v[key] for objects, arrays (integer index) and sets (membership). */
static wwp_val *lookup(wwp_val *v, wwp_val *key)
{
    switch (v->kind) {
    case WWP_OBJ:
        return wwp_obj_get(v, key);
    case WWP_ARR:
        if (key->kind == WWP_NUM && key->is_int && key->i >= 0 && (uint64_t)key->i < v->len)
            return v->items[key->i];
        return NULL;
    case WWP_SET:
        return wwp_set_has(v, key) ? key : NULL;
    default:
        return NULL;
    }
}

static bool is_coll(const wwp_val *v)
{
    return v->kind == WWP_ARR || v->kind == WWP_OBJ || v->kind == WWP_SET;
}

/* key/value of element i of a collection (arrays: index; sets: member twice). */
static wwp_val *elem_key(wwp_ev *e, wwp_val *c, size_t i)
{
    if (c->kind == WWP_ARR)
        return wwp_int(e->a, (int64_t)i);
    return c->items[i];
}
static wwp_val *elem_val(wwp_val *c, size_t i)
{
    return c->kind == WWP_OBJ ? c->vals[i] : c->items[i];
}

/* ---- rules, packages, data ----------------------------------------------------- */

static wwp_val *eval_rule(wwp_ev *e, const wwp_group *g, const wwp_node *at);
static int eval_lit_at(wwp_ev *e, wwp_query *q, size_t i, qk_fn k, void *ctx);
static wwp_val *eval_det(wwp_ev *e, wwp_node *n);
static int unify_val(wwp_ev *e, wwp_node *pat, wwp_val *v, qk_fn k, void *ctx);

static wwp_val *walk_base(wwp_ev *e, const char **path, size_t n)
{
    wwp_val *v = e->data;
    for (size_t i = 0; v && i < n; i++)
        v = wwp_obj_get_str(v, path[i], strlen(path[i]));
    return v;
}

/* The document at a package node: base data there, overlaid with every rule
 * that has a value (functions and undefined rules are absent). */
static wwp_val *materialize(wwp_ev *e, const wwp_tnode *t, unsigned depth)
{
    if (depth > 64) {
        wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0, "package tree too deep");
        return NULL;
    }
    wwp_vec keys = {0}, vals = {0};
    wwp_val *base = walk_base(e, t->path, t->depth);
    if (base && base->kind == WWP_OBJ)
        for (size_t i = 0; i < base->len; i++)
            if (!wwp_vec_push(e->a, &keys, base->items[i]) ||
                !wwp_vec_push(e->a, &vals, base->vals[i])) {
                wwp_ev_oom(e);
                return NULL;
            }
    for (size_t i = 0; i < t->nkids; i++) {
        const wwp_tnode *k = t->kids[i];
        wwp_val *v;
        if (k->rule) {
            if (k->rule->kind == G_FUNC)
                continue;
            v = eval_rule(e, k->rule, NULL);
        } else {
            v = materialize(e, k, depth + 1);
        }
        if (e->st != WW_OK)
            return NULL;
        if (!v)
            continue;
        wwp_val *name = wwp_str_nocopy(e->a, k->name, strlen(k->name));
        if (!name || !wwp_vec_push(e->a, &keys, name) || !wwp_vec_push(e->a, &vals, v)) {
            wwp_ev_oom(e);
            return NULL;
        }
    }
    wwp_val *o = wwp_obj(e->a, keys.v, vals.v, keys.n, true, NULL);
    if (!o)
        wwp_ev_oom(e);
    return o;
}

/* Value at the statically resolved part of a data ref; *skip = path
 * elements consumed. */
static wwp_val *data_head(wwp_ev *e, wwp_node *r, size_t *skip)
{
    switch (r->dkind) {
    case D_RULE:
        *skip = r->dskip;
        if (r->tnode->rule->kind == G_FUNC) {
            wwp_ev_fail(e, WW_E_POLICY_EVAL, "rego_type_error", r->line, r->col,
                        "function %s used without arguments", r->tnode->rule->path);
            return NULL;
        }
        return eval_rule(e, r->tnode->rule, r);
    case D_PKG:
        *skip = r->dskip;
        return materialize(e, r->tnode, 0);
    default:
        *skip = 0;
        return e->data;
    }
}

static wwp_val *ref_head(wwp_ev *e, wwp_node *r, size_t *skip)
{
    wwp_node *h = r->head;
    *skip = 0;
    switch (h->type) {
    case N_INPUT:
        return e->input;
    case N_DATA:
        return data_head(e, r, skip);
    case N_VAR:
        return e->slots[h->slot];
    default:
        return eval_det(e, h);
    }
}

/* ---- operators ------------------------------------------------------------------ */

static wwp_val *arith(wwp_ev *e, int op, wwp_val *a, wwp_val *b, const wwp_node *at)
{
    if (op == T_MINUS && a->kind == WWP_SET && b->kind == WWP_SET) {
        wwp_vec out = {0};
        for (size_t i = 0; i < a->len; i++)
            if (!wwp_set_has(b, a->items[i]) && !wwp_vec_push(e->a, &out, a->items[i])) {
                wwp_ev_oom(e);
                return NULL;
            }
        return wwp_set(e->a, out.v, out.n);
    }
    static const char *const names[] = {[T_PLUS] = "plus", [T_MINUS] = "minus",
                                        [T_STAR] = "mul", [T_SLASH] = "div",
                                        [T_PERCENT] = "rem"};
    if (a->kind != WWP_NUM || b->kind != WWP_NUM) {
        wwp_bi_fail(e, "eval_type_error", "%s: operands must be numbers (got %s and %s)",
                    names[op], wwp_type_name(a), wwp_type_name(b));
        return NULL;
    }
    (void)at;
    if (a->is_int && b->is_int) {
        int64_t r;
        switch (op) {
        case T_PLUS:
            if (!__builtin_add_overflow(a->i, b->i, &r))
                return wwp_int(e->a, r);
            break;
        case T_MINUS:
            if (!__builtin_sub_overflow(a->i, b->i, &r))
                return wwp_int(e->a, r);
            break;
        case T_STAR:
            if (!__builtin_mul_overflow(a->i, b->i, &r))
                return wwp_int(e->a, r);
            break;
        case T_SLASH:
            if (b->i == 0) {
                wwp_bi_fail(e, "eval_builtin_error", "div: divide by zero");
                return NULL;
            }
            if (a->i % b->i == 0 && !(a->i == INT64_MIN && b->i == -1))
                return wwp_int(e->a, a->i / b->i);
            break;
        case T_PERCENT:
            if (b->i == 0) {
                wwp_bi_fail(e, "eval_builtin_error", "rem: modulo by zero");
                return NULL;
            }
            if (b->i == -1)
                return wwp_int(e->a, 0);
            return wwp_int(e->a, a->i % b->i);
        default:
            break;
        }
    }
    double x = wwp_numd(a), y = wwp_numd(b), r;
    switch (op) {
    case T_PLUS: r = x + y; break;
    case T_MINUS: r = x - y; break;
    case T_STAR: r = x * y; break;
    case T_SLASH:
        if (y == 0) {
            wwp_bi_fail(e, "eval_builtin_error", "div: divide by zero");
            return NULL;
        }
        r = x / y;
        break;
    default:
        wwp_bi_fail(e, "eval_type_error", "rem: operands must be integers");
        return NULL;
    }
    wwp_val *v = wwp_num(e->a, r);
    if (!v && isfinite(r))
        wwp_ev_oom(e);
    return v;
}

static wwp_val *setop(wwp_ev *e, int op, wwp_val *a, wwp_val *b)
{
    if (a->kind != WWP_SET || b->kind != WWP_SET) {
        wwp_bi_fail(e, "eval_type_error", "%s: operands must be sets",
                    op == T_PIPE ? "or" : "and");
        return NULL;
    }
    wwp_vec out = {0};
    if (op == T_PIPE) {
        for (size_t i = 0; i < a->len + b->len; i++)
            if (!wwp_vec_push(e->a, &out, i < a->len ? a->items[i] : b->items[i - a->len]))
                goto oom;
    } else {
        for (size_t i = 0; i < a->len; i++)
            if (wwp_set_has(b, a->items[i]) && !wwp_vec_push(e->a, &out, a->items[i]))
                goto oom;
    }
    return wwp_set(e->a, out.v, out.n);
oom:
    wwp_ev_oom(e);
    return NULL;
}

static bool member(wwp_val *key, wwp_val *x, wwp_val *c)
{
    if (key) {
        wwp_val *v = lookup(c, key);
        if (c->kind == WWP_SET)
            return v && wwp_eq(key, x);
        return v && wwp_eq(v, x);
    }
    switch (c->kind) {
    case WWP_SET:
        return wwp_set_has(c, x);
    case WWP_ARR:
    case WWP_OBJ:
        for (size_t i = 0; i < c->len; i++)
            if (wwp_eq(elem_val(c, i), x))
                return true;
        return false;
    default:
        return false;
    }
}

static wwp_val *call_func(wwp_ev *e, const wwp_group *g, wwp_val **args, const wwp_node *at);

/* Compute a node's value from its children's values. */
static wwp_val *apply(wwp_ev *e, wwp_node *n, wwp_val **v)
{
    if (!wwp_step(e))
        return NULL;
    switch (n->type) {
    case N_ARRAY:
    case N_SET: {
        wwp_val **items = n->n ? wwp_alloc_array(e->a, n->n, sizeof(*items)) : NULL;
        if (n->n && !items)
            goto oom;
        if (n->n)
            memcpy(items, v, n->n * sizeof(*items));
        wwp_val *r = n->type == N_ARRAY ? wwp_arr(e->a, items, n->n) : wwp_set(e->a, items, n->n);
        return r ? r : (wwp_ev_oom(e), NULL);
    }
    case N_OBJECT: {
        wwp_val **k = wwp_alloc_array(e->a, n->n, sizeof(*k));
        wwp_val **x = wwp_alloc_array(e->a, n->n, sizeof(*x));
        if (!k || !x)
            goto oom;
        memcpy(k, v, n->n * sizeof(*k));
        memcpy(x, v + n->n, n->n * sizeof(*x));
        bool c = false;
        wwp_val *r = wwp_obj(e->a, k, x, n->n, false, &c);
        if (!r)
            goto oom;
        if (c) {
            conflict(e, n->line, n->col, "object keys must be unique");
            return NULL;
        }
        return r;
    }
    case N_CALL: {
        if (n->fn)
            return call_func(e, n->fn, v, n);
        wwp_val *out = NULL;
        if (wwp_builtin_get(n->builtin)(e, v, &out) < 0) {
            if (e->err->line == 0) {
                e->err->line = n->line;
                e->err->col = n->col;
            }
            return NULL;
        }
        return out;
    }
    case N_BINOP:
        switch (n->op) {
        case T_EQ: return wwp_bool(wwp_eq(v[0], v[1]));
        case T_NEQ: return wwp_bool(!wwp_eq(v[0], v[1]));
        case T_LT: return wwp_bool(wwp_cmp(v[0], v[1]) < 0);
        case T_LE: return wwp_bool(wwp_cmp(v[0], v[1]) <= 0);
        case T_GT: return wwp_bool(wwp_cmp(v[0], v[1]) > 0);
        case T_GE: return wwp_bool(wwp_cmp(v[0], v[1]) >= 0);
        case T_PIPE:
        case T_AMP: return setop(e, n->op, v[0], v[1]);
        default: return arith(e, n->op, v[0], v[1], n);
        }
    case N_NEG:
        if (v[0]->kind != WWP_NUM) {
            wwp_bi_fail(e, "eval_type_error", "minus: operand must be a number");
            return NULL;
        }
        return v[0]->is_int && v[0]->i != INT64_MIN ? wwp_int(e->a, -v[0]->i)
                                                     : wwp_num(e->a, -wwp_numd(v[0]));
    case N_MEMBER:
        return n->key ? wwp_bool(member(v[0], v[1], v[2])) : wwp_bool(member(NULL, v[0], v[1]));
    default:
        wwp_ev_fail(e, WW_E_INTERNAL, "eval_internal_error", n->line, n->col, "bad node");
        return NULL;
    }
oom:
    wwp_ev_oom(e);
    return NULL;
}

/* Children evaluated before apply(): fills kids, returns their count. */
static size_t children(wwp_ev *e, wwp_node *n, wwp_node ***kids)
{
    wwp_node *small[2] = {NULL, NULL};
    switch (n->type) {
    case N_ARRAY:
    case N_SET:
    case N_CALL:
        *kids = n->items;
        return n->type == N_CALL && n->out_arg ? n->n - 1 : n->n;
    case N_OBJECT: {
        wwp_node **k = wwp_alloc_array(e->a, 2 * n->n, sizeof(*k));
        if (!k) {
            wwp_ev_oom(e);
            return SIZE_MAX;
        }
        memcpy(k, n->items, n->n * sizeof(*k));
        memcpy(k + n->n, n->vals, n->n * sizeof(*k));
        *kids = k;
        return 2 * n->n;
    }
    case N_BINOP:
        small[0] = n->l;
        small[1] = n->r;
        break;
    case N_NEG:
        small[0] = n->l;
        break;
    case N_MEMBER:
        if (n->key) {
            wwp_node **k = wwp_alloc_array(e->a, 3, sizeof(*k));
            if (!k) {
                wwp_ev_oom(e);
                return SIZE_MAX;
            }
            k[0] = n->key;
            k[1] = n->l;
            k[2] = n->r;
            *kids = k;
            return 3;
        }
        small[0] = n->l;
        small[1] = n->r;
        break;
    default:
        *kids = NULL;
        return 0;
    }
    wwp_node **k = wwp_alloc_array(e->a, 2, sizeof(*k));
    if (!k) {
        wwp_ev_oom(e);
        return SIZE_MAX;
    }
    k[0] = small[0];
    k[1] = small[1];
    *kids = k;
    return small[1] ? 2 : 1;
}

static wwp_val *eval_comp(wwp_ev *e, wwp_node *n);

/* One value (or undefined) for a node that cannot enumerate. */
static wwp_val *eval_det(wwp_ev *e, wwp_node *n)
{
    if (n->ground_const)
        return n->val;
    if (e->st != WW_OK)
        return NULL;
    switch (n->type) {
    case N_VAR: {
        wwp_val *v = e->slots[n->slot];
        if (!v)
            wwp_ev_fail(e, WW_E_POLICY_EVAL, "rego_unsafe_var_error", n->line, n->col,
                        "var %s is unbound here", n->name ? n->name : "_");
        return v;
    }
    case N_REF: {
        size_t skip;
        wwp_val *v = ref_head(e, n, &skip);
        for (size_t i = skip; v && i < n->npath; i++) {
            wwp_val *key = eval_det(e, n->path[i]);
            if (!key)
                return NULL;
            v = lookup(v, key);
        }
        return v;
    }
    case N_INPUT:
        return e->input;
    case N_ARRCOMP:
    case N_SETCOMP:
    case N_OBJCOMP:
        return eval_comp(e, n);
    case N_BINOP:
    case N_NEG: {
        /* the hot path: no child array */
        wwp_val *v[2];
        if (!(v[0] = eval_det(e, n->l)))
            return NULL;
        if (n->type == N_BINOP && !(v[1] = eval_det(e, n->r)))
            return NULL;
        return apply(e, n, v);
    }
    case N_CALL:
        if (n->out_arg) {
            wwp_ev_fail(e, WW_E_POLICY_EVAL, "rego_type_error", n->line, n->col,
                        "%s: output argument used inside an expression", n->name);
            return NULL;
        }
        __attribute__((fallthrough));
    default: {
        wwp_node **kids;
        size_t nk = children(e, n, &kids);
        if (nk == SIZE_MAX)
            return NULL;
        wwp_val *small[4];
        wwp_val **v = nk <= 4 ? small : wwp_alloc_array(e->a, nk, sizeof(*v));
        if (!v) {
            wwp_ev_oom(e);
            return NULL;
        }
        for (size_t i = 0; i < nk; i++)
            if (!(v[i] = eval_det(e, kids[i])))
                return NULL;
        return apply(e, n, v);
    }
    }
}

/* ---- generators ------------------------------------------------------------------ */

typedef struct genl {
    wwp_node *n;
    wwp_node **kids;
    size_t nk;
    wwp_val **vals;
    vk_fn k;
    void *ctx;
} genl;

static int genl_step(wwp_ev *e, genl *g, size_t i);

typedef struct genl_k {
    genl *g;
    size_t i;
} genl_k;

static int genl_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    genl_k *c = ctx;
    c->g->vals[c->i] = v;
    return genl_step(e, c->g, c->i + 1);
}

static int genl_step(wwp_ev *e, genl *g, size_t i)
{
    if (i == g->nk) {
        wwp_val *r = apply(e, g->n, g->vals);
        if (e->st != WW_OK)
            return K_ERR;
        return r ? g->k(e, r, g->ctx) : K_CONT;
    }
    genl_k c = {g, i};
    return wwp_eval_gen(e, g->kids[i], genl_cb, &c);
}

typedef struct refg {
    wwp_node *r;
    vk_fn k;
    void *ctx;
} refg;

static int ref_walk(wwp_ev *e, refg *g, size_t i, wwp_val *v);

typedef struct refk {
    refg *g;
    size_t i;
    wwp_val *cur;
} refk;

static int ref_key_cb(wwp_ev *e, wwp_val *key, void *ctx)
{
    refk *c = ctx;
    wwp_val *nv = lookup(c->cur, key);
    return nv ? ref_walk(e, c->g, c->i + 1, nv) : K_CONT;
}

static int ref_walk(wwp_ev *e, refg *g, size_t i, wwp_val *v)
{
    wwp_node *r = g->r;
    for (; i < r->npath; i++) {
        wwp_node *p = r->path[i];
        if (p->type == N_VAR && !e->slots[p->slot]) {
            /* Unbound key: enumerate the collection, binding the variable. */
            if (!is_coll(v))
                return K_CONT;
            for (size_t j = 0; j < v->len; j++) {
                if (!wwp_step(e))
                    return K_ERR;
                wwp_val *key = elem_key(e, v, j);
                if (!key)
                    return wwp_ev_oom(e);
                e->slots[p->slot] = key;
                int rc = ref_walk(e, g, i + 1, elem_val(v, j));
                e->slots[p->slot] = NULL;
                if (rc != K_CONT)
                    return rc;
            }
            return K_CONT;
        }
        if (p->may_enum) {
            refk c = {g, i, v};
            return wwp_eval_gen(e, p, ref_key_cb, &c);
        }
        wwp_val *key = eval_det(e, p);
        if (!key)
            return e->st == WW_OK ? K_CONT : K_ERR;
        v = lookup(v, key);
        if (!v)
            return K_CONT;
    }
    return g->k(e, v, g->ctx);
}

typedef struct refh {
    refg *g;
} refh;

static int ref_head_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    refh *h = ctx;
    return ref_walk(e, h->g, 0, v);
}

int wwp_eval_gen(wwp_ev *e, wwp_node *n, vk_fn k, void *ctx)
{
    if (!n->may_enum) {
        wwp_val *v = eval_det(e, n);
        if (e->st != WW_OK)
            return K_ERR;
        return v ? k(e, v, ctx) : K_CONT;
    }
    if (n->type == N_REF) {
        refg g = {n, k, ctx};
        if (n->head->may_enum) {
            refh h = {&g};
            return wwp_eval_gen(e, n->head, ref_head_cb, &h);
        }
        size_t skip;
        wwp_val *v = ref_head(e, n, &skip);
        if (e->st != WW_OK)
            return K_ERR;
        return v ? ref_walk(e, &g, skip, v) : K_CONT;
    }
    genl g = {n, NULL, 0, NULL, k, ctx};
    g.nk = children(e, n, &g.kids);
    if (g.nk == SIZE_MAX)
        return K_ERR;
    g.vals = wwp_alloc_array(e->a, g.nk ? g.nk : 1, sizeof(*g.vals));
    if (!g.vals)
        return wwp_ev_oom(e);
    return genl_step(e, &g, 0);
}

/* ---- unification ----------------------------------------------------------------- */

typedef struct arrk {
    wwp_node *pat;
    wwp_val *v;
    size_t i;
    qk_fn k;
    void *ctx;
} arrk;

static int unify_arr_step(wwp_ev *e, void *ctx);

static int unify_arr_next(wwp_ev *e, void *ctx)
{
    arrk *a = ctx;
    arrk b = *a;
    b.i++;
    return unify_arr_step(e, &b);
}

static int unify_arr_step(wwp_ev *e, void *ctx)
{
    arrk *a = ctx;
    if (a->i == a->pat->n)
        return a->k(e, a->ctx);
    if (a->pat->type == N_ARRAY)
        return unify_val(e, a->pat->items[a->i], a->v->items[a->i], unify_arr_next, a);
    /* object: pattern keys are ground */
    wwp_val *key = eval_det(e, a->pat->items[a->i]);
    if (!key)
        return e->st == WW_OK ? K_CONT : K_ERR;
    wwp_val *x = wwp_obj_get(a->v, key);
    if (!x)
        return K_CONT;
    return unify_val(e, a->pat->vals[a->i], x, unify_arr_next, a);
}

typedef struct cmpk {
    wwp_val *v;
    qk_fn k;
    void *ctx;
} cmpk;

static int cmp_cb(wwp_ev *e, wwp_val *x, void *ctx)
{
    cmpk *c = ctx;
    return wwp_eq(x, c->v) ? c->k(e, c->ctx) : K_CONT;
}

/* Does the pattern still contain an unbound variable (outside refs)? */
static bool pat_open(wwp_ev *e, const wwp_node *n)
{
    switch (n->type) {
    case N_VAR:
        return !e->slots[n->slot];
    case N_ARRAY:
    case N_OBJECT:
        for (size_t i = 0; i < n->n; i++)
            if ((n->type == N_ARRAY ? pat_open(e, n->items[i]) : pat_open(e, n->vals[i])))
                return true;
        return false;
    default:
        return false;
    }
}

/* Match pattern pat against value v, binding its unbound variables. */
static int unify_val(wwp_ev *e, wwp_node *pat, wwp_val *v, qk_fn k, void *ctx)
{
    if (!wwp_step(e))
        return K_ERR;
    if (pat->type == N_VAR) {
        wwp_val *cur = e->slots[pat->slot];
        if (cur)
            return wwp_eq(cur, v) ? k(e, ctx) : K_CONT;
        e->slots[pat->slot] = v;
        int rc = k(e, ctx);
        e->slots[pat->slot] = NULL;
        return rc;
    }
    if ((pat->type == N_ARRAY || pat->type == N_OBJECT) && !pat->ground_const &&
        pat_open(e, pat)) {
        if (pat->type == N_ARRAY && (v->kind != WWP_ARR || v->len != pat->n))
            return K_CONT;
        if (pat->type == N_OBJECT && (v->kind != WWP_OBJ || v->len != pat->n))
            return K_CONT;
        arrk a = {pat, v, 0, k, ctx};
        return unify_arr_step(e, &a);
    }
    cmpk c = {v, k, ctx};
    return wwp_eval_gen(e, pat, cmp_cb, &c);
}

typedef struct unk {
    wwp_node *pat;
    qk_fn k;
    void *ctx;
} unk;

static int unify_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    unk *u = ctx;
    return unify_val(e, u->pat, v, u->k, u->ctx);
}

typedef struct pairk {
    wwp_node **a, **b;
    size_t n, i;
    qk_fn k;
    void *ctx;
} pairk;

static int unify_nodes(wwp_ev *e, wwp_node *a, wwp_node *b, qk_fn k, void *ctx, unsigned depth);

static int pair_next(wwp_ev *e, void *ctx)
{
    pairk *p = ctx;
    if (p->i == p->n)
        return p->k(e, p->ctx);
    pairk q = *p;
    q.i++;
    return unify_nodes(e, p->a[p->i], p->b[p->i], pair_next, &q, 0);
}

/* a = b where either side may hold unbound variables. */
static int unify_nodes(wwp_ev *e, wwp_node *a, wwp_node *b, qk_fn k, void *ctx, unsigned depth)
{
    if (depth > 64)
        return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", a->line, a->col,
                           "unification nested too deeply");
    bool ao = pat_open(e, a), bo = pat_open(e, b);
    if (!ao) {
        unk u = {b, k, ctx};
        return wwp_eval_gen(e, a, unify_cb, &u);
    }
    if (!bo) {
        unk u = {a, k, ctx};
        return wwp_eval_gen(e, b, unify_cb, &u);
    }
    if (a->type == N_ARRAY && b->type == N_ARRAY) {
        if (a->n != b->n)
            return K_CONT;
        pairk p = {a->items, b->items, a->n, 0, k, ctx};
        return pair_next(e, &p);
    }
    if (a->type == N_OBJECT && b->type == N_OBJECT) {
        if (a->n != b->n)
            return K_CONT;
        wwp_node **bv = wwp_alloc_array(e->a, a->n ? a->n : 1, sizeof(*bv));
        if (!bv)
            return wwp_ev_oom(e);
        for (size_t i = 0; i < a->n; i++) {
            wwp_val *ka = eval_det(e, a->items[i]);
            bv[i] = NULL;
            for (size_t j = 0; ka && j < b->n && !bv[i]; j++) {
                wwp_val *kb = eval_det(e, b->items[j]);
                if (kb && wwp_eq(ka, kb))
                    bv[i] = b->vals[j];
            }
            if (e->st != WW_OK)
                return K_ERR;
            if (!bv[i])
                return K_CONT;
        }
        pairk p = {a->vals, bv, a->n, 0, k, ctx};
        return pair_next(e, &p);
    }
    return wwp_ev_fail(e, WW_E_POLICY_EVAL, "rego_unsafe_var_error", a->line, a->col,
                       "cannot unify: both sides have unbound variables");
}

/* ---- comprehensions ------------------------------------------------------------ */

typedef struct compk {
    wwp_node *n;
    wwp_vec keys, vals;
    wwp_val *cur_key;
} compk;

static int comp_val_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    compk *c = ctx;
    if (c->n->type == N_OBJCOMP) {
        if (!wwp_vec_push(e->a, &c->keys, c->cur_key) || !wwp_vec_push(e->a, &c->vals, v))
            return wwp_ev_oom(e);
    } else if (!wwp_vec_push(e->a, &c->vals, v)) {
        return wwp_ev_oom(e);
    }
    return K_CONT;
}

static int comp_key_cb(wwp_ev *e, wwp_val *k, void *ctx)
{
    compk *c = ctx;
    c->cur_key = k;
    return wwp_eval_gen(e, c->n->vterm, comp_val_cb, c);
}

static int comp_sol(wwp_ev *e, void *ctx)
{
    compk *c = ctx;
    return wwp_eval_gen(e, c->n->term, c->n->type == N_OBJCOMP ? comp_key_cb : comp_val_cb, c);
}

static wwp_val *eval_comp(wwp_ev *e, wwp_node *n)
{
    compk c = {.n = n};
    if (wwp_eval_query(e, n->body, comp_sol, &c) == K_ERR)
        return NULL;
    wwp_val *r;
    if (n->type == N_ARRCOMP) {
        r = wwp_arr(e->a, c.vals.v, c.vals.n);
    } else if (n->type == N_SETCOMP) {
        r = wwp_set(e->a, c.vals.v, c.vals.n);
    } else {
        bool cf = false;
        r = wwp_obj(e->a, c.keys.v, c.vals.v, c.keys.n, false, &cf);
        if (r && cf) {
            conflict(e, n->line, n->col, "object keys must be unique");
            return NULL;
        }
    }
    if (!r)
        wwp_ev_oom(e);
    return r;
}

/* ---- literals ------------------------------------------------------------------- */

typedef struct qctx {
    wwp_query *q;
    size_t i;
    qk_fn k;
    void *ctx;
} qctx;

static int query_next(wwp_ev *e, void *ctx)
{
    qctx *c = ctx;
    return eval_lit_at(e, c->q, c->i + 1, c->k, c->ctx);
}

int wwp_eval_query(wwp_ev *e, wwp_query *q, qk_fn k, void *ctx)
{
    return eval_lit_at(e, q, 0, k, ctx);
}

static int stop_k(wwp_ev *e, void *ctx)
{
    (void)e;
    (void)ctx;
    return K_STOP;
}

typedef struct truthk {
    qk_fn k;
    void *ctx;
} truthk;

static int truth_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    truthk *t = ctx;
    if (v->kind == WWP_BOOL && !v->b)
        return K_CONT;
    return t->k(e, t->ctx);
}

typedef struct somek {
    wwp_lit *l;
    qk_fn k;
    void *ctx;
    wwp_val *key;
} somek;

static int somein_key(wwp_ev *e, void *ctx)
{
    somek *s = ctx;
    if (!s->l->key)
        return s->k(e, s->ctx);
    return unify_val(e, s->l->key, s->key, s->k, s->ctx);
}

static int somein_cb(wwp_ev *e, wwp_val *c, void *ctx)
{
    somek *s = ctx;
    if (!is_coll(c))
        return K_CONT;
    for (size_t i = 0; i < c->len; i++) {
        if (!wwp_step(e))
            return K_ERR;
        somek s2 = *s;
        if (s->l->key && !(s2.key = elem_key(e, c, i)))
            return wwp_ev_oom(e);
        int rc = unify_val(e, s->l->val, elem_val(c, i), somein_key, &s2);
        if (rc != K_CONT)
            return rc;
    }
    return K_CONT;
}

static int every_cb(wwp_ev *e, wwp_val *c, void *ctx)
{
    somek *s = ctx;
    wwp_lit *l = s->l;
    if (!is_coll(c))
        return K_CONT;
    for (size_t i = 0; i < c->len; i++) {
        if (!wwp_step(e))
            return K_ERR;
        wwp_val *key = NULL;
        if (l->key && !(key = elem_key(e, c, i)))
            return wwp_ev_oom(e);
        if (l->key)
            e->slots[l->key->slot] = key;
        e->slots[l->val->slot] = elem_val(c, i);
        int rc = wwp_eval_query(e, l->body, stop_k, NULL);
        if (l->key)
            e->slots[l->key->slot] = NULL;
        e->slots[l->val->slot] = NULL;
        if (rc == K_ERR)
            return K_ERR;
        if (rc != K_STOP)
            return K_CONT; /* one element fails: every is not true */
    }
    return s->k(e, s->ctx);
}

typedef struct callout {
    wwp_node *call;
    wwp_val **vals;
    size_t i, nk;
    qk_fn k;
    void *ctx;
} callout;

static int callout_step(wwp_ev *e, callout *c);

static int callout_cb(wwp_ev *e, wwp_val *v, void *ctx)
{
    callout *c = ctx;
    callout d = *c;
    d.vals[d.i] = v;
    d.i++;
    return callout_step(e, &d);
}

static int callout_step(wwp_ev *e, callout *c)
{
    if (c->i == c->nk) {
        wwp_node *n = c->call;
        wwp_val *r;
        if (!wwp_step(e))
            return K_ERR;
        if (n->fn) {
            r = call_func(e, n->fn, c->vals, n);
        } else {
            r = NULL;
            if (wwp_builtin_get(n->builtin)(e, c->vals, &r) < 0)
                return K_ERR;
        }
        if (e->st != WW_OK)
            return K_ERR;
        return r ? unify_val(e, n->items[c->nk], r, c->k, c->ctx) : K_CONT;
    }
    return wwp_eval_gen(e, c->call->items[c->i], callout_cb, c);
}

/* Positive form of a literal (no `not`, no `with`). */
static int eval_lit_pos(wwp_ev *e, wwp_lit *l, qk_fn k, void *ctx)
{
    switch (l->kind) {
    case L_EXPR: {
        wwp_node *x = l->expr;
        if (x->type == N_CALL && x->out_arg) {
            callout c = {x, NULL, 0, x->n - 1, k, ctx};
            c.vals = wwp_alloc_array(e->a, x->n, sizeof(*c.vals));
            if (!c.vals)
                return wwp_ev_oom(e);
            return callout_step(e, &c);
        }
        truthk t = {k, ctx};
        return wwp_eval_gen(e, x, truth_cb, &t);
    }
    case L_ASSIGN: {
        unk u = {l->expr, k, ctx};
        return wwp_eval_gen(e, l->rhs, unify_cb, &u);
    }
    case L_UNIFY:
        return unify_nodes(e, l->expr, l->rhs, k, ctx, 0);
    case L_SOME:
        return k(e, ctx);
    case L_SOMEIN: {
        somek s = {l, k, ctx, NULL};
        return wwp_eval_gen(e, l->coll, somein_cb, &s);
    }
    case L_EVERY: {
        somek s = {l, k, ctx, NULL};
        return wwp_eval_gen(e, l->coll, every_cb, &s);
    }
    default:
        return wwp_ev_fail(e, WW_E_INTERNAL, "eval_internal_error", l->line, l->col,
                           "bad literal");
    }
}

static int eval_lit_neg(wwp_ev *e, wwp_lit *l, qk_fn k, void *ctx)
{
    if (!l->neg)
        return eval_lit_pos(e, l, k, ctx);
    int rc = eval_lit_pos(e, l, stop_k, NULL);
    if (rc == K_ERR)
        return K_ERR;
    return rc == K_STOP ? K_CONT : k(e, ctx);
}

/* ---- with ------------------------------------------------------------------------ */

typedef struct wstate {
    wwp_val *input, *data;
    wwp_override *ovr;
    size_t novr;
    wwp_cache_ent *cache;
} wstate;

static void wsave(wwp_ev *e, wstate *s)
{
    *s = (wstate){e->input, e->data, e->ovr, e->novr, e->cache};
}
static void wload(wwp_ev *e, const wstate *s)
{
    e->input = s->input;
    e->data = s->data;
    e->ovr = s->ovr;
    e->novr = s->novr;
    e->cache = s->cache;
}

/* Copy of doc with path[0..n) set to v (objects created as needed). */
static wwp_val *patch(wwp_ev *e, wwp_val *doc, wwp_node **path, size_t n, wwp_val *v)
{
    if (n == 0)
        return v;
    wwp_val *key = path[0]->val;
    wwp_val *cur = doc && doc->kind == WWP_OBJ ? wwp_obj_get(doc, key) : NULL;
    wwp_val *nv = patch(e, cur, path + 1, n - 1, v);
    if (!nv)
        return NULL;
    size_t len = doc && doc->kind == WWP_OBJ ? doc->len : 0;
    wwp_val **k = wwp_alloc_array(e->a, len + 1, sizeof(*k));
    wwp_val **x = wwp_alloc_array(e->a, len + 1, sizeof(*x));
    if (!k || !x) {
        wwp_ev_oom(e);
        return NULL;
    }
    if (len) {
        memcpy(k, doc->items, len * sizeof(*k));
        memcpy(x, doc->vals, len * sizeof(*x));
    }
    k[len] = key;
    x[len] = nv;
    wwp_val *r = wwp_obj(e->a, k, x, len + 1, true, NULL);
    if (!r)
        wwp_ev_oom(e);
    return r;
}

typedef struct withk {
    wstate outer, inner;
    qk_fn k;
    void *ctx;
} withk;

static int with_cb(wwp_ev *e, void *ctx)
{
    withk *w = ctx;
    /* The rest of the body runs outside the `with`. */
    wload(e, &w->outer);
    int rc = w->k(e, w->ctx);
    wload(e, &w->inner);
    return rc;
}

static int eval_lit_with(wwp_ev *e, wwp_lit *l, qk_fn k, void *ctx)
{
    if (l->nwith == 0)
        return eval_lit_neg(e, l, k, ctx);
    withk w = {.k = k, .ctx = ctx};
    wsave(e, &w.outer);
    wwp_val **vals = wwp_alloc_array(e->a, l->nwith, sizeof(*vals));
    if (!vals)
        return wwp_ev_oom(e);
    for (size_t i = 0; i < l->nwith; i++) {
        vals[i] = eval_det(e, l->withs[i].value);
        if (!vals[i])
            return e->st == WW_OK ? K_CONT : K_ERR;
    }
    for (size_t i = 0; i < l->nwith; i++) {
        wwp_with *wi = &l->withs[i];
        wwp_node **path = wi->target->type == N_REF ? wi->target->path : NULL;
        if (wi->is_input) {
            e->input = patch(e, e->input, path, wi->depth, vals[i]);
        } else if (wi->rule) {
            wwp_override *no = wwp_alloc_array(e->a, e->novr + 1, sizeof(*no));
            if (!no)
                return wwp_ev_oom(e);
            if (e->novr)
                memcpy(no, e->ovr, e->novr * sizeof(*no));
            no[e->novr] = (wwp_override){wi->rule, vals[i]};
            e->ovr = no;
            e->novr++;
        } else {
            e->data = patch(e, e->data, path, wi->depth, vals[i]);
            if (!e->data)
                e->data = &wwp_v_empty_obj;
        }
        if (e->st != WW_OK) {
            wload(e, &w.outer);
            return K_ERR;
        }
    }
    e->cache = wwp_alloc_array(e->a, e->p->ngroups ? e->p->ngroups : 1, sizeof(*e->cache));
    if (!e->cache) {
        wload(e, &w.outer);
        return wwp_ev_oom(e);
    }
    wsave(e, &w.inner);
    int rc = eval_lit_neg(e, l, with_cb, &w);
    wload(e, &w.outer);
    return rc;
}

static int eval_lit_at(wwp_ev *e, wwp_query *q, size_t i, qk_fn k, void *ctx)
{
    if (i == q->n)
        return k(e, ctx);
    wwp_lit *l = q->lits[i];
    if (!wwp_step(e) || !enter(e, NULL))
        return K_ERR;
    qctx c = {q, i, k, ctx};
    int rc = eval_lit_with(e, l, query_next, &c);
    e->depth--;
    return rc;
}

/* ---- rule evaluation ---------------------------------------------------------- */

typedef struct rulek {
    wwp_ev *e;
    const wwp_group *g;
    wwp_body *b;
    wwp_rdef *d;
    wwp_val *v; /* complete/function value found so far */
    bool found;
    wwp_vec keys, vals;
} rulek;

static int complete_val(wwp_ev *e, wwp_val *v, void *ctx)
{
    rulek *r = ctx;
    if (r->found && !wwp_eq(r->v, v))
        return conflict(e, r->d->line, r->d->col,
                        r->g->kind == G_FUNC
                            ? "functions must not produce multiple outputs for same inputs"
                            : "complete rules must not produce multiple outputs");
    r->found = true;
    r->v = v;
    return r->g->const_value_ok ? K_STOP : K_CONT;
}

static int complete_sol(wwp_ev *e, void *ctx)
{
    rulek *r = ctx;
    if (!r->b->value)
        return complete_val(e, &wwp_v_true, r);
    return wwp_eval_gen(e, r->b->value, complete_val, r);
}

static int partial_val(wwp_ev *e, wwp_val *v, void *ctx)
{
    rulek *r = ctx;
    if ((r->g->kind != G_SET && !wwp_vec_push(e->a, &r->keys, r->v)) ||
        !wwp_vec_push(e->a, &r->vals, v))
        return wwp_ev_oom(e);
    return K_CONT;
}

static int partial_key(wwp_ev *e, wwp_val *k, void *ctx)
{
    rulek *r = ctx;
    if (r->g->kind == G_SET)
        return partial_val(e, k, r);
    r->v = k; /* the current key */
    if (!r->b->value)
        return partial_val(e, &wwp_v_true, r);
    return wwp_eval_gen(e, r->b->value, partial_val, r);
}

static int partial_sol(wwp_ev *e, void *ctx)
{
    rulek *r = ctx;
    return wwp_eval_gen(e, r->d->key, partial_key, r);
}

static wwp_val **new_frame(wwp_ev *e, size_t n)
{
    wwp_val **f = wwp_alloc_array(e->a, n ? n : 1, sizeof(*f));
    if (!f)
        wwp_ev_oom(e);
    return f;
}

static int run_body(wwp_ev *e, wwp_body *b, qk_fn k, void *ctx)
{
    if (!b->q)
        return k(e, ctx);
    return wwp_eval_query(e, b->q, k, ctx);
}

typedef struct pairv {
    wwp_val *k, *v;
} pairv;

static int cmp_pairv(const void *x, const void *y)
{
    return wwp_cmp(((const pairv *)x)->k, ((const pairv *)y)->k);
}

static wwp_val *objset_build(wwp_ev *e, rulek *r)
{
    size_t n = r->keys.n;
    pairv *p = wwp_alloc_array(e->a, n ? n : 1, sizeof(*p));
    if (!p)
        return (wwp_ev_oom(e), NULL);
    for (size_t i = 0; i < n; i++)
        p[i] = (pairv){r->keys.v[i], r->vals.v[i]};
    qsort(p, n, sizeof(*p), cmp_pairv);
    wwp_vec ok = {0}, ov = {0};
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && wwp_eq(p[i].k, p[j].k))
            j++;
        wwp_val **m = wwp_alloc_array(e->a, j - i, sizeof(*m));
        if (!m)
            return (wwp_ev_oom(e), NULL);
        for (size_t t = i; t < j; t++)
            m[t - i] = p[t].v;
        wwp_val *s = wwp_set(e->a, m, j - i);
        if (!s || !wwp_vec_push(e->a, &ok, p[i].k) || !wwp_vec_push(e->a, &ov, s))
            return (wwp_ev_oom(e), NULL);
        i = j;
    }
    return wwp_obj(e->a, ok.v, ov.v, ok.n, false, NULL);
}

static wwp_val *compute_rule(wwp_ev *e, const wwp_group *g)
{
    rulek r = {.e = e, .g = g};
    wwp_val *result = NULL;
    bool have = false;
    wwp_val **saved = e->slots;
    for (size_t di = 0; di < g->ndefs; di++) {
        wwp_rdef *d = g->defs[di];
        e->slots = new_frame(e, d->nslots);
        if (!e->slots)
            break;
        r.d = d;
        if (g->kind == G_COMPLETE) {
            for (size_t b = 0; b < d->nchain; b++) {
                r.b = &d->chain[b];
                r.found = false;
                if (run_body(e, r.b, complete_sol, &r) == K_ERR)
                    goto out;
                if (r.found)
                    break;
            }
            if (r.found) {
                if (have && !wwp_eq(result, r.v)) {
                    conflict(e, d->line, d->col, "complete rules must not produce multiple outputs");
                    goto out;
                }
                result = r.v;
                have = true;
            }
        } else {
            r.b = &d->chain[0];
            if (run_body(e, r.b, partial_sol, &r) == K_ERR)
                goto out;
        }
    }
    if (e->st != WW_OK)
        goto out;
    if (g->kind == G_SET) {
        result = wwp_set(e->a, r.vals.v, r.vals.n);
    } else if (g->kind == G_OBJ) {
        bool cf = false;
        result = wwp_obj(e->a, r.keys.v, r.vals.v, r.keys.n, false, &cf);
        if (cf) {
            conflict(e, g->defs[0]->line, g->defs[0]->col, "object keys must be unique");
            result = NULL;
            goto out;
        }
    } else if (g->kind == G_OBJSET) {
        result = objset_build(e, &r);
    } else if (!have && g->dflt) {
        result = g->dflt->chain[0].value->val;
    }
    if (!result && g->kind != G_COMPLETE)
        wwp_ev_oom(e);
out:
    e->slots = saved;
    return e->st == WW_OK ? result : NULL;
}

static wwp_val *eval_rule(wwp_ev *e, const wwp_group *g, const wwp_node *at)
{
    for (size_t i = e->novr; i-- > 0;)
        if (e->ovr[i].g == g)
            return e->ovr[i].v;
    wwp_cache_ent *c = &e->cache[g->id];
    if (c->state == 2)
        return c->v;
    if (c->state == 1) {
        wwp_ev_fail(e, WW_E_POLICY_EVAL, "rego_recursion_error", at ? at->line : 0,
                    at ? at->col : 0, "rule %s is recursive", g->path);
        return NULL;
    }
    if (!wwp_step(e) || !enter(e, at))
        return NULL;
    c->state = 1;
    wwp_val *v = compute_rule(e, g);
    e->depth--;
    if (e->st != WW_OK)
        return NULL;
    /* e->cache may have been swapped by a `with` inside and restored since. */
    c = &e->cache[g->id];
    c->state = 2;
    c->v = v;
    return v;
}

typedef struct argk {
    wwp_rdef *d;
    wwp_val **args;
    size_t i;
    rulek *r;
} argk;

static int func_args(wwp_ev *e, void *ctx)
{
    argk *a = ctx;
    if (a->i == a->d->nargs)
        return run_body(e, a->r->b, complete_sol, a->r);
    argk b = *a;
    b.i++;
    return unify_val(e, a->d->args[a->i], a->args[a->i], func_args, &b);
}

static wwp_val *call_func(wwp_ev *e, const wwp_group *g, wwp_val **args, const wwp_node *at)
{
    if (!wwp_step(e) || !enter(e, at))
        return NULL;
    rulek r = {.e = e, .g = g};
    wwp_val *result = NULL;
    wwp_val **saved = e->slots;
    for (size_t di = 0; di < g->ndefs && e->st == WW_OK; di++) {
        wwp_rdef *d = g->defs[di];
        e->slots = new_frame(e, d->nslots);
        if (!e->slots)
            break;
        r.d = d;
        r.found = false;
        for (size_t b = 0; b < d->nchain; b++) {
            r.b = &d->chain[b];
            argk a = {d, args, 0, &r};
            if (func_args(e, &a) == K_ERR || r.found)
                break;
        }
        if (e->st == WW_OK && r.found) {
            if (result && !wwp_eq(result, r.v)) {
                conflict(e, d->line, d->col,
                         "functions must not produce multiple outputs for same inputs");
                break;
            }
            result = r.v;
        }
    }
    e->slots = saved;
    e->depth--;
    if (e->st != WW_OK)
        return NULL;
    if (!result && g->dflt)
        result = g->dflt->chain[0].value->val;
    return result;
}

void wwp_ev_init(wwp_ev *e, const wwp_policy *p, wwp_arena *a, wwp_err *err)
{
    memset(e, 0, sizeof(*e));
    e->p = p;
    e->a = a;
    e->err = err;
    e->data = p->base_data ? p->base_data : &wwp_v_empty_obj;
    e->max_steps = p->max_steps;
    e->max_depth = p->max_depth;
    e->strict = p->strict;
    e->cache = wwp_alloc_array(a, p->ngroups ? p->ngroups : 1, sizeof(*e->cache));
    if (!e->cache)
        wwp_ev_oom(e);
}
