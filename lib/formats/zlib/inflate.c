/* Bounded inflate: output is produced in fixed chunks, and each chunk is
 * checked against the member cap, the ratio cap and the scan-wide inflate
 * budget before it is kept. zlib allocates through wwi_* so its memory is
 * capped and fault-injectable like everything else. */
#include <zlib.h>
#include "formats/zlib/inflate.h"
#include "util/alloc.h"

#define CHUNK (64u * 1024u)
/* Small members may legitimately compress better than max_ratio (runs of
 * zeros reach ~1000:1 with deflate); below this output size the ratio is not
 * checked, since a bomb that stays under 1 MiB is harmless. */
#define RATIO_FLOOR (1u << 20)

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return wwi_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    wwi_free(p);
}

/* Append n bytes to out, growing geometrically up to max_alloc. */
static ww_status append(wwi_scan *s, wwi_inflate_out *out, size_t *cap, const uint8_t *p,
                        size_t n, const char *what)
{
    if (n == 0)
        return WW_OK;
    uint64_t max_alloc = wwi_scan_limits(s)->max_alloc;
    if (n > SIZE_MAX - out->len || out->len + n > max_alloc)
        return wwi_scan_limit(s, "max_alloc", "'%s' inflates to more than %llu bytes", what,
                              (unsigned long long)max_alloc);
    if (out->len + n > *cap) {
        size_t nc = *cap ? *cap : CHUNK;
        while (nc < out->len + n)
            nc = nc > SIZE_MAX / 2 ? SIZE_MAX : nc * 2;
        if (nc > max_alloc)
            nc = (size_t)max_alloc;
        void *q = out->data;
        ww_status st = wwi_realloc(&q, nc);
        if (st != WW_OK)
            return wwi_scan_error(s, st, UINT64_MAX, "cannot allocate %zu bytes for '%s'", nc,
                                  what);
        out->data = q;
        *cap = nc;
    }
    memcpy(out->data + out->len, p, n);
    out->len += n;
    return WW_OK;
}

ww_status wwi_inflate(wwi_scan *s, const uint8_t *in, size_t in_len, wwi_inflate_kind kind,
                      size_t head_only, const char *what, wwi_inflate_out *out)
{
    ww_status rc = WW_OK;
    const ww_limits *lim = wwi_scan_limits(s);
    uint8_t *chunk = NULL;
    size_t cap = 0;
    bool started = false;
    z_stream z;

    memset(out, 0, sizeof *out);
    memset(&z, 0, sizeof z);
    out->crc32 = (uint32_t)crc32(0L, Z_NULL, 0);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    chunk = wwi_malloc(CHUNK);
    if (!chunk) {
        rc = wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "no memory to inflate '%s'", what);
        goto done;
    }
    int zr = inflateInit2(&z, kind == WWI_INFLATE_RAW ? -MAX_WBITS : MAX_WBITS);
    if (zr != Z_OK) {
        rc = wwi_scan_error(s, zr == Z_MEM_ERROR ? WW_E_NOMEM : WW_E_INTERNAL, UINT64_MAX,
                            "cannot start inflating '%s'", what);
        goto done;
    }
    started = true;
    size_t fed = 0;
    for (;;) {
        /* avail_in is a uInt: feed huge inputs in slices. */
        if (z.avail_in == 0 && fed < in_len) {
            size_t slice = in_len - fed < (1u << 30) ? in_len - fed : (1u << 30);
            z.next_in = (Bytef *)(uintptr_t)(in + fed);
            z.avail_in = (uInt)slice;
            fed += slice;
        }
        z.next_out = chunk;
        z.avail_out = CHUNK;
        zr = inflate(&z, Z_NO_FLUSH);
        size_t n = CHUNK - z.avail_out;
        if ((zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) && head_only) {
            rc = WW_E_FORMAT; /* a sniff stays quiet: the caller decides what it means */
            goto done;
        }
        if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
            rc = wwi_scan_error(s, WW_E_FORMAT, (uint64_t)(fed - z.avail_in),
                                "corrupt compressed data in '%s': %s", what,
                                zr == Z_NEED_DICT ? "needs a preset dictionary"
                                : z.msg           ? z.msg
                                                  : "inflate error");
            goto done;
        }
        if (zr == Z_MEM_ERROR) {
            rc = wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "no memory to inflate '%s'", what);
            goto done;
        }
        if (head_only > 0) {
            size_t keep = head_only - out->len < n ? head_only - out->len : n;
            out->crc32 = (uint32_t)crc32(out->crc32, chunk, (uInt)keep);
            rc = append(s, out, &cap, chunk, keep, what);
            if (rc != WW_OK)
                goto done;
            if (out->len >= head_only)
                break;
        } else if (n > 0) {
            uint64_t total = (uint64_t)out->len + n;
            if (total > lim->max_member_bytes) {
                rc = wwi_scan_limit(s, "max_member_bytes", "'%s' inflates to more than %llu bytes",
                                    what, (unsigned long long)lim->max_member_bytes);
                goto done;
            }
            if (total > RATIO_FLOOR && lim->max_ratio > 0 &&
                total / lim->max_ratio > (uint64_t)in_len) {
                rc = wwi_scan_limit(s, "max_ratio",
                                    "'%s' expands more than %u times (%zu compressed bytes)",
                                    what, (unsigned)lim->max_ratio, in_len);
                goto done;
            }
            rc = wwi_scan_charge_inflated(s, n);
            if (rc != WW_OK)
                goto done;
            out->crc32 = (uint32_t)crc32(out->crc32, chunk, (uInt)n);
            rc = append(s, out, &cap, chunk, n, what);
            if (rc != WW_OK)
                goto done;
        }
        if (zr == Z_STREAM_END) {
            out->complete = true;
            break;
        }
        if (zr == Z_BUF_ERROR || (n == 0 && z.avail_in == 0 && fed >= in_len)) {
            if (head_only > 0)
                break; /* a sniff of a truncated stream: the full read reports it */
            rc = wwi_scan_error(s, WW_E_TRUNCATED, (uint64_t)in_len,
                                "compressed data of '%s' ends before the stream does", what);
            goto done;
        }
        rc = wwi_scan_check_time(s);
        if (rc != WW_OK)
            goto done;
    }
    out->in_used = fed - z.avail_in;
done:
    if (started)
        inflateEnd(&z);
    wwi_free(chunk);
    if (rc != WW_OK) {
        WW_FREE_NULL(out->data);
        out->len = 0;
    }
    return rc;
}
