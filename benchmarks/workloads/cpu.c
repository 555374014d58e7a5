// cpu: integer hashing with no system calls in the loop (~300 ms natively
// here); prints the loop's elapsed ms on stdout and a checksum on stderr, so
// the optimizer cannot drop the work and a wrong result shows.
// Usage: cpu [ROUNDS]   (ROUNDS defaults to 200000000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 200000000L;
  if (rounds <= 0) {
    fprintf(stderr, "usage: cpu [ROUNDS]\n");
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the loop counter
  for (long i = 0; i < rounds; i++) {
    h ^= (uint64_t)i & 0xff;
    h *= 0x100000001b3ull;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  printf("%.1f\n", ms);
  fprintf(stderr, "checksum %016llx\n", (unsigned long long)h);
  return 0;
}
