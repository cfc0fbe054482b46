/* Classification of names found in Keras configs, driven by keras_rules.def:
 * module/class references, exec-capable names, paths and URLs. */
#include <stdio.h>
#include <strings.h>
#include "formats/keras/kerasi.h"
#include "util/strutil.h"

typedef struct krow {
    const char *name;
    ww_severity sev;
    const char *reason;
} krow;

static const krow exec_rows[] = {
#define WW_KERAS_EXEC(n, sev, why) {n, sev, why},
#include "formats/keras/keras_rules.def"
#undef WW_KERAS_EXEC
};

static const krow gadget_rows[] = {
#define WW_KERAS_GADGET(n, sev, why) {n, sev, why},
#include "formats/keras/keras_rules.def"
#undef WW_KERAS_GADGET
};

static const char *const ns_rows[] = {
#define WW_KERAS_NS(prefix) prefix,
#include "formats/keras/keras_rules.def"
#undef WW_KERAS_NS
};

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static const krow *find_row(const krow *rows, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(rows[i].name) == len && wwi_bytes_eq(rows[i].name, name, len))
            return &rows[i];
    return NULL;
}

bool wwi_keras_is_ns(const char *module)
{
    for (size_t i = 0; i < sizeof ns_rows / sizeof ns_rows[0]; i++) {
        size_t n = strlen(ns_rows[i]);
        if (strncmp(module, ns_rows[i], n) == 0 && (module[n] == '\0' || module[n] == '.'))
            return true;
    }
    return false;
}

ww_severity wwi_keras_exec_sev(const char *name, size_t len, const char **reason)
{
    const krow *r = find_row(exec_rows, sizeof exec_rows / sizeof exec_rows[0], name, len);
    if (reason)
        *reason = r ? r->reason : NULL;
    return r ? r->sev : WW_SEV_NONE;
}

void wwi_keras_hits_init(wwi_keras_hits *h)
{
    memset(h, 0, sizeof *h);
}

/* Append ", item" to a bounded list unless it is already there. */
static void list_add(char *list, size_t cap, size_t *n, const char *item, size_t len)
{
    const char *q = list;
    while (*n > 0 && q < list + *n) {
        const char *end = strstr(q, ", ");
        size_t elen = end ? (size_t)(end - q) : strlen(q);
        if (elen == len && wwi_bytes_eq(q, item, len))
            return;
        if (!end)
            break;
        q = end + 2;
    }
    size_t need = len + (*n ? 2 : 0);
    if (*n + need + 6 >= cap) {
        /* full: mark the cut once */
        if (*n + 6 < cap && !wwi_str_has_suffix(list, "..."))
            *n += (size_t)snprintf(list + *n, cap - *n, "%s", *n ? ", ..." : "...");
        return;
    }
    if (*n) {
        memcpy(list + *n, ", ", 2);
        *n += 2;
    }
    memcpy(list + *n, item, len);
    *n += len;
    list[*n] = '\0';
}

static void hit_one(wwi_keras_hits *h, const char *name, size_t len)
{
    const krow *r = find_row(exec_rows, sizeof exec_rows / sizeof exec_rows[0], name, len);
    if (!r)
        return;
    if (r->sev > h->worst) {
        h->worst = r->sev;
        h->why = r->reason;
    }
    list_add(h->danger, sizeof h->danger, &h->ndanger, name, len);
}

void wwi_keras_hit(wwi_keras_hits *h, const char *name, size_t len)
{
    if (len == 0 || len > 256)
        return;
    hit_one(h, name, len);
    /* "os.system": its first and last components count on their own. */
    const char *dot = memchr(name, '.', len);
    if (!dot)
        return;
    hit_one(h, name, (size_t)(dot - name));
    const char *last = name + len;
    while (last > name && last[-1] != '.')
        last--;
    hit_one(h, last, (size_t)(name + len - last));
}

void wwi_keras_sample(wwi_keras_hits *h, const char *name, size_t len)
{
    /* Only identifier-like names: the list goes into a one-line message. */
    if (len == 0 || len > 64)
        return;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '.')
            return;
    list_add(h->sample, sizeof h->sample, &h->nsample, name, len);
}

