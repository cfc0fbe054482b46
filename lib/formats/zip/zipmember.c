/* Member access. Sizes and method come from the central directory (the local
 * copies may be zero when a data descriptor follows, and PyTorch ignores
 * them); the local header contributes only where the data starts. */
#include <zlib.h>
#include "formats/zip/zipmember.h"
#include "formats/zip/zipname.h"
#include "formats/zlib/inflate.h"
#include "util/alloc.h"
#include "util/strutil.h"

ww_status wwi_zip_data_offset(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e,
                              const char *pname, uint64_t *off)
{
    uint64_t size = wwi_src_size(in);
    const uint8_t *h = NULL;
    ww_status st = wwi_src_view(in, e->lho, 30, &h);
    if (st != WW_OK)
        return wwi_scan_error(s, WW_E_TRUNCATED, e->lho,
                              "local header of '%s' at %llu is past the end of the file", pname,
                              (unsigned long long)e->lho);
    wwi_cur c;
    wwi_cur_init(&c, h, 30);
    if (!wwi_cur_eat(&c, "PK\x03\x04", 4))
        return wwi_scan_error(s, WW_E_FORMAT, e->lho, "no local header for '%s' at %llu", pname,
                              (unsigned long long)e->lho);
    wwi_cur_skip(&c, 4); /* version, flags */
    uint16_t method = wwi_cur_u16le(&c);
    wwi_cur_skip(&c, 16); /* time, date, crc, sizes */
    uint16_t nlen = wwi_cur_u16le(&c), xlen = wwi_cur_u16le(&c);
    const uint8_t *lname = NULL;
    st = wwi_src_view(in, e->lho + 30, nlen, &lname);
    if (st != WW_OK)
        return wwi_scan_error(s, WW_E_TRUNCATED, e->lho, "local header of '%s' is truncated",
                              pname);
    if (nlen != e->name_len || !wwi_bytes_eq(lname, e->name, nlen)) {
        char lp[256];
        wwi_name_printable(lname, nlen, lp, sizeof lp);
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-NAME-MISMATCH", e->lho,
                    "local header names '%s' but the central directory names '%s' (PyTorch "
                    "uses the central name, Python zipfile refuses the member)",
                    lp, pname);
    }
    if (method != e->method)
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-NAME-MISMATCH", e->lho,
                    "'%s': local header says method %u, central directory %u", pname,
                    (unsigned)method, (unsigned)e->method);
    uint64_t data = e->lho + 30u + nlen + xlen;
    if (data > size || e->csize > size - data)
        return wwi_scan_error(s, WW_E_TRUNCATED, data,
                              "data of '%s' (%llu bytes at %llu) runs past the end of the file",
                              pname, (unsigned long long)e->csize, (unsigned long long)data);
    *off = data;
    return WW_OK;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)crc;
}

static void check_sums(wwi_scan *s, const wwi_zip_entry *e, const char *pname, uint32_t crc,
                       uint64_t len)
{
    if (crc != e->crc)
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-BADCRC", UINT64_MAX,
                    "'%s': CRC-32 is %08x, the central directory says %08x (Python zipfile "
                    "refuses it, PyTorch does not check)",
                    pname, (unsigned)crc, (unsigned)e->crc);
    if (len != e->usize)
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-BADCRC", UINT64_MAX,
                    "'%s': %llu bytes, the central directory says %llu", pname,
                    (unsigned long long)len, (unsigned long long)e->usize);
}

ww_status wwi_zip_read_full(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e,
                            const char *pname, uint64_t data_off, const uint8_t **data,
                            size_t *len, uint8_t **owned)
{
    const ww_limits *lim = wwi_scan_limits(s);
    *owned = NULL;
    *data = NULL;
    *len = 0;
    if (e->method != 0 && e->method != 8)
        return wwi_scan_error(s, WW_E_UNSUPPORTED, e->lho,
                              "'%s' uses compression method %u; only stored and deflate are "
                              "read (PyTorch reads no others)",
                              pname, (unsigned)e->method);
    if (e->csize > lim->max_member_bytes || e->csize > SIZE_MAX)
        return wwi_scan_limit(s, "max_member_bytes", "'%s' is %llu bytes", pname,
                              (unsigned long long)e->csize);
    const uint8_t *raw = (const uint8_t *)"";
    if (e->csize > 0) {
        ww_status st = wwi_src_view(in, data_off, (size_t)e->csize, &raw);
        if (st != WW_OK)
            return wwi_scan_error(s, st, data_off, "cannot read '%s'", pname);
    }
    if (e->method == 0) {
        check_sums(s, e, pname, crc_of(raw, (size_t)e->csize), e->csize);
        *data = raw;
        *len = (size_t)e->csize;
        return WW_OK;
    }
    wwi_inflate_out o;
    ww_status st = wwi_inflate(s, raw, (size_t)e->csize, WWI_INFLATE_RAW, 0, pname, &o);
    if (st != WW_OK)
        return st;
    check_sums(s, e, pname, o.crc32, o.len);
    *owned = o.data;
    *data = o.data ? o.data : (const uint8_t *)"";
    *len = o.len;
    return WW_OK;
}

ww_status wwi_zip_read_head(wwi_scan *s, wwi_src *in, const wwi_zip_entry *e, uint64_t data_off,
                            size_t max, const uint8_t **data, size_t *len, uint8_t **owned)
{
    *owned = NULL;
    *data = (const uint8_t *)"";
    *len = 0;
    if (e->method == 0) {
        size_t n = e->csize < max ? (size_t)e->csize : max;
        if (n == 0)
            return WW_OK;
        ww_status st = wwi_src_view(in, data_off, n, data);
        if (st == WW_OK)
            *len = n;
        return st;
    }
    if (e->method != 8)
        return WW_E_UNSUPPORTED;
    size_t in_len = e->csize < SIZE_MAX ? (size_t)e->csize : SIZE_MAX;
    /* The sniff needs little input: a few KiB of output come from at most a
     * few KiB of deflate, but allow for stored blocks and long headers. */
    if (in_len > max + 65536)
        in_len = max + 65536;
    const uint8_t *raw = (const uint8_t *)"";
    if (in_len > 0) {
        ww_status st = wwi_src_view(in, data_off, in_len, &raw);
        if (st != WW_OK)
            return st;
    }
    wwi_inflate_out o;
    ww_status st = wwi_inflate(s, raw, in_len, WWI_INFLATE_RAW, max, "", &o);
    if (st != WW_OK)
        return st;
    if (!o.complete && o.len < max) {
        /* The stream stopped short of both its end and the sniff size: it is
         * truncated or broken. Not recorded here: the caller's full read
         * reports it (a broken member must never pass as unknown text). */
        wwi_free(o.data);
        return WW_E_TRUNCATED;
    }
    *owned = o.data;
    *data = o.data ? o.data : (const uint8_t *)"";
    *len = o.len;
    return WW_OK;
}
