// Exit paths and stdio: echoes stdin upper-cased, writes to stderr, and leaves through exit() from
// a nested call with the code given as argv[1] (default 42), after flushing buffered stdout.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

static void leave(int code) {
  printf("leaving with %d\n", code);
  exit(code);
}

int main(int argc, char **argv) {
  int c;
  size_t n = 0;
  while ((c = getchar()) != EOF) { putchar(toupper(c)); n++; }
  printf("read %zu bytes\n", n);
  fprintf(stderr, "a line on stderr\n");
  leave(argc > 1 ? atoi(argv[1]) : 42);
  return 0;
}
