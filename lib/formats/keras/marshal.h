/* A bounded, static decoder of CPython 3 marshal data, enough to list what a
 * marshalled code object (a Keras Lambda) names: co_names, string constants,
 * local variable names and nested code objects. Nothing is evaluated.
 *
 * Marshal bytes do not say which CPython wrote them and the code-object layout
 * changed in 3.8 and 3.11, so the decoder tries each layout and reports the
 * union of what every layout that decodes cleanly would name: an attacker
 * cannot hide a name behind a layout we did not try. */
#ifndef WWI_MARSHAL_H
#define WWI_MARSHAL_H
#include "weightwall.h"

enum wwi_marshal_role {
    WWI_MARSHAL_NAME = 1,  /* co_names: globals, attributes, imported modules */
    WWI_MARSHAL_CONST = 2, /* a str/bytes constant in co_consts (nested tuples too) */
    WWI_MARSHAL_VAR = 3,   /* arguments, locals, free and cell variables */
    WWI_MARSHAL_META = 4,  /* co_filename, co_name, co_qualname */
};

/* Code-object layouts, one bit each in wwi_marshal_info.layouts. */
enum {
    WWI_MARSHAL_PY30 = 1u << 0, /* 3.0 - 3.7 */
    WWI_MARSHAL_PY38 = 1u << 1, /* 3.8 - 3.10 (co_posonlyargcount) */
    WWI_MARSHAL_PY311 = 1u << 2, /* 3.11+ (co_qualname, localsplus) */
};

typedef struct wwi_marshal_str {
    const uint8_t *p; /* points into the decoded input (not NUL-terminated) */
    size_t len;
    uint8_t role;     /* enum wwi_marshal_role */
} wwi_marshal_str;

typedef struct wwi_marshal_info {
    wwi_marshal_str *strs; /* wwi_malloc'ed; free with wwi_marshal_info_free */
    size_t nstrs, capstrs;
    uint32_t ncode;        /* code objects seen by the first layout that decoded */
    unsigned layouts;      /* WWI_MARSHAL_* layouts that decoded the whole object */
    size_t err_off;        /* on failure: furthest offset a layout reached */
} wwi_marshal_info;

/* Decode `len` bytes as one marshalled object whose top level must be a code
 * object (trailing bytes are ignored, as marshal.loads does). Nesting deeper
 * than max_depth fails with WW_E_LIMIT. On failure no layout decoded: the
 * status is TRUNCATED, FORMAT, LIMIT or NOMEM and out->err_off says where. */
WW_NODISCARD ww_status wwi_marshal_code(const uint8_t *data, size_t len, uint32_t max_depth,
                                        wwi_marshal_info *out);
void wwi_marshal_info_free(wwi_marshal_info *info);

/* Python's lenient base64 (binascii.a2b_base64, non-strict, which Keras'
 * func_load uses): characters outside the alphabet are skipped and complete
 * padding ends the data. Writes at most *outlen bytes to out; *outlen gets the
 * decoded size. FORMAT on bad padding, LIMIT if out is too small. */
WW_NODISCARD ww_status wwi_base64_decode(const char *in, size_t inlen, uint8_t *out,
                                         size_t *outlen);
#endif
