/* `weightwall policy ...`: evaluate and check Rego policies.
 * Exit codes: 0 success (a defined value / no problems / no match),
 * 1 undefined result (eval) or match (decide), 2 errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cmd_policy.h"
#include "common/wwx.h"
#include "weightwall.h"

static const char usage_main[] =
    "Usage: weightwall policy <command> [options]\n"
    "\n"
    "Evaluate Rego policies (OPA 1.x syntax, Cloudsmith-style) natively; nothing is executed.\n"
    "\n"
    "Commands:\n"
    "  eval     evaluate a query:  weightwall policy eval -p P.rego [-i INPUT.json] data.pkg.rule\n"
    "  check    parse and compile policies, report errors with file:line:col\n"
    "  decide   Cloudsmith decision (match + reasons) for a package of rules\n"
    "  input    scan PATH... (same arguments as `weightwall scan`) and print the\n"
    "           input document(s) policies see, one per package (docs/policy/input.md)\n"
    "\n"
    "Run `weightwall policy <command> --help` for the options of each command.\n";

static const char usage_eval[] =
    "Usage: weightwall policy eval [options] QUERY\n"
    "\n"
    "Evaluate QUERY (for example data.cloudsmith.match) and print its value as JSON.\n"
    "An undefined result prints nothing and exits 1. Errors exit 2.\n"
    "\n"
    "Options:\n"
    "  -p, --policy FILE     Rego module to load (repeatable)\n"
    "  -d, --data FILE       JSON object merged into `data` (repeatable)\n"
    "  -i, --input FILE      JSON input document (`-` reads standard input)\n"
    "      --input-json TEXT JSON input document given inline\n"
    "  -a, --all             QUERY may bind variables (data.x.p = v): print every solution\n"
    "                        as a JSON array of {variable: value} objects, like `opa eval`\n"
    "      --strict          builtin errors (type errors, divide by zero) abort evaluation\n"
    "      --now-ns N        fix time.now_ns() (nanoseconds since the epoch)\n"
    "      --max-steps N     evaluation step budget (default 10000000)\n"
    "      --max-depth N     nesting budget (default 2000)\n"
    "      --max-memory N    bytes of values one evaluation may build (default 268435456)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Examples:\n"
    "  weightwall policy eval -p policies/cloudsmith-scan-summary.rego -i input.json \\\n"
    "      data.cloudsmith.match\n"
    "  weightwall policy eval -p p.rego --all 'data.test.p = x'\n";

static const char usage_check[] =
    "Usage: weightwall policy check [-d DATA.json]... POLICY.rego...\n"
    "\n"
    "Parse and compile the modules together (names, safety, recursion, unknown functions).\n"
    "Prints `ok` and exits 0 when they compile; otherwise prints each error as\n"
    "FILE:LINE:COL: CODE: message with the source line, and exits 2.\n";

static const char usage_decide[] =
    "Usage: weightwall policy decide [options] [-i INPUT.json]\n"
    "\n"
    "Evaluate data.PKG.match and collect data.PKG.reason / data.PKG.deny, the way\n"
    "Cloudsmith applies a policy. Prints {\"match\": bool, \"reasons\": [...]}.\n"
    "Exit 0 no match, 1 match, 2 error (a policy that fails must be treated as a refusal).\n"
    "\n"
    "Options: -p/--policy, -d/--data, -i/--input, --input-json, --strict, --now-ns,\n"
    "         --max-steps, --max-depth, --max-memory as for `eval`, and\n"
    "      --package PKG     package holding match/reason (default cloudsmith)\n";

#define MAX_FILE (256u << 20)

static char *read_file(const char *path, size_t *len)
{
    char err[512];
    char *t = wwx_read_file(path, MAX_FILE, len, err, sizeof err);
    if (!t)
        fprintf(stderr, "weightwall policy: %s\n", err);
    return t;
}

typedef struct opts {
    const char *policies[256];
    size_t npol;
    const char *data[64];
    size_t ndata;
    const char *input_file, *input_text, *query, *pkg;
    bool all, strict, help;
    uint64_t steps, memory;
    uint32_t depth;
    int64_t now_ns;
    const char *pos[256];
    size_t npos;
} opts;

static bool num_arg(const char *opt, const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || errno || *end || !*v) {
        fprintf(stderr, "weightwall policy: %s needs a number\n", opt);
        return false;
    }
    *out = x;
    return true;
}

static bool parse_opts(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
#define TAKES(cond) (cond) && (v ? (i++, true) : (fprintf(stderr, "weightwall policy: %s needs a value\n", a), false))
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--policy") == 0) {
            if (!v || o->npol == 256)
                return fprintf(stderr, "weightwall policy: %s needs a file\n", a), false;
            o->policies[o->npol++] = argv[++i];
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--data") == 0) {
            if (!v || o->ndata == 64)
                return fprintf(stderr, "weightwall policy: %s needs a file\n", a), false;
            o->data[o->ndata++] = argv[++i];
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0) {
            if (!v)
                return fprintf(stderr, "weightwall policy: %s needs a file\n", a), false;
            o->input_file = argv[++i];
        } else if (strcmp(a, "--input-json") == 0) {
            if (!v)
                return fprintf(stderr, "weightwall policy: %s needs a value\n", a), false;
            o->input_text = argv[++i];
        } else if (strcmp(a, "--package") == 0) {
            if (!v)
                return fprintf(stderr, "weightwall policy: %s needs a value\n", a), false;
            o->pkg = argv[++i];
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
            o->all = true;
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (strcmp(a, "--now-ns") == 0) {
            if (!num_arg(a, v, &n))
                return false;
            o->now_ns = (int64_t)n;
            i++;
        } else if (strcmp(a, "--max-steps") == 0) {
            if (!num_arg(a, v, &o->steps))
                return false;
            i++;
        } else if (strcmp(a, "--max-depth") == 0) {
            if (!num_arg(a, v, &n) || n > UINT32_MAX)
                return false;
            o->depth = (uint32_t)n;
            i++;
        } else if (strcmp(a, "--max-memory") == 0) {
            if (!num_arg(a, v, &o->memory))
                return false;
            i++;
        } else if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0) {
            fprintf(stderr, "weightwall policy: unknown option '%s'\n", a);
            return false;
        } else {
            if (strcmp(a, "--") == 0 && i + 1 < argc)
                a = argv[++i];
            if (o->npos == 256)
                return false;
            o->pos[o->npos++] = a;
        }
#undef TAKES
    }
    return true;
}

/* Load policies and data and compile. Returns NULL after printing errors. */
static ww_policy *load(const opts *o, const char *const *files, size_t nfiles)
{
    ww_policy *p = NULL;
    char err[2048];
    if (ww_policy_new(&p) != WW_OK) {
        fprintf(stderr, "weightwall policy: out of memory\n");
        return NULL;
    }
    ww_policy_set_strict(p, o->strict);
    ww_policy_set_budget(p, o->steps, o->depth, o->memory);
    ww_policy_set_now_ns(p, o->now_ns);
    bool ok = true;
    for (size_t i = 0; i < nfiles; i++) {
        size_t len;
        char *text = read_file(files[i], &len);
        if (!text) {
            ok = false;
            continue;
        }
        if (ww_policy_add_module(p, files[i], text, len, err, sizeof(err)) != WW_OK) {
            fprintf(stderr, "%s\n", err);
            ok = false;
        }
        free(text);
    }
    for (size_t i = 0; i < o->ndata; i++) {
        size_t len;
        char *text = read_file(o->data[i], &len);
        if (!text) {
            ok = false;
            continue;
        }
        if (ww_policy_add_data_json(p, text, len, err, sizeof(err)) != WW_OK) {
            fprintf(stderr, "%s: %s\n", o->data[i], err);
            ok = false;
        }
        free(text);
    }
    if (ok && ww_policy_compile(p, err, sizeof(err)) != WW_OK) {
        fprintf(stderr, "%s\n", err);
        ok = false;
    }
    if (!ok) {
        ww_policy_free(p);
        return NULL;
    }
    return p;
}

