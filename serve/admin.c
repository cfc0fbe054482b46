/* Operators: a small server-rendered page at / (no JavaScript) and the same
 * data as a JSON API under /admin/api/, both behind the admin token. The
 * release action records who released what and why in the audit log. */
#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "serve/gate.h"

#define PAGE_MAX (4u << 20)

typedef struct sb {
    char *b;
    size_t n, cap;
    bool full;
} sb;

static void sb_put(sb *s, const char *t, size_t n)
{
    if (s->full || !n)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 8192;
        while (nc < s->n + n + 1)
            nc *= 2;
        char *nb = nc <= PAGE_MAX ? realloc(s->b, nc) : NULL;
        if (!nb) {
            s->full = true;
            return;
        }
        s->b = nb;
        s->cap = nc;
    }
    memcpy(s->b + s->n, t, n);
    s->n += n;
    s->b[s->n] = '\0';
}

#define SB_LIT(s, lit) sb_put((s), (lit), sizeof(lit) - 1)

static void sb_printf(sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *s, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0)
        sb_put(s, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void sb_esc(sb *s, const char *t)
{
    if (!t)
        return;
    for (; *t; t++) {
        switch (*t) {
        case '<': SB_LIT(s, "&lt;"); break;
        case '>': SB_LIT(s, "&gt;"); break;
        case '&': SB_LIT(s, "&amp;"); break;
        case '"': SB_LIT(s, "&quot;"); break;
        case '\'': SB_LIT(s, "&#39;"); break;
        default: sb_put(s, t, 1);
        }
    }
}

static bool consteq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* Decode application/x-www-form-urlencoded value in place. */
static void form_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char h[3] = {s[1], s[2], 0};
            int v = (int)strtol(h, NULL, 16);
            *o++ = v ? (char)v : ' ';
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* The value of field `key` in a form body (malloc'd, decoded) or NULL. */
static char *form_get(const char *body, const char *key)
{
    if (!body)
        return NULL;
    size_t kl = strlen(key);
    const char *p = body;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            char *v = strndup(p + kl + 1, n - kl - 1);
            if (v)
                form_decode(v);
            return v;
        }
        p += n;
        if (*p)
            p++;
    }
    return NULL;
}

static char *url_escape(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            *p++ = (char)ch;
        } else {
            snprintf(p, 4, "%%%02X", ch);
            p += 3;
        }
    }
    *p = '\0';
    return o;
}

static const char *client_ip(struct MHD_Connection *c, char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  buf, (socklen_t)n);
    return buf;
}

static int respond(struct MHD_Connection *c, int status, const char *ctype, const char *body,
                   size_t len, const char *location, int *status_out)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    if (location)
        MHD_add_response_header(r, "Location", location);
    *status_out = status;
    int ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static int respond_json(struct MHD_Connection *c, int status, json_t *o, int *status_out)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int r = respond(c, status, "application/json", s ? s : "{\"error\":\"out of memory\"}",
                    s ? strlen(s) : 25, NULL, status_out);
    free(s);
    return r;
}

