/* Lambda bytecode: base64 (as Keras' func_dump writes it) -> marshal ->
 * names and constants, classified through the exec table. Severity is at
 * least HIGH (threats.md T-KERAS-H5-LAMBDA: any Lambda runs code on load);
 * dangerous names raise it. Nothing here trusts keras_version or safe_mode. */
#include "formats/keras/kerasi.h"
#include "formats/keras/marshal.h"
#include "util/alloc.h"

ww_status wwi_keras_lambda_code(wwi_keras_ctx *k, json_t *code, const char *layer,
                                const char *slot, wwi_keras_hits *h)
{
    ww_status rc = WW_OK;
    uint8_t *raw = NULL;
    wwi_marshal_info info = {0};
    const ww_limits *lim = wwi_scan_limits(k->s);

    if (!json_is_string(code)) {
        rc = wwi_scan_error(k->s, WW_E_FORMAT, UINT64_MAX,
                            "%s: layer '%s': lambda %s has no bytecode string", k->where, layer,
                            slot);
        goto done;
    }
    size_t len = json_string_length(code);
    if (len > lim->max_string) {
        rc = wwi_scan_limit(k->s, "max_string", "%s: layer '%s': lambda %s is %zu bytes",
                            k->where, layer, slot, len);
        goto done;
    }
    size_t cap = len / 4 * 3 + 3;
    raw = wwi_malloc(cap);
    if (!raw) {
        rc = wwi_scan_error(k->s, WW_E_NOMEM, UINT64_MAX, "%s: layer '%s': no memory for %zu "
                            "bytes of lambda bytecode", k->where, layer, cap);
        goto done;
    }
    size_t n = cap;
    ww_status st = wwi_base64_decode(json_string_value(code), len, raw, &n);
    if (st != WW_OK) {
        rc = wwi_scan_error(k->s, WW_E_FORMAT, UINT64_MAX,
                            "%s: layer '%s': lambda %s is not valid base64", k->where, layer,
                            slot);
        goto done;
    }
    st = wwi_marshal_code(raw, n, k->max_depth, &info);
    if (st == WW_E_LIMIT) {
        rc = wwi_scan_limit(k->s, "max_json_depth",
                            "%s: layer '%s': lambda %s bytecode nested deeper than %u",
                            k->where, layer, slot, (unsigned)k->max_depth);
        goto done;
    }
    if (st != WW_OK) {
        rc = wwi_scan_error(k->s, st, UINT64_MAX,
                            "%s: layer '%s': lambda %s is not a marshalled CPython 3 code "
                            "object (%s at byte %zu of %zu)",
                            k->where, layer, slot, ww_strerror(st), info.err_off, n);
        goto done;
    }
    h->ncode += info.ncode;
    for (size_t i = 0; i < info.nstrs; i++) {
        const wwi_marshal_str *m = &info.strs[i];
        if (m->role == WWI_MARSHAL_META)
            continue; /* file and function names do not run anything */
        wwi_keras_hit(h, (const char *)m->p, m->len);
        if (m->role == WWI_MARSHAL_NAME)
            wwi_keras_sample(h, (const char *)m->p, m->len);
    }
done:
    wwi_marshal_info_free(&info);
    wwi_free(raw);
    return rc;
}

void wwi_keras_report_lambda(wwi_keras_ctx *k, const wwi_keras_hits *h, const char *layer,
                             const char *what)
{
    ww_severity sev = h->worst > WW_SEV_HIGH ? h->worst : WW_SEV_HIGH;
    char detail[700];
    int off = 0;
    if (h->ndanger)
        off = snprintf(detail, sizeof detail, "; dangerous names: %s (%s)", h->danger,
                       h->why ? h->why : "");
    if (off >= 0 && (size_t)off < sizeof detail)
        snprintf(detail + off, sizeof detail - (size_t)off, "%s%s%s",
                 h->nsample ? "; names: " : "", h->nsample ? h->sample : "",
                 h->bytecode && h->ncode == 0 ? "; bytecode not decoded" : "");
    wwi_finding(k->s, sev, "lambda", NULL, layer[0] ? layer : NULL, UINT64_MAX,
                "%s: layer '%s': %s%s", k->where, layer, what, detail);
}
