/* Scan before serve. A package is a repo revision (repo@commit, as in
 * Cloudsmith): every file of the revision is scanned, the policy input is
 * built from the results, and the policy decides for the whole revision.
 *
 * Small files are downloaded whole (verified, stored) and scanned from the
 * store. Large files are first scanned with Range reads of the upstream, so a
 * malicious multi-GB checkpoint is refused in seconds; their full download is
 * scanned again from the store before a byte is served, and when that local
 * scan disagrees with the ranged one the decision is recomputed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/policy_input.h"
#include "common/remote.h"
#include "common/wwx.h"
#include "common/sandbox.h"
#include "serve/gate.h"

typedef struct job_arg {
    char *token;
    gate_rev *rev;
    size_t file; /* index into rev->files (blob and ranged-scan jobs) */
} job_arg;

static void job_arg_free(void *p)
{
    job_arg *a = p;
    if (!a)
        return;
    free(a->token);
    gate_rev_release(a->rev);
    free(a);
}

static job_arg *job_arg_new(const char *token, gate_rev *r, size_t file)
{
    job_arg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->token = token ? strdup(token) : NULL;
    atomic_fetch_add(&r->refs, 1);
    a->rev = r;
    a->file = file;
    return a;
}

static void repo_key(const gate_rev *r, char *out, size_t n)
{
    if (strcmp(r->type, "model") == 0)
        snprintf(out, n, "%s", r->repo);
    else
        snprintf(out, n, "%ss/%s", r->type, r->repo);
}

void gate_decision_clear(gate_decision *d)
{
    free(d->message);
    free(d->reasons);
    free(d->files);
    memset(d, 0, sizeof *d);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- scan records ---- */

typedef struct scan_row {
    char *source, *verdict, *sev, *result;
} scan_row;

static bool scan_row_cb(void *ctx, int n, const char *const *names, const char *const *v)
{
    (void)names;
    scan_row *s = ctx;
    if (n >= 4) {
        s->source = v[0] ? strdup(v[0]) : NULL;
        s->verdict = v[1] ? strdup(v[1]) : NULL;
        s->sev = v[2] ? strdup(v[2]) : NULL;
        s->result = v[3] ? strdup(v[3]) : NULL;
    }
    return false;
}

static void scan_row_free(scan_row *s)
{
    free(s->source);
    free(s->verdict);
    free(s->sev);
    free(s->result);
    memset(s, 0, sizeof *s);
}

static bool scan_get(gate *g, const char *etag, scan_row *out, bool with_result)
{
    memset(out, 0, sizeof *out);
    const char *p[] = {etag};
    char err[512];
    gdb_exec(g->db,
             with_result ? "SELECT source, verdict, max_severity, result FROM scans WHERE etag = $1"
                         : "SELECT source, verdict, max_severity, '' FROM scans WHERE etag = $1",
             1, p, scan_row_cb, out, err, sizeof err);
    return out->source != NULL;
}

static int unhex(const char *s, unsigned char **out, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2)
        return -1;
    unsigned char *b = malloc(n / 2 + 1);
    if (!b)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else {
                free(b);
                return -1;
            }
        }
        b[i] = (unsigned char)v;
    }
    *out = b;
    *len = n / 2;
    return 0;
}

static int scan_put(gate *g, const char *etag, const gate_file *f, const char *source,
                    const ww_result *r)
{
    void *buf = NULL;
    size_t len = 0;
    if (ww_result_serialize(r, &buf, &len) != WW_OK)
        return -1;
    char *hex = malloc(len * 2 + 1);
    json_t *rep = wwx_result_json(r, WW_SEV_LOW);
    char *report = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
    json_decref(rep);
    int rc = -1;
    if (hex) {
        gate_hex(buf, len, hex);
        char size[32], el[32], now[32];
        snprintf(size, sizeof size, "%llu", (unsigned long long)f->size);
        snprintf(el, sizeof el, "%llu", (unsigned long long)(ww_result_elapsed_ns(r) / 1000000));
        snprintf(now, sizeof now, "%lld", (long long)gate_now_ms());
        const char *p[] = {etag, f->path, size, source, ww_verdict_name(ww_result_verdict(r)),
                           ww_severity_name(ww_result_max_severity(r)), hex, report, el, now};
        char err[512];
        /* A scan of the stored blob replaces a ranged one, never the reverse. */
        rc = gdb_exec(g->db,
                      "INSERT INTO scans(etag, path, size, source, verdict, max_severity, result,"
                      " report, elapsed_ms, scanned_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                      " $10) ON CONFLICT(etag) DO UPDATE SET source = excluded.source,"
                      " verdict = excluded.verdict, max_severity = excluded.max_severity,"
                      " result = excluded.result, report = excluded.report,"
                      " elapsed_ms = excluded.elapsed_ms, scanned_at = excluded.scanned_at"
                      " WHERE scans.source <> 'local' OR excluded.source = 'local'",
                      10, p, NULL, NULL, err, sizeof err);
        if (rc != 0)
            gate_log_json(g, json_pack("{s:s, s:s, s:s}", "level", "error", "msg",
                                       "cannot record scan", "detail", err));
    }
    free(hex);
    free(report);
    free(buf);
    return rc;
}

