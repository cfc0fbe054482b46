/* `weightwall serve`: options, configuration file, start-up and shutdown. */
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "serve/gate.h"
#include "serve/serve.h"

static const char usage[] =
    "Usage: weightwall serve --upstream URL --store DIR --policy FILE.rego [options]\n"
    "\n"
    "A Hugging Face Hub proxy (point HF_ENDPOINT at it) that scans every file of a\n"
    "repo revision and evaluates the policy before any byte of it reaches a client.\n"
    "A revision the policy matches is quarantined: every file is answered 403 with\n"
    "X-Error-Code: GatedRepo and the policy's reasons.\n"
    "\n"
    "Options:\n"
    "  --upstream URL         the hub to proxy (e.g. https://huggingface.co)\n"
    "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8766; port 0 picks one)\n"
    "  --store DIR            blob store and default database location\n"
    "  --policy FILE.rego     the policy (Rego); if it fails to load, every download is refused\n"
    "  --query REF            decision rule (default data.cloudsmith.match)\n"
    "  --db URL               sqlite:PATH (default DIR/gate.db) or postgresql://...\n"
    "  --admin-token TOKEN    enables / and /admin/api/ (also $WEIGHTWALL_ADMIN_TOKEN)\n"
    "  --upstream-token TOKEN token sent upstream when a client sends none\n"
    "  --public-url URL       the gate's URL as clients see it (default: from Host)\n"
    "  --node NAME            this node's name in the audit log (default host:port)\n"
    "  --threshold SEV        severity that makes a file UNSAFE (default MEDIUM)\n"
    "  --get-wait SECONDS     longest wait for a verdict on GET before 503 (default 8)\n"
    "  --head-wait-ms MS      longest wait for a decision on HEAD (default 1000)\n"
    "  --small-file BYTES     files up to this size are fetched whole to decide (default 16 MiB)\n"
    "  --upstream-timeout S   upstream connect/stall timeout (default 10)\n"
    "  --ready-file PATH      write the gate's URL there once it listens\n"
    "  --exit-after SECONDS   stop by itself after this long (tests)\n"
    "  --quiet                no access log\n"
    "  --config FILE          read options from FILE: one `name = value` per line\n"
    "\n"
    "Routes: the Hub API (/api/..., /{repo}/resolve/{rev}/{path}), /healthz, /metrics,\n"
    "/ (operators' page) and /admin/api/{quarantined,decisions,downloads,audit,release}.\n";

typedef struct cli {
    gate_opts o;
    const char *ready_file;
    long exit_after;
    const char *config;
} cli;

/* Option strings live for the whole process; they are kept in one list and
 * released at exit so leak checkers see a clean shutdown. */
static char *g_owned[64];
static size_t g_nowned;

static void free_owned(void)
{
    for (size_t i = 0; i < g_nowned; i++)
        free(g_owned[i]);
    g_nowned = 0;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("weightwall serve: out of memory\n", stderr);
        exit(2);
    }
    if (g_nowned == 0)
        atexit(free_owned);
    if (g_nowned < sizeof g_owned / sizeof g_owned[0])
        g_owned[g_nowned++] = d;
    return d;
}

static bool parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

