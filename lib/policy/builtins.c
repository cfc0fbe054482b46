/* The builtins table and the non-string builtins (aggregates, numbers, types,
 * objects, arrays, sets, JSON). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "policy/builtins.h"

typedef struct bi_row {
    const char *name;
    int arity;
    wwp_builtin_fn fn;
} bi_row;

static const bi_row table[] = {
#define WW_BUILTIN(name, arity, fn) {name, arity, fn},
#include "policy/builtins.def"
#undef WW_BUILTIN
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

int wwp_builtin_find(const char *name)
{
    for (size_t i = 0; i < NTABLE; i++)
        if (strcmp(table[i].name, name) == 0)
            return (int)i;
    return -1;
}
int wwp_builtin_arity(int idx) { return table[idx].arity; }
wwp_builtin_fn wwp_builtin_get(int idx) { return table[idx].fn; }
const char *wwp_builtin_name(int idx) { return table[idx].name; }

const char *wwp_builtin_deprecated(const char *name)
{
    static const char *const dep[][2] = {
        {"re_match", "regex.match"},   {"any", "a comprehension or `some x in xs`"},
        {"all", "every"},              {"set_diff", "the - operator on sets"},
        {"cast_array", "a comprehension"}, {"cast_set", "a set comprehension"},
        {"cast_string", "format_int or sprintf"}, {"cast_boolean", "a comparison"},
        {"cast_null", "null"},         {"cast_object", "an object comprehension"},
        {"net.cidr_overlap", "net.cidr_contains (not supported here)"},
    };
    for (size_t i = 0; i < sizeof(dep) / sizeof(dep[0]); i++)
        if (strcmp(dep[i][0], name) == 0)
            return dep[i][1];
    static const char *const unsupported[] = {"http.send", "net.", "crypto.", "io.jwt.",
                                              "opa.runtime", "rand.", "uuid.", "rego.parse_module",
                                              "trace", "print"};
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
        if (strncmp(name, unsupported[i], strlen(unsupported[i])) == 0)
            return "nothing: it is not supported by weightwall (no network, no I/O, no randomness)";
    return NULL;
}

/* ---- aggregates ---------------------------------------------------------------- */

int bi_count(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *x = a[0];
    if (x->kind == WWP_STR)
        SET_OUT(wwp_int(e->a, (int64_t)wwp_utf8_count(x->s, x->len)));
    NEED(x->kind == WWP_ARR || x->kind == WWP_SET || x->kind == WWP_OBJ, "count",
         "operand must be a string, array, object or set");
    SET_OUT(wwp_int(e->a, (int64_t)x->len));
}

static int fold_num(wwp_ev *e, wwp_val *x, bool prod, wwp_val **out, const char *fname)
{
    NEED(x->kind == WWP_ARR || x->kind == WWP_SET, fname, "operand must be an array or set");
    bool all_int = true;
    int64_t ai = prod ? 1 : 0;
    double ad = prod ? 1 : 0;
    for (size_t i = 0; i < x->len; i++) {
        wwp_val *v = x->items[i];
        NEED(is_num(v), fname, "elements must be numbers");
        if (all_int && v->is_int) {
            int64_t r;
            bool ovf = prod ? __builtin_mul_overflow(ai, v->i, &r) : __builtin_add_overflow(ai, v->i, &r);
            if (!ovf) {
                ai = r;
                ad = (double)r;
                continue;
            }
        }
        if (all_int)
            ad = (double)ai;
        all_int = false;
        ad = prod ? ad * wwp_numd(v) : ad + wwp_numd(v);
    }
    SET_OUT(all_int ? wwp_int(e->a, ai) : wwp_num(e->a, ad));
}

int bi_sum(wwp_ev *e, wwp_val **a, wwp_val **out) { return fold_num(e, a[0], false, out, "sum"); }
int bi_product(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return fold_num(e, a[0], true, out, "product");
}

static int extreme(wwp_ev *e, wwp_val *x, int sign, wwp_val **out, const char *fname)
{
    NEED(x->kind == WWP_ARR || x->kind == WWP_SET, fname, "operand must be an array or set");
    wwp_val *best = NULL;
    for (size_t i = 0; i < x->len; i++)
        if (!best || wwp_cmp(x->items[i], best) * sign > 0)
            best = x->items[i];
    *out = best; /* max([]) is undefined */
    return 0;
}
int bi_max(wwp_ev *e, wwp_val **a, wwp_val **out) { return extreme(e, a[0], 1, out, "max"); }
int bi_min(wwp_ev *e, wwp_val **a, wwp_val **out) { return extreme(e, a[0], -1, out, "min"); }

