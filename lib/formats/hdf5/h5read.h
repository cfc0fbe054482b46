/* A small, bounds-checked HDF5 reader for one job: the attributes of the root
 * group (where Keras keeps model_config, training_config, keras_version). It
 * reads the superblock, the root object header with its continuation blocks
 * and the global heap collections that variable-length strings point to, each
 * through wwi_src_view, so a multi-gigabyte weights file costs a few KB.
 * Nothing else of the file is looked at. libhdf5 is never involved. */
#ifndef WWI_H5READ_H
#define WWI_H5READ_H
#include "io/src.h"

typedef struct wwi_h5_attr {
    const char *name; /* in: attribute name */
    bool present;     /* out: the root group has it */
    ww_status st;     /* out: WW_OK when text was read */
    char *text;       /* out: wwi_malloc'ed, NUL-terminated; free with wwi_free */
    size_t len;       /* out: bytes before the terminator */
    char msg[160];    /* out: why st is not WW_OK */
} wwi_h5_attr;

/* What the reader saw; for tests, docs and error messages. */
typedef struct wwi_h5_info {
    unsigned sb_version;   /* superblock version 0..3 */
    unsigned oh_version;   /* root object header version 1 or 2 */
    uint64_t sb_offset;    /* where the superblock is (0, 512, ...) */
    uint32_t n_attrs;      /* attribute messages in the root object header */
    uint32_t n_blocks;     /* header chunks read (1 + continuation blocks) */
    uint64_t header_bytes; /* header and heap bytes viewed */
    uint64_t err_off;      /* file offset of the first problem, UINT64_MAX if none */
    char err[200];         /* the first structural problem */
} wwi_h5_info;

/* Read the root group's attributes: every attribute message is parsed (a
 * damaged list is an error, so it cannot hide a name), and the ones named in
 * attrs[] are decoded as strings (fixed or variable length, one element; also
 * 1-byte integer arrays and opaque values as raw bytes), at most max_len bytes
 * each. Header, continuation and heap bytes together are capped by
 * max_header_bytes (LIMIT beyond it).
 *
 * Returns WW_OK when the whole structure was understood. Otherwise FORMAT,
 * TRUNCATED, LIMIT or UNSUPPORTED (dense attribute storage, shared attribute
 * messages, unknown versions) with info->err set; attributes decoded before
 * the problem are still filled in. Per-attribute decode failures go to
 * attrs[i].st/msg. attrs[i].text must be freed by the caller in every case. */
WW_NODISCARD ww_status wwi_h5_read_root_attrs(wwi_src *src, wwi_h5_attr *attrs, size_t nattrs,
                                              uint64_t max_len, uint64_t max_header_bytes,
                                              wwi_h5_info *info);
#endif