static ww_result *scan_load(gate *g, const char *etag)
{
    scan_row s;
    if (!scan_get(g, etag, &s, true))
        return NULL;
    ww_result *r = NULL;
    unsigned char *b = NULL;
    size_t n = 0;
    if (s.result && unhex(s.result, &b, &n) == 0) {
        if (ww_result_deserialize(b, n, &r) != WW_OK)
            r = NULL;
        free(b);
    }
    scan_row_free(&s);
    return r;
}

/* ---- jobs ---- */

static void log_scan(gate *g, const gate_rev *r, const gate_file *f, const char *source,
                     const ww_result *res)
{
    gate_log_json(g, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "event", "scan",
                               "repo", r->repo, "revision", r->commit, "path", f->path, "source",
                               source, "verdict", ww_verdict_name(ww_result_verdict(res)),
                               "max_severity", ww_severity_name(ww_result_max_severity(res)),
                               "elapsed_ms",
                               (json_int_t)(ww_result_elapsed_ns(res) / 1000000)));
}

/* Every scan parses in the sandbox (a confined child per file), stored blobs
 * and ranged reads of the upstream alike, so a parser bug exploited by a
 * hostile model cannot take the gate. The engine's settings travel along. */
static ww_status open_sandbox(gate *g, wwx_sandbox **sb)
{
    wwx_sandbox_args sargs;
    wwx_sandbox_args_init(&sargs, ww_engine_limits(g->engine), ww_engine_threshold(g->engine),
                          NULL, 0);
    wwx_sandbox_opts so = {.engine_args = sargs.argv};
    return wwx_sandbox_open(&so, sb);
}

/* Download, verify, store, scan from the store. */
static void blob_job(gate *g, gate_job *j, void *p)
{
    job_arg *a = p;
    const gate_file *f = &a->rev->files[a->file];
    const char *etag = gate_file_etag(f);
    gate_err e = {0};
    if (gstore_fetch(g, a->token, a->rev, f, &e) != 0) {
        gate_audit(g, "download-failed", a->rev->repo, a->rev->commit, f->path, e.msg);
        gjob_finish(g, j, &e);
        return;
    }
    scan_row s;
    bool have_local = scan_get(g, etag, &s, false) && strcmp(s.source, "local") == 0;
    scan_row_free(&s);
    if (!have_local) {
        char path[4096];
        gstore_blob_path(g, etag, path, sizeof path);
        ww_result *res = NULL;
        int64_t t0 = mono_ns();
        wwx_sandbox *sb = NULL;
        ww_status st = open_sandbox(g, &sb);
        if (st == WW_OK)
            st = wwx_sandbox_scan(sb, g->engine, path, f->path, &res);
        wwx_sandbox_close(sb);
        if (st != WW_OK || !res) {
            gate_err_set(&e, 503, "", "scan of %s failed: %s", f->path, ww_strerror(st));
            gjob_finish(g, j, &e);
            return;
        }
        gmet_scan(g, ww_result_verdict(res), (uint64_t)(mono_ns() - t0));
        log_scan(g, a->rev, f, "local", res);
        if (scan_put(g, etag, f, "local", res) != 0)
            gate_err_set(&e, 503, "", "cannot record the scan of %s", f->path);
        ww_result_free(res);
    }
    gjob_finish(g, j, &e);
}

