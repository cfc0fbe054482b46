/* The policy input document: Cloudsmith's input.v0 shape for a Hugging Face
 * package, filled from weightwall's own scan, plus weightwall's detail under
 * input.v0.weightwall. Schema: docs/policy/input.md. */
#ifndef WWX_POLICY_INPUT_H
#define WWX_POLICY_INPUT_H
#include <jansson.h>
#include "weightwall.h"

typedef struct wwx_pkg_file {
    const char *path;       /* path within the package (repo-relative when known) */
    const ww_result *result;
    json_t *file_json;      /* borrowed: the per-file report object (may carry remote/cache) */
} wwx_pkg_file;

typedef struct wwx_pkg {
    const char *format;   /* "huggingface" */
    const char *name;     /* repo id, or the scanned path */
    const char *version;  /* resolved commit, or "local" */
    const char *source;   /* "hub", "hf-cache", "local" */
    wwx_pkg_file *files;
    size_t nfiles;
} wwx_pkg;

json_t *wwx_policy_input(const wwx_pkg *pkg, ww_severity threshold);
#endif
