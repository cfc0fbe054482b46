#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "common/http.h"

void wwx_http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void wwx_http_resp_free(wwx_http_resp *r)
{
    free(r->body);
    free(r->final_url);
    free(r->repo_commit);
    free(r->error_code);
    free(r->error_message);
    free(r->link_next);
    memset(r, 0, sizeof *r);
}

typedef struct xfer {
    wwx_http_resp *resp;
    size_t max_body;
    wwx_http_sink sink;
    void *sink_ctx;
    bool overflow, sink_abort;
    size_t sunk; /* bytes handed to the sink: once any were, a retry cannot rewind them */
    size_t cap;
    char *location;
    uint64_t content_length;
    bool progress;
    double last_draw;
} xfer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    /* Redirect and error bodies are small and never go to the sink. */
    if (x->sink && x->resp->status >= 200 && x->resp->status < 300) {
        if (!x->sink(x->sink_ctx, data, n)) {
            x->sink_abort = true;
            return 0;
        }
        x->resp->len += n;
        x->sunk += n;
        return n;
    }
    size_t limit = x->sink ? 64 * 1024 : x->max_body;
    if (n > limit - x->resp->len || x->resp->len > limit) {
        x->overflow = true;
        return 0;
    }
    if (x->resp->len + n + 1 > x->cap) {
        size_t nc = x->cap ? x->cap : 4096;
        while (nc < x->resp->len + n + 1)
            nc *= 2;
        char *p = realloc(x->resp->body, nc);
        if (!p)
            return 0;
        x->resp->body = p;
        x->cap = nc;
    }
    memcpy(x->resp->body + x->resp->len, data, n);
    x->resp->len += n;
    x->resp->body[x->resp->len] = '\0';
    return n;
}

static char *trimdup(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, v, n);
        d[n] = '\0';
    }
    return d;
}

static bool header_is(const char *line, size_t n, const char *name, const char **val, size_t *vn)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return false;
    *val = line + k + 1;
    *vn = n - k - 1;
    return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    const char *v;
    size_t vn;
    wwx_http_resp *r = x->resp;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a 100-continue or similar): reset per-response fields. */
        const char *sp = memchr(line, ' ', n);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        free(x->location);
        x->location = NULL;
    } else if (header_is(line, n, "location", &v, &vn)) {
        free(x->location);
        x->location = trimdup(v, vn);
    } else if (header_is(line, n, "x-repo-commit", &v, &vn)) {
        free(r->repo_commit);
        r->repo_commit = trimdup(v, vn);
    } else if (header_is(line, n, "x-error-code", &v, &vn)) {
        free(r->error_code);
        r->error_code = trimdup(v, vn);
    } else if (header_is(line, n, "x-error-message", &v, &vn)) {
        free(r->error_message);
        r->error_message = trimdup(v, vn);
    } else if (header_is(line, n, "content-range", &v, &vn)) {
        char *cr = trimdup(v, vn);
        const char *slash = cr ? strrchr(cr, '/') : NULL;
        if (slash && slash[1] != '*')
            r->total = strtoull(slash + 1, NULL, 10);
        free(cr);
    } else if (header_is(line, n, "content-length", &v, &vn)) {
        char *cl = trimdup(v, vn);
        if (cl)
            x->content_length = strtoull(cl, NULL, 10);
        free(cl);
    } else if (header_is(line, n, "link", &v, &vn)) {
        char *lk = trimdup(v, vn);
        /* Link: <url>; rel="next" (possibly among other links) */
        char *p = lk;
        while (p && *p) {
            char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
            if (!gt)
                break;
            char *next = strchr(gt, ',');
            char *rel = strstr(gt, "rel=\"next\"");
            if (rel && (!next || rel < next)) {
                free(r->link_next);
                r->link_next = trimdup(lt + 1, (size_t)(gt - lt - 1));
                break;
            }
            p = next ? next + 1 : NULL;
        }
        free(lk);
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    xfer *x = ud;
    if (!x->progress || dltotal < (curl_off_t)(8 << 20))
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (now - x->last_draw < 0.2 && dlnow < dltotal)
        return 0;
    x->last_draw = now;
    int pct = (int)(dlnow * 100 / dltotal);
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %lld/%lld MB", bar, pct, (long long)(dlnow >> 20),
            (long long)(dltotal >> 20));
    if (dlnow >= dltotal)
        fputc('\n', stderr);
    return 0;
}

/* host:port of a URL, for the "same origin" test that decides whether the
 * token may be sent. */
static void origin_of(const char *url, char *out, size_t n)
{
    out[0] = '\0';
    CURLU *u = curl_url();
    if (!u)
        return;
    char *host = NULL, *port = NULL, *scheme = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        snprintf(out, n, "%s://%s:%s", scheme ? scheme : "", host ? host : "", port ? port : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static char *resolve_location(const char *base, const char *loc)
{
    CURLU *u = curl_url();
    char *out = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK) {
        char *s = NULL;
        if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
            out = strdup(s);
            curl_free(s);
        }
    }
    curl_url_cleanup(u);
    return out;
}

