/* gguf: llama.cpp's model format (v1-v3). Header = magic, version, counts,
 * typed key/values, tensor infos; then aligned tensor data, never read. The
 * format carries no code, but tokenizer.chat_template* values are Jinja
 * programs that servers render (CVE-2024-34359): those go to the template
 * analyser, and a file that has one is reported code-capable.
 *
 * Only the header area is viewed, through a window that grows (x4) from
 * 1 MiB up to max_header_bytes: a 100 GB file costs a few MB of reads. Every
 * count is checked against the bytes that could hold it before anything is
 * allocated or looped (T-GGUF-MALFORMED). */
#include <stdlib.h>
#include "formats/format.h"
#include "formats/gguf/ggml_types.h"
#include "formats/jinja/template.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define GG_FIRST_WINDOW (1u << 20)
#define GG_MAX_ARRAY_DEPTH 8  /* llama.cpp writes none nested; allow a little */
#define GG_MAX_DIMS 4         /* GGML_MAX_DIMS */
#define GG_MAX_NAME 64        /* GGML_MAX_NAME, including the NUL */
#define GG_MAX_ALIGNMENT (1ull << 30)
#define GG_NEED_MORE WW_STATUS_END_ /* internal: the window was too small */

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 };

typedef struct gg_ref {
    uint64_t off, len;
} gg_ref;

typedef struct gg_tpl {
    gg_ref key, val;
    bool lenient; /* not a chat_template key, only contains "{{" */
} gg_tpl;

typedef struct gg_tensor {
    gg_ref name;
    uint64_t off, size;
} gg_tensor;

typedef struct gg {
    wwi_scan *s;
    const uint8_t *base; /* window: file bytes [0, wlen) */
    uint64_t size, limit_end; /* header bytes we may ever view: min(size, cap) */
    uint32_t version;
    uint64_t n_tensors, n_kv, alignment, data_start;
    gg_ref *keys;
    gg_tpl *tpls;
    gg_tensor *tensors;
    size_t nkeys, ntpls, ntensors, capkeys, captpls, captensors;
} gg;

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    return n >= 4 && wwi_bytes_eq(head, "GGUF", 4) ? 95 : 0;
}

static ww_status grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return WW_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = *arr;
    ww_status st = wwi_realloc(&p, nc * elem);
    if (st == WW_OK) {
        *arr = p;
        *cap = nc;
    }
    return st;
}

/* Bytes that could still hold header data after the cursor, window or not. */
static uint64_t left_total(const gg *g, const wwi_cur *c)
{
    return g->limit_end - c->pos;
}

/* Cursor ran out: inside the window means "view more"; at the cap or EOF it
 * is a real truncation or a limit hit. */
static ww_status ran_out(gg *g, const wwi_cur *c, const char *what)
{
    if (c->len < g->limit_end)
        return GG_NEED_MORE;
    if (g->limit_end < g->size)
        return wwi_scan_limit(g->s, "max_header_bytes", "GGUF header passes %llu bytes at %s",
                              (unsigned long long)g->limit_end, what);
    return wwi_scan_error(g->s, WW_E_TRUNCATED, c->pos, "GGUF ends inside %s", what);
}

/* A count read from the file is believable only if count x smallest
 * encoding fits in the bytes left. */
static ww_status plausible(gg *g, const wwi_cur *c, uint64_t count, uint64_t min, const char *what)
{
    if (min == 0 || count <= left_total(g, c) / min)
        return WW_OK;
    if (g->limit_end < g->size)
        return wwi_scan_limit(g->s, "max_header_bytes",
                              "%s claims %llu entries; more than the header limit can hold", what,
                              (unsigned long long)count);
    return wwi_scan_error(g->s, WW_E_FORMAT, c->pos,
                          "%s claims %llu entries, more than the %llu bytes left can hold", what,
                          (unsigned long long)count, (unsigned long long)left_total(g, c));
}

