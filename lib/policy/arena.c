#include <string.h>
#include "policy/arena.h"
#include "util/alloc.h"

struct wwp_chunk {
    wwp_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

#define CHUNK_MIN (16u * 1024u)

void wwp_arena_reserve(wwp_arena *a, size_t n)
{
    if (a->head == NULL && n > CHUNK_MIN) {
        wwp_chunk *c = wwi_malloc(sizeof(*c) + n);
        if (c) {
            c->size = n;
            c->used = 0;
            c->next = NULL;
            a->head = c;
        }
    }
}

void wwp_arena_init(wwp_arena *a, size_t max)
{
    a->head = NULL;
    a->used_total = 0;
    a->max = max;
    a->hit_limit = false;
}

void wwp_arena_free(wwp_arena *a)
{
    wwp_chunk *c = a->head;
    while (c) {
        wwp_chunk *n = c->next;
        wwi_free(c);
        c = n;
    }
    a->head = NULL;
    a->used_total = 0;
}

void *wwp_alloc(wwp_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + 15u) & ~(size_t)15u;
    if (a->max != 0 && (a->used_total > a->max || a->max - a->used_total < n)) {
        a->hit_limit = true;
        return NULL;
    }
    wwp_chunk *c = a->head;
    if (c == NULL || c->size - c->used < n) {
        size_t sz = n > CHUNK_MIN ? n : CHUNK_MIN;
        /* Grow chunk sizes with the arena so big evaluations need few mallocs. */
        if (a->used_total / 4 > sz && a->used_total / 4 < (64u << 20))
            sz = (a->used_total / 4 + 15u) & ~(size_t)15u;
        c = wwi_malloc(sizeof(*c) + sz);
        if (c == NULL)
            return NULL;
        c->size = sz;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

void *wwp_alloc_array(wwp_arena *a, size_t nmemb, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(nmemb, size, &n))
        return NULL;
    return wwp_alloc(a, n);
}

char *wwp_strndup(wwp_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = wwp_alloc(a, n + 1);
    if (d && n)
        memcpy(d, s, n);
    return d;
}
