/* Root-group attributes of an HDF5 file, read without libhdf5 (whose parser
 * crashes and hangs on hostile files). Written from the HDF5 File Format
 * Specification v3; only the structures on the path to the root group's
 * attributes are parsed:
 *
 *   superblock (v0/1: root symbol table entry; v2/3: root header address)
 *   -> root object header (v1, or v2 "OHDR") and its continuation blocks
 *      (v1 raw, v2 "OCHK"), followed breadth-first with a cap on count and
 *      bytes and a visited list (continuations can form cycles)
 *   -> attribute messages (0x000C, versions 1-3): name, datatype, dataspace,
 *      data; variable-length strings -> global heap collection ("GCOL")
 *   -> attribute info message (0x0015): dense storage (fractal heap + v2
 *      B-tree) is not read; its presence is an UNSUPPORTED error, so a
 *      model_config kept there is never silently missed.
 *
 * Checksums (superblock v2/3, OHDR, OCHK) are not verified: a bad checksum
 * makes libhdf5 refuse the file, so accepting it here can only add findings.
 * Where libhdf5 would read a hostile structure differently from us (duplicate
 * heap object indices, duplicate attribute names, shared messages), we fail
 * closed instead of guessing. Every read goes through wwi_src_view and wwi_cur;
 * addresses are checked against the file size before they are viewed. */
#include <stdarg.h>
#include <stdio.h>
#include "formats/hdf5/h5read.h"
#include "io/cur.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define H5_MAX_BLOCKS 256     /* header chunks per object header (h5py: a few) */
#define H5_SB_MAX_BYTES 256   /* largest superblock we parse (v1, 8-byte offsets: 100) */
#define H5_MSG_ATTR 0x000C
#define H5_MSG_CONT 0x0010
#define H5_MSG_AINFO 0x0015

/* Guard macros (style.md section 6): one exit per function. */
#define WW_FAIL_IF(bad, code)                                                                    \
    do {                                                                                         \
        if (bad) {                                                                               \
            rc = (code);                                                                         \
            goto done;                                                                           \
        }                                                                                        \
    } while (0)
#define WW_TRY(expr)                                                                             \
    do {                                                                                         \
        ww_status t_ = (expr);                                                                   \
        if (t_ != WW_OK) {                                                                       \
            rc = t_;                                                                             \
            goto done;                                                                           \
        }                                                                                        \
    } while (0)

static const uint8_t h5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

typedef struct h5r {
    wwi_src *src;
    uint64_t size;        /* bytes in the source */
    uint64_t base;        /* absolute offset of address 0: the superblock's */
    unsigned so, sl;      /* sizes of offsets and lengths */
    uint64_t max_len;     /* longest decoded attribute */
    uint64_t max_hdr;     /* header + heap bytes budget */
    wwi_h5_attr *attrs;
    size_t nattrs;
    wwi_h5_info *info;
    uint64_t blocks[H5_MAX_BLOCKS]; /* header chunk addresses seen (cycles) */
    uint64_t pend_addr[H5_MAX_BLOCKS], pend_len[H5_MAX_BLOCKS];
    size_t npend;
} h5r;