static uint64_t rd_count(const gg *g, wwi_cur *c)
{
    return g->version == 1 ? wwi_cur_u32le(c) : wwi_cur_u64le(c);
}

/* A GGUF string: length then bytes; *out is its position in the file. */
static ww_status rd_string(gg *g, wwi_cur *c, gg_ref *out, const char *what)
{
    uint64_t len = rd_count(g, c);
    if (c->err != WW_OK)
        return ran_out(g, c, what);
    /* A lie about the file is malformed; only a believable length is a limit. */
    if (len > g->size - c->pos)
        return wwi_scan_error(g->s, WW_E_FORMAT, c->pos, "%s length %llu runs past the file",
                              what, (unsigned long long)len);
    if (len > wwi_scan_limits(g->s)->max_string)
        return wwi_scan_limit(g->s, "max_string", "%s of %llu bytes", what,
                              (unsigned long long)len);
    if (len > left_total(g, c))
        return ran_out(g, c, what);
    out->off = c->pos;
    out->len = len;
    if (!wwi_cur_skip(c, (size_t)len))
        return ran_out(g, c, what);
    return WW_OK;
}

static uint64_t fixed_size(uint32_t t)
{
    static const uint8_t sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < sizeof sz ? sz[t] : 0;
}

static uint64_t min_size(const gg *g, uint32_t t)
{
    uint64_t w = g->version == 1 ? 4 : 8;
    return t == T_STR ? w : t == T_ARR ? 4 + w : fixed_size(t);
}

static ww_status skip_value(gg *g, wwi_cur *c, uint32_t type, unsigned depth)
{
    uint64_t fs = fixed_size(type);
    if (fs) {
        if (!wwi_cur_skip(c, (size_t)fs))
            return ran_out(g, c, "a value");
        return WW_OK;
    }
    if (type == T_STR) {
        gg_ref r;
        return rd_string(g, c, &r, "a string value");
    }
    if (type != T_ARR)
        return wwi_scan_error(g->s, WW_E_FORMAT, c->pos, "unknown value type %u", type);
    if (depth >= GG_MAX_ARRAY_DEPTH)
        return wwi_scan_error(g->s, WW_E_FORMAT, c->pos, "arrays nested deeper than %d",
                              GG_MAX_ARRAY_DEPTH);
    uint32_t et = wwi_cur_u32le(c);
    uint64_t count = rd_count(g, c);
    if (c->err != WW_OK)
        return ran_out(g, c, "an array header");
    if (et > T_F64)
        return wwi_scan_error(g->s, WW_E_FORMAT, c->pos, "array of unknown type %u", et);
    ww_status st = plausible(g, c, count, min_size(g, et), "an array");
    if (st != WW_OK)
        return st;
    if (fixed_size(et)) {
        if (!wwi_cur_skip(c, (size_t)(count * fixed_size(et))))
            return ran_out(g, c, "an array");
        return WW_OK;
    }
    for (uint64_t i = 0; i < count; i++) {
        st = skip_value(g, c, et, depth + 1);
        if (st == WW_OK && (i & 0xfff) == 0)
            st = wwi_scan_check_time(g->s);
        if (st != WW_OK)
            return st;
    }
    return WW_OK;
}

static bool key_is(const gg *g, gg_ref k, const char *lit)
{
    size_t n = strlen(lit);
    return k.len == n && wwi_bytes_eq(g->base + k.off, lit, n);
}

static bool key_has_prefix(const gg *g, gg_ref k, const char *lit)
{
    size_t n = strlen(lit);
    return k.len > n && wwi_bytes_eq(g->base + k.off, lit, n);
}

