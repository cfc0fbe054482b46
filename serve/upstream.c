/* Talking to the upstream hub: the file listing of a revision (model info
 * with blobs=true, the paginated tree as fallback), a short per-token cache
 * of it, resolve URLs and error mapping. Protocol: hf-protocol.md. */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve/gate.h"

#define CACHE_SLOTS 32
#define TTL_NAMED_MS 5000    /* a branch can move: revalidate often */
#define TTL_COMMIT_MS 300000 /* a commit never changes; access is rechecked every 5 min */
#define MAX_TREE_PAGES 2000

typedef struct cache_slot {
    char key[600];
    gate_rev *rev;
    int64_t expires;
} cache_slot;

struct gate_cache {
    cache_slot slots[CACHE_SLOTS];
};

void gate_err_set(gate_err *e, int status, const char *code, const char *fmt, ...)
{
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    /* A header value: one line of printable ASCII. */
    for (char *p = e->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = ' ';
}

void gup_http_opts(gate *g, const char *token, wwx_http_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_s = g->o.upstream_timeout_s;
    o->retries = 2;
    o->backoff_ms = 200;
    o->token = token && token[0] ? token : g->o.upstream_token;
}

void gup_map_error(int rc, const wwx_http_resp *resp, const char *what, gate_err *e)
{
    if (rc != 0 || resp->status == 0) {
        bool timeout = strstr(resp->err, "imed out") || strstr(resp->err, "imeout") ||
                       strstr(resp->err, "too slow");
        gate_err_set(e, timeout ? 504 : 502, "", "upstream %s failed: %s", what,
                     resp->err[0] ? resp->err : "no answer");
        return;
    }
    if (resp->status >= 500) {
        gate_err_set(e, 502, "", "upstream %s failed: HTTP %ld%s%s", what, resp->status,
                     resp->error_message ? ": " : "",
                     resp->error_message ? resp->error_message : "");
        return;
    }
    /* Client errors pass through with the hub's code and message, so
     * huggingface_hub raises the same exception it would against the hub. */
    const char *msg = resp->error_message;
    gate_err_set(e, (int)resp->status, resp->error_code ? resp->error_code : "", "%s",
                 msg ? msg : (resp->status == 401 ? "Repository not found" : "upstream refused"));
}

void gate_rev_release(gate_rev *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    for (size_t i = 0; i < r->nfiles; i++) {
        free(r->files[i].path);
        free(r->files[i].oid);
        free(r->files[i].sha256);
    }
    free(r->files);
    free(r->repo);
    free(r->rev);
    free(r->commit);
    free(r);
}

void gup_cache_free(gate *g)
{
    if (!g->cache)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        gate_rev_release(g->cache->slots[i].rev);
    free(g->cache);
    g->cache = NULL;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const gate_file *)a)->path, ((const gate_file *)b)->path);
}

const gate_file *gate_rev_file(const gate_rev *r, const char *path)
{
    gate_file key = {.path = (char *)path};
    return bsearch(&key, r->files, r->nfiles, sizeof *r->files, cmp_file);
}

static bool is_hex(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

/* A path we are willing to put in a URL: relative, no "..", no control bytes. */
static bool sane_path(const char *p)
{
    if (!p || !p[0] || p[0] == '/' || strlen(p) > 1000)
        return false;
    for (const char *s = p; *s; s++)
        if ((unsigned char)*s < 0x20)
            return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.') || (n == 1 && s[0] == '.'))
            return false;
        s += n;
        if (*s)
            s++;
    }
    return true;
}

static int add_file(gate_rev *r, size_t *cap, const char *path, json_int_t size, const char *oid,
                    const char *sha)
{
    if (!sane_path(path) || size < 0)
        return 0; /* skipped: never requested through resolve/ */
    if (r->nfiles >= GATE_MAX_FILES)
        return -1;
    if (r->nfiles == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        gate_file *nf = realloc(r->files, nc * sizeof *nf);
        if (!nf)
            return -1;
        r->files = nf;
        *cap = nc;
    }
    gate_file *f = &r->files[r->nfiles++];
    f->path = strdup(path);
    f->size = (uint64_t)size;
    f->oid = is_hex(oid, 40) ? strdup(oid) : NULL;
    f->sha256 = is_hex(sha, 64) ? strdup(sha) : NULL;
    return f->path ? 0 : -1;
}

static const char *plural(const char *type)
{
    return strcmp(type, "dataset") == 0 ? "datasets" : strcmp(type, "space") == 0 ? "spaces"
                                                                                   : "models";
}

