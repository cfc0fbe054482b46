/* ww_result: what one scan found. Strings live in a chunked arena freed with
 * the result, so borrowed pointers stay valid exactly as long as it does. */
#include <string.h>
#include "core/result.h"
#include "util/alloc.h"

struct wwi_chunk {
    wwi_chunk *next;
    size_t used, cap;
    char data[];
};

ww_result *wwi_result_new(void)
{
    ww_result *r = wwi_calloc(1, sizeof *r);
    if (r)
        r->threshold = WW_SEV_MEDIUM;
    return r;
}

const char *wwi_result_str(ww_result *r, const char *s, size_t n)
{
    if (!s)
        return NULL;
    if (n == SIZE_MAX)
        return NULL;
    wwi_chunk *c = r->arena;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > 4096 ? n + 1 : 4096;
        if (cap > SIZE_MAX - sizeof(wwi_chunk))
            return NULL;
        c = wwi_malloc(sizeof(wwi_chunk) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = r->arena;
        r->arena = c;
    }
    char *d = c->data + c->used;
    memcpy(d, s, n);
    d[n] = '\0';
    c->used += n + 1;
    return d;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

const char *wwi_result_text(ww_result *r, const char *str)
{
    if (!str)
        return NULL;
    /* Strings in results come from attacker-controlled files and end up on
     * terminals and in JSON: invalid UTF-8 and control characters (ANSI
     * escapes!) are written as \xNN. */
    const unsigned char *p = (const unsigned char *)str;
    size_t n = strlen(str), out = 0;
    bool clean = true;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] < 0x20 || p[i] == 0x7F ? 0 : utf8_len(p + i, n - i);
        if (l == 0) {
            clean = false;
            out += 4;
            i++;
        } else {
            out += l;
            i += l;
        }
    }
    if (clean)
        return wwi_result_str(r, str, n);
    char *tmp = wwi_malloc(out + 1);
    if (!tmp)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] < 0x20 || p[i] == 0x7F ? 0 : utf8_len(p + i, n - i);
        if (l == 0) {
            static const char hex[] = "0123456789abcdef";
            tmp[k++] = '\\';
            tmp[k++] = 'x';
            tmp[k++] = hex[p[i] >> 4];
            tmp[k++] = hex[p[i] & 15];
            i++;
        } else {
            memcpy(tmp + k, p + i, l);
            k += l;
            i += l;
        }
    }
    const char *res = wwi_result_str(r, tmp, k);
    wwi_free(tmp);
    return res;
}

void wwi_result_finish(ww_result *r)
{
    if (r->max_sev != WW_SEV_NONE && r->max_sev >= r->threshold)
        r->verdict = WW_VERDICT_UNSAFE;
    else if (r->nerr > 0 || r->status != WW_OK)
        r->verdict = WW_VERDICT_ERROR;
    else
        r->verdict = WW_VERDICT_CLEAN;
}

void ww_result_free(ww_result *r)
{
    if (!r)
        return;
    wwi_chunk *c = r->arena;
    while (c) {
        wwi_chunk *n = c->next;
        wwi_free(c);
        c = n;
    }
    wwi_free(r->findings);
    wwi_free(r->errors);
    wwi_free(r->layers);
    wwi_free(r);
}

const char *ww_result_path(const ww_result *r) { return r->path; }
ww_verdict ww_result_verdict(const ww_result *r) { return r->verdict; }
ww_severity ww_result_max_severity(const ww_result *r) { return r->max_sev; }
ww_status ww_result_status(const ww_result *r) { return r->status; }
const char *ww_result_error(const ww_result *r) { return r->error; }
bool ww_result_skipped(const ww_result *r) { return r->skipped; }
uint64_t ww_result_size(const ww_result *r) { return r->size; }
uint64_t ww_result_bytes_read(const ww_result *r) { return r->bytes_read; }
uint64_t ww_result_elapsed_ns(const ww_result *r) { return r->elapsed_ns; }
uint64_t ww_result_dropped_findings(const ww_result *r) { return r->dropped; }
size_t ww_result_finding_count(const ww_result *r) { return r->nfind; }
size_t ww_result_error_count(const ww_result *r) { return r->nerr; }
size_t ww_result_layer_count(const ww_result *r) { return r->nlayers; }

const char *ww_result_format(const ww_result *r)
{
    return r->nlayers ? r->layers[0].format : "unknown";
}

bool ww_result_code_capable(const ww_result *r)
{
    for (size_t i = 0; i < r->nlayers; i++)
        if (r->layers[i].code_capable)
            return true;
    return false;
}

const ww_finding *ww_result_finding(const ww_result *r, size_t i)
{
    return i < r->nfind ? &r->findings[i] : NULL;
}

const ww_finding *ww_result_error_at(const ww_result *r, size_t i)
{
    return i < r->nerr ? &r->errors[i] : NULL;
}

const ww_layer *ww_result_layer(const ww_result *r, size_t i)
{
    return i < r->nlayers ? &r->layers[i] : NULL;
}

ww_status ww_result_new_failed(const char *display, ww_status st, const char *message,
                               ww_result **out)
{
    if (!display || !message || !out || st == WW_OK)
        return WW_E_ARG;
    ww_result *r = wwi_result_new();
    if (!r)
        return WW_E_NOMEM;
    r->path = wwi_result_text(r, display);
    r->error = wwi_result_text(r, message);
    r->status = st;
    ww_finding *f = NULL;
    if (r->path && r->error && wwi_realloc((void **)&r->errors, sizeof(ww_finding)) == WW_OK) {
        f = r->errors;
        memset(f, 0, sizeof *f);
        f->kind = ww_status_name(st);
        f->member = "";
        f->message = r->error;
        f->offset = UINT64_MAX;
        r->nerr = r->caperr = 1;
    }
    if (!f) {
        ww_result_free(r);
        return WW_E_NOMEM;
    }
    wwi_result_finish(r);
    *out = r;
    return WW_OK;
}

ww_status ww_result_annotate(ww_result *r, ww_severity sev, const char *kind, const char *message)
{
    if (!r || !kind || !message)
        return WW_E_ARG;
    if (r->nfind == r->capfind) {
        size_t nc = r->capfind ? r->capfind * 2 : 4;
        void *p = r->findings;
        ww_status st = wwi_realloc(&p, nc * sizeof(ww_finding));
        if (st != WW_OK)
            return st;
        r->findings = p;
        r->capfind = nc;
    }
    ww_finding *f = &r->findings[r->nfind];
    memset(f, 0, sizeof *f);
    f->severity = sev;
    f->kind = wwi_result_text(r, kind);
    f->message = wwi_result_text(r, message);
    f->member = "";
    f->offset = UINT64_MAX;
    if (!f->kind || !f->message)
        return WW_E_NOMEM;
    r->nfind++;
    if (sev > r->max_sev)
        r->max_sev = sev;
    wwi_result_finish(r);
    return WW_OK;
}
