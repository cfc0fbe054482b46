/* The evaluator's per-call state. One wwp_ev exists per ww_policy_eval call:
 * it owns the value arena, the rule cache and the budgets, so a compiled
 * policy is only ever read. */
#ifndef WWP_EVAL_H
#define WWP_EVAL_H
#include "policy/policy_int.h"

enum { K_CONT = 0, K_STOP = 1, K_ERR = -1 };

typedef struct wwp_cache_ent {
    uint8_t state; /* 0 not yet, 1 being evaluated, 2 done */
    wwp_val *v;
} wwp_cache_ent;

typedef struct wwp_override {
    const wwp_group *g;
    wwp_val *v;
} wwp_override;

typedef struct wwp_rx wwp_rx; /* compiled regex cache entry (bi_regex.c) */

typedef struct wwp_ev {
    const wwp_policy *p;
    wwp_arena *a;
    wwp_val *input; /* NULL: undefined */
    wwp_val *data;  /* base documents */
    wwp_override *ovr;
    size_t novr;
    wwp_cache_ent *cache;
    wwp_val **slots; /* current frame */
    uint64_t steps, max_steps;
    uint32_t depth, max_depth;
    bool strict;
    int64_t now_ns;
    wwp_rx *rx;
    size_t nrx;
    wwp_err *err;
    ww_status st;
} wwp_ev;

/* Charge one step; false (and an error) when the budget is spent. */
bool wwp_step(wwp_ev *e);
/* Record an evaluation error (the first one wins). Returns K_ERR. */
int wwp_ev_fail(wwp_ev *e, ww_status st, const char *code, uint32_t line, uint32_t col,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int wwp_ev_oom(wwp_ev *e);
/* A builtin could not compute its result: undefined, or an error in strict
 * mode. Returns 0 (undefined) or K_ERR. */
int wwp_bi_fail(wwp_ev *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Evaluate every solution of query q, calling k(e, ctx) for each. */
int wwp_eval_query(wwp_ev *e, wwp_query *q, int (*k)(wwp_ev *, void *), void *ctx);
void wwp_ev_init(wwp_ev *e, const wwp_policy *p, wwp_arena *a, wwp_err *err);
void wwp_ev_cleanup(wwp_ev *e);
/* Evaluate one expression node: every value it takes. */
int wwp_eval_gen(wwp_ev *e, wwp_node *n, int (*k)(wwp_ev *, wwp_val *, void *), void *ctx);

/* Builtin signature: args[0..arity), *out = result (NULL: undefined). */
typedef int (*wwp_builtin_fn)(wwp_ev *e, wwp_val **args, wwp_val **out);
wwp_builtin_fn wwp_builtin_get(int idx);
const char *wwp_builtin_name(int idx);
#endif
