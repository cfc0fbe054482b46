#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "util/alloc.h"
#include "util/buf.h"

void wwi_buf_init(wwi_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void wwi_buf_free(wwi_buf *b)
{
    wwi_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void wwi_buf_reset(wwi_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static ww_status grow(wwi_buf *b, size_t need)
{
    if (need > b->max || need == SIZE_MAX) {
        wwi_buf_free(b);
        return WW_E_LIMIT;
    }
    if (need + 1 <= b->cap)
        return WW_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    void *p = b->data;
    ww_status st = wwi_realloc(&p, cap);
    if (st != WW_OK) {
        wwi_buf_free(b);
        return st;
    }
    b->data = p;
    b->cap = cap;
    return WW_OK;
}

ww_status wwi_buf_add(wwi_buf *b, const void *p, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return WW_E_LIMIT;
    ww_status st = grow(b, b->len + n);
    if (st != WW_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return WW_OK;
}

ww_status wwi_buf_addc(wwi_buf *b, char c)
{
    return wwi_buf_add(b, &c, 1);
}

ww_status wwi_buf_adds(wwi_buf *b, const char *s)
{
    return wwi_buf_add(b, s, strlen(s));
}

ww_status wwi_buf_printf(wwi_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return WW_E_INTERNAL;
    if ((size_t)n < sizeof small)
        return wwi_buf_add(b, small, (size_t)n);
    char *big = wwi_malloc((size_t)n + 1);
    if (!big)
        return WW_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ww_status st = wwi_buf_add(b, big, (size_t)n);
    wwi_free(big);
    return st;
}

char *wwi_buf_take(wwi_buf *b)
{
    char *d = b->data;
    if (!d)
        d = wwi_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
