/* Member-name checks (T-ZIP-SLIP). Names are opaque bytes: nothing here
 * touches the file system. Both '/' and '\\' count as separators because
 * extractors on Windows treat them alike. */
#include <ctype.h>
#include "formats/zip/zipname.h"

static bool is_sep(uint8_t c)
{
    return c == '/' || c == '\\';
}

const char *wwi_name_escape_reason(const uint8_t *name, size_t n)
{
    if (n == 0)
        return NULL;
    if (is_sep(name[0]))
        return "absolute path";
    if (n >= 2 && name[1] == ':' && isalpha(name[0]))
        return "drive-letter path";
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !is_sep(name[j]))
            j++;
        if (j - i == 2 && name[i] == '.' && name[i + 1] == '.')
            return "'..' path component";
        i = j + 1;
    }
    return NULL;
}

/* Walk path components of s, adjusting depth; false once depth goes negative. */
static bool walk(const char *s, long *depth)
{
    size_t i = 0, n = strlen(s);
    while (i < n) {
        size_t j = i;
        while (j < n && !is_sep((uint8_t)s[j]))
            j++;
        size_t len = j - i;
        if (len == 2 && s[i] == '.' && s[i + 1] == '.') {
            if (--*depth < 0)
                return false;
        } else if (len > 0 && !(len == 1 && s[i] == '.')) {
            ++*depth;
        }
        i = j + 1;
    }
    return true;
}

bool wwi_link_escapes(const char *member, const char *target, bool relative_to_member)
{
    if (!target || !target[0])
        return false;
    if (is_sep((uint8_t)target[0]) || (isalpha((unsigned char)target[0]) && target[1] == ':'))
        return true;
    long depth = 0;
    if (relative_to_member && member) {
        /* the member's own directory: all components but the last */
        const char *last = member;
        for (const char *p = member; *p; p++)
            if (is_sep((uint8_t)*p))
                last = p + 1;
        size_t dlen = (size_t)(last - member);
        char dir[4096];
        if (dlen >= sizeof dir)
            return true; /* absurdly deep: treat as escaping, never as safe */
        memcpy(dir, member, dlen);
        dir[dlen] = '\0';
        if (!walk(dir, &depth))
            return true;
    }
    return !walk(target, &depth);
}

void wwi_name_printable(const uint8_t *name, size_t n, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outlen; i++)
        out[k++] = (name[i] < 0x20 || name[i] == 0x7f) ? '?' : (char)name[i];
    if (k == 0 && outlen > 1)
        out[k++] = '?';
    out[k] = '\0';
}

bool wwi_name_eq_ci(const uint8_t *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (tolower(a[i]) != tolower((unsigned char)b[i]))
            return false;
    return true;
}

bool wwi_name_has_suffix_ci(const uint8_t *name, size_t n, const char *suffix)
{
    size_t sn = strlen(suffix);
    return n >= sn && wwi_name_eq_ci(name + (n - sn), sn, suffix);
}
