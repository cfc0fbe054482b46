/* zlib: bare zlib streams (joblib compress=True / ('zlib', n) writes one) and
 * joblib's pre-0.9.3 "ZF" files ("ZF" + hex length padded to 19 bytes + zlib
 * stream). The stream is inflated with caps and its payload scanned by
 * content as one nested member. */
#include <ctype.h>
#include <stdio.h>
#include "formats/format.h"
#include "formats/zlib/inflate.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define ZF_LEN_FIELD 19 /* len("0x10000000000000000"), joblib's _MAX_LEN */

static bool zlib_header(const uint8_t *h, size_t n)
{
    /* CMF 0x78 (deflate, 32 KiB window), FCHECK valid, no preset dictionary. */
    return n >= 2 && h[0] == 0x78 && ((h[0] << 8) | h[1]) % 31 == 0 && !(h[1] & 0x20);
}

static bool zf_header(const uint8_t *h, size_t n)
{
    return n >= 2 + ZF_LEN_FIELD && wwi_bytes_eq(h, "ZF0x", 4);
}

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    if (zf_header(head, n))
        return 80;
    /* Two bytes are a weak magic: confident enough to beat "unknown", low
     * enough that any format with a real magic wins. */
    if (zlib_header(head, n) && n >= 3)
        return 40;
    return 0;
}

/* Name of the payload: the layer name minus a compression suffix. */
static void payload_name(wwi_scan *s, char *out, size_t n)
{
    const char *m = wwi_scan_member(s);
    if (!m[0])
        m = wwi_scan_display(s);
    const char *base = strrchr(m, '/');
    base = base ? base + 1 : m;
    size_t len = strlen(base);
    static const char *const sfx[] = {".z", ".zlib", ".zz"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
        if (wwi_str_has_suffix_ci(base, sfx[i]) && len > strlen(sfx[i])) {
            len -= strlen(sfx[i]);
            snprintf(out, n, "%.*s", (int)len, base);
            return;
        }
    snprintf(out, n, "payload");
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    uint64_t size = wwi_src_size(in);
    const uint8_t *all = NULL;
    wwi_inflate_out o;
    memset(&o, 0, sizeof o);
    if (size > SIZE_MAX)
        return wwi_scan_limit(s, "max_member_bytes", "zlib stream of %llu bytes",
                              (unsigned long long)size);
    rc = wwi_src_view(in, 0, (size_t)size, &all);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, 0, "cannot read the zlib stream");
    size_t start = 0;
    uint64_t declared = UINT64_MAX;
    if (zf_header(all, (size_t)size)) {
        /* hex digits after "ZF0x", then space padding (and one more space
         * from joblib <= 0.8.4). */
        size_t i = 4, end = 2 + ZF_LEN_FIELD;
        uint64_t v = 0;
        while (i < end && isxdigit(all[i]) && v <= (UINT64_MAX >> 4)) {
            int c = all[i++];
            v = (v << 4) | (uint64_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
        }
        if (i == 4)
            return wwi_scan_error(s, WW_E_FORMAT, 4, "joblib ZF header has no length");
        while (i < end && all[i] == ' ')
            i++;
        if (i != end)
            return wwi_scan_error(s, WW_E_FORMAT, i, "joblib ZF length field is malformed");
        if (end < size && all[end] == ' ')
            end++;
        start = end;
        declared = v;
        wwi_scan_set_format(s, "joblib_zfile", false);
    }
    if (!zlib_header(all + start, (size_t)size - start))
        return wwi_scan_error(s, WW_E_FORMAT, start, "no zlib header at offset %zu", start);
    rc = wwi_inflate(s, all + start, (size_t)size - start, WWI_INFLATE_ZLIB, 0, "zlib stream", &o);
    if (rc != WW_OK)
        return rc;
    if (declared != UINT64_MAX && declared != o.len)
        wwi_finding(s, WW_SEV_LOW, "malformed", NULL, "joblib.zf_length", 2,
                    "ZF header declares %llu bytes, the stream holds %zu (joblib refuses it)",
                    (unsigned long long)declared, o.len);
    size_t rest = (size_t)size - start - o.in_used;
    if (rest > 0)
        wwi_finding(s, WW_SEV_LOW, "malformed", NULL, "zlib.trailing", start + o.in_used,
                    "%zu bytes after the end of the zlib stream (ignored by zlib readers)",
                    rest);
    char name[256];
    payload_name(s, name, sizeof name);
    rc = wwi_scan_nested_mem(s, o.data ? o.data : (const uint8_t *)"", o.len, name);
    wwi_free(o.data);
    return rc;
}

const wwi_format wwi_format_zlib = {
    .name = "zlib",
    .description = "zlib stream (joblib compress=True, joblib 'ZF' files)",
    .flags = WWI_FMT_CONTAINER,
    .probe = probe,
    .scan = scan,
};
