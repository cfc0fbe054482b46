/* `weightwall scan`: expand inputs, scan them on N threads, print a report,
 * and map verdicts to the exit code. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/scan_opts.h"
#include "cli/scan_policy.h"
#include "common/wwx.h"
#include "common/sandbox.h"
#include "ww_config.h"
#if WW_HAVE_CURL
#include "common/remote.h"
#endif

const char ww_scan_usage[] =
    "Usage: weightwall scan [options] PATH...\n"
    "\n"
    "Scan model files without loading them. PATH may be a file, a directory (scanned\n"
    "recursively; symlinked Hugging Face cache blobs are scanned once), or - for stdin.\n"
    "Formats are detected by content, not by file name: pickle (any protocol, any\n"
    "extension), PyTorch zip/legacy/TorchScript, NumPy .npy/.npz, joblib, zip, tar, 7z,\n"
    "gzip/bz2/xz/zstd, Keras H5/.keras, SavedModel, ONNX, GGUF, safetensors.\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT       text (default), json, or sarif (SARIF 2.1.0)\n"
    "  -o, --output FILE      write the report to FILE instead of stdout\n"
    "      --min-severity SEV only list findings at or above SEV (LOW, MEDIUM, HIGH, CRITICAL)\n"
    "      --show-skipped     also list files that are not a model format\n"
    "  -q, --quiet            print only unsafe files and errors, no summary\n"
    "\n"
    "Decision:\n"
    "  -t, --threshold SEV    severity that makes a file unsafe (default MEDIUM)\n"
    "      --globals FILE     extra allow/deny rules for Python globals, one per line:\n"
    "                         <module> <name|*> <safe|low|medium|high|critical> [reason]\n"
    "      --limit NAME=VAL   change a scan limit (see `weightwall limits`); repeatable\n"
    "\n"
    "Remote (reads only the bytes that matter, by HTTP Range requests):\n"
    "  PATH may also be an http(s):// URL, or hf://[datasets/]ORG/NAME[@REVISION]\n"
    "      --huggingface REPO scan a Hugging Face repo (same as hf://REPO)\n"
    "      --url URL          scan one remote file\n"
    "      --hf-cache[=DIR]   scan the local Hugging Face cache (default: HF_HUB_CACHE,\n"
    "                         else HF_HOME/hub, else ~/.cache/huggingface/hub), per repo\n"
    "                         and revision, each blob once, blobs checked against sha256\n"
    "      --offline          never use the network (also HF_HUB_OFFLINE=1)\n"
    "      --timeout SECONDS  connect/read timeout (default 10)\n"
    "      --retries N        retries on 5xx and connection resets (default 3)\n"
    "  Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN, proxies via\n"
    "  http_proxy/https_proxy/no_proxy.\n"
    "\n"
    "Isolation:\n"
    "  Local files are parsed in a child process confined by seccomp (no exec, no\n"
    "  network, no new files) and resource limits; a child that is killed is an\n"
    "  error for that file and the scan goes on. Remote files are fetched by the\n"
    "  parent and parsed in the child too; so is standard input.\n"
    "      --no-sandbox       parse in-process (faster for many tiny files)\n"
    "      --sandbox-memory N address-space limit of the child beyond the file size\n"
    "                         (default 4G; suffix M or G)\n"
    "      --sandbox-cpu SECS CPU-time limit of the child (default: twice max_time_ms)\n"
    "\n"
    "Policy (Rego; see docs/policy/):\n"
    "      --policy FILE      evaluate a Rego policy over the scan's input document\n"
    "                         (per package: a repo revision, or the local paths);\n"
    "                         repeatable. Exit 1 when it matches (refused), 0 when\n"
    "                         not, 2 when it cannot be loaded or evaluated\n"
    "      --data FILE        JSON merged into `data` (repeatable)\n"
    "      --query Q          decision to evaluate (default data.cloudsmith.match; a\n"
    "                         truthy value - true, or a non-empty set - refuses)\n"
    "\n"
    "Performance:\n"
    "  -j, --jobs N           scan N files in parallel (default: number of CPUs)\n"
    "\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit codes:\n"
    "  0  every file is clean (or not a model format)\n"
    "  1  at least one file has a finding at or above the threshold\n"
    "  2  an error: bad usage, unreadable path, or a file that could not be fully\n"
    "     understood (truncated, malformed, encrypted, over a limit) - never clean\n"
    "\n"
    "Examples:\n"
    "  weightwall scan pytorch_model.bin\n"
    "  weightwall scan --format json ~/.cache/huggingface/hub > report.json\n"
    "  weightwall scan --threshold HIGH --min-severity LOW models/\n";


/* ---- parallel scanning ---- */
typedef struct item_info {
    uint64_t fetched;
    bool remote;
    char *commit;
    int blob_ok; /* cache: 1 sha256 matches, 0 mismatch, -1 unchecked */
} item_info;

