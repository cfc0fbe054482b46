/* Rego lexer. See lex.h. */
#include <stdio.h>
#include <string.h>
#include "policy/lex.h"
#include "policy/value.h"

#define MAX_TOKENS (4u << 20)      /* a 4M-token policy is an attack, not a policy */
#define MAX_TOKEN_BYTES (1u << 20) /* one string or number literal */

static const struct {
    const char *word;
    int kind;
} keywords[] = {
    {"package", T_PACKAGE}, {"import", T_IMPORT}, {"as", T_AS},         {"default", T_DEFAULT},
    {"if", T_IF},           {"else", T_ELSE},     {"not", T_NOT},       {"with", T_WITH},
    {"some", T_SOME},       {"in", T_IN},         {"every", T_EVERY},   {"contains", T_CONTAINS},
    {"true", T_TRUE},       {"false", T_FALSE},   {"null", T_NULL},
};

const char *wwp_tok_name(int kind)
{
    static const char *const names[T_KIND_END_] = {
        [T_EOF] = "end of input", [T_IDENT] = "identifier", [T_STRING] = "string",
        [T_NUMBER] = "number",    [T_LBRACE] = "'{'",       [T_RBRACE] = "'}'",
        [T_LBRACK] = "'['",       [T_RBRACK] = "']'",       [T_LPAREN] = "'('",
        [T_RPAREN] = "')'",       [T_DOT] = "'.'",          [T_COMMA] = "','",
        [T_SEMI] = "';'",         [T_COLON] = "':'",        [T_ASSIGN] = "':='",
        [T_UNIFY] = "'='",        [T_EQ] = "'=='",          [T_NEQ] = "'!='",
        [T_LT] = "'<'",           [T_LE] = "'<='",          [T_GT] = "'>'",
        [T_GE] = "'>='",          [T_PLUS] = "'+'",         [T_MINUS] = "'-'",
        [T_STAR] = "'*'",         [T_SLASH] = "'/'",        [T_PERCENT] = "'%'",
        [T_PIPE] = "'|'",         [T_AMP] = "'&'",          [T_PACKAGE] = "'package'",
        [T_IMPORT] = "'import'",  [T_AS] = "'as'",          [T_DEFAULT] = "'default'",
        [T_IF] = "'if'",          [T_ELSE] = "'else'",      [T_NOT] = "'not'",
        [T_WITH] = "'with'",      [T_SOME] = "'some'",      [T_IN] = "'in'",
        [T_EVERY] = "'every'",    [T_CONTAINS] = "'contains'", [T_TRUE] = "'true'",
        [T_FALSE] = "'false'",    [T_NULL] = "'null'",
    };
    return kind >= 0 && kind < T_KIND_END_ && names[kind] ? names[kind] : "token";
}

bool wwp_tok_is_keyword(int kind)
{
    return kind >= T_PACKAGE && kind < T_KIND_END_;
}

typedef struct lx {
    wwp_arena *a;
    const char *s;
    size_t len, pos;
    uint32_t line, col;
    char *err;
    size_t errlen;
    uint32_t *eline, *ecol;
} lx;

static ww_status lx_fail(lx *l, const char *msg)
{
    if (l->err && l->errlen)
        snprintf(l->err, l->errlen, "%s", msg);
    *l->eline = l->line;
    *l->ecol = l->col;
    return WW_E_POLICY_PARSE;
}

static void adv(lx *l, size_t n)
{
    for (size_t i = 0; i < n && l->pos < l->len; i++) {
        if (l->s[l->pos] == '\n') {
            l->line++;
            l->col = 1;
        } else if (((unsigned char)l->s[l->pos] & 0xC0) != 0x80) {
            l->col++;
        }
        l->pos++;
    }
}

