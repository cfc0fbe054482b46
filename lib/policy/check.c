/* Compile step: groups rules into the package tree, resolves names (local
 * variables, rules, imports, input/data), resolves calls, folds constants,
 * orders every body so each variable is bound before it is needed (OPA's
 * safety check and reordering) and rejects recursion. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/lex.h"
#include "policy/policy_int.h"

/* ---- scopes ---------------------------------------------------------------- */

typedef struct sname {
    const char *name;
    int slot;
    bool declared; /* some / := / every / argument: visible after its literal */
} sname;

typedef struct scope {
    struct scope *parent;
    sname *names;
    size_t n, cap;
    const char **bodywide; /* names used undeclared at this body's top level */
    size_t nbw;
    unsigned depth; /* nesting level: slots remember it to find outer variables */
} scope;

typedef struct slotset slotset;
typedef struct cx {
    wwp_policy *p;
    wwp_arena *a;
    wwp_module *m; /* NULL for a query */
    wwp_group *g;  /* group being checked (recursion edges) */
    const char *file;
    wwp_err *err;
    ww_status st;
    int nslots;
    int8_t *slot_owner_depth; /* scope depth owning each slot */
    const char **slot_names;
    unsigned depth; /* scope nesting */
    bool head_only; /* resolving a ref head: the caller resolves the whole ref */
    slotset *enum_sink; /* where ref-key variables go (unification keeps them apart) */
    wwp_group ***edges; /* per group: referenced groups */
    size_t *nedges, *capedges;
} cx;

static bool cfail(cx *c, const char *code, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool cfail(cx *c, const char *code, uint32_t line, uint32_t col, const char *fmt, ...)
{
    if (c->st == WW_OK) {
        char msg[360];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        wwp_err_set(c->err, code, c->file, line, col, "%s", msg);
        c->st = WW_E_POLICY_PARSE;
    }
    return false;
}

static bool coom(cx *c)
{
    if (c->st == WW_OK) {
        c->st = c->a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM;
        wwp_err_set(c->err, "rego_compile_error", c->file, 1, 1, "out of memory while compiling");
    }
    return false;
}

static int new_slot(cx *c, const char *name, unsigned depth)
{
    if (c->nslots >= WWP_MAX_SLOTS) {
        cfail(c, "rego_compile_error", 1, 1, "too many variables in one rule (limit %d)",
              WWP_MAX_SLOTS);
        return -1;
    }
    c->slot_owner_depth[c->nslots] = (int8_t)(depth > 120 ? 120 : depth);
    c->slot_names[c->nslots] = name;
    return c->nslots++;
}

static bool scope_add(cx *c, scope *s, const char *name, int slot, bool declared)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        sname *nn = wwp_alloc_array(c->a, cap, sizeof(*nn));
        if (!nn)
            return coom(c);
        if (s->n)
            memcpy(nn, s->names, s->n * sizeof(*nn));
        s->names = nn;
        s->cap = cap;
    }
    s->names[s->n++] = (sname){name, slot, declared};
    return true;
}

static sname *scope_find(scope *s, const char *name, bool declared_only)
{
    for (size_t i = s->n; i-- > 0;)
        if (strcmp(s->names[i].name, name) == 0 && (!declared_only || s->names[i].declared))
            return &s->names[i];
    return NULL;
}

static bool in_bodywide(scope *s, const char *name)
{
    for (size_t i = 0; i < s->nbw; i++)
        if (strcmp(s->bodywide[i], name) == 0)
            return true;
    return false;
}

/* ---- the package tree -------------------------------------------------------- */

static wwp_tnode *tnode_kid(cx *c, wwp_tnode *t, const char *name, size_t len, bool create)
{
    for (size_t i = 0; i < t->nkids; i++)
        if (strlen(t->kids[i]->name) == len && memcmp(t->kids[i]->name, name, len) == 0)
            return t->kids[i];
    if (!create)
        return NULL;
    wwp_tnode *k = wwp_alloc(c->a, sizeof(*k));
    if (!k || !(k->name = wwp_strndup(c->a, name, len))) {
        coom(c);
        return NULL;
    }
    if (t->nkids == t->capkids) {
        size_t cap = t->capkids ? t->capkids * 2 : 4;
        wwp_tnode **nk = wwp_alloc_array(c->a, cap, sizeof(*nk));
        if (!nk) {
            coom(c);
            return NULL;
        }
        if (t->nkids)
            memcpy(nk, t->kids, t->nkids * sizeof(*nk));
        t->kids = nk;
        t->capkids = cap;
    }
    k->depth = t->depth + 1;
    k->path = wwp_alloc_array(c->a, k->depth, sizeof(char *));
    if (!k->path) {
        coom(c);
        return NULL;
    }
    if (t->depth)
        memcpy(k->path, t->path, t->depth * sizeof(char *));
    k->path[t->depth] = k->name;
    t->kids[t->nkids++] = k;
    return k;
}

static wwp_tnode *pkg_node(cx *c, wwp_module *m)
{
    wwp_tnode *t = c->p->root;
    for (size_t i = 0; t && i < m->npkg; i++)
        t = tnode_kid(c, t, m->pkg[i], strlen(m->pkg[i]), true);
    return t;
}

static char *path_text(cx *c, wwp_tnode *t)
{
    size_t n = 5;
    for (size_t i = 0; i < t->depth; i++)
        n += strlen(t->path[i]) + 1;
    char *s = wwp_alloc(c->a, n);
    if (!s) {
        coom(c);
        return NULL;
    }
    strcpy(s, "data");
    for (size_t i = 0; i < t->depth; i++) {
        strcat(s, ".");
        strcat(s, t->path[i]);
    }
    return s;
}

static const char *form_name(int kind)
{
    switch (kind) {
    case G_COMPLETE: return "complete rule";
    case G_SET: return "partial set rule (contains)";
    case G_OBJ: return "partial object rule (name[key])";
    case G_OBJSET: return "object-of-sets rule (name[key] contains)";
    default: return "function";
    }
}

