/* Zip directory reader. Mirrors miniz (PyTorch's reader) where readers
 * disagree: the last end-record signature within 64 KiB + 22 bytes of the end
 * wins, ZIP64 values replace the 32-bit ones when a locator is present, and
 * no offset is adjusted for prepended data. Python's zipfile reads entries
 * until the directory bytes run out, miniz stops at the declared count: we
 * read them all and report the difference. */
#include "formats/zip/zipdir.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define EOCD_LEN 22u
#define LOC64_LEN 20u
#define EOCD64_LEN 56u
#define CDH_LEN 46u
#define MAX_COMMENT 65535u
#define MAX_ENTRIES_EXTRA 1000000u

/* View [off, off+len) from the tail view when it covers it, else fetch. */
static ww_status tail_or_view(wwi_src *in, const uint8_t *tail, uint64_t tail_off,
                              size_t tail_len, uint64_t off, size_t len, const uint8_t **out)
{
    if (off >= tail_off && off - tail_off <= tail_len && len <= tail_len - (off - tail_off)) {
        *out = tail + (off - tail_off);
        return WW_OK;
    }
    return wwi_src_view(in, off, len, out);
}

static ww_status read_zip64_extra(wwi_scan *s, wwi_zip_entry *e, const uint8_t *x, size_t xlen,
                                  uint16_t disk)
{
    bool need_u = e->usize == 0xFFFFFFFFu, need_c = e->csize == 0xFFFFFFFFu;
    bool need_o = e->lho == 0xFFFFFFFFu, need_d = disk == 0xFFFFu;
    if (!need_u && !need_c && !need_o && !need_d)
        return WW_OK;
    wwi_cur c;
    wwi_cur_init(&c, x, xlen);
    while (wwi_cur_left(&c) >= 4) {
        uint16_t id = wwi_cur_u16le(&c), len = wwi_cur_u16le(&c);
        const uint8_t *body = wwi_cur_bytes(&c, len);
        if (!body)
            break;
        if (id != 0x0001)
            continue;
        wwi_cur f;
        wwi_cur_init(&f, body, len);
        if (need_u)
            e->usize = wwi_cur_u64le(&f);
        if (need_c)
            e->csize = wwi_cur_u64le(&f);
        if (need_o)
            e->lho = wwi_cur_u64le(&f);
        if (f.err != WW_OK)
            break;
        return WW_OK;
    }
    return wwi_scan_error(s, WW_E_FORMAT, e->cd_off,
                          "central entry at %llu: 32-bit size/offset is 0xFFFFFFFF but no "
                          "complete ZIP64 extra field",
                          (unsigned long long)e->cd_off);
}

static ww_status push_entry(wwi_zip_dir *d, size_t *cap, const wwi_zip_entry *e)
{
    if (d->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void *p = d->e;
        ww_status st = wwi_realloc(&p, nc * sizeof *d->e);
        if (st != WW_OK)
            return st;
        d->e = p;
        *cap = nc;
    }
    d->e[d->n++] = *e;
    return WW_OK;
}