static ww_status fail(h5r *r, ww_status st, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ww_status fail(h5r *r, ww_status st, uint64_t off, const char *fmt, ...)
{
    if (r->info->err[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->info->err, sizeof r->info->err, fmt, ap);
        va_end(ap);
        r->info->err_off = off;
    }
    return st;
}

static void attr_fail(wwi_h5_attr *a, ww_status st, const char *msg)
{
    if (a->st != WW_OK)
        return;
    a->st = st;
    snprintf(a->msg, sizeof a->msg, "root attribute '%.30s' %.100s", a->name, msg);
}

/* An unsigned little-endian field of 2, 4 or 8 bytes (sizes are validated
 * when the superblock is read). */
static uint64_t rd_n(wwi_cur *c, unsigned n)
{
    return n == 8 ? wwi_cur_u64le(c) : n == 4 ? wwi_cur_u32le(c) : wwi_cur_u16le(c);
}

/* The "undefined address" of n bytes: all bits set. */
static bool undef_addr(uint64_t a, unsigned n)
{
    return n == 8 ? a == UINT64_MAX : a == (((uint64_t)1 << (8 * n)) - 1);
}

/* A cursor over [addr, addr+len) relative to the base, after checking that it
 * lies inside the file; charged to the header budget when `charge`. */
static ww_status view(h5r *r, uint64_t addr, uint64_t len, bool charge, const char *what,
                      wwi_cur *out)
{
    const uint8_t *p = NULL;
    if (addr > r->size - r->base || len > r->size - r->base - addr || len > SIZE_MAX)
        return fail(r, WW_E_TRUNCATED, addr, "%s at address %llu (%llu bytes) is beyond the end "
                    "of the file", what, (unsigned long long)addr, (unsigned long long)len);
    if (charge) {
        if (len > r->max_hdr - r->info->header_bytes)
            return fail(r, WW_E_LIMIT, r->base + addr, "%s: more than max_header_bytes of "
                        "object header and heap data", what);
        r->info->header_bytes += len;
    }
    ww_status st = wwi_src_view(r->src, r->base + addr, (size_t)len, &p);
    if (st != WW_OK)
        return fail(r, st, r->base + addr, "cannot read %s: %s", what, ww_strerror(st));
    wwi_cur_init(out, p, (size_t)len);
    return WW_OK;
}

/* ------------------------------------------------------------ superblock */

static ww_status find_superblock(h5r *r, uint64_t *sb)
{
    /* libhdf5 looks at 0, 512, 1024, 2048, ... up to the end of the file. */
    for (uint64_t off = 0; off < r->size && r->size - off >= sizeof h5_sig;
         off = off ? off * 2 : 512) {
        const uint8_t *p = NULL;
        ww_status st = wwi_src_view(r->src, off, sizeof h5_sig, &p);
        if (st != WW_OK)
            return fail(r, st, off, "cannot read the file: %s", ww_strerror(st));
        if (wwi_bytes_eq(p, h5_sig, sizeof h5_sig)) {
            *sb = off;
            return WW_OK;
        }
        if (off > UINT64_MAX / 2)
            break;
    }
    return fail(r, WW_E_FORMAT, 0, "no HDF5 superblock signature");
}

static ww_status read_superblock(h5r *r, uint64_t *root)
{
    ww_status rc = WW_OK;
    uint64_t sb = 0;
    wwi_cur c;
    WW_TRY(find_superblock(r, &sb));
    r->base = sb;
    r->info->sb_offset = sb;
    uint64_t n = r->size - sb < H5_SB_MAX_BYTES ? r->size - sb : H5_SB_MAX_BYTES;
    WW_TRY(view(r, 0, n, false, "superblock", &c));
    wwi_cur_skip(&c, sizeof h5_sig);
    unsigned ver = wwi_cur_u8(&c);
    r->info->sb_version = ver;
    WW_FAIL_IF(c.err != WW_OK, fail(r, WW_E_TRUNCATED, sb, "truncated superblock"));
    WW_FAIL_IF(ver > 3, fail(r, WW_E_UNSUPPORTED, sb + 8, "superblock version %u", ver));
    if (ver <= 1) {
        wwi_cur_skip(&c, 4); /* free-space, root symbol table, reserved, shared header versions */
        r->so = wwi_cur_u8(&c);
        r->sl = wwi_cur_u8(&c);
        wwi_cur_skip(&c, 1 + 2 + 2 + 4); /* reserved, leaf K, internal K, consistency flags */
        if (ver == 1)
            wwi_cur_skip(&c, 4); /* indexed storage K, reserved */
    } else {
        r->so = wwi_cur_u8(&c);
        r->sl = wwi_cur_u8(&c);
        wwi_cur_skip(&c, 1); /* consistency flags */
    }
    WW_FAIL_IF(c.err != WW_OK, fail(r, WW_E_TRUNCATED, sb, "truncated superblock"));
    WW_FAIL_IF((r->so != 2 && r->so != 4 && r->so != 8) || (r->sl != 2 && r->sl != 4 && r->sl != 8),
               fail(r, WW_E_UNSUPPORTED, sb, "sizes of offsets/lengths %u/%u", r->so, r->sl));
    uint64_t stored_base = rd_n(&c, r->so);
    uint64_t eof = 0;
    if (ver <= 1) {
        rd_n(&c, r->so); /* free-space info */
        eof = rd_n(&c, r->so);
        rd_n(&c, r->so); /* driver info */
        rd_n(&c, r->so); /* root entry: link name offset */
        *root = rd_n(&c, r->so);
        wwi_cur_skip(&c, 4 + 4 + 16); /* cache type, reserved, scratch pad */
    } else {
        rd_n(&c, r->so); /* superblock extension (may hold a shared message table) */
        eof = rd_n(&c, r->so);
        *root = rd_n(&c, r->so);
        wwi_cur_skip(&c, 4); /* checksum (not verified) */
    }
    WW_FAIL_IF(c.err != WW_OK, fail(r, WW_E_TRUNCATED, sb, "truncated superblock"));
    /* libhdf5 treats the superblock's position as the base whatever the stored
     * base says (a user block moves it). It compares the end-of-file address
     * with the file's size (user block included, as h5py writes it): a
     * truncated file is refused there too. */
    (void)stored_base;
    WW_FAIL_IF(undef_addr(eof, r->so) || eof > r->size,
               fail(r, WW_E_TRUNCATED, sb, "file is truncated: the superblock says it ends at "
                    "%llu, it has %llu bytes", (unsigned long long)eof,
                    (unsigned long long)r->size));
    WW_FAIL_IF(undef_addr(*root, r->so), fail(r, WW_E_FORMAT, sb, "no root group address"));
done:
    return rc;
}

/* ------------------------------------------------------------ global heap */

/* Object `index` of the global heap collection at `addr`, walked the way
 * libhdf5 walks it; an index found twice, an object that overruns the
 * collection or a step that would not advance is an error. */
static ww_status gheap_object(h5r *r, uint64_t addr, uint32_t index, const uint8_t **data,
                              uint64_t *len)
{
    ww_status rc = WW_OK;
    wwi_cur c;
    const unsigned hdr = 8 + r->sl, objhdr = 8 + r->sl;
    bool found = false;

    WW_FAIL_IF(index == 0 || index > UINT16_MAX,
               fail(r, WW_E_FORMAT, UINT64_MAX, "global heap object index %u", index));
    WW_TRY(view(r, addr, hdr, false, "global heap collection", &c));
    WW_FAIL_IF(!wwi_cur_eat(&c, "GCOL", 4),
               fail(r, WW_E_FORMAT, r->base + addr, "no global heap collection signature"));
    unsigned ver = wwi_cur_u8(&c);
    wwi_cur_skip(&c, 3);
    uint64_t size = rd_n(&c, r->sl);
    WW_FAIL_IF(ver != 1, fail(r, WW_E_UNSUPPORTED, r->base + addr,
                              "global heap collection version %u", ver));
    WW_FAIL_IF(size < hdr, fail(r, WW_E_FORMAT, r->base + addr,
                                "global heap collection of %llu bytes",
                                (unsigned long long)size));
    WW_TRY(view(r, addr, size, true, "global heap collection", &c));
    uint64_t p = hdr;
    while (size - p >= objhdr) {
        WW_FAIL_IF(!wwi_cur_seek(&c, (size_t)p), fail(r, WW_E_INTERNAL, UINT64_MAX, "seek"));
        uint16_t idx = wwi_cur_u16le(&c);
        wwi_cur_skip(&c, 6); /* reference count, reserved */
        uint64_t osize = rd_n(&c, r->sl);
        uint64_t need;
        if (idx == 0) {
            need = osize; /* free space: its size includes the object header */
            WW_FAIL_IF(need < objhdr, fail(r, WW_E_FORMAT, r->base + addr + p,
                                           "global heap free space of %llu bytes",
                                           (unsigned long long)osize));
        } else {
            WW_FAIL_IF(osize > size - p - objhdr,
                       fail(r, WW_E_FORMAT, r->base + addr + p,
                            "global heap object %u overruns its collection", idx));
            need = objhdr + ((osize + 7) & ~(uint64_t)7);
        }
        if (idx == index) {
            WW_FAIL_IF(found, fail(r, WW_E_FORMAT, r->base + addr + p,
                                   "global heap object %u appears twice", idx));
            found = true;
            *data = wwi_cur_peek(&c, (size_t)osize);
            *len = osize;
        }
        if (need >= size - p)
            break; /* last object (padding may end exactly at or past the end) */
        p += need;
    }
    WW_FAIL_IF(!found || !*data, fail(r, WW_E_FORMAT, r->base + addr,
                                      "global heap object %u not found", index));
done:
    return rc;
}

/* ------------------------------------------------------------ attributes */

typedef struct dtype {
    unsigned cls, ver;
    uint32_t bits; /* class bit fields */
    uint32_t size;
} dtype;

/* Number of elements of a dataspace message (1 for scalar, 0 for null). */
static ww_status dataspace(h5r *r, wwi_cur *c, uint64_t off, uint64_t *nelem)
{
    ww_status rc = WW_OK;
    unsigned ver = wwi_cur_u8(c);
    unsigned rank = wwi_cur_u8(c);
    unsigned flags = wwi_cur_u8(c);
    unsigned type = 1;
    if (ver == 1)
        wwi_cur_skip(c, 5); /* reserved */
    else
        type = wwi_cur_u8(c);
    WW_FAIL_IF(c->err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated dataspace"));
    WW_FAIL_IF(ver < 1 || ver > 2, fail(r, WW_E_UNSUPPORTED, off, "dataspace version %u", ver));
    WW_FAIL_IF(rank > 32 || type > 2, fail(r, WW_E_FORMAT, off, "dataspace rank %u type %u",
                                           rank, type));
    uint64_t n = type == 2 ? 0 : 1; /* null dataspace: no elements */
    for (unsigned i = 0; i < rank; i++) {
        uint64_t d = rd_n(c, r->sl);
        if (n != 0 && d != 0 && n > UINT64_MAX / d)
            n = UINT64_MAX; /* caught below against the data size */
        else
            n *= d;
    }
    (void)flags; /* max dims and permutations follow; not needed */
    WW_FAIL_IF(c->err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated dataspace"));
    *nelem = n;
done:
    return rc;
}

/* Strip what h5py strips from a fixed-length string: up to the first NUL
 * (NULLTERM), trailing NULs (NULLPAD) or trailing spaces (SPACEPAD). */
static size_t fixed_len(const uint8_t *p, size_t size, unsigned pad)
{
    if (pad == 0) {
        const uint8_t *nul = memchr(p, 0, size);
        return nul ? (size_t)(nul - p) : size;
    }
    uint8_t fill = pad == 2 ? ' ' : 0;
    while (size > 0 && p[size - 1] == fill)
        size--;
    return size;
}

static void set_text(wwi_h5_attr *a, const uint8_t *p, size_t n, uint64_t max_len)
{
    if (n > max_len) {
        attr_fail(a, WW_E_LIMIT, "is longer than max_header_bytes");
        return;
    }
    a->text = wwi_strndup((const char *)p, n);
    if (!a->text) {
        attr_fail(a, WW_E_NOMEM, "cannot be copied: out of memory");
        return;
    }
    a->len = n;
}

/* Decode a wanted attribute's value as text. */
static ww_status decode(h5r *r, wwi_h5_attr *a, const dtype *t, bool shared, uint64_t nelem,
                        wwi_cur *data)
{
    if (shared) {
        attr_fail(a, WW_E_UNSUPPORTED, "has a shared (committed) datatype or dataspace");
        return WW_OK;
    }
    if (t->cls == 3) { /* fixed-length string */
        unsigned cset = (t->bits >> 4) & 0xf;
        if (nelem != 1 || cset > 1 || t->size == 0) {
            attr_fail(a, WW_E_FORMAT, "is not a single ASCII/UTF-8 string");
            return WW_OK;
        }
        const uint8_t *p = wwi_cur_bytes(data, t->size);
        if (p)
            set_text(a, p, fixed_len(p, t->size, t->bits & 0xf), r->max_len);
        return WW_OK;
    }
    if (t->cls == 9 && (t->bits & 0xf) == 1) { /* variable-length string */
        unsigned cset = (t->bits >> 8) & 0xf;
        if (nelem != 1 || cset > 1) {
            attr_fail(a, WW_E_FORMAT, "is not a single ASCII/UTF-8 string");
            return WW_OK;
        }
        uint32_t n = wwi_cur_u32le(data);
        uint64_t coll = rd_n(data, r->so);
        uint32_t idx = wwi_cur_u32le(data);
        if (data->err != WW_OK || n == 0 || undef_addr(coll, r->so)) {
            attr_fail(a, WW_E_FORMAT, "is a null string");
            return WW_OK;
        }
        const uint8_t *p = NULL;
        uint64_t olen = 0;
        ww_status st = gheap_object(r, coll, idx, &p, &olen);
        if (st != WW_OK) {
            /* The detail moves from the file-level message to the attribute's. */
            char why[160];
            snprintf(why, sizeof why, "points to a damaged global heap object (%.100s)",
                     r->info->err);
            attr_fail(a, st, why);
            if (st == WW_E_LIMIT || st == WW_E_NOMEM)
                return st;
            r->info->err[0] = '\0';
            r->info->err_off = UINT64_MAX;
            return WW_OK;
        }
        if (n > olen) {
            attr_fail(a, WW_E_FORMAT, "is longer than its global heap object");
            return WW_OK;
        }
        /* libhdf5 hands h5py a C string: it ends at the first NUL. */
        const uint8_t *nul = memchr(p, 0, n);
        set_text(a, p, nul ? (size_t)(nul - p) : n, r->max_len);
        return WW_OK;
    }
    if ((t->cls == 0 && t->size == 1 && nelem >= 1) || (t->cls == 5 && nelem == 1)) {
        /* bytes stored as uint8/int8 array or opaque value */
        uint64_t n = t->cls == 5 ? t->size : nelem;
        const uint8_t *p = n <= SIZE_MAX ? wwi_cur_bytes(data, (size_t)n) : NULL;
        if (p)
            set_text(a, p, (size_t)n, r->max_len);
        else
            attr_fail(a, WW_E_FORMAT, "is shorter than its type says");
        return WW_OK;
    }
    attr_fail(a, WW_E_FORMAT, "is not a string (cannot be decoded)");
    return WW_OK;
}

static ww_status attribute(h5r *r, wwi_cur *m, uint64_t off)
{
    ww_status rc = WW_OK;
    unsigned ver = wwi_cur_u8(m);
    unsigned flags = wwi_cur_u8(m); /* reserved in version 1 */
    uint16_t name_size = wwi_cur_u16le(m);
    uint16_t dt_size = wwi_cur_u16le(m);
    uint16_t ds_size = wwi_cur_u16le(m);
    WW_FAIL_IF(m->err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated attribute message"));
    WW_FAIL_IF(ver < 1 || ver > 3, fail(r, WW_E_UNSUPPORTED, off, "attribute message version %u",
                                        ver));
    if (ver == 1)
        flags = 0;
    WW_FAIL_IF(flags & ~3u, fail(r, WW_E_FORMAT, off, "attribute message flags 0x%x", flags));
    if (ver == 3)
        wwi_cur_skip(m, 1); /* name character set */
    /* Version 1 pads name, datatype and dataspace to multiples of 8. */
    size_t pad_name = ver == 1 ? (((size_t)name_size + 7) & ~(size_t)7) : name_size;
    size_t pad_dt = ver == 1 ? (((size_t)dt_size + 7) & ~(size_t)7) : dt_size;
    size_t pad_ds = ver == 1 ? (((size_t)ds_size + 7) & ~(size_t)7) : ds_size;
    const uint8_t *name = wwi_cur_bytes(m, pad_name);
    const uint8_t *nul = name && name_size ? memchr(name, 0, name_size) : NULL;
    WW_FAIL_IF(!nul, fail(r, WW_E_FORMAT, off, "attribute name is not NUL-terminated"));
    size_t name_len = (size_t)(nul - name);

    wwi_cur dt, ds;
    const uint8_t *dtp = wwi_cur_bytes(m, pad_dt);
    const uint8_t *dsp = wwi_cur_bytes(m, pad_ds);
    WW_FAIL_IF(!dtp || !dsp, fail(r, WW_E_FORMAT, off, "truncated attribute message"));
    wwi_cur_init(&dt, dtp, dt_size);
    wwi_cur_init(&ds, dsp, ds_size);

    dtype t = {0};
    uint64_t nelem = 1;
    bool shared = flags != 0;
    if (!(flags & 1)) {
        uint8_t cv = wwi_cur_u8(&dt);
        t.cls = cv & 0xf;
        t.ver = cv >> 4;
        t.bits = wwi_cur_u8(&dt) | ((uint32_t)wwi_cur_u8(&dt) << 8) |
                 ((uint32_t)wwi_cur_u8(&dt) << 16);
        t.size = wwi_cur_u32le(&dt);
        WW_FAIL_IF(dt.err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated attribute datatype"));
        WW_FAIL_IF(t.ver < 1 || t.ver > 5 || t.cls > 10,
                   fail(r, WW_E_FORMAT, off, "attribute datatype class %u version %u", t.cls,
                        t.ver));
    }
    if (!(flags & 2))
        WW_TRY(dataspace(r, &ds, off, &nelem));
    /* The value follows; its size is elements x datatype size. */
    if (!shared) {
        uint64_t esize = t.cls == 9 ? 4 + r->so + 4 : t.size;
        WW_FAIL_IF(esize != 0 && nelem > wwi_cur_left(m) / esize,
                   fail(r, WW_E_FORMAT, off, "attribute '%.*s' has %llu elements of %llu bytes "
                        "in %zu bytes", (int)(name_len > 64 ? 64 : name_len), name,
                        (unsigned long long)nelem, (unsigned long long)esize, wwi_cur_left(m)));
    }
    r->info->n_attrs++;
    for (size_t i = 0; i < r->nattrs; i++) {
        wwi_h5_attr *a = &r->attrs[i];
        if (strlen(a->name) != name_len || !wwi_bytes_eq(a->name, name, name_len))
            continue;
        /* Two attributes of one name: which one would h5py see? Not guessed. */
        WW_FAIL_IF(a->present, fail(r, WW_E_FORMAT, off, "root attribute '%s' appears twice",
                                    a->name));
        a->present = true;
        WW_TRY(decode(r, a, &t, shared, nelem, m));
    }
done:
    return rc;
}

/* Attribute info: only "is there dense storage?" matters. */
static ww_status attr_info(h5r *r, wwi_cur *m, uint64_t off)
{
    ww_status rc = WW_OK;
    unsigned ver = wwi_cur_u8(m);
    unsigned flags = wwi_cur_u8(m);
    if (flags & 1)
        wwi_cur_skip(m, 2); /* maximum creation index */
    uint64_t heap = rd_n(m, r->so);
    WW_FAIL_IF(m->err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated attribute info message"));
    WW_FAIL_IF(ver != 0, fail(r, WW_E_UNSUPPORTED, off, "attribute info version %u", ver));
    WW_FAIL_IF(!undef_addr(heap, r->so),
               fail(r, WW_E_UNSUPPORTED, off, "root attributes in dense storage (fractal heap) "
                    "are not supported: model_config may be among them"));
done:
    return rc;
}

static ww_status add_block(h5r *r, uint64_t addr, uint64_t len, uint64_t off)
{
    ww_status rc = WW_OK;
    for (size_t i = 0; i < r->info->n_blocks && i < H5_MAX_BLOCKS; i++)
        WW_FAIL_IF(r->blocks[i] == addr, fail(r, WW_E_FORMAT, off, "object header continuation "
                                             "loop at address %llu", (unsigned long long)addr));
    for (size_t i = 0; i < r->npend; i++)
        WW_FAIL_IF(r->pend_addr[i] == addr, fail(r, WW_E_FORMAT, off, "object header "
                   "continuation at address %llu twice", (unsigned long long)addr));
    WW_FAIL_IF(r->info->n_blocks + r->npend >= H5_MAX_BLOCKS,
               fail(r, WW_E_LIMIT, off, "more than %d object header continuation blocks",
                    H5_MAX_BLOCKS));
    r->pend_addr[r->npend] = addr;
    r->pend_len[r->npend] = len;
    r->npend++;
done:
    return rc;
}

/* The messages of one header chunk. v2 chunks may end in a gap smaller than
 * a message header. `orig` is the chunk's file offset, for messages. */
static ww_status messages(h5r *r, wwi_cur *c, unsigned ohver, bool crt_order, uint64_t orig)
{
    ww_status rc = WW_OK;
    const size_t mh = ohver == 1 ? 8 : 4 + (crt_order ? 2 : 0);
    while (!wwi_cur_eof(c)) {
        uint64_t off = orig + c->pos;
        if (wwi_cur_left(c) < mh) {
            WW_FAIL_IF(ohver == 1, fail(r, WW_E_FORMAT, off, "object header message overruns "
                                        "its chunk"));
            break; /* v2 gap */
        }
        unsigned type, flags;
        uint16_t size;
        if (ohver == 1) {
            type = wwi_cur_u16le(c);
            size = wwi_cur_u16le(c);
            flags = wwi_cur_u8(c);
            wwi_cur_skip(c, 3);
        } else {
            type = wwi_cur_u8(c);
            size = wwi_cur_u16le(c);
            flags = wwi_cur_u8(c);
            if (crt_order)
                wwi_cur_skip(c, 2);
        }
        wwi_cur m;
        const uint8_t *p = wwi_cur_bytes(c, size);
        WW_FAIL_IF(!p, fail(r, WW_E_FORMAT, off, "object header message of %u bytes overruns "
                            "its chunk", size));
        wwi_cur_init(&m, p, size);
        if (type == H5_MSG_ATTR) {
            /* A shared attribute lives in the shared message heap: its name
             * is not here, so it could be model_config. */
            WW_FAIL_IF(flags & 2, fail(r, WW_E_UNSUPPORTED, off, "shared attribute messages "
                                       "are not supported"));
            WW_TRY(attribute(r, &m, off));
        } else if (type == H5_MSG_AINFO) {
            WW_TRY(attr_info(r, &m, off));
        } else if (type == H5_MSG_CONT) {
            uint64_t addr = rd_n(&m, r->so);
            uint64_t len = rd_n(&m, r->sl);
            WW_FAIL_IF(m.err != WW_OK, fail(r, WW_E_FORMAT, off, "truncated continuation "
                                            "message"));
            WW_TRY(add_block(r, addr, len, off));
        }
    }
done:
    return rc;
}

static ww_status object_header(h5r *r, uint64_t addr)
{
    ww_status rc = WW_OK;
    wwi_cur c, chunk;
    unsigned flags = 0;
    uint64_t abs = r->base + addr;

    WW_TRY(view(r, addr, 6, false, "root object header", &c));
    bool v2 = wwi_cur_eat(&c, "OHDR", 4);
    if (v2) {
        unsigned ver = wwi_cur_u8(&c);
        flags = wwi_cur_u8(&c);
        WW_FAIL_IF(ver != 2, fail(r, WW_E_UNSUPPORTED, abs, "object header version %u", ver));
        WW_FAIL_IF(flags & 0xc0, fail(r, WW_E_FORMAT, abs, "object header flags 0x%x", flags));
        uint64_t pre = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0) +
                       (1u << (flags & 3));
        WW_TRY(view(r, addr, pre, true, "root object header", &c));
        wwi_cur_skip(&c, 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0));
        unsigned w = 1u << (flags & 3);
        uint64_t size = w == 1 ? wwi_cur_u8(&c) : rd_n(&c, w);
        WW_FAIL_IF(c.err != WW_OK, fail(r, WW_E_INTERNAL, abs, "object header prefix"));
        WW_FAIL_IF(size > UINT64_MAX - 4, fail(r, WW_E_FORMAT, abs, "object header size"));
        r->info->oh_version = 2;
        WW_TRY(view(r, addr + pre, size + 4, true, "root object header", &chunk)); /* + checksum */
        chunk.len -= 4;
    } else {
        unsigned ver = wwi_cur_u8(&c);
        WW_FAIL_IF(ver != 1, fail(r, WW_E_FORMAT, abs, "no object header at the root group "
                                  "address (version %u)", ver));
        WW_TRY(view(r, addr, 16, true, "root object header", &c));
        wwi_cur_skip(&c, 2 + 2 + 4); /* version, reserved, message count, reference count */
        uint32_t size = wwi_cur_u32le(&c);
        r->info->oh_version = 1;
        WW_TRY(view(r, addr + 16, size, true, "root object header", &chunk));
    }
    r->blocks[0] = addr;
    r->info->n_blocks = 1;
    WW_TRY(messages(r, &chunk, v2 ? 2 : 1, flags & 0x04, abs + (v2 ? 0 : 16)));
    /* Continuation blocks, breadth first; each address is visited once. */
    for (size_t i = 0; i < r->npend; i++) {
        uint64_t a = r->pend_addr[i], len = r->pend_len[i];
        r->blocks[r->info->n_blocks++] = a;
        WW_TRY(view(r, a, len, true, "object header continuation block", &chunk));
        if (v2) {
            WW_FAIL_IF(!wwi_cur_eat(&chunk, "OCHK", 4) || len < 8,
                       fail(r, WW_E_FORMAT, r->base + a, "continuation block without OCHK"));
            chunk.len -= 4; /* checksum (not verified) */
        }
        WW_TRY(messages(r, &chunk, v2 ? 2 : 1, flags & 0x04, r->base + a));
    }
done:
    return rc;
}

ww_status wwi_h5_read_root_attrs(wwi_src *src, wwi_h5_attr *attrs, size_t nattrs,
                                 uint64_t max_len, uint64_t max_header_bytes, wwi_h5_info *info)
{
    ww_status rc = WW_OK;
    h5r *r = NULL;
    uint64_t root = 0;

    memset(info, 0, sizeof *info);
    info->err_off = UINT64_MAX;
    for (size_t i = 0; i < nattrs; i++) {
        attrs[i].present = false;
        attrs[i].st = WW_OK;
        attrs[i].text = NULL;
        attrs[i].len = 0;
        attrs[i].msg[0] = '\0';
    }
    r = wwi_calloc(1, sizeof *r);
    if (!r) {
        snprintf(info->err, sizeof info->err, "out of memory");
        return WW_E_NOMEM;
    }
    r->src = src;
    r->size = wwi_src_size(src);
    r->max_len = max_len;
    r->max_hdr = max_header_bytes;
    r->attrs = attrs;
    r->nattrs = nattrs;
    r->info = info;
    WW_TRY(read_superblock(r, &root));
    WW_TRY(object_header(r, root));
done:
    wwi_free(r);
    return rc;
}
