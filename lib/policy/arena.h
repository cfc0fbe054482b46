/* Bump arena for the policy engine: the compiled policy keeps its AST and
 * constants in one, every evaluation builds its values in another, and each is
 * released in one call. Why: values are immutable and freely shared inside an
 * evaluation, so no reference counting is needed and error paths cannot leak. */
#ifndef WWP_ARENA_H
#define WWP_ARENA_H
#include <stddef.h>
#include <stdint.h>
#include "weightwall.h"

typedef struct wwp_chunk wwp_chunk;
typedef struct wwp_arena {
    wwp_chunk *head;
    size_t used_total; /* bytes handed out, checked against max */
    size_t max;        /* 0: no cap beyond the allocator's */
    bool hit_limit;    /* the cap (not the allocator) refused a request */
} wwp_arena;

void wwp_arena_init(wwp_arena *a, size_t max);
void wwp_arena_free(wwp_arena *a);
/* One first chunk of n bytes (a size hint: fewer mallocs for big inputs). */
void wwp_arena_reserve(wwp_arena *a, size_t n);
/* Zeroed, 16-byte aligned memory; NULL on failure (hit_limit says why). */
void *wwp_alloc(wwp_arena *a, size_t n);
void *wwp_alloc_array(wwp_arena *a, size_t nmemb, size_t size);
char *wwp_strndup(wwp_arena *a, const char *s, size_t n);
#endif
