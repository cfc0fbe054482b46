/* Policy fuzz targets.
 *   POLICY_MODE 0 (policy_compile): the input is a Rego module; parse + compile,
 *     then evaluate data.cloudsmith.match against a fixed input.
 *   POLICY_MODE 1 (policy_eval): the input is an input document (JSON) for the
 *     article's two policies and the shipped weightwall policies.
 * Budgets are small so a runaway policy ends in WW_E_LIMIT quickly. */
#include <stdlib.h>
#include <string.h>
#include "weightwall.h"

#ifndef POLICY_MODE
#error "POLICY_MODE must be 0 or 1"
#endif

static const char fixed_input[] =
    "{\"v0\":{\"package\":{\"format\":\"huggingface\",\"name\":\"acme/m\",\"version\":\"1\","
    "\"files\":[{\"filename\":\"a.bin\",\"file_extension\":\".bin\"}]},"
    "\"model_security\":{\"availability\":\"COMPLETE\",\"scan_summary\":\"SAFE\"}}}";

static const char *const policies[] = {
    "package cloudsmith\nimport rego.v1\ndefault match := false\nincomplete_or_unsafe if {\n"
    "    input.v0.model_security.availability != \"COMPLETE\"\n}\nincomplete_or_unsafe if {\n"
    "    input.v0.model_security.scan_summary != \"SAFE\"\n}\nmatch if {\n"
    "    \"huggingface\" == input.v0.package.format\n    incomplete_or_unsafe\n}\n",
    "package cloudsmith\nimport rego.v1\ndefault match := false\npkg := input.v0.package\n"
    "hf_pkg if \"huggingface\" == pkg.format\n\nrisky_file_extensions := {\".h5\", \".bin\", "
    "\".pkl\", \".pt\", \".zip\",}\n\nmatch if {\n    hf_pkg\n    some file in pkg.files\n"
    "    file.file_extension in risky_file_extensions \n}\n"
    "reason contains msg if { some f in pkg.files; msg := sprintf(\"%s: %v\", [f.filename, "
    "count(pkg.files)]) }\n",
};

static ww_policy *compiled(const char *text, size_t len)
{
    ww_policy *p = NULL;
    char err[512];
    if (ww_policy_new(&p) != WW_OK)
        return NULL;
    ww_policy_set_budget(p, 200000, 200, 64u << 20);
    if (ww_policy_add_module(p, "fuzz.rego", text, len, err, sizeof err) != WW_OK ||
        ww_policy_compile(p, err, sizeof err) != WW_OK) {
        ww_policy_free(p);
        return NULL;
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (POLICY_MODE == 0) {
        ww_policy *p = compiled((const char *)data, size);
        if (p) {
            char *out = NULL;
            if (ww_policy_eval(p, "data.cloudsmith.match", fixed_input, sizeof fixed_input - 1,
                               &out, err, sizeof err) == WW_OK)
                ww_policy_string_free(out);
            ww_policy_free(p);
        }
        return 0;
    }
    static ww_policy *pols[2];
    for (int i = 0; i < 2; i++) {
        if (!pols[i])
            pols[i] = compiled(policies[i], strlen(policies[i]));
        if (!pols[i])
            abort(); /* the fixed policies must compile */
        bool match = false;
        char *reasons = NULL;
        if (ww_policy_decide(pols[i], "cloudsmith", (const char *)data, size, &match, &reasons,
                             err, sizeof err) == WW_OK)
            ww_policy_string_free(reasons);
    }
    return 0;
}
