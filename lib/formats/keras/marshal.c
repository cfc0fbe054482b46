/* Static decoder of CPython 3 marshal data (see marshal.h). It mirrors the
 * checks of CPython's Python/marshal.c r_object() closely enough that whatever
 * CPython would accept we either decode the same way or reject (fail closed):
 * same type codes, the same reference numbering (pre-order, only objects that
 * carry FLAG_REF), the same field types of a code object. */
#include <limits.h>
#include "formats/keras/marshal.h"
#include "io/cur.h"
#include "util/alloc.h"

#define FLAG_REF 0x80

enum kind {
    K_CONST = 1, /* None, True, False, Ellipsis, StopIteration */
    K_NUM,
    K_BYTES,
    K_STR,
    K_TUPLE,
    K_LIST,
    K_DICT,
    K_SET,
    K_CODE,
};

typedef struct mref {
    uint8_t kind;
    bool done;    /* CPython stores a placeholder until code/frozenset objects end */
    bool all_str; /* tuples: every item is a str */
    const uint8_t *p;
    size_t len;
} mref;

typedef struct mval {
    uint8_t kind;
    bool all_str;
    bool done;
} mval;

typedef struct dec {
    wwi_cur c;
    unsigned layout;
    uint32_t max_depth;
    mref *refs;
    size_t nrefs, caprefs;
    wwi_marshal_info *out;
    uint32_t ncode;
} dec;

static ww_status add_str(dec *d, const uint8_t *p, size_t len, uint8_t role)
{
    wwi_marshal_info *o = d->out;
    if (role == 0)
        return WW_OK;
    if (o->nstrs == o->capstrs) {
        size_t nc = o->capstrs ? o->capstrs * 2 : 16;
        void *np = o->strs;
        if (wwi_realloc(&np, nc * sizeof *o->strs) != WW_OK)
            return WW_E_NOMEM;
        o->strs = np;
        o->capstrs = nc;
    }
    o->strs[o->nstrs++] = (wwi_marshal_str){p, len, role};
    return WW_OK;
}

/* Reserve a reference slot (FLAG_REF objects only); *idx = SIZE_MAX if none. */
static ww_status ref_reserve(dec *d, bool flag, uint8_t kind, bool done, size_t *idx)
{
    *idx = SIZE_MAX;
    if (!flag)
        return WW_OK;
    if (d->nrefs == d->caprefs) {
        size_t nc = d->caprefs ? d->caprefs * 2 : 32;
        void *np = d->refs;
        if (wwi_realloc(&np, nc * sizeof *d->refs) != WW_OK)
            return WW_E_NOMEM;
        d->refs = np;
        d->caprefs = nc;
    }
    d->refs[d->nrefs] = (mref){kind, done, false, NULL, 0};
    *idx = d->nrefs++;
    return WW_OK;
}

static int32_t r_i32(dec *d)
{
    return (int32_t)wwi_cur_u32le(&d->c);
}

static ww_status r_object(dec *d, uint32_t depth, uint8_t role, mval *v);

/* A sized string/bytes payload: 4-byte or 1-byte length, then the bytes. */
static ww_status r_sized(dec *d, bool flag, bool short_len, uint8_t kind, uint8_t role, mval *v)
{
    size_t n;
    if (short_len) {
        n = wwi_cur_u8(&d->c);
    } else {
        int32_t len = r_i32(d);
        if (d->c.err == WW_OK && len < 0)
            return WW_E_FORMAT;
        n = (size_t)(len < 0 ? 0 : len);
    }
    const uint8_t *p = wwi_cur_bytes(&d->c, n);
    if (!p)
        return WW_E_TRUNCATED;
    size_t idx;
    ww_status st = ref_reserve(d, flag, kind, true, &idx);
    if (st != WW_OK)
        return st;
    if (idx != SIZE_MAX) {
        d->refs[idx].p = p;
        d->refs[idx].len = n;
    }
    v->kind = kind;
    return add_str(d, p, n, role);
}