static char *encode_all(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            *p++ = (char)c;
        } else {
            snprintf(p, 4, "%%%02X", c);
            p += 3;
        }
    }
    *p = '\0';
    return o;
}

static char *encode_path(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
            *p++ = (char)c;
        } else {
            snprintf(p, 4, "%%%02X", c);
            p += 3;
        }
    }
    *p = '\0';
    return o;
}

char *gup_file_url(gate *g, const gate_rev *r, const char *path)
{
    char *ep = encode_path(path);
    if (!ep)
        return NULL;
    size_t n = strlen(g->o.upstream) + strlen(r->repo) + strlen(ep) + 128;
    char *u = malloc(n);
    const char *pre = strcmp(r->type, "dataset") == 0 ? "datasets/"
                      : strcmp(r->type, "space") == 0 ? "spaces/"
                                                      : "";
    if (u)
        snprintf(u, n, "%s/%s%s/resolve/%s/%s", g->o.upstream, pre, r->repo, r->commit, ep);
    free(ep);
    return u;
}

/* Tree listing, followed page by page through Link: rel="next". */
static int list_tree(gate *g, const wwx_http_opts *o, gate_rev *r, size_t *cap, gate_err *e)
{
    char url[2048];
    snprintf(url, sizeof url, "%s/api/%s/%s/tree/%s?recursive=true&expand=false", g->o.upstream,
             plural(r->type), r->repo, r->commit);
    char *next = strdup(url);
    for (int page = 0; next && page < MAX_TREE_PAGES; page++) {
        wwx_http_resp resp;
        int rc = wwx_http_fetch(o, "GET", next, NULL, GATE_MAX_INFO, NULL, NULL, &resp);
        free(next);
        next = NULL;
        if (rc != 0 || resp.status != 200) {
            gup_map_error(rc, &resp, "tree listing", e);
            wwx_http_resp_free(&resp);
            return -1;
        }
        json_error_t je;
        json_t *arr = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
        if (!json_is_array(arr)) {
            json_decref(arr);
            wwx_http_resp_free(&resp);
            gate_err_set(e, 502, "", "upstream tree listing is not a JSON array");
            return -1;
        }
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it)
        {
            if (!json_is_string(json_object_get(it, "type")) ||
                strcmp(json_string_value(json_object_get(it, "type")), "file") != 0)
                continue;
            json_t *lfs = json_object_get(it, "lfs");
            if (add_file(r, cap, json_string_value(json_object_get(it, "path")),
                         json_integer_value(json_object_get(it, "size")),
                         json_string_value(json_object_get(it, "oid")),
                         json_string_value(json_object_get(lfs, "oid"))) != 0) {
                json_decref(arr);
                wwx_http_resp_free(&resp);
                gate_err_set(e, 502, "", "revision has more than %u files", GATE_MAX_FILES);
                return -1;
            }
        }
        json_decref(arr);
        if (resp.link_next)
            next = strdup(resp.link_next);
        wwx_http_resp_free(&resp);
    }
    if (next) {
        free(next);
        gate_err_set(e, 502, "", "upstream tree listing has too many pages");
        return -1;
    }
    return 0;
}