typedef struct job {
    const ww_engine *eng;
    const wwx_sandbox_opts *sandbox; /* NULL: in-process */
    const wwx_inputs *in;
    ww_result **results;
    item_info *info;
#if WW_HAVE_CURL
    const wwx_http_opts *http;
#endif
    atomic_size_t next;
} job;

/* Copy standard input into an anonymous memory file, at most max bytes.
 * Returns the descriptor, or -1 with a reason in err. */
static int stdin_to_memfd(uint64_t max, ww_status *why, char *err, size_t errlen)
{
    *why = WW_E_IO;
    int fd = memfd_create("weightwall-stdin", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a memory file: %s", strerror(errno));
        return -1;
    }
    static __thread char buf[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "read error: %s", strerror(errno));
            break;
        }
        if (r == 0)
            return fd;
        total += (uint64_t)r;
        if (total > max) {
            *why = WW_E_LIMIT;
            snprintf(err, errlen, "larger than max_inflated_bytes (%llu): not scanned",
                     (unsigned long long)max);
            break;
        }
        ssize_t done = 0;
        while (done < r) {
            ssize_t w = write(fd, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += w;
        }
        if (done < r) {
            snprintf(err, errlen, "cannot hold it in memory: %s", strerror(errno));
            break;
        }
    }
    close(fd);
    return -1;
}

/* Standard input: a regular file (`< model.pt`) is scanned as it is; a pipe is
 * streamed (up to max_inflated_bytes) into an anonymous memory file that the
 * sandboxed child maps like any other file. Never "clean" when it cannot be
 * read whole. */
static ww_status scan_stdin(const ww_engine *eng, wwx_sandbox *sandbox, ww_result **out)
{
    uint64_t max = ww_engine_limits(eng)->max_inflated_bytes;
    char err[512], msg[600];
    if (sandbox) {
        struct stat sst;
        if (fstat(0, &sst) == 0 && S_ISREG(sst.st_mode))
            return wwx_sandbox_scan_fd(sandbox, eng, 0, "<stdin>", out);
        ww_status why;
        int fd = stdin_to_memfd(max, &why, err, sizeof err);
        if (fd < 0) {
            snprintf(msg, sizeof msg, "standard input: %s", err);
            return ww_result_new_failed("<stdin>", why, msg, out);
        }
        ww_status st = wwx_sandbox_scan_fd(sandbox, eng, fd, "<stdin>", out);
        close(fd);
        return st;
    }
    size_t len = 0;
    char *data = wwx_read_file("-", (size_t)max, &len, err, sizeof err);
    if (!data) {
        snprintf(msg, sizeof msg, "standard input: %s", err);
        return ww_result_new_failed("<stdin>", WW_E_LIMIT, msg, out);
    }
    ww_status st = ww_scan_memory(eng, data, len, "<stdin>", out);
    free(data);
    return st;
}

