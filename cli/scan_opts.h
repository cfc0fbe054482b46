#ifndef WW_SCAN_OPTS_H
#define WW_SCAN_OPTS_H
#include "weightwall.h"

enum ww_out_format { WW_OUT_TEXT, WW_OUT_JSON, WW_OUT_SARIF };

typedef struct ww_scan_opts {
    enum ww_out_format format;
    const char *output;
    ww_severity threshold, min_severity;
    bool show_skipped, quiet;
    int jobs;
    ww_limits limits;
    const char **globals;
    size_t nglobals;
    char **paths;
    int npaths;
    /* remote */
    bool offline;
    long timeout_s;
    int retries;
    const char **hub_repos; /* --huggingface */
    size_t nhub;
    const char **urls; /* --url */
    size_t nurls;
    bool hf_cache;
    const char **policies; /* --policy */
    size_t npolicies;
    const char **data; /* --data */
    size_t ndata;
    const char *query;
    bool policy_input; /* `weightwall policy input`: print input documents */
    bool no_sandbox;
    const char *sandbox_selftest;
    uint64_t sandbox_mem;
    unsigned sandbox_cpu;
    const char *hf_cache_dir;
} ww_scan_opts;

/* Returns -1 to go on, or an exit code (help printed: 0; usage error: 2). */
int ww_scan_opts_parse(int argc, char **argv, ww_scan_opts *o);
void ww_scan_opts_free(ww_scan_opts *o);
#endif
