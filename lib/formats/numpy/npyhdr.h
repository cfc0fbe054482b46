/* The .npy header: a Python dict literal ({'descr': ..., 'fortran_order':
 * ..., 'shape': (...)}) parsed as data by a small bounded parser, never
 * evaluated. Only the literal forms numpy writes (and ast.literal_eval reads
 * for such a header) are accepted; anything else is a format error. */
#ifndef WWI_NPYHDR_H
#define WWI_NPYHDR_H
#include "core/scan.h"

typedef struct wwi_npy_header {
    bool fortran_order;
    bool has_object;    /* descr has an 'O' field anywhere: payload is a pickle */
    uint64_t itemsize;  /* bytes per element (meaningless when has_object) */
    uint64_t count;     /* product of shape (1 for a scalar) */
    bool count_overflow;
    uint32_t ndim;
    char descr[64];     /* printable summary of descr for messages */
} wwi_npy_header;

/* Parse `text` (len bytes). On failure returns WW_E_FORMAT (or WW_E_LIMIT for
 * depth) with a reason in err. */
WW_NODISCARD ww_status wwi_npy_parse_header(const uint8_t *text, size_t len, uint32_t max_depth,
                                            wwi_npy_header *out, char *err, size_t errlen);
#endif