static void scan_one(const job *j, wwx_sandbox *sandbox, const wwx_input *item, ww_result **out,
                     item_info *info)
{
    const ww_engine *eng = j->eng;
    ww_status st;
    info->blob_ok = -1;
    if (item->kind == WWX_IN_URL) {
#if WW_HAVE_CURL
        wwx_remote_scan rs;
        st = wwx_remote_scan_url(eng, j->sandbox ? sandbox : NULL, j->http, item->path,
                                 item->display, out, &rs);
        info->remote = true;
        info->fetched = rs.fetched;
        info->commit = rs.commit;
#else
        st = ww_result_new_failed(item->display, WW_E_UNSUPPORTED,
                                  "this build has no remote support (libcurl)", out);
#endif
    } else if (item->kind == WWX_IN_STDIN) {
        st = scan_stdin(eng, j->sandbox ? sandbox : NULL, out);
    } else if (j->sandbox && sandbox) {
        st = wwx_sandbox_scan(sandbox, eng, item->path, item->display, out);
    } else {
        st = ww_scan_file(eng, item->path, item->display, out);
    }
    if (st != WW_OK) {
        *out = NULL;
        return;
    }
    if (item->from_cache && item->blob) {
        info->blob_ok = wwx_hf_blob_verify(item->path, item->blob);
        if (info->blob_ok == 0)
            ww_result_annotate(*out, WW_SEV_HIGH, "cache",
                               "blob content does not match its sha256 name: the cache was "
                               "tampered with");
    }
    if (item->from_cache && item->blob && strstr(item->blob, ".incomplete"))
        ww_result_annotate(*out, WW_SEV_MEDIUM, "cache",
                           "incomplete download left in the cache (never loaded by clients, "
                           "but its content is unverified)");
}

static void *worker(void *arg)
{
    job *j = arg;
    wwx_sandbox *sandbox = NULL; /* one zygote per worker thread, started on first use */
    if (j->sandbox && wwx_sandbox_open(j->sandbox, &sandbox) != WW_OK)
        sandbox = NULL;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->in->n)
            break;
        if (j->sandbox && !sandbox) {
            /* Without a sandbox we do not silently parse in-process. */
            if (ww_result_new_failed(j->in->items[i].display, WW_E_NOMEM,
                                     "sandbox: out of memory", &j->results[i]) != WW_OK)
                j->results[i] = NULL;
            continue;
        }
        scan_one(j, sandbox, &j->in->items[i], &j->results[i], &j->info[i]);
    }
    wwx_sandbox_close(sandbox);
    return NULL;
}

static void scan_all(job *j, int jobs)
{
    const wwx_inputs *in = j->in;
    if (jobs < 1)
        jobs = 1;
    if ((size_t)jobs > in->n)
        jobs = (int)in->n;
    pthread_t tids[256];
    int started = 0;
    for (int t = 1; t < jobs && t < 256; t++)
        if (pthread_create(&tids[started], NULL, worker, j) == 0)
            started++;
    worker(j);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}

static char *read_file(const char *path, size_t *len)
{
    char err[512];
    return wwx_read_file(path, 64u << 20, len, err, sizeof err);
}

/* The per-file JSON object plus the context only the front end knows. */
static json_t *file_json(const wwx_input *it, const item_info *info, const ww_result *r,
                         ww_severity min_sev)
{
    json_t *o = wwx_result_json(r, min_sev);
    if (info->remote) {
        json_object_set_new(o, "bytes_read", json_integer((json_int_t)info->fetched));
        json_t *rem = json_object();
        json_object_set_new(rem, "url", json_string(it->path));
        json_object_set_new(rem, "repo", it->repo ? json_string(it->repo) : json_null());
        json_object_set_new(rem, "repo_type",
                            it->repo_type ? json_string(it->repo_type) : json_null());
        json_object_set_new(rem, "revision",
                            it->revision ? json_string(it->revision) : json_null());
        const char *commit = it->commit ? it->commit : info->commit;
        json_object_set_new(rem, "commit", commit ? json_string(commit) : json_null());
        json_object_set_new(o, "remote", rem);
    }
    if (it->from_cache) {
        json_t *c = json_object();
        json_object_set_new(c, "repo", json_string(it->repo));
        json_object_set_new(c, "repo_type", json_string(it->repo_type));
        json_object_set_new(c, "revision", it->revision ? json_string(it->revision) : json_null());
        json_t *refs = json_array();
        if (it->refs) {
            char *copy = strdup(it->refs), *save = NULL;
            for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t;
                 t = strtok_r(NULL, ",", &save))
                json_array_append_new(refs, json_string(t));
            free(copy);
        }
        json_object_set_new(c, "refs", refs);
        json_object_set_new(c, "blob", it->blob ? json_string(it->blob) : json_null());
        json_object_set_new(c, "blob_sha256_ok",
                            info->blob_ok < 0 ? json_null() : json_boolean(info->blob_ok == 1));
        json_object_set_new(o, "hf_cache", c);
    }
    return o;
}

static bool g_policy_input; /* set by `weightwall policy input` */

