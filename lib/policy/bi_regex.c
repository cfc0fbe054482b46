/* regex.* builtins via PCRE2 with match and depth limits (subjects come from
 * scanned files), a per-evaluation cache of compiled patterns, and glob.match. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>
#include "policy/builtins.h"

#define RX_CACHE 32
#define RX_MATCH_LIMIT 1000000u
#define RX_DEPTH_LIMIT 10000u
#define RX_MAX_PATTERN 65536u

struct wwp_rx {
    const char *pat;
    size_t len;
    pcre2_code *code;
};

void wwp_ev_cleanup(wwp_ev *e)
{
    for (size_t i = 0; i < e->nrx; i++)
        pcre2_code_free(e->rx[i].code);
    e->nrx = 0;
}

/* Compiled pattern, or NULL (with *bad set) when the pattern is invalid. */
static pcre2_code *rx_get(wwp_ev *e, const wwp_val *p, bool *bad)
{
    *bad = false;
    for (size_t i = 0; i < e->nrx; i++)
        if (e->rx[i].len == p->len && memcmp(e->rx[i].pat, p->s, p->len) == 0)
            return e->rx[i].code;
    if (p->len > RX_MAX_PATTERN) {
        *bad = true;
        return NULL;
    }
    int errc;
    PCRE2_SIZE erro;
    /* RE2 has no backreferences or lookaround; PCRE2 accepts more, which is
     * harmless for matching but documented in docs/policy/builtins.md. */
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)p->s, p->len, PCRE2_UTF | PCRE2_NO_UTF_CHECK, &errc,
                                  &erro, NULL);
    if (!c) {
        *bad = true;
        return NULL;
    }
    if (!e->rx) {
        e->rx = wwp_alloc_array(e->a, RX_CACHE, sizeof(*e->rx));
        if (!e->rx) {
            pcre2_code_free(c);
            return NULL;
        }
    }
    if (e->nrx == RX_CACHE) {
        pcre2_code_free(e->rx[0].code);
        memmove(e->rx, e->rx + 1, (RX_CACHE - 1) * sizeof(*e->rx));
        e->nrx--;
    }
    e->rx[e->nrx++] = (struct wwp_rx){p->s, p->len, c};
    return c;
}

/* 1 match (ovec filled), 0 no match, -1 error (limit or resource). */
static int rx_exec(wwp_ev *e, pcre2_code *c, const wwp_val *s, size_t off, pcre2_match_data *md)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (!mc)
        return -1;
    pcre2_set_match_limit(mc, RX_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, RX_DEPTH_LIMIT);
    int rc = pcre2_match(c, (PCRE2_SPTR)s->s, s->len, off, PCRE2_NO_UTF_CHECK, md, mc);
    pcre2_match_context_free(mc);
    if (!wwp_step(e))
        return -2;
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static int rx_limit(wwp_ev *e)
{
    return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                       "regex: match limit exceeded (pattern too expensive for this input)");
}

int bi_regex_match(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "regex.match", "operands must be strings");
    bool bad;
    pcre2_code *c = rx_get(e, a[0], &bad);
    if (!c)
        return bad ? wwp_bi_fail(e, "eval_builtin_error", "regex.match: invalid pattern")
                   : wwp_ev_oom(e);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
    if (!md)
        return wwp_ev_oom(e);
    int r = rx_exec(e, c, a[1], 0, md);
    pcre2_match_data_free(md);
    if (r == -2)
        return K_ERR;
    if (r < 0)
        return rx_limit(e);
    *out = wwp_bool(r == 1);
    return 0;
}

int bi_regex_is_valid(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    if (!is_str(a[0])) {
        *out = &wwp_v_false;
        return 0;
    }
    bool bad;
    pcre2_code *c = rx_get(e, a[0], &bad);
    if (!c && !bad)
        return wwp_ev_oom(e);
    *out = wwp_bool(c != NULL);
    return 0;
}

