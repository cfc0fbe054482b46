/* The symbolic pickle machine: decodes every opcode of protocols 0-5 through
 * the bounds-checked cursor and keeps a tagged 16-byte value per stack slot
 * (and a compact one per memo entry, memo.h), so that every import and call
 * site is resolved exactly as the real unpickler would see it, without
 * executing anything. One tight switch per opcode, no allocation per opcode
 * (values are views into the input). */
#include <stdio.h>
#include "formats/pickle/memo.h"
#include "formats/pickle/pk.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/strutil.h"

#define PK_MAX_NAME (64u * 1024) /* longest import operand we decode */
#define PK_JOBLIB_DEPTH 8        /* object arrays nested in object arrays */

typedef struct jl_state {
    uint64_t dict; /* serial of the dict being filled */
    uint64_t count;
    uint64_t dt; /* index in the dtype table */
    bool shape, dtype, align;
    /* legacy NDArrayWrapper: 'filename' seen, and it is a relative path without '..' */
    bool fname, fname_safe;
} jl_state;

/* One numpy.dtype(str, ...) call. dtype objects are shared through the memo,
 * so what BUILD made of one lives here, not in the (copied) value. */
typedef struct pk_dtype {
    const uint8_t *s;
    uint32_t n;
    bool built, understood; /* BUILD seen; its state had numpy's version 3/4 layout */
    uint32_t flags;         /* state flags (bit 0: has objects) */
    uint64_t elsize;        /* state item size */
} pk_dtype;

typedef struct vm {
    pk_ctx *c;
    wwi_scan *s;
    const ww_limits *lim;
    wwi_cur cur;
    pk_val *st;
    size_t sp, cap;
    size_t *marks;
    size_t nmarks, capmarks;
    size_t fence;
    pk_memo memo;
    int proto;
    uint64_t ops;
    uint64_t frame_end;
    uint64_t dict_serial;
    jl_state jl;
    pk_dtype *dts;
    size_t ndts, capdts;
    wwi_buf tmp, tmp2;
} vm;

#define FAIL(code, ...)                                                  \
    do {                                                                 \
        rc = pk_err(m->c, (code), op_off, __VA_ARGS__);                  \
        goto done;                                                       \
    } while (0)
#define TRY(expr)                                                        \
    do {                                                                 \
        ww_status t_ = (expr);                                           \
        if (t_ != WW_OK) {                                               \
            rc = t_;                                                     \
            goto done;                                                   \
        }                                                                \
    } while (0)

static ww_status grow_stack(vm *m)
{
    if (m->cap >= m->lim->max_stack)
        return pk_lim(m->c, "max_stack", "pickle stack deeper than %u",
                      (unsigned)m->lim->max_stack);
    size_t nc = m->cap ? m->cap * 2 : 256;
    if (nc > m->lim->max_stack)
        nc = m->lim->max_stack;
    void *p = m->st;
    ww_status st = wwi_realloc(&p, nc * sizeof(pk_val));
    if (st != WW_OK)
        return st;
    m->st = p;
    m->cap = nc;
    return WW_OK;
}

static inline ww_status push(vm *m, pk_val v)
{
    if (__builtin_expect(m->sp == m->cap, 0)) {
        ww_status st = grow_stack(m);
        if (st != WW_OK)
            return st;
    }
    m->st[m->sp++] = v;
    return WW_OK;
}

static inline pk_val mk(uint8_t kind)
{
    return pk_make(0, PK_GID_NONE, kind, 0, 0, 0);
}

/* big: negative (u holds the 64-bit two's complement) or wider than 64 bits
 * (u is 0). Only small non-negative ints are used as numbers. */
static inline pk_val mk_int(uint64_t u, bool big)
{
    return pk_make(u, PK_GID_NONE, PK_INT, big ? PF_BIGINT : 0, 0, 0);
}

/* width: size of the opcode's length field right before p (1, 4 or 8); 0 when
 * there is none (text lines, derived values). The memo stores such strings as
 * an offset and reads the length back from the input. */
static inline pk_val mk_view(uint8_t kind, const uint8_t *p, size_t n, uint8_t flags,
                             uint8_t width)
{
    return pk_make((uintptr_t)p, (uint32_t)n, kind, flags, width, 0);
}

#define val_is(v, lit) val_is_n((v), (lit), sizeof(lit) - 1)
static inline bool val_is_n(const pk_val *v, const char *lit, size_t n)
{
    return v->kind == PK_STR && !(v->flags & PF_ESC_MASK) && v->n == n &&
           wwi_bytes_eq(v->v.p, lit, n);
}

static inline bool small_int(const pk_val *v, uint64_t *out)
{
    if (v->kind != PK_INT || (v->flags & PF_BIGINT))
        return false;
    *out = v->v.u;
    return true;
}

static uint8_t storage_elsize(const pk_ctx *c, uint32_t gid);

static pk_val make_tuple(const pk_ctx *c, const pk_val *it, size_t k)
{
    pk_val t = mk(PK_TUPLE);
    uint64_t prod = 1;
    bool ints = true;
    for (size_t i = 0; i < k && ints; i++) {
        if (it[i].kind != PK_INT || (it[i].flags & PF_BIGINT) ||
            __builtin_mul_overflow(prod, it[i].v.u, &prod))
            ints = false;
    }
    if (ints) {
        t.flags = PF_INTS;
        t.v.u = prod;
        return t;
    }
    if ((k == 5 || k == 6) && val_is(&it[0], "storage") && it[2].kind == PK_STR &&
        !(it[2].flags & PF_ESC_MASK)) {
        t.flags = PF_STORAGE;
        t.v.p = it[2].v.p;
        t.n = it[2].n;
        t.aux = it[1].kind == PK_GLOBAL ? storage_elsize(c, it[1].gid) : 0;
        return t;
    }
    if (k == 4 && val_is(&it[0], "module") && it[1].kind == PK_GLOBAL) {
        /* legacy torch.save of an nn.Module: persistent_load returns the class */
        t.flags = PF_FIRST;
        t.sub = PK_GLOBAL;
        t.gid = it[1].gid;
        t.aux = PK_AUX_MODULE;
        return t;
    }
    uint64_t ver, x;
    if ((k == 8 || k == 9) && small_int(&it[0], &ver) && ver == k - 5) {
        /* numpy dtype state: version 3 has 8 items, version 4 adds metadata */
        t.aux = PK_AUX_DSTATE;
        t.v.u = small_int(&it[5], &x) ? x : UINT64_MAX;
        t.n = UINT32_MAX;
        if (small_int(&it[7], &x) && x < 256)
            t.n = (uint32_t)x;
        else if (it[7].kind == PK_INT && (int64_t)it[7].v.u < 0 &&
                 (int64_t)it[7].v.u >= -128)
            t.n = (uint32_t)(it[7].v.u & 0xff); /* numpy once pickled flags as a char */
        return t;
    }
    if (k >= 1 && (it[0].kind == PK_STR || it[0].kind == PK_BYTES)) {
        t.flags = PF_FIRST | (it[0].flags & PF_ESC_MASK);
        t.sub = it[0].kind;
        t.v.p = it[0].v.p;
        t.n = it[0].n;
    } else if (k >= 1 && it[0].kind == PK_GLOBAL) {
        t.flags = PF_FIRST;
        t.sub = PK_GLOBAL;
        t.gid = it[0].gid;
    }
    return t;
}

/* Text opcode argument: a line, at most max_string bytes. */
static const uint8_t *line(vm *m, size_t *n)
{
    uint64_t mx = m->lim->max_string;
    return wwi_cur_line(&m->cur, mx > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)mx, n);
}

/* Length-prefixed payload: lengths are checked against the bytes left first
 * (a lie is a truncation at this opcode), then against max_string. */
