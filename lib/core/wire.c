/* ww_result <-> bytes, for results that come back from a sandboxed child.
 * Layout (little endian): "WWR1", strings as u32 length + bytes (0xFFFFFFFF =
 * NULL), counts as u32. The reader uses the cursor: the child may have been
 * compromised, so nothing in the bytes is trusted beyond its bounds. */
#include <stdlib.h>
#include <string.h>
#include "core/result.h"
#include "io/cur.h"
#include "util/alloc.h"
#include "util/buf.h"

#define NULL_STR 0xFFFFFFFFu
#define MAX_WIRE (256u << 20)

static ww_status put_u32(wwi_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return wwi_buf_add(b, x, 4);
}

static ww_status put_u64(wwi_buf *b, uint64_t v)
{
    ww_status st = put_u32(b, (uint32_t)v);
    return st == WW_OK ? put_u32(b, (uint32_t)(v >> 32)) : st;
}

static ww_status put_str(wwi_buf *b, const char *s)
{
    if (!s)
        return put_u32(b, NULL_STR);
    size_t n = strlen(s);
    ww_status st = put_u32(b, (uint32_t)n);
    return st == WW_OK ? wwi_buf_add(b, s, n) : st;
}

static ww_status put_finding(wwi_buf *b, const ww_finding *f)
{
    ww_status st = wwi_buf_addc(b, (char)f->severity);
    if (st == WW_OK) st = put_str(b, f->kind);
    if (st == WW_OK) st = put_str(b, f->module);
    if (st == WW_OK) st = put_str(b, f->name);
    if (st == WW_OK) st = put_str(b, f->member);
    if (st == WW_OK) st = put_str(b, f->message);
    if (st == WW_OK) st = put_u64(b, f->offset);
    return st;
}

ww_status ww_result_serialize(const ww_result *r, void **buf, size_t *len)
{
    wwi_buf b;
    wwi_buf_init(&b, MAX_WIRE);
    ww_status st = wwi_buf_add(&b, "WWR1", 4);
    if (st == WW_OK) st = put_str(&b, r->path);
    if (st == WW_OK) st = wwi_buf_addc(&b, (char)r->threshold);
    if (st == WW_OK) st = put_u32(&b, (uint32_t)r->status);
    if (st == WW_OK) st = put_str(&b, r->error);
    if (st == WW_OK) st = wwi_buf_addc(&b, (char)r->skipped);
    if (st == WW_OK) st = put_u64(&b, r->size);
    if (st == WW_OK) st = put_u64(&b, r->bytes_read);
    if (st == WW_OK) st = put_u64(&b, r->elapsed_ns);
    if (st == WW_OK) st = put_u64(&b, r->dropped);
    if (st == WW_OK) st = wwi_buf_addc(&b, (char)r->max_sev);
    if (st == WW_OK) st = put_u32(&b, (uint32_t)r->nfind);
    for (size_t i = 0; st == WW_OK && i < r->nfind; i++)
        st = put_finding(&b, &r->findings[i]);
    if (st == WW_OK) st = put_u32(&b, (uint32_t)r->nerr);
    for (size_t i = 0; st == WW_OK && i < r->nerr; i++)
        st = put_finding(&b, &r->errors[i]);
    if (st == WW_OK) st = put_u32(&b, (uint32_t)r->nlayers);
    for (size_t i = 0; st == WW_OK && i < r->nlayers; i++) {
        st = put_str(&b, r->layers[i].member);
        if (st == WW_OK) st = put_str(&b, r->layers[i].format);
        if (st == WW_OK) st = wwi_buf_addc(&b, (char)r->layers[i].code_capable);
        if (st == WW_OK) st = put_u64(&b, r->layers[i].size);
    }
    if (st != WW_OK) {
        wwi_buf_free(&b);
        return st;
    }
    /* Callers free() the buffer: hand over a malloc'd copy. */
    *buf = malloc(b.len ? b.len : 1);
    if (!*buf) {
        wwi_buf_free(&b);
        return WW_E_NOMEM;
    }
    memcpy(*buf, b.data, b.len);
    *len = b.len;
    wwi_buf_free(&b);
    return WW_OK;
}