static int cmp_pp(const void *x, const void *y)
{
    return wwp_cmp(*(wwp_val *const *)x, *(wwp_val *const *)y);
}

int bi_sort(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *x = a[0];
    NEED(x->kind == WWP_ARR || x->kind == WWP_SET, "sort", "operand must be an array or set");
    wwp_val **items = wwp_alloc_array(e->a, x->len ? x->len : 1, sizeof(*items));
    if (!items)
        return wwp_ev_oom(e);
    if (x->len)
        memcpy(items, x->items, x->len * sizeof(*items));
    qsort(items, x->len, sizeof(*items), cmp_pp);
    SET_OUT(wwp_arr(e->a, items, x->len));
}

/* ---- numbers -------------------------------------------------------------------- */

int bi_to_number(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *x = a[0];
    switch (x->kind) {
    case WWP_NUM:
        *out = x;
        return 0;
    case WWP_NULL:
        SET_OUT(wwp_int(e->a, 0));
    case WWP_BOOL:
        SET_OUT(wwp_int(e->a, x->b));
    case WWP_STR: {
        wwp_val *v = NULL;
        char err[8];
        /* A JSON number, nothing else (OPA rejects "0x10", " 1"...). */
        if (x->len == 0 || x->len > 512 ||
            wwp_from_json(e->a, x->s, x->len, 1, &v, err, sizeof(err)) != WW_OK ||
            v->kind != WWP_NUM)
            return wwp_bi_fail(e, "eval_builtin_error", "to_number: invalid syntax");
        *out = v;
        return 0;
    }
    default:
        return wwp_bi_fail(e, "eval_type_error", "to_number: operand must be a number, string, boolean or null");
    }
}

static int round_op(wwp_ev *e, wwp_val *x, double (*f)(double), wwp_val **out, const char *name)
{
    NEED(is_num(x), name, "operand must be a number");
    if (x->is_int) {
        *out = x;
        return 0;
    }
    SET_OUT(wwp_num(e->a, f(x->d)));
}
int bi_round(wwp_ev *e, wwp_val **a, wwp_val **out) { return round_op(e, a[0], round, out, "round"); }
int bi_ceil(wwp_ev *e, wwp_val **a, wwp_val **out) { return round_op(e, a[0], ceil, out, "ceil"); }
int bi_floor(wwp_ev *e, wwp_val **a, wwp_val **out) { return round_op(e, a[0], floor, out, "floor"); }
int bi_abs(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *x = a[0];
    NEED(is_num(x), "abs", "operand must be a number");
    if (x->is_int && x->i != INT64_MIN)
        SET_OUT(x->i < 0 ? wwp_int(e->a, -x->i) : x);
    SET_OUT(wwp_num(e->a, fabs(wwp_numd(x))));
}

int bi_numbers_range(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_int_val(a[0]) && is_int_val(a[1]), "numbers.range", "operands must be integers");
    int64_t lo = a[0]->i, hi = a[1]->i;
    uint64_t n = (lo <= hi ? (uint64_t)hi - (uint64_t)lo : (uint64_t)lo - (uint64_t)hi) + 1;
    if (n > 10000000 || n > e->max_steps - (e->steps < e->max_steps ? e->steps : e->max_steps))
        return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                           "policy step budget exceeded (numbers.range of %llu elements)",
                           (unsigned long long)n);
    e->steps += n;
    wwp_val **items = wwp_alloc_array(e->a, (size_t)n, sizeof(*items));
    if (!items)
        return wwp_ev_oom(e);
    for (uint64_t i = 0; i < n; i++)
        if (!(items[i] = wwp_int(e->a, lo <= hi ? lo + (int64_t)i : lo - (int64_t)i)))
            return wwp_ev_oom(e);
    SET_OUT(wwp_arr(e->a, items, (size_t)n));
}

/* ---- types ------------------------------------------------------------------------ */