static ww_status kv(gg *g, wwi_cur *c)
{
    gg_ref key;
    ww_status st = rd_string(g, c, &key, "a key");
    if (st != WW_OK)
        return st;
    uint32_t type = wwi_cur_u32le(c);
    if (c->err != WW_OK)
        return ran_out(g, c, "a value type");
    st = grow((void **)&g->keys, &g->capkeys, g->nkeys, sizeof *g->keys);
    if (st != WW_OK)
        return st;
    g->keys[g->nkeys++] = key;
    uint64_t at = c->pos;
    bool tpl = key_is(g, key, "tokenizer.chat_template") ||
               key_has_prefix(g, key, "tokenizer.chat_template.");
    if (key_is(g, key, "general.alignment")) {
        if (type != T_U32)
            return wwi_scan_error(g->s, WW_E_FORMAT, at, "general.alignment is not a u32");
        uint32_t a = wwi_cur_u32le(c);
        if (c->err != WW_OK)
            return ran_out(g, c, "general.alignment");
        if (a == 0 || (a & (a - 1)) != 0 || a > GG_MAX_ALIGNMENT)
            return wwi_scan_error(g->s, WW_E_FORMAT, at,
                                  "general.alignment %u is not a power of two up to 2^30", a);
        g->alignment = a;
        return WW_OK;
    }
    if (tpl && type != T_STR)
        return wwi_scan_error(g->s, WW_E_FORMAT, at, "%.*s is not a string",
                              (int)(key.len > 200 ? 200 : key.len),
                              (const char *)g->base + key.off);
    if (type != T_STR)
        return skip_value(g, c, type, 0);
    gg_ref val;
    st = rd_string(g, c, &val, "a string value");
    if (st != WW_OK)
        return st;
    if (!tpl && !wwi_template_has_blocks((const char *)g->base + val.off, (size_t)val.len))
        return WW_OK;
    st = grow((void **)&g->tpls, &g->captpls, g->ntpls, sizeof *g->tpls);
    if (st != WW_OK)
        return st;
    g->tpls[g->ntpls++] = (gg_tpl){key, val, !tpl};
    return WW_OK;
}

static ww_status tensor_info(gg *g, wwi_cur *c)
{
    gg_tensor t;
    ww_status st = rd_string(g, c, &t.name, "a tensor name");
    if (st != WW_OK)
        return st;
    uint64_t at = t.name.off;
    if (t.name.len >= GG_MAX_NAME)
        return wwi_scan_error(g->s, WW_E_FORMAT, at, "tensor name of %llu bytes (max %d)",
                              (unsigned long long)t.name.len, GG_MAX_NAME - 1);
    uint32_t nd = wwi_cur_u32le(c);
    if (c->err != WW_OK)
        return ran_out(g, c, "a tensor info");
    if (nd == 0 || nd > GG_MAX_DIMS)
        return wwi_scan_error(g->s, WW_E_FORMAT, at, "tensor '%.*s' has %u dimensions (1..%d)",
                              (int)t.name.len, (const char *)g->base + at, nd, GG_MAX_DIMS);
    uint64_t ne[GG_MAX_DIMS] = {1, 1, 1, 1}, nel = 1;
    for (uint32_t d = 0; d < nd; d++) {
        ne[d] = rd_count(g, c);
        if (ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(nel, ne[d], &nel) ||
            nel > (uint64_t)INT64_MAX)
            return wwi_scan_error(g->s, WW_E_FORMAT, at,
                                  "tensor '%.*s': dimensions overflow", (int)t.name.len,
                                  (const char *)g->base + at);
    }
    uint32_t type = wwi_cur_u32le(c);
    t.off = wwi_cur_u64le(c);
    if (c->err != WW_OK)
        return ran_out(g, c, "a tensor info");
    const ggml_type_info *ti = wwi_ggml_type(type);
    if (!ti)
        return wwi_scan_error(g->s, WW_E_UNSUPPORTED, at,
                              "tensor '%.*s' has unknown ggml type %u: size cannot be checked",
                              (int)t.name.len, (const char *)g->base + at, type);
    if (ne[0] % ti->block)
        return wwi_scan_error(g->s, WW_E_FORMAT, at,
                              "tensor '%.*s': row of %llu is not a multiple of the %s block",
                              (int)t.name.len, (const char *)g->base + at,
                              (unsigned long long)ne[0], ti->name);
    t.size = ne[0] / ti->block * ti->bytes;
    for (uint32_t d = 1; d < nd; d++)
        if (__builtin_mul_overflow(t.size, ne[d], &t.size))
            return wwi_scan_error(g->s, WW_E_FORMAT, at, "tensor '%.*s': byte size overflows",
                                  (int)t.name.len, (const char *)g->base + at);
    st = grow((void **)&g->tensors, &g->captensors, g->ntensors, sizeof t);
    if (st != WW_OK)
        return st;
    g->tensors[g->ntensors++] = t;
    return WW_OK;
}

