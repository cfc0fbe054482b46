/* Rego parser: recursive descent over the token array, depth-capped, building
 * the AST in the policy arena. Anything outside the subset in docs/rego.md is
 * a rego_parse_error naming the construct and its line:col. */
#ifndef WWP_PARSE_H
#define WWP_PARSE_H
#include "policy/ast.h"

/* One error: OPA's code, position and message. */
typedef struct wwp_err {
    const char *code; /* "rego_parse_error", "eval_conflict_error", ... */
    const char *file;
    uint32_t line, col;
    char msg[400];
} wwp_err;

void wwp_err_set(wwp_err *e, const char *code, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

typedef enum wwp_rform { RF_COMPLETE, RF_SET, RF_OBJ, RF_OBJSET, RF_FUNC } wwp_rform;

typedef struct wwp_import {
    const char *alias; /* NULL: no-op import (rego.v1, future.keywords) */
    wwp_node *ref;     /* input... or data... */
    uint32_t line, col;
} wwp_import;

typedef struct wwp_rule {
    uint8_t form;
    bool is_default;
    const char *name;
    uint32_t line, col;
    wwp_rdef *def;
} wwp_rule;

typedef struct wwp_module wwp_module;
struct wwp_module {
    const char *file;
    const char *src; /* copy of the text, for error excerpts */
    size_t srclen;
    const char **pkg; /* package path segments */
    size_t npkg;
    wwp_import *imports;
    size_t nimports;
    wwp_rule *rules;
    size_t nrules;
    wwp_module *next;
};

#define WWP_MAX_PARSE_DEPTH 200

WW_NODISCARD ww_status wwp_parse_module(wwp_arena *a, const char *file, const char *text,
                                        size_t len, wwp_module **out, wwp_err *err);
/* A query: literals separated by ';' or newlines (what `opa eval` takes). */
WW_NODISCARD ww_status wwp_parse_query(wwp_arena *a, const char *text, size_t len,
                                       wwp_query **out, wwp_err *err);
#endif
