/* Hugging Face Hub: repo specs, file listing (model info, else the paginated
 * tree endpoint), resolve URLs. Protocol: ../shared/docs/hf-protocol.md. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/remote.h"

#define MAX_LISTING (32u << 20)   /* bytes of one listing page */
#define MAX_FILES 200000u

void wwx_hub_repo_free(wwx_hub_repo *r)
{
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->files);
    free(r->id);
    free(r->revision);
    free(r->commit);
    memset(r, 0, sizeof *r);
}

static bool valid_id_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/';
}

int wwx_hub_parse(const char *spec, wwx_hub_repo *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    strcpy(r->type, "model");
    const char *p = spec;
    if (strncmp(p, "hf://", 5) == 0)
        p += 5;
    if (strncmp(p, "datasets/", 9) == 0) {
        strcpy(r->type, "dataset");
        p += 9;
    } else if (strncmp(p, "spaces/", 7) == 0) {
        strcpy(r->type, "space");
        p += 7;
    } else if (strncmp(p, "models/", 7) == 0) {
        p += 7;
    }
    const char *at = strchr(p, '@');
    size_t idlen = at ? (size_t)(at - p) : strlen(p);
    const char *slash = memchr(p, '/', idlen);
    if (idlen == 0 || !slash || slash == p || slash == p + idlen - 1 ||
        memchr(slash + 1, '/', idlen - (size_t)(slash + 1 - p))) {
        snprintf(err, errlen, "%s: expected hf://[datasets/]ORG/NAME[@REVISION]", spec);
        return -1;
    }
    for (size_t i = 0; i < idlen; i++)
        if (!valid_id_char(p[i])) {
            snprintf(err, errlen, "%s: invalid character in repository id", spec);
            return -1;
        }
    r->id = strndup(p, idlen);
    r->revision = strdup(at && at[1] ? at + 1 : "main");
    return r->id && r->revision ? 0 : -1;
}

/* Percent-encode; keep '/' when keep_slash (paths), encode it otherwise (revisions). */
static char *encode(const char *s, bool keep_slash)
{
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
            *o++ = (char)c;
        else
            o += sprintf(o, "%%%02X", c);
    }
    *o = '\0';
    return out;
}

static const char *url_prefix(const wwx_hub_repo *r)
{
    return strcmp(r->type, "dataset") == 0 ? "datasets/"
           : strcmp(r->type, "space") == 0 ? "spaces/"
                                           : "";
}

char *wwx_hub_file_url(const char *endpoint, const wwx_hub_repo *r, const char *path)
{
    char *rev = encode(r->commit ? r->commit : r->revision, false);
    char *p = encode(path, true);
    char *url = NULL;
    if (rev && p) {
        size_t n = strlen(endpoint) + strlen(r->id) + strlen(rev) + strlen(p) + 32;
        url = malloc(n);
        if (url)
            snprintf(url, n, "%s/%s%s/resolve/%s/%s", endpoint, url_prefix(r), r->id, rev, p);
    }
    free(rev);
    free(p);
    return url;
}

static int add_file(wwx_hub_repo *r, const char *path, uint64_t size)
{
    if (r->nfiles >= MAX_FILES)
        return -1;
    void *p = realloc(r->files, (r->nfiles + 1) * sizeof *r->files);
    if (!p)
        return -1;
    r->files = p;
    r->files[r->nfiles].path = strdup(path);
    r->files[r->nfiles].size = size;
    if (!r->files[r->nfiles].path)
        return -1;
    r->nfiles++;
    return 0;
}

