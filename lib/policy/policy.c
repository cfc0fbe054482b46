/* Public policy API: ww_policy_* (see weightwall.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "policy/eval.h"
#include "util/alloc.h"

struct ww_policy {
    wwp_policy p;
};

#define DEFAULT_STEPS 10000000ull
#define DEFAULT_DEPTH 500u /* rule/function nesting; 2000 overflowed an 8 MB stack under ASan */
#define DEFAULT_MEMORY (256ull << 20)
#define MAX_OUTPUT (256u << 20)
#define INPUT_DEPTH 256u

static void put_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* "FILE:LINE:COL: CODE: msg" plus the source line and a caret when known. */
static void format_err(const wwp_policy *p, const wwp_err *e, const char *src, size_t srclen,
                       char *errbuf, size_t errlen)
{
    if (!errbuf || !errlen)
        return;
    if (!e->code) {
        put_err(errbuf, errlen, "policy error");
        return;
    }
    if (!src && e->file && p)
        for (const wwp_module *m = p->modules; m; m = m->next)
            if (m->file == e->file || strcmp(m->file, e->file) == 0) {
                src = m->src;
                srclen = m->srclen;
                break;
            }
    int n;
    if (e->file && e->line)
        n = snprintf(errbuf, errlen, "%s:%u:%u: %s: %s", e->file, e->line, e->col, e->code, e->msg);
    else if (e->line)
        n = snprintf(errbuf, errlen, "%u:%u: %s: %s", e->line, e->col, e->code, e->msg);
    else
        n = snprintf(errbuf, errlen, "%s: %s", e->code, e->msg);
    if (!src || !e->line || n < 0 || (size_t)n >= errlen)
        return;
    /* Source excerpt: the line, then a caret under the column. */
    size_t line = 1, i = 0;
    while (i < srclen && line < e->line) {
        if (src[i++] == '\n')
            line++;
    }
    size_t end = i;
    while (end < srclen && src[end] != '\n' && end - i < 160)
        end++;
    int m = snprintf(errbuf + n, errlen - (size_t)n, "\n    %.*s\n    %*s^", (int)(end - i), src + i,
                     (int)(e->col > 1 && e->col < 200 ? e->col - 1 : 0), "");
    (void)m;
}

ww_status ww_policy_new(ww_policy **out)
{
    *out = NULL;
    ww_policy *w = wwi_calloc(1, sizeof(*w));
    if (!w)
        return WW_E_NOMEM;
    wwp_arena_init(&w->p.arena, 0);
    w->p.max_steps = DEFAULT_STEPS;
    w->p.max_depth = DEFAULT_DEPTH;
    w->p.max_memory = DEFAULT_MEMORY;
    *out = w;
    return WW_OK;
}

void ww_policy_free(ww_policy *p)
{
    if (!p)
        return;
    wwp_arena_free(&p->p.arena);
    wwi_free(p);
}

void ww_policy_set_strict(ww_policy *p, bool strict)
{
    p->p.strict = strict;
}

void ww_policy_set_budget(ww_policy *p, uint64_t max_steps, uint32_t max_depth,
                          uint64_t max_memory)
{
    if (max_steps)
        p->p.max_steps = max_steps;
    if (max_depth)
        p->p.max_depth = max_depth;
    if (max_memory)
        p->p.max_memory = max_memory;
}

void ww_policy_set_now_ns(ww_policy *p, int64_t now_ns)
{
    p->p.fixed_now_ns = now_ns;
}

ww_status ww_policy_add_module(ww_policy *w, const char *filename, const char *text, size_t len,
                               char *errbuf, size_t errlen)
{
    put_err(errbuf, errlen, "%s", "");
    if (!w || !text || w->p.compiled) {
        put_err(errbuf, errlen, "ww_policy_add_module: %s",
                w && w->p.compiled ? "policy already compiled" : "bad argument");
        return WW_E_ARG;
    }
    wwp_policy *p = &w->p;
    const char *fname = wwp_strndup(&p->arena, filename ? filename : "policy.rego",
                                    strlen(filename ? filename : "policy.rego"));
    char *src = wwp_strndup(&p->arena, text, len);
    if (!fname || !src)
        return WW_E_NOMEM;
    wwp_err err = {0};
    wwp_module *m = NULL;
    ww_status st = wwp_parse_module(&p->arena, fname, src, len, &m, &err);
    if (st != WW_OK) {
        format_err(NULL, &err, src, len, errbuf, errlen);
        return st;
    }
    m->src = src;
    m->srclen = len;
    if (p->last_module)
        p->last_module->next = m;
    else
        p->modules = m;
    p->last_module = m;
    return WW_OK;
}

