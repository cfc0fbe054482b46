/* Chat-template analysis: what can a Jinja template reach when a server
 * renders it? Two passes over the lexed blocks (tlex.c): the first collects
 * names the template binds itself (set/for/macro/with/import), the second
 * checks statement structure and rates every attribute, key, call and string
 * literal against tnames.h. Rating is by reach (style: the module reports,
 * the driver judges): CRITICAL for Python internals (code execution),
 * HIGH for process/file/env names and gadget-root walks, MEDIUM for
 * obfuscation and unexplained dunders. */
#include <stdio.h>
#include "formats/jinja/template.h"
#include "formats/jinja/tlex.h"
#include "formats/jinja/tnames.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define MAX_HITS 32
#define MAX_LOCALS 1024
#define MAX_STMT_DEPTH 256
#define MAX_CONCAT (1u << 20) /* literal text kept for assembled-name checks */
#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct hit {
    char name[48];
    ww_severity sev;
    uint64_t pos;
    char msg[160];
} hit;

typedef struct tctx {
    wwi_scan *s;
    const char *where;
    uint64_t base;
    unsigned flags;
    tlex lx;
    hit hits[MAX_HITS];
    size_t nhits, more;
    struct {
        size_t pos, len;
    } locals[MAX_LOCALS];
    size_t nlocals;
    char stack[MAX_STMT_DEPTH][16];
    size_t depth;
    wwi_buf concat;
} tctx;

bool wwi_template_has_blocks(const char *text, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '{' && (text[i + 1] == '{' || text[i + 1] == '%'))
            return true;
    return false;
}

static void add_hit(tctx *c, ww_severity sev, const char *name, size_t nlen, size_t pos,
                    const char *fmt, const char *a)
{
    char nm[48];
    if (nlen >= sizeof nm)
        nlen = sizeof nm - 1;
    memcpy(nm, name, nlen);
    nm[nlen] = '\0';
    for (size_t i = 0; i < c->nhits; i++) {
        if (!wwi_str_eq(c->hits[i].name, nm))
            continue;
        if (sev > c->hits[i].sev) {
            c->hits[i].sev = sev;
            snprintf(c->hits[i].msg, sizeof c->hits[i].msg, fmt, nm, a);
        }
        return;
    }
    if (c->nhits == MAX_HITS) {
        c->more++;
        /* The verdict must still see the worst severity. */
        if (sev > c->hits[MAX_HITS - 1].sev)
            c->hits[MAX_HITS - 1].sev = sev;
        return;
    }
    hit *h = &c->hits[c->nhits++];
    memcpy(h->name, nm, nlen + 1);
    h->sev = sev;
    h->pos = pos;
    snprintf(h->msg, sizeof h->msg, fmt, nm, a);
}

static const tname *find(const tname *tab, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(tab[i].name) == len && wwi_bytes_eq(tab[i].name, s, len))
            return &tab[i];
    return NULL;
}

static bool is_dunder(const char *s, size_t len)
{
    return len > 4 && s[0] == '_' && s[1] == '_' && s[len - 1] == '_' && s[len - 2] == '_';
}

/* An attribute name (after '.', in |attr(), or as a literal key when
 * key is true: keys skip the MEDIUM tier, dict keys like 'system' are normal). */
static void rate_attr(tctx *c, const char *s, size_t len, size_t pos, bool key)
{
    const tname *t = find(tn_internals, N(tn_internals), s, len);
    if (t) {
        add_hit(c, t->sev, s, len, pos,
                "reaches Python internals via '%s' (%s): runs code when rendered "
                "outside a sandbox (CVE-2024-34359)",
                t->why);
        return;
    }
    t = find(tn_attrs, N(tn_attrs), s, len);
    if (t && !(key && t->sev < WW_SEV_HIGH)) {
        add_hit(c, t->sev, s, len, pos, "names '%s' (%s)", t->why);
        return;
    }
    if (key)
        return;
    if (is_dunder(s, len))
        add_hit(c, WW_SEV_MEDIUM, s, len, pos, "accesses dunder attribute '%s'%s", "");
    else if (len > 0 && s[0] == '_')
        add_hit(c, WW_SEV_MEDIUM, s, len, pos,
                "accesses private attribute '%s'%s (blocked by Jinja's sandbox)", "");
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m > n)
        return false;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && wwi_bytes_eq(hay + i, needle, m))
            return true;
    return false;
}

