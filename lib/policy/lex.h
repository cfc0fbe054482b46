/* Rego tokens with line:col. The lexer rejects NUL bytes, invalid UTF-8 and
 * oversized tokens, so the parser only ever sees well-formed text. */
#ifndef WWP_LEX_H
#define WWP_LEX_H
#include "policy/arena.h"

typedef enum wwp_tok_kind {
    T_EOF = 0,
    T_IDENT,
    T_STRING, /* "..." or `...`; str/slen hold the decoded bytes */
    T_NUMBER, /* text only; the parser converts */
    T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN,
    T_DOT, T_COMMA, T_SEMI, T_COLON,
    T_ASSIGN, /* := */
    T_UNIFY,  /* =  */
    T_EQ, T_NEQ, T_LT, T_LE, T_GT, T_GE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_PIPE, T_AMP,
    /* keywords */
    T_PACKAGE, T_IMPORT, T_AS, T_DEFAULT, T_IF, T_ELSE, T_NOT, T_WITH, T_SOME, T_IN,
    T_EVERY, T_CONTAINS, T_TRUE, T_FALSE, T_NULL,
    T_KIND_END_
} wwp_tok_kind;

typedef struct wwp_tok {
    uint8_t kind;
    bool sp_before; /* whitespace or a comment precedes it */
    bool nl_before; /* a newline precedes it (literal separator) */
    uint32_t line, col;
    const char *text; /* raw source text */
    size_t len;
    const char *str; /* T_STRING: decoded */
    size_t slen;
} wwp_tok;

typedef struct wwp_toks {
    wwp_tok *t;
    size_t n;
} wwp_toks;

/* Tokenise text (not NUL-terminated) into the arena. On error fills err with
 * "line:col: message" and returns WW_E_POLICY_PARSE (WW_E_NOMEM/WW_E_LIMIT for
 * resources). */
WW_NODISCARD ww_status wwp_lex(wwp_arena *a, const char *text, size_t len, wwp_toks *out,
                               char *err, size_t errlen, uint32_t *eline, uint32_t *ecol);
const char *wwp_tok_name(int kind);
bool wwp_tok_is_keyword(int kind);
#endif
