// Built with: clang-14 --target=wasm32-wasi --sysroot=<wasi-libc sysroot> -O2 -Wl,--strip-all selftest.c -o selftest.wasm
// Expected (same as Node 20 node:wasi with args [selftest, arg1], GREETING=hi, stdin "line from stdin\n"):
// stdout as asserted in WasiHostTests, "to stderr" on stderr, exit code 7.
// WASI self-test: argv, environment, stdin, malloc, qsort, printf of floats, a SHA-256-like mix.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static uint32_t mix(const unsigned char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (int round = 0; round < 2000; round++)
    for (size_t i = 0; i < n; i++) { h ^= p[i] + round; h *= 16777619u; h = (h << 13) | (h >> 19); }
  return h;
}

int main(int argc, char **argv) {
  printf("argc=%d argv1=%s\n", argc, argc > 1 ? argv[1] : "-");
  const char *greeting = getenv("GREETING");
  printf("env=%s\n", greeting ? greeting : "(unset)");
  char line[128] = {0};
  if (fgets(line, sizeof line, stdin)) { line[strcspn(line, "\n")] = 0; printf("stdin=%s\n", line); }
  int n = 10000; int *v = malloc(n * sizeof *v);
  for (int i = 0; i < n; i++) v[i] = (i * 7919) % n;
  qsort(v, n, sizeof *v, cmp);
  int sorted = 1; for (int i = 1; i < n; i++) sorted &= v[i - 1] <= v[i];
  printf("sorted=%d first=%d last=%d\n", sorted, v[0], v[n - 1]);
  free(v);
  printf("float=%.6f sqrt2=%.10f\n", 3.14159265 * 2.5, 1.4142135623730951);
  char *big = malloc(1 << 20); memset(big, 'x', 1 << 20);
  printf("mix=%08x\n", mix((unsigned char *)big, 4096));
  struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
  fprintf(stderr, "to stderr\n");
  return 7;
}
