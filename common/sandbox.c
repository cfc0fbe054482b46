#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <spawn.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif


/* Syscalls a scan needs: memory, reading the mapped file, writing the result
 * to the pipe, time, and exit. Everything else fails with EPERM, and the
 * syscalls an exploit wants (exec, sockets, new processes, ptrace, opening
 * files for writing) kill the child outright. */
static int build_filter(struct sock_fprog *prog)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx)
        return -1;
    static const int allow[] = {
        SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(lseek),
        SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
        SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
        SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
        SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday),
        SCMP_SYS(getrandom), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
        SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(gettid),
        SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(getrlimit),
        SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity), SCMP_SYS(tgkill),
        SCMP_SYS(readlink), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
    };
    static const int kill[] = {
        SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
        SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(socket), SCMP_SYS(socketpair),
        SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept),
        SCMP_SYS(accept4), SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(ptrace),
        SCMP_SYS(process_vm_writev), SCMP_SYS(kill), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
        SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(chmod),
        SCMP_SYS(fchmodat), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(symlink),
        SCMP_SYS(symlinkat), SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(creat),
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof allow / sizeof allow[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0);
    for (size_t i = 0; i < sizeof kill / sizeof kill[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, kill[i], 0);
    /* open/openat: reading is refused with EPERM (nothing to open); any write
     * flag is an attack: kill. */
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_WRONLY, O_WRONLY));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_RDWR, O_RDWR));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(openat), 1,
                              SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT));
    /* Compiled once, in the zygote: every child only installs it. */
    int mfd = rc == 0 ? memfd_create("weightwall-bpf", MFD_CLOEXEC) : -1;
    if (mfd >= 0 && seccomp_export_bpf(ctx, mfd) == 0) {
        off_t n = lseek(mfd, 0, SEEK_CUR);
        void *p = n > 0 && n % sizeof(struct sock_filter) == 0 ? malloc((size_t)n) : NULL;
        if (p && pread(mfd, p, (size_t)n, 0) == n) {
            prog->filter = p;
            prog->len = (unsigned short)((size_t)n / sizeof(struct sock_filter));
        } else {
            free(p);
            rc = -1;
        }
    } else {
        rc = -1;
    }
    if (mfd >= 0)
        close(mfd);
    seccomp_release(ctx);
    return rc;
}

static struct sock_fprog filter; /* the zygote's compiled filter (len 0: none) */

/* libseccomp's seccomp_load does the same: no new privileges, then the filter. */
static int confine(void)
{
    if (filter.len == 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            _exit(3);
        }
        c += w;
        n -= (size_t)w;
    }
}

static void selftest(const char *what)
{
    if (strcmp(what, "execve") == 0) {
        char *argv[] = {(char *)"/bin/true", NULL};
        execve("/bin/true", argv, NULL);
    } else if (strcmp(what, "socket") == 0) {
        socket(AF_INET, SOCK_STREAM, 0);
    } else if (strcmp(what, "open") == 0) {
        open("/tmp/weightwall-sandbox-selftest", O_WRONLY | O_CREAT, 0600);
    } else if (strcmp(what, "memory") == 0) {
        /* Touch memory until the address-space limit refuses it. */
        for (;;) {
            char *p = malloc(64u << 20);
            if (!p)
                _exit(4);
            memset(p, 1, 64u << 20);
        }
    } else if (strcmp(what, "cpu") == 0) {
        for (volatile unsigned long i = 0;; i++)
            ;
    }
}

static ww_status fail(const char *display, const char *msg, ww_result **out)
{
    return ww_result_new_failed(display, WW_E_INTERNAL, msg, out);
}

/* One request from the parent to the zygote; the file and the result pipe
 * travel as SCM_RIGHTS descriptors. */
typedef struct req {
    uint64_t mem;
    uint64_t src_size; /* brokered: the source's size (the fd is a socket) */
    uint32_t cpu;
    uint8_t brokered;
    char selftest[16];
    char display[2048];
} req;

/* ---- the scanning child (forked by the zygote, one per file) -------------- */

/* A source the child cannot open itself (a remote file, fetched by the
 * parent): each read is a request {offset, length} on a stream socket,
 * answered by chunks {status, n} + n bytes; a chunk of 0 bytes ends a short
 * read, a non-OK status fails it. The child never touches the network. */
static bool read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        c += r;
        n -= (size_t)r;
    }
    return true;
}