#define IS_TYPE(fn, k)                                                                       \
    int fn(wwp_ev *e, wwp_val **a, wwp_val **out)                                            \
    {                                                                                        \
        (void)e;                                                                             \
        *out = wwp_bool(a[0]->kind == (k));                                                  \
        return 0;                                                                            \
    }
IS_TYPE(bi_is_string, WWP_STR)
IS_TYPE(bi_is_number, WWP_NUM)
IS_TYPE(bi_is_boolean, WWP_BOOL)
IS_TYPE(bi_is_array, WWP_ARR)
IS_TYPE(bi_is_object, WWP_OBJ)
IS_TYPE(bi_is_set, WWP_SET)
IS_TYPE(bi_is_null, WWP_NULL)

int bi_type_name(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    const char *n = wwp_type_name(a[0]);
    SET_OUT(wwp_str_nocopy(e->a, n, strlen(n)));
}

/* ---- objects, arrays, sets ------------------------------------------------------ */

int bi_object_get(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *o = a[0], *k = a[1];
    NEED(o->kind == WWP_OBJ, "object.get", "operand 1 must be an object");
    if (k->kind != WWP_ARR) {
        wwp_val *v = wwp_obj_get(o, k);
        *out = v ? v : a[2];
        return 0;
    }
    /* A path: walk nested objects and arrays. */
    wwp_val *v = o;
    for (size_t i = 0; v && i < k->len; i++) {
        wwp_val *key = k->items[i];
        if (v->kind == WWP_OBJ)
            v = wwp_obj_get(v, key);
        else if (v->kind == WWP_ARR && is_int_val(key) && key->i >= 0 && (uint64_t)key->i < v->len)
            v = v->items[key->i];
        else if (v->kind == WWP_SET)
            v = wwp_set_has(v, key) ? key : NULL;
        else
            v = NULL;
    }
    *out = v ? v : a[2];
    return 0;
}

int bi_object_keys(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(a[0]->kind == WWP_OBJ, "object.keys", "operand must be an object");
    wwp_val **items = wwp_alloc_array(e->a, a[0]->len ? a[0]->len : 1, sizeof(*items));
    if (!items)
        return wwp_ev_oom(e);
    if (a[0]->len)
        memcpy(items, a[0]->items, a[0]->len * sizeof(*items));
    SET_OUT(wwp_set(e->a, items, a[0]->len));
}

/* Recursive merge: b wins, nested objects merge (depth bounded by the values). */
static wwp_val *merge(wwp_ev *e, wwp_val *x, wwp_val *y, unsigned depth)
{
    if (x->kind != WWP_OBJ || y->kind != WWP_OBJ || depth > 256)
        return y;
    wwp_vec k = {0}, v = {0};
    for (size_t i = 0; i < x->len; i++) {
        wwp_val *o = wwp_obj_get(y, x->items[i]);
        wwp_val *m = o ? merge(e, x->vals[i], o, depth + 1) : x->vals[i];
        if (!m || !wwp_vec_push(e->a, &k, x->items[i]) || !wwp_vec_push(e->a, &v, m))
            return NULL;
    }
    for (size_t i = 0; i < y->len; i++)
        if (!wwp_obj_get(x, y->items[i]) &&
            (!wwp_vec_push(e->a, &k, y->items[i]) || !wwp_vec_push(e->a, &v, y->vals[i])))
            return NULL;
    return wwp_obj(e->a, k.v, v.v, k.n, true, NULL);
}

int bi_object_union(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(a[0]->kind == WWP_OBJ && a[1]->kind == WWP_OBJ, "object.union", "operands must be objects");
    SET_OUT(merge(e, a[0], a[1], 0));
}

static int filter_keys(wwp_ev *e, wwp_val **a, wwp_val **out, bool keep, const char *fname)
{
    wwp_val *o = a[0], *ks = a[1];
    NEED(o->kind == WWP_OBJ, fname, "operand 1 must be an object");
    NEED(ks->kind == WWP_ARR || ks->kind == WWP_SET || ks->kind == WWP_OBJ, fname,
         "operand 2 must be an array, set or object");
    wwp_vec k = {0}, v = {0};
    for (size_t i = 0; i < o->len; i++) {
        bool listed = false;
        if (ks->kind == WWP_SET)
            listed = wwp_set_has(ks, o->items[i]);
        else if (ks->kind == WWP_OBJ)
            listed = wwp_obj_get(ks, o->items[i]) != NULL;
        else
            for (size_t j = 0; j < ks->len && !listed; j++)
                listed = wwp_eq(ks->items[j], o->items[i]);
        if (listed == keep &&
            (!wwp_vec_push(e->a, &k, o->items[i]) || !wwp_vec_push(e->a, &v, o->vals[i])))
            return wwp_ev_oom(e);
    }
    SET_OUT(wwp_obj(e->a, k.v, v.v, k.n, false, NULL));
}
int bi_object_remove(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return filter_keys(e, a, out, false, "object.remove");
}
int bi_object_filter(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return filter_keys(e, a, out, true, "object.filter");
}