static ww_status parse_cd(wwi_scan *s, const uint8_t *cd, uint64_t declared, wwi_zip_dir *d)
{
    wwi_cur c;
    wwi_cur_init(&c, cd, (size_t)d->cd_size);
    size_t cap = 0;
    uint64_t extra = 0;
    while (wwi_cur_left(&c) >= 4) {
        if (d->n >= declared) {
            if (!wwi_bytes_eq(wwi_cur_peek(&c, 4), "PK\x01\x02", 4))
                break;
            if (++extra > MAX_ENTRIES_EXTRA)
                return wwi_scan_limit(s, "max_members", "central directory holds more than "
                                                         "%u undeclared entries",
                                      MAX_ENTRIES_EXTRA);
        }
        wwi_zip_entry e;
        memset(&e, 0, sizeof e);
        e.cd_off = d->cd_off + c.pos;
        if (!wwi_cur_eat(&c, "PK\x01\x02", 4))
            return wwi_scan_error(s, WW_E_FORMAT, e.cd_off,
                                  "central directory entry %zu of %llu: bad signature", d->n,
                                  (unsigned long long)declared);
        e.made_by = wwi_cur_u16le(&c);
        wwi_cur_skip(&c, 2); /* version needed */
        e.flags = wwi_cur_u16le(&c);
        e.method = wwi_cur_u16le(&c);
        wwi_cur_skip(&c, 4); /* time, date */
        e.crc = wwi_cur_u32le(&c);
        e.csize = wwi_cur_u32le(&c);
        e.usize = wwi_cur_u32le(&c);
        e.name_len = wwi_cur_u16le(&c);
        uint16_t xlen = wwi_cur_u16le(&c), clen = wwi_cur_u16le(&c);
        uint16_t disk = wwi_cur_u16le(&c);
        wwi_cur_skip(&c, 2); /* internal attributes */
        e.ext_attr = wwi_cur_u32le(&c);
        e.lho = wwi_cur_u32le(&c);
        e.name = wwi_cur_bytes(&c, e.name_len);
        const uint8_t *x = wwi_cur_bytes(&c, xlen);
        wwi_cur_skip(&c, clen);
        if (c.err != WW_OK)
            return wwi_scan_error(s, WW_E_TRUNCATED, e.cd_off,
                                  "central directory ends inside entry %zu of %llu", d->n,
                                  (unsigned long long)declared);
        ww_status st = read_zip64_extra(s, &e, x, xlen, disk);
        if (st != WW_OK)
            return st;
        st = push_entry(d, &cap, &e);
        if (st != WW_OK)
            return wwi_scan_error(s, st, UINT64_MAX, "cannot store the central directory");
    }
    if (d->n < declared)
        return wwi_scan_error(s, WW_E_TRUNCATED, d->cd_off + c.pos,
                              "central directory holds %zu of the %llu entries it declares",
                              d->n, (unsigned long long)declared);
    if (extra > 0)
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-HIDDEN-ENTRIES", d->cd_off,
                    "central directory holds %llu entries beyond the %llu the end record "
                    "declares (PyTorch/miniz ignores them, Python zipfile reads them)",
                    (unsigned long long)extra, (unsigned long long)declared);
    if (wwi_cur_left(&c) > 0)
        wwi_finding(s, WW_SEV_LOW, "malformed", NULL, "zip.cd_trailing", d->cd_off + c.pos,
                    "%zu unexplained bytes at the end of the central directory",
                    wwi_cur_left(&c));
    return WW_OK;
}

