/* Scanning in a confined child process. The parent opens the file and hands
 * the descriptor (and a result pipe) to a zygote, a fresh image of this
 * program (`weightwall __sandbox-child`: no inherited locks, heap or secrets
 * such as HF_TOKEN). The zygote forks a child per file; the child applies
 * resource limits and a seccomp filter (no exec, no network, no new files or
 * processes), scans, and writes the serialized result to the pipe. Remote
 * files are read by the parent on the child's behalf (a read broker). The parent enforces a wall-clock deadline; a child that is
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
    const char *const *engine_args; /* engine settings for the child (NULL-terminated, copied):
                                     * --threshold S, --limit k=v, --globals FILE */
} wwx_sandbox_opts;

/* Arguments that make the child's engine equal to the parent's: threshold,
 * every limit, and the globals files (read by the zygote before it confines
 * anything). Strings live in *store; free with wwx_sandbox_args_free. */
typedef struct wwx_sandbox_args {
    const char *argv[128];
    char text[32][96];
} wwx_sandbox_args;
void wwx_sandbox_args_init(wwx_sandbox_args *a, const ww_limits *l, ww_severity threshold,
                           const char *const *globals, size_t nglobals);

/* A sandbox is one zygote: a fresh, single-threaded image of this program
 * (started on first use) that forks one confined child per file, so every
 * file is parsed in a clean copy and fork() never races other threads. Use
 * one wwx_sandbox per thread. */
typedef struct wwx_sandbox wwx_sandbox;
ww_status wwx_sandbox_open(const wwx_sandbox_opts *o, wwx_sandbox **out);
void wwx_sandbox_close(wwx_sandbox *z);
ww_status wwx_sandbox_scan(wwx_sandbox *z, const ww_engine *e, const char *path,
                           const char *display, ww_result **out);
/* An open regular file (e.g. standard input, or a memfd holding it). */
ww_status wwx_sandbox_scan_fd(wwx_sandbox *z, const ww_engine *e, int fd, const char *display,
                              ww_result **out);
/* A source only the parent can read (a remote file: the child has no network).
 * The child asks for ranges over a socket; the parent calls src->read_at. */
ww_status wwx_sandbox_scan_source(wwx_sandbox *z, const ww_engine *e, ww_source *src,
                                  const char *display, ww_result **out);

/* The zygote side, run by `weightwall __sandbox-child` (argv after the
 * command name). Never returns. */
void wwx_sandbox_child_main(int argc, char **argv) __attribute__((noreturn));
#endif
