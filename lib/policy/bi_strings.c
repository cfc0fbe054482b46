/* String builtins and sprintf (Go fmt verbs, as OPA implements sprintf). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "policy/builtins.h"

#define MAX_STR_OUT (64u << 20) /* one builtin's string result */

/* Decode one UTF-8 code point at s[i] (text was validated on the way in). */
static uint32_t u8next(const char *s, size_t len, size_t *i)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[*i];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (*i + n > len)
        n = len - *i;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (p[*i + k] & 0x3F);
    *i += n;
    return cp;
}

static wwp_val *buf_val(wwp_ev *e, wwi_buf *b)
{
    wwp_val *v = wwp_str(e->a, b->data ? b->data : "", b->len);
    wwi_buf_free(b);
    return v;
}

static int buf_fail(wwp_ev *e, wwi_buf *b, ww_status st)
{
    wwi_buf_free(b);
    if (st == WW_E_LIMIT)
        return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                           "string result larger than %u bytes", MAX_STR_OUT);
    return wwp_ev_oom(e);
}

static bool has_prefix(const wwp_val *s, const wwp_val *p)
{
    return p->len <= s->len && memcmp(s->s, p->s, p->len) == 0;
}
static bool has_suffix(const wwp_val *s, const wwp_val *p)
{
    return p->len <= s->len && memcmp(s->s + s->len - p->len, p->s, p->len) == 0;
}
static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return h;
    if (nl > hl)
        return NULL;
    return memmem(h, hl, n, nl);
}

int bi_startswith(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "startswith", "operands must be strings");
    *out = wwp_bool(has_prefix(a[0], a[1]));
    return 0;
}
int bi_endswith(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "endswith", "operands must be strings");
    *out = wwp_bool(has_suffix(a[0], a[1]));
    return 0;
}
int bi_contains(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "contains", "operands must be strings");
    *out = wwp_bool(find(a[0]->s, a[0]->len, a[1]->s, a[1]->len) != NULL);
    return 0;
}

/* ASCII case mapping: what model file names and Cloudsmith fields need. */
static int casemap(wwp_ev *e, wwp_val *x, bool up, wwp_val **out)
{
    NEED(is_str(x), up ? "upper" : "lower", "operand must be a string");
    char *s = wwp_strndup(e->a, x->s, x->len);
    if (!s)
        return wwp_ev_oom(e);
    for (size_t i = 0; i < x->len; i++) {
        char c = s[i];
        if (up && c >= 'a' && c <= 'z')
            s[i] = (char)(c - 32);
        else if (!up && c >= 'A' && c <= 'Z')
            s[i] = (char)(c + 32);
    }
    SET_OUT(wwp_str_nocopy(e->a, s, x->len));
}
int bi_lower(wwp_ev *e, wwp_val **a, wwp_val **out) { return casemap(e, a[0], false, out); }
int bi_upper(wwp_ev *e, wwp_val **a, wwp_val **out) { return casemap(e, a[0], true, out); }

int bi_split(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "split", "operands must be strings");
    const wwp_val *s = a[0], *d = a[1];
    wwp_vec parts = {0};
    size_t i = 0;
    if (d->len == 0) {
        while (i < s->len) {
            size_t st = i;
            u8next(s->s, s->len, &i);
            wwp_val *p = wwp_str_nocopy(e->a, s->s + st, i - st);
            if (!p || !wwp_vec_push(e->a, &parts, p))
                return wwp_ev_oom(e);
        }
    } else {
        for (;;) {
            const char *f = find(s->s + i, s->len - i, d->s, d->len);
            size_t end = f ? (size_t)(f - s->s) : s->len;
            if (!wwp_step(e))
                return K_ERR;
            wwp_val *p = wwp_str_nocopy(e->a, s->s + i, end - i);
            if (!p || !wwp_vec_push(e->a, &parts, p))
                return wwp_ev_oom(e);
            if (!f)
                break;
            i = end + d->len;
        }
    }
    SET_OUT(wwp_arr(e->a, parts.v, parts.n));
}