static ww_status broker_read_at(void *ctx, uint64_t off, void *buf, size_t len, size_t *got)
{
    int fd = *(const int *)ctx;
    *got = 0;
    uint64_t rq[2] = {off, len};
    write_all(fd, rq, sizeof rq);
    while (*got < len) {
        int32_t hdr[2];
        if (!read_full(fd, hdr, sizeof hdr))
            return WW_E_IO;
        if (hdr[0] != WW_OK)
            return hdr[0] == WW_E_NET ? WW_E_NET : WW_E_IO;
        uint32_t n = (uint32_t)hdr[1];
        if (n == 0)
            break;
        if (n > len - *got || !read_full(fd, (char *)buf + *got, n))
            return WW_E_IO;
        *got += n;
    }
    return WW_OK;
}

static void child_scan(const ww_engine *e, const req *q, int file_fd, int out_fd)
{
    struct stat st;
    if (fstat(file_fd, &st) != 0)
        _exit(8);
    /* A brokered source is read into buffers, not mapped: no file to add. */
    if (q->brokered)
        st.st_size = 0;
    /* The budget is on top of what the process already maps (shared
     * libraries: ~100 MB of address space) and of the file's own mapping. */
    uint64_t base = 0;
    FILE *sf = fopen("/proc/self/statm", "r");
    if (sf) {
        unsigned long pages = 0;
        if (fscanf(sf, "%lu", &pages) == 1)
            base = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
        fclose(sf);
    }
    uint64_t as = base + q->mem + (uint64_t)st.st_size;
    struct rlimit rl = {as, as};
    /* AddressSanitizer reserves terabytes of shadow address space: an
     * address-space limit would break it, so sanitizer builds skip it. */
    if (!SANITIZED)
        setrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = q->cpu;
    rl.rlim_max = q->cpu + 1;
    setrlimit(RLIMIT_CPU, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_FSIZE, &rl);
    setrlimit(RLIMIT_CORE, &rl);
    if (confine() != 0)
        _exit(5);
    if (q->selftest[0]) {
        if (strcmp(q->selftest, "hang") == 0)
            for (;;)
                sleep(60); /* blocked, using no CPU: only the parent's deadline ends it */
        selftest(q->selftest);
    }
    ww_result *r = NULL;
    ww_source src = {.ctx = &file_fd, .size = q->src_size, .read_at = broker_read_at};
    if ((q->brokered ? ww_scan_source(e, &src, q->display, &r)
                     : ww_scan_fd(e, file_fd, q->display, &r)) != WW_OK)
        _exit(6);
    void *buf = NULL;
    size_t len = 0;
    if (ww_result_serialize(r, &buf, &len) != WW_OK)
        _exit(7);
    uint64_t n = len;
    write_all(out_fd, &n, sizeof n);
    write_all(out_fd, buf, len);
    _exit(0);
}

/* ---- the zygote ----------------------------------------------------------- */

