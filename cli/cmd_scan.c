/* `weightwall scan`: expand inputs, scan them on N threads, print a report,
 * and map verdicts to the exit code. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/scan_opts.h"
#include "common/wwx.h"

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
    "Performance:\n"
    "  -j, --jobs N           scan N files in parallel (default: number of CPUs)\n"
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

static char *slurp(FILE *f, size_t max, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                return NULL;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    *len = n;
    return buf;
}

/* ---- parallel scanning ---- */
typedef struct job {
    const ww_engine *eng;
    const wwx_inputs *in;
    ww_result **results;
    atomic_size_t next;
} job;

static void scan_one(const ww_engine *eng, const wwx_input *item, ww_result **out)
{
    ww_status st;
    if (strcmp(item->path, "-") == 0) {
        size_t len = 0;
        char *data = slurp(stdin, (size_t)ww_engine_limits(eng)->max_inflated_bytes, &len);
        if (!data) {
            st = ww_scan_file(eng, "/dev/null/stdin-too-large", "<stdin>", out);
        } else {
            st = ww_scan_memory(eng, data, len, "<stdin>", out);
            free(data);
        }
    } else {
        st = ww_scan_file(eng, item->path, item->display, out);
    }
    if (st != WW_OK)
        *out = NULL;
}

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->in->n)
            break;
        scan_one(j->eng, &j->in->items[i], &j->results[i]);
    }
    return NULL;
}

static void scan_all(const ww_engine *eng, const wwx_inputs *in, ww_result **results, int jobs)
{
    job j = {eng, in, results, 0};
    if (jobs < 1)
        jobs = 1;
    if ((size_t)jobs > in->n)
        jobs = (int)in->n;
    pthread_t tids[256];
    int started = 0;
    for (int t = 1; t < jobs && t < 256; t++)
        if (pthread_create(&tids[started], NULL, worker, &j) == 0)
            started++;
    worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *d = slurp(f, 64u << 20, len);
    fclose(f);
    return d;
}

int ww_cmd_scan(int argc, char **argv)
{
    ww_scan_opts o;
    int rc = ww_scan_opts_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;

    ww_engine *eng = NULL;
    if (ww_engine_new(&eng) != WW_OK) {
        fprintf(stderr, "weightwall: out of memory\n");
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
            return WW_EXIT_ERROR;
        }
        ww_status st = ww_engine_load_globals(eng, text, len, err, sizeof err);
        free(text);
        if (st != WW_OK) {
            fprintf(stderr, "weightwall scan: %s: %s\n", o.globals[i], err);
            ww_engine_free(eng);
            return WW_EXIT_ERROR;
        }
    }

    wwx_inputs in = {0};
    int exit_code = WW_EXIT_CLEAN;
    for (int i = 0; i < o.npaths; i++) {
        char err[512];
        if (wwx_inputs_add(&in, o.paths[i], err, sizeof err) != 0) {
            fprintf(stderr, "weightwall scan: %s\n", err);
            exit_code = WW_EXIT_ERROR;
        }
    }
    ww_result **results = calloc(in.n ? in.n : 1, sizeof *results);
    if (!results) {
        fprintf(stderr, "weightwall: out of memory\n");
        wwx_inputs_free(&in);
        ww_engine_free(eng);
        return WW_EXIT_ERROR;
    }
    scan_all(eng, &in, results, o.jobs);

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
    if (exit_code != WW_EXIT_ERROR)
        exit_code = sum.unsafe ? WW_EXIT_UNSAFE : sum.errors ? WW_EXIT_ERROR : WW_EXIT_CLEAN;

    if (o.format == WW_OUT_JSON) {
        json_t *files = json_array();
        for (size_t i = 0; i < in.n; i++)
            if (results[i])
                json_array_append_new(files, wwx_result_json(results[i], o.min_severity));
        json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "schema", "weightwall.scan/1",
                                "version", WW_VERSION, "threshold",
                                ww_severity_name(o.threshold), "files", files, "summary",
                                wwx_summary_json(&sum));
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
    }
    if (out != stdout)
        fclose(out);
    for (size_t i = 0; i < in.n; i++)
        ww_result_free(results[i]);
    free(results);
    wwx_inputs_free(&in);
    ww_engine_free(eng);
    ww_scan_opts_free(&o);
    return exit_code;
}