int bi_concat(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]), "concat", "operand 1 must be a string");
    NEED(a[1]->kind == WWP_ARR || a[1]->kind == WWP_SET, "concat", "operand 2 must be an array or set");
    wwi_buf b;
    wwi_buf_init(&b, MAX_STR_OUT);
    ww_status st = wwi_buf_add(&b, "", 0);
    for (size_t i = 0; i < a[1]->len && st == WW_OK; i++) {
        wwp_val *x = a[1]->items[i];
        if (!is_str(x)) {
            wwi_buf_free(&b);
            return wwp_bi_fail(e, "eval_type_error", "concat: elements must be strings");
        }
        if (i)
            st = wwi_buf_add(&b, a[0]->s, a[0]->len);
        if (st == WW_OK)
            st = wwi_buf_add(&b, x->s, x->len);
    }
    if (st != WW_OK)
        return buf_fail(e, &b, st);
    SET_OUT(buf_val(e, &b));
}

static bool in_cutset(uint32_t cp, const wwp_val *cut)
{
    for (size_t i = 0; i < cut->len;)
        if (u8next(cut->s, cut->len, &i) == cp)
            return true;
    return false;
}

static int trim_impl(wwp_ev *e, wwp_val **a, wwp_val **out, bool left, bool right,
                     const char *fname)
{
    NEED(is_str(a[0]) && is_str(a[1]), fname, "operands must be strings");
    const wwp_val *s = a[0];
    size_t lo = 0, hi = s->len;
    while (left && lo < hi) {
        size_t j = lo;
        if (!in_cutset(u8next(s->s, s->len, &j), a[1]))
            break;
        lo = j;
    }
    while (right && hi > lo) {
        size_t st = hi - 1;
        while (st > lo && ((unsigned char)s->s[st] & 0xC0) == 0x80)
            st--;
        size_t j = st;
        if (!in_cutset(u8next(s->s, s->len, &j), a[1]))
            break;
        hi = st;
    }
    SET_OUT(wwp_str_nocopy(e->a, s->s + lo, hi - lo));
}
int bi_trim(wwp_ev *e, wwp_val **a, wwp_val **out) { return trim_impl(e, a, out, true, true, "trim"); }
int bi_trim_left(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return trim_impl(e, a, out, true, false, "trim_left");
}
int bi_trim_right(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return trim_impl(e, a, out, false, true, "trim_right");
}
int bi_trim_space(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    static wwp_val ws = {.kind = WWP_STR, .s = " \t\n\r\v\f", .len = 6};
    wwp_val *args[2] = {a[0], &ws};
    return trim_impl(e, args, out, true, true, "trim_space");
}
int bi_trim_prefix(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "trim_prefix", "operands must be strings");
    if (!has_prefix(a[0], a[1])) {
        *out = a[0];
        return 0;
    }
    SET_OUT(wwp_str_nocopy(e->a, a[0]->s + a[1]->len, a[0]->len - a[1]->len));
}
int bi_trim_suffix(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "trim_suffix", "operands must be strings");
    if (!has_suffix(a[0], a[1])) {
        *out = a[0];
        return 0;
    }
    SET_OUT(wwp_str_nocopy(e->a, a[0]->s, a[0]->len - a[1]->len));
}

int bi_replace(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]) && is_str(a[2]), "replace", "operands must be strings");
    const wwp_val *s = a[0], *o = a[1], *n = a[2];
    wwi_buf b;
    wwi_buf_init(&b, MAX_STR_OUT);
    ww_status st = wwi_buf_add(&b, "", 0);
    size_t i = 0;
    if (o->len == 0) {
        /* Go: the new text goes before every code point and at the end. */
        while (st == WW_OK) {
            st = wwi_buf_add(&b, n->s, n->len);
            if (i >= s->len || st != WW_OK)
                break;
            size_t j = i;
            u8next(s->s, s->len, &j);
            st = wwi_buf_add(&b, s->s + i, j - i);
            i = j;
        }
    } else {
        while (st == WW_OK) {
            const char *f = find(s->s + i, s->len - i, o->s, o->len);
            size_t end = f ? (size_t)(f - s->s) : s->len;
            st = wwi_buf_add(&b, s->s + i, end - i);
            if (!f || st != WW_OK)
                break;
            st = wwi_buf_add(&b, n->s, n->len);
            i = end + o->len;
        }
    }
    if (st != WW_OK)
        return buf_fail(e, &b, st);
    SET_OUT(buf_val(e, &b));
}