static void print_policy_text(FILE *out, json_t *report)
{
    if (!report)
        return;
    const char *q = json_string_value(json_object_get(report, "query"));
    size_t i, k;
    json_t *d, *r;
    json_array_foreach(json_object_get(report, "decisions"), i, d)
    {
        const char *err = json_string_value(json_object_get(d, "error"));
        bool match = json_is_true(json_object_get(d, "match"));
        fprintf(out, "policy %s: %s@%s: %s", q, json_string_value(json_object_get(d, "package")),
                json_string_value(json_object_get(d, "version")),
                err ? "ERROR (refused)" : match ? "REFUSED" : "allowed");
        if (err)
            fprintf(out, ": %s", err);
        json_array_foreach(json_object_get(d, "reasons"), k, r)
            fprintf(out, "%s%s", k ? "; " : " - ", json_string_value(r));
        fputc('\n', out);
    }
}

int ww_cmd_policy_input(int argc, char **argv);
int ww_cmd_policy_input(int argc, char **argv)
{
    g_policy_input = true;
    return ww_cmd_scan(argc, argv);
}

#if WW_HAVE_CURL
static char *hf_token(void)
{
    const char *t = getenv("HF_TOKEN");
    if (t && *t)
        return strdup(t);
    char path[4096];
    const char *tp = getenv("HF_TOKEN_PATH");
    if (tp && *tp)
        snprintf(path, sizeof path, "%s", tp);
    else if (getenv("HF_HOME"))
        snprintf(path, sizeof path, "%s/token", getenv("HF_HOME"));
    else
        snprintf(path, sizeof path, "%s/.cache/huggingface/token",
                 getenv("HOME") ? getenv("HOME") : "");
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text)
        return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    return text;
}

static void hf_endpoint(char *buf, size_t n)
{
    const char *e = getenv("HF_ENDPOINT");
    snprintf(buf, n, "%s", e && *e ? e : "https://huggingface.co");
    size_t len = strlen(buf);
    while (len > 0 && buf[len - 1] == '/')
        buf[--len] = '\0';
}

/* List a hub repo and queue each file as a URL input with its context. */
static int add_hub(wwx_inputs *in, const wwx_http_opts *http, const char *endpoint,
                   const char *spec, char *err, size_t errlen)
{
    wwx_hub_repo repo;
    if (wwx_hub_parse(spec, &repo, err, errlen) != 0)
        return -1;
    if (wwx_hub_list(http, endpoint, &repo, err, errlen) != 0) {
        char tmp[900];
        snprintf(tmp, sizeof tmp, "%s: %s", repo.id, err);
        snprintf(err, errlen, "%s", tmp);
        wwx_hub_repo_free(&repo);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < repo.nfiles && rc == 0; i++) {
        char *url = wwx_hub_file_url(endpoint, &repo, repo.files[i].path);
        wwx_input *it = url ? wwx_inputs_push(in, url, WWX_IN_URL) : NULL;
        free(url);
        if (!it) {
            rc = -1;
            break;
        }
        it->repo = strdup(repo.id);
        it->repo_type = strdup(repo.type);
        it->revision = strdup(repo.revision);
        it->commit = repo.commit ? strdup(repo.commit) : NULL;
    }
    if (repo.nfiles == 0)
        fprintf(stderr, "weightwall scan: %s: the repository has no files\n", repo.id);
    wwx_hub_repo_free(&repo);
    return rc;
}
#endif

