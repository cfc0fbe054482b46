/* Jinja lexer (see tlex.h). Mirrors jinja2/lexer.py closely enough that a
 * name the renderer would see is a name we see: same string escapes (Python
 * unicode-escape), same block-end rule (brackets must balance first). */
#include "formats/jinja/tlex.h"
#include "util/alloc.h"
#include "util/strutil.h"

/* A block with more tokens than this is not a chat template; refuse rather
 * than allocate by attacker-chosen length. */
#define TLEX_MAX_TOKENS (1u << 20)
#define TLEX_MAX_BRACKETS 256

void tlex_init(tlex *lx, const char *text, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->text = text;
    lx->len = len;
    wwi_buf_init(&lx->strs, len + TLEX_MAX_TOKENS + 1);
}

void tlex_free(tlex *lx)
{
    wwi_free(lx->toks);
    lx->toks = NULL;
    wwi_buf_free(&lx->strs);
}

static ww_status fail(tlex *lx, const char *msg, size_t pos)
{
    lx->err = msg;
    lx->err_pos = pos;
    return WW_E_FORMAT;
}

static bool starts(const tlex *lx, size_t pos, const char *lit)
{
    size_t n = strlen(lit);
    return n <= lx->len - pos && wwi_bytes_eq(lx->text + pos, lit, n);
}

static bool ident_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

static bool space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static ww_status push(tlex *lx, uint8_t type, size_t pos, size_t len, tlex_tok **out)
{
    if (lx->ntok == lx->cap) {
        if (lx->cap >= TLEX_MAX_TOKENS) {
            (void)fail(lx, "block has too many tokens to analyse", pos);
            return WW_E_LIMIT;
        }
        size_t nc = lx->cap ? lx->cap * 2 : 64;
        void *p = lx->toks;
        ww_status st = wwi_realloc(&p, nc * sizeof(tlex_tok));
        if (st != WW_OK)
            return st;
        lx->toks = p;
        lx->cap = nc;
    }
    tlex_tok *t = &lx->toks[lx->ntok++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->pos = pos;
    t->len = len;
    t->num = UINT64_MAX;
    if (out)
        *out = t;
    return WW_OK;
}

static ww_status put_utf8(wwi_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | ((cp >> 18) & 0x07));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return wwi_buf_add(b, u, n);
}

/* One escape after a backslash at text[*p] (the char after '\'); Python
 * unicode-escape semantics, which is what jinja2 applies to literals. */
static ww_status escape(tlex *lx, size_t *p, size_t end, tlex_tok *t)
{
    const char *s = lx->text;
    unsigned char c = (unsigned char)s[*p];
    uint32_t cp = 0;
    int digits = 0;
    (*p)++;
    switch (c) {
    case 'n': cp = '\n'; break;
    case 't': cp = '\t'; break;
    case 'r': cp = '\r'; break;
    case 'a': cp = 7; break;
    case 'b': cp = 8; break;
    case 'f': cp = 12; break;
    case 'v': cp = 11; break;
    case '\\': case '\'': case '"': cp = c; break;
    case '\n': return WW_OK; /* line continuation */
    case 'x': digits = 2; break;
    case 'u': digits = 4; break;
    case 'U': digits = 8; break;
    case 'N':
        /* Named escapes need the Unicode name table; mark and skip. */
        t->flags |= TKF_ESC_NAMED;
        while (*p < end && s[*p] != '}')
            (*p)++;
        if (*p >= end)
            return fail(lx, "unterminated \\N{...} escape", *p);
        (*p)++;
        return WW_OK;
    default:
        if (c >= '0' && c <= '7') {
            cp = c - '0';
            for (int k = 0; k < 2 && *p < end && s[*p] >= '0' && s[*p] <= '7'; k++)
                cp = cp * 8 + (uint32_t)(s[(*p)++] - '0');
            break;
        }
        /* Unknown escapes stay as written (backslash + char). */
        ww_status st = wwi_buf_addc(&lx->strs, '\\');
        if (st == WW_OK)
            st = wwi_buf_addc(&lx->strs, (char)c);
        return st;
    }
    for (int k = 0; k < digits; k++) {
        int v = *p < end ? hexval((unsigned char)s[*p]) : -1;
        if (v < 0)
            return fail(lx, "truncated \\x/\\u escape in a string literal", *p);
        cp = cp * 16 + (uint32_t)v;
        (*p)++;
    }
    if (cp > 0x10FFFF)
        return fail(lx, "escape outside the Unicode range", *p);
    if (cp < 0x80 && ident_char((unsigned char)cp) && c != 'n' && c != 't' && c != 'r' &&
        c != 'a' && c != 'b' && c != 'f' && c != 'v')
        t->flags |= TKF_ESC_IDENT;
    return put_utf8(&lx->strs, cp);
}

