/*
 * weightwall.h - the one public header of libweightwall.
 *
 * Ownership rule (stated once, here):
 *   Whatever a ww_*_new or ww_*_open call returns belongs to the caller and is
 *   released by the matching ww_*_free. Every pointer reachable from a
 *   ww_result is borrowed and stays valid until that result is freed. The
 *   library keeps no pointer to caller memory after a call returns, unless that
 *   function's comment says so.
 *
 * The library never prints, never exits, reads no environment variables and
 * never executes or imports what it scans. Front ends (cli/, serve/) own all
 * output and map verdicts and statuses to exit codes.
 */
#ifndef WEIGHTWALL_H
#define WEIGHTWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(WW_BUILDING_LIBRARY)
#define WW_API __attribute__((visibility("default")))
#else
#define WW_API
#endif
#define WW_NODISCARD __attribute__((warn_unused_result))

#define WW_VERSION "0.1.0"

/* ---- status: did the machinery work ------------------------------------ */
/* Numbers are permanent: add above WW_STATUS_END_, never renumber or reuse. */
typedef enum ww_status {
    WW_OK = 0,
    WW_E_NOMEM = 1,
    WW_E_IO = 2,
    WW_E_ARG = 3,
    WW_E_INTERNAL = 4,
    WW_E_TRUNCATED = 50,   /* input ends before a structure does */
    WW_E_FORMAT = 51,      /* input is malformed */
    WW_E_LIMIT = 52,       /* a configured limit was hit */
    WW_E_UNSUPPORTED = 53, /* recognised but cannot be analysed (encrypted, parser not built) */
    WW_E_TIMEOUT = 54,     /* per-file scan time exceeded */
    WW_E_NET = 60,         /* network / remote source failure (front ends) */
    WW_E_POLICY_PARSE = 100,
    WW_E_POLICY_EVAL = 101,
    WW_STATUS_END_
} ww_status;

WW_API const char *ww_strerror(ww_status st);   /* "truncated input", ... */
WW_API const char *ww_status_name(ww_status st); /* "WW_E_TRUNCATED" -> "truncated" */

/* ---- severity and verdict ---------------------------------------------- */
typedef enum ww_severity {
    WW_SEV_NONE = 0, /* also "safe" in the globals table: no finding */
    WW_SEV_LOW = 1,
    WW_SEV_MEDIUM = 2,
    WW_SEV_HIGH = 3,
    WW_SEV_CRITICAL = 4
} ww_severity;

WW_API const char *ww_severity_name(ww_severity sev); /* "LOW".."CRITICAL", "NONE" */
WW_API bool ww_severity_parse(const char *s, ww_severity *out);

typedef enum ww_verdict {
    WW_VERDICT_CLEAN = 0,  /* fully understood, nothing at or above the threshold */
    WW_VERDICT_UNSAFE = 1, /* a finding at or above the threshold */
    WW_VERDICT_ERROR = 2   /* could not be fully scanned: never clean */
} ww_verdict;

WW_API const char *ww_verdict_name(ww_verdict v); /* "clean" | "unsafe" | "error" */

/* ---- limits ------------------------------------------------------------ */
/* Every budget the scanner enforces. Defaults and reasons: lib/core/limits.def
 * and docs/limits.md. A limit hit is a finding and makes the verdict non-clean. */
typedef struct ww_limits {
#define WW_LIMIT(name, type, def, doc) type name;
#include "weightwall_limits.def"
#undef WW_LIMIT
} ww_limits;

WW_API void ww_limits_default(ww_limits *out);
/* Set one limit by name ("max_depth") from a decimal string; WW_E_ARG if unknown. */
WW_API ww_status ww_limits_set(ww_limits *l, const char *name, const char *value);
/* Iterate: name, doc and current value of limit i; false past the end. */
WW_API bool ww_limits_describe(const ww_limits *l, size_t i, const char **name, const char **doc,
                               uint64_t *value);

/* ---- engine: configuration shared read-only by scans (thread safe once built) */
typedef struct ww_engine ww_engine;

WW_API WW_NODISCARD ww_status ww_engine_new(ww_engine **out);
WW_API void ww_engine_free(ww_engine *e);
WW_API void ww_engine_set_limits(ww_engine *e, const ww_limits *l);
WW_API const ww_limits *ww_engine_limits(const ww_engine *e);
/* Severity at or above which a file's verdict is UNSAFE (default MEDIUM). */
WW_API void ww_engine_set_threshold(ww_engine *e, ww_severity sev);
WW_API ww_severity ww_engine_threshold(const ww_engine *e);
/* Extend the globals table from text: one rule per line,
 *   "<module> <name|*> <safe|low|medium|high|critical> [reason...]"
 * '#' starts a comment. User rules take precedence over built-in ones.
 * On error, errbuf names the line. */
WW_API WW_NODISCARD ww_status ww_engine_load_globals(ww_engine *e, const char *text, size_t len,
                                                     char *errbuf, size_t errlen);
/* Debug/torture: fail the Nth allocation (1-based) of later scans; 0 disables. */
WW_API void ww_engine_set_fail_alloc(ww_engine *e, uint64_t nth);

