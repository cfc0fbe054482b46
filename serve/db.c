/* The gate's database: scan results, decisions, releases, the audit log and
 * recent downloads. One schema, two backends: SQLite (default, a file in the
 * store) and PostgreSQL (several gate nodes share decisions). Every value
 * crosses this interface as text, so the SQL is the same for both; only the
 * auto-increment column differs. */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "serve/gate.h"

struct gate_db {
    bool pg;
    sqlite3 *lite;
    PGconn *conn;
    pthread_mutex_t mu; /* one connection, one statement at a time */
};

static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS scans(etag TEXT PRIMARY KEY, path TEXT, size BIGINT,"
    " source TEXT, verdict TEXT, max_severity TEXT, result TEXT, report TEXT,"
    " elapsed_ms BIGINT, scanned_at BIGINT)",
    "CREATE TABLE IF NOT EXISTS decisions(repo TEXT NOT NULL, revision TEXT NOT NULL,"
    " policy TEXT NOT NULL, state TEXT NOT NULL, message TEXT, reasons TEXT, files TEXT,"
    " findings TEXT, input TEXT, node TEXT, decided_at BIGINT,"
    " PRIMARY KEY(repo, revision, policy))",
    "CREATE TABLE IF NOT EXISTS releases(repo TEXT NOT NULL, revision TEXT NOT NULL,"
    " reason TEXT, actor TEXT, released_at BIGINT, PRIMARY KEY(repo, revision))",
    "CREATE TABLE IF NOT EXISTS audit(id @AUTO@, ts BIGINT, node TEXT, event TEXT, repo TEXT,"
    " revision TEXT, path TEXT, detail TEXT)",
    "CREATE TABLE IF NOT EXISTS downloads(id @AUTO@, ts BIGINT, node TEXT, repo TEXT,"
    " revision TEXT, path TEXT, etag TEXT, status INTEGER, bytes BIGINT, client TEXT)",
    "CREATE INDEX IF NOT EXISTS decisions_state ON decisions(state, decided_at)",
};

const char *gdb_kind(const gate_db *db)
{
    return db->pg ? "postgresql" : "sqlite";
}

static int lite_exec(gate_db *db, const char *sql, int n, const char *const *params,
                     gdb_row_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db->lite));
        return -1;
    }
    for (int i = 0; i < n && i < sqlite3_bind_parameter_count(st); i++) {
        if (params[i])
            sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i + 1);
    }
    int ncol = sqlite3_column_count(st);
    const char *names[32], *vals[32];
    if (ncol > 32)
        ncol = 32;
    for (int i = 0; i < ncol; i++)
        names[i] = sqlite3_column_name(st, i);
    int out = 0;
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (!fn)
                continue;
            for (int i = 0; i < ncol; i++)
                vals[i] = (const char *)sqlite3_column_text(st, i);
            if (!fn(ctx, ncol, names, vals))
                break;
            continue;
        }
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db->lite));
            out = -1;
        }
        break;
    }
    sqlite3_finalize(st);
    return out;
}

static int pg_exec(gate_db *db, const char *sql, int n, const char *const *params,
                   gdb_row_fn fn, void *ctx, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (PQstatus(db->conn) != CONNECTION_OK)
            PQreset(db->conn);
        PGresult *res = PQexecParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
            int ncol = PQnfields(res), nrow = PQntuples(res);
            const char *names[32], *vals[32];
            if (ncol > 32)
                ncol = 32;
            for (int i = 0; i < ncol; i++)
                names[i] = PQfname(res, i);
            for (int r = 0; fn && r < nrow; r++) {
                for (int i = 0; i < ncol; i++)
                    vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
                if (!fn(ctx, ncol, names, vals))
                    break;
            }
            PQclear(res);
            return 0;
        }
        snprintf(err, errlen, "postgresql: %s", PQerrorMessage(db->conn));
        PQclear(res);
        /* Retry once only when the connection itself broke. */
        if (PQstatus(db->conn) == CONNECTION_OK)
            break;
    }
    return -1;
}

int gdb_exec(gate_db *db, const char *sql, int n, const char *const *params, gdb_row_fn fn,
             void *ctx, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    pthread_mutex_lock(&db->mu);
    int rc = db->pg ? pg_exec(db, sql, n, params, fn, ctx, err, errlen)
                    : lite_exec(db, sql, n, params, fn, ctx, err, errlen);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static bool row_to_json(void *ctx, int ncols, const char *const *names, const char *const *vals)
{
    json_t *o = json_object();
    for (int i = 0; i < ncols; i++)
        json_object_set_new(o, names[i], vals[i] ? json_string(vals[i]) : json_null());
    json_array_append_new((json_t *)ctx, o);
    return json_array_size((json_t *)ctx) < 10000; /* bounded answer */
}

json_t *gdb_query_json(gate_db *db, const char *sql, int n, const char *const *params)
{
    json_t *arr = json_array();
    char err[512];
    if (gdb_exec(db, sql, n, params, row_to_json, arr, err, sizeof err) != 0) {
        json_decref(arr);
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"database query failed\",\"detail\":\"%s\"}\n",
                err);
        return NULL;
    }
    return arr;
}