static int recv_req(int sock, req *q, int fds[2])
{
    struct iovec iov = {q, sizeof *q};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (n != (ssize_t)sizeof *q || !c || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
        return -1;
    memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
    q->selftest[sizeof q->selftest - 1] = '\0';
    q->display[sizeof q->display - 1] = '\0';
    return 0;
}

void wwx_sandbox_child_main(int argc, char **argv)
{
    /* `weightwall __sandbox-child [engine args]`: the zygote. fd 3 is a
     * SOCK_SEQPACKET socket to the parent. Single-threaded by construction, so
     * fork() is safe here whatever the parent does. */
    ww_engine *e = NULL;
    if (ww_engine_new(&e) != WW_OK)
        _exit(6);
    ww_limits lim = *ww_engine_limits(e);
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threshold") == 0) {
            ww_severity sev;
            if (ww_severity_parse(argv[i + 1], &sev))
                ww_engine_set_threshold(e, sev);
        } else if (strcmp(argv[i], "--limit") == 0) {
            char name[64];
            const char *eq = strchr(argv[i + 1], '=');
            if (eq && (size_t)(eq - argv[i + 1]) < sizeof name) {
                memcpy(name, argv[i + 1], (size_t)(eq - argv[i + 1]));
                name[eq - argv[i + 1]] = '\0';
                if (ww_limits_set(&lim, name, eq + 1) != WW_OK)
                    _exit(8);
            }
        } else if (strcmp(argv[i], "--globals") == 0) {
            FILE *f = fopen(argv[i + 1], "rb");
            if (!f)
                _exit(8);
            static char text[1 << 20];
            size_t n = fread(text, 1, sizeof text, f);
            fclose(f);
            char err[256];
            if (ww_engine_load_globals(e, text, n, err, sizeof err) != WW_OK)
                _exit(8);
        }
    }
    ww_engine_set_limits(e, &lim);
    if (build_filter(&filter) != 0)
        filter.len = 0; /* every child then fails to confine itself: exit 5, an error */
    for (;;) {
        req q;
        int fds[2];
        if (recv_req(3, &q, fds) != 0)
            _exit(0); /* parent gone or protocol error: stop */
        pid_t pid = fork();
        if (pid == 0) {
            close(3);
            child_scan(e, &q, fds[0], fds[1]);
        }
        close(fds[0]);
        close(fds[1]);
        int32_t msg[2] = {(int32_t)pid, 0};
        if (send(3, msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg)
            _exit(0);
        int status = 0;
        if (pid > 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        msg[1] = status;
        if (send(3, msg, sizeof msg, MSG_NOSIGNAL) != (ssize_t)sizeof msg)
            _exit(0);
    }
}

/* ---- parent ---------------------------------------------------------------- */

void wwx_sandbox_args_init(wwx_sandbox_args *a, const ww_limits *l, ww_severity threshold,
                           const char *const *globals, size_t nglobals)
{
    int n = 0;
    a->argv[n++] = "--threshold";
    a->argv[n++] = ww_severity_name(threshold);
    const char *name, *doc;
    uint64_t val;
    for (size_t i = 0; i < 32 && ww_limits_describe(l, i, &name, &doc, &val); i++) {
        snprintf(a->text[i], sizeof a->text[i], "%s=%llu", name, (unsigned long long)val);
        a->argv[n++] = "--limit";
        a->argv[n++] = a->text[i];
    }
    for (size_t i = 0; i < nglobals && n < 125; i++) {
        a->argv[n++] = "--globals";
        a->argv[n++] = globals[i];
    }
    a->argv[n] = NULL;
}

struct wwx_sandbox {
    wwx_sandbox_opts o;
    char **args; /* copy of o.engine_args: the zygote starts later, on first use */
    int sock;
    pid_t zygote;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read exactly n bytes before the deadline; false on EOF, error or timeout. */
static bool read_deadline(int fd, void *buf, size_t n, uint64_t deadline_ms, bool *timed_out)
{
    size_t got = 0;
    while (got < n) {
        uint64_t now = now_ms();
        if (now >= deadline_ms) {
            *timed_out = true;
            return false;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(deadline_ms - now > 1000 ? 1000 : deadline_ms - now));
        if (pr <= 0)
            continue;
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static void stop_zygote(wwx_sandbox *z)
{
    if (z->sock >= 0)
        close(z->sock);
    z->sock = -1;
    if (z->zygote > 0) {
        int st;
        kill(z->zygote, SIGKILL);
        waitpid(z->zygote, &st, 0);
    }
    z->zygote = 0;
}

/* This program's path. /proc/self/exe survives the binary being replaced,
 * but under a wrapper such as valgrind it names the wrapper's tool, which
 * cannot be started on its own; the path it resolves to (valgrind reports the
 * client's) is used when it is still an executable file. */
static const char *self_exe(char *path, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return "/proc/self/exe";
    path[n] = '\0';
    if (access(path, X_OK) != 0)
        return "/proc/self/exe"; /* deleted or replaced: the kernel's link still works */
    return path;
}

static bool start_zygote(wwx_sandbox *z)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    const char *argv[128];
    int k = 0;
    argv[k++] = "weightwall";
    argv[k++] = "__sandbox-child";
    for (int i = 0; z->o.engine_args && z->o.engine_args[i] && k < 126; i++)
        argv[k++] = z->o.engine_args[i];
    argv[k] = NULL;
    char exe[4096];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3); /* dup2 clears close-on-exec */
    /* A fresh image with an empty environment: no inherited heap, locks or
     * secrets (HF_TOKEN) in the process that parses hostile bytes. */
    static char *const empty_env[] = {NULL};
    int rc = posix_spawn(&z->zygote, z->o.exe ? z->o.exe : self_exe(exe, sizeof exe), &fa, NULL,
                         (char *const *)argv, empty_env);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        z->zygote = 0;
        return false;
    }
    z->sock = sv[0];
    return true;
}

ww_status wwx_sandbox_open(const wwx_sandbox_opts *o, wwx_sandbox **out)
{
    wwx_sandbox *z = calloc(1, sizeof *z);
    if (!z)
        return WW_E_NOMEM;
    z->o = *o;
    z->sock = -1;
    size_t n = 0;
    while (o->engine_args && o->engine_args[n] && n < 124)
        n++;
    z->args = calloc(n + 1, sizeof *z->args);
    for (size_t i = 0; z->args && i < n; i++)
        if (!(z->args[i] = strdup(o->engine_args[i]))) {
            wwx_sandbox_close(z);
            return WW_E_NOMEM;
        }
    if (!z->args) {
        free(z);
        return WW_E_NOMEM;
    }
    z->o.engine_args = (const char *const *)z->args;
    *out = z;
    return WW_OK;
}

void wwx_sandbox_close(wwx_sandbox *z)
{
    if (!z)
        return;
    stop_zygote(z);
    for (size_t i = 0; z->args && z->args[i]; i++)
        free(z->args[i]);
    free(z->args);
    free(z);
}

static bool send_req(int sock, const req *q, int file_fd, int pipe_fd)
{
    struct iovec iov = {(void *)q, sizeof *q};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = {file_fd, pipe_fd};
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof *q;
}

static bool recv_msg(int sock, int32_t msg[2], uint64_t deadline)
{
    while (now_ms() < deadline) {
        struct pollfd p = {sock, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        return recv(sock, msg, 2 * sizeof(int32_t), 0) == (ssize_t)(2 * sizeof(int32_t));
    }
    return false;
}

/* Parent side of a brokered source: answer one read request of the child. */
#define BROKER_CHUNK (8u << 20)

static bool send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool serve_read(int bfd, ww_source *src, uint8_t *chunk, uint64_t deadline,
                       bool *timed_out)
{
    uint64_t rq[2];
    if (!read_deadline(bfd, rq, sizeof rq, deadline, timed_out))
        return false;
    /* The request comes from the confined child: clamp it to the source. */
    uint64_t off = rq[0], len = rq[1];
    if (off > src->size)
        off = src->size;
    if (len > src->size - off)
        len = src->size - off;
    uint64_t done = 0;
    while (done < len) {
        size_t want = len - done > BROKER_CHUNK ? BROKER_CHUNK : (size_t)(len - done);
        size_t got = 0;
        ww_status st = src->read_at(src->ctx, off + done, chunk, want, &got);
        if (got > want)
            st = WW_E_IO;
        int32_t hdr[2] = {(int32_t)st, (int32_t)(st == WW_OK ? got : 0)};
        if (!send_all(bfd, hdr, sizeof hdr))
            return false;
        if (st != WW_OK)
            return true; /* the child reports the failed read */
        if (got == 0)
            return true; /* that chunk of 0 bytes ended the read */
        if (!send_all(bfd, chunk, got))
            return false;
        done += got;
        if (got < want)
            break;
    }
    if (done < rq[1]) { /* short: tell the child the read ends here */
        int32_t hdr[2] = {WW_OK, 0};
        return send_all(bfd, hdr, sizeof hdr);
    }
    return true;
}

/* Wait until the child's result starts arriving (or it dies), answering its
 * read requests meanwhile. Time spent fetching for the child does not count
 * against its deadline, up to 10 minutes in all. */
static bool await_result(int pipe_fd, int bfd, ww_source *src, uint64_t *deadline,
                         bool *timed_out)
{
    uint8_t *chunk = NULL;
    uint64_t extended = 0;
    bool ok = true;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= *deadline) {
            *timed_out = true;
            ok = false;
            break;
        }
        struct pollfd p[2] = {{pipe_fd, POLLIN, 0}, {bfd, POLLIN, 0}};
        int pr = poll(p, bfd >= 0 ? 2 : 1, (int)(*deadline - now > 1000 ? 1000 : *deadline - now));
        if (pr <= 0)
            continue;
        if (p[0].revents)
            break; /* the result (or end of file): the reader takes over */
        if (p[1].revents & POLLIN) {
            if (!chunk && !(chunk = malloc(BROKER_CHUNK))) {
                ok = false;
                break;
            }
            uint64_t t0 = now_ms();
            if (!serve_read(bfd, src, chunk, *deadline, timed_out)) {
                ok = false;
                break;
            }
            uint64_t spent = now_ms() - t0;
            if (extended + spent <= 600000) {
                *deadline += spent;
                extended += spent;
            }
        } else if (p[1].revents) {
            bfd = -1; /* the child closed its end: only its result matters now */
        }
    }
    free(chunk);
    return ok;
}

