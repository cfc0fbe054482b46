/* `scan --policy` and `policy input`: packages, input documents, decisions. */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/scan_policy.h"
#include "common/policy_input.h"

typedef struct pkg {
    char *key;
    wwx_pkg p;
    char *name_buf, *version_buf;
} pkg;

static char *slurp_path(const char *path, size_t *len)
{
    char err[512];
    return wwx_read_file(path, 64u << 20, len, err, sizeof err);
}

/* Path of a file inside its package. */
static const char *inner_path(const wwx_input *it, const ww_scan_opts *o)
{
    const char *s;
    if (it->kind == WWX_IN_URL && (s = strstr(it->path, "/resolve/"))) {
        s = strchr(s + 9, '/'); /* skip the revision */
        if (s)
            return s + 1;
    }
    if (it->from_cache && (s = strstr(it->display, "/snapshots/"))) {
        s = strchr(s + 11, '/');
        if (s)
            return s + 1;
    }
    for (int i = 0; i < o->npaths; i++) {
        size_t n = strlen(o->paths[i]);
        if (n > 0 && strncmp(it->display, o->paths[i], n) == 0 && it->display[n] == '/')
            return it->display + n + 1;
        if (n > 0 && o->paths[i][n - 1] == '/' && strncmp(it->display, o->paths[i], n) == 0)
            return it->display + n;
    }
    s = strrchr(it->display, '/');
    return s ? s + 1 : it->display;
}

static pkg *find_or_add(pkg **pkgs, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*pkgs)[i].key, key) == 0)
            return &(*pkgs)[i];
    pkg *p = realloc(*pkgs, (*n + 1) * sizeof **pkgs);
    if (!p)
        return NULL;
    *pkgs = p;
    memset(&p[*n], 0, sizeof p[*n]);
    p[*n].key = strdup(key);
    return &p[(*n)++];
}

static bool truthy(const char *json)
{
    if (!json)
        return false; /* undefined */
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    bool t = false;
    if (json_is_true(v))
        t = true;
    else if (json_is_array(v))
        t = json_array_size(v) > 0;
    else if (json_is_object(v))
        t = json_object_size(v) > 0;
    json_decref(v);
    return t;
}

static ww_policy *load_policy(const ww_scan_opts *o, char *err, size_t errlen)
{
    ww_policy *p = NULL;
    if (ww_policy_new(&p) != WW_OK) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < o->npolicies; i++) {
        size_t len = 0;
        char *text = slurp_path(o->policies[i], &len);
        if (!text) {
            snprintf(err, errlen, "%s: cannot read policy", o->policies[i]);
            ww_policy_free(p);
            return NULL;
        }
        ww_status st = ww_policy_add_module(p, o->policies[i], text, len, err, errlen);
        free(text);
        if (st != WW_OK) {
            ww_policy_free(p);
            return NULL;
        }
    }
    for (size_t i = 0; i < o->ndata; i++) {
        size_t len = 0;
        char *text = slurp_path(o->data[i], &len);
        if (!text) {
            snprintf(err, errlen, "%s: cannot read data file", o->data[i]);
            ww_policy_free(p);
            return NULL;
        }
        ww_status st = ww_policy_add_data_json(p, text, len, err, errlen);
        free(text);
        if (st != WW_OK) {
            ww_policy_free(p);
            return NULL;
        }
    }
    if (ww_policy_compile(p, err, errlen) != WW_OK) {
        ww_policy_free(p);
        return NULL;
    }
    return p;
}

/* "data.<pkg>.match" -> pkg, for the reasons gathered by ww_policy_decide. */
static bool decide_package(const char *query, char *pkgname, size_t n)
{
    if (strncmp(query, "data.", 5) != 0)
        return false;
    const char *dot = strrchr(query, '.');
    if (!dot || strcmp(dot, ".match") != 0 || dot <= query + 5)
        return false;
    size_t len = (size_t)(dot - (query + 5));
    if (len + 1 > n)
        return false;
    memcpy(pkgname, query + 5, len);
    pkgname[len] = '\0';
    return true;
}