int ww_cmd_scan(int argc, char **argv)
{
    ww_scan_opts o;
    int rc = ww_scan_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    o.policy_input = g_policy_input;

    ww_engine *eng = NULL;
    if (ww_engine_new(&eng) != WW_OK) {
        fprintf(stderr, "weightwall: out of memory\n");
        ww_scan_opts_free(&o);
        return WW_EXIT_ERROR;
    }
    ww_engine_set_limits(eng, &o.limits);
    ww_engine_set_threshold(eng, o.threshold);
    for (size_t i = 0; i < o.nglobals; i++) {
        size_t len = 0;
        char *text = read_file(o.globals[i], &len);
        char err[256] = "";
        if (!text) {
            fprintf(stderr, "weightwall scan: %s: cannot read globals file\n", o.globals[i]);
            ww_engine_free(eng);
            ww_scan_opts_free(&o);
            return WW_EXIT_ERROR;
        }
        ww_status st = ww_engine_load_globals(eng, text, len, err, sizeof err);
        free(text);
        if (st != WW_OK) {
            fprintf(stderr, "weightwall scan: %s: %s\n", o.globals[i], err);
            ww_engine_free(eng);
            ww_scan_opts_free(&o);
            return WW_EXIT_ERROR;
        }
    }

    wwx_inputs in = {0};
    int exit_code = WW_EXIT_CLEAN;
#if WW_HAVE_CURL
    wwx_http_global_init();
    wwx_http_opts http = {.timeout_s = o.timeout_s, .retries = o.retries, .backoff_ms = 250,
                          .offline = o.offline, .progress = isatty(STDERR_FILENO)};
    const char *off = getenv("HF_HUB_OFFLINE");
    if (off && (strcmp(off, "1") == 0 || strcasecmp(off, "true") == 0))
        http.offline = true;
    char *token = hf_token();
    http.token = token;
    char endpoint[1024];
    hf_endpoint(endpoint, sizeof endpoint);
#endif
    for (int i = 0; i < o.npaths; i++) {
        const char *p = o.paths[i];
        char err[1024];
        if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
            if (!wwx_inputs_push(&in, p, WWX_IN_URL))
                exit_code = WW_EXIT_ERROR;
        } else if (strncmp(p, "hf://", 5) == 0) {
#if WW_HAVE_CURL
            if (add_hub(&in, &http, endpoint, p, err, sizeof err) != 0) {
                fprintf(stderr, "weightwall scan: %s\n", err);
                exit_code = WW_EXIT_ERROR;
            }
#else
            fprintf(stderr, "weightwall scan: %s: this build has no remote support\n", p);
            exit_code = WW_EXIT_ERROR;
#endif
        } else if (o.hf_cache && !o.hf_cache_dir) {
            /* `--hf-cache DIR`: positional paths are cache directories. */
            if (wwx_hf_cache_add(&in, p, err, sizeof err) != 0) {
                fprintf(stderr, "weightwall scan: %s\n", err);
                exit_code = WW_EXIT_ERROR;
            }
        } else if (wwx_inputs_add(&in, p, err, sizeof err) != 0) {
            fprintf(stderr, "weightwall scan: %s\n", err);
            exit_code = WW_EXIT_ERROR;
        }
    }
    for (size_t i = 0; i < o.nurls; i++)
        if (!wwx_inputs_push(&in, o.urls[i], WWX_IN_URL))
            exit_code = WW_EXIT_ERROR;
    for (size_t i = 0; i < o.nhub; i++) {
        char err[1024];
#if WW_HAVE_CURL
        if (add_hub(&in, &http, endpoint, o.hub_repos[i], err, sizeof err) != 0) {
            fprintf(stderr, "weightwall scan: %s\n", err);
            exit_code = WW_EXIT_ERROR;
        }
#else
        (void)err;
        fprintf(stderr, "weightwall scan: this build has no remote support\n");
        exit_code = WW_EXIT_ERROR;
#endif
    }
    if (o.hf_cache && (o.hf_cache_dir || o.npaths == 0)) {
        char dir[4096], err[1024];
        const char *d = o.hf_cache_dir ? o.hf_cache_dir : wwx_hf_cache_default(dir, sizeof dir);
        if (wwx_hf_cache_add(&in, d, err, sizeof err) != 0) {
            fprintf(stderr, "weightwall scan: %s\n", err);
            exit_code = WW_EXIT_ERROR;
        }
    }
    ww_result **results = calloc(in.n ? in.n : 1, sizeof *results);
    /* `policy input` builds documents; nothing to do without inputs. */
    item_info *info = calloc(in.n ? in.n : 1, sizeof *info);
    if (!results || !info) {
        fprintf(stderr, "weightwall: out of memory\n");
        free(results);
        free(info);
        wwx_inputs_free(&in);
        ww_engine_free(eng);
        ww_scan_opts_free(&o);
        return WW_EXIT_ERROR;
    }
    /* The sandboxed child rebuilds the same engine from these arguments. */
    wwx_sandbox_args sargs;
    wwx_sandbox_args_init(&sargs, &o.limits, o.threshold, o.globals, o.nglobals);
    wwx_sandbox_opts sb = {.mem_bytes = o.sandbox_mem, .cpu_seconds = o.sandbox_cpu,
                           .selftest = o.sandbox_selftest, .engine_args = sargs.argv};
    job j = {.eng = eng, .in = &in, .results = results, .info = info,
             .sandbox = o.no_sandbox ? NULL : &sb};
