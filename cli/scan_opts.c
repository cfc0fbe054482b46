/* Option table of `weightwall scan`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/scan_opts.h"

extern const char ww_scan_usage[];

enum { OPT_MIN_SEV = 256, OPT_SHOW_SKIPPED, OPT_GLOBALS, OPT_LIMIT, OPT_OFFLINE, OPT_TIMEOUT,
       OPT_RETRIES, OPT_HF, OPT_URL, OPT_HF_CACHE, OPT_NO_SANDBOX, OPT_SB_SELFTEST,
       OPT_SB_MEM, OPT_SB_CPU, OPT_POLICY, OPT_DATA, OPT_QUERY };

static const struct option long_opts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"threshold", required_argument, NULL, 't'},
    {"min-severity", required_argument, NULL, OPT_MIN_SEV},
    {"show-skipped", no_argument, NULL, OPT_SHOW_SKIPPED},
    {"quiet", no_argument, NULL, 'q'},
    {"jobs", required_argument, NULL, 'j'},
    {"globals", required_argument, NULL, OPT_GLOBALS},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"offline", no_argument, NULL, OPT_OFFLINE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"huggingface", required_argument, NULL, OPT_HF},
    {"url", required_argument, NULL, OPT_URL},
    {"hf-cache", optional_argument, NULL, OPT_HF_CACHE},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"data", required_argument, NULL, OPT_DATA},
    {"query", required_argument, NULL, OPT_QUERY},
    {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
    {"sandbox-selftest", required_argument, NULL, OPT_SB_SELFTEST},
    {"sandbox-memory", required_argument, NULL, OPT_SB_MEM},
    {"sandbox-cpu", required_argument, NULL, OPT_SB_CPU},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static bool append(const char ***arr, size_t *n, const char *v)
{
    const char **p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p)
        return false;
    *arr = p;
    p[(*n)++] = v;
    return true;
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "weightwall scan: %s%s%s\nTry 'weightwall scan --help'.\n", msg,
            arg ? ": " : "", arg ? arg : "");
    return WW_EXIT_ERROR;
}

int ww_scan_opts_parse(int argc, char **argv, ww_scan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold = WW_SEV_MEDIUM;
    o->min_severity = WW_SEV_LOW;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = ncpu > 0 ? (int)ncpu : 1;
    ww_limits_default(&o->limits);
    o->timeout_s = 10;
    o->retries = 3;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:t:qj:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "text") == 0)
                o->format = WW_OUT_TEXT;
            else if (strcmp(optarg, "json") == 0)
                o->format = WW_OUT_JSON;
            else if (strcmp(optarg, "sarif") == 0)
                o->format = WW_OUT_SARIF;
            else
                return bad("unknown output format (text, json, sarif)", optarg);
            break;
        case 'o': o->output = optarg; break;
        case 't':
            if (!ww_severity_parse(optarg, &o->threshold) || o->threshold == WW_SEV_NONE)
                return bad("threshold must be LOW, MEDIUM, HIGH or CRITICAL", optarg);
            break;
        case OPT_MIN_SEV:
            if (!ww_severity_parse(optarg, &o->min_severity) || o->min_severity == WW_SEV_NONE)
                return bad("--min-severity must be LOW, MEDIUM, HIGH or CRITICAL", optarg);
            break;
        case OPT_SHOW_SKIPPED: o->show_skipped = true; break;
        case 'q': o->quiet = true; break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 256)
                return bad("--jobs takes a number from 1 to 256", optarg);
            o->jobs = (int)v;
            break;
        }
        case OPT_GLOBALS: {
            const char **p = realloc(o->globals, (o->nglobals + 1) * sizeof *p);
            if (!p)
                return bad("out of memory", NULL);
            o->globals = p;
            o->globals[o->nglobals++] = optarg;
            break;
        }
        case OPT_LIMIT: {
            char name[64];
            const char *eq = strchr(optarg, '=');
            if (!eq || (size_t)(eq - optarg) >= sizeof name)
                return bad("--limit takes NAME=VALUE (see `weightwall limits`)", optarg);
            memcpy(name, optarg, (size_t)(eq - optarg));
            name[eq - optarg] = '\0';
            if (ww_limits_set(&o->limits, name, eq + 1) != WW_OK)
                return bad("unknown limit or bad value (see `weightwall limits`)", optarg);
            break;
        }
        case OPT_OFFLINE: o->offline = true; break;
        case OPT_TIMEOUT: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 3600)
                return bad("--timeout takes seconds from 1 to 3600", optarg);
            o->timeout_s = v;
            break;
        }
        case OPT_RETRIES: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 20)
                return bad("--retries takes a number from 0 to 20", optarg);
            o->retries = (int)v;
            break;
        }
        case OPT_HF:
            if (!append(&o->hub_repos, &o->nhub, optarg))
                return bad("out of memory", NULL);
            break;
        case OPT_URL:
            if (!append(&o->urls, &o->nurls, optarg))
                return bad("out of memory", NULL);
            break;
        case OPT_HF_CACHE:
            o->hf_cache = true;
            o->hf_cache_dir = optarg;
            break;
        case OPT_POLICY:
            if (!append(&o->policies, &o->npolicies, optarg))
                return bad("out of memory", NULL);
            break;
        case OPT_DATA:
            if (!append(&o->data, &o->ndata, optarg))
                return bad("out of memory", NULL);
            break;
        case OPT_QUERY: o->query = optarg; break;
        case OPT_NO_SANDBOX: o->no_sandbox = true; break;
        case OPT_SB_SELFTEST: o->sandbox_selftest = optarg; break;
        case OPT_SB_MEM: {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end == 'M' || *end == 'm')
                v <<= 20, end++;
            else if (*end == 'G' || *end == 'g')
                v <<= 30, end++;
            if (*end || v < (16u << 20))
                return bad("--sandbox-memory takes bytes (suffix M or G), at least 16M", optarg);
            o->sandbox_mem = v;
            break;
        }
        case OPT_SB_CPU: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 86400)
                return bad("--sandbox-cpu takes seconds from 1 to 86400", optarg);
            o->sandbox_cpu = (unsigned)v;
            break;
        }
        case 'h': fputs(ww_scan_usage, stdout); return WW_EXIT_CLEAN;
        default: return bad("invalid option", NULL);
        }
    }
    o->paths = argv + optind;
    o->npaths = argc - optind;
    if ((o->ndata || o->query) && !o->npolicies)
        return bad("--data and --query need --policy", NULL);
    if (o->npaths == 0 && o->nhub == 0 && o->nurls == 0 && !o->hf_cache)
        return bad("no PATH given", NULL);
    return -1;
}

void ww_scan_opts_free(ww_scan_opts *o)
{
    free(o->globals);
    free(o->hub_repos);
    free(o->policies);
    free(o->data);
    o->policies = o->data = NULL;
    free(o->urls);
    o->globals = NULL;
    o->hub_repos = o->urls = NULL;
}
