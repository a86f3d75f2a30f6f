// Attack: mount a filesystem to reach host files. Denied by seccomp and by the missing CAP_SYS_ADMIN.
// @expect ok
// @stdout BLOCKED
#include <stdio.h>
#include <sys/mount.h>
int main(void) {
    puts(mount("none", "/tmp", "tmpfs", 0, "") == -1 ? "BLOCKED" : "MOUNTED");
    return 0;
}
