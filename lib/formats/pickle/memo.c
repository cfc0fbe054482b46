/* Pickle memo: 1-byte tags, lazily allocated 4-byte payload pages, a fat
 * vector for the rare rich values and a hash map for sparse indices. */
#include "formats/pickle/memo.h"
#include "util/alloc.h"

#define DENSE_SLACK 4096u /* indices this far past 2*count still go dense */

void pk_memo_init(pk_memo *m, uint64_t max, const uint8_t *base)
{
    memset(m, 0, sizeof *m);
    m->max = max;
    m->base = base;
}

void pk_memo_free(pk_memo *m)
{
    for (size_t i = 0; i < (m->dcap >> PK_MEMO_PAGE_BITS); i++)
        wwi_free(m->page[i]);
    wwi_free(m->page);
    wwi_free(m->tag);
    wwi_free(m->fat);
    wwi_free(m->hkey);
    wwi_free(m->hval);
    memset(m, 0, sizeof *m);
}

static size_t hslot(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static pk_val *hfind(const pk_memo *m, uint64_t idx)
{
    /* UINT64_MAX marks an empty slot: it is never a key (put refuses it). */
    if (m->hcap == 0 || idx == UINT64_MAX)
        return NULL;
    for (size_t i = hslot(idx, m->hcap);; i = (i + 1) & (m->hcap - 1)) {
        if (m->hkey[i] == idx)
            return &m->hval[i];
        if (m->hkey[i] == UINT64_MAX)
            return NULL;
    }
}

bool pk_memo_get_slow(const pk_memo *m, uint64_t idx, pk_val *out)
{
    if (idx < m->dcap) {
        if (m->tag[idx] != MT_FAT)
            return pk_memo_get(m, idx, out);
        *out = m->fat[m->page[idx >> PK_MEMO_PAGE_BITS][idx & (PK_MEMO_PAGE - 1)]];
        return true;
    }
    const pk_val *h = hfind(m, idx);
    if (h)
        *out = *h;
    return h != NULL;
}

/* Rebuild the hash with capacity ncap (0: drop it), moving keys now covered by
 * the dense range there. */
static ww_status rehash(pk_memo *m, size_t ncap);

static ww_status put_dense(pk_memo *m, uint64_t idx, const pk_val *v);

static ww_status rehash(pk_memo *m, size_t ncap)
{
    uint64_t *nk = NULL;
    pk_val *nv = NULL;
    if (ncap) {
        nk = wwi_malloc(ncap * sizeof *nk);
        nv = wwi_calloc(ncap, sizeof *nv); /* zeroed: no slot is ever garbage */
        if (!nk || !nv) {
            wwi_free(nk);
            wwi_free(nv);
            return WW_E_NOMEM;
        }
        memset(nk, 0xff, ncap * sizeof *nk);
    }
    uint64_t *ok = m->hkey;
    pk_val *ov = m->hval;
    size_t ocap = m->hcap, n = 0;
    m->hkey = nk;
    m->hval = nv;
    m->hcap = ncap;
    ww_status st = WW_OK;
    for (size_t i = 0; i < ocap; i++) {
        uint64_t k = ok[i];
        if (k == UINT64_MAX)
            continue;
        if (k < m->dcap) {
            /* Already counted: put_dense must not count it again. */
            m->count--;
            ww_status s2 = put_dense(m, k, &ov[i]);
            if (s2 != WW_OK && st == WW_OK)
                st = s2;
            continue;
        }
        size_t j = hslot(k, ncap);
        while (nk[j] != UINT64_MAX)
            j = (j + 1) & (ncap - 1);
        nk[j] = k;
        nv[j] = ov[i];
        n++;
    }
    wwi_free(ok);
    wwi_free(ov);
    m->hcount = n;
    return st;
}

static ww_status grow_dense(pk_memo *m, uint64_t idx)
{
    size_t ncap = m->dcap ? m->dcap : PK_MEMO_PAGE;
    while (ncap <= idx)
        ncap *= 2;
    void *t = m->tag;
    ww_status st = wwi_realloc(&t, ncap);
    if (st != WW_OK)
        return st;
    m->tag = t;
    void *pg = m->page;
    st = wwi_realloc(&pg, (ncap >> PK_MEMO_PAGE_BITS) * sizeof(uint32_t *));
    if (st != WW_OK)
        return st;
    m->page = pg;
    memset(m->tag + m->dcap, 0, ncap - m->dcap);
    memset(m->page + (m->dcap >> PK_MEMO_PAGE_BITS), 0,
           ((ncap - m->dcap) >> PK_MEMO_PAGE_BITS) * sizeof(uint32_t *));
    m->dcap = ncap;
    /* Entries that were sparse may now fall in the dense range. */
    return m->hcount ? rehash(m, m->hcap) : WW_OK;
}

static ww_status set_aux(pk_memo *m, uint64_t idx, uint32_t a)
{
    uint32_t **pg = &m->page[idx >> PK_MEMO_PAGE_BITS];
    if (!*pg) {
        /* Never read before written (the tag says which words hold data). */
        *pg = wwi_malloc(PK_MEMO_PAGE * sizeof(uint32_t));
        if (!*pg)
            return WW_E_NOMEM;
    }
    (*pg)[idx & (PK_MEMO_PAGE - 1)] = a;
    return WW_OK;
}

static ww_status put_dense(pk_memo *m, uint64_t idx, const pk_val *v)
{
    uint8_t *t = &m->tag[idx];
    if (*t == MT_ABSENT) {
        if (m->count >= m->max)
            return WW_E_LIMIT;
    }
    uint8_t tag;
    uint32_t a;
    if (pk_memo_plain(v)) {
        tag = v->kind;
    } else if (!pk_memo_encode(m, v, &tag, &a)) {
        if (m->nfat == m->capfat) {
            size_t nc = m->capfat ? m->capfat * 2 : 64;
            if (nc > UINT32_MAX)
                return WW_E_LIMIT;
            void *p = m->fat;
            ww_status st = wwi_realloc(&p, nc * sizeof(pk_val));
            if (st != WW_OK)
                return st;
            m->fat = p;
            m->capfat = nc;
        }
        m->fat[m->nfat] = *v;
        a = (uint32_t)m->nfat++;
        tag = MT_FAT;
    }
    if (tag >= MT_STR1) {
        ww_status st = set_aux(m, idx, a);
        if (st != WW_OK)
            return st;
    }
    if (*t == MT_ABSENT)
        m->count++;
    *t = tag;
    return WW_OK;
}

ww_status pk_memo_put_slow(pk_memo *m, uint64_t idx, const pk_val *v)
{
    /* The hash uses UINT64_MAX as its empty marker; a PUT of that index (only
     * the text opcode can spell it) cannot be represented: fail closed. */
    if (idx == UINT64_MAX)
        return WW_E_UNSUPPORTED;
    if (idx < m->dcap)
        return put_dense(m, idx, v);
    if (idx < 2 * m->count + DENSE_SLACK && idx < (1ull << 32)) {
        ww_status st = grow_dense(m, idx);
        if (st != WW_OK)
            return st;
        return put_dense(m, idx, v);
    }
    pk_val *slot = hfind(m, idx);
    if (slot) {
        *slot = *v;
        return WW_OK;
    }
    if (m->count >= m->max)
        return WW_E_LIMIT;
    if (2 * (m->hcount + 1) > m->hcap) {
        ww_status st = rehash(m, m->hcap ? m->hcap * 2 : 64);
        if (st != WW_OK)
            return st;
    }
    size_t j = hslot(idx, m->hcap);
    while (m->hkey[j] != UINT64_MAX)
        j = (j + 1) & (m->hcap - 1);
    m->hkey[j] = idx;
    m->hval[j] = *v;
    m->hcount++;
    m->count++;
    return WW_OK;
}
