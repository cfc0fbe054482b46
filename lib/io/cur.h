/* wwi_cur: the one bounds-checked cursor through which every byte of input is
 * read. Errors are sticky: after the first failure every read returns 0/NULL
 * and err keeps the first status, so parsers can read several fields and check
 * once. Never compute base + pos + n: it can wrap; compare n with len - pos. */
#ifndef WWI_CUR_H
#define WWI_CUR_H
#include <string.h>
#include "weightwall.h"

typedef struct wwi_cur {
    const uint8_t *base;
    size_t len, pos;
    ww_status err;
} wwi_cur;

static inline void wwi_cur_init(wwi_cur *c, const void *base, size_t len)
{
    c->base = (const uint8_t *)base;
    c->len = len;
    c->pos = 0;
    c->err = WW_OK;
}
static inline bool wwi_cur_has(const wwi_cur *c, size_t n)
{
    return c->err == WW_OK && n <= c->len - c->pos;
}
static inline size_t wwi_cur_left(const wwi_cur *c)
{
    return c->err == WW_OK ? c->len - c->pos : 0;
}
static inline bool wwi_cur_eof(const wwi_cur *c)
{
    return c->pos >= c->len;
}
static inline void wwi_cur_fail(wwi_cur *c, ww_status st)
{
    if (c->err == WW_OK)
        c->err = st;
}
/* Pointer to the next n bytes and advance; NULL (and TRUNCATED) if short. */
static inline const uint8_t *wwi_cur_bytes(wwi_cur *c, size_t n)
{
    if (!wwi_cur_has(c, n)) {
        wwi_cur_fail(c, WW_E_TRUNCATED);
        return NULL;
    }
    const uint8_t *p = c->base + c->pos;
    c->pos += n;
    return p;
}
static inline const uint8_t *wwi_cur_peek(const wwi_cur *c, size_t n)
{
    return wwi_cur_has(c, n) ? c->base + c->pos : NULL;
}
static inline bool wwi_cur_skip(wwi_cur *c, size_t n)
{
    return wwi_cur_bytes(c, n) != NULL || n == 0;
}
static inline bool wwi_cur_seek(wwi_cur *c, size_t pos)
{
    if (c->err != WW_OK)
        return false;
    if (pos > c->len) {
        wwi_cur_fail(c, WW_E_TRUNCATED);
        return false;
    }
    c->pos = pos;
    return true;
}
/* Consume the literal if it is next; no error when it is not. */
static inline bool wwi_cur_eat(wwi_cur *c, const void *lit, size_t n)
{
    if (!wwi_cur_has(c, n) || memcmp(c->base + c->pos, lit, n) != 0)
        return false;
    c->pos += n;
    return true;
}
static inline uint8_t wwi_cur_u8(wwi_cur *c)
{
    const uint8_t *p = wwi_cur_bytes(c, 1);
    return p ? p[0] : 0;
}
static inline uint16_t wwi_cur_u16le(wwi_cur *c)
{
    const uint8_t *p = wwi_cur_bytes(c, 2);
    return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}
static inline uint32_t wwi_cur_u32le(wwi_cur *c)
{
    const uint8_t *p = wwi_cur_bytes(c, 4);
    return p ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                   ((uint32_t)p[3] << 24)
             : 0;
}
static inline uint64_t wwi_cur_u64le(wwi_cur *c)
{
    const uint8_t *p = wwi_cur_bytes(c, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static inline uint32_t wwi_cur_u32be(wwi_cur *c)
{
    const uint8_t *p = wwi_cur_bytes(c, 4);
    return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]
             : 0;
}
/* Read up to (not including) '\n'; returns the line and its length, consumes
 * the newline. NULL + TRUNCATED when no newline within max bytes or input. */
static inline const uint8_t *wwi_cur_line(wwi_cur *c, size_t max, size_t *n)
{
    if (c->err != WW_OK)
        return NULL;
    size_t left = c->len - c->pos;
    size_t lim = left < max ? left : max;
    const uint8_t *p = c->base + c->pos;
    const uint8_t *nl = memchr(p, '\n', lim);
    if (!nl) {
        wwi_cur_fail(c, left <= max ? WW_E_TRUNCATED : WW_E_LIMIT);
        return NULL;
    }
    *n = (size_t)(nl - p);
    c->pos += *n + 1;
    return p;
}
#endif
