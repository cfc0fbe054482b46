/* Jinja template lexer: splits a template into blocks ({{ }}, {% %}) and each
 * block into tokens, the way jinja2's lexer does (strings keep their escapes
 * decoded, brackets balance before a block may end). It never evaluates
 * anything; template.c analyses the tokens. Comments and {% raw %} bodies are
 * skipped, text between blocks is output only and ignored. */
#ifndef WWI_TLEX_H
#define WWI_TLEX_H
#include "util/buf.h"
#include "weightwall.h"

enum { TK_NAME, TK_STR, TK_NUM, TK_OP };
enum {
    TKF_ESC_IDENT = 1u << 0, /* an escape sequence spelt a letter, digit or '_' */
    TKF_ESC_NAMED = 1u << 1, /* \N{...}: cannot be decoded here */
};

typedef struct tlex_tok {
    uint8_t type, flags;
    size_t pos, len;   /* source bytes (absolute offset in the template) */
    size_t doff, dlen; /* TK_STR: decoded value in tlex.strs */
    uint64_t num;      /* TK_NUM: value of a small decimal integer, else UINT64_MAX */
} tlex_tok;

typedef struct tlex {
    const char *text;
    size_t len, pos;
    char kind;        /* of the current block: '{' expression, '%' statement */
    size_t block_pos; /* offset of the current block's opening delimiter */
    tlex_tok *toks;
    size_t ntok, cap;
    wwi_buf strs;     /* decoded string literals of the current block */
    const char *err;  /* static message once lexing failed */
    size_t err_pos;
} tlex;

void tlex_init(tlex *lx, const char *text, size_t len);
void tlex_free(tlex *lx);
/* Lex the next block. WW_OK with *got false at the end of the template;
 * WW_E_FORMAT (err, err_pos set) when the template does not lex; NOMEM/LIMIT
 * when a block is too large to hold. */
WW_NODISCARD ww_status tlex_next(tlex *lx, bool *got);
/* Token helpers for the analyser. */
bool tlex_is_op(const tlex *lx, size_t i, const char *op);
bool tlex_is_name(const tlex *lx, size_t i, const char *name);
const char *tlex_str(const tlex *lx, size_t i); /* decoded value (NUL-terminated) */
#endif
