// Prime counting two ways: trial division (branchy integer code, the benchmark kernel) and a
// sieve (memory traffic). `primes N` prints both counts below N; they must agree.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int trial(int n) {
  int count = 0;
  for (int i = 2; i < n; i++) {
    int prime = 1;
    for (int j = 2; j * j <= i; j++) if (i % j == 0) { prime = 0; break; }
    count += prime;
  }
  return count;
}

static int sieve(int n) {
  if (n < 3) return 0;
  unsigned char *composite = calloc((size_t)n, 1);
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (long long j = (long long)i * i; j < n; j += i) composite[j] = 1;
  }
  free(composite);
  return count;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  int a = trial(n), b = sieve(n);
  printf("primes below %d: %d (sieve %d)\n", n, a, b);
  return a == b ? 0 : 1;
}