/* Scan a large file with Range reads of the upstream (nothing is stored). */
static void rscan_job(gate *g, gate_job *j, void *p)
{
    job_arg *a = p;
    const gate_file *f = &a->rev->files[a->file];
    gate_err e = {0};
    scan_row s;
    if (scan_get(g, gate_file_etag(f), &s, false)) {
        scan_row_free(&s);
        gjob_finish(g, j, NULL);
        return;
    }
    char *url = gup_file_url(g, a->rev, f->path);
    wwx_http_opts o;
    gup_http_opts(g, a->token, &o);
    ww_result *res = NULL;
    wwx_remote_scan info;
    int64_t t0 = mono_ns();
    wwx_sandbox *sb = NULL;
    ww_status st = WW_E_NOMEM;
    memset(&info, 0, sizeof info);
    if (url && (st = open_sandbox(g, &sb)) == WW_OK)
        st = wwx_remote_scan_url(g->engine, sb, &o, url, f->path, &res, &info);
    wwx_sandbox_close(sb);
    free(info.commit);
    atomic_fetch_add(&g->m.upstream_bytes, info.fetched);
    free(url);
    if (st == WW_OK && res && ww_result_size(res) != f->size)
        ww_result_annotate(res, WW_SEV_HIGH, "integrity",
                           "upstream size differs from the size in the file listing");
    if (st != WW_OK || !res) {
        gate_err_set(&e, 503, "", "ranged scan of %s failed: %s", f->path, ww_strerror(st));
        gjob_finish(g, j, &e);
        return;
    }
    if (ww_result_status(res) == WW_E_NET) {
        /* The upstream failed, not the file: report it, record nothing. */
        gate_err_set(&e, 502, "", "upstream failed while scanning %s: %s", f->path,
                     ww_result_error(res) ? ww_result_error(res) : "network error");
        ww_result_free(res);
        gjob_finish(g, j, &e);
        return;
    }
    gmet_scan(g, ww_result_verdict(res), (uint64_t)(mono_ns() - t0));
    log_scan(g, a->rev, f, "ranged", res);
    if (scan_put(g, gate_file_etag(f), f, "ranged", res) != 0)
        gate_err_set(&e, 503, "", "cannot record the scan of %s", f->path);
    ww_result_free(res);
    gjob_finish(g, j, &e);
}

static int run_and_wait(gate *g, const char *prefix, gate_job_fn fn, const char *token,
                        gate_rev *r, size_t idx, int wait_ms, gate_err *e)
{
    char key[256];
    snprintf(key, sizeof key, "%s:%s", prefix, gate_file_etag(&r->files[idx]));
    job_arg *a = job_arg_new(token, r, idx);
    if (!a) {
        gate_err_set(e, 503, "", "out of memory");
        return -1;
    }
    gate_job *j = gjob_run(g, key, fn, a, job_arg_free, e);
    if (!j)
        return -1;
    int rc = 0;
    if (!gjob_wait(g, j, wait_ms)) {
        gate_err_set(e, 503, "", "scan in progress for %s; retry shortly", r->files[idx].path);
        rc = -1;
    } else {
        rc = gjob_result(g, j, e);
    }
    gjob_release(g, j);
    return rc;
}

/* ---- the decision ---- */

static bool decision_cb(void *ctx, int n, const char *const *names, const char *const *v)
{
    (void)names;
    gate_decision *d = ctx;
    if (n >= 4) {
        snprintf(d->state, sizeof d->state, "%s", v[0] ? v[0] : "");
        d->message = v[1] ? strdup(v[1]) : NULL;
        d->reasons = v[2] ? strdup(v[2]) : NULL;
        d->files = v[3] ? strdup(v[3]) : NULL;
    }
    return false;
}

static bool decision_get(gate *g, const gate_rev *r, gate_decision *d)
{
    memset(d, 0, sizeof *d);
    char rk[600];
    repo_key(r, rk, sizeof rk);
    const char *p[] = {rk, r->commit, g->policy_hash};
    char err[512];
    gdb_exec(g->db,
             "SELECT state, message, reasons, files FROM decisions"
             " WHERE repo = $1 AND revision = $2 AND policy = $3",
             3, p, decision_cb, d, err, sizeof err);
    if (!d->state[0])
        return false;
    const char *p2[] = {rk, r->commit};
    char *rel = gdb_query_one(g->db, "SELECT reason FROM releases WHERE repo = $1 AND revision = $2",
                              2, p2);
    if (rel) {
        d->released = true;
        free(rel);
    }
    return true;
}

