#ifndef WWI_RESULT_H
#define WWI_RESULT_H
#include "weightwall.h"

typedef struct wwi_chunk wwi_chunk;

struct ww_result {
    const char *path;
    ww_verdict verdict;
    ww_severity max_sev;
    ww_severity threshold;
    ww_status status;
    const char *error;
    bool skipped;
    uint64_t size, bytes_read, elapsed_ns, dropped;
    ww_finding *findings;
    size_t nfind, capfind;
    ww_finding *errors;
    size_t nerr, caperr;
    ww_layer *layers;
    size_t nlayers, caplayers;
    wwi_chunk *arena;
};

ww_result *wwi_result_new(void);
/* Copy into the result's arena; NULL on allocation failure. */
const char *wwi_result_str(ww_result *r, const char *s, size_t n);
/* Copy for display: invalid UTF-8 and control characters become \\xNN. */
const char *wwi_result_text(ww_result *r, const char *s);
void wwi_result_finish(ww_result *r);
#endif
