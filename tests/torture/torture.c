/* Allocation-failure sweep (curl's runtests -t, jq's inject_errors): for each
 * sample, scan once failing the 1st allocation, then the 2nd, ... until a scan
 * completes without the injected fault firing. Every failing run must end in
 * an error status or a non-clean result (never clean, never a crash; the
 * ASan build also proves no leak). Samples: built-in byte strings plus every
 * file under the directories given on the command line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "weightwall.h"

static int failures, runs;

static void sweep(ww_engine *e, const char *name, const uint8_t *data, size_t len)
{
    for (uint64_t nth = 1; nth <= 5000; nth++) {
        ww_engine_set_fail_alloc(e, nth);
        ww_result *r = NULL;
        ww_status st = ww_scan_memory(e, data, len, name, &r);
        runs++;
        if (st != WW_OK) {
            if (st != WW_E_NOMEM) {
                fprintf(stderr, "%s: fail #%llu: unexpected status %s\n", name,
                        (unsigned long long)nth, ww_strerror(st));
                failures++;
            }
            continue;
        }
        bool fired = ww_result_status(r) == WW_E_NOMEM;
        if (fired && ww_result_verdict(r) == WW_VERDICT_CLEAN) {
            fprintf(stderr, "%s: fail #%llu: verdict clean after an allocation failure\n", name,
                    (unsigned long long)nth);
            failures++;
        }
        ww_result_free(r);
        if (!fired)
            break; /* past the last allocation: the sweep is complete */
    }
    ww_engine_set_fail_alloc(e, 0);
}

static void sweep_file(ww_engine *e, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0 || n > (2L << 20)) { /* big files make the sweep slow; fuzz covers them */
        fclose(f);
        return;
    }
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
        sweep(e, path, buf, (size_t)n);
    free(buf);
    fclose(f);
}

static void sweep_dir(ww_engine *e, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 3) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            sweep_dir(e, p, depth + 1);
        else
            sweep_file(e, p);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    ww_engine *e = NULL;
    if (ww_engine_new(&e) != WW_OK)
        return 1;
    /* The seed's os.system pickle (protocol 4) and a protocol-0 INST exec. */
    static const uint8_t p4[] = "\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94"
                                "\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.";
    static const uint8_t p0[] = "(S'print(1)'\ni__builtin__\nexec\n.";
    static const uint8_t npy[] = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, "
                                 "'shape': (2,), }                                          "
                                 "          \n\x00\x00\x80\x3f\x00\x00\x00\x40";
    sweep(e, "p4.pkl", p4, sizeof p4 - 1);
    sweep(e, "p0.pkl", p0, sizeof p0 - 1);
    sweep(e, "a.npy", npy, sizeof npy - 1);
    for (int i = 1; i < argc; i++)
        sweep_dir(e, argv[i], 0);
    ww_engine_free(e);
    printf("torture: %d scans with injected allocation failures, %d problems\n", runs, failures);
    return failures ? 1 : 0;
}
