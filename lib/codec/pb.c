/* Protobuf wire-format reader: see pb.h. Iterative (groups are skipped with a
 * depth counter, not recursion) and allocation-free. */
#include "codec/pb.h"

bool wwi_pb_varint(wwi_cur *c, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    for (unsigned i = 0; i < WWI_PB_MAX_VARINT; i++) {
        if (!wwi_cur_has(c, 1)) {
            wwi_cur_fail(c, WW_E_TRUNCATED);
            return false;
        }
        uint8_t b = wwi_cur_u8(c);
        /* The 10th byte holds bit 63 only; anything more overflows 64 bits. */
        if (i == WWI_PB_MAX_VARINT - 1 && b > 1) {
            wwi_cur_fail(c, WW_E_FORMAT);
            return false;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    wwi_cur_fail(c, WW_E_FORMAT); /* 10 continuation bytes: overlong */
    return false;
}

/* Tag: field number and wire type; rejects number 0, numbers past 2^29-1 and
 * wire types 6 and 7, which no protobuf version defines. */
static bool read_tag(wwi_cur *c, uint32_t *num, unsigned *wt)
{
    uint64_t tag;
    if (!wwi_pb_varint(c, &tag))
        return false;
    *wt = (unsigned)(tag & 7);
    uint64_t n = tag >> 3;
    if (n == 0 || n > WWI_PB_MAX_FIELD || *wt > WWI_PB_I32) {
        wwi_cur_fail(c, WW_E_FORMAT);
        return false;
    }
    *num = (uint32_t)n;
    return true;
}

/* Payload of a non-group field (wire types 0, 1, 2, 5). */
static bool read_value(wwi_cur *c, wwi_pb_field *f)
{
    switch (f->wt) {
    case WWI_PB_VARINT:
        return wwi_pb_varint(c, &f->v);
    case WWI_PB_I64:
        f->v = wwi_cur_u64le(c);
        return c->err == WW_OK;
    case WWI_PB_I32:
        f->v = wwi_cur_u32le(c);
        return c->err == WW_OK;
    case WWI_PB_LEN: {
        uint64_t len;
        if (!wwi_pb_varint(c, &len))
            return false;
        f->data_off = c->pos;
        f->len = len > SIZE_MAX ? SIZE_MAX : (size_t)len;
        if (len > wwi_cur_left(c)) {
            wwi_cur_fail(c, WW_E_TRUNCATED);
            return false;
        }
        c->pos += (size_t)len;
        return true;
    }
    default:
        wwi_cur_fail(c, WW_E_FORMAT);
        return false;
    }
}

/* Skip a group body up to its matching end tag. Nested groups are counted,
 * not recursed into; every end tag must close the group it is in. */
static bool skip_group(wwi_cur *c, wwi_pb_field *f, uint32_t max_depth)
{
    /* Each open group's number is kept to match its end tag; a fixed array
     * bounds the memory, so the effective depth cap is at most 64. */
    uint32_t nums[64];
    uint32_t cap = max_depth < 64 ? max_depth : 64;
    uint32_t depth = 1;
    if (cap == 0) {
        wwi_cur_fail(c, WW_E_LIMIT);
        return false;
    }
    nums[0] = f->num;
    f->data_off = c->pos;
    while (depth > 0) {
        size_t tag_off = c->pos;
        wwi_pb_field in = {0};
        if (!read_tag(c, &in.num, &in.wt))
            return false;
        if (in.wt == WWI_PB_SGROUP) {
            if (depth >= cap) {
                wwi_cur_fail(c, WW_E_LIMIT);
                return false;
            }
            nums[depth++] = in.num;
        } else if (in.wt == WWI_PB_EGROUP) {
            if (nums[depth - 1] != in.num) {
                wwi_cur_fail(c, WW_E_FORMAT);
                return false;
            }
            depth--;
            if (depth == 0)
                f->len = tag_off - f->data_off;
        } else if (!read_value(c, &in)) {
            return false;
        }
    }
    return true;
}

bool wwi_pb_next(wwi_cur *c, wwi_pb_field *f, uint32_t max_group_depth)
{
    memset(f, 0, sizeof *f);
    if (c->err != WW_OK || c->pos >= c->len)
        return false;
    f->off = c->pos;
    if (!read_tag(c, &f->num, &f->wt))
        return false;
    if (f->wt == WWI_PB_EGROUP) {
        wwi_cur_fail(c, WW_E_FORMAT); /* end of a group that never started */
        return false;
    }
    if (f->wt == WWI_PB_SGROUP)
        return skip_group(c, f, max_group_depth);
    return read_value(c, f);
}

void wwi_pb_sub(const wwi_cur *c, const wwi_pb_field *f, wwi_cur *child)
{
    /* Same base, so offsets in the child are file offsets too. */
    child->base = c->base;
    child->len = f->data_off + f->len;
    child->pos = f->data_off;
    child->err = WW_OK;
    if (f->data_off > c->len || f->len > c->len - f->data_off) {
        child->len = c->len;
        child->err = WW_E_TRUNCATED;
    }
}

int wwi_pb_match(const uint8_t *buf, size_t n, bool partial, const wwi_pb_shape *allowed)
{
    wwi_cur c;
    wwi_pb_field f;
    int count = 0;
    wwi_cur_init(&c, buf, n);
    for (;;) {
        bool ok = wwi_pb_next(&c, &f, 4);
        if (!ok && c.err == WW_E_TRUNCATED && partial && f.num != 0)
            ok = true; /* a field cut off by the end of the head: judge its tag */
        else if (!ok && c.err != WW_OK)
            return partial && c.err == WW_E_TRUNCATED ? count : -1;
        if (!ok)
            return count;
        const wwi_pb_shape *a = allowed;
        while (a->num != 0 && !(a->num == f.num && a->wt == f.wt))
            a++;
        if (a->num == 0)
            return -1;
        count++;
        if (c.err != WW_OK)
            return count;
    }
}
