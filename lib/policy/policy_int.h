/* The compiled policy (what ww_policy points to) and the internal entry points
 * between check, eval and the public API. */
#ifndef WWP_POLICY_INT_H
#define WWP_POLICY_INT_H
#include "policy/ast.h"
#include "policy/parse.h"

#define WWP_MAX_SLOTS 4096 /* variables in one rule definition */

typedef struct wwp_policy {
    wwp_arena arena; /* modules, AST, tree, constants */
    wwp_module *modules, *last_module;
    wwp_val *base_data; /* merged data documents (an object) */
    wwp_tnode *root;
    wwp_group **groups;
    size_t ngroups, capgroups;
    bool compiled;
    bool strict;
    uint64_t max_steps;
    uint32_t max_depth;
    uint64_t max_memory;
    int64_t fixed_now_ns; /* 0: the wall clock */
} wwp_policy;

/* A compiled query (parsed and checked against a compiled policy). */
typedef struct wwp_cquery {
    wwp_query *q;
    size_t nslots;
    const char **slot_names; /* user-visible variables (NULL for hidden ones) */
    wwp_node *single;        /* the query is one plain expression: its node */
} wwp_cquery;

WW_NODISCARD ww_status wwp_check_policy(wwp_policy *p, wwp_err *err);
WW_NODISCARD ww_status wwp_check_query(wwp_policy *p, wwp_arena *a, wwp_query *q,
                                       wwp_cquery *out, wwp_err *err);
/* Builtins table lookup (builtins.c). */
int wwp_builtin_find(const char *name);
int wwp_builtin_arity(int idx);
const char *wwp_builtin_deprecated(const char *name); /* replacement, or NULL */
#endif
