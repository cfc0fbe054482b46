/* JSON report of one scan result; the schema is documented in
 * docs/cli/json-schema.md and is what policies see per file. */
#include "common/wwx.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *offset_json(uint64_t off)
{
    return off == UINT64_MAX ? json_null() : json_integer((json_int_t)off);
}

void wwx_summary_add(wwx_summary *sum, const ww_result *r, ww_severity threshold)
{
    sum->scanned++;
    if (ww_result_skipped(r))
        sum->skipped++;
    switch (ww_result_verdict(r)) {
    case WW_VERDICT_CLEAN: sum->clean++; break;
    case WW_VERDICT_UNSAFE: sum->unsafe++; break;
    case WW_VERDICT_ERROR: sum->errors++; break;
    }
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        if (f->kind && f->module && f->severity >= threshold && f->severity != WW_SEV_NONE)
            sum->dangerous_imports++;
    }
}

json_t *wwx_result_json(const ww_result *r, ww_severity min_sev)
{
    json_t *o = json_object();
    ww_severity max = ww_result_max_severity(r);
    json_object_set_new(o, "path", json_string(ww_result_path(r)));
    json_object_set_new(o, "format", json_string(ww_result_format(r)));
    json_object_set_new(o, "verdict", json_string(ww_verdict_name(ww_result_verdict(r))));
    json_object_set_new(o, "max_severity",
                        max == WW_SEV_NONE ? json_null() : json_string(ww_severity_name(max)));
    json_object_set_new(o, "status", json_string(ww_status_name(ww_result_status(r))));
    json_object_set_new(o, "error", str_or_null(ww_result_error(r)));
    json_object_set_new(o, "skipped", json_boolean(ww_result_skipped(r)));
    json_object_set_new(o, "code_capable", json_boolean(ww_result_code_capable(r)));
    json_object_set_new(o, "size", json_integer((json_int_t)ww_result_size(r)));
    json_object_set_new(o, "bytes_read", json_integer((json_int_t)ww_result_bytes_read(r)));
    json_object_set_new(o, "elapsed_ms", json_real((double)ww_result_elapsed_ns(r) / 1e6));

    json_t *layers = json_array();
    for (size_t i = 0; i < ww_result_layer_count(r); i++) {
        const ww_layer *l = ww_result_layer(r, i);
        json_t *lo = json_object();
        json_object_set_new(lo, "member", json_string(l->member));
        json_object_set_new(lo, "format", json_string(l->format));
        json_object_set_new(lo, "code_capable", json_boolean(l->code_capable));
        json_object_set_new(lo, "size", json_integer((json_int_t)l->size));
        json_array_append_new(layers, lo);
    }
    json_object_set_new(o, "layers", layers);

    json_t *findings = json_array();
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        /* Notes (severity NONE) never affect the verdict and are always listed. */
        if (f->severity < min_sev && f->severity != WW_SEV_NONE)
            continue;
        json_t *fo = json_object();
        json_object_set_new(fo, "severity", json_string(ww_severity_name(f->severity)));
        json_object_set_new(fo, "kind", str_or_null(f->kind));
        json_object_set_new(fo, "module", str_or_null(f->module));
        json_object_set_new(fo, "name", str_or_null(f->name));
        json_object_set_new(fo, "member", str_or_null(f->member));
        json_object_set_new(fo, "message", str_or_null(f->message));
        json_object_set_new(fo, "offset", offset_json(f->offset));
        json_array_append_new(findings, fo);
    }
    json_object_set_new(o, "findings", findings);
    if (ww_result_dropped_findings(r))
        json_object_set_new(o, "findings_dropped",
                            json_integer((json_int_t)ww_result_dropped_findings(r)));

    json_t *errors = json_array();
    for (size_t i = 0; i < ww_result_error_count(r); i++) {
        const ww_finding *f = ww_result_error_at(r, i);
        json_t *eo = json_object();
        json_object_set_new(eo, "kind", str_or_null(f->kind));
        json_object_set_new(eo, "member", str_or_null(f->member));
        json_object_set_new(eo, "message", str_or_null(f->message));
        json_object_set_new(eo, "offset", offset_json(f->offset));
        json_array_append_new(errors, eo);
    }
    json_object_set_new(o, "errors", errors);
    return o;
}

json_t *wwx_summary_json(const wwx_summary *s)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "scanned", (json_int_t)s->scanned,
                     "clean", (json_int_t)s->clean, "unsafe", (json_int_t)s->unsafe, "errors",
                     (json_int_t)s->errors, "skipped", (json_int_t)s->skipped,
                     "dangerous_imports", (json_int_t)s->dangerous_imports);
}