/* All matches (up to n; n < 0: all): start/end offsets into vec. */
static int find_all(wwp_ev *e, const wwp_val *pat, const wwp_val *s, int64_t n, wwp_vec *starts,
                    const char *fname)
{
    bool bad;
    pcre2_code *c = rx_get(e, pat, &bad);
    if (!c)
        return bad ? wwp_bi_fail(e, "eval_builtin_error", "%s: invalid pattern", fname)
                   : wwp_ev_oom(e);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
    if (!md)
        return wwp_ev_oom(e);
    size_t off = 0;
    int rc = 0;
    while (off <= s->len && (n < 0 || (int64_t)starts->n / 2 < n)) {
        int r = rx_exec(e, c, s, off, md);
        if (r == -2) {
            rc = K_ERR;
            break;
        }
        if (r < 0) {
            rc = rx_limit(e);
            break;
        }
        if (r == 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        wwp_val *b = wwp_int(e->a, (int64_t)ov[0]), *en = wwp_int(e->a, (int64_t)ov[1]);
        if (!b || !en || !wwp_vec_push(e->a, starts, b) || !wwp_vec_push(e->a, starts, en)) {
            rc = wwp_ev_oom(e);
            break;
        }
        off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        /* keep off on a code point boundary */
        while (off < s->len && ((unsigned char)s->s[off] & 0xC0) == 0x80)
            off++;
    }
    pcre2_match_data_free(md);
    return rc;
}

int bi_regex_find_n(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]) && is_int_val(a[2]), "regex.find_n",
         "operands must be two strings and a number");
    wwp_vec se = {0};
    int rc = find_all(e, a[0], a[1], a[2]->i, &se, "regex.find_n");
    if (rc != 0 || e->st != WW_OK)
        return rc < 0 ? rc : 0;
    if (e->strict == false && se.n == 0 && e->st != WW_OK)
        return 0;
    wwp_val **items = wwp_alloc_array(e->a, se.n / 2 + 1, sizeof(*items));
    if (!items)
        return wwp_ev_oom(e);
    for (size_t i = 0; i < se.n / 2; i++)
        if (!(items[i] = wwp_str_nocopy(e->a, a[1]->s + se.v[2 * i]->i,
                                        (size_t)(se.v[2 * i + 1]->i - se.v[2 * i]->i))))
            return wwp_ev_oom(e);
    SET_OUT(wwp_arr(e->a, items, se.n / 2));
}

int bi_regex_split(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[1]), "regex.split", "operands must be strings");
    wwp_vec se = {0};
    int rc = find_all(e, a[0], a[1], -1, &se, "regex.split");
    if (rc != 0 || e->st != WW_OK)
        return rc < 0 ? rc : 0;
    wwp_vec parts = {0};
    size_t prev = 0;
    for (size_t i = 0; i + 1 < se.n; i += 2) {
        size_t b = (size_t)se.v[i]->i, en = (size_t)se.v[i + 1]->i;
        wwp_val *p = wwp_str_nocopy(e->a, a[1]->s + prev, b - prev);
        if (!p || !wwp_vec_push(e->a, &parts, p))
            return wwp_ev_oom(e);
        prev = en;
    }
    wwp_val *p = wwp_str_nocopy(e->a, a[1]->s + prev, a[1]->len - prev);
    if (!p || !wwp_vec_push(e->a, &parts, p))
        return wwp_ev_oom(e);
    SET_OUT(wwp_arr(e->a, parts.v, parts.n));
}

/* ---- glob.match --------------------------------------------------------------- */

typedef struct globc {
    wwp_ev *e;
    const wwp_val *delims;
    bool failed;
} globc;

static bool is_delim(globc *g, const char *s, size_t left, size_t *dl)
{
    for (size_t i = 0; i < g->delims->len; i++) {
        const wwp_val *d = g->delims->items[i];
        if (d->len && d->len <= left && memcmp(s, d->s, d->len) == 0) {
            *dl = d->len;
            return true;
        }
    }
    return false;
}

/* Backtracking glob; every call is charged to the step budget, which bounds
 * the exponential cases. */
