/* Protobuf wire-format reader over wwi_cur. No schema, no allocation: a
 * message is a run of (tag, payload) fields that callers walk with
 * wwi_pb_next() and descend into with wwi_pb_sub(). Offsets stay absolute in
 * the cursor's base, so a finding can name the byte in the file.
 *
 * Errors follow the cursor: the first failure sticks in c->err
 * (TRUNCATED: a length passes the end; FORMAT: overlong varint, wire type 6/7,
 * field number 0, unbalanced group; LIMIT: groups nested deeper than allowed). */
#ifndef WWI_PB_H
#define WWI_PB_H
#include "io/cur.h"

enum {
    WWI_PB_VARINT = 0,
    WWI_PB_I64 = 1,
    WWI_PB_LEN = 2,
    WWI_PB_SGROUP = 3, /* deprecated proto2 groups: skipped as a whole, depth-capped */
    WWI_PB_EGROUP = 4,
    WWI_PB_I32 = 5,
};

#define WWI_PB_MAX_FIELD 536870911u /* 2^29 - 1 */
#define WWI_PB_MAX_VARINT 10u

typedef struct wwi_pb_field {
    uint32_t num;
    unsigned wt;
    uint64_t v;      /* VARINT, I64 and I32 values */
    size_t off;      /* position of the tag in the cursor's base */
    size_t data_off; /* LEN and SGROUP: position of the payload */
    size_t len;      /* LEN and SGROUP: payload length (a group's excludes its end tag) */
} wwi_pb_field;

/* One base-128 varint: at most 10 bytes, the 10th may only carry bit 63. */
bool wwi_pb_varint(wwi_cur *c, uint64_t *out);

static inline int64_t wwi_pb_zigzag64(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
static inline int32_t wwi_pb_zigzag32(uint32_t v)
{
    return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}

/* Read the next field of the message under c. Returns false at the clean end
 * of the message, or on error (then c->err != WW_OK). When a LEN payload runs
 * past the end (TRUNCATED), f still describes the field so that probes, which
 * see only the head of a file, can look at the part that is there. A start-group field is
 * skipped to its matching end tag, nesting at most max_group_depth deep; an
 * end-group tag outside a group is FORMAT. */
bool wwi_pb_next(wwi_cur *c, wwi_pb_field *f, uint32_t max_group_depth);

/* Cursor over a LEN (or group) payload of a field read from c. */
void wwi_pb_sub(const wwi_cur *c, const wwi_pb_field *f, wwi_cur *child);

/* The payload bytes of a LEN field read from c. */
static inline const uint8_t *wwi_pb_data(const wwi_cur *c, const wwi_pb_field *f)
{
    return c->base + f->data_off;
}

/* Shape check for content probes: does buf[0..n) parse as protobuf fields
 * whose numbers and wire types are all in `allowed`? `allowed` lists pairs
 * (field number, wire type) and ends with a 0 number. With `partial`, a field
 * cut off by the end of buf is accepted (buf is only the head of the file).
 * Returns the number of complete or partial fields seen, or -1 on mismatch. */
typedef struct wwi_pb_shape {
    uint32_t num;
    unsigned wt;
} wwi_pb_shape;
int wwi_pb_match(const uint8_t *buf, size_t n, bool partial, const wwi_pb_shape *allowed);
#endif
