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

/* Whole file ("-": stdin) into a NUL-terminated malloc'd buffer, at most max
 * bytes; NULL with err set ("PATH: reason") on failure. */
char *wwx_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* ---- inputs ---- */
typedef enum wwx_input_kind { WWX_IN_FILE, WWX_IN_STDIN, WWX_IN_URL } wwx_input_kind;

typedef struct wwx_input {
    char *path;    /* what to open (a local path or a URL) */
    char *display; /* how to name it (owned when != path) */
    wwx_input_kind kind;
    /* Hugging Face context (remote repos and cache entries); NULL when none. */
    char *repo, *repo_type, *revision, *commit, *refs;
    bool from_cache;
    char *blob; /* cache: blob file name (sha256 or git sha1) */
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
/* Append one input (path copied); returns it for the caller to fill in
 * context, or NULL when out of memory. */
wwx_input *wwx_inputs_push(wwx_inputs *in, const char *path, wwx_input_kind kind);

/* ---- Hugging Face cache (hf-protocol.md section 8) ---- */
/* Default cache dir from HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME/hub,
 * XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub. */
const char *wwx_hf_cache_default(char *buf, size_t n);
/* List every blob reachable from snapshots once, with repo/revision/refs
 * context; dangling links and .incomplete blobs are listed too (they are
 * reported, never skipped). */
int wwx_hf_cache_add(wwx_inputs *in, const char *cache_dir, char *err, size_t errlen);
/* Check a cache blob against its sha256 name: 1 match, 0 mismatch, -1 not
 * checkable (not a 64-hex name, unreadable). */
int wwx_hf_blob_verify(const char *path, const char *blob_name);
#endif