static ww_status lex_string(tlex *lx, size_t *p)
{
    const char *s = lx->text;
    char q = s[*p];
    size_t start = *p;
    tlex_tok *t = NULL;
    ww_status st = push(lx, TK_STR, start, 0, &t);
    if (st != WW_OK)
        return st;
    size_t tok_index = lx->ntok - 1;
    t->doff = lx->strs.len;
    (*p)++;
    while (*p < lx->len && s[*p] != q) {
        if (s[*p] == '\\') {
            (*p)++;
            if (*p >= lx->len)
                break;
            st = escape(lx, p, lx->len, &lx->toks[tok_index]);
        } else {
            st = wwi_buf_addc(&lx->strs, s[(*p)++]);
        }
        if (st != WW_OK)
            return st;
    }
    if (*p >= lx->len)
        return fail(lx, "unterminated string literal", start);
    (*p)++;
    t = &lx->toks[tok_index];
    t->len = *p - start;
    t->dlen = lx->strs.len - t->doff;
    return wwi_buf_addc(&lx->strs, '\0'); /* strings are NUL-separated */
}

static ww_status lex_number(tlex *lx, size_t *p)
{
    const char *s = lx->text;
    size_t start = *p;
    uint64_t v = 0;
    bool small = true;
    if (s[*p] == '0' && *p + 1 < lx->len && strchr("xXoObB", s[*p + 1]) && s[*p + 1]) {
        *p += 2;
        small = false;
        while (*p < lx->len && (hexval((unsigned char)s[*p]) >= 0 || s[*p] == '_'))
            (*p)++;
    } else {
        while (*p < lx->len && ((s[*p] >= '0' && s[*p] <= '9') || s[*p] == '_')) {
            if (s[*p] != '_') {
                if (v > 0xFFFFFF)
                    small = false;
                v = v * 10 + (uint64_t)(s[*p] - '0');
            }
            (*p)++;
        }
        if (*p + 1 < lx->len && s[*p] == '.' && s[*p + 1] >= '0' && s[*p + 1] <= '9') {
            small = false;
            (*p)++;
            while (*p < lx->len && ((s[*p] >= '0' && s[*p] <= '9') || s[*p] == '_'))
                (*p)++;
        }
        if (*p < lx->len && (s[*p] == 'e' || s[*p] == 'E')) {
            size_t q = *p + 1;
            if (q < lx->len && (s[q] == '+' || s[q] == '-'))
                q++;
            if (q < lx->len && s[q] >= '0' && s[q] <= '9') {
                small = false;
                *p = q;
                while (*p < lx->len && s[*p] >= '0' && s[*p] <= '9')
                    (*p)++;
            }
        }
    }
    tlex_tok *t = NULL;
    ww_status st = push(lx, TK_NUM, start, *p - start, &t);
    if (st == WW_OK && small)
        t->num = v;
    return st;
}

static const char *const ops2[] = {"**", "//", "==", "!=", "<=", ">="};

/* Tokens of one block, from *p (just after the opening delimiter) to its end
 * delimiter. Jinja ends a block only when its brackets are balanced. */
static ww_status lex_block(tlex *lx, size_t *p)
{
    const char *s = lx->text;
    char closer = lx->kind == '{' ? '}' : '%';
    char stack[TLEX_MAX_BRACKETS];
    size_t depth = 0;
    ww_status st = WW_OK;
    if (*p < lx->len && (s[*p] == '-' || s[*p] == '+'))
        (*p)++; /* whitespace control */
    for (;;) {
        while (*p < lx->len && space((unsigned char)s[*p]))
            (*p)++;
        if (*p >= lx->len)
            return fail(lx, lx->kind == '{' ? "unclosed '{{' block" : "unclosed '{%' block",
                        lx->block_pos);
        if (depth == 0) {
            size_t q = *p;
            if (s[q] == '-' || s[q] == '+')
                q++;
            if (q + 1 < lx->len && s[q] == closer && s[q + 1] == '}') {
                *p = q + 2;
                return WW_OK;
            }
        }
        unsigned char c = (unsigned char)s[*p];
        if (c == '\'' || c == '"') {
            st = lex_string(lx, p);
        } else if (c >= '0' && c <= '9') {
            st = lex_number(lx, p);
        } else if (ident_start(c)) {
            size_t start = *p;
            while (*p < lx->len && ident_char((unsigned char)s[*p]))
                (*p)++;
            st = push(lx, TK_NAME, start, *p - start, NULL);
        } else {
            size_t n = 0;
            for (size_t k = 0; k < sizeof ops2 / sizeof ops2[0] && !n; k++)
                if (starts(lx, *p, ops2[k]))
                    n = 2;
            if (!n) {
                if (!strchr("+-*/%~|.,:;()[]{}<>=!", (int)c) || c == 0 || c == '!')
                    return fail(lx, "unexpected character in a block", *p);
                n = 1;
                if (c == '(' || c == '[' || c == '{') {
                    if (depth == TLEX_MAX_BRACKETS)
                        return fail(lx, "brackets nested too deep", *p);
                    stack[depth++] = (char)c;
                } else if (c == ')' || c == ']' || c == '}') {
                    char want = c == ')' ? '(' : c == ']' ? '[' : '{';
                    if (depth == 0 || stack[depth - 1] != want)
                        return fail(lx, "unbalanced bracket", *p);
                    depth--;
                }
            }
            st = push(lx, TK_OP, *p, n, NULL);
            *p += n;
        }
        if (st != WW_OK)
            return st;
    }
}

