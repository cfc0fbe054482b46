/* Reading one zip member the way miniz does: central-directory sizes and
 * method, local header only for the name/extra lengths that locate the data. */
#ifndef WWI_ZIPMEMBER_H
#define WWI_ZIPMEMBER_H
#include "formats/zip/zipdir.h"

/* Offset of the member's data. Checks the local header, reports a local/central
 * name or method mismatch (T-ZIP-NAME-MISMATCH), and that csize bytes exist. */
WW_NODISCARD ww_status wwi_zip_data_offset(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e,
                                           const char *pname, uint64_t *off);

/* The whole member, decompressed (stored: a zero-copy view), with CRC and size
 * checked (T-ZIP-BADCRC). *owned is set when the bytes were allocated. */
WW_NODISCARD ww_status wwi_zip_read_full(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e,
                                         const char *pname, uint64_t data_off,
                                         const uint8_t **data, size_t *len, uint8_t **owned);

/* Up to `max` first decompressed bytes, for content detection. Quiet: a
 * failure returns a status without recording an error. */
WW_NODISCARD ww_status wwi_zip_read_head(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e,
                                         uint64_t data_off, size_t max, const uint8_t **data,
                                         size_t *len, uint8_t **owned);
#endif
