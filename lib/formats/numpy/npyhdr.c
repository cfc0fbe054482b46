/* Bounded parser for the Python-literal dict of a .npy header, and dtype
 * sizing from numpy's array-protocol type strings. Values are kept in a flat
 * node array (indices, no pointers into a growing array); recursion is
 * limited by max_depth. */
#include <ctype.h>
#include <stdio.h>
#include "formats/numpy/npyhdr.h"
#include "util/alloc.h"
#include "util/strutil.h"

enum pv_kind { PV_DICT, PV_LIST, PV_TUPLE, PV_STR, PV_INT, PV_TRUE, PV_FALSE, PV_NONE };
#define NONE_IDX UINT32_MAX

typedef struct pv {
    enum pv_kind kind;
    const char *s; /* PV_STR: raw text between the quotes */
    size_t n;
    bool escaped;  /* PV_STR: contains a backslash escape */
    uint64_t ival; /* PV_INT (non-negative) */
    bool neg;
    uint32_t first, next, count; /* children (dict: key, value, key, value ...) */
} pv;

typedef struct parser {
    const char *start, *p, *end;
    pv *v;
    uint32_t n, cap;
    uint32_t max_depth;
    char *err;
    size_t errlen;
} parser;

static ww_status fail(parser *ps, const char *why)
{
    snprintf(ps->err, ps->errlen, "%s at header byte %zu", why, (size_t)(ps->p - ps->start));
    return WW_E_FORMAT;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v')
            ps->p++;
        else if (c == '#')
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        else
            break;
    }
}

static ww_status new_node(parser *ps, enum pv_kind k, uint32_t *out)
{
    if (ps->n == ps->cap) {
        uint32_t nc = ps->cap ? ps->cap * 2 : 32;
        void *q = ps->v;
        if (nc < ps->cap || wwi_realloc(&q, (size_t)nc * sizeof(pv)) != WW_OK)
            return WW_E_NOMEM;
        ps->v = q;
        ps->cap = nc;
    }
    memset(&ps->v[ps->n], 0, sizeof(pv));
    ps->v[ps->n].kind = k;
    ps->v[ps->n].first = ps->v[ps->n].next = NONE_IDX;
    *out = ps->n++;
    return WW_OK;
}

static ww_status value(parser *ps, uint32_t depth, uint32_t *out);

static ww_status string(parser *ps, uint32_t *out)
{
    if (*ps->p == 'u' || *ps->p == 'U')
        ps->p++; /* Python 2 unicode prefix: same value */
    char q = ps->p < ps->end ? *ps->p : 0;
    if (q != '\'' && q != '"')
        return fail(ps, "expected a string");
    const char *start = ++ps->p;
    bool esc = false;
    while (ps->p < ps->end && *ps->p != q) {
        if (*ps->p == '\n')
            return fail(ps, "newline in string");
        if (*ps->p == '\\') {
            esc = true;
            ps->p++;
            if (ps->p >= ps->end)
                break;
        }
        ps->p++;
    }
    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    ww_status st = new_node(ps, PV_STR, out);
    if (st != WW_OK)
        return st;
    ps->v[*out].s = start;
    ps->v[*out].n = (size_t)(ps->p - start);
    ps->v[*out].escaped = esc;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && (*ps->p == '\'' || *ps->p == '"'))
        return fail(ps, "implicitly concatenated strings are not supported");
    return WW_OK;
}

static ww_status number(parser *ps, uint32_t *out)
{
    bool neg = false;
    if (*ps->p == '-' || *ps->p == '+') {
        neg = *ps->p == '-';
        ps->p++;
        skip_ws(ps);
    }
    uint64_t v = 0;
    const char *start = ps->p;
    while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
        if (v > (UINT64_MAX - 9) / 10)
            return fail(ps, "integer too large");
        v = v * 10 + (uint64_t)(*ps->p++ - '0');
    }
    if (ps->p == start)
        return fail(ps, "expected a value");
    if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l'))
        ps->p++; /* Python 2 long suffix, stripped by numpy before parsing */
    if (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '.' || *ps->p == '_'))
        return fail(ps, "unsupported number literal");
    ww_status st = new_node(ps, PV_INT, out);
    if (st == WW_OK) {
        ps->v[*out].ival = v;
        ps->v[*out].neg = neg && v != 0;
    }
    return st;
}

static bool word(parser *ps, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) < n || !wwi_bytes_eq(ps->p, w, n))
        return false;
    if ((size_t)(ps->end - ps->p) > n && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_'))
        return false;
    ps->p += n;
    return true;
}

/* Containers: dict {k: v, ...}, list [...], tuple (...). A parenthesised
 * single value without a comma is that value, as in Python. */
