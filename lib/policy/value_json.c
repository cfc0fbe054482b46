/* JSON <-> Rego values, Rego-syntax printing, UTF-8 helpers.
 * Our own JSON reader (not jansson) because it builds arena values directly,
 * keeps numbers beyond int64 as doubles instead of failing, and caps depth. */
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/value.h"

size_t wwp_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

bool wwp_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t wwp_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- output --------------------------------------------------------------- */

ww_status wwp_num_text(const wwp_val *v, wwi_buf *out)
{
    if (v->is_int)
        return wwi_buf_printf(out, "%lld", (long long)v->i);
    char tmp[40];
    /* Shortest form that reads back to the same double. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v->d);
        if (strtod(tmp, NULL) == v->d)
            break;
    }
    return wwi_buf_adds(out, tmp);
}

static ww_status json_str(const char *s, size_t len, wwi_buf *out)
{
    ww_status st = wwi_buf_addc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < len && st == WW_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(tmp, sizeof(tmp), "\\u%04x", c);
                esc = tmp;
            }
        }
        if (esc) {
            if (run)
                st = wwi_buf_add(out, s + i - run, run);
            run = 0;
            if (st == WW_OK)
                st = wwi_buf_adds(out, esc);
        } else {
            run++;
        }
    }
    if (st == WW_OK && run)
        st = wwi_buf_add(out, s + len - run, run);
    if (st == WW_OK)
        st = wwi_buf_addc(out, '"');
    return st;
}

/* Both printers share one walker; depth is bounded by how values are built
 * (JSON depth cap, evaluator depth cap), which keeps this recursion bounded. */
static ww_status print_val(const wwp_val *v, wwi_buf *out, bool rego)
{
    ww_status st = WW_OK;
    switch (v->kind) {
    case WWP_NULL:
        return wwi_buf_adds(out, "null");
    case WWP_BOOL:
        return wwi_buf_adds(out, v->b ? "true" : "false");
    case WWP_NUM:
        return wwp_num_text(v, out);
    case WWP_STR:
        return json_str(v->s, v->len, out);
    case WWP_ARR:
    case WWP_SET:
        if (rego && v->kind == WWP_SET && v->len == 0)
            return wwi_buf_adds(out, "set()");
        st = wwi_buf_addc(out, rego && v->kind == WWP_SET ? '{' : '[');
        for (size_t i = 0; i < v->len && st == WW_OK; i++) {
            if (i)
                st = wwi_buf_adds(out, rego ? ", " : ",");
            if (st == WW_OK)
                st = print_val(v->items[i], out, rego);
        }
        if (st == WW_OK)
            st = wwi_buf_addc(out, rego && v->kind == WWP_SET ? '}' : ']');
        return st;
    case WWP_OBJ:
        st = wwi_buf_addc(out, '{');
        for (size_t i = 0; i < v->len && st == WW_OK; i++) {
            if (i)
                st = wwi_buf_adds(out, rego ? ", " : ",");
            if (st != WW_OK)
                break;
            const wwp_val *k = v->items[i];
            if (rego || k->kind == WWP_STR) {
                st = print_val(k, out, rego);
            } else {
                /* Non-string key: its JSON text becomes the key string. */
                wwi_buf kb;
                wwi_buf_init(&kb, out->max);
                st = print_val(k, &kb, false);
                if (st == WW_OK)
                    st = json_str(kb.data ? kb.data : "", kb.len, out);
                wwi_buf_free(&kb);
            }
            if (st == WW_OK)
                st = wwi_buf_adds(out, rego ? ": " : ":");
            if (st == WW_OK)
                st = print_val(v->vals[i], out, rego);
        }
        if (st == WW_OK)
            st = wwi_buf_addc(out, '}');
        return st;
    default:
        return WW_E_INTERNAL;
    }
}

ww_status wwp_to_json(const wwp_val *v, wwi_buf *out)
{
    return print_val(v, out, false);
}

ww_status wwp_to_rego(const wwp_val *v, wwi_buf *out)
{
    return print_val(v, out, true);
}

/* ---- input ---------------------------------------------------------------- */

typedef struct jp {
    wwp_arena *a;
    const char *s;
    size_t len, pos;
    unsigned depth, max_depth;
    ww_status st;
    char *err;
    size_t errlen;
} jp;

static void jp_fail(jp *p, ww_status st, const char *what)
{
    if (p->st != WW_OK)
        return;
    p->st = st;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%zu:%zu: %s", line, col, what);
}

static void jp_ws(jp *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads 4 hex digits at s; -1 on error. */
static long hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Decodes a JSON string body (after the opening quote). Shared with the Rego
 * lexer through wwp_json_unescape's contract: stops at the closing quote. */
static wwp_val *jp_string(jp *p)
{
    size_t start = ++p->pos; /* skip '"' */
    bool plain = true, ascii = true;
    size_t i = start;
    while (i < p->len && p->s[i] != '"') {
        unsigned char c = (unsigned char)p->s[i];
        ascii &= c < 0x80;
        if (c == '\\') {
            plain = false;
            i += 2;
            continue;
        }
        if (c < 0x20) {
            p->pos = i;
            jp_fail(p, WW_E_FORMAT, "control character in string");
            return NULL;
        }
        i++;
    }
    if (i >= p->len) {
        jp_fail(p, WW_E_FORMAT, "unterminated string");
        return NULL;
    }
    size_t end = i;
    if (!ascii && !wwp_utf8_valid(p->s + start, end - start)) {
        jp_fail(p, WW_E_FORMAT, "invalid UTF-8 in string");
        return NULL;
    }
    p->pos = end + 1;
    if (plain)
        return wwp_str(p->a, p->s + start, end - start);
    char *buf = wwp_alloc(p->a, end - start + 1);
    if (!buf)
        return NULL;
    size_t w = 0;
    for (size_t r = start; r < end;) {
        char c = p->s[r];
        if (c != '\\') {
            buf[w++] = c;
            r++;
            continue;
        }
        char e = p->s[r + 1];
        r += 2;
        switch (e) {
        case '"': buf[w++] = '"'; break;
        case '\\': buf[w++] = '\\'; break;
        case '/': buf[w++] = '/'; break;
        case 'b': buf[w++] = '\b'; break;
        case 'f': buf[w++] = '\f'; break;
        case 'n': buf[w++] = '\n'; break;
        case 'r': buf[w++] = '\r'; break;
        case 't': buf[w++] = '\t'; break;
        case 'u': {
            long cp = r + 4 <= end ? hex4(p->s + r) : -1;
            r += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && r + 6 <= end && p->s[r] == '\\' &&
                p->s[r + 1] == 'u') {
                long lo = hex4(p->s + r + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r += 6;
                }
            }
            size_t n = cp < 0 ? 0 : wwp_utf8_put((uint32_t)cp, buf + w);
            if (n == 0) {
                p->pos = r;
                jp_fail(p, WW_E_FORMAT, "invalid \\u escape");
                return NULL;
            }
            w += n;
            break;
        }
        default:
            p->pos = r - 1;
            jp_fail(p, WW_E_FORMAT, "invalid escape in string");
            return NULL;
        }
    }
    return wwp_str_nocopy(p->a, buf, w);
}

static wwp_val *jp_number(jp *p)
{
    size_t start = p->pos, i = p->pos;
    bool is_int = true;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') {
        jp_fail(p, WW_E_FORMAT, "invalid number");
        return NULL;
    }
    if (p->s[i] == '0' && i + 1 < p->len && p->s[i + 1] >= '0' && p->s[i + 1] <= '9') {
        jp_fail(p, WW_E_FORMAT, "leading zero in number");
        return NULL;
    }
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    if (i < p->len && p->s[i] == '.') {
        is_int = false;
        i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d) {
            jp_fail(p, WW_E_FORMAT, "invalid number");
            return NULL;
        }
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        is_int = false;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d) {
            jp_fail(p, WW_E_FORMAT, "invalid number");
            return NULL;
        }
    }
    p->pos = i;
    char tmp[64];
    size_t n = i - start;
    if (is_int && n < 19) {
        int64_t v = 0;
        size_t k = start;
        bool neg = p->s[k] == '-';
        if (neg)
            k++;
        for (; k < i; k++)
            v = v * 10 + (p->s[k] - '0');
        return wwp_int(p->a, neg ? -v : v);
    }
    if (n >= sizeof(tmp)) {
        /* Very long literal: let strtod see a bounded copy of the arena text. */
        char *c = wwp_strndup(p->a, p->s + start, n);
        return c ? wwp_num(p->a, strtod(c, NULL)) : NULL;
    }
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    if (is_int) {
        char *endp;
        long long ll = strtoll(tmp, &endp, 10);
        if (ll != LLONG_MAX && ll != LLONG_MIN)
            return wwp_int(p->a, ll);
    }
    return wwp_num(p->a, strtod(tmp, NULL));
}