int bi_array_concat(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(a[0]->kind == WWP_ARR && a[1]->kind == WWP_ARR, "array.concat", "operands must be arrays");
    size_t n = a[0]->len + a[1]->len;
    wwp_val **items = wwp_alloc_array(e->a, n ? n : 1, sizeof(*items));
    if (!items)
        return wwp_ev_oom(e);
    if (a[0]->len)
        memcpy(items, a[0]->items, a[0]->len * sizeof(*items));
    if (a[1]->len)
        memcpy(items + a[0]->len, a[1]->items, a[1]->len * sizeof(*items));
    SET_OUT(wwp_arr(e->a, items, n));
}

int bi_array_slice(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(a[0]->kind == WWP_ARR, "array.slice", "operand 1 must be an array");
    NEED(is_int_val(a[1]) && is_int_val(a[2]), "array.slice", "indices must be integers");
    int64_t n = (int64_t)a[0]->len, lo = a[1]->i, hi = a[2]->i;
    if (lo < 0)
        lo = 0;
    if (hi > n)
        hi = n;
    if (hi < lo)
        hi = lo;
    SET_OUT(wwp_arr(e->a, a[0]->items + lo, (size_t)(hi - lo)));
}

static int set_fold(wwp_ev *e, wwp_val *x, bool uni, wwp_val **out, const char *fname)
{
    NEED(x->kind == WWP_SET, fname, "operand must be a set of sets");
    for (size_t i = 0; i < x->len; i++)
        NEED(x->items[i]->kind == WWP_SET, fname, "operand must be a set of sets");
    wwp_vec r = {0};
    if (uni) {
        for (size_t i = 0; i < x->len; i++)
            for (size_t j = 0; j < x->items[i]->len; j++)
                if (!wwp_vec_push(e->a, &r, x->items[i]->items[j]))
                    return wwp_ev_oom(e);
    } else if (x->len) {
        wwp_val *first = x->items[0];
        for (size_t j = 0; j < first->len; j++) {
            bool all = true;
            for (size_t i = 1; i < x->len && all; i++)
                all = wwp_set_has(x->items[i], first->items[j]);
            if (all && !wwp_vec_push(e->a, &r, first->items[j]))
                return wwp_ev_oom(e);
        }
    }
    SET_OUT(wwp_set(e->a, r.v, r.n));
}
int bi_union(wwp_ev *e, wwp_val **a, wwp_val **out) { return set_fold(e, a[0], true, out, "union"); }
int bi_intersection(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return set_fold(e, a[0], false, out, "intersection");
}

int bi_json_marshal(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwi_buf b;
    wwi_buf_init(&b, 64u << 20);
    ww_status st = wwp_to_json(a[0], &b);
    if (st != WW_OK) {
        wwi_buf_free(&b);
        return wwp_ev_fail(e, st, "eval_limit_error", 0, 0, "json.marshal: value too large");
    }
    wwp_val *v = wwp_str(e->a, b.data ? b.data : "", b.len);
    wwi_buf_free(&b);
    SET_OUT(v);
}

int bi_json_unmarshal(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]), "json.unmarshal", "operand must be a string");
    wwp_val *v = NULL;
    char err[120];
    ww_status st = wwp_from_json(e->a, a[0]->s, a[0]->len, 128, &v, err, sizeof(err));
    if (st == WW_E_NOMEM || (st == WW_E_LIMIT && e->a->hit_limit))
        return wwp_ev_oom(e);
    if (st != WW_OK)
        return wwp_bi_fail(e, "eval_builtin_error", "json.unmarshal: %s", err);
    *out = v;
    return 0;
}
