// Exercises the parts of wasi-libc a guest leans on: printf formatting (integers, floats, padding),
// strtod/strtol, libm, qsort/bsearch, string functions, realloc growth, 64-bit arithmetic. Every
// line is deterministic, so any difference from Node is an engine bug.
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  printf("[%5d|%-5d|%05d|%x|%X|%o|%c|%s|%%]\n", 42, 42, 42, 0xbeef, 0xbeef, 8, 'z', "str");
  printf("%.3f %e %g %g %a\n", 3.14159265358979, 12345.6789, 0.0001, 1e20, 1.0);
  printf("%" PRId64 " %" PRIu64 " %" PRIx64 "\n", INT64_MIN, UINT64_MAX, (uint64_t)0x0123456789abcdefULL);
  printf("strtod=%.17g strtol=%ld\n", strtod("2.718281828459045e-3", NULL), strtol("-0x7fff", NULL, 16));
  printf("sin=%.15f exp=%.15f log=%.15f pow=%.15f sqrt=%.15f\n", sin(1.0), exp(2.5), log(10.0), pow(2.0, 0.5), sqrt(3.0));
  printf("floor=%g ceil=%g trunc=%g round=%g fmod=%g\n", floor(-2.5), ceil(-2.5), trunc(-2.5), round(-2.5), fmod(7.5, 2.0));
  printf("inf=%f -inf=%f isnan=%d\n", INFINITY, -INFINITY, isnan(NAN));

  double v[1000];
  uint32_t s = 12345;
  for (int i = 0; i < 1000; i++) { s = s * 1103515245u + 12345u; v[i] = (double)(s >> 8) / (1 << 24) - 0.5; }
  qsort(v, 1000, sizeof v[0], cmp_double);
  double key = v[500];
  double *found = bsearch(&key, v, 1000, sizeof v[0], cmp_double);
  printf("min=%.9f max=%.9f found=%d\n", v[0], v[999], found ? (int)(found - v) : -1);

  char *text = NULL;
  size_t len = 0;
  for (int i = 0; i < 5000; i++) {
    char piece[32];
    int n = snprintf(piece, sizeof piece, "%d,", i * i);
    text = realloc(text, len + (size_t)n + 1);
    memcpy(text + len, piece, (size_t)n + 1);
    len += (size_t)n;
  }
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) { h ^= (unsigned char)text[i]; h *= 1099511628211ULL; }
  printf("len=%zu fnv=%016" PRIx64 " strstr=%td\n", len, h, strstr(text, ",24980004,") - text);
  free(text);

  int64_t a = 0x7fffffffffffLL;
  printf("mul=%" PRId64 " div=%" PRId64 " rem=%" PRId64 " shr=%" PRId64 "\n", a * 3, -a / 7, -a % 7, -a >> 3);
  printf("f32=%.9g i2f=%.9g\n", (double)(1.0f / 3.0f), (double)(float)16777217);
  return 0;
}
