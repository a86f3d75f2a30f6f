// Attack: ptrace, to inspect or hijack another process. Denied by seccomp.
// @expect ok
// @stdout BLOCKED
#include <stdio.h>
#include <sys/ptrace.h>
int main(void) {
    puts(ptrace(PTRACE_TRACEME, 0, 0, 0) == -1 ? "BLOCKED" : "TRACED");
    return 0;
}
