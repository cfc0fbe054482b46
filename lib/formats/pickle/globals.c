/* Classification of Python globals: user rules, then the built-in table
 * (globals.def), allow-list first. This is the one place matching rules live
 * (style.md section 9):
 *   1. user rules: exact (module, name), then "*" rows on the module and its
 *      parents at dot boundaries (longest first);
 *   2. built-in exact row;
 *   3. a dunder anywhere in the path (numpy + "__builtins__.eval") is CRITICAL;
 *   4. dotted names are classified by their full path the way find_class walks
 *      them: "pathlib" + "os.system" also matches (pathlib.os, system) and
 *      (os, system); the worst deny row over all of these wins;
 *   5. "*" rows on the module: deny rows apply to every name, allow/LOW rows
 *      only to plain (undotted) names;
 *   6. anything else is unknown: MEDIUM. */
#include <stdio.h>
#include "core/engine.h"
#include "formats/pickle/globals.h"
#include "util/strutil.h"

static const wwi_global_rule table[] = {
#define WW_GLOBAL(m, n, s, r) {m, n, s, (s) == WW_SEV_NONE, r},
#include "formats/pickle/globals.def"
#undef WW_GLOBAL
};
#define NROWS (sizeof table / sizeof table[0])

size_t wwi_globals_count(void) { return NROWS; }
const wwi_global_rule *wwi_globals_row(size_t i) { return i < NROWS ? &table[i] : NULL; }

/* Compare (module[0, mlen), name) with a row. */
static int cmp_row(const char *mod, size_t mlen, const char *name, const wwi_global_rule *r)
{
    int c = strncmp(mod, r->module, mlen);
    if (c == 0 && r->module[mlen] != '\0')
        c = -1;
    return c != 0 ? c : strcmp(name, r->name);
}

static const wwi_global_rule *find_builtin(const char *mod, size_t mlen, const char *name)
{
    size_t lo = 0, hi = NROWS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_row(mod, mlen, name, &table[mid]);
        if (c == 0)
            return &table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static const wwi_global_rule *find_user(const ww_engine *e, const char *mod, size_t mlen,
                                        const char *name)
{
    if (!e)
        return NULL;
    /* Later rules win: users append overrides. */
    for (size_t i = e->n_user_rules; i-- > 0;)
        if (cmp_row(mod, mlen, name, &e->user_rules[i]) == 0)
            return &e->user_rules[i];
    return NULL;
}

typedef const wwi_global_rule *(*finder)(const ww_engine *, const char *, size_t, const char *);
static const wwi_global_rule *fb(const ww_engine *e, const char *m, size_t l, const char *n)
{
    (void)e;
    return find_builtin(m, l, n);
}

/* "*" row on module[0, mlen) or a parent, longest first. */
static const wwi_global_rule *find_star(finder f, const ww_engine *e, const char *mod,
                                        size_t mlen)
{
    for (size_t l = mlen; l > 0; l--) {
        if (l != mlen && mod[l] != '.')
            continue;
        const wwi_global_rule *r = f(e, mod, l, "*");
        if (r)
            return r;
    }
    return NULL;
}

static bool is_dunder(const char *p, size_t n)
{
    return n > 4 && p[0] == '_' && p[1] == '_' && p[n - 2] == '_' && p[n - 1] == '_';
}

static bool plain_rule_ok(const wwi_global_rule *r, bool dotted)
{
    /* Allow-ish "*" rows never vouch for attribute chains. */
    return r && (!dotted || (!r->safe && r->sev >= WW_SEV_MEDIUM));
}

static ww_severity ret(const wwi_global_rule *r, const char **reason, bool *known, bool *safe)
{
    *reason = r->reason;
    *known = true;
    *safe = r->safe;
    return r->safe ? WW_SEV_NONE : r->sev;
}

/* Worst deny row over module + every prefix of the attribute chain, and every
 * chain segment taken as a top-level module (pathlib.os is the module os).
 * module + name is at most 1022 bytes (checked by the caller). */
static const wwi_global_rule *consider(const wwi_global_rule *worst, const char *mod,
                                       size_t mlen, const char *rest)
{
    const wwi_global_rule *r = find_builtin(mod, mlen, rest);
    if (!r || r->safe)
        r = find_star(fb, NULL, mod, mlen);
    if (r && !r->safe && r->sev >= WW_SEV_MEDIUM && (!worst || r->sev > worst->sev))
        return r;
    return worst;
}

static const wwi_global_rule *worst_chain(const char *module, const char *name)
{
    char buf[1024];
    const wwi_global_rule *worst = NULL;
    size_t ml = strlen(module), nl = strlen(name);
    memcpy(buf, module, ml);
    buf[ml] = '.';
    memcpy(buf + ml + 1, name, nl + 1);
    size_t end = ml + 1 + nl;
    /* Each '.' inside name ends a candidate module; it starts at 0 (the
     * pickled module plus attributes) or at any name segment before the dot. */
    for (size_t en = ml + 1; en < end; en++) {
        if (buf[en] != '.')
            continue;
        const char *rest = buf + en + 1;
        worst = consider(worst, buf, en, rest);
        for (size_t st = ml + 1; st < en; st++)
            if (buf[st - 1] == '.')
                worst = consider(worst, buf + st, en - st, rest);
    }
    return worst;
}

ww_severity wwi_globals_classify(const ww_engine *e, const char *module, const char *name,
                                 const char **reason, bool *known, bool *safe)
{
    static const wwi_global_rule dunder = {"", "", WW_SEV_CRITICAL, false,
                                           "attribute chain through a dunder (reaches builtins, "
                                           "globals or any object)"};
    static const wwi_global_rule mainsub = {"", "", WW_SEV_HIGH, false,
                                            "importing a __main__ submodule runs a program"};
    static const wwi_global_rule toolong = {"", "", WW_SEV_HIGH, false,
                                            "name too long to classify"};
    size_t ml = strlen(module);
    bool dotted = strchr(name, '.') != NULL;
    const wwi_global_rule *r = find_user(e, module, ml, name);
    if (r)
        return ret(r, reason, known, safe);
    r = e ? find_star(find_user, e, module, ml) : NULL;
    if (plain_rule_ok(r, dotted))
        return ret(r, reason, known, safe);
    r = find_builtin(module, ml, name);
    if (r)
        return ret(r, reason, known, safe);

    /* Dunders in the name or module path; "pkg.__main__" runs a program on import. */
    bool main_sub = false;
    for (int part = 0; part < 2; part++) {
        const char *p = part ? name : module;
        while (*p) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            bool main_mod = part == 0 && n == 8 && wwi_bytes_eq(p, "__main__", 8);
            if (main_mod && p != module)
                main_sub = true;
            if (is_dunder(p, n) && !main_mod)
                return ret(&dunder, reason, known, safe);
            p += n + (dot ? 1 : 0);
        }
    }
    if (ml + strlen(name) + 2 > 1024)
        return ret(&toolong, reason, known, safe);

    const wwi_global_rule *worst = dotted ? worst_chain(module, name) : NULL;
    r = find_star(fb, NULL, module, ml);
    if (r && !r->safe && r->sev >= WW_SEV_MEDIUM && (!worst || r->sev > worst->sev))
        worst = r;
    if (main_sub && (!worst || worst->sev < mainsub.sev))
        worst = &mainsub;
    if (worst)
        return ret(worst, reason, known, safe);
    if (plain_rule_ok(r, dotted))
        return ret(r, reason, known, safe);
    *reason = "not in the allow-list";
    *known = false;
    *safe = false;
    return WW_SEV_MEDIUM;
}