/* Deep merge of base documents; a scalar set twice differently is an error. */
static wwp_val *merge_data(wwp_arena *a, wwp_val *x, wwp_val *y, unsigned depth, bool *clash)
{
    if (x->kind != WWP_OBJ || y->kind != WWP_OBJ || depth > 256) {
        if (!wwp_eq(x, y))
            *clash = true;
        return y;
    }
    wwp_vec k = {0}, v = {0};
    for (size_t i = 0; i < x->len; i++) {
        wwp_val *o = wwp_obj_get(y, x->items[i]);
        wwp_val *m = o ? merge_data(a, x->vals[i], o, depth + 1, clash) : x->vals[i];
        if (!m || !wwp_vec_push(a, &k, x->items[i]) || !wwp_vec_push(a, &v, m))
            return NULL;
    }
    for (size_t i = 0; i < y->len; i++)
        if (!wwp_obj_get(x, y->items[i]) &&
            (!wwp_vec_push(a, &k, y->items[i]) || !wwp_vec_push(a, &v, y->vals[i])))
            return NULL;
    return wwp_obj(a, k.v, v.v, k.n, true, NULL);
}

ww_status ww_policy_add_data_json(ww_policy *w, const char *json, size_t len, char *errbuf,
                                  size_t errlen)
{
    put_err(errbuf, errlen, "%s", "");
    if (!w || !json || w->p.compiled)
        return WW_E_ARG;
    wwp_policy *p = &w->p;
    wwp_val *v = NULL;
    char msg[200];
    ww_status st = wwp_from_json(&p->arena, json, len, INPUT_DEPTH, &v, msg, sizeof(msg));
    if (st != WW_OK) {
        put_err(errbuf, errlen, "data: %s", msg);
        return st == WW_E_NOMEM ? st : WW_E_POLICY_PARSE;
    }
    if (v->kind != WWP_OBJ) {
        put_err(errbuf, errlen, "data: the document must be a JSON object");
        return WW_E_POLICY_PARSE;
    }
    if (p->base_data) {
        bool clash = false;
        v = merge_data(&p->arena, p->base_data, v, 0, &clash);
        if (!v)
            return WW_E_NOMEM;
        if (clash) {
            put_err(errbuf, errlen, "data: two data documents set the same value differently");
            return WW_E_POLICY_PARSE;
        }
    }
    p->base_data = v;
    return WW_OK;
}

ww_status ww_policy_compile(ww_policy *w, char *errbuf, size_t errlen)
{
    put_err(errbuf, errlen, "%s", "");
    if (!w)
        return WW_E_ARG;
    if (w->p.compiled)
        return WW_OK;
    wwp_err err = {0};
    ww_status st = wwp_check_policy(&w->p, &err);
    if (st != WW_OK) {
        format_err(&w->p, &err, NULL, 0, errbuf, errlen);
        return st;
    }
    w->p.compiled = true;
    return WW_OK;
}

void ww_policy_string_free(char *s)
{
    wwi_free(s);
}

/* ---- evaluation ------------------------------------------------------------ */

typedef struct run {
    wwp_arena arena;
    wwp_ev e;
    wwp_err err;
    wwp_cquery cq;
    wwp_val **frame;
} run;

