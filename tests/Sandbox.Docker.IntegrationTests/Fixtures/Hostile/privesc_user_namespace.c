// Attack: a new user namespace to gain root inside it, the usual first step of kernel exploits. Denied by seccomp.
// @expect ok
// @stdout BLOCKED
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
int main(void) {
    puts(unshare(CLONE_NEWUSER) == 0 || unshare(CLONE_NEWNS) == 0 ? "ESCAPED" : "BLOCKED");
    return 0;
}
