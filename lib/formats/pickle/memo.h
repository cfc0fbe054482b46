/* The pickle memo, modelled exactly: a map from index to value where PUT
 * overwrites, MEMOIZE uses the number of entries, and a missing key is an
 * error. Built to hold tens of millions of entries cheaply:
 *
 *  - dense indices (the normal case) have a 1-byte tag each. Values that are
 *    fully described by their kind (None, list, plain tuple, float...) need
 *    nothing else;
 *  - values with a small payload (a string or bytes literal: its offset in the
 *    input, the width of its length field says where the length is; an import,
 *    instance or call result: its gid; a small int, a dict serial, a tuple of
 *    ints' product) keep 4 bytes in a page of 4096 that is allocated the first
 *    time a page needs one;
 *  - anything else (dtype results, tuples whose first item matters, escaped
 *    strings...) is appended to a "fat" vector of 16-byte values;
 *  - sparse indices (LONG_BINPUT 0x7fffffff) go to a hash map of 16-byte
 *    values, so a 6-byte opcode can never make us allocate gigabytes.
 *
 * Cost: 1 byte per entry, 5 where strings or instances are memoized, 16 bytes
 * more per fat or sparse entry. Worst case with max_memo entries: 5 * max_memo
 * bytes + 16 per fat/sparse PUT (each costs at least 3 input bytes, and every
 * allocation is capped by max_alloc). */
#ifndef WWI_PK_MEMO_H
#define WWI_PK_MEMO_H
#include "formats/pickle/pk.h"

#define PK_MEMO_PAGE_BITS 12u
#define PK_MEMO_PAGE (1u << PK_MEMO_PAGE_BITS)

/* Tags: 0 = absent; 1..15 = plain value of that kind; the rest below. */
enum {
    MT_ABSENT = 0,
    MT_STR1 = 0x10, /* aux = payload offset; the length field (1/4/8 bytes) precedes it */
    MT_STR4,
    MT_STR8,
    MT_BYTES1,
    MT_BYTES4,
    MT_BYTES8,
    MT_GLOBAL, /* aux = gid */
    MT_INST,
    MT_CALL,
    MT_INT,     /* aux = value */
    MT_DICT,    /* aux = serial (low 32 bits) */
    MT_TUPINTS, /* aux = product of the ints */
    MT_FAT,     /* aux = index in the fat vector */
};

typedef struct pk_memo {
    const uint8_t *base; /* the input: string payloads are offsets into it */
    uint8_t *tag;
    uint32_t **page; /* aux words, one page per PK_MEMO_PAGE tags, NULL until needed */
    size_t dcap;     /* tags allocated (multiple of PK_MEMO_PAGE) */
    pk_val *fat;
    size_t nfat, capfat;
    uint64_t *hkey; /* sparse indices, UINT64_MAX = empty */
    pk_val *hval;
    size_t hcap, hcount;
    uint64_t count; /* distinct entries */
    uint64_t max;
} pk_memo;

void pk_memo_init(pk_memo *m, uint64_t max, const uint8_t *base);
void pk_memo_free(pk_memo *m);
/* WW_E_LIMIT when a new entry would exceed max; WW_E_NOMEM. */
WW_NODISCARD ww_status pk_memo_put_slow(pk_memo *m, uint64_t idx, const pk_val *v);
bool pk_memo_get_slow(const pk_memo *m, uint64_t idx, pk_val *out);

static inline bool pk_memo_plain(const pk_val *v)
{
    /* Kinds whose value is the kind alone. */
    switch (v->kind) {
    case PK_OTHER:
    case PK_NONE:
    case PK_LIST:
        return true;
    case PK_TUPLE:
        return v->flags == 0 && v->aux == 0;
    default:
        return false;
    }
}