static bool add_rule(cx *c, wwp_module *m, wwp_rule *r)
{
    wwp_tnode *pk = pkg_node(c, m);
    wwp_tnode *t = pk ? tnode_kid(c, pk, r->name, strlen(r->name), true) : NULL;
    if (!t)
        return false;
    int kind = r->form == RF_COMPLETE ? G_COMPLETE
               : r->form == RF_SET    ? G_SET
               : r->form == RF_OBJ    ? G_OBJ
               : r->form == RF_OBJSET ? G_OBJSET
                                      : G_FUNC;
    wwp_group *g = t->rule;
    if (!g) {
        g = wwp_alloc(c->a, sizeof(*g));
        if (!g || !(g->path = path_text(c, t)))
            return coom(c);
        g->kind = (uint8_t)kind;
        g->tnode = t;
        g->arity = r->def->nargs;
        t->rule = g;
        if (c->p->ngroups == c->p->capgroups) {
            size_t cap = c->p->capgroups ? c->p->capgroups * 2 : 16;
            wwp_group **ng = wwp_alloc_array(c->a, cap, sizeof(*ng));
            if (!ng)
                return coom(c);
            if (c->p->ngroups)
                memcpy(ng, c->p->groups, c->p->ngroups * sizeof(*ng));
            c->p->groups = ng;
            c->p->capgroups = cap;
        }
        g->id = (int)c->p->ngroups;
        c->p->groups[c->p->ngroups++] = g;
    } else if (g->kind != kind) {
        return cfail(c, "rego_type_error", r->line, r->col,
                     "conflicting rules %s found: a %s and a %s", g->path, form_name(g->kind),
                     form_name(kind));
    } else if (kind == G_FUNC && g->arity != r->def->nargs) {
        return cfail(c, "rego_type_error", r->line, r->col,
                     "conflicting rules %s found: functions with %zu and %zu arguments", g->path,
                     g->arity, r->def->nargs);
    }
    if (t->nkids)
        return cfail(c, "rego_type_error", r->line, r->col,
                     "rule %s conflicts with a package of the same name", g->path);
    if (r->is_default) {
        if (g->dflt)
            return cfail(c, "rego_type_error", r->line, r->col, "multiple default rules %s found",
                         g->path);
        g->dflt = r->def;
        return true;
    }
    if (g->ndefs == g->capdefs) {
        size_t cap = g->capdefs ? g->capdefs * 2 : 4;
        wwp_rdef **nd = wwp_alloc_array(c->a, cap, sizeof(*nd));
        if (!nd)
            return coom(c);
        if (g->ndefs)
            memcpy(nd, g->defs, g->ndefs * sizeof(*nd));
        g->defs = nd;
        g->capdefs = cap;
    }
    g->defs[g->ndefs++] = r->def;
    return true;
}

static void add_edge(cx *c, wwp_group *to)
{
    if (!c->g || !c->edges)
        return;
    int id = c->g->id;
    if (c->nedges[id] == c->capedges[id]) {
        size_t cap = c->capedges[id] ? c->capedges[id] * 2 : 4;
        wwp_group **ne = wwp_alloc_array(c->a, cap, sizeof(*ne));
        if (!ne) {
            coom(c);
            return;
        }
        if (c->nedges[id])
            memcpy(ne, c->edges[id], c->nedges[id] * sizeof(*ne));
        c->edges[id] = ne;
        c->capedges[id] = cap;
    }
    c->edges[id][c->nedges[id]++] = to;
}

/* Every rule below a package node is a dependency of whoever reads it whole. */
static void add_pkg_edges(cx *c, wwp_tnode *t, unsigned depth)
{
    if (depth > 64)
        return;
    if (t->rule)
        add_edge(c, t->rule);
    for (size_t i = 0; i < t->nkids; i++)
        add_pkg_edges(c, t->kids[i], depth + 1);
}

/* ---- name resolution ---------------------------------------------------------- */

static bool is_str_node(const wwp_node *n)
{
    return n->type == N_SCALAR && n->val->kind == WWP_STR;
}

static wwp_import *find_alias(cx *c, const char *name)
{
    if (!c->m)
        return NULL;
    for (size_t i = 0; i < c->m->nimports; i++)
        if (strcmp(c->m->imports[i].alias, name) == 0)
            return &c->m->imports[i];
    return NULL;
}

static wwp_tnode *pkg_rule_node(cx *c, const char *name)
{
    if (!c->m)
        return NULL;
    wwp_tnode *t = c->p->root;
    for (size_t i = 0; t && i < c->m->npkg; i++)
        t = tnode_kid(c, t, c->m->pkg[i], strlen(c->m->pkg[i]), false);
    return t ? tnode_kid(c, t, name, strlen(name), false) : NULL;
}

static bool is_global_name(cx *c, const char *name)
{
    return strcmp(name, "input") == 0 || strcmp(name, "data") == 0 || find_alias(c, name) ||
           pkg_rule_node(c, name);
}

/* Resolve a data reference statically: walk constant path elements through the
 * tree. r is an N_REF whose head is N_DATA. */
static void resolve_data(cx *c, wwp_node *r)
{
    wwp_tnode *t = c->p->root;
    size_t i = 0;
    for (; i < r->npath && !t->rule; i++) {
        wwp_node *e = r->path[i];
        if (!is_str_node(e))
            break;
        wwp_tnode *k = tnode_kid(c, t, e->val->s, e->val->len, false);
        if (!k) {
            /* Beyond the rules: plain base data. */
            r->dkind = D_BASE;
            r->dskip = 0;
            r->tnode = NULL;
            return;
        }
        t = k;
    }
    r->tnode = t;
    r->dskip = i;
    if (t->rule) {
        r->dkind = D_RULE;
        add_edge(c, t->rule);
    } else {
        r->dkind = D_PKG;
        add_pkg_edges(c, t, 0);
    }
}

/* Turn a global head (input, data, alias, rule name) into a ref. n is either a
 * bare N_VAR or an N_REF whose head is that var; it is rewritten in place. */
static bool globalize(cx *c, wwp_node *n)
{
    wwp_node *var = n->type == N_VAR ? n : n->head;
    wwp_node **tail = n->type == N_REF ? n->path : NULL;
    size_t ntail = n->type == N_REF ? n->npath : 0;
    wwp_node **prefix = NULL;
    size_t nprefix = 0;
    int headtype;
    wwp_import *im = NULL;
    if (strcmp(var->name, "input") == 0) {
        headtype = N_INPUT;
    } else if (strcmp(var->name, "data") == 0) {
        headtype = N_DATA;
    } else if ((im = find_alias(c, var->name)) != NULL) {
        wwp_node *ir = im->ref;
        wwp_node *ih = ir->type == N_REF ? ir->head : ir;
        headtype = strcmp(ih->name, "input") == 0 ? N_INPUT : N_DATA;
        prefix = ir->type == N_REF ? ir->path : NULL;
        nprefix = ir->type == N_REF ? ir->npath : 0;
    } else {
        headtype = N_DATA;
        nprefix = c->m->npkg + 1;
        prefix = wwp_alloc_array(c->a, nprefix, sizeof(*prefix));
        if (!prefix)
            return coom(c);
        for (size_t i = 0; i < nprefix; i++) {
            const char *s = i < c->m->npkg ? c->m->pkg[i] : var->name;
            wwp_node *sn = wwp_alloc(c->a, sizeof(*sn));
            if (!sn || !(sn->val = wwp_str(c->a, s, strlen(s))))
                return coom(c);
            sn->type = N_SCALAR;
            sn->line = var->line;
            sn->col = var->col;
            prefix[i] = sn;
        }
    }
    wwp_node *head = wwp_alloc(c->a, sizeof(*head));
    if (!head)
        return coom(c);
    head->type = (uint8_t)headtype;
    head->line = var->line;
    head->col = var->col;
    head->slot = -1;
    size_t np = nprefix + ntail;
    wwp_node **path = np ? wwp_alloc_array(c->a, np, sizeof(*path)) : NULL;
    if (np && !path)
        return coom(c);
    if (nprefix)
        memcpy(path, prefix, nprefix * sizeof(*path));
    if (ntail)
        memcpy(path + nprefix, tail, ntail * sizeof(*path));
    n->type = N_REF;
    n->head = head;
    n->path = path;
    n->npath = np;
    n->slot = -1;
    if (headtype == N_DATA && !c->head_only)
        resolve_data(c, n);
    return true;
}

