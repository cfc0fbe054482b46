/* Global heap collections ("GCOL", where variable-length strings such as a
 * Keras model_config live): libhdf5 1.10 walks the objects of a collection
 * with `p = begin + need`, so an object whose computed size is 0 (free-space
 * object 0 of size 0, or a size that wraps) never advances and the read hangs.
 * We cannot know which collections libhdf5 will read without parsing the
 * file, so every collection-looking header in the image is checked the same
 * way; a random match in tensor data also needs version 1 and a plausible
 * size before it is looked at. */
#include "formats/hdf5/h5guard.h"
#include "io/cur.h"
#include "util/strutil.h"

/* Size of lengths from the first superblock (at 0, 512, 1024, ... as libhdf5
 * searches); 8 when none is found or the value is odd (libhdf5 rejects it). */
static unsigned sizeof_lengths(const uint8_t *img, size_t len)
{
    static const uint8_t sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (size_t off = 0; off < len && len - off >= 16; off = off ? off * 2 : 512) {
        if (!wwi_bytes_eq(img + off, sig, 8))
            continue;
        uint8_t ver = img[off + 8];
        unsigned n = ver < 2 ? img[off + 14] : img[off + 10];
        return n == 2 || n == 4 || n == 8 ? n : 8;
    }
    return 8;
}

static uint64_t read_len(wwi_cur *c, unsigned n)
{
    return n == 8 ? wwi_cur_u64le(c) : n == 4 ? wwi_cur_u32le(c) : wwi_cur_u16le(c);
}

/* One collection at `off`: mirror libhdf5's object walk and refuse a step
 * that does not advance. */
static bool collection_ok(const uint8_t *img, size_t len, size_t off, unsigned ls)
{
    wwi_cur c;
    wwi_cur_init(&c, img + off, len - off);
    wwi_cur_skip(&c, 8); /* "GCOL", version, reserved */
    uint64_t size = read_len(&c, ls);
    size_t hdr = 8 + ls, objhdr = 8 + ls;
    if (c.err != WW_OK || size < hdr || size > len - off)
        return true; /* libhdf5 fails on its own (or never reads it) */
    size_t p = hdr;
    while (p < size) {
        if (size - p < objhdr)
            break; /* tail too small for an object: free space */
        wwi_cur_seek(&c, p);
        uint16_t idx = wwi_cur_u16le(&c);
        wwi_cur_skip(&c, 6); /* reference count, reserved */
        uint64_t osize = read_len(&c, ls);
        uint64_t need = osize;
        if (idx > 0)
            need = objhdr + ((osize + 7) & ~(uint64_t)7); /* may wrap, as in libhdf5 */
        if (need == 0 || c.err != WW_OK)
            return false;
        if (need >= size - p)
            break;
        p += (size_t)need;
    }
    return true;
}

ww_status wwi_h5_guard(const uint8_t *img, size_t len, uint64_t *bad_off)
{
    unsigned ls = sizeof_lengths(img, len);
    for (size_t off = 0; len >= 16 && off <= len - 16; off++) {
        const uint8_t *hit = memchr(img + off, 'G', len - 16 - off + 1);
        if (!hit)
            break;
        off = (size_t)(hit - img);
        if (wwi_bytes_eq(hit, "GCOL", 4) && hit[4] == 1 && !collection_ok(img, len, off, ls)) {
            *bad_off = off;
            return WW_E_FORMAT;
        }
    }
    return WW_OK;
}
