#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

/* Per-thread so concurrent scans (proxy threads, -j N) do not share budgets. */
static _Thread_local wwi_alloc_cfg g_cfg = {1ull << 30, 0, 0, false};

void wwi_alloc_configure(const wwi_alloc_cfg *cfg, wwi_alloc_cfg *saved)
{
    if (saved)
        *saved = g_cfg;
    g_cfg = *cfg;
    g_cfg.count = 0;
    g_cfg.failed = false;
}

void wwi_alloc_restore(const wwi_alloc_cfg *saved)
{
    g_cfg = *saved;
}

const wwi_alloc_cfg *wwi_alloc_current(void)
{
    return &g_cfg;
}

static bool allow(size_t n)
{
    if (n == 0 || n > g_cfg.cap)
        return false;
    g_cfg.count++;
    if (g_cfg.fail_nth != 0 && g_cfg.count == g_cfg.fail_nth) {
        g_cfg.failed = true;
        return false;
    }
    return true;
}

void *wwi_malloc(size_t n)
{
    return allow(n) ? malloc(n) : NULL;
}

void *wwi_malloc_nofault(size_t n)
{
    /* A fixed, generous cap: 4x the largest JSON input (max_header_bytes is at
     * most 100 MiB by default) stays well inside it. */
    return n == 0 || n > (4ull << 30) ? NULL : malloc(n);
}

void *wwi_calloc(size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n) || !allow(n))
        return NULL;
    return calloc(1, n);
}

ww_status wwi_realloc(void **p, size_t n)
{
    if (!allow(n))
        return n > g_cfg.cap ? WW_E_LIMIT : WW_E_NOMEM;
    void *q = realloc(*p, n);
    if (!q)
        return WW_E_NOMEM;
    *p = q;
    return WW_OK;
}

void wwi_free(void *p)
{
    free(p);
}

char *wwi_strndup(const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = wwi_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *wwi_strdup(const char *s)
{
    return wwi_strndup(s, strlen(s));
}
