/* The gate's HTTP front (libmicrohttpd, one thread per connection so a
 * request may wait for a scan): the Hub protocol (api/ proxy, resolve HEAD and
 * GET with Range), /healthz, /metrics and the admin routes (admin.c).
 * Protocol: hf-protocol.md; design: docs/serve.md. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "serve/gate.h"

#define MAX_POST (64 * 1024)

typedef struct req {
    int64_t t0;
    char *body;
    size_t body_len;
    bool body_too_big;
    int status;
    uint64_t bytes;
    char method[8];
    char url[512];
    char repo[520];
    char note[128];
} req;

int64_t gate_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gate_hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void gate_log_json(gate *g, json_t *obj)
{
    if (!obj)
        return;
    if (!json_object_get(obj, "ts")) {
        char ts[64];
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now.tv_nsec / 1000000));
        json_object_set_new(obj, "ts", json_string(ts));
    }
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!s)
        return;
    pthread_mutex_lock(&g->log_mu);
    fputs(s, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g->log_mu);
    free(s);
}

/* ---- small helpers ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decode n bytes of s into out (cap bytes). false on a bad escape,
 * a NUL byte or overflow. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return false;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s); /* keep the raw URL: refs%2Fpr%2F1 must stay one segment */
}

static enum MHD_Result queue(gate *g, struct MHD_Connection *c, req *rq, int status,
                             struct MHD_Response *resp, uint64_t body_bytes)
{
    (void)g;
    rq->status = status;
    rq->bytes = body_bytes;
    enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_text(gate *g, struct MHD_Connection *c, req *rq, int status,
                                 const char *ctype, const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    return queue(g, c, rq, status, resp, strcmp(rq->method, "HEAD") == 0 ? 0 : len);
}

static enum MHD_Result send_error(gate *g, struct MHD_Connection *c, req *rq,
                                  const gate_err *e, const char *commit)
{
    json_t *o = json_pack("{s:s}", "error", e->msg);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (void *)"", MHD_RESPMEM_MUST_COPY);
    free(body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (e->code[0])
        MHD_add_response_header(resp, "X-Error-Code", e->code);
    if (e->msg[0])
        MHD_add_response_header(resp, "X-Error-Message", e->msg);
    if (commit)
        MHD_add_response_header(resp, "X-Repo-Commit", commit);
    if (e->status == 503)
        MHD_add_response_header(resp, "Retry-After", "2");
    snprintf(rq->note, sizeof rq->note, "%.120s", e->code[0] ? e->code : "error");
    return queue(g, c, rq, e->status ? e->status : 500, resp,
                 strcmp(rq->method, "HEAD") == 0 ? 0 : len);
}

static const char *bearer_token(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static void base_url(gate *g, struct MHD_Connection *c, char *out, size_t n)
{
    if (g->o.public_url) {
        snprintf(out, n, "%s", g->o.public_url);
        return;
    }
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    snprintf(out, n, "http://%s", host && host[0] ? host : g->o.listen);
}

/* ---- /api/...: proxy to the upstream ---- */

typedef struct qs {
    char buf[4096];
    size_t n;
    bool overflow;
} qs;

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    qs *q = cls;
    int k = snprintf(q->buf + q->n, sizeof q->buf - q->n, "%s%s%s%s", q->n ? "&" : "", key,
                     value ? "=" : "", value ? value : "");
    if (k < 0 || (size_t)k >= sizeof q->buf - q->n) {
        q->overflow = true;
        return MHD_NO;
    }
    q->n += (size_t)k;
    return MHD_YES;
}

static bool safe_url_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '#')
            return false;
    return true;
}

