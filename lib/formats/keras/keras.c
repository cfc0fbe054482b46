/* Keras config analysis (keras.h): one depth-limited walk over the whole JSON
 * document, so nested models, wrappers (TimeDistributed, Bidirectional) and
 * layers lists at any depth are all seen without knowing Keras' schema.
 * Per object it looks for: Lambda layers and serialized lambdas (decoding the
 * marshalled bytecode), module/class_name references outside Keras'
 * namespaces, in-namespace gadgets, custom registered objects, and strings
 * that are paths or URLs. Nothing in the file (keras_version, "safe" claims)
 * is trusted to lower a severity. */
#include <jansson.h>
#include "formats/keras/keras.h"
#include "formats/keras/kerasi.h"
#include "util/strutil.h"

enum walk_mode {
    M_NONE,
    M_LAMBDA_CONFIG, /* the config of a Lambda layer, analysed by lambda_layer() */
    M_FUNC,          /* a function slot of that config, already analysed */
};

static ww_status walk(wwi_keras_ctx *k, json_t *v, const char *key, uint32_t depth,
                      const char *layer, enum walk_mode mode);

bool wwi_keras_json_is_config(const void *json_root)
{
    json_t *root = (json_t *)(uintptr_t)json_root;
    if (!json_is_object(root))
        return false;
    if (json_is_string(json_object_get(root, "class_name")) && json_object_get(root, "config"))
        return true;
    return json_is_string(json_object_get(root, "keras_version"));
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A Lambda's function given as text (not bytecode): Keras cannot load it as a
 * lambda, but report the dangerous identifiers it mentions. */
static void scan_source_text(const char *text, size_t len, wwi_keras_hits *h)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            size_t start = i;
            while (i < len) {
                c = (unsigned char)text[i];
                if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9')))
                    break;
                i++;
            }
            wwi_keras_hit(h, text + start, i - start);
        } else {
            i++;
        }
    }
}

/* Analyse one function slot of a Lambda (function / output_shape / mask). */
static ww_status lambda_slot(wwi_keras_ctx *k, json_t *cfg, const char *slot, const char *layer,
                             wwi_keras_hits *h)
{
    json_t *val = json_object_get(cfg, slot);
    char tkey[32];
    snprintf(tkey, sizeof tkey, "%s_type", slot);
    const char *type = jstr(cfg, tkey);
    if (!val || json_is_null(val))
        return WW_OK;
    if (json_is_object(val) && wwi_str_eq(jstr(val, "class_name"), "__lambda__")) {
        h->bytecode = true;
        return wwi_keras_lambda_code(k, json_object_get(json_object_get(val, "config"), "code"),
                                     layer, slot, h);
    }
    /* Keras 2: [base64 marshal, defaults, closure] with <slot>_type "lambda". */
    if (json_is_array(val) && (type == NULL || wwi_str_eq(type, "lambda"))) {
        if (!json_is_string(json_array_get(val, 0)))
            return type ? wwi_scan_error(k->s, WW_E_FORMAT, UINT64_MAX,
                                         "%s: Lambda layer '%s': %s is not [code, defaults, "
                                         "closure]", k->where, layer, slot)
                        : WW_OK; /* raw data, e.g. an output shape list */
        h->bytecode = true;
        return wwi_keras_lambda_code(k, json_array_get(val, 0), layer, slot, h);
    }
    if (json_is_string(val)) {
        const char *text = json_string_value(val);
        if (wwi_str_eq(type, "function")) {
            /* Looked up by name; Keras 2 merges the globals of config.module. */
            wwi_keras_ref(k, jstr(cfg, "module"), text, layer, "Lambda function");
            wwi_keras_hit(h, text, json_string_length(val));
        } else if (!wwi_str_eq(type, "raw")) {
            scan_source_text(text, json_string_length(val), h);
            h->source = true;
        }
    }
    return WW_OK;
}