static ww_status payload(vm *m, uint64_t n, uint64_t op_off, const uint8_t **p)
{
    if (m->cur.err != WW_OK)
        return pk_err(m->c, WW_E_TRUNCATED, op_off, "pickle truncated in a length field");
    if (n > wwi_cur_left(&m->cur))
        return pk_err(m->c, WW_E_TRUNCATED, op_off,
                              "pickle opcode declares %llu bytes, only %llu remain",
                              (unsigned long long)n,
                              (unsigned long long)wwi_cur_left(&m->cur));
    if (n > m->lim->max_string || n > UINT32_MAX)
        return pk_lim(m->c, "max_string", "pickle string of %llu bytes at offset %llu",
                              (unsigned long long)n, (unsigned long long)op_off);
    *p = wwi_cur_bytes(&m->cur, (size_t)n);
    return WW_OK;
}

static bool parse_dec(const uint8_t *p, size_t n, uint64_t *out, bool *neg)
{
    *neg = false;
    if (n > 0 && (p[0] == '-' || p[0] == '+')) {
        *neg = p[0] == '-';
        p++;
        n--;
    }
    if (n > 0 && p[n - 1] == 'L') /* protocol 0 LONG */
        n--;
    return n > 0 && wwi_parse_u64((const char *)p, n, UINT64_MAX, out);
}

/* Import a global from two operand values (STACK_GLOBAL) or two lines. */
static ww_status import(vm *m, const uint8_t *mp, size_t ml, const uint8_t *np, size_t nl,
                        uint64_t off, uint32_t *gid)
{
    if (ml == 0 || nl == 0 || memchr(mp, 0, ml) || memchr(np, 0, nl))
        return pk_err(m->c, WW_E_FORMAT, off, "empty or NUL-containing import name");
    return pk_ctx_global(m->c, (const char *)mp, ml, (const char *)np, nl, m->proto, off, gid);
}

static ww_status import_vals(vm *m, const pk_val *mod, const pk_val *name, uint64_t off,
                             uint32_t *gid)
{
    ww_status st = pk_decode(mod, &m->tmp);
    if (st == WW_OK)
        st = pk_decode(name, &m->tmp2);
    if (st != WW_OK)
        return st == WW_E_LIMIT ? pk_lim(m->c, "max_string", "import name too long")
                                : st;
    return import(m, (const uint8_t *)m->tmp.data, m->tmp.len, (const uint8_t *)m->tmp2.data,
                  m->tmp2.len, off, gid);
}

static void computed_call(vm *m, uint64_t off)
{
    pk_ctx_once(m->c, PK_ONCE_COMPUTED_CALL, WW_SEV_MEDIUM, "call", off,
                "call of a computed object (not a named import)");
}

static void mutate_global(vm *m, const pk_val *t, uint64_t off, const char *what)
{
    if (t->gid == PK_GID_NONE) {
        pk_ctx_once(m->c, what[0] == 'B' ? PK_ONCE_BUILD : PK_ONCE_MUTATE, WW_SEV_CRITICAL,
                    "build", off, "attribute/item overwrite on an unresolved imported object");
        return;
    }
    pk_glob *g = &m->c->g[t->gid];
    if (g->uses & PU_BUILD)
        return;
    g->uses |= PU_BUILD;
    pk_find(m->c, WW_SEV_CRITICAL, "build", g->module, g->name, off,
                "%s on an imported object (overwrites attributes of a module, function or "
                "class)",
                what);
}

/* Scan a deserializer's bytes argument as a nested file. */
static ww_status nested_arg(vm *m, const pk_val *args, const pk_glob *g, uint64_t off)
{
    if (m->c->embedded || !(args->flags & PF_FIRST) ||
        (args->sub != PK_STR && args->sub != PK_BYTES))
        return WW_OK;
    pk_val a = mk_view(args->sub, args->v.p, args->n, args->flags & PF_ESC_MASK, 0);
    wwi_buf b;
    wwi_buf_init(&b, (size_t)(m->lim->max_string > SIZE_MAX / 2 ? SIZE_MAX / 2
                                                                 : m->lim->max_string));
    ww_status st = WW_OK;
    const uint8_t *p = a.v.p;
    size_t n = a.n;
    if (a.flags & PF_ESC_MASK) {
        st = pk_decode(&a, &b);
        p = (const uint8_t *)b.data;
        n = b.len;
    }
    if (st == WW_OK && n > 0) {
        char name[160];
        snprintf(name, sizeof name, "%s.%s@%llu", g->module, g->name, (unsigned long long)off);
        st = wwi_scan_nested_mem(m->s, p, n, name);
    }
    wwi_buf_free(&b);
    return st == WW_E_LIMIT ? WW_OK : st;
}

/* numpy.dtype(str, ...): a new dtype object, tracked by index. */
static ww_status new_dtype(vm *m, const pk_val *args, pk_val *res)
{
    if (!args || !(args->flags & PF_FIRST) || args->sub != PK_STR ||
        (args->flags & PF_ESC_MASK))
        return WW_OK; /* not understood: joblib states using it are errors */
    if (m->ndts == m->capdts) {
        size_t nc = m->capdts ? m->capdts * 2 : 16;
        void *p = m->dts;
        ww_status st = wwi_realloc(&p, nc * sizeof(pk_dtype));
        if (st != WW_OK)
            return st;
        m->dts = p;
        m->capdts = nc;
    }
    pk_dtype *d = &m->dts[m->ndts];
    memset(d, 0, sizeof *d);
    d->s = args->v.p;
    d->n = args->n;
    res->flags = PF_DTYPE;
    res->v.u = m->ndts++;
    return WW_OK;
}

/* REDUCE / INST / OBJ / NEWOBJ: what is called, and what the result is. */
static ww_status call(vm *m, const pk_val *fn, const pk_val *args, bool newobj, uint64_t off,
                      pk_val *res)
{
    *res = mk(PK_CALL);
    switch (fn->kind) {
    case PK_GLOBAL:
        break;
    case PK_CALL:
    case PK_INST:
    case PK_OTHER:
        computed_call(m, off);
        return WW_OK;
    default:
        /* The real unpickler raises TypeError here: the load ends. */
        return pk_err(m->c, WW_E_FORMAT, off, "call of a non-callable value");
    }
    res->gid = fn->gid;
    if (fn->gid == PK_GID_NONE)
        return WW_OK; /* already reported as an unresolvable import */
    pk_glob *g = &m->c->g[fn->gid];
    if (newobj) {
        g->uses |= PU_NEW;
        res->kind = PK_INST;
        if (g->role == PR_JLWRAP || g->role == PR_JLSIDE)
            memset(&m->jl, 0, sizeof m->jl);
        return WW_OK;
    }
    switch (g->role) {
    case PR_RECON:
        if (args && (args->flags & PF_FIRST) && args->sub == PK_GLOBAL) {
            res->kind = PK_INST;
            res->gid = args->gid;
            if (args->gid != PK_GID_NONE)
                m->c->g[args->gid].uses |= PU_NEW;
        } else
            computed_call(m, off);
        return WW_OK;
    case PR_DTYPE:
        return new_dtype(m, args, res);
    case PR_CODECS:
        if (args && (args->flags & PF_FIRST) && args->sub == PK_STR)
            *res = mk_view(PK_BYTES, args->v.p, args->n,
                           (uint8_t)((args->flags & PF_ESC_MASK) | PF_LATIN1), 0);
        return WW_OK;
    case PR_LOADER:
        g->uses |= PU_CALL;
        return args ? nested_arg(m, args, g, off) : WW_OK;
    default:
        g->uses |= PU_CALL;
        return WW_OK;
    }
}

static bool digit(uint8_t ch)
{
    return ch >= '0' && ch <= '9';
}

/* joblib: after BUILD of a NumpyArrayWrapper the array bytes follow in the
 * stream (NumpyArrayWrapper.write_array): for dtypes with objects a complete
 * protocol-2 pickle, else [1 byte N + N padding bytes if the state has
 * numpy_array_alignment_bytes] + prod(shape) * itemsize raw bytes.
 * itemsize and "has objects" are numpy's: the type string gives them, and a
 * BUILD of the dtype (numpy's __setstate__) overrides the item size of sized
 * flexible types (S, U, V: structured records) and sets the has-objects flag
 * (bit 0 of its flags), exactly what read_array then uses. */