static bool is_id0(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decode a "..." string starting at the quote into the arena. */
static ww_status lex_string(lx *l, wwp_tok *t)
{
    size_t start = l->pos + 1, i = start;
    bool esc = false;
    while (i < l->len && l->s[i] != '"') {
        if (l->s[i] == '\n')
            return lx_fail(l, "unterminated string (newline in \"...\"; use `...` for multi-line)");
        if (l->s[i] == '\\') {
            esc = true;
            i++;
        }
        i++;
    }
    if (i >= l->len)
        return lx_fail(l, "unterminated string");
    if (i - start > MAX_TOKEN_BYTES)
        return lx_fail(l, "string literal too long");
    /* JSON escapes are exactly Rego's: reuse the JSON reader on the quoted text. */
    if (!esc) {
        t->str = l->s + start;
        t->slen = i - start;
    } else {
        wwp_val *v = NULL;
        char jerr[96];
        ww_status st = wwp_from_json(l->a, l->s + l->pos, i + 1 - l->pos, 1, &v, jerr, sizeof(jerr));
        if (st == WW_E_NOMEM || st == WW_E_LIMIT)
            return st;
        if (st != WW_OK || v->kind != WWP_STR)
            return lx_fail(l, "invalid escape sequence in string");
        t->str = v->s;
        t->slen = v->len;
    }
    t->kind = T_STRING;
    adv(l, i + 1 - l->pos);
    return WW_OK;
}

static ww_status lex_number(lx *l, wwp_tok *t)
{
    size_t i = l->pos;
    while (i < l->len && is_digit(l->s[i]))
        i++;
    if (i + 1 < l->len && l->s[i] == '.' && is_digit(l->s[i + 1])) {
        i++;
        while (i < l->len && is_digit(l->s[i]))
            i++;
    }
    if (i < l->len && (l->s[i] == 'e' || l->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < l->len && (l->s[j] == '+' || l->s[j] == '-'))
            j++;
        if (j < l->len && is_digit(l->s[j])) {
            i = j;
            while (i < l->len && is_digit(l->s[i]))
                i++;
        }
    }
    if (i < l->len && (is_id0(l->s[i]) || is_digit(l->s[i])))
        return lx_fail(l, "invalid number literal");
    if (i - l->pos > 4096)
        return lx_fail(l, "number literal too long");
    t->kind = T_NUMBER;
    adv(l, i - l->pos);
    return WW_OK;
}

static int op_kind(const char *s, size_t left, size_t *n)
{
    char c = s[0], d = left > 1 ? s[1] : '\0';
    *n = 2;
    if (c == ':' && d == '=')
        return T_ASSIGN;
    if (c == '=' && d == '=')
        return T_EQ;
    if (c == '!' && d == '=')
        return T_NEQ;
    if (c == '<' && d == '=')
        return T_LE;
    if (c == '>' && d == '=')
        return T_GE;
    *n = 1;
    switch (c) {
    case '{': return T_LBRACE;
    case '}': return T_RBRACE;
    case '[': return T_LBRACK;
    case ']': return T_RBRACK;
    case '(': return T_LPAREN;
    case ')': return T_RPAREN;
    case '.': return T_DOT;
    case ',': return T_COMMA;
    case ';': return T_SEMI;
    case ':': return T_COLON;
    case '=': return T_UNIFY;
    case '<': return T_LT;
    case '>': return T_GT;
    case '+': return T_PLUS;
    case '-': return T_MINUS;
    case '*': return T_STAR;
    case '/': return T_SLASH;
    case '%': return T_PERCENT;
    case '|': return T_PIPE;
    case '&': return T_AMP;
    default: return -1;
    }
}

ww_status wwp_lex(wwp_arena *a, const char *text, size_t len, wwp_toks *out, char *err,
                  size_t errlen, uint32_t *eline, uint32_t *ecol)
{
    lx l = {a, text, len, 0, 1, 1, err, errlen, eline, ecol};
    out->t = NULL;
    out->n = 0;
    if (memchr(text, '\0', len))
        return lx_fail(&l, "NUL byte in policy text");
    if (!wwp_utf8_valid(text, len))
        return lx_fail(&l, "policy text is not valid UTF-8");
    size_t cap = 256, n = 0;
    wwp_tok *toks = wwp_alloc_array(a, cap, sizeof(*toks));
    if (!toks)
        return WW_E_NOMEM;
    bool sp = true, nl = true;
    for (;;) {
        /* whitespace and comments */
        while (l.pos < l.len) {
            char c = l.s[l.pos];
            if (c == '\n') {
                nl = sp = true;
                adv(&l, 1);
            } else if (c == ' ' || c == '\t' || c == '\r') {
                sp = true;
                adv(&l, 1);
            } else if (c == '#') {
                while (l.pos < l.len && l.s[l.pos] != '\n')
                    adv(&l, 1);
                sp = true;
            } else {
                break;
            }
        }
        if (n + 1 >= cap) {
            if (cap >= MAX_TOKENS)
                return lx_fail(&l, "policy has too many tokens");
            wwp_tok *nt = wwp_alloc_array(a, cap * 2, sizeof(*nt));
            if (!nt)
                return a->hit_limit ? WW_E_LIMIT : WW_E_NOMEM;
            memcpy(nt, toks, n * sizeof(*nt));
            toks = nt;
            cap *= 2;
        }
        wwp_tok *t = &toks[n];
        memset(t, 0, sizeof(*t));
        t->sp_before = sp;
        t->nl_before = nl;
        t->line = l.line;
        t->col = l.col;
        t->text = l.s + l.pos;
        sp = nl = false;
        if (l.pos >= l.len) {
            t->kind = T_EOF;
            n++;
            break;
        }
        char c = l.s[l.pos];
        size_t start = l.pos;
        ww_status st = WW_OK;
        if (is_id0(c)) {
            size_t i = l.pos;
            while (i < l.len && (is_id0(l.s[i]) || is_digit(l.s[i])))
                i++;
            t->kind = T_IDENT;
            for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
                if (strlen(keywords[k].word) == i - l.pos &&
                    memcmp(keywords[k].word, l.s + l.pos, i - l.pos) == 0)
                    t->kind = (uint8_t)keywords[k].kind;
            adv(&l, i - l.pos);
        } else if (is_digit(c)) {
            st = lex_number(&l, t);
        } else if (c == '"') {
            st = lex_string(&l, t);
        } else if (c == '`') {
            const char *e = memchr(l.s + l.pos + 1, '`', l.len - l.pos - 1);
            if (!e)
                return lx_fail(&l, "unterminated raw string");
            t->kind = T_STRING;
            t->str = l.s + l.pos + 1;
            t->slen = (size_t)(e - t->str);
            if (t->slen > MAX_TOKEN_BYTES)
                return lx_fail(&l, "string literal too long");
            adv(&l, t->slen + 2);
        } else {
            size_t k;
            int kind = op_kind(l.s + l.pos, l.len - l.pos, &k);
            if (kind < 0) {
                char msg[64];
                if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                    snprintf(msg, sizeof(msg), "unexpected character '%c'", c);
                else
                    snprintf(msg, sizeof(msg), "unexpected character 0x%02x", (unsigned char)c);
                return lx_fail(&l, msg);
            }
            t->kind = (uint8_t)kind;
            adv(&l, k);
        }
        if (st != WW_OK)
            return st;
        t->len = l.pos - start;
        n++;
    }
    out->t = toks;
    out->n = n;
    return WW_OK;
}