static const char *fmt_time(const char *ms, char *buf, size_t n)
{
    if (!ms) {
        snprintf(buf, n, "-");
        return buf;
    }
    time_t t = (time_t)(strtoll(ms, NULL, 10) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

#define Q_QUARANTINED                                                                        \
    "SELECT d.repo, d.revision, d.message, d.reasons, d.findings, d.decided_at, d.node,"    \
    " r.reason AS release_reason, r.actor AS released_by, r.released_at"                    \
    " FROM decisions d LEFT JOIN releases r ON r.repo = d.repo AND r.revision = d.revision" \
    " WHERE d.state = 'quarantine' AND d.policy = $1 ORDER BY d.decided_at DESC LIMIT 200"

static void findings_html(sb *s, const char *findings_json)
{
    json_t *arr = findings_json ? json_loads(findings_json, 0, NULL) : NULL;
    size_t i;
    json_t *f;
    SB_LIT(s, "<ul class=\"findings\">");
    json_array_foreach(arr, i, f)
    {
        SB_LIT(s, "<li><code>");
        sb_esc(s, jstr(f, "path"));
        SB_LIT(s, "</code> ");
        sb_esc(s, jstr(f, "verdict"));
        size_t k;
        json_t *x;
        size_t shown = 0;
        json_array_foreach(json_object_get(f, "findings"), k, x)
        {
            if (shown++ >= 5)
                break;
            SB_LIT(s, "<br>");
            sb_esc(s, jstr(x, "severity"));
            SB_LIT(s, " ");
            if (json_is_string(json_object_get(x, "module"))) {
                sb_esc(s, jstr(x, "module"));
                SB_LIT(s, ".");
                sb_esc(s, jstr(x, "name"));
                SB_LIT(s, " ");
            }
            SB_LIT(s, "&mdash; ");
            sb_esc(s, jstr(x, "message"));
        }
        json_array_foreach(json_object_get(f, "errors"), k, x)
        {
            if (k >= 3)
                break;
            SB_LIT(s, "<br>error: ");
            sb_esc(s, jstr(x, "message"));
        }
        SB_LIT(s, "</li>");
    }
    SB_LIT(s, "</ul>");
    json_decref(arr);
}

static int page(gate *g, struct MHD_Connection *c, const char *token, int *status_out)
{
    sb s = {0};
    char tbuf[64];
    sb_printf(&s, "<!doctype html><html><head><meta charset=\"utf-8\"><title>weightwall gate"
                  "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
                  "collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;"
                  "vertical-align:top;text-align:left}code{font-size:90%%}</style></head><body>"
                  "<h1>weightwall gate</h1><p>Node <b>");
    sb_esc(&s, g->o.node);
    sb_printf(&s, "</b>, upstream <code>");
    sb_esc(&s, g->o.upstream);
    sb_printf(&s, "</code>, database %s, policy <b>", gdb_kind(g->db));
    sb_esc(&s, g->policy_name);
    sb_printf(&s, "</b>%s. Decisions %llu, quarantines %llu, bytes served %llu.</p>",
              g->policy ? "" : " (FAILED TO LOAD: every download is refused)",
              (unsigned long long)atomic_load(&g->m.decisions),
              (unsigned long long)atomic_load(&g->m.quarantines),
              (unsigned long long)atomic_load(&g->m.bytes_served));

    const char *pp[] = {g->policy_hash};
    json_t *q = gdb_query_json(g->db, Q_QUARANTINED, 1, pp);
    sb_printf(&s, "<h2 id=\"quarantined\">Quarantined revisions</h2><table id=\"quarantine-list\">"
                  "<tr><th>Repository</th><th>Revision</th><th>Decided</th><th>Policy reasons"
                  "</th><th>Findings</th><th>Action</th></tr>");
    size_t i;
    json_t *row;
    size_t nq = 0;
    json_array_foreach(q, i, row)
    {
        bool released = json_is_string(json_object_get(row, "release_reason"));
        sb_printf(&s, "<tr class=\"%s\" data-repo=\"", released ? "released" : "quarantined");
        sb_esc(&s, jstr(row, "repo"));
        SB_LIT(&s, "\" data-revision=\"");
        sb_esc(&s, jstr(row, "revision"));
        SB_LIT(&s, "\"><td>");
        sb_esc(&s, jstr(row, "repo"));
        SB_LIT(&s, "</td><td><code>");
        sb_esc(&s, jstr(row, "revision"));
        sb_printf(&s, "</code></td><td>%s</td><td class=\"reason\">",
                  fmt_time(json_string_value(json_object_get(row, "decided_at")), tbuf,
                           sizeof tbuf));
        sb_esc(&s, jstr(row, "message"));
        SB_LIT(&s, "</td><td>");
        findings_html(&s, json_string_value(json_object_get(row, "findings")));
        SB_LIT(&s, "</td><td>");
        if (released) {
            SB_LIT(&s, "RELEASED by ");
            sb_esc(&s, jstr(row, "released_by"));
            SB_LIT(&s, ": ");
            sb_esc(&s, jstr(row, "release_reason"));
        } else {
            nq++;
            SB_LIT(&s, "<form method=\"post\" action=\"/admin/release\">"
                       "<input type=\"hidden\" name=\"token\" value=\"");
            sb_esc(&s, token);
            SB_LIT(&s, "\"><input type=\"hidden\" name=\"repo\" value=\"");
            sb_esc(&s, jstr(row, "repo"));
            SB_LIT(&s, "\"><input type=\"hidden\" name=\"revision\" value=\"");
            sb_esc(&s, jstr(row, "revision"));
            sb_printf(&s, "\"><input name=\"reason\" required placeholder=\"reason (audit log)\">"
                          "<button type=\"submit\">Release</button></form>");
        }
        SB_LIT(&s, "</td></tr>");
    }
    json_decref(q);
    sb_printf(&s, "</table><p id=\"quarantine-count\">%zu quarantined revision(s) awaiting "
                  "review.</p>", nq);

    json_t *dl = gdb_query_json(g->db,
                                "SELECT ts, repo, revision, path, status, bytes, client, node"
                                " FROM downloads ORDER BY id DESC LIMIT 50",
                                0, NULL);
    sb_printf(&s, "<h2 id=\"downloads\">Recent downloads</h2><table id=\"download-list\"><tr>"
                  "<th>Time</th><th>Repository</th><th>Revision</th><th>File</th><th>Status</th>"
                  "<th>Bytes</th><th>Client</th></tr>");
    json_array_foreach(dl, i, row)
    {
        sb_printf(&s, "<tr><td>%s</td><td>",
                  fmt_time(json_string_value(json_object_get(row, "ts")), tbuf, sizeof tbuf));
        sb_esc(&s, jstr(row, "repo"));
        sb_printf(&s, "</td><td><code>%.12s</code></td><td>", jstr(row, "revision"));
        sb_esc(&s, jstr(row, "path"));
        sb_printf(&s, "</td><td>%s</td><td>%s</td><td>", jstr(row, "status"), jstr(row, "bytes"));
        sb_esc(&s, jstr(row, "client"));
        SB_LIT(&s, "</td></tr>");
    }
    json_decref(dl);
    sb_printf(&s, "</table>");

    json_t *au = gdb_query_json(g->db,
                                "SELECT ts, node, event, repo, revision, path, detail FROM audit"
                                " ORDER BY id DESC LIMIT 50",
                                0, NULL);
    sb_printf(&s, "<h2 id=\"audit\">Audit log</h2><table id=\"audit-log\"><tr><th>Time</th>"
                  "<th>Node</th><th>Event</th><th>Repository</th><th>Revision</th><th>Detail</th>"
                  "</tr>");
    json_array_foreach(au, i, row)
    {
        sb_printf(&s, "<tr><td>%s</td><td>",
                  fmt_time(json_string_value(json_object_get(row, "ts")), tbuf, sizeof tbuf));
        sb_esc(&s, jstr(row, "node"));
        SB_LIT(&s, "</td><td>");
        sb_esc(&s, jstr(row, "event"));
        SB_LIT(&s, "</td><td>");
        sb_esc(&s, jstr(row, "repo"));
        sb_printf(&s, "</td><td><code>%.12s</code></td><td>", jstr(row, "revision"));
        sb_esc(&s, jstr(row, "detail"));
        SB_LIT(&s, "</td></tr>");
    }
    json_decref(au);
    sb_printf(&s, "</table></body></html>\n");
    if (s.full || !s.b) {
        free(s.b);
        return respond(c, 500, "text/plain", "page too large\n", 15, NULL, status_out);
    }
    int r = respond(c, 200, "text/html; charset=utf-8", s.b, s.n, NULL, status_out);
    free(s.b);
    return r;
}

static bool valid_text(const char *s, size_t max)
{
    if (!s || !s[0] || strlen(s) > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return false;
    return true;
}

static int do_release(gate *g, struct MHD_Connection *c, const char *repo, const char *rev,
                      const char *reason, bool html, const char *token, int *status_out)
{
    char err[512], ip[64], actor[96];
    if (!valid_text(repo, 300) || !valid_text(rev, 200) || !valid_text(reason, 1000)) {
        const char *m = "repo, revision and a reason are required";
        if (html)
            return respond(c, 400, "text/plain", m, strlen(m), NULL, status_out);
        return respond_json(c, 400, json_pack("{s:s}", "error", m), status_out);
    }
    snprintf(actor, sizeof actor, "admin@%s", client_ip(c, ip, sizeof ip));
    if (gate_release(g, repo, rev, reason, actor, err, sizeof err) != 0) {
        if (html)
            return respond(c, 500, "text/plain", err, strlen(err), NULL, status_out);
        return respond_json(c, 500, json_pack("{s:s}", "error", err), status_out);
    }
    gate_log_json(g, json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "release", "repo", repo,
                               "revision", rev, "actor", actor, "reason", reason));
    if (html) {
        char loc[600];
        char *enc = token ? url_escape(token) : NULL;
        snprintf(loc, sizeof loc, "/?token=%s#quarantined", enc ? enc : "");
        free(enc);
        return respond(c, 303, "text/plain", "released\n", 9, loc, status_out);
    }
    return respond_json(c, 200,
                        json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", 1, "repo", repo, "revision",
                                  rev, "reason", reason, "actor", actor),
                        status_out);
}

int gadmin_handle(gate *g, struct MHD_Connection *c, const char *method, const char *url,
                  const char *body, size_t body_len, int *status_out)
{
    (void)body_len;
    bool is_page = strcmp(url, "/") == 0;
    bool is_form = strcmp(url, "/admin/release") == 0;
    bool is_api = strncmp(url, "/admin/api/", 11) == 0;
    if (!is_page && !is_form && !is_api)
        return -1;
    /* The token: Authorization: Bearer, X-Admin-Token, ?token= or a form field. */
    char *form_token = is_form ? form_get(body, "token") : NULL;
    const char *tok = NULL;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        tok = h + 7;
    if (!tok)
        tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Admin-Token");
    if (!tok)
        tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (!tok)
        tok = form_token;
    char tokbuf[256] = "";
    if (tok) { /* query values arrive raw (the gate keeps URLs undecoded) */
        snprintf(tokbuf, sizeof tokbuf, "%s", tok);
        form_decode(tokbuf);
    }
    int ret;
    if (!g->o.admin_token) {
        const char *m = "admin interface disabled: start the gate with --admin-token";
        ret = is_api ? respond_json(c, 403, json_pack("{s:s}", "error", m), status_out)
                     : respond(c, 403, "text/plain", m, strlen(m), NULL, status_out);
        goto out;
    }
    if (!tok || !consteq(tokbuf, g->o.admin_token)) {
        const char *m = "admin token required (Authorization: Bearer TOKEN, or ?token=TOKEN)";
        ret = is_api ? respond_json(c, 401, json_pack("{s:s}", "error", m), status_out)
                     : respond(c, 401, "text/plain", m, strlen(m), NULL, status_out);
        goto out;
    }
    if (is_page) {
        ret = page(g, c, tokbuf, status_out);
        goto out;
    }
    if (is_form) {
        if (strcmp(method, "POST") != 0) {
            ret = respond(c, 405, "text/plain", "POST only\n", 10, NULL, status_out);
            goto out;
        }
        char *repo = form_get(body, "repo"), *rev = form_get(body, "revision"),
             *reason = form_get(body, "reason");
        ret = do_release(g, c, repo, rev, reason, true, tokbuf, status_out);
        free(repo);
        free(rev);
        free(reason);
        goto out;
    }
    const char *api = url + 11;
    const char *pp[] = {g->policy_hash};
    if (strcmp(api, "quarantined") == 0) {
        json_t *rows = gdb_query_json(g->db, Q_QUARANTINED, 1, pp);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            /* stored JSON columns become JSON again */
            const char *keys[] = {"reasons", "findings"};
            for (int k = 0; k < 2; k++) {
                const char *v = json_string_value(json_object_get(row, keys[k]));
                json_t *parsed = v ? json_loads(v, 0, NULL) : NULL;
                if (parsed)
                    json_object_set_new(row, keys[k], parsed);
            }
            json_object_set_new(row, "released",
                                json_boolean(json_is_string(json_object_get(row, "release_reason"))));
        }
        ret = respond_json(c, rows ? 200 : 500, rows ? rows : json_pack("{s:s}", "error", "database"),
                           status_out);
    } else if (strcmp(api, "decisions") == 0) {
        json_t *rows = gdb_query_json(
            g->db,
            "SELECT d.repo, d.revision, d.state, d.message, d.decided_at, d.node,"
            " r.reason AS release_reason FROM decisions d LEFT JOIN releases r"
            " ON r.repo = d.repo AND r.revision = d.revision WHERE d.policy = $1"
            " ORDER BY d.decided_at DESC LIMIT 500",
            1, pp);
        ret = respond_json(c, rows ? 200 : 500, rows ? rows : json_pack("{s:s}", "error", "database"),
                           status_out);
    } else if (strcmp(api, "downloads") == 0) {
        json_t *rows = gdb_query_json(g->db,
                                      "SELECT ts, node, repo, revision, path, etag, status, bytes,"
                                      " client FROM downloads ORDER BY id DESC LIMIT 200",
                                      0, NULL);
        ret = respond_json(c, rows ? 200 : 500, rows ? rows : json_pack("{s:s}", "error", "database"),
                           status_out);
    } else if (strcmp(api, "audit") == 0) {
        json_t *rows = gdb_query_json(g->db,
                                      "SELECT id, ts, node, event, repo, revision, path, detail"
                                      " FROM audit ORDER BY id DESC LIMIT 500",
                                      0, NULL);
        ret = respond_json(c, rows ? 200 : 500, rows ? rows : json_pack("{s:s}", "error", "database"),
                           status_out);
    } else if (strcmp(api, "release") == 0) {
        if (strcmp(method, "POST") != 0) {
            ret = respond_json(c, 405, json_pack("{s:s}", "error", "POST only"), status_out);
            goto out;
        }
        json_t *in = body ? json_loads(body, 0, NULL) : NULL;
        ret = do_release(g, c, json_string_value(json_object_get(in, "repo")),
                         json_string_value(json_object_get(in, "revision")),
                         json_string_value(json_object_get(in, "reason")), false, NULL,
                         status_out);
        json_decref(in);
    } else {
        ret = respond_json(c, 404, json_pack("{s:s}", "error", "unknown admin API"), status_out);
    }
out:
    free(form_token);
    return ret;
}
