// Attack: /tmp is noexec, so write an executable into an anonymous memfd instead and exec it from there,
// by descriptor (execveat) and through /proc/self/fd. Seccomp refuses memfd_create (and execveat).
// @expect ok
// @stdout BLOCKED
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    int fd = (int)syscall(SYS_memfd_create, "payload", 0L);
    if (fd < 0) { puts("BLOCKED"); return 0; }
    // Any ELF will do; a real attack would write one it brought along. The image's own echo is at hand.
    int in = open("/bin/echo", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while (in >= 0 && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(fd, buf, (size_t)n) != n) { puts("BLOCKED"); return 0; }
    }
    char *argv[] = { "echo", "EXECUTED", NULL };
    char *envp[] = { NULL };
    fflush(stdout);
    syscall(SYS_execveat, (long)fd, "", argv, envp, (long)AT_EMPTY_PATH);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    execve(path, argv, envp);
    puts("BLOCKED");
    return 0;
}