static bool resolve_query(cx *c, wwp_query *q, scope *s);

/* Resolve a variable occurrence. `declare`: the literal declares it (:=,
 * some, every, arguments). */
static bool resolve_var(cx *c, wwp_node *v, scope *s, bool declare)
{
    if (v->wildcard) {
        v->slot = new_slot(c, NULL, s->depth);
        return v->slot >= 0;
    }
    if (declare) {
        sname *prev = scope_find(s, v->name, true);
        if (prev && prev->declared)
            return cfail(c, "rego_compile_error", v->line, v->col, "var %s assigned above",
                         v->name);
        v->slot = new_slot(c, v->name, s->depth);
        return v->slot >= 0 && scope_add(c, s, v->name, v->slot, true);
    }
    for (scope *x = s; x; x = x->parent) {
        sname *f = scope_find(x, v->name, true);
        if (f) {
            v->slot = f->slot;
            return true;
        }
    }
    if (is_global_name(c, v->name))
        return globalize(c, v);
    for (scope *x = s; x; x = x->parent) {
        sname *f = scope_find(x, v->name, false);
        if (f) {
            v->slot = f->slot;
            return true;
        }
        if (x != s && in_bodywide(x, v->name)) {
            /* Used by an enclosing body later on: it is that body's variable. */
            int slot = new_slot(c, v->name, x->depth);
            if (slot < 0)
                return false;
            v->slot = slot;
            return scope_add(c, x, v->name, slot, false);
        }
    }
    v->slot = new_slot(c, v->name, s->depth);
    return v->slot >= 0 && scope_add(c, s, v->name, v->slot, false);
}

static bool resolve_call(cx *c, wwp_node *n)
{
    const char *name = n->name;
    wwp_group *fn = NULL;
    if (!strchr(name, '.')) {
        wwp_tnode *t = pkg_rule_node(c, name);
        if (t && t->rule)
            fn = t->rule;
    } else {
        /* data.a.b.f or alias.f */
        char first[128];
        const char *dot = strchr(name, '.');
        size_t fl = (size_t)(dot - name);
        wwp_tnode *t = NULL;
        const char *rest = NULL;
        if (fl < sizeof(first)) {
            memcpy(first, name, fl);
            first[fl] = '\0';
            wwp_import *im = find_alias(c, first);
            if (strcmp(first, "data") == 0) {
                t = c->p->root;
                rest = dot + 1;
            } else if (im && im->ref->type == N_REF && strcmp(im->ref->head->name, "data") == 0) {
                t = c->p->root;
                for (size_t i = 0; t && i < im->ref->npath; i++)
                    t = is_str_node(im->ref->path[i])
                            ? tnode_kid(c, t, im->ref->path[i]->val->s, im->ref->path[i]->val->len,
                                        false)
                            : NULL;
                rest = dot + 1;
            }
        }
        while (t && rest && *rest) {
            const char *d2 = strchr(rest, '.');
            size_t l = d2 ? (size_t)(d2 - rest) : strlen(rest);
            t = tnode_kid(c, t, rest, l, false);
            rest = d2 ? d2 + 1 : NULL;
        }
        if (t && !rest && t->rule)
            fn = t->rule;
        else if (t && !rest && strncmp(name, "data.", 5) == 0)
            return cfail(c, "rego_type_error", n->line, n->col, "%s is a package, not a function",
                         name);
    }
    size_t arity;
    if (fn) {
        if (fn->kind != G_FUNC)
            return cfail(c, "rego_type_error", n->line, n->col, "%s is a rule, not a function",
                         fn->path);
        n->fn = fn;
        arity = fn->arity;
        add_edge(c, fn);
    } else {
        int bi = wwp_builtin_find(name);
        if (bi < 0) {
            const char *rep = wwp_builtin_deprecated(name);
            if (rep)
                return cfail(c, "rego_type_error", n->line, n->col,
                             "deprecated built-in function %s is not available in Rego v1: use %s",
                             name, rep);
            return cfail(c, "rego_type_error", n->line, n->col, "undefined function %s", name);
        }
        n->builtin = bi;
        arity = (size_t)wwp_builtin_arity(bi);
    }
    if (n->n == arity + 1) {
        n->out_arg = true;
    } else if (n->n != arity) {
        return cfail(c, "rego_type_error", n->line, n->col,
                     "%s: %s arguments (takes %zu, got %zu)", name,
                     n->n > arity ? "too many" : "too few", arity, n->n);
    }
    return true;
}

/* Fold constant composites so hot loops compare against ready values. */
static void fold(cx *c, wwp_node *n)
{
    bool all = true;
    switch (n->type) {
    case N_SCALAR:
        n->ground_const = true;
        return;
    case N_ARRAY:
    case N_SET:
    case N_OBJECT:
        for (size_t i = 0; i < n->n && all; i++)
            all = n->items[i]->ground_const && (n->type != N_OBJECT || n->vals[i]->ground_const);
        break;
    case N_NEG:
        all = n->l->ground_const && n->l->val->kind == WWP_NUM;
        break;
    default:
        return;
    }
    if (!all)
        return;
    wwp_val *v = NULL;
    if (n->type == N_NEG) {
        v = n->l->val->is_int && n->l->val->i != INT64_MIN ? wwp_int(c->a, -n->l->val->i)
                                                             : wwp_num(c->a, -wwp_numd(n->l->val));
    } else {
        wwp_val **items = n->n ? wwp_alloc_array(c->a, n->n, sizeof(*items)) : NULL;
        wwp_val **vals = n->n && n->type == N_OBJECT ? wwp_alloc_array(c->a, n->n, sizeof(*vals))
                                                     : NULL;
        if (n->n && (!items || (n->type == N_OBJECT && !vals))) {
            coom(c);
            return;
        }
        for (size_t i = 0; i < n->n; i++) {
            items[i] = n->items[i]->val;
            if (vals)
                vals[i] = n->vals[i]->val;
        }
        bool conflict = false;
        v = n->type == N_ARRAY ? wwp_arr(c->a, items, n->n)
            : n->type == N_SET ? wwp_set(c->a, items, n->n)
                               : wwp_obj(c->a, items, vals, n->n, false, &conflict);
        if (conflict)
            return; /* left to the evaluator, which reports it */
    }
    if (!v) {
        coom(c);
        return;
    }
    n->val = v;
    n->ground_const = true;
}

/* Resolve names inside an expression. `declare`: vars in pattern positions
 * are declared (left of :=, some ... in). */
