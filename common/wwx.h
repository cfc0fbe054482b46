/* common/: code shared by the front ends (CLI, gate): report writers, input
 * walking. Never used by lib/. */
#ifndef WWX_H
#define WWX_H
#include <jansson.h>
#include <stdio.h>
#include "weightwall.h"

/* ---- reports ---- */
typedef struct wwx_summary {
    size_t scanned, clean, unsafe, errors, skipped, dangerous_imports;
} wwx_summary;

void wwx_summary_add(wwx_summary *sum, const ww_result *r, ww_severity threshold);
/* One file's JSON object (schema: docs/cli/json-schema.md). Findings below
 * min_sev are left out of "findings" (they still count for the verdict). */
json_t *wwx_result_json(const ww_result *r, ww_severity min_sev);
json_t *wwx_summary_json(const wwx_summary *sum);
/* Human text: one line per finding/error, file:member: SEVERITY kind 'module name' - message */
void wwx_result_text(FILE *out, const ww_result *r, ww_severity min_sev, bool show_skipped,
                     bool color);
void wwx_summary_text(FILE *out, const wwx_summary *sum);
/* SARIF 2.1.0 document for a set of results. */
json_t *wwx_sarif(ww_result *const *results, size_t n, ww_severity min_sev);

/* ---- inputs ---- */
typedef struct wwx_input {
    char *path;    /* what to open */
    char *display; /* how to name it */
} wwx_input;

typedef struct wwx_inputs {
    wwx_input *items;
    size_t n, cap;
    void *seen; /* internal: (dev, ino) of files already listed */
    size_t nseen, capseen;
} wwx_inputs;

/* Expand a file or directory (recursively, following symlinks to files; each
 * underlying file listed once, e.g. Hugging Face cache blobs). Returns 0, or
 * -1 with errbuf set (the path does not exist / cannot be read). */
int wwx_inputs_add(wwx_inputs *in, const char *path, char *errbuf, size_t errlen);
void wwx_inputs_free(wwx_inputs *in);
#endif
