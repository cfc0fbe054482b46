/* Input sources: memory, mmapped file, front-end callback, and windows. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io/src.h"
#include "util/alloc.h"

enum src_kind { SRC_MEM, SRC_MMAP, SRC_CALLBACK, SRC_SUB };

/* A view fetched from a callback source, kept until the root is freed. */
typedef struct view {
    struct view *next;
    uint64_t off;
    size_t len;
    uint8_t data[];
} view;

struct wwi_src {
    enum src_kind kind;
    const uint8_t *base; /* MEM / MMAP: whole content */
    uint64_t size;
    bool owns_base;
    ww_source *cb;        /* CALLBACK */
    view *views;          /* CALLBACK: cache */
    uint64_t bytes_read;  /* root only */
    wwi_src *parent;      /* SUB */
    uint64_t off;         /* SUB: offset in parent */
};

uint64_t wwi_src_size(const wwi_src *s)
{
    return s->size;
}

bool wwi_src_is_memory(const wwi_src *s)
{
    while (s->kind == SRC_SUB)
        s = s->parent;
    return s->kind != SRC_CALLBACK;
}

uint64_t wwi_src_bytes_read(const wwi_src *s)
{
    while (s->kind == SRC_SUB)
        s = s->parent;
    /* Overlapping views are counted once each; never report more than exists. */
    return s->bytes_read < s->size ? s->bytes_read : s->size;
}

static ww_status callback_view(wwi_src *s, uint64_t off, size_t len, const uint8_t **out)
{
    /* A cached view that covers the range serves it. */
    for (view *v = s->views; v; v = v->next)
        if (off >= v->off && len <= v->len && off - v->off <= v->len - len) {
            *out = v->data + (off - v->off);
            return WW_OK;
        }
    /* Small reads are rounded up to a read-ahead window so a parser walking
     * a header does not issue one request per field. */
    size_t want = len;
    const size_t ahead = 64 * 1024;
    if (want < ahead) {
        uint64_t rest = s->size - off;
        want = rest < ahead ? (size_t)rest : ahead;
    }
    if (want > SIZE_MAX - sizeof(view))
        return WW_E_LIMIT;
    view *v = wwi_malloc(sizeof(view) + (want ? want : 1));
    if (!v)
        return WW_E_NOMEM;
    size_t got = 0;
    while (got < want) {
        size_t n = 0;
        ww_status st = s->cb->read_at(s->cb->ctx, off + got, v->data + got, want - got, &n);
        if (st != WW_OK) {
            wwi_free(v);
            return st;
        }
        if (n == 0)
            break;
        got += n;
        s->bytes_read += n;
    }
    if (got < len) {
        wwi_free(v);
        return WW_E_TRUNCATED;
    }
    v->off = off;
    v->len = got;
    v->next = s->views;
    s->views = v;
    *out = v->data;
    return WW_OK;
}

ww_status wwi_src_view(wwi_src *s, uint64_t off, size_t len, const uint8_t **out)
{
    if (off > s->size || len > s->size - off)
        return WW_E_TRUNCATED;
    while (s->kind == SRC_SUB) {
        off += s->off;
        s = s->parent;
    }
    if (s->kind == SRC_CALLBACK)
        return callback_view(s, off, len, out);
    /* For mapped input "read" means "asked for": the bytes a parser touched. */
    s->bytes_read += len;
    *out = s->base + off;
    return WW_OK;
}

ww_status wwi_src_view_all(wwi_src *s, uint64_t max, const uint8_t **out)
{
    if (s->size > max || s->size > SIZE_MAX)
        return WW_E_LIMIT;
    return wwi_src_view(s, 0, (size_t)s->size, out);
}

static ww_status make(enum src_kind kind, wwi_src **out)
{
    wwi_src *s = wwi_calloc(1, sizeof *s);
    if (!s)
        return WW_E_NOMEM;
    s->kind = kind;
    *out = s;
    return WW_OK;
}

ww_status wwi_src_memory(const void *data, size_t len, wwi_src **out)
{
    ww_status st = make(SRC_MEM, out);
    if (st == WW_OK) {
        (*out)->base = data;
        (*out)->size = len;
    }
    return st;
}

ww_status wwi_src_memory_owned(void *data, size_t len, wwi_src **out)
{
    ww_status st = wwi_src_memory(data, len, out);
    if (st == WW_OK)
        (*out)->owns_base = true;
    else
        wwi_free(data);
    return st;
}

ww_status wwi_src_fd(int fd, wwi_src **out, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        return WW_E_IO;
    }
    ww_status rc = make(SRC_MMAP, out);
    if (rc != WW_OK)
        return rc;
    wwi_src *s = *out;
    s->size = (uint64_t)st.st_size;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(err, errlen, "cannot map: %s", strerror(errno));
            wwi_free(s);
            *out = NULL;
            return WW_E_IO;
        }
        s->base = p;
    } else {
        s->base = (const uint8_t *)"";
        s->kind = SRC_MEM;
    }
    return WW_OK;
}

ww_status wwi_src_file(const char *path, wwi_src **out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return WW_E_IO;
    }
    ww_status rc = wwi_src_fd(fd, out, err, errlen);
    close(fd); /* the mapping outlives the descriptor */
    return rc;
}

ww_status wwi_src_callback(ww_source *cb, wwi_src **out)
{
    if (!cb || !cb->read_at)
        return WW_E_ARG;
    ww_status st = make(SRC_CALLBACK, out);
    if (st == WW_OK) {
        (*out)->cb = cb;
        (*out)->size = cb->size;
    }
    return st;
}

ww_status wwi_src_sub(wwi_src *parent, uint64_t off, uint64_t len, wwi_src **out)
{
    if (off > parent->size || len > parent->size - off)
        return WW_E_TRUNCATED;
    ww_status st = make(SRC_SUB, out);
    if (st == WW_OK) {
        (*out)->parent = parent;
        (*out)->off = off;
        (*out)->size = len;
    }
    return st;
}

void wwi_src_free(wwi_src *s)
{
    if (!s)
        return;
    if (s->kind == SRC_MMAP && s->size > 0)
        munmap((void *)s->base, (size_t)s->size);
    if (s->owns_base)
        wwi_free((void *)s->base);
    view *v = s->views;
    while (v) {
        view *n = v->next;
        wwi_free(v);
        v = n;
    }
    wwi_free(s);
}