static bool resolve_node(cx *c, wwp_node *n, scope *s, bool declare, unsigned depth)
{
    if (!n || c->st != WW_OK)
        return c->st == WW_OK;
    if (depth > WWP_MAX_PARSE_DEPTH)
        return cfail(c, "rego_compile_error", n->line, n->col, "expression nested too deeply");
    switch (n->type) {
    case N_SCALAR:
        n->ground_const = true;
        return true;
    case N_VAR:
        if (!resolve_var(c, n, s, declare))
            return false;
        n->may_enum = false;
        return true;
    case N_REF: {
        wwp_node *h = n->head;
        if (h->type == N_VAR) {
            if (declare && !h->wildcard)
                return cfail(c, "rego_compile_error", n->line, n->col,
                             "cannot assign to a reference");
            c->head_only = true;
            bool ok = resolve_var(c, h, s, false);
            c->head_only = false;
            if (!ok)
                return false;
            if (h->type == N_REF) {
                /* head became a global ref: splice it into this node */
                wwp_node *g = h;
                size_t np = g->npath + n->npath;
                wwp_node **path = wwp_alloc_array(c->a, np, sizeof(*path));
                if (!path)
                    return coom(c);
                if (g->npath)
                    memcpy(path, g->path, g->npath * sizeof(*path));
                memcpy(path + g->npath, n->path, n->npath * sizeof(*path));
                n->head = g->head;
                n->path = path;
                n->npath = np;
                if (n->head->type == N_DATA)
                    resolve_data(c, n);
            }
        } else if (!resolve_node(c, h, s, false, depth + 1)) {
            return false;
        }
        for (size_t i = 0; i < n->npath; i++) {
            if (!resolve_node(c, n->path[i], s, false, depth + 1))
                return false;
            if (n->path[i]->type == N_VAR || n->path[i]->may_enum)
                n->may_enum = true;
        }
        if (n->head->may_enum)
            n->may_enum = true;
        return true;
    }
    case N_ARRAY:
    case N_SET:
    case N_OBJECT:
        for (size_t i = 0; i < n->n; i++) {
            if (!resolve_node(c, n->items[i], s, declare && n->type != N_SET, depth + 1))
                return false;
            if (n->type == N_OBJECT && !resolve_node(c, n->vals[i], s, declare, depth + 1))
                return false;
            if (n->items[i]->may_enum || (n->type == N_OBJECT && n->vals[i]->may_enum))
                n->may_enum = true;
        }
        fold(c, n);
        return c->st == WW_OK;
    case N_ARRCOMP:
    case N_SETCOMP:
    case N_OBJCOMP: {
        c->depth++;
        scope cs = {.parent = s, .depth = c->depth};
        bool ok = resolve_query(c, n->body, &cs) &&
                  resolve_node(c, n->term, &cs, false, depth + 1) &&
                  resolve_node(c, n->vterm, &cs, false, depth + 1);
        c->depth--;
        n->may_enum = false; /* always exactly one value */
        return ok;
    }
    case N_CALL:
        if (!resolve_call(c, n))
            return false;
        for (size_t i = 0; i < n->n; i++) {
            bool out = n->out_arg && i + 1 == n->n;
            if (!resolve_node(c, n->items[i], s, false, depth + 1))
                return false;
            if (n->items[i]->may_enum && !out)
                n->may_enum = true;
        }
        return true;
    case N_BINOP:
    case N_MEMBER:
    case N_NEG:
        if (!resolve_node(c, n->key, s, false, depth + 1) ||
            !resolve_node(c, n->l, s, false, depth + 1) ||
            !resolve_node(c, n->r, s, false, depth + 1))
            return false;
        n->may_enum = (n->key && n->key->may_enum) || n->l->may_enum || (n->r && n->r->may_enum);
        if (n->type == N_NEG)
            fold(c, n);
        return c->st == WW_OK;
    default:
        return true;
    }
}

/* Collect top-level variable names of a body (not inside nested bodies), so
 * nested comprehensions see them as the enclosing body's variables. */
/* Calls fn on each direct sub-term of n: a reference's head and path, the
 * items (and values) of a collection or call, an operator's operands.
 * Comprehensions are the callers' business: they open a scope. */
typedef void (*subterm_fn)(void *ctx, wwp_node *child, unsigned depth);

static void each_subterm(wwp_node *n, subterm_fn fn, void *ctx, unsigned depth)
{
    switch (n->type) {
    case N_REF:
        fn(ctx, n->head, depth + 1);
        for (size_t i = 0; i < n->npath; i++)
            fn(ctx, n->path[i], depth + 1);
        return;
    case N_ARRAY:
    case N_SET:
    case N_OBJECT:
    case N_CALL:
        for (size_t i = 0; i < n->n; i++) {
            fn(ctx, n->items[i], depth + 1);
            if (n->type == N_OBJECT)
                fn(ctx, n->vals[i], depth + 1);
        }
        return;
    case N_BINOP:
    case N_MEMBER:
    case N_NEG:
        fn(ctx, n->key, depth + 1);
        fn(ctx, n->l, depth + 1);
        fn(ctx, n->r, depth + 1);
        return;
    default:
        return;
    }
}

typedef struct bodywide_walk {
    cx *c;
    scope *s;
} bodywide_walk;

static void bodywide_term(void *ctx, wwp_node *n, unsigned depth)
{
    bodywide_walk *w = ctx;
    scope *s = w->s;
    if (!n || depth > WWP_MAX_PARSE_DEPTH || w->c->st != WW_OK)
        return;
    if (n->type != N_VAR) {
        each_subterm(n, bodywide_term, w, depth);
        return;
    }
    if (!n->wildcard && !in_bodywide(s, n->name)) {
        const char **nb = wwp_alloc_array(w->c->a, s->nbw + 1, sizeof(*nb));
        if (!nb) {
            coom(w->c);
            return;
        }
        if (s->nbw)
            memcpy(nb, s->bodywide, s->nbw * sizeof(*nb));
        nb[s->nbw++] = n->name;
        s->bodywide = nb;
    }
}

static void collect_bodywide(cx *c, wwp_node *n, scope *s, unsigned depth)
{
    bodywide_walk w = {c, s};
    bodywide_term(&w, n, depth);
}

/* ---- safety: which literal needs and binds which variable -------------------- */

struct slotset {
    int *v;
    size_t n, cap;
};

static bool ss_add(cx *c, slotset *s, int slot)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == slot)
            return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        int *nv = wwp_alloc_array(c->a, cap, sizeof(*nv));
        if (!nv)
            return coom(c);
        if (s->n)
            memcpy(nv, s->v, s->n * sizeof(*nv));
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = slot;
    return true;
}

typedef struct litinfo {
    slotset need, gives, lpat, rpat;
    wwp_node *first_need_node[1];
    bool composite_unify;
} litinfo;

/* Variables a nested body uses from outside (slots owned by shallower scopes). */
static void free_outer(cx *c, wwp_query *q, slotset *out, unsigned depth);

typedef struct free_walk {
    cx *c;
    slotset *out;
} free_walk;

