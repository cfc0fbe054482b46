/* Central-directory-only checks. They must stay cheap for a 10 GB
 * checkpoint: they sort indices, they never read member bytes. */
#include <ctype.h>
#include <stdlib.h>
#include "formats/zip/zipcheck.h"
#include "formats/zip/zipname.h"
#include "util/alloc.h"

/* Bytes a member may legitimately occupy beyond its name and data: a local
 * extra field (at most 65535) and a data descriptor (at most 24). */
#define GAP_SLACK (65535u + 24u + 64u)

static int cmp_name_ci(const wwi_zip_entry *a, const wwi_zip_entry *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    for (size_t i = 0; i < n; i++) {
        int x = tolower(a->name[i]), y = tolower(b->name[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a->name_len == b->name_len ? 0 : (a->name_len < b->name_len ? -1 : 1);
}

/* qsort has no context pointer: sort pointers to entries instead. */
static int by_name(const void *a, const void *b)
{
    return cmp_name_ci(*(const wwi_zip_entry *const *)a, *(const wwi_zip_entry *const *)b);
}

static int by_offset(const void *a, const void *b)
{
    const wwi_zip_entry *x = *(const wwi_zip_entry *const *)a;
    const wwi_zip_entry *y = *(const wwi_zip_entry *const *)b;
    return x->lho < y->lho ? -1 : x->lho > y->lho;
}

static void check_names(wwi_scan *s, const wwi_zip_dir *d)
{
    char pname[512];
    for (size_t i = 0; i < d->n; i++) {
        const wwi_zip_entry *e = &d->e[i];
        const char *why = wwi_name_escape_reason(e->name, e->name_len);
        wwi_name_printable(e->name, e->name_len, pname, sizeof pname);
        if (why)
            wwi_finding(s, WW_SEV_HIGH, "container", NULL, "T-ZIP-SLIP", e->cd_off,
                        "member '%s' would be extracted outside the target directory (%s)",
                        pname, why);
        /* Unix host (made_by high byte 3), S_IFLNK in the mode bits. */
        if ((e->made_by >> 8) == 3 && ((e->ext_attr >> 16) & 0xF000u) == 0xA000u)
            wwi_finding(s, WW_SEV_HIGH, "container", NULL, "T-ZIP-SLIP", e->cd_off,
                        "member '%s' is a symbolic link", pname);
    }
}

static void check_duplicates(wwi_scan *s, const wwi_zip_entry **v, size_t n)
{
    qsort(v, n, sizeof *v, by_name);
    char pname[512];
    for (size_t i = 1; i < n; i++) {
        if (cmp_name_ci(v[i - 1], v[i]) != 0)
            continue;
        bool exact = v[i - 1]->name_len == v[i]->name_len &&
                     memcmp(v[i - 1]->name, v[i]->name, v[i]->name_len) == 0;
        wwi_name_printable(v[i]->name, v[i]->name_len, pname, sizeof pname);
        if (exact)
            wwi_finding(s, WW_SEV_HIGH, "container", NULL, "T-ZIP-DUPLICATE-NAMES", v[i]->cd_off,
                        "two members are named '%s': readers disagree on which one is loaded "
                        "(every copy is scanned)",
                        pname);
        else
            wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-DUPLICATE-NAMES",
                        v[i]->cd_off,
                        "member names differ only in case near '%s' (PyTorch looks names up "
                        "case-insensitively; every copy is scanned)",
                        pname);
    }
}

static void check_layout(wwi_scan *s, const wwi_zip_dir *d, const wwi_zip_entry **v, size_t n)
{
    qsort(v, n, sizeof *v, by_offset);
    char a[256], b[256];
    uint64_t expect = 0; /* where the next member should start, at the latest */
    uint64_t min_end = 0; /* where the previous member ends, at the earliest */
    const wwi_zip_entry *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const wwi_zip_entry *e = v[i];
        if (prev && e->lho < min_end) {
            wwi_name_printable(prev->name, prev->name_len, a, sizeof a);
            wwi_name_printable(e->name, e->name_len, b, sizeof b);
            wwi_finding(s, WW_SEV_HIGH, "container", NULL, "T-RES-ZIP-BOMB", e->lho,
                        "members '%s' and '%s' overlap (shared compressed data is the "
                        "overlapping zip bomb construction)",
                        a, b);
        } else if (e->lho > expect) {
            wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-HIDDEN-DATA", expect,
                        "%llu bytes before offset %llu belong to no listed member (hidden "
                        "local entries are read by streaming extractors)",
                        (unsigned long long)(e->lho - expect), (unsigned long long)e->lho);
        }
        /* Lower bound of this member's end: fixed header + data. */
        uint64_t lo = e->lho + 30u;
        min_end = (e->csize > UINT64_MAX - lo) ? UINT64_MAX : lo + e->csize;
        uint64_t hi = min_end;
        hi = hi > UINT64_MAX - (e->name_len + GAP_SLACK) ? UINT64_MAX
                                                           : hi + e->name_len + GAP_SLACK;
        if (hi > expect)
            expect = hi;
        prev = e;
    }
    if (prev && min_end > d->cd_off) {
        wwi_name_printable(prev->name, prev->name_len, a, sizeof a);
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-RES-ZIP-BOMB", prev->lho,
                    "member '%s' overlaps the central directory", a);
    } else if (d->cd_off > expect) {
        wwi_finding(s, WW_SEV_MEDIUM, "container", NULL, "T-ZIP-HIDDEN-DATA", expect,
                    "%llu bytes before the central directory belong to no listed member",
                    (unsigned long long)(d->cd_off - expect));
    }
}

ww_status wwi_zip_check_dir(wwi_scan *s, const wwi_zip_dir *d)
{
    check_names(s, d);
    if (d->n == 0)
        return WW_OK;
    const wwi_zip_entry **v = wwi_calloc(d->n, sizeof *v);
    if (!v)
        return wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "zip: no memory to check %zu entries",
                              d->n);
    for (size_t i = 0; i < d->n; i++)
        v[i] = &d->e[i];
    check_duplicates(s, v, d->n);
    check_layout(s, d, v, d->n);
    wwi_free(v);
    return WW_OK;
}