static ww_status run_start(const ww_policy *w, run *r, const char *query, const char *input,
                           size_t input_len, char *errbuf, size_t errlen)
{
    const wwp_policy *p = &w->p;
    memset(r, 0, sizeof(*r));
    wwp_arena_init(&r->arena, (size_t)p->max_memory);
    /* Values take about 4x the JSON text; one chunk avoids malloc churn. */
    if (input && input_len < (64u << 20))
        wwp_arena_reserve(&r->arena, input_len * 4 + (64u << 10));
    wwp_ev_init(&r->e, p, &r->arena, &r->err);
    if (r->e.st != WW_OK)
        return r->e.st;
    if (p->fixed_now_ns) {
        r->e.now_ns = p->fixed_now_ns;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->e.now_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    if (input) {
        char msg[200];
        ww_status st = wwp_from_json(&r->arena, input, input_len, INPUT_DEPTH, &r->e.input, msg,
                                     sizeof(msg));
        if (st != WW_OK) {
            put_err(errbuf, errlen, "input: %s", msg);
            return st == WW_E_POLICY_PARSE ? WW_E_FORMAT : st;
        }
    }
    if (query) {
        wwp_query *q = NULL;
        ww_status st = wwp_parse_query(&r->arena, query, strlen(query), &q, &r->err);
        if (st == WW_OK)
            st = wwp_check_query((wwp_policy *)p, &r->arena, q, &r->cq, &r->err);
        if (st != WW_OK) {
            format_err(NULL, &r->err, query, strlen(query), errbuf, errlen);
            return st;
        }
        r->frame = wwp_alloc_array(&r->arena, r->cq.nslots ? r->cq.nslots : 1, sizeof(wwp_val *));
        if (!r->frame)
            return WW_E_NOMEM;
        r->e.slots = r->frame;
    }
    return WW_OK;
}

static void run_end(run *r)
{
    wwp_ev_cleanup(&r->e);
    wwp_arena_free(&r->arena);
}

static ww_status eval_status(run *r, const ww_policy *w, char *errbuf, size_t errlen)
{
    ww_status st = r->e.st != WW_OK ? r->e.st : WW_E_INTERNAL;
    format_err(&w->p, &r->err, NULL, 0, errbuf, errlen);
    return st;
}

static ww_status to_json(const wwp_val *v, char **out)
{
    wwi_buf b;
    wwi_buf_init(&b, MAX_OUTPUT);
    ww_status st = wwp_to_json(v, &b);
    if (st != WW_OK) {
        wwi_buf_free(&b);
        return st;
    }
    *out = wwi_buf_take(&b);
    return *out ? WW_OK : WW_E_NOMEM;
}

typedef struct collect {
    wwp_vec vals;
} collect;

static int collect_val(wwp_ev *e, wwp_val *v, void *ctx)
{
    collect *c = ctx;
    for (size_t i = 0; i < c->vals.n; i++)
        if (wwp_eq(c->vals.v[i], v))
            return K_CONT;
    if (!wwp_vec_push(e->a, &c->vals, v))
        return wwp_ev_oom(e);
    return K_CONT;
}

ww_status ww_policy_eval(const ww_policy *w, const char *query, const char *input,
                         size_t input_len, char **out_json, char *errbuf, size_t errlen)
{
    *out_json = NULL;
    put_err(errbuf, errlen, "%s", "");
    if (!w || !query || !w->p.compiled) {
        put_err(errbuf, errlen, "ww_policy_eval: %s", w && !w->p.compiled ? "policy not compiled" : "bad argument");
        return WW_E_ARG;
    }
    run r;
    ww_status st = run_start(w, &r, query, input, input_len, errbuf, errlen);
    if (st == WW_OK && !r.cq.single) {
        put_err(errbuf, errlen, "query: expected one expression such as data.pkg.rule "
                                "(use a query with variables through `policy eval --all`)");
        st = WW_E_ARG;
    }
    if (st == WW_OK) {
        collect c = {0};
        if (wwp_eval_gen(&r.e, r.cq.single, collect_val, &c) == K_ERR || r.e.st != WW_OK) {
            st = eval_status(&r, w, errbuf, errlen);
        } else if (c.vals.n > 1) {
            put_err(errbuf, errlen, "query has %zu different values; use a query with a variable",
                    c.vals.n);
            st = WW_E_POLICY_EVAL;
        } else if (c.vals.n == 1) {
            st = to_json(c.vals.v[0], out_json);
        }
    }
    run_end(&r);
    return st;
}

typedef struct solutions {
    run *r;
    wwp_vec sols;
} solutions;

static int record_solution(wwp_ev *e, void *ctx)
{
    solutions *s = ctx;
    wwp_vec k = {0}, v = {0};
    for (size_t i = 0; i < s->r->cq.nslots; i++) {
        const char *name = s->r->cq.slot_names[i];
        if (!name || strncmp(name, "__local", 7) == 0 || !e->slots[i])
            continue;
        bool dup = false;
        for (size_t j = 0; j < k.n && !dup; j++)
            dup = k.v[j]->len == strlen(name) && memcmp(k.v[j]->s, name, k.v[j]->len) == 0;
        if (dup)
            continue;
        wwp_val *kn = wwp_str_nocopy(e->a, name, strlen(name));
        if (!kn || !wwp_vec_push(e->a, &k, kn) || !wwp_vec_push(e->a, &v, e->slots[i]))
            return wwp_ev_oom(e);
    }
    wwp_val *o = wwp_obj(e->a, k.v, v.v, k.n, true, NULL);
    if (!o || !wwp_vec_push(e->a, &s->sols, o))
        return wwp_ev_oom(e);
    return K_CONT;
}

ww_status ww_policy_query(const ww_policy *w, const char *query, const char *input,
                          size_t input_len, char **out_json, char *errbuf, size_t errlen)
{
    *out_json = NULL;
    put_err(errbuf, errlen, "%s", "");
    if (!w || !query || !w->p.compiled)
        return WW_E_ARG;
    run r;
    ww_status st = run_start(w, &r, query, input, input_len, errbuf, errlen);
    if (st == WW_OK) {
        solutions s = {&r, {0}};
        if (wwp_eval_query(&r.e, r.cq.q, record_solution, &s) == K_ERR || r.e.st != WW_OK) {
            st = eval_status(&r, w, errbuf, errlen);
        } else {
            wwp_val *arr = wwp_arr(&r.arena, s.sols.v, s.sols.n);
            st = arr ? to_json(arr, out_json) : WW_E_NOMEM;
        }
    }
    run_end(&r);
    return st;
}

/* Reason texts from a rule value: members of a set/array, keys of an object,
 * or the value itself. */
static bool add_reasons(wwp_ev *e, const wwp_val *v, wwp_vec *out)
{
    if (!v)
        return true;
    wwp_val *one[1] = {(wwp_val *)v};
    wwp_val *const *items = one;
    size_t n = 1;
    if (v->kind == WWP_SET || v->kind == WWP_ARR || v->kind == WWP_OBJ) {
        items = v->items;
        n = v->len;
    }
    for (size_t i = 0; i < n; i++) {
        wwp_val *x = items[i];
        if (x->kind != WWP_STR) {
            wwi_buf b;
            wwi_buf_init(&b, 1u << 20);
            if (wwp_to_json(x, &b) != WW_OK) {
                wwi_buf_free(&b);
                return false;
            }
            x = wwp_str(e->a, b.data ? b.data : "", b.len);
            wwi_buf_free(&b);
            if (!x)
                return false;
        }
        if (!wwp_vec_push(e->a, out, x))
            return false;
    }
    return true;
}

ww_status ww_policy_decide(const ww_policy *w, const char *pkg, const char *input,
                           size_t input_len, bool *match, char **reasons_json, char *errbuf,
                           size_t errlen)
{
    *match = false;
    if (reasons_json)
        *reasons_json = NULL;
    put_err(errbuf, errlen, "%s", "");
    if (!w || !pkg || !w->p.compiled || strlen(pkg) > 200)
        return WW_E_ARG;
    char q[256 * 3 + 64];
    snprintf(q, sizeof(q), "[data.%s.match, data.%s.reason, data.%s.deny]", pkg, pkg, pkg);
    run r;
    ww_status st = run_start(w, &r, NULL, input, input_len, errbuf, errlen);
    const char *names[3] = {"match", "reason", "deny"};
    wwp_val *vals[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3 && st == WW_OK; i++) {
        snprintf(q, sizeof(q), "data.%s.%s", pkg, names[i]);
        wwp_query *qq = NULL;
        wwp_cquery cq;
        st = wwp_parse_query(&r.arena, q, strlen(q), &qq, &r.err);
        if (st == WW_OK)
            st = wwp_check_query((wwp_policy *)&w->p, &r.arena, qq, &cq, &r.err);
        if (st != WW_OK) {
            format_err(NULL, &r.err, q, strlen(q), errbuf, errlen);
            break;
        }
        wwp_val *frame[4] = {0};
        r.e.slots = cq.nslots <= 4 ? frame : wwp_alloc_array(&r.arena, cq.nslots, sizeof(wwp_val *));
        collect c = {0};
        if (!r.e.slots || wwp_eval_gen(&r.e, cq.single, collect_val, &c) == K_ERR ||
            r.e.st != WW_OK) {
            st = r.e.st != WW_OK ? eval_status(&r, w, errbuf, errlen) : WW_E_NOMEM;
            break;
        }
        vals[i] = c.vals.n ? c.vals.v[0] : NULL;
        r.e.slots = NULL;
    }
    if (st == WW_OK && vals[0] && vals[0]->kind != WWP_BOOL) {
        put_err(errbuf, errlen, "data.%s.match must be a boolean, got %s", pkg,
                wwp_type_name(vals[0]));
        st = WW_E_POLICY_EVAL;
    }
    if (st == WW_OK) {
        *match = vals[0] && vals[0]->b;
        if (reasons_json) {
            wwp_vec rs = {0};
            if (!add_reasons(&r.e, vals[1], &rs) || !add_reasons(&r.e, vals[2], &rs)) {
                st = WW_E_NOMEM;
            } else {
                wwp_val *set = wwp_set(&r.arena, rs.v, rs.n);
                st = set ? to_json(set, reasons_json) : WW_E_NOMEM;
            }
        }
    }
    run_end(&r);
    return st;
}