static char *load_input(const opts *o, size_t *len, bool *failed)
{
    *failed = false;
    *len = 0;
    if (o->input_text) {
        *len = strlen(o->input_text);
        char *c = malloc(*len + 1);
        if (c)
            memcpy(c, o->input_text, *len + 1);
        *failed = !c;
        return c;
    }
    if (!o->input_file)
        return NULL;
    char *t = read_file(o->input_file, len);
    *failed = !t;
    return t;
}

static int cmd_eval(int argc, char **argv)
{
    opts o = {0};
    if (!parse_opts(argc, argv, &o))
        return WW_EXIT_ERROR;
    if (o.help) {
        fputs(usage_eval, stdout);
        return WW_EXIT_CLEAN;
    }
    if (o.npos != 1) {
        fprintf(stderr, "weightwall policy eval: expected exactly one QUERY\n\n%s", usage_eval);
        return WW_EXIT_ERROR;
    }
    ww_policy *p = load(&o, o.policies, o.npol);
    if (!p)
        return WW_EXIT_ERROR;
    size_t ilen;
    bool failed;
    char *input = load_input(&o, &ilen, &failed);
    int rc = WW_EXIT_ERROR;
    if (!failed) {
        char *out = NULL, err[2048];
        ww_status st = o.all ? ww_policy_query(p, o.pos[0], input, ilen, &out, err, sizeof(err))
                             : ww_policy_eval(p, o.pos[0], input, ilen, &out, err, sizeof(err));
        if (st != WW_OK) {
            fprintf(stderr, "%s\n", err[0] ? err : ww_strerror(st));
        } else if (!out || (o.all && strcmp(out, "[]") == 0)) {
            if (o.all && out)
                printf("%s\n", out);
            rc = 1; /* undefined */
        } else {
            printf("%s\n", out);
            rc = WW_EXIT_CLEAN;
        }
        ww_policy_string_free(out);
    }
    free(input);
    ww_policy_free(p);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    opts o = {0};
    if (!parse_opts(argc, argv, &o))
        return WW_EXIT_ERROR;
    if (o.help) {
        fputs(usage_check, stdout);
        return WW_EXIT_CLEAN;
    }
    const char *files[512];
    size_t n = 0;
    for (size_t i = 0; i < o.npol && n < 512; i++)
        files[n++] = o.policies[i];
    for (size_t i = 0; i < o.npos && n < 512; i++)
        files[n++] = o.pos[i];
    if (n == 0) {
        fprintf(stderr, "weightwall policy check: no policy files\n\n%s", usage_check);
        return WW_EXIT_ERROR;
    }
    ww_policy *p = load(&o, files, n);
    if (!p)
        return WW_EXIT_ERROR;
    ww_policy_free(p);
    printf("ok: %zu module%s compiled\n", n, n == 1 ? "" : "s");
    return WW_EXIT_CLEAN;
}