static ww_status r_long(dec *d, bool flag, mval *v)
{
    int32_t n = r_i32(d);
    if (d->c.err != WW_OK)
        return d->c.err;
    if (n < -INT32_MAX) /* CPython: "long size out of range" */
        return WW_E_FORMAT;
    uint32_t digits = (uint32_t)(n < 0 ? -n : n);
    if (digits > wwi_cur_left(&d->c) / 2)
        return WW_E_TRUNCATED;
    uint16_t dig = 0;
    for (uint32_t i = 0; i < digits; i++) {
        dig = wwi_cur_u16le(&d->c);
        if (dig > 0x7fff) /* digits are base 2**15 */
            return WW_E_FORMAT;
    }
    if (digits > 0 && dig == 0) /* "unnormalized long data" */
        return WW_E_FORMAT;
    size_t idx;
    v->kind = K_NUM;
    return ref_reserve(d, flag, K_NUM, true, &idx);
}

static ww_status r_fixed(dec *d, bool flag, size_t n, mval *v)
{
    if (!wwi_cur_skip(&d->c, n))
        return WW_E_TRUNCATED;
    size_t idx;
    v->kind = K_NUM;
    return ref_reserve(d, flag, K_NUM, true, &idx);
}

/* Text float ('f') and complex ('x'): one or two 1-byte-length strings. */
static ww_status r_text_num(dec *d, bool flag, int parts, mval *v)
{
    for (int i = 0; i < parts; i++) {
        uint8_t n = wwi_cur_u8(&d->c);
        if (!wwi_cur_skip(&d->c, n))
            return WW_E_TRUNCATED;
    }
    if (d->c.err != WW_OK)
        return d->c.err;
    size_t idx;
    v->kind = K_NUM;
    return ref_reserve(d, flag, K_NUM, true, &idx);
}

static ww_status r_seq(dec *d, bool flag, uint8_t kind, size_t n, bool placeholder,
                       uint32_t depth, uint8_t role, mval *v)
{
    /* Every item takes at least one byte: a count beyond the input is a lie. */
    if (n > wwi_cur_left(&d->c))
        return WW_E_TRUNCATED;
    size_t idx;
    ww_status st = ref_reserve(d, flag, kind, !placeholder, &idx);
    if (st != WW_OK)
        return st;
    bool all_str = true;
    for (size_t i = 0; i < n; i++) {
        mval item = {0};
        st = r_object(d, depth + 1, role, &item);
        if (st != WW_OK)
            return st;
        all_str = all_str && item.kind == K_STR;
    }
    if (idx != SIZE_MAX) {
        d->refs[idx].done = true;
        d->refs[idx].all_str = all_str;
    }
    v->kind = kind;
    v->all_str = all_str;
    v->done = true;
    return WW_OK;
}

/* True (and consumed) when the next object is TYPE_NULL, which ends a dict. */
static bool eat_null(dec *d)
{
    const uint8_t *p = wwi_cur_peek(&d->c, 1);
    if (!p || (p[0] & ~FLAG_REF) != '0')
        return false;
    d->c.pos++;
    return true;
}

static ww_status r_dict(dec *d, bool flag, uint32_t depth, uint8_t role, mval *v)
{
    size_t idx;
    ww_status st = ref_reserve(d, flag, K_DICT, true, &idx);
    for (;;) {
        if (st != WW_OK)
            return st;
        if (eat_null(d))
            break;
        mval key = {0}, val = {0};
        st = r_object(d, depth + 1, role, &key);
        if (st != WW_OK)
            return st;
        if (eat_null(d))
            break;
        st = r_object(d, depth + 1, role, &val);
    }
    v->kind = K_DICT;
    return WW_OK;
}

/* One field of a code object, checked against the type CPython requires. */
static ww_status field(dec *d, uint32_t depth, uint8_t role, uint8_t want, bool want_all_str)
{
    mval f = {0};
    ww_status st = r_object(d, depth + 1, role, &f);
    if (st != WW_OK)
        return st;
    if (f.kind != want || (want_all_str && !(f.done && f.all_str)))
        return WW_E_FORMAT;
    return WW_OK;
}

