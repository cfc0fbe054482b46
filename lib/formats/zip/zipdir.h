/* The zip directory as PyTorch's reader (miniz) sees it: end record found by
 * a bounded backwards search, ZIP64 locator/record, central directory
 * entries. Only the tail and the central directory are read here. */
#ifndef WWI_ZIPDIR_H
#define WWI_ZIPDIR_H
#include "core/scan.h"

enum {
    WWI_ZIP_FLAG_ENCRYPTED = 0x0001,
    WWI_ZIP_FLAG_DESCRIPTOR = 0x0008,
    WWI_ZIP_FLAG_PATCHED = 0x0020,
    WWI_ZIP_FLAG_STRONG = 0x0040,
};

typedef struct wwi_zip_entry {
    const uint8_t *name; /* points into the central-directory view */
    uint16_t name_len;
    uint16_t flags, method, made_by;
    uint32_t crc, ext_attr;
    uint64_t csize, usize, lho; /* ZIP64 values already applied */
    uint64_t cd_off;            /* offset of this entry's central header */
} wwi_zip_entry;

typedef struct wwi_zip_dir {
    wwi_zip_entry *e;
    size_t n;
    uint64_t cd_off, cd_size;
    uint64_t eocd_off, end_of_zip; /* end record; end of record + its comment */
    bool zip64;
} wwi_zip_dir;

/* Read the directory. Errors are recorded in s; findings for structure
 * anomalies (extra entries, trailing bytes) too. */
WW_NODISCARD ww_status wwi_zip_read_dir(wwi_scan *s, wwi_src *in, wwi_zip_dir *d);
void wwi_zip_dir_free(wwi_zip_dir *d);
#endif