static enum MHD_Result api_proxy(gate *g, struct MHD_Connection *c, req *rq, const char *url)
{
    gate_err e = {0};
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        gate_err_set(&e, 405, "", "the gate proxies only GET and HEAD on /api/");
        return send_error(g, c, rq, &e, NULL);
    }
    qs q = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    if (q.overflow || !safe_url_chars(url) || !safe_url_chars(q.buf) || strstr(url, "/../")) {
        gate_err_set(&e, 400, "", "bad request URL");
        return send_error(g, c, rq, &e, NULL);
    }
    char up[8192];
    snprintf(up, sizeof up, "%s%s%s%s", g->o.upstream, url, q.n ? "?" : "", q.buf);
    wwx_http_opts o;
    gup_http_opts(g, bearer_token(c), &o);
    wwx_http_resp resp;
    int rc = wwx_http_fetch(&o, "GET", up, NULL, GATE_MAX_INFO, NULL, NULL, &resp);
    atomic_fetch_add(&g->m.upstream_fetches, 1);
    if (rc != 0 || resp.status >= 500) {
        atomic_fetch_add(&g->m.upstream_errors, 1);
        gup_map_error(rc, &resp, "API request", &e);
        wwx_http_resp_free(&resp);
        return send_error(g, c, rq, &e, NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp.len, resp.body ? resp.body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r) {
        wwx_http_resp_free(&resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (resp.error_code)
        MHD_add_response_header(r, "X-Error-Code", resp.error_code);
    if (resp.error_message)
        MHD_add_response_header(r, "X-Error-Message", resp.error_message);
    if (resp.repo_commit)
        MHD_add_response_header(r, "X-Repo-Commit", resp.repo_commit);
    if (resp.link_next) {
        /* Keep clients on the gate for page 2: the upstream's host becomes ours. */
        const char *p = strstr(resp.link_next, "://");
        p = p ? strchr(p + 3, '/') : NULL;
        char base[512], link[8192];
        base_url(g, c, base, sizeof base);
        if (p && safe_url_chars(p)) {
            snprintf(link, sizeof link, "<%s%s>; rel=\"next\"", base, p);
            MHD_add_response_header(r, "Link", link);
        }
    }
    int status = (int)resp.status;
    size_t len = resp.len;
    wwx_http_resp_free(&resp);
    return queue(g, c, rq, status, r, strcmp(rq->method, "HEAD") == 0 ? 0 : len);
}

/* ---- resolve ---- */

static ssize_t never_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void file_headers(struct MHD_Response *r, const gate_rev *rev, const gate_file *f)
{
    char v[128];
    MHD_add_response_header(r, "X-Repo-Commit", rev->commit);
    if (f->oid) {
        snprintf(v, sizeof v, "\"%s\"", f->oid);
        MHD_add_response_header(r, "ETag", v);
    } else if (f->sha256) {
        snprintf(v, sizeof v, "\"%s\"", f->sha256);
        MHD_add_response_header(r, "ETag", v);
    }
    if (f->sha256) {
        snprintf(v, sizeof v, "\"%s\"", f->sha256);
        MHD_add_response_header(r, "X-Linked-Etag", v);
    }
    snprintf(v, sizeof v, "%llu", (unsigned long long)f->size);
    MHD_add_response_header(r, "X-Linked-Size", v);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
}

/* Range: bytes=a-b | a- | -n. 0 none/ignored, 1 ok, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
    if (!h)
        return 0;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "bytes=", 6) != 0)
        return 0;
    h += 6;
    if (strchr(h, ','))
        return 0; /* multi-range: answer the whole file */
    char *end;
    uint64_t a = 0, b = 0;
    bool has_a = isdigit((unsigned char)*h), has_b;
    if (has_a)
        a = strtoull(h, &end, 10);
    else
        end = (char *)h;
    while (*end == ' ')
        end++;
    if (*end != '-')
        return 0;
    end++;
    while (*end == ' ')
        end++;
    has_b = isdigit((unsigned char)*end);
    if (has_b)
        b = strtoull(end, &end, 10);
    while (*end == ' ')
        end++;
    if (*end)
        return 0;
    if (!has_a && !has_b)
        return 0;
    if (!has_a) { /* suffix */
        if (b == 0 || size == 0)
            return -1;
        *start = b >= size ? 0 : size - b;
        *len = size - *start;
        return 1;
    }
    if (a >= size || (has_b && b < a))
        return -1;
    uint64_t last = has_b && b < size ? b : size - 1;
    *start = a;
    *len = last - a + 1;
    return 1;
}

static void record_download(gate *g, struct MHD_Connection *c, const gate_rev *r,
                            const gate_file *f, int status, uint64_t bytes)
{
    char st[16], by[32], now[32], client[64] = "";
    snprintf(st, sizeof st, "%d", status);
    snprintf(by, sizeof by, "%llu", (unsigned long long)bytes);
    snprintf(now, sizeof now, "%lld", (long long)gate_now_ms());
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  client, sizeof client);
    char rk[300];
    snprintf(rk, sizeof rk, "%s%s%s", strcmp(r->type, "model") == 0 ? "" : r->type,
             strcmp(r->type, "model") == 0 ? "" : "s/", r->repo);
    const char *p[] = {now, g->o.node, rk, r->commit, f->path, gate_file_etag(f), st, by, client};
    char err[256];
    gdb_exec(g->db,
             "INSERT INTO downloads(ts, node, repo, revision, path, etag, status, bytes, client)"
             " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
             9, p, NULL, NULL, err, sizeof err);
}