/* Tag and payload word of v; false when it needs a fat slot. */
static inline bool pk_memo_encode(const pk_memo *m, const pk_val *v, uint8_t *tag,
                                  uint32_t *a)
{
    switch (v->kind) {
    case PK_STR:
    case PK_BYTES: {
        if (v->flags != 0 || (v->sub != 1 && v->sub != 4 && v->sub != 8))
            return false;
        uint64_t off = (uint64_t)(v->v.p - m->base);
        if (off > UINT32_MAX)
            return false;
        *tag = (uint8_t)(MT_STR1 + (v->kind == PK_BYTES ? 3 : 0) +
                         (v->sub == 1 ? 0 : v->sub == 4 ? 1 : 2));
        *a = (uint32_t)off;
        return true;
    }
    case PK_GLOBAL:
    case PK_INST:
    case PK_CALL:
        if (v->flags != 0)
            return false;
        *tag = v->kind == PK_GLOBAL ? MT_GLOBAL : v->kind == PK_INST ? MT_INST : MT_CALL;
        *a = v->gid;
        return true;
    case PK_INT:
        if (v->flags != 0 || v->v.u > UINT32_MAX)
            return false;
        *tag = MT_INT;
        *a = (uint32_t)v->v.u;
        return true;
    case PK_DICT:
        *tag = MT_DICT;
        *a = (uint32_t)v->v.u;
        return v->v.u <= UINT32_MAX;
    case PK_TUPLE:
        if (v->flags != PF_INTS || v->aux != 0 || v->v.u > UINT32_MAX)
            return false;
        *tag = MT_TUPINTS;
        *a = (uint32_t)v->v.u;
        return true;
    default:
        return false;
    }
}

static inline ww_status pk_memo_put(pk_memo *m, uint64_t idx, const pk_val *v)
{
    if (idx < m->dcap && pk_memo_plain(v)) {
        uint8_t *t = &m->tag[idx];
        if (*t == MT_ABSENT) {
            if (m->count >= m->max)
                return WW_E_LIMIT;
            m->count++;
        }
        *t = v->kind;
        return WW_OK;
    }
    return pk_memo_put_slow(m, idx, v);
}

static inline uint64_t pk_memo_rd_le(const uint8_t *p, unsigned w)
{
    if (w == 1)
        return p[0];
    uint64_t v = 0;
    for (unsigned i = w; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Inline: every tag but fat and sparse entries. The value is built in one
 * piece (partial stores followed by a 16-byte copy stall the pipeline). */
static inline bool pk_memo_get(const pk_memo *m, uint64_t idx, pk_val *out)
{
    if (__builtin_expect(idx >= m->dcap, 0))
        return pk_memo_get_slow(m, idx, out);
    uint8_t t = m->tag[idx];
    if (t < MT_STR1) {
        if (t == MT_ABSENT)
            return false;
        *out = pk_make(0, PK_GID_NONE, t, 0, 0, 0);
        return true;
    }
    if (t == MT_FAT)
        return pk_memo_get_slow(m, idx, out);
    uint32_t a = m->page[idx >> PK_MEMO_PAGE_BITS][idx & (PK_MEMO_PAGE - 1)];
    switch (t) {
    case MT_STR1:
    case MT_BYTES1:
        *out = pk_make((uintptr_t)(m->base + a), m->base[a - 1], t == MT_STR1 ? PK_STR : PK_BYTES,
                       0, 1, 0);
        return true;
    case MT_STR4:
    case MT_STR8:
    case MT_BYTES4:
    case MT_BYTES8: {
        unsigned w = t == MT_STR4 || t == MT_BYTES4 ? 4 : 8;
        *out = pk_make((uintptr_t)(m->base + a),
                       (uint32_t)pk_memo_rd_le(m->base + a - w, w),
                       t < MT_BYTES1 ? PK_STR : PK_BYTES, 0, (uint8_t)w, 0);
        return true;
    }
    case MT_GLOBAL:
        *out = pk_make(0, a, PK_GLOBAL, 0, 0, 0);
        return true;
    case MT_INST:
        *out = pk_make(0, a, PK_INST, 0, 0, 0);
        return true;
    case MT_CALL:
        *out = pk_make(0, a, PK_CALL, 0, 0, 0);
        return true;
    case MT_INT:
        *out = pk_make(a, PK_GID_NONE, PK_INT, 0, 0, 0);
        return true;
    case MT_DICT:
        *out = pk_make(a, PK_GID_NONE, PK_DICT, 0, 0, 0);
        return true;
    case MT_TUPINTS:
        *out = pk_make(a, PK_GID_NONE, PK_TUPLE, PF_INTS, 0, 0);
        return true;
    default:
        return false;
    }
}
#endif
