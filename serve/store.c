/* The blob store: store/blobs/<etag>, content-addressed. A download goes to
 * store/tmp/, is hashed while it streams (sha256 for LFS files, git's blob
 * sha1 for small ones), and is renamed into blobs/ only after size and digest
 * match and the bytes are fsync'd. Memory stays bounded whatever the size. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "serve/gate.h"

const char *gate_file_etag(const gate_file *f)
{
    return f->sha256 ? f->sha256 : f->oid;
}

void gstore_blob_path(const gate *g, const char *etag, char *out, size_t n)
{
    snprintf(out, n, "%s/blobs/%s", g->o.store, etag);
}

bool gstore_has(const gate *g, const char *etag, uint64_t size)
{
    char p[4096];
    struct stat st;
    gstore_blob_path(g, etag, p, sizeof p);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

typedef struct dl_sink {
    int fd;
    EVP_MD_CTX *md;
    uint64_t written, limit;
    bool too_long, io_error;
} dl_sink;

static bool dl_write(void *ctx, const void *data, size_t n)
{
    dl_sink *s = ctx;
    if (n > s->limit - s->written) {
        s->too_long = true;
        return false;
    }
    EVP_DigestUpdate(s->md, data, n);
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(s->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->io_error = true;
            return false;
        }
        p += w;
        left -= (size_t)w;
    }
    s->written += n;
    return true;
}

static void dl_reset(dl_sink *s, const gate_file *f)
{
    EVP_DigestInit_ex(s->md, f->sha256 ? EVP_sha256() : EVP_sha1(), NULL);
    if (!f->sha256) {
        /* git blob id: sha1("blob <size>\0" + content) */
        char hdr[48];
        int hn = snprintf(hdr, sizeof hdr, "blob %llu", (unsigned long long)f->size);
        EVP_DigestUpdate(s->md, hdr, (size_t)hn + 1);
    }
    s->written = 0;
    s->too_long = s->io_error = false;
    if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0)
        s->io_error = true;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int gstore_fetch(gate *g, const char *token, const gate_rev *r, const gate_file *f, gate_err *e)
{
    const char *etag = gate_file_etag(f);
    if (!etag) {
        gate_err_set(e, 502, "", "%s: upstream gave no content id (sha256/oid); cannot verify",
                     f->path);
        return -1;
    }
    if (gstore_has(g, etag, f->size))
        return 0;
    static atomic_uint counter;
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.%ld.%u", g->o.store, etag, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    gstore_blob_path(g, etag, final, sizeof final);
    dl_sink s = {.limit = f->size};
    s.fd = open(tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
    if (s.fd < 0) {
        gate_err_set(e, 503, "", "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    s.md = EVP_MD_CTX_new();
    char *url = gup_file_url(g, r, f->path);
    int rc = -1;
    if (!s.md || !url) {
        gate_err_set(e, 503, "", "out of memory");
        goto done;
    }
    wwx_http_opts o;
    gup_http_opts(g, token, &o);
    /* Two attempts: a connection cut mid-body is often transient. */
    for (int attempt = 0; attempt < 2; attempt++) {
        dl_reset(&s, f);
        wwx_http_resp resp;
        int hr = wwx_http_fetch(&o, "GET", url, NULL, 0, dl_write, &s, &resp);
        atomic_fetch_add(&g->m.upstream_fetches, 1);
        atomic_fetch_add(&g->m.upstream_bytes, s.written);
        if (s.io_error) {
            gate_err_set(e, 503, "", "writing %s to the store failed: %s", f->path,
                         strerror(errno));
        } else if (s.too_long) {
            gate_err_set(e, 502, "", "upstream sent more than the %llu bytes of %s",
                         (unsigned long long)f->size, f->path);
        } else if (hr != 0 || resp.status != 200) {
            if (hr != 0 && s.written > 0)
                gate_err_set(e, 502, "", "upstream download of %s broke off after %llu of %llu bytes: %s",
                             f->path, (unsigned long long)s.written,
                             (unsigned long long)f->size, resp.err);
            else
                gup_map_error(hr, &resp, "download", e);
        } else if (s.written != f->size) {
            gate_err_set(e, 502, "", "upstream download of %s truncated: %llu of %llu bytes",
                         f->path, (unsigned long long)s.written, (unsigned long long)f->size);
        } else {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int mdlen = 0;
            char hex[2 * EVP_MAX_MD_SIZE + 1];
            EVP_DigestFinal_ex(s.md, md, &mdlen);
            gate_hex(md, mdlen, hex);
            if (strcmp(hex, etag) != 0) {
                gate_err_set(e, 502, "", "upstream content of %s does not match its %s %s (got %s)",
                             f->path, f->sha256 ? "sha256" : "git blob id", etag, hex);
            } else {
                rc = 0;
            }
        }
        wwx_http_resp_free(&resp);
        if (rc == 0 || s.io_error || s.too_long)
            break;
        if (e->status != 502 && e->status != 504)
            break; /* a 4xx from upstream will not change on retry */
    }
    if (rc == 0) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/blobs", g->o.store);
        if (fsync(s.fd) != 0 || rename(tmp, final) != 0 || fsync_dir(dir) != 0) {
            gate_err_set(e, 503, "", "storing %s failed: %s", f->path, strerror(errno));
            rc = -1;
        }
    }
done:
    if (s.md)
        EVP_MD_CTX_free(s.md);
    close(s.fd);
    if (rc != 0)
        unlink(tmp); /* a partial or mismatched download is never kept */
    free(url);
    return rc;
}