static void append_finding_text(char *buf, size_t n, const char *path, const ww_result *r)
{
    size_t used = strlen(buf);
    if (used + 8 >= n)
        return;
    const ww_finding *best = NULL;
    for (size_t i = 0; i < ww_result_finding_count(r); i++) {
        const ww_finding *x = ww_result_finding(r, i);
        if (!best || x->severity > best->severity)
            best = x;
    }
    const ww_finding *err = ww_result_error_count(r) ? ww_result_error_at(r, 0) : NULL;
    if (best && best->module && best->name)
        snprintf(buf + used, n - used, "%s%s: %s %s %s.%s", used ? "; " : "", path,
                 ww_severity_name(best->severity), best->kind ? best->kind : "finding",
                 best->module, best->name);
    else if (best)
        snprintf(buf + used, n - used, "%s%s: %s %s", used ? "; " : "", path,
                 ww_severity_name(best->severity), best->message ? best->message : "finding");
    else if (err)
        snprintf(buf + used, n - used, "%s%s: could not be fully scanned (%s)", used ? "; " : "",
                 path, err->message ? err->message : "error");
    else
        snprintf(buf + used, n - used, "%s%s: %s", used ? "; " : "", path,
                 ww_verdict_name(ww_result_verdict(r)));
}

static void decide_job(gate *g, gate_job *j, void *p)
{
    job_arg *a = p;
    gate_rev *r = a->rev;
    gate_err e = {0};
    ww_result **res = calloc(r->nfiles ? r->nfiles : 1, sizeof *res);
    json_t **fj = calloc(r->nfiles ? r->nfiles : 1, sizeof *fj);
    wwx_pkg_file *pf = calloc(r->nfiles ? r->nfiles : 1, sizeof *pf);
    json_t *files = json_object(), *findings = json_array();
    char *input = NULL, *reasons = NULL;
    if (!res || !fj || !pf) {
        gate_err_set(&e, 503, "", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        const gate_file *f = &r->files[i];
        const char *etag = gate_file_etag(f);
        if (etag)
            res[i] = scan_load(g, etag);
        if (!res[i] && etag) {
            gate_err fe = {0};
            bool small = f->size <= g->o.small_file;
            /* The decision waits for its scans however long they take (each
             * is bounded by the upstream timeouts). */
            if (run_and_wait(g, small ? "blob" : "rscan", small ? blob_job : rscan_job,
                             a->token, r, i, -1, &fe) == 0)
                res[i] = scan_load(g, etag);
            if (!res[i]) {
                /* No verdict for a file: no decision either. Upstream trouble
                 * (5xx, timeouts, truncated or mismatched bodies) and refusals
                 * (401/403) are reported to the client and never recorded, so
                 * the next request tries again. */
                if (fe.status == 0)
                    gate_err_set(&fe, 502, "", "no scan result for %s", f->path);
                if (fe.status == 404)
                    gate_err_set(&fe, 502, "", "upstream lists %s but cannot serve it", f->path);
                e = fe;
                goto done;
            }
        } else if (!res[i]) {
            if (ww_result_new_failed(f->path, WW_E_NET, "upstream gave no content id", &res[i]) !=
                WW_OK) {
                gate_err_set(&e, 503, "", "out of memory");
                goto done;
            }
        }
        fj[i] = wwx_result_json(res[i], WW_SEV_LOW);
        pf[i].path = f->path;
        pf[i].result = res[i];
        pf[i].file_json = fj[i];
        char v[64];
        snprintf(v, sizeof v, "%s/%s", ww_verdict_name(ww_result_verdict(res[i])),
                 ww_severity_name(ww_result_max_severity(res[i])));
        if (etag)
            json_object_set_new(files, etag, json_string(v));
        if (ww_result_verdict(res[i]) != WW_VERDICT_CLEAN && json_array_size(findings) < 50) {
            json_t *o = json_deep_copy(fj[i]);
            json_object_set_new(o, "path", json_string(f->path));
            json_array_append_new(findings, o);
        }
    }
    char rk[600];
    repo_key(r, rk, sizeof rk);
    wwx_pkg pkg = {.format = "huggingface", .name = rk, .version = r->commit, .source = "hub",
                   .files = pf, .nfiles = r->nfiles};
    json_t *in = wwx_policy_input(&pkg, g->o.threshold);
    input = in ? json_dumps(in, JSON_COMPACT) : NULL;
    json_decref(in);
    if (!input) {
        gate_err_set(&e, 503, "", "out of memory");
        goto done;
    }
    bool match = false;
    char perr[GATE_MSG_MAX];
    char msg[GATE_MSG_MAX];
    const char *state;
    int pst = gpol_decide(g, input, &match, &reasons, perr, sizeof perr);
    if (pst != 0) {
        /* A policy that cannot be evaluated refuses. */
        state = "quarantine";
        snprintf(msg, sizeof msg, "%.300s@%.7s refused: policy '%.100s' failed to evaluate: %.500s", rk,
                 r->commit, g->policy_name, perr);
        free(reasons);
        json_t *ra = json_pack("[s]", perr);
        reasons = json_dumps(ra, JSON_COMPACT);
        json_decref(ra);
    } else if (match) {
        state = "quarantine";
        char why[GATE_MSG_MAX] = "";
        json_t *ra = reasons ? json_loads(reasons, 0, NULL) : NULL;
        size_t i;
        json_t *it;
        json_array_foreach(ra, i, it)
        {
            size_t u = strlen(why);
            if (json_is_string(it) && u + 4 < sizeof why)
                snprintf(why + u, sizeof why - u, "%s%s", u ? "; " : "", json_string_value(it));
        }
        json_decref(ra);
        if (!why[0]) /* the policy gave no reason: name what the scan found */
            for (size_t k = 0; k < r->nfiles; k++)
                if (ww_result_verdict(res[k]) != WW_VERDICT_CLEAN)
                    append_finding_text(why, sizeof why, r->files[k].path, res[k]);
        snprintf(msg, sizeof msg, "%.300s@%.7s was quarantined by policy '%.100s': %.560s", rk, r->commit,
                 g->policy_name, why[0] ? why : "policy matched");
    } else {
        state = "allow";
        snprintf(msg, sizeof msg, "%.300s@%.7s allowed by policy '%.100s'", rk, r->commit,
                 g->policy_name);
    }
    gate_err tmp;
    gate_err_set(&tmp, 0, "", "%s", msg); /* sanitised to one header line */
    char *fs = json_dumps(files, JSON_COMPACT | JSON_SORT_KEYS);
    char *fd = json_dumps(findings, JSON_COMPACT);
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)gate_now_ms());
    const char *params[] = {rk, r->commit, g->policy_hash, state, tmp.msg,
                            reasons ? reasons : "[]", fs, fd, input, g->o.node, now};
    char err[512];
    /* Another node may have decided first: keep the first decision. */
    int rc = gdb_exec(g->db,
                      "INSERT INTO decisions(repo, revision, policy, state, message, reasons, files,"
                      " findings, input, node, decided_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8,"
                      " $9, $10, $11) ON CONFLICT(repo, revision, policy) DO NOTHING",
                      11, params, NULL, NULL, err, sizeof err);
    free(fs);
    free(fd);
    if (rc != 0) {
        gate_err_set(&e, 503, "", "cannot record the decision: %s", err);
        goto done;
    }
    atomic_fetch_add(&g->m.decisions, 1);
    if (strcmp(state, "quarantine") == 0)
        atomic_fetch_add(&g->m.quarantines, 1);
    gate_audit(g, strcmp(state, "quarantine") == 0 ? "quarantine" : "allow", rk, r->commit, NULL,
               tmp.msg);
    gate_log_json(g, json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "decision", "repo", rk,
                               "revision", r->commit, "state", state, "message", tmp.msg));
