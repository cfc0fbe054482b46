/* The format module interface. Each format is one const wwi_format in its own
 * directory, listed once in formats.def. Detection is by content: probe() sees
 * the first bytes and the total size and returns a confidence 0..100. */
#ifndef WWI_FORMAT_H
#define WWI_FORMAT_H
#include "core/scan.h"

enum {
    WWI_FMT_CONTAINER = 1u << 0,    /* may call wwi_scan_nested() */
    WWI_FMT_CODE_CAPABLE = 1u << 1, /* the format can carry code that runs on load */
    WWI_FMT_PROBE_ONLY = 1u << 2,   /* never chosen by probing; only via wwi_scan_nested_as */
};

#define WWI_PROBE_BYTES 4096

typedef struct wwi_format {
    const char *name;        /* stable id used in results, docs and fuzz targets */
    const char *description; /* one line for `weightwall formats` */
    unsigned flags;
    /* Confidence 0..100 that `head` (first min(size, WWI_PROBE_BYTES) bytes)
     * begins this format. Pure: no allocation, no state. */
    int (*probe)(const uint8_t *head, size_t n, uint64_t size);
    /* Parse, report findings. NULL when the build lacks the dependency: the
     * result then says "detected, parser not built" (fails closed). */
    ww_status (*scan)(wwi_scan *s, wwi_src *in);
} wwi_format;

#define WW_FORMAT(id) extern const wwi_format wwi_format_##id;
#include "formats/formats.def"
#undef WW_FORMAT

size_t wwi_format_count(void);
const wwi_format *wwi_format_at(size_t i);
const wwi_format *wwi_format_by_name(const char *name);
/* Best format for the head bytes, or NULL (unknown). */
const wwi_format *wwi_format_detect(const uint8_t *head, size_t n, uint64_t size);
#endif
