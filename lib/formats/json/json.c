/* json: JSON documents found in model repositories. What matters in them:
 * chat templates (tokenizer_config.json, chat_template.json: Jinja programs a
 * server renders), Keras configs (handed to the keras module), and auto_map
 * (Hugging Face trust_remote_code: code from the repository runs). Anything
 * else is plain configuration: clean, not code-capable. */
#include <jansson.h>
#include <stdio.h>
#include "formats/format.h"
#include "formats/jinja/template.h"
#include "formats/json/jsonutil.h"
#include "formats/keras/keras.h"
#include "util/alloc.h"
#include "util/strutil.h"

typedef struct jctx {
    wwi_scan *s;
    bool templates; /* found at least one */
} jctx;

static bool ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int probe(const uint8_t *head, size_t n, uint64_t size)
{
    (void)size;
    size_t i = 0;
    if (n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
        i = 3; /* UTF-8 BOM */
    for (size_t k = i; k < n; k++)
        if (head[k] < 0x20 && !ws(head[k]))
            return 0; /* control bytes: binary, not JSON text */
    while (i < n && ws(head[i]))
        i++;
    if (i >= n || (head[i] != '{' && head[i] != '['))
        return 0;
    uint8_t open = head[i++];
    while (i < n && ws(head[i]))
        i++;
    if (i >= n)
        return 0;
    uint8_t c = head[i];
    if (open == '{')
        return c == '"' || c == '}' ? 30 : 0;
    return strchr("{[\"-0123456789tfn]", c) && c ? 30 : 0;
}

/* Extensions whose files may start with '{' without being JSON documents
 * (JSON lines, text): a parse failure there is "not JSON", not an error. */
static bool text_ext(const char *ext)
{
    static const char *const exts[] = {"", ".txt", ".md", ".jsonl", ".ndjson", ".log",
                                       ".csv", ".tsv", ".yaml", ".yml", ".html", ".js"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (wwi_str_eq(ext, exts[i]))
            return true;
    return false;
}

static ww_status one_template(jctx *j, const char *text, size_t len, const char *where,
                              unsigned flags)
{
    j->templates = true;
    return wwi_template_scan_ex(j->s, text, len, where, UINT64_MAX, flags);
}

/* chat_template: a string, or a list of {"name", "template"} (named templates,
 * e.g. "tool_use"). Any other shape is a tokenizer config we do not
 * understand: fail closed. */
static ww_status chat_template(jctx *j, json_t *v)
{
    if (json_is_string(v))
        return one_template(j, json_string_value(v), json_string_length(v), "chat_template", 0);
    if (!json_is_array(v))
        return wwi_scan_error(j->s, WW_E_FORMAT, UINT64_MAX,
                              "chat_template is neither a string nor a list of templates");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        json_t *name = json_object_get(e, "name"), *t = json_object_get(e, "template");
        if (!json_is_string(t))
            return wwi_scan_error(j->s, WW_E_FORMAT, UINT64_MAX,
                                  "chat_template[%zu] has no template string", i);
        char where[160];
        snprintf(where, sizeof where, "chat_template[%s]",
                 json_is_string(name) ? json_string_value(name) : "?");
        ww_status st = one_template(j, json_string_value(t), json_string_length(t), where, 0);
        if (st != WW_OK)
            return st;
    }
    return WW_OK;
}

/* Every other string that contains a Jinja block is analysed too: templates
 * hide under other keys (custom_chat_template). Only keys that say
 * "template" are held to parsing; elsewhere "{{" may be plain text. Depth is
 * bounded by the max_json_depth pre-scan. */
static ww_status walk(jctx *j, json_t *v, char *path, size_t plen, size_t cap, bool tkey)
{
    ww_status st = WW_OK;
    if (json_is_string(v)) {
        const char *t = json_string_value(v);
        size_t n = json_string_length(v);
        if (wwi_template_has_blocks(t, n))
            st = one_template(j, t, n, path, tkey ? 0 : WWI_TEMPLATE_LENIENT);
        return st;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            if (plen == 0 && wwi_str_eq(k, "chat_template"))
                continue; /* analysed by chat_template() */
            snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            size_t nl = strlen(path);
            st = walk(j, e, path, nl, cap, tkey || strstr(k, "template") != NULL);
            path[plen] = '\0';
            if (st != WW_OK)
                return st;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            snprintf(path + plen, cap - plen, "[%zu]", i);
            st = walk(j, e, path, strlen(path), cap, tkey);
            path[plen] = '\0';
            if (st != WW_OK)
                return st;
        }
    }
    return st;
}

