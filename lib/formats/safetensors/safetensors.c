/* safetensors: u64 LE header length N, N bytes of JSON, then the tensor
 * buffer. The format cannot carry code; the scan proves the file is what it
 * claims (the reference parser's rules, stricter where they are silent) and
 * never reads tensor bytes: only 8 + N bytes are viewed. */
#include <jansson.h>
#include <stdlib.h>
#include "formats/format.h"
#include "formats/json/jsonutil.h"
#include "util/alloc.h"
#include "util/strutil.h"

typedef struct st_range {
    uint64_t begin, end;
    const char *name;
} st_range;

/* Bits per element (sub-byte float formats included) of every dtype the
 * reference implementation knows. Anything else is malformed. */
static const struct {
    const char *name;
    unsigned bits;
} dtypes[] = {
    {"BOOL", 8},   {"U8", 8},       {"I8", 8},       {"F8_E5M2", 8}, {"F8_E4M3", 8},
    {"F8_E8M0", 8}, {"I16", 16},    {"U16", 16},     {"F16", 16},    {"BF16", 16},
    {"I32", 32},   {"U32", 32},     {"F32", 32},     {"I64", 64},    {"U64", 64},
    {"F64", 64},   {"C64", 64},     {"F4", 4},       {"F6_E2M3", 6}, {"F6_E3M2", 6},
};

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    if (n < 10 || size < 10 || head[8] != '{')
        return 0;
    wwi_cur c;
    wwi_cur_init(&c, head, n);
    uint64_t hlen = wwi_cur_u64le(&c);
    if (hlen < 2 || hlen > (1ull << 40))
        return 0;
    /* A header longer than the file is still ours: report it as lying. */
    return hlen <= size - 8 ? 90 : 50;
}

static unsigned dtype_bits(const char *s)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (wwi_str_eq(s, dtypes[i].name))
            return dtypes[i].bits;
    return 0;
}

static bool get_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* One tensor entry: {"dtype", "shape", "data_offsets"} and nothing else. */
static ww_status tensor(wwi_scan *s, const char *name, json_t *v, st_range *r)
{
    if (!json_is_object(v) || json_object_size(v) != 3)
        return wwi_scan_error(s, WW_E_FORMAT, 8,
                              "tensor '%s': entry must be an object with exactly dtype, "
                              "shape, data_offsets",
                              name);
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *of = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(of) ||
        json_array_size(of) != 2)
        return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': bad dtype/shape/data_offsets",
                              name);
    unsigned bits = dtype_bits(json_string_value(dt));
    if (!bits)
        return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': unknown dtype '%.40s'", name,
                              json_string_value(dt));
    uint64_t nel = 1, d;
    for (size_t i = 0; i < json_array_size(sh); i++) {
        if (!get_u64(json_array_get(sh, i), &d))
            return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': shape[%zu] is not a "
                                  "non-negative integer", name, i);
        if (__builtin_mul_overflow(nel, d, &nel))
            return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': shape product overflows",
                                  name);
    }
    uint64_t nbits;
    if (__builtin_mul_overflow(nel, (uint64_t)bits, &nbits))
        return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': byte size overflows", name);
    if (nbits % 8)
        return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': %llu elements of %u bits are "
                              "not a whole number of bytes", name, (unsigned long long)nel, bits);
    if (!get_u64(json_array_get(of, 0), &r->begin) || !get_u64(json_array_get(of, 1), &r->end) ||
        r->end < r->begin)
        return wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s': bad data_offsets", name);
    if (r->end - r->begin != nbits / 8)
        return wwi_scan_error(s, WW_E_FORMAT, 8,
                              "tensor '%s': data_offsets span %llu bytes, dtype x shape needs %llu",
                              name, (unsigned long long)(r->end - r->begin),
                              (unsigned long long)(nbits / 8));
    r->name = name;
    return WW_OK;
}

/* Code-, shell- or HTML-looking text in free-form metadata. Inert (no loader
 * evaluates it), so only a LOW note for UIs and tools downstream. */
