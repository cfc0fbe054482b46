/* Scanning in a confined child process: the parent opens the file, forks; the
 * child drops to resource limits and a seccomp filter (no exec, no network, no
 * new files, no new processes) and scans; the parent receives only the
 * serialized result. A child that is killed (by the filter, a limit or a
 * crash) yields an error result for that file, and the scan goes on. */
#ifndef WWX_SANDBOX_H
#define WWX_SANDBOX_H
#include "weightwall.h"

typedef struct wwx_sandbox_opts {
    uint64_t mem_bytes;   /* address-space limit beyond the file's own size (0: default 4 GiB) */
    unsigned cpu_seconds; /* CPU limit (0: max_time_ms*2 rounded up, at least 10 s) */
    const char *selftest; /* testing only: "execve", "socket", "open" — the child tries it */
} wwx_sandbox_opts;

/* true when this build and kernel can confine (libseccomp present). */
bool wwx_sandbox_available(void);
ww_status wwx_sandbox_scan_file(const ww_engine *e, const char *path, const char *display,
                                const wwx_sandbox_opts *o, ww_result **out);
#endif
