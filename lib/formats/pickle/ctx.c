/* Per-layer pickle context: the distinct globals a layer imports (with their
 * classification and how they were used), the Python 2 name mapping, one-shot
 * findings, and string decoding for import operands and nested payloads. */
#include <stdarg.h>
#include <stdio.h>
#include "core/engine.h"
#include "formats/pickle/pk.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/strutil.h"

typedef struct compat_name {
    const char *om, *on, *nm, *nn;
} compat_name;
typedef struct compat_mod {
    const char *om, *nm;
} compat_mod;
static const compat_name compat_names[] = {
#define PK_COMPAT_NAME(a, b, c, d) {a, b, c, d},
#define PK_COMPAT_MODULE(a, b)
#include "formats/pickle/compat.def"
#undef PK_COMPAT_NAME
#undef PK_COMPAT_MODULE
};
static const compat_mod compat_mods[] = {
#define PK_COMPAT_NAME(a, b, c, d)
#define PK_COMPAT_MODULE(a, b) {a, b},
#include "formats/pickle/compat.def"
#undef PK_COMPAT_NAME
#undef PK_COMPAT_MODULE
};

#define PK_MAX_GLOBALS 1000000u

/* Roles: what a few known callables mean to the machine (not a verdict). */
static const struct {
    const char *m, *n;
    uint8_t role;
} roles[] = {
    {"_codecs", "encode", PR_CODECS},
    {"_pickle", "load", PR_LOADER},
    {"_pickle", "loads", PR_LOADER},
    {"cloudpickle", "loads", PR_LOADER},
    {"cloudpickle.cloudpickle", "loads", PR_LOADER},
    {"copyreg", "__newobj__", PR_RECON},
    {"copyreg", "__newobj_ex__", PR_RECON},
    {"copyreg", "_reconstructor", PR_RECON},
    {"dill", "loads", PR_LOADER},
    {"dill._dill", "loads", PR_LOADER},
    {"joblib", "load", PR_LOADER},
    {"joblib.numpy_pickle", "NumpyArrayWrapper", PR_JLWRAP},
    {"joblib.numpy_pickle_compat", "NDArrayWrapper", PR_JLSIDE},
    {"joblib.numpy_pickle_compat", "ZNDArrayWrapper", PR_JLSIDE},
    {"marshal", "loads", PR_LOADER},
    {"numpy", "dtype", PR_DTYPE},
    {"numpy", "load", PR_LOADER},
    {"pandas", "read_pickle", PR_LOADER},
    {"pickle", "load", PR_LOADER},
    {"pickle", "loads", PR_LOADER},
    {"torch", "load", PR_LOADER},
    {"torch.serialization", "load", PR_LOADER},
    {"torch.storage", "_load_from_bytes", PR_LOADER},
};

void pk_ctx_init(pk_ctx *c, wwi_scan *s)
{
    memset(c, 0, sizeof *c);
    c->s = s;
}

void pk_ctx_free(pk_ctx *c)
{
    for (uint32_t i = 0; i < c->ng; i++) {
        wwi_free(c->g[i].module);
        wwi_free(c->g[i].omodule);
    }
    wwi_free(c->g);
    wwi_free(c->gh);
    wwi_free(c->skeys);
    wwi_free(c->strs);
    memset(c, 0, sizeof *c);
}

ww_status pk_err(pk_ctx *c, ww_status st, uint64_t off, const char *fmt, ...)
{
    if (c->embedded && st != WW_E_NOMEM && st != WW_E_TIMEOUT)
        return st;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wwi_scan_error(c->s, st, off, "%s", msg);
}

ww_status pk_lim(pk_ctx *c, const char *limit, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->embedded)
        return WW_E_LIMIT;
    return wwi_scan_limit(c->s, limit, "%s", msg);
}

void pk_find(pk_ctx *c, ww_severity sev, const char *kind, const char *module, const char *name,
             uint64_t off, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->embedded) {
        wwi_finding(c->s, sev, kind, module, name, off, "%s", msg);
        return;
    }
    /* Inert until some other code loads it: suspicious, not an exploit. */
    wwi_finding(c->s, sev > WW_SEV_MEDIUM ? WW_SEV_MEDIUM : sev, kind, module, name, c->emb_off,
                "in a pickle embedded in data (runs only if loaded): %s", msg);
}

void pk_ctx_once(pk_ctx *c, uint32_t bit, ww_severity sev, const char *kind, uint64_t off,
                 const char *msg)
{
    if (c->once & bit)
        return;
    c->once |= bit;
    pk_find(c, sev, kind, NULL, NULL, off, "%s", msg);
}

