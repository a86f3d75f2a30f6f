// Floating-point matrix multiply: `matmul N` multiplies two generated N x N double matrices (the
// benchmark kernel: f64 loads, multiplies and adds in a triple loop) and prints a checksum of the product.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64;
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = calloc((size_t)n * n, sizeof(double));
  if (!a || !b || !c) return 2;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 8.0 - 1.0;
      b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 4.0 - 1.5;
    }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < n; k++) {
      double aik = a[i * n + k];
      for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  double sum = 0, weighted = 0;
  for (int i = 0; i < n * n; i++) { sum += c[i]; weighted += c[i] * (double)(i % 7 + 1); }
  printf("n=%d sum=%.6f weighted=%.6f\n", n, sum, weighted);
  free(a); free(b); free(c);
  return 0;
}
