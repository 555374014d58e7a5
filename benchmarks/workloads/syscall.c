// syscall: N getppid() system calls, made through libc (musl's getppid is
// `mov $110, %eax; syscall`, a site the kvm platform patches), between two
// CLOCK_MONOTONIC readings;
// prints the cost of one in ns, as a number only.
// Usage: syscall [N]   (N defaults to 20000)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  if (n <= 0) {
    fprintf(stderr, "usage: syscall [N]\n");
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) getppid();
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("%.1f\n", ns / (double)n);
  return 0;
}
