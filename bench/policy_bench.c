/* Policy benchmark: compile the seed article's two policies once, then
 * evaluate each over a Cloudsmith-style input describing 1,000 files, many
 * times, from one thread and then from two at once (a compiled policy is
 * shared read-only). Prints CPU microseconds per evaluation (thread CPU time,
 * because the dev machines are shared); the target is < 1 ms.
 * Each evaluation includes parsing the input JSON text.
 *
 * Build: not in meson yet (bench/meson.build does not exist);
 *   cc -O2 -Iinclude -Ilib -I<builddir> bench/policy_bench.c <builddir>/lib/libweightwall.a \
 *      -ljansson -lpcre2-8 -lz -lm -lpthread [-larchive -lhdf5]
 * Run: policy_bench [SOURCE_ROOT] [ITERATIONS] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "weightwall.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        *len = (size_t)n;
    }
    return b;
}

/* Thread CPU time: the dev machines are shared, wall time is noisy. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_input(size_t nfiles, size_t *len)
{
    static const char *ext[] = {".safetensors", ".json", ".md", ".txt", ".model"};
    size_t cap = 256 + nfiles * 200;
    char *b = malloc(cap);
    size_t n = (size_t)snprintf(b, cap,
                                "{\"v0\":{\"package\":{\"format\":\"huggingface\",\"name\":\"acme/"
                                "big-model\",\"version\":\"0123abcd\",\"files\":[");
    for (size_t i = 0; i < nfiles; i++)
        n += (size_t)snprintf(b + n, cap - n, "%s{\"file_extension\":\"%s\",\"path\":\"shard-%05zu%s\"}",
                              i ? "," : "", i + 1 == nfiles ? ".bin" : ext[i % 5], i,
                              i + 1 == nfiles ? ".bin" : ext[i % 5]);
    n += (size_t)snprintf(b + n, cap - n,
                          "]},\"model_security\":{\"availability\":\"COMPLETE\",\"scan_summary\":"
                          "\"SAFE\"}}}");
    *len = n;
    return b;
}

typedef struct job {
    const ww_policy *p;
    const char *input;
    size_t len;
    int iters;
    int errors;
    double secs;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    char err[512];
    double t0 = now_s();
    for (int i = 0; i < j->iters; i++) {
        char *out = NULL;
        if (ww_policy_eval(j->p, "data.cloudsmith.match", j->input, j->len, &out, err,
                           sizeof(err)) != WW_OK || !out || strcmp(out, "true") != 0)
            j->errors++;
        ww_policy_string_free(out);
    }
    j->secs = now_s() - t0;
    return NULL;
}

static ww_policy *compile(const char *root, const char *name)
{
    char path[4096], err[2048];
    snprintf(path, sizeof(path), "%s/policies/%s", root, name);
    size_t len;
    char *text = slurp(path, &len);
    ww_policy *p = NULL;
    if (!text || ww_policy_new(&p) != WW_OK ||
        ww_policy_add_module(p, name, text, len, err, sizeof(err)) != WW_OK ||
        ww_policy_compile(p, err, sizeof(err)) != WW_OK) {
        fprintf(stderr, "policy_bench: %s: %s\n", path, text ? err : "cannot read");
        free(text);
        ww_policy_free(p);
        return NULL;
    }
    free(text);
    return p;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : ".";
    int iters = argc > 2 ? atoi(argv[2]) : 2000;
    size_t ilen;
    char *input = make_input(1000, &ilen);
    const char *names[] = {"cloudsmith-risky-extensions.rego", "cloudsmith-scan-summary.rego"};
    int rc = 0;
    printf("input: 1000 files, %zu bytes of JSON; %d evaluations each\n", ilen, iters);
    for (int k = 0; k < 2; k++) {
        ww_policy *p = compile(root, names[k]);
        if (!p)
            return 2;
        /* scan-summary does not match this input (SAFE/COMPLETE): check that instead */
        job j = {p, input, ilen, iters, 0, 0};
        job warm = {p, input, ilen, iters / 10 + 1, 0, 0};
        worker(&warm); /* warm up the allocator and caches; not measured */
        if (k == 1) {
            char *out = NULL, err[512];
            double t0 = now_s();
            for (int i = 0; i < iters; i++) {
                if (ww_policy_eval(p, "data.cloudsmith.match", input, ilen, &out, err,
                                   sizeof(err)) != WW_OK || !out || strcmp(out, "false") != 0)
                    j.errors++;
                ww_policy_string_free(out);
                out = NULL;
            }
            j.secs = now_s() - t0;
        } else {
            worker(&j);
        }
        printf("%-36s %8.1f us/eval  (1 thread)%s\n", names[k], j.secs / iters * 1e6,
               j.errors ? "  ERRORS" : "");
        rc |= j.errors != 0;
        if (k == 0) {
            job t[2] = {{p, input, ilen, iters, 0, 0}, {p, input, ilen, iters, 0, 0}};
            pthread_t th[2];
            for (int i = 0; i < 2; i++)
                pthread_create(&th[i], NULL, worker, &t[i]);
            for (int i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
            printf("%-36s %8.1f us/eval  (2 threads sharing one compiled policy, CPU per eval)%s\n",
                   names[k], (t[0].secs + t[1].secs) / (2.0 * iters) * 1e6,
                   t[0].errors + t[1].errors ? "  ERRORS" : "");
            rc |= t[0].errors + t[1].errors != 0;
            bool match = false;
            char *reasons = NULL, err[512];
            double t1 = now_s();
            for (int i = 0; i < iters; i++) {
                if (ww_policy_decide(p, "cloudsmith", input, ilen, &match, &reasons, err,
                                     sizeof(err)) != WW_OK || !match)
                    rc |= 1;
                ww_policy_string_free(reasons);
                reasons = NULL;
            }
            printf("%-36s %8.1f us/decide (match + reasons)\n", names[k],
                   (now_s() - t1) / iters * 1e6);
        }
        ww_policy_free(p);
    }
    free(input);
    return rc;
}