/* Skip a {% raw %} body up to and including its {% endraw %}. */
static ww_status skip_raw(tlex *lx, size_t *p)
{
    const char *s = lx->text;
    while (*p < lx->len) {
        const char *hit = memchr(s + *p, '{', lx->len - *p);
        if (!hit)
            break;
        size_t q = (size_t)(hit - s) + 1;
        *p = q;
        if (q >= lx->len || s[q] != '%')
            continue;
        q++;
        if (q < lx->len && (s[q] == '-' || s[q] == '+'))
            q++;
        while (q < lx->len && space((unsigned char)s[q]))
            q++;
        if (!starts(lx, q, "endraw"))
            continue;
        q += 6;
        while (q < lx->len && space((unsigned char)s[q]))
            q++;
        if (q < lx->len && s[q] == '-')
            q++;
        if (q + 1 < lx->len && s[q] == '%' && s[q + 1] == '}') {
            *p = q + 2;
            return WW_OK;
        }
    }
    return fail(lx, "unclosed {% raw %} block", lx->block_pos);
}

ww_status tlex_next(tlex *lx, bool *got)
{
    const char *s = lx->text;
    *got = false;
    lx->ntok = 0;
    wwi_buf_reset(&lx->strs);
    while (lx->pos < lx->len) {
        const char *hit = memchr(s + lx->pos, '{', lx->len - lx->pos);
        if (!hit || (size_t)(hit - s) + 1 >= lx->len) {
            lx->pos = lx->len;
            break;
        }
        size_t at = (size_t)(hit - s);
        char k = s[at + 1];
        lx->pos = at + 1;
        if (k == '#') {
            size_t q = at + 2;
            for (; q + 1 < lx->len; q++)
                if (s[q] == '#' && s[q + 1] == '}')
                    break;
            if (q + 1 >= lx->len)
                return fail(lx, "unclosed comment", at);
            lx->pos = q + 2;
            continue;
        }
        if (k != '{' && k != '%')
            continue;
        lx->kind = k;
        lx->block_pos = at;
        size_t p = at + 2;
        ww_status st = lex_block(lx, &p);
        if (st != WW_OK)
            return st;
        lx->pos = p;
        if (k == '%' && lx->ntok == 1 && tlex_is_name(lx, 0, "raw")) {
            st = skip_raw(lx, &lx->pos);
            if (st != WW_OK)
                return st;
            lx->ntok = 0;
            wwi_buf_reset(&lx->strs);
            continue;
        }
        *got = true;
        return WW_OK;
    }
    return WW_OK;
}

bool tlex_is_op(const tlex *lx, size_t i, const char *op)
{
    if (i >= lx->ntok || lx->toks[i].type != TK_OP)
        return false;
    size_t n = strlen(op);
    return lx->toks[i].len == n && wwi_bytes_eq(lx->text + lx->toks[i].pos, op, n);
}

bool tlex_is_name(const tlex *lx, size_t i, const char *name)
{
    if (i >= lx->ntok || lx->toks[i].type != TK_NAME)
        return false;
    size_t n = strlen(name);
    return lx->toks[i].len == n && wwi_bytes_eq(lx->text + lx->toks[i].pos, name, n);
}

const char *tlex_str(const tlex *lx, size_t i)
{
    if (i >= lx->ntok || lx->toks[i].type != TK_STR || !lx->strs.data)
        return "";
    return lx->strs.data + lx->toks[i].doff;
}