static int b64v(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

static int hexv(uint8_t ch);

#define PK_EMB_DEPTH 3

ww_status pk_embedded(pk_ctx *c, const uint8_t *p, size_t n, uint64_t off)
{
    if (c->emb_depth >= PK_EMB_DEPTH || n < 6)
        return WW_OK;
    wwi_buf b;
    wwi_buf_init(&b, n);
    ww_status st = WW_OK;
    if (p[0] == 'g' && p[1] == 'A') { /* base64 of "\x80\x0N" */
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n && st == WW_OK && p[i] != '='; i++) {
            int v = b64v(p[i]);
            if (v < 0)
                break;
            acc = (acc << 6) | (uint32_t)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                st = wwi_buf_addc(&b, (char)((acc >> bits) & 0xff));
            }
        }
    } else if (p[0] == '8' && p[1] == '0' && p[2] == '0') { /* hex */
        for (size_t i = 0; i + 1 < n && st == WW_OK; i += 2) {
            int hi = hexv(p[i]), lo = hexv(p[i + 1]);
            if (hi < 0 || lo < 0)
                break;
            st = wwi_buf_addc(&b, (char)(hi * 16 + lo));
        }
    } else if (p[0] == 0x80)
        st = wwi_buf_add(&b, p, n);
    const uint8_t *d = (const uint8_t *)b.data;
    if (st == WW_OK && b.len >= 4 && d[0] == 0x80 && d[1] >= 2 && d[1] <= 5 &&
        d[b.len - 1] == '.') {
        pk_ctx child;
        uint64_t consumed = 0;
        pk_ctx_init(&child, c->s);
        child.embedded = true;
        child.emb_depth = c->emb_depth + 1;
        child.emb_off = c->embedded ? c->emb_off : off;
        st = pk_run(&child, d, b.len, 0, &consumed);
        pk_ctx_flush(&child);
        pk_ctx_free(&child);
    }
    wwi_buf_free(&b);
    return st == WW_E_NOMEM || st == WW_E_TIMEOUT ? st : WW_OK;
}

ww_status pk_ctx_add_view(pk_view **arr, size_t *n, size_t *cap, pk_view v)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *p = *arr;
        ww_status st = wwi_realloc(&p, nc * sizeof(pk_view));
        if (st != WW_OK)
            return st;
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = v;
    return WW_OK;
}

static uint32_t hash_mn(const char *m, size_t ml, const char *n, size_t nl)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < ml; i++)
        h = (h ^ (uint8_t)m[i]) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (size_t i = 0; i < nl; i++)
        h = (h ^ (uint8_t)n[i]) * 16777619u;
    return h;
}

static bool same(const char *a, const char *b, size_t bl)
{
    return strlen(a) == bl && wwi_bytes_eq(a, b, bl);
}

static ww_status gh_grow(pk_ctx *c)
{
    uint32_t ncap = c->ghcap ? c->ghcap * 2 : 64;
    uint32_t *nh = wwi_calloc(ncap, sizeof *nh);
    if (!nh)
        return WW_E_NOMEM;
    for (uint32_t i = 0; i < c->ng; i++) {
        const pk_glob *g = &c->g[i];
        uint32_t j = hash_mn(g->module, strlen(g->module), g->name, strlen(g->name)) & (ncap - 1);
        while (nh[j])
            j = (j + 1) & (ncap - 1);
        nh[j] = i + 1;
    }
    wwi_free(c->gh);
    c->gh = nh;
    c->ghcap = ncap;
    return WW_OK;
}

/* Protocol < 3 with fix_imports: _compat_pickle's NAME_MAPPING, then IMPORT_MAPPING. */
static void map_py2(const char **m, size_t *ml, const char **n, size_t *nl)
{
    for (size_t i = 0; i < sizeof compat_names / sizeof compat_names[0]; i++) {
        if (same(compat_names[i].om, *m, *ml) && same(compat_names[i].on, *n, *nl)) {
            *m = compat_names[i].nm;
            *ml = strlen(*m);
            *n = compat_names[i].nn;
            *nl = strlen(*n);
            return;
        }
    }
    for (size_t i = 0; i < sizeof compat_mods / sizeof compat_mods[0]; i++) {
        if (same(compat_mods[i].om, *m, *ml)) {
            *m = compat_mods[i].nm;
            *ml = strlen(*m);
            return;
        }
    }
}

