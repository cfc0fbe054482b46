/* archive: tar (ustar/GNU/pax/v7), 7z and single-stream gzip/bzip2/xz/zstd/
 * lz4/lzma through libarchive. libarchive reads from our source through
 * callbacks (never from a path), each member is decompressed into a capped
 * buffer that is charged to the inflate budget as it grows, then scanned by
 * content. A compressed stream that is not an archive becomes one member. */
#include "ww_config.h"
#include <errno.h>
#include <stdio.h>
#include "formats/archive/archive_probe.h"
#include "formats/format.h"
#if WW_HAVE_ARCHIVE
#include <archive.h>
#include <archive_entry.h>
#include "formats/zip/zipname.h"
#include "util/alloc.h"
#include "util/strutil.h"

#define FEED_CHUNK (1u << 20)
#define RATIO_FLOOR (1u << 20)

typedef struct feed {
    wwi_src *in;
    uint64_t pos;
    ww_status err;
} feed;

static la_ssize_t feed_read(struct archive *a, void *ud, const void **buf)
{
    feed *f = ud;
    uint64_t size = wwi_src_size(f->in);
    if (f->pos >= size) {
        *buf = NULL;
        return 0;
    }
    size_t n = size - f->pos < FEED_CHUNK ? (size_t)(size - f->pos) : FEED_CHUNK;
    const uint8_t *p = NULL;
    ww_status st = wwi_src_view(f->in, f->pos, n, &p);
    if (st != WW_OK) {
        f->err = st;
        archive_set_error(a, EIO, "cannot read input at %llu", (unsigned long long)f->pos);
        return ARCHIVE_FATAL;
    }
    f->pos += n;
    *buf = p;
    return (la_ssize_t)n;
}

static la_int64_t feed_skip(struct archive *a, void *ud, la_int64_t req)
{
    (void)a;
    feed *f = ud;
    uint64_t left = wwi_src_size(f->in) - f->pos;
    if (req <= 0)
        return 0;
    uint64_t n = (uint64_t)req < left ? (uint64_t)req : left;
    f->pos += n;
    return (la_int64_t)n;
}

static la_int64_t feed_seek(struct archive *a, void *ud, la_int64_t off, int whence)
{
    feed *f = ud;
    uint64_t size = wwi_src_size(f->in);
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)f->pos : (int64_t)size;
    int64_t to;
    if (__builtin_add_overflow(base, off, &to) || to < 0 || (uint64_t)to > size) {
        archive_set_error(a, EINVAL, "seek outside the input");
        return ARCHIVE_FATAL;
    }
    f->pos = (uint64_t)to;
    return to;
}

typedef int (*support_fn)(struct archive *);

/* A filter whose library was not linked into libarchive falls back to
 * running an external program (ARCHIVE_WARN). We never run programs: such
 * filters are left out. */
static bool filter_in_process(support_fn fn)
{
    struct archive *t = archive_read_new();
    if (!t)
        return false;
    int r = fn(t);
    archive_read_free(t);
    return r == ARCHIVE_OK;
}