int bi_replace_n(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    wwp_val *pat = a[0], *s = a[1];
    NEED(pat->kind == WWP_OBJ && is_str(s), "strings.replace_n", "operands must be an object and a string");
    for (size_t k = 0; k < pat->len; k++)
        NEED(is_str(pat->items[k]) && is_str(pat->vals[k]), "strings.replace_n",
             "patterns must map strings to strings");
    wwi_buf b;
    wwi_buf_init(&b, MAX_STR_OUT);
    ww_status st = wwi_buf_add(&b, "", 0);
    for (size_t i = 0; i < s->len && st == WW_OK;) {
        bool hit = false;
        for (size_t k = 0; k < pat->len && !hit; k++) {
            wwp_val *p = pat->items[k];
            if (p->len && p->len <= s->len - i && memcmp(s->s + i, p->s, p->len) == 0) {
                st = wwi_buf_add(&b, pat->vals[k]->s, pat->vals[k]->len);
                i += p->len;
                hit = true;
            }
        }
        if (!hit)
            st = wwi_buf_addc(&b, s->s[i++]);
    }
    if (st != WW_OK)
        return buf_fail(e, &b, st);
    SET_OUT(buf_val(e, &b));
}

int bi_indexof(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "indexof", "operands must be strings");
    const char *f = find(a[0]->s, a[0]->len, a[1]->s, a[1]->len);
    int64_t idx = f ? (int64_t)wwp_utf8_count(a[0]->s, (size_t)(f - a[0]->s)) : -1;
    SET_OUT(wwp_int(e->a, idx));
}

int bi_substring(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_int_val(a[1]) && is_int_val(a[2]), "substring",
         "operands must be a string and two integers");
    if (a[1]->i < 0)
        return wwp_bi_fail(e, "eval_builtin_error", "substring: negative offset");
    const wwp_val *s = a[0];
    size_t i = 0;
    for (int64_t k = 0; k < a[1]->i && i < s->len; k++)
        u8next(s->s, s->len, &i);
    size_t j = i;
    if (a[2]->i < 0) {
        j = s->len;
    } else {
        for (int64_t k = 0; k < a[2]->i && j < s->len; k++)
            u8next(s->s, s->len, &j);
    }
    SET_OUT(wwp_str_nocopy(e->a, s->s + i, j - i));
}

static int any_match(wwp_ev *e, wwp_val **a, wwp_val **out, bool prefix, const char *fname)
{
    wwp_val *one[2][1];
    wwp_val **lists[2];
    size_t ns[2];
    for (int k = 0; k < 2; k++) {
        wwp_val *x = a[k];
        if (is_str(x)) {
            one[k][0] = x;
            lists[k] = one[k];
            ns[k] = 1;
        } else {
            NEED(x->kind == WWP_ARR || x->kind == WWP_SET, fname,
                 "operands must be strings, arrays or sets of strings");
            lists[k] = x->items;
            ns[k] = x->len;
        }
        for (size_t i = 0; i < ns[k]; i++)
            NEED(is_str(lists[k][i]), fname, "elements must be strings");
    }
    for (size_t i = 0; i < ns[0]; i++)
        for (size_t j = 0; j < ns[1]; j++)
            if (prefix ? has_prefix(lists[0][i], lists[1][j]) : has_suffix(lists[0][i], lists[1][j])) {
                *out = &wwp_v_true;
                return 0;
            }
    *out = &wwp_v_false;
    return 0;
}
int bi_any_prefix_match(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return any_match(e, a, out, true, "strings.any_prefix_match");
}
int bi_any_suffix_match(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    return any_match(e, a, out, false, "strings.any_suffix_match");
}

int bi_format_int(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_num(a[0]) && is_int_val(a[1]), "format_int", "operands must be numbers");
    int64_t base = a[1]->i;
    if (base != 2 && base != 8 && base != 10 && base != 16)
        return wwp_bi_fail(e, "eval_builtin_error", "format_int: base must be 2, 8, 10 or 16");
    double d = wwp_numd(a[0]);
    int64_t v = a[0]->is_int ? a[0]->i : (int64_t)trunc(d);
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char tmp[80];
    size_t n = sizeof(tmp);
    tmp[--n] = '\0';
    do {
        tmp[--n] = "0123456789abcdef"[u % (uint64_t)base];
        u /= (uint64_t)base;
    } while (u);
    if (neg)
        tmp[--n] = '-';
    SET_OUT(wwp_str(e->a, tmp + n, strlen(tmp + n)));
}

