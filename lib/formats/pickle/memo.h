/* The pickle memo, modelled exactly: a map from index to value where PUT
 * overwrites, MEMOIZE uses the number of entries, and a missing key is an
 * error. Small dense indices (the normal case) live in an array; anything
 * sparse (LONG_BINPUT 0x7fffffff) goes to a hash map, so a 6-byte opcode
 * can never make us allocate gigabytes. */
#ifndef WWI_PK_MEMO_H
#define WWI_PK_MEMO_H
#include "formats/pickle/pk.h"

typedef struct pk_memo {
    pk_val *dense;
    size_t dcap;
    uint64_t *hkey; /* UINT64_MAX = empty */
    pk_val *hval;
    size_t hcap, hcount;
    uint64_t count; /* distinct entries */
    uint64_t max;
} pk_memo;

void pk_memo_init(pk_memo *m, uint64_t max);
void pk_memo_free(pk_memo *m);
/* WW_E_LIMIT when a new entry would exceed max; WW_E_NOMEM. */
WW_NODISCARD ww_status pk_memo_put_slow(pk_memo *m, uint64_t idx, const pk_val *v);
const pk_val *pk_memo_get_slow(const pk_memo *m, uint64_t idx);

static inline ww_status pk_memo_put(pk_memo *m, uint64_t idx, const pk_val *v)
{
    if (idx < m->dcap) {
        pk_val *d = &m->dense[idx];
        if (d->kind == PK_ABSENT) {
            if (m->count >= m->max)
                return WW_E_LIMIT;
            m->count++;
        }
        *d = *v;
        return WW_OK;
    }
    return pk_memo_put_slow(m, idx, v);
}
static inline const pk_val *pk_memo_get(const pk_memo *m, uint64_t idx)
{
    if (idx < m->dcap)
        return m->dense[idx].kind == PK_ABSENT ? NULL : &m->dense[idx];
    return pk_memo_get_slow(m, idx);
}
#endif
