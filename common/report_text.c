/* Human-readable report: one line per finding, picklescan-style, then a summary. */
#include "common/wwx.h"

static const char *color_of(ww_severity sev)
{
    switch (sev) {
    case WW_SEV_CRITICAL: return "\033[1;31m";
    case WW_SEV_HIGH: return "\033[31m";
    case WW_SEV_MEDIUM: return "\033[33m";
    case WW_SEV_LOW: return "\033[36m";
    default: return "";
    }
}

static void location(FILE *out, const ww_result *r, const char *member)
{
    fputs(ww_result_path(r), out);
    if (member && member[0])
        fprintf(out, ":%s", member);
}

void wwx_result_text(FILE *out, const ww_result *r, ww_severity min_sev, bool show_skipped,
                     bool color)
{
    if (ww_result_skipped(r)) {
        if (show_skipped)
            fprintf(out, "%s: skipped (not a model format)\n", ww_result_path(r));
        return;
    }
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *f = ww_result_finding(r, i);
        if (f->severity < min_sev || f->severity == WW_SEV_NONE)
            continue;
        location(out, r, f->member);
        fprintf(out, ": %s%s%s ", color ? color_of(f->severity) : "",
                ww_severity_name(f->severity), color ? "\033[0m" : "");
        if (f->module && f->name)
            fprintf(out, "%s '%s %s': %s\n", f->kind ? f->kind : "finding", f->module, f->name,
                    f->message ? f->message : "");
        else
            fprintf(out, "%s: %s\n", f->kind ? f->kind : "finding", f->message ? f->message : "");
    }
    for (size_t i = 0; i < ww_result_error_count(r); i++) {
        const ww_finding *e = ww_result_error_at(r, i);
        location(out, r, e->member);
        fprintf(out, ": %sERROR%s %s: %s\n", color ? "\033[1;35m" : "", color ? "\033[0m" : "",
                e->kind, e->message);
    }
    if (ww_result_dropped_findings(r))
        fprintf(out, "%s: %llu more findings not listed (limit max_findings)\n",
                ww_result_path(r), (unsigned long long)ww_result_dropped_findings(r));
}

void wwx_summary_text(FILE *out, const wwx_summary *s)
{
    fprintf(out, "----------- SCAN SUMMARY -----------\n");
    fprintf(out, "Scanned files: %zu\n", s->scanned);
    fprintf(out, "Unsafe files: %zu\n", s->unsafe);
    fprintf(out, "Errors: %zu\n", s->errors);
    fprintf(out, "Dangerous imports: %zu\n", s->dangerous_imports);
    fprintf(out, "Skipped files: %zu\n", s->skipped);
}