static ww_status joblib_skip(vm *m, const pk_val *state, uint64_t off)
{
    jl_state j = m->jl;
    memset(&m->jl, 0, sizeof m->jl);
    if (state->kind != PK_DICT || state->v.u != j.dict || !j.shape || !j.dtype ||
        j.dt >= m->ndts)
        return pk_err(m->c, WW_E_FORMAT, off,
                      "joblib NumpyArrayWrapper state not understood: cannot find "
                      "where its array data ends");
    const pk_dtype *d = &m->dts[j.dt];
    const uint8_t *p = d->s;
    size_t n = d->n;
    if (n > 0 && (p[0] == '<' || p[0] == '>' || p[0] == '|' || p[0] == '='))
        p++, n--;
    char kind = n > 0 ? (char)p[0] : 0;
    uint64_t digits = 0;
    size_t nd = 1;
    while (nd < n && digit(p[nd]) && digits < (1u << 20))
        digits = digits * 10 + (uint64_t)(p[nd++] - '0');
    bool tail_ok = nd == n || (p[nd] == '[' && (kind == 'm' || kind == 'M'));
    if (d->built && !d->understood)
        return pk_err(m->c, WW_E_UNSUPPORTED, off,
                      "joblib array dtype '%.*s' has a state numpy layout we do not know",
                      (int)(d->n > 64 ? 64 : d->n), (const char *)d->s);
    bool hasobj = kind == 'O' || (d->built && (d->flags & 1));
    uint64_t itemsize = 0;
    bool ok = tail_ok && nd > 1;
    switch (kind) {
    case 'O':
        ok = true;
        break;
    case 'b': case 'i': case 'u': case 'f': case 'c': case 'm': case 'M': case '?':
        itemsize = digits;
        ok = ok && digits > 0;
        break;
    case 'S': case 'a': case 'U': case 'V':
        /* Unsized types are shared singletons: numpy ignores a state on them. */
        itemsize = digits * (kind == 'U' ? 4 : 1);
        if (digits > 0 && d->built) {
            itemsize = d->elsize;
            ok = ok && d->elsize != UINT64_MAX;
        }
        break;
    default:
        ok = false;
    }
    if (!ok)
        return pk_err(m->c, WW_E_UNSUPPORTED, off, "joblib array dtype '%.*s' not supported",
                      (int)(d->n > 64 ? 64 : d->n), (const char *)d->s);
    if (hasobj) {
        /* Object array: a nested pickle, read with the full unpickler. */
        if (m->c->jl_depth >= PK_JOBLIB_DEPTH)
            return pk_lim(m->c, "max_depth", "joblib object arrays nested too deep");
        uint64_t consumed = 0;
        size_t left = wwi_cur_left(&m->cur);
        const uint8_t *rest = wwi_cur_peek(&m->cur, left);
        m->c->jl_depth++;
        ww_status st = rest ? pk_run(m->c, rest, left, 1, &consumed) : WW_E_TRUNCATED;
        m->c->jl_depth--;
        if (st != WW_OK)
            return st;
        wwi_cur_skip(&m->cur, (size_t)consumed);
        m->frame_end = 0;
        return WW_OK;
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(j.count, itemsize, &bytes))
        return pk_err(m->c, WW_E_FORMAT, off, "joblib array size overflows");
    if (j.align) {
        uint8_t pad = wwi_cur_u8(&m->cur);
        wwi_cur_skip(&m->cur, pad);
    }
    if (m->cur.err != WW_OK || bytes > wwi_cur_left(&m->cur))
        return pk_err(m->c, WW_E_TRUNCATED, off,
                      "joblib array data (%llu bytes) runs past the end",
                      (unsigned long long)bytes);
    wwi_cur_skip(&m->cur, (size_t)bytes);
    m->frame_end = 0;
    return WW_OK;
}

/* BUILD on a numpy.dtype result: numpy's __setstate__. */
static void dtype_build(vm *m, const pk_val *t, const pk_val *state)
{
    if (t->v.u >= m->ndts)
        return;
    pk_dtype *d = &m->dts[t->v.u];
    d->built = true;
    /* elsize is checked where numpy uses it (sized S/U/V); -1 elsewhere. */
    d->understood = state->kind == PK_TUPLE && state->aux == PK_AUX_DSTATE &&
                    !(state->flags & PF_STORAGE) && state->n != UINT32_MAX;
    d->elsize = state->v.u;
    d->flags = state->n;
}

/* Legacy joblib NDArrayWrapper: its BUILD makes joblib np.load(allow_pickle=True)
 * the file named by `filename`, joined to the pickle's directory. An absolute
 * path or '..' picks any file (T-JOBLIB-SIDECAR). */
static bool relative_path(const uint8_t *p, size_t n)
{
    if (n == 0 || p[0] == '/' || p[0] == '\\' || p[0] == '~')
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ':' || p[i] == 0 || (p[i] == '.' && i + 1 < n && p[i + 1] == '.'))
            return false;
    return true;
}

static void sidecar_build(vm *m, const pk_val *t, const pk_val *state, uint64_t off)
{
    jl_state j = m->jl;
    memset(&m->jl, 0, sizeof m->jl);
    if (state->kind == PK_DICT && state->v.u == j.dict && j.fname && j.fname_safe)
        return;
    const pk_glob *g = &m->c->g[t->gid];
    if (m->c->once & PK_ONCE_SIDECAR)
        return;
    m->c->once |= PK_ONCE_SIDECAR;
    pk_find(m->c, WW_SEV_HIGH, "import", g->module, g->name, off,
            "legacy joblib array loads a sidecar file with np.load(allow_pickle=True): "
            "%s",
            state->kind == PK_DICT && state->v.u == j.dict && j.fname
                ? "its filename is an absolute path or contains '..' (any file, T-JOBLIB-SIDECAR)"
                : "its filename is not a plain literal (any file, T-JOBLIB-SIDECAR)");
}

/* SETITEM(S) into the dict at `target`: remember what a joblib wrapper state needs. */
static void jl_track(vm *m, const pk_val *target, const pk_val *kv, size_t nkv)
{
    if (!m->c->jl_seen || target->kind != PK_DICT)
        return;
    jl_state *j = &m->jl;
    if (j->dict != target->v.u) {
        memset(j, 0, sizeof *j);
        j->dict = target->v.u;
    }
    for (size_t i = 0; i + 1 < nkv; i += 2) {
        const pk_val *k = &kv[i], *v = &kv[i + 1];
        if (val_is(k, "shape")) {
            j->shape = v->kind == PK_TUPLE && (v->flags & PF_INTS);
            j->count = v->v.u;
        } else if (val_is(k, "dtype")) {
            j->dtype = v->kind == PK_CALL && (v->flags & PF_DTYPE);
            j->dt = v->v.u;
        } else if (val_is(k, "numpy_array_alignment_bytes")) {
            j->align = v->kind != PK_NONE;
        } else if (val_is(k, "filename")) {
            j->fname = true;
            j->fname_safe = v->kind == PK_STR && !(v->flags & PF_ESC_MASK) &&
                            relative_path(v->v.p, v->n);
        }
    }
}

/* Element size of a torch storage type (legacy torch skips raw data by it). */
static uint8_t storage_elsize(const pk_ctx *c, uint32_t gid)
{
    static const struct {
        const char *name;
        uint8_t size;
    } sizes[] = {
        {"BFloat16Storage", 2}, {"BoolStorage", 1},   {"ByteStorage", 1},
        {"CharStorage", 1},     {"ComplexDoubleStorage", 16}, {"ComplexFloatStorage", 8},
        {"DoubleStorage", 8},   {"FloatStorage", 4},  {"HalfStorage", 2},
        {"IntStorage", 4},      {"LongStorage", 8},   {"QInt32Storage", 4},
        {"QInt8Storage", 1},    {"QUInt2x4Storage", 1}, {"QUInt4x2Storage", 1},
        {"QUInt8Storage", 1},   {"ShortStorage", 2},
    };
    if (gid == PK_GID_NONE)
        return 0;
    const pk_glob *g = &c->g[gid];
    if (!wwi_str_eq(g->module, "torch") && !wwi_str_eq(g->module, "torch.cuda"))
        return 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (wwi_str_eq(g->name, sizes[i].name))
            return sizes[i].size;
    return 0;
}

