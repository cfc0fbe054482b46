/* Remote files as random-access sources (HTTP Range requests), and the
 * Hugging Face Hub listing. */
#ifndef WWX_REMOTE_H
#define WWX_REMOTE_H
#include "common/http.h"
#include "weightwall.h"

typedef struct wwx_remote_scan {
    uint64_t fetched;   /* body bytes received for this file */
    char *commit;       /* X-Repo-Commit seen while resolving, or NULL */
    bool ranged;        /* served by Range requests (else a whole download) */
} wwx_remote_scan;

typedef struct wwx_sandbox wwx_sandbox;
/* Scan the file at url. Always produces a result (an error result when the
 * file cannot be fetched), unless out of memory. With a sandbox, the bytes
 * are fetched here and parsed in its confined child (NULL: in-process). */
ww_status wwx_remote_scan_url(const ww_engine *e, wwx_sandbox *sb, const wwx_http_opts *o,
                              const char *url, const char *display, ww_result **out,
                              wwx_remote_scan *info);

typedef struct wwx_hub_file {
    char *path;
    uint64_t size;
} wwx_hub_file;

typedef struct wwx_hub_repo {
    char type[16]; /* "model", "dataset", "space" */
    char *id;      /* org/name */
    char *revision;
    char *commit;  /* 40-hex */
    wwx_hub_file *files;
    size_t nfiles;
} wwx_hub_repo;

/* Parse "hf://[datasets/|spaces/|models/]org/name[@rev]" or "org/name[@rev]". */
int wwx_hub_parse(const char *spec, wwx_hub_repo *repo, char *err, size_t errlen);
/* List the repo's files at its revision (model info, else the paginated tree). */
int wwx_hub_list(const wwx_http_opts *o, const char *endpoint, wwx_hub_repo *repo, char *err,
                 size_t errlen);
/* URL of one file: E/[datasets/]{repo}/resolve/{rev}/{path} (rev: the commit when known). */
char *wwx_hub_file_url(const char *endpoint, const wwx_hub_repo *repo, const char *path);
void wwx_hub_repo_free(wwx_hub_repo *repo);
#endif
