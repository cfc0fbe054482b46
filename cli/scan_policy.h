#ifndef WW_SCAN_POLICY_H
#define WW_SCAN_POLICY_H
#include <jansson.h>
#include <stdio.h>
#include "cli/scan_opts.h"
#include "common/wwx.h"

/* Group scanned files into packages (a Hugging Face repo revision, or the
 * local paths as one package), build each package's input document and, when
 * policies were given, evaluate them.
 *   file_json[i]: the report object of results[i] (borrowed).
 *   *report: set to a JSON object for the JSON report ({"query", "decisions"}).
 * With input_only, prints the input documents to out and returns 0.
 * Returns the decision's exit code: 0 allowed, 1 refused (a package matched),
 * 2 a policy could not be loaded or evaluated (treated as refusal). */
int ww_scan_policy_run(const ww_scan_opts *o, const wwx_inputs *in, ww_result *const *results,
                       json_t *const *file_json, bool input_only, json_t **report, FILE *out);
#endif
