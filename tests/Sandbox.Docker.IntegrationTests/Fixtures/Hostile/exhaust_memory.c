// Attack: malloc and touch memory without end. The cgroup OOM-kills the program.
// @expect memory_limit
#include <stdlib.h>
#include <string.h>
int main(void) {
    for (;;) {
        char *p = malloc(8 << 20);
        if (p) memset(p, 1, 8 << 20);
    }
}
