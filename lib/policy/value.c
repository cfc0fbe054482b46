/* Rego values: construction, total order, lookup. See value.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "policy/value.h"

wwp_val wwp_v_null = {.kind = WWP_NULL};
wwp_val wwp_v_true = {.kind = WWP_BOOL, .b = true};
wwp_val wwp_v_false = {.kind = WWP_BOOL, .b = false};
wwp_val wwp_v_empty_arr = {.kind = WWP_ARR};
wwp_val wwp_v_empty_obj = {.kind = WWP_OBJ};
wwp_val wwp_v_empty_set = {.kind = WWP_SET};
wwp_val wwp_v_empty_str = {.kind = WWP_STR, .s = ""};

wwp_val *wwp_int(wwp_arena *a, int64_t i)
{
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_NUM;
        v->is_int = true;
        v->i = i;
        v->d = (double)i;
    }
    return v;
}

wwp_val *wwp_num(wwp_arena *a, double d)
{
    if (!isfinite(d))
        return NULL;
    /* 2^63 is exactly representable; anything integral below it fits. */
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return wwp_int(a, (int64_t)d);
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_NUM;
        v->d = d;
    }
    return v;
}

wwp_val *wwp_str_nocopy(wwp_arena *a, const char *s, size_t len)
{
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_STR;
        v->s = s;
        v->len = len;
    }
    return v;
}

wwp_val *wwp_str(wwp_arena *a, const char *s, size_t len)
{
    char *c = wwp_strndup(a, s, len);
    return c ? wwp_str_nocopy(a, c, len) : NULL;
}

wwp_val *wwp_arr(wwp_arena *a, wwp_val **items, size_t n)
{
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_ARR;
        v->items = items;
        v->len = n;
    }
    return v;
}

static int cmp_pp(const void *x, const void *y)
{
    return wwp_cmp(*(wwp_val *const *)x, *(wwp_val *const *)y);
}

wwp_val *wwp_set(wwp_arena *a, wwp_val **items, size_t n)
{
    if (n > 1) {
        qsort(items, n, sizeof(*items), cmp_pp);
        size_t w = 1;
        for (size_t r = 1; r < n; r++)
            if (!wwp_eq(items[w - 1], items[r]))
                items[w++] = items[r];
        n = w;
    }
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_SET;
        v->items = items;
        v->len = n;
    }
    return v;
}

typedef struct kvpair {
    wwp_val *k, *v;
    size_t pos;
} kvpair;

static int cmp_kv(const void *x, const void *y)
{
    const kvpair *p = x, *q = y;
    int c = wwp_cmp(p->k, q->k);
    if (c != 0)
        return c;
    return p->pos < q->pos ? -1 : p->pos > q->pos; /* stable: keep_last needs order */
}

wwp_val *wwp_obj(wwp_arena *a, wwp_val **keys, wwp_val **vals, size_t n, bool keep_last,
                 bool *conflict)
{
    if (conflict)
        *conflict = false;
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = wwp_cmp(keys[i - 1], keys[i]) < 0;
    if (!sorted) {
        kvpair *p = wwp_alloc_array(a, n, sizeof(*p));
        if (!p)
            return NULL;
        for (size_t i = 0; i < n; i++)
            p[i] = (kvpair){keys[i], vals[i], i};
        qsort(p, n, sizeof(*p), cmp_kv);
        size_t w = 0;
        for (size_t r = 0; r < n; r++) {
            if (w > 0 && wwp_eq(keys[w - 1], p[r].k)) {
                if (keep_last)
                    vals[w - 1] = p[r].v;
                else if (!wwp_eq(vals[w - 1], p[r].v) && conflict)
                    *conflict = true;
                continue;
            }
            keys[w] = p[r].k;
            vals[w] = p[r].v;
            w++;
        }
        n = w;
    }
    wwp_val *v = wwp_alloc(a, sizeof(*v));
    if (v) {
        v->kind = WWP_OBJ;
        v->items = keys;
        v->vals = vals;
        v->len = n;
    }
    return v;
}

bool wwp_vec_push(wwp_arena *a, wwp_vec *vec, wwp_val *x)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        wwp_val **nv = wwp_alloc_array(a, cap, sizeof(*nv));
        if (!nv)
            return false;
        if (vec->n)
            memcpy(nv, vec->v, vec->n * sizeof(*nv));
        vec->v = nv;
        vec->cap = cap;
    }
    vec->v[vec->n++] = x;
    return true;
}

static int cmp_num(const wwp_val *a, const wwp_val *b)
{
    if (a->is_int && b->is_int)
        return a->i < b->i ? -1 : a->i > b->i;
    double x = wwp_numd(a), y = wwp_numd(b);
    return x < y ? -1 : x > y;
}

int wwp_cmp(const wwp_val *a, const wwp_val *b)
{
    if (a == b)
        return 0;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case WWP_NULL:
        return 0;
    case WWP_BOOL:
        return (int)a->b - (int)b->b;
    case WWP_NUM:
        return cmp_num(a, b);
    case WWP_STR: {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = n ? memcmp(a->s, b->s, n) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    case WWP_ARR:
    case WWP_SET:
    case WWP_OBJ: {
        size_t n = a->len < b->len ? a->len : b->len;
        for (size_t i = 0; i < n; i++) {
            int c = wwp_cmp(a->items[i], b->items[i]);
            if (c != 0)
                return c;
            if (a->kind == WWP_OBJ) {
                c = wwp_cmp(a->vals[i], b->vals[i]);
                if (c != 0)
                    return c;
            }
        }
        return a->len < b->len ? -1 : a->len > b->len;
    }
    default:
        return 0;
    }
}

static ssize_t bsearch_idx(wwp_val *const *items, size_t n, const wwp_val *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = wwp_cmp(items[mid], key);
        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

wwp_val *wwp_obj_get(const wwp_val *o, const wwp_val *key)
{
    if (o->kind != WWP_OBJ)
        return NULL;
    ssize_t i = bsearch_idx(o->items, o->len, key);
    return i < 0 ? NULL : o->vals[i];
}

wwp_val *wwp_obj_get_str(const wwp_val *o, const char *key, size_t len)
{
    wwp_val k = {.kind = WWP_STR, .s = key, .len = len};
    return wwp_obj_get(o, &k);
}

bool wwp_set_has(const wwp_val *s, const wwp_val *x)
{
    return s->kind == WWP_SET && bsearch_idx(s->items, s->len, x) >= 0;
}

const char *wwp_type_name(const wwp_val *v)
{
    static const char *const names[] = {"null", "boolean", "number", "string",
                                        "array", "object", "set"};
    return v->kind <= WWP_SET ? names[v->kind] : "unknown";
}