/* Classify one Python global through the table (module, dotted name).
 * Returns the severity (WW_SEV_NONE for allow-listed) and the row's reason;
 * *known is false when no row matched (unknown global). */
WW_API ww_severity ww_engine_classify_global(const ww_engine *e, const char *module,
                                             const char *name, const char **reason, bool *known);

/* ---- scanning ---------------------------------------------------------- */
typedef struct ww_result ww_result;

/* A random-access byte source supplied by a front end (e.g. HTTP Range reads).
 * read_at fills buf with up to len bytes at off; returns WW_OK and *got
 * (short only at end of input) or an error status. The library calls it only
 * during ww_scan_source. */
typedef struct ww_source {
    void *ctx;
    uint64_t size; /* total size in bytes */
    ww_status (*read_at)(void *ctx, uint64_t off, void *buf, size_t len, size_t *got);
    const char *error_detail; /* optional: set by read_at on failure (borrowed) */
} ww_source;

/* Scan a local file (mmap; only the bytes that matter are touched). `display`
 * names it in results (NULL: path). Returns WW_OK when a result was produced,
 * even if the result's verdict is ERROR; non-OK only when no result exists. */
WW_API WW_NODISCARD ww_status ww_scan_file(const ww_engine *e, const char *path,
                                           const char *display, ww_result **out);
/* Scan an open file descriptor (not closed). Used by sandboxed front ends,
 * which open the file before confining the process. */
WW_API WW_NODISCARD ww_status ww_scan_fd(const ww_engine *e, int fd, const char *display,
                                         ww_result **out);
WW_API WW_NODISCARD ww_status ww_scan_memory(const ww_engine *e, const void *data, size_t len,
                                             const char *display, ww_result **out);
WW_API WW_NODISCARD ww_status ww_scan_source(const ww_engine *e, ww_source *src,
                                             const char *display, ww_result **out);
WW_API void ww_result_free(ww_result *r);
/* For front ends: a result for an input that could not even be opened or
 * fetched (verdict ERROR, never clean). */
WW_API WW_NODISCARD ww_status ww_result_new_failed(const char *display, ww_status st,
                                                   const char *message, ww_result **out);
/* For front ends: add a finding they discovered outside the library (e.g. a
 * cache blob whose sha256 does not match its name) and recompute the verdict. */
WW_API ww_status ww_result_annotate(ww_result *r, ww_severity sev, const char *kind,
                                    const char *message);

/* One finding. All strings are borrowed from the result; NULL when absent. */
typedef struct ww_finding {
    ww_severity severity;
    const char *kind;    /* "import", "call", "limit", "malformed", "container", "format", ... */
    const char *module;  /* Python module for imports */
    const char *name;    /* Python qualname for imports */
    const char *member;  /* layer path inside the file, e.g. "archive/data.pkl" ("" top level) */
    const char *message; /* one line, human readable */
    uint64_t offset;     /* byte offset within the member, or UINT64_MAX */
} ww_finding;

/* One layer the scan opened: the file itself is layer 0 (member ""). */
typedef struct ww_layer {
    const char *member;  /* "" for the file, "archive/data.pkl", "a.zip/b.tar/c.pkl" */
    const char *format;  /* detected from content: "pickle", "pytorch_zip", "unknown", ... */
    bool code_capable;   /* can this format carry code that runs on load? */
    uint64_t size;
} ww_layer;

WW_API const char *ww_result_path(const ww_result *r);
WW_API const char *ww_result_format(const ww_result *r); /* format of layer 0 */
WW_API ww_verdict ww_result_verdict(const ww_result *r);
WW_API ww_severity ww_result_max_severity(const ww_result *r); /* NONE when no finding */
WW_API ww_status ww_result_status(const ww_result *r);  /* first error, WW_OK if none */
WW_API const char *ww_result_error(const ww_result *r); /* message for that error, or NULL */
WW_API bool ww_result_skipped(const ww_result *r);  /* not a model format: nothing to scan */
WW_API bool ww_result_code_capable(const ww_result *r); /* any layer code-capable */
WW_API uint64_t ww_result_size(const ww_result *r);
WW_API uint64_t ww_result_bytes_read(const ww_result *r); /* bytes the scan touched/fetched */
WW_API size_t ww_result_finding_count(const ww_result *r);
WW_API const ww_finding *ww_result_finding(const ww_result *r, size_t i);
/* Errors: every place the scan could not fully understand (kind = status
 * name such as "truncated", severity NONE, message says what and where). */
WW_API size_t ww_result_error_count(const ww_result *r);
WW_API const ww_finding *ww_result_error_at(const ww_result *r, size_t i);
WW_API uint64_t ww_result_dropped_findings(const ww_result *r); /* over max_findings */
WW_API size_t ww_result_layer_count(const ww_result *r);
WW_API const ww_layer *ww_result_layer(const ww_result *r, size_t i);
WW_API uint64_t ww_result_elapsed_ns(const ww_result *r);