ww_status wwi_zip_read_dir(wwi_scan *s, wwi_src *in, wwi_zip_dir *d)
{
    const ww_limits *lim = wwi_scan_limits(s);
    uint64_t size = wwi_src_size(in);
    memset(d, 0, sizeof *d);
    if (size < EOCD_LEN)
        return wwi_scan_error(s, WW_E_TRUNCATED, 0, "zip: %llu bytes is too small for an end "
                                                     "record",
                              (unsigned long long)size);
    /* One view for the end record, its comment, and the ZIP64 locator and
     * record that usually precede it: remote sources pay one round trip. */
    uint64_t want = (uint64_t)MAX_COMMENT + EOCD_LEN + LOC64_LEN + EOCD64_LEN;
    size_t tail_len = (size_t)(size < want ? size : want);
    uint64_t tail_off = size - tail_len;
    const uint8_t *tail = NULL;
    ww_status st = wwi_src_view(in, tail_off, tail_len, &tail);
    if (st != WW_OK)
        return wwi_scan_error(s, st, tail_off, "zip: cannot read the end of the file");
    size_t lowest = tail_len > MAX_COMMENT + EOCD_LEN ? tail_len - (MAX_COMMENT + EOCD_LEN) : 0;
    size_t p = tail_len - EOCD_LEN;
    bool found = false;
    for (;;) {
        if (tail[p] == 'P' && wwi_bytes_eq(tail + p, "PK\x05\x06", 4)) {
            found = true;
            break;
        }
        if (p == lowest)
            break;
        p--;
    }
    if (!found)
        return wwi_scan_error(s, WW_E_FORMAT, UINT64_MAX,
                              "zip: no end-of-central-directory record in the last %zu bytes "
                              "(truncated or not a zip)",
                              tail_len);
    d->eocd_off = tail_off + p;
    wwi_cur c;
    wwi_cur_init(&c, tail + p + 4, EOCD_LEN - 4);
    uint32_t disk = wwi_cur_u16le(&c), cd_disk = wwi_cur_u16le(&c);
    uint64_t n_this = wwi_cur_u16le(&c), n_total = wwi_cur_u16le(&c);
    d->cd_size = wwi_cur_u32le(&c);
    d->cd_off = wwi_cur_u32le(&c);
    uint16_t comment = wwi_cur_u16le(&c);
    d->end_of_zip = d->eocd_off + EOCD_LEN + comment;
    uint64_t cd_limit = d->eocd_off; /* the directory must end before this */

    if (d->eocd_off >= LOC64_LEN) {
        const uint8_t *loc = NULL;
        st = tail_or_view(in, tail, tail_off, tail_len, d->eocd_off - LOC64_LEN, LOC64_LEN, &loc);
        if (st == WW_OK && wwi_bytes_eq(loc, "PK\x06\x07", 4)) {
            wwi_cur_init(&c, loc + 8, 8);
            uint64_t rec = wwi_cur_u64le(&c);
            const uint8_t *r = NULL;
            if (rec > d->eocd_off - LOC64_LEN || d->eocd_off - LOC64_LEN - rec < EOCD64_LEN)
                return wwi_scan_error(s, WW_E_FORMAT, d->eocd_off - LOC64_LEN,
                                      "zip: ZIP64 locator points outside the file (%llu)",
                                      (unsigned long long)rec);
            st = tail_or_view(in, tail, tail_off, tail_len, rec, EOCD64_LEN, &r);
            if (st != WW_OK || !wwi_bytes_eq(r, "PK\x06\x06", 4))
                return wwi_scan_error(s, WW_E_FORMAT, rec, "zip: no ZIP64 end record at %llu",
                                      (unsigned long long)rec);
            wwi_cur_init(&c, r + 16, EOCD64_LEN - 16);
            disk = wwi_cur_u32le(&c);
            cd_disk = wwi_cur_u32le(&c);
            n_this = wwi_cur_u64le(&c);
            n_total = wwi_cur_u64le(&c);
            d->cd_size = wwi_cur_u64le(&c);
            d->cd_off = wwi_cur_u64le(&c);
            d->zip64 = true;
            cd_limit = rec;
        }
    }
    if (((disk | cd_disk) != 0 && !(disk == 1 && cd_disk == 1)) || n_this != n_total)
        return wwi_scan_error(s, WW_E_UNSUPPORTED, d->eocd_off,
                              "zip: multi-disk archive (disk %u, directory disk %u, %llu of %llu "
                              "entries here)",
                              (unsigned)disk, (unsigned)cd_disk, (unsigned long long)n_this,
                              (unsigned long long)n_total);
    if (d->cd_off > cd_limit || d->cd_size > cd_limit - d->cd_off)
        return wwi_scan_error(s, WW_E_TRUNCATED, d->eocd_off,
                              "zip: central directory (offset %llu, %llu bytes) runs past the "
                              "end record at %llu",
                              (unsigned long long)d->cd_off, (unsigned long long)d->cd_size,
                              (unsigned long long)cd_limit);
    if (n_total > d->cd_size / CDH_LEN)
        return wwi_scan_error(s, WW_E_FORMAT, d->eocd_off,
                              "zip: %llu entries cannot fit in a %llu-byte central directory",
                              (unsigned long long)n_total, (unsigned long long)d->cd_size);
    if (d->cd_size > lim->max_header_bytes)
        return wwi_scan_limit(s, "max_header_bytes", "zip central directory is %llu bytes",
                              (unsigned long long)d->cd_size);
    if (n_total > lim->max_members)
        return wwi_scan_limit(s, "max_members", "zip declares %llu entries",
                              (unsigned long long)n_total);
    const uint8_t *cd = NULL;
    st = tail_or_view(in, tail, tail_off, tail_len, d->cd_off, (size_t)d->cd_size, &cd);
    if (st != WW_OK)
        return wwi_scan_error(s, st, d->cd_off, "zip: cannot read the central directory");
    return parse_cd(s, cd, n_total, d);
}

void wwi_zip_dir_free(wwi_zip_dir *d)
{
    WW_FREE_NULL(d->e);
    d->n = 0;
}