static ww_status r_code(dec *d, bool flag, uint32_t depth, mval *v)
{
    size_t idx;
    ww_status st = ref_reserve(d, flag, K_CODE, false, &idx);
    if (st != WW_OK)
        return st;
    bool py311 = d->layout == WWI_MARSHAL_PY311;
    size_t nlongs = d->layout == WWI_MARSHAL_PY38 ? 6 : 5;
    if (!wwi_cur_skip(&d->c, nlongs * 4))
        return WW_E_TRUNCATED;
    d->ncode++;
#define FIELD(role, kind, all_str)                                                            \
    do {                                                                                      \
        st = field(d, depth, (role), (kind), (all_str));                                      \
        if (st != WW_OK)                                                                      \
            return st;                                                                        \
    } while (0)
    FIELD(0, K_BYTES, false);                /* co_code */
    FIELD(WWI_MARSHAL_CONST, K_TUPLE, false); /* co_consts */
    FIELD(WWI_MARSHAL_NAME, K_TUPLE, true);  /* co_names */
    if (py311) {
        FIELD(WWI_MARSHAL_VAR, K_TUPLE, true); /* co_localsplusnames */
        FIELD(0, K_BYTES, false);              /* co_localspluskinds */
    } else {
        FIELD(WWI_MARSHAL_VAR, K_TUPLE, true); /* co_varnames */
        FIELD(WWI_MARSHAL_VAR, K_TUPLE, true); /* co_freevars */
        FIELD(WWI_MARSHAL_VAR, K_TUPLE, true); /* co_cellvars */
    }
    FIELD(WWI_MARSHAL_META, K_STR, false); /* co_filename */
    FIELD(WWI_MARSHAL_META, K_STR, false); /* co_name */
    if (py311)
        FIELD(WWI_MARSHAL_META, K_STR, false); /* co_qualname */
    if (!wwi_cur_skip(&d->c, 4))            /* co_firstlineno */
        return WW_E_TRUNCATED;
    FIELD(0, K_BYTES, false); /* co_lnotab / co_linetable */
    if (py311)
        FIELD(0, K_BYTES, false); /* co_exceptiontable */
#undef FIELD
    if (idx != SIZE_MAX)
        d->refs[idx].done = true;
    v->kind = K_CODE;
    v->done = true;
    return WW_OK;
}

static ww_status r_ref(dec *d, uint8_t role, mval *v)
{
    int32_t n = r_i32(d);
    if (d->c.err != WW_OK)
        return d->c.err;
    if (n < 0 || (size_t)n >= d->nrefs)
        return WW_E_FORMAT; /* "invalid reference" */
    const mref *r = &d->refs[n];
    if (!r->done && (r->kind == K_CODE || r->kind == K_SET))
        return WW_E_FORMAT; /* CPython's placeholder: also "invalid reference" */
    v->kind = r->kind;
    v->all_str = r->all_str;
    v->done = r->done;
    if (r->kind == K_STR || r->kind == K_BYTES)
        return add_str(d, r->p, r->len, role);
    return WW_OK;
}

static ww_status r_object(dec *d, uint32_t depth, uint8_t role, mval *v)
{
    if (depth > d->max_depth)
        return WW_E_LIMIT;
    uint8_t code = wwi_cur_u8(&d->c);
    if (d->c.err != WW_OK)
        return d->c.err;
    bool flag = (code & FLAG_REF) != 0;
    uint8_t type = code & (uint8_t)~FLAG_REF;
    int32_t n;
    v->done = true;
    switch (type) {
    case 'N': case 'F': case 'T': case 'S': case '.':
        v->kind = K_CONST; /* singletons never take a reference slot */
        return WW_OK;
    case 'i':
        return r_fixed(d, flag, 4, v);
    case 'I':
        return r_fixed(d, flag, 8, v);
    case 'g':
        return r_fixed(d, flag, 8, v);
    case 'y':
        return r_fixed(d, flag, 16, v);
    case 'f':
        return r_text_num(d, flag, 1, v);
    case 'x':
        return r_text_num(d, flag, 2, v);
    case 'l':
        return r_long(d, flag, v);
    case 's':
        return r_sized(d, flag, false, K_BYTES, role, v);
    case 'u': case 't': case 'a': case 'A':
        return r_sized(d, flag, false, K_STR, role, v);
    case 'z': case 'Z':
        return r_sized(d, flag, true, K_STR, role, v);
    case ')':
        return r_seq(d, flag, K_TUPLE, wwi_cur_u8(&d->c), false, depth, role, v);
    case '(': case '[': case '<': case '>':
        n = r_i32(d);
        if (d->c.err != WW_OK)
            return d->c.err;
        if (n < 0)
            return WW_E_FORMAT;
        return r_seq(d, flag, type == '(' ? K_TUPLE : type == '[' ? K_LIST : K_SET, (size_t)n,
                     type == '>' && n > 0, depth, role, v);
    case '{':
        return r_dict(d, flag, depth, role, v);
    case 'c':
        return r_code(d, flag, depth, v);
    case 'r':
        return r_ref(d, role, v);
    default: /* '0' (NULL) outside a dict, '?' and unknown codes */
        return WW_E_FORMAT;
    }
}