/* Dunder-form internals anywhere inside text (a literal or assembled text). */
static void scan_text(tctx *c, const char *text, size_t n, size_t pos, const char *how)
{
    for (size_t k = 0; k < N(tn_internals); k++)
        if (tn_internals[k].name[0] == '_' && tn_internals[k].name[1] == '_' &&
            contains(text, n, tn_internals[k].name))
            add_hit(c, WW_SEV_CRITICAL, tn_internals[k].name, strlen(tn_internals[k].name), pos,
                    "reaches Python internals via '%s' %s", how);
}

/* '%c%c...' % (95, 95, ...): substitute the numbers the way Python would
 * and keep the result for the assembled-name check. */
static void pct_format(tctx *c, const char *v, size_t n, size_t j)
{
    const tlex *lx = &c->lx;
    if (tlex_is_op(lx, j, "("))
        j++;
    for (size_t k = 0; k < n; k++) {
        char ch = v[k];
        if (ch == '%' && k + 1 < n && v[k + 1] == 'c') {
            k++;
            while (j < lx->ntok && tlex_is_op(lx, j, ","))
                j++;
            if (j >= lx->ntok || lx->toks[j].type != TK_NUM || lx->toks[j].num > 127)
                return;
            ch = (char)lx->toks[j++].num;
        }
        ww_status st = wwi_buf_addc(&c->concat, ch);
        if (st != WW_OK)
            return;
    }
}

static void rate_string(tctx *c, size_t i)
{
    const tlex_tok *t = &c->lx.toks[i];
    const char *v = tlex_str(&c->lx, i);
    size_t n = t->dlen;
    if (t->flags & (TKF_ESC_IDENT | TKF_ESC_NAMED))
        add_hit(c, WW_SEV_MEDIUM, "escaped-literal", 15, t->pos,
                "%s: a string literal spells identifier characters with escape "
                "sequences (obfuscation)%s",
                "");
    if (contains(v, n, "%c") && tlex_is_op(&c->lx, i + 1, "%"))
        pct_format(c, v, n, i + 2);
    bool key = i > 0 && tlex_is_op(&c->lx, i - 1, "[") && tlex_is_op(&c->lx, i + 1, "]");
    bool attr_arg = i >= 3 && tlex_is_op(&c->lx, i - 1, "(") && tlex_is_name(&c->lx, i - 2, "attr");
    /* An exact name used as a key, |attr() argument or getattr() argument is an
     * attribute access in disguise. */
    if (find(tn_internals, N(tn_internals), v, n))
        rate_attr(c, v, n, t->pos, false);
    else if (key || attr_arg)
        rate_attr(c, v, n, t->pos, key && !attr_arg);
    scan_text(c, v, n, t->pos, "(named in a string literal)");
    /* A generic dunder in a literal (e.g. '__name__') is suspicious only. */
    for (size_t k = 0; k + 4 < n; k++) {
        if (v[k] != '_' || v[k + 1] != '_' || (k > 0 && v[k - 1] == '_'))
            continue;
        size_t e = k + 2;
        while (e < n && (v[e] == '_' || (v[e] >= 'a' && v[e] <= 'z') || (v[e] >= 'A' && v[e] <= 'Z')))
            e++;
        if (e - k > 4 && v[e - 1] == '_' && v[e - 2] == '_') {
            add_hit(c, WW_SEV_MEDIUM, v + k, e - k, t->pos, "names dunder '%s'%s in a string", "");
            break;
        }
    }
    ww_status st = wwi_buf_add(&c->concat, v, n);
    (void)st; /* the assembled-text check is best effort past its cap */
}

static bool is_keyword(const tlex *lx, size_t i)
{
    static const char *const kw[] = {"and", "or", "not", "in", "is", "if", "else", "true",
                                     "false", "none", "True", "False", "None", "recursive",
                                     "as", "import", "with", "without", "context", "ignore",
                                     "missing", "scoped", "required", "loop", "caller",
                                     "varargs", "kwargs"};
    for (size_t k = 0; k < N(kw); k++)
        if (tlex_is_name(lx, i, kw[k]))
            return true;
    return false;
}

