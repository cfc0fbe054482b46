/* Remote scanning: a ww_source whose read_at issues Range requests, with the
 * first 64 KiB fetched up front (it answers detection and, for most formats,
 * the header). When the server refuses ranges the file is downloaded once to
 * an unlinked temporary file and scanned from there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/remote.h"
#include "common/sandbox.h"

#define FIRST_CHUNK (64 * 1024)

typedef struct rsrc {
    const wwx_http_opts *o;
    char *url; /* final URL after redirects (CDN) */
    uint8_t *head;
    size_t head_len;
    uint64_t size;
    uint64_t fetched;
    char err[300];
} rsrc;

typedef struct buf_sink {
    uint8_t *dst;
    size_t cap, len;
} buf_sink;

static bool to_buf(void *ctx, const void *data, size_t n)
{
    buf_sink *b = ctx;
    if (n > b->cap - b->len)
        return false;
    memcpy(b->dst + b->len, data, n);
    b->len += n;
    return true;
}

static bool to_file(void *ctx, const void *data, size_t n)
{
    return fwrite(data, 1, n, (FILE *)ctx) == n;
}

static ww_status read_at(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
    rsrc *r = ctx;
    *got = 0;
    if (off >= r->size)
        return WW_OK;
    if (len > r->size - off)
        len = (size_t)(r->size - off);
    if (off + len <= r->head_len) {
        memcpy(buf, r->head + off, len);
        *got = len;
        return WW_OK;
    }
    char range[64];
    snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    buf_sink b = {buf, len, 0};
    wwx_http_resp resp;
    /* The final URL may be a signed CDN URL on another host: no token there. */
    wwx_http_opts o = *r->o;
    o.progress = false;
    int rc = wwx_http_fetch(&o, "GET", r->url, range, 0, to_buf, &b, &resp);
    r->fetched += b.len;
    if (rc != 0 || resp.status != 206 || b.len != len) {
        char d[256];
        if (rc == 0 && resp.status == 200)
            snprintf(d, sizeof d, "server stopped honouring Range requests");
        else if (rc == 0 && resp.status == 206)
            snprintf(d, sizeof d, "short ranged read (%zu of %zu bytes)", b.len, len);
        else
            wwx_http_describe(&resp, d, sizeof d);
        snprintf(r->err, sizeof r->err, "ranged read at %llu: %s", (unsigned long long)off, d);
        wwx_http_resp_free(&resp);
        return WW_E_NET;
    }
    wwx_http_resp_free(&resp);
    *got = len;
    return WW_OK;
}

static ww_status failed(const char *display, const char *url, const char *why, ww_result **out)
{
    char msg[700];
    snprintf(msg, sizeof msg, "cannot fetch %s: %s", url, why);
    return ww_result_new_failed(display, WW_E_NET, msg, out);
}

ww_status wwx_remote_scan_url(const ww_engine *e, wwx_sandbox *sb, const wwx_http_opts *o,
                              const char *url, const char *display, ww_result **out,
                              wwx_remote_scan *info)
{
    memset(info, 0, sizeof *info);
    rsrc r = {.o = o};
    r.head = malloc(FIRST_CHUNK);
    if (!r.head)
        return WW_E_NOMEM;
    buf_sink b = {r.head, FIRST_CHUNK, 0};
    char range[32];
    snprintf(range, sizeof range, "0-%d", FIRST_CHUNK - 1);
    FILE *tmp = NULL;
    wwx_http_resp resp;
    ww_status st;
    /* First request: ranged. Its answer tells whether ranges work. A 200 means
     * the whole body is coming: it goes to a temporary file instead. */
    tmp = tmpfile();
    if (!tmp) {
        free(r.head);
        return failed(display, url, "cannot create a temporary file", out);
    }
    int rc = wwx_http_fetch(o, "GET", url, range, 0, to_file, tmp, &resp);
    info->fetched = resp.len;
    if (resp.repo_commit)
        info->commit = strdup(resp.repo_commit);
    if (rc != 0 || (resp.status != 200 && resp.status != 206)) {
        char d[400];
        wwx_http_describe(&resp, d, sizeof d);
        wwx_http_resp_free(&resp);
        fclose(tmp);
        free(r.head);
        return failed(display, url, d, out);
    }
    fflush(tmp);
    if (resp.status == 206 && resp.total > 0) {
        /* Ranges work: keep the first chunk in memory, fetch the rest on demand. */
        rewind(tmp);
        b.len = fread(r.head, 1, FIRST_CHUNK, tmp);
        fclose(tmp);
        r.head_len = b.len;
        r.size = resp.total;
        r.url = resp.final_url;
        resp.final_url = NULL;
        info->ranged = true;
        ww_source src = {.ctx = &r, .size = r.size, .read_at = read_at};
        st = sb ? wwx_sandbox_scan_source(sb, e, &src, display, out)
                : ww_scan_source(e, &src, display, out);
        info->fetched += r.fetched;
        /* The library recorded the failed read as an error (never clean);
         * add the transport detail so the user sees why. */
        if (st == WW_OK && r.err[0])
            ww_result_annotate(*out, WW_SEV_NONE, "network", r.err);
        free(r.url);
    } else if (resp.status == 206) {
        fclose(tmp);
        wwx_http_resp_free(&resp);
        free(r.head);
        return failed(display, url, "206 answer without a total size in Content-Range", out);
    } else {
        /* Ranges refused: the whole file is in tmp (download completed and the
         * length checked by libcurl against Content-Length). */
        char path[64];
        snprintf(path, sizeof path, "/dev/fd/%d", fileno(tmp));
        st = sb ? wwx_sandbox_scan_fd(sb, e, fileno(tmp), display, out)
                : ww_scan_file(e, path, display, out);
        fclose(tmp);
    }
    wwx_http_resp_free(&resp);
    free(r.head);
    return st;
}
