/* The gate's policy: one Rego file compiled once at start-up, evaluated per
 * revision with ww_policy_decide (Cloudsmith's data.<pkg>.match plus reasons).
 * A policy that fails to load leaves g->policy NULL: every download is then
 * refused with the error as the reason. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/wwx.h"
#include "serve/gate.h"

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    /* policies are small; refuse anything huge */
    return wwx_read_file(path, 8u << 20, len, err, errlen);
}

int gpol_load(gate *g)
{
    const char *path = g->o.policy_path;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(g->policy_name, sizeof g->policy_name, "%s", base);
    char *dot = strstr(g->policy_name, ".rego");
    if (dot)
        *dot = '\0';
    /* data.<pkg>.match -> pkg */
    const char *q = g->o.query;
    size_t ql = strlen(q);
    if (strncmp(q, "data.", 5) == 0 && ql > 11 && strcmp(q + ql - 6, ".match") == 0)
        snprintf(g->policy_pkg, sizeof g->policy_pkg, "%.*s", (int)(ql - 11), q + 5);
    else
        g->policy_pkg[0] = '\0';

    size_t len = 0;
    char *text = read_all(path, &len, g->policy_error, sizeof g->policy_error);
    if (!text)
        return -1;
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c) {
        EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        EVP_DigestUpdate(c, text, len);
        EVP_DigestUpdate(c, "\0", 1);
        EVP_DigestUpdate(c, q, ql);
        /* the threshold changes what scan_summary says */
        const char *th = ww_severity_name(g->o.threshold);
        EVP_DigestUpdate(c, th, strlen(th));
        EVP_DigestFinal_ex(c, md, &mdlen);
        EVP_MD_CTX_free(c);
    }
    gate_hex(md, 32, g->policy_hash);
    ww_policy *p = NULL;
    int rc = -1;
    if (ww_policy_new(&p) != WW_OK) {
        snprintf(g->policy_error, sizeof g->policy_error, "out of memory");
    } else if (ww_policy_add_module(p, path, text, len, g->policy_error,
                                    sizeof g->policy_error) != WW_OK ||
               ww_policy_compile(p, g->policy_error, sizeof g->policy_error) != WW_OK) {
        ww_policy_free(p);
        p = NULL;
    } else {
        rc = 0;
    }
    free(text);
    g->policy = p;
    /* error text goes into a header: keep one line */
    for (char *s = g->policy_error; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
    return rc;
}

int gpol_decide(gate *g, const char *input_json, bool *match, char **reasons, char *err,
                size_t errlen)
{
    *match = false;
    *reasons = NULL;
    ww_status st;
    if (g->policy_pkg[0]) {
        st = ww_policy_decide(g->policy, g->policy_pkg, input_json, strlen(input_json), match,
                              reasons, err, errlen);
    } else {
        char *out = NULL;
        st = ww_policy_eval(g->policy, g->o.query, input_json, strlen(input_json), &out, err,
                            errlen);
        if (st == WW_OK && out && strcmp(out, "true") == 0)
            *match = true;
        else if (st == WW_OK && out && strcmp(out, "false") != 0) {
            snprintf(err, errlen, "%s must be a boolean, got %.200s", g->o.query, out);
            st = WW_E_POLICY_EVAL;
        }
        ww_policy_string_free(out);
        if (st == WW_OK)
            *reasons = strdup("[]");
    }
    if (st != WW_OK) {
        if (!err[0])
            snprintf(err, errlen, "%s", ww_strerror(st));
        if (*reasons) {
            ww_policy_string_free(*reasons);
            *reasons = NULL;
        }
        return -1;
    }
    /* Hand back malloc'd memory the caller can free(). */
    if (*reasons && g->policy_pkg[0]) {
        char *copy = strdup(*reasons);
        ww_policy_string_free(*reasons);
        *reasons = copy;
    }
    return 0;
}