static int fetch_revision(gate *g, const char *token, const char *type, const char *repo,
                          const char *rev, gate_rev **out, gate_err *e)
{
    wwx_http_opts o;
    gup_http_opts(g, token, &o);
    char *erev = encode_all(rev);
    if (!erev) {
        gate_err_set(e, 503, "", "out of memory");
        return -1;
    }
    char url[2048];
    snprintf(url, sizeof url, "%s/api/%s/%s/revision/%s?blobs=true", g->o.upstream, plural(type),
             repo, erev);
    free(erev);
    wwx_http_resp resp;
    int rc = wwx_http_fetch(&o, "GET", url, NULL, GATE_MAX_INFO, NULL, NULL, &resp);
    atomic_fetch_add(&g->m.upstream_fetches, 1);
    if (rc != 0 || resp.status != 200) {
        atomic_fetch_add(&g->m.upstream_errors, 1);
        gup_map_error(rc, &resp, "model info", e);
        wwx_http_resp_free(&resp);
        return -1;
    }
    json_error_t je;
    json_t *info = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
    wwx_http_resp_free(&resp);
    const char *sha = json_string_value(json_object_get(info, "sha"));
    if (!json_is_object(info) || !is_hex(sha, 40)) {
        json_decref(info);
        gate_err_set(e, 502, "", "upstream model info for %s@%s has no commit sha", repo, rev);
        return -1;
    }
    gate_rev *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(info);
        gate_err_set(e, 503, "", "out of memory");
        return -1;
    }
    atomic_init(&r->refs, 1);
    snprintf(r->type, sizeof r->type, "%s", type);
    r->repo = strdup(repo);
    r->rev = strdup(rev);
    r->commit = strdup(sha);
    size_t cap = 0;
    json_t *sibs = json_object_get(info, "siblings");
    bool usable = json_is_array(sibs) && json_array_size(sibs) > 0 &&
                  json_array_size(sibs) <= GATE_MAX_FILES;
    size_t i;
    json_t *it;
    json_array_foreach(usable ? sibs : NULL, i, it)
    {
        /* Without blobs=true support there are no sizes: use the tree. */
        if (!json_is_integer(json_object_get(it, "size"))) {
            usable = false;
            break;
        }
    }
    int st = 0;
    if (usable) {
        json_array_foreach(sibs, i, it)
        {
            json_t *lfs = json_object_get(it, "lfs");
            if (add_file(r, &cap, json_string_value(json_object_get(it, "rfilename")),
                         json_integer_value(json_object_get(it, "size")),
                         json_string_value(json_object_get(it, "blobId")),
                         json_string_value(json_object_get(lfs, "sha256"))) != 0) {
                gate_err_set(e, 502, "", "revision has more than %u files", GATE_MAX_FILES);
                st = -1;
                break;
            }
        }
    } else {
        st = list_tree(g, &o, r, &cap, e);
    }
    json_decref(info);
    if (st != 0 || !r->repo || !r->rev || !r->commit) {
        if (st == 0)
            gate_err_set(e, 503, "", "out of memory");
        gate_rev_release(r);
        return -1;
    }
    qsort(r->files, r->nfiles, sizeof *r->files, cmp_file);
    *out = r;
    return 0;
}

static void cache_key(const char *token, const char *type, const char *repo, const char *rev,
                      char *out, size_t n)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    char hex[65] = "anonymous";
    if (token && token[0]) {
        EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL);
        gate_hex(md, 16, hex);
    }
    snprintf(out, n, "%s|%s|%s|%s", hex, type, repo, rev);
}

int gup_revision(gate *g, const char *token, const char *type, const char *repo,
                 const char *rev, gate_rev **out, gate_err *e)
{
    const char *tok = token && token[0] ? token : g->o.upstream_token;
    char key[600];
    cache_key(tok, type, repo, rev, key, sizeof key);
    int64_t now = gate_now_ms();
    pthread_mutex_lock(&g->cache_mu);
    if (!g->cache)
        g->cache = calloc(1, sizeof *g->cache);
    for (int i = 0; g->cache && i < CACHE_SLOTS; i++) {
        cache_slot *s = &g->cache->slots[i];
        if (s->rev && s->expires > now && strcmp(s->key, key) == 0) {
            atomic_fetch_add(&s->rev->refs, 1);
            *out = s->rev;
            pthread_mutex_unlock(&g->cache_mu);
            atomic_fetch_add(&g->m.cache_hits, 1);
            return 0;
        }
    }
    pthread_mutex_unlock(&g->cache_mu);
    atomic_fetch_add(&g->m.cache_misses, 1);
    gate_rev *r = NULL;
    if (fetch_revision(g, token, type, repo, rev, &r, e) != 0)
        return -1;
    pthread_mutex_lock(&g->cache_mu);
    if (g->cache) {
        /* Replace the expired or soonest-expiring slot. */
        int victim = 0;
        for (int i = 0; i < CACHE_SLOTS; i++) {
            if (!g->cache->slots[i].rev || g->cache->slots[i].expires <= now ||
                strcmp(g->cache->slots[i].key, key) == 0) {
                victim = i;
                break;
            }
            if (g->cache->slots[i].expires < g->cache->slots[victim].expires)
                victim = i;
        }
        cache_slot *s = &g->cache->slots[victim];
        gate_rev_release(s->rev);
        snprintf(s->key, sizeof s->key, "%s", key);
        atomic_fetch_add(&r->refs, 1);
        s->rev = r;
        s->expires = now + (is_hex(rev, 40) ? TTL_COMMIT_MS : TTL_NAMED_MS);
    }
    pthread_mutex_unlock(&g->cache_mu);
    *out = r;
    return 0;
}