static bool valid_repo_part(const char *s)
{
    if (!s[0] || strlen(s) > 96 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

static enum MHD_Result resolve(gate *g, struct MHD_Connection *c, req *rq, const char *type,
                               const char *org, const char *name, const char *rev_raw,
                               const char *path_raw)
{
    gate_err e = {0};
    bool head = strcmp(rq->method, "HEAD") == 0;
    if (!head && strcmp(rq->method, "GET") != 0) {
        gate_err_set(&e, 405, "", "method not allowed");
        return send_error(g, c, rq, &e, NULL);
    }
    char repo[520], rev[256], path[1024];
    snprintf(repo, sizeof repo, "%s/%s", org, name);
    if (!valid_repo_part(org) || !valid_repo_part(name) ||
        !pct_decode(rev_raw, strlen(rev_raw), rev, sizeof rev) ||
        !pct_decode(path_raw, strlen(path_raw), path, sizeof path) || !rev[0] || !path[0]) {
        gate_err_set(&e, 400, "", "bad resolve URL");
        return send_error(g, c, rq, &e, NULL);
    }
    snprintf(rq->repo, sizeof rq->repo, "%s", repo);
    int64_t deadline = mono_ms() + (head ? g->o.head_wait_ms : g->o.get_wait_ms);
    const char *token = bearer_token(c);
    gate_rev *r = NULL;
    if (gup_revision(g, token, type, repo, rev, &r, &e) != 0)
        return send_error(g, c, rq, &e, NULL);
    enum MHD_Result ret;
    gate_decision d = {0};
    const gate_file *f = gate_rev_file(r, path);
    if (!f) {
        gate_err_set(&e, 404, "EntryNotFound", "%s does not exist on \"%s\"", path, rev);
        ret = send_error(g, c, rq, &e, r->commit);
        goto done;
    }
    int64_t left = deadline - mono_ms();
    int drc = gate_decide(g, token, r, left > 0 ? (int)left : 0, &d, &e);
    if (drc != 0 && !(head && e.status == 503)) {
        ret = send_error(g, c, rq, &e, r->commit);
        goto done;
    }
    if (drc == 0 && strcmp(d.state, "quarantine") == 0 && !d.released) {
        gate_err_set(&e, 403, "GatedRepo", "%s", d.message ? d.message : "quarantined");
        snprintf(rq->note, sizeof rq->note, "quarantined");
        if (!head)
            record_download(g, c, r, f, 403, 0);
        ret = send_error(g, c, rq, &e, r->commit);
        goto done;
    }
    if (head) {
        /* Metadata only, at once; the download starts in the background so
         * the GET that follows finds the blob ready. */
        gate_prefetch(g, token, r, f);
        struct MHD_Response *resp =
            MHD_create_response_from_callback(f->size, 4096, never_read, NULL, NULL);
        if (!resp) {
            ret = MHD_NO;
            goto done;
        }
        file_headers(resp, r, f);
        ret = queue(g, c, rq, 200, resp, 0);
        goto done;
    }
    left = deadline - mono_ms();
    if (gate_blob_ready(g, token, r, f, left > 0 ? (int)left : 0, &e) != 0) {
        ret = send_error(g, c, rq, &e, r->commit);
        goto done;
    }
    if (!d.released && !gate_decision_covers(g, &d, f)) {
        /* The stored bytes scanned differently from the ranged scan the
         * decision used: decide again from the stored blob's scan. */
        gate_decision_forget(g, r);
        gate_decision_clear(&d);
        left = deadline - mono_ms();
        if (gate_decide(g, token, r, left > 0 ? (int)left : 0, &d, &e) != 0) {
            ret = send_error(g, c, rq, &e, r->commit);
            goto done;
        }
        if (strcmp(d.state, "quarantine") == 0 && !d.released) {
            gate_err_set(&e, 403, "GatedRepo", "%s", d.message ? d.message : "quarantined");
            record_download(g, c, r, f, 403, 0);
            ret = send_error(g, c, rq, &e, r->commit);
            goto done;
        }
        if (!gate_decision_covers(g, &d, f)) {
            gate_err_set(&e, 503, "", "scan results for %s are changing; retry shortly", path);
            ret = send_error(g, c, rq, &e, r->commit);
            goto done;
        }
    }
    char bp[4096];
    gstore_blob_path(g, gate_file_etag(f), bp, sizeof bp);
    int fd = open(bp, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size) {
        if (fd >= 0)
            close(fd);
        gate_err_set(&e, 503, "", "blob of %s is not in the store; retry shortly", path);
        ret = send_error(g, c, rq, &e, r->commit);
        goto done;
    }
    uint64_t start = 0, len = f->size;
    int pr = parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"), f->size,
                         &start, &len);
    if (pr < 0) {
        close(fd);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
                                                                    MHD_RESPMEM_PERSISTENT);
        char cr[64];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)f->size);
        MHD_add_response_header(resp, "Content-Range", cr);
        MHD_add_response_header(resp, "X-Repo-Commit", r->commit);
        ret = queue(g, c, rq, 416, resp, 0);
        goto done;
    }
    struct MHD_Response *resp;
    if (len == 0) {
        close(fd);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_fd_at_offset64(len, fd, start); /* owns fd */
    }
    if (!resp) {
        if (len)
            close(fd);
        ret = MHD_NO;
        goto done;
    }
    file_headers(resp, r, f);
    if (pr > 0) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
                 (unsigned long long)(start + len - 1), (unsigned long long)f->size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    if (d.released)
        snprintf(rq->note, sizeof rq->note, "released");
    record_download(g, c, r, f, pr > 0 ? 206 : 200, len);
    ret = queue(g, c, rq, pr > 0 ? 206 : 200, resp, len);