int ww_scan_policy_run(const ww_scan_opts *o, const wwx_inputs *in, ww_result *const *results,
                       json_t *const *file_json, bool input_only, json_t **report, FILE *out)
{
    pkg *pkgs = NULL;
    size_t npkgs = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (!results[i])
            continue;
        const wwx_input *it = &in->items[i];
        char key[1024];
        const char *ver = it->commit ? it->commit : it->revision;
        if (it->repo)
            snprintf(key, sizeof key, "%s@%s", it->repo, ver ? ver : "");
        else
            snprintf(key, sizeof key, "local");
        pkg *p = find_or_add(&pkgs, &npkgs, key);
        if (!p)
            break;
        if (!p->p.name) {
            p->p.format = "huggingface";
            if (it->repo) {
                p->name_buf = strdup(it->repo);
                p->version_buf = strdup(ver ? ver : "unknown");
                p->p.source = it->from_cache ? "hf-cache" : "hub";
            } else {
                p->name_buf = strdup(o->npaths > 0 ? o->paths[0] : "local");
                p->version_buf = strdup("local");
                p->p.source = "local";
            }
            p->p.name = p->name_buf;
            p->p.version = p->version_buf;
        }
        wwx_pkg_file *nf = realloc(p->p.files, (p->p.nfiles + 1) * sizeof *nf);
        if (!nf)
            break;
        p->p.files = nf;
        nf[p->p.nfiles].path = inner_path(it, o);
        nf[p->p.nfiles].result = results[i];
        nf[p->p.nfiles].file_json = file_json[i];
        p->p.nfiles++;
    }

    int rc = WW_EXIT_CLEAN;
    char err[2048] = "";
    ww_policy *pol = NULL;
    if (!input_only) {
        pol = load_policy(o, err, sizeof err);
        if (!pol) {
            fprintf(stderr, "weightwall scan: policy: %s\n", err);
            rc = WW_EXIT_ERROR;
        }
    }
    const char *query = o->query ? o->query : "data.cloudsmith.match";
    char pkgname[256];
    bool use_decide = decide_package(query, pkgname, sizeof pkgname);
    json_t *decisions = json_array();
    for (size_t k = 0; k < npkgs; k++) {
        json_t *doc = wwx_policy_input(&pkgs[k].p, o->threshold);
        char *input = json_dumps(doc, JSON_COMPACT);
        if (input_only) {
            json_dumpf(doc, out, JSON_INDENT(2));
            fputc('\n', out);
        } else if (pol && input) {
            bool match = false;
            char *reasons = NULL, *val = NULL;
            ww_status st;
            if (use_decide)
                st = ww_policy_decide(pol, pkgname, input, strlen(input), &match, &reasons, err,
                                      sizeof err);
            else {
                st = ww_policy_eval(pol, query, input, strlen(input), &val, err, sizeof err);
                match = truthy(val);
            }
            json_t *d = json_pack("{s:s, s:s, s:b}", "package", pkgs[k].p.name, "version",
                                  pkgs[k].p.version, "match", match);
            json_t *rj = reasons ? json_loads(reasons, 0, NULL) : NULL;
            json_object_set_new(d, "reasons", rj ? rj : json_array());
            if (st != WW_OK) {
                /* A policy that cannot be evaluated refuses: never a silent allow. */
                json_object_set_new(d, "error", json_string(err));
                json_object_set(d, "match", json_true());
                rc = WW_EXIT_ERROR;
            } else if (match && rc == WW_EXIT_CLEAN) {
                rc = WW_EXIT_UNSAFE;
            }
            json_array_append_new(decisions, d);
            ww_policy_string_free(reasons);
            ww_policy_string_free(val);
        }
        free(input);
        json_decref(doc);
    }
    if (report)
        *report = json_pack("{s:s, s:o}", "query", query, "decisions", decisions);
    else
        json_decref(decisions);
    ww_policy_free(pol);
    for (size_t k = 0; k < npkgs; k++) {
        free(pkgs[k].key);
        free(pkgs[k].name_buf);
        free(pkgs[k].version_buf);
        free(pkgs[k].p.files);
    }
    free(pkgs);
    return rc;
}