static void free_term(void *ctx, wwp_node *n, unsigned depth)
{
    free_walk *w = ctx;
    cx *c = w->c;
    if (!n || c->st != WW_OK || depth > 4 * WWP_MAX_PARSE_DEPTH)
        return;
    switch (n->type) {
    case N_VAR:
        if (n->slot >= 0 && c->slot_owner_depth[n->slot] < (int8_t)c->depth)
            ss_add(c, w->out, n->slot);
        return;
    case N_ARRCOMP:
    case N_SETCOMP:
    case N_OBJCOMP:
        free_term(w, n->term, depth + 1);
        free_term(w, n->vterm, depth + 1);
        free_outer(c, n->body, w->out, depth + 1);
        return;
    default:
        each_subterm(n, free_term, w, depth);
        return;
    }
}

static void walk_free(cx *c, wwp_node *n, slotset *out, unsigned depth)
{
    free_walk w = {c, out};
    free_term(&w, n, depth);
}

static void free_outer(cx *c, wwp_query *q, slotset *out, unsigned depth)
{
    for (size_t i = 0; q && i < q->n; i++) {
        wwp_lit *l = q->lits[i];
        walk_free(c, l->expr, out, depth);
        walk_free(c, l->rhs, out, depth);
        walk_free(c, l->key, out, depth);
        walk_free(c, l->val, out, depth);
        walk_free(c, l->coll, out, depth);
        for (size_t k = 0; k < l->nvars; k++)
            walk_free(c, l->vars[k], out, depth);
        for (size_t k = 0; k < l->nwith; k++)
            walk_free(c, l->withs[k].value, out, depth);
        free_outer(c, l->body, out, depth + 1);
    }
}

enum { R_IN, R_PAT };

static void collect(cx *c, wwp_node *n, int role, slotset *need, slotset *gives, unsigned depth)
{
    if (!n || c->st != WW_OK || depth > 4 * WWP_MAX_PARSE_DEPTH)
        return;
    switch (n->type) {
    case N_VAR:
        ss_add(c, role == R_PAT ? gives : need, n->slot);
        return;
    case N_REF:
        if (n->head->type == N_VAR)
            ss_add(c, need, n->head->slot);
        else
            collect(c, n->head, R_IN, need, gives, depth + 1);
        for (size_t i = 0; i < n->npath; i++) {
            if (n->path[i]->type == N_VAR)
                ss_add(c, c->enum_sink ? c->enum_sink : gives, n->path[i]->slot);
            else
                collect(c, n->path[i], R_IN, need, gives, depth + 1);
        }
        return;
    case N_ARRAY:
    case N_OBJECT:
        for (size_t i = 0; i < n->n; i++) {
            collect(c, n->items[i], n->type == N_OBJECT ? R_IN : role, need, gives, depth + 1);
            if (n->type == N_OBJECT)
                collect(c, n->vals[i], role, need, gives, depth + 1);
        }
        return;
    case N_SET:
        for (size_t i = 0; i < n->n; i++)
            collect(c, n->items[i], R_IN, need, gives, depth + 1);
        return;
    case N_CALL:
        for (size_t i = 0; i < n->n; i++)
            collect(c, n->items[i], n->out_arg && i + 1 == n->n ? R_PAT : R_IN, need, gives,
                    depth + 1);
        return;
    case N_BINOP:
    case N_MEMBER:
    case N_NEG:
        collect(c, n->key, R_IN, need, gives, depth + 1);
        collect(c, n->l, R_IN, need, gives, depth + 1);
        collect(c, n->r, R_IN, need, gives, depth + 1);
        return;
    case N_ARRCOMP:
    case N_SETCOMP:
    case N_OBJCOMP: {
        slotset fo = {0};
        c->depth++;
        walk_free(c, n->term, &fo, depth + 1);
        walk_free(c, n->vterm, &fo, depth + 1);
        free_outer(c, n->body, &fo, depth + 1);
        c->depth--;
        for (size_t i = 0; i < fo.n; i++)
            ss_add(c, need, fo.v[i]);
        return;
    }
    default:
        return;
    }
}

static bool is_composite(const wwp_node *n)
{
    return n->type == N_ARRAY || n->type == N_OBJECT;
}

static bool all_bound(const slotset *s, const uint8_t *bound)
{
    for (size_t i = 0; i < s->n; i++)
        if (!bound[s->v[i]])
            return false;
    return true;
}

static wwp_node *find_var_node(wwp_node *n, int slot, unsigned depth);

static wwp_node *find_in_lit(wwp_lit *l, int slot)
{
    wwp_node *r = NULL;
    wwp_node *cands[] = {l->expr, l->rhs, l->key, l->val, l->coll};
    for (size_t i = 0; i < 5 && !r; i++)
        r = find_var_node(cands[i], slot, 0);
    for (size_t i = 0; i < l->nwith && !r; i++)
        r = find_var_node(l->withs[i].value, slot, 0);
    return r;
}

static wwp_node *find_var_node(wwp_node *n, int slot, unsigned depth)
{
    if (!n || depth > 4 * WWP_MAX_PARSE_DEPTH)
        return NULL;
    if (n->type == N_VAR && n->slot == slot)
        return n;
    wwp_node *r = NULL;
    if (n->type == N_REF) {
        r = find_var_node(n->head, slot, depth + 1);
        for (size_t i = 0; i < n->npath && !r; i++)
            r = find_var_node(n->path[i], slot, depth + 1);
    }
    if (n->type == N_ARRAY || n->type == N_SET || n->type == N_OBJECT || n->type == N_CALL)
        for (size_t i = 0; i < n->n && !r; i++) {
            r = find_var_node(n->items[i], slot, depth + 1);
            if (!r && n->type == N_OBJECT)
                r = find_var_node(n->vals[i], slot, depth + 1);
        }
    if (!r && (n->type == N_BINOP || n->type == N_MEMBER || n->type == N_NEG)) {
        r = find_var_node(n->key, slot, depth + 1);
        if (!r)
            r = find_var_node(n->l, slot, depth + 1);
        if (!r)
            r = find_var_node(n->r, slot, depth + 1);
    }
    if (!r && (n->type == N_ARRCOMP || n->type == N_SETCOMP || n->type == N_OBJCOMP)) {
        r = find_var_node(n->term, slot, depth + 1);
        if (!r)
            r = find_var_node(n->vterm, slot, depth + 1);
        for (size_t i = 0; n->body && i < n->body->n && !r; i++)
            r = find_in_lit(n->body->lits[i], slot);
    }
    return r;
}

static bool unsafe_err(cx *c, wwp_lit *l, int slot)
{
    wwp_node *v = find_in_lit(l, slot);
    const char *name = c->slot_names[slot] ? c->slot_names[slot] : "_";
    return cfail(c, "rego_unsafe_var_error", v ? v->line : l->line, v ? v->col : l->col,
                 "var %s is unsafe", name);
}

/* Order q's literals so every literal's inputs are bound before it runs. The
 * bound[] array holds the state on entry and is updated. */
