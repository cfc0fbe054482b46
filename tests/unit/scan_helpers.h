/* Helpers for unit tests that scan byte strings through the public API.
 * Include after check.h; the test defines `static ww_engine *eng;` first. */
#ifndef WW_SCAN_HELPERS_H
#define WW_SCAN_HELPERS_H
#include <string.h>
#include "weightwall.h"

static ww_result *scan(const void *p, size_t n, const char *name)
{
    ww_result *r = NULL;
    CHECK(ww_scan_memory(eng, p, n, name, &r) == WW_OK);
    return r;
}

/* A finding whose name is `name` at severity >= min. */
static bool has_finding(const ww_result *r, const char *name, ww_severity min)
{
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        if (f->name && strcmp(f->name, name) == 0 && f->severity >= min)
            return true;
    }
    return false;
}

/* A layer at `member` (and of `format`, unless NULL). */
static bool has_layer(const ww_result *r, const char *member, const char *format)
{
    for (size_t i = 0; i < ww_result_layer_count(r); i++) {
        const ww_layer *l = ww_result_layer(r, i);
        if (strcmp(l->member, member) == 0 && (!format || strcmp(l->format, format) == 0))
            return true;
    }
    return false;
}
#endif
