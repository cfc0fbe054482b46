/* Prometheus text exposition of the gate's counters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve/gate.h"

static const double buckets[12] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 1e300};

void gmet_scan(gate *g, ww_verdict v, uint64_t ns)
{
    if (v == WW_VERDICT_CLEAN)
        atomic_fetch_add(&g->m.scans_clean, 1);
    else if (v == WW_VERDICT_UNSAFE)
        atomic_fetch_add(&g->m.scans_unsafe, 1);
    else
        atomic_fetch_add(&g->m.scans_error, 1);
    double s = (double)ns / 1e9;
    for (int i = 0; i < 12; i++)
        if (s <= buckets[i]) {
            atomic_fetch_add(&g->m.scan_hist[i], 1);
            break;
        }
    atomic_fetch_add(&g->m.scan_ns_sum, ns);
    atomic_fetch_add(&g->m.scan_count, 1);
}

typedef struct out {
    char *b;
    size_t n, cap;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (!o->b)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(o->b + o->n, o->cap - o->n, fmt, ap);
        va_end(ap);
        if (k < 0)
            return;
        if ((size_t)k < o->cap - o->n) {
            o->n += (size_t)k;
            return;
        }
        char *nb = realloc(o->b, o->cap * 2);
        if (!nb) {
            free(o->b);
            o->b = NULL;
            return;
        }
        o->b = nb;
        o->cap *= 2;
    }
}

#define LD(x) ((unsigned long long)atomic_load(&(x)))

char *gmet_render(gate *g)
{
    out o = {malloc(8192), 0, 8192};
    gate_metrics *m = &g->m;
    put(&o, "# HELP weightwall_gate_requests_total HTTP requests answered, by status class.\n"
            "# TYPE weightwall_gate_requests_total counter\n");
    static const char *cls[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 0; i < 6; i++)
        put(&o, "weightwall_gate_requests_total{code=\"%s\"} %llu\n", cls[i], LD(m->requests[i]));
    put(&o, "# HELP weightwall_gate_bytes_served_total Body bytes sent to clients.\n"
            "# TYPE weightwall_gate_bytes_served_total counter\n"
            "weightwall_gate_bytes_served_total %llu\n", LD(m->bytes_served));
    put(&o, "# HELP weightwall_gate_upstream_bytes_total Body bytes received from the upstream.\n"
            "# TYPE weightwall_gate_upstream_bytes_total counter\n"
            "weightwall_gate_upstream_bytes_total %llu\n", LD(m->upstream_bytes));
    put(&o, "# HELP weightwall_gate_upstream_requests_total Listing and download requests to the upstream.\n"
            "# TYPE weightwall_gate_upstream_requests_total counter\n"
            "weightwall_gate_upstream_requests_total %llu\n", LD(m->upstream_fetches));
    put(&o, "# TYPE weightwall_gate_upstream_errors_total counter\n"
            "weightwall_gate_upstream_errors_total %llu\n", LD(m->upstream_errors));
    put(&o, "# HELP weightwall_gate_scans_total Files scanned, by verdict.\n"
            "# TYPE weightwall_gate_scans_total counter\n"
            "weightwall_gate_scans_total{verdict=\"clean\"} %llu\n"
            "weightwall_gate_scans_total{verdict=\"unsafe\"} %llu\n"
            "weightwall_gate_scans_total{verdict=\"error\"} %llu\n",
        LD(m->scans_clean), LD(m->scans_unsafe), LD(m->scans_error));
    put(&o, "# HELP weightwall_gate_decisions_total Revisions decided by the policy.\n"
            "# TYPE weightwall_gate_decisions_total counter\n"
            "weightwall_gate_decisions_total %llu\n", LD(m->decisions));
    put(&o, "# HELP weightwall_gate_quarantines_total Revisions quarantined.\n"
            "# TYPE weightwall_gate_quarantines_total counter\n"
            "weightwall_gate_quarantines_total %llu\n", LD(m->quarantines));
    put(&o, "# TYPE weightwall_gate_releases_total counter\n"
            "weightwall_gate_releases_total %llu\n", LD(m->releases));
    put(&o, "# TYPE weightwall_gate_listing_cache_total counter\n"
            "weightwall_gate_listing_cache_total{result=\"hit\"} %llu\n"
            "weightwall_gate_listing_cache_total{result=\"miss\"} %llu\n",
        LD(m->cache_hits), LD(m->cache_misses));
    put(&o, "# TYPE weightwall_gate_requests_in_flight gauge\n"
            "weightwall_gate_requests_in_flight %d\n", atomic_load(&m->inflight));
    put(&o, "# HELP weightwall_gate_scan_seconds Time to scan one file.\n"
            "# TYPE weightwall_gate_scan_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < 12; i++) {
        cum += LD(m->scan_hist[i]);
        if (i == 11)
            put(&o, "weightwall_gate_scan_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
        else
            put(&o, "weightwall_gate_scan_seconds_bucket{le=\"%g\"} %llu\n", buckets[i], cum);
    }
    put(&o, "weightwall_gate_scan_seconds_sum %.6f\nweightwall_gate_scan_seconds_count %llu\n",
        (double)LD(m->scan_ns_sum) / 1e9, LD(m->scan_count));
    return o.b;
}