/* One parse of the header inside the current window. */
static ww_status parse(gg *g, size_t wlen)
{
    wwi_cur c;
    wwi_cur_init(&c, g->base, wlen);
    g->nkeys = g->ntpls = g->ntensors = 0;
    g->alignment = 32;
    wwi_cur_skip(&c, 4);
    g->version = wwi_cur_u32le(&c);
    if (c.err != WW_OK)
        return ran_out(g, &c, "the header");
    if (g->version < 1 || g->version > 3)
        return wwi_scan_error(g->s, WW_E_UNSUPPORTED, 4,
                              "GGUF version %u (big-endian or unknown; 1-3 are supported)",
                              g->version);
    g->n_tensors = rd_count(g, &c);
    g->n_kv = rd_count(g, &c);
    if (c.err != WW_OK)
        return ran_out(g, &c, "the header");
    uint64_t w = g->version == 1 ? 4 : 8;
    ww_status st = plausible(g, &c, g->n_kv, w + 4 + 1, "n_kv");
    if (st == WW_OK)
        st = plausible(g, &c, g->n_tensors, w + 4 + 4 + 8 + (g->version == 1 ? 4 : 8),
                       "n_tensors");
    for (uint64_t i = 0; st == WW_OK && i < g->n_kv; i++)
        st = kv(g, &c);
    for (uint64_t i = 0; st == WW_OK && i < g->n_tensors; i++) {
        st = tensor_info(g, &c);
        if (st == WW_OK && (i & 0xff) == 0)
            st = wwi_scan_check_time(g->s);
    }
    if (st != WW_OK)
        return st;
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_start = c.pos + pad;
    return WW_OK;
}