/* Legacy torch: remember the string items of the storage key list. */
static ww_status collect(vm *m, const pk_val *it, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (it[i].kind != PK_STR || (it[i].flags & PF_ESC_MASK))
            continue;
        pk_view v = {it[i].v.p, it[i].n, 0};
        ww_status st = pk_ctx_add_view(&m->c->strs, &m->c->nstrs, &m->c->capstrs, v);
        if (st != WW_OK)
            return st;
    }
    return WW_OK;
}

static const char *const type_names[] = {"absent", "object", "None", "int", "str", "bytes",
                                         "import", "call result", "instance", "tuple", "dict",
                                         "list"};

/* Pop down to the top mark: items are m->st[*base, sp). */
#define POP_MARK_TO(base_)                                                          \
    do {                                                                            \
        if (m->nmarks == 0)                                                         \
            FAIL(WW_E_FORMAT, "pickle opcode 0x%02x without a MARK", op);           \
        (base_) = m->marks[--m->nmarks];                                            \
        m->fence = m->nmarks ? m->marks[m->nmarks - 1] : 0;                         \
    } while (0)
#define NEED(k)                                                                     \
    do {                                                                            \
        if (m->sp - m->fence < (size_t)(k))                                         \
            FAIL(WW_E_FORMAT, "pickle stack underflow at opcode 0x%02x", op);       \
    } while (0)

/* Little-endian 32-bit field (one load where the host allows it). */
static inline uint32_t rd_le32(const uint8_t *q)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t x;
    memcpy(&x, q, sizeof x);
    return x;
#else
    return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) |
           ((uint32_t)q[3] << 24);
#endif
}

/* The hot opcodes of big pickles of many small objects, decoded with the
 * cursor, the stack and the memo's dense arrays in local variables (a value
 * store may alias any field of the vm, -fno-strict-aliasing: kept in memory
 * they are reloaded after every push) and one indirect jump per handler.
 * Exactly the semantics of run_one's switch for the cases handled; anything
 * unusual (an error, a limit, a full stack, a memo entry that needs the slow
 * path, a rare opcode) leaves with nothing changed for that opcode, and
 * run_one decodes it the general way.
 *
 * No per-opcode bounds or budget checks: the loop runs in a window that ends
 * 9 bytes (the longest fixed-size opcode handled, BINFLOAT) before the end of
 * the data or of the current FRAME (so no opcode handled here can straddle
 * it), and at most `budget` bytes ahead (every opcode takes at least one byte,
 * so at most `budget` opcodes: the op limit and time checks stay exact). */
