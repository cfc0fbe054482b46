/* One fuzz target per format module: the input is scanned as FUZZ_FORMAT
 * (forced, so the module's parser sees every input, not only those its probe
 * accepts). Built per format from lib/formats/formats.def by fuzz/meson.build.
 * Small limits keep each execution fast; the verdict must never be "clean"
 * for an input the module failed on (checked below: a crash is the signal). */
#include <stdlib.h>
#include <string.h>
#include "core/scan.h"
#include "weightwall.h"

#ifndef FUZZ_FORMAT
#error "FUZZ_FORMAT must name a format"
#endif

static ww_engine *engine(void)
{
    static ww_engine *e;
    if (!e) {
        if (ww_engine_new(&e) != WW_OK)
            abort();
        ww_limits l;
        ww_limits_default(&l);
        l.max_inflated_bytes = 64u << 20;
        l.max_member_bytes = 16u << 20;
        l.max_time_ms = 5000;
        l.max_alloc = 256u << 20;
        ww_engine_set_limits(e, &l);
    }
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ww_result *r = NULL;
    const char *fmt = FUZZ_FORMAT;
    ww_status st = fmt[0] ? wwi_scan_memory_as(engine(), data, size, fmt, &r)
                          : ww_scan_memory(engine(), data, size, "fuzz.bin", &r);
    if (st == WW_OK) {
        /* Touch every reported string so sanitizers check them. */
        size_t n = 0;
        for (size_t i = 0; i < ww_result_finding_count(r); i++) {
            const ww_finding *f = ww_result_finding(r, i);
            n += f->message ? strlen(f->message) : 0;
            n += f->module ? strlen(f->module) : 0;
            n += f->name ? strlen(f->name) : 0;
        }
        for (size_t i = 0; i < ww_result_layer_count(r); i++)
            n += strlen(ww_result_layer(r, i)->member);
        (void)n;
        ww_result_free(r);
    }
    return 0;
}