static int cmd_decide(int argc, char **argv)
{
    opts o = {0};
    if (!parse_opts(argc, argv, &o))
        return WW_EXIT_ERROR;
    if (o.help) {
        fputs(usage_decide, stdout);
        return WW_EXIT_CLEAN;
    }
    if (o.npos) {
        fprintf(stderr, "weightwall policy decide: unexpected argument '%s'\n", o.pos[0]);
        return WW_EXIT_ERROR;
    }
    ww_policy *p = load(&o, o.policies, o.npol);
    if (!p)
        return WW_EXIT_ERROR;
    size_t ilen;
    bool failed, match = false;
    char *input = load_input(&o, &ilen, &failed);
    int rc = WW_EXIT_ERROR;
    if (!failed) {
        char *reasons = NULL, err[2048];
        ww_status st = ww_policy_decide(p, o.pkg ? o.pkg : "cloudsmith", input, ilen, &match,
                                        &reasons, err, sizeof(err));
        if (st != WW_OK) {
            fprintf(stderr, "%s\n", err[0] ? err : ww_strerror(st));
        } else {
            printf("{\"match\":%s,\"reasons\":%s}\n", match ? "true" : "false", reasons);
            rc = match ? 1 : WW_EXIT_CLEAN;
        }
        ww_policy_string_free(reasons);
    }
    free(input);
    ww_policy_free(p);
    return rc;
}

int ww_cmd_policy(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return WW_EXIT_ERROR;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "eval") == 0)
        return cmd_eval(argc - 1, argv + 1);
    if (strcmp(sub, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(sub, "input") == 0) {
        /* The input document a scan produces: same arguments as `scan`. */
        extern int ww_cmd_policy_input(int argc, char **argv);
        return ww_cmd_policy_input(argc - 1, argv + 1);
    }
    if (strcmp(sub, "decide") == 0)
        return cmd_decide(argc - 1, argv + 1);
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        fputs(usage_main, stdout);
        return WW_EXIT_CLEAN;
    }
    fprintf(stderr, "weightwall policy: unknown command '%s'\n\n%s", sub, usage_main);
    return WW_EXIT_ERROR;
}