static wwp_val *jp_value(jp *p);

static wwp_val *jp_container(jp *p, bool obj)
{
    if (++p->depth > p->max_depth) {
        jp_fail(p, WW_E_LIMIT, "JSON nested too deeply");
        return NULL;
    }
    p->pos++;
    wwp_vec keys = {0}, vals = {0};
    jp_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
        p->pos++;
    } else {
        for (;;) {
            jp_ws(p);
            wwp_val *k = NULL;
            if (obj) {
                if (p->pos >= p->len || p->s[p->pos] != '"') {
                    jp_fail(p, WW_E_FORMAT, "expected string key");
                    return NULL;
                }
                k = jp_string(p);
                if (!k)
                    return NULL;
                jp_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') {
                    jp_fail(p, WW_E_FORMAT, "expected ':'");
                    return NULL;
                }
                p->pos++;
            }
            wwp_val *v = jp_value(p);
            if (!v)
                return NULL;
            if ((obj && !wwp_vec_push(p->a, &keys, k)) || !wwp_vec_push(p->a, &vals, v)) {
                jp_fail(p, p->a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM, "out of memory");
                return NULL;
            }
            jp_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
                p->pos++;
                break;
            }
            jp_fail(p, WW_E_FORMAT, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            return NULL;
        }
    }
    p->depth--;
    if (obj)
        return wwp_obj(p->a, keys.v, vals.v, vals.n, true, NULL);
    return wwp_arr(p->a, vals.v, vals.n);
}

