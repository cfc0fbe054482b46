/* ONNX TensorProto checks: declared size vs raw_data length, and external
 * data locations (T-ONNX-EXTDATA: onnx.load reads <model dir>/<location>). */
#include <stdio.h>
#include "formats/onnx/onnx.h"
#include "util/strutil.h"

ww_status wwi_onnx_fail(onnx_ctx *x, const wwi_cur *c, const char *what)
{
    ww_status st = c->err != WW_OK ? c->err : WW_E_FORMAT;
    if (st == WW_E_LIMIT)
        return wwi_scan_limit(x->s, "max_json_depth", "protobuf groups nested too deep in %s",
                              what);
    return wwi_scan_error(x->s, st, c->pos, "ONNX %s: %s at offset %zu", what,
                          st == WW_E_TRUNCATED ? "truncated protobuf" : "malformed protobuf",
                          c->pos);
}

static bool is_sep(uint8_t ch)
{
    return ch == '/' || ch == '\\';
}

static bool ieq_prefix(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l)
        return false;
    for (size_t i = 0; i < l; i++) {
        uint8_t a = p[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (a != (uint8_t)lit[i])
            return false;
    }
    return true;
}

const char *wwi_onnx_location_risk(const uint8_t *p, size_t n)
{
    if (n == 0)
        return "empty location";
    if (memchr(p, '\0', n))
        return "location contains a NUL byte (the path is cut there)";
    if (is_sep(p[0]))
        return "absolute path (or UNC share)";
    if (n >= 2 && p[1] == ':' && ((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
        return "Windows drive path";
    if (ieq_prefix(p, n, "file:"))
        return "file: URL";
    for (size_t i = 0; i + 2 < n; i++)
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/')
            return "URL";
    /* A ".." segment climbs out of the model directory (CVE-2022-25882,
     * CVE-2024-27318). Both separators count: onnx runs on Windows too. */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || is_sep(p[i])) {
            if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
                return "path traversal ('..' segment)";
            start = i + 1;
        }
    }
    return NULL;
}

bool wwi_onnx_raw_size(uint64_t dtype, uint64_t elems, uint64_t *bytes)
{
    /* TensorProto.DataType values -> bits per element; 0 = no fixed size. */
    static const uint8_t bits[] = {
        [1] = 32,  /* FLOAT */       [2] = 8,  /* UINT8 */      [3] = 8,  /* INT8 */
        [4] = 16,  /* UINT16 */      [5] = 16, /* INT16 */      [6] = 32, /* INT32 */
        [7] = 64,  /* INT64 */       [9] = 8,  /* BOOL */       [10] = 16, /* FLOAT16 */
        [11] = 64, /* DOUBLE */      [12] = 32, /* UINT32 */    [13] = 64, /* UINT64 */
        [14] = 64, /* COMPLEX64 */   [15] = 128, /* COMPLEX128 */ [16] = 16, /* BFLOAT16 */
        [17] = 8,  [18] = 8, [19] = 8, [20] = 8, /* FLOAT8 variants */
        [21] = 4,  [22] = 4, [23] = 4, /* UINT4, INT4, FLOAT4E2M1 */
        [24] = 8,  /* FLOAT8E8M0 */  [25] = 2, [26] = 2, /* UINT2, INT2 */
    };
    if (dtype >= sizeof bits || bits[dtype] == 0)
        return false;
    uint64_t b;
    if (__builtin_mul_overflow(elems, (uint64_t)bits[dtype], &b))
        return false;
    *bytes = b / 8 + (b % 8 != 0); /* sub-byte types are packed, last byte padded */
    return true;
}

/* One StringStringEntryProto of external_data. */
static ww_status ext_entry(onnx_ctx *x, wwi_cur *c, const char *where, bool *has_location)
{
    wwi_pb_field f;
    const uint8_t *key = NULL, *val = NULL;
    size_t klen = 0, vlen = 0, voff = c->pos;
    uint32_t gd = x->max_depth;
    while (wwi_pb_next(c, &f, gd)) {
        if (f.num == ONNX_ENTRY_KEY || f.num == ONNX_ENTRY_VALUE) {
            if (f.wt != WWI_PB_LEN)
                return wwi_scan_error(x->s, WW_E_FORMAT, f.off,
                                      "ONNX %s: external_data entry with a bad wire type", where);
            if (f.num == ONNX_ENTRY_KEY) {
                key = wwi_pb_data(c, &f);
                klen = f.len;
            } else {
                val = wwi_pb_data(c, &f);
                vlen = f.len;
                voff = f.data_off;
            }
        }
    }
    if (c->err != WW_OK)
        return wwi_onnx_fail(x, c, where);
    if (!key)
        return WW_OK;
    char shown[512];
    wwi_printable(val ? val : (const uint8_t *)"", vlen, shown, sizeof shown);
    if (klen == 8 && wwi_bytes_eq(key, "location", 8)) {
        *has_location = true;
        x->external++;
        const char *risk = wwi_onnx_location_risk(val ? val : (const uint8_t *)"", vlen);
        if (risk)
            wwi_finding(x->s, WW_SEV_HIGH, "external_data", NULL, shown, voff,
                        "%s: external data location '%s' reads outside the model "
                        "directory: %s",
                        where, shown, risk);
        else
            wwi_finding(x->s, WW_SEV_NONE, "external_data", NULL, shown, voff,
                        "%s: tensor data stored in external file '%s' (not scanned here)",
                        where, shown);
    } else if ((klen == 6 && wwi_bytes_eq(key, "offset", 6)) ||
               (klen == 6 && wwi_bytes_eq(key, "length", 6))) {
        uint64_t v;
        if (!wwi_parse_u64((const char *)(val ? val : (const uint8_t *)""), vlen, UINT64_MAX,
                           &v))
            return wwi_scan_error(x->s, WW_E_FORMAT, voff,
                                  "%s: external_data %.*s '%s' is not a decimal number", where,
                                  (int)klen, (const char *)key, shown);
    }
    return WW_OK;
}

ww_status wwi_onnx_tensor(onnx_ctx *x, wwi_cur *c, const char *where_in)
{
    wwi_pb_field f;
    uint64_t elems = 1, dtype = 0, location = 0;
    bool has_raw = false, has_location = false, bad_dim = false, dims_overflow = false;
    size_t raw_len = 0, start = c->pos;
    char name[128] = "";
    char where[384];
    x->tensors++;

    /* First pass: the name, so that every message below can use it. */
    wwi_cur pre = *c;
    while (wwi_pb_next(&pre, &f, x->max_depth))
        if (f.num == ONNX_TENSOR_NAME && f.wt == WWI_PB_LEN)
            wwi_printable(wwi_pb_data(&pre, &f), f.len, name, sizeof name);
    snprintf(where, sizeof where, "tensor '%s' in %s", name, where_in);

    while (wwi_pb_next(c, &f, x->max_depth)) {
        switch (f.num) {
        case ONNX_TENSOR_DIMS:
            if (f.wt == WWI_PB_VARINT) {
                if (f.v > INT64_MAX)
                    bad_dim = true;
                else if (__builtin_mul_overflow(elems, f.v, &elems))
                    dims_overflow = true;
            } else if (f.wt == WWI_PB_LEN) { /* packed */
                wwi_cur sub;
                uint64_t v;
                wwi_pb_sub(c, &f, &sub);
                while (!wwi_cur_eof(&sub) && wwi_pb_varint(&sub, &v)) {
                    if (v > INT64_MAX)
                        bad_dim = true;
                    else if (__builtin_mul_overflow(elems, v, &elems))
                        dims_overflow = true;
                }
                if (sub.err != WW_OK)
                    return wwi_onnx_fail(x, &sub, where);
            } else {
                return wwi_scan_error(x->s, WW_E_FORMAT, f.off, "ONNX %s: dims with bad wire type",
                                      where);
            }
            break;
        case ONNX_TENSOR_DATA_TYPE:
        case ONNX_TENSOR_DATA_LOCATION:
            if (f.wt != WWI_PB_VARINT)
                return wwi_scan_error(x->s, WW_E_FORMAT, f.off,
                                      "ONNX %s: field %u with bad wire type", where, f.num);
            if (f.num == ONNX_TENSOR_DATA_TYPE)
                dtype = f.v;
            else
                location = f.v;
            break;
        case ONNX_TENSOR_RAW_DATA:
            if (f.wt != WWI_PB_LEN)
                return wwi_scan_error(x->s, WW_E_FORMAT, f.off,
                                      "ONNX %s: raw_data with bad wire type", where);
            has_raw = true;
            raw_len = f.len; /* last one wins, as in protobuf */
            break;
        case ONNX_TENSOR_EXTERNAL_DATA: {
            if (f.wt != WWI_PB_LEN)
                return wwi_scan_error(x->s, WW_E_FORMAT, f.off,
                                      "ONNX %s: external_data with bad wire type", where);
            wwi_cur sub;
            wwi_pb_sub(c, &f, &sub);
            ww_status st = ext_entry(x, &sub, where, &has_location);
            if (st != WW_OK)
                return st;
            break;
        }
        default:
            break; /* typed data (float_data, ...), doc strings: not interpreted */
        }
    }
    if (c->err != WW_OK)
        return wwi_onnx_fail(x, c, where);
    if (bad_dim)
        return wwi_scan_error(x->s, WW_E_FORMAT, start, "ONNX %s: negative dimension", where);
    if (dims_overflow)
        return wwi_scan_error(x->s, WW_E_FORMAT, start,
                              "ONNX %s: dimensions multiply past 2^64 elements", where);
    if (location == ONNX_DATA_LOCATION_EXTERNAL && !has_location)
        return wwi_scan_error(x->s, WW_E_FORMAT, start,
                              "ONNX %s: data_location EXTERNAL without a location", where);
    if (location > ONNX_DATA_LOCATION_EXTERNAL)
        return wwi_scan_error(x->s, WW_E_FORMAT, start,
                              "ONNX %s: unknown data_location %llu", where,
                              (unsigned long long)location);
    if (has_raw) {
        uint64_t need;
        if (!wwi_onnx_raw_size(dtype, elems, &need))
            return wwi_scan_error(x->s, WW_E_FORMAT, start,
                                  "ONNX %s: raw_data with data type %llu, which has no fixed "
                                  "element size",
                                  where, (unsigned long long)dtype);
        if (need != raw_len)
            return wwi_scan_error(x->s, WW_E_FORMAT, start,
                                  "ONNX %s: raw_data holds %zu bytes, dims and data type need "
                                  "%llu",
                                  where, raw_len, (unsigned long long)need);
    }
    return WW_OK;
}