static int cmp_ref(const void *a, const void *b, void *base)
{
    const gg_ref *x = a, *y = b;
    size_t n = x->len < y->len ? (size_t)x->len : (size_t)y->len;
    int r = memcmp((const uint8_t *)base + x->off, (const uint8_t *)base + y->off, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

static int cmp_tensor_off(const void *a, const void *b)
{
    const gg_tensor *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

static ww_status check_unique(gg *g, gg_ref *refs, size_t n, size_t stride, const char *what)
{
    if (n < 2)
        return WW_OK;
    gg_ref *tmp = wwi_calloc(n, sizeof *tmp);
    if (!tmp)
        return WW_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        tmp[i] = *(const gg_ref *)((const uint8_t *)refs + i * stride);
    qsort_r(tmp, n, sizeof *tmp, cmp_ref, (void *)g->base);
    ww_status st = WW_OK;
    for (size_t i = 1; i < n && st == WW_OK; i++)
        if (cmp_ref(&tmp[i - 1], &tmp[i], (void *)g->base) == 0)
            st = wwi_scan_error(g->s, WW_E_FORMAT, tmp[i].off, "duplicate %s '%.*s'", what,
                                (int)(tmp[i].len > 200 ? 200 : tmp[i].len),
                                (const char *)g->base + tmp[i].off);
    wwi_free(tmp);
    return st;
}

/* Tensor data: inside the file, aligned, no two tensors sharing bytes. */
static ww_status check_data(gg *g)
{
    if (g->ntensors == 0)
        return WW_OK;
    if (g->data_start > g->size)
        return wwi_scan_error(g->s, WW_E_TRUNCATED, g->size, "file ends before the tensor data");
    qsort(g->tensors, g->ntensors, sizeof *g->tensors, cmp_tensor_off);
    uint64_t data = g->size - g->data_start, prev_end = 0;
    for (size_t i = 0; i < g->ntensors; i++) {
        gg_tensor *t = &g->tensors[i];
        int nl = (int)t->name.len;
        const char *nm = (const char *)g->base + t->name.off;
        if (t->off % g->alignment)
            return wwi_scan_error(g->s, WW_E_FORMAT, t->name.off,
                                  "tensor '%.*s' offset %llu is not aligned to %llu", nl, nm,
                                  (unsigned long long)t->off, (unsigned long long)g->alignment);
        if (t->off > data || t->size > data - t->off)
            return wwi_scan_error(g->s, WW_E_FORMAT, t->name.off,
                                  "tensor '%.*s' (%llu bytes at %llu) runs past the end of the file",
                                  nl, nm, (unsigned long long)t->size, (unsigned long long)t->off);
        if (i > 0 && t->off < prev_end)
            return wwi_scan_error(g->s, WW_E_FORMAT, t->name.off,
                                  "tensor '%.*s' overlaps the previous tensor", nl, nm);
        prev_end = t->off + t->size;
    }
    return WW_OK;
}

static ww_status analyse_templates(gg *g)
{
    for (size_t i = 0; i < g->ntpls; i++) {
        gg_tpl *t = &g->tpls[i];
        char where[256];
        size_t kl = t->key.len < sizeof where - 1 ? (size_t)t->key.len : sizeof where - 1;
        memcpy(where, g->base + t->key.off, kl);
        where[kl] = '\0';
        ww_status st = wwi_template_scan_ex(g->s, (const char *)g->base + t->val.off,
                                            (size_t)t->val.len, where, t->val.off,
                                            t->lenient ? WWI_TEMPLATE_LENIENT : 0);
        if (st != WW_OK)
            return st;
    }
    return WW_OK;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    gg g;
    memset(&g, 0, sizeof g);
    g.s = s;
    g.size = wwi_src_size(in);
    uint64_t cap = wwi_scan_limits(s)->max_header_bytes;
    g.limit_end = g.size < cap ? g.size : cap;
    uint64_t wlen = g.limit_end < GG_FIRST_WINDOW ? g.limit_end : GG_FIRST_WINDOW;
    for (;;) {
        rc = wwi_src_view(in, 0, (size_t)wlen, &g.base);
        if (rc != WW_OK) {
            rc = wwi_scan_error(s, rc, 0, "cannot read the GGUF header: %s", ww_strerror(rc));
            goto done;
        }
        rc = parse(&g, (size_t)wlen);
        if (rc != GG_NEED_MORE)
            break;
        wlen = wlen > g.limit_end / 4 ? g.limit_end : wlen * 4;
    }
    /* A parse error (already recorded) skips the layout checks, not the
     * templates read before it: errors never erase findings. */
    if (rc == WW_OK)
        rc = check_unique(&g, g.keys, g.nkeys, sizeof *g.keys, "key");
    if (rc == WW_OK && g.ntensors > 1)
        rc = check_unique(&g, &g.tensors[0].name, g.ntensors, sizeof *g.tensors, "tensor name");
    if (rc == WW_OK)
        rc = check_data(&g);
    /* Templates are analysed even when the layout is broken: a payload must
     * be reported whatever else is wrong. */
    bool chat = false;
    for (size_t i = 0; i < g.ntpls; i++)
        chat = chat || !g.tpls[i].lenient;
    wwi_scan_set_format(s, "gguf", chat);
    ww_status st = analyse_templates(&g);
    if (rc == WW_OK)
        rc = st;
done:
    wwi_free(g.keys);
    wwi_free(g.tpls);
    wwi_free(g.tensors);
    return rc;
}

const wwi_format wwi_format_gguf = {
    .name = "gguf",
    .description = "GGUF (llama.cpp): header validated, chat templates analysed",
    .flags = 0,
    .probe = probe,
    .scan = scan,
};
