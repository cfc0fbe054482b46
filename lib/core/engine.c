/* ww_engine: frozen configuration shared by scans. */
#include <stdio.h>
#include <strings.h>
#include <string.h>
#include <jansson.h>
#include "core/engine.h"
#include "util/alloc.h"
#include "util/strutil.h"

ww_status ww_engine_new(ww_engine **out)
{
    if (!out)
        return WW_E_ARG;
    /* jansson (used by format modules for JSON metadata) allocates through a
     * capped allocator that fault injection leaves alone: jansson 2.14's lexer
     * asserts (aborts) when its string buffer fails to grow, found by the
     * allocation sweep. Inputs are bounded by max_header_bytes instead. */
    json_set_alloc_funcs(wwi_malloc_nofault, wwi_free);
    ww_engine *e = wwi_calloc(1, sizeof *e);
    if (!e)
        return WW_E_NOMEM;
    ww_limits_default(&e->limits);
    e->threshold = WW_SEV_MEDIUM;
    *out = e;
    return WW_OK;
}

static void free_rules(ww_engine *e)
{
    for (size_t i = 0; i < e->n_user_rules; i++) {
        wwi_free((void *)e->user_rules[i].module);
        wwi_free((void *)e->user_rules[i].name);
        wwi_free((void *)e->user_rules[i].reason);
    }
    wwi_free(e->user_rules);
    e->user_rules = NULL;
    e->n_user_rules = 0;
}

void ww_engine_free(ww_engine *e)
{
    if (!e)
        return;
    free_rules(e);
    wwi_free(e);
}

void ww_engine_set_limits(ww_engine *e, const ww_limits *l) { e->limits = *l; }
const ww_limits *ww_engine_limits(const ww_engine *e) { return &e->limits; }
void ww_engine_set_threshold(ww_engine *e, ww_severity sev) { e->threshold = sev; }
ww_severity ww_engine_threshold(const ww_engine *e) { return e->threshold; }
void ww_engine_set_fail_alloc(ww_engine *e, uint64_t nth) { e->fail_alloc = nth; }

ww_severity ww_engine_classify_global(const ww_engine *e, const char *module, const char *name,
                                      const char **reason, bool *known)
{
    bool safe = false, k = false;
    const char *why = NULL;
    ww_severity sev = wwi_globals_classify(e, module, name, &why, &k, &safe);
    if (reason)
        *reason = why;
    if (known)
        *known = k;
    return safe ? WW_SEV_NONE : sev;
}

/* Split the next whitespace-separated token of line [p, end). */
static const char *token(const char **p, const char *end, size_t *n)
{
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
    const char *t = *p;
    while (*p < end && **p != ' ' && **p != '\t')
        (*p)++;
    *n = (size_t)(*p - t);
    return *n ? t : NULL;
}

ww_status ww_engine_load_globals(ww_engine *e, const char *text, size_t len, char *errbuf,
                                 size_t errlen)
{
    const char *p = text, *end = text + len;
    unsigned lineno = 0;
    while (p < end) {
        lineno++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *lend = eol ? eol : end;
        const char *hash = memchr(p, '#', (size_t)(lend - p));
        const char *cend = hash ? hash : lend;
        while (cend > p && (cend[-1] == ' ' || cend[-1] == '\t' || cend[-1] == '\r'))
            cend--;
        const char *q = p;
        size_t nm, nn, ns;
        const char *mod = token(&q, cend, &nm);
        if (mod) {
            const char *nam = token(&q, cend, &nn);
            const char *sevt = token(&q, cend, &ns);
            while (q < cend && (*q == ' ' || *q == '\t'))
                q++;
            char sevbuf[16] = "";
            ww_severity sev = WW_SEV_NONE;
            bool safe = false;
            if (sevt && ns < sizeof sevbuf) {
                memcpy(sevbuf, sevt, ns);
                sevbuf[ns] = '\0';
            }
            if (!nam || !sevt) {
                snprintf(errbuf, errlen, "line %u: expected '<module> <name|*> <severity> [reason]'",
                         lineno);
                return WW_E_ARG;
            }
            if (strcasecmp(sevbuf, "safe") == 0 || strcasecmp(sevbuf, "allow") == 0)
                safe = true;
            else if (!ww_severity_parse(sevbuf, &sev) || sev == WW_SEV_NONE) {
                snprintf(errbuf, errlen,
                         "line %u: severity must be safe, low, medium, high or critical", lineno);
                return WW_E_ARG;
            }
            void *arr = e->user_rules;
            ww_status st = wwi_realloc(&arr, (e->n_user_rules + 1) * sizeof(wwi_global_rule));
            if (st != WW_OK)
                return st;
            e->user_rules = arr;
            wwi_global_rule *r = &e->user_rules[e->n_user_rules];
            r->module = wwi_strndup(mod, nm);
            r->name = wwi_strndup(nam, nn);
            r->reason = wwi_strndup(q, (size_t)(cend - q));
            r->sev = safe ? WW_SEV_NONE : sev;
            r->safe = safe;
            e->n_user_rules++;
            if (!r->module || !r->name || !r->reason)
                return WW_E_NOMEM;
            if (r->reason[0] == '\0') {
                wwi_free((void *)r->reason);
                r->reason = wwi_strdup(safe ? "allowed by user rule" : "denied by user rule");
                if (!r->reason)
                    return WW_E_NOMEM;
            }
        }
        p = eol ? eol + 1 : end;
    }
    return WW_OK;
}