/* Scan fd (a regular file) or, when src is set, a source the parent reads
 * for the child. */
static ww_status run_child(wwx_sandbox *z, const ww_engine *e, int fd, ww_source *src,
                           const char *display, ww_result **out)
{
    if (z->sock < 0 && !start_zygote(z))
        return fail(display, "sandbox: cannot start the scanning process", out);
    uint64_t max_ms = ww_engine_limits(e)->max_time_ms;
    req q;
    memset(&q, 0, sizeof q);
    q.cpu = z->o.cpu_seconds ? z->o.cpu_seconds
                             : (unsigned)(max_ms ? (max_ms * 2 + 999) / 1000 : 3600);
    if (q.cpu < 10 && !z->o.cpu_seconds)
        q.cpu = 10;
    q.mem = z->o.mem_bytes ? z->o.mem_bytes : (4ull << 30);
    snprintf(q.selftest, sizeof q.selftest, "%s", z->o.selftest ? z->o.selftest : "");
    snprintf(q.display, sizeof q.display, "%s", display);
    int bsv[2] = {-1, -1};
    if (src) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, bsv) != 0)
            return fail(display, "sandbox: cannot create a socket", out);
        q.brokered = 1;
        q.src_size = src->size;
        fd = bsv[1];
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        if (src) {
            close(bsv[0]);
            close(bsv[1]);
        }
        return fail(display, "sandbox: cannot create a pipe", out);
    }
    bool sent = send_req(z->sock, &q, fd, pfd[1]);
    if (src)
        close(bsv[1]);
    close(pfd[1]);
    /* Wall-clock deadline for children that block instead of spinning; generous
     * so a CPU-bound child on a busy machine meets its CPU limit first. */
    uint64_t deadline = now_ms() + (uint64_t)q.cpu * 3000 + 5000;
    int32_t msg[2];
    if (!sent || !recv_msg(z->sock, msg, deadline) || msg[0] <= 0) {
        close(pfd[0]);
        if (src)
            close(bsv[0]);
        stop_zygote(z); /* restarted on the next file */
        return fail(display, "sandbox: the scanning process could not be started", out);
    }
    pid_t pid = msg[0];
    uint64_t want = 0;
    char *buf = NULL;
    bool timed_out = false;
    bool ok = !src || await_result(pfd[0], bsv[0], src, &deadline, &timed_out);
    if (src)
        close(bsv[0]);
    if (ok)
        ok = read_deadline(pfd[0], &want, sizeof want, deadline, &timed_out);
    if (ok && (want == 0 || want > (512u << 20)))
        ok = false;
    if (ok && !(buf = malloc((size_t)want)))
        ok = false;
    if (ok)
        ok = read_deadline(pfd[0], buf, (size_t)want, deadline, &timed_out);
    close(pfd[0]);
    if (timed_out || !ok)
        kill(pid, SIGKILL); /* the zygote reaps it and reports the status */
    int status = 0;
    if (!recv_msg(z->sock, msg, now_ms() + 10000)) {
        stop_zygote(z);
        status = ok ? 0 : (int)SIGKILL;
    } else {
        status = msg[1];
    }
    ww_status rc;
    char text[300];
    if (timed_out) {
        snprintf(text, sizeof text,
                 "sandbox: the scanning process ran out of time (%u s) and was killed", q.cpu);
        rc = fail(display, text, out);
    } else if (WIFSIGNALED(status) && !ok) {
        int sig = WTERMSIG(status);
        snprintf(text, sizeof text, "sandbox: the scanning process was killed by %s (%s)",
                 sig == SIGSYS ? "the seccomp filter" : sig == SIGXCPU ? "the CPU limit"
                                                                         : "a signal",
                 strsignal(sig));
        rc = fail(display, text, out);
    } else if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(text, sizeof text, "sandbox: the scanning process failed (exit %d)%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFEXITED(status) && WEXITSTATUS(status) == 4 ? ": memory limit" : "");
        rc = fail(display, text, out);
    } else if ((rc = ww_result_deserialize(buf, (size_t)want, out)) != WW_OK) {
        rc = fail(display, "sandbox: malformed result from the scanning process", out);
    }
    free(buf);
    return rc;
}

ww_status wwx_sandbox_scan_fd(wwx_sandbox *z, const ww_engine *e, int fd, const char *display,
                              ww_result **out)
{
    return run_child(z, e, fd, NULL, display, out);
}

ww_status wwx_sandbox_scan_source(wwx_sandbox *z, const ww_engine *e, ww_source *src,
                                  const char *display, ww_result **out)
{
    return run_child(z, e, -1, src, display, out);
}

ww_status wwx_sandbox_scan(wwx_sandbox *z, const ww_engine *e, const char *path,
                           const char *display, ww_result **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ww_scan_file(e, path, display, out); /* same "cannot open" result */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ww_scan_file(e, path, display, out);
    }
    ww_status rc = run_child(z, e, fd, NULL, display, out);
    close(fd);
    return rc;
}
