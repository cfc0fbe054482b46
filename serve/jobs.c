/* Single-flight jobs: the first request for a key starts the work in its own
 * thread; every later request for the same key joins it and waits on the
 * condition variable. So concurrent downloads of one blob fetch it upstream
 * once, and a revision is decided once. The table is bounded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "serve/gate.h"

struct gate_job {
    struct gate_job *next;
    char *key;
    int refs;
    bool done;
    gate_err err; /* status 0: success */
    gate_job_fn fn;
    void *arg;
    void (*free_arg)(void *);
    gate *g;
};

static void job_unlink_locked(gate *g, gate_job *j)
{
    for (gate_job **pp = &g->jobs; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            g->njobs--;
            return;
        }
}

static void *job_main(void *p)
{
    gate_job *j = p;
    gate *g = j->g;
    j->fn(g, j, j->arg);
    pthread_mutex_lock(&g->jobs_mu);
    bool done = j->done;
    pthread_mutex_unlock(&g->jobs_mu);
    if (!done) {
        gate_err e;
        gate_err_set(&e, 500, "", "internal error: job %s ended without a result", j->key);
        gjob_finish(g, j, &e);
    }
    gjob_release(g, j);
    return NULL;
}

gate_job *gjob_run(gate *g, const char *key, gate_job_fn fn, void *arg, void (*free_arg)(void *),
                   gate_err *e)
{
    pthread_mutex_lock(&g->jobs_mu);
    for (gate_job *j = g->jobs; j; j = j->next)
        if (!j->done && strcmp(j->key, key) == 0) {
            j->refs++;
            pthread_mutex_unlock(&g->jobs_mu);
            if (free_arg)
                free_arg(arg);
            return j;
        }
    if (g->njobs >= GATE_MAX_JOBS) {
        pthread_mutex_unlock(&g->jobs_mu);
        if (free_arg)
            free_arg(arg);
        gate_err_set(e, 503, "", "gate busy: too many downloads and scans in progress");
        return NULL;
    }
    gate_job *j = calloc(1, sizeof *j);
    if (j)
        j->key = strdup(key);
    if (!j || !j->key) {
        pthread_mutex_unlock(&g->jobs_mu);
        if (j)
            free(j);
        if (free_arg)
            free_arg(arg);
        gate_err_set(e, 503, "", "out of memory");
        return NULL;
    }
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    j->g = g;
    j->refs = 2; /* the caller and the worker thread */
    j->next = g->jobs;
    g->jobs = j;
    g->njobs++;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1u << 20);
    pthread_t t;
    int rc = pthread_create(&t, &attr, job_main, j);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        job_unlink_locked(g, j);
        pthread_mutex_unlock(&g->jobs_mu);
        if (free_arg)
            free_arg(arg);
        free(j->key);
        free(j);
        gate_err_set(e, 503, "", "cannot start a worker thread");
        return NULL;
    }
    pthread_mutex_unlock(&g->jobs_mu);
    return j;
}

bool gjob_wait(gate *g, gate_job *j, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    if (timeout_ms >= 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&g->jobs_mu);
    while (!j->done) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&g->jobs_cv, &g->jobs_mu);
        } else if (pthread_cond_timedwait(&g->jobs_cv, &g->jobs_mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    bool done = j->done;
    pthread_mutex_unlock(&g->jobs_mu);
    return done;
}

int gjob_result(gate *g, gate_job *j, gate_err *e)
{
    pthread_mutex_lock(&g->jobs_mu);
    int rc = 0;
    if (j->err.status != 0) {
        *e = j->err;
        rc = -1;
    }
    pthread_mutex_unlock(&g->jobs_mu);
    return rc;
}

void gjob_finish(gate *g, gate_job *j, const gate_err *e)
{
    pthread_mutex_lock(&g->jobs_mu);
    if (e && e->status)
        j->err = *e;
    j->done = true;
    /* Finished jobs leave the table at once: the next request for the key
     * starts afresh (and finds the result in the store or the database). */
    job_unlink_locked(g, j);
    pthread_cond_broadcast(&g->jobs_cv);
    pthread_mutex_unlock(&g->jobs_mu);
}

void gjob_release(gate *g, gate_job *j)
{
    pthread_mutex_lock(&g->jobs_mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&g->jobs_mu);
    if (last) {
        if (j->free_arg)
            j->free_arg(j->arg);
        free(j->key);
        free(j);
    }
}
