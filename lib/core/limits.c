/* Limits: defaults and names come from weightwall_limits.def, nowhere else. */
#include <string.h>
#include "util/strutil.h"
#include "weightwall.h"

void ww_limits_default(ww_limits *out)
{
#define WW_LIMIT(name, type, def, doc) out->name = (type)(def);
#include "weightwall_limits.def"
#undef WW_LIMIT
}

ww_status ww_limits_set(ww_limits *l, const char *name, const char *value)
{
    uint64_t v;
    if (!l || !name || !value)
        return WW_E_ARG;
#define WW_LIMIT(n, type, def, doc)                                                    \
    if (strcmp(name, #n) == 0) {                                                       \
        if (!wwi_parse_u64(value, strlen(value), (uint64_t)(type)-1, &v))              \
            return WW_E_ARG;                                                           \
        l->n = (type)v;                                                                \
        return WW_OK;                                                                  \
    }
#include "weightwall_limits.def"
#undef WW_LIMIT
    return WW_E_ARG;
}

bool ww_limits_describe(const ww_limits *l, size_t i, const char **name, const char **doc,
                        uint64_t *value)
{
    size_t k = 0;
#define WW_LIMIT(n, type, def, d)                                                      \
    if (k++ == i) {                                                                    \
        *name = #n;                                                                    \
        *doc = d;                                                                      \
        *value = (uint64_t)l->n;                                                       \
        return true;                                                                   \
    }
#include "weightwall_limits.def"
#undef WW_LIMIT
    return false;
}