/* Apply one option; returns 0, or -1 with a message printed. */
static int set_opt(cli *c, const char *name, const char *v, const char *where)
{
    long x;
    gate_opts *o = &c->o;
#define NEED_LONG(lo, hi)                                                                     \
    do {                                                                                      \
        if (!parse_long(v, lo, hi, &x)) {                                                     \
            fprintf(stderr, "weightwall serve: %s--%s: '%s' is not a number in [%ld, %ld]\n", \
                    where, name, v, (long)(lo), (long)(hi));                                  \
            return -1;                                                                        \
        }                                                                                     \
    } while (0)
    if (strcmp(name, "upstream") == 0) {
        char *u = xstrdup(v);
        size_t n = strlen(u);
        while (n && u[n - 1] == '/')
            u[--n] = '\0';
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
            fprintf(stderr, "weightwall serve: %s--upstream must be an http(s) URL\n", where);
            free(u);
            return -1;
        }
        o->upstream = u;
    } else if (strcmp(name, "listen") == 0) {
        o->listen = xstrdup(v);
    } else if (strcmp(name, "store") == 0) {
        o->store = xstrdup(v);
    } else if (strcmp(name, "policy") == 0) {
        o->policy_path = xstrdup(v);
    } else if (strcmp(name, "query") == 0) {
        o->query = xstrdup(v);
    } else if (strcmp(name, "db") == 0) {
        o->db_url = xstrdup(v);
    } else if (strcmp(name, "admin-token") == 0) {
        o->admin_token = xstrdup(v);
    } else if (strcmp(name, "upstream-token") == 0) {
        o->upstream_token = xstrdup(v);
    } else if (strcmp(name, "public-url") == 0) {
        char *u = xstrdup(v);
        size_t n = strlen(u);
        while (n && u[n - 1] == '/')
            u[--n] = '\0';
        o->public_url = u;
    } else if (strcmp(name, "node") == 0) {
        o->node = xstrdup(v);
    } else if (strcmp(name, "threshold") == 0) {
        if (!ww_severity_parse(v, &o->threshold)) {
            fprintf(stderr, "weightwall serve: %s--threshold: unknown severity '%s'\n", where, v);
            return -1;
        }
    } else if (strcmp(name, "get-wait") == 0) {
        NEED_LONG(0, 3600);
        o->get_wait_ms = (int)(x * 1000);
    } else if (strcmp(name, "head-wait-ms") == 0) {
        NEED_LONG(0, 60000);
        o->head_wait_ms = (int)x;
    } else if (strcmp(name, "small-file") == 0) {
        NEED_LONG(0, 1L << 40);
        o->small_file = (uint64_t)x;
    } else if (strcmp(name, "upstream-timeout") == 0) {
        NEED_LONG(1, 3600);
        o->upstream_timeout_s = x;
    } else if (strcmp(name, "ready-file") == 0) {
        c->ready_file = xstrdup(v);
    } else if (strcmp(name, "exit-after") == 0) {
        NEED_LONG(0, 1L << 30);
        c->exit_after = x;
    } else {
        fprintf(stderr, "weightwall serve: %sunknown option --%s (see --help)\n", where, name);
        return -1;
    }
#undef NEED_LONG
    return 0;
}

static int load_config(cli *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "weightwall serve: --config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        s[strcspn(s, "\r\n")] = '\0';
        if (!*s || *s == '#')
            continue;
        char *eq = s + strcspn(s, "= \t");
        char *val = eq;
        if (*eq) {
            *eq = '\0';
            val = eq + 1;
            while (*val == ' ' || *val == '\t' || *val == '=')
                val++;
        }
        size_t n = strlen(val);
        while (n && (val[n - 1] == ' ' || val[n - 1] == '\t'))
            val[--n] = '\0';
        char where[600];
        snprintf(where, sizeof where, "%s:%d: ", path, lineno);
        if (strcmp(s, "quiet") == 0)
            c->o.quiet = true;
        else
            rc = set_opt(c, s, val, where);
    }
    fclose(f);
    return rc;
}

static int parse_args(cli *c, int argc, char **argv)
{
    /* The configuration file first, so the command line overrides it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            if (load_config(c, argv[i + 1]) != 0)
                return -1;
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            if (load_config(c, argv[i] + 9) != 0)
                return -1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (strcmp(a, "--quiet") == 0) {
            c->o.quiet = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "weightwall serve: unexpected argument '%s'\n", a);
            return -1;
        }
        char name[64];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "weightwall serve: %s needs a value\n", a);
                return -1;
            }
            val = argv[++i];
        }
        if (strcmp(name, "config") == 0)
            continue;
        if (set_opt(c, name, val, "") != 0)
            return -1;
    }
    return 0;
}

static int make_dirs(const char *store)
{
    char p[4096];
    const char *sub[] = {"", "/blobs", "/tmp"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", store, sub[i]);
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "weightwall serve: cannot create %s: %s\n", p, strerror(errno));
            return -1;
        }
    }
    /* Downloads interrupted by a crash or restart are never served: drop them. */
    snprintf(p, sizeof p, "%s/tmp", store);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char f[4400];
        snprintf(f, sizeof f, "%s/%s", p, de->d_name);
        unlink(f);
    }
    if (d)
        closedir(d);
    return 0;
}