ww_status wwi_marshal_code(const uint8_t *data, size_t len, uint32_t max_depth,
                           wwi_marshal_info *out)
{
    static const unsigned layouts[] = {WWI_MARSHAL_PY311, WWI_MARSHAL_PY38, WWI_MARSHAL_PY30};
    ww_status best = WW_E_FORMAT;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        dec d = {.layout = layouts[i], .max_depth = max_depth, .out = out};
        wwi_cur_init(&d.c, data, len);
        size_t keep = out->nstrs;
        mval top = {0};
        ww_status st = r_object(&d, 0, 0, &top);
        if (st == WW_OK && top.kind != K_CODE)
            st = WW_E_FORMAT;
        wwi_free(d.refs);
        if (st == WW_OK) {
            if (out->layouts == 0)
                out->ncode = d.ncode;
            out->layouts |= layouts[i];
            continue;
        }
        out->nstrs = keep; /* a layout that failed names nothing */
        if (st == WW_E_NOMEM)
            return WW_E_NOMEM;
        /* Report the most telling failure: a limit, else the deepest error. */
        if (best != WW_E_LIMIT && (st == WW_E_LIMIT || d.c.pos >= out->err_off)) {
            best = st;
            out->err_off = d.c.pos;
        }
    }
    return out->layouts ? WW_OK : best;
}

void wwi_marshal_info_free(wwi_marshal_info *info)
{
    if (!info)
        return;
    WW_FREE_NULL(info->strs);
    info->nstrs = info->capstrs = 0;
}

/* binascii's table: 0..63 for the alphabet, 0xff otherwise. */
static uint8_t b64_value(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return (uint8_t)(ch - 'A');
    if (ch >= 'a' && ch <= 'z')
        return (uint8_t)(ch - 'a' + 26);
    if (ch >= '0' && ch <= '9')
        return (uint8_t)(ch - '0' + 52);
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return 0xff;
}

ww_status wwi_base64_decode(const char *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    size_t cap = *outlen, n = 0;
    unsigned quad = 0, pads = 0;
    uint32_t acc = 0;
    *outlen = 0;
    for (size_t i = 0; i < inlen; i++) {
        uint8_t ch = (uint8_t)in[i];
        if (ch == '=') {
            /* Enough padding after at least two data characters ends the data;
             * anything after it is ignored, exactly as in CPython. */
            if (quad >= 2 && quad + ++pads >= 4) {
                quad = 0;
                break;
            }
            continue;
        }
        uint8_t val = b64_value(ch);
        if (val == 0xff)
            continue; /* newlines from codecs' base64 and any other junk */
        pads = 0;
        acc = (acc << 6) | val;
        if (++quad < 2)
            continue;
        /* quads 2, 3 and 4 each complete one output byte */
        if (n >= cap)
            return WW_E_LIMIT;
        unsigned shift = quad == 2 ? 4 : quad == 3 ? 2 : 0;
        out[n++] = (uint8_t)(acc >> shift);
        acc &= (1u << shift) - 1;
        if (quad == 4)
            quad = 0;
    }
    if (quad != 0)
        return WW_E_FORMAT; /* "Incorrect padding" / a lone data character */
    *outlen = n;
    return WW_OK;
}