static bool glob(globc *g, const char *p, size_t pl, const char *s, size_t sl, unsigned depth)
{
    if (g->failed || depth > 200 || !wwp_step(g->e)) {
        g->failed = true;
        return false;
    }
    while (pl) {
        char c = *p;
        if (c == '*') {
            bool dbl = pl > 1 && p[1] == '*';
            size_t skip = dbl ? 2 : 1;
            for (size_t k = 0;; k++) {
                if (glob(g, p + skip, pl - skip, s + k, sl - k, depth + 1))
                    return true;
                size_t dl;
                if (k >= sl || g->failed || (!dbl && is_delim(g, s + k, sl - k, &dl)))
                    return false;
            }
        }
        if (c == '{') {
            size_t lvl = 0, end = 0;
            for (size_t i = 0; i < pl; i++) {
                if (p[i] == '{')
                    lvl++;
                else if (p[i] == '}' && --lvl == 0) {
                    end = i;
                    break;
                }
            }
            if (!end)
                goto literal;
            size_t st = 1;
            lvl = 0;
            for (size_t i = 1; i <= end; i++) {
                if (p[i] == '{')
                    lvl++;
                else if (p[i] == '}' && lvl)
                    lvl--;
                else if ((p[i] == ',' && lvl == 0) || i == end) {
                    size_t al = i - st, rl = pl - end - 1;
                    char *np = wwp_alloc(g->e->a, al + rl + 1);
                    if (!np) {
                        g->failed = true;
                        return false;
                    }
                    memcpy(np, p + st, al);
                    memcpy(np + al, p + end + 1, rl);
                    if (glob(g, np, al + rl, s, sl, depth + 1))
                        return true;
                    st = i + 1;
                }
            }
            return false;
        }
        if (c == '?') {
            size_t dl;
            if (!sl || is_delim(g, s, sl, &dl))
                return false;
            size_t n = 1;
            while (n < sl && ((unsigned char)s[n] & 0xC0) == 0x80)
                n++;
            p++, pl--, s += n, sl -= n;
            continue;
        }
        if (c == '[') {
            size_t i = 1;
            bool neg = i < pl && (p[i] == '!' || p[i] == '^');
            if (neg)
                i++;
            bool hit = false;
            size_t close = 0;
            for (size_t j = i; j < pl; j++)
                if (p[j] == ']' && j > i) {
                    close = j;
                    break;
                }
            if (!close || !sl)
                return false;
            for (size_t j = i; j < close; j++) {
                if (j + 2 < close && p[j + 1] == '-') {
                    hit |= *s >= p[j] && *s <= p[j + 2];
                    j += 2;
                } else {
                    hit |= *s == p[j];
                }
            }
            if (hit == neg)
                return false;
            p += close + 1, pl -= close + 1, s++, sl--;
            continue;
        }
    literal:
        if (c == '\\' && pl > 1)
            p++, pl--, c = *p;
        if (!sl || *s != c)
            return false;
        p++, pl--, s++, sl--;
    }
    return sl == 0;
}

int bi_glob_match(wwp_ev *e, wwp_val **a, wwp_val **out)
{
    NEED(is_str(a[0]) && is_str(a[2]), "glob.match", "pattern and subject must be strings");
    NEED(a[1]->kind == WWP_ARR || a[1]->kind == WWP_NULL, "glob.match",
         "delimiters must be an array of strings or null");
    static wwp_val dot = {.kind = WWP_STR, .s = ".", .len = 1};
    static wwp_val *dotv[1] = {&dot};
    static wwp_val dflt = {.kind = WWP_ARR, .items = dotv, .len = 1};
    const wwp_val *d = a[1]->kind == WWP_ARR && a[1]->len ? a[1] : &dflt;
    for (size_t i = 0; i < d->len; i++)
        NEED(is_str(d->items[i]), "glob.match", "delimiters must be strings");
    globc g = {e, d, false};
    bool m = glob(&g, a[0]->s, a[0]->len, a[2]->s, a[2]->len, 0);
    if (e->st != WW_OK)
        return K_ERR;
    if (g.failed)
        return wwp_ev_fail(e, WW_E_LIMIT, "eval_limit_error", 0, 0,
                           "glob.match: pattern too expensive or nested too deeply");
    *out = wwp_bool(m);
    return 0;
}
