// Compute kernels for differential checks against Node 20 (results pinned in Execution/KernelTests.cs)
// and for the speed comparison. Built with:
//   clang-14 --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--export-all -O2 kernels.c -o kernels.wasm
int count_primes(int n) {
  int count = 0;
  for (int i = 2; i < n; i++) {
    int prime = 1;
    for (int j = 2; j * j <= i; j++) if (i % j == 0) { prime = 0; break; }
    count += prime;
  }
  return count;
}
unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static unsigned char buf[1 << 16];
unsigned mix(int rounds) {
  for (int i = 0; i < (1 << 16); i++) buf[i] = (unsigned char)(i * 31);
  unsigned h = 2166136261u;
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < (1 << 16); i++) { h ^= buf[i] + r; h *= 16777619u; h = (h << 13) | (h >> 19); buf[i] = (unsigned char)h; }
  return h;
}
static double a[128 * 128], b[128 * 128], c[128 * 128];
int matmul(int n) {
  if (n > 128) n = 128;
  for (int i = 0; i < n * n; i++) { a[i] = i % 7 * 0.5; b[i] = i % 5 * 0.25; c[i] = 0; }
  for (int i = 0; i < n; i++) for (int k = 0; k < n; k++) { double x = a[i * n + k]; for (int j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j]; }
  double s = 0; for (int i = 0; i < n * n; i++) s += c[i];
  return (int)s;
}
void *memset(void *d, int v, unsigned long n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)v; return d; }