void wwi_keras_ref(wwi_keras_ctx *k, const char *module, const char *name, const char *layer,
                   const char *what)
{
    if (!name || !name[0])
        return;
    const char *last = strrchr(name, '.');
    last = last ? last + 1 : name;
    const krow *g = find_row(gadget_rows, sizeof gadget_rows / sizeof gadget_rows[0], last,
                             strlen(last));
    bool in_ns = !module || !module[0] || wwi_keras_is_ns(module);
    if (g && in_ns) {
        wwi_finding(k->s, g->sev, "gadget", module, name, UINT64_MAX,
                    "%s: layer '%s' uses Keras %s '%s': %s", k->where, layer, what, name,
                    g->reason);
        return;
    }
    if (in_ns)
        return; /* resolved by Keras among its own objects or the user's registry */

    /* Outside Keras: loading imports `module` and calls what it names. */
    wwi_keras_hits h;
    wwi_keras_hits_init(&h);
    wwi_keras_hit(&h, module, strlen(module));
    wwi_keras_hit(&h, name, strlen(name));
    const char *creason = NULL;
    bool known = false;
    ww_severity cs = ww_engine_classify_global(wwi_scan_engine(k->s), module, name, &creason,
                                               &known);
    ww_severity sev = h.worst;
    const char *why = h.why;
    if (known && cs > sev) {
        sev = cs;
        why = creason;
    }
    if (!known && sev < WW_SEV_MEDIUM) {
        sev = WW_SEV_MEDIUM;
        why = "unknown module outside Keras' namespaces; loading imports it";
    }
    if (sev == WW_SEV_NONE) {
        /* Allow-listed as a pickle global, but Keras still calls it with
         * arguments from the file: keep it visible. */
        sev = WW_SEV_LOW;
        why = creason ? creason : "allow-listed Python global";
    }
    wwi_finding(k->s, sev, "import", module, name, UINT64_MAX,
                "%s: layer '%s' %s references %s.%s outside Keras' namespaces: %s", k->where,
                layer, what, module, name, why ? why : "");
}

static bool has_prefix_ci(const char *s, size_t n, const char *prefix)
{
    size_t pn = strlen(prefix);
    return n >= pn && strncasecmp(s, prefix, pn) == 0;
}

/* Paths and URLs in a model config point loaders outside the file
 * (threats.md T-KERAS-V3-CONFIG-INJECTION: MEDIUM). */
static bool path_or_url(const char *s, size_t n)
{
    static const char *const schemes[] = {"http://", "https://", "ftp://", "file://",
                                          "s3://",   "gs://",    "hdfs://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (has_prefix_ci(s, n, schemes[i]))
            return true;
    if (n >= 2 && s[0] == '/' && (is_alnum(s[1]) || s[1] == '.' || s[1] == '_' || s[1] == '~'))
        return true;
    if (n >= 2 && s[0] == '~' && s[1] == '/')
        return true;
    if (n >= 3 && is_alnum(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'))
        return true;
    if (n >= 2 && s[0] == '\\' && s[1] == '\\')
        return true;
    for (size_t i = 0; i + 2 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.' && (s[i + 2] == '/' || s[i + 2] == '\\'))
            return true;
    return false;
}

void wwi_keras_string(wwi_keras_ctx *k, const char *key, const char *str, size_t len,
                      const char *layer)
{
    if (path_or_url(str, len))
        wwi_finding(k->s, WW_SEV_MEDIUM, "path", NULL, key, UINT64_MAX,
                    "%s: layer '%s' key '%s' holds a path or URL: %.200s", k->where, layer,
                    key, str);
    /* "function": "os.system" names a function by its dotted path. */
    if (!wwi_str_eq(key, "function") && !wwi_str_eq(key, "function_name"))
        return;
    const char *dot = memchr(str, '.', len);
    if (!dot || memchr(str, ' ', len) || memchr(str, '\0', len))
        return;
    char buf[512];
    if (len >= sizeof buf) {
        wwi_finding(k->s, WW_SEV_MEDIUM, "import", NULL, key, UINT64_MAX,
                    "%s: layer '%s' key '%s' names an over-long dotted function", k->where,
                    layer, key);
        return;
    }
    memcpy(buf, str, len);
    buf[len] = '\0';
    char *cut = strrchr(buf, '.');
    *cut = '\0';
    wwi_keras_ref(k, buf, cut + 1, layer, "function");
}