/* ---- sprintf ----------------------------------------------------------------- */

static ww_status pad(wwi_buf *b, const char *s, size_t len, int width, bool left, bool zero)
{
    size_t cps = wwp_utf8_count(s, len);
    ww_status st = WW_OK;
    size_t fill = width > 0 && (size_t)width > cps ? (size_t)width - cps : 0;
    if (!left)
        for (size_t i = 0; i < fill && st == WW_OK; i++)
            st = wwi_buf_addc(b, zero ? '0' : ' ');
    if (st == WW_OK)
        st = wwi_buf_add(b, s, len);
    if (left)
        for (size_t i = 0; i < fill && st == WW_OK; i++)
            st = wwi_buf_addc(b, ' ');
    return st;
}

/* %v / %s text of a value: strings raw, everything else in Rego syntax. */
static ww_status val_text(const wwp_val *v, wwi_buf *b)
{
    if (v->kind == WWP_STR)
        return wwi_buf_add(b, v->s, v->len);
    if (v->kind == WWP_NUM)
        return wwp_num_text(v, b);
    return wwp_to_rego(v, b);
}

int bi_sprintf(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]), "sprintf", "operand 1 must be a string");
    NEED(a[1]->kind == WWP_ARR, "sprintf", "operand 2 must be an array");
    const wwp_val *f = a[0], *args = a[1];
    wwi_buf b, tmp;
    wwi_buf_init(&b, MAX_STR_OUT);
    wwi_buf_init(&tmp, MAX_STR_OUT);
    ww_status st = wwi_buf_add(&b, "", 0);
    size_t argi = 0;
    for (size_t i = 0; i < f->len && st == WW_OK;) {
        char c = f->s[i];
        if (c != '%') {
            st = wwi_buf_addc(&b, c);
            i++;
            continue;
        }
        size_t start = i++;
        bool left = false, zero = false, plus = false, space = false, sharp = false;
        for (; i < f->len; i++) {
            char fl = f->s[i];
            if (fl == '-')
                left = true;
            else if (fl == '0')
                zero = true;
            else if (fl == '+')
                plus = true;
            else if (fl == ' ')
                space = true;
            else if (fl == '#')
                sharp = true;
            else
                break;
        }
        int width = -1, prec = -1;
        while (i < f->len && f->s[i] >= '0' && f->s[i] <= '9' && width < 10000)
            width = (width < 0 ? 0 : width * 10) + (f->s[i++] - '0');
        if (i < f->len && f->s[i] == '.') {
            i++;
            prec = 0;
            while (i < f->len && f->s[i] >= '0' && f->s[i] <= '9' && prec < 10000)
                prec = prec * 10 + (f->s[i++] - '0');
        }
        if (i >= f->len) {
            st = wwi_buf_adds(&b, "%!(NOVERB)");
            break;
        }
        char verb = f->s[i++];
        if (verb == '%') {
            st = wwi_buf_addc(&b, '%');
            continue;
        }
        if (argi >= args->len) {
            st = wwi_buf_printf(&b, "%%!%c(MISSING)", verb);
            continue;
        }
        const wwp_val *v = args->items[argi++];
        wwi_buf_reset(&tmp);
        st = wwi_buf_add(&tmp, "", 0);
        char cfmt[32];
        switch (verb) {
        case 's':
        case 'v':
            st = val_text(v, &tmp);
            if (st == WW_OK && prec >= 0 && v->kind == WWP_STR) {
                size_t k = 0;
                for (int n = 0; n < prec && k < tmp.len; n++)
                    u8next(tmp.data, tmp.len, &k);
                tmp.len = k;
            }
            if (st == WW_OK)
                st = pad(&b, tmp.data, tmp.len, width, left, false);
            continue;
        case 'q':
            st = v->kind == WWP_STR ? wwp_to_json(v, &tmp) : val_text(v, &tmp);
            if (st == WW_OK)
                st = pad(&b, tmp.data, tmp.len, width, left, false);
            continue;
        case 't':
            st = val_text(v, &tmp);
            if (st == WW_OK)
                st = pad(&b, tmp.data, tmp.len, width, left, false);
            continue;
        case 'd':
        case 'x':
        case 'X':
        case 'o':
        case 'b':
            if (v->kind == WWP_STR && (verb == 'x' || verb == 'X')) {
                for (size_t k = 0; k < v->len && st == WW_OK; k++)
                    st = wwi_buf_printf(&tmp, verb == 'x' ? "%02x" : "%02X",
                                        (unsigned char)v->s[k]);
            } else if (v->kind == WWP_NUM && v->is_int && verb != 'b') {
                snprintf(cfmt, sizeof(cfmt), "%%%s%s%s%s%s%s%s", left ? "-" : "",
                         zero && !left ? "0" : "", plus ? "+" : "", space ? " " : "",
                         sharp ? "#" : "", width >= 0 ? "*" : "",
                         verb == 'd' ? "lld" : verb == 'x' ? "llx" : verb == 'X' ? "llX" : "llo");
                long long iv = v->i;
                bool neg = iv < 0 && verb != 'd';
                unsigned long long uv = neg ? 0ull - (unsigned long long)iv : (unsigned long long)iv;
                if (neg)
                    st = wwi_buf_addc(&b, '-');
                if (st == WW_OK) {
                    if (verb == 'd')
                        st = width >= 0 ? wwi_buf_printf(&b, cfmt, width, iv)
                                        : wwi_buf_printf(&b, cfmt, iv);
                    else
                        st = width >= 0 ? wwi_buf_printf(&b, cfmt, width, uv)
                                        : wwi_buf_printf(&b, cfmt, uv);
                }
                continue;
            } else if (v->kind == WWP_NUM && v->is_int) {
                uint64_t u = v->i < 0 ? 0ull - (uint64_t)v->i : (uint64_t)v->i;
                char bits[70];
                size_t n = sizeof(bits);
                bits[--n] = '\0';
                do {
                    bits[--n] = (char)('0' + (u & 1));
                    u >>= 1;
                } while (u);
                if (v->i < 0)
                    bits[--n] = '-';
                st = wwi_buf_adds(&tmp, bits + n);
            } else {
                st = wwi_buf_printf(&tmp, "%%!%c(", verb);
                if (st == WW_OK)
                    st = val_text(v, &tmp);
                if (st == WW_OK)
                    st = wwi_buf_addc(&tmp, ')');
            }
            if (st == WW_OK)
                st = pad(&b, tmp.data, tmp.len, width, left, zero);
            continue;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
            if (v->kind == WWP_NUM) {
                snprintf(cfmt, sizeof(cfmt), "%%%s%s%s%s%s%s%s%c", left ? "-" : "",
                         zero && !left ? "0" : "", plus ? "+" : "", space ? " " : "",
                         sharp ? "#" : "", width >= 0 ? "*" : "", prec >= 0 ? ".*" : "", verb);
                double d = wwp_numd(v);
                if (width >= 0 && prec >= 0)
                    st = wwi_buf_printf(&b, cfmt, width, prec, d);
                else if (width >= 0)
                    st = wwi_buf_printf(&b, cfmt, width, d);
                else if (prec >= 0)
                    st = wwi_buf_printf(&b, cfmt, prec, d);
                else
                    st = wwi_buf_printf(&b, cfmt, d);
                continue;
            }
            __attribute__((fallthrough));
        default:
            st = wwi_buf_printf(&b, "%%!%c(", verb);
            if (st == WW_OK)
                st = val_text(v, &b);
            if (st == WW_OK)
                st = wwi_buf_addc(&b, ')');
            (void)start;
            continue;
        }
    }
    if (st == WW_OK && argi < args->len) {
        st = wwi_buf_adds(&b, "%!(EXTRA ");
        for (size_t k = argi; k < args->len && st == WW_OK; k++) {
            if (k > argi)
                st = wwi_buf_adds(&b, ", ");
            if (st == WW_OK)
                st = val_text(args->items[k], &b);
        }
        if (st == WW_OK)
            st = wwi_buf_addc(&b, ')');
    }
    wwi_buf_free(&tmp);
    if (st != WW_OK)
        return buf_fail(e, &b, st);
    SET_OUT(buf_val(e, &b));
}