done:
    for (size_t i = 0; res && i < r->nfiles; i++) {
        ww_result_free(res[i]);
        json_decref(fj ? fj[i] : NULL);
    }
    free(res);
    free(fj);
    free(pf);
    json_decref(files);
    json_decref(findings);
    free(input);
    free(reasons);
    gjob_finish(g, j, &e);
}

int gate_decide(gate *g, const char *token, gate_rev *r, int wait_ms, gate_decision *d,
                gate_err *e)
{
    if (!g->policy) {
        gate_err_set(e, 403, "GatedRepo", "refused: policy '%s' failed to load: %s",
                     g->policy_name, g->policy_error);
        return -1;
    }
    if (decision_get(g, r, d))
        return 0;
    gate_decision_clear(d);
    char rk[600], key[800];
    repo_key(r, rk, sizeof rk);
    snprintf(key, sizeof key, "rev:%s@%s", rk, r->commit);
    job_arg *a = job_arg_new(token, r, 0);
    if (!a) {
        gate_err_set(e, 503, "", "out of memory");
        return -1;
    }
    gate_job *j = gjob_run(g, key, decide_job, a, job_arg_free, e);
    if (!j)
        return -1;
    int rc = -1;
    if (!gjob_wait(g, j, wait_ms))
        gate_err_set(e, 503, "", "scan in progress for %s@%.7s; retry shortly", rk, r->commit);
    else if (gjob_result(g, j, e) == 0) {
        if (decision_get(g, r, d))
            rc = 0;
        else
            gate_err_set(e, 503, "", "decision for %s@%.7s not recorded", rk, r->commit);
    }
    gjob_release(g, j);
    return rc;
}