static bool order_query(cx *c, wwp_query *q, uint8_t *bound)
{
    size_t n = q->n;
    litinfo *info = wwp_alloc_array(c->a, n, sizeof(*info));
    wwp_lit **out = wwp_alloc_array(c->a, n, sizeof(*out));
    bool *done = wwp_alloc_array(c->a, n, sizeof(*done));
    if (!info || !out || !done)
        return coom(c);
    for (size_t i = 0; i < n; i++) {
        wwp_lit *l = q->lits[i];
        litinfo *li = &info[i];
        switch (l->kind) {
        case L_EXPR:
            collect(c, l->expr, R_IN, &li->need, &li->gives, 0);
            if (l->neg) {
                /* not binds nothing; everything but wildcards must be bound */
                for (size_t k = 0; k < li->gives.n; k++)
                    if (c->slot_names[li->gives.v[k]])
                        ss_add(c, &li->need, li->gives.v[k]);
                li->gives.n = 0;
            }
            break;
        case L_ASSIGN:
            collect(c, l->expr, R_PAT, &li->need, &li->gives, 0);
            collect(c, l->rhs, R_IN, &li->need, &li->gives, 0);
            break;
        case L_UNIFY:
            c->enum_sink = &li->gives;
            collect(c, l->expr, R_PAT, &li->need, &li->lpat, 0);
            collect(c, l->rhs, R_PAT, &li->need, &li->rpat, 0);
            c->enum_sink = NULL;
            for (size_t k = 0; k < li->lpat.n; k++)
                ss_add(c, &li->gives, li->lpat.v[k]);
            for (size_t k = 0; k < li->rpat.n; k++)
                ss_add(c, &li->gives, li->rpat.v[k]);
            li->composite_unify = is_composite(l->expr) && is_composite(l->rhs);
            break;
        case L_SOMEIN:
            collect(c, l->key, R_PAT, &li->need, &li->gives, 0);
            collect(c, l->val, R_PAT, &li->need, &li->gives, 0);
            collect(c, l->coll, R_IN, &li->need, &li->gives, 0);
            break;
        case L_EVERY: {
            collect(c, l->coll, R_IN, &li->need, &li->gives, 0);
            slotset fo = {0};
            c->depth++;
            free_outer(c, l->body, &fo, 0);
            c->depth--;
            for (size_t k = 0; k < fo.n; k++)
                ss_add(c, &li->need, fo.v[k]);
            break;
        }
        default:
            break;
        }
        for (size_t k = 0; k < l->nwith; k++)
            collect(c, l->withs[k].value, R_IN, &li->need, &li->gives, 0);
        /* A variable both needed and given (x in a ref path of its own literal)
         * counts as given. */
        if (c->st != WW_OK)
            return false;
    }
    size_t placed = 0;
    while (placed < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            litinfo *li = &info[i];
            bool ok = true;
            for (size_t k = 0; k < li->need.n && ok; k++) {
                int s = li->need.v[k];
                bool self = false;
                for (size_t j = 0; j < li->gives.n; j++)
                    self |= li->gives.v[j] == s;
                ok = bound[s] || self;
            }
            if (ok && q->lits[i]->kind == L_UNIFY)
                ok = all_bound(&li->lpat, bound) || all_bound(&li->rpat, bound) ||
                     li->composite_unify;
            if (!ok)
                continue;
            done[i] = true;
            out[placed++] = q->lits[i];
            for (size_t k = 0; k < li->gives.n; k++)
                bound[li->gives.v[k]] = 1;
            progress = true;
            break; /* restart: keep the written order where possible */
        }
        if (!progress) {
            for (size_t i = 0; i < n; i++) {
                if (done[i])
                    continue;
                litinfo *li = &info[i];
                for (size_t k = 0; k < li->need.n; k++)
                    if (!bound[li->need.v[k]])
                        return unsafe_err(c, q->lits[i], li->need.v[k]);
                slotset *pat = li->lpat.n ? &li->lpat : &li->rpat;
                for (size_t k = 0; k < pat->n; k++)
                    if (!bound[pat->v[k]])
                        return unsafe_err(c, q->lits[i], pat->v[k]);
            }
            return cfail(c, "rego_unsafe_var_error", q->line, q->col, "body is unsafe");
        }
    }
    q->lits = out;
    return true;
}

static bool resolve_lit(cx *c, wwp_lit *l, scope *s)
{
    switch (l->kind) {
    case L_SOME:
        for (size_t i = 0; i < l->nvars; i++)
            if (!resolve_var(c, l->vars[i], s, true))
                return false;
        return true;
    case L_SOMEIN:
        return resolve_node(c, l->coll, s, false, 0) && resolve_node(c, l->key, s, true, 0) &&
               resolve_node(c, l->val, s, true, 0);
    case L_EVERY: {
        if (!resolve_node(c, l->coll, s, false, 0))
            return false;
        c->depth++;
        scope es = {.parent = s, .depth = c->depth};
        bool ok = (!l->key || resolve_var(c, l->key, &es, true)) &&
                  resolve_var(c, l->val, &es, true) && resolve_query(c, l->body, &es);
        c->depth--;
        return ok;
    }
    case L_ASSIGN:
        if (!resolve_node(c, l->rhs, s, false, 0))
            return false;
        if (l->expr->type != N_VAR && !is_composite(l->expr))
            return cfail(c, "rego_compile_error", l->line, l->col,
                         "cannot assign to this expression (':=' needs a variable or a pattern)");
        return resolve_node(c, l->expr, s, true, 0);
    default:
        if (!resolve_node(c, l->expr, s, false, 0) || !resolve_node(c, l->rhs, s, false, 0))
            return false;
        break;
    }
    return true;
}

static bool resolve_withs(cx *c, wwp_lit *l, scope *s)
{
    for (size_t i = 0; i < l->nwith; i++) {
        wwp_with *w = &l->withs[i];
        if (!resolve_node(c, w->value, s, false, 0))
            return false;
        wwp_node *t = w->target;
        wwp_node *h = t->type == N_REF ? t->head : t;
        if (h->type != N_VAR ||
            (strcmp(h->name, "input") != 0 && strcmp(h->name, "data") != 0))
            return cfail(c, "rego_compile_error", t->line, t->col,
                         "'with' target must be input or data (mocking functions is not supported)");
        for (size_t k = 0; t->type == N_REF && k < t->npath; k++)
            if (!is_str_node(t->path[k]))
                return cfail(c, "rego_compile_error", t->line, t->col,
                             "'with' target path must use constant names");
        w->is_input = strcmp(h->name, "input") == 0;
        w->depth = t->type == N_REF ? t->npath : 0;
        if (!w->is_input) {
            /* does the path reach a rule? */
            wwp_tnode *tn = c->p->root;
            for (size_t k = 0; k < w->depth && tn && !tn->rule; k++)
                tn = tnode_kid(c, tn, t->path[k]->val->s, t->path[k]->val->len, false);
            if (tn && tn->rule) {
                if (tn->depth != w->depth)
                    return cfail(c, "rego_compile_error", t->line, t->col,
                                 "'with' cannot replace part of rule %s", tn->rule->path);
                if (tn->rule->kind == G_FUNC)
                    return cfail(c, "rego_compile_error", t->line, t->col,
                                 "'with' cannot replace function %s", tn->rule->path);
                w->rule = tn->rule;
            } else if (tn && tn->nkids) {
                return cfail(c, "rego_compile_error", t->line, t->col,
                             "'with' cannot replace a package that has rules");
            }
        }
    }
    return true;
}

