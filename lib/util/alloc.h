/* Capped allocation with fault injection: the only allocator lib/ uses.
 * Why: sizes come from attackers (cap), and every failure path must be
 * testable (fault injection, see tests/torture). */
#ifndef WWI_ALLOC_H
#define WWI_ALLOC_H
#include "weightwall.h"

/* NULL when n is 0-or-over-cap, an injected fault fires, or the system is out
 * of memory. The cap is per thread (set from the engine's max_alloc by scans). */
void *wwi_malloc(size_t n);
void *wwi_calloc(size_t nmemb, size_t size); /* checks nmemb*size overflow */
/* Resize *p; on failure *p is untouched and still owned by the caller. */
WW_NODISCARD ww_status wwi_realloc(void **p, size_t n);
void wwi_free(void *p);
char *wwi_strndup(const char *s, size_t n);
/* For third-party code that cannot survive an allocation failure (jansson's
 * lexer asserts when its string buffer cannot grow): a fixed 4 GiB cap (not
 * max_alloc) and never a target of fault injection. Callers bound the input instead
 * (every JSON document parsed is at most max_header_bytes). */
void *wwi_malloc_nofault(size_t n);
char *wwi_strdup(const char *s);
#define WW_FREE_NULL(p) do { wwi_free(p); (p) = NULL; } while (0)

/* Per-thread settings, saved and restored around a scan. */
typedef struct wwi_alloc_cfg {
    uint64_t cap;       /* largest single allocation */
    uint64_t fail_nth;  /* fail the Nth allocation from now (0: never) */
    uint64_t count;     /* allocations made since configured */
    bool failed;        /* an injected fault fired */
} wwi_alloc_cfg;
void wwi_alloc_configure(const wwi_alloc_cfg *cfg, wwi_alloc_cfg *saved);
void wwi_alloc_restore(const wwi_alloc_cfg *saved);
const wwi_alloc_cfg *wwi_alloc_current(void);
#endif