static ww_status fast_ops(vm *m, uint64_t *budget_io)
{
    wwi_cur *c = &m->cur;
    if (c->err != WW_OK || *budget_io == 0 || !m->st)
        return WW_OK;
    size_t lim_pos = c->len;
    if (m->frame_end && c->pos < m->frame_end && m->frame_end < lim_pos)
        lim_pos = (size_t)m->frame_end;
    if (lim_pos - c->pos < 9)
        return WW_OK;
    const uint8_t *const base = c->base;
    const uint8_t *ip = base + c->pos;
    const uint8_t *const lim = base + lim_pos;
    const uint8_t *const safe = lim - 8; /* ip < safe: 9 bytes readable */
    const uint8_t *wend;
    pk_val *const st = m->st;
    pk_val *sp = st + m->sp;
    pk_val *const stend = st + m->cap;
    pk_val *fence = st + m->fence;
    size_t *const marks = m->marks;
    size_t nmk = m->nmarks;
    const size_t capmk = m->capmarks;
    uint8_t *tag = m->memo.tag;
    uint32_t **page = m->memo.page;
    uint64_t dcap = m->memo.dcap;
    const uint64_t mmax = m->memo.max;
    uint64_t mcount = m->memo.count;
    const uint8_t *const mbase = m->memo.base;
    uint64_t dict_serial = m->dict_serial;
    uint64_t budget = *budget_io, nops = 0;
    const uint64_t max_string = m->lim->max_string;
    const bool jl_seen = m->c->jl_seen, collect_strs = m->c->collect_strs;
    ww_status rc = WW_OK;
    uint64_t idx;
    unsigned msz;
    size_t len;
    const uint8_t *p;
    pk_val v;

    /* Unhandled opcodes go to the general decoder (GNU range, then overrides). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    static const void *const tbl[256] = {
        [0 ... 255] = &&out,
        ['('] = &&op_mark,
        ['h'] = &&op_binget,
        ['j'] = &&op_long_binget,
        [0x94] = &&op_memoize,
        ['q'] = &&op_binput,
        ['r'] = &&op_long_binput,
        [0x8c] = &&op_short_str,
        ['U'] = &&op_short_str,
        ['C'] = &&op_short_bytes,
        ['X'] = &&op_str4,
        ['B'] = &&op_bytes4,
        ['J'] = &&op_binint,
        ['K'] = &&op_binint1,
        ['M'] = &&op_binint2,
        ['G'] = &&op_binfloat,
        [0x88] = &&op_other,
        [0x89] = &&op_other,
        [0x8f] = &&op_other,
        ['N'] = &&op_none,
        [']'] = &&op_empty_list,
        ['}'] = &&op_empty_dict,
        [')'] = &&op_empty_tuple,
        [0x85] = &&op_tuple1,
        [0x86] = &&op_tuple2,
        [0x87] = &&op_tuple3,
        ['e'] = &&op_appends,
        ['u'] = &&op_setitems,
        ['a'] = &&op_append,
        ['s'] = &&op_setitem,
        ['0'] = &&op_pop,
        ['2'] = &&op_dup,
    };
#pragma GCC diagnostic pop
#define LE32(q) rd_le32(q)
#define NEXT(k)                                                                          \
    do {                                                                                 \
        ip += (k);                                                                       \
        nops++;                                                                          \
        if (__builtin_expect(ip >= wend, 0))                                             \
            goto window;                                                                 \
        goto *tbl[*ip];                                                                  \
    } while (0)
#define PUSH_ROOM()                                                                      \
    do {                                                                                 \
        if (__builtin_expect(sp == stend, 0))                                            \
            goto out;                                                                    \
    } while (0)

    goto first;
window:
    /* ip passed the window's end: account for its opcodes, open the next. */
    budget -= nops;
    nops = 0;
first:
    if (budget == 0 || ip >= safe)
        goto out;
    wend = (uint64_t)(safe - ip) > budget ? ip + budget : safe;
    goto *tbl[*ip];

op_mark:
    if (__builtin_expect(nmk == capmk, 0))
        goto out;
    marks[nmk++] = (size_t)(sp - st);
    fence = sp;
    NEXT(1);
op_binget:
    idx = ip[1];
    msz = 2;
    goto memo_get;
op_long_binget:
    idx = LE32(ip + 1);
    msz = 5;
memo_get: /* msz = size of the GET opcode */
    if (__builtin_expect(sp == stend || idx >= dcap, 0))
        goto out;
    {
        uint8_t t = tag[idx];
        if (t == MT_STR1) {
            uint32_t a = page[idx >> PK_MEMO_PAGE_BITS][idx & (PK_MEMO_PAGE - 1)];
            *sp = pk_make((uintptr_t)(mbase + a), mbase[a - 1], PK_STR, 0, 1, 0);
        } else if (t == MT_STR4) {
            uint32_t a = page[idx >> PK_MEMO_PAGE_BITS][idx & (PK_MEMO_PAGE - 1)];
            *sp = pk_make((uintptr_t)(mbase + a), LE32(mbase + a - 4), PK_STR, 0, 4, 0);
        } else if (t == MT_ABSENT || !pk_memo_get(&m->memo, idx, sp))
            goto out;
    }
    sp++;
    NEXT(msz);

    /* PUT: put_dense inline for values that fit the tag and payload word,
     * else pk_memo_put_slow (fat slots, growth, sparse indices); its errors
     * are reported exactly as run_one does. msz = size of the PUT opcode. */
op_memoize:
    idx = mcount;
    msz = 1;
    goto memo_put;
op_binput:
    idx = ip[1];
    msz = 2;
    goto memo_put;
op_long_binput:
    idx = LE32(ip + 1);
    msz = 5;
memo_put:
    if (__builtin_expect(sp == fence, 0))
        goto out;
    if (__builtin_expect(idx < dcap, 1)) {
        const pk_val *top = sp - 1;
        uint8_t nt;
        uint32_t a = 0;
        uint32_t *pg = NULL;
        if (pk_memo_plain(top))
            nt = top->kind;
        else if (!pk_memo_encode(&m->memo, top, &nt, &a) ||
                 !(pg = page[idx >> PK_MEMO_PAGE_BITS]))
            goto memo_slow;
        uint8_t *tp = &tag[idx];
        bool fresh = *tp == MT_ABSENT;
        if (__builtin_expect(fresh && mcount >= mmax, 0))
            goto memo_limit;
        if (pg)
            pg[idx & (PK_MEMO_PAGE - 1)] = a;
        mcount += fresh;
        *tp = nt;
        NEXT(msz);
    }
memo_slow: {
    m->memo.count = mcount;
    ww_status ps = pk_memo_put_slow(&m->memo, idx, sp - 1);
    mcount = m->memo.count;
    tag = m->memo.tag;
    page = m->memo.page;
    dcap = m->memo.dcap;
    if (__builtin_expect(ps != WW_OK, 0)) {
        rc = ps;
        goto put_failed;
    }
    NEXT(msz);
}

/* After pushing a value whose memo encoding is known here (tag nt_, payload
 * word a_ when pay_ is 1, a new fat slot when it is 2; usable when ok_): a PUT that follows (the usual pair in
 * pickles of many objects) is done at once, without dispatching on it or
 * re-examining the value. The value is on top (NEED(1) holds); the PUT starts
 * inside the window, so it is fully readable and counted in the budget. */
#define NEXT_PUT(k, nt_, a_, pay_, ok_)                                                  \
    do {                                                                                 \
        ip += (k);                                                                       \
        nops++;                                                                          \
        if (__builtin_expect(ip >= wend, 0))                                             \
            goto window;                                                                 \
        uint8_t o_ = *ip;                                                                \
        if (o_ == 0x94) {                                                                \
            idx = mcount;                                                                \
            msz = 1;                                                                     \
        } else if ((uint8_t)(o_ - 'q') < 2) {                                            \
            idx = o_ == 'q' ? ip[1] : LE32(ip + 1);                                      \
            msz = o_ == 'q' ? 2 : 5;                                                     \
        } else                                                                           \
            goto *tbl[o_];                                                               \
        if (__builtin_expect(idx >= dcap || !(ok_), 0))                                  \
            goto memo_slow;                                                              \
        uint8_t *tp_ = &tag[idx];                                                        \
        bool fresh_ = *tp_ == MT_ABSENT;                                                 \
        if (__builtin_expect(fresh_ && mcount >= mmax, 0))                               \
            goto memo_limit;                                                             \
        if (pay_) {                                                                      \
            uint32_t *pg_ = page[idx >> PK_MEMO_PAGE_BITS];                              \
            if (__builtin_expect(!pg_, 0))                                               \
                goto memo_slow;                                                          \
            if ((pay_) == 2) { /* a fat slot: put_dense's append, room permitting */     \
                if (__builtin_expect(m->memo.nfat == m->memo.capfat, 0))                 \
                    goto memo_slow;                                                      \
                m->memo.fat[m->memo.nfat] = sp[-1];                                      \
                pg_[idx & (PK_MEMO_PAGE - 1)] = (uint32_t)m->memo.nfat++;                \
            } else                                                                       \
                pg_[idx & (PK_MEMO_PAGE - 1)] = (a_);                                    \
        }                                                                                \
        mcount += fresh_;                                                                \
        *tp_ = (nt_);                                                                    \
        NEXT(msz);                                                                       \
    } while (0)

    /* Length-prefixed literals: payload() and the embedded-pickle check. */
#define LITERAL(kind, w, mtag)                                                           \
    do {                                                                                 \
        p = ip + 1 + (w);                                                                \
        if (__builtin_expect(len > (size_t)(lim - p) || len > max_string || sp == stend || \
                                 (len >= 16 && (p[0] == 0x80 || p[0] == 'g' || p[0] == '8')), \
                             0))                                                         \
            goto out;                                                                    \
        *sp++ = mk_view((kind), p, len, 0, (w));                                         \
        NEXT_PUT(1 + (w) + len, mtag, (uint32_t)(p - mbase),                             \
                 1, (uint64_t)(p - mbase) <= UINT32_MAX);                                \
    } while (0)
op_short_str:
    len = ip[1];
    LITERAL(PK_STR, 1, MT_STR1);
op_short_bytes:
    len = ip[1];
    LITERAL(PK_BYTES, 1, MT_BYTES1);
op_str4:
    len = LE32(ip + 1);
    LITERAL(PK_STR, 4, MT_STR4);
op_bytes4:
    len = LE32(ip + 1);
    LITERAL(PK_BYTES, 4, MT_BYTES4);
#undef LITERAL

op_binint: {
    PUSH_ROOM();
    uint32_t x = LE32(ip + 1);
    *sp++ = mk_int((uint64_t)(int64_t)(int32_t)x, (x & 0x80000000u) != 0);
    NEXT(5);
}
op_binint1:
    PUSH_ROOM();
    *sp++ = mk_int(ip[1], false);
    NEXT(2);
op_binint2:
    PUSH_ROOM();
    *sp++ = mk_int((uint64_t)ip[1] | ((uint64_t)ip[2] << 8), false);
    NEXT(3);
op_binfloat:
    PUSH_ROOM();
    *sp++ = mk(PK_OTHER);
    NEXT(9);
op_other:
    PUSH_ROOM();
    *sp++ = mk(PK_OTHER);
    NEXT(1);
op_none:
    PUSH_ROOM();
    *sp++ = mk(PK_NONE);
    NEXT(1);
op_empty_list:
    PUSH_ROOM();
    *sp++ = mk(PK_LIST);
    NEXT_PUT(1, PK_LIST, 0, 0, true);
op_empty_dict:
    PUSH_ROOM();
    v = mk(PK_DICT);
    v.v.u = ++dict_serial;
    *sp++ = v;
    NEXT_PUT(1, MT_DICT, (uint32_t)dict_serial, 1, dict_serial <= UINT32_MAX);
op_empty_tuple:
    PUSH_ROOM();
    *sp++ = pk_make(1, PK_GID_NONE, PK_TUPLE, PF_INTS, 0, 0); /* make_tuple(c, NULL, 0) */
    NEXT(1);
    /* TUPLE1..3: make_tuple, its all-small-ints case inline. */
#define TUPLE_K(k)                                                                       \
    do {                                                                                 \
        if (__builtin_expect((size_t)(sp - fence) < (k), 0))                             \
            goto out;                                                                    \
        const pk_val *it = sp - (k);                                                     \
        uint64_t prod = 1;                                                               \
        bool ints = true;                                                                \
        for (size_t i = 0; i < (k); i++)                                                 \
            ints = ints && it[i].kind == PK_INT && !(it[i].flags & PF_BIGINT) &&         \
                   !__builtin_mul_overflow(prod, it[i].v.u, &prod);                      \
        sp -= (k);                                                                       \
        if (!ints) {                                                                     \
            *sp++ = make_tuple(m->c, it, (k));                                           \
            NEXT(1);                                                                     \
        }                                                                                \
        *sp++ = pk_make(prod, PK_GID_NONE, PK_TUPLE, PF_INTS, 0, 0);                     \
        if (prod > UINT32_MAX)                                                           \
            NEXT_PUT(1, MT_FAT, 0, 2, true);                                             \
        NEXT_PUT(1, MT_TUPINTS, (uint32_t)prod, 1, true);                                \
    } while (0)
op_tuple1:
    TUPLE_K(1);
op_tuple2:
    TUPLE_K(2);
op_tuple3:
    TUPLE_K(3);
#undef TUPLE_K

    /* APPENDS / SETITEMS: POP_MARK_TO, checks, then the items are dropped. */
#define POP_MARK_CHECK()                                                                 \
    if (__builtin_expect(nmk == 0, 0))                                                   \
        goto out;                                                                        \
    size_t b = marks[nmk - 1];                                                           \
    pk_val *nfence = nmk > 1 ? st + marks[nmk - 2] : st;                                 \
    if (__builtin_expect(b == 0 || st + b <= nfence || st[b - 1].kind == PK_GLOBAL, 0))  \
        goto out
op_appends: {
    POP_MARK_CHECK();
    if (collect_strs)
        goto out;
    nmk--;
    fence = nfence;
    sp = st + b;
    NEXT(1);
}
op_setitems: {
    POP_MARK_CHECK();
    if ((size_t)(sp - (st + b)) % 2)
        goto out;
    if (jl_seen)
        jl_track(m, &st[b - 1], &st[b], (size_t)(sp - (st + b)));
    nmk--;
    fence = nfence;
    sp = st + b;
    NEXT(1);
}
#undef POP_MARK_CHECK
op_append:
    if ((size_t)(sp - fence) < 2 || collect_strs || sp[-2].kind == PK_GLOBAL)
        goto out;
    sp--;
    NEXT(1);
op_setitem:
    if ((size_t)(sp - fence) < 3 || sp[-3].kind == PK_GLOBAL)
        goto out;
    sp -= 2;
    if (jl_seen)
        jl_track(m, &sp[-1], &sp[0], 2);
    NEXT(1);
op_pop: /* with nothing above the mark POP pops the mark: run_one does that */
    if (sp == fence)
        goto out;
    sp--;
    NEXT(1);
op_dup:
    if (sp == fence || sp == stend)
        goto out;
    *sp = sp[-1];
    sp++;
    NEXT(1);
#undef NEXT
#undef NEXT_PUT
#undef PUSH_ROOM
#undef LE32

memo_limit:
    rc = WW_E_LIMIT;
put_failed:
    /* The opcode was consumed, as in run_one. */
    ip += msz;
    nops++;
    if (rc == WW_E_LIMIT)
        rc = pk_lim(m->c, "max_memo", "more than %u pickle memo entries",
                    (unsigned)m->lim->max_memo);
out:
    c->pos = (size_t)(ip - base);
    m->sp = (size_t)(sp - st);
    m->fence = (size_t)(fence - st);
    m->nmarks = nmk;
    m->memo.count = mcount;
    m->dict_serial = dict_serial;
    *budget_io = budget - nops;
    return rc;
}