static ww_status container(parser *ps, uint32_t depth, uint32_t *out)
{
    char open = *ps->p++, close = open == '{' ? '}' : open == '[' ? ']' : ')';
    enum pv_kind k = open == '{' ? PV_DICT : open == '[' ? PV_LIST : PV_TUPLE;
    uint32_t self;
    ww_status st = new_node(ps, k, &self);
    if (st != WW_OK)
        return st;
    uint32_t last = NONE_IDX;
    bool comma = false;
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, "unterminated container");
        if (*ps->p == close) {
            ps->p++;
            break;
        }
        if (ps->v[self].count > 0 && !comma)
            return fail(ps, "expected ',' between items");
        uint32_t item;
        st = value(ps, depth + 1, &item);
        if (st != WW_OK)
            return st;
        uint32_t items[2] = {item, NONE_IDX};
        if (k == PV_DICT) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, "expected ':' in dict");
            ps->p++;
            st = value(ps, depth + 1, &items[1]);
            if (st != WW_OK)
                return st;
        }
        for (int i = 0; i < 2 && items[i] != NONE_IDX; i++) {
            if (last == NONE_IDX)
                ps->v[self].first = items[i];
            else
                ps->v[last].next = items[i];
            last = items[i];
        }
        ps->v[self].count++;
        skip_ws(ps);
        comma = ps->p < ps->end && *ps->p == ',';
        if (comma)
            ps->p++;
    }
    if (k == PV_TUPLE && ps->v[self].count == 1 && !comma) {
        *out = ps->v[self].first; /* (x) is x */
        return WW_OK;
    }
    *out = self;
    return WW_OK;
}

static ww_status value(parser *ps, uint32_t depth, uint32_t *out)
{
    if (depth > ps->max_depth) {
        snprintf(ps->err, ps->errlen, "header nests deeper than %u", (unsigned)ps->max_depth);
        return WW_E_LIMIT;
    }
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "expected a value");
    char c = *ps->p;
    if (c == '{' || c == '[' || c == '(')
        return container(ps, depth, out);
    if (c == '\'' || c == '"' || ((c == 'u' || c == 'U') && ps->end - ps->p > 1 &&
                                  (ps->p[1] == '\'' || ps->p[1] == '"')))
        return string(ps, out);
    if (isdigit((unsigned char)c) || c == '-' || c == '+')
        return number(ps, out);
    if (word(ps, "True"))
        return new_node(ps, PV_TRUE, out);
    if (word(ps, "False"))
        return new_node(ps, PV_FALSE, out);
    if (word(ps, "None"))
        return new_node(ps, PV_NONE, out);
    return fail(ps, "unsupported literal");
}

static bool str_is(const pv *v, const char *s)
{
    return v->kind == PV_STR && !v->escaped && v->n == strlen(s) && wwi_bytes_eq(v->s, s, v->n);
}

/* One-character type codes (np.dtype('f') etc.): size in bytes, 0 = object. */
static int char_code_size(char c)
{
    switch (c) {
    case 'b': case 'B': case '?': case 'c': return 1;
    case 'h': case 'H': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'q': case 'Q': case 'p': case 'P': case 'd': case 'F': return 8;
    case 'g': case 'D': return 16;
    case 'G': return 32;
    case 'O': return 0;
    default: return -1;
    }
}

/* Array-protocol type string: [<>|=]kind[size][unit]. */
static ww_status typestr_size(parser *ps, const pv *v, wwi_npy_header *h, uint64_t *size)
{
    if (v->escaped || v->n == 0 || v->n > 32)
        return fail(ps, "unsupported dtype string");
    const char *s = v->s, *e = v->s + v->n;
    if (*s == '<' || *s == '>' || *s == '|' || *s == '=')
        s++;
    if (s >= e)
        return fail(ps, "empty dtype");
    char kind = *s++;
    if (s == e) {
        int cs = char_code_size(kind);
        if (cs < 0 && kind != 'S' && kind != 'U' && kind != 'V' && kind != 'a')
            return fail(ps, "unknown dtype code");
        if (kind == 'O')
            h->has_object = true;
        *size = cs < 0 ? 0 : (uint64_t)cs; /* flexible types without a size: 0 */
        return WW_OK;
    }
    if (!strchr("biufcmMOSUVa", kind))
        return fail(ps, "unknown dtype kind");
    uint64_t n = 0;
    const char *d0 = s;
    while (s < e && isdigit((unsigned char)*s)) {
        if (n > 1000000000000ull)
            return fail(ps, "dtype size too large");
        n = n * 10 + (uint64_t)(*s++ - '0');
    }
    if (s == d0)
        return fail(ps, "dtype size missing");
    if (s < e && (kind == 'm' || kind == 'M') && *s == '[') {
        while (s < e && *s != ']')
            s++;
        if (s < e)
            s++;
    }
    if (s != e)
        return fail(ps, "trailing characters in dtype");
    if (kind == 'O')
        h->has_object = true;
    *size = kind == 'U' ? n * 4 : n;
    return WW_OK;
}

