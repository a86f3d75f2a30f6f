/*
 * probe.c: tries each system call that seccomp/runner.json denies, and one it allows, and prints one
 * line per call: "<name> denied errno=<n>" or "<name> allowed". The integration tests compile it in
 * the c image (gcc -O2 -o probe probe.c), run it under the profile with runc and with runsc, and
 * check every line. Calls go through syscall(2) so libc wrappers cannot mask or emulate them.
 *
 * "allowed" means the kernel (or gVisor) accepted the call. Every probe is chosen to be harmless
 * even when it is accepted: calls that would change this process run in a forked child, descriptors
 * are closed, and mount targets a path that does not exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>

/* Numbers from the x86_64 table, for headers that predate the calls. */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef AF_PACKET
#define AF_PACKET 17
#endif

static void report(const char *name, long rc, int err)
{
    if (rc == -1)
        printf("%s denied errno=%d\n", name, err);
    else
        printf("%s allowed\n", name);
    fflush(stdout);
}

/* Runs one call, closes what it returned (descriptors only) and reports it. */
#define PROBE_FD(name, call)                                                                       \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long rc_ = (call);                                                                         \
        int err_ = errno;                                                                          \
        if (rc_ >= 0)                                                                              \
            close((int)rc_);                                                                       \
        report(name, rc_, err_);                                                                   \
    } while (0)

#define PROBE(name, call)                                                                          \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long rc_ = (call);                                                                         \
        report(name, rc_, errno);                                                                  \
    } while (0)

/*
 * Runs a probe in a child process and returns its result as the child's exit status (0: accepted,
 * otherwise the errno), so a call that succeeds cannot change this process: a PTRACE_TRACEME would
 * stop it on the next signal, an unshare would move it into another namespace.
 */
static long in_child(long (*probe)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        errno = 0;
        long rc = probe();
        _exit(rc == -1 ? (errno > 0 && errno < 255 ? errno : 255) : 0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1; /* errno is fork's or waitpid's; a crash reads as denied with errno 0 */
    errno = WEXITSTATUS(status);
    return errno == 0 ? 0 : -1;
}

static long probe_ptrace(void) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0L, 0L, 0L); }
static long probe_unshare(void) { return syscall(SYS_unshare, (long)CLONE_NEWUSER); }

/* clone(CLONE_NEWNS) through the raw call: the child, if one is ever made, exits at once. */
static long probe_clone_newns(void)
{
    long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), 0UL, 0UL, 0UL, 0UL);
    if (rc == 0)
        _exit(0);
    if (rc > 0)
        waitpid((pid_t)rc, NULL, 0);
    return rc > 0 ? 0 : rc;
}

int main(void)
{
    char buf[16] = "probe";
    char dst[16];
    struct iovec local = { dst, sizeof dst };
    struct iovec remote = { buf, sizeof buf };
    unsigned char io_uring_params[120];
    union { char bytes[128]; unsigned int cmd; } bpf_attr;
    struct perf_event_attr pe;

    memset(io_uring_params, 0, sizeof io_uring_params);
    memset(&bpf_attr, 0, sizeof bpf_attr);
    memset(&pe, 0, sizeof pe);
    pe.type = PERF_TYPE_SOFTWARE;
    pe.size = sizeof pe;
    pe.config = PERF_COUNT_SW_CPU_CLOCK;
    pe.disabled = 1;
    pe.exclude_kernel = 1;
    pe.exclude_hv = 1;

    PROBE("ptrace", in_child(probe_ptrace));
    PROBE("process_vm_readv", syscall(SYS_process_vm_readv, (long)getpid(), &local, 1L, &remote, 1L, 0L));
    PROBE_FD("io_uring_setup", syscall(SYS_io_uring_setup, 1L, io_uring_params));
    /* BPF_PROG_LOAD (5) with an empty attribute block: refused before any program is loaded. */
    PROBE_FD("bpf", syscall(SYS_bpf, 5L, &bpf_attr, (long)sizeof bpf_attr));
    PROBE_FD("userfaultfd", syscall(SYS_userfaultfd, (long)O_CLOEXEC));
    /* KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), not creating it (0). */
    PROBE("keyctl", syscall(SYS_keyctl, 0L, -3L, 0L));
    PROBE_FD("perf_event_open", syscall(SYS_perf_event_open, &pe, 0L, -1L, -1L, 0L));
    PROBE("unshare", in_child(probe_unshare));
    /* setns on our own user namespace: denied by seccomp, or EINVAL/EPERM from the kernel if reached. */
    {
        int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
        PROBE("setns", syscall(SYS_setns, (long)ns, 0L));
        if (ns >= 0)
            close(ns);
    }
    PROBE("clone", probe_clone_newns());
    /* The target does not exist: seccomp answers EPERM before the kernel looks; a kernel that is
     * reached answers ENOENT, so even an unconfined root run of this probe mounts nothing. */
    PROBE("mount", syscall(SYS_mount, "none", "/nonexistent/sandbox-probe", "tmpfs", 0L, NULL));
    PROBE_FD("socket_inet", syscall(SYS_socket, (long)AF_INET, (long)SOCK_STREAM, 0L));
    PROBE_FD("socket_inet6", syscall(SYS_socket, (long)AF_INET6, (long)SOCK_STREAM, 0L));
    PROBE_FD("socket_netlink", syscall(SYS_socket, (long)AF_NETLINK, (long)SOCK_RAW, 0L));
    PROBE_FD("socket_packet", syscall(SYS_socket, (long)AF_PACKET, (long)SOCK_RAW, 0L));
    PROBE_FD("socket_unix", syscall(SYS_socket, (long)AF_UNIX, (long)SOCK_STREAM, 0L));
    /* Device nodes: the folder does not exist, so a kernel (or gVisor) that is reached answers ENOENT
     * and creates nothing; only seccomp answers EPERM. mknod is x86_64 only; aarch64 has mknodat alone. */
#ifdef SYS_mknod
    PROBE("mknod_blk", syscall(SYS_mknod, "/nonexistent/sandbox-probe", (long)(S_IFBLK | 0600), (long)makedev(8, 0)));
#else
    PROBE("mknod_blk", syscall(SYS_mknodat, (long)AT_FDCWD, "/nonexistent/sandbox-probe", (long)(S_IFBLK | 0600), (long)makedev(8, 0)));
#endif
    PROBE("mknodat_chr", syscall(SYS_mknodat, (long)AT_FDCWD, "/nonexistent/sandbox-probe", (long)(S_IFCHR | 0600), (long)makedev(1, 1)));
    /* An anonymous file that could be written and executed: /tmp's noexec would not apply to it. */
    PROBE_FD("memfd_create", syscall(SYS_memfd_create, "sandbox-probe", 0L));
    /* No descriptor (-1): a kernel that is reached answers EBADF and runs nothing. */
    PROBE("execveat", syscall(SYS_execveat, -1L, "", NULL, NULL, (long)AT_EMPTY_PATH));
    /* A FIFO stays allowed (shells and build tools make them); made in /tmp and removed at once. */
    {
        char fifo[64];
        snprintf(fifo, sizeof fifo, "/tmp/sandbox-probe-fifo-%ld", (long)getpid());
        PROBE("mknodat_fifo", syscall(SYS_mknodat, (long)AT_FDCWD, fifo, (long)(S_IFIFO | 0600), 0L));
        unlink(fifo);
    }
    return 0;
}