/* auto_map (T-HUB-INDIRECTION): "AutoModel": "modeling_x.MyModel" (or a list,
 * or "other/repo--modeling_x.MyModel"). transformers imports and runs that
 * module when trust_remote_code=True. */
static void auto_map_entry(jctx *j, const char *cls, const char *ref)
{
    const char *dot = strrchr(ref, '.');
    char module[200];
    size_t ml = dot ? (size_t)(dot - ref) : strlen(ref);
    if (ml >= sizeof module)
        ml = sizeof module - 1;
    memcpy(module, ref, ml);
    module[ml] = '\0';
    bool other_repo = strstr(ref, "--") != NULL;
    wwi_finding(j->s, other_repo ? WW_SEV_HIGH : WW_SEV_MEDIUM, "hub", module,
                dot ? dot + 1 : ref, UINT64_MAX,
                "auto_map %s -> %s: %s runs with trust_remote_code=True", cls, ref,
                other_repo ? "code from another repository" : "repository code");
}

static ww_status auto_map(jctx *j, json_t *m)
{
    if (!json_is_object(m))
        return wwi_scan_error(j->s, WW_E_FORMAT, UINT64_MAX, "auto_map is not an object");
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (json_is_string(v)) {
            auto_map_entry(j, k, json_string_value(v));
        } else if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
                if (json_is_string(e))
                    auto_map_entry(j, k, json_string_value(e));
        }
    }
    return WW_OK;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    json_t *root = NULL;
    char *path = NULL;
    const ww_limits *lim = wwi_scan_limits(s);
    uint64_t size = wwi_src_size(in);
    const uint8_t *p = NULL;
    jctx j = {s, false};

    if (size > lim->max_header_bytes) {
        rc = wwi_scan_limit(s, "max_header_bytes", "JSON document of %llu bytes",
                            (unsigned long long)size);
        goto done;
    }
    rc = wwi_src_view_all(in, lim->max_header_bytes, &p);
    if (rc != WW_OK) {
        rc = wwi_scan_error(s, rc, 0, "cannot read the document: %s", ww_strerror(rc));
        goto done;
    }
    if (wwi_json_depth(p, (size_t)size, lim->max_json_depth) > lim->max_json_depth) {
        rc = wwi_scan_limit(s, "max_json_depth", "JSON nests deeper than %u",
                            (unsigned)lim->max_json_depth);
        goto done;
    }
    /* Duplicate keys are rejected: parsers disagree on which one wins, which
     * is how a second chat_template would hide. */
    json_error_t err;
    root = json_loadb((const char *)p, (size_t)size, JSON_REJECT_DUPLICATES, &err);
    if (!root && json_error_code(&err) == json_error_numeric_overflow)
        root = json_loadb((const char *)p, (size_t)size,
                          JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
    if (!root) {
        if (text_ext(wwi_scan_ext(s))) {
            wwi_scan_set_format(s, "unknown", false);
            goto done; /* looked like JSON, is not: plain text */
        }
        rc = wwi_scan_error(s, WW_E_FORMAT, err.position > 0 ? (uint64_t)err.position : 0,
                            "malformed JSON: %s (line %d)", err.text, err.line);
        goto done;
    }
    /* A Keras config is analysed as one, and then like any other JSON: a
     * "keras_version" key must not switch off the auto_map and template
     * checks (a tokenizer_config.json with one extra key was clean). */
    if (wwi_keras_json_is_config(root)) {
        rc = wwi_keras_config_scan(s, root, "config.json");
        if (rc != WW_OK)
            goto done;
    }
    if (json_is_object(root)) {
        json_t *am = json_object_get(root, "auto_map");
        json_t *ct = json_object_get(root, "chat_template");
        if (am)
            rc = auto_map(&j, am);
        if (rc == WW_OK && ct)
            rc = chat_template(&j, ct);
        if (rc != WW_OK)
            goto done;
    }
    path = wwi_calloc(1, 4096);
    if (!path) {
        rc = wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "out of memory");
        goto done;
    }
    rc = walk(&j, root, path, 0, 4096, false);
done:
    if (j.templates)
        wwi_scan_set_format(s, "json", true); /* carries a program servers render */
    wwi_free(path);
    json_decref(root);
    return rc;
}

const wwi_format wwi_format_json = {
    .name = "json",
    .description = "JSON configs: chat templates, Keras configs, auto_map",
    .flags = 0,
    .probe = probe,
    .scan = scan,
};
