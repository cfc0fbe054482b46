/* Placeholder: replaced by the real globals table. */
#include "core/engine.h"

ww_severity wwi_globals_classify(const ww_engine *e, const char *module, const char *name,
                                 const char **reason, bool *known, bool *safe)
{
    (void)e; (void)module; (void)name;
    *reason = "not in the allow-list";
    *known = false;
    *safe = false;
    return WW_SEV_MEDIUM;
}