static bool resolve_query(cx *c, wwp_query *q, scope *s)
{
    for (size_t i = 0; i < q->n; i++) {
        wwp_lit *l = q->lits[i];
        if (l->kind == L_EXPR || l->kind == L_UNIFY) {
            collect_bodywide(c, l->expr, s, 0);
            collect_bodywide(c, l->rhs, s, 0);
        } else if (l->kind == L_ASSIGN) {
            collect_bodywide(c, l->rhs, s, 0);
        } else if (l->kind == L_SOMEIN || l->kind == L_EVERY) {
            collect_bodywide(c, l->coll, s, 0);
        }
    }
    for (size_t i = 0; i < q->n; i++)
        if (!resolve_lit(c, q->lits[i], s) || !resolve_withs(c, q->lits[i], s))
            return false;
    return c->st == WW_OK;
}

/* Order a body and its nested bodies. bound[] = slots bound on entry. */
static bool order_all(cx *c, wwp_query *q, uint8_t *bound);

static bool order_nested_node(cx *c, wwp_node *n, uint8_t *bound, unsigned depth)
{
    if (!n || depth > 4 * WWP_MAX_PARSE_DEPTH)
        return true;
    switch (n->type) {
    case N_ARRCOMP:
    case N_SETCOMP:
    case N_OBJCOMP: {
        /* Own copy of the bound state: inner bindings do not leak out. */
        uint8_t *b2 = wwp_alloc(c->a, WWP_MAX_SLOTS);
        if (!b2)
            return coom(c);
        memcpy(b2, bound, WWP_MAX_SLOTS);
        /* Outer variables a comprehension uses are bound by the time it runs. */
        slotset fo = {0};
        c->depth++;
        walk_free(c, n->term, &fo, 0);
        walk_free(c, n->vterm, &fo, 0);
        free_outer(c, n->body, &fo, 0);
        c->depth--;
        for (size_t i = 0; i < fo.n; i++)
            b2[fo.v[i]] = 1;
        c->depth++;
        bool ok = order_all(c, n->body, b2);
        c->depth--;
        if (!ok)
            return false;
        slotset need = {0}, gives = {0};
        collect(c, n->term, R_IN, &need, &gives, 0);
        collect(c, n->vterm, R_IN, &need, &gives, 0);
        for (size_t i = 0; i < need.n; i++)
            if (!b2[need.v[i]]) {
                wwp_node *v = find_var_node(n->term, need.v[i], 0);
                if (!v)
                    v = find_var_node(n->vterm, need.v[i], 0);
                return cfail(c, "rego_unsafe_var_error", v ? v->line : n->line,
                             v ? v->col : n->col, "var %s is unsafe",
                             c->slot_names[need.v[i]] ? c->slot_names[need.v[i]] : "_");
            }
        return true;
    }
    case N_REF:
        if (!order_nested_node(c, n->head, bound, depth + 1))
            return false;
        for (size_t i = 0; i < n->npath; i++)
            if (!order_nested_node(c, n->path[i], bound, depth + 1))
                return false;
        return true;
    case N_ARRAY:
    case N_SET:
    case N_OBJECT:
    case N_CALL:
        for (size_t i = 0; i < n->n; i++)
            if (!order_nested_node(c, n->items[i], bound, depth + 1) ||
                (n->type == N_OBJECT && !order_nested_node(c, n->vals[i], bound, depth + 1)))
                return false;
        return true;
    case N_BINOP:
    case N_MEMBER:
    case N_NEG:
        return order_nested_node(c, n->key, bound, depth + 1) &&
               order_nested_node(c, n->l, bound, depth + 1) &&
               order_nested_node(c, n->r, bound, depth + 1);
    default:
        return true;
    }
}

static bool order_all(cx *c, wwp_query *q, uint8_t *bound)
{
    uint8_t *entry = wwp_alloc(c->a, WWP_MAX_SLOTS);
    if (!entry)
        return coom(c);
    memcpy(entry, bound, WWP_MAX_SLOTS);
    if (!order_query(c, q, bound))
        return false;
    /* Nested bodies see every outer variable they use as bound (the ordering
     * above made sure of it). */
    uint8_t *all = wwp_alloc(c->a, WWP_MAX_SLOTS);
    if (!all)
        return coom(c);
    for (size_t i = 0; i < q->n; i++) {
        wwp_lit *l = q->lits[i];
        memcpy(all, bound, WWP_MAX_SLOTS);
        wwp_node *ns[] = {l->expr, l->rhs, l->key, l->val, l->coll};
        for (size_t k = 0; k < 5; k++)
            if (!order_nested_node(c, ns[k], all, 0))
                return false;
        for (size_t k = 0; k < l->nwith; k++)
            if (!order_nested_node(c, l->withs[k].value, all, 0))
                return false;
        if (l->kind == L_EVERY) {
            uint8_t *b2 = wwp_alloc(c->a, WWP_MAX_SLOTS);
            if (!b2)
                return coom(c);
            memcpy(b2, all, WWP_MAX_SLOTS);
            if (l->key)
                b2[l->key->slot] = 1;
            b2[l->val->slot] = 1;
            c->depth++;
            bool ok = order_all(c, l->body, b2);
            c->depth--;
            if (!ok)
                return false;
        }
    }
    (void)entry;
    return true;
}

static bool check_head_safe(cx *c, wwp_node *head, const uint8_t *bound)
{
    slotset need = {0}, gives = {0};
    collect(c, head, R_IN, &need, &gives, 0);
    for (size_t k = 0; k < gives.n; k++)
        ss_add(c, &need, gives.v[k]);
    for (size_t i = 0; i < need.n; i++)
        if (!bound[need.v[i]]) {
            wwp_node *v = find_var_node(head, need.v[i], 0);
            return cfail(c, "rego_unsafe_var_error", v ? v->line : head->line,
                         v ? v->col : head->col, "var %s is unsafe",
                         c->slot_names[need.v[i]] ? c->slot_names[need.v[i]] : "_");
        }
    return true;
}

static bool is_ground_pattern(const wwp_node *n)
{
    return n->ground_const;
}