static int write_ready(const char *path, const char *url)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", url);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int ww_cmd_serve(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.o.listen = "127.0.0.1:8766";
    c.o.query = "data.cloudsmith.match";
    c.o.upstream_timeout_s = 10;
    c.o.get_wait_ms = 8000;
    c.o.head_wait_ms = 1000;
    c.o.small_file = 16u << 20;
    c.o.threshold = WW_SEV_MEDIUM;
    c.o.admin_token = getenv("WEIGHTWALL_ADMIN_TOKEN");
    if (parse_args(&c, argc, argv) != 0)
        return 2;
    if (!c.o.upstream || !c.o.store || !c.o.policy_path) {
        fputs("weightwall serve: --upstream, --store and --policy are required\n\n", stderr);
        fputs(usage, stderr);
        return 2;
    }
    char addr[64];
    const char *colon = strrchr(c.o.listen, ':');
    long port = -1;
    if (!colon || (size_t)(colon - c.o.listen) >= sizeof addr ||
        !parse_long(colon + 1, 0, 65535, &port)) {
        fprintf(stderr, "weightwall serve: --listen expects ADDR:PORT, got '%s'\n", c.o.listen);
        return 2;
    }
    snprintf(addr, sizeof addr, "%.*s", (int)(colon - c.o.listen), c.o.listen);
    if (make_dirs(c.o.store) != 0)
        return 2;

    gate *g = calloc(1, sizeof *g);
    if (!g)
        return 2;
    g->o = c.o;
    ww_limits_default(&g->o.limits);
    pthread_mutex_init(&g->db_mu, NULL);
    pthread_mutex_init(&g->jobs_mu, NULL);
    pthread_cond_init(&g->jobs_cv, NULL);
    pthread_mutex_init(&g->cache_mu, NULL);
    pthread_mutex_init(&g->log_mu, NULL);
    wwx_http_global_init();
    if (ww_engine_new(&g->engine) != WW_OK) {
        fputs("weightwall serve: cannot create the scan engine\n", stderr);
        return 2;
    }
    ww_engine_set_limits(g->engine, &g->o.limits);
    ww_engine_set_threshold(g->engine, g->o.threshold);
    if (gpol_load(g) != 0)
        gate_log_json(g, json_pack("{s:s, s:s, s:s, s:s}", "level", "error", "msg",
                                   "policy failed to load: every download will be refused",
                                   "policy", g->o.policy_path, "detail", g->policy_error));
    char err[1024];
    if (gdb_open(g->o.db_url, g->o.store, &g->db, err, sizeof err) != 0) {
        fprintf(stderr, "weightwall serve: %s\n", err);
        return 2;
    }

    /* Signals are taken by sigtimedwait below; every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int bound = 0;
    struct MHD_Daemon *d = ghttp_start(g, addr, (int)port, &bound, err, sizeof err);
    if (!d) {
        fprintf(stderr, "weightwall serve: %s\n", err);
        gdb_close(g->db);
        return 2;
    }
    char url[128], node[128];
    snprintf(url, sizeof url, "http://%s:%d", addr, bound);
    if (!g->o.node) {
        char host[64] = "gate";
        gethostname(host, sizeof host - 1);
        snprintf(node, sizeof node, "%s:%d", host, bound);
        g->o.node = node;
    }
    gate_log_json(g, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "event", "listening", "url",
                               url, "upstream", g->o.upstream, "store", g->o.store, "db",
                               gdb_kind(g->db), "policy", g->policy_name, "node", g->o.node));
    if (c.ready_file && write_ready(c.ready_file, url) != 0)
        fprintf(stderr, "weightwall serve: cannot write %s\n", c.ready_file);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        if (c.exit_after > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec >= c.exit_after) {
                gate_log_json(g, json_pack("{s:s, s:I}", "event", "exit-after", "seconds",
                                           (json_int_t)c.exit_after));
                break;
            }
        }
    }
    MHD_stop_daemon(d);
    /* Let running downloads and scans finish writing (bounded). */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&g->jobs_mu);
        unsigned n = g->njobs;
        pthread_mutex_unlock(&g->jobs_mu);
        if (n == 0)
            break;
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
    gate_log_json(g, json_pack("{s:s}", "event", "stopped"));
    pthread_mutex_lock(&g->jobs_mu);
    bool idle = g->njobs == 0;
    pthread_mutex_unlock(&g->jobs_mu);
    if (idle) { /* else worker threads still hold them: the process exit frees all */
        gdb_close(g->db);
        gup_cache_free(g);
        ww_policy_free(g->policy);
        ww_engine_free(g->engine);
        free(g);
    }
    return 0;
}
