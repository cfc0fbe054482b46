/* Reading whole small files (policies, data, rules, stdin) for the front ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/wwx.h"

char *wwx_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    bool too_big = false;
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > max) {
                too_big = true;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    if (!is_stdin)
        fclose(f);
    if (!buf || too_big || failed || n > max) {
        snprintf(err, errlen, "%s: %s", path,
                 too_big || n > max ? "file too large" : failed ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