done:
    gate_decision_clear(&d);
    gate_rev_release(r);
    return ret;
}

/* ---- dispatch ---- */

static enum MHD_Result route(gate *g, struct MHD_Connection *c, req *rq, const char *url)
{
    gate_err e = {0};
    bool head = strcmp(rq->method, "HEAD") == 0;
    if (strcmp(url, "/healthz") == 0) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:i}", "status",
                              g->policy ? "ok" : "policy-error", "db", gdb_kind(g->db), "policy",
                              g->policy_name, "policy_error",
                              g->policy ? NULL : g->policy_error, "jobs", (int)g->njobs);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        enum MHD_Result r = send_text(g, c, rq, g->policy ? 200 : 503, "application/json",
                                      s ? s : "{}", s ? strlen(s) : 2);
        free(s);
        return r;
    }
    if (strcmp(url, "/metrics") == 0) {
        char *s = gmet_render(g);
        enum MHD_Result r = send_text(g, c, rq, 200, "text/plain; version=0.0.4", s ? s : "",
                                      s ? strlen(s) : 0);
        free(s);
        return r;
    }
    if (strcmp(url, "/") == 0 || strncmp(url, "/admin", 6) == 0) {
        int status = 0;
        int r = gadmin_handle(g, c, rq->method, url, rq->body, rq->body_len, &status);
        if (r >= 0) {
            rq->status = status;
            return (enum MHD_Result)r;
        }
    }
    if (strncmp(url, "/api/", 5) == 0)
        return api_proxy(g, c, rq, url);

    /* [datasets/|spaces/|models/]org/name/resolve/rev/path... */
    const char *p = url + 1;
    const char *type = "model";
    if (strncmp(p, "datasets/", 9) == 0) {
        type = "dataset";
        p += 9;
    } else if (strncmp(p, "spaces/", 7) == 0) {
        type = "space";
        p += 7;
    } else if (strncmp(p, "models/", 7) == 0) {
        p += 7;
    }
    char seg[4][256];
    const char *rest = p;
    int i = 0;
    for (; i < 4; i++) {
        const char *s = strchr(rest, '/');
        if (!s || (size_t)(s - rest) >= sizeof seg[i])
            break;
        memcpy(seg[i], rest, (size_t)(s - rest));
        seg[i][s - rest] = '\0';
        rest = s + 1;
    }
    if (i == 4 && strcmp(seg[2], "resolve") == 0 && rest[0])
        return resolve(g, c, rq, type, seg[0], seg[1], seg[3], rest);
    (void)head;
    gate_err_set(&e, 404, "", "Not Found");
    return send_error(g, c, rq, &e, NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    gate *g = cls;
    req *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->t0 = mono_ms();
        snprintf(rq->method, sizeof rq->method, "%s", method);
        snprintf(rq->url, sizeof rq->url, "%s", url);
        *con_cls = rq;
        atomic_fetch_add(&g->m.inflight, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body_len + *upload_size > MAX_POST) {
            rq->body_too_big = true;
        } else {
            char *nb = realloc(rq->body, rq->body_len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            rq->body = nb;
            memcpy(rq->body + rq->body_len, upload, *upload_size);
            rq->body_len += *upload_size;
            rq->body[rq->body_len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->body_too_big) {
        gate_err e;
        gate_err_set(&e, 413, "", "request body too large");
        return send_error(g, c, rq, &e, NULL);
    }
    return route(g, c, rq, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    gate *g = cls;
    req *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    atomic_fetch_sub(&g->m.inflight, 1);
    int cls_i = rq->status >= 100 && rq->status < 600 ? rq->status / 100 : 0;
    atomic_fetch_add(&g->m.requests[cls_i], 1);
    bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    if (ok)
        atomic_fetch_add(&g->m.bytes_served, rq->bytes);
    if (!g->o.quiet) {
        char client[64] = "";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET,
                      &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                      client, sizeof client);
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:b}", "event", "access",
                              "method", rq->method, "path", rq->url, "status", rq->status,
                              "bytes", (json_int_t)(ok ? rq->bytes : 0), "ms",
                              (json_int_t)(mono_ms() - rq->t0), "client", client, "complete",
                              ok);
        if (o && rq->repo[0])
            json_object_set_new(o, "repo", json_string(rq->repo));
        if (o && rq->note[0])
            json_object_set_new(o, "note", json_string(rq->note));
        gate_log_json(g, o);
    }
    free(rq->body);
    free(rq);
}

struct MHD_Daemon *ghttp_start(gate *g, const char *addr, int port, int *bound, char *err,
                               size_t errlen)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "--listen: '%s' is not an IPv4 address", addr);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handler, g, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, completed, g, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1u << 20), MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use?)", addr, port);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound = di ? di->port : port;
    return d;
}