static bool ident(const char *p, size_t n)
{
    if (n == 0 || (n > 4 && p[0] == '_' && p[1] == '_' && p[n - 2] == '_' && p[n - 1] == '_'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
              (i > 0 && ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}

/* Dotted path of plain identifiers (no dunder segment) after `skip` bytes. */
static bool plain_path(const char *p, size_t skip)
{
    size_t n = strlen(p);
    for (size_t i = skip, st = skip; i <= n; i++) {
        if (i < n && p[i] != '.')
            continue;
        if (!ident(p + st, i - st))
            return false;
        st = i + 1;
    }
    return true;
}

/* threats.md T-TORCHSCRIPT: inside a TorchScript archive, the classes of the
 * scripted modules (`__torch__.*`) and torch.jit's pickle helpers
 * (`torch.jit._pickle.build_intlist`...) are allow-listed by prefix. The name
 * must be one plain identifier: no attribute chains, no dunders. */
static bool torchscript_name(const char *module, const char *name)
{
    if (!plain_path(name, 0) || strchr(name, '.'))
        return false;
    if (wwi_str_eq(module, "torch.jit._pickle"))
        return true;
    if (wwi_str_eq(module, "__torch__"))
        return true;
    return strncmp(module, "__torch__.", 10) == 0 && plain_path(module, 10);
}

/* "module\0name\0" in one allocation. */
static char *pair_dup(const char *m, size_t ml, const char *n, size_t nl, char **name)
{
    char *p = wwi_malloc(ml + nl + 2);
    if (!p)
        return NULL;
    memcpy(p, m, ml);
    p[ml] = '\0';
    memcpy(p + ml + 1, n, nl);
    p[ml + 1 + nl] = '\0';
    *name = p + ml + 1;
    return p;
}

ww_status pk_ctx_global(pk_ctx *c, const char *mod, size_t modlen, const char *name,
                        size_t namelen, int proto, uint64_t off, uint32_t *gid)
{
    const char *om = mod, *on = name;
    size_t oml = modlen, onl = namelen;
    if (proto < 3)
        map_py2(&mod, &modlen, &name, &namelen);
    if (c->ghcap == 0 && gh_grow(c) != WW_OK)
        return WW_E_NOMEM;
    uint32_t h = hash_mn(mod, modlen, name, namelen);
    uint32_t j = h & (c->ghcap - 1);
    for (; c->gh[j]; j = (j + 1) & (c->ghcap - 1)) {
        pk_glob *g = &c->g[c->gh[j] - 1];
        if (same(g->module, mod, modlen) && same(g->name, name, namelen)) {
            *gid = c->gh[j] - 1;
            return WW_OK;
        }
    }
    /* Distinct globals per layer share the memo budget, capped at a million:
     * each costs ~80 bytes (real pickles have a few hundred at most). */
    uint32_t maxg = wwi_scan_limits(c->s)->max_memo;
    if (maxg > PK_MAX_GLOBALS)
        maxg = PK_MAX_GLOBALS;
    if (c->ng >= maxg)
        return pk_lim(c, "max_memo", "more than %u distinct globals", (unsigned)maxg);
    if (c->ng == c->capg) {
        uint32_t nc = c->capg ? c->capg * 2 : 32;
        void *p = c->g;
        ww_status st = wwi_realloc(&p, (size_t)nc * sizeof(pk_glob));
        if (st != WW_OK)
            return st;
        c->g = p;
        c->capg = nc;
    }
    pk_glob *g = &c->g[c->ng];
    memset(g, 0, sizeof *g);
    g->module = pair_dup(mod, modlen, name, namelen, &g->name);
    if (!g->module)
        return WW_E_NOMEM;
    if (mod != om || name != on) {
        g->omodule = pair_dup(om, oml, on, onl, &g->oname);
        if (!g->omodule) {
            wwi_free(g->module);
            return WW_E_NOMEM;
        }
    }
    g->off = off;
    g->sev = wwi_globals_classify(wwi_scan_engine(c->s), g->module, g->name, &g->reason,
                                  &g->known, &g->safe);
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (wwi_str_eq(roles[i].m, g->module) && wwi_str_eq(roles[i].n, g->name))
            g->role = roles[i].role;
    if (g->role == PR_JLWRAP || g->role == PR_JLSIDE)
        c->jl_seen = true;
    if (c->torchscript && !g->safe && torchscript_name(g->module, g->name)) {
        g->sev = WW_SEV_NONE;
        g->safe = g->known = true;
        g->reason = "TorchScript class or pickle helper (inside a TorchScript archive)";
    }
    c->gh[j] = c->ng + 1;
    *gid = c->ng++;
    if (2 * c->ng > c->ghcap)
        return gh_grow(c);
    return WW_OK;
}

void pk_ctx_flush(pk_ctx *c)
{
    for (uint32_t i = 0; i < c->ng; i++) {
        const pk_glob *g = &c->g[i];
        if (g->safe)
            continue;
        ww_severity sev = g->sev;
        const char *msg = g->reason;
        if (!g->known) {
            if (g->uses & PU_CALL)
                msg = "unknown callable invoked (not in the allow-list)";
            else if (g->uses & PU_NEW) {
                sev = WW_SEV_LOW;
                msg = "unknown class instantiated the standard way (not in the allow-list)";
            } else
                msg = "imported, not in the allow-list";
        }
        if (g->omodule)
            pk_find(c, sev, "import", g->module, g->name, g->off, "%s (pickled as %s.%s)", msg,
                    g->omodule, g->oname);
        else
            pk_find(c, sev, "import", g->module, g->name, g->off, "%s", msg);
    }
}

static int hexv(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static ww_status put_utf8(wwi_buf *b, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        t[0] = (char)(0xf0 | ((cp >> 18) & 0x07));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return wwi_buf_add(b, t, n);
}

/* Python's string-escape decoding of a protocol 0 STRING body. */
static ww_status dec_escape(const uint8_t *p, size_t n, wwi_buf *b)
{
    ww_status st = WW_OK;
    for (size_t i = 0; i < n && st == WW_OK; i++) {
        uint8_t ch = p[i];
        if (ch != '\\' || i + 1 == n) {
            st = wwi_buf_addc(b, (char)ch);
            continue;
        }
        uint8_t e = p[++i];
        int v = -1;
        switch (e) {
        case 'n': v = '\n'; break;
        case 't': v = '\t'; break;
        case 'r': v = '\r'; break;
        case 'a': v = 7; break;
        case 'b': v = 8; break;
        case 'f': v = 12; break;
        case 'v': v = 11; break;
        case '\\': case '\'': case '"': v = e; break;
        case '\n': continue;
        case 'x':
            if (i + 2 < n + 0 && hexv(p[i + 1]) >= 0 && hexv(p[i + 2]) >= 0) {
                v = hexv(p[i + 1]) * 16 + hexv(p[i + 2]);
                i += 2;
            }
            break;
        default:
            if (e >= '0' && e <= '7') {
                v = e - '0';
                for (int k = 0; k < 2 && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
                    v = v * 8 + (p[++i] - '0');
                v &= 0xff;
            }
        }
        if (v < 0) {
            st = wwi_buf_addc(b, '\\');
            if (st == WW_OK)
                st = wwi_buf_addc(b, (char)e);
        } else
            st = wwi_buf_addc(b, (char)v);
    }
    return st;
}

/* raw-unicode-escape (UNICODE body): \uXXXX, \UXXXXXXXX after an odd run of
 * backslashes; every other byte is latin-1. Output UTF-8. */
static ww_status dec_rawuni(const uint8_t *p, size_t n, wwi_buf *b)
{
    ww_status st = WW_OK;
    size_t run = 0;
    for (size_t i = 0; i < n && st == WW_OK; i++) {
        uint8_t ch = p[i];
        if (ch == '\\' && i + 1 < n && (run % 2) == 0 && (p[i + 1] == 'u' || p[i + 1] == 'U')) {
            size_t w = p[i + 1] == 'u' ? 4 : 8;
            uint32_t cp = 0;
            bool ok = i + 1 + w < n;
            for (size_t k = 0; ok && k < w; k++) {
                int h = hexv(p[i + 2 + k]);
                ok = h >= 0;
                cp = cp * 16 + (uint32_t)(h < 0 ? 0 : h);
            }
            if (ok && cp <= 0x10ffff) {
                st = put_utf8(b, cp);
                i += 1 + w;
                run = 0;
                continue;
            }
        }
        run = ch == '\\' ? run + 1 : 0;
        st = put_utf8(b, ch);
    }
    return st;
}

/* UTF-8 text -> latin-1 bytes (code points > 0xff cannot be encoded: kept as '?'). */
static ww_status dec_latin1(const uint8_t *p, size_t n, wwi_buf *b)
{
    ww_status st = WW_OK;
    for (size_t i = 0; i < n && st == WW_OK; i++) {
        uint8_t ch = p[i];
        if (ch >= 0xc0 && ch < 0xc4 && i + 1 < n) {
            st = wwi_buf_addc(b, (char)(((ch & 0x1f) << 6) | (p[++i] & 0x3f)));
            continue;
        }
        st = wwi_buf_addc(b, (char)ch);
    }
    return st;
}

ww_status pk_decode(const pk_val *v, wwi_buf *b)
{
    wwi_buf_reset(b);
    if (v->flags & PF_LATIN1) {
        if (v->flags & (PF_ESC_S | PF_ESC_V)) {
            /* Rare: escaped literal passed through _codecs.encode. */
            wwi_buf tmp;
            wwi_buf_init(&tmp, b->max);
            pk_val t = *v;
            t.flags &= (uint8_t)~PF_LATIN1;
            ww_status st = pk_decode(&t, &tmp);
            if (st == WW_OK)
                st = dec_latin1((const uint8_t *)tmp.data, tmp.len, b);
            wwi_buf_free(&tmp);
            return st;
        }
        return dec_latin1(v->v.p, v->n, b);
    }
    if (v->flags & PF_ESC_S)
        return dec_escape(v->v.p, v->n, b);
    if (v->flags & PF_ESC_V)
        return dec_rawuni(v->v.p, v->n, b);
    return wwi_buf_add(b, v->v.p, v->n);
}