static int fetch_json(const wwx_http_opts *o, const char *url, json_t **out, char **link_next,
                      char **commit, char *err, size_t errlen)
{
    wwx_http_resp resp;
    wwx_http_opts q = *o;
    q.progress = false;
    int rc = wwx_http_fetch(&q, "GET", url, NULL, MAX_LISTING, NULL, NULL, &resp);
    if (rc != 0 || resp.status != 200) {
        char d[400];
        wwx_http_describe(&resp, d, sizeof d);
        snprintf(err, errlen, "%s: %s", url, d);
        wwx_http_resp_free(&resp);
        return -1;
    }
    json_error_t je;
    *out = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
    if (!*out)
        snprintf(err, errlen, "%s: invalid JSON: %s", url, je.text);
    if (link_next) {
        *link_next = resp.link_next;
        resp.link_next = NULL;
    }
    if (commit && resp.repo_commit && !*commit) {
        *commit = resp.repo_commit;
        resp.repo_commit = NULL;
    }
    wwx_http_resp_free(&resp);
    return *out ? 0 : -1;
}

static int list_tree(const wwx_http_opts *o, const char *endpoint, wwx_hub_repo *r,
                     const char *rev, char *err, size_t errlen)
{
    size_t n = strlen(endpoint) + strlen(r->id) + strlen(rev) + 64;
    char *url = malloc(n);
    if (!url)
        return -1;
    snprintf(url, n, "%s/api/%ss/%s/tree/%s?recursive=true", endpoint, r->type, r->id, rev);
    for (int page = 0; url && page < 10000; page++) {
        json_t *doc = NULL;
        char *next = NULL;
        if (fetch_json(o, url, &doc, &next, NULL, err, errlen) != 0) {
            free(url);
            return -1;
        }
        free(url);
        url = next;
        if (!json_is_array(doc)) {
            snprintf(err, errlen, "tree listing of %s is not a JSON array", r->id);
            json_decref(doc);
            free(url);
            return -1;
        }
        size_t i;
        json_t *e;
        json_array_foreach(doc, i, e)
        {
            const char *type = json_string_value(json_object_get(e, "type"));
            const char *path = json_string_value(json_object_get(e, "path"));
            if (!type || !path || strcmp(type, "file") != 0)
                continue;
            json_int_t size = json_integer_value(json_object_get(e, "size"));
            if (add_file(r, path, (uint64_t)(size > 0 ? size : 0)) != 0) {
                json_decref(doc);
                free(url);
                snprintf(err, errlen, "%s: too many files", r->id);
                return -1;
            }
        }
        json_decref(doc);
    }
    free(url);
    return 0;
}

int wwx_hub_list(const wwx_http_opts *o, const char *endpoint, wwx_hub_repo *r, char *err,
                 size_t errlen)
{
    char *rev = encode(r->revision, false);
    if (!rev)
        return -1;
    size_t n = strlen(endpoint) + strlen(r->id) + strlen(rev) + 64;
    char *url = malloc(n);
    if (!url) {
        free(rev);
        return -1;
    }
    snprintf(url, n, "%s/api/%ss/%s/revision/%s", endpoint, r->type, r->id, rev);
    json_t *info = NULL;
    int rc = fetch_json(o, url, &info, NULL, &r->commit, err, errlen);
    free(url);
    if (rc != 0) {
        free(rev);
        return -1;
    }
    const char *sha = json_string_value(json_object_get(info, "sha"));
    if (sha) {
        free(r->commit);
        r->commit = strdup(sha);
    }
    json_t *sib = json_object_get(info, "siblings");
    size_t i;
    json_t *e;
    if (json_is_array(sib) && json_array_size(sib) > 0 && json_array_size(sib) <= 50000) {
        json_array_foreach(sib, i, e)
        {
            const char *path = json_string_value(json_object_get(e, "rfilename"));
            json_int_t size = json_integer_value(json_object_get(e, "size"));
            if (path && add_file(r, path, (uint64_t)(size > 0 ? size : 0)) != 0) {
                rc = -1;
                snprintf(err, errlen, "%s: too many files", r->id);
                break;
            }
        }
    } else {
        /* No usable siblings: the paginated tree, at the resolved commit. */
        char *crev = r->commit ? encode(r->commit, false) : NULL;
        rc = list_tree(o, endpoint, r, crev ? crev : rev, err, errlen);
        free(crev);
    }
    json_decref(info);
    free(rev);
    return rc;
}