#if WW_HAVE_CURL
    j.http = &http;
#endif
    atomic_init(&j.next, 0);
    scan_all(&j, o.jobs);

    FILE *out = stdout;
    if (o.output && !(out = fopen(o.output, "w"))) {
        perror(o.output);
        out = stdout;
        exit_code = WW_EXIT_ERROR;
    }
    wwx_summary sum = {0};
    for (size_t i = 0; i < in.n; i++) {
        if (!results[i]) {
            fprintf(stderr, "weightwall scan: %s: out of memory\n", in.items[i].display);
            exit_code = WW_EXIT_ERROR;
            continue;
        }
        wwx_summary_add(&sum, results[i], o.threshold);
    }
    /* Precedence: a bad argument (2) > an unsafe file (1) > a file that could
     * not be fully scanned (2) > clean (0). Documented in docs/cli/exit-codes.md. */
    bool arg_error = exit_code == WW_EXIT_ERROR;
    if (!arg_error)
        exit_code = sum.unsafe ? WW_EXIT_UNSAFE : sum.errors ? WW_EXIT_ERROR : WW_EXIT_CLEAN;

    /* Per-file report objects: the JSON report, and what policies see. */
    json_t **fj = NULL;
    json_t *policy_report = NULL;
    if (o.format == WW_OUT_JSON || o.npolicies || o.policy_input) {
        fj = calloc(in.n ? in.n : 1, sizeof *fj);
        for (size_t i = 0; fj && i < in.n; i++)
            if (results[i])
                fj[i] = file_json(&in.items[i], &info[i], results[i], o.min_severity);
    }
    if (o.policy_input) {
        ww_scan_policy_run(&o, &in, results, fj, true, NULL, out);
    } else if (o.npolicies) {
        /* Cloudsmith's way: the decision sets the exit code. A bad argument
         * still wins (2). */
        int prc = ww_scan_policy_run(&o, &in, results, fj, false, &policy_report, out);
        if (!arg_error)
            exit_code = prc;
    }
    if (o.policy_input) {
        /* printed above */
    } else if (o.format == WW_OUT_JSON) {
        json_t *files = json_array();
        for (size_t i = 0; i < in.n; i++)
            if (fj[i])
                json_array_append(files, fj[i]);
        json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "schema", "weightwall.scan/1",
                                "version", WW_VERSION, "threshold",
                                ww_severity_name(o.threshold), "files", files, "summary",
                                wwx_summary_json(&sum));
        if (policy_report)
            json_object_set(doc, "policy", policy_report);
        json_dumpf(doc, out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fputc('\n', out);
        json_decref(doc);
    } else if (o.format == WW_OUT_SARIF) {
        json_t *doc = wwx_sarif(results, in.n, o.min_severity);
        json_dumpf(doc, out, JSON_INDENT(2));
        fputc('\n', out);
        json_decref(doc);
    } else {
        bool color = out == stdout && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
        for (size_t i = 0; i < in.n; i++) {
            if (!results[i])
                continue;
            if (o.quiet && ww_result_verdict(results[i]) == WW_VERDICT_CLEAN)
                continue;
            wwx_result_text(out, results[i], o.min_severity, o.show_skipped, color);
        }
        if (!o.quiet)
            wwx_summary_text(out, &sum);
        print_policy_text(out, policy_report);
    }
    json_decref(policy_report);
    for (size_t i = 0; fj && i < in.n; i++)
        json_decref(fj[i]);
    free(fj);
    if (out != stdout)
        fclose(out);
    for (size_t i = 0; i < in.n; i++) {
        ww_result_free(results[i]);
        free(info[i].commit);
    }
    free(results);
    free(info);
#if WW_HAVE_CURL
    free(token);
#endif
    wwx_inputs_free(&in);
    ww_engine_free(eng);
    ww_scan_opts_free(&o);
    return exit_code;
}
