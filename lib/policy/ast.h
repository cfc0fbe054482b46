/* Rego AST, rule groups and the package tree. Everything here lives in the
 * compiled policy's arena and is read-only once ww_policy_compile returns,
 * which is what lets many threads evaluate one policy at the same time. */
#ifndef WWP_AST_H
#define WWP_AST_H
#include "policy/value.h"

typedef struct wwp_node wwp_node;
typedef struct wwp_query wwp_query;
typedef struct wwp_group wwp_group;
typedef struct wwp_tnode wwp_tnode;

typedef enum wwp_ntype {
    N_SCALAR,  /* val */
    N_VAR,     /* name; slot after check */
    N_REF,     /* head + path[] */
    N_ARRAY,   /* items[] */
    N_SET,     /* items[] */
    N_OBJECT,  /* items[] = keys, vals[] */
    N_ARRCOMP, /* term | body */
    N_SETCOMP,
    N_OBJCOMP, /* term: vterm | body */
    N_CALL,    /* fname(args) */
    N_BINOP,   /* l op r */
    N_NEG,     /* - l */
    N_MEMBER,  /* [key ,] l in r */
    N_INPUT,   /* ref heads after check */
    N_DATA
} wwp_ntype;

/* How a data reference was resolved at compile time. */
typedef enum wwp_dkind {
    D_RULE, /* tnode is a rule: evaluate it, then walk path[dskip..] */
    D_PKG,  /* tnode is a package: materialise it, then walk path[dskip..] */
    D_BASE  /* beyond the rule tree: base data walked by path[0..] */
} wwp_dkind;

struct wwp_node {
    uint8_t type;
    uint8_t op;         /* N_BINOP: token kind of the operator */
    bool wildcard;      /* N_VAR: `_` */
    bool may_enum;      /* may give several values (a ref with a variable key) */
    bool ground_const;  /* folds to `val` at compile time */
    uint32_t line, col;
    wwp_val *val;       /* N_SCALAR, and any ground_const node */
    const char *name;   /* N_VAR, N_CALL (dotted name), N_REF head ident */
    int slot;           /* N_VAR */
    wwp_node *head;     /* N_REF */
    wwp_node **path;    /* N_REF path elements (".x" is a string scalar) */
    size_t npath;
    wwp_node **items;   /* composites; N_CALL args */
    wwp_node **vals;    /* N_OBJECT values */
    size_t n;
    wwp_node *term, *vterm, *key; /* comprehensions; N_MEMBER key */
    wwp_node *l, *r;
    wwp_query *body;    /* comprehensions */
    /* N_CALL after check */
    int builtin;        /* index into the builtins table, or -1 */
    wwp_group *fn;      /* user function */
    bool out_arg;       /* last argument is an output */
    /* N_DATA refs after check */
    uint8_t dkind;
    size_t dskip;
    wwp_tnode *tnode;
};

typedef enum wwp_lkind { L_EXPR, L_ASSIGN, L_UNIFY, L_SOME, L_SOMEIN, L_EVERY } wwp_lkind;

typedef struct wwp_with {
    wwp_node *target; /* a ref: input..., data... */
    wwp_node *value;
    /* after check */
    bool is_input;
    wwp_group *rule; /* data target that is exactly a rule: override it */
    size_t depth;    /* path elements below input/data */
} wwp_with;

typedef struct wwp_lit {
    uint8_t kind;
    bool neg;
    uint32_t line, col;
    wwp_node *expr;       /* L_EXPR; L_ASSIGN/L_UNIFY: lhs in expr, rhs in rhs */
    wwp_node *rhs;
    wwp_node *key, *val, *coll; /* L_SOMEIN (key optional); L_EVERY: key/val are vars */
    wwp_node **vars;      /* L_SOME */
    size_t nvars;
    wwp_query *body;      /* L_EVERY */
    wwp_with *withs;
    size_t nwith;
} wwp_lit;

struct wwp_query {
    wwp_lit **lits; /* evaluation order after check */
    size_t n;
    uint32_t line, col;
};

/* One body of a rule definition with the value it gives (NULL: true). */
typedef struct wwp_body {
    wwp_query *q; /* NULL: no body, always true */
    wwp_node *value;
    uint32_t line, col;
} wwp_body;

/* One written rule: head args/key and an else-chain of bodies. */
typedef struct wwp_rdef {
    const char *file;
    uint32_t line, col;
    wwp_node *key;    /* partial set member / object key */
    wwp_node **args;  /* function argument patterns */
    size_t nargs;
    wwp_body *chain;
    size_t nchain;
    size_t nslots;    /* frame size for this definition */
} wwp_rdef;

typedef enum wwp_gkind { G_COMPLETE, G_SET, G_OBJ, G_OBJSET, G_FUNC } wwp_gkind;

struct wwp_group {
    int id;
    uint8_t kind;
    char *path; /* "data.pkg.name" for messages */
    wwp_rdef **defs;
    size_t ndefs, capdefs;
    wwp_rdef *dflt; /* default rule (value in chain[0].value) */
    size_t arity;   /* functions */
    wwp_tnode *tnode;
    bool const_value_ok; /* all bodies give constant values: stop at first solution */
};

struct wwp_tnode {
    const char *name;
    wwp_tnode **kids;
    size_t nkids, capkids;
    wwp_group *rule;
    const char **path; /* names from data down to here */
    size_t depth;
};
#endif
