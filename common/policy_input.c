#include <ctype.h>
#include <string.h>
#include "common/policy_input.h"

/* Cloudsmith's file_extension: the last suffix with its dot, lower-cased, ""
 * when the name has none. */
static void extension_of(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return;
    size_t i = 0;
    for (; dot[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)dot[i]);
    out[i] = '\0';
}

json_t *wwx_policy_input(const wwx_pkg *pkg, ww_severity threshold)
{
    json_t *files = json_array(), *wfiles = json_array();
    bool complete = true, safe = true;
    for (size_t i = 0; i < pkg->nfiles; i++) {
        const wwx_pkg_file *f = &pkg->files[i];
        char ext[32];
        extension_of(f->path, ext, sizeof ext);
        json_array_append_new(files,
                              json_pack("{s:s, s:s, s:I}", "filename", f->path, "file_extension",
                                        ext, "size", (json_int_t)ww_result_size(f->result)));
        ww_verdict v = ww_result_verdict(f->result);
        if (v == WW_VERDICT_ERROR || ww_result_status(f->result) != WW_OK)
            complete = false;
        ww_severity max = ww_result_max_severity(f->result);
        if (v != WW_VERDICT_CLEAN || (max != WW_SEV_NONE && max >= threshold))
            safe = false;
        json_t *wf = json_deep_copy(f->file_json);
        json_object_set_new(wf, "filename", json_string(f->path));
        json_array_append_new(wfiles, wf);
    }
    /* Scanning errors and limit hits are never SAFE. */
    const char *summary = safe && complete ? "SAFE" : "UNSAFE";
    json_t *package = json_pack("{s:s, s:s, s:s, s:o}", "format", pkg->format, "name", pkg->name,
                                "version", pkg->version, "files", files);
    json_t *sec = json_pack("{s:s, s:s}", "availability", complete ? "COMPLETE" : "INCOMPLETE",
                            "scan_summary", summary);
    json_t *ww = json_pack("{s:s, s:s, s:s, s:b, s:o}", "version", WW_VERSION, "threshold",
                           ww_severity_name(threshold), "source", pkg->source, "complete",
                           complete, "files", wfiles);
    return json_pack("{s:{s:o, s:o, s:o}}", "v0", "package", package, "model_security", sec,
                     "weightwall", ww);
}
