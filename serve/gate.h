/* Internal interfaces of the gate (serve/). Only the files of serve/ include it. */
#ifndef WW_GATE_H
#define WW_GATE_H
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "common/http.h"
#include "weightwall.h"

#define GATE_MAX_JOBS 256       /* jobs (downloads, scans, decisions) in flight at once */
#define GATE_MAX_FILES 5000u    /* files of one revision the gate will decide on */
#define GATE_MAX_INFO (16u << 20) /* bytes of one upstream JSON answer */
#define GATE_MSG_MAX 1024       /* X-Error-Message length */

typedef struct gate_opts {
    const char *upstream;   /* no trailing slash */
    const char *listen;     /* ADDR:PORT */
    const char *store;
    const char *policy_path;
    const char *query;      /* data.<pkg>.match */
    const char *db_url;     /* sqlite:PATH or postgresql://... */
    const char *admin_token;
    const char *upstream_token; /* used when the client sends none */
    const char *public_url; /* base URL clients use for the gate (else from Host) */
    const char *node;       /* node name in the audit log */
    long upstream_timeout_s;
    int get_wait_ms;        /* longest wait for a verdict/download on GET before 503 */
    int head_wait_ms;       /* longest wait for a decision on HEAD */
    uint64_t small_file;    /* files up to this size are downloaded whole to decide */
    ww_severity threshold;
    ww_limits limits;
    bool quiet;             /* no access log */
} gate_opts;

/* An upstream failure, already mapped to what the client gets. */
typedef struct gate_err {
    int status;          /* HTTP status for the client (4xx passthrough, 502, 504, 503) */
    char code[40];       /* X-Error-Code, "" for none */
    char msg[GATE_MSG_MAX];
} gate_err;