static wwp_val *jp_value(jp *p)
{
    jp_ws(p);
    if (p->pos >= p->len) {
        jp_fail(p, WW_E_FORMAT, "unexpected end of JSON");
        return NULL;
    }
    char c = p->s[p->pos];
    const char *word = NULL;
    wwp_val *v = NULL;
    switch (c) {
    case '{':
        return jp_container(p, true);
    case '[':
        return jp_container(p, false);
    case '"':
        return jp_string(p);
    case 't': word = "true"; v = &wwp_v_true; break;
    case 'f': word = "false"; v = &wwp_v_false; break;
    case 'n': word = "null"; v = &wwp_v_null; break;
    default:
        return jp_number(p);
    }
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        jp_fail(p, WW_E_FORMAT, "invalid literal");
        return NULL;
    }
    p->pos += n;
    return v;
}

ww_status wwp_from_json(wwp_arena *a, const char *text, size_t len, unsigned max_depth,
                        wwp_val **out, char *err, size_t errlen)
{
    jp p = {a, text, len, 0, 0, max_depth, WW_OK, err, errlen};
    if (err && errlen)
        err[0] = '\0';
    wwp_val *v = jp_value(&p);
    if (v) {
        jp_ws(&p);
        if (p.pos != p.len) {
            jp_fail(&p, WW_E_FORMAT, "trailing characters after JSON value");
            v = NULL;
        }
    }
    if (!v && p.st == WW_OK)
        jp_fail(&p, a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM, "out of memory");
    *out = v;
    return v ? WW_OK : p.st;
}