static const char *get_str(wwi_cur *c, ww_result *r)
{
    uint32_t n = wwi_cur_u32le(c);
    if (n == NULL_STR || c->err != WW_OK)
        return NULL;
    const uint8_t *p = wwi_cur_bytes(c, n);
    if (!p)
        return NULL;
    const char *s = wwi_result_str(r, (const char *)p, n);
    if (!s)
        wwi_cur_fail(c, WW_E_NOMEM);
    return s;
}

static ww_severity get_sev(wwi_cur *c)
{
    uint8_t v = wwi_cur_u8(c);
    if (v > WW_SEV_CRITICAL)
        wwi_cur_fail(c, WW_E_FORMAT);
    return (ww_severity)(v > WW_SEV_CRITICAL ? WW_SEV_CRITICAL : v);
}

static ww_status get_findings(wwi_cur *c, ww_result *r, ww_finding **arr, size_t *n, size_t *cap)
{
    uint32_t cnt = wwi_cur_u32le(c);
    /* Each record takes at least 29 bytes: a lying count fails here, not in malloc. */
    if (c->err != WW_OK || cnt > wwi_cur_left(c) / 29)
        return WW_E_FORMAT;
    if (cnt == 0)
        return WW_OK;
    *arr = wwi_calloc(cnt, sizeof(ww_finding));
    if (!*arr)
        return WW_E_NOMEM;
    *cap = cnt;
    for (uint32_t i = 0; i < cnt && c->err == WW_OK; i++) {
        ww_finding *f = &(*arr)[i];
        f->severity = get_sev(c);
        f->kind = get_str(c, r);
        f->module = get_str(c, r);
        f->name = get_str(c, r);
        f->member = get_str(c, r);
        f->message = get_str(c, r);
        f->offset = wwi_cur_u64le(c);
        if (!f->member)
            f->member = "";
        *n = i + 1;
    }
    return c->err;
}

ww_status ww_result_deserialize(const void *buf, size_t len, ww_result **out)
{
    *out = NULL;
    wwi_cur c;
    wwi_cur_init(&c, buf, len);
    if (!wwi_cur_eat(&c, "WWR1", 4))
        return WW_E_FORMAT;
    ww_result *r = wwi_result_new();
    if (!r)
        return WW_E_NOMEM;
    ww_status st = WW_OK;
    r->path = get_str(&c, r);
    r->threshold = get_sev(&c);
    uint32_t status = wwi_cur_u32le(&c);
    r->status = status < WW_STATUS_END_ ? (ww_status)status : WW_E_INTERNAL;
    r->error = get_str(&c, r);
    r->skipped = wwi_cur_u8(&c) != 0;
    r->size = wwi_cur_u64le(&c);
    r->bytes_read = wwi_cur_u64le(&c);
    r->elapsed_ns = wwi_cur_u64le(&c);
    r->dropped = wwi_cur_u64le(&c);
    r->max_sev = get_sev(&c);
    st = get_findings(&c, r, &r->findings, &r->nfind, &r->capfind);
    if (st == WW_OK)
        st = get_findings(&c, r, &r->errors, &r->nerr, &r->caperr);
    if (st == WW_OK) {
        uint32_t nl = wwi_cur_u32le(&c);
        if (c.err != WW_OK || nl > wwi_cur_left(&c) / 17)
            st = WW_E_FORMAT;
        else if (nl > 0 && !(r->layers = wwi_calloc(nl, sizeof(ww_layer))))
            st = WW_E_NOMEM;
        for (uint32_t i = 0; st == WW_OK && i < nl && c.err == WW_OK; i++) {
            ww_layer *l = &r->layers[i];
            l->member = get_str(&c, r);
            l->format = get_str(&c, r);
            l->code_capable = wwi_cur_u8(&c) != 0;
            l->size = wwi_cur_u64le(&c);
            if (!l->member)
                l->member = "";
            if (!l->format)
                l->format = "unknown";
            r->nlayers = r->caplayers = i + 1;
        }
    }
    if (st == WW_OK)
        st = c.err;
    if (st == WW_OK && !wwi_cur_eof(&c))
        st = WW_E_FORMAT;
    if (st == WW_OK && !r->path)
        st = WW_E_FORMAT;
    if (st != WW_OK) {
        ww_result_free(r);
        return st;
    }
    /* The verdict is recomputed here, never read from the child. */
    for (size_t i = 0; i < r->nfind; i++)
        if (r->findings[i].severity > r->max_sev)
            r->max_sev = r->findings[i].severity;
    wwi_result_finish(r);
    *out = r;
    return WW_OK;
}