static bool is_local(const tctx *c, const char *s, size_t len)
{
    for (size_t k = 0; k < c->nlocals; k++)
        if (c->locals[k].len == len && wwi_bytes_eq(c->lx.text + c->locals[k].pos, s, len))
            return true;
    return false;
}

static void add_local(tctx *c, size_t i)
{
    if (c->nlocals < MAX_LOCALS && i < c->lx.ntok && c->lx.toks[i].type == TK_NAME) {
        c->locals[c->nlocals].pos = c->lx.toks[i].pos;
        c->locals[c->nlocals].len = c->lx.toks[i].len;
        c->nlocals++;
    }
}

/* Pass 1: names a statement binds. */
static void collect_locals(tctx *c)
{
    const tlex *lx = &c->lx;
    if (lx->kind != '%' || lx->ntok < 2)
        return;
    bool set = tlex_is_name(lx, 0, "set"), fr = tlex_is_name(lx, 0, "for");
    if (set || fr) {
        for (size_t i = 1; i < lx->ntok; i++) {
            if (tlex_is_op(lx, i, "=") || tlex_is_op(lx, i, "|") || tlex_is_name(lx, i, "in"))
                break;
            if (!tlex_is_op(lx, i - 1, "."))
                add_local(c, i);
        }
        return;
    }
    if (tlex_is_name(lx, 0, "with")) {
        for (size_t i = 1; i + 1 < lx->ntok; i++)
            if (tlex_is_op(lx, i + 1, "=") && (i == 1 || tlex_is_op(lx, i - 1, ",")))
                add_local(c, i);
        return;
    }
    if (tlex_is_name(lx, 0, "macro") || tlex_is_name(lx, 0, "call")) {
        if (tlex_is_name(lx, 0, "macro"))
            add_local(c, 1);
        int depth = 0;
        for (size_t i = 1; i < lx->ntok; i++) {
            if (tlex_is_op(lx, i, "("))
                depth++;
            else if (tlex_is_op(lx, i, ")"))
                depth--;
            else if (depth == 1 && (tlex_is_op(lx, i - 1, "(") || tlex_is_op(lx, i - 1, ",")))
                add_local(c, i);
        }
        return;
    }
    if (tlex_is_name(lx, 0, "import") || tlex_is_name(lx, 0, "from")) {
        bool after = false;
        for (size_t i = 1; i < lx->ntok; i++) {
            if (tlex_is_name(lx, i, "import") || tlex_is_name(lx, i, "as")) {
                after = true;
                continue;
            }
            if (after && lx->toks[i].type == TK_NAME)
                add_local(c, i);
        }
    }
}

static void structure_error(tctx *c, const char *msg, size_t pos);

static void push_tag(tctx *c, const char *tag, size_t pos)
{
    if (c->depth == MAX_STMT_DEPTH) {
        structure_error(c, "statements nested too deep", pos);
        return;
    }
    snprintf(c->stack[c->depth++], sizeof c->stack[0], "%s", tag);
}

/* Statement structure as jinja2's parser enforces it; tags it does not know
 * make it fail, so they make us fail too. */
