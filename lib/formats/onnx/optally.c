/* Operator tally: open-addressing hash over raw operator names. */
#include "formats/onnx/optally.h"
#include "util/alloc.h"
#include "util/strutil.h"

void wwi_printable(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    size_t j = 0;
    if (outlen == 0)
        return;
    for (size_t i = 0; i < n && j + 1 < outlen; i++)
        out[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[j] = '\0';
}

static uint64_t hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

void wwi_optally_free(wwi_optally *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        wwi_free(t->tab[i].key);
        wwi_free(t->tab[i].where);
    }
    WW_FREE_NULL(t->tab);
    t->cap = t->n = 0;
}

static ww_status grow(wwi_optally *t)
{
    size_t nc = t->cap ? t->cap * 2 : 256;
    wwi_optally_ent *nt = wwi_calloc(nc, sizeof *nt);
    if (!nt)
        return WW_E_NOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->tab[i].key)
            continue;
        size_t j = (size_t)(hash((const uint8_t *)t->tab[i].key, t->tab[i].klen) & (nc - 1));
        while (nt[j].key)
            j = (j + 1) & (nc - 1);
        nt[j] = t->tab[i];
    }
    wwi_free(t->tab);
    t->tab = nt;
    t->cap = nc;
    return WW_OK;
}

ww_status wwi_optally_add(wwi_optally *t, const uint8_t *key, size_t klen, const char *where,
                          uint64_t off, ww_severity sev, const char *reason)
{
    if (t->cap == 0 || (t->n + 1) * 2 > t->cap) {
        if (t->n >= WWI_OPTALLY_MAX) {
            t->overflow++;
            return WW_OK;
        }
        ww_status st = grow(t);
        if (st != WW_OK)
            return st;
    }
    size_t j = (size_t)(hash(key, klen) & (t->cap - 1));
    while (t->tab[j].key) {
        wwi_optally_ent *e = &t->tab[j];
        if (e->klen == klen && wwi_bytes_eq(e->key, key, klen)) {
            e->count++;
            return WW_OK;
        }
        j = (j + 1) & (t->cap - 1);
    }
    wwi_optally_ent *e = &t->tab[j];
    e->key = wwi_malloc(klen + 1);
    e->where = wwi_strdup(where ? where : "");
    if (!e->key || !e->where) {
        WW_FREE_NULL(e->key);
        WW_FREE_NULL(e->where);
        return WW_E_NOMEM;
    }
    memcpy(e->key, key, klen);
    e->key[klen] = '\0';
    e->klen = klen;
    e->count = 1;
    e->off = off;
    e->sev = sev;
    e->reason = reason;
    t->n++;
    return WW_OK;
}

void wwi_optally_report(wwi_scan *s, const wwi_optally *t, const char *kind, const char *module)
{
    /* Slot order depends only on the names, so reports are reproducible. */
    for (size_t i = 0; i < t->cap; i++) {
        const wwi_optally_ent *e = &t->tab[i];
        if (!e->key)
            continue;
        char name[256];
        wwi_printable((const uint8_t *)e->key, e->klen, name, sizeof name);
        if (e->reason)
            wwi_finding(s, e->sev, kind, module, name, e->off,
                        "operator %s used %llu time(s), first in %s: %s", name,
                        (unsigned long long)e->count, e->where, e->reason);
        else
            wwi_finding(s, e->sev, kind, module, name, e->off,
                        "operator %s used %llu time(s), first in %s", name,
                        (unsigned long long)e->count, e->where);
    }
    if (t->overflow)
        wwi_finding(s, WW_SEV_NONE, kind, module, NULL, UINT64_MAX,
                    "operator inventory full: %llu occurrence(s) of further distinct "
                    "operators not listed (each was still classified)",
                    (unsigned long long)t->overflow);
}
