/* numpy: .npy files (np.save / np.load). Object dtypes (descr 'O', or a
 * structured dtype with an 'O' field) store the array as a pickle after the
 * header: that pickle is scanned. Other dtypes are clean without reading the
 * array, once the header's shape x itemsize is shown to fit in the file.
 * .npz files are zips and reach this module member by member. */
#include "formats/format.h"
#include "formats/numpy/npyhdr.h"
#include "util/strutil.h"

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    return n >= 6 && wwi_bytes_eq(head, "\x93NUMPY", 6) ? 95 : 0;
}

static ww_status scan_trailing(wwi_scan *s, wwi_src *in, uint64_t off, uint64_t n)
{
    wwi_finding(s, WW_SEV_LOW, "container", NULL, "T-ZIP-POLYGLOT", off,
                "%llu bytes follow the array data (np.load ignores them; scanned by content)",
                (unsigned long long)n);
    wwi_src *child = NULL;
    ww_status rc = wwi_src_sub(in, off, n, &child);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, off, "cannot open the bytes after the array");
    rc = wwi_scan_nested(s, child, "[after-array]");
    wwi_src_free(child);
    return rc;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    const ww_limits *lim = wwi_scan_limits(s);
    uint64_t size = wwi_src_size(in);
    const uint8_t *p = NULL;
    if (size < 10 || wwi_src_view(in, 0, size < 12 ? 10 : 12, &p) != WW_OK)
        return wwi_scan_error(s, WW_E_TRUNCATED, 0, "npy: file ends inside the preamble");
    wwi_cur c;
    wwi_cur_init(&c, p, size < 12 ? 10 : 12);
    wwi_cur_skip(&c, 6);
    uint8_t major = wwi_cur_u8(&c), minor = wwi_cur_u8(&c);
    if (major < 1 || major > 3)
        return wwi_scan_error(s, WW_E_UNSUPPORTED, 6, "npy: format version %u.%u is unknown",
                              (unsigned)major, (unsigned)minor);
    uint64_t hlen = major == 1 ? wwi_cur_u16le(&c) : wwi_cur_u32le(&c);
    if (c.err != WW_OK)
        return wwi_scan_error(s, WW_E_TRUNCATED, 8, "npy: file ends inside the preamble");
    uint64_t hoff = c.pos;
    if (hlen > lim->max_header_bytes)
        return wwi_scan_limit(s, "max_header_bytes", "npy header of %llu bytes",
                              (unsigned long long)hlen);
    if (hlen > size - hoff)
        return wwi_scan_error(s, WW_E_TRUNCATED, hoff,
                              "npy: header claims %llu bytes, only %llu remain",
                              (unsigned long long)hlen, (unsigned long long)(size - hoff));
    const uint8_t *text = NULL;
    ww_status rc = wwi_src_view(in, hoff, (size_t)hlen, &text);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, hoff, "npy: cannot read the header");
    wwi_npy_header h;
    char err[160];
    rc = wwi_npy_parse_header(text, (size_t)hlen, lim->max_json_depth, &h, err, sizeof err);
    if (rc == WW_E_LIMIT)
        return wwi_scan_limit(s, "max_json_depth", "npy header: %s", err);
    if (rc != WW_OK)
        return wwi_scan_error(s, rc, hoff, "npy header: %s", err);
    uint64_t data_off = hoff + hlen, left = size - data_off;
    if (h.has_object) {
        /* np.save pickles object arrays; np.load(allow_pickle=True) runs it. */
        wwi_scan_set_format(s, "numpy", true);
        wwi_src *child = NULL;
        rc = wwi_src_sub(in, data_off, left, &child);
        if (rc != WW_OK)
            return wwi_scan_error(s, rc, data_off, "npy: cannot open the pickle payload");
        rc = wwi_scan_nested_as(s, child, "array.pkl", "pickle");
        wwi_src_free(child);
        return rc;
    }
    uint64_t need = 0;
    if (h.count_overflow || __builtin_mul_overflow(h.count, h.itemsize, &need))
        return wwi_scan_error(s, WW_E_FORMAT, hoff,
                              "npy: shape x itemsize (%s) overflows 64 bits", h.descr);
    if (need > left)
        return wwi_scan_error(s, WW_E_TRUNCATED, data_off,
                              "npy: header (%s, %llu elements) needs %llu data bytes, %llu "
                              "remain",
                              h.descr, (unsigned long long)h.count, (unsigned long long)need,
                              (unsigned long long)left);
    if (need < left)
        return scan_trailing(s, in, data_off + need, left - need);
    return WW_OK;
}

const wwi_format wwi_format_numpy = {
    .name = "numpy",
    .description = "NumPy .npy array (object arrays hold a pickle)",
    .flags = WWI_FMT_CONTAINER,
    .probe = probe,
    .scan = scan,
};