static ww_status lambda_layer(wwi_keras_ctx *k, json_t *o, const char *layer)
{
    json_t *cfg = json_object_get(o, "config");
    wwi_keras_hits h;
    wwi_keras_hits_init(&h);
    ww_status rc = WW_OK;
    if (json_is_object(cfg)) {
        static const char *const slots[] = {"function", "output_shape", "mask"};
        for (size_t i = 0; i < 3 && !wwi_keras_fatal(rc); i++) {
            ww_status st = lambda_slot(k, cfg, slots[i], layer, &h);
            if (rc == WW_OK)
                rc = st;
        }
        /* Keras 2 runs the lambda with the globals of config.module. */
        const char *mod = jstr(cfg, "module");
        if (mod) {
            const char *dot = strchr(mod, '.');
            wwi_keras_hit(&h, mod, dot ? (size_t)(dot - mod) : strlen(mod));
        }
    }
    wwi_keras_report_lambda(k, &h, layer,
                            h.bytecode ? "Lambda layer runs marshalled Python bytecode on load"
                            : h.source ? "Lambda layer with its function given as source text"
                                       : "Lambda layer (arbitrary Python function)");
    wwi_keras_hits_free(&h);
    return rc;
}

/* A serialized lambda outside a Lambda layer: {"class_name": "__lambda__"}. */
static ww_status lambda_object(wwi_keras_ctx *k, json_t *o, const char *key, const char *layer)
{
    wwi_keras_hits h;
    wwi_keras_hits_init(&h);
    h.bytecode = true;
    ww_status rc = wwi_keras_lambda_code(
        k, json_object_get(json_object_get(o, "config"), "code"), layer, key, &h);
    wwi_keras_report_lambda(k, &h, layer, "serialized Python lambda (bytecode runs on load)");
    wwi_keras_hits_free(&h);
    return rc;
}

/* Keras 2 style "<slot>_type": "lambda" in objects other than Lambda layers. */
static ww_status typed_lambdas(wwi_keras_ctx *k, json_t *o, const char *layer)
{
    const char *key;
    json_t *val;
    ww_status rc = WW_OK;
    json_object_foreach(o, key, val) {
        size_t n = strlen(key);
        if (n <= 5 || n >= 64 || !wwi_str_has_suffix(key, "_type") ||
            !wwi_str_eq(json_string_value(val), "lambda"))
            continue;
        char slot[64];
        memcpy(slot, key, n - 5);
        slot[n - 5] = '\0';
        json_t *fn = json_object_get(o, slot);
        if (!json_is_array(fn))
            continue;
        wwi_keras_hits h;
        wwi_keras_hits_init(&h);
        h.bytecode = true;
        ww_status st = wwi_keras_lambda_code(k, json_array_get(fn, 0), layer, slot, &h);
        wwi_keras_report_lambda(k, &h, layer, "serialized Python lambda (bytecode runs on load)");
        wwi_keras_hits_free(&h);
        if (rc == WW_OK)
            rc = st;
        if (wwi_keras_fatal(rc))
            break;
    }
    return rc;
}

/* module / class_name / registered_name / function references of one object. */
static void object_refs(wwi_keras_ctx *k, json_t *o, const char *layer)
{
    const char *cls = jstr(o, "class_name");
    const char *module = jstr(o, "module");
    const char *fname = jstr(o, "function_name");
    const char *reg = jstr(o, "registered_name");
    /* {"class_name": "function", "config": "<name>"} names a function. */
    const char *target = cls;
    if (wwi_str_eq(cls, "function") && jstr(o, "config"))
        target = jstr(o, "config");
    if (fname)
        target = fname;
    if (module && target)
        wwi_keras_ref(k, module, target, layer, cls && !fname ? "object" : "function");
    else if (target)
        wwi_keras_ref(k, NULL, target, layer, "object");
    /* "package>Name" comes from keras.saving.register_keras_serializable:
     * loading needs user code registered under that name. */
    const char *custom = reg && strchr(reg, '>') ? reg
                         : target && strchr(target, '>') ? target : NULL;
    if (custom && (!module || wwi_keras_is_ns(module)))
        wwi_finding(k->s, WW_SEV_LOW, "custom", NULL, custom, UINT64_MAX,
                    "%s: layer '%s' uses custom registered object '%s' (needs user code)",
                    k->where, layer, custom);
}