static bool first_col(void *ctx, int ncols, const char *const *names, const char *const *vals)
{
    (void)names;
    char **out = ctx;
    if (ncols > 0 && vals[0])
        *out = strdup(vals[0]);
    return false;
}

char *gdb_query_one(gate_db *db, const char *sql, int n, const char *const *params)
{
    char *out = NULL;
    char err[512];
    if (gdb_exec(db, sql, n, params, first_col, &out, err, sizeof err) != 0)
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"database query failed\",\"detail\":\"%s\"}\n",
                err);
    return out;
}

static int create_schema(gate_db *db, char *err, size_t errlen)
{
    const char *auto_col = db->pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
    /* Two nodes starting together must not race on CREATE TABLE. */
    if (db->pg && gdb_exec(db, "SELECT pg_advisory_lock(770077)", 0, NULL, NULL, NULL, err,
                           errlen) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < sizeof schema / sizeof schema[0] && rc == 0; i++) {
        char sql[1024];
        const char *at = strstr(schema[i], "@AUTO@");
        if (at)
            snprintf(sql, sizeof sql, "%.*s%s%s", (int)(at - schema[i]), schema[i], auto_col,
                     at + 6);
        else
            snprintf(sql, sizeof sql, "%s", schema[i]);
        rc = gdb_exec(db, sql, 0, NULL, NULL, NULL, err, errlen);
    }
    if (db->pg) {
        char e2[256];
        gdb_exec(db, "SELECT pg_advisory_unlock(770077)", 0, NULL, NULL, NULL, e2, sizeof e2);
    }
    return rc;
}

int gdb_open(const char *url, const char *store, gate_db **out, char *err, size_t errlen)
{
    *out = NULL;
    gate_db *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init(&db->mu, NULL);
    char path[4096];
    if (url && (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)) {
        db->pg = true;
        db->conn = PQconnectdb(url);
        if (PQstatus(db->conn) != CONNECTION_OK) {
            snprintf(err, errlen, "cannot connect to PostgreSQL: %s", PQerrorMessage(db->conn));
            PQfinish(db->conn);
            free(db);
            return -1;
        }
        /* Notices ("relation already exists, skipping") are not errors. */
        char e2[256];
        gdb_exec(db, "SET client_min_messages TO WARNING", 0, NULL, NULL, NULL, e2, sizeof e2);
    } else {
        if (url && strncmp(url, "sqlite:", 7) == 0)
            snprintf(path, sizeof path, "%s", url + 7);
        else if (url && url[0])
            snprintf(path, sizeof path, "%s", url);
        else
            snprintf(path, sizeof path, "%s/gate.db", store);
        int rc = sqlite3_open_v2(path, &db->lite,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                     SQLITE_OPEN_FULLMUTEX,
                                 NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "cannot open SQLite database %s: %s", path,
                     db->lite ? sqlite3_errmsg(db->lite) : sqlite3_errstr(rc));
            sqlite3_close(db->lite);
            free(db);
            return -1;
        }
        sqlite3_busy_timeout(db->lite, 10000);
        char e2[256];
        gdb_exec(db, "PRAGMA journal_mode=WAL", 0, NULL, NULL, NULL, e2, sizeof e2);
        gdb_exec(db, "PRAGMA synchronous=NORMAL", 0, NULL, NULL, NULL, e2, sizeof e2);
    }
    if (create_schema(db, err, errlen) != 0) {
        gdb_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

void gdb_close(gate_db *db)
{
    if (!db)
        return;
    if (db->pg)
        PQfinish(db->conn);
    else
        sqlite3_close(db->lite);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

void gate_audit(gate *g, const char *event, const char *repo, const char *commit,
                const char *path, const char *detail)
{
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)gate_now_ms());
    const char *p[] = {ts, g->o.node, event, repo, commit, path, detail};
    char err[512];
    if (gdb_exec(g->db,
                 "INSERT INTO audit(ts, node, event, repo, revision, path, detail)"
                 " VALUES($1, $2, $3, $4, $5, $6, $7)",
                 7, p, NULL, NULL, err, sizeof err) != 0) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", "audit write failed",
                              "detail", err);
        gate_log_json(g, o);
    }
}