int gate_blob_ready(gate *g, const char *token, gate_rev *r, const gate_file *f, int wait_ms,
                    gate_err *e)
{
    const char *etag = gate_file_etag(f);
    if (!etag) {
        gate_err_set(e, 502, "", "%s: upstream gave no content id", f->path);
        return -1;
    }
    scan_row s;
    bool local = scan_get(g, etag, &s, false) && strcmp(s.source, "local") == 0;
    scan_row_free(&s);
    if (local && gstore_has(g, etag, f->size))
        return 0;
    return run_and_wait(g, "blob", blob_job, token, r, (size_t)(f - r->files), wait_ms, e);
}

void gate_prefetch(gate *g, const char *token, gate_rev *r, const gate_file *f)
{
    gate_err e;
    if (g->policy) {
        gate_decision d;
        if (!decision_get(g, r, &d)) {
            char rk[600], key[800];
            repo_key(r, rk, sizeof rk);
            snprintf(key, sizeof key, "rev:%s@%s", rk, r->commit);
            job_arg *a = job_arg_new(token, r, 0);
            gate_job *j = a ? gjob_run(g, key, decide_job, a, job_arg_free, &e) : NULL;
            if (j)
                gjob_release(g, j);
        }
        bool quarantined = strcmp(d.state, "quarantine") == 0 && !d.released;
        gate_decision_clear(&d);
        if (quarantined)
            return;
    }
    const char *etag = gate_file_etag(f);
    if (!etag || gstore_has(g, etag, f->size))
        return;
    char key[256];
    snprintf(key, sizeof key, "blob:%s", etag);
    job_arg *a = job_arg_new(token, r, (size_t)(f - r->files));
    gate_job *j = a ? gjob_run(g, key, blob_job, a, job_arg_free, &e) : NULL;
    if (j)
        gjob_release(g, j);
}

bool gate_decision_covers(gate *g, const gate_decision *d, const gate_file *f)
{
    const char *etag = gate_file_etag(f);
    json_t *files = d->files ? json_loads(d->files, 0, NULL) : NULL;
    const char *seen = json_string_value(json_object_get(files, etag ? etag : ""));
    scan_row s;
    bool ok = false;
    if (seen && etag && scan_get(g, etag, &s, false)) {
        char now[64];
        snprintf(now, sizeof now, "%s/%s", s.verdict ? s.verdict : "", s.sev ? s.sev : "");
        ok = strcmp(now, seen) == 0;
        scan_row_free(&s);
    }
    json_decref(files);
    return ok;
}

void gate_decision_forget(gate *g, const gate_rev *r)
{
    char rk[600];
    repo_key(r, rk, sizeof rk);
    const char *p[] = {rk, r->commit, g->policy_hash};
    char err[512];
    gdb_exec(g->db, "DELETE FROM decisions WHERE repo = $1 AND revision = $2 AND policy = $3", 3,
             p, NULL, NULL, err, sizeof err);
    gate_audit(g, "redecide", rk, r->commit, NULL,
               "the scan of a stored blob differs from the scan the decision used");
}

int gate_release(gate *g, const char *repo, const char *commit, const char *reason,
                 const char *actor, char *err, size_t errlen)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)gate_now_ms());
    const char *p[] = {repo, commit, reason, actor, now};
    int rc = gdb_exec(g->db,
                      "INSERT INTO releases(repo, revision, reason, actor, released_at)"
                      " VALUES($1, $2, $3, $4, $5) ON CONFLICT(repo, revision) DO UPDATE SET"
                      " reason = excluded.reason, actor = excluded.actor,"
                      " released_at = excluded.released_at",
                      5, p, NULL, NULL, err, errlen);
    if (rc == 0) {
        atomic_fetch_add(&g->m.releases, 1);
        char detail[GATE_MSG_MAX];
        snprintf(detail, sizeof detail, "released by %s: %s", actor, reason);
        gate_audit(g, "release", repo, commit, NULL, detail);
    }
    return rc;
}
