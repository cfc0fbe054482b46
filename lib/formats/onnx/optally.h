/* Operator tally shared by the ONNX and SavedModel modules: counts each
 * distinct operator once (hash table), remembers where it was first seen,
 * and reports one finding per distinct operator at the end. Graphs with
 * 10^5 nodes then give a readable inventory instead of 10^5 findings. */
#ifndef WWI_OPTALLY_H
#define WWI_OPTALLY_H
#include "core/scan.h"

typedef struct wwi_optally_ent {
    char *key; /* raw operator name bytes, NUL-terminated copy */
    size_t klen;
    char *where; /* first location, printable */
    uint64_t count, off;
    ww_severity sev;
    const char *reason; /* static */
} wwi_optally_ent;

typedef struct wwi_optally {
    wwi_optally_ent *tab;
    size_t cap, n;
    uint64_t overflow; /* occurrences not tallied because the table was full */
} wwi_optally;

#define WWI_OPTALLY_MAX 65536 /* distinct operators kept; real graphs use a few hundred */

void wwi_optally_free(wwi_optally *t);
/* Count one occurrence. A full table is not an error: the occurrence is still
 * classified by the caller; only the inventory note loses it. */
WW_NODISCARD ww_status wwi_optally_add(wwi_optally *t, const uint8_t *key, size_t klen,
                                       const char *where, uint64_t off, ww_severity sev,
                                       const char *reason);
/* One finding per distinct operator (kind `kind`, module `module`, name = the
 * operator), in first-seen order. */
void wwi_optally_report(wwi_scan *s, const wwi_optally *t, const char *kind, const char *module);
/* Printable copy of untrusted bytes into out (non-printables become '?'). */
void wwi_printable(const uint8_t *p, size_t n, char *out, size_t outlen);
#endif
