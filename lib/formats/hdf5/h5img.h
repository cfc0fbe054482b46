/* The only code that calls libhdf5: open an HDF5 file image that is already
 * in memory (never a path) and read string attributes of its root group. */
#ifndef WWI_H5IMG_H
#define WWI_H5IMG_H
#include "weightwall.h"

typedef struct wwi_h5_attr {
    const char *name; /* in: attribute name */
    bool present;     /* out: the root group has it */
    ww_status st;     /* out: WW_OK when text was read */
    char *text;       /* out: wwi_malloc'ed, NUL-terminated; free with wwi_free */
    size_t len;       /* out: bytes before the terminator (may contain NULs) */
    char msg[160];    /* out: why st is not WW_OK */
} wwi_h5_attr;

/* Open `len` bytes at `img` read-only and read the named root attributes as
 * strings (fixed or variable length, ASCII or UTF-8; one element), each at
 * most max_len bytes. Returns FORMAT with `err` set when the image cannot be
 * opened; per-attribute failures go to attrs[i].st/msg. Serialised with a
 * process-wide mutex because Debian's libhdf5 is not thread safe. */
WW_NODISCARD ww_status wwi_h5_read_root_attrs(const uint8_t *img, size_t len, wwi_h5_attr *attrs,
                                              size_t nattrs, uint64_t max_len, char *err,
                                              size_t errlen);
#endif