static void check_statement(tctx *c)
{
    const tlex *lx = &c->lx;
    size_t pos = lx->block_pos;
    if (lx->ntok == 0 || lx->toks[0].type != TK_NAME) {
        structure_error(c, "statement without a tag name", pos);
        return;
    }
    char tag[16];
    size_t tl = lx->toks[0].len < sizeof tag - 1 ? lx->toks[0].len : sizeof tag - 1;
    memcpy(tag, lx->text + lx->toks[0].pos, tl);
    tag[tl] = '\0';
    static const char *const openers[] = {"for", "if", "macro", "call", "filter", "block", "with",
                                          "autoescape", "generation", "trans"};
    static const char *const simple[] = {"do", "break", "continue", "debug", "pluralize",
                                         "include", "import", "from", "extends"};
    for (size_t k = 0; k < N(openers); k++)
        if (wwi_str_eq(tag, openers[k])) {
            push_tag(c, tag, pos);
            return;
        }
    if (wwi_str_eq(tag, "set")) {
        bool has_eq = false;
        for (size_t i = 1; i < lx->ntok && !has_eq; i++)
            has_eq = tlex_is_op(lx, i, "=");
        if (!has_eq)
            push_tag(c, "set", pos);
        return;
    }
    if (wwi_str_eq(tag, "elif") || wwi_str_eq(tag, "else")) {
        const char *top = c->depth ? c->stack[c->depth - 1] : "";
        if (!wwi_str_eq(top, "if") && !(tag[1] == 'l' && tag[2] == 's' && wwi_str_eq(top, "for")))
            structure_error(c, "elif/else outside an if/for block", pos);
        return;
    }
    if (wwi_str_has_prefix(tag, "end") && tl > 3) {
        if (c->depth == 0 || !wwi_str_eq(c->stack[c->depth - 1], tag + 3))
            structure_error(c, "end tag does not match the open block", pos);
        else
            c->depth--;
        return;
    }
    for (size_t k = 0; k < N(simple); k++)
        if (wwi_str_eq(tag, simple[k])) {
            if (k >= 5)
                add_hit(c, WW_SEV_HIGH, tag, tl, pos,
                        "uses {%% %s %%}%s: loads another template through the renderer's "
                        "loader (file access)",
                        "");
            return;
        }
    structure_error(c, "unknown statement tag", pos);
}

/* Pass 2 on one block: every name, attribute, call and literal. */
static void analyse_block(tctx *c)
{
    const tlex *lx = &c->lx;
    size_t first = lx->kind == '%' ? 1 : 0; /* the tag name is not an expression */
    for (size_t i = first; i < lx->ntok; i++) {
        const tlex_tok *t = &lx->toks[i];
        if (t->type == TK_STR) {
            rate_string(c, i);
            continue;
        }
        if (t->type == TK_NUM) {
            /* chr(95) and '%c' % 95 build characters from numbers. */
            bool in_chr = i >= 2 && tlex_is_op(lx, i - 1, "(") && tlex_is_name(lx, i - 2, "chr");
            if (in_chr && t->num < 128) {
                ww_status st = wwi_buf_addc(&c->concat, (char)t->num);
                (void)st;
            }
            continue;
        }
        if (t->type != TK_NAME)
            continue;
        const char *nm = lx->text + t->pos;
        size_t len = t->len;
        if (i > 0 && tlex_is_op(lx, i - 1, ".")) {
            rate_attr(c, nm, len, t->pos, false);
            continue;
        }
        if (i > 0 && tlex_is_op(lx, i - 1, "|")) {
            /* |attr(name): a literal name is rated in rate_string; a computed one
             * hides the attribute from any reader. */
            if (tlex_is_name(lx, i, "attr") && tlex_is_op(lx, i + 1, "(") &&
                !(i + 3 < lx->ntok && lx->toks[i + 2].type == TK_STR && tlex_is_op(lx, i + 3, ")")))
                add_hit(c, WW_SEV_MEDIUM, "attr", 4, t->pos,
                        "uses |%s%s with a computed attribute name (hidden attribute access)", "");
            continue;
        }
        if ((i > 0 && tlex_is_name(lx, i - 1, "is")) || is_keyword(lx, i))
            continue;
        if (find(tn_internals, N(tn_internals), nm, len) || is_dunder(nm, len)) {
            rate_attr(c, nm, len, t->pos, false);
            continue;
        }
        /* Locals are looked up only for names that matter: the lookup is linear. */
        const tname *call =
            tlex_is_op(lx, i + 1, "(") ? find(tn_calls, N(tn_calls), nm, len) : NULL;
        if (call && !is_local(c, nm, len))
            add_hit(c, call->sev, nm, len, t->pos, "calls %s() (%s)", call->why);
        bool walk = tlex_is_op(lx, i + 1, ".") || tlex_is_op(lx, i + 1, "[") ||
                    (tlex_is_op(lx, i + 1, "|") && tlex_is_name(lx, i + 2, "attr"));
        if (!walk)
            continue;
        for (size_t k = 0; k < N(tn_roots); k++)
            if (strlen(tn_roots[k]) == len && wwi_bytes_eq(tn_roots[k], nm, len)) {
                if (!is_local(c, nm, len))
                    add_hit(c, WW_SEV_HIGH, nm, len, t->pos,
                            "walks the attributes of the global '%s'%s (classic SSTI gadget "
                            "root)",
                            "");
                break;
            }
    }
}

