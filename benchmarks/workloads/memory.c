// memory: maps MIB MiB of anonymous memory, writes one byte in every page,
// reads them back and unmaps it; prints the elapsed ms of all that on
// stdout and a checksum on stderr, so every page is really touched.
// Usage: memory [MIB]   (MIB defaults to 512)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 512;
  if (mib <= 0) {
    fprintf(stderr, "usage: memory [MIB]\n");
    return 2;
  }
  size_t size = (size_t)mib << 20;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("memory: mmap");
    return 1;
  }
  for (size_t off = 0; off < size; off += page) p[off] = (uint8_t)(off / page);
  uint64_t sum = 0;
  for (size_t off = 0; off < size; off += page) sum += p[off];
  if (munmap((void *)p, size) < 0) {
    perror("memory: munmap");
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  printf("%.1f\n", ms);
  fprintf(stderr, "checksum %llu\n", (unsigned long long)sum);
  return 0;
}
