/* Bounded inflate shared by the zip and zlib modules. Every byte produced is
 * charged to the scan's inflate budget as it is produced, so a bomb stops at
 * the first chunk past a limit instead of after it has been expanded. */
#ifndef WWI_INFLATE_H
#define WWI_INFLATE_H
#include "core/scan.h"

typedef enum wwi_inflate_kind {
    WWI_INFLATE_RAW,  /* raw deflate (zip method 8) */
    WWI_INFLATE_ZLIB, /* zlib header + deflate + adler32 */
} wwi_inflate_kind;

typedef struct wwi_inflate_out {
    uint8_t *data;     /* wwi_malloc'd, owned by the caller (wwi_free) */
    size_t len;
    uint32_t crc32;    /* CRC-32 of the output (zip members) */
    size_t in_used;    /* compressed bytes consumed */
    bool complete;     /* the stream ended (false when stopped at head_only) */
} wwi_inflate_out;

/* Inflate `in`. `what` names the member in error messages. With head_only > 0,
 * stop quietly after that many output bytes (a sniff for content detection:
 * nothing is charged to the ratio limit, and corrupt data is returned as
 * WW_E_FORMAT without being recorded). Otherwise enforce max_member_bytes,
 * max_ratio (above a 1 MiB floor) and max_alloc, and charge max_inflated_bytes.
 * Limit hits and corrupt data are recorded with wwi_scan_limit/wwi_scan_error
 * and returned; out->data is NULL on error. */
WW_NODISCARD ww_status wwi_inflate(wwi_scan *s, const uint8_t *in, size_t in_len,
                                   wwi_inflate_kind kind, size_t head_only, const char *what,
                                   wwi_inflate_out *out);
#endif