static void structure_error(tctx *c, const char *msg, size_t pos)
{
    if (!c->lx.err) {
        c->lx.err = msg;
        c->lx.err_pos = pos;
    }
}

static void reverse(char *p, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static ww_status run_pass(tctx *c, int pass)
{
    tlex_free(&c->lx);
    tlex_init(&c->lx, c->lx.text, c->lx.len);
    for (;;) {
        bool got = false;
        ww_status st = tlex_next(&c->lx, &got);
        if (st != WW_OK || !got)
            return st;
        st = wwi_scan_check_time(c->s);
        if (st != WW_OK)
            return st;
        if (pass == 1) {
            collect_locals(c);
            continue;
        }
        if (c->lx.kind == '%')
            check_statement(c);
        else if (c->lx.ntok == 0)
            structure_error(c, "empty {{ }} expression", c->lx.block_pos);
        analyse_block(c);
    }
}

static void emit(tctx *c)
{
    /* Worst first, so the first line of a report says the most. */
    for (int sev = WW_SEV_CRITICAL; sev >= WW_SEV_MEDIUM; sev--)
        for (size_t i = 0; i < c->nhits; i++) {
            hit *h = &c->hits[i];
            if ((int)h->sev != sev)
                continue;
            uint64_t off = c->base == UINT64_MAX ? UINT64_MAX : c->base + h->pos;
            wwi_finding(c->s, h->sev, "template", c->where, h->name, off, "template %s %s",
                        c->where, h->msg);
        }
    if (c->more)
        wwi_finding(c->s, WW_SEV_NONE, "template", c->where, NULL, UINT64_MAX,
                    "template %s: %zu more suspicious names not listed", c->where, c->more);
}

ww_status wwi_template_scan_ex(wwi_scan *s, const char *text, size_t len, const char *where,
                               uint64_t base, unsigned flags)
{
    ww_status rc = WW_OK;
    tctx *c = wwi_calloc(1, sizeof *c);
    if (!c)
        return wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "template %s: out of memory", where);
    c->s = s;
    c->where = where;
    c->base = base;
    c->flags = flags;
    wwi_buf_init(&c->concat, MAX_CONCAT);
    tlex_init(&c->lx, text, len);

    /* A lexing failure in pass 1 still lets pass 2 rate every block before it:
     * an unclosed block at the end must not hide a payload from the report. */
    rc = run_pass(c, 1);
    if (rc == WW_OK || rc == WW_E_FORMAT)
        rc = run_pass(c, 2);
    if (rc == WW_OK && c->depth > 0 && !c->lx.err)
        structure_error(c, "block statement is never closed", len);
    if (c->concat.data) {
        scan_text(c, c->concat.data, c->concat.len, 0, "(assembled from string pieces)");
        reverse(c->concat.data, c->concat.len);
        scan_text(c, c->concat.data, c->concat.len, 0, "(spelt backwards)");
    }
    emit(c);
    if (rc == WW_E_FORMAT || (rc == WW_OK && c->lx.err)) {
        if (!(flags & WWI_TEMPLATE_LENIENT))
            wwi_scan_error(s, WW_E_FORMAT, base == UINT64_MAX ? UINT64_MAX : base + c->lx.err_pos,
                           "template %s does not parse: %s at byte %zu", where, c->lx.err,
                           c->lx.err_pos);
        rc = WW_OK;
    } else if (rc == WW_E_LIMIT) {
        wwi_scan_error(s, WW_E_LIMIT, UINT64_MAX, "template %s not analysed: %s", where,
                       c->lx.err ? c->lx.err : "too large");
        rc = WW_OK;
    } else if (rc != WW_OK && rc != WW_E_TIMEOUT) {
        wwi_scan_error(s, rc, UINT64_MAX, "template %s: %s", where, ww_strerror(rc));
    }
    tlex_free(&c->lx);
    wwi_buf_free(&c->concat);
    wwi_free(c);
    return rc;
}

ww_status wwi_template_scan(wwi_scan *s, const char *text, size_t len, const char *where)
{
    return wwi_template_scan_ex(s, text, len, where, UINT64_MAX, 0);
}
