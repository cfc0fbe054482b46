/* Small string helpers. Boolean helpers instead of memcmp/strncmp truth tests. */
#ifndef WWI_STRUTIL_H
#define WWI_STRUTIL_H
#include <string.h>
#include "weightwall.h"

static inline bool wwi_bytes_eq(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}
static inline bool wwi_str_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}
static inline bool wwi_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
bool wwi_str_has_suffix(const char *s, const char *suffix);
/* Case-insensitive ASCII suffix test (file extensions). */
bool wwi_str_has_suffix_ci(const char *s, const char *suffix);
/* Parse a decimal unsigned number of exactly len bytes, <= max. */
bool wwi_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);
/* Parse a decimal signed number (optional leading '-') of exactly len bytes. */
bool wwi_parse_i64(const char *s, size_t len, int64_t *out);
/* Lowercased extension of the last path component including the dot
 * (".pt"), or "" when none. Writes at most n bytes. */
void wwi_path_ext(const char *path, char *out, size_t n);
uint64_t wwi_now_ns(void);
#endif
