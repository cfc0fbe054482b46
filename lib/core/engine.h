#ifndef WWI_ENGINE_H
#define WWI_ENGINE_H
#include "weightwall.h"

/* A globals rule (built-in table row or user rule). name "*" covers the whole
 * module and its submodules. */
typedef struct wwi_global_rule {
    const char *module;
    const char *name;
    ww_severity sev;
    bool safe; /* allow-list row: no finding */
    const char *reason;
} wwi_global_rule;

struct ww_engine {
    ww_limits limits;
    ww_severity threshold;
    uint64_t fail_alloc;
    wwi_global_rule *user_rules; /* owned, strings owned */
    size_t n_user_rules;
};

/* Implemented in formats/pickle/globals.c: the one function that matches a
 * (module, dotted name) against user rules and then the built-in table. */
ww_severity wwi_globals_classify(const ww_engine *e, const char *module, const char *name,
                                 const char **reason, bool *known, bool *safe);
#endif
