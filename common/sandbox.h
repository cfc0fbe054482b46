/* Scanning in a confined child process. The parent opens the file and spawns
 * a fresh image of this program (`weightwall __sandbox-child`: no inherited
 * locks, heap or secrets such as HF_TOKEN) with the file on fd 3 and a pipe on
 * fd 4. The child applies resource limits and a seccomp filter (no exec, no
 * network, no new files or processes), scans, and writes the serialized result
 * to the pipe. The parent enforces a wall-clock deadline; a child that is
 * killed or times out yields an error result for that file, and the scan goes
 * on with the next. */
#ifndef WWX_SANDBOX_H
#define WWX_SANDBOX_H
#include "weightwall.h"

typedef struct wwx_sandbox_opts {
    const char *exe;            /* this program (default /proc/self/exe) */
    uint64_t mem_bytes;         /* address-space limit beyond the file's size (0: 4 GiB) */
    unsigned cpu_seconds;       /* CPU and wall-clock limit (0: twice max_time_ms, >= 10 s) */
    const char *selftest;       /* testing only: execve|socket|open|memory|cpu|hang */
    const char *const *engine_args; /* engine settings for the child (NULL-terminated):
                                     * --threshold S, --limit k=v, --globals FILE */
} wwx_sandbox_opts;

ww_status wwx_sandbox_scan_file(const ww_engine *e, const char *path, const char *display,
                                const wwx_sandbox_opts *o, ww_result **out);

/* The child side, run by `weightwall __sandbox-child` (argv after the command
 * name). Never returns. */
void wwx_sandbox_child_main(int argc, char **argv) __attribute__((noreturn));
#endif
