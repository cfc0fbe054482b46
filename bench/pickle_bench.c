/* Pickle throughput benchmark: read one file into memory once, then call
 * ww_scan_memory on it N times and report MB/s of process CPU time (the dev
 * machines are shared: wall time is noisy). Also prints the verdict and
 * finding count of the last scan, so a behaviour change is visible.
 * Run: pickle_bench FILE [ITERATIONS]
 * Inputs (see docs/formats/pickle.md, "Throughput"):
 *   /usr/bin/python3 -c "import pickle; open('/tmp/objs.pkl','wb').write(pickle.dumps(
 *     [{'id': i, 'name': 'row%d' % i, 'vals': [i*0.5, i+1, 'x'], 'flag': i % 2 == 0}
 *      for i in range(1_400_000)], protocol=4))" */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "weightwall.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User and system CPU seconds so far (system time is mostly page faults of
 * the scan's fresh allocations). */
static void ru_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pickle_bench FILE [ITERATIONS]\n");
        return 2;
    }
    int iters = argc > 2 ? atoi(argv[2]) : 5;
    if (iters < 1)
        iters = 1;
    size_t len = 0;
    unsigned char *data = slurp(argv[1], &len);
    if (!data) {
        fprintf(stderr, "pickle_bench: cannot read %s\n", argv[1]);
        return 1;
    }
    ww_engine *e = NULL;
    if (ww_engine_new(&e) != WW_OK) {
        free(data);
        return 1;
    }
    double best = 1e30, total = 0, u0, s0, u1, s1;
    int verdict = -1;
    size_t nfind = 0, nerr = 0;
    ru_s(&u0, &s0);
    for (int i = 0; i < iters; i++) {
        ww_result *r = NULL;
        double t0 = cpu_s();
        ww_status st = ww_scan_memory(e, data, len, argv[1], &r);
        double dt = cpu_s() - t0;
        if (st != WW_OK) {
            fprintf(stderr, "pickle_bench: scan failed (%d)\n", (int)st);
            ww_engine_free(e);
            free(data);
            return 1;
        }
        verdict = (int)ww_result_verdict(r);
        nfind = ww_result_finding_count(r);
        nerr = ww_result_error_count(r);
        ww_result_free(r);
        total += dt;
        if (dt < best)
            best = dt;
    }
    ru_s(&u1, &s1);
    double mb = (double)len / 1e6;
    printf("%s: %.1f MB, %d runs, CPU best %.1f ms (%.1f MB/s), mean %.1f ms (%.1f MB/s); "
           "user %.1f ms (%.1f MB/s) + sys %.1f ms per run; verdict %d, %zu findings, "
           "%zu errors\n",
           argv[1], mb, iters, best * 1e3, mb / best, total / iters * 1e3,
           mb / (total / iters), (u1 - u0) / iters * 1e3, mb / ((u1 - u0) / iters),
           (s1 - s0) / iters * 1e3, verdict, nfind, nerr);
    ww_engine_free(e);
    free(data);
    return 0;
}
