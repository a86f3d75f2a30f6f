// Built with: clang-14 --target=wasm32-wasi --sysroot=<wasi-libc sysroot> -O2 -Wl,--strip-all env-args.c -o env-args.wasm
// Hostile: prints every argument and environment variable it can see and tries to read the host's files.
// Expected: ok; stdout lists exactly the profile's arguments and environment, and "no /etc\n".
#include <stdio.h>
#include <fcntl.h>
extern char **environ;
int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("arg %s\n", argv[i]);
  for (char **e = environ; *e; e++) printf("env %s\n", *e);
  puts(open("/etc/passwd", O_RDONLY) < 0 && open("/proc/self/environ", O_RDONLY) < 0 ? "no /etc" : "ESCAPED");
  FILE *f = fopen("/tmp/input.txt", "r");
  char line[64] = {0};
  if (f && fgets(line, sizeof line, f)) printf("input %s", line);
  return 0;
}