/* Results cross a process boundary (the sandbox) as bytes. The reader treats
 * its input as untrusted: bounds-checked, and the verdict is recomputed from
 * the findings rather than taken from the bytes. buf is malloc'd; free() it. */
WW_API WW_NODISCARD ww_status ww_result_serialize(const ww_result *r, void **buf, size_t *len);
WW_API WW_NODISCARD ww_status ww_result_deserialize(const void *buf, size_t len, ww_result **out);

/* ---- formats ----------------------------------------------------------- */
/* Iterate the registered formats: name, whether it can carry code, whether
 * its parser is built in this build. false past the end. */
WW_API bool ww_format_info(size_t i, const char **name, bool *code_capable, bool *built);

/* Policy API (Rego): see the section below, added by lib/policy. */
/* ---- policy (Rego) ----------------------------------------------------- */
/* A Rego policy: modules (OPA 1.x syntax, the subset in docs/policy/language.md)
 * plus optional base data, compiled once and then evaluated any number of
 * times, from any number of threads at once (read-only after compile).
 * Errors go to errbuf as "FILE:LINE:COL: CODE: message" with OPA's error codes
 * (rego_parse_error, rego_unsafe_var_error, rego_type_error,
 * rego_recursion_error, eval_conflict_error, eval_builtin_error, ...), followed
 * for compile errors by the source line and a caret. */
typedef struct ww_policy ww_policy;

WW_API WW_NODISCARD ww_status ww_policy_new(ww_policy **out);
WW_API void ww_policy_free(ww_policy *p);
/* Parse one module (copied). WW_E_POLICY_PARSE on a syntax error. */
WW_API WW_NODISCARD ww_status ww_policy_add_module(ww_policy *p, const char *filename,
                                                   const char *text, size_t len, char *errbuf,
                                                   size_t errlen);
/* Merge a JSON object into the base document `data` (deep merge; a conflict
 * between two files is WW_E_POLICY_PARSE). */
WW_API WW_NODISCARD ww_status ww_policy_add_data_json(ww_policy *p, const char *json, size_t len,
                                                      char *errbuf, size_t errlen);
/* Before compile. strict: builtin errors (type errors, division by zero, bad
 * regex) abort evaluation instead of making the expression undefined. */
WW_API void ww_policy_set_strict(ww_policy *p, bool strict);
/* Before compile; 0 keeps a default. max_steps: unifications, iterations and
 * calls per evaluation (default 10,000,000); max_depth: nested literals, rule
 * and function calls (default 500); max_memory: bytes of values built by one
 * evaluation (default 256 MiB). Running out is WW_E_LIMIT: treat it as deny. */
WW_API void ww_policy_set_budget(ww_policy *p, uint64_t max_steps, uint32_t max_depth,
                                 uint64_t max_memory);
/* Fix time.now_ns() (nanoseconds since the epoch; 0: the clock, read once per
 * evaluation). For reproducible tests. */
WW_API void ww_policy_set_now_ns(ww_policy *p, int64_t now_ns);
/* Group rules, resolve names and functions, check safety and recursion.
 * WW_E_POLICY_PARSE on any compile error. */
WW_API WW_NODISCARD ww_status ww_policy_compile(ww_policy *p, char *errbuf, size_t errlen);
/* Evaluate one expression, usually a reference such as "data.cloudsmith.match",
 * against an input document given as JSON text (input NULL: input is
 * undefined). *out_json is the value as JSON (sets as sorted arrays), or NULL
 * when the expression is undefined; free it with ww_policy_string_free.
 * Returns WW_E_POLICY_PARSE (bad query), WW_E_POLICY_EVAL (conflict, strict
 * builtin error), WW_E_LIMIT (budget), WW_E_FORMAT (input is not JSON). */
WW_API WW_NODISCARD ww_status ww_policy_eval(const ww_policy *p, const char *query,
                                             const char *input_json, size_t input_len,
                                             char **out_json, char *errbuf, size_t errlen);
/* Evaluate a full query ("data.x.p = v; v > 1") and return every solution as
 * a JSON array of objects binding the query's named variables ("[]" when
 * there is none), as `opa eval` reports them. */
WW_API WW_NODISCARD ww_status ww_policy_query(const ww_policy *p, const char *query,
                                              const char *input_json, size_t input_len,
                                              char **out_json, char *errbuf, size_t errlen);
/* Cloudsmith-style decision for package pkg (e.g. "cloudsmith"): *match is
 * data.<pkg>.match (undefined counts as false; a non-boolean is an error) and
 * *reasons_json a JSON array of strings gathered from data.<pkg>.reason and
 * data.<pkg>.deny (sets, arrays, object keys or a single string), "[]" when
 * none. One evaluation, so both see the same input and the same rule values. */
WW_API WW_NODISCARD ww_status ww_policy_decide(const ww_policy *p, const char *pkg,
                                               const char *input_json, size_t input_len,
                                               bool *match, char **reasons_json, char *errbuf,
                                               size_t errlen);
WW_API void ww_policy_string_free(char *s);

#ifdef __cplusplus
}
#endif
#endif
