/* Pickle memo: dense array for small indices, hash map for sparse ones. */
#include "formats/pickle/memo.h"
#include "util/alloc.h"

#define DENSE_SLACK 4096u /* indices this far past 2*count still go dense */

void pk_memo_init(pk_memo *m, uint64_t max)
{
    memset(m, 0, sizeof *m);
    m->max = max;
}

void pk_memo_free(pk_memo *m)
{
    wwi_free(m->dense);
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

const pk_val *pk_memo_get_slow(const pk_memo *m, uint64_t idx)
{
    if (m->hcap == 0)
        return NULL;
    for (size_t i = hslot(idx, m->hcap);; i = (i + 1) & (m->hcap - 1)) {
        if (m->hkey[i] == idx)
            return &m->hval[i];
        if (m->hkey[i] == UINT64_MAX)
            return NULL;
    }
}

/* Rebuild the hash with capacity ncap, dropping keys now covered by dense. */
static ww_status rehash(pk_memo *m, size_t ncap)
{
    uint64_t *nk = wwi_calloc(ncap, sizeof *nk);
    pk_val *nv = wwi_calloc(ncap, sizeof *nv);
    if (!nk || !nv) {
        wwi_free(nk);
        wwi_free(nv);
        return WW_E_NOMEM;
    }
    memset(nk, 0xff, ncap * sizeof *nk);
    size_t n = 0;
    for (size_t i = 0; i < m->hcap; i++) {
        uint64_t k = m->hkey[i];
        if (k == UINT64_MAX)
            continue;
        if (k < m->dcap) {
            m->dense[k] = m->hval[i];
            continue;
        }
        size_t j = hslot(k, ncap);
        while (nk[j] != UINT64_MAX)
            j = (j + 1) & (ncap - 1);
        nk[j] = k;
        nv[j] = m->hval[i];
        n++;
    }
    wwi_free(m->hkey);
    wwi_free(m->hval);
    m->hkey = nk;
    m->hval = nv;
    m->hcap = ncap;
    m->hcount = n;
    return WW_OK;
}

static ww_status grow_dense(pk_memo *m, uint64_t idx)
{
    size_t ncap = m->dcap ? m->dcap : 1024;
    while (ncap <= idx)
        ncap *= 2;
    void *p = m->dense;
    ww_status st = wwi_realloc(&p, ncap * sizeof(pk_val));
    if (st != WW_OK)
        return st;
    m->dense = p;
    memset(m->dense + m->dcap, 0, (ncap - m->dcap) * sizeof(pk_val));
    m->dcap = ncap;
    /* Entries that were sparse may now fall in the dense range. */
    return m->hcount ? rehash(m, m->hcap) : WW_OK;
}

ww_status pk_memo_put_slow(pk_memo *m, uint64_t idx, const pk_val *v)
{
    ww_status st;
    if (idx < 2 * m->count + DENSE_SLACK && idx < (1ull << 32)) {
        st = grow_dense(m, idx);
        if (st != WW_OK)
            return st;
        return pk_memo_put(m, idx, v);
    }
    pk_val *slot = (pk_val *)pk_memo_get_slow(m, idx);
    if (slot) {
        *slot = *v;
        return WW_OK;
    }
    if (m->count >= m->max)
        return WW_E_LIMIT;
    if (2 * (m->hcount + 1) > m->hcap) {
        st = rehash(m, m->hcap ? m->hcap * 2 : 64);
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