static struct archive *open_reader(feed *f)
{
    static const support_fn filters[] = {
        archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
        archive_read_support_filter_xz,   archive_read_support_filter_lzma,
        archive_read_support_filter_zstd, archive_read_support_filter_lz4,
    };
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (filter_in_process(filters[i]))
            filters[i](a);
    archive_read_support_format_tar(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_raw(a);
    archive_read_set_read_callback(a, feed_read);
    archive_read_set_skip_callback(a, feed_skip);
    archive_read_set_seek_callback(a, feed_seek);
    archive_read_set_callback_data(a, f);
    return a;
}

/* Map a libarchive failure to a status and record it, naming the member. */
static ww_status la_fail(wwi_scan *s, struct archive *a, const feed *f, const char *member,
                         const char *doing)
{
    const char *m = archive_error_string(a);
    if (!m)
        m = "unknown libarchive error";
    ww_status st = WW_E_FORMAT;
    if (f->err != WW_OK)
        st = f->err;
    else if (strstr(m, "ncrypt") || strstr(m, "assphrase") || strstr(m, "assword"))
        st = WW_E_UNSUPPORTED;
    else if (strstr(m, "runcat") || strstr(m, "remature") || strstr(m, "nexpected end"))
        st = WW_E_TRUNCATED;
    else if (archive_errno(a) == ENOMEM)
        st = WW_E_NOMEM;
    if (member)
        return wwi_scan_error(s, st, UINT64_MAX, "%s '%s': %s", doing, member, m);
    return wwi_scan_error(s, st, UINT64_MAX, "%s: %s", doing, m);
}

static const char *filter_ext(int code)
{
    switch (code) {
    case ARCHIVE_FILTER_GZIP: return "gz";
    case ARCHIVE_FILTER_BZIP2: return "bz2";
    case ARCHIVE_FILTER_XZ: return "xz";
    case ARCHIVE_FILTER_LZMA: return "lzma";
    case ARCHIVE_FILTER_ZSTD: return "zst";
    case ARCHIVE_FILTER_LZ4: return "lz4";
    default: return NULL;
    }
}

/* The outermost compression, or NULL for none. */
static const char *compression(struct archive *a)
{
    const char *ext = NULL;
    for (int i = 0; i < archive_filter_count(a); i++) {
        const char *e = filter_ext(archive_filter_code(a, i));
        if (e)
            ext = e;
    }
    return ext;
}

/* Name for the payload of a bare compressed stream: the layer's name without
 * its compression suffix (".tgz" -> ".tar"), else "payload". */
static void payload_name(wwi_scan *s, char *out, size_t n)
{
    static const char *const sfx[][2] = {
        {".tgz", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"}, {".txz", ".tar"},
        {".tzst", ".tar"}, {".gz", ""},     {".bz2", ""},     {".xz", ""},
        {".zst", ""},     {".zstd", ""},    {".lz4", ""},     {".lzma", ""},
    };
    const char *m = wwi_scan_member(s);
    if (!m[0])
        m = wwi_scan_display(s);
    const char *base = strrchr(m, '/');
    base = base ? base + 1 : m;
    size_t len = strlen(base);
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        size_t sl = strlen(sfx[i][0]);
        if (len > sl && wwi_str_has_suffix_ci(base, sfx[i][0])) {
            snprintf(out, n, "%.*s%s", (int)(len - sl), base, sfx[i][1]);
            return;
        }
    }
    snprintf(out, n, "payload");
}

typedef struct actx {
    wwi_scan *s;
    struct archive *a;
    feed *f;
    uint8_t *buf;
    size_t len, cap;
    uint64_t total_out;
    bool charge; /* decompression happens (not a plain tar) */
} actx;

static ww_status grow(actx *x, size_t need, const char *member)
{
    uint64_t max_alloc = wwi_scan_limits(x->s)->max_alloc;
    if (need <= x->cap)
        return WW_OK;
    if (need > max_alloc)
        return wwi_scan_limit(x->s, "max_alloc", "'%s' is larger than %llu bytes", member,
                              (unsigned long long)max_alloc);
    size_t nc = x->cap ? x->cap : 64 * 1024;
    while (nc < need)
        nc = nc > SIZE_MAX / 2 ? SIZE_MAX : nc * 2;
    if (nc > max_alloc)
        nc = (size_t)max_alloc;
    void *p = x->buf;
    ww_status st = wwi_realloc(&p, nc);
    if (st != WW_OK)
        return wwi_scan_error(x->s, st, UINT64_MAX, "cannot allocate %zu bytes for '%s'", nc,
                              member);
    x->buf = p;
    x->cap = nc;
    return WW_OK;
}

/* Read the current entry's data into x->buf under the caps. */
static ww_status read_member(actx *x, const char *member)
{
    const ww_limits *lim = wwi_scan_limits(x->s);
    x->len = 0;
    for (;;) {
        ww_status st = grow(x, x->len + 64 * 1024, member);
        if (st != WW_OK)
            return st;
        la_ssize_t n = archive_read_data(x->a, x->buf + x->len, 64 * 1024);
        if (n < 0)
            return la_fail(x->s, x->a, x->f, member, "cannot read member");
        if (n == 0)
            return WW_OK;
        x->len += (size_t)n;
        x->total_out += (uint64_t)n;
        if (x->len > lim->max_member_bytes)
            return wwi_scan_limit(x->s, "max_member_bytes", "'%s' is larger than %llu bytes",
                                  member, (unsigned long long)lim->max_member_bytes);
        if (x->charge) {
            st = wwi_scan_charge_inflated(x->s, (uint64_t)n);
            if (st != WW_OK)
                return st;
            uint64_t raw = (uint64_t)archive_filter_bytes(x->a, -1);
            if (x->total_out > RATIO_FLOOR && lim->max_ratio > 0 &&
                x->total_out / lim->max_ratio > raw)
                return wwi_scan_limit(x->s, "max_ratio",
                                      "'%s': %llu bytes from %llu compressed (more than %u "
                                      "times)",
                                      member, (unsigned long long)x->total_out,
                                      (unsigned long long)raw, (unsigned)lim->max_ratio);
        }
        st = wwi_scan_check_time(x->s);
        if (st != WW_OK)
            return st;
    }
}

static void check_entry_names(wwi_scan *s, struct archive_entry *e, const char *name)
{
    const char *why = wwi_name_escape_reason((const uint8_t *)name, strlen(name));
    if (why)
        wwi_finding(s, WW_SEV_HIGH, "container", NULL, "T-ZIP-SLIP", UINT64_MAX,
                    "member '%s' would be extracted outside the target directory (%s)", name,
                    why);
    const char *hl = archive_entry_hardlink(e);
    if (archive_entry_filetype(e) == AE_IFLNK) {
        const char *t = archive_entry_symlink(e);
        bool esc = wwi_link_escapes(name, t, true);
        wwi_finding(s, esc ? WW_SEV_HIGH : WW_SEV_LOW, "container", NULL, "T-ZIP-SLIP",
                    UINT64_MAX, "member '%s' is a symbolic link to '%s'%s", name, t ? t : "",
                    esc ? " (outside the archive)" : "");
    } else if (hl) {
        bool esc = wwi_link_escapes(NULL, hl, false);
        wwi_finding(s, esc ? WW_SEV_HIGH : WW_SEV_LOW, "container", NULL, "T-ZIP-SLIP",
                    UINT64_MAX, "member '%s' is a hard link to '%s'%s", name, hl,
                    esc ? " (outside the archive)" : "");
    }
}

static void set_format(actx *x, bool raw)
{
    const char *c = compression(x->a);
    char name[32];
    if (raw)
        snprintf(name, sizeof name, "%s", c ? (wwi_str_eq(c, "gz") ? "gzip" : c) : "raw");
    else if (archive_format(x->a) == ARCHIVE_FORMAT_7ZIP)
        snprintf(name, sizeof name, "7z");
    else
        snprintf(name, sizeof name, c ? "tar.%s" : "tar", c);
    wwi_scan_set_format(x->s, name, false);
}

/* Bytes after the end of the archive (after a tar's end blocks, after a gzip
 * stream) are read by other tools and by loaders that seek: like the zip and
 * npy modules, report them and scan them by content. Zero padding (tar
 * records) is skipped. `consumed` is what libarchive took from the input. */
static ww_status scan_trailing(wwi_scan *s, wwi_src *in, int64_t consumed)
{
    uint64_t size = wwi_src_size(in);
    if (consumed <= 0 || (uint64_t)consumed >= size)
        return WW_OK;
    uint64_t off = (uint64_t)consumed;
    while (off < size) {
        size_t n = size - off < 65536 ? (size_t)(size - off) : 65536;
        const uint8_t *p = NULL;
        ww_status st = wwi_src_view(in, off, n, &p);
        if (st != WW_OK)
            return wwi_scan_error(s, st, off, "cannot read the bytes after the archive");
        size_t k = 0;
        while (k < n && p[k] == 0)
            k++;
        if (k < n) {
            off += k;
            break;
        }
        off += n;
        st = wwi_scan_check_time(s);
        if (st != WW_OK)
            return st;
    }
    if (off >= size)
        return WW_OK; /* only padding */
    wwi_finding(s, WW_SEV_LOW, "container", NULL, "T-ZIP-POLYGLOT", off,
                "%llu bytes follow the end of the archive (scanned by content)",
                (unsigned long long)(size - off));
    wwi_src *child = NULL;
    ww_status st = wwi_src_sub(in, off, size - off, &child);
    if (st != WW_OK)
        return wwi_scan_error(s, st, off, "cannot open the bytes after the archive");
    st = wwi_scan_nested(s, child, "[after-archive]");
    wwi_src_free(child);
    return st;
}

static ww_status scan(wwi_scan *s, wwi_src *in)
{
    ww_status rc = WW_OK;
    feed f = {in, 0, WW_OK};
    actx x;
    memset(&x, 0, sizeof x);
    x.s = s;
    x.f = &f;
    x.a = open_reader(&f);
    if (!x.a)
        return wwi_scan_error(s, WW_E_NOMEM, UINT64_MAX, "cannot create a libarchive reader");
    if (archive_read_open1(x.a) != ARCHIVE_OK) {
        rc = la_fail(s, x.a, &f, NULL, "cannot open archive");
        goto done;
    }
    size_t nmembers = 0;
    for (size_t idx = 0;; idx++) {
        struct archive_entry *e = NULL;
        int r = archive_read_next_header(x.a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = la_fail(s, x.a, &f, NULL, idx == 0 ? "cannot read archive" : "archive damaged");
            break;
        }
        bool raw = archive_format(x.a) == ARCHIVE_FORMAT_RAW;
        nmembers++;
        if (idx == 0) {
            x.charge = compression(x.a) != NULL || archive_format(x.a) == ARCHIVE_FORMAT_7ZIP;
            set_format(&x, raw);
            if (raw && !compression(x.a)) {
                /* libarchive fell back to "raw" over uncompressed bytes: it did
                 * not understand what the probe matched. */
                rc = wwi_scan_error(s, WW_E_FORMAT, 0,
                                    "archive: libarchive does not recognise this data");
                break;
            }
        }
        char name[1024];
        if (raw) {
            payload_name(s, name, sizeof name);
        } else {
            const char *pn = archive_entry_pathname(e);
            wwi_name_printable((const uint8_t *)(pn ? pn : ""), pn ? strlen(pn) : 0, name,
                               sizeof name);
            check_entry_names(s, e, name);
        }
        /* Directories, links and devices have no data of their own. A type
         * of 0 (7z entries written without Unix mode bits) is a file. */
        unsigned ft = archive_entry_filetype(e);
        if (!raw && ((ft != AE_IFREG && ft != 0) || archive_entry_hardlink(e)))
            continue;
        if (archive_entry_is_encrypted(e)) {
            wwi_scan_error(s, WW_E_UNSUPPORTED, UINT64_MAX,
                           "member '%s' is encrypted: cannot be scanned", name);
            continue;
        }
        rc = read_member(&x, name); /* the driver charges the member when nesting */
        if (rc == WW_OK)
            rc = wwi_scan_nested_mem(s, x.len ? x.buf : (const uint8_t *)"", x.len, name);
        if (rc != WW_OK)
            break;
    }
    if (nmembers == 0 && rc == WW_OK) {
        set_format(&x, archive_format(x.a) == ARCHIVE_FORMAT_RAW);
        wwi_finding(s, WW_SEV_NONE, "container", NULL, "archive.empty", UINT64_MAX,
                    "archive has no members");
    }
    /* Only for streamed formats: 7z (and other seek-based ones) read their
     * directory from the end, so "consumed" says nothing about trailing data. */
    int base = archive_format(x.a) & ARCHIVE_FORMAT_BASE_MASK;
    if (rc == WW_OK && (base == ARCHIVE_FORMAT_TAR || base == ARCHIVE_FORMAT_RAW ||
                        base == ARCHIVE_FORMAT_CPIO))
        rc = scan_trailing(s, in, archive_filter_bytes(x.a, -1));
done:
    archive_read_free(x.a);
    wwi_free(x.buf);
    return rc;
}
#endif

const wwi_format wwi_format_archive = {
    .name = "archive",
    .description = "tar, 7z, gzip, bzip2, xz, zstd, lz4, lzma (via libarchive)",
    .flags = WWI_FMT_CONTAINER,
    .probe = wwi_archive_probe,
#if WW_HAVE_ARCHIVE
    .scan = scan,
#else
    .scan = NULL,
#endif
};
