// clock: N clock_gettime(CLOCK_MONOTONIC) calls between two readings;
// prints the cost of one in ns, as a number only, and a checksum of the
// readings on stderr. Natively the call is served by the vDSO with no
// system call; a sandbox may serve it either way.
// Usage: clock [N]   (N defaults to 20000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  if (n <= 0) {
    fprintf(stderr, "usage: clock [N]\n");
    return 2;
  }
  struct timespec a, b, t;
  uint64_t sum = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    sum += (uint64_t)t.tv_nsec;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("%.1f\n", ns / (double)n);
  fprintf(stderr, "checksum %llu\n", (unsigned long long)sum);
  return 0;
}