/* One attempt, one hop. Returns the curl code. */
static CURLcode one_hop(const wwx_http_opts *o, const char *method, const char *url,
                        const char *range, bool send_auth, xfer *x)
{
    CURL *c = curl_easy_init();
    if (!c)
        return CURLE_OUT_OF_MEMORY;
    struct curl_slist *hdrs = NULL;
    char auth[1024];
    if (send_auth && o->token && o->token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    hdrs = curl_slist_append(hdrs, "Accept-Encoding: identity");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "weightwall/0.1.0");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout_s);
    /* Read timeout: abort when fewer than 1 byte/s arrive for timeout_s seconds. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->timeout_s);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (range)
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, x->progress ? 0L : 1L);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        snprintf(x->resp->err, sizeof x->resp->err, "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return cc;
}

static bool retryable(CURLcode cc, long status)
{
    if (cc == CURLE_OK)
        return status >= 500 && status <= 599;
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
           cc == CURLE_GOT_NOTHING || cc == CURLE_OPERATION_TIMEDOUT ||
           cc == CURLE_PARTIAL_FILE;
}

int wwx_http_fetch(const wwx_http_opts *o, const char *method, const char *url, const char *range,
                   size_t max_body, wwx_http_sink sink, void *sink_ctx, wwx_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    if (o->offline) {
        snprintf(resp->err, sizeof resp->err, "offline mode: network access disabled");
        return -1;
    }
    char origin[512], here[512];
    origin_of(url, origin, sizeof origin);
    char *cur = strdup(url);
    if (!cur)
        return -1;
    for (int hop = 0; hop < 8; hop++) {
        origin_of(cur, here, sizeof here);
        bool send_auth = strcmp(origin, here) == 0;
        xfer x;
        CURLcode cc = CURLE_OK;
        long wait = o->backoff_ms;
        char *commit = resp->repo_commit;
        resp->repo_commit = NULL;
        for (int attempt = 0;; attempt++) {
            free(resp->body);
            free(resp->error_code);
            free(resp->error_message);
            free(resp->link_next);
            resp->body = resp->error_code = resp->error_message = resp->link_next = NULL;
            resp->len = 0;
            resp->status = 0;
            resp->total = 0;
            resp->err[0] = '\0';
            memset(&x, 0, sizeof x);
            x.resp = resp;
            x.max_body = max_body;
            x.sink = sink;
            x.sink_ctx = sink_ctx;
            x.progress = o->progress;
            cc = one_hop(o, method, cur, range, send_auth, &x);
            if (cc == CURLE_OK && x.overflow)
                cc = CURLE_FILESIZE_EXCEEDED;
            /* A sink that already consumed bytes cannot be rewound: no retry. */
            bool can_retry = x.sunk == 0 && !x.sink_abort && !x.overflow;
            if (attempt < o->retries && can_retry && retryable(cc, resp->status)) {
                free(x.location);
                usleep((useconds_t)wait * 1000);
                wait *= 2;
                continue;
            }
            break;
        }
        /* Keep the first X-Repo-Commit seen (the hub's, not the CDN's). */
        if (commit) {
            free(resp->repo_commit);
            resp->repo_commit = commit;
        }
        if (cc != CURLE_OK) {
            if (x.overflow)
                snprintf(resp->err, sizeof resp->err, "response larger than %zu bytes",
                         max_body);
            else if (x.sink_abort)
                snprintf(resp->err, sizeof resp->err, "download aborted (size limit)");
            else if (cc == CURLE_PARTIAL_FILE) {
                char detail[sizeof resp->err];
                memcpy(detail, resp->err, sizeof detail);
                detail[sizeof detail - 40] = '\0';
                snprintf(resp->err, sizeof resp->err, "truncated response body (%.200s)", detail);
            }
            free(x.location);
            free(cur);
            return -1;
        }
        if (resp->status >= 300 && resp->status < 400 && x.location) {
            char *next = resolve_location(cur, x.location);
            free(x.location);
            free(cur);
            if (!next) {
                snprintf(resp->err, sizeof resp->err, "bad redirect location");
                return -1;
            }
            cur = next;
            continue;
        }
        free(x.location);
        if (resp->status == 206)
            resp->partial = true;
        else if (resp->total == 0)
            resp->total = x.content_length;
        resp->final_url = cur;
        return 0;
    }
    snprintf(resp->err, sizeof resp->err, "too many redirects");
    free(cur);
    return -1;
}

void wwx_http_describe(const wwx_http_resp *r, char *buf, size_t n)
{
    if (r->status == 0) {
        snprintf(buf, n, "%s", r->err[0] ? r->err : "request failed");
        return;
    }
    const char *what = "";
    if (r->error_code && strcmp(r->error_code, "GatedRepo") == 0)
        what = "gated repository (access must be granted; set HF_TOKEN)";
    else if ((r->error_code && strcmp(r->error_code, "RepoNotFound") == 0) || r->status == 401)
        what = "repository not found (or private: set HF_TOKEN)";
    else if (r->error_code && strcmp(r->error_code, "RevisionNotFound") == 0)
        what = "revision not found";
    else if (r->error_code && strcmp(r->error_code, "EntryNotFound") == 0)
        what = "file not found";
    else if (r->status == 404)
        what = "not found";
    else if (r->status == 403)
        what = "forbidden";
    else if (r->status >= 500)
        what = "server error";
    snprintf(buf, n, "HTTP %ld%s%s%s%s", r->status, what[0] ? ": " : "", what,
             r->error_message ? ": " : "", r->error_message ? r->error_message : "");
}