static ww_status walk_object(wwi_keras_ctx *k, json_t *o, uint32_t depth, const char *layer,
                             enum walk_mode mode)
{
    ww_status rc = WW_OK, st = WW_OK;
    const char *cls = jstr(o, "class_name");
    json_t *cfg = json_object_get(o, "config");
    const char *name = json_is_object(cfg) ? jstr(cfg, "name") : NULL;
    const char *here = name ? name : layer;
    bool is_lambda = wwi_str_eq(cls, "Lambda");

    if (is_lambda)
        st = lambda_layer(k, o, here);
    else if (wwi_str_eq(cls, "__lambda__") && mode != M_FUNC)
        st = lambda_object(k, o, "config", here);
    if (st == WW_OK && mode != M_LAMBDA_CONFIG && !is_lambda)
        st = typed_lambdas(k, o, here);
    rc = st;
    if (wwi_keras_fatal(rc))
        return rc;
    object_refs(k, o, here);

    const char *key;
    json_t *child;
    json_object_foreach(o, key, child) {
        enum walk_mode cm = M_NONE;
        if (is_lambda && wwi_str_eq(key, "config"))
            cm = M_LAMBDA_CONFIG;
        else if (mode == M_LAMBDA_CONFIG &&
                 (wwi_str_eq(key, "function") || wwi_str_eq(key, "output_shape") ||
                  wwi_str_eq(key, "mask") || wwi_str_eq(key, "module")))
            cm = M_FUNC;
        st = walk(k, child, key, depth + 1, here, cm);
        if (rc == WW_OK)
            rc = st;
        if (wwi_keras_fatal(rc))
            break;
    }
    return rc;
}

static ww_status walk(wwi_keras_ctx *k, json_t *v, const char *key, uint32_t depth,
                      const char *layer, enum walk_mode mode)
{
    ww_status st = wwi_scan_check_time(k->s);
    if (st != WW_OK)
        return st;
    if (depth > k->max_depth) {
        if (!k->limit_hit)
            wwi_scan_limit(k->s, "max_json_depth", "%s: Keras config nested deeper than %u",
                           k->where, (unsigned)k->max_depth);
        k->limit_hit = true;
        return WW_E_LIMIT;
    }
    if (json_is_object(v))
        return walk_object(k, v, depth, layer, mode);
    if (json_is_array(v)) {
        ww_status rc = WW_OK;
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            st = walk(k, item, key, depth + 1, layer, M_NONE);
            if (rc == WW_OK)
                rc = st;
            if (wwi_keras_fatal(rc))
                break;
        }
        return rc;
    }
    if (json_is_string(v) && mode != M_FUNC)
        wwi_keras_string(k, key, json_string_value(v), json_string_length(v), layer);
    return WW_OK;
}

ww_status wwi_keras_config_scan(wwi_scan *s, const void *json_root, const char *where)
{
    wwi_keras_ctx k = {
        .s = s,
        .where = where ? where : "config",
        .max_depth = wwi_scan_limits(s)->max_json_depth,
    };
    json_t *root = (json_t *)(uintptr_t)json_root;
    if (!root)
        return wwi_scan_error(s, WW_E_ARG, UINT64_MAX, "%s: no Keras config", k.where);
    ww_status st = walk(&k, root, "", 0, "", M_NONE);
    /* Limits and decoding errors are recorded where they happen; only the
     * statuses that must stop the whole scan are passed up. */
    return wwi_keras_fatal(st) ? st : WW_OK;
}
