// memcpy-heavy code: `memcpy N` shuffles blocks of varied sizes (8 bytes to 4 KiB) between two 1 MiB
// buffers N times, through libc memcpy/memmove (bulk memory in the engine) and a byte loop, and prints a
// checksum so nothing is optimised away.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE (1 << 20)

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
  unsigned char *a = malloc(SIZE), *b = malloc(SIZE);
  if (!a || !b) return 2;
  for (int i = 0; i < SIZE; i++) a[i] = (unsigned char)(i * 7 + 3);
  memset(b, 0, SIZE);
  uint32_t x = 12345, sum = 0;
  for (long r = 0; r < rounds; r++) {
    for (int k = 0; k < 4096; k++) {
      x = x * 1103515245u + 12345u;
      size_t len = 8u << ((x >> 16) % 10);
      size_t from = (x >> 4) % (SIZE - len), to = (x * 31u >> 3) % (SIZE - len);
      if (k & 1) memmove(a + to, a + from, len); else memcpy(b + to, a + from, len);
      sum += b[to] + a[to + len - 1];
    }
  }
  for (int i = 0; i < SIZE; i += 64) sum = sum * 31 + a[i] + b[i];
  printf("memcpy %u\n", sum);
  free(a); free(b);
  return 0;
}