static bool check_rdef(cx *c, wwp_group *g, wwp_rdef *d, bool is_default)
{
    c->file = d->file;
    c->nslots = 0;
    c->depth = 0;
    scope args = {0};
    uint8_t *bound = wwp_alloc(c->a, WWP_MAX_SLOTS);
    if (!bound)
        return coom(c);
    for (size_t i = 0; i < d->nargs; i++)
        if (!resolve_node(c, d->args[i], &args, true, 0))
            return false;
    for (int s = 0; s < c->nslots; s++)
        bound[s] = 1;
    if (is_default) {
        wwp_node *v = d->chain[0].value;
        if (!resolve_node(c, v, &args, false, 0))
            return false;
        if (!v->ground_const)
            return cfail(c, "rego_type_error", v->line, v->col,
                         "default rule value must be a constant");
        d->nslots = (size_t)c->nslots;
        return true;
    }
    (void)g;
    for (size_t b = 0; b < d->nchain; b++) {
        wwp_body *body = &d->chain[b];
        c->depth = 1;
        scope bs = {.parent = &args, .depth = 1};
        uint8_t *bb = wwp_alloc(c->a, WWP_MAX_SLOTS);
        if (!bb)
            return coom(c);
        memcpy(bb, bound, WWP_MAX_SLOTS);
        if (body->q && (!resolve_query(c, body->q, &bs)))
            return false;
        if ((b == 0 && !resolve_node(c, d->key, &bs, false, 0)) ||
            !resolve_node(c, body->value, &bs, false, 0))
            return false;
        if (body->q && !order_all(c, body->q, bb))
            return false;
        if ((b == 0 && d->key && !check_head_safe(c, d->key, bb)) ||
            (body->value && !check_head_safe(c, body->value, bb)))
            return false;
        if (body->value && !order_nested_node(c, body->value, bb, 0))
            return false;
        if (b == 0 && d->key && !order_nested_node(c, d->key, bb, 0))
            return false;
    }
    d->nslots = (size_t)c->nslots;
    return true;
}

/* Recursion: depth-first search with an explicit stack over rule edges. */
static bool check_recursion(cx *c)
{
    size_t ng = c->p->ngroups;
    uint8_t *color = wwp_alloc(c->a, ng ? ng : 1);
    size_t *stk = wwp_alloc_array(c->a, ng + 1, sizeof(size_t));
    size_t *pos = wwp_alloc_array(c->a, ng + 1, sizeof(size_t));
    if (!color || !stk || !pos)
        return coom(c);
    for (size_t root = 0; root < ng; root++) {
        if (color[root])
            continue;
        size_t sp = 0;
        stk[sp] = root;
        pos[sp] = 0;
        color[root] = 1;
        sp++;
        while (sp) {
            size_t g = stk[sp - 1];
            if (pos[sp - 1] < c->nedges[g]) {
                wwp_group *to = c->edges[g][pos[sp - 1]++];
                if (color[to->id] == 1) {
                    wwp_rdef *d = to->ndefs ? to->defs[0] : to->dflt;
                    c->file = d ? d->file : NULL;
                    return cfail(c, "rego_recursion_error", d ? d->line : 1, d ? d->col : 1,
                                 "rule %s is recursive (it depends on itself through %s)",
                                 to->path, c->p->groups[g]->path);
                }
                if (color[to->id] == 0) {
                    color[to->id] = 1;
                    stk[sp] = (size_t)to->id;
                    pos[sp] = 0;
                    sp++;
                }
            } else {
                color[g] = 2;
                sp--;
            }
        }
    }
    return true;
}

ww_status wwp_check_policy(wwp_policy *p, wwp_err *err)
{
    cx c = {.p = p, .a = &p->arena, .err = err};
    c.slot_owner_depth = wwp_alloc(c.a, WWP_MAX_SLOTS);
    c.slot_names = wwp_alloc_array(c.a, WWP_MAX_SLOTS, sizeof(char *));
    p->root = wwp_alloc(c.a, sizeof(*p->root));
    if (!c.slot_owner_depth || !c.slot_names || !p->root)
        return WW_E_NOMEM;
    p->root->name = "data";
    for (wwp_module *m = p->modules; m && c.st == WW_OK; m = m->next) {
        c.m = m;
        c.file = m->file;
        for (size_t i = 0; i < m->nrules && c.st == WW_OK; i++)
            add_rule(&c, m, &m->rules[i]);
    }
    if (c.st != WW_OK)
        return c.st;
    size_t ng = p->ngroups ? p->ngroups : 1;
    c.edges = wwp_alloc_array(c.a, ng, sizeof(*c.edges));
    c.nedges = wwp_alloc_array(c.a, ng, sizeof(size_t));
    c.capedges = wwp_alloc_array(c.a, ng, sizeof(size_t));
    if (!c.edges || !c.nedges || !c.capedges)
        return WW_E_NOMEM;
    for (wwp_module *m = p->modules; m && c.st == WW_OK; m = m->next) {
        c.m = m;
        for (size_t i = 0; i < m->nrules && c.st == WW_OK; i++) {
            wwp_rule *r = &m->rules[i];
            wwp_tnode *pk = pkg_node(&c, m);
            wwp_tnode *t = pk ? tnode_kid(&c, pk, r->name, strlen(r->name), false) : NULL;
            if (!t || !t->rule)
                return WW_E_INTERNAL;
            c.g = t->rule;
            check_rdef(&c, t->rule, r->def, r->is_default);
        }
    }
    if (c.st == WW_OK)
        check_recursion(&c);
    /* A body whose value is a constant gives the same value on every solution:
     * the evaluator may stop at the first one. */
    for (size_t i = 0; i < p->ngroups && c.st == WW_OK; i++) {
        wwp_group *g = p->groups[i];
        bool ok = g->kind == G_COMPLETE || g->kind == G_FUNC;
        for (size_t d = 0; d < g->ndefs && ok; d++)
            for (size_t b = 0; b < g->defs[d]->nchain && ok; b++)
                ok = !g->defs[d]->chain[b].value || is_ground_pattern(g->defs[d]->chain[b].value);
        g->const_value_ok = ok;
    }
    return c.st;
}

ww_status wwp_check_query(wwp_policy *p, wwp_arena *a, wwp_query *q, wwp_cquery *out,
                          wwp_err *err)
{
    cx c = {.p = p, .a = a, .err = err, .file = "query"};
    c.slot_owner_depth = wwp_alloc(a, WWP_MAX_SLOTS);
    c.slot_names = wwp_alloc_array(a, WWP_MAX_SLOTS, sizeof(char *));
    uint8_t *bound = wwp_alloc(a, WWP_MAX_SLOTS);
    if (!c.slot_owner_depth || !c.slot_names || !bound)
        return a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM;
    scope s = {0};
    c.depth = 0;
    if (resolve_query(&c, q, &s))
        order_all(&c, q, bound);
    if (c.st != WW_OK)
        return c.st;
    out->q = q;
    out->nslots = (size_t)c.nslots;
    out->slot_names = c.slot_names;
    out->single = q->n == 1 && q->lits[0]->kind == L_EXPR && !q->lits[0]->neg &&
                          q->lits[0]->nwith == 0
                      ? q->lits[0]->expr
                      : NULL;
    return WW_OK;
}