/* One pickle stream from the cursor's position to its STOP. */
static ww_status run_one(vm *m, bool *stopped)
{
    ww_status rc = WW_OK;
    wwi_cur *c = &m->cur;
    uint64_t op_off = c->pos;
    const uint8_t *p = NULL;
    size_t n = 0, base = 0;
    uint64_t u = 0;
    uint32_t gid = 0;
    bool neg = false;
    pk_val v;
    m->sp = 0;
    m->nmarks = 0;
    m->fence = 0;
    m->proto = 0;
    m->frame_end = 0;
    *stopped = false;
    const uint64_t max_ops = m->lim->max_pickle_ops;
    /* Opcodes until the next time check (every 4096) or the op limit. */
    uint64_t budget = 0;

    while (c->pos < c->len) {
        rc = fast_ops(m, &budget);
        if (rc != WW_OK)
            goto done;
        if (c->pos >= c->len)
            break;
        op_off = c->pos;
        if (__builtin_expect(budget == 0, 0)) {
            if (m->ops >= max_ops)
                return pk_lim(m->c, "max_pickle_ops", "more than %llu pickle opcodes",
                              (unsigned long long)max_ops);
            if (m->ops)
                TRY(wwi_scan_check_time(m->s));
            budget = max_ops - m->ops < 4096 ? max_ops - m->ops : 4096;
            m->ops += budget; /* counted ahead; given back below when we stop early */
        }
        budget--;
        uint8_t op = c->base[c->pos++];
        switch (op) {
        case '(': /* MARK */
            if (m->nmarks == m->capmarks) {
                if (m->capmarks >= m->lim->max_stack)
                    return pk_lim(m->c, "max_stack", "more than %u nested MARKs",
                                          (unsigned)m->lim->max_stack);
                size_t nc = m->capmarks ? m->capmarks * 2 : 64;
                if (nc > m->lim->max_stack)
                    nc = m->lim->max_stack;
                void *np = m->marks;
                TRY(wwi_realloc(&np, nc * sizeof(size_t)));
                m->marks = np;
                m->capmarks = nc;
            }
            m->marks[m->nmarks++] = m->sp;
            m->fence = m->sp;
            break;
        case '.': /* STOP */
            NEED(1);
            *stopped = true;
            m->ops -= budget;
            return WW_OK;
        case '0': /* POP: with nothing above the mark, pops the mark */
            if (m->sp > m->fence)
                m->sp--;
            else if (m->nmarks) {
                m->nmarks--;
                m->fence = m->nmarks ? m->marks[m->nmarks - 1] : 0;
            } else
                FAIL(WW_E_FORMAT, "pickle stack underflow at POP");
            break;
        case '1': /* POP_MARK */
            POP_MARK_TO(base);
            m->sp = base;
            break;
        case '2': /* DUP */
            NEED(1);
            TRY(push(m, m->st[m->sp - 1]));
            break;
        case 'F': /* FLOAT */
            if (!line(m, &n))
                FAIL(c->err, "pickle FLOAT line unterminated");
            TRY(push(m, mk(PK_OTHER)));
            break;
        case 'I': /* INT */
        case 'L': /* LONG */
            p = line(m, &n);
            if (!p)
                FAIL(c->err, "pickle INT/LONG line unterminated");
            if (parse_dec(p, n, &u, &neg))
                TRY(push(m, mk_int(neg ? 0 - u : u, neg)));
            else
                TRY(push(m, mk(PK_OTHER)));
            break;
        case 'J': { /* BININT */
            uint32_t x = wwi_cur_u32le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in BININT");
            TRY(push(m, mk_int((uint64_t)(int64_t)(int32_t)x, (x & 0x80000000u) != 0)));
            break;
        }
        case 'K': /* BININT1 */
            u = wwi_cur_u8(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in BININT1");
            TRY(push(m, mk_int(u, false)));
            break;
        case 'M': /* BININT2 */
            u = wwi_cur_u16le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in BININT2");
            TRY(push(m, mk_int(u, false)));
            break;
        case 0x8a: /* LONG1 */
        case 0x8b: { /* LONG4 */
            uint64_t len = op == 0x8a ? wwi_cur_u8(c) : wwi_cur_u32le(c);
            if (op == 0x8b && (len & 0x80000000u))
                FAIL(WW_E_FORMAT, "LONG4 with a negative length");
            TRY(payload(m, len, op_off, &p));
            u = 0;
            bool big = len > 8 || (len > 0 && (p[len - 1] & 0x80));
            for (size_t i = 0; i < len && i < 8; i++)
                u |= (uint64_t)p[i] << (8 * i);
            if (len > 8)
                u = 0;
            else if (big && len < 8)
                u |= ~0ull << (8 * len); /* sign-extend */
            TRY(push(m, mk_int(u, big)));
            break;
        }
        case 'N':
            TRY(push(m, mk(PK_NONE)));
            break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
        case 0x8f: /* EMPTY_SET */
            TRY(push(m, mk(PK_OTHER)));
            break;
        case 'G': /* BINFLOAT */
            if (!wwi_cur_skip(c, 8))
                FAIL(c->err, "pickle truncated in BINFLOAT");
            TRY(push(m, mk(PK_OTHER)));
            break;
        case 'P': /* PERSID */
            if (!line(m, &n))
                FAIL(c->err, "pickle PERSID line unterminated");
            TRY(push(m, mk(PK_OTHER)));
            break;
        case 'Q': /* BINPERSID */
            NEED(1);
            v = m->st[--m->sp];
            if (v.kind == PK_TUPLE && (v.flags & PF_STORAGE)) {
                pk_view kv = {v.v.p, v.n, v.aux};
                TRY(pk_ctx_add_view(&m->c->skeys, &m->c->nskeys, &m->c->capskeys, kv));
            } else if (v.kind == PK_TUPLE && v.aux == PK_AUX_MODULE) {
                pk_val cls = mk(PK_GLOBAL);
                cls.gid = v.gid;
                TRY(push(m, cls));
                break;
            }
            TRY(push(m, mk(PK_OTHER)));
            break;
        case 'S': /* STRING: quoted, Python escapes */
            p = line(m, &n);
            if (!p)
                FAIL(c->err, "pickle STRING line unterminated");
            if (n < 2 || (p[0] != '\'' && p[0] != '"') || p[n - 1] != p[0])
                FAIL(WW_E_FORMAT, "pickle STRING argument not quoted");
            TRY(push(m, mk_view(PK_STR, p + 1, n - 2,
                                memchr(p + 1, '\\', n - 2) ? PF_ESC_S : 0, 0)));
            break;
        case 'V': { /* UNICODE: raw-unicode-escape */
            p = line(m, &n);
            if (!p)
                FAIL(c->err, "pickle UNICODE line unterminated");
            uint8_t fl = 0;
            for (size_t i = 0; i < n && !fl; i++)
                if (p[i] == '\\' || p[i] >= 0x80)
                    fl = PF_ESC_V;
            if (n > UINT32_MAX)
                FAIL(WW_E_LIMIT, "pickle UNICODE line too long");
            TRY(push(m, mk_view(PK_STR, p, n, fl, 0)));
            break;
        }
        case 'T': /* BINSTRING */
        case 'X': /* BINUNICODE */
        case 'B': { /* BINBYTES */
            uint32_t len = wwi_cur_u32le(c);
            if (op == 'T' && (len & 0x80000000u))
                FAIL(WW_E_FORMAT, "BINSTRING with a negative length");
            TRY(payload(m, len, op_off, &p));
            if (len >= 16 && (p[0] == 0x80 || p[0] == 'g' || p[0] == '8'))
                TRY(pk_embedded(m->c, p, len, op_off));
            TRY(push(m, mk_view(op == 'B' ? PK_BYTES : PK_STR, p, len, 0, 4)));
            break;
        }
        case 'U':  /* SHORT_BINSTRING */
        case 0x8c: /* SHORT_BINUNICODE */
        case 'C': { /* SHORT_BINBYTES */
            uint8_t len = wwi_cur_u8(c);
            TRY(payload(m, len, op_off, &p));
            if (len >= 16 && (p[0] == 0x80 || p[0] == 'g' || p[0] == '8'))
                TRY(pk_embedded(m->c, p, len, op_off));
            TRY(push(m, mk_view(op == 'C' ? PK_BYTES : PK_STR, p, len, 0, 1)));
            break;
        }
        case 0x8d: /* BINUNICODE8 */
        case 0x8e: /* BINBYTES8 */
        case 0x96: { /* BYTEARRAY8 */
            uint64_t len = wwi_cur_u64le(c);
            TRY(payload(m, len, op_off, &p));
            if (len >= 16 && (p[0] == 0x80 || p[0] == 'g' || p[0] == '8'))
                TRY(pk_embedded(m->c, p, (size_t)len, op_off));
            TRY(push(m, mk_view(op == 0x8d ? PK_STR : PK_BYTES, p, (size_t)len, 0, 8)));
            break;
        }
        case ')':
            TRY(push(m, make_tuple(m->c, NULL, 0)));
            break;
        case 0x85: /* TUPLE1..3 */
        case 0x86:
        case 0x87: {
            size_t k = (size_t)(op - 0x84);
            NEED(k);
            v = make_tuple(m->c, &m->st[m->sp - k], k);
            m->sp -= k;
            TRY(push(m, v));
            break;
        }
        case 't': /* TUPLE */
            POP_MARK_TO(base);
            v = make_tuple(m->c, &m->st[base], m->sp - base);
            m->sp = base;
            TRY(push(m, v));
            break;
        case ']':
            TRY(push(m, mk(PK_LIST)));
            break;
        case 'l': /* LIST */
        case 0x91: /* FROZENSET */
            POP_MARK_TO(base);
            m->sp = base;
            TRY(push(m, mk(op == 'l' ? PK_LIST : PK_OTHER)));
            break;
        case '}':
        case 'd': /* DICT */
            if (op == 'd') {
                POP_MARK_TO(base);
                if ((m->sp - base) % 2)
                    FAIL(WW_E_FORMAT, "odd number of items for DICT");
                m->sp = base;
            }
            v = mk(PK_DICT);
            v.v.u = ++m->dict_serial;
            TRY(push(m, v));
            break;
        case 'a': /* APPEND */
            NEED(2);
            m->sp--;
            if (m->c->collect_strs)
                TRY(collect(m, &m->st[m->sp], 1));
            if (m->st[m->sp - 1].kind == PK_GLOBAL)
                mutate_global(m, &m->st[m->sp - 1], op_off, "APPEND");
            break;
        case 's': /* SETITEM */
            NEED(3);
            m->sp -= 2;
            jl_track(m, &m->st[m->sp - 1], &m->st[m->sp], 2);
            if (m->st[m->sp - 1].kind == PK_GLOBAL)
                mutate_global(m, &m->st[m->sp - 1], op_off, "SETITEM");
            break;
        case 'e':  /* APPENDS */
        case 'u':  /* SETITEMS */
        case 0x90: /* ADDITEMS */
            POP_MARK_TO(base);
            if (base == 0 || base <= m->fence)
                FAIL(WW_E_FORMAT, "pickle stack underflow at opcode 0x%02x", op);
            if (op == 'e' && m->c->collect_strs)
                TRY(collect(m, &m->st[base], m->sp - base));
            if (op == 'u') {
                if ((m->sp - base) % 2)
                    FAIL(WW_E_FORMAT, "odd number of items for SETITEMS");
                jl_track(m, &m->st[base - 1], &m->st[base], m->sp - base);
            }
            m->sp = base;
            if (m->st[m->sp - 1].kind == PK_GLOBAL)
                mutate_global(m, &m->st[m->sp - 1], op_off, "SETITEMS/APPENDS");
            break;
        case 'g': /* GET */
        case 'h': /* BINGET */
        case 'j': { /* LONG_BINGET */
            if (op == 'g') {
                p = line(m, &n);
                if (!p)
                    FAIL(c->err, "pickle GET line unterminated");
                if (!parse_dec(p, n, &u, &neg) || neg)
                    FAIL(WW_E_FORMAT, "pickle GET index not a number");
            } else
                u = op == 'h' ? wwi_cur_u8(c) : wwi_cur_u32le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in GET");
            if (__builtin_expect(m->sp == m->cap, 0))
                TRY(grow_stack(m));
            /* Straight into the slot: no temporary to copy (store forwarding). */
            if (!pk_memo_get(&m->memo, u, &m->st[m->sp]))
                FAIL(WW_E_FORMAT, "pickle memo key %llu missing (the load fails here)",
                     (unsigned long long)u);
            m->sp++;
            break;
        }
        case 'p':  /* PUT */
        case 'q':  /* BINPUT */
        case 'r':  /* LONG_BINPUT */
        case 0x94: /* MEMOIZE */
            if (op == 'p') {
                p = line(m, &n);
                if (!p)
                    FAIL(c->err, "pickle PUT line unterminated");
                if (!parse_dec(p, n, &u, &neg) || neg)
                    FAIL(WW_E_FORMAT, "pickle PUT index not a number");
            } else if (op == 0x94)
                u = m->memo.count;
            else
                u = op == 'q' ? wwi_cur_u8(c) : wwi_cur_u32le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in PUT");
            NEED(1);
            rc = pk_memo_put(&m->memo, u, &m->st[m->sp - 1]);
            if (rc == WW_E_UNSUPPORTED)
                FAIL(WW_E_UNSUPPORTED, "pickle PUT index %llu cannot be tracked",
                     (unsigned long long)u);
            if (rc == WW_E_LIMIT)
                return pk_lim(m->c, "max_memo", "more than %u pickle memo entries",
                                      (unsigned)m->lim->max_memo);
            TRY(rc);
            break;
        case 'c': /* GLOBAL */
        case 'i': { /* INST */
            size_t ml = 0, nl = 0;
            const uint8_t *mp = line(m, &ml);
            const uint8_t *np = mp ? line(m, &nl) : NULL;
            if (!np)
                FAIL(c->err, "pickle GLOBAL/INST lines unterminated");
            if (ml > PK_MAX_NAME || nl > PK_MAX_NAME)
                return pk_lim(m->c, "max_string", "import name longer than %u bytes",
                                      PK_MAX_NAME);
            TRY(import(m, mp, ml, np, nl, op_off, &gid));
            v = mk(PK_GLOBAL);
            v.gid = gid;
            if (op == 'c') {
                TRY(push(m, v));
                break;
            }
            POP_MARK_TO(base);
            pk_val args = make_tuple(m->c, &m->st[base], m->sp - base);
            m->sp = base;
            pk_val res;
            TRY(call(m, &v, &args, false, op_off, &res));
            TRY(push(m, res));
            break;
        }
        case 0x93: { /* STACK_GLOBAL */
            NEED(2);
            pk_val *mo = &m->st[m->sp - 2], *na = &m->st[m->sp - 1];
            v = mk(PK_GLOBAL);
            if (mo->kind == PK_STR && na->kind == PK_STR) {
                if (mo->n > PK_MAX_NAME || na->n > PK_MAX_NAME)
                    return pk_lim(m->c, "max_string",
                                          "import name longer than %u bytes", PK_MAX_NAME);
                TRY(import_vals(m, mo, na, op_off, &gid));
                v.gid = gid;
            } else {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "unresolvable import: STACK_GLOBAL operands are %s and %s, not "
                         "string literals",
                         type_names[mo->kind], type_names[na->kind]);
                pk_ctx_once(m->c, PK_ONCE_UNRESOLVED, WW_SEV_CRITICAL, "import", op_off, msg);
            }
            m->sp -= 2;
            TRY(push(m, v));
            break;
        }
        case 0x82: /* EXT1 */
        case 0x83: /* EXT2 */
        case 0x84: { /* EXT4 */
            uint32_t code = op == 0x82 ? wwi_cur_u8(c)
                            : op == 0x83 ? wwi_cur_u16le(c)
                                         : wwi_cur_u32le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in EXT");
            if (code == 0 || (op == 0x84 && (code & 0x80000000u)))
                FAIL(WW_E_FORMAT, "EXT code <= 0");
            char msg[96];
            snprintf(msg, sizeof msg, "unresolvable import via extension code %u",
                     (unsigned)code);
            pk_ctx_once(m->c, PK_ONCE_EXT, WW_SEV_CRITICAL, "import", op_off, msg);
            TRY(push(m, mk(PK_GLOBAL)));
            break;
        }
        case 'R': { /* REDUCE */
            NEED(2);
            pk_val args = m->st[m->sp - 1], fn = m->st[m->sp - 2];
            m->sp -= 2;
            pk_val res;
            TRY(call(m, &fn, &args, false, op_off, &res));
            TRY(push(m, res));
            break;
        }
        case 'o': { /* OBJ */
            POP_MARK_TO(base);
            if (m->sp - base < 1)
                FAIL(WW_E_FORMAT, "pickle OBJ without a class");
            pk_val fn = m->st[base];
            size_t nargs = m->sp - base - 1;
            pk_val args = make_tuple(m->c, &m->st[base + 1], nargs);
            m->sp = base;
            pk_val res;
            TRY(call(m, &fn, &args, nargs == 0, op_off, &res));
            TRY(push(m, res));
            break;
        }
        case 0x81: /* NEWOBJ */
        case 0x92: { /* NEWOBJ_EX */
            size_t k = op == 0x81 ? 2 : 3;
            NEED(k);
            pk_val fn = m->st[m->sp - k];
            m->sp -= k;
            pk_val res;
            TRY(call(m, &fn, NULL, true, op_off, &res));
            TRY(push(m, res));
            break;
        }
        case 'b': { /* BUILD */
            NEED(2);
            pk_val state = m->st[--m->sp];
            pk_val *t = &m->st[m->sp - 1];
            if (t->kind == PK_GLOBAL)
                mutate_global(m, t, op_off, "BUILD");
            else if (t->kind == PK_CALL && (t->flags & PF_DTYPE))
                dtype_build(m, t, &state);
            else if ((t->kind == PK_INST || t->kind == PK_CALL) && t->gid != PK_GID_NONE) {
                uint8_t role = m->c->g[t->gid].role;
                if (role == PR_JLWRAP && t->kind == PK_INST)
                    TRY(joblib_skip(m, &state, op_off));
                else if (role == PR_JLSIDE)
                    sidecar_build(m, t, &state, op_off);
            }
            break;
        }
        case 0x80: /* PROTO */
            u = wwi_cur_u8(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in PROTO");
            if (u > 5)
                FAIL(WW_E_FORMAT, "unsupported pickle protocol %u", (unsigned)u);
            m->proto = (int)u;
            break;
        case 0x95: /* FRAME: a read-ahead hint; decoding ignores frame bounds */
            u = wwi_cur_u64le(c);
            if (c->err)
                FAIL(c->err, "pickle truncated in FRAME");
            if (u > wwi_cur_left(c)) {
                pk_ctx_once(m->c, PK_ONCE_FRAME, WW_SEV_MEDIUM, "malformed", op_off,
                            "FRAME declares more bytes than remain (loaders disagree on "
                            "this stream)");
                m->frame_end = 0;
            } else
                m->frame_end = c->pos + u;
            break;
        case 0x97: /* NEXT_BUFFER */
            FAIL(WW_E_UNSUPPORTED, "pickle refers to out-of-band buffers");
        case 0x98: /* READONLY_BUFFER */
            NEED(1);
            break;
        default:
            FAIL(WW_E_FORMAT, "unknown pickle opcode 0x%02x", op);
        }
        if (m->frame_end && op_off < m->frame_end && c->pos > m->frame_end) {
            pk_ctx_once(m->c, PK_ONCE_FRAME, WW_SEV_MEDIUM, "malformed", op_off,
                        "opcode straddles a FRAME boundary (loaders disagree on this stream)");
            m->frame_end = 0;
        }
    }
    if (!*stopped)
        rc = pk_err(m->c, WW_E_TRUNCATED, c->pos, "pickle ends without STOP");
done:
    m->ops -= budget;
    return rc;
}

ww_status pk_run(pk_ctx *c, const uint8_t *data, size_t len, uint32_t max_pickles,
                 uint64_t *consumed)
{
    ww_status rc = WW_OK;
    vm *m = wwi_calloc(1, sizeof *m);
    if (!m)
        return WW_E_NOMEM;
    m->c = c;
    m->s = c->s;
    m->lim = wwi_scan_limits(c->s);
    wwi_cur_init(&m->cur, data, len);
    pk_memo_init(&m->memo, m->lim->max_memo, data);
    wwi_buf_init(&m->tmp, PK_MAX_NAME * 4);
    wwi_buf_init(&m->tmp2, PK_MAX_NAME * 4);
    *consumed = 0;
    if (len == 0) {
        rc = pk_err(c, WW_E_TRUNCATED, 0, "empty pickle stream");
        goto done;
    }
    /* The stack always exists: &m->st[0] of an empty stack must not be an
     * offset from NULL (UBSan, found replaying the fuzz corpus). */
    rc = grow_stack(m);
    if (rc != WW_OK)
        goto done;
    uint32_t n = 0;
    while (!wwi_cur_eof(&m->cur)) {
        bool stopped = false;
        rc = run_one(m, &stopped);
        if (rc != WW_OK || !stopped)
            break;
        *consumed = m->cur.pos;
        if (max_pickles && ++n >= max_pickles)
            break;
    }
done:
    pk_memo_free(&m->memo);
    wwi_free(m->dts);
    wwi_buf_free(&m->tmp);
    wwi_buf_free(&m->tmp2);
    wwi_free(m->st);
    wwi_free(m->marks);
    wwi_free(m);
    return rc;
}
