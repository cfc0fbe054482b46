/* SARIF 2.1.0 output for code-scanning dashboards: one rule per finding kind,
 * one result per finding or error, level by severity. */
#include <string.h>
#include "common/wwx.h"

static const char *level_of(ww_severity sev)
{
    switch (sev) {
    case WW_SEV_CRITICAL:
    case WW_SEV_HIGH: return "error";
    case WW_SEV_MEDIUM: return "warning";
    default: return "note";
    }
}

static json_t *location(const ww_result *r, const char *member)
{
    json_t *phys = json_pack("{s:{s:s}}", "artifactLocation", "uri", ww_result_path(r));
    json_t *loc = json_pack("{s:o}", "physicalLocation", phys);
    if (member && member[0])
        json_object_set_new(loc, "logicalLocations",
                            json_pack("[{s:s, s:s}]", "fullyQualifiedName", member, "kind",
                                      "member"));
    return loc;
}

static void ensure_rule(json_t *rules, json_t *index, const char *id, const char *desc)
{
    if (json_object_get(index, id))
        return;
    json_object_set_new(index, id, json_integer((json_int_t)json_array_size(rules)));
    json_array_append_new(rules, json_pack("{s:s, s:{s:s}}", "id", id, "shortDescription", "text",
                                           desc));
}

json_t *wwx_sarif(ww_result *const *results, size_t n, ww_severity min_sev)
{
    json_t *rules = json_array(), *index = json_object(), *out = json_array();
    for (size_t k = 0; k < n; k++) {
        const ww_result *r = results[k];
        for (size_t i = 0; i < ww_result_finding_count(r); i++) {
            const ww_finding *f = ww_result_finding(r, i);
            if (f->severity < min_sev || f->severity == WW_SEV_NONE)
                continue;
            char id[96];
            snprintf(id, sizeof id, "weightwall/%s", f->kind ? f->kind : "finding");
            ensure_rule(rules, index, id, "weightwall finding");
            char text[1400];
            if (f->module && f->name)
                snprintf(text, sizeof text, "%s %s '%s %s': %s", ww_severity_name(f->severity),
                         f->kind ? f->kind : "finding", f->module, f->name,
                         f->message ? f->message : "");
            else
                snprintf(text, sizeof text, "%s %s", ww_severity_name(f->severity),
                         f->message ? f->message : "");
            json_t *res = json_pack("{s:s, s:s, s:{s:s}, s:[o], s:{s:s}}", "ruleId", id, "level",
                                    level_of(f->severity), "message", "text", text, "locations",
                                    location(r, f->member), "properties", "severity",
                                    ww_severity_name(f->severity));
            json_array_append_new(out, res);
        }
        for (size_t i = 0; i < ww_result_error_count(r); i++) {
            const ww_finding *e = ww_result_error_at(r, i);
            ensure_rule(rules, index, "weightwall/error", "file could not be fully scanned");
            json_array_append_new(out, json_pack("{s:s, s:s, s:{s:s}, s:[o]}", "ruleId",
                                                 "weightwall/error", "level", "error", "message",
                                                 "text", e->message, "locations",
                                                 location(r, e->member)));
        }
    }
    json_decref(index);
    json_t *driver = json_pack("{s:s, s:s, s:s, s:o}", "name", "weightwall", "version", WW_VERSION,
                               "informationUri", "https://example.invalid/weightwall", "rules",
                               rules);
    return json_pack("{s:s, s:s, s:[{s:{s:o}, s:o}]}", "$schema",
                     "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                     "tool", "driver", driver, "results", out);
}