static const char *looks_like_code(const char *v)
{
    static const char *const pats[] = {
        "import ", "__import__", "os.system", "subprocess", "eval(", "exec(", "<script",
        "javascript:", "rm -rf", "curl ", "wget ", "/bin/sh", "bash -c", "powershell",
        "base64", "\\x",
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        if (strstr(v, pats[i]))
            return pats[i];
    return NULL;
}

static ww_status metadata(wwi_scan *s, json_t *meta)
{
    if (!json_is_object(meta))
        return wwi_scan_error(s, WW_E_FORMAT, 8, "__metadata__ is not an object");
    const char *k;
    json_t *v;
    unsigned notes = 0;
    json_object_foreach(meta, k, v) {
        if (!json_is_string(v))
            return wwi_scan_error(s, WW_E_FORMAT, 8, "__metadata__['%s'] is not a string", k);
        const char *pat = looks_like_code(json_string_value(v));
        if (pat && notes++ < 8)
            wwi_finding(s, WW_SEV_LOW, "metadata", NULL, k, UINT64_MAX,
                        "__metadata__['%s'] holds code-looking text ('%s'); inert: safetensors "
                        "loaders never evaluate metadata",
                        k, pat);
    }
    return WW_OK;
}

static int cmp_range(const void *a, const void *b)
{
    const st_range *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    json_t *root = NULL;
    st_range *ranges = NULL;
    const ww_limits *lim = wwi_scan_limits(s);
    uint64_t size = wwi_src_size(in);
    const uint8_t *p = NULL;

    if (size < 8) {
        rc = wwi_scan_error(s, WW_E_TRUNCATED, 0, "shorter than the 8-byte header length");
        goto done;
    }
    rc = wwi_src_view(in, 0, 8, &p);
    if (rc != WW_OK)
        goto done;
    wwi_cur c;
    wwi_cur_init(&c, p, 8);
    uint64_t hlen = wwi_cur_u64le(&c);
    if (hlen > lim->max_header_bytes) {
        rc = wwi_scan_limit(s, "max_header_bytes", "safetensors header of %llu bytes",
                            (unsigned long long)hlen);
        goto done;
    }
    if (hlen > size - 8) {
        rc = wwi_scan_error(s, WW_E_TRUNCATED, 0,
                            "header length %llu runs past the end of the file (%llu bytes)",
                            (unsigned long long)hlen, (unsigned long long)size);
        goto done;
    }
    rc = wwi_src_view(in, 8, (size_t)hlen, &p);
    if (rc != WW_OK)
        goto done;
    if (hlen == 0 || p[0] != '{') {
        rc = wwi_scan_error(s, WW_E_FORMAT, 8, "header does not start with '{'");
        goto done;
    }
    uint32_t depth = wwi_json_depth(p, (size_t)hlen, lim->max_json_depth);
    if (depth > lim->max_json_depth) {
        rc = wwi_scan_limit(s, "max_json_depth", "safetensors header nests deeper than %u",
                            (unsigned)lim->max_json_depth);
        goto done;
    }
    json_error_t err;
    root = json_loadb((const char *)p, (size_t)hlen, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        rc = wwi_scan_error(s, WW_E_FORMAT, 8 + (uint64_t)(err.position > 0 ? err.position : 0),
                            "header is not valid JSON: %s", err.text);
        goto done;
    }
    if (!json_is_object(root)) {
        rc = wwi_scan_error(s, WW_E_FORMAT, 8, "header is not a JSON object");
        goto done;
    }
    size_t cap = json_object_size(root), n = 0;
    ranges = cap ? wwi_calloc(cap, sizeof *ranges) : NULL;
    if (cap && !ranges) {
        rc = wwi_scan_error(s, WW_E_NOMEM, 8, "cannot hold %zu tensor entries", cap);
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (wwi_str_eq(k, "__metadata__"))
            rc = metadata(s, v);
        else
            rc = tensor(s, k, v, &ranges[n++]);
        if (rc != WW_OK)
            goto done;
    }
    /* Sorted, the ranges must tile [0, buffer size) exactly: no overlap (two
     * tensors aliasing bytes), no hole, no trailing bytes (room for a second
     * format, T-ZIP-POLYGLOT). */
    if (n)
        qsort(ranges, n, sizeof *ranges, cmp_range);
    uint64_t data = size - 8 - hlen, at = 0;
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].begin != at) {
            rc = wwi_scan_error(s, WW_E_FORMAT, 8, "tensor '%s' starts at %llu, expected %llu (%s)",
                                ranges[i].name, (unsigned long long)ranges[i].begin,
                                (unsigned long long)at,
                                ranges[i].begin < at ? "overlap" : "gap");
            goto done;
        }
        at = ranges[i].end;
    }
    if (at != data) {
        rc = wwi_scan_error(s, WW_E_FORMAT, 8 + hlen + at,
                            at < data ? "%llu trailing bytes after the last tensor"
                                      : "tensor data runs %llu bytes past the end of the file",
                            (unsigned long long)(at < data ? data - at : at - data));
        goto done;
    }
    wwi_finding(s, WW_SEV_NONE, "format", NULL, NULL, UINT64_MAX,
                "safetensors cannot carry code (%zu tensors, header %llu bytes, checked)", n,
                (unsigned long long)hlen);
done:
    wwi_free(ranges);
    json_decref(root);
    return rc;
}

const wwi_format wwi_format_safetensors = {
    .name = "safetensors",
    .description = "safetensors (header and layout validated; cannot carry code)",
    .flags = 0,
    .probe = probe,
    .scan = scan,
};