void gate_err_set(gate_err *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- database (db.c): SQLite or PostgreSQL, text values only ---- */
typedef struct gate_db gate_db;
/* Row callback: names and values of one row (a value is NULL for SQL NULL).
 * Return false to stop. */
typedef bool (*gdb_row_fn)(void *ctx, int ncols, const char *const *names,
                           const char *const *vals);
int gdb_open(const char *url, const char *store, gate_db **out, char *err, size_t errlen);
void gdb_close(gate_db *db);
const char *gdb_kind(const gate_db *db); /* "sqlite" | "postgresql" */
/* Parameters are $1..$n, each first used in increasing order. */
int gdb_exec(gate_db *db, const char *sql, int n, const char *const *params, gdb_row_fn fn,
             void *ctx, char *err, size_t errlen);
/* The rows of a query as a JSON array of objects (NULL on error). */
json_t *gdb_query_json(gate_db *db, const char *sql, int n, const char *const *params);
/* First column of the first row, malloc'd; NULL when no row. */
char *gdb_query_one(gate_db *db, const char *sql, int n, const char *const *params);

/* ---- metrics (metrics.c) ---- */
typedef struct gate_metrics {
    atomic_uint_least64_t requests[6]; /* by status class: 1xx..5xx, [0] other */
    atomic_uint_least64_t bytes_served, upstream_bytes, upstream_fetches, upstream_errors;
    atomic_uint_least64_t scans_clean, scans_unsafe, scans_error;
    atomic_uint_least64_t quarantines, releases, decisions, cache_hits, cache_misses;
    atomic_uint_least64_t scan_hist[12]; /* scan latency buckets, see metrics.c */
    atomic_uint_least64_t scan_ns_sum, scan_count;
    atomic_int inflight;
} gate_metrics;

/* ---- upstream listing (upstream.c) ---- */
typedef struct gate_file {
    char *path;
    uint64_t size;
    char *oid;    /* git blob id (of the LFS pointer for LFS files) */
    char *sha256; /* LFS sha256, NULL for small files stored in git */
} gate_file;

typedef struct gate_rev {
    atomic_int refs;
    char type[16];   /* "model", "dataset", "space" */
    char *repo;
    char *rev;       /* as asked */
    char *commit;    /* 40-hex */
    gate_file *files; /* sorted by path */
    size_t nfiles;
} gate_rev;

struct gate_job;
struct gate_cache;

typedef struct gate {
    gate_opts o;
    ww_engine *engine;
    ww_policy *policy;          /* NULL when it failed to load: every download is refused */
    char policy_hash[65];
    char policy_name[128];
    char policy_pkg[128];       /* "cloudsmith" from data.cloudsmith.match */
    char policy_error[GATE_MSG_MAX];
    gate_db *db;
    pthread_mutex_t db_mu;
    pthread_mutex_t jobs_mu;
    pthread_cond_t jobs_cv;
    struct gate_job *jobs;
    unsigned njobs;
    pthread_mutex_t cache_mu;
    struct gate_cache *cache;
    gate_metrics m;
    pthread_mutex_t log_mu;
} gate;

const gate_file *gate_rev_file(const gate_rev *r, const char *path);
void gate_rev_release(gate_rev *r);
/* The repo at a revision (model info, tree fallback), cached briefly per
 * token. token may be NULL. */
int gup_revision(gate *g, const char *token, const char *type, const char *repo,
                 const char *rev, gate_rev **out, gate_err *e);
/* Upstream resolve URL of a file at the revision's commit (malloc'd). */
char *gup_file_url(gate *g, const gate_rev *r, const char *path);
/* Map a failed upstream answer to the client's status. */
void gup_map_error(int rc, const wwx_http_resp *resp, const char *what, gate_err *e);
void gup_http_opts(gate *g, const char *token, wwx_http_opts *o);
void gup_cache_free(gate *g);

/* ---- jobs (jobs.c): single-flight work keyed by a string ---- */
typedef struct gate_job gate_job;
typedef void (*gate_job_fn)(gate *g, gate_job *j, void *arg);
/* Join the running job with this key or start one in a new thread. The
 * caller holds a reference: gjob_release() it. NULL when the job table is
 * full (e set to 503) or a thread cannot be started. */
gate_job *gjob_run(gate *g, const char *key, gate_job_fn fn, void *arg, void (*free_arg)(void *),
                   gate_err *e);
/* Wait up to timeout_ms (negative: forever). true when finished. */
bool gjob_wait(gate *g, gate_job *j, int timeout_ms);
/* After the job finished: 0 success, -1 failure with e filled. */
int gjob_result(gate *g, gate_job *j, gate_err *e);
void gjob_release(gate *g, gate_job *j);
/* Called by the job function once, at its end. */
void gjob_finish(gate *g, gate_job *j, const gate_err *e);

/* ---- store (store.c) ---- */
void gstore_blob_path(const gate *g, const char *etag, char *out, size_t n);
bool gstore_has(const gate *g, const char *etag, uint64_t size);
/* Download the file to the store, verifying size and digest (sha256 for LFS,
 * git blob sha1 otherwise); atomically renamed into blobs/ only when both
 * match. */
int gstore_fetch(gate *g, const char *token, const gate_rev *r, const gate_file *f, gate_err *e);
/* etag under which a file is stored (sha256 for LFS files, else git oid). */
const char *gate_file_etag(const gate_file *f);

/* ---- decisions (decide.c) ---- */
typedef struct gate_decision {
    char state[16];   /* "allow" | "quarantine" */
    char *message;    /* one line, for X-Error-Message */
    char *reasons;    /* JSON array */
    char *files;      /* JSON object etag -> verdict (what the decision saw) */
    bool released;
} gate_decision;
void gate_decision_clear(gate_decision *d);
/* The decision for the revision: from the database, else computed (scans
 * of every file + policy). Waits up to wait_ms; 503 in e when not ready. */
int gate_decide(gate *g, const char *token, gate_rev *r, int wait_ms, gate_decision *d,
                gate_err *e);
/* Make sure the blob is in the store and scanned locally; waits up to wait_ms. */
int gate_blob_ready(gate *g, const char *token, gate_rev *r, const gate_file *f, int wait_ms,
                    gate_err *e);
/* Start a prefetch (decision + blob) without waiting. */
void gate_prefetch(gate *g, const char *token, gate_rev *r, const gate_file *f);
/* The local scan of a stored blob agrees with what the decision saw. */
bool gate_decision_covers(gate *g, const gate_decision *d, const gate_file *f);
/* Forget a decision (so it is recomputed), e.g. after a local rescan disagreed. */
void gate_decision_forget(gate *g, const gate_rev *r);
int gate_release(gate *g, const char *repo, const char *commit, const char *reason,
                 const char *actor, char *err, size_t errlen);

/* ---- policy (policy_glue.c) ---- */
int gpol_load(gate *g);
/* 0 with *match and *reasons (JSON array, malloc'd); -1 with err: refuse. */
int gpol_decide(gate *g, const char *input_json, bool *match, char **reasons, char *err,
                size_t errlen);

/* ---- audit (db.c) ---- */
void gate_audit(gate *g, const char *event, const char *repo, const char *commit,
                const char *path, const char *detail);

/* ---- metrics (metrics.c) ---- */
void gmet_scan(gate *g, ww_verdict v, uint64_t ns);
char *gmet_render(gate *g); /* Prometheus text, malloc'd */

/* ---- HTTP front (http.c, admin.c) ---- */
struct MHD_Daemon;
struct MHD_Daemon *ghttp_start(gate *g, const char *addr, int port, int *bound, char *err,
                               size_t errlen);
struct MHD_Connection;
struct MHD_Response;
/* Admin routes: returns an MHD result code, or -1 when the URL is not an admin route. */
int gadmin_handle(gate *g, struct MHD_Connection *c, const char *method, const char *url,
                  const char *body, size_t body_len, int *status_out);

/* small helpers (util in http.c) */
void gate_log_json(gate *g, json_t *obj); /* one JSON line on stderr; steals obj */
int64_t gate_now_ms(void);
void gate_hex(const unsigned char *in, size_t n, char *out);
#endif