static ww_status shape_count(parser *ps, const pv *v, uint64_t *count, bool *overflow,
                             uint32_t *ndim)
{
    *count = 1;
    *overflow = false;
    *ndim = 0;
    if (v->kind == PV_INT) {
        if (v->neg)
            return fail(ps, "negative dimension");
        *count = v->ival;
        *ndim = 1;
        return WW_OK;
    }
    if (v->kind != PV_TUPLE && v->kind != PV_LIST)
        return fail(ps, "shape is not a tuple");
    for (uint32_t i = v->first; i != NONE_IDX; i = ps->v[i].next) {
        const pv *d = &ps->v[i];
        if (d->kind != PV_INT || d->neg)
            return fail(ps, "shape holds a non-integer or negative dimension");
        if (__builtin_mul_overflow(*count, d->ival, count))
            *overflow = true;
        ++*ndim;
    }
    if (*overflow)
        *count = UINT64_MAX;
    return WW_OK;
}

static ww_status descr_size(parser *ps, const pv *v, uint32_t depth, wwi_npy_header *h,
                            uint64_t *size)
{
    if (depth > ps->max_depth)
        return WW_E_LIMIT;
    if (v->kind == PV_STR)
        return typestr_size(ps, v, h, size);
    if (v->kind != PV_LIST)
        return fail(ps, "descr is neither a type string nor a field list");
    *size = 0;
    for (uint32_t i = v->first; i != NONE_IDX; i = ps->v[i].next) {
        const pv *f = &ps->v[i];
        if (f->kind != PV_TUPLE || f->count < 2 || f->count > 3)
            return fail(ps, "structured field is not (name, dtype[, shape])");
        const pv *name = &ps->v[f->first];
        const pv *dt = &ps->v[name->next];
        if (name->kind != PV_STR && name->kind != PV_TUPLE)
            return fail(ps, "structured field name");
        uint64_t fs = 0, cnt = 1;
        ww_status st = descr_size(ps, dt, depth + 1, h, &fs);
        if (st != WW_OK)
            return st;
        if (f->count == 3) {
            bool of = false;
            uint32_t nd;
            st = shape_count(ps, &ps->v[dt->next], &cnt, &of, &nd);
            if (st != WW_OK)
                return st;
            if (of)
                return fail(ps, "field shape overflows");
        }
        if (__builtin_mul_overflow(fs, cnt, &fs) || __builtin_add_overflow(*size, fs, size))
            return fail(ps, "structured dtype size overflows");
    }
    return WW_OK;
}

ww_status wwi_npy_parse_header(const uint8_t *text, size_t len, uint32_t max_depth,
                               wwi_npy_header *out, char *err, size_t errlen)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    memset(out, 0, sizeof *out);
    ps.start = ps.p = (const char *)text;
    ps.end = ps.p + len;
    ps.max_depth = max_depth;
    ps.err = err;
    ps.errlen = errlen;
    err[0] = '\0';
    uint32_t root;
    ww_status rc = value(&ps, 0, &root);
    if (rc != WW_OK)
        goto done;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        rc = fail(&ps, "bytes after the header dict");
        goto done;
    }
    if (ps.v[root].kind != PV_DICT) {
        rc = fail(&ps, "header is not a dict");
        goto done;
    }
    /* numpy requires exactly these three keys; with a repeated key Python
     * keeps the last value, so do we. */
    const pv *descr = NULL, *fo = NULL, *shape = NULL;
    for (uint32_t k = ps.v[root].first; k != NONE_IDX; k = ps.v[ps.v[k].next].next) {
        const pv *key = &ps.v[k], *val = &ps.v[key->next];
        if (str_is(key, "descr"))
            descr = val;
        else if (str_is(key, "fortran_order"))
            fo = val;
        else if (str_is(key, "shape"))
            shape = val;
        else {
            rc = fail(&ps, "unexpected key in header (numpy refuses it)");
            goto done;
        }
    }
    if (!descr || !fo || !shape) {
        rc = fail(&ps, "header lacks descr, fortran_order or shape");
        goto done;
    }
    if (fo->kind != PV_TRUE && fo->kind != PV_FALSE) {
        rc = fail(&ps, "fortran_order is not a bool");
        goto done;
    }
    out->fortran_order = fo->kind == PV_TRUE;
    if (shape->kind != PV_TUPLE) {
        rc = fail(&ps, "shape is not a tuple");
        goto done;
    }
    rc = shape_count(&ps, shape, &out->count, &out->count_overflow, &out->ndim);
    if (rc == WW_OK)
        rc = descr_size(&ps, descr, 0, out, &out->itemsize);
    if (rc == WW_OK) {
        if (descr->kind == PV_STR)
            snprintf(out->descr, sizeof out->descr, "%.*s", (int)(descr->n < 40 ? descr->n : 40),
                     descr->s);
        else
            snprintf(out->descr, sizeof out->descr, "structured (%u fields)",
                     (unsigned)descr->count);
    }
done:
    if (rc == WW_E_NOMEM)
        snprintf(err, errlen, "out of memory");
    wwi_free(ps.v);
    return rc;
}
