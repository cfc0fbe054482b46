/* A small libcurl client for remote scanning: bounded bodies, manual
 * redirects (so Authorization is dropped when the host changes), retries with
 * backoff on 5xx and connection resets, and clear error messages. */
#ifndef WWX_HTTP_H
#define WWX_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wwx_http_opts {
    long timeout_s;    /* connect timeout and longest stall between bytes */
    int retries;       /* extra attempts on 5xx / reset / timeout */
    long backoff_ms;   /* first wait; doubles each retry */
    bool offline;      /* refuse any request */
    const char *token; /* bearer token for the origin host (never sent cross-host) */
    bool progress;     /* draw a progress bar on stderr for long bodies */
} wwx_http_opts;

typedef struct wwx_http_resp {
    long status;
    char *body; /* NUL-terminated; NULL for HEAD or when the caller supplied a sink */
    size_t len;
    char *final_url;   /* after redirects */
    char *repo_commit; /* X-Repo-Commit */
    char *error_code;  /* X-Error-Code */
    char *error_message; /* X-Error-Message */
    char *link_next;   /* Link: <...>; rel="next" */
    uint64_t total;    /* total size from Content-Range, or Content-Length on 200 */
    bool partial;      /* 206 */
    char err[256];     /* transport error text when status == 0 */
} wwx_http_resp;

/* Body sink: receives bytes as they arrive (for downloads into a file or a
 * caller buffer); return false to abort. When NULL, the body is collected in
 * memory up to max_body bytes (more is an error). */
typedef bool (*wwx_http_sink)(void *ctx, const void *data, size_t n);

void wwx_http_global_init(void);
/* One request following up to 8 redirects. range: "a-b" or NULL. Returns 0
 * with resp filled (any HTTP status), or -1 on transport failure after
 * retries (resp->err says why). */
int wwx_http_fetch(const wwx_http_opts *o, const char *method, const char *url, const char *range,
                   size_t max_body, wwx_http_sink sink, void *sink_ctx, wwx_http_resp *resp);
void wwx_http_resp_free(wwx_http_resp *r);
/* Human description of a failed response: "HTTP 404 (RepoNotFound): ..." */
void wwx_http_describe(const wwx_http_resp *r, char *buf, size_t n);
#endif
