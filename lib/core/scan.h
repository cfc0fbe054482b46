/* wwi_scan: the state of one scan (one input file and everything nested in it).
 * Format modules use only the functions here, io/cur.h, io/src.h and util/. */
#ifndef WWI_SCAN_H
#define WWI_SCAN_H
#include <stdarg.h>
#include "weightwall.h"
#include "io/cur.h"
#include "io/src.h"

typedef struct wwi_scan wwi_scan;

const ww_limits *wwi_scan_limits(const wwi_scan *s);
const ww_engine *wwi_scan_engine(const wwi_scan *s);
uint32_t wwi_scan_depth(const wwi_scan *s);      /* 0 for the file itself */
const char *wwi_scan_member(const wwi_scan *s);  /* layer path of the current layer ("" top) */
const char *wwi_scan_display(const wwi_scan *s); /* the file's display name */
/* Lowercased extension of the current layer's name (".pt"), "" when none. Used
 * only for mismatch findings and skip decisions, never to choose a parser. */
const char *wwi_scan_ext(const wwi_scan *s);

/* Record a finding in the current layer. module/name may be NULL. offset is a
 * byte offset within the current layer or UINT64_MAX. Severity NONE is a note
 * that is kept (informational) but never affects the verdict. */
void wwi_finding(wwi_scan *s, ww_severity sev, const char *kind, const char *module,
                 const char *name, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Record that the current layer could not be fully understood. Keeps every
 * finding already made (an error never erases findings), makes the verdict
 * non-clean, and returns st so modules can `return wwi_scan_error(...)`. */
ww_status wwi_scan_error(wwi_scan *s, ww_status st, uint64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a limit hit: a "limit" finding naming the limit plus a WW_E_LIMIT
 * error. Returns WW_E_LIMIT. */
ww_status wwi_scan_limit(wwi_scan *s, const char *limit_name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Charge budgets. Each returns WW_OK or records the limit hit and returns it. */
WW_NODISCARD ww_status wwi_scan_charge_member(wwi_scan *s);
WW_NODISCARD ww_status wwi_scan_charge_inflated(wwi_scan *s, uint64_t bytes);
/* Cheap; call from long loops. WW_E_TIMEOUT (recorded) once time is up. */
WW_NODISCARD ww_status wwi_scan_check_time(wwi_scan *s);

/* Scan a nested layer: detect its format by content and dispatch. `name` is
 * the member's name within the current layer (joined with '/' into the layer
 * path). Depth and member budgets are checked here. Errors inside the child
 * are recorded in the result; the return value is WW_OK unless the whole scan
 * must stop (out of memory, time, global budgets). */
WW_NODISCARD ww_status wwi_scan_nested(wwi_scan *s, wwi_src *child, const char *name);
WW_NODISCARD ww_status wwi_scan_nested_mem(wwi_scan *s, const uint8_t *data, size_t len,
                                           const char *name);
/* Same, but force a format by name (e.g. "pickle" for torch's data.pkl, which
 * must be analysed even if its first bytes look odd). */
WW_NODISCARD ww_status wwi_scan_nested_as(wwi_scan *s, wwi_src *child, const char *name,
                                          const char *format);

/* Record the current layer's detected format (done by the driver; modules that
 * refine it, e.g. zip -> pytorch_zip, call this). */
void wwi_scan_set_format(wwi_scan *s, const char *format_name, bool code_capable);

/* Per-scan string arena: the copy lives until the result is freed. */
const char *wwi_scan_strdup(wwi_scan *s, const char *str, size_t len);

/* Opaque per-format scratch that a parent module can hand to a child, e.g. the
 * torch zip tells the pickle module to collect persistent-id storage keys. */
void wwi_scan_set_hint(wwi_scan *s, void *hint);
void *wwi_scan_hint(const wwi_scan *s);
/* Scan memory forcing layer 0's format (fuzz targets, tests). */
WW_NODISCARD ww_status wwi_scan_memory_as(const ww_engine *e, const void *data, size_t len,
                                          const char *format, ww_result **out);
#endif
