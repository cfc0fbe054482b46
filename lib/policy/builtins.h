/* Shared declarations and argument helpers for the builtin implementations. */
#ifndef WWP_BUILTINS_H
#define WWP_BUILTINS_H
#include "policy/eval.h"

#define WW_BUILTIN(name, arity, fn) int fn(wwp_ev *e, wwp_val **a, wwp_val **out);
#include "policy/builtins.def"
#undef WW_BUILTIN

/* Type guard: wrong argument type is undefined (or eval_type_error in strict). */
#define NEED(cond, fname, what)                                                              \
    do {                                                                                     \
        if (!(cond))                                                                         \
            return wwp_bi_fail(e, "eval_type_error", "%s: %s", fname, what);                 \
    } while (0)
#define SET_OUT(v)                                                                           \
    do {                                                                                     \
        *out = (v);                                                                          \
        return *out ? 0 : wwp_ev_oom(e);                                                     \
    } while (0)

static inline bool is_str(const wwp_val *v) { return v->kind == WWP_STR; }
static inline bool is_num(const wwp_val *v) { return v->kind == WWP_NUM; }
static inline bool is_int_val(const wwp_val *v) { return v->kind == WWP_NUM && v->is_int; }
#endif
